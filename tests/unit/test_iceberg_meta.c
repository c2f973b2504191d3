/*
 * Iceberg table metadata (src/table/iceberg/iceberg_meta.c) and the exact-integer JSON parser
 * under it (src/common/json_exact.c): the iceberg-java and iceberg-rust test documents (valid
 * ones parse with the values those projects' tests assert, invalid ones are refused with a
 * message), plus hand-written bad inputs.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "common/json_exact.h"
#include "shared_data.h"
#include "table/iceberg/iceberg_meta.h"

static int parse_text(const char *text, tarn_arena *a, iceberg_meta **m, tarn_error *err) {
  return iceberg_meta_parse(text, strlen(text), a, m, err);
}

static iceberg_meta *load_shared(const char *rel, tarn_arena *a) {
  char path[4096];
  shared_data_path(path, sizeof path, rel);
  iceberg_meta *m = NULL;
  tarn_error err = {0};
  int rc = iceberg_meta_load_file(path, a, &m, &err);
  if (rc) fprintf(stderr, "%s: %s\n", rel, err.message);
  CHECK_EQ_INT(rc, 0);
  return m;
}

/* Every shared document: valid names parse, invalid names are refused with a message. */
static int n_valid, n_invalid;

static bool name_says_invalid(const char *name) {
  return strstr(name, "Missing") || strstr(name, "Unsupported") || strstr(name, "NotFound") ||
         strstr(name, "invalid") || strstr(name, "Invalid") || strstr(name, "NoValid");
}

static void run_dir(const char *rel, const char *prefix) {
  char dir[4096];
  shared_data_path(dir, sizeof dir, rel);
  DIR *d = opendir(dir);
  CHECK(d != NULL);
  if (d == NULL) return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    size_t n = strlen(e->d_name);
    if (strncmp(e->d_name, prefix, strlen(prefix)) != 0 || n < 5 ||
        strcmp(e->d_name + n - 5, ".json") != 0)
      continue;
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    tarn_arena a = {0};
    iceberg_meta *m = NULL;
    tarn_error err = {0};
    int rc = iceberg_meta_load_file(path, &a, &m, &err);
    if (name_says_invalid(e->d_name)) {
      n_invalid++;
      if (rc == 0) fprintf(stderr, "accepted invalid %s\n", e->d_name);
      CHECK(rc != 0 && m == NULL && err.message[0] != '\0');
      printf("  rejected %-50s %s\n", e->d_name, strstr(err.message, "iceberg metadata"));
    } else {
      n_valid++;
      if (rc != 0) fprintf(stderr, "refused valid %s: %s\n", e->d_name, err.message);
      CHECK(rc == 0 && m != NULL);
    }
    tarn_arena_free(&a);
  }
  closedir(d);
}

static void test_shared_documents(void) {
  run_dir("testdata/iceberg-java/core/src/test/resources", "TableMetadata");
  run_dir("testdata/iceberg-rust/crates/iceberg/testdata/table_metadata", "");
  run_dir("testdata/iceberg-rust/crates/iceberg/testdata", "example_table_metadata_v2");
  printf("shared documents: %d valid accepted, %d invalid rejected\n", n_valid, n_invalid);
  CHECK(n_valid >= 10);
  CHECK(n_invalid >= 8);
}

