/*
 * The tarn command: a thin layer over libtarn that parses arguments, runs one subcommand and maps
 * library error codes to exit codes (0 ok, 1 bad input, 2 usage, 3 conflict, 4 corrupt data,
 * 5 I/O). Every failure prints exactly one line, "tarn: error: ...", on stderr.
 */
#include <errno.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli/sql_shell.h"
#include "cli/table_cmds.h"
#include "columnar/format.h"
#include "common/error.h"
#include "common/path.h"
#include "common/progress.h"
#include "ingest/csv.h"
#include "ingest/jsonl.h"
#include "parquet/codec.h"
#include "tarn.h"

#define TARN_VERSION "0.1.0"

static int report(const tarn_error *err) {
  fprintf(stderr, "tarn: error: %s\n", err->message[0] ? err->message : tarn_strerror(err->code));
  return tarn_exit_code(err->code);
}

static int usage_error(const char *fmt, const char *arg) {
  fprintf(stderr, "tarn: error: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, " (see 'tarn --help')\n");
  return 2;
}

static void print_help(FILE *out) {
  fputs(
      "usage: tarn COMMAND [ARGS]\n"
      "\n"
      "commands:\n"
      "  cat PATH [--format jsonl|csv|table] [--columns a,b] [--limit N] [--as-of V|TIME]\n"
      "           print the rows of a Parquet file or a Delta table directory (jsonl =\n"
      "           canonical rows); --as-of: a table's version number or a timestamp\n"
      "  schema PATH          print the columns and their types (a table's schema string)\n"
      "  meta PATH            print a file's footer (row groups, column chunks, statistics) or a\n"
      "                       table's protocol, metadata and file count, as JSON\n"
      "  history TABLE [--format jsonl]\n"
      "           one line per commit: version, timestamp, operation, parameters\n"
      "  vacuum TABLE [--retain HOURS] [--dry-run] [--force]\n"
      "           delete files no version within the retention period needs (default: the\n"
      "           table's delta.deletedFileRetentionDuration, one week); prints their paths\n"
      "  checkpoint TABLE       write a checkpoint of the latest version\n"
      "  optimize TABLE [--zorder a,b] [--target-size BYTES] [--read-version N]\n"
      "           [--memory-limit BYTES]\n"
      "           compact small files (with --zorder: rewrite each partition in Z-order of\n"
      "           those columns) into files of about BYTES (default delta.targetFileSize, 128m)\n"
      "  restore TABLE --version N | --timestamp TIME\n"
      "           commit an older version's files and metadata as the latest version\n"
      "  copy SRC DST [--compression zstd|snappy|gzip|lz4|brotli|none] [--level N]\n"
      "           [--row-group-size ROWS] [--page-size BYTES] [--page-v2] [--no-dictionary]\n"
      "           [--bloom-filter col,...] [--encoding col=ENCODING]... [--from "
      "parquet|csv|jsonl]\n"
      "           [--delimiter C] [--no-header] [--schema 'name TYPE, ...'] [--skip-bad-rows]\n"
      "           write SRC (Parquet, CSV or JSON lines, by extension) as the Parquet file DST\n"
      "  sql [-w WAREHOUSE] [-c SQL]... [--format table|csv|jsonl] [--threads N]\n"
      "      [--memory-limit SIZE] [FILE.sql]\n"
      "           run SQL statements or a script; with neither, an interactive shell\n"
      "           (see 'tarn sql --help')\n"
      "\n"
      "options for encrypted files (cat, schema, meta):\n"
      "  --footer-key KEY             the footer key (raw bytes, or hex:HEX)\n"
      "  --column-key PATH:KEY        a column's key (repeatable)\n"
      "  --aad-prefix PREFIX          the AAD prefix when the file does not store it\n"
      "other options:\n"
      "  --no-crc-check               do not verify page checksums\n"
      "  --version, --help\n",
      out);
}

/* Options shared by the file commands. */
typedef struct cli_options {
  const char *path;
  const char *format;
  const char *columns;
  const char *as_of; /* --as-of VERSION|TIMESTAMP (tables) */
  long long limit;
  int limit_zero; /* --limit 0: print no rows */
  tarn_parquet_options pq;
  /* storage for keys */
  size_t n_keys;
  char *key_paths[64];
  uint8_t *keys[64];
  size_t key_lens[64];
  uint8_t *footer_key;
  uint8_t *aad_prefix;
} cli_options;

/* Parses a key: "hex:00112233..." or the raw bytes of the argument. */
static int parse_key(const char *text, uint8_t **out, size_t *len) {
  if (strncmp(text, "hex:", 4) == 0) {
    const char *h = text + 4;
    size_t n = strlen(h);
    if (n % 2) return -1;
    uint8_t *k = malloc(n / 2 + 1);
    if (k == NULL) return -1;
    for (size_t i = 0; i < n / 2; i++) {
      int a = tarn_hex_digit(h[2 * i]), b = tarn_hex_digit(h[2 * i + 1]);
      if (a < 0 || b < 0) {
        free(k);
        return -1;
      }
      k[i] = (uint8_t)(a * 16 + b);
    }
    *out = k;
    *len = n / 2;
    return 0;
  }
  *len = strlen(text);
  *out = (uint8_t *)strdup(text);
  return *out ? 0 : -1;
}

static void free_options(cli_options *o) {
  for (size_t i = 0; i < o->n_keys; i++) {
    free(o->key_paths[i]);
    free(o->keys[i]);
  }
  free(o->footer_key);
  free(o->aad_prefix);
}

static int parse_options(int argc, char **argv, cli_options *o, int allow_output_opts) {
  memset(o, 0, sizeof *o);
  o->format = "table";
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    const char *val = i + 1 < argc ? argv[i + 1] : NULL;
    if (allow_output_opts && strcmp(a, "--format") == 0) {
      if (!val) return usage_error("%s needs a value", a);
      o->format = val;
      i++;
    } else if (allow_output_opts && strcmp(a, "--columns") == 0) {
      if (!val) return usage_error("%s needs a value", a);
      o->columns = val;
      i++;
    } else if (allow_output_opts && strcmp(a, "--limit") == 0) {
      if (!val) return usage_error("%s needs a value", a);
      char *end;
      errno = 0;
      o->limit = strtoll(val, &end, 10);
      if (errno || *end || o->limit < 0 || end == val)
        return usage_error("--limit needs a non-negative integer, not '%s'", val);
      o->limit_zero = o->limit == 0;
      i++;
    } else if (strcmp(a, "--as-of") == 0) {
      if (!val) return usage_error("%s needs a value", a);
      o->as_of = val;
      i++;
    } else if (strcmp(a, "--footer-key") == 0) {
      if (!val) return usage_error("%s needs a value", a);
      free(o->footer_key);
      if (parse_key(val, &o->footer_key, &o->pq.footer_key_len))
        return usage_error("bad key '%s'", val);
      o->pq.footer_key = o->footer_key;
      i++;
    } else if (strcmp(a, "--column-key") == 0) {
      if (!val) return usage_error("%s needs a value", a);
      const char *colon = strrchr(val, ':');
      if (strncmp(val, "hex:", 4) != 0 && strstr(val, ":hex:")) colon = strstr(val, ":hex:");
      if (colon == NULL || colon == val)
        return usage_error("--column-key needs PATH:KEY, not '%s'", val);
      if (o->n_keys == 64) return usage_error("too many column keys%s", "");
      size_t k = o->n_keys;
      o->key_paths[k] = strndup(val, (size_t)(colon - val));
      if (o->key_paths[k] == NULL || parse_key(colon + 1, &o->keys[k], &o->key_lens[k])) {
        free(o->key_paths[k]);
        return usage_error("bad key in '%s'", val);
      }
      o->n_keys++;
      i++;
    } else if (strcmp(a, "--aad-prefix") == 0) {
      if (!val) return usage_error("%s needs a value", a);
      free(o->aad_prefix);
      o->aad_prefix = (uint8_t *)strdup(val);
      o->pq.aad_prefix = o->aad_prefix;
      o->pq.aad_prefix_len = strlen(val);
      i++;
    } else if (strcmp(a, "--no-crc-check") == 0) {
      o->pq.skip_crc_check = 1;
    } else if (a[0] == '-' && a[1] != '\0') {
      return usage_error("unknown option '%s'", a);
    } else if (o->path == NULL) {
      o->path = a;
    } else {
      return usage_error("unexpected argument '%s'", a);
    }
  }
  if (o->path == NULL) return usage_error("missing FILE%s", "");
  o->pq.n_column_keys = o->n_keys;
  o->pq.column_key_paths = (const char *const *)o->key_paths;
  o->pq.column_keys = (const uint8_t *const *)o->keys;
  o->pq.column_key_lens = o->key_lens;
  return 0;
}

