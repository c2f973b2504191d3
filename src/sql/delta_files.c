/*
 * Delta data files from SQL batches (see delta_files.h).
 */
#include "sql/delta_files.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "columnar/arrow.h"
#include "common/buf.h"
#include "common/error.h"
#include "sql/expr.h"
#include "sql/expr_impl.h"
#include "sql/types.h"

#define STATS_MAX_COLUMNS 32 /* delta.dataSkippingNumIndexedCols' default */
#define STATS_STRING_CHARS 32
#define NULL_PARTITION "__HIVE_DEFAULT_PARTITION__"

/* Running statistics of one column of one file. */
typedef struct col_stats {
  int64_t nulls;
  bool has;    /* min/max hold a value */
  bool no_max; /* a string too long for an exact maximum, or a NaN: keep no maximum */
  bool no_min;
  sql_value min, max;
  char *min_str, *max_str; /* owned copies of string extremes */
} col_stats;

/* One output file: one partition's rows. */
typedef struct part_file {
  char *key;       /* the partition values joined, to find the file of a row */
  char **values;   /* per partition column: Delta's text, or NULL */
  char *rel_path;  /* relative to the table, as the file system names it */
  char *full_path; /* table_dir/rel_path */
  tarn_parquet_writer *pw;
  int64_t rows;
  col_stats *stats; /* per data column */
} part_file;

struct sql_delta_writer {
  char *table_dir;
  sql_delta_layout l;
  size_t n_data;             /* columns stored in the files */
  size_t *data_cols;         /* their table columns */
  bool *is_part;             /* per table column */
  struct ArrowSchema schema; /* of the data columns */
  part_file *parts;
  size_t n_parts, cap_parts;
  int64_t rows;
  size_t files_added; /* by finish */
  int64_t bytes_added;
};

static int oom(tarn_error *err) { return tarn_err(err, TARN_ENOMEM, "out of memory"); }

/* --- Partition values ------------------------------------------------------------------------ */

static void format_micros(int64_t us, bool zone, int digits, char *buf, size_t cap) {
  int64_t days = us / 86400000000LL, rem = us % 86400000000LL;
  if (rem < 0) {
    rem += 86400000000LL;
    days--;
  }
  int64_t y;
  int m, d;
  sql_ymd_from_days(days, &y, &m, &d);
  int64_t secs = rem / 1000000, frac = rem % 1000000;
  int n = snprintf(buf, cap, "%04lld-%02d-%02d%c%02d:%02d:%02d", (long long)y, m, d,
                   digits == 3 ? 'T' : ' ', (int)(secs / 3600), (int)(secs / 60 % 60),
                   (int)(secs % 60));
  if (n < 0 || (size_t)n >= cap) return;
  if (digits == 3)
    n += snprintf(buf + n, cap - (size_t)n, ".%03d", (int)(frac / 1000));
  else
    n += snprintf(buf + n, cap - (size_t)n, ".%06d", (int)frac);
  if (zone && (size_t)n < cap) snprintf(buf + n, cap - (size_t)n, "Z");
}

static bool partition_text(const sql_value *v, tarn_buf *out) {
  char tmp[128];
  switch (v->type->id) {
  case SQL_BOOL: snprintf(tmp, sizeof tmp, "%s", v->u.b ? "true" : "false"); break;
  case SQL_DATE: {
    int64_t y;
    int m, d;
    sql_ymd_from_days(v->u.i64, &y, &m, &d);
    snprintf(tmp, sizeof tmp, "%04lld-%02d-%02d", (long long)y, m, d);
    break;
  }
  case SQL_TIMESTAMP:
  case SQL_TIMESTAMPTZ: format_micros(v->u.i64, false, 6, tmp, sizeof tmp); break;
  case SQL_TEXT:
  case SQL_BYTEA: return tarn_buf_append(out, v->u.str.ptr, v->u.str.len, NULL) == 0;
  default: sql_value_text(v, tmp, sizeof tmp); break;
  }
  return tarn_buf_puts(out, tmp, NULL) == 0;
}

/* Hive-style escaping for a directory name: anything but letters, digits and "._-" as %XX. */
static int escape_into(tarn_buf *out, const char *s, size_t len) {
  static const char hex[] = "0123456789ABCDEF";
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-';
    char e[3] = {'%', hex[c >> 4], hex[c & 15]};
    if (tarn_buf_append(out, plain ? (const char *)&s[i] : e, plain ? 1 : 3, NULL)) return -1;
  }
  return 0;
}

