/*
 * Hash aggregation (GROUP BY, grouping sets, aggregates without GROUP BY) and DISTINCT.
 *
 * Each input batch is grouped in three steps: the group-key expressions are evaluated and encoded
 * as row keys, the key hash table turns the keys into dense group numbers, and then every
 * aggregate updates its per-group state in a tight loop over the batch. States are kept column
 * by column (an array of sums, an array of counts, ...) indexed by group number, so the loops
 * are plain array arithmetic; which rows take part (FILTER, NULL arguments) is worked out once
 * per batch as a selection vector.
 *
 * DISTINCT aggregates drop duplicates as rows arrive: a hash table per aggregate holds the
 * (group number, value key) pairs seen, and only rows that add a pair reach the state update.
 * string_agg and array_agg keep their argument rows instead, each tagged with a sort key that
 * starts with the group number (then the call's ORDER BY key); at the end of the input the rows
 * are sorted once and each group's result is built from its range.
 *
 * Modes: SINGLE turns input rows into results; PARTIAL turns input rows into state columns
 * (layout in exec_agg.h) for a FINAL node above a gather, which merges states. Grouping sets run
 * one hash table per set over the same evaluated keys and arguments.
 *
 * Memory: after every batch the tables' size is charged to the query budget. When the budget
 * refuses, the operator starts spilling: rows of groups already in the table are still
 * aggregated in memory, rows of new groups are written to one of 16 partition files chosen by
 * 4 bits of their key hash. After the in-memory groups are emitted, each partition is aggregated
 * on its own with an empty table (and may split again on the next 4 bits). Every group lives in
 * exactly one place, so no merge is needed.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "sql/exec_agg.h"
#include "sql/exec_util.h"
#include "sql/expr_impl.h"

/* avg of integers and decimals keeps at least PostgreSQL's 16 significant fractional digits. */
#define AVG_MIN_SCALE 16
#define N_PARTS 16
#define MAX_SPILL_DEPTH 8

/* --- Result types ----------------------------------------------------------------------------- */

static int no_such_function(tarn_error *err, const char *name, const sql_type *const *types,
                            size_t n) {
  char args[256] = "";
  size_t len = 0;
  for (size_t i = 0; i < n && len < sizeof args; i++) {
    char t[96];
    sql_type_name(types[i], t, sizeof t);
    len += (size_t)snprintf(args + len, sizeof args - len, "%s%s", i ? ", " : "", t);
  }
  return tarn_err(err, TARN_EINVAL, "function %s(%s) does not exist", name, args);
}

static bool minmax_type(sql_type_id id) {
  switch (id) {
  case SQL_INT2:
  case SQL_INT4:
  case SQL_INT8:
  case SQL_FLOAT4:
  case SQL_FLOAT8:
  case SQL_DECIMAL:
  case SQL_TEXT:
  case SQL_BYTEA:
  case SQL_UUID:
  case SQL_DATE:
  case SQL_TIME:
  case SQL_TIMESTAMP:
  case SQL_TIMESTAMPTZ:
  case SQL_INTERVAL: return true;
  default: return false;
  }
}

int sql_agg_resolve(tarn_arena *a, const char *name, const sql_type *const *arg_types,
                    size_t n_args, bool distinct, sql_agg_fn *fn, const sql_type **ret,
                    tarn_error *err) {
  (void)distinct;
  const sql_type *t = n_args > 0 ? arg_types[0] : NULL;
  sql_type_id id = t ? t->id : SQL_NULL;
  const sql_type *r = NULL;
  if (strcmp(name, "count") == 0 && n_args <= 1) {
    *fn = n_args ? SQL_AGG_COUNT : SQL_AGG_COUNT_STAR;
    r = sql_type_get(SQL_INT8);
  } else if (strcmp(name, "sum") == 0 && n_args == 1) {
    *fn = SQL_AGG_SUM;
    if (id == SQL_INT2 || id == SQL_INT4)
      r = sql_type_get(SQL_INT8);
    else if (id == SQL_INT8)
      r = sql_type_decimal(a, 38, 0);
    else if (id == SQL_DECIMAL)
      r = sql_type_decimal(a, 38, t->scale);
    else if (id == SQL_FLOAT4 || id == SQL_FLOAT8)
      r = sql_type_get(SQL_FLOAT8);
    else if (id == SQL_INTERVAL)
      r = sql_type_get(SQL_INTERVAL);
    else
      return no_such_function(err, name, arg_types, n_args);
  } else if (strcmp(name, "avg") == 0 && n_args == 1) {
    *fn = SQL_AGG_AVG;
    if (sql_type_is_integer(id))
      r = sql_type_decimal(a, 38, AVG_MIN_SCALE);
    else if (id == SQL_DECIMAL)
      r = sql_type_decimal(a, 38, t->scale > AVG_MIN_SCALE ? t->scale : AVG_MIN_SCALE);
    else if (id == SQL_FLOAT4 || id == SQL_FLOAT8)
      r = sql_type_get(SQL_FLOAT8);
    else if (id == SQL_INTERVAL)
      r = sql_type_get(SQL_INTERVAL);
    else
      return no_such_function(err, name, arg_types, n_args);
  } else if ((strcmp(name, "min") == 0 || strcmp(name, "max") == 0) && n_args == 1) {
    *fn = name[1] == 'i' ? SQL_AGG_MIN : SQL_AGG_MAX;
    if (!minmax_type(id)) return no_such_function(err, name, arg_types, n_args);
    r = t;
  } else if ((strcmp(name, "bool_and") == 0 || strcmp(name, "every") == 0 ||
              strcmp(name, "bool_or") == 0) &&
             n_args == 1) {
    *fn = strcmp(name, "bool_or") == 0 ? SQL_AGG_BOOL_OR : SQL_AGG_BOOL_AND;
    if (id != SQL_BOOL) return no_such_function(err, name, arg_types, n_args);
    r = t;
  } else if (strcmp(name, "string_agg") == 0 && n_args == 2) {
    *fn = SQL_AGG_STRING_AGG;
    sql_type_id sep = arg_types[1]->id;
    if ((id == SQL_TEXT || id == SQL_NULL) && (sep == SQL_TEXT || sep == SQL_NULL))
      r = sql_type_get(SQL_TEXT);
    else if (id == SQL_BYTEA && (sep == SQL_BYTEA || sep == SQL_NULL))
      r = sql_type_get(SQL_BYTEA);
    else
      return no_such_function(err, name, arg_types, n_args);
  } else if (strcmp(name, "array_agg") == 0 && n_args == 1) {
    *fn = SQL_AGG_ARRAY_AGG;
    if (id == SQL_NULL) return no_such_function(err, name, arg_types, n_args);
    r = sql_type_list(a, t);
  } else if (strcmp(name, "any_value") == 0 && n_args == 1) {
    *fn = SQL_AGG_ANY_VALUE;
    if (id == SQL_NULL) return no_such_function(err, name, arg_types, n_args);
    r = t;
  } else if (n_args == 1 && (strcmp(name, "stddev") == 0 || strcmp(name, "stddev_samp") == 0 ||
                             strcmp(name, "stddev_pop") == 0 || strcmp(name, "variance") == 0 ||
                             strcmp(name, "var_samp") == 0 || strcmp(name, "var_pop") == 0)) {
    if (strcmp(name, "stddev_pop") == 0)
      *fn = SQL_AGG_STDDEV_POP;
    else if (strcmp(name, "var_pop") == 0)
      *fn = SQL_AGG_VAR_POP;
    else if (name[0] == 's')
      *fn = SQL_AGG_STDDEV_SAMP;
    else
      *fn = SQL_AGG_VAR_SAMP;
    if (!sql_type_is_numeric(id)) return no_such_function(err, name, arg_types, n_args);
    r = sql_type_get(SQL_FLOAT8);
  } else {
    return no_such_function(err, name, arg_types, n_args);
  }
  if (!r) return tarn_err(err, TARN_ENOMEM, "out of memory");
  *ret = r;
  return 0;
}

/* Aggregates whose state is not a fixed set of columns (value sets, row lists) run in one phase. */
static bool call_collects(const sql_agg_call *c) {
  return c->distinct || c->fn == SQL_AGG_STRING_AGG || c->fn == SQL_AGG_ARRAY_AGG;
}

bool sql_agg_splittable(const sql_plan *agg) {
  if (agg->n_grouping_sets > 0) return false;
  for (size_t i = 0; i < agg->n_aggs; i++)
    if (call_collects(&agg->aggs[i]) || agg->aggs[i].n_order > 0) return false;
  return true;
}

/* The sum column of avg's state for input type t. */
static const sql_type *avg_sum_type(tarn_arena *a, const sql_type *t) {
  if (t->id == SQL_DECIMAL) return sql_type_decimal(a, 38, t->scale);
  if (sql_type_is_integer(t->id)) return sql_type_decimal(a, 38, 0);
  return t->id == SQL_FLOAT4 ? sql_type_get(SQL_FLOAT8) : t;
}

int sql_agg_state_types(tarn_arena *a, const sql_agg_call *call, const sql_type **types, size_t *n,
                        tarn_error *err) {
  const sql_type *in = call->n_args > 0 ? call->args[0]->type : NULL;
  if (call_collects(call) || call->n_order > 0)
    return tarn_err(err, TARN_EINVAL, "internal error: aggregate cannot run in two phases");
  switch (call->fn) {
  case SQL_AGG_COUNT_STAR:
  case SQL_AGG_COUNT:
    types[0] = sql_type_get(SQL_INT8);
    *n = 1;
    return 0;
  case SQL_AGG_AVG:
    types[0] = avg_sum_type(a, in);
    types[1] = sql_type_get(SQL_INT8);
    *n = 2;
    return types[0] ? 0 : tarn_err(err, TARN_ENOMEM, "out of memory");
  case SQL_AGG_STDDEV_SAMP:
  case SQL_AGG_STDDEV_POP:
  case SQL_AGG_VAR_SAMP:
  case SQL_AGG_VAR_POP:
    types[0] = sql_type_get(SQL_INT8);
    types[1] = types[2] = sql_type_get(SQL_FLOAT8);
    *n = 3;
    return 0;
  case SQL_AGG_SUM:
    types[0] = call->type;
    *n = 1;
    return 0;
  default:
    types[0] = in;
    *n = 1;
    return 0;
  }
}

/* --- Accumulators ----------------------------------------------------------------------------- */

typedef enum acc_kind {
  ACC_COUNT,
  ACC_SUM_I64, /* bigint sum with overflow check */
  ACC_SUM_I128,
  ACC_SUM_F64,
  ACC_SUM_IV,
  ACC_AVG_I128, /* sum of values scaled by 10^in_scale, and a count */
  ACC_AVG_F64,
  ACC_AVG_IV,
  ACC_MIN,
  ACC_MAX,
  ACC_BOOL_AND,
  ACC_BOOL_OR,
  ACC_ANY,
  ACC_VAR, /* count, mean, m2 (Welford) */
  ACC_STRING_AGG,
  ACC_ARRAY_AGG
} acc_kind;

