/*
 * OPTIMIZE for Delta tables: compaction of small files (bin-packing) and optional Z-ordering.
 *
 * Compaction rewrites, partition by partition, the live files smaller than the target size (and
 * every file with a deletion vector, whose deleted rows are dropped as it is rewritten) into as
 * few files as the target size allows: Delta's bin-packing, where the candidates sorted by size
 * are cut into bins of at most the target size and a bin is rewritten as one file when it holds
 * two or more files or one with a deletion vector. With Z-order columns, every file of each
 * partition is rewritten with its rows sorted by the interleaved bits of those columns' bucket
 * numbers (quantiles of a sample), in files of about the target size, so that files cover
 * narrow ranges of each of them and data skipping works on any of them; the sort spills to the
 * context's tmp_dir beyond its memory budget. The commit is one OPTIMIZE version whose adds and
 * removes carry dataChange false (delta_txn_set_rearrange_only): the table's rows are the same
 * before and after. It reads on from the version it rewrote, so a concurrent delete or rewrite
 * of a file it compacts is a conflict and a concurrent append is not.
 * docs/internals/delta-optimize.md has the details.
 */
#ifndef TARN_SQL_DELTA_OPTIMIZE_H
#define TARN_SQL_DELTA_OPTIMIZE_H

#include <stdbool.h>
#include <stdint.h>

#include "sql/exec.h"
#include "sql/plan.h"

typedef struct sql_delta_optimize_options {
  const char *const *zorder_cols; /* column names; n_zorder 0: bin-packing only */
  size_t n_zorder;
  int64_t target_file_size; /* bytes; 0: delta.targetFileSize, else 128 MiB */
  /* Decide the rewrite on version `version` rather than the latest (at_version false): the
   * commit then checks every later commit for conflicts, as it does for commits that land while
   * OPTIMIZE runs. For tests of that check and for tools that planned on a known version. */
  bool at_version;
  int64_t version;
} sql_delta_optimize_options;

typedef struct sql_delta_optimize_result {
  int64_t version; /* the committed version, -1 when there was nothing to do */
  int64_t files_removed, files_added;
  int64_t bytes_removed, bytes_added;
  int64_t partitions_optimized;
  int64_t rows_rewritten;
} sql_delta_optimize_result;

/* Optimizes the Delta table in table_dir as described above, with execution context x (threads,
 * memory budget, spill directory; x->err should be err) and plan context pc (the scans' plans
 * and sources live in its arena, which the caller frees). o is read only during the call. Nothing
 * to do (no bin to rewrite; Z-order of a table without files): nothing is committed and
 * res->version is -1. On success res holds the committed version and what was rewritten; on
 * error res is zeroed with version -1 and every file written is deleted. Errors: TARN_EINVAL for
 * a Z-order column the table lacks, that is a partition column, is not of a primitive type or is
 * named twice, a bad delta.targetFileSize, a directory that is not a Delta table;
 * TARN_ECONFLICT when a commit after the read version removed a file it rewrote (or changed the
 * metadata, or was not a blind append); those of reading and writing the table. */
int sql_delta_optimize(sql_exec_ctx *x, sql_plan_ctx *pc, const char *table_dir,
                       const sql_delta_optimize_options *o, sql_delta_optimize_result *res,
                       tarn_error *err);

#endif
