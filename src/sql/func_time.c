/*
 * Date and time functions: now() and friends, date_part / extract, date_trunc, make_date,
 * make_timestamp, to_char (timestamps and numbers), to_date, to_timestamp, age, justify_*.
 *
 * The session time zone is UTC, so timestamptz and timestamp share every computation. EXTRACT
 * follows PostgreSQL 15: numeric, with the fractional digits its field can have (6 for seconds and
 * epoch, 3 for milliseconds, none otherwise); date_part gives double precision. Field values are
 * computed once, as integers scaled by 10^6, and both forms derive from that.
 *
 * now() is the statement's start (ctx->now_micros), the same on every row and in every
 * operator; only clock_timestamp() reads the clock.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sql/expr_impl.h"

static inline bool out_null(const sql_vec *out, uint32_t i) {
  return out->nulls != NULL && out->nulls[i];
}

#define ARG_STR(k, i) (SQL_VEC_STR(args[k])[SQL_ARG_ROW(args[k], i)])
#define ARG_I64(k, i) (SQL_VEC_I64(args[k])[SQL_ARG_ROW(args[k], i)])
#define ARG_F64(k, i) (SQL_VEC_F64(args[k])[SQL_ARG_ROW(args[k], i)])
#define ARG_IV(k, i) (SQL_VEC_IV(args[k])[SQL_ARG_ROW(args[k], i)])

static int fail(sql_eval_ctx *ctx, const char *msg) {
  return tarn_err(ctx->err, TARN_EINVAL, "%s", msg);
}

/* ---- fields ---------------------------------------------------------------------------------- */

static bool ieq(const char *s, size_t n, const char *w) {
  if (strlen(w) != n) return false;
  for (size_t i = 0; i < n; i++)
    if (tolower((unsigned char)s[i]) != w[i]) return false;
  return true;
}

sql_dt_field sql_dt_field_parse(const char *s, size_t n) {
  static const struct {
    const char *name;
    sql_dt_field f;
  } names[] = {
      {"microsecond", SQL_DTF_MICROSECONDS},
      {"microseconds", SQL_DTF_MICROSECONDS},
      {"us", SQL_DTF_MICROSECONDS},
      {"usec", SQL_DTF_MICROSECONDS},
      {"usecs", SQL_DTF_MICROSECONDS},
      {"millisecond", SQL_DTF_MILLISECONDS},
      {"milliseconds", SQL_DTF_MILLISECONDS},
      {"ms", SQL_DTF_MILLISECONDS},
      {"msec", SQL_DTF_MILLISECONDS},
      {"msecs", SQL_DTF_MILLISECONDS},
      {"second", SQL_DTF_SECOND},
      {"seconds", SQL_DTF_SECOND},
      {"sec", SQL_DTF_SECOND},
      {"secs", SQL_DTF_SECOND},
      {"s", SQL_DTF_SECOND},
      {"minute", SQL_DTF_MINUTE},
      {"minutes", SQL_DTF_MINUTE},
      {"min", SQL_DTF_MINUTE},
      {"mins", SQL_DTF_MINUTE},
      {"m", SQL_DTF_MINUTE},
      {"hour", SQL_DTF_HOUR},
      {"hours", SQL_DTF_HOUR},
      {"hr", SQL_DTF_HOUR},
      {"hrs", SQL_DTF_HOUR},
      {"h", SQL_DTF_HOUR},
      {"day", SQL_DTF_DAY},
      {"days", SQL_DTF_DAY},
      {"d", SQL_DTF_DAY},
      {"week", SQL_DTF_WEEK},
      {"weeks", SQL_DTF_WEEK},
      {"w", SQL_DTF_WEEK},
      {"month", SQL_DTF_MONTH},
      {"months", SQL_DTF_MONTH},
      {"mon", SQL_DTF_MONTH},
      {"mons", SQL_DTF_MONTH},
      {"quarter", SQL_DTF_QUARTER},
      {"qtr", SQL_DTF_QUARTER},
      {"year", SQL_DTF_YEAR},
      {"years", SQL_DTF_YEAR},
      {"yr", SQL_DTF_YEAR},
      {"yrs", SQL_DTF_YEAR},
      {"y", SQL_DTF_YEAR},
      {"decade", SQL_DTF_DECADE},
      {"decades", SQL_DTF_DECADE},
      {"dec", SQL_DTF_DECADE},
      {"century", SQL_DTF_CENTURY},
      {"centuries", SQL_DTF_CENTURY},
      {"c", SQL_DTF_CENTURY},
      {"millennium", SQL_DTF_MILLENNIUM},
      {"millennia", SQL_DTF_MILLENNIUM},
      {"mil", SQL_DTF_MILLENNIUM},
      {"dow", SQL_DTF_DOW},
      {"isodow", SQL_DTF_ISODOW},
      {"doy", SQL_DTF_DOY},
      {"epoch", SQL_DTF_EPOCH},
      {"isoyear", SQL_DTF_ISOYEAR},
      {"julian", SQL_DTF_JULIAN},
      {"timezone", SQL_DTF_TIMEZONE},
      {"timezone_hour", SQL_DTF_TIMEZONE_HOUR},
      {"timezone_minute", SQL_DTF_TIMEZONE_MINUTE},
  };
  while (n && s[0] == ' ') {
    s++;
    n--;
  }
  while (n && s[n - 1] == ' ')
    n--;
  for (size_t k = 0; k < sizeof names / sizeof *names; k++)
    if (ieq(s, n, names[k].name)) return names[k].f;
  return SQL_DTF_INVALID;
}

int sql_extract_scale(sql_dt_field f, sql_type_id t) {
  if (t == SQL_DATE) return 0;
  switch (f) {
  case SQL_DTF_SECOND:
  case SQL_DTF_EPOCH:
  case SQL_DTF_JULIAN: return 6;
  case SQL_DTF_MILLISECONDS: return 3;
  default: return 0;
  }
}

typedef struct civil {
  int64_t y; /* astronomical */
  int m, d;
  int64_t days, tod; /* days since the epoch; microseconds since midnight */
} civil;

static civil split_ts(int64_t ts) {
  civil c;
  c.days = sql_floor_div(ts, SQL_USEC_PER_DAY);
  c.tod = ts - c.days * SQL_USEC_PER_DAY;
  sql_ymd_from_days(c.days, &c.y, &c.m, &c.d);
  return c;
}

/* A date's parts straight from its day number: dates reach further than timestamps (PostgreSQL
 * allows years up to 5874897), so going through microseconds would overflow. */
static civil split_days(int64_t days) {
  civil c;
  c.days = days;
  c.tod = 0;
  sql_ymd_from_days(days, &c.y, &c.m, &c.d);
  return c;
}

static int isodow_of(int64_t days) { return (int)sql_floor_mod(days + 3, 7) + 1; }

/* ISO 8601 year and week of a day. */
static void iso_week(int64_t days, int64_t *iso_year, int *week) {
  int64_t thursday = days - (isodow_of(days) - 4);
  int64_t y;
  int m, d;
  sql_ymd_from_days(thursday, &y, &m, &d);
  int64_t doy = thursday - sql_days_from_ymd(y, 1, 1);
  *iso_year = y;
  *week = (int)(doy / 7) + 1;
}

static const char *type_label(sql_type_id t) {
  switch (t) {
  case SQL_DATE: return "date";
  case SQL_TIME: return "time without time zone";
  case SQL_INTERVAL: return "interval";
  case SQL_TIMESTAMPTZ: return "timestamp with time zone";
  default: return "timestamp without time zone";
  }
}

static int unsupported(sql_eval_ctx *ctx, sql_str field, sql_type_id t) {
  return tarn_err(ctx->err, TARN_EINVAL, "unit \"%.*s\" not supported for type %s",
                  (int)(field.len > 60 ? 60 : field.len), field.ptr, type_label(t));
}

static int unrecognized(sql_eval_ctx *ctx, sql_str field, sql_type_id t) {
  return tarn_err(ctx->err, TARN_EINVAL, "unit \"%.*s\" not recognized for type %s",
                  (int)(field.len > 60 ? 60 : field.len), field.ptr, type_label(t));
}

