/*
 * The optimizer (see optimizer.h). Every pass works on column ids, so moving an expression from
 * one node to another never renumbers anything; a pass that drops columns recomputes the output
 * lists of the pass-through nodes above (filters, sorts, joins) from their children.
 */
#include "sql/optimizer.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "sql/exec_agg.h"

typedef struct opt {
  sql_plan_ctx *pc;
  tarn_arena *a;
  tarn_error *err;
  int threads;
} opt;

/* --- Id sets -----------------------------------------------------------------------------------
 */

typedef struct idset {
  int *ids;
  size_t n, cap;
} idset;

static bool idset_has(const idset *s, int id) {
  for (size_t i = 0; i < s->n; i++)
    if (s->ids[i] == id) return true;
  return false;
}

static void idset_add(idset *s, int id) {
  if (idset_has(s, id)) return;
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 32;
    int *n = realloc(s->ids, cap * sizeof *n);
    if (n == NULL) return;
    s->ids = n;
    s->cap = cap;
  }
  s->ids[s->n++] = id;
}

static void plan_outer_refs(const sql_plan *p, idset *s);

/* Columns e reads: its own column references and the outer references of its subqueries. */
static void expr_refs(const sql_expr *e, idset *s) {
  if (e == NULL) return;
  if (e->kind == SQL_E_COLUMN) idset_add(s, e->column_id);
  if (e->kind == SQL_E_SUBQUERY) plan_outer_refs(e->subquery, s);
  for (size_t i = 0; i < e->n_args; i++)
    expr_refs(e->args[i], s);
}

static void expr_outer_refs(const sql_expr *e, idset *s) {
  if (e == NULL) return;
  if (e->kind == SQL_E_OUTER) idset_add(s, e->column_id);
  if (e->kind == SQL_E_SUBQUERY) plan_outer_refs(e->subquery, s);
  for (size_t i = 0; i < e->n_args; i++)
    expr_outer_refs(e->args[i], s);
}

static int slot_outer_refs(sql_expr **slot, void *arg) {
  expr_outer_refs(*slot, arg);
  return 0;
}

static void plan_outer_refs(const sql_plan *p, idset *s) {
  if (p == NULL) return;
  /* The visitor takes a mutable plan but only reads here. */
  sql_plan_visit_exprs((sql_plan *)p, slot_outer_refs, s);
  if (p->kind == SQL_P_CTE_SCAN) plan_outer_refs(p->cte, s);
  plan_outer_refs(p->child[0], s);
  plan_outer_refs(p->child[1], s);
}

static bool refs_within(const sql_expr *e, const sql_plan *p) {
  idset s = {0};
  expr_refs(e, &s);
  bool ok = true;
  for (size_t i = 0; i < s.n && ok; i++) {
    bool found = false;
    for (size_t k = 0; k < p->n_out; k++)
      if (p->out_ids[k] == s.ids[i]) found = true;
    ok = found;
  }
  free(s.ids);
  return ok;
}

static bool has_subquery_or_volatile(const sql_expr *e) {
  if (e == NULL) return false;
  if (e->kind == SQL_E_SUBQUERY || e->kind == SQL_E_OUTER) return true;
  if (e->kind == SQL_E_FUNC && e->func && e->func->volatile_) return true;
  for (size_t i = 0; i < e->n_args; i++)
    if (has_subquery_or_volatile(e->args[i])) return true;
  return false;
}

/* --- Conjunct lists ----------------------------------------------------------------------------
 */

typedef struct conj {
  sql_expr **items;
  size_t n, cap;
} conj;

static void conj_add(conj *c, sql_expr *e) {
  if (e == NULL) return;
  if (e->kind == SQL_E_AND) {
    for (size_t i = 0; i < e->n_args; i++)
      conj_add(c, e->args[i]);
    return;
  }
  if (c->n == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 8;
    sql_expr **n = realloc(c->items, cap * sizeof *n);
    if (n == NULL) return;
    c->items = n;
    c->cap = cap;
  }
  c->items[c->n++] = e;
}

static sql_expr *conj_and(opt *o, const conj *c) {
  if (c->n == 0) return NULL;
  if (c->n == 1) return c->items[0];
  sql_expr *e = tarn_arena_calloc(o->a, 1, sizeof *e);
  sql_expr **args = tarn_arena_calloc(o->a, c->n, sizeof *args);
  if (e == NULL || args == NULL) return NULL;
  memcpy(args, c->items, c->n * sizeof *args);
  e->kind = SQL_E_AND;
  e->type = sql_type_get(SQL_BOOL);
  e->args = args;
  e->n_args = c->n;
  return e;
}

static void copy_outs(sql_plan *dst, const sql_plan *src) {
  dst->n_out = src->n_out;
  dst->out_ids = src->out_ids;
  dst->out_names = src->out_names;
  dst->out_types = src->out_types;
}

