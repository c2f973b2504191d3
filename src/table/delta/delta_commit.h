/*
 * Committing to a Delta table: the log half of a Delta writer.
 *
 * Callers write the data files themselves (relative to the table directory) and describe them
 * here; a transaction collects the actions of one commit and writes them as the table's next
 * version. The rules are those of PROTOCOL.md in delta-io/delta.
 *
 * The commit protocol (optimistic concurrency on a local file system):
 *  1. delta_txn_begin reads the latest snapshot (the "read version"; none when the table does
 *     not exist yet, in which case the commit creates it as version 0);
 *  2. the caller adds actions; they are checked against the read snapshot as they come;
 *  3. delta_txn_commit writes the commit (one JSON action per line: commitInfo, protocol,
 *     metaData, txn, remove, add) to a uniquely named temporary file `_delta_log/.tmp-...`,
 *     fsyncs it, and publishes it with link(2) as `_delta_log/<version, 20 digits>.json`.
 *     link never replaces an existing name, so it is an atomic put-if-absent: exactly one
 *     writer wins each version, and a reader sees either nothing or the complete commit. The
 *     directory is fsynced after a successful link; the temporary file is always unlinked (a
 *     writer killed in between leaves a `.tmp-` file, which readers skip: it starts with '.');
 *  4. when another writer won the version (EEXIST), the transaction reads the winning commits
 *     (every version from the one it lost up to the latest), checks them for conflicts and, if
 *     there is none, tries again at the next free version, up to max_retries times.
 *
 * Conflict rules (a simplified form of Delta's WriteSerializable checks, decided on the winning
 * commits alone; winners are assumed to be valid commits):
 *  - a winner that changed the protocol or the metadata conflicts with every transaction;
 *  - a transaction that sets the protocol or the metadata conflicts with any winner (it was
 *    decided on a table state that is gone);
 *  - a transaction that removes files conflicts with a winner that removed any of the same
 *    paths (both deleted or rewrote the same file), and with a winner that added files without
 *    being a blind append when one of those files may hold rows the transaction would have
 *    read: its read filter (delta_txn_set_read_filter) decides by the file's partition values
 *    and statistics; without one, every such file may (Delta's WriteSerializable check, which
 *    decides by partition values);
 *  - a winner that added a path this transaction also adds conflicts (two files, one name);
 *  - blind appends (adds only) do not conflict with each other or with any data change;
 *  - a winner's txn action for this transaction's application id with a version at or above
 *    this transaction's means the application's write is already committed: TARN_EINVAL, not a
 *    conflict, since retrying can never succeed.
 * Conflicts are TARN_ECONFLICT (exit 3), as is running out of retries.
 *
 * What this layer does not do: it writes no data, deletion vector or change data files (the
 * caller writes them and names them here) and no row tracking or in-commit timestamps (tables whose
 * protocol requires the writer features "rowTracking" or "inCommitTimestamp", or writer versions
 * above 7, are refused), and it does not check data against the schema, invariants or constraints:
 * that is the caller's. It enforces delta.appendOnly (no removes, except those of a
 * rearrangement: delta_txn_set_rearrange_only).
 */
#ifndef TARN_TABLE_DELTA_COMMIT_H
#define TARN_TABLE_DELTA_COMMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "table/delta/delta_log.h"
#include "tarn.h"

typedef struct delta_txn delta_txn; /* one transaction against one table */

/* Starts a transaction on table_dir, reading its latest snapshot. A table directory that does
 * not exist yet, or has no `_delta_log` or no commit in it, is a table to create: the commit
 * must then set the protocol and the metadata. Errors: those of delta_snapshot_load. */
int delta_txn_begin(const char *table_dir, delta_txn **out, tarn_error *err);

/* The same, reading version `version` (-1: the latest) as the transaction's read version: a
 * statement that decided its changes on that version commits after checking every later commit
 * for conflicts. */
int delta_txn_begin_at(const char *table_dir, int64_t version, delta_txn **out, tarn_error *err);

/* The snapshot the transaction read (NULL when the table does not exist yet). */
const delta_snapshot *delta_txn_snapshot(const delta_txn *t);

/* Sets the protocol action (a new table, or an upgrade). Reader versions 1 to 3 and writer
 * versions 1 to 7; reader feature names are given only with reader version 3 and writer
 * feature names only with writer version 7 (PROTOCOL.md "Table Features"). Strings are
 * copied. TARN_EINVAL for anything else. */
int delta_txn_set_protocol(delta_txn *t, int min_reader, int min_writer,
                           const char *const *reader_features, size_t n_reader_features,
                           const char *const *writer_features, size_t n_writer_features,
                           tarn_error *err);

/* Sets the metaData action: schema_string is the table schema as Delta's JSON struct type,
 * partition_columns name top-level fields of it, configuration is given as key/value pairs.
 * The metadata id is kept from the read snapshot, or generated (a random UUID) for a new
 * table; createdTime is now. Strings are copied. TARN_EINVAL for a schema that is not a JSON
 * struct type or a partition column it does not have. */
