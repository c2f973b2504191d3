/*
 * Parquet value and level encoders (see encode.h for the contract and docs/internals/encoders.md
 * for the choices made here). Every encoder is the inverse of a decoder in encoding.c.
 *
 * Conventions of this file: output space is reserved up front from a computed upper bound, then
 * written through a raw pointer, so the inner loops carry no capacity checks. Multi-byte values
 * are moved with memcpy (no misaligned loads), and every delta is computed in uint64_t, where
 * wrap-around is defined.
 */
#include "parquet/encode.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "common/endian.h"
#include "common/error.h"
#include "parquet/encoding.h"
#include "parquet/format.h"

/* ---- ULEB128, zigzag (little-endian loads and stores are in common/endian.h) ---- */

/* At most 10 bytes for a 64-bit value. */
static inline uint8_t *put_uleb(uint8_t *p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  *p++ = (uint8_t)v;
  return p;
}

static inline uint64_t zigzag_encode(uint64_t v) { return (v << 1) ^ (0 - (v >> 63)); }

/* Bits needed for v (0 for 0). */
static inline unsigned bits_needed(uint64_t v) {
  return v == 0 ? 0 : 64u - (unsigned)__builtin_clzll(v);
}

/* Checks the offsets of n BYTE_ARRAY values (each length non-negative) and returns the total
 * number of bytes they span in *total. */
static int check_offsets(const char *what, const int32_t *offsets, size_t n, size_t *total,
                         tarn_error *err) {
  *total = 0;
  if (n == 0) return 0;
  if (offsets == NULL) return tarn_err(err, TARN_EINVAL, "%s: NULL offsets", what);
  for (size_t i = 0; i < n; i++)
    if (offsets[i + 1] < offsets[i])
      return tarn_err(err, TARN_EINVAL, "%s: value %zu has a negative length (offsets %d, %d)",
                      what, i, (int)offsets[i], (int)offsets[i + 1]);
  if (offsets[0] < 0)
    return tarn_err(err, TARN_EINVAL, "%s: negative first offset %d", what, (int)offsets[0]);
  *total = (size_t)((int64_t)offsets[n] - offsets[0]);
  return 0;
}

/* ---- Bit packing, LSB first, 8 values at a time ----
 *
 * pack8_w<bw> packs 8 values of bw bits into exactly bw bytes. A 64-bit accumulator takes each
 * value and is flushed 32 bits at a time; with bw a constant in each instance the compiler
 * unrolls the loop into shifts and ORs. */

typedef void (*pack8_fn)(const uint32_t *v, uint8_t *out);

static inline void pack8_generic(const uint32_t *v, unsigned bw, uint8_t *out) {
  uint64_t acc = 0;
  unsigned nb = 0;
  for (int i = 0; i < 8; i++) {
    acc |= (uint64_t)v[i] << nb;
    nb += bw;
    if (nb >= 32) {
      store_le32(out, (uint32_t)acc);
      out += 4;
      acc >>= 32;
      nb -= 32;
    }
  }
  for (; nb > 0; nb -= 8) {
    *out++ = (uint8_t)acc;
    acc >>= 8;
  }
}

static void pack8_w0(const uint32_t *v, uint8_t *out) {
  (void)v;
  (void)out;
}

#define PQ_PACK8(bw)                                                                               \
  static void pack8_w##bw(const uint32_t *v, uint8_t *out) { pack8_generic(v, bw, out); }
PQ_PACK8(1)
PQ_PACK8(2)
PQ_PACK8(3)
PQ_PACK8(4)
PQ_PACK8(5)
PQ_PACK8(6)
PQ_PACK8(7)
PQ_PACK8(8)
PQ_PACK8(9)
PQ_PACK8(10)
PQ_PACK8(11)
PQ_PACK8(12)
PQ_PACK8(13)
PQ_PACK8(14)
PQ_PACK8(15)
PQ_PACK8(16)
PQ_PACK8(17)
PQ_PACK8(18)
PQ_PACK8(19)
PQ_PACK8(20)
PQ_PACK8(21)
PQ_PACK8(22)
PQ_PACK8(23)
PQ_PACK8(24)
PQ_PACK8(25)
PQ_PACK8(26)
PQ_PACK8(27)
PQ_PACK8(28)
PQ_PACK8(29)
PQ_PACK8(30)
PQ_PACK8(31)
PQ_PACK8(32)

/* clang-format off */
static const pack8_fn pack8_tab[33] = {
    pack8_w0,  pack8_w1,  pack8_w2,  pack8_w3,  pack8_w4,  pack8_w5,  pack8_w6,  pack8_w7,
    pack8_w8,  pack8_w9,  pack8_w10, pack8_w11, pack8_w12, pack8_w13, pack8_w14, pack8_w15,
    pack8_w16, pack8_w17, pack8_w18, pack8_w19, pack8_w20, pack8_w21, pack8_w22, pack8_w23,
    pack8_w24, pack8_w25, pack8_w26, pack8_w27, pack8_w28, pack8_w29, pack8_w30, pack8_w31,
    pack8_w32};
/* clang-format on */