static sql_plan *wrap_filter(opt *o, sql_plan *child, conj *c) {
  if (c->n == 0) return child;
  sql_plan *f = sql_plan_new(o->pc, SQL_P_FILTER);
  if (f == NULL) return child;
  f->child[0] = child;
  f->predicate = conj_and(o, c);
  copy_outs(f, child);
  f->est_rows = child->est_rows * 0.5;
  return f;
}

/* Replaces references to project outputs by the project's expressions. */
static sql_expr *substitute(opt *o, const sql_expr *e, const sql_plan *proj) {
  if (e->kind == SQL_E_COLUMN) {
    for (size_t i = 0; i < proj->n_out; i++)
      if (proj->out_ids[i] == e->column_id) return sql_expr_copy(o->a, proj->exprs[i]);
  }
  sql_expr *c = sql_expr_copy(o->a, e);
  if (c == NULL) return NULL;
  for (size_t i = 0; i < c->n_args; i++) {
    c->args[i] = substitute(o, e->args[i], proj);
    if (c->args[i] == NULL) return NULL;
  }
  return c;
}

/* --- Date against timestamp ------------------------------------------------------------------ */

/* `date_col <= DATE '...' - INTERVAL '90 days'` compares a date cast to timestamp with a timestamp
 * constant (PostgreSQL's types). Rewritten as a date comparison it costs no per-row cast and the
 * scan can prune on the date column's statistics. */
static sql_expr *date_compare(opt *o, sql_expr *e) {
  if (e->kind != SQL_E_FUNC || e->n_args != 2 || e->func == NULL) return e;
  const char *name = e->func->name;
  int op = strcmp(name, "<") == 0    ? 1
           : strcmp(name, "<=") == 0 ? 2
           : strcmp(name, ">") == 0  ? 3
           : strcmp(name, ">=") == 0 ? 4
           : strcmp(name, "=") == 0  ? 5
                                     : 0;
  if (op == 0) return e;
  sql_expr *c = e->args[0], *k = e->args[1];
  bool flipped = false;
  if (k->kind == SQL_E_CAST) {
    sql_expr *t = c;
    c = k;
    k = t;
    flipped = true;
  }
  if (c->kind != SQL_E_CAST || c->n_args != 1 || c->args[0]->type->id != SQL_DATE ||
      (c->type->id != SQL_TIMESTAMP && c->type->id != SQL_TIMESTAMPTZ) || k->kind != SQL_E_CONST ||
      k->value.is_null || k->type->id != c->type->id)
    return e;
  if (flipped) op = op == 1 ? 3 : op == 2 ? 4 : op == 3 ? 1 : op == 4 ? 2 : op;
  const int64_t day = 86400000000LL;
  int64_t t = k->value.u.i64;
  int64_t fl = t >= 0 ? t / day : -((-t + day - 1) / day);
  bool midnight = fl * day == t;
  int64_t ce = midnight ? fl : fl + 1;
  const char *nop;
  int64_t v;
  switch (op) {
  case 1:
    nop = "<";
    v = ce;
    break; /* d*day < t  <=> d < ceil(t/day) */
  case 2:
    nop = "<=";
    v = fl;
    break;
  case 3:
    nop = ">";
    v = fl;
    break;
  case 4:
    nop = ">=";
    v = ce;
    break;
  default:
    if (!midnight) return e;
    nop = "=";
    v = fl;
  }
  const sql_type *dt = sql_type_get(SQL_DATE);
  const sql_type *types[2] = {dt, dt};
  const sql_type *casts[2] = {0};
  const sql_func *f;
  tarn_error err2 = {0};
  if (sql_func_resolve(o->a, nop, types, 2, &f, casts, &err2) != 0 || casts[0] || casts[1])
    return e;
  sql_expr *kd = tarn_arena_calloc(o->a, 1, sizeof *kd);
  sql_expr *ne = tarn_arena_calloc(o->a, 1, sizeof *ne);
  sql_expr **args = tarn_arena_calloc(o->a, 2, sizeof *args);
  if (kd == NULL || ne == NULL || args == NULL) return e;
  kd->kind = SQL_E_CONST;
  kd->type = dt;
  kd->value.type = dt;
  kd->value.u.i64 = v;
  args[0] = c->args[0];
  args[1] = kd;
  ne->kind = SQL_E_FUNC;
  ne->type = sql_type_get(SQL_BOOL);
  ne->func = f;
  ne->args = args;
  ne->n_args = 2;
  return ne;
}

static void rewrite_date_compares(opt *o, conj *c) {
  for (size_t i = 0; i < c->n; i++)
    c->items[i] = date_compare(o, c->items[i]);
}

/* A guess at the fraction of rows a conjunct keeps, from its shape alone (tarn keeps no column
 * histograms): equalities keep few, ranges more, inequalities nearly all. It only has to order
 * join inputs sensibly. */
