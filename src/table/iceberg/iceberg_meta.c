/*
 * Iceberg table metadata JSON (see iceberg_meta.h): the document is parsed into an exact-integer
 * DOM (common/json_exact.h) in a scratch arena, then walked section by section into the caller's
 * arena, then checked for references that point at nothing.
 */
#include "table/iceberg/iceberg_meta.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/fs.h"
#include "common/json_exact.h"

typedef struct meta_ctx {
  tarn_arena *a;
  tarn_error *err;
  int version;
  const char *where; /* the section being read, for messages ("snapshots", "schema 1", ...) */
} meta_ctx;

static int bad(meta_ctx *c, const jx_value *at, const char *fmt, ...) TARN_PRINTF(3, 4);
static int bad(meta_ctx *c, const jx_value *at, const char *fmt, ...) {
  char msg[300];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return tarn_err(c->err, TARN_ECORRUPT, "iceberg metadata: line %d: %s%s%s", at ? at->line : 1,
                  c->where ? c->where : "", c->where ? ": " : "", msg);
}

static int oom(meta_ctx *c) {
  return tarn_err(c->err, TARN_ENOMEM, "iceberg metadata: out of memory");
}

static void *alloc(meta_ctx *c, size_t n, size_t size) {
  return tarn_arena_calloc(c->a, n ? n : 1, size);
}

/* A member, with null counted as absent. */
static const jx_value *member(const jx_value *obj, const char *key) {
  const jx_value *v = jx_get(obj, key);
  return v && v->kind != JX_NULL ? v : NULL;
}

static int get_i64(meta_ctx *c, const jx_value *obj, const char *key, bool required, int64_t dflt,
                   int64_t *out) {
  const jx_value *v = member(obj, key);
  *out = dflt;
  if (v == NULL) return required ? bad(c, obj, "missing %s", key) : 0;
  if (v->kind == JX_NUMBER) return bad(c, v, "%s is not an integer or out of range", key);
  if (v->kind != JX_INT) return bad(c, v, "%s is not an integer", key);
  *out = v->i;
  return 0;
}

static int get_i32(meta_ctx *c, const jx_value *obj, const char *key, bool required, int32_t dflt,
                   int32_t *out) {
  int64_t x;
  int rc = get_i64(c, obj, key, required, dflt, &x);
  if (rc) return rc;
  if (x < INT32_MIN || x > INT32_MAX) return bad(c, jx_get(obj, key), "%s is out of range", key);
  *out = (int32_t)x;
  return 0;
}

static int get_bool(meta_ctx *c, const jx_value *obj, const char *key, bool required, bool dflt,
                    bool *out) {
  const jx_value *v = member(obj, key);
  *out = dflt;
  if (v == NULL) return required ? bad(c, obj, "missing %s", key) : 0;
  if (v->kind != JX_TRUE && v->kind != JX_FALSE) return bad(c, v, "%s is not a boolean", key);
  *out = v->kind == JX_TRUE;
  return 0;
}

static int copy_str(meta_ctx *c, const jx_value *v, const char **out) {
  *out = tarn_arena_strndup(c->a, v->str, v->str_len);
  return *out ? 0 : oom(c);
}

static int get_str(meta_ctx *c, const jx_value *obj, const char *key, bool required,
                   const char **out) {
  const jx_value *v = member(obj, key);
  *out = NULL;
  if (v == NULL) return required ? bad(c, obj, "missing %s", key) : 0;
  if (v->kind != JX_STRING) return bad(c, v, "%s is not a string", key);
  return copy_str(c, v, out);
}

/* The member key of kind (JX_ARRAY or JX_OBJECT) in *out; NULL when absent and not required. */
static int get_kind(meta_ctx *c, const jx_value *obj, const char *key, jx_kind kind, bool required,
                    const jx_value **out) {
  const jx_value *v = member(obj, key);
  *out = NULL;
  if (v == NULL) return required ? bad(c, obj, "missing %s", key) : 0;
  if (v->kind != kind) return bad(c, v, "%s is not %s", key, jx_kind_name(kind));
  *out = v;
  return 0;
}

static int expect_object(meta_ctx *c, const jx_value *v, const char *what) {
  return v->kind == JX_OBJECT ? 0 : bad(c, v, "%s is not an object", what);
}

/* An array of int32 (identifier-field-ids, blob fields, source-ids). */
static int get_i32_list(meta_ctx *c, const jx_value *obj, const char *key, bool required,
                        int32_t **out, size_t *n) {
  const jx_value *arr;
  *out = NULL;
  *n = 0;
  int rc = get_kind(c, obj, key, JX_ARRAY, required, &arr);
  if (rc || arr == NULL) return rc;
  if ((*out = alloc(c, arr->n, sizeof **out)) == NULL) return oom(c);
  for (const jx_value *e = arr->child; e; e = e->next) {
    if (e->kind != JX_INT || e->i < INT32_MIN || e->i > INT32_MAX)
      return bad(c, e, "%s holds a value that is not a 32-bit integer", key);
    (*out)[(*n)++] = (int32_t)e->i;
  }
  return 0;
}

