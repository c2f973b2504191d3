/*
 * Delta maintenance (src/table/delta/delta_maint.c): VACUUM and RESTORE on tables built here
 * with delta_txn_*, expected results worked out by hand from delta-spark's rules:
 *  - durations in the forms Delta's table properties use;
 *  - vacuum deletes exactly the unreferenced files older than the retention period: orphans,
 *    change data, index files and files removed longer ago than the retention; it keeps live
 *    files, their deletion vectors, files removed within the period, recent files, hidden
 *    names, and partition directories of '_' columns are walked; emptied directories go;
 *    a dry run deletes nothing; a short retention needs force; the table property sets the
 *    minimum;
 *  - restore writes one commit whose actions are checked line by line (removes, adds back with
 *    dataChange, metadata when it differs, the protocol never downgraded, the RESTORE operation)
 *    and whose snapshot equals the target's files; it refuses the latest version, unknown
 *    versions, vacuumed files and append-only tables, and handles deletion vectors.
 */
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "table/delta/delta_commit.h"
#include "table/delta/delta_maint.h"
#include "table/delta/dv.h"

static char tmp_root[256];

#define SCHEMA                                                                                     \
  "{\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"long\",\"nullable\":true,"         \
  "\"metadata\":{}},{\"name\":\"_p\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}}]}"

#define DAY_MS ((int64_t)24 * 3600 * 1000)

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Creates dir/rel (and its directories) with some bytes, last modified age_days ago. */
static void make_file(const char *dir, const char *rel, double age_days) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, rel);
  for (char *p = path + strlen(dir) + 1; *p; p++)
    if (*p == '/') {
      *p = 0;
      mkdir(path, 0755);
      *p = '/';
    }
  FILE *f = fopen(path, "wb");
  CHECK(f != NULL);
  if (f) {
    fputs("not really parquet", f);
    fclose(f);
  }
  time_t t = time(NULL) - (time_t)(age_days * 86400);
  struct timeval tv[2] = {{t, 0}, {t, 0}};
  CHECK_EQ_INT(utimes(path, tv), 0);
}

static bool exists(const char *dir, const char *rel) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, rel);
  return access(path, F_OK) == 0;
}

static const delta_file *live_file(const delta_snapshot *s, const char *path) {
  for (size_t i = 0; s && i < s->n_files; i++)
    if (strcmp(s->files[i].path, path) == 0) return &s->files[i];
  return NULL;
}

/* ---- Durations ------------------------------------------------------------------------------ */

static void test_intervals(void) {
  static const struct {
    const char *text;
    int64_t ms; /* -1: refused */
  } cases[] = {{"interval 1 week", 604800000},
               {"1 week", 604800000},
               {"INTERVAL 2 Days 12 hours", 216000000},
               {"interval 36 hours", 129600000},
               {"interval 90 minutes", 5400000},
               {"  interval 30 seconds  ", 30000},
               {"interval 1500 milliseconds", 1500},
               {"interval 2500 microseconds", 2},
               {"interval 0 days", 0},
               {"interval 1 month", -1},
               {"interval 2 years", -1},
               {"interval", -1},
               {"", -1},
               {"interval 7 fortnights", -1},
               {"interval -1 days", -1},
               {"interval 1 week extra", -1},
               {"interval 99999999999999999 weeks", -1}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int64_t ms = -7;
    tarn_error err = {0};
    int rc = delta_parse_interval_ms(cases[i].text, &ms, &err);
    if (cases[i].ms < 0) {
      CHECK_EQ_INT(rc, TARN_EINVAL);
    } else {
      CHECK_EQ_INT(rc, 0);
      CHECK_EQ_INT(ms, cases[i].ms);
    }
  }
  tarn_error err = {0};
  int64_t ms;
  delta_parse_interval_ms("interval 1 month", &ms, &err);
  CHECK(strstr(err.message, "months") != NULL);
}

/* ---- VACUUM --------------------------------------------------------------------------------- */

/* `vac`, partitioned by _p:
 *  v0 add live.parquet (_p=1/), old.parquet, dv.parquet with a deletion vector file
 *  v1 remove old.parquet
 * Every data file is 30 days old, as are the orphans made by the test. */
