/*
 * Delta Lake deletion vectors (PROTOCOL.md "Deletion Vectors" and appendix "Deletion Vector
 * Format"): the set of row positions of a data file that a table version has logically deleted.
 *
 * A descriptor (delta_dv, from an add action) says where the vector lives:
 *  - 'i' inline: pathOrInlineDv is the serialized bitmap itself, Z85-encoded;
 *  - 'u' relative: pathOrInlineDv is an optional random prefix followed by the 20-character Z85
 *    encoding of a 16-byte UUID; the file is <table>/<prefix>/deletion_vector_<uuid>.bin (no
 *    prefix directory when the prefix is empty);
 *  - 'p' absolute: pathOrInlineDv is an absolute path or file:// URI, percent-encoded like the
 *    path of an add action. Only local files are read (another scheme is TARN_EUNSUPPORTED).
 *
 * A DV file is a 1-byte format version (1) followed by vectors; the one a descriptor names starts
 * at its `offset` (absent or 0: right after the version byte) as a 4-byte big-endian size (which
 * must equal sizeInBytes), that many bytes of serialized bitmap, and a 4-byte big-endian CRC-32
 * of those bytes, which is verified.
 *
 * The serialized bitmap ("RoaringBitmapArray") is a 4-byte little-endian magic 1681511377, then a
 * 64-bit Roaring bitmap in the portable format: an 8-byte little-endian count of buckets, each a
 * 4-byte little-endian key (the high 32 bits of its positions, most significant bit 0, keys
 * strictly ascending) and a 32-bit Roaring bitmap in the portable serialization. The older
 * "native" layout Delta also reads, which the protocol's own inline example uses, is accepted too:
 * big-endian magic 1681511376 and 4-byte bitmap count, then per bitmap a 4-byte big-endian size
 * and the bitmap, its key being its index. Up to 3 trailing zero bytes (padding) are ignored. Each
 * 32-bit bitmap is validated here (every size against the bytes present, containers and values in
 * ascending order, bitset cardinalities against their population counts) before libroaring
 * deserializes it, so corrupt input is reported rather than trusted. The number of positions must
 * equal the descriptor's cardinality.
 *
 * Errors: TARN_ECORRUPT for anything malformed, TARN_EIO for a file that cannot be read,
 * TARN_ENOMEM when the positions do not fit the arena; messages name the table and the DV.
 */
#ifndef TARN_TABLE_DELTA_DV_H
#define TARN_TABLE_DELTA_DV_H

#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"
#include "table/delta/delta_log.h"
#include "tarn.h"

/* Reads the deletion vector dv of a file of the Delta table in table_dir: the row positions it
 * deletes, ascending, allocated in a (*positions = NULL and *n = 0 for storage_type 0 or an empty
 * vector). */
int delta_dv_read(const char *table_dir, const delta_dv *dv, tarn_arena *a, uint64_t **positions,
                  size_t *n, tarn_error *err);

/* Decodes a serialized RoaringBitmapArray (magic number and 64-bit portable bitmap; len bytes,
 * of which trailing zero padding of up to 3 bytes is ignored) into ascending positions allocated
 * in a. The count must equal cardinality; a negative cardinality skips that check (fuzzing). */
int delta_dv_decode_bitmap(const uint8_t *data, size_t len, int64_t cardinality, tarn_arena *a,
                           uint64_t **positions, size_t *n, tarn_error *err);

/* Delta's Z85 variant decoding (exposed for tests): every 5 characters of text (alphabet of
 * ZeroMQ RFC 32) give 4 bytes, most significant first, so len must be a multiple of 5 and
 * *out_len = len / 5 * 4 (out_cap must hold it, else TARN_EINVAL). Delta's encoder pads input
 * whose length is not a multiple of 4 with zero bytes; the decoded padding is left in out, and
 * callers cut it off with the length they know (sizeInBytes, or 16 for a UUID). A character
 * outside the alphabet, a block above 2^32 - 1 or a bad length is TARN_ECORRUPT. */
int delta_z85_decode(const char *text, size_t len, uint8_t *out, size_t out_cap, size_t *out_len,
                     tarn_error *err);

/* --- Writing ------------------------------------------------------------------------------- */

/* Delta's Z85 encoding of len bytes (a multiple of 4) into out (NUL-terminated; out_cap must hold
 * len / 4 * 5 + 1 characters, else TARN_EINVAL). */
int delta_z85_encode(const uint8_t *data, size_t len, char *out, size_t out_cap, tarn_error *err);

/* Serializes n strictly ascending row positions as a RoaringBitmapArray in the portable layout
 * (the one PROTOCOL.md specifies), appended to out. TARN_EINVAL for positions that are not
 * strictly ascending or at or above 2^63. */
int delta_dv_encode_bitmap(const uint64_t *positions, size_t n, tarn_buf *out, tarn_error *err);

/* Writes n deletion vectors (vector i: counts[i] strictly ascending positions[i]) into one new
 * file <table_dir>/deletion_vector_<random uuid>.bin (format version byte, then per vector its
 * size, bitmap and CRC-32), fsynced before it returns, and fills descs[i] with a 'u' descriptor
 * of vector i (strings allocated in a); *path (when path is not NULL) is the file's path,
 * malloc'd, for removing it should the commit fail. A failure leaves no file behind. Errors:
 * TARN_EINVAL (see delta_dv_encode_bitmap, or a vector too large for the descriptor's 32-bit size),
 * TARN_EIO, TARN_ENOMEM. */
int delta_dv_write_file(const char *table_dir, size_t n, const uint64_t *const *positions,
                        const size_t *counts, tarn_arena *a, delta_dv *descs, char **path,
                        tarn_error *err);

#endif
