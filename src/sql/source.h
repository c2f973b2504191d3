/*
 * Table sources: what a scan reads, independent of the table format that described it.
 *
 * A source is a snapshot of a table: its columns and the data files that make it up, each with
 * what a table format's metadata knows about it before the file is opened: row count, partition
 * values, per-column minimum/maximum/null counts, and rows deleted by later commits (Delta
 * deletion vectors, Iceberg position deletes and deletion vectors, Hudi's merged-away records).
 * `read_parquet` builds one from globs; Delta, Iceberg and Hudi build one from a snapshot chosen
 * by version or time. The scan operator prunes files with the file-level facts first, then row
 * groups, pages and bloom filters from each Parquet footer.
 */
#ifndef TARN_SQL_SOURCE_H
#define TARN_SQL_SOURCE_H

#include "sql/vector.h"

typedef struct sql_source_file {
  const char *path;
  int64_t n_rows;     /* -1: unknown until the footer is read */
  int64_t size_bytes; /* -1: unknown */
  /* Per source column (arrays of n_cols, or NULL when the format gives none): */
  const sql_value *partition; /* type NULL in an entry: not a partition column of this file */
  const sql_value *min, *max; /* is_null when unknown */
  const int64_t *null_count;  /* -1 when unknown */
  /* Row positions (0-based within the file, ascending) deleted by later commits; with
   * keep_only, the other way round: the only positions read (a change feed entry that covers
   * some rows of a file), every other row skipped. */
  const uint64_t *deleted;
  size_t n_deleted;
  bool keep_only;
} sql_source_file;

typedef struct sql_source {
  const char *name; /* for EXPLAIN: "read_parquet('data/x.parquet')" */
  size_t n_cols;
  const char **col_names;
  const sql_type **col_types;
  const int *col_field_ids; /* Parquet field ids to match columns by (Iceberg), or NULL: by name */
  const char **col_file_names; /* the names data files give the columns (Delta column mapping's
                                  physical names), or NULL: col_names */
  sql_source_file *files;
  size_t n_files;
  int64_t table_version; /* the table version a table format's source reads (Delta) */
  /* Row identity (sql_source_add_row_ids): column row_pos_col holds each row's position in its
   * file, which the scan computes; the column before it is the file's index (a constant). */
  bool has_row_pos;
  size_t row_pos_col;
} sql_source;

/* Appends the row identity columns "__tarn_file" (bigint: the index of the row's file in
 * src->files) and "__tarn_pos" (bigint: its 0-based position in that file, counting deleted
 * rows), for statements that change rows in place (DELETE, UPDATE, MERGE). */
int sql_source_add_row_ids(tarn_arena *a, sql_source *src, tarn_error *err);

/* Builds a source over the Parquet files matching any of the globs (a path, a glob with * ? [..],
 * or a directory, which means every *.parquet below it), in sorted path order. The columns are
 * the first file's; later files are matched to them by name. Everything lives in arena a.
 * Errors: TARN_EINVAL "no files match 'x'", reader errors for an unreadable footer,
 * TARN_EUNSUPPORTED for a column type SQL cannot hold. */
int sql_source_parquet(tarn_arena *a, const char *const *globs, size_t n_globs, sql_source **out,
                       tarn_error *err);

/* Builds a source over a Delta table's snapshot: at `version` (-1: the latest), or when
 * timestamp_ms is not INT64_MIN, the latest version committed at or before it. Columns are the
 * schema's top-level fields; files carry partition values, row counts, integer and date min/max
 * from the statistics, and the positions their deletion vectors delete. Errors: those of the log
 * (delta_log.h), TARN_EUNSUPPORTED for a column type SQL cannot hold, a partition value that
 * does not parse as its column's type. */
int sql_source_delta(tarn_arena *a, const char *table_dir, int64_t version, int64_t timestamp_ms,
                     sql_source **out, tarn_error *err);

#endif
