/*
 * The SQL scan operator against shared parquet-testing files, with expected values from the
 * files' DuckDB-made *.expected.jsonl:
 *  - rows a table format marks deleted (sql_source_file.deleted) are dropped, and only they;
 *  - a pushed-down equality prunes pages through the page index and still returns exactly the
 *    matching rows (EXPLAIN ANALYZE reports the skipped pages).
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "shared_data.h"
#include "sql/engine.h"
#include "sql/exec.h"

#define PLAIN "testdata/parquet-testing/data/alltypes_plain.parquet"
#define TINY "testdata/parquet-testing/data/alltypes_tiny_pages.parquet"

/* The "id" values of an expected.jsonl file, in file order. */
static size_t expected_ids(const char *rel, int64_t *ids, size_t cap) {
  size_t len;
  uint8_t *text = shared_data_read(rel, &len);
  if (text == NULL) return 0;
  size_t n = 0;
  char *save = NULL;
  text[len ? len - 1 : 0] = 0;
  for (char *line = strtok_r((char *)text, "\n", &save); line && n < cap;
       line = strtok_r(NULL, "\n", &save)) {
    const char *p = strstr(line, "\"id\":");
    if (p) ids[n++] = strtoll(p + 5, NULL, 10);
  }
  free(text);
  return n;
}

static void test_deleted_rows(void) {
  int64_t want[16];
  size_t n_want = expected_ids(PLAIN ".expected.jsonl", want, 16);
  CHECK_EQ_INT(n_want, 8);
  if (n_want != 8) return;
  char path[4096];
  shared_data_path(path, sizeof path, PLAIN);
  sql_plan_ctx pc;
  memset(&pc, 0, sizeof pc);
  tarn_error err = {0};
  const char *globs[1] = {path};
  sql_source *src = NULL;
  CHECK_EQ_INT(sql_source_parquet(&pc.arena, globs, 1, &src, &err), 0);
  if (src == NULL) return;
  int id_col = -1;
  for (size_t i = 0; i < src->n_cols; i++)
    if (strcmp(src->col_names[i], "id") == 0) id_col = (int)i;
  CHECK(id_col >= 0);
  static const uint64_t deleted[] = {1, 3, 6};
  src->files[0].deleted = deleted;
  src->files[0].n_deleted = 3;

  sql_plan *scan = sql_plan_new(&pc, SQL_P_SCAN);
  CHECK_EQ_INT(sql_plan_alloc_out(&pc, scan, 1), 0);
  int source_col = id_col;
  scan->source = src;
  scan->source_cols = &source_col;
  scan->out_ids[0] = sql_plan_new_id(&pc);
  scan->out_names[0] = "id";
  scan->out_types[0] = src->col_types[id_col];
  sql_exec_ctx x;
  memset(&x, 0, sizeof x);
  x.err = &err;
  x.n_threads = 1;
  sql_batch *all = NULL;
  CHECK_EQ_INT(sql_exec_collect(&x, scan, &all), 0);
  if (all) {
    CHECK_EQ_INT(all->n_rows, 5);
    static const int keep[] = {0, 2, 4, 5, 7};
    for (uint32_t i = 0; i < all->n_rows && i < 5; i++)
      CHECK_EQ_INT(SQL_VEC_I64(&all->cols[0])[i], want[keep[i]]);
    sql_batch_free(all);
  }
  tarn_arena_free(&pc.arena);
}

typedef struct capture {
  char text[8192];
  size_t len;
  int64_t value;
} capture;

static int capture_batch(void *arg, const struct ArrowArray *batch, tarn_error *err) {
  (void)err;
  capture *c = arg;
  const struct ArrowArray *col = batch->children[0];
  if (col->n_buffers == 3) { /* EXPLAIN text: int32 offsets, then bytes */
    const int32_t *off = col->buffers[1];
    const char *data = col->buffers[2];
    for (int64_t i = 0; i < col->length; i++) {
      size_t n = (size_t)(off[i + 1] - off[i]);
      if (c->len + n + 2 > sizeof c->text) break;
      memcpy(c->text + c->len, data + off[i], n);
      c->len += n;
      c->text[c->len++] = '\n';
      c->text[c->len] = 0;
    }
  } else if (col->length == 1) { /* count(*): one int64 */
    c->value = ((const int64_t *)col->buffers[1])[0];
  }
  return 0;
}

static void test_page_pruning(void) {
  int64_t *ids = malloc(8000 * sizeof *ids);
  size_t n = ids ? expected_ids(TINY ".expected.jsonl", ids, 8000) : 0;
  CHECK(n > 1000);
  int64_t matches = 0;
  for (size_t i = 0; i < n; i++)
    matches += ids[i] == 7;
  free(ids);
  char path[4096], sql[8500];
  shared_data_path(path, sizeof path, TINY);
  sql_engine_options o = {.threads = 1};
  sql_engine *e = NULL;
  tarn_error err = {0};
  CHECK_EQ_INT(sql_engine_open(&o, &e, &err), 0);
  if (e == NULL) return;
  capture c = {0};
  sql_result_sink sink = {.batch = capture_batch, .arg = &c};
  snprintf(sql, sizeof sql, "SELECT count(*) FROM read_parquet('%s') WHERE id = 7", path);
  CHECK_EQ_INT(sql_engine_exec(e, sql, &sink, &err), 0);
  CHECK_EQ_INT(c.value, matches);
  snprintf(sql, sizeof sql, "EXPLAIN ANALYZE SELECT count(*) FROM read_parquet('%s') WHERE id = 7",
           path);
  memset(&c, 0, sizeof c);
  CHECK_EQ_INT(sql_engine_exec(e, sql, &sink, &err), 0);
  const char *pages = strstr(c.text, " pages=");
  long total = -1, skipped = -1;
  if (pages) sscanf(pages, " pages=%ld skipped=%ld", &total, &skipped);
  CHECK(total > 1);
  CHECK(skipped > 0 && skipped < total);
  sql_engine_close(e);
}

int main(void) {
  RUN(test_deleted_rows);
  RUN(test_page_pruning);
  return check_finish();
}
