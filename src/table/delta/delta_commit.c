/*
 * Delta commits (see delta_commit.h for the protocol and the conflict rules).
 *
 * Actions are built as cJSON objects as the caller adds them, so every string is escaped by
 * cJSON when the commit is printed (one cJSON_PrintUnformatted per line). Integers are written
 * as raw number text rather than cJSON doubles, so 64-bit values stay exact.
 */
#include "table/delta/delta_commit.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fs.h"
#include "common/path.h"
#include "table/delta/delta_checkpoint.h"

/* A winning commit larger than this is refused rather than read. */
#define DELTA_MAX_COMMIT_FILE ((size_t)1 << 30)

struct delta_txn {
  char *table_dir, *log_dir;
  delta_snapshot *snapshot;   /* NULL: the table does not exist yet */
  int64_t read_version;       /* -1: none */
  cJSON *protocol, *metadata; /* the actions' bodies, NULL when not set */
  /* The key each partition column has in partitionValues (its physical name under column
   * mapping, else its name), from this transaction's metadata or else the snapshot's. */
  char **partition_keys;
  size_t n_partition_keys;
  bool partition_keys_known;
  bool append_only; /* delta.appendOnly of the metadata in force */
  char *app_id;     /* NULL: no txn action */
  int64_t app_version;
  cJSON *removes, *adds, *cdcs; /* arrays of action bodies */
  bool rearrange_only;          /* adds and removes carry dataChange false */
  /* Which files a concurrent commit adds could matter to this transaction (NULL: any) */
  delta_add_filter add_filter;
  void *add_filter_arg;
  bool *removed; /* per snapshot file: already removed by this transaction */
  char *operation;
  cJSON *parameters; /* NULL: none */
  cJSON *metrics;    /* operationMetrics, NULL: none */
  bool committed;
  /* sorted copies of the paths (pointers into the action bodies), for conflict checks */
  const char **add_paths, **remove_paths;
  size_t n_add_paths, n_remove_paths;
};

/* ---- Small helpers -------------------------------------------------------------------------- */

static int oom(tarn_error *err) { return tarn_err(err, TARN_ENOMEM, "out of memory"); }

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void commit_name(char *out, size_t cap, int64_t version) {
  snprintf(out, cap, "%020" PRId64 ".json", version);
}

/* Random bytes from the kernel: metadata ids must be unique across machines, and temporary
 * names across processes. */
static int random_bytes(void *buf, size_t n) {
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, (char *)buf + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += (size_t)r;
  }
  close(fd);
  return got == n ? 0 : -1;
}

/* A random (version 4) UUID as text. */
static int uuid4(char out[37]) {
  unsigned char b[16];
  if (random_bytes(b, sizeof b) != 0) return -1;
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
  snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
           b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
           b[15]);
  return 0;
}

/* Adds an exact integer member (cJSON numbers are doubles, exact only to 2^53). */
static bool add_i64(cJSON *obj, const char *key, int64_t v) {
  char text[32];
  snprintf(text, sizeof text, "%" PRId64, v);
  return cJSON_AddRawToObject(obj, key, text) != NULL;
}

static cJSON *string_array(const char *const *items, size_t n) {
  cJSON *a = cJSON_CreateArray();
  for (size_t i = 0; a && i < n; i++) {
    cJSON *s = cJSON_CreateString(items[i]);
    if (s == NULL || !cJSON_AddItemToArray(a, s)) {
      cJSON_Delete(s);
      cJSON_Delete(a);
      return NULL;
    }
  }
  return a;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool sorted_contains(const char **sorted, size_t n, const char *s) {
  return n > 0 && bsearch(&s, sorted, n, sizeof *sorted, cmp_str) != NULL;
}

static void free_partition_keys(delta_txn *t) {
  for (size_t i = 0; i < t->n_partition_keys; i++)
    free(t->partition_keys[i]);
  free(t->partition_keys);
  t->partition_keys = NULL;
  t->n_partition_keys = 0;
  t->partition_keys_known = false;
}

static bool config_true(const char *v) { return v != NULL && strcmp(v, "true") == 0; }

/* ---- Begin ---------------------------------------------------------------------------------- */

/* Whether `_delta_log` exists and names at least one version (a commit or a checkpoint); a
 * directory holding only temporary files from a writer killed while creating the table is a
 * table still to create. */
static int log_has_versions(const char *table, const char *log_dir, bool *has, tarn_error *err) {
  *has = false;
  DIR *d = opendir(log_dir);
  if (d == NULL) {
    if (errno == ENOENT) return 0;
    return tarn_err(err, TARN_EIO, "delta table %s: cannot open %s: %s", table, log_dir,
                    strerror(errno));
  }
  struct dirent *e;
  while (!*has && (e = readdir(d)) != NULL) {
    const char *n = e->d_name;
    size_t digits = 0;
    while (digits < 20 && n[digits] >= '0' && n[digits] <= '9')
      digits++;
    *has = digits == 20 && n[20] == '.';
  }
  closedir(d);
  return 0;
}

/* The partitionValues key of top-level schema field `field` (a cJSON object). */
static const char *field_partition_key(const cJSON *field) {
  const cJSON *md = cJSON_GetObjectItemCaseSensitive(field, "metadata");
  const char *physical =
      cJSON_IsObject(md) ? delta_json_str(md, "delta.columnMapping.physicalName") : NULL;
  return physical ? physical : delta_json_str(field, "name");
}

static int keys_from_snapshot(delta_txn *t) {
  const delta_snapshot *s = t->snapshot;
  size_t n = s->n_partition_columns;
  t->partition_keys = calloc(n ? n : 1, sizeof *t->partition_keys);
  if (t->partition_keys == NULL) return -1;
  for (size_t c = 0; c < n; c++) {
    const char *key = s->partition_columns[c];
    for (size_t k = 0; k < s->schema->n_fields; k++)
      if (strcmp(s->schema->fields[k].name, key) == 0 && s->schema->fields[k].physical_name)
        key = s->schema->fields[k].physical_name;
    if ((t->partition_keys[c] = strdup(key)) == NULL) return -1;
    t->n_partition_keys++;
  }
  t->partition_keys_known = true;
  return 0;
}

int delta_txn_begin(const char *table_dir, delta_txn **out, tarn_error *err) {
  return delta_txn_begin_at(table_dir, -1, out, err);
}

int delta_txn_begin_at(const char *table_dir, int64_t version, delta_txn **out, tarn_error *err) {
  *out = NULL;
  delta_txn *t = calloc(1, sizeof *t);
  if (t == NULL) return oom(err);
  t->read_version = -1;
  t->table_dir = strdup(table_dir);
  t->log_dir = tarn_path_join(table_dir, "_delta_log");
  t->removes = cJSON_CreateArray();
  t->adds = cJSON_CreateArray();
  t->cdcs = cJSON_CreateArray();
  if (!t->table_dir || !t->log_dir || !t->removes || !t->adds) {
    delta_txn_free(t);
    return oom(err);
  }
  bool exists;
  int rc = log_has_versions(table_dir, t->log_dir, &exists, err);
  if (rc == 0 && exists) rc = delta_snapshot_load(table_dir, version, &t->snapshot, err);
  if (rc == 0 && t->snapshot) {
    t->read_version = t->snapshot->version;
    t->append_only = config_true(delta_snapshot_config(t->snapshot, "delta.appendOnly"));
    t->removed = calloc(t->snapshot->n_files ? t->snapshot->n_files : 1, sizeof *t->removed);
    if (t->removed == NULL || keys_from_snapshot(t) != 0) rc = oom(err);
  }
  if (rc) {
    delta_txn_free(t);
    return rc;
  }
  *out = t;
  return 0;
}

const delta_snapshot *delta_txn_snapshot(const delta_txn *t) { return t->snapshot; }

const char *const *delta_txn_partition_keys(const delta_txn *t, size_t *n) {
  *n = t->n_partition_keys;
  return (const char *const *)t->partition_keys;
}

/* ---- Actions -------------------------------------------------------------------------------- */

static bool in_list(const char *const *list, size_t n, const char *s) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(list[i], s) == 0) return true;
  return false;
}

