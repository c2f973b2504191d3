/* The expression evaluator, casts and scalar functions: expressions built by hand the way the
 * binder builds them (functions resolved by name, implicit casts made explicit), evaluated over
 * constant rows and small batches, against values computed by hand from PostgreSQL's rules. */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "common/error.h"
#include "sql/expr.h"
#include "sql/plan.h"

static tarn_arena A;
static sql_mem *M;
static tarn_error ERR;
static sql_eval_ctx CTX;

static const sql_type *ty(sql_type_id id) { return sql_type_get(id); }
static const sql_type *dec(int p, int s) { return sql_type_decimal(&A, p, s); }

static sql_expr *node(sql_expr_kind k, const sql_type *t) {
  sql_expr *e = tarn_arena_calloc(&A, 1, sizeof *e);
  e->kind = k;
  e->type = t;
  e->slot = -1;
  return e;
}

static sql_expr *with_args(sql_expr *e, size_t n, sql_expr **args) {
  e->args = tarn_arena_calloc(&A, n ? n : 1, sizeof *e->args);
  for (size_t i = 0; i < n; i++)
    e->args[i] = args[i];
  e->n_args = n;
  return e;
}

static sql_expr *c_int(int64_t v) {
  sql_expr *e = node(SQL_E_CONST, ty(SQL_INT4));
  e->value.type = e->type;
  e->value.u.i64 = v;
  return e;
}

static sql_expr *c_i8(int64_t v) {
  sql_expr *e = c_int(v);
  e->type = e->value.type = ty(SQL_INT8);
  return e;
}

static sql_expr *c_i2(int64_t v) {
  sql_expr *e = c_int(v);
  e->type = e->value.type = ty(SQL_INT2);
  return e;
}

static sql_expr *c_f8(double v) {
  sql_expr *e = node(SQL_E_CONST, ty(SQL_FLOAT8));
  e->value.type = e->type;
  e->value.u.f64 = v;
  return e;
}

static sql_expr *c_bool(bool v) {
  sql_expr *e = node(SQL_E_CONST, ty(SQL_BOOL));
  e->value.type = e->type;
  e->value.u.b = v;
  return e;
}

static sql_expr *c_null(const sql_type *t) {
  sql_expr *e = node(SQL_E_CONST, t);
  e->value.type = t;
  e->value.is_null = true;
  return e;
}

static sql_expr *c_text(const char *s) {
  sql_expr *e = node(SQL_E_CONST, ty(SQL_TEXT));
  e->value.type = e->type;
  e->value.u.str = (sql_str){s, strlen(s)};
  return e;
}

/* A constant of type t from its text, cast at build time like a typed literal. */
static sql_expr *c_typed(const char *text, const sql_type *t) {
  sql_value in = {0}, out;
  in.type = ty(SQL_TEXT);
  in.u.str = (sql_str){text, strlen(text)};
  tarn_error err = {0};
  if (sql_cast_value(M, &in, t, &out, &err) != 0) {
    fprintf(stderr, "bad literal %s: %s\n", text, err.message);
    return c_null(t);
  }
  sql_expr *e = node(SQL_E_CONST, t);
  e->value = out;
  return e;
}

static sql_expr *c_dec(const char *text) {
  /* numeric literal: precision and scale from the text */
  int digits = 0, scale = 0;
  bool point = false;
  for (const char *p = text; *p; p++) {
    if (*p >= '0' && *p <= '9') {
      digits++;
      if (point) scale++;
    } else if (*p == '.') {
      point = true;
    }
  }
  if (digits < 1) digits = 1;
  return c_typed(text, dec(digits > 38 ? 38 : digits, scale));
}

static sql_expr *col(int slot, const sql_type *t) {
  sql_expr *e = node(SQL_E_COLUMN, t);
  e->slot = slot;
  e->column_id = 100 + slot;
  return e;
}

static sql_expr *cast(sql_expr *x, const sql_type *t) {
  sql_expr *e = node(SQL_E_CAST, t);
  return with_args(e, 1, &x);
}

static sql_expr *try_cast(sql_expr *x, const sql_type *t) {
  sql_expr *e = cast(x, t);
  e->is_try = true;
  return e;
}

/* A function call the way the binder makes one: resolved with constants known, casts explicit. */
static sql_expr *fnv(const char *name, size_t n, sql_expr **args) {
  const sql_type *types[8];
  const sql_value *consts[8];
  const sql_type *casts[8];
  for (size_t i = 0; i < n; i++) {
    types[i] = args[i]->type;
    consts[i] = args[i]->kind == SQL_E_CONST ? &args[i]->value : NULL;
  }
  const sql_func *f;
  tarn_error err = {0};
  if (sql_func_resolve_const(&A, name, types, consts, n, &f, casts, &err) != 0) {
    sql_expr *e = node(SQL_E_CONST, ty(SQL_TEXT));
    char *msg = tarn_arena_strndup(&A, err.message, strlen(err.message));
    e->value.type = e->type;
    e->value.u.str = (sql_str){msg, strlen(msg)};
    e->column_id = -999; /* marks a resolution error for ev() */
    return e;
  }
  for (size_t i = 0; i < n; i++)
    if (casts[i]) args[i] = cast(args[i], casts[i]);
  sql_expr *e = node(SQL_E_FUNC, f->ret);
  e->func = f;
  return with_args(e, n, args);
}

static sql_expr *fn(const char *name, size_t n, ...) {
  sql_expr *args[8];
  va_list ap;
  va_start(ap, n);
  for (size_t i = 0; i < n; i++)
    args[i] = va_arg(ap, sql_expr *);
  va_end(ap);
  return fnv(name, n, args);
}

static sql_expr *kind(sql_expr_kind k, const sql_type *t, size_t n, ...) {
  sql_expr *args[16];
  va_list ap;
  va_start(ap, n);
  for (size_t i = 0; i < n; i++)
    args[i] = va_arg(ap, sql_expr *);
  va_end(ap);
  return with_args(node(k, t), n, args);
}

/* The text of a constant expression's value, or "ERROR: message". */
static const char *ev(sql_expr *e) {
  static char buf[8][512];
  static int k;
  char *b = buf[k++ % 8];
  if (e->kind == SQL_E_CONST && e->column_id == -999) {
    snprintf(b, 512, "RESOLVE: %.*s", (int)e->value.u.str.len, e->value.u.str.ptr);
    return b;
  }
  tarn_err_clear(&ERR);
  sql_value v;
  if (sql_expr_eval_const(&CTX, e, &v) != 0) {
    snprintf(b, 512, "ERROR: %.400s", ERR.message);
    return b;
  }
  sql_value_text(&v, b, 512);
  return b;
}

static char *type_of(sql_expr *e) {
  static char buf[128];
  sql_type_name(e->type, buf, sizeof buf);
  return buf;
}

/* ---- arithmetic ------------------------------------------------------------------------------ */

static void test_integer_arithmetic(void) {
  CHECK_EQ_STR(ev(fn("/", 2, c_int(7), c_int(2))), "3");
  CHECK_EQ_STR(ev(fn("/", 2, c_int(-7), c_int(2))), "-3");
  CHECK_EQ_STR(ev(fn("%", 2, c_int(7), c_int(-3))), "1");
  CHECK_EQ_STR(ev(fn("%", 2, c_int(-7), c_int(3))), "-1");
  CHECK_EQ_STR(ev(fn("%", 2, c_i8(INT64_MIN), c_i8(-1))), "0");
  CHECK_EQ_STR(ev(fn("+", 2, c_int(2147483647), c_int(1))), "ERROR: integer out of range");
  CHECK_EQ_STR(ev(fn("+", 2, c_int(2147483647), c_i8(1))), "2147483648");
  CHECK_EQ_STR(ev(fn("*", 2, c_i8(INT64_MAX), c_i8(2))), "ERROR: bigint out of range");
  CHECK_EQ_STR(ev(fn("+", 2, c_i2(32767), c_i2(1))), "ERROR: smallint out of range");
  CHECK_EQ_STR(ev(fn("/", 2, c_int(1), c_int(0))), "ERROR: division by zero");
  CHECK_EQ_STR(ev(fn("/", 2, c_int(-2147483647 - 1), c_int(-1))), "ERROR: integer out of range");
  CHECK_EQ_STR(ev(fn("-", 1, c_int(5))), "-5");
  CHECK_EQ_STR(ev(fn("-", 1, c_int(-2147483647 - 1))), "ERROR: integer out of range");
  CHECK_EQ_STR(ev(fn("+", 2, c_int(1), c_null(ty(SQL_NULL)))), "NULL");
  CHECK_EQ_STR(ev(fn("&", 2, c_int(12), c_int(10))), "8");
  CHECK_EQ_STR(ev(fn("<<", 2, c_int(1), c_int(4))), "16");
  /* result widths */
  CHECK_EQ_STR(type_of(fn("+", 2, c_int(1), c_i8(1))), "bigint");
  CHECK_EQ_STR(type_of(fn("+", 2, c_i2(1), c_int(1))), "integer");
  CHECK_EQ_STR(type_of(fn("+", 2, c_i2(1), c_i2(1))), "smallint");
}

static void test_decimal_arithmetic(void) {
  CHECK_EQ_STR(ev(fn("+", 2, c_int(1), c_dec("2.5"))), "3.5");
  CHECK_EQ_STR(ev(fn("-", 2, c_dec("1.25"), c_dec("2.5"))), "-1.25");
  CHECK_EQ_STR(ev(fn("*", 2, c_dec("1.5"), c_dec("2.25"))), "3.375");
  CHECK_EQ_STR(ev(fn("/", 2, c_dec("1.0"), c_int(3))), "0.33333333333333333333");
  CHECK_EQ_STR(ev(fn("/", 2, c_int(10), c_dec("4.0"))), "2.5000000000000000");
  CHECK_EQ_STR(ev(fn("/", 2, c_dec("2"), c_dec("3"))), "0.66666666666666666667");
  CHECK_EQ_STR(ev(fn("/", 2, c_dec("1"), c_dec("0"))), "ERROR: division by zero");
  CHECK_EQ_STR(ev(fn("%", 2, c_dec("10.5"), c_dec("3"))), "1.5");
  CHECK_EQ_STR(ev(fn("-", 1, c_dec("1.50"))), "-1.50");
  /* big values: products and quotients past 128 bits inside, exact results */
  CHECK_EQ_STR(ev(fn("*", 2, c_dec("12345678901234567890.12"), c_dec("1000000000.5"))),
               "12345678907407407340737283945.060");
  CHECK_EQ_STR(ev(fn("*", 2, c_dec("99999999999999999999"), c_dec("99999999999999999999"))),
               "ERROR: value overflows numeric format");
  CHECK_EQ_STR(ev(fn("+", 2, c_dec("99999999999999999999999999999999999999"), c_dec("1"))),
               "ERROR: value overflows numeric format");
  CHECK_EQ_STR(type_of(fn("+", 2, c_int(1), c_dec("2.5"))), "numeric(12,1)");
  CHECK_EQ_STR(type_of(fn("+", 2, c_dec("2.5"), c_f8(1))), "double precision");
  CHECK_EQ_STR(type_of(fn("*", 2, c_dec("1.5"), c_dec("2.25"))), "numeric(5,3)");
}

