/*
 * Parquet value and level decoders (see encoding.h for the contract and
 * docs/internals/encodings.md for the design).
 *
 * Conventions of this file: positions inside untrusted data are kept as size_t offsets and every
 * read is preceded by a check against the end offset, so no pointer is ever formed past the end
 * of the input. Multi-byte values are read with memcpy (no misaligned loads) and all delta
 * arithmetic is done in uint64_t, where wrap-around is defined.
 */
#include "parquet/encoding.h"

#include <stdlib.h>
#include <string.h>

#include "common/endian.h"
#include "common/error.h"
#include "parquet/format.h"

#if defined(__GNUC__)
#define PQ_ALWAYS_INLINE static inline __attribute__((always_inline))
#else
#define PQ_ALWAYS_INLINE static inline
#endif

/* Values decoded per internal batch when a decoder needs scratch space (stack, not heap). */
#define PQ_CHUNK 512

static inline size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

/* Reads a ULEB128 integer of at most 64 bits from data[*pos..end). Returns 0 and advances *pos,
 * -1 when the data ends inside the integer, -2 when it does not fit 64 bits. */
static int read_uleb(const uint8_t *data, size_t end, size_t *pos, uint64_t *out) {
  uint64_t v = 0;
  unsigned shift = 0;
  size_t p = *pos;
  for (;;) {
    if (p >= end) return -1;
    uint8_t b = data[p++];
    if (shift == 63 && (b & 0x7e) != 0) return -2;
    v |= (uint64_t)(b & 0x7f) << shift;
    if ((b & 0x80) == 0) break;
    shift += 7;
    if (shift > 63) return -2;
  }
  *pos = p;
  *out = v;
  return 0;
}

static inline uint64_t zigzag_decode(uint64_t u) { return (u >> 1) ^ (0 - (u & 1)); }

/* ---- Bit unpacking, LSB first, 8 values at a time ---- */

/* Loads n (< 8) bytes as a little-endian integer without reading past them. */
PQ_ALWAYS_INLINE uint64_t load_le_partial(const uint8_t *p, unsigned n) {
  uint64_t v = 0;
  for (unsigned i = 0; i < n; i++)
    v |= (uint64_t)p[i] << (8 * i);
  return v;
}

/* Output forms of unpack8. */
enum { PQ_OUT_U32, PQ_OUT_I16, PQ_OUT_U64 };

/* Levels are int16: a value that does not fit is reported as INT16_MAX, which every caller's
 * max-level check rejects (rather than wrapping into a plausible level). */
static inline int16_t clamp_i16(uint64_t v) { return v > INT16_MAX ? INT16_MAX : (int16_t)v; }

/* Unpacks the 8 values of bw bits (0..64) packed LSB first in in[0..bw), reading exactly bw
 * bytes, and stores them to out as uint32_t, int16_t or uint64_t (`kind`). Always inlined with
 * constant bw and kind (see the tables below): the word loads, shifts and masks then fold into
 * straight-line code with no loop and no scratch buffer. Each value is stored as soon as it is
 * extracted; going through a local array made GCC spill and reload it. */
PQ_ALWAYS_INLINE void unpack8(const uint8_t *in, void *out, unsigned bw, int kind) {
  uint64_t w[9];
  unsigned full = bw / 8, rest = bw % 8;
  for (unsigned k = 0; k < full; k++)
    w[k] = load_le64(in + 8 * k);
  w[full] = rest ? load_le_partial(in + 8 * full, rest) : 0;
  const uint64_t mask = bw >= 64 ? ~UINT64_C(0) : (UINT64_C(1) << bw) - 1;
#define PQ_EXTRACT(i)                                                                              \
  do {                                                                                             \
    unsigned off = (i)*bw, wi = off >> 6, sh = off & 63;                                           \
    uint64_t x = w[wi] >> sh;                                                                      \
    if (sh + bw > 64) x |= w[wi + 1] << (64 - sh);                                                 \
    x &= mask;                                                                                     \
    if (kind == PQ_OUT_U32)                                                                        \
      ((uint32_t *)out)[i] = (uint32_t)x;                                                          \
    else if (kind == PQ_OUT_I16)                                                                   \
      ((int16_t *)out)[i] = clamp_i16(x);                                                          \
    else                                                                                           \
      ((uint64_t *)out)[i] = x;                                                                    \
  } while (0)
  PQ_EXTRACT(0);
  PQ_EXTRACT(1);
  PQ_EXTRACT(2);
  PQ_EXTRACT(3);
  PQ_EXTRACT(4);
  PQ_EXTRACT(5);
  PQ_EXTRACT(6);
  PQ_EXTRACT(7);
#undef PQ_EXTRACT
}

typedef void (*unpack32_fn)(const uint8_t *in, uint32_t *out, size_t groups);
typedef void (*unpack16_fn)(const uint8_t *in, int16_t *out, size_t groups);
typedef void (*unpack64_fn)(const uint8_t *in, uint64_t *out, size_t groups);

#define PQ_DEFINE_UNPACK_NARROW(BW)                                                                \
  static void unpack32_w##BW(const uint8_t *in, uint32_t *out, size_t groups) {                    \
    for (size_t g = 0; g < groups; g++)                                                            \
      unpack8(in + g * (BW), out + g * 8, (BW), PQ_OUT_U32);                                       \
  }                                                                                                \
  static void unpack16_w##BW(const uint8_t *in, int16_t *out, size_t groups) {                     \
    for (size_t g = 0; g < groups; g++)                                                            \
      unpack8(in + g * (BW), out + g * 8, (BW), PQ_OUT_I16);                                       \
  }

#define PQ_DEFINE_UNPACK_WIDE(BW)                                                                  \
  static void unpack64_w##BW(const uint8_t *in, uint64_t *out, size_t groups) {                    \
    for (size_t g = 0; g < groups; g++)                                                            \
      unpack8(in + g * (BW), out + g * 8, (BW), PQ_OUT_U64);                                       \
  }

/* clang-format off */
#define PQ_WIDTHS_0_32(X)                                                                          \
  X(0)  X(1)  X(2)  X(3)  X(4)  X(5)  X(6)  X(7)  X(8)  X(9)  X(10) X(11) X(12) X(13) X(14) X(15)  \
  X(16) X(17) X(18) X(19) X(20) X(21) X(22) X(23) X(24) X(25) X(26) X(27) X(28) X(29) X(30) X(31)  \
  X(32)
#define PQ_WIDTHS_33_64(X)                                                                         \
  X(33) X(34) X(35) X(36) X(37) X(38) X(39) X(40) X(41) X(42) X(43) X(44) X(45) X(46) X(47) X(48)  \
  X(49) X(50) X(51) X(52) X(53) X(54) X(55) X(56) X(57) X(58) X(59) X(60) X(61) X(62) X(63) X(64)
