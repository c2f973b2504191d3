/*
 * Tests of src/sql/types.c and src/sql/vector.c: type names, the implicit-cast lattice and the
 * Arrow type mapping; regions (reference counts, parents, adopted arrays); vector gather,
 * broadcast and append, nested types included; Arrow import of hand-built arrays (every width,
 * unit and layout the Parquet reader emits, plus malformed ones that must fail cleanly) and
 * export checked through the canonical text printer. Expected values are worked out by hand.
 */
#include "sql/vector.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arrow_build.h"
#include "check.h"
#include "columnar/arrow.h"
#include "columnar/format.h"
#include "common/error.h"
#include "shared_data.h"

/* ---- helpers ------------------------------------------------------------------------------- */

/* Imports a one-column batch; the column's SQL type comes from sql_type_from_arrow. */
static int import1(tarn_arena *ar, struct ArrowSchema *col, struct ArrowArray *a, sql_batch **out,
                   tarn_error *err) {
  struct ArrowSchema *top = sch("+s", "", 1, col);
  struct ArrowArray *t = kids(arr_nc(1, a->length, 0, 0, NULL, NULL, NULL), 1, a);
  const sql_type *ty;
  int rc = sql_type_from_arrow(ar, col, &ty, err);
  if (rc) return rc;
  return sql_batch_from_arrow(top, t, &ty, out, err);
}

/* Prints a batch as JSON lines through the canonical printer. */
static char *batch_jsonl(const sql_batch *b, const char *const *names) {
  struct ArrowSchema s;
  struct ArrowArray a;
  tarn_error err = {0};
  if (col_schema_init(&s, "+s", "", 0, b->n_cols, NULL, 0, &err)) return NULL;
  for (uint32_t c = 0; c < b->n_cols; c++)
    if (sql_type_to_arrow(b->cols[c].type, names[c], s.children[c], &err)) {
      s.release(&s);
      return NULL;
    }
  if (sql_batch_to_arrow(b, &a, &err)) {
    fprintf(stderr, "export: %s\n", err.message);
    s.release(&s);
    return NULL;
  }
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  col_printer *p = NULL;
  int rc = col_printer_create(COL_FORMAT_JSONL, f, &s, &p, &err);
  if (rc == 0) rc = col_printer_write(p, &a, &err);
  if (rc == 0) rc = col_printer_finish(p, &err);
  if (rc) fprintf(stderr, "print: %s\n", err.message);
  col_printer_free(p);
  fclose(f);
  a.release(&a);
  s.release(&s);
  if (rc) {
    free(text);
    return NULL;
  }
  return text;
}

static char *type_name(const sql_type *t) {
  static char buf[256];
  sql_type_name(t, buf, sizeof buf);
  return buf;
}

/* ---- types --------------------------------------------------------------------------------- */

static void test_type_names(void) {
  tarn_arena a = {0};
  CHECK_EQ_STR(type_name(sql_type_get(SQL_INT4)), "integer");
  CHECK_EQ_STR(type_name(sql_type_get(SQL_INT8)), "bigint");
  CHECK_EQ_STR(type_name(sql_type_get(SQL_INT2)), "smallint");
  CHECK_EQ_STR(type_name(sql_type_get(SQL_FLOAT8)), "double precision");
  CHECK_EQ_STR(type_name(sql_type_get(SQL_TIMESTAMPTZ)), "timestamp with time zone");
  CHECK_EQ_STR(type_name(sql_type_decimal(&a, 12, 2)), "numeric(12,2)");
  CHECK_EQ_STR(type_name(sql_type_list(&a, sql_type_get(SQL_INT4))), "integer[]");
  sql_field f[2] = {{"a", sql_type_get(SQL_INT4)}, {"b", sql_type_get(SQL_TEXT)}};
  CHECK_EQ_STR(type_name(sql_type_struct(&a, f, 2)), "struct(a integer, b text)");
  CHECK_EQ_STR(type_name(sql_type_map(&a, sql_type_get(SQL_TEXT), sql_type_get(SQL_INT4))),
               "map(text, integer)");
  char small[8];
  sql_type_name(sql_type_get(SQL_FLOAT8), small, sizeof small);
  CHECK_EQ_STR(small, "double ");
  CHECK(sql_type_decimal(&a, 39, 0) == NULL);
  CHECK(sql_type_decimal(&a, 5, 6) == NULL);
  CHECK(sql_type_decimal(&a, 0, 0) == NULL);
  CHECK(sql_type_get(SQL_LIST) == NULL);
  CHECK(sql_type_get(SQL_BOOL) == sql_type_get(SQL_BOOL));
  CHECK(sql_type_phys(SQL_DATE) == SQL_PHYS_I64);
  CHECK(sql_type_phys(SQL_MAP) == SQL_PHYS_LIST);
  CHECK(sql_type_phys(SQL_UUID) == SQL_PHYS_STR);
  CHECK(sql_type_is_integer(SQL_INT2) && !sql_type_is_integer(SQL_DECIMAL));
  CHECK(sql_type_is_numeric(SQL_DECIMAL) && !sql_type_is_numeric(SQL_TEXT));
  CHECK(sql_type_is_temporal(SQL_INTERVAL) && !sql_type_is_temporal(SQL_INT8));
  tarn_arena_free(&a);
}

static void test_type_lattice(void) {
  tarn_arena a = {0};
  const sql_type *i2 = sql_type_get(SQL_INT2), *i4 = sql_type_get(SQL_INT4),
                 *i8 = sql_type_get(SQL_INT8), *f4 = sql_type_get(SQL_FLOAT4),
                 *f8 = sql_type_get(SQL_FLOAT8), *tx = sql_type_get(SQL_TEXT),
                 *nul = sql_type_get(SQL_NULL), *d = sql_type_get(SQL_DATE),
                 *ts = sql_type_get(SQL_TIMESTAMP), *tz = sql_type_get(SQL_TIMESTAMPTZ);
  CHECK(sql_type_common(&a, i2, i8) == i8);
  CHECK(sql_type_common(&a, i4, f4) == f4);
  CHECK(sql_type_common(&a, f4, f8) == f8);
  CHECK(sql_type_common(&a, nul, tx) == tx);
  CHECK(sql_type_common(&a, i4, nul) == i4);
  CHECK(sql_type_common(&a, i4, tx) == NULL);
  CHECK(sql_type_common(&a, d, ts) == ts);
  CHECK(sql_type_common(&a, tz, d) == tz);
  CHECK(sql_type_common(&a, d, i4) == NULL);
  /* numeric(12,2) with integer: 10 integer digits vs 10, scale 2 -> numeric(12,2). */
  const sql_type *n12 = sql_type_decimal(&a, 12, 2), *n5 = sql_type_decimal(&a, 5, 4);
  CHECK(sql_type_common(&a, n12, i4) == n12);
  CHECK_EQ_STR(type_name(sql_type_common(&a, n12, i8)), "numeric(21,2)");
  CHECK_EQ_STR(type_name(sql_type_common(&a, n12, n5)), "numeric(14,4)");
  CHECK_EQ_STR(type_name(sql_type_common(&a, sql_type_decimal(&a, 38, 10), i8)), "numeric(38,10)");
  CHECK(sql_type_common(&a, n12, f8) == f8);
  const sql_type *li4 = sql_type_list(&a, i4), *li8 = sql_type_list(&a, i8);
  CHECK(sql_type_equal(sql_type_common(&a, li4, li8), li8));
  CHECK(sql_type_common(&a, li4, tx) == NULL);
  CHECK(sql_type_equal(li8, sql_type_list(&a, i8)));
  CHECK(!sql_type_equal(li8, li4));
  CHECK(!sql_type_equal(n12, n5));

  CHECK(sql_type_implicit(i4, i8));
  CHECK(!sql_type_implicit(i8, i4));
  CHECK(sql_type_implicit(i8, n12));
  CHECK(sql_type_implicit(n12, f4));
  CHECK(!sql_type_implicit(f8, n12));
  CHECK(sql_type_implicit(nul, li4));
  CHECK(sql_type_implicit(d, tz));
  CHECK(sql_type_implicit(ts, tz));
  CHECK(!sql_type_implicit(tz, ts));
  CHECK(!sql_type_implicit(tx, i4));
  CHECK(sql_type_implicit(li4, li8));
  CHECK(!sql_type_implicit(li8, li4));
  tarn_arena_free(&a);
}

