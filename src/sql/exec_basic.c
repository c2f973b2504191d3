/*
 * The streaming operators: filter, project, values, limit, unnest and the CTE scan.
 *
 * None of these holds data across batches except the CTE scan, whose cache is the whole result
 * of the CTE's plan. That plan runs once per query however many times it is referenced: the
 * first reference to open materialises it with sql_exec_collect, later ones (on any thread) find
 * the batch in a small registry keyed by the CTE's plan node, and the last reference to close
 * frees it. Every output batch of these operators keeps its input's region alive as a parent, so
 * strings are never copied on the way up.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "sql/exec_util.h"

/* --- Filter ----------------------------------------------------------------------------------- */

typedef struct filter_state {
  uint32_t *sel;
  uint32_t cap;
} filter_state;

static int filter_open(sql_op *op, sql_exec_ctx *ctx) { return sql_xop_open_children(op, ctx); }

static int filter_next(sql_op *op, sql_exec_ctx *ctx, sql_batch **out) {
  filter_state *s = op->state;
  *out = NULL;
  for (;;) {
    sql_batch *in;
    int rc = op->child[0]->vt->next(op->child[0], ctx, &in);
    if (rc || !in) return rc;
    if (in->n_rows == 0) {
      sql_batch_free(in);
      continue;
    }
    void *sel = s->sel;
    rc = sql_grow(&sel, &s->cap, in->n_rows, sizeof(uint32_t), ctx->err);
    s->sel = sel;
    /* Intermediate vectors of the predicate die with this scratch region. */
    sql_mem *scratch = rc ? NULL : sql_mem_new();
    if (!rc && !scratch) rc = tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
    uint32_t n_sel = 0;
    if (!rc) {
      sql_eval_ctx ectx;
      sql_exec_eval_ctx(ctx, scratch, &ectx);
      rc = sql_expr_select(&ectx, op->plan->predicate, in, s->sel, &n_sel);
    }
    if (scratch) sql_mem_release(scratch);
    if (rc || n_sel == 0) {
      sql_batch_free(in);
      if (rc) return rc;
      continue;
    }
    if (n_sel == in->n_rows) {
      *out = in;
      return 0;
    }
    rc = sql_batch_select(in, s->sel, n_sel, out, ctx->err);
    sql_batch_free(in);
    return rc;
  }
}

static void filter_close(sql_op *op) {
  filter_state *s = op->state;
  if (!s) return;
  sql_xop_close_children(op);
  free(s->sel);
  free(s);
  op->state = NULL;
}

static const sql_op_vtable filter_vt = {"filter", filter_open, filter_next, filter_close};

int sql_op_filter(sql_exec_ctx *ctx, sql_plan *p, sql_op **out) {
  int rc = sql_xop_new(ctx, p, &filter_vt, sizeof(filter_state), 1, out);
  if (rc) return rc;
  rc = sql_resolve_all(&p->predicate, 1, p->child[0], ctx->err);
  return rc ? sql_xop_fail(*out, rc) : 0;
}

/* --- Project ---------------------------------------------------------------------------------- */

typedef struct project_state {
  int unused;
} project_state;

static int project_next(sql_op *op, sql_exec_ctx *ctx, sql_batch **out) {
  *out = NULL;
  for (;;) {
    sql_batch *in;
    int rc = op->child[0]->vt->next(op->child[0], ctx, &in);
    if (rc || !in) return rc;
    if (in->n_rows == 0) {
      sql_batch_free(in);
      continue;
    }
    sql_plan *p = op->plan;
    sql_batch *b = NULL;
    rc = sql_batch_new((uint32_t)p->n_exprs, in->n_rows, &b, ctx->err);
    /* Results may share the input's buffers (a bare column reference, a substring). */
    if (!rc && sql_mem_add_parent(b->mem, in->mem))
      rc = tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
    if (!rc) rc = sql_eval_all(ctx, b->mem, p->exprs, p->n_exprs, in, b->cols);
    sql_batch_free(in);
    if (rc) {
      sql_batch_free(b);
      return rc;
    }
    *out = b;
    return 0;
  }
}

static void project_close(sql_op *op) {
  if (!op->state) return;
  sql_xop_close_children(op);
  free(op->state);
  op->state = NULL;
}

static const sql_op_vtable project_vt = {"project", filter_open, project_next, project_close};

int sql_op_project(sql_exec_ctx *ctx, sql_plan *p, sql_op **out) {
  int rc = sql_xop_new(ctx, p, &project_vt, sizeof(project_state), 1, out);
  if (rc) return rc;
  rc = sql_resolve_all(p->exprs, p->n_exprs, p->child[0], ctx->err);
  return rc ? sql_xop_fail(*out, rc) : 0;
}

/* --- Values ----------------------------------------------------------------------------------- */