/* The value of field f of a calendar date/time, times 10^6. Returns false when f does not apply. */
static bool civil_field(sql_dt_field f, const civil *c, bool has_time, sql_i128 *out) {
  const sql_i128 M = 1000000;
  int64_t y = c->y, sec = c->tod / SQL_USEC_PER_SEC % 60, us = c->tod % SQL_USEC_PER_SEC;
  switch (f) {
  case SQL_DTF_MICROSECONDS:
    if (!has_time) return false;
    *out = (sql_i128)(sec * SQL_USEC_PER_SEC + us) * M;
    return true;
  case SQL_DTF_MILLISECONDS:
    if (!has_time) return false;
    *out = (sql_i128)(sec * SQL_USEC_PER_SEC + us) * 1000;
    return true;
  case SQL_DTF_SECOND:
    if (!has_time) return false;
    *out = sec * SQL_USEC_PER_SEC + us;
    return true;
  case SQL_DTF_MINUTE:
    if (!has_time) return false;
    *out = (sql_i128)(c->tod / SQL_USEC_PER_MIN % 60) * M;
    return true;
  case SQL_DTF_HOUR:
    if (!has_time) return false;
    *out = (sql_i128)(c->tod / SQL_USEC_PER_HOUR) * M;
    return true;
  case SQL_DTF_DAY: *out = (sql_i128)c->d * M; return true;
  case SQL_DTF_MONTH: *out = (sql_i128)c->m * M; return true;
  case SQL_DTF_QUARTER: *out = (sql_i128)((c->m - 1) / 3 + 1) * M; return true;
  case SQL_DTF_YEAR: *out = (sql_i128)(y > 0 ? y : y - 1) * M; return true;
  case SQL_DTF_DECADE: *out = (sql_i128)(y >= 0 ? y / 10 : -((8 - (y - 1)) / 10)) * M; return true;
  case SQL_DTF_CENTURY:
    *out = (sql_i128)(y > 0 ? (y + 99) / 100 : -((99 - (y - 1)) / 100)) * M;
    return true;
  case SQL_DTF_MILLENNIUM:
    *out = (sql_i128)(y > 0 ? (y + 999) / 1000 : -((999 - (y - 1)) / 1000)) * M;
    return true;
  case SQL_DTF_DOW: *out = (sql_i128)(isodow_of(c->days) % 7) * M; return true;
  case SQL_DTF_ISODOW: *out = (sql_i128)isodow_of(c->days) * M; return true;
  case SQL_DTF_DOY: *out = (sql_i128)(c->days - sql_days_from_ymd(y, 1, 1) + 1) * M; return true;
  case SQL_DTF_WEEK:
  case SQL_DTF_ISOYEAR: {
    int64_t iy;
    int w;
    iso_week(c->days, &iy, &w);
    *out = (sql_i128)(f == SQL_DTF_WEEK ? w : (iy > 0 ? iy : iy - 1)) * M;
    return true;
  }
  case SQL_DTF_EPOCH: *out = (sql_i128)c->days * SQL_USEC_PER_DAY + c->tod; return true;
  case SQL_DTF_JULIAN:
    *out = (sql_i128)(c->days + 2440588) * M + (sql_i128)c->tod * M / SQL_USEC_PER_DAY;
    return true;
  case SQL_DTF_TIMEZONE:
  case SQL_DTF_TIMEZONE_HOUR:
  case SQL_DTF_TIMEZONE_MINUTE:
    if (!has_time) return false;
    *out = 0;
    return true;
  default: return false;
  }
}

static bool interval_field(sql_dt_field f, sql_interval iv, sql_i128 *out) {
  const sql_i128 M = 1000000;
  int64_t years = iv.months / 12, us = iv.micros % SQL_USEC_PER_MIN;
  switch (f) {
  case SQL_DTF_MICROSECONDS: *out = (sql_i128)us * M; return true;
  case SQL_DTF_MILLISECONDS: *out = (sql_i128)us * 1000; return true;
  case SQL_DTF_SECOND: *out = us; return true;
  case SQL_DTF_MINUTE: *out = (sql_i128)(iv.micros / SQL_USEC_PER_MIN % 60) * M; return true;
  case SQL_DTF_HOUR: *out = (sql_i128)(iv.micros / SQL_USEC_PER_HOUR) * M; return true;
  case SQL_DTF_DAY: *out = (sql_i128)iv.days * M; return true;
  case SQL_DTF_MONTH: *out = (sql_i128)(iv.months % 12) * M; return true;
  case SQL_DTF_QUARTER: *out = (sql_i128)((iv.months % 12) / 3 + 1) * M; return true;
  case SQL_DTF_YEAR: *out = (sql_i128)years * M; return true;
  case SQL_DTF_DECADE: *out = (sql_i128)(years / 10) * M; return true;
  case SQL_DTF_CENTURY: *out = (sql_i128)(years / 100) * M; return true;
  case SQL_DTF_MILLENNIUM: *out = (sql_i128)(years / 1000) * M; return true;
  case SQL_DTF_EPOCH: {
    /* PostgreSQL: a year is 365.25 days, a month 30. */
    sql_i128 secs = (sql_i128)years * 31557600 + (sql_i128)(iv.months % 12) * 30 * 86400 +
                    (sql_i128)iv.days * 86400;
    *out = secs * M + iv.micros;
    return true;
  }
  default: return false;
  }
}

static bool time_field(sql_dt_field f, int64_t tod, sql_i128 *out) {
  if (f == SQL_DTF_EPOCH) {
    *out = tod;
    return true;
  }
  if (f != SQL_DTF_MICROSECONDS && f != SQL_DTF_MILLISECONDS && f != SQL_DTF_SECOND &&
      f != SQL_DTF_MINUTE && f != SQL_DTF_HOUR)
    return false;
  civil c = {1970, 1, 1, 0, tod};
  return civil_field(f, &c, true, out);
}

/* date_part (op 1: double) and extract (op 0: numeric of the result type's scale). */
static int k_extract(sql_eval_ctx *ctx, const sql_func *f, sql_vec *const *args, size_t n_args,
                     uint32_t n, sql_vec *out) {
  (void)n_args;
  sql_type_id t = args[1]->type->id;
  sql_str last = {NULL, 0};
  sql_dt_field fld = SQL_DTF_INVALID;
  for (uint32_t i = 0; i < n; i++) {
    if (out_null(out, i)) continue;
    sql_str fs = ARG_STR(0, i);
    if (last.ptr == NULL || fs.len != last.len || memcmp(fs.ptr, last.ptr, fs.len) != 0) {
      fld = sql_dt_field_parse(fs.ptr, fs.len);
      if (fld == SQL_DTF_INVALID) return unrecognized(ctx, fs, t);
      last = fs;
    }
    sql_i128 v = 0;
    bool ok, inf = false;
    switch (t) {
    case SQL_DATE: {
      int64_t d = ARG_I64(1, i);
      if (d == SQL_DATE_NOBEGIN || d == SQL_DATE_NOEND) {
        inf = true;
        ok = true;
        v = d == SQL_DATE_NOEND ? 1 : -1;
        break;
      }
      civil c = split_days(d);
      ok = civil_field(fld, &c, false, &v);
      break;
    }
    case SQL_TIME: ok = time_field(fld, ARG_I64(1, i), &v); break;
    case SQL_INTERVAL: ok = interval_field(fld, ARG_IV(1, i), &v); break;
    default: {
      int64_t ts = ARG_I64(1, i);
      if (!sql_ts_finite(ts)) {
        inf = true;
        ok = true;
        v = ts == SQL_TS_NOEND ? 1 : -1;
        break;
      }
      civil c = split_ts(ts);
      ok = civil_field(fld, &c, true, &v);
      break;
    }
    }
    if (!ok) return unsupported(ctx, fs, t);
    if (inf) {
      /* PostgreSQL: infinite for epoch/year-like fields, NULL otherwise. */
      bool monotone = fld == SQL_DTF_EPOCH || fld == SQL_DTF_YEAR || fld == SQL_DTF_DECADE ||
                      fld == SQL_DTF_CENTURY || fld == SQL_DTF_MILLENNIUM ||
                      fld == SQL_DTF_ISOYEAR || fld == SQL_DTF_JULIAN;
      if (f->op == 1 && monotone) {
        SQL_VEC_F64(out)[i] = v > 0 ? INFINITY : -INFINITY;
        continue;
      }
      if (f->op == 0 && monotone) return fail(ctx, "numeric value out of range (infinity)");
      if (sql_vec_nulls(ctx->mem, out) == NULL) return sql_oom(ctx);
      out->nulls[i] = 1;
      continue;
    }
    if (f->op == 1) {
      SQL_VEC_F64(out)[i] = (double)(v / 1000000) + (double)(v % 1000000) / 1e6;
    } else {
      int s = out->type->scale;
      SQL_VEC_I128(out)[i] = sql_dec_div_pow10_round(v, 6 - s);
    }
  }
  return 0;
}

