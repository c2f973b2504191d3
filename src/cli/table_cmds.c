/*
 * The file commands on table directories: `tarn cat|schema|meta|history DIR` for Delta tables,
 * and the maintenance commands `tarn vacuum|restore DIR`.
 *
 * Reading goes through the SQL engine (`SELECT * FROM delta_scan(...)`), so `tarn cat` of a table
 * and a query over it share one reader: snapshot, partition values, deletion vectors, column
 * mapping. The other commands describe the log itself, or change it through delta_maint.
 */
#include "cli/table_cmds.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "columnar/format.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/json.h"
#include "sql/delta_call.h"
#include "sql/delta_optimize.h"
#include "sql/engine.h"
#include "sql/exec.h"
#include "sql/expr.h"
#include "sql/source_iceberg.h"
#include "table/delta/delta_checkpoint.h"
#include "table/delta/delta_log.h"
#include "table/delta/delta_maint.h"
#include "table/iceberg/iceberg_meta.h"
#include "table/iceberg/iceberg_snapshot.h"

static int report(const tarn_error *err) {
  fprintf(stderr, "tarn: error: %s\n", err->message[0] ? err->message : "failed");
  return tarn_exit_code(err->code);
}

bool cli_is_table(const char *path) { return delta_is_table(path) || sql_is_iceberg_table(path); }

/* Appends s with single quotes doubled, in quotes (a SQL string literal). */
static int sql_quoted(tarn_buf *b, const char *s, tarn_error *err) {
  int rc = tarn_buf_append(b, "'", 1, err);
  for (const char *p = s; rc == 0 && *p; p++)
    rc = *p == '\'' ? tarn_buf_append(b, "''", 2, err) : tarn_buf_append(b, p, 1, err);
  if (rc == 0) rc = tarn_buf_append(b, "'", 1, err);
  return rc;
}

typedef struct cat_sink {
  col_text_format fmt;
  col_printer *printer;
} cat_sink;

static int cat_begin(void *arg, const struct ArrowSchema *schema, tarn_error *err) {
  cat_sink *c = arg;
  return col_printer_create(c->fmt, stdout, schema, &c->printer, err);
}

static int cat_batch(void *arg, const struct ArrowArray *batch, tarn_error *err) {
  cat_sink *c = arg;
  return col_printer_write(c->printer, (struct ArrowArray *)batch, err);
}

static int cat_end(void *arg, tarn_error *err) {
  cat_sink *c = arg;
  return col_printer_finish(c->printer, err);
}

static int cat_status(void *arg, const char *line, tarn_error *err) {
  (void)arg;
  (void)line;
  (void)err;
  return 0;
}

/* Whether text is a non-negative integer (a version rather than a time). */
static bool is_version(const char *text) {
  if (!*text) return false;
  for (const char *p = text; *p; p++)
    if (*p < '0' || *p > '9') return false;
  return true;
}

