/*
 * libFuzzer target for the Parquet reader: footer (Thrift), schema conversion, page headers,
 * codecs, encodings and record assembly.
 *
 * The input is taken as a whole Parquet file. It is opened from memory, its Arrow schema, footer
 * JSON and schema text are produced, then every column is scanned in small batches, and the
 * first column alone once more (the projection path). Every batch is checked against the Arrow C
 * Data Interface rules a consumer relies on (lengths, offsets within their buffers, children long
 * enough) and every last value is touched, so a buffer shorter than its array claims shows up
 * under AddressSanitizer. A violated rule aborts: that is a reader bug, not bad input.
 *
 * Built two ways (tests/fuzz/CMakeLists.txt): with -fsanitize=fuzzer as fuzz_parquet, and with
 * replay.c as fuzz_parquet_replay, which the normal test run uses to replay the corpus.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tarn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void fuzz_target_report(FILE *out);

/* Rows per batch: small, so that batch boundaries fall inside pages and row groups. */
#define FUZZ_BATCH_ROWS 1000
/* Nesting deeper than this in an exported schema is itself a bug (Parquet files nest far less). */
#define FUZZ_MAX_DEPTH 64

static volatile uint8_t fuzz_sink;

/* What the inputs reached, for the replay's summary (a corpus that never opens is no test). */
static struct {
  long inputs, opened, scanned, failed_scans;
  long long rows;
} fuzz_stats;

void fuzz_target_report(FILE *out) {
  fprintf(out,
          "inputs %ld: opened %ld, scans completed %ld, scans ended by an error %ld, rows %lld\n",
          fuzz_stats.inputs, fuzz_stats.opened, fuzz_stats.scanned, fuzz_stats.failed_scans,
          fuzz_stats.rows);
}

static void fuzz_fail(const char *what, const struct ArrowSchema *schema) {
  fprintf(stderr, "fuzz_parquet: invalid Arrow output: %s (field \"%s\", format \"%s\")\n", what,
          schema->name ? schema->name : "", schema->format ? schema->format : "");
  abort();
}

static void touch(const void *buffer, int64_t byte_index) {
  fuzz_sink ^= ((const uint8_t *)buffer)[byte_index];
}

/* Byte width of a fixed-width Arrow format, 0 if the format is not fixed-width. */
static int64_t fixed_width(const char *f) {
  switch (f[0]) {
  case 'c':
  case 'C': return f[1] ? 0 : 1;
  case 's':
  case 'S':
  case 'e': return f[1] ? 0 : 2;
  case 'i':
  case 'I':
  case 'f': return f[1] ? 0 : 4;
  case 'l':
  case 'L':
  case 'g': return f[1] ? 0 : 8;
  case 'w': return f[1] == ':' ? atoll(f + 2) : 0;
  case 'd': return strstr(f, ",256") ? 32 : 16;
  case 't':
    if (f[1] == 'd') return f[2] == 'D' ? 4 : 8;
    if (f[1] == 't') return (f[2] == 's' || f[2] == 'm') ? 4 : 8;
    if (f[1] == 's' || f[1] == 'D') return 8;
    if (f[1] == 'i') return f[2] == 'M' ? 4 : f[2] == 'D' ? 8 : 16;
    return 0;
  default: return 0;
  }
}

static int is_valid(const struct ArrowArray *a, int64_t i) {
  const uint8_t *validity = a->buffers[0];
  return !validity || (validity[i >> 3] >> (i & 7)) & 1;
}

static int64_t offset_at(const void *offsets, int large, int64_t i) {
  return large ? ((const int64_t *)offsets)[i] : ((const int32_t *)offsets)[i];
}

/* Checks offsets[offset .. offset+length] (non-decreasing, non-negative); returns the last. */
static int64_t check_offsets(const struct ArrowArray *a, const struct ArrowSchema *s, int large) {
  const void *offsets = a->buffers[1];
  if (!offsets) fuzz_fail("offsets buffer is NULL", s);
  int64_t prev = offset_at(offsets, large, a->offset);
  if (prev < 0) fuzz_fail("negative offset", s);
  for (int64_t i = a->offset + 1; i <= a->offset + a->length; i++) {
    int64_t o = offset_at(offsets, large, i);
    if (o < prev) fuzz_fail("offsets decrease", s);
    prev = o;
  }
  return prev;
}

static void check_array(const struct ArrowArray *a, const struct ArrowSchema *s, int depth);

