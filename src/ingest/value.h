/*
 * Values shared by the CSV and JSON-lines readers: the type model (ing_field), schema text,
 * scalar parsers (numbers, dates, times, timestamps), UTF-8 checks, Arrow column builders with
 * row rollback, chunked (and gzip-decompressing) file input, and the common head of both
 * readers' stream state. See docs/internals/import.md.
 */
#ifndef TARN_INGEST_VALUE_H
#define TARN_INGEST_VALUE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/buf.h"
#include "tarn.h"

/* ======== Shared with jsonl.c ======== */

/* Largest record (CSV) or line (JSON) accepted; a longer one is a bad row. */
#define ING_MAX_RECORD ((size_t)64 << 20)
/* Most columns a file may have. */
#define ING_MAX_COLUMNS 100000
/* Deepest nesting of STRUCT / LIST types (JSON inference and schema text). */
#define ING_MAX_DEPTH 32

typedef enum ing_type {
  ING_VARCHAR = 0,
  ING_BOOLEAN,
  ING_TINYINT,
  ING_SMALLINT,
  ING_INTEGER,
  ING_BIGINT,
  ING_FLOAT,
  ING_DOUBLE,
  ING_DECIMAL,
  ING_DATE,
  ING_TIME,
  ING_TIMESTAMP,
  ING_TIMESTAMPTZ,
  ING_STRUCT,
  ING_LIST
} ing_type;

/* A column or nested field. STRUCT has its fields as children, LIST one child (the element). */
typedef struct ing_field {
  char *name;
  char *key; /* JSON: the key this field is read from when it differs from name, else NULL */
  ing_type type;
  int precision, scale; /* DECIMAL */
  int json_text;        /* VARCHAR holding JSON text (a JSON value of mixed types) */
  int n_children;
  struct ing_field *children;
} ing_field;

/* Frees what f owns (name, children), not f itself. NULL is a no-op. */
void ing_field_clear(ing_field *f);
/* Frees an array of n fields made by ing_schema_parse or by the readers. */
void ing_fields_free(ing_field *fields, int n);

/* The SQL name of a type ("BIGINT", "DECIMAL(10,2)", "STRUCT(a BIGINT)", "BIGINT[]") into buf. */
const char *ing_type_name(const ing_field *f, char *buf, size_t cap);

/* Parses "name TYPE, name TYPE, ..." (types as in ing_csv_options; STRUCT(name TYPE, ...) and
 * TYPE[] nest; names may be double-quoted). *fields (malloc'd array of *n fields) is the
 * caller's, freed with ing_fields_free. TARN_EINVAL with the offending text on a syntax error. */
int ing_schema_parse(const char *text, ing_field **fields, int *n, tarn_error *err);

/* Exports f as an Arrow schema node (nullable). *out is the caller's. */
int ing_field_to_arrow(const ing_field *f, struct ArrowSchema *out, tarn_error *err);
/* A struct schema ("+s", unnamed) whose children are the n fields. */
int ing_fields_to_arrow(const ing_field *fields, int n, struct ArrowSchema *out, tarn_error *err);

/* Makes column names unique the way DuckDB does: an empty name at position i becomes "column<i>",
 * a name equal (ignoring case) to an earlier one gets "_1", "_2", ... appended. names[i] are
 * malloc'd strings that may be replaced. */
int ing_names_dedupe(char **names, int n, tarn_error *err);

/* ---- Scalars: text to values. Each returns 1 when s[0..n) is a value of the type, else 0.
 * Spaces around numbers, dates and times are ignored. `strict` is inference mode (DuckDB's
 * sniffer): no leading '+', no leading zeros ("007" stays text). ---- */
/* true/false/t/f/yes/no in any case; outside strict mode also 1/0. Spaces are not ignored. */
int ing_parse_bool(const char *s, size_t n, int strict, int *out);
int ing_parse_int64(const char *s, size_t n, int strict, int64_t *out);
int ing_parse_double(const char *s, size_t n, int strict, double *out);
/* A decimal of the given precision and scale (rounded half away from zero to scale digits). */
int ing_parse_decimal(const char *s, size_t n, int precision, int scale, __int128 *out);
/* YYYY-MM-DD (month and day may have one digit) to days since 1970-01-01. */
int ing_parse_date(const char *s, size_t n, int32_t *days);
/* H:MM[:SS[.fraction]] to microseconds since midnight (fraction digits past 6 are dropped). */
int ing_parse_time(const char *s, size_t n, int64_t *micros);

/* Shape bits of a timestamp's text, for JSON's rule that a column's values share one format. */
enum {
  ING_TS_T = 1,        /* 'T' between date and time (else spaces) */
  ING_TS_SECONDS = 2,  /* seconds present */
  ING_TS_FRACTION = 4, /* a fraction of a second present */
  ING_TS_ZULU = 8,     /* 'Z' suffix */
  ING_TS_OFFSET = 16   /* +HH[:MM] / -HH[:MM] suffix */
};
/* DATE then 'T' or spaces then H:MM[:SS[.fraction]], then optionally Z or an offset (the value
 * is then converted to UTC). Microseconds since the epoch; *shape gets the ING_TS_* bits. */