/* Packs 32 values of w bits (0..64) into 4 * w bytes (a DELTA miniblock). */
static void pack32_u64(const uint64_t *v, unsigned w, uint8_t *out) {
  if (w == 0) return;
  if (w <= 32) {
    uint32_t tmp[32];
    for (int i = 0; i < 32; i++)
      tmp[i] = (uint32_t)v[i];
    pack8_fn pack = pack8_tab[w];
    for (int g = 0; g < 4; g++)
      pack(tmp + 8 * g, out + (size_t)g * w);
    return;
  }
  uint64_t acc = 0;
  unsigned nb = 0; /* bits in acc, always < 64 */
  for (int i = 0; i < 32; i++) {
    uint64_t x = w == 64 ? v[i] : v[i] & (((uint64_t)1 << w) - 1);
    acc |= x << nb;
    if (nb + w >= 64) {
      store_le64(out, acc);
      out += 8;
      acc = nb ? x >> (64 - nb) : 0;
      nb = nb + w - 64;
    } else {
      nb += w;
    }
  }
  for (; nb > 0; nb -= 8) { /* 32 * w bits: what is left is 0 or 32 bits */
    *out++ = (uint8_t)acc;
    acc >>= 8;
  }
}

/* ---- RLE / bit-packed hybrid ----
 *
 * One pass over the values: a run of 8 or more equal values becomes an RLE run; everything else
 * collects into a bit-packed run. A bit-packed run that is followed by more data must hold a
 * whole number of groups of 8, so when a repeat run starts after a partial group, the group is
 * first completed with values taken from the front of the run (if the run still has 8 left
 * after that; otherwise the whole run stays in the bit-packed run). Only the final group of the
 * stream is padded with zeros. */

/* Longest run either kind of header may announce: 2^31 - 1 values (Encodings.md); bit-packed
 * runs count groups of 8. */
#define RLE_MAX_REPEAT ((size_t)INT32_MAX)
#define RLE_MAX_GROUPS ((size_t)INT32_MAX / 8)

static uint8_t *rle_put_repeat(uint8_t *p, uint32_t value, size_t count, unsigned value_bytes) {
  while (count > 0) {
    size_t k = count > RLE_MAX_REPEAT ? RLE_MAX_REPEAT : count;
    p = put_uleb(p, (uint64_t)k << 1);
    for (unsigned b = 0; b < value_bytes; b++)
      *p++ = (uint8_t)(value >> (8 * b));
    count -= k;
  }
  return p;
}

/* Upper bound on the encoded size of n values of bw bits: each group of 8 values costs at most
 * bw bytes bit-packed, or (a repeat run of at least 8 values) at most 5 header + 4 value bytes
 * plus the header of the bit-packed run before it; plus the final padded group and the headers
 * of split runs. */
static size_t rle_bound(size_t n, int bw) {
  size_t per8 = bw > 14 ? (size_t)bw : 14;
  return (n / 8 + 2) * per8 + 16 + 10 * (n / (RLE_MAX_GROUPS * 8) + 1);
}

/* The encoder body, shared by the value types: T the element type, TO_U32 its conversion. */
#define PQ_RLE_ENCODER(name, T, TO_U32)                                                            \
  static uint8_t *name##_literals(const T *v, size_t n, pack8_fn pack, unsigned bw, uint8_t *p) {  \
    size_t groups = (n + 7) / 8;                                                                   \
    while (groups > 0) {                                                                           \
      size_t g = groups > RLE_MAX_GROUPS ? RLE_MAX_GROUPS : groups;                                \
      p = put_uleb(p, (uint64_t)g << 1 | 1);                                                       \
      for (size_t k = 0; k < g; k++) {                                                             \
        uint32_t tmp[8];                                                                           \
        size_t m = n >= 8 ? 8 : n;                                                                 \
        for (size_t j = 0; j < m; j++)                                                             \
          tmp[j] = TO_U32(v[j]);                                                                   \
        for (size_t j = m; j < 8; j++)                                                             \
          tmp[j] = 0;                                                                              \
        pack(tmp, p);                                                                              \
        p += bw;                                                                                   \
        v += m;                                                                                    \
        n -= m;                                                                                    \
      }                                                                                            \
      groups -= g;                                                                                 \
    }                                                                                              \
    return p;                                                                                      \
  }                                                                                                \
  static int name(const T *values, size_t n, int bit_width, tarn_buf *out, tarn_error *err) {      \
    if (bit_width < 0 || bit_width > 32)                                                           \
      return tarn_err(err, TARN_EINVAL, "RLE: bit width %d is outside 0..32", bit_width);          \
    if (n == 0) return 0;                                                                          \
    if (values == NULL) return tarn_err(err, TARN_EINVAL, "RLE: NULL values");                     \
    unsigned bw = (unsigned)bit_width;                                                             \
    if (bw < 32) {                                                                                 \
      uint32_t any = 0;                                                                            \
      for (size_t i = 0; i < n; i++)                                                               \
        any |= TO_U32(values[i]);                                                                  \
      if (any >> bw)                                                                               \
        return tarn_err(err, TARN_EINVAL, "RLE: a value does not fit bit width %d", bit_width);    \
    }                                                                                              \
    int rc = tarn_buf_reserve(out, rle_bound(n, bit_width), err);                                  \
    if (rc) return rc;                                                                             \
    uint8_t *p = out->data + out->len;                                                             \
    unsigned value_bytes = (bw + 7) / 8;                                                           \
    pack8_fn pack = pack8_tab[bw];                                                                 \
    size_t lit = 0, i = 0; /* values[lit..i) wait in the bit-packed run */                         \
    while (i < n) {                                                                                \
      T v = values[i];                                                                             \
      size_t j = i + 1;                                                                            \
      while (j < n && values[j] == v)                                                              \
        j++;                                                                                       \
      size_t run = j - i;                                                                          \
      if (run >= 8) {                                                                              \
        size_t partial = (i - lit) & 7;                                                            \
        if (partial) {                                                                             \
          size_t fill = 8 - partial;                                                               \
          if (run - fill < 8) {                                                                    \
            i = j;                                                                                 \
            continue;                                                                              \
          }                                                                                        \
          i += fill;                                                                               \
          run -= fill;                                                                             \
        }                                                                                          \
        if (i > lit) p = name##_literals(values + lit, i - lit, pack, bw, p);                      \
        p = rle_put_repeat(p, TO_U32(v), run, value_bytes);                                        \
        lit = j;                                                                                   \
      }                                                                                            \
      i = j;                                                                                       \
    }                                                                                              \
    if (n > lit) p = name##_literals(values + lit, n - lit, pack, bw, p);                          \
    out->len = (size_t)(p - out->data);                                                            \
    return 0;                                                                                      \
  }