typedef struct values_state {
  size_t pos; /* next row to produce */
} values_state;

static int values_open(sql_op *op, sql_exec_ctx *ctx) {
  (void)ctx;
  ((values_state *)op->state)->pos = 0;
  return 0;
}

/* Evaluates rows [from, from + n) into b's columns. Each expression is evaluated over a one-row
 * batch without columns, so volatile functions (random()) get a value per row. */
static int values_fill(sql_op *op, sql_exec_ctx *ctx, size_t from, uint32_t n, sql_batch *b) {
  sql_plan *p = op->plan;
  sql_batch *dummy = NULL;
  sql_mem *scratch = sql_mem_new();
  uint32_t *caps = calloc(p->n_out ? p->n_out : 1, sizeof *caps);
  int rc = 0;
  if (!scratch || !caps) rc = tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
  if (!rc) rc = sql_batch_new(0, 1, &dummy, ctx->err);
  for (size_t c = 0; !rc && c < p->n_out; c++)
    rc = sql_vec_init(b->mem, &b->cols[c], p->out_types[c], 0, ctx->err);
  sql_eval_ctx ectx;
  sql_exec_eval_ctx(ctx, scratch, &ectx);
  for (uint32_t r = 0; !rc && r < n; r++) {
    for (size_t c = 0; !rc && c < p->n_out; c++) {
      const sql_expr *e = p->rows[(from + r) * p->n_out + c];
      sql_vec v, cast;
      rc = sql_expr_eval(&ectx, e, dummy, &v);
      /* NULL literals append as NULLs of any type; other mismatches are cast. */
      if (!rc && v.type->id != SQL_NULL && !sql_type_equal(v.type, p->out_types[c])) {
        rc = sql_cast_vec(&ectx, &v, p->out_types[c], false, &cast);
        v = cast;
      }
      if (!rc) rc = sql_vec_append(b->mem, &b->cols[c], &caps[c], &v, 0, 1, ctx->err);
    }
  }
  free(caps);
  sql_batch_free(dummy);
  if (scratch) sql_mem_release(scratch);
  return rc;
}

static int values_next(sql_op *op, sql_exec_ctx *ctx, sql_batch **out) {
  values_state *s = op->state;
  sql_plan *p = op->plan;
  *out = NULL;
  if (s->pos >= p->n_rows) return 0;
  size_t left = p->n_rows - s->pos;
  uint32_t n = left > SQL_BATCH_ROWS ? SQL_BATCH_ROWS : (uint32_t)left;
  sql_batch *b;
  int rc = sql_batch_new((uint32_t)p->n_out, n, &b, ctx->err);
  if (rc) return rc;
  rc = values_fill(op, ctx, s->pos, n, b);
  if (rc) {
    sql_batch_free(b);
    return rc;
  }
  b->n_rows = n;
  s->pos += n;
  *out = b;
  return 0;
}

static void values_close(sql_op *op) {
  free(op->state);
  op->state = NULL;
}

static const sql_op_vtable values_vt = {"values", values_open, values_next, values_close};

int sql_op_values(sql_exec_ctx *ctx, sql_plan *p, sql_op **out) {
  return sql_xop_new(ctx, p, &values_vt, sizeof(values_state), 0, out);
}

/* --- Limit ------------------------------------------------------------------------------------ */

typedef struct limit_state {
  int64_t skip; /* offset rows still to drop */
  int64_t left; /* rows still to pass; -1: no limit */
} limit_state;

static int limit_open(sql_op *op, sql_exec_ctx *ctx) {
  limit_state *s = op->state;
  s->skip = op->plan->offset > 0 ? op->plan->offset : 0;
  s->left = op->plan->limit;
  return sql_xop_open_children(op, ctx);
}

static int limit_next(sql_op *op, sql_exec_ctx *ctx, sql_batch **out) {
  limit_state *s = op->state;
  *out = NULL;
  while (s->left != 0) { /* once the limit is reached the child is not pulled again */
    sql_batch *in;
    int rc = op->child[0]->vt->next(op->child[0], ctx, &in);
    if (rc || !in) return rc;
    uint32_t n = in->n_rows, start = 0;
    if (s->skip > 0) {
      start = s->skip >= n ? n : (uint32_t)s->skip;
      s->skip -= start;
    }
    uint32_t take = n - start;
    if (s->left >= 0 && take > s->left) take = (uint32_t)s->left;
    if (take == 0) {
      sql_batch_free(in);
      continue;
    }
    if (s->left > 0) s->left -= take;
    if (start == 0 && take == n) {
      *out = in;
      return 0;
    }
    rc = sql_batch_slice(in, start, take, out, ctx->err);
    sql_batch_free(in);
    return rc;
  }
  return 0;
}