int delta_txn_set_protocol(delta_txn *t, int min_reader, int min_writer,
                           const char *const *reader_features, size_t n_reader_features,
                           const char *const *writer_features, size_t n_writer_features,
                           tarn_error *err) {
  const char *table = t->table_dir;
  if (min_reader < 1 || min_reader > 3 || min_writer < 1 || min_writer > 7)
    return tarn_err(err, TARN_EINVAL,
                    "delta table %s: protocol (%d, %d) is not a valid reader (1-3) and writer "
                    "(1-7) version",
                    table, min_reader, min_writer);
  /* PROTOCOL.md "Table Features": feature lists exist only at reader 3 / writer 7, reader 3
   * needs writer 7, and every reader feature is also a writer feature. */
  if (min_reader == 3 && min_writer != 7)
    return tarn_err(err, TARN_EINVAL, "delta table %s: reader version 3 requires writer version 7",
                    table);
  if ((n_reader_features && min_reader != 3) || (n_writer_features && min_writer != 7))
    return tarn_err(err, TARN_EINVAL,
                    "delta table %s: table features need reader version 3 / writer version 7",
                    table);
  for (size_t i = 0; i < n_reader_features + n_writer_features; i++) {
    const char *f =
        i < n_reader_features ? reader_features[i] : writer_features[i - n_reader_features];
    if (f == NULL || f[0] == 0)
      return tarn_err(err, TARN_EINVAL, "delta table %s: empty table feature name", table);
  }
  for (size_t i = 0; i < n_reader_features; i++)
    if (!in_list(writer_features, n_writer_features, reader_features[i]))
      return tarn_err(err, TARN_EINVAL,
                      "delta table %s: reader feature '%s' is not also a writer feature", table,
                      reader_features[i]);
  cJSON *p = cJSON_CreateObject();
  bool ok =
      p && add_i64(p, "minReaderVersion", min_reader) && add_i64(p, "minWriterVersion", min_writer);
  if (ok && min_reader == 3) {
    cJSON *a = string_array(reader_features, n_reader_features);
    ok = a && cJSON_AddItemToObject(p, "readerFeatures", a);
    if (!ok) cJSON_Delete(a);
  }
  if (ok && min_writer == 7) {
    cJSON *a = string_array(writer_features, n_writer_features);
    ok = a && cJSON_AddItemToObject(p, "writerFeatures", a);
    if (!ok) cJSON_Delete(a);
  }
  if (!ok) {
    cJSON_Delete(p);
    return oom(err);
  }
  cJSON_Delete(t->protocol);
  t->protocol = p;
  return 0;
}

/* Checks schema_string and fills keys with the partitionValues key of each partition column. */
static int parse_metadata_schema(const delta_txn *t, const char *schema_string,
                                 const char *const *partition_columns, size_t n_pc, char **keys,
                                 tarn_error *err) {
  cJSON *schema = cJSON_Parse(schema_string);
  const cJSON *fields = cJSON_GetObjectItemCaseSensitive(schema, "fields");
  const char *type = delta_json_str(schema, "type");
  int rc = 0;
  if (type == NULL || strcmp(type, "struct") != 0 || !cJSON_IsArray(fields))
    rc = tarn_err(err, TARN_EINVAL, "delta table %s: the schema is not a JSON struct type",
                  t->table_dir);
  for (size_t c = 0; rc == 0 && c < n_pc; c++) {
    const char *pc = partition_columns[c];
    const cJSON *f, *match = NULL;
    cJSON_ArrayForEach(f, fields) {
      const char *name = delta_json_str(f, "name");
      if (name && pc && strcmp(name, pc) == 0) match = f;
    }
    if (match == NULL) {
      rc = tarn_err(err, TARN_EINVAL, "delta table %s: partition column '%s' is not in the schema",
                    t->table_dir, pc ? pc : "(null)");
    } else if ((keys[c] = strdup(field_partition_key(match))) == NULL) {
      rc = oom(err);
    }
  }
  cJSON_Delete(schema);
  return rc;
}

