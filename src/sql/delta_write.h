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

/* The same as an uncommitted transaction (protocol and metadata set) for CREATE TABLE AS: the
 * caller adds the data files and commits with sql_delta_commit_create. The partition columns are
 * the transaction's (delta_txn_partition_keys). col_nullable NULL: every column nullable. */
typedef struct delta_txn delta_txn;
int sql_delta_create_txn(const char *dir, const char *name, const char *const *col_names,
                         const sql_type *const *col_types, const bool *col_nullable, size_t n_cols,
                         const char *const *option_keys, const char *const *option_values,
                         size_t n_options, delta_txn **out, tarn_error *err);

/* Commits a creating transaction as version 0 (operation named for commitInfo); a table that
 * appeared meanwhile is "already exists" (TARN_EINVAL). The caller still frees t. */
int sql_delta_commit_create(delta_txn *t, const char *name, const char *operation, tarn_error *err);

/* ALTER TABLE on the Delta table in dir: the commands in order, one commit (metaData, and the
 * protocol when a command needs a feature the table lacks). ADD COLUMN adds a nullable column;
 * DROP and RENAME COLUMN need column mapping, which SET ("delta.columnMapping.mode" = 'name')
 * turns on (existing columns keep their names as physical names, so no file is rewritten);
 * SET / RESET change table properties (SET delta.enableDeletionVectors = 'true' upgrades the
 * protocol to table features). Errors: TARN_EINVAL a missing or duplicate column, dropping a
 * partition column; TARN_EUNSUPPORTED what tarn cannot honour; TARN_ECONFLICT. */
struct sql_alter;
int sql_delta_alter(const char *dir, const char *name, const struct sql_alter *alters,
                    size_t n_alters, tarn_error *err);

/* The same changes applied to transaction t (read on an existing table) without committing:
 * its metadata (and protocol when a feature is needed) set; *operation the commitInfo operation
 * they amount to (NULL: SET TBLPROPERTIES). INSERT uses it to evolve the schema in the commit
 * that writes the rows. */
int sql_delta_alter_txn(delta_txn *t, const char *name, const struct sql_alter *alters,
                        size_t n_alters, const char **operation, tarn_error *err);

#endif