/* An object whose values are all strings (properties, snapshot summary). */
static int get_string_map(meta_ctx *c, const jx_value *obj, const char *key, const char ***keys,
                          const char ***values, size_t *n) {
  const jx_value *m;
  *keys = *values = NULL;
  *n = 0;
  int rc = get_kind(c, obj, key, JX_OBJECT, false, &m);
  if (rc || m == NULL) return rc;
  *keys = alloc(c, m->n, sizeof **keys);
  *values = alloc(c, m->n, sizeof **values);
  if (*keys == NULL || *values == NULL) return oom(c);
  for (const jx_value *e = m->child; e; e = e->next) {
    if (e->kind != JX_STRING)
      return bad(c, e, "%s value of \"%.100s\" is not a string", key, e->key);
    (*keys)[*n] = tarn_arena_strndup(c->a, e->key, strlen(e->key));
    if ((*keys)[*n] == NULL || copy_str(c, e, &(*values)[*n])) return oom(c);
    (*n)++;
  }
  return 0;
}

/* --- Types ---------------------------------------------------------------------------------- */

static const struct {
  const char *name;
  iceberg_primitive prim;
} primitive_names[] = {
    {"boolean", ICEBERG_BOOLEAN},
    {"int", ICEBERG_INT},
    {"long", ICEBERG_LONG},
    {"float", ICEBERG_FLOAT},
    {"double", ICEBERG_DOUBLE},
    {"date", ICEBERG_DATE},
    {"time", ICEBERG_TIME},
    {"timestamp", ICEBERG_TIMESTAMP},
    {"timestamptz", ICEBERG_TIMESTAMPTZ},
    {"timestamp_ns", ICEBERG_TIMESTAMP_NS},
    {"timestamptz_ns", ICEBERG_TIMESTAMPTZ_NS},
    {"string", ICEBERG_STRING},
    {"uuid", ICEBERG_UUID},
    {"binary", ICEBERG_BINARY},
    {"unknown", ICEBERG_UNKNOWN},
    {"variant", ICEBERG_VARIANT},
    {"geometry", ICEBERG_GEOMETRY},
    {"geography", ICEBERG_GEOGRAPHY},
};

static const char *skip_spaces(const char *s) {
  while (*s == ' ')
    s++;
  return s;
}

/* Reads decimal digits at *s (at most 9) into *out; false when there are none. */
static bool read_small_uint(const char **s, int64_t *out) {
  const char *p = *s;
  int64_t v = 0;
  int n = 0;
  while (*p >= '0' && *p <= '9' && n < 10) {
    v = v * 10 + (*p++ - '0');
    n++;
  }
  if (n == 0 || n > 9) return false;
  *s = p;
  *out = v;
  return true;
}

static int parse_primitive(meta_ctx *c, const jx_value *v, iceberg_type *t) {
  const char *s = v->str;
  t->kind = ICEBERG_TYPE_PRIMITIVE;
  if (copy_str(c, v, &t->name)) return oom(c);
  for (size_t k = 0; k < sizeof primitive_names / sizeof primitive_names[0]; k++)
    if (strcmp(s, primitive_names[k].name) == 0) {
      t->primitive = primitive_names[k].prim;
      return 0;
    }
  int64_t p, q;
  if (strncmp(s, "decimal(", 8) == 0) {
    const char *r = skip_spaces(s + 8);
    if (read_small_uint(&r, &p) && *(r = skip_spaces(r)) == ',' &&
        read_small_uint((r = skip_spaces(r + 1), &r), &q) && *(r = skip_spaces(r)) == ')' &&
        r[1] == '\0') {
      if (p < 1 || p > 38 || q > p)
        return bad(c, v, "type \"%.60s\": precision must be 1 to 38 and scale at most precision",
                   s);
      t->primitive = ICEBERG_DECIMAL;
      t->precision = (int)p;
      t->scale = (int)q;
      return 0;
    }
  } else if (strncmp(s, "fixed[", 6) == 0) {
    const char *r = skip_spaces(s + 6);
    if (read_small_uint(&r, &p) && *(r = skip_spaces(r)) == ']' && r[1] == '\0' && p > 0) {
      t->primitive = ICEBERG_FIXED;
      t->length = p;
      return 0;
    }
  } else if ((strncmp(s, "geometry(", 9) == 0 || strncmp(s, "geography(", 10) == 0) &&
             v->str_len > 0 && s[v->str_len - 1] == ')') {
    t->primitive = s[2] == 'o' && s[3] == 'm' ? ICEBERG_GEOMETRY : ICEBERG_GEOGRAPHY;
    return 0;
  }
  return bad(c, v, "unknown type \"%.60s\"", s);
}

static int parse_type(meta_ctx *c, const jx_value *v, iceberg_type **out);

