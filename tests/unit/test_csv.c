/*
 * Tests of src/ingest/csv.c: hand-written CSV text read from memory (and from files, for records
 * that cross the reader's 1 MiB chunks), printed as canonical JSON lines and compared with rows
 * and types worked out by hand. The inference expectations are what DuckDB 1.5's read_csv gives
 * for the same text (checked once with the oracle; see docs/internals/import.md).
 */
#include "ingest/csv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "stream_check.h"

static void run(const char *csv, const ing_csv_options *o, stream_result *r) {
  struct ArrowArrayStream s;
  tarn_error err = {0};
  int rc = ing_csv_open_memory((const uint8_t *)csv, strlen(csv), "t.csv", o, &s, &err);
  stream_collect(rc, &err, &s, ing_csv_bad_rows, r);
}

static void run_file(const char *path, const ing_csv_options *o, stream_result *r) {
  struct ArrowArrayStream s;
  tarn_error err = {0};
  int rc = ing_csv_open(path, o, &s, &err);
  stream_collect(rc, &err, &s, ing_csv_bad_rows, r);
}

/* The type inferred for a one-column file holding the given lines. */
static void infer_one(const char *lines, const char *format) {
  char csv[512];
  snprintf(csv, sizeof csv, "x\n%s", lines);
  stream_result r;
  run(csv, NULL, &r);
  char want[64];
  snprintf(want, sizeof want, "x:%s", format);
  CHECK_EQ_INT(r.open_rc, 0);
  CHECK_EQ_STR(r.types, want);
  if (strcmp(r.types, want) != 0) fprintf(stderr, "  for %s\n", lines);
  free(r.rows);
}

static void test_product_catalog(void) {
  EXPECT("product_id,name,price,category,updated_at\n"
         "1,Widget,9.99,tools,2024-01-15 10:30:00\n"
         "2,\"Gadget, large\",19.5,toys,2024-01-16T08:00:00.250\n"
         "3,\"Say \"\"hi\"\"\",,\"\",2024-02-29 23:59:59.999999\n",
         NULL, "product_id:l name:u price:g category:u updated_at:tsu:",
         "{\"product_id\":1,\"name\":\"Widget\",\"price\":9.99,\"category\":\"tools\","
         "\"updated_at\":\"2024-01-15T10:30:00.000000\"}\n"
         "{\"product_id\":2,\"name\":\"Gadget, large\",\"price\":19.5,\"category\":\"toys\","
         "\"updated_at\":\"2024-01-16T08:00:00.250000\"}\n"
         "{\"product_id\":3,\"name\":\"Say \\\"hi\\\"\",\"price\":null,\"category\":null,"
         "\"updated_at\":\"2024-02-29T23:59:59.999999\"}\n");
}

static void test_quotes_and_line_ends(void) {
  /* Embedded LF and CRLF inside quotes, CRLF record ends, a quoted delimiter. */
  EXPECT("a,b\r\n\"x\ny\",1\r\n\"p\r\nq\",2\r\n\"c,d\",3\r\n", NULL, "a:u b:l",
         "{\"a\":\"x\\ny\",\"b\":1}\n{\"a\":\"p\\r\\nq\",\"b\":2}\n{\"a\":\"c,d\",\"b\":3}\n");
  /* CR-only line ends, and no line end after the last record. */
  EXPECT("a,b\r1,2\r3,4", NULL, "a:l b:l", "{\"a\":1,\"b\":2}\n{\"a\":3,\"b\":4}\n");
  /* A quote inside an unquoted field is data; spaces around a quoted field are not. */
  EXPECT("a,b\nx\"y,1\n  \"q\" ,2\n", NULL, "a:u b:l",
         "{\"a\":\"x\\\"y\",\"b\":1}\n{\"a\":\"q\",\"b\":2}\n");
  /* Doubled quotes only, and an empty quoted field (a null, as in DuckDB). */
  EXPECT("a,b\n\"\"\"\"\"\",1\n\"\",2\n", NULL, "a:u b:l",
         "{\"a\":\"\\\"\\\"\",\"b\":1}\n{\"a\":null,\"b\":2}\n");
  /* Spaces are kept in text; blank lines are skipped when there are several columns. */
  EXPECT("a,b\n x ,1\n\n\n y,2\n", NULL, "a:u b:l",
         "{\"a\":\" x \",\"b\":1}\n{\"a\":\" y\",\"b\":2}\n");
  /* With one column a blank line is a null row. */
  EXPECT("a\n1\n\n3\n", NULL, "a:l", "{\"a\":1}\n{\"a\":null}\n{\"a\":3}\n");
  /* A UTF-8 byte order mark is not part of the first name. */
  EXPECT("\xef\xbb\xbf"
         "id,v\n1,\xc3\xa9\n",
         NULL, "id:l v:u", "{\"id\":1,\"v\":\"\xc3\xa9\"}\n");
  /* Trailing empty field: a null in the last column. */
  EXPECT("a,b,c\n1,2,\n", NULL, "a:l b:l c:u", "{\"a\":1,\"b\":2,\"c\":null}\n");
}

