/*
 * Delta checkpoints (see delta_checkpoint.h; the rules are PROTOCOL.md's "Checkpoints" and its
 * appendix "Checkpoint Schema").
 *
 * The actions become Arrow batches through a small column builder (bcol): a tree of columns
 * mirroring the checkpoint schema, each with its validity bitmap, values or offsets in growable
 * buffers. Every row appends exactly one value (possibly null) to every top-level column, and a
 * struct row one value to each of its fields, so lengths always agree; export checks it. Every
 * CKPT_BATCH_ROWS actions the tree is exported as an ArrowArray that borrows the builder's
 * buffers, handed to the Parquet writer (which copies what it needs), and reset.
 */
#include "table/delta/delta_checkpoint.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/path.h"

/* Actions per Arrow batch (bounds the builder's memory; the writer buffers a row group). */
#define CKPT_BATCH_ROWS 4096
/* Columns of the checkpoint schema (all levels) and fields of one struct, at most. */
#define CKPT_MAX_COLUMNS 96
#define CKPT_MAX_KIDS 12
/* A `_last_checkpoint` larger than this is not read back (v2 writers may embed actions in it). */
#define CKPT_MAX_LAST_CHECKPOINT ((size_t)8 << 20)

static int oom(tarn_error *err) { return tarn_err(err, TARN_ENOMEM, "out of memory"); }

/* ---- The column builder --------------------------------------------------------------------- */

typedef enum bkind { B_UTF8, B_I64, B_I32, B_BOOL, B_STRUCT, B_LIST, B_MAP } bkind;

typedef struct bcol bcol;
struct bcol {
  bkind kind;
  const char *name;
  bool nullable;
  bcol *kids[CKPT_MAX_KIDS];
  int n_kids;
  tarn_buf valid;   /* validity bitmap */
  tarn_buf values;  /* fixed-width values, or the value bits of a boolean */
  tarn_buf offsets; /* int32 offsets: strings, lists, maps (starts with 0) */
  tarn_buf data;    /* string bytes */
  int64_t len, nulls;
  /* the Arrow view, rebuilt by export */
  struct ArrowSchema sch;
  struct ArrowArray arr;
  struct ArrowSchema *sch_kids[CKPT_MAX_KIDS];
  struct ArrowArray *arr_kids[CKPT_MAX_KIDS];
  const void *bufs[3];
};

typedef struct ckpt {
  const delta_snapshot *s;
  tarn_error *err;
  int rc; /* sticky: the first failure of an append */
  tarn_arena arena;
  bcol *all[CKPT_MAX_COLUMNS];
  int n_all;
  bcol *top, *txn, *add, *remove, *meta, *proto, *domain, *cp_meta;
  bool with_stats;
  const char **pkeys; /* the partitionValues key of each partition column */
  int64_t rows, in_batch, n_adds;
  tarn_parquet_writer *w;
} ckpt;

static void noop_schema_release(struct ArrowSchema *s) { s->release = NULL; }
static void noop_array_release(struct ArrowArray *a) { a->release = NULL; }

static void fail(ckpt *c, int rc) {
  if (c->rc == 0) c->rc = rc;
}

static void bc_put(ckpt *c, tarn_buf *b, const void *p, size_t n) {
  if (c->rc == 0 && tarn_buf_append(b, p, n, c->err) != 0) fail(c, TARN_ENOMEM);
}

static void bc_bit(ckpt *c, tarn_buf *b, int64_t i, bool v) {
  if (c->rc) return;
  if ((i & 7) == 0) {
    uint8_t zero = 0;
    bc_put(c, b, &zero, 1);
    if (c->rc) return;
  }
  if (v) b->data[i >> 3] |= (uint8_t)(1u << (i & 7));
}

static void bc_offset(ckpt *c, bcol *b, size_t end) {
  if (end > INT32_MAX) {
    if (c->rc == 0)
      c->rc = tarn_err(c->err, TARN_ENOMEM, "checkpoint column %s: more than 2 GiB in one batch",
                       b->name);
    return;
  }
  int32_t o = (int32_t)end;
  bc_put(c, &b->offsets, &o, sizeof o);
}

