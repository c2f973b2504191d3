/*
 * Tests of the Parquet value and level decoders (src/parquet/encoding.c).
 *
 * Inputs are built by hand from the rules in parquet-format's Encodings.md (the worked examples
 * there are used verbatim where they are valid), plus a small spec-following test encoder for
 * larger DELTA streams. Malformed inputs must fail with TARN_ECORRUPT, and a deterministic loop of
 * random and mutated inputs must never crash (the suite runs under ASan and UBSan).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "common/buf.h"
#include "common/error.h"
#include "parquet/encoding.h"
#include "parquet/format.h"

/* ---- test-side writers ---- */

typedef struct bytes {
  uint8_t b[65536];
  size_t n;
} bytes;

static void put(bytes *o, const void *p, size_t n) {
  memcpy(o->b + o->n, p, n);
  o->n += n;
}

static void put_byte(bytes *o, uint8_t v) { o->b[o->n++] = v; }

static void put_uleb(bytes *o, uint64_t v) {
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    put_byte(o, (uint8_t)(b | (v ? 0x80 : 0)));
  } while (v);
}

static uint64_t zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }

static void put_zigzag(bytes *o, int64_t v) { put_uleb(o, zigzag(v)); }

static void put_le32(bytes *o, uint32_t v) {
  for (int i = 0; i < 4; i++)
    put_byte(o, (uint8_t)(v >> (8 * i)));
}

/* Packs n values of bw bits LSB first (the hybrid's order); the final byte is zero-padded. */
static void put_packed(bytes *o, const uint64_t *v, size_t n, int bw) {
  size_t nbytes = (n * (size_t)bw + 7) / 8;
  memset(o->b + o->n, 0, nbytes);
  for (size_t i = 0; i < n; i++)
    for (int k = 0; k < bw; k++)
      if ((v[i] >> k) & 1) {
        size_t bit = i * (size_t)bw + (size_t)k;
        o->b[o->n + bit / 8] |= (uint8_t)(1u << (bit % 8));
      }
  o->n += nbytes;
}

static int bits_needed(uint64_t v) {
  int b = 0;
  while (v) {
    b++;
    v >>= 1;
  }
  return b;
}

/* A DELTA_BINARY_PACKED encoder following the specification's steps (wrapping arithmetic). */
static void put_dbp(bytes *o, const int64_t *vals, size_t n, uint64_t block, uint64_t mbs) {
  uint64_t per = block / mbs;
  put_uleb(o, block);
  put_uleb(o, mbs);
  put_uleb(o, n);
  put_zigzag(o, n ? vals[0] : 0);
  for (size_t start = 1; start < n; start += block) {
    size_t cnt = n - start < block ? n - start : block;
    uint64_t deltas[4096];
    int64_t min = INT64_MAX;
    for (size_t i = 0; i < cnt; i++) {
      deltas[i] = (uint64_t)vals[start + i] - (uint64_t)vals[start + i - 1];
      if ((int64_t)deltas[i] < min) min = (int64_t)deltas[i];
    }
    for (size_t i = 0; i < cnt; i++)
      deltas[i] -= (uint64_t)min;
    for (size_t i = cnt; i < block; i++)
      deltas[i] = 0;
    put_zigzag(o, min);
    size_t used = (cnt + per - 1) / per;
    int widths[64];
    for (size_t m = 0; m < mbs; m++) {
      uint64_t mx = 0;
      for (size_t i = m * per; i < (m + 1) * per; i++)
        if (deltas[i] > mx) mx = deltas[i];
      widths[m] = bits_needed(mx);
      put_byte(o, m < used ? (uint8_t)widths[m] : 0);
    }
    for (size_t m = 0; m < used; m++)
      put_packed(o, deltas + m * per, per, widths[m]);
  }
}

/* ---- helpers for calling decoders ---- */

static pq_decoder *make(int enc, int phys, int tl, const bytes *in, int64_t nv) {
  tarn_error err = {0};
  pq_decoder *d = NULL;
  int rc = pq_decoder_create(enc, phys, tl, in->b, in->n, nv, &d, &err);
  if (rc) fprintf(stderr, "create failed: %s\n", err.message);
  CHECK_EQ_INT(rc, 0);
  return d;
}

static int create_rc(int enc, int phys, int tl, const bytes *in, int64_t nv, tarn_error *err) {
  pq_decoder *d = NULL;
  int rc = pq_decoder_create(enc, phys, tl, in->b, in->n, nv, &d, err);
  CHECK(rc == 0 ? d != NULL : d == NULL);
  pq_decoder_free(d);
  return rc;
}

static int32_t rd_i32(const uint8_t *p) {
  uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
  int32_t r;
  memcpy(&r, &v, 4);
  return r;
}

static int64_t rd_i64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = v << 8 | p[i];
  int64_t r;
  memcpy(&r, &v, 8);
  return r;
}

/* Decodes n BYTE_ARRAY values and compares them with the expected strings. */
static void expect_strings(pq_decoder *d, const char *const *want, size_t n, size_t step) {
  tarn_buf data = {0};
  int32_t offs[64];
  tarn_error err = {0};
  size_t got = 0;
  while (got < n) {
    size_t k = n - got < step ? n - got : step;
    size_t base = data.len;
    int rc = pq_decoder_get_binary(d, offs, &data, k, &err);
    CHECK_EQ_INT(rc, 0);
    if (rc) {
      fprintf(stderr, "  %s\n", err.message);
      break;
    }
    size_t start = base;
    for (size_t i = 0; i < k; i++) {
      size_t end = (size_t)offs[i];
      CHECK_EQ_INT(end - start, strlen(want[got + i]));
      CHECK(end == start || memcmp(data.data + start, want[got + i], end - start) == 0);
      start = end;
    }
    got += k;
  }
  tarn_buf_free(&data);
}

/* ---- RLE / bit-packed hybrid ---- */

static void test_rle_runs(void) {
  tarn_error err = {0};
  pq_rle_decoder d;
  /* RLE run of 5 values of 5 at width 3, then RLE run of 300 x 1000 at width 10 (2 value bytes). */
  const uint8_t a[] = {0x0A, 0x05};
  uint32_t out[400];
  CHECK_EQ_INT(pq_rle_init(&d, a, sizeof a, 3, &err), 0);
  CHECK_EQ_INT(pq_rle_get_u32(&d, out, 5, &err), 0);
  for (int i = 0; i < 5; i++)
    CHECK_EQ_INT(out[i], 5);
  CHECK_EQ_INT(pq_rle_get_u32(&d, out, 1, &err), TARN_ECORRUPT);

  bytes b = {0};
  put_uleb(&b, 300 << 1);
  put_byte(&b, 1000 & 0xff);
  put_byte(&b, 1000 >> 8);
  put_uleb(&b, 2 << 1);
  put_byte(&b, 7);
  put_byte(&b, 0);
  tarn_err_clear(&err);
  CHECK_EQ_INT(pq_rle_init(&d, b.b, b.n, 10, &err), 0);
  CHECK_EQ_INT(pq_rle_get_u32(&d, out, 299, &err), 0);
  CHECK_EQ_INT(pq_rle_get_u32(&d, out + 299, 3, &err), 0);
  CHECK_EQ_INT(out[0], 1000);
  CHECK_EQ_INT(out[299], 1000);
  CHECK_EQ_INT(out[300], 7);
  CHECK_EQ_INT(out[301], 7);

  /* Width 32: value in 4 bytes. */
  const uint8_t c[] = {0x06, 0x78, 0x56, 0x34, 0x12};
  CHECK_EQ_INT(pq_rle_init(&d, c, sizeof c, 32, &err), 0);
  CHECK_EQ_INT(pq_rle_get_u32(&d, out, 3, &err), 0);
  CHECK_EQ_INT(out[2], 0x12345678);

  /* Width 0: no value bytes; a bit-packed run of width 0 has no bytes either. */
  const uint8_t z[] = {0x08, 0x03};
  CHECK_EQ_INT(pq_rle_init(&d, z, sizeof z, 0, &err), 0);
  out[0] = out[11] = 99;
  CHECK_EQ_INT(pq_rle_get_u32(&d, out, 12, &err), 0);
  CHECK_EQ_INT(out[0], 0);
  CHECK_EQ_INT(out[11], 0);
  CHECK_EQ_INT(pq_rle_get_u32(&d, out, 1, &err), TARN_ECORRUPT);
}

