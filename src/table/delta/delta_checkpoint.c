/*
 * Delta checkpoints (see delta_checkpoint.h; the rules are PROTOCOL.md's "Checkpoints" and its
 * appendix "Checkpoint Schema").
 *
 * The actions become Arrow batches through a small column builder (bcol): a tree of columns
 * mirroring the checkpoint schema, each with its validity bitmap, values or offsets in growable
 * buffers. Every row appends exactly one value (possibly null) to every top-level column, and a
 * struct row one value to each of its fields, so lengths always agree; export checks it. Every
 * CKPT_BATCH_ROWS actions the tree is exported as an ArrowArray that borrows the builder's
 * buffers, handed to the Parquet writer (which copies what it needs), and reset.
 *
 * With delta.checkpoint.writeStatsAsStruct the add column also gets `partitionValues_parsed` and
 * `stats_parsed`, whose fields mirror the table schema (so their number is the table's, not a
 * constant). Their values are parsed from the partition value strings and from each add's stats
 * JSON; the JSON goes through common/json_exact (numbers keep their text) rather than cJSON because
 * cJSON keeps numbers only as doubles, which would round longs past 2^53 and decimals of more than
 * 15 digits: a rounded minimum or maximum is no longer a bound.
 */
#include "table/delta/delta_checkpoint.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json_exact.h"
#include "common/path.h"

/* Actions per Arrow batch (bounds the builder's memory; the writer buffers a row group). */
#define CKPT_BATCH_ROWS 4096
/* Struct levels of the table schema mirrored in stats_parsed; deeper fields are left out. */
#define CKPT_MAX_STATS_DEPTH 32
/* Nesting of a stats JSON document read; a deeper one counts as unreadable. */
/* Longest number text parsed as a float or double (longer: a null). */
#define CKPT_MAX_NUMBER_TEXT 128
/* A `_last_checkpoint` larger than this is not read back (v2 writers may embed actions in it). */
#define CKPT_MAX_LAST_CHECKPOINT ((size_t)8 << 20)

static int oom(tarn_error *err) { return tarn_err(err, TARN_ENOMEM, "out of memory"); }

/* ---- The column builder --------------------------------------------------------------------- */

typedef enum bkind {
  B_UTF8,
  B_BINARY,
  B_I64,
  B_I32,
  B_BOOL,
  B_FIXED, /* other fixed-width values: `format` and `width` say which */
  B_STRUCT,
  B_LIST,
  B_MAP
} bkind;

/* What a value of stats_parsed or partitionValues_parsed is parsed as: the Delta type of its
 * column (V_NONE: a column of the action schema, or a null count). */
typedef enum vkind {
  V_NONE,
  V_BYTE,
  V_SHORT,
  V_INT,
  V_LONG,
  V_FLOAT,
  V_DOUBLE,
  V_DECIMAL,
  V_STRING,
  V_BINARY,
  V_BOOL,
  V_DATE,
  V_TIMESTAMP,
  V_TIMESTAMP_NTZ
} vkind;

typedef struct bcol bcol;
struct bcol {
  bkind kind;
  const char *name;
  const char *format; /* B_FIXED: the Arrow format */
  int width;          /* B_FIXED: bytes per value */
  bool nullable;
  vkind vk;             /* a parsed value's type */
  int precision, scale; /* V_DECIMAL */
  bcol **kids;
  int n_kids, cap_kids;
  tarn_buf valid;   /* validity bitmap */
  tarn_buf values;  /* fixed-width values, or the value bits of a boolean */
  tarn_buf offsets; /* int32 offsets: strings, lists, maps (starts with 0) */
  tarn_buf data;    /* string bytes */
  int64_t len, nulls;
  /* the Arrow view, rebuilt by export */
  struct ArrowSchema sch;
  struct ArrowArray arr;
  struct ArrowSchema **sch_kids; /* cap_kids each, like kids */
  struct ArrowArray **arr_kids;
  const void *bufs[3];
};

typedef struct ckpt {
  const delta_snapshot *s;
  tarn_error *err;
  int rc; /* sticky: the first failure of an append */
  tarn_arena arena;
  tarn_arena scratch; /* one add's parsed stats JSON */
  bcol **all;         /* every column, malloc'd */
  size_t n_all, cap_all;
  bcol *top, *txn, *add, *remove, *meta, *proto, *domain, *cp_meta;
  bool with_stats, with_struct;
  bool mapped; /* column mapping (name or id): partition and stats keys are physical names */
  /* writeStatsAsStruct: add.partitionValues_parsed (NULL: no partition column to hold) and
   * add.stats_parsed with its fields (min/max/null counts NULL when no column has them) */
  bcol *pv_parsed, *stats_parsed, *sp_records, *sp_min, *sp_max, *sp_nulls, *sp_tight;
  int *pv_index;      /* the partition column of each field of pv_parsed */
  const char **pkeys; /* the partitionValues key of each partition column */
  int64_t rows, in_batch, n_adds;
  tarn_parquet_writer *w;
} ckpt;

static void noop_schema_release(struct ArrowSchema *s) { s->release = NULL; }
static void noop_array_release(struct ArrowArray *a) { a->release = NULL; }

static void fail(ckpt *c, int rc) {
  if (c->rc == 0) c->rc = rc;
}

static void bc_put(ckpt *c, tarn_buf *b, const void *p, size_t n) {
  if (c->rc == 0 && tarn_buf_append(b, p, n, c->err) != 0) fail(c, TARN_ENOMEM);
}

static void bc_bit(ckpt *c, tarn_buf *b, int64_t i, bool v) {
  if (c->rc) return;
  if ((i & 7) == 0) {
    uint8_t zero = 0;
    bc_put(c, b, &zero, 1);
    if (c->rc) return;
  }
  if (v) b->data[i >> 3] |= (uint8_t)(1u << (i & 7));
}

static void bc_offset(ckpt *c, bcol *b, size_t end) {
  if (end > INT32_MAX) {
    if (c->rc == 0)
      c->rc = tarn_err(c->err, TARN_ENOMEM, "checkpoint column %s: more than 2 GiB in one batch",
                       b->name);
    return;
  }
  int32_t o = (int32_t)end;
  bc_put(c, &b->offsets, &o, sizeof o);
}

static void bc_reset(ckpt *c, bcol *b) {
  b->len = b->nulls = 0;
  b->valid.len = b->values.len = b->offsets.len = b->data.len = 0;
  /* never-NULL buffers: an empty column still exports valid pointers */
  if (c->rc == 0 &&
      (tarn_buf_reserve(&b->values, 8, c->err) != 0 || tarn_buf_reserve(&b->data, 8, c->err) != 0 ||
       tarn_buf_reserve(&b->valid, 8, c->err) != 0))
    fail(c, TARN_ENOMEM);
  if (b->kind == B_UTF8 || b->kind == B_BINARY || b->kind == B_LIST || b->kind == B_MAP)
    bc_offset(c, b, 0);
}

/* Room for one more field of b (the arrays are in the arena: a grown one leaves the old). */
static bool bc_grow_kids(ckpt *c, bcol *b) {
  if (b->n_kids < b->cap_kids) return true;
  if (b->cap_kids > INT32_MAX / 2) return false;
  int cap = b->cap_kids ? 2 * b->cap_kids : 4;
  bcol **kids = tarn_arena_calloc(&c->arena, (size_t)cap, sizeof *kids);
  struct ArrowSchema **sch = tarn_arena_calloc(&c->arena, (size_t)cap, sizeof *sch);
  struct ArrowArray **arr = tarn_arena_calloc(&c->arena, (size_t)cap, sizeof *arr);
  if (kids == NULL || sch == NULL || arr == NULL) return false;
  if (b->n_kids) memcpy(kids, b->kids, (size_t)b->n_kids * sizeof *kids);
  b->kids = kids;
  b->sch_kids = sch;
  b->arr_kids = arr;
  b->cap_kids = cap;
  return true;
}

