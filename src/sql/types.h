/*
 * SQL types: PostgreSQL's logical types and how the engine stores each one.
 *
 * The binder types every expression with one of these; the executor picks its kernels by the
 * physical form. To keep the number of kernels small, every integer width, date, time and
 * timestamp is stored as int64 (the logical type still decides overflow checks, casts and
 * output), float4 and float8 as double, decimals as a 128-bit integer scaled by 10^scale, text,
 * bytea and uuid as (pointer, length) views. Composite types (list, struct, map) point at their
 * element or field types; types are immutable once built, and composite ones live in the arena
 * of the query that made them.
 */
#ifndef TARN_SQL_TYPES_H
#define TARN_SQL_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "tarn.h"

typedef enum sql_type_id {
  SQL_NULL = 0,    /* the type of a bare NULL literal; casts implicitly to anything */
  SQL_BOOL,        /* physical: uint8_t 0/1 */
  SQL_INT2,        /* physical: int64_t, values kept in int16 range */
  SQL_INT4,        /* physical: int64_t, values kept in int32 range */
  SQL_INT8,        /* physical: int64_t */
  SQL_FLOAT4,      /* physical: double holding a float value */
  SQL_FLOAT8,      /* physical: double */
  SQL_DECIMAL,     /* physical: __int128, value * 10^scale; precision <= 38 */
  SQL_TEXT,        /* physical: sql_str (UTF-8) */
  SQL_BYTEA,       /* physical: sql_str */
  SQL_UUID,        /* physical: sql_str of exactly 16 bytes */
  SQL_DATE,        /* physical: int64_t days since 1970-01-01 */
  SQL_TIME,        /* physical: int64_t microseconds since midnight */
  SQL_TIMESTAMP,   /* physical: int64_t microseconds since the epoch, no time zone */
  SQL_TIMESTAMPTZ, /* physical: int64_t microseconds since the epoch, UTC */
  SQL_INTERVAL,    /* physical: sql_interval */
  SQL_LIST,        /* physical: offsets + child vector of `elem` */
  SQL_STRUCT,      /* physical: one child vector per field */
  SQL_MAP,         /* physical: offsets + child vector of struct<key, value> (`elem`) */
  SQL_TYPE_COUNT
} sql_type_id;

typedef enum sql_phys {
  SQL_PHYS_NONE = 0, /* SQL_NULL: no data buffer */
  SQL_PHYS_U8,
  SQL_PHYS_I64,
  SQL_PHYS_F64,
  SQL_PHYS_I128,
  SQL_PHYS_STR,
  SQL_PHYS_INTERVAL,
  SQL_PHYS_LIST,
  SQL_PHYS_STRUCT
} sql_phys;

typedef struct sql_type sql_type;

typedef struct sql_field {
  const char *name;
  const sql_type *type;
} sql_field;

struct sql_type {
  sql_type_id id;
  uint8_t precision;   /* SQL_DECIMAL: 1..38 */
  uint8_t scale;       /* SQL_DECIMAL: 0..precision */
  const sql_type *elem; /* SQL_LIST: element type; SQL_MAP: struct<key, value> */
  size_t n_fields;     /* SQL_STRUCT */
  const sql_field *fields;
};

typedef struct sql_str {
  const char *ptr;
  uint64_t len;
} sql_str;

typedef struct sql_interval {
  int32_t months;
  int32_t days;
  int64_t micros;
} sql_interval;

typedef __int128 sql_i128;

/* Shared immutable instances of the types without parameters (every id except DECIMAL, LIST,
 * STRUCT and MAP). Never NULL for those ids. */
const sql_type *sql_type_get(sql_type_id id);

/* Builders of composite types in arena a. NULL when out of memory or (decimal) precision/scale
 * out of range. sql_type_struct copies the field array (names and types stay borrowed). */
const sql_type *sql_type_decimal(tarn_arena *a, int precision, int scale);
const sql_type *sql_type_list(tarn_arena *a, const sql_type *elem);
const sql_type *sql_type_struct(tarn_arena *a, const sql_field *fields, size_t n_fields);
const sql_type *sql_type_map(tarn_arena *a, const sql_type *key, const sql_type *value);

/* The physical form of a type id. */
sql_phys sql_type_phys(sql_type_id id);

/* Deep structural equality. */
bool sql_type_equal(const sql_type *a, const sql_type *b);

/* PostgreSQL's name of the type ("integer", "bigint", "numeric(12,2)", "text", "integer[]",
 * "struct(a integer, b text)", "map(text, integer)") into buf (always NUL-terminated). */
void sql_type_name(const sql_type *t, char *buf, size_t cap);

/* Category helpers used by the binder. */
bool sql_type_is_integer(sql_type_id id); /* INT2, INT4, INT8 */
bool sql_type_is_numeric(sql_type_id id); /* integers, FLOAT4, FLOAT8, DECIMAL */
bool sql_type_is_temporal(sql_type_id id); /* DATE, TIME, TIMESTAMP, TIMESTAMPTZ, INTERVAL */

/* The common supertype of a and b under PostgreSQL's implicit-cast rules (int2 < int4 < int8 <
 * numeric < float4 < float8; decimal widening keeps enough integer digits and the larger scale,
 * capped at 38; date < timestamp < timestamptz; NULL joins with anything; text with an unknown
 * literal). NULL when there is none (e.g. integer and text). Result allocated in a when needed. */
const sql_type *sql_type_common(tarn_arena *a, const sql_type *x, const sql_type *y);

/* True when a value of type `from` converts to `to` implicitly (in assignment, comparison,
 * function arguments): NULL to anything, numeric widening, date to timestamp(tz), timestamp to
 * timestamptz, and same-kind composite types whose parts convert. */
bool sql_type_implicit(const sql_type *from, const sql_type *to);

/* The SQL type of an Arrow field (format string and metadata, e.g. "arrow.uuid"). Dictionary
 * arrays map to their value type. Errors: TARN_EUNSUPPORTED naming the format. */
int sql_type_from_arrow(tarn_arena *a, const struct ArrowSchema *field, const sql_type **out,
                        tarn_error *err);

/* Fills `field` (zeroed by the caller) with the Arrow form of t under `name`: b, s/c/l (int
 * widths), f/g, d:P,S, u, z, z + arrow.uuid (fixed w:16), tdD, ttu, tsu: / tsu:UTC, tin, +l,
 * +s, +m. The field owns its strings and children and has a release callback. */
int sql_type_to_arrow(const sql_type *t, const char *name, struct ArrowSchema *field,
                      tarn_error *err);

#endif
