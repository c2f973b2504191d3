/* Human- and machine-readable descriptions of a Parquet file: the schema as text and the footer
 * as one JSON document (tarn schema / tarn meta). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/json.h"
#include "parquet/codec.h"
#include "parquet/encoding.h"
#include "parquet/format.h"
#include "parquet/reader.h"

static const char *physical_name(int t) {
  static const char *names[] = {"BOOLEAN", "INT32",  "INT64",      "INT96",
                                "FLOAT",   "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
  return t >= 0 && t < 8 ? names[t] : "UNKNOWN";
}

static const char *converted_name(int t) {
  static const char *names[] = {"UTF8",
                                "MAP",
                                "MAP_KEY_VALUE",
                                "LIST",
                                "ENUM",
                                "DECIMAL",
                                "DATE",
                                "TIME_MILLIS",
                                "TIME_MICROS",
                                "TIMESTAMP_MILLIS",
                                "TIMESTAMP_MICROS",
                                "UINT_8",
                                "UINT_16",
                                "UINT_32",
                                "UINT_64",
                                "INT_8",
                                "INT_16",
                                "INT_32",
                                "INT_64",
                                "JSON",
                                "BSON",
                                "INTERVAL"};
  return t >= 0 && t < 22 ? names[t] : "UNKNOWN";
}

static void logical_name(const pq_logical_type *lt, char *buf, size_t cap) {
  static const char *units[] = {"MILLIS", "MICROS", "NANOS"};
  switch (lt->kind) {
  case PQ_LT_STRING: snprintf(buf, cap, "STRING"); break;
  case PQ_LT_MAP: snprintf(buf, cap, "MAP"); break;
  case PQ_LT_LIST: snprintf(buf, cap, "LIST"); break;
  case PQ_LT_ENUM: snprintf(buf, cap, "ENUM"); break;
  case PQ_LT_DECIMAL:
    snprintf(buf, cap, "DECIMAL(%d,%d)", (int)lt->precision, (int)lt->scale);
    break;
  case PQ_LT_DATE: snprintf(buf, cap, "DATE"); break;
  case PQ_LT_TIME:
  case PQ_LT_TIMESTAMP:
    snprintf(buf, cap, "%s(%s,%s)", lt->kind == PQ_LT_TIME ? "TIME" : "TIMESTAMP",
             lt->unit >= 0 && lt->unit < 3 ? units[lt->unit] : "?",
             lt->adjusted_to_utc ? "true" : "false");
    break;
  case PQ_LT_INTEGER:
    snprintf(buf, cap, "INTEGER(%d,%s)", lt->bit_width, lt->is_signed ? "true" : "false");
    break;
  case PQ_LT_UNKNOWN: snprintf(buf, cap, "UNKNOWN"); break;
  case PQ_LT_JSON: snprintf(buf, cap, "JSON"); break;
  case PQ_LT_BSON: snprintf(buf, cap, "BSON"); break;
  case PQ_LT_UUID: snprintf(buf, cap, "UUID"); break;
  case PQ_LT_FLOAT16: snprintf(buf, cap, "FLOAT16"); break;
  case PQ_LT_VARIANT: snprintf(buf, cap, "VARIANT"); break;
  case PQ_LT_GEOMETRY: snprintf(buf, cap, "GEOMETRY"); break;
  case PQ_LT_GEOGRAPHY: snprintf(buf, cap, "GEOGRAPHY"); break;
  default: snprintf(buf, cap, "UNRECOGNISED"); break;
  }
}

typedef struct jw {
  tarn_buf *b;
  tarn_error *err;
  int rc;
} jw;

static void put(jw *w, const char *s) {
  if (w->rc == 0) w->rc = tarn_buf_puts(w->b, s, w->err);
}
static void key(jw *w, const char *k, bool *first) {
  if (!*first) put(w, ",");
  *first = false;
  if (w->rc == 0) w->rc = tarn_json_string(w->b, k, strlen(k), w->err);
  put(w, ":");
}
static void str_bytes(jw *w, const void *s, size_t n) {
  if (w->rc == 0) w->rc = tarn_json_string(w->b, s, n, w->err);
}
static void kv_str(jw *w, const char *k, const char *v, bool *first) {
  key(w, k, first);
  str_bytes(w, v, strlen(v));
}
static void kv_int(jw *w, const char *k, long long v, bool *first) {
  key(w, k, first);
  if (w->rc == 0) w->rc = tarn_buf_printf(w->b, w->err, "%lld", v);
}
static void kv_bool(jw *w, const char *k, bool v, bool *first) {
  key(w, k, first);
  put(w, v ? "true" : "false");
}

/* A statistics value rendered for its leaf's type: numbers for numeric physical types, strings
 * for UTF-8 columns, base64 otherwise. */
