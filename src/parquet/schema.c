#include "parquet/schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "columnar/arrow.h"
#include "common/error.h"
#include "common/json.h"
#include "parquet/format.h"

#define SCHEMA_MAX_DEPTH 128

/* The flattened schema rebuilt as a tree of elements, before mapping to Arrow. */
typedef struct raw_node {
  const pq_schema_element *element;
  uint32_t n_children;
  struct raw_node *children;
} raw_node;

typedef struct builder {
  const pq_file_meta *meta;
  uint32_t next; /* next element index */
  tarn_arena *arena;
  pq_schema *schema;
  tarn_error *err;
  int leaf_count;
  char path[1024];
} builder;

static int nomem(builder *b) {
  return tarn_err(b->err, TARN_ENOMEM, "out of memory reading the schema");
}

static int build_raw(builder *b, raw_node *out, int depth) {
  if (depth > SCHEMA_MAX_DEPTH)
    return tarn_err(b->err, TARN_ECORRUPT, "schema nests deeper than %d levels", SCHEMA_MAX_DEPTH);
  if (b->next >= b->meta->n_schema)
    return tarn_err(b->err, TARN_ECORRUPT, "schema: children counts exceed the element list");
  const pq_schema_element *e = &b->meta->schema[b->next++];
  out->element = e;
  if (e->has_type && depth > 0) {
    if (e->num_children > 0)
      return tarn_err(b->err, TARN_ECORRUPT, "schema: leaf '%s' claims children", e->name);
    return 0;
  }
  uint32_t n = (uint32_t)e->num_children;
  /* A group must have fields: an empty one has no leaves to carry its levels (Arrow and DuckDB
   * refuse it too). The root may be empty (a file without columns). */
  if (n == 0 && depth > 0)
    return tarn_err(b->err, TARN_ECORRUPT, "schema: group '%s' has no fields", e->name);
  if (n > b->meta->n_schema - b->next)
    return tarn_err(b->err, TARN_ECORRUPT,
                    "schema: group '%s' claims %u children, more than remain", e->name, n);
  out->n_children = n;
  out->children = tarn_arena_calloc(b->arena, n, sizeof(raw_node));
  if (out->children == NULL) return nomem(b);
  for (uint32_t i = 0; i < n; i++) {
    int rc = build_raw(b, &out->children[i], depth + 1);
    if (rc) return rc;
  }
  return 0;
}

static bool is_list_annotated(const pq_schema_element *e) {
  return e->logical.kind == PQ_LT_LIST || e->converted_type == PQ_CT_LIST;
}

static bool is_map_annotated(const pq_schema_element *e) {
  return e->logical.kind == PQ_LT_MAP || e->converted_type == PQ_CT_MAP ||
         e->converted_type == PQ_CT_MAP_KEY_VALUE;
}

static pq_node *new_node(builder *b, pq_node_kind kind, const char *name,
                         const pq_schema_element *e, int n_children) {
  pq_node *n = tarn_arena_calloc(b->arena, 1, sizeof(pq_node));
  if (n == NULL) return NULL;
  n->kind = kind;
  n->name = name;
  n->element = e;
  n->n_children = n_children;
  n->leaf_index = -1;
  if (n_children) {
    n->children = tarn_arena_calloc(b->arena, (size_t)n_children, sizeof(pq_node *));
    if (n->children == NULL) return NULL;
  }
  return n;
}

static void set_format(pq_node *n, const char *fmt) {
  snprintf(n->arrow_format, sizeof n->arrow_format, "%s", fmt);
}

/* Chooses the Arrow type and conversion of a leaf from its physical type and annotations. Types
 * whose annotation does not fit the physical type fall back to the physical type's mapping, as
 * other readers do. */
