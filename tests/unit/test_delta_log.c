/*
 * Delta log replay (src/table/delta/delta_log.c).
 *
 * Expected values come from outside the code under test:
 *  - DAT reader tests: expected/<version>/table_version_metadata.json (version, protocol,
 *    properties) and table_content.jsonl (row count = the sum of the files' numRecords);
 *  - delta-kernel-rs golden tables: the cases its README lists as failing must fail with the
 *    right code; live-file counts of checkpointed tables were computed by an independent Python
 *    replay of the JSON commits alone (from version 0, PROTOCOL.md reconciliation), so they
 *    check the Parquet/JSON checkpoint readers against the commits the checkpoints summarise;
 *  - values copied by hand from the log files (timestamps, operations, physical names);
 *  - small tables written here, whose expected state follows from the protocol by construction.
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "shared_data.h"
#include "table/delta/delta_log.h"
#include "text_file.h"

#define DAT "testdata/dat/tests/data/reader_tests/generated/"
#define GOLDEN "testdata/delta-kernel-rs/kernel/tests/golden_data/"
#define DELTA_RS "testdata/delta-rs/crates/test/tests/data/"

static long count_lines(const char *path) {
  char *t = read_text(path);
  if (t == NULL) return -1;
  long n = 0;
  for (char *p = t; *p; p++)
    n += *p == '\n';
  free(t);
  return n;
}

static int load(const char *rel, int64_t version, delta_snapshot **s, tarn_error *err) {
  char path[4096];
  shared_data_path(path, sizeof path, rel);
  memset(err, 0, sizeof *err);
  return delta_snapshot_load(path, version, s, err);
}

/* Sum of numRecords over the snapshot's files; -1 when a file has no stats. */
static long long sum_num_records(const delta_snapshot *s) {
  long long total = 0;
  for (size_t i = 0; i < s->n_files; i++) {
    if (s->files[i].stats == NULL) return -1;
    cJSON *j = cJSON_Parse(s->files[i].stats);
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(j, "numRecords");
    long long records = cJSON_IsNumber(n) ? (long long)n->valuedouble : -1;
    cJSON_Delete(j);
    if (records < 0) return -1;
    total += records;
  }
  return total;
}

/* One DAT case, one expected version directory. */
static void check_dat(const char *table, const char *which) {
  char rel[1024], path[4096];
  snprintf(rel, sizeof rel, DAT "%s/expected/%s/table_version_metadata.json", table, which);
  shared_data_path(path, sizeof path, rel);
  char *text = read_text(path);
  CHECK(text != NULL);
  if (text == NULL) return;
  cJSON *want = cJSON_Parse(text);
  free(text);
  CHECK(want != NULL);
  if (want == NULL) return;
  int64_t version = (int64_t)cJSON_GetObjectItem(want, "version")->valuedouble;
  snprintf(rel, sizeof rel, DAT "%s/delta", table);
  delta_snapshot *s = NULL;
  tarn_error err;
  int rc = load(rel, strcmp(which, "latest") == 0 ? -1 : version, &s, &err);
  CHECK_EQ_INT(rc, 0);
  if (rc) {
    fprintf(stderr, "  %s %s: %s\n", table, which, err.message);
    cJSON_Delete(want);
    return;
  }
  CHECK_EQ_INT(s->version, version);
  CHECK_EQ_INT(s->min_reader_version, cJSON_GetObjectItem(want, "min_reader_version")->valuedouble);
  CHECK_EQ_INT(s->min_writer_version, cJSON_GetObjectItem(want, "min_writer_version")->valuedouble);
  const cJSON *props = cJSON_GetObjectItem(want, "properties");
  CHECK_EQ_INT(s->n_config, cJSON_GetArraySize(props));
  const cJSON *p;
  cJSON_ArrayForEach(p, props) CHECK_EQ_STR(delta_snapshot_config(s, p->string), p->valuestring);
  CHECK(s->schema != NULL && s->schema->kind == DELTA_TYPE_STRUCT && s->schema->n_fields > 0);

  snprintf(rel, sizeof rel, DAT "%s/expected/%s/table_content.jsonl", table, which);
  shared_data_path(path, sizeof path, rel);
  long rows = count_lines(path);
  long long records = sum_num_records(s);
  if (rows >= 0) CHECK_EQ_INT(records, rows);
  if (strcmp(table, "no_stats") == 0) /* numRecords only, no column statistics */
    for (size_t i = 0; i < s->n_files; i++)
      CHECK(s->files[i].stats && strstr(s->files[i].stats, "minValues") == NULL);
  delta_snapshot_free(s);
  cJSON_Delete(want);
}

static void test_dat(void) {
  static const char *const cases[][5] = {{"all_primitive_types", "latest"},
                                         {"basic_append", "latest", "v0", "v1"},
                                         {"basic_partitioned", "latest", "v0", "v1"},
                                         {"multi_partitioned", "latest", "v0", "v1", "v2"},
                                         {"nested_types", "latest"},
                                         {"no_stats", "latest"},
                                         {"with_checkpoint", "latest"},
                                         {"with_schema_change", "latest", "v1"}};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
    for (int k = 1; k < 5 && cases[i][k]; k++)
      check_dat(cases[i][0], cases[i][k]);
}

