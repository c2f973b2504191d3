#include "common/progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void tarn_progress_start(tarn_progress *p, const char *label) {
  p->enabled = isatty(STDERR_FILENO);
  p->start = p->last_draw = now();
  p->label = label;
}

static void draw(const tarn_progress *p, int64_t rows, double t, const char *end) {
  double secs = t - p->start;
  double rate = secs > 0 ? (double)rows / secs : 0;
  fprintf(stderr, "\r%s: %lld rows, %.0f rows/s, %.1f s\033[K%s", p->label, (long long)rows, rate,
          secs, end);
  fflush(stderr);
}

void tarn_progress_update(tarn_progress *p, int64_t rows) {
  if (!p->enabled) return;
  double t = now();
  if (t - p->last_draw < 0.1) return;
  p->last_draw = t;
  draw(p, rows, t, "");
}

void tarn_progress_finish(tarn_progress *p, int64_t rows) {
  if (!p->enabled) return;
  draw(p, rows, now(), "\n");
}
