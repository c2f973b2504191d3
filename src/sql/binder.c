/*
 * The binder (see binder.h). One pass over the parse tree per SELECT: FROM (building the scope),
 * WHERE, GROUP BY and aggregates, HAVING, window functions, the select list, DISTINCT, ORDER BY,
 * LIMIT. Aggregate calls met while binding an expression are registered with the query's
 * aggregate node and replaced by references to its output columns; afterwards every remaining
 * reference to a FROM column must match a GROUP BY key, which is how PostgreSQL's "must appear in
 * the GROUP BY clause" rule is enforced.
 */
#include "sql/binder.h"
#include "sql/source_delta_cdf.h"
#include "sql/source_iceberg.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/error.h"
#include "table/delta/delta_log.h"

/* --- Scopes -------------------------------------------------------------------------------------
 */

typedef struct scope_col {
  const char *table; /* alias of the FROM item, may be NULL */
  const char *name;
  int id;
  const sql_type *type;
  bool hidden; /* not part of SELECT * (USING's right-hand duplicate) */
} scope_col;

typedef struct scope {
  scope_col *cols;
  size_t n, cap;
  struct scope *outer; /* enclosing query's scope (correlation) */
  bool correlated;     /* set when a name resolved in an outer scope */
} scope;

typedef struct cte_def {
  const char *name;
  sql_plan *plan;
  struct cte_def *next;
} cte_def;

/* Aggregation context of the SELECT being bound. */
typedef struct agg_ctx {
  bool allowed;       /* aggregates may appear (select list, HAVING, ORDER BY) */
  const char *clause; /* where binding is when they may not ("WHERE", "GROUP BY") */
  sql_plan *agg;      /* the aggregate node (NULL until the first aggregate or GROUP BY) */
  size_t cap_aggs;
  bool in_agg_arg;   /* binding an aggregate's arguments: nested aggregates are errors */
  scope *from_scope; /* scope the aggregate arguments bind in */
  /* Window functions. */
  bool windows_allowed;
  sql_plan *window;
  size_t cap_windows;
} agg_ctx;

typedef struct binder {
  sql_binder_env *env;
  tarn_arena *a;
  tarn_error *err;
  cte_def *ctes;
  agg_ctx *agg;
  bool last_correlated; /* set by bind_select: its FROM scope used an enclosing query's names */
  /* The SELECT about to be bound is a set operation's branch: a bare NULL in its select list
   * keeps its unknown type, for the set operation to resolve (SELECT 1 UNION SELECT NULL). */
  bool setop_branch;
} binder;

static int oom(binder *b) { return tarn_err(b->err, TARN_ENOMEM, "out of memory"); }

static void *bz(binder *b, size_t n, size_t size) {
  return tarn_arena_calloc(b->a, n ? n : 1, size);
}

static char *bstrdup(binder *b, const char *s) { return tarn_arena_strndup(b->a, s, strlen(s)); }

static int scope_add(binder *b, scope *s, const char *table, const char *name, int id,
                     const sql_type *type) {
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 16;
    scope_col *c = bz(b, cap, sizeof *c);
    if (c == NULL) return oom(b);
    if (s->n) memcpy(c, s->cols, s->n * sizeof *c);
    s->cols = c;
    s->cap = cap;
  }
  s->cols[s->n++] = (scope_col){table, name, id, type, false};
  return 0;
}

static int scope_from_plan(binder *b, scope *s, const sql_plan *p, const char *table) {
  for (size_t i = 0; i < p->n_out; i++) {
    int rc = scope_add(b, s, table, p->out_names[i], p->out_ids[i], p->out_types[i]);
    if (rc) return rc;
  }
  return 0;
}

/* --- Expression helpers
 * --------------------------------------------------------------------------- */

static sql_expr *new_expr(binder *b, sql_expr_kind k, const sql_type *t) {
  sql_expr *e = bz(b, 1, sizeof *e);
  if (e) {
    e->kind = k;
    e->type = t;
  }
  return e;
}

static sql_expr *col_ref(binder *b, int id, const sql_type *t) {
  sql_expr *e = new_expr(b, SQL_E_COLUMN, t);
  if (e) e->column_id = id;
  return e;
}

static int set_args(binder *b, sql_expr *e, size_t n) {
  e->args = bz(b, n, sizeof *e->args);
  e->n_args = n;
  return e->args ? 0 : oom(b);
}

static sql_expr *const_null(binder *b) {
  sql_expr *e = new_expr(b, SQL_E_CONST, sql_type_get(SQL_NULL));
  if (e) {
    e->value.type = e->type;
    e->value.is_null = true;
  }
  return e;
}

static bool expr_has_columns(const sql_expr *e) {
  if (e->kind == SQL_E_COLUMN || e->kind == SQL_E_OUTER || e->kind == SQL_E_SUBQUERY) return true;
  if (e->kind == SQL_E_FUNC && e->func && e->func->volatile_) return true;
  for (size_t i = 0; i < e->n_args; i++)
    if (expr_has_columns(e->args[i])) return true;
  return false;
}

/* Folds e to a constant when it has no column, subquery or volatile part. Errors in folding
 * (1/0) are left for run time, where they are reported the same way, unless strict. */
static sql_expr *fold(binder *b, sql_expr *e) {
  if (e == NULL || e->kind == SQL_E_CONST || expr_has_columns(e)) return e;
  sql_mem *m = sql_mem_new();
  if (m == NULL) return e;
  tarn_error err2 = {0};
  sql_eval_ctx ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.mem = m;
  ctx.now_micros = b->env->now_micros;
  ctx.err = &err2;
  sql_value v;
  sql_expr *out = e;
  if (sql_expr_eval_const(&ctx, e, &v) == 0) {
    sql_expr *c = new_expr(b, SQL_E_CONST, e->type);
    if (c) {
      c->value = v;
      c->value.type = e->type;
      /* The value's bytes live in m: copy them into the plan's arena. */
      if (!v.is_null && sql_type_phys(e->type->id) == SQL_PHYS_STR) {
        char *p = tarn_arena_calloc(b->a, v.u.str.len + 1, 1);
        if (p) {
          memcpy(p, v.u.str.ptr, v.u.str.len);
          c->value.u.str.ptr = p;
          out = c;
        }
      } else if (!v.is_null && v.nested) {
        out = e; /* nested constants stay expressions */
      } else {
        out = c;
      }
    }
  }
  sql_mem_release(m);
  return out;
}

/* Casts e to type t (no-op when equal). Unknown literals are converted at bind time so a bad
 * literal is reported as the query's error. */
static int cast_to(binder *b, sql_expr **pe, const sql_type *t) {
  sql_expr *e = *pe;
  if (sql_type_equal(e->type, t)) return 0;
  if (e->kind == SQL_E_CONST && (e->value.is_null || e->type->id == SQL_NULL)) {
    sql_expr *c = new_expr(b, SQL_E_CONST, t);
    if (c == NULL) return oom(b);
    c->value.type = t;
    c->value.is_null = true;
    *pe = c;
    return 0;
  }
  sql_expr *c = new_expr(b, SQL_E_CAST, t);
  if (c == NULL || set_args(b, c, 1)) return oom(b);
  c->args[0] = e;
  if (e->unknown_literal) {
    sql_mem *m = sql_mem_new();
    if (m == NULL) return oom(b);
    sql_value v;
    int rc = sql_cast_value(m, &e->value, t, &v, b->err);
    if (rc == 0) {
      sql_expr *k = new_expr(b, SQL_E_CONST, t);
      if (k == NULL) {
        sql_mem_release(m);
        return oom(b);
      }
      k->value = v;
      k->value.type = t;
      if (!v.is_null && sql_type_phys(t->id) == SQL_PHYS_STR) {
        char *p = tarn_arena_calloc(b->a, v.u.str.len + 1, 1);
        if (p == NULL) {
          sql_mem_release(m);
          return oom(b);
        }
        memcpy(p, v.u.str.ptr, v.u.str.len);
        k->value.u.str.ptr = p;
      }
      if (v.nested) k = fold(b, c); /* keep nested literals as cast expressions */
      *pe = k;
    }
    sql_mem_release(m);
    return rc;
  }
  *pe = fold(b, c);
  return 0;
}

/* --- Type names
 * ----------------------------------------------------------------------------------- */

static const char *str_node(const PgQuery__Node *n) {
  return n && n->node_case == PG_QUERY__NODE__NODE_STRING ? n->string->sval : NULL;
}

static int typmod_int(const PgQuery__Node *n, int *out) {
  if (n && n->node_case == PG_QUERY__NODE__NODE_A_CONST &&
      n->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL) {
    *out = n->a_const->ival->ival;
    return 0;
  }
  return -1;
}

static int bind_type_name(binder *b, const PgQuery__TypeName *tn, const sql_type **out) {
  const char *name = NULL;
  for (size_t i = 0; i < tn->n_names; i++) {
    const char *s = str_node(tn->names[i]);
    if (s && strcmp(s, "pg_catalog") != 0) name = s;
  }
  if (name == NULL) return tarn_err(b->err, TARN_EINVAL, "unsupported type name");
  static const struct {
    const char *name;
    sql_type_id id;
  } names[] = {{"int2", SQL_INT2},
               {"smallint", SQL_INT2},
               {"int4", SQL_INT4},
               {"int", SQL_INT4},
               {"integer", SQL_INT4},
               {"int8", SQL_INT8},
               {"bigint", SQL_INT8},
               {"float4", SQL_FLOAT4},
               {"real", SQL_FLOAT4},
               {"float8", SQL_FLOAT8},
               {"double", SQL_FLOAT8},
               {"float", SQL_FLOAT8},
               {"text", SQL_TEXT},
               {"varchar", SQL_TEXT},
               {"bpchar", SQL_TEXT},
               {"char", SQL_TEXT},
               {"string", SQL_TEXT},
               {"bool", SQL_BOOL},
               {"boolean", SQL_BOOL},
               {"date", SQL_DATE},
               {"time", SQL_TIME},
               {"timestamp", SQL_TIMESTAMP},
               {"timestamptz", SQL_TIMESTAMPTZ},
               {"interval", SQL_INTERVAL},
               {"bytea", SQL_BYTEA},
               {"blob", SQL_BYTEA},
               {"uuid", SQL_UUID},
               {"json", SQL_TEXT},
               {"jsonb", SQL_TEXT}};
  const sql_type *t = NULL;
  if (strcmp(name, "numeric") == 0 || strcmp(name, "decimal") == 0) {
    int p = 38, s = 0;
    if (tn->n_typmods >= 1 && typmod_int(tn->typmods[0], &p) != 0)
      return tarn_err(b->err, TARN_EINVAL, "invalid numeric type modifier");
    if (tn->n_typmods >= 2 && typmod_int(tn->typmods[1], &s) != 0)
      return tarn_err(b->err, TARN_EINVAL, "invalid numeric type modifier");
    if (tn->n_typmods == 0) s = 6; /* unconstrained numeric: a fixed scale (documented) */
    if (p < 1 || p > 38 || s < 0 || s > p)
      return tarn_err(b->err, TARN_EINVAL, "NUMERIC precision %d, scale %d out of range (1..38)", p,
                      s);
    t = sql_type_decimal(b->a, p, s);
  } else {
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
      if (strcmp(names[i].name, name) == 0) t = sql_type_get(names[i].id);
  }
  if (t == NULL) return tarn_err(b->err, TARN_EINVAL, "type \"%s\" does not exist", name);
  for (size_t i = 0; i < tn->n_array_bounds; i++) {
    t = sql_type_list(b->a, t);
    if (t == NULL) return oom(b);
  }
  *out = t;
  return 0;
}

/* --- Expressions -------------------------------------------------------------------------------
 */

static int bind_expr(binder *b, scope *s, const PgQuery__Node *n, sql_expr **out);
static int bind_select(binder *b, const PgQuery__SelectStmt *st, scope *outer, sql_plan **out);

static int lookup_column(binder *b, scope *s, const char *table, const char *name, sql_expr **out) {
  for (scope *sc = s; sc; sc = sc->outer) {
    const scope_col *found = NULL;
    for (size_t i = 0; i < sc->n; i++) {
      const scope_col *c = &sc->cols[i];
      if (strcmp(c->name, name) != 0) continue;
      if (table && (c->table == NULL || strcmp(c->table, table) != 0)) continue;
      if (table == NULL && c->hidden) continue;
      if (found && found->id != c->id)
        return tarn_err(b->err, TARN_EINVAL, "column reference \"%s\" is ambiguous", name);
      found = c;
    }
    if (found) {
      sql_expr *e = new_expr(b, sc == s ? SQL_E_COLUMN : SQL_E_OUTER, found->type);
      if (e == NULL) return oom(b);
      e->column_id = found->id;
      if (sc != s)
        for (scope *t = s; t != sc; t = t->outer)
          t->correlated = true;
      *out = e;
      return 0;
    }
  }
  if (table) {
    bool known = false;
    for (scope *sc = s; sc && !known; sc = sc->outer)
      for (size_t i = 0; i < sc->n && !known; i++)
        known = sc->cols[i].table && strcmp(sc->cols[i].table, table) == 0;
    if (!known)
      return tarn_err(b->err, TARN_EINVAL, "missing FROM-clause entry for table \"%s\"", table);
    return tarn_err(b->err, TARN_EINVAL, "column %s.%s does not exist", table, name);
  }
  return tarn_err(b->err, TARN_EINVAL, "column \"%s\" does not exist", name);
}

static int bind_column_ref(binder *b, scope *s, const PgQuery__ColumnRef *cr, sql_expr **out) {
  const char *parts[4] = {0};
  size_t n = cr->n_fields;
  if (n == 0 || n > 3) return tarn_err(b->err, TARN_EINVAL, "unsupported column reference");
  for (size_t i = 0; i < n; i++) {
    parts[i] = str_node(cr->fields[i]);
    if (parts[i] == NULL) return tarn_err(b->err, TARN_EINVAL, "\"*\" is not allowed here");
  }
  if (n == 1) return lookup_column(b, s, NULL, parts[0], out);
  /* t.col, or col.field (a struct field) when t is not a table alias. */
  int rc = lookup_column(b, s, parts[n - 2], parts[n - 1], out);
  if (rc == 0 || n != 2) return rc;
  tarn_error saved = *b->err;
  memset(b->err, 0, sizeof *b->err);
  sql_expr *base;
  if (lookup_column(b, s, NULL, parts[0], &base) == 0 && base->type->id == SQL_STRUCT) {
    for (size_t i = 0; i < base->type->n_fields; i++)
      if (strcmp(base->type->fields[i].name, parts[1]) == 0) {
        sql_expr *f = new_expr(b, SQL_E_STRUCT_FIELD, base->type->fields[i].type);
        if (f == NULL || set_args(b, f, 1)) return oom(b);
        f->args[0] = base;
        f->field_index = (int)i;
        *out = f;
        return 0;
      }
  }
  *b->err = saved;
  return rc;
}

static int bind_const(binder *b, const PgQuery__AConst *c, sql_expr **out) {
  if (c->isnull) {
    *out = const_null(b);
    return *out ? 0 : oom(b);
  }
  sql_expr *e = NULL;
  switch (c->val_case) {
  case PG_QUERY__A__CONST__VAL_IVAL:
    e = new_expr(b, SQL_E_CONST, sql_type_get(SQL_INT4));
    if (e) e->value.u.i64 = c->ival->ival;
    break;
  case PG_QUERY__A__CONST__VAL_FVAL: {
    const char *s = c->fval->fval;
    bool integral = true;
    for (const char *p = s; *p; p++)
      if (!(isdigit((unsigned char)*p) || (p == s && *p == '-'))) integral = false;
    if (integral) {
      errno = 0;
      char *end;
      long long v = strtoll(s, &end, 10);
      if (errno == 0 && *end == 0) {
        e = new_expr(b, SQL_E_CONST, sql_type_get(SQL_INT8));
        if (e) e->value.u.i64 = v;
        break;
      }
    }
    /* numeric literal: precision and scale from its digits */
    if (strpbrk(s, "eE")) {
      e = new_expr(b, SQL_E_CONST, sql_type_get(SQL_FLOAT8));
      if (e) e->value.u.f64 = strtod(s, NULL);
      break;
    }
    int digits = 0, scale = 0;
    bool after = false;
    for (const char *p = s; *p; p++) {
      if (*p == '.')
        after = true;
      else if (isdigit((unsigned char)*p)) {
        digits++;
        if (after) scale++;
      }
    }
    if (digits > 38) {
      e = new_expr(b, SQL_E_CONST, sql_type_get(SQL_FLOAT8));
      if (e) e->value.u.f64 = strtod(s, NULL);
      break;
    }
    const sql_type *t = sql_type_decimal(b->a, digits < 1 ? 1 : digits, scale);
    if (t == NULL) return oom(b);
    sql_value in = {.type = sql_type_get(SQL_TEXT)};
    in.u.str = (sql_str){s, strlen(s)};
    sql_mem *m = sql_mem_new();
    if (m == NULL) return oom(b);
    sql_value v;
    int rc = sql_cast_value(m, &in, t, &v, b->err);
    sql_mem_release(m);
    if (rc) return rc;
    e = new_expr(b, SQL_E_CONST, t);
    if (e) e->value = v;
    break;
  }
  case PG_QUERY__A__CONST__VAL_BOOLVAL:
    e = new_expr(b, SQL_E_CONST, sql_type_get(SQL_BOOL));
    if (e) e->value.u.b = c->boolval->boolval;
    break;
  case PG_QUERY__A__CONST__VAL_SVAL: {
    e = new_expr(b, SQL_E_CONST, sql_type_get(SQL_TEXT));
    if (e) {
      const char *s = bstrdup(b, c->sval->sval);
      if (s == NULL) return oom(b);
      e->value.u.str = (sql_str){s, strlen(s)};
      e->unknown_literal = true;
    }
    break;
  }
  default: return tarn_err(b->err, TARN_EUNSUPPORTED, "unsupported constant");
  }
  if (e == NULL) return oom(b);
  e->value.type = e->type;
  *out = e;
  return 0;
}

/* Gives an unknown literal the type of the other operand (PostgreSQL's rule for operators). */
static int unify_unknown(binder *b, sql_expr **x, sql_expr **y) {
  if ((*x)->unknown_literal && !(*y)->unknown_literal && (*y)->type->id != SQL_NULL)
    return cast_to(b, x, (*y)->type);
  if ((*y)->unknown_literal && !(*x)->unknown_literal && (*x)->type->id != SQL_NULL)
    return cast_to(b, y, (*x)->type);
  return 0;
}

/* Builds name(args) through the function registry, inserting the casts it asks for. */
static int make_func(binder *b, const char *name, sql_expr **args, size_t n, sql_expr **out) {
  const sql_type *types[16] = {0};
  const sql_type *casts[16] = {0};
  if (n > 16) return tarn_err(b->err, TARN_EINVAL, "too many arguments to %s", name);
  const sql_value *consts[16] = {0};
  for (size_t i = 0; i < n; i++) {
    types[i] = args[i]->type;
    if (args[i]->kind == SQL_E_CONST) consts[i] = &args[i]->value;
  }
  const sql_func *f = NULL;
  int rc = sql_func_resolve_const(b->a, name, types, consts, n, &f, casts, b->err);
  if (rc) return rc;
  sql_expr *e = new_expr(b, SQL_E_FUNC, f->ret);
  if (e == NULL || set_args(b, e, n)) return oom(b);
  e->func = f;
  for (size_t i = 0; i < n; i++) {
    e->args[i] = args[i];
    if (casts[i]) {
      rc = cast_to(b, &e->args[i], casts[i]);
      if (rc) return rc;
    }
  }
  *out = fold(b, e);
  return 0;
}

static int make_binop(binder *b, const char *op, sql_expr *l, sql_expr *r, sql_expr **out) {
  int rc = unify_unknown(b, &l, &r);
  if (rc) return rc;
  sql_expr *args[2] = {l, r};
  return make_func(b, op, args, 2, out);
}

static int make_bool(binder *b, sql_expr_kind k, sql_expr **args, size_t n, sql_expr **out) {
  sql_expr *e = new_expr(b, k, sql_type_get(SQL_BOOL));
  if (e == NULL || set_args(b, e, n)) return oom(b);
  for (size_t i = 0; i < n; i++) {
    e->args[i] = args[i];
    if (args[i]->type->id != SQL_BOOL) {
      if (args[i]->type->id == SQL_NULL || args[i]->unknown_literal) {
        int rc = cast_to(b, &e->args[i], sql_type_get(SQL_BOOL));
        if (rc) return rc;
      } else {
        char tn[64];
        sql_type_name(args[i]->type, tn, sizeof tn);
        return tarn_err(b->err, TARN_EINVAL, "argument of %s must be type boolean, not type %s",
                        k == SQL_E_AND  ? "AND"
                        : k == SQL_E_OR ? "OR"
                                        : "NOT",
                        tn);
      }
    }
  }
  *out = fold(b, e);
  return 0;
}

/* The common type of exprs[0..n) with their casts applied (CASE results, IN lists, COALESCE,
 * VALUES columns, set operations). */
static int unify_list(binder *b, sql_expr **exprs, size_t n, const char *what,
                      const sql_type **out) {
  const sql_type *t = NULL;
  for (size_t i = 0; i < n; i++) {
    if (exprs[i]->unknown_literal || exprs[i]->type->id == SQL_NULL) continue;
    if (t == NULL) {
      t = exprs[i]->type;
      continue;
    }
    const sql_type *c = sql_type_common(b->a, t, exprs[i]->type);
    if (c == NULL) {
      char t1[64], t2[64];
      sql_type_name(t, t1, sizeof t1);
      sql_type_name(exprs[i]->type, t2, sizeof t2);
      return tarn_err(b->err, TARN_EINVAL, "%s types %s and %s cannot be matched", what, t1, t2);
    }
    t = c;
  }
  if (t == NULL) {
    bool any_unknown = false;
    for (size_t i = 0; i < n; i++)
      any_unknown |= exprs[i]->unknown_literal;
    t = sql_type_get(any_unknown ? SQL_TEXT : SQL_NULL);
  }
  for (size_t i = 0; i < n; i++) {
    bool was_unknown = exprs[i]->unknown_literal;
    int rc = cast_to(b, &exprs[i], t);
    if (rc) return rc;
    if (was_unknown && t->id == SQL_TEXT) exprs[i]->unknown_literal = false;
  }
  *out = t;
  return 0;
}

static int bind_list(binder *b, scope *s, PgQuery__Node *const *nodes, size_t n, sql_expr ***out) {
  sql_expr **es = bz(b, n, sizeof *es);
  if (es == NULL) return oom(b);
  for (size_t i = 0; i < n; i++) {
    int rc = bind_expr(b, s, nodes[i], &es[i]);
    if (rc) return rc;
  }
  *out = es;
  return 0;
}

static const char *op_name(const PgQuery__AExpr *ax) {
  for (size_t i = 0; i < ax->n_name; i++) {
    const char *s = str_node(ax->name[i]);
    if (s && strcmp(s, "pg_catalog") != 0) return s;
  }
  return "?";
}

static int bind_subquery(binder *b, scope *s, const PgQuery__Node *sel, sql_plan **out,
                         bool *correlated) {
  if (sel == NULL || sel->node_case != PG_QUERY__NODE__NODE_SELECT_STMT)
    return tarn_err(b->err, TARN_EUNSUPPORTED, "unsupported subquery");
  agg_ctx *saved = b->agg;
  b->agg = NULL;
  int rc = bind_select(b, sel->select_stmt, s, out);
  b->agg = saved;
  *correlated = rc == 0 && b->last_correlated;
  return rc;
}