static void expect_error(const char *rel, int64_t version, int code, const char *needle) {
  delta_snapshot *s = NULL;
  tarn_error err;
  int rc = load(rel, version, &s, &err);
  CHECK_EQ_INT(rc, code);
  CHECK(s == NULL);
  CHECK(strstr(err.message, needle) != NULL);
  if (strstr(err.message, needle) == NULL) fprintf(stderr, "  message: %s\n", err.message);
  delta_snapshot_free(s);
}

static void test_golden_failures(void) {
  expect_error(GOLDEN "versions-not-contiguous/delta", -1, TARN_ECORRUPT,
               "versions not contiguous: missing version 1");
  expect_error(GOLDEN "deltalog-invalid-protocol-version/delta", -1, TARN_EUNSUPPORTED,
               "reader version 99");
  expect_error(GOLDEN "deltalog-state-reconstruction-without-metadata/delta", -1, TARN_ECORRUPT,
               "no metaData");
  expect_error(GOLDEN "deltalog-state-reconstruction-from-checkpoint-missing-metadata/delta", -1,
               TARN_ECORRUPT, "no metaData");
  expect_error(GOLDEN "no-delta-log-folder/delta", -1, TARN_EINVAL, "not a Delta table");
  char path[4096];
  shared_data_path(path, sizeof path, GOLDEN "no-delta-log-folder/delta");
  CHECK(!delta_is_table(path));
  shared_data_path(path, sizeof path, GOLDEN "checkpoint/delta");
  CHECK(delta_is_table(path));
  /* a version past the end, and one before the oldest checkpoint of a vacuumed log */
  expect_error(GOLDEN "checkpoint/delta", 15, TARN_EINVAL, "available versions are 0 to 14");
  expect_error(DELTA_RS "checkpoints_vacuumed", 2, TARN_EINVAL, "available versions are 5 to 12");
  /* reader features tarn does not implement are named */
  expect_error("testdata/delta-kernel-rs/kernel/tests/data/table-with-geo", -1, TARN_EUNSUPPORTED,
               "reader feature 'geospatial'");
}

