/*
 * `tarn sql`: the SQL engine behind a command line, a script runner and an interactive shell.
 *
 * All three feed text into one pending buffer and cut complete statements out of it with the
 * lexer of src/sql/split.h, so a statement behaves the same whether it came from -c, a file or
 * the keyboard. Each statement goes to the engine on its own, which gives every statement its
 * own timing and error line (named by script line or statement number) and lets a script stop
 * at the first failure like `psql -v ON_ERROR_STOP=1`. Scripts and the shell also understand a
 * few backslash commands (\q, \timing, \d, \format, \r, \?) on lines of their own.
 *
 * Results are printed with the columnar layer's col_printer, so `tarn sql` and `tarn cat` show a
 * value the same way. Status lines of statements without rows go to stdout in the table format
 * and to stderr in CSV and JSON lines, keeping stdout a clean stream of rows for other programs.
 */
#include "cli/sql_shell.h"

#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include <editline/readline.h>

#include "columnar/arrow.h"
#include "columnar/format.h"
#include "common/error.h"
#include "sql/engine.h"
#include "sql/split.h"

#define PROMPT "tarn> "
#define PROMPT_MORE "   -> "
#define HISTORY_LINES 1000


static void print_usage(FILE *out) {
  fputs("usage: tarn sql [-w WAREHOUSE] [-c SQL]... [--format table|csv|jsonl] [--threads N]\n"
        "                [--memory-limit SIZE] [FILE.sql]\n"
        "\n"
        "Runs the statements of each -c (several may be separated by ';'), of FILE.sql or of\n"
        "piped standard input, stopping at the first error; with none of them and a terminal\n"
        "on standard input, starts an interactive shell (\\? there lists its commands).\n"
        "\n"
        "  -w, --warehouse DIR   directory of tables (each table a sub-directory)\n"
        "  -c, --command SQL     statements to run (repeatable; run in order)\n"
        "  --format F            table (aligned, default), csv or jsonl (canonical rows)\n"
        "  --threads N           worker threads (default: the number of cores)\n"
        "  --memory-limit SIZE   e.g. 512MB, 2GB (binary units; default: 80% of memory)\n"
        "\n"
        "The history of the shell is kept in ~/.tarn_history ($TARN_HISTORY overrides).\n",
        out);
}

