/*
 * Tests of src/columnar/format.c: Arrow arrays built by hand (arrow_build.h: static buffers,
 * release callbacks that free nothing) printed as JSON lines, CSV and tables, compared with
 * hand-written text (the examples of ../shared/CANONICAL.md and values computed independently).
 */
#include "columnar/format.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arrow_build.h"
#include "check.h"
#include "common/error.h"

static char *captured;

/* Prints batch with a printer for schema; returns the text (valid until the next call). */
static const char *print_batch(col_text_format f, const struct ArrowSchema *schema,
                               const struct ArrowArray *batch) {
  free(captured);
  captured = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&captured, &len);
  tarn_error err = {0};
  col_printer *p = NULL;
  int rc = col_printer_create(f, out, schema, &p, &err);
  if (rc == 0) rc = col_printer_write(p, batch, &err);
  if (rc == 0) rc = col_printer_finish(p, &err);
  col_printer_free(p);
  fclose(out);
  if (rc) fprintf(stderr, "print failed: %s\n", err.message);
  CHECK_EQ_INT(rc, 0);
  return captured;
}

/* One column named "v": rows 0..rows-1 of col (a batch of offset 0). */
static const char *print_col(col_text_format f, struct ArrowSchema *field, struct ArrowArray *col,
                             int64_t rows) {
  struct ArrowSchema *schema = sch("+s", "", 1, field);
  struct ArrowArray *batch = kids(arr(1, rows, 0, NULL, NULL, NULL), 1, col);
  return print_batch(f, schema, batch);
}

static const char *jsonl(struct ArrowSchema *field, struct ArrowArray *col, int64_t rows) {
  return print_col(COL_FORMAT_JSONL, field, col, rows);
}

/* ---- scalars ---- */

static void test_integers(void) {
  static const int64_t i64[] = {INT64_MIN, INT64_MAX, 0, -1};
  CHECK_EQ_STR(jsonl(sch("l", "v", 0), arr(2, 4, 0, NULL, i64, NULL), 4),
               "{\"v\":-9223372036854775808}\n{\"v\":9223372036854775807}\n{\"v\":0}\n"
               "{\"v\":-1}\n");
  static const uint64_t u64[] = {UINT64_MAX};
  CHECK_EQ_STR(jsonl(sch("L", "v", 0), arr(2, 1, 0, NULL, u64, NULL), 1),
               "{\"v\":18446744073709551615}\n");
  static const int8_t i8[] = {-128, 127};
  CHECK_EQ_STR(jsonl(sch("c", "v", 0), arr(2, 2, 0, NULL, i8, NULL), 2),
               "{\"v\":-128}\n{\"v\":127}\n");
  static const uint8_t u8[] = {255};
  CHECK_EQ_STR(jsonl(sch("C", "v", 0), arr(2, 1, 0, NULL, u8, NULL), 1), "{\"v\":255}\n");
  static const int16_t i16[] = {-32768};
  CHECK_EQ_STR(jsonl(sch("s", "v", 0), arr(2, 1, 0, NULL, i16, NULL), 1), "{\"v\":-32768}\n");
  static const uint16_t u16[] = {65535};
  CHECK_EQ_STR(jsonl(sch("S", "v", 0), arr(2, 1, 0, NULL, u16, NULL), 1), "{\"v\":65535}\n");
  static const int32_t i32[] = {INT32_MIN};
  CHECK_EQ_STR(jsonl(sch("i", "v", 0), arr(2, 1, 0, NULL, i32, NULL), 1), "{\"v\":-2147483648}\n");
  static const uint32_t u32[] = {UINT32_MAX};
  CHECK_EQ_STR(jsonl(sch("I", "v", 0), arr(2, 1, 0, NULL, u32, NULL), 1), "{\"v\":4294967295}\n");
  static const uint8_t bools[] = {0x05}; /* true, false, true */
  static const uint8_t bvalid[] = {0x03};
  CHECK_EQ_STR(jsonl(sch("b", "v", 0), arr(2, 3, 0, bvalid, bools, NULL), 3),
               "{\"v\":true}\n{\"v\":false}\n{\"v\":null}\n");
  CHECK_EQ_STR(jsonl(sch("n", "v", 0), arr(0, 2, 0, NULL, NULL, NULL), 2),
               "{\"v\":null}\n{\"v\":null}\n");
  reset();
}