/* clang-format on */

PQ_WIDTHS_0_32(PQ_DEFINE_UNPACK_NARROW)
PQ_WIDTHS_0_32(PQ_DEFINE_UNPACK_WIDE)
PQ_WIDTHS_33_64(PQ_DEFINE_UNPACK_WIDE)

/* Width 1 to int16 (definition levels of optional columns, the commonest packed run): each nibble
 * is spread to four 16-bit lanes with one multiply. Bit j of the nibble lands at bit j + 15k for
 * every k; only k == j gives a lane's bit 0 (position 16j), and the partial products never
 * overlap, so no carries disturb the result. */
static void unpack16_w1_spread(const uint8_t *in, int16_t *out, size_t groups) {
  const uint64_t spread = 1 | UINT64_C(1) << 15 | UINT64_C(1) << 30 | UINT64_C(1) << 45;
  const uint64_t lanes = UINT64_C(0x0001000100010001);
  for (size_t g = 0; g < groups; g++) {
    uint64_t lo = ((uint64_t)(in[g] & 0x0f) * spread) & lanes;
    uint64_t hi = ((uint64_t)(in[g] >> 4) * spread) & lanes;
    memcpy(out + g * 8, &lo, 8); /* lane order = memory order on little-endian hosts only */
    memcpy(out + g * 8 + 4, &hi, 8);
  }
}

#define PQ_ENTRY32(BW) unpack32_w##BW,
#define PQ_ENTRY16(BW) unpack16_w##BW,
#define PQ_ENTRY64(BW) unpack64_w##BW,
static const unpack32_fn unpack32_tab[33] = {PQ_WIDTHS_0_32(PQ_ENTRY32)};
#if TARN_BIG_ENDIAN
static const unpack16_fn unpack16_tab[33] = {PQ_WIDTHS_0_32(PQ_ENTRY16)};
#else
#undef PQ_ENTRY16
#define PQ_ENTRY16(BW) (BW) == 1 ? unpack16_w1_spread : unpack16_w##BW,
static const unpack16_fn unpack16_tab[33] = {PQ_WIDTHS_0_32(PQ_ENTRY16)};
#endif
static const unpack64_fn unpack64_tab[65] = {PQ_WIDTHS_0_32(PQ_ENTRY64)
                                                 PQ_WIDTHS_33_64(PQ_ENTRY64)};

/* ---- RLE / bit-packed hybrid ----
 *
 * Decoder state (fields of pq_rle_decoder): pos is the next run header; during an RLE run
 * repeat_left values of repeat_value remain; during a bit-packed run packed_left values remain,
 * packed_index counts the values already taken from the run (so packed_index & 7 is the position
 * inside the current group) and packed points at the current group's bw bytes. packed_left is
 * capped at the values whose bits are present, so a run cut short by the end of the data yields
 * what it holds and no more. */

int pq_rle_init(pq_rle_decoder *d, const uint8_t *data, size_t len, int bit_width,
                tarn_error *err) {
  memset(d, 0, sizeof *d);
  if (bit_width < 0 || bit_width > 32)
    return tarn_err(err, TARN_ECORRUPT, "RLE: bit width %d is outside 0..32", bit_width);
  if (data == NULL && len > 0) return tarn_err(err, TARN_EINVAL, "RLE: NULL data");
  d->pos = data;
  d->end = len > 0 ? data + len : data;
  d->packed = data;
  d->bit_width = bit_width;
  return 0;
}

/* Reads the next run header. `missing` is how many requested values are still undecoded (for the
 * message when the data has ended). */
static int rle_next_run(pq_rle_decoder *d, size_t missing, tarn_error *err) {
  size_t avail = (size_t)(d->end - d->pos);
  if (avail == 0)
    return tarn_err(err, TARN_ECORRUPT, "RLE: data ends with %zu requested values still to decode",
                    missing);
  size_t off = 0;
  uint64_t h;
  int rc = read_uleb(d->pos, avail, &off, &h);
  if (rc == -1) return tarn_err(err, TARN_ECORRUPT, "RLE: run header truncated");
  if (rc == -2 || h > UINT32_MAX)
    return tarn_err(err, TARN_ECORRUPT, "RLE: run header does not fit 32 bits");
  d->pos += off;
  avail -= off;
  uint64_t bw = (uint64_t)d->bit_width;
  if (h & 1) {
    uint64_t groups = h >> 1;
    uint64_t count = groups * 8;
    if (count > INT32_MAX)
      return tarn_err(err, TARN_ECORRUPT,
                      "RLE: bit-packed run of %llu values is longer than 2^31-1",
                      (unsigned long long)count);
    uint64_t bytes = groups * bw;
    if (bytes > avail) { /* the final run is cut short: keep the values whose bits are present */
      count = (uint64_t)avail * 8 / bw;
      bytes = avail;
    }
    d->packed = d->pos;
    d->packed_left = (uint32_t)count;
    d->packed_index = 0;
    d->pos += bytes;
  } else {
    size_t nbytes = (size_t)(bw + 7) / 8;
    if (avail < nbytes) return tarn_err(err, TARN_ECORRUPT, "RLE: run value truncated");
    uint32_t v = 0;
    for (size_t i = 0; i < nbytes; i++)
      v |= (uint32_t)d->pos[i] << (8 * i);
    if (bw < 32 && (v >> bw) != 0)
      return tarn_err(err, TARN_ECORRUPT, "RLE: run value %u does not fit bit width %d", v,
                      d->bit_width);
    d->pos += nbytes;
    d->repeat_left = (uint32_t)(h >> 1);
    d->repeat_value = v;
  }
  return 0;
}

/* Decodes the current group of 8 packed values into tmp, zero-padding a group cut short by the
 * end of the data (only the values counted in packed_left are ever used). */
static void rle_decode_group(const pq_rle_decoder *d, uint32_t tmp[8]) {
  size_t bw = (size_t)d->bit_width;
  if (bw == 0) {
    memset(tmp, 0, 8 * sizeof tmp[0]);
    return;
  }
  size_t avail = (size_t)(d->end - d->packed);
  if (avail >= bw) {
    unpack32_tab[bw](d->packed, tmp, 1);
  } else {
    uint8_t buf[32] = {0};
    if (avail > 0) memcpy(buf, d->packed, avail);
    unpack32_tab[bw](buf, tmp, 1);
  }
}

/* Fills for RLE runs: a 64-byte pattern copied with fixed-size memcpy, which every compiler turns
 * into wide vector stores (GCC at -O2 left the plain element loop scalar). */
