/*
 * Row keys: the order-preserving, memcmp-able byte form of a tuple of values (see keys.h).
 *
 * One encoding serves grouping, joins, DISTINCT, set operations and sorting, so hash tables and
 * sorts never need per-type comparison code: equality is memcmp of the bytes and order is
 * memcmp order. The encoder works a column at a time over all rows (first every row's length,
 * then the bytes), which keeps the type dispatch out of the per-row loop; only nested values go
 * through a recursive per-value encoder.
 *
 * Layout of one column in one row: a marker byte (NULL_FIRST < PRESENT < NULL_LAST, chosen by
 * NULLS FIRST / LAST and never inverted), then, for a non-NULL value, its bytes, inverted for a
 * descending column. Every value encoding is prefix-free (fixed width, or terminated), which is
 * what makes concatenating columns and inverting bytes for DESC both order-correct. Elements of
 * lists and fields of structs carry their own markers, ordered like PostgreSQL's arrays and
 * records: NULL elements after all others, a shorter list before any longer one it prefixes.
 */
#include "sql/keys.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "common/error.h"

#define NULL_FIRST 0x00
#define PRESENT 0x01
#define NULL_LAST 0x02
#define LIST_ELEM 0x01
#define LIST_END 0x00
#define KEY_MAX_DEPTH 64

static inline void put_be64(uint8_t *p, uint64_t x) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  x = __builtin_bswap64(x);
#else
#error "big-endian hosts are not supported"
#endif
  memcpy(p, &x, 8);
}

static inline void put_be32(uint8_t *p, uint32_t x) {
  x = __builtin_bswap32(x);
  memcpy(p, &x, 4);
}

static inline void put_be16(uint8_t *p, uint16_t x) {
  p[0] = (uint8_t)(x >> 8);
  p[1] = (uint8_t)x;
}

/* IEEE-754 bits rearranged so that unsigned order is numeric order; -0.0 is 0.0 and every NaN
 * is the one NaN, greater than +infinity, as PostgreSQL orders them. */
static inline uint64_t float_bits(double d) {
  uint64_t u;
  if (d == 0) d = 0.0;
  if (isnan(d)) {
    u = UINT64_C(0x7ff8000000000000);
  } else {
    memcpy(&u, &d, 8);
  }
  return (u >> 63) ? ~u : u ^ (UINT64_C(1) << 63);
}

static inline void put_i128(uint8_t *p, sql_i128 v) {
  unsigned __int128 u = (unsigned __int128)v ^ ((unsigned __int128)1 << 127);
  put_be64(p, (uint64_t)(u >> 64));
  put_be64(p + 8, (uint64_t)u);
}

/* PostgreSQL compares intervals by their span with a month of 30 days and a day of 24 hours. */
static inline sql_i128 interval_span(sql_interval iv) {
  return ((sql_i128)iv.months * 30 + iv.days) * INT64_C(86400000000) + iv.micros;
}

/* Bytes of an integer-like value: the logical type's range bounds the width. */
static inline size_t int_width(sql_type_id id) {
  return id == SQL_INT2 ? 2 : id == SQL_INT4 ? 4 : 8;
}

static inline void put_int(uint8_t *p, size_t w, int64_t x) {
  if (w == 8)
    put_be64(p, (uint64_t)x ^ (UINT64_C(1) << 63));
  else if (w == 4)
    put_be32(p, (uint32_t)x ^ UINT32_C(0x80000000));
  else
    put_be16(p, (uint16_t)((uint16_t)x ^ 0x8000u));
}

/* Escaped string length: every 0x00 becomes 0x00 0xFF and 0x00 0x00 terminates. */
static inline size_t str_enc_len(sql_str s) {
  size_t len = s.len + 2;
  const char *p = s.ptr, *end = s.ptr + s.len;
  while (p < end && (p = memchr(p, 0, (size_t)(end - p))) != NULL) {
    len++;
    p++;
  }
  return len;
}

