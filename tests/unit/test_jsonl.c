/*
 * Tests of src/ingest/jsonl.c: hand-written JSON lines read from memory (and from a file, for
 * lines that cross the reader's 1 MiB chunks), printed as canonical JSON lines and compared with
 * rows and types worked out by hand. Inference expectations are what DuckDB 1.5's read_json gives
 * for the same text (checked once with the oracle; docs/internals/import.md lists the rules).
 */
#include "ingest/jsonl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "stream_check.h"

static void run(const char *text, const ing_jsonl_options *o, stream_result *r) {
  struct ArrowArrayStream s;
  tarn_error err = {0};
  int rc = ing_jsonl_open_memory((const uint8_t *)text, strlen(text), "t.jsonl", o, &s, &err);
  stream_collect(rc, &err, &s, ing_jsonl_bad_rows, r);
}

#define EXPECT_ERROR(text, o, open_code, message_)                                                 \
  do {                                                                                             \
    stream_result r_;                                                                              \
    run(text, o, &r_);                                                                             \
    CHECK_EQ_INT(r_.open_rc ? r_.open_rc : r_.code, open_code);                                    \
    CHECK_EQ_STR(r_.message, message_);                                                            \
    free(r_.rows);                                                                                 \
  } while (0)

static void test_keys_and_missing(void) {
  /* Columns are the union of keys in first-seen order; a missing key is a null. */
  EXPECT("{\"a\":1,\"b\":\"x\"}\n{\"c\":true,\"a\":2.5}\n{}\n", NULL, "a:g b:u c:b",
         "{\"a\":1,\"b\":\"x\",\"c\":null}\n{\"a\":2.5,\"b\":null,\"c\":true}\n"
         "{\"a\":null,\"b\":null,\"c\":null}\n");
  /* Keys differing only in case are two columns; the second is renamed (DuckDB's rule). */
  EXPECT("{\"A\":1}\n{\"a\":2}\n", NULL, "A:l a_1:l",
         "{\"A\":1,\"a_1\":null}\n{\"A\":null,\"a_1\":2}\n");
  /* Blank lines, CRLF, a byte order mark, a last line without a line end. */
  EXPECT("\xef\xbb\xbf{\"a\":1}\r\n\n   \n{\"a\":2}", NULL, "a:l", "{\"a\":1}\n{\"a\":2}\n");
}

static void test_nested(void) {
  EXPECT("{\"p\":{\"id\":1,\"tags\":[\"x\",\"y\"]},\"items\":[{\"q\":2,\"price\":9.5}]}\n"
         "{\"p\":{\"tags\":[],\"extra\":null},\"items\":[{\"q\":1},{\"price\":1}]}\n"
         "{\"p\":null,\"items\":null}\n",
         NULL, "p:+s<id:l tags:+l<element:u> extra:u> items:+l<element:+s<q:l price:g>>",
         "{\"p\":{\"id\":1,\"tags\":[\"x\",\"y\"],\"extra\":null},"
         "\"items\":[{\"q\":2,\"price\":9.5}]}\n"
         "{\"p\":{\"id\":null,\"tags\":[],\"extra\":null},"
         "\"items\":[{\"q\":1,\"price\":null},{\"q\":null,\"price\":1}]}\n"
         "{\"p\":null,\"items\":null}\n");
  EXPECT("{\"m\":[[1],[2,3],[]]}\n", NULL, "m:+l<element:+l<element:l>>",
         "{\"m\":[[1],[2,3],[]]}\n");
}

