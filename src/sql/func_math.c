/*
 * Mathematical functions: abs, ceil, floor, round, trunc, sign, sqrt, cbrt, exp, ln, log, power,
 * trigonometry, degrees/radians, pi and random.
 *
 * PostgreSQL has most of these for double precision and numeric; integer arguments reach the
 * double version (the preferred numeric type) except where an integer or numeric version exists.
 * Rounding follows the type: numeric rounds half away from zero, double rounds half to even
 * (rint), as PostgreSQL does. Numeric transcendental functions are computed through double and
 * given 16 fractional digits, which is what double can carry; PostgreSQL's exact numeric versions
 * would print more digits. round(double, n) is not in PostgreSQL; it is accepted (half away from
 * zero) because queries written for other engines use it.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sql/expr_impl.h"

enum {
  M_ABS,
  M_CEIL,
  M_FLOOR,
  M_ROUND,
  M_TRUNC,
  M_SIGN,
  M_SQRT,
  M_CBRT,
  M_EXP,
  M_LN,
  M_LOG10,
  M_LOG,
  M_POWER,
  M_SIN,
  M_COS,
  M_TAN,
  M_COT,
  M_ASIN,
  M_ACOS,
  M_ATAN,
  M_ATAN2,
  M_DEGREES,
  M_RADIANS,
  M_PIFN,
  M_RANDOM,
  M_GCD,
  M_LCM
};

static inline bool out_null(const sql_vec *out, uint32_t i) {
  return out->nulls != NULL && out->nulls[i];
}

static int fail(sql_eval_ctx *ctx, const char *msg) {
  return tarn_err(ctx->err, TARN_EINVAL, "%s", msg);
}

/* Checks a double result as PostgreSQL does (an infinite or NaN result from finite input). */
static const char *f64_unary(int op, double x, double *r) {
  switch (op) {
  case M_ABS: *r = fabs(x); return NULL;
  case M_CEIL: *r = ceil(x); return NULL;
  case M_FLOOR: *r = floor(x); return NULL;
  case M_ROUND: *r = rint(x); return NULL;
  case M_TRUNC: *r = trunc(x); return NULL;
  case M_SIGN: *r = x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0; return NULL;
  case M_SQRT:
    if (x < 0) return "cannot take square root of a negative number";
    *r = sqrt(x);
    return NULL;
  case M_CBRT: *r = cbrt(x); return NULL;
  case M_EXP:
    *r = exp(x);
    if (isinf(*r) && !isinf(x)) return "value out of range: overflow";
    if (*r == 0 && !isinf(x)) return "value out of range: underflow";
    return NULL;
  case M_LN:
  case M_LOG10:
    if (x == 0) return "cannot take logarithm of zero";
    if (x < 0) return "cannot take logarithm of a negative number";
    *r = op == M_LN ? log(x) : log10(x);
    return NULL;
  case M_SIN: *r = sin(x); break;
  case M_COS: *r = cos(x); break;
  case M_TAN: *r = tan(x); break;
  case M_COT: *r = 1.0 / tan(x); return NULL;
  case M_ASIN:
  case M_ACOS:
    if (x < -1 || x > 1) return "input is out of range";
    *r = op == M_ASIN ? asin(x) : acos(x);
    return NULL;
  case M_ATAN: *r = atan(x); return NULL;
  case M_DEGREES: *r = x * (180.0 / M_PI); return NULL;
  case M_RADIANS: *r = x * (M_PI / 180.0); return NULL;
  default: *r = x; return NULL;
  }
  if (isinf(x) || isnan(x)) {
    if (isinf(x)) return "input is out of range";
  }
  return NULL;
}

static const char *power(double x, double y, double *r) {
  if (x == 0 && y < 0) return "zero raised to a negative power is undefined";
  if (x < 0 && floor(y) != y)
    return "a negative number raised to a non-integer power yields a complex result";
  *r = pow(x, y);
  if (isinf(*r) && !isinf(x) && !isinf(y)) return "value out of range: overflow";
  return NULL;
}