static int map_leaf(builder *b, pq_node *n) {
  const pq_schema_element *e = n->element;
  int phys = e->type;
  const pq_logical_type *lt = &e->logical;
  int ct = e->converted_type;
  int len = e->type_length;
  n->physical = phys;
  n->type_length = len;
  if (phys == PQ_FIXED_LEN_BYTE_ARRAY && (len <= 0 || len > (1 << 24)))
    return tarn_err(b->err, TARN_ECORRUPT, "column %s: FIXED_LEN_BYTE_ARRAY with length %d",
                    n->path, (int)len);

  int kind = lt->kind;
  /* Map legacy converted types onto logical kinds when no LogicalType is present. */
  int unit = lt->unit, bits = lt->bit_width;
  bool is_signed = lt->is_signed, utc = lt->adjusted_to_utc;
  int32_t precision = lt->precision, scale = lt->scale;
  /* Legacy converted types stand in when no LogicalType is present. A bare TIMESTAMP_MILLIS or
   * TIMESTAMP_MICROS is read as a local (not UTC-adjusted) timestamp, as DuckDB and Spark read
   * such old files. */
  if (kind == PQ_LT_NONE) {
    switch (ct) {
    case PQ_CT_UTF8: kind = PQ_LT_STRING; break;
    case PQ_CT_ENUM: kind = PQ_LT_ENUM; break;
    case PQ_CT_JSON: kind = PQ_LT_JSON; break;
    case PQ_CT_BSON: kind = PQ_LT_BSON; break;
    case PQ_CT_DECIMAL:
      kind = PQ_LT_DECIMAL;
      precision = e->precision;
      scale = e->scale;
      break;
    case PQ_CT_DATE: kind = PQ_LT_DATE; break;
    case PQ_CT_TIME_MILLIS: kind = PQ_LT_TIME, unit = PQ_UNIT_MILLIS, utc = true; break;
    case PQ_CT_TIME_MICROS: kind = PQ_LT_TIME, unit = PQ_UNIT_MICROS, utc = true; break;
    case PQ_CT_TIMESTAMP_MILLIS: kind = PQ_LT_TIMESTAMP, unit = PQ_UNIT_MILLIS, utc = false; break;
    case PQ_CT_TIMESTAMP_MICROS: kind = PQ_LT_TIMESTAMP, unit = PQ_UNIT_MICROS, utc = false; break;
    case PQ_CT_UINT_8: kind = PQ_LT_INTEGER, bits = 8, is_signed = false; break;
    case PQ_CT_UINT_16: kind = PQ_LT_INTEGER, bits = 16, is_signed = false; break;
    case PQ_CT_UINT_32: kind = PQ_LT_INTEGER, bits = 32, is_signed = false; break;
    case PQ_CT_UINT_64: kind = PQ_LT_INTEGER, bits = 64, is_signed = false; break;
    case PQ_CT_INT_8: kind = PQ_LT_INTEGER, bits = 8, is_signed = true; break;
    case PQ_CT_INT_16: kind = PQ_LT_INTEGER, bits = 16, is_signed = true; break;
    case PQ_CT_INT_32: kind = PQ_LT_INTEGER, bits = 32, is_signed = true; break;
    case PQ_CT_INT_64: kind = PQ_LT_INTEGER, bits = 64, is_signed = true; break;
    case PQ_CT_INTERVAL: kind = -1; break; /* handled below */
    default: break;
    }
  }

  n->conversion = PQ_CONV_COPY;
  switch (kind) {
  case PQ_LT_STRING:
  case PQ_LT_ENUM:
  case PQ_LT_JSON:
    if (phys == PQ_BYTE_ARRAY) {
      n->conversion = PQ_CONV_BINARY;
      set_format(n, "u");
      return 0;
    }
    break;
  case PQ_LT_UUID:
    if (phys == PQ_FIXED_LEN_BYTE_ARRAY && len == 16) {
      n->conversion = PQ_CONV_FIXED;
      n->arrow_width = 16;
      n->is_uuid = true;
      set_format(n, "w:16");
      return 0;
    }
    break;
  case PQ_LT_FLOAT16:
    if (phys == PQ_FIXED_LEN_BYTE_ARRAY && len == 2) {
      n->conversion = PQ_CONV_FIXED;
      n->arrow_width = 2;
      set_format(n, "e");
      return 0;
    }
    break;
  case PQ_LT_DECIMAL: {
    if (precision < 1 || scale < 0 || scale > precision || precision > 76)
      return tarn_err(b->err, TARN_EUNSUPPORTED, "column %s: DECIMAL(%d,%d) is not supported",
                      n->path, (int)precision, (int)scale);
    n->decimal_precision = precision;
    n->decimal_scale = scale;
    n->arrow_width = precision > 38 ? 32 : 16;
    if (phys == PQ_INT32)
      n->conversion = PQ_CONV_DECIMAL_INT32;
    else if (phys == PQ_INT64)
      n->conversion = PQ_CONV_DECIMAL_INT64;
    else if (phys == PQ_FIXED_LEN_BYTE_ARRAY || phys == PQ_BYTE_ARRAY)
      n->conversion = PQ_CONV_DECIMAL_BYTES;
    else
      break;
    snprintf(n->arrow_format, sizeof n->arrow_format, precision > 38 ? "d:%d,%d,256" : "d:%d,%d",
             (int)precision, (int)scale);
    return 0;
  }
  case PQ_LT_DATE:
    if (phys == PQ_INT32) {
      n->arrow_width = 4;
      set_format(n, "tdD");
      return 0;
    }
    break;
  case PQ_LT_TIME:
    if (phys == PQ_INT32 && unit == PQ_UNIT_MILLIS) {
      n->arrow_width = 4;
      set_format(n, "ttm");
      return 0;
    }
    if (phys == PQ_INT64 && unit != PQ_UNIT_MILLIS) {
      n->arrow_width = 8;
      set_format(n, unit == PQ_UNIT_MICROS ? "ttu" : "ttn");
      return 0;
    }
    break;
  case PQ_LT_TIMESTAMP:
    if (phys == PQ_INT64) {
      n->arrow_width = 8;
      const char *u = unit == PQ_UNIT_MILLIS ? "m" : unit == PQ_UNIT_MICROS ? "u" : "n";
      snprintf(n->arrow_format, sizeof n->arrow_format, "ts%s:%s", u, utc ? "UTC" : "");
      return 0;
    }
    break;
  case PQ_LT_INTEGER:
    if (phys == PQ_INT32 && bits <= 32) {
      if (bits == 8) {
        n->conversion = PQ_CONV_NARROW8;
        n->arrow_width = 1;
        set_format(n, is_signed ? "c" : "C");
      } else if (bits == 16) {
        n->conversion = PQ_CONV_NARROW16;
        n->arrow_width = 2;
        set_format(n, is_signed ? "s" : "S");
      } else {
        n->arrow_width = 4;
        set_format(n, is_signed ? "i" : "I");
      }
      return 0;
    }
    if (phys == PQ_INT64) {
      n->arrow_width = 8;
      set_format(n, is_signed || bits < 64 ? "l" : "L");
      return 0;
    }
    break;
  case PQ_LT_GEOMETRY:
  case PQ_LT_GEOGRAPHY:
    if (phys == PQ_BYTE_ARRAY) {
      /* Well-known binary, marked with the GeoArrow extension so a writer can keep the type. */
      n->conversion = PQ_CONV_BINARY;
      n->geo = kind;
      set_format(n, "z");
      return 0;
    }
    break;
  case PQ_LT_UNKNOWN:
    n->conversion = PQ_CONV_NULL;
    set_format(n, "n");
    return 0;
  case -1: /* INTERVAL */
    if (phys == PQ_FIXED_LEN_BYTE_ARRAY && len == 12) {
      n->conversion = PQ_CONV_INTERVAL;
      n->arrow_width = 16;
      set_format(n, "tin");
      return 0;
    }
    break;
  default: break;
  }

  /* The physical type alone. */
  switch (phys) {
  case PQ_BOOLEAN:
    n->conversion = PQ_CONV_BOOL;
    set_format(n, "b");
    break;
  case PQ_INT32:
    n->arrow_width = 4;
    set_format(n, "i");
    break;
  case PQ_INT64:
    n->arrow_width = 8;
    set_format(n, "l");
    break;
  case PQ_INT96:
    /* Microseconds, as Spark and DuckDB read INT96: nanoseconds would overflow int64 for the
     * dates Spark writes (year 1 to 9999). */
    n->conversion = PQ_CONV_INT96;
    n->arrow_width = 8;
    set_format(n, "tsu:");
    break;
  case PQ_FLOAT:
    n->arrow_width = 4;
    set_format(n, "f");
    break;
  case PQ_DOUBLE:
    n->arrow_width = 8;
    set_format(n, "g");
    break;
  case PQ_BYTE_ARRAY:
    n->conversion = PQ_CONV_BINARY;
    set_format(n, "z");
    break;
  case PQ_FIXED_LEN_BYTE_ARRAY:
    n->conversion = PQ_CONV_FIXED;
    n->arrow_width = len;
    snprintf(n->arrow_format, sizeof n->arrow_format, "w:%d", (int)len);
    break;
  default:
    return tarn_err(b->err, TARN_ECORRUPT, "column %s: invalid physical type %d", n->path, phys);
  }
  return 0;
}

