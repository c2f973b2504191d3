/*
 * Vectors and batches: the executor's unit of data.
 *
 * A vector is one column of up to SQL_BATCH_ROWS values in the physical form its type names
 * (types.h), with an optional byte-per-row null map. A batch is a set of equally long vectors.
 * Operators pass batches up the plan; kernels loop over plain C arrays, so the hot loops have no
 * per-value dispatch.
 *
 * Memory: every batch holds a reference to a sql_mem, a reference-counted region (an arena) that
 * owns the vectors' buffers. A batch that shares buffers with another (a filter that keeps string
 * views into its input, a scan whose strings point into the Arrow buffers it decoded) records that
 * by retaining the other region as a parent, so memory is freed exactly when the last batch that
 * can see it is released. Anything kept across batches (hash tables, sort runs, aggregate
 * states) copies the bytes it keeps into memory of its own.
 */
#ifndef TARN_SQL_VECTOR_H
#define TARN_SQL_VECTOR_H

#include "sql/types.h"

#define SQL_BATCH_ROWS 2048

typedef struct sql_mem sql_mem;

/* A new region with one reference. NULL when out of memory. */
sql_mem *sql_mem_new(void);
void sql_mem_retain(sql_mem *m);
/* Drops a reference; the last one frees the arena, releases the parents and the Arrow arrays. */
void sql_mem_release(sql_mem *m);
/* Zeroed, 16-byte aligned memory owned by m; NULL on overflow or out of memory. */
void *sql_mem_alloc(sql_mem *m, size_t n, size_t size);
/* The same without zeroing, for buffers the caller overwrites in full. */
void *sql_mem_alloc_raw(sql_mem *m, size_t n, size_t size);
/* Makes m own a malloc'ed buffer p (freed when m dies; freed at once if this fails). Returns 0 or
 * TARN_ENOMEM. */
int sql_mem_adopt(sql_mem *m, void *p);
/* Makes m keep parent alive (retains it). Returns 0 or TARN_ENOMEM. */
int sql_mem_add_parent(sql_mem *m, sql_mem *parent);
/* Makes m own an imported Arrow array (moved in: *array is released when m dies). */
int sql_mem_adopt_arrow(sql_mem *m, struct ArrowArray *array);
/* Bytes allocated in m itself (not its parents): memory accounting for the query limit. */
size_t sql_mem_bytes(const sql_mem *m);

typedef struct sql_vec {
  const sql_type *type;
  uint32_t n;            /* number of values */
  uint8_t *nulls;        /* NULL: no nulls; else nulls[i] != 0 means row i is NULL */
  void *data;            /* n values of the physical type (U8/I64/F64/I128/STR/INTERVAL); unused for
                            NONE and STRUCT */
  int64_t *offsets;      /* LIST/MAP: n + 1 offsets into child */
  struct sql_vec *child; /* LIST/MAP: one element vector; STRUCT: type->n_fields vectors, each of
                            length n */
} sql_vec;

/* Typed accessors. */
#define SQL_VEC_U8(v) ((uint8_t *)(v)->data)
#define SQL_VEC_I64(v) ((int64_t *)(v)->data)
#define SQL_VEC_F64(v) ((double *)(v)->data)
#define SQL_VEC_I128(v) ((sql_i128 *)(v)->data)
#define SQL_VEC_STR(v) ((sql_str *)(v)->data)
#define SQL_VEC_IV(v) ((sql_interval *)(v)->data)
#define SQL_VEC_IS_NULL(v, i) ((v)->nulls != NULL && (v)->nulls[i])

typedef struct sql_batch {
  uint32_t n_rows;
  uint32_t n_cols;
  sql_vec *cols;
  sql_mem *mem; /* one reference owned by the batch */
} sql_batch;

/* Allocates a vector of n values of type t in m: data (zeroed), nulls left NULL, offsets and
 * children for composite types (children of LIST/MAP start empty: n = 0). */
int sql_vec_init(sql_mem *m, sql_vec *v, const sql_type *t, uint32_t n, tarn_error *err);

/* Gives v a zeroed null map (if it has none) and returns it; NULL when out of memory. */
uint8_t *sql_vec_nulls(sql_mem *m, sql_vec *v);

