/*
 * Delta commits (src/table/delta/delta_commit.c).
 *
 * What is written is checked two independent ways: read back with delta_snapshot_load (the
 * reader is tested against tables written by Spark and delta-rs), and parsed here line by line
 * with cJSON against PROTOCOL.md's required fields. Concurrency is tested with real processes:
 * forked writers racing for versions, and writers killed with SIGKILL at random moments; what
 * they acknowledged (written down only after a commit returned) must all be in the log.
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "table/delta/delta_commit.h"
#include "text_file.h"

#define SCHEMA                                                                                     \
  "{\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"long\",\"nullable\":true,"         \
  "\"metadata\":{}},{\"name\":\"part\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}}]}"

static char tmp_root[256];

static void make_table_path(char *out, size_t cap, const char *name) {
  snprintf(out, cap, "%s/%s", tmp_root, name);
}

/* ---- An independent look at the log --------------------------------------------------------- */

typedef struct log_check {
  int64_t last_version; /* -1: no commits */
  bool contiguous;      /* versions 0..last, no gap */
  bool well_formed;     /* every line a known action with PROTOCOL.md's required fields */
  long n_adds, n_removes;
  int n_temp_files; /* leftovers of killed writers */
} log_check;

static bool has_str(const cJSON *o, const char *k) {
  return cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, k));
}
static bool has_num(const cJSON *o, const char *k) {
  return cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o, k));
}

/* Checks one action line; fails loudly naming the file. */
static bool check_action_line(const char *file, int line_no, const char *line, log_check *c) {
  cJSON *j = cJSON_Parse(line);
  bool ok = cJSON_IsObject(j) && cJSON_GetArraySize(j) == 1;
  const cJSON *a = ok ? j->child : NULL;
  const char *kind = a ? a->string : "";
  if (ok && line_no == 1) ok = strcmp(kind, "commitInfo") == 0; /* commitInfo first */
  if (!ok) {
  } else if (strcmp(kind, "commitInfo") == 0) {
    ok = has_num(a, "timestamp") && has_str(a, "operation") &&
         cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(a, "operationParameters"));
  } else if (strcmp(kind, "protocol") == 0) {
    ok = has_num(a, "minReaderVersion") && has_num(a, "minWriterVersion");
  } else if (strcmp(kind, "metaData") == 0) {
    const cJSON *format = cJSON_GetObjectItemCaseSensitive(a, "format");
    ok = has_str(a, "id") && cJSON_IsObject(format) && has_str(format, "provider") &&
         has_str(a, "schemaString") &&
         cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(a, "partitionColumns")) &&
         cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(a, "configuration"));
  } else if (strcmp(kind, "add") == 0) {
    ok = has_str(a, "path") &&
         cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(a, "partitionValues")) &&
         has_num(a, "size") && has_num(a, "modificationTime") &&
         cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(a, "dataChange"));
    c->n_adds++;
  } else if (strcmp(kind, "remove") == 0) {
    ok = has_str(a, "path") && cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(a, "dataChange")) &&
         has_num(a, "deletionTimestamp");
    c->n_removes++;
  } else if (strcmp(kind, "txn") == 0) {
    ok = has_str(a, "appId") && has_num(a, "version");
  } else {
    ok = false;
  }
  if (!ok) fprintf(stderr, "bad action in %s line %d: %s\n", file, line_no, line);
  cJSON_Delete(j);
  return ok;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

static void scan_log(const char *table, log_check *c) {
  memset(c, 0, sizeof *c);
  c->last_version = -1;
  c->contiguous = c->well_formed = true;
  char dir[512];
  snprintf(dir, sizeof dir, "%s/_delta_log", table);
  DIR *d = opendir(dir);
  if (d == NULL) {
    c->contiguous = c->well_formed = false;
    return;
  }
  int64_t versions[4096];
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strncmp(e->d_name, ".tmp-", 5) == 0) c->n_temp_files++;
    char *end;
    long long v = strtoll(e->d_name, &end, 10);
    if (end == e->d_name + 20 && strcmp(end, ".json") == 0 && n < 4096) versions[n++] = v;
  }
  closedir(d);
  qsort(versions, n, sizeof *versions, cmp_i64);
  for (size_t i = 0; i < n; i++)
    if (versions[i] != (int64_t)i) c->contiguous = false;
  c->last_version = n ? versions[n - 1] : -1;
  for (size_t i = 0; i < n; i++) {
    char path[600];
    snprintf(path, sizeof path, "%s/%020lld.json", dir, (long long)versions[i]);
    char *text = read_text(path);
    if (text == NULL) {
      c->well_formed = false;
      continue;
    }
    int line_no = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
      if (!check_action_line(path, ++line_no, line, c)) c->well_formed = false;
    free(text);
  }
}

