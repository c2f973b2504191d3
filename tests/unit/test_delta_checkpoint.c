/*
 * Delta checkpoints (src/table/delta/delta_checkpoint.c) and what the log reader does with
 * checkpoint-related files (delta_log.c: `_last_checkpoint`, `stats_parsed`, log compaction).
 *
 * Expected values come from outside the code under test:
 *  - tables committed here through delta_txn, whose state follows from what was committed
 *    (the files, partition values, stats, application versions written down beside the
 *    commits); the snapshot read back through a checkpoint must equal both that and the JSON
 *    replay, including after the commits the checkpoint covers are deleted, so the checkpoint
 *    alone carries the state;
 *  - the checkpoint Parquet file read with tarn's Parquet reader and walked column by column
 *    here (one non-null action per row, the columns PROTOCOL.md names, the metadata id as the
 *    JSON commit wrote it);
 *  - hand-written logs (deletion vectors, column mapping, domains, row tracking, v2Checkpoint,
 *    refused features, log compaction files whose content differs from the commits so their
 *    use is visible) and hand-built checkpoint Parquet files (stats_parsed with values whose
 *    JSON form was worked out by hand, malformed checkpoints);
 *  - tables with delta.checkpoint.writeStatsAsStruct and hand-written stats JSON: the
 *    stats_parsed and partitionValues_parsed values in the file worked out by hand (days,
 *    microseconds, unscaled decimals), and the stats JSON the reader makes of stats_parsed alone
 *    written by hand too;
 *  - the shared data: stats_parsed-only checkpoints against the stats strings of the JSON
 *    commits they summarise, and kernel-rs' compacted-log table against the same table read
 *    without its compaction files (and file counts from an independent Python replay).
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "arrow_build.h"
#include "check.h"
#include "shared_data.h"
#include "table/delta/delta_checkpoint.h"
#include "table/delta/delta_commit.h"
#include "text_file.h"

#define KERNEL_DATA "testdata/delta-kernel-rs/kernel/tests/data/"
#define DELTA_RS "testdata/delta-rs/crates/test/tests/data/"

#define SCHEMA                                                                                     \
  "{\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"long\",\"nullable\":true,"         \
  "\"metadata\":{}},{\"name\":\"part\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}}]}"

static char tmp_root[256];

/* ---- Files ---------------------------------------------------------------------------------- */

static void table_path(char *out, size_t cap, const char *name) {
  snprintf(out, cap, "%s/%s", tmp_root, name);
}

static void write_file(const char *dir, const char *name, const char *text) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  CHECK(f != NULL);
  if (f == NULL) return;
  fwrite(text, 1, strlen(text), f);
  fclose(f);
}

static bool log_file_exists(const char *table, const char *name) {
  char path[1024];
  snprintf(path, sizeof path, "%s/_delta_log/%s", table, name);
  struct stat st;
  return stat(path, &st) == 0;
}

static bool checkpoint_exists(const char *table, int64_t v) {
  char name[64];
  snprintf(name, sizeof name, "%020lld.checkpoint.parquet", (long long)v);
  return log_file_exists(table, name);
}

static void remove_log_file(const char *table, const char *name) {
  char path[1024];
  snprintf(path, sizeof path, "%s/_delta_log/%s", table, name);
  CHECK_EQ_INT(unlink(path), 0);
}

static void remove_commits(const char *table, int64_t first, int64_t last) {
  for (int64_t v = first; v <= last; v++) {
    char name[64];
    snprintf(name, sizeof name, "%020lld.json", (long long)v);
    remove_log_file(table, name);
  }
}

/* Files in _delta_log whose name starts with '.' (temporary files left behind). */
static int hidden_files(const char *table) {
  char dir[1024];
  snprintf(dir, sizeof dir, "%s/_delta_log", table);
  DIR *d = opendir(dir);
  if (d == NULL) return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] == '.' && strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
  closedir(d);
  return n;
}

static void shell(const char *fmt, const char *a, const char *b) {
  char cmd[4096];
  snprintf(cmd, sizeof cmd, fmt, a, b);
  CHECK_EQ_INT(system(cmd), 0);
}

/* A writable copy of a table directory. */
static void copy_table(const char *from, const char *to) {
  shell("rm -rf '%2$s' && cp -r '%1$s' '%2$s' && chmod -R u+w '%2$s'", from, to);
}

static void make_log_dir(const char *table) {
  char log[1024];
  mkdir(table, 0777);
  snprintf(log, sizeof log, "%s/_delta_log", table);
  mkdir(log, 0777);
}

/* ---- Committing through delta_txn ----------------------------------------------------------- */

static delta_txn *begin(const char *dir) {
  delta_txn *t = NULL;
  tarn_error err = {0};
  int rc = delta_txn_begin(dir, &t, &err);
  CHECK_EQ_INT(rc, 0);
  if (rc) fprintf(stderr, "  begin: %s\n", err.message);
  return t;
}

static void add(delta_txn *t, const char *path, const char *part, int64_t size, const char *stats) {
  tarn_error err = {0};
  const char *pv[1] = {part};
  int rc = delta_txn_add_file(t, path, pv, size, 1700000000000 + size, stats, &err);
  CHECK_EQ_INT(rc, 0);
  if (rc) fprintf(stderr, "  add %s: %s\n", path, err.message);
}

static void remove_path(delta_txn *t, const char *path) {
  const delta_snapshot *s = delta_txn_snapshot(t);
  const delta_file *f = NULL;
  for (size_t i = 0; s && i < s->n_files; i++)
    if (strcmp(s->files[i].path, path) == 0) f = &s->files[i];
  CHECK(f != NULL);
  tarn_error err = {0};
  if (f) CHECK_EQ_INT(delta_txn_remove_file(t, f, &err), 0);
}

static void app_version(delta_txn *t, const char *app, int64_t v) {
  tarn_error err = {0};
  CHECK_EQ_INT(delta_txn_set_app_version(t, app, v, &err), 0);
}

static void metadata(delta_txn *t, const char *k1, const char *v1, const char *k2, const char *v2) {
  const char *parts[1] = {"part"};
  const char *keys[2] = {k1, k2}, *values[2] = {v1, v2};
  tarn_error err = {0};
  int rc = delta_txn_set_metadata(t, SCHEMA, parts, 1, keys, values, k2 ? 2 : k1 ? 1 : 0, &err);
  CHECK_EQ_INT(rc, 0);
  if (rc) fprintf(stderr, "  metadata: %s\n", err.message);
}

static void protocol12(delta_txn *t) {
  tarn_error err = {0};
  CHECK_EQ_INT(delta_txn_set_protocol(t, 1, 2, NULL, 0, NULL, 0, &err), 0);
}

static int64_t commit(delta_txn *t) {
  int64_t v = -1;
  tarn_error err = {0};
  int rc = t ? delta_txn_commit(t, 3, &v, &err) : -1;
  CHECK_EQ_INT(rc, 0);
  if (rc) fprintf(stderr, "  commit: %s\n", err.message);
  delta_txn_free(t);
  return v;
}

/* ---- Snapshots ------------------------------------------------------------------------------ */

static delta_snapshot *load(const char *dir, int64_t version) {
  delta_snapshot *s = NULL;
  tarn_error err = {0};
  int rc = delta_snapshot_load(dir, version, &s, &err);
  CHECK_EQ_INT(rc, 0);
  if (rc) fprintf(stderr, "  load %s@%lld: %s\n", dir, (long long)version, err.message);
  return s;
}

