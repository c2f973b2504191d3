/*
 * libFuzzer target for the Avro container reader (src/avro/avro.c): the header (magic, metadata
 * map, schema JSON through libavro), the block framing and sync markers, the codecs (null,
 * deflate, snappy, zstandard) and the binary decoding of every value kind.
 *
 * Each input is opened and every record read. Rules: a failure returns a known code with an
 * "avro: " message, an error is sticky (the next call returns the same code), and every string
 * value is NUL-terminated at its length. A violated rule aborts: that is a reader bug, not bad
 * input.
 *
 * Built as fuzz_avro (TARN_FUZZ=ON, clang) and as fuzz_avro_replay with replay.c, which the normal
 * test run uses to replay corpus/avro: small files written by tests/unit/test_avro.c with
 * libavro's writer (TARN_AVRO_WRITE_CORPUS=tests/fuzz/corpus/avro), one per codec, plus a
 * hand-made one.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "avro/avro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void fuzz_target_report(FILE *out);

static struct { unsigned long inputs, opened, records, errors; } stats;

void fuzz_target_report(FILE *out) {
  fprintf(out, "fuzz_avro: %lu inputs, %lu opened, %lu records, %lu read errors\n", stats.inputs,
          stats.opened, stats.records, stats.errors);
}

static void require(int ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "fuzz_avro: violated: %s\n", what);
    abort();
  }
}

static void check_error(int rc, const tarn_error *err) {
  require(rc == TARN_ECORRUPT || rc == TARN_ENOMEM || rc == TARN_EUNSUPPORTED,
          "a known error code");
  require(err->code == rc && err->message[0] != '\0', "an error message");
  require(err->message[0] == 'a' && err->message[4] == ':', "the message starts with avro:");
}

static void walk(const tarn_avro_value *v, int depth) {
  require(depth <= TARN_AVRO_MAX_DEPTH + 1, "bounded depth");
  switch (v->kind) {
  case TARN_AVRO_BYTES:
  case TARN_AVRO_STRING:
  case TARN_AVRO_FIXED:
    require(v->u.bytes.data != NULL && v->u.bytes.data[v->u.bytes.len] == 0, "NUL-terminated");
    break;
  case TARN_AVRO_ENUM: require(v->u.enm.symbol != NULL, "enum symbol"); break;
  case TARN_AVRO_ARRAY:
    for (size_t i = 0; i < v->u.array.n; i++)
      walk(&v->u.array.items[i], depth + 1);
    break;
  case TARN_AVRO_MAP:
    for (size_t i = 0; i < v->u.map.n; i++) {
      require(v->u.map.keys[i] != NULL, "map key");
      walk(&v->u.map.values[i], depth + 1);
    }
    break;
  case TARN_AVRO_RECORD:
    for (size_t i = 0; i < v->u.record.n; i++) {
      require(tarn_avro_field(v, v->u.record.names[i]) != NULL, "field lookup by name");
      walk(&v->u.record.fields[i], depth + 1);
    }
    break;
  default: break;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  stats.inputs++;
  tarn_avro_file *f = NULL;
  tarn_error err = {0};
  int rc = tarn_avro_open(data, size, &f, &err);
  if (rc != 0) {
    check_error(rc, &err);
    require(f == NULL, "no file on error");
    return 0;
  }
  stats.opened++;
  require(tarn_avro_meta(f, "avro.schema", NULL) != NULL, "a schema");
  tarn_avro_value v;
  while ((rc = tarn_avro_next(f, &v, &err)) == 1) {
    stats.records++;
    walk(&v, 0);
  }
  if (rc < 0) {
    stats.errors++;
    check_error(rc, &err);
    tarn_error again = {0};
    require(tarn_avro_next(f, &v, &again) == rc && again.code == rc, "sticky error");
  }
  tarn_avro_close(f);
  return 0;
}