int cli_table_cat(const char *dir, const char *as_of, const char *format, long long limit,
                  bool limit_zero) {
  tarn_error err = {0};
  cat_sink c = {0};
  if (col_text_format_parse(format, &c.fmt, &err)) return report(&err);
  tarn_buf q = {0};
  /* Iceberg tables time-travel by snapshot id only, for now */
  bool iceberg = sql_is_iceberg_table(dir);
  const char *scan = iceberg ? "SELECT * FROM iceberg_scan(" : "SELECT * FROM delta_scan(";
  int rc = tarn_buf_append(&q, scan, strlen(scan), &err);
  if (rc == 0) rc = sql_quoted(&q, dir, &err);
  if (rc == 0 && as_of && iceberg && !is_version(as_of))
    rc = tarn_err(&err, TARN_EINVAL, "--as-of on an Iceberg table takes a snapshot id");
  if (rc == 0 && as_of) {
    bool v = is_version(as_of);
    const char *opt = iceberg ? ", snapshot_from_id => " : v ? ", version => " : ", timestamp => ";
    rc = tarn_buf_append(&q, opt, strlen(opt), &err);
    if (rc == 0)
      rc = v ? tarn_buf_append(&q, as_of, strlen(as_of), &err) : sql_quoted(&q, as_of, &err);
  }
  char tail[64];
  if (limit > 0 || limit_zero)
    snprintf(tail, sizeof tail, ") LIMIT %lld", limit);
  else
    snprintf(tail, sizeof tail, ")");
  if (rc == 0) rc = tarn_buf_append(&q, tail, strlen(tail) + 1, &err); /* with its NUL */
  sql_engine *e = NULL;
  sql_engine_options eo = {0};
  if (rc == 0) rc = sql_engine_open(&eo, &e, &err);
  sql_result_sink sink = {cat_begin, cat_batch, cat_end, cat_status, &c};
  if (rc == 0) rc = sql_engine_exec(e, (const char *)q.data, &sink, &err);
  col_printer_free(c.printer);
  sql_engine_close(e);
  tarn_buf_free(&q);
  if (fflush(stdout) != 0 && rc == 0) {
    err.code = TARN_EIO;
    snprintf(err.message, sizeof err.message, "writing output: %s", strerror(errno));
    rc = TARN_EIO;
  }
  return rc ? report(&err) : 0;
}

/* Milliseconds since the epoch as the canonical UTC timestamp text. */
static void ms_text(int64_t ms, char *out, size_t cap) {
  int64_t s = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  int64_t frac = ms - s * 1000;
  time_t t = (time_t)s;
  struct tm tm;
  gmtime_r(&t, &tm);
  snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long long)frac * 1000);
}

static int cmp_commit_time(const void *x, const void *y) {
  const delta_commit *a = x, *b = y;
  if (a->timestamp_ms != b->timestamp_ms) return a->timestamp_ms < b->timestamp_ms ? -1 : 1;
  return 0;
}

/* An Iceberg table's snapshots as history rows, oldest first: version = snapshot id, the
 * summary's operation, the whole summary as the parameters. */
static int iceberg_history(const char *path, tarn_arena *a, delta_commit **out, size_t *n,
                           tarn_error *err) {
  iceberg_table *t = NULL;
  int rc = iceberg_table_open(path, NULL, &t, err);
  if (rc) return rc;
  const iceberg_meta *m = iceberg_table_meta(t);
  delta_commit *c = tarn_arena_calloc(a, m->n_snapshots + 1, sizeof *c);
  if (c == NULL) rc = tarn_err(err, TARN_ENOMEM, "out of memory");
  tarn_buf json = {0};
  for (size_t i = 0; rc == 0 && i < m->n_snapshots; i++) {
    const iceberg_snapshot *s = &m->snapshots[i];
    json.len = 0;
    rc = tarn_buf_append(&json, "{", 1, err);
    for (size_t k = 0; rc == 0 && k < s->n_summary; k++) {
      if (k) rc = tarn_buf_append(&json, ",", 1, err);
      if (rc == 0)
        rc = tarn_json_string(&json, s->summary_keys[k], strlen(s->summary_keys[k]), err);
      if (rc == 0) rc = tarn_buf_append(&json, ":", 1, err);
      if (rc == 0)
        rc = tarn_json_string(&json, s->summary_values[k], strlen(s->summary_values[k]), err);
    }
    if (rc == 0) rc = tarn_buf_append(&json, "}", 1, err);
    c[i].version = s->snapshot_id;
    c[i].timestamp_ms = s->timestamp_ms;
    c[i].operation =
        s->operation ? tarn_arena_strndup(a, s->operation, strlen(s->operation)) : NULL;
    c[i].parameters_json = rc ? NULL : tarn_arena_strndup(a, (const char *)json.data, json.len);
    if (rc == 0 && c[i].parameters_json == NULL) rc = tarn_err(err, TARN_ENOMEM, "out of memory");
  }
  tarn_buf_free(&json);
  if (rc == 0) {
    qsort(c, m->n_snapshots, sizeof *c, cmp_commit_time);
    *out = c;
    *n = m->n_snapshots;
  }
  iceberg_table_close(t);
  return rc;
}

