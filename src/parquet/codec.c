/*
 * Page decompression: one function per codec, each checking that the library produced exactly
 * the number of bytes the page header declared. The contract is in codec.h; the reasons behind
 * the LZ4 fallback order are in docs/internals/codecs.md. Compression (for the writer) follows
 * at the end of the file.
 */
#include "parquet/codec.h"

#include <brotli/decode.h>
#include <brotli/encode.h>
#include <limits.h>
#include <lz4.h>
#include <lz4frame.h>
#include <pthread.h>
#include <snappy-c.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "common/error.h"
#include "parquet/format.h"

/* The libraries reject NULL buffers even when their length is zero, and NULL + 0 is undefined
 * in C; an empty page may come with dst == NULL, so pq_decompress points it here instead. Never
 * read or written. */
static uint8_t codec_empty_[1];

/* The codec's name as it opens error messages ("snappy: ..."). */
static const char *codec_label(int codec) {
  switch (codec) {
  case PQ_CODEC_UNCOMPRESSED: return "uncompressed";
  case PQ_CODEC_SNAPPY: return "snappy";
  case PQ_CODEC_GZIP: return "gzip";
  case PQ_CODEC_LZO: return "lzo";
  case PQ_CODEC_BROTLI: return "brotli";
  case PQ_CODEC_LZ4: return "lz4";
  case PQ_CODEC_ZSTD: return "zstd";
  case PQ_CODEC_LZ4_RAW: return "lz4_raw";
  default: return "unknown codec";
  }
}

static int decompress_uncompressed(const uint8_t *src, size_t src_len, uint8_t *dst, size_t dst_len,
                                   tarn_error *err) {
  if (src_len != dst_len)
    return tarn_err(err, TARN_ECORRUPT,
                    "uncompressed: page holds %zu bytes but its header declares %zu", src_len,
                    dst_len);
  if (dst_len > 0) memcpy(dst, src, dst_len);
  return 0;
}

static int decompress_snappy(const uint8_t *src, size_t src_len, uint8_t *dst, size_t dst_len,
                             tarn_error *err) {
  /* Snappy stores the uncompressed length up front: checking it first gives a precise message
   * and keeps snappy from starting on a buffer it cannot fill. */
  size_t stated = 0;
  if (snappy_uncompressed_length((const char *)src, src_len, &stated) != SNAPPY_OK)
    return tarn_err(err, TARN_ECORRUPT, "snappy: malformed length prefix");
  if (stated != dst_len)
    return tarn_err(err, TARN_ECORRUPT,
                    "snappy: stream decompresses to %zu bytes but the page header declares %zu",
                    stated, dst_len);
  size_t out_len = dst_len;
  snappy_status st = snappy_uncompress((const char *)src, src_len, (char *)dst, &out_len);
  if (st != SNAPPY_OK) return tarn_err(err, TARN_ECORRUPT, "snappy: corrupt compressed data");
  if (out_len != dst_len)
    return tarn_err(err, TARN_ECORRUPT, "snappy: decoded %zu bytes, expected %zu", out_len,
                    dst_len);
  return 0;
}

