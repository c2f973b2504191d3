/*
 * Joins: a hash join when the optimizer found equi-join keys, a nested loop otherwise.
 *
 * The build side (the right child, or the left one when plan->build_left) is read completely
 * into a row store; with keys, each row's key goes into the key hash table and rows of one key
 * are listed together: once the build input ends, a counting sort by group number gives every
 * group a contiguous range of row numbers (gstart/grows), so a probe reads one range instead of
 * chasing a chain through memory; with unique keys (the usual primary-key join) the range is
 * simply the group number. Rows whose key has a NULL never match and are in no range, but stay
 * in the store for outer and anti joins; when, moreover, every row has a key (dense), group g is
 * row g and the probe needs no range at all. The probe side then streams: per batch the keys are
 * made and looked up once, and matching (probe row, build row) pairs are gathered into candidate
 * batches of at most SQL_BATCH_ROWS rows; a long chain simply continues in the next call. A
 * candidate batch that takes every probe row once, in order (a foreign key meeting its primary
 * key), shares the probe batch's columns instead of copying them. For the nested loop every build
 * row is a candidate.
 *
 * Keys that are all integer-like columns (physical type I64: integers, dates, timestamps; the
 * usual join on ids) skip the byte encoding of keys.h: sql_keys_ints reads their int64 values in
 * place and the key table holds them as integers (exec_util.h). Both sides' keys have one type,
 * so the choice, made once per join from the key types, holds for both. A NULL in a key leaves
 * the row out of the table or the lookup either way, so NULL semantics do not depend on it.
 *
 * A residual predicate (the rest of the ON clause) is evaluated on the candidate batch, whose
 * columns are left then right as in the output. Under SQL's ON semantics it decides what
 * "matched" means for outer, semi and anti joins; matches are recorded per probe row (for the
 * probe side's unmatched rows, emitted after each probe batch) and per build row (emitted with
 * NULLs for the probe side after the probe input ends).
 *
 * Under a GATHER (plan->shared_build), every worker runs a copy of the join over its share of the
 * probe side, and the copies probe one table: the first copy to start builds it from an operator
 * tree of its own for the build child (whose scans therefore read all of their input), the others
 * wait for it, and from then on the table is only read. Only joins whose build side keeps no
 * per-row state qualify (the optimizer picks them), so the copies share nothing they write.
 *
 * NOT IN (null_aware anti join): a NULL key on the subquery's side makes every comparison
 * unknown, so the join produces nothing; a NULL key on the outer side excludes that row, unless
 * the subquery produced no rows at all.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "sql/exec_util.h"

enum { PHASE_BUILD, PHASE_PROBE, PHASE_FINISH, PHASE_DONE };

/* What the build side leaves behind: its rows, the key table and the rows of each group. */
typedef struct join_table {
  sql_rows build;
  sql_ktab kt;
  uint32_t *bgid; /* per build row: its group (SQL_NONE: NULL key) */
  uint32_t bgid_cap;
  uint32_t *gstart; /* group g's rows: grows[gstart[g] .. gstart[g + 1]) */
  uint32_t *grows;
  bool unique;       /* one row per group: group g's row is grows[g] */
  bool dense;        /* unique, and every row has a key: group g's row is g itself */
  uint8_t *bmatched; /* per build row (never in a shared table: probes only read it) */
  uint8_t *bnull;    /* per build row: its key has a NULL (null-aware anti only) */
  uint32_t bmcap;
  bool build_null_key; /* some build key has a NULL */
  int64_t charged;     /* bytes charged to the query for all of the above */
} join_table;

/* One table for every copy of a shared-build join (plan->shared_build) that a gather's workers
 * run. The first copy to need it builds it while holding lock, so the others wait for a complete
 * table, and from then on it is only read. The build's result (and error) is kept for the copies
 * that come later, so every worker fails with the same error. */
typedef struct sql_join_shared {
  pthread_mutex_t lock;
  bool done;
  int rc;
  tarn_error err;
  join_table t;
  sql_exec_ctx *root; /* the query's context: where the table's memory is returned */
  int refs;           /* operators using it (guarded by shared_refs_lock) */
} sql_join_shared;