int delta_txn_set_metadata(delta_txn *t, const char *schema_string,
                           const char *const *partition_columns, size_t n_partition_columns,
                           const char *const *config_keys, const char *const *config_values,
                           size_t n_config, tarn_error *err) {
  if (schema_string == NULL)
    return tarn_err(err, TARN_EINVAL, "delta table %s: no schema", t->table_dir);
  for (size_t i = 0; i < n_config; i++)
    if (config_keys[i] == NULL || config_values[i] == NULL)
      return tarn_err(err, TARN_EINVAL, "delta table %s: a configuration key or value is missing",
                      t->table_dir);
  char **keys = calloc(n_partition_columns ? n_partition_columns : 1, sizeof *keys);
  if (keys == NULL) return oom(err);
  int rc =
      parse_metadata_schema(t, schema_string, partition_columns, n_partition_columns, keys, err);
  char id[37];
  const delta_snapshot *s = t->snapshot;
  if (rc == 0 && s == NULL && uuid4(id) != 0)
    rc = tarn_err(err, TARN_EIO, "delta table %s: cannot read /dev/urandom for the table id",
                  t->table_dir);
  cJSON *m = NULL;
  if (rc == 0) {
    m = cJSON_CreateObject();
    cJSON *format = cJSON_CreateObject(), *options = cJSON_CreateObject();
    cJSON *pcs = string_array(partition_columns, n_partition_columns);
    cJSON *conf = cJSON_CreateObject();
    bool ok = m && format && options && pcs && conf &&
              cJSON_AddStringToObject(format, "provider", "parquet") &&
              cJSON_AddItemToObject(format, "options", options);
    if (!ok) cJSON_Delete(options);
    for (size_t i = 0; ok && i < n_config; i++)
      ok = cJSON_AddStringToObject(conf, config_keys[i], config_values[i]) != NULL;
    /* the table's identity and description survive a metadata change */
    ok = ok && cJSON_AddStringToObject(m, "id", s ? s->metadata_id : id);
    if (ok && s && s->name) ok = cJSON_AddStringToObject(m, "name", s->name) != NULL;
    if (ok && s && s->description)
      ok = cJSON_AddStringToObject(m, "description", s->description) != NULL;
    if (ok && cJSON_AddItemToObject(m, "format", format)) format = NULL;
    ok = ok && format == NULL && cJSON_AddStringToObject(m, "schemaString", schema_string);
    if (ok && cJSON_AddItemToObject(m, "partitionColumns", pcs)) pcs = NULL;
    if (ok && pcs == NULL && cJSON_AddItemToObject(m, "configuration", conf)) conf = NULL;
    ok = ok && pcs == NULL && conf == NULL && add_i64(m, "createdTime", now_ms());
    cJSON_Delete(format);
    cJSON_Delete(pcs);
    cJSON_Delete(conf);
    if (!ok) rc = oom(err);
  }
  if (rc) {
    cJSON_Delete(m);
    for (size_t i = 0; i < n_partition_columns; i++)
      free(keys[i]);
    free(keys);
    return rc;
  }
  cJSON_Delete(t->metadata);
  t->metadata = m;
  free_partition_keys(t);
  t->partition_keys = keys;
  t->n_partition_keys = n_partition_columns;
  t->partition_keys_known = true;
  t->append_only = false;
  for (size_t i = 0; i < n_config; i++)
    if (strcmp(config_keys[i], "delta.appendOnly") == 0)
      t->append_only = config_true(config_values[i]);
  return 0;
}

static cJSON *partition_values_object(const delta_txn *t, const char *const *values);

void delta_txn_set_rearrange_only(delta_txn *t) { t->rearrange_only = true; }

void delta_txn_set_read_filter(delta_txn *t, delta_add_filter filter, void *arg) {
  t->add_filter = filter;
  t->add_filter_arg = arg;
}

const char *delta_txn_schema_string(const delta_txn *t) {
  if (t->metadata) return delta_json_str(t->metadata, "schemaString");
  return t->snapshot ? t->snapshot->schema_string : NULL;
}

int delta_txn_add_cdc(delta_txn *t, const char *path, const char *const *partition_values,
                      int64_t size, tarn_error *err) {
  if (path == NULL || path[0] == 0 || path[0] == '/')
    return tarn_err(err, TARN_EINVAL,
                    "delta table %s: cdc '%s': the path must be relative to the table",
                    t->table_dir, path ? path : "");
  if (size < 0 || !t->partition_keys_known || (t->n_partition_keys && partition_values == NULL))
    return tarn_err(err, TARN_EINVAL,
                    "delta table %s: cdc %s: no metadata, partition values or size", t->table_dir,
                    path);
  cJSON *a = cJSON_CreateObject();
  cJSON *pv = partition_values_object(t, partition_values);
  bool ok = a && pv && cJSON_AddStringToObject(a, "path", path);
  if (ok && cJSON_AddItemToObject(a, "partitionValues", pv)) pv = NULL;
  ok = ok && pv == NULL && add_i64(a, "size", size) && cJSON_AddFalseToObject(a, "dataChange") &&
       cJSON_AddItemToArray(t->cdcs, a);
  cJSON_Delete(pv);
  if (!ok) {
    cJSON_Delete(a);
    return oom(err);
  }
  return 0;
}

static cJSON *partition_values_object(const delta_txn *t, const char *const *values) {
  cJSON *pv = cJSON_CreateObject();
  for (size_t c = 0; pv && c < t->n_partition_keys; c++) {
    bool ok = values && values[c] ? cJSON_AddStringToObject(pv, t->partition_keys[c], values[c])
                                  : cJSON_AddNullToObject(pv, t->partition_keys[c]);
    if (!ok) {
      cJSON_Delete(pv);
      return NULL;
    }
  }
  return pv;
}

static cJSON *dv_object(const delta_dv *dv);

