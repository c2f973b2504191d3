/*
 * ORDER BY: full sort, top-N, and external merge sort when memory runs out.
 *
 * Every input row's sort key is encoded once (keys.h), so comparisons are memcmp on bytes and
 * ties fall back to input order, which makes the sort stable. The input is copied into a row
 * store; the sorted row numbers then drive gathers of at most SQL_BATCH_ROWS rows.
 *
 * Top-N (plan->limit >= 0) keeps the best offset + limit rows. Rather than a heap of single
 * rows, it buffers candidates and, when the buffer holds twice what is needed, sorts it and
 * truncates it; the key of the last row kept becomes a cutoff that rejects later rows before
 * they are copied, so for a small N almost all of the input is discarded by one memcmp per row.
 * The LIMIT node above applies the offset.
 *
 * When the memory budget refuses the row store's growth, the sorted rows are written to a run
 * file (the input columns plus the key bytes as one more column, in the spill format of
 * exec_util.h), the store is emptied, and at the end all runs are merged k-way: a heap of runs
 * ordered by their current key, copying stretches of consecutive rows from the winning run.
 */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "sql/exec_util.h"

/* The fewest rows written as one sort run. */
#define MIN_RUN_ROWS 16384

/* Above this many rows a top-N is run as a full sort (which can spill) cut at N. */
#define TOPN_MAX_ROWS 100000

typedef struct sort_run {
  FILE *f;
  sql_batch *cur; /* current batch of the run; NULL when exhausted */
  uint32_t pos;
} sort_run;

typedef struct sort_state {
  sql_key_col *dirs;
  const sql_type **types; /* input column types, then bytea for spilled keys */
  uint32_t n_cols;
  int64_t keep; /* rows to produce at most (-1: all) */
  bool topn;

  sql_rows rows;
  sql_keystore keys;
  int64_t charged;

  uint8_t *cutoff; /* top-N: key of the worst row kept */
  size_t cutoff_len;
  bool has_cutoff;

  bool consumed;
  uint32_t *order; /* sorted row numbers of the in-memory rows */
  uint32_t n_order, pos;
  int64_t emitted;

  sort_run *runs;
  uint32_t n_runs, runs_cap;
  uint32_t *heap; /* run numbers, best first */
  uint32_t n_heap;
  sql_exec_ctx *ctx; /* saved at open: close returns the memory charge */
} sort_state;

static void sort_reset_store(sort_state *s) {
  sql_rows_free(&s->rows);
  sql_keystore_free(&s->keys);
}

static int sort_account(sort_state *s, sql_exec_ctx *ctx, bool *refused) {
  int64_t total = (int64_t)(sql_rows_bytes(&s->rows) + sql_keystore_bytes(&s->keys));
  *refused = false;
  if (total <= s->charged) return 0;
  if (sql_exec_charge(ctx, total - s->charged)) {
    s->charged = total;
    return 0;
  }
  *refused = true;
  return 0;
}

/* Sorts the stored rows into s->order. */
static int sort_order(sort_state *s, sql_exec_ctx *ctx) {
  free(s->order);
  s->order = malloc((size_t)(s->rows.n ? s->rows.n : 1) * sizeof *s->order);
  if (!s->order) return tarn_err(ctx->err, TARN_ENOMEM, "out of memory: sorting");
  s->n_order = s->rows.n;
  s->pos = 0;
  return sql_keystore_sort(&s->keys, NULL, s->rows.n, s->order, ctx->err);
}

/* Appends keys sel[0..n) of src to dst. */
static int keystore_copy(sql_keystore *dst, const sql_keystore *src, const uint32_t *sel,
                         uint32_t n, tarn_error *err) {
  for (uint32_t i = 0; i < n; i++) {
    uint32_t off[2] = {0, (uint32_t)(src->off[sel[i] + 1] - src->off[sel[i]])};
    uint64_t hash = 0;
    bool has_null = false;
    sql_keys one = {.n = 1,
                    .bytes = src->bytes + src->off[sel[i]],
                    .offset = off,
                    .hash = &hash,
                    .has_null = &has_null};
    int rc = sql_keystore_add(dst, &one, NULL, 1, err);
    if (rc) return rc;
  }
  return 0;
}

