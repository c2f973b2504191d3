/*
 * Writer for the Thrift compact protocol (footers, page headers, page indexes).
 *
 * The writer appends to a tarn_buf and remembers the last field id of each open struct (field ids
 * are delta-encoded). Errors (only allocation failures) are sticky: the first one is kept in rc
 * and later calls do nothing, so a whole structure is written and checked once at the end.
 */
#ifndef TARN_PARQUET_THRIFT_WRITE_H
#define TARN_PARQUET_THRIFT_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "tarn.h"

#define THW_MAX_DEPTH 32

typedef struct thw {
  tarn_buf *out;
  tarn_error *err;
  int rc;
  int depth;
  int16_t last_id[THW_MAX_DEPTH];
} thw;

void thw_init(thw *w, tarn_buf *out, tarn_error *err);

/* A struct value (top level, or a list element of type TH_STRUCT): begin, fields, end. */
void thw_struct_begin(thw *w);
void thw_struct_end(thw *w);

/* Fields of the current struct. */
void thw_i8(thw *w, int16_t id, int8_t v);
void thw_i16(thw *w, int16_t id, int16_t v);
void thw_i32(thw *w, int16_t id, int32_t v);
void thw_i64(thw *w, int16_t id, int64_t v);
void thw_bool(thw *w, int16_t id, int v);
void thw_binary(thw *w, int16_t id, const void *p, size_t n);
void thw_string(thw *w, int16_t id, const char *s);
/* A struct-valued field: writes the header, then begins the nested struct. */
void thw_field_struct(thw *w, int16_t id);
/* A list-valued field of count elements of elem_type (enum th_type); elements follow with
 * thw_elem_* or thw_struct_begin/end. */
void thw_field_list(thw *w, int16_t id, int elem_type, uint32_t count);
void thw_elem_i32(thw *w, int32_t v);
void thw_elem_i64(thw *w, int64_t v);
void thw_elem_bool(thw *w, int v);
void thw_elem_binary(thw *w, const void *p, size_t n);

#endif
