/*
 * tarn: an embeddable lakehouse engine.
 *
 * This is the public API of libtarn. Objects are opaque handles with create/destroy (or
 * open/close) pairs; destroying NULL is a no-op. Every fallible function returns an int: 0 on
 * success, a negative TARN_E* code on failure, and fills the caller's tarn_error (which may be
 * NULL) with a one-line message naming the file, column or page at fault.
 *
 * Columnar data crosses the API as the Arrow C Data Interface (ArrowSchema, ArrowArray,
 * ArrowArrayStream), so tarn's output can be handed to any Arrow consumer without copying. The
 * consumer owns what it receives and calls the structure's release callback when done.
 */
#ifndef TARN_H
#define TARN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- The Arrow C Data Interface (ABI-stable; definitions from the Arrow specification) ---- */
#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE

#define ARROW_FLAG_DICTIONARY_ORDERED 1
#define ARROW_FLAG_NULLABLE 2
#define ARROW_FLAG_MAP_KEYS_SORTED 4

struct ArrowSchema {
  const char *format;
  const char *name;
  const char *metadata;
  int64_t flags;
  int64_t n_children;
  struct ArrowSchema **children;
  struct ArrowSchema *dictionary;
  void (*release)(struct ArrowSchema *);
  void *private_data;
};

struct ArrowArray {
  int64_t length;
  int64_t null_count;
  int64_t offset;
  int64_t n_buffers;
  int64_t n_children;
  const void **buffers;
  struct ArrowArray **children;
  struct ArrowArray *dictionary;
  void (*release)(struct ArrowArray *);
  void *private_data;
};
#endif

#ifndef ARROW_C_STREAM_INTERFACE
#define ARROW_C_STREAM_INTERFACE
struct ArrowArrayStream {
  int (*get_schema)(struct ArrowArrayStream *, struct ArrowSchema *out);
  int (*get_next)(struct ArrowArrayStream *, struct ArrowArray *out);
  const char *(*get_last_error)(struct ArrowArrayStream *);
  void (*release)(struct ArrowArrayStream *);
  void *private_data;
};
#endif

/* ---- Errors ---- */

/* Error codes. The command maps them to exit codes (see DESIGN.md): bad input 1, usage 2,
 * conflict 3, corrupt data 4, I/O 5. */
enum {
  TARN_OK = 0,
  TARN_EINVAL = -1,       /* bad input or argument (exit 1) */
  TARN_EUSAGE = -2,       /* wrong use of the command (exit 2) */
  TARN_ECONFLICT = -3,    /* commit conflict after retries (exit 3) */
  TARN_ECORRUPT = -4,     /* malformed or corrupt data (exit 4) */
  TARN_EIO = -5,          /* operating-system I/O failure (exit 5) */
  TARN_ENOMEM = -6,       /* allocation failed or a size cap was exceeded (exit 4) */
  TARN_EUNSUPPORTED = -7, /* valid but not supported by this build (exit 1) */
  TARN_EKEY = -8          /* encrypted data and no (or a wrong) key (exit 1) */
};

typedef struct tarn_error {
  int code;
  char message[512];
} tarn_error;

/* A static English name of an error code ("corrupt data", ...). */
const char *tarn_strerror(int code);

/* The process exit code DESIGN.md gives an error code: 0 ok, 1 bad input or query, 2 usage,
 * 3 commit conflict, 4 corrupt data (and exhausted memory), 5 I/O. */
int tarn_exit_code(int code);

/* ---- Parquet files ---- */

typedef struct tarn_parquet_file tarn_parquet_file;

/* Options for opening a Parquet file. Zero-initialise, then set what you need. */
typedef struct tarn_parquet_options {
  /* Modular encryption keys: the footer key and per-column keys, each as raw bytes (16, 24 or
   * 32 bytes for AES-128/192/256). Borrowed for the duration of tarn_parquet_open only. */
  const uint8_t *footer_key;
  size_t footer_key_len;
  size_t n_column_keys;
  const char *const *column_key_paths; /* dotted column path, e.g. "a.b" */
  const uint8_t *const *column_keys;
  const size_t *column_key_lens;
  /* Additional authenticated data prefix when the file does not store it. Borrowed. */
  const uint8_t *aad_prefix;
  size_t aad_prefix_len;
  /* Skip page CRC verification (verification is on by default). */
  int skip_crc_check;
} tarn_parquet_options;

/* Opens the Parquet file at path and reads its footer. opts may be NULL. On success *out owns the
 * open file; close it with tarn_parquet_close. Errors: TARN_EIO (cannot read), TARN_ECORRUPT (not
 * Parquet or malformed footer), TARN_EKEY (encrypted and no or wrong key). */
int tarn_parquet_open(const char *path, const tarn_parquet_options *opts, tarn_parquet_file **out,
                      tarn_error *err);

/* Opens a Parquet file held in memory (data[0..len), borrowed: it must outlive the handle). name
 * is used in error messages. Otherwise as tarn_parquet_open. */
int tarn_parquet_open_memory(const uint8_t *data, size_t len, const char *name,
                             const tarn_parquet_options *opts, tarn_parquet_file **out,
                             tarn_error *err);