/* Checkpointed tables: live files (from the independent JSON-only replay), version, protocol. */
static void test_checkpoints(void) {
  static const struct {
    const char *rel;
    int64_t version;
    int reader, writer;
    size_t files, txns;
  } cases[] = {
      {GOLDEN "checkpoint/delta", 14, 1, 2, 1, 0},
      {GOLDEN "multi-part-checkpoint/delta", 1, 1, 2, 10, 0},
      {GOLDEN "v2-checkpoint-json/delta", 2, 3, 7, 4, 0},
      {GOLDEN "only-checkpoint-files/delta", 2, 1, 2, 7, 0},
      {GOLDEN "corrupted-last-checkpoint-kernel/delta", 11, 1, 2, 2, 0},
      {GOLDEN "dv-partitioned-with-checkpoint/delta", 15, 3, 7, 15, 0},
      {GOLDEN "basic-with-inserts-deletes-checkpoint/delta", 13, 1, 2, 7, 0},
      {GOLDEN "delete-re-add-same-file-different-transactions/delta", 3, 1, 2, 2, 0},
      {GOLDEN "log-replay-dv-key-cases/delta", 3, 3, 7, 1, 0},
      {GOLDEN "log-replay-latest-metadata-protocol/delta", 2, 3, 7, 4, 0},
      {"testdata/delta-kernel-rs/kernel/tests/data/v2-checkpoints-json-with-last-checkpoint", 0, 3,
       7, 2, 0},
      {"testdata/delta-kernel-rs/kernel/tests/data/v2-checkpoints-json-with-sidecars", 6, 3, 7, 101,
       0},
      {"testdata/delta-kernel-rs/kernel/tests/data/v2-checkpoints-parquet-without-sidecars", 2, 3,
       7, 3, 1},
      {DELTA_RS "checkpoint-v2-table", 9, 3, 7, 8, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    delta_snapshot *s = NULL;
    tarn_error err;
    int rc = load(cases[i].rel, -1, &s, &err);
    CHECK_EQ_INT(rc, 0);
    if (rc) {
      fprintf(stderr, "  %s: %s\n", cases[i].rel, err.message);
      continue;
    }
    CHECK_EQ_INT(s->version, cases[i].version);
    CHECK_EQ_INT(s->min_reader_version, cases[i].reader);
    CHECK_EQ_INT(s->min_writer_version, cases[i].writer);
    CHECK_EQ_INT(s->n_files, cases[i].files);
    CHECK_EQ_INT(s->n_txns, cases[i].txns);
    for (size_t f = 1; f < s->n_files; f++)
      CHECK(strcmp(s->files[f - 1].path, s->files[f].path) <= 0);
    delta_snapshot_free(s);
  }
  /* the checkpoint golden table's version 14 commit says "timestamp":1697495786458 */
  delta_snapshot *s = NULL;
  tarn_error err;
  if (load(GOLDEN "checkpoint/delta", -1, &s, &err) == 0) {
    CHECK_EQ_INT(s->timestamp_ms, 1697495786458LL);
    delta_snapshot_free(s);
  }
  /* dv-partitioned-with-checkpoint: partitioned by "part"; every file has a value */
  if (load(GOLDEN "dv-partitioned-with-checkpoint/delta", -1, &s, &err) == 0) {
    CHECK_EQ_INT(s->n_partition_columns, 1);
    CHECK_EQ_STR(s->partition_columns[0], "part");
    size_t with_dv = 0;
    for (size_t f = 0; f < s->n_files; f++) {
      CHECK(s->files[f].partition_values[0] != NULL);
      with_dv += s->files[f].dv.storage_type != 0;
    }
    CHECK(with_dv > 0);
    delta_snapshot_free(s);
  }
}

/* delta-rs table_with_column_mapping: partitionValues are keyed by the physical name
 * col-173b4db9-...; values from its 0.json. */
static void test_column_mapping(void) {
  delta_snapshot *s = NULL;
  tarn_error err;
  int rc = load(DELTA_RS "table_with_column_mapping", -1, &s, &err);
  CHECK_EQ_INT(rc, 0);
  if (rc) return;
  CHECK_EQ_INT(s->n_files, 2);
  CHECK_EQ_STR(s->partition_columns[0], "Company Very Short");
  if (s->n_files == 2) {
    CHECK_EQ_STR(s->files[0].path,
                 "8v/part-00001-69b4a452-aeac-4ffa-bf5c-a0c2833d05eb.c000.zstd.parquet");
    CHECK_EQ_STR(s->files[0].partition_values[0], "BME");
    CHECK_EQ_STR(s->files[1].partition_values[0], "BMS");
  }
  bool found = false;
  for (size_t i = 0; i < s->schema->n_fields; i++)
    if (strcmp(s->schema->fields[i].name, "Company Very Short") == 0) {
      found = true;
      CHECK_EQ_STR(s->schema->fields[i].physical_name, "col-173b4db9-b5ad-427f-9e75-516aae37fbbb");
      CHECK(s->schema->fields[i].field_id > 0);
    }
  CHECK(found);
  CHECK_EQ_INT(s->timestamp_ms, 1699946089972LL);
  delta_snapshot_free(s);
}

/* delta-rs cdc_ict_table: commit 1 has inCommitTimestamp 1683874206883 but timestamp
 * 1783874206883 (from the log): the in-commit timestamp wins. */
static void test_timestamps_and_history(void) {
  char path[4096];
  shared_data_path(path, sizeof path, DELTA_RS "cdc_ict_table");
  tarn_arena a = {0};
  delta_commit *c = NULL;
  size_t n = 0;
  tarn_error err = {0};
  CHECK_EQ_INT(delta_history(path, &a, &c, &n, &err), 0);
  CHECK_EQ_INT(n, 4);
  if (n == 4) {
    CHECK_EQ_INT(c[0].version, 0);
    CHECK_EQ_INT(c[0].timestamp_ms, 1783874203271LL);
    CHECK_EQ_STR(c[0].operation, "CREATE OR REPLACE TABLE");
    CHECK_EQ_INT(c[1].timestamp_ms, 1683874206883LL);
    CHECK_EQ_STR(c[1].operation, "WRITE");
    CHECK_EQ_STR(c[2].operation, "DELETE");
    CHECK_EQ_STR(c[3].operation, "UPDATE");
    CHECK_EQ_INT(c[3].timestamp_ms, 1783874213881LL);
  }
  tarn_arena_free(&a);

  delta_snapshot *s = NULL;
  memset(&err, 0, sizeof err);
  CHECK_EQ_INT(delta_snapshot_load_at(path, 1783874213000LL, &s, &err), 0);
  if (s) CHECK_EQ_INT(s->version, 2);
  delta_snapshot_free(s);
  s = NULL;
  CHECK_EQ_INT(delta_snapshot_load_at(path, 1783874213881LL, &s, &err), 0);
  if (s) CHECK_EQ_INT(s->version, 3);
  delta_snapshot_free(s);
  s = NULL;
  memset(&err, 0, sizeof err);
  CHECK_EQ_INT(delta_snapshot_load_at(path, 1600000000000LL, &s, &err), TARN_EINVAL);
  CHECK(s == NULL);

  /* deltalog-commit-info 0.json: operation WRITE, parameters {"test":"test"}, timestamp
   * 1540415658000 (the table itself has no schema, so only its history is readable) */
  shared_data_path(path, sizeof path, GOLDEN "deltalog-commit-info/delta");
  memset(&err, 0, sizeof err);
  CHECK_EQ_INT(delta_history(path, &a, &c, &n, &err), 0);
  CHECK_EQ_INT(n, 1);
  if (n == 1) {
    CHECK_EQ_INT(c[0].timestamp_ms, 1540415658000LL);
    CHECK_EQ_STR(c[0].operation, "WRITE");
    CHECK_EQ_STR(c[0].parameters_json, "{\"test\":\"test\"}");
  }
  tarn_arena_free(&a);
}

/* ---- Tables written here ------------------------------------------------------------------ */

static char tmp_root[256];

static void write_file(const char *dir, const char *name, const char *text) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (f == NULL) return;
  fputs(text, f);
  fclose(f);
}

