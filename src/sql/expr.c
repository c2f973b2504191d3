/*
 * The vectorized expression evaluator.
 *
 * An expression is evaluated over a whole batch into one vector. Internally a result may also be
 * a one-row vector standing for a value that is the same on every row (a constant, an outer
 * reference, an uncorrelated scalar subquery, or a function of those): function kernels then see
 * the constant without a broadcast copy, and column-versus-constant kernels run their tight loop.
 * Only the public entry points broadcast.
 *
 * Laziness is by selection: AND and OR evaluate each later operand only on the rows still
 * undecided, CASE evaluates every WHEN on the rows no earlier WHEN took and every THEN on exactly
 * the rows that chose it, COALESCE evaluates an argument only where all earlier ones were NULL.
 * "Only on some rows" is done by gathering the columns the operand reads into a smaller batch, so
 * kernels stay dense; an error-free operand over most of the rows is instead evaluated on all of
 * them, which is cheaper than gathering. This is what makes `x <> 0 AND 1 / x > 1` and
 * `CASE WHEN x = 0 THEN 0 ELSE 1 / x END` safe, as they are in PostgreSQL.
 *
 * Selection (sql_expr_select) refines a row list conjunct by conjunct; comparisons of a column
 * with a constant run a dedicated loop that writes the surviving row numbers directly.
 *
 * Subqueries run through ctx->run_subquery. An uncorrelated one runs once per expression: the
 * first thread to need it marks the cache busy and computes it without holding the lock (the
 * subquery may itself run on worker threads that need other caches), later threads wait on a
 * condition variable. A correlated one runs once per row, with the row published as ctx->outer.
 */
#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/expr_impl.h"
#include "sql/plan.h"

static int eval_any(sql_eval_ctx *ctx, const sql_expr *e, const sql_batch *b, sql_vec *out);

static bool is_const_vec(const sql_vec *v, uint32_t n) { return v->n == 1 && n != 1; }

/* Broadcasts a one-row result to n rows. */
static int expand(sql_eval_ctx *ctx, sql_vec *v, uint32_t n) {
  if (v->n == n) return 0;
  sql_vec full;
  int rc = sql_vec_broadcast(ctx->mem, v, n, &full, ctx->err);
  if (rc) return rc;
  *v = full;
  return 0;
}

static int eval_full(sql_eval_ctx *ctx, const sql_expr *e, const sql_batch *b, sql_vec *out) {
  int rc = eval_any(ctx, e, b, out);
  return rc ? rc : expand(ctx, out, b->n_rows);
}

/* ---- which columns an expression reads ------------------------------------------------------- */

static void mark_slots(const sql_expr *e, uint8_t *used, uint32_t n_cols, bool *all) {
  if (e == NULL) return;
  if (e->kind == SQL_E_COLUMN && e->slot >= 0 && (uint32_t)e->slot < n_cols) used[e->slot] = 1;
  /* A correlated subquery reads the outer row's columns by slot: keep them all. */
  if (e->kind == SQL_E_SUBQUERY && e->correlated) *all = true;
  for (size_t i = 0; i < e->n_args; i++)
    mark_slots(e->args[i], used, n_cols, all);
}

/* Evaluates e on rows sel[0..n_sel) of b into out (n_sel rows, or one for a constant). The rows
 * must be ascending; n_sel == b->n_rows means all of them. */
static int eval_on(sql_eval_ctx *ctx, const sql_expr *e, const sql_batch *b, const uint32_t *sel,
                   uint32_t n_sel, sql_vec *out) {
  if (sel == NULL || n_sel == b->n_rows) return eval_any(ctx, e, b, out);
  sql_batch sub;
  memset(&sub, 0, sizeof sub);
  sub.n_rows = n_sel;
  sub.n_cols = b->n_cols;
  sub.mem = b->mem;
  sub.cols = sql_mem_alloc(ctx->mem, b->n_cols ? b->n_cols : 1, sizeof(sql_vec) + 1);
  if (sub.cols == NULL) return sql_oom(ctx);
  uint8_t *used = (uint8_t *)(sub.cols + (b->n_cols ? b->n_cols : 1));
  bool all = false;
  mark_slots(e, used, b->n_cols, &all);
  for (uint32_t c = 0; c < b->n_cols; c++) {
    if (!all && !used[c]) continue;
    int rc = sql_vec_gather(ctx->mem, &b->cols[c], sel, n_sel, &sub.cols[c], ctx->err);
    if (rc) return rc;
  }
  return eval_any(ctx, e, &sub, out);
}

/* ---- small helpers --------------------------------------------------------------------------- */

static const sql_type *bool_type(void) { return sql_type_get(SQL_BOOL); }

static int new_bool(sql_eval_ctx *ctx, uint32_t n, bool with_nulls, sql_vec *out) {
  int rc = sql_vec_init(ctx->mem, out, bool_type(), n, ctx->err);
  if (rc) return rc;
  if (with_nulls && n && sql_vec_nulls(ctx->mem, out) == NULL) return sql_oom(ctx);
  return 0;
}

/* Truth of row i of a boolean vector: 1 true, 0 false, -1 NULL (one-row vectors broadcast). */
static inline int truth(const sql_vec *v, uint32_t i) {
  uint32_t r = v->n == 1 ? 0 : i;
  if (SQL_VEC_IS_NULL(v, r)) return -1;
  return SQL_VEC_U8(v)[r] != 0;
}

/* Makes null map of out the OR of those of the given argument vectors (fresh memory). Returns 1
 * when some one-row argument is NULL (the whole result is NULL). */
static int merge_nulls(sql_eval_ctx *ctx, sql_vec *const *args, size_t n_args, uint32_t n,
                       uint8_t **nulls) {
  *nulls = NULL;
  for (size_t k = 0; k < n_args; k++) {
    const sql_vec *a = args[k];
    if (a->nulls == NULL) continue;
    if (is_const_vec(a, n) || (a->n == 1 && n == 1)) {
      if (a->nulls[0]) return 1;
      continue;
    }
    if (*nulls == NULL) {
      if ((*nulls = sql_mem_alloc(ctx->mem, n, 1)) == NULL) return sql_oom(ctx);
      memcpy(*nulls, a->nulls, n);
    } else {
      for (uint32_t i = 0; i < n; i++)
        (*nulls)[i] |= a->nulls[i];
    }
  }
  return 0;
}

/* Runs f over argument vectors (each n rows or one constant row) into out. */
static int call_func(sql_eval_ctx *ctx, const sql_func *f, const sql_type *type, sql_vec **args,
                     size_t n_args, uint32_t n, sql_vec *out) {
  if (type == NULL) type = f->ret;
  /* All-constant arguments: compute once (volatile functions need a value per row). */
  bool all_const = !f->volatile_;
  for (size_t k = 0; k < n_args && all_const; k++)
    if (args[k]->n != 1) all_const = false;
  uint32_t rows = all_const ? (n == 0 ? 0 : 1) : n;
  if (all_const && n == 0) rows = 0;
  uint8_t *nulls = NULL;
  if (!f->handles_nulls) {
    int r = merge_nulls(ctx, (sql_vec *const *)args, n_args, rows, &nulls);
    if (r == 1) return sql_vec_nulls_of(ctx->mem, type, rows, out, ctx->err);
    if (r) return r;
  }
  int rc = sql_vec_init(ctx->mem, out, type, rows, ctx->err);
  if (rc) return rc;
  out->nulls = nulls;
  if (rows == 0) return 0;
  return f->kernel(ctx, f, (sql_vec *const *)args, n_args, rows, out);
}

/* ---- hash sets of values (IN lists, IN subqueries) ------------------------------------------- */

typedef struct hset {
  uint32_t *slots; /* row + 1, 0 = empty */
  uint32_t mask;
  const sql_vec *src;
  sql_phys phys;
} hset;

static inline uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

static uint64_t hash_bytes(const char *p, uint64_t n) {
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;
  while (n >= 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    h = mix64(h ^ w);
    p += 8;
    n -= 8;
  }
  uint64_t w = 0;
  memcpy(&w, p, n);
  return mix64(h ^ w ^ 0x5555);
}

static bool hashable(sql_phys p) {
  return p == SQL_PHYS_I64 || p == SQL_PHYS_F64 || p == SQL_PHYS_I128 || p == SQL_PHYS_STR ||
         p == SQL_PHYS_U8;
}

static uint64_t hash_row(const sql_vec *v, sql_phys p, uint32_t i) {
  switch (p) {
  case SQL_PHYS_U8: return mix64(SQL_VEC_U8(v)[i]);
  case SQL_PHYS_I64: return mix64((uint64_t)SQL_VEC_I64(v)[i]);
  case SQL_PHYS_F64: {
    double d = SQL_VEC_F64(v)[i];
    if (d == 0) d = 0; /* -0 equals 0 */
    if (isnan(d)) return 0x7ff8;
    uint64_t u;
    memcpy(&u, &d, 8);
    return mix64(u);
  }
  case SQL_PHYS_I128: {
    sql_i128 x = SQL_VEC_I128(v)[i];
    return mix64((uint64_t)x ^ mix64((uint64_t)((unsigned __int128)x >> 64)));
  }
  case SQL_PHYS_STR: return hash_bytes(SQL_VEC_STR(v)[i].ptr, SQL_VEC_STR(v)[i].len);
  default: return 0;
  }
}

static bool rows_equal(const sql_vec *a, uint32_t i, const sql_vec *b, uint32_t j, sql_phys p) {
  switch (p) {
  case SQL_PHYS_U8: return SQL_VEC_U8(a)[i] == SQL_VEC_U8(b)[j];
  case SQL_PHYS_I64: return SQL_VEC_I64(a)[i] == SQL_VEC_I64(b)[j];
  case SQL_PHYS_F64: {
    double x = SQL_VEC_F64(a)[i], y = SQL_VEC_F64(b)[j];
    return x == y || (isnan(x) && isnan(y));
  }
  case SQL_PHYS_I128: return SQL_VEC_I128(a)[i] == SQL_VEC_I128(b)[j];
  case SQL_PHYS_STR: {
    sql_str x = SQL_VEC_STR(a)[i], y = SQL_VEC_STR(b)[j];
    return x.len == y.len && (x.len == 0 || memcmp(x.ptr, y.ptr, x.len) == 0);
  }
  default: return sql_row_cmp(a, i, b, j) == 0;
  }
}

/* Builds a set over the non-NULL rows of src; *has_null tells whether src had NULLs. */
static int hset_build(hset *h, const sql_vec *src, bool *has_null) {
  h->src = src;
  h->phys = sql_type_phys(src->type->id);
  uint32_t cap = 16;
  while (cap < src->n * 2u + 2 && cap < (1u << 31))
    cap *= 2;
  h->slots = calloc(cap, sizeof *h->slots);
  if (h->slots == NULL) return TARN_ENOMEM;
  h->mask = cap - 1;
  *has_null = false;
  for (uint32_t i = 0; i < src->n; i++) {
    if (SQL_VEC_IS_NULL(src, i)) {
      *has_null = true;
      continue;
    }
    uint32_t s = (uint32_t)hash_row(src, h->phys, i) & h->mask;
    for (;; s = (s + 1) & h->mask) {
      if (h->slots[s] == 0) {
        h->slots[s] = i + 1;
        break;
      }
      if (rows_equal(src, h->slots[s] - 1, src, i, h->phys)) break;
    }
  }
  return 0;
}

