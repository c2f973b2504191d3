/*
 * Delta change data as a SQL source (see source_delta_cdf.h): the entries of delta_cdf_load
 * become the files of a source over the end version's columns plus the three change columns.
 * Types, partition values and paths come from the helpers the snapshot's source uses
 * (source_delta.h), so both read a table alike.
 */
#include "sql/source_delta_cdf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/path.h"
#include "sql/expr.h"
#include "sql/source_delta.h"
#include "table/delta/delta_cdf.h"

/* The change columns, in the order they follow the table's columns. */
enum { CDF_TYPE, CDF_VERSION, CDF_TIMESTAMP, CDF_EXTRA };
static const char *const cdf_names[CDF_EXTRA] = {"_change_type", "_commit_version",
                                                 "_commit_timestamp"};

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
    if (rc == 0 && (types[c] = sql_delta_type(a, f->type, f->name, err)) == NULL) {
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
    f->path = sql_delta_file_path(a, table_dir, cf->path);
    f->size_bytes = cf->size;
    f->n_rows = -1;
    sql_value *pv = tarn_arena_calloc(a, n, sizeof *pv);
    if (f->path == NULL || pv == NULL) {
      rc = tarn_err(err, TARN_ENOMEM, "out of memory");
      break;
    }
    for (size_t c = 0; rc == 0 && c < n_table; c++)
      if (part_of[c] >= 0)
        rc = sql_delta_partition_value(a, scratch, cf->partition_values[part_of[c]], types[c],
                                       names[c], &pv[c], err);
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
    /* The positions live in the change feed's arena, which is freed below. Listed rows are
     * deleted, or with keep_only the only ones the entry covers (the scan handles both). */
    if (cf->keep_only || cf->n_positions) {
      uint64_t *pos = tarn_arena_calloc(a, cf->n_positions + 1, sizeof *pos);
      if (pos == NULL) rc = tarn_err(err, TARN_ENOMEM, "out of memory");
      if (pos && cf->n_positions) memcpy(pos, cf->positions, cf->n_positions * sizeof *pos);
      f->deleted = pos;
      f->n_deleted = cf->n_positions;
      f->keep_only = cf->keep_only;
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