/* A fresh table directory <tmp_root>/<name> with an empty _delta_log. */
static void make_table(const char *name, char *dir, size_t cap, char *log, size_t log_cap) {
  snprintf(dir, cap, "%s/%s", tmp_root, name);
  snprintf(log, log_cap, "%s/_delta_log", dir);
  mkdir(dir, 0755);
  mkdir(log, 0755);
}

#define V(n) "000000000000000000" #n ".json"
#define PROTO1 "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n"
#define META(schema, parts, conf)                                                                  \
  "{\"metaData\":{\"id\":\"t1\",\"format\":{\"provider\":\"parquet\",\"options\":{}},"             \
  "\"schemaString\":" schema ",\"partitionColumns\":" parts ",\"configuration\":" conf             \
  ",\"createdTime\":1000}}\n"
#define SCHEMA_AB                                                                                  \
  "\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[{\\\"name\\\":\\\"a\\\",\\\"type\\\":"           \
  "\\\"long\\\",\\\"nullable\\\":true,\\\"metadata\\\":{}},{\\\"name\\\":\\\"p\\\",\\\"type\\\":"  \
  "\\\"string\\\",\\\"nullable\\\":true,\\\"metadata\\\":{}}]}\""
#define DV(id, off)                                                                                \
  "\"deletionVector\":{\"storageType\":\"u\",\"pathOrInlineDv\":\"" id "\",\"offset\":" #off       \
  ",\"sizeInBytes\":40,\"cardinality\":2}"

static const delta_file *find_file(const delta_snapshot *s, const char *path, const char *dv) {
  for (size_t i = 0; i < s->n_files; i++)
    if (strcmp(s->files[i].path, path) == 0 &&
        (dv == NULL
             ? s->files[i].dv.storage_type == 0
             : s->files[i].dv.storage_type && strcmp(s->files[i].dv.path_or_inline, dv) == 0))
      return &s->files[i];
  return NULL;
}