static bcol *bc_new(ckpt *c, bcol *parent, bkind kind, const char *name, bool nullable) {
  if (c->rc) return NULL;
  if (c->n_all == c->cap_all) {
    size_t cap = c->cap_all ? 2 * c->cap_all : 128;
    bcol **all = realloc(c->all, cap * sizeof *all);
    if (all == NULL) {
      fail(c, oom(c->err));
      return NULL;
    }
    c->all = all;
    c->cap_all = cap;
  }
  bcol *b = NULL;
  if (parent == NULL || bc_grow_kids(c, parent)) b = tarn_arena_calloc(&c->arena, 1, sizeof *b);
  if (b == NULL) {
    fail(c, oom(c->err));
    return NULL;
  }
  b->kind = kind;
  b->name = name;
  b->nullable = nullable;
  c->all[c->n_all++] = b;
  if (parent) parent->kids[parent->n_kids++] = b;
  bc_reset(c, b);
  return b;
}

/* A fixed-width column other than int32/int64: Arrow format and bytes per value. */
static bcol *bc_new_fixed(ckpt *c, bcol *parent, const char *name, const char *format, int width) {
  bcol *b = bc_new(c, parent, B_FIXED, name, true);
  if (b) {
    b->format = format;
    b->width = width;
  }
  return b;
}

/* Appends a null (a struct's fields, each get a null too: Arrow children run parallel). */
static void bc_null(ckpt *c, bcol *b) {
  if (c->rc || b == NULL) return;
  bc_bit(c, &b->valid, b->len, false);
  b->nulls++;
  static const uint8_t zeros[16];
  switch (b->kind) {
  case B_UTF8:
  case B_BINARY: bc_offset(c, b, b->data.len); break;
  case B_I64: bc_put(c, &b->values, &(int64_t){0}, 8); break;
  case B_I32: bc_put(c, &b->values, &(int32_t){0}, 4); break;
  case B_FIXED: bc_put(c, &b->values, zeros, (size_t)b->width); break;
  case B_BOOL: bc_bit(c, &b->values, b->len, false); break;
  case B_STRUCT:
    for (int i = 0; i < b->n_kids; i++)
      bc_null(c, b->kids[i]);
    break;
  case B_LIST:
  case B_MAP: bc_offset(c, b, (size_t)b->kids[0]->len); break;
  }
  b->len++;
}

static void bc_valid(ckpt *c, bcol *b) { bc_bit(c, &b->valid, b->len, true); }

/* len bytes at s (a string or binary column). */
static void bc_bytes(ckpt *c, bcol *b, const char *s, size_t len) {
  bc_valid(c, b);
  bc_put(c, &b->data, s, len);
  bc_offset(c, b, b->data.len);
  b->len++;
}

static void bc_str(ckpt *c, bcol *b, const char *s) {
  if (s == NULL)
    bc_null(c, b);
  else
    bc_bytes(c, b, s, strlen(s));
}

/* A fixed-width value (size bytes at v), or a null when !present. */
static void bc_fixed(ckpt *c, bcol *b, const void *v, size_t size, bool present) {
  if (!present) {
    bc_null(c, b);
    return;
  }
  bc_valid(c, b);
  bc_put(c, &b->values, v, size);
  b->len++;
}

static void bc_i64(ckpt *c, bcol *b, int64_t v, bool present) {
  bc_fixed(c, b, &v, sizeof v, present);
}

static void bc_i32(ckpt *c, bcol *b, int32_t v, bool present) {
  bc_fixed(c, b, &v, sizeof v, present);
}

static void bc_bool(ckpt *c, bcol *b, bool v) {
  bc_valid(c, b);
  bc_bit(c, &b->values, b->len, v);
  b->len++;
}

/* A present struct value: the caller then appends one value to each of its fields, in order. */
static void bc_struct(ckpt *c, bcol *b) {
  bc_valid(c, b);
  b->len++;
}

/* Closes a present list or map whose items were just appended to its child. */
static void bc_list_end(ckpt *c, bcol *b) {
  bc_valid(c, b);
  bc_offset(c, b, (size_t)b->kids[0]->len);
  b->len++;
}

static void bc_str_list(ckpt *c, bcol *b, const char *const *items, size_t n) {
  for (size_t i = 0; i < n; i++)
    bc_str(c, b->kids[0], items[i]);
  bc_list_end(c, b);
}

/* A map<string,string>; a NULL value is a null (a null partition value). */
static void bc_str_map(ckpt *c, bcol *b, const char *const *keys, const char *const *values,
                       size_t n) {
  bcol *entries = b->kids[0];
  for (size_t i = 0; i < n; i++) {
    bc_struct(c, entries);
    bc_str(c, entries->kids[0], keys[i]);
    bc_str(c, entries->kids[1], values[i]);
  }
  bc_list_end(c, b);
}

static const char *bc_format(const bcol *b) {
  switch (b->kind) {
  case B_UTF8: return "u";
  case B_BINARY: return "z";
  case B_FIXED: return b->format;
  case B_I64: return "l";
  case B_I32: return "i";
  case B_BOOL: return "b";
  case B_STRUCT: return "+s";
  case B_LIST: return "+l";
  case B_MAP: return "+m";
  }
  return "n";
}

static void bc_export_schema(bcol *b) {
  for (int i = 0; i < b->n_kids; i++) {
    bc_export_schema(b->kids[i]);
    b->sch_kids[i] = &b->kids[i]->sch;
  }
  b->sch = (struct ArrowSchema){
      .format = bc_format(b),
      .name = b->name,
      .flags = b->nullable ? ARROW_FLAG_NULLABLE : 0,
      .n_children = b->n_kids,
      .children = b->n_kids ? b->sch_kids : NULL,
      .release = noop_schema_release,
  };
}

/* The Arrow view of b's rows; checks that every field of a struct has its rows. */
static int bc_export(ckpt *c, bcol *b) {
  for (int i = 0; i < b->n_kids; i++) {
    int rc = bc_export(c, b->kids[i]);
    if (rc) return rc;
    b->arr_kids[i] = &b->kids[i]->arr;
    if (b->kind == B_STRUCT && b->kids[i]->len != b->len)
      return tarn_err(c->err, TARN_EINVAL,
                      "internal error: checkpoint field %s.%s has %lld rows for %lld", b->name,
                      b->kids[i]->name, (long long)b->kids[i]->len, (long long)b->len);
  }
  int64_t n_buffers = 1;
  b->bufs[0] = b->nulls ? b->valid.data : NULL;
  switch (b->kind) {
  case B_UTF8:
  case B_BINARY:
    n_buffers = 3;
    b->bufs[1] = b->offsets.data;
    b->bufs[2] = b->data.data;
    break;
  case B_I64:
  case B_I32:
  case B_BOOL:
  case B_FIXED:
    n_buffers = 2;
    b->bufs[1] = b->values.data;
    break;
  case B_LIST:
  case B_MAP:
    n_buffers = 2;
    b->bufs[1] = b->offsets.data;
    break;
  case B_STRUCT: break;
  }
  b->arr = (struct ArrowArray){
      .length = b->len,
      .null_count = b->nulls,
      .n_buffers = n_buffers,
      .n_children = b->n_kids,
      .buffers = b->bufs,
      .children = b->n_kids ? b->arr_kids : NULL,
      .release = noop_array_release,
  };
  return 0;
}

static void ckpt_free(ckpt *c) {
  for (size_t i = 0; i < c->n_all; i++) {
    tarn_buf_free(&c->all[i]->valid);
    tarn_buf_free(&c->all[i]->values);
    tarn_buf_free(&c->all[i]->offsets);
    tarn_buf_free(&c->all[i]->data);
  }
  free(c->all);
  tarn_arena_free(&c->arena);
  tarn_arena_free(&c->scratch);
  if (c->w) tarn_parquet_writer_abort(c->w);
}

/* ---- Parsed values: stats_parsed and partitionValues_parsed --------------------------------- */

static bool is_digit(char ch) { return ch >= '0' && ch <= '9'; }

