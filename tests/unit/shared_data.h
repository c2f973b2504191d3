/*
 * Locating the shared conformance data (../shared beside the repository, or $TARN_SHARED) from a
 * unit test. __FILE__ of this header is absolute under CMake, so the repository root is found
 * from it; when compiled by hand from the repository root it is relative, which works too.
 */
#ifndef TARN_TEST_SHARED_DATA_H
#define TARN_TEST_SHARED_DATA_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Writes the path of rel (e.g. "testdata/parquet-testing/data/x.parquet") into out. */
static inline void shared_data_path(char *out, size_t cap, const char *rel) {
  const char *env = getenv("TARN_SHARED");
  if (env && *env) {
    snprintf(out, cap, "%s/%s", env, rel);
    return;
  }
  const char *suffix = "tests/unit/shared_data.h";
  size_t flen = strlen(__FILE__), slen = strlen(suffix);
  int root_len = flen >= slen ? (int)(flen - slen) : 0;
  snprintf(out, cap, "%.*s../shared/%s", root_len, __FILE__, rel);
}

/* Reads a whole shared file into a malloc'd buffer (NULL, with a message, when it is missing). */
static inline uint8_t *shared_data_read(const char *rel, size_t *len) {
  char path[4096];
  shared_data_path(path, sizeof path, rel);
  *len = 0;
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    fprintf(stderr, "cannot open %s (set TARN_SHARED)\n", path);
    return NULL;
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *p = malloc(n > 0 ? (size_t)n : 1);
  if (p != NULL) *len = fread(p, 1, n > 0 ? (size_t)n : 0, f);
  fclose(f);
  return p;
}

#endif