static void test_rle_spec_bitpacked(void) {
  /* Encodings.md: 0..7 at width 3 packed LSB first = 10001000 11000110 11111010. */
  const uint8_t a[] = {0x03, 0x88, 0xC6, 0xFA};
  tarn_error err = {0};
  pq_rle_decoder d;
  uint32_t out[8];
  CHECK_EQ_INT(pq_rle_init(&d, a, sizeof a, 3, &err), 0);
  CHECK_EQ_INT(pq_rle_get_u32(&d, out, 8, &err), 0);
  for (int i = 0; i < 8; i++)
    CHECK_EQ_INT(out[i], i);

  /* Width 1, hand-packed: 1,0,1,1,0,0,0,1 = 0b10001101. */
  const uint8_t b[] = {0x03, 0x8D};
  int16_t lv[8];
  CHECK_EQ_INT(pq_rle_init(&d, b, sizeof b, 1, &err), 0);
  CHECK_EQ_INT(pq_rle_get_i16(&d, lv, 8, &err), 0);
  const int16_t wb[8] = {1, 0, 1, 1, 0, 0, 0, 1};
  CHECK(memcmp(lv, wb, sizeof wb) == 0);
}

/* Bit-packed runs at several widths, read back whole and in odd-sized pieces. */
static void test_rle_widths(void) {
  const int widths[] = {1, 2, 3, 5, 7, 8, 9, 13, 16, 17, 24, 31, 32};
  for (size_t wi = 0; wi < sizeof widths / sizeof widths[0]; wi++) {
    int bw = widths[wi];
    uint64_t vals[104];
    uint64_t mask = bw == 64 ? ~0ull : (1ull << bw) - 1;
    uint64_t x = 0x9E3779B97F4A7C15ull * (uint64_t)(bw + 1);
    for (int i = 0; i < 104; i++) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      vals[i] = x & mask;
    }
    vals[0] = mask; /* all ones */
    vals[1] = 0;
    /* Bit-packed 13 groups (104 values), then an RLE run of 20 copies of vals[3]. */
    bytes b = {0};
    put_uleb(&b, (13 << 1) | 1);
    put_packed(&b, vals, 104, bw);
    put_uleb(&b, 20 << 1);
    for (int k = 0; k < (bw + 7) / 8; k++)
      put_byte(&b, (uint8_t)(vals[3] >> (8 * k)));
    tarn_error err = {0};
    pq_rle_decoder d;
    uint32_t out[124];
    CHECK_EQ_INT(pq_rle_init(&d, b.b, b.n, bw, &err), 0);
    CHECK_EQ_INT(pq_rle_get_u32(&d, out, 124, &err), 0);
    int bad = 0;
    for (int i = 0; i < 104; i++)
      bad += out[i] != (uint32_t)vals[i];
    for (int i = 104; i < 124; i++)
      bad += out[i] != (uint32_t)vals[3];
    CHECK_EQ_INT(bad, 0);
    /* pieces of 1, 3, 7, 11, ... */
    CHECK_EQ_INT(pq_rle_init(&d, b.b, b.n, bw, &err), 0);
    size_t got = 0, step = 1;
    while (got < 124) {
      size_t k = 124 - got < step ? 124 - got : step;
      CHECK_EQ_INT(pq_rle_get_u32(&d, out + got, k, &err), 0);
      got += k;
      step = step * 2 + 1;
      if (step > 20) step = 1;
    }
    bad = 0;
    for (int i = 0; i < 104; i++)
      bad += out[i] != (uint32_t)vals[i];
    CHECK_EQ_INT(bad, 0);
    if (bw <= 15) {
      int16_t lv[124];
      CHECK_EQ_INT(pq_rle_init(&d, b.b, b.n, bw, &err), 0);
      CHECK_EQ_INT(pq_rle_get_i16(&d, lv, 5, &err), 0);
      CHECK_EQ_INT(pq_rle_get_i16(&d, lv + 5, 119, &err), 0);
      bad = 0;
      for (int i = 0; i < 104; i++)
        bad += lv[i] != (int16_t)vals[i];
      for (int i = 104; i < 124; i++)
        bad += lv[i] != (int16_t)vals[3];
      CHECK_EQ_INT(bad, 0);
    }
  }
}

static void test_rle_truncated_group(void) {
  /* Header claims 2 groups (16 values) at width 3, but only 2 data bytes follow: the 5 values
   * whose bits are complete (0,1,2,3,4) are yielded, asking for a sixth fails. */
  const uint8_t a[] = {0x05, 0x88, 0xC6};
  tarn_error err = {0};
  pq_rle_decoder d;
  uint32_t out[16];
  CHECK_EQ_INT(pq_rle_init(&d, a, sizeof a, 3, &err), 0);
  CHECK_EQ_INT(pq_rle_get_u32(&d, out, 2, &err), 0);
  CHECK_EQ_INT(pq_rle_get_u32(&d, out + 2, 3, &err), 0);
  for (int i = 0; i < 5; i++)
    CHECK_EQ_INT(out[i], i);
  CHECK_EQ_INT(pq_rle_get_u32(&d, out, 1, &err), TARN_ECORRUPT);
  CHECK(strstr(err.message, "RLE") != NULL);

  /* Cut after one full group and part of a second: 8 + 2 values at width 3 (4 bytes). */
  const uint8_t b[] = {0x05, 0x88, 0xC6, 0xFA, 0x88};
  tarn_err_clear(&err);
  CHECK_EQ_INT(pq_rle_init(&d, b, sizeof b, 3, &err), 0);
  CHECK_EQ_INT(pq_rle_get_u32(&d, out, 10, &err), 0);
  CHECK_EQ_INT(out[7], 7);
  CHECK_EQ_INT(out[8], 0);
  CHECK_EQ_INT(out[9], 1);
  CHECK_EQ_INT(pq_rle_get_u32(&d, out, 1, &err), TARN_ECORRUPT);

  /* Same at width 1 through the levels path: 1 byte present for 2 groups -> 8 values. */
  const uint8_t c[] = {0x05, 0xFF};
  int16_t lv[16];
  tarn_err_clear(&err);
  CHECK_EQ_INT(pq_rle_init(&d, c, sizeof c, 1, &err), 0);
  CHECK_EQ_INT(pq_rle_get_i16(&d, lv, 8, &err), 0);
  CHECK_EQ_INT(lv[7], 1);
  CHECK_EQ_INT(pq_rle_get_i16(&d, lv, 1, &err), TARN_ECORRUPT);
}

static void test_rle_huge_run(void) {
  /* Six bytes claiming 2^31-1 values: decoding in batches needs no memory beyond the batch. */
  bytes b = {0};
  put_uleb(&b, (uint64_t)INT32_MAX << 1);
  put_byte(&b, 1);
  tarn_error err = {0};
  pq_rle_decoder d;
  static int16_t lv[1 << 16];
  CHECK_EQ_INT(pq_rle_init(&d, b.b, b.n, 1, &err), 0);
  int bad = 0;
  for (int r = 0; r < 16; r++) {
    CHECK_EQ_INT(pq_rle_get_i16(&d, lv, 1 << 16, &err), 0);
    bad += lv[0] != 1 || lv[(1 << 16) - 1] != 1;
  }
  CHECK_EQ_INT(bad, 0);
  CHECK_EQ_INT(d.repeat_left, INT32_MAX - (1 << 20));
}