/* A vector of n copies of one value (v0 is a 1-row vector). Strings are shared, not copied. */
int sql_vec_broadcast(sql_mem *m, const sql_vec *v0, uint32_t n, sql_vec *out, tarn_error *err);

/* out[i] = src[sel[i]] for i < n_sel. Strings are shared (out's region must keep src's alive);
 * nested values are gathered recursively. */
int sql_vec_gather(sql_mem *m, const sql_vec *src, const uint32_t *sel, uint32_t n_sel,
                   sql_vec *out, tarn_error *err);

/* Rows [from, from + count) of v as a view sharing v's buffers (struct field arrays allocated in
 * m); valid while v is. */
int sql_vec_slice(sql_mem *m, const sql_vec *v, uint32_t from, uint32_t count, sql_vec *out,
                  tarn_error *err);

/* Appends rows [from, from+count) of src to dst (which has capacity *cap, grown by doubling in m),
 * copying string bytes into m. For builders that accumulate many batches (sort, hash table
 * payloads, lists). */
int sql_vec_append(sql_mem *m, sql_vec *dst, uint32_t *cap, const sql_vec *src, uint32_t from,
                   uint32_t count, tarn_error *err);

/* Copies a string into m; returns a view of the copy ({NULL, 0} if out of memory and len > 0). */
sql_str sql_mem_str(sql_mem *m, const char *p, size_t len);

/* A new empty batch with n_cols columns (vectors uninitialised) and a fresh region. */
int sql_batch_new(uint32_t n_cols, uint32_t n_rows, sql_batch **out, tarn_error *err);
/* Releases the batch's region reference and the batch. NULL is a no-op. */
void sql_batch_free(sql_batch *b);

/* The rows of b at sel[0..n_sel) as a new batch sharing b's buffers (retains b's region). */
int sql_batch_select(const sql_batch *b, const uint32_t *sel, uint32_t n_sel, sql_batch **out,
                     tarn_error *err);

/* Imports an Arrow struct array (one batch of a stream with schema `schema`, whose children
 * have the SQL types `types`) as a batch; the array is moved into the batch's region, and
 * string views point into its buffers without copying. Handles offsets, dictionaries, validity
 * bitmaps, every integer width (unsigned ones to the next signed width or decimal(20,0)),
 * timestamps in s/ms/us/ns (ns truncated toward minus infinity), date32/64, time32/64,
 * decimal32/64/128, (large) strings and binaries, string views, fixed-size binary, lists
 * (large, fixed-size), structs, maps, month-day-nano intervals. Errors: TARN_EUNSUPPORTED. */
int sql_batch_from_arrow(const struct ArrowSchema *schema, struct ArrowArray *array,
                         const sql_type *const *types, sql_batch **out, tarn_error *err);

/* Whether sql_batch_from_arrow can read values of Arrow field as type t (the top level only;
 * nested fields are checked on import). false: read them as their own type and cast. */
bool sql_arrow_fits(const struct ArrowSchema *field, const sql_type *t);

/* Exports columns of b as an Arrow struct array (the layout sql_type_to_arrow describes). The
 * result owns copies of everything it needs and is independent of b. */
int sql_batch_to_arrow(const sql_batch *b, struct ArrowArray *out, tarn_error *err);

/* One value, for constants and row-at-a-time paths (the binder's folded constants, partition
 * values, statistics). */
typedef struct sql_value {
  const sql_type *type;
  bool is_null;
  union {
    int64_t i64;
    double f64;
    sql_i128 i128;
    sql_str str;
    sql_interval iv;
    bool b;
  } u;
  const sql_vec *nested; /* LIST/STRUCT/MAP: a 1-row vector holding the value */
  uint32_t nested_row;   /* the row of `nested` holding the value: 0 for a 1-row vector;
                            sql_vec_get points into its source vector instead of copying */
} sql_value;

/* A 1-row vector holding value. Strings are shared. */
int sql_vec_from_value(sql_mem *m, const sql_value *value, sql_vec *out, tarn_error *err);
/* Row i of v as a value (strings and nested values shared, valid while v is). */
void sql_vec_get(const sql_vec *v, uint32_t i, sql_value *out);

#endif
