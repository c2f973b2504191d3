/*
 * Delta change data feed (src/table/delta/delta_cdf.c, src/sql/source_delta_cdf.c).
 *
 * Rows are read end to end: the change source is scanned by the SQL scan operator and printed
 * as canonical JSON lines, which are compared as a multiset with expected rows written here:
 *  - the delta-kernel-rs CDF tables of the shared data, against the rows kernel-rs's own tests
 *    (kernel/tests/cdf.rs) expect (the commit timestamp left out, as there: file times change
 *    when tables are unpacked);
 *  - tables built here with delta_txn_* and hand-written commits (cdc files, deletion vectors
 *    that grow and shrink, a remove without partition values, dataChange false, in-commit
 *    timestamps, a commit without commitInfo), whose changes are worked out by hand.
 * Refusals: ranges where change data feed was off (at the start or switched off inside), start
 * after end, versions the table does not have.
 */
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "arrow_build.h"
#include "check.h"
#include "columnar/arrow.h"
#include "columnar/format.h"
#include "shared_data.h"
#include "sql/exec.h"
#include "sql/plan.h"
#include "sql/source_delta_cdf.h"
#include "table/delta/delta_cdf.h"
#include "table/delta/delta_commit.h"
#include "table/delta/dv.h"

#define KERNEL "testdata/delta-kernel-rs/kernel/tests/data/"

static char tmp_root[256];

/* ---- Reading changes as canonical rows ------------------------------------------------------ */

typedef struct rows {
  char **lines;
  size_t n;
} rows;

static void rows_free(rows *r) {
  for (size_t i = 0; i < r->n; i++)
    free(r->lines[i]);
  free(r->lines);
  memset(r, 0, sizeof *r);
}

