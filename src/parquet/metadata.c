#include "parquet/metadata.h"

#include <string.h>

#include "common/error.h"
#include "parquet/format.h"
#include "parquet/thrift.h"

/* The field-loop macros open blocks that clang-format cannot indent, so this file keeps its own
 * layout: each case indented once inside FIELDS_BEGIN / FIELDS_END. */
/* clang-format off */

/* Struct decoding is a loop over fields; each case reads one field into rc. FIELDS_END skips
 * unknown fields, stops on the first error, and checks for the STOP marker. */
#define FIELDS_BEGIN(r)                                                                          \
  {                                                                                              \
    th_struct s_;                                                                                \
    int rc_ = th_struct_begin((r), &s_);                                                         \
    if (rc_) return rc_;                                                                         \
    int t_;                                                                                      \
    int16_t id_;                                                                                 \
    while ((rc_ = th_next_field((r), &s_, &t_, &id_)) == 1) {                                    \
      rc_ = 0;                                                                                   \
      switch (id_) {
#define FIELDS_END(r)                                                                            \
  default: rc_ = th_skip((r), t_); break;                                                        \
  }                                                                                              \
  if (rc_ == TH_SKIPPED) rc_ = 0;                                                                \
  if (rc_) return rc_;                                                                           \
  }                                                                                              \
  th_struct_end(r);                                                                              \
  if (rc_ < 0) return rc_;                                                                       \
  }
#define TYPE t_
#define RC rc_

static int nomem(th_reader *r) {
  return tarn_err(r->err, TARN_ENOMEM, "%s: out of memory decoding metadata", r->what);
}

static int read_string(th_reader *r, int type, tarn_arena *a, const char **out) {
  const uint8_t *p;
  uint32_t n;
  int rc = th_read_binary(r, type, &p, &n);
  if (rc) return rc;
  char *s = tarn_arena_strndup(a, (const char *)p, n);
  if (s == NULL) return nomem(r);
  *out = s;
  return 0;
}

static int read_bytes(th_reader *r, int type, pq_bytes *out) {
  return th_read_binary(r, type, &out->data, &out->len);
}

static int read_string_list(th_reader *r, int type, tarn_arena *a, const char ***out,
                            uint32_t *n) {
  int et;
  int rc = th_read_list(r, type, &et, n);
  if (rc) return rc;
  *out = tarn_arena_calloc(a, *n, sizeof(char *));
  if (*out == NULL) return nomem(r);
  for (uint32_t i = 0; i < *n; i++)
    if ((rc = read_string(r, et, a, &(*out)[i]))) return rc;
  return 0;
}

static int read_key_values(th_reader *r, int type, tarn_arena *a, pq_key_value **out,
                           uint32_t *n) {
  int et;
  int rc = th_read_list(r, type, &et, n);
  if (rc) return rc;
  if (et != TH_STRUCT && *n) return th_fail(r, "key_value_metadata is not a list of structs");
  *out = tarn_arena_calloc(a, *n, sizeof(pq_key_value));
  if (*out == NULL) return nomem(r);
  for (uint32_t i = 0; i < *n; i++) {
    pq_key_value *kv = &(*out)[i];
    bool has_key = false;
    FIELDS_BEGIN(r)
    case 1:
      RC = read_bytes(r, TYPE, &kv->key);
      has_key = true;
      break;
    case 2:
      RC = read_bytes(r, TYPE, &kv->value);
      kv->has_value = true;
      break;
      FIELDS_END(r)
    if (!has_key) return th_fail(r, "KeyValue without a key");
  }
  return 0;
}

static int read_empty_struct(th_reader *r, int type) {
  if (type != TH_STRUCT) return th_fail(r, "expected a struct");
  return th_skip(r, type);
}

/* TimeUnit union: 1 MILLIS, 2 MICROS, 3 NANOS. */
static int read_time_unit(th_reader *r, int type, int *unit) {
  if (type != TH_STRUCT) return th_fail(r, "TimeUnit is not a struct");
  *unit = -1;
  FIELDS_BEGIN(r)
  case 1:
    *unit = PQ_UNIT_MILLIS;
    RC = read_empty_struct(r, TYPE);
    break;
  case 2:
    *unit = PQ_UNIT_MICROS;
    RC = read_empty_struct(r, TYPE);
    break;
  case 3:
    *unit = PQ_UNIT_NANOS;
    RC = read_empty_struct(r, TYPE);
    break;
    FIELDS_END(r)
  if (*unit < 0) return th_fail(r, "TimeUnit with no known unit");
  return 0;
}

