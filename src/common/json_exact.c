/*
 * The exact-integer JSON parser (see json_exact.h): a recursive-descent parser over a byte range
 * with an explicit depth limit.
 */
#include "common/json_exact.h"

#include <string.h>

#include "common/error.h"

typedef struct jx_parser {
  const char *p, *end;
  int line;
  tarn_arena *a;
  tarn_error *err;
} jx_parser;

static int jx_fail(jx_parser *ps, const char *what) {
  return tarn_err(ps->err, TARN_ECORRUPT, "line %d: %s", ps->line, what);
}

static int jx_oom(jx_parser *ps) {
  return tarn_err(ps->err, TARN_ENOMEM, "line %d: JSON document too large for memory", ps->line);
}

static void jx_skip_ws(jx_parser *ps) {
  while (ps->p < ps->end) {
    char c = *ps->p;
    if (c == '\n')
      ps->line++;
    else if (c != ' ' && c != '\t' && c != '\r')
      break;
    ps->p++;
  }
}

static int jx_hex4(const char *p, unsigned *out) {
  unsigned v = 0;
  for (int k = 0; k < 4; k++) {
    char c = p[k];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f')
      v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      v |= (unsigned)(c - 'A' + 10);
    else
      return -1;
  }
  *out = v;
  return 0;
}

