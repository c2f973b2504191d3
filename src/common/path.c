#include "common/path.h"

#include <stdlib.h>
#include <string.h>

char *tarn_path_join(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  char *p = malloc(la + lb + 2);
  if (p == NULL) return NULL;
  memcpy(p, a, la);
  size_t n = la;
  if (la > 0 && a[la - 1] != '/') p[n++] = '/';
  memcpy(p + n, b, lb + 1);
  return p;
}

int tarn_hex_digit(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

size_t tarn_percent_decode(const char *s, char *out) {
  size_t bad = 0, o = 0;
  for (size_t i = 0; s[i]; i++) {
    if (s[i] != '%') {
      out[o++] = s[i];
      continue;
    }
    int hi = tarn_hex_digit((unsigned char)s[i + 1]);
    int lo = hi >= 0 ? tarn_hex_digit((unsigned char)s[i + 2]) : -1;
    if (lo < 0 || (hi == 0 && lo == 0)) {
      out[o++] = s[i];
      bad++;
      continue;
    }
    out[o++] = (char)(hi * 16 + lo);
    i += 2;
  }
  out[o] = 0;
  return bad;
}
