/*
 * libFuzzer target for Delta log replay (src/table/delta/delta_log.c): commit parsing, action
 * reconciliation, protocol checks, the schemaString parser, commitInfo timestamps and history.
 *
 * The input is one commit file's text, replayed two ways in tables under a temporary directory:
 *  - as version 1 on top of a valid version 0 (protocol, metaData, two adds), so removes, re-adds,
 *    deletion vectors, txn and domainMetadata actions meet existing state;
 *  - as version 0 alone, so the input's own protocol and metaData (and schema) are what counts.
 * Each table is loaded at its latest version, at version 0, as of two timestamps, and its
 * history and change data feed (delta_cdf.c; the base table has it enabled) are read. The input
 * is also given as the stacked table's `_last_checkpoint` and as a log compaction file of
 * version 1, the other log files the reader parses. The input alone (its own metaData, which may
 * ask for delta.checkpoint.writeStatsAsStruct) is also written as a checkpoint, which parses every
 * add's stats JSON into stats_parsed (delta_checkpoint.c). Errors are fine; a crash, a sanitizer
 * report or an error without a message is a bug (the latter aborts).
 *
 * Built two ways (tests/fuzz/CMakeLists.txt): with -fsanitize=fuzzer as fuzz_delta_log, and with
 * replay.c as fuzz_delta_log_replay, which the normal test run uses to replay the corpus.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "table/delta/delta_cdf.h"
#include "table/delta/delta_checkpoint.h"
#include "table/delta/delta_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char base_commit[] =
    "{\"commitInfo\":{\"timestamp\":1000,\"operation\":\"WRITE\",\"operationParameters\":{}}}\n"
    "{\"protocol\":{\"minReaderVersion\":3,\"minWriterVersion\":7,\"readerFeatures\":["
    "\"deletionVectors\",\"columnMapping\"],\"writerFeatures\":[\"deletionVectors\"]}}\n"
    "{\"metaData\":{\"id\":\"fuzz\",\"format\":{\"provider\":\"parquet\",\"options\":{}},"
    "\"schemaString\":\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[{\\\"name\\\":\\\"a\\\","
    "\\\"type\\\":\\\"long\\\",\\\"nullable\\\":true,\\\"metadata\\\":{}},{\\\"name\\\":\\\"p\\\","
    "\\\"type\\\":\\\"string\\\",\\\"nullable\\\":true,\\\"metadata\\\":{}}]}\","
    "\"partitionColumns\":[\"p\"],\"configuration\":{\"delta.enableChangeDataFeed\":\"true\"},"
    "\"createdTime\":1}}\n"
    "{\"add\":{\"path\":\"p=1/a.parquet\",\"partitionValues\":{\"p\":\"1\"},\"size\":5,"
    "\"modificationTime\":1,\"dataChange\":true}}\n"
    "{\"add\":{\"path\":\"p=2/b.parquet\",\"partitionValues\":{\"p\":null},\"size\":5,"
    "\"modificationTime\":1,\"dataChange\":true,\"deletionVector\":{\"storageType\":\"i\","
    "\"pathOrInlineDv\":\"abc\",\"sizeInBytes\":3,\"cardinality\":1}}}\n";

static char root[64];
static char stacked[128], alone[128];

static void write_bytes(const char *dir, const char *name, const void *p, size_t n) {
  char path[256];
  snprintf(path, sizeof path, "%s/_delta_log/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (f == NULL) abort(); /* the harness itself failed */
  if (n && fwrite(p, 1, n, f) != n) abort();
  fclose(f);
}

static void make_table(char *dir, size_t cap, const char *name) {
  char log[192];
  snprintf(dir, cap, "%s/%s", root, name);
  snprintf(log, sizeof log, "%s/_delta_log", dir);
  if (mkdir(dir, 0700) != 0 || mkdir(log, 0700) != 0) abort();
}

static void cleanup(void) {
  static const char *const files[][2] = {
      {stacked, "00000000000000000000.json"},
      {stacked, "00000000000000000001.json"},
      {stacked, "_last_checkpoint"},
      {stacked, "00000000000000000001.00000000000000000001.compacted.json"},
      {alone, "00000000000000000000.json"},
      {alone, "00000000000000000000.checkpoint.parquet"},
      {alone, "_last_checkpoint"}};
  char path[256];
  for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
    snprintf(path, sizeof path, "%s/_delta_log/%s", files[i][0], files[i][1]);
    unlink(path);
  }
  const char *dirs[] = {stacked, alone};
  for (size_t i = 0; i < 2; i++) {
    snprintf(path, sizeof path, "%s/_delta_log", dirs[i]);
    rmdir(path);
    rmdir(dirs[i]);
  }
  rmdir(root);
}

