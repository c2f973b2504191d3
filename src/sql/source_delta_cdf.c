/*
 * Delta change data as a SQL source (see source_delta_cdf.h): the entries of delta_cdf_load
 * become the files of a source over the end version's columns plus the three change columns.
 *
 * The type mapping and the partition value casts follow source_delta.c (a Delta snapshot as a
 * source), whose helpers are private to it: the small versions here must give the same types.
 */
#include "sql/source_delta_cdf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/path.h"
#include "sql/expr.h"
#include "table/delta/delta_cdf.h"

/* The change columns, in the order they follow the table's columns. */
enum { CDF_TYPE, CDF_VERSION, CDF_TIMESTAMP, CDF_EXTRA };
static const char *const cdf_names[CDF_EXTRA] = {"_change_type", "_commit_version",
                                                 "_commit_timestamp"};

/* The SQL type of a Delta type (source_delta.c's mapping); NULL with an error for one SQL cannot
 * hold. */
static const sql_type *column_type(tarn_arena *a, const delta_type *t, const char *column,
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
      /* copied: the snapshot holding the schema is freed once the source is built */
      f[i].name = tarn_arena_strndup(a, t->fields[i].name, strlen(t->fields[i].name));
      if (f[i].name == NULL) break;
      if ((f[i].type = column_type(a, t->fields[i].type, column, err)) == NULL) return NULL;
    }
    const sql_type *r = sql_type_struct(a, f, t->n_fields);
    if (r) return r;
    break;
  }
  case DELTA_TYPE_ARRAY: {
    const sql_type *e = column_type(a, t->element, column, err);
    if (e == NULL) return NULL;
    const sql_type *r = sql_type_list(a, e);
    if (r) return r;
    break;
  }
  case DELTA_TYPE_MAP: {
    const sql_type *k = column_type(a, t->key, column, err);
    const sql_type *v = k ? column_type(a, t->value, column, err) : NULL;
    if (v == NULL) return NULL;
    const sql_type *r = sql_type_map(a, k, v);
    if (r) return r;
    break;
  }
  }
  tarn_err(err, TARN_ENOMEM, "out of memory");
  return NULL;
}

/* The path of a file named in the log: relative to the table (URL-encoded), or absolute. */
static char *file_path(tarn_arena *a, const char *table_dir, const char *log_path) {
  const char *p = log_path;
  bool absolute = p[0] == '/';
  if (strncmp(p, "file://", 7) == 0) {
    p += 7;
    absolute = true;
  } else if (strncmp(p, "file:", 5) == 0) {
    p += 5;
    absolute = true;
  }
  char *decoded = tarn_arena_calloc(a, strlen(p) + 1, 1);
  if (decoded == NULL) return NULL;
  tarn_percent_decode(p, decoded);
  if (absolute) return decoded;
  size_t n = strlen(table_dir) + strlen(decoded) + 2;
  char *full = tarn_arena_calloc(a, n, 1);
  if (full) snprintf(full, n, "%s/%s", table_dir, decoded);
  return full;
}

/* A partition value (Delta's text form, NULL for null) as a value of type t, by PostgreSQL's
 * cast rules (timestamps without a zone read as UTC, as the protocol says). */
static int partition_value(tarn_arena *a, sql_mem *scratch, const char *text, const sql_type *t,
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
  int rc = sql_cast_value(scratch, &in, t, out, err); /* scalars only: nothing points into it */
  if (rc) tarn_err_prefix(err, "partition column %s, value '%s'", column, text);
  return rc;
}

/* The positions of a file's rows outside keep[0..n_keep) (ascending), for a change that covers
 * only the kept rows: the scan drops "deleted" positions, so the complement is what it drops. */
static int complement(tarn_arena *a, const char *path, const uint64_t *keep, size_t n_keep,
                      sql_source_file *f, tarn_error *err) {
  tarn_parquet_file *pf = NULL;
  int rc = tarn_parquet_open(path, NULL, &pf, err);
  if (rc) return rc;
  int64_t rows = tarn_parquet_num_rows(pf);
  tarn_parquet_close(pf);
  if (rows < 0) return tarn_err(err, TARN_ECORRUPT, "%s: negative row count", path);
  f->n_rows = rows;
  size_t inside = 0;
  for (size_t i = 0; i < n_keep; i++)
    inside += keep[i] < (uint64_t)rows;
  uint64_t n = (uint64_t)rows - inside;
  if (n > SIZE_MAX / sizeof(uint64_t))
    return tarn_err(err, TARN_ENOMEM, "%s: too many rows (%lld)", path, (long long)rows);
  uint64_t *del = n ? tarn_arena_calloc(a, (size_t)n, sizeof *del) : NULL;
  if (n && del == NULL)
    return tarn_err(err, TARN_ENOMEM, "%s: out of memory for the positions of %lld rows", path,
                    (long long)rows);
  size_t k = 0, j = 0;
  for (uint64_t r = 0; r < (uint64_t)rows; r++) {
    while (j < n_keep && keep[j] < r)
      j++;
    if (j < n_keep && keep[j] == r) continue;
    del[k++] = r;
  }
  f->deleted = del;
  f->n_deleted = k;
  return 0;
}

