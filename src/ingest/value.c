#include "ingest/value.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <zlib.h>

#include "columnar/arrow.h"
#include "common/error.h"

/* ======================================================================================
 * Shared with jsonl.c: types, schema text, scalar parsing, column builders
 * ====================================================================================== */

int ing_nomem(tarn_error *err) { return tarn_err(err, TARN_ENOMEM, "out of memory importing"); }

void ing_field_clear(ing_field *f) {
  if (f == NULL) return;
  free(f->name);
  free(f->key);
  ing_fields_free(f->children, f->n_children);
  memset(f, 0, sizeof *f);
}

void ing_fields_free(ing_field *fields, int n) {
  if (fields == NULL) return;
  for (int i = 0; i < n; i++)
    ing_field_clear(&fields[i]);
  free(fields);
}

static const char *scalar_name(ing_type t) {
  switch (t) {
  case ING_VARCHAR: return "VARCHAR";
  case ING_BOOLEAN: return "BOOLEAN";
  case ING_TINYINT: return "TINYINT";
  case ING_SMALLINT: return "SMALLINT";
  case ING_INTEGER: return "INTEGER";
  case ING_BIGINT: return "BIGINT";
  case ING_FLOAT: return "FLOAT";
  case ING_DOUBLE: return "DOUBLE";
  case ING_DECIMAL: return "DECIMAL";
  case ING_DATE: return "DATE";
  case ING_TIME: return "TIME";
  case ING_TIMESTAMP: return "TIMESTAMP";
  case ING_TIMESTAMPTZ: return "TIMESTAMP WITH TIME ZONE";
  case ING_STRUCT: return "STRUCT";
  case ING_LIST: return "LIST";
  }
  return "?";
}

static void type_name_into(const ing_field *f, char *buf, size_t cap, int depth) {
  size_t len = strlen(buf);
  if (len + 1 >= cap) return;
  if (depth > ING_MAX_DEPTH) {
    snprintf(buf + len, cap - len, "...");
    return;
  }
  switch (f->type) {
  case ING_DECIMAL: snprintf(buf + len, cap - len, "DECIMAL(%d,%d)", f->precision, f->scale); break;
  case ING_VARCHAR: snprintf(buf + len, cap - len, "%s", f->json_text ? "JSON" : "VARCHAR"); break;
  case ING_LIST:
    type_name_into(&f->children[0], buf, cap, depth + 1);
    len = strlen(buf);
    snprintf(buf + len, cap - len, "[]");
    break;
  case ING_STRUCT:
    snprintf(buf + len, cap - len, "STRUCT(");
    for (int i = 0; i < f->n_children; i++) {
      len = strlen(buf);
      snprintf(buf + len, cap - len, "%s%s ", i ? ", " : "", f->children[i].name);
      type_name_into(&f->children[i], buf, cap, depth + 1);
    }
    len = strlen(buf);
    snprintf(buf + len, cap - len, ")");
    break;
  default: snprintf(buf + len, cap - len, "%s", scalar_name(f->type)); break;
  }
}

const char *ing_type_name(const ing_field *f, char *buf, size_t cap) {
  if (cap == 0) return buf;
  buf[0] = '\0';
  type_name_into(f, buf, cap, 0);
  return buf;
}

/* ---- schema text ---- */

typedef struct schema_parser {
  const char *text;
  const char *p;
  tarn_error *err;
} schema_parser;

static void sp_space(schema_parser *sp) {
  while (*sp->p == ' ' || *sp->p == '\t' || *sp->p == '\n' || *sp->p == '\r')
    sp->p++;
}

static int sp_fail(schema_parser *sp, const char *what) {
  return tarn_err(sp->err, TARN_EINVAL, "schema: %s at offset %d of '%.200s'", what,
                  (int)(sp->p - sp->text), sp->text);
}

static int is_ident_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '$' || (unsigned char)c >= 0x80;
}

/* A name: a run of identifier characters, or a double-quoted string with "" for a quote. */
static int sp_name(schema_parser *sp, char **out) {
  sp_space(sp);
  tarn_buf b = {0};
  int rc = 0;
  if (*sp->p == '"') {
    sp->p++;
    for (;;) {
      if (*sp->p == '\0') {
        tarn_buf_free(&b);
        return sp_fail(sp, "unterminated quoted name");
      }
      if (*sp->p == '"') {
        if (sp->p[1] != '"') break;
        sp->p++;
      }
      if ((rc = tarn_buf_append(&b, sp->p, 1, sp->err))) break;
      sp->p++;
    }
    if (rc == 0) sp->p++;
  } else {
    const char *start = sp->p;
    while (is_ident_char(*sp->p) || *sp->p == '.' || *sp->p == '-')
      sp->p++;
    if (sp->p == start) return sp_fail(sp, "expected a column name");
    rc = tarn_buf_append(&b, start, (size_t)(sp->p - start), sp->err);
  }
  if (rc == 0) rc = tarn_buf_append(&b, "", 1, sp->err);
  if (rc) {
    tarn_buf_free(&b);
    return rc;
  }
  *out = (char *)tarn_buf_steal(&b);
  return 0;
}

/* Reads one word of a type name into buf (upper-cased); 0 if there is none. */
static size_t sp_word(schema_parser *sp, char *buf, size_t cap) {
  sp_space(sp);
  size_t n = 0;
  while (is_ident_char(*sp->p)) {
    if (n + 1 < cap) buf[n++] = (char)((*sp->p >= 'a' && *sp->p <= 'z') ? *sp->p - 32 : *sp->p);
    sp->p++;
  }
  buf[n < cap ? n : cap - 1] = '\0';
  return n;
}

