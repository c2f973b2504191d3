/*
 * Building blocks the blocking operators share: a hash table of row keys, a growable store of
 * rows, a store of key byte strings, gathers with NULL rows, and the spill file format.
 *
 * The hash table maps the keys of keys.h to dense group numbers (0, 1, 2, ... in order of first
 * appearance). It is open addressing over the keys' 64-bit hashes: a slot holds the group number
 * and the upper half of the hash, so a probe touches the stored key only when 32 bits of hash
 * already agree. Aggregation, DISTINCT, set operations and the hash join all group through it;
 * whatever they keep per group lives in arrays indexed by the group number. A table holds keys of
 * one form: byte strings (the default), or, after sql_ktab_use_ints, integer keys of a fixed
 * number of columns (sql_keys_ints), stored as that many int64 per group and compared as
 * integers; their slots also hold the key's first column, so a one-column key is found or ruled
 * out without leaving the slot. The hash join uses the integer form whenever its keys allow (the
 * common case of integer and date keys): no key bytes are built, hashed or compared.
 *
 * Spill files hold batches in a private format (column by column: null map, then the values of
 * the physical type, strings as lengths then bytes, lists and structs recursively) that only this
 * process reads back. The file is unlinked as soon as it is created, so it disappears when closed
 * or when the process dies.
 */
#ifndef TARN_SQL_EXEC_UTIL_H
#define TARN_SQL_EXEC_UTIL_H

#include <stdio.h>

#include "sql/exec.h"
#include "sql/keys.h"

/* "No row / no group" in selection and group arrays. */
#define SQL_NONE UINT32_MAX

/* --- Hash table of keys ----------------------------------------------------------------------- */

/* A slot of a table of integer keys: the key's first column beside the usual slot. */
typedef struct sql_kslot {
  uint64_t meta; /* (hash >> 32) << 32 | (group + 1); 0 = empty */
  int64_t key;
} sql_kslot;

struct sql_ktab {
  uint64_t *slots;   /* byte keys: (hash >> 32) << 32 | (group + 1); 0 = empty */
  sql_kslot *islots; /* integer keys: the slots instead of slots */
  uint64_t mask;     /* slot count - 1 */
  uint32_t n;        /* groups */
  uint32_t cap;      /* capacity of hash and off / ints */
  uint64_t *hash;    /* per group */
  /* Byte keys: */
  uint64_t *off; /* per group: start of its key in bytes; off[n] = used */
  uint8_t *bytes;
  size_t used, bytes_cap;
  int32_t fixed; /* every key has this many bytes (0: no key yet, -1: lengths differ) */
  /* Integer keys: */
  uint32_t n_ints; /* columns per key (0: byte keys) */
  int64_t *ints;   /* group g's key is ints[g * n_ints .. (g + 1) * n_ints) */
  /* Set by sql_ktab_seal for a table too big for the caches: a blocked Bloom filter of the
   * groups' hashes, two bits per key in one 64-bit word, checked before the slots. */
  uint64_t *filter;
  uint64_t filter_mask; /* words - 1 */
};

void sql_ktab_init(sql_ktab *t);
/* Makes an empty table one of integer keys of n_ints columns (1..SQL_KEYS_MAX_INTS). */
int sql_ktab_use_ints(sql_ktab *t, uint32_t n_ints, tarn_error *err);
void sql_ktab_free(sql_ktab *t);
/* Sizes the slot array for n groups up front (a hint: the table still grows past it). */
int sql_ktab_reserve(sql_ktab *t, uint64_t n, tarn_error *err);
/* Heap bytes the table holds (for memory accounting). */
size_t sql_ktab_bytes(const sql_ktab *t);

/* For each row i = sel[k] (k < n; sel NULL: i = k): gids[i] = the group of key i, added when
 * absent. When is_new is not NULL, is_new[i] says whether row i created its group. keys must be
 * of the table's form (sql_keys_ints for a table of integer keys, else sql_keys_encode). */
int sql_ktab_insert(sql_ktab *t, const sql_keys *keys, const uint32_t *sel, uint32_t n,
                    uint32_t *gids, uint8_t *is_new, tarn_error *err);

/* Declares that t will only be looked up from now on (a hash join's build is complete). When its
 * slots are larger than the caches, builds the membership filter that lets a lookup of an absent
 * key (most probe rows of a selective join) finish without touching them. Inserting afterwards is
 * a usage error. */
int sql_ktab_seal(sql_ktab *t, tarn_error *err);

/* The filter word of hash h, and the two bits a key sets in it (hash bits the slot index and the
 * tag do not use first: the word from the tag's upper half, the bits from the middle). */
static inline uint64_t sql_ktab_filter_word(const sql_ktab *t, uint64_t h) {
  return (h >> 32) & t->filter_mask;
}
static inline uint64_t sql_ktab_filter_bits(uint64_t h) {
  return ((uint64_t)1 << ((h >> 20) & 63)) | ((uint64_t)1 << ((h >> 26) & 63));
}

/* Whether a sealed table with a membership filter may hold a key of hash h (false: certainly
 * not). */
static inline bool sql_ktab_may_hold(const sql_ktab *t, uint64_t h) {
  uint64_t bits = sql_ktab_filter_bits(h);
  return (t->filter[sql_ktab_filter_word(t, h)] & bits) == bits;
}

/* For each row i as above: gids[i] = the group of key i or SQL_NONE (keys of the wrong form
 * match nothing). Only reads the table: threads may look up in one table at once. */
