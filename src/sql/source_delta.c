/*
 * Delta Lake tables as SQL sources: a snapshot of the log (table/delta/delta_log.h) becomes the
 * column list and file list a scan reads (source.h).
 *
 * Columns are the schema's top-level fields with their Delta types mapped to SQL types (long ->
 * bigint, timestamp -> timestamptz, timestamp_ntz -> timestamp, byte -> smallint, ...). With
 * column mapping the data files name columns by their physical names, which the source records
 * for the scan. Each live file brings its partition values (Delta writes them as text; they are
 * cast to the column's type by PostgreSQL's rules), its row count and the minimum and maximum of
 * integer and date columns from its statistics (other types' statistics are not used: Delta
 * truncates strings and timestamps there), and the row positions its deletion vector deletes.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/path.h"
#include "sql/expr.h"
#include "sql/source_delta.h"
#include "table/delta/delta_log.h"
#include "table/delta/dv.h"

const sql_type *sql_delta_type(tarn_arena *a, const delta_type *t, const char *column,
                               tarn_error *err) {
  switch (t->kind) {
  case DELTA_TYPE_PRIMITIVE: {
    static const struct {
      const char *name;
      sql_type_id id;
    } map[] = {{"string", SQL_TEXT},
               {"long", SQL_INT8},
               {"integer", SQL_INT4},
               {"short", SQL_INT2},
               {"byte", SQL_INT2},
               {"float", SQL_FLOAT4},
               {"double", SQL_FLOAT8},
               {"boolean", SQL_BOOL},
               {"binary", SQL_BYTEA},
               {"date", SQL_DATE},
               {"timestamp", SQL_TIMESTAMPTZ},
               {"timestamp_ntz", SQL_TIMESTAMP}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
      if (strcmp(t->name, map[i].name) == 0) return sql_type_get(map[i].id);
    if (strncmp(t->name, "decimal", 7) == 0) {
      const sql_type *d = sql_type_decimal(a, t->precision, t->scale);
      if (d) return d;
    }
    tarn_err(err, TARN_EUNSUPPORTED, "column %s: Delta type %s is not supported", column, t->name);
    return NULL;
  }
  case DELTA_TYPE_STRUCT: {
    sql_field *f = tarn_arena_calloc(a, t->n_fields + 1, sizeof *f);
    if (f == NULL) break;
    for (size_t i = 0; i < t->n_fields; i++) {
      /* Copied: the snapshot, which holds the schema, is freed once the source is built. */
      f[i].name = tarn_arena_strndup(a, t->fields[i].name, strlen(t->fields[i].name));
      if (f[i].name == NULL) {
        tarn_err(err, TARN_ENOMEM, "out of memory");
        return NULL;
      }
      if ((f[i].type = sql_delta_type(a, t->fields[i].type, column, err)) == NULL) return NULL;
    }
    const sql_type *r = sql_type_struct(a, f, t->n_fields);
    if (r) return r;
    break;
  }
  case DELTA_TYPE_ARRAY: {
    const sql_type *e = sql_delta_type(a, t->element, column, err);
    if (e == NULL) return NULL;
    const sql_type *r = sql_type_list(a, e);
    if (r) return r;
    break;
  }
  case DELTA_TYPE_MAP: {
    const sql_type *k = sql_delta_type(a, t->key, column, err);
    const sql_type *v = k ? sql_delta_type(a, t->value, column, err) : NULL;
    if (v == NULL) return NULL;
    const sql_type *r = sql_type_map(a, k, v);
    if (r) return r;
    break;
  }
  }
  tarn_err(err, TARN_ENOMEM, "out of memory");
  return NULL;
}

char *sql_delta_file_path(tarn_arena *a, const char *table_dir, const char *log_path) {
  char *path = delta_file_local_path(table_dir, log_path);
  char *copy = path ? tarn_arena_strndup(a, path, strlen(path)) : NULL;
  free(path);
  return copy;
}

