/*
 * libFuzzer target for Iceberg table metadata (src/table/iceberg/iceberg_meta.c) and the
 * exact-integer JSON parser under it (src/common/json_exact.c).
 *
 * Each input is parsed as a metadata document. A failure must carry a known code and a message;
 * a success must be self-consistent: the current schema and default spec exist, the current
 * snapshot exists unless the id is -1, and every ref names an existing snapshot. The input is
 * also parsed as plain JSON, and every value's span must lie inside the input. A violated rule
 * aborts: that is a parser bug, not bad input.
 *
 * Built two ways (tests/fuzz/CMakeLists.txt): with -fsanitize=fuzzer as fuzz_iceberg_meta, and
 * with replay.c as fuzz_iceberg_meta_replay, which the normal test run uses to replay
 * corpus/iceberg_meta (hand-written v1, v2 and v3 documents and broken variants).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/json_exact.h"
#include "table/iceberg/iceberg_meta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void fuzz_target_report(FILE *out);

static struct { unsigned long inputs, json_ok, meta_ok; } stats;

void fuzz_target_report(FILE *out) {
  fprintf(out, "fuzz_iceberg_meta: %lu inputs, %lu valid JSON, %lu valid metadata\n", stats.inputs,
          stats.json_ok, stats.meta_ok);
}

static void require(int ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "fuzz_iceberg_meta: violated: %s\n", what);
    abort();
  }
}

static void check_spans(const jx_value *v, const char *lo, const char *hi, int depth) {
  require(depth <= JX_MAX_DEPTH + 1, "depth within the limit");
  require(v->span >= lo && v->span + v->span_len <= hi, "span inside the input");
  size_t n = 0;
  for (const jx_value *c = v->child; c; c = c->next, n++)
    check_spans(c, lo, hi, depth + 1);
  require(n == v->n, "child count");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  stats.inputs++;
  const char *text = (const char *)data;
  tarn_arena a = {0};
  tarn_error err = {0};
  jx_value *root;
  if (jx_parse(text, size, &a, &root, &err) == 0) {
    stats.json_ok++;
    check_spans(root, text, text + size, 0);
  } else {
    require(err.code == TARN_ECORRUPT || err.code == TARN_ENOMEM, "a known JSON error code");
  }
  tarn_arena_free(&a);

  iceberg_meta *m;
  err = (tarn_error){0};
  int rc = iceberg_meta_parse(text, size, &a, &m, &err);
  if (rc != 0) {
    require(rc == TARN_ECORRUPT || rc == TARN_EUNSUPPORTED || rc == TARN_ENOMEM, "a known code");
    require(err.code == rc && err.message[0] != '\0' && m == NULL, "an error message");
  } else {
    stats.meta_ok++;
    require(m->format_version >= 1 && m->format_version <= 3, "format version");
    require(iceberg_meta_current_schema(m) != NULL, "current schema exists");
    require(iceberg_meta_default_spec(m) != NULL, "default spec exists");
    require(m->current_snapshot_id == -1 || iceberg_meta_current_snapshot(m) != NULL,
            "current snapshot exists");
    for (size_t k = 0; k < m->n_refs; k++)
      require(iceberg_meta_snapshot(m, m->refs[k].snapshot_id) != NULL, "ref target exists");
    (void)iceberg_meta_snapshot_as_of(m, INT64_MAX);
  }
  tarn_arena_free(&a);
  return 0;
}
