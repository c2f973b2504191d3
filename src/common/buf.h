/*
 * Growable byte buffers.
 *
 * tarn_buf is the one resizable buffer of the code base: decoded column values, level arrays,
 * JSON text. Growth is geometric and checked against a hard cap (TARN_BUF_MAX, 2 GiB by default)
 * so a size taken from untrusted input can never make tarn ask for an absurd allocation: the
 * caller gets TARN_ENOMEM with a message instead. The buffer owns its bytes; tarn_buf_steal hands
 * them to the caller (for instance to become an Arrow buffer freed by a release callback).
 */
#ifndef TARN_COMMON_BUF_H
#define TARN_COMMON_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "tarn.h"

#define TARN_BUF_MAX ((size_t)1 << 31)

typedef struct tarn_buf {
  uint8_t *data;
  size_t len;
  size_t cap;
} tarn_buf;

/* Makes room for at least `extra` more bytes after len. Returns 0 or TARN_ENOMEM (message in err)
 * when the allocation fails or the total would exceed TARN_BUF_MAX. */
int tarn_buf_reserve(tarn_buf *b, size_t extra, tarn_error *err);

/* Appends n bytes (reserving as needed). */
int tarn_buf_append(tarn_buf *b, const void *p, size_t n, tarn_error *err);

/* Appends a NUL-terminated string without its terminator. */
int tarn_buf_puts(tarn_buf *b, const char *s, tarn_error *err);

/* Appends printf-formatted text. */
int tarn_buf_printf(tarn_buf *b, tarn_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Frees the bytes and resets to empty. NULL-safe. */
void tarn_buf_free(tarn_buf *b);

/* Returns the bytes (caller frees with free()) and resets the buffer to empty. May return NULL
 * when the buffer is empty. */
uint8_t *tarn_buf_steal(tarn_buf *b);

#endif
