/*
 * Writing a Delta table's data files from SQL batches: the one path every statement that adds
 * rows to a Delta table takes (INSERT, CREATE TABLE AS, UPDATE, MERGE, the rewrites of DELETE
 * and compaction).
 *
 * Rows arrive in the table's column order. Each row goes to the file of its partition: a
 * partitioned table gets one file per distinct combination of partition values, in a Hive-style
 * directory (`day=2024-01-02/`, values percent-escaped, NULL as __HIVE_DEFAULT_PARTITION__), and
 * its partition columns are not stored in the file (PROTOCOL.md: they live in the add action's
 * partitionValues, serialized as the protocol's "Partition Value Serialization" says). Files get
 * random names, so concurrent writers never collide, and are written under their final name by
 * the Parquet writer's temp-and-rename. Each file's add action carries statistics: numRecords,
 * and for the first 32 primitive columns their null counts and the minimum and maximum of
 * numbers, dates, timestamps (milliseconds, the maximum rounded up) and strings (a minimum cut to
 * 32 characters; no maximum for a longer one, as a cut maximum would be too small), keyed by the
 * names the data files use (physical names under column mapping).
 */
#ifndef TARN_SQL_DELTA_FILES_H
#define TARN_SQL_DELTA_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sql/vector.h"
#include "table/delta/delta_commit.h"

typedef struct sql_delta_layout {
  size_t n_cols;
  const char *const *names;      /* the table's column names (for messages) */
  const char *const *file_names; /* the names data files and statistics use */
  const sql_type *const *types;
  const bool *not_null; /* per column: NULL is refused; NULL: nothing is */
  size_t n_parts;
  const size_t *part_cols; /* the column of each partition column, in the table's order */
  /* Change data files instead of data files: written under `_change_data/` as `cdc-...`
   * files and committed as cdc actions (no statistics); the last column is `_change_type`. */
  bool cdc;
} sql_delta_layout;

typedef struct sql_delta_writer sql_delta_writer;

/* Starts writing files into table_dir for a table of layout l (copied; the strings and types it
 * points to must outlive the writer). */
int sql_delta_writer_open(const char *table_dir, const sql_delta_layout *l, sql_delta_writer **out,
                          tarn_error *err);

/* Appends the rows of b (the table's columns, in order; b is not consumed). TARN_EINVAL for a
 * NULL in a NOT NULL column (named) or a partition value that cannot be written. */
int sql_delta_writer_write(sql_delta_writer *w, const sql_batch *b, tarn_error *err);

/* Closes every file and adds each (with its partition values and statistics) to t. *rows: the
 * rows written. */
int sql_delta_writer_finish(sql_delta_writer *w, delta_txn *t, int64_t *rows, tarn_error *err);

/* After finish: how many files the writer added to the transaction and their total size in
 * bytes (OPTIMIZE's metrics). */
void sql_delta_writer_written(const sql_delta_writer *w, size_t *n_files, int64_t *bytes);

/* The partitions the writer wrote files for: how many, and the i-th one's values (one per
 * partition column, Delta's text, NULL for null). A table without partition columns has one
 * partition (no values) once a row is written. */
size_t sql_delta_writer_n_partitions(const sql_delta_writer *w);
const char *const *sql_delta_writer_partition(const sql_delta_writer *w, size_t i);

/* Frees the writer; remove_files deletes every file it wrote (a failed or lost statement). */
void sql_delta_writer_free(sql_delta_writer *w, bool remove_files);

#endif