/* Top-N: keeps the best s->keep rows of the store and sets the cutoff. */
static int sort_truncate(sort_state *s, sql_exec_ctx *ctx) {
  int rc = sort_order(s, ctx);
  if (rc) return rc;
  uint32_t k = s->n_order < s->keep ? s->n_order : (uint32_t)s->keep;
  sql_rows nr;
  sql_keystore nk = {0};
  rc = sql_rows_init(&nr, s->types, s->n_cols, ctx->err);
  if (rc) return rc;
  rc = sql_rows_append_sel(&nr, s->rows.cols, s->order, k, ctx->err);
  if (!rc) rc = keystore_copy(&nk, &s->keys, s->order, k, ctx->err);
  if (!rc && k > 0) {
    size_t len = nk.off[k] - nk.off[k - 1];
    uint8_t *c = realloc(s->cutoff, len ? len : 1);
    if (!c) rc = tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
    if (!rc) {
      memcpy(c, nk.bytes + nk.off[k - 1], len);
      s->cutoff = c;
      s->cutoff_len = len;
      s->has_cutoff = true;
    }
  }
  if (rc) {
    sql_rows_free(&nr);
    sql_keystore_free(&nk);
    return rc;
  }
  sort_reset_store(s);
  s->rows = nr;
  s->keys = nk;
  free(s->order);
  s->order = NULL;
  s->n_order = 0;
  return 0;
}

/* Writes the store, sorted, as one run and empties it. */
static int sort_spill(sort_state *s, sql_exec_ctx *ctx) {
  int rc = sort_order(s, ctx);
  if (rc) return rc;
  if (s->n_runs == s->runs_cap) {
    void *r = s->runs;
    if (sql_grow(&r, &s->runs_cap, s->n_runs + 1, sizeof(sort_run), ctx->err)) return TARN_ENOMEM;
    s->runs = r;
  }
  sort_run *run = &s->runs[s->n_runs];
  memset(run, 0, sizeof *run);
  rc = sql_spill_open(ctx->tmp_dir, &run->f, ctx->err);
  if (rc) return rc;
  s->n_runs++;
  for (uint32_t at = 0; at < s->n_order && !rc; at += SQL_BATCH_ROWS) {
    uint32_t n = s->n_order - at < SQL_BATCH_ROWS ? s->n_order - at : SQL_BATCH_ROWS;
    const uint32_t *sel = s->order + at;
    sql_batch *b;
    rc = sql_batch_new(s->n_cols + 1, n, &b, ctx->err);
    for (uint32_t c = 0; !rc && c < s->n_cols; c++)
      rc = sql_vec_gather(b->mem, &s->rows.cols[c], sel, n, &b->cols[c], ctx->err);
    if (!rc) rc = sql_vec_init(b->mem, &b->cols[s->n_cols], s->types[s->n_cols], n, ctx->err);
    if (!rc) {
      sql_str *k = SQL_VEC_STR(&b->cols[s->n_cols]);
      for (uint32_t i = 0; i < n; i++) {
        k[i].ptr = (const char *)s->keys.bytes + s->keys.off[sel[i]];
        k[i].len = s->keys.off[sel[i] + 1] - s->keys.off[sel[i]];
      }
      rc = sql_spill_write(run->f, b, ctx->err);
    }
    if (b) sql_batch_free(b);
  }
  if (rc) return rc;
  sort_reset_store(s);
  free(s->order);
  s->order = NULL;
  s->n_order = 0;
  sql_exec_charge(ctx, -s->charged);
  s->charged = 0;
  return sql_rows_init(&s->rows, s->types, s->n_cols, ctx->err);
}

