/*
 * Split-block bloom filter arithmetic; the contract and the layout are in bloom.h.
 */
#include "parquet/bloom.h"

#include <xxhash.h>

#include "tarn.h"

/* The eight odd multipliers of BloomFilter.md, one per 32-bit word of a block. */
static const uint32_t bloom_salt[8] = {0x47b6137bU, 0x44974d91U, 0x8824ad5bU, 0xa2b7289dU,
                                       0x705495c7U, 0x2df1424bU, 0x9efc4947U, 0x5c6bfb31U};

uint64_t pq_bloom_hash(const void *data, size_t len) {
  static const uint8_t none[1];
  return (uint64_t)XXH64(len ? data : none, len, 0);
}

/* The byte offset of hash's block. The block count is a 32-bit quantity in any real file
 * (numBytes is an i32), so the 64-bit product cannot overflow; multiply-and-shift maps the
 * upper half of the hash onto [0, blocks) without a division, as the format prescribes. */
static size_t bloom_block_offset(size_t len, uint64_t hash) {
  uint64_t blocks = len / PQ_BLOOM_BLOCK_BYTES;
  return (size_t)(((hash >> 32) * blocks) >> 32) * PQ_BLOOM_BLOCK_BYTES;
}

/* A usable bitset: a positive multiple of the block size, and few enough blocks for the
 * offset arithmetic above. */
static int bloom_len_ok(size_t len) {
  return len > 0 && len % PQ_BLOOM_BLOCK_BYTES == 0 &&
         (uint64_t)(len / PQ_BLOOM_BLOCK_BYTES) <= UINT32_MAX;
}

int pq_bloom_check(const uint8_t *bitset, size_t bitset_len, uint64_t hash) {
  if (!bloom_len_ok(bitset_len)) return 1;
  const uint8_t *block = bitset + bloom_block_offset(bitset_len, hash);
  uint32_t key = (uint32_t)hash;
  for (int i = 0; i < 8; i++) {
    /* Bit b of little-endian word i is bit b % 8 of byte 4 * i + b / 8: no word loads, so no
     * alignment or byte-order concerns. */
    uint32_t bit = (key * bloom_salt[i]) >> 27;
    if (!(block[4 * i + bit / 8] & (1u << (bit % 8)))) return 0;
  }
  return 1;
}

int pq_bloom_insert(uint8_t *bitset, size_t len, uint64_t hash) {
  if (!bloom_len_ok(len)) return TARN_EINVAL;
  uint8_t *block = bitset + bloom_block_offset(len, hash);
  uint32_t key = (uint32_t)hash;
  for (int i = 0; i < 8; i++) {
    uint32_t bit = (key * bloom_salt[i]) >> 27;
    block[4 * i + bit / 8] |= (uint8_t)(1u << (bit % 8));
  }
  return 0;
}
