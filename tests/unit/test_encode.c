/*
 * Tests for the encoders (encode.h) and pq_compress (codec.h). Every encoder's output goes back
 * through the matching decoder of encoding.h and must give the input back, over random and edge
 * inputs; a few outputs are also checked byte for byte against examples worked from
 * parquet-format's Encodings.md, so the encoders are not checked only against our own decoders.
 * Compressed pages are checked through pq_decompress and through each library's own
 * decompressor.
 */
#include <brotli/decode.h>
#include <lz4.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "check.h"
#include "parquet/codec.h"
#include "parquet/encode.h"
#include "parquet/encoding.h"
#include "parquet/format.h"

/* ---- helpers ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void) { /* xorshift64: deterministic, so failures reproduce */
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

static int bytes_equal(const void *a, const void *b, size_t n) {
  return n == 0 || memcmp(a, b, n) == 0;
}

static void store32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

static void store64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

/* ---- RLE / bit-packed hybrid ---- */

/* Encodes and decodes n u32 values; checks the values and that the decoder used every byte. */
static int rle_roundtrip_u32(const uint32_t *v, size_t n, int bw) {
  tarn_buf out = {0};
  tarn_error err = {0};
  int ok = pq_rle_encode_u32(v, n, bw, &out, &err) == 0;
  if (!ok) fprintf(stderr, "encode failed: %s\n", err.message);
  uint32_t *back = malloc((n ? n : 1) * sizeof *back);
  pq_rle_decoder d;
  if (ok) ok = pq_rle_init(&d, out.data, out.len, bw, &err) == 0;
  if (ok && n) ok = pq_rle_get_u32(&d, back, n, &err) == 0;
  if (ok) ok = bytes_equal(back, v, n * sizeof *v) && d.pos == d.end;
  if (!ok) fprintf(stderr, "RLE u32 round trip failed: n=%zu bw=%d %s\n", n, bw, err.message);
  free(back);
  tarn_buf_free(&out);
  return ok;
}

static int rle_roundtrip_i16(const int16_t *v, size_t n, int bw) {
  tarn_buf out = {0};
  tarn_error err = {0};
  int ok = pq_rle_encode_i16(v, n, bw, &out, &err) == 0;
  int16_t *back = malloc((n ? n : 1) * sizeof *back);
  pq_rle_decoder d;
  if (ok) ok = pq_rle_init(&d, out.data, out.len, bw, &err) == 0;
  if (ok && n) ok = pq_rle_get_i16(&d, back, n, &err) == 0;
  if (ok) ok = bytes_equal(back, v, n * sizeof *v) && d.pos == d.end;
  if (!ok) fprintf(stderr, "RLE i16 round trip failed: n=%zu bw=%d %s\n", n, bw, err.message);
  free(back);
  tarn_buf_free(&out);
  return ok;
}

static uint32_t mask_of(int bw) { return bw == 32 ? UINT32_MAX : (uint32_t)((1ull << bw) - 1); }

static void test_rle_roundtrip(void) {
  size_t sizes[] = {0, 1, 2, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 4099};
  uint32_t *v = malloc(5000 * sizeof *v);
  for (int bw = 0; bw <= 32; bw++) {
    uint32_t m = mask_of(bw);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
      size_t n = sizes[s];
      for (int pattern = 0; pattern < 6; pattern++) {
        for (size_t i = 0; i < n; i++) {
          switch (pattern) {
          case 0: v[i] = (uint32_t)rng() & m; break;      /* random */
          case 1: v[i] = m; break;                        /* all equal, the maximum */
          case 2: v[i] = (i & 1) ? m : 0; break;          /* alternating */
          case 3: v[i] = (uint32_t)((i / 13) & m); break; /* runs of 13 */
          case 4: v[i] = (uint32_t)(rng() % 3 == 0 ? rng() & m : 0); break; /* sparse */
          default: v[i] = (uint32_t)((i / (1 + rng() % 20)) & m); break;    /* mixed runs */
          }
        }
        CHECK(rle_roundtrip_u32(v, n, bw));
      }
    }
  }
  /* Runs of every length next to literals: exercises completing a partial group from a run. */
  for (size_t lead = 0; lead < 10; lead++) {
    for (size_t run = 1; run < 30; run++) {
      size_t n = 0;
      for (size_t i = 0; i < lead; i++)
        v[n++] = (uint32_t)(i % 2);
      for (size_t i = 0; i < run; i++)
        v[n++] = 3;
      for (size_t i = 0; i < 5; i++)
        v[n++] = (uint32_t)(i % 3);
      CHECK(rle_roundtrip_u32(v, n, 2));
    }
  }
  free(v);

  /* Levels: widths 0..16 with the patterns of definition levels. */
  int16_t *l = malloc(70000 * sizeof *l);
  for (int bw = 0; bw <= 16; bw++) {
    int16_t maxv = (int16_t)(bw == 16 ? INT16_MAX : (1 << bw) - 1); /* levels are never negative */
    size_t n = 70000;
    for (size_t i = 0; i < n; i++)
      l[i] = (int16_t)(rng() % 10 == 0 ? 0 : maxv);
    CHECK(rle_roundtrip_i16(l, n, bw));
    for (size_t i = 0; i < n; i++)
      l[i] = (int16_t)(rng() & (uint64_t)maxv);
    CHECK(rle_roundtrip_i16(l, n, bw));
  }
  CHECK(rle_roundtrip_i16(l, 0, 1));
  free(l);
}

/* A long run costs a few bytes, not one bit per value. */
static void test_rle_sizes(void) {
  int16_t *l = malloc(1000000 * sizeof *l);
  for (size_t i = 0; i < 1000000; i++)
    l[i] = 1;
  tarn_buf out = {0};
  CHECK(pq_rle_encode_i16(l, 1000000, 1, &out, NULL) == 0);
  CHECK(out.len <= 5);
  CHECK(rle_roundtrip_i16(l, 1000000, 1));
  tarn_buf_free(&out);
  free(l);
}