static void test_delimiters(void) {
  ing_csv_options o = {0};
  o.delimiter = '|';
  EXPECT("a|b\n1,5|\"x|y\"\n", &o, "a:u b:u", "{\"a\":\"1,5\",\"b\":\"x|y\"}\n");
  o.delimiter = '\t';
  EXPECT("a\tb\n1\t2.5\n", &o, "a:l b:g", "{\"a\":1,\"b\":2.5}\n");
  o.delimiter = ';';
  EXPECT("a;b\n1;2\n", &o, "a:l b:l", "{\"a\":1,\"b\":2}\n");
  o.delimiter = '"';
  stream_result r;
  run("a\n", &o, &r);
  CHECK_EQ_INT(r.open_rc, TARN_EINVAL);
  free(r.rows);
}

static void test_header_names(void) {
  /* DuckDB's renaming: empty names become column<i>, repeats (ignoring case) get _1, _2. */
  EXPECT("a,a,,b,A\n1,2,3,4,5\n", NULL, "a:l a_1:l column2:l b:l A_2:l",
         "{\"a\":1,\"a_1\":2,\"column2\":3,\"b\":4,\"A_2\":5}\n");
  /* a suffix already taken is skipped; the counter is per name (checked with DuckDB) */
  EXPECT("a,A,a_1,a,a_2,,column5,b\n1,2,3,4,5,6,7,8\n", NULL,
         "a:l A_1:l a_1_1:l a_2:l a_2_1:l column5:l column5_1:l b:l",
         "{\"a\":1,\"A_1\":2,\"a_1_1\":3,\"a_2\":4,\"a_2_1\":5,\"column5\":6,\"column5_1\":7,"
         "\"b\":8}\n");
  ing_csv_options o = {0};
  o.no_header = 1;
  EXPECT("1,x\n2,y\n", &o, "column0:l column1:u",
         "{\"column0\":1,\"column1\":\"x\"}\n{\"column0\":2,\"column1\":\"y\"}\n");
  /* A header and no rows: VARCHAR columns, no batches. */
  EXPECT("a,b\n", NULL, "a:u b:u", "");
  stream_result r;
  run("", NULL, &r);
  CHECK_EQ_INT(r.open_rc, TARN_EINVAL);
  CHECK(strstr(r.message, "t.csv: the file is empty") != NULL);
  free(r.rows);
}

static void test_inference(void) {
  infer_one("1\n-5\n0\n", "l");
  infer_one("1\n1.5\n", "g"); /* ints and decimals: DOUBLE */
  infer_one(".5\n5.\n1e5\n-2E-3\n", "g");
  infer_one("1.5\nNaN\ninf\n-Infinity\n", "g");
  infer_one("9223372036854775807\n-9223372036854775808\n", "l");
  infer_one("9223372036854775808\n", "g"); /* past int64: DOUBLE */
  infer_one("007\n", "u");                 /* leading zeros stay text */
  infer_one("00.5\n", "u");
  infer_one("-01\n", "l"); /* ... but not after a minus (as DuckDB) */
  infer_one("+5\n", "u");
  infer_one("1 000\n", "u");
  infer_one(" 5\n6 \n", "l"); /* spaces around numbers are ignored */
  infer_one("true\nFALSE\nT\nf\nyes\nNo\n", "b");
  infer_one("1\ntrue\n", "u"); /* 1/0 are numbers, so this is mixed */
  infer_one(" true\n", "u");   /* booleans are not trimmed */
  infer_one("2020-01-02\n2021-1-3\n", "tdD");
  infer_one("2020-02-30\n", "u"); /* not a calendar date */
  infer_one("2020-01-02\nabc\n", "u");
  infer_one("2020-01-02\n2020-01-02 03:04:05\n", "u"); /* DATE and TIMESTAMP do not mix */
  infer_one("2020-01-02 03:04:05\n2020-01-02T03:04\n2020-01-02 3:04:05.1234567\n", "tsu:");
  infer_one("2020-01-02 03:04:05\n2020-01-02T03:04:05Z\n", "tsu:UTC");
  infer_one("2020-01-02 03:04:05+02\n2020-01-02 03:04:05.5-08:00\n", "tsu:UTC");
  infer_one("2020-01-02 03\n", "u");
  infer_one("12:30\n1:02:03.5\n", "ttu");
  infer_one("1.5\n12:00:00\n", "u");
  infer_one("\n\n", "u"); /* nothing but nulls */
  infer_one("1\n\n2\n", "l");
  infer_one("NULL\n5\n", "u"); /* only the empty field is null */
}