static int sp_peek_word(schema_parser *sp, const char *word) {
  const char *save = sp->p;
  char w[32];
  sp_word(sp, w, sizeof w);
  if (strcmp(w, word) == 0) return 1;
  sp->p = save;
  return 0;
}

static int sp_int(schema_parser *sp, int *out) {
  sp_space(sp);
  int v = 0, digits = 0;
  while (*sp->p >= '0' && *sp->p <= '9' && digits < 6) {
    v = v * 10 + (*sp->p++ - '0');
    digits++;
  }
  if (digits == 0) return sp_fail(sp, "expected a number");
  *out = v;
  return 0;
}

static int sp_fields(schema_parser *sp, char close, ing_field **fields, int *n, int depth);

static int sp_type(schema_parser *sp, ing_field *f, int depth) {
  if (depth > ING_MAX_DEPTH) return sp_fail(sp, "types nested too deeply");
  char w[32];
  sp_space(sp);
  const char *word_at = sp->p;
  if (sp_word(sp, w, sizeof w) == 0) return sp_fail(sp, "expected a type");
  static const struct {
    const char *name;
    ing_type type;
  } names[] = {{"VARCHAR", ING_VARCHAR},    {"TEXT", ING_VARCHAR},
               {"STRING", ING_VARCHAR},     {"CHAR", ING_VARCHAR},
               {"BPCHAR", ING_VARCHAR},     {"BOOLEAN", ING_BOOLEAN},
               {"BOOL", ING_BOOLEAN},       {"LOGICAL", ING_BOOLEAN},
               {"TINYINT", ING_TINYINT},    {"INT1", ING_TINYINT},
               {"SMALLINT", ING_SMALLINT},  {"INT2", ING_SMALLINT},
               {"SHORT", ING_SMALLINT},     {"INTEGER", ING_INTEGER},
               {"INT", ING_INTEGER},        {"INT4", ING_INTEGER},
               {"SIGNED", ING_INTEGER},     {"BIGINT", ING_BIGINT},
               {"INT8", ING_BIGINT},        {"LONG", ING_BIGINT},
               {"FLOAT", ING_FLOAT},        {"FLOAT4", ING_FLOAT},
               {"REAL", ING_FLOAT},         {"DOUBLE", ING_DOUBLE},
               {"FLOAT8", ING_DOUBLE},      {"DECIMAL", ING_DECIMAL},
               {"NUMERIC", ING_DECIMAL},    {"DATE", ING_DATE},
               {"TIME", ING_TIME},          {"TIMESTAMP", ING_TIMESTAMP},
               {"DATETIME", ING_TIMESTAMP}, {"TIMESTAMPTZ", ING_TIMESTAMPTZ},
               {"STRUCT", ING_STRUCT},      {"ROW", ING_STRUCT},
               {"LIST", ING_LIST},          {"JSON", ING_VARCHAR}};
  int found = -1;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcmp(w, names[i].name) == 0) found = (int)i;
  if (found < 0) {
    sp->p = word_at;
    return sp_fail(sp, "unknown type");
  }
  f->type = names[found].type;
  f->json_text = strcmp(w, "JSON") == 0;
  if (f->type == ING_DOUBLE) (void)sp_peek_word(sp, "PRECISION");
  if (f->type == ING_TIMESTAMP && strcmp(w, "TIMESTAMP") == 0) {
    const char *save = sp->p;
    if (sp_peek_word(sp, "WITH")) {
      if (!sp_peek_word(sp, "TIME") || !sp_peek_word(sp, "ZONE"))
        return sp_fail(sp, "expected TIMESTAMP WITH TIME ZONE");
      f->type = ING_TIMESTAMPTZ;
    } else {
      sp->p = save;
    }
  }
  sp_space(sp);
  if (f->type == ING_STRUCT) {
    if (*sp->p != '(') return sp_fail(sp, "expected '(' after STRUCT");
    sp->p++;
    int rc = sp_fields(sp, ')', &f->children, &f->n_children, depth + 1);
    if (rc) return rc;
  } else if (f->type == ING_LIST) {
    if (*sp->p != '(') return sp_fail(sp, "expected '(' after LIST");
    sp->p++;
    f->children = calloc(1, sizeof *f->children);
    if (f->children == NULL) return ing_nomem(sp->err);
    f->n_children = 1;
    if ((f->children[0].name = strdup("element")) == NULL) return ing_nomem(sp->err);
    int rc = sp_type(sp, &f->children[0], depth + 1);
    if (rc) return rc;
    sp_space(sp);
    if (*sp->p != ')') return sp_fail(sp, "expected ')'");
    sp->p++;
  } else if (*sp->p == '(') {
    /* DECIMAL(p[,s]); a length after VARCHAR(n) is accepted and ignored. */
    sp->p++;
    int a = 0, b = 0, rc;
    if ((rc = sp_int(sp, &a))) return rc;
    sp_space(sp);
    if (*sp->p == ',') {
      sp->p++;
      if ((rc = sp_int(sp, &b))) return rc;
      sp_space(sp);
    }
    if (*sp->p != ')') return sp_fail(sp, "expected ')'");
    sp->p++;
    if (f->type == ING_DECIMAL) {
      if (a < 1 || a > 38 || b > a)
        return sp_fail(sp, "DECIMAL needs 1 <= precision <= 38 and scale <= precision");
      f->precision = a;
      f->scale = b;
    } else if (f->type != ING_VARCHAR) {
      return sp_fail(sp, "unexpected '(' after the type");
    }
  } else if (f->type == ING_DECIMAL) {
    f->precision = 18; /* DuckDB's default DECIMAL */
    f->scale = 3;
  }
  /* TYPE[] (any number of times) is a list of TYPE. */
  for (;;) {
    sp_space(sp);
    if (sp->p[0] != '[') break;
    if (sp->p[1] != ']') return sp_fail(sp, "expected '[]'");
    sp->p += 2;
    if (++depth > ING_MAX_DEPTH) return sp_fail(sp, "types nested too deeply");
    ing_field *elem = calloc(1, sizeof *elem);
    if (elem == NULL) return ing_nomem(sp->err);
    *elem = *f; /* the element takes the type; f keeps its name and becomes the list */
    char *name = f->name;
    elem->name = strdup("element");
    memset(f, 0, sizeof *f);
    f->name = name;
    f->type = ING_LIST;
    f->n_children = 1;
    f->children = elem;
    if (elem->name == NULL) return ing_nomem(sp->err);
  }
  return 0;
}