/* ---- date_trunc ------------------------------------------------------------------------------ */

static bool trunc_ts(sql_dt_field f, int64_t ts, int64_t *out) {
  if (!sql_ts_finite(ts)) {
    *out = ts;
    return true;
  }
  civil c = split_ts(ts);
  int64_t day0 = c.days * SQL_USEC_PER_DAY, y = c.y;
  switch (f) {
  case SQL_DTF_MICROSECONDS: *out = ts; return true;
  case SQL_DTF_MILLISECONDS: *out = ts - sql_floor_mod(ts, 1000); return true;
  case SQL_DTF_SECOND: *out = ts - sql_floor_mod(ts, SQL_USEC_PER_SEC); return true;
  case SQL_DTF_MINUTE: *out = ts - sql_floor_mod(ts, SQL_USEC_PER_MIN); return true;
  case SQL_DTF_HOUR: *out = ts - sql_floor_mod(ts, SQL_USEC_PER_HOUR); return true;
  case SQL_DTF_DAY: *out = day0; return true;
  case SQL_DTF_WEEK: *out = (c.days - (isodow_of(c.days) - 1)) * SQL_USEC_PER_DAY; return true;
  case SQL_DTF_MONTH: *out = sql_days_from_ymd(y, c.m, 1) * SQL_USEC_PER_DAY; return true;
  case SQL_DTF_QUARTER:
    *out = sql_days_from_ymd(y, (c.m - 1) / 3 * 3 + 1, 1) * SQL_USEC_PER_DAY;
    return true;
  case SQL_DTF_YEAR: *out = sql_days_from_ymd(y, 1, 1) * SQL_USEC_PER_DAY; return true;
  case SQL_DTF_DECADE:
    *out = sql_days_from_ymd(y >= 0 ? y / 10 * 10 : -((8 - (y - 1)) / 10) * 10, 1, 1) *
           SQL_USEC_PER_DAY;
    return true;
  case SQL_DTF_CENTURY: {
    int64_t cy = y > 0 ? ((y + 99) / 100 - 1) * 100 + 1 : -((99 - (y - 1)) / 100) * 100 + 1;
    *out = sql_days_from_ymd(cy, 1, 1) * SQL_USEC_PER_DAY;
    return true;
  }
  case SQL_DTF_MILLENNIUM: {
    int64_t my = y > 0 ? ((y + 999) / 1000 - 1) * 1000 + 1 : -((999 - (y - 1)) / 1000) * 1000 + 1;
    *out = sql_days_from_ymd(my, 1, 1) * SQL_USEC_PER_DAY;
    return true;
  }
  default: return false;
  }
}

static bool trunc_iv(sql_dt_field f, sql_interval iv, sql_interval *out) {
  int64_t us = iv.micros;
  *out = iv;
  switch (f) {
  case SQL_DTF_MICROSECONDS: return true;
  case SQL_DTF_MILLISECONDS: out->micros = us - us % 1000; return true;
  case SQL_DTF_SECOND: out->micros = us - us % SQL_USEC_PER_SEC; return true;
  case SQL_DTF_MINUTE: out->micros = us - us % SQL_USEC_PER_MIN; return true;
  case SQL_DTF_HOUR: out->micros = us - us % SQL_USEC_PER_HOUR; return true;
  case SQL_DTF_DAY: out->micros = 0; return true;
  case SQL_DTF_MONTH:
    out->days = 0;
    out->micros = 0;
    return true;
  case SQL_DTF_QUARTER:
    out->months = iv.months / 12 * 12 + (iv.months % 12) / 3 * 3;
    out->days = 0;
    out->micros = 0;
    return true;
  case SQL_DTF_YEAR:
  case SQL_DTF_DECADE:
  case SQL_DTF_CENTURY:
  case SQL_DTF_MILLENNIUM: {
    int per = f == SQL_DTF_YEAR      ? 12
              : f == SQL_DTF_DECADE  ? 120
              : f == SQL_DTF_CENTURY ? 1200
                                     : 12000;
    out->months = iv.months / per * per;
    out->days = 0;
    out->micros = 0;
    return true;
  }
  default: return false;
  }
}

static int k_date_trunc(sql_eval_ctx *ctx, const sql_func *f, sql_vec *const *args, size_t n_args,
                        uint32_t n, sql_vec *out) {
  (void)f;
  (void)n_args;
  sql_type_id t = args[1]->type->id;
  for (uint32_t i = 0; i < n; i++) {
    if (out_null(out, i)) continue;
    sql_str fs = ARG_STR(0, i);
    sql_dt_field fld = sql_dt_field_parse(fs.ptr, fs.len);
    bool ok;
    if (t == SQL_INTERVAL)
      ok = trunc_iv(fld, ARG_IV(1, i), &SQL_VEC_IV(out)[i]);
    else
      ok = trunc_ts(fld, ARG_I64(1, i), &SQL_VEC_I64(out)[i]);
    if (!ok) {
      if (fld == SQL_DTF_INVALID) return unrecognized(ctx, fs, t);
      return unsupported(ctx, fs, t);
    }
  }
  return 0;
}

/* ---- now() and friends ----------------------------------------------------------------------- */

enum { NOW_TSTZ, NOW_DATE, NOW_TIME, NOW_CLOCK };

static int k_now(sql_eval_ctx *ctx, const sql_func *f, sql_vec *const *args, size_t n_args,
                 uint32_t n, sql_vec *out) {
  (void)args;
  (void)n_args;
  int64_t now = ctx->now_micros;
  if (f->op == NOW_CLOCK) {
    struct timespec tsp;
    clock_gettime(CLOCK_REALTIME, &tsp);
    now = (int64_t)tsp.tv_sec * SQL_USEC_PER_SEC + tsp.tv_nsec / 1000;
  }
  int64_t v = f->op == NOW_DATE   ? sql_floor_div(now, SQL_USEC_PER_DAY)
              : f->op == NOW_TIME ? sql_floor_mod(now, SQL_USEC_PER_DAY)
                                  : now;
  for (uint32_t i = 0; i < n; i++)
    SQL_VEC_I64(out)[i] = v;
  return 0;
}

/* ---- constructors and conversions ------------------------------------------------------------ */

enum { MK_DATE, MK_TIMESTAMP, MK_TIME, TO_TS_EPOCH };

/* Seconds as a double to microseconds, checking the range PostgreSQL allows. */
static bool secs_to_us(double s, int64_t *us) {
  if (isnan(s) || s < 0 || s > 60) return false;
  *us = (int64_t)rint(s * 1e6);
  return true;
}

