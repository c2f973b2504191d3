/*
 * Value and level encoders for writing Parquet pages: the inverse of encoding.h.
 *
 * Inputs are in the same physical form the decoders produce (see encoding.h): fixed-width values
 * as packed little-endian bytes (BOOLEAN one byte 0/1 per value, INT96 12 bytes, FLBA type_length
 * bytes), BYTE_ARRAY values as Arrow-style int32 offsets (n+1 entries, offsets[0] need not be 0)
 * plus the bytes they index. Every encoder appends to a tarn_buf and fails only on allocation or
 * on input it cannot represent (TARN_EINVAL with a message naming the encoding).
 */
#ifndef TARN_PARQUET_ENCODE_H
#define TARN_PARQUET_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "tarn.h"

/* ---- RLE / bit-packed hybrid (levels, dictionary indices, RLE booleans) ---- */

/* Appends the hybrid encoding of n values of bit_width bits (0..32), without a length prefix.
 * Runs of 8 or more equal values become RLE runs; the rest are bit-packed in groups of 8. */
int pq_rle_encode_u32(const uint32_t *values, size_t n, int bit_width, tarn_buf *out,
                      tarn_error *err);
int pq_rle_encode_i16(const int16_t *values, size_t n, int bit_width, tarn_buf *out,
                      tarn_error *err);

/* ---- Values ---- */

/* PLAIN for fixed-width physical types (BOOLEAN bit-packed LSB first). */
int pq_encode_plain_fixed(int physical, int type_length, const uint8_t *values, size_t n,
                          tarn_buf *out, tarn_error *err);
/* PLAIN for BYTE_ARRAY: 4-byte little-endian length, then the bytes, per value. */
int pq_encode_plain_binary(const int32_t *offsets, const uint8_t *data, size_t n, tarn_buf *out,
                           tarn_error *err);
/* RLE for BOOLEAN as data pages store it: 4-byte little-endian length, then the hybrid stream. */
int pq_encode_rle_boolean(const uint8_t *values, size_t n, tarn_buf *out, tarn_error *err);
/* DELTA_BINARY_PACKED for INT32 (4-byte values) or INT64 (8-byte values): block size 128, 4
 * miniblocks per block, as parquet-format's Encodings.md describes. */
int pq_encode_delta_binary_packed(int physical, const uint8_t *values, size_t n, tarn_buf *out,
                                  tarn_error *err);
int pq_encode_delta_length_byte_array(const int32_t *offsets, const uint8_t *data, size_t n,
                                      tarn_buf *out, tarn_error *err);
int pq_encode_delta_byte_array(const int32_t *offsets, const uint8_t *data, size_t n,
                               tarn_buf *out, tarn_error *err);
/* DELTA_BYTE_ARRAY for FIXED_LEN_BYTE_ARRAY values of width bytes each. */
int pq_encode_delta_byte_array_fixed(const uint8_t *values, size_t n, int width, tarn_buf *out,
                                     tarn_error *err);
/* BYTE_STREAM_SPLIT of n values of width bytes (FLOAT 4, DOUBLE 8, INT32 4, INT64 8, FLBA). */
int pq_encode_byte_stream_split(const uint8_t *values, size_t n, int width, tarn_buf *out,
                                tarn_error *err);

/* ---- Dictionary building ---- */

typedef struct pq_dict pq_dict;

/* A dictionary of distinct values of one physical type (not BOOLEAN). */
int pq_dict_create(int physical, int type_length, pq_dict **out, tarn_error *err);
void pq_dict_free(pq_dict *d);

/* Looks up or adds each value; writes its dictionary index to indices[0..n). */
int pq_dict_insert_fixed(pq_dict *d, const uint8_t *values, size_t n, uint32_t *indices,
                         tarn_error *err);
int pq_dict_insert_binary(pq_dict *d, const int32_t *offsets, const uint8_t *data, size_t n,
                          uint32_t *indices, tarn_error *err);

/* Distinct values so far, and the size in bytes of their PLAIN encoding (for the fallback rule:
 * a writer abandons the dictionary when this passes its limit). */
size_t pq_dict_count(const pq_dict *d);
size_t pq_dict_plain_size(const pq_dict *d);

/* Appends the PLAIN encoding of the dictionary's values in index order (a dictionary page body). */
int pq_dict_write_plain(const pq_dict *d, tarn_buf *out, tarn_error *err);

/* Forgets every value (a new column chunk starts a new dictionary). */
void pq_dict_reset(pq_dict *d);

#endif