static int read_time_like(th_reader *r, int type, pq_logical_type *lt) {
  if (type != TH_STRUCT) return th_fail(r, "TIME/TIMESTAMP is not a struct");
  bool has_unit = false;
  int adj = 0;
  FIELDS_BEGIN(r)
  case 1:
    RC = th_read_bool(r, TYPE, &adj);
    break;
  case 2:
    RC = read_time_unit(r, TYPE, &lt->unit);
    has_unit = true;
    break;
    FIELDS_END(r)
  lt->adjusted_to_utc = adj;
  if (!has_unit) return th_fail(r, "TIME/TIMESTAMP without a unit");
  return 0;
}

static int read_logical_type(th_reader *r, int type, pq_logical_type *lt) {
  if (type != TH_STRUCT) return th_fail(r, "LogicalType is not a struct");
  memset(lt, 0, sizeof *lt);
  FIELDS_BEGIN(r)
  case PQ_LT_DECIMAL: {
    lt->kind = PQ_LT_DECIMAL;
    if (TYPE != TH_STRUCT) {
      RC = th_fail(r, "DECIMAL is not a struct");
      break;
    }
    bool has_p = false;
    FIELDS_BEGIN(r)
    case 1:
      RC = th_read_i32(r, TYPE, &lt->scale);
      break;
    case 2:
      RC = th_read_i32(r, TYPE, &lt->precision);
      has_p = true;
      break;
      FIELDS_END(r)
    if (!has_p) return th_fail(r, "DECIMAL without precision");
    break;
  }
  case PQ_LT_TIME:
  case PQ_LT_TIMESTAMP:
    lt->kind = id_;
    RC = read_time_like(r, TYPE, lt);
    break;
  case PQ_LT_INTEGER: {
    lt->kind = PQ_LT_INTEGER;
    if (TYPE != TH_STRUCT) {
      RC = th_fail(r, "INTEGER is not a struct");
      break;
    }
    int32_t bw = 0;
    int sig = 0;
    FIELDS_BEGIN(r)
    case 1:
      RC = th_read_i32(r, TYPE, &bw);
      break;
    case 2:
      RC = th_read_bool(r, TYPE, &sig);
      break;
      FIELDS_END(r)
    if (bw != 8 && bw != 16 && bw != 32 && bw != 64)
      return th_fail(r, "INTEGER with bit width %d", (int)bw);
    lt->bit_width = bw;
    lt->is_signed = sig;
    break;
  }
  case PQ_LT_STRING:
  case PQ_LT_MAP:
  case PQ_LT_LIST:
  case PQ_LT_ENUM:
  case PQ_LT_DATE:
  case PQ_LT_UNKNOWN:
  case PQ_LT_JSON:
  case PQ_LT_BSON:
  case PQ_LT_UUID:
  case PQ_LT_FLOAT16:
  case PQ_LT_VARIANT:
    lt->kind = id_;
    RC = th_skip(r, TYPE);
    break;
  case PQ_LT_GEOMETRY:
  case PQ_LT_GEOGRAPHY: {
    lt->kind = id_;
    if (TYPE != TH_STRUCT) {
      RC = th_fail(r, "GEOMETRY/GEOGRAPHY is not a struct");
      break;
    }
    int32_t alg = 0;
    FIELDS_BEGIN(r)
    case 1:
      RC = read_bytes(r, TYPE, &lt->crs);
      break;
    case 2:
      RC = th_read_i32(r, TYPE, &alg);
      lt->has_algorithm = true;
      break;
      FIELDS_END(r)
    lt->algorithm = alg;
    break;
  }
  default:
    lt->kind = PQ_LT_UNRECOGNISED;
    RC = th_skip(r, TYPE);
    break;
  }
  if (RC == TH_SKIPPED) RC = 0;
  if (RC) return RC;
  }
  th_struct_end(r);
  if (rc_ < 0) return rc_;
  }
  return 0;
}