static bool same_str(const char *a, const char *b) {
  return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

#define CHECK_SAME_STR(a, b)                                                                       \
  do {                                                                                             \
    if (!same_str((a), (b)))                                                                       \
      fprintf(stderr, "  %s: \"%s\" vs \"%s\"\n", #a, (a) ? (a) : "(null)", (b) ? (b) : "(null)"); \
    CHECK(same_str((a), (b)));                                                                     \
  } while (0)

static const char *config_of(const delta_snapshot *s, const char *key) {
  return delta_snapshot_config(s, key);
}

/* Everything a snapshot holds, compared field by field (the commit time aside). */
static void check_same_snapshot(const delta_snapshot *a, const delta_snapshot *b) {
  CHECK(a != NULL && b != NULL);
  if (a == NULL || b == NULL) return;
  CHECK_EQ_INT(a->version, b->version);
  CHECK_EQ_INT(a->min_reader_version, b->min_reader_version);
  CHECK_EQ_INT(a->min_writer_version, b->min_writer_version);
  CHECK_EQ_INT(a->n_reader_features, b->n_reader_features);
  for (size_t i = 0; i < a->n_reader_features && i < b->n_reader_features; i++)
    CHECK_SAME_STR(a->reader_features[i], b->reader_features[i]);
  CHECK_EQ_INT(a->n_writer_features, b->n_writer_features);
  for (size_t i = 0; i < a->n_writer_features && i < b->n_writer_features; i++)
    CHECK_SAME_STR(a->writer_features[i], b->writer_features[i]);
  CHECK_SAME_STR(a->metadata_id, b->metadata_id);
  CHECK_SAME_STR(a->name, b->name);
  CHECK_SAME_STR(a->description, b->description);
  CHECK_SAME_STR(a->format_provider, b->format_provider);
  CHECK_SAME_STR(a->schema_string, b->schema_string);
  CHECK_EQ_INT(a->created_time, b->created_time);
  CHECK_EQ_INT(a->n_partition_columns, b->n_partition_columns);
  for (size_t i = 0; i < a->n_partition_columns && i < b->n_partition_columns; i++)
    CHECK_SAME_STR(a->partition_columns[i], b->partition_columns[i]);
  CHECK_EQ_INT(a->n_config, b->n_config);
  for (size_t i = 0; i < a->n_config; i++)
    CHECK_SAME_STR(a->config_values[i], config_of(b, a->config_keys[i]));
  CHECK_EQ_INT(a->n_files, b->n_files);
  for (size_t i = 0; i < a->n_files && i < b->n_files; i++) {
    const delta_file *x = &a->files[i], *y = &b->files[i];
    CHECK_SAME_STR(x->path, y->path);
    CHECK_EQ_INT(x->size, y->size);
    CHECK_EQ_INT(x->modification_time, y->modification_time);
    CHECK_SAME_STR(x->stats, y->stats);
    for (size_t c = 0; c < a->n_partition_columns && c < b->n_partition_columns; c++)
      CHECK_SAME_STR(x->partition_values[c], y->partition_values[c]);
    CHECK_EQ_INT(x->dv.storage_type, y->dv.storage_type);
    if (x->dv.storage_type && y->dv.storage_type) {
      CHECK_SAME_STR(x->dv.path_or_inline, y->dv.path_or_inline);
      CHECK_EQ_INT(x->dv.offset, y->dv.offset);
      CHECK_EQ_INT(x->dv.size_in_bytes, y->dv.size_in_bytes);
      CHECK_EQ_INT(x->dv.cardinality, y->dv.cardinality);
    }
    CHECK_EQ_INT(x->base_row_id, y->base_row_id);
    CHECK_EQ_INT(x->default_row_commit_version, y->default_row_commit_version);
  }
  CHECK_EQ_INT(a->n_txns, b->n_txns);
  for (size_t i = 0; i < a->n_txns; i++) {
    bool found = false;
    for (size_t k = 0; k < b->n_txns; k++)
      if (strcmp(a->txn_app_ids[i], b->txn_app_ids[k]) == 0) {
        found = true;
        CHECK_EQ_INT(a->txn_versions[i], b->txn_versions[k]);
      }
    CHECK(found);
  }
  CHECK_EQ_INT(a->n_domains, b->n_domains);
  for (size_t i = 0; i < a->n_domains; i++) {
    bool found = false;
    for (size_t k = 0; k < b->n_domains; k++)
      if (strcmp(a->domains[i], b->domains[k]) == 0) {
        found = true;
        CHECK_SAME_STR(a->domain_configs[i], b->domain_configs[k]);
      }
    CHECK(found);
  }
  CHECK_EQ_INT(a->n_tombstones, b->n_tombstones);
  for (size_t i = 0; i < a->n_tombstones && i < b->n_tombstones; i++) {
    const delta_tombstone *x = &a->tombstones[i], *y = &b->tombstones[i];
    CHECK_SAME_STR(x->path, y->path);
    CHECK_EQ_INT(x->deletion_timestamp, y->deletion_timestamp);
    CHECK_EQ_INT(x->data_change, y->data_change);
    CHECK_EQ_INT(x->extended_file_metadata, y->extended_file_metadata);
    CHECK_EQ_INT(x->size, y->size);
    CHECK_EQ_INT(x->partition_keys != NULL, y->partition_keys != NULL);
    CHECK_EQ_INT(x->n_partition_values, y->n_partition_values);
    for (size_t k = 0; k < x->n_partition_values && k < y->n_partition_values; k++) {
      CHECK_SAME_STR(x->partition_keys[k], y->partition_keys[k]);
      CHECK_SAME_STR(x->partition_values[k], y->partition_values[k]);
    }
    CHECK_EQ_INT(x->dv.storage_type, y->dv.storage_type);
    if (x->dv.storage_type && y->dv.storage_type) {
      CHECK_SAME_STR(x->dv.path_or_inline, y->dv.path_or_inline);
      CHECK_EQ_INT(x->dv.offset, y->dv.offset);
      CHECK_EQ_INT(x->dv.size_in_bytes, y->dv.size_in_bytes);
      CHECK_EQ_INT(x->dv.cardinality, y->dv.cardinality);
    }
    CHECK_EQ_INT(x->base_row_id, y->base_row_id);
    CHECK_EQ_INT(x->default_row_commit_version, y->default_row_commit_version);
  }
}

/* What a test committed: one file. */
typedef struct want_file {
  const char *path;
  const char *part; /* NULL: a null partition value */
  int64_t size;
  const char *stats;
} want_file;

static void check_files(const delta_snapshot *s, const want_file *want, size_t n) {
  CHECK(s != NULL);
  if (s == NULL) return;
  CHECK_EQ_INT(s->n_files, n);
  for (size_t i = 0; i < n; i++) {
    const delta_file *f = NULL;
    for (size_t k = 0; k < s->n_files; k++)
      if (strcmp(s->files[k].path, want[i].path) == 0) f = &s->files[k];
    if (f == NULL) fprintf(stderr, "  missing file %s\n", want[i].path);
    CHECK(f != NULL);
    if (f == NULL) continue;
    CHECK_EQ_INT(f->size, want[i].size);
    CHECK_EQ_INT(f->modification_time, 1700000000000 + want[i].size);
    CHECK_SAME_STR(f->partition_values[0], want[i].part);
    CHECK_SAME_STR(f->stats, want[i].stats);
    CHECK_EQ_INT(f->dv.storage_type, 0);
  }
}

static int64_t txn_version(const delta_snapshot *s, const char *app) {
  for (size_t i = 0; s && i < s->n_txns; i++)
    if (strcmp(s->txn_app_ids[i], app) == 0) return s->txn_versions[i];
  return -1;
}

static int write_checkpoint(const delta_snapshot *s, tarn_error *err) {
  memset(err, 0, sizeof *err);
  int rc = delta_checkpoint_write(s, err);
  if (rc) fprintf(stderr, "  checkpoint: %s\n", err->message);
  return rc;
}

/* ---- Reading a checkpoint file back as Arrow ------------------------------------------------ */

typedef struct tcol {
  const struct ArrowSchema *s;
  const struct ArrowArray *a;
} tcol;

static tcol tchild(tcol c, const char *name) {
  for (int64_t i = 0; c.s && i < c.s->n_children; i++)
    if (strcmp(c.s->children[i]->name, name) == 0)
      return (tcol){c.s->children[i], c.a ? c.a->children[i] : NULL};
  return (tcol){NULL, NULL};
}

/* Physical index of logical row i (offsets of the array itself added), or -1 when null. */
static int64_t tat(tcol c, int64_t i) {
  if (c.a == NULL || i < 0 || i >= c.a->length) return -1;
  int64_t p = c.a->offset + i;
  const uint8_t *v = c.a->buffers[0];
  if (c.a->null_count != 0 && v && !(v[p >> 3] & (1 << (p & 7)))) return -1;
  return p;
}

/* Row of a struct's field for the struct's logical row i. */
static int64_t trow(tcol parent, int64_t i) { return parent.a->offset + i; }

static bool tstr_eq(tcol c, int64_t i, const char *want) {
  int64_t p = tat(c, i);
  if (p < 0) return want == NULL;
  const int32_t *off = c.a->buffers[1];
  const char *data = c.a->buffers[2];
  size_t len = (size_t)(off[p + 1] - off[p]);
  return want && strlen(want) == len && memcmp(data + off[p], want, len) == 0;
}

static int64_t ti64(tcol c, int64_t i) {
  int64_t p = tat(c, i);
  if (p < 0) return INT64_MIN;
  if (strcmp(c.s->format, "i") == 0) return ((const int32_t *)c.a->buffers[1])[p];
  return ((const int64_t *)c.a->buffers[1])[p];
}

static int tbool(tcol c, int64_t i) {
  int64_t p = tat(c, i);
  if (p < 0) return -1;
  const uint8_t *bits = c.a->buffers[1];
  return (bits[p >> 3] >> (p & 7)) & 1;
}

/* Items [*b, *e) of a list or map value (for a map, rows of its key/value struct). */
static bool titems(tcol c, int64_t i, tcol *items, int64_t *b, int64_t *e) {
  int64_t p = tat(c, i);
  if (p < 0) return false;
  const int32_t *off = c.a->buffers[1];
  *items = (tcol){c.s->children[0], c.a->children[0]};
  *b = off[p];
  *e = off[p + 1];
  return true;
}

/* One remove row of a checkpoint file, copied out column by column (absent: -1, "" or 0). */
typedef struct rm_row {
  char path[128];
  int64_t deletion_timestamp;              /* INT64_MIN: null */
  int data_change, extended_file_metadata; /* -1: null */
  int n_pv;                                /* -1: a null map */
  char pv_key[64], pv_value[64];           /* the first entry; value "(null)" for a null */
  int64_t size;                            /* INT64_MIN: null */
  char dv_type;                            /* 0: a null deletionVector */
  char dv_path[64];
  int64_t dv_offset, dv_size, dv_cardinality; /* INT64_MIN: null */
  int64_t base_row_id, default_row_commit_version;
} rm_row;

#define VIEW_MAX_REMOVES 16

/* What a checkpoint file holds, counted here. */
typedef struct ckpt_view {
  bool readable;
  int64_t rows;
  int64_t bad_rows; /* rows without exactly one non-null action */
  int64_t n_txn, n_add, n_remove, n_meta, n_proto, n_domain, n_cp_meta;
  bool has_columns;       /* txn, add, remove, metaData, protocol all present */
  bool add_has_stats;     /* the add struct has a stats field */
  int64_t data_change_on; /* adds with dataChange not false */
  char meta_id[64];
  int64_t reader_features; /* -1: a null list */
  int64_t cp_meta_version;
  /* partitionValues of the add whose path is `probe`: key and value (value "(null)" for null) */
  const char *probe;
  char probe_key[64], probe_value[64];
  int probe_entries;
  rm_row removes[VIEW_MAX_REMOVES]; /* the first remove rows, in file order */
} ckpt_view;

/* The string at logical row i of c into out ("" when null). */
static void tstr_copy(tcol c, int64_t i, char *out, size_t cap) {
  int64_t p = tat(c, i);
  out[0] = 0;
  if (p < 0) return;
  const int32_t *off = c.a->buffers[1];
  snprintf(out, cap, "%.*s", (int)(off[p + 1] - off[p]), (const char *)c.a->buffers[2] + off[p]);
}

static void view_remove(tcol rem, int64_t row, rm_row *out) {
  int64_t r = trow(rem, row);
  tstr_copy(tchild(rem, "path"), r, out->path, sizeof out->path);
  out->deletion_timestamp = ti64(tchild(rem, "deletionTimestamp"), r);
  out->data_change = tbool(tchild(rem, "dataChange"), r);
  out->extended_file_metadata = tbool(tchild(rem, "extendedFileMetadata"), r);
  out->size = ti64(tchild(rem, "size"), r);
  out->base_row_id = ti64(tchild(rem, "baseRowId"), r);
  out->default_row_commit_version = ti64(tchild(rem, "defaultRowCommitVersion"), r);
  tcol entries;
  int64_t b, e;
  out->n_pv = -1;
  if (titems(tchild(rem, "partitionValues"), r, &entries, &b, &e)) {
    out->n_pv = (int)(e - b);
    if (e > b) {
      int64_t kr = trow(entries, b);
      tstr_copy(tchild(entries, "key"), kr, out->pv_key, sizeof out->pv_key);
      tcol value = tchild(entries, "value");
      if (tat(value, kr) < 0)
        snprintf(out->pv_value, sizeof out->pv_value, "(null)");
      else
        tstr_copy(value, kr, out->pv_value, sizeof out->pv_value);
    }
  }
  tcol dv = tchild(rem, "deletionVector");
  out->dv_type = 0;
  out->dv_offset = out->dv_size = out->dv_cardinality = INT64_MIN;
  if (tat(dv, r) >= 0) {
    int64_t dr = trow(dv, r);
    char st[8];
    tstr_copy(tchild(dv, "storageType"), dr, st, sizeof st);
    out->dv_type = st[0];
    tstr_copy(tchild(dv, "pathOrInlineDv"), dr, out->dv_path, sizeof out->dv_path);
    out->dv_offset = ti64(tchild(dv, "offset"), dr);
    out->dv_size = ti64(tchild(dv, "sizeInBytes"), dr);
    out->dv_cardinality = ti64(tchild(dv, "cardinality"), dr);
  }
}

static void view_batch(const struct ArrowSchema *schema, const struct ArrowArray *batch,
                       ckpt_view *v) {
  tcol top = {schema, batch};
  static const char *const actions[] = {"txn",      "add",
                                        "remove",   "metaData",
                                        "protocol", "domainMetadata",
                                        "sidecar",  "checkpointMetadata"};
  tcol cols[8];
  for (int k = 0; k < 8; k++)
    cols[k] = tchild(top, actions[k]);
  tcol add = cols[1], meta = cols[3], proto = cols[4], cpm = cols[7];
  for (int64_t i = 0; i < batch->length; i++) {
    int64_t row = trow(top, i), non_null = 0;
    for (int k = 0; k < 8; k++)
      non_null += tat(cols[k], row) >= 0;
    v->rows++;
    v->bad_rows += non_null != 1;
    v->n_txn += tat(cols[0], row) >= 0;
    if (tat(cols[2], row) >= 0) {
      if (v->n_remove < VIEW_MAX_REMOVES) view_remove(cols[2], row, &v->removes[v->n_remove]);
      v->n_remove++;
    }
    v->n_domain += tat(cols[5], row) >= 0;
    if (tat(add, row) >= 0) {
      v->n_add++;
      int64_t r = trow(add, row);
      if (tbool(tchild(add, "dataChange"), r) != 0) v->data_change_on++;
      if (v->probe && tstr_eq(tchild(add, "path"), r, v->probe)) {
        tcol entries;
        int64_t b, e;
        if (titems(tchild(add, "partitionValues"), r, &entries, &b, &e)) {
          v->probe_entries = (int)(e - b);
          for (int64_t x = b; x < e; x++) {
            tcol key = tchild(entries, "key"), value = tchild(entries, "value");
            int64_t kr = trow(entries, x);
            int64_t kp = tat(key, kr), vp = tat(value, kr);
            const int32_t *ko = key.a->buffers[1];
            snprintf(v->probe_key, sizeof v->probe_key, "%.*s", (int)(ko[kp + 1] - ko[kp]),
                     (const char *)key.a->buffers[2] + ko[kp]);
            if (vp < 0) {
              snprintf(v->probe_value, sizeof v->probe_value, "(null)");
            } else {
              const int32_t *vo = value.a->buffers[1];
              snprintf(v->probe_value, sizeof v->probe_value, "%.*s", (int)(vo[vp + 1] - vo[vp]),
                       (const char *)value.a->buffers[2] + vo[vp]);
            }
          }
        }
      }
    }
    if (tat(meta, row) >= 0) {
      v->n_meta++;
      tcol id = tchild(meta, "id");
      int64_t p = tat(id, trow(meta, row));
      if (p >= 0) {
        const int32_t *off = id.a->buffers[1];
        snprintf(v->meta_id, sizeof v->meta_id, "%.*s", (int)(off[p + 1] - off[p]),
                 (const char *)id.a->buffers[2] + off[p]);
      }
    }
    if (tat(proto, row) >= 0) {
      v->n_proto++;
      tcol items;
      int64_t b, e;
      v->reader_features =
          titems(tchild(proto, "readerFeatures"), trow(proto, row), &items, &b, &e) ? e - b : -1;
    }
    if (tat(cpm, row) >= 0) {
      v->n_cp_meta++;
      v->cp_meta_version = ti64(tchild(cpm, "version"), trow(cpm, row));
    }
  }
}

static void view_checkpoint(const char *table, int64_t version, ckpt_view *v) {
  const char *probe = v->probe;
  memset(v, 0, sizeof *v);
  v->probe = probe;
  v->reader_features = -2;
  char path[1024];
  snprintf(path, sizeof path, "%s/_delta_log/%020lld.checkpoint.parquet", table,
           (long long)version);
  tarn_error err = {0};
  tarn_parquet_file *pf = NULL;
  if (tarn_parquet_open(path, NULL, &pf, &err) != 0) {
    fprintf(stderr, "  %s: %s\n", path, err.message);
    return;
  }
  struct ArrowSchema fs;
  if (tarn_parquet_arrow_schema(pf, &fs, &err) == 0) {
    int found = 0;
    static const char *const required[] = {"txn", "add", "remove", "metaData", "protocol"};
    for (int k = 0; k < 5; k++)
      for (int64_t i = 0; i < fs.n_children; i++)
        found += strcmp(fs.children[i]->name, required[k]) == 0;
    v->has_columns = found == 5;
    tcol add = tchild((tcol){&fs, NULL}, "add");
    for (int64_t i = 0; add.s && i < add.s->n_children; i++)
      v->add_has_stats |= strcmp(add.s->children[i]->name, "stats") == 0;
    fs.release(&fs);
  }
  struct ArrowArrayStream st;
  if (tarn_parquet_scan(pf, NULL, &st, &err) == 0) {
    struct ArrowSchema schema;
    if (st.get_schema(&st, &schema) == 0) {
      v->readable = true;
      for (;;) {
        struct ArrowArray batch;
        if (st.get_next(&st, &batch) != 0) {
          v->readable = false;
          break;
        }
        if (batch.release == NULL) break;
        view_batch(&schema, &batch, v);
        batch.release(&batch);
      }
      schema.release(&schema);
    }
    st.release(&st);
  }
  tarn_parquet_close(pf);
}

/* The metaData id the JSON commit 0 wrote (read with cJSON, not through the reader). */
static void commit0_metadata_id(const char *table, char *out, size_t cap) {
  char path[1024];
  snprintf(path, sizeof path, "%s/_delta_log/00000000000000000000.json", table);
  char *text = read_text(path);
  out[0] = 0;
  for (char *line = text ? strtok(text, "\n") : NULL; line; line = strtok(NULL, "\n")) {
    cJSON *j = cJSON_Parse(line);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "metaData");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(m, "id");
    if (cJSON_IsString(id)) snprintf(out, cap, "%s", id->valuestring);
    cJSON_Delete(j);
  }
  free(text);
}

/* ---- (i)-(iii), (vi): a table committed through delta_txn ----------------------------------- */

#define S0 "{\"numRecords\":1,\"minValues\":{\"id\":0},\"maxValues\":{\"id\":0}}"
#define S1 "{\"numRecords\":2,\"nullCount\":{\"part\":2}}"
#define S2 "{\"numRecords\":3}"
#define S3 "{\"numRecords\":4,\"minValues\":{\"part\":\"a \\\"b\\\" \\u00e9\"}}"
#define S5 "{\"numRecords\":5,\"tightBounds\":true}"

static void test_round_trip(void) {
  char dir[512], copy[512];
  table_path(dir, sizeof dir, "rt");
  table_path(copy, sizeof copy, "rt-copy");

  delta_txn *t = begin(dir);
  protocol12(t);
  metadata(t, "k", "v", "delta.checkpointInterval", "1000");
  add(t, "part=a/f0.parquet", "a", 100, S0);
  add(t, "part=__HIVE_DEFAULT_PARTITION__/f1.parquet", NULL, 101, S1);
  CHECK_EQ_INT(commit(t), 0);
  t = begin(dir);
  add(t, "part=b/f2.parquet", "b", 102, S2);
  app_version(t, "app1", 5);
  CHECK_EQ_INT(commit(t), 1);
  t = begin(dir);
  remove_path(t, "part=a/f0.parquet");
  add(t, "part=a%20b/f3.parquet", "a \"b\" \xc3\xa9", 103, S3);
  app_version(t, "app2", 1);
  CHECK_EQ_INT(commit(t), 2);
  t = begin(dir);
  add(t, "f4.parquet", "c", 104, NULL);
  app_version(t, "app1", 6);
  CHECK_EQ_INT(commit(t), 3);

  const want_file at3[] = {{"part=__HIVE_DEFAULT_PARTITION__/f1.parquet", NULL, 101, S1},
                           {"part=b/f2.parquet", "b", 102, S2},
                           {"part=a%20b/f3.parquet", "a \"b\" \xc3\xa9", 103, S3},
                           {"f4.parquet", "c", 104, NULL}};
  delta_snapshot *json3 = load(dir, 3); /* no checkpoint yet: the JSON commits alone */
  check_files(json3, at3, 4);
  CHECK_EQ_INT(txn_version(json3, "app1"), 6);
  CHECK_EQ_INT(txn_version(json3, "app2"), 1);

  tarn_error err;
  CHECK_EQ_INT(write_checkpoint(json3, &err), 0);
  CHECK(checkpoint_exists(dir, 3));
  CHECK_EQ_INT(hidden_files(dir), 0);

  /* (iii) _last_checkpoint: version, rows (protocol, metaData, 2 txns, 4 adds, and the remove of
   * f0 at version 2, a tombstone within the default week), adds, bytes */
  char path[1024];
  snprintf(path, sizeof path, "%s/_delta_log/_last_checkpoint", dir);
  char *text = read_text(path);
  cJSON *lc = text ? cJSON_Parse(text) : NULL;
  CHECK(cJSON_IsObject(lc));
  CHECK_EQ_INT(
      cJSON_GetObjectItem(lc, "version") ? cJSON_GetObjectItem(lc, "version")->valueint : -1, 3);
  CHECK_EQ_INT(cJSON_GetObjectItem(lc, "size") ? cJSON_GetObjectItem(lc, "size")->valueint : -1, 9);
  CHECK_EQ_INT(cJSON_GetObjectItem(lc, "numOfAddFiles")
                   ? cJSON_GetObjectItem(lc, "numOfAddFiles")->valueint
                   : -1,
               4);
  snprintf(path, sizeof path, "%s/_delta_log/00000000000000000003.checkpoint.parquet", dir);
  struct stat st;
  CHECK_EQ_INT(stat(path, &st), 0);
  const cJSON *bytes = cJSON_GetObjectItem(lc, "sizeInBytes");
  CHECK(cJSON_IsNumber(bytes) && (off_t)bytes->valuedouble == st.st_size);
  cJSON_Delete(lc);
  free(text);

  /* (vi) the file itself: the protocol's columns, one action per row, the counts above */
  ckpt_view v = {.probe = "part=__HIVE_DEFAULT_PARTITION__/f1.parquet"};
  view_checkpoint(dir, 3, &v);
  CHECK(v.readable);
  CHECK(v.has_columns);
  CHECK(v.add_has_stats);
  CHECK_EQ_INT(v.rows, 9);
  CHECK_EQ_INT(v.bad_rows, 0);
  CHECK_EQ_INT(v.n_proto, 1);
  CHECK_EQ_INT(v.n_meta, 1);
  CHECK_EQ_INT(v.n_txn, 2);
  CHECK_EQ_INT(v.n_add, 4);
  CHECK_EQ_INT(v.n_remove, 1);
  /* delta_txn_remove_file writes f0's partition value and size (extendedFileMetadata) */
  CHECK_EQ_STR(v.removes[0].path, "part=a/f0.parquet");
  CHECK_EQ_INT(v.removes[0].data_change, 1);
  CHECK_EQ_INT(v.removes[0].extended_file_metadata, 1);
  CHECK_EQ_INT(v.removes[0].size, 100);
  CHECK_EQ_INT(v.removes[0].n_pv, 1);
  CHECK_EQ_STR(v.removes[0].pv_key, "part");
  CHECK_EQ_STR(v.removes[0].pv_value, "a");
  CHECK_EQ_INT(v.removes[0].dv_type, 0);
  CHECK(v.removes[0].deletion_timestamp > 1700000000000); /* now, when it was committed */
  CHECK_EQ_INT(v.n_domain, 0);
  CHECK_EQ_INT(v.n_cp_meta, 0);
  CHECK_EQ_INT(v.data_change_on, 0);
  CHECK_EQ_INT(v.reader_features, -1); /* reader version 1: a null list */
  CHECK_EQ_INT(v.probe_entries, 1);
  CHECK_EQ_STR(v.probe_key, "part");
  CHECK_EQ_STR(v.probe_value, "(null)"); /* a null partition value stays null */
  char id[64];
  commit0_metadata_id(dir, id, sizeof id);
  CHECK(id[0] != 0);
  CHECK_EQ_STR(v.meta_id, id);

  /* (i) the snapshot through the checkpoint equals the JSON replay, and still does with the
   * commits the checkpoint covers gone */
  delta_snapshot *cp3 = load(dir, 3);
  check_same_snapshot(cp3, json3);
  copy_table(dir, copy);
  remove_commits(copy, 0, 3);
  delta_snapshot *only = load(copy, 3);
  check_same_snapshot(only, json3);
  check_files(only, at3, 4);
  if (only) CHECK_EQ_STR(config_of(only, "k"), "v");
  delta_snapshot_free(only);
  delta_snapshot_free(cp3);

  /* (ii) later versions replay on top of the checkpoint */
  t = begin(dir);
  remove_path(t, "part=b/f2.parquet");
  add(t, "part=d/f5.parquet", "d", 105, S5);
  CHECK_EQ_INT(commit(t), 4);
  t = begin(dir);
  metadata(t, "k", "w", NULL, NULL);
  CHECK_EQ_INT(commit(t), 5);
  const want_file at5[] = {{"part=__HIVE_DEFAULT_PARTITION__/f1.parquet", NULL, 101, S1},
                           {"part=a%20b/f3.parquet", "a \"b\" \xc3\xa9", 103, S3},
                           {"f4.parquet", "c", 104, NULL},
                           {"part=d/f5.parquet", "d", 105, S5}};
  delta_snapshot *s5 = load(dir, -1);
  check_files(s5, at5, 4);
  if (s5) {
    CHECK_EQ_INT(s5->version, 5);
    CHECK_EQ_STR(config_of(s5, "k"), "w");
    CHECK_EQ_INT(txn_version(s5, "app1"), 6);
  }
  shell(
      "cp '%1$s/_delta_log/00000000000000000004.json' '%1$s/_delta_log/00000000000000000005.json' "
      "'%2$s/_delta_log/'",
      dir, copy);
  only = load(copy, -1);
  check_same_snapshot(only, s5);
  delta_snapshot_free(only);

  /* (iv) a corrupt _last_checkpoint does not change what is read: garbage, truncated, a
   * version without a checkpoint, a missing version, a huge file, a directory */
  static const char *const bad[] = {"{{{ not json",
                                    "{\"version\":3,\"si",
                                    "{\"version\":1,\"size\":8}",
                                    "{\"version\":42,\"size\":1,\"parts\":3}",
                                    "{\"version\":-7}",
                                    "{\"version\":\"3\",\"parts\":\"x\"}",
                                    "\x01\x02\xff\xfe",
                                    ""};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    write_file(copy, "_delta_log/_last_checkpoint", bad[i]);
    only = load(copy, -1);
    check_same_snapshot(only, s5);
    delta_snapshot_free(only);
    only = load(copy, 3);
    check_same_snapshot(only, json3);
    delta_snapshot_free(only);
  }
  char *huge = malloc((5u << 20) + 1);
  if (huge) {
    memset(huge, ' ', 5u << 20);
    memcpy(huge, "{\"version\":3,\"size\":8}", 22);
    huge[5u << 20] = 0;
    write_file(copy, "_delta_log/_last_checkpoint", huge);
    free(huge);
    only = load(copy, -1);
    check_same_snapshot(only, s5);
    delta_snapshot_free(only);
  }
  remove_log_file(copy, "_last_checkpoint");
  snprintf(path, sizeof path, "%s/_delta_log/_last_checkpoint", copy);
  CHECK_EQ_INT(mkdir(path, 0777), 0);
  only = load(copy, -1);
  check_same_snapshot(only, s5);
  delta_snapshot_free(only);

  /* the checkpoint does not change the history, which reads the commits */
  tarn_arena a = {0};
  delta_commit *hist = NULL;
  size_t n_hist = 0;
  memset(&err, 0, sizeof err);
  CHECK_EQ_INT(delta_history(dir, &a, &hist, &n_hist, &err), 0);
  CHECK_EQ_INT(n_hist, 6);
  tarn_arena_free(&a);

  /* rewriting a checkpoint replaces it with the same content */
  CHECK_EQ_INT(write_checkpoint(json3, &err), 0);
  cp3 = load(dir, 3);
  check_same_snapshot(cp3, json3);
  delta_snapshot_free(cp3);
  /* an older checkpoint does not take _last_checkpoint back */
  CHECK_EQ_INT(write_checkpoint(s5, &err), 0);
  CHECK_EQ_INT(write_checkpoint(json3, &err), 0);
  snprintf(path, sizeof path, "%s/_delta_log/_last_checkpoint", dir);
  text = read_text(path);
  CHECK(text && strstr(text, "\"version\":5") != NULL);
  free(text);
  CHECK_EQ_INT(hidden_files(dir), 0);

  delta_snapshot_free(s5);
  delta_snapshot_free(json3);
}

/* ---- Deletion vectors, column mapping, domains, row tracking (a hand-written log) ---------- */

#define CM_SCHEMA                                                                                  \
  "{\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"long\",\"nullable\":true,"         \
  "\"metadata\":{\"delta.columnMapping.id\":1,\"delta.columnMapping.physicalName\":\"col-id\"}},"  \
  "{\"name\":\"p\",\"type\":\"string\",\"nullable\":true,\"metadata\":{\"delta.columnMapping."     \
  "id\":"                                                                                          \
  "2,\"delta.columnMapping.physicalName\":\"col-p\"}}]}"

/* One metaData line: the schema string escaped by cJSON. */
static char *metadata_line(const char *id, const char *schema, const char *partition_columns,
                           const char *configuration) {
  cJSON *m = cJSON_CreateObject();
  cJSON_AddStringToObject(m, "id", id);
  cJSON *format = cJSON_AddObjectToObject(m, "format");
  cJSON_AddStringToObject(format, "provider", "parquet");
  cJSON_AddObjectToObject(format, "options");
  cJSON_AddStringToObject(m, "schemaString", schema);
  cJSON_AddItemToObject(m, "partitionColumns", cJSON_Parse(partition_columns));
  cJSON_AddItemToObject(m, "configuration", cJSON_Parse(configuration));
  cJSON_AddNumberToObject(m, "createdTime", 1234);
  cJSON *line = cJSON_CreateObject();
  cJSON_AddItemToObject(line, "metaData", m);
  char *text = cJSON_PrintUnformatted(line);
  cJSON_Delete(line);
  size_t n = strlen(text);
  char *out = malloc(n + 2);
  memcpy(out, text, n);
  out[n] = '\n';
  out[n + 1] = 0;
  cJSON_free(text);
  return out;
}

