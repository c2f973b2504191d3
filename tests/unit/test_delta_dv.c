/*
 * Delta deletion vectors (src/table/delta/dv.c), with expected values from independent sources:
 *  - Z85: the ZeroMQ RFC 32 example ("HelloWorld"); PROTOCOL.md's relative-path example (prefix
 *    "ab", UUID d2c639aa-8816-431a-aaf6-d3fe2512ff61) and its inline example (rows 3, 4, 7, 11,
 *    18, 29);
 *  - DV files of shared Delta tables written by Spark, with the deleted positions derived by hand
 *    from each data file's rows (`tarn cat FILE --format jsonl`) and either the ffi expected
 *    output (table-with-dv-small) or the DELETE predicate in the commit
 * (cdf-table-with-cdc-and-dvs);
 *  - 32-bit Roaring containers of every kind (array, bitset, run) built byte by byte from the
 *    RoaringFormatSpec layout;
 *  - corrupt inputs (wrong magic, truncation, bad CRC, size and cardinality mismatches, sizes past
 *    the end, every truncation and single-byte change of a valid vector): errors, never a crash
 *    (the test runs under ASan/UBSan).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "shared_data.h"
#include "table/delta/dv.h"

#define DV_SMALL "testdata/delta-kernel-rs/kernel/tests/data/table-with-dv-small"
#define DV_SMALL_FILE DV_SMALL "/deletion_vector_61d16c75-6994-46b7-a15b-8b538852e50e.bin"
#define CDF "testdata/delta-kernel-rs/kernel/tests/data/cdf-table-with-cdc-and-dvs"

static char tmp_dir[256];

/* Reads dv of the table rel (a shared path, or absolute when it starts with '/'). */
static int read_dv(const char *table, char type, const char *id, int32_t offset, int32_t size,
                   int64_t card, tarn_arena *a, uint64_t **pos, size_t *n, tarn_error *err) {
  char dir[4096];
  if (table[0] == '/')
    snprintf(dir, sizeof dir, "%s", table);
  else
    shared_data_path(dir, sizeof dir, table);
  delta_dv dv = {type, id, offset, size, card};
  memset(err, 0, sizeof *err);
  return delta_dv_read(dir, &dv, a, pos, n, err);
}

static void check_positions(const uint64_t *got, size_t n, const uint64_t *want, size_t n_want) {
  CHECK_EQ_INT(n, n_want);
  for (size_t i = 0; i < n && i < n_want; i++)
    CHECK_EQ_INT(got[i], want[i]);
}

static void test_z85(void) {
  /* ZeroMQ RFC 32 test vector. */
  static const uint8_t hello[8] = {0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B};
  uint8_t out[32];
  size_t n;
  tarn_error err = {0};
  CHECK_EQ_INT(delta_z85_decode("HelloWorld", 10, out, sizeof out, &n, &err), 0);
  CHECK_EQ_INT(n, 8);
  CHECK(memcmp(out, hello, 8) == 0);
  /* PROTOCOL.md "JSON Example 1": pathOrInlineDv "ab^-aqEH.-t@S}K{vb[*k^" is the prefix "ab"
   * and the UUID d2c639aa-8816-431a-aaf6-d3fe2512ff61. */
  static const uint8_t uuid[16] = {0xd2, 0xc6, 0x39, 0xaa, 0x88, 0x16, 0x43, 0x1a,
                                   0xaa, 0xf6, 0xd3, 0xfe, 0x25, 0x12, 0xff, 0x61};
  CHECK_EQ_INT(delta_z85_decode("^-aqEH.-t@S}K{vb[*k^", 20, out, sizeof out, &n, &err), 0);
  CHECK_EQ_INT(n, 16);
  CHECK(memcmp(out, uuid, 16) == 0);
  CHECK_EQ_INT(delta_z85_decode("", 0, out, sizeof out, &n, &err), 0);
  CHECK_EQ_INT(n, 0);
  /* Errors: length not a multiple of 5, a character outside the alphabet, a block above
   * 2^32 - 1 ("#####" is 85^5 - 1), no room. */
  tarn_error e1 = {0}, e2 = {0}, e3 = {0}, e4 = {0};
  CHECK_EQ_INT(delta_z85_decode("Hello", 4, out, sizeof out, &n, &e1), TARN_ECORRUPT);
  CHECK_EQ_INT(delta_z85_decode("Hell\"", 5, out, sizeof out, &n, &e2), TARN_ECORRUPT);
  CHECK_EQ_INT(delta_z85_decode("#####", 5, out, sizeof out, &n, &e3), TARN_ECORRUPT);
  CHECK_EQ_INT(delta_z85_decode("HelloWorld", 10, out, 7, &n, &e4), TARN_EINVAL);
  CHECK(e2.message[0] != 0);
}