static int read_schema_element(th_reader *r, tarn_arena *a, pq_schema_element *e) {
  int32_t v = 0;
  e->converted_type = PQ_CT_NONE;
  FIELDS_BEGIN(r)
  case 1:
    RC = th_read_i32(r, TYPE, &v);
    e->type = v;
    e->has_type = true;
    break;
  case 2:
    RC = th_read_i32(r, TYPE, &e->type_length);
    break;
  case 3:
    RC = th_read_i32(r, TYPE, &v);
    e->repetition = v;
    e->has_repetition = true;
    break;
  case 4:
    RC = read_string(r, TYPE, a, &e->name);
    break;
  case 5:
    RC = th_read_i32(r, TYPE, &e->num_children);
    break;
  case 6:
    RC = th_read_i32(r, TYPE, &v);
    e->converted_type = v;
    break;
  case 7:
    RC = th_read_i32(r, TYPE, &e->scale);
    break;
  case 8:
    RC = th_read_i32(r, TYPE, &e->precision);
    break;
  case 9:
    RC = th_read_i32(r, TYPE, &e->field_id);
    e->has_field_id = true;
    break;
  case 10:
    RC = read_logical_type(r, TYPE, &e->logical);
    break;
    FIELDS_END(r)
  if (e->name == NULL) return th_fail(r, "schema element without a name");
  if (e->has_type && (e->type < PQ_BOOLEAN || e->type > PQ_FIXED_LEN_BYTE_ARRAY))
    return th_fail(r, "schema element '%s' has invalid physical type %d", e->name, e->type);
  if (e->has_repetition && (e->repetition < 0 || e->repetition > 2))
    return th_fail(r, "schema element '%s' has invalid repetition %d", e->name, e->repetition);
  if (e->num_children < 0) return th_fail(r, "schema element '%s' has negative children", e->name);
  return 0;
}

static int read_statistics(th_reader *r, int type, pq_statistics *st) {
  if (type != TH_STRUCT) return th_fail(r, "Statistics is not a struct");
  memset(st, 0, sizeof *st);
  st->present = true;
  int b = 0;
  FIELDS_BEGIN(r)
  case 1:
    RC = read_bytes(r, TYPE, &st->max);
    break;
  case 2:
    RC = read_bytes(r, TYPE, &st->min);
    break;
  case 3:
    RC = th_read_i64(r, TYPE, &st->null_count);
    st->has_null_count = true;
    break;
  case 4:
    RC = th_read_i64(r, TYPE, &st->distinct_count);
    st->has_distinct_count = true;
    break;
  case 5:
    RC = read_bytes(r, TYPE, &st->max_value);
    break;
  case 6:
    RC = read_bytes(r, TYPE, &st->min_value);
    break;
  case 7:
    RC = th_read_bool(r, TYPE, &b);
    st->is_max_value_exact = b;
    st->has_max_exact = true;
    break;
  case 8:
    RC = th_read_bool(r, TYPE, &b);
    st->is_min_value_exact = b;
    st->has_min_exact = true;
    break;
    FIELDS_END(r)
  return 0;
}

static int read_i32_list(th_reader *r, int type, tarn_arena *a, int32_t **out, uint32_t *n) {
  int et;
  int rc = th_read_list(r, type, &et, n);
  if (rc) return rc;
  *out = tarn_arena_calloc(a, *n, sizeof(int32_t));
  if (*out == NULL) return nomem(r);
  for (uint32_t i = 0; i < *n; i++)
    if ((rc = th_read_elem_i32(r, et, &(*out)[i]))) return rc;
  return 0;
}