static int k_f64(sql_eval_ctx *ctx, const sql_func *f, sql_vec *const *args, size_t n_args,
                 uint32_t n, sql_vec *out) {
  double *r = SQL_VEC_F64(out);
  for (uint32_t i = 0; i < n; i++) {
    if (out_null(out, i)) continue;
    double x = n_args ? SQL_VEC_F64(args[0])[SQL_ARG_ROW(args[0], i)] : 0;
    const char *err;
    if (n_args == 2) {
      double y = SQL_VEC_F64(args[1])[SQL_ARG_ROW(args[1], i)];
      switch (f->op) {
      case M_POWER: err = power(x, y, &r[i]); break;
      case M_ATAN2:
        r[i] = atan2(x, y);
        err = NULL;
        break;
      case M_LOG:
        /* log(b, x): logarithm of x to base b */
        if (x <= 0 || y <= 0)
          err = x == 0 || y == 0 ? "cannot take logarithm of zero"
                                 : "cannot take logarithm of a negative number";
        else if (x == 1)
          err = "division by zero";
        else {
          r[i] = log(y) / log(x);
          err = NULL;
        }
        break;
      case M_ROUND: {
        /* round(double, n): an extension, half away from zero. */
        double p = pow(10.0, y);
        r[i] = isinf(p) || p == 0 ? x : round(x * p) / p;
        err = NULL;
        break;
      }
      default: err = "bad math function";
      }
    } else {
      err = f64_unary(f->op, x, &r[i]);
    }
    if (err) return fail(ctx, err);
    if (out->type->id == SQL_FLOAT4) r[i] = (float)r[i];
  }
  return 0;
}

static int k_int_abs(sql_eval_ctx *ctx, const sql_func *f, sql_vec *const *args, size_t n_args,
                     uint32_t n, sql_vec *out) {
  (void)f;
  (void)n_args;
  sql_type_id id = out->type->id;
  int64_t lo = id == SQL_INT2 ? INT16_MIN : id == SQL_INT4 ? INT32_MIN : INT64_MIN;
  const int64_t *x = SQL_VEC_I64(args[0]);
  int64_t *r = SQL_VEC_I64(out);
  for (uint32_t i = 0; i < n; i++) {
    int64_t v = x[SQL_ARG_ROW(args[0], i)];
    if (v == lo) {
      if (out_null(out, i)) continue;
      return fail(ctx, id == SQL_INT2   ? "smallint out of range"
                       : id == SQL_INT4 ? "integer out of range"
                                        : "bigint out of range");
    }
    r[i] = v < 0 ? -v : v;
  }
  return 0;
}

static int64_t gcd64(int64_t a, int64_t b) {
  uint64_t x = a < 0 ? (uint64_t)0 - (uint64_t)a : (uint64_t)a;
  uint64_t y = b < 0 ? (uint64_t)0 - (uint64_t)b : (uint64_t)b;
  while (y) {
    uint64_t t = x % y;
    x = y;
    y = t;
  }
  return (int64_t)x;
}

static int k_int_gcd(sql_eval_ctx *ctx, const sql_func *f, sql_vec *const *args, size_t n_args,
                     uint32_t n, sql_vec *out) {
  (void)n_args;
  int64_t hi = out->type->id == SQL_INT4 ? INT32_MAX : INT64_MAX;
  for (uint32_t i = 0; i < n; i++) {
    if (out_null(out, i)) continue;
    int64_t a = SQL_VEC_I64(args[0])[SQL_ARG_ROW(args[0], i)];
    int64_t b = SQL_VEC_I64(args[1])[SQL_ARG_ROW(args[1], i)];
    int64_t g = gcd64(a, b), r;
    if (f->op == M_LCM) {
      if (a == 0 || b == 0) {
        r = 0;
      } else if (__builtin_mul_overflow(a / g, b, &r)) {
        return fail(ctx, hi == INT32_MAX ? "integer out of range" : "bigint out of range");
      }
      if (r < 0) r = -r;
    } else {
      r = g;
    }
    if (r > hi || r < 0)
      return fail(ctx, hi == INT32_MAX ? "integer out of range" : "bigint out of range");
    SQL_VEC_I64(out)[i] = r;
  }
  return 0;
}

/* v / 10^k rounded toward minus (floor) or plus (ceil) infinity. */
static sql_i128 div_pow10_dir(sql_i128 v, int k, int dir) {
  if (k <= 0) return v;
  if (k > 38) return v == 0 ? 0 : (dir > 0 ? (v > 0 ? 1 : 0) : (v < 0 ? -1 : 0));
  sql_i128 p = sql_pow10(k), q = v / p, r = v % p;
  if (r != 0 && dir > 0 && v > 0) q++;
  if (r != 0 && dir < 0 && v < 0) q--;
  return q;
}