static void build_vacuum_table(const char *dir, const char *retention) {
  tarn_error err = {0};
  delta_txn *t = NULL;
  int64_t v;
  mkdir(dir, 0755);
  make_file(dir, "_p=1/live.parquet", 30);
  make_file(dir, "old.parquet", 30);
  make_file(dir, "dv.parquet", 30);
  static const char *const pc[] = {"_p"}, *const p1[] = {"1"}, *const pn[] = {NULL};
  static const char *const ck[] = {"delta.deletedFileRetentionDuration"};
  const char *cv[] = {retention};
  tarn_arena a = {0};
  delta_dv dv;
  static const uint64_t pos[] = {0};
  const uint64_t *pp[] = {pos};
  size_t cnt[] = {1};
  CHECK_EQ_INT(delta_dv_write_file(dir, 1, pp, cnt, &a, &dv, NULL, &err), 0);
  CHECK_EQ_INT(delta_txn_begin(dir, &t, &err), 0);
  CHECK_EQ_INT(delta_txn_set_protocol(t, 3, 7, (const char *const[]){"deletionVectors"}, 1,
                                      (const char *const[]){"deletionVectors"}, 1, &err),
               0);
  CHECK_EQ_INT(delta_txn_set_metadata(t, SCHEMA, pc, 1, ck, cv, retention ? 1 : 0, &err), 0);
  CHECK_EQ_INT(delta_txn_add_file(t, "_p=1/live.parquet", p1, 18, 1, NULL, &err), 0);
  CHECK_EQ_INT(delta_txn_add_file(t, "old.parquet", pn, 18, 1, NULL, &err), 0);
  CHECK_EQ_INT(delta_txn_add_file_dv(t, "dv.parquet", pn, 18, 1, NULL, &dv, &err), 0);
  CHECK_EQ_INT(delta_txn_commit(t, 0, &v, &err), 0);
  delta_txn_free(t);
  CHECK_EQ_INT(delta_txn_begin(dir, &t, &err), 0);
  const delta_file *f = live_file(delta_txn_snapshot(t), "old.parquet");
  CHECK(f != NULL);
  if (f) CHECK_EQ_INT(delta_txn_remove_file(t, f, &err), 0);
  CHECK_EQ_INT(delta_txn_commit(t, 0, &v, &err), 0);
  delta_txn_free(t);
  tarn_arena_free(&a);
  if (err.code) fprintf(stderr, "build_vacuum_table: %s\n", err.message);
  /* the deletion vector file is as old as the rest */
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "touch -d '30 days ago' '%s'/deletion_vector_*.bin", dir);
  CHECK_EQ_INT(system(cmd), 0);
}

/* The vacuum result's paths joined by spaces, for comparison. */
static void joined(const delta_vacuum_result *r, char *out, size_t cap) {
  out[0] = 0;
  for (size_t i = 0; i < r->n_paths; i++) {
    size_t n = strlen(out);
    snprintf(out + n, cap - n, "%s%s", i ? " " : "", r->paths[i]);
  }
}