static int usage_error(const char *fmt, const char *arg) {
  fprintf(stderr, "tarn: error: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, " (see 'tarn sql --help')\n");
  return 2;
}

/* ---- the session ---- */

typedef struct shell {
  sql_engine *engine;
  col_text_format format;
  bool timing;
  bool interactive;    /* errors do not stop the session */
  const char *source;  /* script name that prefixes errors ("<stdin>", a path), or NULL */
  bool number_errors;  /* -c with several statements: errors name the statement's number */
  long statements;     /* statements sent to the engine so far */
  bool quit;           /* \q */
  int outputs;         /* result sets and status lines printed since the last prompt */
  bool last_was_table; /* the last output was a result set printed as a table */
  char *buf;           /* pending text: an unfinished statement (NUL-terminated) */
  size_t len, cap;
  size_t scanned;            /* buf[0..scanned) has no end of statement and ends outside quotes */
  long line;                 /* source line of buf[0], from 1 */
  struct ArrowSchema schema; /* the result set being printed (a copy: the engine's is borrowed) */
  col_printer *printer;
} shell;

/* Where status lines, timings and shell messages go: with the rows in a table, apart from them
 * (stderr) when stdout is meant for another program. */
static FILE *info_stream(const shell *sh) {
  return sh->format == COL_FORMAT_TABLE ? stdout : stderr;
}

/* In the table format a blank line separates a table from the output before it, so consecutive
 * result sets read apart while a run of status lines stays compact. */
static void separate(shell *sh, bool table) {
  if (sh->format != COL_FORMAT_TABLE) return;
  if (sh->outputs > 0 && (table || sh->last_was_table)) fputc('\n', stdout);
  sh->outputs++;
  sh->last_was_table = table;
}

static void release_result(shell *sh) {
  col_printer_free(sh->printer);
  sh->printer = NULL;
  if (sh->schema.release) sh->schema.release(&sh->schema);
  memset(&sh->schema, 0, sizeof sh->schema);
}

static int sink_begin(void *arg, const struct ArrowSchema *schema, tarn_error *err) {
  shell *sh = arg;
  release_result(sh);
  /* The engine lends the schema for this call only, and the printer keeps a pointer to it. */
  int rc = col_schema_copy(schema, &sh->schema, err);
  if (rc) return rc;
  separate(sh, true);
  return col_printer_create(sh->format, stdout, &sh->schema, &sh->printer, err);
}

static int sink_batch(void *arg, const struct ArrowArray *batch, tarn_error *err) {
  shell *sh = arg;
  if (sh->printer == NULL) return tarn_err(err, TARN_EINVAL, "engine sent rows before a schema");
  return col_printer_write(sh->printer, batch, err);
}

static int sink_end(void *arg, tarn_error *err) {
  shell *sh = arg;
  int rc = sh->printer ? col_printer_finish(sh->printer, err) : 0;
  release_result(sh);
  return rc;
}

static int sink_status(void *arg, const char *line, tarn_error *err) {
  shell *sh = arg;
  (void)err;
  separate(sh, false);
  fprintf(info_stream(sh), "%s\n", line);
  return 0;
}

static void print_error(const shell *sh, const tarn_error *err, long line) {
  const char *msg = err->message[0] ? err->message : tarn_strerror(err->code);
  fflush(stdout); /* the error line follows the output that came before it */
  if (sh->source)
    fprintf(stderr, "tarn: error: %s:%ld: %s\n", sh->source, line, msg);
  else if (sh->number_errors)
    fprintf(stderr, "tarn: error: statement %ld: %s\n", sh->statements, msg);
  else
    fprintf(stderr, "tarn: error: %s\n", msg);
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Runs one statement (NUL-terminated, without its ';') that starts on source line `line`.
 * Prints its output, or its error; returns 0 or the error's code. */
static int run_statement(shell *sh, const char *sql, long line) {
  tarn_error err = {0};
  sql_result_sink sink = {sink_begin, sink_batch, sink_end, sink_status, sh};
  sh->statements++;
  double start = now_ms();
  int rc = sql_engine_exec(sh->engine, sql, &sink, &err);
  release_result(sh); /* a statement that failed half-way leaves its printer behind */
  if (rc == 0 && fflush(stdout) != 0)
    rc = tarn_err(&err, TARN_EIO, "writing output: %s", strerror(errno));
  double ms = now_ms() - start;
  if (rc) {
    if (err.code == 0) err.code = rc;
    print_error(sh, &err, line);
  }
  if (sh->timing) fprintf(info_stream(sh), "Time: %.3f ms\n", ms);
  return rc ? err.code : 0;
}

/* Appends text[0..n) to the pending buffer, keeping it NUL-terminated with room for one more
 * byte (drain appends a ';' to probe). */
static int append(shell *sh, const char *text, size_t n, tarn_error *err) {
  if (sh->len + n + 2 > sh->cap) {
    size_t cap = sh->cap ? sh->cap : 256;
    while (cap < sh->len + n + 2)
      cap *= 2;
    char *b = realloc(sh->buf, cap);
    if (b == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory reading statements");
    sh->buf = b;
    sh->cap = cap;
  }
  memcpy(sh->buf + sh->len, text, n);
  sh->len += n;
  sh->buf[sh->len] = '\0';
  return 0;
}

static long count_lines(const char *text, size_t n) {
  long lines = 0;
  for (const char *p = text; (p = memchr(p, '\n', n - (size_t)(p - text))) != NULL; p++)
    lines++;
  return lines;
}

/* Drops the pending text (after running it, or to discard it). */
static void discard_pending(shell *sh) {
  sh->line += count_lines(sh->buf, sh->len);
  sh->len = sh->scanned = 0;
  sh->buf[0] = '\0';
}

static bool pending_blank(const shell *sh) {
  return tarn_sql_skip_blank(sh->buf, sh->len) == sh->len;
}

/* Runs every complete statement of the pending text, and at the end of the input also the last
 * one, which needs no ';'. Outside the interactive shell the first error stops everything and
 * its code is returned.
 *
 * A statement typed over many lines would be scanned again from its start on every line (a
 * multi-line INSERT of a dump makes that quadratic), so sh->scanned remembers how far the
 * pending text is known to hold no ';' and to end outside any quote or comment: the lexer can
 * resume there, as a line break outside quotes leaves it in its initial state. */
static int drain(shell *sh, bool at_end) {
  size_t pos = 0, from = sh->scanned;
  int rc = 0;
  while (!sh->quit && pos < sh->len) {
    char *text = sh->buf + pos;
    size_t left = sh->len - pos;
    size_t n = tarn_sql_split(text + from, left - from), body;
    if (n > 0) {
      n += from;
      body = n - 1; /* without the ';' */
    } else if (at_end) {
      n = body = left;
    } else {
      break;
    }
    from = 0;
    size_t skip = tarn_sql_skip_blank(text, body);
    /* trailing blanks (the newline every line gets) are of no use to the engine */
    while (body > skip && memchr(" \t\r\n\f\v", text[body - 1], 6))
      body--;
    if (skip < body) {
      /* The engine sees the statement from its first token, so its "line 1" is the line an
       * error message names. */
      char saved = text[body];
      text[body] = '\0';
      rc = run_statement(sh, text + skip, sh->line + count_lines(text, skip));
      text[body] = saved;
    }
    sh->line += count_lines(text, n);
    pos += n;
    if (rc && !sh->interactive) break;
  }
  if (pos > 0) {
    memmove(sh->buf, sh->buf + pos, sh->len - pos + 1);
    sh->len -= pos;
  }
  /* Whether the rest ends outside quotes: would a ';' appended to it end the statement? */
  sh->buf[sh->len] = ';';
  if (tarn_sql_split(sh->buf + from, sh->len + 1 - from) == sh->len + 1 - from) from = sh->len;
  sh->buf[sh->len] = '\0';
  sh->scanned = from;
  return sh->interactive ? 0 : rc;
}

/* ---- backslash commands ---- */

static void print_shell_help(void) {
  fputs("SQL statements end with ';' and may span lines.\n"
        "  \\q                     quit (Ctrl-D too)\n"
        "  \\d                     list the warehouse's tables\n"
        "  \\timing [on|off]       print each statement's run time\n"
        "  \\format table|csv|jsonl  output format\n"
        "  \\r                     discard the statement being typed\n"
        "  \\?                     this help\n",
        stdout);
}

/* Prints the warehouse's tables as a one-column result ("name") in the current format. */
static int list_tables(shell *sh, tarn_error *err) {
  char **names = NULL;
  size_t n = 0;
  int rc = sql_engine_list_tables(sh->engine, &names, &n, err);
  if (rc) return rc;
  struct ArrowSchema schema = {0};
  struct ArrowArray batch = {0};
  size_t bytes = 0;
  for (size_t i = 0; i < n; i++)
    bytes += strlen(names[i]);
  if (bytes > INT32_MAX) rc = tarn_err(err, TARN_ENOMEM, "table names too long");
  if (rc == 0) rc = col_schema_init(&schema, "+s", "", 0, 1, NULL, 0, err);
  if (rc == 0) rc = col_schema_init(schema.children[0], "u", "name", 0, 0, NULL, 0, err);
  if (rc == 0) rc = col_array_init(&batch, 1, 1, err);
  if (rc == 0) rc = col_array_init(batch.children[0], 3, 0, err);
  if (rc == 0) {
    struct ArrowArray *col = batch.children[0];
    int32_t *offsets = malloc((n + 1) * sizeof *offsets);
    char *data = malloc(bytes + 1);
    col->buffers[1] = offsets;
    col->buffers[2] = data;
    if (offsets == NULL || data == NULL) {
      rc = tarn_err(err, TARN_ENOMEM, "out of memory listing tables");
    } else {
      offsets[0] = 0;
      size_t pos = 0;
      for (size_t i = 0; i < n; i++) {
        size_t len = strlen(names[i]);
        memcpy(data + pos, names[i], len);
        pos += len;
        offsets[i + 1] = (int32_t)pos;
      }
      batch.length = col->length = (int64_t)n;
    }
  }
  col_printer *printer = NULL;
  if (rc == 0) {
    separate(sh, true);
    rc = col_printer_create(sh->format, stdout, &schema, &printer, err);
  }
  if (rc == 0) rc = col_printer_write(printer, &batch, err);
  if (rc == 0) rc = col_printer_finish(printer, err);
  col_printer_free(printer);
  if (batch.release) batch.release(&batch);
  if (schema.release) schema.release(&schema);
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
  return rc;
}

/* Runs one backslash command line (text starts at the backslash; no newline). */
static int meta_command(shell *sh, const char *text, long line) {
  char copy[256];
  snprintf(copy, sizeof copy, "%s", text);
  /* "\d;" out of the habit of ending statements with ';' means "\d" */
  size_t n = strlen(copy);
  while (n > 0 && strchr("; \t\r\n", copy[n - 1]))
    copy[--n] = '\0';
  char *save = NULL;
  char *cmd = strtok_r(copy, " \t\r\n", &save);
  char *arg = strtok_r(NULL, " \t\r\n", &save);
  char *extra = strtok_r(NULL, " \t\r\n", &save);
  tarn_error err = {0};
  int rc = 0;
  if (extra != NULL) {
    rc = tarn_err(&err, TARN_EINVAL, "%s takes at most one argument", cmd);
  } else if (strcmp(cmd, "\\q") == 0) {
    sh->quit = true;
  } else if (strcmp(cmd, "\\?") == 0 || strcmp(cmd, "\\h") == 0 || strcmp(cmd, "\\help") == 0) {
    print_shell_help();
  } else if (strcmp(cmd, "\\timing") == 0) {
    if (arg == NULL)
      sh->timing = !sh->timing;
    else if (strcasecmp(arg, "on") == 0)
      sh->timing = true;
    else if (strcasecmp(arg, "off") == 0)
      sh->timing = false;
    else
      rc = tarn_err(&err, TARN_EINVAL, "\\timing takes on or off, not '%s'", arg);
    if (rc == 0) fprintf(info_stream(sh), "Timing is %s.\n", sh->timing ? "on" : "off");
  } else if (strcmp(cmd, "\\format") == 0) {
    if (arg == NULL) {
      static const char *const names[] = {"jsonl", "csv", "table"};
      fprintf(info_stream(sh), "Output format is %s.\n", names[sh->format]);
    } else {
      rc = col_text_format_parse(arg, &sh->format, &err);
      if (rc == TARN_EUSAGE) err.code = rc = TARN_EINVAL; /* bad input here, not bad usage */
    }
  } else if (strcmp(cmd, "\\d") == 0) {
    if (arg != NULL)
      rc = tarn_err(&err, TARN_EUNSUPPORTED, "\\d takes no argument yet");
    else
      rc = list_tables(sh, &err);
  } else if (strcmp(cmd, "\\r") == 0) {
    discard_pending(sh);
    if (sh->interactive) fprintf(info_stream(sh), "Statement discarded.\n");
  } else {
    rc = tarn_err(&err, TARN_EINVAL, "unknown command %s (\\? lists the commands)", cmd);
  }
  fflush(stdout);
  if (rc) {
    if (err.code == 0) err.code = rc;
    print_error(sh, &err, line);
    return err.code;
  }
  return 0;
}

/* Feeds one input line (without its newline) of a script or the shell: a backslash command when
 * it starts with '\' outside any quote or comment, else more statement text. */
static int feed_line(shell *sh, const char *text, size_t n) {
  tarn_error err = {0};
  size_t skip = 0;
  while (skip < n && (text[skip] == ' ' || text[skip] == '\t'))
    skip++;
  if (skip < n && text[skip] == '\\' && sh->scanned == sh->len) { /* outside quotes */
    /* A blank pending text (comments, empty lines) goes, so the next statement's line count
     * starts after this line; an unfinished statement stays pending, as psql keeps it. */
    long line = sh->line + count_lines(sh->buf, sh->len);
    if (pending_blank(sh)) discard_pending(sh);
    int rc = meta_command(sh, text + skip, line);
    if (sh->len == 0) {
      sh->line = line + 1;
    } else if (append(sh, "\n", 1, &err) == 0) {
      sh->scanned = sh->len; /* the line still counts in the numbers of later lines */
    }
    return rc;
  }
  int rc = append(sh, text, n, &err);
  if (rc == 0) rc = append(sh, "\n", 1, &err);
  if (rc) {
    print_error(sh, &err, sh->line);
    return rc;
  }
  return drain(sh, false);
}

/* Runs a script from f (a file or piped stdin) to its end or its first error. */
static int run_script(shell *sh, FILE *f) {
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  int rc = 0;
  while (rc == 0 && !sh->quit && (n = getline(&line, &cap, f)) >= 0) {
    if (n > 0 && line[n - 1] == '\n') n--;
    rc = feed_line(sh, line, (size_t)n);
  }
  if (rc == 0 && !sh->quit && ferror(f)) {
    tarn_error err = {0};
    tarn_err(&err, TARN_EIO, "reading: %s", strerror(errno));
    print_error(sh, &err, sh->line + count_lines(sh->buf, sh->len));
    rc = TARN_EIO;
  }
  free(line);
  if (rc == 0 && !sh->quit) rc = drain(sh, true);
  return rc;
}

/* Runs one -c string: its statements in order, the last needing no ';'. */
static int run_command(shell *sh, const char *sql) {
  tarn_error err = {0};
  sh->line = 1;
  int rc = append(sh, sql, strlen(sql), &err);
  if (rc) {
    print_error(sh, &err, 1);
    return rc;
  }
  rc = drain(sh, true);
  discard_pending(sh);
  return rc;
}

/* Non-blank statements in text (to know whether errors must say which one failed). */
static long count_statements(const char *text) {
  size_t len = strlen(text), pos = 0;
  long count = 0;
  while (pos < len) {
    size_t n = tarn_sql_split(text + pos, len - pos);
    size_t body = n > 0 ? n - 1 : len - pos; /* the last statement needs no ';' */
    if (n == 0) n = body;
    if (tarn_sql_skip_blank(text + pos, body) < body) count++;
    pos += n;
  }
  return count;
}

/* ---- the interactive shell ---- */

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig) {
  (void)sig;
  interrupted = 1;
}

/* Waits for one byte of fd. SIGINT stays blocked while the shell waits for a line and is let
 * through only inside pselect, atomically: a Ctrl-C pressed between two reads (even before the
 * first) ends the wait at once instead of being noticed only after the next Enter. */
static int read_byte(int fd) {
  sigset_t wait_mask;
  sigprocmask(SIG_SETMASK, NULL, &wait_mask);
  sigdelset(&wait_mask, SIGINT);
  for (;;) {
    if (interrupted) return EOF;
    fd_set readable;
    FD_ZERO(&readable);
    FD_SET(fd, &readable);
    int ready = pselect(fd + 1, &readable, NULL, NULL, NULL, &wait_mask);
    if (ready < 0 && errno == EINTR) continue; /* SIGINT, or another signal: look again */
    if (ready < 0) return EOF;
    unsigned char c;
    ssize_t n = read(fd, &c, 1);
    if (n == 1) return c;
    if (n < 0 && errno == EINTR) continue;
    return EOF;
  }
}

/* libedit's source of input characters (rl_getc_function). libedit stores what this returns as
 * one wide character, so a multibyte character of the terminal's encoding is decoded here, as
 * libedit's own reader would. EOF makes readline give up the line; the caller then sees
 * `interrupted`. */
static int shell_getc(FILE *in) {
  mbstate_t state;
  memset(&state, 0, sizeof state);
  for (;;) {
    int b = read_byte(fileno(in));
    if (b == EOF) return EOF;
    char byte = (char)b;
    wchar_t wc;
    size_t n = mbrtowc(&wc, &byte, 1, &state);
    if (n == (size_t)-2) continue; /* more bytes to come */
    if (n == (size_t)-1) return b; /* not the locale's encoding: the byte as it is */
    return n == 0 ? 0 : (int)wc;
  }
}

/* The history file: $TARN_HISTORY, else ~/.tarn_history, else none (HOME unset). Malloc'd. */
static char *history_path(void) {
  const char *env = getenv("TARN_HISTORY");
  if (env != NULL) return env[0] ? strdup(env) : NULL;
  const char *home = getenv("HOME");
  if (home == NULL || home[0] == '\0') return NULL;
  size_t n = strlen(home) + sizeof "/.tarn_history";
  char *path = malloc(n);
  if (path) snprintf(path, n, "%s/.tarn_history", home);
  return path;
}

static int interactive(shell *sh) {
  char *history = history_path();
  /* libedit needs the terminal's character encoding (LC_CTYPE from the environment) to edit
   * and return non-ASCII text. It is set for this thread and only while libedit runs, so the
   * engine sees the same "C" locale as under -c. */
  locale_t terminal = newlocale(LC_CTYPE_MASK, "", (locale_t)0);
  if (terminal == (locale_t)0 || strcmp(nl_langinfo_l(CODESET, terminal), "ANSI_X3.4-1968") == 0) {
    /* The C locale knows no character beyond ASCII, so it can only be an unset environment
     * (a container, say) in front of what today is almost surely a UTF-8 terminal. */
    locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    if (utf8) {
      if (terminal) freelocale(terminal);
      terminal = utf8;
    }
  }
  locale_t program = uselocale((locale_t)0);
  if (terminal) uselocale(terminal);
  rl_readline_name = "tarn"; /* "tarn:" lines of ~/.editrc apply to this program */
  rl_getc_function = shell_getc;
  using_history(); /* initialises libedit, with the settings above */
  stifle_history(HISTORY_LINES);
  if (history) read_history(history); /* a missing or unreadable file only means no history */
  uselocale(program);

  /* Ctrl-C at the prompt discards the line being typed instead of ending the shell. While a
   * statement runs SIGINT keeps its default action: the engine cannot be cancelled yet, and a
   * runaway query must still be stoppable. */
  struct sigaction sa = {0}, old_sa;
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  sigset_t sigint, old_mask;
  sigemptyset(&sigint);
  sigaddset(&sigint, SIGINT);

  printf("tarn SQL shell: statements end with ';'; \\? for help, \\q or Ctrl-D to quit.\n");
  while (!sh->quit) {
    if (pending_blank(sh)) discard_pending(sh);
    fflush(stdout);
    interrupted = 0;
    sigprocmask(SIG_BLOCK, &sigint, &old_mask); /* see shell_getc */
    sigaction(SIGINT, &sa, &old_sa);
    if (terminal) uselocale(terminal);
    char *line = readline(sh->len == 0 ? PROMPT : PROMPT_MORE);
    uselocale(program);
    sigprocmask(SIG_SETMASK, &old_mask, NULL); /* a Ctrl-C still pending lands in on_interrupt */
    sigaction(SIGINT, &old_sa, NULL);
    if (interrupted) {
      /* libedit returns what was typed (or NULL) after the signal; both are dropped */
      free(line);
      discard_pending(sh);
      fputc('\n', stdout);
      continue;
    }
    if (line == NULL) { /* Ctrl-D */
      fputc('\n', stdout);
      break;
    }
    size_t n = strlen(line);
    if (strspn(line, " \t") < n) {
      add_history(line);
      /* Written at once: a killed shell (Ctrl-C while a query runs) keeps its history. */
      if (history) write_history(history);
    }
    sh->outputs = 0;
    feed_line(sh, line, n); /* errors were printed; the shell goes on */
    free(line);
  }
  free(history);
  if (terminal) freelocale(terminal);
  return 0;
}

/* ---- arguments ---- */

/* Parses a size like 512MB, 2GB, 1.5GiB or 1000000 (bytes); units are binary. */
static int parse_size(const char *text, int64_t *out) {
  const char *p = text;
  double value = 0;
  bool digits = false;
  while (*p >= '0' && *p <= '9') {
    value = value * 10 + (*p++ - '0');
    digits = true;
  }
  if (*p == '.') {
    double scale = 0.1;
    for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10) {
      value += (*p - '0') * scale;
      digits = true;
    }
  }
  if (!digits) return -1;
  while (*p == ' ')
    p++;
  static const char *const units[] = {"", "K", "M", "G", "T"};
  double multiplier = -1;
  for (int u = 0; u < 5; u++) {
    size_t n = strlen(units[u]);
    if (strncasecmp(p, units[u], n) != 0) continue;
    const char *rest = p + n;
    if (u > 0 &&
        (strcasecmp(rest, "") == 0 || strcasecmp(rest, "B") == 0 || strcasecmp(rest, "iB") == 0))
      multiplier = (double)(1LL << (10 * u));
    else if (u == 0 && (strcasecmp(rest, "") == 0 || strcasecmp(rest, "B") == 0))
      multiplier = 1;
  }
  if (multiplier < 0) return -1;
  double bytes = value * multiplier;
  if (bytes < 1 || bytes >= 9.2e18) return -1;
  *out = (int64_t)bytes;
  return 0;
}

typedef struct sql_args {
  sql_engine_options engine;
  const char **commands; /* -c strings, in order */
  int n_commands;
  const char *file;
  const char *format;
} sql_args;

/* Returns 0, 2 after printing a usage error, or -1 when --help was printed. */
static int parse_args(int argc, char **argv, sql_args *a) {
  for (int i = 1; i < argc; i++) {
    const char *o = argv[i];
    const char *val = i + 1 < argc ? argv[i + 1] : NULL;
    bool takes_value = strcmp(o, "-w") == 0 || strcmp(o, "--warehouse") == 0 ||
                       strcmp(o, "-c") == 0 || strcmp(o, "--command") == 0 ||
                       strcmp(o, "--format") == 0 || strcmp(o, "--threads") == 0 ||
                       strcmp(o, "--memory-limit") == 0;
    if (takes_value && val == NULL) return usage_error("%s needs a value", o);
    if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) {
      print_usage(stdout);
      return -1;
    } else if (strcmp(o, "-w") == 0 || strcmp(o, "--warehouse") == 0) {
      a->engine.warehouse = val;
    } else if (strcmp(o, "-c") == 0 || strcmp(o, "--command") == 0) {
      a->commands[a->n_commands++] = val;
    } else if (strcmp(o, "--format") == 0) {
      col_text_format f;
      if (col_text_format_parse(val, &f, NULL))
        return usage_error("--format takes table, csv or jsonl, not '%s'", val);
      a->format = val;
    } else if (strcmp(o, "--threads") == 0) {
      char *end;
      errno = 0;
      long v = strtol(val, &end, 10);
      if (errno || *end || end == val || v < 0 || v > 4096)
        return usage_error("--threads needs an integer from 0 to 4096, not '%s'", val);
      a->engine.threads = (int)v;
    } else if (strcmp(o, "--memory-limit") == 0) {
      if (parse_size(val, &a->engine.memory_limit))
        return usage_error("--memory-limit needs a size like 512MB or 2GB, not '%s'", val);
    } else if (o[0] == '-' && o[1] != '\0') {
      return usage_error("unknown option '%s'", o);
    } else if (a->file == NULL) {
      a->file = o;
    } else {
      return usage_error("unexpected argument '%s'", o);
    }
    if (takes_value) i++;
  }
  if (a->file && a->n_commands > 0)
    return usage_error("give statements with -c or in FILE.sql, not both%s", "");
  return 0;
}

