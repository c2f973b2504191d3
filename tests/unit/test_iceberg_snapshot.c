/*
 * Iceberg snapshot file listing over the complete tables of duckdb-iceberg's data/persistent:
 * counts duckdb-iceberg's .test files state (iceberg_metadata listings, v1 defaults), the
 * snapshot summaries' totals (total-data-files, total-delete-files, total-records,
 * total-position-deletes, total-equality-deletes) recomputed from the live entries of every
 * snapshot of every table, every listed file present on disk, and bad inputs (missing manifest,
 * truncated manifest list or manifest in a temporary copy) failing with the file named.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shared_data.h"
#include "table/iceberg/iceberg_snapshot.h"

static int failures, checks;

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    checks++;                                                                                      \
    if (!(cond)) {                                                                                 \
      failures++;                                                                                  \
      fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);                     \
    }                                                                                              \
  } while (0)

#define ROOT "testdata/duckdb-iceberg/data/persistent/"

static char *table_path(const char *rel) {
  static char buf[8][4096];
  static int k;
  char *p = buf[k++ & 7];
  shared_data_path(p, 4096, rel);
  return p;
}

/* p as given, or (written relative to the duckdb-iceberg checkout, outside the table directory as
 * column_mapping's data file is) relative to that root. */
static bool exists(const char *p) {
  struct stat st;
  if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) return true;
  if (p[0] == '/') return false;
  char rel[4096], full[8192];
  snprintf(rel, sizeof rel, "testdata/duckdb-iceberg/%.4000s", p);
  shared_data_path(full, sizeof full, rel);
  return stat(full, &st) == 0 && S_ISREG(st.st_mode);
}

static iceberg_table *open_table(const char *rel, bool moved, const char *version) {
  iceberg_open_options o = {moved, version};
  iceberg_table *t = NULL;
  tarn_error err = {0};
  int rc = iceberg_table_open(table_path(rel), &o, &t, &err);
  if (rc) fprintf(stderr, "open %s: %s\n", rel, err.message);
  CHECK(rc == 0 && t != NULL);
  return t;
}

static const char *summary(const iceberg_snapshot *s, const char *key) {
  for (size_t i = 0; i < s->n_summary; i++)
    if (strcmp(s->summary_keys[i], key) == 0) return s->summary_values[i];
  return NULL;
}

static void check_summary_total(const iceberg_snapshot *s, const char *key, long long got,
                                const char *table) {
  const char *v = summary(s, key);
  if (v == NULL) return;
  checks++;
  if (strtoll(v, NULL, 10) != got) {
    failures++;
    fprintf(stderr, "%s snapshot %lld: %s is %s, listed %lld\n", table, (long long)s->snapshot_id,
            key, v, got);
  }
}

