/* The Parquet writer: Arrow batches in, a Parquet file out.
 *
 * Shape of the work:
 *   1. open: the Arrow schema becomes a Parquet schema (leaves with physical and logical types,
 *      three-level LIST and MAP groups) and one `wleaf` per primitive leaf.
 *   2. write: each batch is shredded into every leaf's definition/repetition levels and dense
 *      values (the Dremel encoding; flat columns take a bulk path). When the buffered rows reach
 *      a row group, it is flushed.
 *   3. flush: per leaf, choose dictionary or the column's encoding, cut pages at record
 *      boundaries, encode levels and values, compress, write pages, keep page statistics for the
 *      page index and chunk statistics for the footer, and the bloom filter if asked.
 *   4. close: page indexes, footer, fsync, rename into place.
 * Memory: one row group of shredded values plus one page being encoded.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cjson/cJSON.h>

#include "columnar/arrow.h"
#include "common/arena.h"
#include "common/buf.h"
#include "common/error.h"
#include "parquet/bloom.h"
#include "parquet/codec.h"
#include "parquet/encode.h"
#include "parquet/encoding.h"
#include "parquet/format.h"
#include "parquet/metadata.h"
#include "parquet/thrift.h"
#include "parquet/thrift_write.h"
#include "tarn.h"

#define DEFAULT_ROW_GROUP_ROWS 122880
#define DEFAULT_PAGE_BYTES (1 << 20)
#define DEFAULT_DICT_BYTES (1 << 20)
#define WRITE_BUFFER_BYTES (1 << 20)

typedef enum wkind { W_LEAF, W_STRUCT, W_LIST, W_MAP } wkind;

/* How an Arrow value becomes the leaf's physical value. */
typedef enum wconv {
  WC_BOOL,      /* bitmap -> one byte 0/1 */
  WC_COPY,      /* same width (int32, int64, float, double, date32, time, timestamps) */
  WC_WIDEN8,    /* int8 -> int32 */
  WC_WIDEN8U,   /* uint8 -> int32 */
  WC_WIDEN16,   /* int16 -> int32 */
  WC_WIDEN16U,  /* uint16 -> int32 */
  WC_SCALE32,   /* int32 * factor (time32[s] -> ms) */
  WC_SCALE64,   /* int64 * factor (timestamp[s] -> ms) */
  WC_DATE64,    /* date64 ms -> days */
  WC_DEC_INT32, /* decimal128 -> low 4 bytes */
  WC_DEC_INT64, /* decimal128 -> low 8 bytes */
  WC_DEC_FIXED, /* decimal128/256 -> big-endian FLBA */
  WC_FIXED,     /* fixed-size binary, float16 */
  WC_INTERVAL,  /* month_day_nano -> months, days, millis */
  WC_BINARY,    /* utf8/binary (int32 offsets) */
  WC_LBINARY,   /* large utf8/binary (int64 offsets) */
  WC_NULL       /* null type: every value null */
} wconv;

/* Sort order of statistics. */
typedef enum wsort {
  S_NONE,
  S_SIGNED,
  S_UNSIGNED,
  S_HALF, /* FLBA(2) FLOAT16 */
  S_FLOAT,
  S_DOUBLE,
  S_BYTES,
  S_SIGNED_BYTES
} wsort;

typedef struct wnode wnode;
struct wnode {
  wkind kind;
  char *name;
  bool nullable;
  int n_children;
  wnode **children;
  int leaf_index;
  int16_t def_level; /* definition level when this node's value is present */
  int16_t rep_level; /* repetition level of this node's items (lists and maps) */
  int offset_bytes;  /* lists and maps: 4 (+l, +m) or 8 (+L) */
  int64_t list_size; /* fixed-size lists (+w:N): N */
};

typedef struct wleaf {
  wnode *node;
  char *path;
  int physical;
  int32_t type_length;
  int16_t max_def, max_rep;
  wconv conv;
  int64_t factor;
  int width;       /* Arrow value bytes for fixed-width inputs */
  int value_width; /* physical value bytes (0 for BYTE_ARRAY) */
  wsort sort;
  int encoding; /* chosen non-dictionary encoding */
  bool bloom;

  /* Row group buffers. */
  tarn_buf def, rep;
  int64_t n_levels;
  tarn_buf values;
  tarn_buf offsets; /* BYTE_ARRAY: int32 end offsets of each value */
  int64_t n_values;

  /* Whole-file totals for tarn_written_file. */
  int64_t total_values, total_nulls, total_compressed, total_uncompressed;
  bool has_min_max;
  tarn_buf min, max;
} wleaf;

/* What the footer needs about one written column chunk. */
typedef struct wchunk {
  int64_t data_page_offset, dictionary_page_offset; /* -1 when absent */
  int64_t total_compressed, total_uncompressed, num_values, null_count;
  int n_encodings;
  int encodings[4];
  bool has_min_max;
  tarn_buf min, max;
  int64_t bloom_offset;
  int32_t bloom_length;
  int data_pages, dict_pages, page_encoding;
  /* Page index. */
  int n_pages;
  int64_t *page_offset, *page_first_row;
  int32_t *page_size;
  bool *page_null;
  int64_t *page_nulls;
  tarn_buf *page_min, *page_max;
  int64_t column_index_offset, offset_index_offset;
  int32_t column_index_length, offset_index_length;
} wchunk;

typedef struct wgroup {
  int64_t num_rows, total_byte_size, total_compressed, file_offset;
  wchunk *chunks;
} wgroup;

struct tarn_parquet_writer {
  tarn_arena arena;
  char *path, *tmp_path;
  int fd;
  tarn_buf out;     /* bytes not yet written to fd */
  int64_t file_pos; /* bytes of the file so far (written or buffered) */
  tarn_write_options opts;
  int codec, level;
  int64_t row_group_rows, page_bytes, dict_bytes;

  wnode *root;
  int n_leaves, cap_leaves;
  wleaf *leaves;
  pq_schema_element *elements; /* footer schema, depth first */
  int n_elements, cap_elements;

  int64_t rows_buffered, total_rows;
  wgroup *groups;
  int n_groups, cap_groups;

  tarn_buf page, compressed, levels, scratch; /* reused while encoding pages */
  tarn_buf indices;
  pq_dict *dict;
  char **kv_keys, **kv_values;
  size_t n_kv;
  bool failed;
};

static int nomem(tarn_error *err) {
  return tarn_err(err, TARN_ENOMEM, "out of memory writing Parquet");
}

/* ---- Output ---- */

static int flush_out(tarn_parquet_writer *w, tarn_error *err) {
  size_t done = 0;
  while (done < w->out.len) {
    ssize_t n = write(w->fd, w->out.data + done, w->out.len - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return tarn_err(err, TARN_EIO, "%s: write failed: %s", w->tmp_path, strerror(errno));
    }
    done += (size_t)n;
  }
  w->out.len = 0;
  return 0;
}

static int emit(tarn_parquet_writer *w, const void *p, size_t n, tarn_error *err) {
  int rc;
  if (w->out.len + n > WRITE_BUFFER_BYTES && (rc = flush_out(w, err))) return rc;
  if (n > WRITE_BUFFER_BYTES) {
    ssize_t k;
    size_t done = 0;
    while (done < n) {
      k = write(w->fd, (const uint8_t *)p + done, n - done);
      if (k < 0) {
        if (errno == EINTR) continue;
        return tarn_err(err, TARN_EIO, "%s: write failed: %s", w->tmp_path, strerror(errno));
      }
      done += (size_t)k;
    }
  } else if ((rc = tarn_buf_append(&w->out, p, n, err))) {
    return rc;
  }
  w->file_pos += (int64_t)n;
  return 0;
}

/* ---- Schema ---- */

static pq_schema_element *new_element(tarn_parquet_writer *w, tarn_error *err) {
  if (w->n_elements == w->cap_elements) {
    int cap = w->cap_elements ? w->cap_elements * 2 : 16;
    pq_schema_element *e = realloc(w->elements, (size_t)cap * sizeof *e);
    if (e == NULL) return NULL;
    w->elements = e;
    w->cap_elements = cap;
  }
  (void)err;
  pq_schema_element *e = &w->elements[w->n_elements++];
  memset(e, 0, sizeof *e);
  e->converted_type = PQ_CT_NONE;
  return e;
}

static char *arena_str(tarn_parquet_writer *w, const char *s) {
  return tarn_arena_strndup(&w->arena, s, strlen(s));
}

static bool has_uuid_extension(const char *metadata) {
  size_t len = 0;
  const char *name = col_metadata_find(metadata, "ARROW:extension:name", &len);
  return name != NULL && len == 10 && memcmp(name, "arrow.uuid", 10) == 0;
}

/* A binary field with the geoarrow.wkb extension becomes a GEOMETRY column, or GEOGRAPHY when its
 * metadata names an edge interpolation; a "crs" in the metadata is kept. Returns whether it did. */
static bool set_geo_type(tarn_parquet_writer *w, const char *metadata, pq_schema_element *e,
                         tarn_error *err) {
  (void)err;
  size_t len = 0;
  const char *name = col_metadata_find(metadata, "ARROW:extension:name", &len);
  if (name == NULL || len != 12 || memcmp(name, "geoarrow.wkb", 12) != 0) return false;
  e->logical.kind = PQ_LT_GEOMETRY;
  const char *json = col_metadata_find(metadata, "ARROW:extension:metadata", &len);
  cJSON *doc = json ? cJSON_ParseWithLength(json, len) : NULL;
  const cJSON *crs = cJSON_GetObjectItemCaseSensitive(doc, "crs");
  const cJSON *edges = cJSON_GetObjectItemCaseSensitive(doc, "edges");
  if (cJSON_IsString(edges)) {
    static const char *names[] = {"spherical", "vincenty", "thomas", "andoyer", "karney"};
    e->logical.kind = PQ_LT_GEOGRAPHY;
    for (int i = 0; i < 5; i++)
      if (strcmp(edges->valuestring, names[i]) == 0) e->logical.algorithm = i;
    e->logical.has_algorithm = true;
  }
  if (cJSON_IsString(crs)) {
    char *copy = arena_str(w, crs->valuestring);
    if (copy) {
      e->logical.crs.data = (const uint8_t *)copy;
      e->logical.crs.len = (uint32_t)strlen(copy);
    }
  } else if (crs && !cJSON_IsNull(crs)) {
    /* PROJJSON given as an object: keep it as its JSON text. */
    char *text = cJSON_PrintUnformatted(crs);
    char *copy = text ? arena_str(w, text) : NULL;
    free(text);
    if (copy) {
      e->logical.crs.data = (const uint8_t *)copy;
      e->logical.crs.len = (uint32_t)strlen(copy);
    }
  }
  cJSON_Delete(doc);
  return true;
}