static int parse_struct(meta_ctx *c, const jx_value *v, iceberg_type *t) {
  const jx_value *fields;
  int rc = get_kind(c, v, "fields", JX_ARRAY, true, &fields);
  if (rc) return rc;
  t->kind = ICEBERG_TYPE_STRUCT;
  if ((t->fields = alloc(c, fields->n, sizeof *t->fields)) == NULL) return oom(c);
  for (const jx_value *e = fields->child; e; e = e->next) {
    iceberg_field *f = &t->fields[t->n_fields++];
    const jx_value *ty, *d;
    if ((rc = expect_object(c, e, "a struct field")) ||
        (rc = get_i32(c, e, "id", true, 0, &f->id)) ||
        (rc = get_str(c, e, "name", true, &f->name)) ||
        (rc = get_bool(c, e, "required", true, false, &f->required)) ||
        (rc = get_str(c, e, "doc", false, &f->doc)))
      return rc;
    if ((ty = jx_get(e, "type")) == NULL) return bad(c, e, "field %d: missing type", (int)f->id);
    if ((rc = parse_type(c, ty, &f->type))) return rc;
    if ((d = jx_get(e, "initial-default")) != NULL &&
        (f->initial_default = tarn_arena_strndup(c->a, d->span, d->span_len)) == NULL)
      return oom(c);
    if ((d = jx_get(e, "write-default")) != NULL &&
        (f->write_default = tarn_arena_strndup(c->a, d->span, d->span_len)) == NULL)
      return oom(c);
  }
  return 0;
}

static int parse_type(meta_ctx *c, const jx_value *v, iceberg_type **out) {
  iceberg_type *t = alloc(c, 1, sizeof *t);
  if (t == NULL) return oom(c);
  *out = t;
  if (v->kind == JX_STRING) return parse_primitive(c, v, t);
  if (v->kind != JX_OBJECT) return bad(c, v, "a type is %s", jx_kind_name(v->kind));
  const char *kind;
  int rc = get_str(c, v, "type", true, &kind);
  if (rc) return rc;
  if (strcmp(kind, "struct") == 0) return parse_struct(c, v, t);
  const jx_value *sub;
  if (strcmp(kind, "list") == 0) {
    t->kind = ICEBERG_TYPE_LIST;
    if ((rc = get_i32(c, v, "element-id", true, 0, &t->element_id)) ||
        (rc = get_bool(c, v, "element-required", true, false, &t->element_required)))
      return rc;
    if ((sub = jx_get(v, "element")) == NULL) return bad(c, v, "list: missing element");
    return parse_type(c, sub, &t->element);
  }
  if (strcmp(kind, "map") == 0) {
    t->kind = ICEBERG_TYPE_MAP;
    if ((rc = get_i32(c, v, "key-id", true, 0, &t->key_id)) ||
        (rc = get_i32(c, v, "value-id", true, 0, &t->value_id)) ||
        (rc = get_bool(c, v, "value-required", true, false, &t->value_required)))
      return rc;
    if ((sub = jx_get(v, "key")) == NULL) return bad(c, v, "map: missing key");
    if ((rc = parse_type(c, sub, &t->key))) return rc;
    if ((sub = jx_get(v, "value")) == NULL) return bad(c, v, "map: missing value");
    return parse_type(c, sub, &t->value);
  }
  return bad(c, v, "unknown nested type \"%.60s\"", kind);
}

/* A schema object; has_id: schema-id is required (inside `schemas`). */
static int parse_schema(meta_ctx *c, const jx_value *v, bool id_required, iceberg_schema *s) {
  const char *kind;
  int rc;
  if ((rc = expect_object(c, v, "a schema")) ||
      (rc = get_i32(c, v, "schema-id", id_required, 0, &s->schema_id)) ||
      (rc = get_str(c, v, "type", true, &kind)))
    return rc;
  if (strcmp(kind, "struct") != 0) return bad(c, v, "schema type is \"%.60s\", not struct", kind);
  if ((s->type = alloc(c, 1, sizeof *s->type)) == NULL) return oom(c);
  if ((rc = parse_struct(c, v, s->type))) return rc;
  return get_i32_list(c, v, "identifier-field-ids", false, &s->identifier_field_ids,
                      &s->n_identifier_field_ids);
}

/* --- Partition specs and sort orders -------------------------------------------------------- */

static int parse_source_ids(meta_ctx *c, const jx_value *e, int32_t **ids, size_t *n) {
  if (member(e, "source-ids")) return get_i32_list(c, e, "source-ids", true, ids, n);
  if ((*ids = alloc(c, 1, sizeof **ids)) == NULL) return oom(c);
  *n = 1;
  return get_i32(c, e, "source-id", true, 0, *ids);
}

/* A field list (a v2 spec's "fields" or v1's "partition-spec"); next_id: ids for fields without
 * field-id (1000 upwards, as iceberg-java assigns them to v1 specs). */
