/*
 * The Parquet footer and page headers as C structures, decoded from Thrift.
 *
 * These mirror the parts of parquet.thrift that tarn uses: FileMetaData, SchemaElement (with
 * LogicalType), RowGroup, ColumnChunk, ColumnMetaData, Statistics, PageHeader, ColumnIndex,
 * OffsetIndex, BloomFilterHeader and the encryption structures. Decoding allocates from an arena
 * owned by the caller; byte strings (names, statistics, key/value metadata) point into the input
 * buffer, which must outlive the structures. Every count is validated while decoding; fields that
 * the format requires are checked for presence, so later code can rely on them.
 */
#ifndef TARN_PARQUET_METADATA_H
#define TARN_PARQUET_METADATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "tarn.h"

typedef struct pq_bytes {
  const uint8_t *data; /* NULL when absent */
  uint32_t len;
} pq_bytes;

typedef struct pq_key_value {
  pq_bytes key;
  pq_bytes value;
  bool has_value;
} pq_key_value;

typedef struct pq_logical_type {
  int kind;                 /* enum pq_logical_kind; PQ_LT_NONE when absent */
  int32_t scale, precision; /* DECIMAL */
  int unit;                 /* TIME/TIMESTAMP: enum pq_time_unit */
  bool adjusted_to_utc;     /* TIME/TIMESTAMP */
  int bit_width;            /* INTEGER */
  bool is_signed;           /* INTEGER */
  pq_bytes crs;             /* GEOMETRY/GEOGRAPHY: coordinate reference system, when given */
  bool has_algorithm;       /* GEOGRAPHY: edge interpolation (0 SPHERICAL, 1 VINCENTY, ...) */
  int32_t algorithm;
} pq_logical_type;

typedef struct pq_schema_element {
  bool has_type;
  int type; /* enum pq_physical_type (leaves) */
  int32_t type_length;
  bool has_repetition;
  int repetition;   /* enum pq_repetition */
  const char *name; /* NUL-terminated copy in the arena */
  int32_t num_children;
  int converted_type; /* enum pq_converted_type, PQ_CT_NONE when absent */
  int32_t scale, precision;
  bool has_field_id;
  int32_t field_id;
  pq_logical_type logical;
} pq_schema_element;

typedef struct pq_statistics {
  bool present;
  pq_bytes max, min;             /* legacy signed-order min/max */
  pq_bytes max_value, min_value; /* min/max in the column's sort order */
  bool has_null_count, has_distinct_count;
  int64_t null_count, distinct_count;
  bool has_max_exact, has_min_exact;
  bool is_max_value_exact, is_min_value_exact;
} pq_statistics;

typedef struct pq_page_encoding_stats {
  int page_type, encoding;
  int32_t count;
} pq_page_encoding_stats;

typedef struct pq_column_meta {
  int type;
  uint32_t n_encodings;
  int32_t *encodings;
  uint32_t n_path;
  const char **path;
  int codec;
  int64_t num_values;
  int64_t total_uncompressed_size, total_compressed_size;
  uint32_t n_key_value;
  pq_key_value *key_value;
  int64_t data_page_offset;
  bool has_index_page_offset, has_dictionary_page_offset;
  int64_t index_page_offset, dictionary_page_offset;
  pq_statistics statistics;
  uint32_t n_encoding_stats;
  pq_page_encoding_stats *encoding_stats;
  bool has_bloom_filter_offset, has_bloom_filter_length;
  int64_t bloom_filter_offset;
  int32_t bloom_filter_length;
} pq_column_meta;

typedef struct pq_column_crypto {
  int kind; /* 0 none, 1 encrypted with the footer key, 2 with a column key */
  uint32_t n_path;
  const char **path;
  pq_bytes key_metadata;
} pq_column_crypto;

typedef struct pq_column_chunk {
  const char *file_path; /* NULL when the data is in this file */
  int64_t file_offset;
  bool has_meta;
  pq_column_meta meta;
  bool has_offset_index, has_column_index;
  int64_t offset_index_offset, column_index_offset;
  int32_t offset_index_length, column_index_length;
  pq_column_crypto crypto;
  pq_bytes encrypted_column_metadata;
} pq_column_chunk;

typedef struct pq_sorting_column {
  int32_t column_idx;
  bool descending, nulls_first;
} pq_sorting_column;

