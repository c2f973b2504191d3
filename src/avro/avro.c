/*
 * Avro object container files (see avro.h). The schema JSON goes through libavro; everything
 * after it (framing, codecs, binary data) is decoded here with every length checked first.
 */
#include "avro/avro.h"

#include <avro.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "common/arena.h"
#include "common/endian.h"
#include "common/error.h"

/* Items of a zero-byte type (null, fixed(0), empty record) that one array block may claim. */
#define AVRO_MAX_EMPTY_ITEMS ((int64_t)1 << 20)

/* The writer's schema compiled into our own tree (arena-owned). A union is a node with
 * is_union set and its branches in children. */
typedef struct avro_node avro_node;
struct avro_node {
  tarn_avro_kind kind;
  int is_union;
  const char *name;     /* full name of record / enum / fixed */
  size_t n;             /* fields, symbols, branches */
  const char **names;   /* field names or enum symbols */
  avro_node **children; /* fields, union branches; children[0] = array items / map values */
  int64_t fixed_size;
};

typedef struct {
  avro_schema_t schema;
  avro_node *node;
} avro_memo;

struct tarn_avro_file {
  const uint8_t *data;
  size_t size, pos; /* pos: next unread byte of the file (start of the next block) */
  tarn_arena arena;
  size_t n_meta;
  const char **meta_keys, **meta_vals;
  size_t *meta_lens;
  const char *codec_name;
  int codec; /* 0 null, 1 deflate, 2 snappy, 3 zstandard */
  uint8_t sync[16];
  avro_node *root;
  /* The current block. */
  size_t block_index; /* 1-based number of the current block */
  const uint8_t *block;
  size_t block_len, block_pos;
  int64_t block_records, block_done;
  uint8_t *scratch; /* decompressed block (heap, reused) */
  size_t scratch_cap;
  /* Sticky error. */
  int failed;
  tarn_error error;
};

typedef struct {
  const uint8_t *p;
  size_t len, pos;
} avro_cursor;

/* ---- primitive decoding ---- */

static int read_long(avro_cursor *c, int64_t *out, tarn_error *err) {
  uint64_t v = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (c->pos >= c->len) return tarn_err(err, TARN_ECORRUPT, "varint runs past the end");
    uint8_t b = c->p[c->pos++];
    if (shift == 63 && (b & 0x7e) != 0)
      return tarn_err(err, TARN_ECORRUPT, "varint overflows 64 bits");
    v |= (uint64_t)(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
      return 0;
    }
  }
  return tarn_err(err, TARN_ECORRUPT, "varint longer than 10 bytes");
}

static int read_int(avro_cursor *c, int32_t *out, tarn_error *err) {
  int64_t v = 0;
  int rc = read_long(c, &v, err);
  if (rc) return rc;
  if (v < INT32_MIN || v > INT32_MAX)
    return tarn_err(err, TARN_ECORRUPT, "int value %lld out of 32-bit range", (long long)v);
  *out = (int32_t)v;
  return 0;
}

/* Reads a length-prefixed byte string, copied NUL-terminated into the arena. */
static int read_bytes(avro_cursor *c, tarn_arena *a, const char **out, size_t *len,
                      tarn_error *err) {
  int64_t n = 0;
  int rc = read_long(c, &n, err);
  if (rc) return rc;
  if (n < 0) return tarn_err(err, TARN_ECORRUPT, "negative length %lld", (long long)n);
  if ((uint64_t)n > c->len - c->pos)
    return tarn_err(err, TARN_ECORRUPT, "string of %lld bytes, %zu left", (long long)n,
                    c->len - c->pos);
  char *s = tarn_arena_strndup(a, (const char *)c->p + c->pos, (size_t)n);
  if (s == NULL)
    return tarn_err(err, TARN_ENOMEM, "out of memory for a %lld-byte string", (long long)n);
  c->pos += (size_t)n;
  *out = s;
  *len = (size_t)n;
  return 0;
}

/* Reads the item count of an array or map block; a negative count is followed by the block's
 * byte size, which is checked and otherwise ignored. */
