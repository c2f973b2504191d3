#include "ingest/jsonl.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "columnar/arrow.h"
#include "common/error.h"
#include "common/json.h"
#include "ingest/csv.h"

#define JL_CHUNK ((size_t)1 << 20)
#define JL_DEFAULT_SAMPLE 20480
#define JL_DEFAULT_BATCH 8192
/* A batch ends early once its rows came from this many bytes of input (see csv.c). */
#define JL_BATCH_BYTES ((size_t)256 << 20)
/* Objects with more keys than this are checked for duplicates by sorting, not pairwise. */
#define JL_PAIRWISE_KEYS 16

/* ---- number tokens: where each number's text is ----
 * cJSON keeps numbers only as doubles. A scan of the line finds the text of every number outside
 * strings, in document order, which is the order a depth-first walk of cJSON's tree visits the
 * number nodes; the walk stores each node's token index in its (otherwise unused) valueint. */

typedef struct jtok {
  uint32_t off, len;
  int is_int; /* no fraction, no exponent */
} jtok;

static const uint8_t number_chars[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1, ['e'] = 1, ['E'] = 1};

/* Scans s[0..n). *nul is set when a string holds the escape \u0000 (cJSON would cut the string
 * there). Returns 0 or <0 on allocation failure. */
static int scan_numbers(const char *s, size_t n, tarn_buf *toks, int *nul, tarn_error *err) {
  toks->len = 0;
  *nul = 0;
  size_t i = 0;
  while (i < n) {
    char c = s[i];
    if (c == '"') {
      size_t start = ++i;
      int escapes = 0;
      for (;;) {
        const char *q = memchr(s + i, '"', n - i);
        if (q == NULL) return 0; /* unterminated: cJSON will reject the line */
        size_t at = (size_t)(q - s), bs = 0;
        while (at - bs > start && s[at - 1 - bs] == '\\')
          bs++;
        escapes |= bs > 0 || memchr(s + i, '\\', at - i) != NULL;
        i = at + 1;
        if ((bs & 1) == 0) break;
      }
      if (escapes) {
        for (size_t k = start; k + 1 < i; k++) {
          if (s[k] != '\\') continue;
          if (s[k + 1] == 'u' && k + 6 <= i && memcmp(s + k + 2, "0000", 4) == 0) *nul = 1;
          k++;
        }
      }
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      size_t start = i;
      int is_int = 1;
      while (i < n && number_chars[(uint8_t)s[i]]) {
        if (s[i] == '.' || s[i] == 'e' || s[i] == 'E') is_int = 0;
        i++;
      }
      if (i - start > UINT32_MAX) return 0;
      jtok t = {(uint32_t)start, (uint32_t)(i - start), is_int};
      int rc = tarn_buf_append(toks, &t, sizeof t, err);
      if (rc) return rc;
    } else {
      i++;
    }
  }
  return 0;
}

/* The JSON grammar of a number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int valid_number(const char *s, size_t n) {
  size_t i = 0;
  if (i < n && s[i] == '-') i++;
  if (i >= n) return 0;
  if (s[i] == '0') {
    i++;
  } else if (s[i] >= '1' && s[i] <= '9') {
    while (i < n && s[i] >= '0' && s[i] <= '9')
      i++;
  } else {
    return 0;
  }
  if (i < n && s[i] == '.') {
    size_t d = ++i;
    while (i < n && s[i] >= '0' && s[i] <= '9')
      i++;
    if (i == d) return 0;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    if (i < n && (s[i] == '+' || s[i] == '-')) i++;
    size_t d = i;
    while (i < n && s[i] >= '0' && s[i] <= '9')
      i++;
    if (i == d) return 0;
  }
  return i == n;
}

/* ---- finding keys: the expected position first (lines usually repeat their key order), then a
 * hash table for wide objects ---- */

typedef struct keyidx {
  int32_t *slots; /* position or -1 */
  uint32_t cap;   /* power of two, 0 = no table */
} keyidx;

static uint32_t key_hash(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++)
    h = (h ^ (uint8_t)*s) * 16777619u;
  return h;
}

static int keyidx_build(keyidx *ix, char *const *names, int n, tarn_error *err) {
  free(ix->slots);
  ix->slots = NULL;
  ix->cap = 0;
  if (n <= 8) return 0;
  uint32_t cap = 16;
  while (cap < (uint32_t)n * 2)
    cap *= 2;
  ix->slots = malloc(sizeof *ix->slots * cap);
  if (ix->slots == NULL) return ing_nomem(err);
  memset(ix->slots, 0xff, sizeof *ix->slots * cap);
  ix->cap = cap;
  for (int i = 0; i < n; i++) {
    uint32_t h = key_hash(names[i]) & (cap - 1);
    while (ix->slots[h] >= 0)
      h = (h + 1) & (cap - 1);
    ix->slots[h] = i;
  }
  return 0;
}

static int key_find(const keyidx *ix, char *const *names, int n, int *hint, const char *key) {
  int h = *hint;
  if (h < n && strcmp(names[h], key) == 0) {
    *hint = h + 1;
    return h;
  }
  int found = -1;
  if (ix->cap == 0) {
    for (int i = 0; i < n && found < 0; i++)
      if (strcmp(names[i], key) == 0) found = i;
  } else {
    for (uint32_t s = key_hash(key) & (ix->cap - 1); ix->slots[s] >= 0; s = (s + 1) & (ix->cap - 1))
      if (strcmp(names[ix->slots[s]], key) == 0) {
        found = ix->slots[s];
        break;
      }
  }
  if (found >= 0) *hint = found + 1;
  return found;
}