/* Fills a leaf's physical and logical type from its Arrow format. */
static int map_arrow_leaf(tarn_parquet_writer *w, const struct ArrowSchema *s, wleaf *l,
                          pq_schema_element *e, tarn_error *err) {
  const char *f = s->format;
  e->has_type = true;
  l->conv = WC_COPY;
  l->factor = 1;
  l->sort = S_SIGNED;
  int unit = -1;
  switch (f[0]) {
  case 'n':
    e->type = PQ_INT32;
    e->logical.kind = PQ_LT_UNKNOWN;
    l->conv = WC_NULL;
    l->sort = S_NONE;
    break;
  case 'b':
    e->type = PQ_BOOLEAN;
    l->conv = WC_BOOL;
    l->sort = S_UNSIGNED;
    break;
  case 'c':
  case 'C':
  case 's':
  case 'S':
  case 'i':
  case 'I': {
    bool is_unsigned = f[0] == 'C' || f[0] == 'S' || f[0] == 'I';
    int bits = (f[0] == 'c' || f[0] == 'C') ? 8 : (f[0] == 's' || f[0] == 'S') ? 16 : 32;
    e->type = PQ_INT32;
    e->logical.kind = PQ_LT_INTEGER;
    e->logical.bit_width = bits;
    e->logical.is_signed = !is_unsigned;
    static const int ct_signed[] = {PQ_CT_INT_8, PQ_CT_INT_16, PQ_CT_INT_32};
    static const int ct_unsigned[] = {PQ_CT_UINT_8, PQ_CT_UINT_16, PQ_CT_UINT_32};
    int k = bits == 8 ? 0 : bits == 16 ? 1 : 2;
    e->converted_type = is_unsigned ? ct_unsigned[k] : ct_signed[k];
    l->conv = bits == 8    ? (is_unsigned ? WC_WIDEN8U : WC_WIDEN8)
              : bits == 16 ? (is_unsigned ? WC_WIDEN16U : WC_WIDEN16)
                           : WC_COPY;
    l->width = bits / 8;
    l->sort = is_unsigned ? S_UNSIGNED : S_SIGNED;
    break;
  }
  case 'l':
  case 'L':
    e->type = PQ_INT64;
    if (f[0] == 'L') {
      e->logical.kind = PQ_LT_INTEGER;
      e->logical.bit_width = 64;
      e->converted_type = PQ_CT_UINT_64;
      l->sort = S_UNSIGNED;
    }
    l->width = 8;
    break;
  case 'e':
    e->type = PQ_FIXED_LEN_BYTE_ARRAY;
    e->type_length = 2;
    e->logical.kind = PQ_LT_FLOAT16;
    l->conv = WC_FIXED;
    l->width = 2;
    l->sort = S_HALF;
    break;
  case 'f':
    e->type = PQ_FLOAT;
    l->width = 4;
    l->sort = S_FLOAT;
    break;
  case 'g':
    e->type = PQ_DOUBLE;
    l->width = 8;
    l->sort = S_DOUBLE;
    break;
  case 'z':
  case 'Z':
    if (set_geo_type(w, s->metadata, e, err)) {
      e->type = PQ_BYTE_ARRAY;
      l->conv = f[0] == 'Z' ? WC_LBINARY : WC_BINARY;
      l->sort = S_NONE; /* geometry has no column order; its statistics are bounding boxes */
      break;
    }
    /* fall through */
  case 'u':
  case 'U':
    e->type = PQ_BYTE_ARRAY;
    if (f[0] == 'u' || f[0] == 'U') {
      e->logical.kind = PQ_LT_STRING;
      e->converted_type = PQ_CT_UTF8;
    }
    l->conv = (f[0] == 'U' || f[0] == 'Z') ? WC_LBINARY : WC_BINARY;
    l->sort = S_BYTES;
    break;
  case 'w': {
    int n = atoi(f + 2);
    if (n <= 0) break;
    e->type = PQ_FIXED_LEN_BYTE_ARRAY;
    e->type_length = n;
    if (n == 16 && has_uuid_extension(s->metadata)) e->logical.kind = PQ_LT_UUID;
    l->conv = WC_FIXED;
    l->width = n;
    l->sort = S_BYTES;
    break;
  }
  case 'd': {
    int p = 0, sc = 0, bits = 128;
    if (sscanf(f, "d:%d,%d,%d", &p, &sc, &bits) < 2 || p < 1 || p > 76 || sc < 0 || sc > p ||
        (bits != 128 && bits != 256))
      break;
    e->logical.kind = PQ_LT_DECIMAL;
    e->logical.precision = p;
    e->logical.scale = sc;
    e->converted_type = PQ_CT_DECIMAL;
    e->precision = p;
    e->scale = sc;
    l->width = bits / 8;
    if (p <= 9) {
      e->type = PQ_INT32;
      l->conv = WC_DEC_INT32;
    } else if (p <= 18) {
      e->type = PQ_INT64;
      l->conv = WC_DEC_INT64;
    } else {
      /* The fewest bytes that hold 10^p - 1 in two's complement. */
      int bytes = 1;
      while (bytes < 32 && (double)(bytes * 8 - 1) * 0.30102999566398 < p)
        bytes++;
      e->type = PQ_FIXED_LEN_BYTE_ARRAY;
      e->type_length = bytes;
      l->conv = WC_DEC_FIXED;
      l->sort = S_SIGNED_BYTES;
    }
    break;
  }
  case 't':
    if (strcmp(f, "tdD") == 0) {
      e->type = PQ_INT32;
      e->logical.kind = PQ_LT_DATE;
      e->converted_type = PQ_CT_DATE;
      l->width = 4;
    } else if (strcmp(f, "tdm") == 0) {
      e->type = PQ_INT32;
      e->logical.kind = PQ_LT_DATE;
      e->converted_type = PQ_CT_DATE;
      l->conv = WC_DATE64;
      l->width = 8;
    } else if (f[1] == 't' && f[3] == '\0') {
      e->logical.kind = PQ_LT_TIME;
      e->logical.adjusted_to_utc = false;
      if (f[2] == 's' || f[2] == 'm') {
        e->type = PQ_INT32;
        unit = PQ_UNIT_MILLIS;
        e->converted_type = PQ_CT_TIME_MILLIS;
        l->width = 4;
        if (f[2] == 's') {
          l->conv = WC_SCALE32;
          l->factor = 1000;
        }
      } else if (f[2] == 'u' || f[2] == 'n') {
        e->type = PQ_INT64;
        unit = f[2] == 'u' ? PQ_UNIT_MICROS : PQ_UNIT_NANOS;
        if (f[2] == 'u') e->converted_type = PQ_CT_TIME_MICROS;
        l->width = 8;
      }
      e->logical.unit = unit;
    } else if (f[1] == 's' && f[3] == ':') {
      e->type = PQ_INT64;
      e->logical.kind = PQ_LT_TIMESTAMP;
      e->logical.adjusted_to_utc = f[4] != '\0';
      l->width = 8;
      switch (f[2]) {
      case 's':
        unit = PQ_UNIT_MILLIS;
        l->conv = WC_SCALE64;
        l->factor = 1000;
        break;
      case 'm': unit = PQ_UNIT_MILLIS; break;
      case 'u': unit = PQ_UNIT_MICROS; break;
      case 'n': unit = PQ_UNIT_NANOS; break;
      }
      e->logical.unit = unit;
      /* The legacy annotation is written only for UTC timestamps: readers take a bare
       * TIMESTAMP_MILLIS/MICROS as adjusted to UTC per the spec. */
      if (e->logical.adjusted_to_utc && unit == PQ_UNIT_MILLIS)
        e->converted_type = PQ_CT_TIMESTAMP_MILLIS;
      if (e->logical.adjusted_to_utc && unit == PQ_UNIT_MICROS)
        e->converted_type = PQ_CT_TIMESTAMP_MICROS;
    } else if (strcmp(f, "tin") == 0) {
      e->type = PQ_FIXED_LEN_BYTE_ARRAY;
      e->type_length = 12;
      e->converted_type = PQ_CT_INTERVAL;
      l->conv = WC_INTERVAL;
      l->width = 16;
      l->sort = S_NONE;
    }
    break;
  default: break;
  }
  if (e->type == 0 && f[0] != 'b') {
    e->has_type = false;
    return tarn_err(err, TARN_EUNSUPPORTED,
                    "column %s: Arrow type '%s' cannot be written to Parquet", l->path, f);
  }
  l->physical = e->type;
  l->type_length = e->type_length;
  l->value_width = pq_physical_width(e->type, e->type_length);
  (void)w;
  return 0;
}

static int build_node(tarn_parquet_writer *w, const struct ArrowSchema *s, int16_t def, int16_t rep,
                      bool force_required, const char *parent_path, wnode **out, tarn_error *err);

static int add_leaf(tarn_parquet_writer *w, wnode *n, const char *path, tarn_error *err) {
  if (w->n_leaves == w->cap_leaves) { /* geometric growth: wide schemas stay linear */
    int cap = w->cap_leaves ? w->cap_leaves * 2 : 16;
    wleaf *grown = realloc(w->leaves, (size_t)cap * sizeof *grown);
    if (grown == NULL) return nomem(err);
    w->leaves = grown;
    w->cap_leaves = cap;
  }
  wleaf *l = &w->leaves[w->n_leaves];
  memset(l, 0, sizeof *l);
  l->node = n;
  l->path = arena_str(w, path);
  if (l->path == NULL) return nomem(err);
  n->leaf_index = w->n_leaves++;
  return 0;
}

static int build_node(tarn_parquet_writer *w, const struct ArrowSchema *s, int16_t def, int16_t rep,
                      bool force_required, const char *parent_path, wnode **out, tarn_error *err) {
  wnode *n = tarn_arena_calloc(&w->arena, 1, sizeof *n);
  if (n == NULL) return nomem(err);
  n->name = arena_str(w, s->name && s->name[0] ? s->name : "col");
  if (n->name == NULL) return nomem(err);
  n->nullable = !force_required && (s->flags & ARROW_FLAG_NULLABLE);
  n->def_level = (int16_t)(def + (n->nullable ? 1 : 0));
  n->leaf_index = -1;
  char path[2048];
  snprintf(path, sizeof path, "%s%s%s", parent_path, parent_path[0] ? "." : "", n->name);
  int element_index = w->n_elements;
  pq_schema_element *e = new_element(w, err);
  if (e == NULL) return nomem(err);
  e->name = n->name;
  e->has_repetition = true;
  e->repetition = n->nullable ? PQ_OPTIONAL : PQ_REQUIRED;
  const char *f = s->format;
  int rc;
  *out = n;
  if (f[0] == '+' && (f[1] == 'l' || f[1] == 'L' || f[1] == 'w' || f[1] == 'm')) {
    bool is_map = f[1] == 'm';
    n->kind = is_map ? W_MAP : W_LIST;
    n->offset_bytes = f[1] == 'L' ? 8 : 4;
    if (f[1] == 'w') {
      n->list_size = atoi(f + 3);
      if (n->list_size <= 0)
        return tarn_err(err, TARN_EINVAL, "column %s: bad fixed-size list", path);
    }
    n->rep_level = (int16_t)(rep + 1);
    e->num_children = 1;
    e->converted_type = is_map ? PQ_CT_MAP : PQ_CT_LIST;
    e->logical.kind = is_map ? PQ_LT_MAP : PQ_LT_LIST;
    if (s->n_children != 1)
      return tarn_err(err, TARN_EINVAL, "column %s: list without a child", path);
    pq_schema_element *r = new_element(w, err);
    if (r == NULL) return nomem(err);
    const char *group = is_map ? "key_value" : "list";
    r->name = group;
    r->has_repetition = true;
    r->repetition = PQ_REPEATED;
    char inner[2100];
    snprintf(inner, sizeof inner, "%s.%s", path, group);
    int16_t item_def = (int16_t)(n->def_level + 1);
    if (is_map) {
      const struct ArrowSchema *entries = s->children[0];
      if (entries->n_children != 2)
        return tarn_err(err, TARN_EINVAL, "column %s: map entries need a key and a value", path);
      w->elements[w->n_elements - 1].num_children = 2;
      n->n_children = 2;
      n->children = tarn_arena_calloc(&w->arena, 2, sizeof(wnode *));
      if (n->children == NULL) return nomem(err);
      if ((rc = build_node(w, entries->children[0], item_def, n->rep_level, true, inner,
                           &n->children[0], err)))
        return rc;
      return build_node(w, entries->children[1], item_def, n->rep_level, false, inner,
                        &n->children[1], err);
    }
    w->elements[w->n_elements - 1].num_children = 1;
    n->n_children = 1;
    n->children = tarn_arena_calloc(&w->arena, 1, sizeof(wnode *));
    if (n->children == NULL) return nomem(err);
    /* The element is always called "element" (the spec's three-level form). */
    struct ArrowSchema item = *s->children[0];
    item.name = "element";
    return build_node(w, &item, item_def, n->rep_level, false, inner, &n->children[0], err);
  }
  if (f[0] == '+' && f[1] == 's') {
    n->kind = W_STRUCT;
    e->num_children = (int32_t)s->n_children;
    if (s->n_children == 0)
      return tarn_err(err, TARN_EUNSUPPORTED,
                      "column %s: a struct without fields cannot be written", path);
    n->n_children = (int)s->n_children;
    n->children = tarn_arena_calloc(&w->arena, (size_t)s->n_children, sizeof(wnode *));
    if (n->children == NULL) return nomem(err);
    for (int i = 0; i < n->n_children; i++)
      if ((rc =
               build_node(w, s->children[i], n->def_level, rep, false, path, &n->children[i], err)))
        return rc;
    return 0;
  }
  if (f[0] == '+' || s->dictionary != NULL)
    return tarn_err(err, TARN_EUNSUPPORTED, "column %s: Arrow type '%s'%s cannot be written yet",
                    path, f, s->dictionary ? " (dictionary-encoded)" : "");
  n->kind = W_LEAF;
  if ((rc = add_leaf(w, n, path, err))) return rc;
  wleaf *l = &w->leaves[n->leaf_index];
  l->max_def = n->def_level;
  l->max_rep = rep;
  return map_arrow_leaf(w, s, l, &w->elements[element_index], err);
}

