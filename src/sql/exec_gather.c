/*
 * GATHER: runs its subtree on several threads and merges their batches into one stream.
 *
 * Each worker gets its own operator tree built from the same plan, and every scan in those trees
 * takes row-group morsels from one shared queue, so the workers divide the data between them
 * without any partitioning step. Hash joins in the subtree (plan->shared_build) are the exception:
 * only their probe side is divided; the build side is run once into one table that every
 * worker's copy of the join probes (exec_join.c). Batches go through a small bounded queue: workers
 * block when the consumer falls behind, which bounds memory to a few batches per worker. The first
 * error in any worker cancels the others and is reported by the gather.
 *
 * The consumer is itself worker 0: when the queue is empty it runs its own copy of the subtree for
 * a batch instead of waiting, so a gather of n workers starts n - 1 threads. The threads a query
 * runs then match its worker count even when gathers nest (a shared build below a gather has a
 * gather of its own), rather than idle consumers holding cores' worth of threads that take turns.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "sql/exec.h"

typedef struct gather_state gather_state;

typedef struct worker {
  gather_state *g;
  sql_exec_ctx ctx;
  tarn_error err;
  sql_op *tree;
  pthread_t tid;
  bool started;
} worker;

struct gather_state {
  sql_plan *p;
  int n;
  worker *workers;
  sql_morsel_queue **queues; /* one per scan below */
  size_t n_queues;
  pthread_mutex_t mu;
  pthread_cond_t not_empty, not_full;
  sql_batch **ring;
  size_t cap, head, count;
  int running;
  bool inline_active; /* worker 0, run by the consumer, has more batches */
  bool stop;
  int rc;
  tarn_error err;
  sql_exec_ctx *ctx;
};

static int attach_queues(gather_state *g, sql_plan *p, tarn_error *err) {
  if (p == NULL) return 0;
  if (p->kind == SQL_P_SCAN) {
    sql_morsel_queue *q = sql_morsel_queue_new();
    sql_morsel_queue **qs = realloc(g->queues, (g->n_queues + 1) * sizeof *qs);
    if (q == NULL || qs == NULL) {
      sql_morsel_queue_free(q);
      if (qs) g->queues = qs;
      return tarn_err(err, TARN_ENOMEM, "out of memory");
    }
    g->queues = qs;
    g->queues[g->n_queues++] = q;
    p->morsels = q;
    return 0;
  }
  if (p->kind == SQL_P_GATHER) return 0;
  /* A shared-build join's build child runs once for all workers, in a tree of its own: its
   * scans must read everything, not take morsels from this gather. */
  if (p->kind == SQL_P_JOIN && p->shared_build)
    return attach_queues(g, p->child[p->build_left ? 1 : 0], err);
  int rc = attach_queues(g, p->child[0], err);
  if (rc == 0) rc = attach_queues(g, p->child[1], err);
  return rc;
}

static void detach_queues(sql_plan *p) {
  if (p == NULL) return;
  if (p->kind == SQL_P_SCAN) p->morsels = NULL;
  if (p->kind == SQL_P_GATHER) return;
  if (p->kind == SQL_P_JOIN && p->shared_build) {
    detach_queues(p->child[p->build_left ? 1 : 0]);
    return;
  }
  detach_queues(p->child[0]);
  detach_queues(p->child[1]);
}

/* Records the first error (of any worker) and stops the others. Called with g->mu held. */
static void fail_locked(gather_state *g, int rc, const tarn_error *err) {
  if (g->rc) return;
  g->rc = rc;
  g->err = *err;
  g->stop = true;
  atomic_store(&g->ctx->cancelled, 1);
  pthread_cond_broadcast(&g->not_full);
  pthread_cond_broadcast(&g->not_empty);
}

static void *worker_main(void *arg) {
  worker *w = arg;
  gather_state *g = w->g;
  int rc = w->tree->vt->open(w->tree, &w->ctx);
  while (rc == 0) {
    sql_batch *b = NULL;
    rc = w->tree->vt->next(w->tree, &w->ctx, &b);
    if (rc || b == NULL) break;
    pthread_mutex_lock(&g->mu);
    while (g->count == g->cap && !g->stop)
      pthread_cond_wait(&g->not_full, &g->mu);
    if (g->stop) {
      pthread_mutex_unlock(&g->mu);
      sql_batch_free(b);
      break;
    }
    g->ring[(g->head + g->count) % g->cap] = b;
    g->count++;
    pthread_cond_signal(&g->not_empty);
    pthread_mutex_unlock(&g->mu);
  }
  pthread_mutex_lock(&g->mu);
  if (rc) fail_locked(g, rc, &w->err);
  g->running--;
  pthread_cond_broadcast(&g->not_empty);
  pthread_mutex_unlock(&g->mu);
  return NULL;
}