/* Lists every snapshot of the table and checks the summary totals and that files exist. */
static void check_all_snapshots(const char *rel) {
  iceberg_table *t = open_table(rel, true, NULL);
  if (t == NULL) return;
  const iceberg_meta *m = iceberg_table_meta(t);
  for (size_t k = 0; k < m->n_snapshots; k++) {
    const iceberg_snapshot *s = &m->snapshots[k];
    iceberg_file *f;
    size_t n;
    tarn_error err = {0};
    int rc = iceberg_snapshot_files(t, s, false, &f, &n, &err);
    /* Some staged tables lack the manifest list of an old snapshot (equality_deletes/mytable):
     * that must be a clean I/O error naming it; the current snapshot must always list. */
    if (rc == TARN_EIO && s->snapshot_id != m->current_snapshot_id &&
        strstr(err.message, "manifest list") && strstr(err.message, "No such file")) {
      CHECK(f == NULL && n == 0);
      continue;
    }
    if (rc) fprintf(stderr, "%s: %s\n", rel, err.message);
    CHECK(rc == 0);
    long long data = 0, dels = 0, recs = 0, pos = 0, eq = 0;
    for (size_t i = 0; i < n; i++) {
      CHECK(f[i].status != ICEBERG_STATUS_DELETED);
      if (!exists(f[i].file_path)) {
        failures++;
        fprintf(stderr, "%s: listed file %s does not exist\n", rel, f[i].file_path);
      }
      checks++;
      if (f[i].content == ICEBERG_CONTENT_DATA) {
        data++;
        recs += f[i].record_count;
      } else {
        dels++;
        if (f[i].content == ICEBERG_CONTENT_POSITION_DELETES)
          pos += f[i].record_count;
        else
          eq += f[i].record_count;
      }
      const iceberg_partition_spec *sp = iceberg_meta_spec(m, f[i].spec_id);
      CHECK(sp != NULL);
      if (sp != NULL && f[i].partition != NULL) CHECK(f[i].partition->u.record.n == sp->n_fields);
      CHECK(f[i].data_sequence_number <= s->sequence_number || m->format_version == 1 ||
            s->sequence_number == 0);
    }
    check_summary_total(s, "total-data-files", data, rel);
    check_summary_total(s, "total-delete-files", dels, rel);
    check_summary_total(s, "total-records", recs, rel);
    check_summary_total(s, "total-position-deletes", pos, rel);
    check_summary_total(s, "total-equality-deletes", eq, rel);
    if (getenv("TARN_ICEBERG_DUMP"))
      for (size_t i = 0; i < n; i++)
        printf("%s %lld: st=%d c=%d spec=%d rc=%lld seq=%lld/%lld %s\n", rel,
               (long long)s->snapshot_id, f[i].status, f[i].content, f[i].spec_id,
               (long long)f[i].record_count, (long long)f[i].data_sequence_number,
               (long long)f[i].file_sequence_number, f[i].file_path);
    iceberg_files_free(f);
  }
  iceberg_table_close(t);
}

static const char *base(const char *p) {
  const char *s = strrchr(p, '/');
  return s ? s + 1 : p;
}