/* ---- Shredding: Arrow arrays to levels and values ---- */

static inline bool valid_at(const struct ArrowArray *a, int64_t i) {
  const uint8_t *bm = a->null_count == 0 ? NULL : a->buffers[0];
  int64_t p = i + a->offset;
  return bm == NULL || (bm[p >> 3] >> (p & 7)) & 1;
}

/* Appends one value of leaf l from Arrow array a at logical index i. */
static int append_value(wleaf *l, const struct ArrowArray *a, int64_t i, tarn_error *err) {
  int64_t p = i + a->offset;
  const uint8_t *v = a->buffers[1];
  uint8_t tmp[32];
  const void *src = tmp;
  size_t n = (size_t)l->value_width;
  switch (l->conv) {
  case WC_BOOL: tmp[0] = (v[p >> 3] >> (p & 7)) & 1; break;
  case WC_COPY: src = v + p * l->width; break;
  case WC_WIDEN8: {
    int32_t x = ((const int8_t *)v)[p];
    memcpy(tmp, &x, 4);
    break;
  }
  case WC_WIDEN8U: {
    int32_t x = ((const uint8_t *)v)[p];
    memcpy(tmp, &x, 4);
    break;
  }
  case WC_WIDEN16: {
    int16_t s16;
    memcpy(&s16, v + p * 2, 2);
    int32_t x = s16;
    memcpy(tmp, &x, 4);
    break;
  }
  case WC_WIDEN16U: {
    uint16_t u16;
    memcpy(&u16, v + p * 2, 2);
    int32_t x = u16;
    memcpy(tmp, &x, 4);
    break;
  }
  case WC_SCALE32: {
    int32_t x;
    memcpy(&x, v + p * 4, 4);
    x = (int32_t)((uint32_t)x * (uint32_t)l->factor);
    memcpy(tmp, &x, 4);
    break;
  }
  case WC_SCALE64: {
    int64_t x;
    memcpy(&x, v + p * 8, 8);
    x = (int64_t)((uint64_t)x * (uint64_t)l->factor);
    memcpy(tmp, &x, 8);
    break;
  }
  case WC_DATE64: {
    int64_t ms;
    memcpy(&ms, v + p * 8, 8);
    int64_t days = ms / 86400000 - (ms % 86400000 < 0);
    int32_t d = (int32_t)days;
    memcpy(tmp, &d, 4);
    break;
  }
  case WC_DEC_INT32:
  case WC_DEC_INT64: src = v + p * l->width; break; /* little-endian low bytes */
  case WC_DEC_FIXED: {
    const uint8_t *le = v + p * l->width;
    /* Big-endian, the low type_length bytes of the two's complement value. */
    for (size_t k = 0; k < n; k++)
      tmp[k] = le[n - 1 - k];
    break;
  }
  case WC_FIXED: src = v + p * l->width; break;
  case WC_INTERVAL: {
    int32_t months, days;
    int64_t nanos;
    memcpy(&months, v + p * 16, 4);
    memcpy(&days, v + p * 16 + 4, 4);
    memcpy(&nanos, v + p * 16 + 8, 8);
    uint32_t millis = (uint32_t)(nanos / 1000000);
    memcpy(tmp, &months, 4);
    memcpy(tmp + 4, &days, 4);
    memcpy(tmp + 8, &millis, 4);
    break;
  }
  case WC_BINARY:
  case WC_LBINARY: {
    int64_t start, end;
    if (l->conv == WC_BINARY) {
      int32_t o[2];
      memcpy(o, (const int32_t *)v + p, 8);
      start = o[0];
      end = o[1];
    } else {
      int64_t o[2];
      memcpy(o, (const int64_t *)v + p, 16);
      start = o[0];
      end = o[1];
    }
    if (end < start)
      return tarn_err(err, TARN_EINVAL, "column %s: negative string length", l->path);
    int rc = tarn_buf_append(&l->values, (const uint8_t *)a->buffers[2] + start,
                             (size_t)(end - start), err);
    if (rc) return rc;
    if (l->values.len > INT32_MAX)
      return tarn_err(err, TARN_ENOMEM, "column %s: a row group holds more than 2 GiB of strings",
                      l->path);
    int32_t off = (int32_t)l->values.len;
    l->n_values++;
    return tarn_buf_append(&l->offsets, &off, 4, err);
  }
  case WC_NULL: return 0;
  }
  l->n_values++;
  return tarn_buf_append(&l->values, src, n, err);
}

static int append_level(wleaf *l, int16_t def, int16_t rep, tarn_error *err) {
  int rc;
  if (l->max_def > 0 && (rc = tarn_buf_append(&l->def, &def, 2, err))) return rc;
  if (l->max_rep > 0 && (rc = tarn_buf_append(&l->rep, &rep, 2, err))) return rc;
  l->n_levels++;
  return 0;
}

/* Every leaf under n gets an entry with no value (a null or an empty list above it). */
static int emit_absent(tarn_parquet_writer *w, const wnode *n, int16_t def, int16_t rep,
                       tarn_error *err) {
  if (n->kind == W_LEAF) return append_level(&w->leaves[n->leaf_index], def, rep, err);
  for (int i = 0; i < n->n_children; i++) {
    int rc = emit_absent(w, n->children[i], def, rep, err);
    if (rc) return rc;
  }
  return 0;
}

/* Shreds slot i of array a (node n) whose parent value is defined at level def_parent; rep is
 * the repetition level of the first entry this slot produces. */
static int shred(tarn_parquet_writer *w, const wnode *n, const struct ArrowArray *a, int64_t i,
                 int16_t def_parent, int16_t rep, tarn_error *err) {
  if (n->nullable && !valid_at(a, i)) return emit_absent(w, n, def_parent, rep, err);
  int16_t def = n->def_level;
  int rc;
  switch (n->kind) {
  case W_LEAF: {
    wleaf *l = &w->leaves[n->leaf_index];
    if (l->conv == WC_NULL) return append_level(l, def_parent, rep, err);
    if ((rc = append_level(l, def, rep, err))) return rc;
    return append_value(l, a, i, err);
  }
  case W_STRUCT:
    for (int c = 0; c < n->n_children; c++)
      if ((rc = shred(w, n->children[c], a->children[c], i + a->offset, def, rep, err))) return rc;
    return 0;
  case W_LIST:
  case W_MAP: {
    int64_t p = i + a->offset, start, end;
    const struct ArrowArray *child = a->children[0];
    if (n->list_size > 0) {
      start = p * n->list_size;
      end = start + n->list_size;
    } else if (n->offset_bytes == 8) {
      int64_t o[2];
      memcpy(o, (const int64_t *)a->buffers[1] + p, 16);
      start = o[0];
      end = o[1];
    } else {
      int32_t o[2];
      memcpy(o, (const int32_t *)a->buffers[1] + p, 8);
      start = o[0];
      end = o[1];
    }
    if (end <= start) return emit_absent(w, n, def, rep, err);
    for (int64_t k = start; k < end; k++) {
      int16_t r = k == start ? rep : n->rep_level;
      if (n->kind == W_LIST) {
        if ((rc = shred(w, n->children[0], child, k, (int16_t)(def + 1), r, err))) return rc;
      } else {
        for (int c = 0; c < 2; c++)
          if ((rc = shred(w, n->children[c], child->children[c], k + child->offset,
                          (int16_t)(def + 1), r, err)))
            return rc;
      }
    }
    return 0;
  }
  }
  return 0;
}

/* Top-level primitive columns: levels straight from the validity bitmap and values in bulk. */
/* Strings and binary (int32 offsets) of a top-level column: the valid values' bytes and their
 * end offsets, rebased onto the row group's buffer, without a per-value dispatch. */
static int shred_flat_binary(wleaf *l, const struct ArrowArray *a, bool nullable, tarn_error *err) {
  int64_t n = a->length;
  const int32_t *o = (const int32_t *)a->buffers[1] + a->offset;
  const uint8_t *data = a->buffers[2];
  const int16_t *def =
      nullable ? (const int16_t *)(const void *)(l->def.data + l->def.len) - n : NULL;
  int64_t bytes = 0, count = 0;
  for (int64_t i = 0; i < n; i++) {
    if (o[i + 1] < o[i])
      return tarn_err(err, TARN_EINVAL, "column %s: offsets go backwards", l->path);
    if (def == NULL || def[i]) {
      bytes += o[i + 1] - o[i];
      count++;
    }
  }
  if ((int64_t)l->values.len + bytes > INT32_MAX)
    return tarn_err(err, TARN_ENOMEM, "column %s: a row group holds more than 2 GiB of strings",
                    l->path);
  int rc;
  if ((rc = tarn_buf_reserve(&l->values, (size_t)bytes + 1, err)) ||
      (rc = tarn_buf_reserve(&l->offsets, (size_t)count * 4, err)))
    return rc;
  int32_t *offs = (int32_t *)(void *)(l->offsets.data + l->offsets.len);
  int32_t end = (int32_t)l->values.len;
  if (def == NULL && n > 0) { /* one copy of the whole range */
    memcpy(l->values.data + l->values.len, data + o[0], (size_t)(o[n] - o[0]));
    for (int64_t i = 0; i < n; i++)
      offs[i] = end + (o[i + 1] - o[0]);
  } else {
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++) {
      if (!def[i]) continue;
      int32_t len = o[i + 1] - o[i];
      memcpy(l->values.data + end, data + o[i], (size_t)len);
      end += len;
      offs[k++] = end;
    }
  }
  l->values.len += (size_t)bytes;
  l->offsets.len += (size_t)count * 4;
  l->n_values += count;
  return 0;
}

