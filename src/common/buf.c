#include "common/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

int tarn_buf_reserve(tarn_buf *b, size_t extra, tarn_error *err) {
  if (extra <= b->cap - b->len) return 0;
  if (extra > TARN_BUF_MAX || b->len > TARN_BUF_MAX - extra)
    return tarn_err(err, TARN_ENOMEM, "buffer would exceed the %zu-byte limit", TARN_BUF_MAX);
  size_t need = b->len + extra;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need)
    cap = cap > TARN_BUF_MAX / 2 ? TARN_BUF_MAX : cap * 2;
  uint8_t *p = realloc(b->data, cap);
  if (p == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory allocating %zu bytes", cap);
  b->data = p;
  b->cap = cap;
  return 0;
}

int tarn_buf_append(tarn_buf *b, const void *p, size_t n, tarn_error *err) {
  if (n == 0) return 0;
  int rc = tarn_buf_reserve(b, n, err);
  if (rc) return rc;
  memcpy(b->data + b->len, p, n);
  b->len += n;
  return 0;
}

int tarn_buf_puts(tarn_buf *b, const char *s, tarn_error *err) {
  return tarn_buf_append(b, s, strlen(s), err);
}

int tarn_buf_printf(tarn_buf *b, tarn_error *err, const char *fmt, ...) {
  char small[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) return tarn_err(err, TARN_EINVAL, "bad format string");
  if ((size_t)n < sizeof small) return tarn_buf_append(b, small, (size_t)n, err);
  int rc = tarn_buf_reserve(b, (size_t)n + 1, err);
  if (rc) return rc;
  va_start(ap, fmt);
  vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
  return 0;
}

void tarn_buf_free(tarn_buf *b) {
  if (b == NULL) return;
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

uint8_t *tarn_buf_steal(tarn_buf *b) {
  uint8_t *p = b->data;
  b->data = NULL;
  b->len = b->cap = 0;
  return p;
}