int delta_txn_add_file(delta_txn *t, const char *path, const char *const *partition_values,
                       int64_t size, int64_t modification_time, const char *stats_json,
                       tarn_error *err) {
  return delta_txn_add_file_dv(t, path, partition_values, size, modification_time, stats_json, NULL,
                               err);
}

int delta_txn_add_file_dv(delta_txn *t, const char *path, const char *const *partition_values,
                          int64_t size, int64_t modification_time, const char *stats_json,
                          const delta_dv *dv, tarn_error *err) {
  if (path == NULL || path[0] == 0 || path[0] == '/')
    return tarn_err(err, TARN_EINVAL,
                    "delta table %s: add '%s': the path must be relative to the table",
                    t->table_dir, path ? path : "");
  if (size < 0)
    return tarn_err(err, TARN_EINVAL, "delta table %s: add %s: negative size %" PRId64,
                    t->table_dir, path, size);
  if (!t->partition_keys_known)
    return tarn_err(err, TARN_EINVAL,
                    "delta table %s: add %s: the table has no metadata yet (set it first)",
                    t->table_dir, path);
  if (t->n_partition_keys && partition_values == NULL)
    return tarn_err(err, TARN_EINVAL, "delta table %s: add %s: partition values are missing",
                    t->table_dir, path);
  if (dv && dv->storage_type && (dv->path_or_inline == NULL || dv->cardinality < 0))
    return tarn_err(err, TARN_EINVAL, "delta table %s: add %s: incomplete deletion vector",
                    t->table_dir, path);
  cJSON *a = cJSON_CreateObject();
  cJSON *pv = partition_values_object(t, partition_values);
  bool ok = a && pv && cJSON_AddStringToObject(a, "path", path);
  if (ok && cJSON_AddItemToObject(a, "partitionValues", pv)) pv = NULL;
  ok = ok && pv == NULL && add_i64(a, "size", size) &&
       add_i64(a, "modificationTime", modification_time) &&
       cJSON_AddBoolToObject(a, "dataChange", !t->rearrange_only) &&
       (stats_json == NULL || cJSON_AddStringToObject(a, "stats", stats_json));
  if (ok && dv && dv->storage_type) {
    cJSON *d = dv_object(dv);
    ok = d && cJSON_AddItemToObject(a, "deletionVector", d);
    if (!ok) cJSON_Delete(d);
  }
  ok = ok && cJSON_AddItemToArray(t->adds, a);
  cJSON_Delete(pv);
  if (!ok) {
    cJSON_Delete(a);
    return oom(err);
  }
  return 0;
}

static int cmp_file_path(const void *key, const void *elem) {
  return strcmp((const char *)key, ((const delta_file *)elem)->path);
}

static bool same_dv(const delta_dv *a, const delta_dv *b) {
  if (a->storage_type != b->storage_type) return false;
  if (a->storage_type == 0) return true;
  return a->offset == b->offset && a->path_or_inline && b->path_or_inline &&
         strcmp(a->path_or_inline, b->path_or_inline) == 0;
}

/* The index of f among the snapshot's live files (sorted by path, then deletion vector). */
static bool find_live(const delta_snapshot *s, const delta_file *f, size_t *index) {
  if (s == NULL || f == NULL || f->path == NULL || s->n_files == 0) return false;
  const delta_file *hit = bsearch(f->path, s->files, s->n_files, sizeof *s->files, cmp_file_path);
  if (hit == NULL) return false;
  size_t i = (size_t)(hit - s->files);
  while (i > 0 && strcmp(s->files[i - 1].path, f->path) == 0)
    i--;
  for (; i < s->n_files && strcmp(s->files[i].path, f->path) == 0; i++)
    if (same_dv(&s->files[i].dv, &f->dv)) {
      *index = i;
      return true;
    }
  return false;
}

static cJSON *dv_object(const delta_dv *dv) {
  char type[2] = {dv->storage_type, 0};
  cJSON *d = cJSON_CreateObject();
  bool ok = d && cJSON_AddStringToObject(d, "storageType", type) &&
            cJSON_AddStringToObject(d, "pathOrInlineDv", dv->path_or_inline) &&
            (dv->offset < 0 || add_i64(d, "offset", dv->offset)) &&
            add_i64(d, "sizeInBytes", dv->size_in_bytes) &&
            add_i64(d, "cardinality", dv->cardinality);
  if (!ok) {
    cJSON_Delete(d);
    return NULL;
  }
  return d;
}

int delta_txn_remove_file(delta_txn *t, const delta_file *f, tarn_error *err) {
  const char *shown = f && f->path ? f->path : "(null)";
  size_t index;
  if (!find_live(t->snapshot, f, &index))
    return tarn_err(err, TARN_EINVAL, "delta table %s: remove %s: not a live file of version %lld",
                    t->table_dir, shown, (long long)t->read_version);
  if (t->removed[index])
    return tarn_err(err, TARN_EINVAL, "delta table %s: remove %s: already removed", t->table_dir,
                    shown);
  /* PROTOCOL.md "Append-only Tables": rearranging data (dataChange false) is still allowed. */
  if (t->append_only && !t->rearrange_only)
    return tarn_err(err, TARN_EINVAL,
                    "delta table %s: remove %s: the table is append-only (delta.appendOnly)",
                    t->table_dir, shown);
  /* the snapshot's partition values follow its partition columns, whatever this transaction's
   * metadata says */
  const delta_file *live = &t->snapshot->files[index];
  const delta_snapshot *s = t->snapshot;
  cJSON *r = cJSON_CreateObject(), *pv = cJSON_CreateObject();
  bool ok = r && pv && cJSON_AddStringToObject(r, "path", live->path) &&
            add_i64(r, "deletionTimestamp", now_ms()) &&
            cJSON_AddBoolToObject(r, "dataChange", !t->rearrange_only) &&
            cJSON_AddTrueToObject(r, "extendedFileMetadata");
  for (size_t c = 0; ok && c < s->n_partition_columns; c++) {
    const char *key = s->partition_columns[c];
    for (size_t k = 0; k < s->schema->n_fields; k++)
      if (strcmp(s->schema->fields[k].name, key) == 0 && s->schema->fields[k].physical_name)
        key = s->schema->fields[k].physical_name;
    const char *v = live->partition_values[c];
    ok = v ? cJSON_AddStringToObject(pv, key, v) != NULL : cJSON_AddNullToObject(pv, key) != NULL;
  }
  if (ok && cJSON_AddItemToObject(r, "partitionValues", pv)) pv = NULL;
  ok = ok && pv == NULL && add_i64(r, "size", live->size);
  if (ok && live->dv.storage_type) {
    cJSON *d = dv_object(&live->dv);
    ok = d && cJSON_AddItemToObject(r, "deletionVector", d);
    if (!ok) cJSON_Delete(d);
  }
  ok = ok && cJSON_AddItemToArray(t->removes, r);
  cJSON_Delete(pv);
  if (!ok) {
    cJSON_Delete(r);
    return oom(err);
  }
  t->removed[index] = true;
  return 0;
}