static void test_float_arithmetic(void) {
  CHECK_EQ_STR(ev(fn("+", 2, c_f8(0.1), c_f8(0.2))), "0.30000000000000004");
  CHECK_EQ_STR(ev(fn("*", 2, c_f8(1e15), c_f8(1))), "1e+15");
  CHECK_EQ_STR(ev(c_f8(123456789012345.0)), "123456789012345");
  CHECK_EQ_STR(ev(c_f8(1.5e-7)), "1.5e-07");
  CHECK_EQ_STR(ev(c_f8(0.0001)), "0.0001");
  CHECK_EQ_STR(ev(c_f8(-2.5)), "-2.5");
  CHECK_EQ_STR(ev(fn("/", 2, c_f8(1), c_f8(0))), "ERROR: division by zero");
  CHECK_EQ_STR(ev(fn("*", 2, c_f8(1e300), c_f8(1e300))), "ERROR: value out of range: overflow");
  CHECK_EQ_STR(ev(cast(c_f8(0.1), ty(SQL_FLOAT4))), "0.1");
  CHECK_EQ_STR(ev(cast(cast(c_f8(0.1), ty(SQL_FLOAT4)), ty(SQL_FLOAT8))), "0.10000000149011612");
  CHECK_EQ_STR(ev(fn("+", 2, c_int(1), cast(c_f8(0.5), ty(SQL_FLOAT4)))), "1.5");
  CHECK_EQ_STR(type_of(fn("+", 2, c_int(1), cast(c_f8(0.5), ty(SQL_FLOAT4)))), "double precision");
}

/* ---- casts ----------------------------------------------------------------------------------- */

static void test_numeric_casts(void) {
  CHECK_EQ_STR(ev(cast(c_text("1.005"), dec(10, 2))), "1.01");
  CHECK_EQ_STR(ev(cast(c_text("-1.005"), dec(10, 2))), "-1.01");
  CHECK_EQ_STR(ev(cast(c_dec("1.005"), dec(10, 2))), "1.01");
  CHECK_EQ_STR(ev(cast(c_dec("2.5"), ty(SQL_INT4))), "3");
  CHECK_EQ_STR(ev(cast(c_dec("-2.5"), ty(SQL_INT4))), "-3");
  CHECK_EQ_STR(ev(cast(c_f8(2.5), ty(SQL_INT4))), "2");
  CHECK_EQ_STR(ev(cast(c_f8(3.5), ty(SQL_INT4))), "4");
  CHECK_EQ_STR(ev(cast(c_f8(1e10), ty(SQL_INT4))), "ERROR: integer out of range");
  CHECK_EQ_STR(ev(cast(c_int(70000), ty(SQL_INT2))), "ERROR: smallint out of range");
  CHECK_EQ_STR(ev(cast(c_text("99999999999"), ty(SQL_INT4))),
               "ERROR: value \"99999999999\" is out of range for type integer");
  CHECK_EQ_STR(ev(cast(c_text(" 42 "), ty(SQL_INT4))), "42");
  CHECK_EQ_STR(ev(cast(c_text("4x"), ty(SQL_INT4))),
               "ERROR: invalid input syntax for type integer: \"4x\"");
  CHECK_EQ_STR(ev(try_cast(c_text("4x"), ty(SQL_INT4))), "NULL");
  CHECK_EQ_STR(ev(cast(c_text("999.995"), dec(5, 2))), "ERROR: numeric field overflow");
  CHECK_EQ_STR(ev(cast(c_text("1.5e3"), dec(10, 1))), "1500.0");
  CHECK_EQ_STR(ev(cast(c_f8(0.1), dec(10, 5))), "0.10000");
  CHECK_EQ_STR(ev(cast(c_dec("0.1"), ty(SQL_FLOAT8))), "0.1");
  CHECK_EQ_STR(ev(cast(c_int(12), dec(4, 2))), "12.00");
  CHECK_EQ_STR(ev(cast(c_int(123), dec(4, 2))), "ERROR: numeric field overflow");
  CHECK_EQ_STR(ev(cast(c_int(0), ty(SQL_BOOL))), "f");
  CHECK_EQ_STR(ev(cast(c_int(5), ty(SQL_BOOL))), "t");
  CHECK_EQ_STR(ev(cast(c_bool(true), ty(SQL_TEXT))), "true");
  CHECK_EQ_STR(ev(cast(c_text("yes"), ty(SQL_BOOL))), "t");
  CHECK_EQ_STR(ev(cast(c_text(" off"), ty(SQL_BOOL))), "f");
  CHECK_EQ_STR(ev(cast(c_text("maybe"), ty(SQL_BOOL))),
               "ERROR: invalid input syntax for type boolean: \"maybe\"");
  CHECK_EQ_STR(ev(cast(c_text("NaN"), ty(SQL_FLOAT8))), "NaN");
  CHECK_EQ_STR(ev(cast(c_text("-Infinity"), ty(SQL_FLOAT8))), "-Infinity");
  CHECK_EQ_STR(ev(cast(c_text("1e400"), ty(SQL_FLOAT8))),
               "ERROR: \"1e400\" is out of range for type double precision");
  CHECK_EQ_STR(ev(cast(c_dec("123.456"), ty(SQL_TEXT))), "123.456");
  CHECK_EQ_STR(ev(cast(c_dec("-0.05"), ty(SQL_TEXT))), "-0.05");
}

static void test_datetime_casts(void) {
  CHECK_EQ_STR(ev(c_typed("2024-02-29", ty(SQL_DATE))), "2024-02-29");
  CHECK_EQ_STR(ev(cast(c_text("2023-02-29"), ty(SQL_DATE))),
               "ERROR: date/time field value out of range: \"2023-02-29\"");
  CHECK_EQ_STR(ev(cast(c_text("2024-13-01"), ty(SQL_DATE))),
               "ERROR: date/time field value out of range: \"2024-13-01\"");
  CHECK_EQ_STR(ev(cast(c_text("yesterdayish"), ty(SQL_DATE))),
               "ERROR: invalid input syntax for type date: \"yesterdayish\"");
  CHECK_EQ_STR(ev(cast(c_text("0044-03-15 BC"), ty(SQL_DATE))), "0044-03-15 BC");
  CHECK_EQ_STR(ev(cast(c_text("20240102"), ty(SQL_DATE))), "2024-01-02");
  CHECK_EQ_STR(ev(cast(c_text("1/2/2024"), ty(SQL_DATE))), "2024-01-02");
  CHECK_EQ_STR(ev(cast(c_text("2024-01-02 03:04:05.5"), ty(SQL_TIMESTAMP))),
               "2024-01-02 03:04:05.5");
  CHECK_EQ_STR(ev(cast(c_text("2024-01-02T03:04:05"), ty(SQL_TIMESTAMP))), "2024-01-02 03:04:05");
  CHECK_EQ_STR(ev(cast(c_text("2024-01-02T03:04:05Z"), ty(SQL_TIMESTAMPTZ))),
               "2024-01-02 03:04:05+00");
  CHECK_EQ_STR(ev(cast(c_text("2024-01-02 03:04:05+02"), ty(SQL_TIMESTAMPTZ))),
               "2024-01-02 01:04:05+00");
  CHECK_EQ_STR(ev(cast(c_text("2024-01-02 03:04:05-05:30"), ty(SQL_TIMESTAMPTZ))),
               "2024-01-02 08:34:05+00");
  CHECK_EQ_STR(ev(cast(c_text("2024-01-02 03:04:05+02"), ty(SQL_TIMESTAMP))),
               "2024-01-02 03:04:05");
  CHECK_EQ_STR(ev(cast(c_text("2024-01-02 03:04"), ty(SQL_TIMESTAMP))), "2024-01-02 03:04:00");
  CHECK_EQ_STR(ev(cast(c_text("infinity"), ty(SQL_TIMESTAMP))), "infinity");
  CHECK_EQ_STR(ev(cast(c_text("13:45:00.25"), ty(SQL_TIME))), "13:45:00.25");
  CHECK_EQ_STR(ev(cast(c_typed("2024-03-10 23:59:59.999999", ty(SQL_TIMESTAMP)), ty(SQL_DATE))),
               "2024-03-10");
  CHECK_EQ_STR(ev(cast(c_typed("1969-12-31 23:00:00", ty(SQL_TIMESTAMP)), ty(SQL_DATE))),
               "1969-12-31");
  CHECK_EQ_STR(ev(cast(c_typed("2024-03-10", ty(SQL_DATE)), ty(SQL_TIMESTAMPTZ))),
               "2024-03-10 00:00:00+00");
  CHECK_EQ_STR(ev(cast(c_typed("2024-03-10 10:11:12", ty(SQL_TIMESTAMP)), ty(SQL_TIME))),
               "10:11:12");
}