/* The vkind of a primitive Delta type (V_NONE: one with no parsed form, such as variant). */
static vkind vkind_of(const delta_type *t) {
  static const struct {
    const char *name;
    vkind vk;
  } names[] = {
      {"byte", V_BYTE},     {"short", V_SHORT},         {"integer", V_INT},
      {"long", V_LONG},     {"float", V_FLOAT},         {"double", V_DOUBLE},
      {"string", V_STRING}, {"binary", V_BINARY},       {"boolean", V_BOOL},
      {"date", V_DATE},     {"timestamp", V_TIMESTAMP}, {"timestamp_ntz", V_TIMESTAMP_NTZ}};
  if (t == NULL || t->kind != DELTA_TYPE_PRIMITIVE || t->name == NULL) return V_NONE;
  if (strncmp(t->name, "decimal", 7) == 0)
    return t->precision >= 1 && t->precision <= 38 && t->scale >= 0 && t->scale <= t->precision
               ? V_DECIMAL
               : V_NONE;
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (strcmp(t->name, names[i].name) == 0) return names[i].vk;
  return V_NONE;
}

/* A column holding values of Delta type t, as delta-spark writes them to Parquet (timestamps
 * as INT64 microseconds, adjusted to UTC or not); NULL for a type without a parsed form. */
static bcol *value_col(ckpt *c, bcol *parent, const char *name, const delta_type *t) {
  vkind vk = vkind_of(t);
  bcol *b = NULL;
  switch (vk) {
  case V_NONE: return NULL;
  case V_BYTE: b = bc_new_fixed(c, parent, name, "c", 1); break;
  case V_SHORT: b = bc_new_fixed(c, parent, name, "s", 2); break;
  case V_INT: b = bc_new(c, parent, B_I32, name, true); break;
  case V_LONG: b = bc_new(c, parent, B_I64, name, true); break;
  case V_FLOAT: b = bc_new_fixed(c, parent, name, "f", 4); break;
  case V_DOUBLE: b = bc_new_fixed(c, parent, name, "g", 8); break;
  case V_DECIMAL: {
    char *format = tarn_arena_calloc(&c->arena, 1, 32);
    if (format == NULL) {
      fail(c, oom(c->err));
      return NULL;
    }
    snprintf(format, 32, "d:%d,%d", t->precision, t->scale);
    b = bc_new_fixed(c, parent, name, format, 16);
    break;
  }
  case V_STRING: b = bc_new(c, parent, B_UTF8, name, true); break;
  case V_BINARY: b = bc_new(c, parent, B_BINARY, name, true); break;
  case V_BOOL: b = bc_new(c, parent, B_BOOL, name, true); break;
  case V_DATE: b = bc_new_fixed(c, parent, name, "tdD", 4); break;
  case V_TIMESTAMP: b = bc_new_fixed(c, parent, name, "tsu:UTC", 8); break;
  case V_TIMESTAMP_NTZ: b = bc_new_fixed(c, parent, name, "tsu:", 8); break;
  }
  if (b) {
    b->vk = vk;
    b->precision = t->precision;
    b->scale = t->scale;
  }
  return b;
}

/* Number text ([+-]digits[.digits][(e|E)[+-]digits]) as the unscaled value of a
 * decimal(precision, scale). Exact or nothing: a value that needs more digits, before or after
 * the point, is refused rather than rounded, since a rounded minimum or maximum is no bound. */
static bool parse_decimal(const char *s, size_t len, int precision, int scale, __int128 *out) {
  const char *p = s, *end = s + len;
  bool neg = false, any = false, point = false;
  if (p < end && (*p == '-' || *p == '+')) neg = *p++ == '-';
  /* the digits from the first to the last non-zero one; the zeros after them are counted */
  char sig[48];
  int n_sig = 0;
  int64_t zeros = 0, frac = 0, exp = 0;
  for (; p < end; p++) {
    if (*p == '.' && !point) {
      point = true;
      continue;
    }
    if (!is_digit(*p)) break;
    any = true;
    frac += point;
    if (*p == '0') {
      zeros += n_sig > 0;
      continue;
    }
    if (n_sig + zeros >= 40) return false; /* more than 38 significant digits */
    for (; zeros > 0; zeros--)
      sig[n_sig++] = '0';
    sig[n_sig++] = *p;
  }
  if (!any) return false;
  if (p < end && (*p == 'e' || *p == 'E')) {
    bool exp_neg = false;
    if (++p < end && (*p == '-' || *p == '+')) exp_neg = *p++ == '-';
    if (p >= end || !is_digit(*p)) return false;
    for (; p < end && is_digit(*p); p++)
      if (exp < 1000000) exp = exp * 10 + (*p - '0');
    if (exp_neg) exp = -exp;
  }
  if (p != end) return false;
  *out = 0;
  if (n_sig == 0) return true;
  int64_t shift = scale + exp - frac + zeros; /* the unscaled value is sig * 10^shift */
  if (shift < 0 || n_sig + shift > precision) return false;
  unsigned __int128 u = 0;
  for (int i = 0; i < n_sig; i++)
    u = u * 10 + (unsigned)(sig[i] - '0');
  for (int64_t i = 0; i < shift; i++)
    u *= 10;
  *out = neg ? -(__int128)u : (__int128)u;
  return true;
}

/* An integral number text (a fraction of zeros or an exponent allowed) within [lo, hi]. */
static bool parse_integer(const char *s, size_t len, int64_t lo, int64_t hi, int64_t *out) {
  __int128 v;
  if (!parse_decimal(s, len, 38, 0, &v) || v < lo || v > hi) return false;
  *out = (int64_t)v;
  return true;
}

/* A floating-point number text; out-of-range values (overflow or underflow) are refused. */
static bool parse_real(const char *s, size_t len, bool single, double *out) {
  char text[CKPT_MAX_NUMBER_TEXT];
  if (len == 0 || len >= sizeof text) return false;
  memcpy(text, s, len);
  text[len] = 0;
  char *end;
  errno = 0;
  *out = single ? (double)strtof(text, &end) : strtod(text, &end);
  return errno == 0 && end == text + len;
}

/* Days from 1970-01-01 to a civil date (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/* Exactly n digits at *p (not past end) as a number; *p moves past them. */
static bool take_digits(const char **p, const char *end, int n, int *out) {
  if (end - *p < n) return false;
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (!is_digit((*p)[i])) return false;
    v = v * 10 + ((*p)[i] - '0');
  }
  *p += n;
  *out = v;
  return true;
}

/* A date [+-]YYYY-MM-DD (4 to 6 year digits) at *p: days since the epoch; *p moves past it. */
static bool take_date(const char **p, const char *end, int64_t *days) {
  const char *q = *p;
  bool neg = false;
  if (q < end && (*q == '-' || *q == '+')) neg = *q++ == '-';
  int64_t year = 0;
  int n = 0, month, day;
  for (; q < end && is_digit(*q) && n < 6; q++, n++)
    year = year * 10 + (*q - '0');
  if (n < 4 || q >= end || *q++ != '-' || !take_digits(&q, end, 2, &month) || q >= end ||
      *q++ != '-' || !take_digits(&q, end, 2, &day))
    return false;
  if (neg) year = -year;
  static const int month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month < 1 || month > 12 || day < 1 ||
      day > month_days[month - 1] + (month == 2 && leap ? 1 : 0))
    return false;
  *days = days_from_civil(year, month, day);
  *p = q;
  return true;
}

static bool parse_date(const char *s, size_t len, int64_t *days) {
  const char *p = s;
  return take_date(&p, s + len, days) && p == s + len;
}

/* A timestamp as the stats JSON and partition values write it: a date, optionally 'T' or ' '
 * and HH:MM[:SS[.fraction]], then optionally a zone: Z, or +/- HH[:MM] (or HHMM). Microseconds
 * since the epoch, the zone applied (digits past the sixth of the fraction dropped). A value
 * without a zone is taken as UTC (tarn's writers put none on timestamp partition values, which
 * they write in UTC). A timestamp_ntz (ntz) takes no zone but Z or +00:00. */
