/*
 * Scalar functions and operators: resolution by name and argument types, and the operator
 * kernels (arithmetic, comparison, concatenation, date/time arithmetic).
 *
 * Resolution follows PostgreSQL's rules for the cases that matter: an exact match wins; otherwise
 * the candidate reachable by implicit casts with the most exactly matching arguments, then the
 * most arguments converted to their category's preferred type (double precision, text,
 * timestamptz, interval, boolean), then table order. A bare NULL next to a typed operand of a
 * binary operator is taken to have that operand's type, as PostgreSQL does with unknown literals.
 * Comparisons resolve to the common supertype of their operands instead of a table entry: every
 * type compares with itself, so the common type is exactly PostgreSQL's cross-type operator.
 *
 * Kernels loop over plain arrays. A one-row argument is a constant (expr_impl.h), and the hot
 * kernels (integer, double and decimal arithmetic, comparisons) have separate loops for
 * column-column, column-constant and constant-column so the inner loop reads one array. Overflow
 * is detected with branch-free flags inside the loop and diagnosed afterwards, skipping NULL
 * rows, whose stored values may be anything.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sql/expr_impl.h"

enum {
  OP_ADD,
  OP_SUB,
  OP_MUL,
  OP_DIV,
  OP_MOD,
  OP_NEG,
  OP_POS,
  OP_BAND,
  OP_BOR,
  OP_BXOR,
  OP_SHL,
  OP_SHR,
  OP_BNOT
};

static inline bool out_null(const sql_vec *out, uint32_t i) {
  return out->nulls != NULL && out->nulls[i];
}

static int div_zero(sql_eval_ctx *ctx) {
  return tarn_err(ctx->err, TARN_EINVAL, "division by zero");
}

static const char *int_overflow_msg(sql_type_id id) {
  return id == SQL_INT2   ? "smallint out of range"
         : id == SQL_INT4 ? "integer out of range"
                          : "bigint out of range";
}

/* ---- integer arithmetic ---------------------------------------------------------------------- */

static inline bool i_add(int64_t a, int64_t b, int64_t *r) {
  return __builtin_add_overflow(a, b, r);
}
static inline bool i_sub(int64_t a, int64_t b, int64_t *r) {
  return __builtin_sub_overflow(a, b, r);
}
static inline bool i_mul(int64_t a, int64_t b, int64_t *r) {
  return __builtin_mul_overflow(a, b, r);
}

/* The three shapes of a binary kernel over x and y into r; FN(a, b, &r) returns an overflow flag
 * and the result must also lie in [lo, hi]. */
#define INT_LOOP(FN)                                                                               \
  do {                                                                                             \
    if (xc) {                                                                                      \
      int64_t xv = x[0];                                                                           \
      for (uint32_t i = 0; i < n; i++)                                                             \
        bad |= FN(xv, y[i], &r[i]) | (r[i] < lo) | (r[i] > hi);                                    \
    } else if (yc) {                                                                               \
      int64_t yv = y[0];                                                                           \
      for (uint32_t i = 0; i < n; i++)                                                             \
        bad |= FN(x[i], yv, &r[i]) | (r[i] < lo) | (r[i] > hi);                                    \
    } else {                                                                                       \
      for (uint32_t i = 0; i < n; i++)                                                             \
        bad |= FN(x[i], y[i], &r[i]) | (r[i] < lo) | (r[i] > hi);                                  \
    }                                                                                              \
  } while (0)

static int k_int_arith(sql_eval_ctx *ctx, const sql_func *f, sql_vec *const *args, size_t n_args,
                       uint32_t n, sql_vec *out) {
  sql_type_id id = out->type->id;
  int64_t lo = id == SQL_INT2 ? INT16_MIN : id == SQL_INT4 ? INT32_MIN : INT64_MIN;
  int64_t hi = id == SQL_INT2 ? INT16_MAX : id == SQL_INT4 ? INT32_MAX : INT64_MAX;
  const int64_t *x = SQL_VEC_I64(args[0]);
  int64_t *r = SQL_VEC_I64(out);
  if (n_args == 1) {
    const sql_vec *a = args[0];
    for (uint32_t i = 0; i < n; i++) {
      int64_t v = x[SQL_ARG_ROW(a, i)];
      if (f->op == OP_POS) {
        r[i] = v;
      } else if (f->op == OP_BNOT) {
        r[i] = ~v;
      } else {
        if (v == lo && !out_null(out, i))
          return tarn_err(ctx->err, TARN_EINVAL, "%s", int_overflow_msg(id));
        r[i] = v == lo ? 0 : -v;
      }
    }
    return 0;
  }
  const int64_t *y = SQL_VEC_I64(args[1]);
  bool xc = args[0]->n == 1 && n > 1, yc = args[1]->n == 1 && n > 1;
  bool bad = false;
  switch (f->op) {
  case OP_ADD: INT_LOOP(i_add); break;
  case OP_SUB: INT_LOOP(i_sub); break;
  case OP_MUL: INT_LOOP(i_mul); break;
  case OP_DIV:
  case OP_MOD:
    for (uint32_t i = 0; i < n; i++) {
      int64_t a = x[xc ? 0 : i], b = y[yc ? 0 : i];
      if (b == 0) {
        if (!out_null(out, i)) return div_zero(ctx);
        r[i] = 0;
      } else if (b == -1) {
        /* INT64_MIN / -1 traps in C; PostgreSQL reports the overflow, and x % -1 is 0. */
        if (f->op == OP_MOD) {
          r[i] = 0;
        } else if (a == lo) {
          if (!out_null(out, i)) return tarn_err(ctx->err, TARN_EINVAL, "%s", int_overflow_msg(id));
          r[i] = 0;
        } else {
          r[i] = -a;
        }
      } else {
        r[i] = f->op == OP_DIV ? a / b : a % b;
      }
    }
    return 0;
  case OP_BAND:
  case OP_BOR:
  case OP_BXOR:
  case OP_SHL:
  case OP_SHR:
    for (uint32_t i = 0; i < n; i++) {
      int64_t a = x[xc ? 0 : i], b = y[yc ? 0 : i];
      int64_t v;
      int bits = id == SQL_INT2 ? 16 : id == SQL_INT4 ? 32 : 64;
      switch (f->op) {
      case OP_BAND: v = a & b; break;
      case OP_BOR: v = a | b; break;
      case OP_BXOR: v = a ^ b; break;
      case OP_SHL: {
        /* Shifts wrap within the type's width, as in PostgreSQL. */
        uint64_t u = b < 0 || b >= 64 ? 0 : (uint64_t)a << b;
        if (bits < 64) {
          u &= ((uint64_t)1 << bits) - 1;
          if (u >> (bits - 1)) u |= ~(((uint64_t)1 << bits) - 1);
        }
        v = (int64_t)u;
        break;
      }
      default: v = b < 0 ? a : b >= 64 ? (a < 0 ? -1 : 0) : a >> b; break;
      }
      r[i] = v;
    }
    return 0;
  default: return tarn_err(ctx->err, TARN_EINVAL, "bad integer operator");
  }
  if (bad) {
    /* Something overflowed: report it unless it happened only in NULL rows. */
    for (uint32_t i = 0; i < n; i++) {
      if (out_null(out, i)) continue;
      int64_t a = x[xc ? 0 : i], b = y[yc ? 0 : i], v;
      bool o = f->op == OP_ADD   ? i_add(a, b, &v)
               : f->op == OP_SUB ? i_sub(a, b, &v)
                                 : i_mul(a, b, &v);
      if (o || v < lo || v > hi) return tarn_err(ctx->err, TARN_EINVAL, "%s", int_overflow_msg(id));
    }
  }
  return 0;
}

/* ---- floating point arithmetic --------------------------------------------------------------- */

#define F64_LOOP(EXPR)                                                                             \
  do {                                                                                             \
    if (xc) {                                                                                      \
      double a = x[0];                                                                             \
      for (uint32_t i = 0; i < n; i++) {                                                           \
        double b = y[i];                                                                           \
        r[i] = (EXPR);                                                                             \
      }                                                                                            \
    } else if (yc) {                                                                               \
      double b = y[0];                                                                             \
      for (uint32_t i = 0; i < n; i++) {                                                           \
        double a = x[i];                                                                           \
        r[i] = (EXPR);                                                                             \
      }                                                                                            \
    } else {                                                                                       \
      for (uint32_t i = 0; i < n; i++) {                                                           \
        double a = x[i], b = y[i];                                                                 \
        r[i] = (EXPR);                                                                             \
      }                                                                                            \
    }                                                                                              \
  } while (0)