static void bc_reset(ckpt *c, bcol *b) {
  b->len = b->nulls = 0;
  b->valid.len = b->values.len = b->offsets.len = b->data.len = 0;
  /* never-NULL buffers: an empty column still exports valid pointers */
  if (c->rc == 0 &&
      (tarn_buf_reserve(&b->values, 8, c->err) != 0 || tarn_buf_reserve(&b->data, 8, c->err) != 0 ||
       tarn_buf_reserve(&b->valid, 8, c->err) != 0))
    fail(c, TARN_ENOMEM);
  if (b->kind == B_UTF8 || b->kind == B_LIST || b->kind == B_MAP) bc_offset(c, b, 0);
}

static bcol *bc_new(ckpt *c, bcol *parent, bkind kind, const char *name, bool nullable) {
  if (c->rc) return NULL;
  bcol *b = NULL;
  if (c->n_all < CKPT_MAX_COLUMNS && (parent == NULL || parent->n_kids < CKPT_MAX_KIDS))
    b = tarn_arena_calloc(&c->arena, 1, sizeof *b);
  if (b == NULL) {
    fail(c, oom(c->err));
    return NULL;
  }
  b->kind = kind;
  b->name = name;
  b->nullable = nullable;
  c->all[c->n_all++] = b;
  if (parent) parent->kids[parent->n_kids++] = b;
  bc_reset(c, b);
  return b;
}

/* Appends a null (a struct's fields, each get a null too: Arrow children run parallel). */
static void bc_null(ckpt *c, bcol *b) {
  if (c->rc || b == NULL) return;
  bc_bit(c, &b->valid, b->len, false);
  b->nulls++;
  switch (b->kind) {
  case B_UTF8: bc_offset(c, b, b->data.len); break;
  case B_I64: bc_put(c, &b->values, &(int64_t){0}, 8); break;
  case B_I32: bc_put(c, &b->values, &(int32_t){0}, 4); break;
  case B_BOOL: bc_bit(c, &b->values, b->len, false); break;
  case B_STRUCT:
    for (int i = 0; i < b->n_kids; i++)
      bc_null(c, b->kids[i]);
    break;
  case B_LIST:
  case B_MAP: bc_offset(c, b, (size_t)b->kids[0]->len); break;
  }
  b->len++;
}

static void bc_valid(ckpt *c, bcol *b) { bc_bit(c, &b->valid, b->len, true); }

static void bc_str(ckpt *c, bcol *b, const char *s) {
  if (s == NULL) {
    bc_null(c, b);
    return;
  }
  bc_valid(c, b);
  bc_put(c, &b->data, s, strlen(s));
  bc_offset(c, b, b->data.len);
  b->len++;
}

/* A fixed-width value (size bytes at v), or a null when !present. */
static void bc_fixed(ckpt *c, bcol *b, const void *v, size_t size, bool present) {
  if (!present) {
    bc_null(c, b);
    return;
  }
  bc_valid(c, b);
  bc_put(c, &b->values, v, size);
  b->len++;
}

static void bc_i64(ckpt *c, bcol *b, int64_t v, bool present) {
  bc_fixed(c, b, &v, sizeof v, present);
}

static void bc_i32(ckpt *c, bcol *b, int32_t v, bool present) {
  bc_fixed(c, b, &v, sizeof v, present);
}

static void bc_bool(ckpt *c, bcol *b, bool v) {
  bc_valid(c, b);
  bc_bit(c, &b->values, b->len, v);
  b->len++;
}

/* A present struct value: the caller then appends one value to each of its fields, in order. */
static void bc_struct(ckpt *c, bcol *b) {
  bc_valid(c, b);
  b->len++;
}

/* Closes a present list or map whose items were just appended to its child. */
static void bc_list_end(ckpt *c, bcol *b) {
  bc_valid(c, b);
  bc_offset(c, b, (size_t)b->kids[0]->len);
  b->len++;
}

static void bc_str_list(ckpt *c, bcol *b, const char *const *items, size_t n) {
  for (size_t i = 0; i < n; i++)
    bc_str(c, b->kids[0], items[i]);
  bc_list_end(c, b);
}

/* A map<string,string>; a NULL value is a null (a null partition value). */
static void bc_str_map(ckpt *c, bcol *b, const char *const *keys, const char *const *values,
                       size_t n) {
  bcol *entries = b->kids[0];
  for (size_t i = 0; i < n; i++) {
    bc_struct(c, entries);
    bc_str(c, entries->kids[0], keys[i]);
    bc_str(c, entries->kids[1], values[i]);
  }
  bc_list_end(c, b);
}