static void test_inference(void) {
  /* ints and doubles: DOUBLE; 1.0 and 1e2 are doubles; -0 is an integer */
  EXPECT("{\"a\":1,\"b\":1.0,\"c\":1e2,\"d\":-0}\n{\"a\":2.5}\n", NULL, "a:g b:g c:g d:l",
         "{\"a\":1,\"b\":1,\"c\":100,\"d\":0}\n{\"a\":2.5,\"b\":null,\"c\":null,\"d\":null}\n");
  /* integers keep every digit; past int64 they are doubles */
  EXPECT("{\"a\":9223372036854775807,\"b\":-9223372036854775808,\"c\":9223372036854775808}\n", NULL,
         "a:l b:l c:g",
         "{\"a\":9223372036854775807,\"b\":-9223372036854775808,\"c\":9.223372036854776e+18}\n");
  /* doubles are converted once from their text */
  EXPECT("{\"d\":0.1}\n{\"d\":2.2250738585072014e-308}\n{\"d\":1.7976931348623157e308}\n"
         "{\"d\":123456789.125}\n{\"d\":9007199254740993}\n",
         NULL, "d:g",
         "{\"d\":0.1}\n{\"d\":2.2250738585072014e-308}\n{\"d\":1.7976931348623157e+308}\n"
         "{\"d\":123456789.125}\n{\"d\":9007199254740992}\n");
  /* mixed kinds hold JSON text (DuckDB's JSON type) */
  EXPECT("{\"a\":1}\n{\"a\":\"x\"}\n{\"a\":[1,{\"k\":null}]}\n{\"a\":true}\n", NULL, "a:u",
         "{\"a\":\"1\"}\n{\"a\":\"\\\"x\\\"\"}\n{\"a\":\"[1,{\\\"k\\\":null}]\"}\n"
         "{\"a\":\"true\"}\n");
  /* only nulls, only empty arrays, only empty objects */
  EXPECT("{\"n\":null,\"l\":[],\"o\":{}}\n", NULL, "n:u l:+l<element:u> o:u",
         "{\"n\":null,\"l\":[],\"o\":\"{}\"}\n");
  /* strings: DATE, TIME and TIMESTAMP when every value is one, written one way */
  EXPECT("{\"d\":\"2020-01-02\",\"t\":\"12:30\",\"s\":\"2020-01-02 03:04:05\","
         "\"z\":\"2020-01-02T03:04:05.5+02:00\",\"v\":\"2020-01-02\"}\n"
         "{\"d\":\"2021-1-3\",\"t\":\"13:00:00.25\",\"s\":\"2020-01-03 00:00:00\","
         "\"z\":\"2020-01-02T23:00:00.0+02:00\",\"v\":\"x\"}\n",
         NULL, "d:tdD t:ttu s:tsu: z:tsu: v:u",
         "{\"d\":\"2020-01-02\",\"t\":\"12:30:00.000000\",\"s\":\"2020-01-02T03:04:05.000000\","
         "\"z\":\"2020-01-02T01:04:05.500000\",\"v\":\"2020-01-02\"}\n"
         "{\"d\":\"2021-01-03\",\"t\":\"13:00:00.250000\",\"s\":\"2020-01-03T00:00:00.000000\","
         "\"z\":\"2020-01-02T21:00:00.000000\",\"v\":\"x\"}\n");
  /* timestamps written two ways, without seconds, or with a zone after a space: text */
  EXPECT(
      "{\"a\":\"2020-01-02 03:04:05\",\"b\":\"2020-01-02 03:04\",\"c\":\"2020-01-02 03:04:05Z\"}\n"
      "{\"a\":\"2020-01-02T03:04:05\",\"b\":\"2020-01-02 03:05\",\"c\":\"2020-01-02 03:04:06Z\"}\n",
      NULL, "a:u b:u c:u",
      "{\"a\":\"2020-01-02 03:04:05\",\"b\":\"2020-01-02 03:04\",\"c\":\"2020-01-02 03:04:05Z\"}\n"
      "{\"a\":\"2020-01-02T03:04:05\",\"b\":\"2020-01-02 03:05\",\"c\":\"2020-01-02 "
      "03:04:06Z\"}\n");
  /* numbers in strings stay strings; booleans are BOOLEAN */
  EXPECT("{\"a\":\"123\",\"b\":true}\n{\"a\":\"1.5\",\"b\":false}\n", NULL, "a:u b:b",
         "{\"a\":\"123\",\"b\":true}\n{\"a\":\"1.5\",\"b\":false}\n");
  /* escapes */
  EXPECT("{\"s\":\"\\u00e9\\n\\\"q\\\"\\ud83d\\ude00\\\\\"}\n", NULL, "s:u",
         "{\"s\":\"\xc3\xa9\\n\\\"q\\\"\xf0\x9f\x98\x80\\\\\"}\n");
}