static double selectivity(const sql_expr *e) {
  if (e->kind == SQL_E_IN_LIST)
    return e->negated                             ? 0.9
           : 0.05 * (double)(e->n_args - 1) < 0.5 ? 0.05 * (double)(e->n_args - 1)
                                                  : 0.5;
  if (e->kind == SQL_E_LIKE) return e->negated ? 0.9 : 0.25;
  if (e->kind == SQL_E_IS_NULL) return e->negated ? 0.9 : 0.1;
  if (e->kind == SQL_E_OR) return 0.6;
  if (e->kind == SQL_E_FUNC && e->func && e->n_args == 2) {
    const char *n = e->func->name;
    if (strcmp(n, "=") == 0) return 0.1;
    if (strcmp(n, "<>") == 0) return 0.9;
    if (strcmp(n, "<") == 0 || strcmp(n, "<=") == 0 || strcmp(n, ">") == 0 || strcmp(n, ">=") == 0)
      return 0.3;
  }
  return 0.5;
}

/* --- Predicate pushdown ------------------------------------------------------------------------
 */

static sql_plan *push(opt *o, sql_plan *p, conj *in);

/* Optimizes the subtree with nothing to push from above. */
static sql_plan *push_none(opt *o, sql_plan *p) {
  conj none = {0};
  sql_plan *r = push(o, p, &none);
  free(none.items);
  return r;
}

static sql_plan *push(opt *o, sql_plan *p, conj *in) {
  if (p == NULL) return NULL;
  switch (p->kind) {
  case SQL_P_FILTER: {
    conj_add(in, p->predicate);
    return push(o, p->child[0], in);
  }
  case SQL_P_SCAN: {
    conj stay = {0};
    rewrite_date_compares(o, in);
    for (size_t i = 0; i < in->n; i++) {
      sql_expr *e = in->items[i];
      if (has_subquery_or_volatile(e) || !refs_within(e, p)) {
        conj_add(&stay, e);
        continue;
      }
      sql_expr **nf = tarn_arena_calloc(o->a, p->n_filters + 1, sizeof *nf);
      if (nf == NULL) {
        conj_add(&stay, e);
        continue;
      }
      if (p->n_filters) memcpy(nf, p->filters, p->n_filters * sizeof *nf);
      nf[p->n_filters++] = e;
      p->filters = nf;
      p->est_rows *= selectivity(e);
    }
    sql_plan *r = wrap_filter(o, p, &stay);
    free(stay.items);
    return r;
  }
  case SQL_P_PROJECT: {
    conj down = {0}, stay = {0};
    for (size_t i = 0; i < in->n; i++) {
      sql_expr *e = in->items[i];
      bool ok = !has_subquery_or_volatile(e);
      for (size_t k = 0; ok && k < p->n_exprs; k++) {
        idset s = {0};
        expr_refs(e, &s);
        if (idset_has(&s, p->out_ids[k]) && has_subquery_or_volatile(p->exprs[k])) ok = false;
        free(s.ids);
      }
      sql_expr *sub = ok ? substitute(o, e, p) : NULL;
      if (sub && p->child[0] && refs_within(sub, p->child[0]))
        conj_add(&down, sub);
      else
        conj_add(&stay, e);
    }
    p->child[0] = push(o, p->child[0], &down);
    free(down.items);
    sql_plan *r = wrap_filter(o, p, &stay);
    free(stay.items);
    return r;
  }
  case SQL_P_JOIN: {
    conj left = {0}, right = {0}, stay = {0}, cond = {0};
    sql_plan *l = p->child[0], *r = p->child[1];
    bool inner = p->join_kind == SQL_JOIN_INNER || p->join_kind == SQL_JOIN_CROSS;
    if (inner) conj_add(&cond, p->condition);
    for (size_t i = 0; i < in->n; i++) {
      sql_expr *e = in->items[i];
      bool sq = has_subquery_or_volatile(e);
      if (!sq && refs_within(e, l) &&
          (inner || p->join_kind == SQL_JOIN_LEFT || p->join_kind == SQL_JOIN_SEMI ||
           p->join_kind == SQL_JOIN_ANTI))
        conj_add(&left, e);
      else if (!sq && refs_within(e, r) && (inner || p->join_kind == SQL_JOIN_RIGHT))
        conj_add(&right, e);
      else if (!sq && inner)
        conj_add(&cond, e);
      else
        conj_add(&stay, e);
    }
    /* The ON condition of an inner join is a filter like any other; for outer joins, conditions
     * on the nullable side alone may filter that side before the join. */
    conj keep = {0};
    if (inner) {
      for (size_t i = 0; i < cond.n; i++) {
        sql_expr *e = cond.items[i];
        if (!has_subquery_or_volatile(e) && refs_within(e, l))
          conj_add(&left, e);
        else if (!has_subquery_or_volatile(e) && refs_within(e, r))
          conj_add(&right, e);
        else
          conj_add(&keep, e);
      }
      if (keep.n && p->join_kind == SQL_JOIN_CROSS) p->join_kind = SQL_JOIN_INNER;
      p->condition = conj_and(o, &keep);
    } else if (p->condition && (p->join_kind == SQL_JOIN_LEFT || p->join_kind == SQL_JOIN_RIGHT)) {
      conj on = {0};
      conj_add(&on, p->condition);
      sql_plan *nullable = p->join_kind == SQL_JOIN_LEFT ? r : l;
      conj *side = p->join_kind == SQL_JOIN_LEFT ? &right : &left;
      for (size_t i = 0; i < on.n; i++) {
        sql_expr *e = on.items[i];
        if (!has_subquery_or_volatile(e) && refs_within(e, nullable))
          conj_add(side, e);
        else
          conj_add(&keep, e);
      }
      p->condition = conj_and(o, &keep);
      free(on.items);
    }
    p->child[0] = push(o, l, &left);
    p->child[1] = push(o, r, &right);
    free(left.items);
    free(right.items);
    free(cond.items);
    free(keep.items);
    sql_plan *res = wrap_filter(o, p, &stay);
    free(stay.items);
    return res;
  }
  default: {
    /* A barrier: optimize below with nothing pushed, apply what came here above. */
    if (p->child[0]) p->child[0] = push_none(o, p->child[0]);
    if (p->child[1]) p->child[1] = push_none(o, p->child[1]);
    if (p->kind == SQL_P_CTE_SCAN && p->cte && !p->cte->spilled) {
      /* A CTE is shared; optimize its plan once (spilled doubles as the "done" mark here). */
      p->cte->spilled = true;
      sql_plan *c = push_none(o, p->cte);
      if (c != p->cte) {
        /* Keep the node identity: references hold the pointer. */
        sql_plan tmp = *c;
        *p->cte = tmp;
      }
      p->cte->spilled = false;
    }
    return wrap_filter(o, p, in);
  }
  }
}