int tarn_sql_main(int argc, char **argv) {
  sql_args a = {0};
  a.format = "table";
  a.commands = calloc((size_t)(argc > 0 ? argc : 1), sizeof *a.commands);
  if (a.commands == NULL) {
    fprintf(stderr, "tarn: error: out of memory\n");
    return tarn_exit_code(TARN_ENOMEM);
  }
  int rc = parse_args(argc, argv, &a);
  if (rc) {
    free(a.commands);
    return rc < 0 ? 0 : rc;
  }

  shell sh = {0};
  sh.line = 1;
  col_text_format_parse(a.format, &sh.format, NULL);
  FILE *script = NULL;
  tarn_error err = {0};
  if (append(&sh, "", 0, &err)) { /* the pending buffer always exists */
    print_error(&sh, &err, 0);
    free(a.commands);
    return tarn_exit_code(TARN_ENOMEM);
  }
  if (a.file && strcmp(a.file, "-") != 0) {
    script = fopen(a.file, "r");
    if (script == NULL) {
      tarn_err(&err, TARN_EIO, "%s: %s", a.file, strerror(errno));
      print_error(&sh, &err, 0);
      free(sh.buf);
      free(a.commands);
      return tarn_exit_code(TARN_EIO);
    }
  }
  if (sql_engine_open(&a.engine, &sh.engine, &err)) {
    if (err.code == 0) err.code = TARN_EINVAL;
    print_error(&sh, &err, 0);
    if (script) fclose(script);
    free(sh.buf);
    free(a.commands);
    return tarn_exit_code(err.code);
  }

  if (a.n_commands > 0) {
    long total = 0;
    for (int i = 0; i < a.n_commands; i++)
      total += count_statements(a.commands[i]);
    sh.number_errors = total > 1;
    for (int i = 0; i < a.n_commands && rc == 0 && !sh.quit; i++)
      rc = run_command(&sh, a.commands[i]);
  } else if (script) {
    sh.source = a.file;
    rc = run_script(&sh, script);
  } else if (a.file || !isatty(STDIN_FILENO)) {
    sh.source = "<stdin>";
    rc = run_script(&sh, stdin);
  } else {
    sh.interactive = true;
    rc = interactive(&sh);
  }

  if (script) fclose(script);
  release_result(&sh);
  sql_engine_close(sh.engine);
  free(sh.buf);
  free(a.commands);
  if (fflush(stdout) != 0 && rc == 0) {
    fprintf(stderr, "tarn: error: writing output: %s\n", strerror(errno));
    return tarn_exit_code(TARN_EIO);
  }
  return tarn_exit_code(rc);
}