static int decompress_gzip(const uint8_t *src, size_t src_len, uint8_t *dst, size_t dst_len,
                           tarn_error *err) {
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  /* 15 + 32: the largest window, and detect a gzip or a zlib header automatically (writers
   * differ in which of the two they emit for "GZIP"). */
  if (inflateInit2(&zs, 15 + 32) != Z_OK)
    return tarn_err(err, TARN_ENOMEM, "gzip: cannot initialise zlib");
  size_t in_off = 0, out_off = 0;
  int rc = 0;
  for (;;) {
    /* zlib counts in uInt; feed at most UINT_MAX bytes at a time. */
    size_t in_chunk = src_len - in_off, out_chunk = dst_len - out_off;
    if (in_chunk > UINT_MAX) in_chunk = UINT_MAX;
    if (out_chunk > UINT_MAX) out_chunk = UINT_MAX;
    zs.next_in = (Bytef *)(src + in_off);
    zs.avail_in = (uInt)in_chunk;
    zs.next_out = dst + out_off;
    zs.avail_out = (uInt)out_chunk;
    int zrc = inflate(&zs, Z_NO_FLUSH);
    in_off += in_chunk - zs.avail_in;
    out_off += out_chunk - zs.avail_out;
    if (zrc == Z_STREAM_END) {
      if (in_off == src_len) break;
      /* More input after a member's trailer: another gzip member follows (some writers, and
       * `cat a.gz b.gz`, produce several); decode it into the rest of the output. */
      if (inflateReset(&zs) != Z_OK) {
        rc = tarn_err(err, TARN_ECORRUPT, "gzip: cannot reset between members");
        break;
      }
      continue;
    }
    if (zrc == Z_OK) continue; /* progress was made; inflate says Z_BUF_ERROR when it cannot */
    if (zrc == Z_BUF_ERROR) {
      if (out_off == dst_len)
        rc = tarn_err(err, TARN_ECORRUPT,
                      "gzip: stream decompresses to more than the %zu bytes the page header "
                      "declares",
                      dst_len);
      else
        rc = tarn_err(err, TARN_ECORRUPT,
                      "gzip: truncated stream (%zu of %zu bytes decoded when input ran out)",
                      out_off, dst_len);
      break;
    }
    rc = tarn_err(err, TARN_ECORRUPT, "gzip: %s", zs.msg ? zs.msg : "corrupt compressed data");
    break;
  }
  inflateEnd(&zs);
  if (rc) return rc;
  if (out_off != dst_len)
    return tarn_err(err, TARN_ECORRUPT, "gzip: decoded %zu bytes, expected %zu", out_off, dst_len);
  return 0;
}

/* One ZSTD_DCtx per thread, created on first use and freed when the thread exits:
 * ZSTD_decompress would allocate and set up a context of its own for every page. */
static pthread_key_t zstd_dctx_key;
static pthread_once_t zstd_dctx_once = PTHREAD_ONCE_INIT;
static int zstd_dctx_key_ok;

static void zstd_dctx_destroy(void *p) { ZSTD_freeDCtx(p); }

static void zstd_dctx_key_init(void) {
  zstd_dctx_key_ok = pthread_key_create(&zstd_dctx_key, zstd_dctx_destroy) == 0;
}

/* The calling thread's context, or NULL if none can be kept. */
static ZSTD_DCtx *zstd_thread_dctx(void) {
  if (pthread_once(&zstd_dctx_once, zstd_dctx_key_init) != 0 || !zstd_dctx_key_ok) return NULL;
  ZSTD_DCtx *c = pthread_getspecific(zstd_dctx_key);
  if (c == NULL) {
    c = ZSTD_createDCtx();
    if (c != NULL && pthread_setspecific(zstd_dctx_key, c) != 0) {
      ZSTD_freeDCtx(c);
      c = NULL;
    }
  }
  return c;
}

static int decompress_zstd(const uint8_t *src, size_t src_len, uint8_t *dst, size_t dst_len,
                           tarn_error *err) {
  /* Decompressing with a context decodes every frame in src (skippable frames too) into a buffer
   * of known capacity, whether or not the frame header records the content size, so frames
   * written by streaming compressors need no special path. */
  ZSTD_DCtx *dctx = zstd_thread_dctx();
  size_t n = dctx ? ZSTD_decompressDCtx(dctx, dst, dst_len, src, src_len)
                  : ZSTD_decompress(dst, dst_len, src, src_len);
  if (ZSTD_isError(n)) {
    if (ZSTD_getErrorCode(n) == ZSTD_error_dstSize_tooSmall)
      return tarn_err(err, TARN_ECORRUPT,
                      "zstd: stream decompresses to more than the %zu bytes the page header "
                      "declares",
                      dst_len);
    return tarn_err(err, TARN_ECORRUPT, "zstd: %s", ZSTD_getErrorName(n));
  }
  if (n != dst_len)
    return tarn_err(err, TARN_ECORRUPT, "zstd: decoded %zu bytes, expected %zu", n, dst_len);
  return 0;
}