void sql_ktab_lookup(const sql_ktab *t, const sql_keys *keys, const uint32_t *sel, uint32_t n,
                     uint32_t *gids);

/* --- Row store -------------------------------------------------------------------------------- */

/* Columns accumulated across batches in a region of their own (string bytes copied in). */
typedef struct sql_rows {
  sql_mem *mem;
  uint32_t n_cols;
  uint32_t n;     /* rows */
  sql_vec *cols;  /* n_cols vectors of n rows */
  uint32_t *caps; /* capacity of each column */
} sql_rows;

int sql_rows_init(sql_rows *r, const sql_type *const *types, uint32_t n_cols, tarn_error *err);
/* Appends rows [from, from + count) of cols[0..n_cols). */
int sql_rows_append(sql_rows *r, const sql_vec *cols, uint32_t from, uint32_t count,
                    tarn_error *err);
/* Appends rows sel[0..n) of cols (gathered first into a scratch region). */
int sql_rows_append_sel(sql_rows *r, const sql_vec *cols, const uint32_t *sel, uint32_t n,
                        tarn_error *err);
void sql_rows_free(sql_rows *r);
size_t sql_rows_bytes(const sql_rows *r);

/* --- Key store -------------------------------------------------------------------------------- */

/* Key byte strings appended row by row (sort keys, window keys, ordered aggregates). */
typedef struct sql_keystore {
  uint8_t *bytes;
  uint64_t *off; /* n + 1 */
  size_t used, cap;
  uint32_t n, ncap;
} sql_keystore;

/* Appends the keys of rows sel[0..n) (sel NULL: rows 0..n). */
int sql_keystore_add(sql_keystore *ks, const sql_keys *keys, const uint32_t *sel, uint32_t n,
                     tarn_error *err);
/* Appends one key made of the concatenation of parts[0..n_parts). */
int sql_keystore_push(sql_keystore *ks, const uint8_t *const *parts, const size_t *lens,
                      int n_parts, tarn_error *err);
void sql_keystore_free(sql_keystore *ks);
size_t sql_keystore_bytes(const sql_keystore *ks);
/* memcmp order of keys a and b (shorter first when one is a prefix of the other). */
int sql_keystore_cmp(const sql_keystore *ks, uint32_t a, uint32_t b);

/* Sorts the key numbers rows[0..n) (rows NULL: 0..n) by (key bytes, key number) into out: a
 * stable sort by key when the numbers are in input order. */
int sql_keystore_sort(const sql_keystore *ks, const uint32_t *rows, uint32_t n, uint32_t *out,
                      tarn_error *err);

/* --- Vectors ---------------------------------------------------------------------------------- */

/* out[i] = src[sel[i]], or NULL where sel[i] == SQL_NONE (src may then be empty). */
int sql_gather_nullable(sql_mem *m, const sql_vec *src, const uint32_t *sel, uint32_t n,
                        sql_vec *out, tarn_error *err);

/* A vector of n NULLs of type t. */
int sql_vec_all_null(sql_mem *m, const sql_type *t, uint32_t n, sql_vec *out, tarn_error *err);

/* Rows [from, from + n) of b as a new batch sharing b's buffers. */
int sql_batch_slice(const sql_batch *b, uint32_t from, uint32_t n, sql_batch **out,
                    tarn_error *err);

/* Evaluates e over b into out (allocated in mem), always b->n_rows values long. */
int sql_eval_one(sql_exec_ctx *ctx, sql_mem *mem, const sql_expr *e, const sql_batch *b,
                 sql_vec *out);
/* Evaluates exprs[0..n) over b into cols (allocated in mem). */
int sql_eval_all(sql_exec_ctx *ctx, sql_mem *mem, sql_expr *const *exprs, size_t n,
                 const sql_batch *b, sql_vec *cols);

/* Resolves column ids of exprs against the output of plan p. */
int sql_resolve_all(sql_expr *const *exprs, size_t n, const sql_plan *p, tarn_error *err);

/* Charges bytes to the query's budget, or reports TARN_ENOMEM naming what. */
int sql_charge_or_fail(sql_exec_ctx *ctx, int64_t bytes, const char *what);

/* Grows *arr (elements of size elem) to hold at least need elements; *cap doubles. */
int sql_grow(void **arr, uint32_t *cap, uint32_t need, size_t elem, tarn_error *err);

/* --- Operators -------------------------------------------------------------------------------- */

/* A new operator running p with vtable vt and a zeroed state of state_size bytes; the children
 * p->child[0..n_children) are built with sql_exec_build. Operators built this way open their
 * children in open and close them in close; close is idempotent (the state pointer is cleared). */
int sql_xop_new(sql_exec_ctx *ctx, sql_plan *p, const sql_op_vtable *vt, size_t state_size,
                int n_children, sql_op **out);
/* Closes and frees an operator whose construction failed; returns rc. */
int sql_xop_fail(sql_op *op, int rc);
int sql_xop_open_children(sql_op *op, sql_exec_ctx *ctx);
void sql_xop_close_children(sql_op *op);

/* --- Spill files ------------------------------------------------------------------------------ */

/* A new anonymous temporary file in dir (NULL: $TMPDIR or /tmp). */
int sql_spill_open(const char *dir, FILE **out, tarn_error *err);
/* Appends batch b. */
int sql_spill_write(FILE *f, const sql_batch *b, tarn_error *err);
/* Reads the next batch (columns of the given types) or *out = NULL at the end of the file. */
int sql_spill_read(FILE *f, const sql_type *const *types, uint32_t n_cols, sql_batch **out,
                   tarn_error *err);

#endif