/* --- Statistics ------------------------------------------------------------------------------ */

static bool stats_type(const sql_type *t) {
  switch (t->id) {
  case SQL_INT2:
  case SQL_INT4:
  case SQL_INT8:
  case SQL_FLOAT4:
  case SQL_FLOAT8:
  case SQL_DECIMAL:
  case SQL_DATE:
  case SQL_TIMESTAMP:
  case SQL_TIMESTAMPTZ:
  case SQL_TEXT: return true;
  default: return false;
  }
}

static void keep_str(char **slot, sql_value *v) {
  char *copy = malloc(v->u.str.len + 1);
  free(*slot);
  *slot = copy;
  if (copy == NULL) {
    v->u.str.len = 0;
    v->u.str.ptr = "";
    return;
  }
  memcpy(copy, v->u.str.ptr, v->u.str.len);
  copy[v->u.str.len] = 0;
  v->u.str.ptr = copy;
}

/* Whether row a of v orders before row b (both non-NULL): typed for the fixed-width forms,
 * sql_value_compare for the rest. */
static bool row_less(const sql_vec *v, sql_phys ph, uint32_t a, uint32_t b) {
  if (ph == SQL_PHYS_I64) return SQL_VEC_I64(v)[a] < SQL_VEC_I64(v)[b];
  if (ph == SQL_PHYS_F64) return SQL_VEC_F64(v)[a] < SQL_VEC_F64(v)[b];
  sql_value x, y;
  sql_vec_get(v, a, &x);
  sql_vec_get(v, b, &y);
  return sql_value_compare(&x, &y) < 0;
}

/* Adds the n rows of v to the running statistics: the batch's extremes are found first (rows of
 * the batch), then folded in, so a string is copied at most twice per batch. */
static void update_stats(col_stats *cs, const sql_vec *v, uint32_t n) {
  bool want = stats_type(v->type);
  bool is_float = v->type->id == SQL_FLOAT4 || v->type->id == SQL_FLOAT8;
  sql_phys ph = sql_type_phys(v->type->id);
  uint32_t lo = UINT32_MAX, hi = UINT32_MAX;
  for (uint32_t i = 0; i < n; i++) {
    if (SQL_VEC_IS_NULL(v, i)) {
      cs->nulls++;
      continue;
    }
    if (!want) continue;
    if (is_float && isnan(SQL_VEC_F64(v)[i])) {
      cs->no_min = cs->no_max = true; /* NaN orders last in SQL but not in Delta's readers */
      continue;
    }
    if (lo == UINT32_MAX) {
      lo = hi = i;
      continue;
    }
    if (row_less(v, ph, i, lo)) lo = i;
    if (row_less(v, ph, hi, i)) hi = i;
  }
  if (lo == UINT32_MAX) return;
  sql_value x;
  sql_vec_get(v, lo, &x);
  if (!cs->has || sql_value_compare(&x, &cs->min) < 0) {
    cs->min = x;
    if (x.type->id == SQL_TEXT) keep_str(&cs->min_str, &cs->min);
  }
  sql_vec_get(v, hi, &x);
  if (!cs->has || sql_value_compare(&x, &cs->max) > 0) {
    cs->max = x;
    if (x.type->id == SQL_TEXT) keep_str(&cs->max_str, &cs->max);
  }
  cs->has = true;
}

/* The bytes of the first n UTF-8 characters of s (all of it when shorter). */
static size_t utf8_prefix(const char *s, size_t len, size_t n, bool *cut) {
  size_t i = 0, chars = 0;
  while (i < len && chars < n) {
    i++;
    while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
      i++;
    chars++;
  }
  *cut = i < len;
  return i;
}