static void test_explicit_schema(void) {
  ing_jsonl_options o = {0};
  o.schema = "id INTEGER, price DECIMAL(8,2), day DATE, p STRUCT(x DOUBLE, tags VARCHAR[]), "
             "raw JSON";
  EXPECT("{\"id\":7,\"price\":1.005,\"day\":\"2024-03-01\",\"p\":{\"x\":1,\"tags\":[\"a\"]},"
         "\"raw\":{\"k\":[1,2.50]},\"ignored\":1}\n"
         "{\"id\":null,\"price\":\"-2.5\",\"p\":{\"tags\":null},\"raw\":\"s\"}\n",
         &o, "id:i price:d:8,2 day:tdD p:+s<x:g tags:+l<element:u>> raw:u",
         "{\"id\":7,\"price\":\"1.01\",\"day\":\"2024-03-01\",\"p\":{\"x\":1,\"tags\":[\"a\"]},"
         "\"raw\":\"{\\\"k\\\":[1,2.50]}\"}\n"
         "{\"id\":null,\"price\":\"-2.50\",\"day\":null,\"p\":{\"x\":null,\"tags\":null},"
         "\"raw\":\"\\\"s\\\"\"}\n");
  /* values that do not fit: bad rows naming the column path */
  o.schema = "id INTEGER, p STRUCT(x BIGINT)";
  EXPECT_ERROR("{\"id\":1,\"p\":{\"x\":1}}\n{\"id\":3000000000}\n", &o, TARN_EINVAL,
               "t.jsonl: line 2, column id: 3000000000 is not an INTEGER");
  EXPECT_ERROR("{\"id\":1,\"p\":{\"x\":1.5}}\n", &o, TARN_EINVAL,
               "t.jsonl: line 1, column p.x: 1.5 is not a BIGINT");
  EXPECT_ERROR("{\"p\":[1]}\n", &o, TARN_EINVAL,
               "t.jsonl: line 1, column p: an array is not a STRUCT(x BIGINT)");
  o.schema = "x TIMESTAMP, y BOOLEAN";
  EXPECT_ERROR("{\"x\":\"2020-01-01 00:00:00\",\"y\":1}\n", &o, TARN_EINVAL,
               "t.jsonl: line 1, column y: 1 is not a BOOLEAN");
  o.schema = "x BIGINT[";
  EXPECT_ERROR("{}\n", &o, TARN_EINVAL,
               "t.jsonl: schema: expected '[]' at offset 8 of 'x BIGINT['");
}

static void test_bad_rows(void) {
  ing_jsonl_options o = {0};
  /* In the sample: a bad line fails the open, naming the line. */
  EXPECT_ERROR("{\"a\":1}\n{\"a\":2,}\n", &o, TARN_EINVAL,
               "t.jsonl: line 2: invalid JSON at column 8");
  EXPECT_ERROR("{\"a\":1}\n[1,2]\n", &o, TARN_EINVAL, "t.jsonl: line 2: not a JSON object");
  EXPECT_ERROR("{\"a\":1,\"a\":2}\n", &o, TARN_EINVAL, "t.jsonl: line 1: duplicate key 'a'");
  EXPECT_ERROR("{\"a\":-01}\n", &o, TARN_EINVAL, "t.jsonl: line 1: invalid number '-01'");
  EXPECT_ERROR("{\"a\":1.}\n", &o, TARN_EINVAL, "t.jsonl: line 1: invalid number '1.'");
  EXPECT_ERROR("{\"a\":1} {\"a\":2}\n", &o, TARN_EINVAL,
               "t.jsonl: line 1: text after the JSON value at column 9");
  EXPECT_ERROR("{\"a\":\"x\\u0000y\"}\n", &o, TARN_EINVAL,
               "t.jsonl: line 1: a string holds \\u0000, which is not supported");
  EXPECT_ERROR("{\"a\":\"\xff\"}\n", &o, TARN_EINVAL, "t.jsonl: line 1, column a: invalid UTF-8");
  EXPECT_ERROR("", &o, TARN_EINVAL,
               "t.jsonl: no JSON object keys found (the file has no JSON objects)");
  /* Past the sample: a value of another type. */
  o.sample_rows = 2;
  EXPECT_ERROR("{\"a\":{\"b\":1}}\n{\"a\":{\"b\":2}}\n\n{\"a\":{\"b\":\"x\"}}\n", &o, TARN_EINVAL,
               "t.jsonl: line 4, column a.b: 'x' is not a BIGINT");
  /* Counted and skipped; keys not seen in the sample are ignored (as DuckDB does). */
  o.skip_bad_rows = 1;
  stream_result r;
  run("{\"a\":1}\n{\"a\":2}\nnot json\n{\"a\":\"x\"}\n{\"a\":3,\"new\":1}\n{\"a\":4,\"a\":5}\n", &o,
      &r);
  CHECK_EQ_INT(r.open_rc, 0);
  CHECK_EQ_INT(r.next_rc, 0);
  CHECK_EQ_INT(r.bad, 3);
  CHECK_EQ_STR(r.types, "a:l");
  CHECK_EQ_STR(r.rows, "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n");
  free(r.rows);
  /* Bad lines inside the sample are skipped before inference. */
  o.sample_rows = 0;
  run("{\"a\":1}\n{\"a\":\"x\",}\n{\"a\":2}\n", &o, &r);
  CHECK_EQ_INT(r.bad, 1);
  CHECK_EQ_STR(r.types, "a:l");
  free(r.rows);
}

