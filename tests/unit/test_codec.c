/*
 * Tests for pq_decompress. Every compressed input is produced here by the codec library's own
 * compressor (or framed by hand from its output), never by tarn, so a bug shared by a
 * compressor and a decompressor of ours cannot hide. Each round trip compares bytes with the
 * original; each malformed input must give an error, and ASan/UBSan catch any stray access
 * (outputs are malloc'ed at their exact size for that reason).
 */
#include <brotli/encode.h>
#include <limits.h>
#include <lz4.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "check.h"
#include "parquet/codec.h"
#include "parquet/format.h"
#include "shared_data.h"

/* ---- inputs ---- */

static uint32_t rng_state = 0x12345678u;
static uint32_t rng(void) { /* xorshift32: deterministic, so failures reproduce */
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}

typedef struct sample {
  const char *name;
  uint8_t *data;
  size_t len;
} sample;

enum { N_SAMPLES = 6 };
static sample samples[N_SAMPLES];

static void make_samples(void) {
  static const char *words[] = {"order", "user", "click", "view", "cart", "2024-05-01", "null"};
  size_t sizes[N_SAMPLES] = {1, 1000, 70000, 300000, 65536, 1 << 20};
  const char *names[N_SAMPLES] = {"one byte",    "text 1000",   "random 70000",
                                  "text 300000", "zeros 65536", "mixed 1 MiB"};
  for (int s = 0; s < N_SAMPLES; s++) {
    size_t n = sizes[s];
    uint8_t *p = malloc(n);
    for (size_t i = 0; i < n;) {
      if (s == 2) {
        p[i++] = (uint8_t)rng();
      } else if (s == 4) {
        p[i++] = 0;
      } else if (s == 5 && (i / 4096) % 2 == 1) {
        p[i++] = (uint8_t)rng(); /* incompressible stretches between compressible ones */
      } else {
        const char *w = words[rng() % 7];
        for (size_t k = 0; w[k] && i < n; k++)
          p[i++] = (uint8_t)w[k];
        if (i < n) p[i++] = ' ';
      }
    }
    samples[s] = (sample){names[s], p, n};
  }
}

/* ---- compressors (the independent side) ---- */

typedef struct blob {
  uint8_t *p;
  size_t len;
} blob;

static blob compress_snappy(const uint8_t *in, size_t n) {
  size_t cap = snappy_max_compressed_length(n);
  blob b = {malloc(cap), cap};
  if (snappy_compress((const char *)in, n, (char *)b.p, &b.len) != SNAPPY_OK) b.len = 0;
  return b;
}

/* window_bits 15 + 16 = gzip wrapper, 15 = zlib wrapper. */
static blob compress_deflate(const uint8_t *in, size_t n, int window_bits) {
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  blob b = {NULL, 0};
  if (deflateInit2(&zs, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) return b;
  size_t cap = deflateBound(&zs, (uLong)n) + 32;
  b.p = malloc(cap);
  zs.next_in = (Bytef *)in;
  zs.avail_in = (uInt)n;
  zs.next_out = b.p;
  zs.avail_out = (uInt)cap;
  if (deflate(&zs, Z_FINISH) == Z_STREAM_END) b.len = cap - zs.avail_out;
  deflateEnd(&zs);
  return b;
}

static blob compress_zstd(const uint8_t *in, size_t n) {
  size_t cap = ZSTD_compressBound(n);
  blob b = {malloc(cap), 0};
  size_t r = ZSTD_compress(b.p, cap, in, n, 3);
  if (!ZSTD_isError(r)) b.len = r;
  return b;
}

/* A zstd frame whose header omits the content size, as streaming writers produce. */
static blob compress_zstd_unknown_size(const uint8_t *in, size_t n) {
  size_t cap = ZSTD_compressBound(n) + 64;
  blob b = {malloc(cap), 0};
  ZSTD_CCtx *cc = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, 0);
  ZSTD_outBuffer out = {b.p, cap, 0};
  ZSTD_inBuffer inb = {in, n, 0};
  size_t r = ZSTD_compressStream2(cc, &out, &inb, ZSTD_e_end);
  if (r == 0) b.len = out.pos;
  ZSTD_freeCCtx(cc);
  return b;
}