static size_t jx_utf8(unsigned cp, char *o) {
  if (cp < 0x80) {
    o[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (char)(0xC0 | (cp >> 6));
    o[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (char)(0xE0 | (cp >> 12));
    o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (char)(0xF0 | (cp >> 18));
  o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  o[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

/* Parses a string at ps->p (the opening quote); the decoded text goes to *out / *out_len. */
static int jx_string(jx_parser *ps, const char **out, size_t *out_len) {
  const char *start = ++ps->p;
  /* First pass: find the closing quote and validate; decoded length <= raw length. */
  const char *q = start;
  while (q < ps->end && *q != '"') {
    if ((unsigned char)*q < 0x20) return jx_fail(ps, "control character in a string");
    if (*q == '\\') {
      if (q + 1 >= ps->end) break;
      q++;
    }
    q++;
  }
  if (q >= ps->end) return jx_fail(ps, "unterminated string");
  size_t raw = (size_t)(q - start);
  char *buf = tarn_arena_calloc(ps->a, raw + 1, 1);
  if (buf == NULL) return jx_oom(ps);
  size_t n = 0;
  for (const char *s = start; s < q;) {
    if (*s != '\\') {
      buf[n++] = *s++;
      continue;
    }
    s++;
    char c = *s++;
    switch (c) {
    case '"': buf[n++] = '"'; break;
    case '\\': buf[n++] = '\\'; break;
    case '/': buf[n++] = '/'; break;
    case 'b': buf[n++] = '\b'; break;
    case 'f': buf[n++] = '\f'; break;
    case 'n': buf[n++] = '\n'; break;
    case 'r': buf[n++] = '\r'; break;
    case 't': buf[n++] = '\t'; break;
    case 'u': {
      unsigned cp;
      if (q - s < 4 || jx_hex4(s, &cp) != 0) return jx_fail(ps, "bad \\u escape in a string");
      s += 4;
      if (cp == 0) return jx_fail(ps, "\\u0000 in a string");
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        unsigned lo;
        if (q - s >= 6 && s[0] == '\\' && s[1] == 'u' && jx_hex4(s + 2, &lo) == 0 && lo >= 0xDC00 &&
            lo <= 0xDFFF) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          s += 6;
        } else {
          cp = 0xFFFD;
        }
      } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        cp = 0xFFFD;
      }
      /* A \uXXXX escape is 6 raw bytes and at most 3 decoded; a pair is 12 and 4. */
      n += jx_utf8(cp, buf + n);
      break;
    }
    default: return jx_fail(ps, "bad escape in a string");
    }
  }
  buf[n] = '\0';
  ps->p = q + 1;
  *out = buf;
  *out_len = n;
  return 0;
}

static int jx_number(jx_parser *ps, jx_value *v) {
  const char *s = ps->p;
  bool neg = false, integral = true, overflow = false;
  uint64_t mag = 0;
  if (s < ps->end && *s == '-') {
    neg = true;
    s++;
  }
  if (s >= ps->end || *s < '0' || *s > '9') return jx_fail(ps, "bad number");
  if (*s == '0') {
    s++;
    if (s < ps->end && *s >= '0' && *s <= '9') return jx_fail(ps, "number with a leading zero");
  } else {
    while (s < ps->end && *s >= '0' && *s <= '9') {
      unsigned d = (unsigned)(*s - '0');
      if (mag > (UINT64_MAX - d) / 10)
        overflow = true;
      else
        mag = mag * 10 + d;
      s++;
    }
  }
  if (s < ps->end && *s == '.') {
    integral = false;
    s++;
    if (s >= ps->end || *s < '0' || *s > '9') return jx_fail(ps, "bad number fraction");
    while (s < ps->end && *s >= '0' && *s <= '9')
      s++;
  }
  if (s < ps->end && (*s == 'e' || *s == 'E')) {
    integral = false;
    s++;
    if (s < ps->end && (*s == '+' || *s == '-')) s++;
    if (s >= ps->end || *s < '0' || *s > '9') return jx_fail(ps, "bad number exponent");
    while (s < ps->end && *s >= '0' && *s <= '9')
      s++;
  }
  if (integral && !overflow && (neg ? mag <= (uint64_t)INT64_MAX + 1 : mag <= INT64_MAX)) {
    v->kind = JX_INT;
    v->i = neg ? (mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag) : (int64_t)mag;
  } else {
    v->kind = JX_NUMBER;
  }
  ps->p = s;
  return 0;
}

static int jx_literal(jx_parser *ps, const char *word, jx_kind kind, jx_value *v) {
  size_t n = strlen(word);
  if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
    return jx_fail(ps, "unexpected character");
  ps->p += n;
  v->kind = kind;
  return 0;
}

static int jx_value_at(jx_parser *ps, jx_value *v, int depth);

static int jx_container(jx_parser *ps, jx_value *v, int depth, bool object) {
  char close = object ? '}' : ']';
  if (depth >= JX_MAX_DEPTH) return jx_fail(ps, "JSON nested too deeply");
  v->kind = object ? JX_OBJECT : JX_ARRAY;
  ps->p++;
  jx_skip_ws(ps);
  if (ps->p < ps->end && *ps->p == close) {
    ps->p++;
    return 0;
  }
  jx_value **tail = &v->child;
  for (;;) {
    jx_skip_ws(ps);
    jx_value *c = tarn_arena_calloc(ps->a, 1, sizeof *c);
    if (c == NULL) return jx_oom(ps);
    if (object) {
      if (ps->p >= ps->end || *ps->p != '"') return jx_fail(ps, "expected a member name");
      size_t klen;
      int rc = jx_string(ps, &c->key, &klen);
      if (rc) return rc;
      jx_skip_ws(ps);
      if (ps->p >= ps->end || *ps->p != ':') return jx_fail(ps, "expected ':'");
      ps->p++;
      jx_skip_ws(ps);
    }
    int rc = jx_value_at(ps, c, depth + 1);
    if (rc) return rc;
    *tail = c;
    tail = &c->next;
    v->n++;
    jx_skip_ws(ps);
    if (ps->p >= ps->end) return jx_fail(ps, object ? "unterminated object" : "unterminated array");
    if (*ps->p == ',') {
      ps->p++;
      continue;
    }
    if (*ps->p == close) {
      ps->p++;
      return 0;
    }
    return jx_fail(ps, object ? "expected ',' or '}'" : "expected ',' or ']'");
  }
}

static int jx_value_at(jx_parser *ps, jx_value *v, int depth) {
  if (ps->p >= ps->end) return jx_fail(ps, "unexpected end of JSON");
  v->line = ps->line;
  v->span = ps->p;
  int rc;
  switch (*ps->p) {
  case '{': rc = jx_container(ps, v, depth, true); break;
  case '[': rc = jx_container(ps, v, depth, false); break;
  case '"':
    v->kind = JX_STRING;
    rc = jx_string(ps, &v->str, &v->str_len);
    break;
  case 'n': rc = jx_literal(ps, "null", JX_NULL, v); break;
  case 't': rc = jx_literal(ps, "true", JX_TRUE, v); break;
  case 'f': rc = jx_literal(ps, "false", JX_FALSE, v); break;
  default:
    if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
      rc = jx_number(ps, v);
    else
      rc = jx_fail(ps, "unexpected character");
  }
  if (rc == 0) v->span_len = (size_t)(ps->p - v->span);
  return rc;
}

int jx_parse(const char *text, size_t len, tarn_arena *a, jx_value **out, tarn_error *err) {
  *out = NULL;
  jx_parser ps = {text, text + len, 1, a, err};
  jx_value *root = tarn_arena_calloc(a, 1, sizeof *root);
  if (root == NULL) return jx_oom(&ps);
  jx_skip_ws(&ps);
  int rc = jx_value_at(&ps, root, 0);
  if (rc) return rc;
  jx_skip_ws(&ps);
  if (ps.p != ps.end) return jx_fail(&ps, "unexpected text after the JSON value");
  *out = root;
  return 0;
}

const jx_value *jx_get(const jx_value *obj, const char *key) {
  if (obj == NULL || obj->kind != JX_OBJECT) return NULL;
  const jx_value *found = NULL;
  for (const jx_value *c = obj->child; c; c = c->next)
    if (strcmp(c->key, key) == 0) found = c;
  return found;
}

const char *jx_kind_name(jx_kind kind) {
  switch (kind) {
  case JX_NULL: return "null";
  case JX_FALSE:
  case JX_TRUE: return "a boolean";
  case JX_INT: return "an integer";
  case JX_NUMBER: return "a number";
  case JX_STRING: return "a string";
  case JX_ARRAY: return "an array";
  case JX_OBJECT: return "an object";
  }
  return "?";
}
