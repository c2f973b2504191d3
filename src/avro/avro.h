/*
 * Avro object container files, read from memory: the layer under Iceberg manifest lists and
 * manifests (and, later, Hudi log blocks).
 *
 * A container file is the magic "Obj\x01", a metadata map (avro.schema, avro.codec and the
 * writer's own keys such as Iceberg's "schema", "format-version", "content", "partition-spec"), a
 * 16-byte sync marker, then blocks of (record count, byte size, data, sync marker). The writer's
 * JSON schema is parsed by libavro (avro-c) and compiled into a small tree of our own; the
 * framing, the codecs (null, deflate, snappy, zstandard) and the binary encoding of the records
 * are decoded here, because every length in them comes from untrusted bytes and must be checked
 * against the bytes present before anything is allocated. Records come out as a generic value
 * tree (tarn_avro_value) whose nodes live in an arena owned by the file. Bad bytes never crash:
 * they give TARN_ECORRUPT with a message that names the block and what is wrong. Docs:
 * docs/internals/avro.md.
 */
#ifndef TARN_AVRO_AVRO_H
#define TARN_AVRO_AVRO_H

#include <stddef.h>
#include <stdint.h>

#include "tarn.h"

/* Caps on what an untrusted file may make us allocate. */
#define TARN_AVRO_MAX_BLOCK ((size_t)64 << 20) /* decompressed bytes of one block */
#define TARN_AVRO_MAX_DEPTH 64                 /* nesting of schemas and of values */

typedef struct tarn_avro_file tarn_avro_file;

typedef enum tarn_avro_kind {
  TARN_AVRO_NULL,
  TARN_AVRO_BOOLEAN,
  TARN_AVRO_INT,
  TARN_AVRO_LONG,
  TARN_AVRO_FLOAT,
  TARN_AVRO_DOUBLE,
  TARN_AVRO_BYTES,
  TARN_AVRO_STRING,
  TARN_AVRO_FIXED,
  TARN_AVRO_ENUM,
  TARN_AVRO_ARRAY,
  TARN_AVRO_MAP,
  TARN_AVRO_RECORD
} tarn_avro_kind;

typedef struct tarn_avro_value tarn_avro_value;

/* One decoded datum. A union in the schema is resolved to the branch the data chose: the value has
 * that branch's kind and `branch` holds its index (-1 when the value does not come from a union).
 * bytes/string/fixed data is followed by a NUL byte (so a string is also a C string, though it may
 * contain NULs of its own: use len). `name` is the full name of a record, enum or fixed type. */
struct tarn_avro_value {
  tarn_avro_kind kind;
  int32_t branch;
  const char *name;
  union {
    int boolean;
    int32_t i32;
    int64_t i64;
    float f32;
    double f64;
    struct {
      const uint8_t *data;
      size_t len;
    } bytes; /* BYTES, STRING, FIXED */
    struct {
      int32_t index;
      const char *symbol;
    } enm;
    struct {
      size_t n;
      tarn_avro_value *items;
    } array;
    struct {
      size_t n;
      const char **keys;
      tarn_avro_value *values;
    } map;
    struct {
      size_t n;
      const char *const *names; /* field names in schema order */
      tarn_avro_value *fields;
    } record;
  } u;
};

/* Parses the header of the container file in data[0..size): magic, metadata, codec and schema.
 * The file borrows data, which must stay valid and unchanged until tarn_avro_close. On success
 * *out is an open file positioned before the first record. Errors: TARN_ECORRUPT (not an Avro
 * container file, malformed header or schema), TARN_EUNSUPPORTED (a codec other than null,
 * deflate, snappy, zstandard), TARN_ENOMEM. */
int tarn_avro_open(const uint8_t *data, size_t size, tarn_avro_file **out, tarn_error *err);

/* Closes f and frees every value it returned. NULL is a no-op. */
void tarn_avro_close(tarn_avro_file *f);

/* The metadata value stored under key, or NULL when absent; *len (when len is not NULL) gets its
 * length. The bytes are NUL-terminated and live until tarn_avro_close. */
const char *tarn_avro_meta(const tarn_avro_file *f, const char *key, size_t *len);

/* Number of metadata entries, and the key of entry i (NULL when i is out of range). */
size_t tarn_avro_meta_count(const tarn_avro_file *f);
const char *tarn_avro_meta_key(const tarn_avro_file *f, size_t i);

/* The codec name ("null", "deflate", "snappy", "zstandard"). Lives until tarn_avro_close. */
const char *tarn_avro_codec(const tarn_avro_file *f);

/* Decodes the next record into *value. Returns 1 with *value filled, 0 at the end of the file, or
 * a negative TARN_E* code (TARN_ECORRUPT for malformed blocks or data, TARN_ENOMEM over a cap).
 * After an error the file stays in error: further calls return the same code. Values (and every
 * pointer inside them) live until tarn_avro_close. */
int tarn_avro_next(tarn_avro_file *f, tarn_avro_value *value, tarn_error *err);

/* The field called name of a RECORD value, or NULL when value is not a record or has no such
 * field. Borrowed from value. */
const tarn_avro_value *tarn_avro_field(const tarn_avro_value *record, const char *name);

/* The entry under key of a MAP value, or NULL. Borrowed from value. */
const tarn_avro_value *tarn_avro_map_get(const tarn_avro_value *map, const char *key);

/* Typed getters: 1 and *out set when v is non-NULL and of a fitting kind, else 0 and *out left
 * alone. tarn_avro_get_long accepts INT and LONG (exact), tarn_avro_get_double FLOAT and DOUBLE,
 * tarn_avro_get_bytes BYTES, STRING and FIXED; tarn_avro_get_string STRING only (pointer borrowed
 * from v). tarn_avro_is_null is 1 for a NULL value or a NULL pointer (an absent field). */
int tarn_avro_is_null(const tarn_avro_value *v);
int tarn_avro_get_bool(const tarn_avro_value *v, int *out);
int tarn_avro_get_int(const tarn_avro_value *v, int32_t *out);
int tarn_avro_get_long(const tarn_avro_value *v, int64_t *out);
int tarn_avro_get_double(const tarn_avro_value *v, double *out);
int tarn_avro_get_string(const tarn_avro_value *v, const char **out, size_t *len);
int tarn_avro_get_bytes(const tarn_avro_value *v, const uint8_t **out, size_t *len);

#endif
