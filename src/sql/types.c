/*
 * SQL types: the shared instances, the composite builders, PostgreSQL's names and implicit-cast
 * lattice, and the mapping to and from Arrow format strings.
 *
 * Parameterless types are static singletons so that the binder can compare them by pointer in
 * the common case and never allocate for them; sql_type_equal still compares structurally
 * because composite types are rebuilt by every query. The implicit-cast rules follow PostgreSQL's
 * pg_cast "implicit" entries restricted to the types we have, with numeric given a precision
 * (ours is a fixed 128-bit decimal), so widening a decimal has to keep enough integer digits. The
 * Arrow mapping is the one place that knows how the Parquet reader and the text printer spell
 * types: everything the reader can emit maps to a SQL type (unsigned integers to the next signed
 * width, since PostgreSQL has no unsigned types), and export picks formats the printer knows.
 */
#include "sql/types.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "columnar/arrow.h"
#include "common/error.h"

static const sql_type builtin[SQL_TYPE_COUNT] = {
    [SQL_NULL] = {.id = SQL_NULL},
    [SQL_BOOL] = {.id = SQL_BOOL},
    [SQL_INT2] = {.id = SQL_INT2},
    [SQL_INT4] = {.id = SQL_INT4},
    [SQL_INT8] = {.id = SQL_INT8},
    [SQL_FLOAT4] = {.id = SQL_FLOAT4},
    [SQL_FLOAT8] = {.id = SQL_FLOAT8},
    /* Not promised by the header (decimals carry parameters), but a stray
     * sql_type_get(SQL_DECIMAL) gets a usable numeric(38,10) rather than a crash. */
    [SQL_DECIMAL] = {.id = SQL_DECIMAL, .precision = 38, .scale = 10},
    [SQL_TEXT] = {.id = SQL_TEXT},
    [SQL_BYTEA] = {.id = SQL_BYTEA},
    [SQL_UUID] = {.id = SQL_UUID},
    [SQL_DATE] = {.id = SQL_DATE},
    [SQL_TIME] = {.id = SQL_TIME},
    [SQL_TIMESTAMP] = {.id = SQL_TIMESTAMP},
    [SQL_TIMESTAMPTZ] = {.id = SQL_TIMESTAMPTZ},
    [SQL_INTERVAL] = {.id = SQL_INTERVAL},
};

const sql_type *sql_type_get(sql_type_id id) {
  if ((unsigned)id >= SQL_TYPE_COUNT || id == SQL_LIST || id == SQL_STRUCT || id == SQL_MAP)
    return NULL;
  return &builtin[id];
}

const sql_type *sql_type_decimal(tarn_arena *a, int precision, int scale) {
  if (precision < 1 || precision > 38 || scale < 0 || scale > precision) return NULL;
  sql_type *t = tarn_arena_calloc(a, 1, sizeof *t);
  if (t == NULL) return NULL;
  t->id = SQL_DECIMAL;
  t->precision = (uint8_t)precision;
  t->scale = (uint8_t)scale;
  return t;
}

const sql_type *sql_type_list(tarn_arena *a, const sql_type *elem) {
  if (elem == NULL) return NULL;
  sql_type *t = tarn_arena_calloc(a, 1, sizeof *t);
  if (t == NULL) return NULL;
  t->id = SQL_LIST;
  t->elem = elem;
  return t;
}

const sql_type *sql_type_struct(tarn_arena *a, const sql_field *fields, size_t n_fields) {
  sql_type *t = tarn_arena_calloc(a, 1, sizeof *t);
  sql_field *f = tarn_arena_calloc(a, n_fields ? n_fields : 1, sizeof *f);
  if (t == NULL || f == NULL) return NULL;
  if (n_fields) memcpy(f, fields, n_fields * sizeof *f);
  t->id = SQL_STRUCT;
  t->n_fields = n_fields;
  t->fields = f;
  return t;
}

const sql_type *sql_type_map(tarn_arena *a, const sql_type *key, const sql_type *value) {
  if (key == NULL || value == NULL) return NULL;
  sql_field kv[2] = {{"key", key}, {"value", value}};
  const sql_type *entries = sql_type_struct(a, kv, 2);
  if (entries == NULL) return NULL;
  sql_type *t = tarn_arena_calloc(a, 1, sizeof *t);
  if (t == NULL) return NULL;
  t->id = SQL_MAP;
  t->elem = entries;
  return t;
}

