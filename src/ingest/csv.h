/*
 * Import: CSV files as streams of Arrow batches.
 *
 * `tarn copy x.csv y.parquet`, and later `tarn ingest csv` and the SQL engine's read_csv, read
 * CSV through this module. A file is read in chunks (bounded memory: a record may span chunks,
 * and only the record being parsed is kept; gzip files are decompressed as they are read),
 * tokenized by RFC 4180 (quoted fields, doubled quotes, delimiters and line ends inside quotes, LF,
 * CRLF or CR line ends) and turned into struct batches whose children are the columns, with owned
 * buffers and release callbacks like the Parquet reader's. Column types come from an explicit
 * schema or are inferred the way DuckDB's read_csv does from a sample of the first rows
 * (docs/internals/import.md lists the rules and where they differ); a value past the sample that
 * does not fit its column's type, a row with the wrong number of fields, a broken quote or invalid
 * UTF-8 make a bad row, which fails the stream with a message naming the file, the line and the
 * column, or is counted and skipped.
 *
 * The second half of this header is the part shared with jsonl.c (JSON lines): the type model,
 * schema text parsing, scalar parsers for numbers, dates and times, and the column builders
 * that grow Arrow buffers row by row.
 */
#ifndef TARN_INGEST_CSV_H
#define TARN_INGEST_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "tarn.h"

typedef struct ing_csv_options {
  char delimiter;      /* 0 = ',' */
  int no_header;       /* 1: the first line is data; columns are named column0, column1, ... */
  const char *schema;  /* "name TYPE, name TYPE" (BOOLEAN, TINYINT, SMALLINT, INTEGER, BIGINT,
                          FLOAT, DOUBLE, DECIMAL(p,s), VARCHAR, DATE, TIME, TIMESTAMP,
                          TIMESTAMPTZ), or NULL to infer; borrowed during the open call */
  int skip_bad_rows;   /* count and skip rows that do not parse instead of failing */
  int64_t sample_rows; /* rows sampled for inference, 0 = 20480 (DuckDB's default) */
  int64_t batch_rows;  /* rows per batch, 0 = 8192 */
} ing_csv_options;

/* Opens the CSV file at path and makes *out a stream of struct batches (get_schema gives the
 * columns). opts may be NULL (defaults). Reads the header and, when no schema is given, the
 * sample rows, so errors in those come from here: TARN_EIO (cannot read), TARN_EINVAL (bad
 * options or schema text, a bad row within the sample unless skip_bad_rows, an empty file without
 * a header), TARN_ENOMEM. Messages name the file, line and column. The stream owns everything it
 * needs; release it when done. get_next returns EINVAL, EIO or ENOMEM on failure (the message
 * from get_last_error, the tarn code from ing_stream_error); the stream is unusable afterwards. */
int ing_csv_open(const char *path, const ing_csv_options *opts, struct ArrowArrayStream *out,
                 tarn_error *err);

/* As ing_csv_open for CSV text held in memory: data[0..len) is borrowed and must outlive the
 * stream; name is used in messages. */
int ing_csv_open_memory(const uint8_t *data, size_t len, const char *name,
                        const ing_csv_options *opts, struct ArrowArrayStream *out, tarn_error *err);

/* Rows skipped so far (skip_bad_rows) by a stream made by ing_csv_open or ing_jsonl_open; -1 for
 * any other stream. */
int64_t ing_csv_bad_rows(struct ArrowArrayStream *s);

/* The tarn error code of the last failure of a CSV or JSON-lines stream (0 if none). */
int ing_stream_error(struct ArrowArrayStream *s);

#include "ingest/value.h"

#endif