static int sort_consume_batch(sql_op *op, sql_exec_ctx *ctx, sql_batch *in) {
  sort_state *s = op->state;
  sql_plan *p = op->plan;
  sql_mem *scratch = sql_mem_new();
  if (!scratch) return tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
  sql_vec *vecs = calloc(p->n_sort_keys ? p->n_sort_keys : 1, sizeof *vecs);
  sql_vec **ptrs = calloc(p->n_sort_keys ? p->n_sort_keys : 1, sizeof *ptrs);
  uint32_t *sel = malloc(in->n_rows * sizeof *sel);
  int rc = 0;
  if (!vecs || !ptrs || !sel) rc = tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
  sql_keys keys;
  for (size_t i = 0; !rc && i < p->n_sort_keys; i++) {
    rc = sql_eval_one(ctx, scratch, p->sort_keys[i].expr, in, &vecs[i]);
    ptrs[i] = &vecs[i];
  }
  if (!rc)
    rc = sql_keys_encode(scratch, ptrs, s->dirs, p->n_sort_keys, in->n_rows, &keys, ctx->err);
  uint32_t n = 0;
  if (!rc) {
    if (s->has_cutoff) {
      for (uint32_t i = 0; i < in->n_rows; i++) {
        size_t len = keys.offset[i + 1] - keys.offset[i];
        int c = memcmp(keys.bytes + keys.offset[i], s->cutoff,
                       len < s->cutoff_len ? len : s->cutoff_len);
        if (c < 0 || (c == 0 && len < s->cutoff_len)) sel[n++] = i;
      }
    } else {
      for (uint32_t i = 0; i < in->n_rows; i++)
        sel[i] = i;
      n = in->n_rows;
    }
  }
  if (!rc && n > 0) {
    if (n == in->n_rows)
      rc = sql_rows_append(&s->rows, in->cols, 0, n, ctx->err);
    else
      rc = sql_rows_append_sel(&s->rows, in->cols, sel, n, ctx->err);
    if (!rc) rc = sql_keystore_add(&s->keys, &keys, sel, n, ctx->err);
  }
  free(vecs);
  free(ptrs);
  free(sel);
  sql_mem_release(scratch);
  if (rc) return rc;
  if (s->topn && s->rows.n >= 2 * (uint64_t)s->keep + SQL_BATCH_ROWS) {
    rc = sort_truncate(s, ctx);
    if (rc) return rc;
  }
  bool refused;
  sort_account(s, ctx, &refused);
  if (!refused) return 0;
  if (s->topn) return 0; /* bounded by 2 (offset + limit) + a batch: kept whatever the budget */
  /* A run is never tiny: when other operators hold the budget, writing a run per batch would
   * only trade memory for thousands of files; below MIN_RUN_ROWS the store runs over budget. */
  if (s->rows.n < MIN_RUN_ROWS) return 0;
  __atomic_store_n(&op->plan->spilled, true, __ATOMIC_RELAXED);
  return sort_spill(s, ctx);
}

static int heap_less(sort_state *s, uint32_t a, uint32_t b) {
  const sql_batch *ba = s->runs[a].cur, *bb = s->runs[b].cur;
  const sql_str *ka = &SQL_VEC_STR(&ba->cols[s->n_cols])[s->runs[a].pos];
  const sql_str *kb = &SQL_VEC_STR(&bb->cols[s->n_cols])[s->runs[b].pos];
  size_t l = ka->len < kb->len ? ka->len : kb->len;
  int c = memcmp(ka->ptr, kb->ptr, l);
  if (c) return c < 0;
  if (ka->len != kb->len) return ka->len < kb->len;
  return a < b; /* earlier runs hold earlier input: keeps the merge stable */
}

static void heap_sift_down(sort_state *s, uint32_t i) {
  for (;;) {
    uint32_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < s->n_heap && heap_less(s, s->heap[l], s->heap[m])) m = l;
    if (r < s->n_heap && heap_less(s, s->heap[r], s->heap[m])) m = r;
    if (m == i) return;
    uint32_t t = s->heap[i];
    s->heap[i] = s->heap[m];
    s->heap[m] = t;
    i = m;
  }
}