static void test_reconciliation(void) {
  char dir[512], log[512];
  make_table("recon", dir, sizeof dir, log, sizeof log);
  write_file(log, V(00),
             "{\"commitInfo\":{\"timestamp\":5000,\"operation\":\"CREATE\"}}\n" PROTO1 META(
                 SCHEMA_AB, "[\"p\"]",
                 "{\"k\":\"v\"}") "{\"add\":{\"path\":\"p=x/"
                                  "f1.parquet\",\"partitionValues\":{\"p\":\"x\"},\"size\":10,"
                                  "\"modificationTime\":1,\"dataChange\":true,\"stats\":\"{"
                                  "\\\"numRecords\\\":3}\"}}\n"
                                  "{\"add\":{\"path\":\"p=%20y/"
                                  "f2.parquet\",\"partitionValues\":{\"p\":null},"
                                  "\"size\":20,\"modificationTime\":1,\"dataChange\":true}}\n"
                                  "{\"txn\":{\"appId\":\"app\",\"version\":3}}\n"
                                  "{\"domainMetadata\":{\"domain\":\"d1\",\"configuration\":\"{}\","
                                  "\"removed\":false}}\n"
                                  "{\"domainMetadata\":{\"domain\":\"d2\",\"configuration\":\"c2\","
                                  "\"removed\":false}}\n");
  /* version 1: f1 gets a deletion vector (remove the plain file, add it with DV A); unknown
   * action kinds are ignored; a blank line and CRLF are tolerated */
  write_file(
      log, V(01),
      "{\"commitInfo\":{\"timestamp\":6000,\"inCommitTimestamp\":5500}}\r\n\r\n"
      "{\"remove\":{\"path\":\"p=x/f1.parquet\",\"dataChange\":true}}\n"
      "{\"add\":{\"path\":\"p=x/f1.parquet\",\"partitionValues\":{\"p\":\"x\"},\"size\":10,"
      "\"modificationTime\":2,\"dataChange\":true," DV(
          "A",
          1) "}}\n"
             "{\"someFutureAction\":{\"x\":1}}\n"
             "{\"txn\":{\"appId\":\"app\",\"version\":7}}\n"
             "{\"domainMetadata\":{\"domain\":\"d2\",\"configuration\":\"\",\"removed\":true}}\n");
  /* version 2: a remove with the wrong DV id cancels nothing; re-adding f2 replaces it; a new
   * metaData (configuration changes) and protocol win */
  write_file(
      log, V(02),
      "{\"remove\":{\"path\":\"p=x/f1.parquet\"," DV(
          "A",
          2) "}}\n"
             "{\"add\":{\"path\":\"p=%20y/f2.parquet\",\"partitionValues\":{\"p\":\"y\"},"
             "\"size\":21,\"modificationTime\":3,\"dataChange\":false,\"baseRowId\":4,"
             "\"defaultRowCommitVersion\":2}}\n"
             "{\"protocol\":{\"minReaderVersion\":3,\"minWriterVersion\":7,\"readerFeatures\":["
             "\"deletionVectors\"],\"writerFeatures\":[\"deletionVectors\"]}}\n" META(
                 SCHEMA_AB, "[\"p\"]", "{\"k\":\"w\",\"delta.enableDeletionVectors\":\"true\"}"));
  /* version 3: the DV'd f1 is removed (same id), a plain f1 is added back */
  write_file(
      log, V(03),
      "{\"remove\":{\"path\":\"p=x/f1.parquet\"," DV(
          "A",
          1) "}}\n"
             "{\"add\":{\"path\":\"p=x/f1.parquet\",\"partitionValues\":{\"p\":\"x\"},\"size\":11,"
             "\"modificationTime\":4,\"dataChange\":true}}\n");
  /* files that are not commits must be ignored */
  write_file(log, "._" V(04), "garbage");
  write_file(log, "00000000000000000003.crc", "garbage");
  write_file(log, "00000000000000000000.00000000000000000003.compacted.json", "garbage");
  write_file(log, "_last_checkpoint", "{not json");
  /* an incomplete multi-part checkpoint (part 2 of 2 missing) must not be used */
  write_file(log, "00000000000000000002.checkpoint.0000000001.0000000002.parquet", "garbage");

  delta_snapshot *s = NULL;
  tarn_error err = {0};
  int rc = delta_snapshot_load(dir, 0, &s, &err);
  CHECK_EQ_INT(rc, 0);
  if (rc) fprintf(stderr, "  %s\n", err.message);
  if (s) {
    CHECK_EQ_INT(s->version, 0);
    CHECK_EQ_INT(s->timestamp_ms, 5000);
    CHECK_EQ_INT(s->n_files, 2);
    CHECK_EQ_STR(s->files[0].path, "p=%20y/f2.parquet"); /* sorted; kept URL-encoded */
    CHECK(s->files[0].partition_values[0] == NULL);
    CHECK_EQ_STR(s->files[1].partition_values[0], "x");
    CHECK_EQ_STR(s->files[1].stats, "{\"numRecords\":3}");
    CHECK_EQ_INT(s->n_txns, 1);
    CHECK_EQ_INT(s->n_domains, 2);
    CHECK_EQ_STR(delta_snapshot_config(s, "k"), "v");
    CHECK_EQ_INT(s->created_time, 1000);
    CHECK_EQ_STR(s->metadata_id, "t1");
    CHECK_EQ_STR(s->format_provider, "parquet");
    delta_snapshot_free(s);
    s = NULL;
  }
  rc = delta_snapshot_load(dir, 1, &s, &err);
  CHECK_EQ_INT(rc, 0);
  if (s) {
    CHECK_EQ_INT(s->timestamp_ms, 5500); /* inCommitTimestamp over timestamp */
    CHECK_EQ_INT(s->n_files, 2);
    const delta_file *f1 = find_file(s, "p=x/f1.parquet", "A");
    CHECK(f1 != NULL);
    if (f1) {
      CHECK_EQ_INT(f1->dv.storage_type, 'u');
      CHECK_EQ_INT(f1->dv.offset, 1);
      CHECK_EQ_INT(f1->dv.size_in_bytes, 40);
      CHECK_EQ_INT(f1->dv.cardinality, 2);
      CHECK_EQ_INT(f1->modification_time, 2);
    }
    CHECK(find_file(s, "p=x/f1.parquet", NULL) == NULL);
    CHECK_EQ_INT(s->n_txns, 1);
    if (s->n_txns == 1) CHECK_EQ_INT(s->txn_versions[0], 7);
    CHECK_EQ_INT(s->n_domains, 1);
    if (s->n_domains == 1) {
      CHECK_EQ_STR(s->domains[0], "d1");
      CHECK_EQ_STR(s->domain_configs[0], "{}");
    }
    delta_snapshot_free(s);
    s = NULL;
  }
  rc = delta_snapshot_load(dir, 2, &s, &err);
  CHECK_EQ_INT(rc, 0);
  if (s) {
    CHECK_EQ_INT(s->n_files, 2);
    CHECK(find_file(s, "p=x/f1.parquet", "A") != NULL);
    const delta_file *f2 = find_file(s, "p=%20y/f2.parquet", NULL);
    CHECK(f2 != NULL);
    if (f2) {
      CHECK_EQ_INT(f2->size, 21);
      CHECK_EQ_STR(f2->partition_values[0], "y");
      CHECK_EQ_INT(f2->base_row_id, 4);
      CHECK_EQ_INT(f2->default_row_commit_version, 2);
    }
    CHECK_EQ_INT(s->min_reader_version, 3);
    CHECK_EQ_INT(s->n_reader_features, 1);
    CHECK_EQ_STR(delta_snapshot_config(s, "k"), "w");
    CHECK_EQ_INT(s->n_config, 2);
    delta_snapshot_free(s);
    s = NULL;
  }
  rc = delta_snapshot_load(dir, -1, &s, &err);
  CHECK_EQ_INT(rc, 0);
  if (s) {
    CHECK_EQ_INT(s->version, 3);
    CHECK_EQ_INT(s->n_files, 2);
    const delta_file *f1 = find_file(s, "p=x/f1.parquet", NULL);
    CHECK(f1 != NULL);
    if (f1) CHECK_EQ_INT(f1->size, 11);
    CHECK(find_file(s, "p=x/f1.parquet", "A") == NULL);
    CHECK(s->files[0].size == -1 || s->files[0].size > 0);
    delta_snapshot_free(s);
    s = NULL;
  }
  memset(&err, 0, sizeof err);
  rc = delta_snapshot_load(dir, 4, &s, &err);
  CHECK_EQ_INT(rc, TARN_EINVAL);
  CHECK(strstr(err.message, "available versions are 0 to 3") != NULL);

  /* timestamps: 0 -> 5000, 1 -> 5500, 2 and 3 have no commitInfo: their files' mtimes (now) */
  memset(&err, 0, sizeof err);
  rc = delta_snapshot_load_at(dir, 5400, &s, &err);
  CHECK_EQ_INT(rc, 0);
  if (s) CHECK_EQ_INT(s->version, 0);
  delta_snapshot_free(s);
  s = NULL;
  rc = delta_snapshot_load_at(dir, 5600, &s, &err);
  if (s) CHECK_EQ_INT(s->version, 1);
  delta_snapshot_free(s);
  s = NULL;

  tarn_arena a = {0};
  delta_commit *c = NULL;
  size_t n = 0;
  CHECK_EQ_INT(delta_history(dir, &a, &c, &n, &err), 0);
  CHECK_EQ_INT(n, 4);
  if (n == 4) {
    CHECK_EQ_STR(c[0].operation, "CREATE");
    CHECK(c[0].parameters_json == NULL);
    CHECK(c[2].operation == NULL);
    CHECK(c[2].timestamp_ms > 1600000000000LL); /* the file's mtime */
  }
  tarn_arena_free(&a);
}

