/*
 * Reading a small file whole from a unit test (logs, checkpoints pointers, metadata files).
 */
#ifndef TARN_TEST_TEXT_FILE_H
#define TARN_TEST_TEXT_FILE_H

#include <stdio.h>
#include <stdlib.h>

/* The whole file at path, NUL-terminated and malloc'd; NULL when it cannot be opened. */
static inline char *read_text(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *p = malloc(n > 0 ? (size_t)n + 1 : 1);
  size_t got = p ? fread(p, 1, n > 0 ? (size_t)n : 0, f) : 0;
  if (p) p[got] = 0;
  fclose(f);
  return p;
}

#endif