#define PQ_U32_FROM_U32(x) (x)
#define PQ_U32_FROM_I16(x) ((uint32_t)(int32_t)(x))
#define PQ_U32_FROM_U8(x) ((uint32_t)(x))
PQ_RLE_ENCODER(rle_encode_u32, uint32_t, PQ_U32_FROM_U32)
PQ_RLE_ENCODER(rle_encode_i16, int16_t, PQ_U32_FROM_I16)
PQ_RLE_ENCODER(rle_encode_u8, uint8_t, PQ_U32_FROM_U8)

int pq_rle_encode_u32(const uint32_t *values, size_t n, int bit_width, tarn_buf *out,
                      tarn_error *err) {
  return rle_encode_u32(values, n, bit_width, out, err);
}

int pq_rle_encode_i16(const int16_t *values, size_t n, int bit_width, tarn_buf *out,
                      tarn_error *err) {
  return rle_encode_i16(values, n, bit_width, out, err);
}

/* ---- PLAIN ---- */

/* Packs 8 booleans (bytes 0/1) into one byte, LSB first: the bytes are gathered into one 64-bit
 * word, and three shifted ORs move bit 8i down to bit i. */
static inline uint8_t pack_bools8(const uint8_t *v) {
  uint64_t x;
  memcpy(&x, v, 8);
#if TARN_BIG_ENDIAN
  x = __builtin_bswap64(x);
#endif
  x |= x >> 7;
  x |= x >> 14;
  x |= x >> 28;
  return (uint8_t)x;
}

static int check_bools(const char *what, const uint8_t *values, size_t n, tarn_error *err) {
  uint8_t any = 0;
  for (size_t i = 0; i < n; i++)
    any |= values[i];
  if (any > 1) return tarn_err(err, TARN_EINVAL, "%s: BOOLEAN value other than 0 or 1", what);
  return 0;
}

int pq_encode_plain_fixed(int physical, int type_length, const uint8_t *values, size_t n,
                          tarn_buf *out, tarn_error *err) {
  if (physical == PQ_BYTE_ARRAY || physical < PQ_BOOLEAN || physical > PQ_FIXED_LEN_BYTE_ARRAY)
    return tarn_err(err, TARN_EINVAL, "PLAIN: physical type %d is not fixed-width", physical);
  if (physical == PQ_FIXED_LEN_BYTE_ARRAY && type_length <= 0)
    return tarn_err(err, TARN_EINVAL, "PLAIN: FIXED_LEN_BYTE_ARRAY with type_length %d",
                    type_length);
  if (n == 0) return 0;
  if (values == NULL) return tarn_err(err, TARN_EINVAL, "PLAIN: NULL values");
  if (physical == PQ_BOOLEAN) {
    int rc = check_bools("PLAIN", values, n, err);
    if (rc == 0) rc = tarn_buf_reserve(out, (n + 7) / 8, err);
    if (rc) return rc;
    uint8_t *p = out->data + out->len;
    size_t full = n / 8;
    for (size_t g = 0; g < full; g++)
      p[g] = pack_bools8(values + 8 * g);
    if (n % 8) {
      uint8_t tmp[8] = {0};
      memcpy(tmp, values + 8 * full, n % 8);
      p[full] = pack_bools8(tmp);
    }
    out->len += (n + 7) / 8;
    return 0;
  }
  size_t width = (size_t)pq_physical_width(physical, type_length);
  if (n > TARN_BUF_MAX / width)
    return tarn_err(err, TARN_ENOMEM, "PLAIN: %zu values of %zu bytes exceed the buffer limit", n,
                    width);
  /* The input is already in PLAIN's little-endian form. */
  return tarn_buf_append(out, values, n * width, err);
}

int pq_encode_plain_binary(const int32_t *offsets, const uint8_t *data, size_t n, tarn_buf *out,
                           tarn_error *err) {
  size_t total;
  int rc = check_offsets("PLAIN", offsets, n, &total, err);
  if (rc) return rc;
  if (n == 0) return 0;
  if (n > TARN_BUF_MAX / 4 || total > TARN_BUF_MAX - 4 * n)
    return tarn_err(err, TARN_ENOMEM, "PLAIN: %zu BYTE_ARRAY values exceed the buffer limit", n);
  rc = tarn_buf_reserve(out, total + 4 * n, err);
  if (rc) return rc;
  uint8_t *p = out->data + out->len;
  for (size_t i = 0; i < n; i++) {
    uint32_t len = (uint32_t)(offsets[i + 1] - offsets[i]);
    store_le32(p, len);
    p += 4;
    if (len) memcpy(p, data + offsets[i], len);
    p += len;
  }
  out->len = (size_t)(p - out->data);
  return 0;
}