static int convert(builder *b, const raw_node *r, int16_t slot_def, int16_t def_base, int16_t rep,
                   bool as_required, pq_node **out);

static int convert_leaf(builder *b, const raw_node *r, int16_t slot_def, int16_t null_def,
                        int16_t rep, pq_node **out) {
  const pq_schema_element *e = r->element;
  if (!e->has_type)
    return tarn_err(b->err, TARN_ECORRUPT, "schema: leaf '%s' has no physical type", e->name);
  pq_node *n = new_node(b, PQ_NODE_LEAF, e->name, e, 0);
  if (n == NULL) return nomem(b);
  n->slot_def = slot_def;
  n->null_def = null_def;
  n->rep_level = rep;
  n->nullable = null_def > slot_def;
  n->max_def = null_def;
  n->max_rep = rep;
  n->path = tarn_arena_strndup(b->arena, b->path, strlen(b->path));
  if (n->path == NULL) return nomem(b);
  if (b->leaf_count >= b->schema->n_leaves)
    return tarn_err(b->err, TARN_ECORRUPT, "schema: more leaves than counted");
  n->leaf_index = b->leaf_count;
  b->schema->leaves[b->leaf_count++] = n;
  n->first_leaf = n->leaf_index;
  n->n_leaves = 1;
  *out = n;
  return map_leaf(b, n);
}