/* Copies a failed stream's message and code into err. */
static int stream_error_from(struct ArrowArrayStream *stream,
                             int (*code_of)(struct ArrowArrayStream *), tarn_error *err) {
  int code = code_of(stream);
  if (code == 0) code = TARN_ECORRUPT;
  const char *msg = stream->get_last_error(stream);
  err->code = code;
  snprintf(err->message, sizeof err->message, "%s", msg ? msg : "reading failed");
  return code;
}

static int stream_error(struct ArrowArrayStream *stream, tarn_error *err) {
  return stream_error_from(stream, tarn_parquet_stream_error, err);
}

static int cmd_cat(cli_options *o) {
  tarn_error err = {0};
  col_text_format fmt;
  if (col_text_format_parse(o->format, &fmt, &err)) return report(&err);
  tarn_parquet_file *f = NULL;
  if (tarn_parquet_open(o->path, &o->pq, &f, &err)) return report(&err);
  char *cols_copy = NULL;
  const char *names[1024];
  tarn_scan_options so = {0};
  if (o->columns) {
    cols_copy = strdup(o->columns);
    size_t n = 0;
    for (char *save = NULL, *t = strtok_r(cols_copy, ",", &save); t;
         t = strtok_r(NULL, ",", &save)) {
      if (n == 1024) break;
      names[n++] = t;
    }
    so.columns = names;
    so.n_columns = n;
  }
  so.limit = o->limit;
  struct ArrowArrayStream stream;
  struct ArrowSchema schema = {0};
  col_printer *printer = NULL;
  int rc = tarn_parquet_scan(f, &so, &stream, &err);
  if (rc == 0) {
    if (stream.get_schema(&stream, &schema)) rc = stream_error(&stream, &err);
  }
  if (rc == 0) rc = col_printer_create(fmt, stdout, &schema, &printer, &err);
  while (rc == 0 && !o->limit_zero) {
    struct ArrowArray batch;
    if (stream.get_next(&stream, &batch)) {
      rc = stream_error(&stream, &err);
      break;
    }
    if (batch.release == NULL) break;
    rc = col_printer_write(printer, &batch, &err);
    batch.release(&batch);
  }
  if (rc == 0) rc = col_printer_finish(printer, &err);
  col_printer_free(printer);
  if (schema.release) schema.release(&schema);
  if (stream.release) stream.release(&stream);
  tarn_parquet_close(f);
  free(cols_copy);
  if (fflush(stdout) != 0 && rc == 0) {
    err.code = TARN_EIO;
    snprintf(err.message, sizeof err.message, "writing output: %s", strerror(errno));
    rc = TARN_EIO;
  }
  return rc ? report(&err) : 0;
}

