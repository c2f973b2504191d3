#include "parquet/assemble.h"

#include <stdlib.h>
#include <string.h>

#include "columnar/arrow.h"
#include "common/error.h"
#include "parquet/format.h"

/* Slot positions of a node in its first leaf's level stream; NULL positions mean "every entry"
 * (the column has no repetition, so entries and slots coincide). */
typedef struct slots {
  int32_t *pos;
  int64_t count;
} slots;

static int nomem(tarn_error *err) {
  return tarn_err(err, TARN_ENOMEM, "out of memory assembling records");
}

static inline int64_t slot_at(const slots *s, int64_t j) { return s->pos ? s->pos[j] : j; }

static int find_slots(const pq_column_data *d, const pq_node *leaf, int16_t slot_def, int16_t rep,
                      slots *out, tarn_error *err) {
  out->pos = NULL;
  out->count = d->n_levels;
  if (leaf->max_rep == 0) return 0;
  const int16_t *dl = (const int16_t *)(const void *)d->def.data;
  const int16_t *rl = (const int16_t *)(const void *)d->rep.data;
  out->pos = malloc(sizeof(int32_t) * (size_t)(d->n_levels ? d->n_levels : 1));
  if (out->pos == NULL) return nomem(err);
  int64_t c = 0;
  for (int64_t i = 0; i < d->n_levels; i++)
    if (rl[i] <= rep && dl[i] >= slot_def) out->pos[c++] = (int32_t)i;
  out->count = c;
  return 0;
}

/* Validity bitmap for the slots: bit set when def >= null_def. Returns NULL (all valid) when no
 * slot is null; *nulls gets the null count. */
static int make_validity(const pq_column_data *d, const pq_node *leaf, const slots *s,
                         int16_t null_def, uint8_t **bitmap, int64_t *nulls, tarn_error *err) {
  *bitmap = NULL;
  *nulls = 0;
  if (leaf->max_def == 0 || null_def == 0) return 0;
  const int16_t *dl = (const int16_t *)(const void *)d->def.data;
  int64_t n = s->count, nc = 0;
  for (int64_t j = 0; j < n; j++)
    nc += dl[slot_at(s, j)] < null_def;
  if (nc == 0) return 0;
  uint8_t *bm = calloc((size_t)(n + 7) / 8 + 1, 1);
  if (bm == NULL) return nomem(err);
  for (int64_t j = 0; j < n; j++)
    if (dl[slot_at(s, j)] >= null_def) bm[j >> 3] |= (uint8_t)(1u << (j & 7));
  *bitmap = bm;
  *nulls = nc;
  return 0;
}

static inline bool bit(const uint8_t *bm, int64_t j) {
  return bm == NULL || (bm[j >> 3] >> (j & 7)) & 1;
}

/* Sign-extends a big-endian two's complement integer of len bytes into width little-endian
 * bytes. Fails when the value does not fit. */
static int be_to_le(const uint8_t *src, size_t len, uint8_t *dst, size_t width) {
  uint8_t fill = (len > 0 && (src[0] & 0x80)) ? 0xff : 0x00;
  if (len > width) {
    for (size_t k = 0; k < len - width; k++)
      if (src[k] != fill) return -1;
    src += len - width;
    len = width;
  }
  for (size_t k = 0; k < len; k++)
    dst[k] = src[len - 1 - k];
  memset(dst + len, fill, width - len);
  return 0;
}