static int decompress_brotli(const uint8_t *src, size_t src_len, uint8_t *dst, size_t dst_len,
                             tarn_error *err) {
  /* The streaming call rather than BrotliDecoderDecompress: it tells "truncated" from "too big"
   * and leaves available_in for detecting bytes after the end of the stream. */
  BrotliDecoderState *st = BrotliDecoderCreateInstance(NULL, NULL, NULL);
  if (st == NULL) return tarn_err(err, TARN_ENOMEM, "brotli: cannot create a decoder");
  size_t avail_in = src_len, avail_out = dst_len;
  const uint8_t *next_in = src;
  uint8_t *next_out = dst;
  BrotliDecoderResult r =
      BrotliDecoderDecompressStream(st, &avail_in, &next_in, &avail_out, &next_out, NULL);
  int rc = 0;
  switch (r) {
  case BROTLI_DECODER_RESULT_SUCCESS:
    if (avail_in != 0)
      rc = tarn_err(err, TARN_ECORRUPT, "brotli: %zu unexpected bytes after the stream", avail_in);
    else if (avail_out != 0)
      rc = tarn_err(err, TARN_ECORRUPT, "brotli: decoded %zu bytes, expected %zu",
                    dst_len - avail_out, dst_len);
    break;
  case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT:
    rc = tarn_err(err, TARN_ECORRUPT,
                  "brotli: truncated stream (%zu of %zu bytes decoded when input ran out)",
                  dst_len - avail_out, dst_len);
    break;
  case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT:
    rc = tarn_err(err, TARN_ECORRUPT,
                  "brotli: stream decompresses to more than the %zu bytes the page header "
                  "declares",
                  dst_len);
    break;
  default:
    rc = tarn_err(err, TARN_ECORRUPT, "brotli: %s",
                  BrotliDecoderErrorString(BrotliDecoderGetErrorCode(st)));
    break;
  }
  BrotliDecoderDestroyInstance(st);
  return rc;
}

/* One raw LZ4 block that must decode to exactly dst_len bytes. 1 = it did. */
static int lz4_try_block(const uint8_t *src, size_t src_len, uint8_t *dst, size_t dst_len) {
  if (src_len == 0 || src_len > INT_MAX || dst_len > INT_MAX) return 0;
  int n = LZ4_decompress_safe((const char *)src, (char *)dst, (int)src_len, (int)dst_len);
  return n >= 0 && (size_t)n == dst_len;
}