static void write_commit(const char *table, int64_t v, const char *a, const char *b,
                         const char *c) {
  char name[96];
  snprintf(name, sizeof name, "_delta_log/%020lld.json", (long long)v);
  size_t n = strlen(a) + (b ? strlen(b) : 0) + (c ? strlen(c) : 0) + 1;
  char *text = malloc(n);
  snprintf(text, n, "%s%s%s", a, b ? b : "", c ? c : "");
  write_file(table, name, text);
  free(text);
}

static void test_deletion_vectors_and_mapping(void) {
  char dir[512], copy[512];
  table_path(dir, sizeof dir, "dv");
  table_path(copy, sizeof copy, "dv-copy");
  make_log_dir(dir);
  char *meta = metadata_line("dv-table", CM_SCHEMA, "[\"p\"]",
                             "{\"delta.columnMapping.mode\":\"name\","
                             "\"delta.enableDeletionVectors\":\"true\"}");
  write_commit(
      dir, 0,
      "{\"commitInfo\":{\"timestamp\":1000}}\n"
      "{\"protocol\":{\"minReaderVersion\":3,\"minWriterVersion\":7,\"readerFeatures\":["
      "\"deletionVectors\",\"columnMapping\"],\"writerFeatures\":[\"deletionVectors\","
      "\"columnMapping\",\"domainMetadata\",\"rowTracking\"]}}\n",
      meta,
      "{\"add\":{\"path\":\"a.parquet\",\"partitionValues\":{\"col-p\":\"x\"},\"size\":10,"
      "\"modificationTime\":1000,\"dataChange\":true,\"stats\":\"{\\\"numRecords\\\":4}\","
      "\"deletionVector\":{\"storageType\":\"u\",\"pathOrInlineDv\":\"ab^-aqEH.-t@S}K{vb[*k^\","
      "\"offset\":1,\"sizeInBytes\":40,\"cardinality\":2},\"baseRowId\":0,"
      "\"defaultRowCommitVersion\":0}}\n"
      "{\"add\":{\"path\":\"b.parquet\",\"partitionValues\":{\"col-p\":null},\"size\":20,"
      "\"modificationTime\":1001,\"dataChange\":true,\"deletionVector\":{\"storageType\":\"i\","
      "\"pathOrInlineDv\":\"wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L\","
      "\"sizeInBytes\":40,\"cardinality\":6}}}\n"
      "{\"domainMetadata\":{\"domain\":\"d1\",\"configuration\":\"{\\\"a\\\":1}\",\"removed\":"
      "false}}\n"
      "{\"domainMetadata\":{\"domain\":\"d2\",\"configuration\":\"x\",\"removed\":false}}\n"
      /* an empty string: the smallest value of its Parquet column (statistics of length 0) */
      "{\"domainMetadata\":{\"domain\":\"d3\",\"configuration\":\"\",\"removed\":false}}\n"
      "{\"txn\":{\"appId\":\"s\",\"version\":9}}\n");
  free(meta);
  write_commit(dir, 1,
               "{\"commitInfo\":{\"timestamp\":2000}}\n"
               "{\"domainMetadata\":{\"domain\":\"d2\",\"configuration\":\"x\",\"removed\":true}}\n"
               "{\"add\":{\"path\":\"c.parquet\",\"partitionValues\":{\"col-p\":\"y\"},\"size\":30,"
               "\"modificationTime\":1002,\"dataChange\":true,\"stats\":\"{\\\"numRecords\\\":1}\","
               "\"baseRowId\":4,\"defaultRowCommitVersion\":1}}\n",
               NULL, NULL);
  delta_snapshot *json = load(dir, 1);
  tarn_error err;
  CHECK_EQ_INT(write_checkpoint(json, &err), 0);
  ckpt_view v = {.probe = "a.parquet"};
  view_checkpoint(dir, 1, &v);
  CHECK_EQ_INT(v.rows, 8); /* protocol, metaData, txn, domains d1 and d3, 3 adds */
  CHECK_EQ_INT(v.bad_rows, 0);
  CHECK_EQ_INT(v.n_domain, 2);
  CHECK_EQ_INT(v.reader_features, 2);
  CHECK_EQ_STR(v.probe_key, "col-p"); /* the physical name, as the log keys it */
  CHECK_EQ_STR(v.probe_value, "x");

  copy_table(dir, copy);
  remove_commits(copy, 0, 1);
  delta_snapshot *s = load(copy, 1);
  check_same_snapshot(s, json);
  if (s && s->n_files == 3) {
    const delta_file *a = &s->files[0], *b = &s->files[1], *c = &s->files[2];
    CHECK_EQ_STR(a->path, "a.parquet");
    CHECK_EQ_STR(a->partition_values[0], "x");
    CHECK_EQ_INT(a->dv.storage_type, 'u');
    CHECK_EQ_STR(a->dv.path_or_inline, "ab^-aqEH.-t@S}K{vb[*k^");
    CHECK_EQ_INT(a->dv.offset, 1);
    CHECK_EQ_INT(a->dv.size_in_bytes, 40);
    CHECK_EQ_INT(a->dv.cardinality, 2);
    CHECK_EQ_INT(a->base_row_id, 0);
    CHECK_EQ_INT(a->default_row_commit_version, 0);
    CHECK_EQ_STR(a->stats, "{\"numRecords\":4}");
    CHECK(b->partition_values[0] == NULL);
    CHECK_EQ_INT(b->dv.storage_type, 'i');
    CHECK_EQ_INT(b->dv.offset, -1);
    CHECK_EQ_INT(b->dv.cardinality, 6);
    CHECK(b->stats == NULL);
    CHECK_EQ_INT(b->base_row_id, -1);
    CHECK_EQ_STR(c->partition_values[0], "y");
    CHECK_EQ_INT(c->base_row_id, 4);
    CHECK_EQ_INT(c->default_row_commit_version, 1);
  } else {
    CHECK(0);
  }
  if (s) {
    CHECK_EQ_INT(s->n_domains, 2);
    for (size_t i = 0; i < s->n_domains; i++)
      CHECK_EQ_STR(s->domain_configs[i], strcmp(s->domains[i], "d1") == 0 ? "{\"a\":1}" : "");
    CHECK_EQ_INT(txn_version(s, "s"), 9);
    CHECK_EQ_INT(s->created_time, 1234);
    CHECK_EQ_STR(s->metadata_id, "dv-table");
  }
  delta_snapshot_free(s);
  delta_snapshot_free(json);
}

/* ---- v2Checkpoint, statistics options, refusals --------------------------------------------- */

static void hand_table(const char *name, char *dir, size_t cap, const char *protocol,
                       const char *config) {
  table_path(dir, cap, name);
  make_log_dir(dir);
  char *meta = metadata_line(name, SCHEMA, "[]", config);
  write_commit(dir, 0, protocol, meta,
               "{\"add\":{\"path\":\"f.parquet\",\"partitionValues\":{},\"size\":1,"
               "\"modificationTime\":1,\"dataChange\":true,\"stats\":\"{\\\"numRecords\\\":1}\"}}"
               "\n");
  free(meta);
}

static void test_variants(void) {
  char dir[512];
  tarn_error err;
  /* v2Checkpoint: a classic-named V2 checkpoint, with one checkpointMetadata row */
  hand_table("v2", dir, sizeof dir,
             "{\"protocol\":{\"minReaderVersion\":3,\"minWriterVersion\":7,\"readerFeatures\":["
             "\"v2Checkpoint\"],\"writerFeatures\":[\"v2Checkpoint\"]}}\n",
             "{}");
  delta_snapshot *json = load(dir, 0);
  CHECK_EQ_INT(write_checkpoint(json, &err), 0);
  ckpt_view v = {0};
  view_checkpoint(dir, 0, &v);
  CHECK_EQ_INT(v.rows, 4);
  CHECK_EQ_INT(v.bad_rows, 0);
  CHECK_EQ_INT(v.n_cp_meta, 1);
  CHECK_EQ_INT(v.cp_meta_version, 0);
  remove_commits(dir, 0, 0);
  delta_snapshot *s = load(dir, -1);
  check_same_snapshot(s, json);
  delta_snapshot_free(s);
  delta_snapshot_free(json);

  /* writeStatsAsJson = false: no stats column */
  hand_table("nostats", dir, sizeof dir,
             "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":3}}\n",
             "{\"delta.checkpoint.writeStatsAsJson\":\"false\"}");
  json = load(dir, 0);
  CHECK(json && json->n_files == 1 && json->files[0].stats != NULL);
  CHECK_EQ_INT(write_checkpoint(json, &err), 0);
  view_checkpoint(dir, 0, &v);
  CHECK(v.readable);
  CHECK(!v.add_has_stats);
  remove_commits(dir, 0, 0);
  s = load(dir, -1);
  CHECK(s && s->n_files == 1 && s->files[0].stats == NULL);
  delta_snapshot_free(s);
  delta_snapshot_free(json);

  /* refused: nothing is written, the message names the reason */
  static const struct {
    const char *name, *protocol, *config, *needle;
  } refused[] = {
      {"clustered",
       "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":7,\"writerFeatures\":["
       "\"clustering\",\"domainMetadata\"]}}\n",
       "{}", "clustering"},
      {"unknown-feature",
       "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":7,\"writerFeatures\":["
       "\"appendOnly\",\"someFutureFeature\"]}}\n",
       "{}", "someFutureFeature"},
      {"writer-8", "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":8}}\n", "{}",
       "writer version 8"},
  };
  for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
    hand_table(refused[i].name, dir, sizeof dir, refused[i].protocol, refused[i].config);
    s = load(dir, 0);
    memset(&err, 0, sizeof err);
    int rc = s ? delta_checkpoint_write(s, &err) : -1;
    CHECK_EQ_INT(rc, TARN_EUNSUPPORTED);
    if (strstr(err.message, refused[i].needle) == NULL)
      fprintf(stderr, "  %s: %s\n", refused[i].name, err.message);
    CHECK(strstr(err.message, refused[i].needle) != NULL);
    CHECK(!checkpoint_exists(dir, 0));
    CHECK(!log_file_exists(dir, "_last_checkpoint"));
    CHECK_EQ_INT(hidden_files(dir), 0);
    delta_snapshot_free(s);
  }
}

/* Enough files to cross the writer's batches (4096 actions) and row groups (32768 rows), with
 * partition values, stats and vectors varying from file to file. */
static void test_many_files(void) {
  char dir[512], copy[512];
  hand_table("many", dir, sizeof dir,
             "{\"protocol\":{\"minReaderVersion\":3,\"minWriterVersion\":7,\"readerFeatures\":["
             "\"deletionVectors\"],\"writerFeatures\":[\"deletionVectors\"]}}\n",
             "{}");
  enum { FILES = 40000 };
  size_t cap = (size_t)FILES * 320, n = 0;
  char *text = malloc(cap);
  for (int i = 0; i < FILES && text; i++) {
    n += (size_t)snprintf(text + n, cap - n,
                          "{\"add\":{\"path\":\"d/%05d.parquet\",\"partitionValues\":{},"
                          "\"size\":%d,\"modificationTime\":%d,\"dataChange\":true",
                          i, i + 1, i * 7);
    if (i % 3 == 0)
      n += (size_t)snprintf(text + n, cap - n, ",\"stats\":\"{\\\"numRecords\\\":%d}\"", i);
    if (i % 5 == 0)
      n += (size_t)snprintf(text + n, cap - n,
                            ",\"deletionVector\":{\"storageType\":\"u\",\"pathOrInlineDv\":"
                            "\"dv%d\",\"offset\":%d,\"sizeInBytes\":%d,\"cardinality\":%d}",
                            i % 17, i, 30 + i % 9, 1 + i % 4);
    n += (size_t)snprintf(text + n, cap - n, "}}\n");
  }
  if (text) write_commit(dir, 1, text, NULL, NULL);
  free(text);
  delta_snapshot *json = load(dir, 1);
  CHECK(json && json->n_files == FILES + 1);
  tarn_error err;
  CHECK_EQ_INT(write_checkpoint(json, &err), 0);
  table_path(copy, sizeof copy, "many-copy");
  copy_table(dir, copy);
  remove_commits(copy, 0, 1);
  delta_snapshot *s = load(copy, 1);
  check_same_snapshot(s, json);
  if (s && s->n_files == FILES + 1) { /* one file worked out by hand: d/00030.parquet */
    const delta_file *f = &s->files[30];
    CHECK_EQ_STR(f->path, "d/00030.parquet");
    CHECK_EQ_INT(f->size, 31);
    CHECK_EQ_INT(f->modification_time, 210);
    CHECK_EQ_STR(f->stats, "{\"numRecords\":30}");
    CHECK_EQ_INT(f->dv.storage_type, 'u');
    CHECK_EQ_STR(f->dv.path_or_inline, "dv13");
    CHECK_EQ_INT(f->dv.offset, 30);
    CHECK_EQ_INT(f->dv.size_in_bytes, 33);
    CHECK_EQ_INT(f->dv.cardinality, 3);
  }
  delta_snapshot_free(s);
  delta_snapshot_free(json);
  ckpt_view v = {0};
  view_checkpoint(dir, 1, &v);
  CHECK_EQ_INT(v.rows, FILES + 3);
  CHECK_EQ_INT(v.bad_rows, 0);
}

/* ---- (v) the interval ----------------------------------------------------------------------- */

static void commit_with_hook(const char *dir, int64_t want, const char *interval) {
  delta_txn *t = begin(dir);
  if (want == 0) {
    protocol12(t);
    metadata(t, interval ? "delta.checkpointInterval" : NULL, interval, NULL, NULL);
  }
  char path[64];
  snprintf(path, sizeof path, "f%lld.parquet", (long long)want);
  add(t, path, "p", 200 + want, NULL);
  CHECK_EQ_INT(commit(t), want);
  tarn_error err = {0};
  int rc = delta_checkpoint_maybe(dir, want, &err);
  CHECK_EQ_INT(rc, 0);
  if (rc) fprintf(stderr, "  maybe %lld: %s\n", (long long)want, err.message);
}

static int64_t last_checkpoint_version(const char *dir) {
  char path[1024];
  snprintf(path, sizeof path, "%s/_delta_log/_last_checkpoint", dir);
  char *text = read_text(path);
  cJSON *j = text ? cJSON_Parse(text) : NULL;
  const cJSON *v = cJSON_GetObjectItem(j, "version");
  int64_t out = cJSON_IsNumber(v) ? (int64_t)v->valuedouble : -1;
  cJSON_Delete(j);
  free(text);
  return out;
}

static void test_interval(void) {
  char dir[512];
  table_path(dir, sizeof dir, "every2");
  for (int64_t v = 0; v <= 5; v++)
    commit_with_hook(dir, v, "2");
  for (int64_t v = 0; v <= 5; v++)
    CHECK_EQ_INT(checkpoint_exists(dir, v), v == 2 || v == 4);
  CHECK_EQ_INT(last_checkpoint_version(dir), 4);
  delta_snapshot *s = load(dir, -1);
  CHECK(s && s->n_files == 6);
  delta_snapshot_free(s);
  /* the hook again on a version that has its checkpoint: nothing to do */
  tarn_error err = {0};
  CHECK_EQ_INT(delta_checkpoint_maybe(dir, 4, &err), 0);
  CHECK_EQ_INT(delta_checkpoint_maybe(dir, 0, &err), 0);
  CHECK_EQ_INT(hidden_files(dir), 0);

  table_path(dir, sizeof dir, "default");
  for (int64_t v = 0; v <= 11; v++)
    commit_with_hook(dir, v, NULL);
  for (int64_t v = 0; v <= 11; v++)
    CHECK_EQ_INT(checkpoint_exists(dir, v), v == 10);
  CHECK_EQ_INT(last_checkpoint_version(dir), 10);

  /* invalid values mean the default */
  table_path(dir, sizeof dir, "intervals");
  static const struct {
    const char *value;
    int64_t want;
  } cases[] = {{"abc", 10}, {"0", 10}, {"-3", 10}, {"7", 7},           {" 7 ", 7},
               {"3x", 10},  {"", 10},  {"1", 1},   {"99999999999", 10}};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    delta_txn *t = begin(dir);
    if (i == 0) protocol12(t);
    metadata(t, "delta.checkpointInterval", cases[i].value, NULL, NULL);
    CHECK_EQ_INT(commit(t), (int64_t)i);
    s = load(dir, (int64_t)i);
    if (s) CHECK_EQ_INT(delta_checkpoint_interval(s), cases[i].want);
    delta_snapshot_free(s);
  }
}

/* ---- _last_checkpoint picks among checkpoints of one version -------------------------------- */

static void test_last_checkpoint_hint(void) {
  char dir[512];
  table_path(dir, sizeof dir, "hint");
  delta_txn *t = begin(dir);
  protocol12(t);
  metadata(t, NULL, NULL, NULL, NULL);
  add(t, "x.parquet", "x", 300, NULL);
  CHECK_EQ_INT(commit(t), 0);
  t = begin(dir);
  add(t, "y.parquet", "y", 301, NULL);
  CHECK_EQ_INT(commit(t), 1);
  delta_snapshot *s = load(dir, 1);
  tarn_error err;
  CHECK_EQ_INT(write_checkpoint(s, &err), 0);
  delta_snapshot_free(s);
  /* a v2 JSON checkpoint of the same version that, unlike the classic one, names only z */
  const char *v2 = "00000000000000000001.checkpoint.3a0d65cd-4056-49b8-937b-95f9e3ee90e5.json";
  char *meta = metadata_line("hint", SCHEMA, "[\"part\"]", "{}");
  char name[128];
  snprintf(name, sizeof name, "_delta_log/%s", v2);
  size_t n = strlen(meta) + 512;
  char *text = malloc(n);
  snprintf(text, n,
           "{\"checkpointMetadata\":{\"version\":1}}\n"
           "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n%s"
           "{\"add\":{\"path\":\"z.parquet\",\"partitionValues\":{\"part\":\"z\"},\"size\":9,"
           "\"modificationTime\":9,\"dataChange\":false}}\n",
           meta);
  write_file(dir, name, text);
  free(text);
  free(meta);

  /* the classic checkpoint is read unless _last_checkpoint names the v2 one */
  s = load(dir, 1);
  CHECK(s && s->n_files == 2);
  delta_snapshot_free(s);
  char hint[512];
  snprintf(hint, sizeof hint,
           "{\"version\":1,\"size\":3,\"v2Checkpoint\":{\"path\":\"%s\",\"sizeInBytes\":1,"
           "\"modificationTime\":1}}",
           v2);
  write_file(dir, "_delta_log/_last_checkpoint", hint);
  s = load(dir, 1);
  CHECK(s && s->n_files == 1 && strcmp(s->files[0].path, "z.parquet") == 0);
  delta_snapshot_free(s);
  /* a hint for the classic form, or a broken one, leaves the classic checkpoint */
  write_file(dir, "_delta_log/_last_checkpoint", "{\"version\":1,\"size\":4}");
  s = load(dir, 1);
  CHECK(s && s->n_files == 2);
  delta_snapshot_free(s);
  write_file(dir, "_delta_log/_last_checkpoint", "{\"version\":1,\"v2Checkpoint\":{\"path\":");
  s = load(dir, 1);
  CHECK(s && s->n_files == 2);
  delta_snapshot_free(s);
}