static int k_make(sql_eval_ctx *ctx, const sql_func *f, sql_vec *const *args, size_t n_args,
                  uint32_t n, sql_vec *out) {
  (void)n_args;
  for (uint32_t i = 0; i < n; i++) {
    if (out_null(out, i)) continue;
    if (f->op == TO_TS_EPOCH) {
      double s = ARG_F64(0, i);
      if (isnan(s)) return fail(ctx, "timestamp cannot be NaN");
      if (isinf(s)) {
        SQL_VEC_I64(out)[i] = s > 0 ? SQL_TS_NOEND : SQL_TS_NOBEGIN;
        continue;
      }
      double us = rint(s * 1e6);
      if (!(us >= (double)SQL_TS_MIN && us < 9.2e18))
        return tarn_err(ctx->err, TARN_EINVAL, "timestamp out of range: \"%g\"", s);
      SQL_VEC_I64(out)[i] = (int64_t)us;
      continue;
    }
    if (f->op == MK_TIME) {
      int64_t h = ARG_I64(0, i), mi = ARG_I64(1, i), us;
      double s = ARG_F64(2, i);
      if (h < 0 || h > 24 || mi < 0 || mi > 59 || !secs_to_us(s, &us) || (h == 24 && (mi || us)))
        return tarn_err(ctx->err, TARN_EINVAL, "time field value out of range: %lld:%02lld:%g",
                        (long long)h, (long long)mi, s);
      SQL_VEC_I64(out)[i] = h * SQL_USEC_PER_HOUR + mi * SQL_USEC_PER_MIN + us;
      continue;
    }
    int64_t y = ARG_I64(0, i), m = ARG_I64(1, i), d = ARG_I64(2, i);
    int64_t ay = y < 0 ? y + 1 : y; /* negative years are BC */
    if (y == 0 || m < 1 || m > 12 || d < 1 || d > sql_days_in_month(ay, (int)m) || ay > 5874897 ||
        ay < -4712)
      return tarn_err(ctx->err, TARN_EINVAL, "date field value out of range: %lld-%02lld-%02lld",
                      (long long)y, (long long)m, (long long)d);
    int64_t days = sql_days_from_ymd(ay, (int)m, (int)d);
    if (f->op == MK_DATE) {
      SQL_VEC_I64(out)[i] = days;
      continue;
    }
    /* make_timestamp's hour and minute arrive as doubles: definitions describe four parameters
     * and later arguments take the fourth's type. */
    double hd = ARG_F64(3, i), mid = ARG_F64(4, i), s = ARG_F64(5, i);
    if (hd != floor(hd) || mid != floor(mid) || fabs(hd) > 100 || fabs(mid) > 100)
      return fail(ctx, "time field value out of range");
    int64_t h = (int64_t)hd, mi = (int64_t)mid, us;
    if (h < 0 || h > 24 || mi < 0 || mi > 59 || !secs_to_us(s, &us) || (h == 24 && (mi || us)))
      return tarn_err(ctx->err, TARN_EINVAL, "time field value out of range: %lld:%02lld:%g",
                      (long long)h, (long long)mi, s);
    int64_t ts;
    if (__builtin_mul_overflow(days, SQL_USEC_PER_DAY, &ts) || !sql_ts_ok(ts))
      return fail(ctx, "timestamp out of range");
    SQL_VEC_I64(out)[i] = ts + h * SQL_USEC_PER_HOUR + mi * SQL_USEC_PER_MIN + us;
  }
  return 0;
}

/* ---- age and justify ------------------------------------------------------------------------- */

static sql_interval age(int64_t t1, int64_t t2) {
  civil a = split_ts(t1), b = split_ts(t2);
  int64_t fsec = a.tod % SQL_USEC_PER_SEC - b.tod % SQL_USEC_PER_SEC;
  int64_t sec = a.tod / SQL_USEC_PER_SEC % 60 - b.tod / SQL_USEC_PER_SEC % 60;
  int64_t min = a.tod / SQL_USEC_PER_MIN % 60 - b.tod / SQL_USEC_PER_MIN % 60;
  int64_t hour = a.tod / SQL_USEC_PER_HOUR - b.tod / SQL_USEC_PER_HOUR;
  int64_t mday = a.d - b.d, mon = a.m - b.m, year = a.y - b.y;
  bool neg = t1 < t2;
  if (neg) {
    fsec = -fsec, sec = -sec, min = -min, hour = -hour, mday = -mday, mon = -mon, year = -year;
  }
  while (fsec < 0)
    fsec += SQL_USEC_PER_SEC, sec--;
  while (sec < 0)
    sec += 60, min--;
  while (min < 0)
    min += 60, hour--;
  while (hour < 0)
    hour += 24, mday--;
  while (mday < 0) {
    mday += neg ? sql_days_in_month(a.y, a.m) : sql_days_in_month(b.y, b.m);
    mon--;
  }
  while (mon < 0)
    mon += 12, year--;
  if (neg) {
    fsec = -fsec, sec = -sec, min = -min, hour = -hour, mday = -mday, mon = -mon, year = -year;
  }
  sql_interval r;
  r.months = (int32_t)(year * 12 + mon);
  r.days = (int32_t)mday;
  r.micros = ((hour * 60 + min) * 60 + sec) * SQL_USEC_PER_SEC + fsec;
  return r;
}

enum { J_AGE2, J_AGE1, J_DAYS, J_HOURS, J_INTERVAL };

static sql_interval justify_hours(sql_interval v) {
  int64_t d = v.micros / SQL_USEC_PER_DAY;
  v.days += (int32_t)d;
  v.micros -= d * SQL_USEC_PER_DAY;
  if (v.days > 0 && v.micros < 0) {
    v.micros += SQL_USEC_PER_DAY;
    v.days--;
  } else if (v.days < 0 && v.micros > 0) {
    v.micros -= SQL_USEC_PER_DAY;
    v.days++;
  }
  return v;
}

static sql_interval justify_days(sql_interval v) {
  int32_t m = v.days / 30;
  v.months += m;
  v.days -= m * 30;
  if (v.months > 0 && v.days < 0) {
    v.days += 30;
    v.months--;
  } else if (v.months < 0 && v.days > 0) {
    v.days -= 30;
    v.months++;
  }
  return v;
}

/* PostgreSQL's justify_interval: days and months first take the sign of the whole. */
static sql_interval justify_all(sql_interval v) {
  int64_t months = v.months, days = v.days, t = v.micros;
  if ((days > 0 && t > 0) || (days < 0 && t < 0)) {
    days += t / SQL_USEC_PER_DAY;
    t -= t / SQL_USEC_PER_DAY * SQL_USEC_PER_DAY;
  }
  months += days / 30;
  days -= days / 30 * 30;
  if (months > 0 && (days < 0 || (days == 0 && t < 0))) {
    days += 30;
    months--;
  } else if (months < 0 && (days > 0 || (days == 0 && t > 0))) {
    days -= 30;
    months++;
  }
  days += t / SQL_USEC_PER_DAY;
  t -= t / SQL_USEC_PER_DAY * SQL_USEC_PER_DAY;
  if (days > 0 && t < 0) {
    t += SQL_USEC_PER_DAY;
    days--;
  } else if (days < 0 && t > 0) {
    t -= SQL_USEC_PER_DAY;
    days++;
  }
  return (sql_interval){(int32_t)months, (int32_t)days, t};
}

static int k_interval_fn(sql_eval_ctx *ctx, const sql_func *f, sql_vec *const *args, size_t n_args,
                         uint32_t n, sql_vec *out) {
  (void)n_args;
  for (uint32_t i = 0; i < n; i++) {
    if (out_null(out, i)) continue;
    sql_interval *r = &SQL_VEC_IV(out)[i];
    switch (f->op) {
    case J_AGE2:
    case J_AGE1: {
      int64_t t1 = ARG_I64(0, i);
      int64_t t2 = f->op == J_AGE2
                       ? ARG_I64(1, i)
                       : sql_floor_div(ctx->now_micros, SQL_USEC_PER_DAY) * SQL_USEC_PER_DAY;
      if (!sql_ts_finite(t1) || !sql_ts_finite(t2)) return fail(ctx, "interval out of range");
      *r = age(t1, t2);
      break;
    }
    case J_DAYS: *r = justify_days(ARG_IV(0, i)); break;
    case J_HOURS: *r = justify_hours(ARG_IV(0, i)); break;
    default: *r = justify_all(ARG_IV(0, i)); break;
    }
  }
  return 0;
}

/* ---- to_char for timestamps ------------------------------------------------------------------ */

static const char *const month_names[12] = {"January",   "February", "March",    "April",
                                            "May",       "June",     "July",     "August",
                                            "September", "October",  "November", "December"};