static int bind_a_expr(binder *b, scope *s, const PgQuery__AExpr *ax, sql_expr **out) {
  const char *op = op_name(ax);
  sql_expr *l = NULL, *r = NULL;
  int rc = 0;
  switch (ax->kind) {
  case PG_QUERY__A__EXPR__KIND__AEXPR_OP:
    if (ax->lexpr == NULL) { /* prefix operator */
      rc = bind_expr(b, s, ax->rexpr, &r);
      if (rc) return rc;
      if (strcmp(op, "+") == 0) {
        *out = r;
        return 0;
      }
      sql_expr *args[1] = {r};
      return make_func(b, op, args, 1, out);
    }
    rc = bind_expr(b, s, ax->lexpr, &l);
    if (rc == 0) rc = bind_expr(b, s, ax->rexpr, &r);
    if (rc) return rc;
    if (strcmp(op, "||") == 0) { /* text concatenation: unknown literals are text */
      if (l->unknown_literal) l->unknown_literal = false;
      if (r->unknown_literal) r->unknown_literal = false;
    }
    return make_binop(b, op, l, r, out);
  case PG_QUERY__A__EXPR__KIND__AEXPR_LIKE:
  case PG_QUERY__A__EXPR__KIND__AEXPR_ILIKE: {
    rc = bind_expr(b, s, ax->lexpr, &l);
    if (rc) return rc;
    sql_expr *pat = NULL, *esc = NULL;
    const PgQuery__Node *rn = ax->rexpr;
    /* LIKE ... ESCAPE parses as like_escape(pattern, escape). */
    if (rn && rn->node_case == PG_QUERY__NODE__NODE_FUNC_CALL && rn->func_call->n_args == 2 &&
        rn->func_call->n_funcname > 0 &&
        strcmp(str_node(rn->func_call->funcname[rn->func_call->n_funcname - 1])
                   ? str_node(rn->func_call->funcname[rn->func_call->n_funcname - 1])
                   : "",
               "like_escape") == 0) {
      rc = bind_expr(b, s, rn->func_call->args[0], &pat);
      if (rc == 0) rc = bind_expr(b, s, rn->func_call->args[1], &esc);
    } else {
      rc = bind_expr(b, s, rn, &pat);
    }
    if (rc) return rc;
    sql_expr *e = new_expr(b, SQL_E_LIKE, sql_type_get(SQL_BOOL));
    if (e == NULL || set_args(b, e, esc ? 3 : 2)) return oom(b);
    e->args[0] = l;
    e->args[1] = pat;
    if (esc) e->args[2] = esc;
    for (size_t i = 0; i < e->n_args; i++) {
      if (e->args[i]->type->id != SQL_TEXT) {
        if (e->args[i]->type->id == SQL_NULL) {
          rc = cast_to(b, &e->args[i], sql_type_get(SQL_TEXT));
          if (rc) return rc;
        } else {
          char tn[64];
          sql_type_name(e->args[i]->type, tn, sizeof tn);
          return tarn_err(b->err, TARN_EINVAL, "operator does not exist: %s ~~ text", tn);
        }
      }
      e->args[i]->unknown_literal = false;
    }
    e->case_insensitive = ax->kind == PG_QUERY__A__EXPR__KIND__AEXPR_ILIKE;
    e->negated = op[0] == '!';
    *out = fold(b, e);
    return 0;
  }
  case PG_QUERY__A__EXPR__KIND__AEXPR_IN: {
    if (ax->rexpr == NULL || ax->rexpr->node_case != PG_QUERY__NODE__NODE_LIST)
      return tarn_err(b->err, TARN_EUNSUPPORTED, "unsupported IN operand");
    const PgQuery__List *lst = ax->rexpr->list;
    sql_expr *e = new_expr(b, SQL_E_IN_LIST, sql_type_get(SQL_BOOL));
    if (e == NULL || set_args(b, e, lst->n_items + 1)) return oom(b);
    rc = bind_expr(b, s, ax->lexpr, &e->args[0]);
    for (size_t i = 0; rc == 0 && i < lst->n_items; i++)
      rc = bind_expr(b, s, lst->items[i], &e->args[i + 1]);
    if (rc) return rc;
    const sql_type *t;
    rc = unify_list(b, e->args, e->n_args, "IN", &t);
    if (rc) return rc;
    e->negated = strcmp(op, "<>") == 0;
    *out = fold(b, e);
    return 0;
  }
  case PG_QUERY__A__EXPR__KIND__AEXPR_BETWEEN:
  case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN:
  case PG_QUERY__A__EXPR__KIND__AEXPR_BETWEEN_SYM:
  case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN_SYM: {
    if (ax->rexpr == NULL || ax->rexpr->node_case != PG_QUERY__NODE__NODE_LIST ||
        ax->rexpr->list->n_items != 2)
      return tarn_err(b->err, TARN_EINVAL, "bad BETWEEN");
    sql_expr *x, *lo, *hi;
    rc = bind_expr(b, s, ax->lexpr, &x);
    if (rc == 0) rc = bind_expr(b, s, ax->rexpr->list->items[0], &lo);
    if (rc == 0) rc = bind_expr(b, s, ax->rexpr->list->items[1], &hi);
    if (rc) return rc;
    sql_expr *c1, *c2, *both;
    rc = make_binop(b, ">=", x, lo, &c1);
    if (rc == 0) rc = make_binop(b, "<=", x, hi, &c2);
    if (rc) return rc;
    sql_expr *args[2] = {c1, c2};
    rc = make_bool(b, SQL_E_AND, args, 2, &both);
    if (rc) return rc;
    if (ax->kind == PG_QUERY__A__EXPR__KIND__AEXPR_BETWEEN_SYM ||
        ax->kind == PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN_SYM) {
      sql_expr *d1 = NULL, *d2 = NULL, *both2 = NULL;
      rc = make_binop(b, ">=", x, hi, &d1);
      if (rc == 0) rc = make_binop(b, "<=", x, lo, &d2);
      sql_expr *a2[2] = {d1, d2};
      if (rc == 0) rc = make_bool(b, SQL_E_AND, a2, 2, &both2);
      sql_expr *a3[2] = {both, both2};
      if (rc == 0) rc = make_bool(b, SQL_E_OR, a3, 2, &both);
      if (rc) return rc;
    }
    if (ax->kind == PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN ||
        ax->kind == PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN_SYM) {
      sql_expr *a1[1] = {both};
      return make_bool(b, SQL_E_NOT, a1, 1, out);
    }
    *out = both;
    return 0;
  }
  case PG_QUERY__A__EXPR__KIND__AEXPR_DISTINCT:
  case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_DISTINCT: {
    rc = bind_expr(b, s, ax->lexpr, &l);
    if (rc == 0) rc = bind_expr(b, s, ax->rexpr, &r);
    if (rc) return rc;
    sql_expr *pair[2] = {l, r};
    const sql_type *t;
    rc = unify_list(b, pair, 2, "IS DISTINCT FROM", &t);
    if (rc) return rc;
    sql_expr *e = new_expr(b, SQL_E_IS_DISTINCT, sql_type_get(SQL_BOOL));
    if (e == NULL || set_args(b, e, 2)) return oom(b);
    e->args[0] = pair[0];
    e->args[1] = pair[1];
    e->negated = ax->kind == PG_QUERY__A__EXPR__KIND__AEXPR_NOT_DISTINCT;
    *out = fold(b, e);
    return 0;
  }
  case PG_QUERY__A__EXPR__KIND__AEXPR_NULLIF: {
    rc = bind_expr(b, s, ax->lexpr, &l);
    if (rc == 0) rc = bind_expr(b, s, ax->rexpr, &r);
    if (rc) return rc;
    sql_expr *pair[2] = {l, r};
    const sql_type *t;
    rc = unify_list(b, pair, 2, "NULLIF", &t);
    if (rc) return rc;
    sql_expr *e = new_expr(b, SQL_E_NULLIF, t);
    if (e == NULL || set_args(b, e, 2)) return oom(b);
    e->args[0] = pair[0];
    e->args[1] = pair[1];
    *out = fold(b, e);
    return 0;
  }
  case PG_QUERY__A__EXPR__KIND__AEXPR_OP_ANY:
  case PG_QUERY__A__EXPR__KIND__AEXPR_OP_ALL: {
    /* x = ANY(ARRAY[...]) -> IN list */
    if (ax->kind == PG_QUERY__A__EXPR__KIND__AEXPR_OP_ANY && strcmp(op, "=") == 0 && ax->rexpr &&
        ax->rexpr->node_case == PG_QUERY__NODE__NODE_A_ARRAY_EXPR) {
      const PgQuery__AArrayExpr *arr = ax->rexpr->a_array_expr;
      sql_expr *e = new_expr(b, SQL_E_IN_LIST, sql_type_get(SQL_BOOL));
      if (e == NULL || set_args(b, e, arr->n_elements + 1)) return oom(b);
      rc = bind_expr(b, s, ax->lexpr, &e->args[0]);
      for (size_t i = 0; rc == 0 && i < arr->n_elements; i++)
        rc = bind_expr(b, s, arr->elements[i], &e->args[i + 1]);
      const sql_type *t;
      if (rc == 0) rc = unify_list(b, e->args, e->n_args, "IN", &t);
      if (rc) return rc;
      *out = fold(b, e);
      return 0;
    }
    return tarn_err(b->err, TARN_EUNSUPPORTED, "%s ANY/ALL over an array is not supported", op);
  }
  case PG_QUERY__A__EXPR__KIND__AEXPR_SIMILAR:
    return tarn_err(b->err, TARN_EUNSUPPORTED, "SIMILAR TO is not supported");
  default: return tarn_err(b->err, TARN_EUNSUPPORTED, "unsupported operator expression");
  }
}

/* --- Aggregates and windows
 * ----------------------------------------------------------------------- */

static bool expr_equal(const sql_expr *a, const sql_expr *b) {
  if (a == b) return true;
  if (a == NULL || b == NULL || a->kind != b->kind || !sql_type_equal(a->type, b->type) ||
      a->n_args != b->n_args)
    return false;
  switch (a->kind) {
  case SQL_E_CONST:
    if (a->value.is_null != b->value.is_null) return false;
    if (a->value.is_null) return true;
    if (a->value.nested || b->value.nested) return false;
    return sql_value_compare(&a->value, &b->value) == 0;
  case SQL_E_COLUMN:
  case SQL_E_OUTER: return a->column_id == b->column_id;
  case SQL_E_FUNC:
    if (a->func != b->func &&
        (a->func == NULL || b->func == NULL || strcmp(a->func->name, b->func->name) != 0 ||
         a->func->op != b->func->op))
      return false;
    break;
  case SQL_E_SUBQUERY: return false;
  default: break;
  }
  if (a->negated != b->negated || a->case_insensitive != b->case_insensitive ||
      a->has_else != b->has_else || a->is_try != b->is_try || a->is_least != b->is_least ||
      a->field_index != b->field_index)
    return false;
  for (size_t i = 0; i < a->n_args; i++)
    if (!expr_equal(a->args[i], b->args[i])) return false;
  return true;
}

static sql_plan *ensure_agg(binder *b) {
  agg_ctx *g = b->agg;
  if (g->agg == NULL) {
    g->agg = sql_plan_new(b->env->pc, SQL_P_AGG);
  }
  return g->agg;
}

static int bind_sort_keys(binder *b, scope *s, PgQuery__Node *const *items, size_t n,
                          sql_sort_key **out) {
  sql_sort_key *keys = bz(b, n, sizeof *keys);
  if (keys == NULL) return oom(b);
  for (size_t i = 0; i < n; i++) {
    if (items[i]->node_case != PG_QUERY__NODE__NODE_SORT_BY)
      return tarn_err(b->err, TARN_EINVAL, "bad ORDER BY");
    const PgQuery__SortBy *sb = items[i]->sort_by;
    int rc = bind_expr(b, s, sb->node, &keys[i].expr);
    if (rc) return rc;
    if (keys[i].expr->unknown_literal) keys[i].expr->unknown_literal = false;
    keys[i].descending = sb->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_DESC;
    keys[i].nulls_first =
        sb->sortby_nulls == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_FIRST ||
        (sb->sortby_nulls != PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_LAST && keys[i].descending);
  }
  *out = keys;
  return 0;
}

static int bind_aggregate(binder *b, scope *s, const PgQuery__FuncCall *fc, const char *name,
                          sql_expr **out) {
  agg_ctx *g = b->agg;
  if (g == NULL || !g->allowed)
    return tarn_err(b->err, TARN_EINVAL, "aggregate functions are not allowed in %s (%s)",
                    g && g->clause ? g->clause : "this context", name);
  if (g->in_agg_arg)
    return tarn_err(b->err, TARN_EINVAL, "aggregate function calls cannot be nested");
  sql_agg_call call;
  memset(&call, 0, sizeof call);
  g->in_agg_arg = true;
  bool saved_windows = g->windows_allowed;
  g->windows_allowed = false;
  int rc = 0;
  size_t n = fc->agg_star ? 0 : fc->n_args;
  call.args = bz(b, n, sizeof *call.args);
  if (call.args == NULL) rc = oom(b);
  for (size_t i = 0; rc == 0 && i < n; i++) {
    rc = bind_expr(b, s, fc->args[i], &call.args[i]);
    if (rc == 0 && call.args[i]->unknown_literal) {
      rc = cast_to(b, &call.args[i], sql_type_get(SQL_TEXT));
      call.args[i]->unknown_literal = false;
    }
  }
  call.n_args = n;
  if (rc == 0 && fc->agg_filter) {
    rc = bind_expr(b, s, fc->agg_filter, &call.filter);
    if (rc == 0 && call.filter->type->id != SQL_BOOL)
      rc = tarn_err(b->err, TARN_EINVAL, "FILTER must be boolean");
  }
  if (rc == 0 && fc->n_agg_order)
    rc = bind_sort_keys(b, s, fc->agg_order, fc->n_agg_order, &call.order);
  call.n_order = fc->n_agg_order;
  g->in_agg_arg = false;
  g->windows_allowed = saved_windows;
  if (rc) return rc;
  const sql_type *types[8];
  if (n > 8) return tarn_err(b->err, TARN_EINVAL, "too many arguments to %s", name);
  for (size_t i = 0; i < n; i++)
    types[i] = call.args[i]->type;
  rc = sql_agg_resolve(b->a, name, types, n, fc->agg_distinct, &call.fn, &call.type, b->err);
  if (rc) return rc;
  call.distinct = fc->agg_distinct;
  sql_plan *agg = ensure_agg(b);
  if (agg == NULL) return oom(b);
  /* Identical calls share one column. */
  for (size_t i = 0; i < agg->n_aggs; i++) {
    const sql_agg_call *o = &agg->aggs[i];
    bool same = o->fn == call.fn && o->n_args == call.n_args && o->distinct == call.distinct &&
                o->n_order == 0 && call.n_order == 0 && sql_type_equal(o->type, call.type) &&
                ((o->filter == NULL && call.filter == NULL) || expr_equal(o->filter, call.filter));
    for (size_t j = 0; same && j < n; j++)
      same = expr_equal(o->args[j], call.args[j]);
    if (same) {
      *out = col_ref(b, o->out_id, o->type);
      return *out ? 0 : oom(b);
    }
  }
  if (agg->n_aggs == g->cap_aggs) {
    size_t cap = g->cap_aggs ? g->cap_aggs * 2 : 8;
    sql_agg_call *na = bz(b, cap, sizeof *na);
    if (na == NULL) return oom(b);
    if (agg->n_aggs) memcpy(na, agg->aggs, agg->n_aggs * sizeof *na);
    agg->aggs = na;
    g->cap_aggs = cap;
  }
  call.out_id = sql_plan_new_id(b->env->pc);
  agg->aggs[agg->n_aggs++] = call;
  *out = col_ref(b, call.out_id, call.type);
  return *out ? 0 : oom(b);
}

/* Named windows of the SELECT being bound (WINDOW w AS (...)). Thread-local: binding is
 * single-threaded per statement, but several engines may bind at once. */
static _Thread_local PgQuery__Node **g_window_clause;
static _Thread_local size_t g_n_window_clause;

static const PgQuery__WindowDef *find_window(const char *name) {
  for (size_t i = 0; i < g_n_window_clause; i++) {
    const PgQuery__Node *n = g_window_clause[i];
    if (n->node_case == PG_QUERY__NODE__NODE_WINDOW_DEF && n->window_def->name &&
        strcmp(n->window_def->name, name) == 0)
      return n->window_def;
  }
  return NULL;
}

enum {
  FO_NONDEFAULT = 0x1,
  FO_RANGE = 0x2,
  FO_ROWS = 0x4,
  FO_GROUPS = 0x8,
  FO_START_UNBOUNDED_PRECEDING = 0x20,
  FO_END_UNBOUNDED_PRECEDING = 0x40,
  FO_START_UNBOUNDED_FOLLOWING = 0x80,
  FO_END_UNBOUNDED_FOLLOWING = 0x100,
  FO_START_CURRENT_ROW = 0x200,
  FO_END_CURRENT_ROW = 0x400,
  FO_START_OFFSET_PRECEDING = 0x800,
  FO_END_OFFSET_PRECEDING = 0x1000,
  FO_START_OFFSET_FOLLOWING = 0x2000,
  FO_END_OFFSET_FOLLOWING = 0x4000
};

static int frame_offset(binder *b, scope *s, const PgQuery__Node *n, int64_t *out) {
  sql_expr *e;
  int rc = bind_expr(b, s, n, &e);
  if (rc) return rc;
  if (e->kind != SQL_E_CONST || !sql_type_is_integer(e->type->id) || e->value.is_null ||
      e->value.u.i64 < 0)
    return tarn_err(b->err, TARN_EUNSUPPORTED,
                    "window frame offsets must be non-negative integer constants");
  *out = e->value.u.i64;
  return 0;
}

/* The bound value of a RANGE frame: key - offset for PRECEDING (key + offset when descending),
 * key + offset for FOLLOWING, in the key's type. */
static int range_bound(binder *b, scope *s, const PgQuery__Node *n, const sql_sort_key *key,
                       bool preceding, sql_expr **out) {
  sql_expr *off;
  int rc = bind_expr(b, s, n, &off);
  if (rc) return rc;
  if (off->kind != SQL_E_CONST || off->value.is_null)
    return tarn_err(b->err, TARN_EUNSUPPORTED, "RANGE frame offsets must be constants");
  bool minus = preceding != key->descending;
  sql_expr *e;
  rc = make_binop(b, minus ? "-" : "+", key->expr, off, &e);
  if (rc) return rc;
  if (!sql_type_equal(e->type, key->expr->type)) rc = cast_to(b, &e, key->expr->type);
  if (rc == 0) *out = e;
  return rc;
}

static int bind_window(binder *b, scope *s, const PgQuery__FuncCall *fc, const char *name,
                       sql_expr **out) {
  agg_ctx *g = b->agg;
  if (g == NULL || !g->windows_allowed)
    return tarn_err(b->err, TARN_EINVAL, "window functions are not allowed in %s (%s)",
                    g && g->clause ? g->clause : "this context", name);
  sql_window_call w;
  memset(&w, 0, sizeof w);
  static const struct {
    const char *name;
    sql_win_fn fn;
  } fns[] = {{"row_number", SQL_WIN_ROW_NUMBER},
             {"rank", SQL_WIN_RANK},
             {"dense_rank", SQL_WIN_DENSE_RANK},
             {"percent_rank", SQL_WIN_PERCENT_RANK},
             {"cume_dist", SQL_WIN_CUME_DIST},
             {"ntile", SQL_WIN_NTILE},
             {"lag", SQL_WIN_LAG},
             {"lead", SQL_WIN_LEAD},
             {"first_value", SQL_WIN_FIRST_VALUE},
             {"last_value", SQL_WIN_LAST_VALUE}};
  bool found = false;
  for (size_t i = 0; i < sizeof fns / sizeof *fns; i++)
    if (strcmp(fns[i].name, name) == 0) {
      w.fn = fns[i].fn;
      found = true;
    }
  int rc = 0;
  g->windows_allowed = false;
  size_t n = fc->agg_star ? 0 : fc->n_args;
  w.agg.args = bz(b, n, sizeof *w.agg.args);
  if (w.agg.args == NULL) rc = oom(b);
  for (size_t i = 0; rc == 0 && i < n; i++)
    rc = bind_expr(b, s, fc->args[i], &w.agg.args[i]);
  w.agg.n_args = n;
  if (rc == 0 && fc->agg_filter) rc = bind_expr(b, s, fc->agg_filter, &w.agg.filter);
  g->windows_allowed = true;
  if (rc) return rc;
  if (!found) {
    if (!sql_func_is_aggregate(name))
      return tarn_err(b->err, TARN_EINVAL, "function %s is not a window function", name);
    w.fn = SQL_WIN_AGG;
    const sql_type *types[8];
    if (n > 8) return tarn_err(b->err, TARN_EINVAL, "too many arguments");
    for (size_t i = 0; i < n; i++)
      types[i] = w.agg.args[i]->type;
    rc = sql_agg_resolve(b->a, name, types, n, fc->agg_distinct, &w.agg.fn, &w.type, b->err);
    if (rc) return rc;
    w.agg.type = w.type;
    if (fc->agg_distinct)
      return tarn_err(b->err, TARN_EUNSUPPORTED,
                      "DISTINCT is not implemented for window functions");
  } else {
    switch (w.fn) {
    case SQL_WIN_ROW_NUMBER:
    case SQL_WIN_RANK:
    case SQL_WIN_DENSE_RANK:
    case SQL_WIN_NTILE: w.type = sql_type_get(SQL_INT8); break;
    case SQL_WIN_PERCENT_RANK:
    case SQL_WIN_CUME_DIST: w.type = sql_type_get(SQL_FLOAT8); break;
    default:
      if (n < 1) return tarn_err(b->err, TARN_EINVAL, "function %s needs an argument", name);
      if (w.agg.args[0]->unknown_literal) {
        rc = cast_to(b, &w.agg.args[0], sql_type_get(SQL_TEXT));
        if (rc) return rc;
      }
      w.type = w.agg.args[0]->type;
      if ((w.fn == SQL_WIN_LAG || w.fn == SQL_WIN_LEAD) && n >= 2) {
        rc = cast_to(b, &w.agg.args[1], sql_type_get(SQL_INT8));
        if (rc == 0 && n >= 3) rc = cast_to(b, &w.agg.args[2], w.type);
        if (rc) return rc;
      }
    }
    if (w.fn == SQL_WIN_NTILE) {
      if (n != 1) return tarn_err(b->err, TARN_EINVAL, "ntile needs one argument");
      rc = cast_to(b, &w.agg.args[0], sql_type_get(SQL_INT8));
      if (rc) return rc;
    }
  }
  /* The window definition, possibly through a named window. */
  const PgQuery__WindowDef *wd = fc->over;
  const PgQuery__WindowDef *base = NULL;
  if (wd->name && *wd->name)
    base = find_window(wd->name);
  else if (wd->refname && *wd->refname)
    base = find_window(wd->refname);
  if ((wd->name && *wd->name && base == NULL) || (wd->refname && *wd->refname && base == NULL))
    return tarn_err(b->err, TARN_EINVAL, "window \"%s\" does not exist",
                    wd->name && *wd->name ? wd->name : wd->refname);
  const PgQuery__WindowDef *part_def = wd->n_partition_clause ? wd : base ? base : wd;
  const PgQuery__WindowDef *order_def = wd->n_order_clause ? wd : base ? base : wd;
  const PgQuery__WindowDef *frame_def = (wd->frame_options & FO_NONDEFAULT) ? wd : base ? base : wd;
  g->windows_allowed = false;
  w.n_partition = part_def->n_partition_clause;
  w.partition = bz(b, w.n_partition, sizeof *w.partition);
  if (w.partition == NULL) rc = oom(b);
  for (size_t i = 0; rc == 0 && i < w.n_partition; i++)
    rc = bind_expr(b, s, part_def->partition_clause[i], &w.partition[i]);
  if (rc == 0 && order_def->n_order_clause)
    rc = bind_sort_keys(b, s, order_def->order_clause, order_def->n_order_clause, &w.order);
  w.n_order = order_def->n_order_clause;
  int fo = frame_def->frame_options;
  if (rc == 0 && (fo & FO_NONDEFAULT)) {
    w.has_frame = true;
    w.frame_rows = (fo & FO_ROWS) != 0;
    if (fo & FO_GROUPS) rc = tarn_err(b->err, TARN_EUNSUPPORTED, "GROUPS frames are not supported");
    w.start = fo & FO_START_UNBOUNDED_PRECEDING ? SQL_FRAME_UNBOUNDED_PRECEDING
              : fo & FO_START_CURRENT_ROW       ? SQL_FRAME_CURRENT_ROW
              : fo & FO_START_OFFSET_PRECEDING  ? SQL_FRAME_PRECEDING
              : fo & FO_START_OFFSET_FOLLOWING  ? SQL_FRAME_FOLLOWING
                                                : SQL_FRAME_UNBOUNDED_FOLLOWING;
    w.end = fo & FO_END_UNBOUNDED_FOLLOWING   ? SQL_FRAME_UNBOUNDED_FOLLOWING
            : fo & FO_END_OFFSET_PRECEDING    ? SQL_FRAME_PRECEDING
            : fo & FO_END_OFFSET_FOLLOWING    ? SQL_FRAME_FOLLOWING
            : fo & FO_END_UNBOUNDED_PRECEDING ? SQL_FRAME_UNBOUNDED_PRECEDING
                                              : SQL_FRAME_CURRENT_ROW;
    bool off_start = w.start == SQL_FRAME_PRECEDING || w.start == SQL_FRAME_FOLLOWING;
    bool off_end = w.end == SQL_FRAME_PRECEDING || w.end == SQL_FRAME_FOLLOWING;
    if (w.frame_rows) {
      if (rc == 0 && off_start) rc = frame_offset(b, s, frame_def->start_offset, &w.start_offset);
      if (rc == 0 && off_end) rc = frame_offset(b, s, frame_def->end_offset, &w.end_offset);
    } else {
      /* RANGE offsets: the frame bound of a row is its ORDER BY value moved by the offset. */
      if (rc == 0 && (off_start || off_end) && w.n_order != 1)
        rc = tarn_err(b->err, TARN_EINVAL,
                      "RANGE with offset PRECEDING/FOLLOWING requires exactly one ORDER BY column");
      if (rc == 0 && off_start)
        rc = range_bound(b, s, frame_def->start_offset, &w.order[0], w.start == SQL_FRAME_PRECEDING,
                         &w.range_start);
      if (rc == 0 && off_end)
        rc = range_bound(b, s, frame_def->end_offset, &w.order[0], w.end == SQL_FRAME_PRECEDING,
                         &w.range_end);
    }
  }
  g->windows_allowed = true;
  if (rc) return rc;
  if (g->window == NULL) {
    g->window = sql_plan_new(b->env->pc, SQL_P_WINDOW);
    if (g->window == NULL) return oom(b);
  }
  sql_plan *wp = g->window;
  if (wp->n_windows == g->cap_windows) {
    size_t cap = g->cap_windows ? g->cap_windows * 2 : 4;
    sql_window_call *nw = bz(b, cap, sizeof *nw);
    if (nw == NULL) return oom(b);
    if (wp->n_windows) memcpy(nw, wp->windows, wp->n_windows * sizeof *nw);
    wp->windows = nw;
    g->cap_windows = cap;
  }
  w.out_id = sql_plan_new_id(b->env->pc);
  wp->windows[wp->n_windows++] = w;
  *out = col_ref(b, w.out_id, w.type);
  return *out ? 0 : oom(b);
}