static int shred_flat(wleaf *l, const struct ArrowArray *a, tarn_error *err) {
  int64_t n = a->length;
  int rc;
  bool nullable = l->max_def > 0;
  if (nullable) {
    if ((rc = tarn_buf_reserve(&l->def, (size_t)n * 2, err))) return rc;
    int16_t *d = (int16_t *)(void *)(l->def.data + l->def.len);
    for (int64_t i = 0; i < n; i++)
      d[i] = valid_at(a, i) ? 1 : 0;
    l->def.len += (size_t)n * 2;
  }
  l->n_levels += n;
  if (l->conv == WC_NULL) return 0;
  if (l->conv == WC_BINARY) return shred_flat_binary(l, a, nullable, err);
  bool no_nulls = !nullable || a->null_count == 0 || a->buffers[0] == NULL;
  if (l->conv == WC_COPY && l->width == l->value_width) {
    const uint8_t *src = (const uint8_t *)a->buffers[1] + a->offset * l->width;
    if (no_nulls) { /* same layout: one copy */
      l->n_values += n;
      return tarn_buf_append(&l->values, src, (size_t)n * (size_t)l->width, err);
    }
    /* Same layout with nulls: copy the valid values only. */
    if ((rc = tarn_buf_reserve(&l->values, (size_t)n * (size_t)l->width, err))) return rc;
    uint8_t *dst = l->values.data + l->values.len;
    const int16_t *d = (const int16_t *)(const void *)(l->def.data + l->def.len) - n;
    size_t w = (size_t)l->width, k = 0;
    for (int64_t i = 0; i < n; i++)
      if (d[i]) memcpy(dst + w * k++, src + w * (size_t)i, w);
    l->values.len += w * k;
    l->n_values += (int64_t)k;
    return 0;
  }
  if (l->value_width > 0 &&
      (rc = tarn_buf_reserve(&l->values, (size_t)n * (size_t)l->value_width, err)))
    return rc;
  for (int64_t i = 0; i < n; i++)
    if ((no_nulls || valid_at(a, i)) && (rc = append_value(l, a, i, err))) return rc;
  return 0;
}

/* ---- Statistics ---- */

/* IEEE half precision to float (exact: every half is a float). */
static float half_to_float(const uint8_t *p) {
  uint16_t h = (uint16_t)(p[0] | p[1] << 8);
  int sign = h >> 15, exp = (h >> 10) & 31, frac = h & 1023;
  float v;
  if (exp == 0)
    v = ldexpf((float)frac, -24);
  else if (exp == 31)
    v = frac ? NAN : INFINITY;
  else
    v = ldexpf((float)(frac | 1024), exp - 25);
  return sign ? -v : v;
}

static int compare(const wleaf *l, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen) {
  switch (l->sort) {
  case S_HALF: {
    float x = half_to_float(a), y = half_to_float(b);
    return (x > y) - (x < y);
  }
  case S_SIGNED:
    if (l->physical == PQ_INT32) {
      int32_t x, y;
      memcpy(&x, a, 4);
      memcpy(&y, b, 4);
      return (x > y) - (x < y);
    } else {
      int64_t x, y;
      memcpy(&x, a, 8);
      memcpy(&y, b, 8);
      return (x > y) - (x < y);
    }
  case S_UNSIGNED:
    if (l->physical == PQ_BOOLEAN) return (a[0] > b[0]) - (a[0] < b[0]);
    if (l->physical == PQ_INT32) {
      uint32_t x, y;
      memcpy(&x, a, 4);
      memcpy(&y, b, 4);
      return (x > y) - (x < y);
    } else {
      uint64_t x, y;
      memcpy(&x, a, 8);
      memcpy(&y, b, 8);
      return (x > y) - (x < y);
    }
  case S_FLOAT: {
    float x, y;
    memcpy(&x, a, 4);
    memcpy(&y, b, 4);
    return (x > y) - (x < y);
  }
  case S_DOUBLE: {
    double x, y;
    memcpy(&x, a, 8);
    memcpy(&y, b, 8);
    return (x > y) - (x < y);
  }
  case S_BYTES: {
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c) return c < 0 ? -1 : 1;
    return (alen > blen) - (alen < blen);
  }
  case S_SIGNED_BYTES: {
    /* Equal-width big-endian two's complement: flip the sign bit, then compare as bytes. */
    if (alen == 0 || blen == 0) return (alen > blen) - (alen < blen);
    uint8_t fa = a[0] ^ 0x80, fb = b[0] ^ 0x80;
    if (fa != fb) return fa < fb ? -1 : 1;
    int c = alen > 1 ? memcmp(a + 1, b + 1, alen - 1) : 0;
    return (c > 0) - (c < 0);
  }
  case S_NONE: return 0;
  }
  return 0;
}

static bool is_nan(const wleaf *l, const uint8_t *v) {
  if (l->sort == S_FLOAT) {
    float f;
    memcpy(&f, v, 4);
    return isnan(f);
  }
  if (l->sort == S_DOUBLE) {
    double d;
    memcpy(&d, v, 8);
    return isnan(d);
  }
  if (l->sort == S_HALF) return isnan(half_to_float(v));
  return false;
}

/* Value k of a leaf's row-group buffer. */
static inline const uint8_t *value_at(const wleaf *l, int64_t k, size_t *len) {
  if (l->value_width > 0) {
    *len = (size_t)l->value_width;
    return l->values.data + k * l->value_width;
  }
  const int32_t *o = (const int32_t *)(const void *)l->offsets.data;
  *len = (size_t)(o[k + 1] - o[k]);
  return l->values.data + o[k];
}

/* Min and max of values [v0, v1) into min/max (copied); returns whether any was found. */
static int range_min_max(const wleaf *l, int64_t v0, int64_t v1, tarn_buf *min, tarn_buf *max,
                         bool *found, tarn_error *err) {
  *found = false;
  if (l->sort == S_NONE) return 0;
  const uint8_t *mn = NULL, *mx = NULL;
  size_t mnl = 0, mxl = 0;
  for (int64_t k = v0; k < v1; k++) {
    size_t len;
    const uint8_t *v = value_at(l, k, &len);
    if (is_nan(l, v)) continue;
    if (mn == NULL || compare(l, v, len, mn, mnl) < 0) mn = v, mnl = len;
    if (mx == NULL || compare(l, v, len, mx, mxl) > 0) mx = v, mxl = len;
  }
  if (mn == NULL) return 0;
  min->len = max->len = 0;
  int rc;
  if ((rc = tarn_buf_append(min, mn, mnl, err)) || (rc = tarn_buf_append(max, mx, mxl, err)))
    return rc;
  /* Zero's sign is not ordered: the spec asks for -0.0 as a minimum and +0.0 as a maximum. */
  if (l->sort == S_HALF) {
    if (half_to_float(min->data) == 0.0f) min->data[0] = 0x00, min->data[1] = 0x80;
    if (half_to_float(max->data) == 0.0f) max->data[0] = 0x00, max->data[1] = 0x00;
  }
  if (l->sort == S_FLOAT || l->sort == S_DOUBLE) {
    if (l->sort == S_FLOAT) {
      float a, b;
      memcpy(&a, min->data, 4);
      memcpy(&b, max->data, 4);
      if (a == 0.0f) a = -0.0f;
      if (b == 0.0f) b = 0.0f;
      memcpy(min->data, &a, 4);
      memcpy(max->data, &b, 4);
    } else {
      double a, b;
      memcpy(&a, min->data, 8);
      memcpy(&b, max->data, 8);
      if (a == 0.0) a = -0.0;
      if (b == 0.0) b = 0.0;
      memcpy(min->data, &a, 8);
      memcpy(max->data, &b, 8);
    }
  }
  *found = true;
  return 0;
}

/* ---- Pages ---- */

static int bits_for(uint64_t max_value) {
  int b = 0;
  while (b < 64 && (max_value >> b) != 0)
    b++;
  return b;
}

/* Serialises a page header for a body already in w->compressed and emits both. */
static int emit_page(tarn_parquet_writer *w, int page_type, int64_t uncompressed,
                     int64_t num_values, int encoding, int64_t num_nulls, int64_t num_rows,
                     int32_t def_len, int32_t rep_len, bool v2_compressed, int64_t *header_and_body,
                     tarn_error *err) {
  if (uncompressed > INT32_MAX || w->compressed.len > INT32_MAX)
    return tarn_err(err, TARN_EINVAL, "a page would exceed 2 GiB");
  tarn_buf hdr = {0};
  thw t;
  thw_init(&t, &hdr, err);
  thw_struct_begin(&t);
  thw_i32(&t, 1, page_type);
  thw_i32(&t, 2, (int32_t)uncompressed);
  thw_i32(&t, 3, (int32_t)w->compressed.len);
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, w->compressed.data, (uInt)w->compressed.len);
  thw_i32(&t, 4, (int32_t)(uint32_t)crc);
  if (page_type == PQ_PAGE_DICTIONARY) {
    thw_field_struct(&t, 7);
    thw_i32(&t, 1, (int32_t)num_values);
    thw_i32(&t, 2, PQ_ENC_PLAIN);
    thw_struct_end(&t);
  } else if (page_type == PQ_PAGE_DATA) {
    thw_field_struct(&t, 5);
    thw_i32(&t, 1, (int32_t)num_values);
    thw_i32(&t, 2, encoding);
    thw_i32(&t, 3, PQ_ENC_RLE);
    thw_i32(&t, 4, PQ_ENC_RLE);
    thw_struct_end(&t);
  } else {
    thw_field_struct(&t, 8);
    thw_i32(&t, 1, (int32_t)num_values);
    thw_i32(&t, 2, (int32_t)num_nulls);
    thw_i32(&t, 3, (int32_t)num_rows);
    thw_i32(&t, 4, encoding);
    thw_i32(&t, 5, def_len);
    thw_i32(&t, 6, rep_len);
    thw_bool(&t, 7, v2_compressed);
    thw_struct_end(&t);
  }
  thw_struct_end(&t);
  int rc = t.rc;
  if (rc == 0) rc = emit(w, hdr.data, hdr.len, err);
  if (rc == 0) rc = emit(w, w->compressed.data, w->compressed.len, err);
  *header_and_body = (int64_t)(hdr.len + w->compressed.len);
  tarn_buf_free(&hdr);
  return rc;
}