static const char *const day_names[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                         "Thursday", "Friday", "Saturday"};

static bool starts(const char *s, size_t n, const char *w) {
  size_t k = strlen(w);
  return n >= k && memcmp(s, w, k) == 0;
}

static int put_num(tarn_buf *b, int64_t v, int width, bool fm, tarn_error *err) {
  char tmp[32];
  if (fm || width <= 0)
    snprintf(tmp, sizeof tmp, "%lld", (long long)v);
  else
    snprintf(tmp, sizeof tmp, "%0*lld", v < 0 ? width + 1 : width, (long long)v);
  return tarn_buf_puts(b, tmp, err);
}

/* A name in the case of the pattern (MONTH, Month, month), blank-padded to 9 unless FM. */
static int put_name(tarn_buf *b, const char *name, const char *pat, size_t abbrev, bool fm,
                    tarn_error *err) {
  char tmp[16];
  size_t len = abbrev ? abbrev : strlen(name);
  bool all_upper = isupper((unsigned char)pat[0]) && isupper((unsigned char)pat[1]);
  bool all_lower = islower((unsigned char)pat[0]);
  for (size_t k = 0; k < len; k++) {
    char c = name[k];
    tmp[k] = (char)(all_upper   ? toupper((unsigned char)c)
                    : all_lower ? tolower((unsigned char)c)
                                : (k == 0 ? toupper((unsigned char)c) : c));
  }
  if (!abbrev && !fm)
    while (len < 9)
      tmp[len++] = ' ';
  return tarn_buf_append(b, tmp, len, err);
}

static const char *ordinal(int64_t v) {
  int64_t t = v % 100;
  if (t >= 11 && t <= 13) return "th";
  switch (v % 10) {
  case 1: return "st";
  case 2: return "nd";
  case 3: return "rd";
  default: return "th";
  }
}

static int format_ts(tarn_buf *b, int64_t ts, bool tz, sql_str fmt, tarn_error *err) {
  civil c = split_ts(ts);
  int64_t year = c.y > 0 ? c.y : 1 - c.y;
  int64_t hour = c.tod / SQL_USEC_PER_HOUR, min = c.tod / SQL_USEC_PER_MIN % 60;
  int64_t sec = c.tod / SQL_USEC_PER_SEC % 60, us = c.tod % SQL_USEC_PER_SEC;
  int dow = isodow_of(c.days) % 7;
  int64_t doy = c.days - sql_days_from_ymd(c.y, 1, 1) + 1;
  const char *s = fmt.ptr;
  size_t n = fmt.len, i = 0;
  int rc = 0;
  while (i < n && rc == 0) {
    const char *p = s + i;
    size_t left = n - i;
    bool fm = false;
    if (starts(p, left, "FM") || starts(p, left, "fm")) {
      fm = true;
      i += 2;
      p += 2;
      left -= 2;
      if (left == 0) break;
    }
    int64_t num = 0;
    int width = -1;
    size_t adv = 0;
    if (*p == '"') {
      size_t k = 1;
      while (k < left && p[k] != '"') {
        if (p[k] == '\\' && k + 1 < left) k++;
        rc = tarn_buf_append(b, p + k, 1, err);
        k++;
      }
      i += k + 1;
      continue;
    }
    if (*p == '\\' && left > 1) {
      rc = tarn_buf_append(b, p + 1, 1, err);
      i += 2;
      continue;
    }
    if (starts(p, left, "HH24"))
      num = hour, width = 2, adv = 4;
    else if (starts(p, left, "HH12"))
      num = hour % 12 ? hour % 12 : 12, width = 2, adv = 4;
    else if (starts(p, left, "HH"))
      num = hour % 12 ? hour % 12 : 12, width = 2, adv = 2;
    else if (starts(p, left, "MI"))
      num = min, width = 2, adv = 2;
    else if (starts(p, left, "SSSS"))
      num = c.tod / SQL_USEC_PER_SEC, width = 0, adv = 4;
    else if (starts(p, left, "SS"))
      num = sec, width = 2, adv = 2;
    else if (starts(p, left, "MS"))
      num = us / 1000, width = 3, adv = 2;
    else if (starts(p, left, "US"))
      num = us, width = 6, adv = 2;
    else if (starts(p, left, "Y,YYY")) {
      char tmp[32];
      snprintf(tmp, sizeof tmp, "%lld,%03lld", (long long)(year / 1000), (long long)(year % 1000));
      rc = tarn_buf_puts(b, tmp, err);
      i += 5;
      continue;
    } else if (starts(p, left, "YYYY"))
      num = year, width = 4, adv = 4;
    else if (starts(p, left, "YYY"))
      num = year % 1000, width = 3, adv = 3;
    else if (starts(p, left, "YY"))
      num = year % 100, width = 2, adv = 2;
    else if (starts(p, left, "Y"))
      num = year % 10, width = 1, adv = 1;
    else if (starts(p, left, "IYYY")) {
      int64_t iy;
      int w;
      iso_week(c.days, &iy, &w);
      num = iy, width = 4, adv = 4;
    } else if (starts(p, left, "IW")) {
      int64_t iy;
      int w;
      iso_week(c.days, &iy, &w);
      num = w, width = 2, adv = 2;
    } else if (starts(p, left, "MONTH") || starts(p, left, "Month") || starts(p, left, "month")) {
      rc = put_name(b, month_names[c.m - 1], p, 0, fm, err);
      i += 5;
      continue;
    } else if (starts(p, left, "MON") || starts(p, left, "Mon") || starts(p, left, "mon")) {
      rc = put_name(b, month_names[c.m - 1], p, 3, fm, err);
      i += 3;
      continue;
    } else if (starts(p, left, "MM"))
      num = c.m, width = 2, adv = 2;
    else if (starts(p, left, "DAY") || starts(p, left, "Day") || starts(p, left, "day")) {
      rc = put_name(b, day_names[dow], p, 0, fm, err);
      i += 3;
      continue;
    } else if (starts(p, left, "DY") || starts(p, left, "Dy") || starts(p, left, "dy")) {
      rc = put_name(b, day_names[dow], p, 3, fm, err);
      i += 2;
      continue;
    } else if (starts(p, left, "DDD"))
      num = doy, width = 3, adv = 3;
    else if (starts(p, left, "DD"))
      num = c.d, width = 2, adv = 2;
    else if (starts(p, left, "ID"))
      num = isodow_of(c.days), width = 1, adv = 2;
    else if (starts(p, left, "D"))
      num = dow + 1, width = 1, adv = 1;
    else if (starts(p, left, "WW"))
      num = (doy - 1) / 7 + 1, width = 2, adv = 2;
    else if (starts(p, left, "W"))
      num = (c.d - 1) / 7 + 1, width = 1, adv = 1;
    else if (starts(p, left, "Q"))
      num = (c.m - 1) / 3 + 1, width = 1, adv = 1;
    else if (starts(p, left, "CC"))
      num = c.y > 0 ? (c.y + 99) / 100 : -((99 - (c.y - 1)) / 100), width = 2, adv = 2;
    else if (starts(p, left, "J"))
      num = c.days + 2440588, width = 0, adv = 1;
    else if (starts(p, left, "AM") || starts(p, left, "PM") || starts(p, left, "am") ||
             starts(p, left, "pm")) {
      bool up = isupper((unsigned char)p[0]);
      rc = tarn_buf_puts(b, hour < 12 ? (up ? "AM" : "am") : (up ? "PM" : "pm"), err);
      i += 2;
      continue;
    } else if (starts(p, left, "A.M.") || starts(p, left, "P.M.") || starts(p, left, "a.m.") ||
               starts(p, left, "p.m.")) {
      bool up = isupper((unsigned char)p[0]);
      rc = tarn_buf_puts(b, hour < 12 ? (up ? "A.M." : "a.m.") : (up ? "P.M." : "p.m."), err);
      i += 4;
      continue;
    } else if (starts(p, left, "BC") || starts(p, left, "AD") || starts(p, left, "bc") ||
               starts(p, left, "ad")) {
      bool up = isupper((unsigned char)p[0]);
      rc = tarn_buf_puts(b, c.y <= 0 ? (up ? "BC" : "bc") : (up ? "AD" : "ad"), err);
      i += 2;
      continue;
    } else if (starts(p, left, "TZ") || starts(p, left, "tz")) {
      rc = tarn_buf_puts(b, tz ? (p[0] == 'T' ? "UTC" : "utc") : "", err);
      i += 2;
      continue;
    } else if (starts(p, left, "OF")) {
      rc = tarn_buf_puts(b, tz ? "+00" : "", err);
      i += 2;
      continue;
    } else {
      rc = tarn_buf_append(b, p, 1, err);
      i += 1;
      continue;
    }
    rc = put_num(b, num, width, fm, err);
    i += adv;
    if (rc == 0 && (starts(s + i, n - i, "TH") || starts(s + i, n - i, "th"))) {
      const char *o = ordinal(num);
      char up[3] = {(char)toupper((unsigned char)o[0]), (char)toupper((unsigned char)o[1]), 0};
      rc = tarn_buf_puts(b, s[i] == 'T' ? up : o, err);
      i += 2;
    }
  }
  return rc;
}

