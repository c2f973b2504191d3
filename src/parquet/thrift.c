#include "parquet/thrift.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"

void th_init(th_reader *r, const uint8_t *data, size_t len, const char *what, tarn_error *err) {
  r->start = data;
  r->pos = data;
  r->end = data + len;
  r->depth = 0;
  r->err = err;
  r->what = what;
}

int th_fail(th_reader *r, const char *fmt, ...) {
  char msg[300];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return tarn_err(r->err, TARN_ECORRUPT, "%s: %s at byte %zu", r->what, msg,
                  (size_t)(r->pos - r->start));
}

static int read_varint(th_reader *r, uint64_t *out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (r->pos >= r->end) return th_fail(r, "truncated varint");
    uint8_t b = *r->pos++;
    if (shift == 63 && (b & 0x7e)) return th_fail(r, "varint too long");
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *out = v;
      return 0;
    }
  }
  return th_fail(r, "varint too long");
}

static int64_t unzigzag(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

int th_struct_begin(th_reader *r, th_struct *s) {
  if (++r->depth > TH_MAX_DEPTH) return th_fail(r, "nesting deeper than %d", TH_MAX_DEPTH);
  s->last_id = 0;
  return 0;
}

void th_struct_end(th_reader *r) { r->depth--; }

int th_next_field(th_reader *r, th_struct *s, int *type, int16_t *id) {
  if (r->pos >= r->end) return th_fail(r, "truncated struct");
  uint8_t b = *r->pos++;
  if (b == 0) return 0;
  int t = b & 0x0f;
  int delta = b >> 4;
  if (t > TH_STRUCT) return th_fail(r, "invalid field type %d", t);
  if (delta) {
    int v = s->last_id + delta;
    if (v > INT16_MAX) return th_fail(r, "field id overflow");
    *id = (int16_t)v;
  } else {
    uint64_t v = 0;
    int rc = read_varint(r, &v);
    if (rc) return rc;
    int64_t z = unzigzag(v);
    if (z < INT16_MIN || z > INT16_MAX) return th_fail(r, "field id out of range");
    *id = (int16_t)z;
  }
  s->last_id = *id;
  *type = t;
  return 1;
}

/* A field whose wire type differs from the one the schema gives is skipped, as Thrift's own
 * generated readers do: the value is consumed and the caller gets TH_SKIPPED. */
static int expect(th_reader *r, int type, int want, const char *name) {
  (void)name;
  if (type == want) return 0;
  int rc = th_skip(r, type);
  return rc ? rc : TH_SKIPPED;
}

static int read_int(th_reader *r, int64_t *out) {
  uint64_t v = 0;
  int rc = read_varint(r, &v);
  if (rc) return rc;
  *out = unzigzag(v);
  return 0;
}

int th_read_i32(th_reader *r, int type, int32_t *out) {
  int64_t v = 0;
  int rc;
  if (type == TH_BYTE) {
    if (r->pos >= r->end) return th_fail(r, "truncated byte");
    *out = (int8_t)*r->pos++;
    return 0;
  }
  if (type != TH_I16 && type != TH_I32) return expect(r, type, TH_I32, "i32");

  if ((rc = read_int(r, &v))) return rc;
  if (v < INT32_MIN || v > INT32_MAX) return th_fail(r, "i32 out of range");
  *out = (int32_t)v;
  return 0;
}

int th_read_i64(th_reader *r, int type, int64_t *out) {
  if (type == TH_I16 || type == TH_I32 || type == TH_BYTE) {
    int32_t v;
    int rc = th_read_i32(r, type, &v);
    *out = v;
    return rc;
  }
  int rc = expect(r, type, TH_I64, "i64");
  if (rc) return rc;
  return read_int(r, out);
}

int th_read_bool(th_reader *r, int type, int *out) {
  if (type == TH_TRUE || type == TH_FALSE) {
    *out = type == TH_TRUE;
    return 0;
  }
  return expect(r, type, TH_TRUE, "bool");
}

int th_read_double(th_reader *r, int type, double *out) {
  int rc = expect(r, type, TH_DOUBLE, "double");
  if (rc) return rc;
  if (r->end - r->pos < 8) return th_fail(r, "truncated double");
  memcpy(out, r->pos, 8);
  r->pos += 8;
  return 0;
}

int th_read_binary(th_reader *r, int type, const uint8_t **out, uint32_t *len) {
  int rc = expect(r, type, TH_BINARY, "binary");
  if (rc) return rc;
  uint64_t n = 0;
  if ((rc = read_varint(r, &n))) return rc;
  if (n > (uint64_t)(r->end - r->pos))
    return th_fail(r, "binary of %llu bytes runs past the end", (unsigned long long)n);
  *out = r->pos;
  *len = (uint32_t)n;
  r->pos += n;
  return 0;
}

int th_read_list(th_reader *r, int type, int *elem_type, uint32_t *count) {
  if (type != TH_LIST && type != TH_SET) return expect(r, type, TH_LIST, "list");
  if (r->pos >= r->end) return th_fail(r, "truncated list header");
  uint8_t b = *r->pos++;
  uint64_t n = b >> 4;
  int rc;
  if (n == 15 && (rc = read_varint(r, &n))) return rc;
  *elem_type = b & 0x0f;
  if (*elem_type > TH_STRUCT || *elem_type == TH_STOP) {
    if (n != 0) return th_fail(r, "invalid list element type %d", *elem_type);
  }
  /* Every element needs at least one byte on the wire. */
  if (n > (uint64_t)(r->end - r->pos))
    return th_fail(r, "list of %llu elements cannot fit", (unsigned long long)n);
  *count = (uint32_t)n;
  return 0;
}

int th_read_elem_i32(th_reader *r, int elem_type, int32_t *out) {
  return th_read_i32(r, elem_type, out);
}

int th_read_elem_i64(th_reader *r, int elem_type, int64_t *out) {
  return th_read_i64(r, elem_type, out);
}

int th_read_elem_bool(th_reader *r, int elem_type, int *out) {
  /* In containers a boolean is one byte: 1 = true (some writers use 0 for false, others 2). */
  if (elem_type != TH_TRUE && elem_type != TH_FALSE) return expect(r, elem_type, TH_TRUE, "bool");
  if (r->pos >= r->end) return th_fail(r, "truncated bool");
  *out = *r->pos++ == 1;
  return 0;
}

int th_skip(th_reader *r, int type) {
  int rc = 0;
  int64_t i64;
  const uint8_t *p;
  uint32_t n;
  switch (type) {
  case TH_TRUE:
  case TH_FALSE: return 0;
  case TH_BYTE:
    if (r->pos >= r->end) return th_fail(r, "truncated byte");
    r->pos++;
    return 0;
  case TH_I16:
  case TH_I32:
  case TH_I64: return read_int(r, &i64);
  case TH_DOUBLE:
    if (r->end - r->pos < 8) return th_fail(r, "truncated double");
    r->pos += 8;
    return 0;
  case TH_BINARY: return th_read_binary(r, type, &p, &n);
  case TH_LIST:
  case TH_SET: {
    int et;
    if ((rc = th_read_list(r, type, &et, &n))) return rc;
    if (++r->depth > TH_MAX_DEPTH) return th_fail(r, "nesting deeper than %d", TH_MAX_DEPTH);
    for (uint32_t i = 0; i < n && rc == 0; i++) {
      if (et == TH_TRUE || et == TH_FALSE) {
        if (r->pos >= r->end)
          rc = th_fail(r, "truncated bool");
        else
          r->pos++;
      } else {
        rc = th_skip(r, et);
      }
    }
    r->depth--;
    return rc;
  }
  case TH_MAP: {
    uint64_t count = 0;
    if ((rc = read_varint(r, &count))) return rc;
    if (count == 0) return 0;
    if (count > (uint64_t)(r->end - r->pos)) return th_fail(r, "map too large");
    if (r->pos >= r->end) return th_fail(r, "truncated map header");
    uint8_t kv = *r->pos++;
    int kt = kv >> 4, vt = kv & 0x0f;
    if (++r->depth > TH_MAX_DEPTH) return th_fail(r, "nesting deeper than %d", TH_MAX_DEPTH);
    for (uint64_t i = 0; i < count && rc == 0; i++) {
      rc = th_skip(r, kt);
      if (rc == 0) rc = th_skip(r, vt);
    }
    r->depth--;
    return rc;
  }
  case TH_STRUCT: {
    th_struct s;
    if ((rc = th_struct_begin(r, &s))) return rc;
    int t;
    int16_t id;
    while ((rc = th_next_field(r, &s, &t, &id)) == 1) {
      if ((rc = th_skip(r, t))) break;
    }
    th_struct_end(r);
    return rc;
  }
  default: return th_fail(r, "cannot skip wire type %d", type);
  }
}