/* Guards plan->join_shared and refs: the copies attach and detach from different threads. */
static pthread_mutex_t shared_refs_lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct join_state {
  sql_exec_ctx *ctx;
  int phase;
  int build_side; /* 0: left child, 1: right */
  sql_join_kind kind;
  bool hash;
  bool int_keys; /* the keys are integers (sql_keys_ints), and so is the table */
  sql_expr **build_keys, **probe_keys;
  size_t n_keys;
  sql_expr *cond;   /* residual (hash) or condition (nested loop); NULL: every pair matches */
  bool probe_outer; /* emit unmatched probe rows with NULLs */
  bool build_outer; /* emit unmatched build rows with NULLs */
  bool semi_probe;  /* SEMI/ANTI whose output side is the probe side */
  bool semi_build;  /* SEMI/ANTI whose output side is the build side */
  bool anti;
  bool null_aware;
  const sql_type **ltypes, **rtypes;
  uint32_t n_left, n_right;
  uint32_t n_out;    /* output columns: a subset of left then right (plan keep_ids) */
  uint32_t *out_src; /* output column k is column out_src[k] of left then right */

  join_table own;
  join_table *t;           /* &own, or the table a gather's workers share */
  sql_join_shared *shared; /* non-NULL: t belongs to it and is read-only once built */
  bool probe_null_key;     /* some probe key has a NULL */
  bool probe_any;          /* the probe side produced a row */

  sql_batch *pb; /* current probe batch */
  sql_mem *pmem;
  uint32_t *pgid;
  uint8_t *pnull;
  uint8_t *pmatched;
  uint32_t *psel;
  uint32_t pcap;
  uint32_t prow, pchain;
  bool pdone;
  uint32_t finish_pos;

  uint32_t pair_p[SQL_BATCH_ROWS], pair_b[SQL_BATCH_ROWS], sel[SQL_BATCH_ROWS];
} join_state;

/* --- Output batches --------------------------------------------------------------------------- */

/* Whether sel takes every row of a side of src_rows rows, in order: its columns can then be
 * shared instead of copied (the caller keeps their region alive). */
static bool takes_all(const sql_vec *src, uint32_t src_rows, const uint32_t *sel, uint32_t n) {
  bool all = sel && src && n == src_rows;
  for (uint32_t i = 0; all && i < n; i++)
    all = sel[i] == i;
  return all;
}

/* A column of one side: from src (rows sel[i], SQL_NONE giving NULL; sel NULL: all NULL). */
static int side_col(sql_mem *m, const sql_vec *src, const sql_type *type, const uint32_t *sel,
                    uint32_t n, bool all, sql_vec *out, tarn_error *err) {
  if (all) {
    *out = *src;
    return 0;
  }
  if (sel && src) return sql_gather_nullable(m, src, sel, n, out, err);
  return sql_vec_all_null(m, type, n, out, err);
}

/* A batch of n rows from probe rows psel and build rows bsel (either NULL: that side all NULL):
 * the join's output columns, or with `both` every column of left then right, even for SEMI /
 * ANTI (a candidate batch for the residual, whose column slots are resolved that way). */
static int join_batch(join_state *s, sql_exec_ctx *ctx, const uint32_t *psel, const uint32_t *bsel,
                      uint32_t n, bool both, sql_batch **out) {
  uint32_t n_cols = both ? s->n_left + s->n_right : s->n_out;
  sql_batch *b;
  int rc = sql_batch_new(n_cols, n, &b, ctx->err);
  if (rc) return rc;
  if ((s->pb && sql_mem_add_parent(b->mem, s->pb->mem)) ||
      sql_mem_add_parent(b->mem, s->t->build.mem))
    rc = tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
  const sql_vec *pcols = s->pb ? s->pb->cols : NULL;
  const uint32_t *lsel = s->build_side == 0 ? bsel : psel;
  const uint32_t *rsel = s->build_side == 0 ? psel : bsel;
  const sql_vec *lsrc = s->build_side == 0 ? s->t->build.cols : pcols;
  const sql_vec *rsrc = s->build_side == 0 ? pcols : s->t->build.cols;
  uint32_t prows = s->pb ? s->pb->n_rows : 0;
  bool lall = takes_all(lsrc, s->build_side == 0 ? s->t->build.n : prows, lsel, n);
  bool rall = takes_all(rsrc, s->build_side == 0 ? prows : s->t->build.n, rsel, n);
  for (uint32_t k = 0; !rc && k < n_cols; k++) {
    uint32_t c = both ? k : s->out_src[k];
    if (c < s->n_left)
      rc = side_col(b->mem, lsrc ? &lsrc[c] : NULL, s->ltypes[c], lsel, n, lall, &b->cols[k],
                    ctx->err);
    else
      rc = side_col(b->mem, rsrc ? &rsrc[c - s->n_left] : NULL, s->rtypes[c - s->n_left], rsel, n,
                    rall, &b->cols[k], ctx->err);
  }
  if (rc) {
    sql_batch_free(b);
    return rc;
  }
  *out = b;
  return 0;
}

/* Rows sel[0..m) (all when m is every row and sel NULL) of a candidate batch (every column of
 * left then right) as an output batch (the join's output columns). */
