/*
 * A minimal assertion kit for tarn's unit tests: each test file is a program whose main() calls
 * test functions through RUN(); CHECK* record failures with file and line and main returns
 * check_finish(), which prints "N passed, N failed" and is nonzero when anything failed.
 */
#ifndef TARN_TEST_CHECK_H
#define TARN_TEST_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int check_failures_;
static int check_passes_;

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (cond) {                                                                                    \
      check_passes_++;                                                                             \
    } else {                                                                                       \
      check_failures_++;                                                                           \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                     \
    }                                                                                              \
  } while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
  do {                                                                                             \
    long long check_a_ = (long long)(a), check_b_ = (long long)(b);                                \
    if (check_a_ == check_b_) {                                                                    \
      check_passes_++;                                                                             \
    } else {                                                                                       \
      check_failures_++;                                                                           \
      fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a, #b,        \
              check_a_, check_b_);                                                                 \
    }                                                                                              \
  } while (0)

#define CHECK_EQ_STR(a, b)                                                                         \
  do {                                                                                             \
    const char *check_a_ = (a), *check_b_ = (b);                                                   \
    if (check_a_ && check_b_ && strcmp(check_a_, check_b_) == 0) {                                 \
      check_passes_++;                                                                             \
    } else {                                                                                       \
      check_failures_++;                                                                           \
      fprintf(stderr, "%s:%d: %s == %s failed:\n  got      \"%s\"\n  expected \"%s\"\n", __FILE__, \
              __LINE__, #a, #b, check_a_ ? check_a_ : "(null)", check_b_ ? check_b_ : "(null)");   \
    }                                                                                              \
  } while (0)

#define RUN(fn)                                                                                    \
  do {                                                                                             \
    int check_before_ = check_failures_;                                                           \
    fn();                                                                                          \
    if (check_failures_ != check_before_) fprintf(stderr, "FAILED: %s\n", #fn);                    \
  } while (0)

static inline int check_finish(void) {
  printf("%d passed, %d failed\n", check_passes_, check_failures_);
  return check_failures_ ? 1 : 0;
}

#endif