static void stat_value(jw *w, const pq_node *leaf, pq_bytes v) {
  int t = leaf->physical;
  if (t == PQ_BOOLEAN && v.len == 1) {
    put(w, v.data[0] ? "true" : "false");
    return;
  }
  bool is_unsigned = leaf->arrow_format[0] == 'I' || leaf->arrow_format[0] == 'L' ||
                     leaf->arrow_format[0] == 'C' || leaf->arrow_format[0] == 'S';
  if (t == PQ_INT32 && v.len == 4) {
    int32_t x;
    memcpy(&x, v.data, 4);
    if (w->rc == 0)
      w->rc = is_unsigned ? tarn_buf_printf(w->b, w->err, "%" PRIu32, (uint32_t)x)
                          : tarn_buf_printf(w->b, w->err, "%" PRId32, x);
    return;
  }
  if (t == PQ_INT64 && v.len == 8) {
    int64_t x;
    memcpy(&x, v.data, 8);
    if (w->rc == 0)
      w->rc = is_unsigned ? tarn_buf_printf(w->b, w->err, "%" PRIu64, (uint64_t)x)
                          : tarn_buf_printf(w->b, w->err, "%" PRId64, x);
    return;
  }
  if ((t == PQ_FLOAT && v.len == 4) || (t == PQ_DOUBLE && v.len == 8)) {
    double d;
    if (t == PQ_FLOAT) {
      float f;
      memcpy(&f, v.data, 4);
      d = f;
    } else {
      memcpy(&d, v.data, 8);
    }
    if (isnan(d))
      put(w, "\"NaN\"");
    else if (isinf(d))
      put(w, d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    else if (w->rc == 0)
      w->rc = tarn_buf_printf(w->b, w->err, "%.17g", d);
    return;
  }
  if (t == PQ_BYTE_ARRAY && strcmp(leaf->arrow_format, "u") == 0) {
    str_bytes(w, v.data, v.len);
    return;
  }
  put(w, "{\"base64\":\"");
  if (w->rc == 0) w->rc = tarn_base64(w->b, v.data, v.len, w->err);
  put(w, "\"}");
}

static void statistics(jw *w, const pq_node *leaf, const pq_statistics *st) {
  bool first = true;
  put(w, "{");
  pq_bytes min = st->min_value.data ? st->min_value : st->min;
  pq_bytes max = st->max_value.data ? st->max_value : st->max;
  if (min.data) {
    key(w, "min", &first);
    stat_value(w, leaf, min);
  }
  if (max.data) {
    key(w, "max", &first);
    stat_value(w, leaf, max);
  }
  if (st->min_value.data || st->max_value.data) kv_bool(w, "new_order", true, &first);
  if (st->has_null_count) kv_int(w, "null_count", st->null_count, &first);
  if (st->has_distinct_count) kv_int(w, "distinct_count", st->distinct_count, &first);
  if (st->has_min_exact) kv_bool(w, "is_min_value_exact", st->is_min_value_exact, &first);
  if (st->has_max_exact) kv_bool(w, "is_max_value_exact", st->is_max_value_exact, &first);
  put(w, "}");
}

static void key_values(jw *w, const pq_key_value *kv, uint32_t n) {
  put(w, "{");
  for (uint32_t i = 0; i < n; i++) {
    if (i) put(w, ",");
    str_bytes(w, kv[i].key.data, kv[i].key.len);
    put(w, ":");
    if (kv[i].has_value)
      str_bytes(w, kv[i].value.data, kv[i].value.len);
    else
      put(w, "null");
  }
  put(w, "}");
}

int tarn_parquet_metadata_json(const tarn_parquet_file *f, char **out, tarn_error *err) {
  *out = NULL;
  tarn_buf b = {0};
  jw w = {&b, err, 0};
  const pq_file_meta *m = pq_file_metadata(f);
  const pq_schema *s = pq_file_schema(f);
  bool first = true;
  char tmp[96];
  put(&w, "{");
  kv_str(&w, "file", pq_file_name(f), &first);
  kv_int(&w, "version", m->version, &first);
  kv_int(&w, "num_rows", m->num_rows, &first);
  if (m->created_by) kv_str(&w, "created_by", m->created_by, &first);
  kv_int(&w, "num_row_groups", m->n_row_groups, &first);
  kv_int(&w, "num_columns", s->n_leaves, &first);
  if (m->encryption.kind)
    kv_str(&w, "encryption", m->encryption.kind == 1 ? "AES_GCM_V1" : "AES_GCM_CTR_V1", &first);
  key(&w, "key_value_metadata", &first);
  key_values(&w, m->key_value, m->n_key_value);
  key(&w, "schema", &first);
  put(&w, "[");
  for (uint32_t i = 0; i < m->n_schema; i++) {
    const pq_schema_element *e = &m->schema[i];
    bool f2 = true;
    put(&w, i ? ",{" : "{");
    kv_str(&w, "name", e->name, &f2);
    if (e->has_type) kv_str(&w, "physical_type", physical_name(e->type), &f2);
    if (e->type == PQ_FIXED_LEN_BYTE_ARRAY && e->has_type)
      kv_int(&w, "type_length", e->type_length, &f2);
    if (e->has_repetition)
      kv_str(&w, "repetition",
             e->repetition == PQ_REQUIRED   ? "REQUIRED"
             : e->repetition == PQ_OPTIONAL ? "OPTIONAL"
                                            : "REPEATED",
             &f2);
    if (!e->has_type) kv_int(&w, "num_children", e->num_children, &f2);
    if (e->converted_type != PQ_CT_NONE)
      kv_str(&w, "converted_type", converted_name(e->converted_type), &f2);
    if (e->logical.kind != PQ_LT_NONE) {
      logical_name(&e->logical, tmp, sizeof tmp);
      kv_str(&w, "logical_type", tmp, &f2);
    }
    if (e->converted_type == PQ_CT_DECIMAL) {
      kv_int(&w, "precision", e->precision, &f2);
      kv_int(&w, "scale", e->scale, &f2);
    }
    if (e->has_field_id) kv_int(&w, "field_id", e->field_id, &f2);
    put(&w, "}");
  }
  put(&w, "]");
  key(&w, "row_groups", &first);
  put(&w, "[");
  for (uint32_t g = 0; g < m->n_row_groups; g++) {
    const pq_row_group *rg = &m->row_groups[g];
    bool f2 = true;
    put(&w, g ? ",{" : "{");
    kv_int(&w, "ordinal", rg->has_ordinal ? rg->ordinal : (long long)g, &f2);
    kv_int(&w, "num_rows", rg->num_rows, &f2);
    kv_int(&w, "total_byte_size", rg->total_byte_size, &f2);
    if (rg->has_total_compressed_size)
      kv_int(&w, "total_compressed_size", rg->total_compressed_size, &f2);
    if (rg->has_file_offset) kv_int(&w, "file_offset", rg->file_offset, &f2);
    if (rg->n_sorting_columns) {
      key(&w, "sorting_columns", &f2);
      put(&w, "[");
      for (uint32_t i = 0; i < rg->n_sorting_columns; i++) {
        bool f3 = true;
        put(&w, i ? ",{" : "{");
        kv_int(&w, "column_idx", rg->sorting_columns[i].column_idx, &f3);
        kv_bool(&w, "descending", rg->sorting_columns[i].descending, &f3);
        kv_bool(&w, "nulls_first", rg->sorting_columns[i].nulls_first, &f3);
        put(&w, "}");
      }
      put(&w, "]");
    }
    key(&w, "columns", &f2);
    put(&w, "[");
    for (uint32_t c = 0; c < rg->n_columns; c++) {
      const pq_column_chunk *cc = &rg->columns[c];
      const pq_node *leaf = s->leaves[c];
      const pq_column_meta *cm = pq_file_chunk_meta(f, (int)g, (int)c);
      bool f3 = true;
      put(&w, c ? ",{" : "{");
      kv_str(&w, "path", leaf->path, &f3);
      if (cc->crypto.kind)
        kv_str(&w, "encrypted", cc->crypto.kind == 1 ? "footer_key" : "column_key", &f3);
      if (cm) {
        kv_str(&w, "physical_type", physical_name(cm->type), &f3);
        kv_str(&w, "codec", pq_codec_name(cm->codec), &f3);
        kv_int(&w, "num_values", cm->num_values, &f3);
        key(&w, "encodings", &f3);
        put(&w, "[");
        for (uint32_t i = 0; i < cm->n_encodings; i++) {
          if (i) put(&w, ",");
          const char *en = pq_encoding_name(cm->encodings[i]);
          str_bytes(&w, en, strlen(en));
        }
        put(&w, "]");
        kv_int(&w, "total_compressed_size", cm->total_compressed_size, &f3);
        kv_int(&w, "total_uncompressed_size", cm->total_uncompressed_size, &f3);
        kv_int(&w, "data_page_offset", cm->data_page_offset, &f3);
        if (cm->has_dictionary_page_offset)
          kv_int(&w, "dictionary_page_offset", cm->dictionary_page_offset, &f3);
        if (cm->has_index_page_offset) kv_int(&w, "index_page_offset", cm->index_page_offset, &f3);
        if (cm->statistics.present) {
          key(&w, "statistics", &f3);
          statistics(&w, leaf, &cm->statistics);
        }
        if (cm->n_encoding_stats) {
          key(&w, "encoding_stats", &f3);
          put(&w, "[");
          for (uint32_t i = 0; i < cm->n_encoding_stats; i++) {
            const pq_page_encoding_stats *es = &cm->encoding_stats[i];
            static const char *pt[] = {"DATA_PAGE", "INDEX_PAGE", "DICTIONARY_PAGE",
                                       "DATA_PAGE_V2"};
            bool f4 = true;
            put(&w, i ? ",{" : "{");
            kv_str(&w, "page_type",
                   es->page_type >= 0 && es->page_type < 4 ? pt[es->page_type] : "UNKNOWN", &f4);
            kv_str(&w, "encoding", pq_encoding_name(es->encoding), &f4);
            kv_int(&w, "count", es->count, &f4);
            put(&w, "}");
          }
          put(&w, "]");
        }
        if (cm->has_bloom_filter_offset)
          kv_int(&w, "bloom_filter_offset", cm->bloom_filter_offset, &f3);
        if (cm->has_bloom_filter_length)
          kv_int(&w, "bloom_filter_length", cm->bloom_filter_length, &f3);
        if (cm->n_key_value) {
          key(&w, "key_value_metadata", &f3);
          key_values(&w, cm->key_value, cm->n_key_value);
        }
      }
      if (cc->has_column_index) {
        kv_int(&w, "column_index_offset", cc->column_index_offset, &f3);
        kv_int(&w, "column_index_length", cc->column_index_length, &f3);
      }
      if (cc->has_offset_index) {
        kv_int(&w, "offset_index_offset", cc->offset_index_offset, &f3);
        kv_int(&w, "offset_index_length", cc->offset_index_length, &f3);
      }
      put(&w, "}");
    }
    put(&w, "]}");
  }
  put(&w, "]}\n");
  put(&w, "");
  if (w.rc == 0) w.rc = tarn_buf_append(&b, "", 1, err);
  if (w.rc) {
    tarn_buf_free(&b);
    return w.rc;
  }
  *out = (char *)tarn_buf_steal(&b);
  return 0;
}

int tarn_parquet_schema_text(const tarn_parquet_file *f, char **out, tarn_error *err) {
  *out = NULL;
  tarn_buf b = {0};
  const pq_node *root = pq_file_schema(f)->root;
  int rc = 0;
  char *type = malloc(65536);
  if (type == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
  for (int i = 0; i < root->n_children && rc == 0; i++) {
    const pq_node *n = root->children[i];
    type[0] = '\0';
    pq_schema_type_name(n, type, 65536);
    rc = tarn_buf_printf(&b, err, "%s %s%s\n", n->name, type, n->nullable ? "" : " NOT NULL");
  }
  free(type);
  if (rc == 0) rc = tarn_buf_append(&b, "", 1, err);
  if (rc) {
    tarn_buf_free(&b);
    return rc;
  }
  *out = (char *)tarn_buf_steal(&b);
  return 0;
}
