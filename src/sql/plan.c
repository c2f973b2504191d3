/*
 * Plan nodes: allocation and the EXPLAIN rendering.
 *
 * EXPLAIN prints one node per line, children indented below their parent, with the expressions
 * each node evaluates; column ids are printed as the names the columns were produced under, so
 * the plan reads like the query. EXPLAIN ANALYZE adds what the run measured on the same nodes.
 */
#include "sql/plan.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

sql_plan *sql_plan_new(sql_plan_ctx *ctx, sql_plan_kind k) {
  sql_plan *p = tarn_arena_calloc(&ctx->arena, 1, sizeof *p);
  if (p == NULL) return NULL;
  p->kind = k;
  p->limit = -1;
  p->est_rows = -1;
  return p;
}

int sql_plan_alloc_out(sql_plan_ctx *ctx, sql_plan *p, size_t n) {
  size_t m = n ? n : 1;
  p->n_out = n;
  p->out_ids = tarn_arena_calloc(&ctx->arena, m, sizeof *p->out_ids);
  p->out_names = tarn_arena_calloc(&ctx->arena, m, sizeof *p->out_names);
  p->out_types = tarn_arena_calloc(&ctx->arena, m, sizeof *p->out_types);
  return p->out_ids && p->out_names && p->out_types ? 0 : TARN_ENOMEM;
}

int sql_plan_new_id(sql_plan_ctx *ctx) { return ++ctx->next_column_id; }

/* --- EXPLAIN ------------------------------------------------------------------------------------
 */

typedef struct out_buf {
  char *data;
  size_t len, cap;
  bool failed;
} out_buf;