static bool parse_timestamp(const char *s, size_t len, bool ntz, int64_t *out) {
  const char *p = s, *end = s + len;
  int64_t days, micros = 0;
  int h = 0, m = 0, sec = 0, offset_s = 0;
  if (!take_date(&p, end, &days)) return false;
  if (p < end && (*p == 'T' || *p == ' ')) {
    p++;
    if (!take_digits(&p, end, 2, &h) || p >= end || *p++ != ':' || !take_digits(&p, end, 2, &m))
      return false;
    if (p < end && *p == ':') {
      p++;
      if (!take_digits(&p, end, 2, &sec)) return false;
      if (p < end && *p == '.') {
        int n = 0;
        for (p++; p < end && is_digit(*p); p++, n++)
          if (n < 6) micros = micros * 10 + (*p - '0');
        if (n == 0) return false;
        for (; n < 6; n++)
          micros *= 10;
      }
    }
    if (h > 23 || m > 59 || sec > 59) return false;
  }
  if (p < end && *p == 'Z') {
    p++;
  } else if (p < end && (*p == '+' || *p == '-')) {
    int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
    if (!take_digits(&p, end, 2, &oh)) return false;
    if (p < end && *p == ':') p++;
    if (p < end && !take_digits(&p, end, 2, &om)) return false;
    if (oh > 18 || om > 59) return false;
    offset_s = sign * (oh * 3600 + om * 60);
  }
  if (p != end || (ntz && offset_s != 0)) return false;
  /* the int64 microsecond range, with a day to spare for the time and the zone */
  if (days > 106751990 || days < -106751990) return false;
  *out = days * INT64_C(86400000000) + ((int64_t)h * 3600 + m * 60 + sec - offset_s) * 1000000 +
         micros;
  return true;
}

/* Appends the value of text s[0..len) parsed as b's type, or a null when it does not parse. */
static void put_text(ckpt *c, bcol *b, const char *s, size_t len) {
  int64_t i;
  double d;
  __int128 dec;
  switch (b->vk) {
  case V_BYTE:
    if (!parse_integer(s, len, INT8_MIN, INT8_MAX, &i)) break;
    bc_fixed(c, b, &(int8_t){(int8_t)i}, 1, true);
    return;
  case V_SHORT:
    if (!parse_integer(s, len, INT16_MIN, INT16_MAX, &i)) break;
    bc_fixed(c, b, &(int16_t){(int16_t)i}, 2, true);
    return;
  case V_INT:
    if (!parse_integer(s, len, INT32_MIN, INT32_MAX, &i)) break;
    bc_i32(c, b, (int32_t)i, true);
    return;
  case V_LONG:
    if (!parse_integer(s, len, INT64_MIN, INT64_MAX, &i)) break;
    bc_i64(c, b, i, true);
    return;
  case V_FLOAT:
    if (!parse_real(s, len, true, &d)) break;
    bc_fixed(c, b, &(float){(float)d}, 4, true);
    return;
  case V_DOUBLE:
    if (!parse_real(s, len, false, &d)) break;
    bc_fixed(c, b, &d, 8, true);
    return;
  case V_DECIMAL: {
    if (!parse_decimal(s, len, b->precision, b->scale, &dec)) break;
    uint8_t le[16]; /* Arrow's decimal128: little-endian two's complement */
    unsigned __int128 u = (unsigned __int128)dec;
    for (int k = 0; k < 16; k++)
      le[k] = (uint8_t)(u >> (8 * k));
    bc_fixed(c, b, le, 16, true);
    return;
  }
  case V_STRING:
  case V_BINARY: bc_bytes(c, b, s, len); return;
  case V_BOOL:
    if ((len == 4 && strncasecmp(s, "true", 4) == 0) ||
        (len == 5 && strncasecmp(s, "false", 5) == 0)) {
      bc_bool(c, b, len == 4);
      return;
    }
    break;
  case V_DATE:
    if (!parse_date(s, len, &i) || i < INT32_MIN || i > INT32_MAX) break;
    bc_fixed(c, b, &(int32_t){(int32_t)i}, 4, true);
    return;
  case V_TIMESTAMP:
  case V_TIMESTAMP_NTZ:
    if (!parse_timestamp(s, len, b->vk == V_TIMESTAMP_NTZ, &i)) break;
    bc_i64(c, b, i, true);
    return;
  case V_NONE: break;
  }
  bc_null(c, b);
}

/* -- A stats JSON document (common/json_exact: numbers keep their exact text) -- */

/* The document text as a tree in c->scratch; NULL when it is not JSON (running out of memory
 * also fails c). */
static const jx_value *j_parse(ckpt *c, const char *text) {
  jx_value *root = NULL;
  tarn_error jerr = {0};
  int rc = jx_parse(text, strlen(text), &c->scratch, &root, &jerr);
  if (rc == TARN_ENOMEM) fail(c, oom(c->err));
  return rc ? NULL : root;
}

/* Member `name` of object o, or NULL. *hint (may be NULL) is where the previous lookup in o
 * ended: members mostly come in the schema's order, so the search starts there. */
static const jx_value *j_get(const jx_value *o, const char *name, const jx_value **hint) {
  if (o == NULL || o->kind != JX_OBJECT) return NULL;
  const jx_value *start = hint && *hint ? *hint : o->child;
  for (int pass = 0; pass < 2; pass++)
    for (const jx_value *m = pass ? o->child : start; m && (pass == 0 || m != start); m = m->next)
      if (strcmp(m->key, name) == 0) {
        if (hint) *hint = m->next;
        return m;
      }
  return NULL;
}

/* Appends JSON value v (NULL: missing) as b's type; a value of the wrong JSON kind (a string
 * for a number, ...) or that does not parse is a null. */
static void put_json(ckpt *c, bcol *b, const jx_value *v) {
  bool want_string = false; /* else a number holds b's values */
  switch (b->vk) {
  case V_STRING:
  case V_BINARY:
  case V_DATE:
  case V_TIMESTAMP:
  case V_TIMESTAMP_NTZ: want_string = true; break;
  case V_BOOL:
    if (v && (v->kind == JX_TRUE || v->kind == JX_FALSE)) {
      bc_bool(c, b, v->kind == JX_TRUE);
      return;
    }
    v = NULL;
    break;
  case V_NONE: v = NULL; break;
  default: break;
  }
  bool number = v && (v->kind == JX_INT || v->kind == JX_NUMBER);
  bool string = v && v->kind == JX_STRING;
  /* decimals written as strings too (a writer keeping all their digits) */
  if (number && !want_string)
    put_text(c, b, v->span, v->span_len);
  else if (string && (want_string || b->vk == V_DECIMAL))
    put_text(c, b, v->str, v->str_len);
  else
    bc_null(c, b);
}

/* Appends the struct b (minValues, maxValues, nullCount or a struct under them) from object o:
 * each field from the member of its name (a physical name under column mapping, as the stats
 * JSON keys them). A missing or non-object o is a null struct. */
static void put_stats_struct(ckpt *c, bcol *b, const jx_value *o) {
  if (o == NULL || o->kind != JX_OBJECT) {
    bc_null(c, b);
    return;
  }
  bc_struct(c, b);
  const jx_value *hint = NULL;
  for (int i = 0; i < b->n_kids; i++) {
    bcol *k = b->kids[i];
    const jx_value *v = j_get(o, k->name, &hint);
    if (k->kind == B_STRUCT)
      put_stats_struct(c, k, v);
    else
      put_json(c, k, v);
  }
}

/* add.stats_parsed of one file: null when it has no stats or they are not a JSON object. */
static void write_stats_parsed(ckpt *c, const char *stats) {
  const jx_value *root = stats ? j_parse(c, stats) : NULL;
  if (root == NULL || root->kind != JX_OBJECT) {
    bc_null(c, c->stats_parsed);
  } else {
    bc_struct(c, c->stats_parsed);
    put_json(c, c->sp_records, j_get(root, "numRecords", NULL));
    if (c->sp_min) put_stats_struct(c, c->sp_min, j_get(root, "minValues", NULL));
    if (c->sp_max) put_stats_struct(c, c->sp_max, j_get(root, "maxValues", NULL));
    if (c->sp_nulls) put_stats_struct(c, c->sp_nulls, j_get(root, "nullCount", NULL));
    put_json(c, c->sp_tight, j_get(root, "tightBounds", NULL));
  }
  tarn_arena_free(&c->scratch);
}

/* add.partitionValues_parsed of one file: each value parsed from its string (a null or empty
 * string, which the protocol reads as null, and a value that does not parse are nulls). */
static void write_partition_values_parsed(ckpt *c, const delta_file *f) {
  bcol *pv = c->pv_parsed;
  bc_struct(c, pv);
  for (int i = 0; i < pv->n_kids; i++) {
    const char *v = f->partition_values ? f->partition_values[c->pv_index[i]] : NULL;
    if (v == NULL || *v == 0)
      bc_null(c, pv->kids[i]);
    else
      put_text(c, pv->kids[i], v, strlen(v));
  }
}