static uint32_t load_u32_be(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Hadoop's framing (BlockCompressorStream): repeated frames, each a u32 BE uncompressed size and
 * then one or more [u32 BE compressed size][raw block] chunks that together decode to that size.
 * Parquet writers emit one chunk per frame; Hadoop splits an input larger than its codec buffer
 * into several chunks under one frame header. The frames must tile src exactly and decode to
 * exactly dst_len bytes, which makes a false positive on a non-Hadoop buffer all but impossible.
 * 1 = decoded. */
static int lz4_try_hadoop(const uint8_t *src, size_t src_len, uint8_t *dst, size_t dst_len) {
  size_t in = 0, out = 0;
  if (src_len == 0) return 0;
  while (in < src_len) {
    if (src_len - in < 8) return 0;
    size_t frame_size = load_u32_be(src + in);
    in += 4;
    if (frame_size > dst_len - out) return 0;
    size_t frame_end = out + frame_size;
    do {
      if (src_len - in < 4) return 0;
      size_t packed_size = load_u32_be(src + in);
      in += 4;
      /* A chunk is never empty (an empty LZ4 block is one token byte), so `in` always advances. */
      if (packed_size == 0 || packed_size > src_len - in || packed_size > INT_MAX) return 0;
      size_t room = frame_end - out;
      int n = LZ4_decompress_safe((const char *)src + in, (char *)dst + out, (int)packed_size,
                                  room > INT_MAX ? INT_MAX : (int)room);
      if (n < 0) return 0;
      in += packed_size;
      out += (size_t)n;
    } while (out < frame_end);
  }
  return out == dst_len;
}

/* The LZ4 frame format (magic 0x184D2204), possibly several frames back to back. 1 = decoded to
 * exactly dst_len bytes; -1 = the library could not allocate its context. */
static int lz4_try_frame(const uint8_t *src, size_t src_len, uint8_t *dst, size_t dst_len) {
  LZ4F_dctx *dctx = NULL;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION))) return -1;
  size_t in = 0, out = 0, hint = 1;
  int ok = 0;
  while (in < src_len) {
    size_t in_size = src_len - in, out_size = dst_len - out;
    hint = LZ4F_decompress(dctx, dst + out, &out_size, src + in, &in_size, NULL);
    if (LZ4F_isError(hint)) break;
    in += in_size;
    out += out_size;
    /* No progress means the output is full while the frame goes on: more than declared. */
    if (hint != 0 && in_size == 0 && out_size == 0) break;
  }
  if (in == src_len && hint == 0 && out == dst_len) ok = 1;
  LZ4F_freeDecompressionContext(dctx);
  return ok;
}

static int decompress_lz4_hadoop(const uint8_t *src, size_t src_len, uint8_t *dst, size_t dst_len,
                                 tarn_error *err) {
  /* The deprecated LZ4 codec number means different things by writer: parquet-mr wrote Hadoop's
   * framing, older parquet-cpp wrote a bare block, and a few tools wrote the LZ4 frame format.
   * Try them from the strictest check to the loosest; each attempt may scribble on dst, which
   * the next one overwrites. */
  if (lz4_try_hadoop(src, src_len, dst, dst_len)) return 0;
  if (lz4_try_block(src, src_len, dst, dst_len)) return 0;
  int r = lz4_try_frame(src, src_len, dst, dst_len);
  if (r == 1) return 0;
  if (r < 0) return tarn_err(err, TARN_ENOMEM, "lz4: cannot create a frame decoder");
  return tarn_err(err, TARN_ECORRUPT,
                  "lz4: %zu bytes decode to %zu bytes neither as Hadoop-framed blocks, nor as a "
                  "raw block, nor as LZ4 frames",
                  src_len, dst_len);
}

static int decompress_lz4_raw(const uint8_t *src, size_t src_len, uint8_t *dst, size_t dst_len,
                              tarn_error *err) {
  if (src_len > INT_MAX || dst_len > INT_MAX)
    return tarn_err(err, TARN_ECORRUPT, "lz4_raw: page of %zu bytes exceeds the LZ4 block limit",
                    src_len > dst_len ? src_len : dst_len);
  int n = LZ4_decompress_safe((const char *)src, (char *)dst, (int)src_len, (int)dst_len);
  if (n < 0) return tarn_err(err, TARN_ECORRUPT, "lz4_raw: corrupt compressed data");
  if ((size_t)n != dst_len)
    return tarn_err(err, TARN_ECORRUPT, "lz4_raw: decoded %d bytes, expected %zu", n, dst_len);
  return 0;
}