static void test_inline(void) {
  /* PROTOCOL.md "JSON Example 3 — Inline": "The row indexes encoded in this DV are: 3, 4, 7, 11,
   * 18, 29." */
  static const uint64_t want[] = {3, 4, 7, 11, 18, 29};
  tarn_arena a = {0};
  tarn_error err;
  uint64_t *pos;
  size_t n;
  const char *text = "wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L";
  CHECK_EQ_INT(read_dv("/nowhere", 'i', text, -1, 40, 6, &a, &pos, &n, &err), 0);
  check_positions(pos, n, want, 6);
  /* sizeInBytes beyond the inline bytes, a cardinality mismatch, bad Z85. */
  CHECK_EQ_INT(read_dv("/nowhere", 'i', text, -1, 44, 6, &a, &pos, &n, &err), TARN_ECORRUPT);
  CHECK(strstr(err.message, "/nowhere") != NULL);
  CHECK_EQ_INT(read_dv("/nowhere", 'i', text, -1, 40, 7, &a, &pos, &n, &err), TARN_ECORRUPT);
  CHECK(strstr(err.message, "wi5b=") != NULL);
  CHECK_EQ_INT(read_dv("/nowhere", 'i', "wi5b=000", -1, 4, 6, &a, &pos, &n, &err), TARN_ECORRUPT);
  CHECK_EQ_INT(read_dv("/nowhere", 'i', text, -1, 39, 6, &a, &pos, &n, &err), TARN_ECORRUPT);
  /* No deletion vector. */
  CHECK_EQ_INT(read_dv("/nowhere", 0, NULL, -1, 0, 0, &a, &pos, &n, &err), 0);
  CHECK_EQ_INT(n, 0);
  CHECK(pos == NULL);
  tarn_arena_free(&a);
}