static int cmp_line(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The changes of table versions from..to as sorted JSON lines, every column but
 * _commit_timestamp unless with_time. Returns the error code (0: rows filled). */
static int read_changes(const char *dir, int64_t from, int64_t to, bool with_time, rows *out,
                        tarn_error *err) {
  memset(out, 0, sizeof *out);
  sql_plan_ctx pc;
  memset(&pc, 0, sizeof pc);
  sql_source *src = NULL;
  int rc = sql_source_delta_changes(&pc.arena, dir, from, to, &src, err);
  if (rc) {
    tarn_arena_free(&pc.arena);
    return rc;
  }
  size_t n_out = 0;
  int cols[64];
  for (size_t c = 0; c < src->n_cols && n_out < 64; c++)
    if (with_time || strcmp(src->col_names[c], "_commit_timestamp") != 0) cols[n_out++] = (int)c;
  sql_plan *scan = sql_plan_new(&pc, SQL_P_SCAN);
  rc = sql_plan_alloc_out(&pc, scan, n_out);
  scan->source = src;
  scan->source_cols = cols;
  for (size_t i = 0; rc == 0 && i < n_out; i++) {
    scan->out_ids[i] = sql_plan_new_id(&pc);
    scan->out_names[i] = src->col_names[cols[i]];
    scan->out_types[i] = src->col_types[cols[i]];
  }
  sql_exec_ctx x;
  memset(&x, 0, sizeof x);
  x.err = err;
  x.n_threads = 1;
  sql_batch *all = NULL;
  if (rc == 0) rc = sql_exec_collect(&x, scan, &all);
  /* printed through the command's own canonical printer */
  struct ArrowSchema schema;
  struct ArrowArray arr;
  memset(&schema, 0, sizeof schema);
  memset(&arr, 0, sizeof arr);
  if (rc == 0) rc = col_schema_init(&schema, "+s", "", 0, (int64_t)n_out, NULL, 0, err);
  for (size_t i = 0; rc == 0 && i < n_out; i++)
    rc = sql_type_to_arrow(scan->out_types[i], scan->out_names[i], schema.children[i], err);
  if (rc == 0) rc = sql_batch_to_arrow(all, &arr, err);
  char *text = NULL;
  size_t len = 0;
  FILE *mem = rc == 0 ? open_memstream(&text, &len) : NULL;
  col_printer *pr = NULL;
  col_text_format fmt;
  if (rc == 0) rc = col_text_format_parse("jsonl", &fmt, err);
  if (rc == 0) rc = col_printer_create(fmt, mem, &schema, &pr, err);
  if (rc == 0 && arr.length) rc = col_printer_write(pr, &arr, err);
  if (rc == 0) rc = col_printer_finish(pr, err);
  col_printer_free(pr);
  if (mem) fclose(mem);
  if (arr.release) arr.release(&arr);
  if (schema.release) schema.release(&schema);
  sql_batch_free(all);
  tarn_arena_free(&pc.arena);
  for (char *save = NULL, *l = rc == 0 && text ? strtok_r(text, "\n", &save) : NULL; l;
       l = strtok_r(NULL, "\n", &save)) {
    out->lines = realloc(out->lines, (out->n + 1) * sizeof *out->lines);
    out->lines[out->n++] = strdup(l);
  }
  free(text);
  if (out->n) qsort(out->lines, out->n, sizeof *out->lines, cmp_line);
  return rc;
}

/* Checks the changes of dir from..to against expected rows (any order). */
static void check_changes(const char *dir, int64_t from, int64_t to, bool with_time,
                          const char *const *expected, size_t n_expected) {
  rows got;
  tarn_error err = {0};
  int rc = read_changes(dir, from, to, with_time, &got, &err);
  if (rc)
    fprintf(stderr, "%s [%lld, %lld]: %s\n", dir, (long long)from, (long long)to, err.message);
  CHECK_EQ_INT(rc, 0);
  char **want = malloc((n_expected + 1) * sizeof *want);
  memcpy(want, expected, n_expected * sizeof *want);
  qsort(want, n_expected, sizeof *want, cmp_line);
  bool same = got.n == n_expected;
  for (size_t i = 0; same && i < n_expected; i++)
    same = strcmp(got.lines[i], want[i]) == 0;
  if (!same) {
    fprintf(stderr, "changes of %s [%lld, %lld]: %zu rows, %zu expected\n", dir, (long long)from,
            (long long)to, got.n, n_expected);
    for (size_t i = 0; i < got.n || i < n_expected; i++)
      fprintf(stderr, "  got  %s\n  want %s\n", i < got.n ? got.lines[i] : "-",
              i < n_expected ? want[i] : "-");
  }
  CHECK(same);
  free(want);
  rows_free(&got);
}

static void check_refused(const char *dir, int64_t from, int64_t to, const char *words) {
  rows got;
  tarn_error err = {0};
  int rc = read_changes(dir, from, to, false, &got, &err);
  CHECK_EQ_INT(rc, TARN_EINVAL);
  if (words && !strstr(err.message, words))
    fprintf(stderr, "[%lld, %lld] message lacks '%s': %s\n", (long long)from, (long long)to, words,
            err.message);
  CHECK(words == NULL || strstr(err.message, words) != NULL);
  rows_free(&got);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- The kernel-rs tables ------------------------------------------------------------------- */

static void kernel_path(char *out, size_t cap, const char *table) {
  char rel[256];
  snprintf(rel, sizeof rel, KERNEL "%s", table);
  shared_data_path(out, cap, rel);
}

static void test_kernel_basic(void) {
  char dir[4096];
  kernel_path(dir, sizeof dir, "cdf-table");
#define R(id, name, day, type, v)                                                                  \
  "{\"id\":" #id ",\"name\":\"" name "\",\"birthday\":\"" day "\",\"_change_type\":\"" type        \
  "\",\"_commit_version\":" #v "}"
  static const char *const want[] = {
      R(1, "Steve", "2023-12-22", "insert", 0),
      R(2, "Bob", "2023-12-23", "insert", 0),
      R(3, "Dave", "2023-12-23", "insert", 0),
      R(4, "Kate", "2023-12-23", "insert", 0),
      R(5, "Emily", "2023-12-24", "insert", 0),
      R(6, "Carl", "2023-12-24", "insert", 0),
      R(7, "Dennis", "2023-12-24", "insert", 0),
      R(8, "Claire", "2023-12-25", "insert", 0),
      R(9, "Ada", "2023-12-25", "insert", 0),
      R(10, "Borb", "2023-12-25", "insert", 0),
      R(3, "Dave", "2023-12-22", "update_postimage", 1),
      R(3, "Dave", "2023-12-23", "update_preimage", 1),
      R(4, "Kate", "2023-12-22", "update_postimage", 1),
      R(4, "Kate", "2023-12-23", "update_preimage", 1),
      R(2, "Bob", "2023-12-22", "update_postimage", 1),
      R(2, "Bob", "2023-12-23", "update_preimage", 1),
      R(7, "Dennis", "2023-12-24", "update_preimage", 2),
      R(7, "Dennis", "2023-12-29", "update_postimage", 2),
      R(5, "Emily", "2023-12-24", "update_preimage", 2),
      R(5, "Emily", "2023-12-29", "update_postimage", 2),
      R(6, "Carl", "2023-12-24", "update_preimage", 2),
      R(6, "Carl", "2023-12-29", "update_postimage", 2),
      R(7, "Dennis", "2023-12-29", "delete", 3),
  };
#undef R
  check_changes(dir, 0, -1, false, want, N(want));
}

static void test_kernel_non_partitioned(void) {
  char dir[4096];
  kernel_path(dir, sizeof dir, "cdf-table-non-partitioned");
#define R(id, name, day, lf, type, v)                                                              \
  "{\"id\":" #id ",\"name\":\"" name "\",\"birthday\":\"" day "\",\"long_field\":" #lf             \
  ",\"boolean_field\":true,\"double_field\":3.14,\"smallint_field\":1,\"_change_type\":\"" type    \
  "\",\"_commit_version\":" #v "}"
  static const char *const want[] = {
      R(1, "Steve", "2024-04-14", 1, "insert", 0),
      R(2, "Bob", "2024-04-15", 1, "insert", 0),
      R(3, "Dave", "2024-04-15", 2, "insert", 0),
      R(4, "Kate", "2024-04-15", 3, "insert", 0),
      R(5, "Emily", "2024-04-16", 4, "insert", 0),
      R(6, "Carl", "2024-04-16", 5, "insert", 0),
      R(7, "Dennis", "2024-04-16", 6, "insert", 0),
      R(8, "Claire", "2024-04-17", 7, "insert", 0),
      R(9, "Ada", "2024-04-17", 8, "insert", 0),
      R(10, "Borb", "2024-04-17", 99999999999999999, "insert", 0),
      R(3, "Dave", "2024-04-15", 2, "update_preimage", 1),
      R(3, "Dave", "2024-04-14", 2, "update_postimage", 1),
      R(4, "Kate", "2024-04-15", 3, "update_preimage", 1),
      R(4, "Kate", "2024-04-14", 3, "update_postimage", 1),
      R(2, "Bob", "2024-04-15", 1, "update_preimage", 1),
      R(2, "Bob", "2024-04-14", 1, "update_postimage", 1),
      R(7, "Dennis", "2024-04-16", 6, "update_preimage", 2),
      R(7, "Dennis", "2024-04-14", 6, "update_postimage", 2),
      R(5, "Emily", "2024-04-16", 4, "update_preimage", 2),
      R(5, "Emily", "2024-04-14", 4, "update_postimage", 2),
      R(6, "Carl", "2024-04-16", 5, "update_preimage", 2),
      R(6, "Carl", "2024-04-14", 5, "update_postimage", 2),
      R(7, "Dennis", "2024-04-14", 6, "delete", 3),
      R(1, "Alex", "2024-04-14", 1, "insert", 4),
      R(2, "Alan", "2024-04-15", 1, "insert", 4),
  };
#undef R
  check_changes(dir, 0, -1, false, want, N(want));
}

/* kernel-rs prints an empty comment as a blank cell; the files hold empty strings (their footer
 * statistics: null count 0, minimum ""), so those rows expect "". */
static void test_kernel_cdc_and_dvs(void) {
  char dir[4096];
  kernel_path(dir, sizeof dir, "cdf-table-with-cdc-and-dvs");
#define R(id, comment, type, v)                                                                    \
  "{\"id\":" #id ",\"comment\":" comment ",\"_change_type\":\"" type "\",\"_commit_version\":" #v  \
  "}"
  static const char *const want[] = {
      R(1, "\"initial\"", "insert", 0),
      R(2, "\"insert1\"", "insert", 1),
      R(3, "\"insert1-delete1\"", "insert", 1),
      R(4, "\"insert1-delete2\"", "insert", 1),
      R(5, "\"insert1-delete2\"", "insert", 1),
      R(3, "\"insert1-delete1\"", "delete", 2),
      R(3, "\"insert1-delete1\"", "insert", 4),
      R(4, "\"insert1-delete2\"", "delete", 5),
      R(5, "\"insert1-delete2\"", "delete", 5),
      R(4, "\"insert1-delete2\"", "insert", 7),
      R(5, "\"insert2\"", "insert", 8),
      R(1, "\"initial\"", "update_preimage", 9),
      R(1, "\"update1\"", "update_postimage", 9),
      R(2, "\"insert1\"", "update_preimage", 9),
      R(2, "\"update1\"", "update_postimage", 9),
      R(3, "\"insert1-delete1\"", "update_preimage", 9),
      R(3, "\"update1\"", "update_postimage", 9),
      R(1, "\"update1\"", "delete", 10),
      R(2, "\"update1\"", "update_preimage", 12),
      R(2, "\"update2\"", "update_postimage", 12),
      R(6, "\"insert3\"", "insert", 14),
      R(7, "\"insert3\"", "insert", 14),
      R(8, "\"insert4\"", "insert", 15),
      R(9, "\"insert4\"", "insert", 15),
      R(8, "\"insert4\"", "delete", 16),
      R(7, "\"insert3\"", "delete", 16),
      R(10, "\"merge1-insert\"", "insert", 18),
      R(11, "\"merge1-insert\"", "insert", 18),
      R(9, "\"merge1-update\"", "update_postimage", 18),
      R(9, "\"insert4\"", "update_preimage", 18),
      R(11, "\"merge1-insert\"", "update_preimage", 20),
      R(11, "\"\"", "update_postimage", 20),
      R(12, "\"merge2-insert\"", "insert", 22),
      R(11, "\"\"", "delete", 22),
      R(3, "\"update1\"", "delete", 24),
      R(4, "\"insert1-delete2\"", "delete", 24),
      R(5, "\"insert2\"", "delete", 24),
      R(2, "\"update2\"", "delete", 24),
      R(6, "\"insert3\"", "delete", 24),
      R(9, "\"merge1-update\"", "delete", 24),
      R(0, "\"new\"", "insert", 25),
      R(1, "\"after-large-delete\"", "insert", 25),
      R(2, "\"\"", "insert", 25),
  };
#undef R
  check_changes(dir, 0, -1, false, want, N(want));
}

#define ID_ROW(id, type, v)                                                                        \
  "{\"id\":" #id ",\"_change_type\":\"" type "\",\"_commit_version\":" #v "}"

static void test_kernel_simple_ranges(void) {
  char dir[4096];
  kernel_path(dir, sizeof dir, "cdf-table-simple");
  static const char *const v0[] = {ID_ROW(0, "insert", 0), ID_ROW(1, "insert", 0),
                                   ID_ROW(2, "insert", 0), ID_ROW(3, "insert", 0),
                                   ID_ROW(4, "insert", 0), ID_ROW(5, "insert", 0),
                                   ID_ROW(6, "insert", 0), ID_ROW(7, "insert", 0),
                                   ID_ROW(8, "insert", 0), ID_ROW(9, "insert", 0)};
  static const char *const v1[] = {ID_ROW(0, "delete", 1), ID_ROW(1, "delete", 1),
                                   ID_ROW(2, "delete", 1), ID_ROW(3, "delete", 1),
                                   ID_ROW(4, "delete", 1), ID_ROW(5, "delete", 1),
                                   ID_ROW(6, "delete", 1), ID_ROW(7, "delete", 1),
                                   ID_ROW(8, "delete", 1), ID_ROW(9, "delete", 1)};
  static const char *const v2[] = {ID_ROW(20, "insert", 2), ID_ROW(21, "insert", 2),
                                   ID_ROW(22, "insert", 2), ID_ROW(23, "insert", 2),
                                   ID_ROW(24, "insert", 2)};
  check_changes(dir, 0, 0, false, v0, N(v0));
  check_changes(dir, 1, 1, false, v1, N(v1));
  check_changes(dir, 2, 2, false, v2, N(v2));
  const char *all[N(v0) + N(v1) + N(v2)];
  memcpy(all, v0, sizeof v0);
  memcpy(all + N(v0), v1, sizeof v1);
  memcpy(all + N(v0) + N(v1), v2, sizeof v2);
  check_changes(dir, 0, 2, false, all, N(all));
  check_changes(dir, 0, -1, false, all, N(all));
  check_refused(dir, 1, 0, "after the end version");
  check_refused(dir, 3, 4, "no version 4");
  check_refused(dir, 3, -1, "after the latest version 2");
  check_refused(dir, -1, 2, "0 or more");
}

static void test_kernel_other_operations(void) {
  char dir[4096];
  /* delta-spark's own tests wrote update_pre / update_post here, which are read as stored */
  kernel_path(dir, sizeof dir, "cdf-table-update-ops");
  static const char *const upd[] = {
      ID_ROW(0, "insert", 0),       ID_ROW(1, "insert", 0),       ID_ROW(2, "insert", 0),
      ID_ROW(3, "insert", 0),       ID_ROW(4, "insert", 0),       ID_ROW(5, "insert", 0),
      ID_ROW(6, "insert", 0),       ID_ROW(7, "insert", 0),       ID_ROW(8, "insert", 0),
      ID_ROW(9, "insert", 0),       ID_ROW(20, "update_pre", 1),  ID_ROW(21, "update_pre", 1),
      ID_ROW(22, "update_pre", 1),  ID_ROW(23, "update_pre", 1),  ID_ROW(24, "update_pre", 1),
      ID_ROW(30, "update_post", 2), ID_ROW(31, "update_post", 2), ID_ROW(32, "update_post", 2),
      ID_ROW(33, "update_post", 2), ID_ROW(34, "update_post", 2)};
  check_changes(dir, 0, 2, false, upd, N(upd));

  static const char *const inserts[] = {ID_ROW(0, "insert", 0), ID_ROW(1, "insert", 0),
                                        ID_ROW(2, "insert", 0), ID_ROW(3, "insert", 0),
                                        ID_ROW(4, "insert", 0), ID_ROW(5, "insert", 0),
                                        ID_ROW(6, "insert", 0), ID_ROW(7, "insert", 0),
                                        ID_ROW(8, "insert", 0), ID_ROW(9, "insert", 0)};
  kernel_path(dir, sizeof dir, "cdf-table-data-change"); /* version 1: dataChange false */
  check_changes(dir, 0, 1, false, inserts, N(inserts));

  static const char *const deleted[] = {
      ID_ROW(0, "insert", 0), ID_ROW(1, "insert", 0), ID_ROW(2, "insert", 0),
      ID_ROW(3, "insert", 0), ID_ROW(4, "insert", 0), ID_ROW(5, "insert", 0),
      ID_ROW(6, "insert", 0), ID_ROW(7, "insert", 0), ID_ROW(8, "insert", 0),
      ID_ROW(9, "insert", 0), ID_ROW(0, "delete", 1), ID_ROW(1, "delete", 1),
      ID_ROW(2, "delete", 1), ID_ROW(3, "delete", 1), ID_ROW(4, "delete", 1),
      ID_ROW(5, "delete", 1), ID_ROW(6, "delete", 1), ID_ROW(7, "delete", 1),
      ID_ROW(8, "delete", 1), ID_ROW(9, "delete", 1)};
  kernel_path(dir, sizeof dir, "cdf-table-delete-unconditional");
  check_changes(dir, 0, -1, false, deleted, N(deleted));
  kernel_path(dir, sizeof dir, "cdf-table-delete-conditional-all-rows");
  check_changes(dir, 0, -1, false, deleted, N(deleted));

  kernel_path(dir, sizeof dir, "cdf-table-backtick-column-names");
#define B(id, type, v)                                                                             \
  "{\"id.num\":" #id ",\"id.num`s\":10,\"struct_col\":{\"field\":1,\"field.one\":2},"              \
  "\"_change_type\":\"" type "\",\"_commit_version\":" #v "}"
  static const char *const bt[] = {B(2, "insert", 0), B(4, "insert", 0), B(1, "insert", 1),
                                   B(3, "insert", 1), B(5, "insert", 1)};
#undef B
  check_changes(dir, 0, -1, false, bt, N(bt));
}

/* Column mapping by name: the data and change files use physical names. Change data feed was
 * switched on at version 1. */
static void test_kernel_column_mapping(void) {
#define M(id, name, value, type, v)                                                                \
  "{\"id\":" #id ",\"name\":\"" name "\",\"value\":" #value ",\"_change_type\":\"" type            \
  "\",\"_commit_version\":" #v "}"
  static const char *const want[] = {
      M(1, "Alice", 100, "delete", 4), M(2, "Bob", 200, "update_preimage", 2),
      M(2, "Bob", 250, "update_postimage", 2), M(4, "David", 400, "insert", 3)};
#undef M
  static const char *const tables[] = {"cdf-column-mapping-name-mode",
                                       "cdf-column-mapping-name-mode-3-7"};
  for (size_t i = 0; i < 2; i++) {
    char dir[4096];
    kernel_path(dir, sizeof dir, tables[i]);
    check_changes(dir, 1, -1, false, want, N(want));
    check_refused(dir, 0, -1, "not enabled at version 0");
  }
}

/* table-with-cdf names files that do not exist: only the log is read, through delta_cdf_load. */
static void test_kernel_enablement(void) {
  char dir[4096];
  kernel_path(dir, sizeof dir, "table-with-cdf");
  delta_cdf *c = NULL;
  tarn_error err = {0};
  CHECK_EQ_INT(delta_cdf_load(dir, 0, 1, &c, &err), 0);
  if (c) {
    CHECK_EQ_INT(c->n_files, 2);
    if (c->n_files == 2) {
      CHECK_EQ_INT(c->files[0].version, 0);
      CHECK_EQ_INT(c->files[0].kind, DELTA_CDF_INSERT);
      CHECK_EQ_STR(c->files[0].path, "fake/path/1");
      CHECK_EQ_INT(c->files[0].timestamp_ms, 1704392842074);
      /* version 1 has a cdc action: its remove is not a change of its own */
      CHECK_EQ_INT(c->files[1].version, 1);
      CHECK_EQ_INT(c->files[1].kind, DELTA_CDF_CDC);
      CHECK_EQ_STR(c->files[1].path, "fake/path/2");
      CHECK_EQ_INT(c->files[1].size, 1);
      CHECK_EQ_INT(c->files[1].timestamp_ms, 1704392846030);
    }
    delta_cdf_free(c);
  }
  /* version 2 turns change data feed off, version 3 on again */
  err = (tarn_error){0};
  CHECK_EQ_INT(delta_cdf_load(dir, 0, 2, &c, &err), TARN_EINVAL);
  CHECK(strstr(err.message, "not enabled at version 2") != NULL);
  err = (tarn_error){0};
  CHECK_EQ_INT(delta_cdf_load(dir, 2, 3, &c, &err), TARN_EINVAL);
  CHECK(strstr(err.message, "not enabled at version 2") != NULL);
  err = (tarn_error){0};
  CHECK_EQ_INT(delta_cdf_load(dir, 3, 4, &c, &err), 0);
  if (c) {
    CHECK_EQ_INT(c->n_files, 0);
    CHECK_EQ_INT(c->to_version, 4);
    delta_cdf_free(c);
  }
}

/* ---- Tables built here ---------------------------------------------------------------------- */

#define SCHEMA                                                                                     \
  "{\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"long\",\"nullable\":true,"         \
  "\"metadata\":{}},{\"name\":\"part\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}}]}"

/* Writes a Parquet file of int64 ids, with a _change_type column when types is not NULL. */
static void write_ids(const char *path, const int64_t *ids, size_t n, const char *const *types) {
  static int32_t offsets[64];
  static char chars[1024];
  size_t pos = 0;
  for (size_t i = 0; types && i < n; i++) {
    offsets[i] = (int32_t)pos;
    memcpy(chars + pos, types[i], strlen(types[i]));
    pos += strlen(types[i]);
  }
  offsets[n] = (int32_t)pos;
  struct ArrowSchema *s = types ? sch("+s", "", 2, sch("l", "id", 0), sch("u", "_change_type", 0))
                                : sch("+s", "", 1, sch("l", "id", 0));
  struct ArrowArray *a = arr(1, (int64_t)n, 0, NULL, NULL, NULL);
  struct ArrowArray *idc = arr(2, (int64_t)n, 0, NULL, ids, NULL);
  if (types)
    kids(a, 2, idc, arr(3, (int64_t)n, 0, NULL, offsets, chars));
  else
    kids(a, 1, idc);
  tarn_parquet_writer *w = NULL;
  tarn_error err = {0};
  CHECK_EQ_INT(tarn_parquet_writer_open(path, s, NULL, &w, &err), 0);
  CHECK_EQ_INT(tarn_parquet_writer_write(w, a, &err), 0);
  CHECK_EQ_INT(tarn_parquet_writer_close(w, NULL, &err), 0);
  reset();
}

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  CHECK(f != NULL);
  if (f) {
    fputs(text, f);
    fclose(f);
  }
}

static const delta_file *live_file(const delta_snapshot *s, const char *path) {
  for (size_t i = 0; s && i < s->n_files; i++)
    if (strcmp(s->files[i].path, path) == 0) return &s->files[i];
  return NULL;
}

/* The commitInfo.timestamp of a commit, read here from the JSON. */
static int64_t commit_info_time(const char *dir, int64_t v) {
  char path[512];
  snprintf(path, sizeof path, "%s/_delta_log/%020lld.json", dir, (long long)v);
  FILE *f = fopen(path, "rb");
  char line[8192];
  int64_t ts = -1;
  while (f && ts < 0 && fgets(line, sizeof line, f)) {
    cJSON *j = cJSON_Parse(line);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "commitInfo"), "timestamp");
    if (cJSON_IsNumber(t)) ts = (int64_t)t->valuedouble;
    cJSON_Delete(j);
  }
  if (f) fclose(f);
  return ts;
}

