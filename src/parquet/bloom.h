/*
 * Parquet split-block bloom filters (parquet-format BloomFilter.md).
 *
 * A column chunk may carry a bloom filter that answers "is value v possibly in this chunk?"
 * without reading its pages, which lets a scan skip row groups on equality predicates over
 * high-cardinality columns where min/max statistics do not help. The filter is an array of
 * 32-byte blocks; a value's 64-bit hash picks one block with its upper 32 bits and sets or tests
 * one bit in each of the block's eight 32-bit little-endian words with its lower 32 bits. The
 * hash is XXH64 with seed 0 of the value's plain encoding, except that a BYTE_ARRAY value is
 * hashed as its bytes alone, without the 4-byte length that plain encoding puts before them.
 *
 * This module holds only the arithmetic; reading the BloomFilterHeader (Thrift) that precedes
 * the bitset in the file, and decrypting it, belong to the reader.
 */
#ifndef TARN_PARQUET_BLOOM_H
#define TARN_PARQUET_BLOOM_H

#include <stddef.h>
#include <stdint.h>

#define PQ_BLOOM_BLOCK_BYTES 32

/* XXH64 with seed 0 of data[0..len) (data may be NULL when len is 0). */
uint64_t pq_bloom_hash(const void *data, size_t len);

/* Tests hash against the filter bitset[0..bitset_len). Returns 0 when the value is definitely
 * absent, 1 when it may be present. A bitset whose length is not a positive multiple of 32
 * cannot be interpreted, so it answers 1 (no pruning) rather than risk a false "absent". */
int pq_bloom_check(const uint8_t *bitset, size_t bitset_len, uint64_t hash);

/* Sets hash's eight bits in bitset[0..len). Returns 0, or TARN_EINVAL (leaving the bitset
 * untouched) when len is not a positive multiple of 32. */
int pq_bloom_insert(uint8_t *bitset, size_t len, uint64_t hash);

#endif
