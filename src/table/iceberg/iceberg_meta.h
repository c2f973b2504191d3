/*
 * Iceberg table metadata (`vN.metadata.json`), parsed and validated.
 *
 * An Iceberg table's state at a commit is one JSON document: the schemas the table has had (with
 * field ids), its partition specs and sort orders, its snapshots (each naming a manifest list),
 * the snapshot and metadata history, named refs (branches and tags) and statistics files. This
 * module reads format versions 1, 2 and 3 of that document into iceberg_meta, applying the
 * Iceberg table spec's rules for required fields and the defaults that iceberg-java
 * (TableMetadataParser) and iceberg-rust apply to v1 documents:
 *  - v1 may give a single `schema` (its id, or 0, becomes the current schema) instead of
 *    `schemas` + `current-schema-id`; `partition-spec` (a field list, spec id 0) instead of
 *    `partition-specs` (then `default-spec-id`, when missing, is the largest spec id, as
 *    iceberg-rust does); missing `last-partition-id` is the largest partition field id (999 when
 *    none); missing `sort-orders` is the unsorted order 0; snapshots may list `manifests`
 *    instead of a `manifest-list`; last-sequence-number is 0;
 *  - v2 and v3 require table-uuid, last-sequence-number, schemas + current-schema-id,
 *    partition-specs + default-spec-id, last-partition-id, sort-orders + default-sort-order-id;
 *    v3 also requires next-row-id;
 *  - `schemas` without `current-schema-id` is refused in every version, and so is a
 *    current-schema-id, default-spec-id, default-sort-order-id, current-snapshot-id or ref whose
 *    target is not in the document;
 *  - with no `refs` and a current snapshot, a `main` branch at that snapshot is added.
 * Integers are read exactly (snapshot ids pass 2^53), through common/json_exact.h. Errors are
 * TARN_ECORRUPT (TARN_EUNSUPPORTED for a format-version other than 1..3) with a message such as
 * "iceberg metadata: line 3: snapshot-id is not an integer".
 *
 * Everything an iceberg_meta holds is allocated in the arena given to the parse and lives until
 * that arena is freed; strings are NUL-terminated copies (the input text may be freed at once).
 */
#ifndef TARN_TABLE_ICEBERG_META_H
#define TARN_TABLE_ICEBERG_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "tarn.h"

/* Largest metadata file iceberg_meta_load_file reads. */
#define ICEBERG_META_MAX_BYTES ((size_t)64 << 20)

/* --- Schema --------------------------------------------------------------------------------- */

typedef enum iceberg_type_kind {
  ICEBERG_TYPE_PRIMITIVE,
  ICEBERG_TYPE_STRUCT,
  ICEBERG_TYPE_LIST,
  ICEBERG_TYPE_MAP
} iceberg_type_kind;

typedef enum iceberg_primitive {
  ICEBERG_BOOLEAN,
  ICEBERG_INT,
  ICEBERG_LONG,
  ICEBERG_FLOAT,
  ICEBERG_DOUBLE,
  ICEBERG_DECIMAL, /* precision, scale */
  ICEBERG_DATE,
  ICEBERG_TIME,
  ICEBERG_TIMESTAMP,
  ICEBERG_TIMESTAMPTZ,
  ICEBERG_TIMESTAMP_NS,
  ICEBERG_TIMESTAMPTZ_NS,
  ICEBERG_STRING,
  ICEBERG_UUID,
  ICEBERG_FIXED, /* length */
  ICEBERG_BINARY,
  ICEBERG_UNKNOWN,  /* v3 */
  ICEBERG_VARIANT,  /* v3 */
  ICEBERG_GEOMETRY, /* v3, name kept: "geometry" or "geometry(crs)" */
  ICEBERG_GEOGRAPHY /* v3, name kept: "geography", "geography(crs, algorithm)" */
} iceberg_primitive;

typedef struct iceberg_type iceberg_type;

typedef struct iceberg_field {
  int32_t id;
  const char *name;
  bool required;
  iceberg_type *type;
  const char *doc;             /* NULL when absent */
  const char *initial_default; /* v3 `initial-default` as JSON text; NULL when absent */
  const char *write_default;   /* v3 `write-default` as JSON text; NULL when absent */
} iceberg_field;