/* Builds `hand`, partitioned by part, change data feed on:
 *  v0 add a1 (ids 1 2 3, part x)          -> inserts 1 2 3
 *  v1 add b1 (ids 10 11, part y)          -> inserts 10 11
 *  v2 (hand) remove a1, add a2 (1 3), cdc c2 (2 delete, 3 pre, 3 post); in-commit timestamp
 *                                          -> the cdc rows only
 *  v3 remove b1, add b1 + DV {1}          -> delete 11
 *  v4 remove b1+{1}, add b1 + DV {0}      -> delete 10, insert 11 (restored)
 *  v5 (hand, no commitInfo) remove b1+{0} without partition values; add a3 with dataChange
 *     false                                -> delete 11 (part y from version 4)
 *  v6 add d1 (ids 20 21 22, part z) + DV {0, 2} -> insert 21 */
static void build_hand(const char *dir) {
  char path[1024];
  tarn_error err = {0};
  delta_txn *t = NULL;
  int64_t v = -1;
  mkdir(dir, 0755);
  static const int64_t a1[] = {1, 2, 3}, b1[] = {10, 11}, a2[] = {1, 3}, d1[] = {20, 21, 22},
                       a3[] = {7}, c2[] = {2, 3, 3};
  static const char *const c2t[] = {"delete", "update_preimage", "update_postimage"};
  snprintf(path, sizeof path, "%s/a1.parquet", dir);
  write_ids(path, a1, 3, NULL);
  snprintf(path, sizeof path, "%s/b1.parquet", dir);
  write_ids(path, b1, 2, NULL);
  snprintf(path, sizeof path, "%s/a2.parquet", dir);
  write_ids(path, a2, 2, NULL);
  snprintf(path, sizeof path, "%s/a3.parquet", dir);
  write_ids(path, a3, 1, NULL);
  snprintf(path, sizeof path, "%s/d1.parquet", dir);
  write_ids(path, d1, 3, NULL);
  snprintf(path, sizeof path, "%s/_change_data", dir);
  mkdir(path, 0755);
  snprintf(path, sizeof path, "%s/_change_data/c2.parquet", dir);
  write_ids(path, c2, 3, c2t);

  static const char *const pc[] = {"part"};
  static const char *const ck[] = {"delta.enableChangeDataFeed"}, *const cv[] = {"true"};
  static const char *const px[] = {"x"}, *const py[] = {"y"}, *const pz[] = {"z"};
  CHECK_EQ_INT(delta_txn_begin(dir, &t, &err), 0);
  CHECK_EQ_INT(delta_txn_set_protocol(t, 1, 4, NULL, 0, NULL, 0, &err), 0);
  CHECK_EQ_INT(delta_txn_set_metadata(t, SCHEMA, pc, 1, ck, cv, 1, &err), 0);
  CHECK_EQ_INT(delta_txn_add_file(t, "a1.parquet", px, 100, 1, NULL, &err), 0);
  CHECK_EQ_INT(delta_txn_commit(t, 0, &v, &err), 0);
  delta_txn_free(t);
  CHECK_EQ_INT(delta_txn_begin(dir, &t, &err), 0);
  CHECK_EQ_INT(delta_txn_add_file(t, "b1.parquet", py, 100, 1, NULL, &err), 0);
  CHECK_EQ_INT(delta_txn_commit(t, 0, &v, &err), 0);
  delta_txn_free(t);

  snprintf(path, sizeof path, "%s/_delta_log/00000000000000000002.json", dir);
  write_text(path,
             "{\"commitInfo\":{\"timestamp\":1700000000999,\"inCommitTimestamp\":1700000000123,"
             "\"operation\":\"UPDATE\"}}\n"
             "{\"remove\":{\"path\":\"a1.parquet\",\"deletionTimestamp\":1,\"dataChange\":true,"
             "\"extendedFileMetadata\":true,\"partitionValues\":{\"part\":\"x\"},\"size\":100}}\n"
             "{\"add\":{\"path\":\"a2.parquet\",\"partitionValues\":{\"part\":\"x\"},\"size\":100,"
             "\"modificationTime\":1,\"dataChange\":true}}\n"
             "{\"cdc\":{\"path\":\"_change_data/c2.parquet\",\"partitionValues\":{\"part\":\"x\"},"
             "\"size\":100,\"dataChange\":false}}\n");

  tarn_arena a = {0};
  delta_dv dv;
  static const uint64_t pos1[] = {1}, pos0[] = {0}, pos02[] = {0, 2};
  const uint64_t *pp[1];
  size_t cnt[1];
  CHECK_EQ_INT(delta_txn_begin(dir, &t, &err), 0);
  const delta_file *f = live_file(delta_txn_snapshot(t), "b1.parquet");
  CHECK(f != NULL);
  pp[0] = pos1;
  cnt[0] = 1;
  CHECK_EQ_INT(delta_dv_write_file(dir, 1, pp, cnt, &a, &dv, NULL, &err), 0);
  if (f) CHECK_EQ_INT(delta_txn_remove_file(t, f, &err), 0);
  CHECK_EQ_INT(delta_txn_add_file_dv(t, "b1.parquet", py, 100, 1, NULL, &dv, &err), 0);
  CHECK_EQ_INT(delta_txn_commit(t, 0, &v, &err), 0);
  delta_txn_free(t);

  CHECK_EQ_INT(delta_txn_begin(dir, &t, &err), 0);
  f = live_file(delta_txn_snapshot(t), "b1.parquet");
  CHECK(f != NULL && f->dv.storage_type == 'u');
  pp[0] = pos0;
  CHECK_EQ_INT(delta_dv_write_file(dir, 1, pp, cnt, &a, &dv, NULL, &err), 0);
  if (f) CHECK_EQ_INT(delta_txn_remove_file(t, f, &err), 0);
  CHECK_EQ_INT(delta_txn_add_file_dv(t, "b1.parquet", py, 100, 1, NULL, &dv, &err), 0);
  CHECK_EQ_INT(delta_txn_commit(t, 0, &v, &err), 0);
  delta_txn_free(t);

  /* version 5 by hand: the remove names b1's current vector and no partition values */
  char text[2048];
  snprintf(text, sizeof text,
           "{\"remove\":{\"path\":\"b1.parquet\",\"deletionTimestamp\":1,\"dataChange\":true,"
           "\"deletionVector\":{\"storageType\":\"u\",\"pathOrInlineDv\":\"%s\",\"offset\":%d,"
           "\"sizeInBytes\":%d,\"cardinality\":1}}}\n"
           "{\"add\":{\"path\":\"a3.parquet\",\"partitionValues\":{\"part\":\"x\"},\"size\":100,"
           "\"modificationTime\":1,\"dataChange\":false}}\n",
           dv.path_or_inline, (int)dv.offset, (int)dv.size_in_bytes);
  snprintf(path, sizeof path, "%s/_delta_log/00000000000000000005.json", dir);
  write_text(path, text);
  struct timeval times[2] = {{1600000000, 0}, {1600000000, 0}};
  CHECK_EQ_INT(utimes(path, times), 0);

  CHECK_EQ_INT(delta_txn_begin(dir, &t, &err), 0);
  pp[0] = pos02;
  cnt[0] = 2;
  CHECK_EQ_INT(delta_dv_write_file(dir, 1, pp, cnt, &a, &dv, NULL, &err), 0);
  CHECK_EQ_INT(delta_txn_add_file_dv(t, "d1.parquet", pz, 100, 1, NULL, &dv, &err), 0);
  CHECK_EQ_INT(delta_txn_commit(t, 0, &v, &err), 0);
  CHECK_EQ_INT(v, 6);
  delta_txn_free(t);
  tarn_arena_free(&a);
  if (err.code) fprintf(stderr, "build_hand: %s\n", err.message);
}