/* --- Function calls and the remaining expression forms ------------------------------------------
 */

static int bind_func_call(binder *b, scope *s, const PgQuery__FuncCall *fc, sql_expr **out) {
  const char *name = NULL;
  for (size_t i = 0; i < fc->n_funcname; i++) {
    const char *p = str_node(fc->funcname[i]);
    if (p && strcmp(p, "pg_catalog") != 0) name = p;
  }
  if (name == NULL) return tarn_err(b->err, TARN_EINVAL, "bad function name");
  char lname[64];
  snprintf(lname, sizeof lname, "%s", name);
  for (char *p = lname; *p; p++)
    *p = (char)tolower((unsigned char)*p);
  if (fc->over) return bind_window(b, s, fc, lname, out);
  if (sql_func_is_aggregate(lname) || fc->agg_star) return bind_aggregate(b, s, fc, lname, out);
  if (fc->agg_distinct || fc->n_agg_order || fc->agg_filter)
    return tarn_err(b->err, TARN_EINVAL, "%s is not an aggregate function", lname);
  if (strcmp(lname, "read_parquet") == 0 || strcmp(lname, "parquet_scan") == 0)
    return tarn_err(b->err, TARN_EINVAL, "%s is a table function: use it in FROM", lname);
  sql_expr **args = NULL;
  int rc = bind_list(b, s, fc->args, fc->n_args, &args);
  if (rc) return rc;
  if (strcmp(lname, "coalesce") == 0 || strcmp(lname, "ifnull") == 0) {
    sql_expr *e = new_expr(b, SQL_E_COALESCE, NULL);
    if (e == NULL) return oom(b);
    e->args = args;
    e->n_args = fc->n_args;
    rc = unify_list(b, e->args, e->n_args, "COALESCE", &e->type);
    if (rc) return rc;
    *out = fold(b, e);
    return 0;
  }
  /* Text-typed unknown literals are plain text arguments to functions. */
  for (size_t i = 0; i < fc->n_args; i++)
    if (args[i]->unknown_literal) {
      /* date_part('year', x) / extract: the field stays text; other unknowns become text too. */
      args[i]->unknown_literal = false;
    }
  return make_func(b, lname, args, fc->n_args, out);
}

static int bind_case(binder *b, scope *s, const PgQuery__CaseExpr *ce, sql_expr **out) {
  sql_expr *arg = NULL;
  int rc = 0;
  if (ce->arg) rc = bind_expr(b, s, ce->arg, &arg);
  if (rc) return rc;
  size_t n = ce->n_args * 2 + (ce->defresult ? 1 : 0);
  sql_expr *e = new_expr(b, SQL_E_CASE, NULL);
  if (e == NULL || set_args(b, e, n)) return oom(b);
  sql_expr **results = bz(b, ce->n_args + 1, sizeof *results);
  if (results == NULL) return oom(b);
  size_t n_res = 0;
  for (size_t i = 0; i < ce->n_args; i++) {
    const PgQuery__CaseWhen *cw = ce->args[i]->case_when;
    sql_expr *cond, *res;
    rc = bind_expr(b, s, cw->expr, &cond);
    if (rc == 0 && arg) rc = make_binop(b, "=", arg, cond, &cond);
    if (rc == 0 && cond->type->id != SQL_BOOL) {
      if (cond->type->id == SQL_NULL || cond->unknown_literal)
        rc = cast_to(b, &cond, sql_type_get(SQL_BOOL));
      else
        rc = tarn_err(b->err, TARN_EINVAL, "argument of CASE/WHEN must be type boolean");
    }
    if (rc == 0) rc = bind_expr(b, s, cw->result, &res);
    if (rc) return rc;
    e->args[2 * i] = cond;
    results[n_res++] = res;
  }
  if (ce->defresult) {
    rc = bind_expr(b, s, ce->defresult, &results[n_res++]);
    if (rc) return rc;
    e->has_else = true;
  }
  const sql_type *t;
  rc = unify_list(b, results, n_res, "CASE", &t);
  if (rc) return rc;
  for (size_t i = 0; i < ce->n_args; i++)
    e->args[2 * i + 1] = results[i];
  if (ce->defresult) e->args[n - 1] = results[n_res - 1];
  e->type = t;
  *out = fold(b, e);
  return 0;
}

static sql_plan *make_project(binder *b, sql_plan *child, sql_expr **exprs, const char **names,
                              size_t n);

/* The two sides of a row-valued IN: the row's fields and the subquery's columns cast to common
 * types and packed into structs of the same type, so the comparison is one struct equality. */
static int bind_row_in(binder *b, scope *s, const PgQuery__RowExpr *re, sql_plan **plan,
                       sql_expr **out) {
  sql_plan *p = *plan;
  size_t n = p->n_out;
  sql_expr *row = new_expr(b, SQL_E_ROW, NULL);
  if (row == NULL || set_args(b, row, n)) return oom(b);
  sql_expr **cols = bz(b, n, sizeof *cols);
  sql_field *fields = bz(b, n, sizeof *fields);
  if (cols == NULL || fields == NULL) return oom(b);
  for (size_t i = 0; i < n; i++) {
    int rc = bind_expr(b, s, re->args[i], &row->args[i]);
    if (rc) return rc;
    cols[i] = col_ref(b, p->out_ids[i], p->out_types[i]);
    if (cols[i] == NULL) return oom(b);
    sql_expr *pair[2] = {row->args[i], cols[i]};
    const sql_type *t;
    rc = unify_list(b, pair, 2, "IN", &t);
    if (rc) return rc;
    row->args[i] = pair[0];
    cols[i] = pair[1];
    char nm[32];
    snprintf(nm, sizeof nm, "f%zu", i + 1);
    fields[i].name = bstrdup(b, nm);
    fields[i].type = t;
  }
  const sql_type *st = sql_type_struct(b->a, fields, n);
  if (st == NULL) return oom(b);
  row->type = st;
  sql_expr *packed = new_expr(b, SQL_E_ROW, st);
  if (packed == NULL) return oom(b);
  packed->args = cols;
  packed->n_args = n;
  const char *name = "row";
  sql_plan *proj = make_project(b, p, &packed, &name, 1);
  if (proj == NULL) return oom(b);
  *plan = proj;
  *out = row;
  return 0;
}

static int bind_sublink(binder *b, scope *s, const PgQuery__SubLink *sl, sql_expr **out) {
  sql_plan *plan;
  bool correlated = false;
  int rc = bind_subquery(b, s, sl->subselect, &plan, &correlated);
  if (rc) return rc;
  sql_expr *e = new_expr(b, SQL_E_SUBQUERY, sql_type_get(SQL_BOOL));
  if (e == NULL) return oom(b);
  e->subquery = plan;
  e->correlated = correlated;
  switch (sl->sub_link_type) {
  case PG_QUERY__SUB_LINK_TYPE__EXISTS_SUBLINK: e->sub_kind = SQL_SUB_EXISTS; break;
  case PG_QUERY__SUB_LINK_TYPE__EXPR_SUBLINK:
    if (plan->n_out != 1)
      return tarn_err(b->err, TARN_EINVAL, "subquery must return only one column");
    e->sub_kind = SQL_SUB_SCALAR;
    e->type = plan->out_types[0];
    break;
  case PG_QUERY__SUB_LINK_TYPE__ANY_SUBLINK:
  case PG_QUERY__SUB_LINK_TYPE__ALL_SUBLINK: {
    const char *op = sl->n_oper_name ? str_node(sl->oper_name[sl->n_oper_name - 1]) : "=";
    if (op == NULL) op = "=";
    sql_expr *l;
    if (sl->testexpr && sl->testexpr->node_case == PG_QUERY__NODE__NODE_ROW_EXPR &&
        sl->testexpr->row_expr->n_args == plan->n_out && plan->n_out > 1) {
      /* (a, b) IN (SELECT x, y ...): both sides become structs of the common field types. */
      rc = bind_row_in(b, s, sl->testexpr->row_expr, &plan, &l);
      if (rc) return rc;
      e->subquery = plan;
    } else {
      if (plan->n_out != 1) return tarn_err(b->err, TARN_EINVAL, "subquery has too many columns");
      rc = bind_expr(b, s, sl->testexpr, &l);
      if (rc) return rc;
    }
    const sql_type *rt = plan->out_types[0];
    if (l->unknown_literal) {
      rc = cast_to(b, &l, rt);
      if (rc) return rc;
    }
    const sql_type *types[2] = {l->type, rt};
    const sql_type *casts[2] = {0};
    const sql_func *f;
    rc = sql_func_resolve(b->a, op, types, 2, &f, casts, b->err);
    if (rc) return rc;
    if (casts[0]) {
      rc = cast_to(b, &l, casts[0]);
      if (rc) return rc;
    }
    if (casts[1] && !sql_type_equal(casts[1], rt)) {
      /* Cast the subquery's column: wrap its plan in a projection. */
      sql_plan *pr = sql_plan_new(b->env->pc, SQL_P_PROJECT);
      if (pr == NULL || sql_plan_alloc_out(b->env->pc, pr, 1)) return oom(b);
      pr->child[0] = plan;
      pr->exprs = bz(b, 1, sizeof *pr->exprs);
      if (pr->exprs == NULL) return oom(b);
      pr->n_exprs = 1;
      pr->exprs[0] = col_ref(b, plan->out_ids[0], rt);
      rc = cast_to(b, &pr->exprs[0], casts[1]);
      if (rc) return rc;
      pr->out_ids[0] = sql_plan_new_id(b->env->pc);
      pr->out_names[0] = plan->out_names[0];
      pr->out_types[0] = casts[1];
      plan = pr;
      e->subquery = plan;
    }
    bool is_in = sl->sub_link_type == PG_QUERY__SUB_LINK_TYPE__ANY_SUBLINK && strcmp(op, "=") == 0;
    e->sub_kind = is_in                                                       ? SQL_SUB_IN
                  : sl->sub_link_type == PG_QUERY__SUB_LINK_TYPE__ANY_SUBLINK ? SQL_SUB_ANY
                                                                              : SQL_SUB_ALL;
    e->func = f;
    if (set_args(b, e, 1)) return oom(b);
    e->args[0] = l;
    break;
  }
  default: return tarn_err(b->err, TARN_EUNSUPPORTED, "unsupported kind of subquery");
  }
  *out = e;
  return 0;
}

static int bind_indirection(binder *b, scope *s, const PgQuery__AIndirection *ind, sql_expr **out) {
  sql_expr *e;
  int rc = bind_expr(b, s, ind->arg, &e);
  for (size_t i = 0; rc == 0 && i < ind->n_indirection; i++) {
    const PgQuery__Node *n = ind->indirection[i];
    if (n->node_case == PG_QUERY__NODE__NODE_A_INDICES) {
      const PgQuery__AIndices *ix = n->a_indices;
      if (ix->is_slice || ix->uidx == NULL)
        return tarn_err(b->err, TARN_EUNSUPPORTED, "array slices are not supported");
      sql_expr *k;
      rc = bind_expr(b, s, ix->uidx, &k);
      if (rc) return rc;
      const sql_type *rt;
      if (e->type->id == SQL_LIST) {
        rt = e->type->elem;
        rc = cast_to(b, &k, sql_type_get(SQL_INT8));
      } else if (e->type->id == SQL_MAP) {
        rt = e->type->elem->fields[1].type;
        rc = cast_to(b, &k, e->type->elem->fields[0].type);
      } else {
        return tarn_err(b->err, TARN_EINVAL,
                        "cannot subscript a value that is not an array or map");
      }
      if (rc) return rc;
      sql_expr *sub = new_expr(b, SQL_E_SUBSCRIPT, rt);
      if (sub == NULL || set_args(b, sub, 2)) return oom(b);
      sub->args[0] = e;
      sub->args[1] = k;
      e = fold(b, sub);
    } else if (n->node_case == PG_QUERY__NODE__NODE_STRING) {
      if (e->type->id != SQL_STRUCT)
        return tarn_err(b->err, TARN_EINVAL, "field selection on a value that is not a struct");
      const char *fname = n->string->sval;
      bool found = false;
      for (size_t f = 0; f < e->type->n_fields; f++)
        if (strcmp(e->type->fields[f].name, fname) == 0) {
          sql_expr *fe = new_expr(b, SQL_E_STRUCT_FIELD, e->type->fields[f].type);
          if (fe == NULL || set_args(b, fe, 1)) return oom(b);
          fe->args[0] = e;
          fe->field_index = (int)f;
          e = fe;
          found = true;
          break;
        }
      if (!found)
        return tarn_err(b->err, TARN_EINVAL, "column \"%s\" not found in data type", fname);
    } else {
      return tarn_err(b->err, TARN_EUNSUPPORTED, "unsupported indirection");
    }
  }
  if (rc == 0) *out = e;
  return rc;
}

static int bind_expr(binder *b, scope *s, const PgQuery__Node *n, sql_expr **out) {
  if (n == NULL) return tarn_err(b->err, TARN_EINVAL, "missing expression");
  int rc;
  switch (n->node_case) {
  case PG_QUERY__NODE__NODE_COLUMN_REF: return bind_column_ref(b, s, n->column_ref, out);
  case PG_QUERY__NODE__NODE_A_CONST: return bind_const(b, n->a_const, out);
  case PG_QUERY__NODE__NODE_A_EXPR: return bind_a_expr(b, s, n->a_expr, out);
  case PG_QUERY__NODE__NODE_BOOL_EXPR: {
    const PgQuery__BoolExpr *be = n->bool_expr;
    sql_expr **args = NULL;
    rc = bind_list(b, s, be->args, be->n_args, &args);
    if (rc) return rc;
    sql_expr_kind k = be->boolop == PG_QUERY__BOOL_EXPR_TYPE__AND_EXPR  ? SQL_E_AND
                      : be->boolop == PG_QUERY__BOOL_EXPR_TYPE__OR_EXPR ? SQL_E_OR
                                                                        : SQL_E_NOT;
    return make_bool(b, k, args, be->n_args, out);
  }
  case PG_QUERY__NODE__NODE_FUNC_CALL: return bind_func_call(b, s, n->func_call, out);
  case PG_QUERY__NODE__NODE_TYPE_CAST: {
    sql_expr *e = NULL;
    const sql_type *t = NULL;
    rc = bind_expr(b, s, n->type_cast->arg, &e);
    if (rc == 0) rc = bind_type_name(b, n->type_cast->type_name, &t);
    if (rc) return rc;
    if (sql_type_equal(e->type, t) && !e->unknown_literal) {
      *out = e;
      return 0;
    }
    if (e->unknown_literal || (e->kind == SQL_E_CONST && e->value.is_null)) {
      rc = cast_to(b, &e, t);
      if (rc == 0) e->unknown_literal = false;
      *out = e;
      return rc;
    }
    sql_expr *c = new_expr(b, SQL_E_CAST, t);
    if (c == NULL || set_args(b, c, 1)) return oom(b);
    c->args[0] = e;
    *out = fold(b, c);
    return 0;
  }
  case PG_QUERY__NODE__NODE_CASE_EXPR: return bind_case(b, s, n->case_expr, out);
  case PG_QUERY__NODE__NODE_NULL_TEST: {
    sql_expr *e = new_expr(b, SQL_E_IS_NULL, sql_type_get(SQL_BOOL));
    if (e == NULL || set_args(b, e, 1)) return oom(b);
    rc = bind_expr(b, s, n->null_test->arg, &e->args[0]);
    if (rc) return rc;
    if (e->args[0]->unknown_literal) e->args[0]->unknown_literal = false;
    e->negated = n->null_test->nulltesttype == PG_QUERY__NULL_TEST_TYPE__IS_NOT_NULL;
    *out = fold(b, e);
    return 0;
  }
  case PG_QUERY__NODE__NODE_BOOLEAN_TEST: {
    sql_expr *x;
    rc = bind_expr(b, s, n->boolean_test->arg, &x);
    if (rc == 0) rc = cast_to(b, &x, sql_type_get(SQL_BOOL));
    if (rc) return rc;
    sql_expr *e = new_expr(b, SQL_E_IS_DISTINCT, sql_type_get(SQL_BOOL));
    if (e == NULL || set_args(b, e, 2)) return oom(b);
    e->args[0] = x;
    PgQuery__BoolTestType bt = n->boolean_test->booltesttype;
    sql_expr *k;
    if (bt == PG_QUERY__BOOL_TEST_TYPE__IS_UNKNOWN ||
        bt == PG_QUERY__BOOL_TEST_TYPE__IS_NOT_UNKNOWN) {
      k = new_expr(b, SQL_E_CONST, sql_type_get(SQL_BOOL));
      if (k == NULL) return oom(b);
      k->value.type = k->type;
      k->value.is_null = true;
    } else {
      k = new_expr(b, SQL_E_CONST, sql_type_get(SQL_BOOL));
      if (k == NULL) return oom(b);
      k->value.type = k->type;
      k->value.u.b =
          bt == PG_QUERY__BOOL_TEST_TYPE__IS_TRUE || bt == PG_QUERY__BOOL_TEST_TYPE__IS_NOT_TRUE;
    }
    e->args[1] = k;
    /* IS TRUE = IS NOT DISTINCT FROM true; IS NOT TRUE = IS DISTINCT FROM true. */
    e->negated = bt == PG_QUERY__BOOL_TEST_TYPE__IS_TRUE ||
                 bt == PG_QUERY__BOOL_TEST_TYPE__IS_FALSE ||
                 bt == PG_QUERY__BOOL_TEST_TYPE__IS_UNKNOWN;
    *out = fold(b, e);
    return 0;
  }
  case PG_QUERY__NODE__NODE_SUB_LINK: return bind_sublink(b, s, n->sub_link, out);
  case PG_QUERY__NODE__NODE_COALESCE_EXPR: {
    sql_expr *e = new_expr(b, SQL_E_COALESCE, NULL);
    if (e == NULL) return oom(b);
    rc = bind_list(b, s, n->coalesce_expr->args, n->coalesce_expr->n_args, &e->args);
    e->n_args = n->coalesce_expr->n_args;
    if (rc == 0) rc = unify_list(b, e->args, e->n_args, "COALESCE", &e->type);
    if (rc) return rc;
    *out = fold(b, e);
    return 0;
  }
  case PG_QUERY__NODE__NODE_MIN_MAX_EXPR: {
    sql_expr *e = new_expr(b, SQL_E_GREATEST, NULL);
    if (e == NULL) return oom(b);
    rc = bind_list(b, s, n->min_max_expr->args, n->min_max_expr->n_args, &e->args);
    e->n_args = n->min_max_expr->n_args;
    if (rc == 0)
      rc = unify_list(b, e->args, e->n_args,
                      n->min_max_expr->op == PG_QUERY__MIN_MAX_OP__IS_LEAST ? "LEAST" : "GREATEST",
                      &e->type);
    if (rc) return rc;
    e->is_least = n->min_max_expr->op == PG_QUERY__MIN_MAX_OP__IS_LEAST;
    *out = fold(b, e);
    return 0;
  }
  case PG_QUERY__NODE__NODE_SQLVALUE_FUNCTION: {
    const char *fn;
    switch (n->sqlvalue_function->op) {
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_DATE: fn = "current_date"; break;
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIMESTAMP:
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIMESTAMP_N: fn = "now"; break;
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIMESTAMP:
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIMESTAMP_N: fn = "localtimestamp"; break;
    default: return tarn_err(b->err, TARN_EUNSUPPORTED, "unsupported SQL value function");
    }
    return make_func(b, fn, NULL, 0, out);
  }
  case PG_QUERY__NODE__NODE_A_ARRAY_EXPR: {
    const PgQuery__AArrayExpr *ae = n->a_array_expr;
    sql_expr *e = new_expr(b, SQL_E_ARRAY, NULL);
    if (e == NULL) return oom(b);
    rc = bind_list(b, s, ae->elements, ae->n_elements, &e->args);
    e->n_args = ae->n_elements;
    const sql_type *t;
    if (rc == 0) rc = unify_list(b, e->args, e->n_args, "ARRAY", &t);
    if (rc) return rc;
    e->type = sql_type_list(b->a, t);
    if (e->type == NULL) return oom(b);
    *out = fold(b, e);
    return 0;
  }
  case PG_QUERY__NODE__NODE_ROW_EXPR: {
    const PgQuery__RowExpr *re = n->row_expr;
    sql_expr *e = new_expr(b, SQL_E_ROW, NULL);
    if (e == NULL) return oom(b);
    rc = bind_list(b, s, re->args, re->n_args, &e->args);
    if (rc) return rc;
    e->n_args = re->n_args;
    sql_field *fields = bz(b, re->n_args, sizeof *fields);
    if (fields == NULL) return oom(b);
    for (size_t i = 0; i < re->n_args; i++) {
      if (e->args[i]->unknown_literal) e->args[i]->unknown_literal = false;
      char nm[32];
      snprintf(nm, sizeof nm, "f%zu", i + 1);
      fields[i].name = bstrdup(b, nm);
      fields[i].type = e->args[i]->type;
    }
    e->type = sql_type_struct(b->a, fields, re->n_args);
    if (e->type == NULL) return oom(b);
    *out = e;
    return 0;
  }
  case PG_QUERY__NODE__NODE_A_INDIRECTION: return bind_indirection(b, s, n->a_indirection, out);
  case PG_QUERY__NODE__NODE_COLLATE_CLAUSE: return bind_expr(b, s, n->collate_clause->arg, out);
  case PG_QUERY__NODE__NODE_PARAM_REF:
    return tarn_err(b->err, TARN_EUNSUPPORTED, "parameters ($%d) are not supported",
                    n->param_ref->number);
  default:
    return tarn_err(b->err, TARN_EUNSUPPORTED, "unsupported expression (parse node %d)",
                    (int)n->node_case);
  }
}

/* --- FROM
 * ------------------------------------------------------------------------------------------ */

static int bind_from_item(binder *b, scope *outer, const PgQuery__Node *n, sql_plan **plan,
                          scope *s);

/* A scan of every column of src, named by alias. */
static int scan_plan(binder *b, sql_source *src, const char *alias, sql_plan **plan, scope *s) {
  sql_plan *p = sql_plan_new(b->env->pc, SQL_P_SCAN);
  if (p == NULL || sql_plan_alloc_out(b->env->pc, p, src->n_cols)) return oom(b);
  p->source = src;
  p->source_cols = bz(b, src->n_cols, sizeof *p->source_cols);
  if (p->source_cols == NULL) return oom(b);
  double rows = 0;
  for (size_t i = 0; i < src->n_files; i++) {
    const sql_source_file *f = &src->files[i];
    if (f->n_rows >= 0)
      rows += (double)f->n_rows;
    else if (src->files[0].n_rows > 0 && src->files[0].size_bytes > 0 && f->size_bytes > 0)
      rows +=
          (double)src->files[0].n_rows * (double)f->size_bytes / (double)src->files[0].size_bytes;
    else
      rows += 1000;
  }
  p->est_rows = rows;
  for (size_t i = 0; i < src->n_cols; i++) {
    p->source_cols[i] = (int)i;
    p->out_ids[i] = sql_plan_new_id(b->env->pc);
    p->out_names[i] = src->col_names[i];
    p->out_types[i] = src->col_types[i];
    int rc = scope_add(b, s, alias, src->col_names[i], p->out_ids[i], src->col_types[i]);
    if (rc) return rc;
  }
  *plan = p;
  return 0;
}