/* -- Which columns stats_parsed mirrors -- */

/* A column of the table with statistics, or a struct holding some. */
typedef struct snode snode;
struct snode {
  const char *key;        /* its stats key: the physical name under column mapping */
  const delta_type *type; /* a leaf's type; NULL for a struct */
  bool min_max;           /* a leaf with min/max values, or a struct with such a leaf in it */
  snode *kids;            /* a struct's fields with statistics */
  size_t n_kids;
};

typedef struct stats_path {
  const char **parts;
  size_t n;
} stats_path;

/* The columns with statistics: those named by delta.dataSkippingStatsColumns (paths; a struct
 * named stands for its fields) when it is set, else the first delta.dataSkippingNumIndexedCols
 * leaves (left: how many more; -1 any number). */
typedef struct stats_sel {
  bool mapped; /* column mapping: keys are physical names */
  int64_t left;
  stats_path *paths; /* NULL: count leaves */
  size_t n_paths;
  const char *at[CKPT_MAX_STATS_DEPTH]; /* logical names of the field looked at and its parents */
} stats_sel;

/* delta.dataSkippingStatsColumns: comma-separated column paths, dotted, each part optionally
 * quoted with backticks (a doubled backtick inside is one). Malformed entries are left out. */
static int parse_stats_columns(ckpt *c, const char *text, stats_sel *sel) {
  size_t len = strlen(text), n_items = 1;
  for (const char *q = text; *q; q++)
    n_items += *q == ',';
  /* the parts go to one buffer: their characters and a NUL each, never more than text */
  char *buf = tarn_arena_calloc(&c->arena, len + 1, 1);
  sel->paths = tarn_arena_calloc(&c->arena, n_items, sizeof *sel->paths);
  if (buf == NULL || sel->paths == NULL) return oom(c->err);
  const char *p = text;
  size_t used = 0;
  while (*p) {
    const char *parts[CKPT_MAX_STATS_DEPTH];
    size_t n = 0;
    bool bad = false;
    for (;;) {
      while (*p == ' ')
        p++;
      char *part = buf + used;
      size_t k = 0;
      if (*p == '`') {
        for (p++;; p++) {
          if (*p == 0) {
            bad = true;
            break;
          }
          if (*p == '`' && p[1] != '`') {
            p++;
            break;
          }
          part[k++] = *p;
          if (*p == '`') p++; /* a doubled backtick */
        }
      } else {
        while (*p && *p != '.' && *p != ',')
          part[k++] = *p++;
        while (k > 0 && part[k - 1] == ' ')
          k--;
      }
      part[k] = 0;
      used += k + 1;
      while (*p == ' ')
        p++;
      if (k == 0 || n == CKPT_MAX_STATS_DEPTH)
        bad = true;
      else
        parts[n++] = part;
      if (*p != '.' || bad) break;
      p++;
    }
    if (*p && *p != ',') bad = true;
    while (*p && *p != ',')
      p++;
    if (*p == ',') p++;
    if (bad || n == 0) continue;
    stats_path *sp = &sel->paths[sel->n_paths];
    sp->parts = tarn_arena_calloc(&c->arena, n, sizeof *sp->parts);
    if (sp->parts == NULL) return oom(c->err);
    memcpy(sp->parts, parts, n * sizeof *parts);
    sp->n = n;
    sel->n_paths++;
  }
  return 0;
}

/* Whether the leaf at depth (names in sel->at[0..depth]) has statistics. */
static bool stats_selected(stats_sel *sel, int depth) {
  if (sel->paths == NULL) {
    if (sel->left == 0) return false;
    if (sel->left > 0) sel->left--;
    return true;
  }
  for (size_t i = 0; i < sel->n_paths; i++) {
    const stats_path *sp = &sel->paths[i];
    bool match = sp->n <= (size_t)depth + 1;
    for (size_t k = 0; match && k < sp->n; k++)
      match = strcasecmp(sp->parts[k], sel->at[k]) == 0;
    if (match) return true;
  }
  return false;
}

static bool is_partition_column(const delta_snapshot *s, const char *name) {
  for (size_t i = 0; i < s->n_partition_columns; i++)
    if (strcmp(s->partition_columns[i], name) == 0) return true;
  return false;
}

/* The fields of struct type st with statistics into out, in schema order (what delta-spark and
 * delta-kernel-rs put in the stats schema: data columns only, partition columns left out;
 * arrays, maps and variants left out and not counted; a struct without such fields left out). */
static int select_stats(ckpt *c, stats_sel *sel, const delta_type *st, int depth, snode *out) {
  out->kids = tarn_arena_calloc(&c->arena, st->n_fields ? st->n_fields : 1, sizeof *out->kids);
  if (out->kids == NULL) return oom(c->err);
  for (size_t i = 0; i < st->n_fields; i++) {
    const delta_field *f = &st->fields[i];
    snode *k = &out->kids[out->n_kids];
    memset(k, 0, sizeof *k);
    if (f->type == NULL || (depth == 0 && is_partition_column(c->s, f->name))) continue;
    sel->at[depth] = f->name;
    k->key = sel->mapped && f->physical_name ? f->physical_name : f->name;
    if (f->type->kind == DELTA_TYPE_STRUCT) {
      if (depth + 1 >= CKPT_MAX_STATS_DEPTH) continue;
      int rc = select_stats(c, sel, f->type, depth + 1, k);
      if (rc) return rc;
      if (k->n_kids == 0) continue;
    } else {
      vkind vk = vkind_of(f->type);
      if (vk == V_NONE || !stats_selected(sel, depth)) continue;
      k->type = f->type;
      /* delta-spark and delta-kernel-rs keep no min/max for booleans and binary */
      k->min_max = vk != V_BOOL && vk != V_BINARY;
    }
    out->min_max |= k->min_max;
    out->n_kids++;
  }
  return 0;
}

/* The struct `name` under parent mirroring n: min/max values in the columns' own types, or
 * (counts) null counts as longs. */
static bcol *mirror_stats(ckpt *c, bcol *parent, const char *name, const snode *n, bool counts) {
  bcol *b = bc_new(c, parent, B_STRUCT, name, true);
  for (size_t i = 0; b && i < n->n_kids; i++) {
    const snode *k = &n->kids[i];
    if (!counts && !k->min_max) continue;
    if (k->type == NULL) {
      mirror_stats(c, b, k->key, k, counts);
    } else if (counts) {
      bcol *leaf = bc_new(c, b, B_I64, k->key, true);
      if (leaf) leaf->vk = V_LONG;
    } else {
      value_col(c, b, k->key, k->type);
    }
  }
  return b;
}

/* add.stats_parsed: numRecords, minValues, maxValues, nullCount, tightBounds (delta-spark's
 * order; a struct without fields left out), every field nullable. */
static int stats_parsed_cols(ckpt *c) {
  const delta_snapshot *s = c->s;
  stats_sel sel;
  memset(&sel, 0, sizeof sel);
  sel.mapped = c->mapped;
  sel.left = 32; /* delta.dataSkippingNumIndexedCols' default */
  const char *columns = delta_snapshot_config(s, "delta.dataSkippingStatsColumns");
  const char *indexed = delta_snapshot_config(s, "delta.dataSkippingNumIndexedCols");
  int rc = 0;
  if (columns) {
    rc = parse_stats_columns(c, columns, &sel);
  } else if (indexed) {
    char *end;
    errno = 0;
    long long n = strtoll(indexed, &end, 10);
    if (errno == 0 && end != indexed && *end == 0 && n >= -1) sel.left = n;
  }
  snode root;
  memset(&root, 0, sizeof root);
  if (rc == 0 && s->schema && s->schema->kind == DELTA_TYPE_STRUCT)
    rc = select_stats(c, &sel, s->schema, 0, &root);
  if (rc) return rc;
  bcol *sp = c->stats_parsed = bc_new(c, c->add, B_STRUCT, "stats_parsed", true);
  if (sp == NULL) return c->rc;
  if ((c->sp_records = bc_new(c, sp, B_I64, "numRecords", true))) c->sp_records->vk = V_LONG;
  if (root.min_max) {
    c->sp_min = mirror_stats(c, sp, "minValues", &root, false);
    c->sp_max = mirror_stats(c, sp, "maxValues", &root, false);
  }
  if (root.n_kids) c->sp_nulls = mirror_stats(c, sp, "nullCount", &root, true);
  if ((c->sp_tight = bc_new(c, sp, B_BOOL, "tightBounds", true))) c->sp_tight->vk = V_BOOL;
  return c->rc;
}