#define H(id, part, type, v)                                                                       \
  "{\"id\":" #id ",\"part\":\"" part "\",\"_change_type\":\"" type "\",\"_commit_version\":" #v "}"

static void test_hand_rows(void) {
  char dir[512];
  snprintf(dir, sizeof dir, "%s/hand", tmp_root);
  build_hand(dir);
  static const char *const all[] = {
      H(1, "x", "insert", 0),          H(2, "x", "insert", 0),           H(3, "x", "insert", 0),
      H(10, "y", "insert", 1),         H(11, "y", "insert", 1),          H(2, "x", "delete", 2),
      H(3, "x", "update_preimage", 2), H(3, "x", "update_postimage", 2), H(11, "y", "delete", 3),
      H(10, "y", "delete", 4),         H(11, "y", "insert", 4),          H(11, "y", "delete", 5),
      H(21, "z", "insert", 6)};
  check_changes(dir, 0, -1, false, all, N(all));
  check_changes(dir, 2, 2, false, all + 5, 3);
  check_changes(dir, 3, 4, false, all + 8, 3);
  check_changes(dir, 5, 6, false, all + 11, 2);
  check_refused(dir, 4, 3, "after the end version");
  check_refused(dir, 0, 7, "no version 7");
  check_refused(dir, 7, -1, "after the latest version 6");

  /* the entries themselves: kinds, rows kept, times */
  delta_cdf *c = NULL;
  tarn_error err = {0};
  CHECK_EQ_INT(delta_cdf_load(dir, 0, -1, &c, &err), 0);
  if (c == NULL) return;
  CHECK_EQ_INT(c->n_files, 8);
  for (size_t i = 0; c->n_files != 8 && i < c->n_files; i++)
    fprintf(stderr, "  entry: version %lld kind %d %s keep_only %d positions %zu\n",
            (long long)c->files[i].version, (int)c->files[i].kind, c->files[i].path,
            (int)c->files[i].keep_only, c->files[i].n_positions);
  if (c->n_files == 8) {
    const delta_cdf_file *f = c->files;
    CHECK_EQ_INT(f[0].timestamp_ms, commit_info_time(dir, 0));
    CHECK_EQ_INT(f[1].timestamp_ms, commit_info_time(dir, 1));
    CHECK(f[1].kind == DELTA_CDF_INSERT && f[1].n_positions == 0 && !f[1].keep_only);
    CHECK_EQ_STR(f[1].partition_values[0], "y");
    CHECK(f[2].kind == DELTA_CDF_CDC && f[2].version == 2);
    CHECK_EQ_INT(f[2].timestamp_ms, 1700000000123); /* inCommitTimestamp wins */
    CHECK(f[3].kind == DELTA_CDF_DELETE && f[3].keep_only && f[3].n_positions == 1 &&
          f[3].positions[0] == 1 && f[3].version == 3);
    CHECK(f[4].kind == DELTA_CDF_DELETE && f[4].keep_only && f[4].n_positions == 1 &&
          f[4].positions[0] == 0 && f[4].version == 4);
    CHECK(f[5].kind == DELTA_CDF_INSERT && f[5].keep_only && f[5].n_positions == 1 &&
          f[5].positions[0] == 1 && f[5].version == 4);
    CHECK(f[6].kind == DELTA_CDF_DELETE && !f[6].keep_only && f[6].n_positions == 1 &&
          f[6].positions[0] == 0 && f[6].version == 5);
    CHECK_EQ_STR(f[6].partition_values[0], "y");             /* from version 4's snapshot */
    CHECK_EQ_INT(f[6].timestamp_ms, INT64_C(1600000000000)); /* no commitInfo: the file's time */
    CHECK(f[7].kind == DELTA_CDF_INSERT && f[7].version == 6 && f[7].n_positions == 2);
    CHECK_EQ_INT(f[7].timestamp_ms, commit_info_time(dir, 6));
    CHECK_EQ_STR(f[7].path, "d1.parquet");
  }
  delta_cdf_free(c);

  /* _commit_timestamp through SQL: version 2's in-commit time as timestamptz */
  rows got;
  err = (tarn_error){0};
  CHECK_EQ_INT(read_changes(dir, 2, 2, true, &got, &err), 0);
  CHECK_EQ_INT(got.n, 3);
  for (size_t i = 0; i < got.n; i++)
    CHECK(strstr(got.lines[i], "\"_commit_timestamp\":\"2023-11-14T22:13:20.123000Z\"") != NULL);
  rows_free(&got);
}

