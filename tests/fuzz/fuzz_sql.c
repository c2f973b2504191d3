/*
 * libFuzzer target for the SQL front end and, for queries that need no files, the executor:
 * random and mutated SQL goes through parse, bind and optimize (sql_engine_plan_only), and
 * whatever plans is then run on one thread under a small memory limit. File access is switched
 * off (read_parquet, COPY TO and CREATE TABLE are refused), so the target only exercises the
 * engine: VALUES lists, SELECT without FROM, CTEs, subqueries, expressions and every operator
 * above them. Any error must come back as an error; a crash or sanitizer report is a bug.
 *
 * Built as fuzz_sql with -fsanitize=fuzzer, and as fuzz_sql_replay (with replay.c), which the
 * normal test run uses to replay tests/fuzz/corpus/sql.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void fuzz_target_report(FILE *out);

static long n_ok, n_err;

static int ignore_batch(void *arg, const struct ArrowArray *batch, tarn_error *err) {
  (void)arg;
  (void)err;
  /* Touch the array's shape: a malformed export would show up here. */
  return batch->length < 0 ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 1 << 16) return 0;
  char *sql = malloc(size + 1);
  if (sql == NULL) return 0;
  memcpy(sql, data, size);
  sql[size] = 0;
  sql_engine_options o = {.threads = 1, .memory_limit = 64 << 20, .deny_files = true};
  sql_engine *e = NULL;
  tarn_error err = {0};
  if (sql_engine_open(&o, &e, &err) == 0) {
    char *text = NULL;
    int rc = sql_engine_plan_only(e, sql, &text, &err);
    free(text);
    if (rc == 0) {
      sql_result_sink sink = {.batch = ignore_batch};
      memset(&err, 0, sizeof err);
      rc = sql_engine_exec(e, sql, &sink, &err);
    }
    if (rc == 0) n_ok++;
    else n_err++;
    sql_engine_close(e);
  }
  free(sql);
  return 0;
}

void fuzz_target_report(FILE *out) { fprintf(out, "fuzz_sql: %ld ran, %ld refused with an error\n", n_ok, n_err); }
