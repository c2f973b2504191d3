/*
 * Tests of the executor's operators (exec_basic, exec_agg, exec_join, exec_sort, exec_setop,
 * exec_window): small plans built by hand over VALUES nodes, run through sql_exec_collect, and
 * their rows compared with results worked out by hand. Large inputs come from a nested-loop
 * cross join of two VALUES lists, so that the spill tests (a memory limit of a few hundred
 * kilobytes) exercise sort runs and aggregate partitions on tens of thousands of rows.
 *
 * Expressions use test kernels (+, %, <, =, ...) through SQL_E_FUNC, which any evaluator runs.
 * Until the expression evaluator exists, weak stand-ins below evaluate columns, constants and
 * function calls; the real definitions replace them when they are linked in.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "common/error.h"
#include "sql/exec.h"
#include "sql/exec_agg.h"
#include "sql/exec_util.h"

/* --- Stand-ins for the expression evaluator (weak: the real one wins) ------------------------- */

__attribute__((weak)) int sql_expr_resolve(sql_expr *e, const int *ids, size_t n, tarn_error *err) {
  if (e == NULL) return 0;
  if (e->kind == SQL_E_COLUMN) {
    for (size_t i = 0; i < n; i++)
      if (ids[i] == e->column_id) {
        e->slot = (int)i;
        return 0;
      }
    return tarn_err(err, TARN_EINVAL, "column #%d not found", e->column_id);
  }
  for (size_t i = 0; i < e->n_args; i++) {
    int rc = sql_expr_resolve(e->args[i], ids, n, err);
    if (rc) return rc;
  }
  return 0;
}

__attribute__((weak)) int sql_expr_resolve_outer(sql_expr *e, const int *ids, size_t n,
                                                 tarn_error *err) {
  (void)e, (void)ids, (void)n, (void)err;
  return 0;
}

__attribute__((weak)) void sql_expr_render(const sql_expr *e, sql_column_namer namer, void *arg,
                                           char *buf, size_t cap) {
  (void)e, (void)namer, (void)arg;
  if (cap) buf[0] = 0;
}

__attribute__((weak)) void sql_expr_free_cache(sql_expr *e) { (void)e; }

__attribute__((weak)) int sql_expr_eval(sql_eval_ctx *ctx, const sql_expr *e, const sql_batch *b,
                                        sql_vec *out) {
  uint32_t n = b->n_rows;
  switch (e->kind) {
  case SQL_E_COLUMN: *out = b->cols[e->slot]; return 0;
  case SQL_E_CONST: {
    sql_vec one;
    int rc = sql_vec_from_value(ctx->mem, &e->value, &one, ctx->err);
    return rc ? rc : sql_vec_broadcast(ctx->mem, &one, n, out, ctx->err);
  }
  case SQL_E_FUNC: {
    sql_vec args[4];
    sql_vec *ap[4];
    for (size_t i = 0; i < e->n_args; i++) {
      int rc = sql_expr_eval(ctx, e->args[i], b, &args[i]);
      if (rc) return rc;
      ap[i] = &args[i];
    }
    int rc = sql_vec_init(ctx->mem, out, e->type, n, ctx->err);
    if (rc) return rc;
    if (!e->func->handles_nulls) {
      for (size_t i = 0; i < e->n_args; i++)
        for (uint32_t r = 0; r < n; r++)
          if (SQL_VEC_IS_NULL(&args[i], r)) sql_vec_nulls(ctx->mem, out)[r] = 1;
    }
    return e->func->kernel(ctx, e->func, ap, e->n_args, n, out);
  }
  case SQL_E_CAST: {
    sql_vec arg;
    int rc = sql_expr_eval(ctx, e->args[0], b, &arg);
    return rc ? rc : sql_cast_vec(ctx, &arg, e->type, e->is_try, out);
  }
  default: return tarn_err(ctx->err, TARN_EUNSUPPORTED, "test evaluator: kind %d", (int)e->kind);
  }
}

__attribute__((weak)) int sql_expr_select(sql_eval_ctx *ctx, const sql_expr *e, const sql_batch *b,
                                          uint32_t *sel, uint32_t *n_sel) {
  sql_vec v;
  int rc = sql_expr_eval(ctx, e, b, &v);
  if (rc) return rc;
  uint32_t m = 0;
  for (uint32_t i = 0; i < b->n_rows; i++)
    if (!SQL_VEC_IS_NULL(&v, i) && SQL_VEC_U8(&v)[i]) sel[m++] = i;
  *n_sel = m;
  return 0;
}

/* --- Test kernels ----------------------------------------------------------------------------- */

#define AR(v, i) ((v)->n == 1 ? 0u : (uint32_t)(i))

enum { K_ADD, K_MOD, K_LT, K_GT, K_EQ, K_COUNTER, K_NE, K_MUL };
static int64_t counter_calls;

static int kernel(sql_eval_ctx *ctx, const sql_func *f, sql_vec *const *args, size_t n_args,
                  uint32_t n, sql_vec *out) {
  (void)ctx, (void)n_args;
  if (f->op == K_COUNTER) {
    counter_calls++;
    for (uint32_t i = 0; i < n; i++)
      SQL_VEC_I64(out)[i] = (int64_t)i;
    return 0;
  }
  const int64_t *a = SQL_VEC_I64(args[0]), *b = SQL_VEC_I64(args[1]);
  for (uint32_t i = 0; i < n; i++) {
    if (SQL_VEC_IS_NULL(out, i)) continue;
    int64_t x = a[AR(args[0], i)], y = b[AR(args[1], i)];
    switch (f->op) {
    case K_ADD: SQL_VEC_I64(out)[i] = x + y; break;
    case K_MUL: SQL_VEC_I64(out)[i] = x * y; break;
    case K_MOD: SQL_VEC_I64(out)[i] = y ? x % y : 0; break;
    case K_LT: SQL_VEC_U8(out)[i] = x < y; break;
    case K_GT: SQL_VEC_U8(out)[i] = x > y; break;
    case K_EQ: SQL_VEC_U8(out)[i] = x == y; break;
    case K_NE: SQL_VEC_U8(out)[i] = x != y; break;
    }
  }
  return 0;
}

/* --- Plan building helpers -------------------------------------------------------------------- */

static sql_plan_ctx pc;
static tarn_error err;
static sql_exec_ctx ctx;
static sql_mem *keep; /* constants' nested vectors */

static const sql_type *T(sql_type_id id) { return sql_type_get(id); }

static sql_expr *new_expr(sql_expr_kind k, const sql_type *t) {
  sql_expr *e = tarn_arena_calloc(&pc.arena, 1, sizeof *e);
  e->kind = k;
  e->type = t;
  return e;
}

static sql_expr *col(const sql_plan *p, int i) {
  sql_expr *e = new_expr(SQL_E_COLUMN, p->out_types[i]);
  e->column_id = p->out_ids[i];
  return e;
}

static sql_expr *cint(int64_t v) {
  sql_expr *e = new_expr(SQL_E_CONST, T(SQL_INT8));
  e->value.type = e->type;
  e->value.u.i64 = v;
  return e;
}

static sql_expr *cint4(int64_t v) {
  sql_expr *e = cint(v);
  e->type = e->value.type = T(SQL_INT4);
  return e;
}

static sql_expr *cnull(const sql_type *t) {
  sql_expr *e = new_expr(SQL_E_CONST, t);
  e->value.type = t;
  e->value.is_null = true;
  return e;
}

static sql_expr *ctext(const char *s) {
  sql_expr *e = new_expr(SQL_E_CONST, T(SQL_TEXT));
  e->value.type = e->type;
  e->value.u.str.ptr = s;
  e->value.u.str.len = strlen(s);
  return e;
}

static sql_expr *cfloat(double d) {
  sql_expr *e = new_expr(SQL_E_CONST, T(SQL_FLOAT8));
  e->value.type = e->type;
  e->value.u.f64 = d;
  return e;
}

static sql_expr *cbool(int b) {
  sql_expr *e = new_expr(SQL_E_CONST, T(SQL_BOOL));
  e->value.type = e->type;
  if (b < 0) e->value.is_null = true;
  e->value.u.b = b > 0;
  return e;
}

static sql_expr *cdec(sql_i128 v, int p, int s) {
  const sql_type *t = sql_type_decimal(&pc.arena, p, s);
  sql_expr *e = new_expr(SQL_E_CONST, t);
  e->value.type = t;
  e->value.u.i128 = v;
  return e;
}

static sql_expr *cast(sql_expr *a, const sql_type *to) {
  sql_expr *e = new_expr(SQL_E_CAST, to);
  e->args = tarn_arena_calloc(&pc.arena, 1, sizeof *e->args);
  e->args[0] = a;
  e->n_args = 1;
  return e;
}

static sql_expr *fn(int op, const char *name, sql_expr *a, sql_expr *b) {
  sql_func *f = tarn_arena_calloc(&pc.arena, 1, sizeof *f);
  f->name = name;
  f->kernel = kernel;
  f->op = op;
  f->ret = op == K_ADD || op == K_MOD || op == K_MUL || op == K_COUNTER ? T(SQL_INT8) : T(SQL_BOOL);
  f->volatile_ = op == K_COUNTER;
  sql_expr *e = new_expr(SQL_E_FUNC, f->ret);
  e->func = f;
  e->args = tarn_arena_calloc(&pc.arena, 2, sizeof *e->args);
  e->args[0] = a;
  e->args[1] = b;
  e->n_args = a ? (b ? 2 : 1) : 0;
  return e;
}

