#include "table/delta/dv.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <roaring/roaring.h>
#include <zlib.h>

#include "common/error.h"
#include "common/fs.h"
#include "common/path.h"

#define DV_MAGIC 1681511377u        /* portable layout, little-endian */
#define DV_MAGIC_NATIVE 1681511376u /* native layout, big-endian */
#define DV_FILE_VERSION 1
/* Cookies of the 32-bit Roaring portable format (RoaringFormatSpec). */
#define ROARING_COOKIE_NO_RUN 12346u
#define ROARING_COOKIE 12347u
#define ROARING_MAX_ARRAY 4096u       /* more values than this: a bitset container */
#define ROARING_BITSET_BYTES 8192u    /* 65536 bits */
#define ROARING_OFFSET_HEADER_MIN 4u  /* SERIAL_COOKIE writes offsets from 4 containers */
#define DV_MIN_BUCKET_BYTES (4u + 8u) /* a key or size and the smallest 32-bit bitmap */
#define DV_HEADER_BYTES (4u + 8u)     /* magic and bucket count */

static uint32_t le16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }

static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }

static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* --- Z85 ------------------------------------------------------------------------------------ */

static const char z85_alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   ".-:+=^!/*?&<>()[]{}@%$#";

/* The value of Z85 character c, or -1. */
static int z85_digit(unsigned char c) {
  const char *hit = c ? strchr(z85_alphabet, c) : NULL;
  return hit ? (int)(hit - z85_alphabet) : -1;
}

int delta_z85_decode(const char *text, size_t len, uint8_t *out, size_t out_cap, size_t *out_len,
                     tarn_error *err) {
  *out_len = 0;
  if (len % 5 != 0)
    return tarn_err(err, TARN_ECORRUPT, "Z85 text of %zu characters (not a multiple of 5)", len);
  size_t need = len / 5 * 4;
  if (need > out_cap)
    return tarn_err(err, TARN_EINVAL, "Z85 text decodes to %zu bytes, room for %zu", need, out_cap);
  for (size_t i = 0; i < len; i += 5) {
    uint64_t v = 0;
    for (size_t j = 0; j < 5; j++) {
      int d = z85_digit((unsigned char)text[i + j]);
      if (d < 0)
        return tarn_err(err, TARN_ECORRUPT, "invalid Z85 character 0x%02x at %zu",
                        (unsigned)(unsigned char)text[i + j], i + j);
      v = v * 85 + (uint64_t)d;
    }
    if (v > UINT32_MAX) return tarn_err(err, TARN_ECORRUPT, "Z85 block at %zu exceeds 32 bits", i);
    uint8_t *o = out + i / 5 * 4;
    o[0] = (uint8_t)(v >> 24);
    o[1] = (uint8_t)(v >> 16);
    o[2] = (uint8_t)(v >> 8);
    o[3] = (uint8_t)v;
  }
  *out_len = need;
  return 0;
}

/* --- The 32-bit Roaring portable format, validated ------------------------------------------ */

/* Walks the 32-bit bitmap serialized at d (at most len bytes), checking every size against len
 * and that container keys, array values and runs ascend strictly, runs stay within 16 bits and no
 * container is empty, and bitset cardinalities match their bits. Sets *used to its size and
 * *card to the number of values. */