struct iceberg_type {
  iceberg_type_kind kind;
  iceberg_primitive primitive; /* ICEBERG_TYPE_PRIMITIVE */
  const char *name;            /* the primitive's name as written ("decimal(9, 2)", "fixed[16]") */
  int precision, scale;        /* ICEBERG_DECIMAL */
  int64_t length;              /* ICEBERG_FIXED */
  iceberg_field *fields;       /* ICEBERG_TYPE_STRUCT */
  size_t n_fields;
  int32_t element_id; /* ICEBERG_TYPE_LIST */
  bool element_required;
  iceberg_type *element;
  int32_t key_id, value_id; /* ICEBERG_TYPE_MAP */
  bool value_required;
  iceberg_type *key, *value;
};

typedef struct iceberg_schema {
  int32_t schema_id;
  iceberg_type *type; /* an ICEBERG_TYPE_STRUCT */
  int32_t *identifier_field_ids;
  size_t n_identifier_field_ids;
} iceberg_schema;

/* --- Partitioning and sorting -------------------------------------------------------------- */

typedef struct iceberg_partition_field {
  int32_t *source_ids; /* `source-id`, or v3 `source-ids` (multi-argument transforms) */
  size_t n_source_ids;
  int32_t field_id; /* v1 specs without field ids get 1000, 1001, ... as iceberg-java assigns */
  const char *name;
  const char *transform; /* as written: "identity", "bucket[16]", "truncate[4]", "day", ... */
} iceberg_partition_field;

typedef struct iceberg_partition_spec {
  int32_t spec_id;
  iceberg_partition_field *fields;
  size_t n_fields;
} iceberg_partition_spec;

typedef struct iceberg_sort_field {
  int32_t *source_ids;
  size_t n_source_ids;
  const char *transform;
  bool descending; /* direction "desc" */
  bool nulls_last; /* null-order "nulls-last" */
} iceberg_sort_field;

typedef struct iceberg_sort_order {
  int32_t order_id;
  iceberg_sort_field *fields;
  size_t n_fields;
} iceberg_sort_order;

/* --- Snapshots and history ----------------------------------------------------------------- */

typedef struct iceberg_snapshot {
  int64_t snapshot_id;
  int64_t parent_snapshot_id; /* -1: none */
  int64_t sequence_number;    /* 0 when absent (v1) */
  int64_t timestamp_ms;
  const char *manifest_list; /* NULL when the snapshot lists manifests (v1) */
  const char **manifests;    /* v1 `manifests` */
  size_t n_manifests;
  const char *operation; /* summary "operation"; NULL when there is no summary (v1) */
  const char **summary_keys, **summary_values; /* the whole summary, operation included */
  size_t n_summary;
  int32_t schema_id;    /* -1 when absent */
  int64_t first_row_id; /* v3; -1 when absent */
  int64_t added_rows;   /* v3; -1 when absent */
  const char *key_id;   /* v3 encryption key id; NULL when absent */
} iceberg_snapshot;

typedef struct iceberg_snapshot_log_entry {
  int64_t snapshot_id, timestamp_ms;
} iceberg_snapshot_log_entry;

typedef struct iceberg_metadata_log_entry {
  const char *metadata_file;
  int64_t timestamp_ms;
} iceberg_metadata_log_entry;

typedef struct iceberg_ref {
  const char *name;
  bool is_tag; /* type "tag"; else "branch" */
  int64_t snapshot_id;
  int64_t min_snapshots_to_keep; /* branch retention; -1 when absent */
  int64_t max_snapshot_age_ms;   /* branch retention; -1 when absent */
  int64_t max_ref_age_ms;        /* -1 when absent */
} iceberg_ref;

typedef struct iceberg_blob_metadata {
  const char *type;
  int64_t snapshot_id, sequence_number;
  int32_t *fields;
  size_t n_fields;
} iceberg_blob_metadata;