int pq_encode_rle_boolean(const uint8_t *values, size_t n, tarn_buf *out, tarn_error *err) {
  int rc = n ? check_bools("RLE", values, n, err) : 0;
  if (rc == 0) rc = tarn_buf_reserve(out, 4, err);
  if (rc) return rc;
  size_t start = out->len;
  out->len += 4;
  rc = rle_encode_u8(values, n, 1, out, err);
  if (rc) {
    out->len = start;
    return rc;
  }
  size_t body = out->len - start - 4;
  if (body > UINT32_MAX) {
    out->len = start;
    return tarn_err(err, TARN_EINVAL, "RLE: %zu bytes do not fit the length prefix", body);
  }
  store_le32(out->data + start, (uint32_t)body);
  return 0;
}

/* ---- DELTA_BINARY_PACKED ----
 *
 * Blocks of 128 values in 4 miniblocks of 32. Deltas are computed in uint64_t; for INT32 they are
 * taken modulo 2^32 and sign-extended, so every (delta - min delta) fits 32 bits as the format
 * requires. A streaming encoder: the header (which needs the total count and the first value) is
 * written by dbp_begin, values follow through dbp_put, and dbp_finish flushes the last, possibly
 * partial, block. */

#define DBP_BLOCK 128
#define DBP_MINIBLOCKS 4
#define DBP_MB_VALUES (DBP_BLOCK / DBP_MINIBLOCKS)
/* min delta (10) + widths (4) + 4 miniblocks of 32 values of up to 64 bits. */
#define DBP_BLOCK_MAX (10 + DBP_MINIBLOCKS + DBP_BLOCK * 8)

typedef struct dbp_enc {
  tarn_buf *out;
  int is32;
  uint64_t prev;
  size_t nd;
  uint64_t deltas[DBP_BLOCK];
} dbp_enc;

static int dbp_begin(dbp_enc *e, tarn_buf *out, int is32, size_t total, uint64_t first,
                     tarn_error *err) {
  e->out = out;
  e->is32 = is32;
  e->prev = first;
  e->nd = 0;
  int rc = tarn_buf_reserve(out, 40, err);
  if (rc) return rc;
  uint8_t *p = out->data + out->len;
  p = put_uleb(p, DBP_BLOCK);
  p = put_uleb(p, DBP_MINIBLOCKS);
  p = put_uleb(p, total);
  p = put_uleb(p, zigzag_encode(first));
  out->len = (size_t)(p - out->data);
  return 0;
}

static int dbp_flush(dbp_enc *e, tarn_error *err) {
  size_t nd = e->nd;
  if (nd == 0) return 0;
  int rc = tarn_buf_reserve(e->out, DBP_BLOCK_MAX, err);
  if (rc) return rc;
  uint64_t *d = e->deltas;
  int64_t min = (int64_t)d[0];
  for (size_t i = 1; i < nd; i++)
    if ((int64_t)d[i] < min) min = (int64_t)d[i];
  uint64_t umin = (uint64_t)min;
  for (size_t i = 0; i < nd; i++)
    d[i] -= umin;
  for (size_t i = nd; i < DBP_BLOCK; i++) /* padding of the last miniblock: zeros */
    d[i] = 0;
  uint8_t *p = e->out->data + e->out->len;
  p = put_uleb(p, zigzag_encode(umin));
  uint8_t *widths = p;
  p += DBP_MINIBLOCKS;
  for (size_t m = 0; m < DBP_MINIBLOCKS; m++) {
    if (m * DBP_MB_VALUES >= nd) { /* no values: width 0 and no bytes */
      widths[m] = 0;
      continue;
    }
    const uint64_t *mb = d + m * DBP_MB_VALUES;
    uint64_t any = 0;
    for (size_t i = 0; i < DBP_MB_VALUES; i++)
      any |= mb[i];
    unsigned w = bits_needed(any);
    widths[m] = (uint8_t)w;
    pack32_u64(mb, w, p);
    p += (size_t)DBP_MB_VALUES * w / 8;
  }
  e->out->len = (size_t)(p - e->out->data);
  e->nd = 0;
  return 0;
}

/* Adds one value (for INT32 streams, the sign-extended 32-bit value). */
static inline int dbp_put(dbp_enc *e, uint64_t v, tarn_error *err) {
  uint64_t delta = v - e->prev;
  if (e->is32) delta = (uint64_t)(int64_t)(int32_t)(uint32_t)delta;
  e->prev = v;
  e->deltas[e->nd++] = delta;
  if (e->nd == DBP_BLOCK) return dbp_flush(e, err);
  return 0;
}

static int dbp_finish(dbp_enc *e, tarn_error *err) { return dbp_flush(e, err); }