/* add.partitionValues_parsed: one field per partition column, named by its partitionValues key,
 * in its type; none when the table has no partition column (of a type with a parsed form). */
static int partition_values_parsed_cols(ckpt *c) {
  const delta_snapshot *s = c->s;
  size_t np = s->n_partition_columns;
  c->pv_index = tarn_arena_calloc(&c->arena, np ? np : 1, sizeof *c->pv_index);
  if (c->pv_index == NULL) return oom(c->err);
  for (size_t i = 0; i < np && s->schema && c->rc == 0; i++) {
    const delta_type *t = NULL;
    for (size_t k = 0; k < s->schema->n_fields && t == NULL; k++)
      if (strcmp(s->schema->fields[k].name, s->partition_columns[i]) == 0)
        t = s->schema->fields[k].type;
    if (vkind_of(t) == V_NONE) continue;
    if (c->pv_parsed == NULL &&
        (c->pv_parsed = bc_new(c, c->add, B_STRUCT, "partitionValues_parsed", true)) == NULL)
      break;
    if (value_col(c, c->pv_parsed, c->pkeys[i], t)) c->pv_index[c->pv_parsed->n_kids - 1] = (int)i;
  }
  return c->rc;
}

/* ---- The checkpoint schema (PROTOCOL.md appendix "Checkpoint Schema", Spark's field order) -- */

static bcol *str_map_col(ckpt *c, bcol *parent, const char *name) {
  bcol *m = bc_new(c, parent, B_MAP, name, true);
  bcol *entries = m ? bc_new(c, m, B_STRUCT, "entries", false) : NULL;
  if (entries) {
    bc_new(c, entries, B_UTF8, "key", false);
    bc_new(c, entries, B_UTF8, "value", true);
  }
  return m;
}

static bcol *str_list_col(ckpt *c, bcol *parent, const char *name) {
  bcol *l = bc_new(c, parent, B_LIST, name, true);
  if (l) bc_new(c, l, B_UTF8, "element", true);
  return l;
}

static void dv_col(ckpt *c, bcol *parent) {
  bcol *dv = bc_new(c, parent, B_STRUCT, "deletionVector", true);
  if (dv == NULL) return;
  bc_new(c, dv, B_UTF8, "storageType", true);
  bc_new(c, dv, B_UTF8, "pathOrInlineDv", true);
  bc_new(c, dv, B_I32, "offset", true);
  bc_new(c, dv, B_I32, "sizeInBytes", true);
  bc_new(c, dv, B_I64, "cardinality", true);
}

static int build_schema(ckpt *c, bool v2) {
  c->top = bc_new(c, NULL, B_STRUCT, "checkpoint", false);
  bcol *t = c->top;
  if ((c->txn = bc_new(c, t, B_STRUCT, "txn", true))) {
    bc_new(c, c->txn, B_UTF8, "appId", true);
    bc_new(c, c->txn, B_I64, "version", true);
    bc_new(c, c->txn, B_I64, "lastUpdated", true);
  }
  if ((c->add = bc_new(c, t, B_STRUCT, "add", true))) {
    bc_new(c, c->add, B_UTF8, "path", true);
    str_map_col(c, c->add, "partitionValues");
    bc_new(c, c->add, B_I64, "size", true);
    bc_new(c, c->add, B_I64, "modificationTime", true);
    bc_new(c, c->add, B_BOOL, "dataChange", true);
    if (c->with_stats) bc_new(c, c->add, B_UTF8, "stats", true);
    str_map_col(c, c->add, "tags");
    dv_col(c, c->add);
    bc_new(c, c->add, B_I64, "baseRowId", true);
    bc_new(c, c->add, B_I64, "defaultRowCommitVersion", true);
    /* last, as delta-spark appends them (and PROTOCOL.md's example shows them) */
    if (c->with_struct && c->rc == 0) {
      int rc = partition_values_parsed_cols(c);
      if (rc == 0) rc = stats_parsed_cols(c);
      if (rc) fail(c, rc);
    }
  }
  if ((c->remove = bc_new(c, t, B_STRUCT, "remove", true))) {
    bc_new(c, c->remove, B_UTF8, "path", true);
    bc_new(c, c->remove, B_I64, "deletionTimestamp", true);
    bc_new(c, c->remove, B_BOOL, "dataChange", true);
    bc_new(c, c->remove, B_BOOL, "extendedFileMetadata", true);
    str_map_col(c, c->remove, "partitionValues");
    bc_new(c, c->remove, B_I64, "size", true);
    dv_col(c, c->remove);
    bc_new(c, c->remove, B_I64, "baseRowId", true);
    bc_new(c, c->remove, B_I64, "defaultRowCommitVersion", true);
  }
  if ((c->meta = bc_new(c, t, B_STRUCT, "metaData", true))) {
    bc_new(c, c->meta, B_UTF8, "id", true);
    bc_new(c, c->meta, B_UTF8, "name", true);
    bc_new(c, c->meta, B_UTF8, "description", true);
    bcol *format = bc_new(c, c->meta, B_STRUCT, "format", true);
    if (format) {
      bc_new(c, format, B_UTF8, "provider", true);
      str_map_col(c, format, "options");
    }
    bc_new(c, c->meta, B_UTF8, "schemaString", true);
    str_list_col(c, c->meta, "partitionColumns");
    str_map_col(c, c->meta, "configuration");
    bc_new(c, c->meta, B_I64, "createdTime", true);
  }
  if ((c->proto = bc_new(c, t, B_STRUCT, "protocol", true))) {
    bc_new(c, c->proto, B_I32, "minReaderVersion", true);
    bc_new(c, c->proto, B_I32, "minWriterVersion", true);
    str_list_col(c, c->proto, "readerFeatures");
    str_list_col(c, c->proto, "writerFeatures");
  }
  if ((c->domain = bc_new(c, t, B_STRUCT, "domainMetadata", true))) {
    bc_new(c, c->domain, B_UTF8, "domain", true);
    bc_new(c, c->domain, B_UTF8, "configuration", true);
    bc_new(c, c->domain, B_BOOL, "removed", true);
  }
  if (v2 && (c->cp_meta = bc_new(c, t, B_STRUCT, "checkpointMetadata", true))) {
    bc_new(c, c->cp_meta, B_I64, "version", true);
    str_map_col(c, c->cp_meta, "tags");
  }
  return c->rc;
}

/* ---- Rows ----------------------------------------------------------------------------------- */

/* Starts a row whose one non-null action is `which`: every other action column gets a null. */
static void row_start(ckpt *c, bcol *which) {
  bc_struct(c, c->top);
  for (int i = 0; i < c->top->n_kids; i++)
    if (c->top->kids[i] != which) bc_null(c, c->top->kids[i]);
  bc_struct(c, which);
}

static int flush_batch(ckpt *c) {
  if (c->in_batch == 0) return 0;
  int rc = bc_export(c, c->top);
  if (rc == 0) rc = tarn_parquet_writer_write(c->w, &c->top->arr, c->err);
  for (size_t i = 0; rc == 0 && i < c->n_all; i++)
    bc_reset(c, c->all[i]);
  if (rc == 0) rc = c->rc;
  c->in_batch = 0;
  return rc;
}

static int row_end(ckpt *c) {
  if (c->rc) return c->rc;
  c->rows++;
  if (++c->in_batch == CKPT_BATCH_ROWS) return flush_batch(c);
  return 0;
}

static int write_protocol(ckpt *c) {
  const delta_snapshot *s = c->s;
  bcol *p = c->proto;
  row_start(c, p);
  bc_i32(c, p->kids[0], s->min_reader_version, true);
  bc_i32(c, p->kids[1], s->min_writer_version, true);
  /* the feature lists are present exactly with reader version 3 / writer version 7 */
  if (s->min_reader_version == 3)
    bc_str_list(c, p->kids[2], s->reader_features, s->n_reader_features);
  else
    bc_null(c, p->kids[2]);
  if (s->min_writer_version == 7)
    bc_str_list(c, p->kids[3], s->writer_features, s->n_writer_features);
  else
    bc_null(c, p->kids[3]);
  return row_end(c);
}