/* The latest version of app_id in the read snapshot, or -1. */
static int64_t snapshot_app_version(const delta_snapshot *s, const char *app_id) {
  if (s == NULL) return -1;
  for (size_t i = 0; i < s->n_txns; i++)
    if (strcmp(s->txn_app_ids[i], app_id) == 0) return s->txn_versions[i];
  return -1;
}

int delta_txn_set_app_version(delta_txn *t, const char *app_id, int64_t version, tarn_error *err) {
  if (app_id == NULL || app_id[0] == 0)
    return tarn_err(err, TARN_EINVAL, "delta table %s: empty application id", t->table_dir);
  int64_t have = snapshot_app_version(t->snapshot, app_id);
  if (have >= version)
    return tarn_err(err, TARN_EINVAL,
                    "delta table %s: application %s version %" PRId64
                    " is already committed (the table has its version %" PRId64 ")",
                    t->table_dir, app_id, version, have);
  char *copy = strdup(app_id);
  if (copy == NULL) return oom(err);
  free(t->app_id);
  t->app_id = copy;
  t->app_version = version;
  return 0;
}

int delta_txn_set_operation(delta_txn *t, const char *operation, const char *parameters_json,
                            tarn_error *err) {
  cJSON *params = NULL;
  if (parameters_json) {
    params = cJSON_Parse(parameters_json);
    if (!cJSON_IsObject(params)) {
      cJSON_Delete(params);
      return tarn_err(err, TARN_EINVAL,
                      "delta table %s: operation parameters are not a JSON object: %.100s",
                      t->table_dir, parameters_json);
    }
  }
  char *op = operation ? strdup(operation) : NULL;
  if (operation && op == NULL) {
    cJSON_Delete(params);
    return oom(err);
  }
  free(t->operation);
  cJSON_Delete(t->parameters);
  t->operation = op;
  t->parameters = params;
  return 0;
}

/* ---- Writing the commit ------------------------------------------------------------------------
 */

/* Appends {"<kind>": body} as one line (body is borrowed, not consumed). */
int delta_txn_set_metric(delta_txn *t, const char *name, int64_t value, tarn_error *err) {
  char text[32];
  snprintf(text, sizeof text, "%" PRId64, value);
  if (t->metrics == NULL && (t->metrics = cJSON_CreateObject()) == NULL) return oom(err);
  cJSON_DeleteItemFromObjectCaseSensitive(t->metrics, name);
  return cJSON_AddStringToObject(t->metrics, name, text) ? 0 : oom(err);
}

static int append_line(char **text, size_t *len, size_t *cap, const char *kind, cJSON *body) {
  cJSON *wrap = cJSON_CreateObject();
  if (wrap == NULL) return -1;
  /* a reference to body's members, so printing does not copy or consume the action */
  cJSON *ref = cJSON_CreateObjectReference(body->child);
  if (ref == NULL || !cJSON_AddItemToObject(wrap, kind, ref)) {
    cJSON_Delete(ref);
    cJSON_Delete(wrap);
    return -1;
  }
  char *line = cJSON_PrintUnformatted(wrap);
  cJSON_Delete(wrap);
  if (line == NULL) return -1;
  size_t n = strlen(line);
  if (*len + n + 2 > *cap) {
    size_t c = (*cap ? *cap * 2 : 4096);
    while (c < *len + n + 2)
      c *= 2;
    char *p = realloc(*text, c);
    if (p == NULL) {
      free(line);
      return -1;
    }
    *text = p;
    *cap = c;
  }
  memcpy(*text + *len, line, n);
  (*text)[*len + n] = '\n';
  *len += n + 1;
  (*text)[*len] = 0;
  free(line);
  return 0;
}

static bool is_blind_append(const delta_txn *t) {
  return cJSON_GetArraySize(t->removes) == 0 && t->metadata == NULL && t->protocol == NULL;
}