static void check_from_arrow(tarn_arena *a, struct ArrowSchema *s, const char *expect) {
  const sql_type *t = NULL;
  tarn_error err = {0};
  int rc = sql_type_from_arrow(a, s, &t, &err);
  CHECK_EQ_INT(rc, 0);
  if (rc == 0) CHECK_EQ_STR(type_name(t), expect);
}

static void test_type_arrow(void) {
  tarn_arena a = {0};
  static const char *const pairs[][2] = {
      {"b", "boolean"},
      {"c", "smallint"},
      {"C", "smallint"},
      {"s", "smallint"},
      {"S", "integer"},
      {"i", "integer"},
      {"I", "bigint"},
      {"l", "bigint"},
      {"L", "numeric(20,0)"},
      {"e", "real"},
      {"f", "real"},
      {"g", "double precision"},
      {"u", "text"},
      {"U", "text"},
      {"vu", "text"},
      {"z", "bytea"},
      {"w:16", "bytea"},
      {"d:12,2", "numeric(12,2)"},
      {"d:9,3,32", "numeric(9,3)"},
      {"tdD", "date"},
      {"tdm", "date"},
      {"ttm", "time without time zone"},
      {"ttn", "time without time zone"},
      {"tsn:", "timestamp without time zone"},
      {"tsm:UTC", "timestamp with time zone"},
      {"tsu:+01:00", "timestamp with time zone"},
      {"tin", "interval"},
      {"n", "unknown"},
  };
  for (size_t k = 0; k < sizeof pairs / sizeof pairs[0]; k++)
    check_from_arrow(&a, sch(pairs[k][0], "x", 0), pairs[k][1]);
  /* UUID via the extension metadata the Parquet reader attaches. */
  struct ArrowSchema *u = sch("w:16", "id", 0);
  char *meta;
  size_t meta_len;
  col_metadata_single("ARROW:extension:name", "arrow.uuid", &meta, &meta_len, NULL);
  u->metadata = meta;
  check_from_arrow(&a, u, "uuid");
  check_from_arrow(&a, sch("+l", "x", 1, sch("i", "element", 0)), "integer[]");
  check_from_arrow(&a, sch("+s", "x", 2, sch("i", "a", 0), sch("+L", "b", 1, sch("u", "", 0))),
                   "struct(a integer, b text[])");
  check_from_arrow(
      &a, sch("+m", "x", 1, sch("+s", "entries", 2, sch("u", "key", 0), sch("l", "value", 0))),
      "map(text, bigint)");
  struct ArrowSchema *dict = sch("i", "x", 0);
  dict->dictionary = sch("u", "", 0);
  check_from_arrow(&a, dict, "text");

  tarn_error err = {0};
  const sql_type *t;
  CHECK_EQ_INT(sql_type_from_arrow(&a, sch("d:40,2", "big", 0), &t, &err), TARN_EUNSUPPORTED);
  CHECK(strstr(err.message, "big") != NULL);
  tarn_err_clear(&err);
  CHECK_EQ_INT(sql_type_from_arrow(&a, sch("+ud:1,2", "x", 0), &t, &err), TARN_EUNSUPPORTED);
  tarn_err_clear(&err);
  CHECK_EQ_INT(sql_type_from_arrow(&a, sch("+l", "x", 0), &t, &err), TARN_EINVAL);

  /* Export: the formats the printer and writer understand. */
  struct {
    const sql_type *t;
    const char *fmt;
  } out[] = {
      {sql_type_get(SQL_INT2), "s"},         {sql_type_get(SQL_INT4), "i"},
      {sql_type_get(SQL_INT8), "l"},         {sql_type_get(SQL_FLOAT4), "f"},
      {sql_type_get(SQL_FLOAT8), "g"},       {sql_type_decimal(&a, 10, 3), "d:10,3"},
      {sql_type_get(SQL_TEXT), "u"},         {sql_type_get(SQL_BYTEA), "z"},
      {sql_type_get(SQL_DATE), "tdD"},       {sql_type_get(SQL_TIME), "ttu"},
      {sql_type_get(SQL_TIMESTAMP), "tsu:"}, {sql_type_get(SQL_TIMESTAMPTZ), "tsu:UTC"},
      {sql_type_get(SQL_INTERVAL), "tin"},   {sql_type_get(SQL_BOOL), "b"},
  };
  for (size_t k = 0; k < sizeof out / sizeof out[0]; k++) {
    struct ArrowSchema s;
    CHECK_EQ_INT(sql_type_to_arrow(out[k].t, "c", &s, &err), 0);
    CHECK_EQ_STR(s.format, out[k].fmt);
    CHECK_EQ_STR(s.name, "c");
    s.release(&s);
  }
  struct ArrowSchema s;
  CHECK_EQ_INT(sql_type_to_arrow(sql_type_get(SQL_UUID), "u", &s, &err), 0);
  CHECK_EQ_STR(s.format, "w:16");
  size_t vlen = 0;
  const char *v = col_metadata_find(s.metadata, "ARROW:extension:name", &vlen);
  CHECK(v != NULL && vlen == 10 && memcmp(v, "arrow.uuid", 10) == 0);
  s.release(&s);
  const sql_type *m =
      sql_type_map(&a, sql_type_get(SQL_TEXT), sql_type_list(&a, sql_type_get(SQL_INT4)));
  CHECK_EQ_INT(sql_type_to_arrow(m, "m", &s, &err), 0);
  CHECK_EQ_STR(s.format, "+m");
  CHECK_EQ_STR(s.children[0]->format, "+s");
  CHECK_EQ_STR(s.children[0]->children[0]->name, "key");
  CHECK_EQ_INT(s.children[0]->children[0]->flags & ARROW_FLAG_NULLABLE, 0);
  CHECK_EQ_STR(s.children[0]->children[1]->format, "+l");
  CHECK_EQ_STR(s.children[0]->children[1]->children[0]->format, "i");
  /* ... and back. */
  const sql_type *back;
  CHECK_EQ_INT(sql_type_from_arrow(&a, &s, &back, &err), 0);
  CHECK(sql_type_equal(back, m));
  s.release(&s);
  free(meta);
  reset();
  tarn_arena_free(&a);
}

/* ---- regions ------------------------------------------------------------------------------- */

static void test_mem(void) {
  sql_mem *m = sql_mem_new();
  CHECK(m != NULL);
  CHECK_EQ_INT(sql_mem_bytes(m), 0);
  uint8_t *p = sql_mem_alloc(m, 3, 1);
  uint64_t *q = sql_mem_alloc(m, 5, 8);
  CHECK(((uintptr_t)p & 15) == 0 && ((uintptr_t)q & 15) == 0);
  CHECK(p[0] == 0 && p[2] == 0 && q[4] == 0);
  CHECK(sql_mem_bytes(m) > 0);
  CHECK(sql_mem_alloc(m, SIZE_MAX / 2, 4) == NULL);
  /* A large allocation gets its own block and is zeroed. */
  uint8_t *big = sql_mem_alloc(m, 3u << 20, 1);
  CHECK(big != NULL && big[0] == 0 && big[(3u << 20) - 1] == 0);
  CHECK(sql_mem_bytes(m) >= (3u << 20));
  sql_str s = sql_mem_str(m, "hello", 5);
  CHECK(s.len == 5 && memcmp(s.ptr, "hello", 5) == 0);
  sql_str e = sql_mem_str(m, NULL, 0);
  CHECK(e.len == 0 && e.ptr != NULL);

  /* Parents live until the last child region dies; adopted arrays are released with it. */
  sql_mem *child = sql_mem_new();
  CHECK_EQ_INT(sql_mem_add_parent(child, m), 0);
  CHECK_EQ_INT(sql_mem_add_parent(child, m), 0); /* twice: one reference */
  struct ArrowArray a = {.release = release_array};
  arrow_build_releases = 0;
  CHECK_EQ_INT(sql_mem_adopt_arrow(m, &a), 0);
  CHECK(a.release == NULL); /* moved */
  sql_mem_release(m);
  CHECK_EQ_INT(arrow_build_releases, 0);
  CHECK_EQ_STR(s.ptr[0] == 'h' ? "alive" : "dead", "alive");
  sql_mem_retain(child);
  sql_mem_release(child);
  CHECK_EQ_INT(arrow_build_releases, 0);
  sql_mem_release(child);
  CHECK_EQ_INT(arrow_build_releases, 1);
  sql_mem_release(NULL);

  /* A long chain of parents frees without recursion. */
  sql_mem *prev = sql_mem_new();
  for (int k = 0; k < 100000; k++) {
    sql_mem *n = sql_mem_new();
    sql_mem_add_parent(n, prev);
    sql_mem_release(prev);
    prev = n;
  }
  sql_mem_release(prev);
  CHECK(1);
}