static inline size_t put_str(uint8_t *out, sql_str s) {
  uint8_t *o = out;
  const char *p = s.ptr, *end = s.ptr + s.len;
  while (p < end) {
    const char *z = memchr(p, 0, (size_t)(end - p));
    size_t run = (size_t)((z ? z : end) - p);
    memcpy(o, p, run);
    o += run;
    p += run;
    if (z) {
      o[0] = 0x00;
      o[1] = 0xFF;
      o += 2;
      p++;
    }
  }
  o[0] = 0x00;
  o[1] = 0x00;
  return (size_t)(o + 2 - out);
}

static inline void put_uuid(uint8_t *out, sql_str s) {
  /* Always 16 bytes; a malformed shorter value is zero-padded rather than overrunning. */
  size_t k = s.len < 16 ? (size_t)s.len : 16;
  memcpy(out, s.ptr, k);
  memset(out + k, 0, 16 - k);
}

static size_t enc_one(const sql_vec *v, uint32_t i, uint8_t *out, int depth);

/* The value bytes of row i of v (not NULL), ascending; out == NULL only measures. */
static size_t enc_value(const sql_vec *v, uint32_t i, uint8_t *out, int depth) {
  const sql_type *t = v->type;
  switch (sql_type_phys(t->id)) {
  case SQL_PHYS_U8:
    if (out) out[0] = SQL_VEC_U8(v)[i] ? 1 : 0;
    return 1;
  case SQL_PHYS_I64: {
    size_t w = int_width(t->id);
    if (out) put_int(out, w, SQL_VEC_I64(v)[i]);
    return w;
  }
  case SQL_PHYS_F64:
    if (out) put_be64(out, float_bits(SQL_VEC_F64(v)[i]));
    return 8;
  case SQL_PHYS_I128:
    if (out) put_i128(out, SQL_VEC_I128(v)[i]);
    return 16;
  case SQL_PHYS_INTERVAL:
    if (out) put_i128(out, interval_span(SQL_VEC_IV(v)[i]));
    return 16;
  case SQL_PHYS_STR:
    if (t->id == SQL_UUID) {
      if (out) put_uuid(out, SQL_VEC_STR(v)[i]);
      return 16;
    }
    return out ? put_str(out, SQL_VEC_STR(v)[i]) : str_enc_len(SQL_VEC_STR(v)[i]);
  case SQL_PHYS_LIST: {
    size_t len = 0;
    if (depth > KEY_MAX_DEPTH) return 0;
    for (int64_t j = v->offsets[i]; j < v->offsets[i + 1]; j++) {
      if (out) out[len] = LIST_ELEM;
      len++;
      len += enc_one(v->child, (uint32_t)j, out ? out + len : NULL, depth + 1);
    }
    if (out) out[len] = LIST_END;
    return len + 1;
  }
  case SQL_PHYS_STRUCT: {
    size_t len = 0;
    if (depth > KEY_MAX_DEPTH) return 0;
    for (size_t f = 0; f < t->n_fields; f++)
      len += enc_one(&v->child[f], i, out ? out + len : NULL, depth + 1);
    return len;
  }
  default: return 0;
  }
}

/* Marker and value of a nested element or field: ascending, NULLs last. */
static size_t enc_one(const sql_vec *v, uint32_t i, uint8_t *out, int depth) {
  if (sql_type_phys(v->type->id) == SQL_PHYS_NONE || SQL_VEC_IS_NULL(v, i)) {
    if (out) out[0] = NULL_LAST;
    return 1;
  }
  if (out) out[0] = PRESENT;
  return 1 + enc_value(v, i, out ? out + 1 : NULL, depth);
}

static inline bool row_null(const sql_vec *v, sql_phys p, uint32_t i) {
  return p == SQL_PHYS_NONE || SQL_VEC_IS_NULL(v, i);
}