static int const_string(binder *b, const PgQuery__Node *n, const char **out) {
  if (n && n->node_case == PG_QUERY__NODE__NODE_A_CONST &&
      n->a_const->val_case == PG_QUERY__A__CONST__VAL_SVAL) {
    *out = n->a_const->sval->sval;
    return 0;
  }
  return tarn_err(b->err, TARN_EINVAL, "expected a string constant");
}

static const char *call_arg_text(binder *b, const PgQuery__Node *n);

static int bind_table_function(binder *b, const PgQuery__RangeFunction *rf, sql_plan **plan,
                               scope *s) {
  if (rf->n_functions != 1)
    return tarn_err(b->err, TARN_EUNSUPPORTED, "ROWS FROM is not supported");
  const PgQuery__Node *fn = rf->functions[0];
  if (fn->node_case == PG_QUERY__NODE__NODE_LIST && fn->list->n_items >= 1) fn = fn->list->items[0];
  if (fn->node_case != PG_QUERY__NODE__NODE_FUNC_CALL)
    return tarn_err(b->err, TARN_EUNSUPPORTED, "unsupported table function");
  const PgQuery__FuncCall *fc = fn->func_call;
  const char *name = str_node(fc->funcname[fc->n_funcname - 1]);
  const char *alias = rf->alias ? rf->alias->aliasname : name;
  if (name && (strcmp(name, "read_parquet") == 0 || strcmp(name, "parquet_scan") == 0)) {
    if (b->env->deny_files) return tarn_err(b->err, TARN_EINVAL, "reading files is disabled");
    if (fc->n_args < 1)
      return tarn_err(b->err, TARN_EINVAL, "read_parquet needs a path or a list of paths");
    const char *globs[256];
    size_t n_globs = 0;
    const PgQuery__Node *a0 = fc->args[0];
    if (a0->node_case == PG_QUERY__NODE__NODE_A_ARRAY_EXPR) {
      const PgQuery__AArrayExpr *ae = a0->a_array_expr;
      if (ae->n_elements == 0 || ae->n_elements > 256)
        return tarn_err(b->err, TARN_EINVAL, "read_parquet: 1 to 256 paths");
      for (size_t i = 0; i < ae->n_elements; i++) {
        int rc = const_string(b, ae->elements[i], &globs[n_globs++]);
        if (rc)
          return tarn_err(b->err, TARN_EINVAL, "read_parquet: paths must be string constants");
      }
    } else {
      int rc = const_string(b, a0, &globs[n_globs++]);
      if (rc)
        return tarn_err(b->err, TARN_EINVAL, "read_parquet: the path must be a string constant");
    }
    if (fc->n_args > 1)
      return tarn_err(b->err, TARN_EUNSUPPORTED,
                      "read_parquet takes one argument (a path, glob or ARRAY of them); options "
                      "are not supported");
    sql_source *src;
    int rc = sql_source_parquet(b->a, globs, n_globs, &src, b->err);
    if (rc) return rc;
    char label[512];
    if (n_globs == 1)
      snprintf(label, sizeof label, "read_parquet('%s')", globs[0]);
    else
      snprintf(label, sizeof label, "read_parquet(['%s', ... %zu paths])", globs[0], n_globs);
    src->name = bstrdup(b, label);
    return scan_plan(b, src, alias, plan, s);
  }
  if (name && strcmp(name, "delta_scan") == 0) {
    if (b->env->deny_files) return tarn_err(b->err, TARN_EINVAL, "reading files is disabled");
    const char *dir = NULL;
    if (fc->n_args < 1 || const_string(b, fc->args[0], &dir))
      return tarn_err(b->err, TARN_EINVAL, "delta_scan needs the table's directory as a string");
    int64_t version = -1, at = INT64_MIN;
    for (size_t i = 1; i < fc->n_args; i++) {
      const PgQuery__Node *an = fc->args[i];
      if (an->node_case != PG_QUERY__NODE__NODE_NAMED_ARG_EXPR)
        return tarn_err(b->err, TARN_EINVAL,
                        "delta_scan: options are named (version => N, timestamp => 'time')");
      const PgQuery__NamedArgExpr *na = an->named_arg_expr;
      const PgQuery__Node *v = na->arg;
      if (strcmp(na->name, "version") == 0 && v && v->node_case == PG_QUERY__NODE__NODE_A_CONST &&
          v->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL) {
        version = v->a_const->ival->ival;
        if (version < 0) return tarn_err(b->err, TARN_EINVAL, "delta_scan: version must be >= 0");
      } else if (strcmp(na->name, "timestamp") == 0) {
        const char *text = NULL;
        if (const_string(b, v, &text))
          return tarn_err(b->err, TARN_EINVAL, "delta_scan: timestamp must be a string");
        sql_value in, ts;
        memset(&in, 0, sizeof in);
        in.type = sql_type_get(SQL_TEXT);
        in.u.str = (sql_str){text, strlen(text)};
        sql_mem *m = sql_mem_new();
        int rc = m ? sql_cast_value(m, &in, sql_type_get(SQL_TIMESTAMPTZ), &ts, b->err)
                   : tarn_err(b->err, TARN_ENOMEM, "out of memory");
        sql_mem_release(m);
        if (rc) return rc;
        at = ts.u.i64 >= 0 ? ts.u.i64 / 1000 : -((-ts.u.i64 + 999) / 1000);
      } else {
        return tarn_err(b->err, TARN_EINVAL, "delta_scan: unknown option %s", na->name);
      }
    }
    sql_source *src;
    int rc = sql_source_delta(b->a, dir, version, at, &src, b->err);
    if (rc) return rc;
    char label[512];
    snprintf(label, sizeof label, "delta_scan('%s')", dir);
    src->name = bstrdup(b, label);
    return scan_plan(b, src, alias, plan, s);
  }
  if (name && strcmp(name, "iceberg_scan") == 0) {
    /* iceberg_scan('dir' or 'metadata.json' [, snapshot_from_id => ID]
     * [, allow_moved_paths => true] [, version => 'N']): DuckDB's arguments */
    if (b->env->deny_files) return tarn_err(b->err, TARN_EINVAL, "reading files is disabled");
    const char *path = NULL;
    if (fc->n_args < 1 || const_string(b, fc->args[0], &path))
      return tarn_err(b->err, TARN_EINVAL, "iceberg_scan needs a table directory or metadata file");
    sql_iceberg_options io;
    memset(&io, 0, sizeof io);
    for (size_t i = 1; i < fc->n_args; i++) {
      const PgQuery__Node *n = fc->args[i];
      if (n->node_case != PG_QUERY__NODE__NODE_NAMED_ARG_EXPR)
        return tarn_err(b->err, TARN_EINVAL, "iceberg_scan: arguments after the path are named");
      const char *key = n->named_arg_expr->name, *v = call_arg_text(b, n->named_arg_expr->arg);
      if (v == NULL)
        return tarn_err(b->err, TARN_EINVAL, "iceberg_scan: %s must be a constant", key);
      char *end = NULL;
      if (strcmp(key, "snapshot_from_id") == 0) {
        errno = 0;
        io.snapshot_id = strtoll(v, &end, 10);
        if (errno || end == v || *end)
          return tarn_err(b->err, TARN_EINVAL, "iceberg_scan: snapshot_from_id '%s' is not an id",
                          v);
      } else if (strcmp(key, "allow_moved_paths") == 0) {
        io.allow_moved_paths = strcasecmp(v, "true") == 0;
      } else if (strcmp(key, "version") == 0) {
        io.version = v;
      } else {
        return tarn_err(b->err, TARN_EINVAL, "iceberg_scan has no argument named \"%s\"", key);
      }
    }
    sql_source *src;
    int rc = sql_source_iceberg(b->a, path, &io, &src, b->err);
    if (rc) return rc;
    char label[512];
    snprintf(label, sizeof label, "iceberg_scan('%s')", path);
    src->name = bstrdup(b, label);
    return scan_plan(b, src, alias, plan, s);
  }
  if (name && strcmp(name, "table_changes") == 0) {
    /* table_changes('t' or 'dir', from [, to]): the change data feed between two versions. */
    if (b->env->deny_files) return tarn_err(b->err, TARN_EINVAL, "reading files is disabled");
    const char *table = NULL;
    int64_t range[2] = {-1, -1};
    if (fc->n_args < 2 || fc->n_args > 3 || const_string(b, fc->args[0], &table))
      return tarn_err(b->err, TARN_EINVAL,
                      "table_changes needs a table name or directory and a starting version, "
                      "then optionally an ending one");
    for (size_t i = 1; i < fc->n_args; i++) {
      const PgQuery__Node *v = fc->args[i];
      if (v->node_case != PG_QUERY__NODE__NODE_A_CONST ||
          v->a_const->val_case != PG_QUERY__A__CONST__VAL_IVAL || v->a_const->ival->ival < 0)
        return tarn_err(b->err, TARN_EINVAL, "table_changes: versions are integers >= 0");
      range[i - 1] = v->a_const->ival->ival;
    }
    char dir[4096];
    if (b->env->warehouse && strchr(table, '/') == NULL)
      snprintf(dir, sizeof dir, "%s/%s", b->env->warehouse, table);
    else
      snprintf(dir, sizeof dir, "%s", table);
    sql_source *src;
    int rc = sql_source_delta_changes(b->a, dir, range[0], range[1], &src, b->err);
    if (rc) return rc;
    return scan_plan(b, src, alias, plan, s);
  }
  return tarn_err(b->err, TARN_EINVAL, "table function %s does not exist", name ? name : "?");
}

/* Renames output columns per an alias's column list. */
static int apply_alias_columns(const PgQuery__Alias *al, scope *s, size_t first) {
  if (al == NULL) return 0;
  for (size_t i = first; i < s->n; i++)
    s->cols[i].table = al->aliasname;
  for (size_t i = 0; i < al->n_colnames && first + i < s->n; i++) {
    const char *nm = str_node(al->colnames[i]);
    if (nm) s->cols[first + i].name = nm;
  }
  return 0;
}

static int bind_join(binder *b, scope *outer, const PgQuery__JoinExpr *je, sql_plan **plan,
                     scope *s) {
  sql_plan *l, *r;
  size_t left_start = s->n;
  int rc = bind_from_item(b, outer, je->larg, &l, s);
  size_t right_start = s->n;
  if (rc == 0) rc = bind_from_item(b, outer, je->rarg, &r, s);
  if (rc) return rc;
  sql_plan *j = sql_plan_new(b->env->pc, SQL_P_JOIN);
  if (j == NULL) return oom(b);
  j->child[0] = l;
  j->child[1] = r;
  switch (je->jointype) {
  case PG_QUERY__JOIN_TYPE__JOIN_INNER: j->join_kind = SQL_JOIN_INNER; break;
  case PG_QUERY__JOIN_TYPE__JOIN_LEFT: j->join_kind = SQL_JOIN_LEFT; break;
  case PG_QUERY__JOIN_TYPE__JOIN_RIGHT: j->join_kind = SQL_JOIN_RIGHT; break;
  case PG_QUERY__JOIN_TYPE__JOIN_FULL: j->join_kind = SQL_JOIN_FULL; break;
  default: return tarn_err(b->err, TARN_EUNSUPPORTED, "unsupported join type");
  }
  size_t n = l->n_out + r->n_out;
  if (sql_plan_alloc_out(b->env->pc, j, n)) return oom(b);
  for (size_t i = 0; i < l->n_out; i++) {
    j->out_ids[i] = l->out_ids[i];
    j->out_names[i] = l->out_names[i];
    j->out_types[i] = l->out_types[i];
  }
  for (size_t i = 0; i < r->n_out; i++) {
    j->out_ids[l->n_out + i] = r->out_ids[i];
    j->out_names[l->n_out + i] = r->out_names[i];
    j->out_types[l->n_out + i] = r->out_types[i];
  }
  /* USING / NATURAL: equalities on the shared names; the right-hand copies are hidden. */
  const char *using_names[64];
  size_t using_left[64], using_right[64];
  size_t n_using = 0;
  if (je->is_natural) {
    for (size_t i = left_start; i < right_start; i++)
      for (size_t k = right_start; k < s->n; k++)
        if (!s->cols[i].hidden && !s->cols[k].hidden &&
            strcmp(s->cols[i].name, s->cols[k].name) == 0 && n_using < 64)
          using_names[n_using++] = s->cols[i].name;
  } else {
    for (size_t i = 0; i < je->n_using_clause && n_using < 64; i++)
      using_names[n_using++] = str_node(je->using_clause[i]);
  }
  sql_expr *cond = NULL;
  for (size_t u = 0; u < n_using; u++) {
    const scope_col *lc = NULL;
    scope_col *rcol = NULL;
    for (size_t i = left_start; i < right_start; i++)
      if (!s->cols[i].hidden && strcmp(s->cols[i].name, using_names[u]) == 0) lc = &s->cols[i];
    for (size_t i = right_start; i < s->n; i++)
      if (!s->cols[i].hidden && strcmp(s->cols[i].name, using_names[u]) == 0) rcol = &s->cols[i];
    if (lc == NULL || rcol == NULL)
      return tarn_err(b->err, TARN_EINVAL,
                      "column \"%s\" specified in USING clause does not exist in both sides",
                      using_names[u]);
    sql_expr *eq;
    rc = make_binop(b, "=", col_ref(b, lc->id, lc->type), col_ref(b, rcol->id, rcol->type), &eq);
    if (rc) return rc;
    if (cond == NULL)
      cond = eq;
    else {
      sql_expr *args[2] = {cond, eq};
      rc = make_bool(b, SQL_E_AND, args, 2, &cond);
      if (rc) return rc;
    }
    rcol->hidden = true;
    using_left[u] = (size_t)(lc - s->cols);
    using_right[u] = (size_t)(rcol - s->cols);
  }
  if (je->quals) {
    sql_expr *q;
    rc = bind_expr(b, s, je->quals, &q);
    if (rc) return rc;
    if (q->type->id != SQL_BOOL)
      return tarn_err(b->err, TARN_EINVAL, "argument of JOIN/ON must be type boolean");
    if (cond == NULL)
      cond = q;
    else {
      sql_expr *args[2] = {cond, q};
      rc = make_bool(b, SQL_E_AND, args, 2, &cond);
      if (rc) return rc;
    }
  }
  if (cond == NULL && j->join_kind == SQL_JOIN_INNER) j->join_kind = SQL_JOIN_CROSS;
  j->condition = cond;
  /* The merged USING column is the right one for RIGHT joins and COALESCE(left, right) for FULL
   * joins: a projection above the join computes it, and the unqualified name now means it. */
  if (n_using && (j->join_kind == SQL_JOIN_RIGHT || j->join_kind == SQL_JOIN_FULL)) {
    size_t n_all = j->n_out + n_using;
    sql_expr **exprs = bz(b, n_all, sizeof *exprs);
    const char **names = bz(b, n_all, sizeof *names);
    if (exprs == NULL || names == NULL) return oom(b);
    for (size_t i = 0; i < j->n_out; i++) {
      exprs[i] = col_ref(b, j->out_ids[i], j->out_types[i]);
      names[i] = j->out_names[i];
      if (exprs[i] == NULL) return oom(b);
    }
    for (size_t u = 0; u < n_using; u++) {
      scope_col *lc = &s->cols[using_left[u]], *rcol = &s->cols[using_right[u]];
      sql_expr *merged;
      if (j->join_kind == SQL_JOIN_RIGHT) {
        merged = col_ref(b, rcol->id, rcol->type);
        if (merged == NULL) return oom(b);
      } else {
        merged = new_expr(b, SQL_E_COALESCE, lc->type);
        if (merged == NULL || set_args(b, merged, 2)) return oom(b);
        merged->args[0] = col_ref(b, lc->id, lc->type);
        merged->args[1] = col_ref(b, rcol->id, rcol->type);
      }
      exprs[j->n_out + u] = merged;
      names[j->n_out + u] = lc->name;
    }
    sql_plan *proj = make_project(b, j, exprs, names, n_all);
    if (proj == NULL) return oom(b);
    /* Pass-through columns keep their ids, so names bound to them stay valid above. */
    for (size_t i = 0; i < j->n_out; i++)
      proj->out_ids[i] = j->out_ids[i];
    for (size_t u = 0; u < n_using; u++) {
      /* The visible entry takes the merged column; l.k / r.k stay reachable when qualified. */
      scope_col *lc = &s->cols[using_left[u]];
      scope_col merged = *lc;
      merged.id = proj->out_ids[j->n_out + u];
      merged.table = NULL;
      scope_col left_copy = *lc;
      left_copy.hidden = true;
      *lc = merged;
      int rc2 = scope_add(b, s, left_copy.table, left_copy.name, left_copy.id, left_copy.type);
      if (rc2) return rc2;
      s->cols[s->n - 1].hidden = true;
    }
    if (je->alias) apply_alias_columns(je->alias, s, left_start);
    *plan = proj;
    return 0;
  }
  if (je->alias) apply_alias_columns(je->alias, s, left_start);
  *plan = j;
  return 0;
}

static int bind_from_item(binder *b, scope *outer, const PgQuery__Node *n, sql_plan **plan,
                          scope *s) {
  switch (n->node_case) {
  case PG_QUERY__NODE__NODE_RANGE_VAR: {
    const PgQuery__RangeVar *rv = n->range_var;
    const char *alias = rv->alias ? rv->alias->aliasname : rv->relname;
    size_t first = s->n;
    for (cte_def *c = b->ctes; c; c = c->next) {
      if (rv->schemaname && *rv->schemaname) break;
      if (strcmp(c->name, rv->relname) != 0) continue;
      sql_plan *p = sql_plan_new(b->env->pc, SQL_P_CTE_SCAN);
      if (p == NULL || sql_plan_alloc_out(b->env->pc, p, c->plan->n_out)) return oom(b);
      p->cte = c->plan;
      p->cte_ids = c->plan->out_ids;
      p->est_rows = c->plan->est_rows;
      for (size_t i = 0; i < c->plan->n_out; i++) {
        p->out_ids[i] = sql_plan_new_id(b->env->pc);
        p->out_names[i] = c->plan->out_names[i];
        p->out_types[i] = c->plan->out_types[i];
        int rc = scope_add(b, s, alias, p->out_names[i], p->out_ids[i], p->out_types[i]);
        if (rc) return rc;
      }
      *plan = p;
      return apply_alias_columns(rv->alias, s, first);
    }
    if (b->env->warehouse) {
      char path[4096];
      snprintf(path, sizeof path, "%s/%s", b->env->warehouse, rv->relname);
      struct stat st;
      if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        const char *globs[1] = {path};
        sql_source *src;
        int rc = delta_is_table(path) ? sql_source_delta(b->a, path, -1, INT64_MIN, &src, b->err)
                 : sql_is_iceberg_table(path) ? sql_source_iceberg(b->a, path, NULL, &src, b->err)
                                              : sql_source_parquet(b->a, globs, 1, &src, b->err);
        if (rc) return rc;
        src->name = bstrdup(b, rv->relname);
        rc = scan_plan(b, src, alias, plan, s);
        if (rc == 0) rc = apply_alias_columns(rv->alias, s, first);
        return rc;
      }
    }
    return tarn_err(b->err, TARN_EINVAL, "relation \"%s\" does not exist", rv->relname);
  }
  case PG_QUERY__NODE__NODE_RANGE_FUNCTION: {
    size_t first = s->n;
    int rc = bind_table_function(b, n->range_function, plan, s);
    if (rc == 0) rc = apply_alias_columns(n->range_function->alias, s, first);
    return rc;
  }
  case PG_QUERY__NODE__NODE_RANGE_SUBSELECT: {
    const PgQuery__RangeSubselect *rs = n->range_subselect;
    if (rs->lateral) return tarn_err(b->err, TARN_EUNSUPPORTED, "LATERAL is not supported");
    if (rs->subquery->node_case != PG_QUERY__NODE__NODE_SELECT_STMT)
      return tarn_err(b->err, TARN_EUNSUPPORTED, "unsupported subquery in FROM");
    agg_ctx *saved = b->agg;
    b->agg = NULL;
    int rc = bind_select(b, rs->subquery->select_stmt, NULL, plan);
    b->agg = saved;
    if (rc) return rc;
    size_t first = s->n;
    const char *alias = rs->alias ? rs->alias->aliasname : NULL;
    rc = scope_from_plan(b, s, *plan, alias);
    if (rc == 0) rc = apply_alias_columns(rs->alias, s, first);
    return rc;
  }
  case PG_QUERY__NODE__NODE_JOIN_EXPR: return bind_join(b, outer, n->join_expr, plan, s);
  default: return tarn_err(b->err, TARN_EUNSUPPORTED, "unsupported FROM item");
  }
}

static int bind_from(binder *b, scope *outer, PgQuery__Node *const *items, size_t n,
                     sql_plan **plan, scope *s) {
  sql_plan *acc = NULL;
  for (size_t i = 0; i < n; i++) {
    sql_plan *p;
    int rc = bind_from_item(b, outer, items[i], &p, s);
    if (rc) return rc;
    if (acc == NULL) {
      acc = p;
      continue;
    }
    sql_plan *j = sql_plan_new(b->env->pc, SQL_P_JOIN);
    if (j == NULL || sql_plan_alloc_out(b->env->pc, j, acc->n_out + p->n_out)) return oom(b);
    j->join_kind = SQL_JOIN_CROSS;
    j->child[0] = acc;
    j->child[1] = p;
    for (size_t k = 0; k < acc->n_out; k++) {
      j->out_ids[k] = acc->out_ids[k];
      j->out_names[k] = acc->out_names[k];
      j->out_types[k] = acc->out_types[k];
    }
    for (size_t k = 0; k < p->n_out; k++) {
      j->out_ids[acc->n_out + k] = p->out_ids[k];
      j->out_names[acc->n_out + k] = p->out_names[k];
      j->out_types[acc->n_out + k] = p->out_types[k];
    }
    acc = j;
  }
  *plan = acc;
  return 0;
}

/* --- SELECT -------------------------------------------------------------------------------------
 */

/* After aggregation only group keys, aggregate results and window results exist: replaces
 * subexpressions equal to a key by the key's column, and rejects any other FROM column. */
static int rewrite_grouped(binder *b, sql_plan *agg, sql_expr **pe, const int *from_ids,
                           size_t n_from) {
  sql_expr *e = *pe;
  for (size_t k = 0; k < agg->n_keys; k++)
    if (expr_equal(e, agg->keys[k])) {
      sql_expr *c = col_ref(b, agg->out_ids[k], agg->out_types[k]);
      if (c == NULL) return oom(b);
      *pe = c;
      return 0;
    }
  if (e->kind == SQL_E_COLUMN) {
    for (size_t i = 0; i < n_from; i++)
      if (from_ids[i] == e->column_id) {
        return tarn_err(
            b->err, TARN_EINVAL,
            "column must appear in the GROUP BY clause or be used in an aggregate function");
      }
    return 0;
  }
  if (e->kind == SQL_E_SUBQUERY) return 0;
  for (size_t i = 0; i < e->n_args; i++) {
    int rc = rewrite_grouped(b, agg, &e->args[i], from_ids, n_from);
    if (rc) return rc;
  }
  return 0;
}

static const char *target_name(const PgQuery__Node *val, const sql_expr *e) {
  (void)e;
  if (val->node_case == PG_QUERY__NODE__NODE_COLUMN_REF) {
    const PgQuery__ColumnRef *cr = val->column_ref;
    const char *s = str_node(cr->fields[cr->n_fields - 1]);
    if (s) return s;
  }
  if (val->node_case == PG_QUERY__NODE__NODE_FUNC_CALL) {
    const PgQuery__FuncCall *fc = val->func_call;
    const char *s = str_node(fc->funcname[fc->n_funcname - 1]);
    if (s) return s;
  }
  if (val->node_case == PG_QUERY__NODE__NODE_TYPE_CAST) return target_name(val->type_cast->arg, e);
  if (val->node_case == PG_QUERY__NODE__NODE_CASE_EXPR) return "case";
  if (val->node_case == PG_QUERY__NODE__NODE_COALESCE_EXPR) return "coalesce";
  if (val->node_case == PG_QUERY__NODE__NODE_SUB_LINK &&
      val->sub_link->sub_link_type == PG_QUERY__SUB_LINK_TYPE__EXISTS_SUBLINK)
    return "exists";
  if (val->node_case == PG_QUERY__NODE__NODE_A_INDIRECTION) {
    const PgQuery__AIndirection *ind = val->a_indirection;
    const char *s = ind->n_indirection ? str_node(ind->indirection[ind->n_indirection - 1]) : NULL;
    if (s) return s;
  }
  return "?column?";
}