static int roaring32_check(const uint8_t *d, size_t len, size_t *used, uint64_t *card,
                           tarn_error *err) {
  if (len < 4) return tarn_err(err, TARN_ECORRUPT, "truncated Roaring bitmap (no cookie)");
  uint32_t cookie = le32(d);
  size_t p = 4;
  uint32_t n;
  const uint8_t *run_flags = NULL;
  bool has_offsets;
  if (cookie == ROARING_COOKIE_NO_RUN) {
    if (len - p < 4) return tarn_err(err, TARN_ECORRUPT, "truncated Roaring bitmap header");
    n = le32(d + p);
    p += 4;
    if (n > 65536)
      return tarn_err(err, TARN_ECORRUPT, "Roaring bitmap with %" PRIu32 " containers", n);
    has_offsets = true;
  } else if ((cookie & 0xFFFF) == ROARING_COOKIE) {
    n = (cookie >> 16) + 1;
    size_t flag_bytes = (n + 7) / 8;
    if (len - p < flag_bytes)
      return tarn_err(err, TARN_ECORRUPT, "truncated Roaring bitmap run flags");
    run_flags = d + p;
    p += flag_bytes;
    has_offsets = n >= ROARING_OFFSET_HEADER_MIN;
  } else {
    return tarn_err(err, TARN_ECORRUPT, "not a Roaring bitmap (cookie %" PRIu32 ")", cookie);
  }
  if ((len - p) / 4 < n)
    return tarn_err(err, TARN_ECORRUPT, "truncated Roaring bitmap container headers");
  const uint8_t *headers = d + p;
  p += (size_t)n * 4;
  if (has_offsets) {
    if ((len - p) / 4 < n)
      return tarn_err(err, TARN_ECORRUPT, "truncated Roaring bitmap offset header");
    p += (size_t)n * 4;
  }
  uint64_t total = 0;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t key = le16(headers + 4 * (size_t)i);
    uint32_t count = le16(headers + 4 * (size_t)i + 2) + 1;
    if (i > 0 && key <= le16(headers + 4 * (size_t)(i - 1)))
      return tarn_err(err, TARN_ECORRUPT, "Roaring container keys not ascending");
    if (run_flags && (run_flags[i / 8] >> (i % 8) & 1)) {
      if (len - p < 2) return tarn_err(err, TARN_ECORRUPT, "truncated Roaring run container");
      uint32_t n_runs = le16(d + p);
      p += 2;
      if (n_runs == 0) return tarn_err(err, TARN_ECORRUPT, "empty Roaring run container");
      if ((len - p) / 4 < n_runs)
        return tarn_err(err, TARN_ECORRUPT, "truncated Roaring run container");
      int64_t prev_end = -1;
      for (uint32_t r = 0; r < n_runs; r++) {
        uint32_t start = le16(d + p + 4 * (size_t)r), extra = le16(d + p + 4 * (size_t)r + 2);
        if ((int64_t)start <= prev_end || start + extra > 0xFFFF)
          return tarn_err(err, TARN_ECORRUPT, "Roaring runs overlap or leave 16 bits");
        prev_end = start + extra;
        total += (uint64_t)extra + 1;
      }
      p += (size_t)n_runs * 4;
    } else if (count <= ROARING_MAX_ARRAY) {
      if ((len - p) / 2 < count)
        return tarn_err(err, TARN_ECORRUPT, "truncated Roaring array container");
      for (uint32_t v = 1; v < count; v++)
        if (le16(d + p + 2 * (size_t)v) <= le16(d + p + 2 * (size_t)(v - 1)))
          return tarn_err(err, TARN_ECORRUPT, "Roaring array values not ascending");
      p += (size_t)count * 2;
      total += count;
    } else {
      if (len - p < ROARING_BITSET_BYTES)
        return tarn_err(err, TARN_ECORRUPT, "truncated Roaring bitset container");
      uint64_t bits = 0;
      for (size_t w = 0; w < ROARING_BITSET_BYTES / 8; w++)
        bits += (uint64_t)__builtin_popcountll(le64(d + p + w * 8));
      if (bits != count)
        return tarn_err(err, TARN_ECORRUPT,
                        "Roaring bitset holds %" PRIu64 " values, its header says %" PRIu32, bits,
                        count);
      p += ROARING_BITSET_BYTES;
      total += count;
    }
  }
  *used = p;
  *card = total;
  return 0;
}

/* --- RoaringBitmapArray --------------------------------------------------------------------- */

typedef struct dv_bucket {
  uint32_t key; /* high 32 bits of the bucket's positions */
  size_t at;    /* offset of its 32-bit bitmap */
  size_t size;  /* the bitmap's serialized size */
  uint64_t card;
} dv_bucket;

/* Splits a RoaringBitmapArray into its buckets (validated, keys strictly ascending). Two layouts:
 * the portable one PROTOCOL.md specifies (little-endian magic 1681511377, 8-byte bucket count,
 * explicit keys) and the older "native" one Delta also reads, which the protocol's own inline
 * example uses (big-endian magic 1681511376 and 4-byte bitmap count, then per bitmap a 4-byte
 * big-endian size; the key is the bitmap's index). *used: the bytes taken. */