int cli_table_history(const char *dir, const char *format) {
  tarn_error err = {0};
  tarn_arena a = {0};
  delta_commit *commits = NULL;
  size_t n = 0;
  int rc = sql_is_iceberg_table(dir) ? iceberg_history(dir, &a, &commits, &n, &err)
                                     : delta_history(dir, &a, &commits, &n, &err);
  bool jsonl = format && strcmp(format, "jsonl") == 0;
  if (rc == 0 && !jsonl)
    printf("%-8s  %-27s  %-20s  %s\n", "version", "timestamp", "operation", "parameters");
  tarn_buf line = {0};
  for (size_t i = 0; rc == 0 && i < n; i++) {
    char ts[48];
    ms_text(commits[i].timestamp_ms, ts, sizeof ts);
    const char *op = commits[i].operation ? commits[i].operation : "";
    const char *params = commits[i].parameters_json ? commits[i].parameters_json : "{}";
    if (!jsonl) {
      printf("%-8lld  %-27s  %-20s  %s\n", (long long)commits[i].version, ts, op, params);
      continue;
    }
    line.len = 0;
    char head[96];
    snprintf(head, sizeof head,
             "{\"version\":%lld,\"timestamp\":\"%s\",\"operation\":", (long long)commits[i].version,
             ts);
    rc = tarn_buf_append(&line, head, strlen(head), &err);
    if (rc == 0 && commits[i].operation)
      rc = tarn_json_string(&line, op, strlen(op), &err);
    else if (rc == 0)
      rc = tarn_buf_append(&line, "null", 4, &err);
    if (rc == 0) rc = tarn_buf_append(&line, ",\"parameters\":", 14, &err);
    if (rc == 0) rc = tarn_json_string(&line, params, strlen(params), &err);
    if (rc == 0) rc = tarn_buf_append(&line, "}\n", 2, &err);
    if (rc == 0) fwrite(line.data, 1, line.len, stdout);
  }
  tarn_buf_free(&line);
  tarn_arena_free(&a);
  if (fflush(stdout) != 0 && rc == 0) {
    err.code = TARN_EIO;
    snprintf(err.message, sizeof err.message, "writing output: %s", strerror(errno));
    rc = TARN_EIO;
  }
  return rc ? report(&err) : 0;
}

/* Appends a JSON array of strings. */
static int json_strings(tarn_buf *b, const char *const *s, size_t n, tarn_error *err) {
  int rc = tarn_buf_append(b, "[", 1, err);
  for (size_t i = 0; rc == 0 && i < n; i++) {
    if (i) rc = tarn_buf_append(b, ",", 1, err);
    if (rc == 0) rc = tarn_json_string(b, s[i], strlen(s[i]), err);
  }
  if (rc == 0) rc = tarn_buf_append(b, "]", 1, err);
  return rc;
}

/* `tarn meta` / `tarn schema` on an Iceberg table or metadata file: the metadata summarised as
 * one JSON object (meta) or the current schema's columns (schema). Metadata that does not parse
 * or validate is corrupt input (exit 4), whatever the reason. */