typedef struct target_list {
  sql_expr **exprs;
  const char **names;
  size_t n, cap;
} target_list;

static int targets_add(binder *b, target_list *t, sql_expr *e, const char *name) {
  if (t->n == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 16;
    sql_expr **ne = bz(b, cap, sizeof *ne);
    const char **nn = bz(b, cap, sizeof *nn);
    if (ne == NULL || nn == NULL) return oom(b);
    if (t->n) {
      memcpy(ne, t->exprs, t->n * sizeof *ne);
      memcpy(nn, t->names, t->n * sizeof *nn);
    }
    t->exprs = ne;
    t->names = nn;
    t->cap = cap;
  }
  t->exprs[t->n] = e;
  t->names[t->n] = name;
  t->n++;
  return 0;
}

static sql_plan *make_project(binder *b, sql_plan *child, sql_expr **exprs, const char **names,
                              size_t n) {
  sql_plan *p = sql_plan_new(b->env->pc, SQL_P_PROJECT);
  if (p == NULL || sql_plan_alloc_out(b->env->pc, p, n)) return NULL;
  p->child[0] = child;
  p->exprs = bz(b, n, sizeof *p->exprs);
  if (p->exprs == NULL) return NULL;
  p->n_exprs = n;
  p->est_rows = child ? child->est_rows : 1;
  for (size_t i = 0; i < n; i++) {
    p->exprs[i] = exprs[i];
    p->out_ids[i] = sql_plan_new_id(b->env->pc);
    p->out_names[i] = names[i];
    p->out_types[i] = exprs[i]->type;
  }
  return p;
}

static int bind_values(binder *b, const PgQuery__SelectStmt *st, sql_plan **out) {
  size_t n_rows = st->n_values_lists;
  if (n_rows == 0) return tarn_err(b->err, TARN_EINVAL, "empty VALUES");
  size_t n_cols = st->values_lists[0]->list->n_items;
  sql_plan *p = sql_plan_new(b->env->pc, SQL_P_VALUES);
  if (p == NULL || sql_plan_alloc_out(b->env->pc, p, n_cols)) return oom(b);
  p->rows = bz(b, n_rows * n_cols, sizeof *p->rows);
  if (p->rows == NULL) return oom(b);
  p->n_rows = n_rows;
  p->est_rows = (double)n_rows;
  scope empty = {0};
  for (size_t r = 0; r < n_rows; r++) {
    const PgQuery__List *l = st->values_lists[r]->list;
    if (l->n_items != n_cols)
      return tarn_err(b->err, TARN_EINVAL, "VALUES lists must all be the same length");
    for (size_t c = 0; c < n_cols; c++) {
      int rc = bind_expr(b, &empty, l->items[c], &p->rows[r * n_cols + c]);
      if (rc) return rc;
    }
  }
  sql_expr **col = bz(b, n_rows, sizeof *col);
  if (col == NULL) return oom(b);
  for (size_t c = 0; c < n_cols; c++) {
    for (size_t r = 0; r < n_rows; r++)
      col[r] = p->rows[r * n_cols + c];
    const sql_type *t;
    int rc = unify_list(b, col, n_rows, "VALUES", &t);
    if (rc) return rc;
    if (t->id == SQL_NULL) t = sql_type_get(SQL_TEXT);
    for (size_t r = 0; r < n_rows; r++) {
      rc = cast_to(b, &col[r], t);
      if (rc) return rc;
      col[r]->unknown_literal = false;
      p->rows[r * n_cols + c] = col[r];
    }
    char nm[32];
    snprintf(nm, sizeof nm, "column%zu", c + 1);
    p->out_ids[c] = sql_plan_new_id(b->env->pc);
    p->out_names[c] = bstrdup(b, nm);
    p->out_types[c] = t;
  }
  *out = p;
  return 0;
}

static int bind_limit(binder *b, const PgQuery__Node *n, int64_t *out, const char *what) {
  if (n == NULL) return 0;
  scope empty = {0};
  sql_expr *e;
  int rc = bind_expr(b, &empty, n, &e);
  if (rc) return rc;
  if (e->kind == SQL_E_CONST && e->value.is_null) return 0; /* LIMIT NULL / ALL */
  if (e->kind != SQL_E_CONST || !sql_type_is_integer(e->type->id))
    return tarn_err(b->err, TARN_EINVAL, "argument of %s must be an integer constant", what);
  if (e->value.u.i64 < 0) return tarn_err(b->err, TARN_EINVAL, "%s must not be negative", what);
  *out = e->value.u.i64;
  return 0;
}

/* ORDER BY / LIMIT over a plan whose output columns are named (set operations, VALUES). */
static int order_limit_on_output(binder *b, const PgQuery__SelectStmt *st, sql_plan *p,
                                 sql_plan **out) {
  if (st->n_sort_clause) {
    scope s = {0};
    int rc = scope_from_plan(b, &s, p, NULL);
    if (rc) return rc;
    sql_sort_key *keys = bz(b, st->n_sort_clause, sizeof *keys);
    if (keys == NULL) return oom(b);
    for (size_t i = 0; i < st->n_sort_clause; i++) {
      const PgQuery__SortBy *sb = st->sort_clause[i]->sort_by;
      const PgQuery__Node *kn = sb->node;
      if (kn->node_case == PG_QUERY__NODE__NODE_A_CONST &&
          kn->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL) {
        int k = kn->a_const->ival->ival;
        if (k < 1 || (size_t)k > p->n_out)
          return tarn_err(b->err, TARN_EINVAL, "ORDER BY position %d is not in select list", k);
        keys[i].expr = col_ref(b, p->out_ids[k - 1], p->out_types[k - 1]);
      } else {
        rc = bind_expr(b, &s, kn, &keys[i].expr);
        if (rc) return rc;
      }
      keys[i].descending = sb->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_DESC;
      keys[i].nulls_first =
          sb->sortby_nulls == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_FIRST ||
          (sb->sortby_nulls != PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_LAST && keys[i].descending);
    }
    sql_plan *sp = sql_plan_new(b->env->pc, SQL_P_SORT);
    if (sp == NULL || sql_plan_alloc_out(b->env->pc, sp, p->n_out)) return oom(b);
    sp->child[0] = p;
    sp->sort_keys = keys;
    sp->n_sort_keys = st->n_sort_clause;
    sp->est_rows = p->est_rows;
    memcpy(sp->out_ids, p->out_ids, p->n_out * sizeof *sp->out_ids);
    memcpy(sp->out_names, p->out_names, p->n_out * sizeof *sp->out_names);
    memcpy(sp->out_types, p->out_types, p->n_out * sizeof *sp->out_types);
    p = sp;
  }
  int64_t limit = -1, offset = 0;
  int rc = bind_limit(b, st->limit_count, &limit, "LIMIT");
  if (rc == 0) rc = bind_limit(b, st->limit_offset, &offset, "OFFSET");
  if (rc) return rc;
  if (limit >= 0 || offset > 0) {
    sql_plan *lp = sql_plan_new(b->env->pc, SQL_P_LIMIT);
    if (lp == NULL || sql_plan_alloc_out(b->env->pc, lp, p->n_out)) return oom(b);
    lp->child[0] = p;
    lp->limit = limit;
    lp->offset = offset;
    lp->est_rows = p->est_rows;
    memcpy(lp->out_ids, p->out_ids, p->n_out * sizeof *lp->out_ids);
    memcpy(lp->out_names, p->out_names, p->n_out * sizeof *lp->out_names);
    memcpy(lp->out_types, p->out_types, p->n_out * sizeof *lp->out_types);
    p = lp;
  }
  *out = p;
  return 0;
}

/* Casts a plan's outputs to types (set operation branches). */
static int cast_outputs(binder *b, sql_plan *p, const sql_type *const *types, sql_plan **out) {
  bool same = true;
  for (size_t i = 0; i < p->n_out; i++)
    same &= sql_type_equal(p->out_types[i], types[i]);
  if (same) {
    *out = p;
    return 0;
  }
  sql_expr **exprs = bz(b, p->n_out, sizeof *exprs);
  if (exprs == NULL) return oom(b);
  for (size_t i = 0; i < p->n_out; i++) {
    exprs[i] = col_ref(b, p->out_ids[i], p->out_types[i]);
    if (exprs[i] == NULL) return oom(b);
    int rc = cast_to(b, &exprs[i], types[i]);
    if (rc) return rc;
  }
  *out = make_project(b, p, exprs, p->out_names, p->n_out);
  return *out ? 0 : oom(b);
}

static int bind_setop(binder *b, const PgQuery__SelectStmt *st, scope *outer, sql_plan **out) {
  sql_plan *l, *r;
  agg_ctx *saved = b->agg;
  b->agg = NULL;
  b->setop_branch = true;
  int rc = bind_select(b, st->larg, outer, &l);
  b->setop_branch = true;
  if (rc == 0) rc = bind_select(b, st->rarg, outer, &r);
  b->setop_branch = false;
  b->agg = saved;
  if (rc) return rc;
  if (l->n_out != r->n_out)
    return tarn_err(b->err, TARN_EINVAL, "each %s query must have the same number of columns",
                    st->op == PG_QUERY__SET_OPERATION__SETOP_UNION       ? "UNION"
                    : st->op == PG_QUERY__SET_OPERATION__SETOP_INTERSECT ? "INTERSECT"
                                                                         : "EXCEPT");
  const sql_type **types = bz(b, l->n_out, sizeof *types);
  if (types == NULL) return oom(b);
  for (size_t i = 0; i < l->n_out; i++) {
    const sql_type *t = sql_type_common(b->a, l->out_types[i], r->out_types[i]);
    if (t == NULL) {
      char t1[64], t2[64];
      sql_type_name(l->out_types[i], t1, sizeof t1);
      sql_type_name(r->out_types[i], t2, sizeof t2);
      return tarn_err(b->err, TARN_EINVAL, "UNION types %s and %s cannot be matched", t1, t2);
    }
    if (t->id == SQL_NULL) t = sql_type_get(SQL_TEXT);
    types[i] = t;
  }
  rc = cast_outputs(b, l, types, &l);
  if (rc == 0) rc = cast_outputs(b, r, types, &r);
  if (rc) return rc;
  sql_plan *p = sql_plan_new(b->env->pc, SQL_P_SETOP);
  if (p == NULL || sql_plan_alloc_out(b->env->pc, p, l->n_out)) return oom(b);
  p->child[0] = l;
  p->child[1] = r;
  p->setop = st->op == PG_QUERY__SET_OPERATION__SETOP_UNION       ? SQL_SET_UNION
             : st->op == PG_QUERY__SET_OPERATION__SETOP_INTERSECT ? SQL_SET_INTERSECT
                                                                  : SQL_SET_EXCEPT;
  p->set_all = st->all;
  p->est_rows = l->est_rows + r->est_rows;
  for (size_t i = 0; i < l->n_out; i++) {
    p->out_ids[i] = sql_plan_new_id(b->env->pc);
    p->out_names[i] = l->out_names[i];
    p->out_types[i] = types[i];
  }
  return order_limit_on_output(b, st, p, out);
}

static int bind_with(binder *b, const PgQuery__WithClause *w, cte_def **saved) {
  *saved = b->ctes;
  if (w == NULL) return 0;
  if (w->recursive) return tarn_err(b->err, TARN_EUNSUPPORTED, "WITH RECURSIVE is not supported");
  for (size_t i = 0; i < w->n_ctes; i++) {
    const PgQuery__CommonTableExpr *c = w->ctes[i]->common_table_expr;
    if (c->ctequery->node_case != PG_QUERY__NODE__NODE_SELECT_STMT)
      return tarn_err(b->err, TARN_EUNSUPPORTED, "only SELECT is supported in WITH");
    sql_plan *p;
    agg_ctx *sa = b->agg;
    b->agg = NULL;
    int rc = bind_select(b, c->ctequery->select_stmt, NULL, &p);
    b->agg = sa;
    if (rc) return rc;
    for (size_t k = 0; k < c->n_aliascolnames && k < p->n_out; k++) {
      const char *nm = str_node(c->aliascolnames[k]);
      if (nm) p->out_names[k] = nm;
    }
    cte_def *d = bz(b, 1, sizeof *d);
    if (d == NULL) return oom(b);
    d->name = c->ctename;
    d->plan = p;
    d->next = b->ctes;
    b->ctes = d;
  }
  return 0;
}

static bool is_ordinal(const PgQuery__Node *n, int *k) {
  if (n->node_case == PG_QUERY__NODE__NODE_A_CONST &&
      n->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL) {
    *k = n->a_const->ival->ival;
    return true;
  }
  return false;
}

/* One GROUP BY expression: an ordinal of the select list, a select alias that is not a FROM
 * column, or an expression over the FROM scope. */
static int group_expr(binder *b, scope *s, const target_list *tl, size_t n_visible,
                      const PgQuery__Node *gn, sql_expr **out) {
  int k;
  if (is_ordinal(gn, &k)) {
    if (k < 1 || (size_t)k > n_visible)
      return tarn_err(b->err, TARN_EINVAL, "GROUP BY position %d is not in select list", k);
    *out = tl->exprs[k - 1];
    return 0;
  }
  const char *nm = NULL;
  if (gn->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && gn->column_ref->n_fields == 1)
    nm = str_node(gn->column_ref->fields[0]);
  tarn_error saved_err = *b->err;
  int rc = bind_expr(b, s, gn, out);
  if (rc && nm) {
    for (size_t t = 0; t < n_visible; t++)
      if (tl->names[t] && strcmp(tl->names[t], nm) == 0) {
        *out = tl->exprs[t];
        *b->err = saved_err;
        return 0;
      }
  }
  return rc;
}

/* Grouping sets as bitmasks over a growing key list. */
typedef struct gsets {
  uint64_t *sets;
  size_t n;
} gsets;

#define MAX_GROUPING_SETS 4096

static int key_index(binder *b, sql_plan *agg, size_t cap, sql_expr *e, int *out) {
  for (size_t k = 0; k < agg->n_keys; k++)
    if (expr_equal(agg->keys[k], e)) {
      *out = (int)k;
      return 0;
    }
  if (agg->n_keys >= cap || agg->n_keys >= 64)
    return tarn_err(b->err, TARN_EUNSUPPORTED, "at most 64 distinct grouping expressions");
  agg->keys[agg->n_keys] = e;
  *out = (int)agg->n_keys++;
  return 0;
}

/* The mask of one element of ROLLUP / CUBE / GROUPING SETS: an expression, or a parenthesised
 * list of them (a row). */
static int element_mask(binder *b, scope *s, const target_list *tl, size_t n_visible, sql_plan *agg,
                        size_t cap, const PgQuery__Node *n, uint64_t *mask) {
  *mask = 0;
  if (n->node_case == PG_QUERY__NODE__NODE_ROW_EXPR) {
    for (size_t i = 0; i < n->row_expr->n_args; i++) {
      uint64_t m;
      int rc = element_mask(b, s, tl, n_visible, agg, cap, n->row_expr->args[i], &m);
      if (rc) return rc;
      *mask |= m;
    }
    return 0;
  }
  if (n->node_case == PG_QUERY__NODE__NODE_LIST) {
    for (size_t i = 0; i < n->list->n_items; i++) {
      uint64_t m;
      int rc = element_mask(b, s, tl, n_visible, agg, cap, n->list->items[i], &m);
      if (rc) return rc;
      *mask |= m;
    }
    return 0;
  }
  sql_expr *e;
  int k = 0;
  int rc = group_expr(b, s, tl, n_visible, n, &e);
  if (rc == 0) rc = key_index(b, agg, cap, e, &k);
  if (rc == 0) *mask = (uint64_t)1 << k;
  return rc;
}

static int gsets_add(binder *b, gsets *g, uint64_t m) {
  if (g->n >= MAX_GROUPING_SETS)
    return tarn_err(b->err, TARN_EUNSUPPORTED, "too many grouping sets");
  uint64_t *n = bz(b, g->n + 1, sizeof *n);
  if (n == NULL) return oom(b);
  if (g->n) memcpy(n, g->sets, g->n * sizeof *n);
  n[g->n++] = m;
  g->sets = n;
  return 0;
}

/* The grouping sets one GROUP BY item stands for. */
static int item_sets(binder *b, scope *s, const target_list *tl, size_t n_visible, sql_plan *agg,
                     size_t cap, const PgQuery__Node *n, gsets *out) {
  memset(out, 0, sizeof *out);
  if (n->node_case != PG_QUERY__NODE__NODE_GROUPING_SET) {
    uint64_t m;
    int rc = element_mask(b, s, tl, n_visible, agg, cap, n, &m);
    return rc ? rc : gsets_add(b, out, m);
  }
  const PgQuery__GroupingSet *gs = n->grouping_set;
  size_t k = gs->n_content;
  uint64_t masks[64];
  if (gs->kind != PG_QUERY__GROUPING_SET_KIND__GROUPING_SET_SETS) {
    if (k > 16)
      return tarn_err(b->err, TARN_EUNSUPPORTED, "ROLLUP and CUBE take at most 16 elements");
    for (size_t i = 0; i < k; i++) {
      int rc = element_mask(b, s, tl, n_visible, agg, cap, gs->content[i], &masks[i]);
      if (rc) return rc;
    }
  }
  switch (gs->kind) {
  case PG_QUERY__GROUPING_SET_KIND__GROUPING_SET_EMPTY: return gsets_add(b, out, 0);
  case PG_QUERY__GROUPING_SET_KIND__GROUPING_SET_SIMPLE: {
    uint64_t m = 0;
    for (size_t i = 0; i < k; i++)
      m |= masks[i];
    return gsets_add(b, out, m);
  }
  case PG_QUERY__GROUPING_SET_KIND__GROUPING_SET_ROLLUP:
    for (size_t len = k + 1; len-- > 0;) { /* (a, b, c), (a, b), (a), () */
      uint64_t m = 0;
      for (size_t i = 0; i < len; i++)
        m |= masks[i];
      int rc = gsets_add(b, out, m);
      if (rc) return rc;
    }
    return 0;
  case PG_QUERY__GROUPING_SET_KIND__GROUPING_SET_CUBE:
    for (uint64_t sub = (1u << k); sub-- > 0;) { /* every subset, the full one first */
      uint64_t m = 0;
      for (size_t i = 0; i < k; i++)
        if (sub & ((uint64_t)1 << i)) m |= masks[i];
      int rc = gsets_add(b, out, m);
      if (rc) return rc;
    }
    return 0;
  case PG_QUERY__GROUPING_SET_KIND__GROUPING_SET_SETS:
    for (size_t i = 0; i < k; i++) {
      gsets inner;
      int rc = item_sets(b, s, tl, n_visible, agg, cap, gs->content[i], &inner);
      for (size_t j = 0; rc == 0 && j < inner.n; j++)
        rc = gsets_add(b, out, inner.sets[j]);
      if (rc) return rc;
    }
    return 0;
  default: return tarn_err(b->err, TARN_EUNSUPPORTED, "unsupported grouping set");
  }
}

/* GROUP BY with grouping sets: the cross product of every item's sets, over one key list. */
static int bind_grouping_sets(binder *b, scope *s, const target_list *tl, size_t n_visible,
                              sql_plan *agg, PgQuery__Node *const *items, size_t n_items,
                              size_t cap) {
  gsets all = {0};
  int rc = gsets_add(b, &all, 0);
  for (size_t i = 0; rc == 0 && i < n_items; i++) {
    gsets one;
    rc = item_sets(b, s, tl, n_visible, agg, cap, items[i], &one);
    gsets next = {0};
    for (size_t x = 0; rc == 0 && x < all.n; x++)
      for (size_t y = 0; rc == 0 && y < one.n; y++)
        rc = gsets_add(b, &next, all.sets[x] | one.sets[y]);
    if (rc == 0) all = next;
  }
  if (rc) return rc;
  agg->grouping_sets = all.sets;
  agg->n_grouping_sets = all.n;
  return 0;
}

