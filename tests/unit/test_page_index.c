/*
 * Statistics, page index and bloom filters as later layers use them to skip data, checked
 * against values from an independent reader: the rows DuckDB read from the same files
 * (../shared/testdata/...expected.jsonl) and facts stated in parquet-testing's README.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "columnar/format.h"
#include "common/arena.h"
#include "parquet/reader.h"
#include "shared_data.h"

static tarn_parquet_file *open_data(const char *name) {
  char rel[512], path[4600];
  snprintf(rel, sizeof rel, "testdata/parquet-testing/data/%s", name);
  shared_data_path(path, sizeof path, rel);
  tarn_parquet_file *f = NULL;
  tarn_error err = {0};
  if (tarn_parquet_open(path, NULL, &f, &err))
    fprintf(stderr, "cannot open %s: %s\n", path, err.message);
  return f;
}

/* Reads integer field `key` of every line of an expected.jsonl file, in order. */
static long *read_expected_ints(const char *name, const char *key, size_t *n) {
  char rel[512], path[4600], pat[128], line[8192];
  snprintf(rel, sizeof rel, "testdata/parquet-testing/data/%s", name);
  shared_data_path(path, sizeof path, rel);
  snprintf(pat, sizeof pat, "\"%s\":", key);
  FILE *fp = fopen(path, "r");
  *n = 0;
  if (!fp) return NULL;
  size_t cap = 1024;
  long *v = malloc(cap * sizeof *v);
  while (fgets(line, sizeof line, fp)) {
    char *p = strstr(line, pat);
    if (!p) continue;
    if (*n == cap) v = realloc(v, (cap *= 2) * sizeof *v);
    v[(*n)++] = strtol(p + strlen(pat), NULL, 10);
  }
  fclose(fp);
  return v;
}

static int leaf_index(tarn_parquet_file *f, const char *path) {
  const pq_schema *s = pq_file_schema(f);
  for (int i = 0; i < s->n_leaves; i++)
    if (strcmp(s->leaves[i]->path, path) == 0) return i;
  return -1;
}

/* alltypes_tiny_pages has many small pages and a page index: every page's [min, max] from the
 * column index must contain the ids DuckDB read in that page's row range (from the offset index),
 * and the pages must tile the row group. */
static void test_page_index_bounds_rows(void) {
  tarn_parquet_file *f = open_data("alltypes_tiny_pages.parquet");
  CHECK(f != NULL);
  if (!f) return;
  size_t n_ids;
  long *ids = read_expected_ints("alltypes_tiny_pages.parquet.expected.jsonl", "id", &n_ids);
  CHECK(ids != NULL && (int64_t)n_ids == tarn_parquet_num_rows(f));
  int col = leaf_index(f, "id");
  CHECK(col >= 0);
  tarn_arena arena = {0};
  tarn_error err = {0};
  int64_t row_base = 0;
  int checked_pages = 0;
  for (int g = 0; g < tarn_parquet_num_row_groups(f) && ids; g++) {
    pq_offset_index oi;
    pq_column_index ci;
    int has_oi = 0, has_ci = 0;
    CHECK_EQ_INT(pq_file_offset_index(f, g, col, &arena, &oi, &has_oi, &err), 0);
    CHECK_EQ_INT(pq_file_column_index(f, g, col, &arena, &ci, &has_ci, &err), 0);
    CHECK(has_oi && has_ci);
    if (!has_oi || !has_ci) break;
    CHECK_EQ_INT(oi.n_pages, ci.n_pages);
    CHECK(oi.n_pages > 1);
    CHECK_EQ_INT(oi.pages[0].first_row_index, 0);
    int64_t rg_rows = pq_file_metadata(f)->row_groups[g].num_rows;
    for (uint32_t p = 0; p < oi.n_pages; p++) {
      int64_t first = oi.pages[p].first_row_index;
      int64_t end = p + 1 < oi.n_pages ? oi.pages[p + 1].first_row_index : rg_rows;
      CHECK(end > first);
      CHECK(!ci.null_pages[p]);
      CHECK_EQ_INT(ci.min_values[p].len, 4);
      int32_t lo, hi;
      memcpy(&lo, ci.min_values[p].data, 4);
      memcpy(&hi, ci.max_values[p].data, 4);
      for (int64_t r = first; r < end && (size_t)(row_base + r) < n_ids; r++) {
        long id = ids[row_base + r];
        if (id < lo || id > hi) {
          CHECK(id >= lo && id <= hi);
          break;
        }
      }
      checked_pages++;
    }
    row_base += rg_rows;
  }
  CHECK(checked_pages > 10);
  free(ids);
  tarn_arena_free(&arena);
  tarn_parquet_close(f);
}

