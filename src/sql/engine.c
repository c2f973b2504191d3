/*
 * The engine (see engine.h): for each statement, parse → bind → optimize → run, and deliver the
 * rows in the Arrow C Data Interface so every consumer (the shell's printers, the Parquet writer
 * behind CREATE TABLE AS and COPY) takes the same form.
 *
 * CREATE TABLE AS writes a directory of Parquet files under the warehouse: it is built under a
 * temporary name and renamed into place, so a failed statement leaves no half-written table.
 * (The table formats replace this layout with Delta, Iceberg and Hudi tables.)
 */
#include "sql/engine.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "columnar/arrow.h"
#include "columnar/format.h"
#include "common/error.h"
#include "sql/binder.h"
#include "sql/delta_call.h"
#include "sql/delta_dml.h"
#include "sql/delta_write.h"
#include "sql/exec.h"
#include "sql/optimizer.h"
#include "table/delta/delta_commit.h"
#include "table/delta/delta_log.h"

struct sql_engine {
  char *warehouse;
  int threads;
  int64_t memory_limit;
  char *tmp_dir;
  bool deny_files;
  /* SET delta.write.txnAppId / txnVersion: the application transaction of the next write */
  char *txn_app_id;
  int64_t txn_version;    /* -1: unset */
  bool auto_merge;        /* SET delta.schema.autoMerge.enabled: INSERT may add columns */
  bool dynamic_overwrite; /* SET partitionOverwriteMode = dynamic */
};