/* Whether commit `version` of table adds `path`. */
static bool commit_adds(const char *table, int64_t version, const char *path) {
  char file[600];
  snprintf(file, sizeof file, "%s/_delta_log/%020lld.json", table, (long long)version);
  char *text = read_text(file);
  bool found = false;
  for (char *line = text ? strtok(text, "\n") : NULL; line && !found; line = strtok(NULL, "\n")) {
    cJSON *j = cJSON_Parse(line);
    const cJSON *add = cJSON_GetObjectItemCaseSensitive(j, "add");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(add, "path");
    found = cJSON_IsString(p) && strcmp(p->valuestring, path) == 0;
    cJSON_Delete(j);
  }
  free(text);
  return found;
}

static bool snapshot_has(const delta_snapshot *s, const char *path) {
  for (size_t i = 0; i < s->n_files; i++)
    if (strcmp(s->files[i].path, path) == 0) return true;
  return false;
}

static bool no_duplicate_paths(const delta_snapshot *s) {
  for (size_t i = 1; i < s->n_files; i++) /* sorted by path */
    if (strcmp(s->files[i - 1].path, s->files[i].path) == 0) return false;
  return true;
}

/* ---- Helpers that commit -------------------------------------------------------------------- */

/* Creates table with protocol (1, 2), the two-column schema partitioned by "part", two files. */
static int create_table(const char *table, int64_t *version) {
  tarn_error err = {0};
  delta_txn *t;
  if (delta_txn_begin(table, &t, &err) != 0) return -1;
  const char *pc[] = {"part"};
  const char *keys[] = {"delta.appendOnly"}, *values[] = {"false"};
  const char *pa[] = {"a"}, *pnull[] = {NULL};
  int rc = delta_txn_set_protocol(t, 1, 2, NULL, 0, NULL, 0, &err);
  if (rc == 0) rc = delta_txn_set_metadata(t, SCHEMA, pc, 1, keys, values, 1, &err);
  if (rc == 0)
    rc = delta_txn_add_file(t, "part=a/f0.parquet", pa, 100, 1700000000000, "{\"numRecords\":3}",
                            &err);
  if (rc == 0)
    rc = delta_txn_add_file(t, "part=__HIVE_DEFAULT_PARTITION__/f1.parquet", pnull, 200,
                            1700000000001, NULL, &err);
  if (rc == 0) rc = delta_txn_commit(t, 0, version, &err);
  if (rc) fprintf(stderr, "create_table: %s\n", err.message);
  delta_txn_free(t);
  return rc;
}

/* One blind append of `path` (partition "x"). */
static int append_file(const char *table, const char *path, int max_retries, int64_t *version,
                       tarn_error *err) {
  delta_txn *t;
  int rc = delta_txn_begin(table, &t, err);
  if (rc) return rc;
  const char *pv[] = {"x"};
  rc = delta_txn_add_file(t, path, pv, 10, 1700000000000, NULL, err);
  if (rc == 0) rc = delta_txn_commit(t, max_retries, version, err);
  delta_txn_free(t);
  return rc;
}

/* ---- Tests ---------------------------------------------------------------------------------- */

