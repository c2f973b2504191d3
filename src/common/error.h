/*
 * Error reporting shared by every layer.
 *
 * A failing function fills the caller's tarn_error with a code and a one-line message and returns
 * the (negative) code, so the usual pattern is `return tarn_err(err, TARN_ECORRUPT, "...", ...)`.
 * The first error set wins: callers higher up may add nothing, so the message stays the one from
 * the place that knew what went wrong. A NULL tarn_error is accepted everywhere.
 */
#ifndef TARN_COMMON_ERROR_H
#define TARN_COMMON_ERROR_H

#include "tarn.h"

#if defined(__GNUC__)
#define TARN_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define TARN_PRINTF(a, b)
#endif

/* Records code and a printf-formatted message in err unless err already holds an error; returns
 * code so it can be returned directly. */
int tarn_err(tarn_error *err, int code, const char *fmt, ...) TARN_PRINTF(3, 4);

/* Clears err (no error). */
void tarn_err_clear(tarn_error *err);

/* Prefixes err's message with "prefix: " (used to add a file name to a lower layer's message). */
void tarn_err_prefix(tarn_error *err, const char *fmt, ...) TARN_PRINTF(2, 3);

#endif
