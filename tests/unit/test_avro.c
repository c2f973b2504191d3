/*
 * Tests of the Avro container reader (src/avro/avro.c).
 *
 *  - Files written here with libavro's own writer (every kind, longs beyond 2^53, nested records,
 *    arrays, maps, unions; codecs null, deflate and, when libavro has it, snappy; small blocks so
 *    there are several) read back through tarn_avro and compared with the values written.
 *  - Iceberg's manifest-list-v2-1.avro from the shared data: the field names iceberg-rust's test
 *    states, the "format-version" metadata, and every value compared with what libavro's own file
 *    reader decodes from the same file (an independent decoder).
 *  - Every prefix and single-byte corruptions of the written files: an error with a message, or a
 *    clean end, never a crash (run under the sanitizers in the default build).
 *
 * With TARN_AVRO_WRITE_CORPUS=DIR set, the small files written here are also copied into DIR
 * (how tests/fuzz/corpus/avro/ was made).
 */
#include <avro.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "avro/avro.h"
#include "check.h"
#include "shared_data.h"

static const char SCHEMA[] =
    "{\"type\":\"record\",\"name\":\"T\",\"namespace\":\"ns\",\"fields\":["
    "{\"name\":\"n\",\"type\":\"null\"},"
    "{\"name\":\"b\",\"type\":\"boolean\"},"
    "{\"name\":\"i\",\"type\":\"int\"},"
    "{\"name\":\"l\",\"type\":\"long\"},"
    "{\"name\":\"f\",\"type\":\"float\"},"
    "{\"name\":\"d\",\"type\":\"double\"},"
    "{\"name\":\"by\",\"type\":\"bytes\"},"
    "{\"name\":\"s\",\"type\":\"string\"},"
    "{\"name\":\"fx\",\"type\":{\"type\":\"fixed\",\"name\":\"F4\",\"size\":4}},"
    "{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"Color\",\"symbols\":[\"RED\",\"GREEN\","
    "\"BLUE\"]}},"
    "{\"name\":\"arr\",\"type\":{\"type\":\"array\",\"items\":\"long\"}},"
    "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":\"string\"}},"
    "{\"name\":\"u\",\"type\":[\"null\",\"long\",\"string\"]},"
    "{\"name\":\"inner\",\"type\":{\"type\":\"record\",\"name\":\"Inner\",\"fields\":["
    "{\"name\":\"x\",\"type\":\"int\"},"
    "{\"name\":\"tags\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":"
    "\"Tag\",\"fields\":[{\"name\":\"k\",\"type\":\"string\"},{\"name\":\"v\",\"type\":[\"null\","
    "\"double\"]}]}}}]}}]}";

/* The expected values of record r. */
static int64_t exp_long(int r) {
  if (r == 0) return INT64_MIN;
  if (r == 1) return INT64_MAX;
  return ((int64_t)1 << 53) + 1 + (int64_t)r * 1000003 * (r % 2 ? -1 : 1);
}
static int32_t exp_int(int r) { return r == 2 ? INT32_MIN : r * 7919 - 1000; }
static double exp_double(int r) { return r / 7.0 - 3; }
static float exp_float(int r) { return (float)r * 0.25f; }
static void exp_string(int r, char *out, size_t cap) {
  snprintf(out, cap, "str-%d-%.*s", r, r % 9, "éabcdefgh");
}
static int exp_arr_len(int r) { return r % 4; }
static int exp_map_len(int r) { return r % 3; }
static int exp_tags(int r) { return r % 3; }

#define N_RECORDS 40

