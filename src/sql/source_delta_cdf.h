/*
 * A Delta table's change data feed as a SQL source (source.h): the rows versions from..to
 * inserted, deleted and updated, as delta-spark's table_changes returns them.
 *
 * Columns: the table's columns at the end version, then `_change_type` (text: insert, delete,
 * update_preimage, update_postimage), `_commit_version` (bigint) and `_commit_timestamp`
 * (timestamptz). Files come from table/delta/delta_cdf.h: a change data file yields its rows with
 * the `_change_type` they store; a data file added or removed by a commit without change data
 * files yields the rows its deletion vectors leave ('insert' or 'delete'), and a file whose
 * deletion vector changed within a commit exactly the rows deleted or restored (the other rows
 * are given to the scan as deleted positions). The version and time of the commit, the change
 * type of a data file and the table's partition columns are per-file constants (partition values),
 * so a filter on them skips whole files.
 */
#ifndef TARN_SQL_SOURCE_DELTA_CDF_H
#define TARN_SQL_SOURCE_DELTA_CDF_H

#include <stdint.h>

#include "sql/source.h"

/* Builds the change data source of the Delta table in table_dir for versions
 * from_version..to_version (to_version -1: the latest). Everything lives in arena a. Errors:
 * those of delta_cdf_load (a range without change data feed enabled, versions the table does
 * not have, ...), TARN_EINVAL for a table whose own columns take one of the three change
 * column names, TARN_EUNSUPPORTED for a column type SQL cannot hold, a partition value that does
 * not parse as its column's type, reader errors for a data file whose footer cannot be read. */
int sql_source_delta_changes(tarn_arena *a, const char *table_dir, int64_t from_version,
                             int64_t to_version, sql_source **out, tarn_error *err);

#endif