/* The commit's text: commitInfo, protocol, metaData, txn, removes, adds. */
static int build_commit_text(const delta_txn *t, char **out, size_t *out_len, tarn_error *err) {
  char *text = NULL;
  size_t len = 0, cap = 0;
  int64_t now = now_ms();
  const char *op = t->operation ? t->operation : t->read_version < 0 ? "CREATE TABLE" : "WRITE";
  cJSON *info = cJSON_CreateObject(), *txn = NULL;
  bool ok =
      info && add_i64(info, "timestamp", now) && cJSON_AddStringToObject(info, "operation", op);
  if (ok) {
    cJSON *params =
        t->parameters ? cJSON_CreateObjectReference(t->parameters->child) : cJSON_CreateObject();
    ok = params && cJSON_AddItemToObject(info, "operationParameters", params);
    if (!ok) cJSON_Delete(params);
  }
  if (ok && t->metrics) {
    cJSON *m = cJSON_CreateObjectReference(t->metrics->child);
    ok = m && cJSON_AddItemToObject(info, "operationMetrics", m);
    if (!ok) cJSON_Delete(m);
  }
  if (ok && t->read_version >= 0) ok = add_i64(info, "readVersion", t->read_version);
  ok = ok && cJSON_AddBoolToObject(info, "isBlindAppend", is_blind_append(t)) &&
       cJSON_AddStringToObject(info, "engineInfo", "tarn");
  ok = ok && append_line(&text, &len, &cap, "commitInfo", info) == 0;
  if (ok && t->protocol) ok = append_line(&text, &len, &cap, "protocol", t->protocol) == 0;
  if (ok && t->metadata) ok = append_line(&text, &len, &cap, "metaData", t->metadata) == 0;
  if (ok && t->app_id) {
    txn = cJSON_CreateObject();
    ok = txn && cJSON_AddStringToObject(txn, "appId", t->app_id) &&
         add_i64(txn, "version", t->app_version) && add_i64(txn, "lastUpdated", now) &&
         append_line(&text, &len, &cap, "txn", txn) == 0;
  }
  const cJSON *e;
  cJSON_ArrayForEach(e, t->removes) {
    if (ok) ok = append_line(&text, &len, &cap, "remove", (cJSON *)e) == 0;
  }
  cJSON_ArrayForEach(e, t->adds) {
    if (ok) ok = append_line(&text, &len, &cap, "add", (cJSON *)e) == 0;
  }
  cJSON_ArrayForEach(e, t->cdcs) {
    if (ok) ok = append_line(&text, &len, &cap, "cdc", (cJSON *)e) == 0;
  }
  cJSON_Delete(info);
  cJSON_Delete(txn);
  if (!ok) {
    free(text);
    return oom(err);
  }
  *out = text;
  *out_len = len;
  return 0;
}

/* mkdir -p for the table directory, then `_delta_log` (fsyncing the table directory so the new
 * log directory survives a crash). */
static int make_log_dir(const delta_txn *t, tarn_error *err) {
  char *p = strdup(t->table_dir);
  if (p == NULL) return oom(err);
  for (char *s = p + 1; *s; s++) {
    if (*s != '/') continue;
    *s = 0;
    if (mkdir(p, 0777) != 0 && errno != EEXIST) break;
    *s = '/';
  }
  free(p);
  if (mkdir(t->table_dir, 0777) != 0 && errno != EEXIST)
    return tarn_err(err, TARN_EIO, "delta table %s: cannot create the table directory: %s",
                    t->table_dir, strerror(errno));
  if (mkdir(t->log_dir, 0777) != 0) {
    if (errno == EEXIST) return 0;
    return tarn_err(err, TARN_EIO, "delta table %s: cannot create %s: %s", t->table_dir, t->log_dir,
                    strerror(errno));
  }
  if (tarn_fsync_dir(t->table_dir) != 0)
    return tarn_err(err, TARN_EIO, "delta table %s: cannot sync the table directory: %s",
                    t->table_dir, strerror(errno));
  return 0;
}

/* Writes text to a new uniquely named temporary file in the log directory and fsyncs it. */
static int write_temp(const delta_txn *t, const char *text, size_t len, char **tmp_path,
                      tarn_error *err) {
  uint64_t nonce;
  if (random_bytes(&nonce, sizeof nonce) != 0) nonce = (uint64_t)now_ms();
  char name[64];
  snprintf(name, sizeof name, ".tmp-%ld-%016" PRIx64 ".json", (long)getpid(), nonce);
  char *path = tarn_path_join(t->log_dir, name);
  if (path == NULL) return oom(err);
  int saved = tarn_write_file_synced(path, text, len);
  if (saved) {
    int rc = tarn_err(err, TARN_EIO, "delta table %s: cannot write %s: %s", t->table_dir, path,
                      strerror(saved));
    free(path);
    return rc;
  }
  *tmp_path = path;
  return 0;
}

/* ---- Conflict checks ------------------------------------------------------------------------ */

static int conflict(const delta_txn *t, const char *file, tarn_error *err, const char *what,
                    const char *detail) {
  return tarn_err(err, TARN_ECONFLICT,
                  "delta table %s: commit conflict with concurrent commit %s: %s%s", t->table_dir,
                  file, what, detail ? detail : "");
}

typedef struct winner_scan {
  bool added_data, has_remove, has_blind_flag, blind_flag;
  bool added_matching; /* a data file this transaction's read filter may match (or no filter) */
} winner_scan;

/* Whether winner's add action a could hold rows this transaction would have read: the read
 * filter asked with the file's partition values (in the read snapshot's partition column
 * order) and statistics. No filter, no snapshot or partition values it cannot place: yes. */
static bool add_may_matter(const delta_txn *t, const cJSON *a) {
  const delta_snapshot *s = t->snapshot;
  if (t->add_filter == NULL || s == NULL) return true;
  const cJSON *pv = cJSON_GetObjectItemCaseSensitive(a, "partitionValues");
  const char *values[64];
  size_t n = s->n_partition_columns;
  if (n > 64 || (n && !cJSON_IsObject(pv))) return true;
  for (size_t c = 0; c < n; c++) {
    const char *key = s->partition_columns[c];
    for (size_t k = 0; k < s->schema->n_fields; k++)
      if (strcmp(s->schema->fields[k].name, key) == 0 && s->schema->fields[k].physical_name)
        key = s->schema->fields[k].physical_name;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(pv, key);
    if (v != NULL && !cJSON_IsNull(v) && !cJSON_IsString(v)) return true;
    values[c] = cJSON_IsString(v) ? v->valuestring : NULL;
  }
  return t->add_filter(t->add_filter_arg, values, n, delta_json_str(a, "stats"));
}