static void test_shared_tables(void) {
  tarn_arena a = {0};
  tarn_error err;
  uint64_t *pos;
  size_t n;
  /* table-with-dv-small: the data file holds value 0..9 in rows 0..9 (tarn cat); the ffi
   * expected output (read-table-testing/expected-data/table-with-dv-small.expected) keeps values
   * 1..8, so rows 0 and 9 are deleted. */
  static const uint64_t small[] = {0, 9};
  CHECK_EQ_INT(read_dv(DV_SMALL, 'u', "vBn[lx{q8@P<9BNH/isA", 1, 36, 2, &a, &pos, &n, &err), 0);
  if (err.code) fprintf(stderr, "%s\n", err.message);
  check_positions(pos, n, small, 2);
  /* cdf-table-with-cdc-and-dvs, commit 16: DELETE WHERE id > 6 AND id < 9, two DVs in one file.
   * part-00000-0c45af51... holds ids 8, 9 (row 0 deleted), at offset 1; part-00000-1b2c86ab...
   * holds ids 6, 7 (row 1 deleted), at offset 43. */
  static const uint64_t first[] = {0}, second[] = {1};
  CHECK_EQ_INT(read_dv(CDF, 'u', "F0u+Uo^@EuVa@tFk))2D", 1, 34, 1, &a, &pos, &n, &err), 0);
  check_positions(pos, n, first, 1);
  CHECK_EQ_INT(read_dv(CDF, 'u', "F0u+Uo^@EuVa@tFk))2D", 43, 34, 1, &a, &pos, &n, &err), 0);
  check_positions(pos, n, second, 1);
  /* Commit 24: DELETE WHERE id < 10 on part-00000-92f71a43..., ids 3, 4, 5, 2, 6, 10, 9, 12:
   * rows 0-4 and 6 are deleted. */
  static const uint64_t third[] = {0, 1, 2, 3, 4, 6};
  CHECK_EQ_INT(read_dv(CDF, 'u', "Xq<G^UbT+TGkmx<+7Y=5", 1, 35, 6, &a, &pos, &n, &err), 0);
  check_positions(pos, n, third, 6);

  /* The same vector by absolute path: plain, and as a percent-encoded file:// URI. */
  char rel[4096], path[PATH_MAX], uri[3 * PATH_MAX + 16];
  shared_data_path(rel, sizeof rel, DV_SMALL_FILE);
  CHECK(realpath(rel, path) != NULL);
  if (path[0] == '/') {
    CHECK_EQ_INT(read_dv("/t", 'p', path, 1, 36, 2, &a, &pos, &n, &err), 0);
    check_positions(pos, n, small, 2);
    size_t o = (size_t)snprintf(uri, sizeof uri, "file://");
    for (const char *c = path; *c; c++)
      o += (size_t)snprintf(uri + o, sizeof uri - o, *c == '-' ? "%%2D" : "%c", *c);
    CHECK_EQ_INT(read_dv("/t", 'p', uri, 1, 36, 2, &a, &pos, &n, &err), 0);
    check_positions(pos, n, small, 2);
    snprintf(uri, sizeof uri, "file:%s", path);
    CHECK_EQ_INT(read_dv("/t", 'p', uri, 1, 36, 2, &a, &pos, &n, &err), 0);
    check_positions(pos, n, small, 2);
  }
  CHECK_EQ_INT(
      read_dv("/t", 'p', "s3://bucket/deletion_vector_x.bin", 1, 36, 2, &a, &pos, &n, &err),
      TARN_EUNSUPPORTED);
  CHECK_EQ_INT(read_dv("/t", 'p', "relative/x.bin", 1, 36, 2, &a, &pos, &n, &err), TARN_ECORRUPT);
  CHECK_EQ_INT(read_dv("/t", 'p', "/bad%zzescape", 1, 36, 2, &a, &pos, &n, &err), TARN_ECORRUPT);
  CHECK_EQ_INT(read_dv("/t", 'x', "whatever", 1, 36, 2, &a, &pos, &n, &err), TARN_ECORRUPT);
  tarn_arena_free(&a);
}

static uint8_t *dv_small_bytes(size_t *len) {
  uint8_t *b = shared_data_read(DV_SMALL_FILE, len);
  CHECK(b != NULL && *len == 45);
  return b;
}

static void write_file(const char *path, const uint8_t *b, size_t len) {
  FILE *f = fopen(path, "wb");
  CHECK(f != NULL);
  if (f == NULL) return;
  CHECK_EQ_INT(fwrite(b, 1, len, f), len);
  fclose(f);
}

/* Rewrites the CRC of the 36-byte vector at offset 1 after a change to its bytes. */
static void fix_crc(uint8_t *b) {
  uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), b + 5, 36);
  b[41] = (uint8_t)(crc >> 24);
  b[42] = (uint8_t)(crc >> 16);
  b[43] = (uint8_t)(crc >> 8);
  b[44] = (uint8_t)crc;
}