/* iceberg_metadata.test: lineitem_iceberg with ALLOW_MOVED_PATHS. */
static void test_lineitem(void) {
  iceberg_table *t = open_table(ROOT "iceberg/lineitem_iceberg", true, NULL);
  if (t == NULL) return;
  CHECK(strstr(iceberg_table_metadata_path(t), "v2.metadata.json") != NULL);
  iceberg_file *f;
  size_t n;
  tarn_error err = {0};
  CHECK(iceberg_snapshot_files(t, NULL, true, &f, &n, &err) == 0);
  CHECK(n == 2);
  if (n == 2) {
    CHECK(strcmp(base(f[0].manifest_path), "179b4fb1-0366-4f7d-ad35-99ee8da0abf5-m1.avro") == 0);
    CHECK(f[0].status == ICEBERG_STATUS_ADDED && f[0].content == ICEBERG_CONTENT_DATA);
    CHECK(strcmp(base(f[0].file_path),
                 "00000-5-dad9988f-2a3b-464c-adb6-6034de93da19-00001.parquet") == 0);
    CHECK(strcmp(f[0].file_format, "PARQUET") == 0);
    CHECK(f[0].record_count == 51793 && f[0].data_sequence_number == 2 &&
          f[0].file_sequence_number == 2 && f[0].manifest_sequence_number == 2);
    CHECK(strcmp(base(f[1].manifest_path), "179b4fb1-0366-4f7d-ad35-99ee8da0abf5-m0.avro") == 0);
    CHECK(f[1].status == ICEBERG_STATUS_DELETED);
    CHECK(f[1].record_count == 60175 && f[1].data_sequence_number == 1 &&
          f[1].file_sequence_number == 1);
    CHECK(exists(f[0].file_path) && exists(f[1].file_path));
    CHECK(f[0].n_lower_bounds > 0 && f[0].n_value_counts > 0);
  }
  iceberg_files_free(f);
  /* Live files only. */
  CHECK(iceberg_snapshot_files(t, NULL, false, &f, &n, &err) == 0);
  CHECK(n == 1 && f[0].record_count == 51793);
  iceberg_files_free(f);
  /* The first snapshot, by id and as of its time. */
  const iceberg_snapshot *s = NULL;
  CHECK(iceberg_table_find_snapshot(t, ICEBERG_SNAPSHOT_ID, 7817332053627255703LL, NULL, &s,
                                    &err) == 0);
  CHECK(s != NULL && iceberg_snapshot_files(t, s, true, &f, &n, &err) == 0);
  CHECK(n == 1 && f[0].record_count == 60175 && f[0].status == ICEBERG_STATUS_ADDED);
  CHECK(strcmp(base(f[0].manifest_path), "787a5996-87e9-4d93-b258-066d524e82cc-m0.avro") == 0);
  iceberg_files_free(f);
  const iceberg_snapshot *s2 = NULL;
  CHECK(iceberg_table_find_snapshot(t, ICEBERG_SNAPSHOT_AS_OF, s->timestamp_ms, NULL, &s2, &err) ==
            0 &&
        s2 == s);
  CHECK(iceberg_table_find_snapshot(t, ICEBERG_SNAPSHOT_REF, 0, "main", &s2, &err) == 0 &&
        s2->snapshot_id == 2354745328521181395LL);
  tarn_error e2 = {0};
  CHECK(iceberg_table_find_snapshot(t, ICEBERG_SNAPSHOT_REF, 0, "nope", &s2, &e2) == TARN_EINVAL);
  CHECK(strstr(e2.message, "nope") != NULL);
  tarn_error e3 = {0};
  CHECK(iceberg_table_find_snapshot(t, ICEBERG_SNAPSHOT_ID, 42, NULL, &s2, &e3) == TARN_EINVAL);
  tarn_error e4 = {0};
  CHECK(iceberg_table_find_snapshot(t, ICEBERG_SNAPSHOT_AS_OF, 1000, NULL, &s2, &e4) ==
        TARN_EINVAL);
  iceberg_table_close(t);
  /* version='1' */
  t = open_table(ROOT "iceberg/lineitem_iceberg", true, "1");
  if (t != NULL) {
    CHECK(iceberg_snapshot_files(t, NULL, true, &f, &n, &err) == 0);
    CHECK(n == 1 && f[0].record_count == 60175 && f[0].data_sequence_number == 1);
    iceberg_files_free(f);
    iceberg_table_close(t);
  }
  /* Without allow_moved_paths the manifest list path is used as written and is not found. */
  t = open_table(ROOT "iceberg/lineitem_iceberg", false, NULL);
  if (t != NULL) {
    tarn_error e = {0};
    CHECK(iceberg_snapshot_files(t, NULL, false, &f, &n, &e) == TARN_EIO);
    CHECK(f == NULL && n == 0 && strstr(e.message, "manifest list") != NULL);
    iceberg_table_close(t);
  }
}

/* iceberg_v1_existing_manifest_entry.test: v1 manifests, EXISTING entries, sequence numbers 0;
 * the v3-upgraded document still reads the v1 manifest list. */