/* ---- vectors ------------------------------------------------------------------------------- */

static void fill_i64(sql_vec *v, const int64_t *x) { memcpy(v->data, x, v->n * 8); }

static void test_vec_basic(void) {
  sql_mem *m = sql_mem_new();
  tarn_error err = {0};
  tarn_arena a = {0};
  sql_vec v;
  CHECK_EQ_INT(sql_vec_init(m, &v, sql_type_get(SQL_INT8), 5, &err), 0);
  CHECK(v.nulls == NULL && v.n == 5 && SQL_VEC_I64(&v)[4] == 0);
  fill_i64(&v, (int64_t[]){10, 20, 30, 40, 50});
  uint8_t *nl = sql_vec_nulls(m, &v);
  CHECK(nl != NULL && nl[0] == 0 && sql_vec_nulls(m, &v) == nl);
  nl[3] = 1;
  uint32_t sel[] = {4, 3, 0, 0};
  sql_vec g;
  CHECK_EQ_INT(sql_vec_gather(m, &v, sel, 4, &g, &err), 0);
  CHECK_EQ_INT(g.n, 4);
  CHECK_EQ_INT(SQL_VEC_I64(&g)[0], 50);
  CHECK(SQL_VEC_IS_NULL(&g, 1) && !SQL_VEC_IS_NULL(&g, 0));
  CHECK_EQ_INT(SQL_VEC_I64(&g)[3], 10);

  /* Values and broadcast. */
  sql_value val;
  sql_vec_get(&v, 1, &val);
  CHECK(!val.is_null && val.u.i64 == 20 && val.type == v.type);
  sql_vec_get(&v, 3, &val);
  CHECK(val.is_null);
  sql_value tv = {.type = sql_type_get(SQL_TEXT), .u.str = {"abc", 3}};
  sql_vec one, many;
  CHECK_EQ_INT(sql_vec_from_value(m, &tv, &one, &err), 0);
  CHECK(one.n == 1 && SQL_VEC_STR(&one)[0].ptr == tv.u.str.ptr);
  CHECK_EQ_INT(sql_vec_broadcast(m, &one, 3, &many, &err), 0);
  CHECK(many.n == 3 && SQL_VEC_STR(&many)[2].len == 3 && many.nulls == NULL);
  sql_value nv = {.type = sql_type_get(SQL_FLOAT8), .is_null = true};
  CHECK_EQ_INT(sql_vec_from_value(m, &nv, &one, &err), 0);
  CHECK_EQ_INT(sql_vec_broadcast(m, &one, 4, &many, &err), 0);
  CHECK(SQL_VEC_IS_NULL(&many, 0) && SQL_VEC_IS_NULL(&many, 3));
  sql_value dv = {.type = sql_type_decimal(&a, 20, 2), .u.i128 = (sql_i128)1 << 100};
  CHECK_EQ_INT(sql_vec_from_value(m, &dv, &one, &err), 0);
  CHECK_EQ_INT(sql_vec_broadcast(m, &one, 2, &many, &err), 0);
  CHECK(SQL_VEC_I128(&many)[1] == (sql_i128)1 << 100);
  /* The NULL type: every row is NULL. */
  sql_vec nulls;
  CHECK_EQ_INT(sql_vec_init(m, &nulls, sql_type_get(SQL_NULL), 3, &err), 0);
  CHECK(SQL_VEC_IS_NULL(&nulls, 2));
  sql_vec_get(&nulls, 0, &val);
  CHECK(val.is_null);

  /* Selecting rows of a batch shares the strings and keeps the source region alive. */
  sql_batch *b, *s;
  CHECK_EQ_INT(sql_batch_new(2, 3, &b, &err), 0);
  sql_vec_init(b->mem, &b->cols[0], sql_type_get(SQL_INT4), 3, &err);
  sql_vec_init(b->mem, &b->cols[1], sql_type_get(SQL_TEXT), 3, &err);
  fill_i64(&b->cols[0], (int64_t[]){7, 8, 9});
  SQL_VEC_STR(&b->cols[1])[2] = sql_mem_str(b->mem, "kept", 4);
  uint32_t pick[] = {2};
  CHECK_EQ_INT(sql_batch_select(b, pick, 1, &s, &err), 0);
  sql_batch_free(b);
  CHECK_EQ_INT(s->n_rows, 1);
  CHECK_EQ_INT(SQL_VEC_I64(&s->cols[0])[0], 9);
  CHECK(SQL_VEC_STR(&s->cols[1])[0].len == 4 &&
        memcmp(SQL_VEC_STR(&s->cols[1])[0].ptr, "kept", 4) == 0);
  sql_batch_free(s);
  sql_batch_free(NULL);
  sql_mem_release(m);
  tarn_arena_free(&a);
}

/* A list<text> vector [["a","b"], NULL, [], ["c"]] built by hand. */
static void make_lists(sql_mem *m, const sql_type *lt, sql_vec *v) {
  sql_vec_init(m, v, lt, 4, NULL);
  int64_t off[] = {0, 2, 2, 2, 3};
  memcpy(v->offsets, off, sizeof off);
  sql_vec_init(m, v->child, lt->elem, 3, NULL);
  SQL_VEC_STR(v->child)[0] = (sql_str){"a", 1};
  SQL_VEC_STR(v->child)[1] = (sql_str){"b", 1};
  SQL_VEC_STR(v->child)[2] = (sql_str){"c", 1};
  sql_vec_nulls(m, v)[1] = 1;
}

static void test_vec_nested(void) {
  sql_mem *m = sql_mem_new();
  tarn_error err = {0};
  tarn_arena a = {0};
  const sql_type *lt = sql_type_list(&a, sql_type_get(SQL_TEXT));
  sql_vec v;
  make_lists(m, lt, &v);
  uint32_t sel[] = {3, 1, 0, 3};
  sql_vec g;
  CHECK_EQ_INT(sql_vec_gather(m, &v, sel, 4, &g, &err), 0);
  CHECK_EQ_INT(g.offsets[0], 0);
  CHECK_EQ_INT(g.offsets[1], 1);
  CHECK_EQ_INT(g.offsets[2], 1);
  CHECK_EQ_INT(g.offsets[3], 3);
  CHECK_EQ_INT(g.offsets[4], 4);
  CHECK_EQ_INT(g.child->n, 4);
  CHECK(SQL_VEC_IS_NULL(&g, 1));
  CHECK(SQL_VEC_STR(g.child)[0].ptr[0] == 'c' && SQL_VEC_STR(g.child)[2].ptr[0] == 'b');

  /* A nested value: row 0 of v as a value, then back into a 1-row vector. */
  sql_value val;
  sql_vec_get(&v, 0, &val);
  CHECK(!val.is_null && val.nested == &v && val.nested_row == 0);
  sql_vec_get(&v, 3, &val);
  CHECK_EQ_INT(val.nested_row, 3);
  sql_vec one;
  CHECK_EQ_INT(sql_vec_from_value(m, &val, &one, &err), 0);
  CHECK(one.n == 1 && one.offsets[1] == 1 && SQL_VEC_STR(one.child)[0].ptr[0] == 'c');
  sql_vec bc;
  CHECK_EQ_INT(sql_vec_broadcast(m, &one, 3, &bc, &err), 0);
  CHECK(bc.n == 3 && bc.offsets[3] == 3 && bc.child->n == 3);

  /* Structs gather field by field. */
  sql_field f[2] = {{"k", sql_type_get(SQL_INT4)}, {"l", lt}};
  const sql_type *st = sql_type_struct(&a, f, 2);
  sql_vec s;
  CHECK_EQ_INT(sql_vec_init(m, &s, st, 4, &err), 0);
  fill_i64(&s.child[0], (int64_t[]){1, 2, 3, 4});
  make_lists(m, lt, &s.child[1]);
  uint32_t sel2[] = {3, 0};
  CHECK_EQ_INT(sql_vec_gather(m, &s, sel2, 2, &g, &err), 0);
  CHECK_EQ_INT(SQL_VEC_I64(&g.child[0])[0], 4);
  CHECK_EQ_INT(g.child[1].offsets[1], 1);
  CHECK_EQ_INT(g.child[1].offsets[2], 3);
  sql_mem_release(m);
  tarn_arena_free(&a);
}

