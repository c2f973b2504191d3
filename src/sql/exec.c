/*
 * The executor's driver: building operator trees, running them, and the services operators share
 * (evaluation contexts, subqueries, memory accounting).
 *
 * Every operator sql_exec_build makes is wrapped in a meter: a thin operator whose next calls the
 * real one and, for EXPLAIN ANALYZE, adds rows, batches and elapsed time to the plan node. Doing
 * it here keeps measurement out of every operator; the time is inclusive of children, as in
 * PostgreSQL's EXPLAIN ANALYZE. Meters under a GATHER run on several threads, so their additions
 * are atomic.
 */
#include "sql/exec.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/error.h"

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* --- Meter ---------------------------------------------------------------------------------------
 */

static int meter_open(sql_op *op, sql_exec_ctx *ctx) {
  sql_op *inner = op->child[0];
  int64_t t0 = ctx->analyze ? now_ns() : 0;
  int rc = inner->vt->open(inner, ctx);
  if (ctx->analyze) __atomic_fetch_add(&op->plan->actual_ns, now_ns() - t0, __ATOMIC_RELAXED);
  return rc;
}

static int meter_next(sql_op *op, sql_exec_ctx *ctx, sql_batch **out) {
  sql_op *inner = op->child[0];
  sql_exec_ctx *root = ctx;
  while (root->root)
    root = root->root;
  if (atomic_load(&root->cancelled)) {
    *out = NULL;
    return ctx->err && ctx->err->code ? ctx->err->code
                                      : tarn_err(ctx->err, TARN_EINVAL, "query cancelled");
  }
  int64_t t0 = ctx->analyze ? now_ns() : 0;
  int rc = inner->vt->next(inner, ctx, out);
  if (ctx->analyze) __atomic_fetch_add(&op->plan->actual_ns, now_ns() - t0, __ATOMIC_RELAXED);
  if (rc == 0 && *out) {
    __atomic_fetch_add(&op->plan->actual_rows, (int64_t)(*out)->n_rows, __ATOMIC_RELAXED);
    __atomic_fetch_add(&op->plan->actual_batches, 1, __ATOMIC_RELAXED);
  }
  return rc;
}

static void meter_close(sql_op *op) {
  sql_op *inner = op->child[0];
  if (inner) inner->vt->close(inner);
}

static const sql_op_vtable meter_vt = {"meter", meter_open, meter_next, meter_close};

/* Resolves the correlated (outer) references inside expr's subqueries against the columns of
 * the batches expr is evaluated on. */
static int resolve_outer_list(sql_expr **es, size_t n, const sql_plan *input, tarn_error *err) {
  if (input == NULL) return 0;
  for (size_t i = 0; i < n; i++)
    if (es[i]) {
      int rc = sql_expr_resolve_outer(es[i], input->out_ids, input->n_out, err);
      if (rc) return rc;
    }
  return 0;
}

static int resolve_outer(sql_plan *p, tarn_error *err) {
  sql_plan *in = p->child[0];
  int rc = 0;
  if (p->kind == SQL_P_SCAN) {
    rc = resolve_outer_list(p->filters, p->n_filters, p, err);
  } else if (p->kind == SQL_P_FILTER) {
    rc = resolve_outer_list(&p->predicate, 1, in, err);
  } else if (p->kind == SQL_P_PROJECT || p->kind == SQL_P_UNNEST) {
    rc = resolve_outer_list(p->exprs, p->n_exprs, in, err);
  } else if (p->kind == SQL_P_AGG) {
    rc = resolve_outer_list(p->keys, p->n_keys, in, err);
    for (size_t i = 0; rc == 0 && i < p->n_aggs; i++) {
      rc = resolve_outer_list(p->aggs[i].args, p->aggs[i].n_args, in, err);
      if (rc == 0) rc = resolve_outer_list(&p->aggs[i].filter, 1, in, err);
    }
  }
  return rc;
}

int sql_exec_build(sql_exec_ctx *ctx, sql_plan *p, sql_op **out) {
  int rc = resolve_outer(p, ctx->err);
  if (rc) return rc;
  sql_op *inner = NULL;
  switch (p->kind) {
  case SQL_P_SCAN: rc = sql_op_scan(ctx, p, &inner); break;
  case SQL_P_VALUES: rc = sql_op_values(ctx, p, &inner); break;
  case SQL_P_FILTER: rc = sql_op_filter(ctx, p, &inner); break;
  case SQL_P_PROJECT: rc = sql_op_project(ctx, p, &inner); break;
  case SQL_P_AGG: rc = sql_op_agg(ctx, p, &inner); break;
  case SQL_P_JOIN: rc = sql_op_join(ctx, p, &inner); break;
  case SQL_P_SORT: rc = sql_op_sort(ctx, p, &inner); break;
  case SQL_P_LIMIT: rc = sql_op_limit(ctx, p, &inner); break;
  case SQL_P_SETOP: rc = sql_op_setop(ctx, p, &inner); break;
  case SQL_P_WINDOW: rc = sql_op_window(ctx, p, &inner); break;
  case SQL_P_DISTINCT: rc = sql_op_distinct(ctx, p, &inner); break;
  case SQL_P_CTE_SCAN: rc = sql_op_cte_scan(ctx, p, &inner); break;
  case SQL_P_GATHER: rc = sql_op_gather(ctx, p, &inner); break;
  case SQL_P_UNNEST: rc = sql_op_unnest(ctx, p, &inner); break;
  default: rc = tarn_err(ctx->err, TARN_EUNSUPPORTED, "plan node %d cannot run", (int)p->kind);
  }
  if (rc) return rc;
  sql_op *m = calloc(1, sizeof *m);
  if (m == NULL) {
    sql_op_free(inner);
    return tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
  }
  m->vt = &meter_vt;
  m->plan = p;
  m->child[0] = inner;
  *out = m;
  return 0;
}