/* TestTableMetadata / table_metadata.rs values for TableMetadataV2Valid.json. */
static void test_v2_valid_values(void) {
  tarn_arena a = {0};
  iceberg_meta *m =
      load_shared("testdata/iceberg-java/core/src/test/resources/TableMetadataV2Valid.json", &a);
  if (m == NULL) return;
  CHECK_EQ_INT(m->format_version, 2);
  CHECK_EQ_STR(m->table_uuid, "9c12d441-03fe-4693-9a96-a0705ddf69c1");
  CHECK_EQ_STR(m->location, "s3://bucket/test/location");
  CHECK_EQ_INT(m->last_sequence_number, 34);
  CHECK_EQ_INT(m->last_updated_ms, 1602638573590LL);
  CHECK_EQ_INT(m->last_column_id, 3);
  CHECK_EQ_INT(m->n_schemas, 2);
  const iceberg_schema *s = iceberg_meta_current_schema(m);
  CHECK(s != NULL && s->schema_id == 1);
  if (s) {
    CHECK_EQ_INT(s->type->n_fields, 3);
    CHECK_EQ_INT(s->type->fields[1].id, 2);
    CHECK_EQ_STR(s->type->fields[1].name, "y");
    CHECK(s->type->fields[1].required);
    CHECK_EQ_STR(s->type->fields[1].doc, "comment");
    CHECK_EQ_INT(s->type->fields[2].type->primitive, ICEBERG_LONG);
    CHECK_EQ_INT(s->n_identifier_field_ids, 2);
    CHECK(iceberg_type_find_field(s->type, 3) == &s->type->fields[2]);
  }
  const iceberg_partition_spec *spec = iceberg_meta_default_spec(m);
  CHECK(spec != NULL && spec->spec_id == 0 && spec->n_fields == 1);
  if (spec && spec->n_fields == 1) {
    CHECK_EQ_STR(spec->fields[0].transform, "identity");
    CHECK_EQ_INT(spec->fields[0].source_ids[0], 1);
    CHECK_EQ_INT(spec->fields[0].field_id, 1000);
    CHECK_EQ_STR(spec->fields[0].name, "x");
  }
  CHECK_EQ_INT(m->last_partition_id, 1000);
  const iceberg_sort_order *o = iceberg_meta_sort_order(m, m->default_sort_order_id);
  CHECK(o != NULL && o->order_id == 3 && o->n_fields == 2);
  if (o && o->n_fields == 2) {
    CHECK_EQ_STR(o->fields[1].transform, "bucket[4]");
    CHECK(o->fields[1].descending && o->fields[1].nulls_last);
    CHECK(!o->fields[0].descending && !o->fields[0].nulls_last);
  }
  /* Ids above 2^53 must be exact. */
  CHECK(m->current_snapshot_id == 3055729675574597004LL);
  CHECK_EQ_INT(m->n_snapshots, 2);
  const iceberg_snapshot *cur = iceberg_meta_current_snapshot(m);
  CHECK(cur != NULL);
  if (cur) {
    CHECK(cur->parent_snapshot_id == 3051729675574597004LL);
    CHECK_EQ_INT(cur->sequence_number, 1);
    CHECK_EQ_INT(cur->timestamp_ms, 1555100955770LL);
    CHECK_EQ_STR(cur->manifest_list, "s3://a/b/2.avro");
    CHECK_EQ_STR(cur->operation, "append");
    CHECK_EQ_INT(cur->schema_id, 1);
  }
  const iceberg_snapshot *prev = iceberg_meta_snapshot(m, 3051729675574597004LL);
  CHECK(prev != NULL && prev->parent_snapshot_id == -1 && prev->sequence_number == 0 &&
        prev->schema_id == -1);
  CHECK(iceberg_meta_snapshot(m, 3051729675574597005LL) == NULL);
  CHECK_EQ_INT(m->n_snapshot_log, 2);
  CHECK(iceberg_meta_snapshot_as_of(m, 1515100955769LL) == NULL);
  CHECK(iceberg_meta_snapshot_as_of(m, 1515100955770LL) == prev);
  CHECK(iceberg_meta_snapshot_as_of(m, 1555100955769LL) == prev);
  CHECK(iceberg_meta_snapshot_as_of(m, 1555100955770LL) == cur);
  const iceberg_ref *main_ref = iceberg_meta_ref(m, "main");
  CHECK(main_ref != NULL && !main_ref->is_tag && main_ref->snapshot_id == m->current_snapshot_id);
  CHECK(iceberg_meta_ref(m, "nope") == NULL);
  tarn_arena_free(&a);
}