static int k_float_arith(sql_eval_ctx *ctx, const sql_func *f, sql_vec *const *args, size_t n_args,
                         uint32_t n, sql_vec *out) {
  const double *x = SQL_VEC_F64(args[0]);
  double *r = SQL_VEC_F64(out);
  bool f4 = out->type->id == SQL_FLOAT4;
  if (n_args == 1) {
    for (uint32_t i = 0; i < n; i++) {
      double v = x[SQL_ARG_ROW(args[0], i)];
      r[i] = f->op == OP_POS ? v : -v;
    }
    return 0;
  }
  const double *y = SQL_VEC_F64(args[1]);
  bool xc = args[0]->n == 1 && n > 1, yc = args[1]->n == 1 && n > 1;
  switch (f->op) {
  case OP_ADD: F64_LOOP(a + b); break;
  case OP_SUB: F64_LOOP(a - b); break;
  case OP_MUL: F64_LOOP(a * b); break;
  case OP_DIV:
    for (uint32_t i = 0; i < n; i++) {
      double a = x[xc ? 0 : i], b = y[yc ? 0 : i];
      if (b == 0 && !out_null(out, i)) return div_zero(ctx);
      r[i] = b == 0 ? 0 : a / b;
    }
    break;
  default: return tarn_err(ctx->err, TARN_EINVAL, "bad float operator");
  }
  /* PostgreSQL reports results that left the type's range (inputs that were already infinite or
   * zero are fine). */
  for (uint32_t i = 0; i < n; i++) {
    double v = r[i];
    if (f4) r[i] = v = (float)v;
    if ((isinf(v) || v == 0) && !out_null(out, i)) {
      double a = x[xc ? 0 : i], b = y[yc ? 0 : i];
      if (isinf(v) && !isinf(a) && !isinf(b))
        return tarn_err(ctx->err, TARN_EINVAL, "value out of range: overflow");
      if (v == 0 && (f->op == OP_MUL || f->op == OP_DIV) && a != 0 && !isinf(b) &&
          (f->op == OP_DIV || b != 0))
        return tarn_err(ctx->err, TARN_EINVAL, "value out of range: underflow");
    }
  }
  return 0;
}

/* ---- decimal arithmetic ---------------------------------------------------------------------- */

static int dec_overflow(sql_eval_ctx *ctx) {
  return tarn_err(ctx->err, TARN_EINVAL, "value overflows numeric format");
}

static inline bool fits_i64(sql_i128 v) { return v >= INT64_MIN && v <= INT64_MAX; }

/* c + a * m in wrapping arithmetic: a NULL row's stored value may be anything, and its result
 * is discarded (the range flags reject it before any in-range row could be misread). */
static inline sql_i128 wrap_madd(sql_i128 c, sql_i128 a, sql_i128 m) {
  return (sql_i128)((sql_u128)c + (sql_u128)a * (sql_u128)m);
}

/* |v| >= l (0 < l <= 10^38) as one unsigned comparison, for branch-free range flags. */
static inline int outside(sql_i128 v, sql_i128 l) {
  return (sql_u128)v + ((sql_u128)l - 1) > 2 * (sql_u128)l - 2;
}

/* r = x*10^(so-sa) +- y*10^(so-sb) over n rows (xc / yc: that side is a one-row constant);
 * false when some row's operand or result leaves the 38-digit range, r then partly written. */
static bool dec_addsub_scaled(const sql_i128 *x, bool xc, int sa, const sql_i128 *y, bool yc,
                              int sb, int so, bool sub, uint32_t n, sql_i128 *r) {
  sql_i128 max = sql_pow10(38);
  sql_i128 ma = sql_pow10(so - sa), mb = sql_pow10(so - sb);
  sql_i128 la = sql_pow10(38 - (so - sa)), lb = sql_pow10(38 - (so - sb));
  if (sub) mb = -mb;
  bool bad = false;
  if (xc) {
    sql_i128 a = x[0];
    if (a >= la || a <= -la) return false;
    a *= ma; /* a constant is scaled once, not per row */
    for (uint32_t i = 0; i < n; i++) {
      sql_i128 b = y[i], v = wrap_madd(a, b, mb);
      bad |= outside(b, lb) | outside(v, max);
      r[i] = v;
    }
  } else if (yc) {
    sql_i128 b = y[0];
    if (b >= lb || b <= -lb) return false;
    b *= mb;
    for (uint32_t i = 0; i < n; i++) {
      sql_i128 a = x[i], v = wrap_madd(b, a, ma);
      bad |= outside(a, la) | outside(v, max);
      r[i] = v;
    }
  } else {
    for (uint32_t i = 0; i < n; i++) {
      sql_i128 a = x[i], b = y[i], v = wrap_madd(wrap_madd(0, a, ma), b, mb);
      bad |= outside(a, la) | outside(b, lb) | outside(v, max);
      r[i] = v;
    }
  }
  return !bad;
}

/* a + b (or a - b) wrapping instead of overflowing: operands below 10^38 in magnitude sum to less
 * than 2 * 10^38, and a wrapped result of such a sum lands below -10^38 or above 10^38, so the
 * range check that follows still sees every overflow. */
static inline sql_i128 wrap_addsub(sql_i128 a, sql_i128 b, bool sub) {
  unsigned __int128 ua = (unsigned __int128)a, ub = (unsigned __int128)b;
  return (sql_i128)(sub ? ua - ub : ua + ub);
}

/* r = x * y when no rescaling is needed and every operand fits 64 bits, the common case of
 * money-sized decimals: one 64x64->128 multiplication per row, which cannot pass 2^126 < 10^38.
 * False (r partly written) when some operand does not fit. */
static bool dec_mul_i64(const sql_i128 *x, bool xc, const sql_i128 *y, bool yc, uint32_t n,
                        sql_i128 *r) {
  bool bad = false;
  if (xc || yc) {
    sql_i128 c = xc ? x[0] : y[0];
    const sql_i128 *d = xc ? y : x;
    if (!fits_i64(c)) return false;
    int64_t c64 = (int64_t)c;
    for (uint32_t i = 0; i < n; i++) {
      sql_i128 a = d[i];
      bad |= !fits_i64(a);
      r[i] = (sql_i128)(int64_t)a * c64;
    }
  } else {
    for (uint32_t i = 0; i < n; i++) {
      sql_i128 a = x[i], b = y[i];
      bad |= (a < INT64_MIN) | (a > INT64_MAX) | (b < INT64_MIN) | (b > INT64_MAX);
      r[i] = (sql_i128)(int64_t)a * (int64_t)b;
    }
  }
  return !bad;
}

