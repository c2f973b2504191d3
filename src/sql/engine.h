/*
 * The SQL engine's entry point: text in, result sets out.
 *
 * An engine is a session over an optional warehouse directory. sql_engine_exec parses the text
 * (one or more statements separated by ';'), and for each statement binds, optimizes and runs it,
 * handing each result set to the caller as an Arrow schema plus a stream of batches. Statements
 * without rows (CREATE TABLE AS, COPY ... TO) report a short status line instead ("SELECT 42",
 * "COPY 1000"). EXPLAIN returns its plan as a one-column result.
 */
#ifndef TARN_SQL_ENGINE_H
#define TARN_SQL_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "tarn.h"

typedef struct sql_engine sql_engine;

typedef struct sql_engine_options {
  const char *warehouse; /* directory of tables; NULL: the current directory */
  int threads;           /* 0: number of cores */
  int64_t memory_limit;  /* bytes; 0: 80% of physical memory */
  const char *tmp_dir;   /* spill directory; NULL: $TMPDIR or /tmp */
  bool deny_files;       /* refuse read_parquet, COPY TO and CREATE TABLE (the fuzz target) */
} sql_engine_options;

int sql_engine_open(const sql_engine_options *opts, sql_engine **out, tarn_error *err);
void sql_engine_close(sql_engine *e);

/* Receives one statement's result: schema (a struct schema of the columns) and then each batch
 * (a struct array) in order. Both are borrowed for the duration of the call. A non-zero return
 * stops execution and is returned by sql_engine_exec. */
typedef struct sql_result_sink {
  int (*begin)(void *arg, const struct ArrowSchema *schema, tarn_error *err);
  int (*batch)(void *arg, const struct ArrowArray *batch, tarn_error *err);
  int (*end)(void *arg, tarn_error *err);
  int (*status)(void *arg, const char *line, tarn_error *err); /* statements without rows */
  void *arg;
} sql_result_sink;

/* Runs every statement in sql in order; stops at the first error (naming the statement's
 * position when there are several). */
int sql_engine_exec(sql_engine *e, const char *sql, const sql_result_sink *sink, tarn_error *err);

/* Parses, binds and optimizes every statement in sql without running any, appending each plan's
 * EXPLAIN text to *text (malloc'ed; may be NULL on error). For the fuzz target and tests of the
 * front end. */
int sql_engine_plan_only(sql_engine *e, const char *sql, char **text, tarn_error *err);

/* Table names in the warehouse (for \d), sorted; *names is malloc'ed, each name too. */
int sql_engine_list_tables(sql_engine *e, char ***names, size_t *n, tarn_error *err);

#endif
