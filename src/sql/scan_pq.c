#include "sql/scan_pq.h"

#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/error.h"
#include "parquet/column.h"
#include "parquet/format.h"
#include "parquet/reader.h"
#include "sql/expr_impl.h"

/* How a column's decoded physical values become its vector's values. */
typedef enum direct_kind {
  DK_INT32,     /* INT32 (8/16/32-bit, signed or not) -> int64 */
  DK_INT64,     /* INT64 -> int64 */
  DK_DATE32,    /* days -> int64 days */
  DK_TIME_MS,   /* INT32 milliseconds -> microseconds */
  DK_TIME_NS,   /* INT64 nanoseconds -> microseconds (floor) */
  DK_TS_MS,     /* INT64 milliseconds -> microseconds (range-checked) */
  DK_TS_NS,     /* INT64 nanoseconds -> microseconds (floor) */
  DK_INT96,     /* Julian day + nanoseconds -> microseconds */
  DK_FLOAT,     /* FLOAT -> double */
  DK_DOUBLE,    /* DOUBLE -> double */
  DK_BOOL,      /* one byte per value -> uint8 */
  DK_DEC32,     /* INT32 unscaled decimal -> int128, rescaled */
  DK_DEC64,     /* INT64 unscaled decimal -> int128, rescaled */
  DK_DEC_FIXED, /* big-endian FIXED_LEN_BYTE_ARRAY (<= 16 bytes) -> int128, rescaled */
  DK_STRING,    /* BYTE_ARRAY -> string views */
  DK_FIXED      /* FIXED_LEN_BYTE_ARRAY -> string views of type_length bytes */
} direct_kind;

typedef struct group_col {
  const pq_node *node;
  const sql_type *type;
  direct_kind kind;
  int int_bits;      /* DK_INT32: 8, 16 or 32 value bits */
  bool int_unsigned; /* DK_INT32: zero-extend */
  sql_i128 dec_mul;  /* decimals: 10^(target scale - file scale) */
  pq_column_reader *r;
  pq_column_data d;
  int64_t pos;      /* file-wide row the reader gives next */
  bool index_tried; /* the offset index was looked for */
  /* Strings: a copy of the chunk's dictionary that batches of dictionary indices point into
   * (made on first use; batches keep the region alive). */
  sql_mem *dict_mem;
  const char *dict_bytes;
} group_col;

struct sql_pq_group {
  tarn_parquet_file *f;
  int rg;
  int64_t end;         /* file-wide row after the row group */
  int64_t batch_first; /* current batch */
  uint32_t batch_n;
  tarn_row_range *ranges; /* NULL: every row */
  size_t n_ranges, range_pos;
  size_t n_cols;
  group_col *cols;
  pq_column_data scratch;       /* rows decoded and dropped while skipping */
  tarn_arena index_arena;       /* offset indexes */
  uint32_t idx[SQL_BATCH_ROWS]; /* value index of each output row */
  uint32_t where[SQL_BATCH_ROWS + 1];
};

/* --- Which columns qualify -------------------------------------------------------------------- */

static bool is_int_target(const sql_type *t, int bits_needed) {
  switch (t->id) {
  case SQL_INT2: return bits_needed <= 16;
  case SQL_INT4: return bits_needed <= 32;
  case SQL_INT8: return bits_needed <= 64;
  default: return false;
  }
}

