/*
 * Tests for the split-block bloom filter. The independent values: XXH64 reference outputs, bit
 * positions worked out by hand from the salt table of BloomFilter.md, and the filter that
 * parquet-mr wrote into parquet-testing's bloom_filter.xxhash.bin after inserting "hello",
 * "parquet", "bloom" and "filter" (data/README.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "parquet/bloom.h"
#include "shared_data.h"
#include "tarn.h"

/* ---- shared test data ---- */

/* A minimal reader for the BloomFilterHeader in the Thrift compact protocol:
 *   1: i32 numBytes, 2: algorithm union {1: BLOCK}, 3: hash union {1: XXHASH},
 *   4: compression union {1: UNCOMPRESSED}; every union member an empty struct.
 * Returns the header's length in bytes and sets *num_bytes, or 0 when the bytes are not such a
 * header (or use another algorithm, hash or compression). */
static size_t parse_bloom_header(const uint8_t *p, size_t len, int32_t *num_bytes) {
  size_t pos = 0;
  int id = 0, seen = 0;
  while (pos < len) {
    uint8_t h = p[pos++];
    if (h == 0) return seen == 0xf ? pos : 0; /* stop: all four fields must have appeared */
    if (h >> 4 == 0) return 0;                /* long-form field ids do not occur here */
    id += h >> 4;
    int type = h & 0x0f;
    if (id == 1 && type == 5) { /* i32, zigzag varint */
      uint32_t z = 0;
      for (int shift = 0; shift < 35; shift += 7) {
        if (pos >= len) return 0;
        uint8_t b = p[pos++];
        z |= (uint32_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) break;
      }
      *num_bytes = (int32_t)((z >> 1) ^ (~(z & 1) + 1));
      seen |= 1;
    } else if (id >= 2 && id <= 4 && type == 12) {
      /* A union holding member 1 as an empty struct: 0x1c, 0x00 (empty struct), 0x00. */
      if (len - pos < 3 || p[pos] != 0x1c || p[pos + 1] != 0 || p[pos + 2] != 0) return 0;
      pos += 3;
      seen |= 1 << (id - 1);
    } else {
      return 0;
    }
  }
  return 0;
}

/* ---- tests ---- */

static void test_hash_vectors(void) {
  /* Reference values of XXH64 with seed 0 (xxHash's published sanity checks). */
  CHECK(pq_bloom_hash("", 0) == UINT64_C(0xef46db3751d8e999));
  CHECK(pq_bloom_hash(NULL, 0) == UINT64_C(0xef46db3751d8e999));
  CHECK(pq_bloom_hash("a", 1) == UINT64_C(0xd24ec4f1a98c6e5b));
  CHECK(pq_bloom_hash("abc", 3) == UINT64_C(0x44bc2cf5ad770999));
}

static void test_hand_computed_bits(void) {
  /* Lower half 1: bit i = salt[i] >> 27 = 8, 8, 17, 20, 14, 5, 19, 11, one in each word. */
  static const int bits[8] = {8, 8, 17, 20, 14, 5, 19, 11};
  uint8_t expect[32] = {0};
  for (int i = 0; i < 8; i++)
    expect[4 * i + bits[i] / 8] = (uint8_t)(1u << (bits[i] % 8));
  uint8_t one_block[32] = {0};
  CHECK_EQ_INT(pq_bloom_insert(one_block, sizeof one_block, 1), 0);
  CHECK(memcmp(one_block, expect, 32) == 0);
  CHECK_EQ_INT(pq_bloom_check(one_block, sizeof one_block, 1), 1);
  /* The upper half does not matter with one block. */
  CHECK_EQ_INT(pq_bloom_check(one_block, sizeof one_block, UINT64_C(0xffffffff00000001)), 1);
  /* Lower half 2 gives bits 17, 17, 2, 8, 28, 11, 7, 23: word 0 differs, so "absent". */
  CHECK_EQ_INT(pq_bloom_check(one_block, sizeof one_block, 2), 0);

  /* Four blocks: the block is (upper half * 4) >> 32. */
  struct {
    uint64_t upper;
    int block;
  } cases[] = {{0x00000000u, 0}, {0x3fffffffu, 0}, {0x40000000u, 1},
               {0x80000000u, 2}, {0xbfffffffu, 2}, {0xffffffffu, 3}};
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    uint8_t four[128] = {0};
    CHECK_EQ_INT(pq_bloom_insert(four, sizeof four, cases[c].upper << 32 | 1), 0);
    for (int b = 0; b < 4; b++) {
      int same = memcmp(four + 32 * b, expect, 32) == 0;
      CHECK_EQ_INT(same, b == cases[c].block);
    }
  }
}

static void test_bad_lengths(void) {
  uint8_t bits[64];
  memset(bits, 0, sizeof bits);
  /* Uninterpretable lengths answer "maybe" and insert nothing. */
  CHECK_EQ_INT(pq_bloom_check(bits, 0, 123), 1);
  CHECK_EQ_INT(pq_bloom_check(bits, 31, 123), 1);
  CHECK_EQ_INT(pq_bloom_check(bits, 33, 123), 1);
  CHECK_EQ_INT(pq_bloom_check(bits, 32, 123), 0);
  CHECK_EQ_INT(pq_bloom_insert(bits, 0, 123), TARN_EINVAL);
  CHECK_EQ_INT(pq_bloom_insert(bits, 48, 123), TARN_EINVAL);
  uint8_t zeros[64] = {0};
  CHECK(memcmp(bits, zeros, sizeof bits) == 0);
}

static uint32_t rng_state = 0x9e3779b9u;
static uint32_t rng(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}

