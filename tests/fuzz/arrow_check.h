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

#endif