/* ---- Malformed checkpoint files are refused cleanly ----------------------------------------- */

static const uint8_t all_valid[1] = {0xff};

/* Writes a one-row Parquet file whose only column is `col` (schema s, array a). */
static void write_parquet(const char *path, struct ArrowSchema *col_s, struct ArrowArray *col_a) {
  struct ArrowSchema *top = sch("+s", "", 1, col_s);
  top->flags = 0;
  struct ArrowArray *batch = kids(arr(1, 1, 0, NULL, NULL, NULL), 1, col_a);
  tarn_parquet_writer *w = NULL;
  tarn_error err = {0};
  int rc = tarn_parquet_writer_open(path, top, NULL, &w, &err);
  if (rc == 0) rc = tarn_parquet_writer_write(w, batch, &err);
  if (rc == 0)
    rc = tarn_parquet_writer_close(w, NULL, &err);
  else
    tarn_parquet_writer_abort(w);
  CHECK_EQ_INT(rc, 0);
  if (rc) fprintf(stderr, "  %s: %s\n", path, err.message);
}

static void expect_refused(const char *name, int code, const char *needle) {
  char dir[512];
  table_path(dir, sizeof dir, name);
  delta_snapshot *s = NULL;
  tarn_error err = {0};
  int rc = delta_snapshot_load(dir, -1, &s, &err);
  CHECK_EQ_INT(rc, code);
  if (strstr(err.message, needle) == NULL || strstr(err.message, "checkpoint") == NULL)
    fprintf(stderr, "  %s: %s\n", name, err.message);
  CHECK(strstr(err.message, needle) != NULL);
  CHECK(strstr(err.message, "00000000000000000001.checkpoint.parquet") != NULL);
  CHECK(s == NULL);
  delta_snapshot_free(s);
}

static void bad_checkpoint_table(const char *name, char *path, size_t cap) {
  char dir[512];
  table_path(dir, sizeof dir, name);
  make_log_dir(dir);
  write_file(dir, "_delta_log/00000000000000000001.json", "{\"commitInfo\":{}}\n");
  snprintf(path, cap, "%s/_delta_log/00000000000000000001.checkpoint.parquet", dir);
}

static void test_malformed_checkpoints(void) {
  char path[1024];
  static const int64_t zero64[1] = {0};
  static const int32_t offs_ab[2] = {0, 2};

  /* no action column at all */
  bad_checkpoint_table("bad-nocols", path, sizeof path);
  write_parquet(path, sch("l", "foo", 0), arr(2, 1, 0, NULL, zero64, NULL));
  expect_refused("bad-nocols", TARN_ECORRUPT, "no action columns");
  reset();

  /* `add` is a string, not a struct */
  bad_checkpoint_table("bad-add-type", path, sizeof path);
  write_parquet(path, sch("u", "add", 0), arr(3, 1, 0, NULL, offs_ab, "ab"));
  expect_refused("bad-add-type", TARN_ECORRUPT, "add action without path");
  reset();

  /* `add` struct whose path is a number */
  bad_checkpoint_table("bad-add-path", path, sizeof path);
  write_parquet(path, sch("+s", "add", 1, sch("l", "path", 0)),
                kids(arr(1, 1, 0, all_valid, NULL, NULL), 1, arr(2, 1, 0, NULL, zero64, NULL)));
  expect_refused("bad-add-path", TARN_ECORRUPT, "add action without path");
  reset();

  /* `protocol` whose versions are strings */
  bad_checkpoint_table("bad-protocol", path, sizeof path);
  write_parquet(path, sch("+s", "protocol", 1, sch("u", "minReaderVersion", 0)),
                kids(arr(1, 1, 0, all_valid, NULL, NULL), 1, arr(3, 1, 0, NULL, offs_ab, "ab")));
  expect_refused("bad-protocol", TARN_ECORRUPT, "protocol action without valid");
  reset();

  /* a well-formed txn alone: no protocol, no metaData */
  bad_checkpoint_table("bad-txn-only", path, sizeof path);
  static const int64_t seven[1] = {7};
  write_parquet(path, sch("+s", "txn", 2, sch("u", "appId", 0), sch("l", "version", 0)),
                kids(arr(1, 1, 0, all_valid, NULL, NULL), 2, arr(3, 1, 0, NULL, offs_ab, "ab"),
                     arr(2, 1, 0, NULL, seven, NULL)));
  {
    char dir[512];
    table_path(dir, sizeof dir, "bad-txn-only");
    delta_snapshot *s = NULL;
    tarn_error err = {0};
    CHECK_EQ_INT(delta_snapshot_load(dir, -1, &s, &err), TARN_ECORRUPT);
    CHECK(strstr(err.message, "no protocol action") != NULL);
    delta_snapshot_free(s);
  }
  reset();

  /* not Parquet at all, and an empty file */
  bad_checkpoint_table("bad-bytes", path, sizeof path);
  FILE *f = fopen(path, "wb");
  if (f) {
    fputs("PAR1 this is not a parquet file PAR1", f);
    fclose(f);
  }
  expect_refused("bad-bytes", TARN_ECORRUPT, "checkpoint");
  bad_checkpoint_table("bad-empty", path, sizeof path);
  f = fopen(path, "wb");
  if (f) fclose(f);
  {
    char dir[512];
    table_path(dir, sizeof dir, "bad-empty");
    delta_snapshot *s = NULL;
    tarn_error err = {0};
    int rc = delta_snapshot_load(dir, -1, &s, &err);
    CHECK(rc == TARN_ECORRUPT || rc == TARN_EIO);
    CHECK(strstr(err.message, "checkpoint") != NULL);
    delta_snapshot_free(s);
  }
}

/* ---- stats_parsed ------------------------------------------------------------------------- */

/* A checkpoint written here by hand: rows protocol, metaData, then adds p1 (stats_parsed
 * only), p2 (stats and stats_parsed: the string wins), p3 (neither). */
static void test_stats_parsed_hand_made(void) {
  char dir[512], path[1024];
  table_path(dir, sizeof dir, "stats-parsed");
  make_log_dir(dir);
  snprintf(path, sizeof path, "%s/_delta_log/00000000000000000000.checkpoint.parquet", dir);
  enum { N = 5 };
  static const char schema[] =
      "{\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"long\",\"nullable\":true,"
      "\"metadata\":{}},{\"name\":\"ntz\",\"type\":\"timestamp_ntz\",\"nullable\":true,"
      "\"metadata\":{}},{\"name\":\"ts\",\"type\":\"timestamp\",\"nullable\":true,"
      "\"metadata\":{}}]}";
  /* protocol (row 0) */
  static const int32_t reader3[N] = {3}, writer7[N] = {7};
  static const int32_t empty_list[N + 1] = {0, 0, 0, 0, 0, 0};
  static const int32_t ntz_feature_off[N + 1] = {0, 1, 1, 1, 1, 1};
  static const int32_t ntz_item_off[2] = {0, 12};
  static const uint8_t row0[1] = {0x01}, row1[1] = {0x02}, rows234[1] = {0x1c}, rows23[1] = {0x0c},
                       row3[1] = {0x08}, row2[1] = {0x04};
  struct ArrowSchema *proto_s =
      sch("+s", "protocol", 4, sch("i", "minReaderVersion", 0), sch("i", "minWriterVersion", 0),
          sch("+l", "readerFeatures", 1, sch("u", "element", 0)),
          sch("+l", "writerFeatures", 1, sch("u", "element", 0)));
  struct ArrowArray *features = kids(arr(2, N, 0, NULL, ntz_feature_off, NULL), 1,
                                     arr(3, 1, 0, NULL, ntz_item_off, "timestampNtz"));
  struct ArrowArray *features2 = kids(arr(2, N, 0, NULL, ntz_feature_off, NULL), 1,
                                      arr(3, 1, 0, NULL, ntz_item_off, "timestampNtz"));
  (void)empty_list;
  struct ArrowArray *proto_a =
      kids(arr_nc(1, N, 0, N - 1, row0, NULL, NULL), 4, arr(2, N, 0, NULL, reader3, NULL),
           arr(2, N, 0, NULL, writer7, NULL), features, features2);
  /* metaData (row 1) */
  int32_t schema_off[N + 1] = {0, 0, 0, 0, 0, 0};
  for (int i = 1; i <= N; i++)
    schema_off[i] = i >= 2 ? (int32_t)strlen(schema) : 0;
  static const int32_t id_off[N + 1] = {0, 0, 2, 2, 2, 2};
  struct ArrowSchema *meta_s =
      sch("+s", "metaData", 2, sch("u", "id", 0), sch("u", "schemaString", 0));
  struct ArrowArray *meta_a =
      kids(arr_nc(1, N, 0, N - 1, row1, NULL, NULL), 2, arr(3, N, 0, NULL, id_off, "m1"),
           arr(3, N, 0, NULL, schema_off, schema));
  /* add (rows 2-4) */
  static const int32_t path_off[N + 1] = {0, 0, 0, 2, 4, 6};
  static const int64_t sizes[N] = {0, 0, 10, 20, 30};
  static const char stats_text[] = "{\"numRecords\":9}";
  int32_t stats_off[N + 1] = {0, 0, 0, 0, 0, 0};
  stats_off[4] = stats_off[5] = (int32_t)strlen(stats_text);
  /* stats_parsed (rows 2 and 3): numRecords, tightBounds, minValues, maxValues, nullCount */
  static const int64_t num_records[N] = {0, 0, 3, 7, 0};
  static const uint8_t tight_bits[1] = {0x04};
  static const int64_t min_id[N] = {0, 0, -5, 0, 0}, max_id[N] = {0, 0, 12, 0, 0};
  static const int32_t name_off[N + 1] = {0, 0, 0, 3, 3, 3};
  static const int32_t dates[N] = {0, 0, 19782, 0, 0};  /* 2024-02-29 */
  static const int64_t ts_utc[N] = {0, 0, -1000, 0, 0}; /* 1 ms before the epoch, in us */
  static const int64_t ntz[N] = {0, 0, 1700000000123456, 0, 0};
  static const int64_t legacy[N] = {0, 0, 86400000000, 0, 0}; /* INT64, no zone: not UTC */
  uint8_t dec[N * 16];
  memset(dec, 0, sizeof dec);
  /* -105 at scale 2 (-1.05), two's complement little-endian */
  dec[2 * 16] = 0x97;
  memset(dec + 2 * 16 + 1, 0xff, 15);
  uint8_t dec_max[N * 16];
  memset(dec_max, 0, sizeof dec_max);
  dec_max[2 * 16] = 5; /* 0.05 */
  static const int32_t nested_x[N] = {0, 0, 7, 0, 0};
  static const double dbl[N] = {0, 0, 2.5, 0, 0};
  static const float flt[N] = {0, 0, 0.1f, 0, 0};
  static const uint8_t none[1] = {0};
  static const int64_t nulls_id[N] = {0, 0, 0, 0, 0}, nulls_name[N] = {0, 0, 1, 0, 0};
  struct ArrowSchema *min_s = sch("+s", "minValues", 8, sch("l", "id", 0), sch("u", "name", 0),
                                  sch("tdD", "d", 0), sch("tsu:UTC", "ts", 0),
                                  sch("d:10,2", "dec", 0), sch("+s", "nested", 1, sch("i", "x", 0)),
                                  sch("tsu:", "ntz", 0), sch("tsu:", "legacy", 0));
  struct ArrowArray *min_a =
      kids(arr(1, N, 0, NULL, NULL, NULL), 8, arr(2, N, 0, NULL, min_id, NULL),
           arr(3, N, 0, NULL, name_off, "a\"b"), arr(2, N, 0, NULL, dates, NULL),
           arr(2, N, 0, NULL, ts_utc, NULL), arr(2, N, 0, NULL, dec, NULL),
           kids(arr(1, N, 0, NULL, NULL, NULL), 1, arr(2, N, 0, NULL, nested_x, NULL)),
           arr(2, N, 0, NULL, ntz, NULL), arr(2, N, 0, NULL, legacy, NULL));
  struct ArrowSchema *max_s = sch("+s", "maxValues", 5, sch("l", "id", 0), sch("g", "f", 0),
                                  sch("f", "g", 0), sch("u", "n", 0), sch("d:10,2", "dec", 0));
  static const int32_t zero_off[N + 1] = {0};
  struct ArrowArray *max_a =
      kids(arr(1, N, 0, NULL, NULL, NULL), 5, arr(2, N, 0, NULL, max_id, NULL),
           arr(2, N, 0, NULL, dbl, NULL), arr(2, N, 0, NULL, flt, NULL),
           arr_nc(3, N, 0, N, none, zero_off, ""), arr(2, N, 0, NULL, dec_max, NULL));
  /* spelt as the protocol's schema example spells it; the JSON says nullCount */
  struct ArrowSchema *nc_s = sch("+s", "nullCounts", 2, sch("l", "id", 0), sch("l", "name", 0));
  struct ArrowArray *nc_a =
      kids(arr(1, N, 0, NULL, NULL, NULL), 2, arr(2, N, 0, NULL, nulls_id, NULL),
           arr(2, N, 0, NULL, nulls_name, NULL));
  struct ArrowSchema *sp_s = sch("+s", "stats_parsed", 5, sch("l", "numRecords", 0),
                                 sch("b", "tightBounds", 0), min_s, max_s, nc_s);
  struct ArrowArray *sp_a =
      kids(arr_nc(1, N, 0, 3, rows23, NULL, NULL), 5, arr(2, N, 0, NULL, num_records, NULL),
           arr_nc(2, N, 0, 4, row2, tight_bits, NULL), min_a, max_a, nc_a);
  struct ArrowSchema *add_s =
      sch("+s", "add", 4, sch("u", "path", 0), sch("l", "size", 0), sch("u", "stats", 0), sp_s);
  struct ArrowArray *add_a = kids(
      arr_nc(1, N, 0, 2, rows234, NULL, NULL), 4, arr(3, N, 0, NULL, path_off, "p1p2p3"),
      arr(2, N, 0, NULL, sizes, NULL), arr_nc(3, N, 0, N - 1, row3, stats_off, stats_text), sp_a);
  struct ArrowSchema *top = sch("+s", "", 3, proto_s, meta_s, add_s);
  top->flags = 0;
  struct ArrowArray *batch = kids(arr(1, N, 0, NULL, NULL, NULL), 3, proto_a, meta_a, add_a);
  tarn_parquet_writer *w = NULL;
  tarn_error err = {0};
  int rc = tarn_parquet_writer_open(path, top, NULL, &w, &err);
  if (rc == 0) rc = tarn_parquet_writer_write(w, batch, &err);
  if (rc == 0)
    rc = tarn_parquet_writer_close(w, NULL, &err);
  else
    tarn_parquet_writer_abort(w);
  CHECK_EQ_INT(rc, 0);
  if (rc) fprintf(stderr, "  %s\n", err.message);
  reset();

  delta_snapshot *s = load(dir, -1);
  CHECK(s && s->n_files == 3);
  if (s && s->n_files == 3) {
    /* worked out by hand: timestamps not adjusted to UTC (INT64 without a zone) have no 'Z';
     * INT96 ones (UTC, Spark's) are checked against Spark's own JSON in the shared data */
    CHECK_EQ_STR(s->files[0].stats,
                 "{\"numRecords\":3,\"tightBounds\":true,\"minValues\":{\"id\":-5,\"name\":"
                 "\"a\\\"b\",\"d\":\"2024-02-29\",\"ts\":\"1969-12-31T23:59:59.999Z\",\"dec\":"
                 "-1.05,\"nested\":{\"x\":7},\"ntz\":\"2023-11-14T22:13:20.123\",\"legacy\":"
                 "\"1970-01-02T00:00:00.000\"},\"maxValues\":{\"id\":12,\"f\":2.5,\"g\":0.1,"
                 "\"dec\":0.05},"
                 "\"nullCount\":{\"id\":0,\"name\":1}}");
    CHECK_EQ_STR(s->files[1].stats, "{\"numRecords\":9}");
    CHECK(s->files[2].stats == NULL);
  }
  delta_snapshot_free(s);
}

/* Values of two stats JSON objects agree: numbers as numbers, the rest as text; nulls and
 * members missing on one side are skipped (stats_parsed has no way to say "absent"). */
static bool json_agrees(const cJSON *a, const cJSON *b, const char *where) {
  if (a == NULL || b == NULL || cJSON_IsNull(a) || cJSON_IsNull(b)) return true;
  if (cJSON_IsObject(a) && cJSON_IsObject(b)) {
    bool ok = true;
    const cJSON *e;
    cJSON_ArrayForEach(e, a) {
      ok &= json_agrees(e, cJSON_GetObjectItemCaseSensitive(b, e->string), e->string);
    }
    return ok;
  }
  if (cJSON_IsNumber(a) && cJSON_IsNumber(b)) {
    bool ok = fabs(a->valuedouble - b->valuedouble) <= 1e-9 * fabs(a->valuedouble);
    if (!ok) fprintf(stderr, "  %s: %.17g vs %.17g\n", where, a->valuedouble, b->valuedouble);
    return ok;
  }
  char *x = cJSON_PrintUnformatted(a), *y = cJSON_PrintUnformatted(b);
  bool ok = x && y && strcmp(x, y) == 0;
  if (!ok) fprintf(stderr, "  %s: %s vs %s\n", where, x ? x : "?", y ? y : "?");
  cJSON_free(x);
  cJSON_free(y);
  return ok;
}

/* The stats string of the newest add of `path` in commits 0..version, read with cJSON. */
static char *commit_stats(const char *table, int64_t version, const char *path) {
  char *found = NULL;
  for (int64_t v = 0; v <= version; v++) {
    char file[4200];
    snprintf(file, sizeof file, "%s/_delta_log/%020lld.json", table, (long long)v);
    char *text = read_text(file);
    for (char *line = text ? strtok(text, "\n") : NULL; line; line = strtok(NULL, "\n")) {
      cJSON *j = cJSON_Parse(line);
      const cJSON *add = cJSON_GetObjectItemCaseSensitive(j, "add");
      const cJSON *p = cJSON_GetObjectItemCaseSensitive(add, "path");
      const cJSON *st = cJSON_GetObjectItemCaseSensitive(add, "stats");
      if (cJSON_IsString(p) && strcmp(p->valuestring, path) == 0 && cJSON_IsString(st)) {
        free(found);
        found = strdup(st->valuestring);
      }
      cJSON_Delete(j);
    }
    free(text);
  }
  return found;
}

/* Checkpoints that have only stats_parsed: each file's stats equal the JSON commits' stats. */
static void test_stats_parsed_shared(void) {
  static const struct {
    const char *table;
    int64_t version;
    size_t files;
  } cases[] = {{DELTA_RS "delta-1.2.1-only-struct-stats", 10, 0},
               {KERNEL_DATA "v1-single-part-struct-stats-only", 5, 0},
               {KERNEL_DATA "v2-classic-parquet-struct-stats-only", 5, 0},
               {KERNEL_DATA "v1-multi-part-partitioned-struct-stats-only", 5, 0},
               {KERNEL_DATA "v2-parquet-sidecars-struct-stats-only", 5, 0}};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char dir[4096];
    shared_data_path(dir, sizeof dir, cases[i].table);
    delta_snapshot *s = load(dir, cases[i].version);
    if (s == NULL) continue;
    CHECK(s->n_files > 0);
    size_t compared = 0;
    for (size_t k = 0; k < s->n_files; k++) {
      char *want = commit_stats(dir, cases[i].version, s->files[k].path);
      CHECK(want != NULL && s->files[k].stats != NULL);
      if (want && s->files[k].stats) {
        cJSON *a = cJSON_Parse(want), *b = cJSON_Parse(s->files[k].stats);
        CHECK(a != NULL && b != NULL);
        /* both ways: every value of the commit is in the converted stats and vice versa */
        bool ok = json_agrees(a, b, "commit") && json_agrees(b, a, "parsed");
        if (!ok) fprintf(stderr, "  %s %s\n", cases[i].table, s->files[k].path);
        CHECK(ok);
        const cJSON *n = cJSON_GetObjectItem(b, "numRecords");
        CHECK(cJSON_IsNumber(n));
        cJSON_Delete(a);
        cJSON_Delete(b);
        compared++;
      }
      free(want);
    }
    CHECK_EQ_INT(compared, s->n_files);
    delta_snapshot_free(s);
  }
}

