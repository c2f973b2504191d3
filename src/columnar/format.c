/*
 * Text output of Arrow batches (see format.h and docs/internals/text-output.md).
 *
 * At creation the schema's format strings are parsed once into a small tree of fmt_node (one per
 * Arrow field, with the unit, scale, width and precomputed JSON keys it needs). Printing walks
 * that tree beside the arrays with one switch per value. Output goes to a growable buffer that is
 * written with one fwrite per batch (or per megabyte, whichever comes first). Appends use a
 * sticky error: after the first failure every append is a no-op and the row loop stops.
 */
#include "columnar/format.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"

/* Deepest nesting of types accepted in a schema. */
#define FMT_MAX_DEPTH 64
/* Output is written mid-batch once this much is buffered. */
#define FMT_FLUSH_BYTES ((size_t)1 << 20)
/* Rows the aligned table keeps; the rest are only counted. */
#define TABLE_MAX_ROWS 10000
/* Display columns of a table cell before it is cut with "…". */
#define TABLE_MAX_WIDTH 40
/* Largest |scale| accepted in "d:P,S". */
#define DECIMAL_MAX_SCALE 200

typedef enum fmt_kind {
  K_NULL,
  K_BOOL,
  K_INT8,
  K_UINT8,
  K_INT16,
  K_UINT16,
  K_INT32,
  K_UINT32,
  K_INT64,
  K_UINT64,
  K_HALF,
  K_FLOAT,
  K_DOUBLE,
  K_BINARY,
  K_LARGE_BINARY,
  K_BINARY_VIEW,
  K_STRING,
  K_LARGE_STRING,
  K_STRING_VIEW,
  K_FIXED_BINARY,
  K_UUID,
  K_DECIMAL,
  K_DATE32,
  K_DATE64,
  K_TIME32,
  K_TIME64,
  K_TIMESTAMP,
  K_INTERVAL_MONTHS,
  K_INTERVAL_DAY_TIME,
  K_INTERVAL_MDN,
  K_LIST,
  K_LARGE_LIST,
  K_FIXED_LIST,
  K_STRUCT,
  K_MAP,
  K_DICT
} fmt_kind;

typedef struct fmt_node fmt_node;
struct fmt_node {
  fmt_kind kind;
  fmt_kind index_kind; /* K_DICT: integer type of the indices */
  int32_t width;       /* bytes of a fixed binary or decimal, items of a fixed-size list */
  int32_t scale;       /* decimal scale */
  int64_t unit;        /* time and timestamp: units per second */
  int frac_digits;     /* time and timestamp: 6, or 9 for nanoseconds */
  bool utc;            /* timestamp with a time zone: print a trailing Z */
  bool numeric;        /* right-aligned in tables, never needs CSV quoting */
  char *json_key;      /* "\"name\":" with the name JSON-escaped (struct children only) */
  size_t json_key_len;
  int64_t n_children;
  fmt_node *children; /* array of n_children */
  fmt_node *dict;     /* K_DICT: the value type */
};

typedef struct writer {
  tarn_buf *buf;
  int rc; /* first failure; appends do nothing once set */
  tarn_error *err;
  const char *column; /* top-level column being printed, for messages */
  bool whole;         /* table cells: never cut (a one-column table, e.g. an EXPLAIN plan) */
} writer;

struct col_printer {
  col_text_format format;
  FILE *out;
  fmt_node root; /* the schema's struct: one child per column */
  const struct ArrowSchema *schema;
  tarn_buf out_buf;
  tarn_buf scratch;
  /* COL_FORMAT_TABLE */
  tarn_buf cells;     /* sanitised cell texts, back to back */
  tarn_buf cell_ends; /* size_t end offset of each cell in cells, row-major */
  size_t *widths;     /* display width of each column */
  int64_t rows_kept;
  int64_t rows_dropped;
};

/* ---------------------------------------------------------------- appending */

static inline bool w_reserve(writer *w, size_t n) {
  if (w->rc) return false;
  if (n <= w->buf->cap - w->buf->len) return true;
  int rc = tarn_buf_reserve(w->buf, n, w->err);
  if (rc) {
    w->rc = rc;
    return false;
  }
  return true;
}

static inline void w_put(writer *w, const void *p, size_t n) {
  if (n == 0 || !w_reserve(w, n)) return;
  memcpy(w->buf->data + w->buf->len, p, n);
  w->buf->len += n;
}

static inline void w_putc(writer *w, char c) {
  if (!w_reserve(w, 1)) return;
  w->buf->data[w->buf->len++] = (uint8_t)c;
}

#define W_LIT(w, s) w_put((w), (s), sizeof(s) - 1)

static void w_fail(writer *w, int code, const char *what) {
  if (w->rc) return;
  w->rc = tarn_err(w->err, code, "column %s: %s", w->column ? w->column : "?", what);
}

/* Writes v in decimal to p (at least 20 bytes); returns the length. */
static size_t fmt_u64(char *p, uint64_t v) {
  char tmp[20];
  size_t n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  for (size_t k = 0; k < n; k++)
    p[k] = tmp[n - 1 - k];
  return n;
}

static size_t fmt_i64(char *p, int64_t v) {
  if (v < 0) {
    p[0] = '-';
    return 1 + fmt_u64(p + 1, (uint64_t)0 - (uint64_t)v);
  }
  return fmt_u64(p, (uint64_t)v);
}

/* Writes v zero-padded to at least `digits` digits. */
static size_t fmt_u64_pad(char *p, uint64_t v, int digits) {
  char tmp[20];
  size_t n = fmt_u64(tmp, v);
  size_t pad = n < (size_t)digits ? (size_t)digits - n : 0;
  memset(p, '0', pad);
  memcpy(p + pad, tmp, n);
  return pad + n;
}

/* Writes v < 100 as two digits. */
static inline size_t fmt_2(char *p, unsigned v) {
  p[0] = (char)('0' + v / 10);
  p[1] = (char)('0' + v % 10);
  return 2;
}

static void w_i64(writer *w, int64_t v) {
  char tmp[24];
  w_put(w, tmp, fmt_i64(tmp, v));
}

static void w_u64(writer *w, uint64_t v) {
  char tmp[24];
  w_put(w, tmp, fmt_u64(tmp, v));
}

/* Puts text that is a JSON string in JSON mode and bare text otherwise. The text must need no
 * escaping (digits, signs, dates). */
static void w_scalar_text(writer *w, const char *p, size_t n, bool json) {
  if (!w_reserve(w, n + 2)) return;
  uint8_t *d = w->buf->data + w->buf->len;
  if (json) *d++ = '"';
  memcpy(d, p, n);
  d += n;
  if (json) *d++ = '"';
  w->buf->len = (size_t)(d - w->buf->data);
}

/* ---------------------------------------------------------------- loads */

static inline int32_t ld_i32(const void *base, int64_t i) {
  int32_t v;
  memcpy(&v, (const uint8_t *)base + i * 4, 4);
  return v;
}

static inline int64_t ld_i64(const void *base, int64_t i) {
  int64_t v;
  memcpy(&v, (const uint8_t *)base + i * 8, 8);
  return v;
}

static inline bool bit_set(const void *bits, int64_t i) {
  return (((const uint8_t *)bits)[i >> 3] >> (i & 7)) & 1;
}