static void outs(sql_plan *p, size_t n, const sql_type *const *types) {
  sql_plan_alloc_out(&pc, p, n);
  for (size_t i = 0; i < n; i++) {
    p->out_ids[i] = sql_plan_new_id(&pc);
    p->out_names[i] = "c";
    p->out_types[i] = types[i];
  }
}

/* VALUES of n_rows rows of n_cols expressions (row-major). */
static sql_plan *values(size_t n_cols, size_t n_rows, const sql_type *const *types,
                        sql_expr **cells) {
  sql_plan *p = sql_plan_new(&pc, SQL_P_VALUES);
  outs(p, n_cols, types);
  p->rows = tarn_arena_calloc(&pc.arena, n_cols * n_rows + 1, sizeof *p->rows);
  if (n_rows) memcpy(p->rows, cells, n_cols * n_rows * sizeof *cells);
  p->n_rows = n_rows;
  return p;
}

static sql_plan *project(sql_plan *child, size_t n, sql_expr **exprs);
static sql_plan *join(sql_join_kind kind, sql_plan *l, sql_plan *r, bool keys, sql_expr *residual);

/* VALUES 0..n-1 as one bigint column. */
static sql_plan *counting(int64_t n) {
  sql_expr **cells = calloc((size_t)n, sizeof *cells);
  for (int64_t i = 0; i < n; i++)
    cells[i] = cint(i);
  const sql_type *t[] = {T(SQL_INT8)};
  sql_plan *v = values(1, (size_t)n, t, cells);
  free(cells);
  return v;
}

/* The rows 0..n-1 (n a multiple of 100) in order as one bigint column: the nested-loop cross
 * join of VALUES 0..n/100-1 with VALUES 0..99, as b * 100 + a. */
static sql_plan *series(int64_t n) {
  sql_plan *b = counting(n / 100), *a = counting(100);
  sql_plan *j = join(SQL_JOIN_CROSS, b, a, false, NULL);
  sql_expr *e[] = {fn(K_ADD, "+", fn(K_MUL, "*", col(j, 0), cint(100)), col(j, 1))};
  return project(j, 1, e);
}

static sql_plan *project(sql_plan *child, size_t n, sql_expr **exprs) {
  sql_plan *p = sql_plan_new(&pc, SQL_P_PROJECT);
  p->child[0] = child;
  const sql_type *t[16];
  for (size_t i = 0; i < n; i++)
    t[i] = exprs[i]->type;
  outs(p, n, t);
  p->exprs = tarn_arena_calloc(&pc.arena, n, sizeof *p->exprs);
  memcpy(p->exprs, exprs, n * sizeof *exprs);
  p->n_exprs = n;
  return p;
}

/* --- Formatting results ----------------------------------------------------------------------- */