static void test_v1(void) {
  const char *files[] = {
      ROOT "iceberg_v1_repro/repro/merch_v1/metadata/"
           "00003-8d01e4aa-d143-49c9-898e-b5e477577b70.metadata.json",
      ROOT
      "iceberg_v1_repro/repro/merch_v1/metadata/00004-v3-upgraded-v1-null-counts.metadata.json"};
  for (int k = 0; k < 2; k++) {
    iceberg_table *t = open_table(files[k], true, NULL);
    if (t == NULL) continue;
    CHECK(iceberg_table_meta(t)->format_version == (k == 0 ? 1 : 3));
    iceberg_file *f;
    size_t n;
    tarn_error err = {0};
    CHECK(iceberg_snapshot_files(t, NULL, false, &f, &n, &err) == 0);
    long long rows = 0;
    int existing = 0;
    for (size_t i = 0; i < n; i++) {
      CHECK(f[i].content == ICEBERG_CONTENT_DATA);
      CHECK(f[i].data_sequence_number == 0 && f[i].file_sequence_number == 0);
      CHECK(f[i].manifest_sequence_number == 0 && f[i].manifest_content == ICEBERG_CONTENT_DATA);
      CHECK(exists(f[i].file_path));
      existing += f[i].status == ICEBERG_STATUS_EXISTING;
      rows += f[i].record_count;
    }
    CHECK(existing > 0);
    CHECK(rows == 4); /* the scan returns 4 rows and the table has no deletes */
    iceberg_files_free(f);
    iceberg_table_close(t);
  }
}

/* legacy_bare_deletion_vector.test: DATA DATA 1, DELETE POSITION_DELETES 1; the DV names its
 * data file and its blob. */
static void test_deletion_vector(void) {
  iceberg_table *t = open_table(
      ROOT "legacy_bare_deletion_vector/warehouse/default/legacy_bare_deletion_vector", true, NULL);
  if (t == NULL) return;
  iceberg_file *f;
  size_t n;
  tarn_error err = {0};
  CHECK(iceberg_snapshot_files(t, NULL, true, &f, &n, &err) == 0);
  int data = 0, dv = 0;
  for (size_t i = 0; i < n; i++) {
    if (f[i].manifest_content == ICEBERG_CONTENT_DATA && f[i].content == ICEBERG_CONTENT_DATA)
      data++;
    if (f[i].manifest_content != ICEBERG_CONTENT_DATA &&
        f[i].content == ICEBERG_CONTENT_POSITION_DELETES) {
      dv++;
      CHECK(strcmp(f[i].file_format, "PUFFIN") == 0);
      CHECK(f[i].referenced_data_file != NULL && exists(f[i].referenced_data_file));
      CHECK(f[i].content_offset >= 0 && f[i].content_size_in_bytes > 0);
      CHECK(exists(f[i].file_path));
    }
  }
  CHECK(n == 2 && data == 1 && dv == 1);
  iceberg_files_free(f);
  iceberg_table_close(t);
}

/* equality_deletes.test: mytable ends with rows 4 and 5 after equality deletes. */
static void test_equality_deletes(void) {
  iceberg_table *t = open_table(ROOT "equality_deletes/warehouse/mydb/mytable", true, NULL);
  if (t == NULL) return;
  CHECK(strstr(iceberg_table_metadata_path(t), "v7.metadata.json") != NULL);
  iceberg_file *f;
  size_t n;
  tarn_error err = {0};
  CHECK(iceberg_snapshot_files(t, NULL, false, &f, &n, &err) == 0);
  int eq = 0;
  long long rows = 0;
  for (size_t i = 0; i < n; i++) {
    if (f[i].content == ICEBERG_CONTENT_EQUALITY_DELETES) {
      eq++;
      CHECK(f[i].n_equality_ids > 0);
      for (size_t j = 0; j < f[i].n_equality_ids; j++)
        CHECK(f[i].equality_ids[j] >= 1 && f[i].equality_ids[j] <= 3);
    } else if (f[i].content == ICEBERG_CONTENT_DATA) {
      rows += f[i].record_count;
    }
    CHECK(f[i].data_sequence_number >= 1 && f[i].data_sequence_number <= 6);
  }
  CHECK(eq == 4);   /* four deleting snapshots */
  CHECK(rows == 6); /* 4 + 2 rows inserted */
  iceberg_files_free(f);
  iceberg_table_close(t);
}