/* Byte-exact outputs worked by hand from Encodings.md. */
static void test_rle_bytes(void) {
  tarn_buf out = {0};
  /* The bit-packing example: 0..7 at width 3 -> 10001000 11000110 11111010, after the header
   * (1 group << 1 | 1). */
  uint32_t v8[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  CHECK(pq_rle_encode_u32(v8, 8, 3, &out, NULL) == 0);
  const uint8_t e1[] = {0x03, 0x88, 0xC6, 0xFA};
  CHECK(out.len == sizeof e1 && memcmp(out.data, e1, sizeof e1) == 0);
  /* A repeat run: 10 x 5 at width 3 -> header 10 << 1, value in one byte. */
  out.len = 0;
  uint32_t r[10] = {5, 5, 5, 5, 5, 5, 5, 5, 5, 5};
  CHECK(pq_rle_encode_u32(r, 10, 3, &out, NULL) == 0);
  const uint8_t e2[] = {0x14, 0x05};
  CHECK(out.len == sizeof e2 && memcmp(out.data, e2, sizeof e2) == 0);
  /* Three values at width 2, padded to a group of 8 (2 bytes): 1 | 2 << 2 | 3 << 4. */
  out.len = 0;
  uint32_t t[3] = {1, 2, 3};
  CHECK(pq_rle_encode_u32(t, 3, 2, &out, NULL) == 0);
  const uint8_t e3[] = {0x03, 0x39, 0x00};
  CHECK(out.len == sizeof e3 && memcmp(out.data, e3, sizeof e3) == 0);
  /* Width 10 repeat value takes two bytes (little endian); 300 values need a 2-byte header. */
  out.len = 0;
  uint32_t *big = malloc(300 * sizeof *big);
  for (int i = 0; i < 300; i++)
    big[i] = 0x2AB;
  CHECK(pq_rle_encode_u32(big, 300, 10, &out, NULL) == 0);
  const uint8_t e4[] = {0xD8, 0x04, 0xAB, 0x02}; /* 600 = 0x258 -> d8 04 */
  CHECK(out.len == sizeof e4 && memcmp(out.data, e4, sizeof e4) == 0);
  free(big);
  /* 3 literals then 8 repeats: the partial group is completed from the run (5 of its values),
   * and the 3 left are too few for a repeat run, so all 11 are bit-packed (2 groups). */
  out.len = 0;
  uint32_t m[11] = {0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1};
  CHECK(pq_rle_encode_u32(m, 11, 1, &out, NULL) == 0);
  const uint8_t e5[] = {0x05, 0xFA, 0x07};
  CHECK(out.len == sizeof e5 && memcmp(out.data, e5, sizeof e5) == 0);
  /* 3 literals then 13 repeats: 5 complete the group, 8 stay a repeat run. */
  out.len = 0;
  uint32_t m2[16] = {0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  CHECK(pq_rle_encode_u32(m2, 16, 1, &out, NULL) == 0);
  const uint8_t e6[] = {0x03, 0xFA, 0x10, 0x01};
  CHECK(out.len == sizeof e6 && memcmp(out.data, e6, sizeof e6) == 0);
  tarn_buf_free(&out);
}

static void test_rle_errors(void) {
  tarn_buf out = {0};
  tarn_error err = {0};
  uint32_t v[3] = {1, 2, 8};
  CHECK(pq_rle_encode_u32(v, 3, 3, &out, &err) == TARN_EINVAL);
  CHECK(strstr(err.message, "RLE") != NULL);
  CHECK(pq_rle_encode_u32(v, 3, 33, &out, NULL) == TARN_EINVAL);
  CHECK(pq_rle_encode_u32(v, 3, -1, &out, NULL) == TARN_EINVAL);
  int16_t neg[2] = {0, -1};
  CHECK(pq_rle_encode_i16(neg, 2, 15, &out, NULL) == TARN_EINVAL);
  uint32_t z[2] = {0, 1};
  CHECK(pq_rle_encode_u32(z, 2, 0, &out, NULL) == TARN_EINVAL);
  CHECK(out.len == 0);
  tarn_buf_free(&out);
}

/* ---- value encoders through pq_decoder ---- */

/* Decodes n fixed-width values with `encoding` and compares them with want. */
static int decode_fixed_equals(int encoding, int physical, int type_length, const tarn_buf *enc,
                               const uint8_t *want, size_t n) {
  tarn_error err = {0};
  pq_decoder *d = NULL;
  size_t w = (size_t)pq_physical_width(physical, type_length);
  uint8_t *back = malloc(n * w + 1);
  int ok = pq_decoder_create(encoding, physical, type_length, enc->data, enc->len, (int64_t)n, &d,
                             &err) == 0;
  /* Decode in uneven batches to cross block and group boundaries. */
  for (size_t done = 0; ok && done < n;) {
    size_t k = 1 + (size_t)(rng() % 300);
    if (k > n - done) k = n - done;
    ok = pq_decoder_get_fixed(d, back + done * w, k, &err) == 0;
    done += k;
  }
  if (ok) ok = bytes_equal(back, want, n * w);
  if (!ok)
    fprintf(stderr, "%s round trip failed (physical %d, n=%zu): %s\n", pq_encoding_name(encoding),
            physical, n, err.message);
  pq_decoder_free(d);
  free(back);
  return ok;
}

static int decode_binary_equals(int encoding, const tarn_buf *enc, const int32_t *offsets,
                                const uint8_t *data, size_t n) {
  tarn_error err = {0};
  pq_decoder *d = NULL;
  int32_t *offs = malloc((n + 1) * sizeof *offs);
  tarn_buf back = {0};
  int ok =
      pq_decoder_create(encoding, PQ_BYTE_ARRAY, 0, enc->data, enc->len, (int64_t)n, &d, &err) == 0;
  for (size_t done = 0; ok && done < n;) {
    size_t k = 1 + (size_t)(rng() % 300);
    if (k > n - done) k = n - done;
    ok = pq_decoder_get_binary(d, offs + done, &back, k, &err) == 0;
    done += k;
  }
  for (size_t i = 0; ok && i < n; i++) {
    int32_t start = i == 0 ? 0 : offs[i - 1];
    int32_t len = offs[i] - start;
    ok = len == offsets[i + 1] - offsets[i] &&
         (len == 0 || bytes_equal(back.data + start, data + offsets[i], (size_t)len));
  }
  if (!ok)
    fprintf(stderr, "%s binary round trip failed (n=%zu): %s\n", pq_encoding_name(encoding), n,
            err.message);
  pq_decoder_free(d);
  free(offs);
  tarn_buf_free(&back);
  return ok;
}

static void fill_random(uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    p[i] = (uint8_t)rng();
}

static void test_plain_fixed(void) {
  int types[] = {PQ_INT32, PQ_INT64, PQ_INT96, PQ_FLOAT, PQ_DOUBLE, PQ_FIXED_LEN_BYTE_ARRAY};
  size_t sizes[] = {0, 1, 7, 8, 9, 1000};
  uint8_t *v = malloc(1000 * 16);
  for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
      size_t n = sizes[s];
      int tl = types[t] == PQ_FIXED_LEN_BYTE_ARRAY ? 5 : 0;
      fill_random(v, n * 16);
      tarn_buf out = {0};
      CHECK(pq_encode_plain_fixed(types[t], tl, v, n, &out, NULL) == 0);
      CHECK(out.len == n * (size_t)pq_physical_width(types[t], tl));
      CHECK(decode_fixed_equals(PQ_ENC_PLAIN, types[t], tl, &out, v, n));
      tarn_buf_free(&out);
    }
  }
  /* BOOLEAN: bit-packed LSB first. */
  for (size_t n = 0; n < 70; n++) {
    for (size_t i = 0; i < n; i++)
      v[i] = (uint8_t)(rng() & 1);
    tarn_buf out = {0};
    CHECK(pq_encode_plain_fixed(PQ_BOOLEAN, 0, v, n, &out, NULL) == 0);
    CHECK(out.len == (n + 7) / 8);
    CHECK(decode_fixed_equals(PQ_ENC_PLAIN, PQ_BOOLEAN, 0, &out, v, n));
    tarn_buf_free(&out);
  }
  const uint8_t b[9] = {1, 0, 1, 1, 0, 0, 0, 0, 1};
  tarn_buf out = {0};
  CHECK(pq_encode_plain_fixed(PQ_BOOLEAN, 0, b, 9, &out, NULL) == 0);
  CHECK(out.len == 2 && out.data[0] == 0x0D && out.data[1] == 0x01);
  /* Appends after what the buffer holds. */
  CHECK(pq_encode_plain_fixed(PQ_INT32, 0, (const uint8_t *)"\x01\x02\x03\x04", 1, &out, NULL) ==
        0);
  CHECK(out.len == 6 && memcmp(out.data + 2, "\x01\x02\x03\x04", 4) == 0);
  /* Errors. */
  const uint8_t two[1] = {2};
  CHECK(pq_encode_plain_fixed(PQ_BOOLEAN, 0, two, 1, &out, NULL) == TARN_EINVAL);
  CHECK(pq_encode_plain_fixed(PQ_BYTE_ARRAY, 0, v, 1, &out, NULL) == TARN_EINVAL);
  CHECK(pq_encode_plain_fixed(PQ_FIXED_LEN_BYTE_ARRAY, 0, v, 1, &out, NULL) == TARN_EINVAL);
  tarn_buf_free(&out);
  free(v);
}