static int check_winner_action(const delta_txn *t, const char *file, const cJSON *line,
                               winner_scan *w, tarn_error *err) {
  const cJSON *a;
  cJSON_ArrayForEach(a, line) {
    const char *kind = a->string;
    if (kind == NULL) continue;
    if (strcmp(kind, "metaData") == 0)
      return conflict(t, file, err, "it changed the table metadata", NULL);
    if (strcmp(kind, "protocol") == 0)
      return conflict(t, file, err, "it changed the table protocol", NULL);
    if (strcmp(kind, "add") == 0) {
      const char *path = delta_json_str(a, "path");
      const cJSON *dc = cJSON_GetObjectItemCaseSensitive(a, "dataChange");
      if (!cJSON_IsFalse(dc)) {
        w->added_data = true;
        if (!w->added_matching && add_may_matter(t, a)) w->added_matching = true;
      }
      if (path && sorted_contains(t->add_paths, t->n_add_paths, path))
        return conflict(t, file, err, "it added the same file ", path);
    } else if (strcmp(kind, "remove") == 0) {
      const char *path = delta_json_str(a, "path");
      w->has_remove = true;
      if (path && sorted_contains(t->remove_paths, t->n_remove_paths, path))
        return conflict(t, file, err, "it removed the same file ", path);
    } else if (strcmp(kind, "txn") == 0) {
      const char *app = delta_json_str(a, "appId");
      const cJSON *v = cJSON_GetObjectItemCaseSensitive(a, "version");
      if (t->app_id && app && strcmp(app, t->app_id) == 0 && cJSON_IsNumber(v) &&
          v->valuedouble >= (double)t->app_version)
        return tarn_err(err, TARN_EINVAL,
                        "delta table %s: application %s version %" PRId64
                        " is already committed (by concurrent commit %s)",
                        t->table_dir, t->app_id, t->app_version, file);
    } else if (strcmp(kind, "commitInfo") == 0) {
      const cJSON *b = cJSON_GetObjectItemCaseSensitive(a, "isBlindAppend");
      if (cJSON_IsBool(b)) {
        w->has_blind_flag = true;
        w->blind_flag = cJSON_IsTrue(b);
      }
    }
  }
  return 0;
}

static int read_file(const delta_txn *t, const char *path, char **out, size_t *out_len,
                     bool *missing, tarn_error *err) {
  int e = tarn_read_file(path, DELTA_MAX_COMMIT_FILE, out, out_len, NULL);
  *missing = e == ENOENT;
  if (e == 0 || e == ENOENT) return 0;
  if (e == ENOMEM) return oom(err);
  return tarn_err(err, TARN_EIO, "delta table %s: cannot read %s: %s", t->table_dir, path,
                  e == EFBIG    ? "too large"
                  : e == EINVAL ? "not a regular file"
                                : strerror(e));
}

/* Checks winning commit `version` against this transaction. *missing: it does not exist. */
static int check_winner(const delta_txn *t, int64_t version, bool *missing, tarn_error *err) {
  char name[32];
  commit_name(name, sizeof name, version);
  char *path = tarn_path_join(t->log_dir, name);
  if (path == NULL) return oom(err);
  char *text = NULL;
  size_t len = 0;
  int rc = read_file(t, path, &text, &len, missing, err);
  if (rc || *missing) {
    free(path);
    return rc;
  }
  if (t->metadata || t->protocol)
    rc = conflict(t, path, err, "this transaction changes the metadata or protocol", NULL);
  winner_scan w = {0};
  int line_no = 0;
  for (size_t i = 0; rc == 0 && i < len;) {
    size_t end = i;
    while (end < len && text[end] != '\n')
      end++;
    line_no++;
    size_t start = i;
    i = end + 1;
    bool blank = true;
    for (size_t k = start; k < end && blank; k++)
      blank = text[k] == ' ' || text[k] == '\t' || text[k] == '\r';
    if (blank) continue;
    cJSON *line = cJSON_ParseWithLength(text + start, end - start);
    if (!cJSON_IsObject(line))
      rc = tarn_err(err, TARN_ECORRUPT, "delta table %s: %s line %d is not a JSON object",
                    t->table_dir, path, line_no);
    else
      rc = check_winner_action(t, path, line, &w, err);
    cJSON_Delete(line);
  }
  if (rc == 0 && t->n_remove_paths > 0 && w.added_matching) {
    bool blind = w.has_blind_flag ? w.blind_flag : !w.has_remove;
    if (!blind)
      rc = conflict(t, path, err,
                    "it rewrote data (added files without being a blind append) that this "
                    "transaction's condition may match, while this transaction removes files",
                    NULL);
  }
  free(text);
  free(path);
  return rc;
}

/* Sorted path lists of this transaction's adds and removes; a path added twice is an error. */
static int collect_paths(delta_txn *t, tarn_error *err) {
  size_t na = (size_t)cJSON_GetArraySize(t->adds), nr = (size_t)cJSON_GetArraySize(t->removes);
  free(t->add_paths);
  free(t->remove_paths);
  t->n_add_paths = t->n_remove_paths = 0;
  t->add_paths = calloc(na ? na : 1, sizeof *t->add_paths);
  t->remove_paths = calloc(nr ? nr : 1, sizeof *t->remove_paths);
  if (t->add_paths == NULL || t->remove_paths == NULL) return oom(err);
  const cJSON *e;
  cJSON_ArrayForEach(e, t->adds) t->add_paths[t->n_add_paths++] = delta_json_str(e, "path");
  cJSON_ArrayForEach(e, t->removes) t->remove_paths[t->n_remove_paths++] =
      delta_json_str(e, "path");
  qsort(t->add_paths, t->n_add_paths, sizeof *t->add_paths, cmp_str);
  qsort(t->remove_paths, t->n_remove_paths, sizeof *t->remove_paths, cmp_str);
  for (size_t i = 1; i < t->n_add_paths; i++)
    if (strcmp(t->add_paths[i - 1], t->add_paths[i]) == 0)
      return tarn_err(err, TARN_EINVAL, "delta table %s: file %s is added twice", t->table_dir,
                      t->add_paths[i]);
  return 0;
}