static int bind_select(binder *b, const PgQuery__SelectStmt *st, scope *outer, sql_plan **out) {
  bool keep_null = b->setop_branch; /* only for this SELECT, not the subqueries in it */
  b->setop_branch = false;
  cte_def *saved_ctes;
  int rc = bind_with(b, st->with_clause, &saved_ctes);
  if (rc) return rc;
  if (st->op != PG_QUERY__SET_OPERATION__SETOP_NONE &&
      st->op != PG_QUERY__SET_OPERATION__SET_OPERATION_UNDEFINED) {
    rc = bind_setop(b, st, outer, out);
    b->ctes = saved_ctes;
    return rc;
  }
  if (st->n_values_lists) {
    sql_plan *v = NULL;
    rc = bind_values(b, st, &v);
    if (rc == 0) rc = order_limit_on_output(b, st, v, out);
    b->ctes = saved_ctes;
    return rc;
  }
  if (st->into_clause)
    return tarn_err(b->err, TARN_EUNSUPPORTED, "SELECT INTO is not supported; use CREATE TABLE AS");

  scope s = {0};
  s.outer = outer;
  sql_plan *plan = NULL;
  if (st->n_from_clause) {
    rc = bind_from(b, outer, st->from_clause, st->n_from_clause, &plan, &s);
  } else {
    plan = sql_plan_new(b->env->pc, SQL_P_VALUES);
    if (plan == NULL || sql_plan_alloc_out(b->env->pc, plan, 0))
      rc = oom(b);
    else {
      plan->n_rows = 1;
      plan->est_rows = 1;
    }
  }
  if (rc) return rc;
  const int *from_ids = NULL;
  size_t n_from = s.n;
  int *ids = bz(b, s.n, sizeof *ids);
  if (ids == NULL) return oom(b);
  for (size_t i = 0; i < s.n; i++)
    ids[i] = s.cols[i].id;
  from_ids = ids;

  agg_ctx g;
  memset(&g, 0, sizeof g);
  g.from_scope = &s;
  agg_ctx *saved_agg = b->agg;
  b->agg = &g;

  /* WHERE */
  g.clause = "WHERE";
  if (st->where_clause) {
    sql_expr *w;
    rc = bind_expr(b, &s, st->where_clause, &w);
    if (rc == 0 && w->type->id != SQL_BOOL) {
      if (w->type->id == SQL_NULL || w->unknown_literal)
        rc = cast_to(b, &w, sql_type_get(SQL_BOOL));
      else
        rc = tarn_err(b->err, TARN_EINVAL, "argument of WHERE must be type boolean");
    }
    if (rc) goto done;
    sql_plan *f = sql_plan_new(b->env->pc, SQL_P_FILTER);
    if (f == NULL || sql_plan_alloc_out(b->env->pc, f, plan->n_out)) {
      rc = oom(b);
      goto done;
    }
    f->child[0] = plan;
    f->predicate = w;
    f->est_rows = plan->est_rows * 0.5;
    memcpy(f->out_ids, plan->out_ids, plan->n_out * sizeof *f->out_ids);
    memcpy(f->out_names, plan->out_names, plan->n_out * sizeof *f->out_names);
    memcpy(f->out_types, plan->out_types, plan->n_out * sizeof *f->out_types);
    plan = f;
  }

  /* Select list (aggregates and windows allowed). */
  g.allowed = true;
  g.windows_allowed = true;
  PgQuery__Node **saved_windows = g_window_clause;
  size_t saved_n_windows = g_n_window_clause;
  g_window_clause = st->window_clause;
  g_n_window_clause = st->n_window_clause;
  target_list tl = {0};
  for (size_t i = 0; i < st->n_target_list; i++) {
    const PgQuery__ResTarget *rt = st->target_list[i]->res_target;
    const PgQuery__Node *v = rt->val;
    if (v->node_case == PG_QUERY__NODE__NODE_COLUMN_REF &&
        v->column_ref->fields[v->column_ref->n_fields - 1]->node_case ==
            PG_QUERY__NODE__NODE_A_STAR) {
      const char *table = v->column_ref->n_fields >= 2
                              ? str_node(v->column_ref->fields[v->column_ref->n_fields - 2])
                              : NULL;
      size_t before = tl.n;
      for (size_t c = 0; c < s.n; c++) {
        if (s.cols[c].hidden && table == NULL) continue;
        if (table && (s.cols[c].table == NULL || strcmp(s.cols[c].table, table) != 0)) continue;
        rc = targets_add(b, &tl, col_ref(b, s.cols[c].id, s.cols[c].type), s.cols[c].name);
        if (rc) goto done;
      }
      if (tl.n == before && table) {
        rc = tarn_err(b->err, TARN_EINVAL, "missing FROM-clause entry for table \"%s\"", table);
        goto done;
      }
      continue;
    }
    sql_expr *e;
    rc = bind_expr(b, &s, v, &e);
    if (rc) goto done;
    if (e->unknown_literal) e->unknown_literal = false; /* 'abc' alone is text */
    if (e->type->id == SQL_NULL && !keep_null) {
      rc = cast_to(b, &e, sql_type_get(SQL_TEXT));
      if (rc) goto done;
    }
    rc = targets_add(b, &tl, e, rt->name && *rt->name ? rt->name : target_name(v, e));
    if (rc) goto done;
  }
  size_t n_visible = tl.n;

  /* GROUP BY */
  if (st->n_group_clause) {
    sql_plan *agg = ensure_agg(b);
    if (agg == NULL) {
      rc = oom(b);
      goto done;
    }
    bool has_sets = false;
    for (size_t i = 0; i < st->n_group_clause; i++)
      has_sets |= st->group_clause[i]->node_case == PG_QUERY__NODE__NODE_GROUPING_SET;
    agg->keys = bz(b, has_sets ? 64 : st->n_group_clause, sizeof *agg->keys);
    if (agg->keys == NULL) {
      rc = oom(b);
      goto done;
    }
    if (has_sets) {
      g.allowed = false;
      g.windows_allowed = false;
      g.clause = "GROUP BY";
      rc = bind_grouping_sets(b, &s, &tl, n_visible, agg, st->group_clause, st->n_group_clause, 64);
      if (rc) goto done;
      g.allowed = true;
      g.windows_allowed = true;
    }
    g.allowed = false;
    g.windows_allowed = false;
    g.clause = "GROUP BY";
    for (size_t i = 0; !has_sets && i < st->n_group_clause; i++) {
      const PgQuery__Node *gn = st->group_clause[i];
      int k;
      sql_expr *e = NULL;
      if (gn->node_case == PG_QUERY__NODE__NODE_GROUPING_SET) {
        rc = tarn_err(b->err, TARN_EUNSUPPORTED,
                      "GROUPING SETS, ROLLUP and CUBE are not supported yet");
        goto done;
      }
      if (is_ordinal(gn, &k)) {
        if (k < 1 || (size_t)k > n_visible) {
          rc = tarn_err(b->err, TARN_EINVAL, "GROUP BY position %d is not in select list", k);
          goto done;
        }
        e = tl.exprs[k - 1];
      } else {
        /* A bare name that is not a FROM column but a select alias groups by that item. */
        const char *nm = NULL;
        if (gn->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && gn->column_ref->n_fields == 1)
          nm = str_node(gn->column_ref->fields[0]);
        tarn_error saved_err = *b->err;
        rc = bind_expr(b, &s, gn, &e);
        if (rc && nm) {
          for (size_t t = 0; t < n_visible; t++)
            if (tl.names[t] && strcmp(tl.names[t], nm) == 0) {
              e = tl.exprs[t];
              *b->err = saved_err;
              rc = 0;
              break;
            }
        }
        if (rc) goto done;
      }
      agg->keys[agg->n_keys++] = e;
    }
    g.allowed = true;
    g.windows_allowed = true;
  }
  g.clause = NULL;

  /* HAVING */
  sql_expr *having = NULL;
  if (st->having_clause) {
    g.windows_allowed = false;
    rc = bind_expr(b, &s, st->having_clause, &having);
    g.windows_allowed = true;
    if (rc) goto done;
    if (g.agg == NULL && ensure_agg(b) == NULL) {
      rc = oom(b);
      goto done;
    }
  }

  /* ORDER BY: output names and ordinals first, then expressions over the FROM scope (added as
   * hidden outputs and dropped after sorting). */
  sql_sort_key *order = NULL;
  size_t n_order = st->n_sort_clause;
  int *order_target = NULL;
  if (n_order) {
    order = bz(b, n_order, sizeof *order);
    order_target = bz(b, n_order, sizeof *order_target);
    if (order == NULL || order_target == NULL) {
      rc = oom(b);
      goto done;
    }
    for (size_t i = 0; i < n_order; i++) {
      const PgQuery__SortBy *sb = st->sort_clause[i]->sort_by;
      const PgQuery__Node *kn = sb->node;
      int k;
      order_target[i] = -1;
      if (is_ordinal(kn, &k)) {
        if (k < 1 || (size_t)k > n_visible) {
          rc = tarn_err(b->err, TARN_EINVAL, "ORDER BY position %d is not in select list", k);
          goto done;
        }
        order_target[i] = k - 1;
      } else if (kn->node_case == PG_QUERY__NODE__NODE_COLUMN_REF &&
                 kn->column_ref->n_fields == 1 && str_node(kn->column_ref->fields[0])) {
        const char *nm = str_node(kn->column_ref->fields[0]);
        for (size_t t = 0; t < n_visible; t++)
          if (tl.names[t] && strcmp(tl.names[t], nm) == 0) {
            order_target[i] = (int)t;
            break;
          }
      }
      if (order_target[i] < 0) {
        sql_expr *e;
        rc = bind_expr(b, &s, kn, &e);
        if (rc) goto done;
        if (e->unknown_literal) e->unknown_literal = false;
        /* Reuse an identical select item. */
        for (size_t t = 0; t < tl.n && order_target[i] < 0; t++)
          if (expr_equal(tl.exprs[t], e)) order_target[i] = (int)t;
        if (order_target[i] < 0) {
          if (st->n_distinct_clause) {
            rc = tarn_err(b->err, TARN_EINVAL,
                          "for SELECT DISTINCT, ORDER BY expressions must appear in select list");
            goto done;
          }
          rc = targets_add(b, &tl, e, "?order?");
          if (rc) goto done;
          order_target[i] = (int)(tl.n - 1);
        }
      }
      order[i].descending = sb->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_DESC;
      order[i].nulls_first =
          sb->sortby_nulls == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_FIRST ||
          (sb->sortby_nulls != PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_LAST && order[i].descending);
    }
  }

  /* Aggregation: the node, then every post-aggregation expression rewritten over its output. */
  if (g.agg) {
    sql_plan *agg = g.agg;
    size_t n = agg->n_keys + agg->n_aggs;
    if (sql_plan_alloc_out(b->env->pc, agg, n)) {
      rc = oom(b);
      goto done;
    }
    agg->child[0] = plan;
    agg->est_rows = agg->n_keys ? plan->est_rows * 0.1 + 1 : 1;
    for (size_t k = 0; k < agg->n_keys; k++) {
      agg->out_ids[k] = sql_plan_new_id(b->env->pc);
      agg->out_names[k] = "group";
      agg->out_types[k] = agg->keys[k]->type;
      for (size_t t = 0; t < n_visible; t++)
        if (expr_equal(tl.exprs[t], agg->keys[k])) agg->out_names[k] = tl.names[t];
    }
    for (size_t a = 0; a < agg->n_aggs; a++) {
      agg->out_ids[agg->n_keys + a] = agg->aggs[a].out_id;
      agg->out_names[agg->n_keys + a] = "agg";
      agg->out_types[agg->n_keys + a] = agg->aggs[a].type;
    }
    for (size_t t = 0; t < tl.n && rc == 0; t++)
      rc = rewrite_grouped(b, agg, &tl.exprs[t], from_ids, n_from);
    if (rc == 0 && having) rc = rewrite_grouped(b, agg, &having, from_ids, n_from);
    if (rc == 0 && g.window) {
      sql_plan *wp = g.window;
      for (size_t w = 0; w < wp->n_windows && rc == 0; w++) {
        sql_window_call *wc = &wp->windows[w];
        for (size_t i = 0; i < wc->agg.n_args && rc == 0; i++)
          rc = rewrite_grouped(b, agg, &wc->agg.args[i], from_ids, n_from);
        for (size_t i = 0; i < wc->n_partition && rc == 0; i++)
          rc = rewrite_grouped(b, agg, &wc->partition[i], from_ids, n_from);
        for (size_t i = 0; i < wc->n_order && rc == 0; i++)
          rc = rewrite_grouped(b, agg, &wc->order[i].expr, from_ids, n_from);
        if (rc == 0 && wc->agg.filter)
          rc = rewrite_grouped(b, agg, &wc->agg.filter, from_ids, n_from);
        if (rc == 0 && wc->range_start)
          rc = rewrite_grouped(b, agg, &wc->range_start, from_ids, n_from);
        if (rc == 0 && wc->range_end)
          rc = rewrite_grouped(b, agg, &wc->range_end, from_ids, n_from);
      }
    }
    if (rc) goto done;
    plan = agg;
    if (having) {
      if (having->type->id != SQL_BOOL) {
        rc = tarn_err(b->err, TARN_EINVAL, "argument of HAVING must be type boolean");
        goto done;
      }
      sql_plan *f = sql_plan_new(b->env->pc, SQL_P_FILTER);
      if (f == NULL || sql_plan_alloc_out(b->env->pc, f, plan->n_out)) {
        rc = oom(b);
        goto done;
      }
      f->child[0] = plan;
      f->predicate = having;
      f->est_rows = plan->est_rows * 0.5;
      memcpy(f->out_ids, plan->out_ids, plan->n_out * sizeof *f->out_ids);
      memcpy(f->out_names, plan->out_names, plan->n_out * sizeof *f->out_names);
      memcpy(f->out_types, plan->out_types, plan->n_out * sizeof *f->out_types);
      plan = f;
    }
  }
  if (g.window) {
    sql_plan *wp = g.window;
    size_t n = plan->n_out + wp->n_windows;
    if (sql_plan_alloc_out(b->env->pc, wp, n)) {
      rc = oom(b);
      goto done;
    }
    wp->child[0] = plan;
    wp->est_rows = plan->est_rows;
    for (size_t i = 0; i < plan->n_out; i++) {
      wp->out_ids[i] = plan->out_ids[i];
      wp->out_names[i] = plan->out_names[i];
      wp->out_types[i] = plan->out_types[i];
    }
    for (size_t w = 0; w < wp->n_windows; w++) {
      wp->out_ids[plan->n_out + w] = wp->windows[w].out_id;
      wp->out_names[plan->n_out + w] = "window";
      wp->out_types[plan->n_out + w] = wp->windows[w].type;
    }
    plan = wp;
  }

  sql_plan *proj = make_project(b, plan, tl.exprs, tl.names, tl.n);
  if (proj == NULL) {
    rc = oom(b);
    goto done;
  }
  plan = proj;
  if (st->n_distinct_clause) {
    if (st->distinct_clause[0] != NULL && st->n_distinct_clause >= 1 &&
        st->distinct_clause[0]->node_case != PG_QUERY__NODE__NODE__NOT_SET) {
      rc = tarn_err(b->err, TARN_EUNSUPPORTED, "DISTINCT ON is not supported");
      goto done;
    }
    sql_plan *d = sql_plan_new(b->env->pc, SQL_P_DISTINCT);
    if (d == NULL || sql_plan_alloc_out(b->env->pc, d, plan->n_out)) {
      rc = oom(b);
      goto done;
    }
    d->child[0] = plan;
    d->est_rows = plan->est_rows;
    memcpy(d->out_ids, plan->out_ids, plan->n_out * sizeof *d->out_ids);
    memcpy(d->out_names, plan->out_names, plan->n_out * sizeof *d->out_names);
    memcpy(d->out_types, plan->out_types, plan->n_out * sizeof *d->out_types);
    plan = d;
  }
  if (n_order) {
    for (size_t i = 0; i < n_order; i++) {
      order[i].expr = col_ref(b, proj->out_ids[order_target[i]], proj->out_types[order_target[i]]);
      if (order[i].expr == NULL) {
        rc = oom(b);
        goto done;
      }
    }
    sql_plan *sp = sql_plan_new(b->env->pc, SQL_P_SORT);
    if (sp == NULL || sql_plan_alloc_out(b->env->pc, sp, plan->n_out)) {
      rc = oom(b);
      goto done;
    }
    sp->child[0] = plan;
    sp->sort_keys = order;
    sp->n_sort_keys = n_order;
    sp->est_rows = plan->est_rows;
    memcpy(sp->out_ids, plan->out_ids, plan->n_out * sizeof *sp->out_ids);
    memcpy(sp->out_names, plan->out_names, plan->n_out * sizeof *sp->out_names);
    memcpy(sp->out_types, plan->out_types, plan->n_out * sizeof *sp->out_types);
    plan = sp;
  }
  {
    int64_t limit = -1, offset = 0;
    rc = bind_limit(b, st->limit_count, &limit, "LIMIT");
    if (rc == 0) rc = bind_limit(b, st->limit_offset, &offset, "OFFSET");
    if (rc) goto done;
    if (limit >= 0 || offset > 0) {
      sql_plan *lp = sql_plan_new(b->env->pc, SQL_P_LIMIT);
      if (lp == NULL || sql_plan_alloc_out(b->env->pc, lp, plan->n_out)) {
        rc = oom(b);
        goto done;
      }
      lp->child[0] = plan;
      lp->limit = limit;
      lp->offset = offset;
      lp->est_rows = plan->est_rows;
      memcpy(lp->out_ids, plan->out_ids, plan->n_out * sizeof *lp->out_ids);
      memcpy(lp->out_names, plan->out_names, plan->n_out * sizeof *lp->out_names);
      memcpy(lp->out_types, plan->out_types, plan->n_out * sizeof *lp->out_types);
      plan = lp;
    }
  }
  if (tl.n > n_visible) {
    /* Drop the hidden ORDER BY columns. */
    sql_expr **exprs = bz(b, n_visible, sizeof *exprs);
    if (exprs == NULL) {
      rc = oom(b);
      goto done;
    }
    for (size_t i = 0; i < n_visible; i++)
      exprs[i] = col_ref(b, plan->out_ids[i], plan->out_types[i]);
    sql_plan *fp = make_project(b, plan, exprs, plan->out_names, n_visible);
    if (fp == NULL) {
      rc = oom(b);
      goto done;
    }
    plan = fp;
  }
  *out = plan;
  g_window_clause = saved_windows;
  g_n_window_clause = saved_n_windows;
done:
  b->agg = saved_agg;
  b->ctes = saved_ctes;
  b->last_correlated = s.correlated;
  return rc;
}

/* --- Statements ---------------------------------------------------------------------------------
 */

static int bind_query_node(binder *b, const PgQuery__Node *n, sql_plan **out) {
  if (n == NULL || n->node_case != PG_QUERY__NODE__NODE_SELECT_STMT)
    return tarn_err(b->err, TARN_EUNSUPPORTED, "only queries are supported here");
  return bind_select(b, n->select_stmt, NULL, out);
}

static const char *def_string(const PgQuery__DefElem *d) {
  const PgQuery__Node *a = d->arg;
  if (a == NULL) return NULL;
  if (a->node_case == PG_QUERY__NODE__NODE_STRING) return a->string->sval;
  if (a->node_case == PG_QUERY__NODE__NODE_TYPE_NAME && a->type_name->n_names)
    return str_node(a->type_name->names[a->type_name->n_names - 1]);
  if (a->node_case == PG_QUERY__NODE__NODE_A_CONST &&
      a->a_const->val_case == PG_QUERY__A__CONST__VAL_SVAL)
    return a->a_const->sval->sval;
  return NULL;
}

/* A constant procedure argument as text: strings as they are, numbers as written, booleans
 * "true" / "false", and a cast of a string constant ('7 days'::interval) as its string. */
static const char *call_arg_text(binder *b, const PgQuery__Node *n) {
  if (n && n->node_case == PG_QUERY__NODE__NODE_TYPE_CAST) n = n->type_cast->arg;
  if (n == NULL || n->node_case != PG_QUERY__NODE__NODE_A_CONST || n->a_const->isnull) return NULL;
  const PgQuery__AConst *c = n->a_const;
  char num[32];
  switch (c->val_case) {
  case PG_QUERY__A__CONST__VAL_SVAL: return c->sval->sval;
  case PG_QUERY__A__CONST__VAL_FVAL: return c->fval->fval;
  case PG_QUERY__A__CONST__VAL_BOOLVAL: return c->boolval->boolval ? "true" : "false";
  case PG_QUERY__A__CONST__VAL_IVAL:
    snprintf(num, sizeof num, "%d", c->ival->ival);
    return bstrdup(b, num);
  default: return NULL;
  }
}

/* CALL vacuum | optimize | restore ('table' or 'dir', ...): Delta maintenance procedures, with
 * Spark's and Databricks' argument names; positional arguments after the table follow the
 * order in `params`. */
static int bind_call(binder *b, const PgQuery__CallStmt *cs, sql_bound *out) {
  static const struct {
    const char *name;
    const char *params[4];
  } procs[] = {{"vacuum", {"retain", "dry_run", "force", NULL}},
               {"optimize", {"zorder", "target_size", NULL}},
               {"restore", {"version", "timestamp", NULL}}};
  const PgQuery__FuncCall *fc = cs->funccall;
  const char *name = fc && fc->n_funcname ? str_node(fc->funcname[fc->n_funcname - 1]) : NULL;
  size_t p = 0, n_procs = sizeof procs / sizeof procs[0];
  while (name && p < n_procs && strcmp(procs[p].name, name) != 0)
    p++;
  if (name == NULL || p == n_procs)
    return tarn_err(b->err, TARN_EINVAL,
                    "procedure %s does not exist (there are vacuum, optimize and restore)",
                    name ? name : "?");
  const char *table = NULL;
  if (fc->n_args < 1 || fc->args[0]->node_case == PG_QUERY__NODE__NODE_NAMED_ARG_EXPR ||
      (table = call_arg_text(b, fc->args[0])) == NULL || table[0] == 0)
    return tarn_err(b->err, TARN_EINVAL, "%s: the first argument is the table name or directory",
                    name);
  out->kind = SQL_STMT_CALL;
  out->call_proc = procs[p].name;
  out->target = table;
  char dir[4096];
  if (b->env->warehouse && strchr(table, '/') == NULL)
    snprintf(dir, sizeof dir, "%s/%s", b->env->warehouse, table);
  else
    snprintf(dir, sizeof dir, "%s", table);
  out->target_dir = bstrdup(b, dir);
  out->option_keys = bz(b, fc->n_args, sizeof *out->option_keys);
  out->option_values = bz(b, fc->n_args, sizeof *out->option_values);
  if (!out->target_dir || !out->option_keys || !out->option_values) return oom(b);
  size_t n_params = 0;
  while (n_params < 4 && procs[p].params[n_params])
    n_params++;
  bool named_seen = false;
  for (size_t i = 1; i < fc->n_args; i++) {
    const PgQuery__Node *a = fc->args[i];
    const char *key;
    if (a->node_case == PG_QUERY__NODE__NODE_NAMED_ARG_EXPR) {
      key = a->named_arg_expr->name;
      a = a->named_arg_expr->arg;
      named_seen = true;
      size_t k = 0;
      while (k < n_params && strcmp(procs[p].params[k], key) != 0)
        k++;
      if (k == n_params)
        return tarn_err(b->err, TARN_EINVAL, "%s has no argument named \"%s\"", name, key);
    } else {
      if (named_seen)
        return tarn_err(b->err, TARN_EINVAL, "%s: positional argument cannot follow named argument",
                        name);
      if (i - 1 >= n_params)
        return tarn_err(b->err, TARN_EINVAL, "%s takes at most %zu arguments", name, n_params + 1);
      key = procs[p].params[i - 1];
    }
    for (size_t k = 0; k < out->n_options; k++)
      if (strcmp(out->option_keys[k], key) == 0)
        return tarn_err(b->err, TARN_EINVAL, "%s: argument \"%s\" given more than once", name, key);
    const char *v = call_arg_text(b, a);
    if (v == NULL)
      return tarn_err(b->err, TARN_EINVAL, "%s: argument \"%s\" must be a constant", name, key);
    out->option_keys[out->n_options] = key;
    out->option_values[out->n_options++] = v;
  }
  /* checked last, so that fuzzing (which denies files) still reaches the argument checks */
  if (b->env->deny_files) return tarn_err(b->err, TARN_EINVAL, "writing files is disabled");
  return 0;
}

/* CREATE TABLE's WITH (name = value, ...) options into out (qualified names as "ns.name"). */
static int bind_create_options(binder *b, PgQuery__Node *const *options, size_t n, sql_bound *out) {
  out->option_keys = bz(b, n + 1, sizeof *out->option_keys);
  out->option_values = bz(b, n + 1, sizeof *out->option_values);
  if (!out->option_keys || !out->option_values) return oom(b);
  for (size_t i = 0; i < n; i++) {
    const PgQuery__DefElem *d =
        options[i]->node_case == PG_QUERY__NODE__NODE_DEF_ELEM ? options[i]->def_elem : NULL;
    const char *v = d ? def_string(d) : NULL;
    if (d && v == NULL && d->arg && d->arg->node_case == PG_QUERY__NODE__NODE_INTEGER) {
      char num[32];
      snprintf(num, sizeof num, "%d", d->arg->integer->ival);
      v = bstrdup(b, num);
    }
    if (d == NULL || v == NULL)
      return tarn_err(b->err, TARN_EINVAL, "CREATE TABLE %s: WITH options are name = 'value'",
                      out->target);
    if (d->defnamespace && *d->defnamespace) {
      char key[256];
      snprintf(key, sizeof key, "%s.%s", d->defnamespace, d->defname);
      out->option_keys[i] = bstrdup(b, key);
    } else {
      out->option_keys[i] = d->defname;
    }
    out->option_values[i] = v;
  }
  out->n_options = n;
  return 0;
}

/* --- DELETE, UPDATE, MERGE ------------------------------------------------------------------
 * Each binds to one plan of changes (binder.h, SQL_STMT_DML): the target table is scanned with
 * its row identity columns, joined with what the statement reads (USING, FROM, MERGE's source),
 * filtered, and projected to (file, position, action, new values). The engine turns the changes
 * into deletion vectors or rewritten files and one commit. */

static sql_expr *const_int4(binder *b, int64_t v) {
  sql_expr *e = new_expr(b, SQL_E_CONST, sql_type_get(SQL_INT4));
  if (e) {
    e->value.type = e->type;
    e->value.u.i64 = v;
  }
  return e;
}

static sql_expr *const_bool(binder *b, bool v) {
  sql_expr *e = new_expr(b, SQL_E_CONST, sql_type_get(SQL_BOOL));
  if (e) {
    e->value.type = e->type;
    e->value.u.b = v;
  }
  return e;
}

static sql_expr *is_not_null(binder *b, sql_expr *x) {
  sql_expr *e = new_expr(b, SQL_E_IS_NULL, sql_type_get(SQL_BOOL));
  if (e == NULL || set_args(b, e, 1)) return NULL;
  e->args[0] = x;
  e->negated = true;
  return e;
}

static int bind_condition(binder *b, scope *s, const PgQuery__Node *n, const char *what,
                          sql_expr **out) {
  int rc = bind_expr(b, s, n, out);
  if (rc == 0 && (*out)->type->id != SQL_BOOL) {
    if ((*out)->type->id == SQL_NULL || (*out)->unknown_literal)
      rc = cast_to(b, out, sql_type_get(SQL_BOOL));
    else
      rc = tarn_err(b->err, TARN_EINVAL, "argument of %s must be type boolean", what);
  }
  return rc;
}

static sql_plan *make_filter_plan(binder *b, sql_plan *child, sql_expr *pred) {
  sql_plan *f = sql_plan_new(b->env->pc, SQL_P_FILTER);
  if (f == NULL || sql_plan_alloc_out(b->env->pc, f, child->n_out)) return NULL;
  f->child[0] = child;
  f->predicate = pred;
  f->est_rows = child->est_rows * 0.5;
  memcpy(f->out_ids, child->out_ids, child->n_out * sizeof *f->out_ids);
  memcpy(f->out_names, child->out_names, child->n_out * sizeof *f->out_names);
  memcpy(f->out_types, child->out_types, child->n_out * sizeof *f->out_types);
  return f;
}

static sql_plan *make_join_plan(binder *b, sql_plan *l, sql_plan *r, sql_join_kind kind,
                                sql_expr *cond) {
  sql_plan *j = sql_plan_new(b->env->pc, SQL_P_JOIN);
  if (j == NULL || sql_plan_alloc_out(b->env->pc, j, l->n_out + r->n_out)) return NULL;
  j->child[0] = l;
  j->child[1] = r;
  j->join_kind = kind;
  j->condition = cond;
  for (size_t i = 0; i < l->n_out + r->n_out; i++) {
    const sql_plan *c = i < l->n_out ? l : r;
    size_t k = i < l->n_out ? i : i - l->n_out;
    j->out_ids[i] = c->out_ids[k];
    j->out_names[i] = c->out_names[k];
    j->out_types[i] = c->out_types[k];
  }
  return j;
}