/* v as a JSON statistics value; NULL when it has none (a string maximum that would be cut). */
static cJSON *stat_json(const sql_value *v, bool is_max) {
  char buf[128];
  switch (v->type->id) {
  case SQL_INT2:
  case SQL_INT4:
  case SQL_INT8: return cJSON_CreateNumber((double)v->u.i64);
  case SQL_FLOAT4:
  case SQL_FLOAT8: return isfinite(v->u.f64) ? cJSON_CreateNumber(v->u.f64) : NULL;
  case SQL_DECIMAL: sql_value_text(v, buf, sizeof buf); return cJSON_CreateRaw(buf);
  case SQL_DATE: {
    int64_t y;
    int m, d;
    sql_ymd_from_days(v->u.i64, &y, &m, &d);
    snprintf(buf, sizeof buf, "%04lld-%02d-%02d", (long long)y, m, d);
    return cJSON_CreateString(buf);
  }
  case SQL_TIMESTAMP:
  case SQL_TIMESTAMPTZ: {
    /* Milliseconds: a minimum rounds down and a maximum up, so both still bound the values. */
    int64_t us = v->u.i64, ms = us / 1000 - (us % 1000 < 0);
    if (is_max && ms * 1000 != us) ms++;
    format_micros(ms * 1000, v->type->id == SQL_TIMESTAMPTZ, 3, buf, sizeof buf);
    return cJSON_CreateString(buf);
  }
  case SQL_TEXT: {
    bool cut;
    size_t n = utf8_prefix(v->u.str.ptr, v->u.str.len, STATS_STRING_CHARS, &cut);
    if (cut && is_max) return NULL;
    char *s = malloc(n + 1);
    if (s == NULL) return NULL;
    memcpy(s, v->u.str.ptr, n);
    s[n] = 0;
    cJSON *r = cJSON_CreateString(s);
    free(s);
    return r;
  }
  default: return NULL;
  }
}

static char *stats_text(const sql_delta_writer *w, const part_file *p) {
  cJSON *root = cJSON_CreateObject();
  cJSON *mins = cJSON_CreateObject(), *maxs = cJSON_CreateObject(), *nulls = cJSON_CreateObject();
  bool ok = root && mins && maxs && nulls &&
            cJSON_AddNumberToObject(root, "numRecords", (double)p->rows) != NULL;
  size_t indexed = 0;
  for (size_t k = 0; ok && k < w->n_data; k++) {
    size_t c = w->data_cols[k];
    const sql_type *t = w->l.types[c];
    if (t->id == SQL_LIST || t->id == SQL_MAP || t->id == SQL_STRUCT) continue;
    if (indexed++ >= STATS_MAX_COLUMNS) break;
    const col_stats *cs = &p->stats[k];
    const char *name = w->l.file_names[c];
    ok = cJSON_AddNumberToObject(nulls, name, (double)cs->nulls) != NULL;
    if (!ok || !cs->has) continue;
    cJSON *lo = cs->no_min ? NULL : stat_json(&cs->min, false);
    cJSON *hi = cs->no_max ? NULL : stat_json(&cs->max, true);
    if (lo) cJSON_AddItemToObject(mins, name, lo);
    if (hi) cJSON_AddItemToObject(maxs, name, hi);
  }
  if (ok) {
    cJSON_AddItemToObject(root, "minValues", mins);
    cJSON_AddItemToObject(root, "maxValues", maxs);
    cJSON_AddItemToObject(root, "nullCount", nulls);
    mins = maxs = nulls = NULL;
  }
  char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
  cJSON_Delete(root);
  cJSON_Delete(mins);
  cJSON_Delete(maxs);
  cJSON_Delete(nulls);
  return text;
}

/* --- The writer ------------------------------------------------------------------------------ */

int sql_delta_writer_open(const char *table_dir, const sql_delta_layout *l, sql_delta_writer **out,
                          tarn_error *err) {
  *out = NULL;
  sql_delta_writer *w = calloc(1, sizeof *w);
  if (w == NULL) return oom(err);
  w->l = *l;
  w->table_dir = strdup(table_dir);
  w->data_cols = calloc(l->n_cols + 1, sizeof *w->data_cols);
  w->is_part = calloc(l->n_cols + 1, sizeof *w->is_part);
  if (!w->table_dir || !w->data_cols || !w->is_part) {
    sql_delta_writer_free(w, false);
    return oom(err);
  }
  for (size_t p = 0; p < l->n_parts; p++)
    w->is_part[l->part_cols[p]] = true;
  for (size_t c = 0; c < l->n_cols; c++)
    if (!w->is_part[c]) w->data_cols[w->n_data++] = c;
  int rc = col_schema_init(&w->schema, "+s", "", 0, (int64_t)w->n_data, NULL, 0, err);
  for (size_t k = 0; rc == 0 && k < w->n_data; k++)
    rc = sql_type_to_arrow(l->types[w->data_cols[k]], l->file_names[w->data_cols[k]],
                           w->schema.children[k], err);
  if (rc) {
    sql_delta_writer_free(w, false);
    return rc;
  }
  *out = w;
  return 0;
}

