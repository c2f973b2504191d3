/*
 * Reader for the Thrift compact protocol, the encoding of Parquet's footer and page headers.
 *
 * The reader walks a byte range with a cursor; every varint, string and container header is
 * checked against the bytes that remain before it is used, and container sizes against what
 * those bytes could possibly hold, so a malformed footer fails with TARN_ECORRUPT instead of
 * reading past the end or allocating on a lie. Nesting is limited (TH_MAX_DEPTH) so a hostile
 * input cannot recurse the stack away. Struct decoding is a loop over th_next_field; unknown
 * fields are skipped with th_skip, which is what makes newer writers' footers readable.
 */
#ifndef TARN_PARQUET_THRIFT_H
#define TARN_PARQUET_THRIFT_H

#include <stddef.h>
#include <stdint.h>

#include "tarn.h"

#define TH_MAX_DEPTH 64

enum th_type {
  TH_STOP = 0,
  TH_TRUE = 1,
  TH_FALSE = 2,
  TH_BYTE = 3,
  TH_I16 = 4,
  TH_I32 = 5,
  TH_I64 = 6,
  TH_DOUBLE = 7,
  TH_BINARY = 8,
  TH_LIST = 9,
  TH_SET = 10,
  TH_MAP = 11,
  TH_STRUCT = 12
};

/* Returned (positive) by a th_read_* call whose field had an unexpected wire type: the value was
 * skipped and the output left untouched. Struct decoders treat it as "field absent". */
#define TH_SKIPPED 2

typedef struct th_reader {
  const uint8_t *start;
  const uint8_t *pos;
  const uint8_t *end;
  int depth;
  tarn_error *err;
  const char *what; /* what is being decoded, for messages ("file footer", "page header") */
} th_reader;

/* Per-struct state: the previous field id (field ids are delta-encoded). */
typedef struct th_struct {
  int16_t last_id;
} th_struct;

void th_init(th_reader *r, const uint8_t *data, size_t len, const char *what, tarn_error *err);

/* Enters a struct (depth check). */
int th_struct_begin(th_reader *r, th_struct *s);
void th_struct_end(th_reader *r);

/* Reads the next field header. Returns 1 with the type and id of a field, 0 at the struct's STOP,
 * or a negative error. For boolean fields the value is in *type (TH_TRUE / TH_FALSE). */
int th_next_field(th_reader *r, th_struct *s, int *type, int16_t *id);

/* Scalars. Each checks that the field's wire type matches `type` (pass the type from
 * th_next_field) and fails cleanly otherwise. */
int th_read_i32(th_reader *r, int type, int32_t *out);
int th_read_i64(th_reader *r, int type, int64_t *out);
int th_read_bool(th_reader *r, int type, int *out);
int th_read_double(th_reader *r, int type, double *out);
/* A binary/string field: *out points into the input (borrowed, lives as long as the input). */
int th_read_binary(th_reader *r, int type, const uint8_t **out, uint32_t *len);

/* A list/set header: element type and count. The count is checked against the remaining bytes
 * (each element takes at least one byte, except booleans inside structs). */
int th_read_list(th_reader *r, int type, int *elem_type, uint32_t *count);

/* Reads one list element of a scalar kind (the element type comes from th_read_list). */
int th_read_elem_i32(th_reader *r, int elem_type, int32_t *out);
int th_read_elem_i64(th_reader *r, int elem_type, int64_t *out);
int th_read_elem_bool(th_reader *r, int elem_type, int *out);

/* Skips a value of the given wire type (recursively for containers and structs). */
int th_skip(th_reader *r, int type);

/* Fails with a message naming the field (used when a required field is missing or invalid). */
int th_fail(th_reader *r, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