static void test_vec_append(void) {
  sql_mem *src_m = sql_mem_new(), *m = sql_mem_new();
  tarn_error err = {0};
  tarn_arena a = {0};
  /* Strings: appended in pieces, bytes copied (the source region dies first). */
  sql_vec src;
  sql_vec_init(src_m, &src, sql_type_get(SQL_TEXT), 3, &err);
  SQL_VEC_STR(&src)[0] = sql_mem_str(src_m, "x", 1);
  SQL_VEC_STR(&src)[1] = sql_mem_str(src_m, "", 0);
  SQL_VEC_STR(&src)[2] = sql_mem_str(src_m, "zz", 2);
  sql_vec_nulls(src_m, &src)[1] = 1;
  sql_vec dst = {0};
  uint32_t cap = 0;
  for (int round = 0; round < 1000; round++)
    CHECK_EQ_INT(sql_vec_append(m, &dst, &cap, &src, (uint32_t)round % 2, 2, &err), 0);
  CHECK_EQ_INT(dst.n, 2000);
  CHECK(cap >= 2000);
  sql_mem_release(src_m);
  /* Even rounds append rows 0,1 (x, NULL); odd rounds rows 1,2 (NULL, zz). */
  CHECK(SQL_VEC_STR(&dst)[0].len == 1 && SQL_VEC_STR(&dst)[0].ptr[0] == 'x');
  CHECK(SQL_VEC_IS_NULL(&dst, 1) && SQL_VEC_IS_NULL(&dst, 2));
  CHECK(SQL_VEC_STR(&dst)[1999].len == 2 && memcmp(SQL_VEC_STR(&dst)[1999].ptr, "zz", 2) == 0);
  CHECK(!SQL_VEC_IS_NULL(&dst, 1999));

  /* Integers without nulls into a vector that gets nulls later. */
  sql_mem *m2 = sql_mem_new();
  sql_vec ints, ints_null, acc = {0};
  uint32_t icap = 0;
  sql_vec_init(m2, &ints, sql_type_get(SQL_INT8), 4, &err);
  fill_i64(&ints, (int64_t[]){1, 2, 3, 4});
  sql_vec_init(m2, &ints_null, sql_type_get(SQL_INT8), 2, &err);
  sql_vec_nulls(m2, &ints_null)[0] = 1;
  SQL_VEC_I64(&ints_null)[1] = 99;
  CHECK_EQ_INT(sql_vec_append(m2, &acc, &icap, &ints, 1, 3, &err), 0);
  CHECK_EQ_INT(sql_vec_append(m2, &acc, &icap, &ints_null, 0, 2, &err), 0);
  CHECK_EQ_INT(sql_vec_append(m2, &acc, &icap, &ints, 0, 1, &err), 0);
  CHECK_EQ_INT(acc.n, 6);
  int64_t want[] = {2, 3, 4, 0, 99, 1};
  for (int k = 0; k < 6; k++)
    if (k != 3) CHECK_EQ_INT(SQL_VEC_I64(&acc)[k], want[k]);
  CHECK(acc.nulls && !acc.nulls[0] && !acc.nulls[2] && acc.nulls[3] && !acc.nulls[4] &&
        !acc.nulls[5]);
  CHECK(sql_vec_append(m2, &acc, &icap, &ints, 3, 2, &err) < 0); /* past the end */
  tarn_err_clear(&err);
  sql_vec bare; /* NULLs of the NULL type append as NULLs */
  sql_vec_init(m2, &bare, sql_type_get(SQL_NULL), 2, &err);
  CHECK_EQ_INT(sql_vec_append(m2, &acc, &icap, &bare, 0, 2, &err), 0);
  CHECK(acc.n == 8 && acc.nulls[6] && acc.nulls[7] && acc.type->id == SQL_INT8);
  sql_mem_release(m2);

  /* Lists of structs of lists: many appends keep every level consistent. */
  const sql_type *lt = sql_type_list(&a, sql_type_get(SQL_TEXT));
  sql_field f[2] = {{"k", sql_type_get(SQL_INT4)}, {"l", lt}};
  const sql_type *st = sql_type_struct(&a, f, 2);
  const sql_type *lst = sql_type_list(&a, st);
  sql_mem *sm = sql_mem_new();
  sql_vec s;
  sql_vec_init(sm, &s, st, 4, &err);
  fill_i64(&s.child[0], (int64_t[]){1, 2, 3, 4});
  make_lists(sm, lt, &s.child[1]);
  /* Outer: [s0, s1], [s2], NULL (with a non-empty range, as Arrow allows), [s3] */
  sql_vec outer;
  sql_vec_init(sm, &outer, lst, 4, &err);
  memcpy(outer.offsets, (int64_t[]){0, 2, 3, 4, 4}, 5 * 8);
  *outer.child = s;
  sql_vec_nulls(sm, &outer)[2] = 1;
  sql_mem *dm = sql_mem_new();
  sql_vec out = {0};
  uint32_t ocap = 0;
  for (int round = 0; round < 300; round++)
    CHECK_EQ_INT(sql_vec_append(dm, &out, &ocap, &outer, (uint32_t)(round % 3), 2, &err), 0);
  sql_mem_release(sm);
  CHECK_EQ_INT(out.n, 600);
  /* Per 3 rounds: rows {0,1}, {1,2}, {2,3} -> list lengths 2,1, 1,0, 0,0 -> 4 structs. */
  CHECK_EQ_INT(out.offsets[600], 400);
  CHECK_EQ_INT(out.child->n, 400);
  CHECK_EQ_INT(out.child->child[0].n, 400);
  /* Element lists: s0 ["a","b"], s1 NULL, s2 [], s3 ["c"] -> per 3 rounds s0,s1,s2,s2 = 2 strings
   */
  CHECK_EQ_INT(out.child->child[1].child->n, 200);
  CHECK_EQ_INT(SQL_VEC_I64(&out.child->child[0])[3], 3);
  CHECK(SQL_VEC_IS_NULL(&out, 3) && SQL_VEC_IS_NULL(&out, 4) && !SQL_VEC_IS_NULL(&out, 5));
  CHECK(SQL_VEC_IS_NULL(&out.child->child[1], 1));
  CHECK(memcmp(SQL_VEC_STR(out.child->child[1].child)[199].ptr, "b", 1) == 0);
  /* Appending to a list vector filled in by hand (no recorded child capacity). */
  sql_mem *hm = sql_mem_new();
  sql_vec hand;
  make_lists(hm, lt, &hand);
  uint32_t hcap = hand.n;
  for (int round = 0; round < 5; round++)
    CHECK_EQ_INT(sql_vec_append(hm, &hand, &hcap, &hand, 0, hand.n, &err), 0);
  CHECK_EQ_INT(hand.n, 128);
  CHECK_EQ_INT(hand.child->n, 96); /* 3 strings per 4 rows */
  CHECK_EQ_INT(hand.offsets[126], 95);
  CHECK(memcmp(SQL_VEC_STR(hand.child)[95].ptr, "c", 1) == 0 && SQL_VEC_IS_NULL(&hand, 125));
  sql_vec wrong;
  sql_vec_init(hm, &wrong, sql_type_get(SQL_INT8), 1, &err);
  CHECK_EQ_INT(sql_vec_append(hm, &hand, &hcap, &wrong, 0, 1, &err), TARN_EINVAL);
  tarn_err_clear(&err);
  sql_mem_release(hm);

  /* Text of the first three rows, through the exporter and printer. */
  sql_batch *b;
  sql_batch_new(1, 3, &b, &err);
  b->cols[0] = out;
  sql_mem_add_parent(b->mem, dm);
  const char *names[] = {"x"};
  char *text = batch_jsonl(b, names);
  CHECK_EQ_STR(text, "{\"x\":[{\"k\":1,\"l\":[\"a\",\"b\"]},{\"k\":2,\"l\":null}]}\n"
                     "{\"x\":[{\"k\":3,\"l\":[]}]}\n"
                     "{\"x\":[{\"k\":3,\"l\":[]}]}\n");
  free(text);
  sql_batch_free(b);
  sql_mem_release(dm);
  sql_mem_release(m);
  tarn_arena_free(&a);
}