static void fmt_value(const sql_vec *v, uint32_t i, char *buf, size_t cap) {
  if (v->type->id == SQL_NULL || SQL_VEC_IS_NULL(v, i)) {
    snprintf(buf, cap, "NULL");
    return;
  }
  switch (v->type->id) {
  case SQL_BOOL: snprintf(buf, cap, "%s", SQL_VEC_U8(v)[i] ? "t" : "f"); break;
  case SQL_FLOAT4:
  case SQL_FLOAT8: snprintf(buf, cap, "%.6g", SQL_VEC_F64(v)[i]); break;
  case SQL_DECIMAL: {
    sql_i128 x = SQL_VEC_I128(v)[i];
    bool neg = x < 0;
    unsigned __int128 u = neg ? (unsigned __int128)(-x) : (unsigned __int128)x;
    char digits[64];
    int n = 0;
    do {
      digits[n++] = (char)('0' + (int)(u % 10));
      u /= 10;
    } while (u || n <= v->type->scale);
    size_t o = 0;
    if (neg) buf[o++] = '-';
    for (int k = n - 1; k >= 0; k--) {
      buf[o++] = digits[k];
      if (k == v->type->scale && k > 0) buf[o++] = '.';
    }
    buf[o] = 0;
    break;
  }
  case SQL_TEXT:
  case SQL_BYTEA:
    snprintf(buf, cap, "%.*s", (int)SQL_VEC_STR(v)[i].len, SQL_VEC_STR(v)[i].ptr);
    break;
  case SQL_INTERVAL: {
    sql_interval iv = SQL_VEC_IV(v)[i];
    snprintf(buf, cap, "%dm%dd%lldus", iv.months, iv.days, (long long)iv.micros);
    break;
  }
  case SQL_LIST: {
    size_t o = 0;
    buf[o++] = '[';
    for (int64_t k = v->offsets[i]; k < v->offsets[i + 1] && o + 2 < cap; k++) {
      if (k > v->offsets[i]) buf[o++] = ',';
      fmt_value(v->child, (uint32_t)k, buf + o, cap - o);
      o += strlen(buf + o);
    }
    if (o + 2 <= cap) {
      buf[o++] = ']';
      buf[o] = 0;
    }
    break;
  }
  default: snprintf(buf, cap, "%lld", (long long)SQL_VEC_I64(v)[i]);
  }
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Rows of plan p as "a|b;c|d" (sorted: rows in lexical order). NULL-terminated malloc'ed text
 * in a static buffer; "ERROR: message" when the run fails. */
static char result_buf[1 << 20];
static const char *run(sql_plan *p, bool sorted) {
  sql_batch *b = NULL;
  tarn_err_clear(&err);
  int rc = sql_exec_collect(&ctx, p, &b);
  if (rc) {
    snprintf(result_buf, sizeof result_buf, "ERROR: %s", err.message);
    return result_buf;
  }
  char **rows = calloc(b->n_rows + 1, sizeof *rows);
  for (uint32_t r = 0; r < b->n_rows; r++) {
    char line[4096];
    size_t o = 0;
    for (uint32_t c = 0; c < b->n_cols; c++) {
      if (c) line[o++] = '|';
      fmt_value(&b->cols[c], r, line + o, sizeof line - o);
      o += strlen(line + o);
    }
    line[o] = 0;
    rows[r] = strdup(line);
  }
  if (sorted) qsort(rows, b->n_rows, sizeof *rows, cmp_str);
  size_t o = 0;
  result_buf[0] = 0;
  for (uint32_t r = 0; r < b->n_rows; r++) {
    o += (size_t)snprintf(result_buf + o, sizeof result_buf - o, "%s%s", r ? ";" : "", rows[r]);
    free(rows[r]);
  }
  free(rows);
  sql_batch_free(b);
  return result_buf;
}

/* --- Fixtures --------------------------------------------------------------------------------- */

/* t(k int8, v int4, s text): (1,10,'a') (1,20,'b') (2,5,'c') (2,NULL,'d') (3,7,NULL) (NULL,1,'e')
 */
static sql_plan *table_t(void) {
  const sql_type *types[] = {T(SQL_INT8), T(SQL_INT4), T(SQL_TEXT)};
  sql_expr *cells[] = {cint(1),
                       cint4(10),
                       ctext("a"),
                       cint(1),
                       cint4(20),
                       ctext("b"),
                       cint(2),
                       cint4(5),
                       ctext("c"),
                       cint(2),
                       cnull(T(SQL_INT4)),
                       ctext("d"),
                       cint(3),
                       cint4(7),
                       cnull(T(SQL_TEXT)),
                       cnull(T(SQL_INT8)),
                       cint4(1),
                       ctext("e")};
  return values(3, 6, types, cells);
}

/* u(k int8, w int8): (1,100) (2,200) (2,201) (4,400) (NULL,0) */
static sql_plan *table_u(void) {
  const sql_type *types[] = {T(SQL_INT8), T(SQL_INT8)};
  sql_expr *cells[] = {cint(1),   cint(100), cint(2),   cint(200),          cint(2),
                       cint(201), cint(4),   cint(400), cnull(T(SQL_INT8)), cint(0)};
  return values(2, 5, types, cells);
}

static void setup(void) {
  tarn_arena_free(&pc.arena);
  memset(&pc, 0, sizeof pc);
  memset(&ctx, 0, sizeof ctx);
  ctx.err = &err;
  ctx.n_threads = 1;
  ctx.tmp_dir = "/tmp";
  tarn_err_clear(&err);
}

/* --- Basic operators -------------------------------------------------------------------------- */

static void test_filter_project_limit(void) {
  setup();
  sql_plan *t = table_t();
  sql_plan *f = sql_plan_new(&pc, SQL_P_FILTER);
  f->child[0] = t;
  outs(f, 3, t->out_types);
  memcpy(f->out_ids, t->out_ids, 3 * sizeof(int));
  f->predicate = fn(K_GT, ">", col(t, 1), cint4(6));
  CHECK_EQ_STR(run(f, false), "1|10|a;1|20|b;3|7|NULL");

  sql_expr *e[] = {fn(K_ADD, "+", col(t, 0), col(t, 1)), col(t, 2)};
  sql_plan *p = project(t, 2, e);
  CHECK_EQ_STR(run(p, false), "11|a;21|b;7|c;NULL|d;10|NULL;NULL|e");

  sql_plan *l = sql_plan_new(&pc, SQL_P_LIMIT);
  l->child[0] = t;
  outs(l, 3, t->out_types);
  memcpy(l->out_ids, t->out_ids, 3 * sizeof(int));
  l->limit = 2;
  l->offset = 3;
  CHECK_EQ_STR(run(l, false), "2|NULL|d;3|7|NULL");
  l->limit = 0;
  CHECK_EQ_STR(run(l, false), "");
  l->limit = -1;
  l->offset = 5;
  CHECK_EQ_STR(run(l, false), "NULL|1|e");

  /* A limit over a large input stops early and slices batches. */
  sql_plan *s = series(10000);
  sql_plan *l2 = sql_plan_new(&pc, SQL_P_LIMIT);
  l2->child[0] = s;
  outs(l2, 1, s->out_types);
  memcpy(l2->out_ids, s->out_ids, sizeof(int));
  l2->offset = 4095;
  l2->limit = 3;
  CHECK_EQ_STR(run(l2, false), "4095;4096;4097");
}

static void test_values_unnest(void) {
  setup();
  sql_plan *s = series(5000);
  (void)keep;
  sql_plan *a = sql_plan_new(&pc, SQL_P_AGG);
  a->child[0] = s;
  a->aggs = tarn_arena_calloc(&pc.arena, 2, sizeof *a->aggs);
  a->n_aggs = 2;
  a->aggs[0].fn = SQL_AGG_COUNT_STAR;
  a->aggs[0].type = T(SQL_INT8);
  a->aggs[1].fn = SQL_AGG_SUM;
  a->aggs[1].args = tarn_arena_calloc(&pc.arena, 1, sizeof(sql_expr *));
  a->aggs[1].args[0] = col(s, 0);
  a->aggs[1].n_args = 1;
  a->aggs[1].type = sql_type_decimal(&pc.arena, 38, 0);
  const sql_type *at[] = {T(SQL_INT8), a->aggs[1].type};
  outs(a, 2, at);
  CHECK_EQ_STR(run(a, false), "5000|12497500");

  /* Unnest keeps the input's columns; NULL and empty lists give no rows. */
  const sql_type *lt = sql_type_list(&pc.arena, T(SQL_INT8));
  sql_vec *lv = sql_mem_alloc(keep, 1, sizeof *lv);
  sql_vec_init(keep, lv, lt, 3, &err);
  sql_vec_init(keep, lv->child, T(SQL_INT8), 3, &err);
  for (int i = 0; i < 3; i++)
    SQL_VEC_I64(lv->child)[i] = 7 + i;
  lv->offsets[0] = 0;
  lv->offsets[1] = 2;
  lv->offsets[2] = 2;
  lv->offsets[3] = 3;
  sql_expr *l0 = new_expr(SQL_E_CONST, lt), *l1 = new_expr(SQL_E_CONST, lt),
           *l2 = new_expr(SQL_E_CONST, lt);
  l0->value.type = l1->value.type = l2->value.type = lt;
  l0->value.nested = l1->value.nested = l2->value.nested = lv;
  l1->value.nested_row = 1;
  l2->value.nested_row = 2;
  const sql_type *vt[] = {T(SQL_TEXT), lt};
  sql_expr *cells[] = {ctext("x"), l0, ctext("y"), l1, ctext("z"), cnull(lt), ctext("w"), l2};
  sql_plan *v = values(2, 4, vt, cells);
  CHECK_EQ_STR(run(v, false), "x|[7,8];y|[];z|NULL;w|[9]");
  sql_plan *u = sql_plan_new(&pc, SQL_P_UNNEST);
  u->child[0] = v;
  const sql_type *ut[] = {T(SQL_TEXT), lt, T(SQL_INT8)};
  outs(u, 3, ut);
  u->exprs = tarn_arena_calloc(&pc.arena, 1, sizeof *u->exprs);
  u->exprs[0] = col(v, 1);
  u->n_exprs = 1;
  CHECK_EQ_STR(run(u, false), "x|[7,8]|7;x|[7,8]|8;w|[9]|9");
}

/* --- Aggregation
 * ---------------------------------------------------------------------------------- */

static sql_agg_call call(sql_agg_fn f, sql_expr *arg, const sql_type *type) {
  sql_agg_call c;
  memset(&c, 0, sizeof c);
  c.fn = f;
  if (arg) {
    c.args = tarn_arena_calloc(&pc.arena, 2, sizeof *c.args);
    c.args[0] = arg;
    c.n_args = 1;
  }
  c.type = type;
  return c;
}

static sql_plan *agg(sql_plan *child, size_t n_keys, sql_expr **keys, size_t n_aggs,
                     const sql_agg_call *calls) {
  sql_plan *a = sql_plan_new(&pc, SQL_P_AGG);
  a->child[0] = child;
  a->keys = tarn_arena_calloc(&pc.arena, n_keys + 1, sizeof *a->keys);
  if (n_keys) memcpy(a->keys, keys, n_keys * sizeof *keys);
  a->n_keys = n_keys;
  a->aggs = tarn_arena_calloc(&pc.arena, n_aggs + 1, sizeof *a->aggs);
  memcpy(a->aggs, calls, n_aggs * sizeof *calls);
  a->n_aggs = n_aggs;
  const sql_type *t[32];
  for (size_t k = 0; k < n_keys; k++)
    t[k] = keys[k]->type;
  for (size_t i = 0; i < n_aggs; i++)
    t[n_keys + i] = calls[i].type;
  outs(a, n_keys + n_aggs, t);
  return a;
}

static const sql_type *resolved(const char *name, const sql_type *arg) {
  sql_agg_fn f;
  const sql_type *ret = NULL;
  const sql_type *args[] = {arg};
  int rc = sql_agg_resolve(&pc.arena, name, args, arg ? 1 : 0, false, &f, &ret, &err);
  CHECK_EQ_INT(rc, 0);
  return ret;
}

static void test_agg_resolve(void) {
  setup();
  char name[64];
  sql_type_name(resolved("count", NULL), name, sizeof name);
  CHECK_EQ_STR(name, "bigint");
  sql_type_name(resolved("sum", T(SQL_INT4)), name, sizeof name);
  CHECK_EQ_STR(name, "bigint");
  sql_type_name(resolved("sum", T(SQL_INT8)), name, sizeof name);
  CHECK_EQ_STR(name, "numeric(38,0)");
  sql_type_name(resolved("sum", sql_type_decimal(&pc.arena, 10, 2)), name, sizeof name);
  CHECK_EQ_STR(name, "numeric(38,2)");
  sql_type_name(resolved("sum", T(SQL_FLOAT4)), name, sizeof name);
  CHECK_EQ_STR(name, "double precision");
  sql_type_name(resolved("avg", T(SQL_INT2)), name, sizeof name);
  CHECK_EQ_STR(name, "numeric(38,16)");
  sql_type_name(resolved("avg", sql_type_decimal(&pc.arena, 20, 8)), name, sizeof name);
  CHECK_EQ_STR(name, "numeric(38,16)");
  sql_type_name(resolved("avg", sql_type_decimal(&pc.arena, 38, 20)), name, sizeof name);
  CHECK_EQ_STR(name, "numeric(38,20)");
  sql_type_name(resolved("max", T(SQL_TEXT)), name, sizeof name);
  CHECK_EQ_STR(name, "text");
  sql_type_name(resolved("array_agg", T(SQL_INT4)), name, sizeof name);
  CHECK_EQ_STR(name, "integer[]");
  sql_type_name(resolved("stddev", T(SQL_INT4)), name, sizeof name);
  CHECK_EQ_STR(name, "double precision");
  sql_type_name(resolved("sum", T(SQL_INTERVAL)), name, sizeof name);
  CHECK_EQ_STR(name, "interval");
  sql_agg_fn f;
  const sql_type *ret;
  const sql_type *args[] = {T(SQL_TEXT)};
  tarn_err_clear(&err);
  CHECK_EQ_INT(sql_agg_resolve(&pc.arena, "sum", args, 1, false, &f, &ret, &err), TARN_EINVAL);
  CHECK_EQ_STR(err.message, "function sum(text) does not exist");
  const sql_type *b[] = {T(SQL_BOOL)};
  tarn_err_clear(&err);
  CHECK_EQ_INT(sql_agg_resolve(&pc.arena, "min", b, 1, false, &f, &ret, &err), TARN_EINVAL);
  CHECK_EQ_STR(err.message, "function min(boolean) does not exist");
}

static void test_agg_basic(void) {
  setup();
  sql_plan *t = table_t();
  sql_expr *keys[] = {col(t, 0)};
  sql_agg_call calls[] = {
      call(SQL_AGG_COUNT_STAR, NULL, T(SQL_INT8)),
      call(SQL_AGG_COUNT, col(t, 1), T(SQL_INT8)),
      call(SQL_AGG_SUM, col(t, 1), T(SQL_INT8)),
      call(SQL_AGG_AVG, col(t, 1), sql_type_decimal(&pc.arena, 38, 6)),
      call(SQL_AGG_MIN, col(t, 2), T(SQL_TEXT)),
      call(SQL_AGG_MAX, col(t, 1), T(SQL_INT4)),
  };
  sql_plan *a = agg(t, 1, keys, 6, calls);
  CHECK_EQ_STR(run(a, true), "1|2|2|30|15.000000|a|20;2|2|1|5|5.000000|c|5;3|1|1|7|7.000000|NULL|7;"
                             "NULL|1|1|1|1.000000|e|1");

  /* No GROUP BY: one row, also over empty input. */
  sql_plan *a2 = agg(t, 0, NULL, 6, calls);
  CHECK_EQ_STR(run(a2, false), "6|5|43|8.600000|a|20");
  const sql_type *types[] = {T(SQL_INT8), T(SQL_INT4), T(SQL_TEXT)};
  sql_plan *empty = values(3, 0, types, NULL);
  sql_agg_call c2[] = {
      call(SQL_AGG_COUNT_STAR, NULL, T(SQL_INT8)),
      call(SQL_AGG_SUM, col(empty, 1), T(SQL_INT8)),
      call(SQL_AGG_MAX, col(empty, 2), T(SQL_TEXT)),
  };
  CHECK_EQ_STR(run(agg(empty, 0, NULL, 3, c2), false), "0|NULL|NULL");
  sql_expr *k2[] = {col(empty, 0)};
  CHECK_EQ_STR(run(agg(empty, 1, k2, 3, c2), false), "");

  /* FILTER, DISTINCT, rounding of avg, bool_and / bool_or, any_value, variance. */
  const sql_type *vt[] = {T(SQL_INT8), sql_type_decimal(&pc.arena, 10, 2), T(SQL_BOOL),
                          T(SQL_FLOAT8)};
  sql_expr *cells[] = {cint(1), cdec(100, 10, 2), cbool(1),  cfloat(1),
                       cint(1), cdec(100, 10, 2), cbool(0),  cfloat(2),
                       cint(1), cdec(201, 10, 2), cbool(-1), cfloat(4),
                       cint(2), cdec(-5, 10, 2),  cbool(1),  cfloat(8)};
  sql_plan *v = values(4, 4, vt, cells);
  sql_agg_call c3[] = {
      call(SQL_AGG_COUNT, col(v, 1), T(SQL_INT8)),
      call(SQL_AGG_SUM, col(v, 1), sql_type_decimal(&pc.arena, 38, 2)),
      call(SQL_AGG_AVG, col(v, 1), sql_type_decimal(&pc.arena, 38, 6)),
      call(SQL_AGG_BOOL_AND, col(v, 2), T(SQL_BOOL)),
      call(SQL_AGG_BOOL_OR, col(v, 2), T(SQL_BOOL)),
      call(SQL_AGG_VAR_SAMP, col(v, 3), T(SQL_FLOAT8)),
      call(SQL_AGG_STDDEV_POP, col(v, 3), T(SQL_FLOAT8)),
      call(SQL_AGG_ANY_VALUE, col(v, 3), T(SQL_FLOAT8)),
  };
  c3[0].distinct = true;
  c3[1].filter = col(v, 2);
  sql_expr *k3[] = {col(v, 0)};
  CHECK_EQ_STR(run(agg(v, 1, k3, 8, c3), true),
               "1|2|1.00|1.336667|f|t|2.33333|1.24722|1;2|1|-0.05|-0.050000|t|t|NULL|0|8");
  /* avg rounds half away from zero: (1 + 2) / 2 at scale 6 is exact; 2/3 rounds up. */
  sql_expr *cells2[] = {cint4(1), cint4(1), cint4(0), cint4(-1), cint4(-1), cint4(0)};
  const sql_type *it[] = {T(SQL_INT4)};
  sql_plan *v2 = values(1, 6, it, cells2);
  sql_agg_call c4[] = {call(SQL_AGG_AVG, col(v2, 0), sql_type_decimal(&pc.arena, 38, 6))};
  sql_plan *v3 = values(1, 3, it, cells2);
  sql_agg_call c5[] = {call(SQL_AGG_AVG, col(v3, 0), sql_type_decimal(&pc.arena, 38, 6))};
  CHECK_EQ_STR(run(agg(v2, 0, NULL, 1, c4), false), "0.000000");
  CHECK_EQ_STR(run(agg(v3, 0, NULL, 1, c5), false), "0.666667");
  sql_expr *cells3[] = {cint4(-1), cint4(-1), cint4(0)};
  sql_plan *v4 = values(1, 3, it, cells3);
  sql_agg_call c6[] = {call(SQL_AGG_AVG, col(v4, 0), sql_type_decimal(&pc.arena, 38, 6))};
  CHECK_EQ_STR(run(agg(v4, 0, NULL, 1, c6), false), "-0.666667");

  /* bigint overflow of sum(int) is an error. */
  sql_expr *big[] = {cint(INT64_MAX), cint(1)};
  const sql_type *bt[] = {T(SQL_INT8)};
  sql_plan *vb = values(1, 2, bt, big);
  sql_agg_call c7[] = {call(SQL_AGG_SUM, col(vb, 0), T(SQL_INT8))};
  CHECK_EQ_STR(run(agg(vb, 0, NULL, 1, c7), false), "ERROR: bigint out of range");
  sql_agg_call c8[] = {call(SQL_AGG_SUM, col(vb, 0), sql_type_decimal(&pc.arena, 38, 0))};
  CHECK_EQ_STR(run(agg(vb, 0, NULL, 1, c8), false), "9223372036854775808");
  /* avg's division needs more than 128 bits here: (2^63 - 1) * 2 * 10^16. */
  sql_expr *big2[] = {cint(INT64_MAX), cint(INT64_MAX)};
  sql_plan *vb2 = values(1, 2, bt, big2);
  sql_agg_call c9[] = {call(SQL_AGG_AVG, col(vb2, 0), resolved("avg", T(SQL_INT8)))};
  CHECK_EQ_STR(run(agg(vb2, 0, NULL, 1, c9), false), "9223372036854775807.0000000000000000");
}

static void test_agg_ordered(void) {
  setup();
  sql_plan *t = table_t();
  sql_agg_call sa = call(SQL_AGG_STRING_AGG, col(t, 2), T(SQL_TEXT));
  sa.args = tarn_arena_calloc(&pc.arena, 2, sizeof *sa.args);
  sa.args[0] = col(t, 2);
  sa.args[1] = ctext(",");
  sa.n_args = 2;
  sa.order = tarn_arena_calloc(&pc.arena, 1, sizeof *sa.order);
  sa.order[0].expr = col(t, 1);
  sa.order[0].descending = true;
  sa.order[0].nulls_first = true;
  sa.n_order = 1;
  sql_agg_call aa = call(SQL_AGG_ARRAY_AGG, col(t, 1), sql_type_list(&pc.arena, T(SQL_INT4)));
  aa.order = tarn_arena_calloc(&pc.arena, 1, sizeof *aa.order);
  aa.order[0].expr = col(t, 2);
  aa.n_order = 1;
  sql_agg_call cd = call(SQL_AGG_COUNT, col(t, 0), T(SQL_INT8));
  cd.distinct = true;
  sql_agg_call sd = call(SQL_AGG_SUM, col(t, 0), sql_type_decimal(&pc.arena, 38, 0));
  sd.distinct = true;
  sql_agg_call calls[] = {sa, aa, cd, sd};
  sql_plan *a = agg(t, 0, NULL, 4, calls);
  /* string_agg skips NULL values: order by v DESC NULLS FIRST is d(NULL v), b 20, a 10, NULL s
   * (v 7, skipped), c 5, e 1. */
  CHECK_EQ_STR(run(a, false), "d,b,a,c,e|[10,20,5,NULL,1,7]|3|6");
  CHECK(!sql_agg_splittable(a));
  sql_agg_call ad = call(SQL_AGG_ARRAY_AGG, col(t, 0), sql_type_list(&pc.arena, T(SQL_INT8)));
  ad.distinct = true;
  ad.order = tarn_arena_calloc(&pc.arena, 1, sizeof *ad.order);
  ad.order[0].expr = col(t, 0);
  ad.order[0].descending = true;
  ad.n_order = 1;
  CHECK_EQ_STR(run(agg(t, 0, NULL, 1, &ad), false), "[3,2,1,NULL]");
  sql_agg_call plain[] = {call(SQL_AGG_COUNT_STAR, NULL, T(SQL_INT8))};
  CHECK(sql_agg_splittable(agg(t, 0, NULL, 1, plain)));

  /* Grouped: array_agg per group in input order (no ORDER BY), empty groups impossible. */
  sql_expr *keys[] = {col(t, 0)};
  sql_agg_call ga[] = {call(SQL_AGG_ARRAY_AGG, col(t, 2), sql_type_list(&pc.arena, T(SQL_TEXT))),
                       cd};
  CHECK_EQ_STR(run(agg(t, 1, keys, 2, ga), true), "1|[a,b]|1;2|[c,d]|1;3|[NULL]|1;NULL|[e]|0");
}

static void test_agg_partial_final(void) {
  setup();
  sql_plan *t = table_t();
  sql_expr *keys[] = {fn(K_MOD, "%", col(t, 1), cint(2))};
  sql_agg_call calls[] = {
      call(SQL_AGG_COUNT_STAR, NULL, T(SQL_INT8)),
      call(SQL_AGG_SUM, col(t, 1), T(SQL_INT8)),
      call(SQL_AGG_AVG, col(t, 1), sql_type_decimal(&pc.arena, 38, 6)),
      call(SQL_AGG_MAX, col(t, 2), T(SQL_TEXT)),
      call(SQL_AGG_STDDEV_SAMP, col(t, 1), T(SQL_FLOAT8)),
  };
  sql_plan *single = agg(t, 1, keys, 5, calls);
  char expect[512];
  snprintf(expect, sizeof expect, "%s", run(single, true));
  CHECK_EQ_STR(expect,
               "0|2|30|15.000000|b|7.07107;1|3|13|4.333333|e|3.05505;NULL|1|NULL|NULL|d|NULL");

  /* PARTIAL over each half of the input, then FINAL over both partial outputs (UNION ALL). */
  sql_plan *parts[2];
  for (int h = 0; h < 2; h++) {
    sql_plan *l = sql_plan_new(&pc, SQL_P_LIMIT);
    l->child[0] = t;
    outs(l, 3, t->out_types);
    memcpy(l->out_ids, t->out_ids, 3 * sizeof(int));
    l->offset = h ? 3 : 0;
    l->limit = h ? -1 : 3;
    sql_plan *p = agg(l, 1, keys, 5, calls);
    p->agg_mode = SQL_AGG_PARTIAL;
    const sql_type *st[32];
    size_t n = 1;
    st[0] = keys[0]->type;
    for (int a = 0; a < 5; a++) {
      size_t m;
      CHECK_EQ_INT(sql_agg_state_types(&pc.arena, &calls[a], st + n, &m, &err), 0);
      n += m;
    }
    outs(p, n, st);
    parts[h] = p;
  }
  sql_plan *u = sql_plan_new(&pc, SQL_P_SETOP);
  u->setop = SQL_SET_UNION;
  u->set_all = true;
  u->child[0] = parts[0];
  u->child[1] = parts[1];
  outs(u, parts[0]->n_out, parts[0]->out_types);
  CHECK_EQ_INT(u->n_out, 1 + 1 + 1 + 2 + 1 + 3);
  sql_agg_call fin[5];
  size_t at = 1;
  for (int a = 0; a < 5; a++) {
    fin[a] = calls[a];
    size_t m = a == 2 ? 2 : a == 4 ? 3 : 1;
    fin[a].args = tarn_arena_calloc(&pc.arena, m, sizeof(sql_expr *));
    for (size_t i = 0; i < m; i++)
      fin[a].args[i] = col(u, (int)(at + i));
    fin[a].n_args = m;
    at += m;
  }
  sql_expr *fk[] = {col(u, 0)};
  sql_plan *final = agg(u, 1, fk, 5, fin);
  final->agg_mode = SQL_AGG_FINAL;
  CHECK_EQ_STR(run(final, true), expect);

  /* Without keys: the partials of an empty half still merge to the right answer. */
  sql_plan *p0 = agg(t, 0, NULL, 5, calls);
  p0->agg_mode = SQL_AGG_PARTIAL;
  const sql_type *st[16];
  size_t n = 0;
  for (int a = 0; a < 5; a++) {
    size_t m;
    sql_agg_state_types(&pc.arena, &calls[a], st + n, &m, &err);
    n += m;
  }
  outs(p0, n, st);
  CHECK_EQ_STR(run(p0, false), "6|43|43|5|e|5|8.6|205.2");
}

static void test_grouping_sets(void) {
  setup();
  sql_plan *t = table_t();
  sql_expr *keys[] = {col(t, 0), fn(K_MOD, "%", col(t, 1), cint(2))};
  sql_agg_call calls[] = {call(SQL_AGG_COUNT_STAR, NULL, T(SQL_INT8))};
  sql_plan *a = agg(t, 2, keys, 1, calls);
  uint64_t *sets = tarn_arena_calloc(&pc.arena, 3, sizeof *sets);
  sets[0] = 3; /* (k, v % 2) */
  sets[1] = 1; /* (k) */
  sets[2] = 0; /* () */
  a->grouping_sets = sets;
  a->n_grouping_sets = 3;
  CHECK_EQ_STR(run(a, true), "1|0|2;1|NULL|2;2|1|1;2|NULL|1;2|NULL|2;3|1|1;3|NULL|1;NULL|1|1;"
                             "NULL|NULL|1;NULL|NULL|6");
}

static void test_distinct(void) {
  setup();
  sql_plan *t = table_t();
  sql_expr *e[] = {col(t, 0)};
  sql_plan *p = project(t, 1, e);
  sql_plan *d = sql_plan_new(&pc, SQL_P_DISTINCT);
  d->child[0] = p;
  outs(d, 1, p->out_types);
  memcpy(d->out_ids, p->out_ids, sizeof(int));
  CHECK_EQ_STR(run(d, false), "1;2;3;NULL");
}

/* --- Joins ------------------------------------------------------------------------------------ */

static sql_plan *join(sql_join_kind kind, sql_plan *l, sql_plan *r, bool keys, sql_expr *residual) {
  sql_plan *j = sql_plan_new(&pc, SQL_P_JOIN);
  j->join_kind = kind;
  j->child[0] = l;
  j->child[1] = r;
  bool semi = kind == SQL_JOIN_SEMI || kind == SQL_JOIN_ANTI;
  const sql_type *t[16];
  int ids[16];
  size_t n = 0;
  for (size_t i = 0; i < l->n_out; i++) {
    t[n] = l->out_types[i];
    ids[n++] = l->out_ids[i];
  }
  if (!semi)
    for (size_t i = 0; i < r->n_out; i++) {
      t[n] = r->out_types[i];
      ids[n++] = r->out_ids[i];
    }
  outs(j, n, t);
  memcpy(j->out_ids, ids, n * sizeof(int));
  if (keys) {
    j->left_keys = tarn_arena_calloc(&pc.arena, 1, sizeof(sql_expr *));
    j->right_keys = tarn_arena_calloc(&pc.arena, 1, sizeof(sql_expr *));
    j->left_keys[0] = col(l, 0);
    j->right_keys[0] = col(r, 0);
    j->n_join_keys = 1;
  }
  j->residual = residual;
  return j;
}

static void test_joins(void) {
  setup();
  sql_plan *t = table_t(), *u = table_u();
  CHECK_EQ_STR(run(join(SQL_JOIN_INNER, t, u, true, NULL), true),
               "1|10|a|1|100;1|20|b|1|100;2|5|c|2|200;2|5|c|2|201;2|NULL|d|2|200;2|NULL|d|2|201");
  sql_plan *bl = join(SQL_JOIN_INNER, t, u, true, NULL);
  bl->build_left = true;
  CHECK_EQ_STR(run(bl, true), run(join(SQL_JOIN_INNER, t, u, true, NULL), true));
  CHECK_EQ_STR(run(join(SQL_JOIN_LEFT, t, u, true, NULL), true),
               "1|10|a|1|100;1|20|b|1|100;2|5|c|2|200;2|5|c|2|201;2|NULL|d|2|200;2|NULL|d|2|201;"
               "3|7|NULL|NULL|NULL;NULL|1|e|NULL|NULL");
  CHECK_EQ_STR(run(join(SQL_JOIN_RIGHT, t, u, true, NULL), true),
               "1|10|a|1|100;1|20|b|1|100;2|5|c|2|200;2|5|c|2|201;2|NULL|d|2|200;2|NULL|d|2|201;"
               "NULL|NULL|NULL|4|400;NULL|NULL|NULL|NULL|0");
  CHECK_EQ_STR(run(join(SQL_JOIN_FULL, t, u, true, NULL), true),
               "1|10|a|1|100;1|20|b|1|100;2|5|c|2|200;2|5|c|2|201;2|NULL|d|2|200;2|NULL|d|2|201;"
               "3|7|NULL|NULL|NULL;NULL|1|e|NULL|NULL;NULL|NULL|NULL|4|400;NULL|NULL|NULL|NULL|0");
  CHECK_EQ_STR(run(join(SQL_JOIN_SEMI, t, u, true, NULL), true), "1|10|a;1|20|b;2|5|c;2|NULL|d");
  CHECK_EQ_STR(run(join(SQL_JOIN_ANTI, t, u, true, NULL), true), "3|7|NULL;NULL|1|e");

  /* Residual under ON semantics: u.w > 200 decides matching; unmatched left rows keep NULLs. */
  sql_plan *lr = join(SQL_JOIN_LEFT, t, u, true, fn(K_GT, ">", col(u, 1), cint(200)));
  CHECK_EQ_STR(run(lr, true), "1|10|a|NULL|NULL;1|20|b|NULL|NULL;2|5|c|2|201;2|NULL|d|2|201;"
                              "3|7|NULL|NULL|NULL;NULL|1|e|NULL|NULL");
  sql_plan *fr = join(SQL_JOIN_FULL, t, u, true, fn(K_GT, ">", col(u, 1), cint(200)));
  CHECK_EQ_STR(run(fr, true), "1|10|a|NULL|NULL;1|20|b|NULL|NULL;2|5|c|2|201;2|NULL|d|2|201;"
                              "3|7|NULL|NULL|NULL;NULL|1|e|NULL|NULL;NULL|NULL|NULL|1|100;"
                              "NULL|NULL|NULL|2|200;NULL|NULL|NULL|4|400;NULL|NULL|NULL|NULL|0");
  sql_plan *sr = join(SQL_JOIN_SEMI, t, u, true, fn(K_GT, ">", col(u, 1), cint(200)));
  CHECK_EQ_STR(run(sr, true), "2|5|c;2|NULL|d");
  sql_plan *ar = join(SQL_JOIN_ANTI, t, u, true, fn(K_GT, ">", col(u, 1), cint(200)));
  CHECK_EQ_STR(run(ar, true), "1|10|a;1|20|b;3|7|NULL;NULL|1|e");

  /* NOT IN: u has a NULL key, so nothing; without it, NULL keys on the left drop out. */
  sql_plan *na = join(SQL_JOIN_ANTI, t, u, true, NULL);
  na->null_aware = true;
  CHECK_EQ_STR(run(na, true), "");
  const sql_type *ut[] = {T(SQL_INT8), T(SQL_INT8)};
  sql_expr *cells[] = {cint(1), cint(0), cint(3), cint(0)};
  sql_plan *u2 = values(2, 2, ut, cells);
  sql_plan *na2 = join(SQL_JOIN_ANTI, t, u2, true, NULL);
  na2->null_aware = true;
  CHECK_EQ_STR(run(na2, true), "2|5|c;2|NULL|d");
  sql_plan *u3 = values(2, 0, ut, NULL);
  sql_plan *na3 = join(SQL_JOIN_ANTI, t, u3, true, NULL);
  na3->null_aware = true;
  CHECK_EQ_STR(run(na3, false), "1|10|a;1|20|b;2|5|c;2|NULL|d;3|7|NULL;NULL|1|e");

  /* Nested loop: a condition without equi-keys, and CROSS. */
  sql_plan *nl = join(SQL_JOIN_INNER, t, u, false,
                      fn(K_LT, "<", fn(K_ADD, "+", col(t, 1), cint(300)), col(u, 1)));
  CHECK_EQ_STR(run(nl, true),
               "1|10|a|4|400;1|20|b|4|400;2|5|c|4|400;3|7|NULL|4|400;NULL|1|e|4|400");
  sql_plan *nll = join(SQL_JOIN_LEFT, t, u, false,
                       fn(K_LT, "<", fn(K_ADD, "+", col(t, 1), cint(395)), col(u, 1)));
  CHECK_EQ_STR(run(nll, true),
               "1|10|a|NULL|NULL;1|20|b|NULL|NULL;2|5|c|NULL|NULL;2|NULL|d|NULL|NULL;"
               "3|7|NULL|NULL|NULL;NULL|1|e|4|400");
  sql_plan *cj = join(SQL_JOIN_CROSS, u, u2, false, NULL);
  CHECK_EQ_STR(run(cj, true), "1|100|1|0;1|100|3|0;2|200|1|0;2|200|3|0;2|201|1|0;2|201|3|0;"
                              "4|400|1|0;4|400|3|0;NULL|0|1|0;NULL|0|3|0");

  /* A big hash join with long chains spanning batches: 3000 x (3000 rows of 3 keys). */
  sql_plan *s1 = series(3000), *s2 = series(3000);
  sql_expr *m1[] = {fn(K_MOD, "%", col(s1, 0), cint(3))};
  sql_expr *m2[] = {fn(K_MOD, "%", col(s2, 0), cint(3))};
  sql_plan *p1 = project(s1, 1, m1), *p2 = project(s2, 1, m2);
  sql_plan *bj = join(SQL_JOIN_INNER, p1, p2, true, NULL);
  sql_agg_call cnt[] = {call(SQL_AGG_COUNT_STAR, NULL, T(SQL_INT8))};
  CHECK_EQ_STR(run(agg(bj, 0, NULL, 1, cnt), false), "3000000");
}

/* --- Sort ------------------------------------------------------------------------------------- */

static sql_plan *sort(sql_plan *child, size_t n, sql_expr **exprs, const bool *desc,
                      const bool *nulls_first, int64_t limit) {
  sql_plan *s = sql_plan_new(&pc, SQL_P_SORT);
  s->child[0] = child;
  outs(s, child->n_out, child->out_types);
  memcpy(s->out_ids, child->out_ids, child->n_out * sizeof(int));
  s->sort_keys = tarn_arena_calloc(&pc.arena, n, sizeof *s->sort_keys);
  for (size_t i = 0; i < n; i++) {
    s->sort_keys[i].expr = exprs[i];
    s->sort_keys[i].descending = desc[i];
    s->sort_keys[i].nulls_first = nulls_first[i];
  }
  s->n_sort_keys = n;
  s->limit = limit;
  return s;
}

static void test_sort(void) {
  setup();
  sql_plan *t = table_t();
  sql_expr *k1[] = {col(t, 0), col(t, 1)};
  bool d1[] = {true, false}, n1[] = {true, false};
  CHECK_EQ_STR(run(sort(t, 2, k1, d1, n1, -1), false),
               "NULL|1|e;3|7|NULL;2|5|c;2|NULL|d;1|10|a;1|20|b");
  bool d2[] = {false, true}, n2[] = {false, true};
  CHECK_EQ_STR(run(sort(t, 2, k1, d2, n2, -1), false),
               "1|20|b;1|10|a;2|NULL|d;2|5|c;3|7|NULL;NULL|1|e");
  /* Stable: equal keys keep input order. */
  sql_expr *k3[] = {col(t, 0)};
  bool f[] = {false};
  CHECK_EQ_STR(run(sort(t, 1, k3, f, f, -1), false),
               "1|10|a;1|20|b;2|5|c;2|NULL|d;3|7|NULL;NULL|1|e");
  /* Top-N keeps offset + limit rows; the LIMIT above applies the offset. */
  sql_plan *tn = sort(t, 1, k3, f, f, 2);
  tn->offset = 1;
  CHECK_EQ_STR(run(tn, false), "1|10|a;1|20|b;2|5|c");
  sql_expr *k4[] = {col(t, 2)};
  bool t1[] = {true};
  CHECK_EQ_STR(run(sort(t, 1, k4, t1, t1, 1), false), "3|7|NULL");
  CHECK_EQ_STR(run(sort(t, 1, k4, t1, f, 0), false), "");

  /* Top-N over many batches: the cutoff must keep the right rows. */
  sql_plan *s = series(20000);
  sql_expr *m[] = {fn(K_MOD, "%", fn(K_ADD, "+", col(s, 0), cint(7919)), cint(10007)), col(s, 0)};
  sql_plan *p = project(s, 2, m);
  sql_expr *k5[] = {col(p, 0)};
  CHECK_EQ_STR(run(sort(p, 1, k5, t1, f, 4), false),
               "10006|2087;10006|12094;10005|2086;10005|12093");
}

static void test_sort_spill(void) {
  setup();
  int64_t n = 60000;
  sql_plan *s = series(n);
  /* key = (i * 7919) % 60001 is a permutation-ish of 0..60000; sort descending. */
  sql_expr *m[] = {
      fn(K_MOD, "%", fn(K_ADD, "+", col(s, 0), fn(K_ADD, "+", col(s, 0), cint(0))), cint(1000)),
      col(s, 0)};
  sql_plan *p = project(s, 2, m);
  sql_expr *k[] = {col(p, 0), col(p, 1)};
  bool d[] = {true, false}, nf[] = {false, false};
  sql_plan *so = sort(p, 2, k, d, nf, -1);
  ctx.mem_limit = 256 * 1024;
  sql_batch *b = NULL;
  tarn_err_clear(&err);
  int rc = sql_exec_collect(&ctx, so, &b);
  CHECK_EQ_INT(rc, 0);
  CHECK(so->spilled);
  if (rc == 0) {
    CHECK_EQ_INT(b->n_rows, n);
    int64_t bad = 0;
    for (uint32_t i = 1; i < b->n_rows; i++) {
      int64_t k0 = SQL_VEC_I64(&b->cols[0])[i - 1], k1 = SQL_VEC_I64(&b->cols[0])[i];
      int64_t v0 = SQL_VEC_I64(&b->cols[1])[i - 1], v1 = SQL_VEC_I64(&b->cols[1])[i];
      if (k0 < k1 || (k0 == k1 && v0 >= v1)) bad++;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(SQL_VEC_I64(&b->cols[0])[0], 998);
    sql_batch_free(b);
  }
  CHECK_EQ_INT(atomic_load(&ctx.mem_used), 0);
  ctx.mem_limit = 0;
}

static void test_agg_spill(void) {
  setup();
  int64_t n = 80000;
  sql_plan *s = series(n);
  /* 20000 groups of 4 rows: g = i % 20000; sum(i) over a group = 4g + 120000. */
  sql_expr *m[] = {fn(K_MOD, "%", col(s, 0), cint(20000)), col(s, 0)};
  sql_plan *p = project(s, 2, m);
  sql_expr *keys[] = {col(p, 0)};
  sql_agg_call calls[] = {call(SQL_AGG_COUNT_STAR, NULL, T(SQL_INT8)),
                          call(SQL_AGG_SUM, col(p, 1), sql_type_decimal(&pc.arena, 38, 0)),
                          call(SQL_AGG_MAX, col(p, 1), T(SQL_INT8))};
  sql_plan *a = agg(p, 1, keys, 3, calls);
  ctx.mem_limit = 384 * 1024;
  sql_batch *b = NULL;
  tarn_err_clear(&err);
  int rc = sql_exec_collect(&ctx, a, &b);
  CHECK_EQ_INT(rc, 0);
  if (rc) fprintf(stderr, "%s\n", err.message);
  CHECK(a->spilled);
  if (rc == 0) {
    CHECK_EQ_INT(b->n_rows, 20000);
    uint8_t *seen = calloc(20000, 1);
    int64_t bad = 0;
    for (uint32_t i = 0; i < b->n_rows; i++) {
      int64_t g = SQL_VEC_I64(&b->cols[0])[i];
      if (g < 0 || g >= 20000 || seen[g]) {
        bad++;
        continue;
      }
      seen[g] = 1;
      if (SQL_VEC_I64(&b->cols[1])[i] != 4) bad++;
      if (SQL_VEC_I128(&b->cols[2])[i] != 4 * g + 120000) bad++;
      if (SQL_VEC_I64(&b->cols[3])[i] != g + 60000) bad++;
    }
    CHECK_EQ_INT(bad, 0);
    free(seen);
    sql_batch_free(b);
  }
  CHECK_EQ_INT(atomic_load(&ctx.mem_used), 0);
  ctx.mem_limit = 0;
}

/* Text keys, DISTINCT and min(text) through aggregate partitions; text through sort runs. */
static void test_spill_text(void) {
  setup();
  int64_t n = 60000;
  sql_plan *s = series(n);
  sql_expr *m[] = {cast(fn(K_MOD, "%", col(s, 0), cint(5000)), T(SQL_TEXT)),
                   fn(K_MOD, "%", col(s, 0), cint(7)), cast(col(s, 0), T(SQL_TEXT)), col(s, 0)};
  sql_plan *p = project(s, 4, m);
  sql_expr *keys[] = {col(p, 0)};
  sql_agg_call cd = call(SQL_AGG_COUNT, col(p, 1), T(SQL_INT8));
  cd.distinct = true;
  sql_agg_call calls[] = {cd, call(SQL_AGG_MIN, col(p, 2), T(SQL_TEXT)),
                          call(SQL_AGG_COUNT_STAR, NULL, T(SQL_INT8))};
  sql_plan *a = agg(p, 1, keys, 3, calls);
  ctx.mem_limit = 256 * 1024;
  sql_batch *b = NULL;
  tarn_err_clear(&err);
  int rc = sql_exec_collect(&ctx, a, &b);
  CHECK_EQ_INT(rc, 0);
  CHECK(a->spilled);
  if (rc == 0) {
    CHECK_EQ_INT(b->n_rows, 5000);
    int64_t bad = 0;
    for (uint32_t i = 0; i < b->n_rows; i++) {
      sql_str k = SQL_VEC_STR(&b->cols[0])[i];
      char key[32], best[32] = "", t[32];
      snprintf(key, sizeof key, "%.*s", (int)k.len, k.ptr);
      long g = atol(key);
      for (long j = 0; j < 12; j++) {
        snprintf(t, sizeof t, "%ld", g + 5000 * j);
        if (!best[0] || strcmp(t, best) < 0) snprintf(best, sizeof best, "%s", t);
      }
      sql_str mn = SQL_VEC_STR(&b->cols[2])[i];
      if (SQL_VEC_I64(&b->cols[1])[i] != 7 || SQL_VEC_I64(&b->cols[3])[i] != 12 ||
          mn.len != strlen(best) || memcmp(mn.ptr, best, mn.len) != 0)
        bad++;
    }
    CHECK_EQ_INT(bad, 0);
    sql_batch_free(b);
  }
  CHECK_EQ_INT(atomic_load(&ctx.mem_used), 0);

  /* Sort by the text key descending, then the number. */
  sql_expr *sk[] = {col(p, 0), col(p, 3)};
  bool d[] = {true, false}, nf[] = {false, false};
  sql_plan *so = sort(p, 2, sk, d, nf, -1);
  tarn_err_clear(&err);
  rc = sql_exec_collect(&ctx, so, &b);
  CHECK_EQ_INT(rc, 0);
  CHECK(so->spilled);
  if (rc == 0) {
    CHECK_EQ_INT(b->n_rows, n);
    int64_t bad = 0;
    for (uint32_t i = 1; i < b->n_rows; i++) {
      sql_str x = SQL_VEC_STR(&b->cols[0])[i - 1], y = SQL_VEC_STR(&b->cols[0])[i];
      size_t l = x.len < y.len ? x.len : y.len;
      int c = memcmp(x.ptr, y.ptr, l);
      if (c == 0) c = (x.len > y.len) - (x.len < y.len);
      if (c < 0 || (c == 0 && SQL_VEC_I64(&b->cols[3])[i - 1] >= SQL_VEC_I64(&b->cols[3])[i]))
        bad++;
    }
    CHECK_EQ_INT(bad, 0);
    sql_batch_free(b);
  }
  CHECK_EQ_INT(atomic_load(&ctx.mem_used), 0);
  ctx.mem_limit = 0;
}

/* --- Set operations --------------------------------------------------------------------------- */

static sql_plan *setop(sql_setop_kind k, bool all, sql_plan *l, sql_plan *r) {
  sql_plan *s = sql_plan_new(&pc, SQL_P_SETOP);
  s->setop = k;
  s->set_all = all;
  s->child[0] = l;
  s->child[1] = r;
  outs(s, l->n_out, l->out_types);
  return s;
}

static void test_setops(void) {
  setup();
  const sql_type *it[] = {T(SQL_INT8)};
  sql_expr *a[] = {cint(1), cint(1), cint(1), cint(2), cnull(T(SQL_INT8)), cnull(T(SQL_INT8)),
                   cint(3)};
  sql_expr *b[] = {cint(1), cint(2), cint(2), cnull(T(SQL_INT8)), cint(4)};
  sql_plan *l = values(1, 7, it, a), *r = values(1, 5, it, b);
  CHECK_EQ_STR(run(setop(SQL_SET_UNION, true, l, r), true), "1;1;1;1;2;2;2;3;4;NULL;NULL;NULL");
  CHECK_EQ_STR(run(setop(SQL_SET_UNION, false, l, r), false), "1;2;NULL;3;4");
  CHECK_EQ_STR(run(setop(SQL_SET_INTERSECT, false, l, r), false), "1;2;NULL");
  CHECK_EQ_STR(run(setop(SQL_SET_INTERSECT, true, l, r), false), "1;2;NULL");
  CHECK_EQ_STR(run(setop(SQL_SET_EXCEPT, false, l, r), false), "3");
  CHECK_EQ_STR(run(setop(SQL_SET_EXCEPT, true, l, r), false), "1;1;NULL;3");
  CHECK_EQ_STR(run(setop(SQL_SET_EXCEPT, true, r, l), false), "2;4");
}

/* --- Windows
 * -------------------------------------------------------------------------------------- */

static sql_window_call wcall(sql_win_fn f, const sql_type *type, sql_expr *part, sql_expr *ord,
                             bool desc) {
  sql_window_call w;
  memset(&w, 0, sizeof w);
  w.fn = f;
  w.type = type;
  if (part) {
    w.partition = tarn_arena_calloc(&pc.arena, 1, sizeof *w.partition);
    w.partition[0] = part;
    w.n_partition = 1;
  }
  if (ord) {
    w.order = tarn_arena_calloc(&pc.arena, 1, sizeof *w.order);
    w.order[0].expr = ord;
    w.order[0].descending = desc;
    w.order[0].nulls_first = desc;
    w.n_order = 1;
  }
  return w;
}

static void wargs(sql_window_call *w, sql_expr *a0, sql_expr *a1, sql_expr *a2) {
  w->agg.args = tarn_arena_calloc(&pc.arena, 3, sizeof(sql_expr *));
  w->agg.args[0] = a0;
  w->agg.args[1] = a1;
  w->agg.args[2] = a2;
  w->agg.n_args = a2 ? 3 : a1 ? 2 : a0 ? 1 : 0;
}

static sql_plan *window(sql_plan *child, size_t n, sql_window_call *calls) {
  sql_plan *w = sql_plan_new(&pc, SQL_P_WINDOW);
  w->child[0] = child;
  const sql_type *t[32];
  for (size_t i = 0; i < child->n_out; i++)
    t[i] = child->out_types[i];
  for (size_t i = 0; i < n; i++)
    t[child->n_out + i] = calls[i].type;
  outs(w, child->n_out + n, t);
  memcpy(w->out_ids, child->out_ids, child->n_out * sizeof(int));
  w->windows = tarn_arena_calloc(&pc.arena, n, sizeof *w->windows);
  memcpy(w->windows, calls, n * sizeof *calls);
  w->n_windows = n;
  return w;
}

/* w(p int8, o int8, x int8): partitions 1 and 2 with ties in o. */
static sql_plan *table_w(void) {
  const sql_type *types[] = {T(SQL_INT8), T(SQL_INT8), T(SQL_INT8)};
  sql_expr *cells[] = {cint(1), cint(10), cint(1), cint(2), cint(5),  cint(10),
                       cint(1), cint(20), cint(2), cint(1), cint(20), cint(3),
                       cint(1), cint(30), cint(4), cint(2), cint(6),  cnull(T(SQL_INT8))};
  return values(3, 6, types, cells);
}

static void test_window_ranking(void) {
  setup();
  sql_plan *w = table_w();
  sql_window_call c[] = {
      wcall(SQL_WIN_ROW_NUMBER, T(SQL_INT8), col(w, 0), col(w, 1), false),
      wcall(SQL_WIN_RANK, T(SQL_INT8), col(w, 0), col(w, 1), false),
      wcall(SQL_WIN_DENSE_RANK, T(SQL_INT8), col(w, 0), col(w, 1), false),
      wcall(SQL_WIN_PERCENT_RANK, T(SQL_FLOAT8), col(w, 0), col(w, 1), false),
      wcall(SQL_WIN_CUME_DIST, T(SQL_FLOAT8), col(w, 0), col(w, 1), false),
      wcall(SQL_WIN_NTILE, T(SQL_INT8), col(w, 0), col(w, 1), false),
  };
  wargs(&c[5], cint(2), NULL, NULL);
  CHECK_EQ_STR(run(window(w, 6, c), false),
               "1|10|1|1|1|1|0|0.25|1;1|20|2|2|2|2|0.333333|0.75|1;1|20|3|3|2|2|0.333333|0.75|2;"
               "1|30|4|4|4|3|1|1|2;2|5|10|1|1|1|0|0.5|1;2|6|NULL|2|2|2|1|1|2");
}

static void test_window_values(void) {
  setup();
  sql_plan *w = table_w();
  sql_window_call c[] = {
      wcall(SQL_WIN_LAG, T(SQL_INT8), col(w, 0), col(w, 1), false),
      wcall(SQL_WIN_LEAD, T(SQL_INT8), col(w, 0), col(w, 1), false),
      wcall(SQL_WIN_FIRST_VALUE, T(SQL_INT8), col(w, 0), col(w, 1), true),
      wcall(SQL_WIN_LAST_VALUE, T(SQL_INT8), col(w, 0), col(w, 1), false),
  };
  wargs(&c[0], col(w, 2), NULL, NULL);
  wargs(&c[1], col(w, 2), cint(2), cint(-1));
  wargs(&c[2], col(w, 2), NULL, NULL);
  wargs(&c[3], col(w, 2), NULL, NULL);
  /* last_value with the default frame stops at the last peer of the current row. */
  CHECK_EQ_STR(run(window(w, 4, c), true),
               "1|10|1|NULL|3|4|1;1|20|2|1|4|4|3;1|20|3|2|-1|4|3;1|30|4|3|-1|4|4;"
               "2|5|10|NULL|-1|NULL|10;2|6|NULL|10|-1|NULL|NULL");
}

static void test_window_frames(void) {
  setup();
  sql_plan *w = table_w();
  sql_window_call c[] = {
      wcall(SQL_WIN_AGG, sql_type_decimal(&pc.arena, 38, 0), col(w, 0), col(w, 1), false),
      wcall(SQL_WIN_AGG, T(SQL_INT8), col(w, 0), NULL, false),
      wcall(SQL_WIN_AGG, sql_type_decimal(&pc.arena, 38, 6), col(w, 0), col(w, 1), false),
      wcall(SQL_WIN_AGG, T(SQL_INT8), col(w, 0), col(w, 1), false),
      wcall(SQL_WIN_AGG, T(SQL_INT8), NULL, col(w, 1), false),
  };
  c[0].agg.fn = SQL_AGG_SUM; /* running sum with peers */
  wargs(&c[0], col(w, 2), NULL, NULL);
  c[1].agg.fn = SQL_AGG_COUNT; /* whole partition */
  wargs(&c[1], col(w, 2), NULL, NULL);
  c[2].agg.fn = SQL_AGG_AVG; /* ROWS 1 PRECEDING .. 1 FOLLOWING */
  wargs(&c[2], col(w, 2), NULL, NULL);
  c[2].has_frame = c[2].frame_rows = true;
  c[2].start = SQL_FRAME_PRECEDING;
  c[2].start_offset = 1;
  c[2].end = SQL_FRAME_FOLLOWING;
  c[2].end_offset = 1;
  c[3].agg.fn = SQL_AGG_MIN; /* ROWS CURRENT ROW .. UNBOUNDED FOLLOWING */
  wargs(&c[3], col(w, 2), NULL, NULL);
  c[3].has_frame = c[3].frame_rows = true;
  c[3].start = SQL_FRAME_CURRENT_ROW;
  c[3].end = SQL_FRAME_UNBOUNDED_FOLLOWING;
  c[4].agg.fn = SQL_AGG_MAX; /* running max over everything ordered by o */
  wargs(&c[4], col(w, 2), NULL, NULL);
  CHECK_EQ_STR(
      run(window(w, 5, c), true),
      "1|10|1|1|4|1.500000|1|10;1|20|2|6|4|2.000000|2|10;1|20|3|6|4|3.000000|3|10;"
      "1|30|4|10|4|3.500000|4|10;2|5|10|10|1|10.000000|10|10;2|6|NULL|10|1|10.000000|NULL|10");
}

static void test_window_range(void) {
  setup();
  const sql_type *it[] = {T(SQL_INT8)};
  sql_expr *cells[] = {cint(5), cint(1), cnull(T(SQL_INT8)), cint(4), cint(9), cint(2), cint(5)};
  sql_plan *v = values(1, 7, it, cells);
  /* RANGE BETWEEN 2 PRECEDING AND 1 FOLLOWING, ascending and descending. */
  sql_window_call c[] = {
      wcall(SQL_WIN_AGG, T(SQL_INT8), NULL, col(v, 0), false),
      wcall(SQL_WIN_AGG, sql_type_decimal(&pc.arena, 38, 0), NULL, col(v, 0), false),
      wcall(SQL_WIN_AGG, T(SQL_INT8), NULL, col(v, 0), true),
  };
  for (int i = 0; i < 3; i++) {
    c[i].has_frame = true;
    c[i].start = SQL_FRAME_PRECEDING;
    c[i].end = SQL_FRAME_FOLLOWING;
    c[i].agg.fn = i == 1 ? SQL_AGG_SUM : SQL_AGG_COUNT_STAR;
    bool desc = i == 2;
    c[i].range_start = fn(K_ADD, "+", col(v, 0), cint(desc ? 2 : -2));
    c[i].range_end = fn(K_ADD, "+", col(v, 0), cint(desc ? -1 : 1));
  }
  wargs(&c[1], col(v, 0), NULL, NULL);
  CHECK_EQ_STR(run(window(v, 3, c), true), "1|2|3|2;2|2|3|3;4|4|16|3;5|3|14|3;5|3|14|3;9|1|9|1;"
                                           "NULL|1|NULL|1");
}

/* A date key with an interval offset: the bounds are timestamps, the key is cast to compare. */
static void test_window_range_dates(void) {
  setup();
  const sql_type *dt[] = {T(SQL_DATE)};
  sql_expr *cells[4];
  int64_t days[] = {0, 1, 2, 4}; /* 1970-01-01, 01-02, 01-03, 01-05 */
  for (int i = 0; i < 4; i++) {
    cells[i] = new_expr(SQL_E_CONST, T(SQL_DATE));
    cells[i]->value.type = T(SQL_DATE);
    cells[i]->value.u.i64 = days[i];
  }
  sql_plan *v = values(1, 4, dt, cells);
  sql_expr *iv = new_expr(SQL_E_CONST, T(SQL_INTERVAL));
  iv->value.type = T(SQL_INTERVAL);
  iv->value.u.iv.days = 1;
  iv->value.u.iv.micros = INT64_C(43200000000); /* 1 day 12 hours */
  const sql_type *at[] = {T(SQL_TIMESTAMP), T(SQL_INTERVAL)};
  const sql_func *minus = NULL;
  const sql_type *casts[2];
  CHECK_EQ_INT(sql_func_resolve(&pc.arena, "-", at, 2, &minus, casts, &err), 0);
  if (!minus) return;
  sql_expr *e = new_expr(SQL_E_FUNC, minus->ret);
  e->func = minus;
  e->args = tarn_arena_calloc(&pc.arena, 2, sizeof *e->args);
  e->args[0] = cast(col(v, 0), T(SQL_TIMESTAMP));
  e->args[1] = iv;
  e->n_args = 2;
  sql_window_call c = wcall(SQL_WIN_AGG, T(SQL_INT8), NULL, col(v, 0), false);
  c.agg.fn = SQL_AGG_COUNT_STAR;
  c.has_frame = true;
  c.start = SQL_FRAME_PRECEDING;
  c.end = SQL_FRAME_CURRENT_ROW;
  c.range_start = e;
  /* Frames: [d - 36h, d]: 01-01 {01-01}, 01-02 {01-01? no: 12:00 of 12-31 .. 01-02} = 2,
   * 01-03 {01-02, 01-03} = 2, 01-05 {01-05} = 1. */
  CHECK_EQ_STR(run(window(v, 1, &c), false), "0|1;1|2;2|2;4|1");
}

/* --- CTE -------------------------------------------------------------------------------------- */

static void test_cte(void) {
  setup();
  /* The CTE's plan counts its own evaluations through a volatile kernel. */
  const sql_type *it[] = {T(SQL_INT8)};
  sql_expr *c2[] = {cint(1), cint(2), cint(3)};
  sql_plan *base = values(1, 3, it, c2);
  sql_expr *e[] = {fn(K_COUNTER, "counter", NULL, NULL), col(base, 0)};
  sql_plan *cte = project(base, 2, e);
  sql_plan *r[2];
  for (int i = 0; i < 2; i++) {
    r[i] = sql_plan_new(&pc, SQL_P_CTE_SCAN);
    r[i]->cte = cte;
    const sql_type *t[] = {T(SQL_INT8)};
    outs(r[i], 1, t);
    r[i]->cte_ids = tarn_arena_calloc(&pc.arena, 1, sizeof(int));
    r[i]->cte_ids[0] = cte->out_ids[1];
  }
  counter_calls = 0;
  sql_plan *j = join(SQL_JOIN_INNER, r[0], r[1], true, NULL);
  CHECK_EQ_STR(run(j, true), "1|1;2|2;3|3");
  CHECK_EQ_INT(counter_calls, 1);
}

int main(void) {
  keep = sql_mem_new();
  RUN(test_agg_resolve);
  RUN(test_filter_project_limit);
  RUN(test_values_unnest);
  RUN(test_agg_basic);
  RUN(test_agg_ordered);
  RUN(test_agg_partial_final);
  RUN(test_grouping_sets);
  RUN(test_distinct);
  RUN(test_joins);
  RUN(test_sort);
  RUN(test_sort_spill);
  RUN(test_agg_spill);
  RUN(test_spill_text);
  RUN(test_setops);
  RUN(test_window_ranking);
  RUN(test_window_values);
  RUN(test_window_frames);
  RUN(test_window_range);
  RUN(test_window_range_dates);
  RUN(test_cte);
  sql_mem_release(keep);
  tarn_arena_free(&pc.arena);
  return check_finish();
}