static void test_rle_errors(void) {
  tarn_error err = {0};
  pq_rle_decoder d;
  uint32_t out[8];
  CHECK_EQ_INT(pq_rle_init(&d, NULL, 0, 33, &err), TARN_ECORRUPT);
  CHECK(strstr(err.message, "bit width") != NULL);
  tarn_err_clear(&err);
  CHECK_EQ_INT(pq_rle_init(&d, NULL, 0, 2, &err), 0);
  CHECK_EQ_INT(pq_rle_get_u32(&d, out, 0, &err), 0);
  CHECK_EQ_INT(pq_rle_get_u32(&d, out, 1, &err), TARN_ECORRUPT);
  /* header varint cut short */
  const uint8_t a[] = {0x80, 0x80};
  tarn_err_clear(&err);
  pq_rle_init(&d, a, sizeof a, 2, &err);
  CHECK_EQ_INT(pq_rle_get_u32(&d, out, 1, &err), TARN_ECORRUPT);
  /* header beyond 32 bits */
  const uint8_t b[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0x00};
  tarn_err_clear(&err);
  pq_rle_init(&d, b, sizeof b, 2, &err);
  CHECK_EQ_INT(pq_rle_get_u32(&d, out, 1, &err), TARN_ECORRUPT);
  /* RLE value truncated (width 9 needs 2 bytes) */
  const uint8_t c[] = {0x04, 0x01};
  tarn_err_clear(&err);
  pq_rle_init(&d, c, sizeof c, 9, &err);
  CHECK_EQ_INT(pq_rle_get_u32(&d, out, 1, &err), TARN_ECORRUPT);
  /* RLE value wider than the bit width */
  const uint8_t e[] = {0x04, 0x08};
  tarn_err_clear(&err);
  pq_rle_init(&d, e, sizeof e, 3, &err);
  CHECK_EQ_INT(pq_rle_get_u32(&d, out, 1, &err), TARN_ECORRUPT);
  CHECK(strstr(err.message, "does not fit") != NULL);
  /* bit-packed run longer than 2^31-1 values */
  bytes f = {0};
  put_uleb(&f, ((uint64_t)1 << 29) << 1 | 1);
  tarn_err_clear(&err);
  pq_rle_init(&d, f.b, f.n, 0, &err);
  CHECK_EQ_INT(pq_rle_get_u32(&d, out, 1, &err), TARN_ECORRUPT);
}

/* ---- legacy BIT_PACKED ---- */

static void test_bitpacked_legacy(void) {
  /* Encodings.md: 0..7 at width 3, MSB first = 00000101 00111001 01110111. */
  const uint8_t a[] = {0x05, 0x39, 0x77};
  tarn_error err = {0};
  int16_t out[8];
  CHECK_EQ_INT(pq_bitpacked_legacy_get_i16(a, sizeof a, 3, 0, out, 8, &err), 0);
  for (int i = 0; i < 8; i++)
    CHECK_EQ_INT(out[i], i);
  CHECK_EQ_INT(pq_bitpacked_legacy_get_i16(a, sizeof a, 3, 5, out, 3, &err), 0);
  CHECK_EQ_INT(out[0], 5);
  CHECK_EQ_INT(out[2], 7);
  CHECK_EQ_INT(pq_bitpacked_legacy_get_i16(a, sizeof a, 3, 6, out, 3, &err), TARN_ECORRUPT);
  CHECK(strstr(err.message, "BIT_PACKED") != NULL);
  /* 30 values at width 2 occupy 8 bytes (the spec's example sizing). */
  uint8_t z[8];
  memset(z, 0xFF, sizeof z);
  int16_t lv[32];
  tarn_err_clear(&err);
  CHECK_EQ_INT(pq_bitpacked_legacy_get_i16(z, sizeof z, 2, 0, lv, 30, &err), 0);
  CHECK_EQ_INT(lv[29], 3);
  CHECK_EQ_INT(pq_bitpacked_legacy_get_i16(z, sizeof z, 2, 0, lv, 33, &err), TARN_ECORRUPT);
  /* width 16: 0x1234 then 0xFFFF (clamped to INT16_MAX so the max-level check rejects it) */
  const uint8_t w[] = {0x12, 0x34, 0xFF, 0xFF};
  CHECK_EQ_INT(pq_bitpacked_legacy_get_i16(w, sizeof w, 16, 0, lv, 2, NULL), 0);
  CHECK_EQ_INT(lv[0], 0x1234);
  CHECK_EQ_INT(lv[1], INT16_MAX);
  CHECK_EQ_INT(pq_bitpacked_legacy_get_i16(w, sizeof w, 40, 0, lv, 1, NULL), TARN_ECORRUPT);
}

/* ---- PLAIN ---- */

static void test_plain_fixed(void) {
  bytes b = {0};
  put_le32(&b, 7);
  put_le32(&b, (uint32_t)-3);
  put_le32(&b, 0x7fffffff);
  pq_decoder *d = make(PQ_ENC_PLAIN, PQ_INT32, 0, &b, 3);
  uint8_t out[64];
  tarn_error err = {0};
  CHECK_EQ_INT(pq_decoder_get_fixed(d, out, 2, &err), 0);
  CHECK_EQ_INT(rd_i32(out), 7);
  CHECK_EQ_INT(rd_i32(out + 4), -3);
  CHECK_EQ_INT(pq_decoder_get_fixed(d, out, 2, &err), TARN_ECORRUPT);
  pq_decoder_free(d);

  /* INT64 from an unaligned buffer offset, and a value count smaller than the data. */
  bytes c = {0};
  put_byte(&c, 0);
  for (int i = 0; i < 3; i++) {
    uint64_t v = (uint64_t)(INT64_MIN + i);
    for (int k = 0; k < 8; k++)
      put_byte(&c, (uint8_t)(v >> (8 * k)));
  }
  tarn_err_clear(&err);
  pq_decoder *e = NULL;
  CHECK_EQ_INT(pq_decoder_create(PQ_ENC_PLAIN, PQ_INT64, 0, c.b + 1, c.n - 1, 2, &e, &err), 0);
  CHECK_EQ_INT(pq_decoder_get_fixed(e, out + 1, 2, &err), 0);
  CHECK(rd_i64(out + 1) == INT64_MIN);
  CHECK(rd_i64(out + 9) == INT64_MIN + 1);
  CHECK_EQ_INT(pq_decoder_get_fixed(e, out, 1, &err), TARN_ECORRUPT); /* past num_values */
  pq_decoder_free(e);

  /* INT96 (12 bytes), FIXED_LEN_BYTE_ARRAY(3), DOUBLE */
  bytes f = {0};
  put(&f, "abcdefghijklABCDEFGHIJKL", 24);
  pq_decoder *g = make(PQ_ENC_PLAIN, PQ_INT96, 0, &f, 2);
  CHECK_EQ_INT(pq_decoder_get_fixed(g, out, 2, &err), 0);
  CHECK(memcmp(out, f.b, 24) == 0);
  pq_decoder_free(g);
  g = make(PQ_ENC_PLAIN, PQ_FIXED_LEN_BYTE_ARRAY, 5, &f, 10);
  CHECK_EQ_INT(pq_decoder_get_fixed(g, out, 4, &err), 0);
  CHECK(memcmp(out + 15, "DEFGH", 5) == 0);
  CHECK_EQ_INT(pq_decoder_get_fixed(g, out, 1, &err), TARN_ECORRUPT); /* 4 bytes left */
  pq_decoder_free(g);
  double dv = -1.5;
  bytes h = {0};
  put(&h, &dv, 8);
  g = make(PQ_ENC_PLAIN, PQ_DOUBLE, 0, &h, 1);
  CHECK_EQ_INT(pq_decoder_get_fixed(g, out, 1, &err), 0);
  double back;
  memcpy(&back, out, 8);
  CHECK(back == -1.5);
  pq_decoder_free(g);
}

