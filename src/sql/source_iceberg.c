/*
 * Iceberg tables as SQL sources (see source_iceberg.h).
 */
#include "sql/source_iceberg.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <zlib.h>

#include "avro/avro.h"
#include "common/error.h"
#include "sql/types.h"
#include "table/delta/dv.h"
#include "table/iceberg/iceberg_meta.h"
#include "table/iceberg/iceberg_snapshot.h"

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcmp(s + n - k, suffix) == 0;
}

bool sql_is_iceberg_table(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) return false;
  /* a metadata file: vN.metadata.json in a table, or any JSON file given on purpose */
  if (S_ISREG(st.st_mode)) return ends_with(path, ".json");
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

/* ---- Position deletes ------------------------------------------------------------------------ */

/* The positions deleted from one data file by one delete file (or deletion vector), and the data
 * sequence number of the delete, which scopes it: it applies to data files whose data sequence
 * number is not above it (the spec's rule for position deletes). */
typedef struct pos_deletes {
  char *path; /* the data file, as the manifests write it */
  int64_t seq;
  uint64_t *pos;
  size_t n, cap;
} pos_deletes;

typedef struct delete_set {
  pos_deletes *e;
  size_t n, cap;
} delete_set;

static void delete_set_free(delete_set *d) {
  for (size_t i = 0; i < d->n; i++) {
    free(d->e[i].path);
    free(d->e[i].pos);
  }
  free(d->e);
}

static pos_deletes *delete_entry(delete_set *d, const char *path, size_t len, int64_t seq) {
  if (d->n && d->e[d->n - 1].seq == seq && strlen(d->e[d->n - 1].path) == len &&
      memcmp(d->e[d->n - 1].path, path, len) == 0)
    return &d->e[d->n - 1]; /* position delete files are sorted by path: the common case */
  if (d->n == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 16;
    pos_deletes *ne = realloc(d->e, cap * sizeof *ne);
    if (ne == NULL) return NULL;
    d->e = ne;
    d->cap = cap;
  }
  pos_deletes *p = &d->e[d->n];
  memset(p, 0, sizeof *p);
  p->path = strndup(path, len);
  if (p->path == NULL) return NULL;
  p->seq = seq;
  d->n++;
  return p;
}

static int push(pos_deletes *p, uint64_t v) {
  if (p->n == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 64;
    uint64_t *np = realloc(p->pos, cap * sizeof *np);
    if (np == NULL) return -1;
    p->pos = np;
    p->cap = cap;
  }
  p->pos[p->n++] = v;
  return 0;
}

