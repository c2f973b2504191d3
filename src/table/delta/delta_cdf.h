/*
 * The change data feed of a Delta table (PROTOCOL.md "Change Data Files", "Add CDC File" and
 * the changeDataFeed table feature): for a range of versions, which files hold the rows each
 * commit inserted, deleted or updated, and which of their rows.
 *
 * Per commit, as the protocol's reader requirements say:
 *  - a commit with `cdc` actions is read from those files alone: their rows carry a
 *    `_change_type` column (insert, delete, update_preimage, update_postimage); its add and
 *    remove actions are ignored;
 *  - otherwise each `add` with dataChange true is an insert of the file's rows and each `remove`
 *    with dataChange true a delete of them (dataChange false marks rewrites such as OPTIMIZE that
 *    change no row, which have no changes). Deletion vectors decide which rows: an add or remove
 *    covers the rows its vector does not delete; a remove and an add of the same path in one
 *    commit (rows deleted or restored in place by a new vector d2 replacing d1) delete the rows
 *    in d2 but not d1 and insert the rows in d1 but not d2, as delta-kernel-rs resolves them.
 *
 * The range is refused unless change data was recorded for every version in it: the metadata in
 * force at the start version, and every metaData action up to the end, must set
 * `delta.enableChangeDataFeed` to true (what delta-spark's CDCReader requires). Each commit's
 * time follows the snapshot's rule (delta_log.h): inCommitTimestamp, else
 * commitInfo.timestamp, else the commit file's modification time.
 *
 * Columns: the result keeps the end version's snapshot, whose schema the changes are read with
 * (a file written before an additive schema change lacks the new columns: NULLs). Partition
 * values are given for the end version's partition columns (physical keys under column mapping).
 */
#ifndef TARN_TABLE_DELTA_CDF_H
#define TARN_TABLE_DELTA_CDF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "table/delta/delta_log.h"
#include "tarn.h"

typedef enum delta_cdf_kind {
  DELTA_CDF_CDC,    /* a change data file: each row's change is its `_change_type` column */
  DELTA_CDF_INSERT, /* the covered rows of a data file were inserted */
  DELTA_CDF_DELETE  /* the covered rows of a data file were deleted */
} delta_cdf_kind;

/* One source of changes: a file of one commit and the rows of it that changed. */
typedef struct delta_cdf_file {
  int64_t version;
  int64_t timestamp_ms; /* the commit's time */
  delta_cdf_kind kind;
  const char *path; /* as the log writes it: relative to the table (URL-encoded) or absolute */
  int64_t size;     /* bytes, -1 when the action does not say */
  /* One entry per partition column of the end snapshot, NULL for a null value. */
  const char **partition_values;
  /* The deletion vector of the action (storage_type 0: none). For a remove-and-add pair it is
   * the add's (the vector after the commit). */
  delta_dv dv;
  /* The rows covered, resolved from the deletion vectors: keep_only false: every row of the
   * file except positions[0..n_positions) (the action's deletion vector); keep_only true:
   * exactly positions[0..n_positions), never empty (a remove-and-add pair). Ascending. */
  bool keep_only;
  const uint64_t *positions;
  size_t n_positions;
} delta_cdf_file;

typedef struct delta_cdf {
  tarn_arena arena;
  const char *table_dir;
  int64_t from_version, to_version;
  delta_snapshot *end;   /* the snapshot at to_version (schema, partition columns, mapping) */
  delta_cdf_file *files; /* by version, then in the commit's action order */
  size_t n_files;
} delta_cdf;

/* Loads the changes of versions from_version..to_version (inclusive; to_version -1: the latest)
 * of the Delta table in table_dir, reading the deletion vectors involved. Errors:
 *  - TARN_EINVAL: a negative start, a start after the end, a version the table does not have or
 *    whose commit file the log no longer holds (the message gives the available range), change
 *    data feed not enabled at a version of the range (named);
 *  - TARN_ECORRUPT: a malformed commit or deletion vector (file and line named);
 *  - those of delta_snapshot_load and delta_dv_read.
 * On success *out owns everything; free it with delta_cdf_free. */
int delta_cdf_load(const char *table_dir, int64_t from_version, int64_t to_version, delta_cdf **out,
                   tarn_error *err);

void delta_cdf_free(delta_cdf *c);

#endif