enum {
  U_CNT = 1,
  U_I64 = 2,
  U_I128 = 4,
  U_F64 = 8,
  U_M2 = 16,
  U_IV = 32,
  U_HAS = 64,
  U_STR = 128,
  U_ANY = 256
};

typedef struct strval {
  char *p;
  uint32_t len, cap;
} strval;

/* How one aggregate call runs (shared by the tables of all grouping sets). */
typedef struct agg_rt {
  const sql_agg_call *call;
  acc_kind kind;
  sql_phys phys; /* of args[0] */
  int in_scale;  /* decimal input of avg / variance */
  bool merge;    /* FINAL: args are states */
  bool collect;  /* string_agg / array_agg: rows kept, result built at the end */
  bool distinct; /* duplicates (per group) dropped through a hash set before the update */
  bool skip_nulls;
  unsigned uses;
  size_t n_state; /* PARTIAL output columns */
} agg_rt;

/* Collected rows of a DISTINCT / ordered / string_agg / array_agg call. */
typedef struct collect {
  bool init;
  sql_rows vals;
  sql_keystore keys; /* 4-byte big-endian group, then ORDER BY key, then DISTINCT key */
  uint32_t *perm;    /* sorted (and de-duplicated) row numbers */
  uint32_t n_perm;
  uint32_t *gstart; /* group g's rows: perm[gstart[g] .. gstart[g+1]) */
} collect;

typedef struct acc {
  int64_t *cnt;
  int64_t *i64;
  sql_i128 *i128;
  double *f64;
  double *m2;
  sql_interval *iv;
  uint8_t *has;
  strval *str;
  uint32_t *any;
  sql_rows any_vals;
  size_t str_bytes;
  collect col;
  sql_ktab dset; /* DISTINCT: (group, value) pairs seen */
} acc;

typedef struct agg_table {
  uint64_t set; /* bit k: key k is grouped */
  uint32_t n_set_keys;
  uint32_t *set_keys; /* the plan's key numbers in the set */
  sql_ktab kt;
  uint32_t n_groups, cap;
  sql_rows keyvals; /* one row per group: its key values */
  acc *accs;
  bool no_pack; /* the packed-key path failed once for this table: stop trying */
} agg_table;

typedef struct spill_file {
  FILE *f;
  int depth;
} spill_file;

typedef struct agg_state {
  agg_rt *rt;
  size_t n_aggs;
  agg_table *tabs;
  size_t n_tabs;
  sql_exec_ctx *ctx; /* saved at open: close returns the memory charge */
  uint32_t *set_key_block;
  const sql_type **in_types;
  uint32_t n_in;
  int64_t charged;

  int phase; /* 0: consume, 1: emit, 2: done */
  size_t emit_tab;
  uint32_t emit_pos;
  uint32_t range[SQL_BATCH_ROWS];

  bool can_spill, spilling;
  int depth;
  FILE *parts[N_PARTS];
  spill_file *pending;
  uint32_t n_pending, pending_cap;
  FILE *reading; /* the partition being aggregated */
  int reading_depth;
} agg_state;

static int acc_setup(agg_rt *rt, const sql_agg_call *c, sql_agg_mode mode, tarn_error *err) {
  memset(rt, 0, sizeof *rt);
  rt->call = c;
  rt->merge = mode == SQL_AGG_FINAL;
  rt->collect = c->fn == SQL_AGG_STRING_AGG || c->fn == SQL_AGG_ARRAY_AGG;
  rt->distinct = c->distinct && c->n_args > 0;
  const sql_type *in = c->n_args > 0 ? c->args[0]->type : NULL;
  rt->phys = in ? sql_type_phys(in->id) : SQL_PHYS_NONE;
  rt->skip_nulls = c->fn != SQL_AGG_COUNT_STAR && c->fn != SQL_AGG_ARRAY_AGG;
  if ((rt->collect || rt->distinct) && mode != SQL_AGG_SINGLE)
    return tarn_err(err, TARN_EINVAL, "internal error: DISTINCT or ordered aggregate split");
  size_t need = c->fn == SQL_AGG_COUNT_STAR ? 0 : 1;
  if (rt->merge) need = c->fn == SQL_AGG_AVG ? 2 : c->fn >= SQL_AGG_STDDEV_SAMP ? 3 : 1;
  if (c->fn == SQL_AGG_STRING_AGG) need = 2;
  if (c->n_args < need)
    return tarn_err(err, TARN_EINVAL, "internal error: aggregate with %zu arguments", c->n_args);
  sql_phys ph = rt->phys;
  bool bad = false;
  switch (c->fn) {
  case SQL_AGG_COUNT_STAR:
  case SQL_AGG_COUNT:
    rt->kind = ACC_COUNT;
    rt->uses = U_CNT;
    bad = rt->merge && ph != SQL_PHYS_I64;
    break;
  case SQL_AGG_SUM:
    switch (c->type->id) {
    case SQL_INT8:
      rt->kind = ACC_SUM_I64;
      rt->uses = U_I64 | U_HAS;
      bad = ph != SQL_PHYS_I64;
      break;
    case SQL_DECIMAL:
      rt->kind = ACC_SUM_I128;
      rt->uses = U_I128 | U_HAS;
      bad = ph != SQL_PHYS_I64 && ph != SQL_PHYS_I128;
      break;
    case SQL_FLOAT8:
      rt->kind = ACC_SUM_F64;
      rt->uses = U_F64 | U_HAS;
      bad = ph != SQL_PHYS_F64;
      break;
    case SQL_INTERVAL:
      rt->kind = ACC_SUM_IV;
      rt->uses = U_IV | U_HAS;
      bad = ph != SQL_PHYS_INTERVAL;
      break;
    default: bad = true;
    }
    break;
  case SQL_AGG_AVG:
    if (ph == SQL_PHYS_I64 || ph == SQL_PHYS_I128) {
      rt->kind = ACC_AVG_I128;
      rt->uses = U_I128 | U_CNT;
      rt->in_scale = in->id == SQL_DECIMAL ? in->scale : 0;
      bad = c->type->id == SQL_DECIMAL && c->type->scale < rt->in_scale;
    } else if (ph == SQL_PHYS_F64) {
      rt->kind = ACC_AVG_F64;
      rt->uses = U_F64 | U_CNT;
    } else if (ph == SQL_PHYS_INTERVAL) {
      rt->kind = ACC_AVG_IV;
      rt->uses = U_IV | U_CNT;
    } else {
      bad = true;
    }
    break;
  case SQL_AGG_MIN:
  case SQL_AGG_MAX:
    rt->kind = c->fn == SQL_AGG_MIN ? ACC_MIN : ACC_MAX;
    rt->uses = U_HAS;
    switch (ph) {
    case SQL_PHYS_U8:
    case SQL_PHYS_I64: rt->uses |= U_I64; break;
    case SQL_PHYS_F64: rt->uses |= U_F64; break;
    case SQL_PHYS_I128: rt->uses |= U_I128; break;
    case SQL_PHYS_STR: rt->uses |= U_STR; break;
    case SQL_PHYS_INTERVAL: rt->uses |= U_IV; break;
    default: bad = true;
    }
    break;
  case SQL_AGG_BOOL_AND:
  case SQL_AGG_BOOL_OR:
    rt->kind = c->fn == SQL_AGG_BOOL_AND ? ACC_BOOL_AND : ACC_BOOL_OR;
    rt->uses = U_I64 | U_HAS;
    bad = ph != SQL_PHYS_U8;
    break;
  case SQL_AGG_ANY_VALUE:
    rt->kind = ACC_ANY;
    rt->uses = U_ANY;
    break;
  case SQL_AGG_STDDEV_SAMP:
  case SQL_AGG_STDDEV_POP:
  case SQL_AGG_VAR_SAMP:
  case SQL_AGG_VAR_POP:
    rt->kind = ACC_VAR;
    rt->uses = U_CNT | U_F64 | U_M2;
    rt->in_scale = in && in->id == SQL_DECIMAL ? in->scale : 0;
    bad = !rt->merge && ph != SQL_PHYS_I64 && ph != SQL_PHYS_I128 && ph != SQL_PHYS_F64;
    break;
  case SQL_AGG_STRING_AGG:
    rt->kind = ACC_STRING_AGG;
    bad = ph != SQL_PHYS_STR && ph != SQL_PHYS_NONE;
    break;
  case SQL_AGG_ARRAY_AGG: rt->kind = ACC_ARRAY_AGG; break;
  }
  if (bad) {
    char t[96] = "none";
    if (in) sql_type_name(in, t, sizeof t);
    return tarn_err(err, TARN_EINVAL, "internal error: aggregate %d over %s", (int)c->fn, t);
  }
  /* In FINAL mode in is avg's sum state column, whose decimal scale is the input's. */
  rt->n_state = 1;
  if (mode == SQL_AGG_PARTIAL) rt->n_state = rt->kind == ACC_VAR ? 3 : c->fn == SQL_AGG_AVG ? 2 : 1;
  return 0;
}

/* Heap bytes per group of one accumulator. */
static size_t acc_group_bytes(unsigned uses) {
  size_t b = 0;
  if (uses & U_CNT) b += 8;
  if (uses & U_I64) b += 8;
  if (uses & U_I128) b += 16;
  if (uses & U_F64) b += 8;
  if (uses & U_M2) b += 8;
  if (uses & U_IV) b += sizeof(sql_interval);
  if (uses & U_HAS) b += 1;
  if (uses & U_STR) b += sizeof(strval);
  if (uses & U_ANY) b += 4;
  return b;
}

static int grow_array(void **p, size_t elem, uint32_t old_cap, uint32_t cap, tarn_error *err) {
  void *q = realloc(*p, (size_t)cap * elem);
  if (!q) return tarn_err(err, TARN_ENOMEM, "out of memory: aggregate states");
  memset((char *)q + (size_t)old_cap * elem, 0, (size_t)(cap - old_cap) * elem);
  *p = q;
  return 0;
}

/* Makes room for n groups in every accumulator of t. */
static int table_reserve(agg_state *s, agg_table *t, uint32_t n, tarn_error *err) {
  if (n <= t->cap) return 0;
  uint32_t cap = t->cap ? t->cap : 64;
  while (cap < n)
    cap = cap > UINT32_MAX / 2 ? UINT32_MAX : cap * 2;
  for (size_t a = 0; a < s->n_aggs; a++) {
    unsigned u = s->rt[a].uses;
    acc *x = &t->accs[a];
    int rc = 0;
    if (!rc && (u & U_CNT)) rc = grow_array((void **)&x->cnt, 8, t->cap, cap, err);
    if (!rc && (u & U_I64)) rc = grow_array((void **)&x->i64, 8, t->cap, cap, err);
    if (!rc && (u & U_I128)) rc = grow_array((void **)&x->i128, 16, t->cap, cap, err);
    if (!rc && (u & U_F64)) rc = grow_array((void **)&x->f64, 8, t->cap, cap, err);
    if (!rc && (u & U_M2)) rc = grow_array((void **)&x->m2, 8, t->cap, cap, err);
    if (!rc && (u & U_IV)) rc = grow_array((void **)&x->iv, sizeof(sql_interval), t->cap, cap, err);
    if (!rc && (u & U_HAS)) rc = grow_array((void **)&x->has, 1, t->cap, cap, err);
    if (!rc && (u & U_STR)) rc = grow_array((void **)&x->str, sizeof(strval), t->cap, cap, err);
    if (!rc && (u & U_ANY)) {
      rc = grow_array((void **)&x->any, 4, t->cap, cap, err);
      if (!rc)
        for (uint32_t g = t->cap; g < cap; g++)
          x->any[g] = SQL_NONE;
    }
    if (rc) return rc;
  }
  t->cap = cap;
  return 0;
}