static void test_create_and_append(void) {
  char table[300];
  make_table_path(table, sizeof table, "create/nested/t1"); /* directories made as needed */
  int64_t v = -1;
  CHECK_EQ_INT(create_table(table, &v), 0);
  CHECK_EQ_INT(v, 0);

  tarn_error err = {0};
  delta_snapshot *s = NULL;
  CHECK_EQ_INT(delta_snapshot_load(table, -1, &s, &err), 0);
  if (s == NULL) return;
  CHECK_EQ_INT(s->version, 0);
  CHECK_EQ_INT(s->min_reader_version, 1);
  CHECK_EQ_INT(s->min_writer_version, 2);
  CHECK_EQ_INT(s->n_partition_columns, 1);
  CHECK_EQ_STR(s->partition_columns[0], "part");
  CHECK_EQ_INT(s->schema->n_fields, 2);
  CHECK_EQ_STR(delta_snapshot_config(s, "delta.appendOnly"), "false");
  CHECK(s->metadata_id != NULL && strlen(s->metadata_id) == 36 && s->metadata_id[14] == '4');
  CHECK(s->created_time > 1600000000000);
  CHECK_EQ_INT(s->n_files, 2);
  if (s->n_files == 2) {
    CHECK_EQ_STR(s->files[0].path, "part=__HIVE_DEFAULT_PARTITION__/f1.parquet");
    CHECK(s->files[0].partition_values[0] == NULL);
    CHECK(s->files[0].stats == NULL);
    CHECK_EQ_STR(s->files[1].path, "part=a/f0.parquet");
    CHECK_EQ_STR(s->files[1].partition_values[0], "a");
    CHECK_EQ_INT(s->files[1].size, 100);
    CHECK_EQ_INT(s->files[1].modification_time, 1700000000000);
    CHECK_EQ_STR(s->files[1].stats, "{\"numRecords\":3}");
  }
  char *id = strdup(s->metadata_id);
  delta_snapshot_free(s);

  /* two appends, one with an operation whose strings need escaping */
  delta_txn *t;
  CHECK_EQ_INT(delta_txn_begin(table, &t, &err), 0);
  CHECK(delta_txn_snapshot(t) != NULL && delta_txn_snapshot(t)->version == 0);
  const char *pv[] = {"quote\"d \\ \n"};
  CHECK_EQ_INT(delta_txn_add_file(t, "part=q/f2.parquet", pv, 5, 1, "{\"a\":\"x\\\"y\"}", &err), 0);
  CHECK_EQ_INT(delta_txn_set_operation(t, "WRITE \"odd\"", "{\"mode\":\"Append\\n\"}", &err), 0);
  CHECK_EQ_INT(delta_txn_set_operation(t, "WRITE", "[1]", &err), TARN_EINVAL);
  err.code = 0;
  CHECK_EQ_INT(delta_txn_commit(t, 0, &v, &err), 0);
  CHECK_EQ_INT(v, 1);
  CHECK_EQ_INT(delta_txn_commit(t, 0, &v, &err), TARN_EINVAL); /* commits once */
  delta_txn_free(t);
  memset(&err, 0, sizeof err);
  CHECK_EQ_INT(append_file(table, "part=x/f3.parquet", 0, &v, &err), 0);
  CHECK_EQ_INT(v, 2);

  CHECK_EQ_INT(delta_snapshot_load(table, -1, &s, &err), 0);
  if (s) {
    CHECK_EQ_INT(s->version, 2);
    CHECK_EQ_INT(s->n_files, 4);
    CHECK_EQ_STR(s->metadata_id, id);
    CHECK(snapshot_has(s, "part=q/f2.parquet"));
    for (size_t i = 0; i < s->n_files; i++)
      if (strcmp(s->files[i].path, "part=q/f2.parquet") == 0) {
        CHECK_EQ_STR(s->files[i].partition_values[0], "quote\"d \\ \n");
        CHECK_EQ_STR(s->files[i].stats, "{\"a\":\"x\\\"y\"}");
      }
    delta_snapshot_free(s);
  }
  tarn_arena a = {0};
  delta_commit *h = NULL;
  size_t nh = 0;
  CHECK_EQ_INT(delta_history(table, &a, &h, &nh, &err), 0);
  CHECK_EQ_INT(nh, 3);
  if (nh == 3) {
    CHECK_EQ_STR(h[0].operation, "CREATE TABLE");
    CHECK_EQ_STR(h[1].operation, "WRITE \"odd\"");
    cJSON *p = cJSON_Parse(h[1].parameters_json);
    CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(p, "mode")), "Append\n");
    cJSON_Delete(p);
  }
  tarn_arena_free(&a);

  log_check c;
  scan_log(table, &c);
  CHECK(c.contiguous);
  CHECK(c.well_formed);
  CHECK_EQ_INT(c.last_version, 2);
  CHECK_EQ_INT(c.n_adds, 4);
  CHECK_EQ_INT(c.n_temp_files, 0); /* the temporary file is unlinked after the link */
  free(id);
}