static void test_vacuum(void) {
  char dir[512];
  snprintf(dir, sizeof dir, "%s/vac", tmp_root);
  build_vacuum_table(dir, NULL);
  /* orphans: never committed, 30 days old */
  make_file(dir, "orphan.parquet", 30);
  make_file(dir, "sub/deep/orphan2.parquet", 30);
  make_file(dir, "_p=2/orphan3.parquet", 30);
  make_file(dir, "_change_data/cdc-1.parquet", 30);
  make_file(dir, "_delta_index/idx", 30);
  make_file(dir, "deletion_vector_00000000-0000-0000-0000-000000000000.bin", 30);
  /* kept: recent, hidden, in a hidden directory, in a hidden non-partition directory */
  make_file(dir, "fresh.parquet", 0);
  make_file(dir, ".hidden.parquet", 30);
  make_file(dir, "_tmp/x.parquet", 30);
  make_file(dir, "_q=1/y.parquet", 30);
  make_file(dir, "keepdir/.z.crc", 30);
  const char *expected = "_change_data/cdc-1.parquet _delta_index/idx _p=2/orphan3.parquet "
                         "deletion_vector_00000000-0000-0000-0000-000000000000.bin "
                         "orphan.parquet sub/deep/orphan2.parquet";
  char got[4096];

  /* a dry run lists and deletes nothing */
  delta_vacuum_options o = {.retention_ms = -1, .dry_run = true};
  delta_vacuum_result r;
  tarn_error err = {0};
  CHECK_EQ_INT(delta_vacuum(dir, &o, &r, &err), 0);
  joined(&r, got, sizeof got);
  CHECK_EQ_STR(got, expected);
  CHECK_EQ_INT(r.retention_ms, 7 * DAY_MS);
  CHECK_EQ_INT(r.table_retention_ms, 7 * DAY_MS);
  CHECK_EQ_INT(r.version, 1);
  CHECK_EQ_INT(r.bytes, 6 * 18);
  CHECK_EQ_INT(r.n_dirs, 5); /* sub/deep, sub, _p=2, _change_data, _delta_index */
  delta_vacuum_result_free(&r);
  CHECK(exists(dir, "orphan.parquet") && exists(dir, "sub/deep/orphan2.parquet"));

  /* a retention below the table's needs force */
  o = (delta_vacuum_options){.retention_ms = 3600 * 1000, .dry_run = true};
  err = (tarn_error){0};
  CHECK_EQ_INT(delta_vacuum(dir, &o, &r, &err), TARN_EINVAL);
  CHECK(strstr(err.message, "168 hours") != NULL);
  delta_vacuum_result_free(&r);
  o = (delta_vacuum_options){.retention_ms = -5, .dry_run = true};
  err = (tarn_error){0};
  CHECK_EQ_INT(delta_vacuum(dir, &o, &r, &err), 0); /* negative: the table's */
  delta_vacuum_result_free(&r);

  /* the real run */
  o = (delta_vacuum_options){.retention_ms = -1};
  err = (tarn_error){0};
  CHECK_EQ_INT(delta_vacuum(dir, &o, &r, &err), 0);
  joined(&r, got, sizeof got);
  CHECK_EQ_STR(got, expected);
  CHECK_EQ_INT(r.n_dirs, 5);
  delta_vacuum_result_free(&r);
  static const char *const gone[] = {"orphan.parquet", "sub/deep",     "sub",
                                     "_p=2",           "_change_data", "_delta_index"};
  for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++)
    CHECK(!exists(dir, gone[i]));
  static const char *const kept[] = {
      "_p=1/live.parquet", "dv.parquet",      "old.parquet",
      "fresh.parquet",     ".hidden.parquet", "_tmp/x.parquet",
      "_q=1/y.parquet",    "keepdir/.z.crc",  "_delta_log/00000000000000000001.json"};
  for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
    if (!exists(dir, kept[i])) fprintf(stderr, "vacuum deleted %s\n", kept[i]);
    CHECK(exists(dir, kept[i]));
  }
  /* the table reads: every live file and its deletion vector is there */
  delta_snapshot *s = NULL;
  CHECK_EQ_INT(delta_snapshot_load(dir, -1, &s, &err), 0);
  for (size_t i = 0; s && i < s->n_files; i++)
    CHECK(exists(dir, s->files[i].path));
  if (s) {
    const delta_file *f = live_file(s, "dv.parquet");
    uint64_t *pos = NULL;
    size_t n = 0;
    tarn_arena a = {0};
    CHECK(f != NULL);
    if (f) CHECK_EQ_INT(delta_dv_read(dir, &f->dv, &a, &pos, &n, &err), 0);
    CHECK_EQ_INT(n, 1);
    tarn_arena_free(&a);
  }
  delta_snapshot_free(s);

  /* eight days on, old.parquet's removal is older than the retention, and the fresh orphan
   * is old: both go */
  o = (delta_vacuum_options){.retention_ms = -1, .now_ms = now_ms() + 8 * DAY_MS};
  err = (tarn_error){0};
  CHECK_EQ_INT(delta_vacuum(dir, &o, &r, &err), 0);
  joined(&r, got, sizeof got);
  CHECK_EQ_STR(got, "fresh.parquet old.parquet");
  delta_vacuum_result_free(&r);
  CHECK(exists(dir, "_p=1/live.parquet") && exists(dir, "dv.parquet"));
}

