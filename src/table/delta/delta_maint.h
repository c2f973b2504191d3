/*
 * Maintenance of Delta tables: VACUUM (deleting files no version within the retention period
 * needs) and RESTORE (making an old version the latest again), with delta-spark's semantics.
 *
 * VACUUM. A data file stays readable after a commit removes it, so that older versions can be
 * read (time travel) and readers of an older snapshot finish; the table property
 * `delta.deletedFileRetentionDuration` ("interval 1 week" unless set) says how long. Vacuum
 * deletes the files under the table directory that (a) no version committed within the
 * retention period references, and (b) were last modified before the retention period began
 * (a file written moments ago may belong to a commit still in progress). "Referenced within the
 * period" is computed as: the live files of the version in force when the period began (the
 * latest one committed at or before now - retention; the oldest version the log can still
 * reconstruct when there is none) plus every file that commits since then add, remove or write
 * as change data, together with their deletion vector files. This is delta-spark's rule (live
 * files plus tombstones not yet expired) stated on versions.
 *
 * What is listed follows delta-spark's DeltaTableUtils.isHiddenDirectory: every file below the
 * table directory, recursively, except names (of files or directories, at any depth) starting
 * with '.' or '_' — so `_delta_log`, `.crc` files and writers' hidden temporaries are never
 * touched — with three exceptions that are listed: `_change_data...` (change data files),
 * `_delta_index...`, and directories of partition columns whose name starts with '_'
 * (`_col=value`). Symbolic links are neither followed nor deleted. Directories left empty are
 * removed too (delta-spark removes a directory once it is empty, in its next run; here in the
 * same run), except one that was recently modified and lost nothing (a writer about to fill it).
 *
 * A retention shorter than the table's is refused unless forced: it can delete files that time
 * travel within the table's promise, or a concurrent writer's commit, still needs (delta-spark's
 * retentionDurationCheck). Tarn does not write VACUUM START/END commits (delta-spark writes them
 * only when spark.databricks.delta.vacuum.logging.enabled is set); vacuum changes no version.
 *
 * RESTORE writes one commit (operation "RESTORE", parameters {"version": N, "timestamp": null}
 * or {"version": null, "timestamp": "..."}) that removes every file live now and not at the
 * target version and adds back (dataChange true) every file live then and not now, a file being
 * its path and deletion vector; sets the target's metadata when it differs, and a protocol that
 * is the greater of the two (restoring never downgrades the protocol, which could break time
 * travel). Like delta-spark it refuses a target that is not older than the latest version, and a
 * target whose files are no longer all on disk (vacuumed), naming them. It takes no retry: a
 * commit by anyone else in between is a conflict (delta-spark commits RESTORE the same way).
 */
#ifndef TARN_TABLE_DELTA_MAINT_H
#define TARN_TABLE_DELTA_MAINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "tarn.h"

/* One week: Delta's default delta.deletedFileRetentionDuration. */
#define DELTA_DEFAULT_RETENTION_MS ((int64_t)7 * 24 * 3600 * 1000)

/* Parses a Delta duration property ("interval 1 week", "1 week", "interval 36 hours",
 * "interval 2 days 12 hours"; units week, day, hour, minute, second, millisecond, microsecond,
 * singular or plural, any case) into milliseconds (microseconds truncated). Months and years are
 * refused, as Delta refuses them (they have no fixed length). TARN_EINVAL for anything else. */
int delta_parse_interval_ms(const char *text, int64_t *ms, tarn_error *err);

typedef struct delta_vacuum_options {
  int64_t retention_ms; /* < 0: the table's delta.deletedFileRetentionDuration */
  bool dry_run;         /* list what would be deleted, delete nothing */
  bool force;           /* allow a retention shorter than the table's */
  int64_t now_ms;       /* 0: the clock (tests pass a time) */
} delta_vacuum_options;

typedef struct delta_vacuum_result {
  tarn_arena arena;
  const char **paths; /* files deleted (dry run: to delete), relative to the table, sorted */
  size_t n_paths;
  int64_t bytes;              /* their total size */
  size_t n_dirs;              /* directories removed (dry run: to remove) as empty */
  int64_t retention_ms;       /* the retention applied */
  int64_t table_retention_ms; /* the table's own (the minimum without force) */
  int64_t version;            /* the latest version vacuumed against */
} delta_vacuum_result;

/* Vacuums the Delta table in table_dir (see above); o may be NULL for the defaults. The result
 * is filled even when deletion fails part way (what was deleted so far); free it with
 * delta_vacuum_result_free in every case. Errors: those of delta_snapshot_load; TARN_EINVAL for
 * a retention below the table's without force (the message names the minimum), a negative
 * retention, or an unparsable delta.deletedFileRetentionDuration; TARN_EUNSUPPORTED for a table
 * whose writer protocol tarn does not know (an unknown writer feature could keep files vacuum
 * would not recognize as needed); TARN_EIO when a file cannot be listed or deleted. */
int delta_vacuum(const char *table_dir, const delta_vacuum_options *o, delta_vacuum_result *out,
                 tarn_error *err);

void delta_vacuum_result_free(delta_vacuum_result *r);

typedef struct delta_restore_result {
  int64_t version;          /* the version the restore committed */
  int64_t restored_version; /* the version restored */
  size_t n_removed, n_restored;
  int64_t removed_bytes, restored_bytes;
} delta_restore_result;

/* Restores the Delta table in table_dir to `version`, or when timestamp_ms is not INT64_MIN, to
 * the latest version committed at or before that time (see above). Errors: TARN_EINVAL (no such
 * table or version, a version not older than the latest, files of the target missing on disk,
 * an append-only table that would lose files), TARN_ECONFLICT (another commit came first),
 * those of delta_txn_commit. */
int delta_restore(const char *table_dir, int64_t version, int64_t timestamp_ms,
                  delta_restore_result *out, tarn_error *err);

#endif