static void test_floats(void) {
  static const float f32[] = {1.1f, 0.5f, -0.0f, 3.0f};
  CHECK_EQ_STR(jsonl(sch("f", "v", 0), arr(2, 4, 0, NULL, f32, NULL), 4),
               "{\"v\":1.100000023841858}\n{\"v\":0.5}\n{\"v\":-0.0}\n{\"v\":3}\n");
  static double f64[7];
  f64[0] = 0.1;
  f64[1] = 1.0 / 3.0;
  f64[2] = 1e300;
  f64[3] = NAN;
  f64[4] = INFINITY;
  f64[5] = -INFINITY;
  f64[6] = -2.5e-10;
  CHECK_EQ_STR(jsonl(sch("g", "v", 0), arr(2, 7, 0, NULL, f64, NULL), 7),
               "{\"v\":0.1}\n{\"v\":0.3333333333333333}\n{\"v\":1e+300}\n{\"v\":\"NaN\"}\n"
               "{\"v\":\"Infinity\"}\n{\"v\":\"-Infinity\"}\n{\"v\":-2.5e-10}\n");
  /* integral doubles print as integers up to 1e15, then in exponent form like %.15g */
  static const double whole[] = {3.0, -123456789012345.0, 1e15, 4503599627370497.0};
  CHECK_EQ_STR(jsonl(sch("g", "v", 0), arr(2, 4, 0, NULL, whole, NULL), 4),
               "{\"v\":3}\n{\"v\":-123456789012345}\n{\"v\":1e+15}\n"
               "{\"v\":4503599627370497}\n");
  /* float16: 1.0, -2.0, 0.333251953125, 65504, +inf, NaN */
  static const uint16_t f16[] = {0x3C00, 0xC000, 0x3555, 0x7BFF, 0x7C00, 0x7E00};
  CHECK_EQ_STR(jsonl(sch("e", "v", 0), arr(2, 6, 0, NULL, f16, NULL), 6),
               "{\"v\":1}\n{\"v\":-2}\n{\"v\":0.333251953125}\n{\"v\":65504}\n"
               "{\"v\":\"Infinity\"}\n{\"v\":\"NaN\"}\n");
  /* NaN in CSV is bare text. */
  CHECK_EQ_STR(print_col(COL_FORMAT_CSV, sch("g", "v", 0), arr(2, 4, 3, NULL, f64, NULL), 3),
               "v\nNaN\nInfinity\n-Infinity\n");
  reset();
}

/* 16-byte little-endian two's complement of v (which fits in int64) */
static void dec128(uint8_t *out, int64_t v) {
  for (int k = 0; k < 16; k++)
    out[k] = k < 8 ? (uint8_t)((uint64_t)v >> (8 * k)) : v < 0 ? 0xFF : 0;
}

static void test_decimals(void) {
  static uint8_t d[6][16];
  dec128(d[0], -1230);
  dec128(d[1], 7);
  dec128(d[2], 5);
  dec128(d[3], 0);
  dec128(d[4], -5);
  dec128(d[5], 123456);
  CHECK_EQ_STR(jsonl(sch("d:5,2", "v", 0), arr(2, 1, 0, NULL, d, NULL), 1), "{\"v\":\"-12.30\"}\n");
  CHECK_EQ_STR(jsonl(sch("d:3,0", "v", 0), arr(2, 1, 1, NULL, d, NULL), 1), "{\"v\":\"7\"}\n");
  CHECK_EQ_STR(jsonl(sch("d:3,2,128", "v", 0), arr(2, 4, 2, NULL, d, NULL), 4),
               "{\"v\":\"0.05\"}\n{\"v\":\"0.00\"}\n{\"v\":\"-0.05\"}\n{\"v\":\"1234.56\"}\n");
  CHECK_EQ_STR(jsonl(sch("d:5,-2", "v", 0), arr(2, 3, 1, NULL, d, NULL), 3),
               "{\"v\":\"700\"}\n{\"v\":\"500\"}\n{\"v\":\"0\"}\n");
  /* -(10^38 - 1): 38 nines */
  static const uint8_t nines[16] = {0x01, 0x00, 0x00, 0x00, 0xc0, 0xdd, 0x75, 0xf6,
                                    0x85, 0x3b, 0x79, 0xa5, 0x57, 0xb3, 0xc4, 0xb4};
  CHECK_EQ_STR(jsonl(sch("d:38,0", "v", 0), arr(2, 1, 0, NULL, nines, NULL), 1),
               "{\"v\":\"-99999999999999999999999999999999999999\"}\n");
  CHECK_EQ_STR(jsonl(sch("d:38,10", "v", 0), arr(2, 1, 0, NULL, nines, NULL), 1),
               "{\"v\":\"-9999999999999999999999999999.9999999999\"}\n");
  static const uint8_t int128_min[16] = {[15] = 0x80};
  CHECK_EQ_STR(jsonl(sch("d:38,0", "v", 0), arr(2, 1, 0, NULL, int128_min, NULL), 1),
               "{\"v\":\"-170141183460469231731687303715884105728\"}\n");
  static const uint8_t int256_min[32] = {[31] = 0x80};
  CHECK_EQ_STR(jsonl(sch("d:76,0,256", "v", 0), arr(2, 1, 0, NULL, int256_min, NULL), 1),
               "{\"v\":\"-57896044618658097711785492504343953926634992332820282019728792003956"
               "564819968\"}\n");
  static const int32_t d32[] = {123456, -1};
  CHECK_EQ_STR(jsonl(sch("d:9,3,32", "v", 0), arr(2, 2, 0, NULL, d32, NULL), 2),
               "{\"v\":\"123.456\"}\n{\"v\":\"-0.001\"}\n");
  static const int64_t d64[] = {-100};
  CHECK_EQ_STR(jsonl(sch("d:18,2,64", "v", 0), arr(2, 1, 0, NULL, d64, NULL), 1),
               "{\"v\":\"-1.00\"}\n");
  /* CSV: bare text */
  CHECK_EQ_STR(print_col(COL_FORMAT_CSV, sch("d:5,2", "v", 0), arr(2, 1, 0, NULL, d, NULL), 1),
               "v\n-12.30\n");
  reset();
}