static int dv_buckets(const uint8_t *data, size_t len, dv_bucket **out, size_t *n_out, size_t *used,
                      tarn_error *err) {
  *out = NULL;
  *n_out = 0;
  if (len < 8)
    return tarn_err(err, TARN_ECORRUPT, "deletion vector bitmap of %zu bytes is too short", len);
  bool native = be32(data) == DV_MAGIC_NATIVE;
  if (!native && le32(data) != DV_MAGIC)
    return tarn_err(err, TARN_ECORRUPT, "bad deletion vector magic number %" PRIu32, le32(data));
  if (!native && len < DV_HEADER_BYTES)
    return tarn_err(err, TARN_ECORRUPT, "deletion vector bitmap of %zu bytes is too short", len);
  uint64_t count = native ? be32(data + 4) : le64(data + 4);
  size_t p = native ? 8 : DV_HEADER_BYTES;
  if (count > (len - p) / DV_MIN_BUCKET_BYTES)
    return tarn_err(err, TARN_ECORRUPT, "deletion vector claims %" PRIu64 " buckets in %zu bytes",
                    count, len);
  dv_bucket *b = count ? calloc((size_t)count, sizeof *b) : NULL;
  if (count && b == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory for a deletion vector");
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < count; i++) {
    if (len - p < 4) {
      rc = tarn_err(err, TARN_ECORRUPT, "truncated deletion vector (bucket %zu)", i);
      break;
    }
    size_t limit = len - p - 4;
    if (native) {
      b[i].key = (uint32_t)i;
      if (be32(data + p) > limit) {
        rc = tarn_err(err, TARN_ECORRUPT, "deletion vector bitmap %zu runs past the end", i);
        break;
      }
      limit = be32(data + p);
    } else {
      b[i].key = le32(data + p);
      if (b[i].key & 0x80000000u)
        rc = tarn_err(err, TARN_ECORRUPT, "deletion vector bucket key %" PRIu32 " has its top bit",
                      b[i].key);
      else if (i > 0 && b[i].key <= b[i - 1].key)
        rc = tarn_err(err, TARN_ECORRUPT, "deletion vector bucket keys not ascending");
      if (rc != 0) break;
    }
    p += 4;
    b[i].at = p;
    if ((rc = roaring32_check(data + p, limit, &b[i].size, &b[i].card, err)) != 0) {
      tarn_err_prefix(err, "deletion vector bucket %zu", i);
    } else if (native && b[i].size != limit) {
      rc = tarn_err(err, TARN_ECORRUPT, "deletion vector bitmap %zu: %zu of %zu bytes used", i,
                    b[i].size, limit);
    }
    p += b[i].size;
  }
  if (rc != 0) {
    free(b);
    return rc;
  }
  *out = b;
  *n_out = (size_t)count;
  *used = p;
  return 0;
}

