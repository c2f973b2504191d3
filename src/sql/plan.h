/*
 * Query plans: the tree the binder builds, the optimizer rewrites and the executor runs.
 *
 * Every node produces columns, and every produced column has an id unique within the query
 * (sql_plan_ctx hands them out). Expressions refer to columns by id, so the optimizer can move a
 * filter below a join or drop unused columns from a scan without renumbering anything; the
 * executor maps ids to batch positions once, when it builds operators.
 *
 * One tree serves as logical and physical plan: the optimizer fills in the physical choices
 * (equi-join keys and build side, scan pruning predicates, top-N, partial/final aggregation
 * around a parallel gather) on the same nodes.
 */
#ifndef TARN_SQL_PLAN_H
#define TARN_SQL_PLAN_H

#include "sql/expr.h"
#include "sql/source.h"

typedef enum sql_plan_kind {
  SQL_P_SCAN,     /* a table source; reads columns source_cols, pruned by filters */
  SQL_P_VALUES,   /* literal rows (VALUES, SELECT without FROM): rows of exprs */
  SQL_P_FILTER,   /* keeps rows where predicate is true */
  SQL_P_PROJECT,  /* exprs -> new columns */
  SQL_P_AGG,      /* group by keys, aggregates */
  SQL_P_JOIN,     /* two children */
  SQL_P_SORT,     /* order by keys; limit >= 0 makes it a top-N */
  SQL_P_LIMIT,    /* offset, limit */
  SQL_P_SETOP,    /* UNION [ALL] / INTERSECT [ALL] / EXCEPT [ALL] of two children */
  SQL_P_WINDOW,   /* child's columns + one column per window call */
  SQL_P_DISTINCT, /* removes duplicate rows (all columns) */
  SQL_P_CTE_SCAN, /* reads a materialised CTE (cte points at its plan; shared) */
  SQL_P_GATHER,   /* runs child on n_workers threads over a shared morsel queue; merges output */
  SQL_P_UNNEST    /* child's columns + unnest(expr) rows */
} sql_plan_kind;

typedef enum sql_join_kind {
  SQL_JOIN_INNER,
  SQL_JOIN_LEFT,
  SQL_JOIN_RIGHT,
  SQL_JOIN_FULL,
  SQL_JOIN_SEMI, /* left rows with a match (EXISTS / IN); output = left columns */
  SQL_JOIN_ANTI, /* left rows without a match (NOT EXISTS); output = left columns */
  SQL_JOIN_CROSS
} sql_join_kind;

typedef enum sql_setop_kind { SQL_SET_UNION, SQL_SET_INTERSECT, SQL_SET_EXCEPT } sql_setop_kind;

typedef enum sql_agg_mode {
  SQL_AGG_SINGLE,  /* input rows -> final values */
  SQL_AGG_PARTIAL, /* input rows -> per-group states (below a gather) */
  SQL_AGG_FINAL    /* partial states -> final values (above a gather) */
} sql_agg_mode;

typedef struct sql_sort_key {
  sql_expr *expr;
  bool descending;
  bool nulls_first; /* PostgreSQL default: NULLS LAST for ASC, NULLS FIRST for DESC */
} sql_sort_key;

typedef enum sql_agg_fn {
  SQL_AGG_COUNT_STAR,
  SQL_AGG_COUNT,
  SQL_AGG_SUM,
  SQL_AGG_AVG,
  SQL_AGG_MIN,
  SQL_AGG_MAX,
  SQL_AGG_BOOL_AND,
  SQL_AGG_BOOL_OR,
  SQL_AGG_STRING_AGG, /* args: value, separator (constant) */
  SQL_AGG_ARRAY_AGG,
  SQL_AGG_ANY_VALUE,
  SQL_AGG_STDDEV_SAMP,
  SQL_AGG_STDDEV_POP,
  SQL_AGG_VAR_SAMP,
  SQL_AGG_VAR_POP
} sql_agg_fn;

typedef struct sql_agg_call {
  sql_agg_fn fn;
  sql_expr **args; /* evaluated on the input batch */
  size_t n_args;
  bool distinct;
  sql_expr *filter;    /* FILTER (WHERE ...) or NULL */
  sql_sort_key *order; /* string_agg / array_agg (ORDER BY ...) */
  size_t n_order;
  const sql_type *type; /* result type */
  int out_id;
} sql_agg_call;