int pq_decompress(int codec, const uint8_t *src, size_t src_len, uint8_t *dst, size_t dst_len,
                  tarn_error *err) {
  if (codec == PQ_CODEC_LZO)
    return tarn_err(err, TARN_EUNSUPPORTED, "lzo: the LZO codec is not supported");
  if (codec < PQ_CODEC_UNCOMPRESSED || codec > PQ_CODEC_LZ4_RAW)
    return tarn_err(err, TARN_EUNSUPPORTED, "unknown compression codec %d", codec);
  /* An empty page is stored as zero bytes whatever the codec (a v2 data page whose values are
   * all null, for instance); zero bytes are not a valid stream for most codecs, so do not ask
   * the library. */
  if (src_len == 0 && dst_len == 0) return 0;
  if (src_len == 0)
    return tarn_err(err, TARN_ECORRUPT, "%s: empty page where the header declares %zu bytes",
                    codec_label(codec), dst_len);
  if (src == NULL || (dst == NULL && dst_len > 0))
    return tarn_err(err, TARN_EINVAL, "%s: NULL buffer passed to pq_decompress",
                    codec_label(codec));
  if (dst == NULL) dst = codec_empty_;
  switch (codec) {
  case PQ_CODEC_UNCOMPRESSED: return decompress_uncompressed(src, src_len, dst, dst_len, err);
  case PQ_CODEC_SNAPPY: return decompress_snappy(src, src_len, dst, dst_len, err);
  case PQ_CODEC_GZIP: return decompress_gzip(src, src_len, dst, dst_len, err);
  case PQ_CODEC_BROTLI: return decompress_brotli(src, src_len, dst, dst_len, err);
  case PQ_CODEC_LZ4: return decompress_lz4_hadoop(src, src_len, dst, dst_len, err);
  case PQ_CODEC_ZSTD: return decompress_zstd(src, src_len, dst, dst_len, err);
  case PQ_CODEC_LZ4_RAW: return decompress_lz4_raw(src, src_len, dst, dst_len, err);
  default: return tarn_err(err, TARN_EUNSUPPORTED, "unknown compression codec %d", codec);
  }
}

const char *pq_codec_name(int codec) {
  switch (codec) {
  case PQ_CODEC_UNCOMPRESSED: return "UNCOMPRESSED";
  case PQ_CODEC_SNAPPY: return "SNAPPY";
  case PQ_CODEC_GZIP: return "GZIP";
  case PQ_CODEC_LZO: return "LZO";
  case PQ_CODEC_BROTLI: return "BROTLI";
  case PQ_CODEC_LZ4: return "LZ4";
  case PQ_CODEC_ZSTD: return "ZSTD";
  case PQ_CODEC_LZ4_RAW: return "LZ4_RAW";
  default: return "UNKNOWN";
  }
}

/* ---- Compression ---- */

/* Default levels when the caller passes 0: zstd's and zlib's own defaults; brotli 5, because the
 * library's default (11) is far too slow for writing data files and 5 is close to zstd 3 in
 * speed. */
#define ZSTD_DEFAULT_LEVEL 3
#define GZIP_DEFAULT_LEVEL 6
#define BROTLI_DEFAULT_LEVEL 5

/* One ZSTD_CCtx per thread, created on first use and freed when the thread exits: a context
 * holds megabytes of tables, and making one per page would cost more than compressing a small
 * page. */
static pthread_key_t zstd_cctx_key;
static pthread_once_t zstd_cctx_once = PTHREAD_ONCE_INIT;
static int zstd_cctx_key_ok;

static void zstd_cctx_destroy(void *p) { ZSTD_freeCCtx(p); }

static void zstd_cctx_key_init(void) {
  zstd_cctx_key_ok = pthread_key_create(&zstd_cctx_key, zstd_cctx_destroy) == 0;
}

/* The calling thread's context, or NULL if none can be kept (the caller then makes its own). */
static ZSTD_CCtx *zstd_thread_cctx(void) {
  if (pthread_once(&zstd_cctx_once, zstd_cctx_key_init) != 0 || !zstd_cctx_key_ok) return NULL;
  ZSTD_CCtx *c = pthread_getspecific(zstd_cctx_key);
  if (c == NULL) {
    c = ZSTD_createCCtx();
    if (c != NULL && pthread_setspecific(zstd_cctx_key, c) != 0) {
      ZSTD_freeCCtx(c);
      c = NULL;
    }
  }
  return c;
}

