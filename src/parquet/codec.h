/*
 * Page decompression for every Parquet compression codec.
 *
 * Parquet compresses each page on its own; the page header gives both sizes, so decompression
 * always has a known, exact output size. This module wraps the codec libraries (snappy, zlib,
 * zstd, lz4, brotli) behind one call and treats any disagreement between the declared and the
 * actual size as corruption. The caller allocates the output; callers cap the declared size
 * before allocating, so a tiny page cannot claim gigabytes.
 */
#ifndef TARN_PARQUET_CODEC_H
#define TARN_PARQUET_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "tarn.h"

/* Decompresses src (src_len bytes) compressed with codec (enum pq_codec) into dst, which holds
 * exactly dst_len bytes, the size the page header declares. Succeeds only when the output is
 * exactly dst_len bytes.
 *   - PQ_CODEC_UNCOMPRESSED: src_len must equal dst_len; copies.
 *   - PQ_CODEC_GZIP: zlib/gzip stream; several concatenated gzip members are decoded in turn.
 *   - PQ_CODEC_LZ4: Hadoop framing (big-endian u32 uncompressed size, u32 compressed size, LZ4
 *     block; repeated), falling back to a raw LZ4 block, then to the LZ4 frame format.
 *   - PQ_CODEC_LZ4_RAW: one raw LZ4 block. SNAPPY, ZSTD, BROTLI: their libraries' formats.
 *   - PQ_CODEC_LZO: TARN_EUNSUPPORTED.
 * Errors: TARN_ECORRUPT ("snappy: ...", naming the codec and what failed), TARN_EUNSUPPORTED for
 * an unknown codec number. Never reads outside src or writes outside dst. */
int pq_decompress(int codec, const uint8_t *src, size_t src_len, uint8_t *dst, size_t dst_len,
                  tarn_error *err);

/* Compresses src[0..src_len) with codec and appends the result to out. level 0 means the codec's
 * default (ZSTD 3, GZIP 6, BROTLI 5); SNAPPY, LZ4_RAW and UNCOMPRESSED ignore it. Only the codecs
 * tarn writes: UNCOMPRESSED, SNAPPY, GZIP, BROTLI, ZSTD, LZ4_RAW (others: TARN_EUNSUPPORTED). */
int pq_compress(int codec, int level, const uint8_t *src, size_t src_len, tarn_buf *out,
                tarn_error *err);

/* Parses a codec name ("zstd", "SNAPPY", "none", "uncompressed", "lz4" = LZ4_RAW, ...). Returns
 * the enum pq_codec value or -1. */
int pq_codec_from_name(const char *name);

/* The codec's name as parquet.thrift spells it ("ZSTD"), or "UNKNOWN". */
const char *pq_codec_name(int codec);

#endif