static int sp_fields(schema_parser *sp, char close, ing_field **fields, int *n, int depth) {
  ing_field *v = NULL;
  int count = 0, cap = 0, rc = 0;
  for (;;) {
    if (count == cap) {
      if (cap >= ING_MAX_COLUMNS) {
        rc = sp_fail(sp, "too many columns");
        break;
      }
      cap = cap ? cap * 2 : 8;
      ing_field *grown = realloc(v, sizeof *v * (size_t)cap);
      if (grown == NULL) {
        rc = ing_nomem(sp->err);
        break;
      }
      v = grown;
    }
    memset(&v[count], 0, sizeof v[count]);
    count++;
    if ((rc = sp_name(sp, &v[count - 1].name))) break;
    if ((rc = sp_type(sp, &v[count - 1], depth))) break;
    sp_space(sp);
    if (*sp->p == ',') {
      sp->p++;
      continue;
    }
    if (*sp->p == close) {
      if (close) sp->p++;
      break;
    }
    rc = sp_fail(sp, close ? "expected ',' or ')'" : "expected ','");
    break;
  }
  if (rc) {
    ing_fields_free(v, count);
    return rc;
  }
  /* Names must be unique within a struct (the file's columns are matched by name). */
  for (int i = 0; i < count; i++)
    for (int j = 0; j < i; j++)
      if (strcasecmp(v[i].name, v[j].name) == 0) {
        rc = tarn_err(sp->err, TARN_EINVAL, "schema: column '%.100s' is named twice", v[i].name);
        ing_fields_free(v, count);
        return rc;
      }
  *fields = v;
  *n = count;
  return 0;
}

int ing_schema_parse(const char *text, ing_field **fields, int *n, tarn_error *err) {
  schema_parser sp = {text, text, err};
  *fields = NULL;
  *n = 0;
  sp_space(&sp);
  if (*sp.p == '\0') return sp_fail(&sp, "no columns");
  return sp_fields(&sp, '\0', fields, n, 0);
}

/* ---- Arrow schemas ---- */

int ing_field_to_arrow(const ing_field *f, struct ArrowSchema *out, tarn_error *err) {
  char fmt[32];
  const char *format = fmt;
  switch (f->type) {
  case ING_VARCHAR: format = "u"; break;
  case ING_BOOLEAN: format = "b"; break;
  case ING_TINYINT: format = "c"; break;
  case ING_SMALLINT: format = "s"; break;
  case ING_INTEGER: format = "i"; break;
  case ING_BIGINT: format = "l"; break;
  case ING_FLOAT: format = "f"; break;
  case ING_DOUBLE: format = "g"; break;
  case ING_DECIMAL: snprintf(fmt, sizeof fmt, "d:%d,%d", f->precision, f->scale); break;
  case ING_DATE: format = "tdD"; break;
  case ING_TIME: format = "ttu"; break;
  case ING_TIMESTAMP: format = "tsu:"; break;
  case ING_TIMESTAMPTZ: format = "tsu:UTC"; break;
  case ING_STRUCT: format = "+s"; break;
  case ING_LIST: format = "+l"; break;
  }
  char *meta = NULL;
  size_t meta_len = 0;
  int rc;
  if (f->json_text &&
      (rc = col_metadata_single("ARROW:extension:name", "arrow.json", &meta, &meta_len, err)))
    return rc;
  rc = col_schema_init(out, format, f->name, ARROW_FLAG_NULLABLE, f->n_children, meta, meta_len,
                       err);
  free(meta);
  if (rc) return rc;
  for (int i = 0; i < f->n_children; i++)
    if ((rc = ing_field_to_arrow(&f->children[i], out->children[i], err))) {
      out->release(out);
      return rc;
    }
  return 0;
}

int ing_fields_to_arrow(const ing_field *fields, int n, struct ArrowSchema *out, tarn_error *err) {
  int rc = col_schema_init(out, "+s", "", 0, n, NULL, 0, err);
  if (rc) return rc;
  for (int i = 0; i < n; i++)
    if ((rc = ing_field_to_arrow(&fields[i], out->children[i], err))) {
      out->release(out);
      return rc;
    }
  return 0;
}

static uint32_t fold_hash(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    h = (h ^ (c >= 'A' && c <= 'Z' ? c + 32 : c)) * 16777619u;
  }
  return h;
}