static int compress_zstd(int level, const uint8_t *src, size_t src_len, tarn_buf *out,
                         tarn_error *err) {
  if (level == 0) level = ZSTD_DEFAULT_LEVEL;
  if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel())
    return tarn_err(err, TARN_EINVAL, "zstd: compression level %d is outside %d..%d", level,
                    ZSTD_minCLevel(), ZSTD_maxCLevel());
  size_t bound = ZSTD_compressBound(src_len);
  if (ZSTD_isError(bound))
    return tarn_err(err, TARN_EINVAL, "zstd: input of %zu bytes is too large", src_len);
  int rc = tarn_buf_reserve(out, bound, err);
  if (rc) return rc;
  ZSTD_CCtx *cctx = zstd_thread_cctx();
  ZSTD_CCtx *own = NULL;
  if (cctx == NULL) {
    cctx = own = ZSTD_createCCtx();
    if (own == NULL) return tarn_err(err, TARN_ENOMEM, "zstd: cannot create a compression context");
  }
  size_t n = ZSTD_compressCCtx(cctx, out->data + out->len, bound, src, src_len, level);
  ZSTD_freeCCtx(own);
  if (ZSTD_isError(n)) return tarn_err(err, TARN_EINVAL, "zstd: %s", ZSTD_getErrorName(n));
  out->len += n;
  return 0;
}

static int compress_snappy(const uint8_t *src, size_t src_len, tarn_buf *out, tarn_error *err) {
  size_t bound = snappy_max_compressed_length(src_len);
  int rc = tarn_buf_reserve(out, bound, err);
  if (rc) return rc;
  size_t n = bound;
  if (snappy_compress((const char *)src, src_len, (char *)out->data + out->len, &n) != SNAPPY_OK)
    return tarn_err(err, TARN_EINVAL, "snappy: compression of %zu bytes failed", src_len);
  out->len += n;
  return 0;
}

static int compress_gzip(int level, const uint8_t *src, size_t src_len, tarn_buf *out,
                         tarn_error *err) {
  if (level == 0) level = GZIP_DEFAULT_LEVEL;
  if (level < 1 || level > 9)
    return tarn_err(err, TARN_EINVAL, "gzip: compression level %d is outside 1..9", level);
  if (src_len > UINT_MAX)
    return tarn_err(err, TARN_EINVAL, "gzip: page of %zu bytes is too large", src_len);
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  /* 15 + 16: the largest window, with a gzip header and trailer (what "GZIP" means in Parquet). */
  if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return tarn_err(err, TARN_ENOMEM, "gzip: cannot initialise zlib");
  size_t bound = deflateBound(&zs, (uLong)src_len);
  int rc = bound > UINT_MAX
               ? tarn_err(err, TARN_EINVAL, "gzip: page of %zu bytes is too large", src_len)
               : tarn_buf_reserve(out, bound, err);
  if (rc == 0) {
    zs.next_in = (Bytef *)src;
    zs.avail_in = (uInt)src_len;
    zs.next_out = out->data + out->len;
    zs.avail_out = (uInt)bound;
    int zrc = deflate(&zs, Z_FINISH);
    if (zrc != Z_STREAM_END)
      rc = tarn_err(err, TARN_EINVAL, "gzip: %s", zs.msg ? zs.msg : "deflate did not finish");
    else
      out->len += bound - zs.avail_out;
  }
  deflateEnd(&zs);
  return rc;
}