static bool hset_has(const hset *h, const sql_vec *probe, uint32_t i) {
  uint32_t s = (uint32_t)hash_row(probe, h->phys, i) & h->mask;
  for (;; s = (s + 1) & h->mask) {
    uint32_t v = h->slots[s];
    if (v == 0) return false;
    if (rows_equal(h->src, v - 1, probe, i, h->phys)) return true;
  }
}

static void hset_free(hset *h) {
  free(h->slots);
  h->slots = NULL;
}

/* ---- assembling a result from per-branch pieces (CASE, COALESCE) ----------------------------- */

typedef struct piece {
  sql_vec v;      /* evaluated on some rows (or a constant row) */
  uint32_t *rows; /* output rows it supplies */
  uint32_t *pos;  /* index into v for each (NULL: 0, 1, 2, ...) */
  uint32_t n;
} piece;

static int assemble(sql_eval_ctx *ctx, const sql_type *type, uint32_t n, piece *pieces,
                    size_t n_pieces, sql_vec *out) {
  sql_phys p = sql_type_phys(type->id);
  if (p == SQL_PHYS_LIST || p == SQL_PHYS_STRUCT) {
    /* Nested values: append row by row in output order. */
    int32_t *which = malloc((size_t)(n ? n : 1) * sizeof *which);
    uint32_t *at = malloc((size_t)(n ? n : 1) * sizeof *at);
    if (which == NULL || at == NULL) {
      free(which);
      free(at);
      return sql_oom(ctx);
    }
    for (uint32_t i = 0; i < n; i++)
      which[i] = -1;
    for (size_t k = 0; k < n_pieces; k++)
      for (uint32_t j = 0; j < pieces[k].n; j++) {
        which[pieces[k].rows[j]] = (int32_t)k;
        at[pieces[k].rows[j]] = pieces[k].pos ? pieces[k].pos[j] : j;
      }
    sql_vec nullrow;
    int rc = sql_vec_nulls_of(ctx->mem, type, 1, &nullrow, ctx->err);
    memset(out, 0, sizeof *out);
    uint32_t cap = 0;
    if (rc == 0) rc = sql_vec_init(ctx->mem, out, type, 0, ctx->err);
    for (uint32_t i = 0; i < n && rc == 0; i++) {
      if (which[i] < 0) {
        rc = sql_vec_append(ctx->mem, out, &cap, &nullrow, 0, 1, ctx->err);
      } else {
        const sql_vec *v = &pieces[which[i]].v;
        rc = sql_vec_append(ctx->mem, out, &cap, v, v->n == 1 ? 0 : at[i], 1, ctx->err);
      }
    }
    free(which);
    free(at);
    return rc;
  }
  int rc = sql_vec_init(ctx->mem, out, type, n, ctx->err);
  if (rc) return rc;
  if (n == 0) return 0;
  uint8_t *nulls = sql_vec_nulls(ctx->mem, out);
  if (nulls == NULL) return sql_oom(ctx);
  memset(nulls, 1, n);
  for (size_t k = 0; k < n_pieces; k++) {
    const piece *pc = &pieces[k];
    const sql_vec *v = &pc->v;
    bool c = v->n == 1;
    for (uint32_t j = 0; j < pc->n; j++) {
      uint32_t r = pc->rows[j], s = c ? 0 : pc->pos ? pc->pos[j] : j;
      if (SQL_VEC_IS_NULL(v, s)) continue;
      nulls[r] = 0;
      switch (p) {
      case SQL_PHYS_U8: SQL_VEC_U8(out)[r] = SQL_VEC_U8(v)[s]; break;
      case SQL_PHYS_I64:
      case SQL_PHYS_F64: SQL_VEC_I64(out)[r] = SQL_VEC_I64(v)[s]; break;
      case SQL_PHYS_I128: SQL_VEC_I128(out)[r] = SQL_VEC_I128(v)[s]; break;
      case SQL_PHYS_STR: SQL_VEC_STR(out)[r] = SQL_VEC_STR(v)[s]; break;
      case SQL_PHYS_INTERVAL: SQL_VEC_IV(out)[r] = SQL_VEC_IV(v)[s]; break;
      default: break;
      }
    }
  }
  return 0;
}

/* Casts v to type when a branch was typed differently from the whole expression. */
static int conform(sql_eval_ctx *ctx, sql_vec *v, const sql_type *type) {
  if (type == NULL || sql_type_equal(v->type, type)) return 0;
  sql_vec c;
  int rc = sql_cast_vec(ctx, v, type, false, &c);
  if (rc == 0) *v = c;
  return rc;
}

/* ---- error-free expressions ------------------------------------------------------------------ */

/* True when evaluating e on rows that do not need it cannot fail (so it may run on all rows). */
static bool expr_safe(const sql_expr *e) {
  switch (e->kind) {
  case SQL_E_CONST:
  case SQL_E_COLUMN:
  case SQL_E_OUTER: return true;
  case SQL_E_FUNC:
    if (e->func == NULL || e->func->kernel != sql_kernel_compare) return false;
    break;
  case SQL_E_AND:
  case SQL_E_OR:
  case SQL_E_NOT:
  case SQL_E_IS_NULL:
  case SQL_E_IS_DISTINCT:
  case SQL_E_IN_LIST:
  case SQL_E_COALESCE:
  case SQL_E_STRUCT_FIELD: break;
  default: return false;
  }
  for (size_t i = 0; i < e->n_args; i++)
    if (!expr_safe(e->args[i])) return false;
  return true;
}

/* ---- AND / OR / NOT -------------------------------------------------------------------------- */

static int eval_andor(sql_eval_ctx *ctx, const sql_expr *e, const sql_batch *b, sql_vec *out) {
  bool is_and = e->kind == SQL_E_AND;
  uint32_t n = b->n_rows;
  if (e->n_args == 0) {
    int rc = new_bool(ctx, 1, false, out);
    if (rc == 0) SQL_VEC_U8(out)[0] = is_and;
    return rc;
  }
  sql_vec first;
  int rc = eval_any(ctx, e->args[0], b, &first);
  if (rc) return rc;
  if (e->n_args == 1) {
    *out = first;
    return 0;
  }
  rc = new_bool(ctx, n, true, out);
  if (rc) return rc;
  uint8_t *val = SQL_VEC_U8(out), *nul = out->nulls;
  for (uint32_t i = 0; i < n; i++) {
    int t = truth(&first, i);
    val[i] = t == 1;
    nul[i] = t < 0;
  }
  uint32_t *sel = malloc((size_t)(n ? n : 1) * sizeof *sel);
  if (sel == NULL) return sql_oom(ctx);
  /* A row is decided once false (AND) or true (OR). */
  uint8_t decided_val = is_and ? 0 : 1;
  for (size_t k = 1; k < e->n_args && rc == 0; k++) {
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++) {
      sel[m] = i;
      m += nul[i] || val[i] != decided_val;
    }
    if (m == 0) break;
    const sql_expr *arg = e->args[k];
    bool all = m == n || (expr_safe(arg) && m * 2 >= n);
    sql_vec v;
    rc = all ? eval_any(ctx, arg, b, &v) : eval_on(ctx, arg, b, sel, m, &v);
    if (rc) break;
    for (uint32_t j = 0; j < m; j++) {
      uint32_t i = sel[j];
      int t = truth(&v, all ? i : j);
      if (t == (int)decided_val) {
        val[i] = decided_val;
        nul[i] = 0;
      } else if (t < 0) {
        nul[i] = 1;
      }
    }
  }
  free(sel);
  return rc;
}

static int eval_not(sql_eval_ctx *ctx, const sql_expr *e, const sql_batch *b, sql_vec *out) {
  sql_vec v;
  int rc = eval_any(ctx, e->args[0], b, &v);
  if (rc) return rc;
  rc = new_bool(ctx, v.n, false, out);
  if (rc) return rc;
  out->nulls = v.nulls;
  for (uint32_t i = 0; i < v.n; i++)
    SQL_VEC_U8(out)[i] = !SQL_VEC_U8(&v)[i];
  return 0;
}

/* ---- IS [NOT] NULL, IS [NOT] DISTINCT FROM --------------------------------------------------- */

static int eval_is_null(sql_eval_ctx *ctx, const sql_expr *e, const sql_batch *b, sql_vec *out) {
  sql_vec v;
  int rc = eval_any(ctx, e->args[0], b, &v);
  if (rc) return rc;
  rc = new_bool(ctx, v.n, false, out);
  if (rc) return rc;
  uint8_t *r = SQL_VEC_U8(out);
  bool row_value = v.type->id == SQL_STRUCT && v.type->n_fields > 0;
  for (uint32_t i = 0; i < v.n; i++) {
    bool is_null = SQL_VEC_IS_NULL(&v, i), none_null = !is_null;
    if (!is_null && row_value) {
      /* PostgreSQL: a row IS NULL when every field is, IS NOT NULL when none is. */
      bool all = true;
      for (size_t f = 0; f < v.type->n_fields; f++) {
        bool fn = SQL_VEC_IS_NULL(&v.child[f], i);
        all &= fn;
        if (fn) none_null = false;
      }
      is_null = all;
    }
    r[i] = e->negated ? none_null : is_null;
  }
  return 0;
}

static int eval_distinct(sql_eval_ctx *ctx, const sql_expr *e, const sql_batch *b, sql_vec *out) {
  sql_vec x, y;
  int rc = eval_any(ctx, e->args[0], b, &x);
  if (rc == 0) rc = eval_any(ctx, e->args[1], b, &y);
  if (rc) return rc;
  uint32_t n = x.n == 1 && y.n == 1 ? 1 : b->n_rows;
  rc = new_bool(ctx, n, false, out);
  if (rc) return rc;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t ix = x.n == 1 ? 0 : i, iy = y.n == 1 ? 0 : i;
    bool nx = SQL_VEC_IS_NULL(&x, ix), ny = SQL_VEC_IS_NULL(&y, iy);
    bool distinct = nx || ny ? nx != ny : sql_row_cmp(&x, ix, &y, iy) != 0;
    SQL_VEC_U8(out)[i] = e->negated ? !distinct : distinct;
  }
  return 0;
}

/* ---- CASE and COALESCE ----------------------------------------------------------------------- */

