/*
 * CALL statements: the Delta maintenance procedures as SQL.
 *
 *   CALL vacuum('t'[, retain => '168 hours' | HOURS][, dry_run => true][, force => true])
 *   CALL optimize('t'[, zorder => 'a,b'][, target_size => '128MB' | BYTES])
 *   CALL restore('t', version => N | "timestamp" => 'TIME')
 *
 * (timestamp is a keyword in PostgreSQL's grammar, so that argument's name is quoted.)
 * 't' is a warehouse table or a table directory (binder.h, SQL_STMT_CALL). Each runs the same
 * code as the command of the same name (`tarn vacuum|optimize|restore`) and answers with a
 * small result table: vacuum one row per file deleted (dry run: to be deleted), optimize and
 * restore one row of metrics with the names Delta's own procedures use.
 */
#ifndef TARN_SQL_DELTA_CALL_H
#define TARN_SQL_DELTA_CALL_H

#include "sql/binder.h"
#include "sql/exec.h"

typedef struct sql_call_result {
  size_t n_cols;
  const char **names;
  const char *kinds; /* per column: 'l' a bigint (num), 'u' text (text) */
  size_t n_rows;
  const char **text; /* n_rows * n_cols cells, row by row */
  int64_t *num;
} sql_call_result;

/* Runs bound CALL bd with execution context x; the result lives in pc's arena. Errors: those
 * of the procedure, TARN_EINVAL for an argument that does not parse (named). */
int sql_delta_call(sql_exec_ctx *x, sql_plan_ctx *pc, const sql_bound *bd, sql_call_result *res,
                   tarn_error *err);

/* A time as SQL reads a timestamptz literal ('2024-01-01 10:00:00+02', '2024-01-01'), in
 * milliseconds since the epoch (rounded down). TARN_EINVAL when it is not a time. */
int sql_parse_time_ms(const char *text, int64_t *ms, tarn_error *err);

#endif
