/*
 * A progress line for long operations (tarn copy): rows done and rows per second, redrawn at most
 * ten times a second on stderr, and only when stderr is a terminal, so pipes and logs stay clean.
 */
#ifndef TARN_COMMON_PROGRESS_H
#define TARN_COMMON_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct tarn_progress {
  bool enabled;
  double start, last_draw;
  const char *label;
} tarn_progress;

/* Starts a progress line labelled `label` (borrowed); disabled when stderr is not a terminal. */
void tarn_progress_start(tarn_progress *p, const char *label);

/* Reports that `rows` rows are done in total. Cheap when called often. */
void tarn_progress_update(tarn_progress *p, int64_t rows);

/* Clears the line (and prints a final summary on the terminal). */
void tarn_progress_finish(tarn_progress *p, int64_t rows);

#endif