/* data_index_bloom_encoding_stats has a bloom filter on its one string column: every value in
 * the file (as DuckDB read it) must be reported possibly present; strings not in the file must
 * mostly be reported absent (a filter that says "present" to everything fails this). */
static void test_bloom_filter(void) {
  tarn_parquet_file *f = open_data("data_index_bloom_encoding_stats.parquet");
  CHECK(f != NULL);
  if (!f) return;
  char path[4600], line[1024];
  shared_data_path(
      path, sizeof path,
      "testdata/parquet-testing/data/data_index_bloom_encoding_stats.parquet.expected.jsonl");
  FILE *fp = fopen(path, "r");
  CHECK(fp != NULL);
  int present = 0, lines = 0;
  tarn_error err = {0};
  while (fp && fgets(line, sizeof line, fp)) {
    char *a = strstr(line, "\":\"");
    if (!a) continue;
    a += 3;
    char *b = strrchr(a, '"');
    if (!b) continue;
    int result = -1;
    CHECK_EQ_INT(pq_file_bloom_check(f, 0, 0, a, (size_t)(b - a), &result, &err), 0);
    present += result == 1;
    lines++;
  }
  if (fp) fclose(fp);
  CHECK(lines >= 10);
  CHECK_EQ_INT(present, lines);
  int absent = 0;
  for (int i = 0; i < 200; i++) {
    char v[32];
    int n = snprintf(v, sizeof v, "not-in-file-%d", i), result = -1;
    CHECK_EQ_INT(pq_file_bloom_check(f, 0, 0, v, (size_t)n, &result, &err), 0);
    absent += result == 0;
  }
  CHECK(absent > 150);
  tarn_parquet_close(f);
}

/* Row-group statistics of the same file, as parquet-testing documents them and DuckDB read the
 * rows: min "Hello", max "today", no nulls, 14 values. */
static void test_row_group_statistics(void) {
  tarn_parquet_file *f = open_data("data_index_bloom_encoding_stats.parquet");
  CHECK(f != NULL);
  if (!f) return;
  const pq_column_meta *m = pq_file_chunk_meta(f, 0, 0);
  CHECK(m != NULL && m->statistics.present);
  if (m && m->statistics.present) {
    const pq_statistics *st = &m->statistics;
    pq_bytes min = st->min_value.data ? st->min_value : st->min;
    pq_bytes max = st->max_value.data ? st->max_value : st->max;
    CHECK(min.len == 5 && memcmp(min.data, "Hello", 5) == 0);
    CHECK(max.len == 5 && memcmp(max.data, "today", 5) == 0);
    CHECK(st->has_null_count && st->null_count == 0);
    CHECK_EQ_INT(m->num_values, 14);
  }
  tarn_parquet_close(f);
}