/* ---- to_char for numbers --------------------------------------------------------------------- */

/* Formats the magnitude given as integer digits and fraction digits (already rounded to the
 * pattern's fraction positions) with PostgreSQL's numeric template patterns. The sign goes right
 * before the first printed digit unless the pattern places it (MI, PL, SG, a trailing S); a
 * leading S and PR's brackets are anchored to the number the same way. */
static bool tok(const char *f, size_t n, size_t k, const char *w) {
  return k + 1 < n && (memcmp(f + k, w, 2) == 0 || (tolower((unsigned char)f[k]) == w[0] + 32 &&
                                                    tolower((unsigned char)f[k + 1]) == w[1] + 32));
}

static int format_number(tarn_buf *b, bool neg, const char *ip, const char *fp, sql_str fmt,
                         tarn_error *err) {
  const char *f = fmt.ptr;
  size_t n = fmt.len;
  bool fm = false, seen_digit = false, seen_point = false, lead_s = false, placed = false,
       pr = false;
  int int_pos = 0;
  for (size_t k = 0; k < n; k++) {
    if (tok(f, n, k, "FM")) {
      fm = true;
      k++;
    } else if (f[k] == '9' || f[k] == '0') {
      if (!seen_point) int_pos++;
      seen_digit = true;
    } else if (f[k] == '.' || f[k] == 'D') {
      seen_point = true;
    } else if (tok(f, n, k, "PR")) {
      pr = true;
      k++;
    } else if (tok(f, n, k, "MI") || tok(f, n, k, "SG")) {
      placed = true; /* PL only adds a '+': the minus stays anchored */
      k++;
    } else if (tok(f, n, k, "PL") || tok(f, n, k, "TH")) {
      k++;
    } else if (f[k] == 'S') {
      if (!seen_digit && !seen_point)
        lead_s = true;
      else
        placed = true;
    }
  }
  const char *anchor = pr       ? (neg  ? "<"
                                   : fm ? ""
                                        : " ")
                       : lead_s ? (neg ? "-" : "+")
                       : placed ? ""
                       : neg    ? "-"
                       : fm     ? ""
                                : " ";
  size_t il = strlen(ip);
  if (il == 1 && ip[0] == '0' && (seen_point || int_pos == 0)) il = 0; /* 0.5 prints as .5 */
  bool overflow = (int)il > int_pos;
  int rc = 0, pos = 0, fpos = 0;
  bool started = false, anchored = false, point_done = false, zero_pad = false;
  for (size_t k = 0; k < n && rc == 0; k++) {
    char c = f[k];
    if (tok(f, n, k, "FM")) {
      k++;
      continue;
    }
    if ((c == '9' || c == '0') && !point_done) {
      if (c == '0') zero_pad = true;
      int idx = pos - (int_pos - (int)il);
      pos++;
      char d;
      if (overflow)
        d = '#';
      else if (idx >= 0)
        d = ip[idx];
      else if (zero_pad)
        d = '0';
      else {
        if (!fm) rc = tarn_buf_append(b, " ", 1, err);
        continue;
      }
      if (!anchored) rc = tarn_buf_puts(b, anchor, err);
      anchored = started = true;
      if (rc == 0) rc = tarn_buf_append(b, &d, 1, err);
    } else if (c == '9' || c == '0') {
      char d = overflow ? '#' : fp[fpos] ? fp[fpos] : '0';
      fpos++;
      rc = tarn_buf_append(b, &d, 1, err);
    } else if (c == '.' || c == 'D') {
      if (!anchored) rc = tarn_buf_puts(b, anchor, err);
      anchored = true;
      point_done = true;
      if (rc == 0) rc = tarn_buf_append(b, overflow ? "#" : ".", 1, err);
    } else if (c == ',' || c == 'G') {
      if (started)
        rc = tarn_buf_append(b, ",", 1, err);
      else if (!fm)
        rc = tarn_buf_append(b, " ", 1, err);
    } else if (c == 'S' && !tok(f, n, k, "SG")) {
      if (!lead_s) rc = tarn_buf_append(b, neg ? "-" : "+", 1, err);
    } else if (tok(f, n, k, "MI")) {
      if (neg || !fm) rc = tarn_buf_append(b, neg ? "-" : " ", 1, err);
      k++;
    } else if (tok(f, n, k, "PL")) {
      rc = tarn_buf_append(b, neg ? " " : "+", 1, err);
      k++;
    } else if (tok(f, n, k, "SG")) {
      rc = tarn_buf_append(b, neg ? "-" : "+", 1, err);
      k++;
    } else if (tok(f, n, k, "PR")) {
      if (neg || !fm) rc = tarn_buf_append(b, neg ? ">" : " ", 1, err);
      k++;
    } else if (tok(f, n, k, "TH")) {
      /* the ordinal suffix of the integer part (nothing when it did not fit) */
      if (!overflow) {
        int64_t last2 = 0;
        for (size_t d = 0; ip[d]; d++)
          last2 = (last2 * 10 + (ip[d] - '0')) % 100;
        const char *o = ordinal(last2);
        char up[3] = {(char)toupper((unsigned char)o[0]), (char)toupper((unsigned char)o[1]), 0};
        rc = tarn_buf_puts(b, f[k] == 'T' ? up : o, err);
      }
      k++;
    } else {
      rc = tarn_buf_append(b, &c, 1, err);
    }
  }
  if (rc == 0 && fm && !overflow) {
    /* FM drops trailing zeros printed for '9' fraction positions ('0' positions stay). */
    int nines = 0;
    bool in_frac = false;
    for (size_t k = 0; k < n; k++)
      if (f[k] == '.' || f[k] == 'D') in_frac = true;
    for (size_t k = n; in_frac && k-- > 0;) {
      if (f[k] == '9')
        nines++;
      else if (f[k] == '0' || f[k] == '.' || f[k] == 'D')
        break;
    }
    size_t tail = 0; /* sign characters printed after the digits stay */
    while (tail < b->len &&
           (b->data[b->len - 1 - tail] == '-' || b->data[b->len - 1 - tail] == '+' ||
            b->data[b->len - 1 - tail] == '>'))
      tail++;
    size_t end = b->len - tail;
    size_t cut = 0;
    while (nines-- > 0 && end - cut > 0 && b->data[end - cut - 1] == '0')
      cut++;
    if (cut) {
      memmove(b->data + end - cut, b->data + end, tail);
      b->len -= cut;
    }
  }
  return rc;
}

static int frac_positions(sql_str fmt) {
  int frac = 0;
  bool point = false;
  for (uint64_t k = 0; k < fmt.len; k++) {
    char c = fmt.ptr[k];
    if (c == '.' || c == 'D')
      point = true;
    else if ((c == '9' || c == '0') && point)
      frac++;
  }
  return frac;
}