static int add_page_index_entry(wchunk *ch, int64_t offset, int32_t size, int64_t first_row,
                                int64_t nulls, bool null_page, const tarn_buf *min,
                                const tarn_buf *max, tarn_error *err) {
  int n = ch->n_pages + 1;
  int64_t *po = realloc(ch->page_offset, (size_t)n * sizeof *po);
  if (po) ch->page_offset = po;
  int64_t *pf = realloc(ch->page_first_row, (size_t)n * sizeof *pf);
  if (pf) ch->page_first_row = pf;
  int32_t *ps = realloc(ch->page_size, (size_t)n * sizeof *ps);
  if (ps) ch->page_size = ps;
  bool *pn = realloc(ch->page_null, (size_t)n * sizeof *pn);
  if (pn) ch->page_null = pn;
  int64_t *pc = realloc(ch->page_nulls, (size_t)n * sizeof *pc);
  if (pc) ch->page_nulls = pc;
  tarn_buf *pmin = realloc(ch->page_min, (size_t)n * sizeof *pmin);
  if (pmin) ch->page_min = pmin;
  tarn_buf *pmax = realloc(ch->page_max, (size_t)n * sizeof *pmax);
  if (pmax) ch->page_max = pmax;
  if (!po || !pf || !ps || !pn || !pc || !pmin || !pmax) return nomem(err);
  int i = ch->n_pages;
  ch->page_offset[i] = offset;
  ch->page_size[i] = size;
  ch->page_first_row[i] = first_row;
  ch->page_nulls[i] = nulls;
  ch->page_null[i] = null_page;
  memset(&ch->page_min[i], 0, sizeof(tarn_buf));
  memset(&ch->page_max[i], 0, sizeof(tarn_buf));
  ch->n_pages = n;
  int rc = 0;
  if (!null_page && min && max) {
    if ((rc = tarn_buf_append(&ch->page_min[i], min->data, min->len, err))) return rc;
    if ((rc = tarn_buf_append(&ch->page_max[i], max->data, max->len, err))) return rc;
  }
  return 0;
}

/* Encodes values [v0, v1) of leaf l with `encoding` (or dictionary indices) into out. */
static int encode_values(tarn_parquet_writer *w, wleaf *l, bool use_dict, int bits, int encoding,
                         int64_t v0, int64_t v1, tarn_buf *out, tarn_error *err) {
  size_t n = (size_t)(v1 - v0);
  if (use_dict) {
    uint8_t b = (uint8_t)bits;
    int rc = tarn_buf_append(out, &b, 1, err);
    if (rc) return rc;
    return pq_rle_encode_u32((const uint32_t *)(const void *)w->indices.data + v0, n, bits, out,
                             err);
  }
  /* offsets exist only for BYTE_ARRAY columns (pointer arithmetic on NULL is undefined). */
  const int32_t *offs =
      l->offsets.data ? (const int32_t *)(const void *)l->offsets.data + v0 : NULL;
  const uint8_t *fixed = l->values.data ? l->values.data + v0 * l->value_width : NULL;
  switch (encoding) {
  case PQ_ENC_RLE: return pq_encode_rle_boolean(fixed, n, out, err);
  case PQ_ENC_DELTA_BINARY_PACKED:
    return pq_encode_delta_binary_packed(l->physical, fixed, n, out, err);
  case PQ_ENC_DELTA_LENGTH_BYTE_ARRAY:
    return pq_encode_delta_length_byte_array(offs, l->values.data, n, out, err);
  case PQ_ENC_DELTA_BYTE_ARRAY:
    if (l->physical == PQ_BYTE_ARRAY)
      return pq_encode_delta_byte_array(offs, l->values.data, n, out, err);
    return pq_encode_delta_byte_array_fixed(fixed, n, l->value_width, out, err);
  case PQ_ENC_BYTE_STREAM_SPLIT:
    return pq_encode_byte_stream_split(fixed, n, l->value_width, out, err);
  default:
    if (l->physical == PQ_BYTE_ARRAY)
      return pq_encode_plain_binary(offs, l->values.data, n, out, err);
    return pq_encode_plain_fixed(l->physical, l->type_length, fixed, n, out, err);
  }
}

static size_t bloom_bytes_for(int64_t ndv) {
  /* Bits for a 1% false-positive rate with 8 bits set per value, rounded up to a power of two
   * between 32 bytes and 128 MiB (the spec's split-block sizing). */
  double bits = -8.0 * (double)ndv / log(1.0 - pow(0.01, 1.0 / 8.0));
  size_t bytes = 32;
  while (bytes < (size_t)128 << 20 && (double)bytes * 8 < bits)
    bytes *= 2;
  return bytes;
}

static int write_bloom(tarn_parquet_writer *w, wleaf *l, wchunk *ch, int64_t ndv, tarn_error *err) {
  size_t nbytes = bloom_bytes_for(ndv > 0 ? ndv : 1);
  uint8_t *bits = calloc(nbytes, 1);
  if (bits == NULL) return nomem(err);
  for (int64_t k = 0; k < l->n_values; k++) {
    size_t len;
    const uint8_t *v = value_at(l, k, &len);
    pq_bloom_insert(bits, nbytes, pq_bloom_hash(v, len));
  }
  tarn_buf hdr = {0};
  thw t;
  thw_init(&t, &hdr, err);
  thw_struct_begin(&t);
  thw_i32(&t, 1, (int32_t)nbytes);
  thw_field_struct(&t, 2); /* algorithm: BLOCK */
  thw_field_struct(&t, 1);
  thw_struct_end(&t);
  thw_struct_end(&t);
  thw_field_struct(&t, 3); /* hash: XXHASH */
  thw_field_struct(&t, 1);
  thw_struct_end(&t);
  thw_struct_end(&t);
  thw_field_struct(&t, 4); /* compression: UNCOMPRESSED */
  thw_field_struct(&t, 1);
  thw_struct_end(&t);
  thw_struct_end(&t);
  thw_struct_end(&t);
  int rc = t.rc;
  ch->bloom_offset = w->file_pos;
  if (rc == 0) rc = emit(w, hdr.data, hdr.len, err);
  if (rc == 0) rc = emit(w, bits, nbytes, err);
  ch->bloom_length = (int32_t)(hdr.len + nbytes);
  tarn_buf_free(&hdr);
  free(bits);
  return rc;
}

static int flush_column(tarn_parquet_writer *w, wleaf *l, wchunk *ch, tarn_error *err) {
  int rc;
  memset(ch, 0, sizeof *ch);
  ch->dictionary_page_offset = -1;
  ch->bloom_offset = -1;
  int64_t n_entries = l->n_levels, n_values = l->n_values;
  ch->num_values = n_entries;
  ch->null_count = n_entries - n_values;
  const int16_t *def = (const int16_t *)(const void *)l->def.data;
  const int16_t *rep = (const int16_t *)(const void *)l->rep.data;
  int64_t chunk_start = w->file_pos;

  /* Dictionary, when it pays: its PLAIN size plus the packed indices against the plain values. */
  bool use_dict = false;
  int bits = 0;
  int64_t ndv = n_values;
  if (!w->opts.no_dictionary && l->encoding == PQ_ENC_PLAIN && l->physical != PQ_BOOLEAN &&
      l->conv != WC_NULL && n_values > 0) {
    pq_dict *d = NULL;
    if ((rc = pq_dict_create(l->physical, l->type_length, &d, err))) return rc;
    w->indices.len = 0;
    if ((rc = tarn_buf_reserve(&w->indices, (size_t)n_values * 4, err))) {
      pq_dict_free(d);
      return rc;
    }
    /* Insert in slices so a column that is plainly not worth a dictionary (mostly distinct
     * values after the first slice, or a dictionary past its size limit) stops early. */
    const int64_t slice = 16384;
    bool abandoned = false;
    for (int64_t k = 0; k < n_values && !abandoned; k += slice) {
      size_t m = (size_t)(n_values - k < slice ? n_values - k : slice);
      uint32_t *idx = (uint32_t *)(void *)w->indices.data + k;
      rc = l->physical == PQ_BYTE_ARRAY
               ? pq_dict_insert_binary(d, (const int32_t *)(const void *)l->offsets.data + k,
                                       l->values.data, m, idx, err)
               : pq_dict_insert_fixed(d, l->values.data + k * l->value_width, m, idx, err);
      if (rc) {
        pq_dict_free(d);
        return rc;
      }
      size_t seen = (size_t)k + m;
      if ((int64_t)pq_dict_plain_size(d) > w->dict_bytes ||
          (seen >= 1024 && pq_dict_count(d) * 2 > seen))
        abandoned = true;
    }
    size_t count = abandoned ? (size_t)n_values : pq_dict_count(d);
    size_t dict_size = abandoned ? SIZE_MAX / 4 : pq_dict_plain_size(d);
    bits = bits_for(count > 0 ? count - 1 : 0);
    size_t plain = l->value_width > 0 ? (size_t)n_values * (size_t)l->value_width
                                      : l->values.len + (size_t)n_values * 4;
    size_t packed = ((size_t)n_values * (size_t)bits + 7) / 8;
    use_dict = (int64_t)dict_size <= w->dict_bytes && dict_size + packed < plain;
    ndv = (int64_t)count;
    if (use_dict) {
      w->page.len = 0;
      if ((rc = pq_dict_write_plain(d, &w->page, err)) == 0) {
        w->compressed.len = 0;
        rc = pq_compress(w->codec, w->level, w->page.data, w->page.len, &w->compressed, err);
      }
      int64_t written = 0;
      ch->dictionary_page_offset = w->file_pos;
      if (rc == 0)
        rc = emit_page(w, PQ_PAGE_DICTIONARY, (int64_t)w->page.len, (int64_t)count, PQ_ENC_PLAIN, 0,
                       0, 0, 0, true, &written, err);
      ch->total_uncompressed += (int64_t)w->page.len + (written - (int64_t)w->compressed.len);
      ch->dict_pages = 1;
    }
    pq_dict_free(d);
    if (rc) return rc;
  }
  int encoding = use_dict ? PQ_ENC_RLE_DICTIONARY : l->encoding;

  /* Pages: about page_bytes of encoded values each, cut where a record starts. */
  double per_value = use_dict             ? (bits + 1) / 8.0
                     : l->value_width > 0 ? (double)l->value_width
                                          : (double)(l->values.len + 4 * (size_t)n_values) /
                                                (double)(n_values ? n_values : 1);
  int64_t per_page = (int64_t)((double)w->page_bytes / (per_value + 0.25));
  if (per_page < 64) per_page = 64;
  int64_t e0 = 0, v0 = 0, row = 0;
  tarn_buf pmin = {0}, pmax = {0};
  ch->data_page_offset = w->file_pos;
  while (e0 < n_entries || (n_entries == 0 && e0 == 0 && ch->data_pages == 0)) {
    int64_t e1 = e0 + per_page < n_entries ? e0 + per_page : n_entries;
    if (l->max_rep > 0)
      while (e1 < n_entries && rep[e1] != 0)
        e1++;
    int64_t values = 0, rows = 0;
    if (l->max_def > 0) {
      for (int64_t e = e0; e < e1; e++)
        values += def[e] == l->max_def;
    } else {
      values = e1 - e0;
    }
    if (l->conv == WC_NULL) values = 0;
    if (l->max_rep > 0) {
      for (int64_t e = e0; e < e1; e++)
        rows += rep[e] == 0;
    } else {
      rows = e1 - e0;
    }
    int64_t v1 = v0 + values;
    /* Levels. */
    w->levels.len = 0;
    int32_t rep_len = 0, def_len = 0;
    bool v2 = w->opts.data_page_v2;
    if (l->max_rep > 0) {
      size_t at = w->levels.len;
      if (!v2 && (rc = tarn_buf_append(&w->levels, "\0\0\0\0", 4, err))) break;
      size_t body = w->levels.len;
      if ((rc = pq_rle_encode_i16(rep + e0, (size_t)(e1 - e0), bits_for((uint64_t)l->max_rep),
                                  &w->levels, err)))
        break;
      rep_len = (int32_t)(w->levels.len - body);
      if (!v2) memcpy(w->levels.data + at, &rep_len, 4);
    }
    if (l->max_def > 0) {
      size_t at = w->levels.len;
      if (!v2 && (rc = tarn_buf_append(&w->levels, "\0\0\0\0", 4, err))) break;
      size_t body = w->levels.len;
      if ((rc = pq_rle_encode_i16(def + e0, (size_t)(e1 - e0), bits_for((uint64_t)l->max_def),
                                  &w->levels, err)))
        break;
      def_len = (int32_t)(w->levels.len - body);
      if (!v2) memcpy(w->levels.data + at, &def_len, 4);
    }
    /* Values, then compression: v1 compresses levels and values together, v2 values only. */
    w->page.len = 0;
    if (!v2 && (rc = tarn_buf_append(&w->page, w->levels.data, w->levels.len, err))) break;
    size_t values_at = w->page.len;
    /* Even an all-null page carries its encoding's header (DELTA_* streams start with one). */
    if (l->conv != WC_NULL &&
        (rc = encode_values(w, l, use_dict, bits, encoding, v0, v1, &w->page, err)))
      break;
    w->compressed.len = 0;
    int64_t uncompressed;
    if (v2) {
      if ((rc = tarn_buf_append(&w->compressed, w->levels.data, w->levels.len, err))) break;
      if ((rc = pq_compress(w->codec, w->level, w->page.data, w->page.len, &w->compressed, err)))
        break;
      uncompressed = (int64_t)(w->levels.len + w->page.len);
    } else {
      if ((rc = pq_compress(w->codec, w->level, w->page.data, w->page.len, &w->compressed, err)))
        break;
      uncompressed = (int64_t)w->page.len;
    }
    (void)values_at;
    bool found = false;
    if (!w->opts.no_statistics && (rc = range_min_max(l, v0, v1, &pmin, &pmax, &found, err))) break;
    int64_t offset = w->file_pos, written = 0;
    if ((rc = emit_page(w, v2 ? PQ_PAGE_DATA_V2 : PQ_PAGE_DATA, uncompressed, e1 - e0, encoding,
                        (e1 - e0) - values, rows, def_len, rep_len, true, &written, err)))
      break;
    ch->total_uncompressed += uncompressed + (written - (int64_t)w->compressed.len);
    ch->data_pages++;
    if ((rc = add_page_index_entry(ch, offset, (int32_t)written, row, (e1 - e0) - values,
                                   values == 0 || !found, found ? &pmin : NULL,
                                   found ? &pmax : NULL, err)))
      break;
    if (found) {
      if (!ch->has_min_max || compare(l, pmin.data, pmin.len, ch->min.data, ch->min.len) < 0) {
        ch->min.len = 0;
        if ((rc = tarn_buf_append(&ch->min, pmin.data, pmin.len, err))) break;
      }
      if (!ch->has_min_max || compare(l, pmax.data, pmax.len, ch->max.data, ch->max.len) > 0) {
        ch->max.len = 0;
        if ((rc = tarn_buf_append(&ch->max, pmax.data, pmax.len, err))) break;
      }
      ch->has_min_max = true;
    }
    row += rows;
    e0 = e1;
    v0 = v1;
    if (n_entries == 0) break;
  }
  tarn_buf_free(&pmin);
  tarn_buf_free(&pmax);
  if (rc) return rc;
  ch->total_compressed = w->file_pos - chunk_start;
  if (ch->n_pages > 0) ch->data_page_offset = ch->page_offset[0]; /* after the dictionary page */
  ch->page_encoding = encoding;
  ch->n_encodings = 0;
  if (use_dict) ch->encodings[ch->n_encodings++] = PQ_ENC_PLAIN;
  ch->encodings[ch->n_encodings++] = PQ_ENC_RLE;
  ch->encodings[ch->n_encodings++] = encoding;
  if (l->bloom && (rc = write_bloom(w, l, ch, ndv, err))) return rc;

  /* File totals. */
  l->total_values += n_entries;
  l->total_nulls += n_entries - n_values;
  l->total_compressed += ch->total_compressed;
  l->total_uncompressed += ch->total_uncompressed;
  if (ch->has_min_max) {
    if (!l->has_min_max || compare(l, ch->min.data, ch->min.len, l->min.data, l->min.len) < 0) {
      l->min.len = 0;
      if ((rc = tarn_buf_append(&l->min, ch->min.data, ch->min.len, err))) return rc;
    }
    if (!l->has_min_max || compare(l, ch->max.data, ch->max.len, l->max.data, l->max.len) > 0) {
      l->max.len = 0;
      if ((rc = tarn_buf_append(&l->max, ch->max.data, ch->max.len, err))) return rc;
    }
    l->has_min_max = true;
  }
  return 0;
}

