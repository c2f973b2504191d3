/*
 * A small JSON parser that keeps integers exact.
 *
 * cJSON stores every number as a double, which loses 64-bit identifiers above 2^53 (Iceberg
 * snapshot ids, Kafka offsets). This parser builds a DOM in an arena where an integer token that
 * fits in int64 is kept as an int64 (kind JX_INT) and every other number keeps only its source
 * text (kind JX_NUMBER: a fraction, an exponent, or an integer out of range). Every value also
 * records its 1-based source line and its exact source span, so a caller can report "line 3" and
 * keep a sub-document as JSON text.
 *
 * Input is untrusted: the grammar is RFC 8259 strictly (no comments, no trailing commas, no NaN),
 * nesting is limited to JX_MAX_DEPTH, and memory comes from the caller's arena (whose total cap
 * bounds what a hostile document can take). Strings are decoded (escapes, surrogate pairs to
 * UTF-8; a lone surrogate becomes U+FFFD) into NUL-terminated arena copies; a string holding
 * \u0000 is refused, so a decoded string never contains a NUL byte.
 */
#ifndef TARN_COMMON_JSON_EXACT_H
#define TARN_COMMON_JSON_EXACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "tarn.h"

#define JX_MAX_DEPTH 64

typedef enum jx_kind {
  JX_NULL,
  JX_FALSE,
  JX_TRUE,
  JX_INT,    /* an integer token that fits int64: i */
  JX_NUMBER, /* any other number: only its text (span) */
  JX_STRING, /* str, str_len */
  JX_ARRAY,  /* child list, n */
  JX_OBJECT  /* child list (each child has key), n */
} jx_kind;

typedef struct jx_value jx_value;
struct jx_value {
  jx_kind kind;
  int line;         /* 1-based line of the value's first byte */
  const char *span; /* the value's source text, span_len bytes (points into the parsed input) */
  size_t span_len;
  int64_t i;       /* JX_INT */
  const char *str; /* JX_STRING: decoded, NUL-terminated */
  size_t str_len;
  const char *key; /* a member of an object: its decoded name; NULL otherwise */
  jx_value *child; /* JX_ARRAY / JX_OBJECT: first element or member, in document order */
  jx_value *next;  /* next sibling */
  size_t n;        /* JX_ARRAY / JX_OBJECT: number of children */
};

/* Parses text[0..len) as one JSON value (whitespace around it allowed). On success *out is the
 * root, allocated in a; spans point into text, so text must outlive any use of span. Errors:
 * TARN_ECORRUPT with "line N: ..." (syntax, depth), TARN_ENOMEM (the arena refused). */
int jx_parse(const char *text, size_t len, tarn_arena *a, jx_value **out, tarn_error *err);

/* The member named key of obj, or NULL (obj not an object, or no such member). When a name
 * repeats, the last member wins (as Jackson and serde_json do). */
const jx_value *jx_get(const jx_value *obj, const char *key);

/* A name for kind, for messages ("a string", "an object", ...). */
const char *jx_kind_name(jx_kind kind);

#endif