static void test_interval_text(void) {
  const sql_type *iv = ty(SQL_INTERVAL);
  CHECK_EQ_STR(ev(c_typed("1 day", iv)), "1 day");
  CHECK_EQ_STR(ev(c_typed("2 hours", iv)), "02:00:00");
  CHECK_EQ_STR(ev(c_typed("1 year 2 mons 3 days 04:05:06", iv)), "1 year 2 mons 3 days 04:05:06");
  CHECK_EQ_STR(ev(c_typed("3 months", iv)), "3 mons");
  CHECK_EQ_STR(ev(c_typed("-1 day 2 hours", iv)), "-1 days +02:00:00");
  CHECK_EQ_STR(ev(c_typed("P1Y2M3DT4H5M6S", iv)), "1 year 2 mons 3 days 04:05:06");
  CHECK_EQ_STR(ev(c_typed("1.5 days", iv)), "1 day 12:00:00");
  CHECK_EQ_STR(ev(c_typed("90 minutes", iv)), "01:30:00");
  CHECK_EQ_STR(ev(c_typed("1 week", iv)), "7 days");
  CHECK_EQ_STR(ev(c_typed("1.5 years", iv)), "1 year 6 mons");
  CHECK_EQ_STR(ev(c_typed("@ 2 days ago", iv)), "-2 days");
  CHECK_EQ_STR(ev(c_typed("00:00:00.5", iv)), "00:00:00.5");
  CHECK_EQ_STR(ev(c_typed("0", iv)), "00:00:00");
  CHECK_EQ_STR(ev(c_typed("3 04:05:06", iv)), "3 days 04:05:06");
  CHECK_EQ_STR(ev(cast(c_text("1 fortnight"), iv)),
               "ERROR: invalid input syntax for type interval: \"1 fortnight\"");
}

static void test_other_casts(void) {
  const sql_type *u = ty(SQL_UUID);
  CHECK_EQ_STR(ev(c_typed("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", u)),
               "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  CHECK_EQ_STR(ev(c_typed("{a0eebc999c0b4ef8bb6d6bb9bd380a11}", u)),
               "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  CHECK_EQ_STR(ev(cast(c_text("a0ee"), u)), "ERROR: invalid input syntax for type uuid: \"a0ee\"");
  CHECK_EQ_STR(ev(c_typed("\\x0102ff", ty(SQL_BYTEA))), "\\x0102ff");
  CHECK_EQ_STR(ev(c_typed("ab", ty(SQL_BYTEA))), "\\x6162");
  const sql_type *il = sql_type_list(&A, ty(SQL_INT4));
  CHECK_EQ_STR(ev(c_typed("{1, 2,NULL}", il)), "{1,2,NULL}");
  const sql_type *tl = sql_type_list(&A, ty(SQL_TEXT));
  CHECK_EQ_STR(ev(c_typed("{\"a b\",c,\"\"}", tl)), "{\"a b\",c,\"\"}");
  const sql_type *ill = sql_type_list(&A, il);
  CHECK_EQ_STR(ev(c_typed("{{1,2},{3}}", ill)), "{{1,2},{3}}");
  CHECK_EQ_STR(ev(cast(c_text("{1,x}"), il)),
               "ERROR: invalid input syntax for type integer: \"x\"");
  CHECK_EQ_STR(ev(cast(c_typed("{1,2}", il), sql_type_list(&A, ty(SQL_TEXT)))), "{1,2}");
  CHECK_EQ_STR(ev(cast(c_typed("2024-01-02", ty(SQL_DATE)), ty(SQL_INT4))),
               "ERROR: cannot cast type date to integer");
}

/* ---- comparisons and logic ------------------------------------------------------------------- */

static void test_comparisons(void) {
  CHECK_EQ_STR(ev(fn("<", 2, c_text("abc"), c_text("abd"))), "t");
  CHECK_EQ_STR(ev(fn("<", 2, c_text("ab"), c_text("abc"))), "t");
  CHECK_EQ_STR(ev(fn("<", 2, c_text("B"), c_text("a"))), "t"); /* C collation */
  CHECK_EQ_STR(ev(fn("=", 2, c_dec("1.10"), c_dec("1.1"))), "t");
  CHECK_EQ_STR(ev(fn("=", 2, c_int(1), c_dec("1.0"))), "t");
  CHECK_EQ_STR(ev(fn("<", 2, c_int(1), c_f8(1.5))), "t");
  CHECK_EQ_STR(ev(fn("=", 2, c_f8(NAN), c_f8(NAN))), "t");
  CHECK_EQ_STR(ev(fn(">", 2, c_f8(NAN), c_f8(INFINITY))), "t");
  CHECK_EQ_STR(
      ev(fn("=", 2, c_typed("1 mon", ty(SQL_INTERVAL)), c_typed("30 days", ty(SQL_INTERVAL)))),
      "t");
  CHECK_EQ_STR(ev(fn("<", 2, c_typed("2024-01-01", ty(SQL_DATE)),
                     c_typed("2024-01-01 00:00:01", ty(SQL_TIMESTAMP)))),
               "t");
  CHECK_EQ_STR(ev(fn("=", 2, c_int(1), c_null(ty(SQL_INT4)))), "NULL");
  CHECK_EQ_STR(ev(fn("<>", 2, c_bool(true), c_bool(false))), "t");
  const sql_type *il = sql_type_list(&A, ty(SQL_INT4));
  CHECK_EQ_STR(ev(fn("<", 2, c_typed("{1,2}", il), c_typed("{1,2,0}", il))), "t");
  CHECK_EQ_STR(ev(fn("=", 2, c_typed("{1,NULL}", il), c_typed("{1,NULL}", il))), "t");
  CHECK_EQ_STR(ev(fn("=", 2, c_text("1"), c_int(1))),
               "RESOLVE: operator does not exist: text = integer");
  sql_expr *d = kind(SQL_E_IS_DISTINCT, ty(SQL_BOOL), 2, c_int(1), c_null(ty(SQL_INT4)));
  CHECK_EQ_STR(ev(d), "t");
  d = kind(SQL_E_IS_DISTINCT, ty(SQL_BOOL), 2, c_null(ty(SQL_INT4)), c_null(ty(SQL_INT4)));
  CHECK_EQ_STR(ev(d), "f");
  d->negated = true;
  CHECK_EQ_STR(ev(d), "t");
}

static void test_logic(void) {
  const sql_type *b = ty(SQL_BOOL);
  sql_expr *nb = c_null(b);
  CHECK_EQ_STR(ev(kind(SQL_E_AND, b, 2, c_bool(true), nb)), "NULL");
  CHECK_EQ_STR(ev(kind(SQL_E_AND, b, 2, c_bool(false), nb)), "f");
  CHECK_EQ_STR(ev(kind(SQL_E_AND, b, 2, nb, c_bool(false))), "f");
  CHECK_EQ_STR(ev(kind(SQL_E_OR, b, 2, nb, c_bool(true))), "t");
  CHECK_EQ_STR(ev(kind(SQL_E_OR, b, 3, c_bool(false), nb, c_bool(false))), "NULL");
  CHECK_EQ_STR(ev(kind(SQL_E_NOT, b, 1, nb)), "NULL");
  CHECK_EQ_STR(ev(kind(SQL_E_NOT, b, 1, c_bool(false))), "t");
  /* false AND (1/0 = 1): the right side is never evaluated */
  CHECK_EQ_STR(ev(kind(SQL_E_AND, b, 2, c_bool(false),
                       fn("=", 2, fn("/", 2, c_int(1), c_int(0)), c_int(1)))),
               "f");
  sql_expr *isn = kind(SQL_E_IS_NULL, b, 1, c_null(ty(SQL_INT4)));
  CHECK_EQ_STR(ev(isn), "t");
  isn->negated = true;
  CHECK_EQ_STR(ev(isn), "f");
}

static void test_case_coalesce(void) {
  const sql_type *i4 = ty(SQL_INT4);
  sql_expr *c = kind(SQL_E_CASE, i4, 3, fn("=", 2, c_int(1), c_int(2)), c_int(10), c_int(20));
  c->has_else = true;
  CHECK_EQ_STR(ev(c), "20");
  c = kind(SQL_E_CASE, i4, 2, fn("=", 2, c_int(1), c_int(2)), c_int(10));
  CHECK_EQ_STR(ev(c), "NULL");
  /* the THEN of a false WHEN never runs */
  c = kind(SQL_E_CASE, i4, 3, c_bool(false), fn("/", 2, c_int(1), c_int(0)), c_int(7));
  c->has_else = true;
  CHECK_EQ_STR(ev(c), "7");
  CHECK_EQ_STR(
      ev(kind(SQL_E_COALESCE, i4, 3, c_null(i4), c_int(2), fn("/", 2, c_int(1), c_int(0)))), "2");
  CHECK_EQ_STR(ev(kind(SQL_E_COALESCE, i4, 2, c_null(i4), c_null(i4))), "NULL");
  CHECK_EQ_STR(ev(kind(SQL_E_NULLIF, i4, 2, c_int(1), c_int(1))), "NULL");
  CHECK_EQ_STR(ev(kind(SQL_E_NULLIF, i4, 2, c_int(1), c_int(2))), "1");
  sql_expr *g = kind(SQL_E_GREATEST, i4, 3, c_int(1), c_null(i4), c_int(3));
  CHECK_EQ_STR(ev(g), "3");
  g->is_least = true;
  CHECK_EQ_STR(ev(g), "1");
  g = kind(SQL_E_GREATEST, ty(SQL_TEXT), 2, c_text("b"), c_text("ab"));
  CHECK_EQ_STR(ev(g), "b");
}