/* ---- Arrow import and export --------------------------------------------------------------- */

static void test_import_scalars(void) {
  tarn_arena ar = {0};
  tarn_error err = {0};
  sql_batch *b;
  arrow_build_releases = 0;

  /* int8 with an offset and a NULL: values -3, NULL, 127 after skipping one. */
  static const int8_t i8[] = {5, -3, 0, 127};
  static const uint8_t valid_101[] = {0x0b}; /* bits 0,1,3 valid; bit 2 (row 1 after offset) NULL */
  struct ArrowArray *a = arr_nc(2, 3, 1, 1, valid_101, i8, NULL);
  CHECK_EQ_INT(import1(&ar, sch("c", "x", 0), a, &b, &err), 0);
  CHECK_EQ_INT(arrow_build_releases, 0);
  CHECK_EQ_INT(b->n_rows, 3);
  CHECK(b->cols[0].type->id == SQL_INT2);
  CHECK_EQ_INT(SQL_VEC_I64(&b->cols[0])[0], -3);
  CHECK(SQL_VEC_IS_NULL(&b->cols[0], 1));
  CHECK_EQ_INT(SQL_VEC_I64(&b->cols[0])[2], 127);
  sql_batch_free(b);
  CHECK_EQ_INT(arrow_build_releases,
               1); /* the top-level array was adopted and released with the batch */

  /* Unsigned widths widen: uint16 65535 -> integer; uint32 4294967295 -> bigint. */
  static const uint16_t u16[] = {65535, 1};
  CHECK_EQ_INT(import1(&ar, sch("S", "x", 0), arr_nc(2, 2, 0, 0, NULL, u16, NULL), &b, &err), 0);
  CHECK(b->cols[0].type->id == SQL_INT4 && SQL_VEC_I64(&b->cols[0])[0] == 65535);
  sql_batch_free(b);
  static const uint32_t u32[] = {4294967295u};
  CHECK_EQ_INT(import1(&ar, sch("I", "x", 0), arr_nc(2, 1, 0, 0, NULL, u32, NULL), &b, &err), 0);
  CHECK(SQL_VEC_I64(&b->cols[0])[0] == 4294967295LL);
  sql_batch_free(b);
  /* uint64 max -> numeric(20,0) 18446744073709551615 */
  static const uint64_t u64[] = {UINT64_MAX, 7};
  CHECK_EQ_INT(import1(&ar, sch("L", "x", 0), arr_nc(2, 2, 0, 0, NULL, u64, NULL), &b, &err), 0);
  CHECK(b->cols[0].type->id == SQL_DECIMAL && b->cols[0].type->precision == 20);
  CHECK(SQL_VEC_I128(&b->cols[0])[0] == (sql_i128)UINT64_MAX);
  CHECK(SQL_VEC_I128(&b->cols[0])[1] == 7);
  sql_batch_free(b);

  /* Timestamps: ns floor toward minus infinity; s and ms scale up; UTC vs naive. */
  static const int64_t ns[] = {-1, 1999, -1000, 1500};
  CHECK_EQ_INT(import1(&ar, sch("tsn:", "x", 0), arr_nc(2, 4, 0, 0, NULL, ns, NULL), &b, &err), 0);
  CHECK(b->cols[0].type->id == SQL_TIMESTAMP);
  CHECK_EQ_INT(SQL_VEC_I64(&b->cols[0])[0], -1);
  CHECK_EQ_INT(SQL_VEC_I64(&b->cols[0])[1], 1);
  CHECK_EQ_INT(SQL_VEC_I64(&b->cols[0])[2], -1);
  CHECK_EQ_INT(SQL_VEC_I64(&b->cols[0])[3], 1);
  sql_batch_free(b);
  static const int64_t ms[] = {1700000000123};
  CHECK_EQ_INT(import1(&ar, sch("tsm:UTC", "x", 0), arr_nc(2, 1, 0, 0, NULL, ms, NULL), &b, &err),
               0);
  CHECK(b->cols[0].type->id == SQL_TIMESTAMPTZ);
  CHECK_EQ_INT(SQL_VEC_I64(&b->cols[0])[0], 1700000000123000LL);
  sql_batch_free(b);
  static const int64_t huge_s[] = {INT64_MAX / 10};
  CHECK(import1(&ar, sch("tss:", "x", 0), arr_nc(2, 1, 0, 0, NULL, huge_s, NULL), &b, &err) < 0);
  tarn_err_clear(&err);
  /* time32 ms, date64 (floor), date32 */
  static const int32_t tm[] = {3723004}; /* 01:02:03.004 */
  CHECK_EQ_INT(import1(&ar, sch("ttm", "x", 0), arr_nc(2, 1, 0, 0, NULL, tm, NULL), &b, &err), 0);
  CHECK_EQ_INT(SQL_VEC_I64(&b->cols[0])[0], 3723004000LL);
  sql_batch_free(b);
  static const int64_t d64[] = {-1, 86400000};
  CHECK_EQ_INT(import1(&ar, sch("tdm", "x", 0), arr_nc(2, 2, 0, 0, NULL, d64, NULL), &b, &err), 0);
  CHECK_EQ_INT(SQL_VEC_I64(&b->cols[0])[0], -1);
  CHECK_EQ_INT(SQL_VEC_I64(&b->cols[0])[1], 1);
  sql_batch_free(b);

  /* Booleans from a bitmap with an offset of 3: bits 3..5 of 0b00101000 -> 1,0,1 */
  static const uint8_t bits[] = {0x28};
  CHECK_EQ_INT(import1(&ar, sch("b", "x", 0), arr_nc(2, 3, 3, 0, NULL, bits, NULL), &b, &err), 0);
  CHECK(SQL_VEC_U8(&b->cols[0])[0] == 1 && SQL_VEC_U8(&b->cols[0])[1] == 0 &&
        SQL_VEC_U8(&b->cols[0])[2] == 1);
  sql_batch_free(b);

  /* float16 1.5 (0x3e00) and -2 (0xc000); float32 widen exactly. */
  static const uint16_t h[] = {0x3e00, 0xc000};
  CHECK_EQ_INT(import1(&ar, sch("e", "x", 0), arr_nc(2, 2, 0, 0, NULL, h, NULL), &b, &err), 0);
  CHECK(SQL_VEC_F64(&b->cols[0])[0] == 1.5 && SQL_VEC_F64(&b->cols[0])[1] == -2.0);
  sql_batch_free(b);
  static const float fl[] = {0.1f};
  CHECK_EQ_INT(import1(&ar, sch("f", "x", 0), arr_nc(2, 1, 0, 0, NULL, fl, NULL), &b, &err), 0);
  CHECK(SQL_VEC_F64(&b->cols[0])[0] == (double)0.1f);
  sql_batch_free(b);

  /* Decimals of 32, 64 and 128 bits. */
  static const int32_t d32[] = {-12345};
  CHECK_EQ_INT(import1(&ar, sch("d:9,2,32", "x", 0), arr_nc(2, 1, 0, 0, NULL, d32, NULL), &b, &err),
               0);
  CHECK(SQL_VEC_I128(&b->cols[0])[0] == -12345 && b->cols[0].type->scale == 2);
  sql_batch_free(b);
  static sql_i128 d128[2];
  d128[0] = -((sql_i128)1 << 90);
  d128[1] = 42;
  CHECK_EQ_INT(import1(&ar, sch("d:38,4", "x", 0), arr_nc(2, 1, 1, 0, NULL, d128, NULL), &b, &err),
               0);
  CHECK(SQL_VEC_I128(&b->cols[0])[0] == 42);
  sql_batch_free(b);

  /* Intervals: month-day-nano, truncating nanoseconds; day-time; months. */
  static struct {
    int32_t mo, d;
    int64_t ns;
  } mdn[] = {{1, 2, 3000999}, {-1, 0, -1500}};
  CHECK_EQ_INT(import1(&ar, sch("tin", "x", 0), arr_nc(2, 2, 0, 0, NULL, mdn, NULL), &b, &err), 0);
  sql_interval iv = SQL_VEC_IV(&b->cols[0])[0];
  CHECK(iv.months == 1 && iv.days == 2 && iv.micros == 3000);
  CHECK(SQL_VEC_IV(&b->cols[0])[1].micros == -1);
  sql_batch_free(b);
  static const int32_t dt[] = {3, 1500};
  CHECK_EQ_INT(import1(&ar, sch("tiD", "x", 0), arr_nc(2, 1, 0, 0, NULL, dt, NULL), &b, &err), 0);
  iv = SQL_VEC_IV(&b->cols[0])[0];
  CHECK(iv.months == 0 && iv.days == 3 && iv.micros == 1500000);
  sql_batch_free(b);

  /* The null type. */
  CHECK_EQ_INT(import1(&ar, sch("n", "x", 0), arr_nc(0, 2, 0, 2, NULL, NULL, NULL), &b, &err), 0);
  CHECK(SQL_VEC_IS_NULL(&b->cols[0], 1));
  sql_batch_free(b);
  reset();
  tarn_arena_free(&ar);
}

