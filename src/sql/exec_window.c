/*
 * Window functions: the input is materialised, each window call sorts the row numbers by its
 * (PARTITION BY, ORDER BY) key, and the call's values are computed partition by partition into a
 * column indexed by input row. The output is the input's columns plus one column per call, in the
 * sort order of the first call (so a query with one window already comes out in its order).
 *
 * Keys are the byte keys of keys.h: the partition key alone tells where partitions start, the
 * partition key followed by the ORDER BY key tells peers apart, and sorting by the latter (ties by
 * input position) groups each partition's rows together in window order.
 *
 * Frames: without a frame clause, RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW (peers
 * included) when there is an ORDER BY, the whole partition otherwise; RANGE frames with
 * UNBOUNDED / CURRENT ROW bounds, and with offsets (the plan gives each row's bound value, found
 * by binary search among the partition's ORDER BY keys); ROWS frames with offsets. Aggregates over
 * frames use prefix counts and sums (exact for integers, decimals and intervals), running minima
 * and maxima when the frame starts at the partition's start, and a scan of the frame otherwise
 * (float sums with a moving start are recomputed rather than subtracted, as PostgreSQL does, so
 * that they do not drift).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "sql/exec_util.h"
#include "sql/expr_impl.h"

typedef struct win_rt {
  const sql_window_call *call;
  sql_keystore pkeys, fkeys;
  sql_keystore okeys, rskeys, rekeys; /* RANGE offsets: ORDER BY key, frame start / end values */
  sql_rows args;
  uint8_t *fmask; /* FILTER result per row (NULL: no filter) */
  uint32_t fcap;
  sql_vec result;
} win_rt;

typedef struct window_state {
  sql_exec_ctx *ctx;
  sql_rows rows;
  win_rt *calls;
  size_t n_calls;
  sql_mem *res_mem;
  uint32_t *order; /* output order */
  uint32_t pos;
  bool consumed;
  int64_t charged;
} window_state;

static int window_account(window_state *s, sql_exec_ctx *ctx) {
  int64_t total = (int64_t)sql_rows_bytes(&s->rows);
  for (size_t c = 0; c < s->n_calls; c++) {
    win_rt *w = &s->calls[c];
    total += (int64_t)(sql_keystore_bytes(&w->pkeys) + sql_keystore_bytes(&w->fkeys) +
                       sql_keystore_bytes(&w->okeys) + sql_keystore_bytes(&w->rskeys) +
                       sql_keystore_bytes(&w->rekeys) + sql_rows_bytes(&w->args) + w->fcap);
  }
  if (total <= s->charged) return 0;
  int rc = sql_charge_or_fail(ctx, total - s->charged, "the window function's input");
  if (!rc) s->charged = total;
  return rc;
}

/* Encodes exprs over b (with the directions of sort keys, or ascending) and appends the keys. */
static int add_keys(sql_exec_ctx *ctx, sql_mem *scratch, sql_keystore *ks, sql_expr *const *exprs,
                    const sql_sort_key *sort, size_t n_part, size_t n_sort, const sql_batch *b) {
  size_t n = n_part + n_sort;
  sql_vec *v = sql_mem_alloc(scratch, n + 1, sizeof *v);
  sql_vec **vp = sql_mem_alloc(scratch, n + 1, sizeof *vp);
  sql_key_col *dirs = sql_mem_alloc(scratch, n + 1, sizeof *dirs);
  if (!v || !vp || !dirs) return tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++) {
    const sql_expr *e = i < n_part ? exprs[i] : sort[i - n_part].expr;
    int rc = sql_eval_one(ctx, scratch, e, b, &v[i]);
    if (rc) return rc;
    vp[i] = &v[i];
    if (i >= n_part) {
      dirs[i].descending = sort[i - n_part].descending;
      dirs[i].nulls_first = sort[i - n_part].nulls_first;
    }
  }
  sql_keys keys;
  int rc = sql_keys_encode(scratch, vp, dirs, n, b->n_rows, &keys, ctx->err);
  return rc ? rc : sql_keystore_add(ks, &keys, NULL, b->n_rows, ctx->err);
}

/* RANGE offsets: the ORDER BY key of every row, in the type of the bound values (a date key
 * with an interval offset is compared as a timestamp), encoded in window order. */
static int add_order_key(sql_exec_ctx *ctx, sql_mem *scratch, win_rt *w, const sql_batch *b) {
  const sql_window_call *wc = w->call;
  const sql_type *bt = (wc->range_start ? wc->range_start : wc->range_end)->type;
  sql_vec v, cv, *vp = &v;
  int rc = sql_eval_one(ctx, scratch, wc->order[0].expr, b, &v);
  if (!rc && !sql_type_equal(v.type, bt)) {
    sql_eval_ctx ectx;
    sql_exec_eval_ctx(ctx, scratch, &ectx);
    rc = sql_cast_vec(&ectx, &v, bt, false, &cv);
    vp = &cv;
  }
  sql_key_col dir = {wc->order[0].descending, wc->order[0].nulls_first};
  sql_keys keys;
  if (!rc) rc = sql_keys_encode(scratch, &vp, &dir, 1, b->n_rows, &keys, ctx->err);
  return rc ? rc : sql_keystore_add(&w->okeys, &keys, NULL, b->n_rows, ctx->err);
}