static const char *bc_format(bkind k) {
  switch (k) {
  case B_UTF8: return "u";
  case B_I64: return "l";
  case B_I32: return "i";
  case B_BOOL: return "b";
  case B_STRUCT: return "+s";
  case B_LIST: return "+l";
  case B_MAP: return "+m";
  }
  return "n";
}

static void bc_export_schema(bcol *b) {
  for (int i = 0; i < b->n_kids; i++) {
    bc_export_schema(b->kids[i]);
    b->sch_kids[i] = &b->kids[i]->sch;
  }
  b->sch = (struct ArrowSchema){
      .format = bc_format(b->kind),
      .name = b->name,
      .flags = b->nullable ? ARROW_FLAG_NULLABLE : 0,
      .n_children = b->n_kids,
      .children = b->n_kids ? b->sch_kids : NULL,
      .release = noop_schema_release,
  };
}

/* The Arrow view of b's rows; checks that every field of a struct has its rows. */
static int bc_export(ckpt *c, bcol *b) {
  for (int i = 0; i < b->n_kids; i++) {
    int rc = bc_export(c, b->kids[i]);
    if (rc) return rc;
    b->arr_kids[i] = &b->kids[i]->arr;
    if (b->kind == B_STRUCT && b->kids[i]->len != b->len)
      return tarn_err(c->err, TARN_EINVAL,
                      "internal error: checkpoint field %s.%s has %lld rows for %lld", b->name,
                      b->kids[i]->name, (long long)b->kids[i]->len, (long long)b->len);
  }
  int64_t n_buffers = 1;
  b->bufs[0] = b->nulls ? b->valid.data : NULL;
  switch (b->kind) {
  case B_UTF8:
    n_buffers = 3;
    b->bufs[1] = b->offsets.data;
    b->bufs[2] = b->data.data;
    break;
  case B_I64:
  case B_I32:
  case B_BOOL:
    n_buffers = 2;
    b->bufs[1] = b->values.data;
    break;
  case B_LIST:
  case B_MAP:
    n_buffers = 2;
    b->bufs[1] = b->offsets.data;
    break;
  case B_STRUCT: break;
  }
  b->arr = (struct ArrowArray){
      .length = b->len,
      .null_count = b->nulls,
      .n_buffers = n_buffers,
      .n_children = b->n_kids,
      .buffers = b->bufs,
      .children = b->n_kids ? b->arr_kids : NULL,
      .release = noop_array_release,
  };
  return 0;
}

static void ckpt_free(ckpt *c) {
  for (int i = 0; i < c->n_all; i++) {
    tarn_buf_free(&c->all[i]->valid);
    tarn_buf_free(&c->all[i]->values);
    tarn_buf_free(&c->all[i]->offsets);
    tarn_buf_free(&c->all[i]->data);
  }
  tarn_arena_free(&c->arena);
  if (c->w) tarn_parquet_writer_abort(c->w);
}

/* ---- The checkpoint schema (PROTOCOL.md appendix "Checkpoint Schema", Spark's field order) -- */

static bcol *str_map_col(ckpt *c, bcol *parent, const char *name) {
  bcol *m = bc_new(c, parent, B_MAP, name, true);
  bcol *entries = m ? bc_new(c, m, B_STRUCT, "entries", false) : NULL;
  if (entries) {
    bc_new(c, entries, B_UTF8, "key", false);
    bc_new(c, entries, B_UTF8, "value", true);
  }
  return m;
}

static bcol *str_list_col(ckpt *c, bcol *parent, const char *name) {
  bcol *l = bc_new(c, parent, B_LIST, name, true);
  if (l) bc_new(c, l, B_UTF8, "element", true);
  return l;
}

static void dv_col(ckpt *c, bcol *parent) {
  bcol *dv = bc_new(c, parent, B_STRUCT, "deletionVector", true);
  if (dv == NULL) return;
  bc_new(c, dv, B_UTF8, "storageType", true);
  bc_new(c, dv, B_UTF8, "pathOrInlineDv", true);
  bc_new(c, dv, B_I32, "offset", true);
  bc_new(c, dv, B_I32, "sizeInBytes", true);
  bc_new(c, dv, B_I64, "cardinality", true);
}