static void test_dates_and_times(void) {
  static const int32_t days[] = {0, 19645, -1, 11016, -719162, -719528, -719529, 2932896, 2932897};
  CHECK_EQ_STR(jsonl(sch("tdD", "v", 0), arr(2, 9, 0, NULL, days, NULL), 9),
               "{\"v\":\"1970-01-01\"}\n{\"v\":\"2023-10-15\"}\n{\"v\":\"1969-12-31\"}\n"
               "{\"v\":\"2000-02-29\"}\n{\"v\":\"0001-01-01\"}\n{\"v\":\"0000-01-01\"}\n"
               "{\"v\":\"-0001-12-31\"}\n{\"v\":\"9999-12-31\"}\n{\"v\":\"10000-01-01\"}\n");
  static const int64_t ms_days[] = {1697328000000LL, -1, 1697328000000LL + 86399999};
  CHECK_EQ_STR(jsonl(sch("tdm", "v", 0), arr(2, 3, 0, NULL, ms_days, NULL), 3),
               "{\"v\":\"2023-10-15\"}\n{\"v\":\"1969-12-31\"}\n{\"v\":\"2023-10-15\"}\n");

  static const int32_t t_s[] = {47100};
  CHECK_EQ_STR(jsonl(sch("tts", "v", 0), arr(2, 1, 0, NULL, t_s, NULL), 1),
               "{\"v\":\"13:05:00.000000\"}\n");
  static const int32_t t_ms[] = {47100123};
  CHECK_EQ_STR(jsonl(sch("ttm", "v", 0), arr(2, 1, 0, NULL, t_ms, NULL), 1),
               "{\"v\":\"13:05:00.123000\"}\n");
  static const int64_t t_us[] = {47100123456LL, 0, 86399999999LL};
  CHECK_EQ_STR(jsonl(sch("ttu", "v", 0), arr(2, 3, 0, NULL, t_us, NULL), 3),
               "{\"v\":\"13:05:00.123456\"}\n{\"v\":\"00:00:00.000000\"}\n"
               "{\"v\":\"23:59:59.999999\"}\n");
  static const int64_t t_ns[] = {47100123456789LL};
  CHECK_EQ_STR(jsonl(sch("ttn", "v", 0), arr(2, 1, 0, NULL, t_ns, NULL), 1),
               "{\"v\":\"13:05:00.123456789\"}\n");

  static const int64_t ts_us[] = {1697364000000000LL, 1235865660000000LL, -1};
  CHECK_EQ_STR(jsonl(sch("tsu:UTC", "v", 0), arr(2, 3, 0, NULL, ts_us, NULL), 3),
               "{\"v\":\"2023-10-15T10:00:00.000000Z\"}\n{\"v\":\"2009-03-01T00:01:00.000000Z\"}\n"
               "{\"v\":\"1969-12-31T23:59:59.999999Z\"}\n");
  CHECK_EQ_STR(jsonl(sch("tsu:", "v", 0), arr(2, 1, 1, NULL, ts_us, NULL), 1),
               "{\"v\":\"2009-03-01T00:01:00.000000\"}\n");
  static const int64_t ts_ns[] = {-1, INT64_MAX, 1697364000123456789LL};
  CHECK_EQ_STR(jsonl(sch("tsn:+00:00", "v", 0), arr(2, 3, 0, NULL, ts_ns, NULL), 3),
               "{\"v\":\"1969-12-31T23:59:59.999999999Z\"}\n"
               "{\"v\":\"2262-04-11T23:47:16.854775807Z\"}\n"
               "{\"v\":\"2023-10-15T10:00:00.123456789Z\"}\n");
  static const int64_t ts_ms[] = {-1500, 1697364000123LL};
  CHECK_EQ_STR(jsonl(sch("tsm:", "v", 0), arr(2, 2, 0, NULL, ts_ms, NULL), 2),
               "{\"v\":\"1969-12-31T23:59:58.500000\"}\n{\"v\":\"2023-10-15T10:00:00.123000\"}\n");
  static const int64_t ts_s[] = {1697364000, -2, INT64_MIN, INT64_MAX};
  /* INT64_MIN and INT64_MAX seconds: far outside 0000..9999, printed without crashing */
  const char *out = jsonl(sch("tss:Europe/Paris", "v", 0), arr(2, 4, 0, NULL, ts_s, NULL), 4);
  const char *head = "{\"v\":\"2023-10-15T10:00:00.000000Z\"}\n"
                     "{\"v\":\"1969-12-31T23:59:58.000000Z\"}\n{\"v\":\"-";
  CHECK(strncmp(out, head, strlen(head)) == 0);
  /* CSV: bare text */
  CHECK_EQ_STR(
      print_col(COL_FORMAT_CSV, sch("tsu:UTC", "v", 0), arr(2, 1, 0, NULL, ts_us, NULL), 1),
      "v\n2023-10-15T10:00:00.000000Z\n");
  reset();
}