static void fill_u64_pattern(uint8_t *o, size_t nbytes, uint64_t pattern) {
  uint8_t pat[64];
  for (int k = 0; k < 8; k++)
    memcpy(pat + 8 * k, &pattern, 8);
  size_t i = 0;
  for (; i + 64 <= nbytes; i += 64)
    memcpy(o + i, pat, 64);
  if (i < nbytes) memcpy(o + i, pat, nbytes - i);
}

static void fill_i16(int16_t *o, size_t n, int16_t v) {
  if (n < 32) { /* short runs (common in levels): a plain loop beats setting up the pattern */
    for (size_t i = 0; i < n; i++)
      o[i] = v;
    return;
  }
  uint16_t u;
  memcpy(&u, &v, 2);
  fill_u64_pattern((uint8_t *)o, n * 2, u * UINT64_C(0x0001000100010001));
}

static void fill_u32(uint32_t *o, size_t n, uint32_t v) {
  if (n < 16) {
    for (size_t i = 0; i < n; i++)
      o[i] = v;
    return;
  }
  fill_u64_pattern((uint8_t *)o, n * 4, v * UINT64_C(0x0000000100000001));
}

/* The shared body of pq_rle_get_u32 and pq_rle_get_i16; `levels` is a constant at each call. */
PQ_ALWAYS_INLINE int rle_get(pq_rle_decoder *d, void *out_v, size_t n, int levels,
                             tarn_error *err) {
  uint32_t *out32 = levels ? NULL : (uint32_t *)out_v;
  int16_t *out16 = levels ? (int16_t *)out_v : NULL;
  size_t bw = (size_t)d->bit_width;
  size_t done = 0;
  while (done < n) {
    size_t want = n - done;
    if (d->repeat_left > 0) {
      size_t k = min_size(want, d->repeat_left);
      if (levels)
        fill_i16(out16 + done, k, clamp_i16(d->repeat_value));
      else
        fill_u32(out32 + done, k, d->repeat_value);
      d->repeat_left -= (uint32_t)k;
      done += k;
      continue;
    }
    if (d->packed_left > 0) {
      size_t in_group = d->packed_index & 7;
      if (in_group == 0 && want >= 8 && d->packed_left >= 8) {
        /* Whole groups straight into the output; their bytes are present because packed_left
         * never counts values beyond the data. */
        size_t groups = min_size(want, d->packed_left) / 8;
        if (bw == 0) {
          if (levels)
            memset(out16 + done, 0, groups * 8 * sizeof(int16_t));
          else
            memset(out32 + done, 0, groups * 8 * sizeof(uint32_t));
        } else if (levels) {
          unpack16_tab[bw](d->packed, out16 + done, groups);
        } else {
          unpack32_tab[bw](d->packed, out32 + done, groups);
        }
        done += groups * 8;
        d->packed_left -= (uint32_t)(groups * 8);
        d->packed_index += (uint32_t)(groups * 8);
        d->packed += groups * bw;
        continue;
      }
      uint32_t tmp[8];
      rle_decode_group(d, tmp);
      size_t k = min_size(min_size(8 - in_group, d->packed_left), want);
      for (size_t i = 0; i < k; i++) {
        if (levels)
          out16[done + i] = clamp_i16(tmp[in_group + i]);
        else
          out32[done + i] = tmp[in_group + i];
      }
      done += k;
      d->packed_left -= (uint32_t)k;
      d->packed_index += (uint32_t)k;
      /* Move to the next group only when this one was complete (a cut-short final group ends the
       * run before its eighth value, so packed never passes the end of the data). */
      if ((d->packed_index & 7) == 0) d->packed += bw;
      continue;
    }
    int rc = rle_next_run(d, want, err);
    if (rc) return rc;
  }
  return 0;
}

int pq_rle_get_u32(pq_rle_decoder *d, uint32_t *out, size_t n, tarn_error *err) {
  return rle_get(d, out, n, 0, err);
}

int pq_rle_get_i16(pq_rle_decoder *d, int16_t *out, size_t n, tarn_error *err) {
  return rle_get(d, out, n, 1, err);
}

/* ---- Legacy BIT_PACKED levels (MSB first) ---- */

int pq_bitpacked_legacy_get_i16(const uint8_t *data, size_t len, int bit_width, size_t start,
                                int16_t *out, size_t n, tarn_error *err) {
  if (bit_width < 0 || bit_width > 32)
    return tarn_err(err, TARN_ECORRUPT, "BIT_PACKED: bit width %d is outside 0..32", bit_width);
  if (n == 0) return 0;
  if (bit_width == 0) {
    memset(out, 0, n * sizeof *out);
    return 0;
  }
  uint64_t bw = (uint64_t)bit_width;
  uint64_t total_values = (uint64_t)len * 8 / bw;
  if (start > total_values || n > total_values - start)
    return tarn_err(err, TARN_ECORRUPT,
                    "BIT_PACKED: values %zu..%zu requested but the %zu bytes hold only %llu", start,
                    start + n, len, (unsigned long long)total_values);
  uint64_t bit = (uint64_t)start * bw;
  for (size_t i = 0; i < n; i++, bit += bw) {
    /* A big-endian window of up to 8 bytes starting at the value's first byte: the value is the
     * bw bits that follow the (bit & 7) already-used bits. */
    size_t byte = (size_t)(bit >> 3);
    uint8_t buf[8] = {0};
    memcpy(buf, data + byte, min_size(8, len - byte));
    uint64_t win = 0;
    for (int k = 0; k < 8; k++)
      win = (win << 8) | buf[k];
    uint64_t v = (win << (bit & 7)) >> (64 - bw);
    out[i] = clamp_i16(v);
  }
  return 0;
}

/* ---- DELTA_BINARY_PACKED streams (also the lengths inside the two byte-array encodings) ----
 *
 * The stream is decoded block by block, miniblock by miniblock, group of 8 by group of 8, keeping
 * only the current position: memory is independent of the value count the header declares. */

typedef struct dbp_stream {
  const char *what; /* encoding name for messages, e.g. "DELTA_BYTE_ARRAY suffix lengths" */
  const uint8_t *data;
  size_t pos; /* next unread byte: a block header, or just past the current miniblock */
  size_t end;
  uint64_t mb_count;  /* miniblocks per block */
  uint64_t mb_values; /* values per miniblock, a multiple of 32 */
  uint64_t total;     /* values the header declares */
  uint64_t left;      /* values not yet returned */
  uint64_t first;     /* the header's first value */
  uint64_t last;      /* the last value returned */
  int first_done;
  int in_block;
  uint64_t min_delta;
  size_t widths_pos; /* offset of the current block's miniblock bit widths */
  uint64_t mb_index; /* current miniblock within the block */
  uint64_t mb_left;  /* values of the current miniblock not yet unpacked (a multiple of 8) */
  unsigned width;    /* bit width of the current miniblock */
  size_t mb_pos;     /* offset of the current miniblock's next group */
  uint64_t buf[8];   /* a group unpacked but not fully consumed */
  unsigned buf_i, buf_n;
} dbp_stream;

