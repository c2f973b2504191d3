/*
 * The Parquet file handle as the rest of tarn sees it (internal API).
 *
 * tarn_parquet_file (the public opaque handle) owns the file's bytes (a read-only mapping, or a
 * caller's buffer), the decoded footer, the schema tree and, for encrypted files, the decrypted
 * footer and column metadata. Layers above (the SQL engine, the table formats) use these
 * accessors to plan scans: row-group statistics, the page index and bloom filters, all without
 * decoding any data page.
 */
#ifndef TARN_PARQUET_READER_H
#define TARN_PARQUET_READER_H

#include "parquet/column.h"
#include "parquet/metadata.h"
#include "parquet/schema.h"
#include "tarn.h"

const pq_file_meta *pq_file_metadata(const tarn_parquet_file *f);
const pq_schema *pq_file_schema(const tarn_parquet_file *f);
const char *pq_file_name(const tarn_parquet_file *f);

/* The ColumnMetaData of column `col` in row group `rg` (decrypted if it was encrypted), or NULL
 * when it is encrypted with a key that was not given. */
const pq_column_meta *pq_file_chunk_meta(const tarn_parquet_file *f, int rg, int col);

/* A reader of the chunk of leaf column `col` in row group `rg`, set up as scans set them up
 * (decryption keys, CRC checking); it borrows f, which must outlive it. Errors: TARN_EKEY for an
 * encrypted chunk without its key, TARN_EUNSUPPORTED for a chunk stored in another file. */
int pq_file_column_reader(const tarn_parquet_file *f, int rg, int col, pq_column_reader **out,
                          tarn_error *err);

/* Reads the page index of a column chunk into arena-allocated structures. Returns 0 and sets
 * *present = 0 when the chunk has none. */
int pq_file_column_index(const tarn_parquet_file *f, int rg, int col, tarn_arena *arena,
                         pq_column_index *out, int *present, tarn_error *err);
int pq_file_offset_index(const tarn_parquet_file *f, int rg, int col, tarn_arena *arena,
                         pq_offset_index *out, int *present, tarn_error *err);

/* Checks a value (its PLAIN encoding without length prefix: 4/8 little-endian bytes for
 * INT32/INT64/FLOAT/DOUBLE, the bytes of a BYTE_ARRAY) against the chunk's bloom filter.
 * *result: 1 possibly present (also when there is no filter), 0 definitely absent. */
int pq_file_bloom_check(const tarn_parquet_file *f, int rg, int col, const void *value, size_t len,
                        int *result, tarn_error *err);

#endif