/* The public planning API gives the same answers as the internal one it wraps. */
static void test_public_api(void) {
  tarn_parquet_file *f = open_data("alltypes_tiny_pages.parquet");
  CHECK(f != NULL);
  if (!f) return;
  int col = -1;
  for (int i = 0; i < tarn_parquet_num_columns(f); i++)
    if (strcmp(tarn_parquet_column_path(f, i), "id") == 0) col = i;
  CHECK(col >= 0);
  CHECK(tarn_parquet_column_path(f, tarn_parquet_num_columns(f)) == NULL);
  tarn_page_info *pages = NULL;
  size_t n = 0;
  tarn_error err = {0};
  CHECK_EQ_INT(tarn_parquet_page_index(f, 0, col, &pages, &n, &err), 0);
  tarn_arena arena = {0};
  pq_offset_index oi;
  int has = 0;
  CHECK_EQ_INT(pq_file_offset_index(f, 0, col, &arena, &oi, &has, &err), 0);
  CHECK(has && n == oi.n_pages && n > 1);
  int64_t rows = 0;
  for (size_t i = 0; i < n && pages; i++) {
    CHECK(pages[i].has_bounds && pages[i].min_len == 4 && pages[i].max_len == 4);
    CHECK_EQ_INT(pages[i].first_row, rows);
    rows += pages[i].num_rows;
  }
  CHECK_EQ_INT(rows, pq_file_metadata(f)->row_groups[0].num_rows);
  free(pages);
  tarn_arena_free(&arena);
  tarn_column_stats st;
  CHECK_EQ_INT(tarn_parquet_column_stats(f, 0, col, &st, &err), 0);
  CHECK_EQ_INT(tarn_parquet_column_stats(f, 99, col, &st, &err), TARN_EINVAL);
  tarn_parquet_close(f);

  f = open_data("data_index_bloom_encoding_stats.parquet");
  CHECK(f != NULL);
  if (!f) return;
  int maybe = -1;
  CHECK_EQ_INT(tarn_parquet_bloom_check(f, 0, 0, "Hello", 5, &maybe, &err), 0);
  CHECK_EQ_INT(maybe, 1);
  CHECK_EQ_INT(tarn_parquet_column_stats(f, 0, 0, &st, &err), 0);
  CHECK(st.has_min_max && st.min_len == 5 && memcmp(st.min, "Hello", 5) == 0);
  CHECK(st.max_len == 5 && memcmp(st.max, "today", 5) == 0);
  CHECK(st.has_null_count && st.null_count == 0 && st.num_values == 14);
  tarn_parquet_close(f);
}

/* Reads column `name` (int32) of the selected rows through the public scan; returns how many. */
static size_t scan_ids(tarn_parquet_file *f, const tarn_row_range *ranges, size_t n_ranges,
                       int32_t *out, size_t cap, int64_t *pages_read, int64_t *pages_skipped) {
  const char *cols[] = {"id"};
  tarn_scan_options opts = {.columns = cols,
                            .n_columns = 1,
                            .row_ranges = ranges,
                            .n_row_ranges = n_ranges,
                            .batch_rows = 7};
  struct ArrowArrayStream st;
  tarn_error err = {0};
  size_t n = 0;
  CHECK_EQ_INT(tarn_parquet_scan(f, &opts, &st, &err), 0);
  struct ArrowArray b;
  while (st.get_next(&st, &b) == 0 && b.release) {
    const struct ArrowArray *c = b.children[0];
    const int32_t *v = (const int32_t *)c->buffers[1];
    for (int64_t i = 0; i < c->length && n < cap; i++)
      out[n++] = v[c->offset + i];
    b.release(&b);
  }
  CHECK_EQ_INT(tarn_parquet_stream_error(&st), 0);
  tarn_parquet_stream_pages(&st, pages_read, pages_skipped);
  st.release(&st);
  return n;
}

/* A row selection returns exactly the selected rows (as DuckDB read them, in file order), and
 * with the page index most pages are jumped over rather than decoded. */