static int cand_to_out(join_state *s, sql_exec_ctx *ctx, const sql_batch *cand, const uint32_t *sel,
                       uint32_t m, sql_batch **out) {
  sql_batch *v;
  int rc = sql_batch_new(s->n_out, cand->n_rows, &v, ctx->err);
  if (rc) return rc;
  if (sql_mem_add_parent(v->mem, cand->mem)) {
    sql_batch_free(v);
    return tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
  }
  for (uint32_t k = 0; k < s->n_out; k++)
    v->cols[k] = cand->cols[s->out_src[k]];
  if (!sel || m == cand->n_rows) {
    *out = v;
    return 0;
  }
  rc = sql_batch_select(v, sel, m, out, ctx->err);
  sql_batch_free(v);
  return rc;
}

/* --- Build ------------------------------------------------------------------------------------ */

static int join_account(join_state *s, sql_exec_ctx *ctx) {
  int64_t total = (int64_t)(sql_rows_bytes(&s->t->build) + sql_ktab_bytes(&s->t->kt)) +
                  (int64_t)s->t->bgid_cap * 4 + s->t->bmcap * 2;
  if (total <= s->t->charged) return 0;
  int rc = sql_charge_or_fail(ctx, total - s->t->charged, "the hash join's build side");
  if (!rc) s->t->charged = total;
  return rc;
}

/* The keys of batch b (exprs evaluated in mem): integers when the join's keys allow, else
 * bytes, the form the table holds. */
static int eval_keys(join_state *s, sql_exec_ctx *ctx, sql_mem *mem, sql_expr **exprs,
                     const sql_batch *b, sql_keys *keys) {
  sql_vec *kv = sql_mem_alloc(mem, s->n_keys, sizeof *kv);
  sql_vec **kp = sql_mem_alloc(mem, s->n_keys, sizeof *kp);
  if (!kv || !kp) return tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
  int rc = sql_eval_all(ctx, mem, exprs, s->n_keys, b, kv);
  if (rc) return rc;
  for (size_t k = 0; k < s->n_keys; k++)
    kp[k] = &kv[k];
  if (s->int_keys) return sql_keys_ints(mem, kp, s->n_keys, b->n_rows, keys, ctx->err);
  return sql_keys_encode(mem, kp, NULL, s->n_keys, b->n_rows, keys, ctx->err);
}

static int build_batch(join_state *s, sql_exec_ctx *ctx, sql_batch *in) {
  uint32_t n = in->n_rows, base = s->t->build.n;
  int rc = sql_rows_append(&s->t->build, in->cols, 0, n, ctx->err);
  if (rc) return rc;
  if (s->build_outer || s->semi_build) {
    void *m = s->t->bmatched;
    uint32_t cap = s->t->bmcap;
    if (sql_grow(&m, &cap, s->t->build.n, 1, ctx->err)) return TARN_ENOMEM;
    s->t->bmatched = m;
    void *z = s->t->bnull ? realloc(s->t->bnull, cap) : malloc(cap);
    if (!z) return tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
    s->t->bnull = z;
    s->t->bmcap = cap;
    memset(s->t->bmatched + base, 0, n);
    memset(s->t->bnull + base, 0, n);
  }
  return join_account(s, ctx);
}

/* Puts the stored build rows into the key table, once the build input has ended: the table is
 * sized for their exact number up front (growing it by doubling would allocate, and fault in,
 * every intermediate size of a slot array that can be far larger than the caches), and each row
 * gets its group in bgid. */
static int index_build_rows(join_state *s, sql_exec_ctx *ctx) {
  sql_rows *rows = &s->t->build;
  uint32_t nb = rows->n;
  int rc = sql_ktab_reserve(&s->t->kt, nb, ctx->err);
  void *g = s->t->bgid;
  if (!rc) rc = sql_grow(&g, &s->t->bgid_cap, nb ? nb : 1, sizeof(uint32_t), ctx->err);
  s->t->bgid = g;
  sql_batch *view = NULL;
  if (!rc) rc = sql_batch_new(rows->n_cols, 0, &view, ctx->err);
  uint32_t *sel = malloc(SQL_BATCH_ROWS * sizeof *sel);
  uint32_t *gids = malloc(SQL_BATCH_ROWS * sizeof *gids);
  if (!rc && (!sel || !gids)) rc = tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
  for (uint32_t base = 0; !rc && base < nb; base += SQL_BATCH_ROWS) {
    uint32_t n = nb - base < SQL_BATCH_ROWS ? nb - base : SQL_BATCH_ROWS;
    sql_mem *scratch = sql_mem_new();
    if (!scratch) rc = tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
    view->n_rows = n;
    for (uint32_t c = 0; !rc && c < rows->n_cols; c++)
      rc = sql_vec_slice(scratch, &rows->cols[c], base, n, &view->cols[c], ctx->err);
    sql_keys keys;
    if (!rc) rc = eval_keys(s, ctx, scratch, s->build_keys, view, &keys);
    uint32_t m = 0;
    for (uint32_t i = 0; !rc && i < n; i++) {
      s->t->bgid[base + i] = SQL_NONE;
      if (keys.has_null[i]) {
        s->t->build_null_key = true;
        if (s->t->bnull) s->t->bnull[base + i] = 1;
      } else {
        sel[m++] = i;
      }
    }
    if (!rc) rc = sql_ktab_insert(&s->t->kt, &keys, sel, m, gids, NULL, ctx->err);
    for (uint32_t k = 0; !rc && k < m; k++)
      s->t->bgid[base + sel[k]] = gids[sel[k]];
    sql_mem_release(scratch);
  }
  free(sel);
  free(gids);
  sql_batch_free(view);
  return rc ? rc : join_account(s, ctx);
}