static void finish_ranges(pq_node *n) {
  if (n->kind == PQ_NODE_LEAF) return;
  n->first_leaf = -1;
  n->n_leaves = 0;
  for (int i = 0; i < n->n_children; i++) {
    if (n->first_leaf < 0 && n->children[i]->n_leaves) n->first_leaf = n->children[i]->first_leaf;
    n->n_leaves += n->children[i]->n_leaves;
  }
  if (n->first_leaf < 0) n->first_leaf = 0;
}

/* Builds a list node whose items are made by item_fn from item_raw. */
static int make_list(builder *b, const pq_schema_element *e, const char *name, int16_t slot_def,
                     int16_t null_def, int16_t rep, const raw_node *item_raw, bool item_required,
                     pq_node **out) {
  pq_node *n = new_node(b, PQ_NODE_LIST, name, e, 1);
  if (n == NULL) return nomem(b);
  n->slot_def = slot_def;
  n->null_def = null_def;
  n->nullable = null_def > slot_def;
  n->item_def = (int16_t)(null_def + 1);
  n->rep_level = rep;
  int rc = convert(b, item_raw, n->item_def, n->item_def, (int16_t)(rep + 1), item_required,
                   &n->children[0]);
  if (rc) return rc;
  finish_ranges(n);
  *out = n;
  return 0;
}

/* Maps raw element r to a node. slot_def is the definition level at which slots exist (the item
 * level of the nearest enclosing list, 0 outside lists); def_base is the definition level of the
 * parent's value; rep is the repetition level of the node's slots. */