/* A set of names compared ignoring case: open addressing over indexes into names. */
typedef struct name_set {
  int32_t *slots;
  uint32_t mask;
} name_set;

static int name_set_has(const name_set *set, char *const *names, const char *name) {
  for (uint32_t h = fold_hash(name) & set->mask; set->slots[h] >= 0; h = (h + 1) & set->mask)
    if (strcasecmp(names[set->slots[h]], name) == 0) return 1;
  return 0;
}

static void name_set_add(name_set *set, char *const *names, int i) {
  uint32_t h = fold_hash(names[i]) & set->mask;
  while (set->slots[h] >= 0)
    h = (h + 1) & set->mask;
  set->slots[h] = i;
}

/* The last suffix used for a repeated name (so n copies of one name cost O(n), not O(n^2)). */
typedef struct suffix_count {
  char *base;
  long k;
} suffix_count;

int ing_names_dedupe(char **names, int n, tarn_error *err) {
  uint32_t cap = 16;
  while (cap < (uint32_t)n * 2)
    cap *= 2;
  name_set set = {malloc(sizeof(int32_t) * cap), cap - 1};
  suffix_count *counts = calloc(cap, sizeof *counts);
  int rc = 0;
  if (set.slots == NULL || counts == NULL)
    rc = ing_nomem(err);
  else
    memset(set.slots, 0xff, sizeof(int32_t) * cap);
  for (int i = 0; i < n && rc == 0; i++) {
    if (names[i][0] == '\0') {
      char buf[32];
      snprintf(buf, sizeof buf, "column%d", i);
      char *s = strdup(buf);
      if (s == NULL) {
        rc = ing_nomem(err);
        break;
      }
      free(names[i]);
      names[i] = s;
    }
    if (name_set_has(&set, names, names[i])) {
      uint32_t h = fold_hash(names[i]) & (cap - 1);
      while (counts[h].base && strcasecmp(counts[h].base, names[i]) != 0)
        h = (h + 1) & (cap - 1);
      if (counts[h].base == NULL && (counts[h].base = strdup(names[i])) == NULL) {
        rc = ing_nomem(err);
        break;
      }
      size_t len = strlen(names[i]);
      char *cand = malloc(len + 24);
      if (cand == NULL) {
        rc = ing_nomem(err);
        break;
      }
      do
        snprintf(cand, len + 24, "%s_%ld", names[i], ++counts[h].k);
      while (name_set_has(&set, names, cand));
      free(names[i]);
      names[i] = cand;
    }
    name_set_add(&set, names, i);
  }
  if (counts)
    for (uint32_t h = 0; h < cap; h++)
      free(counts[h].base);
  free(counts);
  free(set.slots);
  return rc;
}

/* ---- scalars ---- */

static int is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static void trim(const char **s, size_t *n) {
  while (*n && is_space(**s))
    (*s)++, (*n)--;
  while (*n && is_space((*s)[*n - 1]))
    (*n)--;
}

static int digit(char c) { return c >= '0' && c <= '9'; }

static int ieq(const char *s, size_t n, const char *word) {
  return strlen(word) == n && strncasecmp(s, word, n) == 0;
}

int ing_parse_bool(const char *s, size_t n, int strict, int *out) {
  if (ieq(s, n, "true") || ieq(s, n, "t") || ieq(s, n, "yes") || (!strict && ieq(s, n, "1")))
    return *out = 1, 1;
  if (ieq(s, n, "false") || ieq(s, n, "f") || ieq(s, n, "no") || (!strict && ieq(s, n, "0")))
    return *out = 0, 1;
  return 0;
}

int ing_parse_int64(const char *s, size_t n, int strict, int64_t *out) {
  trim(&s, &n);
  size_t i = 0;
  int neg = 0;
  if (n && s[0] == '-')
    neg = 1, i = 1;
  else if (n && s[0] == '+' && !strict)
    i = 1;
  if (i == n) return 0;
  /* DuckDB's sniffer leaves numbers with leading zeros as text (zip codes, ids). */
  if (strict && !neg && s[i] == '0' && n - i > 1) return 0;
  uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, v = 0;
  for (; i < n; i++) {
    if (!digit(s[i])) return 0;
    unsigned d = (unsigned)(s[i] - '0');
    if (v > (limit - d) / 10) return 0;
    v = v * 10 + d;
  }
  *out = neg ? (int64_t)(0 - v) : (int64_t)v;
  return 1;
}

int ing_parse_double(const char *s, size_t n, int strict, double *out) {
  trim(&s, &n);
  size_t i = 0;
  int neg = 0;
  if (n && s[0] == '-')
    neg = 1, i = 1;
  else if (n && s[0] == '+' && !strict)
    i = 1;
  if (ieq(s + i, n - i, "nan")) return *out = NAN, 1;
  if (ieq(s + i, n - i, "inf") || ieq(s + i, n - i, "infinity"))
    return *out = neg ? -INFINITY : INFINITY, 1;
  size_t int_start = i, int_digits = 0, frac_digits = 0;
  while (i < n && digit(s[i]))
    i++, int_digits++;
  if (i < n && s[i] == '.') {
    i++;
    while (i < n && digit(s[i]))
      i++, frac_digits++;
  }
  if (int_digits + frac_digits == 0) return 0;
  if (strict && !neg && int_digits > 1 && s[int_start] == '0') return 0;
  int has_exp = i < n && (s[i] == 'e' || s[i] == 'E');
  if (has_exp) {
    i++;
    if (i < n && (s[i] == '+' || s[i] == '-')) i++;
    size_t exp_digits = 0;
    while (i < n && digit(s[i]))
      i++, exp_digits++;
    if (exp_digits == 0) return 0;
  }
  if (i != n) return 0;
  /* Up to 15 digits and no exponent: the digits are an exactly representable integer and
   * dividing by an exact power of ten rounds once, correctly (Clinger's fast path). */
  if (int_digits + frac_digits <= 15 && !has_exp) {
    static const double pow10[16] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    int64_t m = 0;
    for (size_t k = int_start; k < n; k++)
      if (s[k] != '.') m = m * 10 + (s[k] - '0');
    double v = (double)m / pow10[frac_digits];
    *out = neg ? -v : v;
    return 1;
  }
  /* Otherwise strtod (correctly rounded in glibc) does the conversion. */
  char small[64];
  char *buf = n < sizeof small ? small : malloc(n + 1);
  if (buf == NULL) return 0;
  memcpy(buf, s, n);
  buf[n] = '\0';
  *out = strtod(buf, NULL);
  if (buf != small) free(buf);
  return 1;
}