static void test_v1_valid_values(void) {
  tarn_arena a = {0};
  iceberg_meta *m =
      load_shared("testdata/iceberg-java/core/src/test/resources/TableMetadataV1Valid.json", &a);
  if (m == NULL) return;
  CHECK_EQ_INT(m->format_version, 1);
  CHECK_EQ_INT(m->last_sequence_number, 0);
  CHECK_EQ_INT(m->n_schemas, 1);
  CHECK_EQ_INT(m->current_schema_id, 0);
  CHECK_EQ_INT(m->default_spec_id, 0);
  CHECK_EQ_INT(m->last_partition_id, 1000);
  CHECK_EQ_INT(m->n_sort_orders, 1);
  CHECK_EQ_INT(m->sort_orders[0].n_fields, 0);
  CHECK_EQ_INT(m->current_snapshot_id, -1);
  CHECK(iceberg_meta_current_snapshot(m) == NULL);
  CHECK(iceberg_meta_ref(m, "main") == NULL);
  tarn_arena_free(&a);

  /* iceberg-rust: V1 specs without default-spec-id default to the largest spec id. */
  m = load_shared("testdata/iceberg-rust/crates/iceberg/testdata/table_metadata/"
                  "TableMetadataV1PartitionSpecsWithoutDefaultId.json",
                  &a);
  if (m) {
    CHECK_EQ_INT(m->default_spec_id, 2);
    CHECK_EQ_INT(m->last_partition_id, 1001);
  }
  tarn_arena_free(&a);

  m = load_shared(
      "testdata/iceberg-rust/crates/iceberg/testdata/table_metadata/TableMetadataV1Compat.json",
      &a);
  if (m) {
    CHECK(m->current_snapshot_id == 917896971991367610LL);
    CHECK_EQ_INT(m->schemas[0].type->fields[1].type->primitive, ICEBERG_TIMESTAMPTZ);
    CHECK_EQ_STR(iceberg_meta_property(m, "owner"), "spark");
    CHECK_EQ_STR(iceberg_meta_current_snapshot(m)->operation, "overwrite");
    CHECK_EQ_INT(iceberg_meta_current_snapshot(m)->n_summary, 14);
    CHECK_EQ_INT(m->n_metadata_log, 1);
  }
  tarn_arena_free(&a);
}

static void test_v3_and_statistics(void) {
  tarn_arena a = {0};
  iceberg_meta *m = load_shared(
      "testdata/iceberg-java/core/src/test/resources/TableMetadataV3ValidMinimal.json", &a);
  if (m) {
    CHECK_EQ_INT(m->format_version, 3);
    CHECK_EQ_INT(m->next_row_id, 0);
    CHECK_EQ_STR(m->schemas[0].type->fields[0].initial_default, "1");
    CHECK_EQ_STR(m->schemas[0].type->fields[0].write_default, "1");
    CHECK(m->schemas[0].type->fields[1].initial_default == NULL);
  }
  tarn_arena_free(&a);
  m = load_shared("testdata/iceberg-java/core/src/test/resources/TableMetadataStatisticsFiles.json",
                  &a);
  if (m && m->n_statistics == 1) {
    CHECK(m->statistics[0].snapshot_id == 3055729675574597004LL);
    CHECK_EQ_STR(m->statistics[0].path, "s3://a/b/stats.puffin");
    CHECK_EQ_INT(m->statistics[0].file_size_in_bytes, 413);
    CHECK_EQ_INT(m->statistics[0].file_footer_size_in_bytes, 42);
    CHECK_EQ_INT(m->statistics[0].n_blobs, 1);
    CHECK_EQ_STR(m->statistics[0].blobs[0].type, "ndv");
    CHECK_EQ_INT(m->statistics[0].blobs[0].fields[0], 1);
  } else {
    CHECK(0);
  }
  tarn_arena_free(&a);
  m = load_shared("testdata/iceberg-rust/crates/iceberg/testdata/table_metadata/"
                  "TableMetadataV3ValidEncryption.json",
                  &a);
  if (m) CHECK_EQ_STR(m->snapshots[0].key_id, "1fb95f04-7f98-4b1f-a08f-e810cfb907ff");
  tarn_arena_free(&a);
}

/* A minimal v2 document with the given schema fields and trailing members. */
static const char *v2_doc(char *buf, size_t cap, const char *fields, const char *extra) {
  snprintf(buf, cap,
           "{\"format-version\":2,\"table-uuid\":\"u\",\"location\":\"l\","
           "\"last-sequence-number\":1,\"last-updated-ms\":5,\"last-column-id\":9,"
           "\"current-schema-id\":0,\"schemas\":[{\"type\":\"struct\",\"schema-id\":0,"
           "\"fields\":[%s]}],\"default-spec-id\":0,\"partition-specs\":[{\"spec-id\":0,"
           "\"fields\":[]}],\"last-partition-id\":999,\"default-sort-order-id\":0,"
           "\"sort-orders\":[{\"order-id\":0,\"fields\":[]}]%s}",
           fields, extra);
  return buf;
}

