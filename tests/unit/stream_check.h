/*
 * Reading a CSV or JSON-lines ingest stream to the end in a unit test: the column names and
 * formats, every batch printed as canonical JSON lines, the batch count and largest batch, the
 * error of a failing open or get_next and the bad-row count, gathered in a stream_result that
 * tests compare with values worked out by hand. EXPECT calls the including file's run().
 */
#ifndef TARN_TEST_STREAM_CHECK_H
#define TARN_TEST_STREAM_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "columnar/format.h"
#include "ingest/csv.h"

typedef struct stream_result {
  int open_rc;       /* the open function's return */
  int next_rc;       /* the failing get_next's return (0 when the stream ended normally) */
  int code;          /* ing_stream_error after the failure */
  char message[512]; /* open's or the stream's error message */
  char types[1024];  /* "name:format" per column; nested formats as format<children> */
  char *rows;        /* canonical JSON lines (malloc'd) */
  int64_t bad;       /* the bad-row count at the end */
  int batches;
  int64_t max_batch;
} stream_result;

/* Appends s's format to buf, followed by <name:format ...> of its children if it has any. */
static inline void stream_describe(const struct ArrowSchema *s, char *buf, size_t cap) {
  size_t len = strlen(buf);
  snprintf(buf + len, cap - len, "%s", s->format);
  if (s->n_children == 0) return;
  len = strlen(buf);
  snprintf(buf + len, cap - len, "<");
  for (int64_t i = 0; i < s->n_children; i++) {
    len = strlen(buf);
    snprintf(buf + len, cap - len, "%s%s:", i ? " " : "", s->children[i]->name);
    stream_describe(s->children[i], buf, cap);
  }
  len = strlen(buf);
  snprintf(buf + len, cap - len, ">");
}

/* Reads s to the end (or its first failure) into r, which the caller has zeroed; bad_rows is the
 * reader's bad-row count (ing_csv_bad_rows, ing_jsonl_bad_rows). Does not release s. */
static inline void stream_drain(struct ArrowArrayStream *s, stream_result *r,
                                int64_t (*bad_rows)(struct ArrowArrayStream *)) {
  struct ArrowSchema schema;
  memset(&schema, 0, sizeof schema);
  tarn_error err = {0};
  if (s->get_schema(s, &schema) != 0) {
    r->next_rc = -1;
    return;
  }
  for (int64_t i = 0; i < schema.n_children; i++) {
    size_t len = strlen(r->types);
    snprintf(r->types + len, sizeof r->types - len, "%s%s:", i ? " " : "",
             schema.children[i]->name);
    stream_describe(schema.children[i], r->types, sizeof r->types);
  }
  char *text = NULL;
  size_t text_len = 0;
  FILE *out = open_memstream(&text, &text_len);
  col_printer *p = NULL;
  if (col_printer_create(COL_FORMAT_JSONL, out, &schema, &p, &err) != 0) {
    snprintf(r->message, sizeof r->message, "printer: %.400s", err.message);
  } else {
    for (;;) {
      struct ArrowArray batch;
      int rc = s->get_next(s, &batch);
      if (rc) {
        r->next_rc = rc;
        r->code = ing_stream_error(s);
        snprintf(r->message, sizeof r->message, "%s", s->get_last_error(s));
        break;
      }
      if (batch.release == NULL) break;
      r->batches++;
      if (batch.length > r->max_batch) r->max_batch = batch.length;
      col_printer_write(p, &batch, &err);
      batch.release(&batch);
    }
    col_printer_finish(p, &err);
    col_printer_free(p);
  }
  fclose(out);
  r->rows = text;
  r->bad = bad_rows(s);
  schema.release(&schema);
}

/* Fills r from an open function's return open_rc (with its error err and stream s): the error
 * and empty rows when it failed, else the drained stream, which is then released. */
static inline void stream_collect(int open_rc, const tarn_error *err, struct ArrowArrayStream *s,
                                  int64_t (*bad_rows)(struct ArrowArrayStream *),
                                  stream_result *r) {
  memset(r, 0, sizeof *r);
  r->open_rc = open_rc;
  if (r->open_rc) {
    snprintf(r->message, sizeof r->message, "%s", err->message);
    r->rows = strdup("");
    return;
  }
  stream_drain(s, r, bad_rows);
  s->release(s);
}

/* Reads input with options o through the including file's run() and checks the column types and
 * the rows. */
#define EXPECT(input, o, types_, rows_)                                                            \
  do {                                                                                             \
    stream_result r_;                                                                              \
    run(input, o, &r_);                                                                            \
    CHECK_EQ_INT(r_.open_rc, 0);                                                                   \
    CHECK_EQ_INT(r_.next_rc, 0);                                                                   \
    if (r_.open_rc || r_.next_rc) fprintf(stderr, "  error: %s\n", r_.message);                    \
    CHECK_EQ_STR(r_.types, types_);                                                                \
    CHECK_EQ_STR(r_.rows, rows_);                                                                  \
    free(r_.rows);                                                                                 \
  } while (0)

#endif
