/*
 * Tests of src/sql/keys.c: the exact bytes of small keys (worked out by hand from the layout in
 * keys.h), equality of values SQL calls equal (-0.0 and 0.0, NaNs, NULL and NULL, '1 month' and
 * '30 days'), and that memcmp order of keys is ORDER BY order for every type, direction and
 * NULLS placement. Integer keys (sql_keys_ints) must group exactly as byte keys do in the key
 * hash table of exec_util.h.
 */
#include "sql/keys.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "common/error.h"
#include "sql/exec_util.h"

static sql_mem *mem;
static tarn_arena arena;

static void check_bytes(const sql_keys *k, uint32_t row, const uint8_t *want, size_t len) {
  uint32_t got_len = k->offset[row + 1] - k->offset[row];
  CHECK_EQ_INT(got_len, len);
  if (got_len == len && memcmp(k->bytes + k->offset[row], want, len) != 0) {
    check_failures_++;
    fprintf(stderr, "row %u: key bytes differ:", row);
    for (uint32_t i = 0; i < got_len; i++)
      fprintf(stderr, " %02x", k->bytes[k->offset[row] + i]);
    fprintf(stderr, "\n");
  } else if (got_len == len) {
    check_passes_++;
  }
}

/* memcmp of the keys of rows a and b: <0, 0, >0. */
static int key_cmp(const sql_keys *k, uint32_t a, uint32_t b) {
  uint32_t la = k->offset[a + 1] - k->offset[a], lb = k->offset[b + 1] - k->offset[b];
  int c = memcmp(k->bytes + k->offset[a], k->bytes + k->offset[b], la < lb ? la : lb);
  if (c) return c < 0 ? -1 : 1;
  return la < lb ? -1 : la > lb ? 1 : 0;
}

/* Rows of k must be strictly increasing in memcmp order (the vector lists values in SQL order). */
static void check_increasing(const sql_keys *k, const char *what) {
  for (uint32_t i = 0; i + 1 < k->n; i++) {
    if (key_cmp(k, i, i + 1) < 0) {
      check_passes_++;
    } else {
      check_failures_++;
      fprintf(stderr, "%s: key of row %u does not sort before row %u\n", what, i, i + 1);
    }
  }
}

static sql_keys encode1(sql_vec *v, bool desc, bool nulls_first) {
  sql_keys k;
  sql_key_col dir = {desc, nulls_first};
  sql_vec *cols[] = {v};
  int rc = sql_keys_encode(mem, cols, &dir, 1, v->n, &k, NULL);
  CHECK_EQ_INT(rc, 0);
  return k;
}

static sql_vec ints(sql_type_id id, const int64_t *x, uint32_t n) {
  sql_vec v;
  sql_vec_init(mem, &v, sql_type_get(id), n, NULL);
  memcpy(v.data, x, n * 8);
  return v;
}