static int read_block_count(avro_cursor *c, int64_t *count, tarn_error *err) {
  int rc = read_long(c, count, err);
  if (rc) return rc;
  if (*count < 0) {
    if (*count == INT64_MIN) return tarn_err(err, TARN_ECORRUPT, "block count out of range");
    *count = -*count;
    int64_t bytes = 0;
    if ((rc = read_long(c, &bytes, err))) return rc;
    if (bytes < 0 || (uint64_t)bytes > c->len - c->pos)
      return tarn_err(err, TARN_ECORRUPT, "block of %lld bytes, %zu left", (long long)bytes,
                      c->len - c->pos);
  }
  return 0;
}

static int node_is_empty(const avro_node *n) {
  return !n->is_union &&
         (n->kind == TARN_AVRO_NULL || (n->kind == TARN_AVRO_FIXED && n->fixed_size == 0) ||
          (n->kind == TARN_AVRO_RECORD && n->n == 0));
}

/* Checks that a block of count items fits in what is left of the data. */
static int check_count(const avro_cursor *c, const avro_node *item, int64_t count, const char *what,
                       tarn_error *err) {
  int64_t cap = node_is_empty(item) ? AVRO_MAX_EMPTY_ITEMS : (int64_t)(c->len - c->pos);
  if (count > cap)
    return tarn_err(err, TARN_ECORRUPT, "%s block claims %lld items, %zu bytes left", what,
                    (long long)count, c->len - c->pos);
  return 0;
}

/* Grows an arena array (arena memory is not returned until close, so capacity doubles). */
static void *grow(tarn_arena *a, void *old, size_t elem, size_t used, size_t *cap, size_t need) {
  if (need <= *cap) return old;
  size_t ncap = *cap ? *cap : 4;
  while (ncap < need)
    ncap *= 2;
  void *p = tarn_arena_calloc(a, ncap, elem);
  if (p == NULL) return NULL;
  if (used) memcpy(p, old, used * elem);
  *cap = ncap;
  return p;
}