int sql_source_delta_changes(tarn_arena *a, const char *table_dir, int64_t from_version,
                             int64_t to_version, sql_source **out, tarn_error *err) {
  *out = NULL;
  delta_cdf *cdf = NULL;
  int rc = delta_cdf_load(table_dir, from_version, to_version, &cdf, err);
  if (rc) return rc;
  const delta_snapshot *snap = cdf->end;
  const delta_type *schema = snap->schema;
  size_t n_table = schema ? schema->n_fields : 0, n = n_table + CDF_EXTRA;
  sql_source *src = tarn_arena_calloc(a, 1, sizeof *src);
  const char **names = tarn_arena_calloc(a, n, sizeof *names);
  const char **file_names = tarn_arena_calloc(a, n, sizeof *file_names);
  const sql_type **types = tarn_arena_calloc(a, n, sizeof *types);
  int *part_of = tarn_arena_calloc(a, n, sizeof *part_of); /* partition index or -1 */
  if (!src || !names || !file_names || !types || !part_of)
    rc = tarn_err(err, TARN_ENOMEM, "out of memory");
  bool mapped = false;
  for (size_t c = 0; rc == 0 && c < n_table; c++) {
    const delta_field *f = &schema->fields[c];
    for (int k = 0; k < CDF_EXTRA; k++)
      if (strcmp(f->name, cdf_names[k]) == 0)
        rc = tarn_err(err, TARN_EINVAL,
                      "delta table %s: column %s has the name of a change data column, so the "
                      "table's changes cannot be read",
                      table_dir, f->name);
    const char *phys = f->physical_name ? f->physical_name : f->name;
    names[c] = tarn_arena_strndup(a, f->name, strlen(f->name));
    file_names[c] = tarn_arena_strndup(a, phys, strlen(phys));
    if (rc == 0 && (names[c] == NULL || file_names[c] == NULL))
      rc = tarn_err(err, TARN_ENOMEM, "out of memory");
    mapped |= f->physical_name != NULL;
    if (rc == 0 && (types[c] = column_type(a, f->type, f->name, err)) == NULL) {
      rc = err && err->code ? err->code : TARN_EUNSUPPORTED;
      tarn_err_prefix(err, "delta table %s", table_dir);
    }
    part_of[c] = -1;
    for (size_t p = 0; p < snap->n_partition_columns; p++)
      if (strcmp(snap->partition_columns[p], f->name) == 0) part_of[c] = (int)p;
  }
  if (rc == 0) {
    static const sql_type_id extra_types[CDF_EXTRA] = {SQL_TEXT, SQL_INT8, SQL_TIMESTAMPTZ};
    for (int k = 0; k < CDF_EXTRA; k++) {
      names[n_table + k] = file_names[n_table + k] = cdf_names[k];
      types[n_table + k] = sql_type_get(extra_types[k]);
      part_of[n_table + k] = -1;
    }
    src->n_cols = n;
    src->col_names = names;
    src->col_types = types;
    src->col_file_names = mapped ? file_names : NULL;
    src->files = tarn_arena_calloc(a, cdf->n_files + 1, sizeof *src->files);
    if (src->files == NULL) rc = tarn_err(err, TARN_ENOMEM, "out of memory");
  }
  /* One region for the casts of every file's partition values (scalar results, copied out). */
  sql_mem *scratch = rc == 0 ? sql_mem_new() : NULL;
  if (rc == 0 && scratch == NULL) rc = tarn_err(err, TARN_ENOMEM, "out of memory");
  static const char *const kind_names[] = {NULL, "insert", "delete"};
  for (size_t i = 0; rc == 0 && i < cdf->n_files; i++) {
    const delta_cdf_file *cf = &cdf->files[i];
    sql_source_file *f = &src->files[i];
    f->path = file_path(a, table_dir, cf->path);
    f->size_bytes = cf->size;
    f->n_rows = -1;
    sql_value *pv = tarn_arena_calloc(a, n, sizeof *pv);
    if (f->path == NULL || pv == NULL) {
      rc = tarn_err(err, TARN_ENOMEM, "out of memory");
      break;
    }
    for (size_t c = 0; rc == 0 && c < n_table; c++)
      if (part_of[c] >= 0)
        rc = partition_value(a, scratch, cf->partition_values[part_of[c]], types[c], names[c],
                             &pv[c], err);
    if (rc) {
      tarn_err_prefix(err, "delta table %s, version %lld", table_dir, (long long)cf->version);
      break;
    }
    /* a change data file stores each row's change type; a data file's rows share one */
    if (cf->kind != DELTA_CDF_CDC) {
      const char *kind = kind_names[cf->kind];
      pv[n_table + CDF_TYPE].type = types[n_table + CDF_TYPE];
      pv[n_table + CDF_TYPE].u.str = (sql_str){kind, strlen(kind)};
    }
    pv[n_table + CDF_VERSION].type = types[n_table + CDF_VERSION];
    pv[n_table + CDF_VERSION].u.i64 = cf->version;
    pv[n_table + CDF_TIMESTAMP].type = types[n_table + CDF_TIMESTAMP];
    pv[n_table + CDF_TIMESTAMP].u.i64 = cf->timestamp_ms * 1000; /* microseconds */
    f->partition = pv;
    if (cf->keep_only) {
      rc = complement(a, f->path, cf->positions, cf->n_positions, f, err);
    } else if (cf->n_positions) {
      /* the positions live in the change feed's arena, which is freed below */
      uint64_t *del = tarn_arena_calloc(a, cf->n_positions, sizeof *del);
      if (del == NULL) rc = tarn_err(err, TARN_ENOMEM, "out of memory");
      if (del) memcpy(del, cf->positions, cf->n_positions * sizeof *del);
      f->deleted = del;
      f->n_deleted = cf->n_positions;
    }
    src->n_files = i + 1;
  }
  sql_mem_release(scratch);
  if (rc == 0) {
    char label[512];
    snprintf(label, sizeof label, "table_changes('%s', %lld, %lld)", table_dir,
             (long long)cdf->from_version, (long long)cdf->to_version);
    src->name = tarn_arena_strndup(a, label, strlen(label));
  }
  delta_cdf_free(cdf);
  if (rc) return rc;
  *out = src;
  return 0;
}