static void check_child_len(const struct ArrowArray *a, const struct ArrowSchema *s, int64_t need,
                            int depth) {
  if (a->n_children != 1 || !a->children || !a->children[0]) fuzz_fail("expects one child", s);
  if (a->children[0]->offset + a->children[0]->length < need) fuzz_fail("child too short", s);
  check_array(a->children[0], s->children[0], depth + 1);
}

static void check_array(const struct ArrowArray *a, const struct ArrowSchema *s, int depth) {
  if (!a || !a->release) fuzz_fail("released or missing array", s);
  if (depth > FUZZ_MAX_DEPTH) fuzz_fail("nesting too deep", s);
  if (a->length < 0 || a->offset < 0 || a->null_count < -1 || a->null_count > a->length)
    fuzz_fail("bad length, offset or null_count", s);
  if (a->n_children != s->n_children) fuzz_fail("children differ from the schema's", s);
  if (a->n_buffers > 0 && !a->buffers) fuzz_fail("buffers missing", s);
  const char *f = s->format;
  int64_t end = a->offset + a->length; /* one past the last slot */
  if (a->length > 0 && f[0] != 'n' && a->n_buffers > 0 && a->buffers[0])
    touch(a->buffers[0], (end - 1) / 8);
  int64_t width = fixed_width(f);
  if (s->dictionary) {
    /* Dictionary-encoded: the array holds indices of the format's integer type. */
    if (!a->dictionary) fuzz_fail("dictionary missing", s);
    check_array(a->dictionary, s->dictionary, depth + 1);
    if (width < 1 || width > 8 || a->n_buffers != 2) fuzz_fail("bad dictionary index type", s);
    int64_t n_dict = a->dictionary->length;
    for (int64_t i = a->offset; i < end; i++) {
      if (!is_valid(a, i)) continue;
      int64_t index = width == 1   ? ((const int8_t *)a->buffers[1])[i]
                      : width == 2 ? ((const int16_t *)a->buffers[1])[i]
                      : width == 4 ? ((const int32_t *)a->buffers[1])[i]
                                   : ((const int64_t *)a->buffers[1])[i];
      if (index < 0 || index >= n_dict) fuzz_fail("dictionary index out of range", s);
    }
    return;
  }
  if (width > 0) {
    if (a->n_buffers != 2) fuzz_fail("fixed-width array without 2 buffers", s);
    if (a->length > 0) {
      if (!a->buffers[1]) fuzz_fail("values buffer is NULL", s);
      touch(a->buffers[1], end * width - 1);
    }
    return;
  }
  switch (f[0]) {
  case 'n': return;
  case 'b':
    if (a->n_buffers != 2) fuzz_fail("boolean array without 2 buffers", s);
    if (a->length > 0) {
      if (!a->buffers[1]) fuzz_fail("values buffer is NULL", s);
      touch(a->buffers[1], (end - 1) / 8);
    }
    return;
  case 'u':
  case 'z':
  case 'U':
  case 'Z': {
    if (a->n_buffers != 3) fuzz_fail("binary array without 3 buffers", s);
    if (a->length == 0) return;
    int64_t last = check_offsets(a, s, f[0] == 'U' || f[0] == 'Z');
    int64_t first = offset_at(a->buffers[1], f[0] == 'U' || f[0] == 'Z', a->offset);
    if (last > first) {
      if (!a->buffers[2]) fuzz_fail("data buffer is NULL", s);
      touch(a->buffers[2], last - 1);
    }
    return;
  }
  case '+': break;
  default: return; /* a type this check does not know (views, run-end, unions): nothing to verify */
  }
  switch (f[1]) {
  case 'l':
  case 'L':
  case 'm':
    if (a->n_buffers != 2) fuzz_fail("list array without 2 buffers", s);
    check_child_len(a, s, a->length > 0 ? check_offsets(a, s, f[1] == 'L') : 0, depth);
    return;
  case 'w':
    if (a->n_buffers != 1) fuzz_fail("fixed-size list without 1 buffer", s);
    check_child_len(a, s, end * atoll(f + 3), depth);
    return;
  case 's':
    if (a->n_buffers != 1) fuzz_fail("struct without 1 buffer", s);
    for (int64_t i = 0; i < a->n_children; i++) {
      if (!a->children || !a->children[i]) fuzz_fail("struct child missing", s);
      if (a->children[i]->offset + a->children[i]->length < end)
        fuzz_fail("struct child too short", s);
      check_array(a->children[i], s->children[i], depth + 1);
    }
    return;
  default: return;
  }
}

