/*
 * From an Iceberg table on the local file system to the content files of one of its snapshots.
 *
 * The layer above iceberg_meta (the table metadata JSON) and tarn_avro (container files). Opening
 * a table finds its current metadata file the way the file-system catalog lays it out: a table
 * directory whose metadata/version-hint.text names the version (`v<hint>.metadata.json` or
 * `<hint>.metadata.json`), else the highest-numbered `vN.metadata.json` or
 * `NNNNN-<uuid>.metadata.json` in metadata/; or the path of a metadata JSON file itself (the table
 * directory is then the parent of its folder). Gzip-compressed metadata is refused with
 * TARN_EUNSUPPORTED.
 *
 * Listing a snapshot's files reads its manifest list (or the v1 snapshot's `manifests`), then each
 * manifest, and returns the live entries (status ADDED or EXISTING; DELETED entries only on
 * request) with the Iceberg spec's inheritance applied: a null snapshot id comes from the
 * manifest's added_snapshot_id, a null data or file sequence number from the manifest's sequence
 * number (0 for v1 manifest lists, which have none). Files the metadata names by absolute URI can
 * be relocated to the local table directory (allow_moved_paths), for tables copied or moved after
 * they were written.
 *
 * Every file read is size-checked (ICEBERG_SNAPSHOT_MAX_FILE) and every error message names the
 * file at fault: "iceberg: manifest /t/metadata/x-m0.avro: avro: block 1: ...". Docs:
 * docs/internals/iceberg.md.
 */
#ifndef TARN_TABLE_ICEBERG_SNAPSHOT_H
#define TARN_TABLE_ICEBERG_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "avro/avro.h"
#include "table/iceberg/iceberg_meta.h"
#include "tarn.h"

/* Largest manifest list or manifest read. */
#define ICEBERG_SNAPSHOT_MAX_FILE ((size_t)256 << 20)

typedef struct iceberg_table iceberg_table;

typedef struct iceberg_open_options {
  /* Rewrite the paths of manifest lists, manifests and content files to the local table
   * directory: the table `location` prefix, or else everything up to the last path component
   * named like the location's last component, is replaced by the table directory. Off: paths are
   * used as written (a "file:" scheme dropped; relative ones are relative to the working
   * directory). */
  bool allow_moved_paths;
  /* Metadata version to open in a table directory instead of version-hint.text or the highest
   * one: tried as `v<version>.metadata.json`, then `<version>.metadata.json`. NULL: latest. */
  const char *version;
} iceberg_open_options;

typedef enum iceberg_content {
  ICEBERG_CONTENT_DATA = 0,
  ICEBERG_CONTENT_POSITION_DELETES = 1,
  ICEBERG_CONTENT_EQUALITY_DELETES = 2
} iceberg_content;

typedef enum iceberg_entry_status {
  ICEBERG_STATUS_EXISTING = 0,
  ICEBERG_STATUS_ADDED = 1,
  ICEBERG_STATUS_DELETED = 2
} iceberg_entry_status;

/* A per-column statistic: a count (value, null, NaN counts, column sizes) or a bound (the
 * single-value serialization of the spec, kept as raw bytes). */
typedef struct iceberg_column_count {
  int32_t field_id;
  int64_t value;
} iceberg_column_count;

typedef struct iceberg_column_bound {
  int32_t field_id;
  const uint8_t *data;
  size_t len;
} iceberg_column_bound;