sql_phys sql_type_phys(sql_type_id id) {
  switch (id) {
  case SQL_NULL: return SQL_PHYS_NONE;
  case SQL_BOOL: return SQL_PHYS_U8;
  case SQL_INT2:
  case SQL_INT4:
  case SQL_INT8:
  case SQL_DATE:
  case SQL_TIME:
  case SQL_TIMESTAMP:
  case SQL_TIMESTAMPTZ: return SQL_PHYS_I64;
  case SQL_FLOAT4:
  case SQL_FLOAT8: return SQL_PHYS_F64;
  case SQL_DECIMAL: return SQL_PHYS_I128;
  case SQL_TEXT:
  case SQL_BYTEA:
  case SQL_UUID: return SQL_PHYS_STR;
  case SQL_INTERVAL: return SQL_PHYS_INTERVAL;
  case SQL_LIST:
  case SQL_MAP: return SQL_PHYS_LIST;
  case SQL_STRUCT: return SQL_PHYS_STRUCT;
  default: return SQL_PHYS_NONE;
  }
}

bool sql_type_equal(const sql_type *a, const sql_type *b) {
  if (a == b) return true;
  if (a == NULL || b == NULL || a->id != b->id) return false;
  switch (a->id) {
  case SQL_DECIMAL: return a->precision == b->precision && a->scale == b->scale;
  case SQL_LIST:
  case SQL_MAP: return sql_type_equal(a->elem, b->elem);
  case SQL_STRUCT:
    if (a->n_fields != b->n_fields) return false;
    for (size_t i = 0; i < a->n_fields; i++) {
      const char *na = a->fields[i].name ? a->fields[i].name : "";
      const char *nb = b->fields[i].name ? b->fields[i].name : "";
      if (strcmp(na, nb) != 0 || !sql_type_equal(a->fields[i].type, b->fields[i].type))
        return false;
    }
    return true;
  default: return true;
  }
}

/* Appends to buf at *len without overrunning cap; *len keeps counting so truncation is silent. */
static void name_put(char *buf, size_t cap, size_t *len, const char *s) {
  size_t l = strlen(s);
  if (*len < cap) {
    size_t room = cap - *len - 1;
    size_t k = l < room ? l : room;
    memcpy(buf + *len, s, k);
    buf[*len + k] = '\0';
  }
  *len += l;
}

static void name_rec(const sql_type *t, char *buf, size_t cap, size_t *len, int depth) {
  static const char *const names[SQL_TYPE_COUNT] = {
      [SQL_NULL] = "unknown",
      [SQL_BOOL] = "boolean",
      [SQL_INT2] = "smallint",
      [SQL_INT4] = "integer",
      [SQL_INT8] = "bigint",
      [SQL_FLOAT4] = "real",
      [SQL_FLOAT8] = "double precision",
      [SQL_TEXT] = "text",
      [SQL_BYTEA] = "bytea",
      [SQL_UUID] = "uuid",
      [SQL_DATE] = "date",
      [SQL_TIME] = "time without time zone",
      [SQL_TIMESTAMP] = "timestamp without time zone",
      [SQL_TIMESTAMPTZ] = "timestamp with time zone",
      [SQL_INTERVAL] = "interval",
  };
  char tmp[32];
  if (t == NULL || depth > 64) {
    name_put(buf, cap, len, "?");
    return;
  }
  switch (t->id) {
  case SQL_DECIMAL:
    snprintf(tmp, sizeof tmp, "numeric(%d,%d)", t->precision, t->scale);
    name_put(buf, cap, len, tmp);
    return;
  case SQL_LIST:
    name_rec(t->elem, buf, cap, len, depth + 1);
    name_put(buf, cap, len, "[]");
    return;
  case SQL_STRUCT:
    name_put(buf, cap, len, "struct(");
    for (size_t i = 0; i < t->n_fields; i++) {
      if (i) name_put(buf, cap, len, ", ");
      name_put(buf, cap, len, t->fields[i].name ? t->fields[i].name : "");
      name_put(buf, cap, len, " ");
      name_rec(t->fields[i].type, buf, cap, len, depth + 1);
    }
    name_put(buf, cap, len, ")");
    return;
  case SQL_MAP:
    name_put(buf, cap, len, "map(");
    if (t->elem && t->elem->id == SQL_STRUCT && t->elem->n_fields == 2) {
      name_rec(t->elem->fields[0].type, buf, cap, len, depth + 1);
      name_put(buf, cap, len, ", ");
      name_rec(t->elem->fields[1].type, buf, cap, len, depth + 1);
    }
    name_put(buf, cap, len, ")");
    return;
  default:
    name_put(buf, cap, len, (unsigned)t->id < SQL_TYPE_COUNT && names[t->id] ? names[t->id] : "?");
  }
}