/* Makes sure run r has a current row; false when it is exhausted. */
static int run_fill(sort_state *s, sql_exec_ctx *ctx, uint32_t r, bool *has) {
  sort_run *run = &s->runs[r];
  while (!run->cur || run->pos >= run->cur->n_rows) {
    sql_batch_free(run->cur);
    run->cur = NULL;
    run->pos = 0;
    int rc = sql_spill_read(run->f, s->types, s->n_cols + 1, &run->cur, ctx->err);
    if (rc) return rc;
    if (!run->cur) {
      *has = false;
      return 0;
    }
  }
  *has = true;
  return 0;
}

static int merge_start(sort_state *s, sql_exec_ctx *ctx) {
  s->heap = malloc((s->n_runs ? s->n_runs : 1) * sizeof *s->heap);
  if (!s->heap) return tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
  s->n_heap = 0;
  for (uint32_t r = 0; r < s->n_runs; r++) {
    if (fflush(s->runs[r].f) != 0 || fseek(s->runs[r].f, 0, SEEK_SET) != 0)
      return tarn_err(ctx->err, TARN_EIO, "cannot rewind a sort run file");
    bool has;
    int rc = run_fill(s, ctx, r, &has);
    if (rc) return rc;
    if (has) s->heap[s->n_heap++] = r;
  }
  for (uint32_t i = s->n_heap / 2; i-- > 0;)
    heap_sift_down(s, i);
  return 0;
}

static int merge_next(sort_state *s, sql_exec_ctx *ctx, sql_batch **out) {
  uint32_t want = SQL_BATCH_ROWS;
  if (s->keep >= 0 && s->keep - s->emitted < want) want = (uint32_t)(s->keep - s->emitted);
  if (s->n_heap == 0 || want == 0) return 0;
  sql_batch *b;
  int rc = sql_batch_new(s->n_cols, 0, &b, ctx->err);
  uint32_t *caps = calloc(s->n_cols ? s->n_cols : 1, sizeof *caps);
  if (!rc && !caps) rc = tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
  for (uint32_t c = 0; !rc && c < s->n_cols; c++)
    rc = sql_vec_init(b->mem, &b->cols[c], s->types[c], 0, ctx->err);
  uint32_t n = 0;
  while (!rc && n < want && s->n_heap > 0) {
    uint32_t r = s->heap[0];
    sort_run *run = &s->runs[r];
    /* Take every row of r that still beats the best other run. */
    uint32_t other = SQL_NONE;
    if (s->n_heap > 1) other = s->heap[1];
    if (s->n_heap > 2 && heap_less(s, s->heap[2], s->heap[1])) other = s->heap[2];
    uint32_t start = run->pos, cnt = 0;
    do {
      run->pos++;
      cnt++;
    } while (n + cnt < want && run->pos < run->cur->n_rows &&
             (other == SQL_NONE || heap_less(s, r, other)));
    for (uint32_t c = 0; !rc && c < s->n_cols; c++)
      rc = sql_vec_append(b->mem, &b->cols[c], &caps[c], &run->cur->cols[c], start, cnt, ctx->err);
    n += cnt;
    if (rc) break;
    bool has;
    rc = run_fill(s, ctx, r, &has);
    if (rc) break;
    if (!has) s->heap[0] = s->heap[--s->n_heap];
    heap_sift_down(s, 0);
  }
  free(caps);
  if (rc || n == 0) {
    sql_batch_free(b);
    return rc;
  }
  b->n_rows = n;
  s->emitted += n;
  *out = b;
  return 0;
}

static int sort_consume(sql_op *op, sql_exec_ctx *ctx) {
  sort_state *s = op->state;
  for (;;) {
    sql_batch *in;
    int rc = op->child[0]->vt->next(op->child[0], ctx, &in);
    if (rc) return rc;
    if (!in) break;
    rc = in->n_rows ? sort_consume_batch(op, ctx, in) : 0;
    sql_batch_free(in);
    if (rc) return rc;
  }
  if (s->n_runs > 0) {
    int rc = s->rows.n > 0 ? sort_spill(s, ctx) : 0;
    return rc ? rc : merge_start(s, ctx);
  }
  return sort_order(s, ctx);
}