int ing_parse_timestamp(const char *s, size_t n, int64_t *micros, int *shape);

/* 1 when s[0..n) is valid UTF-8. */
int ing_utf8_valid(const uint8_t *s, size_t n);

/* "an" before a word starting with a vowel ("an INTEGER"), else "a". */
const char *ing_article(const char *word);

/* Copies at most 40 bytes of s into buf as printable text for an error message. */
const char *ing_quote_value(const char *s, size_t n, char *buf, size_t cap);

/* ---- Column builders: Arrow buffers grown row by row ---- */

typedef struct ing_builder {
  const ing_field *field; /* borrowed: must outlive the builder */
  tarn_buf validity;      /* one bit per slot */
  tarn_buf values;        /* fixed-width values, boolean bits, or string bytes */
  tarn_buf offsets;       /* int32 offsets of strings and lists (length+1 entries) */
  int64_t length, null_count;
  int n_children;
  struct ing_builder *children;
  /* state saved by ing_builder_mark for ing_builder_rollback */
  int64_t mark_length, mark_nulls;
  size_t mark_values;
} ing_builder;

int ing_builder_init(ing_builder *b, const ing_field *f, tarn_error *err);
void ing_builder_free(ing_builder *b);
/* Appends a null (for a struct: a null in every child too). */
int ing_builder_null(ing_builder *b, tarn_error *err);
/* Appends a valid slot whose value was appended to the children (STRUCT: every child got one
 * value; LIST: the elements were appended to the child since the last slot). */
int ing_builder_nested(ing_builder *b, tarn_error *err);
/* Appends a value of the builder's type: width bytes for fixed-width types. */
int ing_builder_fixed(ing_builder *b, const void *value, size_t width, tarn_error *err);
int ing_builder_bool(ing_builder *b, int value, tarn_error *err);
int ing_builder_string(ing_builder *b, const char *s, size_t n, tarn_error *err);
/* Bytes held (to end a batch early before string offsets could overflow). */
size_t ing_builder_bytes(const ing_builder *b);
/* Remembers the current length of b and its descendants; rollback returns to it (a bad row
 * half appended is taken back). */
void ing_builder_mark(ing_builder *b);
void ing_builder_rollback(ing_builder *b);
/* Moves the values appended so far into *out (an owned Arrow array) and empties the builder. */
int ing_builder_finish(ing_builder *b, struct ArrowArray *out, tarn_error *err);

/* ---- Input files: read in chunks; a gzip file (found by its magic bytes, whatever its name)
 * is decompressed on the fly, concatenated members included ---- */

typedef struct ing_input {
  int fd; /* -1: no file (the reader reads memory) */
  int started, gzip, raw_eof, done;
  int64_t delivered; /* bytes handed out so far */
  void *z;           /* z_stream */
  uint8_t *raw;      /* compressed bytes */
} ing_input;

/* Opens path. TARN_EIO with a message naming it on failure. */
int ing_input_open(ing_input *in, const char *path, tarn_error *err);
/* Reads up to cap bytes into buf: returns the count, 0 at the end, <0 (TARN_EIO, TARN_ECORRUPT
 * for a damaged gzip stream) on error. */
int64_t ing_input_read(ing_input *in, const char *name, uint8_t *buf, size_t cap, tarn_error *err);
/* Refills the unread range [*p, *e) with the next chunk[0..cap) of the file, skipping a UTF-8
 * byte order mark at its very start; sets *eof at the end (at once when there is no file).
 * Returns 0 or the negative code of ing_input_read. */
int ing_input_fill(ing_input *in, const char *name, uint8_t *chunk, size_t cap, const uint8_t **p,
                   const uint8_t **e, int *eof, tarn_error *err);
/* Closes the file. A zeroed ing_input with fd -1, or one already closed, is a no-op. */
void ing_input_close(ing_input *in);

/* ---- Streams: the private data of CSV and JSON-lines streams starts with this ---- */

#define ING_STREAM_MAGIC 0x74696e67u

typedef struct ing_stream_base {
  uint32_t magic;
  int code;          /* tarn code of the last failure (0 if none) */
  char message[512]; /* its message */
  int64_t bad_rows;  /* rows skipped */
} ing_stream_base;

/* Records a failure in base (from err) and returns the errno value get_next should return. */
int ing_stream_fail(ing_stream_base *base, const tarn_error *err);
/* The errno value a stream's get_next returns for a tarn code (EIO, ENOMEM, else EINVAL). */
int ing_errno(int code);

/* Helpers the two readers share: the out-of-memory error, an Arrow value width, and a buffer
 * append whose common case (room left) is inlined. */
int ing_nomem(tarn_error *err);
size_t ing_type_width(ing_type t);
/* Appends n bytes, inline when they fit. */
static inline int ing_buf_add(tarn_buf *b, const void *p, size_t n, tarn_error *err) {
  if (n == 0) return 0;
  if (n <= b->cap - b->len) {
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
  }
  return tarn_buf_append(b, p, n, err);
}

#endif
