/*
 * Flat Parquet columns straight into vectors: the scan's fast path.
 *
 * The general path reads a row group through the Parquet reader's Arrow stream (pages decoded,
 * records assembled into Arrow arrays) and imports the arrays into vectors. For top-level
 * primitive columns whose values convert exactly into their SQL type (integers, dates, times,
 * timestamps, floats, decimals, strings, binaries, booleans, UUIDs), this module reads the column
 * chunks itself and writes each value once, in its vector's physical form.
 *
 * Columns of a row group are read independently, each at its own pace: the scan reads the
 * columns its filter needs for a batch first, evaluates the filter, and then reads the other
 * columns only for the rows that passed (late materialization). A column not read for a batch
 * is skipped when it is next read, jumping over whole pages with the offset index when there is
 * one, so a batch the filter empties never costs the other columns a conversion.
 */
#ifndef TARN_SQL_SCAN_PQ_H
#define TARN_SQL_SCAN_PQ_H

#include "parquet/schema.h"
#include "sql/vector.h"

typedef struct sql_pq_group sql_pq_group;

/* Whether column node (a top-level column of a file) can be read directly as type t: a
 * primitive leaf, not repeated, whose every value has an exact counterpart in t. */
bool sql_pq_direct(const pq_node *node, const sql_type *t);

/* Opens row group rg of f for reading columns nodes[0..n) as types[0..n) (each pair accepted by
 * sql_pq_direct; the arrays must outlive the group, as must f). ranges: the rows to read, as
 * ascending disjoint file-wide row numbers, or NULL for the whole row group (copied). */
int sql_pq_group_open(tarn_parquet_file *f, int rg, const pq_node *const *nodes,
                      const sql_type *const *types, size_t n, const tarn_row_range *ranges,
                      size_t n_ranges, sql_pq_group **out, tarn_error *err);

/* Moves to the next batch of at most max_rows rows: *first is the file-wide number of its first
 * row and *n its row count (0 at the end of the row group). Rows of a batch are consecutive. */
int sql_pq_group_next(sql_pq_group *g, uint32_t max_rows, int64_t *first, uint32_t *n,
                      tarn_error *err);

/* Reads column c of the current batch into out, allocated in m (whose region then owns the
 * bytes strings point to): every row of the batch when sel is NULL, else only rows sel[0..n_sel)
 * (ascending positions within the batch). A column is read at most once per batch. Errors name
 * the file and column (corrupt pages, a column shorter than its row group). */
int sql_pq_group_read(sql_pq_group *g, size_t c, sql_mem *m, const uint32_t *sel, uint32_t n_sel,
                      sql_vec *out, tarn_error *err);

/* Data pages decoded and jumped over so far, over all columns. */
void sql_pq_group_pages(const sql_pq_group *g, int64_t *read, int64_t *skipped);

void sql_pq_group_free(sql_pq_group *g);

#endif