static int read_column_meta(th_reader *r, tarn_arena *a, pq_column_meta *m) {
  int32_t v = 0;
  bool has_type = false, has_codec = false, has_nv = false, has_dpo = false, has_path = false;
  FIELDS_BEGIN(r)
  case 1:
    RC = th_read_i32(r, TYPE, &v);
    m->type = v;
    has_type = true;
    break;
  case 2:
    RC = read_i32_list(r, TYPE, a, &m->encodings, &m->n_encodings);
    break;
  case 3:
    RC = read_string_list(r, TYPE, a, &m->path, &m->n_path);
    has_path = true;
    break;
  case 4:
    RC = th_read_i32(r, TYPE, &v);
    m->codec = v;
    has_codec = true;
    break;
  case 5:
    RC = th_read_i64(r, TYPE, &m->num_values);
    has_nv = true;
    break;
  case 6:
    RC = th_read_i64(r, TYPE, &m->total_uncompressed_size);
    break;
  case 7:
    RC = th_read_i64(r, TYPE, &m->total_compressed_size);
    break;
  case 8:
    RC = read_key_values(r, TYPE, a, &m->key_value, &m->n_key_value);
    break;
  case 9:
    RC = th_read_i64(r, TYPE, &m->data_page_offset);
    has_dpo = true;
    break;
  case 10:
    RC = th_read_i64(r, TYPE, &m->index_page_offset);
    m->has_index_page_offset = true;
    break;
  case 11:
    RC = th_read_i64(r, TYPE, &m->dictionary_page_offset);
    m->has_dictionary_page_offset = true;
    break;
  case 12:
    RC = read_statistics(r, TYPE, &m->statistics);
    break;
  case 13: {
    int et;
    RC = th_read_list(r, TYPE, &et, &m->n_encoding_stats);
    if (RC) break;
    m->encoding_stats = tarn_arena_calloc(a, m->n_encoding_stats, sizeof(pq_page_encoding_stats));
    if (m->encoding_stats == NULL) return nomem(r);
    for (uint32_t i = 0; i < m->n_encoding_stats && RC == 0; i++) {
      pq_page_encoding_stats *es = &m->encoding_stats[i];
      if (et != TH_STRUCT) return th_fail(r, "encoding_stats is not a list of structs");
      FIELDS_BEGIN(r)
      case 1:
        RC = th_read_i32(r, TYPE, &v);
        es->page_type = v;
        break;
      case 2:
        RC = th_read_i32(r, TYPE, &v);
        es->encoding = v;
        break;
      case 3:
        RC = th_read_i32(r, TYPE, &es->count);
        break;
        FIELDS_END(r)
    }
    break;
  }
  case 14:
    RC = th_read_i64(r, TYPE, &m->bloom_filter_offset);
    m->has_bloom_filter_offset = true;
    break;
  case 15:
    RC = th_read_i32(r, TYPE, &m->bloom_filter_length);
    m->has_bloom_filter_length = true;
    break;
    FIELDS_END(r)
  if (!has_type || !has_codec || !has_nv || !has_dpo || !has_path)
    return th_fail(r, "ColumnMetaData lacks a required field (type, codec, num_values, "
                      "path_in_schema or data_page_offset)");
  if (m->type < PQ_BOOLEAN || m->type > PQ_FIXED_LEN_BYTE_ARRAY)
    return th_fail(r, "ColumnMetaData has invalid type %d", m->type);
  if (m->num_values < 0) return th_fail(r, "ColumnMetaData has negative num_values");
  return 0;
}

static int read_column_crypto(th_reader *r, int type, tarn_arena *a, pq_column_crypto *c) {
  if (type != TH_STRUCT) return th_fail(r, "ColumnCryptoMetaData is not a struct");
  FIELDS_BEGIN(r)
  case 1:
    c->kind = 1;
    RC = th_skip(r, TYPE);
    break;
  case 2:
    c->kind = 2;
    if (TYPE != TH_STRUCT) {
      RC = th_fail(r, "EncryptionWithColumnKey is not a struct");
      break;
    }
    FIELDS_BEGIN(r)
    case 1:
      RC = read_string_list(r, TYPE, a, &c->path, &c->n_path);
      break;
    case 2:
      RC = read_bytes(r, TYPE, &c->key_metadata);
      break;
      FIELDS_END(r)
    break;
    FIELDS_END(r)
  return 0;
}

static int read_column_chunk(th_reader *r, tarn_arena *a, pq_column_chunk *c) {
  bool has_offset = false;
  FIELDS_BEGIN(r)
  case 1:
    RC = read_string(r, TYPE, a, &c->file_path);
    break;
  case 2:
    RC = th_read_i64(r, TYPE, &c->file_offset);
    has_offset = true;
    break;
  case 3:
    if (TYPE != TH_STRUCT) {
      RC = th_fail(r, "ColumnMetaData is not a struct");
      break;
    }
    RC = read_column_meta(r, a, &c->meta);
    c->has_meta = true;
    break;
  case 4:
    RC = th_read_i64(r, TYPE, &c->offset_index_offset);
    c->has_offset_index = true;
    break;
  case 5:
    RC = th_read_i32(r, TYPE, &c->offset_index_length);
    break;
  case 6:
    RC = th_read_i64(r, TYPE, &c->column_index_offset);
    c->has_column_index = true;
    break;
  case 7:
    RC = th_read_i32(r, TYPE, &c->column_index_length);
    break;
  case 8:
    RC = read_column_crypto(r, TYPE, a, &c->crypto);
    break;
  case 9:
    RC = read_bytes(r, TYPE, &c->encrypted_column_metadata);
    break;
    FIELDS_END(r)
  (void)has_offset; /* required by the spec, but some writers omit it and nobody needs it */
  if (c->has_offset_index && c->offset_index_length <= 0) c->has_offset_index = false;
  if (c->has_column_index && c->column_index_length <= 0) c->has_column_index = false;
  return 0;
}