/* hive_partitioned_table: spec 0 (event_date) then spec 1 (event_date, event_type). */
static void test_partition_evolution(void) {
  iceberg_table *t = open_table(ROOT "hive_partitioned_table", true, NULL);
  if (t == NULL) return;
  iceberg_file *f;
  size_t n;
  tarn_error err = {0};
  CHECK(iceberg_snapshot_files(t, NULL, false, &f, &n, &err) == 0);
  int spec0 = 0, spec1 = 0;
  for (size_t i = 0; i < n; i++) {
    CHECK(f[i].partition != NULL);
    if (f[i].partition == NULL) continue;
    const tarn_avro_value *d = iceberg_file_partition_value(&f[i], 0);
    int32_t days;
    CHECK(tarn_avro_get_int(d, &days) && days >= 19723 && days <= 19726); /* 2024-01-01..04 */
    if (f[i].spec_id == 0) {
      spec0++;
      CHECK(f[i].partition->u.record.n == 1);
    } else if (f[i].spec_id == 1) {
      spec1++;
      const char *s;
      size_t len;
      CHECK(f[i].partition->u.record.n == 2);
      CHECK(tarn_avro_get_string(iceberg_file_partition_value(&f[i], 1), &s, &len));
    }
    /* The date in the path agrees with the partition value. */
    char want[64];
    int y = 2024, day = 1 + (int)(days - 19723);
    snprintf(want, sizeof want, "event_date=%04d-01-%02d", y, day);
    CHECK(strstr(f[i].file_path, want) != NULL);
  }
  CHECK(spec0 > 0 && spec1 > 0);
  iceberg_files_free(f);
  iceberg_table_close(t);
}

/* Paths as written, relative to the duckdb-iceberg root, after chdir there. */
static void test_paths_as_written(void) {
  char root[4096], cwd[4096];
  shared_data_path(root, sizeof root, "testdata/duckdb-iceberg");
  if (getcwd(cwd, sizeof cwd) == NULL || chdir(root) != 0) {
    CHECK(0);
    return;
  }
  iceberg_open_options o = {false, NULL};
  iceberg_table *t = NULL;
  tarn_error err = {0};
  CHECK(iceberg_table_open("data/persistent/equality_deletes/warehouse/mydb/mytable_partitioned",
                           &o, &t, &err) == 0);
  if (t != NULL) {
    iceberg_file *f;
    size_t n;
    CHECK(iceberg_snapshot_files(t, NULL, false, &f, &n, &err) == 0);
    CHECK(n > 0);
    for (size_t i = 0; i < n; i++) {
      CHECK(strncmp(f[i].file_path, "data/persistent/equality_deletes/", 33) == 0);
      CHECK(exists(f[i].file_path));
    }
    iceberg_files_free(f);
    iceberg_table_close(t);
  }
  CHECK(chdir(cwd) == 0);
}

static void test_open_errors(void) {
  iceberg_table *t = NULL;
  tarn_error err = {0};
  CHECK(iceberg_table_open(table_path(ROOT "iceberg/nonexistent"), NULL, &t, &err) == TARN_EIO);
  CHECK(t == NULL && strstr(err.message, "nonexistent") != NULL);
  tarn_error e2 = {0};
  iceberg_open_options o = {true, "99"};
  CHECK(iceberg_table_open(table_path(ROOT "iceberg/lineitem_iceberg"), &o, &t, &e2) == TARN_EIO);
  CHECK(strstr(e2.message, "99") != NULL);
  tarn_error e3 = {0};
  CHECK(iceberg_table_open("/tmp/x.metadata.json.gz", NULL, &t, &e3) == TARN_EUNSUPPORTED);
  iceberg_table_close(NULL);
  iceberg_files_free(NULL);
}

/* --- Damaged copies -------------------------------------------------------------------------- */