static void test_exact_bytes(void) {
  sql_vec v = ints(SQL_INT4, (int64_t[]){1, -1, 0}, 3);
  sql_vec_nulls(mem, &v)[2] = 1;
  sql_keys k = encode1(&v, false, false);
  check_bytes(&k, 0, (const uint8_t[]){0x01, 0x80, 0x00, 0x00, 0x01}, 5);
  check_bytes(&k, 1, (const uint8_t[]){0x01, 0x7f, 0xff, 0xff, 0xff}, 5);
  check_bytes(&k, 2, (const uint8_t[]){0x02}, 1);
  CHECK(!k.has_null[0] && k.has_null[2]);
  /* Descending inverts the value, not the marker; NULLS FIRST takes marker 0x00. */
  k = encode1(&v, true, true);
  check_bytes(&k, 0, (const uint8_t[]){0x01, 0x7f, 0xff, 0xff, 0xfe}, 5);
  check_bytes(&k, 2, (const uint8_t[]){0x00}, 1);

  sql_vec s2 = ints(SQL_INT2, (int64_t[]){-32768}, 1);
  k = encode1(&s2, false, false);
  check_bytes(&k, 0, (const uint8_t[]){0x01, 0x00, 0x00}, 3);
  sql_vec i8 = ints(SQL_INT8, (int64_t[]){256}, 1);
  k = encode1(&i8, false, false);
  check_bytes(&k, 0, (const uint8_t[]){0x01, 0x80, 0, 0, 0, 0, 0, 0x01, 0x00}, 9);

  /* Strings: 0x00 escaped as 00 ff, terminated by 00 00. */
  sql_vec t;
  sql_vec_init(mem, &t, sql_type_get(SQL_TEXT), 2, NULL);
  SQL_VEC_STR(&t)[0] = (sql_str){"a\0b", 3};
  SQL_VEC_STR(&t)[1] = (sql_str){"", 0};
  k = encode1(&t, false, false);
  check_bytes(&k, 0, (const uint8_t[]){0x01, 'a', 0x00, 0xff, 'b', 0x00, 0x00}, 7);
  check_bytes(&k, 1, (const uint8_t[]){0x01, 0x00, 0x00}, 3);
  k = encode1(&t, true, false);
  check_bytes(&k, 1, (const uint8_t[]){0x01, 0xff, 0xff}, 3);

  /* Doubles: 1.0 is 3ff0... with the sign bit set; -1.0 (bf f0...) is inverted. */
  sql_vec d;
  sql_vec_init(mem, &d, sql_type_get(SQL_FLOAT8), 2, NULL);
  SQL_VEC_F64(&d)[0] = 1.0;
  SQL_VEC_F64(&d)[1] = -1.0;
  k = encode1(&d, false, false);
  check_bytes(&k, 0, (const uint8_t[]){0x01, 0xbf, 0xf0, 0, 0, 0, 0, 0, 0}, 9);
  check_bytes(&k, 1, (const uint8_t[]){0x01, 0x40, 0x0f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 9);

  /* Decimal 1 as 16 big-endian bytes with the sign flipped. */
  sql_vec dec;
  sql_vec_init(mem, &dec, sql_type_decimal(&arena, 10, 2), 1, NULL);
  SQL_VEC_I128(&dec)[0] = 1;
  k = encode1(&dec, false, false);
  check_bytes(&k, 0, (const uint8_t[]){0x01, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
              17);

  /* Interval 1 day: 86400000000 us = 0x141dd76000. */
  sql_vec iv;
  sql_vec_init(mem, &iv, sql_type_get(SQL_INTERVAL), 1, NULL);
  SQL_VEC_IV(&iv)[0] = (sql_interval){0, 1, 0};
  k = encode1(&iv, false, false);
  check_bytes(
      &k, 0,
      (const uint8_t[]){0x01, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x14, 0x1d, 0xd7, 0x60, 0x00},
      17);

  /* Lists: 01 element... 00. [7] of int4 -> 01 | 01 01 80 00 00 07 | 00 */
  const sql_type *lt = sql_type_list(&arena, sql_type_get(SQL_INT4));
  sql_vec l;
  sql_vec_init(mem, &l, lt, 2, NULL);
  l.offsets[1] = 1;
  l.offsets[2] = 1;
  sql_vec_init(mem, l.child, lt->elem, 1, NULL);
  SQL_VEC_I64(l.child)[0] = 7;
  k = encode1(&l, false, false);
  check_bytes(&k, 0, (const uint8_t[]){0x01, 0x01, 0x01, 0x80, 0, 0, 7, 0x00}, 8);
  check_bytes(&k, 1, (const uint8_t[]){0x01, 0x00}, 2);

  /* Hashes are xxh3 of the bytes. */
  CHECK(k.hash[0] == sql_keys_hash(k.bytes, k.offset[1]));
  CHECK(k.hash[0] != k.hash[1]);
  CHECK(sql_keys_hash((const uint8_t *)"", 0) == sql_keys_hash((const uint8_t *)"x", 0));
}

static void test_equalities(void) {
  sql_vec d;
  sql_vec_init(mem, &d, sql_type_get(SQL_FLOAT8), 6, NULL);
  double nan2;
  uint64_t bits = UINT64_C(0xfff8000000000123); /* a negative NaN with a payload */
  memcpy(&nan2, &bits, 8);
  double vals[] = {0.0, -0.0, NAN, nan2, INFINITY, 0.0};
  memcpy(d.data, vals, sizeof vals);
  sql_vec_nulls(mem, &d)[5] = 1;
  sql_vec d2; /* a second column, all NULL: NULL equals NULL in keys */
  sql_vec_init(mem, &d2, sql_type_get(SQL_NULL), 6, NULL);
  sql_vec *cols[] = {&d, &d2};
  sql_keys k;
  CHECK_EQ_INT(sql_keys_encode(mem, cols, NULL, 2, 6, &k, NULL), 0);
  CHECK_EQ_INT(key_cmp(&k, 0, 1), 0);
  CHECK(k.hash[0] == k.hash[1]);
  CHECK_EQ_INT(key_cmp(&k, 2, 3), 0);
  CHECK(k.hash[2] == k.hash[3]);
  CHECK_EQ_INT(key_cmp(&k, 4, 2), -1); /* +inf < NaN */
  CHECK_EQ_INT(key_cmp(&k, 2, 5), -1); /* NaN < NULL (NULLS LAST) */
  CHECK(k.has_null[0] && k.has_null[5]);

  /* '1 month' = '30 days' = '720 hours'; '1 day' > '23:59:59.999999'. */
  sql_vec iv;
  sql_vec_init(mem, &iv, sql_type_get(SQL_INTERVAL), 5, NULL);
  sql_interval ivs[] = {{1, 0, 0},
                        {0, 30, 0},
                        {0, 0, INT64_C(720) * 3600 * 1000000},
                        {0, 1, 0},
                        {0, 0, INT64_C(86400000000) - 1}};
  memcpy(iv.data, ivs, sizeof ivs);
  k = encode1(&iv, false, false);
  CHECK_EQ_INT(key_cmp(&k, 0, 1), 0);
  CHECK_EQ_INT(key_cmp(&k, 1, 2), 0);
  CHECK_EQ_INT(key_cmp(&k, 3, 4), 1);
}

static void test_orders(void) {
  /* Integers, every width, both directions, NULL placement. */
  int64_t xs[] = {INT64_MIN, -1000000000000, -2, -1, 0, 1, 255, 256, 1000000000000, INT64_MAX};
  sql_vec v = ints(SQL_INT8, xs, 10);
  sql_keys k = encode1(&v, false, false);
  check_increasing(&k, "int8 asc");
  int64_t rev[10];
  for (int i = 0; i < 10; i++)
    rev[i] = xs[9 - i];
  v = ints(SQL_INT8, rev, 10);
  k = encode1(&v, true, false);
  check_increasing(&k, "int8 desc");
  v = ints(SQL_INT4, (int64_t[]){INT32_MIN, -1, 0, 1, INT32_MAX, 0}, 6);
  sql_vec_nulls(mem, &v)[5] = 1;
  k = encode1(&v, false, false);
  check_increasing(&k, "int4 asc nulls last");
  v = ints(SQL_INT4, (int64_t[]){0, INT32_MAX, 1, 0, -1, INT32_MIN}, 6);
  sql_vec_nulls(mem, &v)[0] = 1;
  k = encode1(&v, true, true);
  check_increasing(&k, "int4 desc nulls first");
  v = ints(SQL_INT4, (int64_t[]){INT32_MAX, 1, -1, 0}, 4);
  sql_vec_nulls(mem, &v)[3] = 1;
  k = encode1(&v, true, false);
  check_increasing(&k, "int4 desc nulls last");
  v = ints(SQL_INT2, (int64_t[]){0, -32768, -1, 0, 32767}, 5);
  sql_vec_nulls(mem, &v)[0] = 1;
  k = encode1(&v, false, true);
  check_increasing(&k, "int2 asc nulls first");
  v = ints(SQL_DATE, (int64_t[]){-719162, -1, 0, 19723, 2932896}, 5);
  k = encode1(&v, false, false);
  check_increasing(&k, "date");

  /* Doubles. */
  sql_vec d;
  double ds[] = {-INFINITY, -1e300, -1.5, -1e-300, 0.0, 1e-300, 1.5, 2.0, 1e300, INFINITY, NAN};
  sql_vec_init(mem, &d, sql_type_get(SQL_FLOAT8), 11, NULL);
  memcpy(d.data, ds, sizeof ds);
  k = encode1(&d, false, false);
  check_increasing(&k, "float8 asc");
  for (int i = 0; i < 11; i++)
    SQL_VEC_F64(&d)[i] = ds[10 - i];
  k = encode1(&d, true, false);
  check_increasing(&k, "float8 desc");

  /* Decimals. */
  sql_vec dec;
  sql_vec_init(mem, &dec, sql_type_decimal(&arena, 38, 0), 6, NULL);
  sql_i128 big = (sql_i128)1 << 120;
  sql_i128 decs[] = {-big, -256, -1, 0, 1, big};
  memcpy(dec.data, decs, sizeof decs);
  k = encode1(&dec, false, false);
  check_increasing(&k, "decimal");

  /* Strings: bytewise, a prefix first, 0x00 inside a string sorting correctly. */
  const char *strs[] = {"", "\0", "\0\0", "\0a", "a", "a\0", "a\0\0", "a\x01", "ab", "b", "\xff"};
  size_t lens[] = {0, 1, 2, 2, 1, 2, 3, 2, 2, 1, 1};
  sql_vec t;
  sql_vec_init(mem, &t, sql_type_get(SQL_TEXT), 11, NULL);
  for (int i = 0; i < 11; i++)
    SQL_VEC_STR(&t)[i] = (sql_str){strs[i], lens[i]};
  k = encode1(&t, false, false);
  check_increasing(&k, "text asc");
  for (int i = 0; i < 11; i++)
    SQL_VEC_STR(&t)[i] = (sql_str){strs[10 - i], lens[10 - i]};
  k = encode1(&t, true, false);
  check_increasing(&k, "text desc");

  /* Booleans, intervals, uuids. */
  sql_vec b;
  sql_vec_init(mem, &b, sql_type_get(SQL_BOOL), 2, NULL);
  SQL_VEC_U8(&b)[1] = 1;
  k = encode1(&b, false, false);
  check_increasing(&k, "bool");
  sql_vec iv;
  sql_vec_init(mem, &iv, sql_type_get(SQL_INTERVAL), 5, NULL);
  sql_interval ivs[] = {{-1, 0, 0}, {0, -1, 0}, {0, 0, -1}, {0, 0, 1}, {0, 29, 86400000001}};
  memcpy(iv.data, ivs, sizeof ivs);
  k = encode1(&iv, false, false);
  check_increasing(&k, "interval");
  sql_vec u;
  sql_vec_init(mem, &u, sql_type_get(SQL_UUID), 2, NULL);
  SQL_VEC_STR(&u)
  [0] = (sql_str){"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f", 16};
  SQL_VEC_STR(&u)
  [1] = (sql_str){"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x10", 16};
  k = encode1(&u, false, false);
  check_increasing(&k, "uuid");
  CHECK_EQ_INT(k.offset[1], 17);
}

static void test_multi_and_nested(void) {
  /* (1, 'b') < (1, 'ba') < (1, NULL) < (2, 'a'): column boundaries never leak. */
  sql_vec a = ints(SQL_INT4, (int64_t[]){1, 1, 1, 2}, 4);
  sql_vec s;
  sql_vec_init(mem, &s, sql_type_get(SQL_TEXT), 4, NULL);
  SQL_VEC_STR(&s)[0] = (sql_str){"b", 1};
  SQL_VEC_STR(&s)[1] = (sql_str){"ba", 2};
  SQL_VEC_STR(&s)[3] = (sql_str){"a", 1};
  sql_vec_nulls(mem, &s)[2] = 1;
  sql_vec *cols[] = {&a, &s};
  sql_keys k;
  CHECK_EQ_INT(sql_keys_encode(mem, cols, NULL, 2, 4, &k, NULL), 0);
  check_increasing(&k, "int4, text");
  CHECK(!k.has_null[1] && k.has_null[2]);
  /* Mixed directions: a ASC, s DESC NULLS FIRST: (1,NULL) < (1,'ba') < (1,'b') < (2,'a'). */
  sql_key_col dirs[] = {{false, false}, {true, true}};
  CHECK_EQ_INT(sql_keys_encode(mem, cols, dirs, 2, 4, &k, NULL), 0);
  CHECK_EQ_INT(key_cmp(&k, 2, 1), -1);
  CHECK_EQ_INT(key_cmp(&k, 1, 0), -1);
  CHECK_EQ_INT(key_cmp(&k, 0, 3), -1);

  /* Lists of int4, in PostgreSQL's array order:
   * [] < [1] < [1, 2] < [1, NULL] < [2] < NULL list */
  const sql_type *lt = sql_type_list(&arena, sql_type_get(SQL_INT4));
  sql_vec l;
  sql_vec_init(mem, &l, lt, 6, NULL);
  int64_t off[] = {0, 0, 1, 3, 5, 6, 6};
  memcpy(l.offsets, off, sizeof off);
  sql_vec_init(mem, l.child, lt->elem, 6, NULL);
  int64_t el[] = {1, 1, 2, 1, 0, 2};
  memcpy(l.child->data, el, sizeof el);
  sql_vec_nulls(mem, l.child)[4] = 1;
  sql_vec_nulls(mem, &l)[5] = 1;
  k = encode1(&l, false, false);
  check_increasing(&k, "list asc");
  /* Descending reverses the whole order except the NULL placement. */
  k = encode1(&l, true, false);
  for (uint32_t i = 0; i + 2 < 6; i++)
    CHECK_EQ_INT(key_cmp(&k, i, i + 1), 1);
  CHECK_EQ_INT(key_cmp(&k, 0, 5), -1);

  /* Structs: field by field. (1, 'x') < (1, NULL) < (2, 'a') */
  sql_field f[2] = {{"n", sql_type_get(SQL_INT8)}, {"s", sql_type_get(SQL_TEXT)}};
  sql_vec st;
  sql_vec_init(mem, &st, sql_type_struct(&arena, f, 2), 3, NULL);
  memcpy(st.child[0].data, (int64_t[]){1, 1, 2}, 24);
  SQL_VEC_STR(&st.child[1])[0] = (sql_str){"x", 1};
  SQL_VEC_STR(&st.child[1])[2] = (sql_str){"a", 1};
  sql_vec_nulls(mem, &st.child[1])[1] = 1;
  k = encode1(&st, false, false);
  check_increasing(&k, "struct");
  CHECK(!k.has_null[1]); /* only top-level NULLs count */

  /* An empty batch. */
  CHECK_EQ_INT(sql_keys_encode(mem, cols, NULL, 2, 0, &k, NULL), 0);
  CHECK_EQ_INT(k.offset[0], 0);
}

/* Keys of a few thousand random (int, text) rows: equal tuples give equal keys and hashes, and
 * memcmp order matches a comparison written directly. */
static int direct_cmp(int64_t a1, const char *s1, int64_t a2, const char *s2) {
  if (a1 != a2) return a1 < a2 ? -1 : 1;
  int c = strcmp(s1, s2);
  return c < 0 ? -1 : c > 0;
}

static void test_random(void) {
  enum { N = 3000 };
  static char text[N][4];
  sql_vec a, s;
  sql_vec_init(mem, &a, sql_type_get(SQL_INT8), N, NULL);
  sql_vec_init(mem, &s, sql_type_get(SQL_TEXT), N, NULL);
  uint64_t x = 88172645463325252ULL;
  for (int i = 0; i < N; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    SQL_VEC_I64(&a)[i] = (int64_t)(x % 7) - 3;
    int len = (int)((x >> 8) % 4);
    for (int j = 0; j < len; j++)
      text[i][j] = (char)('a' + (x >> (16 + 3 * j)) % 3);
    text[i][len] = 0;
    SQL_VEC_STR(&s)[i] = (sql_str){text[i], (uint64_t)len};
  }
  sql_vec *cols[] = {&a, &s};
  sql_keys k;
  CHECK_EQ_INT(sql_keys_encode(mem, cols, NULL, 2, N, &k, NULL), 0);
  int bad = 0;
  for (int i = 0; i < N; i++) {
    int j = (i * 7919 + 13) % N;
    int want = direct_cmp(SQL_VEC_I64(&a)[i], text[i], SQL_VEC_I64(&a)[j], text[j]);
    if (key_cmp(&k, (uint32_t)i, (uint32_t)j) != want) bad++;
    if (want == 0 && k.hash[i] != k.hash[j]) bad++;
  }
  CHECK_EQ_INT(bad, 0);
}

/* Random integer keys of one to three columns (few distinct values, extremes, NULLs) go into one
 * table of byte keys and one of integer keys, batch by batch: both must number the groups
 * alike, tell new groups alike, flag the same NULL rows and find the same groups on lookup. */
static void test_int_keys(void) {
  enum { N = 2000, BATCHES = 6 };
  static const int64_t extremes[] = {INT64_MIN, INT64_MAX, 0, -1, 1, (int64_t)1 << 32};
  static const sql_type_id tids[] = {SQL_INT8, SQL_INT4, SQL_DATE};
  uint64_t x = 0x9E3779B97F4A7C15ULL;
  for (uint32_t w = 1; w <= 3; w++) {
    const sql_type *types[3];
    for (uint32_t c = 0; c < w; c++)
      types[c] = sql_type_get(tids[c]);
    CHECK(sql_keys_ints_fit(types, w));
    sql_ktab tb, ti;
    sql_ktab_init(&tb);
    sql_ktab_init(&ti);
    CHECK_EQ_INT(sql_ktab_use_ints(&ti, w, NULL), 0);
    int bad = 0;
    for (int b = 0; b < BATCHES; b++) {
      sql_vec v[3];
      sql_vec *cols[3];
      for (uint32_t c = 0; c < w; c++) {
        sql_vec_init(mem, &v[c], types[c], N, NULL);
        uint8_t *nulls = sql_vec_nulls(mem, &v[c]);
        for (int i = 0; i < N; i++) {
          x ^= x << 13, x ^= x >> 7, x ^= x << 17;
          /* Later batches draw from a wider range, so the table keeps growing. */
          int64_t val = (int64_t)(x % (uint64_t)(50 << b)) - 20;
          if (x % 97 == 0) val = extremes[(x >> 8) % 6];
          if (types[c]->id == SQL_INT4) val = (int32_t)val;
          SQL_VEC_I64(&v[c])[i] = val;
          nulls[i] = x % 53 == 0;
        }
        cols[c] = &v[c];
      }
      sql_keys kb, ki;
      CHECK_EQ_INT(sql_keys_encode(mem, cols, NULL, w, N, &kb, NULL), 0);
      CHECK_EQ_INT(sql_keys_ints(mem, cols, w, N, &ki, NULL), 0);
      uint32_t sel[N], m = 0;
      for (uint32_t i = 0; i < N; i++) {
        if (kb.has_null[i] != ki.has_null[i]) bad++;
        if (!kb.has_null[i]) sel[m++] = i;
      }
      /* Odd batches only look up first, so that some keys are absent from the table. */
      uint32_t gb[N], gi[N];
      if (b % 2) {
        sql_ktab_lookup(&tb, &kb, sel, m, gb);
        sql_ktab_lookup(&ti, &ki, sel, m, gi);
        for (uint32_t k = 0; k < m; k++)
          if (gb[sel[k]] != gi[sel[k]]) bad++;
      }
      uint8_t nb[N], ni[N];
      CHECK_EQ_INT(sql_ktab_insert(&tb, &kb, sel, m, gb, nb, NULL), 0);
      CHECK_EQ_INT(sql_ktab_insert(&ti, &ki, sel, m, gi, ni, NULL), 0);
      for (uint32_t k = 0; k < m; k++)
        if (gb[sel[k]] != gi[sel[k]] || nb[sel[k]] != ni[sel[k]]) bad++;
      sql_ktab_lookup(&ti, &ki, NULL, N, gi);
      for (uint32_t k = 0; k < m; k++)
        if (gi[sel[k]] != gb[sel[k]]) bad++;
    }
    CHECK_EQ_INT(tb.n, ti.n);
    CHECK(ti.n > 1000);
    CHECK_EQ_INT(bad, 0);
    /* Keys of the other form are refused by an insert and match nothing on lookup. */
    sql_vec one;
    sql_vec_init(mem, &one, types[0], 1, NULL);
    sql_vec *oc[] = {&one, &one, &one};
    sql_keys kb1;
    uint32_t g1 = 0;
    CHECK_EQ_INT(sql_keys_encode(mem, oc, NULL, w, 1, &kb1, NULL), 0);
    CHECK(sql_ktab_insert(&ti, &kb1, NULL, 1, &g1, NULL, NULL) != 0);
    sql_ktab_lookup(&ti, &kb1, NULL, 1, &g1);
    CHECK_EQ_INT(g1, SQL_NONE);
    sql_ktab_free(&tb);
    sql_ktab_free(&ti);
  }
  /* Only 1 to SQL_KEYS_MAX_INTS integer-like columns qualify. */
  const sql_type *mixed[] = {sql_type_get(SQL_INT8), sql_type_get(SQL_TEXT)};
  CHECK(!sql_keys_ints_fit(mixed, 2));
  CHECK(!sql_keys_ints_fit(mixed, 0));
  const sql_type *many[SQL_KEYS_MAX_INTS + 1];
  for (int c = 0; c <= SQL_KEYS_MAX_INTS; c++)
    many[c] = sql_type_get(SQL_TIMESTAMP);
  CHECK(sql_keys_ints_fit(many, SQL_KEYS_MAX_INTS));
  CHECK(!sql_keys_ints_fit(many, SQL_KEYS_MAX_INTS + 1));
}

/* A sealed table big enough for the membership filter finds exactly the keys it holds: every
 * even number below 2 * N is in, odd ones and numbers far outside are not (checked against the
 * arithmetic, for integer and byte keys alike), and inserting after the seal is refused. */
static void test_sealed_filter(void) {
  enum { N = 200000, B = 2048 };
  for (int form = 0; form < 2; form++) {
    sql_ktab t;
    sql_ktab_init(&t);
    if (form == 0) CHECK_EQ_INT(sql_ktab_use_ints(&t, 1, NULL), 0);
    const sql_type *i8 = sql_type_get(SQL_INT8);
    int bad = 0;
    static uint32_t gids[B];
    for (int phase = 0; phase < 2; phase++) {
      /* phase 0 inserts even keys 0, 2, ...; phase 1 looks up every key of 0 .. 4N + 1000 */
      int64_t total = phase == 0 ? N : 4 * (int64_t)N + 1000;
      if (phase == 1) {
        CHECK_EQ_INT(sql_ktab_seal(&t, NULL), 0);
        CHECK(t.filter != NULL);
      }
      for (int64_t base = 0; base < total; base += B) {
        uint32_t n = (uint32_t)(total - base < B ? total - base : B);
        sql_mem *m = sql_mem_new();
        sql_vec v;
        sql_vec_init(m, &v, i8, n, NULL);
        for (uint32_t i = 0; i < n; i++)
          SQL_VEC_I64(&v)[i] = phase == 0 ? 2 * (base + i) : base + i;
        sql_vec *cols[1] = {&v};
        sql_keys k;
        int rc = form == 0 ? sql_keys_ints(m, cols, 1, n, &k, NULL)
                           : sql_keys_encode(m, cols, NULL, 1, n, &k, NULL);
        CHECK_EQ_INT(rc, 0);
        if (phase == 0) {
          CHECK_EQ_INT(sql_ktab_insert(&t, &k, NULL, n, gids, NULL, NULL), 0);
        } else {
          sql_ktab_lookup(&t, &k, NULL, n, gids);
          for (uint32_t i = 0; i < n; i++) {
            int64_t key = base + i;
            uint32_t want = key % 2 == 0 && key < 2 * (int64_t)N ? (uint32_t)(key / 2) : SQL_NONE;
            if (gids[i] != want) bad++;
          }
          if (base == 0) /* refused once sealed */
            CHECK(sql_ktab_insert(&t, &k, NULL, n, gids, NULL, NULL) != 0);
        }
        sql_mem_release(m);
      }
    }
    CHECK_EQ_INT(bad, 0);
    sql_ktab_free(&t);
  }
}

int main(void) {
  mem = sql_mem_new();
  RUN(test_exact_bytes);
  RUN(test_equalities);
  RUN(test_orders);
  RUN(test_multi_and_nested);
  RUN(test_random);
  RUN(test_int_keys);
  RUN(test_sealed_filter);
  sql_mem_release(mem);
  tarn_arena_free(&arena);
  return check_finish();
}