/* Reads the build input b to its end into s->t. */
static int join_build(join_state *s, sql_op *b, sql_exec_ctx *ctx) {
  if (s->int_keys) {
    int rc = sql_ktab_use_ints(&s->t->kt, (uint32_t)s->n_keys, ctx->err);
    if (rc) return rc;
  }
  for (;;) {
    sql_batch *in;
    int rc = b->vt->next(b, ctx, &in);
    if (rc) return rc;
    if (!in) break;
    rc = in->n_rows ? build_batch(s, ctx, in) : 0;
    sql_batch_free(in);
    if (rc) return rc;
  }
  if (!s->hash) return 0;
  int rc = index_build_rows(s, ctx);
  if (rc) return rc;
  /* Counting sort of the build rows by group: each group's rows become one range. */
  uint32_t ng = s->t->kt.n, nb = s->t->build.n;
  s->t->gstart = calloc((size_t)ng + 2, sizeof *s->t->gstart);
  s->t->grows = malloc((nb ? nb : 1) * sizeof *s->t->grows);
  if (!s->t->gstart || !s->t->grows) return tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
  for (uint32_t r = 0; r < nb; r++)
    if (s->t->bgid[r] != SQL_NONE) s->t->gstart[s->t->bgid[r] + 1]++;
  for (uint32_t g = 0; g < ng; g++)
    s->t->gstart[g + 1] += s->t->gstart[g];
  uint32_t keyed = s->t->gstart[ng];
  s->t->unique = keyed == ng;
  s->t->dense = s->t->unique && keyed == nb; /* groups are numbered in order of their rows */
  for (uint32_t r = 0; r < nb; r++)
    if (s->t->bgid[r] != SQL_NONE) s->t->grows[s->t->gstart[s->t->bgid[r]]++] = r;
  for (uint32_t g = ng; g > 0; g--)
    s->t->gstart[g] = s->t->gstart[g - 1];
  s->t->gstart[0] = 0;
  free(s->t->bgid); /* the ranges say it all now */
  s->t->bgid = NULL;
  s->t->bgid_cap = 0;
  size_t before = sql_ktab_bytes(&s->t->kt);
  rc = sql_ktab_seal(&s->t->kt, ctx->err);
  if (rc) return rc;
  int64_t ranges = ((int64_t)ng + 2 + nb) * 4 + (int64_t)(sql_ktab_bytes(&s->t->kt) - before);
  rc = sql_charge_or_fail(ctx, ranges, "the hash join's build side");
  if (!rc) s->t->charged += ranges;
  return rc;
}

/* The build of a shared-build copy: the first copy here runs the build child (an operator tree
 * of its own, so its scans keep their own morsel queues and read everything) into the shared
 * table; the copies that come later wait on the lock and then find the table, or the error,
 * complete. The tree is freed right away: nothing reads it again. */
static int shared_build(sql_op *op, sql_exec_ctx *ctx) {
  join_state *s = op->state;
  sql_join_shared *sh = s->shared;
  pthread_mutex_lock(&sh->lock);
  if (!sh->done) {
    sql_plan *bp = op->plan->child[s->build_side];
    sql_op *b = NULL;
    sql_exec_ctx *root = ctx;
    while (root->root)
      root = root->root;
    sh->root = root;
    int rc = sql_rows_init(&sh->t.build, bp->out_types, (uint32_t)bp->n_out, ctx->err);
    if (!rc) rc = sql_exec_build(ctx, bp, &b);
    if (!rc) rc = b->vt->open(b, ctx);
    if (!rc) rc = join_build(s, b, ctx);
    sql_op_free(b);
    sh->rc = rc;
    if (rc && ctx->err) sh->err = *ctx->err;
    sh->done = true;
  } else if (sh->rc && ctx->err && ctx->err->code == 0) {
    *ctx->err = sh->err;
  }
  int rc = sh->rc;
  pthread_mutex_unlock(&sh->lock);
  return rc;
}

