/*
 * CALL vacuum / optimize / restore (see delta_call.h).
 */
#include "sql/delta_call.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/error.h"
#include "sql/delta_optimize.h"
#include "sql/expr.h"
#include "sql/types.h"
#include "table/delta/delta_maint.h"

int sql_parse_time_ms(const char *text, int64_t *ms, tarn_error *err) {
  sql_value in, ts;
  memset(&in, 0, sizeof in);
  in.type = sql_type_get(SQL_TEXT);
  in.u.str = (sql_str){text, strlen(text)};
  sql_mem *m = sql_mem_new();
  int rc = m ? sql_cast_value(m, &in, sql_type_get(SQL_TIMESTAMPTZ), &ts, err)
             : tarn_err(err, TARN_ENOMEM, "out of memory");
  sql_mem_release(m);
  if (rc == 0 && ts.is_null) rc = tarn_err(err, TARN_EINVAL, "'%s' is not a time", text);
  if (rc == 0) *ms = ts.u.i64 >= 0 ? ts.u.i64 / 1000 : -((-ts.u.i64 + 999) / 1000);
  return rc;
}

static const char *arg(const sql_bound *bd, const char *key) {
  for (size_t i = 0; i < bd->n_options; i++)
    if (strcmp(bd->option_keys[i], key) == 0) return bd->option_values[i];
  return NULL;
}

static int arg_bool(const sql_bound *bd, const char *key, bool *out, tarn_error *err) {
  const char *v = arg(bd, key);
  *out = false;
  if (v == NULL) return 0;
  if (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcasecmp(v, "on") == 0)
    *out = true;
  else if (!(strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0 || strcasecmp(v, "off") == 0))
    return tarn_err(err, TARN_EINVAL, "%s: %s must be true or false, not '%s'", bd->call_proc, key,
                    v);
  return 0;
}

/* A whole number, all of the text. */
static bool parse_i64(const char *v, int64_t *out) {
  if (v == NULL || *v == 0) return false;
  char *end;
  errno = 0;
  long long n = strtoll(v, &end, 10);
  if (errno || *end) return false;
  *out = n;
  return true;
}

/* Bytes: a number with an optional unit (B, KB, MB, GB, TB; binary multiples, as Spark's). */
static bool parse_bytes(const char *v, int64_t *out) {
  char *end;
  errno = 0;
  double n = strtod(v, &end);
  if (errno || end == v || n < 0) return false;
  while (*end == ' ')
    end++;
  static const char *const units[][2] = {
      {"b", "b"}, {"k", "kb"}, {"m", "mb"}, {"g", "gb"}, {"t", "tb"}};
  double mul = 1;
  if (*end) {
    size_t u = 0;
    while (u < 5 && strcasecmp(end, units[u][0]) != 0 && strcasecmp(end, units[u][1]) != 0)
      u++;
    if (u == 5) return false;
    for (size_t k = 0; k < u; k++)
      mul *= 1024;
  }
  if (n * mul >= 9.2e18) return false;
  *out = (int64_t)(n * mul);
  return true;
}

static int result_init(sql_plan_ctx *pc, sql_call_result *res, size_t n_cols, size_t n_rows,
                       const char *const *names, const char *kinds, tarn_error *err) {
  res->n_cols = n_cols;
  res->n_rows = n_rows;
  res->names = tarn_arena_calloc(&pc->arena, n_cols, sizeof *res->names);
  res->kinds = kinds;
  res->text = tarn_arena_calloc(&pc->arena, n_rows * n_cols + 1, sizeof *res->text);
  res->num = tarn_arena_calloc(&pc->arena, n_rows * n_cols + 1, sizeof *res->num);
  if (!res->names || !res->text || !res->num) return tarn_err(err, TARN_ENOMEM, "out of memory");
  for (size_t c = 0; c < n_cols; c++)
    res->names[c] = names[c];
  return 0;
}

static int call_vacuum(sql_plan_ctx *pc, const sql_bound *bd, sql_call_result *res,
                       tarn_error *err) {
  delta_vacuum_options o = {.retention_ms = -1};
  const char *retain = arg(bd, "retain");
  int64_t hours;
  int rc = 0;
  if (retain && parse_i64(retain, &hours)) {
    if (hours < 0 || hours > INT64_MAX / 3600000)
      return tarn_err(err, TARN_EINVAL, "vacuum: retain must be a non-negative number of hours");
    o.retention_ms = hours * 3600000;
  } else if (retain) {
    rc = delta_parse_interval_ms(retain, &o.retention_ms, err);
    if (rc) {
      tarn_err_prefix(err, "vacuum: retain");
      return rc;
    }
  }
  if ((rc = arg_bool(bd, "dry_run", &o.dry_run, err)) ||
      (rc = arg_bool(bd, "force", &o.force, err)))
    return rc;
  delta_vacuum_result r;
  rc = delta_vacuum(bd->target_dir, &o, &r, err);
  if (rc == 0) {
    static const char *const cols[] = {"path"};
    rc = result_init(pc, res, 1, r.n_paths, cols, "u", err);
    for (size_t i = 0; rc == 0 && i < r.n_paths; i++) {
      res->text[i] = tarn_arena_strndup(&pc->arena, r.paths[i], strlen(r.paths[i]));
      if (res->text[i] == NULL) rc = tarn_err(err, TARN_ENOMEM, "out of memory");
    }
  }
  delta_vacuum_result_free(&r);
  return rc;
}