static int gather_open(sql_op *op, sql_exec_ctx *ctx) {
  gather_state *g = op->state;
  worker *w0 = &g->workers[0];
  int rc = w0->tree->vt->open(w0->tree, &w0->ctx);
  if (rc) {
    if (ctx->err && ctx->err->code == 0) *ctx->err = w0->err;
    return rc;
  }
  g->inline_active = true;
  for (int i = 1; i < g->n; i++) {
    worker *w = &g->workers[i];
    pthread_mutex_lock(&g->mu);
    g->running++;
    pthread_mutex_unlock(&g->mu);
    if (pthread_create(&w->tid, NULL, worker_main, w) != 0) {
      pthread_mutex_lock(&g->mu);
      g->running--;
      pthread_mutex_unlock(&g->mu);
      return tarn_err(ctx->err, TARN_ENOMEM, "cannot start a worker thread");
    }
    w->started = true;
  }
  return 0;
}

static int gather_next(sql_op *op, sql_exec_ctx *ctx, sql_batch **out) {
  gather_state *g = op->state;
  *out = NULL;
  int rc = 0;
  pthread_mutex_lock(&g->mu);
  for (;;) {
    if ((rc = g->rc) != 0) break;
    if (g->count > 0) {
      *out = g->ring[g->head];
      g->head = (g->head + 1) % g->cap;
      g->count--;
      pthread_cond_signal(&g->not_full);
      break;
    }
    if (g->inline_active) {
      /* Nothing queued: produce a batch here rather than wait. */
      pthread_mutex_unlock(&g->mu);
      worker *w0 = &g->workers[0];
      sql_batch *b = NULL;
      int wrc = w0->tree->vt->next(w0->tree, &w0->ctx, &b);
      pthread_mutex_lock(&g->mu);
      if (wrc) {
        fail_locked(g, wrc, &w0->err);
        continue;
      }
      if (b) {
        *out = b;
        break;
      }
      g->inline_active = false;
      continue;
    }
    if (g->running == 0) break;
    pthread_cond_wait(&g->not_empty, &g->mu);
  }
  pthread_mutex_unlock(&g->mu);
  if (rc) {
    sql_batch_free(*out);
    *out = NULL;
    if (ctx->err && ctx->err->code == 0) *ctx->err = g->err;
    return rc;
  }
  return 0;
}

static void gather_close(sql_op *op) {
  gather_state *g = op->state;
  if (g == NULL) return;
  pthread_mutex_lock(&g->mu);
  g->stop = true;
  pthread_cond_broadcast(&g->not_full);
  pthread_mutex_unlock(&g->mu);
  for (int i = 0; i < g->n; i++) {
    worker *w = &g->workers[i];
    if (w->started) pthread_join(w->tid, NULL);
    sql_op_free(w->tree);
  }
  while (g->count > 0) {
    sql_batch_free(g->ring[g->head]);
    g->head = (g->head + 1) % g->cap;
    g->count--;
  }
  detach_queues(g->p->child[0]);
  for (size_t i = 0; i < g->n_queues; i++)
    sql_morsel_queue_free(g->queues[i]);
  free(g->queues);
  free(g->ring);
  free(g->workers);
  pthread_mutex_destroy(&g->mu);
  pthread_cond_destroy(&g->not_empty);
  pthread_cond_destroy(&g->not_full);
  free(g);
  op->state = NULL;
}

static const sql_op_vtable gather_vt = {"gather", gather_open, gather_next, gather_close};

int sql_op_gather(sql_exec_ctx *ctx, sql_plan *p, sql_op **out) {
  sql_op *op = calloc(1, sizeof *op);
  gather_state *g = calloc(1, sizeof *g);
  int n = p->n_workers > 0 ? p->n_workers : 1;
  if (op == NULL || g == NULL) {
    free(op);
    free(g);
    return tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
  }
  op->vt = &gather_vt;
  op->plan = p;
  op->state = g;
  g->p = p;
  g->n = n;
  g->ctx = ctx;
  while (g->ctx->root)
    g->ctx = g->ctx->root;
  pthread_mutex_init(&g->mu, NULL);
  pthread_cond_init(&g->not_empty, NULL);
  pthread_cond_init(&g->not_full, NULL);
  g->cap = (size_t)n * 4;
  g->ring = calloc(g->cap, sizeof *g->ring);
  g->workers = calloc((size_t)n, sizeof *g->workers);
  int rc = g->ring && g->workers ? 0 : tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
  if (rc == 0) rc = attach_queues(g, p->child[0], ctx->err);
  for (int i = 0; rc == 0 && i < n; i++) {
    worker *w = &g->workers[i];
    w->g = g;
    memset(&w->ctx, 0, sizeof w->ctx);
    w->ctx.err = &w->err;
    w->ctx.now_micros = ctx->now_micros;
    w->ctx.n_threads = 1;
    w->ctx.mem_limit = ctx->mem_limit;
    w->ctx.tmp_dir = ctx->tmp_dir;
    w->ctx.analyze = ctx->analyze;
    w->ctx.root = ctx;
    w->ctx.outer = ctx->outer;
    w->ctx.outer_row = ctx->outer_row;
    rc = sql_exec_build(&w->ctx, p->child[0], &w->tree);
    if (rc) *ctx->err = w->err;
  }
  if (rc) {
    gather_close(op);
    free(op);
    return rc;
  }
  *out = op;
  return 0;
}