/* Random strings: n values of lengths up to maxlen drawn from a small alphabet (so prefixes are
 * shared), in data with offsets starting at `base` (offsets[0] need not be 0). */
static void make_strings(size_t n, size_t maxlen, int32_t base, int32_t *offsets, tarn_buf *data) {
  data->len = 0;
  for (int32_t i = 0; i < base; i++)
    tarn_buf_append(data, "#", 1, NULL);
  offsets[0] = base;
  for (size_t i = 0; i < n; i++) {
    size_t len = maxlen ? (size_t)(rng() % (maxlen + 1)) : 0;
    for (size_t k = 0; k < len; k++) {
      char c = (char)('a' + rng() % 3);
      tarn_buf_append(data, &c, 1, NULL);
    }
    offsets[i + 1] = (int32_t)data->len;
  }
}

static void test_plain_binary(void) {
  int32_t offsets[1001];
  tarn_buf data = {0};
  size_t sizes[] = {0, 1, 2, 100, 1000};
  size_t maxlens[] = {0, 1, 5, 40};
  for (size_t s = 0; s < 5; s++) {
    for (size_t m = 0; m < 4; m++) {
      make_strings(sizes[s], maxlens[m], (int32_t)(s % 3), offsets, &data);
      tarn_buf out = {0};
      CHECK(pq_encode_plain_binary(offsets, data.data, sizes[s], &out, NULL) == 0);
      CHECK(decode_binary_equals(PQ_ENC_PLAIN, &out, offsets, data.data, sizes[s]));
      tarn_buf_free(&out);
    }
  }
  /* Byte-exact: "ab", "" -> 02 00 00 00 'a' 'b' 00 00 00 00. */
  int32_t o2[3] = {0, 2, 2};
  tarn_buf out = {0};
  CHECK(pq_encode_plain_binary(o2, (const uint8_t *)"ab", 2, &out, NULL) == 0);
  CHECK(out.len == 10 && memcmp(out.data, "\x02\0\0\0ab\0\0\0\0", 10) == 0);
  int32_t bad[3] = {0, 2, 1};
  CHECK(pq_encode_plain_binary(bad, (const uint8_t *)"ab", 2, &out, NULL) == TARN_EINVAL);
  CHECK(pq_encode_plain_binary(NULL, NULL, 0, &out, NULL) == 0);
  tarn_buf_free(&out);
  tarn_buf_free(&data);
}

static void test_rle_boolean(void) {
  uint8_t *v = malloc(5000);
  size_t sizes[] = {0, 1, 8, 9, 100, 5000};
  for (size_t s = 0; s < 6; s++) {
    for (int pattern = 0; pattern < 3; pattern++) {
      size_t n = sizes[s];
      for (size_t i = 0; i < n; i++)
        v[i] = (uint8_t)(pattern == 0 ? rng() & 1 : pattern == 1 ? 1 : (i / 50) & 1);
      tarn_buf out = {0};
      CHECK(pq_encode_rle_boolean(v, n, &out, NULL) == 0);
      CHECK(out.len >= 4);
      uint32_t prefix = (uint32_t)out.data[0] | (uint32_t)out.data[1] << 8 |
                        (uint32_t)out.data[2] << 16 | (uint32_t)out.data[3] << 24;
      CHECK(prefix == out.len - 4);
      CHECK(decode_fixed_equals(PQ_ENC_RLE, PQ_BOOLEAN, 0, &out, v, n));
      tarn_buf_free(&out);
    }
  }
  /* 10 trues: prefix 2, then a repeat run (10 << 1) of value 1. */
  memset(v, 1, 10);
  tarn_buf out = {0};
  CHECK(pq_encode_rle_boolean(v, 10, &out, NULL) == 0);
  CHECK(out.len == 6 && memcmp(out.data, "\x02\0\0\0\x14\x01", 6) == 0);
  v[3] = 7;
  CHECK(pq_encode_rle_boolean(v, 10, &out, NULL) == TARN_EINVAL);
  CHECK(out.len == 6);
  tarn_buf_free(&out);
  free(v);
}