static size_t table_bytes(const agg_state *s, const agg_table *t) {
  size_t b = sql_ktab_bytes(&t->kt) + sql_rows_bytes(&t->keyvals);
  for (size_t a = 0; a < s->n_aggs; a++) {
    const acc *x = &t->accs[a];
    b += (size_t)t->cap * acc_group_bytes(s->rt[a].uses) + x->str_bytes +
         sql_rows_bytes(&x->any_vals);
    if (x->col.init) b += sql_rows_bytes(&x->col.vals) + sql_keystore_bytes(&x->col.keys);
    b += sql_ktab_bytes(&x->dset);
  }
  return b;
}

static void table_free(agg_state *s, agg_table *t) {
  sql_ktab_free(&t->kt);
  sql_rows_free(&t->keyvals);
  if (t->accs) {
    for (size_t a = 0; a < s->n_aggs; a++) {
      acc *x = &t->accs[a];
      if (x->str)
        for (uint32_t g = 0; g < t->cap; g++)
          free(x->str[g].p);
      free(x->cnt);
      free(x->i64);
      free(x->i128);
      free(x->f64);
      free(x->m2);
      free(x->iv);
      free(x->has);
      free(x->str);
      free(x->any);
      sql_rows_free(&x->any_vals);
      sql_rows_free(&x->col.vals);
      sql_keystore_free(&x->col.keys);
      sql_ktab_free(&x->dset);
      free(x->col.perm);
      free(x->col.gstart);
    }
    free(t->accs);
  }
  t->accs = NULL;
  t->n_groups = t->cap = 0;
}

/* Empties t (keeping its grouping set); a table without keys gets its one group at once, so
 * an aggregate without GROUP BY produces a row even for empty input. */
static int table_init(agg_state *s, sql_plan *p, agg_table *t, tarn_error *err) {
  sql_ktab_init(&t->kt);
  t->accs = calloc(s->n_aggs ? s->n_aggs : 1, sizeof *t->accs);
  if (!t->accs) return tarn_err(err, TARN_ENOMEM, "out of memory");
  const sql_type **kt = calloc(t->n_set_keys ? t->n_set_keys : 1, sizeof *kt);
  if (!kt) return tarn_err(err, TARN_ENOMEM, "out of memory");
  for (uint32_t k = 0; k < t->n_set_keys; k++)
    kt[k] = p->keys[t->set_keys[k]]->type;
  int rc = sql_rows_init(&t->keyvals, kt, t->n_set_keys, err);
  free(kt);
  for (size_t a = 0; !rc && a < s->n_aggs; a++) {
    const sql_agg_call *c = s->rt[a].call;
    acc *x = &t->accs[a];
    if (s->rt[a].kind == ACC_ANY) rc = sql_rows_init(&x->any_vals, &c->args[0]->type, 1, err);
    if (!rc && s->rt[a].collect) {
      const sql_type *vt[2] = {c->args[0]->type, c->n_args > 1 ? c->args[1]->type : NULL};
      rc = sql_rows_init(&x->col.vals, vt, c->fn == SQL_AGG_STRING_AGG ? 2 : 1, err);
      x->col.init = rc == 0;
    }
  }
  if (rc) return rc;
  if (t->n_set_keys == 0) {
    rc = table_reserve(s, t, 1, err);
    t->n_groups = 1;
  }
  return rc;
}

/* Runs the body for every selected row i (all of 0..n when sel is NULL). */
#define SEL_LOOP(...)                                                                              \
  do {                                                                                             \
    if (sel) {                                                                                     \
      for (uint32_t k_ = 0; k_ < n; k_++) {                                                        \
        uint32_t i = sel[k_];                                                                      \
        __VA_ARGS__                                                                                \
      }                                                                                            \
    } else {                                                                                       \
      for (uint32_t i = 0; i < n; i++) {                                                           \
        __VA_ARGS__                                                                                \
      }                                                                                            \
    }                                                                                              \
  } while (0)

static inline sql_i128 iv_span(sql_interval v) {
  return (sql_i128)v.months * 30 * 86400000000LL + (sql_i128)v.days * 86400000000LL + v.micros;
}

static inline bool f64_less(double a, double b) { /* NaN sorts above every number */
  return !isnan(a) && (isnan(b) || a < b);
}

static int iv_add(sql_interval *acc, sql_interval v) {
  int64_t m = (int64_t)acc->months + v.months, d = (int64_t)acc->days + v.days;
  if (m > INT32_MAX || m < INT32_MIN || d > INT32_MAX || d < INT32_MIN ||
      __builtin_add_overflow(acc->micros, v.micros, &acc->micros))
    return -1;
  acc->months = (int32_t)m;
  acc->days = (int32_t)d;
  return 0;
}

/* Keeps the smaller (want_min) or larger string in a group's own buffer. */
static int str_keep(acc *x, uint32_t g, sql_str v, bool want_min, tarn_error *err) {
  strval *sv = &x->str[g];
  if (x->has[g]) {
    size_t l = v.len < sv->len ? v.len : sv->len;
    int c = l ? memcmp(v.ptr, sv->p, l) : 0;
    if (c == 0) c = v.len < sv->len ? -1 : v.len > sv->len;
    if (want_min ? c >= 0 : c <= 0) return 0;
  }
  if (v.len > sv->cap) {
    uint32_t cap = sv->cap ? sv->cap : 16;
    while (cap < v.len)
      cap *= 2;
    char *p = realloc(sv->p, cap);
    if (!p) return tarn_err(err, TARN_ENOMEM, "out of memory: min/max value");
    x->str_bytes += cap - sv->cap;
    sv->p = p;
    sv->cap = cap;
  }
  if (v.len) memcpy(sv->p, v.ptr, v.len);
  sv->len = (uint32_t)v.len;
  x->has[g] = 1;
  return 0;
}

/* Adds the selected rows of args (input values, or states when merging) to the groups gids[]. */
/* ---- sums over few groups ----------------------------------------------------------------------
 * sum[gids[i]] += d[i] row by row chains every update of one group through memory (and a 128-bit
 * add with an overflow check), so with a handful of groups each row waits for the previous one.
 * When the groups are few and every value is small, the batch is summed instead into 64-bit
 * partial sums spread over FEW_LANES independent copies (row k goes to lane k % FEW_LANES), which
 * are added to the 128-bit states once per batch. */

#define FEW_GROUPS 64
#define FEW_LANES 4
#define FEW_LIMIT (INT64_C(1) << 51) /* 2048 rows of |v| < 2^51 stay below 2^62 */

/* Adds the selected rows' values (64-bit values of a 128-bit column when wide) to sum[] and their
 * count to cnt[] (may be NULL) and marks has[] (may be NULL). False, having changed nothing, when
 * there are too many groups or rows or some value is too large. */
static bool sum_few(const uint32_t *gids, const void *data, bool wide, const uint32_t *sel,
                    uint32_t n, uint32_t n_groups, sql_i128 *sum, int64_t *cnt, uint8_t *has,
                    bool *overflow) {
  if (n_groups > FEW_GROUPS || n > SQL_BATCH_ROWS) return false;
  const sql_i128 *d128 = data;
  const int64_t *d64 = data;
  bool big = false;
  if (wide) {
    SEL_LOOP(big |= (d128[i] >= FEW_LIMIT) | (d128[i] <= -FEW_LIMIT););
  } else {
    SEL_LOOP(big |= (d64[i] >= FEW_LIMIT) | (d64[i] <= -FEW_LIMIT););
  }
  if (big) return false;
  int64_t ps[FEW_LANES][FEW_GROUPS], pc[FEW_LANES][FEW_GROUPS];
  for (int l = 0; l < FEW_LANES; l++) {
    memset(ps[l], 0, n_groups * sizeof ps[l][0]);
    memset(pc[l], 0, n_groups * sizeof pc[l][0]);
  }
  uint32_t k = 0;
  for (; k + FEW_LANES <= n; k += FEW_LANES)
    for (int l = 0; l < FEW_LANES; l++) {
      uint32_t i = sel ? sel[k + (uint32_t)l] : k + (uint32_t)l;
      uint32_t g = gids[i];
      ps[l][g] += wide ? (int64_t)d128[i] : d64[i];
      pc[l][g]++;
    }
  for (; k < n; k++) {
    uint32_t i = sel ? sel[k] : k;
    uint32_t g = gids[i];
    ps[0][g] += wide ? (int64_t)d128[i] : d64[i];
    pc[0][g]++;
  }
  for (uint32_t g = 0; g < n_groups; g++) {
    int64_t t = 0, c = 0;
    for (int l = 0; l < FEW_LANES; l++) {
      t += ps[l][g];
      c += pc[l][g];
    }
    if (c == 0) continue;
    *overflow |= __builtin_add_overflow(sum[g], (sql_i128)t, &sum[g]);
    if (cnt) cnt[g] += c;
    if (has) has[g] = 1;
  }
  return true;
}

/* After a sum or average took a batch's values: a sum marks its groups as having a value, an
 * average counts its rows (or, merging partial states, adds their counts). */
static int note_rows(const agg_rt *rt, acc *x, const uint32_t *gids, const sql_vec *args,
                     const uint32_t *sel, uint32_t n, bool is_sum) {
  if (is_sum) {
    SEL_LOOP(x->has[gids[i]] = 1;);
  } else if (rt->merge) {
    const int64_t *c = SQL_VEC_I64(&args[1]);
    SEL_LOOP(x->cnt[gids[i]] += c[i];);
  } else {
    SEL_LOOP(x->cnt[gids[i]]++;);
  }
  return 0;
}