static void out_printf(out_buf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_printf(out_buf *o, const char *fmt, ...) {
  if (o->failed) return;
  va_list ap;
  va_start(ap, fmt);
  int need = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (need < 0) return;
  if (o->len + (size_t)need + 1 > o->cap) {
    size_t cap = o->cap ? o->cap : 1024;
    while (cap < o->len + (size_t)need + 1)
      cap *= 2;
    char *d = realloc(o->data, cap);
    if (d == NULL) {
      o->failed = true;
      return;
    }
    o->data = d;
    o->cap = cap;
  }
  va_start(ap, fmt);
  vsnprintf(o->data + o->len, o->cap - o->len, fmt, ap);
  va_end(ap);
  o->len += (size_t)need;
}

/* Column names by id, gathered from every node of the plan (subqueries included). */
typedef struct name_map {
  int *ids;
  const char **names;
  size_t n, cap;
} name_map;

static void names_add_expr(name_map *m, const sql_expr *e);

static void names_add(name_map *m, const sql_plan *p) {
  if (p == NULL) return;
  for (size_t i = 0; i < p->n_out; i++) {
    if (m->n == m->cap) {
      size_t cap = m->cap ? m->cap * 2 : 64;
      int *ids = realloc(m->ids, cap * sizeof *ids);
      if (ids == NULL) return;
      m->ids = ids;
      const char **names = realloc(m->names, cap * sizeof *names);
      if (names == NULL) return;
      m->names = names;
      m->cap = cap;
    }
    m->ids[m->n] = p->out_ids[i];
    m->names[m->n] = p->out_names[i];
    m->n++;
  }
  names_add(m, p->child[0]);
  names_add(m, p->child[1]);
  if (p->kind == SQL_P_CTE_SCAN) names_add(m, p->cte);
  for (size_t i = 0; i < p->n_filters; i++)
    names_add_expr(m, p->filters[i]);
  names_add_expr(m, p->predicate);
  for (size_t i = 0; i < p->n_exprs; i++)
    names_add_expr(m, p->exprs[i]);
}

static void names_add_expr(name_map *m, const sql_expr *e) {
  if (e == NULL) return;
  if (e->kind == SQL_E_SUBQUERY) names_add(m, e->subquery);
  for (size_t i = 0; i < e->n_args; i++)
    names_add_expr(m, e->args[i]);
}

static const char *namer(void *arg, int id) {
  name_map *m = arg;
  for (size_t i = 0; i < m->n; i++)
    if (m->ids[i] == id) return m->names[i];
  return NULL;
}

static const char *join_name(sql_join_kind k) {
  switch (k) {
  case SQL_JOIN_INNER: return "INNER";
  case SQL_JOIN_LEFT: return "LEFT";
  case SQL_JOIN_RIGHT: return "RIGHT";
  case SQL_JOIN_FULL: return "FULL";
  case SQL_JOIN_SEMI: return "SEMI";
  case SQL_JOIN_ANTI: return "ANTI";
  case SQL_JOIN_CROSS: return "CROSS";
  }
  return "?";
}

static const char *agg_name(sql_agg_fn f) {
  static const char *names[] = {"count_star", "count",     "sum",       "avg",
                                "min",        "max",       "bool_and",  "bool_or",
                                "string_agg", "array_agg", "any_value", "stddev_samp",
                                "stddev_pop", "var_samp",  "var_pop"};
  return (size_t)f < sizeof names / sizeof *names ? names[f] : "?";
}

static void put_expr(out_buf *o, const sql_expr *e, name_map *m) {
  char buf[512];
  sql_expr_render(e, namer, m, buf, sizeof buf);
  out_printf(o, "%s", buf);
}

static void put_exprs(out_buf *o, sql_expr *const *es, size_t n, name_map *m) {
  for (size_t i = 0; i < n; i++) {
    if (i) out_printf(o, ", ");
    put_expr(o, es[i], m);
  }
}

static void put_sort(out_buf *o, const sql_sort_key *k, size_t n, name_map *m) {
  for (size_t i = 0; i < n; i++) {
    if (i) out_printf(o, ", ");
    put_expr(o, k[i].expr, m);
    if (k[i].descending) out_printf(o, " DESC");
    if (k[i].nulls_first != k[i].descending)
      out_printf(o, k[i].nulls_first ? " NULLS FIRST" : " NULLS LAST");
  }
}

static void explain_node(out_buf *o, const sql_plan *p, int depth, bool analyze, name_map *m) {
  out_printf(o, "%*s", depth * 2, "");
  if (depth) out_printf(o, "-> ");
  switch (p->kind) {
  case SQL_P_SCAN:
    out_printf(o, "Scan %s", p->source ? p->source->name : "?");
    out_printf(o, " columns=[");
    for (size_t i = 0; i < p->n_out; i++)
      out_printf(o, "%s%s", i ? ", " : "", p->out_names[i]);
    out_printf(o, "]");
    if (p->n_filters) {
      out_printf(o, " filters=[");
      put_exprs(o, p->filters, p->n_filters, m);
      out_printf(o, "]");
    }
    break;
  case SQL_P_VALUES: out_printf(o, "Values rows=%zu", p->n_rows); break;
  case SQL_P_FILTER:
    out_printf(o, "Filter ");
    put_expr(o, p->predicate, m);
    break;
  case SQL_P_PROJECT:
    out_printf(o, "Project ");
    for (size_t i = 0; i < p->n_exprs; i++) {
      if (i) out_printf(o, ", ");
      put_expr(o, p->exprs[i], m);
      if (p->out_names[i] && p->exprs[i]->kind != SQL_E_COLUMN)
        out_printf(o, " AS %s", p->out_names[i]);
    }
    break;
  case SQL_P_AGG:
    out_printf(o, "%sAggregate",
               p->agg_mode == SQL_AGG_PARTIAL ? "Partial "
               : p->agg_mode == SQL_AGG_FINAL ? "Final "
                                              : "Hash ");
    if (p->n_keys) {
      out_printf(o, " keys=[");
      put_exprs(o, p->keys, p->n_keys, m);
      out_printf(o, "]");
    }
    out_printf(o, " aggs=[");
    for (size_t i = 0; i < p->n_aggs; i++) {
      const sql_agg_call *a = &p->aggs[i];
      out_printf(o, "%s%s(%s", i ? ", " : "", agg_name(a->fn), a->distinct ? "DISTINCT " : "");
      put_exprs(o, a->args, a->n_args, m);
      out_printf(o, ")");
      if (a->filter) {
        out_printf(o, " FILTER (");
        put_expr(o, a->filter, m);
        out_printf(o, ")");
      }
    }
    out_printf(o, "]");
    break;
  case SQL_P_JOIN:
    out_printf(o, "%s %s Join", p->n_join_keys ? "Hash" : "Nested Loop", join_name(p->join_kind));
    if (p->n_join_keys) {
      out_printf(o, " on ");
      for (size_t i = 0; i < p->n_join_keys; i++) {
        if (i) out_printf(o, " AND ");
        put_expr(o, p->left_keys[i], m);
        out_printf(o, " = ");
        put_expr(o, p->right_keys[i], m);
      }
      out_printf(o, " build=%s", p->build_left ? "left" : "right");
    }
    if (p->residual || (!p->n_join_keys && p->condition)) {
      out_printf(o, " filter ");
      put_expr(o, p->residual ? p->residual : p->condition, m);
    }
    break;
  case SQL_P_SORT:
    out_printf(o, p->limit >= 0 ? "Top-N %lld by " : "Sort by ", (long long)(p->limit + p->offset));
    put_sort(o, p->sort_keys, p->n_sort_keys, m);
    break;
  case SQL_P_LIMIT:
    out_printf(o, "Limit");
    if (p->limit >= 0) out_printf(o, " %lld", (long long)p->limit);
    if (p->offset) out_printf(o, " offset %lld", (long long)p->offset);
    break;
  case SQL_P_SETOP:
    out_printf(o, "%s%s",
               p->setop == SQL_SET_UNION       ? "Union"
               : p->setop == SQL_SET_INTERSECT ? "Intersect"
                                               : "Except",
               p->set_all ? " All" : "");
    break;
  case SQL_P_WINDOW: out_printf(o, "Window functions=%zu", p->n_windows); break;
  case SQL_P_DISTINCT: out_printf(o, "Distinct"); break;
  case SQL_P_CTE_SCAN: out_printf(o, "CTE Scan"); break;
  case SQL_P_GATHER: out_printf(o, "Gather workers=%d", p->n_workers); break;
  case SQL_P_UNNEST: out_printf(o, "Unnest"); break;
  }
  if (analyze) {
    out_printf(o, "  (rows=%lld time=%.3f ms", (long long)p->actual_rows,
               (double)p->actual_ns / 1e6);
    if (p->kind == SQL_P_SCAN) {
      const sql_scan_stats *s = &p->scan_stats;
      out_printf(o, " files=%lld skipped=%lld row_groups=%lld skipped=%lld pages=%lld skipped=%lld",
                 (long long)s->files_total, (long long)s->files_skipped,
                 (long long)s->row_groups_total, (long long)s->row_groups_skipped,
                 (long long)s->pages_total, (long long)s->pages_skipped);
    }
    if (p->spilled) out_printf(o, " spilled");
    out_printf(o, ")");
  }
  out_printf(o, "\n");
  if (p->kind == SQL_P_CTE_SCAN && p->cte && depth < 64)
    explain_node(o, p->cte, depth + 1, analyze, m);
  for (int c = 0; c < 2; c++)
    if (p->child[c]) explain_node(o, p->child[c], depth + 1, analyze, m);
}

int sql_plan_explain(const sql_plan *p, bool analyze, char **buf, size_t *len, tarn_error *err) {
  out_buf o = {.data = *buf, .len = *len, .cap = *buf ? *len + 1 : 0};
  name_map m = {0};
  names_add(&m, p);
  explain_node(&o, p, 0, analyze, &m);
  free(m.ids);
  free(m.names);
  *buf = o.data;
  *len = o.len;
  if (o.failed) return tarn_err(err, TARN_ENOMEM, "out of memory printing the plan");
  return 0;
}

/* --- Walking expressions -----------------------------------------------------------------------
 */

static int visit_list(sql_expr **es, size_t n, sql_expr_visitor fn, void *arg) {
  for (size_t i = 0; es && i < n; i++)
    if (es[i]) {
      int rc = fn(&es[i], arg);
      if (rc) return rc;
    }
  return 0;
}

static int visit_one(sql_expr **e, sql_expr_visitor fn, void *arg) { return *e ? fn(e, arg) : 0; }

static int visit_sort(sql_sort_key *k, size_t n, sql_expr_visitor fn, void *arg) {
  for (size_t i = 0; k && i < n; i++) {
    int rc = visit_one(&k[i].expr, fn, arg);
    if (rc) return rc;
  }
  return 0;
}

int sql_plan_visit_exprs(sql_plan *p, sql_expr_visitor fn, void *arg) {
  int rc = visit_list(p->filters, p->n_filters, fn, arg);
  if (rc == 0) rc = visit_list(p->rows, p->n_rows * p->n_out, fn, arg);
  if (rc == 0) rc = visit_one(&p->predicate, fn, arg);
  if (rc == 0) rc = visit_list(p->exprs, p->n_exprs, fn, arg);
  if (rc == 0) rc = visit_list(p->keys, p->n_keys, fn, arg);
  for (size_t a = 0; rc == 0 && a < p->n_aggs; a++) {
    sql_agg_call *c = &p->aggs[a];
    rc = visit_list(c->args, c->n_args, fn, arg);
    if (rc == 0) rc = visit_one(&c->filter, fn, arg);
    if (rc == 0) rc = visit_sort(c->order, c->n_order, fn, arg);
  }
  if (rc == 0) rc = visit_one(&p->condition, fn, arg);
  if (rc == 0) rc = visit_one(&p->residual, fn, arg);
  if (rc == 0) rc = visit_list(p->left_keys, p->n_join_keys, fn, arg);
  if (rc == 0) rc = visit_list(p->right_keys, p->n_join_keys, fn, arg);
  if (rc == 0) rc = visit_sort(p->sort_keys, p->n_sort_keys, fn, arg);
  for (size_t w = 0; rc == 0 && w < p->n_windows; w++) {
    sql_window_call *c = &p->windows[w];
    rc = visit_list(c->agg.args, c->agg.n_args, fn, arg);
    if (rc == 0) rc = visit_one(&c->agg.filter, fn, arg);
    if (rc == 0) rc = visit_list(c->partition, c->n_partition, fn, arg);
    if (rc == 0) rc = visit_sort(c->order, c->n_order, fn, arg);
    if (rc == 0) rc = visit_one(&c->range_start, fn, arg);
    if (rc == 0) rc = visit_one(&c->range_end, fn, arg);
  }
  return rc;
}

/* --- Evaluation caches
 * ---------------------------------------------------------------------------- */

static void free_plan_caches(sql_plan *p, int depth);

static void free_expr_caches(sql_expr *e, int depth) {
  if (e == NULL || depth > 256) return;
  if (e->kind == SQL_E_SUBQUERY) free_plan_caches(e->subquery, depth + 1);
  for (size_t i = 0; i < e->n_args; i++)
    free_expr_caches(e->args[i], depth + 1);
  sql_expr_free_cache(e);
}

static int free_slot_caches(sql_expr **slot, void *arg) {
  free_expr_caches(*slot, *(int *)arg);
  return 0;
}

static void free_plan_caches(sql_plan *p, int depth) {
  if (p == NULL || depth > 256) return;
  sql_plan_visit_exprs(p, free_slot_caches, &depth);
  if (p->kind == SQL_P_CTE_SCAN) free_plan_caches(p->cte, depth + 1);
  free_plan_caches(p->child[0], depth + 1);
  free_plan_caches(p->child[1], depth + 1);
}

void sql_plan_free_caches(sql_plan *p) { free_plan_caches(p, 0); }