static int parse_spec_fields(meta_ctx *c, const jx_value *arr, iceberg_partition_spec *spec,
                             int32_t *next_id) {
  if ((spec->fields = alloc(c, arr->n, sizeof *spec->fields)) == NULL) return oom(c);
  for (const jx_value *e = arr->child; e; e = e->next) {
    iceberg_partition_field *f = &spec->fields[spec->n_fields++];
    int rc;
    if ((rc = expect_object(c, e, "a partition field")) ||
        (rc = parse_source_ids(c, e, &f->source_ids, &f->n_source_ids)) ||
        (rc = get_i32(c, e, "field-id", false, *next_id, &f->field_id)) ||
        (rc = get_str(c, e, "name", true, &f->name)) ||
        (rc = get_str(c, e, "transform", true, &f->transform)))
      return rc;
    if (f->field_id >= *next_id) *next_id = f->field_id < INT32_MAX ? f->field_id + 1 : INT32_MAX;
  }
  return 0;
}

static int parse_sort_order(meta_ctx *c, const jx_value *v, iceberg_sort_order *o) {
  const jx_value *fields;
  int rc;
  if ((rc = expect_object(c, v, "a sort order")) ||
      (rc = get_i32(c, v, "order-id", true, 0, &o->order_id)) ||
      (rc = get_kind(c, v, "fields", JX_ARRAY, true, &fields)))
    return rc;
  if ((o->fields = alloc(c, fields->n, sizeof *o->fields)) == NULL) return oom(c);
  for (const jx_value *e = fields->child; e; e = e->next) {
    iceberg_sort_field *f = &o->fields[o->n_fields++];
    const char *dir, *nulls;
    if ((rc = expect_object(c, e, "a sort field")) ||
        (rc = parse_source_ids(c, e, &f->source_ids, &f->n_source_ids)) ||
        (rc = get_str(c, e, "transform", true, &f->transform)) ||
        (rc = get_str(c, e, "direction", true, &dir)) ||
        (rc = get_str(c, e, "null-order", true, &nulls)))
      return rc;
    if (strcmp(dir, "asc") != 0 && strcmp(dir, "desc") != 0)
      return bad(c, e, "direction \"%.40s\" is not asc or desc", dir);
    if (strcmp(nulls, "nulls-first") != 0 && strcmp(nulls, "nulls-last") != 0)
      return bad(c, e, "null-order \"%.40s\" is not nulls-first or nulls-last", nulls);
    f->descending = dir[0] == 'd';
    f->nulls_last = strcmp(nulls, "nulls-last") == 0;
  }
  return 0;
}

/* --- Snapshots, history, refs, statistics ---------------------------------------------------- */

static int parse_snapshot(meta_ctx *c, const jx_value *v, iceberg_snapshot *s) {
  int rc;
  bool v2 = c->version >= 2;
  if ((rc = expect_object(c, v, "a snapshot")) ||
      (rc = get_i64(c, v, "snapshot-id", true, 0, &s->snapshot_id)) ||
      (rc = get_i64(c, v, "parent-snapshot-id", false, -1, &s->parent_snapshot_id)) ||
      (rc = get_i64(c, v, "sequence-number", v2, 0, &s->sequence_number)) ||
      (rc = get_i64(c, v, "timestamp-ms", true, 0, &s->timestamp_ms)) ||
      (rc = get_str(c, v, "manifest-list", false, &s->manifest_list)) ||
      (rc = get_i32(c, v, "schema-id", false, -1, &s->schema_id)) ||
      (rc = get_i64(c, v, "first-row-id", false, -1, &s->first_row_id)) ||
      (rc = get_i64(c, v, "added-rows", false, -1, &s->added_rows)) ||
      (rc = get_str(c, v, "key-id", false, &s->key_id)))
    return rc;
  if (s->manifest_list == NULL) {
    const jx_value *m;
    if (v2) return bad(c, v, "snapshot %lld: missing manifest-list", (long long)s->snapshot_id);
    if ((rc = get_kind(c, v, "manifests", JX_ARRAY, false, &m))) return rc;
    if (m == NULL)
      return bad(c, v, "snapshot %lld: missing manifest-list or manifests",
                 (long long)s->snapshot_id);
    if ((s->manifests = alloc(c, m->n, sizeof *s->manifests)) == NULL) return oom(c);
    for (const jx_value *e = m->child; e; e = e->next) {
      if (e->kind != JX_STRING) return bad(c, e, "manifests holds a value that is not a string");
      if (copy_str(c, e, &s->manifests[s->n_manifests++])) return oom(c);
    }
  }
  if (member(v, "summary") == NULL) {
    if (v2) return bad(c, v, "snapshot %lld: missing summary", (long long)s->snapshot_id);
    return 0;
  }
  if ((rc = get_string_map(c, v, "summary", &s->summary_keys, &s->summary_values, &s->n_summary)))
    return rc;
  for (size_t k = 0; k < s->n_summary; k++)
    if (strcmp(s->summary_keys[k], "operation") == 0) s->operation = s->summary_values[k];
  if (s->operation == NULL)
    return bad(c, v, "snapshot %lld: summary has no operation", (long long)s->snapshot_id);
  return 0;
}