static int write_file(const char *path, const char *codec) {
  avro_schema_t schema;
  if (avro_schema_from_json_length(SCHEMA, sizeof SCHEMA - 1, &schema)) {
    fprintf(stderr, "schema: %s\n", avro_strerror());
    return -1;
  }
  unlink(path);
  avro_file_writer_t w;
  if (avro_file_writer_create_with_codec(path, schema, &w, codec, 512)) {
    avro_schema_decref(schema);
    return -1;
  }
  avro_value_iface_t *iface = avro_generic_class_from_schema(schema);
  avro_value_t rec, fld, item, br;
  avro_generic_value_new(iface, &rec);
  for (int r = 0; r < N_RECORDS; r++) {
    char s[64];
    avro_value_reset(&rec);
    avro_value_get_by_name(&rec, "n", &fld, NULL);
    avro_value_set_null(&fld);
    avro_value_get_by_name(&rec, "b", &fld, NULL);
    avro_value_set_boolean(&fld, r % 3 == 0);
    avro_value_get_by_name(&rec, "i", &fld, NULL);
    avro_value_set_int(&fld, exp_int(r));
    avro_value_get_by_name(&rec, "l", &fld, NULL);
    avro_value_set_long(&fld, exp_long(r));
    avro_value_get_by_name(&rec, "f", &fld, NULL);
    avro_value_set_float(&fld, exp_float(r));
    avro_value_get_by_name(&rec, "d", &fld, NULL);
    avro_value_set_double(&fld, exp_double(r));
    uint8_t bytes[8] = {0, 0xff, (uint8_t)r, 0, 1, 2, 3, 4};
    avro_value_get_by_name(&rec, "by", &fld, NULL);
    avro_value_set_bytes(&fld, bytes, (size_t)(r % 9));
    exp_string(r, s, sizeof s);
    avro_value_get_by_name(&rec, "s", &fld, NULL);
    avro_value_set_string(&fld, s);
    uint8_t fx[4] = {(uint8_t)r, 0xAB, 0, 0xCD};
    avro_value_get_by_name(&rec, "fx", &fld, NULL);
    avro_value_set_fixed(&fld, fx, 4);
    avro_value_get_by_name(&rec, "e", &fld, NULL);
    avro_value_set_enum(&fld, r % 3);
    avro_value_get_by_name(&rec, "arr", &fld, NULL);
    for (int k = 0; k < exp_arr_len(r); k++) {
      avro_value_append(&fld, &item, NULL);
      avro_value_set_long(&item, exp_long(r + k));
    }
    avro_value_get_by_name(&rec, "m", &fld, NULL);
    for (int k = 0; k < exp_map_len(r); k++) {
      char key[16], val[16];
      snprintf(key, sizeof key, "k%d", k);
      snprintf(val, sizeof val, "v%d", r * 10 + k);
      avro_value_add(&fld, key, &item, NULL, NULL);
      avro_value_set_string(&item, val);
    }
    avro_value_get_by_name(&rec, "u", &fld, NULL);
    avro_value_set_branch(&fld, r % 3, &br);
    if (r % 3 == 0)
      avro_value_set_null(&br);
    else if (r % 3 == 1)
      avro_value_set_long(&br, exp_long(r));
    else
      avro_value_set_string(&br, s);
    avro_value_get_by_name(&rec, "inner", &fld, NULL);
    avro_value_get_by_name(&fld, "x", &item, NULL);
    avro_value_set_int(&item, -r);
    avro_value_t tags, tag, tf;
    avro_value_get_by_name(&fld, "tags", &tags, NULL);
    for (int k = 0; k < exp_tags(r); k++) {
      avro_value_append(&tags, &tag, NULL);
      avro_value_get_by_name(&tag, "k", &tf, NULL);
      avro_value_set_string(&tf, k ? "second" : "first");
      avro_value_get_by_name(&tag, "v", &tf, NULL);
      avro_value_set_branch(&tf, k % 2, &br);
      if (k % 2)
        avro_value_set_double(&br, r + 0.5);
      else
        avro_value_set_null(&br);
    }
    if (avro_file_writer_append_value(w, &rec)) {
      fprintf(stderr, "append: %s\n", avro_strerror());
      return -1;
    }
  }
  avro_value_decref(&rec);
  avro_value_iface_decref(iface);
  avro_file_writer_close(w);
  avro_schema_decref(schema);
  return 0;
}

static uint8_t *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *p = malloc(n > 0 ? (size_t)n : 1);
  *len = p ? fread(p, 1, (size_t)n, f) : 0;
  fclose(f);
  return p;
}