static int compress_brotli(int level, const uint8_t *src, size_t src_len, tarn_buf *out,
                           tarn_error *err) {
  if (level == 0) level = BROTLI_DEFAULT_LEVEL;
  if (level < BROTLI_MIN_QUALITY || level > BROTLI_MAX_QUALITY)
    return tarn_err(err, TARN_EINVAL, "brotli: compression level %d is outside %d..%d", level,
                    BROTLI_MIN_QUALITY, BROTLI_MAX_QUALITY);
  size_t bound = BrotliEncoderMaxCompressedSize(src_len);
  if (bound == 0)
    return tarn_err(err, TARN_EINVAL, "brotli: page of %zu bytes is too large", src_len);
  int rc = tarn_buf_reserve(out, bound, err);
  if (rc) return rc;
  size_t n = bound;
  if (!BrotliEncoderCompress(level, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC, src_len, src, &n,
                             out->data + out->len))
    return tarn_err(err, TARN_EINVAL, "brotli: compression of %zu bytes failed", src_len);
  out->len += n;
  return 0;
}

static int compress_lz4_raw(const uint8_t *src, size_t src_len, tarn_buf *out, tarn_error *err) {
  if (src_len > LZ4_MAX_INPUT_SIZE)
    return tarn_err(err, TARN_EINVAL, "lz4_raw: page of %zu bytes exceeds the LZ4 block limit",
                    src_len);
  int bound = LZ4_compressBound((int)src_len);
  int rc = tarn_buf_reserve(out, (size_t)bound, err);
  if (rc) return rc;
  int n =
      LZ4_compress_default((const char *)src, (char *)out->data + out->len, (int)src_len, bound);
  if (n <= 0)
    return tarn_err(err, TARN_EINVAL, "lz4_raw: compression of %zu bytes failed", src_len);
  out->len += (size_t)n;
  return 0;
}

int pq_compress(int codec, int level, const uint8_t *src, size_t src_len, tarn_buf *out,
                tarn_error *err) {
  if (src == NULL) {
    if (src_len > 0)
      return tarn_err(err, TARN_EINVAL, "%s: NULL buffer passed to pq_compress",
                      codec_label(codec));
    src = codec_empty_; /* the libraries reject NULL even for empty input */
  }
  switch (codec) {
  case PQ_CODEC_UNCOMPRESSED: return tarn_buf_append(out, src, src_len, err);
  case PQ_CODEC_SNAPPY: return compress_snappy(src, src_len, out, err);
  case PQ_CODEC_GZIP: return compress_gzip(level, src, src_len, out, err);
  case PQ_CODEC_BROTLI: return compress_brotli(level, src, src_len, out, err);
  case PQ_CODEC_ZSTD: return compress_zstd(level, src, src_len, out, err);
  case PQ_CODEC_LZ4_RAW: return compress_lz4_raw(src, src_len, out, err);
  case PQ_CODEC_LZO:
  case PQ_CODEC_LZ4:
    return tarn_err(err, TARN_EUNSUPPORTED, "%s: tarn does not write this codec",
                    codec_label(codec));
  default: return tarn_err(err, TARN_EUNSUPPORTED, "unknown compression codec %d", codec);
  }
}

int pq_codec_from_name(const char *name) {
  static const struct {
    const char *name;
    int codec;
  } names[] = {
      {"uncompressed", PQ_CODEC_UNCOMPRESSED},
      {"none", PQ_CODEC_UNCOMPRESSED},
      {"snappy", PQ_CODEC_SNAPPY},
      {"gzip", PQ_CODEC_GZIP},
      {"lzo", PQ_CODEC_LZO},
      {"brotli", PQ_CODEC_BROTLI},
      {"zstd", PQ_CODEC_ZSTD},
      /* "lz4" means LZ4_RAW, as in DuckDB and Arrow: the deprecated Hadoop-framed LZ4 is never
       * what a user asking for lz4 today wants written. */
      {"lz4", PQ_CODEC_LZ4_RAW},
      {"lz4_raw", PQ_CODEC_LZ4_RAW},
  };
  if (name == NULL) return -1;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcasecmp(name, names[i].name) == 0) return names[i].codec;
  return -1;
}