/* Operators free their own state and children in close; this frees the (meter) wrapper and
 * whatever an operator allocated for itself. */
sql_op *sql_op_unmetered(sql_op *op) { return op && op->vt == &meter_vt ? op->child[0] : op; }

void sql_op_free(sql_op *op) {
  if (op == NULL) return;
  if (op->vt) op->vt->close(op);
  if (op->vt == &meter_vt) free(op->child[0]);
  free(op);
}

int sql_exec_run(sql_exec_ctx *ctx, sql_plan *plan, sql_batch_sink sink, void *arg) {
  sql_op *op = NULL;
  int rc = sql_exec_build(ctx, plan, &op);
  if (rc) return rc;
  rc = op->vt->open(op, ctx);
  while (rc == 0) {
    sql_batch *b = NULL;
    rc = op->vt->next(op, ctx, &b);
    if (rc || b == NULL) break;
    if (b->n_rows == 0) {
      sql_batch_free(b);
      continue;
    }
    rc = sink(arg, b, ctx->err);
  }
  sql_op_free(op);
  return rc;
}

/* Collects batches into one: appended column by column. */
typedef struct collector {
  sql_batch *all;
  uint32_t cap;
  const sql_plan *plan;
} collector;

static int collect_sink(void *arg, sql_batch *b, tarn_error *err) {
  collector *c = arg;
  int rc = 0;
  if (c->all == NULL) {
    rc = sql_batch_new(b->n_cols, 0, &c->all, err);
    for (uint32_t i = 0; rc == 0 && i < b->n_cols; i++)
      rc = sql_vec_init(c->all->mem, &c->all->cols[i], b->cols[i].type, 0, err);
    c->cap = 0;
  }
  uint32_t cap = c->cap;
  for (uint32_t i = 0; rc == 0 && i < b->n_cols; i++) {
    cap = c->cap;
    rc = sql_vec_append(c->all->mem, &c->all->cols[i], &cap, &b->cols[i], 0, b->n_rows, err);
  }
  if (rc == 0) {
    c->cap = cap;
    c->all->n_rows += b->n_rows;
  }
  sql_batch_free(b);
  return rc;
}

int sql_exec_collect(sql_exec_ctx *ctx, sql_plan *plan, sql_batch **out) {
  collector c = {.plan = plan};
  int rc = sql_exec_run(ctx, plan, collect_sink, &c);
  if (rc == 0 && c.all == NULL) {
    rc = sql_batch_new((uint32_t)plan->n_out, 0, &c.all, ctx->err);
    for (size_t i = 0; rc == 0 && i < plan->n_out; i++)
      rc = sql_vec_init(c.all->mem, &c.all->cols[i], plan->out_types[i], 0, ctx->err);
  }
  if (rc) {
    sql_batch_free(c.all);
    return rc;
  }
  *out = c.all;
  return 0;
}

/* Runs a subquery for the eval context's current outer row. */
static int run_subquery(sql_eval_ctx *ectx, sql_plan *plan, sql_batch **out) {
  sql_exec_ctx *parent = ectx->exec;
  sql_exec_ctx sub;
  memset(&sub, 0, sizeof sub);
  sub.err = parent->err;
  sub.now_micros = parent->now_micros;
  sub.n_threads = 1;
  sub.mem_limit = parent->mem_limit;
  sub.tmp_dir = parent->tmp_dir;
  sub.analyze = parent->analyze;
  sub.root = parent;
  sub.outer = ectx->outer;
  sub.outer_row = ectx->outer_row;
  return sql_exec_collect(&sub, plan, out);
}

void sql_exec_eval_ctx(sql_exec_ctx *ctx, sql_mem *mem, sql_eval_ctx *out) {
  memset(out, 0, sizeof *out);
  out->mem = mem;
  out->now_micros = ctx->now_micros;
  out->err = ctx->err;
  out->outer = ctx->outer;
  out->outer_row = ctx->outer_row;
  out->run_subquery = run_subquery;
  out->exec = ctx;
}

bool sql_exec_charge(sql_exec_ctx *ctx, int64_t bytes) {
  while (ctx->root)
    ctx = ctx->root;
  if (bytes <= 0) {
    atomic_fetch_add(&ctx->mem_used, bytes);
    return true;
  }
  int64_t after = atomic_fetch_add(&ctx->mem_used, bytes) + bytes;
  if (ctx->mem_limit > 0 && after > ctx->mem_limit) {
    atomic_fetch_sub(&ctx->mem_used, bytes);
    return false;
  }
  return true;
}