static int acc_update(const agg_rt *rt, acc *x, const uint32_t *gids, const sql_vec *args,
                      const uint32_t *sel, uint32_t n, uint32_t n_groups, tarn_error *err) {
  const sql_vec *v = args;
  bool overflow = false;
  switch (rt->kind) {
  case ACC_COUNT:
    if (rt->merge) {
      const int64_t *c = SQL_VEC_I64(v);
      SEL_LOOP(x->cnt[gids[i]] += c[i];);
    } else {
      SEL_LOOP(x->cnt[gids[i]]++;);
    }
    return 0;
  case ACC_SUM_I64: {
    const int64_t *d = SQL_VEC_I64(v);
    SEL_LOOP({
      uint32_t g = gids[i];
      overflow |= __builtin_add_overflow(x->i64[g], d[i], &x->i64[g]);
      x->has[g] = 1;
    });
    if (overflow) return tarn_err(err, TARN_EINVAL, "bigint out of range");
    return 0;
  }
  case ACC_SUM_I128:
  case ACC_AVG_I128: {
    sql_i128 *sum = x->i128;
    bool avg_rows = rt->kind == ACC_AVG_I128 && !rt->merge; /* count: one per row */
    if ((rt->kind == ACC_SUM_I128 || avg_rows) &&
        sum_few(gids, v->data, rt->phys != SQL_PHYS_I64, sel, n, n_groups, sum,
                avg_rows ? x->cnt : NULL, rt->kind == ACC_SUM_I128 ? x->has : NULL, &overflow)) {
      if (overflow) return tarn_err(err, TARN_EINVAL, "numeric field overflow");
      return 0;
    }
    if (rt->phys == SQL_PHYS_I64) {
      const int64_t *d = SQL_VEC_I64(v);
      SEL_LOOP(sum[gids[i]] += d[i];); /* 2^63 values of 2^63 cannot pass 2^127 */
    } else {
      const sql_i128 *d = SQL_VEC_I128(v);
      SEL_LOOP(overflow |= __builtin_add_overflow(sum[gids[i]], d[i], &sum[gids[i]]););
      if (overflow) return tarn_err(err, TARN_EINVAL, "numeric field overflow");
    }
    return note_rows(rt, x, gids, args, sel, n, rt->kind == ACC_SUM_I128);
  }
  case ACC_SUM_F64:
  case ACC_AVG_F64: {
    const double *d = SQL_VEC_F64(v);
    SEL_LOOP(x->f64[gids[i]] += d[i];);
    return note_rows(rt, x, gids, args, sel, n, rt->kind == ACC_SUM_F64);
  }
  case ACC_SUM_IV:
  case ACC_AVG_IV: {
    const sql_interval *d = SQL_VEC_IV(v);
    SEL_LOOP(overflow |= iv_add(&x->iv[gids[i]], d[i]) != 0;);
    if (overflow) return tarn_err(err, TARN_EINVAL, "interval out of range");
    return note_rows(rt, x, gids, args, sel, n, rt->kind == ACC_SUM_IV);
  }
  case ACC_MIN:
  case ACC_MAX: {
    bool mn = rt->kind == ACC_MIN;
    switch (rt->phys) {
    case SQL_PHYS_U8: {
      const uint8_t *d = SQL_VEC_U8(v);
      SEL_LOOP({
        uint32_t g = gids[i];
        if (!x->has[g] || (mn ? d[i] < x->i64[g] : d[i] > x->i64[g])) x->i64[g] = d[i];
        x->has[g] = 1;
      });
      return 0;
    }
    case SQL_PHYS_I64: {
      const int64_t *d = SQL_VEC_I64(v);
      if (mn) {
        SEL_LOOP({
          uint32_t g = gids[i];
          if (!x->has[g] || d[i] < x->i64[g]) x->i64[g] = d[i];
          x->has[g] = 1;
        });
      } else {
        SEL_LOOP({
          uint32_t g = gids[i];
          if (!x->has[g] || d[i] > x->i64[g]) x->i64[g] = d[i];
          x->has[g] = 1;
        });
      }
      return 0;
    }
    case SQL_PHYS_F64: {
      const double *d = SQL_VEC_F64(v);
      SEL_LOOP({
        uint32_t g = gids[i];
        if (!x->has[g] || (mn ? f64_less(d[i], x->f64[g]) : f64_less(x->f64[g], d[i])))
          x->f64[g] = d[i];
        x->has[g] = 1;
      });
      return 0;
    }
    case SQL_PHYS_I128: {
      const sql_i128 *d = SQL_VEC_I128(v);
      SEL_LOOP({
        uint32_t g = gids[i];
        if (!x->has[g] || (mn ? d[i] < x->i128[g] : d[i] > x->i128[g])) x->i128[g] = d[i];
        x->has[g] = 1;
      });
      return 0;
    }
    case SQL_PHYS_INTERVAL: {
      const sql_interval *d = SQL_VEC_IV(v);
      SEL_LOOP({
        uint32_t g = gids[i];
        if (!x->has[g] ||
            (mn ? iv_span(d[i]) < iv_span(x->iv[g]) : iv_span(d[i]) > iv_span(x->iv[g])))
          x->iv[g] = d[i];
        x->has[g] = 1;
      });
      return 0;
    }
    case SQL_PHYS_STR: {
      const sql_str *d = SQL_VEC_STR(v);
      int rc = 0;
      SEL_LOOP(if (!rc) rc = str_keep(x, gids[i], d[i], mn, err););
      return rc;
    }
    default: return tarn_err(err, TARN_EINVAL, "internal error: min/max type");
    }
  }
  case ACC_BOOL_AND:
  case ACC_BOOL_OR: {
    const uint8_t *d = SQL_VEC_U8(v);
    bool is_and = rt->kind == ACC_BOOL_AND;
    SEL_LOOP({
      uint32_t g = gids[i];
      int64_t b = d[i] != 0;
      x->i64[g] = !x->has[g] ? b : is_and ? (x->i64[g] & b) : (x->i64[g] | b);
      x->has[g] = 1;
    });
    return 0;
  }
  case ACC_ANY: {
    /* The first non-NULL value of each group is copied into the accumulator's own rows. */
    uint32_t *take = malloc((n ? n : 1) * sizeof *take);
    if (!take) return tarn_err(err, TARN_ENOMEM, "out of memory");
    uint32_t m = 0, base = x->any_vals.n;
    SEL_LOOP({
      uint32_t g = gids[i];
      if (x->any[g] == SQL_NONE) {
        x->any[g] = base + m;
        take[m++] = i;
      }
    });
    int rc = sql_rows_append_sel(&x->any_vals, v, take, m, err);
    free(take);
    return rc;
  }
  case ACC_VAR: {
    if (rt->merge) { /* Chan et al.: combine (n, mean, m2) pairs */
      const int64_t *cn = SQL_VEC_I64(&args[0]);
      const double *mean = SQL_VEC_F64(&args[1]), *m2 = SQL_VEC_F64(&args[2]);
      SEL_LOOP({
        uint32_t g = gids[i];
        if (cn[i] == 0) continue;
        double na = (double)x->cnt[g], nb = (double)cn[i], nt = na + nb;
        double delta = mean[i] - x->f64[g];
        x->f64[g] += delta * nb / nt;
        x->m2[g] += m2[i] + delta * delta * na * nb / nt;
        x->cnt[g] += cn[i];
      });
      return 0;
    }
    double scale = (double)sql_pow10(rt->in_scale);
    SEL_LOOP({
      uint32_t g = gids[i];
      double val = rt->phys == SQL_PHYS_F64   ? SQL_VEC_F64(v)[i]
                   : rt->phys == SQL_PHYS_I64 ? (double)SQL_VEC_I64(v)[i]
                                              : (double)SQL_VEC_I128(v)[i] / scale;
      x->cnt[g]++;
      double delta = val - x->f64[g];
      x->f64[g] += delta / (double)x->cnt[g];
      x->m2[g] += delta * (val - x->f64[g]);
    });
    return 0;
  }
  default: return tarn_err(err, TARN_EINVAL, "internal error: collected aggregate updated");
  }
}

/* PostgreSQL's interval_div: fractional months and days cascade into days and microseconds. */
static sql_interval iv_div(sql_interval s, double f) {
  sql_interval r;
  double mon = s.months / f, day = s.days / f;
  r.months = (int32_t)mon;
  r.days = (int32_t)day;
  double month_rem_days = rint((mon - r.months) * 30 * 1e6) / 1e6;
  double sec_rem = (day - r.days + month_rem_days - (int)month_rem_days) * 86400;
  sec_rem = rint(sec_rem * 1e6) / 1e6;
  if (fabs(sec_rem) >= 86400) {
    r.days += (int32_t)(sec_rem / 86400);
    sec_rem -= (int)(sec_rem / 86400) * 86400.0;
  }
  r.days += (int32_t)month_rem_days;
  r.micros = (int64_t)rint((double)s.micros / f + sec_rem * 1e6);
  return r;
}

static int vec_out(sql_mem *m, const sql_type *t, uint32_t n, sql_vec *out, uint8_t **nulls,
                   tarn_error *err) {
  int rc = sql_vec_init(m, out, t, n, err);
  if (rc) return rc;
  *nulls = n ? sql_vec_nulls(m, out) : NULL;
  if (n && !*nulls) return tarn_err(err, TARN_ENOMEM, "out of memory");
  return 0;
}

/* Writes the result (or, for PARTIAL, the state columns) of groups [g0, g0 + n) into out, whose
 * types are types[0..] (the plan's output types). */