int pq_encode_delta_binary_packed(int physical, const uint8_t *values, size_t n, tarn_buf *out,
                                  tarn_error *err) {
  if (physical != PQ_INT32 && physical != PQ_INT64)
    return tarn_err(err, TARN_EINVAL,
                    "DELTA_BINARY_PACKED: physical type %d is neither INT32 nor INT64", physical);
  if (n > 0 && values == NULL)
    return tarn_err(err, TARN_EINVAL, "DELTA_BINARY_PACKED: NULL values");
  int is32 = physical == PQ_INT32;
  dbp_enc e;
  uint64_t first = 0;
  if (n > 0) first = is32 ? (uint64_t)(int64_t)(int32_t)load_le32(values) : load_le64(values);
  int rc = dbp_begin(&e, out, is32, n, first, err);
  if (rc) return rc;
  if (is32) {
    for (size_t i = 1; i < n; i++)
      if ((rc = dbp_put(&e, (uint64_t)(int64_t)(int32_t)load_le32(values + 4 * i), err))) return rc;
  } else {
    for (size_t i = 1; i < n; i++)
      if ((rc = dbp_put(&e, load_le64(values + 8 * i), err))) return rc;
  }
  return dbp_finish(&e, err);
}

/* A DELTA_BINARY_PACKED stream of n lengths (INT32). */
static int dbp_lengths(const uint32_t *lens, size_t n, tarn_buf *out, tarn_error *err) {
  dbp_enc e;
  int rc = dbp_begin(&e, out, 1, n, n ? lens[0] : 0, err);
  for (size_t i = 1; rc == 0 && i < n; i++)
    rc = dbp_put(&e, lens[i], err);
  if (rc == 0) rc = dbp_finish(&e, err);
  return rc;
}

/* ---- DELTA_LENGTH_BYTE_ARRAY and DELTA_BYTE_ARRAY ---- */

int pq_encode_delta_length_byte_array(const int32_t *offsets, const uint8_t *data, size_t n,
                                      tarn_buf *out, tarn_error *err) {
  size_t total;
  int rc = check_offsets("DELTA_LENGTH_BYTE_ARRAY", offsets, n, &total, err);
  if (rc) return rc;
  dbp_enc e;
  rc = dbp_begin(&e, out, 1, n, n ? (uint64_t)(offsets[1] - offsets[0]) : 0, err);
  for (size_t i = 1; rc == 0 && i < n; i++)
    rc = dbp_put(&e, (uint64_t)(offsets[i + 1] - offsets[i]), err);
  if (rc == 0) rc = dbp_finish(&e, err);
  /* The values are contiguous in data: their concatenation is one copy. */
  if (rc == 0 && total > 0) rc = tarn_buf_append(out, data + offsets[0], total, err);
  return rc;
}

/* Length of the common prefix of a[0..alen) and b[0..blen). */
static size_t common_prefix(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen) {
  size_t m = alen < blen ? alen : blen, i = 0;
#if !TARN_BIG_ENDIAN && defined(__GNUC__)
  for (; i + 8 <= m; i += 8) {
    uint64_t x, y;
    memcpy(&x, a + i, 8);
    memcpy(&y, b + i, 8);
    if (x != y) return i + (size_t)__builtin_ctzll(x ^ y) / 8;
  }
#endif
  while (i < m && a[i] == b[i])
    i++;
  return i;
}

/* The shared body of the two DELTA_BYTE_ARRAY encoders: the prefix-length stream, the
 * suffix-length stream, then the suffixes. Value i is data[starts[i] .. starts[i] + lens[i]) and
 * shares prefix[i] bytes with value i - 1. */
static int dba_write(const uint8_t *data, const size_t *starts, const uint32_t *lens,
                     const uint32_t *prefix, size_t n, tarn_buf *out, tarn_error *err) {
  int rc = dbp_lengths(prefix, n, out, err);
  if (rc) return rc;
  dbp_enc e;
  rc = dbp_begin(&e, out, 1, n, n ? lens[0] - prefix[0] : 0, err);
  size_t total = n ? lens[0] - prefix[0] : 0;
  for (size_t i = 1; rc == 0 && i < n; i++) {
    rc = dbp_put(&e, lens[i] - prefix[i], err);
    total += lens[i] - prefix[i];
  }
  if (rc == 0) rc = dbp_finish(&e, err);
  if (rc == 0) rc = tarn_buf_reserve(out, total, err);
  if (rc) return rc;
  uint8_t *p = out->data + out->len;
  for (size_t i = 0; i < n; i++) {
    size_t s = lens[i] - prefix[i];
    if (s) memcpy(p, data + starts[i] + prefix[i], s);
    p += s;
  }
  out->len = (size_t)(p - out->data);
  return 0;
}

int pq_encode_delta_byte_array(const int32_t *offsets, const uint8_t *data, size_t n, tarn_buf *out,
                               tarn_error *err) {
  size_t total;
  int rc = check_offsets("DELTA_BYTE_ARRAY", offsets, n, &total, err);
  if (rc) return rc;
  if (n == 0) return dba_write(data, NULL, NULL, NULL, 0, out, err);
  size_t *starts = malloc(n * sizeof *starts);
  uint32_t *lens = malloc(n * sizeof *lens);
  uint32_t *prefix = malloc(n * sizeof *prefix);
  if (starts == NULL || lens == NULL || prefix == NULL) {
    rc = tarn_err(err, TARN_ENOMEM, "DELTA_BYTE_ARRAY: out of memory for %zu values", n);
  } else {
    for (size_t i = 0; i < n; i++) {
      starts[i] = (size_t)offsets[i];
      lens[i] = (uint32_t)(offsets[i + 1] - offsets[i]);
      prefix[i] = i == 0 ? 0
                         : (uint32_t)common_prefix(data + starts[i - 1], lens[i - 1],
                                                   data + starts[i], lens[i]);
    }
    rc = dba_write(data, starts, lens, prefix, n, out, err);
  }
  free(starts);
  free(lens);
  free(prefix);
  return rc;
}