static int k_to_char(sql_eval_ctx *ctx, const sql_func *f, sql_vec *const *args, size_t n_args,
                     uint32_t n, sql_vec *out) {
  (void)f;
  (void)n_args;
  sql_strbuf sb;
  sql_strbuf_init(&sb, ctx->mem);
  tarn_buf b = {0};
  int rc = 0;
  sql_type_id t = args[0]->type->id;
  for (uint32_t i = 0; i < n && rc == 0; i++) {
    if (out_null(out, i)) continue;
    sql_str fmt = ARG_STR(1, i);
    b.len = 0;
    if (t == SQL_TIMESTAMP || t == SQL_TIMESTAMPTZ) {
      int64_t ts = ARG_I64(0, i);
      if (!sql_ts_finite(ts)) {
        if (sql_vec_nulls(ctx->mem, out) == NULL) return sql_oom(ctx);
        out->nulls[i] = 1;
        continue;
      }
      rc = format_ts(&b, ts, t == SQL_TIMESTAMPTZ, fmt, ctx->err);
    } else {
      int frac = frac_positions(fmt);
      char digits[128];
      bool neg;
      if (t == SQL_DECIMAL) {
        sql_i128 v = SQL_VEC_I128(args[0])[SQL_ARG_ROW(args[0], i)], r;
        int s = args[0]->type->scale;
        if (!sql_dec_rescale(v, s, frac > 38 ? 38 : frac, &r)) r = v;
        neg = r < 0;
        sql_dec_format(neg ? -r : r, frac > 38 ? 38 : frac, digits);
      } else if (t == SQL_FLOAT4 || t == SQL_FLOAT8) {
        double d = ARG_F64(0, i);
        neg = d < 0;
        snprintf(digits, sizeof digits, "%.*f", frac > 60 ? 60 : frac, fabs(d));
        if (strlen(digits) > 100) snprintf(digits, sizeof digits, "%s", "0");
      } else {
        int64_t v = ARG_I64(0, i);
        neg = v < 0;
        snprintf(digits, sizeof digits, "%llu",
                 (unsigned long long)(neg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v));
        if (frac) {
          size_t l = strlen(digits);
          digits[l++] = '.';
          for (int k = 0; k < frac && l < 120; k++)
            digits[l++] = '0';
          digits[l] = '\0';
        }
      }
      char *dot = strchr(digits, '.');
      const char *fp = "";
      if (dot) {
        *dot = '\0';
        fp = dot + 1;
      }
      rc = format_number(&b, neg, digits, fp, fmt, ctx->err);
    }
    if (rc == 0 && sql_strbuf_put(&sb, (const char *)b.data, b.len, &SQL_VEC_STR(out)[i]))
      rc = sql_oom(ctx);
  }
  tarn_buf_free(&b);
  return rc;
}

/* ---- to_date / to_timestamp(text, format) ---------------------------------------------------- */

static bool read_int(const char *s, size_t n, size_t *i, int maxw, int64_t *v) {
  while (*i < n && s[*i] == ' ')
    (*i)++;
  bool neg = false;
  if (*i < n && (s[*i] == '-' || s[*i] == '+')) neg = s[(*i)++] == '-';
  int k = 0;
  int64_t x = 0;
  while (*i < n && k < maxw && s[*i] >= '0' && s[*i] <= '9') {
    x = x * 10 + (s[*i] - '0');
    (*i)++;
    k++;
  }
  *v = neg ? -x : x;
  return k > 0;
}

static int match_name(const char *s, size_t n, size_t *i, const char *const *names, int count,
                      size_t len) {
  for (int k = 0; k < count; k++) {
    size_t l = len ? len : strlen(names[k]);
    if (*i + l > n) continue;
    bool ok = true;
    for (size_t j = 0; j < l && ok; j++)
      ok = tolower((unsigned char)s[*i + j]) == tolower((unsigned char)names[k][j]);
    if (ok) {
      *i += l;
      return k;
    }
  }
  return -1;
}

/* True when the template item at k is directly followed by another digit field (YYYYMMDD), so
 * the numeric field at k must take exactly its nominal width. */
static bool packed(const char *f, size_t m, size_t k) {
  return k < m &&
         (f[k] == 'Y' || f[k] == 'M' || f[k] == 'D' || f[k] == 'H' || f[k] == 'S' || f[k] == 'U' ||
          f[k] == 'I' || f[k] == 'y' || f[k] == 'm' || f[k] == 'd' || f[k] == 'h' || f[k] == 's');
}

static int parse_with_format(sql_eval_ctx *ctx, sql_str in, sql_str fmt, bool want_date,
                             int64_t *out) {
  const char *s = in.ptr, *f = fmt.ptr;
  size_t n = in.len, m = fmt.len, i = 0, k = 0;
  int64_t year = 1, month = 1, day = 1, hour = 0, min = 0, sec = 0, us = 0, doy = -1;
  int pm = -1;
  bool bc = false, h12 = false;
  while (k < m) {
    const char *p = f + k;
    size_t left = m - k;
    int64_t v;
    bool ok = true;
    if (starts(p, left, "FM") || starts(p, left, "fm")) {
      k += 2;
      continue;
    }
    if (starts(p, left, "HH24"))
      ok = read_int(s, n, &i, 2, &hour), k += 4;
    else if (starts(p, left, "HH12"))
      ok = read_int(s, n, &i, 2, &hour), h12 = true, k += 4;
    else if (starts(p, left, "HH"))
      ok = read_int(s, n, &i, 2, &hour), h12 = true, k += 2;
    else if (starts(p, left, "MI"))
      ok = read_int(s, n, &i, 2, &min), k += 2;
    else if (starts(p, left, "SS"))
      ok = read_int(s, n, &i, 2, &sec), k += 2;
    else if (starts(p, left, "MS")) {
      size_t i0 = i;
      ok = read_int(s, n, &i, 3, &v);
      for (size_t d = i - i0; d < 3; d++)
        v *= 10;
      us += v * 1000;
      k += 2;
    } else if (starts(p, left, "US")) {
      size_t i0 = i;
      ok = read_int(s, n, &i, 6, &v);
      for (size_t d = i - i0; d < 6; d++)
        v *= 10;
      us += v;
      k += 2;
    } else if (starts(p, left, "YYYY"))
      ok = read_int(s, n, &i, packed(f, m, k + 4) ? 4 : 9, &year), k += 4;
    else if (starts(p, left, "YYY")) {
      ok = read_int(s, n, &i, 3, &year);
      year += year < 100 ? 2000 : 1000;
      k += 3;
    } else if (starts(p, left, "YY")) {
      ok = read_int(s, n, &i, 2, &year);
      year += year < 70 ? 2000 : 1900;
      k += 2;
    } else if (starts(p, left, "MONTH") || starts(p, left, "Month") || starts(p, left, "month")) {
      int mk = match_name(s, n, &i, month_names, 12, 0);
      ok = mk >= 0;
      month = mk + 1;
      k += 5;
    } else if (starts(p, left, "MON") || starts(p, left, "Mon") || starts(p, left, "mon")) {
      int mk = match_name(s, n, &i, month_names, 12, 3);
      ok = mk >= 0;
      month = mk + 1;
      k += 3;
    } else if (starts(p, left, "MM"))
      ok = read_int(s, n, &i, 2, &month), k += 2;
    else if (starts(p, left, "DAY") || starts(p, left, "Day") || starts(p, left, "day")) {
      ok = match_name(s, n, &i, day_names, 7, 0) >= 0;
      k += 3;
    } else if (starts(p, left, "DY") || starts(p, left, "Dy") || starts(p, left, "dy")) {
      ok = match_name(s, n, &i, day_names, 7, 3) >= 0;
      k += 2;
    } else if (starts(p, left, "DDD"))
      ok = read_int(s, n, &i, 3, &doy), k += 3;
    else if (starts(p, left, "DD"))
      ok = read_int(s, n, &i, 2, &day), k += 2;
    else if (starts(p, left, "AM") || starts(p, left, "PM") || starts(p, left, "am") ||
             starts(p, left, "pm")) {
      static const char *const ampm[2] = {"am", "pm"};
      pm = match_name(s, n, &i, ampm, 2, 2);
      ok = pm >= 0;
      k += 2;
    } else if (starts(p, left, "BC") || starts(p, left, "AD") || starts(p, left, "bc") ||
               starts(p, left, "ad")) {
      static const char *const era[2] = {"bc", "ad"};
      int e = match_name(s, n, &i, era, 2, 2);
      ok = e >= 0;
      bc = e == 0;
      k += 2;
    } else if (*p == '"') {
      k++;
      while (k < m && f[k] != '"') {
        if (i < n) i++;
        k++;
      }
      k++;
    } else {
      /* A separator in the template skips one non-alphanumeric character of the input. */
      if (*p == ' ') {
        while (i < n && s[i] == ' ')
          i++;
      } else if (i < n && !isalnum((unsigned char)s[i])) {
        i++;
      }
      k++;
    }
    if (!ok)
      return tarn_err(ctx->err, TARN_EINVAL, "invalid value \"%.*s\" for \"%.*s\"",
                      (int)(n - i > 20 ? 20 : n - i), s + i, (int)(left > 10 ? 10 : left), p);
  }
  if (h12) {
    if (hour < 1 || hour > 12)
      return tarn_err(ctx->err, TARN_EINVAL, "hour \"%lld\" is invalid for the 12-hour clock",
                      (long long)hour);
    if (pm == 1 && hour < 12) hour += 12;
    if (pm == 0 && hour == 12) hour = 0;
  } else if (pm == 1 && hour < 12) {
    hour += 12;
  }
  if (bc) year = 1 - year;
  if (doy >= 0) {
    month = 1;
    day = 1;
  }
  if (month < 1 || month > 12 || day < 1 || day > sql_days_in_month(year, (int)month) ||
      hour > 24 || min > 59 || sec > 60 || year > 294000 || year < -4713)
    return tarn_err(ctx->err, TARN_EINVAL, "date/time field value out of range: \"%.*s\"",
                    (int)(n > 60 ? 60 : n), s);
  int64_t days = sql_days_from_ymd(year, (int)month, (int)day) + (doy > 0 ? doy - 1 : 0);
  if (want_date) {
    *out = days;
    return 0;
  }
  *out = days * SQL_USEC_PER_DAY + hour * SQL_USEC_PER_HOUR + min * SQL_USEC_PER_MIN +
         sec * SQL_USEC_PER_SEC + us;
  return 0;
}