static void test_import_strings(void) {
  tarn_arena ar = {0};
  tarn_error err = {0};
  sql_batch *b;
  /* utf8 with an offset: rows 1..2 of ["ab", "", "cde"] */
  static const int32_t off[] = {0, 2, 2, 5};
  static const char data[] = "abcde";
  CHECK_EQ_INT(import1(&ar, sch("u", "x", 0), arr_nc(3, 2, 1, 0, NULL, off, data), &b, &err), 0);
  sql_str *s = SQL_VEC_STR(&b->cols[0]);
  CHECK(s[0].len == 0 && s[1].len == 3 && s[1].ptr == data + 2); /* a view, not a copy */
  sql_batch_free(b);
  static const int64_t loff[] = {0, 1, 3};
  CHECK_EQ_INT(import1(&ar, sch("Z", "x", 0), arr_nc(3, 2, 0, 0, NULL, loff, data), &b, &err), 0);
  CHECK(b->cols[0].type->id == SQL_BYTEA && SQL_VEC_STR(&b->cols[0])[1].ptr == data + 1);
  sql_batch_free(b);
  /* Decreasing or negative offsets fail cleanly. */
  static const int32_t bad[] = {0, 3, 1};
  CHECK_EQ_INT(import1(&ar, sch("u", "x", 0), arr_nc(3, 2, 0, 0, NULL, bad, data), &b, &err),
               TARN_ECORRUPT);
  CHECK(strstr(err.message, "column x") != NULL);
  tarn_err_clear(&err);
  static const int32_t neg[] = {-4, 0};
  CHECK_EQ_INT(import1(&ar, sch("u", "x", 0), arr_nc(3, 1, 0, 0, NULL, neg, data), &b, &err),
               TARN_ECORRUPT);
  tarn_err_clear(&err);
  /* Missing data buffer with a nonempty string. */
  CHECK_EQ_INT(import1(&ar, sch("u", "x", 0), arr_nc(3, 2, 0, 0, NULL, off, NULL), &b, &err),
               TARN_ECORRUPT);
  tarn_err_clear(&err);
  /* Length past the parent batch. */
  struct ArrowArray *shortarr = arr_nc(3, 1, 0, 0, NULL, off, data);
  struct ArrowSchema *top = sch("+s", "", 1, sch("u", "x", 0));
  struct ArrowArray *t = kids(arr_nc(1, 3, 0, 0, NULL, NULL, NULL), 1, shortarr);
  const sql_type *ty = sql_type_get(SQL_TEXT);
  CHECK_EQ_INT(sql_batch_from_arrow(top, t, &ty, &b, &err), TARN_ECORRUPT);
  CHECK(t->release == NULL); /* moved in and released even on error */
  tarn_err_clear(&err);
  /* A type that does not fit. */
  const sql_type *i8 = sql_type_get(SQL_INT8);
  t = kids(arr_nc(1, 1, 0, 0, NULL, NULL, NULL), 1, arr_nc(3, 1, 0, 0, NULL, off, data));
  CHECK_EQ_INT(sql_batch_from_arrow(top, t, &i8, &b, &err), TARN_EUNSUPPORTED);
  CHECK(strstr(err.message, "bigint") != NULL);
  tarn_err_clear(&err);

  /* String views: one inline, one in a variadic buffer. */
  static uint8_t views[32];
  int32_t l0 = 5, l1 = 20, idx = 0, o1 = 3;
  memcpy(views, &l0, 4);
  memcpy(views + 4, "hello", 5);
  memcpy(views + 16, &l1, 4);
  memcpy(views + 20, "defg", 4);
  memcpy(views + 24, &idx, 4);
  memcpy(views + 28, &o1, 4);
  static const char var[] = "abcdefghijklmnopqrstuvwxyz";
  static const int64_t sizes[] = {26};
  struct ArrowArray *va = arr_nc(4, 2, 0, 0, NULL, views, var);
  ((const void **)va->buffers)[3] = sizes;
  CHECK_EQ_INT(import1(&ar, sch("vu", "x", 0), va, &b, &err), 0);
  s = SQL_VEC_STR(&b->cols[0]);
  CHECK(s[0].len == 5 && memcmp(s[0].ptr, "hello", 5) == 0);
  CHECK(s[1].len == 20 && s[1].ptr == var + 3);
  sql_batch_free(b);
  int32_t o_bad = 10; /* 10 + 20 > 26 */
  memcpy(views + 28, &o_bad, 4);
  va = arr_nc(4, 2, 0, 0, NULL, views, var);
  ((const void **)va->buffers)[3] = sizes;
  CHECK_EQ_INT(import1(&ar, sch("vu", "x", 0), va, &b, &err), TARN_ECORRUPT);
  tarn_err_clear(&err);

  /* Fixed-size binary as uuid. */
  static const uint8_t uu[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17};
  struct ArrowSchema *us = sch("w:16", "id", 0);
  char *meta;
  size_t meta_len;
  col_metadata_single("ARROW:extension:name", "arrow.uuid", &meta, &meta_len, NULL);
  us->metadata = meta;
  CHECK_EQ_INT(import1(&ar, us, arr_nc(2, 1, 1, 0, NULL, uu, NULL), &b, &err), 0);
  CHECK(b->cols[0].type->id == SQL_UUID &&
        SQL_VEC_STR(&b->cols[0])[0].ptr == (const char *)uu + 16);
  const char *names[] = {"id"};
  char *text = batch_jsonl(b, names);
  CHECK_EQ_STR(text, "{\"id\":\"11000000-0000-0000-0000-000000000000\"}\n");
  free(text);
  sql_batch_free(b);
  free(meta);

  /* Dictionary-encoded strings with a NULL index. */
  static const int32_t doff[] = {0, 3, 6};
  static const char ddata[] = "redblu";
  static const int16_t ix[] = {1, 0, 7, 1};
  static const uint8_t ivalid[] = {0x0b}; /* row 2 NULL */
  struct ArrowSchema *ds = sch("s", "c", 0);
  ds->dictionary = sch("u", "", 0);
  struct ArrowArray *da = arr_nc(2, 4, 0, 1, ivalid, ix, NULL);
  da->dictionary = arr_nc(3, 2, 0, 0, NULL, doff, ddata);
  CHECK_EQ_INT(import1(&ar, ds, da, &b, &err), 0);
  s = SQL_VEC_STR(&b->cols[0]);
  CHECK(s[0].len == 3 && memcmp(s[0].ptr, "blu", 3) == 0 && s[1].ptr == ddata);
  CHECK(SQL_VEC_IS_NULL(&b->cols[0], 2) && !SQL_VEC_IS_NULL(&b->cols[0], 3));
  sql_batch_free(b);
  static const int16_t ix_bad[] = {2};
  da = arr_nc(2, 1, 0, 0, NULL, ix_bad, NULL);
  da->dictionary = arr_nc(3, 2, 0, 0, NULL, doff, ddata);
  CHECK_EQ_INT(import1(&ar, ds, da, &b, &err), TARN_ECORRUPT);
  tarn_err_clear(&err);
  reset();
  tarn_arena_free(&ar);
}