/* ---- inference ---- */

enum {
  K_NULL = 1,
  K_BOOL = 2,
  K_INT = 4,
  K_DOUBLE = 8,
  K_STRING = 16,
  K_OBJECT = 32,
  K_ARRAY = 64,
  K_DEEP = 128
};
enum { SC_DATE = 1, SC_TIME = 2, SC_TS = 4, SC_ALL = 7 };

typedef struct jnode {
  unsigned kinds, str_cand;
  int ts_shape; /* shape of the first timestamp string, -1 before one */
  /* object keys in first-seen order */
  char **names;
  struct jnode **nodes;
  int n_keys, cap_keys, hint;
  keyidx ix;
  struct jnode *elem; /* array elements */
} jnode;

static jnode *jnode_new(void) {
  jnode *n = calloc(1, sizeof *n);
  if (n) {
    n->str_cand = SC_ALL;
    n->ts_shape = -1;
  }
  return n;
}

static void jnode_free(jnode *n) {
  if (n == NULL) return;
  for (int i = 0; i < n->n_keys; i++) {
    free(n->names[i]);
    jnode_free(n->nodes[i]);
  }
  free(n->names);
  free(n->nodes);
  free(n->ix.slots);
  jnode_free(n->elem);
  free(n);
}

/* ---- plans: the schema, with what converting needs at each node ---- */

typedef struct jplan {
  const ing_field *f;
  char *path; /* for messages: "a.b" */
  struct jplan *children;
  char **keys; /* STRUCT: the key each child is read from (borrowed from the fields) */
  keyidx ix;
  int hint;
  cJSON **vals; /* STRUCT: the values of the object being converted, by child */
} jplan;

static void jplan_clear(jplan *p) {
  if (p == NULL) return;
  if (p->children)
    for (int i = 0; i < p->f->n_children; i++)
      jplan_clear(&p->children[i]);
  free(p->children);
  free(p->path);
  free(p->keys);
  free(p->ix.slots);
  free(p->vals);
  memset(p, 0, sizeof *p);
}

/* path is the node's name in messages: "a.b" for field b of struct column a; a list's elements
 * are named by the list. */
static int jplan_init(jplan *p, const ing_field *f, const char *path, tarn_error *err) {
  memset(p, 0, sizeof *p);
  p->f = f;
  if ((p->path = strdup(path)) == NULL) return ing_nomem(err);
  if (f->n_children == 0) return 0;
  p->children = calloc((size_t)f->n_children, sizeof *p->children);
  if (p->children == NULL) return ing_nomem(err);
  if (f->type == ING_LIST) return jplan_init(&p->children[0], &f->children[0], path, err);
  p->keys = calloc((size_t)f->n_children, sizeof *p->keys);
  p->vals = calloc((size_t)f->n_children, sizeof *p->vals);
  if (p->keys == NULL || p->vals == NULL) return ing_nomem(err);
  for (int i = 0; i < f->n_children; i++) {
    const ing_field *c = &f->children[i];
    p->keys[i] = c->key ? c->key : c->name;
    size_t len = strlen(path) + strlen(c->name) + 2;
    char *child_path = malloc(len);
    if (child_path == NULL) return ing_nomem(err);
    snprintf(child_path, len, "%s%s%s", path, path[0] ? "." : "", c->name);
    int rc = jplan_init(&p->children[i], c, child_path, err);
    free(child_path);
    if (rc) return rc;
  }
  return keyidx_build(&p->ix, p->keys, f->n_children, err);
}

/* ---- the reader ---- */

typedef struct jl_kept {
  size_t off, len;
  int64_t line;
} jl_kept;

typedef struct jsonl_reader {
  ing_stream_base base; /* first: ing_stream_error finds it */
  char *name;
  /* input */
  ing_input in;
  uint8_t *chunk;
  const uint8_t *p, *e;
  int eof;
  tarn_buf carry; /* a line crossing chunks */
  int carry_done, overflow;
  int64_t line; /* number of the next line */
  /* the line being converted */
  tarn_buf toks;
  const char *text;
  size_t text_len;
  cJSON *doc;
  char problem[400];
  uint64_t stamp;
  /* inference */
  jnode *infer_root;
  /* columns */
  ing_field *cols;
  int n_cols;
  ing_field root;
  ing_builder builder;
  jplan plan;
  struct ArrowSchema schema;
  tarn_buf scratch;
  const jplan *bad_plan;
  const cJSON *bad_value;
  /* the sample, replayed first */
  tarn_buf s_text, s_lines;
  size_t s_next, s_count;
  int64_t batch_rows;
  int skip_bad;
  int done;
} jsonl_reader;

static int jl_fill(jsonl_reader *r, tarn_error *err) {
  return ing_input_fill(&r->in, r->name, r->chunk, JL_CHUNK, &r->p, &r->e, &r->eof, err);
}

/* The next line (without its line end). Returns 1, 0 at the end, <0 on error. *too_long when
 * the line passed ING_MAX_RECORD (its text is then empty). */