static void test_plain_bool(void) {
  /* 19 values: 1,0,1,1,0,0,0,1 | 0xFF | 1,0,1 */
  bytes b = {0};
  put_byte(&b, 0x8D);
  put_byte(&b, 0xFF);
  put_byte(&b, 0x05);
  pq_decoder *d = make(PQ_ENC_PLAIN, PQ_BOOLEAN, 0, &b, 24);
  uint8_t out[24];
  tarn_error err = {0};
  CHECK_EQ_INT(pq_decoder_get_fixed(d, out, 3, &err), 0);
  CHECK_EQ_INT(pq_decoder_get_fixed(d, out + 3, 16, &err), 0);
  const uint8_t want[19] = {1, 0, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1};
  CHECK(memcmp(out, want, 19) == 0);
  CHECK_EQ_INT(pq_decoder_get_fixed(d, out, 5, &err), 0); /* padding bits */
  CHECK_EQ_INT(pq_decoder_get_fixed(d, out, 1, &err), TARN_ECORRUPT);
  pq_decoder_free(d);
}

static void test_plain_binary(void) {
  bytes b = {0};
  const char *s[] = {"hello", "", "parquet", "x"};
  for (int i = 0; i < 4; i++) {
    put_le32(&b, (uint32_t)strlen(s[i]));
    put(&b, s[i], strlen(s[i]));
  }
  pq_decoder *d = make(PQ_ENC_PLAIN, PQ_BYTE_ARRAY, 0, &b, 4);
  expect_strings(d, s, 4, 3);
  pq_decoder_free(d);

  /* length past the end; truncated length */
  tarn_error err = {0};
  bytes c = {0};
  put_le32(&c, 10);
  put(&c, "abc", 3);
  d = make(PQ_ENC_PLAIN, PQ_BYTE_ARRAY, 0, &c, 4);
  tarn_buf data = {0};
  int32_t offs[4];
  CHECK_EQ_INT(pq_decoder_get_binary(d, offs, &data, 1, &err), TARN_ECORRUPT);
  CHECK(strstr(err.message, "PLAIN") != NULL);
  /* the decoder stays failed */
  CHECK_EQ_INT(pq_decoder_get_binary(d, offs, &data, 1, NULL), TARN_ECORRUPT);
  pq_decoder_free(d);
  bytes e = {0};
  put(&e, "\x01\x00", 2);
  d = make(PQ_ENC_PLAIN, PQ_BYTE_ARRAY, 0, &e, 4);
  CHECK_EQ_INT(pq_decoder_get_binary(d, offs, &data, 1, NULL), TARN_ECORRUPT);
  /* wrong getter */
  uint8_t o[4];
  CHECK_EQ_INT(pq_decoder_get_fixed(d, o, 1, NULL), TARN_EINVAL);
  pq_decoder_free(d);
  tarn_buf_free(&data);
}

/* ---- RLE booleans ---- */

static void test_rle_bool(void) {
  /* length prefix 4, then: RLE run of 3 trues, bit-packed group 1,0,1,1,0,0,0,1 */
  const uint8_t a[] = {4, 0, 0, 0, 0x06, 0x01, 0x03, 0x8D};
  bytes b = {0};
  put(&b, a, sizeof a);
  pq_decoder *d = make(PQ_ENC_RLE, PQ_BOOLEAN, 0, &b, 11);
  uint8_t out[11];
  tarn_error err = {0};
  CHECK_EQ_INT(pq_decoder_get_fixed(d, out, 11, &err), 0);
  const uint8_t want[11] = {1, 1, 1, 1, 0, 1, 1, 0, 0, 0, 1};
  CHECK(memcmp(out, want, 11) == 0);
  pq_decoder_free(d);
  /* the length prefix bounds the stream */
  bytes c = {0};
  put(&c, a, sizeof a);
  c.b[0] = 2;
  d = make(PQ_ENC_RLE, PQ_BOOLEAN, 0, &c, 11);
  CHECK_EQ_INT(pq_decoder_get_fixed(d, out, 4, &err), TARN_ECORRUPT);
  pq_decoder_free(d);
  c.b[0] = 9;
  tarn_err_clear(&err);
  CHECK_EQ_INT(create_rc(PQ_ENC_RLE, PQ_BOOLEAN, 0, &c, 11, &err), TARN_ECORRUPT);
  c.n = 3;
  CHECK_EQ_INT(create_rc(PQ_ENC_RLE, PQ_BOOLEAN, 0, &c, 11, NULL), TARN_ECORRUPT);
  CHECK_EQ_INT(create_rc(PQ_ENC_RLE, PQ_INT32, 0, &c, 11, NULL), TARN_EUNSUPPORTED);
}

/* ---- DELTA_BINARY_PACKED ---- */

static void dbp_expect_i64(const bytes *b, int phys, const int64_t *want, size_t n, size_t step) {
  pq_decoder *d = make(PQ_ENC_DELTA_BINARY_PACKED, phys, 0, b, (int64_t)n);
  if (d == NULL) return;
  uint8_t out[8 * 4096];
  tarn_error err = {0};
  size_t got = 0, w = phys == PQ_INT32 ? 4 : 8;
  while (got < n) {
    size_t k = n - got < step ? n - got : step;
    int rc = pq_decoder_get_fixed(d, out + got * w, k, &err);
    CHECK_EQ_INT(rc, 0);
    if (rc) {
      fprintf(stderr, "  %s\n", err.message);
      break;
    }
    got += k;
  }
  int bad = 0;
  for (size_t i = 0; i < got; i++) {
    int64_t v = w == 4 ? rd_i32(out + 4 * i) : rd_i64(out + 8 * i);
    int64_t e = w == 4 ? (int64_t)(int32_t)(uint32_t)want[i] : want[i];
    if (v != e && bad++ < 3)
      fprintf(stderr, "  value %zu: got %lld want %lld\n", i, (long long)v, (long long)e);
  }
  CHECK_EQ_INT(bad, 0);
  CHECK_EQ_INT(pq_decoder_get_fixed(d, out, 1, &err), TARN_ECORRUPT); /* nothing left */
  pq_decoder_free(d);
}

static void test_dbp_spec_examples(void) {
  /* Example 1 (1,2,3,4,5) with a valid block size: 128 values, 4 miniblocks of 32. */
  const uint8_t ex1[] = {0x80, 0x01, 0x04, 0x05, 0x02, /* block: */ 0x02, 0, 0, 0, 0};
  bytes b = {0};
  put(&b, ex1, sizeof ex1);
  const int64_t w1[] = {1, 2, 3, 4, 5};
  dbp_expect_i64(&b, PQ_INT32, w1, 5, 5);
  dbp_expect_i64(&b, PQ_INT64, w1, 5, 2);

  /* Example 2 (7,5,3,1,2,3,4,5): min delta -2, relative deltas 0,0,0,3,3,3,3 at width 2 (the
   * first miniblock, 8 bytes with padding); unused miniblocks carry arbitrary widths and no
   * bytes, which readers must accept. */
  const uint8_t ex2[] = {0x80, 0x01, 0x04, 0x08, 0x0E, /* block: */ 0x03,
                         2,    0xFF, 0x41, 0x07, 0xC0, 0x3F,
                         0,    0,    0,    0,    0,    0};
  bytes c = {0};
  put(&c, ex2, sizeof ex2);
  const int64_t w2[] = {7, 5, 3, 1, 2, 3, 4, 5};
  dbp_expect_i64(&c, PQ_INT32, w2, 8, 8);
  dbp_expect_i64(&c, PQ_INT64, w2, 8, 3);
  dbp_expect_i64(&c, PQ_INT64, w2, 8, 1);

  /* The spec's own examples use block size 8, which is invalid in a real file. */
  const uint8_t bad[] = {0x08, 0x01, 0x05, 0x02, 0x02, 0x00};
  bytes e = {0};
  put(&e, bad, sizeof bad);
  tarn_error err = {0};
  CHECK_EQ_INT(create_rc(PQ_ENC_DELTA_BINARY_PACKED, PQ_INT32, 0, &e, 5, &err), TARN_ECORRUPT);
  CHECK(strstr(err.message, "DELTA_BINARY_PACKED") != NULL);
  CHECK(strstr(err.message, "multiple of 128") != NULL);
}