static inline bool is_null(const struct ArrowArray *a, int64_t j) {
  return a->null_count != 0 && a->buffers[0] != NULL && !bit_set(a->buffers[0], j);
}

/* ---------------------------------------------------------------- strings and bytes */

/* Length of the valid UTF-8 sequence starting at s (whose first byte is >= 0x80), or 0. */
static size_t utf8_seq_len(const uint8_t *s, size_t n) {
  uint8_t c = s[0];
  size_t len;
  uint8_t lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F; /* no surrogates */
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F; /* nothing above U+10FFFF */
  } else {
    return 0;
  }
  if (n < len || s[1] < lo || s[1] > hi) return 0;
  for (size_t k = 2; k < len; k++)
    if ((s[k] & 0xC0) != 0x80) return 0;
  return len;
}

/* Puts UTF-8 bytes: as a JSON string (escaped) in JSON mode, as raw text otherwise. Invalid
 * UTF-8 bytes become U+FFFD either way. */
static void w_utf8(writer *w, const uint8_t *s, size_t n, bool json) {
  static const char hex[] = "0123456789abcdef";
  if (json) w_putc(w, '"');
  size_t i = 0, start = 0;
  while (i < n) {
    uint8_t c = s[i];
    if (c >= 0x80) {
      size_t len = utf8_seq_len(s + i, n - i);
      if (len) {
        i += len;
        continue;
      }
    } else if (!json || (c >= 0x20 && c != '"' && c != '\\')) {
      i++;
      continue;
    }
    w_put(w, s + start, i - start);
    if (c >= 0x80) {
      if (json)
        W_LIT(w, "\\ufffd");
      else
        W_LIT(w, "\xEF\xBF\xBD");
    } else {
      switch (c) {
      case '"': W_LIT(w, "\\\""); break;
      case '\\': W_LIT(w, "\\\\"); break;
      case '\b': W_LIT(w, "\\b"); break;
      case '\f': W_LIT(w, "\\f"); break;
      case '\n': W_LIT(w, "\\n"); break;
      case '\r': W_LIT(w, "\\r"); break;
      case '\t': W_LIT(w, "\\t"); break;
      default: {
        char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        w_put(w, u, 6);
      }
      }
    }
    i++;
    start = i;
  }
  w_put(w, s + start, i - start);
  if (json) w_putc(w, '"');
}

/* Puts standard base64 with padding (RFC 4648), quoted in JSON mode. */
static void w_base64(writer *w, const uint8_t *s, size_t n, bool json) {
  static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t out_len = (n + 2) / 3 * 4;
  if (!w_reserve(w, out_len + 2)) return;
  uint8_t *d = w->buf->data + w->buf->len;
  if (json) *d++ = '"';
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
    d[0] = (uint8_t)tab[v >> 18];
    d[1] = (uint8_t)tab[(v >> 12) & 63];
    d[2] = (uint8_t)tab[(v >> 6) & 63];
    d[3] = (uint8_t)tab[v & 63];
    d += 4;
  }
  if (n - i == 1) {
    uint32_t v = (uint32_t)s[i] << 16;
    d[0] = (uint8_t)tab[v >> 18];
    d[1] = (uint8_t)tab[(v >> 12) & 63];
    d[2] = d[3] = '=';
    d += 4;
  } else if (n - i == 2) {
    uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
    d[0] = (uint8_t)tab[v >> 18];
    d[1] = (uint8_t)tab[(v >> 12) & 63];
    d[2] = (uint8_t)tab[(v >> 6) & 63];
    d[3] = '=';
    d += 4;
  }
  if (json) *d++ = '"';
  w->buf->len = (size_t)(d - w->buf->data);
}

static void w_uuid(writer *w, const uint8_t *s, bool json) {
  static const char hex[] = "0123456789abcdef";
  char t[36];
  size_t n = 0;
  for (int k = 0; k < 16; k++) {
    if (k == 4 || k == 6 || k == 8 || k == 10) t[n++] = '-';
    t[n++] = hex[s[k] >> 4];
    t[n++] = hex[s[k] & 15];
  }
  w_scalar_text(w, t, n, json);
}

/* ---------------------------------------------------------------- numbers */

static double half_to_double(uint16_t h) {
  int exp = (h >> 10) & 0x1F;
  int mant = h & 0x3FF;
  double v;
  if (exp == 0)
    v = ldexp(mant, -24);
  else if (exp == 31)
    v = mant ? NAN : INFINITY;
  else
    v = ldexp(mant + 1024, exp - 25);
  return (h & 0x8000) ? -v : v;
}

/* Shortest of %.15g, %.16g, %.17g that reads back as v; NaN and infinities as the strings
 * "NaN", "Infinity", "-Infinity"; negative zero as -0.0. */
static void w_double(writer *w, double v, bool json) {
  if (isnan(v)) {
    w_scalar_text(w, "NaN", 3, json);
    return;
  }
  if (isinf(v)) {
    if (v > 0)
      w_scalar_text(w, "Infinity", 8, json);
    else
      w_scalar_text(w, "-Infinity", 9, json);
    return;
  }
  if (v == 0) {
    if (signbit(v))
      W_LIT(w, "-0.0");
    else
      w_putc(w, '0');
    return;
  }
  if (fabs(v) < 1e15 && v == (double)(int64_t)v) { /* what %.15g prints, without printf */
    w_i64(w, (int64_t)v);
    return;
  }
  char tmp[40];
  int n = 0;
  for (int prec = 15; prec <= 17; prec++) {
    n = snprintf(tmp, sizeof tmp, "%.*g", prec, v);
    if (prec == 17 || strtod(tmp, NULL) == v) break;
  }
  w_put(w, tmp, (size_t)n);
}

/* Decimal of `width` bytes (4, 8, 16 or 32; little-endian two's complement) with `scale`. */
static void w_decimal(writer *w, const uint8_t *p, int width, int scale, bool json) {
  uint32_t limb[8];
  int nl = width / 4;
  memcpy(limb, p, (size_t)width);
  bool neg = limb[nl - 1] >> 31;
  if (neg) {
    uint64_t carry = 1;
    for (int k = 0; k < nl; k++) {
      uint64_t x = (uint64_t)(uint32_t)~limb[k] + carry;
      limb[k] = (uint32_t)x;
      carry = x >> 32;
    }
  }
  char rev[80]; /* 2^256 has 78 digits */
  int nd = 0;
  int top = nl;
  while (top > 0 && limb[top - 1] == 0)
    top--;
  while (top > 0) {
    uint64_t rem = 0;
    for (int k = top - 1; k >= 0; k--) {
      uint64_t cur = rem << 32 | limb[k];
      limb[k] = (uint32_t)(cur / 1000000000u);
      rem = cur % 1000000000u;
    }
    while (top > 0 && limb[top - 1] == 0)
      top--;
    for (int d = 0; d < 9; d++) {
      rev[nd++] = (char)('0' + rem % 10);
      rem /= 10;
      if (top == 0 && rem == 0) break;
    }
  }
  if (nd == 0) rev[nd++] = '0';

  char t[2 + 80 + DECIMAL_MAX_SCALE + 2];
  size_t n = 0;
  if (neg) t[n++] = '-';
  if (scale <= 0) {
    for (int k = nd - 1; k >= 0; k--)
      t[n++] = rev[k];
    if (!(nd == 1 && rev[0] == '0'))
      for (int k = 0; k < -scale; k++)
        t[n++] = '0';
  } else if (nd <= scale) {
    t[n++] = '0';
    t[n++] = '.';
    for (int k = nd; k < scale; k++)
      t[n++] = '0';
    for (int k = nd - 1; k >= 0; k--)
      t[n++] = rev[k];
  } else {
    for (int k = nd - 1; k >= 0; k--) {
      t[n++] = rev[k];
      if (k == scale) t[n++] = '.';
    }
  }
  w_scalar_text(w, t, n, json);
}