/* --- Probe ------------------------------------------------------------------------------------ */

static void drop_probe(join_state *s) {
  sql_batch_free(s->pb);
  s->pb = NULL;
  if (s->pmem) sql_mem_release(s->pmem);
  s->pmem = NULL;
}

static int probe_start(join_state *s, sql_exec_ctx *ctx, sql_batch *in) {
  uint32_t n = in->n_rows;
  s->pb = in;
  s->prow = 0;
  s->pchain = SQL_NONE;
  s->pdone = false;
  s->probe_any = true;
  if (n > s->pcap) {
    free(s->pgid);
    free(s->pnull);
    free(s->pmatched);
    free(s->psel);
    s->pgid = malloc(n * sizeof *s->pgid);
    s->pnull = malloc(n);
    s->pmatched = malloc(n);
    s->psel = malloc(n * sizeof *s->psel);
    s->pcap = n;
    if (!s->pgid || !s->pnull || !s->pmatched || !s->psel) {
      s->pcap = 0;
      return tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
    }
  }
  memset(s->pmatched, 0, n);
  memset(s->pnull, 0, n);
  /* A nested loop whose condition is constant FALSE or NULL (ON false: the overwrite MERGE of
   * parser.c) pairs nothing: every probe row goes straight to the unmatched ones, instead of
   * being tried against every build row. */
  if (!s->hash && s->cond && s->cond->kind == SQL_E_CONST &&
      (s->cond->value.is_null || !s->cond->value.u.b))
    s->pdone = true;
  if (!s->hash) return 0;
  s->pmem = sql_mem_new();
  if (!s->pmem) return tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
  sql_keys keys;
  int rc = eval_keys(s, ctx, s->pmem, s->probe_keys, in, &keys);
  if (rc) return rc;
  sql_ktab_lookup(&s->t->kt, &keys, NULL, n, s->pgid);
  for (uint32_t i = 0; i < n; i++) {
    if (keys.has_null[i]) {
      s->pgid[i] = SQL_NONE;
      s->pnull[i] = 1;
      s->probe_null_key = true;
    }
  }
  /* Without a residual, SEMI and ANTI need no pairs: a key in the table is a match. */
  if (s->semi_probe && !s->cond) {
    for (uint32_t i = 0; i < n; i++)
      s->pmatched[i] = s->pgid[i] != SQL_NONE;
    s->pdone = true;
  }
  return 0;
}

/* Runs the residual over n candidate pairs; records matches and, for the joins that output
 * pairs, returns the passing ones in *out. */
static int process_pairs(join_state *s, sql_exec_ctx *ctx, uint32_t n, sql_batch **out) {
  bool semi = s->kind == SQL_JOIN_SEMI || s->kind == SQL_JOIN_ANTI;
  sql_batch *cand = NULL;
  uint32_t m = n;
  const uint32_t *pass = NULL;
  int rc = 0;
  if (s->cond) {
    rc = join_batch(s, ctx, s->pair_p, s->pair_b, n, true, &cand);
    sql_mem *scratch = rc ? NULL : sql_mem_new();
    if (!rc && !scratch) rc = tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
    if (!rc) {
      sql_eval_ctx ectx;
      sql_exec_eval_ctx(ctx, scratch, &ectx);
      rc = sql_expr_select(&ectx, s->cond, cand, s->sel, &m);
    }
    if (scratch) sql_mem_release(scratch);
    pass = s->sel;
  }
  if (!rc) {
    for (uint32_t k = 0; k < m; k++) {
      uint32_t j = pass ? pass[k] : k;
      s->pmatched[s->pair_p[j]] = 1;
      if (s->t->bmatched) s->t->bmatched[s->pair_b[j]] = 1;
    }
  }
  if (!rc && !semi && m > 0) {
    if (!cand)
      rc = join_batch(s, ctx, s->pair_p, s->pair_b, n, false, out);
    else
      rc = cand_to_out(s, ctx, cand, s->sel, m, out);
  }
  sql_batch_free(cand);
  return rc;
}