static int eval_case(sql_eval_ctx *ctx, const sql_expr *e, const sql_batch *b, sql_vec *out) {
  uint32_t n = b->n_rows;
  size_t n_when = (e->has_else ? e->n_args - 1 : e->n_args) / 2;
  uint32_t *rem = malloc((size_t)(n ? n : 1) * sizeof *rem);
  uint32_t *next = malloc((size_t)(n ? n : 1) * sizeof *next);
  piece *pieces = calloc(n_when + 1, sizeof *pieces);
  int rc = rem && next && pieces ? 0 : sql_oom(ctx);
  uint32_t n_rem = n;
  for (uint32_t i = 0; i < n && rc == 0; i++)
    rem[i] = i;
  size_t n_pieces = 0;
  for (size_t w = 0; w < n_when && n_rem > 0 && rc == 0; w++) {
    sql_vec cond;
    rc = eval_on(ctx, e->args[2 * w], b, rem, n_rem, &cond);
    if (rc) break;
    piece *pc = &pieces[n_pieces];
    pc->rows = sql_mem_alloc(ctx->mem, n_rem, sizeof *pc->rows);
    if (pc->rows == NULL) {
      rc = sql_oom(ctx);
      break;
    }
    uint32_t kept = 0;
    for (uint32_t j = 0; j < n_rem; j++) {
      if (truth(&cond, j) == 1)
        pc->rows[pc->n++] = rem[j];
      else
        next[kept++] = rem[j];
    }
    if (pc->n > 0) {
      rc = eval_on(ctx, e->args[2 * w + 1], b, pc->rows, pc->n, &pc->v);
      if (rc == 0) rc = conform(ctx, &pc->v, e->type);
      n_pieces++;
    }
    uint32_t *t = rem;
    rem = next;
    next = t;
    n_rem = kept;
  }
  if (rc == 0 && e->has_else && n_rem > 0) {
    piece *pc = &pieces[n_pieces];
    pc->rows = rem;
    pc->n = n_rem;
    rc = eval_on(ctx, e->args[e->n_args - 1], b, rem, n_rem, &pc->v);
    if (rc == 0) rc = conform(ctx, &pc->v, e->type);
    n_pieces++;
  }
  if (rc == 0) {
    if (n_pieces == 1 && pieces[0].n == n && n > 0) {
      *out = pieces[0].v; /* one branch took every row */
    } else {
      const sql_type *t = e->type ? e->type : n_pieces ? pieces[0].v.type : sql_type_get(SQL_NULL);
      rc = assemble(ctx, t, n, pieces, n_pieces, out);
    }
  }
  free(rem);
  free(next);
  free(pieces);
  return rc;
}

static int eval_coalesce(sql_eval_ctx *ctx, const sql_expr *e, const sql_batch *b, sql_vec *out) {
  uint32_t n = b->n_rows;
  if (e->n_args == 0) return sql_vec_nulls_of(ctx->mem, e->type, n, out, ctx->err);
  sql_vec first;
  int rc = eval_any(ctx, e->args[0], b, &first);
  if (rc) return rc;
  rc = conform(ctx, &first, e->type);
  if (rc) return rc;
  if (first.nulls == NULL || e->n_args == 1) {
    *out = first;
    return 0;
  }
  piece *pieces = calloc(e->n_args, sizeof *pieces);
  uint32_t *rem = malloc((size_t)(n ? n : 1) * sizeof *rem);
  if (pieces == NULL || rem == NULL) {
    free(pieces);
    free(rem);
    return sql_oom(ctx);
  }
  uint32_t n_rem = 0;
  size_t n_pieces = 0;
  pieces[0].v = first;
  pieces[0].rows = sql_mem_alloc(ctx->mem, n ? n : 1, sizeof(uint32_t));
  if (pieces[0].rows == NULL) rc = sql_oom(ctx);
  for (uint32_t i = 0; i < n && rc == 0; i++) {
    if (SQL_VEC_IS_NULL(&first, first.n == 1 ? 0 : i))
      rem[n_rem++] = i;
    else
      pieces[0].rows[pieces[0].n++] = i;
  }
  pieces[0].pos = first.n == 1 ? NULL : pieces[0].rows;
  n_pieces = 1;
  for (size_t k = 1; k < e->n_args && n_rem > 0 && rc == 0; k++) {
    piece *pc = &pieces[n_pieces];
    uint32_t *evrows = sql_mem_alloc(ctx->mem, n_rem, sizeof *evrows);
    pc->rows = sql_mem_alloc(ctx->mem, n_rem, sizeof *pc->rows);
    pc->pos = sql_mem_alloc(ctx->mem, n_rem, sizeof *pc->pos);
    if (evrows == NULL || pc->rows == NULL || pc->pos == NULL) {
      rc = sql_oom(ctx);
      break;
    }
    memcpy(evrows, rem, n_rem * sizeof *rem);
    rc = eval_on(ctx, e->args[k], b, evrows, n_rem, &pc->v);
    if (rc == 0) rc = conform(ctx, &pc->v, e->type);
    if (rc) break;
    uint32_t kept = 0;
    for (uint32_t j = 0; j < n_rem; j++) {
      if (SQL_VEC_IS_NULL(&pc->v, pc->v.n == 1 ? 0 : j)) {
        rem[kept++] = evrows[j];
      } else {
        pc->rows[pc->n] = evrows[j];
        pc->pos[pc->n++] = j;
      }
    }
    n_rem = kept;
    n_pieces++;
  }
  if (rc == 0) rc = assemble(ctx, e->type ? e->type : first.type, n, pieces, n_pieces, out);
  free(pieces);
  free(rem);
  return rc;
}

/* ---- NULLIF, GREATEST / LEAST ---------------------------------------------------------------- */

static int eval_nullif(sql_eval_ctx *ctx, const sql_expr *e, const sql_batch *b, sql_vec *out) {
  sql_vec x, y;
  int rc = eval_any(ctx, e->args[0], b, &x);
  if (rc == 0) rc = eval_any(ctx, e->args[1], b, &y);
  if (rc) return rc;
  uint32_t n = x.n == 1 && y.n == 1 ? 1 : b->n_rows;
  if ((rc = expand(ctx, &x, n))) return rc;
  uint8_t *nulls = sql_mem_alloc(ctx->mem, n ? n : 1, 1);
  if (nulls == NULL) return sql_oom(ctx);
  for (uint32_t i = 0; i < n; i++) {
    uint32_t iy = y.n == 1 ? 0 : i;
    bool nx = SQL_VEC_IS_NULL(&x, i);
    nulls[i] = nx || (!SQL_VEC_IS_NULL(&y, iy) && sql_row_cmp(&x, i, &y, iy) == 0);
  }
  *out = x;
  out->nulls = nulls;
  return conform(ctx, out, e->type);
}

static int eval_greatest(sql_eval_ctx *ctx, const sql_expr *e, const sql_batch *b, sql_vec *out) {
  uint32_t n = b->n_rows;
  sql_vec *vs = calloc(e->n_args ? e->n_args : 1, sizeof *vs);
  if (vs == NULL) return sql_oom(ctx);
  int rc = 0;
  bool all_const = true;
  for (size_t k = 0; k < e->n_args && rc == 0; k++) {
    rc = eval_any(ctx, e->args[k], b, &vs[k]);
    if (rc == 0) rc = conform(ctx, &vs[k], e->type);
    if (vs[k].n != 1) all_const = false;
  }
  uint32_t rows = all_const ? 1 : n;
  if (rc == 0) rc = sql_vec_init(ctx->mem, out, e->type, rows, ctx->err);
  /* Pick per row the index of the winning argument, then copy values by physical type. */
  uint8_t *nulls = rc == 0 && rows ? sql_vec_nulls(ctx->mem, out) : NULL;
  if (rc == 0 && rows && nulls == NULL) rc = sql_oom(ctx);
  sql_phys p = e->type ? sql_type_phys(e->type->id) : SQL_PHYS_NONE;
  uint32_t cap = 0;
  if (rc == 0 && (p == SQL_PHYS_LIST || p == SQL_PHYS_STRUCT)) {
    memset(out, 0, sizeof *out);
    rc = sql_vec_init(ctx->mem, out, e->type, 0, ctx->err);
  }
  for (uint32_t i = 0; i < rows && rc == 0; i++) {
    int best = -1;
    uint32_t bi = 0;
    for (size_t k = 0; k < e->n_args; k++) {
      uint32_t r = vs[k].n == 1 ? 0 : i;
      if (SQL_VEC_IS_NULL(&vs[k], r)) continue;
      if (best < 0) {
        best = (int)k;
        bi = r;
        continue;
      }
      int c = sql_row_cmp(&vs[k], r, &vs[best], bi);
      if (e->is_least ? c < 0 : c > 0) {
        best = (int)k;
        bi = r;
      }
    }
    if (p == SQL_PHYS_LIST || p == SQL_PHYS_STRUCT) {
      if (best < 0) {
        sql_vec nr;
        rc = sql_vec_nulls_of(ctx->mem, e->type, 1, &nr, ctx->err);
        if (rc == 0) rc = sql_vec_append(ctx->mem, out, &cap, &nr, 0, 1, ctx->err);
      } else {
        rc = sql_vec_append(ctx->mem, out, &cap, &vs[best], bi, 1, ctx->err);
      }
      continue;
    }
    if (best < 0) {
      nulls[i] = 1;
      continue;
    }
    const sql_vec *v = &vs[best];
    switch (p) {
    case SQL_PHYS_U8: SQL_VEC_U8(out)[i] = SQL_VEC_U8(v)[bi]; break;
    case SQL_PHYS_I64:
    case SQL_PHYS_F64: SQL_VEC_I64(out)[i] = SQL_VEC_I64(v)[bi]; break;
    case SQL_PHYS_I128: SQL_VEC_I128(out)[i] = SQL_VEC_I128(v)[bi]; break;
    case SQL_PHYS_STR: SQL_VEC_STR(out)[i] = SQL_VEC_STR(v)[bi]; break;
    case SQL_PHYS_INTERVAL: SQL_VEC_IV(out)[i] = SQL_VEC_IV(v)[bi]; break;
    default: nulls[i] = 1; break;
    }
  }
  free(vs);
  return rc;
}

/* ---- LIKE ------------------------------------------------------------------------------------ */

enum { LIKE_EXACT, LIKE_PREFIX, LIKE_SUFFIX, LIKE_CONTAINS, LIKE_ANY, LIKE_GENERAL };
enum { TOK_ANY1 = 256, TOK_ANYN = 257, TOK_BADESC = 258 };

typedef struct like_pat {
  int kind;
  bool fold;
  uint16_t *tok; /* bytes 0..255, TOK_ANY1 ('_'), TOK_ANYN ('%') */
  size_t n_tok;
  char *lit; /* the literal of the fast kinds */
  size_t lit_len;
} like_pat;

static void like_free(like_pat *p) {
  free(p->tok);
  free(p->lit);
  p->tok = NULL;
  p->lit = NULL;
}

static int like_compile(sql_eval_ctx *ctx, sql_str pat, int esc, bool fold, like_pat *p) {
  memset(p, 0, sizeof *p);
  p->fold = fold;
  p->tok = malloc((pat.len + 1) * sizeof *p->tok);
  p->lit = malloc(pat.len + 1);
  if (p->tok == NULL || p->lit == NULL) {
    like_free(p);
    return sql_oom(ctx);
  }
  for (uint64_t i = 0; i < pat.len; i++) {
    unsigned char c = (unsigned char)pat.ptr[i];
    if (esc >= 0 && c == esc) {
      if (i + 1 >= pat.len) {
        /* PostgreSQL complains only when matching reaches it with text left. */
        p->tok[p->n_tok++] = TOK_BADESC;
        break;
      }
      c = (unsigned char)pat.ptr[++i];
      p->tok[p->n_tok++] = fold ? (uint16_t)tolower(c) : c;
    } else if (c == '%') {
      if (p->n_tok == 0 || p->tok[p->n_tok - 1] != TOK_ANYN) p->tok[p->n_tok++] = TOK_ANYN;
    } else if (c == '_') {
      p->tok[p->n_tok++] = TOK_ANY1;
    } else {
      p->tok[p->n_tok++] = fold ? (uint16_t)tolower(c) : c;
    }
  }
  /* Classify: literal runs with '%' only at the ends get memcmp / memmem fast paths. */
  size_t lo = 0, hi = p->n_tok;
  bool lead = lo < hi && p->tok[lo] == TOK_ANYN, trail = hi > lo && p->tok[hi - 1] == TOK_ANYN;
  if (lead) lo++;
  if (trail && hi > lo) hi--;
  bool plain = true;
  for (size_t k = lo; k < hi; k++)
    if (p->tok[k] >= 256) plain = false;
  if (plain) {
    for (size_t k = lo; k < hi; k++)
      p->lit[p->lit_len++] = (char)p->tok[k];
    if (p->n_tok == 1 && lead)
      p->kind = LIKE_ANY;
    else if (lead && trail)
      p->kind = LIKE_CONTAINS;
    else if (lead)
      p->kind = LIKE_SUFFIX;
    else if (trail)
      p->kind = LIKE_PREFIX;
    else
      p->kind = LIKE_EXACT;
  } else {
    p->kind = LIKE_GENERAL;
  }
  return 0;
}