/* A projection passing every column of child through (same ids) plus extra. */
static sql_plan *project_plus(binder *b, sql_plan *child, sql_expr *extra, const char *name) {
  size_t n = child->n_out + 1;
  sql_expr **exprs = bz(b, n, sizeof *exprs);
  const char **names = bz(b, n, sizeof *names);
  if (exprs == NULL || names == NULL) return NULL;
  for (size_t i = 0; i < child->n_out; i++) {
    if ((exprs[i] = col_ref(b, child->out_ids[i], child->out_types[i])) == NULL) return NULL;
    names[i] = child->out_names[i];
  }
  exprs[n - 1] = extra;
  names[n - 1] = name;
  sql_plan *p = make_project(b, child, exprs, names, n);
  if (p == NULL) return NULL;
  for (size_t i = 0; i < child->n_out; i++)
    p->out_ids[i] = child->out_ids[i];
  return p;
}

/* The target of a DML statement: a Delta table of the warehouse, read with its row identity
 * columns and scanned into s under its alias. *file_id and *pos_id: those columns' ids. */
static int bind_dml_target(binder *b, const PgQuery__RangeVar *rv, const char *op, sql_bound *out,
                           sql_plan **plan, scope *s, int *file_id, int *pos_id) {
  const sql_binder_env *env = b->env;
  if (rv == NULL || rv->relname == NULL)
    return tarn_err(b->err, TARN_EINVAL, "%s needs a table", op);
  if (env->warehouse == NULL || env->deny_files)
    return tarn_err(b->err, TARN_EINVAL, "%s needs a warehouse (tarn sql -w DIR)", op);
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/%s", env->warehouse, rv->relname);
  if (!delta_is_table(dir))
    return tarn_err(b->err, TARN_EINVAL, "relation \"%s\" does not exist (or is not a Delta table)",
                    rv->relname);
  sql_source *src;
  int rc = sql_source_delta(b->a, dir, -1, INT64_MIN, &src, b->err);
  if (rc) return rc;
  size_t n = src->n_cols;
  if ((rc = sql_source_add_row_ids(b->a, src, b->err))) return rc;
  src->name = bstrdup(b, rv->relname);
  const char *alias = rv->alias && rv->alias->aliasname ? rv->alias->aliasname : rv->relname;
  size_t first = s->n;
  if ((rc = scan_plan(b, src, alias, plan, s))) return rc;
  s->cols[first + n].hidden = s->cols[first + n + 1].hidden = true;
  *file_id = (*plan)->out_ids[n];
  *pos_id = (*plan)->out_ids[n + 1];
  out->kind = SQL_STMT_DML;
  out->dml_op = op;
  out->target = rv->relname;
  out->target_dir = bstrdup(b, dir);
  out->dml_table = src;
  out->dml_n_cols = n;
  return out->target_dir ? 0 : oom(b);
}

/* The change plan on top of child: file, position, action and the table's new values (values[c]
 * NULL: a NULL), cast to the table's types. */
static int dml_output(binder *b, sql_plan *child, int file_id, int pos_id, sql_expr *action,
                      sql_expr **values, sql_bound *out) {
  const sql_source *t = out->dml_table;
  size_t n = out->dml_n_cols, m = n + 3 + out->n_merge_cols;
  sql_expr **exprs = bz(b, m, sizeof *exprs);
  const char **names = bz(b, m, sizeof *names);
  if (exprs == NULL || names == NULL) return oom(b);
  exprs[0] = col_ref(b, file_id, sql_type_get(SQL_INT8));
  exprs[1] = col_ref(b, pos_id, sql_type_get(SQL_INT8));
  exprs[2] = action;
  names[0] = "__file";
  names[1] = "__pos";
  names[2] = "__action";
  for (size_t c = 0; c < n; c++) {
    exprs[3 + c] = values && values[c] ? values[c] : const_null(b);
    names[3 + c] = t->col_names[c];
    if (exprs[3 + c] == NULL) return oom(b);
    int rc = cast_to(b, &exprs[3 + c], t->col_types[c]);
    if (rc) {
      tarn_err_prefix(b->err, "column \"%s\"", t->col_names[c]);
      return rc;
    }
  }
  for (size_t j = 0; j < out->n_merge_cols; j++) { /* schema evolution: typed already */
    exprs[3 + n + j] = values[n + j];
    names[3 + n + j] = out->merge_col_names[j];
  }
  if (!exprs[0] || !exprs[1] || !exprs[2]) return oom(b);
  out->plan = make_project(b, child, exprs, names, m);
  return out->plan ? 0 : oom(b);
}

/* The table column named name (not a row identity column), or -1. */
static long dml_column(const sql_bound *out, const char *name) {
  for (size_t c = 0; name && c < out->dml_n_cols; c++)
    if (strcmp(out->dml_table->col_names[c], name) == 0) return (long)c;
  return -1;
}

/* SET assignments (ResTarget name = val) into values[] (cast to the column's type); columns
 * not assigned keep the target's value (target_scan's columns). */
static int bind_assignments(binder *b, scope *s, PgQuery__Node *const *targets, size_t n_targets,
                            const sql_plan *target_scan, sql_bound *out, sql_expr **values) {
  size_t n = out->dml_n_cols;
  for (size_t k = 0; k < n_targets; k++) {
    const PgQuery__ResTarget *rt =
        targets[k]->node_case == PG_QUERY__NODE__NODE_RES_TARGET ? targets[k]->res_target : NULL;
    if (rt == NULL || rt->n_indirection ||
        (rt->val && rt->val->node_case == PG_QUERY__NODE__NODE_MULTI_ASSIGN_REF))
      return tarn_err(b->err, TARN_EUNSUPPORTED,
                      "%s: only SET column = expression assignments are supported", out->dml_op);
    long c = dml_column(out, rt->name);
    if (c < 0)
      return tarn_err(b->err, TARN_EINVAL, "column \"%s\" of relation \"%s\" does not exist",
                      rt->name ? rt->name : "?", out->target);
    for (size_t j = 0; j < k; j++)
      if (strcmp(targets[j]->res_target->name, rt->name) == 0)
        return tarn_err(b->err, TARN_EINVAL, "multiple assignments to same column \"%s\"",
                        rt->name);
    sql_expr *e;
    int rc = rt->val && rt->val->node_case == PG_QUERY__NODE__NODE_SET_TO_DEFAULT
                 ? ((e = const_null(b)) ? 0 : oom(b))
                 : bind_expr(b, s, rt->val, &e);
    if (rc == 0) rc = cast_to(b, &e, out->dml_table->col_types[c]);
    if (rc) {
      tarn_err_prefix(b->err, "column \"%s\"", rt->name);
      return rc;
    }
    values[c] = e;
  }
  for (size_t c = 0; c < n; c++)
    if (values[c] == NULL &&
        (values[c] = col_ref(b, target_scan->out_ids[c], target_scan->out_types[c])) == NULL)
      return oom(b);
  return 0;
}

/* FROM / USING items of UPDATE and DELETE, cross-joined to the target (WHERE filters). */
static int bind_dml_from(binder *b, PgQuery__Node *const *items, size_t n, sql_plan **plan,
                         scope *s) {
  for (size_t i = 0; i < n; i++) {
    sql_plan *r;
    int rc = bind_from_item(b, NULL, items[i], &r, s);
    if (rc) return rc;
    if ((*plan = make_join_plan(b, *plan, r, SQL_JOIN_CROSS, NULL)) == NULL) return oom(b);
  }
  return 0;
}

static int bind_delete(binder *b, const PgQuery__DeleteStmt *ds, sql_bound *out) {
  if (ds->n_returning_list || ds->with_clause)
    return tarn_err(b->err, TARN_EUNSUPPORTED, "DELETE with RETURNING or WITH is not supported");
  scope s = {0};
  sql_plan *p;
  int file_id, pos_id;
  int rc = bind_dml_target(b, ds->relation, "DELETE", out, &p, &s, &file_id, &pos_id);
  if (rc == 0) rc = bind_dml_from(b, ds->using_clause, ds->n_using_clause, &p, &s);
  if (rc == 0 && ds->where_clause) {
    sql_expr *w;
    rc = bind_condition(b, &s, ds->where_clause, "WHERE", &w);
    if (rc == 0 && (p = make_filter_plan(b, p, w)) == NULL) rc = oom(b);
  }
  if (rc) return rc;
  sql_expr *action = const_int4(b, SQL_DML_DELETE);
  return action ? dml_output(b, p, file_id, pos_id, action, NULL, out) : oom(b);
}

static int bind_update(binder *b, const PgQuery__UpdateStmt *us, sql_bound *out) {
  if (us->n_returning_list || us->with_clause)
    return tarn_err(b->err, TARN_EUNSUPPORTED, "UPDATE with RETURNING or WITH is not supported");
  scope s = {0};
  sql_plan *p;
  int file_id, pos_id;
  int rc = bind_dml_target(b, us->relation, "UPDATE", out, &p, &s, &file_id, &pos_id);
  sql_plan *target_scan = p;
  if (rc == 0) rc = bind_dml_from(b, us->from_clause, us->n_from_clause, &p, &s);
  if (rc == 0 && us->where_clause) {
    sql_expr *w;
    rc = bind_condition(b, &s, us->where_clause, "WHERE", &w);
    if (rc == 0 && (p = make_filter_plan(b, p, w)) == NULL) rc = oom(b);
  }
  sql_expr **values = rc ? NULL : bz(b, out->dml_n_cols + 1, sizeof *values);
  if (rc == 0 && values == NULL) rc = oom(b);
  if (rc == 0)
    rc = bind_assignments(b, &s, us->target_list, us->n_target_list, target_scan, out, values);
  if (rc) return rc;
  sql_expr *action = const_int4(b, SQL_DML_UPDATE);
  return action ? dml_output(b, p, file_id, pos_id, action, values, out) : oom(b);
}

/* PostgreSQL 16's grammar has no WHEN NOT MATCHED BY SOURCE: the engine rewrites it to WHEN
 * MATCHED AND <this column> [AND cond] before parsing (sql_rewrite_merge), and the binder takes
 * the marker back out here. */
#define MERGE_BY_SOURCE_MARK "__tarn_not_matched_by_source__"
/* The column name of MERGE's UPDATE SET * and INSERT * after the parser's rewrite. */
#define MERGE_ALL_COLUMNS "__tarn_all__"

/* UPDATE SET * / INSERT *: each target column takes the source column of the same name (a
 * missing one is an error naming it). source: the source's scope entries. */
static int bind_star_values(binder *b, const scope *source, const sql_bound *out, const char *what,
                            sql_expr **row) {
  for (size_t c = 0; c < out->dml_n_cols; c++) {
    const char *name = out->dml_table->col_names[c];
    const scope_col *hit = NULL;
    for (size_t k = 0; k < source->n && hit == NULL; k++)
      if (!source->cols[k].hidden && source->cols[k].name &&
          strcasecmp(source->cols[k].name, name) == 0)
        hit = &source->cols[k];
    if (hit == NULL)
      return tarn_err(b->err, TARN_EINVAL, "MERGE %s *: the source has no column \"%s\"", what,
                      name);
    row[c] = col_ref(b, hit->id, hit->type);
    if (row[c] == NULL) return oom(b);
  }
  return 0;
}

static bool is_star_target(PgQuery__Node *const *targets, size_t n) {
  return n == 1 && targets[0]->node_case == PG_QUERY__NODE__NODE_RES_TARGET &&
         targets[0]->res_target->name &&
         strcmp(targets[0]->res_target->name, MERGE_ALL_COLUMNS) == 0;
}

/* The source's name in a MERGE rewritten from INSERT OVERWRITE or REPLACE WHERE. */
#define REPLACE_SOURCE_NAME "__tarn_replace__"
#define OVERWRITE_SOURCE_NAME "__tarn_overwrite__"

static bool is_by_source_mark(const PgQuery__Node *n) {
  if (n == NULL || n->node_case != PG_QUERY__NODE__NODE_COLUMN_REF) return false;
  const PgQuery__ColumnRef *cr = n->column_ref;
  return cr->n_fields == 1 && cr->fields[0]->node_case == PG_QUERY__NODE__NODE_STRING &&
         strcmp(cr->fields[0]->string->sval, MERGE_BY_SOURCE_MARK) == 0;
}

/* Splits the marker off a WHEN MATCHED condition: sets *by_source and returns the remaining
 * condition (NULL: none). The rewrite puts the marker first and the user's condition in
 * parentheses after it, and the parser flattens ANDs, so the marker is the condition itself or
 * the first operand of its top AND. */
static const PgQuery__Node *strip_by_source(binder *b, const PgQuery__Node *cond, bool *by_source) {
  *by_source = false;
  if (is_by_source_mark(cond)) {
    *by_source = true;
    return NULL;
  }
  if (cond && cond->node_case == PG_QUERY__NODE__NODE_BOOL_EXPR &&
      cond->bool_expr->boolop == PG_QUERY__BOOL_EXPR_TYPE__AND_EXPR &&
      cond->bool_expr->n_args >= 2 && is_by_source_mark(cond->bool_expr->args[0])) {
    *by_source = true;
    const PgQuery__BoolExpr *be = cond->bool_expr;
    if (be->n_args == 2) return be->args[1];
    /* AND(mark, x, y...) -> AND(x, y...) */
    PgQuery__BoolExpr *copy = bz(b, 1, sizeof *copy);
    PgQuery__Node *node = bz(b, 1, sizeof *node);
    if (copy == NULL || node == NULL) return cond;
    *copy = *be;
    copy->args = be->args + 1;
    copy->n_args = be->n_args - 1;
    *node = *cond;
    node->bool_expr = copy;
    return node;
  }
  return cond;
}

static int bind_merge(binder *b, const PgQuery__MergeStmt *ms, sql_bound *out) {
  if (ms->with_clause)
    return tarn_err(b->err, TARN_EUNSUPPORTED, "MERGE with WITH is not supported");
  scope s = {0};
  sql_plan *tp, *sp;
  int file_id, pos_id;
  int rc = bind_dml_target(b, ms->relation, "MERGE", out, &tp, &s, &file_id, &pos_id);
  scope target_only = s; /* the target's columns alone (for REPLACE WHERE's condition) */
  if (rc == 0) rc = bind_from_item(b, NULL, ms->source_relation, &sp, &s);
  if (rc) return rc;
  target_only.cols = s.cols;
  /* the source's columns alone (UPDATE SET * and INSERT * take them by name) */
  scope source_only = {s.cols + target_only.n, s.n - target_only.n, s.n - target_only.n, NULL,
                       false};
  /* INSERT OVERWRITE and INSERT ... REPLACE WHERE, rewritten to MERGE by the parser (parser.c,
   * rewrite_overwrite): the source's columns are the table's, in order. */
  const PgQuery__Node *sr = ms->source_relation;
  const char *src_name =
      sr && sr->node_case == PG_QUERY__NODE__NODE_RANGE_SUBSELECT && sr->range_subselect->alias
          ? sr->range_subselect->alias->aliasname
          : "";
  bool overwrite = strcmp(src_name, OVERWRITE_SOURCE_NAME) == 0;
  bool replace = overwrite || strcmp(src_name, REPLACE_SOURCE_NAME) == 0;
  /* dynamic partition overwrite: the plan only inserts (the rewrite's last clause, the delete,
   * is dropped); sql_delta_dml removes the files of the partitions written */
  bool dynamic = overwrite && b->env->dynamic_overwrite;
  size_t n_replace_cols = sp->n_out;
  /* REPLACE WHERE's constraint: the new rows must satisfy the condition too. It is bound in a
   * scope of the source's columns under the table's names (the query fills them in order). */
  scope new_rows = {0};
  if (replace && n_replace_cols == out->dml_n_cols) {
    /* the query's columns cast to the table's types, under its names */
    sql_expr **cast = bz(b, n_replace_cols + 1, sizeof *cast);
    if (cast == NULL) return oom(b);
    for (size_t c = 0; c < n_replace_cols; c++) {
      if ((cast[c] = col_ref(b, sp->out_ids[c], sp->out_types[c])) == NULL) return oom(b);
      if ((rc = cast_to(b, &cast[c], out->dml_table->col_types[c]))) {
        tarn_err_prefix(b->err, "column \"%s\"", out->dml_table->col_names[c]);
        return rc;
      }
    }
    sp = make_project(b, sp, cast, out->dml_table->col_names, n_replace_cols);
    if (sp == NULL) return oom(b);
    new_rows.cols = bz(b, n_replace_cols + 1, sizeof *new_rows.cols);
    if (new_rows.cols == NULL) return oom(b);
    for (size_t c = 0; c < n_replace_cols; c++)
      new_rows.cols[c] =
          (scope_col){NULL, out->dml_table->col_names[c], sp->out_ids[c], sp->out_types[c], false};
    new_rows.n = new_rows.cap = n_replace_cols;
  }
  sql_expr *new_row_ok = NULL;
  /* A constant TRUE on the source side tells a matched or source-only row from a target-only
   * one after an outer join. */
  sql_expr *mark = const_bool(b, true);
  if (mark == NULL || (sp = project_plus(b, sp, mark, "__tarn_src")) == NULL) return oom(b);
  int src_id = sp->out_ids[sp->n_out - 1];
  size_t n_clauses = ms->n_merge_when_clauses - (dynamic && ms->n_merge_when_clauses > 1);
  const PgQuery__MergeWhenClause **cl = bz(b, n_clauses + 1, sizeof *cl);
  int *group = bz(b, n_clauses + 1, sizeof *group); /* 0 matched, 1 not matched, 2 by source */
  const PgQuery__Node **conds = bz(b, n_clauses + 1, sizeof *conds);
  if (cl == NULL || group == NULL || conds == NULL) return oom(b);
  bool any_not_matched = false, any_by_source = false;
  for (size_t k = 0; k < n_clauses; k++) {
    const PgQuery__Node *nd = ms->merge_when_clauses[k];
    if (nd->node_case != PG_QUERY__NODE__NODE_MERGE_WHEN_CLAUSE)
      return tarn_err(b->err, TARN_EINVAL, "MERGE: malformed WHEN clause");
    cl[k] = nd->merge_when_clause;
    conds[k] = cl[k]->condition;
    if (cl[k]->matched) {
      bool by_source;
      conds[k] = strip_by_source(b, cl[k]->condition, &by_source);
      group[k] = by_source ? 2 : 0;
    } else {
      group[k] = 1;
    }
    any_not_matched |= group[k] == 1;
    any_by_source |= group[k] == 2;
    if (group[k] == 1 && cl[k]->command_type != PG_QUERY__CMD_TYPE__CMD_INSERT &&
        cl[k]->command_type != PG_QUERY__CMD_TYPE__CMD_NOTHING)
      return tarn_err(b->err, TARN_EINVAL, "MERGE: WHEN NOT MATCHED can only INSERT");
    if (group[k] != 1 && cl[k]->command_type == PG_QUERY__CMD_TYPE__CMD_INSERT)
      return tarn_err(b->err, TARN_EINVAL, "MERGE: WHEN MATCHED cannot INSERT");
  }
  sql_join_kind kind = any_not_matched && any_by_source ? SQL_JOIN_FULL
                       : any_not_matched                ? SQL_JOIN_RIGHT
                       : any_by_source                  ? SQL_JOIN_LEFT
                                                        : SQL_JOIN_INNER;
  sql_expr *on;
  rc = bind_condition(b, &s, ms->join_condition, "MERGE ... ON", &on);
  if (rc) return rc;
  sql_plan *j = make_join_plan(b, tp, sp, kind, on);
  if (j == NULL) return oom(b);
  /* __clause: the number (1-based) of the first clause that applies to the joined row, or NULL
   * (none, or DO NOTHING). Groups are disjoint, so one searched CASE keeps each group's order. */
  sql_expr *tgt = is_not_null(b, col_ref(b, pos_id, sql_type_get(SQL_INT8)));
  sql_expr *src = is_not_null(b, col_ref(b, src_id, sql_type_get(SQL_BOOL)));
  if (tgt == NULL || src == NULL) return oom(b);
  sql_expr *pick = new_expr(b, SQL_E_CASE, sql_type_get(SQL_INT4));
  if (pick == NULL || set_args(b, pick, 2 * n_clauses)) return oom(b);
  for (size_t k = 0; k < n_clauses; k++) {
    sql_expr *in_group, *c = NULL;
    sql_expr *not_tgt = new_expr(b, SQL_E_NOT, sql_type_get(SQL_BOOL));
    sql_expr *not_src = new_expr(b, SQL_E_NOT, sql_type_get(SQL_BOOL));
    if (not_tgt == NULL || not_src == NULL || set_args(b, not_tgt, 1) || set_args(b, not_src, 1))
      return oom(b);
    not_tgt->args[0] = tgt;
    not_src->args[0] = src;
    sql_expr *pair[2] = {group[k] == 1 ? not_tgt : tgt, group[k] == 2 ? not_src : src};
    if ((rc = make_bool(b, SQL_E_AND, pair, 2, &in_group))) return rc;
    if (conds[k]) {
      /* REPLACE WHERE's condition names the table's columns, whatever the query's are named */
      scope *cs = replace && group[k] == 2 ? &target_only : &s;
      rc = bind_condition(b, cs, conds[k], replace ? "REPLACE WHERE" : "MERGE ... WHEN", &c);
      if (rc == 0 && replace && group[k] == 2 && new_rows.n)
        rc = bind_condition(b, &new_rows, conds[k], "REPLACE WHERE", &new_row_ok);
      sql_expr *both[2] = {in_group, c};
      if (rc == 0) rc = make_bool(b, SQL_E_AND, both, 2, &in_group);
      if (rc) return rc;
    }
    pick->args[2 * k] = in_group;
    bool nothing = cl[k]->command_type == PG_QUERY__CMD_TYPE__CMD_NOTHING;
    pick->args[2 * k + 1] = nothing ? const_null(b) : const_int4(b, (int64_t)k + 1);
    if (pick->args[2 * k + 1] == NULL) return oom(b);
    if (nothing && (rc = cast_to(b, &pick->args[2 * k + 1], sql_type_get(SQL_INT4)))) return rc;
  }
  sql_plan *p = n_clauses ? project_plus(b, j, pick, "__tarn_clause") : j;
  if (p == NULL) return oom(b);
  int clause_id = p->out_ids[p->n_out - 1];
  sql_expr *some = is_not_null(b, col_ref(b, clause_id, sql_type_get(SQL_INT4)));
  if (some == NULL || (p = make_filter_plan(b, p, some)) == NULL) return oom(b);
  /* The action and each new value: a CASE over __clause. */
  size_t n = out->dml_n_cols;
  /* Schema evolution: with UPDATE SET * or INSERT *, source columns the target lacks follow the
   * table's columns (sql_delta_dml adds them when schema merge is on, else ignores them). */
  bool any_star = false;
  for (size_t k = 0; k < n_clauses; k++)
    any_star |= !replace && is_star_target(cl[k]->target_list, cl[k]->n_target_list);
  const scope_col **extra = bz(b, source_only.n + 1, sizeof *extra);
  const char **extra_names = bz(b, source_only.n + 1, sizeof *extra_names);
  if (extra == NULL || extra_names == NULL) return oom(b);
  size_t n_extra = 0;
  for (size_t k = 0; any_star && k < source_only.n; k++) {
    const scope_col *sc = &source_only.cols[k];
    if (sc->hidden || sc->name == NULL) continue;
    bool known = false;
    for (size_t c = 0; c < n && !known; c++)
      known = strcasecmp(out->dml_table->col_names[c], sc->name) == 0;
    for (size_t j = 0; j < n_extra && !known; j++)
      known = strcasecmp(extra_names[j], sc->name) == 0;
    if (known) continue;
    extra[n_extra] = sc;
    extra_names[n_extra++] = sc->name;
  }
  out->n_merge_cols = n_extra;
  out->merge_col_names = extra_names;
  size_t n_all = n + n_extra;
  sql_expr *action = new_expr(b, SQL_E_CASE, sql_type_get(SQL_INT4));
  sql_expr **values = bz(b, n_all + 1, sizeof *values);
  if (action == NULL || values == NULL || set_args(b, action, 2 * n_clauses)) return oom(b);
  for (size_t c = 0; c < n_all; c++) {
    values[c] = new_expr(b, SQL_E_CASE, c < n ? out->dml_table->col_types[c] : extra[c - n]->type);
    if (values[c] == NULL || set_args(b, values[c], 2 * n_clauses)) return oom(b);
  }
  sql_expr **row = bz(b, n_all + 1, sizeof *row);
  if (row == NULL) return oom(b);
  for (size_t k = 0; k < n_clauses; k++) {
    sql_expr *is_k;
    rc = make_binop(b, "=", col_ref(b, clause_id, sql_type_get(SQL_INT4)),
                    const_int4(b, (int64_t)k + 1), &is_k);
    if (rc) return rc;
    int code = cl[k]->command_type == PG_QUERY__CMD_TYPE__CMD_DELETE   ? SQL_DML_DELETE
               : cl[k]->command_type == PG_QUERY__CMD_TYPE__CMD_UPDATE ? SQL_DML_UPDATE
               : cl[k]->command_type == PG_QUERY__CMD_TYPE__CMD_INSERT ? SQL_DML_INSERT
                                                                       : 0;
    action->args[2 * k] = is_k;
    action->args[2 * k + 1] = code ? const_int4(b, code) : const_null(b);
    if (action->args[2 * k + 1] == NULL) return oom(b);
    if (code == SQL_DML_INSERT && replace && new_row_ok) {
      /* CASE WHEN <the row satisfies the condition> THEN insert ELSE refused END */
      sql_expr *check = new_expr(b, SQL_E_CASE, sql_type_get(SQL_INT4));
      if (check == NULL || set_args(b, check, 3)) return oom(b);
      check->has_else = true;
      check->args[0] = new_row_ok;
      check->args[1] = action->args[2 * k + 1];
      check->args[2] = const_int4(b, SQL_DML_REFUSED);
      if (check->args[2] == NULL) return oom(b);
      action->args[2 * k + 1] = check;
    }
    if (!code && (rc = cast_to(b, &action->args[2 * k + 1], sql_type_get(SQL_INT4)))) return rc;
    memset(row, 0, (n_all + 1) * sizeof *row);
    bool star = !replace && (code == SQL_DML_UPDATE || code == SQL_DML_INSERT) &&
                is_star_target(cl[k]->target_list, cl[k]->n_target_list);
    for (size_t j = 0; star && j < n_extra; j++) /* the new columns, from the source */
      if ((row[n + j] = col_ref(b, extra[j]->id, extra[j]->type)) == NULL) return oom(b);
    if (star) {
      rc = bind_star_values(b, &source_only, out, code == SQL_DML_UPDATE ? "UPDATE SET" : "INSERT",
                            row);
    } else if (code == SQL_DML_UPDATE) {
      rc = bind_assignments(b, &s, cl[k]->target_list, cl[k]->n_target_list, tp, out, row);
    } else if (code == SQL_DML_INSERT && replace) {
      /* PARTITION (p = v): those columns take the values; the query fills the others in order */
      for (size_t v = 0; rc == 0 && v < cl[k]->n_target_list && v < cl[k]->n_values; v++) {
        const PgQuery__Node *t = cl[k]->target_list[v];
        const char *nm =
            t->node_case == PG_QUERY__NODE__NODE_RES_TARGET ? t->res_target->name : NULL;
        long c = dml_column(out, nm);
        if (c < 0)
          return tarn_err(b->err, TARN_EINVAL,
                          "PARTITION: column \"%s\" of relation \"%s\" "
                          "does not exist",
                          nm ? nm : "?", out->target);
        if (row[c])
          return tarn_err(b->err, TARN_EINVAL, "PARTITION: column \"%s\" given twice", nm);
        /* a column is a partition column when the files carry values for it (an empty table
         * has no files to tell, and the statement then only filters by it) */
        const sql_source *ts = out->dml_table;
        if (ts->n_files && ts->files[0].partition && ts->files[0].partition[c].type == NULL)
          return tarn_err(b->err, TARN_EINVAL,
                          "PARTITION: column \"%s\" is not a partition column of \"%s\"", nm,
                          out->target);
        rc = bind_expr(b, &s, cl[k]->values[v], &row[c]);
      }
      size_t q = 0;
      for (size_t c = 0; rc == 0 && c < n && q < n_replace_cols; c++) {
        if (row[c]) continue;
        if ((row[c] = col_ref(b, sp->out_ids[q], sp->out_types[q])) == NULL) return oom(b);
        q++;
      }
      if (rc == 0 && q < n_replace_cols)
        return tarn_err(b->err, TARN_EINVAL, "INSERT has more expressions than target columns");
    } else if (code == SQL_DML_INSERT) {
      size_t nv = cl[k]->n_values, nt = cl[k]->n_target_list;
      if (nt && nt != nv)
        return tarn_err(b->err, TARN_EINVAL, "MERGE INSERT has %zu target columns but %zu values",
                        nt, nv);
      if (nv > n) return tarn_err(b->err, TARN_EINVAL, "MERGE INSERT has more values than columns");
      for (size_t v = 0; rc == 0 && v < nv; v++) {
        long c = (long)v;
        if (nt) {
          const PgQuery__Node *t = cl[k]->target_list[v];
          const char *nm =
              t->node_case == PG_QUERY__NODE__NODE_RES_TARGET ? t->res_target->name : NULL;
          if ((c = dml_column(out, nm)) < 0)
            return tarn_err(b->err, TARN_EINVAL, "column \"%s\" of relation \"%s\" does not exist",
                            nm ? nm : "?", out->target);
          if (row[c])
            return tarn_err(b->err, TARN_EINVAL, "column \"%s\" specified more than once", nm);
        }
        const PgQuery__Node *vn = cl[k]->values[v];
        if (vn->node_case == PG_QUERY__NODE__NODE_SET_TO_DEFAULT)
          row[c] = const_null(b);
        else
          rc = bind_expr(b, &s, vn, &row[c]);
        if (rc == 0 && row[c] == NULL) rc = oom(b);
      }
    }
    if (rc) return rc;
    for (size_t c = 0; c < n_all; c++) {
      sql_expr *v = row[c] ? row[c] : const_null(b);
      if (v == NULL) return oom(b);
      const sql_type *ct = c < n ? out->dml_table->col_types[c] : extra[c - n]->type;
      if ((rc = cast_to(b, &v, ct))) {
        tarn_err_prefix(b->err, "column \"%s\"",
                        c < n ? out->dml_table->col_names[c] : extra_names[c - n]);
        return rc;
      }
      values[c]->args[2 * k] = is_k;
      values[c]->args[2 * k + 1] = v;
    }
  }
  if (replace) out->dml_op = "WRITE";
  out->dynamic_overwrite = dynamic;
  return dml_output(b, p, file_id, pos_id, n_clauses ? action : const_int4(b, 0), values, out);
}