static int k_dec_arith(sql_eval_ctx *ctx, const sql_func *f, sql_vec *const *args, size_t n_args,
                       uint32_t n, sql_vec *out) {
  const sql_vec *A = args[0];
  const sql_i128 *x = SQL_VEC_I128(A);
  sql_i128 *r = SQL_VEC_I128(out);
  int so = out->type->scale, sa = A->type->scale;
  sql_i128 max = sql_pow10(38);
  if (n_args == 1) {
    for (uint32_t i = 0; i < n; i++) {
      sql_i128 v = x[SQL_ARG_ROW(A, i)];
      if (!sql_dec_rescale(v, sa, so, &v) && !out_null(out, i)) return dec_overflow(ctx);
      r[i] = f->op == OP_POS ? v : -v;
    }
    return 0;
  }
  const sql_vec *B = args[1];
  const sql_i128 *y = SQL_VEC_I128(B);
  int sb = B->type->scale;
  bool xc = A->n == 1 && n > 1, yc = B->n == 1 && n > 1;
  switch (f->op) {
  case OP_ADD:
  case OP_SUB: {
    bool sub = f->op == OP_SUB;
    if (sa == so && sb == so) {
      bool bad = false;
      if (!xc && !yc) {
        for (uint32_t i = 0; i < n; i++) {
          sql_i128 v = wrap_addsub(x[i], y[i], sub);
          r[i] = v;
          bad |= (v >= max) | (v <= -max);
        }
      } else {
        for (uint32_t i = 0; i < n; i++) {
          sql_i128 a = x[xc ? 0 : i], b = y[yc ? 0 : i];
          sql_i128 v = wrap_addsub(a, b, sub);
          r[i] = v;
          bad |= (v >= max) | (v <= -max);
        }
      }
      if (bad)
        for (uint32_t i = 0; i < n; i++)
          if ((r[i] >= max || r[i] <= -max) && !out_null(out, i)) return dec_overflow(ctx);
      return 0;
    }
    /* Scales differ (1 - l_discount): bring both sides up with one multiplication each instead of
     * a general rescale per row, collecting range violations branch-free; any violation (possibly
     * only a NULL row's garbage) reruns the exact per-row loop below for the right error. */
    if (!(xc && yc) && so >= sa && so >= sb && so - sa < 38 && so - sb < 38 &&
        dec_addsub_scaled(x, xc, sa, y, yc, sb, so, sub, n, r))
      return 0;
    for (uint32_t i = 0; i < n; i++) {
      sql_i128 a, b;
      if (!sql_dec_rescale(x[xc ? 0 : i], sa, so, &a) ||
          !sql_dec_rescale(y[yc ? 0 : i], sb, so, &b)) {
        if (!out_null(out, i)) return dec_overflow(ctx);
        r[i] = 0;
        continue;
      }
      sql_i128 v;
      /* Two values just under 10^38 sum past the int128 range: check the operation itself. */
      bool wrapped = sub ? __builtin_sub_overflow(a, b, &v) : __builtin_add_overflow(a, b, &v);
      if ((wrapped || v >= max || v <= -max) && !out_null(out, i)) return dec_overflow(ctx);
      r[i] = wrapped ? 0 : v;
    }
    return 0;
  }
  case OP_MUL: {
    int down = sa + sb - so;
    if (down == 0 && !(xc && yc) && dec_mul_i64(x, xc, y, yc, n, r)) return 0;
    for (uint32_t i = 0; i < n; i++) {
      sql_i128 a = x[xc ? 0 : i], b = y[yc ? 0 : i];
      if (down == 0 && fits_i64(a) && fits_i64(b)) {
        r[i] = (sql_i128)(int64_t)a * (int64_t)b; /* below 2^126 < 10^38 */
        continue;
      }
      if (!sql_dec_mul(a, b, down, &r[i])) {
        if (!out_null(out, i)) return dec_overflow(ctx);
        r[i] = 0;
      }
    }
    return 0;
  }
  case OP_DIV: {
    int up = so + sb - sa;
    for (uint32_t i = 0; i < n; i++) {
      sql_i128 a = x[xc ? 0 : i], b = y[yc ? 0 : i];
      if (out_null(out, i)) {
        r[i] = 0;
        continue;
      }
      if (b == 0) return div_zero(ctx);
      bool ok =
          up >= 0 ? sql_dec_div(a, b, up, &r[i]) : sql_dec_div(a, b * sql_pow10(-up), 0, &r[i]);
      if (!ok) return dec_overflow(ctx);
    }
    return 0;
  }
  case OP_MOD: {
    int s = sa > sb ? sa : sb;
    for (uint32_t i = 0; i < n; i++) {
      if (out_null(out, i)) {
        r[i] = 0;
        continue;
      }
      sql_i128 a, b;
      if (!sql_dec_rescale(x[xc ? 0 : i], sa, s, &a) || !sql_dec_rescale(y[yc ? 0 : i], sb, s, &b))
        return dec_overflow(ctx);
      if (b == 0) return div_zero(ctx);
      sql_i128 v = a % b;
      if (!sql_dec_rescale(v, s, so, &r[i])) return dec_overflow(ctx);
    }
    return 0;
  }
  default: return tarn_err(ctx->err, TARN_EINVAL, "bad numeric operator");
  }
}

/* ---- comparisons ----------------------------------------------------------------------------- */

#define CMP_SHAPES(T, EXPR)                                                                        \
  do {                                                                                             \
    if (xc) {                                                                                      \
      T xv = x[0];                                                                                 \
      for (uint32_t i = 0; i < n; i++) {                                                           \
        T yv = y[i];                                                                               \
        r[i] = (uint8_t)(EXPR);                                                                    \
      }                                                                                            \
    } else if (yc) {                                                                               \
      T yv = y[0];                                                                                 \
      for (uint32_t i = 0; i < n; i++) {                                                           \
        T xv = x[i];                                                                               \
        r[i] = (uint8_t)(EXPR);                                                                    \
      }                                                                                            \
    } else {                                                                                       \
      for (uint32_t i = 0; i < n; i++) {                                                           \
        T xv = x[i], yv = y[i];                                                                    \
        r[i] = (uint8_t)(EXPR);                                                                    \
      }                                                                                            \
    }                                                                                              \
  } while (0)

#define DEFINE_CMP(NAME, T, EQ, LT)                                                                \
  static void NAME(int op, const T *x, bool xc, const T *y, bool yc, uint32_t n, uint8_t *r) {     \
    switch (op) {                                                                                  \
    case SQL_CMP_EQ: CMP_SHAPES(T, EQ(xv, yv)); break;                                             \
    case SQL_CMP_NE: CMP_SHAPES(T, !EQ(xv, yv)); break;                                            \
    case SQL_CMP_LT: CMP_SHAPES(T, LT(xv, yv)); break;                                             \
    case SQL_CMP_LE: CMP_SHAPES(T, !LT(yv, xv)); break;                                            \
    case SQL_CMP_GT: CMP_SHAPES(T, LT(yv, xv)); break;                                             \
    default: CMP_SHAPES(T, !LT(xv, yv)); break;                                                    \
    }                                                                                              \
  }

#define PLAIN_EQ(a, b) ((a) == (b))
#define PLAIN_LT(a, b) ((a) < (b))
/* PostgreSQL orders NaN above every number and equal to itself. */
#define F64_EQ(a, b) ((a) == (b) || (isnan(a) && isnan(b)))
#define F64_LT(a, b) ((a) < (b) || (!isnan(a) && isnan(b)))

static inline bool str_eq(sql_str a, sql_str b) {
  if (a.len != b.len) return false;
  if (a.len <= 16) {
    /* Short strings (flags, codes, names) compare faster inline than through a memcmp call. */
    for (uint64_t i = 0; i < a.len; i++)
      if (a.ptr[i] != b.ptr[i]) return false;
    return true;
  }
  return memcmp(a.ptr, b.ptr, a.len) == 0;
}
static inline bool str_lt(sql_str a, sql_str b) {
  uint64_t m = a.len < b.len ? a.len : b.len;
  int c = m ? memcmp(a.ptr, b.ptr, m) : 0;
  return c < 0 || (c == 0 && a.len < b.len);
}
static inline bool iv_eq(sql_interval a, sql_interval b) {
  return sql_interval_key(a) == sql_interval_key(b);
}
static inline bool iv_lt(sql_interval a, sql_interval b) {
  return sql_interval_key(a) < sql_interval_key(b);
}

DEFINE_CMP(cmp_i64, int64_t, PLAIN_EQ, PLAIN_LT)
DEFINE_CMP(cmp_u8, uint8_t, PLAIN_EQ, PLAIN_LT)
DEFINE_CMP(cmp_f64, double, F64_EQ, F64_LT)
DEFINE_CMP(cmp_i128, sql_i128, PLAIN_EQ, PLAIN_LT)
DEFINE_CMP(cmp_strv, sql_str, str_eq, str_lt)
DEFINE_CMP(cmp_iv, sql_interval, iv_eq, iv_lt)

static bool cmp_holds(int op, int c) {
  switch (op) {
  case SQL_CMP_EQ: return c == 0;
  case SQL_CMP_NE: return c != 0;
  case SQL_CMP_LT: return c < 0;
  case SQL_CMP_LE: return c <= 0;
  case SQL_CMP_GT: return c > 0;
  default: return c >= 0;
  }
}

int sql_kernel_compare(sql_eval_ctx *ctx, const sql_func *f, sql_vec *const *args, size_t n_args,
                       uint32_t n, sql_vec *out) {
  (void)ctx;
  (void)n_args;
  const sql_vec *a = args[0], *b = args[1];
  uint8_t *r = SQL_VEC_U8(out);
  bool xc = a->n == 1 && n > 1, yc = b->n == 1 && n > 1;
  int op = f->op;
  sql_phys p = sql_type_phys(a->type->id);
  bool same_scale =
      a->type->id != SQL_DECIMAL || b->type->id != SQL_DECIMAL || a->type->scale == b->type->scale;
  if (p == sql_type_phys(b->type->id) && same_scale) {
    switch (p) {
    case SQL_PHYS_I64: cmp_i64(op, SQL_VEC_I64(a), xc, SQL_VEC_I64(b), yc, n, r); return 0;
    case SQL_PHYS_U8: cmp_u8(op, SQL_VEC_U8(a), xc, SQL_VEC_U8(b), yc, n, r); return 0;
    case SQL_PHYS_F64: cmp_f64(op, SQL_VEC_F64(a), xc, SQL_VEC_F64(b), yc, n, r); return 0;
    case SQL_PHYS_I128: cmp_i128(op, SQL_VEC_I128(a), xc, SQL_VEC_I128(b), yc, n, r); return 0;
    case SQL_PHYS_STR: cmp_strv(op, SQL_VEC_STR(a), xc, SQL_VEC_STR(b), yc, n, r); return 0;
    case SQL_PHYS_INTERVAL: cmp_iv(op, SQL_VEC_IV(a), xc, SQL_VEC_IV(b), yc, n, r); return 0;
    case SQL_PHYS_NONE: return 0; /* every row NULL */
    default: break;
    }
  }
  for (uint32_t i = 0; i < n; i++) {
    if (out_null(out, i)) continue;
    r[i] = cmp_holds(op, sql_row_cmp(a, xc ? 0 : i, b, yc ? 0 : i));
  }
  return 0;
}