static int read_row_group(th_reader *r, tarn_arena *a, pq_row_group *g) {
  int et;
  int32_t v = 0;
  bool has_columns = false, has_rows = false;
  FIELDS_BEGIN(r)
  case 1:
    RC = th_read_list(r, TYPE, &et, &g->n_columns);
    if (RC) break;
    if (et != TH_STRUCT && g->n_columns) return th_fail(r, "columns is not a list of structs");
    g->columns = tarn_arena_calloc(a, g->n_columns, sizeof(pq_column_chunk));
    if (g->columns == NULL) return nomem(r);
    for (uint32_t i = 0; i < g->n_columns && RC == 0; i++)
      RC = read_column_chunk(r, a, &g->columns[i]);
    has_columns = true;
    break;
  case 2:
    RC = th_read_i64(r, TYPE, &g->total_byte_size);
    break;
  case 3:
    RC = th_read_i64(r, TYPE, &g->num_rows);
    has_rows = true;
    break;
  case 4:
    RC = th_read_list(r, TYPE, &et, &g->n_sorting_columns);
    if (RC) break;
    if (et != TH_STRUCT && g->n_sorting_columns)
      return th_fail(r, "sorting_columns is not a list of structs");
    g->sorting_columns = tarn_arena_calloc(a, g->n_sorting_columns, sizeof(pq_sorting_column));
    if (g->sorting_columns == NULL) return nomem(r);
    for (uint32_t i = 0; i < g->n_sorting_columns && RC == 0; i++) {
      pq_sorting_column *sc = &g->sorting_columns[i];
      int b = 0;
      FIELDS_BEGIN(r)
      case 1:
        RC = th_read_i32(r, TYPE, &sc->column_idx);
        break;
      case 2:
        RC = th_read_bool(r, TYPE, &b);
        sc->descending = b;
        break;
      case 3:
        RC = th_read_bool(r, TYPE, &b);
        sc->nulls_first = b;
        break;
        FIELDS_END(r)
    }
    break;
  case 5:
    RC = th_read_i64(r, TYPE, &g->file_offset);
    g->has_file_offset = true;
    break;
  case 6:
    RC = th_read_i64(r, TYPE, &g->total_compressed_size);
    g->has_total_compressed_size = true;
    break;
  case 7:
    RC = th_read_i32(r, TYPE, &v);
    g->ordinal = v;
    g->has_ordinal = true;
    break;
    FIELDS_END(r)
  if (!has_columns || !has_rows) return th_fail(r, "RowGroup lacks columns or num_rows");
  if (g->num_rows < 0) return th_fail(r, "RowGroup has negative num_rows");
  return 0;
}

static int read_encryption_algorithm(th_reader *r, int type, pq_encryption_algorithm *e) {
  if (type != TH_STRUCT) return th_fail(r, "EncryptionAlgorithm is not a struct");
  FIELDS_BEGIN(r)
  case 1:
  case 2: {
    e->kind = id_;
    if (TYPE != TH_STRUCT) {
      RC = th_fail(r, "AES algorithm is not a struct");
      break;
    }
    int b = 0;
    FIELDS_BEGIN(r)
    case 1:
      RC = read_bytes(r, TYPE, &e->aad_prefix);
      break;
    case 2:
      RC = read_bytes(r, TYPE, &e->aad_file_unique);
      break;
    case 3:
      RC = th_read_bool(r, TYPE, &b);
      e->supply_aad_prefix = b;
      break;
      FIELDS_END(r)
    break;
  }
    FIELDS_END(r)
  return 0;
}