static void test_intervals(void) {
  static const int32_t months[] = {14, -1};
  CHECK_EQ_STR(jsonl(sch("tiM", "v", 0), arr(2, 2, 0, NULL, months, NULL), 2),
               "{\"v\":{\"months\":14,\"days\":0,\"micros\":0}}\n"
               "{\"v\":{\"months\":-1,\"days\":0,\"micros\":0}}\n");
  static const int32_t day_ms[] = {3, 1500};
  CHECK_EQ_STR(jsonl(sch("tiD", "v", 0), arr(2, 1, 0, NULL, day_ms, NULL), 1),
               "{\"v\":{\"months\":0,\"days\":3,\"micros\":1500000}}\n");
  static const struct {
    int32_t months, days;
    int64_t nanos;
  } mdn[] = {{1, 2, 3000}, {0, -7, 5000000000LL}};
  CHECK_EQ_STR(jsonl(sch("tin", "v", 0), arr(2, 2, 0, NULL, mdn, NULL), 2),
               "{\"v\":{\"months\":1,\"days\":2,\"micros\":3}}\n"
               "{\"v\":{\"months\":0,\"days\":-7,\"micros\":5000000}}\n");
  reset();
}

static void test_binary_and_uuid(void) {
  static const int32_t offs[] = {0, 8, 8, 9, 11};
  static const char bytes[] = "03/01/09aab";
  CHECK_EQ_STR(jsonl(sch("z", "v", 0), arr(3, 4, 0, NULL, offs, bytes), 4),
               "{\"v\":\"MDMvMDEvMDk=\"}\n{\"v\":\"\"}\n{\"v\":\"YQ==\"}\n{\"v\":\"YWI=\"}\n");
  static const int64_t loffs[] = {0, 8};
  CHECK_EQ_STR(jsonl(sch("Z", "v", 0), arr(3, 1, 0, NULL, loffs, bytes), 1),
               "{\"v\":\"MDMvMDEvMDk=\"}\n");
  static const uint8_t uuid[32] = {0x99, 0x09, 0xa8, 0xb1, 0x2d, 0x15, 0x4d, 0x3d,
                                   0x8e, 0xc9, 0xef, 0xc4, 0x8c, 0x53, 0x6a, 0x00};
  /* int32 count, then int32 key length, key, int32 value length, value (little-endian host) */
  static const char metadata[] = "\x02\x00\x00\x00"
                                 "\x03\x00\x00\x00"
                                 "foo"
                                 "\x03\x00\x00\x00"
                                 "bar"
                                 "\x14\x00\x00\x00"
                                 "ARROW:extension:name"
                                 "\x0a\x00\x00\x00"
                                 "arrow.uuid";
  struct ArrowSchema *f = sch("w:16", "v", 0);
  f->metadata = metadata;
  static const uint8_t valid[] = {0x01};
  CHECK_EQ_STR(jsonl(f, arr(2, 2, 0, valid, uuid, NULL), 2),
               "{\"v\":\"9909a8b1-2d15-4d3d-8ec9-efc48c536a00\"}\n{\"v\":null}\n");
  /* the same bytes without the extension are plain fixed-size binary */
  CHECK_EQ_STR(jsonl(sch("w:16", "v", 0), arr(2, 1, 0, NULL, uuid, NULL), 1),
               "{\"v\":\"mQmosS0VTT2Oye/EjFNqAA==\"}\n");
  CHECK_EQ_STR(jsonl(sch("w:3", "v", 0), arr(2, 1, 1, NULL, "abcdef", NULL), 1),
               "{\"v\":\"ZGVm\"}\n");
  reset();
}

static void test_strings(void) {
  /* quote, backslash, newline, control char, tab, é (2 bytes), 😀 (4 bytes), invalid 0xff,
   * a truncated sequence, then an encoded surrogate (invalid in UTF-8) */
  static const char s[] = "a\"b\\c\nd\x01\t\xc3\xa9\xf0\x9f\x98\x80\xff\xe2\x82|\xed\xa0\x80";
  int32_t n = (int32_t)strlen(s);
  int32_t *offs = take(2 * sizeof *offs);
  offs[1] = n;
  CHECK_EQ_STR(jsonl(sch("u", "v", 0), arr(3, 1, 0, NULL, offs, s), 1),
               "{\"v\":\"a\\\"b\\\\c\\nd\\u0001\\t\xc3\xa9\xf0\x9f\x98\x80\\ufffd\\ufffd\\ufffd|"
               "\\ufffd\\ufffd\\ufffd\"}\n");
  static const int64_t loffs[] = {0, 7, 7};
  static const uint8_t valid[] = {0x01};
  CHECK_EQ_STR(jsonl(sch("U", "v", 0), arr(3, 2, 0, valid, loffs, "rider-A"), 2),
               "{\"v\":\"rider-A\"}\n{\"v\":null}\n");
  /* empty strings, and a NULL data buffer when every string is empty */
  static const int32_t zero[] = {0, 0, 0};
  CHECK_EQ_STR(jsonl(sch("u", "v", 0), arr(3, 2, 0, NULL, zero, NULL), 2),
               "{\"v\":\"\"}\n{\"v\":\"\"}\n");
  /* string view: one inline (<= 12 bytes), one in data buffer 0 */
  static const char data[] = "xxthis string is long";
  uint8_t *views = take(32);
  int32_t len0 = 5, len1 = 19, buf1 = 0, off1 = 2;
  memcpy(views, &len0, 4);
  memcpy(views + 4, "short", 5);
  memcpy(views + 16, &len1, 4);
  memcpy(views + 20, "this", 4);
  memcpy(views + 24, &buf1, 4);
  memcpy(views + 28, &off1, 4);
  static const int64_t sizes[] = {21};
  struct ArrowArray *va = arr(4, 2, 0, NULL, views, data);
  va->buffers[3] = sizes;
  CHECK_EQ_STR(jsonl(sch("vu", "v", 0), va, 2),
               "{\"v\":\"short\"}\n{\"v\":\"this string is long\"}\n");
  /* column names are escaped too */
  static const int32_t one[] = {1};
  CHECK_EQ_STR(jsonl(sch("i", "we\"ird\n", 0), arr(2, 1, 0, NULL, one, NULL), 1),
               "{\"we\\\"ird\\n\":1}\n");
  reset();
}

