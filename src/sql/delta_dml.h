/*
 * Statements that change a Delta table's rows: INSERT (and CREATE TABLE AS's rows), DELETE,
 * UPDATE and MERGE, each one commit.
 *
 * DELETE, UPDATE and MERGE run the binder's change plan (binder.h, SQL_STMT_DML): each change
 * names a row of the version read by its file and position, and says whether the row goes
 * (delete), is replaced (update) or is new (insert). New rows are written as new files
 * (delta_files.h). Replaced and deleted rows leave their files one of two ways:
 *  - with deletion vectors (the table property delta.enableDeletionVectors is true and its
 *    protocol has the deletionVectors feature): each touched file gets a new vector, the union
 *    of its old one and the new positions, all written to one new vector file; the commit
 *    removes the file with its old vector and adds it back with the new one (a file whose every
 *    row is gone is only removed);
 *  - otherwise copy-on-write: the rows of each touched file that stay are rewritten into new
 *    files (together with the new rows) and the touched files are removed.
 * A target row changed twice by one MERGE or UPDATE (several source rows matched it) is an
 * error, as in PostgreSQL; DELETE deletes it once. Nothing changed: nothing committed.
 *
 * The commit reads on from the version the plan read (delta_txn_begin_at), so a concurrent
 * commit that removed a file this statement touched is a conflict (TARN_ECONFLICT), and
 * concurrent appends are not.
 */
#ifndef TARN_SQL_DELTA_DML_H
#define TARN_SQL_DELTA_DML_H

#include "sql/binder.h"
#include "sql/exec.h"
#include "table/delta/delta_commit.h"

/* Runs a bound DELETE / UPDATE / MERGE (bd->kind SQL_STMT_DML) with execution context x;
 * pc is the statement's plan context (for the rewrite scans). *affected: rows deleted, updated
 * and inserted; for an overwrite (bd->dml_op "WRITE": INSERT OVERWRITE or REPLACE WHERE,
 * committed as operation WRITE with mode Overwrite), the rows inserted. */
int sql_delta_dml(sql_exec_ctx *x, sql_plan_ctx *pc, const sql_bound *bd, int64_t *affected,
                  tarn_error *err);

/* INSERT INTO a Delta table (bd->kind SQL_STMT_INSERT): the plan's rows, split by partition,
 * one commit (a blind append). */
int sql_delta_insert(sql_exec_ctx *x, const sql_bound *bd, int64_t *rows, tarn_error *err);

/* Writes plan's rows (the table's columns) as data files of a table being created by t
 * (CREATE TABLE AS): col_names / types as the plan's, partition columns by name. */
int sql_delta_write_new(sql_exec_ctx *x, sql_plan *plan, delta_txn *t, const char *dir,
                        const char *const *part_names, size_t n_parts, int64_t *rows,
                        tarn_error *err);

#endif