static void test_delta_binary_packed(void) {
  size_t sizes[] = {0, 1, 2, 31, 32, 33, 127, 128, 129, 130, 256, 1000, 5000};
  uint8_t *v = malloc(5000 * 8);
  for (int is64 = 0; is64 <= 1; is64++) {
    int physical = is64 ? PQ_INT64 : PQ_INT32;
    size_t w = is64 ? 8 : 4;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
      size_t n = sizes[s];
      for (int pattern = 0; pattern < 7; pattern++) {
        for (size_t i = 0; i < n; i++) {
          uint64_t x;
          switch (pattern) {
          case 0: x = rng(); break;              /* full-range random */
          case 1: x = (uint64_t)i * 1000; break; /* increasing */
          case 2: x = 42; break;                 /* constant */
          case 3:
            x = (i & 1) ? (is64 ? (uint64_t)INT64_MAX : (uint64_t)INT32_MAX)
                        : (is64 ? (uint64_t)INT64_MIN : (uint64_t)(uint32_t)INT32_MIN);
            break;                                                  /* extremes alternating */
          case 4: x = (uint64_t)0 - (uint64_t)i * 7; break;         /* decreasing through 0 */
          case 5: x = rng() % 16; break;                            /* small */
          default: x = (i % 200 == 0) ? rng() : (uint64_t)i; break; /* outliers */
          }
          if (is64)
            store64(v + 8 * i, x);
          else
            store32(v + 4 * i, (uint32_t)x);
        }
        tarn_buf out = {0};
        tarn_error err = {0};
        CHECK(pq_encode_delta_binary_packed(physical, v, n, &out, &err) == 0);
        CHECK(decode_fixed_equals(PQ_ENC_DELTA_BINARY_PACKED, physical, 0, &out, v, n));
        /* INT32 must never use more than 32 bits per value. */
        if (!is64 && n > 1) {
          /* header: 80 01 04 <count uleb> <first zigzag uleb>; check the widths of the first
           * block, found by skipping the ulebs. */
          size_t pos = 3;
          while (out.data[pos] & 0x80)
            pos++;
          pos++;
          while (out.data[pos] & 0x80)
            pos++;
          pos++;
          while (out.data[pos] & 0x80)
            pos++;
          pos++;
          for (int m = 0; m < 4; m++)
            CHECK(out.data[pos + (size_t)m] <= 32);
        }
        tarn_buf_free(&out);
      }
    }
    (void)w;
  }
  /* Encodings.md example 1 (with our block of 128 in 4 miniblocks): 1, 2, 3, 4, 5. */
  int32_t ex1[5] = {1, 2, 3, 4, 5};
  uint8_t b1[20];
  for (int i = 0; i < 5; i++)
    store32(b1 + 4 * i, (uint32_t)ex1[i]);
  tarn_buf out = {0};
  CHECK(pq_encode_delta_binary_packed(PQ_INT32, b1, 5, &out, NULL) == 0);
  const uint8_t e1[] = {0x80, 0x01, 0x04, 0x05, 0x02,  /* block 128, 4 miniblocks, 5, zz(1) */
                        0x02, 0x00, 0x00, 0x00, 0x00}; /* min delta zz(1), widths 0 */
  CHECK(out.len == sizeof e1 && memcmp(out.data, e1, sizeof e1) == 0);
  /* Example 2: 7, 5, 3, 1, 2, 3, 4, 5: min delta -2, relative deltas 0 0 0 3 3 3 3 in 2 bits,
   * one miniblock of 32 values padded with zeros (8 bytes). */
  int32_t ex2[8] = {7, 5, 3, 1, 2, 3, 4, 5};
  uint8_t b2[32];
  for (int i = 0; i < 8; i++)
    store32(b2 + 4 * i, (uint32_t)ex2[i]);
  out.len = 0;
  CHECK(pq_encode_delta_binary_packed(PQ_INT32, b2, 8, &out, NULL) == 0);
  const uint8_t e2[] = {0x80, 0x01, 0x04, 0x08, 0x0E, 0x03, 0x02, 0x00, 0x00,
                        0x00, 0xC0, 0x3F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  CHECK(out.len == sizeof e2 && memcmp(out.data, e2, sizeof e2) == 0);
  /* No values: a header only, first value 0. */
  out.len = 0;
  CHECK(pq_encode_delta_binary_packed(PQ_INT64, NULL, 0, &out, NULL) == 0);
  CHECK(out.len == 5 && memcmp(out.data, "\x80\x01\x04\x00\x00", 5) == 0);
  CHECK(pq_encode_delta_binary_packed(PQ_DOUBLE, b1, 1, &out, NULL) == TARN_EINVAL);
  tarn_buf_free(&out);
  free(v);
}