/* Reads a Parquet position delete file (columns file_path and pos) into d. */
static int read_position_file(const iceberg_file *f, delete_set *d, tarn_error *err) {
  tarn_parquet_file *pf = NULL;
  int rc = tarn_parquet_open(f->file_path, NULL, &pf, err);
  if (rc) return rc;
  static const char *const cols[] = {"file_path", "pos"};
  tarn_scan_options so;
  memset(&so, 0, sizeof so);
  so.columns = cols;
  so.n_columns = 2;
  struct ArrowArrayStream st;
  memset(&st, 0, sizeof st);
  rc = tarn_parquet_scan(pf, &so, &st, err);
  struct ArrowSchema schema;
  memset(&schema, 0, sizeof schema);
  if (rc == 0 && st.get_schema(&st, &schema) != 0)
    rc = tarn_err(err, TARN_ECORRUPT, "position delete file %s: no schema", f->file_path);
  if (rc == 0 && (schema.n_children != 2 || strcmp(schema.children[0]->format, "u") != 0 ||
                  strcmp(schema.children[1]->format, "l") != 0))
    rc = tarn_err(err, TARN_ECORRUPT,
                  "position delete file %s: file_path and pos must be a string and a long",
                  f->file_path);
  while (rc == 0) {
    struct ArrowArray b;
    memset(&b, 0, sizeof b);
    if (st.get_next(&st, &b) != 0) {
      rc = tarn_err(err, TARN_ECORRUPT, "position delete file %s: %s", f->file_path,
                    st.get_last_error(&st) ? st.get_last_error(&st) : "unreadable");
      break;
    }
    if (b.release == NULL) break;
    const struct ArrowArray *pa = b.children[0], *qa = b.children[1];
    const int32_t *offs = pa->buffers[1];
    const char *chars = pa->buffers[2];
    const int64_t *pos = qa->buffers[1];
    for (int64_t i = 0; rc == 0 && i < b.length; i++) {
      int64_t k = i + pa->offset, j = i + qa->offset;
      if ((pa->null_count && pa->buffers[0] &&
           !(((const uint8_t *)pa->buffers[0])[k / 8] >> (k % 8) & 1)) ||
          (qa->null_count && qa->buffers[0] &&
           !(((const uint8_t *)qa->buffers[0])[j / 8] >> (j % 8) & 1)) ||
          pos[j] < 0) {
        rc = tarn_err(err, TARN_ECORRUPT, "position delete file %s: row %lld is null or negative",
                      f->file_path, (long long)i);
        break;
      }
      pos_deletes *e = delete_entry(d, chars + offs[k], (size_t)(offs[k + 1] - offs[k]),
                                    f->data_sequence_number);
      if (e == NULL || push(e, (uint64_t)pos[j]) != 0)
        rc = tarn_err(err, TARN_ENOMEM, "out of memory");
    }
    b.release(&b);
  }
  if (schema.release) schema.release(&schema);
  if (st.release) st.release(&st);
  tarn_parquet_close(pf);
  return rc;
}

/* Reads a v3 deletion vector: the blob at content_offset of a Puffin file, a 4-byte big-endian
 * length, the magic and 64-bit portable Roaring bitmap Delta's vectors also use, and a CRC-32. */