static void setup(void) {
  snprintf(root, sizeof root, "/tmp/fuzz_delta_log_XXXXXX");
  if (mkdtemp(root) == NULL) abort();
  make_table(stacked, sizeof stacked, "stacked");
  make_table(alone, sizeof alone, "alone");
  write_bytes(stacked, "00000000000000000000.json", base_commit, sizeof base_commit - 1);
  atexit(cleanup);
}

static void check_error(int rc, const tarn_error *err) {
  if (rc != 0 && (err->code != rc || err->message[0] == 0)) {
    fprintf(stderr, "fuzz_delta_log: error %d without a message\n", rc);
    abort();
  }
}

/* Touches everything a snapshot hands out, so a dangling pointer shows under ASan. */
static size_t touch(const delta_snapshot *s) {
  size_t sum = strlen(s->schema_string) + strlen(s->metadata_id);
  for (size_t i = 0; i < s->n_files; i++) {
    sum += strlen(s->files[i].path);
    for (size_t c = 0; c < s->n_partition_columns; c++)
      if (s->files[i].partition_values[c]) sum += strlen(s->files[i].partition_values[c]);
    if (s->files[i].dv.storage_type) sum += strlen(s->files[i].dv.path_or_inline);
  }
  for (size_t i = 0; i < s->n_config; i++)
    sum += strlen(s->config_keys[i]) + strlen(s->config_values[i]);
  for (size_t i = 0; i < s->n_txns; i++)
    sum += strlen(s->txn_app_ids[i]);
  for (size_t i = 0; i < s->n_domains; i++)
    sum += strlen(s->domains[i]);
  return sum;
}

static void exercise(const char *dir) {
  static const int64_t versions[] = {-1, 0};
  for (size_t i = 0; i < 2; i++) {
    delta_snapshot *s = NULL;
    tarn_error err = {0};
    int rc = delta_snapshot_load(dir, versions[i], &s, &err);
    check_error(rc, &err);
    if (s) touch(s);
    delta_snapshot_free(s);
  }
  static const int64_t times[] = {1500, INT64_MAX};
  for (size_t i = 0; i < 2; i++) {
    delta_snapshot *s = NULL;
    tarn_error err = {0};
    int rc = delta_snapshot_load_at(dir, times[i], &s, &err);
    check_error(rc, &err);
    delta_snapshot_free(s);
  }
  tarn_arena a = {0};
  delta_commit *c = NULL;
  size_t n = 0;
  tarn_error err = {0};
  int rc = delta_history(dir, &a, &c, &n, &err);
  check_error(rc, &err);
  for (size_t i = 0; i < n; i++)
    if (c[i].parameters_json && strlen(c[i].parameters_json) == 0) abort();
  tarn_arena_free(&a);
  delta_cdf *cdf = NULL;
  tarn_error cerr = {0};
  rc = delta_cdf_load(dir, 0, -1, &cdf, &cerr);
  check_error(rc, &cerr);
  delta_cdf_free(cdf);
}

/* The latest snapshot of dir, only for its errors and sanitizer reports. */
static void load_latest(const char *dir) {
  delta_snapshot *s = NULL;
  tarn_error err = {0};
  int rc = delta_snapshot_load(dir, -1, &s, &err);
  check_error(rc, &err);
  if (s) touch(s);
  delta_snapshot_free(s);
}

static void remove_log_file(const char *dir, const char *name) {
  char path[256];
  snprintf(path, sizeof path, "%s/_delta_log/%s", dir, name);
  unlink(path);
}

/* Writes the checkpoint of dir's latest snapshot, then removes it (the next input starts
 * without one). */
static void checkpoint(const char *dir) {
  delta_snapshot *s = NULL;
  tarn_error err = {0};
  int rc = delta_snapshot_load(dir, -1, &s, &err);
  if (rc == 0) {
    rc = delta_checkpoint_write(s, &err);
    check_error(rc, &err);
    remove_log_file(dir, "00000000000000000000.checkpoint.parquet");
    remove_log_file(dir, "_last_checkpoint");
  }
  delta_snapshot_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (root[0] == 0) setup();
  write_bytes(stacked, "00000000000000000001.json", data, size);
  exercise(stacked);
  write_bytes(stacked, "_last_checkpoint", data, size);
  load_latest(stacked);
  remove_log_file(stacked, "_last_checkpoint");
  static const char compacted[] = "00000000000000000001.00000000000000000001.compacted.json";
  write_bytes(stacked, compacted, data, size);
  load_latest(stacked);
  remove_log_file(stacked, compacted);
  write_bytes(alone, "00000000000000000000.json", data, size);
  exercise(alone);
  checkpoint(alone);
  return 0;
}