static void check_record(int r, const tarn_avro_value *v) {
  char s[64];
  int64_t l = 0;
  int32_t i = 0;
  int b = -1;
  double d = 0;
  const char *str = NULL;
  const uint8_t *bytes = NULL;
  size_t len = 0;
  CHECK_EQ_INT(v->kind, TARN_AVRO_RECORD);
  CHECK_EQ_STR(v->name, "ns.T");
  CHECK_EQ_INT(v->u.record.n, 14);
  CHECK(tarn_avro_is_null(tarn_avro_field(v, "n")) && tarn_avro_field(v, "n") != NULL);
  CHECK(tarn_avro_get_bool(tarn_avro_field(v, "b"), &b) && b == (r % 3 == 0));
  CHECK(tarn_avro_get_int(tarn_avro_field(v, "i"), &i));
  CHECK_EQ_INT(i, exp_int(r));
  CHECK(tarn_avro_get_long(tarn_avro_field(v, "l"), &l));
  if (l != exp_long(r)) fprintf(stderr, "record %d: long %lld\n", r, (long long)l);
  CHECK(l == exp_long(r));
  CHECK(tarn_avro_field(v, "f")->kind == TARN_AVRO_FLOAT &&
        tarn_avro_field(v, "f")->u.f32 == exp_float(r));
  CHECK(tarn_avro_get_double(tarn_avro_field(v, "d"), &d) && d == exp_double(r));
  CHECK(tarn_avro_get_bytes(tarn_avro_field(v, "by"), &bytes, &len));
  uint8_t eb[8] = {0, 0xff, (uint8_t)r, 0, 1, 2, 3, 4};
  CHECK(len == (size_t)(r % 9) && memcmp(bytes, eb, len) == 0);
  exp_string(r, s, sizeof s);
  CHECK(tarn_avro_get_string(tarn_avro_field(v, "s"), &str, &len));
  CHECK_EQ_STR(str, s);
  CHECK_EQ_INT(len, strlen(s));
  const tarn_avro_value *fx = tarn_avro_field(v, "fx");
  uint8_t efx[4] = {(uint8_t)r, 0xAB, 0, 0xCD};
  CHECK(fx && fx->kind == TARN_AVRO_FIXED && fx->u.bytes.len == 4 &&
        memcmp(fx->u.bytes.data, efx, 4) == 0);
  CHECK_EQ_STR(fx ? fx->name : NULL, "ns.F4");
  const tarn_avro_value *e = tarn_avro_field(v, "e");
  static const char *colors[] = {"RED", "GREEN", "BLUE"};
  CHECK(e && e->kind == TARN_AVRO_ENUM && e->u.enm.index == r % 3);
  CHECK_EQ_STR(e ? e->u.enm.symbol : NULL, colors[r % 3]);
  const tarn_avro_value *arr = tarn_avro_field(v, "arr");
  CHECK(arr && arr->kind == TARN_AVRO_ARRAY && arr->u.array.n == (size_t)exp_arr_len(r));
  for (int k = 0; arr && k < exp_arr_len(r) && k < (int)arr->u.array.n; k++)
    CHECK(arr->u.array.items[k].kind == TARN_AVRO_LONG &&
          arr->u.array.items[k].u.i64 == exp_long(r + k));
  const tarn_avro_value *m = tarn_avro_field(v, "m");
  CHECK(m && m->kind == TARN_AVRO_MAP && m->u.map.n == (size_t)exp_map_len(r));
  for (int k = 0; k < exp_map_len(r); k++) {
    char key[16], val[16];
    snprintf(key, sizeof key, "k%d", k);
    snprintf(val, sizeof val, "v%d", r * 10 + k);
    str = NULL;
    CHECK(tarn_avro_get_string(tarn_avro_map_get(m, key), &str, NULL));
    CHECK_EQ_STR(str, val);
  }
  const tarn_avro_value *u = tarn_avro_field(v, "u");
  CHECK(u && u->branch == r % 3);
  if (r % 3 == 0)
    CHECK(tarn_avro_is_null(u));
  else if (r % 3 == 1)
    CHECK(tarn_avro_get_long(u, &l) && l == exp_long(r));
  else
    CHECK(tarn_avro_get_string(u, &str, NULL) && strcmp(str, s) == 0);
  const tarn_avro_value *inner = tarn_avro_field(v, "inner");
  CHECK_EQ_STR(inner ? inner->name : NULL, "ns.Inner");
  CHECK(tarn_avro_get_int(tarn_avro_field(inner, "x"), &i) && i == -r);
  const tarn_avro_value *tags = tarn_avro_field(inner, "tags");
  CHECK(tags && tags->kind == TARN_AVRO_ARRAY && tags->u.array.n == (size_t)exp_tags(r));
  for (int k = 0; tags && k < (int)tags->u.array.n; k++) {
    const tarn_avro_value *tag = &tags->u.array.items[k];
    CHECK(tarn_avro_get_string(tarn_avro_field(tag, "k"), &str, NULL));
    CHECK_EQ_STR(str, k ? "second" : "first");
    const tarn_avro_value *tv = tarn_avro_field(tag, "v");
    CHECK(tv && tv->branch == k % 2);
    if (k % 2)
      CHECK(tarn_avro_get_double(tv, &d) && d == r + 0.5);
    else
      CHECK(tarn_avro_is_null(tv));
  }
  CHECK(tarn_avro_field(v, "missing") == NULL);
  CHECK(tarn_avro_field(tarn_avro_field(v, "l"), "x") == NULL);
}