static int decode_value(avro_cursor *c, tarn_arena *a, const avro_node *node, int depth,
                        tarn_avro_value *v, tarn_error *err) {
  if (depth > TARN_AVRO_MAX_DEPTH)
    return tarn_err(err, TARN_ECORRUPT, "values nested deeper than %d", TARN_AVRO_MAX_DEPTH);
  int rc;
  v->branch = -1;
  if (node->is_union) {
    int64_t b = 0;
    if ((rc = read_long(c, &b, err))) return rc;
    if (b < 0 || (uint64_t)b >= node->n)
      return tarn_err(err, TARN_ECORRUPT, "union branch %lld of %zu", (long long)b, node->n);
    if ((rc = decode_value(c, a, node->children[b], depth + 1, v, err))) return rc;
    v->branch = (int32_t)b;
    return 0;
  }
  v->kind = node->kind;
  v->name = node->name;
  switch (node->kind) {
  case TARN_AVRO_NULL: return 0;
  case TARN_AVRO_BOOLEAN:
    if (c->pos >= c->len) return tarn_err(err, TARN_ECORRUPT, "boolean runs past the end");
    if (c->p[c->pos] > 1) return tarn_err(err, TARN_ECORRUPT, "boolean byte %u", c->p[c->pos]);
    v->u.boolean = c->p[c->pos++];
    return 0;
  case TARN_AVRO_INT: return read_int(c, &v->u.i32, err);
  case TARN_AVRO_LONG: return read_long(c, &v->u.i64, err);
  case TARN_AVRO_FLOAT: {
    if (c->len - c->pos < 4) return tarn_err(err, TARN_ECORRUPT, "float runs past the end");
    uint32_t bits = load_le32(c->p + c->pos);
    memcpy(&v->u.f32, &bits, 4);
    c->pos += 4;
    return 0;
  }
  case TARN_AVRO_DOUBLE: {
    if (c->len - c->pos < 8) return tarn_err(err, TARN_ECORRUPT, "double runs past the end");
    uint64_t bits = load_le64(c->p + c->pos);
    memcpy(&v->u.f64, &bits, 8);
    c->pos += 8;
    return 0;
  }
  case TARN_AVRO_BYTES:
  case TARN_AVRO_STRING: {
    const char *s;
    if ((rc = read_bytes(c, a, &s, &v->u.bytes.len, err))) return rc;
    v->u.bytes.data = (const uint8_t *)s;
    return 0;
  }
  case TARN_AVRO_FIXED: {
    if ((uint64_t)node->fixed_size > c->len - c->pos)
      return tarn_err(err, TARN_ECORRUPT, "fixed of %lld bytes, %zu left",
                      (long long)node->fixed_size, c->len - c->pos);
    size_t n = (size_t)node->fixed_size;
    char *s = tarn_arena_strndup(a, (const char *)c->p + c->pos, n);
    if (s == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
    c->pos += n;
    v->u.bytes.data = (const uint8_t *)s;
    v->u.bytes.len = n;
    return 0;
  }
  case TARN_AVRO_ENUM: {
    int32_t i = 0;
    if ((rc = read_int(c, &i, err))) return rc;
    if (i < 0 || (size_t)i >= node->n)
      return tarn_err(err, TARN_ECORRUPT, "enum index %d of %zu symbols", (int)i, node->n);
    v->u.enm.index = i;
    v->u.enm.symbol = node->names[i];
    return 0;
  }
  case TARN_AVRO_ARRAY: {
    size_t n = 0, cap = 0;
    tarn_avro_value *items = NULL;
    for (;;) {
      int64_t count = 0;
      if ((rc = read_block_count(c, &count, err))) return rc;
      if (count == 0) break;
      if ((rc = check_count(c, node->children[0], count, "array", err))) return rc;
      items = grow(a, items, sizeof *items, n, &cap, n + (size_t)count);
      if (items == NULL)
        return tarn_err(err, TARN_ENOMEM, "out of memory for %lld array items", (long long)count);
      for (int64_t i = 0; i < count; i++)
        if ((rc = decode_value(c, a, node->children[0], depth + 1, &items[n++], err))) return rc;
    }
    v->u.array.n = n;
    v->u.array.items = items;
    return 0;
  }
  case TARN_AVRO_MAP: {
    size_t n = 0, cap = 0, kcap = 0;
    tarn_avro_value *vals = NULL;
    const char **keys = NULL;
    for (;;) {
      int64_t count = 0;
      if ((rc = read_block_count(c, &count, err))) return rc;
      if (count == 0) break;
      /* Every entry has at least its key's length byte. */
      if ((uint64_t)count > c->len - c->pos)
        return tarn_err(err, TARN_ECORRUPT, "map block claims %lld entries, %zu bytes left",
                        (long long)count, c->len - c->pos);
      vals = grow(a, vals, sizeof *vals, n, &cap, n + (size_t)count);
      keys = grow(a, keys, sizeof *keys, n, &kcap, n + (size_t)count);
      if (vals == NULL || keys == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
      for (int64_t i = 0; i < count; i++) {
        size_t klen;
        if ((rc = read_bytes(c, a, &keys[n], &klen, err))) return rc;
        if ((rc = decode_value(c, a, node->children[0], depth + 1, &vals[n], err))) return rc;
        n++;
      }
    }
    v->u.map.n = n;
    v->u.map.keys = keys;
    v->u.map.values = vals;
    return 0;
  }
  case TARN_AVRO_RECORD: {
    tarn_avro_value *fields = NULL;
    if (node->n) {
      fields = tarn_arena_calloc(a, node->n, sizeof *fields);
      if (fields == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < node->n; i++) {
      if ((rc = decode_value(c, a, node->children[i], depth + 1, &fields[i], err))) {
        tarn_err_prefix(err, "field %s", node->names[i]);
        return rc;
      }
    }
    v->u.record.n = node->n;
    v->u.record.names = node->names;
    v->u.record.fields = fields;
    return 0;
  }
  }
  return tarn_err(err, TARN_ECORRUPT, "unknown value kind");
}

/* ---- schema ---- */

typedef struct {
  tarn_arena *a;
  avro_memo *memo;
  size_t n_memo, cap_memo;
  tarn_error *err;
} compiler;

static const char *full_name(compiler *cc, avro_schema_t s) {
  const char *name = avro_schema_name(s), *ns = avro_schema_namespace(s);
  if (name == NULL) name = "";
  if (ns == NULL || *ns == '\0') return tarn_arena_strndup(cc->a, name, strlen(name));
  size_t ln = strlen(ns), lm = strlen(name);
  char *out = tarn_arena_calloc(cc->a, ln + lm + 2, 1);
  if (out) {
    memcpy(out, ns, ln);
    out[ln] = '.';
    memcpy(out + ln + 1, name, lm);
  }
  return out;
}

static avro_node *compile(compiler *cc, avro_schema_t s, int depth) {
  if (depth > TARN_AVRO_MAX_DEPTH) {
    tarn_err(cc->err, TARN_ECORRUPT, "avro: schema nested deeper than %d", TARN_AVRO_MAX_DEPTH);
    return NULL;
  }
  if (s == NULL) {
    tarn_err(cc->err, TARN_ECORRUPT, "avro: schema has an unresolved type");
    return NULL;
  }
  if (is_avro_link(s)) s = avro_schema_link_target(s);
  if (s == NULL) {
    tarn_err(cc->err, TARN_ECORRUPT, "avro: schema has an unresolved link");
    return NULL;
  }
  for (size_t i = 0; i < cc->n_memo; i++)
    if (cc->memo[i].schema == s) return cc->memo[i].node;
  avro_node *n = tarn_arena_calloc(cc->a, 1, sizeof *n);
  if (n == NULL) goto oom;
  switch (avro_typeof(s)) {
  case AVRO_STRING: n->kind = TARN_AVRO_STRING; return n;
  case AVRO_BYTES: n->kind = TARN_AVRO_BYTES; return n;
  case AVRO_INT32: n->kind = TARN_AVRO_INT; return n;
  case AVRO_INT64: n->kind = TARN_AVRO_LONG; return n;
  case AVRO_FLOAT: n->kind = TARN_AVRO_FLOAT; return n;
  case AVRO_DOUBLE: n->kind = TARN_AVRO_DOUBLE; return n;
  case AVRO_BOOLEAN: n->kind = TARN_AVRO_BOOLEAN; return n;
  case AVRO_NULL: n->kind = TARN_AVRO_NULL; return n;
  case AVRO_LINK: break;
  case AVRO_RECORD:
  case AVRO_ENUM:
  case AVRO_FIXED: {
    /* Named types are memoized before their children so recursive schemas terminate. */
    avro_memo *m = grow(cc->a, cc->memo, sizeof *m, cc->n_memo, &cc->cap_memo, cc->n_memo + 1);
    if (m == NULL) goto oom;
    cc->memo = m;
    m[cc->n_memo].schema = s;
    m[cc->n_memo++].node = n;
    if ((n->name = full_name(cc, s)) == NULL) goto oom;
    if (is_avro_fixed(s)) {
      n->kind = TARN_AVRO_FIXED;
      n->fixed_size = avro_schema_fixed_size(s);
      if (n->fixed_size < 0) {
        tarn_err(cc->err, TARN_ECORRUPT, "avro: fixed %s has negative size", n->name);
        return NULL;
      }
      return n;
    }
    if (is_avro_enum(s)) {
      n->kind = TARN_AVRO_ENUM;
      int k = avro_schema_enum_number_of_symbols(s);
      n->n = k > 0 ? (size_t)k : 0;
      if (n->n && (n->names = tarn_arena_calloc(cc->a, n->n, sizeof *n->names)) == NULL) goto oom;
      for (size_t i = 0; i < n->n; i++) {
        const char *sym = avro_schema_enum_get(s, (int)i);
        if (sym == NULL || (n->names[i] = tarn_arena_strndup(cc->a, sym, strlen(sym))) == NULL)
          goto oom;
      }
      return n;
    }
    n->kind = TARN_AVRO_RECORD;
    n->n = avro_schema_record_size(s);
    if (n->n) {
      n->names = tarn_arena_calloc(cc->a, n->n, sizeof *n->names);
      n->children = tarn_arena_calloc(cc->a, n->n, sizeof *n->children);
      if (n->names == NULL || n->children == NULL) goto oom;
    }
    for (size_t i = 0; i < n->n; i++) {
      const char *fname = avro_schema_record_field_name(s, (int)i);
      if (fname == NULL || (n->names[i] = tarn_arena_strndup(cc->a, fname, strlen(fname))) == NULL)
        goto oom;
      n->children[i] = compile(cc, avro_schema_record_field_get_by_index(s, (int)i), depth + 1);
      if (n->children[i] == NULL) return NULL;
    }
    return n;
  }
  case AVRO_ARRAY:
  case AVRO_MAP:
    n->kind = is_avro_array(s) ? TARN_AVRO_ARRAY : TARN_AVRO_MAP;
    n->n = 1;
    if ((n->children = tarn_arena_calloc(cc->a, 1, sizeof *n->children)) == NULL) goto oom;
    n->children[0] = compile(
        cc, is_avro_array(s) ? avro_schema_array_items(s) : avro_schema_map_values(s), depth + 1);
    return n->children[0] ? n : NULL;
  case AVRO_UNION:
    n->is_union = 1;
    n->n = avro_schema_union_size(s);
    if (n->n == 0) {
      tarn_err(cc->err, TARN_ECORRUPT, "avro: schema has an empty union");
      return NULL;
    }
    if ((n->children = tarn_arena_calloc(cc->a, n->n, sizeof *n->children)) == NULL) goto oom;
    for (size_t i = 0; i < n->n; i++)
      if ((n->children[i] = compile(cc, avro_schema_union_branch(s, (int)i), depth + 1)) == NULL)
        return NULL;
    return n;
  }
  tarn_err(cc->err, TARN_ECORRUPT, "avro: schema has an unknown type");
  return NULL;
oom:
  tarn_err(cc->err, TARN_ENOMEM, "avro: out of memory compiling the schema");
  return NULL;
}

/* ---- header ---- */

static int fail(tarn_avro_file *f, tarn_error *err, int code) {
  f->failed = code;
  f->error = *err;
  return code;
}

static int read_header(tarn_avro_file *f, tarn_error *err) {
  if (f->size < 4 || memcmp(f->data, "Obj\x01", 4) != 0)
    return tarn_err(err, TARN_ECORRUPT, "avro: not an Avro container file (no \"Obj\\x01\" magic)");
  avro_cursor c = {f->data, f->size, 4};
  size_t cap = 0, vcap = 0, lcap = 0;
  int rc;
  for (;;) {
    int64_t count = 0;
    if ((rc = read_block_count(&c, &count, err))) goto bad;
    if (count == 0) break;
    /* Each entry takes at least two length bytes. */
    if ((uint64_t)count > (c.len - c.pos) / 2) {
      rc = tarn_err(err, TARN_ECORRUPT, "metadata claims %lld entries, %zu bytes left",
                    (long long)count, c.len - c.pos);
      goto bad;
    }
    size_t need = f->n_meta + (size_t)count;
    f->meta_keys = grow(&f->arena, f->meta_keys, sizeof(char *), f->n_meta, &cap, need);
    f->meta_vals = grow(&f->arena, f->meta_vals, sizeof(char *), f->n_meta, &vcap, need);
    f->meta_lens = grow(&f->arena, f->meta_lens, sizeof(size_t), f->n_meta, &lcap, need);
    if (!f->meta_keys || !f->meta_vals || !f->meta_lens)
      return tarn_err(err, TARN_ENOMEM, "avro: out of memory reading the metadata");
    for (int64_t i = 0; i < count; i++) {
      size_t klen;
      if ((rc = read_bytes(&c, &f->arena, &f->meta_keys[f->n_meta], &klen, err))) goto bad;
      if ((rc = read_bytes(&c, &f->arena, &f->meta_vals[f->n_meta], &f->meta_lens[f->n_meta], err)))
        goto bad;
      f->n_meta++;
    }
  }
  if (c.len - c.pos < 16)
    return tarn_err(err, TARN_ECORRUPT, "avro: header ends before its 16-byte sync marker");
  memcpy(f->sync, c.p + c.pos, 16);
  f->pos = c.pos + 16;

  size_t clen = 0;
  const char *codec = tarn_avro_meta(f, "avro.codec", &clen);
  if (codec == NULL || clen == 0) codec = "null";
  f->codec_name = codec;
  if (strcmp(codec, "null") == 0)
    f->codec = 0;
  else if (strcmp(codec, "deflate") == 0)
    f->codec = 1;
  else if (strcmp(codec, "snappy") == 0)
    f->codec = 2;
  else if (strcmp(codec, "zstandard") == 0)
    f->codec = 3;
  else
    return tarn_err(err, TARN_EUNSUPPORTED, "avro: codec \"%.40s\" is not supported", codec);

  size_t slen;
  const char *json = tarn_avro_meta(f, "avro.schema", &slen);
  if (json == NULL) return tarn_err(err, TARN_ECORRUPT, "avro: header has no avro.schema");
  avro_schema_t schema = NULL;
  if (avro_schema_from_json_length(json, slen, &schema) != 0 || schema == NULL)
    return tarn_err(err, TARN_ECORRUPT, "avro: bad avro.schema: %.200s", avro_strerror());
  compiler cc = {&f->arena, NULL, 0, 0, err};
  f->root = compile(&cc, schema, 0);
  avro_schema_decref(schema);
  return f->root ? 0 : (err && err->code ? err->code : TARN_ECORRUPT);
bad:
  tarn_err_prefix(err, "avro: header metadata");
  return rc;
}

int tarn_avro_open(const uint8_t *data, size_t size, tarn_avro_file **out, tarn_error *err) {
  *out = NULL;
  tarn_avro_file *f = calloc(1, sizeof *f);
  if (f == NULL) return tarn_err(err, TARN_ENOMEM, "avro: out of memory");
  f->data = data;
  f->size = size;
  int rc = read_header(f, err);
  if (rc) {
    tarn_avro_close(f);
    return rc;
  }
  *out = f;
  return 0;
}

void tarn_avro_close(tarn_avro_file *f) {
  if (f == NULL) return;
  tarn_arena_free(&f->arena);
  free(f->scratch);
  free(f);
}

const char *tarn_avro_meta(const tarn_avro_file *f, const char *key, size_t *len) {
  for (size_t i = 0; i < f->n_meta; i++)
    if (strcmp(f->meta_keys[i], key) == 0) {
      if (len) *len = f->meta_lens[i];
      return f->meta_vals[i];
    }
  return NULL;
}

size_t tarn_avro_meta_count(const tarn_avro_file *f) { return f->n_meta; }

const char *tarn_avro_meta_key(const tarn_avro_file *f, size_t i) {
  return i < f->n_meta ? f->meta_keys[i] : NULL;
}

const char *tarn_avro_codec(const tarn_avro_file *f) { return f->codec_name; }

/* ---- blocks ---- */

static int scratch_reserve(tarn_avro_file *f, size_t need) {
  if (need <= f->scratch_cap) return 0;
  size_t cap = f->scratch_cap ? f->scratch_cap : 4096;
  while (cap < need)
    cap *= 2;
  uint8_t *p = realloc(f->scratch, cap);
  if (p == NULL) return -1;
  f->scratch = p;
  f->scratch_cap = cap;
  return 0;
}

static int inflate_block(tarn_avro_file *f, const uint8_t *in, size_t n, tarn_error *err) {
  z_stream z;
  memset(&z, 0, sizeof z);
  if (inflateInit2(&z, -15) != Z_OK) return tarn_err(err, TARN_ENOMEM, "inflateInit2 failed");
  z.next_in = (Bytef *)in;
  z.avail_in = (uInt)n; /* n <= block size, capped below 4 GiB by the caller */
  size_t out = 0;
  int zr, rc = 0;
  for (;;) {
    if (out == TARN_AVRO_MAX_BLOCK) {
      rc = tarn_err(err, TARN_ENOMEM, "inflates past %zu bytes", TARN_AVRO_MAX_BLOCK);
      break;
    }
    if (out == f->scratch_cap) {
      if (scratch_reserve(f, out + 1)) {
        rc = tarn_err(err, TARN_ENOMEM, "out of memory inflating");
        break;
      }
    }
    size_t room = f->scratch_cap - out;
    if (room > TARN_AVRO_MAX_BLOCK - out) room = TARN_AVRO_MAX_BLOCK - out;
    z.next_out = f->scratch + out;
    z.avail_out = (uInt)room;
    zr = inflate(&z, Z_NO_FLUSH);
    out += room - z.avail_out;
    if (zr == Z_STREAM_END) break;
    if (zr != Z_OK && zr != Z_BUF_ERROR) {
      rc = tarn_err(err, TARN_ECORRUPT, "deflate data is corrupt (%s)",
                    z.msg ? z.msg : "zlib error");
      break;
    }
    if (z.avail_out != 0 && z.avail_in == 0) {
      rc = tarn_err(err, TARN_ECORRUPT, "deflate data ends early");
      break;
    }
  }
  inflateEnd(&z);
  f->block = f->scratch;
  f->block_len = out;
  return rc;
}

static int decompress(tarn_avro_file *f, const uint8_t *in, size_t n, tarn_error *err) {
  switch (f->codec) {
  case 0:
    f->block = in;
    f->block_len = n;
    return 0;
  case 1: return inflate_block(f, in, n, err);
  case 2: {
    if (n < 4) return tarn_err(err, TARN_ECORRUPT, "snappy block shorter than its CRC");
    size_t len;
    if (snappy_uncompressed_length((const char *)in, n - 4, &len) != SNAPPY_OK)
      return tarn_err(err, TARN_ECORRUPT, "snappy data is corrupt");
    if (len > TARN_AVRO_MAX_BLOCK)
      return tarn_err(err, TARN_ENOMEM, "snappy block claims %zu bytes", len);
    if (scratch_reserve(f, len ? len : 1)) return tarn_err(err, TARN_ENOMEM, "out of memory");
    if (snappy_uncompress((const char *)in, n - 4, (char *)f->scratch, &len) != SNAPPY_OK)
      return tarn_err(err, TARN_ECORRUPT, "snappy data is corrupt");
    uint32_t want = (uint32_t)in[n - 4] << 24 | (uint32_t)in[n - 3] << 16 |
                    (uint32_t)in[n - 2] << 8 | in[n - 1];
    if ((uint32_t)crc32(0, f->scratch, (uInt)len) != want)
      return tarn_err(err, TARN_ECORRUPT, "snappy block CRC mismatch");
    f->block = f->scratch;
    f->block_len = len;
    return 0;
  }
  default: {
    ZSTD_DStream *z = ZSTD_createDStream();
    if (z == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
    ZSTD_inBuffer ib = {in, n, 0};
    size_t out = 0, zr = 1;
    int rc = 0;
    while (rc == 0) {
      if (out == TARN_AVRO_MAX_BLOCK) {
        rc = tarn_err(err, TARN_ENOMEM, "zstd block decompresses past %zu bytes",
                      TARN_AVRO_MAX_BLOCK);
        break;
      }
      if (out == f->scratch_cap) {
        if (scratch_reserve(f, out + 1)) {
          rc = tarn_err(err, TARN_ENOMEM, "out of memory");
          break;
        }
      }
      size_t room = f->scratch_cap - out;
      if (room > TARN_AVRO_MAX_BLOCK - out) room = TARN_AVRO_MAX_BLOCK - out;
      ZSTD_outBuffer ob = {f->scratch + out, room, 0};
      zr = ZSTD_decompressStream(z, &ob, &ib);
      out += ob.pos;
      if (ZSTD_isError(zr)) {
        rc = tarn_err(err, TARN_ECORRUPT, "zstd data is corrupt (%s)", ZSTD_getErrorName(zr));
      } else if (zr == 0 && ib.pos == ib.size) {
        break;
      } else if (ob.pos < room && ib.pos == ib.size) {
        rc = tarn_err(err, TARN_ECORRUPT, "zstd data ends early");
      }
    }
    ZSTD_freeDStream(z);
    f->block = f->scratch;
    f->block_len = out;
    return rc;
  }
  }
}

/* Reads the next block header and data; returns 1 with a block ready, 0 at the end of the file. */
static int next_block(tarn_avro_file *f, tarn_error *err) {
  if (f->pos == f->size) return 0;
  f->block_index++;
  avro_cursor c = {f->data, f->size, f->pos};
  int64_t count, bytes;
  int rc;
  if ((rc = read_long(&c, &count, err)) || (rc = read_long(&c, &bytes, err))) return rc;
  size_t left = c.len - c.pos;
  if (count < 0)
    return tarn_err(err, TARN_ECORRUPT, "negative record count %lld", (long long)count);
  if (bytes < 0) return tarn_err(err, TARN_ECORRUPT, "negative size %lld", (long long)bytes);
  if ((uint64_t)bytes > left || left - (size_t)bytes < 16)
    return tarn_err(err, TARN_ECORRUPT, "claims %lld bytes and a sync marker, file has %zu left",
                    (long long)bytes, left);
  if ((uint64_t)bytes > UINT32_MAX)
    return tarn_err(err, TARN_ENOMEM, "block of %lld bytes is too large", (long long)bytes);
  const uint8_t *in = c.p + c.pos;
  if (memcmp(in + bytes, f->sync, 16) != 0)
    return tarn_err(err, TARN_ECORRUPT, "sync marker after the block differs from the header's");
  f->pos = c.pos + (size_t)bytes + 16;
  if ((rc = decompress(f, in, (size_t)bytes, err))) return rc;
  int64_t cap = node_is_empty(f->root) ? AVRO_MAX_EMPTY_ITEMS : (int64_t)f->block_len;
  if (count > cap)
    return tarn_err(err, TARN_ECORRUPT, "claims %lld records in %zu bytes", (long long)count,
                    f->block_len);
  f->block_pos = 0;
  f->block_records = count;
  f->block_done = 0;
  return 1;
}

int tarn_avro_next(tarn_avro_file *f, tarn_avro_value *value, tarn_error *err) {
  if (f->failed) {
    if (err) *err = f->error;
    return f->failed;
  }
  tarn_error local = {0};
  int rc;
  while (f->block_done == f->block_records) {
    if (f->block_index > 0 && f->block_pos != f->block_len) {
      tarn_err(&local, TARN_ECORRUPT, "avro: block %zu has %zu bytes after its %lld records",
               f->block_index, f->block_len - f->block_pos, (long long)f->block_records);
      f->block_pos = f->block_len;
      break;
    }
    rc = next_block(f, &local);
    if (rc == 0) return 0;
    if (rc < 0) {
      tarn_err_prefix(&local, "avro: block %zu", f->block_index);
      break;
    }
  }
  if (local.code == 0) {
    avro_cursor c = {f->block, f->block_len, f->block_pos};
    memset(value, 0, sizeof *value);
    rc = decode_value(&c, &f->arena, f->root, 0, value, &local);
    if (rc == 0) {
      f->block_pos = c.pos;
      f->block_done++;
      return 1;
    }
    tarn_err_prefix(&local, "avro: block %zu, record %lld", f->block_index,
                    (long long)f->block_done);
  }
  fail(f, &local, local.code);
  if (err) *err = local;
  return local.code;
}

/* ---- accessors ---- */

const tarn_avro_value *tarn_avro_field(const tarn_avro_value *record, const char *name) {
  if (record == NULL || record->kind != TARN_AVRO_RECORD) return NULL;
  for (size_t i = 0; i < record->u.record.n; i++)
    if (strcmp(record->u.record.names[i], name) == 0) return &record->u.record.fields[i];
  return NULL;
}

const tarn_avro_value *tarn_avro_map_get(const tarn_avro_value *map, const char *key) {
  if (map == NULL || map->kind != TARN_AVRO_MAP) return NULL;
  for (size_t i = 0; i < map->u.map.n; i++)
    if (strcmp(map->u.map.keys[i], key) == 0) return &map->u.map.values[i];
  return NULL;
}

int tarn_avro_is_null(const tarn_avro_value *v) { return v == NULL || v->kind == TARN_AVRO_NULL; }

int tarn_avro_get_bool(const tarn_avro_value *v, int *out) {
  if (v == NULL || v->kind != TARN_AVRO_BOOLEAN) return 0;
  *out = v->u.boolean;
  return 1;
}

int tarn_avro_get_int(const tarn_avro_value *v, int32_t *out) {
  if (v == NULL || v->kind != TARN_AVRO_INT) return 0;
  *out = v->u.i32;
  return 1;
}

int tarn_avro_get_long(const tarn_avro_value *v, int64_t *out) {
  if (v == NULL) return 0;
  if (v->kind == TARN_AVRO_INT)
    *out = v->u.i32;
  else if (v->kind == TARN_AVRO_LONG)
    *out = v->u.i64;
  else
    return 0;
  return 1;
}

int tarn_avro_get_double(const tarn_avro_value *v, double *out) {
  if (v == NULL) return 0;
  if (v->kind == TARN_AVRO_FLOAT)
    *out = v->u.f32;
  else if (v->kind == TARN_AVRO_DOUBLE)
    *out = v->u.f64;
  else
    return 0;
  return 1;
}

int tarn_avro_get_string(const tarn_avro_value *v, const char **out, size_t *len) {
  if (v == NULL || v->kind != TARN_AVRO_STRING) return 0;
  *out = (const char *)v->u.bytes.data;
  if (len) *len = v->u.bytes.len;
  return 1;
}

int tarn_avro_get_bytes(const tarn_avro_value *v, const uint8_t **out, size_t *len) {
  if (v == NULL ||
      (v->kind != TARN_AVRO_BYTES && v->kind != TARN_AVRO_STRING && v->kind != TARN_AVRO_FIXED))
    return 0;
  *out = v->u.bytes.data;
  if (len) *len = v->u.bytes.len;
  return 1;
}
