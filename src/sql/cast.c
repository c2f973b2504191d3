/*
 * Casts between SQL types, PostgreSQL's text forms of values, and value comparison.
 *
 * Everything here follows PostgreSQL rather than C: numeric rounds half away from zero, float to
 * integer rounds half to even (rint), float8 prints the shortest text that reads back to the same
 * value and switches to exponent form where PostgreSQL does, intervals print in the 'postgres'
 * style ('1 year 2 mons 3 days 04:05:06'), and every failed input names the type and quotes the
 * text as PostgreSQL's messages do. The session time zone is UTC, so timestamptz input applies
 * the offset it carries and output always ends in '+00'.
 *
 * Decimals are 128-bit integers below 10^38 in magnitude. Products and quotients that do not fit
 * 128 bits go through a 256-bit path (four 64-bit limbs) so that exact results are never lost to
 * an intermediate overflow; the common case (operands under 2^63) stays on native arithmetic.
 *
 * The calendar is the proleptic Gregorian one PostgreSQL uses, with astronomical years inside
 * (year 0 is 1 BC) and the BC suffix only in text.
 */
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/expr_impl.h"

int sql_oom(sql_eval_ctx *ctx) { return tarn_err(ctx->err, TARN_ENOMEM, "out of memory"); }

/* ---- decimals ------------------------------------------------------------------------------- */

static const uint64_t pow10_u64[20] = {1ULL,
                                       10ULL,
                                       100ULL,
                                       1000ULL,
                                       10000ULL,
                                       100000ULL,
                                       1000000ULL,
                                       10000000ULL,
                                       100000000ULL,
                                       1000000000ULL,
                                       10000000000ULL,
                                       100000000000ULL,
                                       1000000000000ULL,
                                       10000000000000ULL,
                                       100000000000000ULL,
                                       1000000000000000ULL,
                                       10000000000000000ULL,
                                       100000000000000000ULL,
                                       1000000000000000000ULL,
                                       10000000000000000000ULL};

sql_i128 sql_pow10(int k) {
  if (k <= 19) return (sql_i128)pow10_u64[k < 0 ? 0 : k];
  return (sql_i128)pow10_u64[19] * (sql_i128)pow10_u64[k - 19];
}

static sql_u128 uabs128(sql_i128 v) { return v < 0 ? (sql_u128)0 - (sql_u128)v : (sql_u128)v; }

static sql_i128 div_round(sql_i128 v, sql_i128 p) {
  sql_i128 q = v / p, r = v % p;
  sql_i128 ar = r < 0 ? -r : r;
  if (ar != 0 && ar >= p - ar) q += v < 0 ? -1 : 1;
  return q;
}

sql_i128 sql_dec_div_pow10_round(sql_i128 v, int k) {
  if (k <= 0) return v;
  if (k > 38) return 0;
  return div_round(v, sql_pow10(k));
}

bool sql_dec_rescale(sql_i128 v, int from_scale, int to_scale, sql_i128 *out) {
  if (to_scale == from_scale) {
    *out = v;
    return sql_dec_fits(v, 38);
  }
  if (to_scale > from_scale) {
    int k = to_scale - from_scale;
    if (v == 0) {
      *out = 0;
      return true;
    }
    if (k >= 38) return false;
    sql_i128 lim = sql_pow10(38 - k);
    if (v >= lim || v <= -lim) return false;
    *out = v * sql_pow10(k);
    return true;
  }
  *out = sql_dec_div_pow10_round(v, from_scale - to_scale);
  return true;
}

/* 256-bit magnitudes as four little-endian 64-bit limbs. */
typedef struct u256 {
  uint64_t l[4];
} u256;

static u256 u256_from(sql_u128 v) {
  u256 r = {{(uint64_t)v, (uint64_t)(v >> 64), 0, 0}};
  return r;
}

static u256 u256_mul128(sql_u128 a, sql_u128 b) {
  uint64_t a0 = (uint64_t)a, a1 = (uint64_t)(a >> 64), b0 = (uint64_t)b, b1 = (uint64_t)(b >> 64);
  sql_u128 p00 = (sql_u128)a0 * b0, p01 = (sql_u128)a0 * b1, p10 = (sql_u128)a1 * b0,
           p11 = (sql_u128)a1 * b1;
  sql_u128 mid = (p00 >> 64) + (uint64_t)p01 + (uint64_t)p10;
  sql_u128 hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
  u256 r = {{(uint64_t)p00, (uint64_t)mid, (uint64_t)hi, (uint64_t)(hi >> 64)}};
  return r;
}

/* x *= m; false when the product needs more than 256 bits. */
static bool u256_mul64(u256 *x, uint64_t m) {
  sql_u128 carry = 0;
  for (int i = 0; i < 4; i++) {
    sql_u128 cur = (sql_u128)x->l[i] * m + carry;
    x->l[i] = (uint64_t)cur;
    carry = cur >> 64;
  }
  return carry == 0;
}

/* x /= d, returning the remainder. */
static uint64_t u256_div64(u256 *x, uint64_t d) {
  sql_u128 r = 0;
  for (int i = 3; i >= 0; i--) {
    sql_u128 cur = (r << 64) | x->l[i];
    x->l[i] = (uint64_t)(cur / d);
    r = cur % d;
  }
  return (uint64_t)r;
}

/* x /= d for a 128-bit d, bit by bit (the rare path), returning the remainder. */
static sql_u128 u256_div128(u256 *x, sql_u128 d) {
  sql_u128 r = 0;
  u256 q = {{0, 0, 0, 0}};
  for (int bit = 255; bit >= 0; bit--) {
    int carry = (int)(r >> 127);
    r = (r << 1) | ((x->l[bit / 64] >> (bit % 64)) & 1);
    if (carry || r >= d) {
      r -= d;
      q.l[bit / 64] |= (uint64_t)1 << (bit % 64);
    }
  }
  *x = q;
  return r;
}

static bool u256_to_dec(const u256 *x, bool neg, sql_i128 *out) {
  if (x->l[2] || x->l[3]) return false;
  sql_u128 v = ((sql_u128)x->l[1] << 64) | x->l[0];
  if (v >= (sql_u128)sql_pow10(38)) return false;
  *out = neg ? -(sql_i128)v : (sql_i128)v;
  return true;
}

/* x / 10^k rounded half away from zero (magnitudes). */
static void u256_div_pow10_round(u256 *x, int k) {
  while (k > 19) {
    u256_div64(x, pow10_u64[19]);
    k -= 19;
  }
  if (k <= 0) return;
  uint64_t d = pow10_u64[k];
  uint64_t r = u256_div64(x, d);
  if (r != 0 && r >= d - r) {
    for (int i = 0; i < 4; i++)
      if (++x->l[i] != 0) break;
  }
}

static bool fits_i64(sql_i128 v) { return v >= INT64_MIN && v <= INT64_MAX; }

bool sql_dec_mul(sql_i128 a, sql_i128 b, int down, sql_i128 *out) {
  if (fits_i64(a) && fits_i64(b)) {
    /* Both below 2^63: the product is below 2^126 < 10^38 and exact. */
    sql_i128 p = (sql_i128)(int64_t)a * (int64_t)b;
    if (down > 0) p = sql_dec_div_pow10_round(p, down);
    *out = p;
    return sql_dec_fits(p, 38);
  }
  bool neg = (a < 0) != (b < 0);
  u256 x = u256_mul128(uabs128(a), uabs128(b));
  u256_div_pow10_round(&x, down);
  return u256_to_dec(&x, neg, out);
}

bool sql_dec_div(sql_i128 a, sql_i128 b, int up, sql_i128 *out) {
  bool neg = (a < 0) != (b < 0);
  sql_u128 ua = uabs128(a), ub = uabs128(b);
  if (ua >> 64 == 0 && up <= 19) {
    sql_u128 num = ua * pow10_u64[up < 0 ? 0 : up];
    sql_u128 q = num / ub, r = num % ub;
    if (r != 0 && r >= ub - r) q++;
    if (q >= (sql_u128)sql_pow10(38)) return false;
    *out = neg ? -(sql_i128)q : (sql_i128)q;
    return true;
  }
  u256 x = u256_from(ua);
  for (int k = up; k > 0; k -= 19)
    if (!u256_mul64(&x, pow10_u64[k > 19 ? 19 : k])) return false;
  sql_u128 r;
  if (ub >> 64 == 0)
    r = u256_div64(&x, (uint64_t)ub);
  else
    r = u256_div128(&x, ub);
  if (r != 0 && r >= ub - r) {
    for (int i = 0; i < 4; i++)
      if (++x.l[i] != 0) break;
  }
  return u256_to_dec(&x, neg, out);
}

size_t sql_dec_format(sql_i128 v, int scale, char *buf) {
  char tmp[48];
  int n = 0;
  sql_u128 u = uabs128(v);
  while (u >> 64 != 0) {
    uint64_t chunk = (uint64_t)(u % pow10_u64[19]);
    u /= pow10_u64[19];
    for (int k = 0; k < 19; k++) {
      tmp[n++] = (char)('0' + chunk % 10);
      chunk /= 10;
    }
  }
  uint64_t w = (uint64_t)u;
  do {
    tmp[n++] = (char)('0' + w % 10);
    w /= 10;
  } while (w);
  /* Drop leading zeros the chunked loop may have produced, then pad to one integer digit. */
  while (n > 1 && tmp[n - 1] == '0')
    n--;
  while (n <= scale)
    tmp[n++] = '0';
  size_t len = 0;
  if (v < 0) buf[len++] = '-';
  for (int k = n - 1; k >= 0; k--) {
    buf[len++] = tmp[k];
    if (k == scale && scale > 0) buf[len++] = '.';
  }
  buf[len] = '\0';
  return len;
}

static bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static void trim(const char **s, size_t *n) {
  while (*n && is_space(**s)) {
    (*s)++;
    (*n)--;
  }
  while (*n && is_space((*s)[*n - 1]))
    (*n)--;
}

int sql_dec_parse(const char *s, size_t n, int precision, int scale, sql_i128 *out) {
  trim(&s, &n);
  size_t i = 0;
  bool neg = false;
  if (i < n && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  /* Significant digits (leading zeros dropped), and the power of ten of the last one. */
  char digits[80];
  int nd = 0;
  int64_t exp10 = 0;
  bool any = false, point = false;
  for (; i < n; i++) {
    char c = s[i];
    if (c >= '0' && c <= '9') {
      any = true;
      if (point) exp10--;
      if (nd == 0 && c == '0') continue;
      if (nd < 78) {
        digits[nd++] = c;
      } else {
        /* Beyond 78 significant digits nothing can reach a 38-digit result. */
        exp10++;
      }
    } else if (c == '.' && !point) {
      point = true;
    } else {
      break;
    }
  }
  if (!any) return SQL_PARSE_SYNTAX;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    bool eneg = false;
    if (i < n && (s[i] == '+' || s[i] == '-')) eneg = s[i++] == '-';
    if (i >= n || s[i] < '0' || s[i] > '9') return SQL_PARSE_SYNTAX;
    int64_t e = 0;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
      if (e < 100000) e = e * 10 + (s[i] - '0');
    exp10 += eneg ? -e : e;
  }
  if (i != n) return SQL_PARSE_SYNTAX;
  /* value = digits * 10^exp10; we want round(value * 10^scale). */
  int64_t shift = exp10 + scale;
  sql_i128 v = 0;
  if (nd == 0) {
    *out = 0;
    return 0;
  }
  if (shift >= 0) {
    if (nd + shift > 38) return SQL_PARSE_RANGE;
    for (int k = 0; k < nd; k++)
      v = v * 10 + (digits[k] - '0');
    v *= sql_pow10((int)shift);
  } else {
    int64_t keep = nd + shift;
    int round_digit;
    if (keep < 0) {
      round_digit = 0;
    } else {
      if (keep > 38) return SQL_PARSE_RANGE;
      for (int64_t k = 0; k < keep; k++)
        v = v * 10 + (digits[k] - '0');
      round_digit = digits[keep] - '0';
    }
    if (round_digit >= 5) v++;
  }
  if (!sql_dec_fits(v, precision)) return SQL_PARSE_RANGE;
  *out = neg ? -v : v;
  return 0;
}