static int cmd_describe(cli_options *o, int meta) {
  tarn_error err = {0};
  tarn_parquet_file *f = NULL;
  if (tarn_parquet_open(o->path, &o->pq, &f, &err)) return report(&err);
  char *text = NULL;
  int rc =
      meta ? tarn_parquet_metadata_json(f, &text, &err) : tarn_parquet_schema_text(f, &text, &err);
  if (rc == 0) fputs(text, stdout);
  free(text);
  tarn_parquet_close(f);
  return rc ? report(&err) : 0;
}

/* Splits a comma-separated list into a malloc'd array of pointers into `text` (modified). */
static const char **split_list(char *text, size_t *n) {
  size_t cap = 1;
  for (const char *p = text; *p; p++)
    cap += *p == ',';
  const char **v = calloc(cap, sizeof *v);
  *n = 0;
  if (v == NULL) return NULL;
  for (char *save = NULL, *t = strtok_r(text, ",", &save); t; t = strtok_r(NULL, ",", &save))
    v[(*n)++] = t;
  return v;
}

static bool ends_with(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

typedef struct copy_source {
  ing_csv_options csv; /* set by the caller before open_source (schema, skip_bad_rows: JSON too) */
  int is_jsonl;
  struct ArrowArrayStream stream;
  tarn_parquet_file *parquet;
  int (*error_code)(struct ArrowArrayStream *);
} copy_source;

static int open_source(const char *path, const char *from, copy_source *src, tarn_error *err) {
  ing_csv_options csv = src->csv;
  memset(src, 0, sizeof *src);
  src->csv = csv;
  if (from == NULL) {
    if (ends_with(path, ".csv") || ends_with(path, ".tsv") || ends_with(path, ".csv.gz"))
      from = "csv";
    else if (ends_with(path, ".jsonl") || ends_with(path, ".ndjson") || ends_with(path, ".json"))
      from = "jsonl";
    else
      from = "parquet";
  }
  if (strcmp(from, "parquet") == 0) {
    int rc = tarn_parquet_open(path, NULL, &src->parquet, err);
    if (rc == 0) rc = tarn_parquet_scan(src->parquet, NULL, &src->stream, err);
    src->error_code = tarn_parquet_stream_error;
    return rc;
  }
  src->error_code = ing_stream_error;
  if (strcmp(from, "csv") == 0) {
    if (src->csv.delimiter == 0 && ends_with(path, ".tsv")) src->csv.delimiter = '\t';
    return ing_csv_open(path, &src->csv, &src->stream, err);
  }
  if (strcmp(from, "jsonl") == 0) {
    ing_jsonl_options jo = {.schema = src->csv.schema, .skip_bad_rows = src->csv.skip_bad_rows};
    src->is_jsonl = 1;
    return ing_jsonl_open(path, &jo, &src->stream, err);
  }
  return tarn_err(err, TARN_EUSAGE, "%s: reading %s is not available in this build", path, from);
}

static int cmd_copy(int argc, char **argv) {
  const char *src_path = NULL, *dst_path = NULL, *from = NULL;
  tarn_write_options wo = {0};
  char *bloom_text = NULL;
  const char **bloom = NULL;
  const char *encodings[256];
  size_t n_encodings = 0;
  ing_csv_options csv = {0};
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    const char *val = i + 1 < argc ? argv[i + 1] : NULL;
    bool takes_value = strcmp(a, "--compression") == 0 || strcmp(a, "--level") == 0 ||
                       strcmp(a, "--row-group-size") == 0 || strcmp(a, "--page-size") == 0 ||
                       strcmp(a, "--bloom-filter") == 0 || strcmp(a, "--encoding") == 0 ||
                       strcmp(a, "--from") == 0 || strcmp(a, "--delimiter") == 0 ||
                       strcmp(a, "--schema") == 0;
    if (takes_value && val == NULL) return usage_error("%s needs a value", a);
    if (strcmp(a, "--compression") == 0) {
      int c = pq_codec_from_name(val);
      if (c < 0) return usage_error("unknown compression '%s'", val);
      wo.codec = c;
      wo.codec_set = 1;
    } else if (strcmp(a, "--level") == 0 || strcmp(a, "--row-group-size") == 0 ||
               strcmp(a, "--page-size") == 0) {
      char *end;
      errno = 0;
      long long v = strtoll(val, &end, 10);
      if (errno || *end || end == val || v <= 0)
        return usage_error("%s needs a positive integer", a);
      if (a[2] == 'l')
        wo.compression_level = (int)v;
      else if (a[2] == 'r')
        wo.row_group_rows = v;
      else
        wo.page_bytes = v;
    } else if (strcmp(a, "--page-v2") == 0) {
      wo.data_page_v2 = 1;
      continue;
    } else if (strcmp(a, "--no-dictionary") == 0) {
      wo.no_dictionary = 1;
      continue;
    } else if (strcmp(a, "--bloom-filter") == 0) {
      free(bloom_text);
      free(bloom);
      bloom_text = strdup(val);
      bloom = bloom_text ? split_list(bloom_text, &wo.n_bloom_columns) : NULL;
      wo.bloom_columns = bloom;
    } else if (strcmp(a, "--encoding") == 0) {
      if (n_encodings == 256) return usage_error("too many --encoding options%s", "");
      encodings[n_encodings++] = val;
    } else if (strcmp(a, "--delimiter") == 0) {
      if (strcmp(val, "\\t") == 0 || strcmp(val, "tab") == 0)
        csv.delimiter = '\t';
      else if (strlen(val) == 1)
        csv.delimiter = val[0];
      else
        return usage_error("--delimiter takes one character, not '%s'", val);
    } else if (strcmp(a, "--schema") == 0) {
      csv.schema = val;
    } else if (strcmp(a, "--no-header") == 0) {
      csv.no_header = 1;
      continue;
    } else if (strcmp(a, "--skip-bad-rows") == 0) {
      csv.skip_bad_rows = 1;
      continue;
    } else if (strcmp(a, "--from") == 0) {
      if (strcmp(val, "parquet") && strcmp(val, "csv") && strcmp(val, "jsonl"))
        return usage_error("--from takes parquet, csv or jsonl, not '%s'", val);
      from = val;
    } else if (a[0] == '-' && a[1] != '\0') {
      return usage_error("unknown option '%s'", a);
    } else if (src_path == NULL) {
      src_path = a;
      continue;
    } else if (dst_path == NULL) {
      dst_path = a;
      continue;
    } else {
      return usage_error("unexpected argument '%s'", a);
    }
    if (takes_value) i++;
  }
  if (src_path == NULL || dst_path == NULL) return usage_error("copy needs SRC and DST%s", "");
  wo.column_encodings = encodings;
  wo.n_column_encodings = n_encodings;

  tarn_error err = {0};
  copy_source src = {.csv = csv};
  struct ArrowSchema schema = {0};
  tarn_parquet_writer *w = NULL;
  tarn_progress progress;
  int64_t rows = 0;
  int rc = open_source(src_path, from, &src, &err);
  if (rc == 0 && src.stream.get_schema(&src.stream, &schema))
    rc = stream_error_from(&src.stream, src.error_code, &err);
  if (rc == 0) rc = tarn_parquet_writer_open(dst_path, &schema, &wo, &w, &err);
  tarn_progress_start(&progress, "copy");
  while (rc == 0) {
    struct ArrowArray batch;
    if (src.stream.get_next(&src.stream, &batch)) {
      rc = stream_error_from(&src.stream, src.error_code, &err);
      break;
    }
    if (batch.release == NULL) break;
    rc = tarn_parquet_writer_write(w, &batch, &err);
    rows += batch.length;
    batch.release(&batch);
    tarn_progress_update(&progress, rows);
  }
  if (rc == 0) {
    rc = tarn_parquet_writer_close(w, NULL, &err);
    w = NULL;
    tarn_progress_finish(&progress, rows);
  }
  if (rc == 0 && src.parquet == NULL) {
    int64_t bad = src.is_jsonl ? ing_jsonl_bad_rows(&src.stream) : ing_csv_bad_rows(&src.stream);
    if (bad > 0) fprintf(stderr, "tarn: skipped %lld bad rows\n", (long long)bad);
  }
  tarn_parquet_writer_abort(w);
  if (schema.release) schema.release(&schema);
  if (src.stream.release) src.stream.release(&src.stream);
  tarn_parquet_close(src.parquet);
  free(bloom_text);
  free(bloom);
  return rc ? report(&err) : 0;
}