/* ---------------------------------------------------------------- dates and times */

/* Proleptic Gregorian civil date of a day count from 1970-01-01 (H. Hinnant's algorithm). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = (unsigned)(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* "YYYY-MM-DD"; years outside 0..9999 get more digits or a '-'. */
static size_t fmt_date(char *p, int64_t days) {
  int64_t y;
  unsigned m, d;
  civil_from_days(days, &y, &m, &d);
  size_t n = 0;
  if (y < 0) p[n++] = '-';
  uint64_t ay = y < 0 ? (uint64_t)0 - (uint64_t)y : (uint64_t)y;
  if (ay < 10000) {
    n += fmt_2(p + n, (unsigned)(ay / 100));
    n += fmt_2(p + n, (unsigned)(ay % 100));
  } else {
    n += fmt_u64(p + n, ay);
  }
  p[n++] = '-';
  n += fmt_2(p + n, m);
  p[n++] = '-';
  n += fmt_2(p + n, d);
  return n;
}

/* "HH:MM:SS.fff…" from seconds (hours may exceed 23) and a fraction in units of 1/unit s. */
static size_t fmt_clock(char *p, uint64_t secs, uint64_t frac, int64_t unit, int frac_digits) {
  uint64_t h = secs / 3600;
  size_t n = h < 100 ? fmt_2(p, (unsigned)h) : fmt_u64(p, h);
  p[n++] = ':';
  n += fmt_2(p + n, (unsigned)(secs / 60 % 60));
  p[n++] = ':';
  n += fmt_2(p + n, (unsigned)(secs % 60));
  p[n++] = '.';
  uint64_t scale = frac_digits == 9 ? 1000000000u : 1000000u;
  n += fmt_u64_pad(p + n, frac * (scale / (uint64_t)unit), frac_digits);
  return n;
}

static void w_time(writer *w, const fmt_node *nd, int64_t v, bool json) {
  char t[64];
  size_t n = 0;
  uint64_t mag = (uint64_t)v;
  if (v < 0) { /* not a valid time of day; printed rather than rejected */
    t[n++] = '-';
    mag = (uint64_t)0 - mag;
  }
  n += fmt_clock(t + n, mag / (uint64_t)nd->unit, mag % (uint64_t)nd->unit, nd->unit,
                 nd->frac_digits);
  w_scalar_text(w, t, n, json);
}

static void w_timestamp(writer *w, const fmt_node *nd, int64_t v, bool json) {
  int64_t secs = v / nd->unit, frac = v % nd->unit;
  if (frac < 0) {
    secs--;
    frac += nd->unit;
  }
  int64_t days = secs / 86400, sod = secs % 86400;
  if (sod < 0) {
    days--;
    sod += 86400;
  }
  char t[80];
  size_t n = fmt_date(t, days);
  t[n++] = 'T';
  n += fmt_clock(t + n, (uint64_t)sod, (uint64_t)frac, nd->unit, nd->frac_digits);
  if (nd->utc) t[n++] = 'Z';
  w_scalar_text(w, t, n, json);
}

static void w_interval(writer *w, int64_t months, int64_t days, int64_t micros) {
  W_LIT(w, "{\"months\":");
  w_i64(w, months);
  W_LIT(w, ",\"days\":");
  w_i64(w, days);
  W_LIT(w, ",\"micros\":");
  w_i64(w, micros);
  w_putc(w, '}');
}

/* ---------------------------------------------------------------- values */

static int64_t load_index(fmt_kind k, const void *p, int64_t j) {
  switch (k) {
  case K_INT8: return ((const int8_t *)p)[j];
  case K_UINT8: return ((const uint8_t *)p)[j];
  case K_INT16: {
    int16_t v;
    memcpy(&v, (const uint8_t *)p + j * 2, 2);
    return v;
  }
  case K_UINT16: {
    uint16_t v;
    memcpy(&v, (const uint8_t *)p + j * 2, 2);
    return v;
  }
  case K_INT32: return ld_i32(p, j);
  case K_UINT32: return (uint32_t)ld_i32(p, j);
  case K_INT64: return ld_i64(p, j);
  default: { /* K_UINT64: indices past INT64_MAX are out of range anyway */
    uint64_t v = (uint64_t)ld_i64(p, j);
    return v > INT64_MAX ? -1 : (int64_t)v;
  }
  }
}

/* Offsets [start, end) of variable-length element j; false (and an error) when malformed. */
static bool var_range(writer *w, const struct ArrowArray *a, bool large, int64_t j, int64_t *start,
                      int64_t *end) {
  if (large) {
    *start = ld_i64(a->buffers[1], j);
    *end = ld_i64(a->buffers[1], j + 1);
  } else {
    *start = ld_i32(a->buffers[1], j);
    *end = ld_i32(a->buffers[1], j + 1);
  }
  if (*start < 0 || *end < *start) {
    w_fail(w, TARN_ECORRUPT, "malformed Arrow array: decreasing offsets");
    return false;
  }
  return true;
}

/* Bytes of element j of a binary or string view array. */
static const uint8_t *view_bytes(writer *w, const struct ArrowArray *a, int64_t j, size_t *len) {
  const uint8_t *v = (const uint8_t *)a->buffers[1] + j * 16;
  int32_t size = ld_i32(v, 0);
  if (size < 0) {
    w_fail(w, TARN_ECORRUPT, "malformed Arrow array: negative view length");
    return NULL;
  }
  *len = (size_t)size;
  if (size <= 12) return v + 4;
  int32_t buf = ld_i32(v, 2), off = ld_i32(v, 3);
  if (buf < 0 || off < 0 || buf >= a->n_buffers - 3 || a->buffers[2 + buf] == NULL) {
    w_fail(w, TARN_ECORRUPT, "malformed Arrow array: view points outside its buffers");
    return NULL;
  }
  return (const uint8_t *)a->buffers[2 + buf] + off;
}

/* Prints element i (logical, before a->offset) of array a of type nd. json selects JSON text;
 * otherwise scalars are bare text (nested values are JSON either way) and nulls print nothing.
 * Returns true when the element is null. */