static void test_invalid_transactions(void) {
  char table[300];
  make_table_path(table, sizeof table, "invalid");
  tarn_error err = {0};
  delta_txn *t;
  /* creating needs protocol and metadata */
  CHECK_EQ_INT(delta_txn_begin(table, &t, &err), 0);
  CHECK(delta_txn_snapshot(t) == NULL);
  const char *pv[] = {"x"};
  CHECK_EQ_INT(delta_txn_add_file(t, "f.parquet", pv, 1, 1, NULL, &err), TARN_EINVAL);
  memset(&err, 0, sizeof err);
  CHECK_EQ_INT(delta_txn_set_protocol(t, 3, 5, NULL, 0, NULL, 0, &err), TARN_EINVAL);
  memset(&err, 0, sizeof err);
  const char *rf[] = {"deletionVectors"};
  CHECK_EQ_INT(delta_txn_set_protocol(t, 3, 7, rf, 1, NULL, 0, &err), TARN_EINVAL);
  memset(&err, 0, sizeof err);
  CHECK_EQ_INT(delta_txn_set_protocol(t, 3, 7, rf, 1, rf, 1, &err), 0);
  const char *bad_pc[] = {"nope"};
  CHECK_EQ_INT(delta_txn_set_metadata(t, SCHEMA, bad_pc, 1, NULL, NULL, 0, &err), TARN_EINVAL);
  memset(&err, 0, sizeof err);
  CHECK_EQ_INT(delta_txn_set_metadata(t, "{\"type\":\"long\"}", NULL, 0, NULL, NULL, 0, &err),
               TARN_EINVAL);
  memset(&err, 0, sizeof err);
  int64_t v = -1;
  CHECK_EQ_INT(delta_txn_commit(t, 0, &v, &err), TARN_EINVAL);
  CHECK(strstr(err.message, table) != NULL);
  delta_txn_free(t);
  CHECK(!delta_is_table(table));

  /* a table needing a writer feature tarn does not write */
  memset(&err, 0, sizeof err);
  CHECK_EQ_INT(delta_txn_begin(table, &t, &err), 0);
  const char *wf[] = {"rowTracking"};
  CHECK_EQ_INT(delta_txn_set_protocol(t, 1, 7, NULL, 0, wf, 1, &err), 0);
  CHECK_EQ_INT(delta_txn_set_metadata(t, SCHEMA, NULL, 0, NULL, NULL, 0, &err), 0);
  CHECK_EQ_INT(delta_txn_commit(t, 0, &v, &err), TARN_EUNSUPPORTED);
  delta_txn_free(t);

  /* table features, written and read back */
  memset(&err, 0, sizeof err);
  CHECK_EQ_INT(delta_txn_begin(table, &t, &err), 0);
  const char *wf2[] = {"deletionVectors", "appendOnly"};
  CHECK_EQ_INT(delta_txn_set_protocol(t, 3, 7, rf, 1, wf2, 2, &err), 0);
  const char *keys[] = {"delta.appendOnly"}, *values[] = {"true"};
  CHECK_EQ_INT(delta_txn_set_metadata(t, SCHEMA, NULL, 0, keys, values, 1, &err), 0);
  CHECK_EQ_INT(delta_txn_add_file(t, "f.parquet", NULL, 1, 1, NULL, &err), 0);
  CHECK_EQ_INT(delta_txn_add_file(t, "f.parquet", NULL, 1, 1, NULL, &err), 0);
  CHECK_EQ_INT(delta_txn_add_file(t, "/abs.parquet", NULL, 1, 1, NULL, &err), TARN_EINVAL);
  memset(&err, 0, sizeof err);
  CHECK_EQ_INT(delta_txn_commit(t, 0, &v, &err), TARN_EINVAL); /* f.parquet added twice */
  CHECK(strstr(err.message, "f.parquet") != NULL);
  delta_txn_free(t);
  memset(&err, 0, sizeof err);
  CHECK_EQ_INT(delta_txn_begin(table, &t, &err), 0);
  CHECK_EQ_INT(delta_txn_set_protocol(t, 3, 7, rf, 1, wf2, 2, &err), 0);
  CHECK_EQ_INT(delta_txn_set_metadata(t, SCHEMA, NULL, 0, keys, values, 1, &err), 0);
  CHECK_EQ_INT(delta_txn_add_file(t, "f.parquet", NULL, 1, 1, NULL, &err), 0);
  CHECK_EQ_INT(delta_txn_commit(t, 0, &v, &err), 0);
  CHECK_EQ_INT(v, 0);
  delta_txn_free(t);
  delta_snapshot *s = NULL;
  CHECK_EQ_INT(delta_snapshot_load(table, -1, &s, &err), 0);
  if (s) {
    CHECK_EQ_INT(s->min_reader_version, 3);
    CHECK_EQ_INT(s->n_reader_features, 1);
    CHECK_EQ_INT(s->n_writer_features, 2);
    delta_snapshot_free(s);
  }
  /* append-only: no removes */
  CHECK_EQ_INT(delta_txn_begin(table, &t, &err), 0);
  const delta_snapshot *rs = delta_txn_snapshot(t);
  if (rs && rs->n_files == 1) {
    CHECK_EQ_INT(delta_txn_remove_file(t, &rs->files[0], &err), TARN_EINVAL);
    CHECK(strstr(err.message, "append-only") != NULL);
  }
  delta_txn_free(t);
}

/* A read filter that read partition "a" (and "b" when reads_b), recording its calls. */
typedef struct filter_calls {
  bool reads_b;
  int calls;
  char last_value[16], last_stats[64];
} filter_calls;

static bool read_only_a(void *arg, const char *const *values, size_t n, const char *stats) {
  filter_calls *fc = arg;
  fc->calls++;
  snprintf(fc->last_value, sizeof fc->last_value, "%s", n == 1 && values[0] ? values[0] : "?");
  snprintf(fc->last_stats, sizeof fc->last_stats, "%s", stats ? stats : "");
  return n == 1 && values[0] &&
         (strcmp(values[0], "a") == 0 || (fc->reads_b && strcmp(values[0], "b") == 0));
}