/* Files removed within the retention period stay until it passes; force allows less. */
static void test_vacuum_retention(void) {
  char dir[512];
  snprintf(dir, sizeof dir, "%s/vac2", tmp_root);
  build_vacuum_table(dir, "interval 2 days");
  delta_vacuum_options o = {.retention_ms = 24 * 3600 * 1000, .dry_run = true};
  delta_vacuum_result r;
  tarn_error err = {0};
  CHECK_EQ_INT(delta_vacuum(dir, &o, &r, &err), TARN_EINVAL);
  CHECK(strstr(err.message, "48 hours") != NULL);
  delta_vacuum_result_free(&r);
  o.retention_ms = 3 * DAY_MS; /* above the table's: no force needed; old.parquet stays */
  err = (tarn_error){0};
  CHECK_EQ_INT(delta_vacuum(dir, &o, &r, &err), 0);
  CHECK_EQ_INT(r.n_paths, 0);
  CHECK_EQ_INT(r.table_retention_ms, 2 * DAY_MS);
  delta_vacuum_result_free(&r);
  /* retention 0, forced: the removal is in the past, so old.parquet goes now */
  o = (delta_vacuum_options){.retention_ms = 0, .force = true};
  err = (tarn_error){0};
  CHECK_EQ_INT(delta_vacuum(dir, &o, &r, &err), 0);
  char got[1024];
  joined(&r, got, sizeof got);
  CHECK_EQ_STR(got, "old.parquet");
  delta_vacuum_result_free(&r);

  /* an unreadable retention property is an error, not a default */
  char bad[512];
  snprintf(bad, sizeof bad, "%s/vac3", tmp_root);
  build_vacuum_table(bad, "a fortnight");
  o = (delta_vacuum_options){.retention_ms = -1, .dry_run = true};
  err = (tarn_error){0};
  CHECK_EQ_INT(delta_vacuum(bad, &o, &r, &err), TARN_EINVAL);
  CHECK(strstr(err.message, "deletedFileRetentionDuration") != NULL);
  delta_vacuum_result_free(&r);

  /* not a table */
  err = (tarn_error){0};
  CHECK(delta_vacuum(tmp_root, &o, &r, &err) != 0);
  delta_vacuum_result_free(&r);
}

/* ---- RESTORE -------------------------------------------------------------------------------- */

typedef struct commit_lines {
  int n_add, n_remove, n_metadata, n_protocol;
  char add_paths[256], remove_paths[256];
  bool adds_change_data;
  char operation[64], params[256];
} commit_lines;

static void read_commit(const char *dir, int64_t v, commit_lines *c) {
  memset(c, 0, sizeof *c);
  c->adds_change_data = true;
  char path[1024];
  snprintf(path, sizeof path, "%s/_delta_log/%020lld.json", dir, (long long)v);
  FILE *f = fopen(path, "rb");
  CHECK(f != NULL);
  char line[16384];
  while (f && fgets(line, sizeof line, f)) {
    cJSON *j = cJSON_Parse(line);
    CHECK(j != NULL);
    const cJSON *a;
    if ((a = cJSON_GetObjectItemCaseSensitive(j, "add"))) {
      c->n_add++;
      size_t n = strlen(c->add_paths);
      snprintf(c->add_paths + n, sizeof c->add_paths - n, "%s%s", n ? " " : "",
               cJSON_GetObjectItemCaseSensitive(a, "path")->valuestring);
      c->adds_change_data &= cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "dataChange"));
    }
    if ((a = cJSON_GetObjectItemCaseSensitive(j, "remove"))) {
      c->n_remove++;
      size_t n = strlen(c->remove_paths);
      snprintf(c->remove_paths + n, sizeof c->remove_paths - n, "%s%s", n ? " " : "",
               cJSON_GetObjectItemCaseSensitive(a, "path")->valuestring);
    }
    c->n_metadata += cJSON_GetObjectItemCaseSensitive(j, "metaData") != NULL;
    c->n_protocol += cJSON_GetObjectItemCaseSensitive(j, "protocol") != NULL;
    if ((a = cJSON_GetObjectItemCaseSensitive(j, "commitInfo"))) {
      const cJSON *op = cJSON_GetObjectItemCaseSensitive(a, "operation");
      if (cJSON_IsString(op)) snprintf(c->operation, sizeof c->operation, "%s", op->valuestring);
      char *p = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(a, "operationParameters"));
      if (p) snprintf(c->params, sizeof c->params, "%s", p);
      free(p);
    }
    cJSON_Delete(j);
  }
  if (f) fclose(f);
}

static int64_t latest_version(const char *dir) {
  delta_snapshot *s = NULL;
  tarn_error err = {0};
  int64_t v = delta_snapshot_load(dir, -1, &s, &err) == 0 ? s->version : -1;
  delta_snapshot_free(s);
  return v;
}