static int copy_file(const char *from, const char *to, long truncate_to) {
  FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
  if (a == NULL || b == NULL) {
    if (a) fclose(a);
    if (b) fclose(b);
    return -1;
  }
  char buf[65536];
  size_t r;
  long total = 0;
  while ((r = fread(buf, 1, sizeof buf, a)) > 0) {
    if (truncate_to >= 0 && total + (long)r > truncate_to) r = (size_t)(truncate_to - total);
    fwrite(buf, 1, r, b);
    total += (long)r;
    if (truncate_to >= 0 && total >= truncate_to) break;
  }
  fclose(a);
  fclose(b);
  return 0;
}

/* Copies lineitem_iceberg's metadata folder to a temp dir (data files are not needed to list). */
static int make_copy(char *dir, size_t cap) {
  snprintf(dir, cap, "/tmp/tarn_iceberg_snapXXXXXX");
  if (mkdtemp(dir) == NULL) return -1;
  char p[4600], q[4600];
  snprintf(p, sizeof p, "%s/metadata", dir);
  if (mkdir(p, 0700) != 0) return -1;
  const char *names[] = {"v1.metadata.json",
                         "v2.metadata.json",
                         "version-hint.text",
                         "179b4fb1-0366-4f7d-ad35-99ee8da0abf5-m0.avro",
                         "179b4fb1-0366-4f7d-ad35-99ee8da0abf5-m1.avro",
                         "787a5996-87e9-4d93-b258-066d524e82cc-m0.avro",
                         "snap-2354745328521181395-1-179b4fb1-0366-4f7d-ad35-99ee8da0abf5.avro",
                         "snap-7817332053627255703-1-787a5996-87e9-4d93-b258-066d524e82cc.avro"};
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    char rel[512];
    snprintf(rel, sizeof rel, ROOT "iceberg/lineitem_iceberg/metadata/%s", names[i]);
    shared_data_path(p, sizeof p, rel);
    snprintf(q, sizeof q, "%s/metadata/%s", dir, names[i]);
    if (copy_file(p, q, -1)) return -1;
  }
  return 0;
}