static void reset_leaf(wleaf *l) {
  l->def.len = l->rep.len = l->values.len = 0;
  l->n_levels = l->n_values = 0;
  l->offsets.len = 0;
  if (l->physical == PQ_BYTE_ARRAY) {
    int32_t zero = 0;
    tarn_buf_append(&l->offsets, &zero, 4, NULL); /* cannot fail: the buffer keeps its capacity */
  }
}

static int flush_row_group(tarn_parquet_writer *w, tarn_error *err) {
  if (w->rows_buffered == 0) return 0;
  if (w->n_groups == w->cap_groups) {
    int cap = w->cap_groups ? w->cap_groups * 2 : 8;
    wgroup *g = realloc(w->groups, (size_t)cap * sizeof *g);
    if (g == NULL) return nomem(err);
    w->groups = g;
    w->cap_groups = cap;
  }
  wgroup *g = &w->groups[w->n_groups];
  memset(g, 0, sizeof *g);
  g->chunks = calloc((size_t)(w->n_leaves ? w->n_leaves : 1), sizeof(wchunk));
  if (g->chunks == NULL) return nomem(err);
  w->n_groups++;
  g->num_rows = w->rows_buffered;
  g->file_offset = w->file_pos;
  for (int i = 0; i < w->n_leaves; i++) {
    int rc = flush_column(w, &w->leaves[i], &g->chunks[i], err);
    if (rc) return rc;
    g->total_byte_size += g->chunks[i].total_uncompressed;
    g->total_compressed += g->chunks[i].total_compressed;
    reset_leaf(&w->leaves[i]);
  }
  w->total_rows += w->rows_buffered;
  w->rows_buffered = 0;
  return 0;
}

/* ---- Footer ---- */

static void write_logical(thw *t, const pq_logical_type *lt) {
  thw_field_struct(t, 10);
  switch (lt->kind) {
  case PQ_LT_DECIMAL:
    thw_field_struct(t, PQ_LT_DECIMAL);
    thw_i32(t, 1, lt->scale);
    thw_i32(t, 2, lt->precision);
    thw_struct_end(t);
    break;
  case PQ_LT_TIME:
  case PQ_LT_TIMESTAMP:
    thw_field_struct(t, (int16_t)lt->kind);
    thw_bool(t, 1, lt->adjusted_to_utc);
    thw_field_struct(t, 2);
    thw_field_struct(t, (int16_t)(lt->unit + 1)); /* MILLIS 1, MICROS 2, NANOS 3 */
    thw_struct_end(t);
    thw_struct_end(t);
    thw_struct_end(t);
    break;
  case PQ_LT_GEOMETRY:
  case PQ_LT_GEOGRAPHY:
    thw_field_struct(t, (int16_t)lt->kind);
    if (lt->crs.data) thw_binary(t, 1, lt->crs.data, lt->crs.len);
    if (lt->kind == PQ_LT_GEOGRAPHY && lt->has_algorithm) thw_i32(t, 2, lt->algorithm);
    thw_struct_end(t);
    break;
  case PQ_LT_INTEGER:
    thw_field_struct(t, PQ_LT_INTEGER);
    thw_i8(t, 1, (int8_t)lt->bit_width);
    thw_bool(t, 2, lt->is_signed);
    thw_struct_end(t);
    break;
  default:
    thw_field_struct(t, (int16_t)lt->kind);
    thw_struct_end(t);
    break;
  }
  thw_struct_end(t);
}

static void write_statistics(thw *t, const wleaf *l, const wchunk *ch) {
  thw_field_struct(t, 12);
  /* The legacy min/max are byte-compared as signed by old readers: only written where that order
   * and the type's order agree. */
  bool legacy = l->sort == S_SIGNED || l->sort == S_FLOAT || l->sort == S_DOUBLE;
  if (ch->has_min_max && legacy) {
    thw_binary(t, 1, ch->max.data, ch->max.len);
    thw_binary(t, 2, ch->min.data, ch->min.len);
  }
  thw_i64(t, 3, ch->null_count);
  if (ch->has_min_max) {
    thw_binary(t, 5, ch->max.data, ch->max.len);
    thw_binary(t, 6, ch->min.data, ch->min.len);
  }
  thw_struct_end(t);
}

static void write_column_chunk(thw *t, tarn_parquet_writer *w, const wleaf *l, const wchunk *ch) {
  thw_struct_begin(t);
  thw_i64(t, 2,
          ch->dictionary_page_offset >= 0 ? ch->dictionary_page_offset : ch->data_page_offset);
  thw_field_struct(t, 3);
  thw_i32(t, 1, l->physical);
  thw_field_list(t, 2, TH_I32, (uint32_t)ch->n_encodings);
  for (int i = 0; i < ch->n_encodings; i++)
    thw_elem_i32(t, ch->encodings[i]);
  /* path_in_schema: the leaf path split at dots. */
  int parts = 1;
  for (const char *p = l->path; *p; p++)
    parts += *p == '.';
  thw_field_list(t, 3, TH_BINARY, (uint32_t)parts);
  const char *start = l->path;
  for (const char *p = l->path;; p++) {
    if (*p == '.' || *p == '\0') {
      thw_elem_binary(t, start, (size_t)(p - start));
      start = p + 1;
      if (*p == '\0') break;
    }
  }
  thw_i32(t, 4, w->codec);
  thw_i64(t, 5, ch->num_values);
  thw_i64(t, 6, ch->total_uncompressed);
  thw_i64(t, 7, ch->total_compressed);
  thw_i64(t, 9, ch->data_page_offset);
  if (ch->dictionary_page_offset >= 0) thw_i64(t, 11, ch->dictionary_page_offset);
  if (!w->opts.no_statistics) write_statistics(t, l, ch);
  thw_field_list(t, 13, TH_STRUCT, (uint32_t)(ch->dict_pages ? 2 : 1));
  if (ch->dict_pages) {
    thw_struct_begin(t);
    thw_i32(t, 1, PQ_PAGE_DICTIONARY);
    thw_i32(t, 2, PQ_ENC_PLAIN);
    thw_i32(t, 3, ch->dict_pages);
    thw_struct_end(t);
  }
  thw_struct_begin(t);
  thw_i32(t, 1, w->opts.data_page_v2 ? PQ_PAGE_DATA_V2 : PQ_PAGE_DATA);
  thw_i32(t, 2, ch->page_encoding);
  thw_i32(t, 3, ch->data_pages);
  thw_struct_end(t);
  if (ch->bloom_offset >= 0) {
    thw_i64(t, 14, ch->bloom_offset);
    thw_i32(t, 15, ch->bloom_length);
  }
  thw_struct_end(t);
  if (ch->offset_index_length > 0) {
    thw_i64(t, 4, ch->offset_index_offset);
    thw_i32(t, 5, ch->offset_index_length);
  }
  if (ch->column_index_length > 0) {
    thw_i64(t, 6, ch->column_index_offset);
    thw_i32(t, 7, ch->column_index_length);
  }
  thw_struct_end(t);
}