/* --- Join keys and build side ------------------------------------------------------------------
 */

static double est(const sql_plan *p) {
  if (p == NULL) return 1;
  switch (p->kind) {
  case SQL_P_SCAN: return p->est_rows > 0 ? p->est_rows : 1000;
  case SQL_P_VALUES: return (double)p->n_rows;
  case SQL_P_FILTER: return est(p->child[0]) * 0.5;
  case SQL_P_JOIN: {
    double l = est(p->child[0]), r = est(p->child[1]);
    if (p->join_kind == SQL_JOIN_CROSS) return l * r;
    if (p->join_kind == SQL_JOIN_SEMI || p->join_kind == SQL_JOIN_ANTI) return l * 0.5;
    /* Joins on keys are mostly foreign-key joins: about as many rows as the filtered side. */
    if (p->n_join_keys || p->join_kind == SQL_JOIN_INNER) return l < r ? l : r;
    return l > r ? l : r;
  }
  case SQL_P_AGG: return p->n_keys ? est(p->child[0]) * 0.1 + 1 : 1;
  case SQL_P_LIMIT:
    return p->limit >= 0 && p->limit < est(p->child[0]) ? (double)p->limit : est(p->child[0]);
  case SQL_P_CTE_SCAN: return est(p->cte);
  case SQL_P_SETOP: return est(p->child[0]) + est(p->child[1]);
  default: return est(p->child[0]);
  }
}

static int plan_joins(opt *o, sql_plan *p) {
  if (p == NULL) return 0;
  int rc = plan_joins(o, p->child[0]);
  if (rc == 0) rc = plan_joins(o, p->child[1]);
  if (rc || p->kind != SQL_P_JOIN) return rc;
  conj c = {0}, rest = {0};
  conj_add(&c, p->condition);
  sql_plan *l = p->child[0], *r = p->child[1];
  sql_expr **lk = tarn_arena_calloc(o->a, c.n + 1, sizeof *lk);
  sql_expr **rk = tarn_arena_calloc(o->a, c.n + 1, sizeof *rk);
  if (lk == NULL || rk == NULL) {
    free(c.items);
    return tarn_err(o->err, TARN_ENOMEM, "out of memory");
  }
  size_t n = 0;
  for (size_t i = 0; i < c.n; i++) {
    sql_expr *e = c.items[i];
    if (e->kind == SQL_E_FUNC && e->n_args == 2 && e->func && strcmp(e->func->name, "=") == 0 &&
        !has_subquery_or_volatile(e) && sql_type_equal(e->args[0]->type, e->args[1]->type)) {
      if (refs_within(e->args[0], l) && refs_within(e->args[1], r)) {
        lk[n] = e->args[0];
        rk[n++] = e->args[1];
        continue;
      }
      if (refs_within(e->args[1], l) && refs_within(e->args[0], r)) {
        lk[n] = e->args[1];
        rk[n++] = e->args[0];
        continue;
      }
    }
    conj_add(&rest, e);
  }
  if (n) {
    p->left_keys = lk;
    p->right_keys = rk;
    p->n_join_keys = n;
    p->residual = conj_and(o, &rest);
    if (p->join_kind == SQL_JOIN_CROSS) p->join_kind = SQL_JOIN_INNER;
    p->build_left = p->join_kind == SQL_JOIN_INNER && est(l) < est(r);
  } else {
    p->residual = p->condition;
  }
  free(c.items);
  free(rest.items);
  return 0;
}

