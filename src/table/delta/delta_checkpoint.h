/*
 * Writing Delta checkpoints: a snapshot saved as one Parquet file so that readers start from it
 * instead of replaying every commit (PROTOCOL.md "Checkpoints", "Checkpoint Schema", "Last
 * Checkpoint File Schema").
 *
 * A checkpoint of version V is the classic single file `_delta_log/<V, 20 digits>.checkpoint
 * .parquet`: one row per action, each row with exactly one non-null top-level column among
 * `txn`, `add`, `remove`, `metaData`, `protocol`, `domainMetadata` (and `checkpointMetadata`
 * for v2Checkpoint tables). It holds the protocol, the metadata, every application's latest
 * transaction version, the domains in force, one `add` (dataChange false) per live file with
 * its partition values, size, modification time, stats JSON, deletion vector and row-tracking
 * fields, and one `remove` per tombstone the snapshot keeps (delta_log.h: removes not cancelled
 * by a later add and not expired under delta.deletedFileRetentionDuration, default one week),
 * with the remove's path, deletionTimestamp, dataChange, extendedFileMetadata, partitionValues,
 * size, deletion vector and row-tracking fields as the log gave them. Parquet compressed with
 * Snappy, as Spark writes checkpoints.
 *
 * Writing is crash-safe and idempotent: the file is written under a temporary name starting
 * with '.' in `_delta_log` (which every reader skips), fsynced, then renamed into place. A
 * checkpoint's content is a function of the version (and of which tombstones have expired when
 * it is written), so a concurrent writer of the same checkpoint replacing it is harmless (the
 * protocol lets the last writer win). Then
 * `_last_checkpoint` is replaced the same way with {"version", "size" (rows, the removes
 * included), "sizeInBytes", "numOfAddFiles"}, unless it already names a newer version.
 *
 * Tombstones and VACUUM. Tombstones serve VACUUM only (readers of any version never look at
 * them). A VACUUM that trusts a checkpoint (delta-spark's: live files plus unexpired tombstones)
 * finds in these checkpoints every remove whose retention has not passed, as the protocol
 * requires, so it keeps the files time travel within the retention still needs. tarn's own
 * vacuum (delta_maint.c) does not read tombstones: it keeps the files of the version in force
 * when the retention period began plus every file the JSON commits since then add or remove,
 * and a checkpoint deletes no commit, so it is unaffected either way. Expiry is decided when the
 * snapshot is loaded (the clock then), so a checkpoint written later for an old version holds
 * fewer tombstones than one written at the time: the dropped ones had expired anyway.
 *
 * Parsed statistics and partition values. With delta.checkpoint.writeStatsAsStruct = true each add
 * row also carries, as delta-spark writes them (PROTOCOL.md "Checkpoint Schema", "Per-file
 * Statistics"), after its other fields:
 *  - `partitionValues_parsed` (when the table has partition columns): a struct with one field per
 *    partition column, named by its partitionValues key (the physical name under column
 *    mapping), in the column's type, parsed from the string ("Partition Value Serialization":
 *    dates YYYY-MM-DD, timestamps "YYYY-MM-DD HH:MM:SS[.ffffff]" taken as UTC or ISO 8601 with
 *    a zone, booleans true/false); a null or empty string, or one that does not parse, is null;
 *  - `stats_parsed`: a struct {numRecords long, minValues, maxValues, nullCount, tightBounds
 *    boolean} parsed from the add's stats JSON (null when it has none or it is not a JSON
 *    object). minValues and maxValues mirror the table schema's data columns that have
 *    statistics, nested structs nested, in the columns' own Parquet types (bytes, shorts, ints,
 *    longs, floats, doubles, decimals, strings, dates, timestamps as INT64 microseconds adjusted
 *    to UTC or not for timestamp_ntz); nullCount mirrors the same columns as longs, booleans and
 *    binary included (they have no min/max, as in delta-spark and delta-kernel-rs). Partition
 *    columns, arrays, maps and variants have no statistics. The columns are the first
 *    delta.dataSkippingNumIndexedCols (default 32, -1 all) leaves in schema order, or those
 *    delta.dataSkippingStatsColumns names when it is set; struct fields are named by physical
 *    name under column mapping, as the stats JSON keys are. A value missing from the JSON, of
 *    the wrong JSON kind, out of its type's range or not exactly representable (a decimal with
 *    too many digits: a rounded bound is no bound) is null; a struct missing is null.
 *    minValues/maxValues/nullCount are left out when no column has such statistics.
 * The `stats` JSON column stays unless delta.checkpoint.writeStatsAsJson = false; the log reader
 * (delta_log.c) turns stats_parsed back into stats JSON when `stats` is absent.
 *
 * Automatic checkpoints: delta_txn_commit (delta_commit.c) calls delta_checkpoint_maybe after
 * every durable commit, ignoring its failure, so every delta.checkpointInterval-th version (10
 * by default) of a table tarn writes gets a checkpoint.
 *
 * What a checkpoint written here leaves out, and why:
 *  - the remove's `stats` and `tags`, the add's `tags` and `clusteringProvider`, and the
 *    metadata's format options: the snapshot does not keep them (tables with the `clustering`
 *    writer feature, where the provider matters, are refused);
 *  - statistics of columns the stats JSON has beyond those the table's settings give
 *    statistics (above) in stats_parsed: with writeStatsAsJson = false they are lost, as with
 *    delta-spark.
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

/* The same from the property's text (NULL: unset), for callers that hold the metadata in
 * another form (a transaction's own metaData action). */
int64_t delta_checkpoint_interval_value(const char *value);

/* Writes the checkpoint of snapshot s (of table s->table_dir at s->version) and then
 * `_last_checkpoint`, as described above; s is only read. On failure no file is left under a
 * checkpoint name: at most a temporary file starting with '.', and `_last_checkpoint` is
 * unchanged. Errors: TARN_EUNSUPPORTED for a table tarn must not checkpoint (a writer version
 * above 7, or a writer feature it does not know or cannot preserve, such as clustering; the
 * message names it), TARN_EIO, TARN_ENOMEM. */
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