static int build_schema(ckpt *c, bool v2) {
  c->top = bc_new(c, NULL, B_STRUCT, "checkpoint", false);
  bcol *t = c->top;
  if ((c->txn = bc_new(c, t, B_STRUCT, "txn", true))) {
    bc_new(c, c->txn, B_UTF8, "appId", true);
    bc_new(c, c->txn, B_I64, "version", true);
    bc_new(c, c->txn, B_I64, "lastUpdated", true);
  }
  if ((c->add = bc_new(c, t, B_STRUCT, "add", true))) {
    bc_new(c, c->add, B_UTF8, "path", true);
    str_map_col(c, c->add, "partitionValues");
    bc_new(c, c->add, B_I64, "size", true);
    bc_new(c, c->add, B_I64, "modificationTime", true);
    bc_new(c, c->add, B_BOOL, "dataChange", true);
    if (c->with_stats) bc_new(c, c->add, B_UTF8, "stats", true);
    str_map_col(c, c->add, "tags");
    dv_col(c, c->add);
    bc_new(c, c->add, B_I64, "baseRowId", true);
    bc_new(c, c->add, B_I64, "defaultRowCommitVersion", true);
  }
  if ((c->remove = bc_new(c, t, B_STRUCT, "remove", true))) {
    bc_new(c, c->remove, B_UTF8, "path", true);
    bc_new(c, c->remove, B_I64, "deletionTimestamp", true);
    bc_new(c, c->remove, B_BOOL, "dataChange", true);
    bc_new(c, c->remove, B_BOOL, "extendedFileMetadata", true);
    str_map_col(c, c->remove, "partitionValues");
    bc_new(c, c->remove, B_I64, "size", true);
    dv_col(c, c->remove);
    bc_new(c, c->remove, B_I64, "baseRowId", true);
    bc_new(c, c->remove, B_I64, "defaultRowCommitVersion", true);
  }
  if ((c->meta = bc_new(c, t, B_STRUCT, "metaData", true))) {
    bc_new(c, c->meta, B_UTF8, "id", true);
    bc_new(c, c->meta, B_UTF8, "name", true);
    bc_new(c, c->meta, B_UTF8, "description", true);
    bcol *format = bc_new(c, c->meta, B_STRUCT, "format", true);
    if (format) {
      bc_new(c, format, B_UTF8, "provider", true);
      str_map_col(c, format, "options");
    }
    bc_new(c, c->meta, B_UTF8, "schemaString", true);
    str_list_col(c, c->meta, "partitionColumns");
    str_map_col(c, c->meta, "configuration");
    bc_new(c, c->meta, B_I64, "createdTime", true);
  }
  if ((c->proto = bc_new(c, t, B_STRUCT, "protocol", true))) {
    bc_new(c, c->proto, B_I32, "minReaderVersion", true);
    bc_new(c, c->proto, B_I32, "minWriterVersion", true);
    str_list_col(c, c->proto, "readerFeatures");
    str_list_col(c, c->proto, "writerFeatures");
  }
  if ((c->domain = bc_new(c, t, B_STRUCT, "domainMetadata", true))) {
    bc_new(c, c->domain, B_UTF8, "domain", true);
    bc_new(c, c->domain, B_UTF8, "configuration", true);
    bc_new(c, c->domain, B_BOOL, "removed", true);
  }
  if (v2 && (c->cp_meta = bc_new(c, t, B_STRUCT, "checkpointMetadata", true))) {
    bc_new(c, c->cp_meta, B_I64, "version", true);
    str_map_col(c, c->cp_meta, "tags");
  }
  return c->rc;
}

/* ---- Rows ----------------------------------------------------------------------------------- */

/* Starts a row whose one non-null action is `which`: every other action column gets a null. */
static void row_start(ckpt *c, bcol *which) {
  bc_struct(c, c->top);
  for (int i = 0; i < c->top->n_kids; i++)
    if (c->top->kids[i] != which) bc_null(c, c->top->kids[i]);
  bc_struct(c, which);
}

static int flush_batch(ckpt *c) {
  if (c->in_batch == 0) return 0;
  int rc = bc_export(c, c->top);
  if (rc == 0) rc = tarn_parquet_writer_write(c->w, &c->top->arr, c->err);
  for (int i = 0; rc == 0 && i < c->n_all; i++)
    bc_reset(c, c->all[i]);
  if (rc == 0) rc = c->rc;
  c->in_batch = 0;
  return rc;
}

