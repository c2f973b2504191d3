/*
 * Row keys: one byte-string form of a tuple of values, for grouping, joining, DISTINCT, set
 * operations and sorting alike.
 *
 * A key is the concatenation of each column's order-preserving encoding: a NULL marker byte, then
 * the value in a form whose memcmp order is the SQL order (big-endian integers with the sign bit
 * flipped, floats with their sign-magnitude bits rearranged and -0.0 folded into 0.0 and every
 * NaN made one NaN greater than all numbers, decimals as 16-byte big-endian, strings with 0x00
 * escaped and a terminator, intervals normalised to PostgreSQL's comparison order, nested values
 * element by element). Descending columns invert their bytes, and NULLS FIRST / LAST picks the
 * marker. So equal keys mean equal (NULL-equal) tuples, and memcmp order is ORDER BY order: hash
 * tables hash and compare the bytes, sorts compare them with memcmp.
 */
#ifndef TARN_SQL_KEYS_H
#define TARN_SQL_KEYS_H

#include "sql/vector.h"

typedef struct sql_key_col {
  bool descending;
  bool nulls_first;
} sql_key_col;

typedef struct sql_keys {
  uint32_t n;        /* rows */
  uint8_t *bytes;    /* all keys back to back */
  uint32_t *offset;  /* n + 1 offsets into bytes */
  uint64_t *hash;    /* n hashes of the keys (xxh3) */
  bool *has_null;    /* n: some column of the row is NULL (joins never match those) */
} sql_keys;

/* Encodes rows [0, n) of cols[0..n_cols) (all of length >= n) into keys, allocated in m. dirs
 * may be NULL (all ascending, NULLS LAST). Errors: TARN_ENOMEM. */
int sql_keys_encode(sql_mem *m, sql_vec *const *cols, const sql_key_col *dirs, size_t n_cols,
                    uint32_t n, sql_keys *keys, tarn_error *err);

/* The hash of a byte string the same way sql_keys_encode hashes keys. */
uint64_t sql_keys_hash(const uint8_t *bytes, size_t len);

#endif