static void copy_file(const char *from, const char *to) {
  FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
  if (in && out) {
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
      fwrite(buf, 1, n, out);
  }
  if (in) fclose(in);
  if (out) fclose(out);
}

/* The checkpoint golden table with commits 0..10 gone: only the version 10 checkpoint and
 * commits 11..14 remain, so the state must come from the Parquet checkpoint. The live-file
 * count (1) is the JSON-only replay's; versions before 10 no longer exist. */
static void test_checkpoint_only(void) {
  char dir[512], log[512], from[4096], to[1024];
  make_table("cp_only", dir, sizeof dir, log, sizeof log);
  static const char *const names[] = {"00000000000000000010.checkpoint.parquet",
                                      "00000000000000000011.json", "00000000000000000012.json",
                                      "00000000000000000013.json", "00000000000000000014.json"};
  for (size_t i = 0; i < 5; i++) {
    char rel[512];
    snprintf(rel, sizeof rel, GOLDEN "checkpoint/delta/_delta_log/%s", names[i]);
    shared_data_path(from, sizeof from, rel);
    snprintf(to, sizeof to, "%s/%s", log, names[i]);
    copy_file(from, to);
  }
  delta_snapshot *s = NULL;
  tarn_error err = {0};
  int rc = delta_snapshot_load(dir, -1, &s, &err);
  CHECK_EQ_INT(rc, 0);
  if (rc) fprintf(stderr, "  %s\n", err.message);
  if (s) {
    CHECK_EQ_INT(s->version, 14);
    CHECK_EQ_INT(s->n_files, 1);
    CHECK_EQ_INT(s->min_reader_version, 1);
    CHECK(s->schema && s->schema->n_fields == 1);
    delta_snapshot_free(s);
    s = NULL;
  }
  rc = delta_snapshot_load(dir, 10, &s, &err);
  CHECK_EQ_INT(rc, 0);
  delta_snapshot_free(s);
  s = NULL;
  memset(&err, 0, sizeof err);
  CHECK_EQ_INT(delta_snapshot_load(dir, 9, &s, &err), TARN_EINVAL);
  CHECK(strstr(err.message, "available versions are 10 to 14") != NULL);
  /* a checkpoint that is not Parquet is a corrupt log, named */
  snprintf(to, sizeof to, "%s/00000000000000000012.checkpoint.parquet", log);
  write_file(log, "00000000000000000012.checkpoint.parquet", "not parquet at all");
  memset(&err, 0, sizeof err);
  rc = delta_snapshot_load(dir, -1, &s, &err);
  CHECK(rc == TARN_ECORRUPT || rc == TARN_EIO);
  CHECK(strstr(err.message, "00000000000000000012.checkpoint.parquet") != NULL);
  delta_snapshot_free(s);
}