static int row_end(ckpt *c) {
  if (c->rc) return c->rc;
  c->rows++;
  if (++c->in_batch == CKPT_BATCH_ROWS) return flush_batch(c);
  return 0;
}

static int write_protocol(ckpt *c) {
  const delta_snapshot *s = c->s;
  bcol *p = c->proto;
  row_start(c, p);
  bc_i32(c, p->kids[0], s->min_reader_version, true);
  bc_i32(c, p->kids[1], s->min_writer_version, true);
  /* the feature lists are present exactly with reader version 3 / writer version 7 */
  if (s->min_reader_version == 3)
    bc_str_list(c, p->kids[2], s->reader_features, s->n_reader_features);
  else
    bc_null(c, p->kids[2]);
  if (s->min_writer_version == 7)
    bc_str_list(c, p->kids[3], s->writer_features, s->n_writer_features);
  else
    bc_null(c, p->kids[3]);
  return row_end(c);
}

static int write_metadata(ckpt *c) {
  const delta_snapshot *s = c->s;
  bcol *m = c->meta;
  row_start(c, m);
  bc_str(c, m->kids[0], s->metadata_id);
  bc_str(c, m->kids[1], s->name);
  bc_str(c, m->kids[2], s->description);
  bcol *format = m->kids[3];
  bc_struct(c, format);
  bc_str(c, format->kids[0], s->format_provider ? s->format_provider : "parquet");
  bc_str_map(c, format->kids[1], NULL, NULL, 0);
  bc_str(c, m->kids[4], s->schema_string);
  bc_str_list(c, m->kids[5], s->partition_columns, s->n_partition_columns);
  bc_str_map(c, m->kids[6], s->config_keys, s->config_values, s->n_config);
  bc_i64(c, m->kids[7], s->created_time, s->created_time >= 0);
  return row_end(c);
}

static int write_checkpoint_metadata(ckpt *c) {
  row_start(c, c->cp_meta);
  bc_i64(c, c->cp_meta->kids[0], c->s->version, true);
  bc_null(c, c->cp_meta->kids[1]);
  return row_end(c);
}

static int write_txn(ckpt *c, size_t i) {
  row_start(c, c->txn);
  bc_str(c, c->txn->kids[0], c->s->txn_app_ids[i]);
  bc_i64(c, c->txn->kids[1], c->s->txn_versions[i], true);
  bc_null(c, c->txn->kids[2]);
  return row_end(c);
}

static int write_domain(ckpt *c, size_t i) {
  row_start(c, c->domain);
  bc_str(c, c->domain->kids[0], c->s->domains[i]);
  bc_str(c, c->domain->kids[1], c->s->domain_configs[i] ? c->s->domain_configs[i] : "");
  bc_bool(c, c->domain->kids[2], false);
  return row_end(c);
}

static void write_dv(ckpt *c, bcol *dv, const delta_dv *d) {
  if (d->storage_type == 0) {
    bc_null(c, dv);
    return;
  }
  char st[2] = {d->storage_type, 0};
  bc_struct(c, dv);
  bc_str(c, dv->kids[0], st);
  bc_str(c, dv->kids[1], d->path_or_inline);
  bc_i32(c, dv->kids[2], d->offset, d->offset >= 0);
  bc_i32(c, dv->kids[3], d->size_in_bytes, true);
  bc_i64(c, dv->kids[4], d->cardinality, true);
}

static int write_add(ckpt *c, const delta_file *f) {
  bcol *a = c->add;
  int k = 0;
  row_start(c, a);
  bc_str(c, a->kids[k++], f->path);
  bc_str_map(c, a->kids[k++], c->pkeys, f->partition_values, c->s->n_partition_columns);
  bc_i64(c, a->kids[k++], f->size, f->size >= 0);
  bc_i64(c, a->kids[k++], f->modification_time, f->modification_time >= 0);
  bc_bool(c, a->kids[k++], false); /* dataChange: a checkpoint adds no data */
  if (c->with_stats) bc_str(c, a->kids[k++], f->stats);
  bc_null(c, a->kids[k++]); /* tags: not kept by the snapshot */
  write_dv(c, a->kids[k++], &f->dv);
  bc_i64(c, a->kids[k++], f->base_row_id, f->base_row_id >= 0);
  bc_i64(c, a->kids[k++], f->default_row_commit_version, f->default_row_commit_version >= 0);
  c->n_adds++;
  return row_end(c);
}