/* One manifest entry. Pointers live as long as the array iceberg_snapshot_files returned. */
typedef struct iceberg_file {
  iceberg_entry_status status;
  iceberg_content content;
  const char *file_path;     /* resolved to a local path when it could be (see the options) */
  const char *raw_file_path; /* as the manifest wrote it */
  const char *file_format;   /* "PARQUET", "AVRO", "ORC", "PUFFIN" as written */
  int32_t spec_id;           /* partition spec of the manifest */
  /* The partition tuple: a RECORD whose fields follow the spec's fields in order (field i is
   * spec field i; a NULL value for a null partition). NULL when the manifest has none. */
  const tarn_avro_value *partition;
  int64_t record_count;
  int64_t file_size_in_bytes;
  int64_t snapshot_id;          /* inherited when null */
  int64_t data_sequence_number; /* inherited when null; 0 for v1 */
  int64_t file_sequence_number; /* inherited when null; 0 for v1 */
  int32_t *equality_ids;        /* equality deletes */
  size_t n_equality_ids;
  iceberg_column_count *column_sizes, *value_counts, *null_value_counts, *nan_value_counts;
  size_t n_column_sizes, n_value_counts, n_null_value_counts, n_nan_value_counts;
  iceberg_column_bound *lower_bounds, *upper_bounds;
  size_t n_lower_bounds, n_upper_bounds;
  int32_t sort_order_id;            /* -1 when absent */
  int64_t first_row_id;             /* v3; -1 when absent */
  const char *referenced_data_file; /* v3 deletion vectors / position deletes; NULL when absent */
  int64_t content_offset;           /* v3 deletion vectors; -1 when absent */
  int64_t content_size_in_bytes;    /* v3 deletion vectors; -1 when absent */
  /* The manifest the entry came from. */
  const char *manifest_path; /* resolved */
  int64_t manifest_sequence_number;
  iceberg_content manifest_content; /* DATA or (any) deletes: 0 or 1 */
} iceberg_file;

/* How to choose a snapshot. */
typedef enum iceberg_snapshot_by {
  ICEBERG_SNAPSHOT_CURRENT,
  ICEBERG_SNAPSHOT_ID,
  ICEBERG_SNAPSHOT_AS_OF, /* timestamp in milliseconds */
  ICEBERG_SNAPSHOT_REF    /* branch or tag name */
} iceberg_snapshot_by;

/* Opens the table at path_or_metadata (a table directory or a metadata JSON file). o may be NULL
 * (all defaults); o->version is copied. On success *out must be closed with iceberg_table_close.
 * Errors: TARN_EIO (no metadata found, unreadable file; the message names the path tried),
 * TARN_EUNSUPPORTED (gzip metadata), TARN_ECORRUPT / TARN_ENOMEM from iceberg_meta. */
int iceberg_table_open(const char *path_or_metadata, const iceberg_open_options *o,
                       iceberg_table **out, tarn_error *err);

/* Closes t and frees everything it owns. NULL is a no-op. */
void iceberg_table_close(iceberg_table *t);

/* The parsed metadata, the path of the metadata file read and the local table directory;
 * borrowed, alive until iceberg_table_close. */
const iceberg_meta *iceberg_table_meta(const iceberg_table *t);
const char *iceberg_table_metadata_path(const iceberg_table *t);
const char *iceberg_table_dir(const iceberg_table *t);

/* Chooses a snapshot: the current one (id, ts, ref ignored), by id, as of ts (milliseconds), or
 * the one a ref (branch or tag) names. *out is borrowed from the metadata. Errors: TARN_EINVAL
 * when there is no such snapshot (the message says which). */
int iceberg_table_find_snapshot(const iceberg_table *t, iceberg_snapshot_by by, int64_t id_or_ts,
                                const char *ref, const iceberg_snapshot **out, tarn_error *err);

/* Lists the content files of snap (NULL: the current snapshot; a table without one has no
 * files: *files = NULL, *n = 0). Entries come in manifest-list order, then manifest order. With
 * include_deleted, DELETED entries are listed too (status says which). On success *files is a
 * new array of *n entries, owned by the caller and freed with iceberg_files_free (everything the
 * entries point to lives in it). Errors: TARN_EIO (a manifest list or manifest cannot be read),
 * TARN_ECORRUPT (malformed Avro, a missing required field, an unknown status or content),
 * TARN_ENOMEM; the message names the file. On error *files is NULL and *n 0. */
int iceberg_snapshot_files(iceberg_table *t, const iceberg_snapshot *snap, bool include_deleted,
                           iceberg_file **files, size_t *n, tarn_error *err);

/* Frees an array from iceberg_snapshot_files. NULL is a no-op. */
void iceberg_files_free(iceberg_file *files);

/* The field of a partition tuple for spec field index i, or NULL. */
const tarn_avro_value *iceberg_file_partition_value(const iceberg_file *f, size_t i);

#endif