static int parse_refs(meta_ctx *c, const jx_value *refs, iceberg_meta *m) {
  if ((m->refs = alloc(c, refs->n + 1, sizeof *m->refs)) == NULL) return oom(c);
  for (const jx_value *e = refs->child; e; e = e->next) {
    iceberg_ref *r = &m->refs[m->n_refs++];
    const char *type;
    int rc;
    if ((rc = expect_object(c, e, "a ref")) ||
        (rc = get_i64(c, e, "snapshot-id", true, 0, &r->snapshot_id)) ||
        (rc = get_str(c, e, "type", true, &type)) ||
        (rc = get_i64(c, e, "min-snapshots-to-keep", false, -1, &r->min_snapshots_to_keep)) ||
        (rc = get_i64(c, e, "max-snapshot-age-ms", false, -1, &r->max_snapshot_age_ms)) ||
        (rc = get_i64(c, e, "max-ref-age-ms", false, -1, &r->max_ref_age_ms)))
      return rc;
    if (strcmp(type, "branch") != 0 && strcmp(type, "tag") != 0)
      return bad(c, e, "ref \"%.60s\": type \"%.40s\" is not branch or tag", e->key, type);
    r->is_tag = type[0] == 't';
    if ((r->name = tarn_arena_strndup(c->a, e->key, strlen(e->key))) == NULL) return oom(c);
  }
  return 0;
}

static int parse_statistics(meta_ctx *c, const jx_value *arr, bool partition,
                            iceberg_statistics_file **out, size_t *n) {
  if ((*out = alloc(c, arr->n, sizeof **out)) == NULL) return oom(c);
  for (const jx_value *e = arr->child; e; e = e->next) {
    iceberg_statistics_file *f = &(*out)[(*n)++];
    const jx_value *blobs;
    int rc;
    if ((rc = expect_object(c, e, "a statistics file")) ||
        (rc = get_i64(c, e, "snapshot-id", true, 0, &f->snapshot_id)) ||
        (rc = get_str(c, e, "statistics-path", true, &f->path)) ||
        (rc = get_i64(c, e, "file-size-in-bytes", true, 0, &f->file_size_in_bytes)) ||
        (rc = get_i64(c, e, "file-footer-size-in-bytes", !partition, -1,
                      &f->file_footer_size_in_bytes)) ||
        (rc = get_kind(c, e, "blob-metadata", JX_ARRAY, !partition, &blobs)))
      return rc;
    if (blobs == NULL) continue;
    if ((f->blobs = alloc(c, blobs->n, sizeof *f->blobs)) == NULL) return oom(c);
    for (const jx_value *b = blobs->child; b; b = b->next) {
      iceberg_blob_metadata *bm = &f->blobs[f->n_blobs++];
      if ((rc = expect_object(c, b, "a blob metadata")) ||
          (rc = get_str(c, b, "type", true, &bm->type)) ||
          (rc = get_i64(c, b, "snapshot-id", true, 0, &bm->snapshot_id)) ||
          (rc = get_i64(c, b, "sequence-number", true, 0, &bm->sequence_number)) ||
          (rc = get_i32_list(c, b, "fields", true, &bm->fields, &bm->n_fields)))
        return rc;
    }
  }
  return 0;
}

/* --- The document ------------------------------------------------------------------------------
 */

static int parse_schemas(meta_ctx *c, const jx_value *root, iceberg_meta *m) {
  const jx_value *list, *single;
  int rc;
  c->where = NULL;
  if ((rc = get_kind(c, root, "schemas", JX_ARRAY, c->version >= 2, &list))) return rc;
  if (list != NULL) {
    c->where = NULL;
    if ((rc = get_i32(c, root, "current-schema-id", true, 0, &m->current_schema_id))) return rc;
    c->where = "schemas";
    if ((m->schemas = alloc(c, list->n, sizeof *m->schemas)) == NULL) return oom(c);
    for (const jx_value *e = list->child; e; e = e->next)
      if ((rc = parse_schema(c, e, true, &m->schemas[m->n_schemas++]))) return rc;
    return 0;
  }
  if ((rc = get_kind(c, root, "schema", JX_OBJECT, true, &single))) return rc;
  c->where = "schema";
  if ((m->schemas = alloc(c, 1, sizeof *m->schemas)) == NULL) return oom(c);
  m->n_schemas = 1;
  if ((rc = parse_schema(c, single, false, &m->schemas[0]))) return rc;
  m->current_schema_id = m->schemas[0].schema_id;
  return 0;
}