/* Selection loops: rows of sel (or all) where x[row] op c, skipping NULLs. */
#define SEL_SHAPES(T, EXPR)                                                                        \
  do {                                                                                             \
    uint32_t k = 0;                                                                                \
    if (sel && nulls) {                                                                            \
      for (uint32_t j = 0; j < n; j++) {                                                           \
        uint32_t i = sel[j];                                                                       \
        T xv = x[i];                                                                               \
        out_sel[k] = i;                                                                            \
        k += (EXPR) && !nulls[i];                                                                  \
      }                                                                                            \
    } else if (sel) {                                                                              \
      for (uint32_t j = 0; j < n; j++) {                                                           \
        uint32_t i = sel[j];                                                                       \
        T xv = x[i];                                                                               \
        out_sel[k] = i;                                                                            \
        k += (EXPR);                                                                               \
      }                                                                                            \
    } else if (nulls) {                                                                            \
      for (uint32_t i = 0; i < n; i++) {                                                           \
        T xv = x[i];                                                                               \
        out_sel[k] = i;                                                                            \
        k += (EXPR) && !nulls[i];                                                                  \
      }                                                                                            \
    } else {                                                                                       \
      for (uint32_t i = 0; i < n; i++) {                                                           \
        T xv = x[i];                                                                               \
        out_sel[k] = i;                                                                            \
        k += (EXPR);                                                                               \
      }                                                                                            \
    }                                                                                              \
    *n_out = k;                                                                                    \
  } while (0)

#define DEFINE_SEL(NAME, T, EQ, LT)                                                                \
  static void NAME(int op, const T *x, T yv, const uint8_t *nulls, const uint32_t *sel,            \
                   uint32_t n, uint32_t *out_sel, uint32_t *n_out) {                               \
    switch (op) {                                                                                  \
    case SQL_CMP_EQ: SEL_SHAPES(T, EQ(xv, yv)); break;                                             \
    case SQL_CMP_NE: SEL_SHAPES(T, !EQ(xv, yv)); break;                                            \
    case SQL_CMP_LT: SEL_SHAPES(T, LT(xv, yv)); break;                                             \
    case SQL_CMP_LE: SEL_SHAPES(T, !LT(yv, xv)); break;                                            \
    case SQL_CMP_GT: SEL_SHAPES(T, LT(yv, xv)); break;                                             \
    default: SEL_SHAPES(T, !LT(xv, yv)); break;                                                    \
    }                                                                                              \
  }

DEFINE_SEL(sel_i64, int64_t, PLAIN_EQ, PLAIN_LT)
DEFINE_SEL(sel_u8, uint8_t, PLAIN_EQ, PLAIN_LT)
DEFINE_SEL(sel_f64, double, F64_EQ, F64_LT)
DEFINE_SEL(sel_i128, sql_i128, PLAIN_EQ, PLAIN_LT)
DEFINE_SEL(sel_str, sql_str, str_eq, str_lt)

bool sql_compare_select(int op, const sql_vec *a, const sql_vec *c, const uint32_t *sel, uint32_t n,
                        uint32_t *out_sel, uint32_t *n_out) {
  sql_phys p = sql_type_phys(a->type->id);
  if (p != sql_type_phys(c->type->id) || SQL_VEC_IS_NULL(c, 0)) return false;
  if (a->type->id == SQL_DECIMAL && c->type->id == SQL_DECIMAL && a->type->scale != c->type->scale)
    return false;
  switch (p) {
  case SQL_PHYS_I64:
    sel_i64(op, SQL_VEC_I64(a), SQL_VEC_I64(c)[0], a->nulls, sel, n, out_sel, n_out);
    return true;
  case SQL_PHYS_U8:
    sel_u8(op, SQL_VEC_U8(a), SQL_VEC_U8(c)[0], a->nulls, sel, n, out_sel, n_out);
    return true;
  case SQL_PHYS_F64:
    sel_f64(op, SQL_VEC_F64(a), SQL_VEC_F64(c)[0], a->nulls, sel, n, out_sel, n_out);
    return true;
  case SQL_PHYS_I128:
    sel_i128(op, SQL_VEC_I128(a), SQL_VEC_I128(c)[0], a->nulls, sel, n, out_sel, n_out);
    return true;
  case SQL_PHYS_STR:
    sel_str(op, SQL_VEC_STR(a), SQL_VEC_STR(c)[0], a->nulls, sel, n, out_sel, n_out);
    return true;
  default: return false;
  }
}

/* ---- concatenation --------------------------------------------------------------------------- */

static int k_concat_str(sql_eval_ctx *ctx, const sql_func *f, sql_vec *const *args, size_t n_args,
                        uint32_t n, sql_vec *out) {
  (void)f;
  (void)n_args;
  const sql_vec *a = args[0], *b = args[1];
  sql_strbuf sb;
  sql_strbuf_init(&sb, ctx->mem);
  sql_str *r = SQL_VEC_STR(out);
  for (uint32_t i = 0; i < n; i++) {
    if (out_null(out, i)) continue;
    sql_str x = SQL_VEC_STR(a)[SQL_ARG_ROW(a, i)], y = SQL_VEC_STR(b)[SQL_ARG_ROW(b, i)];
    size_t len = x.len + y.len;
    char *p = sql_strbuf_take(&sb, len);
    if (p == NULL && len) return sql_oom(ctx);
    if (x.len) memcpy(p, x.ptr, x.len);
    if (y.len) memcpy(p + x.len, y.ptr, y.len);
    r[i] = (sql_str){len ? p : "", len};
  }
  return 0;
}

/* list || list, list || element (op 1), element || list (op 2), with PostgreSQL's NULL rules:
 * a NULL list is an empty one unless both lists are NULL, and a NULL element is still appended. */
static int k_concat_list(sql_eval_ctx *ctx, const sql_func *f, sql_vec *const *args, size_t n_args,
                         uint32_t n, sql_vec *out) {
  (void)n_args;
  const sql_vec *a = args[0], *b = args[1];
  sql_vec *child = out->child;
  uint32_t cap = 0;
  memset(child, 0, sizeof *child);
  int rc = sql_vec_init(ctx->mem, child, out->type->elem, 0, ctx->err);
  for (uint32_t i = 0; i < n && rc == 0; i++) {
    out->offsets[i] = child->n;
    if (f->op == 0 && SQL_ARG_NULL(a, i) && SQL_ARG_NULL(b, i)) {
      if (sql_vec_nulls(ctx->mem, out) == NULL) return sql_oom(ctx);
      out->nulls[i] = 1;
      continue;
    }
    for (int side = 0; side < 2 && rc == 0; side++) {
      const sql_vec *v = side == 0 ? a : b;
      uint32_t row = SQL_ARG_ROW(v, i);
      bool is_list = side == 0 ? f->op != 2 : f->op != 1;
      if (!is_list) {
        rc = sql_vec_append(ctx->mem, child, &cap, v, row, 1, ctx->err);
      } else if (!SQL_VEC_IS_NULL(v, row)) {
        int64_t s = v->offsets[row], e = v->offsets[row + 1];
        if (e > s)
          rc = sql_vec_append(ctx->mem, child, &cap, v->child, (uint32_t)s, (uint32_t)(e - s),
                              ctx->err);
      }
    }
  }
  out->offsets[n] = child->n;
  return rc;
}

/* ---- date and time arithmetic ---------------------------------------------------------------- */

enum {
  DT_DATE_ADD_INT,
  DT_INT_ADD_DATE,
  DT_DATE_SUB_INT,
  DT_DATE_SUB_DATE,
  DT_DATE_ADD_IV,
  DT_IV_ADD_DATE,
  DT_DATE_SUB_IV,
  DT_TS_ADD_IV,
  DT_IV_ADD_TS,
  DT_TS_SUB_IV,
  DT_TS_SUB_TS,
  DT_IV_ADD_IV,
  DT_IV_SUB_IV,
  DT_IV_NEG,
  DT_IV_MUL_F,
  DT_F_MUL_IV,
  DT_IV_DIV_F,
  DT_TIME_ADD_IV,
  DT_IV_ADD_TIME,
  DT_TIME_SUB_IV,
  DT_TIME_SUB_TIME,
  DT_DATE_ADD_TIME,
  DT_TIME_ADD_DATE
};

static int ts_range(sql_eval_ctx *ctx) {
  return tarn_err(ctx->err, TARN_EINVAL, "timestamp out of range");
}

static int iv_range(sql_eval_ctx *ctx) {
  return tarn_err(ctx->err, TARN_EINVAL, "interval out of range");
}

static int64_t date_to_ts_inf(int64_t d, bool *ok) {
  *ok = true;
  if (d == SQL_DATE_NOBEGIN) return SQL_TS_NOBEGIN;
  if (d == SQL_DATE_NOEND) return SQL_TS_NOEND;
  int64_t r;
  if (__builtin_mul_overflow(d, SQL_USEC_PER_DAY, &r)) *ok = false;
  return r;
}