/* The live paths of a version, sorted, joined by spaces. */
static void live_paths(const char *dir, int64_t version, char *out, size_t cap) {
  delta_snapshot *s = NULL;
  tarn_error err = {0};
  out[0] = 0;
  CHECK_EQ_INT(delta_snapshot_load(dir, version, &s, &err), 0);
  for (size_t i = 0; s && i < s->n_files; i++) {
    size_t n = strlen(out);
    snprintf(out + n, cap - n, "%s%s%s", i ? " " : "", s->files[i].path,
             s->files[i].dv.storage_type ? "+dv" : "");
  }
  delta_snapshot_free(s);
}

/* `res`: v0 create (protocol 1/2) + f0, v1 + f1, v2 - f0 + f2, v3 metadata with x.y=1 and
 * protocol 1/4. A few milliseconds between commits, so each has its own time. */
static void build_restore_table(const char *dir, bool append_only) {
  static const char *const files[] = {"f0.parquet", "f1.parquet", "f2.parquet"};
  mkdir(dir, 0755);
  for (int i = 0; i < 3; i++)
    make_file(dir, files[i], 1);
  tarn_error err = {0};
  delta_txn *t = NULL;
  int64_t v;
  static const char *const pn[] = {NULL, NULL};
  static const char *const k1[] = {"delta.appendOnly", "x.y"}, *const v1[] = {"true", "1"};
  for (int step = 0; step < 4; step++) {
    CHECK_EQ_INT(delta_txn_begin(dir, &t, &err), 0);
    if (step == 0) {
      CHECK_EQ_INT(delta_txn_set_protocol(t, 1, 2, NULL, 0, NULL, 0, &err), 0);
      CHECK_EQ_INT(delta_txn_set_metadata(t, SCHEMA, NULL, 0, k1, v1, append_only ? 1 : 0, &err),
                   0);
    }
    if (step <= 2) CHECK_EQ_INT(delta_txn_add_file(t, files[step], pn, 18, 5, NULL, &err), 0);
    if (step == 2 && !append_only) {
      const delta_file *f = live_file(delta_txn_snapshot(t), "f0.parquet");
      CHECK(f != NULL);
      if (f) CHECK_EQ_INT(delta_txn_remove_file(t, f, &err), 0);
    }
    if (step == 3) {
      /* x.y = 1, keeping delta.appendOnly = true when the table has it */
      const char *const *k = append_only ? k1 : k1 + 1, *const *val = append_only ? v1 : v1 + 1;
      CHECK_EQ_INT(delta_txn_set_metadata(t, SCHEMA, NULL, 0, k, val, append_only ? 2 : 1, &err),
                   0);
      CHECK_EQ_INT(delta_txn_set_protocol(t, 1, 4, NULL, 0, NULL, 0, &err), 0);
    }
    CHECK_EQ_INT(delta_txn_commit(t, 0, &v, &err), 0);
    delta_txn_free(t);
    usleep(5000);
  }
  if (err.code) fprintf(stderr, "build_restore_table: %s\n", err.message);
}

static int64_t commit_time(const char *dir, int64_t v) {
  delta_commit *c = NULL;
  size_t n = 0;
  tarn_arena a = {0};
  tarn_error err = {0};
  int64_t ts = -1;
  if (delta_history(dir, &a, &c, &n, &err) == 0)
    for (size_t i = 0; i < n; i++)
      if (c[i].version == v) ts = c[i].timestamp_ms;
  tarn_arena_free(&a);
  return ts;
}