/* Result type of an aggregate under PostgreSQL's rules (sum(int4) -> bigint, sum(int8) ->
 * numeric(38,0), avg(int) -> numeric..., count -> bigint). Errors: TARN_EINVAL
 * "function sum(text) does not exist". Implemented with the aggregate operator. */
int sql_agg_resolve(tarn_arena *a, const char *name, const sql_type *const *arg_types,
                    size_t n_args, bool distinct, sql_agg_fn *fn, const sql_type **ret,
                    tarn_error *err);

typedef enum sql_win_fn {
  SQL_WIN_ROW_NUMBER,
  SQL_WIN_RANK,
  SQL_WIN_DENSE_RANK,
  SQL_WIN_PERCENT_RANK,
  SQL_WIN_CUME_DIST,
  SQL_WIN_NTILE,
  SQL_WIN_LAG,
  SQL_WIN_LEAD,
  SQL_WIN_FIRST_VALUE,
  SQL_WIN_LAST_VALUE,
  SQL_WIN_AGG /* an aggregate over the frame: agg holds it */
} sql_win_fn;

typedef enum sql_frame_bound {
  SQL_FRAME_UNBOUNDED_PRECEDING,
  SQL_FRAME_PRECEDING, /* offset rows / range */
  SQL_FRAME_CURRENT_ROW,
  SQL_FRAME_FOLLOWING,
  SQL_FRAME_UNBOUNDED_FOLLOWING
} sql_frame_bound;

typedef struct sql_window_call {
  sql_win_fn fn;
  sql_agg_call agg; /* SQL_WIN_AGG: fn, args, filter; also args for lag/lead/ntile/... */
  sql_expr **partition;
  size_t n_partition;
  sql_sort_key *order;
  size_t n_order;
  bool frame_rows; /* ROWS (true) or RANGE (false, the default) */
  bool has_frame;  /* an explicit frame clause */
  sql_frame_bound start, end;
  int64_t start_offset, end_offset; /* for PRECEDING / FOLLOWING with ROWS */
  /* RANGE frames with an offset (one ORDER BY key x): per row, the value where the frame starts
   * / ends: x - offset for PRECEDING and x + offset for FOLLOWING in ascending order, the reverse
   * in descending order. Both of one type, which x is cast to for the comparison (a date key with
   * an interval offset compares as timestamp). NULL for the other kinds of bound. */
  sql_expr *range_start, *range_end;
  const sql_type *type;
  int out_id;
} sql_window_call;

typedef struct sql_scan_stats {
  int64_t files_total, files_skipped;
  int64_t row_groups_total, row_groups_skipped;
  int64_t pages_total, pages_skipped;
  int64_t rows_read;
} sql_scan_stats;

struct sql_plan {
  sql_plan_kind kind;
  sql_plan *child[2];

  /* Output columns: ids, names (for SELECT * and headers) and types, n_out of each. */
  size_t n_out;
  int *out_ids;
  const char **out_names;
  const sql_type **out_types;

  /* SQL_P_SCAN */
  sql_source *source;
  int *source_cols;   /* for out column i: index into source's columns */
  sql_expr **filters; /* conjuncts pushed into the scan (over out ids); applied to the rows,
                         and used to prune files, row groups, pages and (equality) blooms */
  size_t n_filters;
  sql_scan_stats scan_stats;        /* filled while running (EXPLAIN ANALYZE; atomically added) */
  struct sql_morsel_queue *morsels; /* set by a GATHER above: the queue its workers share */

  /* SQL_P_VALUES: n_rows rows of n_out exprs each (row-major) */
  sql_expr **rows;
  size_t n_rows;

  /* SQL_P_FILTER */
  sql_expr *predicate;

  /* SQL_P_PROJECT: exprs[i] produces out column i; SQL_P_UNNEST: exprs[0] is the list */
  sql_expr **exprs;
  size_t n_exprs;

