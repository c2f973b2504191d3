#include "parquet/thrift_write.h"

#include <string.h>

#include "common/error.h"
#include "parquet/thrift.h"

void thw_init(thw *w, tarn_buf *out, tarn_error *err) {
  memset(w, 0, sizeof *w);
  w->out = out;
  w->err = err;
}

static void put(thw *w, const void *p, size_t n) {
  if (w->rc == 0) w->rc = tarn_buf_append(w->out, p, n, w->err);
}

static void put_byte(thw *w, uint8_t b) { put(w, &b, 1); }

static void put_varint(thw *w, uint64_t v) {
  uint8_t b[10];
  size_t n = 0;
  while (v >= 0x80) {
    b[n++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  b[n++] = (uint8_t)v;
  put(w, b, n);
}

static uint64_t zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }

static void field_header(thw *w, int16_t id, int type) {
  int16_t *last = &w->last_id[w->depth];
  int delta = id - *last;
  if (delta > 0 && delta <= 15) {
    put_byte(w, (uint8_t)(delta << 4 | type));
  } else {
    put_byte(w, (uint8_t)type);
    put_varint(w, zigzag(id));
  }
  *last = id;
}

void thw_struct_begin(thw *w) {
  if (w->depth + 1 >= THW_MAX_DEPTH) {
    if (w->rc == 0) w->rc = tarn_err(w->err, TARN_EINVAL, "thrift writer: nesting too deep");
    return;
  }
  w->last_id[++w->depth] = 0;
}

void thw_struct_end(thw *w) {
  put_byte(w, TH_STOP);
  if (w->depth > 0) w->depth--;
}

void thw_i8(thw *w, int16_t id, int8_t v) {
  field_header(w, id, TH_BYTE);
  put_byte(w, (uint8_t)v);
}

void thw_i16(thw *w, int16_t id, int16_t v) {
  field_header(w, id, TH_I16);
  put_varint(w, zigzag(v));
}

void thw_i32(thw *w, int16_t id, int32_t v) {
  field_header(w, id, TH_I32);
  put_varint(w, zigzag(v));
}

void thw_i64(thw *w, int16_t id, int64_t v) {
  field_header(w, id, TH_I64);
  put_varint(w, zigzag(v));
}

void thw_bool(thw *w, int16_t id, int v) { field_header(w, id, v ? TH_TRUE : TH_FALSE); }

void thw_binary(thw *w, int16_t id, const void *p, size_t n) {
  field_header(w, id, TH_BINARY);
  put_varint(w, n);
  put(w, p, n);
}

void thw_string(thw *w, int16_t id, const char *s) { thw_binary(w, id, s, strlen(s)); }

void thw_field_struct(thw *w, int16_t id) {
  field_header(w, id, TH_STRUCT);
  thw_struct_begin(w);
}

void thw_field_list(thw *w, int16_t id, int elem_type, uint32_t count) {
  field_header(w, id, TH_LIST);
  if (count < 15) {
    put_byte(w, (uint8_t)(count << 4 | (uint32_t)elem_type));
  } else {
    put_byte(w, (uint8_t)(0xf0 | elem_type));
    put_varint(w, count);
  }
}

void thw_elem_i32(thw *w, int32_t v) { put_varint(w, zigzag(v)); }
void thw_elem_i64(thw *w, int64_t v) { put_varint(w, zigzag(v)); }
void thw_elem_bool(thw *w, int v) { put_byte(w, v ? 1 : 2); }

void thw_elem_binary(thw *w, const void *p, size_t n) {
  put_varint(w, n);
  put(w, p, n);
}