static void test_import_nested(void) {
  tarn_arena ar = {0};
  tarn_error err = {0};
  sql_batch *b;
  /* list<int32> with an offset of 1: rows [[7,8], NULL, []] from [[1], [7,8], NULL, []] */
  static const int32_t loff[] = {0, 1, 3, 3, 3};
  static const int32_t vals[] = {1, 7, 8};
  static const uint8_t lvalid[] = {0x0b}; /* row 2 NULL */
  struct ArrowArray *la = arr_nc(2, 3, 1, 1, lvalid, loff, NULL);
  kids(la, 1, arr_nc(2, 3, 0, 0, NULL, vals, NULL));
  CHECK_EQ_INT(import1(&ar, sch("+l", "x", 1, sch("i", "element", 0)), la, &b, &err), 0);
  sql_vec *v = &b->cols[0];
  CHECK(v->offsets[0] == 0 && v->offsets[1] == 2 && v->offsets[2] == 2 && v->offsets[3] == 2);
  CHECK_EQ_INT(v->child->n, 2);
  CHECK_EQ_INT(SQL_VEC_I64(v->child)[1], 8);
  CHECK(SQL_VEC_IS_NULL(v, 1));
  const char *names[] = {"x"};
  char *text = batch_jsonl(b, names);
  CHECK_EQ_STR(text, "{\"x\":[7,8]}\n{\"x\":null}\n{\"x\":[]}\n");
  free(text);
  sql_batch_free(b);

  /* Offsets past the child fail. */
  static const int32_t loff_bad[] = {0, 9};
  la = arr_nc(2, 1, 0, 0, NULL, loff_bad, NULL);
  kids(la, 1, arr_nc(2, 3, 0, 0, NULL, vals, NULL));
  CHECK_EQ_INT(import1(&ar, sch("+l", "x", 1, sch("i", "element", 0)), la, &b, &err),
               TARN_ECORRUPT);
  tarn_err_clear(&err);

  /* struct<a int64, b utf8> with the struct's offset applying to its children. */
  static const int64_t av[] = {10, 11, 12};
  static const int32_t boff[] = {0, 1, 2, 3};
  static const char bd[] = "pqr";
  static const uint8_t svalid[] = {0x05}; /* rows 0,2 valid; row 1 NULL */
  struct ArrowArray *sa = arr_nc(1, 2, 1, 1, svalid, NULL, NULL);
  kids(sa, 2, arr_nc(2, 3, 0, 0, NULL, av, NULL), arr_nc(3, 3, 0, 0, NULL, boff, bd));
  CHECK_EQ_INT(import1(&ar, sch("+s", "x", 2, sch("l", "a", 0), sch("u", "b", 0)), sa, &b, &err),
               0);
  v = &b->cols[0];
  CHECK(SQL_VEC_IS_NULL(v, 0) && !SQL_VEC_IS_NULL(v, 1));
  CHECK_EQ_INT(SQL_VEC_I64(&v->child[0])[1], 12);
  CHECK(SQL_VEC_STR(&v->child[1])[1].ptr == bd + 2);
  text = batch_jsonl(b, names);
  CHECK_EQ_STR(text, "{\"x\":null}\n{\"x\":{\"a\":12,\"b\":\"r\"}}\n");
  free(text);
  sql_batch_free(b);

  /* map<utf8, int32>: {"k1":1,"k2":NULL}, {} */
  static const int32_t moff[] = {0, 2, 2};
  static const int32_t koff[] = {0, 2, 4};
  static const char kd[] = "k1k2";
  static const int32_t mv[] = {1, 0};
  static const uint8_t vvalid[] = {0x01};
  struct ArrowArray *entries = arr_nc(1, 2, 0, 0, NULL, NULL, NULL);
  kids(entries, 2, arr_nc(3, 2, 0, 0, NULL, koff, kd), arr_nc(2, 2, 0, 1, vvalid, mv, NULL));
  struct ArrowArray *ma = kids(arr_nc(2, 2, 0, 0, NULL, moff, NULL), 1, entries);
  CHECK_EQ_INT(
      import1(&ar,
              sch("+m", "m", 1, sch("+s", "entries", 2, sch("u", "key", 0), sch("i", "value", 0))),
              ma, &b, &err),
      0);
  CHECK(b->cols[0].type->id == SQL_MAP);
  const char *mnames[] = {"m"};
  text = batch_jsonl(b, mnames);
  CHECK_EQ_STR(text, "{\"m\":[{\"key\":\"k1\",\"value\":1},{\"key\":\"k2\",\"value\":null}]}\n"
                     "{\"m\":[]}\n");
  free(text);
  sql_batch_free(b);

  /* Fixed-size list of 2 with an offset. */
  static const int16_t fv[] = {1, 2, 3, 4, 5, 6};
  struct ArrowArray *fa =
      kids(arr_nc(1, 2, 1, 0, NULL, NULL, NULL), 1, arr_nc(2, 6, 0, 0, NULL, fv, NULL));
  CHECK_EQ_INT(import1(&ar, sch("+w:2", "x", 1, sch("s", "", 0)), fa, &b, &err), 0);
  text = batch_jsonl(b, names);
  CHECK_EQ_STR(text, "{\"x\":[3,4]}\n{\"x\":[5,6]}\n");
  free(text);
  sql_batch_free(b);
  reset();
  tarn_arena_free(&ar);
}

static void test_export(void) {
  tarn_arena a = {0};
  tarn_error err = {0};
  sql_batch *b;
  CHECK_EQ_INT(sql_batch_new(9, 2, &b, &err), 0);
  sql_mem *m = b->mem;
  const sql_type *types[] = {
      sql_type_get(SQL_INT2),     sql_type_get(SQL_FLOAT4), sql_type_decimal(&a, 10, 2),
      sql_type_get(SQL_DATE),     sql_type_get(SQL_TIME),   sql_type_get(SQL_TIMESTAMPTZ),
      sql_type_get(SQL_INTERVAL), sql_type_get(SQL_BOOL),   sql_type_get(SQL_BYTEA)};
  for (int c = 0; c < 9; c++)
    sql_vec_init(m, &b->cols[c], types[c], 2, &err);
  fill_i64(&b->cols[0], (int64_t[]){-32768, 7});
  SQL_VEC_F64(&b->cols[1])[0] = 1.5;
  sql_vec_nulls(m, &b->cols[1])[1] = 1;
  SQL_VEC_I128(&b->cols[2])[0] = -1234;
  SQL_VEC_I128(&b->cols[2])[1] = 5;
  fill_i64(&b->cols[3], (int64_t[]){-1, 19723}); /* 1969-12-31, 2024-01-01 */
  fill_i64(&b->cols[4], (int64_t[]){3723000004LL, 0});
  fill_i64(&b->cols[5], (int64_t[]){0, -1});
  SQL_VEC_IV(&b->cols[6])[0] = (sql_interval){14, 3, 4000000};
  SQL_VEC_U8(&b->cols[7])[1] = 1;
  SQL_VEC_STR(&b->cols[8])[0] = (sql_str){"\x01\xff", 2};
  const char *names[] = {"a", "b", "c", "d", "e", "f", "g", "h", "i"};
  char *text = batch_jsonl(b, names);
  CHECK_EQ_STR(text,
               "{\"a\":-32768,\"b\":1.5,\"c\":\"-12.34\",\"d\":\"1969-12-31\",\"e\":\"01:02:03."
               "000004\",\"f\":\"1970-01-01T00:00:00.000000Z\",\"g\":{\"months\":14,\"days\":3,"
               "\"micros\":4000000},\"h\":false,"
               "\"i\":\"Af8=\"}\n"
               "{\"a\":7,\"b\":null,\"c\":\"0.05\",\"d\":\"2024-01-01\",\"e\":\"00:00:00.000000\","
               "\"f\":\"1969-12-31T23:59:59.999999Z\",\"g\":{\"months\":0,\"days\":0,\"micros\":0},"
               "\"h\":true,\"i\":\"\"}\n");
  free(text);
  /* An int2 column holding an out-of-range value is an error, not a silent wrap. */
  SQL_VEC_I64(&b->cols[0])[1] = 40000;
  struct ArrowArray out;
  CHECK_EQ_INT(sql_batch_to_arrow(b, &out, &err), TARN_EINVAL);
  sql_batch_free(b);
  tarn_arena_free(&a);
}