/* Closes the file. Streams made from it must be released first. NULL is a no-op. */
void tarn_parquet_close(tarn_parquet_file *file);

/* Number of rows and row groups recorded in the footer. */
int64_t tarn_parquet_num_rows(const tarn_parquet_file *file);
int tarn_parquet_num_row_groups(const tarn_parquet_file *file);

/* Exports the file's Arrow schema (a struct with one child per top-level column). The caller
 * owns *out and must call out->release. */
int tarn_parquet_arrow_schema(const tarn_parquet_file *file, struct ArrowSchema *out,
                              tarn_error *err);

/* Rows first .. first+count-1, numbered from 0 at the file's first row. */
typedef struct tarn_row_range {
  int64_t first;
  int64_t count;
} tarn_row_range;

/* What to scan. Zero-initialise for "all columns, all row groups". */
typedef struct tarn_scan_options {
  /* Top-level column names to read, in output order; NULL reads all. Borrowed during the call. */
  const char *const *columns;
  size_t n_columns;
  /* Row groups to read, ascending; NULL reads all. Borrowed during the call. */
  const int *row_groups;
  size_t n_row_groups;
  /* Rows to read: ascending, disjoint ranges; NULL reads every row. Row groups without a selected
   * row are not opened, and with the page index, pages without one are not decoded (see
   * tarn_parquet_page_index for choosing ranges). Borrowed during the call. */
  const tarn_row_range *row_ranges;
  size_t n_row_ranges;
  /* Rows per batch (default 8192: batches that stay in cache decode fastest). */
  int64_t batch_rows;
  /* Stop after this many rows (0 = no limit). */
  int64_t limit;
} tarn_scan_options;

/* Starts a scan. The stream yields struct arrays whose children are the projected columns. The
 * stream borrows file: release the stream before closing the file. get_next reports errors
 * through the stream's get_last_error (a message like tarn_error's) and returns a positive errno
 * value (EIO for I/O, EINVAL for corrupt data); tarn_parquet_stream_error gives the tarn code. */
int tarn_parquet_scan(tarn_parquet_file *file, const tarn_scan_options *opts,
                      struct ArrowArrayStream *out, tarn_error *err);

/* The tarn error code of the last failure of a stream made by tarn_parquet_scan (0 if none). */
int tarn_parquet_stream_error(struct ArrowArrayStream *stream);

/* Data pages decoded and pages jumped over so far by a stream made by tarn_parquet_scan. */
int tarn_parquet_stream_pages(struct ArrowArrayStream *stream, int64_t *pages_read,
                              int64_t *pages_skipped);

/* ---- Planning: statistics, page index and bloom filters ----
 * Column numbers below are leaf columns in footer order (0 .. tarn_parquet_num_columns-1); nested
 * columns have one leaf per primitive field, named by dotted path ("a.list.element"). Byte strings
 * returned here point into the open file and live until tarn_parquet_close. Min/max values are in
 * Parquet's PLAIN form: little-endian 4/8 bytes for INT32/INT64/FLOAT/DOUBLE, raw bytes for
 * BYTE_ARRAY and FIXED_LEN_BYTE_ARRAY. */

int tarn_parquet_num_columns(const tarn_parquet_file *file);
/* The dotted path of leaf column col, or NULL when out of range. */
const char *tarn_parquet_column_path(const tarn_parquet_file *file, int col);

typedef struct tarn_column_stats {
  int has_min_max; /* min/max present (in the column's own sort order when exact_order) */
  int exact_order; /* 1: min_value/max_value (logical order); 0: legacy signed-byte min/max */
  const uint8_t *min, *max;
  size_t min_len, max_len;
  int has_null_count;
  int64_t null_count;
  int64_t num_values;      /* values in the chunk, nulls included */
  int64_t compressed_size; /* bytes of the chunk on disk */
} tarn_column_stats;

/* Statistics of column col in row group rg. Errors: TARN_EINVAL (no such row group or column),
 * TARN_EKEY (the column's metadata is encrypted and its key was not given). */
int tarn_parquet_column_stats(const tarn_parquet_file *file, int rg, int col,
                              tarn_column_stats *out, tarn_error *err);

typedef struct tarn_page_info {
  int64_t first_row; /* first row of the page within its row group */
  int64_t num_rows;
  int64_t offset; /* file offset of the page header */
  int32_t size;   /* compressed size including the header */
  int has_bounds; /* column index present: min/max/null_page/null_count below are valid */
  int null_page;  /* every value in the page is null */
  const uint8_t *min, *max;
  size_t min_len, max_len;
  int has_null_count;
  int64_t null_count;
} tarn_page_info;

/* The pages of column col in row group rg from the page index. *n_pages is 0 when the file has no
 * offset index for that chunk. On success *pages is a malloc'd array the caller frees (its byte
 * pointers point into the file). */
int tarn_parquet_page_index(const tarn_parquet_file *file, int rg, int col, tarn_page_info **pages,
                            size_t *n_pages, tarn_error *err);