static int jl_next_line(jsonl_reader *r, const char **text, size_t *len, int64_t *lineno,
                        int *too_long, tarn_error *err) {
  if (r->carry_done) {
    r->carry.len = 0;
    r->carry_done = 0;
    r->overflow = 0;
  }
  for (;;) {
    if (r->p < r->e) {
      const uint8_t *nl = memchr(r->p, '\n', (size_t)(r->e - r->p));
      size_t n = nl ? (size_t)(nl - r->p) : (size_t)(r->e - r->p);
      if (nl && r->carry.len == 0 && !r->overflow) { /* the whole line is in the input */
        *text = (const char *)r->p;
        *len = n;
        *too_long = n > ING_MAX_RECORD;
        r->p = nl + 1;
        *lineno = r->line++;
        return 1;
      }
      if (!r->overflow) {
        if (r->carry.len + n > ING_MAX_RECORD) {
          r->overflow = 1;
          r->carry.len = 0;
        } else {
          int rc = tarn_buf_append(&r->carry, r->p, n, err);
          if (rc) return rc;
        }
      }
      r->p += n;
      if (nl == NULL) continue;
      r->p++;
    } else if (!r->eof) {
      int rc = jl_fill(r, err);
      if (rc) return rc;
      continue;
    } else if (r->carry.len == 0 && !r->overflow) {
      return 0;
    }
    /* the carried line is complete */
    *text = (const char *)r->carry.data;
    *len = r->carry.len;
    *too_long = r->overflow;
    *lineno = r->line++;
    r->carry_done = 1;
    return 1;
  }
}

static int blank(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\f' && s[i] != '\v') return 0;
  return 1;
}