static void limit_close(sql_op *op) {
  if (!op->state) return;
  sql_xop_close_children(op);
  free(op->state);
  op->state = NULL;
}

static const sql_op_vtable limit_vt = {"limit", limit_open, limit_next, limit_close};

int sql_op_limit(sql_exec_ctx *ctx, sql_plan *p, sql_op **out) {
  return sql_xop_new(ctx, p, &limit_vt, sizeof(limit_state), 1, out);
}

/* --- Unnest ----------------------------------------------------------------------------------- */

typedef struct unnest_state {
  sql_batch *in;  /* current input batch */
  sql_mem *evmem; /* region of the evaluated list vector */
  sql_vec list;
  uint32_t row; /* next input row */
  int64_t elem; /* next element of that row (absolute index into list.child) */
  uint32_t rows[SQL_BATCH_ROWS], elems[SQL_BATCH_ROWS];
} unnest_state;

static void unnest_drop_input(unnest_state *s) {
  sql_batch_free(s->in);
  s->in = NULL;
  if (s->evmem) sql_mem_release(s->evmem);
  s->evmem = NULL;
}

static int unnest_next(sql_op *op, sql_exec_ctx *ctx, sql_batch **out) {
  unnest_state *s = op->state;
  sql_plan *p = op->plan;
  sql_plan *cp = p->child[0];
  *out = NULL;
  for (;;) {
    if (!s->in) {
      sql_batch *in;
      int rc = op->child[0]->vt->next(op->child[0], ctx, &in);
      if (rc || !in) return rc;
      s->in = in;
      s->evmem = sql_mem_new();
      if (!s->evmem) return tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
      rc = sql_eval_all(ctx, s->evmem, p->exprs, 1, in, &s->list);
      if (rc) return rc;
      if (sql_type_phys(s->list.type->id) != SQL_PHYS_LIST)
        return tarn_err(ctx->err, TARN_EINVAL, "unnest() needs an array argument");
      s->row = 0;
      s->elem = -1;
    }
    uint32_t n = 0;
    while (n < SQL_BATCH_ROWS && s->row < s->in->n_rows) {
      uint32_t r = s->row;
      if (SQL_VEC_IS_NULL(&s->list, r)) {
        s->row++;
        s->elem = -1;
        continue;
      }
      if (s->elem < 0) s->elem = s->list.offsets[r];
      int64_t end = s->list.offsets[r + 1];
      while (n < SQL_BATCH_ROWS && s->elem < end) {
        s->rows[n] = r;
        s->elems[n] = (uint32_t)s->elem++;
        n++;
      }
      if (s->elem >= end) {
        s->row++;
        s->elem = -1;
      }
    }
    if (n == 0) {
      unnest_drop_input(s);
      continue;
    }
    sql_batch *b;
    int rc = sql_batch_new((uint32_t)p->n_out, n, &b, ctx->err);
    if (rc) return rc;
    if (sql_mem_add_parent(b->mem, s->in->mem) || sql_mem_add_parent(b->mem, s->evmem))
      rc = tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
    for (size_t c = 0; !rc && c < cp->n_out; c++)
      rc = sql_vec_gather(b->mem, &s->in->cols[c], s->rows, n, &b->cols[c], ctx->err);
    if (!rc) rc = sql_vec_gather(b->mem, s->list.child, s->elems, n, &b->cols[cp->n_out], ctx->err);
    if (rc) {
      sql_batch_free(b);
      return rc;
    }
    if (s->row >= s->in->n_rows) unnest_drop_input(s);
    *out = b;
    return 0;
  }
}

static void unnest_close(sql_op *op) {
  unnest_state *s = op->state;
  if (!s) return;
  sql_xop_close_children(op);
  unnest_drop_input(s);
  free(s);
  op->state = NULL;
}

static const sql_op_vtable unnest_vt = {"unnest", filter_open, unnest_next, unnest_close};

int sql_op_unnest(sql_exec_ctx *ctx, sql_plan *p, sql_op **out) {
  int rc = sql_xop_new(ctx, p, &unnest_vt, sizeof(unnest_state), 1, out);
  if (rc) return rc;
  if (p->n_exprs < 1 || p->n_out != p->child[0]->n_out + 1)
    return sql_xop_fail(*out, tarn_err(ctx->err, TARN_EINVAL,
                                       "internal error: unnest needs one list expression and "
                                       "the input's columns plus one"));
  rc = sql_resolve_all(p->exprs, 1, p->child[0], ctx->err);
  return rc ? sql_xop_fail(*out, rc) : 0;
}

/* --- CTE scan --------------------------------------------------------------------------------- */