static void test_relative_prefix(void) {
  /* PROTOCOL.md's example id with a random prefix "ab": <table>/ab/deletion_vector_<uuid>.bin. */
  size_t len;
  uint8_t *b = dv_small_bytes(&len);
  if (b == NULL) return;
  char dir[512], file[1024];
  snprintf(dir, sizeof dir, "%s/ab", tmp_dir);
  CHECK_EQ_INT(mkdir(dir, 0700), 0);
  snprintf(file, sizeof file, "%s/deletion_vector_d2c639aa-8816-431a-aaf6-d3fe2512ff61.bin", dir);
  write_file(file, b, len);
  tarn_arena a = {0};
  tarn_error err;
  uint64_t *pos;
  size_t n;
  static const uint64_t small[] = {0, 9};
  CHECK_EQ_INT(read_dv(tmp_dir, 'u', "ab^-aqEH.-t@S}K{vb[*k^", 1, 36, 2, &a, &pos, &n, &err), 0);
  check_positions(pos, n, small, 2);
  /* Without the prefix the file is not there: an I/O error naming the table. */
  CHECK_EQ_INT(read_dv(tmp_dir, 'u', "^-aqEH.-t@S}K{vb[*k^", 1, 36, 2, &a, &pos, &n, &err),
               TARN_EIO);
  CHECK(strstr(err.message, tmp_dir) != NULL);
  CHECK_EQ_INT(read_dv(tmp_dir, 'u', "short", 1, 36, 2, &a, &pos, &n, &err), TARN_ECORRUPT);
  unlink(file);
  rmdir(dir);
  tarn_arena_free(&a);
  free(b);
}

/* Writes b to <tmp>/dv.bin and reads it as a 'p' vector. */
static int read_tmp(const uint8_t *b, size_t len, int32_t offset, int32_t size, int64_t card,
                    tarn_error *err) {
  char file[512];
  snprintf(file, sizeof file, "%s/dv.bin", tmp_dir);
  write_file(file, b, len);
  tarn_arena a = {0};
  uint64_t *pos;
  size_t n;
  int rc = read_dv(tmp_dir, 'p', file, offset, size, card, &a, &pos, &n, err);
  tarn_arena_free(&a);
  return rc;
}

static void test_corrupt_files(void) {
  size_t len;
  uint8_t *orig = dv_small_bytes(&len);
  if (orig == NULL) return;
  uint8_t b[64];
  tarn_error err;
  memcpy(b, orig, len);
  CHECK_EQ_INT(read_tmp(b, len, 1, 36, 2, &err), 0);
  CHECK_EQ_INT(read_tmp(b, len, -1, 36, 2, &err), 0); /* absent offset: the first vector */
  /* Cardinality mismatch; sizeInBytes differing from the stored size; sizes and offsets past the
   * end; a negative offset. */
  CHECK_EQ_INT(read_tmp(b, len, 1, 36, 3, &err), TARN_ECORRUPT);
  CHECK(strstr(err.message, tmp_dir) != NULL && strstr(err.message, "descriptor") != NULL);
  CHECK_EQ_INT(read_tmp(b, len, 1, 35, 2, &err), TARN_ECORRUPT);
  CHECK_EQ_INT(read_tmp(b, len, 1, 1000, 2, &err), TARN_ECORRUPT);
  CHECK_EQ_INT(read_tmp(b, len, 1, 0x7fffffff, 2, &err), TARN_ECORRUPT);
  CHECK_EQ_INT(read_tmp(b, len, 40, 36, 2, &err), TARN_ECORRUPT);
  CHECK_EQ_INT(read_tmp(b, len, 0x7fffffff, 36, 2, &err), TARN_ECORRUPT);
  CHECK_EQ_INT(read_tmp(b, len, -5, 36, 2, &err), TARN_ECORRUPT);
  CHECK_EQ_INT(read_tmp(b, len, 1, -1, 2, &err), TARN_ECORRUPT);
  /* Every truncation of the file. */
  for (size_t cut = 0; cut < len; cut++)
    CHECK_EQ_INT(read_tmp(b, cut, 1, 36, 2, &err), TARN_ECORRUPT);
  /* A stored size larger than the file. */
  b[1] = 0x7f;
  CHECK_EQ_INT(read_tmp(b, len, 1, 36, 2, &err), TARN_ECORRUPT);
  memcpy(b, orig, len);
  /* Bad CRC: a changed bitmap byte, a changed checksum byte. */
  b[20] ^= 0x01;
  CHECK_EQ_INT(read_tmp(b, len, 1, 36, 2, &err), TARN_ECORRUPT);
  CHECK(strstr(err.message, "CRC") != NULL);
  memcpy(b, orig, len);
  b[44] ^= 0x80;
  CHECK_EQ_INT(read_tmp(b, len, 1, 36, 2, &err), TARN_ECORRUPT);
  /* Wrong magic (with a matching CRC, so the magic check itself fires). */
  memcpy(b, orig, len);
  b[5] ^= 0x02;
  fix_crc(b);
  CHECK_EQ_INT(read_tmp(b, len, 1, 36, 2, &err), TARN_ECORRUPT);
  CHECK(strstr(err.message, "magic") != NULL);
  /* Unknown file format version. */
  memcpy(b, orig, len);
  b[0] = 2;
  CHECK_EQ_INT(read_tmp(b, len, 1, 36, 2, &err), TARN_ECORRUPT);
  /* Every single-byte change of the bitmap, CRC fixed up: an error or a valid set, no crash. */
  for (size_t i = 5; i < 41; i++) {
    for (int bit = 0; bit < 8; bit++) {
      memcpy(b, orig, len);
      b[i] ^= (uint8_t)(1u << bit);
      fix_crc(b);
      int rc = read_tmp(b, len, 1, 36, 2, &err);
      CHECK(rc == 0 || rc == TARN_ECORRUPT);
    }
  }
  /* A directory and a missing file. */
  CHECK_EQ_INT(
      read_dv("/t", 'p', tmp_dir, 1, 36, 2, &(tarn_arena){0}, &(uint64_t *){0}, &(size_t){0}, &err),
      TARN_EIO);
  CHECK_EQ_INT(read_dv("/t", 'p', "/nonexistent/deletion_vector.bin", 1, 36, 2, &(tarn_arena){0},
                       &(uint64_t *){0}, &(size_t){0}, &err),
               TARN_EIO);
  char file[512];
  snprintf(file, sizeof file, "%s/dv.bin", tmp_dir);
  unlink(file);
  free(orig);
}