static void test_in_like(void) {
  const sql_type *b = ty(SQL_BOOL), *i4 = ty(SQL_INT4);
  CHECK_EQ_STR(ev(kind(SQL_E_IN_LIST, b, 4, c_int(3), c_int(1), c_int(2), c_int(3))), "t");
  CHECK_EQ_STR(ev(kind(SQL_E_IN_LIST, b, 4, c_int(4), c_int(1), c_int(2), c_null(i4))), "NULL");
  sql_expr *ni = kind(SQL_E_IN_LIST, b, 3, c_int(4), c_int(1), c_int(2));
  ni->negated = true;
  CHECK_EQ_STR(ev(ni), "t");
  ni = kind(SQL_E_IN_LIST, b, 3, c_int(4), c_int(1), c_null(i4));
  ni->negated = true;
  CHECK_EQ_STR(ev(ni), "NULL");
  CHECK_EQ_STR(ev(kind(SQL_E_IN_LIST, b, 2, c_null(i4), c_int(1))), "NULL");
  /* long lists go through a hash set */
  sql_expr *l =
      kind(SQL_E_IN_LIST, b, 11, c_text("kiwi"), c_text("a"), c_text("b"), c_text("c"), c_text("d"),
           c_text("e"), c_text("f"), c_text("g"), c_text("kiwi"), c_text("h"), c_text("i"));
  CHECK_EQ_STR(ev(l), "t");
  l->args[0] = c_text("plum");
  CHECK_EQ_STR(ev(l), "f");
  l->args[3] = c_null(ty(SQL_TEXT));
  CHECK_EQ_STR(ev(l), "NULL");

  struct {
    const char *s, *p;
    const char *want;
  } likes[] = {
      {"abc", "a%", "t"},
      {"abc", "%c", "t"},
      {"abc", "%b%", "t"},
      {"abc", "a_c", "t"},
      {"abc", "_", "f"},
      {"é", "_", "t"},
      {"abc", "abc", "t"},
      {"abc", "ab", "f"},
      {"abc", "%", "t"},
      {"", "%", "t"},
      {"a%c", "a\\%c", "t"},
      {"abc", "a\\%c", "f"},
      {"aXbXc", "a%b%c", "t"},
      {"abxd", "%b_d", "t"},
      {"abcbd", "%b_d", "f"},
      {"mississippi", "%iss%ppi", "t"},
      {"mississippi", "m%x%", "f"},
  };
  for (size_t k = 0; k < sizeof likes / sizeof *likes; k++) {
    sql_expr *e = kind(SQL_E_LIKE, b, 2, c_text(likes[k].s), c_text(likes[k].p));
    const char *got = ev(e);
    if (strcmp(got, likes[k].want) != 0)
      fprintf(stderr, "LIKE '%s' '%s' -> %s\n", likes[k].s, likes[k].p, got);
    CHECK_EQ_STR(got, likes[k].want);
  }
  sql_expr *il = kind(SQL_E_LIKE, b, 2, c_text("ABC"), c_text("a%c"));
  il->case_insensitive = true;
  CHECK_EQ_STR(ev(il), "t");
  il->negated = true;
  CHECK_EQ_STR(ev(il), "f");
  il = kind(SQL_E_LIKE, b, 2, c_text("ÉCOLE"), c_text("%cole"));
  il->case_insensitive = true;
  CHECK_EQ_STR(ev(il), "t");
  il->args[1] = c_text("e%");
  CHECK_EQ_STR(ev(il), "f");
  il->args[1] = c_text("éc_le");
  CHECK_EQ_STR(ev(il), "t");
  sql_expr *esc = kind(SQL_E_LIKE, b, 3, c_text("a_c"), c_text("a#_c"), c_text("#"));
  CHECK_EQ_STR(ev(esc), "t");
  esc = kind(SQL_E_LIKE, b, 3, c_text("abc"), c_text("a#_c"), c_text("#"));
  CHECK_EQ_STR(ev(esc), "f");
  CHECK_EQ_STR(ev(kind(SQL_E_LIKE, b, 2, c_null(ty(SQL_TEXT)), c_text("a"))), "NULL");
  CHECK_EQ_STR(ev(kind(SQL_E_LIKE, b, 2, c_text("a"), c_text("a\\"))), "f");
  CHECK_EQ_STR(ev(kind(SQL_E_LIKE, b, 2, c_text("ab"), c_text("a\\"))),
               "ERROR: LIKE pattern must not end with escape character");
}

/* ---- functions ------------------------------------------------------------------------------- */

static void test_math(void) {
  CHECK_EQ_STR(ev(fn("abs", 1, c_int(-5))), "5");
  CHECK_EQ_STR(ev(fn("abs", 1, c_dec("-1.50"))), "1.50");
  CHECK_EQ_STR(ev(fn("round", 1, c_dec("2.5"))), "3");
  CHECK_EQ_STR(ev(fn("round", 1, c_dec("-2.5"))), "-3");
  CHECK_EQ_STR(ev(fn("round", 1, c_f8(2.5))), "2");
  CHECK_EQ_STR(ev(fn("round", 2, c_dec("3.14159"), c_int(2))), "3.14");
  CHECK_EQ_STR(ev(fn("round", 2, c_dec("1234.5"), c_int(-2))), "1200");
  CHECK_EQ_STR(ev(fn("round", 2, c_dec("1.5"), c_int(3))), "1.500");
  CHECK_EQ_STR(ev(fn("trunc", 2, c_dec("-3.789"), c_int(1))), "-3.7");
  CHECK_EQ_STR(ev(fn("ceil", 1, c_dec("-1.5"))), "-1");
  CHECK_EQ_STR(ev(fn("floor", 1, c_dec("-1.5"))), "-2");
  CHECK_EQ_STR(ev(fn("ceil", 1, c_f8(1.2))), "2");
  CHECK_EQ_STR(type_of(fn("round", 1, c_int(1))), "double precision");
  CHECK_EQ_STR(ev(fn("sqrt", 1, c_int(16))), "4");
  CHECK_EQ_STR(ev(fn("sqrt", 1, c_int(-1))), "ERROR: cannot take square root of a negative number");
  CHECK_EQ_STR(ev(fn("power", 2, c_int(2), c_int(10))), "1024");
  CHECK_EQ_STR(ev(fn("^", 2, c_int(2), c_int(3))), "8");
  CHECK_EQ_STR(ev(fn("ln", 1, c_f8(0))), "ERROR: cannot take logarithm of zero");
  CHECK_EQ_STR(ev(fn("log", 1, c_f8(1000))), "3");
  CHECK_EQ_STR(ev(fn("log", 2, c_int(2), c_int(8))), "3.0000000000000000");
  CHECK_EQ_STR(ev(fn("mod", 2, c_int(10), c_int(3))), "1");
  CHECK_EQ_STR(ev(fn("sign", 1, c_dec("-4.2"))), "-1");
  CHECK_EQ_STR(ev(fn("cbrt", 1, c_f8(8))), "2");
  CHECK_EQ_STR(ev(fn("degrees", 1, fn("pi", 0))), "180");
  CHECK_EQ_STR(ev(fn("gcd", 2, c_int(12), c_int(18))), "6");
  CHECK_EQ_STR(ev(fn("sqrt", 1, c_dec("2.0"))), "1.4142135623730951");
  sql_expr *r = fn("random", 0);
  const char *rv = ev(r);
  CHECK(rv[0] == '0' && rv[1] == '.');
}

static void test_strings(void) {
  CHECK_EQ_STR(ev(fn("length", 1, c_text("héllo"))), "5");
  CHECK_EQ_STR(ev(fn("octet_length", 1, c_text("héllo"))), "6");
  CHECK_EQ_STR(ev(fn("upper", 1, c_text("héllo"))), "HÉLLO");
  CHECK_EQ_STR(ev(fn("lower", 1, c_text("ÀB"))), "àb");
  CHECK_EQ_STR(ev(fn("initcap", 1, c_text("hello wORLD-x"))), "Hello World-X");
  CHECK_EQ_STR(ev(fn("substr", 3, c_text("hello"), c_int(2), c_int(3))), "ell");
  CHECK_EQ_STR(ev(fn("substring", 3, c_text("hello"), c_int(0), c_int(3))), "he");
  CHECK_EQ_STR(ev(fn("substr", 2, c_text("héllo"), c_int(2))), "éllo");
  CHECK_EQ_STR(ev(fn("substr", 3, c_text("hello"), c_int(1), c_int(-1))),
               "ERROR: negative substring length not allowed");
  CHECK_EQ_STR(ev(fn("left", 2, c_text("hello"), c_int(-2))), "hel");
  CHECK_EQ_STR(ev(fn("right", 2, c_text("hello"), c_int(2))), "lo");
  CHECK_EQ_STR(ev(fn("right", 2, c_text("hello"), c_int(-2))), "llo");
  CHECK_EQ_STR(ev(fn("strpos", 2, c_text("héllo"), c_text("ll"))), "3");
  CHECK_EQ_STR(ev(fn("position", 2, c_text("hello"), c_text("z"))), "0");
  CHECK_EQ_STR(ev(fn("replace", 3, c_text("abcabc"), c_text("bc"), c_text("X"))), "aXaX");
  CHECK_EQ_STR(ev(fn("translate", 3, c_text("12345"), c_text("143"), c_text("ax"))), "a2x5");
  CHECK_EQ_STR(ev(fn("trim", 1, c_text("  x y  "))), "x y");
  CHECK_EQ_STR(ev(fn("btrim", 2, c_text("xxhixyx"), c_text("xy"))), "hi");
  CHECK_EQ_STR(ev(fn("ltrim", 1, c_text("  x "))), "x ");
  CHECK_EQ_STR(ev(fn("rtrim", 2, c_text("testxxzx"), c_text("xyz"))), "test");
  CHECK_EQ_STR(ev(fn("lpad", 3, c_text("hi"), c_int(5), c_text("xy"))), "xyxhi");
  CHECK_EQ_STR(ev(fn("lpad", 2, c_text("hello"), c_int(3))), "hel");
  CHECK_EQ_STR(ev(fn("rpad", 2, c_text("hi"), c_int(5))), "hi   ");
  CHECK_EQ_STR(ev(fn("repeat", 2, c_text("ab"), c_int(3))), "ababab");
  CHECK_EQ_STR(ev(fn("reverse", 1, c_text("héllo"))), "olléh");
  CHECK_EQ_STR(ev(fn("split_part", 3, c_text("a,b,c"), c_text(","), c_int(2))), "b");
  CHECK_EQ_STR(ev(fn("split_part", 3, c_text("a,b,c"), c_text(","), c_int(-1))), "c");
  CHECK_EQ_STR(ev(fn("split_part", 3, c_text("a,b,c"), c_text(","), c_int(4))), "");
  CHECK_EQ_STR(ev(fn("split_part", 3, c_text("a,b"), c_text(","), c_int(0))),
               "ERROR: field position must not be zero");
  CHECK_EQ_STR(ev(fn("concat", 3, c_text("a"), c_null(ty(SQL_TEXT)), c_int(1))), "a1");
  CHECK_EQ_STR(ev(fn("concat_ws", 4, c_text(","), c_text("a"), c_null(ty(SQL_TEXT)), c_text("b"))),
               "a,b");
  CHECK_EQ_STR(ev(fn("concat_ws", 2, c_null(ty(SQL_TEXT)), c_text("a"))), "NULL");
  CHECK_EQ_STR(ev(fn("||", 2, c_text("a"), c_text("b"))), "ab");
  CHECK_EQ_STR(ev(fn("||", 2, c_text("n="), c_int(5))), "n=5");
  CHECK_EQ_STR(ev(fn("||", 2, c_text("a"), c_null(ty(SQL_TEXT)))), "NULL");
  CHECK_EQ_STR(ev(fn("md5", 1, c_text("abc"))), "900150983cd24fb0d6963f7d28e17f72");
  CHECK_EQ_STR(ev(fn("ascii", 1, c_text("A"))), "65");
  CHECK_EQ_STR(ev(fn("chr", 1, c_int(233))), "é");
  CHECK_EQ_STR(ev(fn("to_hex", 1, c_int(-1))), "ffffffff");
  CHECK_EQ_STR(ev(fn("to_hex", 1, c_i8(255))), "ff");
  CHECK_EQ_STR(ev(fn("starts_with", 2, c_text("hello"), c_text("he"))), "t");
  CHECK_EQ_STR(ev(fn("~", 2, c_text("abc"), c_text("^a.c$"))), "t");
  CHECK_EQ_STR(ev(fn("~*", 2, c_text("ABC"), c_text("^a"))), "t");
  CHECK_EQ_STR(ev(fn("!~", 2, c_text("abc"), c_text("\\d"))), "t");
  CHECK_EQ_STR(ev(fn("regexp_replace", 3, c_text("abc123def45"), c_text("\\d+"), c_text("#"))),
               "abc#def45");
  CHECK_EQ_STR(ev(fn("regexp_replace", 4, c_text("abc123def45"), c_text("[\\d]+"), c_text("#"),
                     c_text("g"))),
               "abc#def#");
  CHECK_EQ_STR(ev(fn("regexp_replace", 4, c_text("foobarbaz"), c_text("b(..)"), c_text("X\\1Y"),
                     c_text("g"))),
               "fooXarYXazY");
  CHECK(strncmp(ev(fn("regexp_replace", 3, c_text("abc"), c_text("("), c_text(""))),
                "ERROR: invalid regular expression: ", 35) == 0);
  CHECK_EQ_STR(ev(fn("substring", 2, c_text("foobar"), c_text("o(b.)"))), "ba");
  CHECK_EQ_STR(ev(fn("encode", 2, c_typed("abc", ty(SQL_BYTEA)), c_text("base64"))), "YWJj");
  CHECK_EQ_STR(ev(fn("decode", 2, c_text("YWJj"), c_text("base64"))), "\\x616263");
  CHECK_EQ_STR(ev(fn("upper", 1, c_int(1))), "RESOLVE: function upper(integer) does not exist");
  CHECK_EQ_STR(ev(fn("foo", 2, c_int(1), c_text("x"))),
               "RESOLVE: function foo(integer, text) does not exist");
}