/* ---- stats_parsed and partitionValues_parsed written by tarn -------------------------------- */

/* Schema text: a field, a primitive type name, a struct type. */
#define SF(name, type) "{\"name\":\"" name "\",\"type\":" type ",\"nullable\":true,\"metadata\":{}}"
#define ST(name) "\"" name "\""
#define SS(fields) "{\"type\":\"struct\",\"fields\":[" fields "]}"
#define ST_MAP                                                                                     \
  "{\"type\":\"map\",\"keyType\":\"string\",\"valueType\":\"string\",\"valueContainsNull\":true}"
#define ST_ARRAY(element)                                                                          \
  "{\"type\":\"array\",\"elementType\":\"" element "\",\"containsNull\":true}"

/* Every type stats_parsed holds, booleans and binary (null counts only), a nested struct with an
 * array inside, an array and a map (no statistics), and six partition columns, one first. */
/* clang-format off */
#define PS_SCHEMA                                                                                  \
  SS(SF("p_s", ST("string")) ","                                                                   \
     SF("id", ST("long")) ","                                                                      \
     SF("i8", ST("byte")) ","                                                                      \
     SF("i16", ST("short")) ","                                                                    \
     SF("i32", ST("integer")) ","                                                                  \
     SF("f32", ST("float")) ","                                                                    \
     SF("f64", ST("double")) ","                                                                   \
     SF("p_i", ST("integer")) ","                                                                  \
     SF("dec", ST("decimal(10,2)")) ","                                                            \
     SF("big", ST("decimal(30,4)")) ","                                                            \
     SF("s", ST("string")) ","                                                                     \
     SF("d", ST("date")) ","                                                                       \
     SF("ts", ST("timestamp")) ","                                                                 \
     SF("tsn", ST("timestamp_ntz")) ","                                                            \
     SF("flag", ST("boolean")) ","                                                                 \
     SF("bin", ST("binary")) ","                                                                   \
     SF("nest", SS(SF("a", ST("integer")) ","                                                      \
                   SF("inner", SS(SF("b", ST("string")))) ","                                      \
                   SF("tags", ST_ARRAY("string")))) ","                                            \
     SF("arr", ST_ARRAY("long")) ","                                                               \
     SF("m", ST_MAP) ","                                                                           \
     SF("p_d", ST("date")) ","                                                                     \
     SF("p_ts", ST("timestamp")) ","                                                               \
     SF("p_dec", ST("decimal(5,2)")) ","                                                           \
     SF("p_b", ST("boolean")))
/* clang-format on */

/* Extremes of every type; a long past 2^53 and decimals past a double's digits (exact or not
 * at all); a UTC timestamp given with an offset; null counts nested, for a boolean, a binary and
 * an array column (which stats_parsed has no field for). */
#define PS_STATS1                                                                                  \
  "{\"numRecords\":3,\"minValues\":{\"id\":-9007199254740993,\"i8\":-128,\"i16\":-32768,"          \
  "\"i32\":-2147483648,\"f32\":1.5,\"f64\":-0.1,\"dec\":-12.34,"                                   \
  "\"big\":12345678901234567890.1234,\"s\":\"a\\\"b\\u00e9\",\"d\":\"1969-12-31\","                \
  "\"ts\":\"2024-01-02T03:04:05.123Z\",\"tsn\":\"2024-01-02T03:04:05.123\","                       \
  "\"nest\":{\"a\":5,\"inner\":{\"b\":\"deep\"}}},"                                                \
  "\"maxValues\":{\"id\":9223372036854775807,\"i8\":127,\"i16\":32767,\"i32\":2147483647,"         \
  "\"f32\":2.25,\"f64\":1e300,\"dec\":99999999.99,\"big\":-0.0001,\"s\":\"zz\","                   \
  "\"d\":\"2262-04-11\",\"ts\":\"2024-01-02T04:04:05.999+01:00\","                                 \
  "\"tsn\":\"1900-01-01T00:00:00.000\",\"nest\":{\"a\":6,\"inner\":{\"b\":\"deeper\"}}},"          \
  "\"nullCount\":{\"id\":0,\"i8\":1,\"i16\":0,\"i32\":0,\"f32\":0,\"f64\":0,\"dec\":0,\"big\":0,"  \
  "\"s\":0,\"d\":0,\"ts\":0,\"tsn\":0,\"flag\":2,\"bin\":3,"                                       \
  "\"nest\":{\"a\":0,\"inner\":{\"b\":1}},\"arr\":1},\"tightBounds\":true}"

/* Missing values (id's minimum, every maximum), values that do not fit (300 for a byte, a string
 * for a short, 1e39 for a float, three decimals for two, an invalid date, a non-timestamp), an
 * empty string (a real minimum), structs present with nothing in them. */
#define PS_STATS2                                                                                  \
  "{\"numRecords\":10,\"minValues\":{\"i8\":300,\"i16\":\"12\",\"f32\":1e39,\"dec\":1.234,"        \
  "\"s\":\"\",\"d\":\"2023-02-29\",\"ts\":\"not a time\",\"nest\":{\"inner\":{}}},"                \
  "\"nullCount\":{\"id\":10,\"nest\":{\"a\":3}},\"tightBounds\":false}"

typedef struct ps_file {
  const char *path;
  const char *pv[6]; /* p_s, p_i, p_d, p_ts, p_dec, p_b */
  const char *stats;
} ps_file;

static const ps_file ps_files[] = {
    {"f1.parquet",
     {"x y", "-7", "2024-02-29", "2024-01-02 03:04:05.123456", "-1.5", "true"},
     PS_STATS1},
    {"f2.parquet", {NULL, "", "2024-13-01", "2024-06-30T12:00:00Z", "abc", "FALSE"}, PS_STATS2},
    {"f3.parquet", {NULL, NULL, NULL, NULL, NULL, NULL}, NULL},
    {"f4.parquet",
     {"", "2147483648", "2000-01-01", "2024-06-30T12:00:00.5+02:00", "999.99", "yes"},
     "{\"numRecords\":1,"}, /* not JSON */
};

/* The stats JSON the log reader should make of stats_parsed alone (worked out by hand from the
 * stats above: what does not parse is gone, timestamps in UTC with milliseconds). */
#define PS_READ1                                                                                   \
  "{\"numRecords\":3,\"minValues\":{\"id\":-9007199254740993,\"i8\":-128,\"i16\":-32768,"          \
  "\"i32\":-2147483648,\"f32\":1.5,\"f64\":-0.1,\"dec\":-12.34,"                                   \
  "\"big\":12345678901234567890.1234,\"s\":\"a\\\"b\\u00e9\",\"d\":\"1969-12-31\","                \
  "\"ts\":\"2024-01-02T03:04:05.123Z\",\"tsn\":\"2024-01-02T03:04:05.123\","                       \
  "\"nest\":{\"a\":5,\"inner\":{\"b\":\"deep\"}}},"                                                \
  "\"maxValues\":{\"id\":9223372036854775807,\"i8\":127,\"i16\":32767,\"i32\":2147483647,"         \
  "\"f32\":2.25,\"f64\":1e300,\"dec\":99999999.99,\"big\":-0.0001,\"s\":\"zz\","                   \
  "\"d\":\"2262-04-11\",\"ts\":\"2024-01-02T03:04:05.999Z\","                                      \
  "\"tsn\":\"1900-01-01T00:00:00.000\",\"nest\":{\"a\":6,\"inner\":{\"b\":\"deeper\"}}},"          \
  "\"nullCount\":{\"id\":0,\"i8\":1,\"i16\":0,\"i32\":0,\"f32\":0,\"f64\":0,\"dec\":0,\"big\":0,"  \
  "\"s\":0,\"d\":0,\"ts\":0,\"tsn\":0,\"flag\":2,\"bin\":3,"                                       \
  "\"nest\":{\"a\":0,\"inner\":{\"b\":1}}},\"tightBounds\":true}"
#define PS_READ2                                                                                   \
  "{\"numRecords\":10,\"minValues\":{\"s\":\"\",\"nest\":{\"inner\":{}}},"                         \
  "\"nullCount\":{\"id\":10,\"nest\":{\"a\":3}},\"tightBounds\":false}"

/* Two JSON documents equal: the same members (in any order), numbers equal as doubles. */
static bool json_same(const cJSON *a, const cJSON *b, const char *where) {
  bool ok;
  if (cJSON_IsObject(a) && cJSON_IsObject(b)) {
    ok = cJSON_GetArraySize(a) == cJSON_GetArraySize(b);
    const cJSON *e;
    cJSON_ArrayForEach(e, a) {
      ok &= json_same(e, cJSON_GetObjectItemCaseSensitive(b, e->string), e->string);
    }
  } else if (cJSON_IsNumber(a) && cJSON_IsNumber(b)) {
    ok = a->valuedouble == b->valuedouble;
  } else if (cJSON_IsString(a) && cJSON_IsString(b)) {
    ok = strcmp(a->valuestring, b->valuestring) == 0;
  } else {
    ok = a && b && a->type == b->type && (cJSON_IsBool(a) || cJSON_IsNull(a));
  }
  if (!ok) fprintf(stderr, "  differs at %s\n", where);
  return ok;
}

static void check_json_same(const char *got, const char *want) {
  cJSON *a = got ? cJSON_Parse(got) : NULL, *b = cJSON_Parse(want);
  bool ok = a && b && json_same(a, b, "the top");
  if (!ok) fprintf(stderr, "  got  %s\n  want %s\n", got ? got : "(null)", want);
  CHECK(ok);
  cJSON_Delete(a);
  cJSON_Delete(b);
}

/* A checkpoint file's first batch, kept open (the files here fit in one). */
typedef struct ckpt_batch {
  tarn_parquet_file *pf;
  struct ArrowArrayStream st;
  struct ArrowSchema schema;
  struct ArrowArray batch;
  bool scanning;
} ckpt_batch;

static bool ckpt_batch_open(const char *table, int64_t version, ckpt_batch *b) {
  memset(b, 0, sizeof *b);
  char path[1024];
  snprintf(path, sizeof path, "%s/_delta_log/%020lld.checkpoint.parquet", table,
           (long long)version);
  tarn_error err = {0};
  if (tarn_parquet_open(path, NULL, &b->pf, &err) != 0 ||
      tarn_parquet_scan(b->pf, NULL, &b->st, &err) != 0) {
    fprintf(stderr, "  %s: %s\n", path, err.message);
    return false;
  }
  b->scanning = true;
  return b->st.get_schema(&b->st, &b->schema) == 0 && b->st.get_next(&b->st, &b->batch) == 0 &&
         b->batch.release != NULL;
}

static void ckpt_batch_close(ckpt_batch *b) {
  if (b->batch.release) b->batch.release(&b->batch);
  if (b->schema.release) b->schema.release(&b->schema);
  if (b->scanning) b->st.release(&b->st);
  if (b->pf) tarn_parquet_close(b->pf);
}

/* The row of the add struct column (add) for the file at path, or -1. */
static int64_t ckpt_add_row(const ckpt_batch *b, const char *path, tcol *add) {
  tcol top = {&b->schema, &b->batch};
  *add = tchild(top, "add");
  for (int64_t i = 0; add->s && i < b->batch.length; i++) {
    int64_t r = trow(top, i);
    if (tat(*add, r) >= 0 && tstr_eq(tchild(*add, "path"), trow(*add, r), path)) return r;
  }
  return -1;
}

/* The field at dotted path under struct column c at logical row i; *row is its row, -1 when a
 * struct on the way is null. */
static tcol tfield(tcol c, int64_t i, const char *path, int64_t *row) {
  for (const char *p = path; *p;) {
    size_t n = strcspn(p, ".");
    char part[128];
    snprintf(part, sizeof part, "%.*s", (int)n, p);
    i = tat(c, i) < 0 ? -1 : trow(c, i);
    c = tchild(c, part);
    p += n + (p[n] == '.');
  }
  *row = i;
  return c;
}

/* An integer-valued column (bytes, shorts, ints, longs, dates, timestamps) at row. */
static bool tint(tcol c, int64_t row, int64_t *out) {
  int64_t p = tat(c, row);
  if (p < 0 || c.s == NULL) return false;
  const char *f = c.s->format;
  const void *d = c.a->buffers[1];
  if (strcmp(f, "c") == 0)
    *out = ((const int8_t *)d)[p];
  else if (strcmp(f, "s") == 0)
    *out = ((const int16_t *)d)[p];
  else if (strcmp(f, "i") == 0 || strcmp(f, "tdD") == 0)
    *out = ((const int32_t *)d)[p];
  else if (strcmp(f, "l") == 0 || strncmp(f, "tsu:", 4) == 0)
    *out = ((const int64_t *)d)[p];
  else
    return false;
  return true;
}

static void check_int(tcol add, int64_t r, const char *path, int64_t want) {
  int64_t row, v = 0;
  tcol c = tfield(add, r, path, &row);
  bool ok = tint(c, row, &v) && v == want;
  if (!ok) fprintf(stderr, "  %s: want %lld, got %lld\n", path, (long long)want, (long long)v);
  CHECK(ok);
}

static void check_real(tcol add, int64_t r, const char *path, double want) {
  int64_t row;
  tcol c = tfield(add, r, path, &row);
  int64_t p = tat(c, row);
  double v = NAN;
  if (p >= 0 && strcmp(c.s->format, "f") == 0) v = ((const float *)c.a->buffers[1])[p];
  if (p >= 0 && strcmp(c.s->format, "g") == 0) v = ((const double *)c.a->buffers[1])[p];
  if (v != want) fprintf(stderr, "  %s: want %.17g, got %.17g\n", path, want, v);
  CHECK(v == want);
}

/* A decimal128 column's unscaled value, as decimal digits. */
static void check_unscaled(tcol add, int64_t r, const char *path, const char *want) {
  int64_t row;
  tcol c = tfield(add, r, path, &row);
  int64_t p = tat(c, row);
  char text[64] = "(null)";
  if (p >= 0 && c.s->format[0] == 'd') {
    const uint8_t *le = (const uint8_t *)c.a->buffers[1] + 16 * p;
    unsigned __int128 u = 0;
    for (int k = 15; k >= 0; k--)
      u = u << 8 | le[k];
    bool neg = le[15] & 0x80;
    if (neg) u = ~u + 1;
    char digits[48];
    int n = 0;
    do {
      digits[n++] = (char)('0' + (int)(u % 10));
      u /= 10;
    } while (u);
    int k = 0;
    if (neg) text[k++] = '-';
    while (n)
      text[k++] = digits[--n];
    text[k] = 0;
  }
  if (strcmp(text, want) != 0) fprintf(stderr, "  %s: want %s, got %s\n", path, want, text);
  CHECK_EQ_STR(text, want);
}

static void check_text(tcol add, int64_t r, const char *path, const char *want) {
  int64_t row;
  tcol c = tfield(add, r, path, &row);
  bool ok = c.s && tstr_eq(c, row, want);
  if (!ok) fprintf(stderr, "  %s: want \"%s\"\n", path, want);
  CHECK(ok);
}

static void check_flag(tcol add, int64_t r, const char *path, int want) {
  int64_t row;
  tcol c = tfield(add, r, path, &row);
  int v = c.s && strcmp(c.s->format, "b") == 0 ? tbool(c, row) : -2;
  if (v != want) fprintf(stderr, "  %s: want %d, got %d\n", path, want, v);
  CHECK_EQ_INT(v, want);
}

/* The field exists and is null at the add's row. */
static void check_null(tcol add, int64_t r, const char *path) {
  int64_t row;
  tcol c = tfield(add, r, path, &row);
  bool ok = c.s != NULL && tat(c, row) < 0;
  if (!ok) fprintf(stderr, "  %s: want a null%s\n", path, c.s ? "" : " (no such field)");
  CHECK(ok);
}

/* The Arrow format and the field names (comma-separated) of the field at path. */
static void check_shape(tcol add, const char *path, const char *format, const char *fields) {
  int64_t row;
  tcol c = tfield(add, 0, path, &row);
  char names[1024] = "";
  for (int64_t i = 0; c.s && i < c.s->n_children; i++)
    snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? "," : "",
             c.s->children[i]->name);
  bool ok = c.s && strcmp(c.s->format, format) == 0 && strcmp(names, fields) == 0 &&
            (c.s->flags & ARROW_FLAG_NULLABLE);
  if (!ok)
    fprintf(stderr, "  %s: want %s (%s), got %s (%s)\n", path, format, fields,
            c.s ? c.s->format : "no such field", names);
  CHECK(ok);
}

static void ps_table(const char *name, bool json_stats, char *dir, size_t cap) {
  table_path(dir, cap, name);
  delta_txn *t = begin(dir);
  tarn_error err = {0};
  const char *features[1] = {"timestampNtz"};
  CHECK_EQ_INT(delta_txn_set_protocol(t, 3, 7, features, 1, features, 1, &err), 0);
  const char *parts[6] = {"p_s", "p_i", "p_d", "p_ts", "p_dec", "p_b"};
  const char *keys[2] = {"delta.checkpoint.writeStatsAsStruct",
                         "delta.checkpoint.writeStatsAsJson"};
  const char *values[2] = {"true", "false"};
  int rc = delta_txn_set_metadata(t, PS_SCHEMA, parts, 6, keys, values, json_stats ? 1 : 2, &err);
  CHECK_EQ_INT(rc, 0);
  if (rc) fprintf(stderr, "  metadata: %s\n", err.message);
  for (size_t i = 0; i < sizeof ps_files / sizeof *ps_files; i++) {
    const ps_file *f = &ps_files[i];
    CHECK_EQ_INT(
        delta_txn_add_file(t, f->path, f->pv, 100 + (int64_t)i, 1700000000000, f->stats, &err), 0);
  }
  CHECK_EQ_INT(commit(t), 0);
}