static void test_row_selection(void) {
  size_t n_ids;
  long *ids = read_expected_ints("alltypes_tiny_pages.parquet.expected.jsonl", "id", &n_ids);
  tarn_parquet_file *f = open_data("alltypes_tiny_pages.parquet");
  CHECK(f != NULL && ids != NULL);
  if (!f || !ids) return;
  const tarn_row_range ranges[] = {{0, 3}, {1000, 10}, {5000, 20}, {7290, 10}};
  int32_t got[64];
  int64_t read = 0, skipped = 0, read_all = 0, skipped_all = 0;
  size_t n = scan_ids(f, ranges, 4, got, 64, &read, &skipped);
  CHECK_EQ_INT(n, 3 + 10 + 20 + 10);
  size_t k = 0;
  for (size_t r = 0; r < 4; r++)
    for (int64_t i = 0; i < ranges[r].count && k < n; i++, k++)
      CHECK_EQ_INT(got[k], ids[ranges[r].first + i]);
  int32_t all[8];
  (void)scan_ids(f, NULL, 0, all, 8, &read_all, &skipped_all);
  CHECK(skipped > 0 && skipped_all == 0);
  CHECK(read * 4 < read_all);
  /* A range past the end selects nothing; a bad range is refused. */
  const tarn_row_range past[] = {{1000000, 5}};
  CHECK_EQ_INT(scan_ids(f, past, 1, got, 64, &read, &skipped), 0);
  const tarn_row_range overlapping[] = {{10, 5}, {12, 5}};
  tarn_scan_options opts = {.row_ranges = overlapping, .n_row_ranges = 2};
  struct ArrowArrayStream st;
  tarn_error err = {0};
  CHECK_EQ_INT(tarn_parquet_scan(f, &opts, &st, &err), TARN_EINVAL);
  tarn_parquet_close(f);
  free(ids);

  /* Without a page index the unselected rows are decoded and dropped; the answer is the same. */
  ids = read_expected_ints("alltypes_plain.parquet.expected.jsonl", "id", &n_ids);
  f = open_data("alltypes_plain.parquet");
  CHECK(f != NULL && ids != NULL && n_ids == 8);
  if (!f || !ids) return;
  const tarn_row_range some[] = {{1, 2}, {6, 2}};
  n = scan_ids(f, some, 2, got, 64, &read, &skipped);
  CHECK_EQ_INT(n, 4);
  CHECK(n == 4 && got[0] == ids[1] && got[1] == ids[2] && got[2] == ids[6] && got[3] == ids[7]);
  CHECK_EQ_INT(skipped, 0);
  tarn_parquet_close(f);
  free(ids);
}

/* Nested columns under a row selection: the selected records of nullable.impala (lists, maps,
 * structs of lists) print exactly as DuckDB's lines for those rows. */
static void test_row_selection_nested(void) {
  tarn_parquet_file *f = open_data("nullable.impala.parquet");
  CHECK(f != NULL);
  if (!f) return;
  char path[4600], line[65536];
  shared_data_path(path, sizeof path,
                   "testdata/parquet-testing/data/nullable.impala.parquet.expected.jsonl");
  FILE *fp = fopen(path, "r");
  CHECK(fp != NULL);
  char *expected[16] = {0};
  int n_expected = 0;
  while (fp && n_expected < 16 && fgets(line, sizeof line, fp))
    expected[n_expected++] = strdup(line);
  if (fp) fclose(fp);
  const tarn_row_range ranges[] = {{1, 2}, {5, 1}};
  tarn_scan_options opts = {.row_ranges = ranges, .n_row_ranges = 2, .batch_rows = 1};
  struct ArrowArrayStream st;
  struct ArrowSchema schema;
  tarn_error err = {0};
  char *text = NULL;
  size_t text_len = 0;
  FILE *mem = open_memstream(&text, &text_len);
  col_printer *pr = NULL;
  CHECK_EQ_INT(tarn_parquet_scan(f, &opts, &st, &err), 0);
  CHECK_EQ_INT(st.get_schema(&st, &schema), 0);
  CHECK_EQ_INT(col_printer_create(COL_FORMAT_JSONL, mem, &schema, &pr, &err), 0);
  struct ArrowArray b;
  while (st.get_next(&st, &b) == 0 && b.release) {
    CHECK_EQ_INT(col_printer_write(pr, &b, &err), 0);
    b.release(&b);
  }
  CHECK_EQ_INT(tarn_parquet_stream_error(&st), 0);
  col_printer_finish(pr, &err);
  col_printer_free(pr);
  fclose(mem);
  char want[3 * 65536] = "";
  if (n_expected >= 6) {
    strcat(want, expected[1]);
    strcat(want, expected[2]);
    strcat(want, expected[5]);
  }
  CHECK_EQ_STR(text, want);
  free(text);
  schema.release(&schema);
  st.release(&st);
  for (int i = 0; i < n_expected; i++)
    free(expected[i]);
  tarn_parquet_close(f);
}

int main(void) {
  RUN(test_page_index_bounds_rows);
  RUN(test_bloom_filter);
  RUN(test_row_group_statistics);
  RUN(test_public_api);
  RUN(test_row_selection);
  RUN(test_row_selection_nested);
  return check_finish();
}