static void test_datetime(void) {
  const sql_type *d = ty(SQL_DATE), *ts = ty(SQL_TIMESTAMP), *iv = ty(SQL_INTERVAL);
  CHECK_EQ_STR(ev(fn("+", 2, c_typed("2024-01-31", d), c_int(1))), "2024-02-01");
  CHECK_EQ_STR(ev(fn("-", 2, c_typed("2024-03-01", d), c_typed("2024-02-01", d))), "29");
  CHECK_EQ_STR(ev(fn("-", 2, c_typed("2024-03-01", d), c_int(1))), "2024-02-29");
  CHECK_EQ_STR(ev(fn("+", 2, c_typed("2024-01-31", d), c_typed("1 month", iv))),
               "2024-02-29 00:00:00");
  CHECK_EQ_STR(ev(fn("-", 2, c_typed("2024-03-31", d), c_typed("1 month", iv))),
               "2024-02-29 00:00:00");
  CHECK_EQ_STR(ev(fn("+", 2, c_typed("2024-01-01 10:00", ts), c_typed("1 day 2 hours", iv))),
               "2024-01-02 12:00:00");
  CHECK_EQ_STR(ev(fn("-", 2, c_typed("2024-01-03 01:00", ts), c_typed("2024-01-01", ts))),
               "2 days 01:00:00");
  CHECK_EQ_STR(ev(fn("+", 2, c_typed("1 day", iv), c_typed("2 hours", iv))), "1 day 02:00:00");
  CHECK_EQ_STR(ev(fn("*", 2, c_typed("1 day", iv), c_f8(1.5))), "1 day 12:00:00");
  CHECK_EQ_STR(ev(fn("*", 2, c_typed("1 mon", iv), c_int(2))), "2 mons");
  CHECK_EQ_STR(ev(fn("/", 2, c_typed("1 day", iv), c_int(2))), "12:00:00");
  CHECK_EQ_STR(ev(fn("-", 1, c_typed("1 day", iv))), "-1 days");
  CHECK_EQ_STR(ev(fn("+", 2, c_typed("2024-01-01", d), c_text("x"))),
               "RESOLVE: operator does not exist: date + text");
  /* extract (numeric, PostgreSQL 15) and date_part (double) */
  sql_expr *t0 = c_typed("2024-03-10 04:05:06.5", ts);
  CHECK_EQ_STR(ev(fn("extract", 2, c_text("year"), t0)), "2024");
  CHECK_EQ_STR(type_of(fn("extract", 2, c_text("year"), t0)), "numeric(38,0)");
  CHECK_EQ_STR(ev(fn("extract", 2, c_text("second"), t0)), "6.500000");
  CHECK_EQ_STR(ev(fn("extract", 2, c_text("milliseconds"), t0)), "6500.000");
  CHECK_EQ_STR(ev(fn("extract", 2, c_text("epoch"), c_typed("1970-01-02", ts))), "86400.000000");
  CHECK_EQ_STR(ev(fn("extract", 2, c_text("dow"), c_typed("2024-03-10", d))), "0");
  CHECK_EQ_STR(ev(fn("extract", 2, c_text("isodow"), c_typed("2024-03-10", d))), "7");
  CHECK_EQ_STR(ev(fn("extract", 2, c_text("doy"), c_typed("2024-03-10", d))), "70");
  CHECK_EQ_STR(ev(fn("extract", 2, c_text("week"), c_typed("2024-12-30", d))), "1");
  CHECK_EQ_STR(ev(fn("extract", 2, c_text("isoyear"), c_typed("2024-12-30", d))), "2025");
  CHECK_EQ_STR(ev(fn("extract", 2, c_text("quarter"), c_typed("2024-08-30", d))), "3");
  CHECK_EQ_STR(ev(fn("extract", 2, c_text("century"), c_typed("2000-12-31", d))), "20");
  CHECK_EQ_STR(ev(fn("extract", 2, c_text("century"), c_typed("2001-01-01", d))), "21");
  CHECK_EQ_STR(ev(fn("extract", 2, c_text("hour"), c_typed("2024-03-10", d))),
               "ERROR: unit \"hour\" not supported for type date");
  CHECK_EQ_STR(ev(fn("extract", 2, c_text("year"), c_typed("0001-06-01 BC", d))), "-1");
  CHECK_EQ_STR(ev(fn("extract", 2, c_text("hour"), c_typed("1 day 25:00:00", iv))), "25");
  CHECK_EQ_STR(ev(fn("extract", 2, c_text("epoch"), c_typed("1 day", iv))), "86400.000000");
  CHECK_EQ_STR(ev(fn("date_part", 2, c_text("second"), t0)), "6.5");
  CHECK_EQ_STR(ev(fn("date_part", 2, c_text("month"), c_typed("2024-03-10", d))), "3");
  CHECK_EQ_STR(ev(fn("date_part", 2, c_text("fortnight"), t0)),
               "ERROR: unit \"fortnight\" not recognized for type timestamp without time zone");
  /* date_trunc */
  CHECK_EQ_STR(ev(fn("date_trunc", 2, c_text("month"), t0)), "2024-03-01 00:00:00");
  CHECK_EQ_STR(ev(fn("date_trunc", 2, c_text("week"), t0)), "2024-03-04 00:00:00");
  CHECK_EQ_STR(ev(fn("date_trunc", 2, c_text("hour"), t0)), "2024-03-10 04:00:00");
  CHECK_EQ_STR(ev(fn("date_trunc", 2, c_text("quarter"), t0)), "2024-01-01 00:00:00");
  CHECK_EQ_STR(ev(fn("date_trunc", 2, c_text("decade"), t0)), "2020-01-01 00:00:00");
  CHECK_EQ_STR(ev(fn("date_trunc", 2, c_text("century"), t0)), "2001-01-01 00:00:00");
  CHECK_EQ_STR(ev(fn("date_trunc", 2, c_text("month"), c_typed("2024-03-10", d))),
               "2024-03-01 00:00:00+00");
  CHECK_EQ_STR(ev(fn("date_trunc", 2, c_text("hour"), c_typed("1 day 02:30:00", iv))),
               "1 day 02:00:00");
  /* constructors and conversions */
  CHECK_EQ_STR(ev(fn("make_date", 3, c_int(2024), c_int(2), c_int(29))), "2024-02-29");
  CHECK_EQ_STR(ev(fn("make_date", 3, c_int(2023), c_int(2), c_int(29))),
               "ERROR: date field value out of range: 2023-02-29");
  CHECK_EQ_STR(
      ev(fn("make_timestamp", 6, c_int(2024), c_int(1), c_int(2), c_int(3), c_int(4), c_f8(5.5))),
      "2024-01-02 03:04:05.5");
  CHECK_EQ_STR(ev(fn("to_timestamp", 1, c_f8(0))), "1970-01-01 00:00:00+00");
  CHECK_EQ_STR(ev(fn("to_timestamp", 1, c_f8(1.5))), "1970-01-01 00:00:01.5+00");
  CHECK_EQ_STR(ev(fn("to_date", 2, c_text("2024-01-02"), c_text("YYYY-MM-DD"))), "2024-01-02");
  CHECK_EQ_STR(ev(fn("to_date", 2, c_text("05 Mar 2024"), c_text("DD Mon YYYY"))), "2024-03-05");
  CHECK_EQ_STR(
      ev(fn("to_timestamp", 2, c_text("2024-01-02 13:04:05"), c_text("YYYY-MM-DD HH24:MI:SS"))),
      "2024-01-02 13:04:05+00");
  CHECK_EQ_STR(
      ev(fn("to_timestamp", 2, c_text("01/02/2024 1:04 PM"), c_text("MM/DD/YYYY HH:MI AM"))),
      "2024-01-02 13:04:00+00");
  CHECK_EQ_STR(ev(fn("to_char", 2, t0, c_text("YYYY-MM-DD HH24:MI:SS.MS"))),
               "2024-03-10 04:05:06.500");
  CHECK_EQ_STR(ev(fn("to_char", 2, t0, c_text("Dy, DD Mon YYYY HH12:MI AM"))),
               "Sun, 10 Mar 2024 04:05 AM");
  CHECK_EQ_STR(ev(fn("to_char", 2, t0, c_text("FMMonth FMDDth, YYYY"))), "March 10th, 2024");
  CHECK_EQ_STR(ev(fn("to_char", 2, t0, c_text("Month|Day|\"Q\"Q"))), "March    |Sunday   |Q1");
  CHECK_EQ_STR(ev(fn("to_char", 2, c_dec("1234.5"), c_text("FM9,999.00"))), "1,234.50");
  CHECK_EQ_STR(ev(fn("to_char", 2, c_int(-12), c_text("999"))), " -12");
  CHECK_EQ_STR(ev(fn("to_char", 2, c_int(12), c_text("0000"))), " 0012");
  CHECK_EQ_STR(ev(fn("to_char", 2, c_f8(3.14159), c_text("9.99"))), " 3.14");
  CHECK_EQ_STR(ev(fn("to_char", 2, c_int(12345), c_text("999"))), " ###");
  CHECK_EQ_STR(ev(fn("age", 2, c_typed("2024-03-01", ts), c_typed("2024-01-31", ts))),
               "1 mon 1 day");
  CHECK_EQ_STR(ev(fn("age", 2, c_typed("2001-04-10", ts), c_typed("1957-06-13", ts))),
               "43 years 9 mons 27 days");
  CHECK_EQ_STR(ev(fn("justify_hours", 1, c_typed("27 hours", iv))), "1 day 03:00:00");
  CHECK_EQ_STR(ev(fn("justify_days", 1, c_typed("35 days", iv))), "1 mon 5 days");
  CHECK_EQ_STR(ev(fn("justify_interval", 1, c_typed("1 mon -1 hour", iv))), "29 days 23:00:00");
  /* checked against PostgreSQL 15: interval / and * round month fractions to microseconds */
  CHECK_EQ_STR(ev(fn("/", 2, c_typed("1 year", iv), c_int(7))), "1 mon 21 days 10:17:08.5344");
  CHECK_EQ_STR(ev(fn("*", 2, c_typed("1 mon", iv), c_dec("0.5"))), "15 days");
  CHECK_EQ_STR(ev(fn("to_char", 2, c_int(-5), c_text("S999"))), "  -5");
  CHECK_EQ_STR(ev(fn("to_char", 2, c_int(-5), c_text("999PR"))), "  <5>");
  CHECK_EQ_STR(ev(fn("to_char", 2, c_int(1), c_text("PL9"))), "+ 1");
  CHECK_EQ_STR(ev(fn("to_char", 2, c_int(1), c_text("9SG"))), "1+");
  CHECK_EQ_STR(ev(fn("to_char", 2, c_int(22), c_text("FM99TH"))), "22ND");
  CHECK_EQ_STR(ev(fn("to_char", 2, c_dec("-1234.567"), c_text("9,999.99"))), "-1,234.57");
  CHECK_EQ_STR(ev(fn("to_date", 2, c_text("20240315"), c_text("YYYYMMDD"))), "2024-03-15");
  /* now() is the statement time */
  CHECK_EQ_STR(ev(fn("now", 0)), "2024-05-06 07:08:09+00");
  CHECK_EQ_STR(ev(fn("current_date", 0)), "2024-05-06");
}