int delta_dv_decode_bitmap(const uint8_t *data, size_t len, int64_t cardinality, tarn_arena *a,
                           uint64_t **positions, size_t *n, tarn_error *err) {
  *positions = NULL;
  *n = 0;
  dv_bucket *b = NULL;
  size_t n_buckets = 0, p = 0;
  int rc = dv_buckets(data, len, &b, &n_buckets, &p, err);
  if (rc != 0) return rc;
  /* Delta pads inline vectors to a multiple of 4 bytes; allow that much zero padding. */
  bool zeros = true;
  for (size_t i = p; i < len; i++)
    zeros = zeros && data[i] == 0;
  if (len - p > 3 || !zeros)
    rc = tarn_err(err, TARN_ECORRUPT, "%zu stray bytes after the deletion vector bitmap", len - p);
  uint64_t total = 0; /* at most 2^32 buckets of 2^32 values: no overflow */
  for (size_t i = 0; i < n_buckets; i++)
    total += b[i].card;
  if (rc == 0 && cardinality >= 0 && total != (uint64_t)cardinality)
    rc = tarn_err(err, TARN_ECORRUPT,
                  "deletion vector holds %" PRIu64 " positions, its descriptor says %" PRId64,
                  total, cardinality);
  uint64_t *out = NULL;
  if (rc == 0 && total > 0) {
    out = total <= SIZE_MAX / sizeof *out ? tarn_arena_calloc(a, (size_t)total, sizeof *out) : NULL;
    if (out == NULL)
      rc = tarn_err(err, TARN_ENOMEM, "deletion vector of %" PRIu64 " positions is too large",
                    total);
  }
  /* The structure is known good; libroaring decodes the containers. */
  size_t got = 0;
  for (size_t i = 0; rc == 0 && i < n_buckets; i++) {
    if (b[i].card == 0) continue;
    const char *buf = (const char *)(data + b[i].at);
    roaring_bitmap_t *map = roaring_bitmap_portable_deserialize_safe(buf, b[i].size);
    if (map == NULL || roaring_bitmap_portable_deserialize_size(buf, b[i].size) != b[i].size ||
        roaring_bitmap_get_cardinality(map) != b[i].card) {
      if (map) roaring_bitmap_free(map);
      rc = tarn_err(err, TARN_ECORRUPT, "deletion vector bucket %zu: libroaring disagrees", i);
      break;
    }
    roaring_uint32_iterator_t it;
    roaring_init_iterator(map, &it);
    uint32_t chunk[256];
    uint64_t done = 0;
    while (done < b[i].card) {
      uint64_t left = b[i].card - done;
      uint32_t k = roaring_read_uint32_iterator(&it, chunk, left < 256 ? (uint32_t)left : 256);
      if (k == 0) break;
      for (uint32_t j = 0; j < k; j++)
        out[got + j] = (uint64_t)b[i].key << 32 | chunk[j];
      got += k;
      done += k;
    }
    roaring_bitmap_free(map);
    if (done != b[i].card)
      rc = tarn_err(err, TARN_ECORRUPT, "deletion vector bucket %zu is short", i);
  }
  for (size_t i = 1; rc == 0 && i < got; i++)
    if (out[i] <= out[i - 1])
      rc = tarn_err(err, TARN_ECORRUPT, "deletion vector positions not ascending");
  free(b);
  if (rc != 0) return rc;
  *positions = out;
  *n = got;
  return 0;
}

/* --- Locating and reading the vector -------------------------------------------------------- */

/* The local file path of a 'p' descriptor (malloc'd), from an absolute path or file:// URI,
 * percent-decoded. */
static int absolute_dv_path(const char *s, char **out, tarn_error *err) {
  *out = NULL;
  if (strncmp(s, "file:", 5) == 0) {
    s += 5;
    if (strncmp(s, "//", 2) == 0) {
      s += 2;
      if (strncmp(s, "localhost/", 10) == 0) s += 9;
      if (*s != '/') return tarn_err(err, TARN_EUNSUPPORTED, "file URI with a remote host");
    }
  } else {
    const char *c = s;
    while ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
           *c == '+' || *c == '-' || *c == '.')
      c++;
    if (*c == ':' && c > s)
      return tarn_err(err, TARN_EUNSUPPORTED, "only local deletion vector files can be read");
  }
  if (*s != '/') return tarn_err(err, TARN_ECORRUPT, "deletion vector path is not absolute");
  size_t len = strlen(s);
  char *path = malloc(len + 1);
  if (path == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
  if (tarn_percent_decode(s, path) != 0) {
    free(path);
    return tarn_err(err, TARN_ECORRUPT, "bad percent escape in deletion vector path");
  }
  *out = path;
  return 0;
}

