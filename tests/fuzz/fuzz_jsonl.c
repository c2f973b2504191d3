/*
 * libFuzzer target for the JSON-lines reader (src/ingest/jsonl.c): line splitting, the number
 * pre-scan and its alignment with cJSON's tree, key checks, inference of nested types, value
 * conversion, bad-row handling and batch building.
 *
 * The input is taken as a whole JSON-lines file and read from memory three times: with the
 * defaults; with bad rows skipped, a 2-line sample and 3-row batches (so inference and batch
 * boundaries fall mid-file); and under an explicit schema with nested types.
 * Every batch is checked against the Arrow C Data Interface rules a consumer relies on, and every
 * last value is touched, so a buffer shorter than its array claims shows up under
 * AddressSanitizer. A violated rule aborts: that is a reader bug, not bad input.
 *
 * Inputs that start with the gzip magic bytes are also written to a temporary file and read
 * through the file path, which decompresses them.
 *
 * Built two ways (tests/fuzz/CMakeLists.txt): with -fsanitize=fuzzer as fuzz_jsonl, and with
 * replay.c as fuzz_jsonl_replay, which the normal test run uses to replay the corpus.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/csv.h"
#include "ingest/jsonl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void fuzz_target_report(FILE *out);

#define FUZZ_TARGET_NAME "fuzz_jsonl"
#include "arrow_check.h"

static void drain(const uint8_t *data, size_t size, const ing_jsonl_options *o) {
  struct ArrowArrayStream stream;
  tarn_error err = {0};
  if (ing_jsonl_open_memory(data, size, "fuzz.jsonl", o, &stream, &err) != 0) {
    fuzz_check_open_failure(&err);
    return;
  }
  fuzz_drain_stream(&stream, o && o->batch_rows ? o->batch_rows : 8192, ing_jsonl_bad_rows,
                    ing_stream_error);
}

static int open_path(const char *path, struct ArrowArrayStream *out, tarn_error *err) {
  return ing_jsonl_open(path, NULL, out, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_stats.inputs++;
  if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b)
    fuzz_drain_file(data, size, open_path, ing_stream_error);
  drain(data, size, NULL);

  ing_jsonl_options o;
  memset(&o, 0, sizeof o);
  o.skip_bad_rows = 1;
  o.sample_rows = 2;
  o.batch_rows = 3;
  drain(data, size, &o);

  memset(&o, 0, sizeof o);
  o.skip_bad_rows = 1;
  o.schema = "a BIGINT, b STRUCT(c DOUBLE, d VARCHAR[], e STRUCT(f DATE)[]), g JSON, "
             "h DECIMAL(10,2), i TIMESTAMP, j BOOLEAN, k INTEGER[][], l TIME, m SMALLINT";
  drain(data, size, &o);
  return 0;
}