static void test_lists(void) {
  const sql_type *i4 = ty(SQL_INT4), *il = sql_type_list(&A, i4);
  sql_expr *arr = kind(SQL_E_ARRAY, il, 3, c_int(1), c_int(2), c_int(3));
  CHECK_EQ_STR(ev(arr), "{1,2,3}");
  CHECK_EQ_STR(ev(kind(SQL_E_SUBSCRIPT, i4, 2, arr, c_int(2))), "2");
  CHECK_EQ_STR(ev(kind(SQL_E_SUBSCRIPT, i4, 2, arr, c_int(4))), "NULL");
  CHECK_EQ_STR(ev(fn("cardinality", 1, arr)), "3");
  CHECK_EQ_STR(ev(fn("array_length", 2, c_typed("{}", il), c_int(1))), "NULL");
  CHECK_EQ_STR(ev(fn("array_to_string", 2, c_typed("{1,NULL,3}", il), c_text("-"))), "1-3");
  CHECK_EQ_STR(ev(fn("array_to_string", 3, c_typed("{1,NULL,3}", il), c_text("-"), c_text("*"))),
               "1-*-3");
  CHECK_EQ_STR(ev(fn("array_position", 2, c_typed("{5,6,7}", il), c_int(7))), "3");
  CHECK_EQ_STR(ev(fn("||", 2, c_typed("{1,2}", il), c_typed("{3}", il))), "{1,2,3}");
  CHECK_EQ_STR(ev(fn("||", 2, c_typed("{1,2}", il), c_int(3))), "{1,2,3}");
  CHECK_EQ_STR(ev(fn("||", 2, c_int(0), c_typed("{1}", il))), "{0,1}");
  CHECK_EQ_STR(ev(fn("string_to_array", 2, c_text("a,b,,c"), c_text(","))), "{a,b,\"\",c}");
  sql_field fs[2] = {{"a", i4}, {"b", ty(SQL_TEXT)}};
  const sql_type *st = sql_type_struct(&A, fs, 2);
  sql_expr *row = kind(SQL_E_ROW, st, 2, c_int(7), c_text("x y"));
  CHECK_EQ_STR(ev(row), "(7,\"x y\")");
  sql_expr *fld = kind(SQL_E_STRUCT_FIELD, ty(SQL_TEXT), 1, row);
  fld->field_index = 1;
  CHECK_EQ_STR(ev(fld), "x y");
  CHECK_EQ_STR(ev(fn("=", 2, row, kind(SQL_E_ROW, st, 2, c_int(7), c_text("x y")))), "t");

  /* a map(text, integer) value {a=1, b=2}: key lookup by subscript */
  const sql_type *mt = sql_type_map(&A, ty(SQL_TEXT), i4);
  sql_vec *mv = sql_mem_alloc(M, 1, sizeof *mv);
  tarn_error err = {0};
  sql_vec_init(M, mv, mt, 1, &err);
  sql_vec *kv = mv->child;
  sql_vec_init(M, kv, mt->elem, 2, &err);
  SQL_VEC_STR(&kv->child[0])[0] = (sql_str){"a", 1};
  SQL_VEC_STR(&kv->child[0])[1] = (sql_str){"b", 1};
  SQL_VEC_I64(&kv->child[1])[0] = 1;
  SQL_VEC_I64(&kv->child[1])[1] = 2;
  mv->offsets[0] = 0;
  mv->offsets[1] = 2;
  sql_expr *mc = node(SQL_E_CONST, mt);
  mc->value.type = mt;
  mc->value.nested = mv;
  CHECK_EQ_STR(ev(mc), "{a=1, b=2}");
  CHECK_EQ_STR(ev(kind(SQL_E_SUBSCRIPT, i4, 2, mc, c_text("b"))), "2");
  CHECK_EQ_STR(ev(kind(SQL_E_SUBSCRIPT, i4, 2, mc, c_text("z"))), "NULL");
  /* GREATEST of lists, CASE choosing lists */
  sql_expr *g = kind(SQL_E_GREATEST, il, 2, c_typed("{1,2}", il), c_typed("{1,3}", il));
  CHECK_EQ_STR(ev(g), "{1,3}");
}

/* ---- batches --------------------------------------------------------------------------------- */

/* A batch with column 0 = x (int4, rows 0..9, row 5 NULL, rows 3 and 6 zero), column 1 = s
 * (text). */
static sql_batch *make_batch(void) {
  sql_batch *b;
  tarn_error err = {0};
  sql_batch_new(2, 10, &b, &err);
  sql_vec_init(b->mem, &b->cols[0], ty(SQL_INT4), 10, &err);
  sql_vec_init(b->mem, &b->cols[1], ty(SQL_TEXT), 10, &err);
  static const int64_t xs[10] = {0, 1, 2, 0, 4, 99, 0, 7, 8, 9};
  static const char *ss[10] = {"apple", "banana", "cherry",  "date", "elder",
                               "fig",   "grape",  "apricot", "kiwi", "lime"};
  for (int i = 0; i < 10; i++) {
    SQL_VEC_I64(&b->cols[0])[i] = xs[i];
    SQL_VEC_STR(&b->cols[1])[i] = (sql_str){ss[i], strlen(ss[i])};
  }
  sql_vec_nulls(b->mem, &b->cols[0])[5] = 1;
  return b;
}

static void vec_text(const sql_vec *v, uint32_t i, char *buf, size_t cap) {
  sql_value val;
  sql_vec_get(v, i, &val);
  sql_value_text(&val, buf, cap);
}

static void join_vec(const sql_vec *v, char *out, size_t cap) {
  size_t len = 0;
  out[0] = '\0';
  for (uint32_t i = 0; i < v->n; i++) {
    char t[64];
    vec_text(v, i, t, sizeof t);
    len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? "," : "", t);
  }
}