static void test_conflicts(void) {
  char table[300];
  make_table_path(table, sizeof table, "conflicts");
  int64_t v;
  CHECK_EQ_INT(create_table(table, &v), 0);
  tarn_error err = {0};

  /* two removes of the same file: the second loses */
  delta_txn *t1, *t2;
  CHECK_EQ_INT(delta_txn_begin(table, &t1, &err), 0);
  CHECK_EQ_INT(delta_txn_begin(table, &t2, &err), 0);
  const delta_snapshot *s1 = delta_txn_snapshot(t1), *s2 = delta_txn_snapshot(t2);
  CHECK_EQ_INT(delta_txn_remove_file(t1, &s1->files[0], &err), 0);
  CHECK_EQ_INT(delta_txn_remove_file(t1, &s1->files[0], &err), TARN_EINVAL); /* twice */
  memset(&err, 0, sizeof err);
  CHECK_EQ_INT(delta_txn_remove_file(t2, &s2->files[0], &err), 0);
  CHECK_EQ_INT(delta_txn_commit(t1, 10, &v, &err), 0);
  CHECK_EQ_INT(v, 1);
  CHECK_EQ_INT(delta_txn_commit(t2, 10, &v, &err), TARN_ECONFLICT);
  CHECK(strstr(err.message, s2->files[0].path) != NULL);
  CHECK(strstr(err.message, "00000000000000000001.json") != NULL);
  delta_txn_free(t1);
  delta_txn_free(t2);
  /* a file no longer live cannot be removed */
  delta_file gone = {0};
  gone.path = "part=__HIVE_DEFAULT_PARTITION__/f1.parquet";
  memset(&err, 0, sizeof err);
  CHECK_EQ_INT(delta_txn_begin(table, &t1, &err), 0);
  CHECK_EQ_INT(delta_txn_remove_file(t1, &gone, &err), TARN_EINVAL);
  delta_txn_free(t1);

  /* a metadata change by the winner conflicts with an append */
  memset(&err, 0, sizeof err);
  CHECK_EQ_INT(delta_txn_begin(table, &t1, &err), 0);
  CHECK_EQ_INT(delta_txn_begin(table, &t2, &err), 0);
  const char *pc[] = {"part"};
  const char *keys[] = {"comment"}, *values[] = {"changed"};
  CHECK_EQ_INT(delta_txn_set_metadata(t1, SCHEMA, pc, 1, keys, values, 1, &err), 0);
  CHECK_EQ_INT(delta_txn_commit(t1, 10, &v, &err), 0);
  CHECK_EQ_INT(v, 2);
  const char *pv[] = {"b"};
  CHECK_EQ_INT(delta_txn_add_file(t2, "part=b/g.parquet", pv, 1, 1, NULL, &err), 0);
  CHECK_EQ_INT(delta_txn_commit(t2, 10, &v, &err), TARN_ECONFLICT);
  CHECK(strstr(err.message, "metadata") != NULL);
  delta_txn_free(t1);
  delta_txn_free(t2);

  /* two blind appends from the same read version both commit */
  memset(&err, 0, sizeof err);
  CHECK_EQ_INT(delta_txn_begin(table, &t1, &err), 0);
  CHECK_EQ_INT(delta_txn_begin(table, &t2, &err), 0);
  CHECK_EQ_INT(delta_txn_add_file(t1, "part=b/h1.parquet", pv, 1, 1, NULL, &err), 0);
  CHECK_EQ_INT(delta_txn_add_file(t2, "part=b/h2.parquet", pv, 1, 1, NULL, &err), 0);
  CHECK_EQ_INT(delta_txn_commit(t1, 10, &v, &err), 0);
  CHECK_EQ_INT(v, 3);
  CHECK_EQ_INT(delta_txn_commit(t2, 10, &v, &err), 0);
  CHECK_EQ_INT(v, 4);
  delta_txn_free(t1);
  delta_txn_free(t2);

  /* ... but not with no retries allowed */
  CHECK_EQ_INT(delta_txn_begin(table, &t1, &err), 0);
  CHECK_EQ_INT(delta_txn_begin(table, &t2, &err), 0);
  CHECK_EQ_INT(delta_txn_add_file(t1, "part=b/i1.parquet", pv, 1, 1, NULL, &err), 0);
  CHECK_EQ_INT(delta_txn_add_file(t2, "part=b/i2.parquet", pv, 1, 1, NULL, &err), 0);
  CHECK_EQ_INT(delta_txn_commit(t1, 0, &v, &err), 0);
  CHECK_EQ_INT(delta_txn_commit(t2, 0, &v, &err), TARN_ECONFLICT);
  delta_txn_free(t1);
  delta_txn_free(t2);

  /* the same path added by both */
  memset(&err, 0, sizeof err);
  CHECK_EQ_INT(delta_txn_begin(table, &t1, &err), 0);
  CHECK_EQ_INT(delta_txn_begin(table, &t2, &err), 0);
  CHECK_EQ_INT(delta_txn_add_file(t1, "part=b/same.parquet", pv, 1, 1, NULL, &err), 0);
  CHECK_EQ_INT(delta_txn_add_file(t2, "part=b/same.parquet", pv, 1, 1, NULL, &err), 0);
  CHECK_EQ_INT(delta_txn_commit(t1, 10, &v, &err), 0);
  CHECK_EQ_INT(delta_txn_commit(t2, 10, &v, &err), TARN_ECONFLICT);
  delta_txn_free(t1);
  delta_txn_free(t2);

  /* a removal and a concurrent blind append: no conflict; a removal and a concurrent rewrite
   * (remove + add) of another file: conflict */
  memset(&err, 0, sizeof err);
  CHECK_EQ_INT(delta_txn_begin(table, &t1, &err), 0);
  CHECK_EQ_INT(delta_txn_begin(table, &t2, &err), 0);
  s1 = delta_txn_snapshot(t1);
  s2 = delta_txn_snapshot(t2);
  CHECK(s1->n_files >= 3);
  CHECK_EQ_INT(delta_txn_add_file(t1, "part=b/j1.parquet", pv, 1, 1, NULL, &err), 0);
  CHECK_EQ_INT(delta_txn_remove_file(t2, &s2->files[0], &err), 0);
  CHECK_EQ_INT(delta_txn_commit(t1, 10, &v, &err), 0);
  int64_t v1 = v;
  CHECK_EQ_INT(delta_txn_commit(t2, 10, &v, &err), 0);
  CHECK_EQ_INT(v, v1 + 1);
  delta_txn_free(t1);
  delta_txn_free(t2);
  memset(&err, 0, sizeof err);
  CHECK_EQ_INT(delta_txn_begin(table, &t1, &err), 0);
  CHECK_EQ_INT(delta_txn_begin(table, &t2, &err), 0);
  s1 = delta_txn_snapshot(t1);
  s2 = delta_txn_snapshot(t2);
  CHECK_EQ_INT(delta_txn_remove_file(t1, &s1->files[0], &err), 0);
  CHECK_EQ_INT(delta_txn_add_file(t1, "part=b/rewritten.parquet", pv, 1, 1, NULL, &err), 0);
  CHECK_EQ_INT(delta_txn_remove_file(t2, &s2->files[1], &err), 0);
  CHECK_EQ_INT(delta_txn_commit(t1, 10, &v, &err), 0);
  CHECK_EQ_INT(delta_txn_commit(t2, 10, &v, &err), TARN_ECONFLICT);
  delta_txn_free(t1);
  delta_txn_free(t2);

  /* the same rewrite against a removal whose read filter says which partitions it read: a
   * rewrite adding files in partition "b" does not matter to a transaction that read only "a"
   * (and the filter sees the added file's partition value and stats); one that read "b" too
   * conflicts */
  for (int reads_b = 0; reads_b < 2; reads_b++) {
    filter_calls fc = {reads_b != 0, 0, {0}, {0}};
    memset(&err, 0, sizeof err);
    char fa[64], fb[64];
    snprintf(fa, sizeof fa, "part=a/fa%d.parquet", reads_b);
    snprintf(fb, sizeof fb, "part=b/fb%d.parquet", reads_b);
    const char *pa[] = {"a"};
    CHECK_EQ_INT(delta_txn_begin(table, &t1, &err), 0);
    CHECK_EQ_INT(delta_txn_add_file(t1, fa, pa, 1, 1, NULL, &err), 0);
    CHECK_EQ_INT(delta_txn_add_file(t1, fb, pv, 1, 1, NULL, &err), 0);
    CHECK_EQ_INT(delta_txn_commit(t1, 10, &v, &err), 0);
    delta_txn_free(t1);
    CHECK_EQ_INT(delta_txn_begin(table, &t1, &err), 0);
    CHECK_EQ_INT(delta_txn_begin(table, &t2, &err), 0);
    s1 = delta_txn_snapshot(t1);
    s2 = delta_txn_snapshot(t2);
    size_t ia = 0, ib = 0; /* the file of partition "a" t2 removes, the one of "b" t1 rewrites */
    for (size_t i = 0; i < s2->n_files; i++) {
      if (strcmp(s2->files[i].path, fa) == 0) ia = i;
      if (strcmp(s2->files[i].path, fb) == 0) ib = i;
    }
    CHECK(strcmp(s2->files[ia].partition_values[0], "a") == 0);
    CHECK(strcmp(s1->files[ib].partition_values[0], "b") == 0);
    char name[64];
    snprintf(name, sizeof name, "part=b/filtered%d.parquet", reads_b);
    CHECK_EQ_INT(delta_txn_remove_file(t1, &s1->files[ib], &err), 0);
    CHECK_EQ_INT(delta_txn_add_file(t1, name, pv, 1, 1, "{\"numRecords\":7}", &err), 0);
    delta_txn_set_read_filter(t2, read_only_a, &fc);
    CHECK_EQ_INT(delta_txn_remove_file(t2, &s2->files[ia], &err), 0);
    CHECK_EQ_INT(delta_txn_commit(t1, 10, &v, &err), 0);
    CHECK_EQ_INT(delta_txn_commit(t2, 10, &v, &err), reads_b ? TARN_ECONFLICT : 0);
    CHECK_EQ_INT(fc.calls, 1);
    CHECK(strcmp(fc.last_value, "b") == 0);
    CHECK(strcmp(fc.last_stats, "{\"numRecords\":7}") == 0);
    delta_txn_free(t1);
    delta_txn_free(t2);
  }

  /* application versions: already committed, in the snapshot or by a concurrent winner */
  memset(&err, 0, sizeof err);
  CHECK_EQ_INT(delta_txn_begin(table, &t1, &err), 0);
  CHECK_EQ_INT(delta_txn_set_app_version(t1, "app", 5, &err), 0);
  CHECK_EQ_INT(delta_txn_add_file(t1, "part=b/app5.parquet", pv, 1, 1, NULL, &err), 0);
  CHECK_EQ_INT(delta_txn_commit(t1, 10, &v, &err), 0);
  delta_txn_free(t1);
  CHECK_EQ_INT(delta_txn_begin(table, &t1, &err), 0);
  CHECK_EQ_INT(delta_txn_set_app_version(t1, "app", 5, &err), TARN_EINVAL);
  CHECK(strstr(err.message, "already committed") != NULL);
  memset(&err, 0, sizeof err);
  CHECK_EQ_INT(delta_txn_set_app_version(t1, "app", 6, &err), 0);
  CHECK_EQ_INT(delta_txn_begin(table, &t2, &err), 0);
  CHECK_EQ_INT(delta_txn_set_app_version(t2, "app", 6, &err), 0);
  CHECK_EQ_INT(delta_txn_commit(t1, 10, &v, &err), 0);
  CHECK_EQ_INT(delta_txn_commit(t2, 10, &v, &err), TARN_EINVAL);
  CHECK(strstr(err.message, "already committed") != NULL);
  delta_txn_free(t1);
  delta_txn_free(t2);

  delta_snapshot *s = NULL;
  memset(&err, 0, sizeof err);
  CHECK_EQ_INT(delta_snapshot_load(table, -1, &s, &err), 0);
  if (s) {
    CHECK_EQ_INT(s->n_txns, 1);
    if (s->n_txns == 1) CHECK_EQ_INT(s->txn_versions[0], 6);
    CHECK(no_duplicate_paths(s));
    delta_snapshot_free(s);
  }
  log_check c;
  scan_log(table, &c);
  CHECK(c.contiguous && c.well_formed);
  CHECK_EQ_INT(c.n_temp_files, 0);

  /* a creation losing to another creation */
  char table2[300];
  make_table_path(table2, sizeof table2, "create_race");
  CHECK_EQ_INT(delta_txn_begin(table2, &t1, &err), 0);
  CHECK_EQ_INT(create_table(table2, &v), 0);
  CHECK_EQ_INT(delta_txn_set_protocol(t1, 1, 2, NULL, 0, NULL, 0, &err), 0);
  CHECK_EQ_INT(delta_txn_set_metadata(t1, SCHEMA, NULL, 0, NULL, NULL, 0, &err), 0);
  CHECK_EQ_INT(delta_txn_commit(t1, 10, &v, &err), TARN_ECONFLICT);
  delta_txn_free(t1);
}