/* One materialised CTE, shared by every operator that reads it. */
typedef struct cte_cache {
  sql_plan *cte;
  pthread_mutex_t lock; /* held while the CTE runs: other readers wait for its result */
  bool done;
  int rc;           /* the materialisation's result, replayed to later readers */
  sql_batch *batch; /* all rows (NULL: none) */
  int refs;         /* operators referring to it */
  struct cte_cache *next;
} cte_cache;

static pthread_mutex_t cte_registry_lock = PTHREAD_MUTEX_INITIALIZER;
static cte_cache *cte_registry;

static cte_cache *cte_acquire(sql_plan *cte) {
  pthread_mutex_lock(&cte_registry_lock);
  cte_cache *c = cte_registry;
  while (c && c->cte != cte)
    c = c->next;
  if (!c && (c = calloc(1, sizeof *c)) != NULL) {
    c->cte = cte;
    pthread_mutex_init(&c->lock, NULL);
    c->next = cte_registry;
    cte_registry = c;
  }
  if (c) c->refs++;
  pthread_mutex_unlock(&cte_registry_lock);
  return c;
}

static void cte_release(cte_cache *c) {
  pthread_mutex_lock(&cte_registry_lock);
  if (--c->refs == 0) {
    cte_cache **pp = &cte_registry;
    while (*pp != c)
      pp = &(*pp)->next;
    *pp = c->next;
    sql_batch_free(c->batch);
    pthread_mutex_destroy(&c->lock);
    free(c);
  }
  pthread_mutex_unlock(&cte_registry_lock);
}

typedef struct cte_state {
  cte_cache *cache;
  size_t *map; /* out column i = column map[i] of the CTE's output */
  uint32_t pos;
} cte_state;

static int cte_open(sql_op *op, sql_exec_ctx *ctx) {
  cte_state *s = op->state;
  cte_cache *c = s->cache;
  s->pos = 0;
  pthread_mutex_lock(&c->lock);
  if (!c->done) {
    c->rc = sql_exec_collect(ctx, c->cte, &c->batch);
    c->done = true;
  }
  int rc = c->rc;
  pthread_mutex_unlock(&c->lock);
  if (rc && ctx->err && ctx->err->code == 0)
    rc = tarn_err(ctx->err, rc, "the WITH query failed earlier in this statement");
  return rc;
}

static int cte_next(sql_op *op, sql_exec_ctx *ctx, sql_batch **out) {
  cte_state *s = op->state;
  sql_batch *all = s->cache->batch;
  *out = NULL;
  if (!all || s->pos >= all->n_rows) return 0;
  uint32_t n = all->n_rows - s->pos;
  if (n > SQL_BATCH_ROWS) n = SQL_BATCH_ROWS;
  sql_batch *slice, *b = NULL;
  int rc = sql_batch_slice(all, s->pos, n, &slice, ctx->err);
  if (rc) return rc;
  rc = sql_batch_new((uint32_t)op->plan->n_out, n, &b, ctx->err);
  if (!rc && sql_mem_add_parent(b->mem, slice->mem))
    rc = tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
  if (!rc)
    for (size_t i = 0; i < op->plan->n_out; i++)
      b->cols[i] = slice->cols[s->map[i]];
  sql_batch_free(slice);
  if (rc) {
    sql_batch_free(b);
    return rc;
  }
  s->pos += n;
  *out = b;
  return 0;
}

static void cte_close(sql_op *op) {
  cte_state *s = op->state;
  if (!s) return;
  if (s->cache) cte_release(s->cache);
  free(s->map);
  free(s);
  op->state = NULL;
}

static const sql_op_vtable cte_vt = {"cte_scan", cte_open, cte_next, cte_close};

int sql_op_cte_scan(sql_exec_ctx *ctx, sql_plan *p, sql_op **out) {
  int rc = sql_xop_new(ctx, p, &cte_vt, sizeof(cte_state), 0, out);
  if (rc) return rc;
  cte_state *s = (*out)->state;
  if (!p->cte)
    return sql_xop_fail(*out,
                        tarn_err(ctx->err, TARN_EINVAL, "internal error: CTE scan without a plan"));
  s->map = calloc(p->n_out ? p->n_out : 1, sizeof *s->map);
  s->cache = cte_acquire(p->cte);
  if (!s->map || !s->cache)
    return sql_xop_fail(*out, tarn_err(ctx->err, TARN_ENOMEM, "out of memory"));
  for (size_t i = 0; i < p->n_out; i++) {
    size_t j = i;
    if (p->cte_ids) {
      for (j = 0; j < p->cte->n_out && p->cte->out_ids[j] != p->cte_ids[i]; j++) {
      }
    }
    if (j >= p->cte->n_out)
      return sql_xop_fail(*out, tarn_err(ctx->err, TARN_EINVAL,
                                         "internal error: CTE column #%d not found",
                                         p->cte_ids ? p->cte_ids[i] : (int)i));
    s->map[i] = j;
  }
  return 0;
}