/* --- Projection pushdown -----------------------------------------------------------------------
 */

static void refresh_outs(opt *o, sql_plan *p);

static void need_expr(idset *s, const sql_expr *e) { expr_refs(e, s); }

static void prune(opt *o, sql_plan *p, idset *needed, bool root) {
  if (p == NULL) return;
  idset child_need = {0};
  switch (p->kind) {
  case SQL_P_SCAN: {
    for (size_t i = 0; i < p->n_filters; i++)
      need_expr(needed, p->filters[i]);
    size_t k = 0;
    for (size_t i = 0; i < p->n_out; i++) {
      if (!idset_has(needed, p->out_ids[i]) && !root) continue;
      p->out_ids[k] = p->out_ids[i];
      p->out_names[k] = p->out_names[i];
      p->out_types[k] = p->out_types[i];
      p->source_cols[k] = p->source_cols[i];
      k++;
    }
    if (k == 0 && p->n_out > 0) k = 1; /* count(*): read one column for the row count */
    p->n_out = k;
    break;
  }
  case SQL_P_PROJECT: {
    size_t k = 0;
    for (size_t i = 0; i < p->n_out; i++) {
      if (!root && !idset_has(needed, p->out_ids[i])) continue;
      p->out_ids[k] = p->out_ids[i];
      p->out_names[k] = p->out_names[i];
      p->out_types[k] = p->out_types[i];
      p->exprs[k] = p->exprs[i];
      k++;
    }
    p->n_out = p->n_exprs = k;
    for (size_t i = 0; i < k; i++)
      need_expr(&child_need, p->exprs[i]);
    prune(o, p->child[0], &child_need, false);
    break;
  }
  case SQL_P_FILTER:
  case SQL_P_SORT:
  case SQL_P_LIMIT:
  case SQL_P_WINDOW: {
    for (size_t i = 0; i < needed->n; i++)
      idset_add(&child_need, needed->ids[i]);
    if (root)
      for (size_t i = 0; i < p->n_out; i++)
        idset_add(&child_need, p->out_ids[i]);
    need_expr(&child_need, p->predicate);
    for (size_t i = 0; i < p->n_sort_keys; i++)
      need_expr(&child_need, p->sort_keys[i].expr);
    for (size_t w = 0; w < p->n_windows; w++) {
      const sql_window_call *wc = &p->windows[w];
      for (size_t i = 0; i < wc->agg.n_args; i++)
        need_expr(&child_need, wc->agg.args[i]);
      need_expr(&child_need, wc->agg.filter);
      for (size_t i = 0; i < wc->n_partition; i++)
        need_expr(&child_need, wc->partition[i]);
      for (size_t i = 0; i < wc->n_order; i++)
        need_expr(&child_need, wc->order[i].expr);
      need_expr(&child_need, wc->range_start);
      need_expr(&child_need, wc->range_end);
    }
    prune(o, p->child[0], &child_need, false);
    break;
  }
  case SQL_P_JOIN: {
    for (size_t i = 0; i < needed->n; i++)
      idset_add(&child_need, needed->ids[i]);
    if (root)
      for (size_t i = 0; i < p->n_out; i++)
        idset_add(&child_need, p->out_ids[i]);
    need_expr(&child_need, p->condition);
    need_expr(&child_need, p->residual);
    for (size_t i = 0; i < p->n_join_keys; i++) {
      need_expr(&child_need, p->left_keys[i]);
      need_expr(&child_need, p->right_keys[i]);
    }
    prune(o, p->child[0], &child_need, false);
    prune(o, p->child[1], &child_need, false);
    if (!root) {
      /* The join's own outputs: only what the plan above needs. */
      p->keep_ids = tarn_arena_calloc(o->a, needed->n + 1, sizeof *p->keep_ids);
      if (p->keep_ids) {
        if (needed->n) memcpy(p->keep_ids, needed->ids, needed->n * sizeof *p->keep_ids);
        p->n_keep_ids = needed->n;
        p->keep_pruned = true;
      }
    }
    break;
  }
  case SQL_P_AGG: {
    for (size_t i = 0; i < p->n_keys; i++)
      need_expr(&child_need, p->keys[i]);
    for (size_t a = 0; a < p->n_aggs; a++) {
      for (size_t i = 0; i < p->aggs[a].n_args; i++)
        need_expr(&child_need, p->aggs[a].args[i]);
      need_expr(&child_need, p->aggs[a].filter);
      for (size_t i = 0; i < p->aggs[a].n_order; i++)
        need_expr(&child_need, p->aggs[a].order[i].expr);
    }
    prune(o, p->child[0], &child_need, false);
    break;
  }
  default: {
    /* DISTINCT, set operations, CTE scans, VALUES, UNNEST: every child column matters. */
    for (int c = 0; c < 2; c++) {
      if (p->child[c] == NULL) continue;
      idset all = {0};
      for (size_t i = 0; i < p->child[c]->n_out; i++)
        idset_add(&all, p->child[c]->out_ids[i]);
      for (size_t i = 0; i < p->n_exprs; i++)
        need_expr(&all, p->exprs[i]);
      prune(o, p->child[c], &all, true);
      free(all.ids);
    }
    if (p->kind == SQL_P_CTE_SCAN && p->cte && !p->cte->spilled) {
      p->cte->spilled = true; /* visit a shared CTE once */
      idset all = {0};
      prune(o, p->cte, &all, true);
      free(all.ids);
    }
    break;
  }
  }
  free(child_need.ids);
  refresh_outs(o, p);
}

