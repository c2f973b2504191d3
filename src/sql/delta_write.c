/*
 * SQL statements that write Delta tables. For now: CREATE TABLE name (columns) USING delta
 * [WITH (partitioning = 'col, ...', 'delta.<property>' = 'value', ...)], an empty table at
 * version 0 (protocol, metaData and commitInfo) committed through table/delta/delta_commit.h.
 *
 * SQL types map to Delta types (bigint long, integer integer, smallint short, real float, double
 * double, numeric(p,s) decimal(p,s), text string, bytea binary, date date, timestamptz timestamp,
 * timestamp timestamp_ntz (which needs the timestampNtz table feature, so reader version 3 and
 * writer version 7), arrays, structs and maps); types Delta lacks (time, interval, uuid) are
 * refused. Only table properties that need no table feature are accepted; the others are refused
 * by name rather than written into a table whose protocol would not announce them.
 */
#include "sql/delta_write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/error.h"
#include "table/delta/delta_commit.h"
#include "table/delta/delta_log.h"

/* The Delta type of an SQL type, built in a; *ntz set when a timestamp_ntz appears. */
static int delta_type_of(tarn_arena *a, const sql_type *t, const char *column, bool *ntz,
                         delta_type **out, tarn_error *err) {
  delta_type *d = tarn_arena_calloc(a, 1, sizeof *d);
  if (d == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
  d->kind = DELTA_TYPE_PRIMITIVE;
  switch (t->id) {
  case SQL_BOOL: d->name = "boolean"; break;
  case SQL_INT2: d->name = "short"; break;
  case SQL_INT4: d->name = "integer"; break;
  case SQL_INT8: d->name = "long"; break;
  case SQL_FLOAT4: d->name = "float"; break;
  case SQL_FLOAT8: d->name = "double"; break;
  case SQL_TEXT: d->name = "string"; break;
  case SQL_BYTEA: d->name = "binary"; break;
  case SQL_DATE: d->name = "date"; break;
  case SQL_TIMESTAMPTZ: d->name = "timestamp"; break;
  case SQL_TIMESTAMP:
    d->name = "timestamp_ntz";
    *ntz = true;
    break;
  case SQL_DECIMAL: {
    char name[32];
    snprintf(name, sizeof name, "decimal(%d,%d)", t->precision, t->scale);
    d->name = tarn_arena_strndup(a, name, strlen(name));
    d->precision = t->precision;
    d->scale = t->scale;
    if (d->name == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
    break;
  }
  case SQL_LIST:
    d->kind = DELTA_TYPE_ARRAY;
    d->contains_null = true;
    break;
  case SQL_MAP:
    d->kind = DELTA_TYPE_MAP;
    d->value_contains_null = true;
    break;
  case SQL_STRUCT: d->kind = DELTA_TYPE_STRUCT; break;
  default: {
    char name[64];
    sql_type_name(t, name, sizeof name);
    return tarn_err(err, TARN_EUNSUPPORTED,
                    "column %s: Delta tables have no %s type (use text, or a timestamp)", column,
                    name);
  }
  }
  int rc = 0;
  if (d->kind == DELTA_TYPE_ARRAY) rc = delta_type_of(a, t->elem, column, ntz, &d->element, err);
  if (d->kind == DELTA_TYPE_MAP) {
    /* A map's element type is struct<key, value>. */
    rc = delta_type_of(a, t->elem->fields[0].type, column, ntz, &d->key, err);
    if (rc == 0) rc = delta_type_of(a, t->elem->fields[1].type, column, ntz, &d->value, err);
  }
  if (d->kind == DELTA_TYPE_STRUCT) {
    d->fields = tarn_arena_calloc(a, t->n_fields + 1, sizeof *d->fields);
    if (d->fields == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
    d->n_fields = t->n_fields;
    for (size_t i = 0; rc == 0 && i < t->n_fields; i++) {
      d->fields[i].name = t->fields[i].name;
      d->fields[i].nullable = true;
      d->fields[i].metadata_json = "{}";
      d->fields[i].field_id = -1;
      rc = delta_type_of(a, t->fields[i].type, column, ntz, &d->fields[i].type, err);
    }
  }
  *out = d;
  return rc;
}

/* Table properties a table at protocol (1, 2) may carry, with their spelling in the log (the SQL
 * parser lower-cases unquoted option names). */
static const char *const plain_properties[] = {
    "delta.appendOnly",
    "delta.checkpointInterval",
    "delta.logRetentionDuration",
    "delta.deletedFileRetentionDuration",
    "delta.dataSkippingNumIndexedCols",
    "delta.checkpoint.writeStatsAsJson",
    "delta.checkpoint.writeStatsAsStruct",
    "delta.randomizeFilePrefixes",
    "delta.enableDeletionVectors", /* the deletionVectors feature when true */
};

/* Splits "a, b" into trimmed names (in a). */
static int split_columns(tarn_arena *a, const char *text, const char ***out, size_t *n,
                         tarn_error *err) {
  size_t cap = 1;
  for (const char *p = text; *p; p++)
    cap += *p == ',';
  const char **names = tarn_arena_calloc(a, cap + 1, sizeof *names);
  if (names == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
  size_t k = 0;
  for (const char *p = text; *p;) {
    const char *e = strchr(p, ',');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    const char *s = p;
    while (len && (*s == ' ' || *s == '\t'))
      s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
      len--;
    if (len == 0) return tarn_err(err, TARN_EINVAL, "partitioning: an empty column name");
    names[k] = tarn_arena_strndup(a, s, len);
    if (names[k++] == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
    p = e ? e + 1 : p + strlen(p);
  }
  *out = names;
  *n = k;
  return 0;
}

int sql_delta_create_txn(const char *dir, const char *name, const char *const *col_names,
                         const sql_type *const *col_types, const bool *col_nullable, size_t n_cols,
                         const char *const *option_keys, const char *const *option_values,
                         size_t n_options, delta_txn **out, size_t *n_partitions, tarn_error *err) {
  *out = NULL;
  tarn_arena a = {0};
  int rc = 0;
  const char **parts = NULL;
  size_t n_parts = 0;
  const char **cfg_keys = tarn_arena_calloc(&a, n_options + 1, sizeof *cfg_keys);
  const char **cfg_values = tarn_arena_calloc(&a, n_options + 1, sizeof *cfg_values);
  size_t n_cfg = 0;
  if (cfg_keys == NULL || cfg_values == NULL) rc = tarn_err(err, TARN_ENOMEM, "out of memory");
  for (size_t i = 0; rc == 0 && i < n_options; i++) {
    const char *k = option_keys[i];
    if (strcasecmp(k, "partitioning") == 0) {
      rc = split_columns(&a, option_values[i], &parts, &n_parts, err);
      continue;
    }
    const char *canon = NULL;
    for (size_t p = 0; p < sizeof plain_properties / sizeof *plain_properties; p++)
      if (strcasecmp(k, plain_properties[p]) == 0) canon = plain_properties[p];
    if (canon == NULL && strncasecmp(k, "delta.", 6) == 0)
      rc = tarn_err(err, TARN_EUNSUPPORTED,
                    "table property %s is not supported yet (tarn writes tables without table "
                    "features so far)",
                    k);
    else if (canon == NULL)
      rc = tarn_err(err, TARN_EINVAL,
                    "unknown option %s (options: partitioning, and delta.* table properties)", k);
    else {
      cfg_keys[n_cfg] = canon;
      cfg_values[n_cfg++] = option_values[i];
    }
  }
  /* The schema. */
  delta_type schema = {.kind = DELTA_TYPE_STRUCT, .n_fields = n_cols};
  bool ntz = false;
  schema.fields = rc ? NULL : tarn_arena_calloc(&a, n_cols + 1, sizeof *schema.fields);
  if (rc == 0 && schema.fields == NULL) rc = tarn_err(err, TARN_ENOMEM, "out of memory");
  for (size_t i = 0; rc == 0 && i < n_cols; i++) {
    schema.fields[i].name = col_names[i];
    schema.fields[i].nullable = col_nullable ? col_nullable[i] : true;
    schema.fields[i].metadata_json = "{}";
    schema.fields[i].field_id = -1;
    rc = delta_type_of(&a, col_types[i], col_names[i], &ntz, &schema.fields[i].type, err);
  }
  for (size_t p = 0; rc == 0 && p < n_parts; p++) {
    size_t c = 0;
    while (c < n_cols && strcmp(col_names[c], parts[p]) != 0)
      c++;
    if (c == n_cols)
      rc = tarn_err(err, TARN_EINVAL, "partitioning: column \"%s\" does not exist", parts[p]);
    else if (schema.fields[c].type->kind != DELTA_TYPE_PRIMITIVE)
      rc = tarn_err(err, TARN_EINVAL, "partitioning: column \"%s\" is not of a primitive type",
                    parts[p]);
    else if (n_parts == n_cols)
      rc = tarn_err(err, TARN_EINVAL, "partitioning: at least one column must not be a partition");
  }
  tarn_buf schema_json = {0};
  if (rc == 0) rc = delta_schema_json(&schema, &schema_json, err);
  if (rc == 0) rc = tarn_buf_append(&schema_json, "", 1, err); /* NUL */
  delta_txn *t = NULL;
  if (rc == 0) rc = delta_txn_begin(dir, &t, err);
  if (rc == 0 && delta_txn_snapshot(t) != NULL)
    rc = tarn_err(err, TARN_EINVAL, "relation \"%s\" already exists", name);
  /* The protocol: (1, 2) unless a feature is needed, then table features (3, 7), which name
   * every feature in use, appendOnly included. */
  const char *reader_f[4], *writer_f[4];
  size_t n_rf = 0, n_wf = 0;
  bool append_only = false;
  for (size_t i = 0; i < n_cfg; i++) {
    bool on = strcasecmp(cfg_values[i], "true") == 0;
    if (on && strcmp(cfg_keys[i], "delta.enableDeletionVectors") == 0)
      reader_f[n_rf++] = writer_f[n_wf++] = "deletionVectors";
    if (on && strcmp(cfg_keys[i], "delta.appendOnly") == 0) append_only = true;
  }
  if (ntz) reader_f[n_rf++] = writer_f[n_wf++] = "timestampNtz";
  if (n_rf && append_only) writer_f[n_wf++] = "appendOnly";
  if (rc == 0)
    rc = n_rf ? delta_txn_set_protocol(t, 3, 7, reader_f, n_rf, writer_f, n_wf, err)
              : delta_txn_set_protocol(t, 1, 2, NULL, 0, NULL, 0, err);
  if (rc == 0)
    rc = delta_txn_set_metadata(t, (const char *)schema_json.data, parts, n_parts, cfg_keys,
                                cfg_values, n_cfg, err);
  tarn_buf_free(&schema_json);
  tarn_arena_free(&a);
  if (rc) {
    delta_txn_free(t);
    return rc;
  }
  *out = t;
  if (n_partitions) *n_partitions = n_parts;
  return 0;
}

int sql_delta_commit_create(delta_txn *t, const char *name, const char *operation,
                            tarn_error *err) {
  int rc = delta_txn_set_operation(t, operation, "{\"isManaged\":\"false\"}", err);
  int64_t version = 0;
  /* No retry: a lost race means another writer created the table first. */
  if (rc == 0) rc = delta_txn_commit(t, 0, &version, err);
  if (rc == TARN_ECONFLICT) rc = tarn_err(err, TARN_EINVAL, "relation \"%s\" already exists", name);
  return rc;
}

int sql_delta_create_table(const char *dir, const char *name, const char *const *col_names,
                           const sql_type *const *col_types, const bool *col_nullable,
                           size_t n_cols, const char *const *option_keys,
                           const char *const *option_values, size_t n_options, tarn_error *err) {
  delta_txn *t = NULL;
  int rc = sql_delta_create_txn(dir, name, col_names, col_types, col_nullable, n_cols, option_keys,
                                option_values, n_options, &t, NULL, err);
  if (rc == 0) rc = sql_delta_commit_create(t, name, "CREATE TABLE", err);
  delta_txn_free(t);
  return rc;
}