/* Adds column c's encoded length of every row to len[]. */
static void measure_column(const sql_vec *v, uint32_t n, uint64_t *len) {
  sql_phys p = sql_type_phys(v->type->id);
  size_t fixed = 0;
  switch (p) {
  case SQL_PHYS_U8: fixed = 1; break;
  case SQL_PHYS_I64: fixed = int_width(v->type->id); break;
  case SQL_PHYS_F64: fixed = 8; break;
  case SQL_PHYS_I128:
  case SQL_PHYS_INTERVAL: fixed = 16; break;
  case SQL_PHYS_STR: fixed = v->type->id == SQL_UUID ? 16 : 0; break;
  default: break;
  }
  if (p == SQL_PHYS_NONE) {
    for (uint32_t i = 0; i < n; i++)
      len[i] += 1;
  } else if (fixed) {
    if (v->nulls == NULL) {
      for (uint32_t i = 0; i < n; i++)
        len[i] += 1 + fixed;
    } else {
      for (uint32_t i = 0; i < n; i++)
        len[i] += v->nulls[i] ? 1 : 1 + fixed;
    }
  } else if (p == SQL_PHYS_STR) {
    const sql_str *s = SQL_VEC_STR(v);
    for (uint32_t i = 0; i < n; i++)
      len[i] += row_null(v, p, i) ? 1 : 1 + str_enc_len(s[i]);
  } else {
    for (uint32_t i = 0; i < n; i++)
      len[i] += row_null(v, p, i) ? 1 : 1 + enc_value(v, i, NULL, 0);
  }
}

/* Writes column v of every row at bytes + pos[i], advancing pos[i]. */
static void fill_column(const sql_vec *v, sql_key_col dir, uint32_t n, uint8_t *bytes,
                        uint32_t *pos, bool *has_null) {
  sql_phys p = sql_type_phys(v->type->id);
  const uint8_t null_marker = dir.nulls_first ? NULL_FIRST : NULL_LAST;
  const uint64_t flip64 = dir.descending ? ~UINT64_C(0) : 0;
  for (uint32_t i = 0; i < n; i++) {
    uint8_t *o = bytes + pos[i];
    if (row_null(v, p, i)) {
      o[0] = null_marker;
      pos[i] += 1;
      has_null[i] = true;
      continue;
    }
    o[0] = PRESENT;
    size_t w;
    switch (p) {
    case SQL_PHYS_I64: {
      w = int_width(v->type->id);
      int64_t x = SQL_VEC_I64(v)[i];
      if (w == 8) {
        put_be64(o + 1, ((uint64_t)x ^ (UINT64_C(1) << 63)) ^ flip64);
        pos[i] += 9;
        continue;
      }
      put_int(o + 1, w, x);
      break;
    }
    case SQL_PHYS_F64:
      put_be64(o + 1, float_bits(SQL_VEC_F64(v)[i]) ^ flip64);
      pos[i] += 9;
      continue;
    default: w = enc_value(v, i, o + 1, 0); break;
    }
    if (dir.descending)
      for (size_t k = 1; k <= w; k++)
        o[k] = (uint8_t)~o[k];
    pos[i] += (uint32_t)(1 + w);
  }
}