void sql_type_name(const sql_type *t, char *buf, size_t cap) {
  if (buf == NULL || cap == 0) return;
  buf[0] = '\0';
  size_t len = 0;
  name_rec(t, buf, cap, &len, 0);
}

bool sql_type_is_integer(sql_type_id id) {
  return id == SQL_INT2 || id == SQL_INT4 || id == SQL_INT8;
}

bool sql_type_is_numeric(sql_type_id id) {
  return sql_type_is_integer(id) || id == SQL_FLOAT4 || id == SQL_FLOAT8 || id == SQL_DECIMAL;
}

bool sql_type_is_temporal(sql_type_id id) {
  return id == SQL_DATE || id == SQL_TIME || id == SQL_TIMESTAMP || id == SQL_TIMESTAMPTZ ||
         id == SQL_INTERVAL;
}

/* Position in PostgreSQL's numeric widening chain. */
static int numeric_rank(sql_type_id id) {
  switch (id) {
  case SQL_INT2: return 1;
  case SQL_INT4: return 2;
  case SQL_INT8: return 3;
  case SQL_DECIMAL: return 4;
  case SQL_FLOAT4: return 5;
  case SQL_FLOAT8: return 6;
  default: return 0;
  }
}

static int temporal_rank(sql_type_id id) {
  return id == SQL_DATE ? 1 : id == SQL_TIMESTAMP ? 2 : id == SQL_TIMESTAMPTZ ? 3 : 0;
}

/* Integer digits an integer type needs as a decimal. */
static int int_digits(sql_type_id id) { return id == SQL_INT2 ? 5 : id == SQL_INT4 ? 10 : 19; }

const sql_type *sql_type_common(tarn_arena *a, const sql_type *x, const sql_type *y) {
  if (x == NULL || y == NULL) return NULL;
  if (x->id == SQL_NULL) return y;
  if (y->id == SQL_NULL) return x;
  if (sql_type_equal(x, y)) return x;
  int rx = numeric_rank(x->id), ry = numeric_rank(y->id);
  if (rx && ry) {
    if (x->id == SQL_DECIMAL || y->id == SQL_DECIMAL) {
      if (rx > 4 || ry > 4) return rx > ry ? x : y; /* a float wins */
      int ix = x->id == SQL_DECIMAL ? x->precision - x->scale : int_digits(x->id);
      int iy = y->id == SQL_DECIMAL ? y->precision - y->scale : int_digits(y->id);
      int sx = x->id == SQL_DECIMAL ? x->scale : 0, sy = y->id == SQL_DECIMAL ? y->scale : 0;
      int scale = sx > sy ? sx : sy, digits = ix > iy ? ix : iy;
      int precision = digits + scale > 38 ? 38 : digits + scale;
      if (scale > precision) scale = precision;
      if (x->id == SQL_DECIMAL && x->precision == precision && x->scale == scale) return x;
      if (y->id == SQL_DECIMAL && y->precision == precision && y->scale == scale) return y;
      return sql_type_decimal(a, precision, scale);
    }
    return rx > ry ? x : y;
  }
  int tx = temporal_rank(x->id), ty = temporal_rank(y->id);
  if (tx && ty) return tx > ty ? x : y;
  if (x->id != y->id) return NULL;
  switch (x->id) {
  case SQL_LIST: {
    const sql_type *e = sql_type_common(a, x->elem, y->elem);
    return e ? sql_type_list(a, e) : NULL;
  }
  case SQL_MAP: {
    if (!x->elem || !y->elem || x->elem->n_fields != 2 || y->elem->n_fields != 2) return NULL;
    const sql_type *k = sql_type_common(a, x->elem->fields[0].type, y->elem->fields[0].type);
    const sql_type *v = sql_type_common(a, x->elem->fields[1].type, y->elem->fields[1].type);
    return k && v ? sql_type_map(a, k, v) : NULL;
  }
  case SQL_STRUCT: {
    if (x->n_fields != y->n_fields) return NULL;
    sql_field *f = tarn_arena_calloc(a, x->n_fields ? x->n_fields : 1, sizeof *f);
    if (f == NULL) return NULL;
    for (size_t i = 0; i < x->n_fields; i++) {
      f[i].name = x->fields[i].name;
      f[i].type = sql_type_common(a, x->fields[i].type, y->fields[i].type);
      if (f[i].type == NULL) return NULL;
    }
    return sql_type_struct(a, f, x->n_fields);
  }
  default: return NULL;
  }
}