static int sort_next(sql_op *op, sql_exec_ctx *ctx, sql_batch **out) {
  sort_state *s = op->state;
  *out = NULL;
  if (s->keep == 0) return 0;
  if (!s->consumed) {
    s->consumed = true;
    int rc = sort_consume(op, ctx);
    if (rc) return rc;
  }
  if (s->n_runs > 0) return merge_next(s, ctx, out);
  uint32_t left = s->n_order - s->pos;
  if (s->keep >= 0 && s->keep - s->emitted < left) left = (uint32_t)(s->keep - s->emitted);
  if (left == 0) return 0;
  uint32_t n = left < SQL_BATCH_ROWS ? left : SQL_BATCH_ROWS;
  sql_batch *b;
  int rc = sql_batch_new(s->n_cols, n, &b, ctx->err);
  if (rc) return rc;
  if (sql_mem_add_parent(b->mem, s->rows.mem))
    rc = tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
  for (uint32_t c = 0; !rc && c < s->n_cols; c++)
    rc = sql_vec_gather(b->mem, &s->rows.cols[c], s->order + s->pos, n, &b->cols[c], ctx->err);
  if (rc) {
    sql_batch_free(b);
    return rc;
  }
  s->pos += n;
  s->emitted += n;
  *out = b;
  return 0;
}

static int sort_open(sql_op *op, sql_exec_ctx *ctx) {
  sort_state *s = op->state;
  s->ctx = ctx;
  int rc = sql_rows_init(&s->rows, s->types, s->n_cols, ctx->err);
  return rc ? rc : sql_xop_open_children(op, ctx);
}

static void sort_close(sql_op *op) {
  sort_state *s = op->state;
  if (!s) return;
  sql_xop_close_children(op);
  sort_reset_store(s);
  if (s->ctx && s->charged) sql_exec_charge(s->ctx, -s->charged);
  for (uint32_t r = 0; r < s->n_runs; r++) {
    sql_batch_free(s->runs[r].cur);
    if (s->runs[r].f) fclose(s->runs[r].f);
  }
  free(s->runs);
  free(s->heap);
  free(s->order);
  free(s->cutoff);
  free(s->dirs);
  free(s->types);
  free(s);
  op->state = NULL;
}

static const sql_op_vtable sort_vt = {"sort", sort_open, sort_next, sort_close};

int sql_op_sort(sql_exec_ctx *ctx, sql_plan *p, sql_op **out) {
  int rc = sql_xop_new(ctx, p, &sort_vt, sizeof(sort_state), 1, out);
  if (rc) return rc;
  sort_state *s = (*out)->state;
  sql_plan *cp = p->child[0];
  s->n_cols = (uint32_t)cp->n_out;
  s->dirs = calloc(p->n_sort_keys ? p->n_sort_keys : 1, sizeof *s->dirs);
  s->types = calloc(s->n_cols + 1, sizeof *s->types);
  if (!s->dirs || !s->types)
    return sql_xop_fail(*out, tarn_err(ctx->err, TARN_ENOMEM, "out of memory"));
  for (uint32_t c = 0; c < s->n_cols; c++)
    s->types[c] = cp->out_types[c];
  s->types[s->n_cols] = sql_type_get(SQL_BYTEA);
  for (size_t i = 0; i < p->n_sort_keys; i++) {
    s->dirs[i].descending = p->sort_keys[i].descending;
    s->dirs[i].nulls_first = p->sort_keys[i].nulls_first;
    rc = sql_resolve_all(&p->sort_keys[i].expr, 1, cp, ctx->err);
    if (rc) return sql_xop_fail(*out, rc);
  }
  s->keep = -1;
  if (p->limit >= 0) {
    s->keep = p->limit + (p->offset > 0 ? p->offset : 0);
    s->topn = s->keep <= TOPN_MAX_ROWS;
  }
  return 0;
}
