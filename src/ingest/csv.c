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
  return ing_buf_add(&r->bytes, p, n, err);
}

static int tok_end_field(csv_reader *r, tarn_error *err) {
  size_t n = r->fields.len / sizeof(csv_field);
  if (n >= ING_MAX_COLUMNS) {
    tok_error(r, "more than 100000 fields");
  } else {
    csv_field f = {r->field_start, r->bytes.len - r->field_start, r->field_quoted};
    int rc = ing_buf_add(&r->fields, &f, sizeof f, err);
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
  size_t w = ing_type_width(f->type);
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
  if (mask == NULL || seen == NULL) rc = ing_nomem(err);
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
      return ing_nomem(err);
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
      if (rc == 0 && names[c] == NULL) rc = ing_nomem(err);
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
    ing_nomem(err);
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
  rc = r->chunk ? csv_open_reader(r, opts, out, err) : ing_nomem(err);
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