/* Pass-through nodes take their outputs from their children again after pruning. */
static void refresh_outs(opt *o, sql_plan *p) {
  switch (p->kind) {
  case SQL_P_FILTER:
  case SQL_P_SORT:
  case SQL_P_LIMIT:
  case SQL_P_DISTINCT:
  case SQL_P_GATHER: copy_outs(p, p->child[0]); break;
  case SQL_P_JOIN: {
    const sql_plan *l = p->child[0], *r = p->child[1];
    bool left_only = p->join_kind == SQL_JOIN_SEMI || p->join_kind == SQL_JOIN_ANTI;
    size_t n = l->n_out + (left_only ? 0 : r->n_out);
    if (sql_plan_alloc_out(o->pc, p, n ? n : 1)) return;
    size_t k = 0;
    for (int side = 0; side < (left_only ? 1 : 2); side++) {
      const sql_plan *c = side ? r : l;
      for (size_t i = 0; i < c->n_out; i++) {
        bool keep = !p->keep_pruned;
        for (size_t j = 0; !keep && j < p->n_keep_ids; j++)
          keep = p->keep_ids[j] == c->out_ids[i];
        if (!keep) continue;
        p->out_ids[k] = c->out_ids[i];
        p->out_names[k] = c->out_names[i];
        p->out_types[k] = c->out_types[i];
        k++;
      }
    }
    if (k == 0 && n > 0) {
      /* Keep one column at least (count(*) over a join): its length carries the row count. */
      const sql_plan *c = l->n_out ? l : r;
      p->out_ids[0] = c->out_ids[0];
      p->out_names[0] = c->out_names[0];
      p->out_types[0] = c->out_types[0];
      k = 1;
    }
    p->n_out = k;
    break;
  }
  case SQL_P_WINDOW: {
    const sql_plan *c = p->child[0];
    size_t n = c->n_out + p->n_windows;
    const char **old_names = p->out_names;
    size_t old_n = p->n_out;
    if (sql_plan_alloc_out(o->pc, p, n)) return;
    for (size_t i = 0; i < c->n_out; i++) {
      p->out_ids[i] = c->out_ids[i];
      p->out_names[i] = c->out_names[i];
      p->out_types[i] = c->out_types[i];
    }
    for (size_t w = 0; w < p->n_windows; w++) {
      p->out_ids[c->n_out + w] = p->windows[w].out_id;
      p->out_names[c->n_out + w] =
          old_n >= p->n_windows ? old_names[old_n - p->n_windows + w] : "window";
      p->out_types[c->n_out + w] = p->windows[w].type;
    }
    break;
  }
  default: break;
  }
}

/* --- Top-N ---------------------------------------------------------------------------------------
 */

static void top_n(sql_plan *p) {
  if (p == NULL) return;
  if (p->kind == SQL_P_LIMIT && p->limit >= 0 && p->child[0] && p->child[0]->kind == SQL_P_SORT &&
      p->child[0]->limit < 0)
    p->child[0]->limit = p->limit + p->offset;
  top_n(p->child[0]);
  top_n(p->child[1]);
}

/* --- Parallelism
 * ----------------------------------------------------------------------------------- */

/* Whether a gather's workers can each run a copy of join p over their share of its probe side,
 * all probing one table built once from the build side (plan->shared_build). The build side must
 * keep no per-row match state, which rules out RIGHT and FULL joins and semi joins that output
 * the build side; and nothing the copies evaluate may be a subquery or volatile. */
static bool join_shareable(const sql_plan *p) {
  sql_join_kind k = p->join_kind;
  bool kind_ok =
      k == SQL_JOIN_INNER || k == SQL_JOIN_CROSS ||
      (!p->build_left && (k == SQL_JOIN_LEFT || k == SQL_JOIN_SEMI || k == SQL_JOIN_ANTI));
  if (!kind_ok) return false;
  if (has_subquery_or_volatile(p->condition) || has_subquery_or_volatile(p->residual)) return false;
  for (size_t i = 0; i < p->n_join_keys; i++)
    if (has_subquery_or_volatile(p->left_keys[i]) || has_subquery_or_volatile(p->right_keys[i]))
      return false;
  return true;
}