int sql_engine_open(const sql_engine_options *opts, sql_engine **out, tarn_error *err) {
  sql_engine *e = calloc(1, sizeof *e);
  if (e == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  e->threads = opts && opts->threads > 0 ? opts->threads : (cores > 0 ? (int)cores : 1);
  if (e->threads > 64) e->threads = 64;
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  e->memory_limit = opts && opts->memory_limit > 0 ? opts->memory_limit
                    : pages > 0 && page > 0        ? (int64_t)pages * page / 10 * 8
                                                   : 0;
  const char *tmp = opts && opts->tmp_dir ? opts->tmp_dir : getenv("TMPDIR");
  e->tmp_dir = strdup(tmp && *tmp ? tmp : "/tmp");
  e->deny_files = opts && opts->deny_files;
  e->txn_version = -1;
  if (opts && opts->warehouse) {
    struct stat st;
    if (stat(opts->warehouse, &st) != 0 || !S_ISDIR(st.st_mode)) {
      if (mkdir(opts->warehouse, 0777) != 0 && errno != EEXIST) {
        free(e->tmp_dir);
        free(e);
        return tarn_err(err, TARN_EIO, "cannot create warehouse %s: %s", opts->warehouse,
                        strerror(errno));
      }
    }
    e->warehouse = strdup(opts->warehouse);
  } else if (!(opts && opts->deny_files)) {
    e->warehouse = strdup("."); /* zero configuration: the current directory is the warehouse */
  }
  *out = e;
  return 0;
}

void sql_engine_close(sql_engine *e) {
  if (e == NULL) return;
  free(e->warehouse);
  free(e->tmp_dir);
  free(e->txn_app_id);
  free(e);
}

static int64_t now_micros(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The Arrow struct schema of a plan's output. */
static int plan_schema(const sql_plan *p, struct ArrowSchema *out, tarn_error *err) {
  int rc = col_schema_init(out, "+s", "", 0, (int64_t)p->n_out, NULL, 0, err);
  for (size_t i = 0; rc == 0 && i < p->n_out; i++)
    rc = sql_type_to_arrow(p->out_types[i], p->out_names[i], out->children[i], err);
  if (rc && out->release) out->release(out);
  return rc;
}

/* --- Sinks
 * ----------------------------------------------------------------------------------------- */

typedef struct client_sink {
  const sql_result_sink *sink;
  int64_t rows;
} client_sink;

static int to_client(void *arg, sql_batch *b, tarn_error *err) {
  client_sink *c = arg;
  struct ArrowArray arr;
  memset(&arr, 0, sizeof arr);
  int rc = sql_batch_to_arrow(b, &arr, err);
  c->rows += b->n_rows;
  sql_batch_free(b);
  if (rc) return rc;
  if (c->sink && c->sink->batch) rc = c->sink->batch(c->sink->arg, &arr, err);
  if (arr.release) arr.release(&arr);
  return rc;
}

typedef struct writer_sink {
  tarn_parquet_writer *w;
  col_printer *printer;
  int64_t rows;
  const bool *not_null;     /* per column: NULL values are refused (or NULL: no check) */
  const char *const *names; /* column names, for that message */
} writer_sink;

static int to_writer(void *arg, sql_batch *b, tarn_error *err) {
  writer_sink *ws = arg;
  for (uint32_t c = 0; ws->not_null && c < b->n_cols; c++) {
    if (!ws->not_null[c] || b->cols[c].nulls == NULL) continue;
    for (uint32_t i = 0; i < b->n_rows; i++)
      if (b->cols[c].nulls[i]) {
        sql_batch_free(b);
        return tarn_err(err, TARN_EINVAL,
                        "null value in column \"%s\" violates not-null constraint", ws->names[c]);
      }
  }
  struct ArrowArray arr;
  memset(&arr, 0, sizeof arr);
  int rc = sql_batch_to_arrow(b, &arr, err);
  ws->rows += b->n_rows;
  sql_batch_free(b);
  if (rc) return rc;
  if (ws->w)
    rc = tarn_parquet_writer_write(ws->w, &arr, err);
  else
    rc = col_printer_write(ws->printer, &arr, err);
  if (arr.release) arr.release(&arr);
  return rc;
}

static int count_rows(void *arg, sql_batch *b, tarn_error *err) {
  (void)err;
  *(int64_t *)arg += b->n_rows;
  sql_batch_free(b);
  return 0;
}

static void exec_ctx_init(sql_engine *e, sql_exec_ctx *x, int64_t now, bool analyze,
                          tarn_error *err) {
  memset(x, 0, sizeof *x);
  x->err = err;
  x->now_micros = now;
  x->n_threads = e->threads;
  x->mem_limit = e->memory_limit;
  x->tmp_dir = e->tmp_dir;
  x->analyze = analyze;
}

/* Writes the plan's rows to a Parquet file at path (temp + rename inside the writer). */
static int write_parquet(sql_engine *e, sql_plan *plan, const char *path, int64_t now,
                         const bool *not_null, int64_t *rows, tarn_error *err) {
  struct ArrowSchema schema;
  memset(&schema, 0, sizeof schema);
  int rc = plan_schema(plan, &schema, err);
  if (rc) return rc;
  writer_sink ws = {.not_null = not_null, .names = (const char *const *)plan->out_names};
  tarn_write_options wo;
  memset(&wo, 0, sizeof wo);
  rc = tarn_parquet_writer_open(path, &schema, &wo, &ws.w, err);
  if (rc == 0) {
    sql_exec_ctx x;
    exec_ctx_init(e, &x, now, false, err);
    rc = sql_exec_run(&x, plan, to_writer, &ws);
    if (rc == 0)
      rc = tarn_parquet_writer_close(ws.w, NULL, err);
    else
      tarn_parquet_writer_abort(ws.w);
  }
  schema.release(&schema);
  *rows = ws.rows;
  return rc;
}

static int write_csv(sql_engine *e, sql_plan *plan, const char *path, int64_t now, int64_t *rows,
                     tarn_error *err) {
  struct ArrowSchema schema;
  memset(&schema, 0, sizeof schema);
  int rc = plan_schema(plan, &schema, err);
  if (rc) return rc;
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp-%d", path, (int)getpid());
  FILE *f = fopen(tmp, "w");
  if (f == NULL) {
    schema.release(&schema);
    return tarn_err(err, TARN_EIO, "cannot create %s: %s", path, strerror(errno));
  }
  writer_sink ws = {0};
  rc = col_printer_create(COL_FORMAT_CSV, f, &schema, &ws.printer, err);
  if (rc == 0) {
    sql_exec_ctx x;
    exec_ctx_init(e, &x, now, false, err);
    rc = sql_exec_run(&x, plan, to_writer, &ws);
    if (rc == 0) rc = col_printer_finish(ws.printer, err);
    col_printer_free(ws.printer);
  }
  if (fclose(f) != 0 && rc == 0) rc = tarn_err(err, TARN_EIO, "cannot write %s", path);
  if (rc == 0 && rename(tmp, path) != 0)
    rc = tarn_err(err, TARN_EIO, "cannot rename into %s: %s", path, strerror(errno));
  if (rc) unlink(tmp);
  schema.release(&schema);
  *rows = ws.rows;
  return rc;
}

/* Reports a statement without rows: "SELECT 42", "COPY 1000", or the tag alone when n < 0. */
static int status(const sql_result_sink *sink, tarn_error *err, const char *tag, long long n) {
  char line[128];
  if (n < 0)
    snprintf(line, sizeof line, "%s", tag);
  else
    snprintf(line, sizeof line, "%s %lld", tag, n);
  if (sink && sink->status) return sink->status(sink->arg, line, err);
  return 0;
}

/* A small result table of bigint ('l') and text ('u') columns, sent to the sink in one batch:
 * CALL's answers, and EXPLAIN's lines as one text column. */
static int table_result(const sql_result_sink *sink, const sql_call_result *r, tarn_error *err) {
  struct ArrowSchema schema;
  memset(&schema, 0, sizeof schema);
  int rc = col_schema_init(&schema, "+s", "", 0, (int64_t)r->n_cols, NULL, 0, err);
  for (size_t c = 0; rc == 0 && c < r->n_cols; c++)
    rc = col_schema_init(schema.children[c], r->kinds[c] == 'l' ? "l" : "u", r->names[c], 2, 0,
                         NULL, 0, err);
  if (rc) {
    if (schema.release) schema.release(&schema);
    return rc;
  }
  if (sink && sink->begin) rc = sink->begin(sink->arg, &schema, err);
  struct ArrowArray arr;
  memset(&arr, 0, sizeof arr);
  size_t n = r->n_rows;
  if (rc == 0) rc = col_array_init(&arr, 1, (int64_t)r->n_cols, err);
  for (size_t c = 0; rc == 0 && c < r->n_cols; c++) {
    struct ArrowArray *col = arr.children[c];
    bool text = r->kinds[c] != 'l';
    rc = col_array_init(col, text ? 3 : 2, 0, err);
    if (rc) break;
    col->length = (int64_t)n;
    if (!text) {
      int64_t *vals = malloc((n + 1) * sizeof *vals);
      if (vals == NULL) {
        rc = tarn_err(err, TARN_ENOMEM, "out of memory");
        break;
      }
      for (size_t i = 0; i < n; i++)
        vals[i] = r->num[i * r->n_cols + c];
      col->buffers[1] = vals;
      continue;
    }
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++)
      bytes += r->text[i * r->n_cols + c] ? strlen(r->text[i * r->n_cols + c]) : 0;
    if (bytes > INT32_MAX) {
      rc = tarn_err(err, TARN_EINVAL, "result text too large");
      break;
    }
    int32_t *offs = malloc((n + 1) * sizeof *offs);
    char *data = malloc(bytes + 1);
    col->buffers[1] = offs;
    col->buffers[2] = data;
    if (offs == NULL || data == NULL) {
      rc = tarn_err(err, TARN_ENOMEM, "out of memory");
      break;
    }
    size_t at = 0;
    offs[0] = 0;
    for (size_t i = 0; i < n; i++) {
      const char *t = r->text[i * r->n_cols + c];
      size_t len = t ? strlen(t) : 0;
      memcpy(data + at, t ? t : "", len);
      at += len;
      offs[i + 1] = (int32_t)at;
    }
  }
  if (rc == 0) {
    arr.length = (int64_t)n;
    if (sink && sink->batch && n) rc = sink->batch(sink->arg, &arr, err);
  }
  if (arr.release) arr.release(&arr);
  if (rc == 0 && sink && sink->end) rc = sink->end(sink->arg, err);
  schema.release(&schema);
  return rc;
}

/* A one-column result of text lines (EXPLAIN). */
static int text_result(const sql_result_sink *sink, const char *column, const char *text,
                       tarn_error *err) {
  size_t n = 0;
  for (const char *p = text; *p; n++) {
    const char *nl = strchr(p, '\n');
    p = nl ? nl + 1 : p + strlen(p);
  }
  char *copy = strdup(text);
  const char **lines = calloc(n + 1, sizeof *lines);
  if (copy == NULL || lines == NULL) {
    free(copy);
    free(lines);
    return tarn_err(err, TARN_ENOMEM, "out of memory");
  }
  size_t i = 0;
  for (char *p = copy; *p; i++) {
    lines[i] = p;
    char *nl = strchr(p, '\n');
    if (nl == NULL) break;
    *nl = 0;
    p = nl + 1;
  }
  const char *names[] = {column};
  sql_call_result r = {1, names, "u", n, lines, NULL};
  int rc = table_result(sink, &r, err);
  free(lines);
  free(copy);
  return rc;
}

static int parse_size(const char *s, int64_t *out) {
  char *end;
  double v = strtod(s, &end);
  if (end == s || v < 0) return -1;
  while (*end == ' ')
    end++;
  double mul = 1;
  if (strncasecmp(end, "k", 1) == 0)
    mul = 1024.0;
  else if (strncasecmp(end, "m", 1) == 0)
    mul = 1024.0 * 1024;
  else if (strncasecmp(end, "g", 1) == 0)
    mul = 1024.0 * 1024 * 1024;
  else if (strncasecmp(end, "t", 1) == 0)
    mul = 1024.0 * 1024 * 1024 * 1024;
  *out = (int64_t)(v * mul);
  return 0;
}

static int remove_tree(const char *path) {
  DIR *d = opendir(path);
  if (d) {
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
      if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0) continue;
      char p[4200];
      snprintf(p, sizeof p, "%s/%s", path, ent->d_name);
      struct stat st;
      if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
        remove_tree(p);
      else
        unlink(p);
    }
    closedir(d);
  }
  return rmdir(path);
}