static int write_page_indexes(tarn_parquet_writer *w, tarn_error *err) {
  tarn_buf b = {0};
  int rc = 0;
  for (int pass = 0; pass < 2 && rc == 0; pass++) {
    for (int g = 0; g < w->n_groups && rc == 0; g++) {
      for (int c = 0; c < w->n_leaves && rc == 0; c++) {
        wchunk *ch = &w->groups[g].chunks[c];
        const wleaf *l = &w->leaves[c];
        if (ch->n_pages == 0) continue;
        b.len = 0;
        thw t;
        thw_init(&t, &b, err);
        thw_struct_begin(&t);
        if (pass == 0) {
          if (l->sort == S_NONE || w->opts.no_statistics) continue;
          thw_field_list(&t, 1, TH_TRUE, (uint32_t)ch->n_pages);
          for (int i = 0; i < ch->n_pages; i++)
            thw_elem_bool(&t, ch->page_null[i]);
          thw_field_list(&t, 2, TH_BINARY, (uint32_t)ch->n_pages);
          for (int i = 0; i < ch->n_pages; i++)
            thw_elem_binary(&t, ch->page_min[i].data, ch->page_min[i].len);
          thw_field_list(&t, 3, TH_BINARY, (uint32_t)ch->n_pages);
          for (int i = 0; i < ch->n_pages; i++)
            thw_elem_binary(&t, ch->page_max[i].data, ch->page_max[i].len);
          thw_i32(&t, 4, 0); /* UNORDERED: always true, and cheap */
          thw_field_list(&t, 5, TH_I64, (uint32_t)ch->n_pages);
          for (int i = 0; i < ch->n_pages; i++)
            thw_elem_i64(&t, ch->page_nulls[i]);
        } else {
          thw_field_list(&t, 1, TH_STRUCT, (uint32_t)ch->n_pages);
          for (int i = 0; i < ch->n_pages; i++) {
            thw_struct_begin(&t);
            thw_i64(&t, 1, ch->page_offset[i]);
            thw_i32(&t, 2, ch->page_size[i]);
            thw_i64(&t, 3, ch->page_first_row[i]);
            thw_struct_end(&t);
          }
        }
        thw_struct_end(&t);
        if ((rc = t.rc)) break;
        if (pass == 0) {
          ch->column_index_offset = w->file_pos;
          ch->column_index_length = (int32_t)b.len;
        } else {
          ch->offset_index_offset = w->file_pos;
          ch->offset_index_length = (int32_t)b.len;
        }
        rc = emit(w, b.data, b.len, err);
      }
    }
  }
  tarn_buf_free(&b);
  return rc;
}

static int write_footer(tarn_parquet_writer *w, tarn_error *err) {
  tarn_buf b = {0};
  thw t;
  thw_init(&t, &b, err);
  thw_struct_begin(&t);
  thw_i32(&t, 1, w->opts.data_page_v2 ? 2 : 1);
  thw_field_list(&t, 2, TH_STRUCT, (uint32_t)w->n_elements);
  for (int i = 0; i < w->n_elements; i++) {
    const pq_schema_element *e = &w->elements[i];
    thw_struct_begin(&t);
    if (e->has_type) thw_i32(&t, 1, e->type);
    if (e->has_type && e->type == PQ_FIXED_LEN_BYTE_ARRAY) thw_i32(&t, 2, e->type_length);
    if (e->has_repetition) thw_i32(&t, 3, e->repetition);
    thw_string(&t, 4, e->name);
    if (!e->has_type) thw_i32(&t, 5, e->num_children);
    if (e->converted_type != PQ_CT_NONE) thw_i32(&t, 6, e->converted_type);
    if (e->converted_type == PQ_CT_DECIMAL) {
      thw_i32(&t, 7, e->scale);
      thw_i32(&t, 8, e->precision);
    }
    if (e->logical.kind != PQ_LT_NONE) write_logical(&t, &e->logical);
    thw_struct_end(&t);
  }
  thw_i64(&t, 3, w->total_rows);
  thw_field_list(&t, 4, TH_STRUCT, (uint32_t)w->n_groups);
  for (int g = 0; g < w->n_groups; g++) {
    const wgroup *rg = &w->groups[g];
    thw_struct_begin(&t);
    thw_field_list(&t, 1, TH_STRUCT, (uint32_t)w->n_leaves);
    for (int c = 0; c < w->n_leaves; c++)
      write_column_chunk(&t, w, &w->leaves[c], &rg->chunks[c]);
    thw_i64(&t, 2, rg->total_byte_size);
    thw_i64(&t, 3, rg->num_rows);
    if (w->opts.n_sorting_columns) {
      thw_field_list(&t, 4, TH_STRUCT, (uint32_t)w->opts.n_sorting_columns);
      for (size_t i = 0; i < w->opts.n_sorting_columns; i++) {
        thw_struct_begin(&t);
        thw_i32(&t, 1, w->opts.sorting_columns[i]);
        thw_bool(&t, 2, w->opts.sorting_descending ? w->opts.sorting_descending[i] : 0);
        thw_bool(&t, 3, 0);
        thw_struct_end(&t);
      }
    }
    thw_i64(&t, 5, rg->file_offset);
    thw_i64(&t, 6, rg->total_compressed);
    thw_i16(&t, 7, (int16_t)(g < INT16_MAX ? g : INT16_MAX));
    thw_struct_end(&t);
  }
  if (w->n_kv) {
    thw_field_list(&t, 5, TH_STRUCT, (uint32_t)w->n_kv);
    for (size_t i = 0; i < w->n_kv; i++) {
      thw_struct_begin(&t);
      thw_string(&t, 1, w->kv_keys[i]);
      thw_string(&t, 2, w->kv_values[i]);
      thw_struct_end(&t);
    }
  }
  thw_string(&t, 6, "tarn version 0.1.0");
  thw_field_list(&t, 7, TH_STRUCT, (uint32_t)w->n_leaves);
  for (int c = 0; c < w->n_leaves; c++) {
    thw_struct_begin(&t);
    thw_field_struct(&t, 1); /* TYPE_ORDER */
    thw_struct_end(&t);
    thw_struct_end(&t);
  }
  thw_struct_end(&t);
  int rc = t.rc;
  if (rc == 0) rc = emit(w, b.data, b.len, err);
  uint32_t len = (uint32_t)b.len;
  uint8_t tail[8];
  memcpy(tail, &len, 4);
  memcpy(tail + 4, "PAR1", 4);
  if (rc == 0) rc = emit(w, tail, 8, err);
  tarn_buf_free(&b);
  return rc;
}

/* ---- The public API ---- */

static void free_writer(tarn_parquet_writer *w) {
  if (w == NULL) return;
  if (w->fd >= 0) close(w->fd);
  for (int i = 0; i < w->n_leaves; i++) {
    wleaf *l = &w->leaves[i];
    tarn_buf_free(&l->def);
    tarn_buf_free(&l->rep);
    tarn_buf_free(&l->values);
    tarn_buf_free(&l->offsets);
    tarn_buf_free(&l->min);
    tarn_buf_free(&l->max);
  }
  for (int g = 0; g < w->n_groups; g++) {
    for (int c = 0; c < w->n_leaves; c++) {
      wchunk *ch = &w->groups[g].chunks[c];
      tarn_buf_free(&ch->min);
      tarn_buf_free(&ch->max);
      for (int i = 0; i < ch->n_pages; i++) {
        tarn_buf_free(&ch->page_min[i]);
        tarn_buf_free(&ch->page_max[i]);
      }
      free(ch->page_offset);
      free(ch->page_first_row);
      free(ch->page_size);
      free(ch->page_null);
      free(ch->page_nulls);
      free(ch->page_min);
      free(ch->page_max);
    }
    free(w->groups[g].chunks);
  }
  for (size_t i = 0; i < w->n_kv; i++) {
    free(w->kv_keys[i]);
    free(w->kv_values[i]);
  }
  free(w->kv_keys);
  free(w->kv_values);
  free(w->groups);
  free(w->leaves);
  free(w->elements);
  tarn_buf_free(&w->out);
  tarn_buf_free(&w->page);
  tarn_buf_free(&w->compressed);
  tarn_buf_free(&w->levels);
  tarn_buf_free(&w->scratch);
  tarn_buf_free(&w->indices);
  free(w->path);
  free(w->tmp_path);
  tarn_arena_free(&w->arena);
  free(w);
}

void tarn_parquet_writer_abort(tarn_parquet_writer *w) {
  if (w == NULL) return;
  if (w->tmp_path) unlink(w->tmp_path);
  free_writer(w);
}

static int parse_encoding(const char *name) {
  static const struct {
    const char *name;
    int value;
  } names[] = {{"PLAIN", PQ_ENC_PLAIN},
               {"RLE", PQ_ENC_RLE},
               {"DELTA_BINARY_PACKED", PQ_ENC_DELTA_BINARY_PACKED},
               {"DELTA_LENGTH_BYTE_ARRAY", PQ_ENC_DELTA_LENGTH_BYTE_ARRAY},
               {"DELTA_BYTE_ARRAY", PQ_ENC_DELTA_BYTE_ARRAY},
               {"BYTE_STREAM_SPLIT", PQ_ENC_BYTE_STREAM_SPLIT}};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcasecmp(name, names[i].name) == 0) return names[i].value;
  return -1;
}

static bool encoding_fits(int enc, const wleaf *l) {
  switch (enc) {
  case PQ_ENC_PLAIN: return true;
  case PQ_ENC_RLE: return l->physical == PQ_BOOLEAN;
  case PQ_ENC_DELTA_BINARY_PACKED: return l->physical == PQ_INT32 || l->physical == PQ_INT64;
  case PQ_ENC_DELTA_LENGTH_BYTE_ARRAY: return l->physical == PQ_BYTE_ARRAY;
  case PQ_ENC_DELTA_BYTE_ARRAY:
    return l->physical == PQ_BYTE_ARRAY || l->physical == PQ_FIXED_LEN_BYTE_ARRAY;
  case PQ_ENC_BYTE_STREAM_SPLIT:
    return l->physical == PQ_FLOAT || l->physical == PQ_DOUBLE || l->physical == PQ_INT32 ||
           l->physical == PQ_INT64 || l->physical == PQ_FIXED_LEN_BYTE_ARRAY;
  default: return false;
  }
}

/* Whether a user's column name names leaf l: its path, or a top-level name above it. */
static bool names_leaf(const char *name, const wleaf *l) {
  size_t n = strlen(name);
  return strncmp(l->path, name, n) == 0 && (l->path[n] == '\0' || l->path[n] == '.');
}

