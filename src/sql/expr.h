/*
 * Bound expressions and their vectorized evaluation.
 *
 * The binder turns parse-tree expressions into this form: every node typed, every function
 * resolved to an implementation, every implicit cast explicit. Column references name a column
 * by its query-wide id (the plan gives every produced column one); before execution,
 * sql_expr_resolve turns ids into slots of the batch the expression will see. Evaluation takes a
 * batch and yields one vector, a batch at a time; NULLs follow SQL's three-valued logic, and
 * errors (division by zero, integer overflow, a bad cast) stop the query with a message naming
 * what went wrong.
 */
#ifndef TARN_SQL_EXPR_H
#define TARN_SQL_EXPR_H

#include "sql/vector.h"

typedef struct sql_plan sql_plan;
typedef struct sql_expr sql_expr;
typedef struct sql_func sql_func;
typedef struct sql_eval_ctx sql_eval_ctx;

typedef enum sql_expr_kind {
  SQL_E_CONST,    /* value */
  SQL_E_COLUMN,   /* column_id, resolved to slot */
  SQL_E_OUTER,    /* a column of an enclosing query (correlated subquery): column_id; its value
                     comes from ctx->outer (slot resolved against the outer row's columns) */
  SQL_E_FUNC,     /* func(args): operators and named functions alike (+, =, ||, upper, ...) */
  SQL_E_CAST,     /* args[0] to type; try_cast when is_try */
  SQL_E_AND,      /* n-ary, three-valued */
  SQL_E_OR,       /* n-ary, three-valued */
  SQL_E_NOT,
  SQL_E_IS_NULL,  /* args[0] IS NULL; negated: IS NOT NULL */
  SQL_E_IS_DISTINCT, /* args[0] IS DISTINCT FROM args[1]; negated: IS NOT DISTINCT FROM */
  SQL_E_CASE,     /* args = when0, then0, when1, then1, ..., [else] (has_else); searched form
                     (simple CASE x WHEN v is bound to x = v) */
  SQL_E_IN_LIST,  /* args[0] IN (args[1..]); negated: NOT IN; NULL semantics of SQL */
  SQL_E_LIKE,     /* args[0] LIKE args[1] [ESCAPE args[2]]; case_insensitive for ILIKE; negated */
  SQL_E_SUBQUERY, /* subquery: a plan; sub_kind says scalar / EXISTS / IN (args[0] IN (...)) /
                     ANY/ALL comparison (func compares args[0] with each row) */
  SQL_E_COALESCE, /* first non-NULL of args (lazily evaluated: later args only where needed) */
  SQL_E_NULLIF,   /* NULLIF(args[0], args[1]) */
  SQL_E_GREATEST, /* GREATEST / LEAST (is_least) of args, ignoring NULLs */
  SQL_E_STRUCT_FIELD, /* args[0].field_index */
  SQL_E_ROW,      /* ROW(args) / struct_pack: a struct value */
  SQL_E_ARRAY,    /* ARRAY[args] */
  SQL_E_SUBSCRIPT /* args[0][args[1]] (1-based for lists; key lookup for maps) */
} sql_expr_kind;

typedef enum sql_subquery_kind {
  SQL_SUB_SCALAR,
  SQL_SUB_EXISTS,
  SQL_SUB_IN,  /* args[0] IN (subquery) */
  SQL_SUB_ANY, /* args[0] op ANY (subquery); func = the comparison */
  SQL_SUB_ALL
} sql_subquery_kind;

struct sql_expr {
  sql_expr_kind kind;
  const sql_type *type; /* result type */
  sql_value value;      /* SQL_E_CONST */
  int column_id;        /* SQL_E_COLUMN / SQL_E_OUTER */
  int slot;             /* set by sql_expr_resolve: index into the batch (or outer row) */
  const sql_func *func; /* SQL_E_FUNC; SQL_E_SUBQUERY ANY/ALL comparison */
  sql_expr **args;
  size_t n_args;
  bool negated;          /* IS NOT NULL, NOT IN, NOT LIKE, IS NOT DISTINCT */
  bool case_insensitive; /* ILIKE */
  bool has_else;         /* SQL_E_CASE */
  bool is_try;           /* SQL_E_CAST: NULL instead of an error */
  bool is_least;         /* SQL_E_GREATEST */
  int field_index;       /* SQL_E_STRUCT_FIELD */
  sql_subquery_kind sub_kind;
  sql_plan *subquery;    /* SQL_E_SUBQUERY */
  bool correlated;       /* SQL_E_SUBQUERY: refers to outer columns */
  void *cache;           /* executor-owned state (an uncorrelated subquery's result set) */
  bool unknown_literal;  /* a quoted string literal not yet given a type (the binder's business) */
};

/* --- Functions ------------------------------------------------------------------------------ */

/* A scalar kernel: out (already sql_vec_init'ed to n rows of the result type, in ctx's region) gets
 * f(args) row-wise. Unless the function is marked handles_nulls, the evaluator has already
 * computed out->nulls as the OR of the arguments' null maps and the kernel may ignore NULL rows. */
typedef int (*sql_kernel_fn)(sql_eval_ctx *ctx, const sql_func *f, sql_vec *const *args,
                             size_t n_args, uint32_t n, sql_vec *out);

struct sql_func {
  const char *name;     /* lower-case SQL name or operator ("+", "=", "upper") */
  sql_kernel_fn kernel;
  const sql_type *ret;  /* result type (resolution may build a parameterised one) */
  bool handles_nulls;   /* kernel sets out->nulls itself (concat_ws, coalesce-like functions) */
  bool volatile_;       /* now(), random(): never constant-folded */
  int op;               /* kernel-private selector */
  const sql_type *arg_types[4]; /* argument types the kernel expects after casts (up to 4 shown) */
};