/* Opens and reads all of data; returns the record count, or the error code (message in err). */
static int read_everything(const uint8_t *data, size_t size, tarn_error *err, int verify) {
  tarn_avro_file *f;
  int rc = tarn_avro_open(data, size, &f, err);
  if (rc) return rc;
  int n = 0;
  tarn_avro_value v;
  while ((rc = tarn_avro_next(f, &v, err)) == 1) {
    if (verify) check_record(n, &v);
    n++;
  }
  if (rc < 0) {
    tarn_error again = {0};
    tarn_avro_value v2;
    CHECK(tarn_avro_next(f, &v2, &again) == rc); /* sticky */
  }
  tarn_avro_close(f);
  return rc < 0 ? rc : n;
}

static void copy_to_corpus(const char *name, const uint8_t *data, size_t len) {
  const char *dir = getenv("TARN_AVRO_WRITE_CORPUS");
  if (dir == NULL || *dir == '\0') return;
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (f) {
    fwrite(data, 1, len, f);
    fclose(f);
  }
}

/* Every prefix must fail with a message, or (when it ends on a block boundary) end cleanly with
 * fewer records; some flipped bytes must never crash and fail with a message when they fail. */
static void check_damage(const uint8_t *data, size_t size) {
  int errors = 0, clean = 0;
  for (size_t len = 0; len < size; len++) {
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, data, len);
    tarn_error err = {0};
    int rc = read_everything(copy, len, &err, 0);
    if (rc < 0) {
      errors++;
      if (err.message[0] == '\0' || err.code != rc)
        fprintf(stderr, "prefix %zu: code %d without message\n", len, rc);
      CHECK(err.message[0] != '\0' && strncmp(err.message, "avro: ", 6) == 0);
    } else {
      clean++;
      CHECK(rc < N_RECORDS);
    }
    free(copy);
  }
  CHECK(errors > (int)size / 2);
  CHECK(clean < 20);
  uint8_t *copy = malloc(size);
  int flip_errors = 0;
  for (size_t pos = 0; pos < size; pos += 3) {
    memcpy(copy, data, size);
    copy[pos] ^= (uint8_t)(0x5A + pos);
    tarn_error err = {0};
    int rc = read_everything(copy, size, &err, 0);
    if (rc < 0) {
      flip_errors++;
      CHECK(err.message[0] != '\0');
    }
  }
  free(copy);
  CHECK(flip_errors > 0);
}

static void test_roundtrip(const char *codec, int corpus) {
  char path[] = "/tmp/tarn_test_avro_XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  close(fd);
  if (write_file(path, codec) != 0) {
    if (strcmp(codec, "null") == 0 || strcmp(codec, "deflate") == 0)
      CHECK(!"libavro writes");
    else
      printf("skipping codec %s: libavro was built without it\n", codec);
    unlink(path);
    return;
  }
  size_t size;
  uint8_t *data = read_all(path, &size);
  unlink(path);
  CHECK(data != NULL);
  if (data == NULL) return;
  tarn_avro_file *f;
  tarn_error err = {0};
  CHECK_EQ_INT(tarn_avro_open(data, size, &f, &err), 0);
  if (err.code) fprintf(stderr, "%s\n", err.message);
  if (err.code == 0) {
    CHECK_EQ_STR(tarn_avro_codec(f), codec);
    size_t slen;
    CHECK(tarn_avro_meta(f, "avro.schema", &slen) != NULL && slen > 100);
    CHECK(tarn_avro_meta(f, "no.such.key", NULL) == NULL);
    CHECK(tarn_avro_meta_count(f) >= 1 && tarn_avro_meta_key(f, tarn_avro_meta_count(f)) == NULL);
    tarn_avro_close(f);
  }
  CHECK_EQ_INT(read_everything(data, size, &err, 1), N_RECORDS);
  if (err.code) fprintf(stderr, "%s: %s\n", codec, err.message);
  if (corpus) {
    char name[64];
    snprintf(name, sizeof name, "all-kinds-%s.avro", codec);
    copy_to_corpus(name, data, size);
  }
  check_damage(data, size);
  free(data);
}

