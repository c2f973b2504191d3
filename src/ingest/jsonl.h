/*
 * Import: JSON lines (one object per line) as streams of Arrow batches.
 *
 * `tarn copy x.jsonl y.parquet` reads through this module. Each line is parsed with cJSON (the
 * faster of the two JSON libraries Debian packages, measured in docs/internals/import.md); the
 * text of every number is located by a pre-scan of the line so that integers keep all their
 * digits and doubles are converted once, from their own text. The columns are the keys of the
 * objects (the union over a sample of lines, in first-seen order), or an explicit schema; nested
 * objects become STRUCT columns and arrays LIST columns, numbers BIGINT or DOUBLE, strings
 * VARCHAR or DATE / TIME / TIMESTAMP when every sampled string of a field looks like one, and a
 * field whose values mix kinds holds their JSON text (DuckDB's JSON type). Types follow DuckDB's
 * read_json; docs/internals/import.md lists the rules. A missing key is a null. Lines that are not
 * JSON objects, and values that do not fit their column's type, make bad rows: the stream fails
 * naming the file, line and column, or counts and skips them.
 *
 * The file is read in chunks; only the line being converted (and, while the stream starts, the
 * sample lines) is held in memory.
 */
#ifndef TARN_INGEST_JSONL_H
#define TARN_INGEST_JSONL_H

#include <stddef.h>
#include <stdint.h>

#include "tarn.h"

typedef struct ing_jsonl_options {
  const char *schema;  /* "name TYPE, ..." with STRUCT(name TYPE, ...) and TYPE[] for nesting, or
                          NULL to infer; borrowed during the open call */
  int64_t sample_rows; /* lines sampled for inference, 0 = 20480 (DuckDB's default) */
  int64_t batch_rows;  /* rows per batch, 0 = 8192 */
  int skip_bad_rows;   /* count and skip lines that do not parse instead of failing */
} ing_jsonl_options;

/* Opens the JSON-lines file at path and makes *out a stream of struct batches. opts may be NULL.
 * Reads the sample lines when no schema is given, so their errors come from here: TARN_EIO,
 * TARN_EINVAL (bad options or schema, a bad line in the sample unless skip_bad_rows, no object
 * keys at all), TARN_ENOMEM. The stream owns what it needs; get_next returns EINVAL, EIO or
 * ENOMEM on failure, with the message from get_last_error and the tarn code from
 * ing_stream_error (csv.h); the stream is unusable afterwards. */
int ing_jsonl_open(const char *path, const ing_jsonl_options *opts, struct ArrowArrayStream *out,
                   tarn_error *err);

/* As ing_jsonl_open for text in memory: data[0..len) is borrowed and must outlive the stream;
 * name is used in messages. */
int ing_jsonl_open_memory(const uint8_t *data, size_t len, const char *name,
                          const ing_jsonl_options *opts, struct ArrowArrayStream *out,
                          tarn_error *err);

/* Lines skipped so far (skip_bad_rows) by a stream made by ing_jsonl_open; -1 for another
 * stream. */
int64_t ing_jsonl_bad_rows(struct ArrowArrayStream *s);

#endif