static int acc_output(const agg_rt *rt, acc *x, bool partial, uint32_t g0, uint32_t n, sql_mem *m,
                      const sql_type *const *types, sql_vec *out, tarn_error *err) {
  const sql_agg_call *c = rt->call;
  uint8_t *nulls;
  int rc;
  switch (rt->kind) {
  case ACC_COUNT:
    if ((rc = sql_vec_init(m, out, sql_type_get(SQL_INT8), n, err))) return rc;
    memcpy(SQL_VEC_I64(out), x->cnt + g0, (size_t)n * 8);
    return 0;
  case ACC_SUM_I64:
  case ACC_SUM_I128:
  case ACC_SUM_F64:
  case ACC_SUM_IV:
  case ACC_BOOL_AND:
  case ACC_BOOL_OR:
  case ACC_MIN:
  case ACC_MAX: {
    if ((rc = vec_out(m, c->type, n, out, &nulls, err))) return rc;
    for (uint32_t i = 0; i < n; i++)
      nulls[i] = !x->has[g0 + i];
    sql_phys ph = sql_type_phys(c->type->id);
    if (ph == SQL_PHYS_I64) {
      memcpy(SQL_VEC_I64(out), x->i64 + g0, (size_t)n * 8);
    } else if (ph == SQL_PHYS_U8) {
      for (uint32_t i = 0; i < n; i++)
        SQL_VEC_U8(out)[i] = (uint8_t)x->i64[g0 + i];
    } else if (ph == SQL_PHYS_F64) {
      memcpy(SQL_VEC_F64(out), x->f64 + g0, (size_t)n * 8);
    } else if (ph == SQL_PHYS_I128) {
      sql_i128 lim = sql_pow10(38);
      for (uint32_t i = 0; i < n; i++) {
        sql_i128 v = x->i128[g0 + i];
        if (!nulls[i] && (v >= lim || v <= -lim))
          return tarn_err(err, TARN_EINVAL, "numeric field overflow");
        SQL_VEC_I128(out)[i] = v;
      }
    } else if (ph == SQL_PHYS_INTERVAL) {
      memcpy(SQL_VEC_IV(out), x->iv + g0, (size_t)n * sizeof(sql_interval));
    } else if (ph == SQL_PHYS_STR) {
      for (uint32_t i = 0; i < n; i++) {
        if (nulls[i]) continue;
        strval *sv = &x->str[g0 + i];
        SQL_VEC_STR(out)[i] = sql_mem_str(m, sv->p, sv->len);
        if (sv->len && !SQL_VEC_STR(out)[i].ptr) return tarn_err(err, TARN_ENOMEM, "out of memory");
      }
    }
    return 0;
  }
  case ACC_AVG_I128:
  case ACC_AVG_F64:
  case ACC_AVG_IV:
    if (partial) {
      if ((rc = sql_vec_init(m, &out[0], types[0], n, err))) return rc;
      if ((rc = sql_vec_init(m, &out[1], sql_type_get(SQL_INT8), n, err))) return rc;
      if (rt->kind == ACC_AVG_I128)
        memcpy(out[0].data, x->i128 + g0, (size_t)n * 16);
      else if (rt->kind == ACC_AVG_F64)
        memcpy(out[0].data, x->f64 + g0, (size_t)n * 8);
      else
        memcpy(out[0].data, x->iv + g0, (size_t)n * sizeof(sql_interval));
      memcpy(out[1].data, x->cnt + g0, (size_t)n * 8);
      return 0;
    }
    if ((rc = vec_out(m, c->type, n, out, &nulls, err))) return rc;
    for (uint32_t i = 0; i < n; i++) {
      int64_t cnt = x->cnt[g0 + i];
      nulls[i] = cnt == 0;
      if (cnt == 0) continue;
      if (rt->kind == ACC_AVG_F64) {
        SQL_VEC_F64(out)[i] = x->f64[g0 + i] / (double)cnt;
      } else if (rt->kind == ACC_AVG_IV) {
        SQL_VEC_IV(out)[i] = iv_div(x->iv[g0 + i], (double)cnt);
      } else {
        /* sum * 10^d / cnt in 256-bit arithmetic, rounded half away from zero. */
        if (!sql_dec_div(x->i128[g0 + i], cnt, c->type->scale - rt->in_scale,
                         &SQL_VEC_I128(out)[i]))
          return tarn_err(err, TARN_EINVAL, "numeric field overflow");
      }
    }
    return 0;
  case ACC_ANY: return sql_gather_nullable(m, &x->any_vals.cols[0], x->any + g0, n, out, err);
  case ACC_VAR:
    if (partial) {
      if ((rc = sql_vec_init(m, &out[0], sql_type_get(SQL_INT8), n, err))) return rc;
      if ((rc = sql_vec_init(m, &out[1], sql_type_get(SQL_FLOAT8), n, err))) return rc;
      if ((rc = sql_vec_init(m, &out[2], sql_type_get(SQL_FLOAT8), n, err))) return rc;
      memcpy(out[0].data, x->cnt + g0, (size_t)n * 8);
      memcpy(out[1].data, x->f64 + g0, (size_t)n * 8);
      memcpy(out[2].data, x->m2 + g0, (size_t)n * 8);
      return 0;
    }
    if ((rc = vec_out(m, c->type, n, out, &nulls, err))) return rc;
    for (uint32_t i = 0; i < n; i++) {
      double cnt = (double)x->cnt[g0 + i], m2 = x->m2[g0 + i] > 0 ? x->m2[g0 + i] : 0;
      bool samp = c->fn == SQL_AGG_STDDEV_SAMP || c->fn == SQL_AGG_VAR_SAMP;
      bool sd = c->fn == SQL_AGG_STDDEV_SAMP || c->fn == SQL_AGG_STDDEV_POP;
      double div = samp ? cnt - 1 : cnt;
      nulls[i] = div <= 0;
      if (div <= 0) continue;
      double var = m2 / div;
      SQL_VEC_F64(out)[i] = sd ? sqrt(var) : var;
    }
    return 0;
  case ACC_STRING_AGG: {
    if ((rc = vec_out(m, c->type, n, out, &nulls, err))) return rc;
    const collect *col = &x->col;
    const sql_vec *val = &col->vals.cols[0], *sep = &col->vals.cols[1];
    for (uint32_t i = 0; i < n; i++) {
      uint32_t a = col->gstart[g0 + i], b = col->gstart[g0 + i + 1];
      nulls[i] = a == b;
      if (a == b) continue;
      uint64_t len = 0;
      for (uint32_t k = a; k < b; k++) {
        uint32_t r = col->perm[k];
        len += SQL_VEC_STR(val)[r].len;
        if (k > a && !SQL_VEC_IS_NULL(sep, r)) len += SQL_VEC_STR(sep)[r].len;
      }
      if (len >= TARN_ARENA_MAX) return tarn_err(err, TARN_ENOMEM, "string_agg result too long");
      char *p = sql_mem_alloc(m, len ? len : 1, 1), *q = p;
      if (!p) return tarn_err(err, TARN_ENOMEM, "out of memory");
      for (uint32_t k = a; k < b; k++) {
        uint32_t r = col->perm[k];
        if (k > a && !SQL_VEC_IS_NULL(sep, r)) {
          memcpy(q, SQL_VEC_STR(sep)[r].ptr, SQL_VEC_STR(sep)[r].len);
          q += SQL_VEC_STR(sep)[r].len;
        }
        if (SQL_VEC_STR(val)[r].len) memcpy(q, SQL_VEC_STR(val)[r].ptr, SQL_VEC_STR(val)[r].len);
        q += SQL_VEC_STR(val)[r].len;
      }
      SQL_VEC_STR(out)[i].ptr = p;
      SQL_VEC_STR(out)[i].len = len;
    }
    return 0;
  }
  case ACC_ARRAY_AGG: {
    if ((rc = vec_out(m, c->type, n, out, &nulls, err))) return rc;
    const collect *col = &x->col;
    uint32_t a = col->gstart[g0], b = col->gstart[g0 + n];
    if ((rc = sql_vec_gather(m, &col->vals.cols[0], col->perm + a, b - a, out->child, err)))
      return rc;
    for (uint32_t i = 0; i <= n; i++)
      out->offsets[i] = col->gstart[g0 + i] - a;
    for (uint32_t i = 0; i < n; i++)
      nulls[i] = col->gstart[g0 + i] == col->gstart[g0 + i + 1];
    return 0;
  }
  }
  return 0;
}

/* --- Collected aggregates --------------------------------------------------------------------- */

/* Collects the selected rows of one batch: argument values and the sort key made of the group
 * number and the ORDER BY key (okeys). */
static int collect_add(acc *x, const uint32_t *gids, const sql_vec *args, const sql_keys *okeys,
                       const uint32_t *sel, uint32_t n, tarn_error *err) {
  collect *col = &x->col;
  int rc = 0;
  SEL_LOOP({
    if (rc) break;
    uint8_t g[4] = {(uint8_t)(gids[i] >> 24), (uint8_t)(gids[i] >> 16), (uint8_t)(gids[i] >> 8),
                    (uint8_t)gids[i]};
    const uint8_t *parts[2] = {g, NULL};
    size_t lens[2] = {4, 0};
    if (okeys) {
      parts[1] = okeys->bytes + okeys->offset[i];
      lens[1] = okeys->offset[i + 1] - okeys->offset[i];
    }
    rc = sql_keystore_push(&col->keys, parts, lens, 2, err);
  });
  if (rc) return rc;
  if (sel) return sql_rows_append_sel(&col->vals, args, sel, n, err);
  return sql_rows_append(&col->vals, args, 0, n, err);
}

/* DISTINCT: keeps of the selected rows those whose (group, value) pair is new, in out (n_out
 * rows). The pairs live in a hash table per accumulator keyed by the group number followed by
 * the value's key bytes (dkeys), so duplicates are dropped as they arrive. */
static int distinct_filter(acc *x, sql_mem *scratch, const uint32_t *gids, const sql_keys *dk,
                           const uint32_t *sel, uint32_t n, uint32_t *out, uint32_t *n_out,
                           tarn_error *err) {
  size_t total = 0;
  SEL_LOOP(total += 4 + dk->offset[i + 1] - dk->offset[i];);
  uint8_t *bytes = sql_mem_alloc(scratch, total ? total : 1, 1);
  uint32_t *off = sql_mem_alloc(scratch, (size_t)n + 1, sizeof *off);
  uint64_t *hash = sql_mem_alloc(scratch, n ? n : 1, sizeof *hash);
  uint32_t *tmp = sql_mem_alloc(scratch, n ? n : 1, sizeof *tmp);
  uint8_t *is_new = sql_mem_alloc(scratch, n ? n : 1, 1);
  if (!bytes || !off || !hash || !tmp || !is_new)
    return tarn_err(err, TARN_ENOMEM, "out of memory");
  uint32_t k = 0, o = 0;
  off[0] = 0;
  SEL_LOOP({
    uint32_t g = gids[i], len = dk->offset[i + 1] - dk->offset[i];
    bytes[o] = (uint8_t)(g >> 24);
    bytes[o + 1] = (uint8_t)(g >> 16);
    bytes[o + 2] = (uint8_t)(g >> 8);
    bytes[o + 3] = (uint8_t)g;
    memcpy(bytes + o + 4, dk->bytes + dk->offset[i], len);
    o += 4 + len;
    off[k + 1] = o;
    /* The value's hash mixed with the group (murmur3's finaliser) instead of hashing again. */
    uint64_t h = dk->hash[i] ^ (g * UINT64_C(0x9E3779B97F4A7C15));
    h ^= h >> 33;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
    h *= UINT64_C(0xc4ceb9fe1a85ec53);
    h ^= h >> 33;
    hash[k++] = h;
  });
  sql_keys ck = {.n = n, .bytes = bytes, .offset = off, .hash = hash, .has_null = NULL};
  int rc = sql_ktab_insert(&x->dset, &ck, NULL, n, tmp, is_new, err);
  if (rc) return rc;
  uint32_t m = 0;
  for (k = 0; k < n; k++)
    if (is_new[k]) out[m++] = sel ? sel[k] : k;
  *n_out = m;
  return 0;
}

/* Sorts the collected rows of x by (group, ORDER BY key, arrival) and finds each group's
 * range. */
static int collect_finish(acc *x, uint32_t n_groups, tarn_error *err) {
  collect *col = &x->col;
  uint32_t n = col->vals.n;
  col->perm = malloc((n ? n : 1) * sizeof *col->perm);
  col->gstart = calloc((size_t)n_groups + 1, sizeof *col->gstart);
  if (!col->perm || !col->gstart) return tarn_err(err, TARN_ENOMEM, "out of memory");
  int rc = sql_keystore_sort(&col->keys, NULL, n, col->perm, err);
  if (rc) return rc;
  col->n_perm = n;
  for (uint32_t k = 0; k < n; k++) {
    const uint8_t *p = col->keys.bytes + col->keys.off[col->perm[k]];
    uint32_t g = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    col->gstart[g + 1]++;
  }
  for (uint32_t g = 0; g < n_groups; g++)
    col->gstart[g + 1] += col->gstart[g];
  return 0;
}