static int window_consume_batch(window_state *s, sql_exec_ctx *ctx, const sql_batch *in) {
  int rc = sql_rows_append(&s->rows, in->cols, 0, in->n_rows, ctx->err);
  for (size_t c = 0; !rc && c < s->n_calls; c++) {
    win_rt *w = &s->calls[c];
    const sql_window_call *wc = w->call;
    sql_mem *scratch = sql_mem_new();
    if (!scratch) return tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
    rc = add_keys(ctx, scratch, &w->pkeys, wc->partition, NULL, wc->n_partition, 0, in);
    if (!rc)
      rc = add_keys(ctx, scratch, &w->fkeys, wc->partition, wc->order, wc->n_partition, wc->n_order,
                    in);
    if (!rc && (wc->range_start || wc->range_end)) rc = add_order_key(ctx, scratch, w, in);
    for (int side = 0; side < 2 && !rc; side++) {
      sql_expr *bound = side ? wc->range_end : wc->range_start;
      if (!bound) continue;
      /* Bound values encoded like the ORDER BY key, so bytes compare in window order. */
      sql_sort_key sk = wc->order[0];
      sk.expr = bound;
      rc = add_keys(ctx, scratch, side ? &w->rekeys : &w->rskeys, NULL, &sk, 0, 1, in);
    }
    if (!rc && wc->agg.n_args) {
      sql_vec *av = sql_mem_alloc(scratch, wc->agg.n_args, sizeof *av);
      if (!av) rc = tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
      if (!rc) rc = sql_eval_all(ctx, scratch, wc->agg.args, wc->agg.n_args, in, av);
      if (!rc) rc = sql_rows_append(&w->args, av, 0, in->n_rows, ctx->err);
    }
    if (!rc && wc->agg.filter) {
      uint32_t base = w->pkeys.n - in->n_rows;
      void *m = w->fmask;
      rc = sql_grow(&m, &w->fcap, base + in->n_rows, 1, ctx->err);
      w->fmask = m;
      uint32_t *sel = rc ? NULL : sql_mem_alloc(scratch, in->n_rows, sizeof *sel);
      uint32_t n_sel = 0;
      if (!rc && !sel) rc = tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
      if (!rc) {
        sql_eval_ctx ectx;
        sql_exec_eval_ctx(ctx, scratch, &ectx);
        rc = sql_expr_select(&ectx, wc->agg.filter, in, sel, &n_sel);
      }
      if (!rc) {
        memset(w->fmask + base, 0, in->n_rows);
        for (uint32_t k = 0; k < n_sel; k++)
          w->fmask[base + sel[k]] = 1;
      }
    }
    sql_mem_release(scratch);
  }
  return rc ? rc : window_account(s, ctx);
}

/* --- Computing one call ----------------------------------------------------------------------- */

/* memcmp order of key a of ka and key b of kb. */
static int key_cmp2(const sql_keystore *ka, uint32_t a, const sql_keystore *kb, uint32_t b) {
  size_t la = ka->off[a + 1] - ka->off[a], lb = kb->off[b + 1] - kb->off[b];
  int c = memcmp(ka->bytes + ka->off[a], kb->bytes + kb->off[b], la < lb ? la : lb);
  if (c) return c;
  return la < lb ? -1 : la > lb;
}

/* RANGE offset bound: the first sorted position in [ps, pe) whose ORDER BY key is at least
 * (after: greater than) row r's bound value. */