/* Parses the header at data[start..end) and positions s at the first block. */
static int dbp_init(dbp_stream *s, const char *what, const uint8_t *data, size_t start, size_t end,
                    uint64_t max_values, tarn_error *err) {
  memset(s, 0, sizeof *s);
  s->what = what;
  s->data = data;
  s->end = end;
  size_t pos = start;
  uint64_t block_size, mb_count, total, first = 0;
  if (read_uleb(data, end, &pos, &block_size) || read_uleb(data, end, &pos, &mb_count) ||
      read_uleb(data, end, &pos, &total))
    return tarn_err(err, TARN_ECORRUPT, "%s: header truncated or malformed", what);
  int rc = read_uleb(data, end, &pos, &first);
  /* A header for zero values without its first value is harmless: accept it. */
  if (rc && !(rc == -1 && total == 0))
    return tarn_err(err, TARN_ECORRUPT, "%s: header truncated or malformed", what);
  if (block_size == 0 || block_size % 128 != 0)
    return tarn_err(err, TARN_ECORRUPT, "%s: block size %llu is not a positive multiple of 128",
                    what, (unsigned long long)block_size);
  if (block_size > ((uint64_t)1 << 31))
    return tarn_err(err, TARN_ECORRUPT, "%s: block size %llu is larger than 2^31", what,
                    (unsigned long long)block_size);
  if (mb_count == 0 || mb_count > block_size || block_size % mb_count != 0)
    return tarn_err(err, TARN_ECORRUPT, "%s: %llu miniblocks do not divide the block size %llu",
                    what, (unsigned long long)mb_count, (unsigned long long)block_size);
  if ((block_size / mb_count) % 32 != 0)
    return tarn_err(err, TARN_ECORRUPT, "%s: miniblocks of %llu values are not a multiple of 32",
                    what, (unsigned long long)(block_size / mb_count));
  if (total > max_values)
    return tarn_err(err, TARN_ECORRUPT,
                    "%s: header declares %llu values but the page holds at most %llu", what,
                    (unsigned long long)total, (unsigned long long)max_values);
  s->pos = pos;
  s->mb_count = mb_count;
  s->mb_values = block_size / mb_count;
  s->total = total;
  s->left = total;
  s->first = zigzag_decode(first);
  return 0;
}

/* Finds the offset just past the stream without unpacking anything, by walking the block
 * headers and adding up miniblock sizes (the byte-array encodings need it to find what follows).
 * Every miniblock holding values must be complete here, as the specification requires. */
static int dbp_find_end(const dbp_stream *s, size_t *end_out, tarn_error *err) {
  size_t pos = s->pos;
  uint64_t deltas = s->total > 0 ? s->total - 1 : 0;
  while (deltas > 0) {
    uint64_t min_delta;
    if (read_uleb(s->data, s->end, &pos, &min_delta) || s->end - pos < s->mb_count)
      return tarn_err(err, TARN_ECORRUPT, "%s: block header truncated", s->what);
    size_t widths = pos;
    pos += (size_t)s->mb_count;
    for (uint64_t k = 0; k < s->mb_count && deltas > 0; k++) {
      unsigned w = s->data[widths + k];
      if (w > 64)
        return tarn_err(err, TARN_ECORRUPT, "%s: miniblock bit width %u is larger than 64", s->what,
                        w);
      uint64_t bytes = s->mb_values * w / 8;
      if (bytes > s->end - pos)
        return tarn_err(err, TARN_ECORRUPT, "%s: miniblock truncated", s->what);
      pos += (size_t)bytes;
      deltas -= deltas < s->mb_values ? deltas : s->mb_values;
    }
  }
  *end_out = pos;
  return 0;
}

/* Steps to the next miniblock, reading a block header when the block is used up. */
static int dbp_next_miniblock(dbp_stream *s, tarn_error *err) {
  if (s->in_block && s->mb_index + 1 < s->mb_count) {
    s->mb_index++;
  } else {
    uint64_t md;
    if (read_uleb(s->data, s->end, &s->pos, &md))
      return tarn_err(err, TARN_ECORRUPT, "%s: block header truncated or malformed", s->what);
    if (s->end - s->pos < s->mb_count)
      return tarn_err(err, TARN_ECORRUPT, "%s: block header truncated (miniblock bit widths)",
                      s->what);
    s->min_delta = zigzag_decode(md);
    s->widths_pos = s->pos;
    s->pos += (size_t)s->mb_count;
    s->mb_index = 0;
    s->in_block = 1;
  }
  /* Widths of miniblocks past the last value may hold anything: only used ones are checked. */
  unsigned w = s->data[s->widths_pos + s->mb_index];
  if (w > 64)
    return tarn_err(err, TARN_ECORRUPT, "%s: miniblock bit width %u is larger than 64", s->what, w);
  s->width = w;
  s->mb_pos = s->pos;
  uint64_t bytes = s->mb_values * w / 8;
  /* A final miniblock may stop short of its padding; the group reader checks each value. */
  s->pos += (size_t)(bytes < s->end - s->pos ? bytes : s->end - s->pos);
  s->mb_left = s->mb_values;
  return 0;
}

