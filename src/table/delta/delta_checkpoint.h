/*
 * Writing Delta checkpoints: a snapshot saved as one Parquet file so that readers start from it
 * instead of replaying every commit (PROTOCOL.md "Checkpoints", "Checkpoint Schema", "Last
 * Checkpoint File Schema").
 *
 * A checkpoint of version V is the classic single file `_delta_log/<V, 20 digits>.checkpoint
 * .parquet`: one row per action, each row with exactly one non-null top-level column among
 * `txn`, `add`, `remove`, `metaData`, `protocol`, `domainMetadata` (and `checkpointMetadata`
 * for v2Checkpoint tables). It holds the protocol, the metadata, every application's latest
 * transaction version, the domains in force and one `add` (dataChange false) per live file with
 * its partition values, size, modification time, stats JSON, deletion vector and row-tracking
 * fields. Parquet compressed with Snappy, as Spark writes checkpoints.
 *
 * Writing is crash-safe and idempotent: the file is written under a temporary name starting
 * with '.' in `_delta_log` (which every reader skips), fsynced, then renamed into place. A
 * checkpoint's content is a function of the version, so a concurrent writer of the same
 * checkpoint replacing it is harmless (the protocol lets the last writer win). Then
 * `_last_checkpoint` is replaced the same way with {"version", "size" (rows), "sizeInBytes",
 * "numOfAddFiles"}, unless it already names a newer version.
 *
 * What a checkpoint written here leaves out, and why:
 *  - remove tombstones. The snapshot (delta_log.h) keeps no removes, so none are written. The
 *    protocol requires them (PROTOCOL.md "Checkpoints" and "Requirements for Writers": a
 *    checkpoint holds the removes whose retention has not expired), so this is a known
 *    departure from it. Tombstones serve VACUUM only; readers of any version are unaffected.
 *    tarn's vacuum (delta_maint.c) does not use them: it keeps the files of the version in force
 *    when the retention period began plus every file the later commits add or remove, read from
 *    the JSON commits, which a checkpoint does not delete; so it is safe. A VACUUM that trusts the
 * checkpoint's tombstones (delta-spark's: live files plus unexpired tombstones, and any unlisted
 * file modified before the retention) is not: after one of these checkpoints it no longer sees the
 * removes committed at or before it, and may delete, before the retention has passed, a removed
 * file whose own modification time is older than the retention; time travel to the versions that
 * still used it then fails. The live files are never at risk.
 *  - the add's `tags` and `clusteringProvider`, and the metadata's format options: the snapshot
 *    does not keep them (tables with the `clustering` writer feature, where the provider
 *    matters, are refused);
 *  - `stats_parsed` and `partitionValues_parsed`: tables asking for them
 *    (delta.checkpoint.writeStatsAsStruct = true) are refused; delta.checkpoint.writeStatsAsJson
 *    = false leaves the `stats` column out, as the protocol says.
 * Multi-part and UUID-named (v2) checkpoints are never written. A table with the v2Checkpoint
 * feature gets a classic-named checkpoint in the V2 spec (the protocol allows it): the same rows
 * plus one `checkpointMetadata` row, the files inline, no sidecars.
 */
#ifndef TARN_TABLE_DELTA_CHECKPOINT_H
#define TARN_TABLE_DELTA_CHECKPOINT_H

#include <stdint.h>

#include "table/delta/delta_log.h"
#include "tarn.h"

/* The checkpoint interval when delta.checkpointInterval is unset or invalid. */
#define DELTA_CHECKPOINT_INTERVAL_DEFAULT 10

/* The snapshot's checkpoint interval: delta.checkpointInterval when it is a whole number from
 * 1 to 2^31-1, else DELTA_CHECKPOINT_INTERVAL_DEFAULT. */
int64_t delta_checkpoint_interval(const delta_snapshot *s);

/* Writes the checkpoint of snapshot s (of table s->table_dir at s->version) and then
 * `_last_checkpoint`, as described above; s is only read. On failure no file is left under a
 * checkpoint name: at most a temporary file starting with '.', and `_last_checkpoint` is
 * unchanged. Errors: TARN_EUNSUPPORTED for a table tarn must not checkpoint (a writer version
 * above 7, a writer feature it does not know or cannot preserve, such as clustering, or
 * delta.checkpoint.writeStatsAsStruct = true; the message names it), TARN_EIO, TARN_ENOMEM. */
int delta_checkpoint_write(const delta_snapshot *s, tarn_error *err);

/* The hook to call after committing `version` of table_dir: when version > 0 and version is a
 * multiple of the checkpoint interval of the table at that version, and no classic checkpoint
 * of that version exists yet, loads the snapshot at `version` and writes its checkpoint. Returns
 * 0 when it wrote one or had nothing to do. It loads the snapshot to learn the interval (the
 * last checkpoint plus at most an interval of commits, normally). The commit is durable before
 * this runs, so a caller treats an error as a warning: readers do not need the checkpoint.
 * Errors: those of delta_snapshot_load and delta_checkpoint_write. */
int delta_checkpoint_maybe(const char *table_dir, int64_t version, tarn_error *err);

#endif