/* ---- Real processes ---------------------------------------------------------------------------
 */

typedef struct ack {
  int child, index;
  int64_t version;
} ack;

static void test_concurrent_writers(void) {
  enum { N_CHILDREN = 6, N_APPENDS = 10 };
  char table[300];
  make_table_path(table, sizeof table, "concurrent");
  int64_t v;
  CHECK_EQ_INT(create_table(table, &v), 0);
  int fds[2];
  CHECK_EQ_INT(pipe(fds), 0);
  pid_t pids[N_CHILDREN];
  for (int c = 0; c < N_CHILDREN; c++) {
    pids[c] = fork();
    if (pids[c] == 0) {
      close(fds[0]);
      int failures = 0;
      for (int i = 0; i < N_APPENDS; i++) {
        char path[64];
        snprintf(path, sizeof path, "part=x/c%d-%d.parquet", c, i);
        tarn_error err = {0};
        ack a = {c, i, -1};
        if (append_file(table, path, 100, &a.version, &err) != 0) {
          fprintf(stderr, "child %d: %s\n", c, err.message);
          failures++;
          continue;
        }
        if (write(fds[1], &a, sizeof a) != (ssize_t)sizeof a) failures++;
      }
      _exit(failures ? 1 : 0);
    }
  }
  close(fds[1]);
  ack acks[N_CHILDREN * N_APPENDS + 1];
  size_t n_acks = 0;
  ack a;
  while (read(fds[0], &a, sizeof a) == (ssize_t)sizeof a && n_acks < N_CHILDREN * N_APPENDS)
    acks[n_acks++] = a;
  close(fds[0]);
  for (int c = 0; c < N_CHILDREN; c++) {
    int status = -1;
    waitpid(pids[c], &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  CHECK_EQ_INT(n_acks, N_CHILDREN * N_APPENDS);

  tarn_error err = {0};
  delta_snapshot *s = NULL;
  CHECK_EQ_INT(delta_snapshot_load(table, -1, &s, &err), 0);
  if (s == NULL) return;
  CHECK_EQ_INT(s->n_files, N_CHILDREN * N_APPENDS + 2);
  CHECK_EQ_INT(s->version, N_CHILDREN * N_APPENDS);
  CHECK(no_duplicate_paths(s));
  bool version_seen[N_CHILDREN * N_APPENDS + 1] = {0};
  bool all_present = true, distinct = true;
  for (size_t i = 0; i < n_acks; i++) {
    char path[64];
    snprintf(path, sizeof path, "part=x/c%d-%d.parquet", acks[i].child, acks[i].index);
    if (!snapshot_has(s, path) || !commit_adds(table, acks[i].version, path)) all_present = false;
    if (acks[i].version < 1 || acks[i].version > N_CHILDREN * N_APPENDS ||
        version_seen[acks[i].version])
      distinct = false;
    else
      version_seen[acks[i].version] = true;
  }
  CHECK(all_present);
  CHECK(distinct);
  delta_snapshot_free(s);
  log_check c;
  scan_log(table, &c);
  CHECK(c.contiguous && c.well_formed);
  CHECK_EQ_INT(c.last_version, N_CHILDREN * N_APPENDS);
  CHECK_EQ_INT(c.n_adds, N_CHILDREN * N_APPENDS + 2);
  CHECK_EQ_INT(c.n_temp_files, 0);
  /* how many commits were retried after a lost race (readVersion behind the version before) */
  int rebased = 0;
  for (int64_t ver = 1; ver <= c.last_version; ver++) {
    char file[600];
    snprintf(file, sizeof file, "%s/_delta_log/%020lld.json", table, (long long)ver);
    char *text = read_text(file);
    char *nl = text ? strchr(text, '\n') : NULL;
    if (nl) *nl = 0;
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    const cJSON *rv = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "commitInfo"), "readVersion");
    if (cJSON_IsNumber(rv) && rv->valuedouble < (double)(ver - 1)) rebased++;
    cJSON_Delete(j);
    free(text);
  }
  printf("concurrent writers: %d of %d commits retried after a lost race\n", rebased,
         N_CHILDREN * N_APPENDS);
}