static void test_schema(void) {
  char dir[512], log[512];
  make_table("schema", dir, sizeof dir, log, sizeof log);
  /* a schema of every shape, written by hand from PROTOCOL.md "Schema Serialization Format" */
  static const char schema[] =
      "{\"type\":\"struct\",\"fields\":["
      "{\"name\":\"d\",\"type\":\"decimal(12,3)\",\"nullable\":false,\"metadata\":{}},"
      "{\"name\":\"arr\",\"type\":{\"type\":\"array\",\"elementType\":\"string\","
      "\"containsNull\":false},\"nullable\":true,\"metadata\":{\"comment\":\"x\"}},"
      "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"keyType\":\"string\",\"valueType\":"
      "{\"type\":\"struct\",\"fields\":[{\"name\":\"i\",\"type\":\"integer\",\"nullable\":true,"
      "\"metadata\":{}}]},\"valueContainsNull\":true},\"nullable\":true,\"metadata\":{}},"
      "{\"name\":\"t\",\"type\":\"timestamp_ntz\",\"nullable\":true,\"metadata\":{"
      "\"delta.columnMapping.id\":5,\"delta.columnMapping.physicalName\":\"col-5\"}}]}";
  cJSON *meta = cJSON_CreateObject();
  cJSON *md = cJSON_AddObjectToObject(meta, "metaData");
  cJSON_AddStringToObject(md, "id", "s");
  cJSON_AddStringToObject(md, "schemaString", schema);
  cJSON_AddArrayToObject(md, "partitionColumns");
  char *meta_line = cJSON_PrintUnformatted(meta);
  cJSON_Delete(meta);
  char text[4096];
  snprintf(text, sizeof text,
           "{\"protocol\":{\"minReaderVersion\":3,\"minWriterVersion\":7,\"readerFeatures\":["
           "\"timestampNtz\",\"columnMapping\"],\"writerFeatures\":[]}}\n%s\n",
           meta_line);
  free(meta_line);
  write_file(log, V(00), text);
  delta_snapshot *s = NULL;
  tarn_error err = {0};
  int rc = delta_snapshot_load(dir, -1, &s, &err);
  CHECK_EQ_INT(rc, 0);
  if (rc) fprintf(stderr, "  %s\n", err.message);
  if (s == NULL) return;
  const delta_type *t = s->schema;
  CHECK_EQ_INT(t->kind, DELTA_TYPE_STRUCT);
  CHECK_EQ_INT(t->n_fields, 4);
  if (t->n_fields == 4) {
    CHECK_EQ_STR(t->fields[0].name, "d");
    CHECK_EQ_INT(t->fields[0].type->kind, DELTA_TYPE_PRIMITIVE);
    CHECK_EQ_STR(t->fields[0].type->name, "decimal(12,3)");
    CHECK_EQ_INT(t->fields[0].type->precision, 12);
    CHECK_EQ_INT(t->fields[0].type->scale, 3);
    CHECK(!t->fields[0].nullable);
    CHECK_EQ_STR(t->fields[0].metadata_json, "{}");
    CHECK_EQ_INT(t->fields[0].field_id, -1);
    CHECK(t->fields[0].physical_name == NULL);
    CHECK_EQ_INT(t->fields[1].type->kind, DELTA_TYPE_ARRAY);
    CHECK(!t->fields[1].type->contains_null);
    CHECK_EQ_STR(t->fields[1].type->element->name, "string");
    CHECK_EQ_STR(t->fields[1].metadata_json, "{\"comment\":\"x\"}");
    const delta_type *m = t->fields[2].type;
    CHECK_EQ_INT(m->kind, DELTA_TYPE_MAP);
    CHECK(m->value_contains_null);
    CHECK_EQ_STR(m->key->name, "string");
    CHECK_EQ_INT(m->value->kind, DELTA_TYPE_STRUCT);
    CHECK_EQ_INT(m->value->n_fields, 1);
    CHECK_EQ_STR(t->fields[3].type->name, "timestamp_ntz");
    CHECK_EQ_STR(t->fields[3].physical_name, "col-5");
    CHECK_EQ_INT(t->fields[3].field_id, 5);
  }
  delta_snapshot_free(s);
}

static void expect_local_error(const char *name, const char *commit0, int code,
                               const char *needle) {
  char dir[512], log[512];
  make_table(name, dir, sizeof dir, log, sizeof log);
  write_file(log, V(00), commit0);
  delta_snapshot *s = NULL;
  tarn_error err = {0};
  CHECK_EQ_INT(delta_snapshot_load(dir, -1, &s, &err), code);
  CHECK(s == NULL);
  CHECK(strstr(err.message, needle) != NULL);
  if (strstr(err.message, needle) == NULL) fprintf(stderr, "  %s: %s\n", name, err.message);
  CHECK(strstr(err.message, dir) != NULL);
  delta_snapshot_free(s);
}