/* PostgreSQL's interval * and / float8: the whole months and days are truncated, the fraction of
 * a month becomes days (30 per month, rounded to microsecond precision as PostgreSQL's TSROUND
 * does), and what is left of a day becomes time. */
static double ts_round(double x) { return rint(x * 1e6) / 1e6; }

static bool iv_scale(sql_interval v, double factor, bool divide, sql_interval *out) {
  double m = divide ? v.months / factor : v.months * factor;
  double d = divide ? v.days / factor : v.days * factor;
  if (isnan(m) || isnan(d) || fabs(m) > INT32_MAX || fabs(d) > INT32_MAX) return false;
  int32_t rm = (int32_t)m, rd = (int32_t)d;
  double month_days = ts_round((m - rm) * 30.0);
  double sec_rem = ts_round((d - rd + month_days - (int32_t)month_days) * 86400.0);
  if (fabs(sec_rem) >= 86400.0) {
    rd += (int32_t)(sec_rem / 86400.0);
    sec_rem -= (int32_t)(sec_rem / 86400.0) * 86400.0;
  }
  if (fabs((double)rd + (int32_t)month_days) > INT32_MAX) return false;
  double t = divide ? rint((double)v.micros / factor + sec_rem * 1e6)
                    : rint((double)v.micros * factor + sec_rem * 1e6);
  if (!(fabs(t) < 9.2e18)) return false;
  out->months = rm;
  out->days = rd + (int32_t)month_days;
  out->micros = (int64_t)t;
  return true;
}

static int k_datetime(sql_eval_ctx *ctx, const sql_func *f, sql_vec *const *args, size_t n_args,
                      uint32_t n, sql_vec *out) {
  const sql_vec *a = args[0], *b = n_args > 1 ? args[1] : args[0];
  for (uint32_t i = 0; i < n; i++) {
    if (out_null(out, i)) continue;
    uint32_t ia = SQL_ARG_ROW(a, i), ib = SQL_ARG_ROW(b, i);
    bool ok = true;
    switch (f->op) {
    case DT_DATE_ADD_INT:
    case DT_INT_ADD_DATE:
    case DT_DATE_SUB_INT: {
      int64_t d = f->op == DT_INT_ADD_DATE ? SQL_VEC_I64(b)[ib] : SQL_VEC_I64(a)[ia];
      int64_t k = f->op == DT_INT_ADD_DATE ? SQL_VEC_I64(a)[ia] : SQL_VEC_I64(b)[ib];
      if (f->op == DT_DATE_SUB_INT) k = -k;
      int64_t r = d;
      if (d != SQL_DATE_NOBEGIN && d != SQL_DATE_NOEND) {
        r = d + k;
        if (!sql_date_ok(r)) return tarn_err(ctx->err, TARN_EINVAL, "date out of range");
      }
      SQL_VEC_I64(out)[i] = r;
      break;
    }
    case DT_DATE_SUB_DATE: {
      int64_t x = SQL_VEC_I64(a)[ia], y = SQL_VEC_I64(b)[ib];
      bool inf = x == SQL_DATE_NOBEGIN || x == SQL_DATE_NOEND || y == SQL_DATE_NOBEGIN ||
                 y == SQL_DATE_NOEND;
      if (inf) return tarn_err(ctx->err, TARN_EINVAL, "cannot subtract infinite dates");
      SQL_VEC_I64(out)[i] = x - y;
      break;
    }
    case DT_DATE_ADD_IV:
    case DT_IV_ADD_DATE:
    case DT_DATE_SUB_IV: {
      bool date_first = f->op != DT_IV_ADD_DATE;
      int64_t ts = date_to_ts_inf(SQL_VEC_I64(date_first ? a : b)[date_first ? ia : ib], &ok);
      sql_interval iv = SQL_VEC_IV(date_first ? b : a)[date_first ? ib : ia];
      if (!ok ||
          !sql_ts_add_interval(ts, iv, f->op == DT_DATE_SUB_IV ? -1 : 1, &SQL_VEC_I64(out)[i]))
        return ts_range(ctx);
      break;
    }
    case DT_TS_ADD_IV:
    case DT_IV_ADD_TS:
    case DT_TS_SUB_IV: {
      bool ts_first = f->op != DT_IV_ADD_TS;
      int64_t ts = SQL_VEC_I64(ts_first ? a : b)[ts_first ? ia : ib];
      sql_interval iv = SQL_VEC_IV(ts_first ? b : a)[ts_first ? ib : ia];
      if (!sql_ts_add_interval(ts, iv, f->op == DT_TS_SUB_IV ? -1 : 1, &SQL_VEC_I64(out)[i]))
        return ts_range(ctx);
      break;
    }
    case DT_TS_SUB_TS: {
      int64_t x = SQL_VEC_I64(a)[ia], y = SQL_VEC_I64(b)[ib], d;
      if (!sql_ts_finite(x) || !sql_ts_finite(y))
        return tarn_err(ctx->err, TARN_EINVAL, "cannot subtract infinite timestamps");
      if (__builtin_sub_overflow(x, y, &d)) return iv_range(ctx);
      /* PostgreSQL justifies the hours into days. */
      SQL_VEC_IV(out)[i] = (sql_interval){0, (int32_t)(d / SQL_USEC_PER_DAY), d % SQL_USEC_PER_DAY};
      break;
    }
    case DT_IV_ADD_IV:
    case DT_IV_SUB_IV: {
      sql_interval x = SQL_VEC_IV(a)[ia], y = SQL_VEC_IV(b)[ib];
      int sg = f->op == DT_IV_SUB_IV ? -1 : 1;
      int64_t m = (int64_t)x.months + sg * (int64_t)y.months,
              d = (int64_t)x.days + sg * (int64_t)y.days, us;
      bool o = sg > 0 ? __builtin_add_overflow(x.micros, y.micros, &us)
                      : __builtin_sub_overflow(x.micros, y.micros, &us);
      if (o || m > INT32_MAX || m < INT32_MIN || d > INT32_MAX || d < INT32_MIN)
        return iv_range(ctx);
      SQL_VEC_IV(out)[i] = (sql_interval){(int32_t)m, (int32_t)d, us};
      break;
    }
    case DT_IV_NEG: {
      sql_interval x = SQL_VEC_IV(a)[ia];
      if (x.months == INT32_MIN || x.days == INT32_MIN || x.micros == INT64_MIN)
        return iv_range(ctx);
      SQL_VEC_IV(out)[i] = (sql_interval){-x.months, -x.days, -x.micros};
      break;
    }
    case DT_IV_MUL_F:
    case DT_F_MUL_IV:
    case DT_IV_DIV_F: {
      bool iv_first = f->op != DT_F_MUL_IV;
      sql_interval x = SQL_VEC_IV(iv_first ? a : b)[iv_first ? ia : ib];
      double k = SQL_VEC_F64(iv_first ? b : a)[iv_first ? ib : ia];
      if (f->op == DT_IV_DIV_F && k == 0) return div_zero(ctx);
      if (!iv_scale(x, k, f->op == DT_IV_DIV_F, &SQL_VEC_IV(out)[i])) return iv_range(ctx);
      break;
    }
    case DT_TIME_ADD_IV:
    case DT_IV_ADD_TIME:
    case DT_TIME_SUB_IV: {
      bool t_first = f->op != DT_IV_ADD_TIME;
      int64_t t = SQL_VEC_I64(t_first ? a : b)[t_first ? ia : ib];
      sql_interval iv = SQL_VEC_IV(t_first ? b : a)[t_first ? ib : ia];
      int64_t us = iv.micros % SQL_USEC_PER_DAY;
      if (f->op == DT_TIME_SUB_IV) us = -us;
      SQL_VEC_I64(out)[i] = sql_floor_mod(t + us, SQL_USEC_PER_DAY);
      break;
    }
    case DT_TIME_SUB_TIME:
      SQL_VEC_IV(out)[i] = (sql_interval){0, 0, SQL_VEC_I64(a)[ia] - SQL_VEC_I64(b)[ib]};
      break;
    case DT_DATE_ADD_TIME:
    case DT_TIME_ADD_DATE: {
      bool d_first = f->op == DT_DATE_ADD_TIME;
      int64_t ts = date_to_ts_inf(SQL_VEC_I64(d_first ? a : b)[d_first ? ia : ib], &ok);
      int64_t t = SQL_VEC_I64(d_first ? b : a)[d_first ? ib : ia];
      if (sql_ts_finite(ts) && (!ok || __builtin_add_overflow(ts, t, &ts) || !sql_ts_ok(ts)))
        return ts_range(ctx);
      SQL_VEC_I64(out)[i] = ts;
      break;
    }
    default: return tarn_err(ctx->err, TARN_EINVAL, "bad date/time operator");
    }
  }
  return 0;
}