int pq_decode_file_meta(const uint8_t *buf, size_t len, tarn_arena *a, pq_file_meta *m,
                        tarn_error *err) {
  th_reader rd, *r = &rd;
  th_init(r, buf, len, "file footer", err);
  memset(m, 0, sizeof *m);
  int et;
  bool has_schema = false, has_rows = false, has_groups = false;
  FIELDS_BEGIN(r)
  case 1:
    RC = th_read_i32(r, TYPE, &m->version);
    break;
  case 2:
    RC = th_read_list(r, TYPE, &et, &m->n_schema);
    if (RC) break;
    if (et != TH_STRUCT && m->n_schema) return th_fail(r, "schema is not a list of structs");
    m->schema = tarn_arena_calloc(a, m->n_schema, sizeof(pq_schema_element));
    if (m->schema == NULL) return nomem(r);
    for (uint32_t i = 0; i < m->n_schema && RC == 0; i++)
      RC = read_schema_element(r, a, &m->schema[i]);
    has_schema = true;
    break;
  case 3:
    RC = th_read_i64(r, TYPE, &m->num_rows);
    has_rows = true;
    break;
  case 4:
    RC = th_read_list(r, TYPE, &et, &m->n_row_groups);
    if (RC) break;
    if (et != TH_STRUCT && m->n_row_groups) return th_fail(r, "row_groups is not a list of structs");
    m->row_groups = tarn_arena_calloc(a, m->n_row_groups, sizeof(pq_row_group));
    if (m->row_groups == NULL) return nomem(r);
    for (uint32_t i = 0; i < m->n_row_groups && RC == 0; i++)
      RC = read_row_group(r, a, &m->row_groups[i]);
    has_groups = true;
    break;
  case 5:
    RC = read_key_values(r, TYPE, a, &m->key_value, &m->n_key_value);
    break;
  case 6:
    RC = read_string(r, TYPE, a, &m->created_by);
    break;
  case 7:
    RC = th_read_list(r, TYPE, &et, &m->n_column_orders);
    if (RC) break;
    m->column_orders = tarn_arena_calloc(a, m->n_column_orders, sizeof(int32_t));
    if (m->column_orders == NULL) return nomem(r);
    for (uint32_t i = 0; i < m->n_column_orders && RC == 0; i++) {
      if (et != TH_STRUCT) return th_fail(r, "column_orders is not a list of structs");
      FIELDS_BEGIN(r)
      case 1:
        m->column_orders[i] = 1;
        RC = th_skip(r, TYPE);
        break;
        FIELDS_END(r)
    }
    break;
  case 8:
    RC = read_encryption_algorithm(r, TYPE, &m->encryption);
    break;
  case 9:
    RC = read_bytes(r, TYPE, &m->footer_signing_key_metadata);
    break;
    FIELDS_END(r)
  if (!has_schema || m->n_schema == 0) return th_fail(r, "no schema");
  if (!has_rows || !has_groups) return th_fail(r, "missing num_rows or row_groups");
  if (m->num_rows < 0) return th_fail(r, "negative num_rows");
  return 0;
}

int pq_decode_file_crypto_meta(const uint8_t *buf, size_t len, pq_file_crypto_meta *m,
                               size_t *consumed, tarn_error *err) {
  th_reader rd, *r = &rd;
  th_init(r, buf, len, "file crypto metadata", err);
  memset(m, 0, sizeof *m);
  FIELDS_BEGIN(r)
  case 1:
    RC = read_encryption_algorithm(r, TYPE, &m->encryption);
    break;
  case 2:
    RC = read_bytes(r, TYPE, &m->key_metadata);
    break;
    FIELDS_END(r)
  if (m->encryption.kind == 0) return th_fail(r, "no encryption algorithm");
  *consumed = (size_t)(r->pos - r->start);
  return 0;
}

int pq_decode_column_meta(const uint8_t *buf, size_t len, tarn_arena *arena, pq_column_meta *out,
                          tarn_error *err) {
  th_reader r;
  th_init(&r, buf, len, "column metadata", err);
  memset(out, 0, sizeof *out);
  return read_column_meta(&r, arena, out);
}

