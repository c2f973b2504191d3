#include "common/json.h"

#include <stdio.h>

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  size_t len;
  unsigned min;
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf)
    len = 2, min = 0x80;
  else if (c >= 0xe0 && c <= 0xef)
    len = 3, min = 0x800;
  else if (c >= 0xf0 && c <= 0xf4)
    len = 4, min = 0x10000;
  else
    return 0;
  if (len > n) return 0;
  unsigned cp = c & (0xff >> (len + 1));
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}

int tarn_json_string(tarn_buf *b, const char *str, size_t len, tarn_error *err) {
  const unsigned char *s = (const unsigned char *)str;
  int rc = tarn_buf_reserve(b, len + 2, err);
  if (rc) return rc;
  b->data[b->len++] = '"';
  for (size_t i = 0; i < len;) {
    unsigned char c = s[i];
    char esc[8];
    const char *out = NULL;
    size_t out_len = 0;
    size_t step = 1;
    if (c == '"')
      out = "\\\"", out_len = 2;
    else if (c == '\\')
      out = "\\\\", out_len = 2;
    else if (c == '\n')
      out = "\\n", out_len = 2;
    else if (c == '\r')
      out = "\\r", out_len = 2;
    else if (c == '\t')
      out = "\\t", out_len = 2;
    else if (c < 0x20) {
      snprintf(esc, sizeof esc, "\\u%04x", c);
      out = esc, out_len = 6;
    } else {
      step = utf8_seq(s + i, len - i);
      if (step == 0) {
        out = "\xef\xbf\xbd", out_len = 3, step = 1;
      } else {
        out = (const char *)s + i, out_len = step;
      }
    }
    if ((rc = tarn_buf_append(b, out, out_len, err))) return rc;
    i += step;
  }
  return tarn_buf_append(b, "\"", 1, err);
}

int tarn_base64(tarn_buf *b, const uint8_t *d, size_t len, tarn_error *err) {
  static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  int rc = tarn_buf_reserve(b, (len + 2) / 3 * 4, err);
  if (rc) return rc;
  char *o = (char *)b->data + b->len;
  size_t i = 0;
  for (; i + 3 <= len; i += 3) {
    uint32_t v = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8 | d[i + 2];
    *o++ = tab[v >> 18];
    *o++ = tab[(v >> 12) & 63];
    *o++ = tab[(v >> 6) & 63];
    *o++ = tab[v & 63];
  }
  if (i < len) {
    uint32_t v = (uint32_t)d[i] << 16 | (i + 1 < len ? (uint32_t)d[i + 1] << 8 : 0);
    *o++ = tab[v >> 18];
    *o++ = tab[(v >> 12) & 63];
    *o++ = i + 1 < len ? tab[(v >> 6) & 63] : '=';
    *o++ = '=';
  }
  b->len = (size_t)(o - (char *)b->data);
  return 0;
}