/* A Parquet file scanned (in batches of 7 rows, so that offsets and slices get exercised),
 * imported and exported prints exactly as the reader's own arrays do, when `compare` (the
 * types of the file are ones SQL holds unchanged). */
static void roundtrip_file(const char *rel, bool compare) {
  char path[4096];
  shared_data_path(path, sizeof path, rel);
  tarn_error err = {0};
  tarn_parquet_file *f;
  if (tarn_parquet_open(path, NULL, &f, &err)) {
    fprintf(stderr, "skipping %s: %s\n", rel, err.message);
    return;
  }
  struct ArrowSchema schema;
  CHECK_EQ_INT(tarn_parquet_arrow_schema(f, &schema, &err), 0);
  tarn_arena ar = {0};
  const sql_type **types = tarn_arena_calloc(&ar, (size_t)schema.n_children + 1, sizeof *types);
  const char **names = tarn_arena_calloc(&ar, (size_t)schema.n_children + 1, sizeof *names);
  for (int64_t c = 0; c < schema.n_children; c++) {
    CHECK_EQ_INT(sql_type_from_arrow(&ar, schema.children[c], &types[c], &err), 0);
    names[c] = schema.children[c]->name;
  }
  struct ArrowArrayStream st;
  tarn_scan_options opts = {.batch_rows = 7};
  CHECK_EQ_INT(tarn_parquet_scan(f, &opts, &st, &err), 0);
  char *want = NULL, *got = NULL;
  size_t want_len = 0, got_len = 0;
  FILE *wf = open_memstream(&want, &want_len);
  col_printer *wp;
  CHECK_EQ_INT(col_printer_create(COL_FORMAT_JSONL, wf, &schema, &wp, &err), 0);
  got = calloc(1, 1);
  for (;;) {
    struct ArrowArray a;
    if (st.get_next(&st, &a) != 0 || a.release == NULL) break;
    CHECK_EQ_INT(col_printer_write(wp, &a, &err), 0);
    sql_batch *b;
    int rc = sql_batch_from_arrow(&schema, &a, types, &b, &err);
    CHECK_EQ_INT(rc, 0);
    if (rc) {
      fprintf(stderr, "%s: %s\n", rel, err.message);
      break;
    }
    char *t = batch_jsonl(b, names);
    sql_batch_free(b);
    CHECK(t != NULL);
    if (t == NULL) break;
    size_t tl = strlen(t);
    got = realloc(got, got_len + tl + 1);
    memcpy(got + got_len, t, tl + 1);
    got_len += tl;
    free(t);
  }
  col_printer_finish(wp, &err);
  col_printer_free(wp);
  fclose(wf);
  if (compare && strcmp(want, got) != 0) {
    check_failures_++;
    size_t k = 0;
    while (want[k] && want[k] == got[k])
      k++;
    size_t from = k > 80 ? k - 80 : 0;
    fprintf(stderr, "%s: round trip differs at byte %zu:\n  want ...%.160s\n  got  ...%.160s\n",
            rel, k, want + from, got + from);
  } else {
    check_passes_++;
  }
  free(want);
  free(got);
  st.release(&st);
  schema.release(&schema);
  tarn_parquet_close(f);
  tarn_arena_free(&ar);
}

static void test_parquet_roundtrip(void) {
  static const char *const files[] = {
      "testdata/parquet-testing/data/alltypes_plain.parquet",
      "testdata/parquet-testing/data/nested_lists.snappy.parquet",
      "testdata/parquet-testing/data/nullable.impala.parquet",
      "testdata/parquet-testing/data/byte_array_decimal.parquet",
      "testdata/parquet-testing/data/int32_decimal.parquet",
      "testdata/parquet-testing/data/fixed_length_decimal.parquet",
      "testdata/parquet-testing/data/data_index_bloom_encoding_stats.parquet",
      "testdata/parquet-testing/data/datapage_v2.snappy.parquet",
      "testdata/parquet-testing/data/list_columns.parquet",
      "testdata/parquet-testing/data/dict-page-offset-zero.parquet",
      "testdata/parquet-testing/data/delta_binary_packed.parquet",
      "testdata/parquet-testing/data/rle_boolean_encoding.parquet",
      "testdata/parquet-testing/data/int32_with_null_pages.parquet",
      "testdata/parquet-testing/data/old_list_structure.parquet",
      "testdata/parquet-testing/data/map_no_value.parquet",
      "testdata/parquet-testing/data/incorrect_map_schema.parquet",
      "testdata/parquet-testing/data/binary.parquet",
      "testdata/parquet-testing/data/byte_stream_split.zstd.parquet",
      "testdata/parquet-testing/data/delta_byte_array.parquet",
      "testdata/parquet-testing/data/delta_encoding_optional_column.parquet",
      "testdata/parquet-testing/data/fixed_length_byte_array.parquet",
      "testdata/parquet-testing/data/float16_nonzeros_and_nans.parquet",
      "testdata/parquet-testing/data/int96_from_spark.parquet",
      "testdata/parquet-testing/data/nulls.snappy.parquet",
      "testdata/parquet-testing/data/repeated_primitive_no_list.parquet",
      "testdata/parquet-testing/data/alltypes_tiny_pages.parquet",
      "testdata/parquet-testing/data/nan_in_stats.parquet",
      "testdata/parquet-testing/data/floating_orders_nan_count.parquet",
      "testdata/parquet-testing/data/overflow_i16_page_cnt.parquet",
      "testdata/parquet-testing/data/sort_columns.parquet",
      "testdata/parquet-testing/data/unknown-logical-type.parquet",
      "testdata/parquet-testing/data/binary_truncated_min_max.parquet",
      "testdata/parquet-testing/data/lz4_raw_compressed.parquet",
      "testdata/parquet-testing/data/page_v2_empty_compressed.parquet",
      "testdata/parquet-testing/data/plain-dict-uncompressed-checksum.parquet",
  };
  for (size_t k = 0; k < sizeof files / sizeof files[0]; k++)
    roundtrip_file(files[k], true);
  /* uint64 columns become numeric(20,0), which prints as a string: only the import is checked. */
  roundtrip_file("testdata/parquet-testing/data/nested_structs.rust.parquet", false);
  roundtrip_file("testdata/parquet-testing/data/concatenated_gzip_members.parquet", false);
}

int main(void) {
  RUN(test_type_names);
  RUN(test_type_lattice);
  RUN(test_type_arrow);
  RUN(test_mem);
  RUN(test_vec_basic);
  RUN(test_vec_nested);
  RUN(test_vec_append);
  RUN(test_import_scalars);
  RUN(test_import_strings);
  RUN(test_import_nested);
  RUN(test_export);
  RUN(test_parquet_roundtrip);
  reset();
  return check_finish();
}