static void test_delta_byte_arrays(void) {
  int32_t *offsets = malloc(3001 * sizeof *offsets);
  tarn_buf data = {0};
  size_t sizes[] = {0, 1, 2, 127, 128, 129, 3000};
  size_t maxlens[] = {0, 1, 8, 60};
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
    for (size_t m = 0; m < 4; m++) {
      make_strings(sizes[s], maxlens[m], (int32_t)(s % 2) * 3, offsets, &data);
      tarn_buf out = {0};
      CHECK(pq_encode_delta_length_byte_array(offsets, data.data, sizes[s], &out, NULL) == 0);
      CHECK(
          decode_binary_equals(PQ_ENC_DELTA_LENGTH_BYTE_ARRAY, &out, offsets, data.data, sizes[s]));
      out.len = 0;
      CHECK(pq_encode_delta_byte_array(offsets, data.data, sizes[s], &out, NULL) == 0);
      CHECK(decode_binary_equals(PQ_ENC_DELTA_BYTE_ARRAY, &out, offsets, data.data, sizes[s]));
      tarn_buf_free(&out);
    }
  }
  /* Long shared prefixes: URLs that differ in their last characters, and equal values. */
  data.len = 0;
  offsets[0] = 0;
  size_t n = 2000;
  for (size_t i = 0; i < n; i++) {
    char s[200];
    int len = i % 50 == 0 ? 0
                          : snprintf(s, sizeof s,
                                     "https://example.com/a/very/long/shared/path/segment/"
                                     "that/goes/on/and/on/item-%06zu",
                                     i / 3);
    tarn_buf_append(&data, s, (size_t)len, NULL);
    offsets[i + 1] = (int32_t)data.len;
  }
  tarn_buf out = {0};
  CHECK(pq_encode_delta_byte_array(offsets, data.data, n, &out, NULL) == 0);
  CHECK(decode_binary_equals(PQ_ENC_DELTA_BYTE_ARRAY, &out, offsets, data.data, n));
  CHECK(out.len < data.len / 4); /* front coding must pay off here */
  /* The example of Encodings.md: the suffix bytes are "axislebabbleyhood". */
  const char *words = "axisaxlebabblebabyhood";
  int32_t wo[5] = {0, 4, 8, 14, 22};
  out.len = 0;
  CHECK(pq_encode_delta_byte_array(wo, (const uint8_t *)words, 4, &out, NULL) == 0);
  CHECK(out.len > 17 && memcmp(out.data + out.len - 17, "axislebabbleyhood", 17) == 0);
  CHECK(decode_binary_equals(PQ_ENC_DELTA_BYTE_ARRAY, &out, wo, (const uint8_t *)words, 4));
  /* ... and its two length streams are DeltaEncoding(0, 2, 0, 3) and (4, 2, 6, 5). */
  tarn_buf expect = {0};
  uint8_t lens[16];
  const int32_t pre[4] = {0, 2, 0, 3}, suf[4] = {4, 2, 6, 5};
  for (int i = 0; i < 4; i++)
    store32(lens + 4 * i, (uint32_t)pre[i]);
  CHECK(pq_encode_delta_binary_packed(PQ_INT32, lens, 4, &expect, NULL) == 0);
  for (int i = 0; i < 4; i++)
    store32(lens + 4 * i, (uint32_t)suf[i]);
  CHECK(pq_encode_delta_binary_packed(PQ_INT32, lens, 4, &expect, NULL) == 0);
  tarn_buf_append(&expect, "axislebabbleyhood", 17, NULL);
  CHECK(out.len == expect.len && memcmp(out.data, expect.data, out.len) == 0);
  /* DELTA_LENGTH_BYTE_ARRAY example: lengths (5, 5, 6, 6) then the concatenation. */
  const char *hw = "HelloWorldFoobarABCDEF";
  int32_t ho[5] = {0, 5, 10, 16, 22};
  out.len = 0;
  expect.len = 0;
  CHECK(pq_encode_delta_length_byte_array(ho, (const uint8_t *)hw, 4, &out, NULL) == 0);
  const int32_t hl[4] = {5, 5, 6, 6};
  for (int i = 0; i < 4; i++)
    store32(lens + 4 * i, (uint32_t)hl[i]);
  CHECK(pq_encode_delta_binary_packed(PQ_INT32, lens, 4, &expect, NULL) == 0);
  tarn_buf_append(&expect, hw, 22, NULL);
  CHECK(out.len == expect.len && memcmp(out.data, expect.data, out.len) == 0);
  int32_t bad[3] = {0, 3, 2};
  CHECK(pq_encode_delta_byte_array(bad, (const uint8_t *)"abc", 2, &out, NULL) == TARN_EINVAL);
  CHECK(pq_encode_delta_length_byte_array(bad, (const uint8_t *)"abc", 2, &out, NULL) ==
        TARN_EINVAL);
  tarn_buf_free(&expect);
  tarn_buf_free(&out);
  tarn_buf_free(&data);
  free(offsets);
}

static void test_delta_byte_array_fixed(void) {
  int widths[] = {1, 3, 4, 16};
  size_t sizes[] = {1, 2, 129, 1000};
  uint8_t *v = malloc(1000 * 16);
  for (size_t wi = 0; wi < 4; wi++) {
    for (size_t s = 0; s < 4; s++) {
      size_t w = (size_t)widths[wi], n = sizes[s];
      for (size_t i = 0; i < n * w; i++) /* mostly shared prefixes: few distinct bytes */
        v[i] = (uint8_t)(rng() % 4 == 0 ? rng() : 'x');
      tarn_buf out = {0};
      CHECK(pq_encode_delta_byte_array_fixed(v, n, widths[wi], &out, NULL) == 0);
      CHECK(decode_fixed_equals(PQ_ENC_DELTA_BYTE_ARRAY, PQ_FIXED_LEN_BYTE_ARRAY, widths[wi], &out,
                                v, n));
      tarn_buf_free(&out);
    }
  }
  tarn_buf out = {0};
  CHECK(pq_encode_delta_byte_array_fixed(v, 1, 0, &out, NULL) == TARN_EINVAL);
  CHECK(pq_encode_delta_byte_array_fixed(NULL, 0, 4, &out, NULL) == 0);
  tarn_buf_free(&out);
  free(v);
}

static void test_byte_stream_split(void) {
  /* The example of Encodings.md. */
  const uint8_t in[12] = {0xAA, 0xBB, 0xCC, 0xDD, 0x00, 0x11, 0x22, 0x33, 0xA3, 0xB4, 0xC5, 0xD6};
  const uint8_t want[12] = {0xAA, 0x00, 0xA3, 0xBB, 0x11, 0xB4, 0xCC, 0x22, 0xC5, 0xDD, 0x33, 0xD6};
  tarn_buf out = {0};
  CHECK(pq_encode_byte_stream_split(in, 3, 4, &out, NULL) == 0);
  CHECK(out.len == 12 && memcmp(out.data, want, 12) == 0);
  tarn_buf_free(&out);
  struct {
    int physical, width;
  } types[] = {{PQ_FLOAT, 4},
               {PQ_DOUBLE, 8},
               {PQ_INT32, 4},
               {PQ_INT64, 8},
               {PQ_FIXED_LEN_BYTE_ARRAY, 3},
               {PQ_FIXED_LEN_BYTE_ARRAY, 16}};
  size_t sizes[] = {0, 1, 5, 1000};
  uint8_t *v = malloc(1000 * 16);
  for (size_t t = 0; t < 6; t++) {
    for (size_t s = 0; s < 4; s++) {
      size_t n = sizes[s];
      fill_random(v, n * (size_t)types[t].width);
      tarn_buf o = {0};
      CHECK(pq_encode_byte_stream_split(v, n, types[t].width, &o, NULL) == 0);
      CHECK(o.len == n * (size_t)types[t].width);
      int tl = types[t].physical == PQ_FIXED_LEN_BYTE_ARRAY ? types[t].width : 0;
      CHECK(decode_fixed_equals(PQ_ENC_BYTE_STREAM_SPLIT, types[t].physical, tl, &o, v, n));
      tarn_buf_free(&o);
    }
  }
  CHECK(pq_encode_byte_stream_split(v, 1, 0, &out, NULL) == TARN_EINVAL);
  free(v);
}

