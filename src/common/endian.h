/*
 * Little-endian loads and stores for formats that fix their byte order (Parquet, Thrift's
 * fixed-width fields, Arrow buffers). memcpy keeps them free of alignment and aliasing problems;
 * on a big-endian host the bytes are swapped.
 */
#ifndef TARN_COMMON_ENDIAN_H
#define TARN_COMMON_ENDIAN_H

#include <stdint.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) &&                                    \
    __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define TARN_BIG_ENDIAN 1
#else
#define TARN_BIG_ENDIAN 0
#endif

static inline uint64_t load_le64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, 8);
#if TARN_BIG_ENDIAN
  v = __builtin_bswap64(v);
#endif
  return v;
}

static inline uint32_t load_le32(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, 4);
#if TARN_BIG_ENDIAN
  v = __builtin_bswap32(v);
#endif
  return v;
}

static inline void store_le64(uint8_t *p, uint64_t v) {
#if TARN_BIG_ENDIAN
  v = __builtin_bswap64(v);
#endif
  memcpy(p, &v, 8);
}

static inline void store_le32(uint8_t *p, uint32_t v) {
#if TARN_BIG_ENDIAN
  v = __builtin_bswap32(v);
#endif
  memcpy(p, &v, 4);
}

#endif