static int build_leaf(const pq_node *n, pq_column_data *d, const slots *s, struct ArrowArray *out,
                      tarn_error *err) {
  int64_t m = s->count;
  uint8_t *validity = NULL;
  int64_t nulls = 0;
  int rc;
  if (n->conversion == PQ_CONV_NULL) {
    if ((rc = col_array_init(out, 0, 0, err))) return rc;
    out->length = m;
    out->null_count = m;
    return 0;
  }
  if ((rc = make_validity(d, n, s, n->null_def, &validity, &nulls, err))) return rc;
  if (m - nulls != d->n_values) {
    free(validity);
    return tarn_err(err, TARN_ECORRUPT, "column %s: %lld values for %lld non-null slots", n->path,
                    (long long)d->n_values, (long long)(m - nulls));
  }
  const uint8_t *src = d->values.data;
  if (n->conversion == PQ_CONV_BINARY) {
    if ((rc = col_array_init(out, 3, 0, err))) {
      free(validity);
      return rc;
    }
    int32_t *offs = malloc(sizeof(int32_t) * (size_t)(m + 1));
    if (offs == NULL) {
      free(validity);
      out->release(out);
      return nomem(err);
    }
    const int32_t *dense = (const int32_t *)(const void *)d->offsets.data;
    int64_t k = 0;
    offs[0] = 0;
    for (int64_t j = 0; j < m; j++) {
      if (bit(validity, j)) k++;
      offs[j + 1] = dense[k];
    }
    out->buffers[0] = validity;
    out->buffers[1] = offs;
    uint8_t *bytes = tarn_buf_steal(&d->values);
    if (bytes == NULL) bytes = malloc(1);
    out->buffers[2] = bytes;
    out->length = m;
    out->null_count = nulls;
    return 0;
  }
  if ((rc = col_array_init(out, 2, 0, err))) {
    free(validity);
    return rc;
  }
  out->buffers[0] = validity;
  out->length = m;
  out->null_count = nulls;
  if (n->conversion == PQ_CONV_BOOL) {
    uint8_t *bm = calloc((size_t)(m + 7) / 8 + 1, 1);
    if (bm == NULL) goto oom;
    int64_t k = 0;
    for (int64_t j = 0; j < m; j++)
      if (bit(validity, j) && src[k++]) bm[j >> 3] |= (uint8_t)(1u << (j & 7));
    out->buffers[1] = bm;
    return 0;
  }
  size_t w = (size_t)n->arrow_width;
  /* The values already have their Arrow form and there are no nulls: hand the buffer over. */
  if (n->conversion == PQ_CONV_COPY && validity == NULL) {
    uint8_t *vals = tarn_buf_steal(&d->values);
    out->buffers[1] = vals ? vals : calloc(1, 8);
    if (out->buffers[1] == NULL) goto oom;
    return 0;
  }
  uint8_t *dst = malloc((size_t)m * w + 1);
  if (dst == NULL) goto oom;
  out->buffers[1] = dst;
  int64_t k = 0;
  if (n->conversion == PQ_CONV_COPY && (w == 4 || w == 8)) {
    /* The common case (nullable numbers, dates, timestamps): spread dense values over the slots
     * with a loop the compiler can keep tight. Null slots get zeros. */
    if (w == 4) {
      uint32_t *o = (uint32_t *)(void *)dst;
      for (int64_t j = 0; j < m; j++) {
        uint32_t v = 0;
        if (bit(validity, j)) memcpy(&v, src + (size_t)k++ * 4, 4);
        o[j] = v;
      }
    } else {
      uint64_t *o = (uint64_t *)(void *)dst;
      for (int64_t j = 0; j < m; j++) {
        uint64_t v = 0;
        if (bit(validity, j)) memcpy(&v, src + (size_t)k++ * 8, 8);
        o[j] = v;
      }
    }
    return 0;
  }
  memset(dst, 0, (size_t)m * w + 1);
  const int32_t *boffs = (const int32_t *)(const void *)d->offsets.data;
  for (int64_t j = 0; j < m; j++) {
    if (!bit(validity, j)) continue;
    uint8_t *o = dst + (size_t)j * w;
    switch (n->conversion) {
    case PQ_CONV_COPY:
    case PQ_CONV_FIXED: memcpy(o, src + (size_t)k * w, w); break;
    case PQ_CONV_NARROW8: {
      int32_t v;
      memcpy(&v, src + (size_t)k * 4, 4);
      *o = (uint8_t)v;
      break;
    }
    case PQ_CONV_NARROW16: {
      int32_t v;
      memcpy(&v, src + (size_t)k * 4, 4);
      uint16_t v16 = (uint16_t)v;
      memcpy(o, &v16, 2);
      break;
    }
    case PQ_CONV_INT96: {
      /* Signed fields and wrapping arithmetic, as Spark computes them: Spark's writer overflows
       * for years past 292277 and its reader wraps back, so this reproduces what Spark reads. */
      int64_t nanos;
      int32_t day;
      memcpy(&nanos, src + (size_t)k * 12, 8);
      memcpy(&day, src + (size_t)k * 12 + 8, 4);
      uint64_t us = (uint64_t)((int64_t)day - 2440588) * 86400000000ULL + (uint64_t)(nanos / 1000);
      memcpy(o, &us, 8);
      break;
    }
    case PQ_CONV_DECIMAL_INT32: {
      int32_t v;
      memcpy(&v, src + (size_t)k * 4, 4);
      int64_t v64 = v;
      memcpy(o, &v64, 8);
      memset(o + 8, v < 0 ? 0xff : 0, w - 8);
      break;
    }
    case PQ_CONV_DECIMAL_INT64: {
      int64_t v;
      memcpy(&v, src + (size_t)k * 8, 8);
      memcpy(o, &v, 8);
      memset(o + 8, v < 0 ? 0xff : 0, w - 8);
      break;
    }
    case PQ_CONV_DECIMAL_BYTES: {
      const uint8_t *p;
      size_t len;
      if (n->physical == PQ_BYTE_ARRAY) {
        int32_t a = boffs[k], b = boffs[k + 1];
        p = src + a;
        len = (size_t)(b - a);
      } else {
        p = src + (size_t)k * (size_t)n->type_length;
        len = (size_t)n->type_length;
      }
      if (be_to_le(p, len, o, w)) {
        out->release(out);
        return tarn_err(err, TARN_ECORRUPT, "column %s: decimal value wider than its precision",
                        n->path);
      }
      break;
    }
    case PQ_CONV_INTERVAL: {
      uint32_t months, days, millis;
      memcpy(&months, src + (size_t)k * 12, 4);
      memcpy(&days, src + (size_t)k * 12 + 4, 4);
      memcpy(&millis, src + (size_t)k * 12 + 8, 4);
      int64_t nanos = (int64_t)millis * 1000000;
      memcpy(o, &months, 4);
      memcpy(o + 4, &days, 4);
      memcpy(o + 8, &nanos, 8);
      break;
    }
    default: break;
    }
    k++;
  }
  return 0;
oom:
  out->release(out);
  return nomem(err);
}

