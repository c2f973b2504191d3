/*
 * OPTIMIZE for Delta tables: compaction of small files (bin-packing) and optional Z-ordering.
 *
 * Compaction rewrites, partition by partition, the live files smaller than the target size (and
 * every file with a deletion vector, whose deleted rows are dropped as it is rewritten) into as
 * few files as the target size allows. With Z-order columns, every file of each partition is
 * rewritten with its rows sorted by the interleaved bits of those columns, so that files cover
 * narrow ranges of each of them and data skipping works on any of them. The commit is one
 * OPTIMIZE version whose adds and removes carry dataChange false (delta_txn_set_rearrange_only):
 * the table's rows are the same before and after. It reads on from the version it rewrote, so a
 * concurrent delete or rewrite of a file it compacts is a conflict and a concurrent append is not.
 */
#ifndef TARN_SQL_DELTA_OPTIMIZE_H
#define TARN_SQL_DELTA_OPTIMIZE_H

#include <stdint.h>

#include "sql/exec.h"
#include "sql/plan.h"

typedef struct sql_delta_optimize_options {
  const char *const *zorder_cols; /* column names; n_zorder 0: bin-packing only */
  size_t n_zorder;
  int64_t target_file_size; /* bytes; 0: delta.targetFileSize, else 128 MiB */
} sql_delta_optimize_options;

typedef struct sql_delta_optimize_result {
  int64_t version; /* the committed version, -1 when there was nothing to do */
  int64_t files_removed, files_added;
  int64_t bytes_removed, bytes_added;
  int64_t partitions_optimized;
  int64_t rows_rewritten;
} sql_delta_optimize_result;

/* Optimizes the Delta table in table_dir as described above, with execution context x and plan
 * context pc (for the scans of the files it rewrites). Nothing to do (no partition with two or
 * more small files, no file with a deletion vector, no Z-order): nothing is committed and
 * res->version is -1. Errors: TARN_EINVAL for a Z-order column the table lacks or that is a
 * partition column; TARN_ECONFLICT when a concurrent commit removed a file it rewrote; those of
 * reading and writing the table. */
int sql_delta_optimize(sql_exec_ctx *x, sql_plan_ctx *pc, const char *table_dir,
                       const sql_delta_optimize_options *o, sql_delta_optimize_result *res,
                       tarn_error *err);

#endif