/* Refuses tables whose protocol asks the writer for actions this layer does not produce. */
static int check_writable(const delta_txn *t, tarn_error *err) {
  static const char *const unsupported[] = {"rowTracking", "inCommitTimestamp"};
  int writer = 0;
  const char *const *features = NULL;
  size_t n_features = 0;
  const char **list = NULL;
  if (t->protocol) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(t->protocol, "minWriterVersion");
    writer = cJSON_IsNumber(v) ? (int)v->valuedouble : 0;
    const cJSON *wf = cJSON_GetObjectItemCaseSensitive(t->protocol, "writerFeatures");
    size_t n = (size_t)cJSON_GetArraySize(wf);
    list = calloc(n ? n : 1, sizeof *list);
    if (list == NULL) return oom(err);
    const cJSON *e;
    cJSON_ArrayForEach(e, wf) list[n_features++] = e->valuestring;
    features = list;
  } else if (t->snapshot) {
    writer = t->snapshot->min_writer_version;
    features = t->snapshot->writer_features;
    n_features = t->snapshot->n_writer_features;
  }
  int rc = 0;
  if (writer > 7)
    rc = tarn_err(err, TARN_EUNSUPPORTED,
                  "delta table %s: table requires writer version %d, tarn writes versions 1 to 7",
                  t->table_dir, writer);
  for (size_t i = 0; rc == 0 && i < n_features; i++)
    for (size_t k = 0; rc == 0 && k < sizeof unsupported / sizeof *unsupported; k++)
      if (strcmp(features[i], unsupported[k]) == 0)
        rc = tarn_err(err, TARN_EUNSUPPORTED,
                      "delta table %s: table requires writer feature '%s', which tarn does not "
                      "write",
                      t->table_dir, features[i]);
  free(list);
  return rc;
}

int delta_txn_commit(delta_txn *t, int max_retries, int64_t *version, tarn_error *err) {
  if (t->committed)
    return tarn_err(err, TARN_EINVAL, "delta table %s: the transaction is already committed",
                    t->table_dir);
  if (t->read_version < 0 && (t->protocol == NULL || t->metadata == NULL))
    return tarn_err(err, TARN_EINVAL,
                    "delta table %s: creating a table needs a protocol and a metaData action",
                    t->table_dir);
  int rc = check_writable(t, err);
  if (rc == 0) rc = collect_paths(t, err);
  if (rc == 0 && t->read_version < 0) rc = make_log_dir(t, err);
  char *text = NULL, *tmp = NULL;
  size_t len = 0;
  if (rc == 0) rc = build_commit_text(t, &text, &len, err);
  if (rc == 0) rc = write_temp(t, text, len, &tmp, err);
  free(text);
  if (rc) return rc;

  /* The same temporary file is linked at successive versions until one is free. */
  int64_t v = t->read_version + 1;
  int retries = 0;
  for (;;) {
    char name[32];
    commit_name(name, sizeof name, v);
    char *target = tarn_path_join(t->log_dir, name);
    if (target == NULL) {
      rc = oom(err);
      break;
    }
    if (link(tmp, target) == 0) {
      if (tarn_fsync_dir(t->log_dir) != 0)
        rc = tarn_err(err, TARN_EIO, "delta table %s: cannot sync %s after writing %s: %s",
                      t->table_dir, t->log_dir, target, strerror(errno));
      free(target);
      break;
    }
    if (errno != EEXIST) {
      rc = tarn_err(err, TARN_EIO, "delta table %s: cannot create %s: %s", t->table_dir, target,
                    strerror(errno));
      free(target);
      break;
    }
    free(target);
    if (retries >= max_retries) {
      rc = tarn_err(err, TARN_ECONFLICT,
                    "delta table %s: version %" PRId64 " was taken by another writer; gave up "
                    "after %d retries",
                    t->table_dir, v, retries);
      break;
    }
    retries++;
    /* read every winner from the lost version up to the latest, then try the next one */
    bool missing = false;
    for (int64_t w = v; rc == 0; w++) {
      rc = check_winner(t, w, &missing, err);
      if (rc == 0 && missing) {
        if (w == v) /* it existed a moment ago: log cleanup raced us, state unknown */
          rc = tarn_err(err, TARN_ECONFLICT,
                        "delta table %s: concurrent commit %" PRId64 " disappeared while being "
                        "checked",
                        t->table_dir, w);
        v = w;
        break;
      }
    }
    if (rc) break;
  }
  unlink(tmp);
  free(tmp);
  if (rc == 0) {
    t->committed = true;
    *version = v;
    /* Checkpoint every delta.checkpointInterval-th version. The interval in force at v is the
     * one of the metadata this commit sets, else the read snapshot's (a winner that changed the
     * metadata is a conflict), so the commits that are not due skip the snapshot load of
     * delta_checkpoint_maybe, which checks again on the version it loads. The commit is durable
     * already (linked, directory synced) and readers never need a checkpoint, so a failure (a
     * full disk, a table tarn may not checkpoint, a race with another writer) must not turn a
     * committed transaction into an error that a caller would report or retry: it is dropped. */
    const char *interval =
        t->metadata ? delta_json_str(cJSON_GetObjectItemCaseSensitive(t->metadata, "configuration"),
                                     "delta.checkpointInterval")
        : t->snapshot ? delta_snapshot_config(t->snapshot, "delta.checkpointInterval")
                      : NULL;
    if (v > 0 && v % delta_checkpoint_interval_value(interval) == 0) {
      tarn_error checkpoint_err = {0};
      (void)delta_checkpoint_maybe(t->table_dir, v, &checkpoint_err);
      tarn_err_clear(&checkpoint_err);
    }
  }
  return rc;
}

void delta_txn_free(delta_txn *t) {
  if (t == NULL) return;
  free(t->table_dir);
  free(t->log_dir);
  delta_snapshot_free(t->snapshot);
  cJSON_Delete(t->protocol);
  cJSON_Delete(t->metadata);
  free_partition_keys(t);
  free(t->app_id);
  cJSON_Delete(t->removes);
  cJSON_Delete(t->adds);
  cJSON_Delete(t->cdcs);
  free(t->removed);
  free(t->operation);
  cJSON_Delete(t->parameters);
  cJSON_Delete(t->metrics);
  free(t->add_paths);
  free(t->remove_paths);
  free(t);
}