/* The stats_parsed and partitionValues_parsed columns of the checkpoint, value by value. */
static void check_parsed_columns(const char *dir, bool json_stats) {
  ckpt_batch b;
  bool open = ckpt_batch_open(dir, 0, &b);
  CHECK(open);
  if (!open) {
    ckpt_batch_close(&b);
    return;
  }
  tcol add;
  int64_t r1 = ckpt_add_row(&b, "f1.parquet", &add);
  CHECK(r1 >= 0);
  if (r1 < 0) {
    ckpt_batch_close(&b);
    return;
  }
  /* the shape: delta-spark's field order, the columns' own types, partition columns, arrays,
   * maps, booleans and binary out of min/max, physical order of the schema kept */
  CHECK((tchild(add, "stats").s != NULL) == json_stats);
  check_shape(add, "stats_parsed", "+s", "numRecords,minValues,maxValues,nullCount,tightBounds");
  static const char *const min_max[] = {"stats_parsed.minValues", "stats_parsed.maxValues"};
  for (int k = 0; k < 2; k++) {
    char path[128];
    check_shape(add, min_max[k], "+s", "id,i8,i16,i32,f32,f64,dec,big,s,d,ts,tsn,nest");
    static const char *const leaf[][2] = {
        {"id", "l"},       {"i8", "c"},       {"i16", "s"},      {"i32", "i"},         {"f32", "f"},
        {"f64", "g"},      {"dec", "d:10,2"}, {"big", "d:30,4"}, {"s", "u"},           {"d", "tdD"},
        {"ts", "tsu:UTC"}, {"tsn", "tsu:"},   {"nest.a", "i"},   {"nest.inner.b", "u"}};
    for (size_t i = 0; i < sizeof leaf / sizeof *leaf; i++) {
      snprintf(path, sizeof path, "%s.%s", min_max[k], leaf[i][0]);
      check_shape(add, path, leaf[i][1], "");
    }
    snprintf(path, sizeof path, "%s.nest", min_max[k]);
    check_shape(add, path, "+s", "a,inner");
  }
  check_shape(add, "stats_parsed.nullCount", "+s",
              "id,i8,i16,i32,f32,f64,dec,big,s,d,ts,tsn,flag,bin,nest");
  check_shape(add, "stats_parsed.nullCount.flag", "l", "");
  check_shape(add, "stats_parsed.nullCount.nest", "+s", "a,inner");
  check_shape(add, "stats_parsed.nullCount.nest.inner.b", "l", "");
  check_shape(add, "stats_parsed.numRecords", "l", "");
  check_shape(add, "stats_parsed.tightBounds", "b", "");
  check_shape(add, "partitionValues_parsed", "+s", "p_s,p_i,p_d,p_ts,p_dec,p_b");
  check_shape(add, "partitionValues_parsed.p_i", "i", "");
  check_shape(add, "partitionValues_parsed.p_d", "tdD", "");
  check_shape(add, "partitionValues_parsed.p_ts", "tsu:UTC", "");
  check_shape(add, "partitionValues_parsed.p_dec", "d:5,2", "");
  check_shape(add, "partitionValues_parsed.p_b", "b", "");

  /* f1: every value as written (days and microseconds worked out by hand: 2024-01-01 is day
   * 19723, 1704067200 s) */
  check_int(add, r1, "stats_parsed.numRecords", 3);
  check_int(add, r1, "stats_parsed.minValues.id", INT64_C(-9007199254740993));
  check_int(add, r1, "stats_parsed.minValues.i8", -128);
  check_int(add, r1, "stats_parsed.minValues.i16", -32768);
  check_int(add, r1, "stats_parsed.minValues.i32", INT32_MIN);
  check_real(add, r1, "stats_parsed.minValues.f32", 1.5);
  check_real(add, r1, "stats_parsed.minValues.f64", -0.1);
  check_unscaled(add, r1, "stats_parsed.minValues.dec", "-1234");
  check_unscaled(add, r1, "stats_parsed.minValues.big", "123456789012345678901234");
  check_text(add, r1, "stats_parsed.minValues.s", "a\"b\xc3\xa9");
  check_int(add, r1, "stats_parsed.minValues.d", -1);
  check_int(add, r1, "stats_parsed.minValues.ts", INT64_C(1704164645123000));
  check_int(add, r1, "stats_parsed.minValues.tsn", INT64_C(1704164645123000));
  check_int(add, r1, "stats_parsed.minValues.nest.a", 5);
  check_text(add, r1, "stats_parsed.minValues.nest.inner.b", "deep");
  check_int(add, r1, "stats_parsed.maxValues.id", INT64_MAX);
  check_int(add, r1, "stats_parsed.maxValues.i8", 127);
  check_int(add, r1, "stats_parsed.maxValues.i16", 32767);
  check_int(add, r1, "stats_parsed.maxValues.i32", INT32_MAX);
  check_real(add, r1, "stats_parsed.maxValues.f32", 2.25);
  check_real(add, r1, "stats_parsed.maxValues.f64", 1e300);
  check_unscaled(add, r1, "stats_parsed.maxValues.dec", "9999999999");
  check_unscaled(add, r1, "stats_parsed.maxValues.big", "-1");
  check_text(add, r1, "stats_parsed.maxValues.s", "zz");
  check_int(add, r1, "stats_parsed.maxValues.d", 106751);
  check_int(add, r1, "stats_parsed.maxValues.ts", INT64_C(1704164645999000)); /* +01:00 */
  check_int(add, r1, "stats_parsed.maxValues.tsn", INT64_C(-2208988800000000));
  check_int(add, r1, "stats_parsed.maxValues.nest.a", 6);
  check_text(add, r1, "stats_parsed.maxValues.nest.inner.b", "deeper");
  static const char *const zero_nulls[] = {"id",  "i16", "i32", "f32", "f64", "dec",
                                           "big", "s",   "d",   "ts",  "tsn", "nest.a"};
  for (size_t i = 0; i < sizeof zero_nulls / sizeof *zero_nulls; i++) {
    char path[128];
    snprintf(path, sizeof path, "stats_parsed.nullCount.%s", zero_nulls[i]);
    check_int(add, r1, path, 0);
  }
  check_int(add, r1, "stats_parsed.nullCount.i8", 1);
  check_int(add, r1, "stats_parsed.nullCount.flag", 2);
  check_int(add, r1, "stats_parsed.nullCount.bin", 3);
  check_int(add, r1, "stats_parsed.nullCount.nest.inner.b", 1);
  check_flag(add, r1, "stats_parsed.tightBounds", 1);
  check_text(add, r1, "partitionValues_parsed.p_s", "x y");
  check_int(add, r1, "partitionValues_parsed.p_i", -7);
  check_int(add, r1, "partitionValues_parsed.p_d", 19782);
  check_int(add, r1, "partitionValues_parsed.p_ts", INT64_C(1704164645123456));
  check_unscaled(add, r1, "partitionValues_parsed.p_dec", "-150");
  check_flag(add, r1, "partitionValues_parsed.p_b", 1);

  /* f2: what is missing or does not fit is null; structs present stay present */
  int64_t r2 = ckpt_add_row(&b, "f2.parquet", &add);
  CHECK(r2 >= 0);
  check_int(add, r2, "stats_parsed.numRecords", 10);
  static const char *const null_mins[] = {"id",  "i8", "i32", "i16", "f32",    "f64",         "dec",
                                          "big", "d",  "ts",  "tsn", "nest.a", "nest.inner.b"};
  for (size_t i = 0; i < sizeof null_mins / sizeof *null_mins; i++) {
    char path[128];
    snprintf(path, sizeof path, "stats_parsed.minValues.%s", null_mins[i]);
    check_null(add, r2, path);
  }
  check_text(add, r2, "stats_parsed.minValues.s", "");
  check_null(add, r2, "stats_parsed.maxValues");
  check_null(add, r2, "stats_parsed.maxValues.id");
  check_int(add, r2, "stats_parsed.nullCount.id", 10);
  check_null(add, r2, "stats_parsed.nullCount.i8");
  check_int(add, r2, "stats_parsed.nullCount.nest.a", 3);
  check_null(add, r2, "stats_parsed.nullCount.nest.inner");
  check_flag(add, r2, "stats_parsed.tightBounds", 0);
  check_null(add, r2, "partitionValues_parsed.p_s");                            /* null */
  check_null(add, r2, "partitionValues_parsed.p_i");                            /* "" */
  check_null(add, r2, "partitionValues_parsed.p_d");                            /* month 13 */
  check_int(add, r2, "partitionValues_parsed.p_ts", INT64_C(1719748800000000)); /* day 19904 */
  check_null(add, r2, "partitionValues_parsed.p_dec");                          /* "abc" */
  check_flag(add, r2, "partitionValues_parsed.p_b", 0);

  /* f3: no stats, every partition value null; f4: stats that are not JSON */
  int64_t r3 = ckpt_add_row(&b, "f3.parquet", &add);
  CHECK(r3 >= 0);
  check_null(add, r3, "stats_parsed");
  static const char *const pv_names[] = {"p_s", "p_i", "p_d", "p_ts", "p_dec", "p_b"};
  for (size_t i = 0; i < 6; i++) {
    char path[128];
    snprintf(path, sizeof path, "partitionValues_parsed.%s", pv_names[i]);
    check_null(add, r3, path);
  }
  int64_t r4 = ckpt_add_row(&b, "f4.parquet", &add);
  CHECK(r4 >= 0);
  check_null(add, r4, "stats_parsed");
  check_null(add, r4, "partitionValues_parsed.p_s"); /* "": null, as the protocol reads it */
  check_null(add, r4, "partitionValues_parsed.p_i"); /* past int32 */
  check_int(add, r4, "partitionValues_parsed.p_d", 10957);
  check_int(add, r4, "partitionValues_parsed.p_ts", INT64_C(1719741600500000)); /* +02:00 */
  check_unscaled(add, r4, "partitionValues_parsed.p_dec", "99999");
  check_null(add, r4, "partitionValues_parsed.p_b"); /* "yes" */
  ckpt_batch_close(&b);
}

static void test_stats_parsed_written(void) {
  for (int json_stats = 1; json_stats >= 0; json_stats--) {
    char dir[512], copy[512];
    ps_table(json_stats ? "parsed" : "parsed-nojson", json_stats, dir, sizeof dir);
    delta_snapshot *json = load(dir, 0);
    tarn_error err;
    CHECK_EQ_INT(write_checkpoint(json, &err), 0);
    check_parsed_columns(dir, json_stats);
    /* the checkpoint alone: with the stats column, the committed strings; without, the log
     * reader's JSON from stats_parsed (delta_log.c), equal to the hand-worked documents */
    table_path(copy, sizeof copy, json_stats ? "parsed-copy" : "parsed-nojson-copy");
    copy_table(dir, copy);
    remove_commits(copy, 0, 0);
    delta_snapshot *s = load(copy, 0);
    CHECK(s && s->n_files == 4);
    if (s && json_stats) check_same_snapshot(s, json);
    if (s && !json_stats && s->n_files == 4) {
      check_json_same(s->files[0].stats, PS_READ1);
      /* exactly: numbers past a double's precision */
      CHECK(strstr(s->files[0].stats, "\"id\":-9007199254740993") != NULL);
      CHECK(strstr(s->files[0].stats, "\"id\":9223372036854775807") != NULL);
      CHECK(strstr(s->files[0].stats, "\"big\":12345678901234567890.1234") != NULL);
      check_json_same(s->files[1].stats, PS_READ2);
      CHECK(s->files[2].stats == NULL);
      CHECK(s->files[3].stats == NULL);
      for (size_t i = 0; i < 4; i++) {
        CHECK_EQ_STR(s->files[i].path, ps_files[i].path);
        for (size_t k = 0; k < 6; k++)
          CHECK_SAME_STR(s->files[i].partition_values[k], json->files[i].partition_values[k]);
      }
    }
    delta_snapshot_free(s);
    delta_snapshot_free(json);
  }
}

/* Which columns stats_parsed mirrors: delta.dataSkippingNumIndexedCols (leaves in schema order,
 * structs looked into), delta.dataSkippingStatsColumns (paths, backticks, case-insensitive);
 * under column mapping, physical names for stats and partition fields alike. */
/* clang-format off */
#define SEL_SCHEMA                                                                                 \
  SS(SF("a", ST("long")) ","                                                                       \
     SF("s", SS(SF("x", ST("string")) "," SF("y", ST("date")))) ","                                \
     SF("b", ST("boolean")) ","                                                                    \
     SF("c.d", ST("integer")) ","                                                                  \
     SF("p", ST("string")))
/* clang-format on */

static void selection_case(const char *name, const char *schema, const char *config,
                           const char *stats, const char *partition_value, const char *want_min,
                           const char *want_nulls, const char *want_pv) {
  char dir[512];
  table_path(dir, sizeof dir, name);
  make_log_dir(dir);
  char *meta = metadata_line(name, schema, "[\"p\"]", config);
  char add_line[1024];
  snprintf(add_line, sizeof add_line,
           "{\"add\":{\"path\":\"f.parquet\",\"partitionValues\":{%s},\"size\":1,"
           "\"modificationTime\":1,\"dataChange\":true,\"stats\":\"%s\"}}\n",
           partition_value, stats);
  write_commit(dir, 0, "{\"protocol\":{\"minReaderVersion\":2,\"minWriterVersion\":5}}\n", meta,
               add_line);
  free(meta);
  delta_snapshot *s = load(dir, 0);
  tarn_error err;
  CHECK_EQ_INT(s ? write_checkpoint(s, &err) : -1, 0);
  delta_snapshot_free(s);
  ckpt_batch b;
  tcol add;
  int64_t r = ckpt_batch_open(dir, 0, &b) ? ckpt_add_row(&b, "f.parquet", &add) : -1;
  CHECK(r >= 0);
  if (r >= 0) {
    /* NULL: no such struct (no column has such statistics) */
    if (want_min)
      check_shape(add, "stats_parsed.minValues", "+s", want_min);
    else
      CHECK(tfield(add, r, "stats_parsed.minValues", &(int64_t){0}).s == NULL);
    if (want_nulls)
      check_shape(add, "stats_parsed.nullCount", "+s", want_nulls);
    else
      CHECK(tfield(add, r, "stats_parsed.nullCount", &(int64_t){0}).s == NULL);
    check_shape(add, "partitionValues_parsed", "+s", want_pv);
  }
  ckpt_batch_close(&b);
}

/* The shape of one field of the add column of table `name`'s checkpoint 0. */
static void check_table_shape(const char *name, const char *path, const char *format,
                              const char *fields) {
  char dir[512];
  table_path(dir, sizeof dir, name);
  ckpt_batch b;
  tcol add;
  if (ckpt_batch_open(dir, 0, &b) && ckpt_add_row(&b, "f.parquet", &add) >= 0)
    check_shape(add, path, format, fields);
  else
    CHECK(0);
  ckpt_batch_close(&b);
}

static void test_stats_parsed_columns(void) {
  const char *st = "{\\\"numRecords\\\":1}";
  selection_case("sel-default", SEL_SCHEMA, "{\"delta.checkpoint.writeStatsAsStruct\":\"true\"}",
                 st, "\"p\":\"v\"", "a,s,c.d", "a,s,b,c.d", "p");
  selection_case("sel-two", SEL_SCHEMA,
                 "{\"delta.checkpoint.writeStatsAsStruct\":\"true\","
                 "\"delta.dataSkippingNumIndexedCols\":\"2\"}",
                 st, "\"p\":\"v\"", "a,s", "a,s", "p");
  check_table_shape("sel-two", "stats_parsed.minValues.s", "+s", "x");
  selection_case("sel-none", SEL_SCHEMA,
                 "{\"delta.checkpoint.writeStatsAsStruct\":\"true\","
                 "\"delta.dataSkippingNumIndexedCols\":\"0\"}",
                 st, "\"p\":\"v\"", NULL, NULL, "p");
  selection_case("sel-columns", SEL_SCHEMA,
                 "{\"delta.checkpoint.writeStatsAsStruct\":\"true\","
                 "\"delta.dataSkippingStatsColumns\":\"S.y, `c.d`,B,nope\","
                 "\"delta.dataSkippingNumIndexedCols\":\"1\"}",
                 st, "\"p\":\"v\"", "s,c.d", "s,b,c.d", "p");
  check_table_shape("sel-columns", "stats_parsed.minValues.s", "+s", "y");
  check_table_shape("sel-columns", "stats_parsed.nullCount.s", "+s", "y");
  /* the struct s named whole: both its fields */
  selection_case("sel-struct", SEL_SCHEMA,
                 "{\"delta.checkpoint.writeStatsAsStruct\":\"true\","
                 "\"delta.dataSkippingStatsColumns\":\"`s`\"}",
                 st, "\"p\":\"v\"", "s", "s", "p");
  check_table_shape("sel-struct", "stats_parsed.minValues.s", "+s", "x,y");

  /* column mapping: the fields are named, and the stats looked up, by physical name */
#define CM_FIELD(name, type, id, phys)                                                             \
  "{\"name\":\"" name "\",\"type\":" type ",\"nullable\":true,\"metadata\":{"                      \
  "\"delta.columnMapping.id\":" id ",\"delta.columnMapping.physicalName\":\"" phys "\"}}"
  /* clang-format off */
  const char *cm_schema = SS(CM_FIELD("id", ST("long"), "1", "col-1") ","
                             CM_FIELD("n", SS(CM_FIELD("x", ST("string"), "2", "col-2")),
                                      "3", "col-3") ","
                             CM_FIELD("p", ST("date"), "4", "col-4"));
  /* clang-format on */
  const char *cm_stats = "{\\\"numRecords\\\":2,\\\"minValues\\\":{\\\"col-1\\\":1,"
                         "\\\"col-3\\\":{\\\"col-2\\\":\\\"q\\\"},\\\"id\\\":9},"
                         "\\\"nullCount\\\":{\\\"col-1\\\":0,\\\"col-3\\\":{\\\"col-2\\\":1}}}";
  selection_case("sel-mapped", cm_schema,
                 "{\"delta.checkpoint.writeStatsAsStruct\":\"true\","
                 "\"delta.columnMapping.mode\":\"name\"}",
                 cm_stats, "\"col-4\":\"2000-01-02\"", "col-1,col-3", "col-1,col-3", "col-4");
  char dir[512];
  table_path(dir, sizeof dir, "sel-mapped");
  ckpt_batch b;
  tcol add;
  int64_t r = ckpt_batch_open(dir, 0, &b) ? ckpt_add_row(&b, "f.parquet", &add) : -1;
  CHECK(r >= 0);
  if (r >= 0) {
    check_int(add, r, "stats_parsed.minValues.col-1", 1);
    check_text(add, r, "stats_parsed.minValues.col-3.col-2", "q");
    check_int(add, r, "stats_parsed.nullCount.col-3.col-2", 1);
    check_int(add, r, "partitionValues_parsed.col-4", 10958);
  }
  ckpt_batch_close(&b);
}

/* ---- Log compaction files ------------------------------------------------------------------- */

static void file_set_equal(const delta_snapshot *a, const delta_snapshot *b) {
  check_same_snapshot(a, b);
}

/* kernel-rs' table with compaction files: the same snapshots with and without them. Live file
 * counts from an independent Python replay of the commits: 2 at 5, 3 at 10 and 15, 2 at 25. */
static void test_compaction_shared(void) {
  char src[4096], copy[512];
  shared_data_path(src, sizeof src, KERNEL_DATA "compacted-log-files-table");
  table_path(copy, sizeof copy, "compacted-plain");
  copy_table(src, copy);
  shell("rm -f '%1$s'/_delta_log/*.compacted.json%2$s", copy, "");
  static const struct {
    int64_t version;
    size_t files;
  } cases[] = {{5, 2}, {6, 0}, {10, 3}, {12, 0}, {15, 3}, {20, 0}, {25, 2}};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    delta_snapshot *with = load(src, cases[i].version), *without = load(copy, cases[i].version);
    file_set_equal(with, without);
    if (with && cases[i].files) CHECK_EQ_INT(with->n_files, cases[i].files);
    delta_snapshot_free(with);
    delta_snapshot_free(without);
  }
  tarn_arena a = {0};
  delta_commit *hist = NULL;
  size_t n = 0;
  tarn_error err = {0};
  CHECK_EQ_INT(delta_history(src, &a, &hist, &n, &err), 0);
  CHECK_EQ_INT(n, 26);
  tarn_arena_free(&a);
}

#define ADD_LINE(path, stats)                                                                      \
  "{\"add\":{\"path\":\"" path "\",\"partitionValues\":{},\"size\":1,\"modificationTime\":1,"      \
  "\"dataChange\":true,\"stats\":\"{\\\"numRecords\\\":" stats "}\"}}\n"
#define REMOVE_LINE(path) "{\"remove\":{\"path\":\"" path "\",\"dataChange\":true}}\n"