static void test_restore(void) {
  char dir[512], got[1024];
  snprintf(dir, sizeof dir, "%s/res", tmp_root);
  build_restore_table(dir, false);
  live_paths(dir, 3, got, sizeof got);
  CHECK_EQ_STR(got, "f1.parquet f2.parquet");

  delta_restore_result r;
  tarn_error err = {0};
  CHECK_EQ_INT(delta_restore(dir, 1, INT64_MIN, &r, &err), 0);
  CHECK_EQ_INT(r.version, 4);
  CHECK_EQ_INT(r.restored_version, 1);
  CHECK_EQ_INT(r.n_removed, 1);
  CHECK_EQ_INT(r.n_restored, 1);
  CHECK_EQ_INT(r.removed_bytes, 18);
  commit_lines c;
  read_commit(dir, 4, &c);
  CHECK_EQ_STR(c.operation, "RESTORE");
  CHECK_EQ_STR(c.params, "{\"version\":1,\"timestamp\":null}");
  CHECK_EQ_STR(c.remove_paths, "f2.parquet");
  CHECK_EQ_STR(c.add_paths, "f0.parquet");
  CHECK(c.adds_change_data);
  CHECK_EQ_INT(c.n_metadata, 1); /* version 1 had no x.y */
  CHECK_EQ_INT(c.n_protocol, 0); /* (1, 4) merged with (1, 2) is (1, 4): unchanged */
  live_paths(dir, 4, got, sizeof got);
  CHECK_EQ_STR(got, "f0.parquet f1.parquet");
  delta_snapshot *s = NULL;
  CHECK_EQ_INT(delta_snapshot_load(dir, 4, &s, &err), 0);
  if (s) {
    CHECK(delta_snapshot_config(s, "x.y") == NULL);
    CHECK_EQ_INT(s->min_writer_version, 4);
    const delta_file *f = live_file(s, "f0.parquet");
    CHECK(f && f->size == 18 && f->modification_time == 5);
  }
  delta_snapshot_free(s);

  /* by time: the version in force just after version 2 was committed */
  err = (tarn_error){0};
  CHECK_EQ_INT(delta_restore(dir, -1, commit_time(dir, 2) + 1, &r, &err), 0);
  CHECK_EQ_INT(r.restored_version, 2);
  read_commit(dir, 5, &c);
  CHECK(strstr(c.params, "\"version\":null,\"timestamp\":\"") != NULL);
  live_paths(dir, 5, got, sizeof got);
  CHECK_EQ_STR(got, "f1.parquet f2.parquet");

  /* refusals leave the log as it is */
  err = (tarn_error){0};
  CHECK_EQ_INT(delta_restore(dir, 5, INT64_MIN, &r, &err), TARN_EINVAL);
  CHECK(strstr(err.message, "older than the latest") != NULL);
  err = (tarn_error){0};
  CHECK_EQ_INT(delta_restore(dir, 42, INT64_MIN, &r, &err), TARN_EINVAL);
  err = (tarn_error){0};
  CHECK_EQ_INT(delta_restore(dir, -1, 1000, &r, &err), TARN_EINVAL); /* before the table */
  char path[1024];
  snprintf(path, sizeof path, "%s/f0.parquet", dir);
  CHECK_EQ_INT(unlink(path), 0);
  err = (tarn_error){0};
  CHECK_EQ_INT(delta_restore(dir, 0, INT64_MIN, &r, &err), TARN_EINVAL);
  CHECK(strstr(err.message, "f0.parquet") != NULL && strstr(err.message, "no longer exist"));
  CHECK_EQ_INT(latest_version(dir), 5);
  err = (tarn_error){0};
  CHECK(delta_restore(tmp_root, 0, INT64_MIN, &r, &err) != 0);

  /* append-only: restoring would remove files */
  char ao[512];
  snprintf(ao, sizeof ao, "%s/appendonly", tmp_root);
  build_restore_table(ao, true);
  err = (tarn_error){0};
  CHECK_EQ_INT(delta_restore(ao, 1, INT64_MIN, &r, &err), TARN_EINVAL);
  CHECK(strstr(err.message, "append-only") != NULL);
  CHECK_EQ_INT(latest_version(ao), 3);
}