static int write_metadata(ckpt *c) {
  const delta_snapshot *s = c->s;
  bcol *m = c->meta;
  row_start(c, m);
  bc_str(c, m->kids[0], s->metadata_id);
  bc_str(c, m->kids[1], s->name);
  bc_str(c, m->kids[2], s->description);
  bcol *format = m->kids[3];
  bc_struct(c, format);
  bc_str(c, format->kids[0], s->format_provider ? s->format_provider : "parquet");
  bc_str_map(c, format->kids[1], NULL, NULL, 0);
  bc_str(c, m->kids[4], s->schema_string);
  bc_str_list(c, m->kids[5], s->partition_columns, s->n_partition_columns);
  bc_str_map(c, m->kids[6], s->config_keys, s->config_values, s->n_config);
  bc_i64(c, m->kids[7], s->created_time, s->created_time >= 0);
  return row_end(c);
}

static int write_checkpoint_metadata(ckpt *c) {
  row_start(c, c->cp_meta);
  bc_i64(c, c->cp_meta->kids[0], c->s->version, true);
  bc_null(c, c->cp_meta->kids[1]);
  return row_end(c);
}

static int write_txn(ckpt *c, size_t i) {
  row_start(c, c->txn);
  bc_str(c, c->txn->kids[0], c->s->txn_app_ids[i]);
  bc_i64(c, c->txn->kids[1], c->s->txn_versions[i], true);
  bc_null(c, c->txn->kids[2]);
  return row_end(c);
}

static int write_domain(ckpt *c, size_t i) {
  row_start(c, c->domain);
  bc_str(c, c->domain->kids[0], c->s->domains[i]);
  bc_str(c, c->domain->kids[1], c->s->domain_configs[i] ? c->s->domain_configs[i] : "");
  bc_bool(c, c->domain->kids[2], false);
  return row_end(c);
}

static void write_dv(ckpt *c, bcol *dv, const delta_dv *d) {
  if (d->storage_type == 0) {
    bc_null(c, dv);
    return;
  }
  char st[2] = {d->storage_type, 0};
  bc_struct(c, dv);
  bc_str(c, dv->kids[0], st);
  bc_str(c, dv->kids[1], d->path_or_inline);
  bc_i32(c, dv->kids[2], d->offset, d->offset >= 0);
  bc_i32(c, dv->kids[3], d->size_in_bytes, true);
  bc_i64(c, dv->kids[4], d->cardinality, true);
}

static int write_add(ckpt *c, const delta_file *f) {
  bcol *a = c->add;
  int k = 0;
  row_start(c, a);
  bc_str(c, a->kids[k++], f->path);
  bc_str_map(c, a->kids[k++], c->pkeys, f->partition_values, c->s->n_partition_columns);
  bc_i64(c, a->kids[k++], f->size, f->size >= 0);
  bc_i64(c, a->kids[k++], f->modification_time, f->modification_time >= 0);
  bc_bool(c, a->kids[k++], false); /* dataChange: a checkpoint adds no data */
  if (c->with_stats) bc_str(c, a->kids[k++], f->stats);
  bc_null(c, a->kids[k++]); /* tags: not kept by the snapshot */
  write_dv(c, a->kids[k++], &f->dv);
  bc_i64(c, a->kids[k++], f->base_row_id, f->base_row_id >= 0);
  bc_i64(c, a->kids[k++], f->default_row_commit_version, f->default_row_commit_version >= 0);
  if (c->pv_parsed) write_partition_values_parsed(c, f);
  if (c->stats_parsed) write_stats_parsed(c, f->stats);
  c->n_adds++;
  return row_end(c);
}

/* A tombstone, with its fields as the remove action gave them (dataChange included, as
 * delta-kernel-rs keeps it; partitionValues keyed as the remove keyed them, null when it had
 * none). */
static int write_remove(ckpt *c, const delta_tombstone *t) {
  bcol *rm = c->remove;
  int k = 0;
  row_start(c, rm);
  bc_str(c, rm->kids[k++], t->path);
  bc_i64(c, rm->kids[k++], t->deletion_timestamp, t->deletion_timestamp >= 0);
  bc_bool(c, rm->kids[k++], t->data_change);
  if (t->extended_file_metadata >= 0)
    bc_bool(c, rm->kids[k++], t->extended_file_metadata != 0);
  else
    bc_null(c, rm->kids[k++]);
  if (t->partition_keys)
    bc_str_map(c, rm->kids[k++], t->partition_keys, t->partition_values, t->n_partition_values);
  else
    bc_null(c, rm->kids[k++]);
  bc_i64(c, rm->kids[k++], t->size, t->size >= 0);
  write_dv(c, rm->kids[k++], &t->dv);
  bc_i64(c, rm->kids[k++], t->base_row_id, t->base_row_id >= 0);
  bc_i64(c, rm->kids[k++], t->default_row_commit_version, t->default_row_commit_version >= 0);
  return row_end(c);
}

/* ---- What may be checkpointed --------------------------------------------------------------- */

static bool config_is(const delta_snapshot *s, const char *key, const char *value) {
  const char *v = delta_snapshot_config(s, key);
  return v && strcasecmp(v, value) == 0;
}

static bool has_writer_feature(const delta_snapshot *s, const char *name) {
  for (size_t i = 0; i < s->n_writer_features; i++)
    if (strcmp(s->writer_features[i], name) == 0) return true;
  return false;
}

static int check_writable(const delta_snapshot *s, tarn_error *err) {
  /* writer features whose checkpoint needs nothing the snapshot lacks */
  static const char *const ok[] = {
      "appendOnly",           "invariants",          "checkConstraints",    "changeDataFeed",
      "generatedColumns",     "columnMapping",       "identityColumns",     "deletionVectors",
      "rowTracking",          "timestampNtz",        "domainMetadata",      "v2Checkpoint",
      "icebergCompatV1",      "icebergCompatV2",     "vacuumProtocolCheck", "typeWidening",
      "typeWidening-preview", "inCommitTimestamp",   "allowColumnDefaults", "variantType",
      "variantType-preview",  "checkpointProtection"};
  if (s->min_writer_version > 7 || s->min_writer_version < 1)
    return tarn_err(err, TARN_EUNSUPPORTED,
                    "delta table %s: cannot checkpoint: writer version %d (tarn writes 1 to 7)",
                    s->table_dir, s->min_writer_version);
  if (s->min_writer_version == 7) {
    for (size_t i = 0; i < s->n_writer_features; i++) {
      bool known = false;
      for (size_t k = 0; k < sizeof ok / sizeof *ok && !known; k++)
        known = strcmp(s->writer_features[i], ok[k]) == 0;
      if (!known)
        return tarn_err(err, TARN_EUNSUPPORTED,
                        "delta table %s: cannot checkpoint: writer feature '%s' is not supported",
                        s->table_dir, s->writer_features[i]);
    }
  }
  return 0;
}

/* The partitionValues key of each partition column: its physical name under column mapping. */
static int partition_keys(ckpt *c) {
  const delta_snapshot *s = c->s;
  size_t np = s->n_partition_columns;
  c->pkeys = tarn_arena_calloc(&c->arena, np ? np : 1, sizeof *c->pkeys);
  if (c->pkeys == NULL) return oom(c->err);
  const char *mode = delta_snapshot_config(s, "delta.columnMapping.mode");
  c->mapped = mode && (strcmp(mode, "name") == 0 || strcmp(mode, "id") == 0);
  for (size_t i = 0; i < np; i++) {
    c->pkeys[i] = s->partition_columns[i];
    for (size_t k = 0; c->mapped && s->schema && k < s->schema->n_fields; k++)
      if (strcmp(s->schema->fields[k].name, s->partition_columns[i]) == 0 &&
          s->schema->fields[k].physical_name)
        c->pkeys[i] = s->schema->fields[k].physical_name;
  }
  return 0;
}

/* ---- Files ---------------------------------------------------------------------------------- */