/* --- Hand-built bitmaps (RoaringFormatSpec) -------------------------------------------------- */

typedef struct bytes {
  uint8_t d[40000];
  size_t n;
} bytes;

static void put8(bytes *b, uint32_t v) { b->d[b->n++] = (uint8_t)v; }
static void put16(bytes *b, uint32_t v) {
  put8(b, v & 0xff);
  put8(b, v >> 8 & 0xff);
}
static void put32(bytes *b, uint32_t v) {
  put16(b, v & 0xffff);
  put16(b, v >> 16);
}
static void put64(bytes *b, uint64_t v) {
  put32(b, (uint32_t)v);
  put32(b, (uint32_t)(v >> 32));
}

static int decode(const bytes *b, int64_t card, tarn_arena *a, uint64_t **pos, size_t *n,
                  tarn_error *err) {
  memset(err, 0, sizeof *err);
  return delta_dv_decode_bitmap(b->d, b->n, card, a, pos, n, err);
}

static void test_containers(void) {
  tarn_arena a = {0};
  tarn_error err;
  uint64_t *pos;
  size_t n;
  /* Two buckets. Key 0: cookie 12346 with one bitset container (key 0, the 5008 even values
   * below 10016: words 0..155 all 0x55.., word 156 its low half). Key 3: cookie 12347 with two
   * containers, a run container (key 1, runs 10..14 and 100..101) and an array container (key 2,
   * values 7 and 9). */
  static bytes b;
  b.n = 0;
  put32(&b, 1681511377u);
  put64(&b, 2);
  put32(&b, 0);
  put32(&b, 12346);
  put32(&b, 1);
  put16(&b, 0);
  put16(&b, 5008 - 1);
  put32(&b, 0); /* offset header (ignored) */
  for (int w = 0; w < 1024; w++)
    put64(&b, w < 156 ? 0x5555555555555555ull : w == 156 ? 0x55555555ull : 0);
  put32(&b, 3);
  put32(&b, 12347u | (2u - 1) << 16);
  put8(&b, 0x01); /* container 0 is a run container */
  put16(&b, 1);
  put16(&b, 6); /* runs: card - 1 */
  put16(&b, 2);
  put16(&b, 1);
  put16(&b, 2); /* two runs */
  put16(&b, 10);
  put16(&b, 4);
  put16(&b, 100);
  put16(&b, 1);
  put16(&b, 7);
  put16(&b, 9);
  size_t full = b.n;
  const uint64_t evens = 5008;
  CHECK_EQ_INT(decode(&b, (int64_t)evens + 9, &a, &pos, &n, &err), 0);
  if (err.code) fprintf(stderr, "%s\n", err.message);
  CHECK_EQ_INT(n, evens + 9);
  if (n == evens + 9) {
    int ok = 1;
    for (size_t i = 0; i < evens; i++)
      ok &= pos[i] == 2 * i;
    CHECK(ok);
    uint64_t hi = (uint64_t)3 << 32;
    static const uint64_t tail[] = {65536 + 10,  65536 + 11,  65536 + 12, 65536 + 13, 65536 + 14,
                                    65536 + 100, 65536 + 101, 131072 + 7, 131072 + 9};
    for (size_t i = 0; i < 9; i++)
      CHECK_EQ_INT(pos[evens + i], hi + tail[i]);
  }
  /* Cardinality unchecked (negative), up to 3 zero padding bytes accepted, not more. */
  CHECK_EQ_INT(decode(&b, -1, &a, &pos, &n, &err), 0);
  CHECK_EQ_INT(n, evens + 9);
  put8(&b, 0);
  put8(&b, 0);
  put8(&b, 0);
  CHECK_EQ_INT(decode(&b, -1, &a, &pos, &n, &err), 0);
  put8(&b, 0);
  CHECK_EQ_INT(decode(&b, -1, &a, &pos, &n, &err), TARN_ECORRUPT);
  b.n = full;
  b.d[b.n++] = 1;
  CHECK_EQ_INT(decode(&b, -1, &a, &pos, &n, &err), TARN_ECORRUPT);
  b.n = full;

  /* Every truncation fails cleanly. */
  static bytes c;
  int all = 1;
  for (size_t cut = 0; cut < full; cut++) {
    memcpy(c.d, b.d, cut);
    c.n = cut;
    all &= decode(&c, -1, &a, &pos, &n, &err) == TARN_ECORRUPT;
  }
  CHECK(all);
  /* Every single-byte change outside the bitset words: an error or a strictly ascending set. */
  size_t bitset_at = 12 + 4 + 4 + 4 + 4 + 4, bitset_end = bitset_at + 8192;
  all = 1;
  for (size_t i = 0; i < full; i++) {
    if (i >= bitset_at && i < bitset_end && i != bitset_at + 5) continue;
    for (int v = 0; v < 256; v += 37) {
      memcpy(c.d, b.d, full);
      c.n = full;
      c.d[i] = (uint8_t)(c.d[i] ^ (v | 1));
      int rc = decode(&c, -1, &a, &pos, &n, &err);
      all &= rc == TARN_ECORRUPT || rc == TARN_ENOMEM || rc == 0;
      if (rc == 0)
        for (size_t k = 1; k < n; k++)
          all &= pos[k] > pos[k - 1];
    }
  }
  CHECK(all);
  tarn_arena_free(&a);
}