bool sql_type_implicit(const sql_type *from, const sql_type *to) {
  if (from == NULL || to == NULL) return false;
  if (from->id == SQL_NULL) return true;
  if (sql_type_equal(from, to)) return true;
  int rf = numeric_rank(from->id), rt = numeric_rank(to->id);
  if (rf && rt) {
    /* numeric -> numeric(p,s) is PostgreSQL's implicit length coercion, so any decimal
     * converts to any other; everything else only widens. */
    return rf <= rt;
  }
  int tf = temporal_rank(from->id), tt = temporal_rank(to->id);
  if (tf && tt) return tf <= tt;
  if (from->id != to->id) return false;
  switch (from->id) {
  case SQL_LIST:
  case SQL_MAP: return sql_type_implicit(from->elem, to->elem);
  case SQL_STRUCT:
    if (from->n_fields != to->n_fields) return false;
    for (size_t i = 0; i < from->n_fields; i++)
      if (!sql_type_implicit(from->fields[i].type, to->fields[i].type)) return false;
    return true;
  default: return false;
  }
}

/* ---- Arrow ---------------------------------------------------------------------------------- */

#define ARROW_MAX_DEPTH 64

static bool has_uuid_extension(const char *metadata) {
  size_t len = 0;
  const char *v = col_metadata_find(metadata, "ARROW:extension:name", &len);
  return v != NULL && len == 10 && memcmp(v, "arrow.uuid", 10) == 0;
}

/* Parses "d:P,S[,BITS]". */
static bool parse_decimal_format(const char *f, int *precision, int *scale, int *bits) {
  char *end;
  long p = strtol(f + 2, &end, 10);
  if (end == f + 2 || *end != ',') return false;
  const char *s0 = end + 1;
  long s = strtol(s0, &end, 10);
  if (end == s0) return false;
  long b = 128;
  if (*end == ',') {
    const char *b0 = end + 1;
    b = strtol(b0, &end, 10);
    if (end == b0) return false;
  }
  if (*end != '\0' || p < 1 || p > 76 || s < -76 || s > 76) return false;
  if (b != 32 && b != 64 && b != 128 && b != 256) return false;
  *precision = (int)p;
  *scale = (int)s;
  *bits = (int)b;
  return true;
}