int ing_parse_decimal(const char *s, size_t n, int precision, int scale, __int128 *out) {
  trim(&s, &n);
  size_t i = 0;
  int neg = 0;
  if (n && (s[0] == '-' || s[0] == '+')) neg = s[0] == '-', i = 1;
  __int128 v = 0;
  int int_digits = 0, frac_digits = 0, any = 0, round_up = 0;
  while (i < n && s[i] == '0')
    i++, any = 1;
  for (; i < n && digit(s[i]); i++) {
    if (++int_digits > precision - scale) return 0;
    v = v * 10 + (s[i] - '0');
    any = 1;
  }
  if (i < n && s[i] == '.') {
    i++;
    for (; i < n && digit(s[i]); i++) {
      any = 1;
      if (frac_digits < scale) {
        v = v * 10 + (s[i] - '0');
        frac_digits++;
      } else if (frac_digits == scale) {
        round_up = s[i] >= '5';
        frac_digits++;
      }
    }
  }
  if (!any || i != n) return 0;
  for (int k = frac_digits; k < scale; k++)
    v *= 10;
  if (round_up) {
    v += 1;
    __int128 max = 1;
    for (int k = 0; k < precision; k++)
      max *= 10;
    if (v >= max) return 0;
  }
  *out = neg ? -v : v;
  return 1;
}

static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static int days_in_month(int64_t y, int m) {
  static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
  return dm[m - 1];
}

/* Reads 1..max digits at s[*i]; returns the count (0 = none). */
static int read_digits(const char *s, size_t n, size_t *i, int max, int *value) {
  int k = 0, v = 0;
  while (*i < n && k < max && digit(s[*i])) {
    v = v * 10 + (s[(*i)++] - '0');
    k++;
  }
  *value = v;
  return k;
}

/* YYYY-M[M]-D[D] at s[*i]; advances *i. */
static int date_part(const char *s, size_t n, size_t *i, int32_t *days) {
  int y, m, d;
  if (read_digits(s, n, i, 4, &y) != 4 || *i >= n || s[*i] != '-') return 0;
  (*i)++;
  if (read_digits(s, n, i, 2, &m) == 0 || *i >= n || s[*i] != '-') return 0;
  (*i)++;
  if (read_digits(s, n, i, 2, &d) == 0) return 0;
  if (*i < n && digit(s[*i])) return 0;
  if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) return 0;
  *days = (int32_t)days_from_civil(y, m, d);
  return 1;
}

/* H[H]:M[M][:S[S][.fraction]] at s[*i]; hour 24 is allowed (with zero minutes and seconds) only
 * when allow24. Adds ING_TS_SECONDS / ING_TS_FRACTION to *shape. */
static int time_part(const char *s, size_t n, size_t *i, int allow24, int64_t *micros, int *shape) {
  int h, m, sec = 0;
  int64_t frac = 0;
  if (read_digits(s, n, i, 2, &h) == 0 || *i >= n || s[*i] != ':') return 0;
  (*i)++;
  if (read_digits(s, n, i, 2, &m) == 0) return 0;
  if (*i < n && s[*i] == ':') {
    (*i)++;
    if (read_digits(s, n, i, 2, &sec) == 0) return 0;
    *shape |= ING_TS_SECONDS;
    if (*i < n && s[*i] == '.') {
      (*i)++;
      *shape |= ING_TS_FRACTION;
      int k = 0;
      while (*i < n && digit(s[*i])) {
        if (k < 6) frac = frac * 10 + (s[*i] - '0');
        k++;
        (*i)++;
      }
      for (; k < 6; k++)
        frac *= 10;
    }
  }
  if (*i < n && digit(s[*i])) return 0;
  if (m > 59 || sec > 59) return 0;
  if (h > 23 && !(allow24 && h == 24 && m == 0 && sec == 0 && frac == 0)) return 0;
  *micros = ((int64_t)h * 3600 + m * 60 + sec) * 1000000 + frac;
  return 1;
}

int ing_parse_date(const char *s, size_t n, int32_t *days) {
  trim(&s, &n);
  size_t i = 0;
  return date_part(s, n, &i, days) && i == n;
}

int ing_parse_time(const char *s, size_t n, int64_t *micros) {
  trim(&s, &n);
  size_t i = 0;
  int shape = 0;
  return time_part(s, n, &i, 0, micros, &shape) && i == n;
}