static void test_round_trip(void) {
  /* 1000 values in 11.54 bits each (BloomFilter.md's optimum, about 0.5% false positives),
   * rounded up to whole blocks. */
  enum { N = 1000 };
  size_t len = (size_t)((N * 11.54 / 8 + 31) / 32) * 32;
  uint8_t *bits = calloc(len, 1);
  char value[32];
  for (int i = 0; i < N; i++) {
    int n = snprintf(value, sizeof value, "user-%d", i * 7919);
    CHECK_EQ_INT(pq_bloom_insert(bits, len, pq_bloom_hash(value, (size_t)n)), 0);
  }
  int missing = 0, false_pos = 0;
  for (int i = 0; i < N; i++) {
    int n = snprintf(value, sizeof value, "user-%d", i * 7919);
    missing += !pq_bloom_check(bits, len, pq_bloom_hash(value, (size_t)n));
  }
  CHECK_EQ_INT(missing, 0); /* a bloom filter has no false negatives */
  for (int i = 0; i < 20000; i++) {
    int n = snprintf(value, sizeof value, "other-%u", rng());
    false_pos += pq_bloom_check(bits, len, pq_bloom_hash(value, (size_t)n));
  }
  /* Expected about 100 of 20000; allow up to 2%, and require some (an all-ones filter or a
   * check that always says "maybe" would pass the first bound alone). */
  CHECK(false_pos < 400);
  CHECK(false_pos > 10);
  /* Each insert sets at most 8 bits, and at least one new bit for most values. */
  size_t set = 0;
  for (size_t i = 0; i < len; i++)
    for (int b = 0; b < 8; b++)
      set += (bits[i] >> b) & 1;
  CHECK(set <= (size_t)N * 8 && set > (size_t)N * 5);
  free(bits);
}

static const char *const inserted[] = {"hello", "parquet", "bloom", "filter"};

static void test_parquet_mr_filter(void) {
  size_t len = 0;
  uint8_t *file = shared_data_read("testdata/parquet-testing/data/bloom_filter.xxhash.bin", &len);
  CHECK(file != NULL);
  if (file == NULL) return;
  int32_t num_bytes = -1;
  size_t header = parse_bloom_header(file, len, &num_bytes);
  CHECK(header > 0);
  CHECK_EQ_INT(num_bytes, 1024);
  CHECK_EQ_INT(len - header, (size_t)num_bytes);
  if (header == 0 || len - header != (size_t)num_bytes) {
    free(file);
    return;
  }
  const uint8_t *bits = file + header;
  for (size_t i = 0; i < 4; i++)
    CHECK_EQ_INT(
        pq_bloom_check(bits, (size_t)num_bytes, pq_bloom_hash(inserted[i], strlen(inserted[i]))),
        1);
  /* Four values set 32 bits in all, so anything else is almost surely absent. */
  int false_pos = 0;
  char value[32];
  for (int i = 0; i < 500; i++) {
    int n = snprintf(value, sizeof value, "%u", rng());
    false_pos += pq_bloom_check(bits, (size_t)num_bytes, pq_bloom_hash(value, (size_t)n));
  }
  false_pos += pq_bloom_check(bits, (size_t)num_bytes, pq_bloom_hash("Hello", 5));
  false_pos += pq_bloom_check(bits, (size_t)num_bytes, pq_bloom_hash("parque", 6));
  /* Hashing the plain encoding with its length prefix would be wrong: those must miss too. */
  static const uint8_t prefixed_hello[] = {5, 0, 0, 0, 'h', 'e', 'l', 'l', 'o'};
  false_pos += pq_bloom_check(bits, (size_t)num_bytes, pq_bloom_hash(prefixed_hello, 9));
  CHECK(false_pos <= 2);
  /* Inserting the same values into an empty filter reproduces parquet-mr's bitset exactly. */
  uint8_t *mine = calloc((size_t)num_bytes, 1);
  for (size_t i = 0; i < 4; i++)
    pq_bloom_insert(mine, (size_t)num_bytes, pq_bloom_hash(inserted[i], strlen(inserted[i])));
  CHECK(memcmp(mine, bits, (size_t)num_bytes) == 0);
  free(mine);
  free(file);
}

static void test_deprecated_murmur3_filter(void) {
  /* bloom_filter.bin is the pre-release format: a 12-byte binary header (numBytes, algorithm,
   * hash as little-endian int32) and Murmur3 hashes. Its header is not a Thrift
   * BloomFilterHeader, which is how a reader tells it apart; and it must, because XXH64 lookups
   * against it give false "absent" answers. */
  size_t len = 0;
  uint8_t *file = shared_data_read("testdata/parquet-testing/data/bloom_filter.bin", &len);
  CHECK(file != NULL);
  if (file == NULL) return;
  int32_t num_bytes = -1;
  CHECK_EQ_INT(parse_bloom_header(file, len, &num_bytes), 0);
  CHECK(len == 12 + 1024 && file[0] == 0x00 && file[1] == 0x04 && file[2] == 0 && file[3] == 0);
  int absent = 0;
  for (size_t i = 0; i < 4; i++)
    absent += !pq_bloom_check(file + 12, 1024, pq_bloom_hash(inserted[i], strlen(inserted[i])));
  CHECK(absent > 0);
  free(file);
}

int main(void) {
  RUN(test_hash_vectors);
  RUN(test_hand_computed_bits);
  RUN(test_bad_lengths);
  RUN(test_round_trip);
  RUN(test_parquet_mr_filter);
  RUN(test_deprecated_murmur3_filter);
  return check_finish();
}
