/*
 * SQL statements that write Delta tables. For now: CREATE TABLE name (columns) USING delta
 * [WITH (partitioning = 'col, ...', 'delta.<property>' = 'value', ...)], an empty table at
 * version 0 (protocol, metaData and commitInfo) committed through table/delta/delta_commit.h.
 *
 * SQL types map to Delta types (bigint long, integer integer, smallint short, real float, double
 * double, numeric(p,s) decimal(p,s), text string, bytea binary, date date, timestamptz timestamp,
 * timestamp timestamp_ntz (which needs the timestampNtz table feature, so reader version 3 and
 * writer version 7), arrays, structs and maps); types Delta lacks (time, interval, uuid) are
 * refused. Table properties are accepted when tarn honours them: those that need no feature, and
 * delta.enableDeletionVectors and delta.enableChangeDataFeed, which raise the protocol to announce
 * their features (deletion vectors need table features; the change data feed is writer version 4,
 * or the changeDataFeed feature when the table has table features). The others are refused by
 * name rather than written into a table whose protocol would not announce them.
 */
#include "sql/delta_write.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/error.h"
#include "sql/binder.h"
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
    "delta.enableChangeDataFeed",  /* writer version 4, or the changeDataFeed feature */
    "tarn.autoMerge.enabled",      /* INSERT may add columns (schema merge); readers ignore it */
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
                         size_t n_options, delta_txn **out, tarn_error *err) {
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
  bool append_only = false, cdf = false;
  for (size_t i = 0; i < n_cfg; i++) {
    bool on = strcasecmp(cfg_values[i], "true") == 0;
    if (on && strcmp(cfg_keys[i], "delta.enableDeletionVectors") == 0)
      reader_f[n_rf++] = writer_f[n_wf++] = "deletionVectors";
    if (on && strcmp(cfg_keys[i], "delta.appendOnly") == 0) append_only = true;
    if (on && strcmp(cfg_keys[i], "delta.enableChangeDataFeed") == 0) cdf = true;
  }
  if (ntz) reader_f[n_rf++] = writer_f[n_wf++] = "timestampNtz";
  if (n_rf && append_only) writer_f[n_wf++] = "appendOnly";
  if (n_rf && cdf) writer_f[n_wf++] = "changeDataFeed";
  /* without table features, the change data feed is writer version 4's */
  if (rc == 0)
    rc = n_rf ? delta_txn_set_protocol(t, 3, 7, reader_f, n_rf, writer_f, n_wf, err)
              : delta_txn_set_protocol(t, 1, cdf ? 4 : 2, NULL, 0, NULL, 0, err);
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
  return 0;
}

int sql_delta_commit_create(delta_txn *t, const char *name, const char *operation,
                            tarn_error *err) {
  int rc = delta_txn_set_operation(t, operation, "{\"isManaged\":\"false\"}", err);
  int64_t version = 0;
  /* No retry: a lost race means another writer created the table first. */
  if (rc == 0) rc = delta_txn_commit(t, 0, &version, err);
  if (rc == TARN_ECONFLICT) {
    /* The first error recorded wins in tarn_error: replace the commit's with the real reason. */
    tarn_err_clear(err);
    rc = tarn_err(err, TARN_EINVAL, "relation \"%s\" already exists", name);
  }
  return rc;
}

int sql_delta_create_table(const char *dir, const char *name, const char *const *col_names,
                           const sql_type *const *col_types, const bool *col_nullable,
                           size_t n_cols, const char *const *option_keys,
                           const char *const *option_values, size_t n_options, tarn_error *err) {
  delta_txn *t = NULL;
  int rc = sql_delta_create_txn(dir, name, col_names, col_types, col_nullable, n_cols, option_keys,
                                option_values, n_options, &t, err);
  if (rc == 0) rc = sql_delta_commit_create(t, name, "CREATE TABLE", err);
  delta_txn_free(t);
  return rc;
}

/* --- ALTER TABLE ------------------------------------------------------------------------------ */

static const char *mapping_uuid_name(tarn_arena *a) {
  uint8_t u[16];
  if (getentropy(u, sizeof u) != 0) return NULL;
  char name[64];
  snprintf(name, sizeof name,
           "col-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
           u[2], u[3], u[4], u[5], (u[6] & 0x0f) | 0x40, u[7], (u[8] & 0x3f) | 0x80, u[9], u[10],
           u[11], u[12], u[13], u[14], u[15]);
  return tarn_arena_strndup(a, name, strlen(name));
}