typedef struct pq_row_group {
  uint32_t n_columns;
  pq_column_chunk *columns;
  int64_t total_byte_size;
  int64_t num_rows;
  uint32_t n_sorting_columns;
  pq_sorting_column *sorting_columns;
  bool has_file_offset, has_total_compressed_size, has_ordinal;
  int64_t file_offset, total_compressed_size;
  int32_t ordinal;
} pq_row_group;

typedef struct pq_encryption_algorithm {
  int kind; /* 0 none, 1 AES_GCM_V1, 2 AES_GCM_CTR_V1 */
  pq_bytes aad_prefix;
  pq_bytes aad_file_unique;
  bool supply_aad_prefix;
} pq_encryption_algorithm;

typedef struct pq_file_meta {
  int32_t version;
  uint32_t n_schema;
  pq_schema_element *schema;
  int64_t num_rows;
  uint32_t n_row_groups;
  pq_row_group *row_groups;
  uint32_t n_key_value;
  pq_key_value *key_value;
  const char *created_by;
  uint32_t n_column_orders;
  int32_t *column_orders; /* 1 = TYPE_ORDER, 0 = unknown */
  pq_encryption_algorithm encryption;
  pq_bytes footer_signing_key_metadata;
} pq_file_meta;

typedef struct pq_file_crypto_meta {
  pq_encryption_algorithm encryption;
  pq_bytes key_metadata;
} pq_file_crypto_meta;

typedef struct pq_data_page_header {
  int32_t num_values, encoding, def_encoding, rep_encoding;
  pq_statistics statistics;
} pq_data_page_header;

typedef struct pq_dict_page_header {
  int32_t num_values, encoding;
  bool is_sorted;
} pq_dict_page_header;

typedef struct pq_data_page_header_v2 {
  int32_t num_values, num_nulls, num_rows, encoding;
  int32_t def_levels_byte_length, rep_levels_byte_length;
  bool is_compressed;
  pq_statistics statistics;
} pq_data_page_header_v2;

typedef struct pq_page_header {
  int type;
  int32_t uncompressed_page_size, compressed_page_size;
  bool has_crc;
  int32_t crc;
  bool has_data, has_dict, has_data_v2;
  pq_data_page_header data;
  pq_dict_page_header dict;
  pq_data_page_header_v2 data_v2;
} pq_page_header;

typedef struct pq_column_index {
  uint32_t n_pages;
  bool *null_pages;
  pq_bytes *min_values, *max_values;
  int boundary_order; /* 0 unordered, 1 ascending, 2 descending */
  bool has_null_counts;
  int64_t *null_counts;
} pq_column_index;

typedef struct pq_page_location {
  int64_t offset;
  int32_t compressed_page_size;
  int64_t first_row_index;
} pq_page_location;

typedef struct pq_offset_index {
  uint32_t n_pages;
  pq_page_location *pages;
} pq_offset_index;

typedef struct pq_bloom_header {
  int32_t num_bytes;
  int algorithm, hash, compression; /* union member ids: 1 = BLOCK, XXHASH, UNCOMPRESSED */
} pq_bloom_header;

/* Decodes FileMetaData from buf[0..len). Allocations come from arena; strings/bytes point into
 * buf. Errors: TARN_ECORRUPT (message says what and where), TARN_ENOMEM. */
int pq_decode_file_meta(const uint8_t *buf, size_t len, tarn_arena *arena, pq_file_meta *out,
                        tarn_error *err);

/* Decodes FileCryptoMetaData (the head of an encrypted footer); *consumed is its length. */
int pq_decode_file_crypto_meta(const uint8_t *buf, size_t len, pq_file_crypto_meta *out,
                               size_t *consumed, tarn_error *err);

/* Decodes a ColumnMetaData struct (used for separately encrypted column metadata). */
int pq_decode_column_meta(const uint8_t *buf, size_t len, tarn_arena *arena, pq_column_meta *out,
                          tarn_error *err);

/* Decodes one PageHeader at the start of buf[0..len); *consumed is the header's length. Statistics
 * point into buf. Does not allocate. */
int pq_decode_page_header(const uint8_t *buf, size_t len, pq_page_header *out, size_t *consumed,
                          tarn_error *err);

int pq_decode_column_index(const uint8_t *buf, size_t len, tarn_arena *arena, pq_column_index *out,
                           tarn_error *err);
int pq_decode_offset_index(const uint8_t *buf, size_t len, tarn_arena *arena, pq_offset_index *out,
                           tarn_error *err);
int pq_decode_bloom_header(const uint8_t *buf, size_t len, pq_bloom_header *out, size_t *consumed,
                           tarn_error *err);

#endif
