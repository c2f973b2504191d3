/*
 * Iceberg tables as SQL sources (see source_iceberg.h).
 */
#include "sql/source_iceberg.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "avro/avro.h"
#include "common/error.h"
#include "sql/types.h"
#include "table/iceberg/iceberg_meta.h"
#include "table/iceberg/iceberg_snapshot.h"

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcmp(s + n - k, suffix) == 0;
}

bool sql_is_iceberg_table(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) return false;
  if (S_ISREG(st.st_mode)) return ends_with(path, ".metadata.json");
  char meta[4096];
  snprintf(meta, sizeof meta, "%s/metadata", path);
  DIR *d = opendir(meta);
  if (d == NULL) return false;
  bool found = false;
  for (struct dirent *e; !found && (e = readdir(d)) != NULL;)
    found = ends_with(e->d_name, ".metadata.json") || strcmp(e->d_name, "version-hint.text") == 0;
  closedir(d);
  return found;
}

/* The SQL type of an Iceberg type (NULL and an error naming the column when SQL has none). */
static const sql_type *sql_iceberg_type(tarn_arena *a, const iceberg_type *t, const char *column,
                                        tarn_error *err) {
  switch (t->kind) {
  case ICEBERG_TYPE_PRIMITIVE:
    switch (t->primitive) {
    case ICEBERG_BOOLEAN: return sql_type_get(SQL_BOOL);
    case ICEBERG_INT: return sql_type_get(SQL_INT4);
    case ICEBERG_LONG: return sql_type_get(SQL_INT8);
    case ICEBERG_FLOAT: return sql_type_get(SQL_FLOAT4);
    case ICEBERG_DOUBLE: return sql_type_get(SQL_FLOAT8);
    case ICEBERG_DATE: return sql_type_get(SQL_DATE);
    case ICEBERG_TIME: return sql_type_get(SQL_TIME);
    case ICEBERG_TIMESTAMP: return sql_type_get(SQL_TIMESTAMP);
    case ICEBERG_TIMESTAMPTZ: return sql_type_get(SQL_TIMESTAMPTZ);
    case ICEBERG_STRING: return sql_type_get(SQL_TEXT);
    case ICEBERG_UUID: return sql_type_get(SQL_UUID);
    case ICEBERG_FIXED:
    case ICEBERG_BINARY: return sql_type_get(SQL_BYTEA);
    case ICEBERG_DECIMAL: {
      const sql_type *d = sql_type_decimal(a, t->precision, t->scale);
      if (d) return d;
      break;
    }
    default: break;
    }
    tarn_err(err, TARN_EUNSUPPORTED, "column %s: Iceberg type %s is not supported", column,
             t->name ? t->name : "?");
    return NULL;
  case ICEBERG_TYPE_STRUCT: {
    sql_field *f = tarn_arena_calloc(a, t->n_fields + 1, sizeof *f);
    if (f == NULL) break;
    for (size_t i = 0; i < t->n_fields; i++) {
      f[i].name = tarn_arena_strndup(a, t->fields[i].name, strlen(t->fields[i].name));
      if (f[i].name == NULL) break;
      if ((f[i].type = sql_iceberg_type(a, t->fields[i].type, column, err)) == NULL) return NULL;
    }
    const sql_type *r = sql_type_struct(a, f, t->n_fields);
    if (r) return r;
    break;
  }
  case ICEBERG_TYPE_LIST: {
    const sql_type *e = sql_iceberg_type(a, t->element, column, err);
    if (e == NULL) return NULL;
    const sql_type *r = sql_type_list(a, e);
    if (r) return r;
    break;
  }
  case ICEBERG_TYPE_MAP: {
    const sql_type *k = sql_iceberg_type(a, t->key, column, err);
    const sql_type *v = k ? sql_iceberg_type(a, t->value, column, err) : NULL;
    if (v == NULL) return NULL;
    const sql_type *r = sql_type_map(a, k, v);
    if (r) return r;
    break;
  }
  }
  tarn_err(err, TARN_ENOMEM, "out of memory");
  return NULL;
}

/* The value of partition field `name` of tuple as column type t (false: not convertible; the
 * column is then read from the file). Iceberg stores identity partition values in their column's
 * own representation: ints and dates as int, longs, timestamps and times as long (micros). */
static bool partition_value(tarn_arena *a, const tarn_avro_value *tuple, const char *name,
                            const sql_type *t, sql_value *out) {
  const tarn_avro_value *v = tuple ? tarn_avro_field(tuple, name) : NULL;
  if (v == NULL) return false;
  memset(out, 0, sizeof *out);
  out->type = t;
  if (v->kind == TARN_AVRO_NULL) {
    out->is_null = true;
    return true;
  }
  switch (t->id) {
  case SQL_INT2:
  case SQL_INT4:
  case SQL_INT8:
  case SQL_DATE:
  case SQL_TIME:
  case SQL_TIMESTAMP:
  case SQL_TIMESTAMPTZ:
    if (v->kind == TARN_AVRO_INT)
      out->u.i64 = v->u.i32;
    else if (v->kind == TARN_AVRO_LONG)
      out->u.i64 = v->u.i64;
    else
      return false;
    return true;
  case SQL_BOOL:
    if (v->kind != TARN_AVRO_BOOLEAN) return false;
    out->u.b = v->u.boolean != 0;
    return true;
  case SQL_FLOAT4:
  case SQL_FLOAT8:
    if (v->kind == TARN_AVRO_FLOAT)
      out->u.f64 = v->u.f32;
    else if (v->kind == TARN_AVRO_DOUBLE)
      out->u.f64 = v->u.f64;
    else
      return false;
    return true;
  case SQL_TEXT: {
    if (v->kind != TARN_AVRO_STRING) return false;
    char *copy = tarn_arena_strndup(a, (const char *)v->u.bytes.data, v->u.bytes.len);
    if (copy == NULL) return false;
    out->u.str = (sql_str){copy, v->u.bytes.len};
    return true;
  }
  default: return false;
  }
}

