#include "columnar/arrow.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"

void col_array_release(struct ArrowArray *a) {
  if (a == NULL || a->release == NULL) return;
  if (a->buffers)
    for (int64_t i = 0; i < a->n_buffers; i++)
      free((void *)a->buffers[i]);
  free(a->buffers);
  if (a->children) {
    for (int64_t i = 0; i < a->n_children; i++) {
      if (a->children[i] && a->children[i]->release) a->children[i]->release(a->children[i]);
      free(a->children[i]);
    }
  }
  free(a->children);
  if (a->dictionary) {
    if (a->dictionary->release) a->dictionary->release(a->dictionary);
    free(a->dictionary);
  }
  a->release = NULL;
}

int col_array_init(struct ArrowArray *a, int64_t n_buffers, int64_t n_children, tarn_error *err) {
  memset(a, 0, sizeof *a);
  a->n_buffers = n_buffers;
  a->n_children = n_children;
  a->release = col_array_release;
  a->buffers = calloc((size_t)(n_buffers ? n_buffers : 1), sizeof(void *));
  a->children = calloc((size_t)(n_children ? n_children : 1), sizeof(struct ArrowArray *));
  if (a->buffers == NULL || a->children == NULL) goto oom;
  for (int64_t i = 0; i < n_children; i++) {
    a->children[i] = calloc(1, sizeof(struct ArrowArray));
    if (a->children[i] == NULL) goto oom;
  }
  return 0;
oom:
  col_array_release(a);
  return tarn_err(err, TARN_ENOMEM, "out of memory building an Arrow array");
}

void col_schema_release(struct ArrowSchema *s) {
  if (s == NULL || s->release == NULL) return;
  free((void *)s->format);
  free((void *)s->name);
  free((void *)s->metadata);
  if (s->children) {
    for (int64_t i = 0; i < s->n_children; i++) {
      if (s->children[i] && s->children[i]->release) s->children[i]->release(s->children[i]);
      free(s->children[i]);
    }
  }
  free(s->children);
  if (s->dictionary) {
    if (s->dictionary->release) s->dictionary->release(s->dictionary);
    free(s->dictionary);
  }
  s->release = NULL;
}

int col_schema_init(struct ArrowSchema *s, const char *format, const char *name, int64_t flags,
                    int64_t n_children, const char *metadata, size_t metadata_len,
                    tarn_error *err) {
  memset(s, 0, sizeof *s);
  s->release = col_schema_release;
  s->flags = flags;
  s->n_children = n_children;
  s->format = strdup(format);
  s->name = strdup(name ? name : "");
  s->children = calloc((size_t)(n_children ? n_children : 1), sizeof(struct ArrowSchema *));
  if (s->format == NULL || s->name == NULL || s->children == NULL) goto oom;
  if (metadata) {
    char *m = malloc(metadata_len);
    if (m == NULL) goto oom;
    memcpy(m, metadata, metadata_len);
    s->metadata = m;
  }
  for (int64_t i = 0; i < n_children; i++) {
    s->children[i] = calloc(1, sizeof(struct ArrowSchema));
    if (s->children[i] == NULL) goto oom;
  }
  return 0;
oom:
  col_schema_release(s);
  return tarn_err(err, TARN_ENOMEM, "out of memory building an Arrow schema");
}

static size_t metadata_length(const char *m) {
  if (m == NULL) return 0;
  int32_t n;
  memcpy(&n, m, 4);
  size_t pos = 4;
  for (int32_t i = 0; i < n; i++) {
    for (int k = 0; k < 2; k++) {
      int32_t l;
      memcpy(&l, m + pos, 4);
      pos += 4 + (size_t)l;
    }
  }
  return pos;
}

int col_schema_copy(const struct ArrowSchema *src, struct ArrowSchema *dst, tarn_error *err) {
  int rc = col_schema_init(dst, src->format, src->name, src->flags, src->n_children, src->metadata,
                           metadata_length(src->metadata), err);
  if (rc) return rc;
  for (int64_t i = 0; i < src->n_children; i++) {
    if ((rc = col_schema_copy(src->children[i], dst->children[i], err))) {
      dst->release(dst);
      return rc;
    }
  }
  return 0;
}

int col_metadata_pairs(const char *const *keys, const char *const *values, int n, char **buf,
                       size_t *len, tarn_error *err) {
  size_t total = 4;
  for (int i = 0; i < n; i++)
    total += 8 + strlen(keys[i]) + strlen(values[i]);
  char *p = malloc(total);
  if (p == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
  int32_t count = n;
  memcpy(p, &count, 4);
  size_t at = 4;
  for (int i = 0; i < n; i++) {
    const char *parts[2] = {keys[i], values[i]};
    for (int k = 0; k < 2; k++) {
      int32_t l = (int32_t)strlen(parts[k]);
      memcpy(p + at, &l, 4);
      memcpy(p + at + 4, parts[k], (size_t)l);
      at += 4 + (size_t)l;
    }
  }
  *buf = p;
  *len = total;
  return 0;
}

int col_metadata_single(const char *key, const char *value, char **buf, size_t *len,
                        tarn_error *err) {
  return col_metadata_pairs(&key, &value, 1, buf, len, err);
}

const char *col_metadata_find(const char *metadata, const char *key, size_t *value_len) {
  if (metadata == NULL) return NULL;
  int32_t n;
  memcpy(&n, metadata, 4);
  const char *p = metadata + 4;
  size_t klen = strlen(key);
  for (int32_t i = 0; i < n; i++) {
    int32_t kl, vl;
    memcpy(&kl, p, 4);
    const char *k = p + 4;
    memcpy(&vl, k + kl, 4);
    const char *v = k + kl + 4;
    if ((size_t)kl == klen && memcmp(k, key, klen) == 0) {
      *value_len = (size_t)vl;
      return v;
    }
    p = v + vl;
  }
  return NULL;
}