/* CREATE TABLE ... USING delta AS query: version 0 holds the table's protocol, metadata and the
 * query's rows in one commit, so no reader sees it empty. */
static int ctas_delta(sql_engine *e, const sql_bound *bd, const char *dir, int64_t now,
                      int64_t *rows, tarn_error *err) {
  delta_txn *t = NULL;
  const sql_plan *p = bd->plan;
  int rc = sql_delta_create_txn(dir, bd->target, (const char *const *)p->out_names,
                                (const sql_type *const *)p->out_types, NULL, p->n_out,
                                bd->option_keys, bd->option_values, bd->n_options, &t, err);
  size_t n_parts = 0;
  const char *const *parts = rc ? NULL : delta_txn_partition_keys(t, &n_parts);
  if (rc == 0 && mkdir(dir, 0777) != 0 && errno != EEXIST)
    rc = tarn_err(err, TARN_EIO, "cannot create %s: %s", dir, strerror(errno));
  sql_exec_ctx x;
  exec_ctx_init(e, &x, now, false, err);
  if (rc == 0) rc = sql_delta_write_new(&x, bd->plan, t, dir, parts, n_parts, rows, err);
  if (rc == 0) rc = sql_delta_commit_create(t, bd->target, "CREATE TABLE AS SELECT", err);
  delta_txn_free(t);
  return rc;
}