static void test_values(void) {
  /* Conversions checked value by value: timestamps with zones land in UTC; fractions past
   * microseconds are dropped; 24:00:00 is the next day; doubles read exactly. */
  EXPECT("t,z,d,x\n"
         "2020-01-02 03:04:05.1234567,2020-01-02 03:04:05+02:00,0.1,-0\n"
         "2020-01-02 24:00:00,2020-01-02T03:04:05-0130,1e-7,12\n",
         NULL, "t:tsu: z:tsu:UTC d:g x:l",
         "{\"t\":\"2020-01-02T03:04:05.123456\",\"z\":\"2020-01-02T01:04:05.000000Z\","
         "\"d\":0.1,\"x\":0}\n"
         "{\"t\":\"2020-01-03T00:00:00.000000\",\"z\":\"2020-01-02T04:34:05.000000Z\","
         "\"d\":1e-07,\"x\":12}\n");
  EXPECT("d,e\n1969-12-31,0001-01-01\n", NULL, "d:tdD e:tdD",
         "{\"d\":\"1969-12-31\",\"e\":\"0001-01-01\"}\n");
}

static void test_explicit_schema(void) {
  ing_csv_options o = {0};
  o.schema = "id INTEGER, price DECIMAL(10,2), day DATE, flag BOOLEAN, note VARCHAR, "
             "at TIMESTAMP, small SMALLINT, f FLOAT, tz TIMESTAMP WITH TIME ZONE";
  EXPECT("a,b,c,d,e,f,g,h,i\n"
         "007,12.345,2024-03-01,1,007,2024-03-01 12:00:00,-32768,0.5,2024-03-01 12:00:00Z\n"
         "+8,-0.005,,0,,,,,\n",
         &o, "id:i price:d:10,2 day:tdD flag:b note:u at:tsu: small:s f:f tz:tsu:UTC",
         "{\"id\":7,\"price\":\"12.35\",\"day\":\"2024-03-01\",\"flag\":true,\"note\":\"007\","
         "\"at\":\"2024-03-01T12:00:00.000000\",\"small\":-32768,\"f\":0.5,"
         "\"tz\":\"2024-03-01T12:00:00.000000Z\"}\n"
         "{\"id\":8,\"price\":\"-0.01\",\"day\":null,\"flag\":false,\"note\":null,\"at\":null,"
         "\"small\":null,\"f\":null,\"tz\":null}\n");
  /* Schema names win over the header; the header must have as many columns. */
  o.schema = "x BIGINT, \"y z\" VARCHAR";
  EXPECT("a,b\n1,2\n", &o, "x:l y z:u", "{\"x\":1,\"y z\":\"2\"}\n");
  stream_result r;
  run("a,b,c\n1,2,3\n", &o, &r);
  CHECK_EQ_INT(r.open_rc, TARN_EINVAL);
  CHECK(strstr(r.message, "the header has 3 columns, the schema 2") != NULL);
  free(r.rows);
  /* A value that does not fit: the row is bad. */
  o.schema = "x TINYINT, y DECIMAL(4,2)";
  run("x,y\n127,99.99\n128,1\n", &o, &r);
  CHECK_EQ_INT(r.next_rc, EINVAL);
  CHECK_EQ_STR(r.message, "t.csv: line 3, column x: '128' is not a TINYINT");
  free(r.rows);
  run("x,y\n1,100\n", &o, &r);
  CHECK_EQ_STR(r.message, "t.csv: line 2, column y: '100' is not a DECIMAL(4,2)");
  free(r.rows);
  /* Schema syntax errors. */
  const char *bad[] = {"x",         "x BIGINTEGER",   "x DECIMAL(40,2)",
                       "x BIGINT,", "x BIGINT y INT", "x BIGINT, X INT",
                       "",          "x STRUCT(a INT)"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    o.schema = bad[i];
    run("x\n1\n", &o, &r);
    CHECK_EQ_INT(r.open_rc, TARN_EINVAL);
    CHECK(strstr(r.message, "t.csv: ") == r.message);
    free(r.rows);
  }
}