static uint32_t range_search(const win_rt *w, const uint32_t *perm, const sql_keystore *bounds,
                             uint32_t r, uint32_t ps, uint32_t pe, bool after) {
  uint32_t lo = ps, hi = pe;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    int c = key_cmp2(&w->okeys, perm[mid], bounds, r);
    if (after ? c <= 0 : c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* The frame [*fs, *fe) of the row at sorted position k of partition [ps, pe) whose peers are
 * [qs, qe). */
static void frame_of(const win_rt *w, const uint32_t *perm, uint32_t ps, uint32_t pe, uint32_t qs,
                     uint32_t qe, uint32_t k, uint32_t *fs, uint32_t *fe) {
  const sql_window_call *wc = w->call;
  int64_t a, b;
  if (!wc->has_frame) {
    a = ps;
    b = wc->n_order ? qe : pe;
  } else {
    bool offset_start = wc->start == SQL_FRAME_PRECEDING || wc->start == SQL_FRAME_FOLLOWING;
    bool offset_end = wc->end == SQL_FRAME_PRECEDING || wc->end == SQL_FRAME_FOLLOWING;
    if (!wc->frame_rows && offset_start)
      a = range_search(w, perm, &w->rskeys, perm[k], ps, pe, false);
    else
      switch (wc->start) {
      case SQL_FRAME_UNBOUNDED_PRECEDING: a = ps; break;
      case SQL_FRAME_PRECEDING: a = (int64_t)k - wc->start_offset; break;
      case SQL_FRAME_CURRENT_ROW: a = wc->frame_rows ? k : qs; break;
      case SQL_FRAME_FOLLOWING: a = (int64_t)k + wc->start_offset; break;
      default: a = pe;
      }
    if (!wc->frame_rows && offset_end)
      b = range_search(w, perm, &w->rekeys, perm[k], ps, pe, true);
    else
      switch (wc->end) {
      case SQL_FRAME_UNBOUNDED_FOLLOWING: b = pe; break;
      case SQL_FRAME_FOLLOWING: b = (int64_t)k + wc->end_offset + 1; break;
      case SQL_FRAME_CURRENT_ROW: b = wc->frame_rows ? (int64_t)k + 1 : qe; break;
      case SQL_FRAME_PRECEDING: b = (int64_t)k - wc->end_offset + 1; break;
      default: b = ps;
      }
  }
  if (a < ps) a = ps;
  if (a > pe) a = pe;
  if (b > pe) b = pe;
  if (b < a) b = a;
  *fs = (uint32_t)a;
  *fe = (uint32_t)b;
}

/* Does value at row x beat the one at row y for min (want_min) or max? */
static bool value_better(const sql_vec *v, uint32_t x, uint32_t y, bool want_min) {
  int c = 0;
  switch (sql_type_phys(v->type->id)) {
  case SQL_PHYS_U8:
    c = (SQL_VEC_U8(v)[x] > SQL_VEC_U8(v)[y]) - (SQL_VEC_U8(v)[x] < SQL_VEC_U8(v)[y]);
    break;
  case SQL_PHYS_I64:
    c = (SQL_VEC_I64(v)[x] > SQL_VEC_I64(v)[y]) - (SQL_VEC_I64(v)[x] < SQL_VEC_I64(v)[y]);
    break;
  case SQL_PHYS_I128:
    c = (SQL_VEC_I128(v)[x] > SQL_VEC_I128(v)[y]) - (SQL_VEC_I128(v)[x] < SQL_VEC_I128(v)[y]);
    break;
  case SQL_PHYS_F64: {
    double a = SQL_VEC_F64(v)[x], b = SQL_VEC_F64(v)[y];
    c = isnan(a) ? (isnan(b) ? 0 : 1) : isnan(b) ? -1 : (a > b) - (a < b);
    break;
  }
  case SQL_PHYS_STR: {
    sql_str a = SQL_VEC_STR(v)[x], b = SQL_VEC_STR(v)[y];
    c = memcmp(a.ptr, b.ptr, a.len < b.len ? a.len : b.len);
    if (c == 0) c = (a.len > b.len) - (a.len < b.len);
    break;
  }
  case SQL_PHYS_INTERVAL: {
    sql_interval a = SQL_VEC_IV(v)[x], b = SQL_VEC_IV(v)[y];
    sql_i128 sa = ((sql_i128)a.months * 30 + a.days) * 86400000000LL + a.micros;
    sql_i128 sb = ((sql_i128)b.months * 30 + b.days) * 86400000000LL + b.micros;
    c = (sa > sb) - (sa < sb);
    break;
  }
  default: break;
  }
  return want_min ? c < 0 : c > 0;
}

typedef struct win_ctx {
  window_state *s;
  win_rt *w;
  const uint32_t *perm;
  sql_exec_ctx *ctx;
  uint32_t *src;  /* value functions: the row whose value row r gets (SQL_NONE: NULL) */
  int64_t *ival;  /* integer results */
  double *fval;   /* float results */
  uint8_t *nulls; /* results' NULLs (integer/float/aggregate results) */
} win_ctx;

/* Aggregate over frames for the partition at sorted positions [ps, pe). */
static int win_agg_partition(win_ctx *x, uint32_t ps, uint32_t pe, const uint32_t *qs_of,
                             const uint32_t *qe_of) {
  const sql_window_call *wc = x->w->call;
  const sql_agg_call *ac = &wc->agg;
  const uint32_t *perm = x->perm;
  const sql_vec *v = ac->n_args ? &x->w->args.cols[0] : NULL;
  const uint8_t *fm = x->w->fmask;
  uint32_t n = pe - ps;
  /* Rows that take part: filter passed and (except count(*)) value not NULL. */
  uint8_t *in = malloc(n ? n : 1);
  int64_t *pc = malloc(((size_t)n + 1) * sizeof *pc);
  sql_i128 *pi = NULL;
  double *pf = NULL;
  sql_interval *piv = NULL;
  sql_phys ph = v ? sql_type_phys(v->type->id) : SQL_PHYS_NONE;
  bool sum_like = ac->fn == SQL_AGG_SUM || ac->fn == SQL_AGG_AVG;
  int rc = 0;
  if (!in || !pc) rc = tarn_err(x->ctx->err, TARN_ENOMEM, "out of memory");
  if (!rc && sum_like) {
    if (ph == SQL_PHYS_I64 || ph == SQL_PHYS_I128)
      pi = malloc(((size_t)n + 1) * sizeof *pi);
    else if (ph == SQL_PHYS_F64)
      pf = malloc(((size_t)n + 1) * sizeof *pf);
    else if (ph == SQL_PHYS_INTERVAL)
      piv = malloc(((size_t)n + 1) * sizeof *piv);
    if (!pi && !pf && !piv) rc = tarn_err(x->ctx->err, TARN_ENOMEM, "out of memory");
  }
  if (rc) goto done;
  pc[0] = 0;
  if (pi) pi[0] = 0;
  if (pf) pf[0] = 0;
  if (piv) memset(&piv[0], 0, sizeof piv[0]);
  for (uint32_t j = 0; j < n; j++) {
    uint32_t r = perm[ps + j];
    in[j] = (!fm || fm[r]) && (ac->fn == SQL_AGG_COUNT_STAR || !SQL_VEC_IS_NULL(v, r));
    pc[j + 1] = pc[j] + in[j];
    if (pi) {
      sql_i128 add = !in[j] ? 0 : ph == SQL_PHYS_I64 ? SQL_VEC_I64(v)[r] : SQL_VEC_I128(v)[r];
      if (__builtin_add_overflow(pi[j], add, &pi[j + 1])) {
        rc = tarn_err(x->ctx->err, TARN_EINVAL, "numeric field overflow");
        goto done;
      }
    }
    if (pf) pf[j + 1] = pf[j] + (in[j] ? SQL_VEC_F64(v)[r] : 0);
    if (piv) {
      piv[j + 1] = piv[j];
      if (in[j]) {
        sql_interval d = SQL_VEC_IV(v)[r];
        piv[j + 1].months += d.months;
        piv[j + 1].days += d.days;
        piv[j + 1].micros += d.micros;
      }
    }
  }
  bool starts_at_ps = !wc->has_frame || wc->start == SQL_FRAME_UNBOUNDED_PRECEDING;
  uint32_t best = SQL_NONE; /* running min/max */
  uint32_t run_to = ps;
  for (uint32_t k = ps; k < pe && !rc; k++) {
    uint32_t r = perm[k], fs, fe;
    frame_of(x->w, perm, ps, pe, qs_of[k - ps], qe_of[k - ps], k, &fs, &fe);
    int64_t cnt = pc[fe - ps] - pc[fs - ps];
    switch (ac->fn) {
    case SQL_AGG_COUNT_STAR:
    case SQL_AGG_COUNT: x->ival[r] = cnt; break;
    case SQL_AGG_MIN:
    case SQL_AGG_MAX: {
      bool mn = ac->fn == SQL_AGG_MIN;
      uint32_t b = SQL_NONE;
      if (starts_at_ps) {
        while (run_to < fe) { /* frame ends never move backwards within a partition */
          uint32_t rr = perm[run_to];
          if (in[run_to - ps] && (best == SQL_NONE || value_better(v, rr, best, mn))) best = rr;
          run_to++;
        }
        b = best;
      } else {
        for (uint32_t j = fs; j < fe; j++) {
          uint32_t rr = perm[j];
          if (in[j - ps] && (b == SQL_NONE || value_better(v, rr, b, mn))) b = rr;
        }
      }
      x->src[r] = b;
      break;
    }
    case SQL_AGG_SUM:
    case SQL_AGG_AVG: {
      x->nulls[r] = cnt == 0;
      if (cnt == 0) break;
      const sql_type *t = wc->type;
      if (pi) {
        sql_i128 sum = pi[fe - ps] - pi[fs - ps];
        if (ac->fn == SQL_AGG_SUM) {
          if (t->id == SQL_INT8) {
            if (sum > INT64_MAX || sum < INT64_MIN) {
              rc = tarn_err(x->ctx->err, TARN_EINVAL, "bigint out of range");
              break;
            }
            SQL_VEC_I64(&x->w->result)[r] = (int64_t)sum;
          } else {
            SQL_VEC_I128(&x->w->result)[r] = sum;
          }
        } else if (t->id == SQL_DECIMAL) {
          int in_scale = v->type->id == SQL_DECIMAL ? v->type->scale : 0;
          if (!sql_dec_div(sum, cnt, t->scale - in_scale, &SQL_VEC_I128(&x->w->result)[r])) {
            rc = tarn_err(x->ctx->err, TARN_EINVAL, "numeric field overflow");
            break;
          }
        } else {
          SQL_VEC_F64(&x->w->result)[r] = (double)sum / (double)cnt;
        }
      } else if (pf) {
        double sum = 0;
        if (starts_at_ps) {
          sum = pf[fe - ps];
        } else {
          for (uint32_t j = fs; j < fe; j++)
            if (in[j - ps]) sum += SQL_VEC_F64(v)[perm[j]];
        }
        SQL_VEC_F64(&x->w->result)[r] = ac->fn == SQL_AGG_SUM ? sum : sum / (double)cnt;
      } else {
        sql_interval a = piv[fe - ps], b = piv[fs - ps], d;
        d.months = a.months - b.months;
        d.days = a.days - b.days;
        d.micros = a.micros - b.micros;
        if (ac->fn == SQL_AGG_AVG) {
          /* Same cascade as the aggregate's avg(interval). */
          double f = (double)cnt, mon = d.months / f, day = d.days / f;
          sql_interval q;
          q.months = (int32_t)mon;
          q.days = (int32_t)day;
          double mrd = rint((mon - q.months) * 30 * 1e6) / 1e6;
          double sec = rint((day - q.days + mrd - (int)mrd) * 86400 * 1e6) / 1e6;
          if (fabs(sec) >= 86400) {
            q.days += (int32_t)(sec / 86400);
            sec -= (int)(sec / 86400) * 86400.0;
          }
          q.days += (int32_t)mrd;
          q.micros = (int64_t)rint((double)d.micros / f + sec * 1e6);
          d = q;
        }
        SQL_VEC_IV(&x->w->result)[r] = d;
      }
      break;
    }
    default:
      rc = tarn_err(x->ctx->err, TARN_EUNSUPPORTED,
                    "this aggregate is not supported as a window function");
    }
  }
done:
  free(in);
  free(pc);
  free(pi);
  free(pf);
  free(piv);
  return rc;
}

/* Computes call w's column for every row into w->result (in the window's result region). */
static int win_compute(window_state *s, win_rt *w, sql_exec_ctx *ctx, uint32_t **perm_out) {
  const sql_window_call *wc = w->call;
  uint32_t N = s->rows.n;
  uint32_t *perm = malloc((N ? N : 1) * sizeof *perm);
  uint32_t *qs_of = malloc((N ? N : 1) * sizeof *qs_of);
  uint32_t *qe_of = malloc((N ? N : 1) * sizeof *qe_of);
  win_ctx x = {.s = s, .w = w, .ctx = ctx};
  x.src = malloc((N ? N : 1) * sizeof *x.src);
  x.ival = calloc(N ? N : 1, sizeof *x.ival);
  x.fval = calloc(N ? N : 1, sizeof *x.fval);
  x.nulls = calloc(N ? N : 1, 1);
  int rc = 0;
  if (!perm || !qs_of || !qe_of || !x.src || !x.ival || !x.fval || !x.nulls)
    rc = tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
  if (!rc) rc = sql_keystore_sort(&w->fkeys, NULL, N, perm, ctx->err);
  x.perm = perm;
  for (uint32_t i = 0; i < N && x.src; i++)
    x.src[i] = SQL_NONE;
  sql_win_fn fn = wc->fn;
  bool is_value = fn == SQL_WIN_LAG || fn == SQL_WIN_LEAD || fn == SQL_WIN_FIRST_VALUE ||
                  fn == SQL_WIN_LAST_VALUE ||
                  (fn == SQL_WIN_AGG && (wc->agg.fn == SQL_AGG_MIN || wc->agg.fn == SQL_AGG_MAX));
  bool is_float = fn == SQL_WIN_PERCENT_RANK || fn == SQL_WIN_CUME_DIST;
  bool is_sum = fn == SQL_WIN_AGG && (wc->agg.fn == SQL_AGG_SUM || wc->agg.fn == SQL_AGG_AVG);
  if (!rc && is_sum) rc = sql_vec_init(s->res_mem, &w->result, wc->type, N, ctx->err);
  const sql_vec *val = wc->agg.n_args ? &w->args.cols[0] : NULL;
  bool has_default = (fn == SQL_WIN_LAG || fn == SQL_WIN_LEAD) && wc->agg.n_args > 2;
  for (uint32_t ps = 0; !rc && ps < N;) {
    uint32_t pe = ps + 1;
    while (pe < N && sql_keystore_cmp(&w->pkeys, perm[ps], perm[pe]) == 0)
      pe++;
    /* Peer groups within the partition. */
    for (uint32_t q = ps; q < pe;) {
      uint32_t qe = q + 1;
      while (qe < pe && sql_keystore_cmp(&w->fkeys, perm[q], perm[qe]) == 0)
        qe++;
      for (uint32_t k = q; k < qe; k++) {
        qs_of[k - ps] = q;
        qe_of[k - ps] = qe;
      }
      q = qe;
    }
    uint32_t n = pe - ps;
    int64_t dense = 0;
    for (uint32_t k = ps; k < pe && !rc; k++) {
      uint32_t r = perm[k];
      uint32_t qs = qs_of[k - ps], qe = qe_of[k - ps];
      if (qs == k) dense++;
      switch (fn) {
      case SQL_WIN_ROW_NUMBER: x.ival[r] = k - ps + 1; break;
      case SQL_WIN_RANK: x.ival[r] = qs - ps + 1; break;
      case SQL_WIN_DENSE_RANK: x.ival[r] = dense; break;
      case SQL_WIN_PERCENT_RANK: x.fval[r] = n > 1 ? (double)(qs - ps) / (double)(n - 1) : 0; break;
      case SQL_WIN_CUME_DIST: x.fval[r] = (double)(qe - ps) / (double)n; break;
      case SQL_WIN_NTILE: {
        const sql_vec *nv = val;
        uint32_t r0 = perm[ps];
        if (!nv || SQL_VEC_IS_NULL(nv, r0)) {
          x.nulls[r] = 1;
          break;
        }
        int64_t buckets = SQL_VEC_I64(nv)[r0];
        if (buckets <= 0) {
          rc = tarn_err(ctx->err, TARN_EINVAL, "argument of ntile must be greater than zero");
          break;
        }
        int64_t j = k - ps, size = n / buckets, extra = n % buckets;
        /* The first `extra` buckets hold size + 1 rows. */
        int64_t big = extra * (size + 1);
        x.ival[r] = j < big ? j / (size + 1) + 1 : extra + (j - big) / (size ? size : 1) + 1;
        break;
      }
      case SQL_WIN_LAG:
      case SQL_WIN_LEAD: {
        int64_t off = 1;
        if (wc->agg.n_args > 1) {
          const sql_vec *ov = &w->args.cols[1];
          if (SQL_VEC_IS_NULL(ov, r)) {
            x.src[r] = SQL_NONE;
            break;
          }
          off = SQL_VEC_I64(ov)[r];
        }
        int64_t t = fn == SQL_WIN_LAG ? (int64_t)k - off : (int64_t)k + off;
        if (t >= ps && t < pe)
          x.src[r] = perm[t];
        else
          x.src[r] = has_default ? N + r : SQL_NONE;
        break;
      }
      case SQL_WIN_FIRST_VALUE:
      case SQL_WIN_LAST_VALUE: {
        uint32_t fs, fe;
        frame_of(w, perm, ps, pe, qs, qe, k, &fs, &fe);
        x.src[r] = fs == fe ? SQL_NONE : fn == SQL_WIN_FIRST_VALUE ? perm[fs] : perm[fe - 1];
        break;
      }
      case SQL_WIN_AGG: break;
      }
    }
    if (!rc && fn == SQL_WIN_AGG) rc = win_agg_partition(&x, ps, pe, qs_of, qe_of);
    ps = pe;
  }
  /* Materialise the column. */
  if (!rc && is_value) {
    if (has_default) {
      sql_vec comb = {0};
      uint32_t cap = 0;
      rc = sql_vec_init(s->res_mem, &comb, val->type, 0, ctx->err);
      if (!rc) rc = sql_vec_append(s->res_mem, &comb, &cap, val, 0, N, ctx->err);
      if (!rc) rc = sql_vec_append(s->res_mem, &comb, &cap, &w->args.cols[2], 0, N, ctx->err);
      if (!rc) rc = sql_gather_nullable(s->res_mem, &comb, x.src, N, &w->result, ctx->err);
    } else {
      rc = sql_gather_nullable(s->res_mem, val, x.src, N, &w->result, ctx->err);
    }
  } else if (!rc && !is_sum) {
    rc = sql_vec_init(s->res_mem, &w->result, wc->type, N, ctx->err);
    if (!rc) {
      sql_phys ph = sql_type_phys(wc->type->id);
      if (ph == SQL_PHYS_I64 && !is_float)
        memcpy(w->result.data, x.ival, (size_t)N * 8);
      else if (ph == SQL_PHYS_F64 && is_float)
        memcpy(w->result.data, x.fval, (size_t)N * 8);
      else if (ph == SQL_PHYS_F64)
        for (uint32_t i = 0; i < N; i++)
          SQL_VEC_F64(&w->result)[i] = (double)x.ival[i];
      else if (ph == SQL_PHYS_I128)
        for (uint32_t i = 0; i < N; i++)
          SQL_VEC_I128(&w->result)[i] = x.ival[i];
      else
        rc = tarn_err(ctx->err, TARN_EINVAL, "internal error: window result type");
    }
  }
  if (!rc && N > 0) {
    bool any = false;
    for (uint32_t i = 0; i < N && !any; i++)
      any = x.nulls[i];
    if (any) {
      uint8_t *nl = sql_vec_nulls(s->res_mem, &w->result);
      if (!nl)
        rc = tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
      else
        for (uint32_t i = 0; i < N; i++)
          nl[i] |= x.nulls[i];
    }
  }
  free(qs_of);
  free(qe_of);
  free(x.src);
  free(x.ival);
  free(x.fval);
  free(x.nulls);
  if (rc || !perm_out) {
    free(perm);
    return rc;
  }
  *perm_out = perm;
  return 0;
}

/* --- The operator ----------------------------------------------------------------------------- */

static int window_consume(sql_op *op, sql_exec_ctx *ctx) {
  window_state *s = op->state;
  for (;;) {
    sql_batch *in;
    int rc = op->child[0]->vt->next(op->child[0], ctx, &in);
    if (rc) return rc;
    if (!in) break;
    rc = in->n_rows ? window_consume_batch(s, ctx, in) : 0;
    sql_batch_free(in);
    if (rc) return rc;
  }
  s->res_mem = sql_mem_new();
  if (!s->res_mem) return tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
  for (size_t c = 0; c < s->n_calls; c++) {
    int rc = win_compute(s, &s->calls[c], ctx, c == 0 ? &s->order : NULL);
    if (rc) return rc;
    /* Keys are no longer needed once the column exists. */
    sql_keystore_free(&s->calls[c].pkeys);
    sql_keystore_free(&s->calls[c].fkeys);
    sql_keystore_free(&s->calls[c].okeys);
    sql_keystore_free(&s->calls[c].rskeys);
    sql_keystore_free(&s->calls[c].rekeys);
  }
  if (!s->order) {
    s->order = malloc((s->rows.n ? s->rows.n : 1) * sizeof *s->order);
    if (!s->order) return tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < s->rows.n; i++)
      s->order[i] = i;
  }
  return 0;
}

static int window_next(sql_op *op, sql_exec_ctx *ctx, sql_batch **out) {
  window_state *s = op->state;
  *out = NULL;
  if (!s->consumed) {
    s->consumed = true;
    int rc = window_consume(op, ctx);
    if (rc) return rc;
  }
  if (s->pos >= s->rows.n) return 0;
  uint32_t n = s->rows.n - s->pos;
  if (n > SQL_BATCH_ROWS) n = SQL_BATCH_ROWS;
  const uint32_t *sel = s->order + s->pos;
  sql_batch *b;
  int rc = sql_batch_new((uint32_t)op->plan->n_out, n, &b, ctx->err);
  if (rc) return rc;
  if (sql_mem_add_parent(b->mem, s->rows.mem) || sql_mem_add_parent(b->mem, s->res_mem))
    rc = tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
  for (uint32_t c = 0; !rc && c < s->rows.n_cols; c++)
    rc = sql_vec_gather(b->mem, &s->rows.cols[c], sel, n, &b->cols[c], ctx->err);
  for (size_t c = 0; !rc && c < s->n_calls; c++)
    rc =
        sql_vec_gather(b->mem, &s->calls[c].result, sel, n, &b->cols[s->rows.n_cols + c], ctx->err);
  if (rc) {
    sql_batch_free(b);
    return rc;
  }
  s->pos += n;
  *out = b;
  return 0;
}

static int window_open(sql_op *op, sql_exec_ctx *ctx) {
  window_state *s = op->state;
  s->ctx = ctx;
  return sql_xop_open_children(op, ctx);
}

static void window_close(sql_op *op) {
  window_state *s = op->state;
  if (!s) return;
  sql_xop_close_children(op);
  sql_rows_free(&s->rows);
  for (size_t c = 0; s->calls && c < s->n_calls; c++) {
    sql_keystore_free(&s->calls[c].pkeys);
    sql_keystore_free(&s->calls[c].fkeys);
    sql_keystore_free(&s->calls[c].okeys);
    sql_keystore_free(&s->calls[c].rskeys);
    sql_keystore_free(&s->calls[c].rekeys);
    sql_rows_free(&s->calls[c].args);
    free(s->calls[c].fmask);
  }
  free(s->calls);
  if (s->res_mem) sql_mem_release(s->res_mem);
  free(s->order);
  if (s->ctx && s->charged) sql_exec_charge(s->ctx, -s->charged);
  free(s);
  op->state = NULL;
}

static const sql_op_vtable window_vt = {"window", window_open, window_next, window_close};

static int check_call(const sql_window_call *wc, tarn_error *err) {
  size_t need = 0;
  switch (wc->fn) {
  case SQL_WIN_NTILE:
  case SQL_WIN_LAG:
  case SQL_WIN_LEAD:
  case SQL_WIN_FIRST_VALUE:
  case SQL_WIN_LAST_VALUE: need = 1; break;
  case SQL_WIN_AGG:
    switch (wc->agg.fn) {
    case SQL_AGG_COUNT_STAR: break;
    case SQL_AGG_COUNT:
    case SQL_AGG_SUM:
    case SQL_AGG_AVG:
    case SQL_AGG_MIN:
    case SQL_AGG_MAX: need = 1; break;
    default:
      return tarn_err(err, TARN_EUNSUPPORTED,
                      "only count, sum, avg, min and max work as window aggregates");
    }
    if (wc->agg.distinct)
      return tarn_err(err, TARN_EUNSUPPORTED, "DISTINCT is not implemented for window functions");
    break;
  default: break;
  }
  if (wc->agg.n_args < need)
    return tarn_err(err, TARN_EINVAL, "internal error: window function without its argument");
  if (wc->has_frame && !wc->frame_rows &&
      (((wc->start == SQL_FRAME_PRECEDING || wc->start == SQL_FRAME_FOLLOWING) &&
        !wc->range_start) ||
       ((wc->end == SQL_FRAME_PRECEDING || wc->end == SQL_FRAME_FOLLOWING) && !wc->range_end)))
    return tarn_err(err, TARN_EUNSUPPORTED, "RANGE frames with an offset are not supported");
  if ((wc->range_start || wc->range_end) && wc->n_order != 1)
    return tarn_err(err, TARN_EINVAL,
                    "RANGE with offset PRECEDING/FOLLOWING requires exactly one ORDER BY column");
  if (wc->has_frame && wc->frame_rows &&
      ((wc->start == SQL_FRAME_PRECEDING && wc->start_offset < 0) ||
       (wc->start == SQL_FRAME_FOLLOWING && wc->start_offset < 0) ||
       (wc->end == SQL_FRAME_PRECEDING && wc->end_offset < 0) ||
       (wc->end == SQL_FRAME_FOLLOWING && wc->end_offset < 0)))
    return tarn_err(err, TARN_EINVAL, "frame starting or ending offset must not be negative");
  if (wc->has_frame &&
      (wc->start == SQL_FRAME_UNBOUNDED_FOLLOWING || wc->end == SQL_FRAME_UNBOUNDED_PRECEDING))
    return tarn_err(err, TARN_EINVAL, "frame start cannot be UNBOUNDED FOLLOWING");
  return 0;
}

int sql_op_window(sql_exec_ctx *ctx, sql_plan *p, sql_op **out) {
  int rc = sql_xop_new(ctx, p, &window_vt, sizeof(window_state), 1, out);
  if (rc) return rc;
  window_state *s = (*out)->state;
  sql_plan *cp = p->child[0];
  if (p->n_out != cp->n_out + p->n_windows)
    return sql_xop_fail(*out, tarn_err(ctx->err, TARN_EINVAL,
                                       "internal error: window output has %zu columns", p->n_out));
  s->n_calls = p->n_windows;
  s->calls = calloc(p->n_windows ? p->n_windows : 1, sizeof *s->calls);
  if (!s->calls) return sql_xop_fail(*out, tarn_err(ctx->err, TARN_ENOMEM, "out of memory"));
  rc = sql_rows_init(&s->rows, cp->out_types, (uint32_t)cp->n_out, ctx->err);
  for (size_t c = 0; !rc && c < p->n_windows; c++) {
    sql_window_call *wc = &p->windows[c];
    win_rt *w = &s->calls[c];
    w->call = wc;
    rc = check_call(wc, ctx->err);
    if (!rc) rc = sql_resolve_all(wc->partition, wc->n_partition, cp, ctx->err);
    for (size_t k = 0; !rc && k < wc->n_order; k++)
      rc = sql_resolve_all(&wc->order[k].expr, 1, cp, ctx->err);
    if (!rc) rc = sql_resolve_all(wc->agg.args, wc->agg.n_args, cp, ctx->err);
    if (!rc && wc->agg.filter) rc = sql_resolve_all(&wc->agg.filter, 1, cp, ctx->err);
    if (!rc && wc->range_start) rc = sql_resolve_all(&wc->range_start, 1, cp, ctx->err);
    if (!rc && wc->range_end) rc = sql_resolve_all(&wc->range_end, 1, cp, ctx->err);
    if (!rc) {
      const sql_type *at[8];
      size_t na = wc->agg.n_args < 8 ? wc->agg.n_args : 8;
      for (size_t a = 0; a < na; a++)
        at[a] = wc->agg.args[a]->type;
      rc = sql_rows_init(&w->args, at, (uint32_t)na, ctx->err);
    }
  }
  return rc ? sql_xop_fail(*out, rc) : 0;
}