int pq_encode_delta_byte_array_fixed(const uint8_t *values, size_t n, int width, tarn_buf *out,
                                     tarn_error *err) {
  if (width <= 0)
    return tarn_err(err, TARN_EINVAL, "DELTA_BYTE_ARRAY: FIXED_LEN_BYTE_ARRAY width %d", width);
  if (n > 0 && values == NULL) return tarn_err(err, TARN_EINVAL, "DELTA_BYTE_ARRAY: NULL values");
  if (n == 0) return dba_write(values, NULL, NULL, NULL, 0, out, err);
  size_t w = (size_t)width;
  if (n > TARN_BUF_MAX / w)
    return tarn_err(err, TARN_ENOMEM, "DELTA_BYTE_ARRAY: %zu values exceed the buffer limit", n);
  size_t *starts = malloc(n * sizeof *starts);
  uint32_t *lens = malloc(n * sizeof *lens);
  uint32_t *prefix = malloc(n * sizeof *prefix);
  int rc = 0;
  if (starts == NULL || lens == NULL || prefix == NULL) {
    rc = tarn_err(err, TARN_ENOMEM, "DELTA_BYTE_ARRAY: out of memory for %zu values", n);
  } else {
    for (size_t i = 0; i < n; i++) {
      starts[i] = i * w;
      lens[i] = (uint32_t)w;
      prefix[i] = i == 0 ? 0 : (uint32_t)common_prefix(values + (i - 1) * w, w, values + i * w, w);
    }
    rc = dba_write(values, starts, lens, prefix, n, out, err);
  }
  free(starts);
  free(lens);
  free(prefix);
  return rc;
}

/* ---- BYTE_STREAM_SPLIT ---- */

int pq_encode_byte_stream_split(const uint8_t *values, size_t n, int width, tarn_buf *out,
                                tarn_error *err) {
  if (width <= 0) return tarn_err(err, TARN_EINVAL, "BYTE_STREAM_SPLIT: value width %d", width);
  if (n == 0) return 0;
  if (values == NULL) return tarn_err(err, TARN_EINVAL, "BYTE_STREAM_SPLIT: NULL values");
  size_t w = (size_t)width;
  if (n > TARN_BUF_MAX / w)
    return tarn_err(err, TARN_ENOMEM, "BYTE_STREAM_SPLIT: %zu values exceed the buffer limit", n);
  int rc = tarn_buf_reserve(out, n * w, err);
  if (rc) return rc;
  uint8_t *dst = out->data + out->len;
  if (w == 4) {
    uint8_t *s0 = dst, *s1 = dst + n, *s2 = dst + 2 * n, *s3 = dst + 3 * n;
    for (size_t i = 0; i < n; i++) {
      const uint8_t *v = values + 4 * i;
      s0[i] = v[0];
      s1[i] = v[1];
      s2[i] = v[2];
      s3[i] = v[3];
    }
  } else if (w == 8) {
    for (size_t i = 0; i < n; i++) {
      const uint8_t *v = values + 8 * i;
      for (size_t k = 0; k < 8; k++)
        dst[k * n + i] = v[k];
    }
  } else {
    for (size_t k = 0; k < w; k++) {
      uint8_t *s = dst + k * n;
      for (size_t i = 0; i < n; i++)
        s[i] = values[i * w + k];
    }
  }
  out->len += n * w;
  return 0;
}

/* ---- Dictionary ----
 *
 * The distinct values are kept in their PLAIN form, in index order, in one buffer (`plain`), so
 * the dictionary page body is that buffer as is. An open-addressing table with linear probing
 * maps values to indices, at most half full. Each slot holds a 64-bit key and the index:
 *   - 4- and 8-byte values (INT32, INT64, FLOAT, DOUBLE): the key is the value itself, so a probe
 *     never leaves the table; the slot is chosen by a multiply-xorshift mix of the key.
 *   - other widths and BYTE_ARRAY: the key is the value's XXH3 hash, and a matching hash is
 *     confirmed by comparing the bytes in `plain` (for BYTE_ARRAY at the offset the slot keeps,
 * where the entry's 4-byte length prefix starts). Values are compared as bytes: floats with
 * different bit patterns (0.0 and -0.0, NaNs) are distinct entries, which is what keeps a round
 * trip exact. */

#define DICT_EMPTY UINT32_MAX
/* Values hashed ahead of their probes, so the slots' cache misses overlap. */
#define DICT_BATCH 16

#if defined(__GNUC__)
#define PQ_PREFETCH(p) __builtin_prefetch(p)
#else
#define PQ_PREFETCH(p) ((void)0)
#endif
#define DICT_INITIAL_SLOTS 256

typedef struct dict_slot {
  uint64_t key;
  uint32_t idx; /* DICT_EMPTY when free */
  uint32_t off; /* BYTE_ARRAY: the entry's offset in plain (saves a lookup per probe) */
} dict_slot;

