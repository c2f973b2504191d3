/*
 * String, regular expression, binary and list functions.
 *
 * Text is UTF-8 and lengths and positions count characters, as in a PostgreSQL UTF-8 database.
 * Text compares bytewise (the C collation); lower/upper/initcap map full Unicode through the
 * C.UTF-8 locale's tables (ASCII only if that locale is missing), without touching the process
 * locale. Regular expressions are POSIX extended ones (<regex.h>) with PostgreSQL's common
 * escapes translated (\d, \s, \w and their negations, also inside brackets); each distinct
 * pattern of a batch is compiled once, so a constant pattern compiles once per batch.
 */
#include <locale.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "sql/expr_impl.h"

static inline bool out_null(const sql_vec *out, uint32_t i) {
  return out->nulls != NULL && out->nulls[i];
}

#define ARG_STR(k, i) (SQL_VEC_STR(args[k])[SQL_ARG_ROW(args[k], i)])
#define ARG_I64(k, i) (SQL_VEC_I64(args[k])[SQL_ARG_ROW(args[k], i)])

static int fail(sql_eval_ctx *ctx, const char *msg) {
  return tarn_err(ctx->err, TARN_EINVAL, "%s", msg);
}

/* ---- UTF-8 ----------------------------------------------------------------------------------- */