/* Resolves a scalar function or operator by name and argument types, PostgreSQL-style: exact
 * match first, then the candidate reachable by implicit casts. On success *out is a function
 * description allocated in a, and cast_to[i] (an array of n_args, filled by the call) the type
 * argument i must be cast to (or NULL when it already fits). Errors: TARN_EINVAL "function
 * foo(integer, text) does not exist" / "operator does not exist: date + text". */
int sql_func_resolve(tarn_arena *a, const char *name, const sql_type *const *arg_types,
                     size_t n_args, const sql_func **out, const sql_type **cast_to,
                     tarn_error *err);

/* As sql_func_resolve, knowing the values of the arguments that are constants (consts[i] NULL
 * when argument i is not; consts itself may be NULL). PostgreSQL's result type of a few functions
 * depends on them: EXTRACT(field FROM x) is numeric with a scale chosen by the field (6 for
 * second and epoch, 3 for milliseconds, else 0), round(x, n) and trunc(x, n) of a numeric have
 * scale n, and numeric division picks its scale from the operands' magnitudes (without constants,
 * at least 16 fractional digits). Binders should prefer this entry point. */
int sql_func_resolve_const(tarn_arena *a, const char *name, const sql_type *const *arg_types,
                           const sql_value *const *consts, size_t n_args, const sql_func **out,
                           const sql_type **cast_to, tarn_error *err);

/* True when name is an aggregate function (count, sum, avg, min, max, bool_and, bool_or,
 * string_agg, array_agg, any_value, stddev..., count_star is "count" with zero args). */
bool sql_func_is_aggregate(const char *name);

/* True when name is a window-only function (row_number, rank, dense_rank, lag, lead,
 * first_value, last_value, ntile, percent_rank, cume_dist). */
bool sql_func_is_window(const char *name);

/* --- Evaluation ------------------------------------------------------------------------------ */

struct sql_eval_ctx {
  sql_mem *mem;          /* region receiving result vectors (the output batch's) */
  int64_t now_micros;    /* statement start time: now(), current_timestamp, current_date */
  tarn_error *err;
  /* Correlated subqueries: the outer row the inner plan is evaluated for. */
  const sql_batch *outer;
  uint32_t outer_row;
  /* Runs a subquery plan (with ctx->outer set for correlated ones) and returns all its rows as
   * one batch in *out (owned by the caller). Provided by the executor. */
  int (*run_subquery)(sql_eval_ctx *ctx, sql_plan *plan, sql_batch **out);
  void *exec; /* executor state for run_subquery */
};

/* Evaluates e over batch b (slots resolved against b's columns) into out (allocated in
 * ctx->mem; may share buffers with b, whose region the caller keeps alive). */
int sql_expr_eval(sql_eval_ctx *ctx, const sql_expr *e, const sql_batch *b, sql_vec *out);

/* Evaluates a boolean predicate over b into a selection vector: sel[0..*n_sel) = rows where e is
 * true (not false, not NULL). sel has room for b->n_rows. */
int sql_expr_select(sql_eval_ctx *ctx, const sql_expr *e, const sql_batch *b, uint32_t *sel,
                    uint32_t *n_sel);

/* Evaluates a constant expression (no column references) to a value whose strings live in m. */
int sql_expr_eval_const(sql_eval_ctx *ctx, const sql_expr *e, sql_value *out);

/* Sets slot of every SQL_E_COLUMN in e (not descending into subqueries) to the index of its
 * column_id in ids[0..n). Errors: TARN_EINVAL naming the missing id. */
int sql_expr_resolve(sql_expr *e, const int *ids, size_t n, tarn_error *err);

/* Same for SQL_E_OUTER references inside e, including inside subquery plans' expressions. */
int sql_expr_resolve_outer(sql_expr *e, const int *ids, size_t n, tarn_error *err);

/* Casts a vector to type `to` (PostgreSQL's cast rules and text formats: '2024-01-02'::date,
 * 1.5::int rounds half away from zero, numeric overflow is an error). try_ → NULL instead. */
int sql_cast_vec(sql_eval_ctx *ctx, const sql_vec *in, const sql_type *to, bool try_,
                 sql_vec *out);

/* Casts one value (constant folding, statistics); strings of the result live in m. */
int sql_cast_value(sql_mem *m, const sql_value *in, const sql_type *to, sql_value *out,
                   tarn_error *err);

/* Compares two non-NULL values of the same type: <0, 0, >0 (text bytewise; floats with NaN
 * greatest as PostgreSQL orders them). Used by sort keys, min/max and statistics pruning. */
int sql_value_compare(const sql_value *a, const sql_value *b);

/* Formats a value as PostgreSQL's text output ("12.50", "2024-01-02 03:04:05", "t") into buf
 * (NUL-terminated, truncated to cap). For EXPLAIN and error messages. */
void sql_value_text(const sql_value *v, char *buf, size_t cap);

/* Frees what evaluation cached in e (uncorrelated subqueries' result sets), in its
 * subexpressions and in the expressions of its subquery plans. The executor calls it once the
 * query is done; evaluating e afterwards recomputes. */
void sql_expr_free_cache(sql_expr *e);

/* Copies an expression tree (for plans cloned per thread); subquery plans are shared. */
sql_expr *sql_expr_copy(tarn_arena *a, const sql_expr *e);

/* Appends a readable rendering of e ("(l_quantity < 24)", "sum(#12)") to buf. names maps
 * column ids to names via the callback (may be NULL: "#id"). */
typedef const char *(*sql_column_namer)(void *arg, int column_id);
void sql_expr_render(const sql_expr *e, sql_column_namer namer, void *arg, char *buf, size_t cap);

#endif