static void remove_copy(const char *dir) {
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

static void expect_failure(const char *dir, const char *name_in_message, int code) {
  iceberg_open_options o = {true, NULL};
  iceberg_table *t = NULL;
  tarn_error err = {0};
  CHECK(iceberg_table_open(dir, &o, &t, &err) == 0);
  if (t == NULL) return;
  iceberg_file *f = (iceberg_file *)&err;
  size_t n = 7;
  int rc = iceberg_snapshot_files(t, NULL, true, &f, &n, &err);
  CHECK(rc < 0 && f == NULL && n == 0);
  if (code) CHECK(rc == code);
  CHECK(strstr(err.message, name_in_message) != NULL);
  if (strstr(err.message, name_in_message) == NULL) fprintf(stderr, "message: %s\n", err.message);
  iceberg_table_close(t);
}

static void test_damaged(void) {
  char dir[4096], p[4600], q[4600];
  const char *m1 = "179b4fb1-0366-4f7d-ad35-99ee8da0abf5-m1.avro";
  const char *list = "snap-2354745328521181395-1-179b4fb1-0366-4f7d-ad35-99ee8da0abf5.avro";
  /* A missing manifest. */
  if (make_copy(dir, sizeof dir)) {
    CHECK(0);
    return;
  }
  snprintf(p, sizeof p, "%s/metadata/%s", dir, m1);
  CHECK(unlink(p) == 0);
  expect_failure(dir, m1, TARN_EIO);
  /* Every truncation of the manifest and of the manifest list fails cleanly. */
  const char *victims[] = {m1, list};
  for (int v = 0; v < 2; v++) {
    char rel[512];
    snprintf(rel, sizeof rel, ROOT "iceberg/lineitem_iceberg/metadata/%s", victims[v]);
    shared_data_path(q, sizeof q, rel);
    snprintf(p, sizeof p, "%s/metadata/%s", dir, victims[v]);
    struct stat st;
    CHECK(stat(q, &st) == 0);
    for (long cut = 0; cut < (long)st.st_size; cut += cut < 64 ? 1 : 97) {
      CHECK(copy_file(q, p, cut) == 0);
      expect_failure(dir, victims[v], 0);
    }
    CHECK(copy_file(q, p, -1) == 0);
  }
  /* Damaged but complete copy still lists. */
  iceberg_open_options o = {true, NULL};
  iceberg_table *t = NULL;
  tarn_error err = {0};
  CHECK(iceberg_table_open(dir, &o, &t, &err) == 0);
  if (t != NULL) {
    iceberg_file *f;
    size_t n;
    CHECK(iceberg_snapshot_files(t, NULL, true, &f, &n, &err) == 0 && n == 2);
    iceberg_files_free(f);
    iceberg_table_close(t);
  }
  /* No hint: the highest version is found; a gzip-only highest version is refused. */
  snprintf(p, sizeof p, "%s/metadata/version-hint.text", dir);
  CHECK(unlink(p) == 0);
  t = NULL;
  CHECK(iceberg_table_open(dir, &o, &t, &err) == 0);
  CHECK(t != NULL && strstr(iceberg_table_metadata_path(t), "v2.metadata.json") != NULL);
  iceberg_table_close(t);
  snprintf(p, sizeof p, "%s/metadata/v3.metadata.json.gz", dir);
  CHECK(copy_file(q, p, 10) == 0);
  tarn_error e2 = {0};
  t = NULL;
  CHECK(iceberg_table_open(dir, &o, &t, &e2) == TARN_EUNSUPPORTED && t == NULL);
  CHECK(strstr(e2.message, "gzip") != NULL);
  remove_copy(dir);
}

int main(void) {
  char probe[4096];
  shared_data_path(probe, sizeof probe, ROOT "iceberg/lineitem_iceberg/metadata/v2.metadata.json");
  if (!exists(probe)) {
    fprintf(stderr, "%s missing (set TARN_SHARED)\n", probe);
    return 1;
  }
  test_lineitem();
  test_v1();
  test_deletion_vector();
  test_equality_deletes();
  test_partition_evolution();
  test_paths_as_written();
  test_open_errors();
  test_damaged();
  const char *tables[] = {
      "iceberg/lineitem_iceberg", "equality_deletes/warehouse/mydb/mytable",
      "equality_deletes/warehouse/mydb/mytable_partitioned",
      /* equality_delete_cross_partition: its snapshot id 9876543210123456789 passes INT64_MAX,
       * which iceberg_meta refuses. */
      "hive_partitioned_table", "name_mapping/warehouse_1/mydb/t1",
      "iceberg_v1_repro/repro/merch_v1",
      "legacy_bare_deletion_vector/warehouse/default/legacy_bare_deletion_vector",
      "add_columns_with_defaults/default.db/add_columns_with_defaults",
      "case_sensitive_names/default.db/case_sensitive_names",
      "column_mapping/warehouse/default.db/my_table", "is_null_is_not_null",
      "null_stats/default/test_nulls", "partition_bigint", "partition_decimal_bigint",
      "partition_decimal_hugeint", "partition_decimal_integer",
      "partition_fixed_length_binary/default.db/partition_fixed_length_binary", "partition_float",
      "partition_integer", "partition_time/default.db/partition_time",
      "partition_timestamp/default.db/partition_timestamp", "uuid"};
  for (size_t k = 0; k < sizeof tables / sizeof *tables; k++) {
    char rel[512];
    snprintf(rel, sizeof rel, ROOT "%s", tables[k]);
    char dir[4096];
    shared_data_path(dir, sizeof dir, rel);
    struct stat st;
    if (stat(dir, &st) != 0) {
      fprintf(stderr, "skip %s (not staged)\n", tables[k]);
      continue;
    }
    check_all_snapshots(rel);
  }
  printf("test_iceberg_snapshot: %d checks, %d failures\n", checks, failures);
  return failures ? 1 : 0;
}