/* --- The operator ----------------------------------------------------------------------------- */

static void agg_state_free_tables(agg_state *s) {
  for (size_t t = 0; s->tabs && t < s->n_tabs; t++)
    table_free(s, &s->tabs[t]);
}

static int agg_account(sql_op *op, sql_exec_ctx *ctx) {
  agg_state *s = op->state;
  int64_t total = 0;
  for (size_t t = 0; t < s->n_tabs; t++)
    total += (int64_t)table_bytes(s, &s->tabs[t]);
  if (total <= s->charged) return 0;
  if (sql_exec_charge(ctx, total - s->charged)) {
    s->charged = total;
    return 0;
  }
  if (s->spilling || s->depth >= MAX_SPILL_DEPTH) return 0; /* over budget, cannot split more */
  if (!s->can_spill)
    return tarn_err(ctx->err, TARN_ENOMEM,
                    "out of memory: aggregation needs more than the memory limit of %lld bytes",
                    (long long)ctx->mem_limit);
  s->spilling = true;
  __atomic_store_n(&op->plan->spilled, true, __ATOMIC_RELAXED); /* workers share the node */
  return 0;
}

/* Writes the rows of in whose group is not in the table (gids[i] == SQL_NONE) to partitions. */
static int agg_spill_rows(agg_state *s, sql_exec_ctx *ctx, sql_batch *in, const sql_keys *keys,
                          const uint32_t *gids) {
  uint32_t *sel = malloc((size_t)in->n_rows * N_PARTS * sizeof *sel);
  uint32_t cnt[N_PARTS] = {0};
  if (!sel) return tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
  int shift = 60 - 4 * s->depth;
  for (uint32_t i = 0; i < in->n_rows; i++) {
    if (gids[i] != SQL_NONE) continue;
    uint32_t part = (uint32_t)(keys->hash[i] >> shift) & (N_PARTS - 1);
    sel[part * in->n_rows + cnt[part]++] = i;
  }
  int rc = 0;
  for (uint32_t part = 0; part < N_PARTS && !rc; part++) {
    if (!cnt[part]) continue;
    if (!s->parts[part]) rc = sql_spill_open(ctx->tmp_dir, &s->parts[part], ctx->err);
    sql_batch *b = NULL;
    if (!rc) rc = sql_batch_select(in, sel + part * in->n_rows, cnt[part], &b, ctx->err);
    if (!rc) rc = sql_spill_write(s->parts[part], b, ctx->err);
    sql_batch_free(b);
  }
  free(sel);
  return rc;
}

/* Removes rows that are not selected from sel (sel NULL: all rows of n are candidates). Returns
 * the new selection in out (n_out rows), or NULL in *res when every row remains. */
static void sel_and_not_null(const uint32_t *sel, uint32_t n, const uint8_t *nulls, uint32_t *out,
                             uint32_t *n_out, const uint32_t **res) {
  uint32_t m = 0;
  if (sel) {
    for (uint32_t k = 0; k < n; k++)
      if (!nulls[sel[k]]) out[m++] = sel[k];
  } else {
    for (uint32_t i = 0; i < n; i++)
      if (!nulls[i]) out[m++] = i;
  }
  *n_out = m;
  *res = out;
}

/* ---- small keys ------------------------------------------------------------------------------
 * Typical GROUP BY keys (flags, short codes, small integers) take a few distinct values per batch.
 * Encoding and hashing every row's key (sql_keys_encode, sql_ktab_insert) then costs more than
 * the aggregates; instead each row's key columns are packed into 16 bytes, rows are deduplicated
 * in a small local table, and only one representative row per distinct key goes through the
 * group table. Packed keys compare equal exactly when the encoded keys do: every column has a
 * fixed width within the batch, with a leading byte that separates NULL from each length. */

#define PACK_BYTES 16
#define PACK_MAX_DISTINCT 256 /* per batch; more and the general path is as cheap */
#define PACK_SLOTS 1024       /* local table: a power of two, at least 2 * PACK_MAX_DISTINCT */

/* Packs row i's key columns into rows[i * PACK_BYTES ...]; false when a column's type or width
 * does not fit (floats, decimals, nested values, long strings). */
static bool pack_keys(sql_vec *const *cols, uint32_t n_cols, uint32_t n, uint8_t *rows) {
  memset(rows, 0, (size_t)n * PACK_BYTES);
  size_t off = 0;
  for (uint32_t c = 0; c < n_cols; c++) {
    const sql_vec *v = cols[c];
    if (v->n < n) return false;
    const uint8_t *nul = v->nulls;
    switch (sql_type_phys(v->type->id)) {
    case SQL_PHYS_STR: {
      if (v->type->id == SQL_UUID) return false;
      const sql_str *d = SQL_VEC_STR(v);
      uint32_t maxlen = 0;
      for (uint32_t i = 0; i < n; i++) {
        uint32_t len = nul && nul[i] ? 0 : (uint32_t)d[i].len;
        maxlen = len > maxlen ? len : maxlen;
      }
      if (off + 1 + maxlen > PACK_BYTES) return false;
      for (uint32_t i = 0; i < n; i++) {
        uint8_t *o = rows + (size_t)i * PACK_BYTES + off;
        if (nul && nul[i]) continue; /* 0: NULL */
        uint32_t len = (uint32_t)d[i].len;
        o[0] = (uint8_t)(len + 1);
        for (uint32_t j = 0; j < len; j++)
          o[1 + j] = (uint8_t)d[i].ptr[j];
      }
      off += 1 + maxlen;
      break;
    }
    case SQL_PHYS_I64: {
      const int64_t *d = SQL_VEC_I64(v);
      if (off + 9 > PACK_BYTES) return false;
      for (uint32_t i = 0; i < n; i++) {
        uint8_t *o = rows + (size_t)i * PACK_BYTES + off;
        if (nul && nul[i]) continue;
        o[0] = 1;
        memcpy(o + 1, &d[i], 8);
      }
      off += 9;
      break;
    }
    case SQL_PHYS_U8: {
      const uint8_t *d = SQL_VEC_U8(v);
      if (off + 1 > PACK_BYTES) return false;
      for (uint32_t i = 0; i < n; i++)
        rows[(size_t)i * PACK_BYTES + off] = nul && nul[i] ? 2 : d[i] ? 1 : 0;
      off += 1;
      break;
    }
    default: return false;
    }
  }
  return true;
}

/* local[i] = number of row i's distinct packed key in order of first occurrence; reps[k] = the
 * first row with key k. Returns the count, or UINT32_MAX past PACK_MAX_DISTINCT. */
static uint32_t pack_dedup(const uint8_t *rows, uint32_t n, uint32_t *local, uint32_t *reps) {
  uint16_t slot[PACK_SLOTS]; /* distinct number + 1; 0 = empty */
  memset(slot, 0, sizeof slot);
  uint32_t m = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (i > 0 && memcmp(rows + (size_t)i * PACK_BYTES, rows + (size_t)(i - 1) * PACK_BYTES,
                        PACK_BYTES) == 0) { /* runs of one key are common in clustered data */
      local[i] = local[i - 1];
      continue;
    }
    uint64_t lo, hi;
    memcpy(&lo, rows + (size_t)i * PACK_BYTES, 8);
    memcpy(&hi, rows + (size_t)i * PACK_BYTES + 8, 8);
    uint64_t h = (lo * UINT64_C(0x9E3779B97F4A7C15)) ^ (hi * UINT64_C(0xC2B2AE3D27D4EB4F));
    h ^= h >> 29;
    uint32_t at = (uint32_t)(h * UINT64_C(0xBF58476D1CE4E5B9) >> 54) & (PACK_SLOTS - 1);
    for (;;) {
      uint32_t id = slot[at];
      if (id == 0) {
        if (m == PACK_MAX_DISTINCT) return UINT32_MAX;
        slot[at] = (uint16_t)(m + 1);
        reps[m] = i;
        local[i] = m++;
        break;
      }
      if (memcmp(rows + (size_t)reps[id - 1] * PACK_BYTES, rows + (size_t)i * PACK_BYTES,
                 PACK_BYTES) == 0) {
        local[i] = id - 1;
        break;
      }
      at = (at + 1) & (PACK_SLOTS - 1);
    }
  }
  return m;
}

/* Group ids of n rows through packed keys (see above): the group table sees one row per distinct
 * key. *done false (nothing changed) when the keys do not pack or are too many. */
static int agg_groups_packed(agg_state *s, agg_table *tab, sql_mem *scratch, sql_vec *kc,
                             sql_vec **kp, uint32_t n, uint32_t *gids, bool *done,
                             tarn_error *err) {
  *done = false;
  uint8_t *rows = sql_mem_alloc(scratch, n, PACK_BYTES);
  uint32_t *local = sql_mem_alloc(scratch, n, sizeof *local);
  uint32_t *reps = sql_mem_alloc(scratch, PACK_MAX_DISTINCT, sizeof *reps);
  uint32_t *rg = sql_mem_alloc(scratch, PACK_MAX_DISTINCT, sizeof *rg);
  uint8_t *rnew = sql_mem_alloc(scratch, PACK_MAX_DISTINCT, 1);
  sql_vec *rk = sql_mem_alloc(scratch, tab->n_set_keys, sizeof *rk);
  sql_vec **rkp = sql_mem_alloc(scratch, tab->n_set_keys, sizeof *rkp);
  if (!rows || !local || !reps || !rg || !rnew || !rk || !rkp)
    return tarn_err(err, TARN_ENOMEM, "out of memory");
  uint32_t m;
  if (!pack_keys(kp, tab->n_set_keys, n, rows) ||
      (m = pack_dedup(rows, n, local, reps)) == UINT32_MAX) {
    tab->no_pack = true;
    return 0;
  }
  for (uint32_t k = 0; k < tab->n_set_keys; k++) {
    int rc = sql_vec_gather(scratch, &kc[k], reps, m, &rk[k], err);
    if (rc) return rc;
    rkp[k] = &rk[k];
  }
  sql_keys keys;
  int rc = sql_keys_encode(scratch, rkp, NULL, tab->n_set_keys, m, &keys, err);
  uint32_t old = tab->kt.n;
  if (!rc) rc = sql_ktab_insert(&tab->kt, &keys, NULL, m, rg, rnew, err);
  if (rc) return rc;
  if (tab->kt.n > old) {
    rc = table_reserve(s, tab, tab->kt.n, err);
    uint32_t n_new = 0;
    for (uint32_t k = 0; k < m; k++)
      if (rnew[k]) reps[n_new++] = reps[k]; /* ascending rows, as the append expects */
    if (!rc) rc = sql_rows_append_sel(&tab->keyvals, kc, reps, n_new, err);
    if (rc) return rc;
    tab->n_groups = tab->kt.n;
  }
  for (uint32_t i = 0; i < n; i++)
    gids[i] = rg[local[i]];
  *done = true;
  return 0;
}