static int convert(builder *b, const raw_node *r, int16_t slot_def, int16_t def_base, int16_t rep,
                   bool as_required, pq_node **out) {
  const pq_schema_element *e = r->element;
  size_t plen = strlen(b->path);
  int rc = 0;
  snprintf(b->path + plen, sizeof b->path - plen, "%s%s", plen ? "." : "", e->name);
  int repetition = e->has_repetition ? e->repetition : PQ_REQUIRED;
  bool optional = repetition == PQ_OPTIONAL && !as_required;
  *out = NULL;
  if (def_base > 30000 || rep > 30000) {
    rc = tarn_err(b->err, TARN_ECORRUPT, "schema: too many levels");
    goto done;
  }

  if (repetition == PQ_REPEATED && !as_required) {
    /* A repeated field outside a LIST annotation: a list of required items. */
    b->path[plen] = '\0';
    rc = make_list(b, e, e->name, slot_def, def_base, rep, r, true, out);
    goto done;
  }
  int16_t null_def = (int16_t)(def_base + (repetition == PQ_OPTIONAL && !as_required ? 1 : 0));

  if (!e->has_type && is_list_annotated(e) && r->n_children == 1 &&
      r->children[0].element->has_repetition && r->children[0].element->repetition == PQ_REPEATED) {
    const raw_node *rep_node = &r->children[0];
    const pq_schema_element *re = rep_node->element;
    char tuple[300];
    snprintf(tuple, sizeof tuple, "%s_tuple", e->name);
    bool element_is_repeated =
        !re->has_type && (rep_node->n_children != 1 || strcmp(re->name, "array") == 0 ||
                          strcmp(re->name, tuple) == 0);
    if (re->has_type || element_is_repeated) {
      /* Two-level list: the repeated field itself is the (required) element. */
      size_t l2 = strlen(b->path);
      rc = make_list(b, e, e->name, slot_def, null_def, rep, rep_node, true, out);
      b->path[l2] = '\0';
    } else {
      size_t l2 = strlen(b->path);
      snprintf(b->path + l2, sizeof b->path - l2, ".%s", re->name);
      rc = make_list(b, e, e->name, slot_def, null_def, rep, &rep_node->children[0], false, out);
      b->path[l2] = '\0';
    }
    goto done;
  }

  if (!e->has_type && is_map_annotated(e) && r->n_children == 1 &&
      !r->children[0].element->has_type && r->children[0].element->has_repetition &&
      r->children[0].element->repetition == PQ_REPEATED &&
      (r->children[0].n_children == 1 || r->children[0].n_children == 2)) {
    const raw_node *kv = &r->children[0];
    size_t l2 = strlen(b->path);
    snprintf(b->path + l2, sizeof b->path - l2, ".%s", kv->element->name);
    if (kv->n_children == 1) {
      /* A map without values reads as the list of its keys. */
      rc = make_list(b, e, e->name, slot_def, null_def, rep, &kv->children[0], true, out);
    } else {
      pq_node *n = new_node(b, PQ_NODE_MAP, e->name, e, 2);
      if (n == NULL) return nomem(b);
      n->slot_def = slot_def;
      n->null_def = null_def;
      n->nullable = null_def > slot_def;
      n->item_def = (int16_t)(null_def + 1);
      n->rep_level = rep;
      /* Keys must be required, but some writers mark them optional; their levels follow the
       * file, and a null key is reported when assembling. */
      rc = convert(b, &kv->children[0], n->item_def, n->item_def, (int16_t)(rep + 1), false,
                   &n->children[0]);
      if (rc == 0)
        rc = convert(b, &kv->children[1], n->item_def, n->item_def, (int16_t)(rep + 1), false,
                     &n->children[1]);
      if (rc == 0) {
        finish_ranges(n);
        *out = n;
      }
    }
    b->path[l2] = '\0';
    goto done;
  }

  if (e->has_type) {
    rc = convert_leaf(b, r, slot_def, null_def, rep, out);
    goto done;
  }

  /* A plain group: a struct. */
  pq_node *n = new_node(b, PQ_NODE_STRUCT, e->name, e, (int)r->n_children);
  if (n == NULL) return nomem(b);
  n->slot_def = slot_def;
  n->null_def = null_def;
  n->nullable = null_def > slot_def;
  n->rep_level = rep;
  for (uint32_t i = 0; i < r->n_children && rc == 0; i++)
    rc = convert(b, &r->children[i], slot_def, null_def, rep, false, &n->children[i]);
  if (rc == 0) {
    finish_ranges(n);
    *out = n;
  }
done:
  b->path[plen] = '\0';
  if (rc == 0 && *out) (*out)->nullable = optional;
  return rc;
}