static bool emit(writer *w, const fmt_node *nd, const struct ArrowArray *a, int64_t i, bool json) {
  int64_t j = a->offset + i;
  if (nd->kind == K_NULL || is_null(a, j)) {
    if (json) W_LIT(w, "null");
    return true;
  }
  const void *data = a->n_buffers > 1 ? a->buffers[1] : NULL;
  switch (nd->kind) {
  case K_NULL: break;
  case K_BOOL:
    if (bit_set(data, j))
      W_LIT(w, "true");
    else
      W_LIT(w, "false");
    break;
  case K_INT8: w_i64(w, ((const int8_t *)data)[j]); break;
  case K_UINT8: w_u64(w, ((const uint8_t *)data)[j]); break;
  case K_INT16:
  case K_UINT16: {
    uint16_t v;
    memcpy(&v, (const uint8_t *)data + j * 2, 2);
    if (nd->kind == K_INT16)
      w_i64(w, (int16_t)v);
    else
      w_u64(w, v);
    break;
  }
  case K_INT32: w_i64(w, ld_i32(data, j)); break;
  case K_UINT32: w_u64(w, (uint32_t)ld_i32(data, j)); break;
  case K_INT64: w_i64(w, ld_i64(data, j)); break;
  case K_UINT64: w_u64(w, (uint64_t)ld_i64(data, j)); break;
  case K_HALF: {
    uint16_t h;
    memcpy(&h, (const uint8_t *)data + j * 2, 2);
    w_double(w, half_to_double(h), json);
    break;
  }
  case K_FLOAT: {
    float f;
    memcpy(&f, (const uint8_t *)data + j * 4, 4);
    w_double(w, (double)f, json);
    break;
  }
  case K_DOUBLE: {
    double d;
    memcpy(&d, (const uint8_t *)data + j * 8, 8);
    w_double(w, d, json);
    break;
  }
  case K_BINARY:
  case K_LARGE_BINARY:
  case K_STRING:
  case K_LARGE_STRING: {
    int64_t start, end;
    if (!var_range(w, a, nd->kind == K_LARGE_BINARY || nd->kind == K_LARGE_STRING, j, &start, &end))
      break;
    const uint8_t *bytes = a->buffers[2];
    if (bytes == NULL && end > start) {
      w_fail(w, TARN_ECORRUPT, "malformed Arrow array: missing data buffer");
      break;
    }
    if (bytes == NULL) bytes = (const uint8_t *)"";
    if (nd->kind == K_STRING || nd->kind == K_LARGE_STRING)
      w_utf8(w, bytes + start, (size_t)(end - start), json);
    else
      w_base64(w, bytes + start, (size_t)(end - start), json);
    break;
  }
  case K_BINARY_VIEW:
  case K_STRING_VIEW: {
    size_t len;
    const uint8_t *bytes = view_bytes(w, a, j, &len);
    if (bytes == NULL) break;
    if (nd->kind == K_STRING_VIEW)
      w_utf8(w, bytes, len, json);
    else
      w_base64(w, bytes, len, json);
    break;
  }
  case K_FIXED_BINARY:
    w_base64(w, (const uint8_t *)data + j * nd->width, (size_t)nd->width, json);
    break;
  case K_UUID: w_uuid(w, (const uint8_t *)data + j * 16, json); break;
  case K_DECIMAL:
    w_decimal(w, (const uint8_t *)data + j * nd->width, nd->width, nd->scale, json);
    break;
  case K_DATE32:
  case K_DATE64: {
    int64_t days;
    if (nd->kind == K_DATE32) {
      days = ld_i32(data, j);
    } else {
      int64_t ms = ld_i64(data, j);
      days = ms / 86400000;
      if (ms % 86400000 < 0) days--;
    }
    char t[32];
    w_scalar_text(w, t, fmt_date(t, days), json);
    break;
  }
  case K_TIME32: w_time(w, nd, ld_i32(data, j), json); break;
  case K_TIME64: w_time(w, nd, ld_i64(data, j), json); break;
  case K_TIMESTAMP: w_timestamp(w, nd, ld_i64(data, j), json); break;
  case K_INTERVAL_MONTHS: w_interval(w, ld_i32(data, j), 0, 0); break;
  case K_INTERVAL_DAY_TIME:
    w_interval(w, 0, ld_i32(data, 2 * j), (int64_t)ld_i32(data, 2 * j + 1) * 1000);
    break;
  case K_INTERVAL_MDN:
    w_interval(w, ld_i32(data, 4 * j), ld_i32(data, 4 * j + 1), ld_i64(data, 2 * j + 1) / 1000);
    break;
  case K_LIST:
  case K_LARGE_LIST:
  case K_FIXED_LIST: {
    int64_t start, end;
    const struct ArrowArray *child = a->children[0];
    if (nd->kind == K_FIXED_LIST) {
      start = j * nd->width;
      end = start + nd->width;
    } else {
      if (!var_range(w, a, nd->kind == K_LARGE_LIST, j, &start, &end)) break;
      if (end > child->length) {
        w_fail(w, TARN_ECORRUPT, "malformed Arrow array: list offsets past its child");
        break;
      }
    }
    w_putc(w, '[');
    for (int64_t k = start; k < end && !w->rc; k++) {
      if (k > start) w_putc(w, ',');
      emit(w, &nd->children[0], child, k, true);
    }
    w_putc(w, ']');
    break;
  }
  case K_STRUCT:
    w_putc(w, '{');
    for (int64_t c = 0; c < nd->n_children; c++) {
      if (c) w_putc(w, ',');
      w_put(w, nd->children[c].json_key, nd->children[c].json_key_len);
      emit(w, &nd->children[c], a->children[c], j, true);
    }
    w_putc(w, '}');
    break;
  case K_MAP: {
    int64_t start, end;
    if (!var_range(w, a, false, j, &start, &end)) break;
    const struct ArrowArray *entries = a->children[0];
    const fmt_node *en = &nd->children[0];
    if (end > entries->length) {
      w_fail(w, TARN_ECORRUPT, "malformed Arrow array: map offsets past its entries");
      break;
    }
    w_putc(w, '[');
    for (int64_t k = start; k < end && !w->rc; k++) {
      if (k > start) w_putc(w, ',');
      int64_t e = entries->offset + k;
      if (is_null(entries, e)) {
        W_LIT(w, "null");
        continue;
      }
      W_LIT(w, "{\"key\":");
      emit(w, &en->children[0], entries->children[0], e, true);
      W_LIT(w, ",\"value\":");
      emit(w, &en->children[1], entries->children[1], e, true);
      w_putc(w, '}');
    }
    w_putc(w, ']');
    break;
  }
  case K_DICT: {
    int64_t idx = load_index(nd->index_kind, data, j);
    if (idx < 0 || idx >= a->dictionary->length) {
      w_fail(w, TARN_ECORRUPT, "malformed Arrow array: dictionary index out of range");
      break;
    }
    return emit(w, nd->dict, a->dictionary, idx, json);
  }
  }
  return false;
}

/* ---------------------------------------------------------------- schema */

static void node_free(fmt_node *nd) {
  for (int64_t c = 0; c < nd->n_children; c++)
    node_free(&nd->children[c]);
  free(nd->children);
  free(nd->json_key);
  if (nd->dict) {
    node_free(nd->dict);
    free(nd->dict);
  }
  memset(nd, 0, sizeof *nd);
}

/* Reads an int32 of the metadata blob (native endianness). */
static int32_t md_i32(const char **p) {
  int32_t v;
  memcpy(&v, *p, 4);
  *p += 4;
  return v;
}

