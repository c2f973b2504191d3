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
 *
 * Integer keys: when every key column is integer-like (physical type I64: int2/4/8, date, time,
 * timestamp) and equality is all that matters (joins), sql_keys_ints skips the byte form. The
 * keys are then the columns' int64 values themselves (ints[c], read in place from the vectors),
 * hashed with sql_keys_mix; two such keys are equal exactly when their values are, which for
 * columns of one type is exactly when their byte forms are.
 */
#ifndef TARN_SQL_KEYS_H
#define TARN_SQL_KEYS_H

#include "sql/vector.h"

typedef struct sql_key_col {
  bool descending;
  bool nulls_first;
} sql_key_col;

/* Most columns of an integer key (sql_keys_ints). */
#define SQL_KEYS_MAX_INTS 4

typedef struct sql_keys {
  uint32_t n;       /* rows */
  uint8_t *bytes;   /* all keys back to back (byte form) */
  uint32_t *offset; /* n + 1 offsets into bytes (byte form) */
  uint64_t *hash;   /* n hashes of the keys (xxh3 of the bytes, or sql_keys_mix of the ints) */
  bool *has_null;   /* n: some column of the row is NULL (joins never match those) */
  uint32_t n_ints;  /* integer form: the number of columns; 0: byte form */
  const int64_t *ints[SQL_KEYS_MAX_INTS]; /* integer form: column c of row i is ints[c][i]
                                             (unspecified where that column is NULL) */
} sql_keys;

/* Encodes rows [0, n) of cols[0..n_cols) (all of length >= n) into keys, allocated in m. dirs
 * may be NULL (all ascending, NULLS LAST). Errors: TARN_ENOMEM. */
int sql_keys_encode(sql_mem *m, sql_vec *const *cols, const sql_key_col *dirs, size_t n_cols,
                    uint32_t n, sql_keys *keys, tarn_error *err);

/* The hash of a byte string the same way sql_keys_encode hashes keys. */
uint64_t sql_keys_hash(const uint8_t *bytes, size_t len);

/* Whether columns of these types can be integer keys: 1 to SQL_KEYS_MAX_INTS columns, all of
 * physical type I64. */
bool sql_keys_ints_fit(const sql_type *const *types, size_t n_cols);

/* The integer form of rows [0, n) of cols[0..n_cols) (types as sql_keys_ints_fit accepts, or the
 * NULL type): ints point into the vectors, so keys lives no longer than they do; hash and
 * has_null are allocated in m. Errors: TARN_ENOMEM, TARN_EINVAL (a column of another type). */
int sql_keys_ints(sql_mem *m, sql_vec *const *cols, size_t n_cols, uint32_t n, sql_keys *keys,
                  tarn_error *err);

/* The hash of an integer key's first value (the splitmix64 finaliser: every input bit moves
 * every output bit, so the low bits a hash table indexes by and the high bits it keeps as a tag
 * are both well spread). Further columns fold in as mix(h ^ value). */
static inline uint64_t sql_keys_mix(uint64_t x) {
  x ^= x >> 30;
  x *= UINT64_C(0xbf58476d1ce4e5b9);
  x ^= x >> 27;
  x *= UINT64_C(0x94d049bb133111eb);
  return x ^ (x >> 31);
}

#endif