/* ---- operator table -------------------------------------------------------------------------- */

#define T(x) SQL_##x
#define BIN(name, k, op, a, b, r)                                                                  \
  { name, k, op, 2, 2, {a, b, 0, 0}, r, 0 }
#define UN(name, k, op, a, r)                                                                      \
  { name, k, op, 1, 1, {a, 0, 0, 0}, r, 0 }

#define INT_OPS(name, op)                                                                          \
  BIN(name, k_int_arith, op, T(INT2), T(INT2), T(INT2)),                                           \
      BIN(name, k_int_arith, op, T(INT4), T(INT4), T(INT4)),                                       \
      BIN(name, k_int_arith, op, T(INT8), T(INT8), T(INT8))
#define FLOAT_OPS(name, op)                                                                        \
  BIN(name, k_float_arith, op, T(FLOAT4), T(FLOAT4), T(FLOAT4)),                                   \
      BIN(name, k_float_arith, op, T(FLOAT8), T(FLOAT8), T(FLOAT8)),                               \
      BIN(name, k_float_arith, op, T(FLOAT4), T(FLOAT8), T(FLOAT8)),                               \
      BIN(name, k_float_arith, op, T(FLOAT8), T(FLOAT4), T(FLOAT8))

static const sql_func_def op_defs[] = {
    INT_OPS("+", OP_ADD),
    FLOAT_OPS("+", OP_ADD),
    BIN("+", k_dec_arith, OP_ADD, SQL_A_DEC, SQL_A_DEC, SQL_R_DEC_ADD),
    INT_OPS("-", OP_SUB),
    FLOAT_OPS("-", OP_SUB),
    BIN("-", k_dec_arith, OP_SUB, SQL_A_DEC, SQL_A_DEC, SQL_R_DEC_ADD),
    INT_OPS("*", OP_MUL),
    FLOAT_OPS("*", OP_MUL),
    BIN("*", k_dec_arith, OP_MUL, SQL_A_DEC, SQL_A_DEC, SQL_R_DEC_MUL),
    INT_OPS("/", OP_DIV),
    FLOAT_OPS("/", OP_DIV),
    BIN("/", k_dec_arith, OP_DIV, SQL_A_DEC, SQL_A_DEC, SQL_R_DEC_DIV),
    INT_OPS("%", OP_MOD),
    BIN("%", k_dec_arith, OP_MOD, SQL_A_DEC, SQL_A_DEC, SQL_R_DEC_MOD),
    INT_OPS("mod", OP_MOD),
    BIN("mod", k_dec_arith, OP_MOD, SQL_A_DEC, SQL_A_DEC, SQL_R_DEC_MOD),
    INT_OPS("&", OP_BAND),
    INT_OPS("|", OP_BOR),
    INT_OPS("#", OP_BXOR),
    BIN("<<", k_int_arith, OP_SHL, T(INT2), T(INT4), T(INT2)),
    BIN("<<", k_int_arith, OP_SHL, T(INT4), T(INT4), T(INT4)),
    BIN("<<", k_int_arith, OP_SHL, T(INT8), T(INT4), T(INT8)),
    BIN(">>", k_int_arith, OP_SHR, T(INT2), T(INT4), T(INT2)),
    BIN(">>", k_int_arith, OP_SHR, T(INT4), T(INT4), T(INT4)),
    BIN(">>", k_int_arith, OP_SHR, T(INT8), T(INT4), T(INT8)),
    UN("~", k_int_arith, OP_BNOT, T(INT2), T(INT2)),
    UN("~", k_int_arith, OP_BNOT, T(INT4), T(INT4)),
    UN("~", k_int_arith, OP_BNOT, T(INT8), T(INT8)),
    UN("-", k_int_arith, OP_NEG, T(INT2), T(INT2)),
    UN("-", k_int_arith, OP_NEG, T(INT4), T(INT4)),
    UN("-", k_int_arith, OP_NEG, T(INT8), T(INT8)),
    UN("-", k_float_arith, OP_NEG, T(FLOAT4), T(FLOAT4)),
    UN("-", k_float_arith, OP_NEG, T(FLOAT8), T(FLOAT8)),
    UN("-", k_dec_arith, OP_NEG, SQL_A_DEC, SQL_R_ARG0),
    UN("-", k_datetime, DT_IV_NEG, T(INTERVAL), T(INTERVAL)),
    UN("+", k_int_arith, OP_POS, T(INT2), T(INT2)),
    UN("+", k_int_arith, OP_POS, T(INT4), T(INT4)),
    UN("+", k_int_arith, OP_POS, T(INT8), T(INT8)),
    UN("+", k_float_arith, OP_POS, T(FLOAT4), T(FLOAT4)),
    UN("+", k_float_arith, OP_POS, T(FLOAT8), T(FLOAT8)),
    UN("+", k_dec_arith, OP_POS, SQL_A_DEC, SQL_R_ARG0),
    /* dates, times, timestamps, intervals */
    BIN("+", k_datetime, DT_DATE_ADD_INT, T(DATE), T(INT4), T(DATE)),
    BIN("+", k_datetime, DT_INT_ADD_DATE, T(INT4), T(DATE), T(DATE)),
    BIN("-", k_datetime, DT_DATE_SUB_INT, T(DATE), T(INT4), T(DATE)),
    BIN("-", k_datetime, DT_DATE_SUB_DATE, T(DATE), T(DATE), T(INT4)),
    BIN("+", k_datetime, DT_DATE_ADD_IV, T(DATE), T(INTERVAL), T(TIMESTAMP)),
    BIN("+", k_datetime, DT_IV_ADD_DATE, T(INTERVAL), T(DATE), T(TIMESTAMP)),
    BIN("-", k_datetime, DT_DATE_SUB_IV, T(DATE), T(INTERVAL), T(TIMESTAMP)),
    BIN("+", k_datetime, DT_DATE_ADD_TIME, T(DATE), T(TIME), T(TIMESTAMP)),
    BIN("+", k_datetime, DT_TIME_ADD_DATE, T(TIME), T(DATE), T(TIMESTAMP)),
    BIN("+", k_datetime, DT_TS_ADD_IV, T(TIMESTAMP), T(INTERVAL), T(TIMESTAMP)),
    BIN("+", k_datetime, DT_IV_ADD_TS, T(INTERVAL), T(TIMESTAMP), T(TIMESTAMP)),
    BIN("-", k_datetime, DT_TS_SUB_IV, T(TIMESTAMP), T(INTERVAL), T(TIMESTAMP)),
    BIN("-", k_datetime, DT_TS_SUB_TS, T(TIMESTAMP), T(TIMESTAMP), T(INTERVAL)),
    BIN("+", k_datetime, DT_TS_ADD_IV, T(TIMESTAMPTZ), T(INTERVAL), T(TIMESTAMPTZ)),
    BIN("+", k_datetime, DT_IV_ADD_TS, T(INTERVAL), T(TIMESTAMPTZ), T(TIMESTAMPTZ)),
    BIN("-", k_datetime, DT_TS_SUB_IV, T(TIMESTAMPTZ), T(INTERVAL), T(TIMESTAMPTZ)),
    BIN("-", k_datetime, DT_TS_SUB_TS, T(TIMESTAMPTZ), T(TIMESTAMPTZ), T(INTERVAL)),
    BIN("+", k_datetime, DT_TIME_ADD_IV, T(TIME), T(INTERVAL), T(TIME)),
    BIN("+", k_datetime, DT_IV_ADD_TIME, T(INTERVAL), T(TIME), T(TIME)),
    BIN("-", k_datetime, DT_TIME_SUB_IV, T(TIME), T(INTERVAL), T(TIME)),
    BIN("-", k_datetime, DT_TIME_SUB_TIME, T(TIME), T(TIME), T(INTERVAL)),
    BIN("+", k_datetime, DT_IV_ADD_IV, T(INTERVAL), T(INTERVAL), T(INTERVAL)),
    BIN("-", k_datetime, DT_IV_SUB_IV, T(INTERVAL), T(INTERVAL), T(INTERVAL)),
    BIN("*", k_datetime, DT_IV_MUL_F, T(INTERVAL), T(FLOAT8), T(INTERVAL)),
    BIN("*", k_datetime, DT_F_MUL_IV, T(FLOAT8), T(INTERVAL), T(INTERVAL)),
    BIN("/", k_datetime, DT_IV_DIV_F, T(INTERVAL), T(FLOAT8), T(INTERVAL)),
};

/* ---- resolution ------------------------------------------------------------------------------ */