static void test_batch_eval(void) {
  sql_batch *b = make_batch();
  const sql_type *i4 = ty(SQL_INT4), *bt = ty(SQL_BOOL);
  sql_expr *x = col(0, i4);
  char buf[512];
  sql_vec out;

  /* CASE WHEN x = 0 THEN -1 ELSE 100 / x END: no division by zero */
  sql_expr *c =
      kind(SQL_E_CASE, i4, 3, fn("=", 2, x, c_int(0)), c_int(-1), fn("/", 2, x, c_int(100)));
  c->args[2] = fn("/", 2, c_int(100), x);
  c->has_else = true;
  tarn_err_clear(&ERR);
  CHECK_EQ_INT(sql_expr_eval(&CTX, c, b, &out), 0);
  join_vec(&out, buf, sizeof buf);
  CHECK_EQ_STR(buf, "-1,100,50,-1,25,NULL,-1,14,12,11");

  /* x <> 0 AND 10 / x > 2 */
  sql_expr *a = kind(SQL_E_AND, bt, 2, fn("<>", 2, x, c_int(0)),
                     fn(">", 2, fn("/", 2, c_int(10), x), c_int(2)));
  CHECK_EQ_INT(sql_expr_eval(&CTX, a, b, &out), 0);
  join_vec(&out, buf, sizeof buf);
  CHECK_EQ_STR(buf, "f,t,t,f,f,NULL,f,f,f,f");
  /* without the guard the division fails */
  CHECK(sql_expr_eval(&CTX, fn("/", 2, c_int(10), x), b, &out) != 0);
  CHECK_EQ_STR(ERR.message, "division by zero");
  tarn_err_clear(&ERR);

  /* COALESCE(x, -1) + 1 and arithmetic with a column on both sides */
  sql_expr *co = fn("+", 2, kind(SQL_E_COALESCE, i4, 2, x, c_int(-1)), c_int(1));
  CHECK_EQ_INT(sql_expr_eval(&CTX, co, b, &out), 0);
  join_vec(&out, buf, sizeof buf);
  CHECK_EQ_STR(buf, "1,2,3,1,5,0,1,8,9,10");
  CHECK_EQ_INT(sql_expr_eval(&CTX, fn("*", 2, x, x), b, &out), 0);
  join_vec(&out, buf, sizeof buf);
  CHECK_EQ_STR(buf, "0,1,4,0,16,NULL,0,49,64,81");

  /* x IN (1, 2, NULL) over rows */
  sql_expr *in = kind(SQL_E_IN_LIST, bt, 4, x, c_int(1), c_int(2), c_null(i4));
  CHECK_EQ_INT(sql_expr_eval(&CTX, in, b, &out), 0);
  join_vec(&out, buf, sizeof buf);
  CHECK_EQ_STR(buf, "NULL,t,t,NULL,NULL,NULL,NULL,NULL,NULL,NULL");

  /* LIKE over a text column */
  sql_expr *lk = kind(SQL_E_LIKE, bt, 2, col(1, ty(SQL_TEXT)), c_text("%p%"));
  CHECK_EQ_INT(sql_expr_eval(&CTX, lk, b, &out), 0);
  join_vec(&out, buf, sizeof buf);
  CHECK_EQ_STR(buf, "t,f,f,f,f,f,t,t,f,f");

  /* upper over a column, a constant broadcast by sql_expr_eval */
  CHECK_EQ_INT(sql_expr_eval(&CTX, fn("upper", 1, col(1, ty(SQL_TEXT))), b, &out), 0);
  vec_text(&out, 7, buf, sizeof buf);
  CHECK_EQ_STR(buf, "APRICOT");
  CHECK_EQ_INT(sql_expr_eval(&CTX, c_int(5), b, &out), 0);
  CHECK_EQ_INT(out.n, 10);

  /* CASE with list results assembled row by row */
  const sql_type *il = sql_type_list(&A, i4);
  sql_expr *cl = kind(SQL_E_CASE, il, 3, fn(">", 2, x, c_int(4)),
                      kind(SQL_E_ARRAY, il, 2, x, c_int(0)), c_typed("{}", il));
  cl->has_else = true;
  CHECK_EQ_INT(sql_expr_eval(&CTX, cl, b, &out), 0);
  join_vec(&out, buf, sizeof buf);
  CHECK_EQ_STR(buf, "{},{},{},{},{},{},{},{7,0},{8,0},{9,0}");
  sql_batch_free(b);
}

static void test_select(void) {
  sql_batch *b = make_batch();
  const sql_type *i4 = ty(SQL_INT4), *bt = ty(SQL_BOOL);
  sql_expr *x = col(0, i4);
  uint32_t sel[10], n = 0;
  char buf[128];
#define SEL_STR()                                                                                  \
  do {                                                                                             \
    size_t l_ = 0;                                                                                 \
    buf[0] = '\0';                                                                                 \
    for (uint32_t k_ = 0; k_ < n; k_++)                                                            \
      l_ += (size_t)snprintf(buf + l_, sizeof buf - l_, "%s%u", k_ ? "," : "", sel[k_]);           \
  } while (0)
  CHECK_EQ_INT(sql_expr_select(&CTX, fn(">", 2, x, c_int(3)), b, sel, &n), 0);
  SEL_STR();
  CHECK_EQ_STR(buf, "4,7,8,9");
  sql_expr *rng = kind(SQL_E_AND, bt, 2, fn(">=", 2, x, c_int(1)), fn("<", 2, c_int(8), x));
  rng->args[1] = fn("<", 2, x, c_int(8));
  CHECK_EQ_INT(sql_expr_select(&CTX, rng, b, sel, &n), 0);
  SEL_STR();
  CHECK_EQ_STR(buf, "1,2,4,7");
  /* constant on the left: 3 < x */
  CHECK_EQ_INT(sql_expr_select(&CTX, fn("<", 2, c_int(3), x), b, sel, &n), 0);
  SEL_STR();
  CHECK_EQ_STR(buf, "4,7,8,9");
  /* x compared with a bigint: the binder casts the column */
  CHECK_EQ_INT(sql_expr_select(&CTX, fn("=", 2, x, c_i8(0)), b, sel, &n), 0);
  SEL_STR();
  CHECK_EQ_STR(buf, "0,3,6");
  sql_expr *o = kind(SQL_E_OR, bt, 2, fn("=", 2, x, c_int(9)),
                     kind(SQL_E_LIKE, bt, 2, col(1, ty(SQL_TEXT)), c_text("a%")));
  CHECK_EQ_INT(sql_expr_select(&CTX, o, b, sel, &n), 0);
  SEL_STR();
  CHECK_EQ_STR(buf, "0,7,9");
  sql_expr *isn = kind(SQL_E_IS_NULL, bt, 1, x);
  CHECK_EQ_INT(sql_expr_select(&CTX, isn, b, sel, &n), 0);
  SEL_STR();
  CHECK_EQ_STR(buf, "5");
  /* guarded division inside a selection */
  sql_expr *g = kind(SQL_E_AND, bt, 2, fn("<>", 2, x, c_int(0)),
                     fn("=", 2, fn("%", 2, c_int(8), x), c_int(0)));
  CHECK_EQ_INT(sql_expr_select(&CTX, g, b, sel, &n), 0);
  SEL_STR();
  CHECK_EQ_STR(buf, "1,2,4,8");
  CHECK_EQ_INT(sql_expr_select(&CTX, c_bool(false), b, sel, &n), 0);
  CHECK_EQ_INT(n, 0);
  sql_batch_free(b);
#undef SEL_STR
}

/* ---- subqueries ------------------------------------------------------------------------------ */

/* A fake executor: plan pointers are small integers naming canned results. */
static _Atomic int sub_calls;

static int fake_run(sql_eval_ctx *ctx, sql_plan *plan, sql_batch **out) {
  (void)ctx;
  sub_calls++;
  intptr_t which = (intptr_t)plan->est_rows;
  tarn_error err = {0};
  int64_t vals[4];
  int n = 0;
  bool null_row = false;
  switch (which) {
  case 1: vals[n++] = 42; break;                                               /* one row */
  case 2: vals[n++] = 1, vals[n++] = 2; break;                                 /* two rows */
  case 3: break;                                                               /* none */
  case 4: vals[n++] = 1, vals[n++] = 2, vals[n++] = 0, null_row = true; break; /* 1,2,NULL */
  case 5: {
    /* correlated: the outer row's x doubled */
    const sql_batch *o = ctx->outer;
    vals[n++] = SQL_VEC_I64(&o->cols[0])[ctx->outer_row] * 2;
    break;
  }
  default: break;
  }
  sql_batch_new(1, (uint32_t)n, out, &err);
  sql_vec_init((*out)->mem, &(*out)->cols[0], ty(SQL_INT4), (uint32_t)n, &err);
  for (int i = 0; i < n; i++)
    SQL_VEC_I64(&(*out)->cols[0])[i] = vals[i];
  if (null_row) sql_vec_nulls((*out)->mem, &(*out)->cols[0])[n - 1] = 1;
  return 0;
}

static sql_expr *subqs[64];
static size_t n_subqs;

static sql_expr *subq(sql_subquery_kind k, intptr_t which, const sql_type *t) {
  sql_expr *e = node(SQL_E_SUBQUERY, t);
  if (n_subqs < 64) subqs[n_subqs++] = e;
  e->sub_kind = k;
  e->subquery = tarn_arena_calloc(&A, 1, sizeof *e->subquery);
  e->subquery->est_rows = (double)which;
  return e;
}