/* Drains a scan, checking every batch against the stream's schema and releasing it. */
static void drain(tarn_parquet_file *file, const tarn_scan_options *opts) {
  struct ArrowArrayStream stream;
  tarn_error err;
  if (tarn_parquet_scan(file, opts, &stream, &err) != 0) return;
  struct ArrowSchema schema;
  memset(&schema, 0, sizeof schema);
  if (stream.get_schema(&stream, &schema) == 0) {
    for (;;) {
      struct ArrowArray batch;
      memset(&batch, 0, sizeof batch);
      if (stream.get_next(&stream, &batch) != 0) {
        fuzz_stats.failed_scans++;
        const char *msg = stream.get_last_error(&stream);
        if (msg) fuzz_sink ^= (uint8_t)msg[0];
        (void)tarn_parquet_stream_error(&stream);
        break;
      }
      if (!batch.release) { /* end of stream */
        fuzz_stats.scanned++;
        break;
      }
      fuzz_stats.rows += batch.length;
      if (batch.length > FUZZ_BATCH_ROWS) fuzz_fail("batch longer than batch_rows", &schema);
      check_array(&batch, &schema, 0);
      batch.release(&batch);
      if (batch.release) fuzz_fail("release did not clear release", &schema);
    }
    schema.release(&schema);
  }
  stream.release(&stream);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tarn_parquet_file *file = NULL;
  tarn_error err;
  /* CRCs are skipped so that mutated pages reach the decoders instead of stopping at the
   * checksum; the CRC check itself is a single pass over bytes the codecs read anyway. */
  tarn_parquet_options options;
  memset(&options, 0, sizeof options);
  options.skip_crc_check = 1;
  fuzz_stats.inputs++;
  if (tarn_parquet_open_memory(data, size, "fuzz-input", &options, &file, &err) != 0) return 0;
  fuzz_stats.opened++;

  (void)tarn_parquet_num_rows(file);
  (void)tarn_parquet_num_row_groups(file);
  char *text = NULL;
  if (tarn_parquet_metadata_json(file, &text, &err) == 0) free(text);
  text = NULL;
  if (tarn_parquet_schema_text(file, &text, &err) == 0) free(text);

  struct ArrowSchema schema;
  memset(&schema, 0, sizeof schema);
  if (tarn_parquet_arrow_schema(file, &schema, &err) == 0) {
    tarn_scan_options opts;
    memset(&opts, 0, sizeof opts);
    opts.batch_rows = FUZZ_BATCH_ROWS;
    drain(file, &opts);
    if (schema.n_children > 1 && schema.children[0]->name) {
      const char *first = schema.children[0]->name;
      opts.columns = &first;
      opts.n_columns = 1;
      opts.limit = 2 * FUZZ_BATCH_ROWS + 1;
      drain(file, &opts);
    }
    /* A row selection drives the page-skipping path (offset index jumps, decode-and-drop) and
     * the planning API over whatever page index the input claims to have. */
    int64_t rows = tarn_parquet_num_rows(file);
    if (rows > 2) {
      tarn_row_range ranges[2] = {{1, 1}, {rows / 2, rows - rows / 2}};
      memset(&opts, 0, sizeof opts);
      opts.batch_rows = FUZZ_BATCH_ROWS;
      opts.row_ranges = ranges;
      opts.n_row_ranges = 2;
      drain(file, &opts);
    }
    for (int rg = 0; rg < tarn_parquet_num_row_groups(file) && rg < 4; rg++) {
      for (int col = 0; col < tarn_parquet_num_columns(file) && col < 8; col++) {
        tarn_page_info *pages = NULL;
        size_t n_pages = 0;
        tarn_column_stats stats;
        int maybe;
        if (tarn_parquet_page_index(file, rg, col, &pages, &n_pages, &err) == 0) {
          for (size_t i = 0; i < n_pages; i++) {
            if (pages[i].has_bounds && pages[i].min_len)
              touch(pages[i].min, (int64_t)pages[i].min_len - 1);
            if (pages[i].has_bounds && pages[i].max_len)
              touch(pages[i].max, (int64_t)pages[i].max_len - 1);
          }
          free(pages);
        }
        (void)tarn_parquet_column_stats(file, rg, col, &stats, &err);
        (void)tarn_parquet_bloom_check(file, rg, col, "x", 1, &maybe, &err);
      }
    }
    schema.release(&schema);
  }
  tarn_parquet_close(file);
  return 0;
}
