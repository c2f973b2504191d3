/*
 * Value and level decoders for every Parquet encoding.
 *
 * Decoders are incremental: a page's bytes are handed to a decoder once, then values are pulled
 * out in batches of any size. That keeps memory bounded by the batch, not by what a page claims
 * (a few bytes of RLE can claim billions of values). Every decoder checks each read against the
 * end of its input and reports TARN_ECORRUPT with a message naming the encoding and the problem;
 * none reads past the bytes it was given.
 *
 * Output forms (the "physical" form the column reader assembles from):
 *   - BOOLEAN: one byte per value, 0 or 1.
 *   - INT32 / FLOAT: 4 little-endian bytes; INT64 / DOUBLE: 8; INT96: 12;
 *     FIXED_LEN_BYTE_ARRAY: type_length bytes per value.
 *   - BYTE_ARRAY: bytes appended to a tarn_buf, and int32 end offsets (Arrow-style).
 * The decoders never see nulls: they decode only the non-null values.
 */
#ifndef TARN_PARQUET_ENCODING_H
#define TARN_PARQUET_ENCODING_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "tarn.h"

/* ---- RLE / bit-packed hybrid (levels, dictionary indices, RLE booleans) ---- */

typedef struct pq_rle_decoder {
  const uint8_t *pos;
  const uint8_t *end;
  int bit_width;          /* 0..32 */
  uint32_t repeat_left;   /* values left in the current RLE run */
  uint32_t repeat_value;
  uint32_t packed_left;   /* values left in the current bit-packed run */
  const uint8_t *packed;  /* start of the current group of 8 packed values */
  uint32_t packed_index;  /* index within the current bit-packed run */
} pq_rle_decoder;

/* Starts decoding the hybrid stream in data[0..len) (no length prefix: the caller strips the
 * 4-byte prefix that data page v1 levels carry) with values of bit_width bits (0..32). */
int pq_rle_init(pq_rle_decoder *d, const uint8_t *data, size_t len, int bit_width,
                tarn_error *err);

/* Decodes exactly n values into out. TARN_ECORRUPT if the stream ends before n values or a run
 * header is malformed. A bit-packed run whose final group is cut short by the end of the data
 * still yields the values that are present. */
int pq_rle_get_u32(pq_rle_decoder *d, uint32_t *out, size_t n, tarn_error *err);
/* The same for levels (values fit 16 bits; callers check them against the maximum level). */
int pq_rle_get_i16(pq_rle_decoder *d, int16_t *out, size_t n, tarn_error *err);

/* Legacy BIT_PACKED levels (deprecated encoding 4): values packed MSB first, no run headers.
 * Decodes n values from data[0..len) starting at value index `start`. */
int pq_bitpacked_legacy_get_i16(const uint8_t *data, size_t len, int bit_width, size_t start,
                                int16_t *out, size_t n, tarn_error *err);

/* ---- Value decoders ---- */

typedef struct pq_decoder pq_decoder;

/* Creates a decoder for `encoding` (enum pq_encoding: PLAIN, RLE (booleans only),
 * DELTA_BINARY_PACKED (INT32/INT64), DELTA_LENGTH_BYTE_ARRAY (BYTE_ARRAY),
 * DELTA_BYTE_ARRAY (BYTE_ARRAY, FIXED_LEN_BYTE_ARRAY), BYTE_STREAM_SPLIT (FLOAT, DOUBLE, INT32,
 * INT64, FIXED_LEN_BYTE_ARRAY)) over data[0..len) holding at most `num_values` values, for
 * physical type `physical` (enum pq_physical_type) with `type_length` (FIXED_LEN_BYTE_ARRAY only).
 * The decoder borrows data; it must stay valid until pq_decoder_free. Dictionary encodings are
 * not handled here (the column reader decodes indices with pq_rle_*).
 * Errors: TARN_EUNSUPPORTED for an encoding not valid for the type, TARN_ECORRUPT for a malformed
 * header (e.g. a DELTA block size that is not a multiple of 128). */
int pq_decoder_create(int encoding, int physical, int type_length, const uint8_t *data,
                      size_t len, int64_t num_values, pq_decoder **out, tarn_error *err);

void pq_decoder_free(pq_decoder *d);

/* Decodes the next n values of a fixed-width type into out (n * width bytes, width as above).
 * TARN_ECORRUPT if fewer than n values remain in the data. */
int pq_decoder_get_fixed(pq_decoder *d, uint8_t *out, size_t n, tarn_error *err);

/* Decodes the next n BYTE_ARRAY values: appends their bytes to data and writes n end offsets to
 * offsets_out[0..n) (each offset = data->len after that value). TARN_ECORRUPT on truncation;
 * TARN_ENOMEM if data would pass 2 GiB. */
int pq_decoder_get_binary(pq_decoder *d, int32_t *offsets_out, tarn_buf *data, size_t n,
                          tarn_error *err);

/* Width in bytes of one decoded fixed-width value of a physical type (BOOLEAN 1, INT32 4, ...,
 * FIXED_LEN_BYTE_ARRAY type_length), 0 for BYTE_ARRAY. */
int pq_physical_width(int physical, int type_length);

/* The encoding's name as parquet.thrift spells it ("RLE_DICTIONARY"), or "UNKNOWN". */
const char *pq_encoding_name(int encoding);

#endif