int pq_schema_build(const pq_file_meta *meta, tarn_arena *arena, pq_schema *out, tarn_error *err) {
  builder b = {.meta = meta, .arena = arena, .schema = out, .err = err};
  memset(out, 0, sizeof *out);
  raw_node root;
  memset(&root, 0, sizeof root);
  int rc = build_raw(&b, &root, 0);
  if (rc) return rc;
  if (b.next != meta->n_schema)
    return tarn_err(err, TARN_ECORRUPT, "schema: %u elements listed but the tree holds %u",
                    meta->n_schema, b.next);
  int leaves = 0;
  for (uint32_t i = 1; i < meta->n_schema; i++)
    leaves += meta->schema[i].has_type;
  out->n_leaves = leaves;
  out->leaves = tarn_arena_calloc(arena, (size_t)(leaves ? leaves : 1), sizeof(pq_node *));
  if (out->leaves == NULL) return nomem(&b);
  pq_node *r = new_node(&b, PQ_NODE_STRUCT, "schema", root.element, (int)root.n_children);
  if (r == NULL) return nomem(&b);
  for (uint32_t i = 0; i < root.n_children; i++) {
    rc = convert(&b, &root.children[i], 0, 0, 0, false, &r->children[i]);
    if (rc) return rc;
  }
  if (b.leaf_count != leaves)
    return tarn_err(err, TARN_ECORRUPT, "schema: %d leaves reachable of %d", b.leaf_count, leaves);
  finish_ranges(r);
  out->root = r;
  return 0;
}

/* GeoArrow's WKB extension: {"crs": ...} when the file gives one, and "edges": "spherical" for
 * GEOGRAPHY (Parquet's default algorithm; other algorithms are named as Parquet names them). */
static int geo_metadata(const pq_node *node, char **meta, size_t *len, tarn_error *err) {
  const pq_logical_type *lt = &node->element->logical;
  tarn_buf json = {0};
  int rc = tarn_buf_puts(&json, "{", err);
  bool any = false;
  if (rc == 0 && lt->crs.data) {
    rc = tarn_buf_puts(&json, "\"crs\":", err);
    if (rc == 0) rc = tarn_json_string(&json, (const char *)lt->crs.data, lt->crs.len, err);
    any = true;
  }
  if (rc == 0 && node->geo == PQ_LT_GEOGRAPHY) {
    static const char *names[] = {"spherical", "vincenty", "thomas", "andoyer", "karney"};
    int a = lt->has_algorithm && lt->algorithm >= 0 && lt->algorithm < 5 ? lt->algorithm : 0;
    rc = tarn_buf_printf(&json, err, "%s\"edges\":\"%s\"", any ? "," : "", names[a]);
  }
  if (rc == 0) rc = tarn_buf_append(&json, "}", 2, err); /* with the NUL */
  if (rc == 0) {
    const char *keys[] = {"ARROW:extension:name", "ARROW:extension:metadata"};
    const char *values[] = {"geoarrow.wkb", (const char *)json.data};
    rc = col_metadata_pairs(keys, values, 2, meta, len, err);
  }
  tarn_buf_free(&json);
  return rc;
}

int pq_schema_export(const pq_node *node, struct ArrowSchema *out, tarn_error *err) {
  int64_t flags = node->nullable ? ARROW_FLAG_NULLABLE : 0;
  int rc = 0;
  switch (node->kind) {
  case PQ_NODE_LEAF: {
    char *meta = NULL;
    size_t meta_len = 0;
    if (node->is_uuid &&
        (rc = col_metadata_single("ARROW:extension:name", "arrow.uuid", &meta, &meta_len, err)))
      return rc;
    if (node->geo && (rc = geo_metadata(node, &meta, &meta_len, err))) return rc;
    rc = col_schema_init(out, node->arrow_format, node->name, flags, 0, meta, meta_len, err);
    free(meta);
    return rc;
  }
  case PQ_NODE_STRUCT:
    if ((rc = col_schema_init(out, "+s", node->name, flags, node->n_children, NULL, 0, err)))
      return rc;
    for (int i = 0; i < node->n_children; i++)
      if ((rc = pq_schema_export(node->children[i], out->children[i], err))) break;
    break;
  case PQ_NODE_LIST:
    if ((rc = col_schema_init(out, "+l", node->name, flags, 1, NULL, 0, err))) return rc;
    rc = pq_schema_export(node->children[0], out->children[0], err);
    break;
  case PQ_NODE_MAP:
    if ((rc = col_schema_init(out, "+m", node->name, flags, 1, NULL, 0, err))) return rc;
    if ((rc = col_schema_init(out->children[0], "+s", "entries", 0, 2, NULL, 0, err))) break;
    for (int i = 0; i < 2 && rc == 0; i++)
      rc = pq_schema_export(node->children[i], out->children[0]->children[i], err);
    if (rc == 0) {
      /* Arrow requires map keys to be non-nullable and the fields to be named key/value. */
      out->children[0]->children[0]->flags &= ~ARROW_FLAG_NULLABLE;
      free((void *)out->children[0]->children[0]->name);
      free((void *)out->children[0]->children[1]->name);
      out->children[0]->children[0]->name = strdup("key");
      out->children[0]->children[1]->name = strdup("value");
      if (!out->children[0]->children[0]->name || !out->children[0]->children[1]->name)
        rc = tarn_err(err, TARN_ENOMEM, "out of memory");
    }
    break;
  }
  if (rc) out->release(out);
  return rc;
}