static void test_null_codec(void) { test_roundtrip("null", 1); }
static void test_deflate_codec(void) { test_roundtrip("deflate", 1); }
static void test_snappy_codec(void) { test_roundtrip("snappy", 0); }

/* Hand-built files: framing errors the writer never produces. */
static void test_handmade(void) {
  tarn_error err = {0};
  tarn_avro_file *f = NULL;
  CHECK_EQ_INT(tarn_avro_open((const uint8_t *)"PAR1", 4, &f, &err), TARN_ECORRUPT);
  CHECK(strstr(err.message, "magic") != NULL);
  /* header: magic, 1 entry, "avro.schema" -> "long", end, sync (16 x 0x11) */
  uint8_t buf[128];
  size_t n = 0;
  memcpy(buf, "Obj\x01", 4);
  n = 4;
  buf[n++] = 2; /* 1 entry */
  buf[n++] = 22;
  memcpy(buf + n, "avro.schema", 11);
  n += 11;
  buf[n++] = 12;
  memcpy(buf + n, "\"long\"", 6);
  n += 6;
  buf[n++] = 0;
  memset(buf + n, 0x11, 16);
  n += 16;
  size_t header = n;
  /* block: 2 records, 11 bytes: 2^62-ish long (10 bytes) and -1 (1 byte) */
  buf[n++] = 4;
  buf[n++] = 22;
  const uint8_t big[10] = {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
  memcpy(buf + n, big, 10); /* zigzag 2^64-2 -> INT64_MAX */
  n += 10;
  buf[n++] = 1; /* -1 */
  memset(buf + n, 0x11, 16);
  n += 16;
  CHECK_EQ_INT(tarn_avro_open(buf, n, &f, &err), 0);
  tarn_avro_value v;
  CHECK_EQ_INT(tarn_avro_next(f, &v, &err), 1);
  CHECK(v.kind == TARN_AVRO_LONG && v.u.i64 == INT64_MAX);
  CHECK_EQ_INT(tarn_avro_next(f, &v, &err), 1);
  CHECK(v.kind == TARN_AVRO_LONG && v.u.i64 == -1);
  CHECK_EQ_INT(tarn_avro_next(f, &v, &err), 0);
  tarn_avro_close(f);
  copy_to_corpus("longs.avro", buf, n);
  /* a block that claims 2^40 bytes */
  uint8_t bad[128];
  memcpy(bad, buf, header);
  size_t m = header;
  bad[m++] = 2;
  const uint8_t huge[6] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x40}; /* zigzag 2^41 -> 2^40 */
  memcpy(bad + m, huge, 6);
  m += 6;
  tarn_error e2 = {0};
  CHECK_EQ_INT(tarn_avro_open(bad, m, &f, &e2), 0);
  CHECK_EQ_INT(tarn_avro_next(f, &v, &e2), TARN_ECORRUPT);
  CHECK(strstr(e2.message, "block 1") && strstr(e2.message, "1099511627776"));
  printf("message: %s\n", e2.message);
  tarn_avro_close(f);
  /* wrong sync marker */
  buf[n - 1] ^= 1;
  tarn_error e3 = {0};
  CHECK_EQ_INT(read_everything(buf, n, &e3, 0), TARN_ECORRUPT);
  CHECK(strstr(e3.message, "sync") != NULL);
  /* unsupported codec */
  tarn_avro_close(NULL);
}