int sql_delta_partition_value(tarn_arena *a, sql_mem *scratch, const char *text, const sql_type *t,
                              const char *column, sql_value *out, tarn_error *err) {
  memset(out, 0, sizeof *out);
  out->type = t;
  if (text == NULL) {
    out->is_null = true;
    return 0;
  }
  if (t->id == SQL_TEXT || t->id == SQL_BYTEA) {
    size_t n = strlen(text);
    char *copy = tarn_arena_strndup(a, text, n);
    if (copy == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
    out->u.str = (sql_str){copy, n};
    return 0;
  }
  sql_value in;
  memset(&in, 0, sizeof in);
  in.type = sql_type_get(SQL_TEXT);
  in.u.str = (sql_str){text, strlen(text)};
  /* Scalar results only: nothing the value keeps points into scratch. */
  int rc = sql_cast_value(scratch, &in, t, out, err);
  if (rc) tarn_err_prefix(err, "partition column %s, value '%s'", column, text);
  return rc;
}

/* Minimum and maximum of column c from a file's statistics, for the types whose Delta statistics
 * are exact (integers and dates). */
/* Characters (UTF-8 code points) in s. */
static size_t utf8_chars(const char *s) {
  size_t n = 0;
  for (; *s; s++)
    n += ((unsigned char)*s & 0xc0) != 0x80;
  return n;
}

/* A statistic as the value it bounds (NULL: unusable, so no pruning on it). is_max: an upper
 * bound is wanted. Strings: writers cut long values to a prefix (Spark at 32 characters): a cut
 * minimum is still a lower bound, a cut maximum is not, so a maximum of 32 characters or more is
 * not used. Timestamps: statistics have millisecond precision, truncated (Spark), so a maximum
 * is widened to the end of its millisecond. */
static void stat_value(tarn_arena *a, sql_mem *scratch, const cJSON *v, const sql_type *t,
                       bool is_max, sql_value *out) {
  memset(out, 0, sizeof *out);
  out->type = t;
  out->is_null = true;
  if (v == NULL) return;
  switch (t->id) {
  case SQL_INT2:
  case SQL_INT4:
  case SQL_INT8: {
    if (!cJSON_IsNumber(v)) return;
    double d = cJSON_GetNumberValue(v);
    /* JSON numbers pass through a double: only integers it holds exactly are used (range first:
     * converting a double beyond int64 is undefined). */
    if (!(d >= -9007199254740992.0 && d <= 9007199254740992.0) || d != (double)(int64_t)d) return;
    out->u.i64 = (int64_t)d;
    out->is_null = false;
    return;
  }
  case SQL_DATE: {
    int y, mo, da;
    const char *s = cJSON_GetStringValue(v);
    if (s == NULL || sscanf(s, "%d-%d-%d", &y, &mo, &da) != 3 || strlen(s) != 10) return;
    sql_value in, r;
    memset(&in, 0, sizeof in);
    in.type = sql_type_get(SQL_TEXT);
    in.u.str = (sql_str){s, strlen(s)};
    if (sql_cast_value(scratch, &in, t, &r, NULL) == 0 && !r.is_null) *out = r;
    return;
  }
  case SQL_TEXT: {
    const char *s = cJSON_GetStringValue(v);
    if (s == NULL || (is_max && utf8_chars(s) >= 32)) return;
    size_t len = strlen(s);
    out->u.str = (sql_str){tarn_arena_strndup(a, s, len), len}; /* outlives the scratch */
    out->is_null = out->u.str.ptr == NULL;
    return;
  }
  case SQL_TIMESTAMP:
  case SQL_TIMESTAMPTZ: {
    const char *s = cJSON_GetStringValue(v);
    if (s == NULL || strlen(s) < 10 || strlen(s) > 40) return;
    sql_value in, r;
    memset(&in, 0, sizeof in);
    in.type = sql_type_get(SQL_TEXT);
    in.u.str = (sql_str){s, strlen(s)};
    if (sql_cast_value(scratch, &in, t, &r, NULL) != 0 || r.is_null) return;
    if (is_max) {
      if (r.u.i64 > INT64_MAX - 1000) return;
      r.u.i64 = r.u.i64 - (r.u.i64 % 1000 + 1000) % 1000 + 999; /* the millisecond's last us */
    }
    *out = r;
    return;
  }
  default: return;
  }
}

/* File facts from the add action's stats JSON: row count and usable min/max. */
static void file_stats(tarn_arena *a, sql_mem *scratch, const delta_file *df, const sql_source *src,
                       const char *const *stat_names, sql_source_file *f) {
  f->n_rows = -1;
  if (df->stats == NULL) return;
  cJSON *j = cJSON_Parse(df->stats);
  if (j == NULL) return; /* unreadable statistics only cost pruning */
  const cJSON *nr = cJSON_GetObjectItemCaseSensitive(j, "numRecords");
  if (cJSON_IsNumber(nr) && cJSON_GetNumberValue(nr) >= 0) f->n_rows = (int64_t)nr->valuedouble;
  const cJSON *mins = cJSON_GetObjectItemCaseSensitive(j, "minValues");
  const cJSON *maxs = cJSON_GetObjectItemCaseSensitive(j, "maxValues");
  if (cJSON_IsObject(mins) && cJSON_IsObject(maxs)) {
    sql_value *mn = tarn_arena_calloc(a, src->n_cols + 1, sizeof *mn);
    sql_value *mx = tarn_arena_calloc(a, src->n_cols + 1, sizeof *mx);
    if (mn && mx) {
      for (size_t c = 0; c < src->n_cols; c++) {
        stat_value(a, scratch, cJSON_GetObjectItemCaseSensitive(mins, stat_names[c]),
                   src->col_types[c], false, &mn[c]);
        stat_value(a, scratch, cJSON_GetObjectItemCaseSensitive(maxs, stat_names[c]),
                   src->col_types[c], true, &mx[c]);
        if (mn[c].is_null || mx[c].is_null) mn[c].is_null = mx[c].is_null = true;
      }
      f->min = mn;
      f->max = mx;
    }
  }
  cJSON_Delete(j);
}

int sql_source_delta_facts(tarn_arena *a, const sql_source *src, const char *const *part_names,
                           size_t n_parts, const char *const *part_values, const char *stats,
                           sql_source_file *out, tarn_error *err) {
  memset(out, 0, sizeof *out);
  out->size_bytes = -1;
  sql_mem *scratch = sql_mem_new();
  if (scratch == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
  delta_file df;
  memset(&df, 0, sizeof df);
  df.stats = stats;
  file_stats(a, scratch, &df, src, src->col_file_names ? src->col_file_names : src->col_names, out);
  int rc = 0;
  if (n_parts) {
    sql_value *pv = tarn_arena_calloc(a, src->n_cols + 1, sizeof *pv);
    if (pv == NULL) rc = tarn_err(err, TARN_ENOMEM, "out of memory");
    for (size_t c = 0; rc == 0 && c < src->n_cols; c++)
      for (size_t p = 0; rc == 0 && p < n_parts; p++)
        if (strcmp(part_names[p], src->col_names[c]) == 0)
          rc = sql_delta_partition_value(a, scratch, part_values[p], src->col_types[c],
                                         src->col_names[c], &pv[c], err);
    out->partition = pv;
  }
  sql_mem_release(scratch);
  return rc;
}

int sql_source_delta(tarn_arena *a, const char *table_dir, int64_t version, int64_t timestamp_ms,
                     sql_source **out, tarn_error *err) {
  *out = NULL;
  delta_snapshot *snap = NULL;
  int rc = timestamp_ms != INT64_MIN ? delta_snapshot_load_at(table_dir, timestamp_ms, &snap, err)
                                     : delta_snapshot_load(table_dir, version, &snap, err);
  if (rc) return rc;
  const delta_type *schema = snap->schema;
  sql_source *src = tarn_arena_calloc(a, 1, sizeof *src);
  size_t n = schema ? schema->n_fields : 0;
  const char **names = tarn_arena_calloc(a, n + 1, sizeof *names);
  const char **file_names = tarn_arena_calloc(a, n + 1, sizeof *file_names);
  const sql_type **types = tarn_arena_calloc(a, n + 1, sizeof *types);
  int *part_of = tarn_arena_calloc(a, n + 1, sizeof *part_of); /* partition index or -1 */
  if (!src || !names || !file_names || !types || !part_of) {
    delta_snapshot_free(snap);
    return tarn_err(err, TARN_ENOMEM, "out of memory");
  }
  bool mapped = false;
  for (size_t c = 0; c < n && rc == 0; c++) {
    const delta_field *f = &schema->fields[c];
    names[c] = tarn_arena_strndup(a, f->name, strlen(f->name));
    const char *phys = f->physical_name ? f->physical_name : f->name;
    file_names[c] = tarn_arena_strndup(a, phys, strlen(phys));
    mapped |= f->physical_name != NULL;
    types[c] = sql_delta_type(a, f->type, f->name, err);
    if (types[c] == NULL) rc = err && err->code ? err->code : TARN_EUNSUPPORTED;
    part_of[c] = -1;
    for (size_t p = 0; p < snap->n_partition_columns; p++)
      if (strcmp(snap->partition_columns[p], f->name) == 0) part_of[c] = (int)p;
  }
  if (rc) {
    tarn_err_prefix(err, "delta table %s", table_dir);
    delta_snapshot_free(snap);
    return rc;
  }
  src->n_cols = n;
  src->table_version = snap->version;
  src->col_names = names;
  src->col_types = types;
  src->col_file_names = mapped ? file_names : NULL;
  src->files = tarn_arena_calloc(a, snap->n_files + 1, sizeof *src->files);
  /* One region for the casts of every file's partition values and statistics (their results
   * are scalars copied out), instead of one per value. */
  sql_mem *scratch = sql_mem_new();
  if (src->files == NULL || scratch == NULL) rc = tarn_err(err, TARN_ENOMEM, "out of memory");
  for (size_t i = 0; rc == 0 && i < snap->n_files; i++) {
    const delta_file *df = &snap->files[i];
    sql_source_file *f = &src->files[i];
    f->path = sql_delta_file_path(a, table_dir, df->path);
    f->size_bytes = df->size;
    if (f->path == NULL) {
      rc = tarn_err(err, TARN_ENOMEM, "out of memory");
      break;
    }
    file_stats(a, scratch, df, src, file_names, f);
    if (snap->n_partition_columns) {
      sql_value *pv = tarn_arena_calloc(a, n + 1, sizeof *pv);
      if (pv == NULL) rc = tarn_err(err, TARN_ENOMEM, "out of memory");
      for (size_t c = 0; rc == 0 && c < n; c++)
        if (part_of[c] >= 0)
          rc = sql_delta_partition_value(a, scratch, df->partition_values[part_of[c]], types[c],
                                         names[c], &pv[c], err);
      f->partition = pv;
    }
    if (rc == 0 && df->dv.storage_type) {
      uint64_t *pos = NULL;
      size_t n_pos = 0;
      rc = delta_dv_read(table_dir, &df->dv, a, &pos, &n_pos, err);
      f->deleted = pos;
      f->n_deleted = n_pos;
    }
    src->n_files = i + 1;
  }
  sql_mem_release(scratch);
  delta_snapshot_free(snap);
  if (rc) return rc;
  *out = src;
  return 0;
}