/* An entry of `statistics` (Puffin table statistics) or, with no blobs and footer size -1, of
 * `partition-statistics`. */
typedef struct iceberg_statistics_file {
  int64_t snapshot_id;
  const char *path;
  int64_t file_size_in_bytes;
  int64_t file_footer_size_in_bytes; /* -1 for partition statistics */
  iceberg_blob_metadata *blobs;
  size_t n_blobs;
} iceberg_statistics_file;

/* --- The document ----------------------------------------------------------------------------- */

typedef struct iceberg_meta {
  int format_version;     /* 1, 2 or 3 */
  const char *table_uuid; /* NULL when absent (v1 only) */
  const char *location;
  int64_t last_sequence_number;
  int64_t last_updated_ms;
  int32_t last_column_id;
  iceberg_schema *schemas;
  size_t n_schemas;
  int32_t current_schema_id;
  iceberg_partition_spec *specs;
  size_t n_specs;
  int32_t default_spec_id;
  int32_t last_partition_id;
  iceberg_sort_order *sort_orders;
  size_t n_sort_orders;
  int32_t default_sort_order_id;
  const char **property_keys, **property_values;
  size_t n_properties;
  int64_t current_snapshot_id; /* -1: the table has no current snapshot */
  iceberg_snapshot *snapshots;
  size_t n_snapshots;
  iceberg_snapshot_log_entry *snapshot_log;
  size_t n_snapshot_log;
  iceberg_metadata_log_entry *metadata_log;
  size_t n_metadata_log;
  iceberg_ref *refs;
  size_t n_refs;
  iceberg_statistics_file *statistics;
  size_t n_statistics;
  iceberg_statistics_file *partition_statistics;
  size_t n_partition_statistics;
  int64_t next_row_id; /* v3; -1 when absent */
} iceberg_meta;

/* Parses and validates text[0..len) (which need not be NUL-terminated and may be freed after the
 * call). On success *out lives in a. On failure *out is NULL and what was allocated in a stays
 * there until the caller frees a. Errors: TARN_ECORRUPT, TARN_EUNSUPPORTED (format-version),
 * TARN_ENOMEM (a size cap). */
int iceberg_meta_parse(const char *text, size_t len, tarn_arena *a, iceberg_meta **out,
                       tarn_error *err);

/* Reads path (at most ICEBERG_META_MAX_BYTES) and parses it; messages are prefixed with path.
 * TARN_EIO when the file cannot be read. */
int iceberg_meta_load_file(const char *path, tarn_arena *a, iceberg_meta **out, tarn_error *err);

/* Lookups: borrowed pointers into m (they live as long as m's arena), NULL when there is none. */
const iceberg_schema *iceberg_meta_schema(const iceberg_meta *m, int32_t schema_id);
const iceberg_schema *iceberg_meta_current_schema(const iceberg_meta *m);
const iceberg_partition_spec *iceberg_meta_spec(const iceberg_meta *m, int32_t spec_id);
const iceberg_partition_spec *iceberg_meta_default_spec(const iceberg_meta *m);
const iceberg_sort_order *iceberg_meta_sort_order(const iceberg_meta *m, int32_t order_id);
const iceberg_snapshot *iceberg_meta_snapshot(const iceberg_meta *m, int64_t snapshot_id);
const iceberg_snapshot *iceberg_meta_current_snapshot(const iceberg_meta *m);
/* The snapshot that was current at timestamp_ms: the last snapshot-log entry at or before it
 * (iceberg-java's SnapshotUtil.snapshotIdAsOfTime); with an empty log, the newest snapshot whose
 * timestamp-ms is at or before it. NULL: none that early. */
const iceberg_snapshot *iceberg_meta_snapshot_as_of(const iceberg_meta *m, int64_t timestamp_ms);
const iceberg_ref *iceberg_meta_ref(const iceberg_meta *m, const char *name);
const char *iceberg_meta_property(const iceberg_meta *m, const char *key);
/* The field with id in t (searched through nested structs, lists and maps), or NULL. */
const iceberg_field *iceberg_type_find_field(const iceberg_type *t, int32_t id);

#endif