static int build(const pq_node *n, pq_column_data *leaf_data, int64_t expected,
                 struct ArrowArray *out, tarn_error *err);

/* Offsets of a list-like node: for each slot, the items (deeper slots) inside it. */
static int list_offsets(const pq_node *n, const pq_column_data *d, const pq_node *leaf,
                        const slots *s, int32_t **offsets, int64_t *n_items, tarn_error *err) {
  slots items;
  int rc = find_slots(d, leaf, n->item_def, (int16_t)(n->rep_level + 1), &items, err);
  if (rc) return rc;
  int32_t *offs = malloc(sizeof(int32_t) * (size_t)(s->count + 1));
  if (offs == NULL) {
    free(items.pos);
    return nomem(err);
  }
  int64_t k = 0;
  offs[0] = 0;
  for (int64_t j = 0; j < s->count; j++) {
    int64_t end = j + 1 < s->count ? slot_at(s, j + 1) : d->n_levels;
    while (k < items.count && slot_at(&items, k) < end)
      k++;
    offs[j + 1] = (int32_t)k;
  }
  free(items.pos);
  if (k != items.count) {
    free(offs);
    return tarn_err(err, TARN_ECORRUPT, "column %s: list items outside any list", leaf->path);
  }
  *offsets = offs;
  *n_items = items.count;
  return 0;
}

static int build(const pq_node *n, pq_column_data *leaf_data, int64_t expected,
                 struct ArrowArray *out, tarn_error *err) {
  int rc;
  if (n->n_leaves == 0) {
    /* A struct without fields: only its length matters. */
    if ((rc = col_array_init(out, 1, 0, err))) return rc;
    out->length = expected;
    return 0;
  }
  pq_node *leaf_node = NULL;
  const pq_node *p = n;
  while (p->kind != PQ_NODE_LEAF) {
    int i = 0;
    while (p->children[i]->n_leaves == 0)
      i++;
    p = p->children[i];
  }
  leaf_node = (pq_node *)p;
  pq_column_data *d = &leaf_data[leaf_node->leaf_index];
  slots s;
  if ((rc = find_slots(d, leaf_node, n->slot_def, n->rep_level, &s, err))) return rc;
  if (s.count != expected) {
    free(s.pos);
    return tarn_err(err, TARN_ECORRUPT,
                    "column %s: %lld entries where the rest of the record has %lld",
                    leaf_node->path, (long long)s.count, (long long)expected);
  }
  if (n->kind == PQ_NODE_LEAF) {
    rc = build_leaf(n, d, &s, out, err);
    free(s.pos);
    return rc;
  }
  uint8_t *validity = NULL;
  int64_t nulls = 0;
  if (n->nullable && (rc = make_validity(d, leaf_node, &s, n->null_def, &validity, &nulls, err))) {
    free(s.pos);
    return rc;
  }
  if (n->kind == PQ_NODE_STRUCT) {
    free(s.pos);
    if ((rc = col_array_init(out, 1, n->n_children, err))) {
      free(validity);
      return rc;
    }
    out->buffers[0] = validity;
    out->length = expected;
    out->null_count = nulls;
    for (int i = 0; i < n->n_children; i++)
      if ((rc = build(n->children[i], leaf_data, expected, out->children[i], err))) break;
    if (rc) out->release(out);
    return rc;
  }
  /* List or map. */
  int32_t *offs = NULL;
  int64_t n_items = 0;
  rc = list_offsets(n, d, leaf_node, &s, &offs, &n_items, err);
  free(s.pos);
  if (rc) {
    free(validity);
    return rc;
  }
  if ((rc = col_array_init(out, 2, 1, err))) {
    free(validity);
    free(offs);
    return rc;
  }
  out->buffers[0] = validity;
  out->buffers[1] = offs;
  out->length = expected;
  out->null_count = nulls;
  if (n->kind == PQ_NODE_LIST) {
    rc = build(n->children[0], leaf_data, n_items, out->children[0], err);
  } else {
    struct ArrowArray *entries = out->children[0];
    if ((rc = col_array_init(entries, 1, 2, err)) == 0) {
      entries->length = n_items;
      for (int i = 0; i < 2 && rc == 0; i++)
        rc = build(n->children[i], leaf_data, n_items, entries->children[i], err);
      if (rc == 0 && entries->children[0]->null_count != 0)
        rc = tarn_err(err, TARN_ECORRUPT, "column %s: a map key is null", leaf_node->path);
    }
  }
  if (rc) out->release(out);
  return rc;
}

int pq_assemble(const pq_node *node, pq_column_data *leaf_data, int64_t n_records,
                struct ArrowArray *out, tarn_error *err) {
  return build(node, leaf_data, n_records, out, err);
}