static int from_arrow_rec(tarn_arena *a, const struct ArrowSchema *field, const sql_type **out,
                          int depth, tarn_error *err) {
  const char *name = field->name ? field->name : "";
  if (depth > ARROW_MAX_DEPTH)
    return tarn_err(err, TARN_EUNSUPPORTED, "column %s: types nested deeper than %d", name,
                    ARROW_MAX_DEPTH);
  if (field->dictionary) return from_arrow_rec(a, field->dictionary, out, depth + 1, err);
  const char *f = field->format ? field->format : "";
  sql_type_id id = SQL_TYPE_COUNT;
  if (f[0] != '\0' && f[1] == '\0') {
    switch (f[0]) {
    case 'n': id = SQL_NULL; break;
    case 'b': id = SQL_BOOL; break;
    case 'c':
    case 'C':
    case 's': id = SQL_INT2; break;
    case 'S':
    case 'i': id = SQL_INT4; break;
    case 'I':
    case 'l': id = SQL_INT8; break;
    case 'L':
      *out = sql_type_decimal(a, 20, 0);
      return *out ? 0 : tarn_err(err, TARN_ENOMEM, "out of memory");
    case 'e':
    case 'f': id = SQL_FLOAT4; break;
    case 'g': id = SQL_FLOAT8; break;
    case 'u':
    case 'U': id = SQL_TEXT; break;
    case 'z':
    case 'Z': id = SQL_BYTEA; break;
    default: break;
    }
  } else if (strcmp(f, "vu") == 0) {
    id = SQL_TEXT;
  } else if (strcmp(f, "vz") == 0) {
    id = SQL_BYTEA;
  } else if (f[0] == 'w' && f[1] == ':') {
    char *end;
    long w = strtol(f + 2, &end, 10);
    if (end != f + 2 && *end == '\0' && w >= 0 && w <= INT32_MAX)
      id = w == 16 && has_uuid_extension(field->metadata) ? SQL_UUID : SQL_BYTEA;
  } else if (f[0] == 'd' && f[1] == ':') {
    int p, s, bits;
    if (!parse_decimal_format(f, &p, &s, &bits))
      return tarn_err(err, TARN_EUNSUPPORTED, "column %s: unsupported Arrow type %s", name, f);
    if (p > 38 || s < 0 || s > p)
      return tarn_err(err, TARN_EUNSUPPORTED,
                      "column %s: decimal(%d,%d) does not fit numeric with up to 38 digits", name,
                      p, s);
    *out = sql_type_decimal(a, p, s);
    return *out ? 0 : tarn_err(err, TARN_ENOMEM, "out of memory");
  } else if (strcmp(f, "tdD") == 0 || strcmp(f, "tdm") == 0) {
    id = SQL_DATE;
  } else if (f[0] == 't' && f[1] == 't' && f[2] && strchr("smun", f[2]) && f[3] == '\0') {
    id = SQL_TIME;
  } else if (f[0] == 't' && f[1] == 's' && f[2] && strchr("smun", f[2]) && f[3] == ':') {
    id = f[4] ? SQL_TIMESTAMPTZ : SQL_TIMESTAMP;
  } else if (strcmp(f, "tin") == 0 || strcmp(f, "tiM") == 0 || strcmp(f, "tiD") == 0) {
    id = SQL_INTERVAL;
  } else if (f[0] == 't' && f[1] == 'D' && f[2] && strchr("smun", f[2]) && f[3] == '\0') {
    id = SQL_INTERVAL; /* a duration is an interval of microseconds */
  } else if (f[0] == '+') {
    bool list = strcmp(f, "+l") == 0 || strcmp(f, "+L") == 0 || strncmp(f, "+w:", 3) == 0;
    if (list || strcmp(f, "+m") == 0) {
      if (field->n_children != 1 || field->children == NULL || field->children[0] == NULL)
        return tarn_err(err, TARN_EINVAL, "column %s: malformed Arrow schema: %s needs one child",
                        name, f);
      const sql_type *elem;
      int rc = from_arrow_rec(a, field->children[0], &elem, depth + 1, err);
      if (rc) return rc;
      if (list) {
        *out = sql_type_list(a, elem);
      } else {
        if (elem->id != SQL_STRUCT || elem->n_fields != 2)
          return tarn_err(err, TARN_EINVAL,
                          "column %s: malformed Arrow schema: map entries are not a key/value "
                          "struct",
                          name);
        *out = sql_type_map(a, elem->fields[0].type, elem->fields[1].type);
      }
      return *out ? 0 : tarn_err(err, TARN_ENOMEM, "out of memory");
    }
    if (strcmp(f, "+s") == 0) {
      if (field->n_children < 0 || (field->n_children > 0 && field->children == NULL))
        return tarn_err(err, TARN_EINVAL, "column %s: malformed Arrow schema", name);
      size_t n = (size_t)field->n_children;
      sql_field *fs = tarn_arena_calloc(a, n ? n : 1, sizeof *fs);
      if (fs == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
      for (size_t i = 0; i < n; i++) {
        const struct ArrowSchema *c = field->children[i];
        if (c == NULL) return tarn_err(err, TARN_EINVAL, "column %s: malformed Arrow schema", name);
        const char *cn = c->name ? c->name : "";
        fs[i].name = tarn_arena_strndup(a, cn, strlen(cn));
        if (fs[i].name == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
        int rc = from_arrow_rec(a, c, &fs[i].type, depth + 1, err);
        if (rc) return rc;
      }
      *out = sql_type_struct(a, fs, n);
      return *out ? 0 : tarn_err(err, TARN_ENOMEM, "out of memory");
    }
  }
  if (id == SQL_TYPE_COUNT)
    return tarn_err(err, TARN_EUNSUPPORTED, "column %s: unsupported Arrow type %s", name,
                    f[0] ? f : "(empty format)");
  *out = &builtin[id];
  return 0;
}

int sql_type_from_arrow(tarn_arena *a, const struct ArrowSchema *field, const sql_type **out,
                        tarn_error *err) {
  if (field == NULL) return tarn_err(err, TARN_EINVAL, "sql_type_from_arrow: no field");
  return from_arrow_rec(a, field, out, 0, err);
}

static int to_arrow_rec(const sql_type *t, const char *name, int64_t flags,
                        struct ArrowSchema *field, int depth, tarn_error *err) {
  char fmt[32];
  const char *f = NULL;
  if (t == NULL || depth > ARROW_MAX_DEPTH)
    return tarn_err(err, TARN_EINVAL, "column %s: cannot export this type to Arrow", name);
  switch (t->id) {
  case SQL_NULL: f = "n"; break;
  case SQL_BOOL: f = "b"; break;
  case SQL_INT2: f = "s"; break;
  case SQL_INT4: f = "i"; break;
  case SQL_INT8: f = "l"; break;
  case SQL_FLOAT4: f = "f"; break;
  case SQL_FLOAT8: f = "g"; break;
  case SQL_DECIMAL:
    snprintf(fmt, sizeof fmt, "d:%d,%d", t->precision, t->scale);
    f = fmt;
    break;
  case SQL_TEXT: f = "u"; break;
  case SQL_BYTEA: f = "z"; break;
  case SQL_UUID: {
    char *meta = NULL;
    size_t meta_len = 0;
    int rc = col_metadata_single("ARROW:extension:name", "arrow.uuid", &meta, &meta_len, err);
    if (rc) return rc;
    rc = col_schema_init(field, "w:16", name, flags, 0, meta, meta_len, err);
    free(meta);
    return rc;
  }
  case SQL_DATE: f = "tdD"; break;
  case SQL_TIME: f = "ttu"; break;
  case SQL_TIMESTAMP: f = "tsu:"; break;
  case SQL_TIMESTAMPTZ: f = "tsu:UTC"; break;
  case SQL_INTERVAL: f = "tin"; break;
  case SQL_LIST: {
    int rc = col_schema_init(field, "+l", name, flags, 1, NULL, 0, err);
    if (rc) return rc;
    rc = to_arrow_rec(t->elem, "item", ARROW_FLAG_NULLABLE, field->children[0], depth + 1, err);
    if (rc) field->release(field);
    return rc;
  }
  case SQL_MAP: {
    const sql_type *e = t->elem;
    if (e == NULL || e->id != SQL_STRUCT || e->n_fields != 2)
      return tarn_err(err, TARN_EINVAL, "column %s: malformed map type", name);
    int rc = col_schema_init(field, "+m", name, flags, 1, NULL, 0, err);
    if (rc) return rc;
    struct ArrowSchema *entries = field->children[0];
    rc = col_schema_init(entries, "+s", "entries", 0, 2, NULL, 0, err);
    if (rc == 0)
      rc = to_arrow_rec(e->fields[0].type, "key", 0, entries->children[0], depth + 1, err);
    if (rc == 0)
      rc = to_arrow_rec(e->fields[1].type, "value", ARROW_FLAG_NULLABLE, entries->children[1],
                        depth + 1, err);
    if (rc) field->release(field);
    return rc;
  }
  case SQL_STRUCT: {
    int rc = col_schema_init(field, "+s", name, flags, (int64_t)t->n_fields, NULL, 0, err);
    if (rc) return rc;
    for (size_t i = 0; i < t->n_fields && rc == 0; i++)
      rc = to_arrow_rec(t->fields[i].type, t->fields[i].name ? t->fields[i].name : "",
                        ARROW_FLAG_NULLABLE, field->children[i], depth + 1, err);
    if (rc) field->release(field);
    return rc;
  }
  default: return tarn_err(err, TARN_EINVAL, "column %s: unknown SQL type %d", name, (int)t->id);
  }
  return col_schema_init(field, f, name, flags, 0, NULL, 0, err);
}

int sql_type_to_arrow(const sql_type *t, const char *name, struct ArrowSchema *field,
                      tarn_error *err) {
  return to_arrow_rec(t, name ? name : "", ARROW_FLAG_NULLABLE, field, 0, err);
}