/* The identity-partitioned columns of file f: their values from its partition tuple (files
 * written by some engines leave those columns out). NULL when there are none. */
static sql_value *file_partition(tarn_arena *a, const iceberg_meta *m, const iceberg_type *st,
                                 const sql_type *const *types, const iceberg_file *f) {
  const iceberg_partition_spec *spec = iceberg_meta_spec(m, f->spec_id);
  if (spec == NULL || spec->n_fields == 0 || f->partition == NULL) return NULL;
  sql_value *pv = NULL;
  for (size_t k = 0; k < spec->n_fields; k++) {
    const iceberg_partition_field *pf = &spec->fields[k];
    if (pf->n_source_ids != 1 || strcmp(pf->transform, "identity") != 0) continue;
    for (size_t c = 0; c < st->n_fields; c++) {
      if (st->fields[c].id != pf->source_ids[0]) continue;
      if (pv == NULL && (pv = tarn_arena_calloc(a, st->n_fields + 1, sizeof *pv)) == NULL)
        return NULL;
      if (!partition_value(a, f->partition, pf->name, types[c], &pv[c])) pv[c].type = NULL;
    }
  }
  return pv;
}

static int build(tarn_arena *a, iceberg_table *t, const sql_iceberg_options *o, sql_source **out,
                 tarn_error *err) {
  const iceberg_meta *m = iceberg_table_meta(t);
  const iceberg_snapshot *snap = NULL;
  int rc = 0;
  if (o && o->snapshot_id)
    rc = iceberg_table_find_snapshot(t, ICEBERG_SNAPSHOT_ID, o->snapshot_id, NULL, &snap, err);
  else
    snap = iceberg_meta_current_snapshot(m);
  if (rc) return rc;
  /* the schema the snapshot was written with when one is chosen, else the table's */
  const iceberg_schema *schema = snap && o && o->snapshot_id && snap->schema_id >= 0
                                     ? iceberg_meta_schema(m, snap->schema_id)
                                     : NULL;
  if (schema == NULL) schema = iceberg_meta_current_schema(m);
  if (schema == NULL || schema->type == NULL)
    return tarn_err(err, TARN_ECORRUPT, "iceberg table %s: no current schema",
                    iceberg_table_dir(t));
  const iceberg_type *st = schema->type;
  sql_source *src = tarn_arena_calloc(a, 1, sizeof *src);
  const char **names = tarn_arena_calloc(a, st->n_fields + 1, sizeof *names);
  const sql_type **types = tarn_arena_calloc(a, st->n_fields + 1, sizeof *types);
  if (!src || !names || !types) return tarn_err(err, TARN_ENOMEM, "out of memory");
  for (size_t c = 0; c < st->n_fields; c++) {
    const iceberg_field *f = &st->fields[c];
    names[c] = tarn_arena_strndup(a, f->name, strlen(f->name));
    if (names[c] == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
    if ((types[c] = sql_iceberg_type(a, f->type, f->name, err)) == NULL) {
      tarn_err_prefix(err, "iceberg table %s", iceberg_table_dir(t));
      return err->code ? err->code : TARN_EUNSUPPORTED;
    }
  }
  src->n_cols = st->n_fields;
  src->col_names = names;
  src->col_types = types;
  src->table_version = snap ? snap->snapshot_id : -1;
  iceberg_file *files = NULL;
  size_t n = 0;
  if (snap) rc = iceberg_snapshot_files(t, snap, false, &files, &n, err);
  if (rc) return rc;
  src->files = tarn_arena_calloc(a, n + 1, sizeof *src->files);
  if (src->files == NULL) rc = tarn_err(err, TARN_ENOMEM, "out of memory");
  for (size_t i = 0; rc == 0 && i < n; i++) {
    const iceberg_file *f = &files[i];
    if (f->content != ICEBERG_CONTENT_DATA) {
      rc = tarn_err(err, TARN_EUNSUPPORTED,
                    "iceberg table %s: snapshot %lld has delete files (%s); reading deletes is "
                    "not supported yet",
                    iceberg_table_dir(t), (long long)snap->snapshot_id, f->raw_file_path);
      break;
    }
    if (f->file_format && strcasecmp(f->file_format, "PARQUET") != 0) {
      rc = tarn_err(err, TARN_EUNSUPPORTED,
                    "iceberg table %s: %s is a %s file; only Parquet is read", iceberg_table_dir(t),
                    f->raw_file_path, f->file_format);
      break;
    }
    sql_source_file *sf = &src->files[src->n_files++];
    sf->path = tarn_arena_strndup(a, f->file_path, strlen(f->file_path));
    sf->n_rows = f->record_count;
    sf->size_bytes = f->file_size_in_bytes;
    sf->partition = file_partition(a, m, st, types, f);
    if (sf->path == NULL) rc = tarn_err(err, TARN_ENOMEM, "out of memory");
  }
  iceberg_files_free(files);
  if (rc == 0) *out = src;
  return rc;
}

int sql_source_iceberg(tarn_arena *a, const char *path, const sql_iceberg_options *o,
                       sql_source **out, tarn_error *err) {
  *out = NULL;
  iceberg_open_options oo;
  memset(&oo, 0, sizeof oo);
  if (o) {
    oo.allow_moved_paths = o->allow_moved_paths;
    oo.version = o->version;
  }
  iceberg_table *t = NULL;
  int rc = iceberg_table_open(path, &oo, &t, err);
  if (rc == 0) rc = build(a, t, o, out, err);
  iceberg_table_close(t);
  return rc;
}