  /* SQL_P_AGG: output = keys (out 0..n_keys) then aggs */
  sql_expr **keys;
  size_t n_keys;
  sql_agg_call *aggs;
  size_t n_aggs;
  sql_agg_mode agg_mode;
  /* GROUPING SETS / ROLLUP / CUBE: n_sets bitmasks over keys (0 sets: plain GROUP BY) */
  uint64_t *grouping_sets;
  size_t n_grouping_sets;

  /* SQL_P_JOIN: output = left columns then right columns (SEMI/ANTI: left only), less those the
   * plan above does not need (keep_ids, when keep_pruned: a column used only by the join's own
   * keys is not copied into every output row). The optimizer splits condition into equi-key
   * pairs (left_keys[i] = right_keys[i], over each side's columns) and a residual; with no keys
   * the join runs as a nested loop. */
  sql_join_kind join_kind;
  int *keep_ids;
  size_t n_keep_ids;
  bool keep_pruned;
  sql_expr *condition;
  sql_expr **left_keys, **right_keys;
  size_t n_join_keys;
  sql_expr *residual;
  bool build_left; /* hash table on the left child (smaller) instead of the right */
  bool null_aware; /* ANTI join from NOT IN: a NULL key on the right makes every row unknown */
  /* The join runs inside a GATHER with its probe side in the workers' pipeline: the workers'
   * copies probe one hash table, built once from the build child (which takes no morsels from
   * that gather). Set by the optimizer for INNER joins and for LEFT / SEMI / ANTI joins that
   * build on the right, the joins whose build side keeps no per-row match state. */
  bool shared_build;
  struct sql_join_shared *join_shared; /* while it runs: the table the copies share */

  /* SQL_P_SORT (limit >= 0: top-N keeping offset + limit rows) and SQL_P_LIMIT */
  sql_sort_key *sort_keys;
  size_t n_sort_keys;
  int64_t limit;  /* -1: none */
  int64_t offset; /* 0: none */

  /* SQL_P_SETOP */
  sql_setop_kind setop;
  bool set_all;

  /* SQL_P_WINDOW: output = child columns then one per call */
  sql_window_call *windows;
  size_t n_windows;

  /* SQL_P_CTE_SCAN: the CTE's plan (shared by all references, run once) */
  sql_plan *cte;
  int *cte_ids; /* column ids of the CTE plan's output, matched by position to out_ids */

  /* SQL_P_GATHER */
  int n_workers;

  /* Estimates and EXPLAIN ANALYZE measurements. */
  double est_rows;
  int64_t actual_rows;
  int64_t actual_ns;
  int64_t actual_batches;
  int64_t peak_bytes;
  bool spilled;
};

/* Plan-wide state: the arena every node and expression lives in, and the id counter. */
typedef struct sql_plan_ctx {
  tarn_arena arena;
  int next_column_id;
} sql_plan_ctx;

/* A zeroed node of kind k in ctx's arena (limit = -1), NULL when out of memory. */
sql_plan *sql_plan_new(sql_plan_ctx *ctx, sql_plan_kind k);
/* Allocates n output column slots on p. Returns 0 or TARN_ENOMEM. */
int sql_plan_alloc_out(sql_plan_ctx *ctx, sql_plan *p, size_t n);
/* A fresh column id. */
int sql_plan_new_id(sql_plan_ctx *ctx);

/* Calls fn on every expression slot of node p itself (not its children): filters, predicate,
 * project/unnest expressions, VALUES rows, aggregate keys, arguments, FILTERs and ORDER BYs, join
 * condition, keys and residual, sort keys, window arguments, partitions, orders and RANGE bounds.
 * NULL slots are skipped. Stops at and returns fn's first non-zero result. The one list of "where
 * expressions live" that every walker over plans uses. */
typedef int (*sql_expr_visitor)(sql_expr **slot, void *arg);
int sql_plan_visit_exprs(sql_plan *p, sql_expr_visitor fn, void *arg);

/* Frees what evaluation cached on the plan's expressions (uncorrelated subquery results),
 * subquery plans included. Call once the statement is done. */
void sql_plan_free_caches(sql_plan *p);

/* Prints the plan tree, one node per line, indented (EXPLAIN); with analyze, each line adds
 * rows, time and, for scans, files / row groups / pages skipped. Appends to *buf. */
int sql_plan_explain(const sql_plan *p, bool analyze, char **buf, size_t *len, tarn_error *err);

#endif