/* f's metadata with the column mapping keys (id and physical name) set. */
static int set_mapping(tarn_arena *a, delta_field *f, int64_t id, const char *physical,
                       tarn_error *err) {
  cJSON *m = cJSON_Parse(f->metadata_json ? f->metadata_json : "{}");
  if (!cJSON_IsObject(m)) {
    cJSON_Delete(m);
    m = cJSON_CreateObject();
  }
  cJSON_DeleteItemFromObjectCaseSensitive(m, "delta.columnMapping.id");
  cJSON_DeleteItemFromObjectCaseSensitive(m, "delta.columnMapping.physicalName");
  char *text = NULL;
  if (m && cJSON_AddNumberToObject(m, "delta.columnMapping.id", (double)id) &&
      cJSON_AddStringToObject(m, "delta.columnMapping.physicalName", physical))
    text = cJSON_PrintUnformatted(m);
  cJSON_Delete(m);
  if (text == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
  f->metadata_json = tarn_arena_strndup(a, text, strlen(text));
  free(text);
  f->physical_name = physical;
  f->field_id = id;
  return f->metadata_json ? 0 : tarn_err(err, TARN_ENOMEM, "out of memory");
}

typedef struct config_set {
  const char **keys, **values;
  size_t n, cap;
} config_set;

static const char *config_get(const config_set *c, const char *key) {
  for (size_t i = 0; i < c->n; i++)
    if (strcmp(c->keys[i], key) == 0) return c->values[i];
  return NULL;
}

static void config_put(config_set *c, const char *key, const char *value) {
  for (size_t i = 0; i < c->n; i++)
    if (strcmp(c->keys[i], key) == 0) {
      if (value) {
        c->values[i] = value;
      } else {
        c->keys[i] = c->keys[c->n - 1];
        c->values[i] = c->values[--c->n];
      }
      return;
    }
  if (value && c->n < c->cap) {
    c->keys[c->n] = key;
    c->values[c->n++] = value;
  }
}

static bool in_features(const char *const *list, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(list[i], name) == 0) return true;
  return false;
}

static void add_feature(const char **list, size_t *n, const char *name) {
  if (!in_features(list, *n, name)) list[(*n)++] = name;
}

int sql_delta_alter(const char *dir, const char *name, const sql_alter *alters, size_t n_alters,
                    tarn_error *err) {
  delta_txn *t = NULL;
  int rc = delta_txn_begin(dir, &t, err);
  const char *operation = NULL;
  if (rc == 0) rc = sql_delta_alter_txn(t, name, alters, n_alters, &operation, err);
  if (rc == 0)
    rc = delta_txn_set_operation(t, operation ? operation : "SET TBLPROPERTIES", NULL, err);
  int64_t version;
  if (rc == 0) rc = delta_txn_commit(t, 10, &version, err);
  delta_txn_free(t);
  return rc;
}