static int parse_specs(meta_ctx *c, const jx_value *root, iceberg_meta *m) {
  const jx_value *list, *single;
  int rc;
  int32_t next_id = 1000;
  c->where = NULL;
  if ((rc = get_kind(c, root, "partition-specs", JX_ARRAY, c->version >= 2, &list))) return rc;
  if (list != NULL) {
    c->where = "partition-specs";
    if ((m->specs = alloc(c, list->n, sizeof *m->specs)) == NULL) return oom(c);
    for (const jx_value *e = list->child; e; e = e->next) {
      iceberg_partition_spec *s = &m->specs[m->n_specs++];
      const jx_value *fields;
      if ((rc = expect_object(c, e, "a partition spec")) ||
          (rc = get_i32(c, e, "spec-id", true, 0, &s->spec_id)) ||
          (rc = get_kind(c, e, "fields", JX_ARRAY, true, &fields)) ||
          (rc = parse_spec_fields(c, fields, s, &next_id)))
        return rc;
    }
    c->where = NULL;
    int32_t largest = 0;
    for (size_t k = 0; k < m->n_specs; k++)
      if (k == 0 || m->specs[k].spec_id > largest) largest = m->specs[k].spec_id;
    return get_i32(c, root, "default-spec-id", c->version >= 2, largest, &m->default_spec_id);
  }
  if ((rc = get_kind(c, root, "partition-spec", JX_ARRAY, true, &single))) return rc;
  c->where = "partition-spec";
  if ((m->specs = alloc(c, 1, sizeof *m->specs)) == NULL) return oom(c);
  m->n_specs = 1;
  m->default_spec_id = 0;
  return parse_spec_fields(c, single, &m->specs[0], &next_id);
}

static int parse_sort_orders(meta_ctx *c, const jx_value *root, iceberg_meta *m) {
  const jx_value *list;
  int rc;
  bool v2 = c->version >= 2;
  c->where = NULL;
  if ((rc = get_kind(c, root, "sort-orders", JX_ARRAY, v2, &list))) return rc;
  c->where = "sort-orders";
  if (list == NULL) { /* v1: the unsorted order */
    if ((m->sort_orders = alloc(c, 1, sizeof *m->sort_orders)) == NULL) return oom(c);
    m->n_sort_orders = 1;
    m->default_sort_order_id = 0;
    return 0;
  }
  if ((m->sort_orders = alloc(c, list->n, sizeof *m->sort_orders)) == NULL) return oom(c);
  for (const jx_value *e = list->child; e; e = e->next)
    if ((rc = parse_sort_order(c, e, &m->sort_orders[m->n_sort_orders++]))) return rc;
  c->where = NULL;
  return get_i32(c, root, "default-sort-order-id", v2, 0, &m->default_sort_order_id);
}

static int parse_history(meta_ctx *c, const jx_value *root, iceberg_meta *m) {
  const jx_value *list;
  int rc;
  c->where = "snapshots";
  if ((rc = get_kind(c, root, "snapshots", JX_ARRAY, false, &list))) return rc;
  if (list != NULL) {
    if ((m->snapshots = alloc(c, list->n, sizeof *m->snapshots)) == NULL) return oom(c);
    for (const jx_value *e = list->child; e; e = e->next)
      if ((rc = parse_snapshot(c, e, &m->snapshots[m->n_snapshots++]))) return rc;
  }
  c->where = "snapshot-log";
  if ((rc = get_kind(c, root, "snapshot-log", JX_ARRAY, false, &list))) return rc;
  if (list != NULL) {
    if ((m->snapshot_log = alloc(c, list->n, sizeof *m->snapshot_log)) == NULL) return oom(c);
    for (const jx_value *e = list->child; e; e = e->next) {
      iceberg_snapshot_log_entry *l = &m->snapshot_log[m->n_snapshot_log++];
      if ((rc = expect_object(c, e, "an entry")) ||
          (rc = get_i64(c, e, "snapshot-id", true, 0, &l->snapshot_id)) ||
          (rc = get_i64(c, e, "timestamp-ms", true, 0, &l->timestamp_ms)))
        return rc;
    }
  }
  c->where = "metadata-log";
  if ((rc = get_kind(c, root, "metadata-log", JX_ARRAY, false, &list))) return rc;
  if (list != NULL) {
    if ((m->metadata_log = alloc(c, list->n, sizeof *m->metadata_log)) == NULL) return oom(c);
    for (const jx_value *e = list->child; e; e = e->next) {
      iceberg_metadata_log_entry *l = &m->metadata_log[m->n_metadata_log++];
      if ((rc = expect_object(c, e, "an entry")) ||
          (rc = get_str(c, e, "metadata-file", true, &l->metadata_file)) ||
          (rc = get_i64(c, e, "timestamp-ms", true, 0, &l->timestamp_ms)))
        return rc;
    }
  }
  c->where = "refs";
  if ((rc = get_kind(c, root, "refs", JX_OBJECT, false, &list))) return rc;
  if (list != NULL && (rc = parse_refs(c, list, m))) return rc;
  c->where = "statistics";
  if ((rc = get_kind(c, root, "statistics", JX_ARRAY, false, &list))) return rc;
  if (list != NULL && (rc = parse_statistics(c, list, false, &m->statistics, &m->n_statistics)))
    return rc;
  c->where = "partition-statistics";
  if ((rc = get_kind(c, root, "partition-statistics", JX_ARRAY, false, &list))) return rc;
  if (list != NULL &&
      (rc = parse_statistics(c, list, true, &m->partition_statistics, &m->n_partition_statistics)))
    return rc;
  return 0;
}