/* ---- nested ---- */

static void test_lists(void) {
  /* [1,null,3], null, [], [4] */
  static const int64_t vals[] = {1, 0, 3, 4};
  static const uint8_t vvalid[] = {0x0D};
  static const int32_t offs[] = {0, 3, 3, 3, 4};
  static const uint8_t lvalid[] = {0x0D};
  struct ArrowSchema *f = sch("+l", "v", 1, sch("l", "item", 0));
  struct ArrowArray *a =
      kids(arr(2, 4, 0, lvalid, offs, NULL), 1, arr(2, 4, 0, vvalid, vals, NULL));
  CHECK_EQ_STR(jsonl(f, a, 4), "{\"v\":[1,null,3]}\n{\"v\":null}\n{\"v\":[]}\n{\"v\":[4]}\n");
  /* large list, with a child that has its own offset */
  static const int64_t loffs[] = {0, 2};
  struct ArrowSchema *lf = sch("+L", "v", 1, sch("l", "item", 0));
  struct ArrowArray *la = kids(arr(2, 1, 0, NULL, loffs, NULL), 1, arr(2, 2, 2, NULL, vals, NULL));
  CHECK_EQ_STR(jsonl(lf, la, 1), "{\"v\":[3,4]}\n");
  /* fixed-size list of 2 with offset 1: [3,4] then null */
  static const int32_t items[] = {1, 2, 3, 4, 5, 6};
  static const uint8_t fvalid[] = {0x07};
  struct ArrowSchema *ff = sch("+w:2", "v", 1, sch("i", "item", 0));
  struct ArrowArray *fa =
      kids(arr(1, 2, 1, fvalid, NULL, NULL), 1, arr(2, 6, 0, NULL, items, NULL));
  CHECK_EQ_STR(jsonl(ff, fa, 2), "{\"v\":[3,4]}\n{\"v\":[5,6]}\n");
  static const uint8_t fvalid2[] = {0x05}; /* element 1 (bit 1) null */
  fa = kids(arr(1, 2, 1, fvalid2, NULL, NULL), 1, arr(2, 6, 0, NULL, items, NULL));
  CHECK_EQ_STR(jsonl(ff, fa, 2), "{\"v\":null}\n{\"v\":[5,6]}\n");
  reset();
}

static void test_structs_and_maps(void) {
  static const int32_t a_vals[] = {1, 2};
  static const int32_t b_offs[] = {0, 1, 1};
  static const uint8_t b_valid[] = {0x01};
  struct ArrowSchema *sf = sch("+s", "v", 2, sch("i", "a", 0), sch("u", "b", 0));
  static const uint8_t s_valid[] = {0x01};
  struct ArrowArray *sa =
      kids(arr(1, 2, 0, s_valid, NULL, NULL), 2, arr(2, 2, 0, NULL, a_vals, NULL),
           arr(3, 2, 0, b_valid, b_offs, "x"));
  CHECK_EQ_STR(jsonl(sf, sa, 2), "{\"v\":{\"a\":1,\"b\":\"x\"}}\n{\"v\":null}\n");

  /* list of struct: [{"a":1,"b":"x"},{"a":2,"b":null}] */
  static const int32_t l_offs[] = {0, 2};
  struct ArrowSchema *lf =
      sch("+l", "v", 1, sch("+s", "item", 2, sch("i", "a", 0), sch("u", "b", 0)));
  struct ArrowArray *la =
      kids(arr(2, 1, 0, NULL, l_offs, NULL), 1,
           kids(arr(1, 2, 0, NULL, NULL, NULL), 2, arr(2, 2, 0, NULL, a_vals, NULL),
                arr(3, 2, 0, b_valid, b_offs, "x")));
  CHECK_EQ_STR(jsonl(lf, la, 1), "{\"v\":[{\"a\":1,\"b\":\"x\"},{\"a\":2,\"b\":null}]}\n");

  /* map<string,int64>: [{"key":"a","value":1}], [], null, [{"key":"b","value":null},
   * {"key":"c","value":3}] */
  static const int32_t m_offs[] = {0, 1, 1, 1, 3};
  static const uint8_t m_valid[] = {0x0B};
  static const int32_t k_offs[] = {0, 1, 2, 3};
  static const int64_t v_vals[] = {1, 0, 3};
  static const uint8_t v_valid[] = {0x05};
  struct ArrowSchema *mf =
      sch("+m", "v", 1, sch("+s", "entries", 2, sch("u", "key", 0), sch("l", "value", 0)));
  struct ArrowArray *ma =
      kids(arr(2, 4, 0, m_valid, m_offs, NULL), 1,
           kids(arr(1, 3, 0, NULL, NULL, NULL), 2, arr(3, 3, 0, NULL, k_offs, "abc"),
                arr(2, 3, 0, v_valid, v_vals, NULL)));
  CHECK_EQ_STR(jsonl(mf, ma, 4),
               "{\"v\":[{\"key\":\"a\",\"value\":1}]}\n{\"v\":[]}\n{\"v\":null}\n"
               "{\"v\":[{\"key\":\"b\",\"value\":null},{\"key\":\"c\",\"value\":3}]}\n");
  reset();
}