/* ---- dictionary ---- */

/* Checks that every index maps back to its value through the dictionary's PLAIN page. */
static int dict_check_fixed(const pq_dict *d, int physical, int tl, const uint8_t *values, size_t n,
                            const uint32_t *idx) {
  size_t w = (size_t)pq_physical_width(physical, tl);
  tarn_buf page = {0};
  int ok = pq_dict_write_plain(d, &page, NULL) == 0;
  ok = ok && page.len == pq_dict_count(d) * w && page.len == pq_dict_plain_size(d);
  for (size_t i = 0; ok && i < n; i++)
    ok = idx[i] < pq_dict_count(d) && memcmp(page.data + idx[i] * w, values + i * w, w) == 0;
  /* Distinct entries: the page holds no value twice. */
  if (ok && pq_dict_count(d) > 1 && pq_dict_count(d) < 5000)
    for (size_t a = 0; ok && a < pq_dict_count(d); a++)
      for (size_t b = a + 1; ok && b < pq_dict_count(d); b++)
        ok = memcmp(page.data + a * w, page.data + b * w, w) != 0;
  /* And it decodes as PLAIN. */
  if (ok) ok = decode_fixed_equals(PQ_ENC_PLAIN, physical, tl, &page, page.data, pq_dict_count(d));
  tarn_buf_free(&page);
  return ok;
}

static void test_dict_fixed(void) {
  struct {
    int physical, tl;
  } types[] = {{PQ_INT32, 0},
               {PQ_INT64, 0},
               {PQ_FLOAT, 0},
               {PQ_DOUBLE, 0},
               {PQ_INT96, 0},
               {PQ_FIXED_LEN_BYTE_ARRAY, 3},
               {PQ_FIXED_LEN_BYTE_ARRAY, 16}};
  size_t n = 20000;
  uint8_t *v = malloc(n * 16);
  uint32_t *idx = malloc(n * sizeof *idx);
  for (size_t t = 0; t < 7; t++) {
    size_t w = (size_t)pq_physical_width(types[t].physical, types[t].tl);
    for (int distinct = 1; distinct <= 4096; distinct *= 8) {
      pq_dict *d = NULL;
      CHECK(pq_dict_create(types[t].physical, types[t].tl, &d, NULL) == 0);
      /* `distinct` random values, repeated in random order. */
      uint8_t *pool = malloc((size_t)distinct * w);
      fill_random(pool, (size_t)distinct * w);
      for (size_t i = 0; i < n; i++)
        memcpy(v + i * w, pool + (rng() % (uint64_t)distinct) * w, w);
      /* Insert in two calls: the dictionary carries over. */
      CHECK(pq_dict_insert_fixed(d, v, n / 3, idx, NULL) == 0);
      CHECK(pq_dict_insert_fixed(d, v + (n / 3) * w, n - n / 3, idx + n / 3, NULL) == 0);
      CHECK(pq_dict_count(d) <= (size_t)distinct);
      CHECK(pq_dict_count(d) >= (size_t)distinct * 9 / 10); /* 20000 draws hit nearly all */
      CHECK(dict_check_fixed(d, types[t].physical, types[t].tl, v, n, idx));
      /* Indices are assigned in first-seen order. */
      CHECK(idx[0] == 0);
      free(pool);
      pq_dict_free(d);
    }
  }
  /* Many distinct values: the table grows many times; sequential keys. */
  pq_dict *d = NULL;
  CHECK(pq_dict_create(PQ_INT64, 0, &d, NULL) == 0);
  size_t big = 200000;
  uint8_t *seq = malloc(big * 8);
  uint32_t *bi = malloc(big * sizeof *bi);
  for (size_t i = 0; i < big; i++)
    store64(seq + 8 * i, (uint64_t)i << 20); /* keys differing only in high bits */
  CHECK(pq_dict_insert_fixed(d, seq, big, bi, NULL) == 0);
  CHECK(pq_dict_count(d) == big);
  int inorder = 1;
  for (size_t i = 0; i < big; i++)
    inorder &= bi[i] == i;
  CHECK(inorder);
  CHECK(pq_dict_insert_fixed(d, seq, big, bi, NULL) == 0); /* all hits the second time */
  CHECK(pq_dict_count(d) == big);
  inorder = 1;
  for (size_t i = 0; i < big; i++)
    inorder &= bi[i] == i;
  CHECK(inorder);
  /* Reset: empty, and indices start over. */
  pq_dict_reset(d);
  CHECK(pq_dict_count(d) == 0 && pq_dict_plain_size(d) == 0);
  CHECK(pq_dict_insert_fixed(d, seq + 8 * 5, 3, bi, NULL) == 0);
  CHECK(pq_dict_count(d) == 3 && bi[0] == 0 && bi[2] == 2);
  CHECK(dict_check_fixed(d, PQ_INT64, 0, seq + 8 * 5, 3, bi));
  pq_dict_free(d);
  /* Floats compare by bits: 0.0 and -0.0 are distinct, a NaN equals itself. */
  CHECK(pq_dict_create(PQ_DOUBLE, 0, &d, NULL) == 0);
  double fl[5] = {0.0, -0.0, 0.0 / 0.0, 1.5, 0.0};
  memcpy(&fl[4], &fl[2], sizeof fl[2]);
  uint32_t fi[5];
  CHECK(pq_dict_insert_fixed(d, (const uint8_t *)fl, 5, fi, NULL) == 0);
  CHECK(pq_dict_count(d) == 4 && fi[0] != fi[1] && fi[4] == fi[2]);
  /* Wrong kind of insert. */
  CHECK(pq_dict_insert_binary(d, NULL, NULL, 1, fi, NULL) == TARN_EINVAL);
  pq_dict_free(d);
  CHECK(pq_dict_create(PQ_BOOLEAN, 0, &d, NULL) == TARN_EINVAL && d == NULL);
  CHECK(pq_dict_create(PQ_FIXED_LEN_BYTE_ARRAY, 0, &d, NULL) == TARN_EINVAL);
  pq_dict_free(NULL);
  free(seq);
  free(bi);
  free(v);
  free(idx);
}

