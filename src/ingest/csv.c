#include "ingest/csv.h"

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

static int nomem(tarn_error *err) { return tarn_err(err, TARN_ENOMEM, "out of memory importing"); }

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
    if (f->children == NULL) return nomem(sp->err);
    f->n_children = 1;
    if ((f->children[0].name = strdup("element")) == NULL) return nomem(sp->err);
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
    if (elem == NULL) return nomem(sp->err);
    *elem = *f; /* the element takes the type; f keeps its name and becomes the list */
    char *name = f->name;
    elem->name = strdup("element");
    memset(f, 0, sizeof *f);
    f->name = name;
    f->type = ING_LIST;
    f->n_children = 1;
    f->children = elem;
    if (elem->name == NULL) return nomem(sp->err);
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
        rc = nomem(sp->err);
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
    rc = nomem(err);
  else
    memset(set.slots, 0xff, sizeof(int32_t) * cap);
  for (int i = 0; i < n && rc == 0; i++) {
    if (names[i][0] == '\0') {
      char buf[32];
      snprintf(buf, sizeof buf, "column%d", i);
      char *s = strdup(buf);
      if (s == NULL) {
        rc = nomem(err);
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
        rc = nomem(err);
        break;
      }
      size_t len = strlen(names[i]);
      char *cand = malloc(len + 24);
      if (cand == NULL) {
        rc = nomem(err);
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
static inline int buf_add(tarn_buf *b, const void *p, size_t n, tarn_error *err) {
  if (n == 0) return 0;
  if (n <= b->cap - b->len) {
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
  }
  return tarn_buf_append(b, p, n, err);
}

/* ---- column builders ---- */

static size_t type_width(ing_type t) {
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
  return buf_add(offsets, &v, 4, err);
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
      return nomem(err);
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
    rc = tarn_buf_append(&b->values, zeros, type_width(b->field->type), err);
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
  if (rc == 0) rc = buf_add(&b->values, value, width, err);
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
  if (rc == 0) rc = buf_add(&b->values, s, n, err);
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
    return nomem(err);
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
    if (in->z == NULL || in->raw == NULL) return nomem(err);
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

/* ======================================================================================
 * CSV
 * ====================================================================================== */

#define CSV_CHUNK ((size_t)1 << 20)
#define CSV_DEFAULT_SAMPLE 20480
#define CSV_DEFAULT_BATCH 8192
/* A batch ends early once its rows came from this many bytes of input, so that no column's
 * string data can pass Arrow's 2 GiB offset limit. */
#define CSV_BATCH_BYTES ((size_t)256 << 20)

enum { S_START, S_UNQUOTED, S_QUOTED, S_QUOTE, S_AFTER };

typedef struct csv_field {
  size_t off, len;
  int quoted;
} csv_field;

/* One record: fields index into bytes. Lives until the next record is read. */
typedef struct csv_rec {
  const uint8_t *bytes;
  const csv_field *fields;
  int n;
  int64_t line;
  const char *error; /* tokenizer error (static text) or NULL */
} csv_rec;

/* A record kept from the sampling pass. */
typedef struct csv_kept {
  size_t first_field;
  int n;
  int64_t line;
} csv_kept;

/* Type candidates of a column during inference, in DuckDB's order of preference. */
enum {
  C_BOOL = 1,
  C_BIGINT = 2,
  C_DOUBLE = 4,
  C_TIME = 8,
  C_DATE = 16,
  C_TS = 32,
  C_TSTZ = 64,
  C_ALL = 127
};

typedef struct csv_reader {
  ing_stream_base base; /* first: ing_stream_error finds it */
  char *name;
  /* input: a file read in chunks, or memory */
  ing_input in;
  uint8_t *chunk;
  const uint8_t *p, *e;
  int eof;
  /* tokenizer state (persists across chunks) */
  char delim;
  uint8_t special[256], special_q[256];
  int state, skip_lf, prev_cr, in_record, field_quoted, rec_ready;
  size_t field_start;
  tarn_buf bytes, fields;
  int64_t line, rec_line;
  const char *rec_error;
  /* columns */
  ing_field *cols;
  int n_cols;
  ing_field root;
  ing_builder builder;
  struct ArrowSchema schema;
  /* the sample, replayed before the rest of the file */
  tarn_buf s_bytes, s_fields, s_recs;
  size_t s_next, s_count;
  int s_fresh; /* the record in bytes/fields was read but not yet used (no-header peek) */
  int64_t batch_rows;
  int skip_bad;
  int done;
} csv_reader;

/* ---- input ---- */

static int csv_fill(csv_reader *r, tarn_error *err) {
  return ing_input_fill(&r->in, r->name, r->chunk, CSV_CHUNK, &r->p, &r->e, &r->eof, err);
}

/* ---- tokenizer ---- */

static void tok_error(csv_reader *r, const char *what) {
  if (r->rec_error == NULL) r->rec_error = what;
}

static int tok_append(csv_reader *r, const uint8_t *p, size_t n, tarn_error *err) {
  if (n == 0) return 0;
  if (r->bytes.len + n > ING_MAX_RECORD) {
    tok_error(r, "record longer than 64 MiB");
    return 0;
  }
  return buf_add(&r->bytes, p, n, err);
}

static int tok_end_field(csv_reader *r, tarn_error *err) {
  size_t n = r->fields.len / sizeof(csv_field);
  if (n >= ING_MAX_COLUMNS) {
    tok_error(r, "more than 100000 fields");
  } else {
    csv_field f = {r->field_start, r->bytes.len - r->field_start, r->field_quoted};
    int rc = buf_add(&r->fields, &f, sizeof f, err);
    if (rc) return rc;
  }
  r->field_start = r->bytes.len;
  r->field_quoted = 0;
  r->state = S_START;
  return 0;
}

static int field_all_spaces(const csv_reader *r) {
  for (size_t i = r->field_start; i < r->bytes.len; i++)
    if (r->bytes.data[i] != ' ' && r->bytes.data[i] != '\t') return 0;
  return 1;
}

/* Runs the tokenizer over the unread input. Returns 1 when a record is complete (the input
 * position is just past it), 0 when the input ran out first, <0 on allocation failure. */
static int tok_run(csv_reader *r, tarn_error *err) {
  const uint8_t *p = r->p, *e = r->e;
  const uint8_t quote = '"', delim = (uint8_t)r->delim;
  int rc = 0;
  if (r->skip_lf && p < e) {
    if (*p == '\n') p++;
    r->skip_lf = 0;
  }
  while (p < e) {
    uint8_t c;
    switch (r->state) {
    case S_START:
      if (!r->in_record) {
        r->in_record = 1;
        r->rec_line = r->line;
      }
      if (*p == quote) {
        p++;
        r->state = S_QUOTED;
        r->field_quoted = 1;
        r->prev_cr = 0;
      } else {
        r->state = S_UNQUOTED;
      }
      break;
    case S_UNQUOTED: {
      const uint8_t *q = p;
      while (q < e && !r->special[*q])
        q++;
      if ((rc = tok_append(r, p, (size_t)(q - p), err))) return rc;
      p = q;
      if (p == e) break;
      c = *p++;
      if (c == delim) {
        if ((rc = tok_end_field(r, err))) return rc;
      } else if (c == '\n' || c == '\r') {
        if ((rc = tok_end_field(r, err))) return rc;
        r->line++;
        r->skip_lf = c == '\r';
        r->p = p;
        return 1;
      } else if (field_all_spaces(r)) { /* spaces, then a quote: a quoted field */
        r->bytes.len = r->field_start;
        r->state = S_QUOTED;
        r->field_quoted = 1;
        r->prev_cr = 0;
      } else { /* a quote inside an unquoted field is an ordinary character */
        if ((rc = tok_append(r, &c, 1, err))) return rc;
      }
      break;
    }
    case S_QUOTED: {
      const uint8_t *q = p;
      while (q < e && !r->special_q[*q])
        q++;
      if (q > p) {
        if ((rc = tok_append(r, p, (size_t)(q - p), err))) return rc;
        r->prev_cr = 0;
      }
      p = q;
      if (p == e) break;
      c = *p++;
      if (c == quote) {
        r->state = S_QUOTE;
      } else { /* a line end inside quotes is data; count the line */
        if ((rc = tok_append(r, &c, 1, err))) return rc;
        if (c == '\r' || !r->prev_cr) r->line++;
        r->prev_cr = c == '\r';
      }
      break;
    }
    case S_QUOTE:
    case S_AFTER:
      c = *p;
      if (c == quote && r->state == S_QUOTE) { /* "" inside quotes: one quote */
        p++;
        if ((rc = tok_append(r, &c, 1, err))) return rc;
        r->state = S_QUOTED;
        r->prev_cr = 0;
      } else if (c == delim) {
        p++;
        if ((rc = tok_end_field(r, err))) return rc;
      } else if (c == '\n' || c == '\r') {
        p++;
        if ((rc = tok_end_field(r, err))) return rc;
        r->line++;
        r->skip_lf = c == '\r';
        r->p = p;
        return 1;
      } else if (c == ' ' || c == '\t') {
        p++;
        r->state = S_AFTER;
      } else {
        tok_error(r, "unexpected character after a closing quote");
        r->state = S_UNQUOTED;
      }
      break;
    }
  }
  r->p = p;
  return 0;
}

/* Reads the next record. Returns 1 (record in *rec), 0 at the end of the input, <0 on error. */
static int csv_next_record(csv_reader *r, csv_rec *rec, tarn_error *err) {
  if (r->s_fresh) { /* the record peeked while opening */
    r->s_fresh = 0;
  } else {
    r->bytes.len = 0;
    r->fields.len = 0;
    r->field_start = 0;
    r->rec_error = NULL;
    r->in_record = 0;
    r->field_quoted = 0;
    r->state = S_START;
    for (;;) {
      if (r->p == r->e) {
        if (r->eof) {
          if (!r->in_record) return 0;
          if (r->state == S_QUOTED) tok_error(r, "unterminated quoted field");
          int rc = tok_end_field(r, err);
          if (rc) return rc;
          r->in_record = 0;
          break;
        }
        int rc = csv_fill(r, err);
        if (rc) return rc;
        continue;
      }
      int rc = tok_run(r, err);
      if (rc < 0) return rc;
      if (rc == 1) break;
    }
  }
  static const uint8_t nothing[1];
  rec->bytes = r->bytes.data ? r->bytes.data : nothing; /* a record of empty fields */
  rec->fields = (const csv_field *)(const void *)r->fields.data;
  rec->n = (int)(r->fields.len / sizeof(csv_field));
  rec->line = r->rec_line;
  rec->error = r->rec_error;
  return 1;
}

/* A line with nothing on it: skipped, unless the file has a single column (then it is a null). */
static int rec_blank(const csv_rec *rec) {
  return rec->n == 1 && rec->fields[0].len == 0 && !rec->fields[0].quoted && rec->error == NULL;
}

/* ---- values ---- */

static unsigned csv_candidates(const char *s, size_t n, unsigned mask) {
  unsigned out = 0;
  int64_t i;
  double d;
  int32_t days;
  int shape, b;
  if ((mask & C_BOOL) && ing_parse_bool(s, n, 1, &b)) out |= C_BOOL;
  if ((mask & C_BIGINT) && ing_parse_int64(s, n, 1, &i)) out |= C_BIGINT;
  if ((mask & C_DOUBLE) && ing_parse_double(s, n, 1, &d)) out |= C_DOUBLE;
  if ((mask & C_TIME) && ing_parse_time(s, n, &i)) out |= C_TIME;
  if ((mask & C_DATE) && ing_parse_date(s, n, &days)) out |= C_DATE;
  if ((mask & (C_TS | C_TSTZ)) && ing_parse_timestamp(s, n, &i, &shape)) {
    out |= C_TSTZ;
    if (!(shape & (ING_TS_ZULU | ING_TS_OFFSET))) out |= C_TS;
  } else if ((out & C_DATE) == 0 && !(mask & C_DATE) && ing_parse_date(s, n, &days)) {
    /* A date in a column that already held timestamps is midnight. The other way round, a
     * timestamp after dates, makes the column text: DuckDB's sniffer decides by the first. */
    out |= C_TS | C_TSTZ;
  }
  return out & mask;
}

static ing_type csv_resolve(unsigned mask, int seen) {
  if (!seen) return ING_VARCHAR;
  static const struct {
    unsigned bit;
    ing_type type;
  } order[] = {{C_BOOL, ING_BOOLEAN},    {C_BIGINT, ING_BIGINT}, {C_DOUBLE, ING_DOUBLE},
               {C_TIME, ING_TIME},       {C_DATE, ING_DATE},     {C_TS, ING_TIMESTAMP},
               {C_TSTZ, ING_TIMESTAMPTZ}};
  for (size_t k = 0; k < sizeof order / sizeof order[0]; k++)
    if (mask & order[k].bit) return order[k].type;
  return ING_VARCHAR;
}

/* Appends the text s[0..n) to a column of type f. Returns 0, 1 when the text is not a value of
 * the type (nothing appended), <0 on allocation failure. */
static int csv_append(ing_builder *b, const ing_field *f, const char *s, size_t n,
                      tarn_error *err) {
  if (n == 0) return ing_builder_null(b, err);
  union {
    int64_t i;
    double d;
    float fl;
    int32_t i32;
    int16_t i16;
    int8_t i8;
    __int128 dec;
  } v;
  int ok = 0, shape, bv;
  size_t w = type_width(f->type);
  switch (f->type) {
  case ING_VARCHAR:
    if (!ing_utf8_valid((const uint8_t *)s, n)) return 1;
    return ing_builder_string(b, s, n, err);
  case ING_BOOLEAN:
    if (!ing_parse_bool(s, n, 0, &bv)) return 1;
    return ing_builder_bool(b, bv, err);
  case ING_TINYINT:
    ok = ing_parse_int64(s, n, 0, &v.i) && v.i >= INT8_MIN && v.i <= INT8_MAX;
    if (ok) v.i8 = (int8_t)v.i;
    break;
  case ING_SMALLINT:
    ok = ing_parse_int64(s, n, 0, &v.i) && v.i >= INT16_MIN && v.i <= INT16_MAX;
    if (ok) v.i16 = (int16_t)v.i;
    break;
  case ING_INTEGER:
    ok = ing_parse_int64(s, n, 0, &v.i) && v.i >= INT32_MIN && v.i <= INT32_MAX;
    if (ok) v.i32 = (int32_t)v.i;
    break;
  case ING_BIGINT: ok = ing_parse_int64(s, n, 0, &v.i); break;
  case ING_FLOAT:
    ok = ing_parse_double(s, n, 0, &v.d);
    if (ok) v.fl = (float)v.d;
    break;
  case ING_DOUBLE: ok = ing_parse_double(s, n, 0, &v.d); break;
  case ING_DECIMAL: ok = ing_parse_decimal(s, n, f->precision, f->scale, &v.dec); break;
  case ING_DATE: ok = ing_parse_date(s, n, &v.i32); break;
  case ING_TIME: ok = ing_parse_time(s, n, &v.i); break;
  case ING_TIMESTAMP:
  case ING_TIMESTAMPTZ:
    ok = ing_parse_timestamp(s, n, &v.i, &shape);
    if (!ok && ing_parse_date(s, n, &v.i32)) { /* a date alone is its midnight */
      v.i = (int64_t)v.i32 * 86400000000LL;
      ok = 1;
    }
    break;
  default: return 1;
  }
  if (!ok) return 1;
  return ing_builder_fixed(b, &v, w, err);
}

/* ---- the stream ---- */

static void csv_free(csv_reader *r) {
  if (r == NULL) return;
  ing_input_close(&r->in);
  free(r->chunk);
  free(r->name);
  tarn_buf_free(&r->bytes);
  tarn_buf_free(&r->fields);
  tarn_buf_free(&r->s_bytes);
  tarn_buf_free(&r->s_fields);
  tarn_buf_free(&r->s_recs);
  ing_builder_free(&r->builder);
  ing_fields_free(r->cols, r->n_cols);
  if (r->schema.release) r->schema.release(&r->schema);
  free(r);
}

/* The error of a bad row, or its count when bad rows are skipped. Returns 0 to go on. */
static int csv_bad_row(csv_reader *r, tarn_error *err, const char *fmt, ...) TARN_PRINTF(3, 4);
static int csv_bad_row(csv_reader *r, tarn_error *err, const char *fmt, ...) {
  if (r->skip_bad) {
    r->base.bad_rows++;
    return 0;
  }
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return tarn_err(err, TARN_EINVAL, "%s: %s", r->name, msg);
}

/* Checks a record's shape. Returns 1 when it can be converted, 0 when it was a bad row that was
 * skipped, <0 for an error. */
static int csv_check_record(csv_reader *r, const csv_rec *rec, tarn_error *err) {
  if (rec->error) {
    int rc = csv_bad_row(r, err, "line %lld: %s", (long long)rec->line, rec->error);
    return rc ? rc : 0;
  }
  if (rec->n != r->n_cols) {
    int rc = csv_bad_row(r, err, "line %lld: expected %d fields, found %d", (long long)rec->line,
                         r->n_cols, rec->n);
    return rc ? rc : 0;
  }
  return 1;
}

/* Converts one record into the builders. Returns 0 (appended or skipped) or <0. */
static int csv_convert(csv_reader *r, const csv_rec *rec, tarn_error *err) {
  if (r->n_cols > 1 && rec_blank(rec)) return 0;
  int rc = csv_check_record(r, rec, err);
  if (rc <= 0) return rc;
  ing_builder_mark(&r->builder);
  for (int c = 0; c < r->n_cols; c++) {
    const csv_field *f = &rec->fields[c];
    const char *s = (const char *)rec->bytes + f->off;
    rc = csv_append(&r->builder.children[c], &r->cols[c], s, f->len, err);
    if (rc < 0) return rc;
    if (rc == 1) {
      ing_builder_rollback(&r->builder);
      char q[64], tn[64];
      if (r->cols[c].type == ING_VARCHAR)
        return csv_bad_row(r, err, "line %lld, column %s: invalid UTF-8", (long long)rec->line,
                           r->cols[c].name);
      ing_type_name(&r->cols[c], tn, sizeof tn);
      return csv_bad_row(r, err, "line %lld, column %s: '%s' is not %s %s", (long long)rec->line,
                         r->cols[c].name, ing_quote_value(s, f->len, q, sizeof q), ing_article(tn),
                         tn);
    }
  }
  return ing_builder_nested(&r->builder, err);
}

static int csv_get_schema(struct ArrowArrayStream *s, struct ArrowSchema *out) {
  csv_reader *r = s->private_data;
  tarn_error err = {0};
  if (col_schema_copy(&r->schema, out, &err)) return ing_stream_fail(&r->base, &err);
  return 0;
}

static int csv_get_next(struct ArrowArrayStream *s, struct ArrowArray *out) {
  csv_reader *r = s->private_data;
  tarn_error err = {0};
  memset(out, 0, sizeof *out);
  if (r->base.code) return ing_errno(r->base.code); /* a failed stream stays failed */
  int rc = 0;
  size_t batch_bytes = 0;
  while (!r->done && r->builder.length < r->batch_rows && batch_bytes < CSV_BATCH_BYTES) {
    csv_rec rec = {0};
    if (r->s_next < r->s_count) { /* the sample first */
      const csv_kept *k = (const csv_kept *)(const void *)r->s_recs.data + r->s_next++;
      rec.bytes = r->s_bytes.data ? r->s_bytes.data : (const uint8_t *)"";
      rec.fields = (const csv_field *)(const void *)r->s_fields.data + k->first_field;
      rec.n = k->n;
      rec.line = k->line;
      rec.error = NULL;
    } else {
      if (r->s_count) { /* the sample is used up */
        tarn_buf_free(&r->s_bytes);
        tarn_buf_free(&r->s_fields);
        tarn_buf_free(&r->s_recs);
        r->s_next = r->s_count = 0;
      }
      rc = csv_next_record(r, &rec, &err);
      if (rc < 0) break;
      if (rc == 0) {
        r->done = 1;
        break;
      }
    }
    for (int c = 0; c < rec.n; c++)
      batch_bytes += rec.fields[c].len;
    if ((rc = csv_convert(r, &rec, &err))) break;
  }
  if (rc < 0) {
    ing_builder_rollback(&r->builder);
    return ing_stream_fail(&r->base, &err);
  }
  if (r->builder.length == 0) return 0; /* end of stream: out->release stays NULL */
  if ((rc = ing_builder_finish(&r->builder, out, &err))) return ing_stream_fail(&r->base, &err);
  return 0;
}

static const char *csv_last_error(struct ArrowArrayStream *s) {
  csv_reader *r = s->private_data;
  return r && r->base.code ? r->base.message : NULL;
}

static void csv_release(struct ArrowArrayStream *s) {
  if (s == NULL || s->release == NULL) return;
  csv_free(s->private_data);
  s->private_data = NULL;
  s->release = NULL;
}

/* Keeps a record of the sample for replay. */
static int csv_keep(csv_reader *r, const csv_rec *rec, tarn_error *err) {
  csv_kept k = {r->s_fields.len / sizeof(csv_field), rec->n, rec->line};
  size_t base = r->s_bytes.len;
  const csv_field *last = &rec->fields[rec->n - 1]; /* a record has at least one field */
  int rc = tarn_buf_append(&r->s_bytes, rec->bytes, last->off + last->len, err);
  for (int c = 0; c < rec->n && rc == 0; c++) {
    csv_field f = rec->fields[c];
    f.off += base;
    rc = tarn_buf_append(&r->s_fields, &f, sizeof f, err);
  }
  if (rc == 0) rc = tarn_buf_append(&r->s_recs, &k, sizeof k, err);
  if (rc == 0) r->s_count++;
  return rc;
}

/* Reads the sample and infers the column types. */
static int csv_infer(csv_reader *r, int64_t sample_rows, tarn_error *err) {
  unsigned *mask = calloc((size_t)r->n_cols, sizeof *mask);
  int *seen = calloc((size_t)r->n_cols, sizeof *seen);
  int rc = 0;
  if (mask == NULL || seen == NULL) rc = nomem(err);
  for (int c = 0; c < r->n_cols && rc == 0; c++)
    mask[c] = C_ALL;
  int64_t rows = 0;
  while (rc == 0 && rows < sample_rows) {
    csv_rec rec = {0};
    rc = csv_next_record(r, &rec, err);
    if (rc <= 0) break;
    rc = 0;
    if (r->n_cols > 1 && rec_blank(&rec)) continue;
    int ok = csv_check_record(r, &rec, err);
    if (ok < 0) rc = ok;
    if (ok <= 0) continue;
    /* A value that is not UTF-8 makes the row bad whatever the column's type turns out to be. */
    int bad_col = -1;
    for (int c = 0; c < r->n_cols && bad_col < 0; c++)
      if (!ing_utf8_valid(rec.bytes + rec.fields[c].off, rec.fields[c].len)) bad_col = c;
    if (bad_col >= 0) {
      rc = csv_bad_row(r, err, "line %lld, column %s: invalid UTF-8", (long long)rec.line,
                       r->cols[bad_col].name);
      continue;
    }
    for (int c = 0; c < r->n_cols; c++) {
      const csv_field *f = &rec.fields[c];
      if (f->len == 0 || mask[c] == 0) {
        seen[c] |= f->len != 0;
        continue;
      }
      seen[c] = 1;
      mask[c] = csv_candidates((const char *)rec.bytes + f->off, f->len, mask[c]);
    }
    rows++;
    rc = csv_keep(r, &rec, err);
  }
  for (int c = 0; c < r->n_cols && rc == 0; c++)
    r->cols[c].type = csv_resolve(mask[c], seen[c]);
  free(mask);
  free(seen);
  return rc;
}

static int csv_open_reader(csv_reader *r, const ing_csv_options *opts, struct ArrowArrayStream *out,
                           tarn_error *err) {
  ing_csv_options defaults = {0};
  if (opts == NULL) opts = &defaults;
  int rc;
  r->delim = opts->delimiter ? opts->delimiter : ',';
  if (r->delim == '"' || r->delim == '\n' || r->delim == '\r')
    return tarn_err(err, TARN_EINVAL, "%s: the delimiter cannot be a quote or a line end", r->name);
  if (opts->sample_rows < 0 || opts->batch_rows < 0)
    return tarn_err(err, TARN_EINVAL, "%s: sample_rows and batch_rows must not be negative",
                    r->name);
  r->batch_rows = opts->batch_rows ? opts->batch_rows : CSV_DEFAULT_BATCH;
  int64_t sample_rows = opts->sample_rows ? opts->sample_rows : CSV_DEFAULT_SAMPLE;
  r->skip_bad = opts->skip_bad_rows != 0;
  r->line = 1;
  r->special[(uint8_t)r->delim] = r->special['"'] = r->special['\n'] = r->special['\r'] = 1;
  r->special_q['"'] = r->special_q['\n'] = r->special_q['\r'] = 1;

  if (opts->schema) {
    rc = ing_schema_parse(opts->schema, &r->cols, &r->n_cols, err);
    if (rc) {
      tarn_err_prefix(err, "%s", r->name);
      return rc;
    }
    for (int c = 0; c < r->n_cols; c++)
      if (r->cols[c].type == ING_STRUCT || r->cols[c].type == ING_LIST)
        return tarn_err(err, TARN_EINVAL, "%s: column %s: CSV columns cannot be nested", r->name,
                        r->cols[c].name);
  }

  /* The header (or, without one, the first record, which fixes the column count). */
  csv_rec rec = {0};
  for (;;) {
    rc = csv_next_record(r, &rec, err);
    if (rc < 0) return rc;
    if (rc == 0 || !rec_blank(&rec)) break;
  }
  int have_first = rc == 1;
  if (have_first && rec.error)
    return tarn_err(err, TARN_EINVAL, "%s: line %lld: %s", r->name, (long long)rec.line, rec.error);
  if (!have_first && r->cols == NULL)
    return tarn_err(err, TARN_EINVAL, "%s: the file is empty (no header, no rows)", r->name);
  if (have_first && r->cols != NULL && rec.n != r->n_cols && !opts->no_header)
    return tarn_err(err, TARN_EINVAL, "%s: line %lld: the header has %d columns, the schema %d",
                    r->name, (long long)rec.line, rec.n, r->n_cols);
  if (r->cols == NULL) {
    r->n_cols = rec.n;
    r->cols = calloc((size_t)rec.n, sizeof *r->cols);
    char **names = calloc((size_t)rec.n, sizeof *names);
    if (r->cols == NULL || names == NULL) {
      free(names);
      return nomem(err);
    }
    rc = 0;
    for (int c = 0; c < rec.n && rc == 0; c++) {
      const csv_field *f = &rec.fields[c];
      const uint8_t *s = rec.bytes + f->off;
      if (opts->no_header) {
        names[c] = strdup("");
      } else if (!ing_utf8_valid(s, f->len)) {
        rc = tarn_err(err, TARN_EINVAL, "%s: line %lld: column name %d is not UTF-8", r->name,
                      (long long)rec.line, c + 1);
      } else if ((names[c] = malloc(f->len + 1)) != NULL) {
        memcpy(names[c], s, f->len);
        names[c][f->len] = '\0';
        /* A name with a NUL byte would be cut short silently: refuse it. */
        if (strlen(names[c]) != f->len)
          rc = tarn_err(err, TARN_EINVAL, "%s: line %lld: column name %d contains a NUL byte",
                        r->name, (long long)rec.line, c + 1);
      }
      if (rc == 0 && names[c] == NULL) rc = nomem(err);
    }
    if (rc == 0) rc = ing_names_dedupe(names, rec.n, err);
    for (int c = 0; c < rec.n; c++)
      r->cols[c].name = names[c];
    free(names);
    if (rc) return rc;
  }
  if (opts->no_header && have_first) r->s_fresh = 1; /* the first record is data */

  if (!opts->schema && (rc = csv_infer(r, sample_rows, err))) return rc;

  r->root.type = ING_STRUCT;
  r->root.name = (char *)"";
  r->root.n_children = r->n_cols;
  r->root.children = r->cols;
  if ((rc = ing_builder_init(&r->builder, &r->root, err))) return rc;
  if ((rc = ing_fields_to_arrow(r->cols, r->n_cols, &r->schema, err))) return rc;

  out->get_schema = csv_get_schema;
  out->get_next = csv_get_next;
  out->get_last_error = csv_last_error;
  out->release = csv_release;
  out->private_data = r;
  return 0;
}

static csv_reader *csv_new(const char *name, tarn_error *err) {
  csv_reader *r = calloc(1, sizeof *r);
  if (r == NULL || (r->name = strdup(name ? name : "csv")) == NULL) {
    free(r);
    nomem(err);
    return NULL;
  }
  r->base.magic = ING_STREAM_MAGIC;
  r->in.fd = -1;
  return r;
}

int ing_csv_open(const char *path, const ing_csv_options *opts, struct ArrowArrayStream *out,
                 tarn_error *err) {
  memset(out, 0, sizeof *out);
  csv_reader *r = csv_new(path, err);
  if (r == NULL) return TARN_ENOMEM;
  int rc = ing_input_open(&r->in, path, err);
  if (rc) {
    csv_free(r);
    return rc;
  }
  r->chunk = malloc(CSV_CHUNK);
  rc = r->chunk ? csv_open_reader(r, opts, out, err) : nomem(err);
  if (rc) {
    csv_free(r);
    memset(out, 0, sizeof *out);
  }
  return rc;
}

int ing_csv_open_memory(const uint8_t *data, size_t len, const char *name,
                        const ing_csv_options *opts, struct ArrowArrayStream *out,
                        tarn_error *err) {
  memset(out, 0, sizeof *out);
  csv_reader *r = csv_new(name, err);
  if (r == NULL) return TARN_ENOMEM;
  static const uint8_t empty[1];
  r->p = len ? data : empty;
  r->e = r->p + len;
  r->eof = 1;
  if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) r->p += 3;
  int rc = csv_open_reader(r, opts, out, err);
  if (rc) {
    csv_free(r);
    memset(out, 0, sizeof *out);
  }
  return rc;
}
