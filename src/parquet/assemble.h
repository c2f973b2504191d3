/*
 * Record assembly: from decoded leaf columns (levels + dense values) to Arrow arrays.
 *
 * This is the Dremel algorithm run in reverse, one Arrow node at a time. Each node of the
 * schema tree (schema.h) finds its slots in the level stream of its first leaf: an entry opens a
 * slot when its repetition level is at most the node's and its definition level reaches the
 * node's slot_def; a slot is non-null when the definition level reaches null_def; a list's items
 * are the slots one repetition level deeper. Physical values are converted to their Arrow form
 * (narrowed integers, INT96 to nanoseconds, big-endian decimals to little-endian 128/256-bit,
 * intervals, booleans to bitmaps) while they are spread over the slots. The number of slots
 * every leaf yields must agree, else the file is corrupt.
 */
#ifndef TARN_PARQUET_ASSEMBLE_H
#define TARN_PARQUET_ASSEMBLE_H

#include "parquet/column.h"
#include "parquet/schema.h"
#include "tarn.h"

/* Builds the Arrow array of node holding n_records records from leaf_data (indexed by leaf index;
 * only the node's leaves are read). On success *out owns its buffers (release to free). */
int pq_assemble(const pq_node *node, pq_column_data *leaf_data, int64_t n_records,
                struct ArrowArray *out, tarn_error *err);

#endif