static int k_dec(sql_eval_ctx *ctx, const sql_func *f, sql_vec *const *args, size_t n_args,
                 uint32_t n, sql_vec *out) {
  const sql_vec *a = args[0];
  int s = a->type->scale, so = out->type->scale;
  const sql_i128 *x = SQL_VEC_I128(a);
  sql_i128 *r = SQL_VEC_I128(out);
  for (uint32_t i = 0; i < n; i++) {
    if (out_null(out, i)) continue;
    sql_i128 v = x[SQL_ARG_ROW(a, i)], t;
    switch (f->op) {
    case M_ABS:
      r[i] = v < 0 ? -v : v;
      if (!sql_dec_rescale(r[i], s, so, &r[i])) return fail(ctx, "numeric field overflow");
      break;
    case M_SIGN: r[i] = (v > 0) - (v < 0); break;
    case M_CEIL:
    case M_FLOOR: r[i] = div_pow10_dir(v, s, f->op == M_CEIL ? 1 : -1); break;
    case M_ROUND:
    case M_TRUNC: {
      int64_t d = 0;
      if (n_args > 1) d = SQL_VEC_I64(args[1])[SQL_ARG_ROW(args[1], i)];
      if (d > 38) d = 38;
      if (d < -38) d = -38;
      if (d >= s) {
        if (!sql_dec_rescale(v, s, so, &r[i])) return fail(ctx, "numeric field overflow");
        break;
      }
      int k = s - (int)d;
      if (f->op == M_ROUND)
        t = sql_dec_div_pow10_round(v, k);
      else
        t = k > 38 ? 0 : v / sql_pow10(k);
      /* t has scale d; bring it to the result scale. */
      int up = so - (int)d;
      if (up > 38 || (up > 0 && !sql_dec_fits(t, 38 - up))) {
        if (t != 0) return fail(ctx, "numeric field overflow");
        r[i] = 0;
      } else {
        r[i] = up > 0 ? t * sql_pow10(up) : t;
      }
      if (!sql_dec_fits(r[i], out->type->precision)) return fail(ctx, "numeric field overflow");
      break;
    }
    default: {
      /* Through double: sqrt, exp, ln, log, power of numerics. */
      double dv = sql_dec_to_double(v, s), res;
      const char *err;
      if (f->op == M_POWER || f->op == M_LOG) {
        const sql_vec *bv = args[1];
        double y = sql_dec_to_double(SQL_VEC_I128(bv)[SQL_ARG_ROW(bv, i)], bv->type->scale);
        if (f->op == M_POWER) {
          err = power(dv, y, &res);
        } else if (dv <= 0 || y <= 0) {
          err = dv == 0 || y == 0 ? "cannot take logarithm of zero"
                                  : "cannot take logarithm of a negative number";
        } else if (dv == 1) {
          err = "division by zero";
        } else {
          res = log(y) / log(dv);
          err = NULL;
        }
      } else {
        err = f64_unary(f->op, dv, &res);
      }
      if (err) return fail(ctx, err);
      char buf[64];
      snprintf(buf, sizeof buf, "%.17g", res);
      if (sql_dec_parse(buf, strlen(buf), out->type->precision, so, &r[i]))
        return fail(ctx, "value overflows numeric format");
      break;
    }
    }
  }
  return 0;
}

/* Per-thread xorshift state, seeded from the address of the state and the clock. */
static _Thread_local uint64_t rng_state;

static int k_random(sql_eval_ctx *ctx, const sql_func *f, sql_vec *const *args, size_t n_args,
                    uint32_t n, sql_vec *out) {
  (void)f;
  (void)args;
  (void)n_args;
  if (rng_state == 0) {
    rng_state = (uint64_t)(uintptr_t)&rng_state ^ (uint64_t)ctx->now_micros ^ 0x9e3779b97f4a7c15ULL;
    if (rng_state == 0) rng_state = 1;
  }
  for (uint32_t i = 0; i < n; i++) {
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rng_state = x;
    SQL_VEC_F64(out)[i] = (double)(x >> 11) * (1.0 / 9007199254740992.0);
  }
  return 0;
}

static int k_pi(sql_eval_ctx *ctx, const sql_func *f, sql_vec *const *args, size_t n_args,
                uint32_t n, sql_vec *out) {
  (void)ctx;
  (void)f;
  (void)args;
  (void)n_args;
  for (uint32_t i = 0; i < n; i++)
    SQL_VEC_F64(out)[i] = M_PI;
  return 0;
}

#define F8 SQL_FLOAT8
#define DEC SQL_A_DEC
#define U(name, k, op, a, r)                                                                       \
  { name, k, op, 1, 1, {a, 0, 0, 0}, r, 0 }
#define B(name, k, op, a, b, r)                                                                    \
  { name, k, op, 2, 2, {a, b, 0, 0}, r, 0 }