/* Returns the next n values (as uint64; INT32 callers keep the low 32 bits). */
static int dbp_next(dbp_stream *s, uint64_t *out, size_t n, tarn_error *err) {
  if (n == 0) return 0;
  if (n > s->left)
    return tarn_err(err, TARN_ECORRUPT,
                    "%s: %zu values requested but only %llu of the %llu declared remain", s->what,
                    n, (unsigned long long)s->left, (unsigned long long)s->total);
  size_t i = 0;
  uint64_t last = s->last;
  if (!s->first_done) {
    out[i++] = last = s->first;
    s->first_done = 1;
  }
  while (i < n) {
    if (s->buf_i < s->buf_n) {
      size_t k = min_size(n - i, s->buf_n - s->buf_i);
      for (size_t j = 0; j < k; j++) {
        last += s->min_delta + s->buf[s->buf_i++];
        out[i++] = last;
      }
      continue;
    }
    if (s->mb_left == 0) {
      s->last = last;
      int rc = dbp_next_miniblock(s, err);
      if (rc) return rc;
      continue;
    }
    size_t want = n - i;
    unsigned w = s->width;
    size_t avail = s->end - s->mb_pos;
    uint64_t md = s->min_delta;
    if (want >= 8 && avail >= w) {
      size_t groups = (size_t)((want < s->mb_left ? want : s->mb_left) / 8);
      if (w == 0) {
        for (size_t j = 0; j < groups * 8; j++) {
          last += md;
          out[i++] = last;
        }
      } else {
        groups = min_size(groups, avail / w);
        uint64_t *o = out + i;
        unpack64_tab[w](s->data + s->mb_pos, o, groups);
        for (size_t j = 0; j < groups * 8; j++) {
          last += md + o[j];
          o[j] = last;
        }
        i += groups * 8;
        s->mb_pos += groups * w;
      }
      s->mb_left -= groups * 8;
      continue;
    }
    /* One group into the buffer, zero-padded if the data ends inside it. */
    if (w == 0) {
      memset(s->buf, 0, sizeof s->buf);
      s->buf_n = 8;
    } else if (avail >= w) {
      unpack64_tab[w](s->data + s->mb_pos, s->buf, 1);
      s->mb_pos += w;
      s->buf_n = 8;
    } else {
      uint8_t tmp[64] = {0};
      if (avail > 0) memcpy(tmp, s->data + s->mb_pos, avail);
      unpack64_tab[w](tmp, s->buf, 1);
      s->mb_pos = s->end;
      s->buf_n = (unsigned)(avail * 8 / w);
      if (s->buf_n == 0)
        return tarn_err(err, TARN_ECORRUPT, "%s: data ends inside a miniblock", s->what);
    }
    s->buf_i = 0;
    s->mb_left -= 8;
  }
  s->last = last;
  s->left -= n;
  return 0;
}

/* ---- The value decoder ---- */

struct pq_decoder {
  int encoding;
  int physical;
  int type_length;
  int width; /* bytes per decoded fixed-width value; 0 for BYTE_ARRAY */
  const uint8_t *data;
  size_t len;
  size_t pos;          /* PLAIN, BYTE_STREAM_SPLIT: next byte / value index */
  uint64_t bit_pos;    /* PLAIN BOOLEAN */
  uint64_t max_values; /* num_values given at creation */
  uint64_t produced;
  int failed;         /* a failed decoder stays failed: its position is no longer meaningful */
  pq_rle_decoder rle; /* RLE BOOLEAN */
  dbp_stream dbp;     /* DELTA_BINARY_PACKED values; DLBA lengths; DBA prefix lengths */
  dbp_stream dbp2;    /* DBA suffix lengths */
  size_t bytes_pos;   /* DLBA, DBA: next unread byte of the concatenated values / suffixes */
  size_t bss_count;   /* BYTE_STREAM_SPLIT: values in the page (the length of each stream) */
  tarn_buf prev;      /* DBA: the previous value (when it is not in the caller's output) */
};

static const char *physical_name(int physical) {
  switch (physical) {
  case PQ_BOOLEAN: return "BOOLEAN";
  case PQ_INT32: return "INT32";
  case PQ_INT64: return "INT64";
  case PQ_INT96: return "INT96";
  case PQ_FLOAT: return "FLOAT";
  case PQ_DOUBLE: return "DOUBLE";
  case PQ_BYTE_ARRAY: return "BYTE_ARRAY";
  case PQ_FIXED_LEN_BYTE_ARRAY: return "FIXED_LEN_BYTE_ARRAY";
  default: return "UNKNOWN";
  }
}

const char *pq_encoding_name(int encoding) {
  switch (encoding) {
  case PQ_ENC_PLAIN: return "PLAIN";
  case PQ_ENC_PLAIN_DICTIONARY: return "PLAIN_DICTIONARY";
  case PQ_ENC_RLE: return "RLE";
  case PQ_ENC_BIT_PACKED: return "BIT_PACKED";
  case PQ_ENC_DELTA_BINARY_PACKED: return "DELTA_BINARY_PACKED";
  case PQ_ENC_DELTA_LENGTH_BYTE_ARRAY: return "DELTA_LENGTH_BYTE_ARRAY";
  case PQ_ENC_DELTA_BYTE_ARRAY: return "DELTA_BYTE_ARRAY";
  case PQ_ENC_RLE_DICTIONARY: return "RLE_DICTIONARY";
  case PQ_ENC_BYTE_STREAM_SPLIT: return "BYTE_STREAM_SPLIT";
  default: return "UNKNOWN";
  }
}

int pq_physical_width(int physical, int type_length) {
  switch (physical) {
  case PQ_BOOLEAN: return 1;
  case PQ_INT32: return 4;
  case PQ_INT64: return 8;
  case PQ_INT96: return 12;
  case PQ_FLOAT: return 4;
  case PQ_DOUBLE: return 8;
  case PQ_FIXED_LEN_BYTE_ARRAY: return type_length > 0 ? type_length : 0;
  default: return 0;
  }
}

static int encoding_supports(int encoding, int physical) {
  switch (encoding) {
  case PQ_ENC_PLAIN: return 1;
  case PQ_ENC_RLE: return physical == PQ_BOOLEAN;
  case PQ_ENC_DELTA_BINARY_PACKED: return physical == PQ_INT32 || physical == PQ_INT64;
  case PQ_ENC_DELTA_LENGTH_BYTE_ARRAY: return physical == PQ_BYTE_ARRAY;
  case PQ_ENC_DELTA_BYTE_ARRAY:
    return physical == PQ_BYTE_ARRAY || physical == PQ_FIXED_LEN_BYTE_ARRAY;
  case PQ_ENC_BYTE_STREAM_SPLIT:
    return physical == PQ_FLOAT || physical == PQ_DOUBLE || physical == PQ_INT32 ||
           physical == PQ_INT64 || physical == PQ_FIXED_LEN_BYTE_ARRAY;
  default: return 0;
  }
}