static blob compress_lz4_block(const uint8_t *in, size_t n) {
  int cap = LZ4_compressBound((int)n);
  blob b = {malloc((size_t)cap), 0};
  int r = LZ4_compress_default((const char *)in, (char *)b.p, (int)n, cap);
  if (r > 0) b.len = (size_t)r;
  return b;
}

static blob compress_lz4_frame(const uint8_t *in, size_t n) {
  size_t cap = LZ4F_compressFrameBound(n, NULL);
  blob b = {malloc(cap), 0};
  size_t r = LZ4F_compressFrame(b.p, cap, in, n, NULL);
  if (!LZ4F_isError(r)) b.len = r;
  return b;
}

static blob compress_brotli(const uint8_t *in, size_t n) {
  size_t cap = BrotliEncoderMaxCompressedSize(n);
  blob b = {malloc(cap), cap};
  if (!BrotliEncoderCompress(5, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC, n, in, &b.len, b.p))
    b.len = 0;
  return b;
}

static void put_u32_be(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

/* Hadoop framing built by hand: the input split into n_frames frames, each
 * [u32 BE raw size] followed by n_chunks chunks [u32 BE compressed size][LZ4 block] that
 * together hold the frame's bytes (Hadoop's BlockCompressorStream splits large inputs so). */
static blob frame_hadoop_chunks(const uint8_t *in, size_t n, int n_frames, int n_chunks) {
  blob b = {malloc((size_t)LZ4_compressBound((int)n) + 16u * (size_t)(n_frames * n_chunks) + 64),
            0};
  size_t off = 0;
  for (int f = 0; f < n_frames; f++) {
    size_t frame = f == n_frames - 1 ? n - off : n / (size_t)n_frames;
    put_u32_be(b.p + b.len, (uint32_t)frame);
    b.len += 4;
    size_t frame_off = 0;
    /* Hadoop never writes empty chunks: fewer chunks when the frame has fewer bytes. */
    int chunks = frame < (size_t)n_chunks ? (frame ? (int)frame : 1) : n_chunks;
    for (int c = 0; c < chunks; c++) {
      size_t piece = c == chunks - 1 ? frame - frame_off : frame / (size_t)chunks;
      blob z = compress_lz4_block(in + off + frame_off, piece);
      put_u32_be(b.p + b.len, (uint32_t)z.len);
      memcpy(b.p + b.len + 4, z.p, z.len);
      b.len += 4 + z.len;
      frame_off += piece;
      free(z.p);
    }
    off += frame;
  }
  return b;
}

static blob frame_hadoop(const uint8_t *in, size_t n, int n_frames) {
  return frame_hadoop_chunks(in, n, n_frames, 1);
}

/* ---- helpers ---- */

/* Decompresses into a buffer of exactly dst_len bytes; returns the code and, on success, checks
 * the bytes against expect (when non-NULL). */
static int run(int codec, const blob *b, size_t src_len, size_t dst_len, const uint8_t *expect,
               tarn_error *err) {
  uint8_t *dst = dst_len ? malloc(dst_len) : NULL;
  memset(err, 0, sizeof *err);
  int rc = pq_decompress(codec, b->p, src_len, dst, dst_len, err);
  if (rc == 0 && expect) CHECK(dst_len == 0 || memcmp(dst, expect, dst_len) == 0);
  free(dst);
  return rc;
}

static void round_trip(int codec, blob (*compress)(const uint8_t *, size_t), const char *label) {
  for (int s = 0; s < N_SAMPLES; s++) {
    blob b = compress(samples[s].data, samples[s].len);
    CHECK(b.len > 0);
    tarn_error err;
    int rc = run(codec, &b, b.len, samples[s].len, samples[s].data, &err);
    if (rc != 0) fprintf(stderr, "  %s / %s: %s\n", label, samples[s].name, err.message);
    CHECK_EQ_INT(rc, 0);
    free(b.p);
  }
}

/* The malformed variants every codec must reject: a declared size one byte too large and one
 * too small, a truncated stream, and (when the stream is long enough) a stream cut in half. The
 * error message must name the codec. */
static void reject_malformed(int codec, const blob *b, size_t n, const char *name) {
  tarn_error err;
  CHECK_EQ_INT(run(codec, b, b->len, n + 1, NULL, &err), TARN_ECORRUPT);
  CHECK(strstr(err.message, name) != NULL);
  if (n > 0) {
    CHECK_EQ_INT(run(codec, b, b->len, n - 1, NULL, &err), TARN_ECORRUPT);
    CHECK(strstr(err.message, name) != NULL);
  }
  CHECK_EQ_INT(run(codec, b, b->len - 1, n, NULL, &err), TARN_ECORRUPT);
  CHECK(strstr(err.message, name) != NULL);
  CHECK_EQ_INT(run(codec, b, b->len / 2, n, NULL, &err), TARN_ECORRUPT);
  CHECK_EQ_INT(run(codec, b, 0, n, NULL, &err), TARN_ECORRUPT);
}

/* ---- tests ---- */

static void test_names(void) {
  CHECK_EQ_STR(pq_codec_name(PQ_CODEC_UNCOMPRESSED), "UNCOMPRESSED");
  CHECK_EQ_STR(pq_codec_name(PQ_CODEC_SNAPPY), "SNAPPY");
  CHECK_EQ_STR(pq_codec_name(PQ_CODEC_GZIP), "GZIP");
  CHECK_EQ_STR(pq_codec_name(PQ_CODEC_LZO), "LZO");
  CHECK_EQ_STR(pq_codec_name(PQ_CODEC_BROTLI), "BROTLI");
  CHECK_EQ_STR(pq_codec_name(PQ_CODEC_LZ4), "LZ4");
  CHECK_EQ_STR(pq_codec_name(PQ_CODEC_ZSTD), "ZSTD");
  CHECK_EQ_STR(pq_codec_name(PQ_CODEC_LZ4_RAW), "LZ4_RAW");
  CHECK_EQ_STR(pq_codec_name(8), "UNKNOWN");
  CHECK_EQ_STR(pq_codec_name(-1), "UNKNOWN");
}

static blob copy_blob(const uint8_t *in, size_t n) {
  blob b = {malloc(n ? n : 1), n};
  memcpy(b.p, in, n);
  return b;
}
static blob compress_gzip(const uint8_t *in, size_t n) { return compress_deflate(in, n, 31); }
static blob compress_zlib(const uint8_t *in, size_t n) { return compress_deflate(in, n, 15); }
static blob compress_hadoop1(const uint8_t *in, size_t n) { return frame_hadoop(in, n, 1); }
static blob compress_hadoop2(const uint8_t *in, size_t n) { return frame_hadoop(in, n, 2); }
static blob compress_hadoop_chunked(const uint8_t *in, size_t n) {
  return frame_hadoop_chunks(in, n, 1, 3);
}
static blob compress_hadoop_2x2(const uint8_t *in, size_t n) {
  return frame_hadoop_chunks(in, n, 2, 2);
}

static void test_round_trips(void) {
  round_trip(PQ_CODEC_UNCOMPRESSED, copy_blob, "uncompressed");
  round_trip(PQ_CODEC_SNAPPY, compress_snappy, "snappy");
  round_trip(PQ_CODEC_GZIP, compress_gzip, "gzip");
  round_trip(PQ_CODEC_GZIP, compress_zlib, "gzip (zlib wrapper)");
  round_trip(PQ_CODEC_ZSTD, compress_zstd, "zstd");
  round_trip(PQ_CODEC_ZSTD, compress_zstd_unknown_size, "zstd (no content size)");
  round_trip(PQ_CODEC_BROTLI, compress_brotli, "brotli");
  round_trip(PQ_CODEC_LZ4_RAW, compress_lz4_block, "lz4_raw");
  round_trip(PQ_CODEC_LZ4, compress_hadoop1, "lz4 hadoop, 1 frame");
  round_trip(PQ_CODEC_LZ4, compress_hadoop2, "lz4 hadoop, 2 frames");
  round_trip(PQ_CODEC_LZ4, compress_hadoop_chunked, "lz4 hadoop, 1 frame of 3 chunks");
  round_trip(PQ_CODEC_LZ4, compress_hadoop_2x2, "lz4 hadoop, 2 frames of 2 chunks");
  round_trip(PQ_CODEC_LZ4, compress_lz4_block, "lz4 raw-block fallback");
  round_trip(PQ_CODEC_LZ4, compress_lz4_frame, "lz4 frame fallback");
}

static void test_hadoop_frame_layout(void) {
  /* Two frames by hand from a known text, with the header bytes checked literally. */
  const char *text =
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
  size_t n = strlen(text);
  blob b = frame_hadoop((const uint8_t *)text, n, 2);
  CHECK(b.len > 16);
  CHECK(b.p[0] == 0 && b.p[1] == 0 && b.p[2] == 0 && b.p[3] == (uint8_t)(n / 2));
  tarn_error err;
  CHECK_EQ_INT(run(PQ_CODEC_LZ4, &b, b.len, n, (const uint8_t *)text, &err), 0);
  /* Corrupting the second frame's compressed size breaks the tiling; the raw and frame
   * fallbacks must not accept the buffer either. */
  size_t first_packed = (size_t)b.p[4] << 24 | (size_t)b.p[5] << 16 | (size_t)b.p[6] << 8 | b.p[7];
  uint8_t *second = b.p + 8 + first_packed;
  CHECK(second[3] == (uint8_t)(n - n / 2));
  put_u32_be(second + 4, (uint32_t)(b.len - 8 - first_packed - 8 + 1));
  CHECK_EQ_INT(run(PQ_CODEC_LZ4, &b, b.len, n, NULL, &err), TARN_ECORRUPT);
  free(b.p);
}

static void test_concatenated_gzip(void) {
  const sample *s = &samples[3];
  size_t half = s->len / 3;
  blob a = compress_gzip(s->data, half);
  blob c = compress_gzip(s->data + half, s->len - half);
  blob both = {malloc(a.len + c.len), a.len + c.len};
  memcpy(both.p, a.p, a.len);
  memcpy(both.p + a.len, c.p, c.len);
  tarn_error err;
  CHECK_EQ_INT(run(PQ_CODEC_GZIP, &both, both.len, s->len, s->data, &err), 0);
  /* Only the first member's size declared: the second member is more than declared. */
  CHECK_EQ_INT(run(PQ_CODEC_GZIP, &both, both.len, half, NULL, &err), TARN_ECORRUPT);
  /* Second member cut short. */
  CHECK_EQ_INT(run(PQ_CODEC_GZIP, &both, both.len - 5, s->len, NULL, &err), TARN_ECORRUPT);
  free(a.p);
  free(c.p);
  free(both.p);
}

static void test_concatenated_zstd(void) {
  const sample *s = &samples[1];
  size_t half = s->len / 2;
  blob a = compress_zstd(s->data, half);
  blob c = compress_zstd_unknown_size(s->data + half, s->len - half);
  blob both = {malloc(a.len + c.len), a.len + c.len};
  memcpy(both.p, a.p, a.len);
  memcpy(both.p + a.len, c.p, c.len);
  tarn_error err;
  CHECK_EQ_INT(run(PQ_CODEC_ZSTD, &both, both.len, s->len, s->data, &err), 0);
  free(a.p);
  free(c.p);
  free(both.p);
}

static void test_malformed(void) {
  const sample *s = &samples[3];
  blob b;
  b = copy_blob(s->data, s->len);
  reject_malformed(PQ_CODEC_UNCOMPRESSED, &b, s->len, "uncompressed");
  free(b.p);
  b = compress_snappy(s->data, s->len);
  reject_malformed(PQ_CODEC_SNAPPY, &b, s->len, "snappy");
  {
    /* Snappy states its length up front; the message should say the sizes disagree. */
    tarn_error err;
    CHECK_EQ_INT(run(PQ_CODEC_SNAPPY, &b, b.len, s->len + 7, NULL, &err), TARN_ECORRUPT);
    CHECK(strstr(err.message, "declares") != NULL);
  }
  free(b.p);
  b = compress_gzip(s->data, s->len);
  reject_malformed(PQ_CODEC_GZIP, &b, s->len, "gzip");
  free(b.p);
  b = compress_zstd(s->data, s->len);
  reject_malformed(PQ_CODEC_ZSTD, &b, s->len, "zstd");
  free(b.p);
  b = compress_zstd_unknown_size(s->data, s->len);
  reject_malformed(PQ_CODEC_ZSTD, &b, s->len, "zstd");
  free(b.p);
  b = compress_brotli(s->data, s->len);
  reject_malformed(PQ_CODEC_BROTLI, &b, s->len, "brotli");
  free(b.p);
  b = compress_lz4_block(s->data, s->len);
  reject_malformed(PQ_CODEC_LZ4_RAW, &b, s->len, "lz4_raw");
  reject_malformed(PQ_CODEC_LZ4, &b, s->len, "lz4");
  free(b.p);
  b = frame_hadoop(s->data, s->len, 2);
  reject_malformed(PQ_CODEC_LZ4, &b, s->len, "lz4");
  free(b.p);
  b = frame_hadoop_chunks(s->data, s->len, 2, 3);
  reject_malformed(PQ_CODEC_LZ4, &b, s->len, "lz4");
  free(b.p);
  b = compress_lz4_frame(s->data, s->len);
  reject_malformed(PQ_CODEC_LZ4, &b, s->len, "lz4");
  free(b.p);
}

/* Bytes after the end of a complete stream mean the page is not what its header says. */
static void test_trailing_bytes(void) {
  const sample *s = &samples[1];
  blob (*compressors[])(const uint8_t *, size_t) = {compress_gzip, compress_zstd, compress_brotli,
                                                    compress_snappy};
  const int codecs[] = {PQ_CODEC_GZIP, PQ_CODEC_ZSTD, PQ_CODEC_BROTLI, PQ_CODEC_SNAPPY};
  const char *names[] = {"gzip", "zstd", "brotli", "snappy"};
  for (int i = 0; i < 4; i++) {
    blob b = compressors[i](s->data, s->len);
    blob longer = {malloc(b.len + 3), b.len + 3};
    memcpy(longer.p, b.p, b.len);
    memcpy(longer.p + b.len, "xyz", 3);
    tarn_error err;
    CHECK_EQ_INT(run(codecs[i], &longer, longer.len, s->len, NULL, &err), TARN_ECORRUPT);
    CHECK(strstr(err.message, names[i]) != NULL);
    free(longer.p);
    free(b.p);
  }
}

static void test_garbage(void) {
  /* Random bytes must never decode (and must not crash) under any codec but UNCOMPRESSED. */
  static const int codecs[] = {PQ_CODEC_SNAPPY, PQ_CODEC_GZIP, PQ_CODEC_BROTLI,
                               PQ_CODEC_LZ4,    PQ_CODEC_ZSTD, PQ_CODEC_LZ4_RAW};
  for (int round = 0; round < 50; round++) {
    size_t n = 1 + rng() % 2000;
    blob g = {malloc(n), n};
    for (size_t i = 0; i < n; i++)
      g.p[i] = (uint8_t)rng();
    for (size_t c = 0; c < sizeof codecs / sizeof codecs[0]; c++) {
      tarn_error err;
      int rc = run(codecs[c], &g, g.len, 4096, NULL, &err);
      CHECK(rc == TARN_ECORRUPT);
    }
    free(g.p);
  }
}

static void test_hadoop_bad_headers(void) {
  const sample *s = &samples[1];
  blob b = frame_hadoop(s->data, s->len, 2);
  tarn_error err;
  /* First frame claims more compressed bytes than the page holds. */
  blob bad = copy_blob(b.p, b.len);
  put_u32_be(bad.p + 4, 0x7fffffffu);
  CHECK_EQ_INT(run(PQ_CODEC_LZ4, &bad, bad.len, s->len, NULL, &err), TARN_ECORRUPT);
  /* First frame claims a huge raw size. */
  memcpy(bad.p, b.p, b.len);
  put_u32_be(bad.p, 0xffffffffu);
  CHECK_EQ_INT(run(PQ_CODEC_LZ4, &bad, bad.len, s->len, NULL, &err), TARN_ECORRUPT);
  /* First frame declares one byte less, or one byte more, than its chunk holds. */
  memcpy(bad.p, b.p, b.len);
  put_u32_be(bad.p, (uint32_t)(s->len / 2 - 1));
  CHECK_EQ_INT(run(PQ_CODEC_LZ4, &bad, bad.len, s->len, NULL, &err), TARN_ECORRUPT);
  put_u32_be(bad.p, (uint32_t)(s->len / 2 + 1));
  CHECK_EQ_INT(run(PQ_CODEC_LZ4, &bad, bad.len, s->len, NULL, &err), TARN_ECORRUPT);
  /* A zero-length chunk. */
  memcpy(bad.p, b.p, b.len);
  put_u32_be(bad.p + 4, 0);
  CHECK_EQ_INT(run(PQ_CODEC_LZ4, &bad, bad.len, s->len, NULL, &err), TARN_ECORRUPT);
  /* Only the 8-byte header of a frame, no block. */
  blob hdr = {bad.p, 8};
  memcpy(bad.p, b.p, 8);
  CHECK_EQ_INT(run(PQ_CODEC_LZ4, &hdr, hdr.len, s->len / 2, NULL, &err), TARN_ECORRUPT);
  free(bad.p);
  free(b.p);
}

static void test_empty_pages(void) {
  tarn_error err;
  blob none = {NULL, 0};
  /* Zero bytes for zero bytes is fine whatever the codec (v2 data pages of only nulls). */
  CHECK_EQ_INT(run(PQ_CODEC_SNAPPY, &none, 0, 0, NULL, &err), 0);
  CHECK_EQ_INT(run(PQ_CODEC_ZSTD, &none, 0, 0, NULL, &err), 0);
  /* A real stream that decodes to nothing, as in page_v2_empty_compressed.parquet. */
  blob z = compress_zstd((const uint8_t *)"", 0);
  CHECK(z.len > 0);
  CHECK_EQ_INT(run(PQ_CODEC_ZSTD, &z, z.len, 0, NULL, &err), 0);
  CHECK_EQ_INT(run(PQ_CODEC_ZSTD, &z, z.len, 1, NULL, &err), TARN_ECORRUPT);
  free(z.p);
  blob g = compress_gzip((const uint8_t *)"", 0);
  CHECK_EQ_INT(run(PQ_CODEC_GZIP, &g, g.len, 0, NULL, &err), 0);
  free(g.p);
  blob sn = compress_snappy((const uint8_t *)"", 0);
  CHECK_EQ_INT(run(PQ_CODEC_SNAPPY, &sn, sn.len, 0, NULL, &err), 0);
  free(sn.p);
  blob br = compress_brotli((const uint8_t *)"", 0);
  CHECK_EQ_INT(run(PQ_CODEC_BROTLI, &br, br.len, 0, NULL, &err), 0);
  free(br.p);
}

static void test_unsupported(void) {
  tarn_error err;
  blob b = {(uint8_t *)"abc", 3};
  CHECK_EQ_INT(run(PQ_CODEC_LZO, &b, 3, 3, NULL, &err), TARN_EUNSUPPORTED);
  CHECK(strstr(err.message, "lzo") != NULL || strstr(err.message, "LZO") != NULL);
  CHECK_EQ_INT(run(8, &b, 3, 3, NULL, &err), TARN_EUNSUPPORTED);
  CHECK_EQ_INT(run(-1, &b, 3, 3, NULL, &err), TARN_EUNSUPPORTED);
  /* A NULL error pointer is accepted. */
  uint8_t out[3];
  CHECK_EQ_INT(pq_decompress(PQ_CODEC_LZO, b.p, 3, out, 3, NULL), TARN_EUNSUPPORTED);
}

/* The first page of two parquet-testing files written with codec LZ4: one in Hadoop framing
 * (parquet-mr), one as a bare block (old parquet-cpp). Both hold the same two INT64 values. The
 * page headers were decoded by hand: a 13- and a 14-byte Thrift header after "PAR1", declaring 16
 * uncompressed bytes and 26 and 18 compressed bytes. */
static void test_parquet_testing_lz4(void) {
  static const uint8_t expect[16] = {0xc0, 0x7a, 0xfc, 0x5e, 0, 0, 0, 0,
                                     0xc1, 0x7a, 0xfc, 0x5e, 0, 0, 0, 0};
  static const struct {
    const char *file;
    size_t header_end, compressed;
    int hadoop;
  } pages[] = {{"hadoop_lz4_compressed.parquet", 17, 26, 1},
               {"non_hadoop_lz4_compressed.parquet", 18, 18, 0}};
  for (int i = 0; i < 2; i++) {
    char rel[256];
    snprintf(rel, sizeof rel, "testdata/parquet-testing/data/%s", pages[i].file);
    size_t len = 0;
    uint8_t *file = shared_data_read(rel, &len);
    CHECK(file != NULL);
    if (file == NULL) continue;
    CHECK(len > pages[i].header_end + pages[i].compressed && memcmp(file, "PAR1", 4) == 0);
    /* The header's uncompressed (0x20 = zigzag 16) and compressed sizes, where expected. */
    CHECK(file[6] == 0x15 && file[7] == 0x20 && file[8] == 0x15 &&
          file[9] == (uint8_t)(pages[i].compressed * 2));
    const uint8_t *data = file + pages[i].header_end;
    /* Hadoop framing starts with the 16 in big-endian; the bare block does not. */
    CHECK_EQ_INT(data[3] == 16 && data[0] == 0, pages[i].hadoop);
    blob b = {(uint8_t *)data, pages[i].compressed};
    tarn_error err;
    int rc = run(PQ_CODEC_LZ4, &b, b.len, 16, expect, &err);
    if (rc) fprintf(stderr, "  %s: %s\n", pages[i].file, err.message);
    CHECK_EQ_INT(rc, 0);
    free(file);
  }
}

int main(void) {
  make_samples();
  RUN(test_names);
  RUN(test_round_trips);
  RUN(test_hadoop_frame_layout);
  RUN(test_concatenated_gzip);
  RUN(test_concatenated_zstd);
  RUN(test_malformed);
  RUN(test_trailing_bytes);
  RUN(test_garbage);
  RUN(test_hadoop_bad_headers);
  RUN(test_empty_pages);
  RUN(test_unsupported);
  RUN(test_parquet_testing_lz4);
  for (int s = 0; s < N_SAMPLES; s++)
    free(samples[s].data);
  return check_finish();
}