static int iceberg_describe(const char *path, bool meta) {
  tarn_error err = {0};
  iceberg_table *t = NULL;
  int rc = iceberg_table_open(path, NULL, &t, &err);
  if (rc) {
    if (rc != TARN_EIO && rc != TARN_ENOMEM) err.code = TARN_ECORRUPT;
    return report(&err);
  }
  const iceberg_meta *m = iceberg_table_meta(t);
  const iceberg_schema *sc = iceberg_meta_current_schema(m);
  tarn_buf b = {0};
  char num[96];
  snprintf(num, sizeof num,
           "{\"format\":\"iceberg\",\"format_version\":%d,\"location\":", m->format_version);
  rc = tarn_buf_append(&b, num, strlen(num), &err);
  if (!meta) {
    b.len = 0;
    rc = tarn_buf_append(&b, "{\"columns\":[", 12, &err);
  } else if (rc == 0) {
    rc = tarn_json_string(&b, m->location ? m->location : "", m->location ? strlen(m->location) : 0,
                          &err);
    snprintf(num, sizeof num, ",\"current_snapshot_id\":%lld,\"snapshots\":%zu,\"columns\":[",
             (long long)m->current_snapshot_id, m->n_snapshots);
    if (rc == 0) rc = tarn_buf_append(&b, num, strlen(num), &err);
  }
  for (size_t i = 0; rc == 0 && sc && sc->type && i < sc->type->n_fields; i++) {
    const iceberg_field *f = &sc->type->fields[i];
    if (i) rc = tarn_buf_append(&b, ",", 1, &err);
    if (rc == 0) rc = tarn_json_string(&b, f->name, strlen(f->name), &err);
  }
  if (rc == 0) rc = tarn_buf_append(&b, "]}\n", 3, &err);
  if (rc == 0) fwrite(b.data, 1, b.len, stdout);
  tarn_buf_free(&b);
  iceberg_table_close(t);
  return rc ? report(&err) : 0;
}

int cli_table_describe(const char *dir, const char *as_of, bool meta) {
  if (sql_is_iceberg_table(dir)) return iceberg_describe(dir, meta);
  tarn_error err = {0};
  delta_snapshot *s = NULL;
  int rc = 0;
  if (as_of && is_version(as_of))
    rc = delta_snapshot_load(dir, strtoll(as_of, NULL, 10), &s, &err);
  else
    rc = delta_snapshot_load(dir, -1, &s, &err);
  if (rc) return report(&err);
  tarn_buf b = {0};
  if (!meta) {
    /* The schema as the log states it. */
    rc = tarn_buf_append(&b, s->schema_string, strlen(s->schema_string), &err);
  } else {
    char head[256];
    snprintf(head, sizeof head,
             "{\"format\":\"delta\",\"version\":%lld,\"protocol\":{\"minReaderVersion\":%d,"
             "\"minWriterVersion\":%d,\"readerFeatures\":",
             (long long)s->version, s->min_reader_version, s->min_writer_version);
    rc = tarn_buf_append(&b, head, strlen(head), &err);
    if (rc == 0) rc = json_strings(&b, s->reader_features, s->n_reader_features, &err);
    if (rc == 0) rc = tarn_buf_append(&b, ",\"writerFeatures\":", 18, &err);
    if (rc == 0) rc = json_strings(&b, s->writer_features, s->n_writer_features, &err);
    if (rc == 0) rc = tarn_buf_append(&b, "},\"metadata\":{\"id\":", 19, &err);
    const char *id = s->metadata_id ? s->metadata_id : "";
    if (rc == 0) rc = tarn_json_string(&b, id, strlen(id), &err);
    if (rc == 0) rc = tarn_buf_append(&b, ",\"partitionColumns\":", 20, &err);
    if (rc == 0) rc = json_strings(&b, s->partition_columns, s->n_partition_columns, &err);
    if (rc == 0) rc = tarn_buf_append(&b, ",\"configuration\":{", 18, &err);
    for (size_t i = 0; rc == 0 && i < s->n_config; i++) {
      if (i) rc = tarn_buf_append(&b, ",", 1, &err);
      if (rc == 0) rc = tarn_json_string(&b, s->config_keys[i], strlen(s->config_keys[i]), &err);
      if (rc == 0) rc = tarn_buf_append(&b, ":", 1, &err);
      if (rc == 0)
        rc = tarn_json_string(&b, s->config_values[i], strlen(s->config_values[i]), &err);
    }
    int64_t bytes = 0;
    for (size_t i = 0; i < s->n_files; i++)
      bytes += s->files[i].size;
    char tail[160];
    snprintf(tail, sizeof tail, "},\"schemaString\":");
    if (rc == 0) rc = tarn_buf_append(&b, tail, strlen(tail), &err);
    if (rc == 0) rc = tarn_json_string(&b, s->schema_string, strlen(s->schema_string), &err);
    snprintf(tail, sizeof tail, "},\"files\":%zu,\"bytes\":%lld}", s->n_files, (long long)bytes);
    if (rc == 0) rc = tarn_buf_append(&b, tail, strlen(tail), &err);
  }
  if (rc == 0) rc = tarn_buf_append(&b, "\n", 1, &err);
  if (rc == 0) fwrite(b.data, 1, b.len, stdout);
  tarn_buf_free(&b);
  delta_snapshot_free(s);
  return rc ? report(&err) : 0;
}