/* The file path of a 'u' descriptor (malloc'd): <table>/<prefix>/deletion_vector_<uuid>.bin. */
static int relative_dv_path(const char *table_dir, const char *s, char **out, tarn_error *err) {
  *out = NULL;
  size_t len = strlen(s);
  if (len < 20)
    return tarn_err(err, TARN_ECORRUPT, "UUID-based deletion vector id of %zu characters", len);
  uint8_t u[16];
  size_t got;
  int rc = delta_z85_decode(s + len - 20, 20, u, sizeof u, &got, err);
  if (rc != 0) return rc;
  if (table_dir == NULL || *table_dir == '\0') table_dir = ".";
  size_t plen = len - 20, tlen = strlen(table_dir);
  while (tlen > 1 && table_dir[tlen - 1] == '/')
    tlen--;
  size_t cap = tlen + plen + 64;
  char *path = malloc(cap);
  if (path == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
  snprintf(path, cap,
           "%.*s%s%.*s/deletion_vector_%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
           "%02x%02x%02x%02x%02x%02x.bin",
           (int)tlen, table_dir, plen ? "/" : "", (int)plen, s, u[0], u[1], u[2], u[3], u[4], u[5],
           u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
  *out = path;
  return 0;
}

/* Reads exactly len bytes at off; a short file is TARN_ECORRUPT (its size was checked). */
static int read_at(int fd, uint8_t *buf, size_t len, uint64_t off, const char *path,
                   tarn_error *err) {
  while (len > 0) {
    ssize_t r = pread(fd, buf, len, (off_t)off);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return tarn_err(err, TARN_EIO, "cannot read %s: %s", path, strerror(errno));
    if (r == 0) return tarn_err(err, TARN_ECORRUPT, "%s ends early", path);
    buf += r;
    len -= (size_t)r;
    off += (uint64_t)r;
  }
  return 0;
}

/* The serialized bitmap of a DV stored in a file (malloc'd into *data, *len bytes). */
static int read_dv_file(const char *path, const delta_dv *dv, uint8_t **data, tarn_error *err) {
  *data = NULL;
  if (dv->offset < -1) return tarn_err(err, TARN_ECORRUPT, "negative offset %d", dv->offset);
  uint64_t off = dv->offset <= 0 ? 1 : (uint64_t)dv->offset;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return tarn_err(err, TARN_EIO, "cannot open %s: %s", path, strerror(errno));
  struct stat st;
  int rc = 0;
  uint8_t head[4];
  if (fstat(fd, &st) != 0) {
    rc = tarn_err(err, TARN_EIO, "cannot stat %s: %s", path, strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    rc = tarn_err(err, TARN_EIO, "%s is not a regular file", path);
  } else if ((uint64_t)st.st_size < off + 4 + (uint64_t)dv->size_in_bytes + 4) {
    rc = tarn_err(err, TARN_ECORRUPT,
                  "%s: %d bytes at offset %" PRIu64 " extend past its end (%lld bytes)", path,
                  dv->size_in_bytes, off, (long long)st.st_size);
  } else if ((rc = read_at(fd, head, 1, 0, path, err)) == 0 && head[0] != DV_FILE_VERSION) {
    rc = tarn_err(err, TARN_ECORRUPT, "%s: unknown deletion vector file version %u", path, head[0]);
  } else if (rc == 0 && (rc = read_at(fd, head, 4, off, path, err)) == 0 &&
             be32(head) != (uint32_t)dv->size_in_bytes) {
    rc = tarn_err(err, TARN_ECORRUPT,
                  "%s: stored size %" PRIu32 " at offset %" PRIu64 " differs from sizeInBytes %d",
                  path, be32(head), off, dv->size_in_bytes);
  }
  uint8_t *buf = NULL;
  if (rc == 0) {
    size_t size = (size_t)dv->size_in_bytes;
    buf = malloc(size + 4);
    if (buf == NULL)
      rc = tarn_err(err, TARN_ENOMEM, "out of memory");
    else if ((rc = read_at(fd, buf, size + 4, off + 4, path, err)) == 0) {
      uint32_t want = be32(buf + size);
      uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), buf, (uInt)size);
      if (crc != want)
        rc = tarn_err(err, TARN_ECORRUPT,
                      "%s: CRC-32 mismatch at offset %" PRIu64 " (stored %08" PRIx32
                      ", computed %08" PRIx32 ")",
                      path, off, want, crc);
    }
  }
  close(fd);
  if (rc != 0) {
    free(buf);
    return rc;
  }
  *data = buf;
  return 0;
}

int delta_dv_read(const char *table_dir, const delta_dv *dv, tarn_arena *a, uint64_t **positions,
                  size_t *n, tarn_error *err) {
  *positions = NULL;
  *n = 0;
  if (dv->storage_type == 0) return 0;
  const char *id = dv->path_or_inline ? dv->path_or_inline : "";
  int rc = 0;
  uint8_t *data = NULL;
  size_t size = 0;
  char *path = NULL;
  if (dv->size_in_bytes < 0 || dv->cardinality < 0) {
    rc = tarn_err(err, TARN_ECORRUPT, "negative sizeInBytes or cardinality");
  } else if (dv->storage_type == 'i') {
    size_t len = strlen(id);
    size_t cap = len / 5 * 4;
    data = malloc(cap ? cap : 1);
    if (data == NULL) {
      rc = tarn_err(err, TARN_ENOMEM, "out of memory");
    } else if ((rc = delta_z85_decode(id, len, data, cap, &size, err)) == 0 &&
               (size_t)dv->size_in_bytes > size) {
      rc = tarn_err(err, TARN_ECORRUPT, "sizeInBytes %d but %zu bytes inline", dv->size_in_bytes,
                    size);
    }
    size = (size_t)dv->size_in_bytes;
  } else if (dv->storage_type == 'u' || dv->storage_type == 'p') {
    rc = dv->storage_type == 'u' ? relative_dv_path(table_dir, id, &path, err)
                                 : absolute_dv_path(id, &path, err);
    if (rc == 0) rc = read_dv_file(path, dv, &data, err);
    size = (size_t)dv->size_in_bytes;
  } else {
    rc = tarn_err(err, TARN_ECORRUPT, "unknown storage type 0x%02x",
                  (unsigned)(unsigned char)dv->storage_type);
  }
  if (rc == 0) rc = delta_dv_decode_bitmap(data, size, dv->cardinality, a, positions, n, err);
  free(data);
  free(path);
  if (rc != 0) {
    char shown[48];
    size_t len = strlen(id);
    snprintf(shown, sizeof shown, "%.40s%s", id, len > 40 ? "..." : "");
    tarn_err_prefix(err, "delta table %s: deletion vector %c'%s'@%d",
                    table_dir ? table_dir : "(none)",
                    dv->storage_type >= 32 && dv->storage_type < 127 ? dv->storage_type : '?',
                    shown, dv->offset);
  }
  return rc;
}

/* --- Writing -------------------------------------------------------------------------------- */

int delta_z85_encode(const uint8_t *data, size_t len, char *out, size_t out_cap, tarn_error *err) {
  if (len % 4 != 0 || out_cap < len / 4 * 5 + 1)
    return tarn_err(err, TARN_EINVAL, "Z85: %zu bytes do not fit %zu characters", len, out_cap);
  size_t k = 0;
  for (size_t i = 0; i < len; i += 4) {
    uint32_t v = (uint32_t)data[i] << 24 | (uint32_t)data[i + 1] << 16 |
                 (uint32_t)data[i + 2] << 8 | (uint32_t)data[i + 3];
    for (int d = 4; d >= 0; d--) {
      out[k + (size_t)d] = z85_alphabet[v % 85];
      v /= 85;
    }
    k += 5;
  }
  out[k] = 0;
  return 0;
}

static void put_le32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

static void put_be32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (24 - 8 * i));
}