static void test_dbp_roundtrip(void) {
  static int64_t v[3000];
  uint64_t x = 12345;
  for (size_t i = 0; i < 3000; i++) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    if (i < 700)
      v[i] = (int64_t)(i * i) - 5000;
    else if (i < 1500)
      v[i] = (int64_t)(x >> 40) - (1 << 23);
    else if (i < 2000)
      v[i] = 42;
    else
      v[i] = (int64_t)x; /* full 64-bit range: deltas need width 64 and wrap */
  }
  const size_t counts[] = {0, 1, 2, 33, 128, 129, 700, 3000};
  const uint64_t shapes[][2] = {{128, 4}, {128, 1}, {256, 8}, {1024, 4}};
  for (size_t s = 0; s < 4; s++)
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
      static bytes b;
      b.n = 0;
      put_dbp(&b, v, counts[c], shapes[s][0], shapes[s][1]);
      dbp_expect_i64(&b, PQ_INT64, v, counts[c], 1000);
      dbp_expect_i64(&b, PQ_INT64, v, counts[c], 7);
    }
  /* INT32 values wrapping around */
  static int64_t v32[300];
  for (int i = 0; i < 300; i++)
    v32[i] = (int32_t)(uint32_t)(0x7FFFFF00u + (uint32_t)i * 97u);
  static bytes b32;
  b32.n = 0;
  put_dbp(&b32, v32, 300, 128, 4);
  dbp_expect_i64(&b32, PQ_INT32, v32, 300, 300);
  dbp_expect_i64(&b32, PQ_INT32, v32, 300, 9);
}

static void test_dbp_wrap_and_wide(void) {
  /* INT64_MAX, INT64_MIN, INT64_MIN + 1: deltas 1 (wrapping) and 1. */
  bytes b = {0};
  put_uleb(&b, 128);
  put_uleb(&b, 4);
  put_uleb(&b, 3);
  put_zigzag(&b, INT64_MAX);
  put_zigzag(&b, 1);
  for (int i = 0; i < 4; i++)
    put_byte(&b, 0);
  const int64_t w[] = {INT64_MAX, INT64_MIN, INT64_MIN + 1};
  dbp_expect_i64(&b, PQ_INT64, w, 3, 3);

  /* INT32 column whose miniblock uses width 33: the reader accepts it and keeps 32 bits. */
  bytes c = {0};
  put_uleb(&c, 128);
  put_uleb(&c, 4);
  put_uleb(&c, 3);
  put_zigzag(&c, 10);
  put_zigzag(&c, 0);
  put_byte(&c, 33);
  put_byte(&c, 0);
  put_byte(&c, 0);
  put_byte(&c, 0);
  uint64_t deltas[32] = {((uint64_t)1 << 32) + 5, ((uint64_t)1 << 32) - 1};
  put_packed(&c, deltas, 32, 33);
  const int64_t w32[] = {10, 15, 14};
  dbp_expect_i64(&c, PQ_INT32, w32, 3, 3);

  /* An unpadded final miniblock: 3 deltas at width 8 followed by nothing (instead of 32 bytes). */
  bytes e = {0};
  put_uleb(&e, 128);
  put_uleb(&e, 4);
  put_uleb(&e, 4);
  put_zigzag(&e, 0);
  put_zigzag(&e, 0);
  put_byte(&e, 8);
  put_byte(&e, 0);
  put_byte(&e, 0);
  put_byte(&e, 0);
  put_byte(&e, 1);
  put_byte(&e, 2);
  put_byte(&e, 3);
  const int64_t we[] = {0, 1, 3, 6};
  dbp_expect_i64(&e, PQ_INT64, we, 4, 4);
  /* ...but a miniblock missing values it must hold is an error */
  e.n -= 1;
  pq_decoder *d = make(PQ_ENC_DELTA_BINARY_PACKED, PQ_INT64, 0, &e, 4);
  uint8_t out[64];
  tarn_error err = {0};
  CHECK_EQ_INT(pq_decoder_get_fixed(d, out, 4, &err), TARN_ECORRUPT);
  pq_decoder_free(d);
}

static void test_dbp_malformed(void) {
  tarn_error err = {0};
  uint8_t out[8 * 64];
  /* truncated headers */
  const uint8_t full[] = {0x80, 0x01, 0x04, 0x05, 0x02};
  for (size_t cut = 0; cut < sizeof full; cut++) {
    bytes b = {0};
    put(&b, full, cut);
    CHECK_EQ_INT(create_rc(PQ_ENC_DELTA_BINARY_PACKED, PQ_INT32, 0, &b, 5, NULL), TARN_ECORRUPT);
  }
  /* bad shapes: block 100; 0 miniblocks; miniblocks of 16 values; 3 miniblocks of 128 */
  const uint64_t shapes[][2] = {{100, 1}, {128, 0}, {128, 8}, {128, 3}, {0, 1}, {1ull << 40, 4}};
  for (size_t i = 0; i < 6; i++) {
    bytes b = {0};
    put_uleb(&b, shapes[i][0]);
    put_uleb(&b, shapes[i][1]);
    put_uleb(&b, 5);
    put_zigzag(&b, 1);
    tarn_err_clear(&err);
    CHECK_EQ_INT(create_rc(PQ_ENC_DELTA_BINARY_PACKED, PQ_INT64, 0, &b, 5, &err), TARN_ECORRUPT);
    CHECK(strstr(err.message, "DELTA_BINARY_PACKED") != NULL);
  }
  /* a huge declared count: rejected against the page's value count */
  bytes h = {0};
  put_uleb(&h, 128);
  put_uleb(&h, 4);
  put_uleb(&h, (uint64_t)1 << 40);
  put_zigzag(&h, 1);
  tarn_err_clear(&err);
  CHECK_EQ_INT(create_rc(PQ_ENC_DELTA_BINARY_PACKED, PQ_INT64, 0, &h, 1000, &err), TARN_ECORRUPT);
  CHECK(strstr(err.message, "declares") != NULL);
  /* ...and a large count that the page allows but the data does not hold: errors when read,
   * without allocating anything sized by the count */
  pq_decoder *d = NULL;
  CHECK_EQ_INT(pq_decoder_create(PQ_ENC_DELTA_BINARY_PACKED, PQ_INT64, 0, h.b, h.n,
                                 (int64_t)1 << 40, &d, &err),
               0);
  CHECK_EQ_INT(pq_decoder_get_fixed(d, out, 1, &err), 0);
  CHECK_EQ_INT(pq_decoder_get_fixed(d, out, 64, &err), TARN_ECORRUPT);
  pq_decoder_free(d);
  /* bit width 65 */
  bytes w = {0};
  put_uleb(&w, 128);
  put_uleb(&w, 4);
  put_uleb(&w, 5);
  put_zigzag(&w, 1);
  put_zigzag(&w, 0);
  put_byte(&w, 65);
  for (int i = 0; i < 3 + 300; i++)
    put_byte(&w, 0);
  d = make(PQ_ENC_DELTA_BINARY_PACKED, PQ_INT64, 0, &w, 5);
  tarn_err_clear(&err);
  CHECK_EQ_INT(pq_decoder_get_fixed(d, out, 5, &err), TARN_ECORRUPT);
  CHECK(strstr(err.message, "65") != NULL);
  pq_decoder_free(d);
  /* block header missing its bit widths */
  bytes m = {0};
  put(&m, full, sizeof full);
  put_zigzag(&m, 1);
  put_byte(&m, 0);
  d = make(PQ_ENC_DELTA_BINARY_PACKED, PQ_INT32, 0, &m, 5);
  CHECK_EQ_INT(pq_decoder_get_fixed(d, out, 5, NULL), TARN_ECORRUPT);
  pq_decoder_free(d);
  /* wrong physical type */
  CHECK_EQ_INT(create_rc(PQ_ENC_DELTA_BINARY_PACKED, PQ_DOUBLE, 0, &m, 5, NULL), TARN_EUNSUPPORTED);
}

/* ---- DELTA_LENGTH_BYTE_ARRAY ---- */