static bool is_directory(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int main(int argc, char **argv) {
  /* Reading and querying allocate and free many buffers of 100 KB to a few MB (decompressed
   * pages, batch regions). By default glibc maps each afresh and unmaps it on free, so every
   * batch pays page faults on memory just released (a quarter of a scan's time); keeping such
   * buffers in the heap lets them be reused. The command owns the process, so it sets this; the
   * library does not. */
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  if (argc < 2) {
    print_help(stderr);
    return 2;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
    print_help(stdout);
    return 0;
  }
  if (strcmp(cmd, "--version") == 0) {
    printf("tarn %s\n", TARN_VERSION);
    return 0;
  }
  if (strcmp(cmd, "copy") == 0) return cmd_copy(argc - 2, argv + 2);
  if (strcmp(cmd, "sql") == 0) return tarn_sql_main(argc - 1, argv + 1);
  if (strcmp(cmd, "vacuum") == 0) return cli_table_vacuum(argc - 2, argv + 2);
  if (strcmp(cmd, "checkpoint") == 0) return cli_table_checkpoint(argc - 2, argv + 2);
  if (strcmp(cmd, "restore") == 0) return cli_table_restore(argc - 2, argv + 2);
  if (strcmp(cmd, "optimize") == 0) return cli_table_optimize(argc - 2, argv + 2);
  int is_cat = strcmp(cmd, "cat") == 0;
  int is_history = strcmp(cmd, "history") == 0;
  if (!is_cat && !is_history && strcmp(cmd, "schema") != 0 && strcmp(cmd, "meta") != 0)
    return usage_error("unknown command '%s'", cmd);
  cli_options o;
  int rc = parse_options(argc - 2, argv + 2, &o, is_cat || is_history);
  if (rc == 0 && cli_is_table(o.path)) {
    if (is_cat)
      rc = cli_table_cat(o.path, o.as_of, o.format, o.limit, o.limit_zero);
    else if (is_history)
      rc = cli_table_history(o.path, o.format);
    else
      rc = cli_table_describe(o.path, o.as_of, strcmp(cmd, "meta") == 0);
  } else if (rc == 0 && (is_history || is_directory(o.path))) {
    fprintf(stderr, "tarn: error: %s is not a table directory (no _delta_log)\n", o.path);
    rc = 1;
  } else if (rc == 0 && o.as_of) {
    rc = usage_error("--as-of applies to tables, and %s is a file", o.path);
  } else if (rc == 0) {
    rc = is_cat ? cmd_cat(&o) : cmd_describe(&o, strcmp(cmd, "meta") == 0);
  }
  free_options(&o);
  return rc;
}