static void append(char *buf, size_t cap, const char *s) {
  size_t l = strlen(buf);
  if (l < cap) snprintf(buf + l, cap - l, "%s", s);
}

void pq_schema_type_name(const pq_node *n, char *buf, size_t cap) {
  char tmp[64];
  switch (n->kind) {
  case PQ_NODE_STRUCT:
    append(buf, cap, "STRUCT(");
    for (int i = 0; i < n->n_children; i++) {
      if (i) append(buf, cap, ", ");
      append(buf, cap, n->children[i]->name);
      append(buf, cap, " ");
      pq_schema_type_name(n->children[i], buf, cap);
    }
    append(buf, cap, ")");
    return;
  case PQ_NODE_LIST:
    pq_schema_type_name(n->children[0], buf, cap);
    append(buf, cap, "[]");
    return;
  case PQ_NODE_MAP:
    append(buf, cap, "MAP(");
    pq_schema_type_name(n->children[0], buf, cap);
    append(buf, cap, ", ");
    pq_schema_type_name(n->children[1], buf, cap);
    append(buf, cap, ")");
    return;
  case PQ_NODE_LEAF: break;
  }
  const char *f = n->arrow_format;
  const char *name = f;
  if (n->is_uuid)
    name = "UUID";
  else if (strcmp(f, "b") == 0)
    name = "BOOLEAN";
  else if (strcmp(f, "c") == 0)
    name = "TINYINT";
  else if (strcmp(f, "C") == 0)
    name = "UTINYINT";
  else if (strcmp(f, "s") == 0)
    name = "SMALLINT";
  else if (strcmp(f, "S") == 0)
    name = "USMALLINT";
  else if (strcmp(f, "i") == 0)
    name = "INTEGER";
  else if (strcmp(f, "I") == 0)
    name = "UINTEGER";
  else if (strcmp(f, "l") == 0)
    name = "BIGINT";
  else if (strcmp(f, "L") == 0)
    name = "UBIGINT";
  else if (strcmp(f, "e") == 0)
    name = "FLOAT16";
  else if (strcmp(f, "f") == 0)
    name = "FLOAT";
  else if (strcmp(f, "g") == 0)
    name = "DOUBLE";
  else if (strcmp(f, "u") == 0)
    name = "VARCHAR";
  else if (strcmp(f, "z") == 0 || f[0] == 'w')
    name = "BLOB";
  else if (strcmp(f, "tdD") == 0)
    name = "DATE";
  else if (strcmp(f, "ttm") == 0 || strcmp(f, "ttu") == 0)
    name = "TIME";
  else if (strcmp(f, "ttn") == 0)
    name = "TIME_NS";
  else if (strcmp(f, "tin") == 0)
    name = "INTERVAL";
  else if (strcmp(f, "n") == 0)
    name = "NULL";
  else if (f[0] == 'd') {
    snprintf(tmp, sizeof tmp, "DECIMAL(%d,%d)", (int)n->decimal_precision, (int)n->decimal_scale);
    name = tmp;
  } else if (strncmp(f, "ts", 2) == 0) {
    bool tz = f[4] != '\0';
    const char *unit = f[2] == 'm' ? "_MS" : f[2] == 'n' ? "_NS" : "";
    snprintf(tmp, sizeof tmp, "TIMESTAMP%s%s", unit, tz ? " WITH TIME ZONE" : "");
    name = tmp;
  }
  append(buf, cap, name);
}