static void test_dlba(void) {
  /* Encodings.md: "Hello","World","Foobar","ABCDEF" = DBP(5,5,6,6) + "HelloWorldFoobarABCDEF".
   * Lengths by hand: first 5, deltas 0,1,0, min 0, relative 0,1,0 at width 1. */
  const uint8_t lens[] = {0x80, 0x01, 0x04, 0x04, 0x0A, 0x00, 1, 0, 0, 0, 0x02, 0, 0, 0};
  bytes b = {0};
  put(&b, lens, sizeof lens);
  put(&b, "HelloWorldFoobarABCDEF", 22);
  const char *want[] = {"Hello", "World", "Foobar", "ABCDEF"};
  pq_decoder *d = make(PQ_ENC_DELTA_LENGTH_BYTE_ARRAY, PQ_BYTE_ARRAY, 0, &b, 4);
  expect_strings(d, want, 4, 4);
  pq_decoder_free(d);
  d = make(PQ_ENC_DELTA_LENGTH_BYTE_ARRAY, PQ_BYTE_ARRAY, 0, &b, 6); /* 2 nulls in the page */
  expect_strings(d, want, 4, 1);
  pq_decoder_free(d);

  /* bytes missing at the end */
  tarn_error err = {0};
  b.n -= 1;
  d = make(PQ_ENC_DELTA_LENGTH_BYTE_ARRAY, PQ_BYTE_ARRAY, 0, &b, 4);
  tarn_buf data = {0};
  int32_t offs[4];
  CHECK_EQ_INT(pq_decoder_get_binary(d, offs, &data, 3, &err), 0);
  CHECK_EQ_INT(pq_decoder_get_binary(d, offs, &data, 1, &err), TARN_ECORRUPT);
  CHECK(strstr(err.message, "DELTA_LENGTH_BYTE_ARRAY") != NULL);
  pq_decoder_free(d);

  /* a negative length: lengths 3, -1 */
  static const int64_t neg[] = {3, -1};
  bytes n = {0};
  put_dbp(&n, neg, 2, 128, 4);
  put(&n, "abcdef", 6);
  d = make(PQ_ENC_DELTA_LENGTH_BYTE_ARRAY, PQ_BYTE_ARRAY, 0, &n, 2);
  tarn_err_clear(&err);
  CHECK_EQ_INT(pq_decoder_get_binary(d, offs, &data, 2, &err), TARN_ECORRUPT);
  CHECK(strstr(err.message, "negative") != NULL);
  pq_decoder_free(d);

  /* lengths stream cut short: found when locating the bytes */
  bytes t = {0};
  put(&t, lens, 11);
  CHECK_EQ_INT(create_rc(PQ_ENC_DELTA_LENGTH_BYTE_ARRAY, PQ_BYTE_ARRAY, 0, &t, 4, NULL),
               TARN_ECORRUPT);
  CHECK_EQ_INT(create_rc(PQ_ENC_DELTA_LENGTH_BYTE_ARRAY, PQ_INT32, 0, &t, 4, NULL),
               TARN_EUNSUPPORTED);
  tarn_buf_free(&data);
}

/* ---- DELTA_BYTE_ARRAY ---- */

static void test_dba_spec(void) {
  /* Encodings.md: "axis","axle","babble","babyhood" = DBP(0,2,0,3) + DBP(4,2,6,5) +
   * "axislebabbleyhood". By hand: prefixes: first 0, deltas 2,-2,3, min -2 (zigzag 3), relative
   * 4,0,5 at width 3 = bytes 0x44 0x01; suffixes: first 4 (zigzag 8), deltas -2,4,-1, min -2,
   * relative 0,6,1 at width 3 = byte 0x70. */
  const uint8_t pre[] = {0x80, 0x01, 0x04, 0x04, 0x00, 0x03, 3, 0, 0, 0, 0x44,
                         0x01, 0,    0,    0,    0,    0,    0, 0, 0, 0, 0};
  const uint8_t suf[] = {0x80, 0x01, 0x04, 0x04, 0x08, 0x03, 3, 0, 0, 0, 0x70,
                         0x00, 0,    0,    0,    0,    0,    0, 0, 0, 0, 0};
  bytes b = {0};
  put(&b, pre, sizeof pre);
  put(&b, suf, sizeof suf);
  put(&b, "axislebabbleyhood", 17);
  const char *want[] = {"axis", "axle", "babble", "babyhood"};
  for (size_t step = 1; step <= 4; step++) {
    pq_decoder *d = make(PQ_ENC_DELTA_BYTE_ARRAY, PQ_BYTE_ARRAY, 0, &b, 4);
    expect_strings(d, want, 4, step);
    pq_decoder_free(d);
  }

  /* Only empty values, into an empty buffer (whose data pointer stays NULL), then "ab". */
  static const int64_t pe[] = {0, 0, 0, 0}, se[] = {0, 0, 0, 2};
  bytes z = {0};
  put_dbp(&z, pe, 4, 128, 4);
  put_dbp(&z, se, 4, 128, 4);
  put(&z, "ab", 2);
  const char *wz[] = {"", "", "", "ab"};
  for (size_t step = 1; step <= 4; step += 3) {
    pq_decoder *dz = make(PQ_ENC_DELTA_BYTE_ARRAY, PQ_BYTE_ARRAY, 0, &z, 4);
    expect_strings(dz, wz, 4, step);
    pq_decoder_free(dz);
    dz = make(PQ_ENC_DELTA_LENGTH_BYTE_ARRAY, PQ_BYTE_ARRAY, 0, &z, 4);
    pq_decoder_free(dz);
  }

  /* Prefix longer than the previous value: prefixes 0,5 after "axis". */
  static const int64_t p2[] = {0, 5}, s2[] = {4, 1};
  bytes e = {0};
  put_dbp(&e, p2, 2, 128, 4);
  put_dbp(&e, s2, 2, 128, 4);
  put(&e, "axisz", 5);
  pq_decoder *d = make(PQ_ENC_DELTA_BYTE_ARRAY, PQ_BYTE_ARRAY, 0, &e, 2);
  tarn_buf data = {0};
  int32_t offs[4];
  tarn_error err = {0};
  CHECK_EQ_INT(pq_decoder_get_binary(d, offs, &data, 2, &err), TARN_ECORRUPT);
  CHECK(strstr(err.message, "prefix length 5") != NULL);
  pq_decoder_free(d);
  /* first value with a prefix */
  static const int64_t p3[] = {1}, s3[] = {1};
  bytes f = {0};
  put_dbp(&f, p3, 1, 128, 4);
  put_dbp(&f, s3, 1, 128, 4);
  put(&f, "a", 1);
  d = make(PQ_ENC_DELTA_BYTE_ARRAY, PQ_BYTE_ARRAY, 0, &f, 1);
  CHECK_EQ_INT(pq_decoder_get_binary(d, offs, &data, 1, NULL), TARN_ECORRUPT);
  pq_decoder_free(d);
  /* suffix past the end */
  bytes g = {0};
  put_dbp(&g, p2, 1, 128, 4);
  put_dbp(&g, s2, 1, 128, 4);
  put(&g, "axi", 3);
  d = make(PQ_ENC_DELTA_BYTE_ARRAY, PQ_BYTE_ARRAY, 0, &g, 1);
  CHECK_EQ_INT(pq_decoder_get_binary(d, offs, &data, 1, NULL), TARN_ECORRUPT);
  pq_decoder_free(d);
  /* prefix and suffix counts differ */
  bytes h = {0};
  put_dbp(&h, p2, 2, 128, 4);
  put_dbp(&h, s2, 1, 128, 4);
  put(&h, "axis", 4);
  tarn_err_clear(&err);
  CHECK_EQ_INT(create_rc(PQ_ENC_DELTA_BYTE_ARRAY, PQ_BYTE_ARRAY, 0, &h, 2, &err), TARN_ECORRUPT);
  CHECK(strstr(err.message, "DELTA_BYTE_ARRAY") != NULL);
  tarn_buf_free(&data);
}

