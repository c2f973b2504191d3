#include "common/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int tarn_err(tarn_error *err, int code, const char *fmt, ...) {
  if (err == NULL || err->code != 0) return code;
  err->code = code;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  return code;
}

void tarn_err_clear(tarn_error *err) {
  if (err == NULL) return;
  err->code = 0;
  err->message[0] = '\0';
}

void tarn_err_prefix(tarn_error *err, const char *fmt, ...) {
  if (err == NULL) return;
  char prefix[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  char old[sizeof err->message];
  memcpy(old, err->message, sizeof old);
  /* Bounded precisions keep the result within the message buffer by construction. */
  snprintf(err->message, sizeof err->message, "%.200s: %.300s", prefix, old);
}

const char *tarn_strerror(int code) {
  switch (code) {
  case TARN_OK: return "ok";
  case TARN_EINVAL: return "bad input";
  case TARN_EUSAGE: return "usage";
  case TARN_ECONFLICT: return "commit conflict";
  case TARN_ECORRUPT: return "corrupt data";
  case TARN_EIO: return "I/O error";
  case TARN_ENOMEM: return "out of memory or over a size limit";
  case TARN_EUNSUPPORTED: return "unsupported";
  case TARN_EKEY: return "encryption key required";
  default: return "unknown error";
  }
}

int tarn_exit_code(int code) {
  switch (code) {
  case TARN_OK: return 0;
  case TARN_EUSAGE: return 2;
  case TARN_ECONFLICT: return 3;
  case TARN_ECORRUPT:
  case TARN_ENOMEM: return 4;
  case TARN_EIO: return 5;
  default: return 1;
  }
}