static void test_bad_rows(void) {
  ing_csv_options o = {0};
  o.sample_rows = 2;
  stream_result r;
  /* Past the sample, a value that is not of the inferred type fails, naming line and column. */
  run("id,price\n1,1.5\n2,2.5\n3,abc\n4,4\n", &o, &r);
  CHECK_EQ_INT(r.open_rc, 0);
  CHECK_EQ_INT(r.next_rc, EINVAL);
  CHECK_EQ_INT(r.code, TARN_EINVAL);
  CHECK_EQ_STR(r.message, "t.csv: line 4, column price: 'abc' is not a DOUBLE");
  free(r.rows);
  /* The same with skip_bad_rows: counted and skipped. */
  o.skip_bad_rows = 1;
  run("id,price\n1,1.5\n2,2.5\n3,abc\n4,4\n5\n6,6,6\n", &o, &r);
  CHECK_EQ_INT(r.next_rc, 0);
  CHECK_EQ_INT(r.bad, 3);
  CHECK_EQ_STR(r.rows, "{\"id\":1,\"price\":1.5}\n{\"id\":2,\"price\":2.5}\n"
                       "{\"id\":4,\"price\":4}\n");
  free(r.rows);
  /* Wrong field counts, in the sample too; line numbers count the lines inside quotes. */
  o.skip_bad_rows = 0;
  o.sample_rows = 0;
  run("a,b\n\"x\ny\",1\n2\n", &o, &r);
  CHECK_EQ_INT(r.open_rc, TARN_EINVAL);
  CHECK_EQ_STR(r.message, "t.csv: line 4: expected 2 fields, found 1");
  free(r.rows);
  run("a,b\n1,2\n3,4,5\n", &o, &r);
  CHECK_EQ_STR(r.message, "t.csv: line 3: expected 2 fields, found 3");
  free(r.rows);
  /* An unterminated quote runs to the end of the file. */
  run("a,b\n1,2\n\"open,3\n4,5\n", &o, &r);
  CHECK_EQ_STR(r.message, "t.csv: line 3: unterminated quoted field");
  free(r.rows);
  run("a,b\n\"x\"y,1\n", &o, &r);
  CHECK_EQ_STR(r.message, "t.csv: line 2: unexpected character after a closing quote");
  free(r.rows);
  run("a,b\n1,\xff\xfe\n", &o, &r);
  CHECK_EQ_STR(r.message, "t.csv: line 2, column b: invalid UTF-8");
  free(r.rows);
  /* Skipping bad rows inside the sample keeps them out of inference. */
  o.skip_bad_rows = 1;
  run("a,b\n1,2\n\"x\"y,1\n3,\xff\n4,5,6\n7,8\n", &o, &r);
  CHECK_EQ_INT(r.open_rc, 0);
  CHECK_EQ_INT(r.bad, 3);
  CHECK_EQ_STR(r.types, "a:l b:l");
  CHECK_EQ_STR(r.rows, "{\"a\":1,\"b\":2}\n{\"a\":7,\"b\":8}\n");
  free(r.rows);
  /* Bad rows past the sample with an explicit schema; the stream stays failed. */
  o.skip_bad_rows = 0;
  o.schema = "a DATE";
  run("a\n2020-01-01\n2020-13-01\n", &o, &r);
  CHECK_EQ_STR(r.message, "t.csv: line 3, column a: '2020-13-01' is not a DATE");
  free(r.rows);
}

static void test_batches(void) {
  ing_csv_options o = {0};
  o.batch_rows = 2;
  o.sample_rows = 3;
  stream_result r;
  run("a\n1\n2\n3\n4\n5\n", &o, &r);
  CHECK_EQ_INT(r.batches, 3);
  CHECK_EQ_INT(r.max_batch, 2);
  CHECK_EQ_STR(r.rows, "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n{\"a\":4}\n{\"a\":5}\n");
  free(r.rows);
}

/* Records crossing the 1 MiB read chunks: a long quoted field with embedded quotes, and a CRLF
 * split between two chunks. */