static void test_dict_binary(void) {
  size_t n = 30000;
  int32_t *offsets = malloc((n + 1) * sizeof *offsets);
  uint32_t *idx = malloc(n * sizeof *idx);
  tarn_buf data = {0};
  for (size_t maxlen = 0; maxlen <= 40; maxlen = maxlen ? maxlen * 4 : 1) {
    make_strings(n, maxlen, 2, offsets, &data);
    pq_dict *d = NULL;
    CHECK(pq_dict_create(PQ_BYTE_ARRAY, 0, &d, NULL) == 0);
    CHECK(pq_dict_insert_binary(d, offsets, data.data, n / 2, idx, NULL) == 0);
    CHECK(pq_dict_insert_binary(d, offsets + n / 2, data.data, n - n / 2, idx + n / 2, NULL) == 0);
    /* Decode the dictionary page and look every value up through its index. */
    tarn_buf page = {0};
    CHECK(pq_dict_write_plain(d, &page, NULL) == 0);
    CHECK(page.len == pq_dict_plain_size(d));
    size_t count = pq_dict_count(d);
    pq_decoder *dec = NULL;
    int32_t *doff = malloc((count + 1) * sizeof *doff);
    tarn_buf dv = {0};
    CHECK(pq_decoder_create(PQ_ENC_PLAIN, PQ_BYTE_ARRAY, 0, page.data, page.len, (int64_t)count,
                            &dec, NULL) == 0);
    CHECK(pq_decoder_get_binary(dec, doff + 1, &dv, count, NULL) == 0);
    doff[0] = 0;
    int ok = 1;
    for (size_t i = 0; i < n && ok; i++) {
      uint32_t k = idx[i];
      size_t len = (size_t)(offsets[i + 1] - offsets[i]);
      ok = k < count && (size_t)(doff[k + 1] - doff[k]) == len &&
           (len == 0 || bytes_equal(dv.data + doff[k], data.data + offsets[i], len));
    }
    CHECK(ok);
    /* Distinct: no two entries equal (sorting would be faster; the counts here are small
     * except for maxlen 40, where a hash-free check by length + bytes is still fine). */
    if (count < 3000) {
      int distinct = 1;
      for (size_t a = 0; a < count && distinct; a++)
        for (size_t b = a + 1; b < count && distinct; b++)
          distinct = !(doff[a + 1] - doff[a] == doff[b + 1] - doff[b] &&
                       (doff[a + 1] == doff[a] || bytes_equal(dv.data + doff[a], dv.data + doff[b],
                                                              (size_t)(doff[a + 1] - doff[a]))));
      CHECK(distinct);
    }
    if (maxlen == 0) CHECK(count == 1 && page.len == 4); /* just the empty string */
    pq_decoder_free(dec);
    free(doff);
    tarn_buf_free(&dv);
    tarn_buf_free(&page);
    pq_dict_reset(d);
    CHECK(pq_dict_count(d) == 0 && pq_dict_plain_size(d) == 0);
    CHECK(pq_dict_insert_binary(d, offsets, data.data, 1, idx, NULL) == 0);
    CHECK(idx[0] == 0 && pq_dict_count(d) == 1);
    CHECK(pq_dict_insert_fixed(d, data.data, 1, idx, NULL) == TARN_EINVAL);
    pq_dict_free(d);
  }
  /* Many distinct strings: growth with the hash stored in the slots. */
  data.len = 0;
  offsets[0] = 0;
  for (size_t i = 0; i < n; i++) {
    char s[32];
    int len = snprintf(s, sizeof s, "key-%zu", i);
    tarn_buf_append(&data, s, (size_t)len, NULL);
    offsets[i + 1] = (int32_t)data.len;
  }
  pq_dict *d = NULL;
  CHECK(pq_dict_create(PQ_BYTE_ARRAY, 0, &d, NULL) == 0);
  CHECK(pq_dict_insert_binary(d, offsets, data.data, n, idx, NULL) == 0);
  CHECK(pq_dict_count(d) == n && pq_dict_plain_size(d) == data.len + 4 * n);
  CHECK(pq_dict_insert_binary(d, offsets, data.data, n, idx, NULL) == 0);
  int inorder = 1;
  for (size_t i = 0; i < n; i++)
    inorder &= idx[i] == i;
  CHECK(inorder && pq_dict_count(d) == n);
  int32_t bad[2] = {3, 1};
  CHECK(pq_dict_insert_binary(d, bad, data.data, 1, idx, NULL) == TARN_EINVAL);
  pq_dict_free(d);
  tarn_buf_free(&data);
  free(offsets);
  free(idx);
}

/* ---- compression ---- */

/* Decompresses with the codec library's own call (the independent side). */
static int library_decompress(int codec, const uint8_t *src, size_t len, uint8_t *dst,
                              size_t dst_len) {
  switch (codec) {
  case PQ_CODEC_UNCOMPRESSED:
    if (len != dst_len) return 0;
    if (len) memcpy(dst, src, len);
    return 1;
  case PQ_CODEC_ZSTD: {
    size_t r = ZSTD_decompress(dst, dst_len, src, len);
    return !ZSTD_isError(r) && r == dst_len;
  }
  case PQ_CODEC_SNAPPY: {
    size_t r = dst_len;
    return snappy_uncompress((const char *)src, len, (char *)dst, &r) == SNAPPY_OK && r == dst_len;
  }
  case PQ_CODEC_GZIP: {
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 15 + 16) != Z_OK) return 0; /* gzip format only */
    zs.next_in = (Bytef *)src;
    zs.avail_in = (uInt)len;
    zs.next_out = dst;
    zs.avail_out = (uInt)dst_len;
    int rc = inflate(&zs, Z_FINISH);
    int ok = rc == Z_STREAM_END && zs.total_out == dst_len && zs.avail_in == 0;
    inflateEnd(&zs);
    return ok;
  }
  case PQ_CODEC_BROTLI: {
    size_t r = dst_len;
    return BrotliDecoderDecompress(len, src, &r, dst) == BROTLI_DECODER_RESULT_SUCCESS &&
           r == dst_len;
  }
  case PQ_CODEC_LZ4_RAW:
    return LZ4_decompress_safe((const char *)src, (char *)dst, (int)len, (int)dst_len) ==
           (int)dst_len;
  default: return 0;
  }
}

static int compress_roundtrip(int codec, int level, const uint8_t *src, size_t len) {
  tarn_buf out = {0};
  tarn_error err = {0};
  /* Something already in the buffer must stay in front. */
  tarn_buf_append(&out, "PFX", 3, NULL);
  int ok = pq_compress(codec, level, src, len, &out, &err) == 0;
  ok = ok && memcmp(out.data, "PFX", 3) == 0;
  uint8_t *a = malloc(len + 1), *b = malloc(len + 1);
  if (ok) ok = pq_decompress(codec, out.data + 3, out.len - 3, a, len, &err) == 0;
  if (ok) ok = bytes_equal(a, src, len);
  if (ok) ok = library_decompress(codec, out.data + 3, out.len - 3, b, len);
  if (ok) ok = bytes_equal(b, src, len);
  if (!ok)
    fprintf(stderr, "%s level %d round trip of %zu bytes failed: %s\n", pq_codec_name(codec), level,
            len, err.message);
  free(a);
  free(b);
  tarn_buf_free(&out);
  return ok;
}