int ing_parse_timestamp(const char *s, size_t n, int64_t *micros, int *shape) {
  trim(&s, &n);
  size_t i = 0;
  int32_t days;
  int64_t t;
  *shape = 0;
  if (!date_part(s, n, &i, &days) || i >= n) return 0;
  if (s[i] == 'T') {
    *shape |= ING_TS_T;
    i++;
  } else if (s[i] == ' ') {
    while (i < n && s[i] == ' ')
      i++;
  } else {
    return 0;
  }
  if (!time_part(s, n, &i, 1, &t, shape)) return 0;
  int64_t offset = 0;
  if (i < n && s[i] == 'Z') {
    *shape |= ING_TS_ZULU;
    i++;
  } else if (i < n && (s[i] == '+' || s[i] == '-')) {
    int sign = s[i] == '-' ? -1 : 1, oh, om = 0;
    i++;
    if (read_digits(s, n, &i, 2, &oh) != 2) return 0;
    if (i < n && s[i] == ':') i++;
    if (i < n && read_digits(s, n, &i, 2, &om) != 2) return 0;
    if (oh > 23 || om > 59) return 0;
    offset = sign * ((int64_t)oh * 3600 + om * 60) * 1000000;
    *shape |= ING_TS_OFFSET;
  }
  if (i != n) return 0;
  *micros = (int64_t)days * 86400000000LL + t - offset;
  return 1;
}