static void test_dictionary(void) {
  static const int8_t idx[] = {1, 0, 1, 0};
  static const uint8_t valid[] = {0x07};
  static const int32_t offs[] = {0, 1, 2};
  struct ArrowSchema *f = sch("c", "v", 0);
  f->dictionary = sch("u", NULL, 0);
  struct ArrowArray *a = arr(2, 4, 0, valid, idx, NULL);
  a->dictionary = arr(3, 2, 0, NULL, offs, "xy");
  CHECK_EQ_STR(jsonl(f, a, 4), "{\"v\":\"y\"}\n{\"v\":\"x\"}\n{\"v\":\"y\"}\n{\"v\":null}\n");
  /* an index out of range is an error, not a crash */
  static const int8_t bad[] = {2};
  a = arr(2, 1, 0, NULL, bad, NULL);
  a->dictionary = arr(3, 2, 0, NULL, offs, "xy");
  struct ArrowSchema *schema = sch("+s", "", 1, f);
  struct ArrowArray *batch = kids(arr(1, 1, 0, NULL, NULL, NULL), 1, a);
  FILE *out = tmpfile();
  col_printer *p = NULL;
  tarn_error err = {0};
  CHECK_EQ_INT(col_printer_create(COL_FORMAT_JSONL, out, schema, &p, &err), 0);
  CHECK_EQ_INT(col_printer_write(p, batch, &err), TARN_ECORRUPT);
  CHECK(strstr(err.message, "column v") != NULL);
  col_printer_free(p);
  fclose(out);
  reset();
}

/* ---- offsets and bitmaps ---- */

static void test_offsets(void) {
  static const int32_t vals[] = {10, 11, 12, 13, 14, 15, 16, 17, 18, 19};
  static const uint8_t valid[] = {0xF7, 0x02}; /* 3 and 8 null, 9 valid */
  /* column offset 3 */
  CHECK_EQ_STR(jsonl(sch("i", "v", 0), arr(2, 7, 3, valid, vals, NULL), 7),
               "{\"v\":null}\n{\"v\":14}\n{\"v\":15}\n{\"v\":16}\n{\"v\":17}\n{\"v\":null}\n"
               "{\"v\":19}\n");
  /* batch offset 2 on top of a column offset 1: rows are elements 3..5 */
  struct ArrowSchema *schema = sch("+s", "", 2, sch("i", "a", 0), sch("b", "b", 0));
  static const uint8_t bits[] = {0xAA, 0x00}; /* 1,3,5,7 true */
  struct ArrowArray *batch = kids(arr(1, 3, 2, NULL, NULL, NULL), 2,
                                  arr(2, 9, 1, valid, vals, NULL), arr(2, 10, 0, NULL, bits, NULL));
  CHECK_EQ_STR(print_batch(COL_FORMAT_JSONL, schema, batch),
               "{\"a\":null,\"b\":false}\n{\"a\":14,\"b\":true}\n{\"a\":15,\"b\":false}\n");
  /* a null batch row prints every column as null */
  static const uint8_t rows_valid[] = {0x05};
  batch = kids(arr(1, 3, 0, rows_valid, NULL, NULL), 2, arr(2, 3, 0, NULL, vals, NULL),
               arr(2, 3, 0, NULL, bits, NULL));
  CHECK_EQ_STR(print_batch(COL_FORMAT_JSONL, schema, batch),
               "{\"a\":10,\"b\":false}\n{\"a\":null,\"b\":null}\n{\"a\":12,\"b\":false}\n");
  /* struct with offset 1 whose child has offset 2: element 0 is child element 3 */
  struct ArrowSchema *sf = sch("+s", "v", 1, sch("i", "x", 0));
  static const uint8_t s_valid[] = {0x02};
  struct ArrowArray *sa =
      kids(arr(1, 1, 1, s_valid, NULL, NULL), 1, arr(2, 3, 2, valid, vals, NULL));
  CHECK_EQ_STR(jsonl(sf, sa, 1), "{\"v\":{\"x\":null}}\n");
  sa = kids(arr(1, 2, 1, s_valid, NULL, NULL), 1, arr(2, 4, 2, valid, vals, NULL));
  CHECK_EQ_STR(jsonl(sf, sa, 2), "{\"v\":{\"x\":null}}\n{\"v\":null}\n");
  /* list with offset 1 into offsets, whose values array has offset 4 */
  static const int32_t offs[] = {0, 1, 3};
  struct ArrowSchema *lf = sch("+l", "v", 1, sch("i", "item", 0));
  struct ArrowArray *la = kids(arr(2, 1, 1, NULL, offs, NULL), 1, arr(2, 3, 4, valid, vals, NULL));
  CHECK_EQ_STR(jsonl(lf, la, 1), "{\"v\":[15,16]}\n");
  reset();
}

