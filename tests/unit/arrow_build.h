/*
 * Arrow schemas and arrays built by hand for unit tests: buffers are the caller's (usually static
 * arrays), the structs and pointer tables come from take() and are all freed by reset(). The
 * release callbacks free nothing; they mark the struct released and count array releases in
 * arrow_build_releases, so a test can see whether the code under test released what it adopted.
 */
#ifndef TARN_TEST_ARROW_BUILD_H
#define TARN_TEST_ARROW_BUILD_H

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>

#include "columnar/arrow.h"

static void *arrow_build_owned_[4096];
static size_t arrow_build_n_owned_;
static int arrow_build_releases;

/* n zeroed bytes, kept until reset(). */
static inline void *take(size_t n) {
  void *p = calloc(1, n);
  if (p == NULL || arrow_build_n_owned_ == sizeof arrow_build_owned_ / sizeof arrow_build_owned_[0])
    abort();
  arrow_build_owned_[arrow_build_n_owned_++] = p;
  return p;
}

/* Frees everything take() handed out. */
static inline void reset(void) {
  while (arrow_build_n_owned_)
    free(arrow_build_owned_[--arrow_build_n_owned_]);
}

static inline void release_schema(struct ArrowSchema *s) { s->release = NULL; }
static inline void release_array(struct ArrowArray *a) {
  arrow_build_releases++;
  a->release = NULL;
}

/* A nullable field with n children (struct ArrowSchema * varargs). */
static inline struct ArrowSchema *sch(const char *format, const char *name, int n, ...) {
  struct ArrowSchema *s = take(sizeof *s);
  s->format = format;
  s->name = name;
  s->flags = ARROW_FLAG_NULLABLE;
  s->release = release_schema;
  s->n_children = n;
  if (n > 0) {
    s->children = take(sizeof *s->children * (size_t)n);
    va_list ap;
    va_start(ap, n);
    for (int k = 0; k < n; k++)
      s->children[k] = va_arg(ap, struct ArrowSchema *);
    va_end(ap);
  }
  return s;
}

/* An array with n_buffers buffers (b0 is the validity bitmap), the given null count and no
 * children. */
static inline struct ArrowArray *arr_nc(int n_buffers, int64_t length, int64_t offset,
                                        int64_t null_count, const void *b0, const void *b1,
                                        const void *b2) {
  struct ArrowArray *a = take(sizeof *a);
  const void **bufs = take(sizeof *bufs * 4);
  bufs[0] = b0;
  bufs[1] = b1;
  bufs[2] = b2;
  a->n_buffers = n_buffers;
  a->buffers = bufs;
  a->length = length;
  a->offset = offset;
  a->null_count = null_count;
  a->release = release_array;
  return a;
}

/* As arr_nc with the null count unknown (-1) when there is a validity bitmap and 0 otherwise. */
static inline struct ArrowArray *arr(int n_buffers, int64_t length, int64_t offset,
                                     const void *validity, const void *b1, const void *b2) {
  return arr_nc(n_buffers, length, offset, validity ? -1 : 0, validity, b1, b2);
}

/* Attaches n children (struct ArrowArray * varargs) to a; returns a. */
static inline struct ArrowArray *kids(struct ArrowArray *a, int n, ...) {
  a->n_children = n;
  a->children = take(sizeof *a->children * (size_t)n);
  va_list ap;
  va_start(ap, n);
  for (int k = 0; k < n; k++)
    a->children[k] = va_arg(ap, struct ArrowArray *);
  va_end(ap);
  return a;
}

#endif
