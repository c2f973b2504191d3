/*
 * Small path helpers shared by the table formats: joining a directory and a name, and decoding
 * the %XX escapes table logs use in file paths (Delta's add paths, deletion vector and sidecar
 * paths).
 */
#ifndef TARN_COMMON_PATH_H
#define TARN_COMMON_PATH_H

#include <stddef.h>

/* a and b joined by exactly one '/' (none added after a trailing one, or when a is empty);
 * malloc'd, NULL when out of memory. */
char *tarn_path_join(const char *a, const char *b);

/* The value of hex digit c, or -1. */
int tarn_hex_digit(int c);

/* Decodes the %XX escapes of s into out, which has room for strlen(s) + 1 bytes, and
 * NUL-terminates it. A '%' not followed by two hex digits, and an escape of the NUL byte (which
 * would cut the path short), are copied as they are; the return value counts them, so a strict
 * caller can refuse the path. */
size_t tarn_percent_decode(const char *s, char *out);

#endif
