/*
 * SQL statements that write Delta tables (see delta_write.c). So far: creating an empty table.
 */
#ifndef TARN_SQL_DELTA_WRITE_H
#define TARN_SQL_DELTA_WRITE_H

#include <stdbool.h>

#include "sql/types.h"

/* CREATE TABLE name (columns) USING delta WITH (options): commits version 0 of a new table in
 * dir. Options: "partitioning" (comma-separated column names) and the table properties that need
 * no table feature (delta.appendOnly, delta.checkpointInterval, retention durations...).
 * Errors: TARN_EINVAL the table exists, an unknown option or partition column;
 * TARN_EUNSUPPORTED a column type Delta lacks, a property tarn cannot honour yet; TARN_EIO. */
int sql_delta_create_table(const char *dir, const char *name, const char *const *col_names,
                           const sql_type *const *col_types, const bool *col_nullable,
                           size_t n_cols, const char *const *option_keys,
                           const char *const *option_values, size_t n_options, tarn_error *err);

#endif