/* ---- Maintenance ------------------------------------------------------------------------------
 */

/* A usage error (exit 2), worded as the command's other usage errors are. */
static int usage(const char *fmt, const char *arg) {
  fprintf(stderr, "tarn: error: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, " (see 'tarn --help')\n");
  return 2;
}

static int not_a_table(const char *dir) {
  fprintf(stderr, "tarn: error: %s is not a table directory (no _delta_log)\n", dir);
  return 1;
}

int cli_table_vacuum(int argc, char **argv) {
  const char *dir = NULL;
  delta_vacuum_options o = {.retention_ms = -1};
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      puts("usage: tarn vacuum TABLE [--retain HOURS] [--dry-run] [--force]");
      return 0;
    } else if (strcmp(a, "--dry-run") == 0) {
      o.dry_run = true;
    } else if (strcmp(a, "--force") == 0) {
      o.force = true;
    } else if (strcmp(a, "--retain") == 0) {
      if (i + 1 >= argc) return usage("%s needs a number of hours", a);
      const char *v = argv[++i];
      char *end = NULL;
      errno = 0;
      double hours = strtod(v, &end);
      /* at most about a million years, so the milliseconds fit */
      if (end == v || *end || errno || !isfinite(hours) || hours < 0 || hours > 1e10)
        return usage("--retain needs a non-negative number of hours, not '%s'", v);
      o.retention_ms = (int64_t)llround(hours * 3600000.0);
    } else if (a[0] == '-' && a[1]) {
      return usage("unknown option '%s'", a);
    } else if (dir == NULL) {
      dir = a;
    } else {
      return usage("unexpected argument '%s'", a);
    }
  }
  if (dir == NULL) return usage("vacuum needs TABLE%s", "");
  if (!cli_is_table(dir)) return not_a_table(dir);
  tarn_error err = {0};
  delta_vacuum_result r;
  int rc = delta_vacuum(dir, &o, &r, &err);
  /* What was deleted is printed even when a later deletion failed: those files are gone. */
  size_t dl = strlen(dir);
  while (dl > 1 && dir[dl - 1] == '/')
    dl--;
  for (size_t i = 0; i < r.n_paths; i++)
    printf("%.*s/%s\n", (int)dl, dir, r.paths[i]);
  if (fflush(stdout) != 0 && rc == 0) {
    err.code = TARN_EIO;
    snprintf(err.message, sizeof err.message, "writing output: %s", strerror(errno));
    rc = TARN_EIO;
  }
  if (rc == 0)
    fprintf(stderr,
            "tarn: vacuum: %s %zu file%s (%lld bytes) and %zu empty director%s in %s "
            "(version %lld, retention %.6g hours)\n",
            o.dry_run ? "would delete" : "deleted", r.n_paths, r.n_paths == 1 ? "" : "s",
            (long long)r.bytes, r.n_dirs, r.n_dirs == 1 ? "y" : "ies", dir, (long long)r.version,
            (double)r.retention_ms / 3600000.0);
  delta_vacuum_result_free(&r);
  return rc ? report(&err) : 0;
}