/* Change data feed switched on at version 1 and off at version 3. */
static void test_enablement(void) {
  char dir[512], path[600];
  snprintf(dir, sizeof dir, "%s/toggle", tmp_root);
  mkdir(dir, 0755);
  static const int64_t ids[] = {5, 6};
  snprintf(path, sizeof path, "%s/f.parquet", dir);
  write_ids(path, ids, 2, NULL);
  snprintf(path, sizeof path, "%s/g.parquet", dir);
  write_ids(path, ids, 1, NULL);
  static const char *const ck[] = {"delta.enableChangeDataFeed"};
  static const char *const on[] = {"TRUE"}, *const off[] = {"false"};
  static const char *const px[] = {"x"}, *const pc[] = {"part"};
  tarn_error err = {0};
  delta_txn *t = NULL;
  int64_t v;
  for (int step = 0; step < 5; step++) {
    CHECK_EQ_INT(delta_txn_begin(dir, &t, &err), 0);
    if (step == 0) CHECK_EQ_INT(delta_txn_set_protocol(t, 1, 4, NULL, 0, NULL, 0, &err), 0);
    if (step == 0) CHECK_EQ_INT(delta_txn_set_metadata(t, SCHEMA, pc, 1, NULL, NULL, 0, &err), 0);
    if (step == 1) CHECK_EQ_INT(delta_txn_set_metadata(t, SCHEMA, pc, 1, ck, on, 1, &err), 0);
    if (step == 2) CHECK_EQ_INT(delta_txn_add_file(t, "f.parquet", px, 1, 1, NULL, &err), 0);
    if (step == 3) CHECK_EQ_INT(delta_txn_set_metadata(t, SCHEMA, pc, 1, ck, off, 1, &err), 0);
    if (step == 4) CHECK_EQ_INT(delta_txn_add_file(t, "g.parquet", px, 1, 1, NULL, &err), 0);
    CHECK_EQ_INT(delta_txn_commit(t, 0, &v, &err), 0);
    delta_txn_free(t);
  }
  check_refused(dir, 0, 2, "not enabled at version 0");
  static const char *const want[] = {H(5, "x", "insert", 2), H(6, "x", "insert", 2)};
  check_changes(dir, 1, 2, false, want, 2); /* "TRUE": Spark reads booleans in any case */
  check_changes(dir, 2, 2, false, want, 2);
  check_refused(dir, 1, 3, "not enabled at version 3");
  check_refused(dir, 4, 4, "not enabled at version 4");
}

