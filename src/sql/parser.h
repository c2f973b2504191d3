/*
 * The SQL front end's first stage: PostgreSQL-dialect text to a parse tree.
 *
 * Parsing is libpg_query's (the PostgreSQL 15 grammar, the one DuckDB's grew from); its tree comes
 * back as protobuf and is unpacked with protobuf-c into PgQuery__* structures that the binder
 * walks. A syntax error becomes a tarn error giving the message and where it happened: the
 * character offset, line and column in the text.
 */
#ifndef TARN_SQL_PARSER_H
#define TARN_SQL_PARSER_H

#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

#include "tarn.h"

typedef struct sql_parsed {
  PgQuery__ParseResult *tree; /* statements in order: tree->stmts[0..tree->n_stmts) */
} sql_parsed;

/* Parses sql (NUL-terminated, borrowed) into out->tree. Errors: TARN_EINVAL for a syntax error,
 * with a message like `syntax error at or near "FORM" (line 1, column 10)`; TARN_ENOMEM. */
int sql_parse(const char *sql, sql_parsed *out, tarn_error *err);

/* Frees the tree. A zeroed or already freed sql_parsed is a no-op. */
void sql_parsed_free(sql_parsed *p);

#endif
