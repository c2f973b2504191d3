/*
 * Iceberg tables as SQL sources: a snapshot's data files with the table schema in SQL types.
 *
 * `iceberg_scan('dir' or 'dir/metadata/vN.metadata.json' [, snapshot_from_id => ID]
 * [, allow_moved_paths => true] [, version => 'N'])` (DuckDB's arguments), warehouse
 * directories holding an Iceberg table, and `tarn cat` on one read through here. The columns are
 * the current schema's top-level fields (the snapshot's own schema when one is chosen by id),
 * matched to the Parquet files by name. A snapshot with delete files (position deletes, equality
 * deletes, deletion vectors) is refused for now rather than read without its deletes.
 */
#ifndef TARN_SQL_SOURCE_ICEBERG_H
#define TARN_SQL_SOURCE_ICEBERG_H

#include <stdbool.h>
#include <stdint.h>

#include "sql/source.h"
#include "tarn.h"

typedef struct sql_iceberg_options {
  int64_t snapshot_id;    /* 0: the current snapshot */
  bool allow_moved_paths; /* table location rewritten to the local directory */
  const char *version;    /* metadata version to read (NULL: the version hint or the latest) */
} sql_iceberg_options;

/* Whether path is an Iceberg table directory (it has metadata/ with a metadata JSON file or a
 * version hint) or a JSON file (taken as Iceberg table metadata: nothing else tarn reads is
 * JSON given as a table). */
bool sql_is_iceberg_table(const char *path);

/* Builds the source of the Iceberg table at path (o may be NULL: the defaults) in a. Errors:
 * those of iceberg_table_open and iceberg_snapshot_files; TARN_EUNSUPPORTED for a type SQL cannot
 * hold, a file format other than Parquet or a snapshot with delete files (named). */
int sql_source_iceberg(tarn_arena *a, const char *path, const sql_iceberg_options *o,
                       sql_source **out, tarn_error *err);

#endif