static void test_subqueries(void) {
  const sql_type *i4 = ty(SQL_INT4), *bt = ty(SQL_BOOL);
  CTX.run_subquery = fake_run;
  sql_expr *s = subq(SQL_SUB_SCALAR, 1, i4);
  sub_calls = 0;
  CHECK_EQ_STR(ev(fn("+", 2, s, c_int(1))), "43");
  CHECK_EQ_STR(ev(s), "42");
  CHECK_EQ_INT(sub_calls, 1); /* cached */
  sql_expr_free_cache(s);
  CHECK_EQ_STR(ev(subq(SQL_SUB_SCALAR, 2, i4)),
               "ERROR: more than one row returned by a subquery used as an expression");
  CHECK_EQ_STR(ev(subq(SQL_SUB_SCALAR, 3, i4)), "NULL");
  CHECK_EQ_STR(ev(subq(SQL_SUB_EXISTS, 3, bt)), "f");
  CHECK_EQ_STR(ev(subq(SQL_SUB_EXISTS, 2, bt)), "t");
  sql_expr *in = subq(SQL_SUB_IN, 4, bt);
  with_args(in, 1, (sql_expr *[]){c_int(2)});
  CHECK_EQ_STR(ev(in), "t");
  in = with_args(subq(SQL_SUB_IN, 4, bt), 1, (sql_expr *[]){c_int(3)});
  CHECK_EQ_STR(ev(in), "NULL");
  in->negated = true;
  CHECK_EQ_STR(ev(in), "NULL");
  in = with_args(subq(SQL_SUB_IN, 3, bt), 1, (sql_expr *[]){c_null(i4)});
  CHECK_EQ_STR(ev(in), "f");
  in = with_args(subq(SQL_SUB_IN, 2, bt), 1, (sql_expr *[]){c_int(3)});
  in->negated = true;
  CHECK_EQ_STR(ev(in), "t");
  /* x > ALL (1, 2, NULL) is NULL for 3, false for 2; x > ANY is true for 2 */
  sql_expr *gt = fn(">", 2, c_int(0), c_int(0));
  sql_expr *all = with_args(subq(SQL_SUB_ALL, 4, bt), 1, (sql_expr *[]){c_int(3)});
  all->func = gt->func;
  CHECK_EQ_STR(ev(all), "NULL");
  all = with_args(subq(SQL_SUB_ALL, 4, bt), 1, (sql_expr *[]){c_int(2)});
  all->func = gt->func;
  CHECK_EQ_STR(ev(all), "f");
  sql_expr *any = with_args(subq(SQL_SUB_ANY, 4, bt), 1, (sql_expr *[]){c_int(2)});
  any->func = gt->func;
  CHECK_EQ_STR(ev(any), "t");
  all = with_args(subq(SQL_SUB_ALL, 3, bt), 1, (sql_expr *[]){c_int(2)});
  all->func = gt->func;
  CHECK_EQ_STR(ev(all), "t");
  /* correlated scalar subquery over a batch */
  sql_batch *b = make_batch();
  sql_expr *cor = subq(SQL_SUB_SCALAR, 5, i4);
  cor->correlated = true;
  sql_vec out;
  char buf[256];
  sub_calls = 0;
  CHECK_EQ_INT(sql_expr_eval(&CTX, fn("+", 2, cor, c_int(1)), b, &out), 0);
  join_vec(&out, buf, sizeof buf);
  CHECK_EQ_STR(buf, "1,3,5,1,9,199,1,15,17,19");
  CHECK_EQ_INT(sub_calls, 10);
  /* ... and only on the rows a CASE sends to it */
  sql_expr *cs = kind(SQL_E_CASE, i4, 3, fn(">", 2, col(0, i4), c_int(7)), cor, c_int(0));
  cs->has_else = true;
  sub_calls = 0;
  CHECK_EQ_INT(sql_expr_eval(&CTX, cs, b, &out), 0);
  join_vec(&out, buf, sizeof buf);
  CHECK_EQ_STR(buf, "0,0,0,0,0,0,0,0,16,18"); /* NULL > 7 is not true: ELSE */
  CHECK_EQ_INT(sub_calls, 2);
  sql_batch_free(b);
  for (size_t k = 0; k < n_subqs; k++)
    sql_expr_free_cache(subqs[k]);
  CTX.run_subquery = NULL;
}

/* Eight threads evaluate one uncorrelated subquery at once: it runs once, all see its value. */
typedef struct thread_arg {
  sql_expr *e;
  char got[64];
} thread_arg;

static void *eval_thread(void *p) {
  thread_arg *t = p;
  sql_mem *m = sql_mem_new();
  tarn_error err = {0};
  sql_eval_ctx ctx = {0};
  ctx.mem = m;
  ctx.err = &err;
  ctx.run_subquery = fake_run;
  sql_batch *b = make_batch();
  sql_vec out;
  if (sql_expr_eval(&ctx, t->e, b, &out) == 0) {
    sql_value v;
    sql_vec_get(&out, 9, &v);
    sql_value_text(&v, t->got, sizeof t->got);
  } else {
    snprintf(t->got, sizeof t->got, "ERROR: %.40s", err.message);
  }
  sql_batch_free(b);
  sql_mem_release(m);
  return NULL;
}

static void test_subquery_threads(void) {
  sql_expr *s = subq(SQL_SUB_SCALAR, 1, ty(SQL_INT4));
  sql_expr *e = fn("+", 2, s, col(0, ty(SQL_INT4)));
  pthread_t th[8];
  thread_arg args[8];
  sub_calls = 0;
  for (int i = 0; i < 8; i++) {
    args[i].e = e;
    pthread_create(&th[i], NULL, eval_thread, &args[i]);
  }
  for (int i = 0; i < 8; i++)
    pthread_join(th[i], NULL);
  for (int i = 0; i < 8; i++)
    CHECK_EQ_STR(args[i].got, "51");
  CHECK_EQ_INT(sub_calls, 1);
  sql_expr_free_cache(e);
}

/* ---- misc ------------------------------------------------------------------------------------ */

static const char *namer(void *arg, int id) {
  (void)arg;
  return id == 100 ? "l_quantity" : NULL;
}

static void test_render_copy_resolve(void) {
  const sql_type *i4 = ty(SQL_INT4);
  sql_expr *e = fn("<", 2, col(0, i4), c_int(24));
  char buf[256];
  sql_expr_render(e, namer, NULL, buf, sizeof buf);
  CHECK_EQ_STR(buf, "(l_quantity < 24)");
  sql_expr_render(fn("upper", 1, col(1, ty(SQL_TEXT))), NULL, NULL, buf, sizeof buf);
  CHECK_EQ_STR(buf, "upper(#101)");
  sql_expr_render(kind(SQL_E_IN_LIST, ty(SQL_BOOL), 3, col(0, i4), c_int(1), c_text("a'b")), namer,
                  NULL, buf, sizeof buf);
  CHECK_EQ_STR(buf, "(l_quantity IN (1, 'a''b'))");
  sql_expr_render(e, namer, NULL, buf, 8);
  CHECK_EQ_STR(buf, "(l_quan");

  sql_expr *cp = sql_expr_copy(&A, e);
  CHECK(cp != e && cp->args[0] != e->args[0] && cp->args[0]->column_id == 100);
  int ids[3] = {7, 100, 101};
  tarn_error err = {0};
  CHECK_EQ_INT(sql_expr_resolve(cp, ids, 3, &err), 0);
  CHECK_EQ_INT(cp->args[0]->slot, 1);
  CHECK_EQ_INT(e->args[0]->slot, 0);
  int few[1] = {7};
  CHECK_EQ_INT(sql_expr_resolve(cp, few, 1, &err), TARN_EINVAL);
  CHECK(strstr(err.message, "#100") != NULL);
}

static void test_values(void) {
  sql_value a = {0}, b = {0};
  a.type = b.type = ty(SQL_TEXT);
  a.u.str = (sql_str){"ab", 2};
  b.u.str = (sql_str){"abc", 3};
  CHECK(sql_value_compare(&a, &b) < 0);
  a.type = b.type = ty(SQL_FLOAT8);
  a.u.f64 = NAN;
  b.u.f64 = 1e308;
  CHECK(sql_value_compare(&a, &b) > 0);
  a.type = b.type = dec(10, 2);
  a.u.i128 = 150;
  b.u.i128 = -150;
  CHECK(sql_value_compare(&a, &b) > 0);
  char buf[64];
  sql_value_text(&a, buf, sizeof buf);
  CHECK_EQ_STR(buf, "1.50");
  a.type = ty(SQL_BOOL);
  a.u.b = true;
  sql_value_text(&a, buf, sizeof buf);
  CHECK_EQ_STR(buf, "t");
  a.type = ty(SQL_INTERVAL);
  a.u.iv = (sql_interval){14, -3, -3723000001};
  sql_value_text(&a, buf, sizeof buf);
  CHECK_EQ_STR(buf, "1 year 2 mons -3 days -01:02:03.000001");
  /* cast_value: strings of the result live in the region */
  sql_value in = {0}, out;
  in.type = ty(SQL_INT4);
  in.u.i64 = -17;
  tarn_error err = {0};
  CHECK_EQ_INT(sql_cast_value(M, &in, ty(SQL_TEXT), &out, &err), 0);
  CHECK(out.u.str.len == 3 && memcmp(out.u.str.ptr, "-17", 3) == 0);
  CHECK_EQ_INT(sql_cast_value(M, &in, ty(SQL_DATE), &out, &err), TARN_EINVAL);
}

static void test_resolution(void) {
  const sql_type *types[2];
  const sql_type *casts[2];
  const sql_func *f;
  tarn_error err = {0};
  types[0] = ty(SQL_INT4);
  types[1] = dec(10, 2);
  CHECK_EQ_INT(sql_func_resolve(&A, "+", types, 2, &f, casts, &err), 0);
  CHECK(f->ret->id == SQL_DECIMAL && casts[0] && casts[0]->id == SQL_DECIMAL && casts[1] == NULL);
  types[0] = ty(SQL_DATE);
  types[1] = ty(SQL_TIMESTAMP);
  CHECK_EQ_INT(sql_func_resolve(&A, "<", types, 2, &f, casts, &err), 0);
  CHECK(casts[0] && casts[0]->id == SQL_TIMESTAMP && casts[1] == NULL);
  CHECK_EQ_INT(sql_func_resolve(&A, "-", types, 2, &f, casts, &err), 0);
  CHECK(f->ret->id == SQL_INTERVAL);
  types[0] = ty(SQL_INT4);
  CHECK_EQ_INT(sql_func_resolve(&A, "sqrt", types, 1, &f, casts, &err), 0);
  CHECK(f->ret->id == SQL_FLOAT8);
  CHECK(sql_func_is_aggregate("sum") && sql_func_is_aggregate("count") &&
        !sql_func_is_aggregate("upper"));
  CHECK(sql_func_is_window("row_number") && !sql_func_is_window("sum"));
}

int main(void) {
  M = sql_mem_new();
  CTX.mem = M;
  CTX.err = &ERR;
  CTX.now_micros = INT64_C(1714979289000000); /* 2024-05-06 07:08:09 UTC */
  RUN(test_integer_arithmetic);
  RUN(test_decimal_arithmetic);
  RUN(test_float_arithmetic);
  RUN(test_numeric_casts);
  RUN(test_datetime_casts);
  RUN(test_interval_text);
  RUN(test_other_casts);
  RUN(test_comparisons);
  RUN(test_logic);
  RUN(test_case_coalesce);
  RUN(test_in_like);
  RUN(test_math);
  RUN(test_strings);
  RUN(test_datetime);
  RUN(test_lists);
  RUN(test_batch_eval);
  RUN(test_select);
  RUN(test_subqueries);
  RUN(test_subquery_threads);
  RUN(test_render_copy_resolve);
  RUN(test_values);
  RUN(test_resolution);
  sql_mem_release(M);
  tarn_arena_free(&A);
  return check_finish();
}
