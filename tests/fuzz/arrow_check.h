/*
 * Checks shared by the CSV and JSON-lines fuzz targets: every batch a reader produces must obey
 * the Arrow C Data Interface rules a consumer relies on (lengths, offsets, child lengths, buffer
 * presence), and every value's last byte is touched so that a buffer shorter than its array
 * claims is caught by AddressSanitizer. A violated rule aborts: it is a reader bug.
 *
 * Include once, after defining FUZZ_TARGET_NAME (a string literal used in messages).
 */
#ifndef TARN_FUZZ_ARROW_CHECK_H
#define TARN_FUZZ_ARROW_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tarn.h"

static volatile uint8_t fuzz_sink;

static struct {
  long inputs, opened, completed, failed;
  long long rows, bad_rows;
} fuzz_stats;

void fuzz_target_report(FILE *out) {
  fprintf(out,
          "inputs %ld: opened %ld, streams completed %ld, ended by an error %ld, rows %lld, "
          "bad rows skipped %lld\n",
          fuzz_stats.inputs, fuzz_stats.opened, fuzz_stats.completed, fuzz_stats.failed,
          fuzz_stats.rows, fuzz_stats.bad_rows);
}

static void fuzz_fail(const char *what, const struct ArrowSchema *s) {
  fprintf(stderr, FUZZ_TARGET_NAME ": invalid Arrow output: %s (field \"%s\", format \"%s\")\n",
          what, s->name ? s->name : "", s->format ? s->format : "");
  abort();
}

static void touch(const void *buffer, int64_t byte_index) {
  fuzz_sink ^= ((const uint8_t *)buffer)[byte_index];
}

static int64_t width_of(const char *f) {
  if (!strcmp(f, "c")) return 1;
  if (!strcmp(f, "s")) return 2;
  if (!strcmp(f, "i") || !strcmp(f, "f") || !strcmp(f, "tdD")) return 4;
  if (!strcmp(f, "l") || !strcmp(f, "g") || !strcmp(f, "ttu") || !strncmp(f, "tsu:", 4)) return 8;
  if (f[0] == 'd' && f[1] == ':') return 16;
  return 0;
}

/* Checks a (non-nested, or struct/list) array of the formats the readers produce. */
static void check_array(const struct ArrowArray *a, const struct ArrowSchema *s, int depth) {
  if (!a->release) fuzz_fail("released array", s);
  if (depth > 64) fuzz_fail("nesting too deep", s);
  if (a->length < 0 || a->offset != 0 || a->null_count < 0 || a->null_count > a->length)
    fuzz_fail("bad length, offset or null_count", s);
  if (a->n_children != s->n_children) fuzz_fail("children differ from the schema's", s);
  if (a->null_count > 0 && a->buffers[0] == NULL) fuzz_fail("nulls without a bitmap", s);
  if (a->buffers[0] && a->length > 0) touch(a->buffers[0], (a->length - 1) / 8);
  const char *f = s->format;
  int64_t w = width_of(f);
  if (w) {
    if (a->n_buffers != 2 || !a->buffers[1]) fuzz_fail("fixed-width array without values", s);
    if (a->length > 0) touch(a->buffers[1], a->length * w - 1);
  } else if (!strcmp(f, "b")) {
    if (a->n_buffers != 2 || !a->buffers[1]) fuzz_fail("boolean array without values", s);
    if (a->length > 0) touch(a->buffers[1], (a->length - 1) / 8);
  } else if (!strcmp(f, "u")) {
    if (a->n_buffers != 3 || !a->buffers[1] || !a->buffers[2]) fuzz_fail("string buffers", s);
    const int32_t *o = a->buffers[1];
    if (o[0] != 0) fuzz_fail("first offset not 0", s);
    for (int64_t i = 0; i < a->length; i++)
      if (o[i + 1] < o[i]) fuzz_fail("offsets decrease", s);
    if (o[a->length] > 0) touch(a->buffers[2], o[a->length] - 1);
  } else if (!strcmp(f, "+s")) {
    if (a->n_buffers != 1) fuzz_fail("struct without 1 buffer", s);
    for (int64_t i = 0; i < a->n_children; i++) {
      if (a->children[i]->length != a->length) fuzz_fail("struct child length", s);
      check_array(a->children[i], s->children[i], depth + 1);
    }
  } else if (!strcmp(f, "+l")) {
    if (a->n_buffers != 2 || !a->buffers[1] || a->n_children != 1) fuzz_fail("list buffers", s);
    const int32_t *o = a->buffers[1];
    if (o[0] != 0) fuzz_fail("first offset not 0", s);
    for (int64_t i = 0; i < a->length; i++)
      if (o[i + 1] < o[i]) fuzz_fail("offsets decrease", s);
    if (a->children[0]->length != o[a->length]) fuzz_fail("list child length", s);
    check_array(a->children[0], s->children[0], depth + 1);
  } else {
    fuzz_fail("unexpected format", s);
  }
}

/* A failed open must leave a code and a message. */
static void fuzz_check_open_failure(const tarn_error *err) {
  if (err->code == 0 || err->message[0] == '\0') {
    fprintf(stderr, FUZZ_TARGET_NAME ": a failed open left no message\n");
    abort();
  }
}

/* Reads an opened stream to its end (or its first error), checking the schema, every batch
 * (length within 1..limit, Arrow rules) and the error contract, then releases it. bad_rows, when
 * given, adds the stream's skipped-row count to the statistics. */
static void fuzz_drain_stream(struct ArrowArrayStream *stream, int64_t limit,
                              int64_t (*bad_rows)(struct ArrowArrayStream *),
                              int (*error_code)(struct ArrowArrayStream *)) {
  fuzz_stats.opened++;
  struct ArrowSchema schema;
  if (stream->get_schema(stream, &schema) != 0) abort();
  if (strcmp(schema.format, "+s") != 0) fuzz_fail("top level is not a struct", &schema);
  for (;;) {
    struct ArrowArray batch;
    if (stream->get_next(stream, &batch) != 0) {
      const char *msg = stream->get_last_error(stream);
      if (msg == NULL || error_code(stream) == 0) {
        fprintf(stderr, FUZZ_TARGET_NAME ": a failed get_next left no message or code\n");
        abort();
      }
      fuzz_stats.failed++;
      break;
    }
    if (!batch.release) {
      fuzz_stats.completed++;
      break;
    }
    if (batch.length < 1 || batch.length > limit) fuzz_fail("batch length", &schema);
    check_array(&batch, &schema, 0);
    fuzz_stats.rows += batch.length;
    batch.release(&batch);
  }
  if (bad_rows) fuzz_stats.bad_rows += bad_rows(stream);
  schema.release(&schema);
  stream->release(stream);
}

/* Writes the input to a temporary file and reads it through open_path (the path-based reader,
 * which also decompresses gzip input). */
static void fuzz_drain_file(const uint8_t *data, size_t size,
                            int (*open_path)(const char *, struct ArrowArrayStream *, tarn_error *),
                            int (*error_code)(struct ArrowArrayStream *)) {
  FILE *f = tmpfile();
  if (f == NULL) return;
  if (fwrite(data, 1, size, f) == size && fflush(f) == 0) {
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fileno(f));
    struct ArrowArrayStream stream;
    tarn_error err = {0};
    if (open_path(path, &stream, &err) == 0)
      fuzz_drain_stream(&stream, INT64_MAX, NULL, error_code);
  }
  fclose(f);
}

#endif