int delta_txn_set_metadata(delta_txn *t, const char *schema_string,
                           const char *const *partition_columns, size_t n_partition_columns,
                           const char *const *config_keys, const char *const *config_values,
                           size_t n_config, tarn_error *err);

/* The keys partition values have (the partition columns' physical names under column mapping,
 * else their names), from this transaction's metadata or else the snapshot's, in the table's
 * order; *n their count. Valid until the metadata is set again. */
const char *const *delta_txn_partition_keys(const delta_txn *t, size_t *n);

/* The schema string (Delta's JSON struct type) of this transaction's metadata, else of the
 * snapshot read; NULL when neither has one. Valid until the metadata is set again. */
const char *delta_txn_schema_string(const delta_txn *t);

/* Adds a data file (add action, dataChange true). path is relative to the table directory and
 * already URL-encoded as the log stores it; partition_values has one entry per partition
 * column of the table's metadata (this transaction's when it sets one), in order, NULL for a
 * null value; stats_json (or NULL) is stored as the add's "stats" string. TARN_EINVAL for an
 * empty or absolute path, a negative size, or no metadata to follow (a path added twice is
 * reported by delta_txn_commit). */
int delta_txn_add_file(delta_txn *t, const char *path, const char *const *partition_values,
                       int64_t size, int64_t modification_time, const char *stats_json,
                       tarn_error *err);

/* The same with a deletion vector (dv NULL or storage_type 0: none), as DELETE, UPDATE and MERGE
 * commit a file they deleted rows of: its remove (delta_txn_remove_file) and its add with the
 * new vector. dv's strings are copied. */
int delta_txn_add_file_dv(delta_txn *t, const char *path, const char *const *partition_values,
                          int64_t size, int64_t modification_time, const char *stats_json,
                          const delta_dv *dv, tarn_error *err);

/* Removes a live file of the read snapshot (remove action with dataChange true, the deletion
 * time now, extendedFileMetadata with its partition values and size, and its deletion vector
 * when it has one). TARN_EINVAL when f is not live in the snapshot, is already removed by
 * this transaction, or the table is append-only (and the transaction not a rearrangement). */
int delta_txn_remove_file(delta_txn *t, const delta_file *f, tarn_error *err);

/* Says which data files this transaction would have read, for the conflict check against a
 * winner that added files without being a blind append (a rewrite): filter(arg, values, n,
 * stats) gets such a file's partition values (text, NULL for null, in the read snapshot's
 * partition column order) and stats JSON (or NULL), and returns false only when no row of the
 * file can satisfy the condition the transaction read the table with. Without a filter every
 * such file conflicts with a transaction that removes files. arg must outlive the commit. */
typedef bool (*delta_add_filter)(void *arg, const char *const *partition_values, size_t n,
                                 const char *stats);
void delta_txn_set_read_filter(delta_txn *t, delta_add_filter filter, void *arg);

/* Marks the transaction as a rearrangement of data that does not change it (OPTIMIZE): every
 * add and remove added after this call carries dataChange false, so stream readers skip it and
 * concurrent writers do not see it as new data. */
void delta_txn_set_rearrange_only(delta_txn *t);

/* Adds a change data file (cdc action, dataChange false) written by the caller: a Parquet
 * file of the table's columns plus `_change_type` (PROTOCOL.md "Add CDC File"), path relative
 * to the table directory and URL-encoded, partition values as for delta_txn_add_file.
 * TARN_EINVAL for an empty or absolute path, a negative size or no metadata. */
int delta_txn_add_cdc(delta_txn *t, const char *path, const char *const *partition_values,
                      int64_t size, tarn_error *err);

/* Records that this commit is version `version` of application app_id's writes (txn action),
 * which makes retried application writes idempotent. TARN_EINVAL when the read snapshot
 * already holds version or a later one for app_id ("already committed"). */
int delta_txn_set_app_version(delta_txn *t, const char *app_id, int64_t version, tarn_error *err);

/* Names the operation for commitInfo (default "CREATE TABLE" for version 0, else "WRITE") and
 * its parameters as a JSON object text (or NULL for none). TARN_EINVAL when parameters_json is
 * not a JSON object. */
int delta_txn_set_operation(delta_txn *t, const char *operation, const char *parameters_json,
                            tarn_error *err);

/* Records an operation metric for commitInfo.operationMetrics (numeric values written as
 * strings, as Delta's writers do; a name given twice keeps the last value). */
int delta_txn_set_metric(delta_txn *t, const char *name, int64_t value, tarn_error *err);

/* Writes the transaction as the next version (see the protocol above) and stores the
 * committed version in *version. A transaction commits at most once. Errors: TARN_ECONFLICT
 * (a conflicting winner, or max_retries lost races in a row), TARN_EINVAL (an invalid
 * transaction, such as creating a table without protocol and metadata, or an application
 * version already committed), TARN_EUNSUPPORTED (a protocol tarn cannot write), TARN_ECORRUPT
 * (an unreadable winning commit), TARN_EIO. */
int delta_txn_commit(delta_txn *t, int max_retries, int64_t *version, tarn_error *err);

void delta_txn_free(delta_txn *t);

#endif