/* Fills c's conversion for node read as t; false when the fast path does not apply. */
static bool classify(const pq_node *n, const sql_type *t, group_col *c) {
  memset(c, 0, sizeof *c);
  c->node = n;
  c->type = t;
  if (n->kind != PQ_NODE_LEAF || n->max_rep != 0 || n->max_def > 1 || n->n_leaves != 1)
    return false;
  const char *f = n->arrow_format;
  int id = t->id;
  switch (n->conversion) {
  case PQ_CONV_BOOL: c->kind = DK_BOOL; return id == SQL_BOOL;
  case PQ_CONV_NARROW8:
  case PQ_CONV_NARROW16:
  case PQ_CONV_COPY:
    if (n->physical == PQ_INT32) {
      if (strcmp(f, "tdD") == 0) {
        c->kind = DK_DATE32;
        return id == SQL_DATE;
      }
      if (strcmp(f, "ttm") == 0) {
        c->kind = DK_TIME_MS;
        return id == SQL_TIME;
      }
      c->kind = DK_INT32;
      c->int_unsigned = f[0] == 'C' || f[0] == 'S' || f[0] == 'I';
      c->int_bits = n->conversion == PQ_CONV_NARROW8    ? 8
                    : n->conversion == PQ_CONV_NARROW16 ? 16
                                                        : 32;
      if (f[1] != '\0' || strchr("cCsSiI", f[0]) == NULL) return false;
      return is_int_target(t, c->int_bits + (c->int_unsigned ? 1 : 0));
    }
    if (n->physical == PQ_INT64) {
      if (strcmp(f, "l") == 0) {
        c->kind = DK_INT64;
        return id == SQL_INT8;
      }
      if (strcmp(f, "ttu") == 0 || strcmp(f, "ttn") == 0) {
        c->kind = f[2] == 'u' ? DK_INT64 : DK_TIME_NS;
        return id == SQL_TIME;
      }
      if (strncmp(f, "ts", 2) == 0 && strchr("umn", f[2]) && f[2] != '\0' && f[3] == ':') {
        c->kind = f[2] == 'u' ? DK_INT64 : f[2] == 'm' ? DK_TS_MS : DK_TS_NS;
        return id == SQL_TIMESTAMP || id == SQL_TIMESTAMPTZ;
      }
      return false;
    }
    if (n->physical == PQ_FLOAT) {
      c->kind = DK_FLOAT;
      return strcmp(f, "f") == 0 && (id == SQL_FLOAT4 || id == SQL_FLOAT8);
    }
    if (n->physical == PQ_DOUBLE) {
      c->kind = DK_DOUBLE;
      return strcmp(f, "g") == 0 && id == SQL_FLOAT8;
    }
    return false;
  case PQ_CONV_INT96: c->kind = DK_INT96; return id == SQL_TIMESTAMP || id == SQL_TIMESTAMPTZ;
  case PQ_CONV_DECIMAL_INT32:
  case PQ_CONV_DECIMAL_INT64:
  case PQ_CONV_DECIMAL_BYTES: {
    int p = n->decimal_precision, s = n->decimal_scale;
    /* Only widening: every value of the file's decimal fits the target without a check. */
    if (id != SQL_DECIMAL || p > 38 || t->scale < s || t->precision - t->scale < p - s)
      return false;
    c->dec_mul = sql_pow10(t->scale - s);
    if (n->conversion == PQ_CONV_DECIMAL_INT32) {
      c->kind = DK_DEC32;
      return true;
    }
    if (n->conversion == PQ_CONV_DECIMAL_INT64) {
      c->kind = DK_DEC64;
      return true;
    }
    c->kind = DK_DEC_FIXED;
    return n->physical == PQ_FIXED_LEN_BYTE_ARRAY && n->type_length >= 1 && n->type_length <= 16;
  }
  case PQ_CONV_BINARY:
    c->kind = DK_STRING;
    return (strcmp(f, "u") == 0 && id == SQL_TEXT) || (strcmp(f, "z") == 0 && id == SQL_BYTEA);
  case PQ_CONV_FIXED:
    c->kind = DK_FIXED;
    if (n->type_length < 1 || f[0] != 'w') return false;
    return (n->is_uuid && id == SQL_UUID && n->type_length == 16) ||
           (!n->is_uuid && id == SQL_BYTEA);
  default: return false;
  }
}

bool sql_pq_direct(const pq_node *node, const sql_type *t) {
  group_col c;
  return node != NULL && t != NULL && classify(node, t, &c);
}

/* --- Opening and positioning ------------------------------------------------------------------ */

void sql_pq_group_free(sql_pq_group *g) {
  if (g == NULL) return;
  for (size_t i = 0; i < g->n_cols; i++) {
    pq_column_reader_free(g->cols[i].r);
    pq_column_data_free(&g->cols[i].d);
    sql_mem_release(g->cols[i].dict_mem);
  }
  pq_column_data_free(&g->scratch);
  tarn_arena_free(&g->index_arena);
  free(g->cols);
  free(g->ranges);
  free(g);
}