static int cmp_str_ptr(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Numbers the number nodes, checks their text, and checks keys (UTF-8, no repeats). Sets
 * r->problem and returns 1 for a bad line; <0 on allocation failure. */
static int jl_check(jsonl_reader *r, cJSON *v, size_t *next, tarn_error *err) {
  const jtok *toks = (const jtok *)(const void *)r->toks.data;
  size_t n_toks = r->toks.len / sizeof(jtok);
  switch (v->type & 0xff) {
  case cJSON_Number: {
    if (*next >= n_toks || *next > INT32_MAX) {
      snprintf(r->problem, sizeof r->problem, "malformed number");
      return 1;
    }
    const jtok *t = &toks[*next];
    if (!valid_number(r->text + t->off, t->len)) {
      char q[64];
      snprintf(r->problem, sizeof r->problem, "invalid number '%s'",
               ing_quote_value(r->text + t->off, t->len, q, sizeof q));
      return 1;
    }
    v->valueint = (int)(*next)++;
    return 0;
  }
  case cJSON_Array:
    for (cJSON *c = v->child; c; c = c->next) {
      int rc = jl_check(r, c, next, err);
      if (rc) return rc;
    }
    return 0;
  case cJSON_Object: {
    size_t count = 0;
    for (cJSON *c = v->child; c; c = c->next) {
      if (!ing_utf8_valid((const uint8_t *)c->string, strlen(c->string))) {
        snprintf(r->problem, sizeof r->problem, "a key is not valid UTF-8");
        return 1;
      }
      count++;
    }
    const char *dup = NULL;
    if (count <= JL_PAIRWISE_KEYS) {
      for (cJSON *a = v->child; a && !dup; a = a->next)
        for (cJSON *b = a->next; b && !dup; b = b->next)
          if (strcmp(a->string, b->string) == 0) dup = a->string;
    } else {
      const char **keys = malloc(sizeof *keys * count);
      if (keys == NULL) return ing_nomem(err);
      size_t k = 0;
      for (cJSON *c = v->child; c; c = c->next)
        keys[k++] = c->string;
      qsort(keys, count, sizeof *keys, cmp_str_ptr);
      for (k = 1; k < count && !dup; k++)
        if (strcmp(keys[k - 1], keys[k]) == 0) dup = keys[k];
      free(keys);
    }
    if (dup) {
      char q[64];
      snprintf(r->problem, sizeof r->problem, "duplicate key '%s'",
               ing_quote_value(dup, strlen(dup), q, sizeof q));
      return 1;
    }
    for (cJSON *c = v->child; c; c = c->next) {
      int rc = jl_check(r, c, next, err);
      if (rc) return rc;
    }
    return 0;
  }
  default: return 0;
  }
}

/* Parses a line into r->doc. Returns 0, 1 for a bad line (r->problem says why), <0 on error. */
static int jl_parse(jsonl_reader *r, const char *text, size_t len, tarn_error *err) {
  cJSON_Delete(r->doc);
  r->doc = NULL;
  r->text = text;
  r->text_len = len;
  int nul = 0;
  int rc = scan_numbers(text, len, &r->toks, &nul, err);
  if (rc) return rc;
  if (nul) {
    snprintf(r->problem, sizeof r->problem, "a string holds \\u0000, which is not supported");
    return 1;
  }
  const char *end = NULL;
  r->doc = cJSON_ParseWithLengthOpts(text, len, &end, 0);
  if (r->doc == NULL) {
    size_t at = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
    snprintf(r->problem, sizeof r->problem, "invalid JSON at column %zu", at + 1);
    return 1;
  }
  while (end && end >= text && end < text + len && (*end == ' ' || *end == '\t' || *end == '\r'))
    end++;
  if (end && end >= text && end < text + len && !blank(end, (size_t)(text + len - end))) {
    snprintf(r->problem, sizeof r->problem, "text after the JSON value at column %zu",
             (size_t)(end - text) + 1);
    return 1;
  }
  if (!cJSON_IsObject(r->doc)) {
    snprintf(r->problem, sizeof r->problem, "not a JSON object");
    return 1;
  }
  size_t next = 0;
  if ((rc = jl_check(r, r->doc, &next, err))) return rc;
  if (next != r->toks.len / sizeof(jtok)) {
    snprintf(r->problem, sizeof r->problem, "malformed number");
    return 1;
  }
  return 0;
}

static const jtok *tok_of(const jsonl_reader *r, const cJSON *v) {
  return (const jtok *)(const void *)r->toks.data + v->valueint;
}

/* ---- inference ---- */

static int json_ts_shape_ok(int shape) {
  int zone = shape & (ING_TS_ZULU | ING_TS_OFFSET);
  if (!(shape & ING_TS_T)) return !zone;
  return zone || !(shape & ING_TS_FRACTION);
}

static int infer(jsonl_reader *r, jnode *n, const cJSON *v, int depth, tarn_error *err) {
  if (depth > ING_MAX_DEPTH) {
    n->kinds |= K_DEEP;
    return 0;
  }
  switch (v->type & 0xff) {
  case cJSON_NULL: n->kinds |= K_NULL; return 0;
  case cJSON_True:
  case cJSON_False: n->kinds |= K_BOOL; return 0;
  case cJSON_Number: {
    const jtok *t = tok_of(r, v);
    int64_t i;
    n->kinds |= t->is_int && ing_parse_int64(r->text + t->off, t->len, 0, &i) ? K_INT : K_DOUBLE;
    return 0;
  }
  case cJSON_String: {
    n->kinds |= K_STRING;
    if (n->str_cand == 0) return 0;
    const char *s = v->valuestring;
    size_t len = strlen(s);
    unsigned cand = 0;
    int32_t days;
    int64_t us;
    int shape;
    if ((n->str_cand & SC_DATE) && ing_parse_date(s, len, &days)) cand |= SC_DATE;
    if ((n->str_cand & SC_TIME) && ing_parse_time(s, len, &us)) cand |= SC_TIME;
    /* DuckDB's JSON reader matches timestamps against fixed formats, one per column: seconds
     * required; after a space no zone; after 'T' a fraction only with a zone; and every value
     * of the column written the same way. */
    if ((n->str_cand & SC_TS) && ing_parse_timestamp(s, len, &us, &shape) &&
        (shape & ING_TS_SECONDS) && json_ts_shape_ok(shape) &&
        (n->ts_shape < 0 || n->ts_shape == shape)) {
      cand |= SC_TS;
      n->ts_shape = shape;
    }
    n->str_cand &= cand;
    return 0;
  }
  case cJSON_Array:
    n->kinds |= K_ARRAY;
    for (const cJSON *c = v->child; c; c = c->next) {
      if (n->elem == NULL && (n->elem = jnode_new()) == NULL) return ing_nomem(err);
      int rc = infer(r, n->elem, c, depth + 1, err);
      if (rc) return rc;
    }
    return 0;
  case cJSON_Object:
    n->kinds |= K_OBJECT;
    for (const cJSON *c = v->child; c; c = c->next) {
      int k = key_find(&n->ix, n->names, n->n_keys, &n->hint, c->string);
      if (k < 0) {
        if (n->n_keys >= ING_MAX_COLUMNS) { /* too wide for columns: keep it as JSON text */
          n->kinds |= K_DEEP;
          continue;
        }
        if (n->n_keys == n->cap_keys) {
          int cap = n->cap_keys ? n->cap_keys * 2 : 8;
          char **names = realloc(n->names, sizeof *names * (size_t)cap);
          if (names == NULL) return ing_nomem(err);
          n->names = names;
          jnode **nodes = realloc(n->nodes, sizeof *nodes * (size_t)cap);
          if (nodes == NULL) return ing_nomem(err);
          n->nodes = nodes;
          n->cap_keys = cap;
        }
        k = n->n_keys;
        n->names[k] = strdup(c->string);
        n->nodes[k] = jnode_new();
        if (n->names[k] == NULL || n->nodes[k] == NULL) {
          free(n->names[k]);
          jnode_free(n->nodes[k]);
          return ing_nomem(err);
        }
        n->n_keys++;
        n->hint = k + 1;
        if (n->n_keys > 8 && (uint32_t)n->n_keys * 2 > n->ix.cap) {
          int rc = keyidx_build(&n->ix, n->names, n->n_keys, err);
          if (rc) return rc;
        } else if (n->ix.cap) {
          uint32_t h = key_hash(c->string) & (n->ix.cap - 1);
          while (n->ix.slots[h] >= 0)
            h = (h + 1) & (n->ix.cap - 1);
          n->ix.slots[h] = k;
        }
      }
      int rc = infer(r, n->nodes[k], c, depth + 1, err);
      if (rc) return rc;
    }
    return 0;
  default: return 0;
  }
}

/* Turns an inference node into a field (f->name is set by the caller). */
static int resolve(const jnode *n, ing_field *f, tarn_error *err) {
  unsigned k = n->kinds & ~(unsigned)K_NULL;
  f->type = ING_VARCHAR;
  if (k & K_DEEP) {
    f->json_text = 1;
  } else if (k == 0) {
    f->json_text = 1; /* only nulls: DuckDB's JSON */
  } else if (k == K_BOOL) {
    f->type = ING_BOOLEAN;
  } else if (k == K_INT) {
    f->type = ING_BIGINT;
  } else if ((k & ~(unsigned)(K_INT | K_DOUBLE)) == 0) {
    f->type = ING_DOUBLE;
  } else if (k == K_STRING) {
    f->type = (n->str_cand & SC_DATE)   ? ING_DATE
              : (n->str_cand & SC_TS)   ? ING_TIMESTAMP
              : (n->str_cand & SC_TIME) ? ING_TIME
                                        : ING_VARCHAR;
  } else if (k == K_OBJECT && n->n_keys > 0) {
    f->type = ING_STRUCT;
    f->children = calloc((size_t)n->n_keys, sizeof *f->children);
    if (f->children == NULL) return ing_nomem(err);
    f->n_children = n->n_keys;
    char **names = calloc((size_t)n->n_keys, sizeof *names);
    if (names == NULL) return ing_nomem(err);
    int rc = 0;
    for (int i = 0; i < n->n_keys && rc == 0; i++)
      if ((names[i] = strdup(n->names[i])) == NULL) rc = ing_nomem(err);
    if (rc == 0) rc = ing_names_dedupe(names, n->n_keys, err);
    for (int i = 0; i < n->n_keys; i++) {
      f->children[i].name = names[i];
      if (rc == 0 && strcmp(names[i], n->names[i]) != 0 &&
          (f->children[i].key = strdup(n->names[i])) == NULL)
        rc = ing_nomem(err);
    }
    free(names);
    for (int i = 0; i < n->n_keys && rc == 0; i++)
      rc = resolve(n->nodes[i], &f->children[i], err);
    return rc;
  } else if (k == K_ARRAY) {
    f->type = ING_LIST;
    f->children = calloc(1, sizeof *f->children);
    if (f->children == NULL) return ing_nomem(err);
    f->n_children = 1;
    if ((f->children[0].name = strdup("element")) == NULL) return ing_nomem(err);
    if (n->elem == NULL) { /* only empty arrays: DuckDB's JSON[] */
      f->children[0].json_text = 1;
      return 0;
    }
    return resolve(n->elem, &f->children[0], err);
  } else {
    f->json_text = 1; /* mixed kinds, or only empty objects */
  }
  return 0;
}

/* ---- conversion ---- */

/* Appends v as JSON text (numbers as written, strings escaped). */
static int json_text(jsonl_reader *r, tarn_buf *b, const cJSON *v, tarn_error *err) {
  int rc = 0;
  switch (v->type & 0xff) {
  case cJSON_NULL: return tarn_buf_append(b, "null", 4, err);
  case cJSON_True: return tarn_buf_append(b, "true", 4, err);
  case cJSON_False: return tarn_buf_append(b, "false", 5, err);
  case cJSON_Number: {
    const jtok *t = tok_of(r, v);
    return tarn_buf_append(b, r->text + t->off, t->len, err);
  }
  case cJSON_String: return tarn_json_string(b, v->valuestring, strlen(v->valuestring), err);
  case cJSON_Array:
    if ((rc = tarn_buf_append(b, "[", 1, err))) return rc;
    for (const cJSON *c = v->child; c && rc == 0; c = c->next) {
      if (c != v->child) rc = tarn_buf_append(b, ",", 1, err);
      if (rc == 0) rc = json_text(r, b, c, err);
    }
    return rc ? rc : tarn_buf_append(b, "]", 1, err);
  case cJSON_Object:
    if ((rc = tarn_buf_append(b, "{", 1, err))) return rc;
    for (const cJSON *c = v->child; c && rc == 0; c = c->next) {
      if (c != v->child) rc = tarn_buf_append(b, ",", 1, err);
      if (rc == 0) rc = tarn_json_string(b, c->string, strlen(c->string), err);
      if (rc == 0) rc = tarn_buf_append(b, ":", 1, err);
      if (rc == 0) rc = json_text(r, b, c, err);
    }
    return rc ? rc : tarn_buf_append(b, "}", 1, err);
  default: return tarn_buf_append(b, "null", 4, err);
  }
}

/* Appends v (NULL = missing) to builder b of plan p. Returns 0, 1 when v does not fit the type
 * (r->bad_plan / r->bad_value say where), <0 on error. */
static int append(jsonl_reader *r, jplan *p, ing_builder *b, const cJSON *v, tarn_error *err) {
  if (v == NULL || cJSON_IsNull(v)) return ing_builder_null(b, err);
  const ing_field *f = p->f;
  int type = v->type & 0xff, rc;
  union {
    int64_t i;
    double d;
    float fl;
    int32_t i32;
    int16_t i16;
    int8_t i8;
    __int128 dec;
  } x;
  int ok = 0, shape;
  const jtok *t = type == cJSON_Number ? tok_of(r, v) : NULL;
  const char *num = t ? r->text + t->off : NULL;
  size_t width = 0;
  switch (f->type) {
  case ING_VARCHAR:
    if (type == cJSON_String && !f->json_text) {
      size_t len = strlen(v->valuestring);
      if (!ing_utf8_valid((const uint8_t *)v->valuestring, len)) break;
      return ing_builder_string(b, v->valuestring, len, err);
    }
    if (t && !f->json_text) return ing_builder_string(b, num, t->len, err);
    r->scratch.len = 0;
    if ((rc = json_text(r, &r->scratch, v, err))) return rc;
    return ing_builder_string(b, (const char *)r->scratch.data, r->scratch.len, err);
  case ING_BOOLEAN:
    if (type == cJSON_True || type == cJSON_False)
      return ing_builder_bool(b, type == cJSON_True, err);
    break;
  case ING_TINYINT:
  case ING_SMALLINT:
  case ING_INTEGER:
  case ING_BIGINT:
    if (!t || !t->is_int || !ing_parse_int64(num, t->len, 0, &x.i)) break;
    if (f->type == ING_TINYINT) {
      ok = x.i >= INT8_MIN && x.i <= INT8_MAX;
      x.i8 = (int8_t)x.i;
      width = 1;
    } else if (f->type == ING_SMALLINT) {
      ok = x.i >= INT16_MIN && x.i <= INT16_MAX;
      x.i16 = (int16_t)x.i;
      width = 2;
    } else if (f->type == ING_INTEGER) {
      ok = x.i >= INT32_MIN && x.i <= INT32_MAX;
      x.i32 = (int32_t)x.i;
      width = 4;
    } else {
      ok = 1;
      width = 8;
    }
    break;
  case ING_FLOAT:
  case ING_DOUBLE:
    if (!t || !ing_parse_double(num, t->len, 0, &x.d)) break;
    ok = 1;
    width = 8;
    if (f->type == ING_FLOAT) {
      x.fl = (float)x.d;
      width = 4;
    }
    break;
  case ING_DECIMAL:
    if (t)
      ok = ing_parse_decimal(num, t->len, f->precision, f->scale, &x.dec);
    else if (type == cJSON_String)
      ok =
          ing_parse_decimal(v->valuestring, strlen(v->valuestring), f->precision, f->scale, &x.dec);
    width = 16;
    break;
  case ING_DATE:
    if (type == cJSON_String) ok = ing_parse_date(v->valuestring, strlen(v->valuestring), &x.i32);
    width = 4;
    break;
  case ING_TIME:
    if (type == cJSON_String) ok = ing_parse_time(v->valuestring, strlen(v->valuestring), &x.i);
    width = 8;
    break;
  case ING_TIMESTAMP:
  case ING_TIMESTAMPTZ:
    if (type == cJSON_String) {
      size_t len = strlen(v->valuestring);
      ok = ing_parse_timestamp(v->valuestring, len, &x.i, &shape);
      if (!ok && ing_parse_date(v->valuestring, len, &x.i32)) { /* a date alone: midnight */
        x.i = (int64_t)x.i32 * 86400000000LL;
        ok = 1;
      }
    }
    width = 8;
    break;
  case ING_LIST:
    if (type != cJSON_Array) break;
    for (const cJSON *c = v->child; c; c = c->next)
      if ((rc = append(r, &p->children[0], &b->children[0], c, err))) return rc;
    return ing_builder_nested(b, err);
  case ING_STRUCT: {
    if (type != cJSON_Object) break;
    int n = f->n_children;
    for (int i = 0; i < n; i++)
      p->vals[i] = NULL;
    for (cJSON *c = v->child; c; c = c->next) {
      int k = key_find(&p->ix, p->keys, n, &p->hint, c->string);
      if (k >= 0) p->vals[k] = c; /* keys not in the schema are ignored (as DuckDB does) */
    }
    /* p->vals is free again once the children are appended: a plan node is never reentered
     * while in use (a type cannot contain itself). */
    rc = 0;
    for (int i = 0; i < n && rc == 0; i++)
      rc = append(r, &p->children[i], &b->children[i], p->vals[i], err);
    if (rc) return rc;
    return ing_builder_nested(b, err);
  }
  }
  if (!ok) {
    r->bad_plan = p;
    r->bad_value = v;
    return 1;
  }
  return ing_builder_fixed(b, &x, width, err);
}

static int jl_bad(jsonl_reader *r, int64_t line, tarn_error *err) {
  if (r->skip_bad) {
    r->base.bad_rows++;
    return 0;
  }
  /* "line 3, column a.b: ..." for a value, "line 3: ..." for the line as a whole */
  const char *sep = strncmp(r->problem, "column ", 7) == 0 ? "," : ":";
  return tarn_err(err, TARN_EINVAL, "%s: line %lld%s %s", r->name, (long long)line, sep,
                  r->problem);
}

/* Describes the value at fault for a message. */
static void describe_value(const jsonl_reader *r, const cJSON *v, char *buf, size_t cap) {
  char q[64];
  switch (v->type & 0xff) {
  case cJSON_True: snprintf(buf, cap, "true"); break;
  case cJSON_False: snprintf(buf, cap, "false"); break;
  case cJSON_Number: {
    const jtok *t = tok_of(r, v);
    snprintf(buf, cap, "%s", ing_quote_value(r->text + t->off, t->len, q, sizeof q));
    break;
  }
  case cJSON_String:
    if (!ing_utf8_valid((const uint8_t *)v->valuestring, strlen(v->valuestring))) {
      snprintf(buf, cap, "a string that is not valid UTF-8");
      return;
    }
    snprintf(buf, cap, "'%s'",
             ing_quote_value(v->valuestring, strlen(v->valuestring), q, sizeof q));
    break;
  case cJSON_Array: snprintf(buf, cap, "an array"); break;
  case cJSON_Object: snprintf(buf, cap, "an object"); break;
  default: snprintf(buf, cap, "a value"); break;
  }
}

/* Converts the parsed line into the builders; a bad value makes a bad row. */
static int jl_convert(jsonl_reader *r, int64_t line, tarn_error *err) {
  ing_builder_mark(&r->builder);
  int rc = append(r, &r->plan, &r->builder, r->doc, err);
  if (rc == 0) return 0;
  ing_builder_rollback(&r->builder);
  if (rc < 0) return rc;
  char what[96], tn[96];
  if (r->bad_plan->f->type == ING_VARCHAR) {
    snprintf(r->problem, sizeof r->problem, "column %.100s: invalid UTF-8", r->bad_plan->path);
  } else {
    describe_value(r, r->bad_value, what, sizeof what);
    ing_type_name(r->bad_plan->f, tn, sizeof tn);
    snprintf(r->problem, sizeof r->problem, "column %.100s: %s is not %s %s", r->bad_plan->path,
             what, ing_article(tn), tn);
  }
  return jl_bad(r, line, err);
}

static int jl_get_schema(struct ArrowArrayStream *s, struct ArrowSchema *out) {
  jsonl_reader *r = s->private_data;
  tarn_error err = {0};
  if (col_schema_copy(&r->schema, out, &err)) return ing_stream_fail(&r->base, &err);
  return 0;
}

static int jl_get_next(struct ArrowArrayStream *s, struct ArrowArray *out) {
  jsonl_reader *r = s->private_data;
  tarn_error err = {0};
  memset(out, 0, sizeof *out);
  if (r->base.code) return ing_errno(r->base.code);
  int rc = 0;
  size_t batch_bytes = 0;
  while (!r->done && r->builder.length < r->batch_rows && batch_bytes < JL_BATCH_BYTES) {
    const char *text;
    size_t len;
    int64_t line;
    int too_long = 0;
    if (r->s_next < r->s_count) {
      const jl_kept *k = (const jl_kept *)(const void *)r->s_lines.data + r->s_next++;
      text = (const char *)r->s_text.data + k->off;
      len = k->len;
      line = k->line;
    } else {
      if (r->s_count) {
        tarn_buf_free(&r->s_text);
        tarn_buf_free(&r->s_lines);
        r->s_next = r->s_count = 0;
      }
      rc = jl_next_line(r, &text, &len, &line, &too_long, &err);
      if (rc < 0) break;
      if (rc == 0) {
        r->done = 1;
        rc = 0;
        break;
      }
      rc = 0;
    }
    batch_bytes += len;
    if (too_long) {
      snprintf(r->problem, sizeof r->problem, "line longer than 64 MiB");
      if ((rc = jl_bad(r, line, &err))) break;
      continue;
    }
    if (blank(text, len)) continue;
    rc = jl_parse(r, text, len, &err);
    if (rc < 0) break;
    if (rc == 1) {
      if ((rc = jl_bad(r, line, &err))) break;
      continue;
    }
    if ((rc = jl_convert(r, line, &err))) break;
  }
  cJSON_Delete(r->doc);
  r->doc = NULL;
  if (rc) return ing_stream_fail(&r->base, &err);
  if (r->builder.length == 0) return 0;
  if ((rc = ing_builder_finish(&r->builder, out, &err))) return ing_stream_fail(&r->base, &err);
  return 0;
}

static const char *jl_last_error(struct ArrowArrayStream *s) {
  jsonl_reader *r = s->private_data;
  return r && r->base.code ? r->base.message : NULL;
}

static void jl_free(jsonl_reader *r) {
  if (r == NULL) return;
  ing_input_close(&r->in);
  free(r->chunk);
  free(r->name);
  tarn_buf_free(&r->carry);
  tarn_buf_free(&r->toks);
  tarn_buf_free(&r->scratch);
  tarn_buf_free(&r->s_text);
  tarn_buf_free(&r->s_lines);
  cJSON_Delete(r->doc);
  jnode_free(r->infer_root);
  jplan_clear(&r->plan);
  ing_builder_free(&r->builder);
  ing_fields_free(r->cols, r->n_cols);
  if (r->schema.release) r->schema.release(&r->schema);
  free(r);
}

static void jl_release(struct ArrowArrayStream *s) {
  if (s == NULL || s->release == NULL) return;
  jl_free(s->private_data);
  s->private_data = NULL;
  s->release = NULL;
}

/* Reads the sample lines, infers the columns from them and keeps them for replay. */
static int jl_infer(jsonl_reader *r, int64_t sample_rows, tarn_error *err) {
  if ((r->infer_root = jnode_new()) == NULL) return ing_nomem(err);
  int rc = 0;
  int64_t rows = 0;
  while (rows < sample_rows) {
    const char *text;
    size_t len;
    int64_t line;
    int too_long;
    rc = jl_next_line(r, &text, &len, &line, &too_long, err);
    if (rc <= 0) break;
    rc = 0;
    if (too_long) {
      snprintf(r->problem, sizeof r->problem, "line longer than 64 MiB");
      if ((rc = jl_bad(r, line, err))) break;
      continue;
    }
    if (blank(text, len)) continue;
    rc = jl_parse(r, text, len, err);
    if (rc < 0) break;
    if (rc == 1) {
      if ((rc = jl_bad(r, line, err))) break;
      continue;
    }
    if ((rc = infer(r, r->infer_root, r->doc, 0, err))) break;
    jl_kept k = {r->s_text.len, len, line};
    if ((rc = tarn_buf_append(&r->s_text, text, len, err))) break;
    if ((rc = tarn_buf_append(&r->s_lines, &k, sizeof k, err))) break;
    r->s_count++;
    rows++;
  }
  cJSON_Delete(r->doc);
  r->doc = NULL;
  if (rc) return rc;
  jnode *root = r->infer_root;
  if (root->n_keys == 0)
    return tarn_err(err, TARN_EINVAL, "%s: no JSON object keys found%s", r->name,
                    rows ? " in the sample" : " (the file has no JSON objects)");
  ing_field top = {0};
  top.name = (char *)"";
  rc = resolve(root, &top, err);
  if (top.type != ING_STRUCT) { /* a root that held something else was a bad line */
    ing_fields_free(top.children, top.n_children);
    return rc ? rc : tarn_err(err, TARN_EINVAL, "%s: no columns found", r->name);
  }
  r->cols = top.children;
  r->n_cols = top.n_children;
  jnode_free(r->infer_root);
  r->infer_root = NULL;
  return rc;
}

static int jl_open_reader(jsonl_reader *r, const ing_jsonl_options *opts,
                          struct ArrowArrayStream *out, tarn_error *err) {
  ing_jsonl_options defaults = {0};
  if (opts == NULL) opts = &defaults;
  if (opts->sample_rows < 0 || opts->batch_rows < 0)
    return tarn_err(err, TARN_EINVAL, "%s: sample_rows and batch_rows must not be negative",
                    r->name);
  r->batch_rows = opts->batch_rows ? opts->batch_rows : JL_DEFAULT_BATCH;
  r->skip_bad = opts->skip_bad_rows != 0;
  r->line = 1;
  int rc;
  if (opts->schema) {
    if ((rc = ing_schema_parse(opts->schema, &r->cols, &r->n_cols, err))) {
      tarn_err_prefix(err, "%s", r->name);
      return rc;
    }
  } else if ((rc = jl_infer(r, opts->sample_rows ? opts->sample_rows : JL_DEFAULT_SAMPLE, err))) {
    return rc;
  }
  r->root.type = ING_STRUCT;
  r->root.name = (char *)"";
  r->root.n_children = r->n_cols;
  r->root.children = r->cols;
  if ((rc = ing_builder_init(&r->builder, &r->root, err))) return rc;
  if ((rc = jplan_init(&r->plan, &r->root, "", err))) return rc;
  if ((rc = ing_fields_to_arrow(r->cols, r->n_cols, &r->schema, err))) return rc;
  out->get_schema = jl_get_schema;
  out->get_next = jl_get_next;
  out->get_last_error = jl_last_error;
  out->release = jl_release;
  out->private_data = r;
  return 0;
}

static jsonl_reader *jl_new(const char *name, tarn_error *err) {
  jsonl_reader *r = calloc(1, sizeof *r);
  if (r == NULL || (r->name = strdup(name ? name : "jsonl")) == NULL) {
    free(r);
    ing_nomem(err);
    return NULL;
  }
  r->base.magic = ING_STREAM_MAGIC;
  r->in.fd = -1;
  return r;
}

int ing_jsonl_open(const char *path, const ing_jsonl_options *opts, struct ArrowArrayStream *out,
                   tarn_error *err) {
  memset(out, 0, sizeof *out);
  jsonl_reader *r = jl_new(path, err);
  if (r == NULL) return TARN_ENOMEM;
  int rc = ing_input_open(&r->in, path, err);
  if (rc) {
    jl_free(r);
    return rc;
  }
  r->chunk = malloc(JL_CHUNK);
  rc = r->chunk ? jl_open_reader(r, opts, out, err) : ing_nomem(err);
  if (rc) {
    jl_free(r);
    memset(out, 0, sizeof *out);
  }
  return rc;
}

int ing_jsonl_open_memory(const uint8_t *data, size_t len, const char *name,
                          const ing_jsonl_options *opts, struct ArrowArrayStream *out,
                          tarn_error *err) {
  memset(out, 0, sizeof *out);
  jsonl_reader *r = jl_new(name, err);
  if (r == NULL) return TARN_ENOMEM;
  static const uint8_t empty[1];
  r->p = len ? data : empty;
  r->e = r->p + len;
  r->eof = 1;
  if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) r->p += 3;
  int rc = jl_open_reader(r, opts, out, err);
  if (rc) {
    jl_free(r);
    memset(out, 0, sizeof *out);
  }
  return rc;
}

int64_t ing_jsonl_bad_rows(struct ArrowArrayStream *s) { return ing_csv_bad_rows(s); }