/* A log with a hole: versions before it still read; a range over it fails cleanly. */
static void test_missing_commit(void) {
  char dir[512], copy[512], path[600], cmd[2048];
  snprintf(dir, sizeof dir, "%s/hand", tmp_root);
  snprintf(copy, sizeof copy, "%s/gap", tmp_root);
  snprintf(cmd, sizeof cmd, "cp -r '%s' '%s'", dir, copy);
  CHECK_EQ_INT(system(cmd), 0);
  snprintf(path, sizeof path, "%s/_delta_log/00000000000000000003.json", copy);
  CHECK_EQ_INT(unlink(path), 0);
  static const char *const want[] = {H(10, "y", "insert", 1), H(11, "y", "insert", 1)};
  check_changes(copy, 1, 1, false, want, 2);
  delta_cdf *c = NULL;
  tarn_error err = {0};
  CHECK_EQ_INT(delta_cdf_load(copy, 0, 4, &c, &err), TARN_ECORRUPT);
  CHECK(c == NULL && strstr(err.message, "missing version 3") != NULL);
}

static void test_reserved_names(void) {
  char dir[512];
  snprintf(dir, sizeof dir, "%s/reserved", tmp_root);
  static const char *const ck[] = {"delta.enableChangeDataFeed"}, *const on[] = {"true"};
  tarn_error err = {0};
  delta_txn *t = NULL;
  int64_t v;
  CHECK_EQ_INT(delta_txn_begin(dir, &t, &err), 0);
  CHECK_EQ_INT(delta_txn_set_protocol(t, 1, 4, NULL, 0, NULL, 0, &err), 0);
  CHECK_EQ_INT(delta_txn_set_metadata(t,
                                      "{\"type\":\"struct\",\"fields\":[{\"name\":\"_change_type\","
                                      "\"type\":\"string\",\"nullable\":true,\"metadata\":{}}]}",
                                      NULL, 0, ck, on, 1, &err),
               0);
  CHECK_EQ_INT(delta_txn_commit(t, 0, &v, &err), 0);
  delta_txn_free(t);
  check_refused(dir, 0, 0, "_change_type");
}

int main(void) {
  snprintf(tmp_root, sizeof tmp_root, "/tmp/tarn-test-cdf-XXXXXX");
  if (mkdtemp(tmp_root) == NULL) return 1;
  RUN(test_kernel_basic);
  RUN(test_kernel_non_partitioned);
  RUN(test_kernel_cdc_and_dvs);
  RUN(test_kernel_simple_ranges);
  RUN(test_kernel_other_operations);
  RUN(test_kernel_column_mapping);
  RUN(test_kernel_enablement);
  RUN(test_hand_rows);
  RUN(test_enablement);
  RUN(test_missing_commit);
  RUN(test_reserved_names);
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp_root);
  return check_finish();
}