static int read_deletion_vector(const iceberg_file *f, delete_set *d, tarn_error *err) {
  if (f->referenced_data_file == NULL || f->content_offset < 0 || f->content_size_in_bytes < 12 ||
      f->content_size_in_bytes > (int64_t)1 << 30)
    return tarn_err(err, TARN_ECORRUPT, "deletion vector in %s: no data file, offset or size",
                    f->file_path);
  FILE *fp = fopen(f->file_path, "rb");
  if (fp == NULL)
    return tarn_err(err, TARN_EIO, "deletion vector %s: %s", f->file_path, strerror(errno));
  size_t size = (size_t)f->content_size_in_bytes;
  uint8_t *blob = malloc(size);
  int rc = blob ? 0 : tarn_err(err, TARN_ENOMEM, "out of memory");
  /* a Puffin file starts with its magic; older DuckDB versions wrote the bare blob instead */
  char magic[4];
  if (rc == 0 && (fread(magic, 1, 4, fp) != 4 || memcmp(magic, "PFA1", 4) != 0))
    rc = tarn_err(err, TARN_ECORRUPT,
                  "deletion vector file %s is not a Puffin file (no PFA1 magic; a bare "
                  "deletion-vector blob, as older DuckDB versions wrote?)",
                  f->file_path);
  if (rc == 0 &&
      (fseeko(fp, (off_t)f->content_offset, SEEK_SET) != 0 || fread(blob, 1, size, fp) != size))
    rc = tarn_err(err, TARN_ECORRUPT, "deletion vector %s: cannot read %zu bytes at %lld",
                  f->file_path, size, (long long)f->content_offset);
  fclose(fp);
  uint32_t len =
      rc ? 0 : (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 | (uint32_t)blob[2] << 8 | blob[3];
  if (rc == 0 && (size_t)len + 8 != size)
    rc = tarn_err(err, TARN_ECORRUPT, "deletion vector %s: length %u does not fit the blob of %zu",
                  f->file_path, len, size);
  if (rc == 0) {
    const uint8_t *c = blob + 4 + len;
    uint32_t want = (uint32_t)c[0] << 24 | (uint32_t)c[1] << 16 | (uint32_t)c[2] << 8 | c[3];
    if ((uint32_t)crc32(crc32(0L, Z_NULL, 0), blob + 4, (uInt)len) != want)
      rc = tarn_err(err, TARN_ECORRUPT, "deletion vector %s: CRC mismatch", f->file_path);
  }
  tarn_arena tmp = {0};
  uint64_t *pos = NULL;
  size_t n = 0;
  if (rc == 0) rc = delta_dv_decode_bitmap(blob + 4, len, f->record_count, &tmp, &pos, &n, err);
  pos_deletes *e = NULL;
  if (rc == 0) {
    e = delete_entry(d, f->referenced_data_file, strlen(f->referenced_data_file),
                     f->data_sequence_number);
    if (e == NULL) rc = tarn_err(err, TARN_ENOMEM, "out of memory");
  }
  for (size_t i = 0; rc == 0 && i < n; i++)
    if (push(e, pos[i]) != 0) rc = tarn_err(err, TARN_ENOMEM, "out of memory");
  tarn_arena_free(&tmp);
  free(blob);
  return rc;
}

static int cmp_u64(const void *x, const void *y) {
  uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
  return a < b ? -1 : a > b;
}

/* The positions deleted from data file f (sorted, unique, in a), or none. */
static int deleted_positions(tarn_arena *a, const delete_set *d, const iceberg_file *f,
                             sql_source_file *sf, tarn_error *err) {
  size_t total = 0;
  for (size_t i = 0; i < d->n; i++)
    if (d->e[i].seq >= f->data_sequence_number && strcmp(d->e[i].path, f->raw_file_path) == 0)
      total += d->e[i].n;
  if (total == 0) return 0;
  uint64_t *pos = tarn_arena_calloc(a, total, sizeof *pos);
  if (pos == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
  size_t k = 0;
  for (size_t i = 0; i < d->n; i++)
    if (d->e[i].seq >= f->data_sequence_number && strcmp(d->e[i].path, f->raw_file_path) == 0) {
      memcpy(pos + k, d->e[i].pos, d->e[i].n * sizeof *pos);
      k += d->e[i].n;
    }
  qsort(pos, k, sizeof *pos, cmp_u64);
  size_t u = 0;
  for (size_t i = 0; i < k; i++)
    if (u == 0 || pos[u - 1] != pos[i]) pos[u++] = pos[i];
  sf->deleted = pos;
  sf->n_deleted = u;
  return 0;
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
  /* the position deletes and deletion vectors first, then the data files they apply to */
  delete_set dels = {0};
  for (size_t i = 0; rc == 0 && i < n; i++) {
    const iceberg_file *f = &files[i];
    if (f->content == ICEBERG_CONTENT_EQUALITY_DELETES)
      rc = tarn_err(err, TARN_EUNSUPPORTED,
                    "iceberg table %s: snapshot %lld has equality delete files (%s); reading "
                    "equality deletes is not supported yet",
                    iceberg_table_dir(t), (long long)snap->snapshot_id, f->raw_file_path);
    else if (f->content == ICEBERG_CONTENT_POSITION_DELETES)
      rc = f->file_format && strcasecmp(f->file_format, "PUFFIN") == 0
               ? read_deletion_vector(f, &dels, err)
               : read_position_file(f, &dels, err);
    if (rc) tarn_err_prefix(err, "iceberg table %s", iceberg_table_dir(t));
  }
  for (size_t i = 0; rc == 0 && i < n; i++) {
    const iceberg_file *f = &files[i];
    if (f->content != ICEBERG_CONTENT_DATA) continue;
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
    if (rc == 0) rc = deleted_positions(a, &dels, f, sf, err);
    if (sf->path == NULL) rc = tarn_err(err, TARN_ENOMEM, "out of memory");
  }
  delete_set_free(&dels);
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