/* --- ALTER TABLE ------------------------------------------------------------------------------ */

static int alter_target(binder *b, const PgQuery__RangeVar *rv, sql_bound *out) {
  if (rv == NULL || rv->relname == NULL)
    return tarn_err(b->err, TARN_EINVAL, "ALTER TABLE needs a table");
  if (b->env->warehouse == NULL || b->env->deny_files)
    return tarn_err(b->err, TARN_EINVAL, "ALTER TABLE needs a warehouse (tarn sql -w DIR)");
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/%s", b->env->warehouse, rv->relname);
  if (!delta_is_table(dir))
    return tarn_err(b->err, TARN_EINVAL, "relation \"%s\" does not exist (or is not a Delta table)",
                    rv->relname);
  out->kind = SQL_STMT_ALTER;
  out->target = rv->relname;
  out->target_dir = bstrdup(b, dir);
  return out->target_dir ? 0 : oom(b);
}

static int bind_alter(binder *b, const PgQuery__AlterTableStmt *as, sql_bound *out) {
  int rc = alter_target(b, as->relation, out);
  if (rc) return rc;
  out->alters = bz(b, as->n_cmds + 1, sizeof *out->alters);
  if (out->alters == NULL) return oom(b);
  for (size_t i = 0; i < as->n_cmds; i++) {
    const PgQuery__AlterTableCmd *c = as->cmds[i]->node_case == PG_QUERY__NODE__NODE_ALTER_TABLE_CMD
                                          ? as->cmds[i]->alter_table_cmd
                                          : NULL;
    sql_alter *al = &out->alters[out->n_alters++];
    if (c && c->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_AddColumn && c->def &&
        c->def->node_case == PG_QUERY__NODE__NODE_COLUMN_DEF) {
      const PgQuery__ColumnDef *cd = c->def->column_def;
      al->kind = SQL_ALTER_ADD_COLUMN;
      al->name = cd->colname;
      al->nullable = !cd->is_not_null;
      for (size_t k = 0; k < cd->n_constraints; k++)
        if (cd->constraints[k]->node_case == PG_QUERY__NODE__NODE_CONSTRAINT &&
            cd->constraints[k]->constraint->contype == PG_QUERY__CONSTR_TYPE__CONSTR_NOTNULL)
          al->nullable = false;
      if ((rc = bind_type_name(b, cd->type_name, &al->type))) return rc;
    } else if (c && c->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_DropColumn) {
      al->kind = SQL_ALTER_DROP_COLUMN;
      al->name = c->name;
      al->if_exists = c->missing_ok;
    } else if (c &&
               (c->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_SetRelOptions ||
                c->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_ResetRelOptions) &&
               c->def && c->def->node_case == PG_QUERY__NODE__NODE_LIST) {
      const PgQuery__List *l = c->def->list;
      al->kind = c->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_SetRelOptions ? SQL_ALTER_SET
                                                                            : SQL_ALTER_RESET;
      al->option_keys = bz(b, l->n_items + 1, sizeof *al->option_keys);
      al->option_values = bz(b, l->n_items + 1, sizeof *al->option_values);
      if (!al->option_keys || !al->option_values) return oom(b);
      for (size_t k = 0; k < l->n_items; k++) {
        const PgQuery__DefElem *d =
            l->items[k]->node_case == PG_QUERY__NODE__NODE_DEF_ELEM ? l->items[k]->def_elem : NULL;
        if (d == NULL) return tarn_err(b->err, TARN_EINVAL, "ALTER TABLE SET: malformed option");
        const char *v = def_string(d);
        if (al->kind == SQL_ALTER_SET && v == NULL)
          return tarn_err(b->err, TARN_EINVAL, "ALTER TABLE SET: option %s needs a value",
                          d->defname);
        al->option_keys[al->n_options] = d->defname;
        al->option_values[al->n_options++] = v;
      }
    } else {
      return tarn_err(b->err, TARN_EUNSUPPORTED,
                      "ALTER TABLE: only ADD COLUMN, DROP COLUMN, RENAME COLUMN, SET (...) and "
                      "RESET (...) are supported");
    }
  }
  return 0;
}

static int bind_rename(binder *b, const PgQuery__RenameStmt *rs, sql_bound *out) {
  if (rs->rename_type != PG_QUERY__OBJECT_TYPE__OBJECT_COLUMN)
    return tarn_err(b->err, TARN_EUNSUPPORTED,
                    "ALTER TABLE ... RENAME: only RENAME COLUMN is supported");
  int rc = alter_target(b, rs->relation, out);
  if (rc) return rc;
  out->alters = bz(b, 1, sizeof *out->alters);
  if (out->alters == NULL) return oom(b);
  out->n_alters = 1;
  out->alters[0] =
      (sql_alter){.kind = SQL_ALTER_RENAME_COLUMN, .name = rs->subname, .new_name = rs->newname};
  return 0;
}

int sql_bind_statement(sql_binder_env *env, const PgQuery__RawStmt *raw, sql_bound *out) {
  binder b;
  memset(&b, 0, sizeof b);
  b.env = env;
  b.a = &env->pc->arena;
  b.err = env->err;
  memset(out, 0, sizeof *out);
  const PgQuery__Node *n = raw->stmt;
  if (n == NULL) return tarn_err(b.err, TARN_EINVAL, "empty statement");
  switch (n->node_case) {
  case PG_QUERY__NODE__NODE_SELECT_STMT:
    out->kind = SQL_STMT_QUERY;
    return bind_query_node(&b, n, &out->plan);
  case PG_QUERY__NODE__NODE_EXPLAIN_STMT: {
    const PgQuery__ExplainStmt *ex = n->explain_stmt;
    out->kind = SQL_STMT_EXPLAIN;
    for (size_t i = 0; i < ex->n_options; i++) {
      const PgQuery__DefElem *d = ex->options[i]->def_elem;
      if (d && strcmp(d->defname, "analyze") == 0) {
        const char *v = def_string(d);
        out->analyze = v == NULL || strcmp(v, "true") == 0 || strcmp(v, "on") == 0;
      }
    }
    return bind_query_node(&b, ex->query, &out->plan);
  }
  case PG_QUERY__NODE__NODE_CREATE_TABLE_AS_STMT: {
    const PgQuery__CreateTableAsStmt *ct = n->create_table_as_stmt;
    out->kind = SQL_STMT_CTAS;
    out->target = ct->into && ct->into->rel ? ct->into->rel->relname : NULL;
    out->if_not_exists = ct->if_not_exists;
    if (ct->into && ct->into->access_method && *ct->into->access_method) {
      if (strcasecmp(ct->into->access_method, "delta") != 0)
        return tarn_err(b.err, TARN_EUNSUPPORTED,
                        "CREATE TABLE AS: USING %s is not supported (USING delta, or no USING for "
                        "a directory of Parquet files)",
                        ct->into->access_method);
      out->using_format = "delta";
      int rc = bind_create_options(&b, ct->into->options, ct->into->n_options, out);
      if (rc) return rc;
    } else if (ct->into && ct->into->n_options) {
      return tarn_err(b.err, TARN_EUNSUPPORTED, "CREATE TABLE AS: WITH options need USING delta");
    }
    if (out->target == NULL)
      return tarn_err(b.err, TARN_EINVAL, "CREATE TABLE AS needs a table name");
    int rc = bind_query_node(&b, ct->query, &out->plan);
    if (rc == 0 && ct->into) {
      for (size_t i = 0; i < ct->into->n_col_names && i < out->plan->n_out; i++) {
        const char *nm = str_node(ct->into->col_names[i]);
        if (nm) out->plan->out_names[i] = nm;
      }
    }
    return rc;
  }
  case PG_QUERY__NODE__NODE_CREATE_STMT: {
    const PgQuery__CreateStmt *cs = n->create_stmt;
    out->kind = SQL_STMT_CREATE;
    out->target = cs->relation ? cs->relation->relname : NULL;
    out->if_not_exists = cs->if_not_exists;
    out->using_format = cs->access_method && *cs->access_method ? cs->access_method : NULL;
    if (out->target == NULL) return tarn_err(b.err, TARN_EINVAL, "CREATE TABLE needs a name");
    if (out->using_format == NULL || strcasecmp(out->using_format, "delta") != 0)
      return tarn_err(b.err, TARN_EUNSUPPORTED,
                      "CREATE TABLE %s: name the table format (USING delta); other formats come "
                      "later",
                      out->target);
    if (cs->n_inh_relations || cs->partspec || cs->of_typename)
      return tarn_err(b.err, TARN_EUNSUPPORTED,
                      "CREATE TABLE %s: INHERITS, PARTITION BY and OF are not supported (partition "
                      "with WITH (partitioning = 'col, ...'))",
                      out->target);
    size_t n_cols = cs->n_table_elts;
    out->col_names = bz(&b, n_cols + 1, sizeof *out->col_names);
    out->col_types = bz(&b, n_cols + 1, sizeof *out->col_types);
    out->col_nullable = bz(&b, n_cols + 1, sizeof *out->col_nullable);
    if (!out->col_names || !out->col_types || !out->col_nullable) return oom(&b);
    for (size_t i = 0; i < n_cols; i++) {
      const PgQuery__Node *el = cs->table_elts[i];
      if (el->node_case != PG_QUERY__NODE__NODE_COLUMN_DEF)
        return tarn_err(b.err, TARN_EUNSUPPORTED,
                        "CREATE TABLE %s: only column definitions are supported (no table "
                        "constraints)",
                        out->target);
      const PgQuery__ColumnDef *cd = el->column_def;
      for (size_t k = 0; k < i; k++)
        if (strcmp(out->col_names[k], cd->colname) == 0)
          return tarn_err(b.err, TARN_EINVAL, "column \"%s\" specified more than once",
                          cd->colname);
      out->col_names[i] = cd->colname;
      int rc = bind_type_name(&b, cd->type_name, &out->col_types[i]);
      if (rc) return rc;
      out->col_nullable[i] = !cd->is_not_null;
      for (size_t k = 0; k < cd->n_constraints; k++) {
        const PgQuery__Node *c = cd->constraints[k];
        if (c->node_case == PG_QUERY__NODE__NODE_CONSTRAINT &&
            c->constraint->contype == PG_QUERY__CONSTR_TYPE__CONSTR_NOTNULL)
          out->col_nullable[i] = false;
        else if (!(c->node_case == PG_QUERY__NODE__NODE_CONSTRAINT &&
                   c->constraint->contype == PG_QUERY__CONSTR_TYPE__CONSTR_NULL))
          return tarn_err(b.err, TARN_EUNSUPPORTED,
                          "column \"%s\": only NULL and NOT NULL constraints are supported",
                          cd->colname);
      }
    }
    out->n_cols = n_cols;
    return bind_create_options(&b, cs->options, cs->n_options, out);
  }
  case PG_QUERY__NODE__NODE_INSERT_STMT: {
    const PgQuery__InsertStmt *is = n->insert_stmt;
    out->kind = SQL_STMT_INSERT;
    out->target = is->relation ? is->relation->relname : NULL;
    if (out->target == NULL) return tarn_err(b.err, TARN_EINVAL, "INSERT needs a table");
    if (is->on_conflict_clause || is->n_returning_list || is->with_clause)
      return tarn_err(b.err, TARN_EUNSUPPORTED,
                      "INSERT with ON CONFLICT, RETURNING or WITH is not supported");
    if (env->warehouse == NULL || env->deny_files)
      return tarn_err(b.err, TARN_EINVAL, "INSERT needs a warehouse (tarn sql -w DIR)");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", env->warehouse, out->target);
    if (!delta_is_table(dir))
      return tarn_err(b.err, TARN_EINVAL,
                      "relation \"%s\" does not exist (or is not a Delta table)", out->target);
    out->target_dir = bstrdup(&b, dir);
    sql_source *table;
    int rc = sql_source_delta(b.a, dir, -1, INT64_MIN, &table, b.err);
    if (rc) return rc;
    sql_plan *q = NULL;
    if (is->select_stmt == NULL)
      return tarn_err(b.err, TARN_EUNSUPPORTED, "INSERT ... DEFAULT VALUES is not supported");
    rc = bind_query_node(&b, is->select_stmt, &q);
    if (rc) return rc;
    /* Which query column feeds each table column: by the column list, else in order. */
    size_t n_target = is->n_cols ? is->n_cols : q->n_out;
    if (n_target != q->n_out)
      return tarn_err(b.err, TARN_EINVAL, "INSERT has %zu target columns but the query gives %zu",
                      n_target, q->n_out);
    /* Columns the table lacks (schema merge, decided by sql_delta_insert) follow its own. */
    size_t n_all = table->n_cols + n_target;
    sql_expr **exprs = bz(&b, n_all + 1, sizeof *exprs);
    const char **names = bz(&b, n_all + 1, sizeof *names);
    if (exprs == NULL || names == NULL) return oom(&b);
    memcpy(names, table->col_names, table->n_cols * sizeof *names);
    size_t n_cols = table->n_cols;
    for (size_t k = 0; k < n_target; k++) {
      size_t c = k;
      const char *nm = NULL;
      if (is->n_cols) {
        const PgQuery__Node *rt = is->cols[k];
        nm = rt->node_case == PG_QUERY__NODE__NODE_RES_TARGET ? rt->res_target->name : NULL;
        if (nm == NULL) return tarn_err(b.err, TARN_EINVAL, "INSERT: a target column has no name");
        for (c = 0; c < n_cols && strcmp(names[c], nm) != 0; c++)
          ;
      } else if (k >= table->n_cols) {
        nm = q->out_names[k];
        if (nm == NULL || strcmp(nm, "?column?") == 0)
          return tarn_err(b.err, TARN_EINVAL,
                          "INSERT has more expressions than target columns (name the extra "
                          "query columns to add them by schema merge)");
      }
      if (c == n_cols) names[n_cols++] = nm;
      if (exprs[c])
        return tarn_err(b.err, TARN_EINVAL, "column \"%s\" specified more than once", nm);
      exprs[c] = col_ref(&b, q->out_ids[k], q->out_types[k]);
      if (exprs[c] == NULL) return oom(&b);
      if (c >= table->n_cols) continue; /* a new column takes the query's type */
      rc = cast_to(&b, &exprs[c], table->col_types[c]);
      if (rc) {
        tarn_err_prefix(b.err, "column \"%s\"", table->col_names[c]);
        return rc;
      }
    }
    for (size_t c = 0; c < table->n_cols; c++) {
      if (exprs[c]) continue;
      exprs[c] = const_null(&b);
      if (exprs[c] == NULL || (rc = cast_to(&b, &exprs[c], table->col_types[c])))
        return rc ? rc : oom(&b);
    }
    out->n_merge_cols = n_cols - table->n_cols;
    out->merge_col_names = names + table->n_cols;
    out->plan = make_project(&b, q, exprs, names, n_cols);
    return out->plan ? 0 : oom(&b);
  }
  case PG_QUERY__NODE__NODE_DELETE_STMT: return bind_delete(&b, n->delete_stmt, out);
  case PG_QUERY__NODE__NODE_UPDATE_STMT: return bind_update(&b, n->update_stmt, out);
  case PG_QUERY__NODE__NODE_MERGE_STMT: return bind_merge(&b, n->merge_stmt, out);
  case PG_QUERY__NODE__NODE_ALTER_TABLE_STMT: return bind_alter(&b, n->alter_table_stmt, out);
  case PG_QUERY__NODE__NODE_CALL_STMT: return bind_call(&b, n->call_stmt, out);
  case PG_QUERY__NODE__NODE_RENAME_STMT: return bind_rename(&b, n->rename_stmt, out);
  case PG_QUERY__NODE__NODE_COPY_STMT: {
    const PgQuery__CopyStmt *cs = n->copy_stmt;
    if (cs->is_from)
      return tarn_err(b.err, TARN_EUNSUPPORTED, "COPY FROM is not supported; use `tarn copy`");
    if (cs->filename == NULL || *cs->filename == 0)
      return tarn_err(b.err, TARN_EUNSUPPORTED, "COPY TO STDOUT is not supported");
    out->kind = SQL_STMT_COPY_TO;
    out->target = cs->filename;
    size_t len = strlen(cs->filename);
    out->format = len > 4 && strcmp(cs->filename + len - 4, ".csv") == 0 ? "csv" : "parquet";
    for (size_t i = 0; i < cs->n_options; i++) {
      const PgQuery__DefElem *d = cs->options[i]->def_elem;
      if (d && strcmp(d->defname, "format") == 0) {
        const char *v = def_string(d);
        if (v == NULL || (strcasecmp(v, "parquet") != 0 && strcasecmp(v, "csv") != 0))
          return tarn_err(b.err, TARN_EUNSUPPORTED, "COPY format must be parquet or csv");
        out->format = strcasecmp(v, "csv") == 0 ? "csv" : "parquet";
      }
    }
    if (cs->query) return bind_query_node(&b, cs->query, &out->plan);
    if (cs->relation) {
      /* COPY table TO: SELECT * FROM table */
      scope s = {0};
      PgQuery__Node rvnode = PG_QUERY__NODE__INIT;
      rvnode.node_case = PG_QUERY__NODE__NODE_RANGE_VAR;
      rvnode.range_var = cs->relation;
      return bind_from_item(&b, NULL, &rvnode, &out->plan, &s);
    }
    return tarn_err(b.err, TARN_EINVAL, "COPY needs a query or a table");
  }
  case PG_QUERY__NODE__NODE_VARIABLE_SET_STMT: {
    const PgQuery__VariableSetStmt *vs = n->variable_set_stmt;
    out->kind = SQL_STMT_SET;
    out->set_name = vs->name;
    if (vs->n_args >= 1) {
      const PgQuery__Node *a = vs->args[0];
      static char buf[64];
      if (a->node_case == PG_QUERY__NODE__NODE_A_CONST) {
        const PgQuery__AConst *c = a->a_const;
        if (c->val_case == PG_QUERY__A__CONST__VAL_SVAL)
          out->set_value = c->sval->sval;
        else if (c->val_case == PG_QUERY__A__CONST__VAL_IVAL) {
          snprintf(buf, sizeof buf, "%d", c->ival->ival);
          out->set_value = tarn_arena_strndup(b.a, buf, strlen(buf));
        } else if (c->val_case == PG_QUERY__A__CONST__VAL_FVAL)
          out->set_value = c->fval->fval;
      }
    }
    return 0;
  }
  default:
    return tarn_err(b.err, TARN_EUNSUPPORTED,
                    "this kind of statement is not supported yet (parse node %d)",
                    (int)n->node_case);
  }
}