static void test_batches_and_files(void) {
  ing_jsonl_options o = {0};
  o.batch_rows = 2;
  stream_result r;
  run("{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n", &o, &r);
  CHECK_EQ_INT(r.batches, 2);
  CHECK_EQ_STR(r.rows, "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n");
  free(r.rows);

  /* A file whose second line crosses the first 1 MiB chunk, then a bad line on a known line. */
  char path[] = "/tmp/tarn_test_jsonl_XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  if (fd < 0) return;
  FILE *f = fdopen(fd, "w");
  fputs("{\"id\":1,\"s\":\"short\"}\n{\"id\":2,\"s\":\"", f);
  size_t big = (size_t)3 << 20;
  for (size_t i = 0; i < big; i++)
    fputc('a' + (int)(i % 26), f);
  fputs("\"}\n{\"id\":3,\"s\":null}\r\n", f);
  fputs("{\"id\":4,\"s\":[1]}\n", f);
  fclose(f);
  memset(&o, 0, sizeof o);
  o.sample_rows = 3;
  struct ArrowArrayStream s;
  tarn_error err = {0};
  CHECK_EQ_INT(ing_jsonl_open(path, &o, &s, &err), 0);
  memset(&r, 0, sizeof r);
  stream_drain(&s, &r, ing_jsonl_bad_rows);
  s.release(&s);
  CHECK_EQ_STR(r.types, "id:l s:u");
  /* past the sample, a VARCHAR column takes any JSON value as its text */
  CHECK_EQ_INT(r.next_rc, 0);
  CHECK(strstr(r.rows, "{\"id\":4,\"s\":\"[1]\"}\n") != NULL);
  free(r.rows);
  o.schema = "id BIGINT, s VARCHAR";
  o.skip_bad_rows = 1;
  CHECK_EQ_INT(ing_jsonl_open(path, &o, &s, &err), 0);
  memset(&r, 0, sizeof r);
  stream_drain(&s, &r, ing_jsonl_bad_rows);
  s.release(&s);
  CHECK_EQ_INT(r.next_rc, 0);
  CHECK_EQ_INT(r.bad, 0);
  /* the long string is intact */
  const char *v = strstr(r.rows, "{\"id\":2,\"s\":\"abcdefghijklmnopqrstuvwxyzabc");
  CHECK(v != NULL);
  if (v) {
    const char *end = strchr(v + 13, '"');
    CHECK_EQ_INT(end - (v + 13), big);
  }
  CHECK(strstr(r.rows, "{\"id\":3,\"s\":null}\n{\"id\":4,\"s\":\"[1]\"}\n") != NULL);
  free(r.rows);
  unlink(path);

  memset(&r, 0, sizeof r);
  CHECK_EQ_INT(ing_jsonl_open("/nonexistent/x.jsonl", NULL, &s, &err), TARN_EIO);
}

int main(void) {
  RUN(test_keys_and_missing);
  RUN(test_nested);
  RUN(test_inference);
  RUN(test_explicit_schema);
  RUN(test_bad_rows);
  RUN(test_batches_and_files);
  return check_finish();
}