static int decoder_init(pq_decoder *d, tarn_error *err) {
  switch (d->encoding) {
  case PQ_ENC_PLAIN: return 0;
  case PQ_ENC_RLE: {
    if (d->len < 4)
      return tarn_err(err, TARN_ECORRUPT, "RLE: boolean data of %zu bytes has no length prefix",
                      d->len);
    uint32_t n = load_le32(d->data);
    if (n > d->len - 4)
      return tarn_err(err, TARN_ECORRUPT,
                      "RLE: length prefix %u is larger than the %zu bytes that follow it", n,
                      d->len - 4);
    return pq_rle_init(&d->rle, d->data + 4, n, 1, err);
  }
  case PQ_ENC_DELTA_BINARY_PACKED:
    return dbp_init(&d->dbp, "DELTA_BINARY_PACKED", d->data, 0, d->len, d->max_values, err);
  case PQ_ENC_DELTA_LENGTH_BYTE_ARRAY: {
    int rc = dbp_init(&d->dbp, "DELTA_LENGTH_BYTE_ARRAY lengths", d->data, 0, d->len, d->max_values,
                      err);
    if (rc == 0) rc = dbp_find_end(&d->dbp, &d->bytes_pos, err);
    if (rc) return rc;
    d->dbp.end = d->bytes_pos; /* the lengths' decoder must not read into the values */
    return 0;
  }
  case PQ_ENC_DELTA_BYTE_ARRAY: {
    size_t mid;
    int rc = dbp_init(&d->dbp, "DELTA_BYTE_ARRAY prefix lengths", d->data, 0, d->len, d->max_values,
                      err);
    if (rc == 0) rc = dbp_find_end(&d->dbp, &mid, err);
    if (rc == 0)
      rc = dbp_init(&d->dbp2, "DELTA_BYTE_ARRAY suffix lengths", d->data, mid, d->len,
                    d->max_values, err);
    if (rc == 0) rc = dbp_find_end(&d->dbp2, &d->bytes_pos, err);
    if (rc) return rc;
    d->dbp.end = mid;
    d->dbp2.end = d->bytes_pos;
    if (d->dbp.total != d->dbp2.total)
      return tarn_err(err, TARN_ECORRUPT,
                      "DELTA_BYTE_ARRAY: %llu prefix lengths but %llu suffix lengths",
                      (unsigned long long)d->dbp.total, (unsigned long long)d->dbp2.total);
    return 0;
  }
  case PQ_ENC_BYTE_STREAM_SPLIT: {
    size_t w = (size_t)d->width;
    if (d->len % w != 0)
      return tarn_err(err, TARN_ECORRUPT,
                      "BYTE_STREAM_SPLIT: %zu bytes are not a multiple of the value width %zu",
                      d->len, w);
    d->bss_count = d->len / w;
    if (d->bss_count > d->max_values)
      return tarn_err(err, TARN_ECORRUPT,
                      "BYTE_STREAM_SPLIT: %zu values in the data but the page holds at most %llu",
                      d->bss_count, (unsigned long long)d->max_values);
    return 0;
  }
  default: return tarn_err(err, TARN_EUNSUPPORTED, "unsupported encoding %d", d->encoding);
  }
}