struct pq_dict {
  int physical;
  size_t width; /* bytes per value; 0 for BYTE_ARRAY */
  int keyed;    /* 1: slot key is the value (width 4 or 8); 0: slot key is a hash */
  dict_slot *slots;
  size_t mask; /* slots - 1 (a power of two minus one) */
  size_t count;
  size_t grow_at; /* count at which the table doubles */
  tarn_buf plain;
};

static inline uint64_t mix64(uint64_t x) {
  x ^= x >> 32;
  x *= 0xd6e8feb86659fd93ULL;
  x ^= x >> 32;
  return x;
}

static int dict_alloc_slots(pq_dict *d, size_t nslots, tarn_error *err) {
  dict_slot *s = malloc(nslots * sizeof *s);
  if (s == NULL)
    return tarn_err(err, TARN_ENOMEM, "dictionary: out of memory for %zu hash slots", nslots);
  memset(s, 0xff, nslots * sizeof *s);
  d->slots = s;
  d->mask = nslots - 1;
  d->grow_at = nslots / 2;
  return 0;
}

static int dict_grow(pq_dict *d, tarn_error *err) {
  size_t old_n = d->mask + 1;
  if (old_n >= ((size_t)1 << 32))
    return tarn_err(err, TARN_ENOMEM, "dictionary: more than 2^31 distinct values");
  dict_slot *old = d->slots;
  int rc = dict_alloc_slots(d, old_n * 2, err);
  if (rc) {
    d->slots = old;
    return rc;
  }
  size_t mask = d->mask;
  for (size_t i = 0; i < old_n; i++) {
    if (old[i].idx == DICT_EMPTY) continue;
    size_t h = (size_t)(d->keyed ? mix64(old[i].key) : old[i].key) & mask;
    while (d->slots[h].idx != DICT_EMPTY)
      h = (h + 1) & mask;
    d->slots[h] = old[i];
  }
  free(old);
  return 0;
}

int pq_dict_create(int physical, int type_length, pq_dict **out, tarn_error *err) {
  if (out == NULL) return tarn_err(err, TARN_EINVAL, "dictionary: NULL output");
  *out = NULL;
  if (physical == PQ_BOOLEAN || physical < PQ_BOOLEAN || physical > PQ_FIXED_LEN_BYTE_ARRAY)
    return tarn_err(err, TARN_EINVAL, "dictionary: physical type %d cannot be dictionary-encoded",
                    physical);
  if (physical == PQ_FIXED_LEN_BYTE_ARRAY && type_length <= 0)
    return tarn_err(err, TARN_EINVAL, "dictionary: FIXED_LEN_BYTE_ARRAY with type_length %d",
                    type_length);
  pq_dict *d = calloc(1, sizeof *d);
  if (d == NULL) return tarn_err(err, TARN_ENOMEM, "dictionary: out of memory");
  d->physical = physical;
  d->width = (size_t)pq_physical_width(physical, type_length);
  d->keyed = d->width == 4 || d->width == 8;
  int rc = dict_alloc_slots(d, DICT_INITIAL_SLOTS, err);
  if (rc) {
    free(d);
    return rc;
  }
  *out = d;
  return 0;
}

void pq_dict_free(pq_dict *d) {
  if (d == NULL) return;
  free(d->slots);
  tarn_buf_free(&d->plain);
  free(d);
}

/* Room for one more entry: grows the table when it would pass half full. */
static inline int dict_make_room(pq_dict *d, size_t bytes, tarn_error *err) {
  if (d->count >= d->grow_at) {
    int rc = dict_grow(d, err);
    if (rc) return rc;
  }
  return tarn_buf_reserve(&d->plain, bytes, err);
}

/* Fixed-width values keyed by their own bits; W is 4 or 8 (a constant at each use). */
#define PQ_DICT_INSERT_KEYED(W, LOAD)                                                              \
  uint64_t mixes[DICT_BATCH];                                                                      \
  for (size_t i = 0; i < n; i++) {                                                                 \
    if (i % DICT_BATCH == 0) {                                                                     \
      size_t m = n - i < DICT_BATCH ? n - i : DICT_BATCH;                                          \
      for (size_t j = 0; j < m; j++) {                                                             \
        mixes[j] = mix64(LOAD(values + (W) * (i + j)));                                            \
        PQ_PREFETCH(&d->slots[(size_t)mixes[j] & d->mask]);                                        \
      }                                                                                            \
    }                                                                                              \
    const uint8_t *vp = values + (W)*i;                                                            \
    uint64_t k = LOAD(vp);                                                                         \
    size_t h = (size_t)mixes[i % DICT_BATCH] & d->mask;                                            \
    for (;;) {                                                                                     \
      dict_slot *s = &d->slots[h];                                                                 \
      if (s->idx == DICT_EMPTY) {                                                                  \
        if (d->count >= d->grow_at) {                                                              \
          int rc = dict_grow(d, err);                                                              \
          if (rc) return rc;                                                                       \
          h = (size_t)mix64(k) & d->mask;                                                          \
          continue;                                                                                \
        }                                                                                          \
        int rc = tarn_buf_reserve(&d->plain, (W), err);                                            \
        if (rc) return rc;                                                                         \
        memcpy(d->plain.data + d->plain.len, vp, (W));                                             \
        d->plain.len += (W);                                                                       \
        s->key = k;                                                                                \
        s->idx = (uint32_t)d->count++;                                                             \
        indices[i] = s->idx;                                                                       \
        break;                                                                                     \
      }                                                                                            \
      if (s->key == k) {                                                                           \
        indices[i] = s->idx;                                                                       \
        break;                                                                                     \
      }                                                                                            \
      h = (h + 1) & d->mask;                                                                       \
    }                                                                                              \
  }