static void test_dba_fixed(void) {
  /* FIXED_LEN_BYTE_ARRAY(4): "abcd","abce","abzz","qqqq","qqqr" */
  static const int64_t p[] = {0, 3, 2, 0, 3}, s[] = {4, 1, 2, 4, 1};
  bytes b = {0};
  put_dbp(&b, p, 5, 128, 4);
  put_dbp(&b, s, 5, 128, 4);
  put(&b, "abcdezzqqqqr", 12);
  for (size_t step = 1; step <= 5; step += 2) {
    pq_decoder *d = make(PQ_ENC_DELTA_BYTE_ARRAY, PQ_FIXED_LEN_BYTE_ARRAY, 4, &b, 5);
    uint8_t out[20];
    tarn_error err = {0};
    for (size_t got = 0; got < 5;) {
      size_t k = 5 - got < step ? 5 - got : step;
      CHECK_EQ_INT(pq_decoder_get_fixed(d, out + 4 * got, k, &err), 0);
      got += k;
    }
    CHECK(memcmp(out, "abcdabceabzzqqqqqqqr", 20) == 0);
    pq_decoder_free(d);
  }
  /* a value of the wrong length for the column */
  pq_decoder *d = make(PQ_ENC_DELTA_BYTE_ARRAY, PQ_FIXED_LEN_BYTE_ARRAY, 5, &b, 5);
  uint8_t out[25];
  tarn_error err = {0};
  CHECK_EQ_INT(pq_decoder_get_fixed(d, out, 1, &err), TARN_ECORRUPT);
  CHECK(strstr(err.message, "FIXED_LEN_BYTE_ARRAY(5)") != NULL);
  pq_decoder_free(d);
}

/* ---- BYTE_STREAM_SPLIT ---- */

static void test_bss(void) {
  /* Encodings.md: AA BB CC DD | 00 11 22 33 | A3 B4 C5 D6 -> AA 00 A3 BB 11 B4 CC 22 C5 DD 33 D6 */
  const uint8_t enc[] = {0xAA, 0x00, 0xA3, 0xBB, 0x11, 0xB4, 0xCC, 0x22, 0xC5, 0xDD, 0x33, 0xD6};
  const uint8_t dec[] = {0xAA, 0xBB, 0xCC, 0xDD, 0x00, 0x11, 0x22, 0x33, 0xA3, 0xB4, 0xC5, 0xD6};
  bytes b = {0};
  put(&b, enc, sizeof enc);
  uint8_t out[64];
  tarn_error err = {0};
  pq_decoder *d = make(PQ_ENC_BYTE_STREAM_SPLIT, PQ_FLOAT, 0, &b, 3);
  CHECK_EQ_INT(pq_decoder_get_fixed(d, out, 1, &err), 0);
  CHECK_EQ_INT(pq_decoder_get_fixed(d, out + 4, 2, &err), 0);
  CHECK(memcmp(out, dec, 12) == 0);
  CHECK_EQ_INT(pq_decoder_get_fixed(d, out, 1, &err), TARN_ECORRUPT);
  pq_decoder_free(d);
  /* the same bytes as FIXED_LEN_BYTE_ARRAY(3): 4 values, 3 streams of 4 */
  d = make(PQ_ENC_BYTE_STREAM_SPLIT, PQ_FIXED_LEN_BYTE_ARRAY, 3, &b, 4);
  CHECK_EQ_INT(pq_decoder_get_fixed(d, out, 4, &err), 0);
  const uint8_t flba[] = {0xAA, 0x11, 0xC5, 0x00, 0xB4, 0xDD, 0xA3, 0xCC, 0x33, 0xBB, 0x22, 0xD6};
  CHECK(memcmp(out, flba, 12) == 0);
  pq_decoder_free(d);
  /* known floats and doubles */
  const float fv[3] = {1.0f, -2.5f, 3.25f};
  const double dv[2] = {0.1, -1e300};
  uint8_t raw[24];
  bytes f = {0}, g = {0};
  memcpy(raw, fv, 12);
  for (int k = 0; k < 4; k++)
    for (int i = 0; i < 3; i++)
      put_byte(&f, raw[i * 4 + k]);
  memcpy(raw, dv, 16);
  for (int k = 0; k < 8; k++)
    for (int i = 0; i < 2; i++)
      put_byte(&g, raw[i * 8 + k]);
  d = make(PQ_ENC_BYTE_STREAM_SPLIT, PQ_FLOAT, 0, &f, 3);
  CHECK_EQ_INT(pq_decoder_get_fixed(d, out, 3, &err), 0);
  float fo[3];
  memcpy(fo, out, 12);
  CHECK(fo[0] == 1.0f && fo[1] == -2.5f && fo[2] == 3.25f);
  pq_decoder_free(d);
  d = make(PQ_ENC_BYTE_STREAM_SPLIT, PQ_DOUBLE, 0, &g, 2);
  CHECK_EQ_INT(pq_decoder_get_fixed(d, out, 2, &err), 0);
  double dout[2];
  memcpy(dout, out, 16);
  CHECK(dout[0] == 0.1 && dout[1] == -1e300);
  pq_decoder_free(d);
  d = make(PQ_ENC_BYTE_STREAM_SPLIT, PQ_INT64, 0, &g, 2);
  CHECK_EQ_INT(pq_decoder_get_fixed(d, out, 2, &err), 0);
  CHECK(memcmp(out, dv, 16) == 0);
  pq_decoder_free(d);
  /* not a multiple of the width; more values than the page */
  b.n = 10;
  CHECK_EQ_INT(create_rc(PQ_ENC_BYTE_STREAM_SPLIT, PQ_INT32, 0, &b, 10, NULL), TARN_ECORRUPT);
  b.n = 12;
  CHECK_EQ_INT(create_rc(PQ_ENC_BYTE_STREAM_SPLIT, PQ_INT32, 0, &b, 2, NULL), TARN_ECORRUPT);
  CHECK_EQ_INT(create_rc(PQ_ENC_BYTE_STREAM_SPLIT, PQ_BYTE_ARRAY, 0, &b, 3, NULL),
               TARN_EUNSUPPORTED);
  /* an empty page (all nulls) */
  b.n = 0;
  d = make(PQ_ENC_BYTE_STREAM_SPLIT, PQ_DOUBLE, 0, &b, 5);
  CHECK_EQ_INT(pq_decoder_get_fixed(d, out, 0, &err), 0);
  CHECK_EQ_INT(pq_decoder_get_fixed(d, out, 1, &err), TARN_ECORRUPT);
  pq_decoder_free(d);
}

/* ---- names, widths, creation errors ---- */

static void test_misc(void) {
  CHECK_EQ_STR(pq_encoding_name(PQ_ENC_RLE_DICTIONARY), "RLE_DICTIONARY");
  CHECK_EQ_STR(pq_encoding_name(PQ_ENC_DELTA_BYTE_ARRAY), "DELTA_BYTE_ARRAY");
  CHECK_EQ_STR(pq_encoding_name(PQ_ENC_BYTE_STREAM_SPLIT), "BYTE_STREAM_SPLIT");
  CHECK_EQ_STR(pq_encoding_name(1), "UNKNOWN");
  CHECK_EQ_STR(pq_encoding_name(-5), "UNKNOWN");
  CHECK_EQ_INT(pq_physical_width(PQ_BOOLEAN, 0), 1);
  CHECK_EQ_INT(pq_physical_width(PQ_INT32, 0), 4);
  CHECK_EQ_INT(pq_physical_width(PQ_INT64, 0), 8);
  CHECK_EQ_INT(pq_physical_width(PQ_INT96, 0), 12);
  CHECK_EQ_INT(pq_physical_width(PQ_FLOAT, 0), 4);
  CHECK_EQ_INT(pq_physical_width(PQ_DOUBLE, 0), 8);
  CHECK_EQ_INT(pq_physical_width(PQ_BYTE_ARRAY, 0), 0);
  CHECK_EQ_INT(pq_physical_width(PQ_FIXED_LEN_BYTE_ARRAY, 16), 16);
  bytes b = {0};
  tarn_error err = {0};
  CHECK_EQ_INT(create_rc(PQ_ENC_RLE_DICTIONARY, PQ_INT32, 0, &b, 0, &err), TARN_EUNSUPPORTED);
  CHECK_EQ_INT(create_rc(PQ_ENC_BIT_PACKED, PQ_INT32, 0, &b, 0, NULL), TARN_EUNSUPPORTED);
  CHECK_EQ_INT(create_rc(42, PQ_INT32, 0, &b, 0, NULL), TARN_EUNSUPPORTED);
  CHECK_EQ_INT(create_rc(PQ_ENC_PLAIN, 9, 0, &b, 0, NULL), TARN_ECORRUPT);
  CHECK_EQ_INT(create_rc(PQ_ENC_PLAIN, PQ_FIXED_LEN_BYTE_ARRAY, 0, &b, 0, NULL), TARN_ECORRUPT);
  CHECK_EQ_INT(create_rc(PQ_ENC_PLAIN, PQ_INT32, 0, &b, -1, NULL), TARN_ECORRUPT);
  pq_decoder *d = NULL;
  CHECK_EQ_INT(pq_decoder_create(PQ_ENC_PLAIN, PQ_INT32, 0, NULL, 0, 0, &d, NULL), 0);
  uint8_t o[4];
  CHECK_EQ_INT(pq_decoder_get_fixed(d, o, 1, NULL), TARN_ECORRUPT);
  pq_decoder_free(d);
  pq_decoder_free(NULL);
}