double sql_dec_to_double(sql_i128 v, int scale) {
  sql_u128 u = uabs128(v);
  if (u < ((sql_u128)1 << 53) && scale <= 19) {
    /* Both operands exact in a double: one correctly rounded division. */
    double d = (double)(uint64_t)u / (double)pow10_u64[scale];
    return v < 0 ? -d : d;
  }
  char buf[64];
  sql_dec_format(v, scale, buf);
  return strtod(buf, NULL);
}

int sql_dec_from_double(double d, bool float4, int precision, int scale, sql_i128 *out) {
  if (isnan(d) || isinf(d)) return 1;
  char buf[64];
  snprintf(buf, sizeof buf, "%.*g", float4 ? FLT_DIG : DBL_DIG, d);
  int rc = sql_dec_parse(buf, strlen(buf), precision, scale, out);
  return rc == SQL_PARSE_RANGE ? 2 : rc ? 1 : 0;
}

/* ---- calendar ------------------------------------------------------------------------------- */

int64_t sql_days_from_ymd(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void sql_ymd_from_days(int64_t z, int64_t *y, int *m, int *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

static bool leap_year(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int sql_days_in_month(int64_t y, int m) {
  static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12) return 0;
  return m == 2 && leap_year(y) ? 29 : dm[m - 1];
}

bool sql_date_ok(int64_t d) { return d >= SQL_DATE_MIN && d < SQL_DATE_END; }
bool sql_ts_finite(int64_t ts) { return ts != SQL_TS_NOBEGIN && ts != SQL_TS_NOEND; }
bool sql_ts_ok(int64_t ts) { return ts >= SQL_TS_MIN && ts < SQL_TS_END; }

sql_i128 sql_interval_key(sql_interval iv) {
  return (sql_i128)iv.months * 30 * SQL_USEC_PER_DAY + (sql_i128)iv.days * SQL_USEC_PER_DAY +
         iv.micros;
}

bool sql_ts_add_interval(int64_t ts, sql_interval iv, int sign, int64_t *out) {
  if (!sql_ts_finite(ts)) {
    *out = ts;
    return true;
  }
  int64_t months = (int64_t)iv.months * sign, days = (int64_t)iv.days * sign;
  int64_t micros = iv.micros;
  if (sign < 0) {
    if (micros == INT64_MIN) return false;
    micros = -micros;
  }
  if (months != 0) {
    int64_t day = sql_floor_div(ts, SQL_USEC_PER_DAY);
    int64_t tod = ts - day * SQL_USEC_PER_DAY;
    int64_t y;
    int m, d;
    sql_ymd_from_days(day, &y, &m, &d);
    int64_t mi = y * 12 + (m - 1) + months;
    y = sql_floor_div(mi, 12);
    m = (int)(mi - y * 12) + 1;
    int dim = sql_days_in_month(y, m);
    if (d > dim) d = dim;
    if (y > 300000 || y < -5000) return false;
    ts = sql_days_from_ymd(y, m, d) * SQL_USEC_PER_DAY + tod;
  }
  int64_t dd;
  if (__builtin_mul_overflow(days, SQL_USEC_PER_DAY, &dd) || __builtin_add_overflow(ts, dd, &ts) ||
      __builtin_add_overflow(ts, micros, &ts))
    return false;
  if (!sql_ts_ok(ts)) return false;
  *out = ts;
  return true;
}

/* ---- formatting ----------------------------------------------------------------------------- */

size_t sql_fmt_int(int64_t v, char *buf) {
  char tmp[24];
  int n = 0;
  uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  do {
    tmp[n++] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  size_t len = 0;
  if (v < 0) buf[len++] = '-';
  while (n)
    buf[len++] = tmp[--n];
  buf[len] = '\0';
  return len;
}

static bool round_trips(double d, bool float4, int prec, char *buf, size_t cap) {
  snprintf(buf, cap, "%.*e", prec - 1, d);
  if (float4) return strtof(buf, NULL) == (float)d;
  return strtod(buf, NULL) == d;
}

size_t sql_fmt_double(double d, bool float4, char *buf) {
  if (isnan(d)) return (size_t)sprintf(buf, "NaN");
  if (isinf(d)) return (size_t)sprintf(buf, d < 0 ? "-Infinity" : "Infinity");
  if (d == 0) return (size_t)sprintf(buf, signbit(d) ? "-0" : "0");
  /* The fewest significant digits that read back to the same value. */
  char e[48];
  int lo = 1, hi = float4 ? 9 : 17;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (round_trips(d, float4, mid, e, sizeof e))
      hi = mid;
    else
      lo = mid + 1;
  }
  snprintf(e, sizeof e, "%.*e", lo - 1, d);
  /* e = [-]d[.ddd]e[+-]XX */
  const char *p = e;
  bool neg = *p == '-';
  if (neg) p++;
  char digits[24];
  int nd = 0;
  for (; *p && *p != 'e'; p++)
    if (*p >= '0' && *p <= '9') digits[nd++] = *p;
  int exp10 = atoi(p + 1);
  while (nd > 1 && digits[nd - 1] == '0')
    nd--;
  size_t len = 0;
  if (neg) buf[len++] = '-';
  if (exp10 < -4 || exp10 >= (float4 ? 6 : 15)) {
    buf[len++] = digits[0];
    if (nd > 1) {
      buf[len++] = '.';
      for (int k = 1; k < nd; k++)
        buf[len++] = digits[k];
    }
    len += (size_t)sprintf(buf + len, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
    return len;
  }
  if (exp10 >= 0) {
    for (int k = 0; k <= exp10 || k < nd; k++) {
      if (k == exp10 + 1) buf[len++] = '.';
      buf[len++] = k < nd ? digits[k] : '0';
    }
  } else {
    buf[len++] = '0';
    buf[len++] = '.';
    for (int k = 0; k < -exp10 - 1; k++)
      buf[len++] = '0';
    for (int k = 0; k < nd; k++)
      buf[len++] = digits[k];
  }
  buf[len] = '\0';
  return len;
}

/* Appends ".ffffff" with trailing zeros removed (nothing for 0). */
static size_t fmt_fraction(int64_t usec, char *buf) {
  if (usec == 0) return 0;
  char tmp[8];
  snprintf(tmp, sizeof tmp, "%06lld", (long long)usec);
  int n = 6;
  while (n > 0 && tmp[n - 1] == '0')
    n--;
  buf[0] = '.';
  memcpy(buf + 1, tmp, (size_t)n);
  return (size_t)n + 1;
}

static size_t fmt_ymd(int64_t days, char *buf, bool *bc) {
  int64_t y;
  int m, d;
  sql_ymd_from_days(days, &y, &m, &d);
  *bc = y <= 0;
  if (*bc) y = 1 - y;
  return (size_t)sprintf(buf, "%04lld-%02d-%02d", (long long)y, m, d);
}

size_t sql_fmt_date(int64_t d, char *buf) {
  if (d == SQL_DATE_NOBEGIN) return (size_t)sprintf(buf, "-infinity");
  if (d == SQL_DATE_NOEND) return (size_t)sprintf(buf, "infinity");
  bool bc;
  size_t len = fmt_ymd(d, buf, &bc);
  if (bc) len += (size_t)sprintf(buf + len, " BC");
  return len;
}

static size_t fmt_tod(int64_t t, char *buf) {
  int64_t h = t / SQL_USEC_PER_HOUR, mi = t / SQL_USEC_PER_MIN % 60, s = t / SQL_USEC_PER_SEC % 60;
  size_t len =
      (size_t)sprintf(buf, "%02lld:%02lld:%02lld", (long long)h, (long long)mi, (long long)s);
  len += fmt_fraction(t % SQL_USEC_PER_SEC, buf + len);
  buf[len] = '\0';
  return len;
}

size_t sql_fmt_time(int64_t t, char *buf) { return fmt_tod(t, buf); }

size_t sql_fmt_timestamp(int64_t ts, bool tz, char *buf) {
  if (ts == SQL_TS_NOBEGIN) return (size_t)sprintf(buf, "-infinity");
  if (ts == SQL_TS_NOEND) return (size_t)sprintf(buf, "infinity");
  int64_t days = sql_floor_div(ts, SQL_USEC_PER_DAY);
  bool bc;
  size_t len = fmt_ymd(days, buf, &bc);
  buf[len++] = ' ';
  len += fmt_tod(ts - days * SQL_USEC_PER_DAY, buf + len);
  if (tz) len += (size_t)sprintf(buf + len, "+00");
  if (bc) len += (size_t)sprintf(buf + len, " BC");
  buf[len] = '\0';
  return len;
}

static size_t interval_part(char *buf, int64_t value, const char *unit, bool *is_zero,
                            bool *is_before) {
  if (value == 0) return 0;
  size_t len =
      (size_t)sprintf(buf, "%s%s%lld %s%s", *is_zero ? "" : " ", *is_before && value > 0 ? "+" : "",
                      (long long)value, unit, value != 1 ? "s" : "");
  *is_before = value < 0;
  *is_zero = false;
  return len;
}

size_t sql_fmt_interval(sql_interval iv, char *buf) {
  bool is_zero = true, is_before = false;
  size_t len = 0;
  len += interval_part(buf + len, iv.months / 12, "year", &is_zero, &is_before);
  len += interval_part(buf + len, iv.months % 12, "mon", &is_zero, &is_before);
  len += interval_part(buf + len, iv.days, "day", &is_zero, &is_before);
  if (is_zero || iv.micros != 0) {
    int64_t us = iv.micros;
    bool minus = us < 0;
    sql_u128 u = minus ? (sql_u128)0 - (sql_u128)(sql_i128)us : (sql_u128)us;
    uint64_t a = (uint64_t)u;
    len += (size_t)sprintf(buf + len, "%s%s%02llu:%02llu:%02llu", is_zero ? "" : " ",
                           minus       ? "-"
                           : is_before ? "+"
                                       : "",
                           (unsigned long long)(a / (uint64_t)SQL_USEC_PER_HOUR),
                           (unsigned long long)(a / (uint64_t)SQL_USEC_PER_MIN % 60),
                           (unsigned long long)(a / (uint64_t)SQL_USEC_PER_SEC % 60));
    len += fmt_fraction((int64_t)(a % (uint64_t)SQL_USEC_PER_SEC), buf + len);
  }
  buf[len] = '\0';
  return len;
}

size_t sql_fmt_uuid(const sql_str *s, char *buf) {
  static const char hex[] = "0123456789abcdef";
  size_t len = 0;
  for (uint64_t i = 0; i < s->len && i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) buf[len++] = '-';
    uint8_t c = (uint8_t)s->ptr[i];
    buf[len++] = hex[c >> 4];
    buf[len++] = hex[c & 15];
  }
  buf[len] = '\0';
  return len;
}

/* ---- parsing -------------------------------------------------------------------------------- */

static bool word_eq(const char *s, size_t n, const char *w) {
  size_t k = strlen(w);
  if (n != k) return false;
  for (size_t i = 0; i < n; i++)
    if (tolower((unsigned char)s[i]) != w[i]) return false;
  return true;
}

/* s is a non-empty prefix of w (case-insensitive) of at least min characters. */
static bool prefix_of(const char *s, size_t n, const char *w, size_t min) {
  if (n < min || n > strlen(w)) return false;
  for (size_t i = 0; i < n; i++)
    if (tolower((unsigned char)s[i]) != w[i]) return false;
  return true;
}

int sql_parse_bool(const char *s, size_t n, bool *out) {
  trim(&s, &n);
  if (prefix_of(s, n, "true", 1) || prefix_of(s, n, "yes", 1) || word_eq(s, n, "on") ||
      word_eq(s, n, "1")) {
    *out = true;
    return 0;
  }
  if (prefix_of(s, n, "false", 1) || prefix_of(s, n, "no", 1) || prefix_of(s, n, "off", 2) ||
      word_eq(s, n, "0")) {
    *out = false;
    return 0;
  }
  return SQL_PARSE_SYNTAX;
}

int sql_parse_int(const char *s, size_t n, int64_t lo, int64_t hi, int64_t *out) {
  trim(&s, &n);
  size_t i = 0;
  bool neg = false;
  if (i < n && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  if (i >= n) return SQL_PARSE_SYNTAX;
  uint64_t v = 0;
  bool over = false, any = false;
  for (; i < n; i++) {
    char c = s[i];
    if (c < '0' || c > '9') return SQL_PARSE_SYNTAX;
    any = true;
    if (v > (UINT64_MAX - 9) / 10) over = true;
    if (!over) v = v * 10 + (uint64_t)(c - '0');
  }
  if (!any) return SQL_PARSE_SYNTAX;
  if (over) return SQL_PARSE_RANGE;
  if (neg) {
    if (v > (uint64_t)INT64_MAX + 1) return SQL_PARSE_RANGE;
    int64_t r = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    if (r < lo) return SQL_PARSE_RANGE;
    *out = r;
  } else {
    if (v > (uint64_t)INT64_MAX || (int64_t)v > hi) return SQL_PARSE_RANGE;
    *out = (int64_t)v;
  }
  return 0;
}

int sql_parse_double(const char *s, size_t n, bool float4, double *out) {
  trim(&s, &n);
  if (n == 0 || n > 400) return SQL_PARSE_SYNTAX;
  char buf[408];
  memcpy(buf, s, n);
  buf[n] = '\0';
  const char *p = buf;
  bool neg = false;
  if (*p == '+' || *p == '-') neg = *p++ == '-';
  size_t rest = strlen(p);
  if (word_eq(p, rest, "nan")) {
    *out = NAN;
    return 0;
  }
  if (word_eq(p, rest, "infinity") || word_eq(p, rest, "inf")) {
    *out = neg ? -INFINITY : INFINITY;
    return 0;
  }
  /* strtod would accept hexadecimal floats and other spellings PostgreSQL does not. */
  for (const char *q = p; *q; q++)
    if (!((*q >= '0' && *q <= '9') || *q == '.' || *q == 'e' || *q == 'E' || *q == '+' ||
          *q == '-'))
      return SQL_PARSE_SYNTAX;
  char *end;
  errno = 0;
  double v;
  if (float4) {
    float f = strtof(buf, &end);
    v = f;
  } else {
    v = strtod(buf, &end);
  }
  if (end == buf || *end != '\0') return SQL_PARSE_SYNTAX;
  if (errno == ERANGE && (v == 0 || isinf(v))) return SQL_PARSE_RANGE;
  *out = v;
  return 0;
}

typedef struct dt_parts {
  bool has_date, has_time, has_tz;
  int64_t year;
  int month, day;
  int64_t tod; /* microseconds since midnight */
  int tz_sec;  /* offset east of UTC */
  int special; /* 0, 1 infinity, -1 -infinity, 2 epoch */
} dt_parts;

static size_t read_digits(const char *s, size_t n, size_t i, int64_t *v, int *count) {
  int64_t x = 0;
  int c = 0;
  while (i < n && s[i] >= '0' && s[i] <= '9') {
    if (x < INT64_C(100000000000000)) x = x * 10 + (s[i] - '0');
    i++;
    c++;
  }
  *v = x;
  *count = c;
  return i;
}

/* "HH:MM[:SS[.ffffff]]" at s[i]; returns the position after it or 0 on a syntax error. */
static size_t parse_tod(const char *s, size_t n, size_t i, int64_t *tod, int *err) {
  int64_t h, mi = 0, sec = 0, usec = 0;
  int c;
  i = read_digits(s, n, i, &h, &c);
  if (c == 0 || c > 2 || i >= n || s[i] != ':') return 0;
  i = read_digits(s, n, i + 1, &mi, &c);
  if (c != 2) return 0;
  if (i < n && s[i] == ':') {
    i = read_digits(s, n, i + 1, &sec, &c);
    if (c != 2) return 0;
    if (i < n && s[i] == '.') {
      i++;
      int k = 0;
      int64_t frac = 0;
      int round = 0;
      while (i < n && s[i] >= '0' && s[i] <= '9') {
        if (k < 6)
          frac = frac * 10 + (s[i] - '0');
        else if (k == 6)
          round = s[i] >= '5';
        k++;
        i++;
      }
      while (k < 6) {
        frac *= 10;
        k++;
      }
      usec = frac + round;
    }
  }
  if (h > 24 || mi > 59 || sec > 60 || (h == 24 && (mi || sec || usec))) *err = SQL_PARSE_RANGE;
  *tod = h * SQL_USEC_PER_HOUR + mi * SQL_USEC_PER_MIN + sec * SQL_USEC_PER_SEC + usec;
  return i;
}

static int dt_parse(const char *s, size_t n, dt_parts *p) {
  memset(p, 0, sizeof *p);
  trim(&s, &n);
  if (n == 0) return SQL_PARSE_SYNTAX;
  if (word_eq(s, n, "infinity") || word_eq(s, n, "+infinity")) {
    p->special = 1;
    return 0;
  }
  if (word_eq(s, n, "-infinity")) {
    p->special = -1;
    return 0;
  }
  if (word_eq(s, n, "epoch")) {
    p->special = 2;
    return 0;
  }
  int err = 0;
  size_t i = 0;
  int64_t a;
  int ca;
  size_t j = read_digits(s, n, 0, &a, &ca);
  if (ca == 0) return SQL_PARSE_SYNTAX;
  if (j < n && (s[j] == '-' || s[j] == '/' || s[j] == '.')) {
    char sep = s[j];
    int64_t b, c;
    int cb, cc;
    size_t k = read_digits(s, n, j + 1, &b, &cb);
    if (cb == 0 || cb > 2 || k >= n || s[k] != sep) return SQL_PARSE_SYNTAX;
    k = read_digits(s, n, k + 1, &c, &cc);
    if (cc == 0) return SQL_PARSE_SYNTAX;
    if (ca >= 3 || cc <= 2) {
      p->year = a;
      p->month = (int)b;
      p->day = (int)(c > 99 ? 99 : c);
      if (cc > 2) return SQL_PARSE_SYNTAX;
    } else {
      /* DateStyle MDY, PostgreSQL's default: 01/02/2024 is January 2. */
      p->year = c;
      p->month = (int)a;
      p->day = (int)b;
    }
    p->has_date = true;
    i = k;
  } else if (ca == 8 && (j == n || s[j] == 'T' || s[j] == 't' || is_space(s[j]))) {
    p->year = a / 10000;
    p->month = (int)(a / 100 % 100);
    p->day = (int)(a % 100);
    p->has_date = true;
    i = j;
  } else if (j < n && s[j] == ':') {
    i = 0;
  } else {
    return SQL_PARSE_SYNTAX;
  }
  if (p->has_date) {
    size_t k = i;
    if (k < n && (s[k] == 'T' || s[k] == 't')) {
      k++;
    } else {
      while (k < n && is_space(s[k]))
        k++;
    }
    if (k < n && s[k] >= '0' && s[k] <= '9') i = k;
  }
  if (i < n && s[i] >= '0' && s[i] <= '9') {
    size_t k = parse_tod(s, n, i, &p->tod, &err);
    if (k == 0) return SQL_PARSE_SYNTAX;
    p->has_time = true;
    i = k;
  }
  /* Time zone, then an era. */
  while (i < n && is_space(s[i]))
    i++;
  if (i < n && (s[i] == 'Z' || s[i] == 'z') && (i + 1 == n || is_space(s[i + 1]))) {
    p->has_tz = true;
    i++;
  } else if (i + 3 <= n && (word_eq(s + i, 3, "utc") || word_eq(s + i, 3, "gmt")) &&
             (i + 3 == n || is_space(s[i + 3]) || s[i + 3] == '+' || s[i + 3] == '-')) {
    p->has_tz = true;
    i += 3;
  }
  while (i < n && is_space(s[i]))
    i++;
  if (i < n && (s[i] == '+' || s[i] == '-') && p->has_time) {
    int sign = s[i] == '-' ? -1 : 1;
    int64_t h, mi = 0, sec = 0;
    int c;
    size_t k = read_digits(s, n, i + 1, &h, &c);
    if (c == 4) {
      mi = h % 100;
      h /= 100;
    } else if (c == 6) {
      sec = h % 100;
      mi = h / 100 % 100;
      h /= 10000;
    } else if (c == 0 || c > 2) {
      return SQL_PARSE_SYNTAX;
    } else if (k < n && s[k] == ':') {
      k = read_digits(s, n, k + 1, &mi, &c);
      if (c != 2) return SQL_PARSE_SYNTAX;
      if (k < n && s[k] == ':') {
        k = read_digits(s, n, k + 1, &sec, &c);
        if (c != 2) return SQL_PARSE_SYNTAX;
      }
    }
    if (h > 15 || mi > 59 || sec > 59) err = SQL_PARSE_RANGE;
    p->has_tz = true;
    p->tz_sec = sign * (int)(h * 3600 + mi * 60 + sec);
    i = k;
  }
  while (i < n && is_space(s[i]))
    i++;
  if (p->has_date && p->year == 0) return SQL_PARSE_RANGE; /* there is no year 0 */
  if (i + 2 <= n && word_eq(s + i, 2, "bc") && p->has_date) {
    p->year = 1 - p->year;
    i += 2;
  } else if (i + 2 <= n && word_eq(s + i, 2, "ad") && p->has_date) {
    i += 2;
  }
  if (i != n) return SQL_PARSE_SYNTAX;
  if (p->has_date) {
    if (p->month < 1 || p->month > 12 || p->day < 1 ||
        p->day > sql_days_in_month(p->year, p->month))
      return SQL_PARSE_RANGE;
  }
  return err;
}

int sql_parse_date(const char *s, size_t n, int64_t *out) {
  dt_parts p;
  int rc = dt_parse(s, n, &p);
  if (rc) return rc;
  if (p.special == 1)
    *out = SQL_DATE_NOEND;
  else if (p.special == -1)
    *out = SQL_DATE_NOBEGIN;
  else if (p.special == 2)
    *out = 0;
  else if (!p.has_date)
    return SQL_PARSE_SYNTAX;
  else {
    if (p.year > 6000000 || p.year < -5000) return SQL_PARSE_RANGE;
    int64_t d = sql_days_from_ymd(p.year, p.month, p.day);
    if (!sql_date_ok(d)) return SQL_PARSE_RANGE;
    *out = d;
  }
  return 0;
}

int sql_parse_time(const char *s, size_t n, int64_t *out) {
  dt_parts p;
  int rc = dt_parse(s, n, &p);
  if (rc) return rc;
  if (p.special || !p.has_time) return SQL_PARSE_SYNTAX;
  *out = p.tod;
  return 0;
}

int sql_parse_timestamp(const char *s, size_t n, bool tz, int64_t *out) {
  dt_parts p;
  int rc = dt_parse(s, n, &p);
  if (rc) return rc;
  if (p.special == 1)
    *out = SQL_TS_NOEND;
  else if (p.special == -1)
    *out = SQL_TS_NOBEGIN;
  else if (p.special == 2)
    *out = 0;
  else if (!p.has_date)
    return SQL_PARSE_SYNTAX;
  else {
    if (p.year > 300000 || p.year < -5000) return SQL_PARSE_RANGE;
    int64_t d = sql_days_from_ymd(p.year, p.month, p.day);
    int64_t ts;
    if (__builtin_mul_overflow(d, SQL_USEC_PER_DAY, &ts) || __builtin_add_overflow(ts, p.tod, &ts))
      return SQL_PARSE_RANGE;
    if (tz && p.has_tz) ts -= (int64_t)p.tz_sec * SQL_USEC_PER_SEC;
    if (!sql_ts_ok(ts)) return SQL_PARSE_RANGE;
    *out = ts;
  }
  return 0;
}

/* Interval units: how one unit converts, as months, days and microseconds. */
typedef struct iv_unit {
  const char *names[6];
  int months;
  int days;
  int64_t micros;
} iv_unit;

static const iv_unit iv_units[] = {
    {{"microsecond", "microseconds", "us", "usec", "usecs", NULL}, 0, 0, 1},
    {{"millisecond", "milliseconds", "ms", "msec", "msecs", NULL}, 0, 0, 1000},
    {{"second", "seconds", "s", "sec", "secs", NULL}, 0, 0, SQL_USEC_PER_SEC},
    {{"minute", "minutes", "m", "min", "mins", NULL}, 0, 0, SQL_USEC_PER_MIN},
    {{"hour", "hours", "h", "hr", "hrs", NULL}, 0, 0, SQL_USEC_PER_HOUR},
    {{"day", "days", "d", NULL}, 0, 1, 0},
    {{"week", "weeks", "w", NULL}, 0, 7, 0},
    {{"month", "months", "mon", "mons", NULL}, 1, 0, 0},
    {{"year", "years", "y", "yr", "yrs", NULL}, 12, 0, 0},
    {{"decade", "decades", "dec", "decs", NULL}, 120, 0, 0},
    {{"century", "centuries", "c", "cent", NULL}, 1200, 0, 0},
    {{"millennium", "millennia", "mil", "mils", NULL}, 12000, 0, 0},
};

static const iv_unit *find_unit(const char *w, size_t n) {
  for (size_t u = 0; u < sizeof iv_units / sizeof *iv_units; u++)
    for (int k = 0; k < 6 && iv_units[u].names[k]; k++)
      if (word_eq(w, n, iv_units[u].names[k])) return &iv_units[u];
  return NULL;
}

typedef struct iv_acc {
  int64_t months, days, micros;
  bool over;
} iv_acc;

static void iv_add(iv_acc *a, int64_t months, int64_t days, int64_t micros) {
  if (__builtin_add_overflow(a->months, months, &a->months) ||
      __builtin_add_overflow(a->days, days, &a->days) ||
      __builtin_add_overflow(a->micros, micros, &a->micros))
    a->over = true;
}

/* Adds value (whole part w, fraction f with the same sign) units of u, cascading fractions down
 * as PostgreSQL does: fractional months become 30-day days, fractional days 24-hour spans. */
static void iv_apply(iv_acc *a, const iv_unit *u, int64_t w, double f) {
  int64_t m, d, us;
  if (__builtin_mul_overflow(w, (int64_t)u->months, &m) ||
      __builtin_mul_overflow(w, (int64_t)u->days, &d) ||
      __builtin_mul_overflow(w, u->micros, &us)) {
    a->over = true;
    return;
  }
  iv_add(a, m, d, us);
  if (f == 0) return;
  if (u->months >= 12) {
    iv_add(a, (int64_t)rint(f * u->months), 0, 0);
    return;
  }
  double days = f * u->months * 30.0 + f * u->days;
  double micros = f * (double)u->micros;
  int64_t wd = (int64_t)days;
  micros += (days - (double)wd) * (double)SQL_USEC_PER_DAY;
  if (fabs(micros) > 9e18) {
    a->over = true;
    return;
  }
  iv_add(a, 0, wd, (int64_t)rint(micros));
}

static int parse_iso_interval(const char *s, size_t n, iv_acc *a) {
  size_t i = 1;
  bool in_time = false;
  if (i >= n) return SQL_PARSE_SYNTAX;
  while (i < n) {
    if (s[i] == 'T' || s[i] == 't') {
      in_time = true;
      i++;
      continue;
    }
    char num[64];
    size_t k = 0;
    while (i < n && k < 63 &&
           (isdigit((unsigned char)s[i]) || s[i] == '.' || s[i] == '-' || s[i] == '+'))
      num[k++] = s[i++];
    num[k] = '\0';
    if (k == 0 || i >= n) return SQL_PARSE_SYNTAX;
    char *end;
    double v = strtod(num, &end);
    if (*end) return SQL_PARSE_SYNTAX;
    const iv_unit *u;
    switch (toupper((unsigned char)s[i])) {
    case 'Y': u = find_unit("year", 4); break;
    case 'M': u = in_time ? find_unit("minute", 6) : find_unit("month", 5); break;
    case 'W': u = find_unit("week", 4); break;
    case 'D': u = find_unit("day", 3); break;
    case 'H': u = find_unit("hour", 4); break;
    case 'S': u = find_unit("second", 6); break;
    default: return SQL_PARSE_SYNTAX;
    }
    i++;
    if (fabs(v) > 9e18) return SQL_PARSE_RANGE;
    int64_t w = (int64_t)v;
    iv_apply(a, u, w, v - (double)w);
  }
  return 0;
}

int sql_parse_interval(const char *s, size_t n, sql_interval *out) {
  trim(&s, &n);
  iv_acc a = {0, 0, 0, false};
  size_t i = 0;
  if (n == 0) return SQL_PARSE_SYNTAX;
  if (s[0] == 'P' || s[0] == 'p') {
    int rc = parse_iso_interval(s, n, &a);
    if (rc) return rc;
  } else {
    bool ago = false, any = false;
    if (s[0] == '@') i++;
    while (i < n) {
      while (i < n && is_space(s[i]))
        i++;
      if (i >= n) break;
      if (ago) return SQL_PARSE_SYNTAX;
      if (isalpha((unsigned char)s[i])) {
        size_t w0 = i;
        while (i < n && isalpha((unsigned char)s[i]))
          i++;
        if (word_eq(s + w0, i - w0, "ago") && any) {
          ago = true;
          continue;
        }
        return SQL_PARSE_SYNTAX;
      }
      /* A number: [+-]digits[.digits], or a time [+-]H:MM[:SS[.f]], or years-months Y-M. */
      size_t n0 = i;
      int sign = 1;
      if (s[i] == '+' || s[i] == '-') {
        if (s[i] == '-') sign = -1;
        i++;
      }
      size_t d0 = i;
      while (i < n && isdigit((unsigned char)s[i]))
        i++;
      if (i < n && s[i] == ':' && i > d0) {
        int64_t tod;
        int err = 0;
        /* Hours may have more than two digits in an interval. */
        int64_t h = 0;
        for (size_t k = d0; k < i; k++) {
          h = h * 10 + (s[k] - '0');
          if (h > INT64_C(2562047788)) return SQL_PARSE_RANGE;
        }
        char tmp[64];
        size_t rest = 0;
        size_t k = i;
        tmp[rest++] = '0';
        while (k < n && rest < 62 && !is_space(s[k]))
          tmp[rest++] = s[k++];
        size_t end = parse_tod(tmp, rest, 0, &tod, &err);
        if (end != rest) return SQL_PARSE_SYNTAX;
        if (tod >= SQL_USEC_PER_HOUR) return SQL_PARSE_RANGE; /* minutes 60+ */
        int64_t us = h * SQL_USEC_PER_HOUR + tod;
        iv_add(&a, 0, 0, sign * us);
        i = k;
        any = true;
        continue;
      }
      if (i < n && s[i] == '-' && i > d0 && i + 1 < n && isdigit((unsigned char)s[i + 1])) {
        int64_t y = 0, m = 0;
        for (size_t k = d0; k < i; k++) {
          if (y > 200000000) return SQL_PARSE_RANGE; /* before it can overflow */
          y = y * 10 + (s[k] - '0');
        }
        i++;
        while (i < n && isdigit((unsigned char)s[i])) {
          if (m > 11) return SQL_PARSE_RANGE;
          m = m * 10 + (s[i++] - '0');
        }
        if (y > 200000000 || m > 11) return SQL_PARSE_RANGE;
        iv_add(&a, sign * (y * 12 + m), 0, 0);
        any = true;
        continue;
      }
      if (i < n && s[i] == '.') {
        i++;
        while (i < n && isdigit((unsigned char)s[i]))
          i++;
      }
      if (i == d0 || (i == d0 + 1 && s[d0] == '.')) return SQL_PARSE_SYNTAX;
      char num[64];
      if (i - n0 > 60) return SQL_PARSE_RANGE;
      memcpy(num, s + n0, i - n0);
      num[i - n0] = '\0';
      double v = strtod(num, NULL);
      while (i < n && is_space(s[i]))
        i++;
      size_t w0 = i;
      while (i < n && isalpha((unsigned char)s[i]))
        i++;
      const iv_unit *u;
      if (i == w0) {
        /* A bare number: days when a time follows ('3 04:05'), else seconds. */
        size_t k = i;
        bool time_follows = false;
        while (k < n && (isdigit((unsigned char)s[k]) || s[k] == '+' || s[k] == '-'))
          k++;
        if (k < n && s[k] == ':' && k > i) time_follows = true;
        u = find_unit(time_follows ? "day" : "second", time_follows ? 3 : 6);
      } else {
        u = find_unit(s + w0, i - w0);
        if (u == NULL) return SQL_PARSE_SYNTAX;
      }
      if (fabs(v) > 9.2e18) return SQL_PARSE_RANGE;
      int64_t w = (int64_t)v;
      iv_apply(&a, u, w, v - (double)w);
      any = true;
    }
    if (!any) return SQL_PARSE_SYNTAX;
    if (ago) {
      a.months = -a.months;
      a.days = -a.days;
      a.micros = -a.micros;
    }
  }
  if (a.over || a.months > INT32_MAX || a.months < INT32_MIN || a.days > INT32_MAX ||
      a.days < INT32_MIN)
    return SQL_PARSE_RANGE;
  out->months = (int32_t)a.months;
  out->days = (int32_t)a.days;
  out->micros = a.micros;
  return 0;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int sql_parse_uuid(const char *s, size_t n, uint8_t out[16]) {
  trim(&s, &n);
  size_t i = 0;
  bool brace = n > 0 && s[0] == '{';
  if (brace) i++;
  int k = 0;
  while (i < n && k < 32) {
    if (s[i] == '-' && k > 0 && k % 4 == 0 && i + 1 < n && s[i + 1] != '-') {
      i++;
      continue;
    }
    int h = hexval(s[i]);
    if (h < 0) return SQL_PARSE_SYNTAX;
    if (k % 2 == 0)
      out[k / 2] = (uint8_t)(h << 4);
    else
      out[k / 2] |= (uint8_t)h;
    k++;
    i++;
  }
  if (k != 32) return SQL_PARSE_SYNTAX;
  if (brace) {
    if (i >= n || s[i] != '}') return SQL_PARSE_SYNTAX;
    i++;
  }
  return i == n ? 0 : SQL_PARSE_SYNTAX;
}

/* ---- result helpers ------------------------------------------------------------------------- */

char *sql_strbuf_take(sql_strbuf *sb, size_t n) {
  static char empty[1];
  if (n == 0 && sb->p == NULL) return empty; /* nothing is written through it */
  if (n > sb->left) {
    size_t chunk = n > 16384 ? n : 16384;
    char *p = sql_mem_alloc(sb->m, chunk, 1);
    if (p == NULL) return NULL;
    sb->p = p;
    sb->left = chunk;
  }
  char *r = sb->p;
  sb->p += n;
  sb->left -= n;
  return r;
}

int sql_strbuf_put(sql_strbuf *sb, const char *s, size_t n, sql_str *out) {
  if (n == 0) {
    *out = (sql_str){"", 0};
    return 0;
  }
  char *p = sql_strbuf_take(sb, n);
  if (p == NULL) return TARN_ENOMEM;
  memcpy(p, s, n);
  *out = (sql_str){p, n};
  return 0;
}

int sql_vec_nulls_of(sql_mem *m, const sql_type *t, uint32_t n, sql_vec *out, tarn_error *err) {
  int rc = sql_vec_init(m, out, t, n, err);
  if (rc) return rc;
  if (n == 0) return 0;
  if (sql_vec_nulls(m, out) == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
  memset(out->nulls, 1, n);
  return 0;
}

/* ---- text of any value ---------------------------------------------------------------------- */

static int scalar_text(const sql_vec *v, uint32_t i, bool bool_words, char *tmp, const char **s,
                       size_t *len) {
  *s = tmp;
  switch (v->type->id) {
  case SQL_BOOL:
    *s = SQL_VEC_U8(v)[i] ? (bool_words ? "true" : "t") : (bool_words ? "false" : "f");
    *len = strlen(*s);
    return 0;
  case SQL_INT2:
  case SQL_INT4:
  case SQL_INT8: *len = sql_fmt_int(SQL_VEC_I64(v)[i], tmp); return 0;
  case SQL_FLOAT4:
  case SQL_FLOAT8:
    *len = sql_fmt_double(SQL_VEC_F64(v)[i], v->type->id == SQL_FLOAT4, tmp);
    return 0;
  case SQL_DECIMAL: *len = sql_dec_format(SQL_VEC_I128(v)[i], v->type->scale, tmp); return 0;
  case SQL_TEXT:
    *s = SQL_VEC_STR(v)[i].ptr;
    *len = SQL_VEC_STR(v)[i].len;
    return 0;
  case SQL_UUID: *len = sql_fmt_uuid(&SQL_VEC_STR(v)[i], tmp); return 0;
  case SQL_DATE: *len = sql_fmt_date(SQL_VEC_I64(v)[i], tmp); return 0;
  case SQL_TIME: *len = sql_fmt_time(SQL_VEC_I64(v)[i], tmp); return 0;
  case SQL_TIMESTAMP:
  case SQL_TIMESTAMPTZ:
    *len = sql_fmt_timestamp(SQL_VEC_I64(v)[i], v->type->id == SQL_TIMESTAMPTZ, tmp);
    return 0;
  case SQL_INTERVAL: *len = sql_fmt_interval(SQL_VEC_IV(v)[i], tmp); return 0;
  default: return 1;
  }
}

static int bytea_text(tarn_buf *b, const sql_str *s, tarn_error *err) {
  static const char hex[] = "0123456789abcdef";
  int rc = tarn_buf_reserve(b, 2 + 2 * s->len, err);
  if (rc) return rc;
  b->data[b->len++] = '\\';
  b->data[b->len++] = 'x';
  for (uint64_t k = 0; k < s->len; k++) {
    uint8_t c = (uint8_t)s->ptr[k];
    b->data[b->len++] = (uint8_t)hex[c >> 4];
    b->data[b->len++] = (uint8_t)hex[c & 15];
  }
  return 0;
}

/* Appends s, in double quotes when an array element (record field) would otherwise be misread. */
static int quoted_elem(tarn_buf *b, const char *s, size_t n, bool record, tarn_error *err) {
  bool quote = n == 0;
  if (!record && n == 4 && word_eq(s, n, "null")) quote = true;
  for (size_t k = 0; k < n && !quote; k++) {
    char c = s[k];
    if (c == '"' || c == '\\' || is_space(c) || c == ',' ||
        (record ? (c == '(' || c == ')') : (c == '{' || c == '}')))
      quote = true;
  }
  if (!quote) return tarn_buf_append(b, s, n, err);
  int rc = tarn_buf_append(b, "\"", 1, err);
  for (size_t k = 0; k < n && rc == 0; k++) {
    char c = s[k];
    if (c == '"' || c == '\\') rc = tarn_buf_append(b, record ? &c : "\\", 1, err);
    if (rc == 0) rc = tarn_buf_append(b, &c, 1, err);
  }
  if (rc == 0) rc = tarn_buf_append(b, "\"", 1, err);
  return rc;
}

static int row_text_rec(tarn_buf *b, const sql_vec *v, uint32_t i, bool bool_words, int depth,
                        tarn_error *err);

/* An element of a composite value: NULL, or its text quoted as the container requires. */
static int elem_text(tarn_buf *b, const sql_vec *v, uint32_t i, bool record, int depth,
                     tarn_error *err) {
  if (SQL_VEC_IS_NULL(v, i)) return record ? 0 : tarn_buf_puts(b, "NULL", err);
  if (!record && v->type->id == SQL_LIST) return row_text_rec(b, v, i, false, depth + 1, err);
  tarn_buf tmp = {0};
  int rc = row_text_rec(&tmp, v, i, false, depth + 1, err);
  if (rc == 0) rc = quoted_elem(b, (const char *)tmp.data, tmp.len, record, err);
  tarn_buf_free(&tmp);
  return rc;
}

static int row_text_rec(tarn_buf *b, const sql_vec *v, uint32_t i, bool bool_words, int depth,
                        tarn_error *err) {
  if (depth > 64) return tarn_err(err, TARN_EUNSUPPORTED, "value nested too deeply");
  char tmp[192];
  const char *s;
  size_t len;
  if (scalar_text(v, i, bool_words, tmp, &s, &len) == 0) return tarn_buf_append(b, s, len, err);
  int rc = 0;
  switch (v->type->id) {
  case SQL_BYTEA: return bytea_text(b, &SQL_VEC_STR(v)[i], err);
  case SQL_LIST: {
    rc = tarn_buf_puts(b, "{", err);
    for (int64_t k = v->offsets[i]; rc == 0 && k < v->offsets[i + 1]; k++) {
      if (k > v->offsets[i]) rc = tarn_buf_puts(b, ",", err);
      if (rc == 0) rc = elem_text(b, v->child, (uint32_t)k, false, depth, err);
    }
    return rc ? rc : tarn_buf_puts(b, "}", err);
  }
  case SQL_MAP: {
    /* DuckDB's form: PostgreSQL has no maps. */
    rc = tarn_buf_puts(b, "{", err);
    const sql_vec *kv = v->child;
    for (int64_t k = v->offsets[i]; rc == 0 && k < v->offsets[i + 1]; k++) {
      if (k > v->offsets[i]) rc = tarn_buf_puts(b, ", ", err);
      for (int f = 0; f < 2 && rc == 0; f++) {
        if (f) rc = tarn_buf_puts(b, "=", err);
        const sql_vec *c = &kv->child[f];
        if (rc == 0) {
          if (SQL_VEC_IS_NULL(c, (uint32_t)k) || SQL_VEC_IS_NULL(kv, (uint32_t)k))
            rc = tarn_buf_puts(b, "NULL", err);
          else
            rc = row_text_rec(b, c, (uint32_t)k, false, depth + 1, err);
        }
      }
    }
    return rc ? rc : tarn_buf_puts(b, "}", err);
  }
  case SQL_STRUCT: {
    rc = tarn_buf_puts(b, "(", err);
    for (size_t f = 0; rc == 0 && f < v->type->n_fields; f++) {
      if (f) rc = tarn_buf_puts(b, ",", err);
      if (rc == 0) rc = elem_text(b, &v->child[f], i, true, depth, err);
    }
    return rc ? rc : tarn_buf_puts(b, ")", err);
  }
  default: return 0;
  }
}

int sql_row_text(tarn_buf *b, const sql_vec *v, uint32_t i, bool bool_words, tarn_error *err) {
  return row_text_rec(b, v, i, bool_words, 0, err);
}

/* ---- comparison ----------------------------------------------------------------------------- */

static int cmp_f64(double a, double b) {
  if (isnan(a)) return isnan(b) ? 0 : 1;
  if (isnan(b)) return -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

static int cmp_str(sql_str a, sql_str b) {
  uint64_t n = a.len < b.len ? a.len : b.len;
  int c = n ? memcmp(a.ptr, b.ptr, n) : 0;
  if (c) return c < 0 ? -1 : 1;
  return a.len < b.len ? -1 : a.len > b.len ? 1 : 0;
}

static int row_cmp_rec(const sql_vec *a, uint32_t i, const sql_vec *b, uint32_t j, int depth);

/* Elements compare with NULLs equal to each other and after everything else. */
static int elem_cmp(const sql_vec *a, uint32_t i, const sql_vec *b, uint32_t j, int depth) {
  bool na = SQL_VEC_IS_NULL(a, i), nb = SQL_VEC_IS_NULL(b, j);
  if (na || nb) return na && nb ? 0 : na ? 1 : -1;
  return row_cmp_rec(a, i, b, j, depth + 1);
}

static int row_cmp_rec(const sql_vec *a, uint32_t i, const sql_vec *b, uint32_t j, int depth) {
  if (depth > 64) return 0;
  switch (sql_type_phys(a->type->id)) {
  case SQL_PHYS_U8: {
    uint8_t x = SQL_VEC_U8(a)[i], y = SQL_VEC_U8(b)[j];
    return x < y ? -1 : x > y;
  }
  case SQL_PHYS_I64: {
    int64_t x = SQL_VEC_I64(a)[i], y = SQL_VEC_I64(b)[j];
    return x < y ? -1 : x > y;
  }
  case SQL_PHYS_F64: return cmp_f64(SQL_VEC_F64(a)[i], SQL_VEC_F64(b)[j]);
  case SQL_PHYS_I128: {
    sql_i128 x = SQL_VEC_I128(a)[i], y = SQL_VEC_I128(b)[j];
    if (a->type->id == SQL_DECIMAL && b->type->id == SQL_DECIMAL &&
        a->type->scale != b->type->scale) {
      int s = a->type->scale > b->type->scale ? a->type->scale : b->type->scale;
      sql_i128 xs, ys;
      bool ox = sql_dec_rescale(x, a->type->scale, s, &xs),
           oy = sql_dec_rescale(y, b->type->scale, s, &ys);
      if (ox && oy) {
        x = xs;
        y = ys;
      } else {
        double dx = sql_dec_to_double(x, a->type->scale), dy = sql_dec_to_double(y, b->type->scale);
        return dx < dy ? -1 : dx > dy;
      }
    }
    return x < y ? -1 : x > y;
  }
  case SQL_PHYS_STR: return cmp_str(SQL_VEC_STR(a)[i], SQL_VEC_STR(b)[j]);
  case SQL_PHYS_INTERVAL: {
    sql_i128 x = sql_interval_key(SQL_VEC_IV(a)[i]), y = sql_interval_key(SQL_VEC_IV(b)[j]);
    return x < y ? -1 : x > y;
  }
  case SQL_PHYS_LIST: {
    int64_t a0 = a->offsets[i], a1 = a->offsets[i + 1], b0 = b->offsets[j], b1 = b->offsets[j + 1];
    for (int64_t k = 0; a0 + k < a1 && b0 + k < b1; k++) {
      int c = elem_cmp(a->child, (uint32_t)(a0 + k), b->child, (uint32_t)(b0 + k), depth);
      if (c) return c;
    }
    int64_t la = a1 - a0, lb = b1 - b0;
    return la < lb ? -1 : la > lb;
  }
  case SQL_PHYS_STRUCT: {
    size_t nf = a->type->n_fields < b->type->n_fields ? a->type->n_fields : b->type->n_fields;
    for (size_t f = 0; f < nf; f++) {
      int c = elem_cmp(&a->child[f], i, &b->child[f], j, depth);
      if (c) return c;
    }
    return 0;
  }
  default: return 0;
  }
}

int sql_row_cmp(const sql_vec *a, uint32_t i, const sql_vec *b, uint32_t j) {
  return row_cmp_rec(a, i, b, j, 0);
}

/* ---- casts ---------------------------------------------------------------------------------- */

typedef struct cast_st {
  sql_eval_ctx *ctx;
  const sql_vec *in;
  sql_vec *out;
  bool try_;
} cast_st;

static const char *input_type_name(const sql_type *t) {
  switch (t->id) {
  case SQL_BOOL: return "boolean";
  case SQL_INT2: return "smallint";
  case SQL_INT4: return "integer";
  case SQL_INT8: return "bigint";
  case SQL_FLOAT4: return "real";
  case SQL_FLOAT8: return "double precision";
  case SQL_DECIMAL: return "numeric";
  case SQL_TEXT: return "text";
  case SQL_BYTEA: return "bytea";
  case SQL_UUID: return "uuid";
  case SQL_DATE: return "date";
  case SQL_TIME: return "time";
  case SQL_TIMESTAMP: return "timestamp";
  case SQL_TIMESTAMPTZ: return "timestamp with time zone";
  case SQL_INTERVAL: return "interval";
  default: return "?";
  }
}

static int cast_fail(cast_st *st, uint32_t i, const char *fmt, ...) TARN_PRINTF(3, 4);
static int cast_fail(cast_st *st, uint32_t i, const char *fmt, ...) {
  if (st->try_) {
    st->out->nulls[i] = 1;
    return 0;
  }
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return tarn_err(st->ctx->err, TARN_EINVAL, "%s", msg);
}

/* A failed text input: PostgreSQL's messages quote the input. */
static int input_fail(cast_st *st, uint32_t i, int why, sql_str s) {
  const sql_type *t = st->out->type;
  int len = s.len > 200 ? 200 : (int)s.len;
  if (why == SQL_PARSE_RANGE) {
    switch (t->id) {
    case SQL_INT2:
    case SQL_INT4:
    case SQL_INT8:
      return cast_fail(st, i, "value \"%.*s\" is out of range for type %s", len, s.ptr,
                       input_type_name(t));
    case SQL_FLOAT4:
    case SQL_FLOAT8:
      return cast_fail(st, i, "\"%.*s\" is out of range for type %s", len, s.ptr,
                       input_type_name(t));
    case SQL_DECIMAL: return cast_fail(st, i, "numeric field overflow");
    case SQL_INTERVAL:
      return cast_fail(st, i, "interval field value out of range: \"%.*s\"", len, s.ptr);
    default: return cast_fail(st, i, "date/time field value out of range: \"%.*s\"", len, s.ptr);
    }
  }
  if (t->id == SQL_LIST) return cast_fail(st, i, "malformed array literal: \"%.*s\"", len, s.ptr);
  return cast_fail(st, i, "invalid input syntax for type %s: \"%.*s\"", input_type_name(t), len,
                   s.ptr);
}

static bool row_live(const cast_st *st, uint32_t i) {
  return !SQL_VEC_IS_NULL(st->in, i) && !(st->out->nulls && st->out->nulls[i]);
}

static int int_range(sql_type_id id, int64_t *lo, int64_t *hi) {
  switch (id) {
  case SQL_INT2: *lo = INT16_MIN, *hi = INT16_MAX; return 0;
  case SQL_INT4: *lo = INT32_MIN, *hi = INT32_MAX; return 0;
  default: *lo = INT64_MIN, *hi = INT64_MAX; return 0;
  }
}

static const char *int_range_msg(sql_type_id id) {
  return id == SQL_INT2   ? "smallint out of range"
         : id == SQL_INT4 ? "integer out of range"
                          : "bigint out of range";
}

static int cast_to_int(cast_st *st) {
  const sql_vec *in = st->in;
  sql_vec *out = st->out;
  sql_type_id to = out->type->id;
  int64_t lo, hi;
  int_range(to, &lo, &hi);
  int64_t *d = SQL_VEC_I64(out);
  int rc = 0;
  switch (in->type->id) {
  case SQL_BOOL:
    for (uint32_t i = 0; i < in->n; i++)
      d[i] = SQL_VEC_U8(in)[i] != 0;
    return 0;
  case SQL_INT2:
  case SQL_INT4:
  case SQL_INT8: {
    const int64_t *s = SQL_VEC_I64(in);
    for (uint32_t i = 0; i < in->n && rc == 0; i++) {
      d[i] = s[i];
      if ((s[i] < lo || s[i] > hi) && row_live(st, i))
        rc = cast_fail(st, i, "%s", int_range_msg(to));
    }
    return rc;
  }
  case SQL_FLOAT4:
  case SQL_FLOAT8: {
    const double *s = SQL_VEC_F64(in);
    for (uint32_t i = 0; i < in->n && rc == 0; i++) {
      if (!row_live(st, i)) continue;
      double r = rint(s[i]);
      /* -2^63 is exact in a double, and 2^63 is the first value past int64. */
      bool ok = to == SQL_INT8 ? r >= -9223372036854775808.0 && r < 9223372036854775808.0
                               : r >= (double)lo && r <= (double)hi;
      if (!ok) { /* also NaN */
        rc = cast_fail(st, i, "%s", int_range_msg(to));
        continue;
      }
      d[i] = (int64_t)r;
    }
    return rc;
  }
  case SQL_DECIMAL: {
    const sql_i128 *s = SQL_VEC_I128(in);
    int scale = in->type->scale;
    for (uint32_t i = 0; i < in->n && rc == 0; i++) {
      if (!row_live(st, i)) continue;
      sql_i128 r = sql_dec_div_pow10_round(s[i], scale);
      if (r < lo || r > hi) {
        rc = cast_fail(st, i, "%s", int_range_msg(to));
        continue;
      }
      d[i] = (int64_t)r;
    }
    return rc;
  }
  case SQL_TEXT:
    for (uint32_t i = 0; i < in->n && rc == 0; i++) {
      if (!row_live(st, i)) continue;
      sql_str s = SQL_VEC_STR(in)[i];
      int why = sql_parse_int(s.ptr, s.len, lo, hi, &d[i]);
      if (why) rc = input_fail(st, i, why, s);
    }
    return rc;
  default: return 1;
  }
}

static int float4_check(cast_st *st, uint32_t i, double v, double *out) {
  float f = (float)v;
  if (isinf(f) && !isinf(v)) return cast_fail(st, i, "value out of range: overflow");
  if (f == 0 && v != 0) return cast_fail(st, i, "value out of range: underflow");
  *out = f;
  return 0;
}

static int cast_to_float(cast_st *st) {
  const sql_vec *in = st->in;
  sql_vec *out = st->out;
  bool f4 = out->type->id == SQL_FLOAT4;
  double *d = SQL_VEC_F64(out);
  int rc = 0;
  switch (in->type->id) {
  case SQL_INT2:
  case SQL_INT4:
  case SQL_INT8: {
    const int64_t *s = SQL_VEC_I64(in);
    if (f4)
      for (uint32_t i = 0; i < in->n; i++)
        d[i] = (float)s[i];
    else
      for (uint32_t i = 0; i < in->n; i++)
        d[i] = (double)s[i];
    return 0;
  }
  case SQL_FLOAT4:
  case SQL_FLOAT8: {
    const double *s = SQL_VEC_F64(in);
    for (uint32_t i = 0; i < in->n && rc == 0; i++) {
      d[i] = s[i];
      if (f4 && row_live(st, i)) rc = float4_check(st, i, s[i], &d[i]);
    }
    return rc;
  }
  case SQL_DECIMAL: {
    const sql_i128 *s = SQL_VEC_I128(in);
    int scale = in->type->scale;
    for (uint32_t i = 0; i < in->n && rc == 0; i++) {
      if (!row_live(st, i)) continue;
      double v = sql_dec_to_double(s[i], scale);
      if (f4)
        rc = float4_check(st, i, v, &d[i]);
      else
        d[i] = v;
    }
    return rc;
  }
  case SQL_TEXT:
    for (uint32_t i = 0; i < in->n && rc == 0; i++) {
      if (!row_live(st, i)) continue;
      sql_str s = SQL_VEC_STR(in)[i];
      int why = sql_parse_double(s.ptr, s.len, f4, &d[i]);
      if (why) rc = input_fail(st, i, why, s);
    }
    return rc;
  default: return 1;
  }
}

static int cast_to_decimal(cast_st *st) {
  const sql_vec *in = st->in;
  sql_vec *out = st->out;
  int p = out->type->precision, s = out->type->scale;
  sql_i128 *d = SQL_VEC_I128(out);
  int rc = 0;
  switch (in->type->id) {
  case SQL_INT2:
  case SQL_INT4:
  case SQL_INT8: {
    const int64_t *x = SQL_VEC_I64(in);
    sql_i128 lim = sql_pow10(p - s), mul = sql_pow10(s);
    for (uint32_t i = 0; i < in->n && rc == 0; i++) {
      if ((x[i] >= lim || x[i] <= -lim) && row_live(st, i)) {
        rc = cast_fail(st, i, "numeric field overflow");
        continue;
      }
      d[i] = (sql_i128)x[i] * mul;
    }
    return rc;
  }
  case SQL_FLOAT4:
  case SQL_FLOAT8: {
    const double *x = SQL_VEC_F64(in);
    bool f4 = in->type->id == SQL_FLOAT4;
    for (uint32_t i = 0; i < in->n && rc == 0; i++) {
      if (!row_live(st, i)) continue;
      int why = sql_dec_from_double(x[i], f4, p, s, &d[i]);
      if (why == 1)
        rc = cast_fail(st, i,
                       isnan(x[i]) ? "cannot convert NaN to numeric"
                                   : "cannot convert infinity to numeric");
      else if (why)
        rc = cast_fail(st, i, "numeric field overflow");
    }
    return rc;
  }
  case SQL_DECIMAL: {
    const sql_i128 *x = SQL_VEC_I128(in);
    int from = in->type->scale;
    for (uint32_t i = 0; i < in->n && rc == 0; i++) {
      if (!row_live(st, i)) continue;
      if (!sql_dec_rescale(x[i], from, s, &d[i]) || !sql_dec_fits(d[i], p))
        rc = cast_fail(st, i, "numeric field overflow");
    }
    return rc;
  }
  case SQL_TEXT:
    for (uint32_t i = 0; i < in->n && rc == 0; i++) {
      if (!row_live(st, i)) continue;
      sql_str t = SQL_VEC_STR(in)[i];
      int why = sql_dec_parse(t.ptr, t.len, p, s, &d[i]);
      if (why) rc = input_fail(st, i, why, t);
    }
    return rc;
  default: return 1;
  }
}

static int cast_to_bool(cast_st *st) {
  const sql_vec *in = st->in;
  uint8_t *d = SQL_VEC_U8(st->out);
  int rc = 0;
  switch (in->type->id) {
  case SQL_INT2:
  case SQL_INT4:
  case SQL_INT8:
    for (uint32_t i = 0; i < in->n; i++)
      d[i] = SQL_VEC_I64(in)[i] != 0;
    return 0;
  case SQL_TEXT:
    for (uint32_t i = 0; i < in->n && rc == 0; i++) {
      if (!row_live(st, i)) continue;
      sql_str s = SQL_VEC_STR(in)[i];
      bool b = false;
      int why = sql_parse_bool(s.ptr, s.len, &b);
      if (why) rc = input_fail(st, i, why, s);
      d[i] = b;
    }
    return rc;
  default: return 1;
  }
}

static int cast_to_text(cast_st *st) {
  const sql_vec *in = st->in;
  sql_str *d = SQL_VEC_STR(st->out);
  sql_strbuf sb;
  sql_strbuf_init(&sb, st->ctx->mem);
  char tmp[192];
  tarn_buf big = {0};
  int rc = 0;
  for (uint32_t i = 0; i < in->n && rc == 0; i++) {
    if (SQL_VEC_IS_NULL(in, i)) continue;
    const char *s;
    size_t len;
    if (in->type->id == SQL_UUID || scalar_text(in, i, true, tmp, &s, &len) != 0) {
      big.len = 0;
      if (in->type->id == SQL_UUID) {
        len = sql_fmt_uuid(&SQL_VEC_STR(in)[i], tmp);
        s = tmp;
      } else {
        rc = sql_row_text(&big, in, i, false, st->ctx->err);
        if (rc) break;
        s = (const char *)big.data;
        len = big.len;
      }
    }
    if (s != tmp && in->type->id == SQL_TEXT) {
      d[i] = SQL_VEC_STR(in)[i];
      continue;
    }
    if (sql_strbuf_put(&sb, s, len, &d[i])) rc = sql_oom(st->ctx);
  }
  tarn_buf_free(&big);
  return rc;
}

static int parse_bytea(const char *s, size_t n, char *out, size_t *len) {
  size_t k = 0;
  if (n >= 2 && s[0] == '\\' && s[1] == 'x') {
    for (size_t i = 2; i < n;) {
      if (is_space(s[i])) {
        i++;
        continue;
      }
      int h = hexval(s[i]), l = i + 1 < n ? hexval(s[i + 1]) : -1;
      if (h < 0 || l < 0) return SQL_PARSE_SYNTAX;
      out[k++] = (char)(h << 4 | l);
      i += 2;
    }
  } else {
    for (size_t i = 0; i < n;) {
      if (s[i] != '\\') {
        out[k++] = s[i++];
      } else if (i + 1 < n && s[i + 1] == '\\') {
        out[k++] = '\\';
        i += 2;
      } else if (i + 3 < n + 0 && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
                 s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
        out[k++] = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
        i += 4;
      } else {
        return SQL_PARSE_SYNTAX;
      }
    }
  }
  *len = k;
  return 0;
}

static int cast_to_bytea(cast_st *st) {
  const sql_vec *in = st->in;
  sql_str *d = SQL_VEC_STR(st->out);
  if (in->type->id != SQL_TEXT) return 1;
  sql_strbuf sb;
  sql_strbuf_init(&sb, st->ctx->mem);
  int rc = 0;
  for (uint32_t i = 0; i < in->n && rc == 0; i++) {
    if (!row_live(st, i)) continue;
    sql_str s = SQL_VEC_STR(in)[i];
    char *p = sql_strbuf_take(&sb, s.len);
    if (p == NULL && s.len) return sql_oom(st->ctx);
    size_t len = 0;
    if (parse_bytea(s.ptr, s.len, p, &len)) {
      rc = cast_fail(st, i, "invalid input syntax for type bytea");
      continue;
    }
    sql_strbuf_unget(&sb, s.len - len);
    d[i] = (sql_str){len ? p : "", len};
  }
  return rc;
}

static int cast_to_uuid(cast_st *st) {
  const sql_vec *in = st->in;
  sql_str *d = SQL_VEC_STR(st->out);
  if (in->type->id != SQL_TEXT) return 1;
  sql_strbuf sb;
  sql_strbuf_init(&sb, st->ctx->mem);
  int rc = 0;
  for (uint32_t i = 0; i < in->n && rc == 0; i++) {
    if (!row_live(st, i)) continue;
    sql_str s = SQL_VEC_STR(in)[i];
    char *p = sql_strbuf_take(&sb, 16);
    if (p == NULL) return sql_oom(st->ctx);
    int why = sql_parse_uuid(s.ptr, s.len, (uint8_t *)p);
    if (why) {
      rc = input_fail(st, i, why, s);
      continue;
    }
    d[i] = (sql_str){p, 16};
  }
  return rc;
}

static int date_to_ts(int64_t d, int64_t *out) {
  if (d == SQL_DATE_NOBEGIN)
    *out = SQL_TS_NOBEGIN;
  else if (d == SQL_DATE_NOEND)
    *out = SQL_TS_NOEND;
  else if (__builtin_mul_overflow(d, SQL_USEC_PER_DAY, out) || !sql_ts_ok(*out))
    return 1;
  return 0;
}

static int64_t ts_to_date(int64_t ts) {
  if (ts == SQL_TS_NOBEGIN) return SQL_DATE_NOBEGIN;
  if (ts == SQL_TS_NOEND) return SQL_DATE_NOEND;
  return sql_floor_div(ts, SQL_USEC_PER_DAY);
}

static int cast_to_temporal(cast_st *st) {
  const sql_vec *in = st->in;
  sql_vec *out = st->out;
  sql_type_id from = in->type->id, to = out->type->id;
  int rc = 0;
  if (from == SQL_TEXT) {
    for (uint32_t i = 0; i < in->n && rc == 0; i++) {
      if (!row_live(st, i)) continue;
      sql_str s = SQL_VEC_STR(in)[i];
      int why;
      switch (to) {
      case SQL_DATE: why = sql_parse_date(s.ptr, s.len, &SQL_VEC_I64(out)[i]); break;
      case SQL_TIME: why = sql_parse_time(s.ptr, s.len, &SQL_VEC_I64(out)[i]); break;
      case SQL_TIMESTAMP:
      case SQL_TIMESTAMPTZ:
        why = sql_parse_timestamp(s.ptr, s.len, to == SQL_TIMESTAMPTZ, &SQL_VEC_I64(out)[i]);
        break;
      default: why = sql_parse_interval(s.ptr, s.len, &SQL_VEC_IV(out)[i]); break;
      }
      if (why) rc = input_fail(st, i, why, s);
    }
    return rc;
  }
  if (to == SQL_INTERVAL) {
    if (from != SQL_TIME) return 1;
    for (uint32_t i = 0; i < in->n; i++)
      SQL_VEC_IV(out)[i] = (sql_interval){0, 0, SQL_VEC_I64(in)[i]};
    return 0;
  }
  if (from == SQL_INTERVAL) {
    if (to != SQL_TIME) return 1;
    for (uint32_t i = 0; i < in->n; i++)
      SQL_VEC_I64(out)[i] = sql_floor_mod(SQL_VEC_IV(in)[i].micros, SQL_USEC_PER_DAY);
    return 0;
  }
  const int64_t *s = SQL_VEC_I64(in);
  int64_t *d = SQL_VEC_I64(out);
  bool from_ts = from == SQL_TIMESTAMP || from == SQL_TIMESTAMPTZ;
  bool to_ts = to == SQL_TIMESTAMP || to == SQL_TIMESTAMPTZ;
  if (from == SQL_DATE && to_ts) {
    for (uint32_t i = 0; i < in->n && rc == 0; i++)
      if (date_to_ts(s[i], &d[i]) && row_live(st, i))
        rc = cast_fail(st, i, "date out of range for timestamp");
    return rc;
  }
  if (from_ts && to == SQL_DATE) {
    for (uint32_t i = 0; i < in->n; i++)
      d[i] = ts_to_date(s[i]);
    return 0;
  }
  if (from_ts && to_ts) {
    memcpy(d, s, (size_t)in->n * sizeof *d);
    return 0;
  }
  if (from_ts && to == SQL_TIME) {
    for (uint32_t i = 0; i < in->n; i++)
      d[i] = sql_floor_mod(s[i], SQL_USEC_PER_DAY);
    return 0;
  }
  return 1;
}

/* Splits one PostgreSQL array literal into element texts: *elems gets (ptr, len) views, nested
 * arrays kept whole with their braces, quoted elements unescaped into scratch; NULL elements get
 * ptr NULL. Returns 0 or SQL_PARSE_SYNTAX. */
static int split_array(const char *s, size_t n, char *scratch, sql_str **elems, size_t *n_elems,
                       size_t *cap) {
  size_t i = 0, w = 0;
  *n_elems = 0;
  trim(&s, &n);
  if (n < 2 || s[0] != '{') return SQL_PARSE_SYNTAX;
  i = 1;
  while (i < n && is_space(s[i]))
    i++;
  if (i < n && s[i] == '}') return i + 1 == n ? 0 : SQL_PARSE_SYNTAX;
  for (;;) {
    while (i < n && is_space(s[i]))
      i++;
    if (i >= n) return SQL_PARSE_SYNTAX;
    sql_str e;
    if (s[i] == '"') {
      size_t start = w;
      i++;
      while (i < n && s[i] != '"') {
        if (s[i] == '\\' && i + 1 < n) i++;
        scratch[w++] = s[i++];
      }
      if (i >= n) return SQL_PARSE_SYNTAX;
      i++;
      e = (sql_str){scratch + start, w - start};
    } else if (s[i] == '{') {
      size_t start = i;
      int depth = 0;
      bool q = false;
      for (; i < n; i++) {
        if (q) {
          if (s[i] == '\\')
            i++;
          else if (s[i] == '"')
            q = false;
        } else if (s[i] == '"') {
          q = true;
        } else if (s[i] == '{') {
          depth++;
        } else if (s[i] == '}' && --depth == 0) {
          i++;
          break;
        }
      }
      if (depth != 0) return SQL_PARSE_SYNTAX;
      e = (sql_str){s + start, i - start};
    } else {
      size_t start = w;
      while (i < n && s[i] != ',' && s[i] != '}') {
        if (s[i] == '\\' && i + 1 < n)
          i++;
        else if (s[i] == '"' || s[i] == '{')
          return SQL_PARSE_SYNTAX;
        scratch[w++] = s[i++];
      }
      while (w > start && is_space(scratch[w - 1]))
        w--;
      e = (sql_str){scratch + start, w - start};
      if (e.len == 0) return SQL_PARSE_SYNTAX;
      if (word_eq(e.ptr, e.len, "null")) e.ptr = NULL;
    }
    if (*n_elems == *cap) {
      size_t nc = *cap ? *cap * 2 : 16;
      sql_str *ne = realloc(*elems, nc * sizeof *ne);
      if (ne == NULL) return TARN_ENOMEM;
      *elems = ne;
      *cap = nc;
    }
    (*elems)[(*n_elems)++] = e;
    while (i < n && is_space(s[i]))
      i++;
    if (i >= n) return SQL_PARSE_SYNTAX;
    if (s[i] == ',') {
      i++;
      continue;
    }
    if (s[i] == '}') {
      i++;
      while (i < n && is_space(s[i]))
        i++;
      return i == n ? 0 : SQL_PARSE_SYNTAX;
    }
    return SQL_PARSE_SYNTAX;
  }
}

static int cast_text_to_list(cast_st *st) {
  const sql_vec *in = st->in;
  sql_vec *out = st->out;
  sql_mem *m = st->ctx->mem;
  /* All elements of all rows as one text vector, cast to the element type in one go. */
  sql_vec texts;
  uint32_t tcap = 0;
  memset(&texts, 0, sizeof texts);
  int rc = sql_vec_init(m, &texts, sql_type_get(SQL_TEXT), 0, st->ctx->err);
  sql_str *elems = NULL;
  size_t n_elems = 0, cap = 0;
  for (uint32_t i = 0; i < in->n && rc == 0; i++) {
    out->offsets[i] = texts.n;
    if (!row_live(st, i)) continue;
    sql_str s = SQL_VEC_STR(in)[i];
    char *scratch = sql_mem_alloc(m, s.len + 1, 1);
    if (scratch == NULL) {
      rc = sql_oom(st->ctx);
      break;
    }
    int why = split_array(s.ptr, s.len, scratch, &elems, &n_elems, &cap);
    if (why == TARN_ENOMEM) {
      rc = sql_oom(st->ctx);
      break;
    }
    if (why) {
      rc = input_fail(st, i, why, s);
      continue;
    }
    if (n_elems == 0) continue;
    sql_vec chunk;
    memset(&chunk, 0, sizeof chunk);
    rc = sql_vec_init(m, &chunk, sql_type_get(SQL_TEXT), (uint32_t)n_elems, st->ctx->err);
    if (rc) break;
    for (size_t k = 0; k < n_elems; k++) {
      if (elems[k].ptr == NULL) {
        if (sql_vec_nulls(m, &chunk) == NULL) {
          rc = sql_oom(st->ctx);
          break;
        }
        chunk.nulls[k] = 1;
      } else {
        SQL_VEC_STR(&chunk)[k] = elems[k];
      }
    }
    if (rc == 0) rc = sql_vec_append(m, &texts, &tcap, &chunk, 0, chunk.n, st->ctx->err);
  }
  free(elems);
  if (rc) return rc;
  out->offsets[in->n] = texts.n;
  sql_vec *child = sql_mem_alloc(m, 1, sizeof *child);
  if (child == NULL) return sql_oom(st->ctx);
  rc = sql_cast_vec(st->ctx, &texts, out->type->elem, st->try_, child);
  if (rc) return rc;
  out->child = child;
  return 0;
}

int sql_cast_vec(sql_eval_ctx *ctx, const sql_vec *in, const sql_type *to, bool try_,
                 sql_vec *out) {
  const sql_type *from = in->type;
  sql_mem *m = ctx->mem;
  if (sql_type_equal(from, to)) {
    *out = *in;
    out->type = to;
    return 0;
  }
  if (from->id == SQL_NULL) return sql_vec_nulls_of(m, to, in->n, out, ctx->err);
  if (to->id == SQL_NULL) return sql_vec_nulls_of(m, to, in->n, out, ctx->err);
  sql_type_id f = from->id, t = to->id;
  /* Conversions that keep the physical values: share the buffers. */
  bool same_bits = (sql_type_is_integer(f) && sql_type_is_integer(t) &&
                    (t == SQL_INT8 || (t == SQL_INT4 && f == SQL_INT2))) ||
                   (f == SQL_FLOAT4 && t == SQL_FLOAT8) ||
                   ((f == SQL_TIMESTAMP || f == SQL_TIMESTAMPTZ) &&
                    (t == SQL_TIMESTAMP || t == SQL_TIMESTAMPTZ)) ||
                   (f == SQL_UUID && t == SQL_BYTEA) ||
                   (f == SQL_DECIMAL && t == SQL_DECIMAL && from->scale == to->scale &&
                    to->precision >= from->precision);
  if (same_bits) {
    *out = *in;
    out->type = to;
    return 0;
  }
  cast_st st = {ctx, in, out, try_};
  int rc;
  if ((f == SQL_LIST && t == SQL_LIST) || (f == SQL_MAP && t == SQL_MAP)) {
    *out = *in;
    out->type = to;
    sql_vec *child = sql_mem_alloc(m, 1, sizeof *child);
    if (child == NULL) return sql_oom(ctx);
    rc = sql_cast_vec(ctx, in->child, to->elem, try_, child);
    out->child = child;
    return rc;
  }
  if (f == SQL_STRUCT && t == SQL_STRUCT && from->n_fields == to->n_fields) {
    *out = *in;
    out->type = to;
    sql_vec *kids = sql_mem_alloc(m, to->n_fields ? to->n_fields : 1, sizeof *kids);
    if (kids == NULL) return sql_oom(ctx);
    for (size_t k = 0; k < to->n_fields; k++) {
      rc = sql_cast_vec(ctx, &in->child[k], to->fields[k].type, try_, &kids[k]);
      if (rc) return rc;
    }
    out->child = kids;
    return 0;
  }
  rc = sql_vec_init(m, out, to, in->n, ctx->err);
  if (rc) return rc;
  if (try_) {
    if (sql_vec_nulls(m, out) == NULL) return sql_oom(ctx);
    if (in->nulls) memcpy(out->nulls, in->nulls, in->n);
  } else {
    out->nulls = in->nulls;
  }
  int r;
  switch (t) {
  case SQL_BOOL: r = cast_to_bool(&st); break;
  case SQL_INT2:
  case SQL_INT4:
  case SQL_INT8: r = cast_to_int(&st); break;
  case SQL_FLOAT4:
  case SQL_FLOAT8: r = cast_to_float(&st); break;
  case SQL_DECIMAL: r = cast_to_decimal(&st); break;
  case SQL_TEXT: r = cast_to_text(&st); break;
  case SQL_BYTEA: r = cast_to_bytea(&st); break;
  case SQL_UUID: r = cast_to_uuid(&st); break;
  case SQL_DATE:
  case SQL_TIME:
  case SQL_TIMESTAMP:
  case SQL_TIMESTAMPTZ:
  case SQL_INTERVAL: r = cast_to_temporal(&st); break;
  case SQL_LIST: r = f == SQL_TEXT ? cast_text_to_list(&st) : 1; break;
  default: r = 1; break;
  }
  if (r == 1) {
    char a[128], b[128];
    sql_type_name(from, a, sizeof a);
    sql_type_name(to, b, sizeof b);
    return tarn_err(ctx->err, TARN_EINVAL, "cannot cast type %s to %s", a, b);
  }
  return r;
}

/* ---- single values -------------------------------------------------------------------------- */

/* A one-row vector viewing a scalar value in place (no allocation). */
static void value_view(const sql_value *v, sql_vec *tmp, uint8_t *u8) {
  memset(tmp, 0, sizeof *tmp);
  tmp->type = v->type;
  tmp->n = 1;
  switch (sql_type_phys(v->type->id)) {
  case SQL_PHYS_U8:
    *u8 = v->u.b ? 1 : 0;
    tmp->data = u8;
    break;
  case SQL_PHYS_I64: tmp->data = (void *)&v->u.i64; break;
  case SQL_PHYS_F64: tmp->data = (void *)&v->u.f64; break;
  case SQL_PHYS_I128: tmp->data = (void *)&v->u.i128; break;
  case SQL_PHYS_STR: tmp->data = (void *)&v->u.str; break;
  case SQL_PHYS_INTERVAL: tmp->data = (void *)&v->u.iv; break;
  default: break;
  }
}

int sql_cast_value(sql_mem *m, const sql_value *in, const sql_type *to, sql_value *out,
                   tarn_error *err) {
  sql_eval_ctx ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.mem = m;
  ctx.err = err;
  sql_vec v;
  int rc = sql_vec_from_value(m, in, &v, err);
  if (rc) return rc;
  sql_vec *o = sql_mem_alloc(m, 1, sizeof *o);
  if (o == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
  rc = sql_cast_vec(&ctx, &v, to, false, o);
  if (rc) return rc;
  sql_vec_get(o, 0, out);
  out->type = to;
  if (!out->is_null && sql_type_phys(to->id) == SQL_PHYS_STR && out->u.str.len) {
    out->u.str = sql_mem_str(m, out->u.str.ptr, out->u.str.len);
    if (out->u.str.ptr == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
  }
  return 0;
}

int sql_value_compare(const sql_value *a, const sql_value *b) {
  if (a->is_null || b->is_null) return a->is_null && b->is_null ? 0 : a->is_null ? 1 : -1;
  sql_phys p = sql_type_phys(a->type->id);
  if (p == SQL_PHYS_LIST || p == SQL_PHYS_STRUCT)
    return sql_row_cmp(a->nested, a->nested_row, b->nested, b->nested_row);
  sql_vec va, vb;
  uint8_t ua, ub;
  value_view(a, &va, &ua);
  value_view(b, &vb, &ub);
  return sql_row_cmp(&va, 0, &vb, 0);
}

void sql_value_text(const sql_value *v, char *buf, size_t cap) {
  if (cap == 0) return;
  if (v->is_null || v->type == NULL || v->type->id == SQL_NULL) {
    snprintf(buf, cap, "NULL");
    return;
  }
  tarn_buf b = {0};
  sql_phys p = sql_type_phys(v->type->id);
  int rc;
  if (p == SQL_PHYS_LIST || p == SQL_PHYS_STRUCT) {
    rc = sql_row_text(&b, v->nested, v->nested_row, false, NULL);
  } else {
    sql_vec tmp;
    uint8_t u8;
    value_view(v, &tmp, &u8);
    rc = sql_row_text(&b, &tmp, 0, false, NULL);
  }
  size_t n = rc == 0 ? b.len : 0;
  if (n >= cap) n = cap - 1;
  if (n) memcpy(buf, b.data, n);
  buf[n] = '\0';
  tarn_buf_free(&b);
}