static inline uint64_t dict_load4(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

static inline uint64_t dict_load8(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

int pq_dict_insert_fixed(pq_dict *d, const uint8_t *values, size_t n, uint32_t *indices,
                         tarn_error *err) {
  if (d->width == 0)
    return tarn_err(err, TARN_EINVAL,
                    "dictionary: fixed-width insert into a BYTE_ARRAY dictionary");
  if (n == 0) return 0;
  if (values == NULL || indices == NULL)
    return tarn_err(err, TARN_EINVAL, "dictionary: NULL values or indices");
  if (d->width == 8) {
    PQ_DICT_INSERT_KEYED(8, dict_load8)
    return 0;
  }
  if (d->width == 4) {
    PQ_DICT_INSERT_KEYED(4, dict_load4)
    return 0;
  }
  size_t w = d->width;
  for (size_t i = 0; i < n; i++) {
    const uint8_t *vp = values + w * i;
    uint64_t hash = XXH3_64bits(vp, w);
    size_t h = (size_t)hash & d->mask;
    for (;;) {
      dict_slot *s = &d->slots[h];
      if (s->idx == DICT_EMPTY) {
        if (d->count >= d->grow_at) {
          int rc = dict_grow(d, err);
          if (rc) return rc;
          h = (size_t)hash & d->mask;
          continue;
        }
        int rc = dict_make_room(d, w, err);
        if (rc) return rc;
        memcpy(d->plain.data + d->plain.len, vp, w);
        d->plain.len += w;
        s->key = hash;
        s->idx = (uint32_t)d->count++;
        indices[i] = s->idx;
        break;
      }
      if (s->key == hash && memcmp(d->plain.data + (size_t)s->idx * w, vp, w) == 0) {
        indices[i] = s->idx;
        break;
      }
      h = (h + 1) & d->mask;
    }
  }
  return 0;
}

int pq_dict_insert_binary(pq_dict *d, const int32_t *offsets, const uint8_t *data, size_t n,
                          uint32_t *indices, tarn_error *err) {
  if (d->width != 0)
    return tarn_err(err, TARN_EINVAL,
                    "dictionary: BYTE_ARRAY insert into a fixed-width dictionary");
  if (n == 0) return 0;
  if (offsets == NULL || indices == NULL)
    return tarn_err(err, TARN_EINVAL, "dictionary: NULL offsets or indices");
  uint64_t hashes[DICT_BATCH];
  for (size_t i = 0; i < n; i++) {
    if (i % DICT_BATCH == 0) { /* hash a batch ahead and prefetch its slots */
      size_t m = n - i < DICT_BATCH ? n - i : DICT_BATCH;
      for (size_t k = 0; k < m; k++) {
        int32_t a = offsets[i + k], b = offsets[i + k + 1];
        if (b < a || a < 0)
          return tarn_err(err, TARN_EINVAL, "dictionary: value %zu has a negative length", i + k);
        hashes[k] = XXH3_64bits(b > a ? data + a : (const uint8_t *)"", (size_t)(b - a));
        PQ_PREFETCH(&d->slots[(size_t)hashes[k] & d->mask]);
      }
    }
    int32_t a = offsets[i];
    size_t len = (size_t)(offsets[i + 1] - a);
    const uint8_t *vp = len ? data + a : (const uint8_t *)"";
    uint64_t hash = hashes[i % DICT_BATCH];
    size_t h = (size_t)hash & d->mask;
    for (;;) {
      dict_slot *s = &d->slots[h];
      if (s->idx == DICT_EMPTY) {
        if (d->count >= d->grow_at) {
          int rc = dict_grow(d, err);
          if (rc) return rc;
          h = (size_t)hash & d->mask;
          continue;
        }
        int rc = tarn_buf_reserve(&d->plain, 4 + len, err);
        if (rc) return rc;
        uint8_t *p = d->plain.data + d->plain.len;
        store_le32(p, (uint32_t)len);
        if (len) memcpy(p + 4, vp, len);
        s->off = (uint32_t)d->plain.len; /* plain stays under TARN_BUF_MAX (2 GiB) */
        d->plain.len += 4 + len;
        s->key = hash;
        s->idx = (uint32_t)d->count++;
        indices[i] = s->idx;
        break;
      }
      if (s->key == hash) {
        const uint8_t *e = d->plain.data + s->off;
        if (load_le32(e) == len && memcmp(e + 4, vp, len) == 0) {
          indices[i] = s->idx;
          break;
        }
      }
      h = (h + 1) & d->mask;
    }
  }
  return 0;
}

size_t pq_dict_count(const pq_dict *d) { return d->count; }

size_t pq_dict_plain_size(const pq_dict *d) { return d->plain.len; }

int pq_dict_write_plain(const pq_dict *d, tarn_buf *out, tarn_error *err) {
  return tarn_buf_append(out, d->plain.data, d->plain.len, err);
}

void pq_dict_reset(pq_dict *d) {
  if (d == NULL) return;
  memset(d->slots, 0xff, (d->mask + 1) * sizeof *d->slots);
  d->count = 0;
  d->plain.len = 0;
}