/* SET delta.write.txnAppId = 'app' and SET delta.write.txnVersion = N (also with Spark's
 * spark.databricks. prefix; names arrive lower-cased): the application transaction of the next
 * write, which makes a retried write idempotent (delta_dml.h). */
static bool is_txn_setting(const char *name, const char *what) {
  static const char *const prefixes[] = {"delta.write.", "spark.databricks.delta.write."};
  for (size_t i = 0; i < 2; i++) {
    size_t n = strlen(prefixes[i]);
    if (strncmp(name, prefixes[i], n) == 0 && strcmp(name + n, what) == 0) return true;
  }
  return false;
}

/* Hands the pending application transaction to a write statement and clears it: each SET pair
 * covers one write, so a later write is not skipped by mistake. */
static void use_app_transaction(sql_engine *e, sql_bound *bd) {
  if (e->txn_app_id == NULL || e->txn_version < 0) return;
  bd->txn_app_id = e->txn_app_id;
  bd->txn_app_version = e->txn_version;
  e->txn_version = -1;
}

static int run_statement(sql_engine *e, const PgQuery__RawStmt *raw, const sql_result_sink *sink,
                         bool plan_only, char **plan_text, size_t *plan_len, tarn_error *err) {
  sql_plan_ctx pc;
  memset(&pc, 0, sizeof pc);
  int64_t now = now_micros();
  sql_binder_env env = {&pc, e->warehouse, now, err, e->deny_files, e->dynamic_overwrite};
  sql_bound bound;
  int rc = sql_bind_statement(&env, raw, &bound);
  if (rc == 0 && bound.plan) {
    sql_optimize_options oo = {e->threads};
    rc = sql_optimize(&pc, &bound.plan, &oo, err);
  }
  if (rc == 0 && plan_only) {
    if (bound.plan) rc = sql_plan_explain(bound.plan, false, plan_text, plan_len, err);
    tarn_arena_free(&pc.arena);
    return rc;
  }
  if (rc == 0) {
    switch (bound.kind) {
    case SQL_STMT_QUERY: {
      struct ArrowSchema schema;
      memset(&schema, 0, sizeof schema);
      rc = plan_schema(bound.plan, &schema, err);
      if (rc) break;
      if (sink && sink->begin) rc = sink->begin(sink->arg, &schema, err);
      client_sink cs = {sink, 0};
      if (rc == 0) {
        sql_exec_ctx x;
        exec_ctx_init(e, &x, now, false, err);
        rc = sql_exec_run(&x, bound.plan, to_client, &cs);
      }
      if (rc == 0 && sink && sink->end) rc = sink->end(sink->arg, err);
      schema.release(&schema);
      break;
    }
    case SQL_STMT_EXPLAIN: {
      if (bound.analyze) {
        int64_t rows = 0;
        sql_exec_ctx x;
        exec_ctx_init(e, &x, now, true, err);
        rc = sql_exec_run(&x, bound.plan, count_rows, &rows);
        if (rc) break;
      }
      char *text = NULL;
      size_t len = 0;
      rc = sql_plan_explain(bound.plan, bound.analyze, &text, &len, err);
      if (rc == 0) rc = text_result(sink, "QUERY PLAN", text ? text : "", err);
      free(text);
      break;
    }
    case SQL_STMT_CREATE: {
      if (e->warehouse == NULL) {
        rc = tarn_err(err, TARN_EINVAL, "CREATE TABLE needs a warehouse (tarn sql -w DIR)");
        break;
      }
      char dir[4096];
      snprintf(dir, sizeof dir, "%s/%s", e->warehouse, bound.target);
      struct stat st;
      if (stat(dir, &st) == 0) {
        rc = bound.if_not_exists
                 ? status(sink, err, "CREATE TABLE", -1)
                 : tarn_err(err, TARN_EINVAL, "relation \"%s\" already exists", bound.target);
        break;
      }
      rc = sql_delta_create_table(dir, bound.target, bound.col_names, bound.col_types,
                                  bound.col_nullable, bound.n_cols, bound.option_keys,
                                  bound.option_values, bound.n_options, err);
      if (rc == 0) rc = status(sink, err, "CREATE TABLE", -1);
      break;
    }
    case SQL_STMT_INSERT: {
      int64_t rows = 0;
      use_app_transaction(e, &bound);
      bound.auto_merge = e->auto_merge;
      sql_exec_ctx x;
      exec_ctx_init(e, &x, now, false, err);
      rc = sql_delta_insert(&x, &bound, &rows, err);
      if (rc == 0) rc = status(sink, err, "INSERT 0", (long long)rows);
      break;
    }
    case SQL_STMT_CALL: {
      sql_exec_ctx x;
      exec_ctx_init(e, &x, now, false, err);
      sql_call_result r;
      rc = sql_delta_call(&x, &pc, &bound, &r, err);
      if (rc == 0) rc = table_result(sink, &r, err);
      break;
    }
    case SQL_STMT_ALTER:
      rc = sql_delta_alter(bound.target_dir, bound.target, bound.alters, bound.n_alters, err);
      if (rc == 0) rc = status(sink, err, "ALTER TABLE", -1);
      break;
    case SQL_STMT_DML: {
      int64_t rows = 0;
      use_app_transaction(e, &bound);
      bound.auto_merge = e->auto_merge;
      sql_exec_ctx x;
      exec_ctx_init(e, &x, now, false, err);
      rc = sql_delta_dml(&x, &pc, &bound, &rows, err);
      /* INSERT OVERWRITE and REPLACE WHERE run as a MERGE but answer as the INSERT they are */
      const char *tag = strcmp(bound.dml_op, "WRITE") == 0 ? "INSERT 0" : bound.dml_op;
      if (rc == 0) rc = status(sink, err, tag, (long long)rows);
      break;
    }
    case SQL_STMT_CTAS: {
      if (e->warehouse == NULL) {
        rc = tarn_err(err, TARN_EINVAL, "CREATE TABLE needs a warehouse (tarn sql -w DIR)");
        break;
      }
      char dir[4096], tmp[4200], file[4300];
      snprintf(dir, sizeof dir, "%s/%s", e->warehouse, bound.target);
      struct stat st;
      if (stat(dir, &st) == 0) {
        if (bound.if_not_exists) {
          rc = status(sink, err, "CREATE TABLE AS", 0);
          break;
        }
        rc = tarn_err(err, TARN_EINVAL, "relation \"%s\" already exists", bound.target);
        break;
      }
      if (bound.using_format) {
        int64_t rows = 0;
        rc = ctas_delta(e, &bound, dir, now, &rows, err);
        if (rc == 0) rc = status(sink, err, "SELECT", (long long)rows);
        break;
      }
      snprintf(tmp, sizeof tmp, "%s/.%s.tmp-%d", e->warehouse, bound.target, (int)getpid());
      if (mkdir(tmp, 0777) != 0) {
        rc = tarn_err(err, TARN_EIO, "cannot create %s: %s", tmp, strerror(errno));
        break;
      }
      snprintf(file, sizeof file, "%s/part-00000.parquet", tmp);
      int64_t rows = 0;
      rc = write_parquet(e, bound.plan, file, now, NULL, &rows, err);
      if (rc == 0 && rename(tmp, dir) != 0)
        rc = tarn_err(err, TARN_EIO, "cannot create table %s: %s", dir, strerror(errno));
      if (rc) remove_tree(tmp);
      if (rc == 0) rc = status(sink, err, "SELECT", (long long)rows);
      break;
    }
    case SQL_STMT_COPY_TO: {
      int64_t rows = 0;
      if (e->deny_files) {
        rc = tarn_err(err, TARN_EINVAL, "writing files is disabled");
        break;
      }
      if (strcmp(bound.format, "csv") == 0)
        rc = write_csv(e, bound.plan, bound.target, now, &rows, err);
      else
        rc = write_parquet(e, bound.plan, bound.target, now, NULL, &rows, err);
      if (rc == 0) rc = status(sink, err, "COPY", (long long)rows);
      break;
    }
    case SQL_STMT_SET: {
      const char *v = bound.set_value ? bound.set_value : "";
      if (bound.set_name && (strcmp(bound.set_name, "threads") == 0 ||
                             strcmp(bound.set_name, "worker_threads") == 0)) {
        int n = atoi(v);
        if (n < 1 || n > 64)
          rc = tarn_err(err, TARN_EINVAL, "threads must be 1..64");
        else
          e->threads = n;
      } else if (bound.set_name && strcmp(bound.set_name, "memory_limit") == 0) {
        int64_t lim;
        if (parse_size(v, &lim) != 0)
          rc = tarn_err(err, TARN_EINVAL, "invalid memory_limit '%s'", v);
        else
          e->memory_limit = lim;
      } else if (bound.set_name &&
                 (strcmp(bound.set_name, "delta.schema.automerge.enabled") == 0 ||
                  strcmp(bound.set_name, "spark.databricks.delta.schema.automerge.enabled") == 0)) {
        if (strcasecmp(v, "true") != 0 && strcasecmp(v, "false") != 0)
          rc = tarn_err(err, TARN_EINVAL, "%s must be true or false", bound.set_name);
        e->auto_merge = strcasecmp(v, "true") == 0;
      } else if (bound.set_name &&
                 (strcmp(bound.set_name, "partitionoverwritemode") == 0 ||
                  strcmp(bound.set_name, "spark.sql.sources.partitionoverwritemode") == 0)) {
        if (strcasecmp(v, "dynamic") != 0 && strcasecmp(v, "static") != 0)
          rc = tarn_err(err, TARN_EINVAL, "partitionOverwriteMode must be static or dynamic");
        e->dynamic_overwrite = strcasecmp(v, "dynamic") == 0;
      } else if (bound.set_name && is_txn_setting(bound.set_name, "txnappid")) {
        free(e->txn_app_id);
        e->txn_app_id = *v ? strdup(v) : NULL;
        if (*v && e->txn_app_id == NULL) rc = tarn_err(err, TARN_ENOMEM, "out of memory");
      } else if (bound.set_name && is_txn_setting(bound.set_name, "txnversion")) {
        char *end;
        errno = 0;
        long long n = strtoll(v, &end, 10);
        if (errno || end == v || *end || n < 0)
          rc = tarn_err(err, TARN_EINVAL, "txnVersion must be a whole number >= 0, not '%s'", v);
        else
          e->txn_version = n;
      } else if (bound.set_name && (strcmp(bound.set_name, "timezone") == 0 ||
                                    strcmp(bound.set_name, "time zone") == 0)) {
        if (strcasecmp(v, "utc") != 0)
          rc = tarn_err(err, TARN_EUNSUPPORTED, "only the UTC time zone is supported");
      } else {
        rc = tarn_err(err, TARN_EINVAL, "unrecognized configuration parameter \"%s\"",
                      bound.set_name ? bound.set_name : "");
      }
      if (rc == 0) rc = status(sink, err, "SET", -1);
      break;
    }
    }
  }
  if (bound.plan) sql_plan_free_caches(bound.plan);
  tarn_arena_free(&pc.arena);
  return rc;
}

