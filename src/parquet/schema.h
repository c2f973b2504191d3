/*
 * The Parquet schema as a tree, with the Arrow type of every node and the Dremel levels that
 * record assembly needs.
 *
 * Parquet stores the schema as a flattened depth-first list of elements; this module rebuilds
 * the tree and maps it to Arrow: leaves to primitive types by physical type and logical (or
 * legacy converted) annotation, LIST groups to Arrow lists (applying the format's
 * backward-compatibility rules for two-level lists), MAP groups to Arrow maps, other groups to
 * structs, and repeated fields outside a LIST to non-nullable lists. For each node it records:
 *   slot_def / rep_level: a level entry of a leaf below the node opens a new slot of the node
 *     when its repetition level is <= rep_level and its definition level is >= slot_def;
 *   null_def: the slot holds a non-null value when the definition level is >= null_def;
 *   item_def (lists and maps): the list is non-empty when the definition level is >= item_def.
 */
#ifndef TARN_PARQUET_SCHEMA_H
#define TARN_PARQUET_SCHEMA_H

#include <stdbool.h>
#include <stdint.h>

#include "common/arena.h"
#include "parquet/metadata.h"
#include "tarn.h"

typedef enum pq_node_kind { PQ_NODE_LEAF, PQ_NODE_STRUCT, PQ_NODE_LIST, PQ_NODE_MAP } pq_node_kind;

/* How a leaf's decoded physical values become its Arrow buffer. */
typedef enum pq_conversion {
  PQ_CONV_NULL,     /* Arrow null type (UNKNOWN logical type) */
  PQ_CONV_BOOL,     /* one byte per value -> bitmap */
  PQ_CONV_COPY,     /* same width: int32, int64, float, double, date, time, timestamp */
  PQ_CONV_NARROW8,  /* INT32 -> 8-bit integer */
  PQ_CONV_NARROW16, /* INT32 -> 16-bit integer */
  PQ_CONV_INT96,    /* INT96 (Julian day + nanoseconds) -> timestamp[ns] */
  PQ_CONV_DECIMAL_INT32,
  PQ_CONV_DECIMAL_INT64,
  PQ_CONV_DECIMAL_BYTES, /* big-endian two's complement (FLBA or BYTE_ARRAY) -> 16/32 bytes LE */
  PQ_CONV_INTERVAL,      /* FLBA(12) months/days/millis -> month_day_nano */
  PQ_CONV_FIXED,         /* FLBA -> fixed-size binary (or float16) */
  PQ_CONV_BINARY         /* BYTE_ARRAY -> utf8 or binary */
} pq_conversion;

typedef struct pq_node pq_node;

struct pq_node {
  pq_node_kind kind;
  const char *name;
  const pq_schema_element *element; /* the Parquet element this node stands for */
  bool nullable;
  int16_t slot_def, null_def, item_def, rep_level;
  int n_children;
  pq_node **children; /* struct fields; the item for lists; key and value for maps */
  int first_leaf, n_leaves;

  /* Leaves only. */
  int leaf_index;
  int physical;
  int32_t type_length;
  int16_t max_def, max_rep;
  pq_conversion conversion;
  int arrow_width; /* bytes per Arrow value for fixed-width outputs */
  char arrow_format[32];
  bool is_uuid; /* adds the arrow.uuid extension name */
  int geo;      /* PQ_LT_GEOMETRY or PQ_LT_GEOGRAPHY: adds the geoarrow.wkb extension */
  int32_t decimal_precision, decimal_scale;
  const char *path; /* dotted path of the leaf ("a.list.element") */
};

typedef struct pq_schema {
  pq_node *root; /* a struct whose children are the top-level columns */
  int n_leaves;
  pq_node **leaves; /* in column-chunk order */
} pq_schema;

/* Builds the tree from meta's flattened schema. Allocates from arena. Errors: TARN_ECORRUPT for
 * an inconsistent schema (children counts that do not add up, a leaf without a type, a LIST
 * without a repeated child...), TARN_EUNSUPPORTED for a type tarn cannot map, naming the column. */
int pq_schema_build(const pq_file_meta *meta, tarn_arena *arena, pq_schema *out, tarn_error *err);

/* Exports node as an Arrow schema field (recursively). */
int pq_schema_export(const pq_node *node, struct ArrowSchema *out, tarn_error *err);

/* A SQL-like type name for a node ("BIGINT", "DECIMAL(10,2)", "STRUCT(a INTEGER)", ...) appended
 * to buf (NUL-terminated, truncated at cap). */
void pq_schema_type_name(const pq_node *node, char *buf, size_t cap);

#endif