/* Fills the pair buffers from the current probe batch; returns the number of pairs. */
static uint32_t fill_pairs(join_state *s) {
  const join_table *t = s->t;
  uint32_t n = 0, rows = s->pb->n_rows, p = s->prow;
  if (s->hash && t->unique) {
    /* At most one pair per probe row, so no chain to resume. A dense table's group is its row
     * already: the pairs are written unconditionally and kept only for rows that matched. */
    const uint32_t *pgid = s->pgid;
    if (t->dense) {
      for (; p < rows && n < SQL_BATCH_ROWS; p++) {
        uint32_t g = pgid[p];
        s->pair_p[n] = p;
        s->pair_b[n] = g;
        n += g != SQL_NONE;
      }
    } else {
      for (; p < rows && n < SQL_BATCH_ROWS; p++) {
        if (p + 16 < rows && pgid[p + 16] != SQL_NONE) /* a row's build row is a cache miss */
          __builtin_prefetch(&t->grows[pgid[p + 16]]);
        uint32_t g = pgid[p];
        if (g == SQL_NONE) continue;
        s->pair_p[n] = p;
        s->pair_b[n++] = t->grows[g];
      }
    }
  } else if (s->hash) {
    while (p < rows && n < SQL_BATCH_ROWS) {
      if (p + 16 < rows && s->pgid[p + 16] != SQL_NONE) /* the range of a row ahead */
        __builtin_prefetch(&t->gstart[s->pgid[p + 16]]);
      uint32_t g = s->pgid[p];
      if (g == SQL_NONE) {
        p++;
        continue;
      }
      uint32_t k = s->pchain == SQL_NONE ? t->gstart[g] : s->pchain, end = t->gstart[g + 1];
      while (k < end && n < SQL_BATCH_ROWS) {
        s->pair_p[n] = p;
        s->pair_b[n++] = t->grows[k++];
      }
      if (k >= end) {
        p++;
        s->pchain = SQL_NONE;
      } else {
        s->pchain = k;
      }
    }
  } else {
    while (p < rows && n < SQL_BATCH_ROWS) {
      uint32_t r = s->pchain == SQL_NONE ? 0 : s->pchain;
      while (r < t->build.n && n < SQL_BATCH_ROWS) {
        s->pair_p[n] = p;
        s->pair_b[n++] = r++;
      }
      if (r >= t->build.n) {
        p++;
        s->pchain = SQL_NONE;
      } else {
        s->pchain = r;
      }
    }
  }
  s->prow = p;
  if (p >= rows) s->pdone = true;
  return n;
}

/* After a probe batch's pairs: its unmatched rows (outer / anti) or matched ones (semi). */
static int probe_rest(join_state *s, sql_exec_ctx *ctx, sql_batch **out) {
  if (!s->probe_outer && !s->semi_probe) return 0;
  uint32_t n = s->pb->n_rows, m = 0;
  bool semi = s->kind == SQL_JOIN_SEMI;
  for (uint32_t i = 0; i < n; i++) {
    bool matched = s->pmatched[i];
    /* NULL NOT IN (a non-empty set) is unknown, not true. */
    if (s->anti && s->null_aware && s->pnull[i] && s->t->build.n > 0) matched = true;
    if (s->semi_probe ? matched == semi : !matched) s->psel[m++] = i;
  }
  if (m == 0) return 0;
  if (s->semi_probe) {
    if (m == n) {
      *out = s->pb;
      s->pb = NULL;
      return 0;
    }
    return sql_batch_select(s->pb, s->psel, m, out, ctx->err);
  }
  return join_batch(s, ctx, s->psel, NULL, m, false, out);
}

/* After the probe input: unmatched build rows (outer / anti) or matched ones (semi), with the
 * probe side's columns NULL. */
static int finish_next(join_state *s, sql_exec_ctx *ctx, sql_batch **out) {
  if (!s->build_outer && !s->semi_build) return 0;
  bool semi = s->kind == SQL_JOIN_SEMI;
  /* NOT IN with the subquery on the probe side: one NULL there and nothing is true. */
  if (s->anti && s->null_aware && s->probe_null_key) return 0;
  while (s->finish_pos < s->t->build.n) {
    uint32_t m = 0;
    while (s->finish_pos < s->t->build.n && m < SQL_BATCH_ROWS) {
      uint32_t r = s->finish_pos++;
      bool matched = s->t->bmatched[r];
      if (s->anti && s->null_aware && s->t->bnull[r] && s->probe_any) matched = true;
      if (s->semi_build ? matched == semi : !matched) s->sel[m++] = r;
    }
    if (m > 0) return join_batch(s, ctx, NULL, s->sel, m, false, out);
  }
  return 0;
}