static void free_values(char **values, size_t n) {
  for (size_t k = 0; values && k < n; k++)
    free(values[k]);
  free(values);
}

/* A new output file for the partition values (Delta's text, NULL for null; the part takes them
 * over, also on failure) whose routing key is key. */
static int new_part(sql_delta_writer *w, const char *key, char **values, part_file **out,
                    tarn_error *err) {
  if (w->n_parts == w->cap_parts) {
    size_t cap = w->cap_parts ? w->cap_parts * 2 : 4;
    part_file *np = realloc(w->parts, cap * sizeof *np);
    if (np == NULL) {
      free_values(values, w->l.n_parts);
      return oom(err);
    }
    w->parts = np;
    w->cap_parts = cap;
  }
  part_file *p = &w->parts[w->n_parts];
  memset(p, 0, sizeof *p);
  p->key = strdup(key);
  p->values = values;
  p->stats = calloc(w->n_data + 1, sizeof *p->stats);
  if (p->key == NULL || p->stats == NULL) {
    free(p->key);
    free(p->stats);
    free_values(values, w->l.n_parts);
    return oom(err);
  }
  w->n_parts++;
  /* The directory: col=value/... per partition column (under _change_data/ for change data). */
  tarn_buf dir = {0};
  int rc = w->l.cdc && tarn_buf_puts(&dir, "_change_data/", NULL) ? oom(err) : 0;
  for (size_t k = 0; rc == 0 && k < w->l.n_parts; k++) {
    const char *name = w->l.file_names[w->l.part_cols[k]];
    const char *v = values[k] ? values[k] : NULL_PARTITION;
    if (escape_into(&dir, name, strlen(name)) || tarn_buf_puts(&dir, "=", NULL) ||
        (values[k] ? escape_into(&dir, v, strlen(v)) : tarn_buf_puts(&dir, v, NULL)) ||
        tarn_buf_puts(&dir, "/", NULL))
      rc = oom(err);
  }
  uint8_t id[16];
  if (rc == 0 && getentropy(id, sizeof id) != 0)
    rc = tarn_err(err, TARN_EIO, "no randomness for a file name: %s", strerror(errno));
  if (rc == 0)
    rc = tarn_buf_printf(&dir, err,
                         "%s-00000-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%"
                         "02x%02x-c000.parquet",
                         w->l.cdc ? "cdc" : "part", id[0], id[1], id[2], id[3], id[4], id[5], id[6],
                         id[7], id[8], id[9], id[10], id[11], id[12], id[13], id[14], id[15]);
  if (rc == 0 && tarn_buf_append(&dir, "", 1, err)) rc = TARN_ENOMEM;
  if (rc) {
    tarn_buf_free(&dir);
    return rc;
  }
  p->rel_path = (char *)tarn_buf_steal(&dir);
  size_t cap = strlen(w->table_dir) + strlen(p->rel_path) + 2;
  p->full_path = malloc(cap);
  if (p->full_path == NULL) return oom(err);
  snprintf(p->full_path, cap, "%s/%s", w->table_dir, p->rel_path);
  /* Make the partition directories. */
  for (char *s = strchr(p->full_path + strlen(w->table_dir) + 1, '/'); s; s = strchr(s + 1, '/')) {
    *s = 0;
    int r = mkdir(p->full_path, 0777);
    *s = '/';
    if (r != 0 && errno != EEXIST) {
      return tarn_err(err, TARN_EIO, "cannot create the directory of %s: %s", p->full_path,
                      strerror(errno));
    }
  }
  tarn_write_options wo;
  memset(&wo, 0, sizeof wo);
  rc = tarn_parquet_writer_open(p->full_path, &w->schema, &wo, &p->pw, err);
  if (rc == 0) *out = p;
  return rc;
}