/* A tombstone, with its fields as the remove action gave them (dataChange included, as
 * delta-kernel-rs keeps it; partitionValues keyed as the remove keyed them, null when it had
 * none). */
static int write_remove(ckpt *c, const delta_tombstone *t) {
  bcol *rm = c->remove;
  int k = 0;
  row_start(c, rm);
  bc_str(c, rm->kids[k++], t->path);
  bc_i64(c, rm->kids[k++], t->deletion_timestamp, t->deletion_timestamp >= 0);
  bc_bool(c, rm->kids[k++], t->data_change);
  if (t->extended_file_metadata >= 0)
    bc_bool(c, rm->kids[k++], t->extended_file_metadata != 0);
  else
    bc_null(c, rm->kids[k++]);
  if (t->partition_keys)
    bc_str_map(c, rm->kids[k++], t->partition_keys, t->partition_values, t->n_partition_values);
  else
    bc_null(c, rm->kids[k++]);
  bc_i64(c, rm->kids[k++], t->size, t->size >= 0);
  write_dv(c, rm->kids[k++], &t->dv);
  bc_i64(c, rm->kids[k++], t->base_row_id, t->base_row_id >= 0);
  bc_i64(c, rm->kids[k++], t->default_row_commit_version, t->default_row_commit_version >= 0);
  return row_end(c);
}

/* ---- What may be checkpointed --------------------------------------------------------------- */

static bool config_is(const delta_snapshot *s, const char *key, const char *value) {
  const char *v = delta_snapshot_config(s, key);
  return v && strcasecmp(v, value) == 0;
}

static bool has_writer_feature(const delta_snapshot *s, const char *name) {
  for (size_t i = 0; i < s->n_writer_features; i++)
    if (strcmp(s->writer_features[i], name) == 0) return true;
  return false;
}

static int check_writable(const delta_snapshot *s, tarn_error *err) {
  /* writer features whose checkpoint needs nothing the snapshot lacks */
  static const char *const ok[] = {
      "appendOnly",           "invariants",          "checkConstraints",    "changeDataFeed",
      "generatedColumns",     "columnMapping",       "identityColumns",     "deletionVectors",
      "rowTracking",          "timestampNtz",        "domainMetadata",      "v2Checkpoint",
      "icebergCompatV1",      "icebergCompatV2",     "vacuumProtocolCheck", "typeWidening",
      "typeWidening-preview", "inCommitTimestamp",   "allowColumnDefaults", "variantType",
      "variantType-preview",  "checkpointProtection"};
  if (s->min_writer_version > 7 || s->min_writer_version < 1)
    return tarn_err(err, TARN_EUNSUPPORTED,
                    "delta table %s: cannot checkpoint: writer version %d (tarn writes 1 to 7)",
                    s->table_dir, s->min_writer_version);
  if (s->min_writer_version == 7) {
    for (size_t i = 0; i < s->n_writer_features; i++) {
      bool known = false;
      for (size_t k = 0; k < sizeof ok / sizeof *ok && !known; k++)
        known = strcmp(s->writer_features[i], ok[k]) == 0;
      if (!known)
        return tarn_err(err, TARN_EUNSUPPORTED,
                        "delta table %s: cannot checkpoint: writer feature '%s' is not supported",
                        s->table_dir, s->writer_features[i]);
    }
  }
  if (config_is(s, "delta.checkpoint.writeStatsAsStruct", "true"))
    return tarn_err(err, TARN_EUNSUPPORTED,
                    "delta table %s: cannot checkpoint: delta.checkpoint.writeStatsAsStruct = "
                    "true asks for stats_parsed and partitionValues_parsed, which tarn does not "
                    "write",
                    s->table_dir);
  return 0;
}

/* The partitionValues key of each partition column: its physical name under column mapping. */
static int partition_keys(ckpt *c) {
  const delta_snapshot *s = c->s;
  size_t np = s->n_partition_columns;
  c->pkeys = tarn_arena_calloc(&c->arena, np ? np : 1, sizeof *c->pkeys);
  if (c->pkeys == NULL) return oom(c->err);
  const char *mode = delta_snapshot_config(s, "delta.columnMapping.mode");
  bool mapped = mode && (strcmp(mode, "name") == 0 || strcmp(mode, "id") == 0);
  for (size_t i = 0; i < np; i++) {
    c->pkeys[i] = s->partition_columns[i];
    for (size_t k = 0; mapped && s->schema && k < s->schema->n_fields; k++)
      if (strcmp(s->schema->fields[k].name, s->partition_columns[i]) == 0 &&
          s->schema->fields[k].physical_name)
        c->pkeys[i] = s->schema->fields[k].physical_name;
  }
  return 0;
}