static int join_next(sql_op *op, sql_exec_ctx *ctx, sql_batch **out) {
  join_state *s = op->state;
  *out = NULL;
  for (;;) {
    int rc = 0;
    switch (s->phase) {
    case PHASE_BUILD:
      rc = s->shared ? shared_build(op, ctx) : join_build(s, op->child[s->build_side], ctx);
      if (rc) return rc;
      s->phase = PHASE_PROBE;
      /* An inner join drops probe rows without a match: a scan feeding the probe side directly
       * can drop those its key filter rules out before reading their other columns. */
      if (s->kind == SQL_JOIN_INNER && s->int_keys && s->n_keys == 1 &&
          s->probe_keys[0]->kind == SQL_E_COLUMN)
        sql_op_scan_key_filter(op->child[1 - s->build_side], &s->t->kt, s->probe_keys[0]->slot);
      if (s->anti && s->null_aware && s->semi_probe && s->t->build_null_key)
        s->phase = PHASE_DONE; /* x NOT IN (..., NULL, ...) is never true */
      else if (s->t->build.n == 0 && !s->probe_outer && !(s->semi_probe && s->anti) &&
               !s->semi_build && !s->build_outer)
        s->phase = PHASE_DONE; /* nothing can match: the probe side need not run */
      break;
    case PHASE_PROBE: {
      if (!s->pb) {
        sql_op *pc = op->child[1 - s->build_side];
        sql_batch *in;
        rc = pc->vt->next(pc, ctx, &in);
        if (rc) return rc;
        if (!in) {
          s->phase = PHASE_FINISH;
          break;
        }
        if (in->n_rows == 0) {
          sql_batch_free(in);
          break;
        }
        rc = probe_start(s, ctx, in);
        if (rc) return rc;
      }
      if (!s->pdone) {
        uint32_t n = fill_pairs(s);
        if (n) {
          rc = process_pairs(s, ctx, n, out);
          if (rc || *out) return rc;
        }
        break;
      }
      rc = probe_rest(s, ctx, out);
      drop_probe(s);
      if (rc || *out) return rc;
      break;
    }
    case PHASE_FINISH:
      rc = finish_next(s, ctx, out);
      if (rc || *out) return rc;
      s->phase = PHASE_DONE;
      break;
    default: return 0;
    }
  }
}

static int join_open(sql_op *op, sql_exec_ctx *ctx) {
  join_state *s = op->state;
  s->ctx = ctx;
  s->phase = PHASE_BUILD;
  return sql_xop_open_children(op, ctx);
}

static void table_free(join_table *t) {
  sql_rows_free(&t->build);
  sql_ktab_free(&t->kt);
  free(t->bgid);
  free(t->gstart);
  free(t->grows);
  free(t->bmatched);
  free(t->bnull);
}

/* The copy's reference to the shared table; the last copy to let go frees it (and returns its
 * memory to the query). Batches already handed out keep the rows' region alive on their own. */
static void shared_detach(sql_plan *p, join_state *s) {
  sql_join_shared *sh = s->shared;
  s->shared = NULL;
  s->t = &s->own;
  pthread_mutex_lock(&shared_refs_lock);
  bool last = --sh->refs == 0;
  if (last) p->join_shared = NULL;
  pthread_mutex_unlock(&shared_refs_lock);
  if (!last) return;
  if (sh->root && sh->t.charged) sql_exec_charge(sh->root, -sh->t.charged);
  table_free(&sh->t);
  pthread_mutex_destroy(&sh->lock);
  free(sh);
}

static int shared_attach(sql_plan *p, join_state *s, tarn_error *err) {
  pthread_mutex_lock(&shared_refs_lock);
  sql_join_shared *sh = p->join_shared;
  if (!sh && (sh = calloc(1, sizeof *sh)) != NULL) {
    pthread_mutex_init(&sh->lock, NULL);
    sql_ktab_init(&sh->t.kt);
    p->join_shared = sh;
  }
  if (sh) sh->refs++;
  pthread_mutex_unlock(&shared_refs_lock);
  if (!sh) return tarn_err(err, TARN_ENOMEM, "out of memory");
  s->shared = sh;
  s->t = &sh->t;
  return 0;
}

static void join_close(sql_op *op) {
  join_state *s = op->state;
  if (!s) return;
  sql_xop_close_children(op);
  drop_probe(s);
  if (s->shared) shared_detach(op->plan, s);
  table_free(&s->own);
  free(s->pgid);
  free(s->pnull);
  free(s->pmatched);
  free(s->psel);
  free(s->out_src);
  if (s->ctx && s->own.charged) sql_exec_charge(s->ctx, -s->own.charged);
  free(s);
  op->state = NULL;
}

static const sql_op_vtable join_vt = {"join", join_open, join_next, join_close};