static int agg_consume(sql_op *op, sql_exec_ctx *ctx, sql_batch *in) {
  agg_state *s = op->state;
  sql_plan *p = op->plan;
  uint32_t n = in->n_rows;
  sql_mem *scratch = sql_mem_new();
  if (!scratch) return tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
  size_t n_args = 0;
  for (size_t a = 0; a < s->n_aggs; a++)
    n_args += s->rt[a].call->n_args;
  sql_vec *kv = sql_mem_alloc(scratch, p->n_keys + 1, sizeof *kv);
  sql_vec *av = sql_mem_alloc(scratch, n_args + 1, sizeof *av);
  const uint32_t **asel = sql_mem_alloc(scratch, s->n_aggs + 1, sizeof *asel);
  uint32_t *an = sql_mem_alloc(scratch, s->n_aggs + 1, sizeof *an);
  sql_keys *okeys = sql_mem_alloc(scratch, s->n_aggs + 1, sizeof *okeys);
  sql_keys *dkeys = sql_mem_alloc(scratch, s->n_aggs + 1, sizeof *dkeys);
  uint32_t *gids = sql_mem_alloc(scratch, n, sizeof *gids);
  uint32_t *tsel = sql_mem_alloc(scratch, n, sizeof *tsel);
  uint8_t *is_new = sql_mem_alloc(scratch, n, 1);
  int rc = 0;
  if (!kv || !av || !asel || !an || !okeys || !dkeys || !gids || !tsel || !is_new)
    rc = tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
  if (!rc) rc = sql_eval_all(ctx, scratch, p->keys, p->n_keys, in, kv);
  sql_eval_ctx ectx;
  sql_exec_eval_ctx(ctx, scratch, &ectx);

  /* Per aggregate: arguments, the rows taking part, and the keys of collected calls. */
  size_t at = 0;
  for (size_t a = 0; !rc && a < s->n_aggs; a++) {
    const agg_rt *rt = &s->rt[a];
    const sql_agg_call *c = rt->call;
    sql_vec *args = av + at;
    at += c->n_args;
    rc = sql_eval_all(ctx, scratch, c->args, c->n_args, in, args);
    asel[a] = NULL;
    an[a] = n;
    if (!rc && c->filter && !rt->merge) {
      uint32_t *fs = sql_mem_alloc(scratch, n, sizeof *fs);
      if (!fs) rc = tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
      if (!rc) rc = sql_expr_select(&ectx, c->filter, in, fs, &an[a]);
      asel[a] = fs;
    }
    if (!rc && rt->skip_nulls && c->n_args > 0 && args[0].nulls) {
      uint32_t *ns = sql_mem_alloc(scratch, n, sizeof *ns);
      if (!ns) rc = tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
      if (!rc) sel_and_not_null(asel[a], an[a], args[0].nulls, ns, &an[a], &asel[a]);
    }
    if (!rc && rt->collect && c->n_order > 0) {
      sql_vec *ov = sql_mem_alloc(scratch, c->n_order, sizeof *ov);
      sql_vec **op_ = sql_mem_alloc(scratch, c->n_order, sizeof *op_);
      sql_key_col *dirs = sql_mem_alloc(scratch, c->n_order, sizeof *dirs);
      if (!ov || !op_ || !dirs) rc = tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
      for (size_t k = 0; !rc && k < c->n_order; k++) {
        rc = sql_eval_one(ctx, scratch, c->order[k].expr, in, &ov[k]);
        op_[k] = &ov[k];
        dirs[k].descending = c->order[k].descending;
        dirs[k].nulls_first = c->order[k].nulls_first;
      }
      if (!rc) rc = sql_keys_encode(scratch, op_, dirs, c->n_order, n, &okeys[a], ctx->err);
    }
    if (!rc && rt->distinct) {
      sql_vec *dp = &args[0];
      rc = sql_keys_encode(scratch, &dp, NULL, 1, n, &dkeys[a], ctx->err);
    }
  }

  for (size_t t = 0; !rc && t < s->n_tabs; t++) {
    agg_table *tab = &s->tabs[t];
    const uint32_t *base = NULL;
    uint32_t n_base = n;
    if (tab->n_set_keys == 0) {
      memset(gids, 0, (size_t)n * sizeof *gids);
    } else {
      sql_vec **kp = sql_mem_alloc(scratch, tab->n_set_keys, sizeof *kp);
      sql_vec *kc = sql_mem_alloc(scratch, tab->n_set_keys, sizeof *kc);
      sql_keys keys;
      if (!kp || !kc) rc = tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
      for (uint32_t k = 0; !rc && k < tab->n_set_keys; k++) {
        kp[k] = &kv[tab->set_keys[k]];
        kc[k] = kv[tab->set_keys[k]];
      }
      bool packed = false;
      if (!rc && !s->spilling && !tab->no_pack)
        rc = agg_groups_packed(s, tab, scratch, kc, kp, n, gids, &packed, ctx->err);
      if (!rc && !packed)
        rc = sql_keys_encode(scratch, kp, NULL, tab->n_set_keys, n, &keys, ctx->err);
      if (rc) break;
      if (packed) {
        /* gids set */
      } else if (s->spilling) {
        sql_ktab_lookup(&tab->kt, &keys, NULL, n, gids);
        rc = agg_spill_rows(s, ctx, in, &keys, gids);
        n_base = 0;
        for (uint32_t i = 0; i < n; i++)
          if (gids[i] != SQL_NONE) tsel[n_base++] = i;
        base = tsel;
      } else {
        uint32_t old = tab->kt.n;
        rc = sql_ktab_insert(&tab->kt, &keys, NULL, n, gids, is_new, ctx->err);
        if (!rc && tab->kt.n > old) {
          rc = table_reserve(s, tab, tab->kt.n, ctx->err);
          uint32_t m = 0;
          for (uint32_t i = 0; i < n; i++)
            if (is_new[i]) tsel[m++] = i;
          if (!rc) rc = sql_rows_append_sel(&tab->keyvals, kc, tsel, m, ctx->err);
          tab->n_groups = tab->kt.n;
        }
      }
    }
    at = 0;
    for (size_t a = 0; !rc && a < s->n_aggs; a++) {
      const agg_rt *rt = &s->rt[a];
      sql_vec *args = av + at;
      at += rt->call->n_args;
      const uint32_t *sel = asel[a];
      uint32_t cnt = an[a];
      uint32_t *both = NULL;
      if (base) { /* rows of groups in memory that also take part in this aggregate */
        both = malloc((n_base ? n_base : 1) * sizeof *both);
        if (!both) {
          rc = tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
          break;
        }
        uint32_t m = 0;
        if (!sel) {
          memcpy(both, base, (size_t)n_base * sizeof *both);
          m = n_base;
        } else {
          for (uint32_t x = 0, y = 0; x < n_base && y < cnt;) {
            if (base[x] == sel[y]) {
              both[m++] = base[x];
              x++;
              y++;
            } else if (base[x] < sel[y]) {
              x++;
            } else {
              y++;
            }
          }
        }
        sel = both;
        cnt = m;
      }
      uint32_t *fresh = NULL;
      if (!rc && rt->distinct) {
        fresh = malloc((cnt ? cnt : 1) * sizeof *fresh);
        if (!fresh) rc = tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
        if (!rc)
          rc = distinct_filter(&tab->accs[a], scratch, gids, &dkeys[a], sel, cnt, fresh, &cnt,
                               ctx->err);
        sel = fresh;
      }
      if (!rc && rt->collect)
        rc = collect_add(&tab->accs[a], gids, args, rt->call->n_order ? &okeys[a] : NULL, sel, cnt,
                         ctx->err);
      else if (!rc)
        rc = acc_update(rt, &tab->accs[a], gids, args, sel, cnt, tab->n_groups, ctx->err);
      free(fresh);
      free(both);
    }
  }
  sql_mem_release(scratch);
  return rc ? rc : agg_account(op, ctx);
}

static int agg_finish_tables(agg_state *s, sql_exec_ctx *ctx) {
  for (size_t t = 0; t < s->n_tabs; t++)
    for (size_t a = 0; a < s->n_aggs; a++)
      if (s->rt[a].collect) {
        int rc = collect_finish(&s->tabs[t].accs[a], s->tabs[t].n_groups, ctx->err);
        if (rc) return rc;
      }
  s->emit_tab = 0;
  s->emit_pos = 0;
  s->phase = 1;
  return 0;
}

/* Moves the partition files filled during the pass just ended onto the pending stack. */
static int agg_push_partitions(agg_state *s, sql_exec_ctx *ctx) {
  for (int part = N_PARTS - 1; part >= 0; part--) {
    if (!s->parts[part]) continue;
    if (s->n_pending == s->pending_cap) {
      void *pp = s->pending;
      if (sql_grow(&pp, &s->pending_cap, s->n_pending + 1, sizeof(spill_file), ctx->err))
        return TARN_ENOMEM;
      s->pending = pp;
    }
    s->pending[s->n_pending].f = s->parts[part];
    s->pending[s->n_pending].depth = s->depth + 1;
    s->n_pending++;
    s->parts[part] = NULL;
  }
  return 0;
}

static int agg_consume_all(sql_op *op, sql_exec_ctx *ctx) {
  agg_state *s = op->state;
  for (;;) {
    sql_batch *in = NULL;
    int rc;
    if (s->reading)
      rc = sql_spill_read(s->reading, s->in_types, s->n_in, &in, ctx->err);
    else
      rc = op->child[0]->vt->next(op->child[0], ctx, &in);
    if (rc) return rc;
    if (!in) break;
    rc = in->n_rows ? agg_consume(op, ctx, in) : 0;
    sql_batch_free(in);
    if (rc) return rc;
  }
  if (s->reading) {
    fclose(s->reading);
    s->reading = NULL;
  }
  int rc = agg_push_partitions(s, ctx);
  return rc ? rc : agg_finish_tables(s, ctx);
}

/* Starts on the next spilled partition: empty tables, then aggregate the partition's rows. */
static int agg_next_partition(sql_op *op, sql_exec_ctx *ctx, bool *any) {
  agg_state *s = op->state;
  *any = s->n_pending > 0;
  if (!*any) return 0;
  spill_file sf = s->pending[--s->n_pending];
  agg_state_free_tables(s);
  sql_exec_charge(ctx, -s->charged);
  s->charged = 0;
  for (size_t t = 0; t < s->n_tabs; t++) {
    int rc = table_init(s, op->plan, &s->tabs[t], ctx->err);
    if (rc) {
      fclose(sf.f);
      return rc;
    }
  }
  s->spilling = false;
  s->depth = sf.depth;
  s->reading = sf.f;
  if (fflush(sf.f) != 0 || fseek(sf.f, 0, SEEK_SET) != 0)
    return tarn_err(ctx->err, TARN_EIO, "cannot rewind an aggregate spill file");
  return agg_consume_all(op, ctx);
}