static void test_bad_logs(void) {
  expect_local_error("malformed", PROTO1 META(SCHEMA_AB, "[]", "{}") "{\"add\":{\"path\":\n",
                     TARN_ECORRUPT, "00000000000000000000.json line 3");
  expect_local_error(
      "feature",
      "{\"protocol\":{\"minReaderVersion\":3,\"minWriterVersion\":7,"
      "\"readerFeatures\":[\"deletionVectors\",\"fancyNewThing\"]}}\n" META(SCHEMA_AB, "[]", "{}"),
      TARN_EUNSUPPORTED,
      "table requires reader feature 'fancyNewThing', which tarn does not support");
  expect_local_error("v3nofeatures",
                     "{\"protocol\":{\"minReaderVersion\":3,\"minWriterVersion\":7}}\n" META(
                         SCHEMA_AB, "[]", "{}"),
                     TARN_ECORRUPT, "readerFeatures");
  expect_local_error("noprotocol", META(SCHEMA_AB, "[]", "{}"), TARN_ECORRUPT, "no protocol");
  expect_local_error("badschema", PROTO1 META("\"{\\\"type\\\":\\\"array\\\"}\"", "[]", "{}"),
                     TARN_ECORRUPT, "schemaString");
  expect_local_error("addnopath", PROTO1 META(SCHEMA_AB, "[]", "{}") "{\"add\":{\"size\":1}}\n",
                     TARN_ECORRUPT, "add action without path");
  expect_local_error("badsize",
                     PROTO1 META(SCHEMA_AB, "[]", "{}") "{\"add\":{\"path\":\"a\",\"size\":1.5}}\n",
                     TARN_ECORRUPT, "size");
  expect_local_error("notobject", PROTO1 "[1,2]\n", TARN_ECORRUPT, "line 2");

  /* early commits cleaned up without a checkpoint */
  char dir[512], log[512];
  make_table("nostart", dir, sizeof dir, log, sizeof log);
  write_file(log, V(05), PROTO1 META(SCHEMA_AB, "[]", "{}"));
  delta_snapshot *s = NULL;
  tarn_error err = {0};
  CHECK_EQ_INT(delta_snapshot_load(dir, -1, &s, &err), TARN_ECORRUPT);
  CHECK(strstr(err.message, "missing version 0") != NULL);
  /* an empty log */
  make_table("empty", dir, sizeof dir, log, sizeof log);
  memset(&err, 0, sizeof err);
  CHECK_EQ_INT(delta_snapshot_load(dir, -1, &s, &err), TARN_EINVAL);
}

/* Every table directory in the shared data loads or fails cleanly (the sanitizers watch). */
static void smoke_dir(const char *dir, int depth, int *tables) {
  if (depth > 8) return;
  char log[4096];
  snprintf(log, sizeof log, "%s/_delta_log", dir);
  struct stat st;
  if (stat(log, &st) == 0 && S_ISDIR(st.st_mode)) {
    delta_snapshot *s = NULL;
    tarn_error err = {0};
    int rc = delta_snapshot_load(dir, -1, &s, &err);
    CHECK(rc == 0 || rc == TARN_ECORRUPT || rc == TARN_EUNSUPPORTED || rc == TARN_EINVAL);
    CHECK((rc == 0) == (s != NULL));
    if (rc) CHECK(strncmp(err.message, "delta table ", 12) == 0);
    if (rc == 0) {
      /* Writing the parsed schema back gives the log's schema string again (as JSON values:
       * key order and spacing aside). */
      tarn_buf b = {0};
      CHECK_EQ_INT(delta_schema_json(s->schema, &b, NULL), 0);
      tarn_buf_append(&b, "", 1, NULL);
      cJSON *written = cJSON_Parse((const char *)b.data);
      cJSON *original = cJSON_Parse(s->schema_string);
      CHECK(written != NULL && original != NULL && cJSON_Compare(written, original, true));
      cJSON_Delete(written);
      cJSON_Delete(original);
      tarn_buf_free(&b);
    }
    delta_snapshot_free(s);
    tarn_arena a = {0};
    delta_commit *c;
    size_t n;
    memset(&err, 0, sizeof err);
    rc = delta_history(dir, &a, &c, &n, &err);
    tarn_arena_free(&a);
    (*tables)++;
    return;
  }
  DIR *d = opendir(dir);
  if (d == NULL) return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    char sub[4096];
    snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
    if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode)) smoke_dir(sub, depth + 1, tables);
  }
  closedir(d);
}

static void test_smoke_all(void) {
  static const char *const roots[] = {"testdata/dat", "testdata/delta-kernel-rs",
                                      "testdata/delta-rs", "testdata/delta-golden-tables"};
  int tables = 0;
  for (size_t i = 0; i < sizeof roots / sizeof *roots; i++) {
    char path[4096];
    shared_data_path(path, sizeof path, roots[i]);
    smoke_dir(path, 0, &tables);
  }
  CHECK(tables > 100);
}

static void rm_tree(const char *dir) {
  DIR *d = opendir(dir);
  if (d == NULL) return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    char sub[1024];
    snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
    struct stat st;
    if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
      rm_tree(sub);
    else
      unlink(sub);
  }
  closedir(d);
  rmdir(dir);
}

int main(void) {
  snprintf(tmp_root, sizeof tmp_root, "/tmp/tarn_delta_log_XXXXXX");
  if (mkdtemp(tmp_root) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  RUN(test_dat);
  RUN(test_golden_failures);
  RUN(test_checkpoints);
  RUN(test_column_mapping);
  RUN(test_timestamps_and_history);
  RUN(test_reconciliation);
  RUN(test_checkpoint_only);
  RUN(test_schema);
  RUN(test_bad_logs);
  RUN(test_smoke_all);
  rm_tree(tmp_root);
  return check_finish();
}