int sql_pq_group_open(tarn_parquet_file *f, int rg, const pq_node *const *nodes,
                      const sql_type *const *types, size_t n, const tarn_row_range *ranges,
                      size_t n_ranges, sql_pq_group **out, tarn_error *err) {
  *out = NULL;
  const pq_file_meta *meta = pq_file_metadata(f);
  if (rg < 0 || (uint32_t)rg >= meta->n_row_groups)
    return tarn_err(err, TARN_EINVAL, "%s: no row group %d", pq_file_name(f), rg);
  sql_pq_group *g = calloc(1, sizeof *g);
  if (g == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
  g->f = f;
  g->rg = rg;
  int64_t first = 0;
  for (int i = 0; i < rg; i++)
    first += meta->row_groups[i].num_rows;
  g->end = first + meta->row_groups[rg].num_rows;
  g->batch_first = first;
  g->cols = calloc(n ? n : 1, sizeof *g->cols);
  if (g->cols == NULL) {
    free(g);
    return tarn_err(err, TARN_ENOMEM, "out of memory");
  }
  int rc = 0;
  if (ranges) {
    g->ranges = malloc((n_ranges ? n_ranges : 1) * sizeof *g->ranges);
    if (g->ranges == NULL)
      rc = tarn_err(err, TARN_ENOMEM, "out of memory");
    else if (n_ranges)
      memcpy(g->ranges, ranges, n_ranges * sizeof *ranges);
    g->n_ranges = n_ranges;
  }
  for (size_t i = 0; rc == 0 && i < n; i++) {
    group_col *c = &g->cols[i];
    if (!classify(nodes[i], types[i], c)) {
      rc = tarn_err(err, TARN_EINVAL, "%s: column %s cannot be read directly", pq_file_name(f),
                    nodes[i]->path);
      break;
    }
    c->pos = first;
    g->n_cols = i + 1;
    rc = pq_file_column_reader(f, rg, nodes[i]->leaf_index, &c->r, err);
    if (rc == 0 && c->kind == DK_STRING) pq_column_reader_want_indices(c->r);
  }
  if (rc) {
    sql_pq_group_free(g);
    return rc;
  }
  *out = g;
  return 0;
}

int sql_pq_group_next(sql_pq_group *g, uint32_t max_rows, int64_t *first, uint32_t *n,
                      tarn_error *err) {
  (void)err;
  int64_t cur = g->batch_first + g->batch_n;
  int64_t stop = g->end;
  if (g->ranges) {
    while (g->range_pos < g->n_ranges &&
           g->ranges[g->range_pos].first + g->ranges[g->range_pos].count <= cur)
      g->range_pos++;
    if (g->range_pos == g->n_ranges) {
      cur = g->end;
    } else {
      const tarn_row_range *r = &g->ranges[g->range_pos];
      if (r->first > cur) cur = r->first;
      if (r->first + r->count < stop) stop = r->first + r->count;
    }
  }
  if (cur > g->end) cur = g->end;
  int64_t count = stop - cur;
  if (count < 0) count = 0;
  if (count > max_rows) count = max_rows;
  if (count > SQL_BATCH_ROWS) count = SQL_BATCH_ROWS;
  g->batch_first = cur;
  g->batch_n = (uint32_t)count;
  *first = cur;
  *n = (uint32_t)count;
  return 0;
}

void sql_pq_group_pages(const sql_pq_group *g, int64_t *read, int64_t *skipped) {
  *read = *skipped = 0;
  for (size_t i = 0; i < g->n_cols; i++) {
    int64_t r, s;
    pq_column_reader_pages(g->cols[i].r, &r, &s);
    *read += r;
    *skipped += s;
  }
}

/* Brings column c to the current batch's first row, skipping what it was not asked for. */
static int catch_up(sql_pq_group *g, group_col *c, tarn_error *err) {
  int64_t gap = g->batch_first - c->pos;
  if (gap < 0)
    return tarn_err(err, TARN_EINVAL, "%s: column %s read twice for one batch", pq_file_name(g->f),
                    c->node->path);
  if (gap == 0) return 0;
  if (!c->index_tried) {
    /* The first skip looks for the offset index, so later ones can jump whole pages. */
    c->index_tried = true;
    pq_offset_index *oi = tarn_arena_calloc(&g->index_arena, 1, sizeof *oi);
    int present = 0;
    if (oi == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
    int rc =
        pq_file_offset_index(g->f, g->rg, c->node->leaf_index, &g->index_arena, oi, &present, err);
    if (rc) return rc;
    if (present) pq_column_reader_set_offset_index(c->r, oi);
  }
  int rc = pq_column_skip(c->r, gap, &g->scratch, err);
  if (rc) {
    tarn_err_prefix(err, "%s", pq_file_name(g->f));
    return rc;
  }
  c->pos = g->batch_first;
  return 0;
}

/* --- Conversion ------------------------------------------------------------------------------- */

/* Visits output rows k < n with j = the index of the row's value among the decoded values
 * (idx[k], or k itself when idx is NULL), so each conversion below is one tight loop. */
#define EACH_VALUE(n, idx, stmt)                                                                   \
  do {                                                                                             \
    if (idx) {                                                                                     \
      for (uint32_t k = 0; k < (n); k++) {                                                         \
        uint32_t j = (idx)[k];                                                                     \
        stmt;                                                                                      \
      }                                                                                            \
    } else {                                                                                       \
      for (uint32_t k = 0; k < (n); k++) {                                                         \
        uint32_t j = k;                                                                            \
        stmt;                                                                                      \
      }                                                                                            \
    }                                                                                              \
  } while (0)

static inline int32_t ld32(const uint8_t *p, uint32_t j) {
  int32_t v;
  memcpy(&v, p + (size_t)j * 4, 4);
  return v;
}

static inline int64_t ld64(const uint8_t *p, uint32_t j) {
  int64_t v;
  memcpy(&v, p + (size_t)j * 8, 8);
  return v;
}

/* Big-endian two's complement of len (1..16) bytes, sign-extended. */
static inline sql_i128 ld_be(const uint8_t *p, int len) {
  unsigned __int128 v = (p[0] & 0x80) ? ~(unsigned __int128)0 : 0;
  for (int i = 0; i < len; i++)
    v = (v << 8) | p[i];
  return (sql_i128)v;
}

/* Strings of a batch of dictionary indices: views into the group's copy of the dictionary. */
static int convert_indexed(group_col *c, sql_mem *m, const uint32_t *idx, uint32_t n, sql_str *out,
                           tarn_error *err) {
  const uint8_t *bytes;
  const int32_t *offs;
  int64_t count;
  pq_column_reader_dictionary(c->r, &bytes, &offs, &count);
  if (c->dict_mem == NULL) {
    size_t len = count > 0 ? (size_t)offs[count] : 0;
    c->dict_mem = sql_mem_new();
    char *copy = c->dict_mem ? sql_mem_alloc_raw(c->dict_mem, len ? len : 1, 1) : NULL;
    if (copy == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
    if (len) memcpy(copy, bytes, len);
    c->dict_bytes = copy;
  }
  if (sql_mem_add_parent(m, c->dict_mem)) return tarn_err(err, TARN_ENOMEM, "out of memory");
  const uint32_t *di = (const uint32_t *)(const void *)c->d.indices.data;
  const char *base = c->dict_bytes;
  EACH_VALUE(n, idx, {
    uint32_t e = di[j];
    out[k] = ((sql_str){base + offs[e], (uint64_t)(offs[e + 1] - offs[e])});
  });
  return 0;
}

/* Strings of the decoded values (views into bytes owned by m): the whole decoded buffer is
 * handed to m when most of it is kept, else the kept strings are copied. */
static int convert_strings(group_col *c, sql_mem *m, const uint32_t *idx, uint32_t n, sql_str *out,
                           tarn_error *err) {
  if (c->d.indexed) return convert_indexed(c, m, idx, n, out, err);
  const int32_t *offs = (const int32_t *)(const void *)c->d.offsets.data;
  bool fixed = c->kind == DK_FIXED;
  size_t w = fixed ? (size_t)c->node->type_length : 0;
  const char *base = (const char *)c->d.values.data;
  if (n == 0) return 0;
  if (base == NULL) {
    for (uint32_t k = 0; k < n; k++)
      out[k] = (sql_str){"", 0};
    return 0;
  }
  if (idx == NULL || (uint64_t)n * 4 >= (uint64_t)c->d.n_values) {
    if (sql_mem_adopt(m, c->d.values.data)) return tarn_err(err, TARN_ENOMEM, "out of memory");
    c->d.values.data = NULL;
    c->d.values.len = c->d.values.cap = 0;
  } else {
    size_t total = 0;
    for (uint32_t k = 0; k < n; k++)
      total += fixed ? w : (size_t)(offs[idx[k] + 1] - offs[idx[k]]);
    char *dst = sql_mem_alloc_raw(m, total ? total : 1, 1);
    if (dst == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
    for (uint32_t k = 0; k < n; k++) {
      size_t a = fixed ? (size_t)idx[k] * w : (size_t)offs[idx[k]];
      size_t len = fixed ? w : (size_t)(offs[idx[k] + 1] - offs[idx[k]]);
      memcpy(dst, base + a, len);
      out[k] = (sql_str){len ? dst : "", len};
      dst += len;
    }
    return 0;
  }
  if (fixed)
    EACH_VALUE(n, idx, out[k] = ((sql_str){base + (size_t)j * w, w}));
  else
    EACH_VALUE(n, idx, out[k] = ((sql_str){base + offs[j], (uint64_t)(offs[j + 1] - offs[j])}));
  return 0;
}

/* Values idx[0..n) (or 0..n) of the decoded batch, converted into out->data. */
static int convert(sql_pq_group *g, group_col *c, sql_mem *m, const uint32_t *idx, uint32_t n,
                   sql_vec *out, tarn_error *err) {
  const uint8_t *v = c->d.values.data;
  int64_t *i64 = out->data;
  double *f64 = out->data;
  sql_i128 *i128 = out->data;
  switch (c->kind) {
  case DK_INT32:
    if (c->int_bits == 32 && !c->int_unsigned)
      EACH_VALUE(n, idx, i64[k] = ld32(v, j));
    else if (c->int_unsigned)
      EACH_VALUE(n, idx,
                 i64[k] = c->int_bits == 8    ? (int64_t)(uint8_t)ld32(v, j)
                          : c->int_bits == 16 ? (int64_t)(uint16_t)ld32(v, j)
                                              : (int64_t)(uint32_t)ld32(v, j));
    else
      EACH_VALUE(n, idx,
                 i64[k] =
                     c->int_bits == 8 ? (int64_t)(int8_t)ld32(v, j) : (int64_t)(int16_t)ld32(v, j));
    return 0;
  case DK_DATE32: EACH_VALUE(n, idx, i64[k] = ld32(v, j)); return 0;
  case DK_INT64: EACH_VALUE(n, idx, i64[k] = ld64(v, j)); return 0;
  case DK_TIME_MS: EACH_VALUE(n, idx, i64[k] = (int64_t)ld32(v, j) * 1000); return 0;
  case DK_TIME_NS:
  case DK_TS_NS: EACH_VALUE(n, idx, i64[k] = sql_floor_div(ld64(v, j), 1000)); return 0;
  case DK_TS_MS: {
    bool bad = false;
    EACH_VALUE(n, idx, {
      int64_t x = ld64(v, j);
      bad |= x > INT64_MAX / 1000 || x < INT64_MIN / 1000;
      i64[k] = (int64_t)((uint64_t)x * 1000);
    });
    if (bad)
      return tarn_err(err, TARN_EINVAL, "%s: column %s: time value out of range",
                      pq_file_name(g->f), c->node->path);
    return 0;
  }
  case DK_INT96:
    /* Signed fields and wrapping arithmetic, exactly as the Arrow path (and Spark) read them. */
    EACH_VALUE(n, idx, {
      const uint8_t *p = v + (size_t)j * 12;
      int64_t nanos;
      int32_t day;
      memcpy(&nanos, p, 8);
      memcpy(&day, p + 8, 4);
      i64[k] =
          (int64_t)((uint64_t)((int64_t)day - 2440588) * 86400000000ULL + (uint64_t)(nanos / 1000));
    });
    return 0;
  case DK_FLOAT:
    EACH_VALUE(n, idx, {
      float x;
      memcpy(&x, v + (size_t)j * 4, 4);
      f64[k] = x;
    });
    return 0;
  case DK_DOUBLE:
    EACH_VALUE(n, idx, {
      double x;
      memcpy(&x, v + (size_t)j * 8, 8);
      f64[k] = x;
    });
    return 0;
  case DK_BOOL: EACH_VALUE(n, idx, ((uint8_t *)out->data)[k] = v[j] != 0); return 0;
  case DK_DEC32: {
    sql_i128 mul = c->dec_mul;
    EACH_VALUE(n, idx, i128[k] = (sql_i128)ld32(v, j) * mul);
    return 0;
  }
  case DK_DEC64: {
    sql_i128 mul = c->dec_mul;
    EACH_VALUE(n, idx, i128[k] = (sql_i128)ld64(v, j) * mul);
    return 0;
  }
  case DK_DEC_FIXED: {
    sql_i128 mul = c->dec_mul;
    int w = c->node->type_length;
    EACH_VALUE(n, idx, i128[k] = ld_be(v + (size_t)j * (size_t)w, w) * mul);
    return 0;
  }
  case DK_STRING:
  case DK_FIXED: return convert_strings(c, m, idx, n, out->data, err);
  }
  return 0;
}

int sql_pq_group_read(sql_pq_group *g, size_t c_idx, sql_mem *m, const uint32_t *sel,
                      uint32_t n_sel, sql_vec *out, tarn_error *err) {
  group_col *c = &g->cols[c_idx];
  int rc = catch_up(g, c, err);
  if (rc) return rc;
  uint32_t n = g->batch_n;
  int64_t got = 0;
  if ((rc = pq_column_read(c->r, n, &c->d, &got, err))) {
    tarn_err_prefix(err, "%s", pq_file_name(g->f));
    return rc;
  }
  if (got != n)
    return tarn_err(err, TARN_ECORRUPT,
                    "%s: column %s holds fewer rows than its row group declares",
                    pq_file_name(g->f), c->node->path);
  c->pos += n;
  uint32_t n_out = sel ? n_sel : n;
  sql_phys p = sql_type_phys(c->type->id);
  size_t width = p == SQL_PHYS_U8     ? 1
                 : p == SQL_PHYS_I128 ? 16
                 : p == SQL_PHYS_STR  ? sizeof(sql_str)
                                      : 8;
  memset(out, 0, sizeof *out);
  out->type = c->type;
  out->n = n_out;
  out->data = sql_mem_alloc_raw(m, n_out ? n_out : 1, width);
  if (out->data == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
  const uint32_t *idx = sel;
  bool has_nulls = c->d.n_values < (int64_t)n;
  if (has_nulls) {
    /* Definition levels: a row's value is the next decoded one when it is defined. */
    const int16_t *def = (const int16_t *)(const void *)c->d.def.data;
    uint8_t *nulls = sql_mem_alloc_raw(m, n_out ? n_out : 1, 1);
    if (nulls == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
    uint32_t next = 0;
    for (uint32_t i = 0; i < n; i++) {
      g->where[i] = next;
      next += def[i] != 0;
    }
    bool any = false;
    for (uint32_t k = 0; k < n_out; k++) {
      uint32_t i = sel ? sel[k] : k;
      nulls[k] = def[i] == 0;
      any |= nulls[k];
      /* A NULL row converts some valid value (the first) and is zeroed below. */
      g->idx[k] = nulls[k] || next == 0 ? 0 : g->where[i];
    }
    if (any) out->nulls = nulls;
    if (next == 0) {
      /* No value at all: nothing to convert. */
      memset(out->data, 0, (size_t)(n_out ? n_out : 1) * width);
      if (p == SQL_PHYS_STR)
        for (uint32_t k = 0; k < n_out; k++)
          ((sql_str *)out->data)[k] = (sql_str){"", 0};
      return 0;
    }
    idx = g->idx;
    if ((rc = convert(g, c, m, idx, n_out, out, err))) return rc;
    if (any) {
      sql_str empty = {"", 0};
      for (uint32_t k = 0; k < n_out; k++)
        if (nulls[k]) {
          if (p == SQL_PHYS_STR)
            ((sql_str *)out->data)[k] = empty;
          else
            memset((uint8_t *)out->data + (size_t)k * width, 0, width);
        }
    }
    return 0;
  }
  return convert(g, c, m, idx, n_out, out, err);
}