static int call_optimize(sql_exec_ctx *x, sql_plan_ctx *pc, const sql_bound *bd,
                         sql_call_result *res, tarn_error *err) {
  sql_delta_optimize_options o;
  memset(&o, 0, sizeof o);
  const char *size = arg(bd, "target_size"), *zorder = arg(bd, "zorder");
  if (size && (!parse_bytes(size, &o.target_file_size) || o.target_file_size <= 0))
    return tarn_err(err, TARN_EINVAL,
                    "optimize: target_size must be a positive size in bytes ('128MB'), not '%s'",
                    size);
  /* zorder => 'a, b': the names split at commas, spaces trimmed */
  const char *cols[64];
  size_t n = 0;
  for (const char *p = zorder; p && *p;) {
    while (*p == ' ')
      p++;
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    while (len && p[len - 1] == ' ')
      len--;
    if (len == 0 || n == 64)
      return tarn_err(err, TARN_EINVAL, "optimize: zorder must name 1 to 64 columns, as 'a,b'");
    cols[n] = tarn_arena_strndup(&pc->arena, p, len);
    if (cols[n++] == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
    p = end ? end + 1 : p + len;
  }
  o.zorder_cols = cols;
  o.n_zorder = n;
  sql_delta_optimize_result r;
  memset(&r, 0, sizeof r);
  int rc = sql_delta_optimize(x, pc, bd->target_dir, &o, &r, err);
  static const char *const names[] = {"version",         "num_files_removed",
                                      "num_files_added", "num_bytes_removed",
                                      "num_bytes_added", "partitions_optimized"};
  if (rc == 0) rc = result_init(pc, res, 6, 1, names, "llllll", err);
  if (rc == 0) {
    int64_t v[6] = {r.version,       r.files_removed, r.files_added,
                    r.bytes_removed, r.bytes_added,   r.partitions_optimized};
    memcpy(res->num, v, sizeof v);
  }
  return rc;
}

static int call_restore(sql_plan_ctx *pc, const sql_bound *bd, sql_call_result *res,
                        tarn_error *err) {
  const char *version = arg(bd, "version"), *when = arg(bd, "timestamp");
  int64_t v = -1, ms = INT64_MIN;
  if ((version == NULL) == (when == NULL))
    return tarn_err(err, TARN_EINVAL, "restore needs one of version => N and timestamp => 'TIME'");
  if (version && (!parse_i64(version, &v) || v < 0))
    return tarn_err(err, TARN_EINVAL, "restore: version must be a whole number >= 0, not '%s'",
                    version);
  int rc = when ? sql_parse_time_ms(when, &ms, err) : 0;
  if (rc) {
    tarn_err_prefix(err, "restore: timestamp");
    return rc;
  }
  delta_restore_result r;
  memset(&r, 0, sizeof r);
  rc = delta_restore(bd->target_dir, v, ms, &r, err);
  static const char *const names[] = {
      "version",           "restored_version",   "num_removed_file",
      "num_restored_file", "removed_files_size", "restored_files_size"};
  if (rc == 0) rc = result_init(pc, res, 6, 1, names, "llllll", err);
  if (rc == 0) {
    int64_t vals[6] = {
        r.version,       r.restored_version, (int64_t)r.n_removed, (int64_t)r.n_restored,
        r.removed_bytes, r.restored_bytes};
    memcpy(res->num, vals, sizeof vals);
  }
  return rc;
}

int sql_delta_call(sql_exec_ctx *x, sql_plan_ctx *pc, const sql_bound *bd, sql_call_result *res,
                   tarn_error *err) {
  memset(res, 0, sizeof *res);
  if (strcmp(bd->call_proc, "vacuum") == 0) return call_vacuum(pc, bd, res, err);
  if (strcmp(bd->call_proc, "optimize") == 0) return call_optimize(x, pc, bd, res, err);
  if (strcmp(bd->call_proc, "restore") == 0) return call_restore(pc, bd, res, err);
  return tarn_err(err, TARN_EINVAL, "procedure %s does not exist", bd->call_proc);
}