static void test_chunks(void) {
  char path[] = "/tmp/tarn_test_csv_XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  if (fd < 0) return;
  FILE *f = fdopen(fd, "w");
  size_t chunk = (size_t)1 << 20;
  /* header "a,b\r\n" (5 bytes); then rows "i,xxxx...\r\n" until just before the boundary. */
  fputs("a,b\r\n", f);
  long rows = 0;
  /* a row whose \r is the last byte of the first chunk */
  size_t fill = chunk - 5 - 3; /* "0," + fill bytes + "\r" */
  fputs("0,", f);
  for (size_t i = 0; i < fill; i++)
    fputc('x', f);
  fputs("\r\n", f);
  rows++;
  for (int i = 1; i < 10; i++) {
    fprintf(f, "%d,z\r\n", i);
    rows++;
  }
  fclose(f);
  stream_result r;
  ing_csv_options o = {0};
  run_file(path, &o, &r);
  CHECK_EQ_INT(r.open_rc, 0);
  CHECK_EQ_INT(r.next_rc, 0);
  CHECK_EQ_STR(r.types, "a:l b:u");
  /* ten rows: the CRLF split between chunks is one line end, not a blank line between */
  size_t lines = 0;
  for (const char *c = r.rows; *c; c++)
    lines += *c == '\n';
  CHECK_EQ_INT(lines, rows);
  CHECK(strstr(r.rows, "{\"a\":1,\"b\":\"z\"}\n") != NULL);
  free(r.rows);
  unlink(path);

  /* Now a well-formed big quoted field with doubled quotes. */
  memcpy(path + strlen(path) - 6, "XXXXXX", 6);
  fd = mkstemp(path);
  CHECK(fd >= 0);
  if (fd < 0) return;
  f = fdopen(fd, "w");
  fputs("a,b\n", f);
  fputs("1,\"", f);
  size_t quotes = 0, newlines = 0;
  for (size_t i = 0; i < 3 * chunk; i++) {
    if (i % 1000 == 999) {
      fputc('\n', f);
      newlines++;
    } else if (i % 777 == 776) {
      fputs("\"\"", f);
      quotes++;
    } else {
      fputc('y', f);
    }
  }
  fputs("\"\n2,short\n3,\"\"\n", f);
  fputs("4,x\n5\n", f); /* a bad row on a known line */
  fclose(f);
  memset(&o, 0, sizeof o);
  run_file(path, &o, &r);
  CHECK_EQ_INT(r.open_rc, TARN_EINVAL);
  char want[128];
  snprintf(want, sizeof want, "%s: line %zu: expected 2 fields, found 1", path, 6 + newlines);
  CHECK_EQ_STR(r.message, want);
  free(r.rows);
  o.skip_bad_rows = 1;
  run_file(path, &o, &r);
  CHECK_EQ_INT(r.open_rc, 0);
  CHECK_EQ_INT(r.bad, 1);
  CHECK_EQ_STR(r.types, "a:l b:u");
  /* the long value: 3 MiB characters with "" turned into " */
  const char *first = strstr(r.rows, "\"b\":\"");
  CHECK(first != NULL);
  if (first) {
    const char *end = strstr(first, "\"}\n");
    size_t escaped = (size_t)(end - first) - 5;
    /* each quote prints as \" and each newline as \n: two bytes */
    CHECK_EQ_INT(escaped, 3 * chunk - quotes - newlines + 2 * quotes + 2 * newlines);
  }
  CHECK(strstr(r.rows,
               "{\"a\":2,\"b\":\"short\"}\n{\"a\":3,\"b\":null}\n{\"a\":4,\"b\":\"x\"}\n") != NULL);
  free(r.rows);
  unlink(path);

  /* A missing file. */
  run_file("/nonexistent/x.csv", &o, &r);
  CHECK_EQ_INT(r.open_rc, TARN_EIO);
  CHECK(strstr(r.message, "/nonexistent/x.csv: cannot open") == r.message);
  free(r.rows);
}

/* gzip files are decompressed as they are read, concatenated members included; a truncated one
 * is corrupt data. */