/* Checks that every id the document refers to names something in it. */
static int validate(meta_ctx *c, const jx_value *root, iceberg_meta *m) {
  c->where = NULL;
  if (iceberg_meta_default_spec(m) == NULL)
    return bad(c, jx_get(root, "default-spec-id"), "default-spec-id %d refers to no partition spec",
               (int)m->default_spec_id);
  if (iceberg_meta_sort_order(m, m->default_sort_order_id) == NULL)
    return bad(c, jx_get(root, "default-sort-order-id"),
               "default-sort-order-id %d refers to no sort order", (int)m->default_sort_order_id);
  if (m->current_snapshot_id != -1 && iceberg_meta_current_snapshot(m) == NULL)
    return bad(c, jx_get(root, "current-snapshot-id"),
               "current-snapshot-id %lld refers to no snapshot", (long long)m->current_snapshot_id);
  for (size_t k = 0; k < m->n_refs; k++)
    if (iceberg_meta_snapshot(m, m->refs[k].snapshot_id) == NULL)
      return bad(c, jx_get(root, "refs"), "ref \"%.60s\": snapshot %lld does not exist",
                 m->refs[k].name, (long long)m->refs[k].snapshot_id);
  if (m->n_refs == 0 && m->current_snapshot_id != -1) {
    if (m->refs == NULL && (m->refs = alloc(c, 1, sizeof *m->refs)) == NULL) return oom(c);
    m->refs[0] = (iceberg_ref){"main", false, m->current_snapshot_id, -1, -1, -1};
    m->n_refs = 1;
  }
  return 0;
}

int iceberg_meta_parse(const char *text, size_t len, tarn_arena *a, iceberg_meta **out,
                       tarn_error *err) {
  *out = NULL;
  if (len > ICEBERG_META_MAX_BYTES)
    return tarn_err(err, TARN_ENOMEM, "iceberg metadata: %zu bytes is over the %zu-byte limit", len,
                    ICEBERG_META_MAX_BYTES);
  tarn_arena scratch = {0};
  jx_value *root;
  meta_ctx c = {a, err, 0, NULL};
  iceberg_meta *m = NULL;
  int rc = jx_parse(text, len, &scratch, &root, err);
  if (rc) {
    tarn_err_prefix(err, "iceberg metadata");
    goto done;
  }
  if (root->kind != JX_OBJECT) {
    rc = bad(&c, root, "the document is not an object");
    goto done;
  }
  if ((m = alloc(&c, 1, sizeof *m)) == NULL) {
    rc = oom(&c);
    goto done;
  }
  int32_t version;
  if ((rc = get_i32(&c, root, "format-version", true, 0, &version))) goto done;
  if (version < 1 || version > 3) {
    rc = tarn_err(err, TARN_EUNSUPPORTED,
                  "iceberg metadata: line %d: unsupported format-version %d (1 to 3 are supported)",
                  jx_get(root, "format-version")->line, (int)version);
    goto done;
  }
  c.version = m->format_version = version;
  bool v2 = version >= 2;
  int32_t last_partition_id;
  if ((rc = get_str(&c, root, "table-uuid", v2, &m->table_uuid)) ||
      (rc = get_str(&c, root, "location", true, &m->location)) ||
      (rc = get_i64(&c, root, "last-sequence-number", v2, 0, &m->last_sequence_number)) ||
      (rc = get_i64(&c, root, "last-updated-ms", true, 0, &m->last_updated_ms)) ||
      (rc = get_i32(&c, root, "last-column-id", true, 0, &m->last_column_id)) ||
      (rc = parse_schemas(&c, root, m)))
    goto done;
  /* Checked before the specs are read, as iceberg-java does. */
  c.where = NULL;
  if (iceberg_meta_current_schema(m) == NULL) {
    rc = bad(&c, jx_get(root, "current-schema-id"), "current-schema-id %d refers to no schema",
             (int)m->current_schema_id);
    goto done;
  }
  if ((rc = parse_specs(&c, root, m))) goto done;
  /* v1 without last-partition-id: the largest partition field id, 999 when there is none. */
  int32_t largest = 999;
  for (size_t s = 0; s < m->n_specs; s++)
    for (size_t f = 0; f < m->specs[s].n_fields; f++)
      if (m->specs[s].fields[f].field_id > largest) largest = m->specs[s].fields[f].field_id;
  c.where = NULL;
  if ((rc = get_i32(&c, root, "last-partition-id", v2, largest, &last_partition_id)) ||
      (rc = parse_sort_orders(&c, root, m)) ||
      (rc = get_i64(&c, root, "next-row-id", version >= 3, -1, &m->next_row_id)))
    goto done;
  m->last_partition_id = last_partition_id;
  c.where = "properties";
  if ((rc = get_string_map(&c, root, "properties", &m->property_keys, &m->property_values,
                           &m->n_properties)))
    goto done;
  c.where = NULL;
  if ((rc = get_i64(&c, root, "current-snapshot-id", false, -1, &m->current_snapshot_id)) ||
      (rc = parse_history(&c, root, m)) || (rc = validate(&c, root, m)))
    goto done;
  *out = m;
done:
  tarn_arena_free(&scratch);
  return rc;
}