/* ---- CSV and table ---- */

static void test_csv(void) {
  static const int64_t ids[] = {1, 2, 3, 0, 5};
  static const uint8_t id_valid[] = {0x17};
  static const int32_t s_offs[] = {0, 5, 8, 16, 16, 16};
  static const char s_data[] = "plaina,bsay \"hi\"a\nb";
  static const uint8_t s_valid[] = {0x0F};
  static const int32_t l_offs[] = {0, 2, 2, 2, 3, 3};
  static const int64_t l_vals[] = {1, 2, 3};
  static const uint8_t l_valid[] = {0x1B};
  struct ArrowSchema *schema = sch("+s", "", 3, sch("l", "id", 0), sch("u", "s,x", 0),
                                   sch("+l", "l", 1, sch("l", "item", 0)));
  /* s: "plain", "a,b", "say \"hi\"", "", null; row 3's id and row 2's list are null */
  struct ArrowArray *batch =
      kids(arr(1, 5, 0, NULL, NULL, NULL), 3, arr(2, 5, 0, id_valid, ids, NULL),
           arr(3, 5, 0, s_valid, s_offs, s_data),
           kids(arr(2, 5, 0, l_valid, l_offs, NULL), 1, arr(2, 3, 0, NULL, l_vals, NULL)));
  CHECK_EQ_STR(print_batch(COL_FORMAT_CSV, schema, batch), "id,\"s,x\",l\n"
                                                           "1,plain,\"[1,2]\"\n"
                                                           "2,\"a,b\",[]\n"
                                                           "3,\"say \"\"hi\"\"\",\n"
                                                           ",\"\",[3]\n"
                                                           "5,,[]\n");
  /* a string with a newline is quoted */
  static const int32_t nl_offs[] = {16, 19};
  CHECK_EQ_STR(print_col(COL_FORMAT_CSV, sch("u", "v", 0), arr(3, 1, 0, NULL, nl_offs, s_data), 1),
               "v\n\"a\nb\"\n");
  /* struct as JSON, quoted */
  static const int32_t one[] = {1};
  struct ArrowSchema *sf = sch("+s", "v", 1, sch("i", "a", 0));
  struct ArrowArray *sa = kids(arr(1, 1, 0, NULL, NULL, NULL), 1, arr(2, 1, 0, NULL, one, NULL));
  CHECK_EQ_STR(print_col(COL_FORMAT_CSV, sf, sa, 1), "v\n\"{\"\"a\"\":1}\"\n");
  reset();
}

static void test_table(void) {
  static const int64_t ids[] = {1, 22, 333};
  static const int32_t offs[] = {0, 5, 5, 51};
  static const char names[] = "aliceabcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ";
  static const uint8_t valid[] = {0x05};
  struct ArrowSchema *schema = sch("+s", "", 2, sch("l", "id", 0), sch("u", "name", 0));
  struct ArrowArray *batch = kids(arr(1, 3, 0, NULL, NULL, NULL), 2, arr(2, 3, 0, NULL, ids, NULL),
                                  arr(3, 3, 0, valid, offs, names));
  CHECK_EQ_STR(print_batch(COL_FORMAT_TABLE, schema, batch),
               "+-----+------------------------------------------+\n"
               "|  id | name                                     |\n"
               "+-----+------------------------------------------+\n"
               "|   1 | alice                                    |\n"
               "|  22 | NULL                                     |\n"
               "| 333 | abcdefghijklmnopqrstuvwxyz0123456789ABC\xe2\x80\xa6 |\n"
               "+-----+------------------------------------------+\n"
               "(3 rows)\n");
  /* non-ASCII counts one column per character; control characters are escaped */
  static const int32_t u_offs[] = {0, 6};
  static const char u_data[] = "\xc3\xa9t\xc3\xa9\n";
  struct ArrowSchema *us = sch("+s", "", 1, sch("u", "w", 0));
  struct ArrowArray *ub =
      kids(arr(1, 1, 0, NULL, NULL, NULL), 1, arr(3, 1, 0, NULL, u_offs, u_data));
  CHECK_EQ_STR(print_batch(COL_FORMAT_TABLE, us, ub), "+-------+\n"
                                                      "| w     |\n"
                                                      "+-------+\n"
                                                      "| \xc3\xa9t\xc3\xa9\\n |\n"
                                                      "+-------+\n"
                                                      "(1 row)\n");
  /* a one-column table (an EXPLAIN plan) keeps long cells whole: nothing beside them to align */
  static const int32_t l_offs[] = {0, 46};
  static const char l_data[] = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ";
  struct ArrowArray *lb =
      kids(arr(1, 1, 0, NULL, NULL, NULL), 1, arr(3, 1, 0, NULL, l_offs, l_data));
  CHECK_EQ_STR(print_batch(COL_FORMAT_TABLE, us, lb),
               "+------------------------------------------------+\n"
               "| w                                              |\n"
               "+------------------------------------------------+\n"
               "| abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ |\n"
               "+------------------------------------------------+\n"
               "(1 row)\n");
  /* no rows */
  struct ArrowArray *empty =
      kids(arr(1, 0, 0, NULL, NULL, NULL), 1, arr(3, 0, 0, NULL, u_offs, u_data));
  CHECK_EQ_STR(print_batch(COL_FORMAT_TABLE, us, empty), "+---+\n"
                                                         "| w |\n"
                                                         "+---+\n"
                                                         "(0 rows)\n");
  /* more rows than the table keeps */
  enum { N = 10005 };
  int32_t *many = take(N * sizeof *many);
  for (int k = 0; k < N; k++)
    many[k] = k;
  struct ArrowSchema *ms = sch("+s", "", 1, sch("i", "n", 0));
  struct ArrowArray *mb = kids(arr(1, N, 0, NULL, NULL, NULL), 1, arr(2, N, 0, NULL, many, NULL));
  const char *out = print_batch(COL_FORMAT_TABLE, ms, mb);
  const char *tail = "| 9999 |\n+------+\n(5 more rows)\n(10005 rows)\n";
  size_t len = strlen(out), tlen = strlen(tail);
  CHECK(len > tlen && strcmp(out + len - tlen, tail) == 0);
  CHECK(strncmp(out, "+------+\n|    n |\n+------+\n|    0 |\n", 36) == 0);
  reset();
}