static int exec_all(sql_engine *e, const char *sql, const sql_result_sink *sink, bool plan_only,
                    char **text, tarn_error *err) {
  sql_parsed parsed;
  int rc = sql_parse(sql, &parsed, err);
  if (rc) return rc;
  size_t len = 0;
  for (size_t i = 0; rc == 0 && i < parsed.tree->n_stmts; i++) {
    rc = run_statement(e, parsed.tree->stmts[i], sink, plan_only, text, &len, err);
    if (rc && parsed.tree->n_stmts > 1) tarn_err_prefix(err, "statement %zu", i + 1);
  }
  sql_parsed_free(&parsed);
  return rc;
}

int sql_engine_exec(sql_engine *e, const char *sql, const sql_result_sink *sink, tarn_error *err) {
  return exec_all(e, sql, sink, false, NULL, err);
}

int sql_engine_plan_only(sql_engine *e, const char *sql, char **text, tarn_error *err) {
  *text = NULL;
  return exec_all(e, sql, NULL, true, text, err);
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int sql_engine_list_tables(sql_engine *e, char ***names, size_t *n, tarn_error *err) {
  *names = NULL;
  *n = 0;
  if (e->warehouse == NULL) return 0;
  DIR *d = opendir(e->warehouse);
  if (d == NULL)
    return tarn_err(err, TARN_EIO, "cannot list %s: %s", e->warehouse, strerror(errno));
  struct dirent *ent;
  size_t cap = 0;
  int rc = 0;
  while ((ent = readdir(d)) != NULL) {
    if (ent->d_name[0] == '.') continue;
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", e->warehouse, ent->d_name);
    struct stat st;
    if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) continue;
    if (*n == cap) {
      cap = cap ? cap * 2 : 16;
      char **nn = realloc(*names, cap * sizeof *nn);
      if (nn == NULL) {
        rc = tarn_err(err, TARN_ENOMEM, "out of memory");
        break;
      }
      *names = nn;
    }
    (*names)[*n] = strdup(ent->d_name);
    if ((*names)[*n] == NULL) {
      rc = tarn_err(err, TARN_ENOMEM, "out of memory");
      break;
    }
    (*n)++;
  }
  closedir(d);
  if (*n) qsort(*names, *n, sizeof **names, cmp_names);
  return rc;
}
