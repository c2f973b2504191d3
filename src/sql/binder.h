/*
 * The binder: a parse tree becomes a typed plan.
 *
 * Names are resolved against the FROM clause's scope (then enclosing queries' scopes, which makes
 * a subquery correlated), functions and operators against the registry with PostgreSQL's
 * implicit casts, aggregates and window functions are lifted into their own plan nodes, and
 * quoted literals take the type their context needs ('2024-01-01' next to a date is a date).
 * Constant subexpressions are folded as they are bound. Errors name what is wrong and where:
 * `column "x" does not exist`, `function foo(integer) does not exist`.
 */
#ifndef TARN_SQL_BINDER_H
#define TARN_SQL_BINDER_H

#include "sql/parser.h"
#include "sql/plan.h"

typedef enum sql_stmt_kind {
  SQL_STMT_QUERY,   /* rows to the client */
  SQL_STMT_EXPLAIN, /* plan text (analyze: run it first) */
  SQL_STMT_CTAS,    /* CREATE TABLE target AS query */
  SQL_STMT_COPY_TO, /* COPY (query) TO 'target' */
  SQL_STMT_SET,     /* SET name = value */
  SQL_STMT_CREATE,  /* CREATE TABLE target (columns) USING format [WITH (options)] */
  SQL_STMT_INSERT,  /* INSERT INTO target: plan's rows, in the table's columns and types */
  SQL_STMT_DML,     /* DELETE, UPDATE, MERGE on a Delta table: plan's rows are changes (below) */
  SQL_STMT_ALTER,   /* ALTER TABLE target_dir: the alters below */
  SQL_STMT_CALL     /* CALL call_proc(target_dir, ...): options are its arguments by name */
} sql_stmt_kind;

typedef struct sql_bound {
  sql_stmt_kind kind;
  sql_plan *plan;
  bool analyze;
  const char *target;     /* CTAS / CREATE / INSERT table name, COPY file */
  const char *target_dir; /* INSERT: the table's directory */
  const char *format;     /* COPY: "parquet" (default for *.parquet), "csv" */
  const char *set_name, *set_value;
  bool if_not_exists;
  /* SQL_STMT_CREATE: the columns, and the WITH options as given (keys lower-cased by the
   * parser unless quoted). */
  const char *using_format;
  size_t n_cols;
  const char **col_names;
  const sql_type **col_types;
  bool *col_nullable;
  size_t n_options;
  const char **option_keys, **option_values;
  /* SQL_STMT_DML: the operation ("DELETE", "UPDATE", "MERGE"), the target table's source as
   * the plan reads it (with row identity columns; its table_version is the version read), and
   * its column count without them. The plan's rows are changes: column 0 the changed row's file
   * index and column 1 its position (NULL for an inserted row), column 2 the action
   * (SQL_DML_DELETE, SQL_DML_UPDATE, SQL_DML_INSERT), then the new row's values in the table's
   * columns and types (NULL for a deletion). */
  const char *dml_op;
  sql_source *dml_table;
  size_t dml_n_cols;
  const char *dml_predicate; /* for commitInfo: the statement's condition as text, or NULL */
  /* SQL_STMT_INSERT and SQL_STMT_DML: the application transaction the write is (set by the
   * engine from SET delta.write.txnAppId / txnVersion; NULL: none). A write whose application
   * version the table already holds is skipped: retried writes are applied once. */
  const char *txn_app_id;
  int64_t txn_app_version;
  /* SQL_STMT_INSERT: columns the table lacks (named in the column list, or trailing query
   * columns), appended to the plan's columns after the table's. sql_delta_insert adds them to
   * the schema in the same commit when schema merge is on (auto_merge: the session's SET
   * delta.schema.autoMerge.enabled, or the table property tarn.autoMerge.enabled), and
   * refuses the statement otherwise. */
  size_t n_merge_cols;
  const char **merge_col_names;
  bool auto_merge;
  /* SQL_STMT_DML "WRITE" from INSERT OVERWRITE in dynamic mode: sql_delta_dml removes every
   * file of the partitions the statement writes (the plan deletes nothing itself). */
  bool dynamic_overwrite;
  /* SQL_STMT_CALL: the procedure ("vacuum", "optimize", "restore"); target is the table as
   * given and target_dir its directory; the other arguments are option_keys / option_values
   * (positional ones named by their place in the procedure's signature; values as text,
   * booleans "true" / "false"). */
  const char *call_proc;
  /* SQL_STMT_ALTER: the commands in order. */
  size_t n_alters;
  struct sql_alter *alters;
} sql_bound;

typedef enum sql_alter_kind {
  SQL_ALTER_ADD_COLUMN,    /* name, type, nullable */
  SQL_ALTER_DROP_COLUMN,   /* name, if_exists */
  SQL_ALTER_RENAME_COLUMN, /* name -> new_name */
  SQL_ALTER_SET,           /* option keys and values (table properties) */
  SQL_ALTER_RESET          /* option keys */
} sql_alter_kind;

typedef struct sql_alter {
  sql_alter_kind kind;
  const char *name, *new_name;
  const sql_type *type;
  bool nullable, if_exists;
  size_t n_options;
  const char **option_keys, **option_values;
} sql_alter;

/* SQL_DML_REFUSED: a new row of INSERT ... REPLACE WHERE outside the condition (the statement
 * fails, as Delta's replaceWhere constraint check does). */
enum { SQL_DML_DELETE = 1, SQL_DML_UPDATE = 2, SQL_DML_INSERT = 3, SQL_DML_REFUSED = 4 };

typedef struct sql_binder_env {
  sql_plan_ctx *pc;
  const char *warehouse; /* may be NULL */
  int64_t now_micros;
  tarn_error *err;
  bool deny_files; /* table functions and warehouse tables are refused */
  /* INSERT OVERWRITE replaces only the partitions it writes (SET partitionOverwriteMode =
   * dynamic), not the whole table or its static PARTITION values */
  bool dynamic_overwrite;
} sql_binder_env;

/* Binds one raw statement. Everything lives in env->pc's arena. */
int sql_bind_statement(sql_binder_env *env, const PgQuery__RawStmt *stmt, sql_bound *out);

#endif