static uint64_t nonce64(void) {
  uint64_t v = 0;
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    if (read(fd, &v, sizeof v) != (ssize_t)sizeof v) v = 0;
    close(fd);
  }
  if (v == 0) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    v = ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) ^ ((uint64_t)getpid() << 32);
  }
  return v;
}

/* A temporary path in dir for `name`: hidden (a leading '.'), unique to this attempt. */
static char *temp_path(const char *dir, const char *name) {
  char tmp[128];
  snprintf(tmp, sizeof tmp, ".%s.%ld-%016" PRIx64 ".tmp", name, (long)getpid(), nonce64());
  return tarn_path_join(dir, tmp);
}

/* The version `_last_checkpoint` names, or -1 when it is missing or unreadable. */
static int64_t last_checkpoint_version(const char *path) {
  char *text = NULL;
  size_t len = 0;
  int64_t v = -1;
  if (tarn_read_file(path, CKPT_MAX_LAST_CHECKPOINT, &text, &len, NULL) != 0) return -1;
  cJSON *j = cJSON_ParseWithLength(text, len);
  const cJSON *ver = cJSON_GetObjectItemCaseSensitive(j, "version");
  if (cJSON_IsNumber(ver) && ver->valuedouble >= 0 && ver->valuedouble < 9e15)
    v = (int64_t)ver->valuedouble;
  cJSON_Delete(j);
  free(text);
  return v;
}

/* Replaces `_last_checkpoint` (temporary file, fsync, rename) unless it names a newer version. */
static int write_last_checkpoint(const char *table, const char *log_dir, int64_t version,
                                 int64_t rows, int64_t bytes, int64_t n_adds, tarn_error *err) {
  char text[256];
  int len = snprintf(text, sizeof text,
                     "{\"version\":%" PRId64 ",\"size\":%" PRId64 ",\"sizeInBytes\":%" PRId64
                     ",\"numOfAddFiles\":%" PRId64 "}\n",
                     version, rows, bytes, n_adds);
  char *final = tarn_path_join(log_dir, "_last_checkpoint");
  char *tmp = temp_path(log_dir, "_last_checkpoint");
  int rc = 0;
  if (final == NULL || tmp == NULL) rc = oom(err);
  int e = rc ? 0 : tarn_write_file_synced(tmp, text, (size_t)len);
  if (rc == 0) {
    /* a newer checkpoint's pointer stays (a race can still interleave; readers list anyway) */
    if (e)
      rc = tarn_err(err, TARN_EIO, "delta table %s: cannot write %s: %s", table, tmp, strerror(e));
    else if (last_checkpoint_version(final) > version)
      rc = 0;
    else if (rename(tmp, final) != 0)
      rc = tarn_err(err, TARN_EIO, "delta table %s: cannot rename %s into place: %s", table, tmp,
                    strerror(errno));
    else if (tarn_fsync_dir(log_dir) != 0)
      rc = tarn_err(err, TARN_EIO, "delta table %s: cannot sync %s: %s", table, log_dir,
                    strerror(errno));
    unlink(tmp); /* gone after a rename; removes it otherwise */
  }
  free(final);
  free(tmp);
  return rc;
}

/* ---- Writing -------------------------------------------------------------------------------- */

static int write_rows(ckpt *c, bool v2) {
  int rc = write_protocol(c);
  if (rc == 0) rc = write_metadata(c);
  if (rc == 0 && v2) rc = write_checkpoint_metadata(c);
  for (size_t i = 0; rc == 0 && i < c->s->n_txns; i++)
    rc = write_txn(c, i);
  for (size_t i = 0; rc == 0 && i < c->s->n_domains; i++)
    rc = write_domain(c, i);
  for (size_t i = 0; rc == 0 && i < c->s->n_files; i++)
    rc = write_add(c, &c->s->files[i]);
  for (size_t i = 0; rc == 0 && i < c->s->n_tombstones; i++)
    rc = write_remove(c, &c->s->tombstones[i]);
  if (rc == 0) rc = flush_batch(c);
  return rc;
}

int delta_checkpoint_write(const delta_snapshot *s, tarn_error *err) {
  int rc = check_writable(s, err);
  if (rc) return rc;
  bool v2 = s->min_writer_version == 7 && has_writer_feature(s, "v2Checkpoint");
  ckpt c;
  memset(&c, 0, sizeof c);
  c.s = s;
  c.err = err;
  c.with_stats = !config_is(s, "delta.checkpoint.writeStatsAsJson", "false");
  c.with_struct = config_is(s, "delta.checkpoint.writeStatsAsStruct", "true");

  char name[64];
  snprintf(name, sizeof name, "%020" PRId64 ".checkpoint.parquet", s->version);
  char *log_dir = tarn_path_join(s->table_dir, "_delta_log");
  char *final = log_dir ? tarn_path_join(log_dir, name) : NULL;
  char *tmp = log_dir ? temp_path(log_dir, name) : NULL;
  if (log_dir == NULL || final == NULL || tmp == NULL) rc = oom(err);
  if (rc == 0) rc = partition_keys(&c);
  if (rc == 0) rc = build_schema(&c, v2);
  if (rc == 0) {
    bc_export_schema(c.top);
    tarn_write_options o;
    memset(&o, 0, sizeof o);
    o.codec = TARN_CODEC_SNAPPY;
    o.codec_set = 1;
    /* the writer buffers a row group: with stats strings of a few KiB, this bounds it */
    o.row_group_rows = 32768;
    /* the writer writes beside tmp, fsyncs, renames onto tmp: still a hidden name */
    rc = tarn_parquet_writer_open(tmp, &c.top->sch, &o, &c.w, err);
  }
  if (rc == 0) rc = write_rows(&c, v2);
  tarn_written_file written;
  memset(&written, 0, sizeof written);
  if (rc == 0) {
    tarn_parquet_writer *w = c.w;
    c.w = NULL; /* close frees it, whatever happens */
    rc = tarn_parquet_writer_close(w, &written, err);
  }
  if (rc == 0 && rename(tmp, final) != 0)
    rc = tarn_err(err, TARN_EIO, "delta table %s: cannot rename the checkpoint into place: %s",
                  s->table_dir, strerror(errno));
  if (rc == 0 && tarn_fsync_dir(log_dir) != 0)
    rc = tarn_err(err, TARN_EIO, "delta table %s: cannot sync _delta_log: %s", s->table_dir,
                  strerror(errno));
  if (rc == 0)
    rc = write_last_checkpoint(s->table_dir, log_dir, s->version, c.rows, written.file_bytes,
                               c.n_adds, err);
  if (tmp) unlink(tmp); /* renamed away on success */
  tarn_written_file_free(&written);
  ckpt_free(&c);
  free(tmp);
  free(final);
  free(log_dir);
  return rc;
}

int64_t delta_checkpoint_interval(const delta_snapshot *s) {
  return delta_checkpoint_interval_value(delta_snapshot_config(s, "delta.checkpointInterval"));
}

int64_t delta_checkpoint_interval_value(const char *v) {
  if (v == NULL) return DELTA_CHECKPOINT_INTERVAL_DEFAULT;
  while (*v == ' ')
    v++;
  char *end;
  errno = 0;
  long long n = strtoll(v, &end, 10);
  while (end && *end == ' ')
    end++;
  if (errno != 0 || end == v || *end != 0 || n < 1 || n > INT32_MAX)
    return DELTA_CHECKPOINT_INTERVAL_DEFAULT;
  return (int64_t)n;
}

int delta_checkpoint_maybe(const char *table_dir, int64_t version, tarn_error *err) {
  if (version <= 0) return 0;
  char rel[96];
  snprintf(rel, sizeof rel, "_delta_log/%020" PRId64 ".checkpoint.parquet", version);
  char *path = tarn_path_join(table_dir, rel);
  if (path == NULL) return oom(err);
  struct stat st;
  bool exists = stat(path, &st) == 0;
  free(path);
  if (exists) return 0;
  delta_snapshot *s = NULL;
  int rc = delta_snapshot_load(table_dir, version, &s, err);
  if (rc) return rc;
  if (version % delta_checkpoint_interval(s) == 0) rc = delta_checkpoint_write(s, err);
  delta_snapshot_free(s);
  return rc;
}