int pq_decoder_create(int encoding, int physical, int type_length, const uint8_t *data, size_t len,
                      int64_t num_values, pq_decoder **out, tarn_error *err) {
  if (out == NULL) return tarn_err(err, TARN_EINVAL, "pq_decoder_create: NULL output");
  *out = NULL;
  const char *name = pq_encoding_name(encoding);
  if (data == NULL && len > 0) return tarn_err(err, TARN_EINVAL, "%s: NULL data", name);
  if (physical < PQ_BOOLEAN || physical > PQ_FIXED_LEN_BYTE_ARRAY)
    return tarn_err(err, TARN_ECORRUPT, "%s: unknown physical type %d", name, physical);
  if (physical == PQ_FIXED_LEN_BYTE_ARRAY && type_length <= 0)
    return tarn_err(err, TARN_ECORRUPT, "%s: FIXED_LEN_BYTE_ARRAY with type_length %d", name,
                    type_length);
  if (num_values < 0)
    return tarn_err(err, TARN_ECORRUPT, "%s: negative value count %lld", name,
                    (long long)num_values);
  if (encoding == PQ_ENC_PLAIN_DICTIONARY || encoding == PQ_ENC_RLE_DICTIONARY)
    return tarn_err(err, TARN_EUNSUPPORTED,
                    "%s: dictionary indices are decoded by the column reader, not pq_decoder",
                    name);
  if (!encoding_supports(encoding, physical)) {
    if (strcmp(name, "UNKNOWN") == 0)
      return tarn_err(err, TARN_EUNSUPPORTED, "unsupported encoding %d for %s", encoding,
                      physical_name(physical));
    return tarn_err(err, TARN_EUNSUPPORTED, "encoding %s is not valid for %s values", name,
                    physical_name(physical));
  }
  pq_decoder *d = calloc(1, sizeof *d);
  if (d == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory creating a %s decoder", name);
  d->encoding = encoding;
  d->physical = physical;
  d->type_length = type_length;
  d->width = pq_physical_width(physical, type_length);
  d->data = data;
  d->len = len;
  d->max_values = (uint64_t)num_values;
  int rc = decoder_init(d, err);
  if (rc) {
    pq_decoder_free(d);
    return rc;
  }
  *out = d;
  return 0;
}

void pq_decoder_free(pq_decoder *d) {
  if (d == NULL) return;
  tarn_buf_free(&d->prev);
  free(d);
}

/* PLAIN BOOLEAN: 1 bit per value, LSB first, expanded to one byte each. */
static int plain_bool(pq_decoder *d, uint8_t *out, size_t n, tarn_error *err) {
  uint64_t avail = (uint64_t)d->len * 8 - d->bit_pos;
  if (n > avail)
    return tarn_err(err, TARN_ECORRUPT, "PLAIN: %zu BOOLEAN values requested but %llu remain", n,
                    (unsigned long long)avail);
  uint64_t bp = d->bit_pos;
  size_t i = 0;
  while (i < n && (bp & 7) != 0) {
    out[i++] = (uint8_t)((d->data[bp >> 3] >> (bp & 7)) & 1);
    bp++;
  }
  while (n - i >= 8) {
    /* Spread the 8 bits of a byte over 8 bytes: byte j keeps bit j, then becomes 0 or 1. */
    uint64_t m =
        ((uint64_t)d->data[bp >> 3] * UINT64_C(0x0101010101010101)) & UINT64_C(0x8040201008040201);
    m = ((m + UINT64_C(0x7f7f7f7f7f7f7f7f)) >> 7) & UINT64_C(0x0101010101010101);
    store_le64(out + i, m);
    i += 8;
    bp += 8;
  }
  while (i < n) {
    out[i++] = (uint8_t)((d->data[bp >> 3] >> (bp & 7)) & 1);
    bp++;
  }
  d->bit_pos = bp;
  return 0;
}

static int plain_fixed(pq_decoder *d, uint8_t *out, size_t n, tarn_error *err) {
  size_t w = (size_t)d->width;
  size_t avail = (d->len - d->pos) / w;
  if (n > avail)
    return tarn_err(err, TARN_ECORRUPT, "PLAIN: %zu %s values requested but %zu remain", n,
                    physical_name(d->physical), avail);
  memcpy(out, d->data + d->pos, n * w);
  d->pos += n * w;
  return 0;
}

static int check_offset_limit(size_t used, size_t extra, const char *name, tarn_error *err) {
  if (extra > (size_t)INT32_MAX || used > (size_t)INT32_MAX - extra)
    return tarn_err(err, TARN_ENOMEM, "%s: BYTE_ARRAY data of one batch would pass 2 GiB", name);
  return 0;
}

static int plain_binary(pq_decoder *d, int32_t *offsets, tarn_buf *data, size_t n,
                        tarn_error *err) {
  /* Pass 1 validates the lengths and sizes the copy; pass 2 copies. */
  size_t pos = d->pos, total = 0;
  for (size_t i = 0; i < n; i++) {
    if (d->len - pos < 4)
      return tarn_err(err, TARN_ECORRUPT, "PLAIN: BYTE_ARRAY value %zu: length truncated", i);
    uint32_t l = load_le32(d->data + pos);
    pos += 4;
    if (l > d->len - pos)
      return tarn_err(err, TARN_ECORRUPT,
                      "PLAIN: BYTE_ARRAY value %zu: length %u runs past the end of the data", i, l);
    pos += l;
    total += l;
  }
  int rc = check_offset_limit(data->len, total, "PLAIN", err);
  /* 16 bytes of slack let short values be copied as one fixed 16-byte block (two vector moves
   * instead of a memcpy call); the bytes past each value are overwritten by the next one. */
  if (rc == 0) rc = tarn_buf_reserve(data, total + 16, err);
  if (rc) return rc;
  pos = d->pos;
  uint8_t *dst = data->data + data->len;
  for (size_t i = 0; i < n; i++) {
    uint32_t l = load_le32(d->data + pos);
    pos += 4;
    if (l <= 16 && d->len - pos >= 16)
      memcpy(dst, d->data + pos, 16);
    else if (l > 0)
      memcpy(dst, d->data + pos, l);
    pos += l;
    dst += l;
    offsets[i] = (int32_t)(dst - data->data);
  }
  data->len = (size_t)(dst - data->data);
  d->pos = pos;
  return 0;
}

static int rle_bool(pq_decoder *d, uint8_t *out, size_t n, tarn_error *err) {
  uint32_t tmp[PQ_CHUNK];
  for (size_t done = 0; done < n;) {
    size_t k = min_size(n - done, PQ_CHUNK);
    int rc = pq_rle_get_u32(&d->rle, tmp, k, err);
    if (rc) return rc;
    for (size_t i = 0; i < k; i++)
      out[done + i] = (uint8_t)tmp[i];
    done += k;
  }
  return 0;
}

static int dbp_fixed(pq_decoder *d, uint8_t *out, size_t n, tarn_error *err) {
  uint64_t tmp[PQ_CHUNK];
  for (size_t done = 0; done < n;) {
    size_t k = min_size(n - done, PQ_CHUNK);
    int rc = dbp_next(&d->dbp, tmp, k, err);
    if (rc) return rc;
    if (d->physical == PQ_INT32) {
      for (size_t i = 0; i < k; i++)
        store_le32(out + 4 * (done + i), (uint32_t)tmp[i]);
    } else {
#if TARN_BIG_ENDIAN
      for (size_t i = 0; i < k; i++)
        store_le64(out + 8 * (done + i), tmp[i]);
#else
      memcpy(out + 8 * done, tmp, k * 8);
#endif
    }
    done += k;
  }
  return 0;
}

/* Reads k lengths from a DELTA stream of INT32 lengths, rejecting negative ones. */
static int next_lengths(dbp_stream *s, uint64_t *out, size_t k, tarn_error *err) {
  int rc = dbp_next(s, out, k, err);
  if (rc) return rc;
  for (size_t i = 0; i < k; i++) {
    uint32_t l = (uint32_t)out[i];
    if (l > (uint32_t)INT32_MAX)
      return tarn_err(err, TARN_ECORRUPT, "%s: negative length %lld", s->what,
                      (long long)l - ((long long)1 << 32));
    out[i] = l;
  }
  return 0;
}

static int dlba_binary(pq_decoder *d, int32_t *offsets, tarn_buf *data, size_t n, tarn_error *err) {
  uint64_t lens[PQ_CHUNK];
  for (size_t done = 0; done < n;) {
    size_t k = min_size(n - done, PQ_CHUNK);
    int rc = next_lengths(&d->dbp, lens, k, err);
    if (rc) return rc;
    uint64_t total = 0;
    for (size_t i = 0; i < k; i++)
      total += lens[i];
    if (total > d->len - d->bytes_pos)
      return tarn_err(err, TARN_ECORRUPT,
                      "DELTA_LENGTH_BYTE_ARRAY: lengths total %llu bytes but only %zu remain",
                      (unsigned long long)total, d->len - d->bytes_pos);
    rc = check_offset_limit(data->len, (size_t)total, "DELTA_LENGTH_BYTE_ARRAY", err);
    if (rc == 0) rc = tarn_buf_reserve(data, (size_t)total, err);
    if (rc) return rc;
    if (total > 0) memcpy(data->data + data->len, d->data + d->bytes_pos, (size_t)total);
    d->bytes_pos += (size_t)total;
    for (size_t i = 0; i < k; i++) {
      data->len += (size_t)lens[i];
      offsets[done + i] = (int32_t)data->len;
    }
    done += k;
  }
  return 0;
}

/* Checks one DELTA_BYTE_ARRAY value: prefix within the previous value, suffix within the data. */
static int dba_check(pq_decoder *d, uint64_t p, uint64_t s, size_t prev_len, tarn_error *err) {
  if (p > prev_len)
    return tarn_err(err, TARN_ECORRUPT,
                    "DELTA_BYTE_ARRAY: prefix length %llu is longer than the previous value "
                    "(%zu bytes)",
                    (unsigned long long)p, prev_len);
  if (s > d->len - d->bytes_pos)
    return tarn_err(err, TARN_ECORRUPT,
                    "DELTA_BYTE_ARRAY: suffix length %llu runs past the end of the data (%zu "
                    "bytes left)",
                    (unsigned long long)s, d->len - d->bytes_pos);
  return 0;
}

static int dba_binary(pq_decoder *d, int32_t *offsets, tarn_buf *data, size_t n, tarn_error *err) {
  uint64_t pre[PQ_CHUNK / 2], suf[PQ_CHUNK / 2];
  /* The previous value is d->prev for the first value of the call, then the value just written
   * to data (an offset, since data may move when it grows). */
  int prev_in_data = 0;
  size_t prev_start = 0, prev_len = d->prev.len;
  for (size_t done = 0; done < n;) {
    size_t k = min_size(n - done, PQ_CHUNK / 2);
    int rc = next_lengths(&d->dbp, pre, k, err);
    if (rc == 0) rc = next_lengths(&d->dbp2, suf, k, err);
    if (rc) return rc;
    for (size_t i = 0; i < k; i++) {
      rc = dba_check(d, pre[i], suf[i], prev_len, err);
      size_t p = (size_t)pre[i], s = (size_t)suf[i];
      if (rc == 0) rc = check_offset_limit(data->len, p + s, "DELTA_BYTE_ARRAY", err);
      if (rc == 0) rc = tarn_buf_reserve(data, p + s, err);
      if (rc) return rc;
      if (p + s > 0) { /* (data->data may still be NULL while every value is empty) */
        uint8_t *dst = data->data + data->len;
        if (p > 0) memcpy(dst, prev_in_data ? data->data + prev_start : d->prev.data, p);
        if (s > 0) memcpy(dst + p, d->data + d->bytes_pos, s);
      }
      d->bytes_pos += s;
      prev_in_data = 1;
      prev_start = data->len;
      prev_len = p + s;
      data->len += p + s;
      offsets[done + i] = (int32_t)data->len;
    }
    done += k;
  }
  if (prev_in_data) {
    d->prev.len = 0;
    if (prev_len > 0) return tarn_buf_append(&d->prev, data->data + prev_start, prev_len, err);
  }
  return 0;
}

static int dba_fixed(pq_decoder *d, uint8_t *out, size_t n, tarn_error *err) {
  uint64_t pre[PQ_CHUNK / 2], suf[PQ_CHUNK / 2];
  size_t tl = (size_t)d->type_length;
  for (size_t done = 0; done < n;) {
    size_t k = min_size(n - done, PQ_CHUNK / 2);
    int rc = next_lengths(&d->dbp, pre, k, err);
    if (rc == 0) rc = next_lengths(&d->dbp2, suf, k, err);
    if (rc) return rc;
    for (size_t i = 0; i < k; i++) {
      size_t idx = done + i;
      size_t prev_len = idx == 0 ? d->prev.len : tl;
      rc = dba_check(d, pre[i], suf[i], prev_len, err);
      if (rc) return rc;
      size_t p = (size_t)pre[i], s = (size_t)suf[i];
      if (p + s != tl)
        return tarn_err(err, TARN_ECORRUPT,
                        "DELTA_BYTE_ARRAY: value of %zu bytes in a FIXED_LEN_BYTE_ARRAY(%zu) "
                        "column",
                        p + s, tl);
      uint8_t *dst = out + idx * tl;
      if (p > 0) memcpy(dst, idx == 0 ? d->prev.data : dst - tl, p);
      if (s > 0) memcpy(dst + p, d->data + d->bytes_pos, s);
      d->bytes_pos += s;
    }
    done += k;
  }
  d->prev.len = 0;
  return tarn_buf_append(&d->prev, out + (n - 1) * tl, tl, err);
}

static int bss_fixed(pq_decoder *d, uint8_t *out, size_t n, tarn_error *err) {
  size_t count = d->bss_count, idx = d->pos;
  if (n > count - idx)
    return tarn_err(err, TARN_ECORRUPT, "BYTE_STREAM_SPLIT: %zu values requested but %zu remain", n,
                    count - idx);
  const uint8_t *base = d->data + idx;
  size_t w = (size_t)d->width;
  if (w == 4) {
    for (size_t i = 0; i < n; i++)
      for (size_t k = 0; k < 4; k++)
        out[i * 4 + k] = base[k * count + i];
  } else if (w == 8) {
    for (size_t i = 0; i < n; i++)
      for (size_t k = 0; k < 8; k++)
        out[i * 8 + k] = base[k * count + i];
  } else {
    for (size_t k = 0; k < w; k++) {
      const uint8_t *src = base + k * count;
      for (size_t i = 0; i < n; i++)
        out[i * w + k] = src[i];
    }
  }
  d->pos = idx + n;
  return 0;
}

/* Checks the request against the page's value count and the decoder's health. */
static int check_request(pq_decoder *d, size_t n, tarn_error *err) {
  const char *name = pq_encoding_name(d->encoding);
  if (d->failed) return tarn_err(err, d->failed, "%s: decoder used after an earlier error", name);
  if (n > d->max_values - d->produced)
    return tarn_err(err, TARN_ECORRUPT,
                    "%s: %zu values requested but the page holds only %llu more", name, n,
                    (unsigned long long)(d->max_values - d->produced));
  return 0;
}

int pq_decoder_get_fixed(pq_decoder *d, uint8_t *out, size_t n, tarn_error *err) {
  if (d->width == 0)
    return tarn_err(err, TARN_EINVAL, "%s: BYTE_ARRAY values are read with get_binary",
                    pq_encoding_name(d->encoding));
  if (n == 0) return 0;
  int rc = check_request(d, n, err);
  if (rc) return rc;
  switch (d->encoding) {
  case PQ_ENC_PLAIN:
    rc = d->physical == PQ_BOOLEAN ? plain_bool(d, out, n, err) : plain_fixed(d, out, n, err);
    break;
  case PQ_ENC_RLE: rc = rle_bool(d, out, n, err); break;
  case PQ_ENC_DELTA_BINARY_PACKED: rc = dbp_fixed(d, out, n, err); break;
  case PQ_ENC_DELTA_BYTE_ARRAY: rc = dba_fixed(d, out, n, err); break;
  case PQ_ENC_BYTE_STREAM_SPLIT: rc = bss_fixed(d, out, n, err); break;
  default: rc = tarn_err(err, TARN_EINVAL, "unexpected encoding %d", d->encoding); break;
  }
  if (rc) {
    d->failed = rc;
    return rc;
  }
  d->produced += n;
  return 0;
}

int pq_decoder_get_binary(pq_decoder *d, int32_t *offsets_out, tarn_buf *data, size_t n,
                          tarn_error *err) {
  if (d->physical != PQ_BYTE_ARRAY)
    return tarn_err(err, TARN_EINVAL, "%s: %s values are read with get_fixed",
                    pq_encoding_name(d->encoding), physical_name(d->physical));
  if (n == 0) return 0;
  int rc = check_request(d, n, err);
  if (rc) return rc;
  switch (d->encoding) {
  case PQ_ENC_PLAIN: rc = plain_binary(d, offsets_out, data, n, err); break;
  case PQ_ENC_DELTA_LENGTH_BYTE_ARRAY: rc = dlba_binary(d, offsets_out, data, n, err); break;
  case PQ_ENC_DELTA_BYTE_ARRAY: rc = dba_binary(d, offsets_out, data, n, err); break;
  default: rc = tarn_err(err, TARN_EINVAL, "unexpected encoding %d", d->encoding); break;
  }
  if (rc) {
    d->failed = rc;
    return rc;
  }
  d->produced += n;
  return 0;
}