/* Hand-written compactions whose content differs from the commits, so their use shows. */
static void test_compaction_hand_made(void) {
  char dir[512];
  hand_table("cmp", dir, sizeof dir,
             "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n", "{}");
  /* commits: v0 adds f (hand_table), v1 adds b, v2 removes f and adds c, v3 adds d */
  write_commit(dir, 1, ADD_LINE("b", "1"), NULL, NULL);
  write_commit(dir, 2, REMOVE_LINE("f.parquet"), ADD_LINE("c", "1"), NULL);
  write_commit(dir, 3, ADD_LINE("d", "1"), NULL, NULL);
  /* the compaction of 1..2 says c has 99 records */
  write_file(dir, "_delta_log/00000000000000000001.00000000000000000002.compacted.json",
             ADD_LINE("b", "1") REMOVE_LINE("f.parquet") ADD_LINE("c", "99"));
  delta_snapshot *s = load(dir, 2);
  CHECK(s && s->n_files == 2);
  if (s && s->n_files == 2) {
    CHECK_EQ_STR(s->files[1].path, "c");
    CHECK_EQ_STR(s->files[1].stats, "{\"numRecords\":99}"); /* read from the compaction */
  }
  delta_snapshot_free(s);
  s = load(dir, 3);
  CHECK(s && s->n_files == 3 && strcmp(s->files[1].stats, "{\"numRecords\":99}") == 0);
  delta_snapshot_free(s);
  /* version 1 is inside the range: the commit is read */
  s = load(dir, 1);
  CHECK(s && s->n_files == 2 && strcmp(s->files[0].path, "b") == 0);
  delta_snapshot_free(s);
  /* the commit time still comes from the commits */
  s = load(dir, 2);
  delta_snapshot *t = NULL;
  tarn_error err = {0};
  CHECK_EQ_INT(delta_snapshot_load_at(dir, s ? s->timestamp_ms : 0, &t, &err), 0);
  delta_snapshot_free(t);
  delta_snapshot_free(s);

  /* a checkpoint at 1 makes a compaction from 1 unusable: its start is covered */
  s = load(dir, 1);
  CHECK_EQ_INT(write_checkpoint(s, &err), 0);
  delta_snapshot_free(s);
  s = load(dir, 2);
  CHECK(s && s->n_files == 2 && strcmp(s->files[1].stats, "{\"numRecords\":1}") == 0);
  delta_snapshot_free(s);

  /* several actions for one file: the first wins (newest first, as kernel-rs reads) */
  hand_table("cmp-dup", dir, sizeof dir,
             "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n", "{}");
  write_commit(dir, 1, ADD_LINE("b", "1"), NULL, NULL);
  write_commit(dir, 2, REMOVE_LINE("b"), NULL, NULL);
  write_file(dir, "_delta_log/00000000000000000001.00000000000000000002.compacted.json",
             REMOVE_LINE("b") ADD_LINE("b", "1"));
  s = load(dir, 2);
  CHECK(s && s->n_files == 1 && strcmp(s->files[0].path, "f.parquet") == 0);
  delta_snapshot_free(s);
  /* the same for the other actions: the first txn per application, the first metaData */
  write_commit(dir, 3, "{\"txn\":{\"appId\":\"a\",\"version\":3}}\n", NULL, NULL);
  write_commit(dir, 4, "{\"txn\":{\"appId\":\"a\",\"version\":5}}\n", NULL, NULL);
  char *m1 = metadata_line("cmp-dup", SCHEMA, "[]", "{\"k\":\"old\"}");
  char *m2 = metadata_line("cmp-dup", SCHEMA, "[]", "{\"k\":\"new\"}");
  write_commit(dir, 5, m1, NULL, NULL);
  write_commit(dir, 6, m2, NULL, NULL);
  size_t cap = strlen(m1) + strlen(m2) + 256;
  char *text = malloc(cap);
  snprintf(text, cap,
           "%s%s{\"txn\":{\"appId\":\"a\",\"version\":5}}\n"
           "{\"txn\":{\"appId\":\"a\",\"version\":3}}\n",
           m2, m1);
  write_file(dir, "_delta_log/00000000000000000003.00000000000000000006.compacted.json", text);
  free(text);
  free(m1);
  free(m2);
  s = load(dir, 6);
  CHECK_EQ_INT(txn_version(s, "a"), 5);
  CHECK(s && same_str(config_of(s, "k"), "new"));
  delta_snapshot_free(s);

  /* a broken compaction (truncated JSON) is passed over for the commits */
  hand_table("cmp-broken", dir, sizeof dir,
             "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n", "{}");
  write_commit(dir, 1, ADD_LINE("b", "1"), NULL, NULL);
  write_commit(dir, 2, ADD_LINE("c", "1"), NULL, NULL);
  write_file(dir, "_delta_log/00000000000000000001.00000000000000000002.compacted.json",
             ADD_LINE("zzz", "1") "{\"add\":{\"path\":\"yyy\"");
  s = load(dir, 2);
  CHECK(s && s->n_files == 3 && strcmp(s->files[0].path, "b") == 0);
  delta_snapshot_free(s);
  /* a compaction never fills a missing commit */
  remove_log_file(dir, "00000000000000000001.json");
  write_file(dir, "_delta_log/00000000000000000001.00000000000000000002.compacted.json",
             ADD_LINE("b", "1") ADD_LINE("c", "1"));
  s = NULL;
  CHECK_EQ_INT(delta_snapshot_load(dir, 2, &s, &err), TARN_ECORRUPT);
  CHECK(strstr(err.message, "missing version 1") != NULL);
  delta_snapshot_free(s);
}

/* ---- Remove tombstones ---------------------------------------------------------------------- */

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#define MINUTE_MS INT64_C(60000)
#define HOUR_MS (60 * MINUTE_MS)
#define DAY_MS (24 * HOUR_MS)

/* A tombstone as a test expects it: pv_key NULL means the remove had no partitionValues, "" an
 * empty map; pv_value NULL a null value. dv_type 0: no deletion vector. */
typedef struct want_tomb {
  const char *path;
  int64_t deletion_timestamp;
  bool data_change;
  int extended_file_metadata;
  const char *pv_key, *pv_value;
  int64_t size;
  char dv_type;
  const char *dv_path;
  int32_t dv_offset;
  int64_t base_row_id, default_row_commit_version;
} want_tomb;

static void check_tombstones(const delta_snapshot *s, const want_tomb *want, size_t n) {
  CHECK(s != NULL);
  if (s == NULL) return;
  CHECK_EQ_INT(s->n_tombstones, n);
  for (size_t i = 0; i < n && i < s->n_tombstones; i++) { /* both sorted by path, then DV */
    const delta_tombstone *t = &s->tombstones[i];
    const want_tomb *w = &want[i];
    CHECK_EQ_STR(t->path, w->path);
    CHECK_EQ_INT(t->deletion_timestamp, w->deletion_timestamp);
    CHECK_EQ_INT(t->data_change, w->data_change);
    CHECK_EQ_INT(t->extended_file_metadata, w->extended_file_metadata);
    CHECK_EQ_INT(t->size, w->size);
    if (w->pv_key == NULL) {
      CHECK(t->partition_keys == NULL);
    } else if (w->pv_key[0] == 0) {
      CHECK(t->partition_keys != NULL);
      CHECK_EQ_INT(t->n_partition_values, 0);
    } else {
      CHECK_EQ_INT(t->n_partition_values, 1);
      if (t->n_partition_values == 1) {
        CHECK_EQ_STR(t->partition_keys[0], w->pv_key);
        CHECK_SAME_STR(t->partition_values[0], w->pv_value);
      }
    }
    CHECK_EQ_INT(t->dv.storage_type, w->dv_type);
    if (w->dv_type && t->dv.storage_type) {
      CHECK_EQ_STR(t->dv.path_or_inline, w->dv_path);
      CHECK_EQ_INT(t->dv.offset, w->dv_offset);
    }
    CHECK_EQ_INT(t->base_row_id, w->base_row_id);
    CHECK_EQ_INT(t->default_row_commit_version, w->default_row_commit_version);
  }
}

/* The same expectations against remove rows read from the checkpoint Parquet file. */
static void check_remove_rows(const ckpt_view *v, const want_tomb *want, size_t n) {
  CHECK_EQ_INT(v->n_remove, n);
  for (size_t i = 0; i < n && i < (size_t)v->n_remove && i < VIEW_MAX_REMOVES; i++) {
    const rm_row *r = &v->removes[i]; /* written in the snapshot's order */
    const want_tomb *w = &want[i];
    CHECK_EQ_STR(r->path, w->path);
    CHECK_EQ_INT(r->deletion_timestamp,
                 w->deletion_timestamp >= 0 ? w->deletion_timestamp : INT64_MIN);
    CHECK_EQ_INT(r->data_change, w->data_change);
    CHECK_EQ_INT(r->extended_file_metadata, w->extended_file_metadata);
    CHECK_EQ_INT(r->size, w->size >= 0 ? w->size : INT64_MIN);
    CHECK_EQ_INT(r->n_pv, w->pv_key == NULL ? -1 : w->pv_key[0] == 0 ? 0 : 1);
    if (w->pv_key && w->pv_key[0]) {
      CHECK_EQ_STR(r->pv_key, w->pv_key);
      CHECK_EQ_STR(r->pv_value, w->pv_value ? w->pv_value : "(null)");
    }
    CHECK_EQ_INT(r->dv_type, w->dv_type);
    if (w->dv_type) {
      CHECK_EQ_STR(r->dv_path, w->dv_path);
      CHECK_EQ_INT(r->dv_offset, w->dv_offset >= 0 ? w->dv_offset : INT64_MIN);
    }
    CHECK_EQ_INT(r->base_row_id, w->base_row_id >= 0 ? w->base_row_id : INT64_MIN);
    CHECK_EQ_INT(r->default_row_commit_version,
                 w->default_row_commit_version >= 0 ? w->default_row_commit_version : INT64_MIN);
  }
}

/* A commit file from printf-formatted text (the times in it vary per run). */
static void write_commit_f(const char *table, int64_t v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void write_commit_f(const char *table, int64_t v, const char *fmt, ...) {
  char text[8192];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  write_commit(table, v, text, NULL, NULL);
}

#define DV_PROTOCOL                                                                                \
  "{\"protocol\":{\"minReaderVersion\":3,\"minWriterVersion\":7,\"readerFeatures\":["              \
  "\"deletionVectors\"],\"writerFeatures\":[\"deletionVectors\"]}}\n"
#define T_ADD(path, part) /* part: a JSON value */                                                 \
  "{\"add\":{\"path\":\"" path "\",\"partitionValues\":{\"part\":" part "},\"size\":1,"            \
  "\"modificationTime\":1,\"dataChange\":true}}\n"
#define T_ADD_DV(path, part, dv)                                                                   \
  "{\"add\":{\"path\":\"" path "\",\"partitionValues\":{\"part\":" part "},\"size\":1,"            \
  "\"modificationTime\":1,\"dataChange\":true,\"deletionVector\":" dv "}}\n"
#define DV_A                                                                                       \
  "{\"storageType\":\"u\",\"pathOrInlineDv\":\"dvA\",\"offset\":1,\"sizeInBytes\":10,"             \
  "\"cardinality\":1}"
#define DV_B                                                                                       \
  "{\"storageType\":\"u\",\"pathOrInlineDv\":\"dvB\",\"offset\":9,\"sizeInBytes\":20,"             \
  "\"cardinality\":3}"
#define DV_G1                                                                                      \
  "{\"storageType\":\"i\",\"pathOrInlineDv\":\"g1inline\",\"sizeInBytes\":5,\"cardinality\":2}"
#define DV_G2                                                                                      \
  "{\"storageType\":\"u\",\"pathOrInlineDv\":\"g2\",\"sizeInBytes\":6,\"cardinality\":4}"

/* Hand-written commits with removes: re-adds, a later remove replacing an earlier one, deletion
 * vector keys, expiry under a two-hour retention, and every optional field of a remove. The
 * expected tombstone set is worked out here from the commits. */
static void test_tombstones_hand_made(void) {
  char dir[512], copy[512];
  table_path(dir, sizeof dir, "tomb");
  table_path(copy, sizeof copy, "tomb-copy");
  make_log_dir(dir);
  const int64_t now = now_ms();
  char *meta = metadata_line("tomb", SCHEMA, "[\"part\"]",
                             "{\"delta.deletedFileRetentionDuration\":\"interval 2 hours\"}");
  write_commit_f(dir, 0, "%s%s%s%s%s%s%s%s%s%s", DV_PROTOCOL, meta, T_ADD("a.parquet", "\"x\""),
                 T_ADD("b.parquet", "\"x\""), T_ADD("c.parquet", "\"x\""),
                 T_ADD_DV("d.parquet", "\"y\"", DV_A), T_ADD("e.parquet", "\"y\""),
                 T_ADD("f.parquet", "null"), T_ADD_DV("g.parquet", "\"z\"", DV_G1),
                 T_ADD("h.parquet", "\"z\""));
  free(meta);
  /* v1: a removed; b removed 3 hours ago (expired); c without a deletionTimestamp (expired);
   * d and g get new deletion vectors (remove of the old key, add of the new one) */
  write_commit_f(
      dir, 1,
      "{\"remove\":{\"path\":\"a.parquet\",\"deletionTimestamp\":%lld,\"dataChange\":true,"
      "\"extendedFileMetadata\":true,\"partitionValues\":{\"part\":\"x\"},\"size\":11}}\n"
      "{\"remove\":{\"path\":\"b.parquet\",\"deletionTimestamp\":%lld,\"dataChange\":true,"
      "\"extendedFileMetadata\":true,\"partitionValues\":{\"part\":\"x\"},\"size\":12}}\n"
      "{\"remove\":{\"path\":\"c.parquet\",\"dataChange\":true}}\n"
      "{\"remove\":{\"path\":\"d.parquet\",\"deletionTimestamp\":%lld,\"dataChange\":true,"
      "\"extendedFileMetadata\":true,\"partitionValues\":{\"part\":\"y\"},\"size\":14,"
      "\"deletionVector\":%s,\"baseRowId\":7,\"defaultRowCommitVersion\":0}}\n"
      "%s"
      "{\"remove\":{\"path\":\"g.parquet\",\"deletionTimestamp\":%lld,\"dataChange\":true,"
      "\"deletionVector\":%s}}\n"
      "%s",
      (long long)(now - 30 * MINUTE_MS), (long long)(now - 3 * HOUR_MS),
      (long long)(now - 20 * MINUTE_MS), DV_A, T_ADD_DV("d.parquet", "\"y\"", DV_B),
      (long long)(now - 40 * MINUTE_MS), DV_G1, T_ADD_DV("g.parquet", "\"z\"", DV_G2));
  /* v2: a added back; e removed (dataChange false, no partitionValues); a file never added */
  write_commit_f(dir, 2,
                 "{\"add\":{\"path\":\"a.parquet\",\"partitionValues\":{\"part\":\"x\"},"
                 "\"size\":111,\"modificationTime\":1,\"dataChange\":true}}\n"
                 "{\"remove\":{\"path\":\"e.parquet\",\"deletionTimestamp\":%lld,"
                 "\"dataChange\":false,\"extendedFileMetadata\":false,\"size\":15}}\n"
                 "{\"remove\":{\"path\":\"ghost.parquet\",\"deletionTimestamp\":%lld,"
                 "\"dataChange\":true,\"extendedFileMetadata\":true,\"partitionValues\":{}}}\n",
                 (long long)(now - 50 * MINUTE_MS), (long long)(now - 5 * MINUTE_MS));
  /* v3: e removed again (replaces v2's remove), f with a null partition value, g's second key */
  write_commit_f(dir, 3,
                 "{\"remove\":{\"path\":\"e.parquet\",\"deletionTimestamp\":%lld,"
                 "\"dataChange\":true,\"extendedFileMetadata\":true,\"partitionValues\":{"
                 "\"part\":\"y\"},\"size\":77}}\n"
                 "{\"remove\":{\"path\":\"f.parquet\",\"deletionTimestamp\":%lld,"
                 "\"dataChange\":true,\"extendedFileMetadata\":true,\"partitionValues\":{"
                 "\"part\":null},\"size\":16}}\n"
                 "{\"remove\":{\"path\":\"g.parquet\",\"deletionTimestamp\":%lld,"
                 "\"dataChange\":true,\"deletionVector\":" DV_G2 "}}\n",
                 (long long)(now - 10 * MINUTE_MS), (long long)(now - 1 * MINUTE_MS),
                 (long long)(now - 15 * MINUTE_MS));

  const want_tomb d_a = {
      "d.parquet", now - 20 * MINUTE_MS, true, 1, "part", "y", 14, 'u', "dvA", 1, 7, 0};
  const want_tomb g_1 = {"g.parquet", now - 40 * MINUTE_MS, true, -1, NULL, NULL, -1,
                         'i',         "g1inline",           -1,   -1, -1};
  const want_tomb at1[] = {
      {"a.parquet", now - 30 * MINUTE_MS, true, 1, "part", "x", 11, 0, NULL, -1, -1, -1}, d_a, g_1};
  const want_tomb ghost = {
      "ghost.parquet", now - 5 * MINUTE_MS, true, 1, "", NULL, -1, 0, NULL, -1, -1, -1};
  const want_tomb at2[] = {
      d_a,
      {"e.parquet", now - 50 * MINUTE_MS, false, 0, NULL, NULL, 15, 0, NULL, -1, -1, -1},
      g_1,
      ghost};
  const want_tomb at3[] = {
      d_a,
      {"e.parquet", now - 10 * MINUTE_MS, true, 1, "part", "y", 77, 0, NULL, -1, -1, -1},
      {"f.parquet", now - 1 * MINUTE_MS, true, 1, "part", NULL, 16, 0, NULL, -1, -1, -1},
      g_1,
      {"g.parquet", now - 15 * MINUTE_MS, true, -1, NULL, NULL, -1, 'u', "g2", -1, -1, -1},
      ghost};
  delta_snapshot *s = load(dir, 1);
  check_tombstones(s, at1, 3);
  if (s) CHECK_EQ_INT(s->tombstone_retention_ms, 2 * HOUR_MS);
  CHECK(s && s->n_files == 5); /* a, b, c gone; d and g with their new vectors; e, f, h */
  delta_snapshot_free(s);
  s = load(dir, 2);
  check_tombstones(s, at2, 4);
  delta_snapshot_free(s);
  delta_snapshot *json3 = load(dir, 3);
  check_tombstones(json3, at3, 6);
  /* live: a (added back), d with vector B, h */
  CHECK(json3 && json3->n_files == 3);
  if (json3 && json3->n_files == 3) {
    CHECK_EQ_STR(json3->files[0].path, "a.parquet");
    CHECK_EQ_INT(json3->files[0].size, 111);
    CHECK_EQ_STR(json3->files[1].path, "d.parquet");
    CHECK_EQ_STR(json3->files[1].dv.path_or_inline, "dvB");
    CHECK_EQ_STR(json3->files[2].path, "h.parquet");
  }

  /* the checkpoint: one remove row per tombstone, read back from the Parquet file */
  tarn_error err;
  CHECK_EQ_INT(write_checkpoint(json3, &err), 0);
  ckpt_view v = {0};
  view_checkpoint(dir, 3, &v);
  CHECK(v.readable);
  CHECK_EQ_INT(v.bad_rows, 0);
  CHECK_EQ_INT(v.n_add, 3);
  check_remove_rows(&v, at3, 6);
  CHECK_EQ_INT(v.rows, 2 + 3 + 6);        /* protocol, metaData, adds, removes */
  CHECK_EQ_INT(v.removes[0].dv_size, 10); /* d's vector A, whole */
  CHECK_EQ_INT(v.removes[0].dv_cardinality, 1);
  char path[1024];
  snprintf(path, sizeof path, "%s/_delta_log/_last_checkpoint", dir);
  char *text = read_text(path);
  cJSON *lc = text ? cJSON_Parse(text) : NULL;
  const cJSON *size = cJSON_GetObjectItem(lc, "size"),
              *adds = cJSON_GetObjectItem(lc, "numOfAddFiles");
  CHECK_EQ_INT(cJSON_IsNumber(size) ? size->valueint : -1, 11);
  CHECK_EQ_INT(cJSON_IsNumber(adds) ? adds->valueint : -1, 3);
  cJSON_Delete(lc);
  free(text);

  /* the checkpoint alone carries them */
  copy_table(dir, copy);
  remove_commits(copy, 0, 3);
  delta_snapshot *only = load(copy, 3);
  check_tombstones(only, at3, 6);
  check_same_snapshot(only, json3);
  delta_snapshot_free(only);

  /* commits after the checkpoint reconcile with its tombstones: ghost added back, h removed */
  write_commit_f(dir, 4,
                 "{\"add\":{\"path\":\"ghost.parquet\",\"partitionValues\":{\"part\":\"z\"},"
                 "\"size\":5,\"modificationTime\":1,\"dataChange\":true}}\n"
                 "{\"remove\":{\"path\":\"h.parquet\",\"deletionTimestamp\":%lld,"
                 "\"dataChange\":true}}\n",
                 (long long)(now - 2 * MINUTE_MS));
  const want_tomb at4[] = {
      at3[0], at3[1],
      at3[2], at3[3],
      at3[4], {"h.parquet", now - 2 * MINUTE_MS, true, -1, NULL, NULL, -1, 0, NULL, -1, -1, -1}};
  delta_snapshot *s4 = load(dir, 4); /* checkpoint 3 + commit 4 */
  check_tombstones(s4, at4, 6);
  CHECK(s4 && s4->n_files == 3);
  copy_table(dir, copy);
  shell("rm -f '%1$s'/_delta_log/*.checkpoint.parquet '%1$s'/_delta_log/_last_checkpoint%2$s", copy,
        "");
  only = load(copy, 4); /* the JSON commits alone */
  check_same_snapshot(only, s4);
  delta_snapshot_free(only);
  delta_snapshot_free(s4);
  delta_snapshot_free(json3);

  /* inside a checkpoint the rows are unordered: a remove never cancels an add of its key */
  table_path(dir, sizeof dir, "tomb-order");
  make_log_dir(dir);
  meta = metadata_line("tomb-order", SCHEMA, "[\"part\"]", "{}");
  write_commit(dir, 0, "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n", meta,
               NULL);
  write_commit(dir, 1, T_ADD("k0.parquet", "\"x\""), NULL, NULL);
  char body[4096];
  snprintf(body, sizeof body,
           "{\"checkpointMetadata\":{\"version\":1}}\n"
           "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n%s"
           "{\"remove\":{\"path\":\"k1.parquet\",\"deletionTimestamp\":%lld,\"dataChange\":true}}"
           "\n" T_ADD("k1.parquet", "\"x\"")
               T_ADD("k2.parquet", "\"x\"") "{\"remove\":{\"path\":\"k2.parquet\","
                                            "\"deletionTimestamp\":%lld,\"dataChange\":true}}\n"
                                            "{\"remove\":{\"path\":\"z.parquet\","
                                            "\"deletionTimestamp\":%lld,\"dataChange\":true}}\n",
           meta, (long long)now, (long long)now, (long long)(now - MINUTE_MS));
  free(meta);
  write_file(dir,
             "_delta_log/00000000000000000001.checkpoint.3a0d65cd-4056-49b8-937b-95f9e3ee90e5.json",
             body);
  remove_commits(dir, 0, 1);
  s = load(dir, 1);
  CHECK(s && s->n_files == 2);
  const want_tomb z[] = {
      {"z.parquet", now - MINUTE_MS, true, -1, NULL, NULL, -1, 0, NULL, -1, -1, -1}};
  check_tombstones(s, z, 1);
  delta_snapshot_free(s);
}

/* delta.deletedFileRetentionDuration forms (values worked out by hand), the one-week default,
 * and expiry measured against now. */
static void test_tombstone_retention(void) {
  char dir[512];
  table_path(dir, sizeof dir, "retention");
  static const struct {
    const char *value; /* NULL: unset */
    int64_t want_ms;
  } cases[] = {{NULL, 7 * DAY_MS},
               {"interval 2 hours", 2 * HOUR_MS},
               {"interval 1 day", DAY_MS},
               {"interval 3 weeks", 21 * DAY_MS},
               {"interval 90 minutes", 90 * MINUTE_MS},
               {"interval 45 seconds", 45000},
               {"interval 1500 milliseconds", 1500},
               {"interval 1 week", 7 * DAY_MS},
               {"INTERVAL 36 HOURS", 36 * HOUR_MS},
               {"2 days", 2 * DAY_MS},
               {"interval 2 months", 7 * DAY_MS}, /* refused: the default */
               {"nonsense", 7 * DAY_MS}};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    delta_txn *t = begin(dir);
    if (i == 0) protocol12(t);
    metadata(t, cases[i].value ? "delta.deletedFileRetentionDuration" : NULL, cases[i].value, NULL,
             NULL);
    CHECK_EQ_INT(commit(t), (int64_t)i);
    int64_t before = now_ms();
    delta_snapshot *s = load(dir, (int64_t)i);
    int64_t after = now_ms();
    if (s) {
      if (s->tombstone_retention_ms != cases[i].want_ms)
        fprintf(stderr, "  retention of '%s'\n", cases[i].value ? cases[i].value : "(unset)");
      CHECK_EQ_INT(s->tombstone_retention_ms, cases[i].want_ms);
      CHECK(s->tombstone_cutoff_ms >= before - cases[i].want_ms &&
            s->tombstone_cutoff_ms <= after - cases[i].want_ms);
    }
    delta_snapshot_free(s);
  }

  /* the default week: removed 8 days ago is gone, 6 days ago is kept */
  table_path(dir, sizeof dir, "retention-default");
  make_log_dir(dir);
  char *meta = metadata_line("retention-default", SCHEMA, "[]", "{}");
  write_commit(dir, 0, "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n", meta,
               NULL);
  free(meta);
  const int64_t now = now_ms();
  write_commit_f(dir, 1,
                 "{\"remove\":{\"path\":\"old\",\"deletionTimestamp\":%lld,\"dataChange\":true}}\n"
                 "{\"remove\":{\"path\":\"new\",\"deletionTimestamp\":%lld,\"dataChange\":true}}\n",
                 (long long)(now - 8 * DAY_MS), (long long)(now - 6 * DAY_MS));
  delta_snapshot *s = load(dir, 1);
  const want_tomb kept[] = {
      {"new", now - 6 * DAY_MS, true, -1, NULL, NULL, -1, 0, NULL, -1, -1, -1}};
  check_tombstones(s, kept, 1);
  delta_snapshot_free(s);
  /* a longer retention set later keeps both: expiry follows the metadata of the version read */
  meta = metadata_line("retention-default", SCHEMA, "[]",
                       "{\"delta.deletedFileRetentionDuration\":\"interval 10 days\"}");
  write_commit(dir, 2, meta, NULL, NULL);
  free(meta);
  s = load(dir, 2);
  CHECK(s && s->n_tombstones == 2);
  delta_snapshot_free(s);
  s = load(dir, 1);
  CHECK(s && s->n_tombstones == 1);
  delta_snapshot_free(s);
}