/* Writes rows sel[0..n) of b (table columns) to part p. */
static int write_rows(sql_delta_writer *w, part_file *p, const sql_batch *b, const uint32_t *sel,
                      uint32_t n, tarn_error *err) {
  sql_batch *sub = NULL;
  int rc = 0;
  if (sel) {
    rc = sql_batch_select(b, sel, n, &sub, err);
    if (rc) return rc;
    b = sub;
  }
  for (size_t k = 0; k < w->n_data; k++)
    update_stats(&p->stats[k], &b->cols[w->data_cols[k]], n);
  sql_vec *cols = calloc(w->n_data + 1, sizeof *cols);
  if (cols == NULL) rc = oom(err);
  for (size_t k = 0; rc == 0 && k < w->n_data; k++)
    cols[k] = b->cols[w->data_cols[k]];
  if (rc == 0) {
    sql_batch view = {.n_rows = n, .n_cols = (uint32_t)w->n_data, .cols = cols, .mem = b->mem};
    struct ArrowArray arr;
    memset(&arr, 0, sizeof arr);
    rc = sql_batch_to_arrow(&view, &arr, err);
    if (rc == 0) rc = tarn_parquet_writer_write(p->pw, &arr, err);
    if (arr.release) arr.release(&arr);
  }
  free(cols);
  sql_batch_free(sub);
  if (rc == 0) {
    p->rows += n;
    w->rows += n;
  }
  return rc;
}

/* Whether rows a and b of the batch have the same partition values (NULL equal to NULL). */
static bool same_partition(const sql_delta_writer *w, const sql_batch *b, uint32_t a, uint32_t c) {
  for (size_t k = 0; k < w->l.n_parts; k++) {
    const sql_vec *v = &b->cols[w->l.part_cols[k]];
    bool na = SQL_VEC_IS_NULL(v, a), nc = SQL_VEC_IS_NULL(v, c);
    if (na || nc) {
      if (na != nc) return false;
      continue;
    }
    sql_value x, y;
    sql_vec_get(v, a, &x);
    sql_vec_get(v, c, &y);
    if (sql_value_compare(&x, &y) != 0) return false;
  }
  return true;
}

int sql_delta_writer_write(sql_delta_writer *w, const sql_batch *b, tarn_error *err) {
  if (b->n_rows == 0) return 0;
  if (b->n_cols != w->l.n_cols)
    return tarn_err(err, TARN_EINVAL, "delta writer: %u columns for a table of %zu", b->n_cols,
                    w->l.n_cols);
  for (size_t c = 0; w->l.not_null && c < w->l.n_cols; c++) {
    if (!w->l.not_null[c] || b->cols[c].nulls == NULL) continue;
    for (uint32_t i = 0; i < b->n_rows; i++)
      if (b->cols[c].nulls[i])
        return tarn_err(err, TARN_EINVAL,
                        "null value in column \"%s\" violates not-null constraint", w->l.names[c]);
  }
  if (w->l.n_parts == 0) {
    part_file *p = w->n_parts ? &w->parts[0] : NULL;
    if (p == NULL) {
      int rc = new_part(w, "", NULL, &p, err);
      if (rc) return rc;
    }
    return write_rows(w, p, b, NULL, b->n_rows, err);
  }
  /* Route each row by its partition values: key = the values' texts, \x01-separated, \x02 for
   * NULL. A row whose values equal the previous row's goes where it went (rows tend to come
   * grouped), without building its key. */
  uint32_t *part_of = malloc(b->n_rows * sizeof *part_of);
  uint32_t *sel = malloc(b->n_rows * sizeof *sel);
  size_t *start = NULL;
  tarn_buf key = {0};
  int rc = part_of && sel ? 0 : oom(err);
  for (uint32_t i = 0; rc == 0 && i < b->n_rows; i++) {
    if (i > 0 && same_partition(w, b, i - 1, i)) {
      part_of[i] = part_of[i - 1];
      continue;
    }
    key.len = 0;
    for (size_t k = 0; rc == 0 && k < w->l.n_parts; k++) {
      const sql_vec *v = &b->cols[w->l.part_cols[k]];
      sql_value x;
      sql_vec_get(v, i, &x);
      bool ok = SQL_VEC_IS_NULL(v, i) ? tarn_buf_append(&key, "\x02", 1, NULL) == 0
                                      : partition_text(&x, &key);
      if (!ok || tarn_buf_append(&key, "\x01", 1, NULL)) rc = oom(err);
    }
    if (rc == 0 && tarn_buf_append(&key, "", 1, err)) rc = TARN_ENOMEM;
    if (rc) break;
    size_t p = 0;
    while (p < w->n_parts && strcmp(w->parts[p].key, (const char *)key.data) != 0)
      p++;
    if (p == w->n_parts) {
      char **values = calloc(w->l.n_parts + 1, sizeof *values);
      if (values == NULL) {
        rc = oom(err);
        break;
      }
      const char *s = (const char *)key.data;
      for (size_t k = 0; k < w->l.n_parts; k++) {
        const char *end = strchr(s, '\x01');
        if (!(end - s == 1 && s[0] == '\x02')) values[k] = strndup(s, (size_t)(end - s));
        s = end + 1;
      }
      part_file *np;
      if ((rc = new_part(w, (const char *)key.data, values, &np, err))) break;
    }
    part_of[i] = (uint32_t)p;
  }
  /* The batch's rows grouped by file (a counting sort, batch order kept within a file). */
  if (rc == 0 && (start = calloc(w->n_parts + 1, sizeof *start)) == NULL) rc = oom(err);
  for (uint32_t i = 0; rc == 0 && i < b->n_rows; i++)
    start[part_of[i] + 1]++;
  for (size_t p = 0; rc == 0 && p < w->n_parts; p++)
    start[p + 1] += start[p];
  for (uint32_t i = 0; rc == 0 && i < b->n_rows; i++)
    sel[start[part_of[i]]++] = i;
  /* start[p] now ends part p's rows, which begin where part p - 1's end. */
  for (size_t p = 0, from = 0; rc == 0 && p < w->n_parts; from = start[p++]) {
    uint32_t n = (uint32_t)(start[p] - from);
    if (n) rc = write_rows(w, &w->parts[p], b, n == b->n_rows ? NULL : sel + from, n, err);
  }
  tarn_buf_free(&key);
  free(start);
  free(part_of);
  free(sel);
  return rc;
}