int ing_utf8_valid(const uint8_t *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    /* ASCII runs, eight bytes at a time. */
    while (i + 8 <= n) {
      uint64_t w;
      memcpy(&w, s + i, 8);
      if (w & 0x8080808080808080ULL) break;
      i += 8;
    }
    if (i >= n) break;
    unsigned c = s[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t len;
    unsigned min, cp;
    if (c >= 0xc2 && c <= 0xdf)
      len = 2, min = 0x80, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
      len = 3, min = 0x800, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
      len = 4, min = 0x10000, cp = c & 0x07;
    else
      return 0;
    if (len > n - i) return 0;
    for (size_t k = 1; k < len; k++) {
      if ((s[i + k] & 0xc0) != 0x80) return 0;
      cp = (cp << 6) | (s[i + k] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    i += len;
  }
  return 1;
}

const char *ing_quote_value(const char *s, size_t n, char *buf, size_t cap) {
  size_t o = 0, limit = 40;
  for (size_t i = 0; i < n && i < limit && o + 4 < cap; i++) {
    unsigned char c = (unsigned char)s[i];
    buf[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
  }
  if (n > limit && o + 4 < cap) {
    memcpy(buf + o, "...", 3);
    o += 3;
  }
  buf[o] = '\0';
  return buf;
}

const char *ing_article(const char *word) { return strchr("AEIOUaeiou", word[0]) ? "an" : "a"; }

/* tarn_buf_append with the common case (room left) inline. */

/* ---- column builders ---- */

size_t ing_type_width(ing_type t) {
  switch (t) {
  case ING_TINYINT: return 1;
  case ING_SMALLINT: return 2;
  case ING_INTEGER:
  case ING_FLOAT:
  case ING_DATE: return 4;
  case ING_BIGINT:
  case ING_DOUBLE:
  case ING_TIME:
  case ING_TIMESTAMP:
  case ING_TIMESTAMPTZ: return 8;
  case ING_DECIMAL: return 16;
  default: return 0;
  }
}

static int push_bit(tarn_buf *bits, int64_t index, int value, tarn_error *err) {
  size_t need = (size_t)(index >> 3) + 1;
  if (bits->len < need) {
    int rc = tarn_buf_reserve(bits, need - bits->len, err);
    if (rc) return rc;
    memset(bits->data + bits->len, 0, need - bits->len);
    bits->len = need;
  }
  uint8_t mask = (uint8_t)(1u << (index & 7));
  if (value)
    bits->data[index >> 3] |= mask;
  else
    bits->data[index >> 3] &= (uint8_t)~mask;
  return 0;
}

static int push_offset(tarn_buf *offsets, size_t value, tarn_error *err) {
  if (value > INT32_MAX)
    return tarn_err(err, TARN_ENOMEM, "a batch column holds more than 2 GiB of values");
  int32_t v = (int32_t)value;
  return ing_buf_add(offsets, &v, 4, err);
}

int ing_builder_init(ing_builder *b, const ing_field *f, tarn_error *err) {
  memset(b, 0, sizeof *b);
  b->field = f;
  if (f->type == ING_VARCHAR || f->type == ING_LIST) {
    int rc = push_offset(&b->offsets, 0, err);
    if (rc) return rc;
  }
  if (f->n_children > 0) {
    b->children = calloc((size_t)f->n_children, sizeof *b->children);
    if (b->children == NULL) {
      tarn_buf_free(&b->offsets);
      return ing_nomem(err);
    }
    b->n_children = f->n_children;
    for (int i = 0; i < f->n_children; i++) {
      int rc = ing_builder_init(&b->children[i], &f->children[i], err);
      if (rc) {
        ing_builder_free(b);
        return rc;
      }
    }
  }
  return 0;
}

void ing_builder_free(ing_builder *b) {
  if (b == NULL) return;
  tarn_buf_free(&b->validity);
  tarn_buf_free(&b->values);
  tarn_buf_free(&b->offsets);
  for (int i = 0; i < b->n_children; i++)
    ing_builder_free(&b->children[i]);
  free(b->children);
  memset(b, 0, sizeof *b);
}

int ing_builder_null(ing_builder *b, tarn_error *err) {
  int rc = push_bit(&b->validity, b->length, 0, err);
  if (rc) return rc;
  switch (b->field->type) {
  case ING_VARCHAR: rc = push_offset(&b->offsets, b->values.len, err); break;
  case ING_BOOLEAN: rc = push_bit(&b->values, b->length, 0, err); break;
  case ING_LIST: rc = push_offset(&b->offsets, (size_t)b->children[0].length, err); break;
  case ING_STRUCT:
    for (int i = 0; i < b->n_children && rc == 0; i++)
      rc = ing_builder_null(&b->children[i], err);
    break;
  default: {
    static const uint8_t zeros[16];
    rc = tarn_buf_append(&b->values, zeros, ing_type_width(b->field->type), err);
    break;
  }
  }
  if (rc) return rc;
  b->length++;
  b->null_count++;
  return 0;
}

int ing_builder_nested(ing_builder *b, tarn_error *err) {
  int rc = push_bit(&b->validity, b->length, 1, err);
  if (rc == 0 && b->field->type == ING_LIST)
    rc = push_offset(&b->offsets, (size_t)b->children[0].length, err);
  if (rc) return rc;
  b->length++;
  return 0;
}

int ing_builder_fixed(ing_builder *b, const void *value, size_t width, tarn_error *err) {
  int rc = push_bit(&b->validity, b->length, 1, err);
  if (rc == 0) rc = ing_buf_add(&b->values, value, width, err);
  if (rc) return rc;
  b->length++;
  return 0;
}

int ing_builder_bool(ing_builder *b, int value, tarn_error *err) {
  int rc = push_bit(&b->validity, b->length, 1, err);
  if (rc == 0) rc = push_bit(&b->values, b->length, value, err);
  if (rc) return rc;
  b->length++;
  return 0;
}

int ing_builder_string(ing_builder *b, const char *s, size_t n, tarn_error *err) {
  if (n > INT32_MAX || b->values.len > INT32_MAX - n)
    return tarn_err(err, TARN_ENOMEM, "a batch column holds more than 2 GiB of strings");
  int rc = push_bit(&b->validity, b->length, 1, err);
  if (rc == 0) rc = ing_buf_add(&b->values, s, n, err);
  if (rc == 0) rc = push_offset(&b->offsets, b->values.len, err);
  if (rc) return rc;
  b->length++;
  return 0;
}

size_t ing_builder_bytes(const ing_builder *b) {
  size_t n = b->values.len + b->offsets.len + b->validity.len;
  for (int i = 0; i < b->n_children; i++)
    n += ing_builder_bytes(&b->children[i]);
  return n;
}

void ing_builder_mark(ing_builder *b) {
  b->mark_length = b->length;
  b->mark_nulls = b->null_count;
  b->mark_values = b->values.len;
  for (int i = 0; i < b->n_children; i++)
    ing_builder_mark(&b->children[i]);
}

void ing_builder_rollback(ing_builder *b) {
  b->length = b->mark_length;
  b->null_count = b->mark_nulls;
  b->values.len = b->mark_values;
  if (b->field->type == ING_VARCHAR || b->field->type == ING_LIST)
    b->offsets.len = (size_t)(b->length + 1) * 4;
  for (int i = 0; i < b->n_children; i++)
    ing_builder_rollback(&b->children[i]);
}

/* A buffer for an Arrow array: the stolen bytes, or a small zeroed block when there are none
 * (consumers may read a buffer of a zero-length array). */
static void *steal_or_empty(tarn_buf *buf) {
  void *p = tarn_buf_steal(buf);
  return p ? p : calloc(1, 16);
}

int ing_builder_finish(ing_builder *b, struct ArrowArray *out, tarn_error *err) {
  ing_type t = b->field->type;
  int64_t n_buffers = t == ING_STRUCT ? 1 : t == ING_VARCHAR ? 3 : 2;
  int rc = col_array_init(out, n_buffers, b->n_children, err);
  if (rc) return rc;
  out->length = b->length;
  out->null_count = b->null_count;
  if (b->null_count) {
    out->buffers[0] = tarn_buf_steal(&b->validity);
  } else {
    b->validity.len = 0;
  }
  void *p1 = NULL, *p2 = NULL;
  if (t == ING_VARCHAR) {
    p1 = steal_or_empty(&b->offsets);
    p2 = steal_or_empty(&b->values);
  } else if (t == ING_LIST) {
    p1 = steal_or_empty(&b->offsets);
  } else if (t != ING_STRUCT) {
    p1 = steal_or_empty(&b->values);
  }
  if (n_buffers > 1) out->buffers[1] = p1;
  if (n_buffers > 2) out->buffers[2] = p2;
  if ((n_buffers > 1 && p1 == NULL) || (n_buffers > 2 && p2 == NULL)) {
    out->release(out);
    return ing_nomem(err);
  }
  for (int i = 0; i < b->n_children; i++)
    if ((rc = ing_builder_finish(&b->children[i], out->children[i], err))) {
      out->release(out);
      return rc;
    }
  b->length = b->null_count = 0;
  b->values.len = 0;
  b->offsets.len = 0;
  if (t == ING_VARCHAR || t == ING_LIST) {
    if ((rc = push_offset(&b->offsets, 0, err))) {
      out->release(out);
      return rc;
    }
  }
  return 0;
}

/* ---- input files ---- */

#define ING_RAW_CHUNK ((size_t)256 << 10)

int ing_input_open(ing_input *in, const char *path, tarn_error *err) {
  memset(in, 0, sizeof *in);
  in->fd = open(path, O_RDONLY | O_CLOEXEC);
  if (in->fd < 0) return tarn_err(err, TARN_EIO, "%s: cannot open: %s", path, strerror(errno));
  return 0;
}

void ing_input_close(ing_input *in) {
  if (in->fd >= 0) close(in->fd);
  in->fd = -1;
  if (in->z) {
    inflateEnd(in->z);
    free(in->z);
    in->z = NULL;
  }
  free(in->raw);
  in->raw = NULL;
}

static int64_t read_some(ing_input *in, const char *name, uint8_t *buf, size_t cap,
                         tarn_error *err) {
  ssize_t got;
  do {
    got = read(in->fd, buf, cap);
  } while (got < 0 && errno == EINTR);
  if (got < 0) return tarn_err(err, TARN_EIO, "%s: cannot read: %s", name, strerror(errno));
  return got;
}

int64_t ing_input_read(ing_input *in, const char *name, uint8_t *buf, size_t cap, tarn_error *err) {
  if (in->done || cap == 0) return 0;
  if (!in->started) {
    in->started = 1;
    int64_t n = read_some(in, name, buf, cap, err);
    if (n < 2 || buf[0] != 0x1f || buf[1] != 0x8b) return n;
    /* gzip: what was read is the start of the compressed stream */
    in->gzip = 1;
    in->z = calloc(1, sizeof(z_stream));
    in->raw = malloc(ING_RAW_CHUNK > (size_t)n ? ING_RAW_CHUNK : (size_t)n);
    if (in->z == NULL || in->raw == NULL) return ing_nomem(err);
    memcpy(in->raw, buf, (size_t)n);
    z_stream *z = in->z;
    /* 15 + 32: the largest window, gzip or zlib header detected */
    if (inflateInit2(z, 15 + 32) != Z_OK) {
      free(in->z);
      in->z = NULL;
      return tarn_err(err, TARN_ENOMEM, "%s: cannot initialise zlib", name);
    }
    z->next_in = in->raw;
    z->avail_in = (uInt)n;
  }
  if (!in->gzip) return read_some(in, name, buf, cap, err);
  z_stream *z = in->z;
  z->next_out = buf;
  z->avail_out = (uInt)(cap > UINT32_MAX ? UINT32_MAX : cap);
  uInt want = z->avail_out;
  int member_done = 0;
  while (z->avail_out == want) {
    if (z->avail_in == 0 && !in->raw_eof) {
      int64_t n = read_some(in, name, in->raw, ING_RAW_CHUNK, err);
      if (n < 0) return n;
      if (n == 0) in->raw_eof = 1;
      z->next_in = in->raw;
      z->avail_in = (uInt)n;
    }
    if (z->avail_in == 0 && in->raw_eof) {
      if (member_done || z->total_in == 0) break;
      return tarn_err(err, TARN_ECORRUPT, "%s: the gzip stream is truncated", name);
    }
    int ret = inflate(z, Z_NO_FLUSH);
    if (ret == Z_STREAM_END) {
      member_done = 1;
      /* another member may follow (concatenated gzip files) */
      if (inflateReset(z) != Z_OK)
        return tarn_err(err, TARN_ECORRUPT, "%s: corrupt gzip data", name);
      z->total_in = 0;
      continue;
    }
    if (ret == Z_BUF_ERROR && z->avail_in == 0) continue;
    if (ret != Z_OK)
      return tarn_err(err, TARN_ECORRUPT, "%s: corrupt gzip data%s%s", name, z->msg ? ": " : "",
                      z->msg ? z->msg : "");
    member_done = 0;
  }
  int64_t produced = (int64_t)(want - z->avail_out);
  if (produced == 0) in->done = 1;
  return produced;
}

int ing_input_fill(ing_input *in, const char *name, uint8_t *chunk, size_t cap, const uint8_t **p,
                   const uint8_t **e, int *eof, tarn_error *err) {
  if (in->fd < 0) {
    *eof = 1;
    return 0;
  }
  int64_t got = ing_input_read(in, name, chunk, cap, err);
  if (got < 0) return (int)got;
  *p = chunk;
  *e = chunk + got;
  if (got == 0) *eof = 1;
  /* A UTF-8 byte order mark at the start of the file is not data. */
  if (in->delivered == 0 && got >= 3 && memcmp(chunk, "\xef\xbb\xbf", 3) == 0) *p += 3;
  in->delivered += got;
  return 0;
}

int ing_errno(int code) { return code == TARN_EIO ? EIO : code == TARN_ENOMEM ? ENOMEM : EINVAL; }

int ing_stream_fail(ing_stream_base *base, const tarn_error *err) {
  base->code = err && err->code ? err->code : TARN_EINVAL;
  snprintf(base->message, sizeof base->message, "%s",
           err && err->message[0] ? err->message : tarn_strerror(base->code));
  return ing_errno(base->code);
}

static ing_stream_base *stream_base(struct ArrowArrayStream *s) {
  if (s == NULL || s->private_data == NULL) return NULL;
  ing_stream_base *b = s->private_data;
  return b->magic == ING_STREAM_MAGIC ? b : NULL;
}

int64_t ing_csv_bad_rows(struct ArrowArrayStream *s) {
  ing_stream_base *b = stream_base(s);
  return b ? b->bad_rows : -1;
}

int ing_stream_error(struct ArrowArrayStream *s) {
  ing_stream_base *b = stream_base(s);
  return b ? b->code : 0;
}