static int apply_column_options(tarn_parquet_writer *w, tarn_error *err) {
  const tarn_write_options *o = &w->opts;
  for (size_t i = 0; i < o->n_bloom_columns; i++) {
    bool found = false;
    for (int c = 0; c < w->n_leaves; c++)
      if (names_leaf(o->bloom_columns[i], &w->leaves[c])) {
        if (w->leaves[c].physical == PQ_BOOLEAN || w->leaves[c].conv == WC_NULL) continue;
        w->leaves[c].bloom = found = true;
      }
    if (!found)
      return tarn_err(err, TARN_EINVAL, "bloom filter: no column '%s' that a filter can cover",
                      o->bloom_columns[i]);
  }
  for (size_t i = 0; i < o->n_column_encodings; i++) {
    const char *spec = o->column_encodings[i];
    const char *eq = strchr(spec, '=');
    if (eq == NULL || eq == spec)
      return tarn_err(err, TARN_EINVAL, "column encoding '%s' is not column=ENCODING", spec);
    int enc = parse_encoding(eq + 1);
    if (enc < 0) return tarn_err(err, TARN_EINVAL, "unknown encoding '%s'", eq + 1);
    char name[512];
    snprintf(name, sizeof name, "%.*s", (int)(eq - spec), spec);
    bool found = false;
    for (int c = 0; c < w->n_leaves; c++) {
      if (!names_leaf(name, &w->leaves[c])) continue;
      if (!encoding_fits(enc, &w->leaves[c]))
        return tarn_err(err, TARN_EINVAL, "column %s: %s does not apply to its type",
                        w->leaves[c].path, eq + 1);
      w->leaves[c].encoding = enc;
      found = true;
    }
    if (!found) return tarn_err(err, TARN_EINVAL, "column encoding: no column '%s'", name);
  }
  for (size_t i = 0; i < o->n_sorting_columns; i++)
    if (o->sorting_columns[i] < 0 || o->sorting_columns[i] >= w->n_leaves)
      return tarn_err(err, TARN_EINVAL, "sorting column %d does not exist", o->sorting_columns[i]);
  return 0;
}

int tarn_parquet_writer_open(const char *path, const struct ArrowSchema *schema,
                             const tarn_write_options *opts, tarn_parquet_writer **out,
                             tarn_error *err) {
  *out = NULL;
  if (schema == NULL || strcmp(schema->format, "+s") != 0)
    return tarn_err(err, TARN_EINVAL, "%s: the writer needs a struct schema", path);
  tarn_parquet_writer *w = calloc(1, sizeof *w);
  if (w == NULL) return nomem(err);
  w->fd = -1;
  if (opts) w->opts = *opts;
  w->codec = w->opts.codec_set || w->opts.codec ? w->opts.codec : PQ_CODEC_ZSTD;
  w->level = w->opts.compression_level;
  w->row_group_rows = w->opts.row_group_rows > 0 ? w->opts.row_group_rows : DEFAULT_ROW_GROUP_ROWS;
  w->page_bytes = w->opts.page_bytes > 0 ? w->opts.page_bytes : DEFAULT_PAGE_BYTES;
  w->dict_bytes = w->opts.dictionary_bytes > 0 ? w->opts.dictionary_bytes : DEFAULT_DICT_BYTES;
  int rc = 0;
  if (w->codec != PQ_CODEC_UNCOMPRESSED && w->codec != PQ_CODEC_SNAPPY &&
      w->codec != PQ_CODEC_GZIP && w->codec != PQ_CODEC_BROTLI && w->codec != PQ_CODEC_ZSTD &&
      w->codec != PQ_CODEC_LZ4_RAW)
    rc = tarn_err(err, TARN_EINVAL, "%s: codec %d cannot be written", path, w->codec);
  /* The schema root, then every column. */
  pq_schema_element *root = rc ? NULL : new_element(w, err);
  if (rc == 0 && root == NULL) rc = nomem(err);
  if (rc == 0) {
    root->name = "schema";
    root->num_children = (int32_t)schema->n_children;
    w->root = tarn_arena_calloc(&w->arena, 1, sizeof(wnode));
    if (w->root == NULL) rc = nomem(err);
  }
  if (rc == 0) {
    w->root->kind = W_STRUCT;
    w->root->n_children = (int)schema->n_children;
    w->root->children = tarn_arena_calloc(
        &w->arena, (size_t)(schema->n_children ? schema->n_children : 1), sizeof(wnode *));
    if (w->root->children == NULL) rc = nomem(err);
  }
  for (int64_t i = 0; rc == 0 && i < schema->n_children; i++)
    rc = build_node(w, schema->children[i], 0, 0, false, "", &w->root->children[i], err);
  for (int i = 0; rc == 0 && i < w->n_leaves; i++) {
    w->leaves[i].encoding = PQ_ENC_PLAIN;
    reset_leaf(&w->leaves[i]);
  }
  if (rc == 0) rc = apply_column_options(w, err);
  if (rc == 0 && w->opts.n_metadata) {
    w->kv_keys = calloc(w->opts.n_metadata, sizeof(char *));
    w->kv_values = calloc(w->opts.n_metadata, sizeof(char *));
    if (!w->kv_keys || !w->kv_values) rc = nomem(err);
    for (size_t i = 0; rc == 0 && i < w->opts.n_metadata; i++) {
      w->kv_keys[i] = strdup(w->opts.metadata_keys[i]);
      w->kv_values[i] = strdup(w->opts.metadata_values[i]);
      w->n_kv++;
      if (!w->kv_keys[i] || !w->kv_values[i]) rc = nomem(err);
    }
  }
  /* The options' borrowed arrays are not kept beyond this call. */
  w->opts.bloom_columns = NULL;
  w->opts.column_encodings = NULL;
  w->opts.metadata_keys = w->opts.metadata_values = NULL;
  int *sort_cols = NULL, *sort_desc = NULL;
  if (rc == 0 && w->opts.n_sorting_columns) {
    sort_cols = tarn_arena_calloc(&w->arena, w->opts.n_sorting_columns, sizeof(int));
    sort_desc = tarn_arena_calloc(&w->arena, w->opts.n_sorting_columns, sizeof(int));
    if (!sort_cols || !sort_desc) rc = nomem(err);
    for (size_t i = 0; rc == 0 && i < w->opts.n_sorting_columns; i++) {
      sort_cols[i] = opts->sorting_columns[i];
      sort_desc[i] = opts->sorting_descending ? opts->sorting_descending[i] : 0;
    }
    w->opts.sorting_columns = sort_cols;
    w->opts.sorting_descending = sort_desc;
  }
  if (rc == 0) {
    w->path = strdup(path);
    size_t n = strlen(path) + 16;
    w->tmp_path = malloc(n);
    if (!w->path || !w->tmp_path)
      rc = nomem(err);
    else {
      snprintf(w->tmp_path, n, "%s.tmp.XXXXXX", path);
      w->fd = mkstemp(w->tmp_path);
      if (w->fd < 0) {
        rc = tarn_err(err, TARN_EIO, "%s: cannot create a temporary file: %s", path,
                      strerror(errno));
        free(w->tmp_path);
        w->tmp_path = NULL;
      } else {
        fchmod(w->fd, 0644);
      }
    }
  }
  if (rc == 0) rc = emit(w, "PAR1", 4, err);
  if (rc) {
    tarn_parquet_writer_abort(w);
    return rc;
  }
  *out = w;
  return 0;
}

int tarn_parquet_writer_write(tarn_parquet_writer *w, const struct ArrowArray *batch,
                              tarn_error *err) {
  if (w->failed) return tarn_err(err, TARN_EINVAL, "%s: the writer failed earlier", w->path);
  if (batch->n_children != w->root->n_children)
    return tarn_err(err, TARN_EINVAL, "%s: a batch with %lld columns for a schema of %d", w->path,
                    (long long)batch->n_children, w->root->n_children);
  int64_t done = 0;
  int rc = 0;
  while (rc == 0 && done < batch->length) {
    int64_t room = w->row_group_rows - w->rows_buffered;
    int64_t n = batch->length - done < room ? batch->length - done : room;
    for (int c = 0; rc == 0 && c < w->root->n_children; c++) {
      const wnode *node = w->root->children[c];
      const struct ArrowArray *col = batch->children[c];
      if (node->kind == W_LEAF && done == 0 && n == batch->length && batch->offset == 0) {
        rc = shred_flat(&w->leaves[node->leaf_index], col, err);
        continue;
      }
      for (int64_t i = done; rc == 0 && i < done + n; i++)
        rc = shred(w, node, col, i + batch->offset, 0, 0, err);
    }
    if (rc) break;
    w->rows_buffered += n;
    done += n;
    if (w->rows_buffered >= w->row_group_rows) rc = flush_row_group(w, err);
  }
  if (rc) w->failed = true;
  return rc;
}

void tarn_written_file_free(tarn_written_file *s) {
  if (s == NULL) return;
  for (int i = 0; i < s->num_columns; i++) {
    free(s->columns[i].path);
    free(s->columns[i].min);
    free(s->columns[i].max);
  }
  free(s->columns);
  memset(s, 0, sizeof *s);
}

static int fill_stats(tarn_parquet_writer *w, tarn_written_file *s, tarn_error *err) {
  memset(s, 0, sizeof *s);
  s->num_rows = w->total_rows;
  s->file_bytes = w->file_pos;
  s->num_row_groups = w->n_groups;
  s->columns = calloc((size_t)(w->n_leaves ? w->n_leaves : 1), sizeof *s->columns);
  if (s->columns == NULL) return nomem(err);
  s->num_columns = w->n_leaves;
  for (int i = 0; i < w->n_leaves; i++) {
    const wleaf *l = &w->leaves[i];
    tarn_written_column *c = &s->columns[i];
    c->path = strdup(l->path);
    c->num_values = l->total_values;
    c->null_count = l->total_nulls;
    c->compressed_bytes = l->total_compressed;
    c->uncompressed_bytes = l->total_uncompressed;
    if (l->has_min_max) {
      c->has_min_max = 1;
      c->min = malloc(l->min.len ? l->min.len : 1);
      c->max = malloc(l->max.len ? l->max.len : 1);
      if (c->min && l->min.len) memcpy(c->min, l->min.data, l->min.len);
      if (c->max && l->max.len) memcpy(c->max, l->max.data, l->max.len);
      c->min_len = l->min.len;
      c->max_len = l->max.len;
      if (!c->min || !c->max) return nomem(err);
    }
    if (c->path == NULL) return nomem(err);
  }
  return 0;
}

int tarn_parquet_writer_close(tarn_parquet_writer *w, tarn_written_file *stats, tarn_error *err) {
  int rc = w->failed ? tarn_err(err, TARN_EINVAL, "%s: the writer failed earlier", w->path) : 0;
  if (rc == 0) rc = flush_row_group(w, err);
  if (rc == 0 && !w->opts.no_page_index) rc = write_page_indexes(w, err);
  if (rc == 0) rc = write_footer(w, err);
  if (rc == 0) rc = flush_out(w, err);
  if (rc == 0 && fsync(w->fd) != 0)
    rc = tarn_err(err, TARN_EIO, "%s: fsync failed: %s", w->tmp_path, strerror(errno));
  if (rc == 0 && close(w->fd) != 0)
    rc = tarn_err(err, TARN_EIO, "%s: close failed: %s", w->tmp_path, strerror(errno));
  if (rc == 0) w->fd = -1;
  if (rc == 0 && rename(w->tmp_path, w->path) != 0)
    rc = tarn_err(err, TARN_EIO, "%s: cannot rename into place: %s", w->path, strerror(errno));
  if (rc == 0) {
    /* Make the rename itself durable. */
    char *dir = strdup(w->path);
    if (dir) {
      char *slash = strrchr(dir, '/');
      const char *d = slash ? (slash == dir ? "/" : (*slash = '\0', dir)) : ".";
      int dfd = open(d, O_RDONLY | O_DIRECTORY);
      if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
      }
      free(dir);
    }
    if (stats) rc = fill_stats(w, stats, err);
    free(w->tmp_path);
    w->tmp_path = NULL;
    free_writer(w);
    return rc;
  }
  tarn_parquet_writer_abort(w);
  return rc;
}