static int cmp_op_code(const char *name) {
  if (strcmp(name, "=") == 0) return SQL_CMP_EQ;
  if (strcmp(name, "<>") == 0 || strcmp(name, "!=") == 0) return SQL_CMP_NE;
  if (strcmp(name, "<") == 0) return SQL_CMP_LT;
  if (strcmp(name, "<=") == 0) return SQL_CMP_LE;
  if (strcmp(name, ">") == 0) return SQL_CMP_GT;
  if (strcmp(name, ">=") == 0) return SQL_CMP_GE;
  return -1;
}

static bool is_operator(const char *name) {
  return name[0] != '\0' && !isalpha((unsigned char)name[0]) && name[0] != '_';
}

static int no_such(const char *name, const sql_type *const *args, size_t n, tarn_error *err) {
  char names[4][128];
  for (size_t i = 0; i < n && i < 4; i++)
    sql_type_name(args[i], names[i], sizeof names[i]);
  if (is_operator(name) && n == 2)
    return tarn_err(err, TARN_EINVAL, "operator does not exist: %s %s %s", names[0], name,
                    names[1]);
  if (is_operator(name) && n == 1)
    return tarn_err(err, TARN_EINVAL, "operator does not exist: %s %s", name, names[0]);
  char list[600];
  size_t len = 0;
  list[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    char tn[128];
    sql_type_name(args[i], tn, sizeof tn);
    int w = snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", tn);
    if (w < 0 || (size_t)w >= sizeof list - len) break;
    len += (size_t)w;
  }
  return tarn_err(err, TARN_EINVAL, "function %s(%s) does not exist", name, list);
}

static int oom_err(tarn_error *err) { return tarn_err(err, TARN_ENOMEM, "out of memory"); }

static sql_func *new_func(tarn_arena *a, const char *name, sql_kernel_fn k, int op,
                          const sql_type *ret) {
  sql_func *f = tarn_arena_calloc(a, 1, sizeof *f);
  if (f == NULL) return NULL;
  f->name = tarn_arena_strndup(a, name, strlen(name));
  f->kernel = k;
  f->op = op;
  f->ret = ret;
  return f->name ? f : NULL;
}

static int resolve_compare(tarn_arena *a, const char *name, int op,
                           const sql_type *const *arg_types, const sql_func **out,
                           const sql_type **cast_to, tarn_error *err) {
  const sql_type *common = sql_type_common(a, arg_types[0], arg_types[1]);
  if (common == NULL) return no_such(name, arg_types, 2, err);
  sql_func *f = new_func(a, name, sql_kernel_compare, op, sql_type_get(SQL_BOOL));
  if (f == NULL) return oom_err(err);
  for (int i = 0; i < 2; i++) {
    f->arg_types[i] = common;
    cast_to[i] = sql_type_equal(arg_types[i], common) ? NULL : common;
  }
  *out = f;
  return 0;
}

/* || : text with text (anything non-array becomes text), bytea with bytea, and lists. */
static int resolve_concat(tarn_arena *a, const sql_type *const *t, const sql_func **out,
                          const sql_type **cast_to, tarn_error *err) {
  const sql_type *x = t[0], *y = t[1], *ret = NULL, *ta = NULL, *tb = NULL;
  sql_kernel_fn k = k_concat_str;
  int op = 0;
  bool nulls = false;
  if (x->id == SQL_LIST || y->id == SQL_LIST) {
    k = k_concat_list;
    nulls = true;
    if (x->id == SQL_LIST && y->id == SQL_LIST) {
      ret = sql_type_common(a, x, y);
      ta = tb = ret;
    } else if (x->id == SQL_LIST) {
      const sql_type *e = sql_type_common(a, x->elem, y);
      ret = e ? sql_type_list(a, e) : NULL;
      ta = ret;
      tb = e;
      op = 1;
    } else {
      const sql_type *e = sql_type_common(a, x, y->elem);
      ret = e ? sql_type_list(a, e) : NULL;
      ta = e;
      tb = ret;
      op = 2;
    }
  } else if (x->id == SQL_BYTEA && y->id == SQL_BYTEA) {
    ret = ta = tb = x;
  } else if (x->id == SQL_TEXT || y->id == SQL_TEXT || (x->id == SQL_NULL && y->id == SQL_NULL)) {
    ret = ta = tb = sql_type_get(SQL_TEXT);
  }
  if (ret == NULL) return no_such("||", t, 2, err);
  sql_func *f = new_func(a, "||", k, op, ret);
  if (f == NULL) return oom_err(err);
  f->handles_nulls = nulls;
  f->arg_types[0] = ta;
  f->arg_types[1] = tb;
  cast_to[0] = sql_type_equal(x, ta) ? NULL : ta;
  cast_to[1] = sql_type_equal(y, tb) ? NULL : tb;
  *out = f;
  return 0;
}

static int int_width(sql_type_id id) { return id == SQL_INT2 ? 5 : id == SQL_INT4 ? 10 : 19; }

static bool preferred(sql_type_id id) {
  return id == SQL_FLOAT8 || id == SQL_TEXT || id == SQL_TIMESTAMPTZ || id == SQL_INTERVAL ||
         id == SQL_BOOL;
}

/* How argument type t fits parameter kind p: 2 exactly, 1 through an implicit cast (*target set),
 * 0 not at all. list0 is argument 0's type (for SQL_A_ELEM). */
static int match_param(tarn_arena *a, int p, const sql_type *t, const sql_type *list0,
                       const sql_type **target) {
  bool unknown = t->id == SQL_NULL;
  switch (p) {
  case SQL_A_ANY: *target = t; return 2;
  case SQL_A_TEXT: *target = sql_type_get(SQL_TEXT); return t->id == SQL_TEXT ? 2 : 1;
  case SQL_A_LIST: *target = t; return t->id == SQL_LIST ? 2 : 0;
  case SQL_A_ELEM:
    if (list0 == NULL || list0->id != SQL_LIST) return 0;
    *target = list0->elem;
    if (sql_type_equal(t, list0->elem)) return 2;
    return sql_type_implicit(t, list0->elem) ? 1 : 0;
  case SQL_A_DEC:
    if (t->id == SQL_DECIMAL) {
      *target = t;
      return 2;
    }
    if (sql_type_is_integer(t->id)) {
      *target = sql_type_decimal(a, int_width(t->id), 0);
      return *target ? 1 : 0;
    }
    if (unknown) {
      *target = sql_type_decimal(a, 38, 0);
      return *target ? 1 : 0;
    }
    return 0;
  default: {
    const sql_type *want = sql_type_get((sql_type_id)p);
    if (want == NULL) return 0;
    *target = want;
    if ((int)t->id == p) return 2;
    return sql_type_implicit(t, want) ? 1 : 0;
  }
  }
}

static int dec_scale_of(const sql_type *t) { return t->id == SQL_DECIMAL ? t->scale : 0; }
static int dec_int_digits(const sql_type *t) {
  return t->id == SQL_DECIMAL ? t->precision - t->scale : int_width(t->id);
}

static const sql_type *dec_type(tarn_arena *a, int p, int s) {
  if (s > 38) s = 38;
  if (s < 0) s = 0;
  if (p > 38) p = 38;
  if (p < s) p = s;
  if (p < 1) p = 1;
  return sql_type_decimal(a, p, s);
}

/* PostgreSQL's select_div_scale on known values: base-10000 weights and first digits. */
static void nbase_weight(sql_i128 v, int scale, int *weight, int *first) {
  sql_u128 u = v < 0 ? (sql_u128)0 - (sql_u128)v : (sql_u128)v;
  if (u == 0) {
    *weight = 0;
    *first = 0;
    return;
  }
  int digits = 0;
  for (sql_u128 t = u; t; t /= 10)
    digits++;
  int e = digits - 1 - scale; /* power of ten of the leading digit */
  int w = e >= 0 ? e / 4 : -((-e + 3) / 4);
  int shift = scale + 4 * w; /* first = floor(u / 10^shift) */
  sql_u128 f;
  if (shift >= 0)
    f = u / (sql_u128)sql_pow10(shift);
  else
    f = u * (sql_u128)sql_pow10(-shift);
  *weight = w;
  *first = (int)f;
}

static int div_scale(const sql_type *ta, const sql_type *tb, const sql_value *ca,
                     const sql_value *cb) {
  int sa = dec_scale_of(ta), sb = dec_scale_of(tb);
  int rs = 16;
  if (ca && cb && !ca->is_null && !cb->is_null && ca->type && cb->type &&
      (ca->type->id == SQL_DECIMAL || sql_type_is_integer(ca->type->id)) &&
      (cb->type->id == SQL_DECIMAL || sql_type_is_integer(cb->type->id))) {
    int w1, f1, w2, f2;
    sql_i128 va = ca->type->id == SQL_DECIMAL ? ca->u.i128 : ca->u.i64;
    sql_i128 vb = cb->type->id == SQL_DECIMAL ? cb->u.i128 : cb->u.i64;
    nbase_weight(va, dec_scale_of(ca->type), &w1, &f1);
    nbase_weight(vb, dec_scale_of(cb->type), &w2, &f2);
    int qweight = w1 - w2;
    if (f1 <= f2) qweight--;
    rs = 16 - qweight * 4;
  }
  if (rs < sa) rs = sa;
  if (rs < sb) rs = sb;
  if (rs < 0) rs = 0;
  if (rs > 38) rs = 38;
  return rs;
}