const sql_func_def sql_math_defs[] = {
    U("abs", k_int_abs, M_ABS, SQL_INT2, SQL_INT2),
    U("abs", k_int_abs, M_ABS, SQL_INT4, SQL_INT4),
    U("abs", k_int_abs, M_ABS, SQL_INT8, SQL_INT8),
    U("abs", k_f64, M_ABS, SQL_FLOAT4, SQL_FLOAT4),
    U("abs", k_f64, M_ABS, F8, F8),
    U("abs", k_dec, M_ABS, DEC, SQL_R_ARG0),
    U("ceil", k_f64, M_CEIL, F8, F8),
    U("ceil", k_dec, M_CEIL, DEC, SQL_R_DEC_INT),
    U("ceiling", k_f64, M_CEIL, F8, F8),
    U("ceiling", k_dec, M_CEIL, DEC, SQL_R_DEC_INT),
    U("floor", k_f64, M_FLOOR, F8, F8),
    U("floor", k_dec, M_FLOOR, DEC, SQL_R_DEC_INT),
    U("round", k_f64, M_ROUND, F8, F8),
    U("round", k_dec, M_ROUND, DEC, SQL_R_DEC_ROUND),
    B("round", k_dec, M_ROUND, DEC, SQL_INT4, SQL_R_DEC_ROUND),
    B("round", k_f64, M_ROUND, F8, F8, F8),
    U("trunc", k_f64, M_TRUNC, F8, F8),
    U("trunc", k_dec, M_TRUNC, DEC, SQL_R_DEC_ROUND),
    B("trunc", k_dec, M_TRUNC, DEC, SQL_INT4, SQL_R_DEC_ROUND),
    U("sign", k_f64, M_SIGN, F8, F8),
    U("sign", k_dec, M_SIGN, DEC, SQL_R_DEC_INT),
    U("sqrt", k_f64, M_SQRT, F8, F8),
    U("sqrt", k_dec, M_SQRT, DEC, SQL_R_DEC_APPROX),
    U("cbrt", k_f64, M_CBRT, F8, F8),
    U("exp", k_f64, M_EXP, F8, F8),
    U("exp", k_dec, M_EXP, DEC, SQL_R_DEC_APPROX),
    U("ln", k_f64, M_LN, F8, F8),
    U("ln", k_dec, M_LN, DEC, SQL_R_DEC_APPROX),
    U("log", k_f64, M_LOG10, F8, F8),
    U("log", k_dec, M_LOG10, DEC, SQL_R_DEC_APPROX),
    U("log10", k_f64, M_LOG10, F8, F8),
    U("log10", k_dec, M_LOG10, DEC, SQL_R_DEC_APPROX),
    B("log", k_dec, M_LOG, DEC, DEC, SQL_R_DEC_APPROX),
    B("power", k_f64, M_POWER, F8, F8, F8),
    B("power", k_dec, M_POWER, DEC, DEC, SQL_R_DEC_APPROX),
    B("pow", k_f64, M_POWER, F8, F8, F8),
    B("pow", k_dec, M_POWER, DEC, DEC, SQL_R_DEC_APPROX),
    B("^", k_f64, M_POWER, F8, F8, F8),
    B("^", k_dec, M_POWER, DEC, DEC, SQL_R_DEC_APPROX),
    U("sin", k_f64, M_SIN, F8, F8),
    U("cos", k_f64, M_COS, F8, F8),
    U("tan", k_f64, M_TAN, F8, F8),
    U("cot", k_f64, M_COT, F8, F8),
    U("asin", k_f64, M_ASIN, F8, F8),
    U("acos", k_f64, M_ACOS, F8, F8),
    U("atan", k_f64, M_ATAN, F8, F8),
    B("atan2", k_f64, M_ATAN2, F8, F8, F8),
    U("degrees", k_f64, M_DEGREES, F8, F8),
    U("radians", k_f64, M_RADIANS, F8, F8),
    B("gcd", k_int_gcd, M_GCD, SQL_INT4, SQL_INT4, SQL_INT4),
    B("gcd", k_int_gcd, M_GCD, SQL_INT8, SQL_INT8, SQL_INT8),
    B("lcm", k_int_gcd, M_LCM, SQL_INT4, SQL_INT4, SQL_INT4),
    B("lcm", k_int_gcd, M_LCM, SQL_INT8, SQL_INT8, SQL_INT8),
    {"pi", k_pi, M_PIFN, 0, 0, {0, 0, 0, 0}, F8, 0},
    {"random", k_random, M_RANDOM, 0, 0, {0, 0, 0, 0}, F8, SQL_F_VOLATILE},
};
const size_t sql_math_n_defs = sizeof sql_math_defs / sizeof *sql_math_defs;