/* Each child appends forever, writing "<version> <path>\n" to its acknowledgement file only
 * after a commit returned. */
static void killed_child(const char *table, const char *ack_file, int round, int child) {
  int fd = open(ack_file, O_WRONLY | O_CREAT | O_APPEND, 0644);
  for (int i = 0;; i++) {
    char path[64];
    snprintf(path, sizeof path, "part=x/k%d-%d-%d.parquet", round, child, i);
    tarn_error err = {0};
    int64_t v;
    if (append_file(table, path, 1000, &v, &err) != 0) _exit(1);
    char line[128];
    int n = snprintf(line, sizeof line, "%lld %s\n", (long long)v, path);
    if (write(fd, line, (size_t)n) != n) _exit(1);
  }
}

static void test_killed_writers(void) {
  enum { ROUNDS = 4, CHILDREN = 3 };
  char table[300];
  make_table_path(table, sizeof table, "killed");
  int64_t v;
  CHECK_EQ_INT(create_table(table, &v), 0);
  srand((unsigned)getpid());
  for (int r = 0; r < ROUNDS; r++) {
    pid_t pids[CHILDREN];
    for (int c = 0; c < CHILDREN; c++) {
      char ack_file[400];
      snprintf(ack_file, sizeof ack_file, "%s/ack-%d-%d", tmp_root, r, c);
      pids[c] = fork();
      if (pids[c] == 0) killed_child(table, ack_file, r, c);
    }
    for (int c = 0; c < CHILDREN; c++) {
      struct timespec nap = {0, (long)(20 + rand() % 150) * 1000000L};
      nanosleep(&nap, NULL);
      kill(pids[c], SIGKILL);
    }
    for (int c = 0; c < CHILDREN; c++) {
      int status = -1;
      waitpid(pids[c], &status, 0);
      CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL); /* none failed on its own */
    }
  }

  tarn_error err = {0};
  delta_snapshot *s = NULL;
  CHECK_EQ_INT(delta_snapshot_load(table, -1, &s, &err), 0);
  if (s == NULL) {
    fprintf(stderr, "%s\n", err.message);
    return;
  }
  CHECK(no_duplicate_paths(s));
  log_check c;
  scan_log(table, &c);
  CHECK(c.contiguous && c.well_formed);
  CHECK_EQ_INT(c.last_version, s->version);
  CHECK_EQ_INT((long)s->n_files, c.n_adds); /* appends only: every add is live */
  long acked = 0;
  bool all_present = true;
  for (int r = 0; r < ROUNDS; r++)
    for (int ch = 0; ch < CHILDREN; ch++) {
      char ack_file[400];
      snprintf(ack_file, sizeof ack_file, "%s/ack-%d-%d", tmp_root, r, ch);
      char *text = read_text(ack_file);
      if (text == NULL) continue;
      /* a line cut short by the kill has no newline: only complete lines count */
      char *line = text, *nl;
      while ((nl = strchr(line, '\n')) != NULL) {
        *nl = 0;
        long long version;
        char path[128];
        if (sscanf(line, "%lld %127s", &version, path) == 2) {
          acked++;
          if (!commit_adds(table, version, path) || !snapshot_has(s, path)) {
            fprintf(stderr, "acknowledged %s at %lld is missing\n", path, version);
            all_present = false;
          }
        }
        line = nl + 1;
      }
      free(text);
    }
  CHECK(all_present);
  CHECK(acked > 0);
  delta_snapshot_free(s);
  /* the table stays writable */
  memset(&err, 0, sizeof err);
  CHECK_EQ_INT(append_file(table, "part=x/after.parquet", 0, &v, &err), 0);
  CHECK_EQ_INT(v, c.last_version + 1);
  printf("killed writers: %ld acknowledged commits, %d versions, %d stray temp files\n", acked,
         (int)c.last_version + 1, c.n_temp_files);
}

int main(void) {
  snprintf(tmp_root, sizeof tmp_root, "/tmp/tarn_delta_commit_XXXXXX");
  if (mkdtemp(tmp_root) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  RUN(test_create_and_append);
  RUN(test_invalid_transactions);
  RUN(test_conflicts);
  RUN(test_concurrent_writers);
  RUN(test_killed_writers);
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp_root);
  return check_finish();
}
