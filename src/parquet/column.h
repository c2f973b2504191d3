/*
 * Reading one column chunk: pages, decompression, decryption, levels and values.
 *
 * A column reader walks the pages of one leaf column in one row group and hands out whole
 * records in batches: their definition and repetition levels and their non-null values in
 * physical form (see encoding.h). Record boundaries are found from repetition levels, so a
 * record that spans pages is never split between batches. The reader holds at most one
 * decompressed page and the dictionary; level decoding is incremental, so a page that claims
 * billions of values costs no more memory than the batch asked for.
 *
 * Every page is checked: its header against the chunk's byte range, its CRC when present, its
 * sizes against TARN_MAX_PAGE_BYTES before anything is allocated, its levels against the
 * column's maximum levels, dictionary indices against the dictionary's size. Errors name the
 * column path and the page ordinal.
 */
#ifndef TARN_PARQUET_COLUMN_H
#define TARN_PARQUET_COLUMN_H

#include <stdint.h>

#include "common/buf.h"
#include "parquet/metadata.h"
#include "parquet/schema.h"
#include "tarn.h"

/* Largest decompressed page tarn accepts (a larger claim is refused before allocation). */
#define TARN_MAX_PAGE_BYTES ((int64_t)1 << 30)

/* Where a chunk's bytes are and how to decrypt them. */
typedef struct pq_chunk_source {
  const uint8_t *data; /* the whole file */
  size_t len;
  const char *file_name;
  int verify_crc;
  /* The data is a read-only file mapping: pages the reader has passed may be dropped from memory
   * (they are re-read from the page cache if needed again). Never set for a caller's buffer. */
  int is_file_mapping;
  /* With a file mapping: the file's count of bytes passed but not yet dropped (shared by the
   * readers of one file handle; may be NULL). */
  _Atomic size_t *unreleased;
  /* Decryption (key NULL = plaintext column). */
  const uint8_t *key;
  size_t key_len;
  int algorithm; /* 1 AES_GCM_V1, 2 AES_GCM_CTR_V1 */
  const uint8_t *file_aad;
  size_t file_aad_len;
  int row_group_ordinal, column_ordinal;
} pq_chunk_source;

/* One batch of decoded records of a leaf column. Buffers are reused between batches. */
typedef struct pq_column_data {
  tarn_buf def;     /* int16 definition levels (when max_def > 0) */
  tarn_buf rep;     /* int16 repetition levels (when max_rep > 0) */
  int64_t n_levels; /* level entries in this batch */
  tarn_buf values;  /* fixed-width values, or BYTE_ARRAY bytes */
  tarn_buf offsets; /* BYTE_ARRAY: n_values + 1 int32 end offsets, starting with 0 */
  int64_t n_values; /* non-null values */
  /* Only with pq_column_reader_want_indices: every value of the batch came from dictionary
   * pages, and instead of values/offsets the batch holds their dictionary indices (n_values
   * uint32, checked against the dictionary's size; see pq_column_reader_dictionary). */
  bool indexed;
  tarn_buf indices;
} pq_column_data;

typedef struct pq_column_reader pq_column_reader;

/* Creates a reader over chunk (borrowed, as are src's buffers and leaf; they must outlive the
 * reader). Validates the chunk's byte range against the file. */
int pq_column_reader_create(const pq_chunk_source *src, const pq_column_chunk *chunk,
                            const pq_column_meta *meta, const pq_node *leaf, pq_column_reader **out,
                            tarn_error *err);

void pq_column_reader_free(pq_column_reader *r);

/* Reads up to max_records whole records into out (cleared first); *records is how many were read
 * (less than asked only at the end of the chunk). */
int pq_column_read(pq_column_reader *r, int64_t max_records, pq_column_data *out, int64_t *records,
                   tarn_error *err);

void pq_column_data_free(pq_column_data *d);

/* BYTE_ARRAY columns: batches made only of dictionary-encoded values are handed out as indices
 * into the dictionary (pq_column_data.indexed) rather than copies of the strings. A batch that
 * also holds plainly encoded values (a writer falls back to PLAIN when the dictionary grows too
 * big) is handed out as values, as always. */
void pq_column_reader_want_indices(pq_column_reader *r);

/* The dictionary of the chunk (count entries: bytes and count + 1 int32 offsets starting at 0),
 * valid until the reader is freed; count 0 before a dictionary page was read. */
void pq_column_reader_dictionary(const pq_column_reader *r, const uint8_t **bytes,
                                 const int32_t **offsets, int64_t *count);

/* Gives the reader the chunk's offset index (borrowed; must outlive the reader) so that
 * pq_column_skip can jump over whole pages. An index inconsistent with the chunk is ignored. */
void pq_column_reader_set_offset_index(pq_column_reader *r, const pq_offset_index *oi);

/* Skips the next n records: whole pages are jumped over with the offset index when there is
 * one, the rest is decoded into scratch (a caller's reusable buffer) and dropped. */
int pq_column_skip(pq_column_reader *r, int64_t n, pq_column_data *scratch, tarn_error *err);

/* Data pages decoded and pages jumped over so far (for EXPLAIN ANALYZE-style reporting). */
void pq_column_reader_pages(const pq_column_reader *r, int64_t *read, int64_t *skipped);

#endif