/* ---- Files ---------------------------------------------------------------------------------- */

static uint64_t nonce64(void) {
  uint64_t v = 0;
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    if (read(fd, &v, sizeof v) != (ssize_t)sizeof v) v = 0;
    close(fd);
  }
  if (v == 0) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    v = ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) ^ ((uint64_t)getpid() << 32);
  }
  return v;
}

/* A temporary path in dir for `name`: hidden (a leading '.'), unique to this attempt. */
static char *temp_path(const char *dir, const char *name) {
  char tmp[128];
  snprintf(tmp, sizeof tmp, ".%s.%ld-%016" PRIx64 ".tmp", name, (long)getpid(), nonce64());
  return tarn_path_join(dir, tmp);
}

/* The version `_last_checkpoint` names, or -1 when it is missing or unreadable. */
static int64_t last_checkpoint_version(const char *path) {
  char *text = NULL;
  size_t len = 0;
  int64_t v = -1;
  if (tarn_read_file(path, CKPT_MAX_LAST_CHECKPOINT, &text, &len, NULL) != 0) return -1;
  cJSON *j = cJSON_ParseWithLength(text, len);
  const cJSON *ver = cJSON_GetObjectItemCaseSensitive(j, "version");
  if (cJSON_IsNumber(ver) && ver->valuedouble >= 0 && ver->valuedouble < 9e15)
    v = (int64_t)ver->valuedouble;
  cJSON_Delete(j);
  free(text);
  return v;
}

/* Replaces `_last_checkpoint` (temporary file, fsync, rename) unless it names a newer version. */
static int write_last_checkpoint(const char *table, const char *log_dir, int64_t version,
                                 int64_t rows, int64_t bytes, int64_t n_adds, tarn_error *err) {
  char text[256];
  int len = snprintf(text, sizeof text,
                     "{\"version\":%" PRId64 ",\"size\":%" PRId64 ",\"sizeInBytes\":%" PRId64
                     ",\"numOfAddFiles\":%" PRId64 "}\n",
                     version, rows, bytes, n_adds);
  char *final = tarn_path_join(log_dir, "_last_checkpoint");
  char *tmp = temp_path(log_dir, "_last_checkpoint");
  int rc = 0;
  if (final == NULL || tmp == NULL) rc = oom(err);
  int e = rc ? 0 : tarn_write_file_synced(tmp, text, (size_t)len);
  if (rc == 0) {
    /* a newer checkpoint's pointer stays (a race can still interleave; readers list anyway) */
    if (e)
      rc = tarn_err(err, TARN_EIO, "delta table %s: cannot write %s: %s", table, tmp, strerror(e));
    else if (last_checkpoint_version(final) > version)
      rc = 0;
    else if (rename(tmp, final) != 0)
      rc = tarn_err(err, TARN_EIO, "delta table %s: cannot rename %s into place: %s", table, tmp,
                    strerror(errno));
    else if (tarn_fsync_dir(log_dir) != 0)
      rc = tarn_err(err, TARN_EIO, "delta table %s: cannot sync %s: %s", table, log_dir,
                    strerror(errno));
    unlink(tmp); /* gone after a rename; removes it otherwise */
  }
  free(final);
  free(tmp);
  return rc;
}

/* ---- Writing -------------------------------------------------------------------------------- */

static int write_rows(ckpt *c, bool v2) {
  int rc = write_protocol(c);
  if (rc == 0) rc = write_metadata(c);
  if (rc == 0 && v2) rc = write_checkpoint_metadata(c);
  for (size_t i = 0; rc == 0 && i < c->s->n_txns; i++)
    rc = write_txn(c, i);
  for (size_t i = 0; rc == 0 && i < c->s->n_domains; i++)
    rc = write_domain(c, i);
  for (size_t i = 0; rc == 0 && i < c->s->n_files; i++)
    rc = write_add(c, &c->s->files[i]);
  for (size_t i = 0; rc == 0 && i < c->s->n_tombstones; i++)
    rc = write_remove(c, &c->s->tombstones[i]);
  if (rc == 0) rc = flush_batch(c);
  return rc;
}