/* True when the metadata blob has key ARROW:extension:name with value `ext`. */
static bool has_extension(const char *metadata, const char *ext) {
  static const char key[] = "ARROW:extension:name";
  if (metadata == NULL) return false;
  const char *p = metadata;
  int32_t count = md_i32(&p);
  for (int32_t k = 0; k < count && k < 100000; k++) {
    int32_t klen = md_i32(&p);
    if (klen < 0) return false;
    const char *kp = p;
    p += klen;
    int32_t vlen = md_i32(&p);
    if (vlen < 0) return false;
    if ((size_t)klen == sizeof key - 1 && memcmp(kp, key, (size_t)klen) == 0)
      return (size_t)vlen == strlen(ext) && memcmp(p, ext, (size_t)vlen) == 0;
    p += vlen;
  }
  return false;
}

/* Parses a decimal integer in [lo, hi] at *s and moves *s past it. */
static bool parse_int(const char **s, long lo, long hi, long *out) {
  char *end;
  errno = 0;
  long v = strtol(*s, &end, 10);
  if (end == *s || errno || v < lo || v > hi) return false;
  *s = end;
  *out = v;
  return true;
}

static bool parse_decimal(const char *f, fmt_node *nd) {
  long prec, scale, bits = 128;
  f += 2;
  if (!parse_int(&f, 1, 76, &prec) || *f++ != ',') return false;
  if (!parse_int(&f, -DECIMAL_MAX_SCALE, DECIMAL_MAX_SCALE, &scale)) return false;
  if (*f == ',') {
    f++;
    if (!parse_int(&f, 32, 256, &bits)) return false;
  }
  if (*f != '\0' || (bits != 32 && bits != 64 && bits != 128 && bits != 256)) return false;
  nd->kind = K_DECIMAL;
  nd->width = (int32_t)(bits / 8);
  nd->scale = (int32_t)scale;
  return true;
}

static int json_key(fmt_node *nd, const char *name, tarn_error *err) {
  tarn_buf b = {0};
  writer w = {.buf = &b, .err = err};
  const char *s = name ? name : "";
  w_utf8(&w, (const uint8_t *)s, strlen(s), true);
  W_LIT(&w, ":\0");
  if (w.rc) {
    tarn_buf_free(&b);
    return w.rc;
  }
  nd->json_key_len = b.len - 1;
  nd->json_key = (char *)tarn_buf_steal(&b);
  return 0;
}

static int parse_node(fmt_node *nd, const struct ArrowSchema *s, const char *column, int depth,
                      tarn_error *err);

