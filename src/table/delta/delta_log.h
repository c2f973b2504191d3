/*
 * The Delta Lake transaction log, read into a snapshot.
 *
 * A Delta table is a directory of data files plus `_delta_log/`, the ordered list of commits
 * (NNNNNNNNNNNNNNNNNNNN.json, one action per line) with periodic checkpoints (classic
 * single-file or multi-part Parquet, or v2 checkpoints in JSON or Parquet with sidecar files) and
 * `_last_checkpoint` naming the newest one. Replaying the log from the newest usable checkpoint
 * at or before the wanted version, then every later commit up to it, gives the table's state at
 * that version: the protocol, the metadata (schema, partition columns, configuration), the live
 * data files (add actions not cancelled by a later remove of the same path and deletion-vector
 * id), the remove tombstones that have not expired, application transaction versions and domain
 * metadata. The rules are those of PROTOCOL.md in delta-io/delta ("Action Reconciliation").
 *
 * Tombstones. Each logical file (path, deletion vector id) keeps its newest action: an add makes
 * it live, a remove makes it a tombstone (so a file added back after its remove is live, and a
 * later remove replaces an earlier one). Tombstones come from the JSON commits, log compaction
 * files and the remove rows of checkpoints (classic, multi-part, v2 and its sidecars); inside a
 * checkpoint a remove never cancels an add of the same key, whatever the row order. They only
 * serve VACUUM and checkpoints (readers never see them). A tombstone expires, and is left out,
 * when its deletionTimestamp (0 when absent) is at or before now minus the table's
 * delta.deletedFileRetentionDuration (default "interval 1 week"; an unparsable value counts as
 * the default): PROTOCOL.md measures expiry against the current time of the node doing the
 * cleanup, and delta-spark and delta-kernel-rs both take the clock when the snapshot is built,
 * not the time of the newest commit (which would keep tombstones forever on an idle table).
 *
 * Everything a snapshot holds lives in its arena; strings are NUL-terminated copies.
 */
#ifndef TARN_TABLE_DELTA_LOG_H
#define TARN_TABLE_DELTA_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/arena.h"
#include "common/buf.h"
#include "tarn.h"

/* --- Schema (the metaData action's schemaString, parsed) ------------------------------------ */

typedef enum delta_type_kind {
  DELTA_TYPE_PRIMITIVE, /* name: "string", "long", "integer", "short", "byte", "float", "double",
                           "boolean", "binary", "date", "timestamp", "timestamp_ntz",
                           "decimal(p,s)", "variant", ... exactly as the log writes it */
  DELTA_TYPE_STRUCT,
  DELTA_TYPE_ARRAY,
  DELTA_TYPE_MAP
} delta_type_kind;

typedef struct delta_type delta_type;

typedef struct delta_field {
  const char *name;
  delta_type *type;
  bool nullable;
  const char *metadata_json; /* the field's "metadata" object as JSON text ("{}" when none) */
  /* From the metadata, for column mapping: "delta.columnMapping.physicalName" (NULL: none) and
   * "delta.columnMapping.id" (-1: none). */
  const char *physical_name;
  int64_t field_id;
} delta_field;

struct delta_type {
  delta_type_kind kind;
  const char *name;     /* DELTA_TYPE_PRIMITIVE */
  int precision, scale; /* "decimal(p,s)" */
  delta_field *fields;  /* DELTA_TYPE_STRUCT */
  size_t n_fields;
  delta_type *element;     /* DELTA_TYPE_ARRAY */
  bool contains_null;      /* DELTA_TYPE_ARRAY */
  delta_type *key, *value; /* DELTA_TYPE_MAP */
  bool value_contains_null;
};

/* --- Files -------------------------------------------------------------------------------- */

/* A deletion vector descriptor (PROTOCOL.md "Deletion Vector Descriptor Schema"). */
typedef struct delta_dv {
  char storage_type;          /* 'u' relative path from a UUID, 'i' inline, 'p' absolute path;
                                 0: the file has no deletion vector */
  const char *path_or_inline; /* as in the log */
  int32_t offset;             /* -1 when absent */
  int32_t size_in_bytes;
  int64_t cardinality;
} delta_dv;

typedef struct delta_file {
  const char *path; /* as in the add action: relative to the table (URL-encoded) or absolute */
  int64_t size;
  int64_t modification_time;
  /* One entry per snapshot partition column (same order); NULL: the value is null. */
  const char **partition_values;
  const char *stats; /* the add action's stats JSON text, or NULL */
  delta_dv dv;
  int64_t base_row_id;                /* -1 when absent (rowTracking) */
  int64_t default_row_commit_version; /* -1 when absent */
} delta_file;

/* A remove tombstone: a logical file removed at or before the snapshot's version, not added back
 * since and not expired. The fields are the remove action's, as the log gave them. */