int delta_checkpoint_write(const delta_snapshot *s, tarn_error *err) {
  int rc = check_writable(s, err);
  if (rc) return rc;
  bool v2 = s->min_writer_version == 7 && has_writer_feature(s, "v2Checkpoint");
  ckpt c;
  memset(&c, 0, sizeof c);
  c.s = s;
  c.err = err;
  c.with_stats = !config_is(s, "delta.checkpoint.writeStatsAsJson", "false");

  char name[64];
  snprintf(name, sizeof name, "%020" PRId64 ".checkpoint.parquet", s->version);
  char *log_dir = tarn_path_join(s->table_dir, "_delta_log");
  char *final = log_dir ? tarn_path_join(log_dir, name) : NULL;
  char *tmp = log_dir ? temp_path(log_dir, name) : NULL;
  if (log_dir == NULL || final == NULL || tmp == NULL) rc = oom(err);
  if (rc == 0) rc = partition_keys(&c);
  if (rc == 0) rc = build_schema(&c, v2);
  if (rc == 0) {
    bc_export_schema(c.top);
    tarn_write_options o;
    memset(&o, 0, sizeof o);
    o.codec = TARN_CODEC_SNAPPY;
    o.codec_set = 1;
    /* the writer buffers a row group: with stats strings of a few KiB, this bounds it */
    o.row_group_rows = 32768;
    /* the writer writes beside tmp, fsyncs, renames onto tmp: still a hidden name */
    rc = tarn_parquet_writer_open(tmp, &c.top->sch, &o, &c.w, err);
  }
  if (rc == 0) rc = write_rows(&c, v2);
  tarn_written_file written;
  memset(&written, 0, sizeof written);
  if (rc == 0) {
    tarn_parquet_writer *w = c.w;
    c.w = NULL; /* close frees it, whatever happens */
    rc = tarn_parquet_writer_close(w, &written, err);
  }
  if (rc == 0 && rename(tmp, final) != 0)
    rc = tarn_err(err, TARN_EIO, "delta table %s: cannot rename the checkpoint into place: %s",
                  s->table_dir, strerror(errno));
  if (rc == 0 && tarn_fsync_dir(log_dir) != 0)
    rc = tarn_err(err, TARN_EIO, "delta table %s: cannot sync _delta_log: %s", s->table_dir,
                  strerror(errno));
  if (rc == 0)
    rc = write_last_checkpoint(s->table_dir, log_dir, s->version, c.rows, written.file_bytes,
                               c.n_adds, err);
  if (tmp) unlink(tmp); /* renamed away on success */
  tarn_written_file_free(&written);
  ckpt_free(&c);
  free(tmp);
  free(final);
  free(log_dir);
  return rc;
}

int64_t delta_checkpoint_interval(const delta_snapshot *s) {
  return delta_checkpoint_interval_value(delta_snapshot_config(s, "delta.checkpointInterval"));
}

int64_t delta_checkpoint_interval_value(const char *v) {
  if (v == NULL) return DELTA_CHECKPOINT_INTERVAL_DEFAULT;
  while (*v == ' ')
    v++;
  char *end;
  errno = 0;
  long long n = strtoll(v, &end, 10);
  while (end && *end == ' ')
    end++;
  if (errno != 0 || end == v || *end != 0 || n < 1 || n > INT32_MAX)
    return DELTA_CHECKPOINT_INTERVAL_DEFAULT;
  return (int64_t)n;
}

int delta_checkpoint_maybe(const char *table_dir, int64_t version, tarn_error *err) {
  if (version <= 0) return 0;
  char rel[96];
  snprintf(rel, sizeof rel, "_delta_log/%020" PRId64 ".checkpoint.parquet", version);
  char *path = tarn_path_join(table_dir, rel);
  if (path == NULL) return oom(err);
  struct stat st;
  bool exists = stat(path, &st) == 0;
  free(path);
  if (exists) return 0;
  delta_snapshot *s = NULL;
  int rc = delta_snapshot_load(table_dir, version, &s, err);
  if (rc) return rc;
  if (version % delta_checkpoint_interval(s) == 0) rc = delta_checkpoint_write(s, err);
  delta_snapshot_free(s);
  return rc;
}