int pq_decode_page_header(const uint8_t *buf, size_t len, pq_page_header *h, size_t *consumed,
                          tarn_error *err) {
  th_reader rd, *r = &rd;
  th_init(r, buf, len, "page header", err);
  memset(h, 0, sizeof *h);
  h->data_v2.is_compressed = true;
  int32_t v = 0;
  int b = 0;
  bool has_type = false, has_u = false, has_c = false;
  FIELDS_BEGIN(r)
  case 1:
    RC = th_read_i32(r, TYPE, &v);
    h->type = v;
    has_type = true;
    break;
  case 2:
    RC = th_read_i32(r, TYPE, &h->uncompressed_page_size);
    has_u = true;
    break;
  case 3:
    RC = th_read_i32(r, TYPE, &h->compressed_page_size);
    has_c = true;
    break;
  case 4:
    RC = th_read_i32(r, TYPE, &h->crc);
    h->has_crc = true;
    break;
  case 5:
    if (TYPE != TH_STRUCT) {
      RC = th_fail(r, "DataPageHeader is not a struct");
      break;
    }
    h->has_data = true;
    FIELDS_BEGIN(r)
    case 1:
      RC = th_read_i32(r, TYPE, &h->data.num_values);
      break;
    case 2:
      RC = th_read_i32(r, TYPE, &h->data.encoding);
      break;
    case 3:
      RC = th_read_i32(r, TYPE, &h->data.def_encoding);
      break;
    case 4:
      RC = th_read_i32(r, TYPE, &h->data.rep_encoding);
      break;
    case 5:
      RC = read_statistics(r, TYPE, &h->data.statistics);
      break;
      FIELDS_END(r)
    break;
  case 7:
    if (TYPE != TH_STRUCT) {
      RC = th_fail(r, "DictionaryPageHeader is not a struct");
      break;
    }
    h->has_dict = true;
    FIELDS_BEGIN(r)
    case 1:
      RC = th_read_i32(r, TYPE, &h->dict.num_values);
      break;
    case 2:
      RC = th_read_i32(r, TYPE, &h->dict.encoding);
      break;
    case 3:
      RC = th_read_bool(r, TYPE, &b);
      h->dict.is_sorted = b;
      break;
      FIELDS_END(r)
    break;
  case 8:
    if (TYPE != TH_STRUCT) {
      RC = th_fail(r, "DataPageHeaderV2 is not a struct");
      break;
    }
    h->has_data_v2 = true;
    FIELDS_BEGIN(r)
    case 1:
      RC = th_read_i32(r, TYPE, &h->data_v2.num_values);
      break;
    case 2:
      RC = th_read_i32(r, TYPE, &h->data_v2.num_nulls);
      break;
    case 3:
      RC = th_read_i32(r, TYPE, &h->data_v2.num_rows);
      break;
    case 4:
      RC = th_read_i32(r, TYPE, &h->data_v2.encoding);
      break;
    case 5:
      RC = th_read_i32(r, TYPE, &h->data_v2.def_levels_byte_length);
      break;
    case 6:
      RC = th_read_i32(r, TYPE, &h->data_v2.rep_levels_byte_length);
      break;
    case 7:
      RC = th_read_bool(r, TYPE, &b);
      h->data_v2.is_compressed = b;
      break;
    case 8:
      RC = read_statistics(r, TYPE, &h->data_v2.statistics);
      break;
      FIELDS_END(r)
    break;
    FIELDS_END(r)
  if (!has_type || !has_u || !has_c)
    return th_fail(r, "page header lacks type or sizes");
  if (h->uncompressed_page_size < 0 || h->compressed_page_size < 0)
    return th_fail(r, "page header has a negative size");
  if (h->has_data && h->data.num_values < 0) return th_fail(r, "negative num_values");
  if (h->has_data_v2 &&
      (h->data_v2.num_values < 0 || h->data_v2.num_nulls < 0 || h->data_v2.num_rows < 0 ||
       h->data_v2.def_levels_byte_length < 0 || h->data_v2.rep_levels_byte_length < 0))
    return th_fail(r, "data page v2 header has a negative count");
  if (h->has_dict && h->dict.num_values < 0) return th_fail(r, "negative dictionary size");
  *consumed = (size_t)(r->pos - r->start);
  return 0;
}