static int k_to_date(sql_eval_ctx *ctx, const sql_func *f, sql_vec *const *args, size_t n_args,
                     uint32_t n, sql_vec *out) {
  (void)n_args;
  for (uint32_t i = 0; i < n; i++) {
    if (out_null(out, i)) continue;
    int rc = parse_with_format(ctx, ARG_STR(0, i), ARG_STR(1, i), f->op == 0, &SQL_VEC_I64(out)[i]);
    if (rc) return rc;
  }
  return 0;
}

/* timezone(zone, value): AT TIME ZONE, for UTC only (the session zone). */
static int k_timezone(sql_eval_ctx *ctx, const sql_func *f, sql_vec *const *args, size_t n_args,
                      uint32_t n, sql_vec *out) {
  (void)f;
  (void)n_args;
  for (uint32_t i = 0; i < n; i++) {
    if (out_null(out, i)) continue;
    sql_str z = ARG_STR(0, i);
    if (!ieq(z.ptr, z.len, "utc") && !ieq(z.ptr, z.len, "gmt") && !ieq(z.ptr, z.len, "z") &&
        !ieq(z.ptr, z.len, "etc/utc") && !ieq(z.ptr, z.len, "utc0"))
      return tarn_err(ctx->err, TARN_EINVAL, "time zone \"%.*s\" not recognized",
                      (int)(z.len > 60 ? 60 : z.len), z.ptr);
    SQL_VEC_I64(out)[i] = ARG_I64(1, i);
  }
  return 0;
}

#define TXT SQL_TEXT
#define TS SQL_TIMESTAMP
#define TSZ SQL_TIMESTAMPTZ
#define IV SQL_INTERVAL
#define I4 SQL_INT4
#define F8 SQL_FLOAT8
#define N0(name, op, r)                                                                            \
  { name, k_now, op, 0, 0, {0, 0, 0, 0}, r, SQL_F_VOLATILE }
#define B(name, k, op, a, b, r)                                                                    \
  { name, k, op, 2, 2, {a, b, 0, 0}, r, 0 }
#define U(name, k, op, a, r)                                                                       \
  { name, k, op, 1, 1, {a, 0, 0, 0}, r, 0 }

const sql_func_def sql_time_defs[] = {
    N0("now", NOW_TSTZ, TSZ),
    N0("current_timestamp", NOW_TSTZ, TSZ),
    N0("transaction_timestamp", NOW_TSTZ, TSZ),
    N0("statement_timestamp", NOW_TSTZ, TSZ),
    N0("clock_timestamp", NOW_CLOCK, TSZ),
    N0("localtimestamp", NOW_TSTZ, TS),
    N0("current_date", NOW_DATE, SQL_DATE),
    N0("current_time", NOW_TIME, SQL_TIME),
    N0("localtime", NOW_TIME, SQL_TIME),
    B("date_part", k_extract, 1, TXT, TS, F8),
    B("date_part", k_extract, 1, TXT, TSZ, F8),
    B("date_part", k_extract, 1, TXT, SQL_DATE, F8),
    B("date_part", k_extract, 1, TXT, SQL_TIME, F8),
    B("date_part", k_extract, 1, TXT, IV, F8),
    B("extract", k_extract, 0, TXT, TS, SQL_R_EXTRACT),
    B("extract", k_extract, 0, TXT, TSZ, SQL_R_EXTRACT),
    B("extract", k_extract, 0, TXT, SQL_DATE, SQL_R_EXTRACT),
    B("extract", k_extract, 0, TXT, SQL_TIME, SQL_R_EXTRACT),
    B("extract", k_extract, 0, TXT, IV, SQL_R_EXTRACT),
    B("date_trunc", k_date_trunc, 0, TXT, TS, TS),
    B("date_trunc", k_date_trunc, 0, TXT, TSZ, TSZ),
    B("date_trunc", k_date_trunc, 0, TXT, IV, IV),
    {"make_date", k_make, MK_DATE, 3, 3, {I4, I4, I4, 0}, SQL_DATE, 0},
    {"make_timestamp", k_make, MK_TIMESTAMP, 6, 6, {I4, I4, I4, F8}, TS, 0},
    {"make_time", k_make, MK_TIME, 3, 3, {I4, I4, F8, 0}, SQL_TIME, 0},
    U("to_timestamp", k_make, TO_TS_EPOCH, F8, TSZ),
    B("to_timestamp", k_to_date, 1, TXT, TXT, TSZ),
    B("to_date", k_to_date, 0, TXT, TXT, SQL_DATE),
    B("to_char", k_to_char, 0, TS, TXT, TXT),
    B("to_char", k_to_char, 0, TSZ, TXT, TXT),
    B("to_char", k_to_char, 0, I4, TXT, TXT),
    B("to_char", k_to_char, 0, SQL_INT8, TXT, TXT),
    B("to_char", k_to_char, 0, SQL_FLOAT4, TXT, TXT),
    B("to_char", k_to_char, 0, F8, TXT, TXT),
    B("to_char", k_to_char, 0, SQL_A_DEC, TXT, TXT),
    B("age", k_interval_fn, J_AGE2, TS, TS, IV),
    B("age", k_interval_fn, J_AGE2, TSZ, TSZ, IV),
    U("age", k_interval_fn, J_AGE1, TS, IV),
    U("age", k_interval_fn, J_AGE1, TSZ, IV),
    U("justify_days", k_interval_fn, J_DAYS, IV, IV),
    U("justify_hours", k_interval_fn, J_HOURS, IV, IV),
    U("justify_interval", k_interval_fn, J_INTERVAL, IV, IV),
    B("timezone", k_timezone, 0, TXT, TSZ, TS),
    B("timezone", k_timezone, 0, TXT, TS, TSZ),
};
const size_t sql_time_n_defs = sizeof sql_time_defs / sizeof *sql_time_defs;