static void test_corrupt_bitmaps(void) {
  tarn_arena a = {0};
  tarn_error err;
  uint64_t *pos;
  size_t n;
  static bytes b;
  /* An empty vector (no buckets) is valid. */
  b.n = 0;
  put32(&b, 1681511377u);
  put64(&b, 0);
  CHECK_EQ_INT(decode(&b, 0, &a, &pos, &n, &err), 0);
  CHECK_EQ_INT(n, 0);
  /* A huge bucket count. */
  b.n = 0;
  put32(&b, 1681511377u);
  put64(&b, UINT64_MAX);
  put32(&b, 0);
  CHECK_EQ_INT(decode(&b, -1, &a, &pos, &n, &err), TARN_ECORRUPT);
  /* One bucket with an array container of values v0, v1 under key k. */
#define ARRAY_BUCKET(k, v0, v1)                                                                    \
  do {                                                                                             \
    put32(&b, k);                                                                                  \
    put32(&b, 12346);                                                                              \
    put32(&b, 1);                                                                                  \
    put16(&b, 0);                                                                                  \
    put16(&b, 1);                                                                                  \
    put32(&b, 0);                                                                                  \
    put16(&b, v0);                                                                                 \
    put16(&b, v1);                                                                                 \
  } while (0)
  b.n = 0;
  put32(&b, 1681511377u);
  put64(&b, 1);
  ARRAY_BUCKET(0x80000000u, 1, 2); /* key with its top bit set */
  CHECK_EQ_INT(decode(&b, -1, &a, &pos, &n, &err), TARN_ECORRUPT);
  b.n = 0;
  put32(&b, 1681511377u);
  put64(&b, 2);
  ARRAY_BUCKET(5, 1, 2);
  ARRAY_BUCKET(5, 3, 4); /* keys not ascending */
  CHECK_EQ_INT(decode(&b, -1, &a, &pos, &n, &err), TARN_ECORRUPT);
  b.n = 0;
  put32(&b, 1681511377u);
  put64(&b, 1);
  ARRAY_BUCKET(0, 9, 9); /* array values not ascending */
  CHECK_EQ_INT(decode(&b, -1, &a, &pos, &n, &err), TARN_ECORRUPT);
  b.n = 0;
  put32(&b, 1681511377u);
  put64(&b, 1);
  ARRAY_BUCKET(0, 3, 9);
  CHECK_EQ_INT(decode(&b, 2, &a, &pos, &n, &err), 0);
  CHECK_EQ_INT(decode(&b, 3, &a, &pos, &n, &err), TARN_ECORRUPT);
  b.d[12 + 4] = 0x39; /* wrong cookie */
  CHECK_EQ_INT(decode(&b, -1, &a, &pos, &n, &err), TARN_ECORRUPT);
  /* A bitset container whose header cardinality disagrees with its bits. */
  b.n = 0;
  put32(&b, 1681511377u);
  put64(&b, 1);
  put32(&b, 0);
  put32(&b, 12346);
  put32(&b, 1);
  put16(&b, 0);
  put16(&b, 4999);
  put32(&b, 0);
  for (int w = 0; w < 1024; w++)
    put64(&b, 0);
  CHECK_EQ_INT(decode(&b, -1, &a, &pos, &n, &err), TARN_ECORRUPT);
  /* Overlapping runs, a run past 16 bits, an empty run container. */
  static const uint16_t runs[3][5] = {{2, 10, 5, 12, 1}, {1, 65530, 10, 0, 0}, {0, 0, 0, 0, 0}};
  for (int r = 0; r < 3; r++) {
    b.n = 0;
    put32(&b, 1681511377u);
    put64(&b, 1);
    put32(&b, 0);
    put32(&b, 12347u);
    put8(&b, 1);
    put16(&b, 0);
    put16(&b, 0);
    put16(&b, runs[r][0]);
    for (int i = 0; i < runs[r][0]; i++) {
      put16(&b, runs[r][1 + 2 * i]);
      put16(&b, runs[r][2 + 2 * i]);
    }
    CHECK_EQ_INT(decode(&b, -1, &a, &pos, &n, &err), TARN_ECORRUPT);
  }
  /* The native layout with a truncated or oversized bitmap size. */
  b.n = 0;
  put32(&b, 0xd0d33964u); /* big-endian 1681511376 */
  put32(&b, 0x01000000u); /* big-endian 1 */
  put32(&b, 0xffffff7fu);
  put32(&b, 12346);
  CHECK_EQ_INT(decode(&b, -1, &a, &pos, &n, &err), TARN_ECORRUPT);
  /* Too short for any header. */
  b.n = 3;
  CHECK_EQ_INT(decode(&b, -1, &a, &pos, &n, &err), TARN_ECORRUPT);
  tarn_arena_free(&a);
}

int main(void) {
  snprintf(tmp_dir, sizeof tmp_dir, "/tmp/tarn_dv_XXXXXX");
  if (mkdtemp(tmp_dir) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  RUN(test_z85);
  RUN(test_inline);
  RUN(test_shared_tables);
  RUN(test_relative_prefix);
  RUN(test_corrupt_files);
  RUN(test_containers);
  RUN(test_corrupt_bitmaps);
  rmdir(tmp_dir);
  return check_finish();
}