int iceberg_meta_load_file(const char *path, tarn_arena *a, iceberg_meta **out, tarn_error *err) {
  char *text;
  size_t len;
  *out = NULL;
  int e = tarn_read_file(path, ICEBERG_META_MAX_BYTES, &text, &len, NULL);
  if (e == EFBIG)
    return tarn_err(err, TARN_ENOMEM, "%s: iceberg metadata larger than %zu bytes", path,
                    ICEBERG_META_MAX_BYTES);
  if (e) return tarn_err(err, TARN_EIO, "%s: %s", path, strerror(e));
  int rc = iceberg_meta_parse(text, len, a, out, err);
  free(text);
  if (rc) tarn_err_prefix(err, "%s", path);
  return rc;
}

/* --- Lookups ------------------------------------------------------------------------------------
 */

const iceberg_schema *iceberg_meta_schema(const iceberg_meta *m, int32_t schema_id) {
  for (size_t k = 0; k < m->n_schemas; k++)
    if (m->schemas[k].schema_id == schema_id) return &m->schemas[k];
  return NULL;
}

const iceberg_schema *iceberg_meta_current_schema(const iceberg_meta *m) {
  return iceberg_meta_schema(m, m->current_schema_id);
}

const iceberg_partition_spec *iceberg_meta_spec(const iceberg_meta *m, int32_t spec_id) {
  for (size_t k = 0; k < m->n_specs; k++)
    if (m->specs[k].spec_id == spec_id) return &m->specs[k];
  return NULL;
}

const iceberg_partition_spec *iceberg_meta_default_spec(const iceberg_meta *m) {
  return iceberg_meta_spec(m, m->default_spec_id);
}

const iceberg_sort_order *iceberg_meta_sort_order(const iceberg_meta *m, int32_t order_id) {
  for (size_t k = 0; k < m->n_sort_orders; k++)
    if (m->sort_orders[k].order_id == order_id) return &m->sort_orders[k];
  return NULL;
}

const iceberg_snapshot *iceberg_meta_snapshot(const iceberg_meta *m, int64_t snapshot_id) {
  for (size_t k = 0; k < m->n_snapshots; k++)
    if (m->snapshots[k].snapshot_id == snapshot_id) return &m->snapshots[k];
  return NULL;
}

const iceberg_snapshot *iceberg_meta_current_snapshot(const iceberg_meta *m) {
  return m->current_snapshot_id == -1 ? NULL : iceberg_meta_snapshot(m, m->current_snapshot_id);
}

const iceberg_snapshot *iceberg_meta_snapshot_as_of(const iceberg_meta *m, int64_t timestamp_ms) {
  const iceberg_snapshot *best = NULL;
  if (m->n_snapshot_log > 0) {
    for (size_t k = 0; k < m->n_snapshot_log; k++)
      if (m->snapshot_log[k].timestamp_ms <= timestamp_ms) {
        const iceberg_snapshot *s = iceberg_meta_snapshot(m, m->snapshot_log[k].snapshot_id);
        if (s) best = s;
      }
    return best;
  }
  for (size_t k = 0; k < m->n_snapshots; k++)
    if (m->snapshots[k].timestamp_ms <= timestamp_ms &&
        (best == NULL || m->snapshots[k].timestamp_ms >= best->timestamp_ms))
      best = &m->snapshots[k];
  return best;
}

const iceberg_ref *iceberg_meta_ref(const iceberg_meta *m, const char *name) {
  for (size_t k = 0; k < m->n_refs; k++)
    if (strcmp(m->refs[k].name, name) == 0) return &m->refs[k];
  return NULL;
}

const char *iceberg_meta_property(const iceberg_meta *m, const char *key) {
  for (size_t k = 0; k < m->n_properties; k++)
    if (strcmp(m->property_keys[k], key) == 0) return m->property_values[k];
  return NULL;
}

const iceberg_field *iceberg_type_find_field(const iceberg_type *t, int32_t id) {
  if (t == NULL) return NULL;
  switch (t->kind) {
  case ICEBERG_TYPE_STRUCT:
    for (size_t k = 0; k < t->n_fields; k++) {
      if (t->fields[k].id == id) return &t->fields[k];
      const iceberg_field *f = iceberg_type_find_field(t->fields[k].type, id);
      if (f) return f;
    }
    return NULL;
  case ICEBERG_TYPE_LIST: return iceberg_type_find_field(t->element, id);
  case ICEBERG_TYPE_MAP: {
    const iceberg_field *f = iceberg_type_find_field(t->key, id);
    return f ? f : iceberg_type_find_field(t->value, id);
  }
  default: return NULL;
  }
}