static void test_types(void) {
  char buf[4096];
  tarn_arena a = {0};
  iceberg_meta *m;
  tarn_error err = {0};
  const char *fields =
      "{\"id\":1,\"name\":\"d\",\"required\":false,\"type\":\"decimal(9, 2)\"},"
      "{\"id\":2,\"name\":\"f\",\"required\":true,\"type\":\"fixed[16]\"},"
      "{\"id\":3,\"name\":\"t\",\"required\":true,\"type\":\"timestamptz_ns\"},"
      "{\"id\":4,\"name\":\"l\",\"required\":true,\"type\":{\"type\":\"list\",\"element-id\":5,"
      "\"element-required\":false,\"element\":\"uuid\"}},"
      "{\"id\":6,\"name\":\"m\",\"required\":true,\"type\":{\"type\":\"map\",\"key-id\":7,"
      "\"key\":\"string\",\"value-id\":8,\"value-required\":true,\"value\":{\"type\":\"struct\","
      "\"fields\":[{\"id\":9,\"name\":\"v\",\"required\":false,\"type\":\"variant\","
      "\"initial-default\":{\"a\": [1, 2]}}]}}}";
  int rc = parse_text(v2_doc(buf, sizeof buf, fields, ""), &a, &m, &err);
  if (rc) fprintf(stderr, "%s\n", err.message);
  CHECK_EQ_INT(rc, 0);
  if (rc == 0) {
    iceberg_type *st = m->schemas[0].type;
    CHECK_EQ_INT(st->fields[0].type->primitive, ICEBERG_DECIMAL);
    CHECK_EQ_INT(st->fields[0].type->precision, 9);
    CHECK_EQ_INT(st->fields[0].type->scale, 2);
    CHECK_EQ_INT(st->fields[1].type->length, 16);
    CHECK_EQ_INT(st->fields[2].type->primitive, ICEBERG_TIMESTAMPTZ_NS);
    CHECK_EQ_INT(st->fields[3].type->kind, ICEBERG_TYPE_LIST);
    CHECK_EQ_INT(st->fields[3].type->element_id, 5);
    CHECK_EQ_INT(st->fields[3].type->element->primitive, ICEBERG_UUID);
    iceberg_type *mt = st->fields[4].type;
    CHECK(mt->kind == ICEBERG_TYPE_MAP && mt->key_id == 7 && mt->value_id == 8);
    const iceberg_field *v = iceberg_type_find_field(st, 9);
    CHECK(v != NULL && v->type->primitive == ICEBERG_VARIANT);
    if (v) CHECK_EQ_STR(v->initial_default, "{\"a\": [1, 2]}");
  }
  tarn_arena_free(&a);
  const char *bad_types[] = {"\"decimal(39,1)\"", "\"fixed[0]\"", "\"varchar\"", "7",
                             "{\"type\":\"list\",\"element-id\":5,\"element\":\"int\"}"};
  for (size_t k = 0; k < sizeof bad_types / sizeof bad_types[0]; k++) {
    char f[256];
    snprintf(f, sizeof f, "{\"id\":1,\"name\":\"x\",\"required\":true,\"type\":%s}", bad_types[k]);
    tarn_error e = {0};
    CHECK(parse_text(v2_doc(buf, sizeof buf, f, ""), &a, &m, &e) == TARN_ECORRUPT);
    CHECK(strstr(e.message, "iceberg metadata: line 1:") != NULL);
    tarn_arena_free(&a);
  }
}

static void expect_error(const char *text, const char *needle) {
  tarn_arena a = {0};
  iceberg_meta *m = (iceberg_meta *)1;
  tarn_error err = {0};
  int rc = iceberg_meta_parse(text, strlen(text), &a, &m, &err);
  CHECK(rc != 0 && m == NULL);
  if (strstr(err.message, needle) == NULL)
    fprintf(stderr, "expected \"%s\" in \"%s\"\n", needle, err.message);
  CHECK(strstr(err.message, needle) != NULL);
  tarn_arena_free(&a);
}