int pq_decode_column_index(const uint8_t *buf, size_t len, tarn_arena *a, pq_column_index *ci,
                           tarn_error *err) {
  th_reader rd, *r = &rd;
  th_init(r, buf, len, "column index", err);
  memset(ci, 0, sizeof *ci);
  int et;
  uint32_t n;
  bool has_np = false, has_min = false, has_max = false;
  uint32_t n_np = 0, n_min = 0, n_max = 0, n_nc = 0;
  int32_t v = 0;
  FIELDS_BEGIN(r)
  case 1:
    RC = th_read_list(r, TYPE, &et, &n_np);
    if (RC) break;
    ci->null_pages = tarn_arena_calloc(a, n_np, sizeof(bool));
    if (ci->null_pages == NULL) return nomem(r);
    for (uint32_t i = 0; i < n_np && RC == 0; i++) {
      int bv;
      RC = th_read_elem_bool(r, et, &bv);
      ci->null_pages[i] = bv;
    }
    has_np = true;
    break;
  case 2:
  case 3: {
    RC = th_read_list(r, TYPE, &et, &n);
    if (RC) break;
    pq_bytes *list = tarn_arena_calloc(a, n, sizeof(pq_bytes));
    if (list == NULL) return nomem(r);
    for (uint32_t i = 0; i < n && RC == 0; i++) RC = read_bytes(r, et, &list[i]);
    if (id_ == 2) {
      ci->min_values = list;
      n_min = n;
      has_min = true;
    } else {
      ci->max_values = list;
      n_max = n;
      has_max = true;
    }
    break;
  }
  case 4:
    RC = th_read_i32(r, TYPE, &v);
    ci->boundary_order = v;
    break;
  case 5:
    RC = th_read_list(r, TYPE, &et, &n_nc);
    if (RC) break;
    ci->null_counts = tarn_arena_calloc(a, n_nc, sizeof(int64_t));
    if (ci->null_counts == NULL) return nomem(r);
    for (uint32_t i = 0; i < n_nc && RC == 0; i++) RC = th_read_elem_i64(r, et, &ci->null_counts[i]);
    ci->has_null_counts = true;
    break;
    FIELDS_END(r)
  if (!has_np || !has_min || !has_max) return th_fail(r, "ColumnIndex lacks a required list");
  if (n_min != n_np || n_max != n_np || (ci->has_null_counts && n_nc != n_np))
    return th_fail(r, "ColumnIndex lists have different lengths");
  ci->n_pages = n_np;
  return 0;
}

int pq_decode_offset_index(const uint8_t *buf, size_t len, tarn_arena *a, pq_offset_index *oi,
                           tarn_error *err) {
  th_reader rd, *r = &rd;
  th_init(r, buf, len, "offset index", err);
  memset(oi, 0, sizeof *oi);
  int et;
  bool has_pages = false;
  FIELDS_BEGIN(r)
  case 1:
    RC = th_read_list(r, TYPE, &et, &oi->n_pages);
    if (RC) break;
    if (et != TH_STRUCT && oi->n_pages) return th_fail(r, "page_locations is not a list of structs");
    oi->pages = tarn_arena_calloc(a, oi->n_pages, sizeof(pq_page_location));
    if (oi->pages == NULL) return nomem(r);
    for (uint32_t i = 0; i < oi->n_pages && RC == 0; i++) {
      pq_page_location *pl = &oi->pages[i];
      FIELDS_BEGIN(r)
      case 1:
        RC = th_read_i64(r, TYPE, &pl->offset);
        break;
      case 2:
        RC = th_read_i32(r, TYPE, &pl->compressed_page_size);
        break;
      case 3:
        RC = th_read_i64(r, TYPE, &pl->first_row_index);
        break;
        FIELDS_END(r)
    }
    has_pages = true;
    break;
    FIELDS_END(r)
  if (!has_pages) return th_fail(r, "OffsetIndex lacks page_locations");
  return 0;
}

int pq_decode_bloom_header(const uint8_t *buf, size_t len, pq_bloom_header *h, size_t *consumed,
                           tarn_error *err) {
  th_reader rd, *r = &rd;
  th_init(r, buf, len, "bloom filter header", err);
  memset(h, 0, sizeof *h);
  bool has_n = false;
  FIELDS_BEGIN(r)
  case 1:
    RC = th_read_i32(r, TYPE, &h->num_bytes);
    has_n = true;
    break;
  case 2:
  case 3:
  case 4: {
    int which = 0;
    if (TYPE != TH_STRUCT) {
      RC = th_fail(r, "bloom filter union is not a struct");
      break;
    }
    FIELDS_BEGIN(r)
    default:
      which = id_;
      RC = th_skip(r, TYPE);
      break;
    }
    if (RC == TH_SKIPPED) RC = 0;
    if (RC) return RC;
    }
    th_struct_end(r);
    if (rc_ < 0) return rc_;
    }
    if (id_ == 2) h->algorithm = which;
    else if (id_ == 3) h->hash = which;
    else h->compression = which;
    break;
  }
    FIELDS_END(r)
  if (!has_n || h->num_bytes < 0) return th_fail(r, "bloom filter header lacks numBytes");
  *consumed = (size_t)(r->pos - r->start);
  return 0;
}
/* clang-format on */