int sql_keys_encode(sql_mem *m, sql_vec *const *cols, const sql_key_col *dirs, size_t n_cols,
                    uint32_t n, sql_keys *keys, tarn_error *err) {
  memset(keys, 0, sizeof *keys);
  keys->n = n;
  keys->offset = sql_mem_alloc(m, (size_t)n + 1, sizeof *keys->offset);
  keys->hash = sql_mem_alloc(m, n, sizeof *keys->hash);
  keys->has_null = sql_mem_alloc(m, n, sizeof *keys->has_null);
  uint64_t *len = calloc(n ? n : 1, sizeof *len);
  if (keys->offset == NULL || keys->hash == NULL || keys->has_null == NULL || len == NULL) {
    free(len);
    return tarn_err(err, TARN_ENOMEM, "out of memory encoding keys");
  }
  for (size_t c = 0; c < n_cols; c++) {
    if (cols[c]->type == NULL) {
      free(len);
      return tarn_err(err, TARN_EINVAL, "key column %zu has no type", c);
    }
    measure_column(cols[c], n, len);
  }
  uint64_t total = 0;
  for (uint32_t i = 0; i < n; i++) {
    keys->offset[i] = (uint32_t)total;
    total += len[i];
    if (total > UINT32_MAX) {
      free(len);
      return tarn_err(err, TARN_ENOMEM, "keys of one batch exceed 4 GiB");
    }
  }
  keys->offset[n] = (uint32_t)total;
  free(len);
  uint32_t *pos = malloc((n ? n : 1) * sizeof *pos); /* per-row write cursors */
  keys->bytes = sql_mem_alloc(m, total ? total : 1, 1);
  if (keys->bytes == NULL || pos == NULL) {
    free(pos);
    return tarn_err(err, TARN_ENOMEM, "out of memory encoding keys");
  }
  memcpy(pos, keys->offset, (size_t)n * sizeof *pos);
  static const sql_key_col asc = {false, false};
  for (size_t c = 0; c < n_cols; c++)
    fill_column(cols[c], dirs ? dirs[c] : asc, n, keys->bytes, pos, keys->has_null);
  free(pos);
  for (uint32_t i = 0; i < n; i++)
    keys->hash[i] =
        XXH3_64bits(keys->bytes + keys->offset[i], keys->offset[i + 1] - keys->offset[i]);
  return 0;
}

uint64_t sql_keys_hash(const uint8_t *bytes, size_t len) { return XXH3_64bits(bytes, len); }

bool sql_keys_ints_fit(const sql_type *const *types, size_t n_cols) {
  if (n_cols == 0 || n_cols > SQL_KEYS_MAX_INTS) return false;
  for (size_t c = 0; c < n_cols; c++)
    if (types[c] == NULL || sql_type_phys(types[c]->id) != SQL_PHYS_I64) return false;
  return true;
}

int sql_keys_ints(sql_mem *m, sql_vec *const *cols, size_t n_cols, uint32_t n, sql_keys *keys,
                  tarn_error *err) {
  memset(keys, 0, sizeof *keys);
  if (n_cols == 0 || n_cols > SQL_KEYS_MAX_INTS)
    return tarn_err(err, TARN_EINVAL, "internal error: %zu integer key columns", n_cols);
  keys->n = n;
  keys->n_ints = (uint32_t)n_cols;
  uint64_t *hash = sql_mem_alloc_raw(m, n ? n : 1, sizeof *hash);
  keys->hash = hash;
  keys->has_null = sql_mem_alloc(m, n ? n : 1, sizeof *keys->has_null);
  if (hash == NULL || keys->has_null == NULL)
    return tarn_err(err, TARN_ENOMEM, "out of memory encoding keys");
  for (size_t c = 0; c < n_cols; c++) {
    const sql_vec *v = cols[c];
    sql_phys p = v->type ? sql_type_phys(v->type->id) : SQL_PHYS_NONE;
    if (p == SQL_PHYS_NONE) { /* the NULL type: every row NULL, no values to read */
      int64_t *zero = sql_mem_alloc(m, n ? n : 1, sizeof *zero);
      if (zero == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory encoding keys");
      keys->ints[c] = zero;
      for (uint32_t i = 0; i < n; i++)
        keys->has_null[i] = true;
      continue;
    }
    if (p != SQL_PHYS_I64)
      return tarn_err(err, TARN_EINVAL, "internal error: key column %zu is not an integer", c);
    keys->ints[c] = SQL_VEC_I64(v);
    if (v->nulls)
      for (uint32_t i = 0; i < n; i++)
        keys->has_null[i] |= v->nulls[i] != 0;
  }
  /* NULL rows are hashed too (whatever their slots hold): branching on them costs more. */
  const int64_t *x0 = keys->ints[0];
  for (uint32_t i = 0; i < n; i++)
    hash[i] = sql_keys_mix((uint64_t)x0[i]);
  for (size_t c = 1; c < n_cols; c++) {
    const int64_t *x = keys->ints[c];
    for (uint32_t i = 0; i < n; i++)
      hash[i] = sql_keys_mix(hash[i] ^ (uint64_t)x[i]);
  }
  return 0;
}
