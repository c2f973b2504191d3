/*
 * Small helpers for writing JSON text into a tarn_buf: string escaping and base64.
 *
 * Metadata documents (tarn meta) and, later, table logs are written with these; the canonical
 * row printer (columnar/format.c) has its own tuned path for values.
 */
#ifndef TARN_COMMON_JSON_H
#define TARN_COMMON_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* Appends s[0..len) as a quoted JSON string; bytes that are not valid UTF-8 become U+FFFD. */
int tarn_json_string(tarn_buf *b, const char *s, size_t len, tarn_error *err);

/* Appends the standard base64 (RFC 4648, padded) of data[0..len), without quotes. */
int tarn_base64(tarn_buf *b, const uint8_t *data, size_t len, tarn_error *err);

#endif