typedef struct delta_tombstone {
  const char *path;           /* as in the remove action (URL-encoded relative, or absolute) */
  int64_t deletion_timestamp; /* deletionTimestamp, ms since the epoch; -1 when absent */
  bool data_change;           /* dataChange (true when absent, delta-spark's default) */
  int extended_file_metadata; /* extendedFileMetadata: 1 true, 0 false, -1 absent */
  /* partitionValues as the remove gave them, keyed as the log keys them (physical names under
   * column mapping), n_partition_values pairs; a NULL value is a null. partition_keys NULL: the
   * remove had no partitionValues (an empty map is an empty, non-NULL array). */
  const char **partition_keys, **partition_values;
  size_t n_partition_values;
  int64_t size; /* -1 when absent */
  delta_dv dv;
  int64_t base_row_id;                /* -1 when absent */
  int64_t default_row_commit_version; /* -1 when absent */
} delta_tombstone;

/* --- Snapshot ------------------------------------------------------------------------------ */

typedef struct delta_snapshot {
  tarn_arena arena;
  const char *table_dir;
  int64_t version;
  int64_t timestamp_ms; /* the commit's time: inCommitTimestamp, else commitInfo.timestamp, else
                           the commit file's modification time */
  /* protocol */
  int min_reader_version, min_writer_version;
  const char **reader_features, **writer_features;
  size_t n_reader_features, n_writer_features;
  /* metaData */
  const char *metadata_id, *name, *description, *format_provider;
  const char *schema_string;
  delta_type *schema; /* a DELTA_TYPE_STRUCT */
  const char **partition_columns;
  size_t n_partition_columns;
  const char **config_keys, **config_values; /* metaData.configuration */
  size_t n_config;
  int64_t created_time; /* -1 when absent */
  /* live files, in a stable order (sorted by path) */
  delta_file *files;
  size_t n_files;
  /* remove tombstones not expired (see the top of this file), sorted by path then deletion
   * vector like files; tombstone_cutoff_ms is the expiry line used: the clock when the snapshot
   * was loaded minus tombstone_retention_ms (delta.deletedFileRetentionDuration). A tombstone is
   * kept when its deletionTimestamp is after the cutoff. */
  delta_tombstone *tombstones;
  size_t n_tombstones;
  int64_t tombstone_retention_ms, tombstone_cutoff_ms;
  /* txn actions: the latest version per application id */
  const char **txn_app_ids;
  int64_t *txn_versions;
  size_t n_txns;
  /* domainMetadata actions still in force (not removed) */
  const char **domains, **domain_configs;
  size_t n_domains;
} delta_snapshot;

/* --- Helpers for the modules that read log actions ------------------------------------------ */

/* A path as the log writes it (add, remove, cdc): relative to the table and URL-encoded, an
 * absolute path, or a file: URI; percent-decoded and without the scheme (malloc'd; NULL when out
 * of memory). *absolute tells a path outside the table's directory tree from a relative one. */
char *delta_path_decode(const char *log_path, bool *absolute);

/* The local path of a file the log names: delta_path_decode, joined to table_dir when relative
 * (malloc'd; NULL when out of memory). */
char *delta_file_local_path(const char *table_dir, const char *log_path);

/* An integral JSON number that fits int64 (JSON numbers pass through a double, exact to 2^53,
 * which covers sizes, offsets and millisecond times). */
bool delta_json_i64(const cJSON *j, int64_t *out);

/* The string member key of obj, or NULL when absent or not a string. */
const char *delta_json_str(const cJSON *obj, const char *key);

/* Whether dir holds a Delta table (a `_delta_log` directory). */
bool delta_is_table(const char *dir);

/* Loads the snapshot of table_dir at `version` (-1: the latest). Errors (tarn codes, messages
 * naming the table and the file at fault): TARN_EINVAL no such table / no such version (the
 * message says which versions exist), TARN_ECORRUPT a log that breaks the protocol (versions
 * not contiguous, no protocol or metaData action, a malformed action or checkpoint),
 * TARN_EUNSUPPORTED a reader version or reader feature tarn does not support (named). */
int delta_snapshot_load(const char *table_dir, int64_t version, delta_snapshot **out,
                        tarn_error *err);

/* The snapshot of the latest version committed at or before timestamp_ms (milliseconds since
 * the epoch). TARN_EINVAL when the table did not exist yet. */
int delta_snapshot_load_at(const char *table_dir, int64_t timestamp_ms, delta_snapshot **out,
                           tarn_error *err);

void delta_snapshot_free(delta_snapshot *s);

/* The value of configuration key (NULL when not set). */
const char *delta_snapshot_config(const delta_snapshot *s, const char *key);

/* The schema tree t written as Delta's schema serialization (the metaData schemaString form),
 * appended to out. Field metadata is written from metadata_json. Errors: TARN_ENOMEM,
 * TARN_EINVAL for a tree that is not a struct at the top. */
int delta_schema_json(const delta_type *t, tarn_buf *out, tarn_error *err);

/* One commit of the history. */
typedef struct delta_commit {
  int64_t version;
  int64_t timestamp_ms;
  const char *operation;       /* commitInfo.operation, or NULL */
  const char *parameters_json; /* commitInfo.operationParameters as JSON text, or NULL */
} delta_commit;

/* Every commit still in the log, oldest first (allocated in a). */
int delta_history(const char *table_dir, tarn_arena *a, delta_commit **out, size_t *n,
                  tarn_error *err);

#endif