int cli_table_restore(int argc, char **argv) {
  const char *dir = NULL, *version = NULL, *when = NULL;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      puts("usage: tarn restore TABLE --version N | --timestamp TIME");
      return 0;
    } else if (strcmp(a, "--version") == 0 || strcmp(a, "--timestamp") == 0) {
      if (i + 1 >= argc) return usage("%s needs a value", a);
      if (version || when) return usage("give one of --version and --timestamp%s", "");
      *(a[2] == 'v' ? &version : &when) = argv[++i];
    } else if (a[0] == '-' && a[1]) {
      return usage("unknown option '%s'", a);
    } else if (dir == NULL) {
      dir = a;
    } else {
      return usage("unexpected argument '%s'", a);
    }
  }
  if (dir == NULL) return usage("restore needs TABLE%s", "");
  if (version == NULL && when == NULL)
    return usage("restore needs --version N or --timestamp TIME%s", "");
  if (version && !is_version(version))
    return usage("--version needs a version number, not '%s'", version);
  if (!cli_is_table(dir)) return not_a_table(dir);
  tarn_error err = {0};
  int64_t v = -1, at = INT64_MIN;
  int rc = 0;
  if (version) {
    errno = 0;
    long long n = strtoll(version, NULL, 10);
    if (errno) return usage("--version %s is out of range", version);
    v = n;
  } else {
    rc = sql_parse_time_ms(when, &at, &err);
  }
  delta_restore_result r;
  if (rc == 0) rc = delta_restore(dir, v, at, &r, &err);
  if (rc) return report(&err);
  printf("restored %s to version %lld as version %lld: %zu file%s removed, %zu restored\n", dir,
         (long long)r.restored_version, (long long)r.version, r.n_removed,
         r.n_removed == 1 ? "" : "s", r.n_restored);
  if (fflush(stdout) != 0) {
    fprintf(stderr, "tarn: error: writing output: %s\n", strerror(errno));
    return 5;
  }
  return 0;
}

int cli_table_checkpoint(int argc, char **argv) {
  if (argc == 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
    puts("usage: tarn checkpoint TABLE   (writes a checkpoint of the latest version)");
    return 0;
  }
  if (argc != 1 || argv[0][0] == '-') return usage("checkpoint needs TABLE%s", "");
  const char *dir = argv[0];
  if (!cli_is_table(dir)) return not_a_table(dir);
  tarn_error err = {0};
  delta_snapshot *s = NULL;
  int rc = delta_snapshot_load(dir, -1, &s, &err);
  if (rc == 0) rc = delta_checkpoint_write(s, &err);
  if (rc == 0) printf("checkpoint of %s at version %lld\n", dir, (long long)s->version);
  delta_snapshot_free(s);
  return rc ? report(&err) : 0;
}

/* A byte count: digits with an optional binary unit (k, m, g, t, optionally followed by b). */
static bool parse_bytes(const char *text, int64_t *out) {
  char *end = NULL;
  errno = 0;
  long long v = strtoll(text, &end, 10);
  if (end == text || errno || v <= 0 || text[0] == '-' || text[0] == '+') return false;
  int shift = 0;
  switch (*end) {
  case 'k':
  case 'K': shift = 10; break;
  case 'm':
  case 'M': shift = 20; break;
  case 'g':
  case 'G': shift = 30; break;
  case 't':
  case 'T': shift = 40; break;
  default: break;
  }
  if (shift) end++;
  if (*end == 'b' || *end == 'B') end++;
  if (*end || v > (INT64_MAX >> shift)) return false;
  *out = (int64_t)v << shift;
  return true;
}

