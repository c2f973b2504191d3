/*
 * libFuzzer target for the CSV reader (src/ingest/csv.c): tokenizer, header, type inference,
 * value conversion, bad-row handling and batch building.
 *
 * The input is taken as a whole CSV file and read from memory three times: with the defaults;
 * with ';' as delimiter, bad rows skipped, a 2-row sample and 3-row batches (so inference and
 * batch boundaries fall mid-file); and without a header under an explicit schema of every type.
 * Every batch is checked against the Arrow C Data Interface rules a consumer relies on, and every
 * last value is touched, so a buffer shorter than its array claims shows up under
 * AddressSanitizer. A violated rule aborts: that is a reader bug, not bad input.
 *
 * Inputs that start with the gzip magic bytes are also written to a temporary file and read
 * through the file path, which decompresses them.
 *
 * Built two ways (tests/fuzz/CMakeLists.txt): with -fsanitize=fuzzer as fuzz_csv, and with
 * replay.c as fuzz_csv_replay, which the normal test run uses to replay the corpus.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void fuzz_target_report(FILE *out);

#define FUZZ_TARGET_NAME "fuzz_csv"
#include "arrow_check.h"

static void drain(const uint8_t *data, size_t size, const ing_csv_options *o) {
  struct ArrowArrayStream stream;
  tarn_error err = {0};
  if (ing_csv_open_memory(data, size, "fuzz.csv", o, &stream, &err) != 0) {
    fuzz_check_open_failure(&err);
    return;
  }
  fuzz_drain_stream(&stream, o && o->batch_rows ? o->batch_rows : 8192, ing_csv_bad_rows,
                    ing_stream_error);
}

static int open_path(const char *path, struct ArrowArrayStream *out, tarn_error *err) {
  return ing_csv_open(path, NULL, out, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_stats.inputs++;
  if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b)
    fuzz_drain_file(data, size, open_path, ing_stream_error);
  drain(data, size, NULL);

  ing_csv_options o;
  memset(&o, 0, sizeof o);
  o.delimiter = ';';
  o.skip_bad_rows = 1;
  o.sample_rows = 2;
  o.batch_rows = 3;
  drain(data, size, &o);

  memset(&o, 0, sizeof o);
  o.no_header = 1;
  o.skip_bad_rows = 1;
  o.schema = "a BIGINT, b DOUBLE, c DATE, d TIMESTAMP, e BOOLEAN, f DECIMAL(9,3), g VARCHAR, "
             "h TIME, i TINYINT, j TIMESTAMPTZ";
  drain(data, size, &o);
  return 0;
}