/* Deletion vectors are part of a file's identity; the protocol is never downgraded. */
static void test_restore_dv(void) {
  char dir[512], got[1024];
  snprintf(dir, sizeof dir, "%s/resdv", tmp_root);
  mkdir(dir, 0755);
  make_file(dir, "g.parquet", 1);
  tarn_error err = {0};
  delta_txn *t = NULL;
  int64_t v;
  static const char *const pn[] = {NULL};
  CHECK_EQ_INT(delta_txn_begin(dir, &t, &err), 0);
  CHECK_EQ_INT(delta_txn_set_protocol(t, 1, 2, NULL, 0, NULL, 0, &err), 0);
  CHECK_EQ_INT(delta_txn_set_metadata(t, SCHEMA, NULL, 0, NULL, NULL, 0, &err), 0);
  CHECK_EQ_INT(delta_txn_add_file(t, "g.parquet", pn, 18, 1, NULL, &err), 0);
  CHECK_EQ_INT(delta_txn_commit(t, 0, &v, &err), 0);
  delta_txn_free(t);
  /* v1: the protocol gains deletion vectors; v2: g gets one */
  static const char *const dvf[] = {"deletionVectors"};
  CHECK_EQ_INT(delta_txn_begin(dir, &t, &err), 0);
  CHECK_EQ_INT(delta_txn_set_protocol(t, 3, 7, dvf, 1, dvf, 1, &err), 0);
  CHECK_EQ_INT(delta_txn_commit(t, 0, &v, &err), 0);
  delta_txn_free(t);
  tarn_arena a = {0};
  delta_dv dv;
  static const uint64_t pos[] = {3};
  const uint64_t *pp[] = {pos};
  size_t cnt[] = {1};
  CHECK_EQ_INT(delta_dv_write_file(dir, 1, pp, cnt, &a, &dv, NULL, &err), 0);
  CHECK_EQ_INT(delta_txn_begin(dir, &t, &err), 0);
  const delta_file *f = live_file(delta_txn_snapshot(t), "g.parquet");
  if (f) CHECK_EQ_INT(delta_txn_remove_file(t, f, &err), 0);
  CHECK_EQ_INT(delta_txn_add_file_dv(t, "g.parquet", pn, 18, 1, NULL, &dv, &err), 0);
  CHECK_EQ_INT(delta_txn_commit(t, 0, &v, &err), 0);
  delta_txn_free(t);
  tarn_arena_free(&a);

  delta_restore_result r;
  CHECK_EQ_INT(delta_restore(dir, 0, INT64_MIN, &r, &err), 0);
  CHECK(r.n_removed == 1 && r.n_restored == 1);
  commit_lines c;
  read_commit(dir, 3, &c);
  CHECK_EQ_STR(c.remove_paths, "g.parquet");
  CHECK_EQ_STR(c.add_paths, "g.parquet");
  live_paths(dir, 3, got, sizeof got);
  CHECK_EQ_STR(got, "g.parquet");
  /* the protocol stays (3, 7) with deletionVectors; (1, 2)'s features join the list */
  CHECK_EQ_INT(c.n_protocol, 1);
  delta_snapshot *s = NULL;
  CHECK_EQ_INT(delta_snapshot_load(dir, 3, &s, &err), 0);
  if (s) {
    CHECK(s->min_reader_version == 3 && s->min_writer_version == 7);
    bool has_dv = false, has_append = false;
    for (size_t i = 0; i < s->n_writer_features; i++) {
      has_dv |= strcmp(s->writer_features[i], "deletionVectors") == 0;
      has_append |= strcmp(s->writer_features[i], "appendOnly") == 0;
    }
    CHECK(has_dv && has_append);
    CHECK(s->n_reader_features == 1);
  }
  delta_snapshot_free(s);

  /* and back to version 2: g with its deletion vector again */
  err = (tarn_error){0};
  CHECK_EQ_INT(delta_restore(dir, 2, INT64_MIN, &r, &err), 0);
  live_paths(dir, 4, got, sizeof got);
  CHECK_EQ_STR(got, "g.parquet+dv");
  read_commit(dir, 4, &c);
  CHECK_EQ_INT(c.n_protocol, 0);
  CHECK_EQ_INT(c.n_metadata, 0);

  /* a vacuumed deletion vector file makes version 2 unrestorable */
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "rm '%s'/deletion_vector_*.bin", dir);
  CHECK_EQ_INT(system(cmd), 0);
  CHECK_EQ_INT(delta_restore(dir, 0, INT64_MIN, &r, &err), 0); /* needs no vector */
  err = (tarn_error){0};
  CHECK_EQ_INT(delta_restore(dir, 2, INT64_MIN, &r, &err), TARN_EINVAL);
  CHECK(strstr(err.message, "deletion_vector_") != NULL);
}

int main(void) {
  snprintf(tmp_root, sizeof tmp_root, "/tmp/tarn-test-maint-XXXXXX");
  if (mkdtemp(tmp_root) == NULL) return 1;
  RUN(test_intervals);
  RUN(test_vacuum);
  RUN(test_vacuum_retention);
  RUN(test_restore);
  RUN(test_restore_dv);
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp_root);
  return check_finish();
}