int cli_table_optimize(int argc, char **argv) {
  const char *dir = NULL, *zorder = NULL;
  int64_t mem_limit = 0;
  sql_delta_optimize_options o;
  memset(&o, 0, sizeof o);
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      puts("usage: tarn optimize TABLE [--zorder a,b] [--target-size BYTES] [--read-version N]\n"
           "                     [--memory-limit BYTES]");
      return 0;
    } else if (strcmp(a, "--zorder") == 0 || strcmp(a, "--target-size") == 0 ||
               strcmp(a, "--read-version") == 0 || strcmp(a, "--memory-limit") == 0) {
      if (i + 1 >= argc) return usage("%s needs a value", a);
      const char *v = argv[++i];
      if (a[2] == 'm') {
        if (!parse_bytes(v, &mem_limit))
          return usage("--memory-limit needs a positive number of bytes (as 512m), not '%s'", v);
      } else if (a[2] == 'z') {
        zorder = v;
      } else if (a[2] == 't') {
        if (!parse_bytes(v, &o.target_file_size))
          return usage("--target-size needs a positive number of bytes (as 1048576 or 1m), "
                       "not '%s'",
                       v);
      } else {
        if (!is_version(v)) return usage("--read-version needs a version number, not '%s'", v);
        errno = 0;
        long long n = strtoll(v, NULL, 10);
        if (errno) return usage("--read-version %s is out of range", v);
        o.at_version = true;
        o.version = n;
      }
    } else if (a[0] == '-' && a[1]) {
      return usage("unknown option '%s'", a);
    } else if (dir == NULL) {
      dir = a;
    } else {
      return usage("unexpected argument '%s'", a);
    }
  }
  if (dir == NULL) return usage("optimize needs TABLE%s", "");
  /* --zorder a,b: the names split at commas, spaces around them trimmed. */
  char *names = zorder ? strdup(zorder) : NULL;
  const char **cols = zorder ? calloc(strlen(zorder) + 1, sizeof *cols) : NULL;
  if (zorder && (names == NULL || cols == NULL)) {
    free(names);
    free(cols);
    fprintf(stderr, "tarn: error: out of memory\n");
    return 4;
  }
  for (char *p = names, *next; p; p = next) {
    next = strchr(p, ',');
    if (next) *next++ = 0;
    while (*p == ' ')
      p++;
    size_t len = strlen(p);
    while (len && p[len - 1] == ' ')
      p[--len] = 0;
    if (len == 0) {
      free(names);
      free(cols);
      return usage("--zorder needs column names separated by commas, not '%s'", zorder);
    }
    cols[o.n_zorder++] = p;
  }
  o.zorder_cols = cols;
  if (!cli_is_table(dir)) {
    free(names);
    free(cols);
    return not_a_table(dir);
  }
  /* An execution context as the SQL engine makes one: two threads, most of memory (or
   * --memory-limit), sorts spilling to $TMPDIR. */
  tarn_error err = {0};
  sql_exec_ctx x;
  memset(&x, 0, sizeof x);
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  const char *tmp = getenv("TMPDIR");
  x.err = &err;
  x.n_threads = cores >= 2 ? 2 : 1;
  x.mem_limit = mem_limit ? mem_limit : pages > 0 && page > 0 ? (int64_t)pages * page / 10 * 8 : 0;
  x.tmp_dir = tmp && *tmp ? tmp : "/tmp";
  sql_plan_ctx pc;
  memset(&pc, 0, sizeof pc);
  sql_delta_optimize_result r;
  int rc = sql_delta_optimize(&x, &pc, dir, &o, &r, &err);
  tarn_arena_free(&pc.arena);
  free(names);
  free(cols);
  if (rc) return report(&err);
  if (r.version < 0)
    printf("nothing to optimize in %s\n", dir);
  else
    printf("optimized %s as version %lld: %lld file%s removed (%lld bytes), %lld added (%lld "
           "bytes), %lld rows in %lld partition%s\n",
           dir, (long long)r.version, (long long)r.files_removed, r.files_removed == 1 ? "" : "s",
           (long long)r.bytes_removed, (long long)r.files_added, (long long)r.bytes_added,
           (long long)r.rows_rewritten, (long long)r.partitions_optimized,
           r.partitions_optimized == 1 ? "" : "s");
  if (fflush(stdout) != 0) {
    fprintf(stderr, "tarn: error: writing output: %s\n", strerror(errno));
    return 5;
  }
  return 0;
}