static void test_bad_inputs(void) {
  char buf[4096];
  const char *f = "{\"id\":1,\"name\":\"x\",\"required\":true,\"type\":\"long\"}";
  expect_error("", "unexpected end");
  expect_error("{\"format-version\":2,", "line 1");
  expect_error("[1,2]", "not an object");
  expect_error("{\"format-version\":2}\n x", "line 2: unexpected text");
  expect_error("{\"format-version\":4}", "unsupported format-version 4");
  expect_error("{\"format-version\":99999999999999999999999}", "format-version is not an integer");
  expect_error("{\"format-version\":2.0}", "format-version is not an integer");
  expect_error("{\"format-version\":\"2\"}", "format-version is not an integer");
  expect_error(v2_doc(buf, sizeof buf, f, ",\"current-snapshot-id\":5"),
               "current-snapshot-id 5 refers to no snapshot");
  expect_error(v2_doc(buf, sizeof buf, f,
                      ",\"snapshots\":[{\"snapshot-id\":\"1\",\"timestamp-ms\":1,"
                      "\"sequence-number\":1,\"manifest-list\":\"m\",\"summary\":{}}]"),
               "snapshots: snapshot-id is not an integer");
  expect_error(v2_doc(buf, sizeof buf, f,
                      ",\"snapshots\":[{\"snapshot-id\":1,\"timestamp-ms\":1,"
                      "\"sequence-number\":1,\"manifest-list\":\"m\",\"summary\":{}}]"),
               "summary has no operation");
  expect_error(v2_doc(buf, sizeof buf, f, ",\"refs\":{\"b\":{\"snapshot-id\":4,\"type\":\"tag\"}}"),
               "ref \"b\": snapshot 4 does not exist");
  expect_error(v2_doc(buf, sizeof buf, f, ",\"properties\":{\"k\":1}"), "is not a string");
  expect_error(v2_doc(buf, sizeof buf, "{\"id\":1}", ""), "missing name");
  /* Deep nesting and truncation anywhere are errors, never crashes. */
  char deep[400];
  memset(deep, '[', sizeof deep - 1);
  deep[sizeof deep - 1] = '\0';
  expect_error(deep, "nested too deeply");
  const char *whole =
      v2_doc(buf, sizeof buf, f, ",\"properties\":{\"k\\u00e9\":\"v\\ud83d\\ude00\"}");
  size_t n = strlen(whole);
  for (size_t cut = 0; cut < n; cut++) {
    tarn_arena a = {0};
    iceberg_meta *m;
    tarn_error err = {0};
    CHECK(iceberg_meta_parse(whole, cut, &a, &m, &err) != 0 && err.message[0] != '\0');
    tarn_arena_free(&a);
  }
  tarn_arena a = {0};
  iceberg_meta *m;
  tarn_error err = {0};
  CHECK_EQ_INT(iceberg_meta_parse(whole, n, &a, &m, &err), 0);
  if (m) CHECK_EQ_STR(iceberg_meta_property(m, "k\xc3\xa9"), "v\xf0\x9f\x98\x80");
  tarn_arena_free(&a);
  err = (tarn_error){0};
  CHECK_EQ_INT(iceberg_meta_load_file("/nonexistent/v1.metadata.json", &a, &m, &err), TARN_EIO);
}

static void test_json_exact(void) {
  tarn_arena a = {0};
  jx_value *v;
  tarn_error err = {0};
  const char *t = "{\"a\":-9223372036854775808,\"b\":9223372036854775807,\"c\":9223372036854775808,"
                  "\"d\":1e3,\"a\":[true,false,null]}";
  CHECK_EQ_INT(jx_parse(t, strlen(t), &a, &v, &err), 0);
  CHECK(jx_get(v, "b")->kind == JX_INT && jx_get(v, "b")->i == INT64_MAX);
  CHECK(jx_get(v, "c")->kind == JX_NUMBER && jx_get(v, "d")->kind == JX_NUMBER);
  CHECK(jx_get(v, "a")->kind == JX_ARRAY && jx_get(v, "a")->n == 3); /* the last "a" wins */
  CHECK(v->child->i == INT64_MIN);
  const char *bad[] = {"01",      "-",   "1.",        "[1,]", "{\"a\" 1}", "\"\\u0000\"",
                       "\"\\x\"", "tru", "\"a\x01\"", "{,}",  "[1 2]",     "\"\\ud800"};
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    tarn_error e = {0};
    CHECK(jx_parse(bad[k], strlen(bad[k]), &a, &v, &e) == TARN_ECORRUPT);
  }
  tarn_arena_free(&a);
}

int main(void) {
  RUN(test_json_exact);
  RUN(test_shared_documents);
  RUN(test_v2_valid_values);
  RUN(test_v1_valid_values);
  RUN(test_v3_and_statistics);
  RUN(test_types);
  RUN(test_bad_inputs);
  return check_finish();
}
