/*
 * libFuzzer target for Delta deletion vectors (src/table/delta/dv.c): the RoaringBitmapArray
 * decoder (both layouts, every 32-bit Roaring container kind), Delta's Z85 decoding, inline
 * vectors and the DV file framing (version byte, big-endian size, CRC-32).
 *
 * Each input is taken three ways:
 *  - as a serialized bitmap, decoded with the cardinality check off, then again with the count it
 *    gave (which must succeed with the same positions) and with one more (which must fail);
 *  - as Z85 text: decoded, and read as an inline ('i') vector whose sizeInBytes is the decoded
 *    length;
 *  - when it starts with the version byte 1, as a DV file written to a temporary file and read as
 *    an absolute-path ('p') vector at offset 1 with the size the file states.
 * Positions must come out strictly ascending, and the paths must agree with each other. A violated
 * rule aborts: that is a decoder bug, not bad input.
 *
 * Built two ways (tests/fuzz/CMakeLists.txt): with -fsanitize=fuzzer as fuzz_delta_dv, and with
 * replay.c as fuzz_delta_dv_replay, which the normal test run uses to replay
 * corpus/delta_dv: seeds built by hand from the format descriptions (an empty vector, array,
 * run and bitset containers, two buckets, the native layout, Z85 texts, DV files).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "table/delta/dv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void fuzz_target_report(FILE *out);

static struct { unsigned long inputs, bitmaps, z85, inline_dvs, files; } stats;

void fuzz_target_report(FILE *out) {
  fprintf(out,
          "fuzz_delta_dv: %lu inputs, %lu decoded as bitmaps, %lu as Z85, %lu inline vectors, "
          "%lu DV files\n",
          stats.inputs, stats.bitmaps, stats.z85, stats.inline_dvs, stats.files);
}

static void require(int ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "fuzz_delta_dv: violated: %s\n", what);
    abort();
  }
}

static void check_ascending(const uint64_t *pos, size_t n) {
  for (size_t i = 1; i < n; i++)
    require(pos[i] > pos[i - 1], "positions strictly ascending");
}

static void check_error(int rc, const tarn_error *err) {
  require(rc == TARN_ECORRUPT || rc == TARN_ENOMEM || rc == TARN_EIO, "a known error code");
  require(err->code == rc && err->message[0] != '\0', "an error message");
}

/* Decodes data as a bitmap; returns the count (or -1 on error). */
static int64_t fuzz_bitmap(const uint8_t *data, size_t size) {
  tarn_arena a = {0};
  tarn_error err = {0};
  uint64_t *pos;
  size_t n;
  int rc = delta_dv_decode_bitmap(data, size, -1, &a, &pos, &n, &err);
  int64_t count = -1;
  if (rc != 0) {
    check_error(rc, &err);
  } else {
    stats.bitmaps++;
    check_ascending(pos, n);
    count = (int64_t)n;
    uint64_t *again;
    size_t n2;
    tarn_error e2 = {0}, e3 = {0};
    require(delta_dv_decode_bitmap(data, size, count, &a, &again, &n2, &e2) == 0 && n2 == n &&
                (n == 0 || memcmp(pos, again, n * sizeof *pos) == 0),
            "the same positions with the cardinality checked");
    require(delta_dv_decode_bitmap(data, size, count + 1, &a, &again, &n2, &e3) == TARN_ECORRUPT,
            "a wrong cardinality is refused");
  }
  tarn_arena_free(&a);
  return count;
}

static void fuzz_z85(const uint8_t *data, size_t size) {
  size_t cap = size / 5 * 4;
  uint8_t *out = malloc(cap ? cap : 1);
  char *text = malloc(size + 1);
  if (out == NULL || text == NULL) {
    free(out);
    free(text);
    return;
  }
  size_t got;
  tarn_error err = {0};
  int rc = delta_z85_decode((const char *)data, size, out, cap, &got, &err);
  if (rc != 0) {
    check_error(rc, &err);
  } else {
    stats.z85++;
    require(got == cap, "Z85 output length");
  }
  /* As an inline vector (the text must be a C string without NUL bytes). */
  memcpy(text, data, size);
  text[size] = '\0';
  if (rc == 0 && memchr(data, 0, size) == NULL && got <= INT32_MAX) {
    int64_t count = fuzz_bitmap(out, got);
    tarn_arena a = {0};
    tarn_error e2 = {0};
    uint64_t *pos;
    size_t n;
    delta_dv dv = {'i', text, -1, (int32_t)got, count < 0 ? 0 : count};
    int rc2 = delta_dv_read("/fuzz", &dv, &a, &pos, &n, &e2);
    require((rc2 == 0) == (count >= 0), "inline read agrees with the bitmap decoder");
    if (rc2 == 0) {
      stats.inline_dvs++;
      require((int64_t)n == count, "inline count");
    } else {
      check_error(rc2, &e2);
    }
    tarn_arena_free(&a);
  }
  free(out);
  free(text);
}

static void fuzz_file(const uint8_t *data, size_t size) {
  if (size < 5 || data[0] != 1) return;
  uint32_t stated = (uint32_t)data[1] << 24 | (uint32_t)data[2] << 16 | (uint32_t)data[3] << 8 |
                    (uint32_t)data[4];
  if (stated > INT32_MAX) return;
  int64_t count = -1;
  if (stated <= size - 5) count = fuzz_bitmap(data + 5, stated);
  char path[] = "/tmp/fuzz_delta_dv_XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return;
  size_t done = 0;
  while (done < size) {
    ssize_t w = write(fd, data + done, size - done);
    if (w <= 0) break;
    done += (size_t)w;
  }
  close(fd);
  if (done == size) {
    tarn_arena a = {0};
    tarn_error err = {0};
    uint64_t *pos;
    size_t n;
    delta_dv dv = {'p', path, 1, (int32_t)stated, count < 0 ? 0 : count};
    int rc = delta_dv_read("/fuzz", &dv, &a, &pos, &n, &err);
    if (rc == 0) {
      stats.files++;
      require(count >= 0 && (int64_t)n == count, "file read agrees with the bitmap decoder");
      check_ascending(pos, n);
    } else {
      check_error(rc, &err);
    }
    tarn_arena_free(&a);
  }
  unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  stats.inputs++;
  fuzz_bitmap(data, size);
  fuzz_z85(data, size);
  fuzz_file(data, size);
  return 0;
}