static void test_compress(void) {
  size_t sizes[] = {0, 1, 1000, 70000, 1 << 20};
  uint8_t *buf = malloc(1 << 20);
  const int codecs[] = {PQ_CODEC_UNCOMPRESSED, PQ_CODEC_SNAPPY, PQ_CODEC_GZIP,
                        PQ_CODEC_BROTLI,       PQ_CODEC_ZSTD,   PQ_CODEC_LZ4_RAW};
  for (int kind = 0; kind < 3; kind++) {
    for (size_t s = 0; s < 5; s++) {
      size_t n = sizes[s];
      for (size_t i = 0; i < n; i++) {
        if (kind == 0)
          buf[i] = (uint8_t)rng(); /* incompressible */
        else if (kind == 1)
          buf[i] = (uint8_t)(i / 100); /* compressible */
        else
          buf[i] = (uint8_t)("order user click view "[rng() % 22]);
      }
      for (size_t c = 0; c < 6; c++)
        CHECK(compress_roundtrip(codecs[c], 0, buf, n));
    }
  }
  /* Levels. */
  CHECK(compress_roundtrip(PQ_CODEC_ZSTD, 1, buf, 70000));
  CHECK(compress_roundtrip(PQ_CODEC_ZSTD, 19, buf, 70000));
  CHECK(compress_roundtrip(PQ_CODEC_ZSTD, -5, buf, 70000));
  CHECK(compress_roundtrip(PQ_CODEC_GZIP, 1, buf, 70000));
  CHECK(compress_roundtrip(PQ_CODEC_GZIP, 9, buf, 70000));
  CHECK(compress_roundtrip(PQ_CODEC_BROTLI, 1, buf, 70000));
  CHECK(compress_roundtrip(PQ_CODEC_BROTLI, 11, buf, 70000));
  CHECK(compress_roundtrip(PQ_CODEC_SNAPPY, 9, buf, 70000)); /* ignored */
  tarn_buf out = {0};
  tarn_error err = {0};
  CHECK(pq_compress(PQ_CODEC_GZIP, 10, buf, 10, &out, &err) == TARN_EINVAL);
  CHECK(strstr(err.message, "gzip") != NULL);
  CHECK(pq_compress(PQ_CODEC_ZSTD, 1000, buf, 10, &out, NULL) == TARN_EINVAL);
  CHECK(pq_compress(PQ_CODEC_BROTLI, 12, buf, 10, &out, NULL) == TARN_EINVAL);
  CHECK(pq_compress(PQ_CODEC_LZO, 0, buf, 10, &out, NULL) == TARN_EUNSUPPORTED);
  CHECK(pq_compress(PQ_CODEC_LZ4, 0, buf, 10, &out, NULL) == TARN_EUNSUPPORTED);
  CHECK(pq_compress(99, 0, buf, 10, &out, NULL) == TARN_EUNSUPPORTED);
  CHECK(pq_compress(PQ_CODEC_ZSTD, 0, NULL, 0, &out, NULL) == 0);
  CHECK(out.len > 0);
  CHECK(pq_compress(PQ_CODEC_ZSTD, 0, NULL, 5, &out, NULL) == TARN_EINVAL);
  tarn_buf_free(&out);
  /* zstd level 3 compresses a compressible page by a good margin. */
  tarn_buf z = {0};
  for (size_t i = 0; i < (1 << 20); i++)
    buf[i] = (uint8_t)(i / 100);
  CHECK(pq_compress(PQ_CODEC_ZSTD, 0, buf, 1 << 20, &z, NULL) == 0);
  CHECK(z.len < (1 << 20) / 20);
  tarn_buf_free(&z);
  free(buf);
}

static void test_codec_names(void) {
  CHECK_EQ_INT(pq_codec_from_name("zstd"), PQ_CODEC_ZSTD);
  CHECK_EQ_INT(pq_codec_from_name("ZSTD"), PQ_CODEC_ZSTD);
  CHECK_EQ_INT(pq_codec_from_name("Snappy"), PQ_CODEC_SNAPPY);
  CHECK_EQ_INT(pq_codec_from_name("gzip"), PQ_CODEC_GZIP);
  CHECK_EQ_INT(pq_codec_from_name("brotli"), PQ_CODEC_BROTLI);
  CHECK_EQ_INT(pq_codec_from_name("lz4"), PQ_CODEC_LZ4_RAW);
  CHECK_EQ_INT(pq_codec_from_name("LZ4_RAW"), PQ_CODEC_LZ4_RAW);
  CHECK_EQ_INT(pq_codec_from_name("none"), PQ_CODEC_UNCOMPRESSED);
  CHECK_EQ_INT(pq_codec_from_name("uncompressed"), PQ_CODEC_UNCOMPRESSED);
  CHECK_EQ_INT(pq_codec_from_name("zip"), -1);
  CHECK_EQ_INT(pq_codec_from_name(""), -1);
  CHECK_EQ_INT(pq_codec_from_name(NULL), -1);
  /* Every name parses back to its codec. */
  const int written[] = {PQ_CODEC_UNCOMPRESSED, PQ_CODEC_SNAPPY, PQ_CODEC_GZIP,
                         PQ_CODEC_BROTLI,       PQ_CODEC_ZSTD,   PQ_CODEC_LZ4_RAW};
  for (size_t i = 0; i < 6; i++)
    CHECK_EQ_INT(pq_codec_from_name(pq_codec_name(written[i])), written[i]);
}

int main(void) {
  RUN(test_rle_roundtrip);
  RUN(test_rle_sizes);
  RUN(test_rle_bytes);
  RUN(test_rle_errors);
  RUN(test_plain_fixed);
  RUN(test_plain_binary);
  RUN(test_rle_boolean);
  RUN(test_delta_binary_packed);
  RUN(test_delta_byte_arrays);
  RUN(test_delta_byte_array_fixed);
  RUN(test_byte_stream_split);
  RUN(test_dict_fixed);
  RUN(test_dict_binary);
  RUN(test_compress);
  RUN(test_codec_names);
  return check_finish();
}