/* ---- robustness: random and mutated inputs ---- */

static uint64_t rng_state = 0x243F6A8885A308D3ull;
static uint64_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

/* Drives one decoder over data with random request sizes until it fails or runs dry. */
static void drive(int enc, int phys, int tl, const uint8_t *p, size_t n) {
  pq_decoder *d = NULL;
  int64_t nv = (int64_t)(rnd() % 2000);
  if (pq_decoder_create(enc, phys, tl, p, n, nv, &d, NULL) != 0) return;
  static uint8_t out[600 * 16];
  int32_t offs[600];
  tarn_buf data = {0};
  for (int r = 0; r < 20; r++) {
    size_t k = (size_t)(rnd() % 600);
    int rc = phys == PQ_BYTE_ARRAY ? pq_decoder_get_binary(d, offs, &data, k, NULL)
                                   : pq_decoder_get_fixed(d, out, k, NULL);
    if (rc) break;
  }
  tarn_buf_free(&data);
  pq_decoder_free(d);
}

static void fuzz_one(const uint8_t *p, size_t n) {
  static const int combos[][3] = {
      {PQ_ENC_PLAIN, PQ_BOOLEAN, 0},
      {PQ_ENC_PLAIN, PQ_INT32, 0},
      {PQ_ENC_PLAIN, PQ_INT96, 0},
      {PQ_ENC_PLAIN, PQ_BYTE_ARRAY, 0},
      {PQ_ENC_PLAIN, PQ_FIXED_LEN_BYTE_ARRAY, 3},
      {PQ_ENC_RLE, PQ_BOOLEAN, 0},
      {PQ_ENC_DELTA_BINARY_PACKED, PQ_INT32, 0},
      {PQ_ENC_DELTA_BINARY_PACKED, PQ_INT64, 0},
      {PQ_ENC_DELTA_LENGTH_BYTE_ARRAY, PQ_BYTE_ARRAY, 0},
      {PQ_ENC_DELTA_BYTE_ARRAY, PQ_BYTE_ARRAY, 0},
      {PQ_ENC_DELTA_BYTE_ARRAY, PQ_FIXED_LEN_BYTE_ARRAY, 2},
      {PQ_ENC_BYTE_STREAM_SPLIT, PQ_DOUBLE, 0},
      {PQ_ENC_BYTE_STREAM_SPLIT, PQ_FIXED_LEN_BYTE_ARRAY, 5},
  };
  for (size_t c = 0; c < sizeof combos / sizeof combos[0]; c++)
    drive(combos[c][0], combos[c][1], combos[c][2], p, n);
  pq_rle_decoder r;
  int bw = (int)(rnd() % 34);
  if (pq_rle_init(&r, p, n, bw, NULL) == 0) {
    static uint32_t u[700];
    static int16_t l[700];
    for (int k = 0; k < 10; k++) {
      size_t want = (size_t)(rnd() % 700);
      if ((k & 1 ? pq_rle_get_i16(&r, l, want, NULL) : pq_rle_get_u32(&r, u, want, NULL)) != 0)
        break;
    }
  }
  int16_t lv[64];
  pq_bitpacked_legacy_get_i16(p, n, (int)(rnd() % 34), (size_t)(rnd() % 64), lv,
                              (size_t)(rnd() % 64), NULL);
}

static void test_fuzz_random(void) {
  static uint8_t buf[512];
  for (int iter = 0; iter < 3000; iter++) {
    size_t n = (size_t)(rnd() % sizeof buf);
    for (size_t i = 0; i < n; i++)
      buf[i] = (uint8_t)rnd();
    /* exact-size heap copy so ASan sees any read past the end */
    uint8_t *p = malloc(n ? n : 1);
    memcpy(p, buf, n);
    fuzz_one(p, n);
    free(p);
  }
  CHECK(1);
}

static void test_fuzz_mutated(void) {
  /* Valid streams with bytes flipped, cut and extended. */
  static bytes seeds[6];
  static int64_t v[400];
  for (int i = 0; i < 400; i++)
    v[i] = (int64_t)(rnd() % 1000) - 300;
  put_dbp(&seeds[0], v, 400, 128, 4);
  put_dbp(&seeds[1], v, 40, 256, 8);
  put(&seeds[1], "abcdefghijklmnopqrstuvwxyz0123456789", 36);
  static const int64_t p[] = {0, 3, 2, 0, 3}, s[] = {4, 1, 2, 4, 1};
  put_dbp(&seeds[2], p, 5, 128, 4);
  put_dbp(&seeds[2], s, 5, 128, 4);
  put(&seeds[2], "abcdezzqqqqr", 12);
  const uint8_t rle[] = {0x03, 0x88, 0xC6, 0xFA, 0x0A, 0x05, 0x05, 0x88, 0xC6};
  put(&seeds[3], rle, sizeof rle);
  put_le32(&seeds[4], 9);
  put(&seeds[4], rle, sizeof rle);
  for (int i = 0; i < 6; i++) {
    put_le32(&seeds[5], 3);
    put(&seeds[5], "xyz", 3);
  }
  for (int iter = 0; iter < 3000; iter++) {
    const bytes *sd = &seeds[rnd() % 6];
    size_t n = sd->n;
    static uint8_t buf[sizeof seeds[0].b];
    memcpy(buf, sd->b, n);
    int muts = 1 + (int)(rnd() % 4);
    for (int m = 0; m < muts; m++) {
      switch (rnd() % 3) {
      case 0:
        if (n) buf[rnd() % n] ^= (uint8_t)(1u << (rnd() % 8));
        break;
      case 1:
        if (n) buf[rnd() % n] = (uint8_t)rnd();
        break;
      default: n = n ? (size_t)(rnd() % n) : 0; break;
      }
    }
    uint8_t *q = malloc(n ? n : 1);
    memcpy(q, buf, n);
    fuzz_one(q, n);
    free(q);
  }
  CHECK(1);
}

int main(void) {
  RUN(test_rle_runs);
  RUN(test_rle_spec_bitpacked);
  RUN(test_rle_widths);
  RUN(test_rle_truncated_group);
  RUN(test_rle_huge_run);
  RUN(test_rle_errors);
  RUN(test_bitpacked_legacy);
  RUN(test_plain_fixed);
  RUN(test_plain_bool);
  RUN(test_plain_binary);
  RUN(test_rle_bool);
  RUN(test_dbp_spec_examples);
  RUN(test_dbp_roundtrip);
  RUN(test_dbp_wrap_and_wide);
  RUN(test_dbp_malformed);
  RUN(test_dlba);
  RUN(test_dba_spec);
  RUN(test_dba_fixed);
  RUN(test_bss);
  RUN(test_misc);
  RUN(test_fuzz_random);
  RUN(test_fuzz_mutated);
  return check_finish();
}