/* Several batches through one printer; CSV header printed once. */
static void test_batches(void) {
  static const int32_t vals[] = {1, 2, 3};
  struct ArrowSchema *schema = sch("+s", "", 1, sch("i", "n", 0));
  struct ArrowArray *b1 = kids(arr(1, 2, 0, NULL, NULL, NULL), 1, arr(2, 2, 0, NULL, vals, NULL));
  struct ArrowArray *b2 = kids(arr(1, 1, 0, NULL, NULL, NULL), 1, arr(2, 1, 2, NULL, vals, NULL));
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  col_printer *p = NULL;
  tarn_error err = {0};
  CHECK_EQ_INT(col_printer_create(COL_FORMAT_CSV, out, schema, &p, &err), 0);
  CHECK_EQ_INT(col_printer_write(p, b1, &err), 0);
  CHECK_EQ_INT(col_printer_write(p, b2, &err), 0);
  CHECK_EQ_INT(col_printer_finish(p, &err), 0);
  col_printer_free(p);
  fclose(out);
  CHECK_EQ_STR(text, "n\n1\n2\n3\n");
  free(text);
  reset();
}

/* ---- errors ---- */

static int create_error(const char *format, tarn_error *err) {
  struct ArrowSchema *schema = sch("+s", "", 1, sch(format, "col_x", 0));
  col_printer *p = NULL;
  int rc = col_printer_create(COL_FORMAT_JSONL, stdout, schema, &p, err);
  col_printer_free(p);
  return rc;
}

static void test_errors(void) {
  tarn_error err = {0};
  CHECK_EQ_INT(create_error("tDs", &err), TARN_EUNSUPPORTED);
  CHECK_EQ_STR(err.message, "column col_x: unsupported Arrow type tDs");
  const char *bad[] = {"+ud:0,1",   "x",    "ii",  "w:", "w:0", "d:5",
                       "d:5,2,100", "tsx:", "+w:", "tt", "tiX"};
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    tarn_error e = {0};
    CHECK_EQ_INT(create_error(bad[k], &e), TARN_EUNSUPPORTED);
  }
  /* a list without its child is malformed */
  tarn_error e = {0};
  CHECK(create_error("+l", &e) < 0);
  /* the batch must match the schema */
  struct ArrowSchema *schema = sch("+s", "", 1, sch("i", "a", 0));
  struct ArrowArray *batch =
      kids(arr(1, 5, 0, NULL, NULL, NULL), 1, arr(2, 3, 0, NULL, "abcdefghijkl", NULL));
  col_printer *p = NULL;
  tarn_error e2 = {0};
  FILE *out = tmpfile();
  CHECK_EQ_INT(col_printer_create(COL_FORMAT_JSONL, out, schema, &p, &e2), 0);
  CHECK_EQ_INT(col_printer_write(p, batch, &e2), TARN_ECORRUPT);
  CHECK(strstr(e2.message, "column a") != NULL);
  col_printer_free(p);
  fclose(out);

  col_text_format f = COL_FORMAT_TABLE;
  CHECK_EQ_INT(col_text_format_parse("jsonl", &f, NULL), 0);
  CHECK_EQ_INT(f, COL_FORMAT_JSONL);
  CHECK_EQ_INT(col_text_format_parse("csv", &f, NULL), 0);
  CHECK_EQ_INT(f, COL_FORMAT_CSV);
  CHECK_EQ_INT(col_text_format_parse("table", &f, NULL), 0);
  CHECK_EQ_INT(f, COL_FORMAT_TABLE);
  tarn_error e3 = {0};
  CHECK_EQ_INT(col_text_format_parse("xml", &f, &e3), TARN_EUSAGE);
  CHECK(strstr(e3.message, "xml") != NULL);
  col_printer_free(NULL);
  reset();
}

int main(void) {
  RUN(test_integers);
  RUN(test_floats);
  RUN(test_decimals);
  RUN(test_dates_and_times);
  RUN(test_intervals);
  RUN(test_binary_and_uuid);
  RUN(test_strings);
  RUN(test_lists);
  RUN(test_structs_and_maps);
  RUN(test_dictionary);
  RUN(test_offsets);
  RUN(test_csv);
  RUN(test_table);
  RUN(test_batches);
  RUN(test_errors);
  free(captured);
  return check_finish();
}