/* Probes the split-block bloom filter of column col in row group rg for a value given in PLAIN
 * form (see above). *maybe_present is 0 only when the value is certainly absent; it is 1 when the
 * chunk has no bloom filter. */
int tarn_parquet_bloom_check(const tarn_parquet_file *file, int rg, int col, const void *value,
                             size_t len, int *maybe_present, tarn_error *err);

/* Writes the footer (schema, row groups, column chunks, encodings, statistics, key/value
 * metadata, page index locations) as one JSON document to a malloc'd string the caller frees. */
int tarn_parquet_metadata_json(const tarn_parquet_file *file, char **out, tarn_error *err);

/* Writes a human-readable schema (one line per node, indented) to a malloc'd string. */
int tarn_parquet_schema_text(const tarn_parquet_file *file, char **out, tarn_error *err);

/* ---- Writing Parquet ---- */

typedef struct tarn_parquet_writer tarn_parquet_writer;

/* Compression codecs (Parquet's numbering). */
enum {
  TARN_CODEC_UNCOMPRESSED = 0,
  TARN_CODEC_SNAPPY = 1,
  TARN_CODEC_GZIP = 2,
  TARN_CODEC_BROTLI = 4,
  TARN_CODEC_ZSTD = 6,
  TARN_CODEC_LZ4_RAW = 7
};

/* Writer options. Zero-initialise, then set what you need; zeros mean the defaults given. */
typedef struct tarn_write_options {
  int codec;              /* TARN_CODEC_*; default ZSTD unless codec_set */
  int codec_set;          /* 1: use `codec` as given (so UNCOMPRESSED, which is 0, can be chosen) */
  int compression_level;  /* 0: the codec's default */
  int64_t row_group_rows; /* rows per row group (default 122880) */
  int64_t page_bytes;     /* target uncompressed data page size (default 1 MiB) */
  int data_page_v2;       /* 1: data page v2 headers */
  int no_dictionary;      /* 1: never dictionary-encode */
  int64_t dictionary_bytes; /* a chunk's dictionary beyond this falls back to PLAIN (default 1 MiB) */
  int no_statistics;      /* 1: no min/max/null statistics */
  int no_page_index;      /* 1: no ColumnIndex/OffsetIndex */
  /* Columns (top-level names or leaf paths) that get split-block bloom filters. */
  const char *const *bloom_columns;
  size_t n_bloom_columns;
  /* Per-column encoding overrides, "path=ENCODING" (DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY,
   * DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT, PLAIN, RLE for booleans); dictionary stays first choice
   * unless no_dictionary. */
  const char *const *column_encodings;
  size_t n_column_encodings;
  /* File key/value metadata (pairs of NUL-terminated strings). */
  const char *const *metadata_keys;
  const char *const *metadata_values;
  size_t n_metadata;
  /* Sorting columns recorded in each row group (leaf column indexes). */
  const int *sorting_columns;
  const int *sorting_descending;
  size_t n_sorting_columns;
} tarn_write_options;

/* Per-leaf-column statistics of a written file, in the forms table formats record. min and max
 * are the Parquet statistics bytes (PLAIN form; see tarn_column_stats), owned by the stats. */
typedef struct tarn_written_column {
  char *path;              /* dotted leaf path */
  int64_t num_values;      /* values including nulls */
  int64_t null_count;
  int64_t compressed_bytes;
  int64_t uncompressed_bytes;
  int has_min_max;
  uint8_t *min, *max;
  size_t min_len, max_len;
} tarn_written_column;

typedef struct tarn_written_file {
  int64_t num_rows;
  int64_t file_bytes;
  int num_row_groups;
  int num_columns;
  tarn_written_column *columns;
} tarn_written_file;

void tarn_written_file_free(tarn_written_file *stats);

/* Creates a writer for Arrow batches of `schema` (a struct schema; borrowed during the call).
 * Data goes to a temporary file beside path that is renamed to path by a successful close, so a
 * crash never leaves a truncated file under the final name. Errors: TARN_EUNSUPPORTED for an
 * Arrow type Parquet cannot hold (naming the column), TARN_EIO. */
int tarn_parquet_writer_open(const char *path, const struct ArrowSchema *schema,
                             const tarn_write_options *opts, tarn_parquet_writer **out,
                             tarn_error *err);

/* Writes the rows of batch (a struct array of the writer's schema; borrowed). At most one row
 * group is buffered: a full row group is encoded and written out. */
int tarn_parquet_writer_write(tarn_parquet_writer *w, const struct ArrowArray *batch,
                              tarn_error *err);

/* Flushes the last row group, writes the page index, bloom filters and footer, syncs and renames
 * the file into place. stats (may be NULL) receives what was written; free it with
 * tarn_written_file_free. The writer is freed whether or not this succeeds. */
int tarn_parquet_writer_close(tarn_parquet_writer *w, tarn_written_file *stats, tarn_error *err);

/* Abandons the file (removes the temporary file) and frees the writer. NULL is a no-op. */
void tarn_parquet_writer_abort(tarn_parquet_writer *w);

#ifdef __cplusplus
}
#endif
#endif