static void test_gzip(void) {
  char path[] = "/tmp/tarn_test_csv_gz_XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  if (fd < 0) return;
  close(fd);
  gzFile g = gzopen(path, "wb");
  gzputs(g, "id,name\n");
  for (int i = 0; i < 50000; i++)
    gzprintf(g, "%d,\"n %d\"\n", i, i);
  gzclose(g);
  g = gzopen(path, "ab"); /* a second member */
  gzputs(g, "50000,last\n");
  gzclose(g);
  stream_result r;
  run_file(path, NULL, &r);
  CHECK_EQ_INT(r.open_rc, 0);
  CHECK_EQ_INT(r.next_rc, 0);
  CHECK_EQ_STR(r.types, "id:l name:u");
  CHECK(strstr(r.rows, "{\"id\":49999,\"name\":\"n 49999\"}\n{\"id\":50000,\"name\":\"last\"}\n") !=
        NULL);
  size_t lines = 0;
  for (const char *c = r.rows; *c; c++)
    lines += *c == '\n';
  CHECK_EQ_INT(lines, 50001);
  free(r.rows);
  /* cut the file short */
  FILE *f = fopen(path, "rb");
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fclose(f);
  CHECK(truncate(path, size / 2) == 0);
  run_file(path, NULL, &r);
  CHECK_EQ_INT(r.open_rc ? r.open_rc : r.code, TARN_ECORRUPT);
  CHECK(strstr(r.message, "gzip stream is truncated") != NULL);
  free(r.rows);
  unlink(path);
}

static void test_schema_text(void) {
  ing_field *f = NULL;
  int n = 0;
  tarn_error err = {0};
  CHECK_EQ_INT(ing_schema_parse("a STRUCT(b BIGINT[], \"c d\" DECIMAL(5,1)), e INT[][], f JSON", &f,
                                &n, &err),
               0);
  CHECK_EQ_INT(n, 3);
  if (n == 3) {
    char buf[256];
    CHECK_EQ_STR(ing_type_name(&f[0], buf, sizeof buf), "STRUCT(b BIGINT[], c d DECIMAL(5,1))");
    CHECK_EQ_STR(ing_type_name(&f[1], buf, sizeof buf), "INTEGER[][]");
    CHECK_EQ_STR(ing_type_name(&f[2], buf, sizeof buf), "JSON");
    CHECK_EQ_STR(f[1].children[0].children[0].name, "element");
  }
  ing_fields_free(f, n);
}

static void test_scalars(void) {
  int64_t i;
  double d;
  int32_t days;
  __int128 dec;
  int shape;
  CHECK(ing_parse_int64("-9223372036854775808", 20, 1, &i) && i == INT64_MIN);
  CHECK(!ing_parse_int64("9223372036854775808", 19, 0, &i));
  CHECK(ing_parse_double("0.1", 3, 1, &d) && d == 0.1);
  CHECK(ing_parse_double("1e400", 5, 1, &d) && d > 1e308);
  CHECK(!ing_parse_double("1e", 2, 0, &d));
  CHECK(!ing_parse_double("0x10", 4, 0, &d));
  CHECK(ing_parse_date("1970-01-01", 10, &days) && days == 0);
  CHECK(ing_parse_date("2000-03-01", 10, &days) && days == 11017);
  CHECK(ing_parse_date("1900-02-28", 10, &days) && days == -25509);
  CHECK(!ing_parse_date("1900-02-29", 10, &days));
  CHECK(ing_parse_date("2000-02-29", 10, &days));
  CHECK(ing_parse_decimal("-12.345", 7, 5, 2, &dec) && dec == -1235);
  CHECK(ing_parse_decimal("0.004", 5, 3, 2, &dec) && dec == 0);
  CHECK(!ing_parse_decimal("999.995", 7, 5, 2, &dec)); /* rounds to 1000.00: too wide */
  CHECK(ing_parse_timestamp("1970-01-01T00:00:01.5Z", 22, &i, &shape) && i == 1500000 &&
        shape == (ING_TS_T | ING_TS_SECONDS | ING_TS_FRACTION | ING_TS_ZULU));
  CHECK(ing_parse_timestamp("1969-12-31 23:59:59", 19, &i, &shape) && i == -1000000);
  CHECK(ing_utf8_valid((const uint8_t *)"\xf0\x9f\x98\x80", 4));
  CHECK(!ing_utf8_valid((const uint8_t *)"\xed\xa0\x80", 3)); /* a surrogate */
  CHECK(!ing_utf8_valid((const uint8_t *)"\xc0\xaf", 2));     /* overlong */
}

int main(void) {
  RUN(test_product_catalog);
  RUN(test_quotes_and_line_ends);
  RUN(test_delimiters);
  RUN(test_header_names);
  RUN(test_inference);
  RUN(test_values);
  RUN(test_explicit_schema);
  RUN(test_bad_rows);
  RUN(test_batches);
  RUN(test_chunks);
  RUN(test_gzip);
  RUN(test_schema_text);
  RUN(test_scalars);
  return check_finish();
}
