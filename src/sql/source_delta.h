/*
 * The pieces a Delta snapshot's SQL source (source_delta.c) and its change feed's source
 * (source_delta_cdf.c) share, so both give a table the same SQL types, partition values and file
 * paths.
 */
#ifndef TARN_SQL_SOURCE_DELTA_H
#define TARN_SQL_SOURCE_DELTA_H

#include "sql/source.h"
#include "table/delta/delta_log.h"

/* The SQL type of a Delta type (long bigint, integer int, short and byte smallint, float real,
 * double, boolean, binary bytea, string text, date, timestamp timestamptz, timestamp_ntz
 * timestamp, decimal(p,s), struct, array, map), built in a. NULL with TARN_EUNSUPPORTED naming
 * column for a type SQL cannot hold, or TARN_ENOMEM. */
const sql_type *sql_delta_type(tarn_arena *a, const delta_type *t, const char *column,
                               tarn_error *err);

/* A partition value (Delta's text form, NULL for null) as a value of type t, by PostgreSQL's
 * cast rules (timestamps without a zone read as UTC, as the protocol says). Strings are copied
 * into a; scratch holds the cast's temporaries (scalar results never point into it). The error
 * names column and the value. */
int sql_delta_partition_value(tarn_arena *a, sql_mem *scratch, const char *text, const sql_type *t,
                              const char *column, sql_value *out, tarn_error *err);

/* The facts a scan prunes with (row count, min/max, partition values) of a file of src's Delta
 * table that the log describes by its partition values (text, NULL for null; part_names[i] is
 * the logical name of the column of part_values[i]) and stats JSON (or NULL): for deciding
 * whether a file a concurrent commit added could matter to a statement. Arrays in a. */
int sql_source_delta_facts(tarn_arena *a, const sql_source *src, const char *const *part_names,
                           size_t n_parts, const char *const *part_values, const char *stats,
                           sql_source_file *out, tarn_error *err);

/* The local path of a file the log names (delta_file_local_path), copied into a. */
char *sql_delta_file_path(tarn_arena *a, const char *table_dir, const char *log_path);

#endif