static inline size_t utf8_len(unsigned char c) {
  return c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

static inline bool byte_eq(unsigned char c, uint16_t t, bool fold) {
  return (fold ? (uint16_t)tolower(c) : c) == t;
}

static bool mem_eq_fold(const char *a, const char *b, size_t n, bool fold) {
  if (!fold) return n == 0 || memcmp(a, b, n) == 0;
  for (size_t i = 0; i < n; i++)
    if (tolower((unsigned char)a[i]) != (unsigned char)b[i]) return false;
  return true;
}

/* First occurrence of needle in hay (memchr on the first byte, then memcmp). */
static bool contains(const char *hay, size_t n, const char *needle, size_t k) {
  if (k == 0) return true;
  const char *end = hay + n;
  while ((size_t)(end - hay) >= k) {
    const char *p = memchr(hay, needle[0], (size_t)(end - hay) - k + 1);
    if (p == NULL) return false;
    if (memcmp(p + 1, needle + 1, k - 1) == 0) return true;
    hay = p + 1;
  }
  return false;
}

/* 1 match, 0 no match, -1 the pattern's trailing escape was reached. */
static int like_match(const like_pat *p, const char *s, size_t n) {
  switch (p->kind) {
  case LIKE_ANY: return true;
  case LIKE_EXACT: return n == p->lit_len && mem_eq_fold(s, p->lit, n, p->fold);
  case LIKE_PREFIX: return n >= p->lit_len && mem_eq_fold(s, p->lit, p->lit_len, p->fold);
  case LIKE_SUFFIX:
    return n >= p->lit_len && mem_eq_fold(s + n - p->lit_len, p->lit, p->lit_len, p->fold);
  case LIKE_CONTAINS:
    if (p->lit_len == 0) return true;
    if (!p->fold) return contains(s, n, p->lit, p->lit_len);
    for (size_t i = 0; i + p->lit_len <= n; i++)
      if (mem_eq_fold(s + i, p->lit, p->lit_len, true)) return true;
    return false;
  default: break;
  }
  /* '%' matches greedily with backtracking to the last '%' only, which is enough because any
   * later match of the rest could also start from the last '%'. '_' is one UTF-8 character. */
  size_t si = 0, pi = 0, star_p = (size_t)-1, star_s = 0;
  const uint16_t *t = p->tok;
  size_t np = p->n_tok;
  while (si < n) {
    if (pi < np && t[pi] == TOK_ANYN) {
      star_p = pi++;
      star_s = si;
    } else if (pi < np && t[pi] == TOK_BADESC) {
      return -1;
    } else if (pi < np && t[pi] == TOK_ANY1) {
      si += utf8_len((unsigned char)s[si]);
      pi++;
    } else if (pi < np && byte_eq((unsigned char)s[si], t[pi], p->fold)) {
      si++;
      pi++;
    } else if (star_p != (size_t)-1) {
      pi = star_p + 1;
      star_s += utf8_len((unsigned char)s[star_s]);
      si = star_s;
    } else {
      return false;
    }
  }
  while (pi < np && t[pi] == TOK_ANYN)
    pi++;
  return pi == np && si <= n;
}

static int eval_like(sql_eval_ctx *ctx, const sql_expr *e, const sql_batch *b, sql_vec *out) {
  sql_vec s, pat, esc;
  int rc = eval_any(ctx, e->args[0], b, &s);
  if (rc == 0) rc = eval_any(ctx, e->args[1], b, &pat);
  if (rc == 0 && e->n_args > 2) rc = eval_any(ctx, e->args[2], b, &esc);
  if (rc) return rc;
  sql_vec *parts[3] = {&s, &pat, &esc};
  uint32_t n = s.n == 1 && pat.n == 1 && (e->n_args < 3 || esc.n == 1) ? 1 : b->n_rows;
  uint8_t *nulls;
  int r = merge_nulls(ctx, parts, e->n_args > 2 ? 3 : 2, n, &nulls);
  if (r == 1) return sql_vec_nulls_of(ctx->mem, bool_type(), n, out, ctx->err);
  if (r) return r;
  rc = new_bool(ctx, n, false, out);
  if (rc) return rc;
  out->nulls = nulls;
  like_pat lp;
  bool have = false;
  sql_str cur = {NULL, 0};
  int cur_esc = -2;
  /* ILIKE compares lower-cased text (full Unicode, as PostgreSQL in a UTF-8 database). */
  bool ci = e->case_insensitive;
  char *lowbuf = NULL;
  size_t lowcap = 0;
  for (uint32_t i = 0; i < n && rc == 0; i++) {
    if (nulls && nulls[i]) continue;
    sql_str ps = SQL_VEC_STR(&pat)[pat.n == 1 ? 0 : i];
    int ec = '\\';
    if (e->n_args > 2) {
      sql_str es = SQL_VEC_STR(&esc)[esc.n == 1 ? 0 : i];
      if (es.len > 1) {
        rc = tarn_err(ctx->err, TARN_EINVAL, "invalid escape string");
        break;
      }
      ec = es.len == 0 ? -1 : (unsigned char)es.ptr[0];
    }
    /* Recompile only when the pattern changes (constant patterns compile once). */
    if (!have || ec != cur_esc || ps.len != cur.len ||
        (ps.len && ps.ptr != cur.ptr && memcmp(ps.ptr, cur.ptr, ps.len) != 0)) {
      if (have) like_free(&lp);
      have = false;
      sql_str cp = ps;
      char *lowpat = NULL;
      if (ci) {
        if ((lowpat = malloc(ps.len * 2 + 4)) == NULL) {
          rc = sql_oom(ctx);
          break;
        }
        cp = (sql_str){lowpat, sql_utf8_lower(ps.ptr, ps.len, lowpat)};
      }
      rc = like_compile(ctx, cp, ec, false, &lp);
      free(lowpat);
      if (rc) break;
      have = true;
      cur = ps;
      cur_esc = ec;
    }
    sql_str v = SQL_VEC_STR(&s)[s.n == 1 ? 0 : i];
    if (ci) {
      if (v.len * 2 + 4 > lowcap) {
        char *nb = realloc(lowbuf, v.len * 2 + 4);
        if (nb == NULL) {
          rc = sql_oom(ctx);
          break;
        }
        lowbuf = nb;
        lowcap = v.len * 2 + 4;
      }
      v = (sql_str){lowbuf, sql_utf8_lower(v.ptr, v.len, lowbuf)};
    }
    int m = like_match(&lp, v.ptr, v.len);
    if (m < 0) {
      rc = tarn_err(ctx->err, TARN_EINVAL, "LIKE pattern must not end with escape character");
      break;
    }
    SQL_VEC_U8(out)[i] = e->negated ? !m : m;
  }
  if (have) like_free(&lp);
  free(lowbuf);
  return rc;
}

/* ---- IN (list) ------------------------------------------------------------------------------- */

/* Three-valued membership: 1 found, 0 not found, -1 unknown (NULLs involved). */
static int eval_in_list(sql_eval_ctx *ctx, const sql_expr *e, const sql_batch *b, sql_vec *out) {
  uint32_t n = b->n_rows;
  sql_vec x;
  int rc = eval_any(ctx, e->args[0], b, &x);
  if (rc) return rc;
  size_t n_items = e->n_args - 1;
  bool all_const = true;
  for (size_t k = 1; k < e->n_args; k++)
    if (e->args[k]->kind != SQL_E_CONST) all_const = false;
  if (x.n == 1 && all_const) n = 1;
  if ((rc = expand(ctx, &x, n))) return rc;
  rc = new_bool(ctx, n, true, out);
  if (rc) return rc;
  uint8_t *val = SQL_VEC_U8(out), *nul = out->nulls;
  sql_phys p = sql_type_phys(x.type->id);
  if (all_const && n_items >= 6 && hashable(p)) {
    /* Long constant lists: one vector of the items, probed through a hash set. */
    sql_vec items;
    uint32_t cap = 0;
    memset(&items, 0, sizeof items);
    rc = sql_vec_init(ctx->mem, &items, x.type, 0, ctx->err);
    for (size_t k = 1; k < e->n_args && rc == 0; k++) {
      sql_vec v;
      rc = eval_any(ctx, e->args[k], b, &v);
      if (rc == 0) rc = conform(ctx, &v, x.type);
      if (rc == 0) rc = sql_vec_append(ctx->mem, &items, &cap, &v, 0, 1, ctx->err);
    }
    if (rc) return rc;
    hset h;
    bool has_null;
    if (hset_build(&h, &items, &has_null)) return sql_oom(ctx);
    for (uint32_t i = 0; i < n; i++) {
      bool found = !SQL_VEC_IS_NULL(&x, i) && hset_has(&h, &x, i);
      bool unknown = !found && (SQL_VEC_IS_NULL(&x, i) || has_null);
      val[i] = found != e->negated;
      nul[i] = unknown;
    }
    hset_free(&h);
    return 0;
  }
  /* Short lists: item by item, only over the rows not yet found. */
  for (uint32_t i = 0; i < n; i++) {
    val[i] = 0;
    nul[i] = SQL_VEC_IS_NULL(&x, i);
  }
  for (size_t k = 1; k < e->n_args; k++) {
    sql_vec v;
    rc = eval_any(ctx, e->args[k], b, &v);
    if (rc == 0 && !sql_type_equal(v.type, x.type) &&
        sql_type_phys(v.type->id) != sql_type_phys(x.type->id))
      rc = conform(ctx, &v, x.type);
    if (rc) return rc;
    bool same = p == sql_type_phys(v.type->id) &&
                (x.type->id != SQL_DECIMAL || v.type->scale == x.type->scale);
    if (p == SQL_PHYS_I64 && same && v.n == 1 && !SQL_VEC_IS_NULL(&v, 0)) {
      int64_t c = SQL_VEC_I64(&v)[0];
      const int64_t *xs = SQL_VEC_I64(&x);
      for (uint32_t i = 0; i < n; i++)
        val[i] |= xs[i] == c;
      continue;
    }
    for (uint32_t i = 0; i < n; i++) {
      if (val[i] || SQL_VEC_IS_NULL(&x, i)) continue;
      uint32_t r = v.n == 1 ? 0 : i;
      if (SQL_VEC_IS_NULL(&v, r)) {
        nul[i] = 1;
        continue;
      }
      if (same ? rows_equal(&x, i, &v, r, p) : sql_row_cmp(&x, i, &v, r) == 0) val[i] = 1;
    }
  }
  for (uint32_t i = 0; i < n; i++) {
    if (val[i] && !SQL_VEC_IS_NULL(&x, i))
      nul[i] = 0;
    else if (nul[i])
      val[i] = 0;
    if (!nul[i] && e->negated) val[i] = !val[i];
  }
  return 0;
}

/* ---- subqueries ------------------------------------------------------------------------------ */

typedef struct subq_cache {
  sql_batch *batch;
  bool set_built;
  hset set;
  bool set_has_null;
} subq_cache;

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cache_cv = PTHREAD_COND_INITIALIZER;
static char cache_busy_mark;
#define CACHE_BUSY ((void *)&cache_busy_mark)

static void subq_cache_free(subq_cache *c) {
  if (c == NULL) return;
  if (c->set_built) hset_free(&c->set);
  sql_batch_free(c->batch);
  free(c);
}

static int run_sub(sql_eval_ctx *ctx, const sql_expr *e, const sql_batch *outer, uint32_t row,
                   sql_batch **out) {
  if (ctx->run_subquery == NULL)
    return tarn_err(ctx->err, TARN_EINVAL, "subqueries cannot be evaluated here");
  sql_eval_ctx sub = *ctx;
  if (outer) {
    sub.outer = outer;
    sub.outer_row = row;
  }
  *out = NULL;
  int rc = ctx->run_subquery(&sub, e->subquery, out);
  if (rc == 0 && *out && (*out)->n_cols == 0 && e->sub_kind != SQL_SUB_EXISTS) {
    sql_batch_free(*out);
    *out = NULL;
    return tarn_err(ctx->err, TARN_EINVAL, "subquery has no columns");
  }
  if (rc == 0 && *out == NULL) return tarn_err(ctx->err, TARN_EINVAL, "subquery gave no result");
  return rc;
}

/* The cached result of an uncorrelated subquery, computed by the first thread to ask. */
static int subq_cached(sql_eval_ctx *ctx, const sql_expr *e, subq_cache **out) {
  sql_expr *me = (sql_expr *)e; /* the cache is evaluation state, not part of the tree */
  pthread_mutex_lock(&cache_mu);
  while (me->cache == CACHE_BUSY)
    pthread_cond_wait(&cache_cv, &cache_mu);
  if (me->cache != NULL) {
    *out = me->cache;
    pthread_mutex_unlock(&cache_mu);
    return 0;
  }
  me->cache = CACHE_BUSY;
  pthread_mutex_unlock(&cache_mu);

  subq_cache *c = calloc(1, sizeof *c);
  int rc = c ? run_sub(ctx, e, NULL, 0, &c->batch) : sql_oom(ctx);
  if (rc == 0 && (e->sub_kind == SQL_SUB_IN || e->sub_kind == SQL_SUB_ANY) &&
      c->batch->n_rows >= 8 && hashable(sql_type_phys(c->batch->cols[0].type->id)) &&
      (e->sub_kind == SQL_SUB_IN ||
       (e->func && e->func->op == SQL_CMP_EQ && e->func->kernel == sql_kernel_compare))) {
    if (hset_build(&c->set, &c->batch->cols[0], &c->set_has_null))
      rc = sql_oom(ctx);
    else
      c->set_built = true;
  }
  if (rc) {
    subq_cache_free(c);
    c = NULL;
  }
  pthread_mutex_lock(&cache_mu);
  me->cache = c;
  pthread_cond_broadcast(&cache_cv);
  pthread_mutex_unlock(&cache_mu);
  *out = c;
  return rc;
}

/* Appends the scalar value of a subquery result (NULL for no rows) to out. */
static int append_scalar(sql_eval_ctx *ctx, const sql_expr *e, const sql_batch *r, sql_vec *out,
                         uint32_t *cap) {
  if (r->n_rows > 1)
    return tarn_err(ctx->err, TARN_EINVAL,
                    "more than one row returned by a subquery used as an expression");
  if (r->n_rows == 0) {
    sql_vec nr;
    int rc = sql_vec_nulls_of(ctx->mem, e->type, 1, &nr, ctx->err);
    return rc ? rc : sql_vec_append(ctx->mem, out, cap, &nr, 0, 1, ctx->err);
  }
  sql_vec v = r->cols[0];
  int rc = conform(ctx, &v, e->type);
  return rc ? rc : sql_vec_append(ctx->mem, out, cap, &v, 0, 1, ctx->err);
}

/* x op ANY/ALL (values), three-valued, over rows of x. val/nul hold the result. */
static int quantified(sql_eval_ctx *ctx, const sql_expr *e, sql_vec *x, const sql_vec *vals,
                      uint32_t n, uint8_t *val, uint8_t *nul) {
  bool any = e->sub_kind != SQL_SUB_ALL;
  const sql_func *f = e->func;
  for (uint32_t i = 0; i < n; i++) {
    val[i] = !any;
    nul[i] = 0;
  }
  if (vals->n == 0) return 0;
  sql_vec left = *x, right = *vals;
  int rc = 0;
  if (f) {
    if (f->arg_types[0]) rc = conform(ctx, &left, f->arg_types[0]);
    if (rc == 0 && f->arg_types[1]) rc = conform(ctx, &right, f->arg_types[1]);
    if (rc) return rc;
  }
  for (uint32_t j = 0; j < right.n && rc == 0; j++) {
    sql_vec one, res;
    uint32_t row = j;
    rc = sql_vec_gather(ctx->mem, &right, &row, 1, &one, ctx->err);
    if (rc) break;
    if (f) {
      sql_vec *args[2] = {&left, &one};
      rc = call_func(ctx, f, bool_type(), args, 2, n, &res);
    } else {
      /* IN: equality. */
      rc = new_bool(ctx, n, false, &res);
      if (rc == 0) {
        if (SQL_VEC_IS_NULL(&one, 0)) {
          if (sql_vec_nulls(ctx->mem, &res) == NULL) return sql_oom(ctx);
          memset(res.nulls, 1, n);
        } else {
          res.nulls = left.nulls;
          for (uint32_t i = 0; i < n; i++)
            if (!SQL_VEC_IS_NULL(&left, left.n == 1 ? 0 : i))
              SQL_VEC_U8(&res)[i] = sql_row_cmp(&left, left.n == 1 ? 0 : i, &one, 0) == 0;
        }
      }
    }
    if (rc) break;
    for (uint32_t i = 0; i < n; i++) {
      int t = truth(&res, i);
      if (any) {
        if (t == 1) {
          val[i] = 1;
          nul[i] = 0;
        } else if (t < 0 && !val[i]) {
          nul[i] = 1;
        }
      } else {
        if (t == 0) {
          val[i] = 0;
          nul[i] = 0;
        } else if (t < 0 && val[i]) {
          nul[i] = 1;
        }
      }
    }
  }
  for (uint32_t i = 0; i < n; i++)
    if (nul[i]) val[i] = 0;
  return rc;
}

static int eval_subquery(sql_eval_ctx *ctx, const sql_expr *e, const sql_batch *b, sql_vec *out) {
  uint32_t n = b->n_rows;
  int rc = 0;
  if (n == 0) return sql_vec_init(ctx->mem, out, e->type ? e->type : bool_type(), 0, ctx->err);
  if (e->sub_kind == SQL_SUB_SCALAR || e->sub_kind == SQL_SUB_EXISTS) {
    bool exists = e->sub_kind == SQL_SUB_EXISTS;
    memset(out, 0, sizeof *out);
    uint32_t cap = 0;
    if (!e->correlated) {
      subq_cache *c;
      if ((rc = subq_cached(ctx, e, &c))) return rc;
      if (exists) {
        rc = new_bool(ctx, 1, false, out);
        if (rc == 0) SQL_VEC_U8(out)[0] = c->batch->n_rows > 0;
        return rc;
      }
      rc = sql_vec_init(ctx->mem, out, e->type, 0, ctx->err);
      return rc ? rc : append_scalar(ctx, e, c->batch, out, &cap);
    }
    if (exists) {
      rc = new_bool(ctx, n, false, out);
    } else {
      rc = sql_vec_init(ctx->mem, out, e->type, 0, ctx->err);
    }
    for (uint32_t i = 0; i < n && rc == 0; i++) {
      sql_batch *r;
      rc = run_sub(ctx, e, b, i, &r);
      if (rc) break;
      if (exists)
        SQL_VEC_U8(out)[i] = r->n_rows > 0;
      else
        rc = append_scalar(ctx, e, r, out, &cap);
      sql_batch_free(r);
    }
    return rc;
  }
  /* IN / ANY / ALL */
  sql_vec x;
  rc = eval_full(ctx, e->args[0], b, &x);
  if (rc) return rc;
  rc = new_bool(ctx, n, true, out);
  if (rc) return rc;
  uint8_t *val = SQL_VEC_U8(out), *nul = out->nulls;
  if (!e->correlated) {
    subq_cache *c;
    if ((rc = subq_cached(ctx, e, &c))) return rc;
    const sql_vec *col = &c->batch->cols[0];
    sql_phys p = sql_type_phys(x.type->id);
    if (c->set_built && p == sql_type_phys(col->type->id) &&
        (p != SQL_PHYS_I128 || x.type->scale == col->type->scale)) {
      for (uint32_t i = 0; i < n; i++) {
        bool xn = SQL_VEC_IS_NULL(&x, i);
        bool found = !xn && hset_has(&c->set, &x, i);
        nul[i] = !found && (xn || c->set_has_null);
        val[i] = found;
      }
    } else {
      rc = quantified(ctx, e, &x, col, n, val, nul);
    }
  } else {
    uint8_t v1 = 0, n1 = 0;
    for (uint32_t i = 0; i < n && rc == 0; i++) {
      sql_batch *r;
      rc = run_sub(ctx, e, b, i, &r);
      if (rc) break;
      sql_vec xi;
      uint32_t row = i;
      rc = sql_vec_gather(ctx->mem, &x, &row, 1, &xi, ctx->err);
      if (rc == 0) rc = quantified(ctx, e, &xi, &r->cols[0], 1, &v1, &n1);
      val[i] = v1;
      nul[i] = n1;
      sql_batch_free(r);
    }
  }
  if (rc == 0 && e->negated)
    for (uint32_t i = 0; i < n; i++)
      if (!nul[i]) val[i] = !val[i];
  return rc;
}

/* ---- nested values --------------------------------------------------------------------------- */

static int eval_struct_field(sql_eval_ctx *ctx, const sql_expr *e, const sql_batch *b,
                             sql_vec *out) {
  sql_vec s;
  int rc = eval_any(ctx, e->args[0], b, &s);
  if (rc) return rc;
  if (s.type->id != SQL_STRUCT || e->field_index < 0 || (size_t)e->field_index >= s.type->n_fields)
    return tarn_err(ctx->err, TARN_EINVAL, "no field %d in a value of this type", e->field_index);
  *out = s.child[e->field_index];
  if (s.nulls) {
    uint8_t *nl = sql_mem_alloc(ctx->mem, s.n ? s.n : 1, 1);
    if (nl == NULL) return sql_oom(ctx);
    for (uint32_t i = 0; i < s.n; i++)
      nl[i] = s.nulls[i] | (out->nulls ? out->nulls[i] : 0);
    out->nulls = nl;
  }
  return 0;
}

static int eval_row(sql_eval_ctx *ctx, const sql_expr *e, const sql_batch *b, sql_vec *out) {
  uint32_t n = b->n_rows;
  if (e->type == NULL || e->type->id != SQL_STRUCT || e->type->n_fields != e->n_args)
    return tarn_err(ctx->err, TARN_EINVAL, "ROW expression without a matching struct type");
  memset(out, 0, sizeof *out);
  out->type = e->type;
  out->n = n;
  out->child = sql_mem_alloc(ctx->mem, e->n_args ? e->n_args : 1, sizeof(sql_vec));
  if (out->child == NULL) return sql_oom(ctx);
  for (size_t k = 0; k < e->n_args; k++) {
    int rc = eval_full(ctx, e->args[k], b, &out->child[k]);
    if (rc == 0) rc = conform(ctx, &out->child[k], e->type->fields[k].type);
    if (rc) return rc;
  }
  return 0;
}

static int eval_array(sql_eval_ctx *ctx, const sql_expr *e, const sql_batch *b, sql_vec *out) {
  uint32_t n = b->n_rows;
  if (e->type == NULL || e->type->id != SQL_LIST)
    return tarn_err(ctx->err, TARN_EINVAL, "ARRAY expression without a list type");
  size_t k_n = e->n_args;
  sql_vec *vs = calloc(k_n ? k_n : 1, sizeof *vs);
  if (vs == NULL) return sql_oom(ctx);
  int rc = 0;
  bool all_const = true;
  for (size_t k = 0; k < k_n && rc == 0; k++) {
    rc = eval_any(ctx, e->args[k], b, &vs[k]);
    if (rc == 0) rc = conform(ctx, &vs[k], e->type->elem);
    if (vs[k].n != 1) all_const = false;
  }
  uint32_t rows = all_const && k_n > 0 ? 1 : n;
  if (rc == 0) rc = sql_vec_init(ctx->mem, out, e->type, rows, ctx->err);
  uint32_t cap = 0;
  if (rc == 0) {
    memset(out->child, 0, sizeof *out->child);
    rc = sql_vec_init(ctx->mem, out->child, e->type->elem, 0, ctx->err);
  }
  for (uint32_t i = 0; i < rows && rc == 0; i++) {
    out->offsets[i] = (int64_t)i * (int64_t)k_n;
    for (size_t k = 0; k < k_n && rc == 0; k++)
      rc = sql_vec_append(ctx->mem, out->child, &cap, &vs[k], vs[k].n == 1 ? 0 : i, 1, ctx->err);
  }
  if (rc == 0) out->offsets[rows] = (int64_t)rows * (int64_t)k_n;
  free(vs);
  return rc;
}

static int eval_subscript(sql_eval_ctx *ctx, const sql_expr *e, const sql_batch *b, sql_vec *out) {
  sql_vec c, k;
  int rc = eval_any(ctx, e->args[0], b, &c);
  if (rc == 0) rc = eval_any(ctx, e->args[1], b, &k);
  if (rc) return rc;
  uint32_t n = c.n == 1 && k.n == 1 ? 1 : b->n_rows;
  if ((rc = expand(ctx, &c, n))) return rc;
  bool is_map = c.type->id == SQL_MAP;
  if (c.type->id != SQL_LIST && !is_map)
    return tarn_err(ctx->err, TARN_EINVAL, "cannot subscript a value that is not an array");
  const sql_vec *elems = is_map ? &c.child->child[1] : c.child;
  const sql_vec *keys = is_map ? &c.child->child[0] : NULL;
  uint32_t *idx = malloc((size_t)(n ? n : 1) * sizeof *idx);
  uint8_t *miss = sql_mem_alloc(ctx->mem, n ? n : 1, 1);
  if (idx == NULL || miss == NULL) {
    free(idx);
    return sql_oom(ctx);
  }
  bool any = false;
  uint32_t some = 0;
  sql_vec key = k;
  if (is_map && c.child->child[0].type && !sql_type_equal(k.type, c.child->child[0].type))
    rc = conform(ctx, &key, c.child->child[0].type);
  for (uint32_t i = 0; i < n && rc == 0; i++) {
    uint32_t ki = k.n == 1 ? 0 : i;
    miss[i] = 1;
    if (SQL_VEC_IS_NULL(&c, i) || SQL_VEC_IS_NULL(&k, ki)) continue;
    int64_t s = c.offsets[i], end = c.offsets[i + 1];
    if (!is_map) {
      int64_t pos = SQL_VEC_I64(&k)[ki];
      if (pos < 1 || pos > end - s) continue;
      idx[i] = (uint32_t)(s + pos - 1);
    } else {
      int64_t found = -1;
      for (int64_t j = s; j < end && found < 0; j++)
        if (!SQL_VEC_IS_NULL(keys, (uint32_t)j) && sql_row_cmp(keys, (uint32_t)j, &key, ki) == 0)
          found = j;
      if (found < 0) continue;
      idx[i] = (uint32_t)found;
    }
    miss[i] = 0;
    any = true;
    some = idx[i];
  }
  if (rc == 0 && !any) {
    free(idx);
    return sql_vec_nulls_of(ctx->mem, e->type ? e->type : elems->type, n, out, ctx->err);
  }
  for (uint32_t i = 0; i < n && rc == 0; i++)
    if (miss[i]) idx[i] = some;
  if (rc == 0) rc = sql_vec_gather(ctx->mem, elems, idx, n, out, ctx->err);
  free(idx);
  if (rc) return rc;
  uint8_t *nl = sql_mem_alloc(ctx->mem, n ? n : 1, 1);
  if (nl == NULL) return sql_oom(ctx);
  for (uint32_t i = 0; i < n; i++)
    nl[i] = miss[i] | (out->nulls ? out->nulls[i] : 0);
  out->nulls = nl;
  return conform(ctx, out, e->type);
}

/* ---- the dispatcher -------------------------------------------------------------------------- */

static int eval_const(sql_eval_ctx *ctx, const sql_expr *e, sql_vec *out) {
  sql_value v = e->value;
  const sql_type *t = e->type ? e->type : v.type;
  if (v.type == NULL) v.type = t;
  if (t == NULL) return tarn_err(ctx->err, TARN_EINVAL, "constant without a type");
  if (v.is_null || v.type->id == SQL_NULL) return sql_vec_nulls_of(ctx->mem, t, 1, out, ctx->err);
  int rc = sql_vec_from_value(ctx->mem, &v, out, ctx->err);
  if (rc == 0 && !sql_type_equal(v.type, t)) rc = conform(ctx, out, t);
  return rc;
}

static int eval_outer(sql_eval_ctx *ctx, const sql_expr *e, sql_vec *out) {
  const sql_batch *o = ctx->outer;
  if (o == NULL || e->slot < 0 || (uint32_t)e->slot >= o->n_cols || ctx->outer_row >= o->n_rows)
    return tarn_err(ctx->err, TARN_EINVAL, "outer reference #%d outside a correlated subquery",
                    e->column_id);
  uint32_t row = ctx->outer_row;
  return sql_vec_gather(ctx->mem, &o->cols[e->slot], &row, 1, out, ctx->err);
}

static int eval_func(sql_eval_ctx *ctx, const sql_expr *e, const sql_batch *b, sql_vec *out) {
  const sql_func *f = e->func;
  if (f == NULL || f->kernel == NULL)
    return tarn_err(ctx->err, TARN_EINVAL, "function without an implementation");
  sql_vec stack[4];
  sql_vec *vs = e->n_args <= 4 ? stack : calloc(e->n_args, sizeof *vs);
  sql_vec *ptr_stack[4];
  sql_vec **ptrs = e->n_args <= 4 ? ptr_stack : calloc(e->n_args, sizeof *ptrs);
  int rc = vs && ptrs ? 0 : sql_oom(ctx);
  for (size_t k = 0; k < e->n_args && rc == 0; k++) {
    rc = eval_any(ctx, e->args[k], b, &vs[k]);
    if (rc == 0 && k < 4 && f->arg_types[k] &&
        sql_type_phys(f->arg_types[k]->id) != sql_type_phys(vs[k].type->id))
      rc = conform(ctx, &vs[k], f->arg_types[k]);
    ptrs[k] = &vs[k];
  }
  if (rc == 0) rc = call_func(ctx, f, e->type, ptrs, e->n_args, b->n_rows, out);
  if (vs != stack) free(vs);
  if (ptrs != ptr_stack) free(ptrs);
  return rc;
}

static int eval_any(sql_eval_ctx *ctx, const sql_expr *e, const sql_batch *b, sql_vec *out) {
  memset(out, 0, sizeof *out);
  switch (e->kind) {
  case SQL_E_CONST: return eval_const(ctx, e, out);
  case SQL_E_COLUMN:
    if (e->slot < 0 || (uint32_t)e->slot >= b->n_cols)
      return tarn_err(ctx->err, TARN_EINVAL, "column #%d not resolved to this batch", e->column_id);
    *out = b->cols[e->slot];
    if (out->n != b->n_rows)
      return tarn_err(ctx->err, TARN_EINVAL, "column #%d has %u rows in a batch of %u",
                      e->column_id, out->n, b->n_rows);
    return 0;
  case SQL_E_OUTER: return eval_outer(ctx, e, out);
  case SQL_E_FUNC: return eval_func(ctx, e, b, out);
  case SQL_E_CAST: {
    sql_vec v;
    int rc = eval_any(ctx, e->args[0], b, &v);
    return rc ? rc : sql_cast_vec(ctx, &v, e->type, e->is_try, out);
  }
  case SQL_E_AND:
  case SQL_E_OR: return eval_andor(ctx, e, b, out);
  case SQL_E_NOT: return eval_not(ctx, e, b, out);
  case SQL_E_IS_NULL: return eval_is_null(ctx, e, b, out);
  case SQL_E_IS_DISTINCT: return eval_distinct(ctx, e, b, out);
  case SQL_E_CASE: return eval_case(ctx, e, b, out);
  case SQL_E_IN_LIST: return eval_in_list(ctx, e, b, out);
  case SQL_E_LIKE: return eval_like(ctx, e, b, out);
  case SQL_E_SUBQUERY: return eval_subquery(ctx, e, b, out);
  case SQL_E_COALESCE: return eval_coalesce(ctx, e, b, out);
  case SQL_E_NULLIF: return eval_nullif(ctx, e, b, out);
  case SQL_E_GREATEST: return eval_greatest(ctx, e, b, out);
  case SQL_E_STRUCT_FIELD: return eval_struct_field(ctx, e, b, out);
  case SQL_E_ROW: return eval_row(ctx, e, b, out);
  case SQL_E_ARRAY: return eval_array(ctx, e, b, out);
  case SQL_E_SUBSCRIPT: return eval_subscript(ctx, e, b, out);
  }
  return tarn_err(ctx->err, TARN_EINVAL, "unknown expression kind %d", (int)e->kind);
}

int sql_expr_eval(sql_eval_ctx *ctx, const sql_expr *e, const sql_batch *b, sql_vec *out) {
  int rc = eval_full(ctx, e, b, out);
  if (rc) memset(out, 0, sizeof *out);
  return rc;
}

/* ---- selection ------------------------------------------------------------------------------- */

/* The column under integer widening or float4 -> float8 casts, which keep the stored values. */
static const sql_expr *plain_column(const sql_expr *e) {
  while (e->kind == SQL_E_CAST && !e->is_try && e->n_args == 1 && e->type) {
    const sql_type *from = e->args[0]->type;
    if (from == NULL) return NULL;
    bool keep = (sql_type_is_integer(from->id) && sql_type_is_integer(e->type->id) &&
                 sql_type_phys(from->id) == SQL_PHYS_I64 &&
                 (e->type->id == SQL_INT8 || from->id == SQL_INT2 || from->id == e->type->id)) ||
                (from->id == SQL_FLOAT4 && e->type->id == SQL_FLOAT8);
    if (!keep) return NULL;
    e = e->args[0];
  }
  return e->kind == SQL_E_COLUMN ? e : NULL;
}

static int flip_cmp(int op) {
  switch (op) {
  case SQL_CMP_LT: return SQL_CMP_GT;
  case SQL_CMP_LE: return SQL_CMP_GE;
  case SQL_CMP_GT: return SQL_CMP_LT;
  case SQL_CMP_GE: return SQL_CMP_LE;
  default: return op;
  }
}

static int select_rows(sql_eval_ctx *ctx, const sql_expr *e, const sql_batch *b, const uint32_t *in,
                       uint32_t n_in, uint32_t *out, uint32_t *n_out);

/* Generic: evaluate on the rows, keep the true ones. */
static int select_generic(sql_eval_ctx *ctx, const sql_expr *e, const sql_batch *b,
                          const uint32_t *in, uint32_t n_in, uint32_t *out, uint32_t *n_out) {
  sql_vec v;
  bool all = in == NULL || (expr_safe(e) && n_in * 2 >= b->n_rows);
  int rc = all ? eval_any(ctx, e, b, &v) : eval_on(ctx, e, b, in, n_in, &v);
  if (rc) return rc;
  uint32_t k = 0;
  for (uint32_t j = 0; j < n_in; j++) {
    uint32_t row = in ? in[j] : j;
    out[k] = row;
    k += truth(&v, all ? row : j) == 1;
  }
  *n_out = k;
  return 0;
}

static int select_rows(sql_eval_ctx *ctx, const sql_expr *e, const sql_batch *b, const uint32_t *in,
                       uint32_t n_in, uint32_t *out, uint32_t *n_out) {
  if (n_in == 0) {
    *n_out = 0;
    return 0;
  }
  switch (e->kind) {
  case SQL_E_AND: {
    const uint32_t *cur = in;
    uint32_t n_cur = n_in;
    for (size_t k = 0; k < e->n_args; k++) {
      int rc = select_rows(ctx, e->args[k], b, cur, n_cur, out, &n_cur);
      if (rc) return rc;
      cur = out;
      if (n_cur == 0) break;
    }
    if (cur != out) {
      for (uint32_t j = 0; j < n_cur; j++)
        out[j] = in ? in[j] : j;
    }
    *n_out = n_cur;
    return 0;
  }
  case SQL_E_OR: {
    /* Each disjunct runs on the rows no earlier one accepted; the union is merged in order. */
    uint32_t *rem = malloc((size_t)n_in * sizeof *rem), *got = malloc((size_t)n_in * sizeof *got);
    uint8_t *mark = calloc(b->n_rows ? b->n_rows : 1, 1);
    if (rem == NULL || got == NULL || mark == NULL) {
      free(rem);
      free(got);
      free(mark);
      return sql_oom(ctx);
    }
    for (uint32_t j = 0; j < n_in; j++)
      rem[j] = in ? in[j] : j;
    uint32_t n_rem = n_in;
    int rc = 0;
    for (size_t k = 0; k < e->n_args && n_rem > 0 && rc == 0; k++) {
      uint32_t n_got;
      rc = select_rows(ctx, e->args[k], b, rem, n_rem, got, &n_got);
      if (rc) break;
      for (uint32_t j = 0; j < n_got; j++)
        mark[got[j]] = 1;
      uint32_t kept = 0;
      for (uint32_t j = 0; j < n_rem; j++)
        if (!mark[rem[j]]) rem[kept++] = rem[j];
      n_rem = kept;
    }
    uint32_t k = 0;
    if (rc == 0)
      for (uint32_t j = 0; j < n_in; j++) {
        uint32_t row = in ? in[j] : j;
        if (mark[row]) out[k++] = row;
      }
    *n_out = k;
    free(rem);
    free(got);
    free(mark);
    return rc;
  }
  case SQL_E_CONST: {
    bool t = !e->value.is_null && e->value.type && e->value.type->id == SQL_BOOL && e->value.u.b;
    uint32_t k = 0;
    if (t)
      for (uint32_t j = 0; j < n_in; j++)
        out[k++] = in ? in[j] : j;
    *n_out = k;
    return 0;
  }
  case SQL_E_IS_NULL: {
    const sql_expr *c = e->args[0];
    if (c->kind == SQL_E_COLUMN && c->slot >= 0 && (uint32_t)c->slot < b->n_cols && c->type &&
        c->type->id != SQL_STRUCT) {
      const sql_vec *v = &b->cols[c->slot];
      uint32_t k = 0;
      for (uint32_t j = 0; j < n_in; j++) {
        uint32_t row = in ? in[j] : j;
        out[k] = row;
        k += SQL_VEC_IS_NULL(v, row) != e->negated;
      }
      *n_out = k;
      return 0;
    }
    break;
  }
  case SQL_E_FUNC: {
    if (e->func == NULL || e->func->kernel != sql_kernel_compare || e->n_args != 2) break;
    int op = e->func->op;
    const sql_expr *col = plain_column(e->args[0]), *k = e->args[1];
    if (col == NULL || k->kind != SQL_E_CONST) {
      col = plain_column(e->args[1]);
      k = e->args[0];
      op = flip_cmp(op);
    }
    if (col == NULL || k->kind != SQL_E_CONST || col->slot < 0 || (uint32_t)col->slot >= b->n_cols)
      break;
    sql_vec c;
    int rc = eval_const(ctx, k, &c);
    if (rc) return rc;
    if (SQL_VEC_IS_NULL(&c, 0)) {
      *n_out = 0;
      return 0;
    }
    /* The constant must be in the column's representation (decimal scale, float vs int). */
    const sql_vec *v = &b->cols[col->slot];
    if (sql_type_phys(v->type->id) != sql_type_phys(c.type->id)) break;
    if (sql_compare_select(op, v, &c, in, n_in, out, n_out)) return 0;
    break;
  }
  default: break;
  }
  return select_generic(ctx, e, b, in, n_in, out, n_out);
}

int sql_expr_select(sql_eval_ctx *ctx, const sql_expr *e, const sql_batch *b, uint32_t *sel,
                    uint32_t *n_sel) {
  *n_sel = 0;
  return select_rows(ctx, e, b, NULL, b->n_rows, sel, n_sel);
}

int sql_expr_eval_const(sql_eval_ctx *ctx, const sql_expr *e, sql_value *out) {
  sql_batch one;
  memset(&one, 0, sizeof one);
  one.n_rows = 1;
  sql_vec *v = sql_mem_alloc(ctx->mem, 1, sizeof *v);
  if (v == NULL) return sql_oom(ctx);
  int rc = eval_full(ctx, e, &one, v);
  if (rc) return rc;
  sql_vec_get(v, 0, out);
  if (out->type == NULL) out->type = e->type;
  return 0;
}

/* ---- resolution of column references --------------------------------------------------------- */

static int find_id(int id, const int *ids, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (ids[i] == id) return (int)i;
  return -1;
}

int sql_expr_resolve(sql_expr *e, const int *ids, size_t n, tarn_error *err) {
  if (e == NULL) return 0;
  if (e->kind == SQL_E_COLUMN) {
    int s = find_id(e->column_id, ids, n);
    if (s < 0) return tarn_err(err, TARN_EINVAL, "column #%d is not available here", e->column_id);
    e->slot = s;
  }
  for (size_t i = 0; i < e->n_args; i++) {
    int rc = sql_expr_resolve(e->args[i], ids, n, err);
    if (rc) return rc;
  }
  return 0;
}

typedef void (*expr_fn)(sql_expr *e, void *arg);

/* Calls fn on every expression root held by plan p and its children. */
static void plan_walk(sql_plan *p, expr_fn fn, void *arg, int depth) {
  if (p == NULL || depth > 200) return;
  for (size_t i = 0; i < p->n_filters; i++)
    fn(p->filters[i], arg);
  for (size_t i = 0; p->rows && i < p->n_rows * p->n_out; i++)
    fn(p->rows[i], arg);
  if (p->predicate) fn(p->predicate, arg);
  for (size_t i = 0; i < p->n_exprs; i++)
    fn(p->exprs[i], arg);
  for (size_t i = 0; i < p->n_keys; i++)
    fn(p->keys[i], arg);
  for (size_t i = 0; i < p->n_aggs; i++) {
    sql_agg_call *c = &p->aggs[i];
    for (size_t k = 0; k < c->n_args; k++)
      fn(c->args[k], arg);
    if (c->filter) fn(c->filter, arg);
    for (size_t k = 0; k < c->n_order; k++)
      fn(c->order[k].expr, arg);
  }
  if (p->condition) fn(p->condition, arg);
  for (size_t i = 0; i < p->n_join_keys; i++) {
    if (p->left_keys) fn(p->left_keys[i], arg);
    if (p->right_keys) fn(p->right_keys[i], arg);
  }
  if (p->residual) fn(p->residual, arg);
  for (size_t i = 0; i < p->n_sort_keys; i++)
    fn(p->sort_keys[i].expr, arg);
  for (size_t i = 0; i < p->n_windows; i++) {
    sql_window_call *w = &p->windows[i];
    for (size_t k = 0; k < w->agg.n_args; k++)
      fn(w->agg.args[k], arg);
    if (w->agg.filter) fn(w->agg.filter, arg);
    for (size_t k = 0; k < w->agg.n_order; k++)
      fn(w->agg.order[k].expr, arg);
    for (size_t k = 0; k < w->n_partition; k++)
      fn(w->partition[k], arg);
    for (size_t k = 0; k < w->n_order; k++)
      fn(w->order[k].expr, arg);
  }
  plan_walk(p->child[0], fn, arg, depth + 1);
  plan_walk(p->child[1], fn, arg, depth + 1);
}

typedef struct outer_ids {
  const int *ids;
  size_t n;
} outer_ids;

/* Resolves SQL_E_OUTER in an expression of a subquery plan, without entering deeper plans (their
 * outer references name the subquery's own rows and are resolved when it runs). */
static void resolve_outer_in(sql_expr *e, void *arg) {
  if (e == NULL) return;
  const outer_ids *o = arg;
  if (e->kind == SQL_E_OUTER) {
    int s = find_id(e->column_id, o->ids, o->n);
    if (s >= 0) e->slot = s;
  }
  for (size_t i = 0; i < e->n_args; i++)
    resolve_outer_in(e->args[i], arg);
}

static void resolve_outer_rec(sql_expr *e, const outer_ids *o) {
  if (e == NULL) return;
  if (e->kind == SQL_E_SUBQUERY && e->subquery)
    plan_walk(e->subquery, resolve_outer_in, (void *)o, 0);
  for (size_t i = 0; i < e->n_args; i++)
    resolve_outer_rec(e->args[i], o);
}

int sql_expr_resolve_outer(sql_expr *e, const int *ids, size_t n, tarn_error *err) {
  (void)err;
  /* Outer references directly in e belong to an enclosing query (resolved when that query's
   * operator was built); the ones inside e's subquery plans name the rows e is evaluated on. */
  outer_ids o = {ids, n};
  resolve_outer_rec(e, &o);
  return 0;
}

static void free_cache_in(sql_expr *e, void *arg) {
  (void)arg;
  sql_expr_free_cache(e);
}

void sql_expr_free_cache(sql_expr *e) {
  if (e == NULL) return;
  if (e->kind == SQL_E_SUBQUERY) {
    pthread_mutex_lock(&cache_mu);
    void *c = e->cache == CACHE_BUSY ? NULL : e->cache;
    if (c) e->cache = NULL;
    pthread_mutex_unlock(&cache_mu);
    subq_cache_free(c);
    plan_walk(e->subquery, free_cache_in, NULL, 0);
  }
  for (size_t i = 0; i < e->n_args; i++)
    sql_expr_free_cache(e->args[i]);
}

sql_expr *sql_expr_copy(tarn_arena *a, const sql_expr *e) {
  if (e == NULL) return NULL;
  sql_expr *c = tarn_arena_calloc(a, 1, sizeof *c);
  if (c == NULL) return NULL;
  *c = *e;
  c->cache = NULL;
  if (e->n_args) {
    c->args = tarn_arena_calloc(a, e->n_args, sizeof *c->args);
    if (c->args == NULL) return NULL;
    for (size_t i = 0; i < e->n_args; i++) {
      c->args[i] = sql_expr_copy(a, e->args[i]);
      if (c->args[i] == NULL && e->args[i] != NULL) return NULL;
    }
  }
  return c;
}

/* ---- rendering ------------------------------------------------------------------------------- */

typedef struct rbuf {
  char *p;
  size_t cap, len;
} rbuf;

static void rput(rbuf *r, const char *s) {
  size_t n = strlen(s);
  if (r->len + 1 < r->cap) {
    size_t room = r->cap - r->len - 1, k = n < room ? n : room;
    memcpy(r->p + r->len, s, k);
    r->p[r->len + k] = '\0';
  }
  r->len += n;
}

static void render(rbuf *r, const sql_expr *e, sql_column_namer namer, void *arg, int depth);

static void render_list(rbuf *r, sql_expr *const *args, size_t n, sql_column_namer namer, void *arg,
                        int depth) {
  for (size_t i = 0; i < n; i++) {
    if (i) rput(r, ", ");
    render(r, args[i], namer, arg, depth + 1);
  }
}

static void render_const(rbuf *r, const sql_expr *e) {
  char buf[256];
  sql_value v = e->value;
  if (v.type == NULL) v.type = e->type;
  if (v.type == NULL || v.is_null) {
    rput(r, "NULL");
    return;
  }
  sql_value_text(&v, buf, sizeof buf);
  sql_type_id id = v.type->id;
  bool quote = id == SQL_TEXT || id == SQL_BYTEA || id == SQL_UUID || sql_type_is_temporal(id) ||
               id == SQL_LIST || id == SQL_STRUCT || id == SQL_MAP;
  if (!quote) {
    rput(r, id == SQL_BOOL ? (v.u.b ? "true" : "false") : buf);
    return;
  }
  rput(r, "'");
  char one[2] = {0, 0};
  for (const char *s = buf; *s; s++) {
    one[0] = *s;
    rput(r, *s == '\'' ? "''" : one);
  }
  rput(r, "'");
  if (id != SQL_TEXT) {
    char tn[128];
    sql_type_name(v.type, tn, sizeof tn);
    rput(r, "::");
    rput(r, tn);
  }
}

static void render(rbuf *r, const sql_expr *e, sql_column_namer namer, void *arg, int depth) {
  if (e == NULL) {
    rput(r, "?");
    return;
  }
  if (depth > 100) {
    rput(r, "...");
    return;
  }
  char tmp[160];
  switch (e->kind) {
  case SQL_E_CONST: render_const(r, e); return;
  case SQL_E_COLUMN:
  case SQL_E_OUTER: {
    const char *name = namer ? namer(arg, e->column_id) : NULL;
    if (e->kind == SQL_E_OUTER) rput(r, "outer.");
    if (name) {
      rput(r, name);
    } else {
      snprintf(tmp, sizeof tmp, "#%d", e->column_id);
      rput(r, tmp);
    }
    return;
  }
  case SQL_E_FUNC: {
    const char *name = e->func && e->func->name ? e->func->name : "?";
    bool op = !isalpha((unsigned char)name[0]) && name[0] != '_';
    if (op && e->n_args == 2) {
      rput(r, "(");
      render(r, e->args[0], namer, arg, depth + 1);
      rput(r, " ");
      rput(r, name);
      rput(r, " ");
      render(r, e->args[1], namer, arg, depth + 1);
      rput(r, ")");
    } else if (op && e->n_args == 1) {
      rput(r, "(");
      rput(r, name);
      render(r, e->args[0], namer, arg, depth + 1);
      rput(r, ")");
    } else {
      rput(r, name);
      rput(r, "(");
      render_list(r, e->args, e->n_args, namer, arg, depth);
      rput(r, ")");
    }
    return;
  }
  case SQL_E_CAST:
    rput(r, e->is_try ? "TRY_CAST(" : "CAST(");
    render(r, e->args[0], namer, arg, depth + 1);
    rput(r, " AS ");
    sql_type_name(e->type, tmp, sizeof tmp);
    rput(r, tmp);
    rput(r, ")");
    return;
  case SQL_E_AND:
  case SQL_E_OR:
    rput(r, "(");
    for (size_t i = 0; i < e->n_args; i++) {
      if (i) rput(r, e->kind == SQL_E_AND ? " AND " : " OR ");
      render(r, e->args[i], namer, arg, depth + 1);
    }
    rput(r, ")");
    return;
  case SQL_E_NOT:
    rput(r, "(NOT ");
    render(r, e->args[0], namer, arg, depth + 1);
    rput(r, ")");
    return;
  case SQL_E_IS_NULL:
    rput(r, "(");
    render(r, e->args[0], namer, arg, depth + 1);
    rput(r, e->negated ? " IS NOT NULL)" : " IS NULL)");
    return;
  case SQL_E_IS_DISTINCT:
    rput(r, "(");
    render(r, e->args[0], namer, arg, depth + 1);
    rput(r, e->negated ? " IS NOT DISTINCT FROM " : " IS DISTINCT FROM ");
    render(r, e->args[1], namer, arg, depth + 1);
    rput(r, ")");
    return;
  case SQL_E_CASE: {
    size_t n_when = (e->has_else ? e->n_args - 1 : e->n_args) / 2;
    rput(r, "CASE");
    for (size_t w = 0; w < n_when; w++) {
      rput(r, " WHEN ");
      render(r, e->args[2 * w], namer, arg, depth + 1);
      rput(r, " THEN ");
      render(r, e->args[2 * w + 1], namer, arg, depth + 1);
    }
    if (e->has_else) {
      rput(r, " ELSE ");
      render(r, e->args[e->n_args - 1], namer, arg, depth + 1);
    }
    rput(r, " END");
    return;
  }
  case SQL_E_IN_LIST:
    rput(r, "(");
    render(r, e->args[0], namer, arg, depth + 1);
    rput(r, e->negated ? " NOT IN (" : " IN (");
    render_list(r, e->args + 1, e->n_args - 1, namer, arg, depth);
    rput(r, "))");
    return;
  case SQL_E_LIKE:
    rput(r, "(");
    render(r, e->args[0], namer, arg, depth + 1);
    rput(r, e->negated ? " NOT" : "");
    rput(r, e->case_insensitive ? " ILIKE " : " LIKE ");
    render(r, e->args[1], namer, arg, depth + 1);
    if (e->n_args > 2) {
      rput(r, " ESCAPE ");
      render(r, e->args[2], namer, arg, depth + 1);
    }
    rput(r, ")");
    return;
  case SQL_E_SUBQUERY:
    switch (e->sub_kind) {
    case SQL_SUB_SCALAR: rput(r, "(SUBQUERY)"); return;
    case SQL_SUB_EXISTS: rput(r, e->negated ? "NOT EXISTS(SUBQUERY)" : "EXISTS(SUBQUERY)"); return;
    case SQL_SUB_IN:
      rput(r, "(");
      render(r, e->n_args ? e->args[0] : NULL, namer, arg, depth + 1);
      rput(r, e->negated ? " NOT IN (SUBQUERY))" : " IN (SUBQUERY))");
      return;
    default:
      rput(r, "(");
      render(r, e->n_args ? e->args[0] : NULL, namer, arg, depth + 1);
      rput(r, " ");
      rput(r, e->func && e->func->name ? e->func->name : "?");
      rput(r, e->sub_kind == SQL_SUB_ANY ? " ANY(SUBQUERY))" : " ALL(SUBQUERY))");
      return;
    }
  case SQL_E_COALESCE:
  case SQL_E_GREATEST:
  case SQL_E_ROW:
    rput(r, e->kind == SQL_E_COALESCE ? "COALESCE("
            : e->kind == SQL_E_ROW    ? "ROW("
            : e->is_least             ? "LEAST("
                                      : "GREATEST(");
    render_list(r, e->args, e->n_args, namer, arg, depth);
    rput(r, ")");
    return;
  case SQL_E_NULLIF:
    rput(r, "NULLIF(");
    render_list(r, e->args, e->n_args, namer, arg, depth);
    rput(r, ")");
    return;
  case SQL_E_STRUCT_FIELD: {
    render(r, e->args[0], namer, arg, depth + 1);
    const sql_type *t = e->args[0] ? e->args[0]->type : NULL;
    rput(r, ".");
    if (t && t->id == SQL_STRUCT && e->field_index >= 0 && (size_t)e->field_index < t->n_fields &&
        t->fields[e->field_index].name) {
      rput(r, t->fields[e->field_index].name);
    } else {
      snprintf(tmp, sizeof tmp, "f%d", e->field_index);
      rput(r, tmp);
    }
    return;
  }
  case SQL_E_ARRAY:
    rput(r, "ARRAY[");
    render_list(r, e->args, e->n_args, namer, arg, depth);
    rput(r, "]");
    return;
  case SQL_E_SUBSCRIPT:
    render(r, e->args[0], namer, arg, depth + 1);
    rput(r, "[");
    render(r, e->args[1], namer, arg, depth + 1);
    rput(r, "]");
    return;
  }
  rput(r, "?");
}

void sql_expr_render(const sql_expr *e, sql_column_namer namer, void *arg, char *buf, size_t cap) {
  if (buf == NULL || cap == 0) return;
  buf[0] = '\0';
  rbuf r = {buf, cap, 0};
  render(&r, e, namer, arg, 0);
}