int sql_delta_writer_finish(sql_delta_writer *w, delta_txn *t, int64_t *rows, tarn_error *err) {
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < w->n_parts; i++) {
    part_file *p = &w->parts[i];
    rc = tarn_parquet_writer_close(p->pw, NULL, err);
    p->pw = NULL;
    if (rc) break;
    struct stat st;
    if (stat(p->full_path, &st) != 0) {
      rc = tarn_err(err, TARN_EIO, "%s: %s", p->full_path, strerror(errno));
      break;
    }
    char *stats = w->l.cdc ? NULL : stats_text(w, p);
    /* The log names files by URI: the only byte our names hold that needs escaping is '%'. */
    tarn_buf uri = {0};
    for (const char *s = p->rel_path; rc == 0 && *s; s++)
      rc = *s == '%' ? tarn_buf_puts(&uri, "%25", err) : tarn_buf_append(&uri, s, 1, err);
    if (rc == 0) rc = tarn_buf_append(&uri, "", 1, err);
    if (rc == 0 && stats == NULL && !w->l.cdc) rc = oom(err);
    if (rc == 0 && w->l.cdc)
      rc = delta_txn_add_cdc(t, (const char *)uri.data, (const char *const *)p->values,
                             (int64_t)st.st_size, err);
    else if (rc == 0)
      rc = delta_txn_add_file(
          t, (const char *)uri.data, (const char *const *)p->values, (int64_t)st.st_size,
          (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000, stats, err);
    if (rc == 0) {
      w->files_added++;
      w->bytes_added += (int64_t)st.st_size;
    }
    free(stats);
    tarn_buf_free(&uri);
  }
  *rows = w->rows;
  return rc;
}

void sql_delta_writer_written(const sql_delta_writer *w, size_t *n_files, int64_t *bytes) {
  *n_files = w ? w->files_added : 0;
  *bytes = w ? w->bytes_added : 0;
}

size_t sql_delta_writer_n_partitions(const sql_delta_writer *w) { return w ? w->n_parts : 0; }

const char *const *sql_delta_writer_partition(const sql_delta_writer *w, size_t i) {
  return (const char *const *)w->parts[i].values;
}

void sql_delta_writer_free(sql_delta_writer *w, bool remove_files) {
  if (w == NULL) return;
  for (size_t i = 0; i < w->n_parts; i++) {
    part_file *p = &w->parts[i];
    if (p->pw) tarn_parquet_writer_abort(p->pw);
    if (remove_files && p->full_path) unlink(p->full_path);
    free_values(p->values, w->l.n_parts);
    for (size_t k = 0; p->stats && k < w->n_data; k++) {
      free(p->stats[k].min_str);
      free(p->stats[k].max_str);
    }
    free(p->stats);
    free(p->key);
    free(p->rel_path);
    free(p->full_path);
  }
  free(w->parts);
  if (w->schema.release) w->schema.release(&w->schema);
  free(w->data_cols);
  free(w->is_part);
  free(w->table_dir);
  free(w);
}