static inline size_t u8_len(unsigned char c) {
  return c < 0x80 ? 1 : c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

/* Decodes the character at s[*i] (a malformed byte decodes as itself) and advances *i. */
static uint32_t u8_next(const char *s, size_t n, size_t *i) {
  unsigned char c = (unsigned char)s[*i];
  size_t k = u8_len(c);
  if (k == 1 || *i + k > n) {
    (*i)++;
    return c;
  }
  uint32_t cp = c & (k == 2 ? 0x1f : k == 3 ? 0x0f : 0x07);
  for (size_t j = 1; j < k; j++) {
    unsigned char d = (unsigned char)s[*i + j];
    if ((d & 0xc0) != 0x80) {
      (*i)++;
      return c;
    }
    cp = cp << 6 | (d & 0x3f);
  }
  *i += k;
  return cp;
}

static size_t u8_put(uint32_t cp, char *out) {
  if (cp < 0x80) {
    out[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (char)(0xc0 | cp >> 6);
    out[1] = (char)(0x80 | (cp & 0x3f));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (char)(0xe0 | cp >> 12);
    out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
    out[2] = (char)(0x80 | (cp & 0x3f));
    return 3;
  }
  out[0] = (char)(0xf0 | cp >> 18);
  out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
  out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
  out[3] = (char)(0x80 | (cp & 0x3f));
  return 4;
}

static int64_t u8_count(const char *s, size_t n) {
  int64_t c = 0;
  for (size_t i = 0; i < n; i++)
    c += ((unsigned char)s[i] & 0xc0) != 0x80;
  return c;
}

/* Byte offset of character k (0-based; the end when k >= the character count). */
static size_t u8_offset(const char *s, size_t n, int64_t k) {
  size_t i = 0;
  while (i < n && k > 0) {
    i += u8_len((unsigned char)s[i]);
    k--;
  }
  return i > n ? n : i;
}

static pthread_once_t utf8_once = PTHREAD_ONCE_INIT;
static locale_t utf8_locale;
static void utf8_init(void) { utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0); }

static uint32_t map_case(uint32_t cp, bool upper) {
  if (cp < 0x80) {
    if (upper && cp >= 'a' && cp <= 'z') return cp - 32;
    if (!upper && cp >= 'A' && cp <= 'Z') return cp + 32;
    return cp;
  }
  if (utf8_locale == (locale_t)0) return cp;
  return (uint32_t)(upper ? towupper_l((wint_t)cp, utf8_locale)
                          : towlower_l((wint_t)cp, utf8_locale));
}

size_t sql_utf8_lower(const char *s, size_t n, char *out) {
  pthread_once(&utf8_once, utf8_init);
  size_t len = 0, k = 0;
  while (k < n) {
    unsigned char c = (unsigned char)s[k];
    if (c < 0x80) {
      out[len++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
      k++;
      continue;
    }
    len += u8_put(map_case(u8_next(s, n, &k), false), out + len);
  }
  return len;
}

static bool is_alnum_cp(uint32_t cp) {
  if (cp < 0x80) return (cp >= '0' && cp <= '9') || ((cp | 32) >= 'a' && (cp | 32) <= 'z');
  return utf8_locale != (locale_t)0 && iswalnum_l((wint_t)cp, utf8_locale);
}

/* ---- kernels --------------------------------------------------------------------------------- */

enum {
  S_LENGTH,
  S_OCTET_LENGTH,
  S_BIT_LENGTH,
  S_LOWER,
  S_UPPER,
  S_INITCAP,
  S_SUBSTR,
  S_LEFT,
  S_RIGHT,
  S_STRPOS,
  S_STARTS_WITH,
  S_ENDS_WITH,
  S_REPLACE,
  S_TRANSLATE,
  S_BTRIM,
  S_LTRIM,
  S_RTRIM,
  S_LPAD,
  S_RPAD,
  S_REPEAT,
  S_REVERSE,
  S_SPLIT_PART,
  S_MD5,
  S_ASCII,
  S_CHR,
  S_TO_HEX,
  S_CONTAINS
};

static int k_str_int(sql_eval_ctx *ctx, const sql_func *f, sql_vec *const *args, size_t n_args,
                     uint32_t n, sql_vec *out) {
  (void)ctx;
  (void)n_args;
  int64_t *r = SQL_VEC_I64(out);
  bool bytes = args[0]->type->id != SQL_TEXT;
  for (uint32_t i = 0; i < n; i++) {
    if (out_null(out, i)) continue;
    sql_str s = ARG_STR(0, i);
    switch (f->op) {
    case S_LENGTH: r[i] = bytes ? (int64_t)s.len : u8_count(s.ptr, s.len); break;
    case S_OCTET_LENGTH: r[i] = (int64_t)s.len; break;
    case S_BIT_LENGTH: r[i] = (int64_t)s.len * 8; break;
    case S_ASCII: {
      size_t k = 0;
      r[i] = s.len ? (int64_t)u8_next(s.ptr, s.len, &k) : 0;
      break;
    }
    case S_STRPOS: {
      sql_str t = ARG_STR(1, i);
      r[i] = 0;
      if (t.len == 0) {
        r[i] = 1;
        break;
      }
      for (size_t k = 0; k + t.len <= s.len; k++)
        if (memcmp(s.ptr + k, t.ptr, t.len) == 0) {
          r[i] = u8_count(s.ptr, k) + 1;
          break;
        }
      break;
    }
    default: break;
    }
  }
  return 0;
}

static int k_str_bool(sql_eval_ctx *ctx, const sql_func *f, sql_vec *const *args, size_t n_args,
                      uint32_t n, sql_vec *out) {
  (void)ctx;
  (void)n_args;
  uint8_t *r = SQL_VEC_U8(out);
  for (uint32_t i = 0; i < n; i++) {
    if (out_null(out, i)) continue;
    sql_str s = ARG_STR(0, i), t = ARG_STR(1, i);
    bool v = false;
    if (t.len <= s.len) {
      if (f->op == S_STARTS_WITH)
        v = t.len == 0 || memcmp(s.ptr, t.ptr, t.len) == 0;
      else if (f->op == S_ENDS_WITH)
        v = t.len == 0 || memcmp(s.ptr + s.len - t.len, t.ptr, t.len) == 0;
      else {
        v = t.len == 0;
        for (size_t k = 0; !v && k + t.len <= s.len; k++)
          v = memcmp(s.ptr + k, t.ptr, t.len) == 0;
      }
    }
    r[i] = v;
  }
  return 0;
}

static int k_case(sql_eval_ctx *ctx, const sql_func *f, sql_vec *const *args, size_t n_args,
                  uint32_t n, sql_vec *out) {
  (void)n_args;
  pthread_once(&utf8_once, utf8_init);
  sql_strbuf sb;
  sql_strbuf_init(&sb, ctx->mem);
  sql_str *r = SQL_VEC_STR(out);
  for (uint32_t i = 0; i < n; i++) {
    if (out_null(out, i)) continue;
    sql_str s = ARG_STR(0, i);
    size_t cap = s.len * 2 + 4;
    char *p = sql_strbuf_take(&sb, cap);
    if (p == NULL) return sql_oom(ctx);
    size_t len = 0, k = 0;
    bool word_start = true;
    while (k < s.len) {
      unsigned char c = (unsigned char)s.ptr[k];
      if (c < 0x80 && f->op != S_INITCAP) {
        p[len++] = (char)(f->op == S_UPPER ? (c >= 'a' && c <= 'z' ? c - 32 : c)
                                           : (c >= 'A' && c <= 'Z' ? c + 32 : c));
        k++;
        continue;
      }
      uint32_t cp = u8_next(s.ptr, s.len, &k);
      uint32_t m;
      if (f->op == S_INITCAP) {
        bool al = is_alnum_cp(cp);
        m = map_case(cp, word_start && al);
        word_start = !al;
      } else {
        m = map_case(cp, f->op == S_UPPER);
      }
      if (len + 4 > cap) break;
      len += u8_put(m, p + len);
    }
    sql_strbuf_unget(&sb, cap - len);
    r[i] = (sql_str){len ? p : "", len};
  }
  return 0;
}

/* A view of the characters [from, to) of s (0-based, clamped). */
static sql_str chars(sql_str s, int64_t from, int64_t to) {
  if (from < 0) from = 0;
  if (to <= from) return (sql_str){"", 0};
  size_t a = u8_offset(s.ptr, s.len, from);
  size_t b = a + u8_offset(s.ptr + a, s.len - a, to - from);
  return (sql_str){s.ptr + a, b - a};
}

static int k_substr(sql_eval_ctx *ctx, const sql_func *f, sql_vec *const *args, size_t n_args,
                    uint32_t n, sql_vec *out) {
  sql_str *r = SQL_VEC_STR(out);
  for (uint32_t i = 0; i < n; i++) {
    if (out_null(out, i)) continue;
    sql_str s = ARG_STR(0, i);
    int64_t k = ARG_I64(1, i);
    switch (f->op) {
    case S_SUBSTR: {
      /* PostgreSQL: characters [from, from + len) with positions starting at 1. */
      int64_t from = k - 1, to = INT64_MAX;
      if (n_args > 2) {
        int64_t len = ARG_I64(2, i);
        if (len < 0) return fail(ctx, "negative substring length not allowed");
        to = __builtin_add_overflow(from, len, &to) ? INT64_MAX : to;
      }
      r[i] = chars(s, from, to);
      break;
    }
    case S_LEFT: {
      int64_t total = k >= 0 ? 0 : u8_count(s.ptr, s.len);
      r[i] = chars(s, 0, k >= 0 ? k : total + k);
      break;
    }
    default: {
      int64_t total = u8_count(s.ptr, s.len);
      r[i] = chars(s, k >= 0 ? total - k : -k, total);
      break;
    }
    }
  }
  return 0;
}

static bool in_set(uint32_t cp, sql_str set) {
  size_t k = 0;
  while (k < set.len)
    if (u8_next(set.ptr, set.len, &k) == cp) return true;
  return false;
}

static int k_trim(sql_eval_ctx *ctx, const sql_func *f, sql_vec *const *args, size_t n_args,
                  uint32_t n, sql_vec *out) {
  (void)ctx;
  sql_str *r = SQL_VEC_STR(out);
  for (uint32_t i = 0; i < n; i++) {
    if (out_null(out, i)) continue;
    sql_str s = ARG_STR(0, i), set = n_args > 1 ? ARG_STR(1, i) : (sql_str){" ", 1};
    size_t a = 0, b = s.len;
    if (f->op != S_RTRIM) {
      while (a < b) {
        size_t k = a;
        if (!in_set(u8_next(s.ptr, b, &k), set)) break;
        a = k;
      }
    }
    if (f->op != S_LTRIM) {
      while (b > a) {
        size_t start = b - 1;
        while (start > a && ((unsigned char)s.ptr[start] & 0xc0) == 0x80)
          start--;
        size_t k = start;
        if (!in_set(u8_next(s.ptr, b, &k), set)) break;
        b = start;
      }
    }
    r[i] = (sql_str){s.ptr + a, b - a};
  }
  return 0;
}

static int k_pad(sql_eval_ctx *ctx, const sql_func *f, sql_vec *const *args, size_t n_args,
                 uint32_t n, sql_vec *out) {
  sql_strbuf sb;
  sql_strbuf_init(&sb, ctx->mem);
  sql_str *r = SQL_VEC_STR(out);
  for (uint32_t i = 0; i < n; i++) {
    if (out_null(out, i)) continue;
    sql_str s = ARG_STR(0, i), fill = n_args > 2 ? ARG_STR(2, i) : (sql_str){" ", 1};
    int64_t len = ARG_I64(1, i);
    if (len <= 0) {
      r[i] = (sql_str){"", 0};
      continue;
    }
    if (len > 10 * 1000 * 1000) return fail(ctx, "requested length too large");
    int64_t have = u8_count(s.ptr, s.len);
    if (have >= len || fill.len == 0) {
      r[i] = chars(s, 0, len);
      continue;
    }
    int64_t need = len - have, fill_chars = u8_count(fill.ptr, fill.len);
    size_t cap = s.len + (size_t)need * 4;
    char *p = sql_strbuf_take(&sb, cap);
    if (p == NULL) return sql_oom(ctx);
    size_t w = 0;
    if (f->op == S_RPAD) {
      memcpy(p, s.ptr, s.len);
      w = s.len;
    }
    for (int64_t c = 0; c < need;) {
      int64_t take = need - c < fill_chars ? need - c : fill_chars;
      sql_str part = chars(fill, 0, take);
      memcpy(p + w, part.ptr, part.len);
      w += part.len;
      c += take;
    }
    if (f->op == S_LPAD) {
      memcpy(p + w, s.ptr, s.len);
      w += s.len;
    }
    sql_strbuf_unget(&sb, cap - w);
    r[i] = (sql_str){p, w};
  }
  return 0;
}

static int k_str_misc(sql_eval_ctx *ctx, const sql_func *f, sql_vec *const *args, size_t n_args,
                      uint32_t n, sql_vec *out) {
  (void)n_args;
  sql_strbuf sb;
  sql_strbuf_init(&sb, ctx->mem);
  sql_str *r = SQL_VEC_STR(out);
  for (uint32_t i = 0; i < n; i++) {
    if (out_null(out, i)) continue;
    switch (f->op) {
    case S_REPEAT: {
      sql_str s = ARG_STR(0, i);
      int64_t k = ARG_I64(1, i);
      if (k <= 0 || s.len == 0) {
        r[i] = (sql_str){"", 0};
        break;
      }
      if ((uint64_t)k > ((uint64_t)1 << 30) / s.len) return fail(ctx, "requested length too large");
      size_t len = s.len * (size_t)k;
      char *p = sql_strbuf_take(&sb, len);
      if (p == NULL) return sql_oom(ctx);
      for (int64_t j = 0; j < k; j++)
        memcpy(p + (size_t)j * s.len, s.ptr, s.len);
      r[i] = (sql_str){p, len};
      break;
    }
    case S_REVERSE: {
      sql_str s = ARG_STR(0, i);
      char *p = sql_strbuf_take(&sb, s.len);
      if (p == NULL && s.len) return sql_oom(ctx);
      size_t w = s.len, k = 0;
      while (k < s.len) {
        size_t c = u8_len((unsigned char)s.ptr[k]);
        if (k + c > s.len) c = s.len - k;
        w -= c;
        memcpy(p + w, s.ptr + k, c);
        k += c;
      }
      r[i] = (sql_str){s.len ? p : "", s.len};
      break;
    }
    case S_REPLACE: {
      sql_str s = ARG_STR(0, i), from = ARG_STR(1, i), to = ARG_STR(2, i);
      if (from.len == 0 || from.len > s.len) {
        r[i] = s;
        break;
      }
      size_t count = 0;
      for (size_t k = 0; k + from.len <= s.len;)
        if (memcmp(s.ptr + k, from.ptr, from.len) == 0) {
          count++;
          k += from.len;
        } else {
          k++;
        }
      if (count == 0) {
        r[i] = s;
        break;
      }
      size_t len = s.len - count * from.len + count * to.len;
      char *p = sql_strbuf_take(&sb, len);
      if (p == NULL && len) return sql_oom(ctx);
      size_t w = 0;
      for (size_t k = 0; k < s.len;) {
        if (k + from.len <= s.len && memcmp(s.ptr + k, from.ptr, from.len) == 0) {
          memcpy(p + w, to.ptr, to.len);
          w += to.len;
          k += from.len;
        } else {
          p[w++] = s.ptr[k++];
        }
      }
      r[i] = (sql_str){len ? p : "", len};
      break;
    }
    case S_TRANSLATE: {
      sql_str s = ARG_STR(0, i), from = ARG_STR(1, i), to = ARG_STR(2, i);
      size_t cap = s.len * 4 + 4;
      char *p = sql_strbuf_take(&sb, cap);
      if (p == NULL) return sql_oom(ctx);
      size_t w = 0, k = 0;
      while (k < s.len) {
        uint32_t cp = u8_next(s.ptr, s.len, &k);
        /* Position of cp in from, then the character at that position of to (or none). */
        size_t fk = 0, pos = 0;
        bool found = false;
        while (fk < from.len) {
          if (u8_next(from.ptr, from.len, &fk) == cp) {
            found = true;
            break;
          }
          pos++;
        }
        if (!found) {
          w += u8_put(cp, p + w);
          continue;
        }
        size_t tk = 0;
        uint32_t rep = 0;
        bool has = false;
        for (size_t j = 0; j <= pos && tk < to.len; j++) {
          rep = u8_next(to.ptr, to.len, &tk);
          has = j == pos;
        }
        if (has) w += u8_put(rep, p + w);
      }
      sql_strbuf_unget(&sb, cap - w);
      r[i] = (sql_str){w ? p : "", w};
      break;
    }
    case S_SPLIT_PART: {
      sql_str s = ARG_STR(0, i), d = ARG_STR(1, i);
      int64_t k = ARG_I64(2, i);
      if (k == 0) return fail(ctx, "field position must not be zero");
      /* Field boundaries, then pick from the front or the back. */
      size_t nf = 1;
      for (size_t j = 0; d.len && j + d.len <= s.len;) {
        if (memcmp(s.ptr + j, d.ptr, d.len) == 0) {
          nf++;
          j += d.len;
        } else {
          j++;
        }
      }
      if (s.len == 0) nf = 0;
      int64_t want = k > 0 ? k - 1 : (int64_t)nf + k;
      r[i] = (sql_str){"", 0};
      if (want < 0 || want >= (int64_t)nf) break;
      size_t start = 0, field = 0, j = 0;
      while (d.len && j + d.len <= s.len) {
        if (memcmp(s.ptr + j, d.ptr, d.len) == 0) {
          if ((int64_t)field == want) break;
          field++;
          j += d.len;
          start = j;
        } else {
          j++;
        }
      }
      size_t end = (int64_t)field == want && d.len && j + d.len <= s.len ? j : s.len;
      r[i] = (sql_str){s.ptr + start, end - start};
      break;
    }
    case S_MD5: {
      sql_str s = ARG_STR(0, i);
      unsigned char md[EVP_MAX_MD_SIZE];
      unsigned int mdlen = 0;
      if (!EVP_Digest(s.ptr, s.len, md, &mdlen, EVP_md5(), NULL)) return fail(ctx, "md5 failed");
      char *p = sql_strbuf_take(&sb, 32);
      if (p == NULL) return sql_oom(ctx);
      static const char hex[] = "0123456789abcdef";
      for (unsigned k = 0; k < 16; k++) {
        p[2 * k] = hex[md[k] >> 4];
        p[2 * k + 1] = hex[md[k] & 15];
      }
      r[i] = (sql_str){p, 32};
      break;
    }
    case S_CHR: {
      int64_t c = ARG_I64(0, i);
      if (c == 0) return fail(ctx, "null character not permitted");
      if (c < 0 || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return tarn_err(ctx->err, TARN_EINVAL, "requested character too large for encoding: %lld",
                        (long long)c);
      char *p = sql_strbuf_take(&sb, 4);
      if (p == NULL) return sql_oom(ctx);
      size_t len = u8_put((uint32_t)c, p);
      sql_strbuf_unget(&sb, 4 - len);
      r[i] = (sql_str){p, len};
      break;
    }
    case S_TO_HEX: {
      int64_t v = ARG_I64(0, i);
      uint64_t u = args[0]->type->id == SQL_INT8 ? (uint64_t)v : (uint64_t)(uint32_t)v;
      char tmp[20];
      int len = snprintf(tmp, sizeof tmp, "%llx", (unsigned long long)u);
      if (sql_strbuf_put(&sb, tmp, (size_t)len, &r[i])) return sql_oom(ctx);
      break;
    }
    default: return fail(ctx, "bad string function");
    }
  }
  return 0;
}

/* concat(...): NULLs are skipped; concat_ws(sep, ...): a NULL separator gives NULL. */
static int k_concat(sql_eval_ctx *ctx, const sql_func *f, sql_vec *const *args, size_t n_args,
                    uint32_t n, sql_vec *out) {
  bool ws = f->op == 1;
  sql_strbuf sb;
  sql_strbuf_init(&sb, ctx->mem);
  sql_str *r = SQL_VEC_STR(out);
  uint8_t *nulls = NULL;
  for (uint32_t i = 0; i < n; i++) {
    sql_str sep = {"", 0};
    if (ws) {
      if (SQL_ARG_NULL(args[0], i)) {
        if (nulls == NULL && (nulls = sql_vec_nulls(ctx->mem, out)) == NULL) return sql_oom(ctx);
        nulls[i] = 1;
        continue;
      }
      sep = ARG_STR(0, i);
    }
    size_t len = 0, parts = 0;
    for (size_t k = ws; k < n_args; k++) {
      if (SQL_ARG_NULL(args[k], i)) continue;
      len += ARG_STR(k, i).len + (parts++ ? sep.len : 0);
    }
    char *p = sql_strbuf_take(&sb, len);
    if (p == NULL && len) return sql_oom(ctx);
    size_t w = 0;
    parts = 0;
    for (size_t k = ws; k < n_args; k++) {
      if (SQL_ARG_NULL(args[k], i)) continue;
      if (parts++ && sep.len) {
        memcpy(p + w, sep.ptr, sep.len);
        w += sep.len;
      }
      sql_str s = ARG_STR(k, i);
      if (s.len) memcpy(p + w, s.ptr, s.len);
      w += s.len;
    }
    r[i] = (sql_str){len ? p : "", len};
  }
  return 0;
}

/* ---- regular expressions --------------------------------------------------------------------- */

enum { RX_MATCH, RX_IMATCH, RX_NOT_MATCH, RX_NOT_IMATCH, RX_LIKE, RX_REPLACE, RX_SUBSTRING };

/* PostgreSQL's regex escapes in POSIX ERE terms. */
static int translate_re(sql_str p, char **out) {
  size_t cap = p.len * 16 + 1;
  char *r = malloc(cap);
  if (r == NULL) return TARN_ENOMEM;
  size_t w = 0;
  bool in_bracket = false;
  for (size_t i = 0; i < p.len; i++) {
    char c = p.ptr[i];
    if (c == '\\' && i + 1 < p.len) {
      char d = p.ptr[++i];
      const char *rep = NULL;
      switch (d) {
      case 'd': rep = in_bracket ? "0-9" : "[0-9]"; break;
      case 'D': rep = in_bracket ? NULL : "[^0-9]"; break;
      case 's': rep = in_bracket ? "[:space:]" : "[[:space:]]"; break;
      case 'S': rep = in_bracket ? NULL : "[^[:space:]]"; break;
      case 'w': rep = in_bracket ? "[:alnum:]_" : "[[:alnum:]_]"; break;
      case 'W': rep = in_bracket ? NULL : "[^[:alnum:]_]"; break;
      case 'm': rep = "\\<"; break;
      case 'M': rep = "\\>"; break;
      case 'y': rep = "\\b"; break;
      case 'A': rep = "^"; break;
      case 'Z': rep = "$"; break;
      case 't': rep = "\t"; break;
      case 'n': rep = "\n"; break;
      case 'r': rep = "\r"; break;
      default: break;
      }
      if (rep) {
        size_t k = strlen(rep);
        memcpy(r + w, rep, k);
        w += k;
      } else if (in_bracket) {
        r[w++] = d;
      } else {
        r[w++] = '\\';
        r[w++] = d;
      }
      continue;
    }
    if (!in_bracket && c == '[') {
      in_bracket = true;
      r[w++] = c;
      if (i + 1 < p.len && p.ptr[i + 1] == '^') r[w++] = p.ptr[++i];
      if (i + 1 < p.len && p.ptr[i + 1] == ']') r[w++] = p.ptr[++i];
      continue;
    }
    if (in_bracket && c == '[' && i + 1 < p.len &&
        (p.ptr[i + 1] == ':' || p.ptr[i + 1] == '.' || p.ptr[i + 1] == '=')) {
      char close = p.ptr[i + 1];
      r[w++] = c;
      r[w++] = p.ptr[++i];
      while (i + 1 < p.len && !(p.ptr[i] == close && p.ptr[i + 1] == ']'))
        r[w++] = p.ptr[++i];
      if (i + 1 < p.len) r[w++] = p.ptr[++i];
      continue;
    }
    if (in_bracket && c == ']') in_bracket = false;
    r[w++] = c;
  }
  r[w] = '\0';
  *out = r;
  return 0;
}

typedef struct rx_cache {
  bool have;
  regex_t re;
  char *pat;
  size_t pat_len;
  int cflags;
} rx_cache;

static void rx_free(rx_cache *c) {
  if (c->have) regfree(&c->re);
  free(c->pat);
  c->have = false;
  c->pat = NULL;
}

static int rx_get(sql_eval_ctx *ctx, rx_cache *c, sql_str pat, int cflags) {
  if (c->have && c->cflags == cflags && c->pat_len == pat.len &&
      (pat.len == 0 || memcmp(c->pat, pat.ptr, pat.len) == 0))
    return 0;
  rx_free(c);
  /* glibc's regcomp copies the parse tree for every quantifier and bound, so a short pattern with
   * many of them can take gigabytes (PostgreSQL's own engine has complexity limits for the same
   * reason). Patterns are user input: refuse the ones that could blow up. */
  size_t quantifiers = 0;
  bool after_quantifier = false;
  for (size_t i = 0; i < pat.len; i++) {
    char ch = pat.ptr[i];
    if (ch == '\\') { /* an escaped character is a plain atom */
      i++;
      after_quantifier = false;
      continue;
    }
    if (ch == '[') { /* a bracket expression is one atom: skip to its closing ']' */
      size_t j = i + 1;
      if (j < pat.len && pat.ptr[j] == '^') j++;
      if (j < pat.len && pat.ptr[j] == ']') j++;
      while (j < pat.len && pat.ptr[j] != ']') j++;
      i = j;
      after_quantifier = false;
      continue;
    }
    bool q = ch == '*' || ch == '+' || ch == '?' || ch == '{';
    if (q && after_quantifier) /* as in PostgreSQL: a quantifier needs an atom to repeat */
      return tarn_err(ctx->err, TARN_EINVAL, "invalid regular expression: quantifier operand invalid");
    if (ch == '{')
      while (i < pat.len && pat.ptr[i] != '}') i++;
    quantifiers += q;
    after_quantifier = q;
  }
  if (pat.len > 4096 || quantifiers > 64)
    return tarn_err(ctx->err, TARN_EINVAL,
                    "invalid regular expression: too complex (at most 4096 bytes and 64 quantifiers)");
  char *ere;
  if (translate_re(pat, &ere)) return sql_oom(ctx);
  int rc = regcomp(&c->re, ere, cflags);
  free(ere);
  if (rc != 0) {
    char msg[200];
    regerror(rc, &c->re, msg, sizeof msg);
    return tarn_err(ctx->err, TARN_EINVAL, "invalid regular expression: %s", msg);
  }
  c->have = true;
  c->cflags = cflags;
  c->pat = malloc(pat.len + 1);
  if (c->pat == NULL) {
    rx_free(c);
    return sql_oom(ctx);
  }
  memcpy(c->pat, pat.ptr, pat.len);
  c->pat_len = pat.len;
  return 0;
}

/* Flags text ('g', 'i', 'n', 'c', ...) to regcomp flags; *global for 'g'. */
static int rx_flags(sql_eval_ctx *ctx, sql_str fl, bool allow_g, int *cflags, bool *global) {
  *cflags = REG_EXTENDED;
  *global = false;
  for (uint64_t k = 0; k < fl.len; k++) {
    switch (fl.ptr[k]) {
    case 'i': *cflags |= REG_ICASE; break;
    case 'c': *cflags &= ~REG_ICASE; break;
    case 'n':
    case 'p':
    case 'w': *cflags |= REG_NEWLINE; break;
    case 's': *cflags &= ~REG_NEWLINE; break;
    case 'g':
      if (allow_g) {
        *global = true;
        break;
      }
      /* fall through */
    default:
      return tarn_err(ctx->err, TARN_EINVAL, "invalid regular expression option: \"%c\"",
                      fl.ptr[k]);
    }
  }
  return 0;
}

/* A NUL-terminated copy of s in a growing scratch buffer. */
static const char *cstr(char **buf, size_t *cap, sql_str s) {
  if (s.len + 1 > *cap) {
    size_t nc = s.len + 1 > 256 ? s.len + 1 : 256;
    char *p = realloc(*buf, nc);
    if (p == NULL) return NULL;
    *buf = p;
    *cap = nc;
  }
  if (s.len) memcpy(*buf, s.ptr, s.len);
  (*buf)[s.len] = '\0';
  return *buf;
}

static int k_regex(sql_eval_ctx *ctx, const sql_func *f, sql_vec *const *args, size_t n_args,
                   uint32_t n, sql_vec *out) {
  rx_cache rc_ = {0};
  char *buf = NULL;
  size_t cap = 0;
  int rc = 0;
  sql_strbuf sb;
  sql_strbuf_init(&sb, ctx->mem);
  tarn_buf acc = {0};
  for (uint32_t i = 0; i < n && rc == 0; i++) {
    if (out_null(out, i)) continue;
    sql_str s = ARG_STR(0, i), pat = ARG_STR(1, i);
    int cflags = REG_EXTENDED;
    bool global = false;
    size_t flag_arg = f->op == RX_REPLACE ? 3 : 2;
    if (n_args > flag_arg) {
      rc = rx_flags(ctx, ARG_STR(flag_arg, i), f->op == RX_REPLACE, &cflags, &global);
      if (rc) break;
    }
    if (f->op == RX_IMATCH || f->op == RX_NOT_IMATCH) cflags |= REG_ICASE;
    if (f->op != RX_REPLACE && f->op != RX_SUBSTRING) cflags |= REG_NOSUB;
    if ((rc = rx_get(ctx, &rc_, pat, cflags))) break;
    const char *cs = cstr(&buf, &cap, s);
    if (cs == NULL) {
      rc = sql_oom(ctx);
      break;
    }
    if (f->op == RX_SUBSTRING) {
      regmatch_t m[2];
      if (regexec(&rc_.re, cs, 2, m, 0) != 0) {
        if (sql_vec_nulls(ctx->mem, out) == NULL) {
          rc = sql_oom(ctx);
          break;
        }
        out->nulls[i] = 1;
        continue;
      }
      regmatch_t g = rc_.re.re_nsub >= 1 && m[1].rm_so >= 0 ? m[1] : m[0];
      SQL_VEC_STR(out)[i] = (sql_str){s.ptr + g.rm_so, (uint64_t)(g.rm_eo - g.rm_so)};
      continue;
    }
    if (f->op != RX_REPLACE) {
      bool m = regexec(&rc_.re, cs, 0, NULL, 0) == 0;
      SQL_VEC_U8(out)[i] = (f->op == RX_NOT_MATCH || f->op == RX_NOT_IMATCH) ? !m : m;
      continue;
    }
    sql_str rep = ARG_STR(2, i);
    acc.len = 0;
    size_t pos = 0;
    regmatch_t m[10];
    while (pos <= s.len) {
      if (regexec(&rc_.re, cs + pos, 10, m, pos > 0 ? REG_NOTBOL : 0) != 0) break;
      size_t so = pos + (size_t)m[0].rm_so, eo = pos + (size_t)m[0].rm_eo;
      rc = tarn_buf_append(&acc, s.ptr + pos, so - pos, ctx->err);
      for (uint64_t k = 0; k < rep.len && rc == 0; k++) {
        char c = rep.ptr[k];
        if (c == '\\' && k + 1 < rep.len) {
          char d = rep.ptr[++k];
          int g = d == '&' ? 0 : (d >= '1' && d <= '9') ? d - '0' : -1;
          if (g >= 0) {
            if ((size_t)g <= rc_.re.re_nsub && m[g].rm_so >= 0)
              rc = tarn_buf_append(&acc, s.ptr + pos + m[g].rm_so,
                                   (size_t)(m[g].rm_eo - m[g].rm_so), ctx->err);
            continue;
          }
          c = d;
        }
        rc = tarn_buf_append(&acc, &c, 1, ctx->err);
      }
      if (rc) break;
      if (eo == so) {
        /* An empty match: copy one character and move past it. */
        if (so >= s.len) {
          pos = s.len + 1;
          break;
        }
        size_t c = u8_len((unsigned char)s.ptr[so]);
        if (so + c > s.len) c = s.len - so;
        rc = tarn_buf_append(&acc, s.ptr + so, c, ctx->err);
        pos = so + c;
      } else {
        pos = eo;
      }
      if (!global || rc) break;
    }
    if (rc) break;
    if (pos < s.len) rc = tarn_buf_append(&acc, s.ptr + pos, s.len - pos, ctx->err);
    if (rc == 0 && sql_strbuf_put(&sb, (const char *)acc.data, acc.len, &SQL_VEC_STR(out)[i]))
      rc = sql_oom(ctx);
  }
  rx_free(&rc_);
  free(buf);
  tarn_buf_free(&acc);
  return rc;
}

/* ---- binary encodings ------------------------------------------------------------------------ */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64val(char c) {
  const char *p = c ? strchr(b64, c) : NULL;
  return p ? (int)(p - b64) : -1;
}

static bool fmt_is(sql_str f, const char *w) {
  size_t k = strlen(w);
  if (f.len != k) return false;
  for (size_t i = 0; i < k; i++)
    if ((f.ptr[i] | 32) != w[i]) return false;
  return true;
}

static int k_encode(sql_eval_ctx *ctx, const sql_func *f, sql_vec *const *args, size_t n_args,
                    uint32_t n, sql_vec *out) {
  (void)n_args;
  static const char hex[] = "0123456789abcdef";
  sql_strbuf sb;
  sql_strbuf_init(&sb, ctx->mem);
  for (uint32_t i = 0; i < n; i++) {
    if (out_null(out, i)) continue;
    sql_str s = ARG_STR(0, i), fm = ARG_STR(1, i);
    bool enc = f->op == 0;
    if (!fmt_is(fm, "hex") && !fmt_is(fm, "base64"))
      return tarn_err(ctx->err, TARN_EINVAL, "unrecognized encoding: \"%.*s\"", (int)fm.len,
                      fm.ptr);
    bool hexf = fmt_is(fm, "hex");
    size_t cap = enc ? (hexf ? s.len * 2 : (s.len + 2) / 3 * 4 + s.len / 57 + 1) : s.len;
    char *p = sql_strbuf_take(&sb, cap);
    if (p == NULL && cap) return sql_oom(ctx);
    size_t w = 0;
    if (enc && hexf) {
      for (uint64_t k = 0; k < s.len; k++) {
        p[w++] = hex[(unsigned char)s.ptr[k] >> 4];
        p[w++] = hex[(unsigned char)s.ptr[k] & 15];
      }
    } else if (enc) {
      for (uint64_t k = 0; k < s.len; k += 3) {
        uint32_t v = (uint32_t)(unsigned char)s.ptr[k] << 16;
        if (k + 1 < s.len) v |= (uint32_t)(unsigned char)s.ptr[k + 1] << 8;
        if (k + 2 < s.len) v |= (unsigned char)s.ptr[k + 2];
        p[w++] = b64[v >> 18 & 63];
        p[w++] = b64[v >> 12 & 63];
        p[w++] = k + 1 < s.len ? b64[v >> 6 & 63] : '=';
        p[w++] = k + 2 < s.len ? b64[v & 63] : '=';
        if ((k / 3 + 1) % 19 == 0 && k + 3 < s.len) p[w++] = '\n'; /* 76-column lines */
      }
    } else if (hexf) {
      for (uint64_t k = 0; k < s.len;) {
        if (s.ptr[k] == ' ' || s.ptr[k] == '\n' || s.ptr[k] == '\t' || s.ptr[k] == '\r') {
          k++;
          continue;
        }
        char h[3] = {s.ptr[k], k + 1 < s.len ? s.ptr[k + 1] : 0, 0};
        char *end;
        long v = strtol(h, &end, 16);
        if (end != h + 2) return fail(ctx, "invalid hexadecimal data: odd number of digits");
        p[w++] = (char)v;
        k += 2;
      }
    } else {
      uint32_t acc = 0;
      int bits = 0;
      for (uint64_t k = 0; k < s.len; k++) {
        char c = s.ptr[k];
        if (c == '=' || c == '\n' || c == '\r' || c == ' ' || c == '\t') continue;
        int v = b64val(c);
        if (v < 0) return fail(ctx, "invalid symbol found while decoding base64 sequence");
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
          bits -= 8;
          p[w++] = (char)(acc >> bits & 0xff);
        }
      }
    }
    sql_strbuf_unget(&sb, cap - w);
    SQL_VEC_STR(out)[i] = (sql_str){w ? p : "", w};
  }
  return 0;
}

/* ---- lists ----------------------------------------------------------------------------------- */

enum { L_CARDINALITY, L_ARRAY_LENGTH, L_ARRAY_POSITION, L_TO_STRING, L_FROM_STRING, L_CONTAINS };

static int k_list(sql_eval_ctx *ctx, const sql_func *f, sql_vec *const *args, size_t n_args,
                  uint32_t n, sql_vec *out) {
  const sql_vec *l = args[0];
  uint8_t *nulls = out->nulls;
  sql_strbuf sb;
  sql_strbuf_init(&sb, ctx->mem);
  tarn_buf acc = {0};
  int rc = 0;
  for (uint32_t i = 0; i < n && rc == 0; i++) {
    uint32_t r = SQL_ARG_ROW(l, i);
    bool null_row = f->handles_nulls ? SQL_VEC_IS_NULL(l, r) : out_null(out, i);
    if (null_row) {
      if (f->handles_nulls) {
        if (nulls == NULL && (nulls = sql_vec_nulls(ctx->mem, out)) == NULL) return sql_oom(ctx);
        nulls[i] = 1;
      }
      continue;
    }
    int64_t s = l->offsets[r], e = l->offsets[r + 1];
    switch (f->op) {
    case L_CARDINALITY: SQL_VEC_I64(out)[i] = e - s; break;
    case L_ARRAY_LENGTH:
      if (ARG_I64(1, i) != 1 || e == s) {
        if (nulls == NULL && (nulls = sql_vec_nulls(ctx->mem, out)) == NULL) return sql_oom(ctx);
        nulls[i] = 1;
      } else {
        SQL_VEC_I64(out)[i] = e - s;
      }
      break;
    case L_ARRAY_POSITION:
    case L_CONTAINS: {
      /* NULL finds NULL (IS NOT DISTINCT FROM), as in PostgreSQL's array_position. */
      const sql_vec *x = args[1];
      uint32_t xr = SQL_ARG_ROW(x, i);
      bool xn = SQL_VEC_IS_NULL(x, xr);
      int64_t found = 0;
      for (int64_t k = s; k < e && !found; k++) {
        bool en = SQL_VEC_IS_NULL(l->child, (uint32_t)k);
        if (en || xn ? en && xn : sql_row_cmp(l->child, (uint32_t)k, x, xr) == 0) found = k - s + 1;
      }
      if (f->op == L_CONTAINS) {
        SQL_VEC_U8(out)[i] = found > 0;
      } else if (found) {
        SQL_VEC_I64(out)[i] = found;
      } else {
        if (nulls == NULL && (nulls = sql_vec_nulls(ctx->mem, out)) == NULL) return sql_oom(ctx);
        nulls[i] = 1;
      }
      break;
    }
    case L_TO_STRING: {
      if (SQL_ARG_NULL(args[1], i)) {
        if (nulls == NULL && (nulls = sql_vec_nulls(ctx->mem, out)) == NULL) return sql_oom(ctx);
        nulls[i] = 1;
        break;
      }
      sql_str sep = ARG_STR(1, i);
      bool has_null_str = n_args > 2 && !SQL_ARG_NULL(args[2], i);
      acc.len = 0;
      bool first = true;
      for (int64_t k = s; k < e && rc == 0; k++) {
        bool en = SQL_VEC_IS_NULL(l->child, (uint32_t)k);
        if (en && !has_null_str) continue;
        if (!first) rc = tarn_buf_append(&acc, sep.ptr, sep.len, ctx->err);
        first = false;
        if (rc) break;
        if (en) {
          sql_str ns = ARG_STR(2, i);
          rc = tarn_buf_append(&acc, ns.ptr, ns.len, ctx->err);
        } else {
          rc = sql_row_text(&acc, l->child, (uint32_t)k, true, ctx->err);
        }
      }
      if (rc == 0 && sql_strbuf_put(&sb, (const char *)acc.data, acc.len, &SQL_VEC_STR(out)[i]))
        rc = sql_oom(ctx);
      break;
    }
    default: rc = fail(ctx, "bad list function"); break;
    }
  }
  out->nulls = nulls;
  tarn_buf_free(&acc);
  return rc;
}

/* string_to_array(s, delimiter[, null_string]) */
static int k_string_to_array(sql_eval_ctx *ctx, const sql_func *f, sql_vec *const *args,
                             size_t n_args, uint32_t n, sql_vec *out) {
  (void)f;
  sql_vec *child = out->child;
  uint32_t cap = 0;
  memset(child, 0, sizeof *child);
  int rc = sql_vec_init(ctx->mem, child, sql_type_get(SQL_TEXT), 0, ctx->err);
  sql_vec one;
  if (rc == 0) rc = sql_vec_init(ctx->mem, &one, sql_type_get(SQL_TEXT), 1, ctx->err);
  uint8_t one_null = 1;
  uint8_t *nulls = NULL;
  for (uint32_t i = 0; i < n && rc == 0; i++) {
    out->offsets[i] = child->n;
    if (SQL_ARG_NULL(args[0], i)) {
      if (nulls == NULL && (nulls = sql_vec_nulls(ctx->mem, out)) == NULL) return sql_oom(ctx);
      nulls[i] = 1;
      continue;
    }
    sql_str s = ARG_STR(0, i);
    bool dnull = SQL_ARG_NULL(args[1], i);
    sql_str d = dnull ? (sql_str){"", 0} : ARG_STR(1, i);
    bool has_ns = n_args > 2 && !SQL_ARG_NULL(args[2], i);
    sql_str ns = has_ns ? ARG_STR(2, i) : (sql_str){"", 0};
    if (s.len == 0) continue;
    size_t pos = 0;
    while (rc == 0) {
      size_t end;
      if (dnull) {
        end = pos + u8_len((unsigned char)s.ptr[pos]);
        if (end > s.len) end = s.len;
      } else if (d.len == 0) {
        end = s.len;
      } else {
        end = s.len;
        for (size_t k = pos; k + d.len <= s.len; k++)
          if (memcmp(s.ptr + k, d.ptr, d.len) == 0) {
            end = k;
            break;
          }
      }
      sql_str part = {s.ptr + pos, end - pos};
      bool is_null = has_ns && part.len == ns.len && memcmp(part.ptr, ns.ptr, ns.len) == 0;
      SQL_VEC_STR(&one)[0] = part;
      one.nulls = is_null ? &one_null : NULL;
      rc = sql_vec_append(ctx->mem, child, &cap, &one, 0, 1, ctx->err);
      if (dnull) {
        pos = end;
        if (pos >= s.len) break;
      } else {
        if (end >= s.len || d.len == 0) break;
        pos = end + d.len;
      }
    }
  }
  out->offsets[n] = child->n;
  out->nulls = nulls;
  return rc;
}

static int k_uuid(sql_eval_ctx *ctx, const sql_func *f, sql_vec *const *args, size_t n_args,
                  uint32_t n, sql_vec *out) {
  (void)f;
  (void)args;
  (void)n_args;
  static _Thread_local uint64_t st;
  if (st == 0) st = (uint64_t)(uintptr_t)&st ^ (uint64_t)ctx->now_micros ^ 0x2545f4914f6cdd1dULL;
  sql_strbuf sb;
  sql_strbuf_init(&sb, ctx->mem);
  for (uint32_t i = 0; i < n; i++) {
    uint8_t *p = (uint8_t *)sql_strbuf_take(&sb, 16);
    if (p == NULL) return sql_oom(ctx);
    for (int k = 0; k < 16; k++) {
      st ^= st << 13;
      st ^= st >> 7;
      st ^= st << 17;
      p[k] = (uint8_t)(st >> 32);
    }
    p[6] = (uint8_t)((p[6] & 0x0f) | 0x40);
    p[8] = (uint8_t)((p[8] & 0x3f) | 0x80);
    SQL_VEC_STR(out)[i] = (sql_str){(const char *)p, 16};
  }
  return 0;
}

#define TXT SQL_TEXT
#define I4 SQL_INT4
#define I8 SQL_INT8
#define U(name, k, op, a, r)                                                                       \
  { name, k, op, 1, 1, {a, 0, 0, 0}, r, 0 }
#define B(name, k, op, a, b, r)                                                                    \
  { name, k, op, 2, 2, {a, b, 0, 0}, r, 0 }
#define T3(name, k, op, a, b, c, r)                                                                \
  { name, k, op, 3, 3, {a, b, c, 0}, r, 0 }

const sql_func_def sql_string_defs[] = {
    U("length", k_str_int, S_LENGTH, TXT, I4),
    U("length", k_str_int, S_LENGTH, SQL_BYTEA, I4),
    U("char_length", k_str_int, S_LENGTH, TXT, I4),
    U("character_length", k_str_int, S_LENGTH, TXT, I4),
    U("octet_length", k_str_int, S_OCTET_LENGTH, TXT, I4),
    U("octet_length", k_str_int, S_OCTET_LENGTH, SQL_BYTEA, I4),
    U("bit_length", k_str_int, S_BIT_LENGTH, TXT, I4),
    U("ascii", k_str_int, S_ASCII, TXT, I4),
    B("strpos", k_str_int, S_STRPOS, TXT, TXT, I4),
    B("position", k_str_int, S_STRPOS, TXT, TXT, I4),
    B("starts_with", k_str_bool, S_STARTS_WITH, TXT, TXT, SQL_BOOL),
    B("ends_with", k_str_bool, S_ENDS_WITH, TXT, TXT, SQL_BOOL),
    B("contains", k_str_bool, S_CONTAINS, TXT, TXT, SQL_BOOL),
    U("lower", k_case, S_LOWER, TXT, TXT),
    U("upper", k_case, S_UPPER, TXT, TXT),
    U("initcap", k_case, S_INITCAP, TXT, TXT),
    B("substr", k_substr, S_SUBSTR, TXT, I4, TXT),
    T3("substr", k_substr, S_SUBSTR, TXT, I4, I4, TXT),
    B("substring", k_substr, S_SUBSTR, TXT, I4, TXT),
    T3("substring", k_substr, S_SUBSTR, TXT, I4, I4, TXT),
    B("substring", k_regex, RX_SUBSTRING, TXT, TXT, TXT),
    B("left", k_substr, S_LEFT, TXT, I4, TXT),
    B("right", k_substr, S_RIGHT, TXT, I4, TXT),
    U("btrim", k_trim, S_BTRIM, TXT, TXT),
    B("btrim", k_trim, S_BTRIM, TXT, TXT, TXT),
    U("trim", k_trim, S_BTRIM, TXT, TXT),
    B("trim", k_trim, S_BTRIM, TXT, TXT, TXT),
    U("ltrim", k_trim, S_LTRIM, TXT, TXT),
    B("ltrim", k_trim, S_LTRIM, TXT, TXT, TXT),
    U("rtrim", k_trim, S_RTRIM, TXT, TXT),
    B("rtrim", k_trim, S_RTRIM, TXT, TXT, TXT),
    B("lpad", k_pad, S_LPAD, TXT, I4, TXT),
    T3("lpad", k_pad, S_LPAD, TXT, I4, TXT, TXT),
    B("rpad", k_pad, S_RPAD, TXT, I4, TXT),
    T3("rpad", k_pad, S_RPAD, TXT, I4, TXT, TXT),
    B("repeat", k_str_misc, S_REPEAT, TXT, I4, TXT),
    U("reverse", k_str_misc, S_REVERSE, TXT, TXT),
    T3("replace", k_str_misc, S_REPLACE, TXT, TXT, TXT, TXT),
    T3("translate", k_str_misc, S_TRANSLATE, TXT, TXT, TXT, TXT),
    T3("split_part", k_str_misc, S_SPLIT_PART, TXT, TXT, I4, TXT),
    U("md5", k_str_misc, S_MD5, TXT, TXT),
    U("chr", k_str_misc, S_CHR, I4, TXT),
    U("to_hex", k_str_misc, S_TO_HEX, I4, TXT),
    U("to_hex", k_str_misc, S_TO_HEX, I8, TXT),
    {"concat", k_concat, 0, 1, 255, {SQL_A_TEXT, 0, 0, 0}, TXT, SQL_F_NULLS | SQL_F_VARIADIC},
    {"concat_ws", k_concat, 1, 2, 255, {TXT, SQL_A_TEXT, 0, 0}, TXT, SQL_F_NULLS | SQL_F_VARIADIC},
    B("~", k_regex, RX_MATCH, TXT, TXT, SQL_BOOL),
    B("~*", k_regex, RX_IMATCH, TXT, TXT, SQL_BOOL),
    B("!~", k_regex, RX_NOT_MATCH, TXT, TXT, SQL_BOOL),
    B("!~*", k_regex, RX_NOT_IMATCH, TXT, TXT, SQL_BOOL),
    B("regexp_like", k_regex, RX_LIKE, TXT, TXT, SQL_BOOL),
    T3("regexp_like", k_regex, RX_LIKE, TXT, TXT, TXT, SQL_BOOL),
    T3("regexp_replace", k_regex, RX_REPLACE, TXT, TXT, TXT, TXT),
    {"regexp_replace", k_regex, RX_REPLACE, 4, 4, {TXT, TXT, TXT, TXT}, TXT, 0},
    B("encode", k_encode, 0, SQL_BYTEA, TXT, TXT),
    B("decode", k_encode, 1, TXT, TXT, SQL_BYTEA),
    {"cardinality", k_list, L_CARDINALITY, 1, 1, {SQL_A_LIST, 0, 0, 0}, I4, 0},
    {"array_length", k_list, L_ARRAY_LENGTH, 2, 2, {SQL_A_LIST, I4, 0, 0}, I4, 0},
    {"array_position",
     k_list,
     L_ARRAY_POSITION,
     2,
     2,
     {SQL_A_LIST, SQL_A_ELEM, 0, 0},
     I4,
     SQL_F_NULLS},
    {"array_contains",
     k_list,
     L_CONTAINS,
     2,
     2,
     {SQL_A_LIST, SQL_A_ELEM, 0, 0},
     SQL_BOOL,
     SQL_F_NULLS},
    {"array_to_string", k_list, L_TO_STRING, 2, 3, {SQL_A_LIST, TXT, TXT, 0}, TXT, SQL_F_NULLS},
    {"string_to_array",
     k_string_to_array,
     0,
     2,
     3,
     {TXT, TXT, TXT, 0},
     SQL_R_TEXT_LIST,
     SQL_F_NULLS},
    {"gen_random_uuid", k_uuid, 0, 0, 0, {0, 0, 0, 0}, SQL_UUID, SQL_F_VOLATILE},
};
const size_t sql_string_n_defs = sizeof sql_string_defs / sizeof *sql_string_defs;