static int parse_children(fmt_node *nd, const struct ArrowSchema *s, const char *column, int depth,
                          int64_t expect, tarn_error *err) {
  if (s->n_children < 0 || (expect >= 0 && s->n_children != expect) ||
      (s->n_children > 0 && s->children == NULL))
    return tarn_err(err, TARN_EINVAL,
                    "column %s: malformed Arrow schema: type %s with %lld children", column,
                    s->format, (long long)s->n_children);
  if (s->n_children == 0) return 0;
  nd->children = calloc((size_t)s->n_children, sizeof *nd->children);
  if (nd->children == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
  nd->n_children = s->n_children;
  for (int64_t c = 0; c < s->n_children; c++) {
    if (s->children[c] == NULL)
      return tarn_err(err, TARN_EINVAL, "column %s: malformed Arrow schema: missing child", column);
    int rc = parse_node(&nd->children[c], s->children[c], column, depth + 1, err);
    if (rc) return rc;
    if (nd->kind == K_STRUCT && (rc = json_key(&nd->children[c], s->children[c]->name, err)))
      return rc;
  }
  return 0;
}

static bool parse_time_unit(char u, fmt_node *nd) {
  switch (u) {
  case 's': nd->unit = 1; break;
  case 'm': nd->unit = 1000; break;
  case 'u': nd->unit = 1000000; break;
  case 'n': nd->unit = 1000000000; break;
  default: return false;
  }
  nd->frac_digits = u == 'n' ? 9 : 6;
  return true;
}

static int parse_node(fmt_node *nd, const struct ArrowSchema *s, const char *column, int depth,
                      tarn_error *err) {
  const char *f = s->format ? s->format : "";
  if (depth > FMT_MAX_DEPTH)
    return tarn_err(err, TARN_EUNSUPPORTED, "column %s: types nested deeper than %d", column,
                    FMT_MAX_DEPTH);
  bool ok = true;
  long n = 0;
  const char *rest;
  switch (f[0]) {
  case 'n':
    nd->kind = K_NULL;
    ok = f[1] == '\0';
    break;
  case 'b':
    nd->kind = K_BOOL;
    ok = f[1] == '\0';
    break;
  case 'c':
    nd->kind = K_INT8;
    ok = f[1] == '\0';
    break;
  case 'C':
    nd->kind = K_UINT8;
    ok = f[1] == '\0';
    break;
  case 's':
    nd->kind = K_INT16;
    ok = f[1] == '\0';
    break;
  case 'S':
    nd->kind = K_UINT16;
    ok = f[1] == '\0';
    break;
  case 'i':
    nd->kind = K_INT32;
    ok = f[1] == '\0';
    break;
  case 'I':
    nd->kind = K_UINT32;
    ok = f[1] == '\0';
    break;
  case 'l':
    nd->kind = K_INT64;
    ok = f[1] == '\0';
    break;
  case 'L':
    nd->kind = K_UINT64;
    ok = f[1] == '\0';
    break;
  case 'e':
    nd->kind = K_HALF;
    ok = f[1] == '\0';
    break;
  case 'f':
    nd->kind = K_FLOAT;
    ok = f[1] == '\0';
    break;
  case 'g':
    nd->kind = K_DOUBLE;
    ok = f[1] == '\0';
    break;
  case 'z':
    nd->kind = K_BINARY;
    ok = f[1] == '\0';
    break;
  case 'Z':
    nd->kind = K_LARGE_BINARY;
    ok = f[1] == '\0';
    break;
  case 'u':
    nd->kind = K_STRING;
    ok = f[1] == '\0';
    break;
  case 'U':
    nd->kind = K_LARGE_STRING;
    ok = f[1] == '\0';
    break;
  case 'v':
    ok = (f[1] == 'u' || f[1] == 'z') && f[2] == '\0';
    nd->kind = f[1] == 'u' ? K_STRING_VIEW : K_BINARY_VIEW;
    break;
  case 'w':
    rest = f + 2;
    ok = f[1] == ':' && parse_int(&rest, 1, INT32_MAX, &n) && *rest == '\0';
    if (ok) {
      nd->width = (int32_t)n;
      nd->kind = n == 16 && has_extension(s->metadata, "arrow.uuid") ? K_UUID : K_FIXED_BINARY;
    }
    break;
  case 'd': ok = f[1] == ':' && parse_decimal(f, nd); break;
  case 't':
    if (f[1] == 'd' && (f[2] == 'D' || f[2] == 'm') && f[3] == '\0') {
      nd->kind = f[2] == 'D' ? K_DATE32 : K_DATE64;
    } else if (f[1] == 't' && f[2] != '\0' && f[3] == '\0' && parse_time_unit(f[2], nd)) {
      nd->kind = f[2] == 's' || f[2] == 'm' ? K_TIME32 : K_TIME64;
    } else if (f[1] == 's' && f[2] != '\0' && f[3] == ':' && parse_time_unit(f[2], nd)) {
      nd->kind = K_TIMESTAMP;
      nd->utc = f[4] != '\0';
    } else if (f[1] == 'i' && f[2] != '\0' && f[3] == '\0' && strchr("MDn", f[2])) {
      nd->kind = f[2] == 'M'   ? K_INTERVAL_MONTHS
                 : f[2] == 'D' ? K_INTERVAL_DAY_TIME
                               : K_INTERVAL_MDN;
    } else {
      ok = false;
    }
    break;
  case '+':
    if ((f[1] == 'l' || f[1] == 'L') && f[2] == '\0') {
      nd->kind = f[1] == 'l' ? K_LIST : K_LARGE_LIST;
    } else if (f[1] == 'w' && f[2] == ':') {
      rest = f + 3;
      ok = parse_int(&rest, 0, INT32_MAX, &n) && *rest == '\0';
      nd->kind = K_FIXED_LIST;
      nd->width = (int32_t)n;
    } else if (f[1] == 's' && f[2] == '\0') {
      nd->kind = K_STRUCT;
    } else if (f[1] == 'm' && f[2] == '\0') {
      nd->kind = K_MAP;
    } else {
      ok = false;
    }
    break;
  default: ok = false;
  }
  if (!ok)
    return tarn_err(err, TARN_EUNSUPPORTED, "column %s: unsupported Arrow type %s", column,
                    f[0] ? f : "(empty format)");
  nd->numeric = nd->kind >= K_INT8 && nd->kind <= K_DOUBLE;
  if (nd->kind == K_DECIMAL) nd->numeric = true;

  int rc = 0;
  switch (nd->kind) {
  case K_LIST:
  case K_LARGE_LIST:
  case K_FIXED_LIST: rc = parse_children(nd, s, column, depth, 1, err); break;
  case K_STRUCT: rc = parse_children(nd, s, column, depth, -1, err); break;
  case K_MAP:
    rc = parse_children(nd, s, column, depth, 1, err);
    if (rc == 0 && (nd->children[0].kind != K_STRUCT || nd->children[0].n_children != 2))
      rc = tarn_err(err, TARN_EINVAL,
                    "column %s: malformed Arrow schema: map entries are not a key/value struct",
                    column);
    break;
  default:
    if (s->n_children != 0)
      rc = tarn_err(err, TARN_EINVAL, "column %s: malformed Arrow schema: type %s with children",
                    column, f);
  }
  if (rc) return rc;

  if (s->dictionary) {
    if (nd->kind < K_INT8 || nd->kind > K_UINT64)
      return tarn_err(err, TARN_EUNSUPPORTED,
                      "column %s: unsupported Arrow dictionary index type %s", column, f);
    nd->index_kind = nd->kind;
    nd->kind = K_DICT;
    nd->dict = calloc(1, sizeof *nd->dict);
    if (nd->dict == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
    if ((rc = parse_node(nd->dict, s->dictionary, column, depth + 1, err))) return rc;
    nd->numeric = nd->dict->numeric;
  }
  return 0;
}

/* ---------------------------------------------------------------- array checks */

/* Checks the shape of array a against type nd once per batch (buffer and child counts, child
 * lengths), so the per-value code only has to check offsets and dictionary indices. */
static int check_array(const fmt_node *nd, const struct ArrowArray *a, const char *column,
                       tarn_error *err) {
  int64_t need = 2;
  switch (nd->kind) {
  case K_NULL: need = 0; break;
  case K_BINARY:
  case K_LARGE_BINARY:
  case K_STRING:
  case K_LARGE_STRING:
  case K_BINARY_VIEW:
  case K_STRING_VIEW: need = 3; break;
  case K_STRUCT:
  case K_FIXED_LIST: need = 1; break;
  default: break;
  }
  const char *why = NULL;
  if (a == NULL)
    why = "missing array";
  else if (a->length < 0 || a->offset < 0 || a->length > INT64_MAX - a->offset)
    why = "negative length or offset";
  else if (a->n_buffers < need || (need > 0 && a->buffers == NULL))
    why = "too few buffers";
  else if (need >= 2 && a->length > 0 && a->buffers[1] == NULL)
    why = "missing data buffer";
  else if (a->n_children != nd->n_children || (a->n_children > 0 && a->children == NULL))
    why = "wrong number of children";
  else if (nd->kind == K_DICT && a->dictionary == NULL)
    why = "missing dictionary";
  if (why) return tarn_err(err, TARN_ECORRUPT, "column %s: malformed Arrow array: %s", column, why);

  int64_t end = a->offset + a->length;
  for (int64_t c = 0; c < a->n_children; c++) {
    const struct ArrowArray *ch = a->children[c];
    if (ch == NULL)
      return tarn_err(err, TARN_ECORRUPT, "column %s: malformed Arrow array: missing child",
                      column);
    if (nd->kind == K_STRUCT && ch->length < end)
      return tarn_err(err, TARN_ECORRUPT,
                      "column %s: malformed Arrow array: struct child shorter than its parent",
                      column);
    if (nd->kind == K_FIXED_LIST && nd->width > 0 &&
        (end > INT64_MAX / nd->width || ch->length < end * nd->width))
      return tarn_err(err, TARN_ECORRUPT,
                      "column %s: malformed Arrow array: fixed-size list child too short", column);
    int rc = check_array(&nd->children[c], ch, column, err);
    if (rc) return rc;
  }
  if (nd->kind == K_DICT) return check_array(nd->dict, a->dictionary, column, err);
  return 0;
}

/* Checks a batch (a struct array of the printer's schema) and each of its columns. */
static int check_batch(const col_printer *p, const struct ArrowArray *b, tarn_error *err) {
  if (b->length < 0 || b->offset < 0 || b->length > INT64_MAX - b->offset)
    return tarn_err(err, TARN_ECORRUPT, "malformed Arrow batch: negative length or offset");
  if (b->n_buffers > 0 && b->buffers == NULL)
    return tarn_err(err, TARN_ECORRUPT, "malformed Arrow batch: missing buffers");
  if (b->n_children != p->root.n_children || (b->n_children > 0 && b->children == NULL))
    return tarn_err(err, TARN_ECORRUPT, "malformed Arrow batch: %lld columns for a schema of %lld",
                    (long long)b->n_children, (long long)p->root.n_children);
  for (int64_t c = 0; c < b->n_children; c++) {
    const char *name = p->schema->children[c]->name;
    const struct ArrowArray *ch = b->children[c];
    if (ch != NULL && ch->length < b->offset + b->length)
      return tarn_err(err, TARN_ECORRUPT,
                      "column %s: malformed Arrow array: shorter than its batch", name);
    int rc = check_array(&p->root.children[c], ch, name, err);
    if (rc) return rc;
  }
  return 0;
}

/* ---------------------------------------------------------------- output */

static int flush_out(col_printer *p, tarn_error *err) {
  tarn_buf *b = &p->out_buf;
  if (b->len == 0) return 0;
  size_t n = fwrite(b->data, 1, b->len, p->out);
  bool short_write = n != b->len;
  b->len = 0;
  if (short_write || ferror(p->out))
    return tarn_err(err, TARN_EIO, "writing output: %s", strerror(errno));
  return 0;
}

/* True when a CSV field must be quoted. */
static bool csv_needs_quotes(const uint8_t *s, size_t n) {
  for (size_t k = 0; k < n; k++)
    if (s[k] == ',' || s[k] == '"' || s[k] == '\n' || s[k] == '\r') return true;
  return false;
}

/* Quotes the field that starts at `start` in w's buffer, in place (through scratch). */
static void csv_quote_from(writer *w, tarn_buf *scratch, size_t start) {
  tarn_buf *b = w->buf;
  scratch->len = 0;
  if (tarn_buf_append(scratch, b->data + start, b->len - start, w->err)) {
    w->rc = TARN_ENOMEM;
    return;
  }
  b->len = start;
  w_putc(w, '"');
  size_t run = 0;
  for (size_t k = 0; k < scratch->len; k++) {
    if (scratch->data[k] == '"') {
      w_put(w, scratch->data + run, k + 1 - run);
      run = k; /* the quote is written again: doubled */
    }
  }
  w_put(w, scratch->data + run, scratch->len - run);
  w_putc(w, '"');
}

static void csv_field(writer *w, tarn_buf *scratch, const uint8_t *s, size_t n) {
  size_t start = w->buf->len;
  w_put(w, s, n);
  if (csv_needs_quotes(s, n)) csv_quote_from(w, scratch, start);
}

/* Appends s to cells for display: control characters escaped, cut at TABLE_MAX_WIDTH display
 * columns with "…". Returns the display width. */
static size_t table_cell(writer *w, const uint8_t *s, size_t n) {
  size_t width = 0, cut_len = 0, cut_width = 0;
  size_t base = w->buf->len;
  for (size_t k = 0; k < n; k++) {
    uint8_t c = s[k];
    if ((c & 0xC0) == 0x80) { /* continuation byte: no column of its own */
      w_putc(w, (char)c);
      continue;
    }
    if (width <= TABLE_MAX_WIDTH - 1 || w->whole) {
      cut_len = w->buf->len - base;
      cut_width = width;
    }
    if (c < 0x20 || c == 0x7F) {
      char e[4] = {'\\', '?', 0, 0};
      size_t el = 2;
      if (c == '\n')
        e[1] = 'n';
      else if (c == '\r')
        e[1] = 'r';
      else if (c == '\t')
        e[1] = 't';
      else {
        static const char hex[] = "0123456789abcdef";
        e[1] = 'x';
        e[2] = hex[c >> 4];
        e[3] = hex[c & 15];
        el = 4;
      }
      w_put(w, e, el);
      width += el;
    } else {
      w_putc(w, (char)c);
      width++;
    }
    if (width > TABLE_MAX_WIDTH && !w->whole) {
      if (w->rc) return 0;
      w->buf->len = base + cut_len;
      W_LIT(w, "\xE2\x80\xA6"); /* … */
      return cut_width + 1;
    }
  }
  return width;
}

static void table_end_cell(col_printer *p, writer *w, int64_t c, size_t width) {
  size_t end = p->cells.len;
  if (w->rc) return;
  writer cw = {.buf = &p->cell_ends, .err = w->err};
  w_put(&cw, &end, sizeof end);
  if (cw.rc) w->rc = cw.rc;
  if (width > p->widths[c]) p->widths[c] = width;
}

static void table_rule(writer *w, const col_printer *p) {
  w_putc(w, '+');
  for (int64_t c = 0; c < p->root.n_children; c++) {
    size_t n = p->widths[c] + 2;
    if (!w_reserve(w, n)) return;
    memset(w->buf->data + w->buf->len, '-', n);
    w->buf->len += n;
    w_putc(w, '+');
  }
  w_putc(w, '\n');
}

static size_t display_width(const uint8_t *s, size_t n) {
  size_t width = 0;
  for (size_t k = 0; k < n; k++)
    width += (s[k] & 0xC0) != 0x80;
  return width;
}

static void table_line(writer *w, const col_printer *p, const size_t *ends, size_t first_start) {
  size_t start = first_start;
  w_putc(w, '|');
  for (int64_t c = 0; c < p->root.n_children; c++) {
    const uint8_t *s = p->cells.data + start;
    size_t n = ends[c] - start;
    size_t pad = p->widths[c] - display_width(s, n);
    w_putc(w, ' ');
    if (w_reserve(w, pad + n + 2)) {
      uint8_t *d = w->buf->data + w->buf->len;
      if (p->root.children[c].numeric) {
        memset(d, ' ', pad);
        memcpy(d + pad, s, n);
      } else {
        memcpy(d, s, n);
        memset(d + n, ' ', pad);
      }
      d[pad + n] = ' ';
      d[pad + n + 1] = '|';
      w->buf->len += pad + n + 2;
    }
    start = ends[c];
  }
  w_putc(w, '\n');
}

/* ---------------------------------------------------------------- public */

int col_printer_create(col_text_format format, FILE *out, const struct ArrowSchema *schema,
                       col_printer **printer, tarn_error *err) {
  *printer = NULL;
  if (out == NULL || schema == NULL || schema->format == NULL)
    return tarn_err(err, TARN_EINVAL, "col_printer_create: missing output or schema");
  if (format != COL_FORMAT_JSONL && format != COL_FORMAT_CSV && format != COL_FORMAT_TABLE)
    return tarn_err(err, TARN_EINVAL, "col_printer_create: unknown text format %d", (int)format);
  if (strcmp(schema->format, "+s") != 0)
    return tarn_err(err, TARN_EINVAL, "printing needs a struct schema, not Arrow type %s",
                    schema->format);
  if (schema->n_children < 0 || (schema->n_children > 0 && schema->children == NULL))
    return tarn_err(err, TARN_EINVAL, "malformed Arrow schema: bad top-level children");
  col_printer *p = calloc(1, sizeof *p);
  if (p == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
  p->format = format;
  p->out = out;
  p->schema = schema;
  p->root.kind = K_STRUCT;
  int rc = 0;
  if (schema->n_children > 0) {
    p->root.children = calloc((size_t)schema->n_children, sizeof *p->root.children);
    if (p->root.children == NULL) rc = tarn_err(err, TARN_ENOMEM, "out of memory");
    if (rc == 0) p->root.n_children = schema->n_children;
  }
  for (int64_t c = 0; rc == 0 && c < schema->n_children; c++) {
    const struct ArrowSchema *cs = schema->children[c];
    if (cs == NULL) {
      rc = tarn_err(err, TARN_EINVAL, "malformed Arrow schema: missing column %lld", (long long)c);
      break;
    }
    const char *name = cs->name ? cs->name : "";
    rc = parse_node(&p->root.children[c], cs, name, 1, err);
    if (rc == 0) rc = json_key(&p->root.children[c], name, err);
  }
  if (rc == 0 && format == COL_FORMAT_TABLE && p->root.n_children > 0) {
    p->widths = calloc((size_t)p->root.n_children, sizeof *p->widths);
    if (p->widths == NULL) rc = tarn_err(err, TARN_ENOMEM, "out of memory");
  }
  if (rc == 0 && format == COL_FORMAT_CSV) {
    writer w = {.buf = &p->out_buf, .err = err};
    for (int64_t c = 0; c < p->root.n_children; c++) {
      const char *name = schema->children[c]->name ? schema->children[c]->name : "";
      if (c) w_putc(&w, ',');
      csv_field(&w, &p->scratch, (const uint8_t *)name, strlen(name));
    }
    w_putc(&w, '\n');
    rc = w.rc ? w.rc : flush_out(p, err);
  }
  if (rc) {
    col_printer_free(p);
    return rc;
  }
  *printer = p;
  return 0;
}

static void write_jsonl_row(col_printer *p, writer *w, const struct ArrowArray *batch, int64_t r,
                            bool row_null) {
  w_putc(w, '{');
  for (int64_t c = 0; c < p->root.n_children; c++) {
    const fmt_node *nd = &p->root.children[c];
    w->column = p->schema->children[c]->name;
    if (c) w_putc(w, ',');
    w_put(w, nd->json_key, nd->json_key_len);
    if (row_null)
      W_LIT(w, "null");
    else
      emit(w, nd, batch->children[c], batch->offset + r, true);
  }
  W_LIT(w, "}\n");
}

static void write_csv_row(col_printer *p, writer *w, const struct ArrowArray *batch, int64_t r,
                          bool row_null) {
  for (int64_t c = 0; c < p->root.n_children; c++) {
    const fmt_node *nd = &p->root.children[c];
    w->column = p->schema->children[c]->name;
    if (c) w_putc(w, ',');
    if (row_null) continue;
    size_t start = w->buf->len;
    if (emit(w, nd, batch->children[c], batch->offset + r, false) || w->rc) continue;
    if (w->buf->len == start)
      W_LIT(w, "\"\""); /* an empty string, told apart from null */
    else if (!nd->numeric && csv_needs_quotes(w->buf->data + start, w->buf->len - start))
      csv_quote_from(w, &p->scratch, start);
  }
  w_putc(w, '\n');
}

static void write_table_row(col_printer *p, writer *w, const struct ArrowArray *batch, int64_t r,
                            bool row_null) {
  writer sw = {.buf = &p->scratch, .err = w->err};
  writer cw = {.buf = &p->cells, .err = w->err};
  for (int64_t c = 0; c < p->root.n_children && !w->rc; c++) {
    sw.column = w->column = p->schema->children[c]->name;
    p->scratch.len = 0;
    bool null =
        row_null || emit(&sw, &p->root.children[c], batch->children[c], batch->offset + r, false);
    if (sw.rc) {
      w->rc = sw.rc;
      break;
    }
    size_t width;
    if (null) {
      W_LIT(&cw, "NULL");
      width = 4;
    } else {
      cw.whole = p->root.n_children == 1; /* nothing beside it to keep aligned */
      width = table_cell(&cw, p->scratch.data, p->scratch.len);
    }
    if (cw.rc) {
      w->rc = cw.rc;
      break;
    }
    table_end_cell(p, w, c, width);
  }
}

int col_printer_write(col_printer *p, const struct ArrowArray *batch, tarn_error *err) {
  if (p == NULL || batch == NULL)
    return tarn_err(err, TARN_EINVAL, "col_printer_write: missing printer or batch");
  int rc = check_batch(p, batch, err);
  if (rc) return rc;
  writer w = {.buf = &p->out_buf, .err = err};
  for (int64_t r = 0; r < batch->length && !w.rc; r++) {
    bool row_null = batch->n_buffers > 0 && is_null(batch, batch->offset + r);
    switch (p->format) {
    case COL_FORMAT_JSONL: write_jsonl_row(p, &w, batch, r, row_null); break;
    case COL_FORMAT_CSV: write_csv_row(p, &w, batch, r, row_null); break;
    case COL_FORMAT_TABLE:
      if (p->rows_kept >= TABLE_MAX_ROWS) {
        p->rows_dropped += batch->length - r;
        r = batch->length;
        break;
      }
      size_t cells_len = p->cells.len, ends_len = p->cell_ends.len;
      write_table_row(p, &w, batch, r, row_null);
      if (!w.rc) {
        p->rows_kept++;
      } else { /* drop the partial row so the kept rows stay whole */
        p->cells.len = cells_len;
        p->cell_ends.len = ends_len;
      }
      break;
    }
    if (!w.rc && p->out_buf.len >= FMT_FLUSH_BYTES) w.rc = flush_out(p, err);
  }
  if (w.rc) {
    p->out_buf.len = 0;
    return w.rc;
  }
  return flush_out(p, err);
}

/* Lays out the buffered table into out_buf and forgets the rows. */
static int table_print(col_printer *p, tarn_error *err) {
  writer w = {.buf = &p->out_buf, .err = err};
  int64_t nc = p->root.n_children;
  int64_t total = p->rows_kept + p->rows_dropped;
  if (nc > 0) {
    /* The header goes into cells after the rows so that one line printer lays out both. */
    size_t head_start = p->cells.len;
    writer cw = {.buf = &p->cells, .err = err};
    for (int64_t c = 0; c < nc && !cw.rc; c++) {
      const char *name = p->schema->children[c]->name ? p->schema->children[c]->name : "";
      size_t width = table_cell(&cw, (const uint8_t *)name, strlen(name));
      table_end_cell(p, &cw, c, width);
    }
    if (cw.rc) return cw.rc;
    const size_t *ends = (const size_t *)p->cell_ends.data;
    table_rule(&w, p);
    table_line(&w, p, ends + p->rows_kept * nc, head_start);
    table_rule(&w, p);
    for (int64_t r = 0; r < p->rows_kept && !w.rc; r++) {
      table_line(&w, p, ends + r * nc, r == 0 ? 0 : ends[r * nc - 1]);
      if (!w.rc && p->out_buf.len >= FMT_FLUSH_BYTES) w.rc = flush_out(p, err);
    }
    if (p->rows_kept > 0) table_rule(&w, p);
    memset(p->widths, 0, (size_t)nc * sizeof *p->widths);
  }
  if (!w.rc && p->rows_dropped > 0)
    w.rc = tarn_buf_printf(&p->out_buf, err, "(%lld more rows)\n", (long long)p->rows_dropped);
  if (!w.rc)
    w.rc = tarn_buf_printf(&p->out_buf, err, "(%lld row%s)\n", (long long)total,
                           total == 1 ? "" : "s");
  p->cells.len = p->cell_ends.len = 0;
  p->rows_kept = p->rows_dropped = 0;
  return w.rc;
}

int col_printer_finish(col_printer *p, tarn_error *err) {
  if (p == NULL) return tarn_err(err, TARN_EINVAL, "col_printer_finish: missing printer");
  int rc = 0;
  if (p->format == COL_FORMAT_TABLE) rc = table_print(p, err);
  if (rc) {
    p->out_buf.len = 0;
    return rc;
  }
  rc = flush_out(p, err);
  if (rc) return rc;
  if (fflush(p->out) != 0) return tarn_err(err, TARN_EIO, "writing output: %s", strerror(errno));
  return 0;
}

void col_printer_free(col_printer *p) {
  if (p == NULL) return;
  node_free(&p->root);
  tarn_buf_free(&p->out_buf);
  tarn_buf_free(&p->scratch);
  tarn_buf_free(&p->cells);
  tarn_buf_free(&p->cell_ends);
  free(p->widths);
  free(p);
}

int col_text_format_parse(const char *name, col_text_format *out, tarn_error *err) {
  if (name && strcmp(name, "jsonl") == 0)
    *out = COL_FORMAT_JSONL;
  else if (name && strcmp(name, "csv") == 0)
    *out = COL_FORMAT_CSV;
  else if (name && strcmp(name, "table") == 0)
    *out = COL_FORMAT_TABLE;
  else
    return tarn_err(err, TARN_EUSAGE, "unknown output format '%s' (expected jsonl, csv or table)",
                    name ? name : "");
  return 0;
}