int sql_op_join(sql_exec_ctx *ctx, sql_plan *p, sql_op **out) {
  /* A shared-build copy has no build child of its own: the build child runs once, for the
   * table every copy probes. */
  int rc = sql_xop_new(ctx, p, &join_vt, sizeof(join_state), p->shared_build ? 0 : 2, out);
  if (rc) return rc;
  join_state *s = (*out)->state;
  s->t = &s->own;
  sql_plan *l = p->child[0], *r = p->child[1];
  s->kind = p->join_kind;
  s->hash = p->n_join_keys > 0;
  s->n_keys = p->n_join_keys;
  s->build_side = p->build_left ? 0 : 1;
  int probe_side = 1 - s->build_side;
  bool left_outer = s->kind == SQL_JOIN_LEFT || s->kind == SQL_JOIN_FULL;
  bool right_outer = s->kind == SQL_JOIN_RIGHT || s->kind == SQL_JOIN_FULL;
  s->probe_outer = probe_side == 0 ? left_outer : right_outer;
  s->build_outer = s->build_side == 0 ? left_outer : right_outer;
  bool semi = s->kind == SQL_JOIN_SEMI || s->kind == SQL_JOIN_ANTI;
  s->semi_probe = semi && probe_side == 0;
  s->semi_build = semi && s->build_side == 0;
  s->anti = s->kind == SQL_JOIN_ANTI;
  s->null_aware = p->null_aware;
  s->n_left = (uint32_t)l->n_out;
  s->n_right = (uint32_t)r->n_out;
  s->ltypes = l->out_types;
  s->rtypes = r->out_types;
  /* Where each output column comes from (the optimizer may have dropped some). */
  s->n_out = (uint32_t)p->n_out;
  s->out_src = malloc((p->n_out + 1) * sizeof *s->out_src);
  if (!s->out_src) return sql_xop_fail(*out, tarn_err(ctx->err, TARN_ENOMEM, "out of memory"));
  for (size_t k = 0; k < p->n_out; k++) {
    size_t c = SIZE_MAX;
    for (size_t i = 0; c == SIZE_MAX && i < l->n_out; i++)
      if (l->out_ids[i] == p->out_ids[k]) c = i;
    for (size_t i = 0; !semi && c == SIZE_MAX && i < r->n_out; i++)
      if (r->out_ids[i] == p->out_ids[k]) c = l->n_out + i;
    if (c == SIZE_MAX)
      return sql_xop_fail(*out, tarn_err(ctx->err, TARN_EINVAL,
                                         "internal error: join output column %d not found",
                                         p->out_ids[k]));
    s->out_src[k] = (uint32_t)c;
  }
  if (s->hash) {
    rc = sql_resolve_all(p->left_keys, p->n_join_keys, l, ctx->err);
    if (!rc) rc = sql_resolve_all(p->right_keys, p->n_join_keys, r, ctx->err);
    for (size_t k = 0; !rc && k < p->n_join_keys; k++)
      if (!sql_type_equal(p->left_keys[k]->type, p->right_keys[k]->type))
        rc = tarn_err(ctx->err, TARN_EINVAL, "internal error: join keys of different types");
    if (rc) return sql_xop_fail(*out, rc);
    s->build_keys = s->build_side == 0 ? p->left_keys : p->right_keys;
    s->probe_keys = s->build_side == 0 ? p->right_keys : p->left_keys;
    s->cond = p->residual;
    /* Both sides' keys have one type (checked above), so integer keys on one side are integer
     * keys on the other. */
    const sql_type *kt[SQL_KEYS_MAX_INTS];
    for (size_t k = 0; k < p->n_join_keys && k < SQL_KEYS_MAX_INTS; k++)
      kt[k] = p->left_keys[k]->type;
    s->int_keys = sql_keys_ints_fit(kt, p->n_join_keys);
  } else {
    s->cond = p->residual ? p->residual : p->condition;
  }
  if (s->cond) {
    /* The residual sees candidate batches: left columns, then right. */
    int *ids = malloc((l->n_out + r->n_out + 1) * sizeof *ids);
    if (!ids) return sql_xop_fail(*out, tarn_err(ctx->err, TARN_ENOMEM, "out of memory"));
    memcpy(ids, l->out_ids, l->n_out * sizeof *ids);
    memcpy(ids + l->n_out, r->out_ids, r->n_out * sizeof *ids);
    rc = sql_expr_resolve(s->cond, ids, l->n_out + r->n_out, ctx->err);
    free(ids);
    if (rc) return sql_xop_fail(*out, rc);
  }
  if (p->shared_build) {
    /* Only the probe side's per-row state is per copy; a build side that records matches per
     * build row (RIGHT / FULL, semi joins that output the build side) cannot be shared. */
    if (s->build_outer || s->semi_build)
      return sql_xop_fail(*out, tarn_err(ctx->err, TARN_EINVAL,
                                         "internal error: this join cannot share its build side"));
    rc = sql_exec_build(ctx, p->child[probe_side], &(*out)->child[probe_side]);
    if (!rc) rc = shared_attach(p, s, ctx->err);
    return rc ? sql_xop_fail(*out, rc) : 0;
  }
  const sql_plan *bp = p->child[s->build_side];
  rc = sql_rows_init(&s->own.build, bp->out_types, (uint32_t)bp->n_out, ctx->err);
  return rc ? sql_xop_fail(*out, rc) : 0;
}