static sql_plan *probe_child(const sql_plan *join) { return join->child[join->build_left ? 1 : 0]; }

/* A chain of filters, projections and shareable joins (through their probe side) over a scan,
 * with no subquery anywhere in the chain; the joins' build sides may be anything, since they run
 * outside the workers' division of the data. */
static bool scan_pipeline(const sql_plan *p) {
  while (p && (p->kind == SQL_P_FILTER || p->kind == SQL_P_PROJECT ||
               (p->kind == SQL_P_JOIN && join_shareable(p)))) {
    if (p->kind == SQL_P_JOIN) {
      p = probe_child(p);
      continue;
    }
    if (p->kind == SQL_P_FILTER && has_subquery_or_volatile(p->predicate)) return false;
    for (size_t i = 0; i < p->n_exprs; i++)
      if (has_subquery_or_volatile(p->exprs[i])) return false;
    p = p->child[0];
  }
  if (p == NULL || p->kind != SQL_P_SCAN) return false;
  for (size_t i = 0; i < p->n_filters; i++)
    if (has_subquery_or_volatile(p->filters[i])) return false;
  return true;
}

static sql_plan *gather(opt *o, sql_plan *child) {
  sql_plan *g = sql_plan_new(o->pc, SQL_P_GATHER);
  if (g == NULL) return child;
  g->child[0] = child;
  g->n_workers = o->threads;
  copy_outs(g, child);
  g->est_rows = child->est_rows;
  return g;
}

static bool agg_args_plain(const sql_plan *agg) {
  for (size_t i = 0; i < agg->n_keys; i++)
    if (has_subquery_or_volatile(agg->keys[i])) return false;
  for (size_t a = 0; a < agg->n_aggs; a++) {
    for (size_t i = 0; i < agg->aggs[a].n_args; i++)
      if (has_subquery_or_volatile(agg->aggs[a].args[i])) return false;
    if (has_subquery_or_volatile(agg->aggs[a].filter)) return false;
  }
  return true;
}

/* Splits agg into FINAL(GATHER(PARTIAL(child))). */
static int split_agg(opt *o, sql_plan *agg) {
  sql_plan *part = sql_plan_new(o->pc, SQL_P_AGG);
  if (part == NULL) return tarn_err(o->err, TARN_ENOMEM, "out of memory");
  *part = *agg;
  part->agg_mode = SQL_AGG_PARTIAL;
  size_t n_state = 0;
  const sql_type *st[4];
  size_t *first = tarn_arena_calloc(o->a, agg->n_aggs + 1, sizeof *first);
  size_t *count = tarn_arena_calloc(o->a, agg->n_aggs + 1, sizeof *count);
  const sql_type **all = tarn_arena_calloc(o->a, agg->n_aggs * 3 + 1, sizeof *all);
  if (first == NULL || count == NULL || all == NULL)
    return tarn_err(o->err, TARN_ENOMEM, "out of memory");
  for (size_t a = 0; a < agg->n_aggs; a++) {
    size_t n = 0;
    int rc = sql_agg_state_types(o->a, &agg->aggs[a], st, &n, o->err);
    if (rc) return rc;
    first[a] = n_state;
    count[a] = n;
    for (size_t i = 0; i < n; i++)
      all[n_state++] = st[i];
  }
  if (sql_plan_alloc_out(o->pc, part, agg->n_keys + n_state))
    return tarn_err(o->err, TARN_ENOMEM, "out of memory");
  for (size_t k = 0; k < agg->n_keys; k++) {
    part->out_ids[k] = sql_plan_new_id(o->pc);
    part->out_names[k] = agg->out_names[k];
    part->out_types[k] = agg->out_types[k];
  }
  for (size_t i = 0; i < n_state; i++) {
    part->out_ids[agg->n_keys + i] = sql_plan_new_id(o->pc);
    part->out_names[agg->n_keys + i] = "state";
    part->out_types[agg->n_keys + i] = all[i];
  }
  sql_plan *g = gather(o, part);
  /* The FINAL node: the original, reading states. */
  agg->agg_mode = SQL_AGG_FINAL;
  agg->child[0] = g;
  sql_expr **keys = tarn_arena_calloc(o->a, agg->n_keys + 1, sizeof *keys);
  sql_agg_call *calls = tarn_arena_calloc(o->a, agg->n_aggs + 1, sizeof *calls);
  if (keys == NULL || calls == NULL) return tarn_err(o->err, TARN_ENOMEM, "out of memory");
  for (size_t k = 0; k < agg->n_keys; k++) {
    sql_expr *e = tarn_arena_calloc(o->a, 1, sizeof *e);
    if (e == NULL) return tarn_err(o->err, TARN_ENOMEM, "out of memory");
    e->kind = SQL_E_COLUMN;
    e->type = part->out_types[k];
    e->column_id = part->out_ids[k];
    keys[k] = e;
  }
  for (size_t a = 0; a < agg->n_aggs; a++) {
    calls[a] = agg->aggs[a];
    calls[a].filter = NULL;
    calls[a].n_args = count[a];
    calls[a].args = tarn_arena_calloc(o->a, count[a] + 1, sizeof *calls[a].args);
    if (calls[a].args == NULL) return tarn_err(o->err, TARN_ENOMEM, "out of memory");
    for (size_t i = 0; i < count[a]; i++) {
      sql_expr *e = tarn_arena_calloc(o->a, 1, sizeof *e);
      if (e == NULL) return tarn_err(o->err, TARN_ENOMEM, "out of memory");
      e->kind = SQL_E_COLUMN;
      e->type = all[first[a] + i];
      e->column_id = part->out_ids[agg->n_keys + first[a] + i];
      calls[a].args[i] = e;
    }
  }
  agg->keys = keys;
  agg->aggs = calls;
  return 0;
}