static int agg_emit(sql_op *op, sql_exec_ctx *ctx, sql_batch **out) {
  agg_state *s = op->state;
  sql_plan *p = op->plan;
  bool partial = p->agg_mode == SQL_AGG_PARTIAL;
  while (s->emit_tab < s->n_tabs && s->emit_pos >= s->tabs[s->emit_tab].n_groups) {
    s->emit_tab++;
    s->emit_pos = 0;
  }
  if (s->emit_tab >= s->n_tabs) return 0;
  agg_table *t = &s->tabs[s->emit_tab];
  uint32_t g0 = s->emit_pos, n = t->n_groups - g0;
  if (n > SQL_BATCH_ROWS) n = SQL_BATCH_ROWS;
  sql_batch *b;
  int rc = sql_batch_new((uint32_t)p->n_out, n, &b, ctx->err);
  if (rc) return rc;
  if (sql_mem_add_parent(b->mem, t->keyvals.mem))
    rc = tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
  for (uint32_t i = 0; i < n; i++)
    s->range[i] = g0 + i;
  uint32_t j = 0;
  for (size_t k = 0; !rc && k < p->n_keys; k++) {
    if (t->set & ((uint64_t)1 << k))
      rc = sql_vec_gather(b->mem, &t->keyvals.cols[j++], s->range, n, &b->cols[k], ctx->err);
    else
      rc = sql_vec_all_null(b->mem, p->out_types[k], n, &b->cols[k], ctx->err);
  }
  size_t col = p->n_keys;
  for (size_t a = 0; !rc && a < s->n_aggs; a++) {
    acc *x = &t->accs[a];
    if (x->any_vals.mem && sql_mem_add_parent(b->mem, x->any_vals.mem))
      rc = tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
    if (!rc && x->col.init && sql_mem_add_parent(b->mem, x->col.vals.mem))
      rc = tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
    if (!rc)
      rc = acc_output(&s->rt[a], x, partial, g0, n, b->mem, p->out_types + col, &b->cols[col],
                      ctx->err);
    col += partial ? s->rt[a].n_state : 1;
  }
  if (rc) {
    sql_batch_free(b);
    return rc;
  }
  s->emit_pos += n;
  *out = b;
  return 0;
}

static int agg_next(sql_op *op, sql_exec_ctx *ctx, sql_batch **out) {
  agg_state *s = op->state;
  *out = NULL;
  for (;;) {
    if (s->phase == 2) return 0;
    if (s->phase == 0) {
      int rc = agg_consume_all(op, ctx);
      if (rc) return rc;
    }
    int rc = agg_emit(op, ctx, out);
    if (rc || *out) return rc;
    bool any;
    rc = agg_next_partition(op, ctx, &any);
    if (rc) return rc;
    if (!any) {
      s->phase = 2;
      agg_state_free_tables(s); /* done: give the memory back before the query ends */
      sql_exec_charge(ctx, -s->charged);
      s->charged = 0;
    }
  }
}

static int agg_open(sql_op *op, sql_exec_ctx *ctx) {
  agg_state *s = op->state;
  s->ctx = ctx;
  for (size_t t = 0; t < s->n_tabs; t++) {
    int rc = table_init(s, op->plan, &s->tabs[t], ctx->err);
    if (rc) return rc;
  }
  s->phase = 0;
  return sql_xop_open_children(op, ctx);
}

static void agg_close(sql_op *op) {
  agg_state *s = op->state;
  if (!s) return;
  sql_xop_close_children(op);
  agg_state_free_tables(s);
  free(s->tabs);
  for (int i = 0; i < N_PARTS; i++)
    if (s->parts[i]) fclose(s->parts[i]);
  for (uint32_t i = 0; i < s->n_pending; i++)
    fclose(s->pending[i].f);
  if (s->reading) fclose(s->reading);
  free(s->pending);
  free(s->set_key_block);
  if (s->ctx && s->charged) sql_exec_charge(s->ctx, -s->charged);
  free(s->rt);
  free(s->in_types);
  free(s);
  op->state = NULL;
}

static const sql_op_vtable agg_vt = {"hash_aggregate", agg_open, agg_next, agg_close};

int sql_op_agg(sql_exec_ctx *ctx, sql_plan *p, sql_op **out) {
  int rc = sql_xop_new(ctx, p, &agg_vt, sizeof(agg_state), 1, out);
  if (rc) return rc;
  agg_state *s = (*out)->state;
  sql_plan *cp = p->child[0];
  s->n_aggs = p->n_aggs;
  s->rt = calloc(p->n_aggs ? p->n_aggs : 1, sizeof *s->rt);
  s->n_tabs = p->n_grouping_sets ? p->n_grouping_sets : 1;
  s->tabs = calloc(s->n_tabs, sizeof *s->tabs);
  s->n_in = (uint32_t)cp->n_out;
  s->in_types = calloc(s->n_in ? s->n_in : 1, sizeof *s->in_types);
  if (!s->rt || !s->tabs || !s->in_types)
    return sql_xop_fail(*out, tarn_err(ctx->err, TARN_ENOMEM, "out of memory"));
  for (uint32_t c = 0; c < s->n_in; c++)
    s->in_types[c] = cp->out_types[c];
  if (p->n_keys > 64)
    return sql_xop_fail(*out, tarn_err(ctx->err, TARN_EUNSUPPORTED, "more than 64 group keys"));
  rc = sql_resolve_all(p->keys, p->n_keys, cp, ctx->err);
  size_t n_cols = p->n_keys;
  for (size_t a = 0; !rc && a < p->n_aggs; a++) {
    sql_agg_call *c = &p->aggs[a];
    rc = sql_resolve_all(c->args, c->n_args, cp, ctx->err);
    if (!rc && c->filter) rc = sql_resolve_all(&c->filter, 1, cp, ctx->err);
    for (size_t k = 0; !rc && k < c->n_order; k++)
      rc = sql_resolve_all(&c->order[k].expr, 1, cp, ctx->err);
    if (!rc) rc = acc_setup(&s->rt[a], c, p->agg_mode, ctx->err);
    n_cols += p->agg_mode == SQL_AGG_PARTIAL ? s->rt[a].n_state : 1;
  }
  if (!rc && n_cols != p->n_out)
    rc = tarn_err(ctx->err, TARN_EINVAL,
                  "internal error: aggregate produces %zu columns, the plan expects %zu", n_cols,
                  p->n_out);
  for (size_t t = 0; !rc && t < s->n_tabs; t++) {
    agg_table *tab = &s->tabs[t];
    tab->set = p->n_grouping_sets ? p->grouping_sets[t]
               : p->n_keys == 64  ? UINT64_MAX
                                  : (((uint64_t)1 << p->n_keys) - 1);
    tab->set_keys = NULL;
    for (size_t k = 0; k < p->n_keys; k++)
      if (tab->set & ((uint64_t)1 << k)) tab->n_set_keys++;
  }
  /* The set key lists live in one block: n_tabs * n_keys entries. */
  uint32_t *lists = NULL;
  if (!rc) {
    lists = calloc(s->n_tabs * (p->n_keys ? p->n_keys : 1), sizeof *lists);
    if (!lists) rc = tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
  }
  for (size_t t = 0; !rc && t < s->n_tabs; t++) {
    agg_table *tab = &s->tabs[t];
    tab->set_keys = lists + t * (p->n_keys ? p->n_keys : 1);
    uint32_t j = 0;
    for (size_t k = 0; k < p->n_keys; k++)
      if (tab->set & ((uint64_t)1 << k)) tab->set_keys[j++] = (uint32_t)k;
  }
  if (rc) {
    free(lists);
    return sql_xop_fail(*out, rc);
  }
  s->can_spill = s->n_tabs == 1 && p->n_keys > 0;
  s->set_key_block = lists;
  return 0;
}

/* --- DISTINCT
 * ------------------------------------------------------------------------------------- */

typedef struct distinct_state {
  sql_ktab kt;
  int64_t charged;
  sql_exec_ctx *ctx;
} distinct_state;

static int distinct_open(sql_op *op, sql_exec_ctx *ctx) {
  ((distinct_state *)op->state)->ctx = ctx;
  return sql_xop_open_children(op, ctx);
}

/* Streams each batch's rows whose whole-row key is new. */
static int distinct_next(sql_op *op, sql_exec_ctx *ctx, sql_batch **out) {
  distinct_state *s = op->state;
  *out = NULL;
  for (;;) {
    sql_batch *in;
    int rc = op->child[0]->vt->next(op->child[0], ctx, &in);
    if (rc || !in) return rc;
    uint32_t n = in->n_rows;
    sql_mem *scratch = sql_mem_new();
    sql_vec **cols = calloc(in->n_cols ? in->n_cols : 1, sizeof *cols);
    uint32_t *gids = malloc((n ? n : 1) * sizeof *gids);
    uint32_t *sel = malloc((n ? n : 1) * sizeof *sel);
    uint8_t *is_new = malloc(n ? n : 1);
    if (!scratch || !cols || !gids || !sel || !is_new)
      rc = tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
    sql_keys keys;
    for (uint32_t c = 0; !rc && c < in->n_cols; c++)
      cols[c] = &in->cols[c];
    if (!rc) rc = sql_keys_encode(scratch, cols, NULL, in->n_cols, n, &keys, ctx->err);
    if (!rc) rc = sql_ktab_insert(&s->kt, &keys, NULL, n, gids, is_new, ctx->err);
    uint32_t m = 0;
    for (uint32_t i = 0; !rc && i < n; i++)
      if (is_new[i]) sel[m++] = i;
    int64_t total = (int64_t)sql_ktab_bytes(&s->kt);
    if (!rc && total > s->charged) {
      rc = sql_charge_or_fail(ctx, total - s->charged, "DISTINCT");
      if (!rc) s->charged = total;
    }
    if (!rc && m > 0) {
      if (m == n) {
        *out = in;
        in = NULL;
      } else {
        rc = sql_batch_select(in, sel, m, out, ctx->err);
      }
    }
    free(cols);
    free(gids);
    free(sel);
    free(is_new);
    if (scratch) sql_mem_release(scratch);
    sql_batch_free(in);
    if (rc || *out) return rc;
  }
}

static void distinct_close(sql_op *op) {
  distinct_state *s = op->state;
  if (!s) return;
  sql_xop_close_children(op);
  sql_ktab_free(&s->kt);
  if (s->ctx && s->charged) sql_exec_charge(s->ctx, -s->charged);
  free(s);
  op->state = NULL;
}

static const sql_op_vtable distinct_vt = {"distinct", distinct_open, distinct_next, distinct_close};

int sql_op_distinct(sql_exec_ctx *ctx, sql_plan *p, sql_op **out) {
  return sql_xop_new(ctx, p, &distinct_vt, sizeof(distinct_state), 1, out);
}