int delta_dv_encode_bitmap(const uint64_t *positions, size_t n, tarn_buf *out, tarn_error *err) {
  for (size_t i = 0; i < n; i++)
    if (positions[i] >> 63 || (i > 0 && positions[i] <= positions[i - 1]))
      return tarn_err(err, TARN_EINVAL, "deletion vector positions must ascend below 2^63");
  /* One bucket per distinct high half: count them first for the header. */
  uint64_t n_buckets = 0;
  for (size_t i = 0; i < n; i++)
    if (i == 0 || positions[i] >> 32 != positions[i - 1] >> 32) n_buckets++;
  uint8_t head[DV_HEADER_BYTES];
  put_le32(head, DV_MAGIC);
  put_le32(head + 4, (uint32_t)n_buckets);
  put_le32(head + 8, (uint32_t)(n_buckets >> 32));
  int rc = tarn_buf_append(out, head, sizeof head, err);
  for (size_t i = 0; rc == 0 && i < n;) {
    uint32_t key = (uint32_t)(positions[i] >> 32);
    size_t end = i;
    while (end < n && positions[end] >> 32 == key)
      end++;
    roaring_bitmap_t *map = roaring_bitmap_create();
    if (map == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
    for (size_t k = i; k < end; k++)
      roaring_bitmap_add(map, (uint32_t)positions[k]);
    roaring_bitmap_run_optimize(map);
    size_t size = roaring_bitmap_portable_size_in_bytes(map);
    uint8_t kb[4];
    put_le32(kb, key);
    rc = tarn_buf_append(out, kb, 4, err);
    if (rc == 0) rc = tarn_buf_reserve(out, size, err);
    if (rc == 0) {
      size_t wrote = roaring_bitmap_portable_serialize(map, (char *)out->data + out->len);
      if (wrote != size)
        rc = tarn_err(err, TARN_EINVAL, "Roaring serialized %zu bytes, expected %zu", wrote, size);
      else
        out->len += size;
    }
    roaring_bitmap_free(map);
    i = end;
  }
  return rc;
}

int delta_dv_write_file(const char *table_dir, size_t n, const uint64_t *const *positions,
                        const size_t *counts, tarn_arena *a, delta_dv *descs, char **path_out,
                        tarn_error *err) {
  if (path_out) *path_out = NULL;
  uint8_t uuid[16];
  if (getentropy(uuid, sizeof uuid) != 0)
    return tarn_err(err, TARN_EIO, "no randomness for a deletion vector name: %s", strerror(errno));
  uuid[6] = (uint8_t)((uuid[6] & 0x0f) | 0x40); /* version 4 */
  uuid[8] = (uint8_t)((uuid[8] & 0x3f) | 0x80); /* RFC 4122 variant */
  char id[21];
  int rc = delta_z85_encode(uuid, sizeof uuid, id, sizeof id, err);
  if (rc) return rc;
  tarn_buf file = {0};
  uint8_t version = DV_FILE_VERSION;
  rc = tarn_buf_append(&file, &version, 1, err);
  for (size_t i = 0; rc == 0 && i < n; i++) {
    size_t at = file.len;
    uint8_t word[4] = {0};
    rc = tarn_buf_append(&file, word, 4, err); /* the size, filled in below */
    if (rc == 0) rc = delta_dv_encode_bitmap(positions[i], counts[i], &file, err);
    if (rc) break;
    size_t size = file.len - at - 4;
    if (size > INT32_MAX || at > INT32_MAX) {
      rc = tarn_err(err, TARN_EINVAL, "deletion vector of %zu bytes is too large", size);
      break;
    }
    put_be32(file.data + at, (uint32_t)size);
    put_be32(word, (uint32_t)crc32(crc32(0L, Z_NULL, 0), file.data + at + 4, (uInt)size));
    rc = tarn_buf_append(&file, word, 4, err);
    descs[i] = (delta_dv){.storage_type = 'u',
                          .path_or_inline = tarn_arena_strndup(a, id, 20),
                          .offset = (int32_t)at,
                          .size_in_bytes = (int32_t)size,
                          .cardinality = (int64_t)counts[i]};
    if (rc == 0 && descs[i].path_or_inline == NULL)
      rc = tarn_err(err, TARN_ENOMEM, "out of memory");
  }
  char *path = NULL;
  if (rc == 0) rc = relative_dv_path(table_dir, id, &path, err);
  if (rc == 0) {
    /* The vector file and then its name must be durable before a commit refers to it. */
    int e = tarn_write_file_synced(path, file.data, file.len);
    if (e == 0 && tarn_fsync_dir(table_dir && *table_dir ? table_dir : ".") != 0) {
      e = errno;
      unlink(path);
    }
    if (e) rc = tarn_err(err, TARN_EIO, "cannot write %s: %s", path, strerror(e));
  }
  if (rc == 0 && path_out)
    *path_out = path;
  else
    free(path);
  tarn_buf_free(&file);
  return rc;
}