int sql_delta_alter_txn(delta_txn *t, const char *name, const sql_alter *alters, size_t n_alters,
                        const char **operation_out, tarn_error *err) {
  const delta_snapshot *s = delta_txn_snapshot(t);
  if (s == NULL) return tarn_err(err, TARN_EINVAL, "relation \"%s\" does not exist", name);
  int rc = 0;
  tarn_arena a = {0};
  size_t n_adds = 0, n_opts = 0;
  for (size_t i = 0; i < n_alters; i++) {
    n_adds += alters[i].kind == SQL_ALTER_ADD_COLUMN;
    n_opts += alters[i].n_options;
  }
  size_t nf = s->schema->n_fields;
  delta_field *fields = tarn_arena_calloc(&a, nf + n_adds + 1, sizeof *fields);
  const char **parts = tarn_arena_calloc(&a, s->n_partition_columns + 1, sizeof *parts);
  config_set cfg = {.cap = s->n_config + n_opts + 2};
  cfg.keys = tarn_arena_calloc(&a, cfg.cap, sizeof *cfg.keys);
  cfg.values = tarn_arena_calloc(&a, cfg.cap, sizeof *cfg.values);
  if (!fields || !parts || !cfg.keys || !cfg.values)
    rc = tarn_err(err, TARN_ENOMEM, "out of memory");
  if (rc == 0) {
    memcpy(fields, s->schema->fields, nf * sizeof *fields);
    memcpy(parts, s->partition_columns, s->n_partition_columns * sizeof *parts);
    for (size_t i = 0; i < s->n_config; i++)
      config_put(&cfg, s->config_keys[i], s->config_values[i]);
  }
  const char *mode = config_get(&cfg, "delta.columnMapping.mode");
  bool mapped = mode && strcmp(mode, "none") != 0;
  const char *max_text = config_get(&cfg, "delta.columnMapping.maxColumnId");
  int64_t max_id = max_text ? strtoll(max_text, NULL, 10) : 0;
  const char *operation = NULL;
  for (size_t i = 0; rc == 0 && i < n_alters; i++) {
    const sql_alter *al = &alters[i];
    size_t f = 0;
    if (al->name)
      while (f < nf && strcasecmp(fields[f].name, al->name) != 0)
        f++;
    switch (al->kind) {
    case SQL_ALTER_SET:
    case SQL_ALTER_RESET:
      operation = al->kind == SQL_ALTER_SET ? "SET TBLPROPERTIES" : "UNSET TBLPROPERTIES";
      for (size_t k = 0; rc == 0 && k < al->n_options; k++) {
        const char *key = al->option_keys[k], *canon = NULL;
        for (size_t p = 0; p < sizeof plain_properties / sizeof *plain_properties; p++)
          if (strcasecmp(key, plain_properties[p]) == 0) canon = plain_properties[p];
        if (strcasecmp(key, "delta.columnMapping.mode") == 0) {
          const char *v = al->option_values[k];
          if (al->kind == SQL_ALTER_RESET || v == NULL || strcmp(v, "name") != 0) {
            rc = tarn_err(err, TARN_EUNSUPPORTED,
                          "delta.columnMapping.mode: tarn turns column mapping on with 'name' and "
                          "never off");
            break;
          }
          if (!mapped) {
            /* Existing columns keep the names their files use as physical names. */
            for (size_t c = 0; rc == 0 && c < nf; c++)
              rc = set_mapping(&a, &fields[c], ++max_id, fields[c].name, err);
            mapped = true;
            config_put(&cfg, "delta.columnMapping.mode", "name");
          }
          continue;
        }
        if (canon == NULL) {
          rc = tarn_err(err, strncasecmp(key, "delta.", 6) == 0 ? TARN_EUNSUPPORTED : TARN_EINVAL,
                        "table property %s is not supported", key);
          break;
        }
        config_put(&cfg, canon, al->kind == SQL_ALTER_SET ? al->option_values[k] : NULL);
      }
      break;
    case SQL_ALTER_ADD_COLUMN: {
      operation = "ADD COLUMNS";
      bool ntz = false;
      if (f < nf) {
        rc = tarn_err(err, TARN_EINVAL, "column \"%s\" of relation \"%s\" already exists", al->name,
                      name);
        break;
      }
      if (!al->nullable) {
        rc = tarn_err(err, TARN_EUNSUPPORTED,
                      "column \"%s\": a column added to a Delta table must allow NULL (its "
                      "existing rows have none)",
                      al->name);
        break;
      }
      delta_field *nfld = &fields[nf];
      memset(nfld, 0, sizeof *nfld);
      nfld->name = al->name;
      nfld->nullable = true;
      nfld->metadata_json = "{}";
      nfld->field_id = -1;
      rc = delta_type_of(&a, al->type, al->name, &ntz, &nfld->type, err);
      if (rc == 0 && ntz && !in_features(s->reader_features, s->n_reader_features, "timestampNtz"))
        rc = tarn_err(err, TARN_EUNSUPPORTED,
                      "column \"%s\": adding a timestamp without time zone column needs the "
                      "timestampNtz feature, which this table does not have",
                      al->name);
      if (rc == 0 && mapped) {
        const char *phys = mapping_uuid_name(&a);
        rc = phys ? set_mapping(&a, nfld, ++max_id, phys, err)
                  : tarn_err(err, TARN_EIO, "no randomness for a column name");
      }
      if (rc == 0) nf++;
      break;
    }
    case SQL_ALTER_DROP_COLUMN:
    case SQL_ALTER_RENAME_COLUMN: {
      bool drop = al->kind == SQL_ALTER_DROP_COLUMN;
      operation = drop ? "DROP COLUMNS" : "RENAME COLUMN";
      if (f == nf) {
        if (!(drop && al->if_exists))
          rc = tarn_err(err, TARN_EINVAL, "column \"%s\" of relation \"%s\" does not exist",
                        al->name, name);
        break;
      }
      if (!mapped) {
        rc = tarn_err(err, TARN_EUNSUPPORTED,
                      "%s COLUMN needs column mapping: ALTER TABLE %s SET "
                      "(\"delta.columnMapping.mode\" = 'name') first",
                      drop ? "DROP" : "RENAME", name);
        break;
      }
      size_t p = 0;
      while (p < s->n_partition_columns && strcmp(parts[p], fields[f].name) != 0)
        p++;
      if (drop) {
        if (p < s->n_partition_columns) {
          rc = tarn_err(err, TARN_EINVAL,
                        "column \"%s\" is a partition column and cannot be dropped", al->name);
          break;
        }
        if (nf == 1) {
          rc = tarn_err(err, TARN_EINVAL, "cannot drop the only column of \"%s\"", name);
          break;
        }
        memmove(&fields[f], &fields[f + 1], (nf - f - 1) * sizeof *fields);
        nf--;
      } else {
        for (size_t c = 0; c < nf; c++)
          if (c != f && strcasecmp(fields[c].name, al->new_name) == 0) {
            rc = tarn_err(err, TARN_EINVAL, "column \"%s\" of relation \"%s\" already exists",
                          al->new_name, name);
            break;
          }
        if (rc) break;
        if (p < s->n_partition_columns) parts[p] = al->new_name;
        fields[f].name = al->new_name;
      }
      break;
    }
    }
  }
  char max_buf[32];
  if (rc == 0 && mapped) {
    snprintf(max_buf, sizeof max_buf, "%lld", (long long)max_id);
    config_put(&cfg, "delta.columnMapping.maxColumnId", max_buf);
  }
  /* The protocol the new metadata needs. */
  const char *dv = config_get(&cfg, "delta.enableDeletionVectors");
  bool want_dv = dv && strcasecmp(dv, "true") == 0;
  const char *ao = config_get(&cfg, "delta.appendOnly");
  bool append_only = ao && strcasecmp(ao, "true") == 0;
  const char *cdf = config_get(&cfg, "delta.enableChangeDataFeed");
  bool want_cdf = cdf && strcasecmp(cdf, "true") == 0;
  int r = s->min_reader_version, w = s->min_writer_version;
  const char *rf[32], *wf[32];
  size_t n_rf = 0, n_wf = 0;
  bool features = r == 3 && w == 7;
  bool need_features =
      want_dv &&
      !(features && in_features(s->writer_features, s->n_writer_features, "deletionVectors"));
  bool changed_protocol = false;
  if (rc == 0 && (features || need_features)) {
    if (features) {
      for (size_t i = 0; i < s->n_reader_features && n_rf < 24; i++)
        rf[n_rf++] = s->reader_features[i];
      for (size_t i = 0; i < s->n_writer_features && n_wf < 24; i++)
        wf[n_wf++] = s->writer_features[i];
    } else {
      /* Legacy versions imply features; table features must name them. */
      if (r >= 2) add_feature(rf, &n_rf, "columnMapping");
      if (w >= 2) add_feature(wf, &n_wf, "appendOnly"), add_feature(wf, &n_wf, "invariants");
      if (w >= 3) add_feature(wf, &n_wf, "checkConstraints");
      if (w >= 4)
        add_feature(wf, &n_wf, "changeDataFeed"), add_feature(wf, &n_wf, "generatedColumns");
      if (w >= 5) add_feature(wf, &n_wf, "columnMapping");
      if (w >= 6) add_feature(wf, &n_wf, "identityColumns");
    }
    size_t before = n_rf + n_wf;
    if (want_dv)
      add_feature(rf, &n_rf, "deletionVectors"), add_feature(wf, &n_wf, "deletionVectors");
    if (mapped) add_feature(rf, &n_rf, "columnMapping"), add_feature(wf, &n_wf, "columnMapping");
    if (append_only) add_feature(wf, &n_wf, "appendOnly");
    if (want_cdf) add_feature(wf, &n_wf, "changeDataFeed");
    changed_protocol = !features || n_rf + n_wf != before;
    if (changed_protocol) rc = delta_txn_set_protocol(t, 3, 7, rf, n_rf, wf, n_wf, err);
  } else if (rc == 0 && ((mapped && (r < 2 || w < 5)) || (want_cdf && w < 4))) {
    /* legacy versions: column mapping is (2, 5), the change data feed writer version 4 */
    int nr = mapped && r < 2 ? 2 : r, nw = w;
    if (mapped && nw < 5) nw = 5;
    if (want_cdf && nw < 4) nw = 4;
    rc = delta_txn_set_protocol(t, nr, nw, NULL, 0, NULL, 0, err);
  }
  delta_type root = {.kind = DELTA_TYPE_STRUCT, .fields = fields, .n_fields = nf};
  tarn_buf json = {0};
  if (rc == 0) rc = delta_schema_json(&root, &json, err);
  if (rc == 0) rc = tarn_buf_append(&json, "", 1, err);
  if (rc == 0)
    rc = delta_txn_set_metadata(t, (const char *)json.data, parts, s->n_partition_columns, cfg.keys,
                                cfg.values, cfg.n, err);
  *operation_out = operation;
  tarn_buf_free(&json);
  tarn_arena_free(&a);
  return rc;
}