static int parallelize(opt *o, sql_plan **pp);

/* How many rows a pipeline's workers divide: its scan's, when joins sit in between (a join's
 * estimate says little about the work of probing it). */
static double pipeline_est(const sql_plan *p) {
  const sql_plan *q = p;
  bool joins = false;
  while (q && q->kind != SQL_P_SCAN) {
    joins |= q->kind == SQL_P_JOIN;
    q = q->kind == SQL_P_JOIN ? probe_child(q) : q->child[0];
  }
  return joins ? est(q) : est(p);
}

/* Marks the joins of a pipeline about to go under a gather as shared-build, and parallelizes
 * their build sides on their own: those run once, outside the gather's division of the data, and
 * get gathers of their own when big enough. */
static int share_builds(opt *o, sql_plan *p) {
  while (p && p->kind != SQL_P_SCAN) {
    if (p->kind != SQL_P_JOIN) {
      p = p->child[0];
      continue;
    }
    p->shared_build = true;
    int rc = parallelize(o, &p->child[p->build_left ? 0 : 1]);
    if (rc) return rc;
    p = probe_child(p);
  }
  return 0;
}

static int parallelize(opt *o, sql_plan **pp) {
  sql_plan *p = *pp;
  if (p == NULL) return 0;
  if (p->kind == SQL_P_AGG && p->agg_mode == SQL_AGG_SINGLE && scan_pipeline(p->child[0]) &&
      sql_agg_splittable(p) && agg_args_plain(p)) {
    int rc = share_builds(o, p->child[0]);
    return rc ? rc : split_agg(o, p);
  }
  if (scan_pipeline(p) && pipeline_est(p) >= 50000) {
    int rc = share_builds(o, p);
    if (rc == 0) *pp = gather(o, p);
    return rc;
  }
  if (p->kind == SQL_P_GATHER) return 0;
  int rc = parallelize(o, &p->child[0]);
  if (rc == 0) rc = parallelize(o, &p->child[1]);
  return rc;
}

/* --- Subqueries
 * ------------------------------------------------------------------------------------ */

static int optimize_tree(opt *o, sql_plan **plan, bool parallel);

static int optimize_expr_subqueries(opt *o, sql_expr *e) {
  if (e == NULL) return 0;
  if (e->kind == SQL_E_SUBQUERY && e->subquery) {
    int rc = optimize_tree(o, &e->subquery, false);
    if (rc) return rc;
  }
  for (size_t i = 0; i < e->n_args; i++) {
    int rc = optimize_expr_subqueries(o, e->args[i]);
    if (rc) return rc;
  }
  return 0;
}

static int slot_subqueries(sql_expr **slot, void *arg) {
  return optimize_expr_subqueries(arg, *slot);
}

static int walk_subqueries(opt *o, sql_plan *p) {
  if (p == NULL) return 0;
  int rc = sql_plan_visit_exprs(p, slot_subqueries, o);
  if (rc == 0) rc = walk_subqueries(o, p->child[0]);
  if (rc == 0) rc = walk_subqueries(o, p->child[1]);
  return rc;
}

static int optimize_tree(opt *o, sql_plan **plan, bool parallel) {
  sql_plan *p = push_none(o, *plan);
  int rc = plan_joins(o, p);
  if (rc) return rc;
  idset all = {0};
  prune(o, p, &all, true);
  free(all.ids);
  top_n(p);
  rc = walk_subqueries(o, p);
  if (rc == 0 && parallel && o->threads > 1) rc = parallelize(o, &p);
  *plan = p;
  return rc;
}

int sql_optimize(sql_plan_ctx *pc, sql_plan **plan, const sql_optimize_options *opts,
                 tarn_error *err) {
  opt o = {pc, &pc->arena, err, opts && opts->threads > 0 ? opts->threads : 1};
  return optimize_tree(&o, plan, true);
}
