/*
 * The executor: plan nodes become operators that pull batches from their children.
 *
 * Each operator implements open / next / close; next hands out one batch at a time (ownership
 * passes to the caller) and NULL at the end. Blocking operators (hash aggregate, the build side
 * of a hash join, sort, window) consume their input in open or on the first next. Parallelism is
 * one mechanism: a GATHER node runs copies of its subtree on worker threads whose scans share one
 * queue of morsels (a row group of a file each), so decoding, filtering, projecting and partial
 * aggregation happen on every core, and the operators above the gather see one stream. Hash joins
 * whose probe side is such a pipeline run inside the gather against one shared build table.
 *
 * Memory: operators that hold data across batches charge it to the query's budget
 * (sql_exec_ctx.mem_limit); when the budget would be exceeded, sort and hash aggregate spill
 * runs/partitions to temporary files in tmp_dir instead of failing.
 */
#ifndef TARN_SQL_EXEC_H
#define TARN_SQL_EXEC_H

#include <stdatomic.h>

#include "sql/plan.h"

typedef struct sql_op sql_op;
typedef struct sql_exec_ctx sql_exec_ctx;

typedef struct sql_op_vtable {
  const char *name;
  int (*open)(sql_op *op, sql_exec_ctx *ctx);
  /* *out = next batch (n_rows > 0) or NULL at end. */
  int (*next)(sql_op *op, sql_exec_ctx *ctx, sql_batch **out);
  void (*close)(sql_op *op); /* frees everything, also after an error or early stop */
} sql_op_vtable;

struct sql_op {
  const sql_op_vtable *vt;
  sql_plan *plan; /* the node this operator runs; measurements go to plan->actual_* */
  sql_op *child[2];
  void *state; /* operator-private */
};

struct sql_exec_ctx {
  tarn_error *err;
  int64_t now_micros; /* statement start (now()) */
  int n_threads;      /* workers for GATHER nodes */
  int64_t mem_limit;  /* bytes; 0 = unlimited */
  _Atomic int64_t mem_used;
  const char *tmp_dir;   /* spill files */
  bool analyze;          /* collect per-operator time */
  _Atomic int cancelled; /* set on error in a worker / SIGINT */
  /* A gather's workers run with copies of the query's context (each with its own error); root
   * points at the query's, where memory is charged and cancellation is flagged. NULL: this is
   * the root. */
  struct sql_exec_ctx *root;
  /* Correlated subqueries: the outer row the plan runs for (copied into eval contexts). */
  const sql_batch *outer;
  uint32_t outer_row;
};

/* Builds the operator tree for plan (resolving column ids to batch slots on the way). The tree
 * is owned by the caller and freed with sql_op_free. */
int sql_exec_build(sql_exec_ctx *ctx, sql_plan *plan, sql_op **out);
void sql_op_free(sql_op *op);

/* Drives an operator: open, then next until NULL, passing every batch to sink (which takes
 * ownership), then close. Records rows/time on the plan nodes when ctx->analyze. */
typedef int (*sql_batch_sink)(void *arg, sql_batch *batch, tarn_error *err);
int sql_exec_run(sql_exec_ctx *ctx, sql_plan *plan, sql_batch_sink sink, void *arg);

/* Runs plan and collects every row into one batch (subqueries, CTE materialisation). */
int sql_exec_collect(sql_exec_ctx *ctx, sql_plan *plan, sql_batch **out);

/* An eval context for operators: results go to mem. */
void sql_exec_eval_ctx(sql_exec_ctx *ctx, sql_mem *mem, sql_eval_ctx *out);

/* Memory accounting: charges (positive) or returns (negative) bytes. Returns false when the
 * charge would pass mem_limit (the charge is then not made): the caller spills or fails. */
bool sql_exec_charge(sql_exec_ctx *ctx, int64_t bytes);

/* Operator constructors, one per plan kind (exec_*.c). Each builds its children via
 * sql_exec_build. */
int sql_op_scan(sql_exec_ctx *ctx, sql_plan *p, sql_op **out);
int sql_op_values(sql_exec_ctx *ctx, sql_plan *p, sql_op **out);
int sql_op_filter(sql_exec_ctx *ctx, sql_plan *p, sql_op **out);
int sql_op_project(sql_exec_ctx *ctx, sql_plan *p, sql_op **out);
int sql_op_agg(sql_exec_ctx *ctx, sql_plan *p, sql_op **out);
int sql_op_join(sql_exec_ctx *ctx, sql_plan *p, sql_op **out);
int sql_op_sort(sql_exec_ctx *ctx, sql_plan *p, sql_op **out);
int sql_op_limit(sql_exec_ctx *ctx, sql_plan *p, sql_op **out);
int sql_op_setop(sql_exec_ctx *ctx, sql_plan *p, sql_op **out);
int sql_op_window(sql_exec_ctx *ctx, sql_plan *p, sql_op **out);
int sql_op_distinct(sql_exec_ctx *ctx, sql_plan *p, sql_op **out);
int sql_op_cte_scan(sql_exec_ctx *ctx, sql_plan *p, sql_op **out);
int sql_op_gather(sql_exec_ctx *ctx, sql_plan *p, sql_op **out);
int sql_op_unnest(sql_exec_ctx *ctx, sql_plan *p, sql_op **out);

/* The operator a meter (EXPLAIN ANALYZE's measuring wrapper) wraps, or op itself. */
sql_op *sql_op_unmetered(sql_op *op);

/* A hash join's key table (exec_util.h). */
typedef struct sql_ktab sql_ktab;

/* Gives a scan operator (op, or the scan a meter wraps) a runtime filter from the inner hash
 * join it feeds as probe side: kt is the join's sealed table of one-column integer keys, with a
 * membership filter, and col the scan's output column holding the probe key. Rows whose key the
 * table certainly lacks (and NULL keys) are dropped right after the pushed filters, before the
 * scan reads its other columns. false when op is not a scan (nothing is done). */
bool sql_op_scan_key_filter(sql_op *op, const sql_ktab *kt, int col);

/* Whether a file of scan's source with facts sf (partition values, row count, min/max) may
 * hold a row the scan's pushed filters keep: the scan's own file pruning, for deciding whether a
 * file another writer added concurrently could have mattered to a statement (delta_dml.c). */
bool sql_scan_may_match(const sql_plan *scan, const sql_source_file *sf);

/* Scans inside a gather share a morsel queue: the gather creates it and its workers' scan
 * operators take morsels from it. */
typedef struct sql_morsel_queue sql_morsel_queue;
sql_morsel_queue *sql_morsel_queue_new(void);
void sql_morsel_queue_free(sql_morsel_queue *q);

#endif