/* A Spark-written checkpoint with removes (deletion vectors, partition values): its remove rows
 * read as tombstones must equal the JSON replay of the commits it covers. The retention is made
 * longer than the table's age by a commit after the checkpoint, so nothing expires; the number
 * of tombstones is counted here by a replay of the JSON commits with cJSON. */
static void test_tombstones_spark_checkpoint(void) {
  char src[4096], cp[512], js[512];
  shared_data_path(src, sizeof src,
                   "testdata/delta-kernel-rs/kernel/tests/golden_data/"
                   "dv-partitioned-with-checkpoint/delta");
  table_path(cp, sizeof cp, "spark-cp");
  table_path(js, sizeof js, "spark-json");
  copy_table(src, cp);
  /* keep versions 0..10, then commit 11 = the latest metaData with a long retention */
  remove_commits(cp, 11, 15);
  remove_log_file(cp, "_last_checkpoint");
  char *last_meta = NULL;
  /* key -> last action over commits 0..10: "path\x01dvid" then 'a' or 'r' */
  char keys[256][256];
  char kinds[256];
  int n_keys = 0;
  for (int v = 0; v <= 10; v++) {
    char path[1024];
    snprintf(path, sizeof path, "%s/_delta_log/%020d.json", cp, v);
    char *text = read_text(path);
    CHECK(text != NULL);
    for (char *line = text ? strtok(text, "\n") : NULL; line; line = strtok(NULL, "\n")) {
      cJSON *j = cJSON_Parse(line);
      cJSON *m = cJSON_GetObjectItem(j, "metaData");
      if (m) {
        cJSON *conf = cJSON_GetObjectItem(m, "configuration");
        cJSON_DeleteItemFromObject(conf, "delta.deletedFileRetentionDuration");
        cJSON_AddStringToObject(conf, "delta.deletedFileRetentionDuration",
                                "interval 100000 weeks");
        free(last_meta);
        last_meta = cJSON_PrintUnformatted(j);
      }
      for (int kind = 0; kind < 2; kind++) {
        const cJSON *a = cJSON_GetObjectItem(j, kind ? "remove" : "add");
        const cJSON *p = cJSON_GetObjectItem(a, "path");
        if (!cJSON_IsString(p)) continue;
        const cJSON *dv = cJSON_GetObjectItem(a, "deletionVector");
        const cJSON *st = cJSON_GetObjectItem(dv, "storageType");
        const cJSON *pi = cJSON_GetObjectItem(dv, "pathOrInlineDv");
        const cJSON *off = cJSON_GetObjectItem(dv, "offset");
        char key[256];
        snprintf(key, sizeof key, "%s\x01%s%s@%d", p->valuestring,
                 cJSON_IsString(st) ? st->valuestring : "",
                 cJSON_IsString(pi) ? pi->valuestring : "",
                 cJSON_IsNumber(off) ? off->valueint : -1);
        int k = 0;
        while (k < n_keys && strcmp(keys[k], key) != 0)
          k++;
        if (k == n_keys && n_keys < 256) snprintf(keys[n_keys++], sizeof keys[0], "%s", key);
        if (k < 256) kinds[k] = kind ? 'r' : 'a';
      }
      cJSON_Delete(j);
    }
    free(text);
  }
  size_t want_tombstones = 0, want_files = 0;
  for (int k = 0; k < n_keys; k++) {
    want_tombstones += kinds[k] == 'r';
    want_files += kinds[k] == 'a';
  }
  CHECK(want_tombstones > 0);
  CHECK(last_meta != NULL);
  if (last_meta) {
    size_t n = strlen(last_meta);
    char *line = malloc(n + 2);
    memcpy(line, last_meta, n);
    memcpy(line + n, "\n", 2);
    write_commit(cp, 11, line, NULL, NULL);
    free(line);
  }
  cJSON_free(last_meta);
  copy_table(cp, js);
  remove_log_file(js, "00000000000000000010.checkpoint.parquet");
  remove_commits(cp, 0, 9); /* the checkpoint alone stands for 0..10 */
  delta_snapshot *from_cp = load(cp, 11), *from_json = load(js, 11);
  if (from_cp && from_json) {
    CHECK_EQ_INT(from_json->n_tombstones, want_tombstones);
    CHECK_EQ_INT(from_json->n_files, want_files);
    bool some_dv = false, some_pv = false;
    for (size_t i = 0; i < from_json->n_tombstones; i++) {
      some_dv |= from_json->tombstones[i].dv.storage_type != 0;
      some_pv |= from_json->tombstones[i].n_partition_values > 0;
    }
    CHECK(some_dv && some_pv);
    /* delta-spark writes every action of a checkpoint with dataChange false, removes too (the
     * commits say true); everything else must agree */
    for (size_t i = 0; i < from_cp->n_tombstones; i++)
      CHECK(!from_cp->tombstones[i].data_change);
    for (size_t i = 0; i < from_json->n_tombstones; i++) {
      CHECK(from_json->tombstones[i].data_change);
      from_json->tombstones[i].data_change = false;
    }
  }
  check_same_snapshot(from_cp, from_json);
  delta_snapshot_free(from_cp);
  delta_snapshot_free(from_json);
}

/* Automatic checkpoints: commits through delta_txn alone (no explicit hook call). */
static void test_automatic_checkpoints(void) {
  char dir[512], copy[512];
  table_path(dir, sizeof dir, "auto");
  table_path(copy, sizeof copy, "auto-copy");
  /* 25 commits; every 4th removes the file added 3 versions before; version 14 adds f1 back */
  bool live[25] = {false}, removed[25] = {false};
  for (int64_t v = 0; v < 25; v++) {
    delta_txn *t = begin(dir);
    if (v == 0) {
      protocol12(t);
      metadata(t, NULL, NULL, NULL, NULL);
    }
    char path[64];
    snprintf(path, sizeof path, "f%lld.parquet", (long long)v);
    add(t, path, "p", 300 + v, NULL);
    live[v] = true;
    if (v > 0 && v % 4 == 0) {
      snprintf(path, sizeof path, "f%lld.parquet", (long long)(v - 3));
      remove_path(t, path);
      live[v - 3] = false;
      removed[v - 3] = true;
    }
    if (v == 14) {
      add(t, "f1.parquet", "p", 301, NULL);
      live[1] = true;
      removed[1] = false;
    }
    CHECK_EQ_INT(commit(t), v);
  }
  for (int64_t v = 0; v < 25; v++)
    CHECK_EQ_INT(checkpoint_exists(dir, v), v == 10 || v == 20);
  CHECK_EQ_INT(last_checkpoint_version(dir), 20);
  CHECK_EQ_INT(hidden_files(dir), 0);
  size_t n_live = 0, n_removed = 0;
  for (int i = 0; i < 25; i++) {
    n_live += live[i];
    n_removed += removed[i];
  }
  delta_snapshot *s = load(dir, -1); /* checkpoint 20 + commits 21..24 */
  CHECK(s && s->n_files == n_live && s->n_tombstones == n_removed);
  for (size_t i = 0; s && i < s->n_tombstones; i++) {
    int k = -1;
    sscanf(s->tombstones[i].path, "f%d.parquet", &k);
    CHECK(k >= 0 && k < 25 && removed[k]);
    CHECK_EQ_INT(s->tombstones[i].size, 300 + k);
  }
  for (size_t i = 0; s && i < s->n_files; i++) {
    int k = -1;
    sscanf(s->files[i].path, "f%d.parquet", &k);
    CHECK(k >= 0 && k < 25 && live[k]);
  }
  /* the same table from the JSON commits only */
  copy_table(dir, copy);
  shell("rm -f '%1$s'/_delta_log/*.checkpoint.parquet '%1$s'/_delta_log/_last_checkpoint%2$s", copy,
        "");
  delta_snapshot *json = load(copy, -1);
  check_same_snapshot(s, json);
  delta_snapshot *json20 = load(copy, 20);
  delta_snapshot_free(json);
  delta_snapshot_free(s);
  /* and version 20 from its checkpoint alone */
  copy_table(dir, copy);
  remove_commits(copy, 0, 20);
  s = load(copy, 20);
  check_same_snapshot(s, json20);
  CHECK(s && s->n_tombstones > 0);
  delta_snapshot_free(s);
  delta_snapshot_free(json20);

  /* delta.checkpointInterval = 3 */
  table_path(dir, sizeof dir, "auto3");
  for (int64_t v = 0; v < 11; v++) {
    delta_txn *t = begin(dir);
    if (v == 0) {
      protocol12(t);
      metadata(t, "delta.checkpointInterval", "3", NULL, NULL);
    }
    char path[64];
    snprintf(path, sizeof path, "g%lld.parquet", (long long)v);
    add(t, path, "p", 400 + v, NULL);
    CHECK_EQ_INT(commit(t), v);
  }
  for (int64_t v = 0; v < 11; v++)
    CHECK_EQ_INT(checkpoint_exists(dir, v), v == 3 || v == 6 || v == 9);
  CHECK_EQ_INT(last_checkpoint_version(dir), 9);

  /* delta.checkpoint.writeStatsAsStruct: checkpointed too, with the parsed columns */
  table_path(dir, sizeof dir, "auto-struct");
  for (int64_t v = 0; v < 11; v++) {
    delta_txn *t = begin(dir);
    if (v == 0) {
      protocol12(t);
      metadata(t, "delta.checkpoint.writeStatsAsStruct", "true", NULL, NULL);
    }
    char path[64], stats[64];
    snprintf(path, sizeof path, "k%lld.parquet", (long long)v);
    snprintf(stats, sizeof stats, "{\"numRecords\":%lld}", (long long)v + 1);
    add(t, path, "p", 600 + v, stats);
    CHECK_EQ_INT(commit(t), v);
  }
  CHECK(checkpoint_exists(dir, 10));
  CHECK_EQ_INT(last_checkpoint_version(dir), 10);
  {
    ckpt_batch b;
    tcol add_col;
    int64_t r = ckpt_batch_open(dir, 10, &b) ? ckpt_add_row(&b, "k7.parquet", &add_col) : -1;
    CHECK(r >= 0);
    if (r >= 0) {
      check_int(add_col, r, "stats_parsed.numRecords", 8);
      check_text(add_col, r, "partitionValues_parsed.part", "p");
    }
    ckpt_batch_close(&b);
  }

  /* a table tarn may not checkpoint: every commit still succeeds, no checkpoint appears */
  table_path(dir, sizeof dir, "auto-refused");
  for (int64_t v = 0; v < 11; v++) {
    delta_txn *t = begin(dir);
    if (v == 0) {
      tarn_error err = {0};
      const char *features[2] = {"clustering", "domainMetadata"};
      CHECK_EQ_INT(delta_txn_set_protocol(t, 1, 7, NULL, 0, features, 2, &err), 0);
      metadata(t, NULL, NULL, NULL, NULL);
    }
    char path[64];
    snprintf(path, sizeof path, "h%lld.parquet", (long long)v);
    add(t, path, "p", 500 + v, NULL);
    CHECK_EQ_INT(commit(t), v);
  }
  CHECK(!checkpoint_exists(dir, 10));
  CHECK(!log_file_exists(dir, "_last_checkpoint"));
  CHECK_EQ_INT(hidden_files(dir), 0);
  s = load(dir, -1);
  CHECK(s && s->version == 10 && s->n_files == 11);
  delta_snapshot_free(s);
}

static void rm_tree(const char *dir) { shell("chmod -R u+w '%1$s' && rm -rf '%1$s'%2$s", dir, ""); }

int main(void) {
  snprintf(tmp_root, sizeof tmp_root, "/tmp/tarn_delta_checkpoint_XXXXXX");
  if (mkdtemp(tmp_root) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  RUN(test_round_trip);
  RUN(test_deletion_vectors_and_mapping);
  RUN(test_variants);
  RUN(test_many_files);
  RUN(test_interval);
  RUN(test_last_checkpoint_hint);
  RUN(test_malformed_checkpoints);
  RUN(test_stats_parsed_hand_made);
  RUN(test_stats_parsed_shared);
  RUN(test_stats_parsed_written);
  RUN(test_stats_parsed_columns);
  RUN(test_compaction_shared);
  RUN(test_compaction_hand_made);
  RUN(test_tombstones_hand_made);
  RUN(test_tombstone_retention);
  RUN(test_tombstones_spark_checkpoint);
  RUN(test_automatic_checkpoints);
  if (getenv("TARN_TEST_KEEP") == NULL) /* set it to look at the tables written here */
    rm_tree(tmp_root);
  else
    fprintf(stderr, "kept %s\n", tmp_root);
  return check_finish();
}