static void test_iceberg_manifest_list(void) {
  const char *rel =
      "testdata/iceberg-rust/crates/iceberg/testdata/manifests_lists/manifest-list-v2-1.avro";
  size_t size;
  uint8_t *data = shared_data_read(rel, &size);
  CHECK(data != NULL);
  if (data == NULL) return;
  tarn_avro_file *f;
  tarn_error err = {0};
  CHECK_EQ_INT(tarn_avro_open(data, size, &f, &err), 0);
  if (err.code) {
    fprintf(stderr, "%s\n", err.message);
    free(data);
    return;
  }
  CHECK_EQ_STR(tarn_avro_meta(f, "format-version", NULL), "2");
  /* The libavro reader over the same bytes, as an independent decoder. */
  char path[4096];
  shared_data_path(path, sizeof path, rel);
  avro_file_reader_t reader;
  CHECK_EQ_INT(avro_file_reader(path, &reader), 0);
  avro_schema_t schema = avro_file_reader_get_writer_schema(reader);
  avro_value_iface_t *iface = avro_generic_class_from_schema(schema);
  avro_value_t ref;
  avro_generic_value_new(iface, &ref);
  static const char *names[] = {"manifest_path",
                                "manifest_length",
                                "partition_spec_id",
                                "content",
                                "sequence_number",
                                "min_sequence_number",
                                "added_snapshot_id",
                                "added_data_files_count",
                                "existing_data_files_count",
                                "deleted_data_files_count",
                                "added_rows_count",
                                "existing_rows_count",
                                "deleted_rows_count",
                                "partitions"};
  tarn_avro_value v;
  int n = 0, rc;
  while ((rc = tarn_avro_next(f, &v, &err)) == 1) {
    n++;
    CHECK_EQ_INT(v.u.record.n, 14);
    for (size_t i = 0; i < 14 && i < v.u.record.n; i++)
      CHECK_EQ_STR(v.u.record.names[i], names[i]);
    CHECK_EQ_INT(avro_file_reader_read_value(reader, &ref), 0);
    const char *path_s = NULL, *ref_s = NULL;
    size_t ref_len = 0;
    avro_value_t rf;
    CHECK(tarn_avro_get_string(tarn_avro_field(&v, "manifest_path"), &path_s, NULL));
    avro_value_get_by_name(&ref, "manifest_path", &rf, NULL);
    avro_value_get_string(&rf, &ref_s, &ref_len);
    CHECK_EQ_STR(path_s, ref_s);
    CHECK(path_s && strlen(path_s) > 5 && strcmp(path_s + strlen(path_s) - 5, ".avro") == 0);
    for (size_t i = 1; i < 13; i++) {
      int64_t got = 0, want = 0;
      avro_value_get_by_name(&ref, names[i], &rf, NULL);
      if (avro_value_get_type(&rf) == AVRO_INT32) {
        int32_t w32 = 0;
        avro_value_get_int(&rf, &w32);
        want = w32;
      } else {
        avro_value_get_long(&rf, &want);
      }
      CHECK(tarn_avro_get_long(tarn_avro_field(&v, names[i]), &got));
      if (got != want)
        fprintf(stderr, "%s: %lld != %lld\n", names[i], (long long)got, (long long)want);
      CHECK(got == want);
    }
    int64_t seq = 0, min_seq = 0, snap = 0;
    tarn_avro_get_long(tarn_avro_field(&v, "sequence_number"), &seq);
    tarn_avro_get_long(tarn_avro_field(&v, "min_sequence_number"), &min_seq);
    tarn_avro_get_long(tarn_avro_field(&v, "added_snapshot_id"), &snap);
    CHECK(min_seq <= seq && snap != 0);
    /* partitions: union [null, array<field_summary>] */
    const tarn_avro_value *parts = tarn_avro_field(&v, "partitions");
    avro_value_get_by_name(&ref, "partitions", &rf, NULL);
    int disc = -1;
    avro_value_get_discriminant(&rf, &disc);
    CHECK(parts && parts->branch == disc);
    if (parts && parts->kind == TARN_AVRO_ARRAY) {
      avro_value_t arr, el;
      size_t ref_n = 0;
      avro_value_get_current_branch(&rf, &arr);
      avro_value_get_size(&arr, &ref_n);
      CHECK_EQ_INT(parts->u.array.n, ref_n);
      for (size_t k = 0; k < ref_n && k < parts->u.array.n; k++) {
        avro_value_get_by_index(&arr, k, &el, NULL);
        avro_value_t cn;
        int want_b = -1, got_b = -2;
        avro_value_get_by_name(&el, "contains_null", &cn, NULL);
        avro_value_get_boolean(&cn, &want_b);
        CHECK(
            tarn_avro_get_bool(tarn_avro_field(&parts->u.array.items[k], "contains_null"), &got_b));
        CHECK_EQ_INT(got_b, want_b);
      }
    }
  }
  CHECK_EQ_INT(rc, 0);
  CHECK(n >= 1);
  CHECK(avro_file_reader_read_value(reader, &ref) != 0); /* both at the end */
  printf("manifest-list-v2-1.avro: %d entries\n", n);
  avro_value_decref(&ref);
  avro_value_iface_decref(iface);
  avro_schema_decref(schema);
  avro_file_reader_close(reader);
  tarn_avro_close(f);
  free(data);
}

int main(void) {
  RUN(test_handmade);
  RUN(test_null_codec);
  RUN(test_deflate_codec);
  RUN(test_snappy_codec);
  RUN(test_iceberg_manifest_list);
  return check_finish();
}