static bool const_int(const sql_value *v, int64_t *out) {
  if (v == NULL || v->is_null || v->type == NULL) return false;
  if (sql_type_is_integer(v->type->id)) {
    *out = v->u.i64;
    return true;
  }
  return false;
}

static const sql_type *ret_type(tarn_arena *a, const sql_func_def *d, const sql_type **tg,
                                const sql_value *const *consts, size_t n) {
  switch (d->ret) {
  case SQL_R_ARG0: return tg[0];
  case SQL_R_DEC_ADD: {
    int s = dec_scale_of(tg[0]) > dec_scale_of(tg[1]) ? dec_scale_of(tg[0]) : dec_scale_of(tg[1]);
    int i0 = dec_int_digits(tg[0]), i1 = dec_int_digits(tg[1]);
    return dec_type(a, (i0 > i1 ? i0 : i1) + 1 + s, s);
  }
  case SQL_R_DEC_MUL: {
    int s = dec_scale_of(tg[0]) + dec_scale_of(tg[1]);
    int p = (tg[0]->id == SQL_DECIMAL ? tg[0]->precision : 19) +
            (tg[1]->id == SQL_DECIMAL ? tg[1]->precision : 19);
    return dec_type(a, p, s);
  }
  case SQL_R_DEC_DIV:
    return dec_type(a, 38,
                    div_scale(tg[0], tg[1], consts ? consts[0] : NULL, consts ? consts[1] : NULL));
  case SQL_R_DEC_MOD: {
    int s = dec_scale_of(tg[0]) > dec_scale_of(tg[1]) ? dec_scale_of(tg[0]) : dec_scale_of(tg[1]);
    return dec_type(a, dec_int_digits(tg[1]) + s, s);
  }
  case SQL_R_DEC_ROUND: {
    int s = dec_scale_of(tg[0]);
    int64_t k;
    if (n == 1)
      s = 0;
    else if (consts && const_int(consts[1], &k))
      s = k < 0 ? 0 : k > 38 ? 38 : (int)k;
    return dec_type(a, dec_int_digits(tg[0]) + 1 + s, s);
  }
  case SQL_R_DEC_INT: return dec_type(a, dec_int_digits(tg[0]) + 1, 0);
  case SQL_R_DEC_APPROX: return dec_type(a, 38, 16);
  case SQL_R_ELEM0: return tg[0]->id == SQL_LIST ? tg[0]->elem : NULL;
  case SQL_R_TEXT_LIST: return sql_type_list(a, sql_type_get(SQL_TEXT));
  case SQL_R_EXTRACT: {
    int s = 6;
    if (consts && consts[0] && !consts[0]->is_null && consts[0]->type &&
        consts[0]->type->id == SQL_TEXT) {
      sql_dt_field fld = sql_dt_field_parse(consts[0]->u.str.ptr, consts[0]->u.str.len);
      if (fld != SQL_DTF_INVALID) s = sql_extract_scale(fld, tg[1]->id);
    }
    return dec_type(a, 38, s);
  }
  default: return sql_type_get((sql_type_id)d->ret);
  }
}

typedef struct def_table {
  const sql_func_def *defs;
  const size_t *n;
} def_table;

static const size_t op_n_defs = sizeof op_defs / sizeof *op_defs;

static const def_table tables[] = {{op_defs, &op_n_defs},
                                   {sql_math_defs, &sql_math_n_defs},
                                   {sql_string_defs, &sql_string_n_defs},
                                   {sql_time_defs, &sql_time_n_defs}};

int sql_func_resolve_const(tarn_arena *a, const char *name, const sql_type *const *arg_types,
                           const sql_value *const *consts, size_t n_args, const sql_func **out,
                           const sql_type **cast_to, tarn_error *err) {
  *out = NULL;
  for (size_t i = 0; i < n_args; i++)
    cast_to[i] = NULL;
  if (strncmp(name, "pg_catalog.", 11) == 0) name += 11;
  int cmp = cmp_op_code(name);
  if (cmp >= 0 && n_args == 2) return resolve_compare(a, name, cmp, arg_types, out, cast_to, err);
  if (strcmp(name, "||") == 0 && n_args == 2)
    return resolve_concat(a, arg_types, out, cast_to, err);
  if (n_args > 255) return no_such(name, arg_types, n_args, err);

  /* A NULL operand of a binary operator is taken to have the other operand's type. */
  const sql_type *eff_buf[2];
  const sql_type *const *eff = arg_types;
  if (is_operator(name) && n_args == 2 &&
      (arg_types[0]->id == SQL_NULL) != (arg_types[1]->id == SQL_NULL)) {
    eff_buf[0] = arg_types[0]->id == SQL_NULL ? arg_types[1] : arg_types[0];
    eff_buf[1] = arg_types[1]->id == SQL_NULL ? arg_types[0] : arg_types[1];
    eff = eff_buf;
  }
  const sql_type **targets = tarn_arena_calloc(a, n_args ? n_args : 1, sizeof *targets);
  const sql_type **best_targets = tarn_arena_calloc(a, n_args ? n_args : 1, sizeof *targets);
  if (targets == NULL || best_targets == NULL) return oom_err(err);
  const sql_func_def *best = NULL;
  int best_exact = -1, best_pref = -1;
  for (size_t t = 0; t < sizeof tables / sizeof *tables; t++) {
    for (size_t k = 0; k < *tables[t].n; k++) {
      const sql_func_def *d = &tables[t].defs[k];
      if (strcmp(d->name, name) != 0 || n_args < d->min_args || n_args > d->max_args) continue;
      int exact = 0, pref = 0;
      bool ok = true;
      for (size_t i = 0; i < n_args && ok; i++) {
        size_t pi = i;
        if ((d->flags & SQL_F_VARIADIC) && i >= d->min_args) pi = d->min_args - 1u;
        if ((d->flags & SQL_F_VARIADIC) && d->min_args == 0) pi = 0;
        if (pi > 3) pi = 3;
        int m = match_param(a, d->params[pi], eff[i], i > 0 ? targets[0] : NULL, &targets[i]);
        if (m == 0)
          ok = false;
        else if (m == 2)
          exact++;
        else if (preferred(targets[i]->id))
          pref++;
      }
      if (!ok) continue;
      if (exact > best_exact || (exact == best_exact && pref > best_pref)) {
        best = d;
        best_exact = exact;
        best_pref = pref;
        memcpy(best_targets, targets, n_args * sizeof *targets);
      }
    }
  }
  if (best == NULL) return no_such(name, arg_types, n_args, err);
  const sql_type *ret = ret_type(a, best, best_targets, consts, n_args);
  if (ret == NULL) return no_such(name, arg_types, n_args, err);
  sql_func *f = new_func(a, best->name, best->kernel, best->op, ret);
  if (f == NULL) return oom_err(err);
  f->handles_nulls = (best->flags & SQL_F_NULLS) != 0;
  f->volatile_ = (best->flags & SQL_F_VOLATILE) != 0;
  for (size_t i = 0; i < n_args; i++) {
    if (i < 4) f->arg_types[i] = best_targets[i];
    cast_to[i] = sql_type_equal(arg_types[i], best_targets[i]) ? NULL : best_targets[i];
  }
  *out = f;
  return 0;
}

int sql_func_resolve(tarn_arena *a, const char *name, const sql_type *const *arg_types,
                     size_t n_args, const sql_func **out, const sql_type **cast_to,
                     tarn_error *err) {
  return sql_func_resolve_const(a, name, arg_types, NULL, n_args, out, cast_to, err);
}

static bool in_list(const char *name, const char *const *names) {
  for (size_t i = 0; names[i]; i++)
    if (strcmp(name, names[i]) == 0) return true;
  return false;
}

bool sql_func_is_aggregate(const char *name) {
  static const char *const names[] = {"count",       "sum",        "avg",          "min",
                                      "max",         "bool_and",   "bool_or",      "every",
                                      "string_agg",  "array_agg",  "any_value",    "stddev",
                                      "stddev_samp", "stddev_pop", "variance",     "var_samp",
                                      "var_pop",     "listagg",    "group_concat", NULL};
  return in_list(name, names);
}

bool sql_func_is_window(const char *name) {
  static const char *const names[] = {"row_number",   "rank",        "dense_rank", "lag",
                                      "lead",         "first_value", "last_value", "ntile",
                                      "percent_rank", "cume_dist",   "nth_value",  NULL};
  return in_list(name, names);
}
