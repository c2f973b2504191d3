#include "table/iceberg/iceberg_snapshot.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/arena.h"
#include "common/error.h"
#include "common/fs.h"

struct iceberg_table {
  tarn_arena arena; /* metadata, paths */
  iceberg_meta *meta;
  char *metadata_path;
  char *dir;      /* local table directory, no trailing '/' */
  char *location; /* the metadata's location, scheme and "./" stripped, no trailing '/' */
  bool allow_moved_paths;
};

/* --- Small helpers -------------------------------------------------------------------------- */

static char *arena_printf(tarn_arena *a, const char *fmt, const char *s1, const char *s2) {
  int n = snprintf(NULL, 0, fmt, s1, s2);
  if (n < 0) return NULL;
  char *p = tarn_arena_calloc(a, (size_t)n + 1, 1);
  if (p != NULL) snprintf(p, (size_t)n + 1, fmt, s1, s2);
  return p;
}

static bool is_regular_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_directory(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool ends_with(const char *s, const char *suffix) {
  size_t ls = strlen(s), lx = strlen(suffix);
  return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

/* "file:///a" and "file:/a" name the local "/a". */
static const char *strip_file_scheme(const char *p) {
  if (strncmp(p, "file://", 7) == 0) return p + 7;
  if (strncmp(p, "file:/", 6) == 0) return p + 5;
  return p;
}

/* Drops leading "./" and trailing '/' (into the arena). */
static char *normalize_dir(tarn_arena *a, const char *p) {
  while (p[0] == '.' && p[1] == '/')
    p += 2;
  size_t n = strlen(p);
  while (n > 1 && p[n - 1] == '/')
    n--;
  return tarn_arena_strndup(a, p, n);
}

/* --- Finding the metadata file ------------------------------------------------------------ */

/* The version number of a metadata file name (vN.metadata.json or NNNNN-uuid.metadata.json, and
 * their gzip spellings), or -1 when the name is not one. *gz: a gzip spelling. */
static long long metadata_name_version(const char *name, bool *gz) {
  static const char *const suffixes[] = {".metadata.json", ".metadata.json.gz",
                                         ".gz.metadata.json"};
  if (name[0] == '.') return -1;
  size_t len = strlen(name), stem = 0;
  *gz = false;
  for (size_t k = 0; k < 3; k++)
    if (ends_with(name, suffixes[k])) {
      stem = len - strlen(suffixes[k]);
      *gz = k > 0;
      break;
    }
  if (stem == 0) return -1;
  size_t i = name[0] == 'v' ? 1 : 0, start = i;
  long long v = 0;
  while (i < stem && name[i] >= '0' && name[i] <= '9' && i - start < 18)
    v = v * 10 + (name[i++] - '0');
  if (i == start) return -1;
  if (start == 1 && i == stem) return v;      /* vN */
  if (start == 0 && name[i] == '-') return v; /* NNNNN-uuid */
  return -1;
}

static int refuse_gzip(const char *path, tarn_error *err) {
  return tarn_err(err, TARN_EUNSUPPORTED, "iceberg: %s: gzip-compressed metadata is not supported",
                  path);
}

/* Looks for the metadata of version ver in meta_dir. */
static int find_version(tarn_arena *a, const char *meta_dir, const char *ver, char **out,
                        tarn_error *err) {
  static const char *const plain[] = {"%s/v%s.metadata.json", "%s/%s.metadata.json"};
  static const char *const gz[] = {"%s/v%s.metadata.json.gz", "%s/v%s.gz.metadata.json",
                                   "%s/%s.metadata.json.gz", "%s/%s.gz.metadata.json"};
  for (size_t k = 0; k < 2; k++) {
    char *p = arena_printf(a, plain[k], meta_dir, ver);
    if (p == NULL) return tarn_err(err, TARN_ENOMEM, "iceberg: out of memory");
    if (is_regular_file(p)) {
      *out = p;
      return 0;
    }
  }
  for (size_t k = 0; k < 4; k++) {
    char *p = arena_printf(a, gz[k], meta_dir, ver);
    if (p == NULL) return tarn_err(err, TARN_ENOMEM, "iceberg: out of memory");
    if (is_regular_file(p)) return refuse_gzip(p, err);
  }
  /* A numeric version may also name NNNNN-uuid.metadata.json. */
  char *end;
  errno = 0;
  long long want = strtoll(ver, &end, 10);
  if (*ver != '\0' && *end == '\0' && errno == 0 && want >= 0) {
    DIR *d = opendir(meta_dir);
    if (d != NULL) {
      struct dirent *e;
      char *best = NULL;
      while ((e = readdir(d)) != NULL) {
        bool is_gz;
        if (e->d_name[0] == 'v' || metadata_name_version(e->d_name, &is_gz) != want) continue;
        if (best == NULL || strcmp(e->d_name, best) > 0) {
          best = arena_printf(a, "%s%s", e->d_name, "");
          if (best == NULL) break;
        }
      }
      closedir(d);
      if (best != NULL) {
        bool is_gz;
        metadata_name_version(best, &is_gz);
        char *p = arena_printf(a, "%s/%s", meta_dir, best);
        if (p == NULL) return tarn_err(err, TARN_ENOMEM, "iceberg: out of memory");
        if (is_gz) return refuse_gzip(p, err);
        *out = p;
        return 0;
      }
    }
  }
  return tarn_err(err, TARN_EIO, "iceberg: %s: no metadata file for version '%s'", meta_dir, ver);
}

/* The highest-numbered metadata file in meta_dir. */
static int find_latest(tarn_arena *a, const char *meta_dir, char **out, tarn_error *err) {
  DIR *d = opendir(meta_dir);
  if (d == NULL)
    return tarn_err(err, TARN_EIO, "iceberg: %s: %s (not an Iceberg table directory)", meta_dir,
                    strerror(errno));
  long long best_v = -1;
  char *best = NULL;
  bool best_gz = false;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    bool is_gz;
    long long v = metadata_name_version(e->d_name, &is_gz);
    if (v < 0) continue;
    if (v > best_v || (v == best_v && strcmp(e->d_name, best) > 0)) {
      char *copy = arena_printf(a, "%s%s", e->d_name, "");
      if (copy == NULL) {
        closedir(d);
        return tarn_err(err, TARN_ENOMEM, "iceberg: out of memory");
      }
      best_v = v;
      best = copy;
      best_gz = is_gz;
    }
  }
  closedir(d);
  if (best == NULL) return tarn_err(err, TARN_EIO, "iceberg: %s: no metadata file", meta_dir);
  char *p = arena_printf(a, "%s/%s", meta_dir, best);
  if (p == NULL) return tarn_err(err, TARN_ENOMEM, "iceberg: out of memory");
  if (best_gz) return refuse_gzip(p, err);
  *out = p;
  return 0;
}

static int locate_metadata(iceberg_table *t, const char *dir, const iceberg_open_options *o,
                           tarn_error *err) {
  tarn_arena *a = &t->arena;
  char *meta_dir = arena_printf(a, "%s/%s", dir, "metadata");
  if (meta_dir == NULL) return tarn_err(err, TARN_ENOMEM, "iceberg: out of memory");
  if (o->version != NULL) return find_version(a, meta_dir, o->version, &t->metadata_path, err);
  char *hint_path = arena_printf(a, "%s/%s", meta_dir, "version-hint.text");
  if (hint_path == NULL) return tarn_err(err, TARN_ENOMEM, "iceberg: out of memory");
  char *text;
  size_t len;
  int e = tarn_read_file(hint_path, 4096, &text, &len, NULL);
  if (e == ENOENT) return find_latest(a, meta_dir, &t->metadata_path, err);
  if (e) return tarn_err(err, TARN_EIO, "iceberg: %s: %s", hint_path, strerror(e));
  size_t b = 0;
  while (b < len && (text[b] == ' ' || text[b] == '\t' || text[b] == '\n' || text[b] == '\r'))
    b++;
  while (len > b && (text[len - 1] == ' ' || text[len - 1] == '\t' || text[len - 1] == '\n' ||
                     text[len - 1] == '\r'))
    len--;
  char *hint = tarn_arena_strndup(a, text + b, len - b);
  free(text);
  if (hint == NULL) return tarn_err(err, TARN_ENOMEM, "iceberg: out of memory");
  if (hint[0] == '\0' || strchr(hint, '/') != NULL || strlen(hint) != len - b)
    return tarn_err(err, TARN_ECORRUPT, "iceberg: %s: not a version", hint_path);
  int rc = find_version(a, meta_dir, hint, &t->metadata_path, err);
  if (rc) tarn_err_prefix(err, "version-hint.text says '%s'", hint);
  return rc;
}

/* The table directory of a metadata file: the parent of its folder. */
static char *table_dir_of_metadata(tarn_arena *a, const char *path) {
  const char *slash = strrchr(path, '/');
  if (slash == NULL) return tarn_arena_strndup(a, "..", 2);
  size_t n = (size_t)(slash - path);
  if (n == 0) return tarn_arena_strndup(a, "/", 1);
  char *folder = tarn_arena_strndup(a, path, n);
  if (folder == NULL) return NULL;
  const char *s2 = strrchr(folder, '/');
  if (s2 == NULL)
    return strcmp(folder, "..") == 0 ? arena_printf(a, "%s/%s", folder, "..")
                                     : tarn_arena_strndup(a, ".", 1);
  if (strcmp(s2 + 1, "..") == 0 || strcmp(s2 + 1, ".") == 0)
    return arena_printf(a, "%s/%s", folder, "..");
  if (s2 == folder) return tarn_arena_strndup(a, "/", 1);
  return tarn_arena_strndup(a, folder, (size_t)(s2 - folder));
}

int iceberg_table_open(const char *path_or_metadata, const iceberg_open_options *o,
                       iceberg_table **out, tarn_error *err) {
  static const iceberg_open_options defaults = {0};
  *out = NULL;
  if (o == NULL) o = &defaults;
  iceberg_table *t = calloc(1, sizeof *t);
  if (t == NULL) return tarn_err(err, TARN_ENOMEM, "iceberg: out of memory");
  t->allow_moved_paths = o->allow_moved_paths;
  int rc;
  const char *p = strip_file_scheme(path_or_metadata);
  if (is_directory(p)) {
    t->dir = normalize_dir(&t->arena, p);
    if (t->dir == NULL) {
      rc = tarn_err(err, TARN_ENOMEM, "iceberg: out of memory");
      goto fail;
    }
    if ((rc = locate_metadata(t, t->dir, o, err))) goto fail;
  } else {
    if (ends_with(p, ".gz")) {
      rc = refuse_gzip(p, err);
      goto fail;
    }
    if (!is_regular_file(p)) {
      rc = tarn_err(err, TARN_EIO, "iceberg: %s: %s", p, strerror(errno ? errno : ENOENT));
      goto fail;
    }
    t->metadata_path = tarn_arena_strndup(&t->arena, p, strlen(p));
    t->dir = t->metadata_path ? table_dir_of_metadata(&t->arena, p) : NULL;
    if (t->dir == NULL) {
      rc = tarn_err(err, TARN_ENOMEM, "iceberg: out of memory");
      goto fail;
    }
  }
  if ((rc = iceberg_meta_load_file(t->metadata_path, &t->arena, &t->meta, err))) goto fail;
  t->location = normalize_dir(&t->arena, strip_file_scheme(t->meta->location));
  if (t->location == NULL) {
    rc = tarn_err(err, TARN_ENOMEM, "iceberg: out of memory");
    goto fail;
  }
  *out = t;
  return 0;
fail:
  iceberg_table_close(t);
  return rc;
}

void iceberg_table_close(iceberg_table *t) {
  if (t == NULL) return;
  tarn_arena_free(&t->arena);
  free(t);
}

const iceberg_meta *iceberg_table_meta(const iceberg_table *t) { return t->meta; }
const char *iceberg_table_metadata_path(const iceberg_table *t) { return t->metadata_path; }
const char *iceberg_table_dir(const iceberg_table *t) { return t->dir; }

int iceberg_table_find_snapshot(const iceberg_table *t, iceberg_snapshot_by by, int64_t id_or_ts,
                                const char *ref, const iceberg_snapshot **out, tarn_error *err) {
  const iceberg_meta *m = t->meta;
  *out = NULL;
  switch (by) {
  case ICEBERG_SNAPSHOT_CURRENT:
    *out = iceberg_meta_current_snapshot(m);
    if (*out == NULL)
      return tarn_err(err, TARN_EINVAL, "iceberg: %s: the table has no current snapshot",
                      t->metadata_path);
    return 0;
  case ICEBERG_SNAPSHOT_ID:
    *out = iceberg_meta_snapshot(m, id_or_ts);
    if (*out == NULL)
      return tarn_err(err, TARN_EINVAL, "iceberg: %s: no snapshot %lld", t->metadata_path,
                      (long long)id_or_ts);
    return 0;
  case ICEBERG_SNAPSHOT_AS_OF:
    *out = iceberg_meta_snapshot_as_of(m, id_or_ts);
    if (*out == NULL)
      return tarn_err(err, TARN_EINVAL, "iceberg: %s: no snapshot at or before %lld ms",
                      t->metadata_path, (long long)id_or_ts);
    return 0;
  case ICEBERG_SNAPSHOT_REF: {
    const iceberg_ref *r = ref ? iceberg_meta_ref(m, ref) : NULL;
    if (r != NULL) *out = iceberg_meta_snapshot(m, r->snapshot_id);
    if (*out == NULL)
      return tarn_err(err, TARN_EINVAL, "iceberg: %s: no branch or tag '%s'", t->metadata_path,
                      ref ? ref : "(null)");
    return 0;
  }
  }
  return tarn_err(err, TARN_EINVAL, "iceberg: unknown snapshot selector %d", (int)by);
}

/* --- Paths ---------------------------------------------------------------------------------- */

/* path as a local path, in a (see iceberg_open_options.allow_moved_paths). */
static const char *resolve_path(const iceberg_table *t, tarn_arena *a, const char *path) {
  const char *p = strip_file_scheme(path);
  if (!t->allow_moved_paths) return tarn_arena_strndup(a, p, strlen(p));
  const char *q = p;
  while (q[0] == '.' && q[1] == '/')
    q += 2;
  size_t ll = strlen(t->location);
  if (ll > 0 && strncmp(q, t->location, ll) == 0 && (q[ll] == '/' || q[ll] == '\0'))
    return arena_printf(a, "%s%s", t->dir, q + ll);
  /* The table was written elsewhere: cut at the last component named like the location's. */
  const char *base = strrchr(t->location, '/');
  base = base ? base + 1 : t->location;
  size_t bl = strlen(base);
  const char *cut = NULL;
  if (bl > 0)
    for (const char *s = q; (s = strstr(s, base)) != NULL; s++)
      if ((s == q || s[-1] == '/') && s[bl] == '/') cut = s + bl;
  if (cut != NULL) return arena_printf(a, "%s%s", t->dir, cut);
  return tarn_arena_strndup(a, p, strlen(p));
}

/* --- Avro helpers --------------------------------------------------------------------------- */

static int copy_value(tarn_arena *a, tarn_avro_value *dst, const tarn_avro_value *src) {
  *dst = *src;
  if (src->name != NULL &&
      (dst->name = tarn_arena_strndup(a, src->name, strlen(src->name))) == NULL)
    return -1;
  switch (src->kind) {
  case TARN_AVRO_BYTES:
  case TARN_AVRO_STRING:
  case TARN_AVRO_FIXED: {
    char *d = tarn_arena_strndup(a, (const char *)src->u.bytes.data, src->u.bytes.len);
    if (d == NULL) return -1;
    dst->u.bytes.data = (const uint8_t *)d;
    return 0;
  }
  case TARN_AVRO_ENUM:
    if (src->u.enm.symbol != NULL && (dst->u.enm.symbol = tarn_arena_strndup(
                                          a, src->u.enm.symbol, strlen(src->u.enm.symbol))) == NULL)
      return -1;
    return 0;
  case TARN_AVRO_ARRAY: {
    size_t n = src->u.array.n;
    tarn_avro_value *items = tarn_arena_calloc(a, n ? n : 1, sizeof *items);
    if (items == NULL) return -1;
    for (size_t i = 0; i < n; i++)
      if (copy_value(a, &items[i], &src->u.array.items[i])) return -1;
    dst->u.array.items = items;
    return 0;
  }
  case TARN_AVRO_MAP: {
    size_t n = src->u.map.n;
    const char **keys = tarn_arena_calloc(a, n ? n : 1, sizeof *keys);
    tarn_avro_value *values = tarn_arena_calloc(a, n ? n : 1, sizeof *values);
    if (keys == NULL || values == NULL) return -1;
    for (size_t i = 0; i < n; i++) {
      if ((keys[i] = tarn_arena_strndup(a, src->u.map.keys[i], strlen(src->u.map.keys[i]))) ==
              NULL ||
          copy_value(a, &values[i], &src->u.map.values[i]))
        return -1;
    }
    dst->u.map.keys = keys;
    dst->u.map.values = values;
    return 0;
  }
  case TARN_AVRO_RECORD: {
    size_t n = src->u.record.n;
    const char **names = tarn_arena_calloc(a, n ? n : 1, sizeof *names);
    tarn_avro_value *fields = tarn_arena_calloc(a, n ? n : 1, sizeof *fields);
    if (names == NULL || fields == NULL) return -1;
    for (size_t i = 0; i < n; i++) {
      const char *nm = src->u.record.names[i];
      if ((names[i] = tarn_arena_strndup(a, nm, strlen(nm))) == NULL ||
          copy_value(a, &fields[i], &src->u.record.fields[i]))
        return -1;
    }
    dst->u.record.names = names;
    dst->u.record.fields = fields;
    return 0;
  }
  default: return 0;
  }
}

/* Context of one manifest being read, for messages. */
typedef struct manifest_ctx {
  const char *what; /* "manifest list", "manifest" */
  const char *path;
  size_t entry;
} manifest_ctx;

#define CTX_ERR(err, c, code, fmt, ...)                                                            \
  tarn_err(err, code, "iceberg: %s %s: entry %zu: " fmt, (c)->what, (c)->path, (c)->entry,         \
           __VA_ARGS__)

static int get_long_field(const tarn_avro_value *rec, const char *name, bool required, int64_t dflt,
                          int64_t *out, const manifest_ctx *c, tarn_error *err) {
  const tarn_avro_value *v = tarn_avro_field(rec, name);
  if (tarn_avro_is_null(v)) {
    if (required) return CTX_ERR(err, c, TARN_ECORRUPT, "%s is missing", name);
    *out = dflt;
    return 0;
  }
  if (!tarn_avro_get_long(v, out))
    return CTX_ERR(err, c, TARN_ECORRUPT, "%s is not an integer", name);
  return 0;
}

static int get_string_field(tarn_arena *a, const tarn_avro_value *rec, const char *name,
                            bool required, const char **out, const manifest_ctx *c,
                            tarn_error *err) {
  const tarn_avro_value *v = tarn_avro_field(rec, name);
  const char *s;
  size_t len;
  *out = NULL;
  if (tarn_avro_is_null(v)) {
    if (required) return CTX_ERR(err, c, TARN_ECORRUPT, "%s is missing", name);
    return 0;
  }
  if (!tarn_avro_get_string(v, &s, &len))
    return CTX_ERR(err, c, TARN_ECORRUPT, "%s is not a string", name);
  if (memchr(s, '\0', len) != NULL)
    return CTX_ERR(err, c, TARN_ECORRUPT, "%s contains a NUL byte", name);
  if ((*out = tarn_arena_strndup(a, s, len)) == NULL)
    return tarn_err(err, TARN_ENOMEM, "iceberg: out of memory");
  return 0;
}

/* An Iceberg map with int keys: an Avro array of {key, value} records (what Iceberg writes), or an
 * Avro map with decimal string keys. Each item gives its key and value node. */
static int map_items(const tarn_avro_value *v, const char *name, size_t *n, const manifest_ctx *c,
                     tarn_error *err) {
  if (tarn_avro_is_null(v)) {
    *n = 0;
    return 0;
  }
  if (v->kind == TARN_AVRO_ARRAY) {
    *n = v->u.array.n;
    return 0;
  }
  if (v->kind == TARN_AVRO_MAP) {
    *n = v->u.map.n;
    return 0;
  }
  return CTX_ERR(err, c, TARN_ECORRUPT, "%s is not a map", name);
}

static int map_item(const tarn_avro_value *v, size_t i, const char *name, int32_t *key,
                    const tarn_avro_value **value, const manifest_ctx *c, tarn_error *err) {
  if (v->kind == TARN_AVRO_ARRAY) {
    const tarn_avro_value *kv = &v->u.array.items[i];
    int64_t k;
    if (!tarn_avro_get_long(tarn_avro_field(kv, "key"), &k) || k < INT32_MIN || k > INT32_MAX)
      return CTX_ERR(err, c, TARN_ECORRUPT, "%s: item %zu has no int key", name, i);
    *key = (int32_t)k;
    *value = tarn_avro_field(kv, "value");
    return 0;
  }
  const char *ks = v->u.map.keys[i];
  char *end;
  errno = 0;
  long k = strtol(ks, &end, 10);
  if (*ks == '\0' || *end != '\0' || errno || k < INT32_MIN || k > INT32_MAX)
    return CTX_ERR(err, c, TARN_ECORRUPT, "%s: key '%s' is not a field id", name, ks);
  *key = (int32_t)k;
  *value = &v->u.map.values[i];
  return 0;
}

static int read_counts(tarn_arena *a, const tarn_avro_value *df, const char *name,
                       iceberg_column_count **out, size_t *n_out, const manifest_ctx *c,
                       tarn_error *err) {
  const tarn_avro_value *v = tarn_avro_field(df, name);
  size_t n = 0;
  int rc = map_items(v, name, &n, c, err);
  if (rc) return rc;
  *out = NULL;
  *n_out = 0;
  if (n == 0) return 0;
  iceberg_column_count *arr = tarn_arena_calloc(a, n, sizeof *arr);
  if (arr == NULL) return tarn_err(err, TARN_ENOMEM, "iceberg: out of memory");
  for (size_t i = 0; i < n; i++) {
    const tarn_avro_value *val = NULL;
    if ((rc = map_item(v, i, name, &arr[i].field_id, &val, c, err))) return rc;
    if (!tarn_avro_get_long(val, &arr[i].value))
      return CTX_ERR(err, c, TARN_ECORRUPT, "%s: item %zu is not a count", name, i);
  }
  *out = arr;
  *n_out = n;
  return 0;
}

static int read_bounds(tarn_arena *a, const tarn_avro_value *df, const char *name,
                       iceberg_column_bound **out, size_t *n_out, const manifest_ctx *c,
                       tarn_error *err) {
  const tarn_avro_value *v = tarn_avro_field(df, name);
  size_t n = 0;
  int rc = map_items(v, name, &n, c, err);
  if (rc) return rc;
  *out = NULL;
  *n_out = 0;
  if (n == 0) return 0;
  iceberg_column_bound *arr = tarn_arena_calloc(a, n, sizeof *arr);
  if (arr == NULL) return tarn_err(err, TARN_ENOMEM, "iceberg: out of memory");
  for (size_t i = 0; i < n; i++) {
    const tarn_avro_value *val = NULL;
    const uint8_t *b = NULL;
    size_t len = 0;
    if ((rc = map_item(v, i, name, &arr[i].field_id, &val, c, err))) return rc;
    if (!tarn_avro_get_bytes(val, &b, &len))
      return CTX_ERR(err, c, TARN_ECORRUPT, "%s: item %zu is not bytes", name, i);
    char *copy = tarn_arena_strndup(a, (const char *)b, len);
    if (copy == NULL) return tarn_err(err, TARN_ENOMEM, "iceberg: out of memory");
    arr[i].data = (const uint8_t *)copy;
    arr[i].len = len;
  }
  *out = arr;
  *n_out = n;
  return 0;
}

/* Reads path (size-checked) and opens it as an Avro container; *buf must be freed after the
 * file is closed. */
static int open_avro(const char *what, const char *path, char **buf, tarn_avro_file **f,
                     tarn_error *err) {
  size_t len;
  *buf = NULL;
  *f = NULL;
  int e = tarn_read_file(path, ICEBERG_SNAPSHOT_MAX_FILE, buf, &len, NULL);
  if (e == EFBIG)
    return tarn_err(err, TARN_ENOMEM, "iceberg: %s %s: larger than %zu bytes", what, path,
                    ICEBERG_SNAPSHOT_MAX_FILE);
  if (e) return tarn_err(err, TARN_EIO, "iceberg: %s %s: %s", what, path, strerror(e));
  int rc = tarn_avro_open((const uint8_t *)*buf, len, f, err);
  if (rc) {
    tarn_err_prefix(err, "iceberg: %s %s", what, path);
    free(*buf);
    *buf = NULL;
  }
  return rc;
}

/* --- Listing files -------------------------------------------------------------------------- */

typedef struct files_header {
  tarn_arena arena;
  size_t n;
} files_header;

#define FILES_HEADER_SIZE ((sizeof(files_header) + 15) & ~(size_t)15)

typedef struct file_list {
  tarn_arena arena;
  iceberg_file *v;
  size_t n, cap;
} file_list;

/* One manifest as the manifest list (or a v1 snapshot) describes it. */
typedef struct manifest_info {
  const char *path; /* resolved */
  int32_t spec_id;  /* -1: take it from the manifest's metadata */
  iceberg_content content;
  int64_t sequence_number;
  int64_t added_snapshot_id;
} manifest_info;

static int read_data_file(const iceberg_table *t, file_list *L, const tarn_avro_value *df,
                          iceberg_file *f, const manifest_ctx *c, tarn_error *err) {
  tarn_arena *a = &L->arena;
  int64_t v;
  int rc;
  if ((rc = get_long_field(df, "content", false, 0, &v, c, err))) return rc;
  if (v < 0 || v > 2) return CTX_ERR(err, c, TARN_ECORRUPT, "unknown content %lld", (long long)v);
  f->content = (iceberg_content)v;
  if ((rc = get_string_field(a, df, "file_path", true, &f->raw_file_path, c, err)) ||
      (rc = get_string_field(a, df, "file_format", true, &f->file_format, c, err)) ||
      (rc = get_long_field(df, "record_count", true, 0, &f->record_count, c, err)) ||
      (rc = get_long_field(df, "file_size_in_bytes", true, 0, &f->file_size_in_bytes, c, err)))
    return rc;
  if (f->record_count < 0 || f->file_size_in_bytes < 0)
    return CTX_ERR(err, c, TARN_ECORRUPT, "%s", "negative record_count or file_size_in_bytes");
  if ((f->file_path = resolve_path(t, a, f->raw_file_path)) == NULL)
    return tarn_err(err, TARN_ENOMEM, "iceberg: out of memory");
  const tarn_avro_value *part = tarn_avro_field(df, "partition");
  if (!tarn_avro_is_null(part)) {
    if (part->kind != TARN_AVRO_RECORD)
      return CTX_ERR(err, c, TARN_ECORRUPT, "%s", "partition is not a record");
    tarn_avro_value *copy = tarn_arena_calloc(a, 1, sizeof *copy);
    if (copy == NULL || copy_value(a, copy, part))
      return tarn_err(err, TARN_ENOMEM, "iceberg: out of memory");
    f->partition = copy;
  }
  if ((rc = read_counts(a, df, "column_sizes", &f->column_sizes, &f->n_column_sizes, c, err)) ||
      (rc = read_counts(a, df, "value_counts", &f->value_counts, &f->n_value_counts, c, err)) ||
      (rc = read_counts(a, df, "null_value_counts", &f->null_value_counts, &f->n_null_value_counts,
                        c, err)) ||
      (rc = read_counts(a, df, "nan_value_counts", &f->nan_value_counts, &f->n_nan_value_counts, c,
                        err)) ||
      (rc = read_bounds(a, df, "lower_bounds", &f->lower_bounds, &f->n_lower_bounds, c, err)) ||
      (rc = read_bounds(a, df, "upper_bounds", &f->upper_bounds, &f->n_upper_bounds, c, err)))
    return rc;
  const tarn_avro_value *eq = tarn_avro_field(df, "equality_ids");
  if (!tarn_avro_is_null(eq)) {
    if (eq->kind != TARN_AVRO_ARRAY)
      return CTX_ERR(err, c, TARN_ECORRUPT, "%s", "equality_ids is not an array");
    size_t n = eq->u.array.n;
    f->equality_ids = tarn_arena_calloc(a, n ? n : 1, sizeof *f->equality_ids);
    if (f->equality_ids == NULL) return tarn_err(err, TARN_ENOMEM, "iceberg: out of memory");
    for (size_t i = 0; i < n; i++)
      if (!tarn_avro_get_int(&eq->u.array.items[i], &f->equality_ids[i]))
        return CTX_ERR(err, c, TARN_ECORRUPT, "equality_ids item %zu is not an int", i);
    f->n_equality_ids = n;
  }
  if (f->content == ICEBERG_CONTENT_EQUALITY_DELETES && f->n_equality_ids == 0)
    return CTX_ERR(err, c, TARN_ECORRUPT, "%s", "equality delete file without equality_ids");
  if ((rc = get_long_field(df, "sort_order_id", false, -1, &v, c, err))) return rc;
  f->sort_order_id = v < INT32_MIN || v > INT32_MAX ? -1 : (int32_t)v;
  if ((rc = get_long_field(df, "first_row_id", false, -1, &f->first_row_id, c, err)) ||
      (rc = get_string_field(a, df, "referenced_data_file", false, &f->referenced_data_file, c,
                             err)) ||
      (rc = get_long_field(df, "content_offset", false, -1, &f->content_offset, c, err)) ||
      (rc = get_long_field(df, "content_size_in_bytes", false, -1, &f->content_size_in_bytes, c,
                           err)))
    return rc;
  if (f->referenced_data_file != NULL) {
    const char *r = resolve_path(t, a, f->referenced_data_file);
    if (r == NULL) return tarn_err(err, TARN_ENOMEM, "iceberg: out of memory");
    f->referenced_data_file = r;
  }
  return 0;
}

static int read_manifest(const iceberg_table *t, file_list *L, const manifest_info *mi,
                         bool include_deleted, tarn_error *err) {
  char *buf;
  tarn_avro_file *af;
  int rc = open_avro("manifest", mi->path, &buf, &af, err);
  if (rc) return rc;
  manifest_ctx c = {"manifest", mi->path, 0};
  int32_t spec_id = mi->spec_id;
  if (spec_id < 0) {
    const char *s = tarn_avro_meta(af, "partition-spec-id", NULL);
    spec_id = s ? (int32_t)strtol(s, NULL, 10) : 0;
  }
  tarn_avro_value rec;
  for (;;) {
    rc = tarn_avro_next(af, &rec, err);
    if (rc == 0) break;
    if (rc < 0) {
      tarn_err_prefix(err, "iceberg: manifest %s", mi->path);
      goto done;
    }
    c.entry++;
    int64_t status;
    if ((rc = get_long_field(&rec, "status", true, 0, &status, &c, err))) goto done;
    if (status < 0 || status > 2) {
      rc = CTX_ERR(err, &c, TARN_ECORRUPT, "unknown status %lld", (long long)status);
      goto done;
    }
    if (status == ICEBERG_STATUS_DELETED && !include_deleted) continue;
    const tarn_avro_value *df = tarn_avro_field(&rec, "data_file");
    if (df == NULL || df->kind != TARN_AVRO_RECORD) {
      rc = CTX_ERR(err, &c, TARN_ECORRUPT, "%s", "data_file is missing");
      goto done;
    }
    if (L->n == L->cap) {
      size_t cap = L->cap ? L->cap * 2 : 16;
      iceberg_file *v = realloc(L->v, cap * sizeof *v);
      if (v == NULL) {
        rc = tarn_err(err, TARN_ENOMEM, "iceberg: out of memory");
        goto done;
      }
      L->v = v;
      L->cap = cap;
    }
    iceberg_file *f = &L->v[L->n];
    memset(f, 0, sizeof *f);
    f->status = (iceberg_entry_status)status;
    f->spec_id = spec_id;
    f->manifest_path = mi->path;
    f->manifest_sequence_number = mi->sequence_number;
    f->manifest_content = mi->content;
    /* Inheritance (spec "Sequence Number Inheritance"): null means "the manifest's". */
    if ((rc = get_long_field(&rec, "snapshot_id", false, mi->added_snapshot_id, &f->snapshot_id, &c,
                             err)) ||
        (rc = get_long_field(&rec, "sequence_number", false, mi->sequence_number,
                             &f->data_sequence_number, &c, err)) ||
        (rc = get_long_field(&rec, "file_sequence_number", false, mi->sequence_number,
                             &f->file_sequence_number, &c, err)) ||
        (rc = read_data_file(t, L, df, f, &c, err)))
      goto done;
    L->n++;
  }
  rc = 0;
done:
  tarn_avro_close(af);
  free(buf);
  return rc;
}

static int read_manifest_list(const iceberg_table *t, file_list *L, const iceberg_snapshot *s,
                              bool include_deleted, tarn_error *err) {
  const char *path = resolve_path(t, &L->arena, s->manifest_list);
  if (path == NULL) return tarn_err(err, TARN_ENOMEM, "iceberg: out of memory");
  char *buf;
  tarn_avro_file *af;
  int rc = open_avro("manifest list", path, &buf, &af, err);
  if (rc) return rc;
  manifest_ctx c = {"manifest list", path, 0};
  tarn_avro_value rec;
  for (;;) {
    rc = tarn_avro_next(af, &rec, err);
    if (rc == 0) break;
    if (rc < 0) {
      tarn_err_prefix(err, "iceberg: manifest list %s", path);
      goto done;
    }
    c.entry++;
    manifest_info mi;
    const char *raw;
    int64_t spec, content;
    if ((rc = get_string_field(&L->arena, &rec, "manifest_path", true, &raw, &c, err)) ||
        (rc = get_long_field(&rec, "partition_spec_id", true, 0, &spec, &c, err)) ||
        (rc = get_long_field(&rec, "content", false, 0, &content, &c, err)) ||
        (rc = get_long_field(&rec, "sequence_number", false, 0, &mi.sequence_number, &c, err)) ||
        (rc = get_long_field(&rec, "added_snapshot_id", false, s->snapshot_id,
                             &mi.added_snapshot_id, &c, err)))
      goto done;
    if (content < 0 || content > 1 || spec < 0 || spec > INT32_MAX) {
      rc = CTX_ERR(err, &c, TARN_ECORRUPT, "bad content %lld or partition_spec_id %lld",
                   (long long)content, (long long)spec);
      goto done;
    }
    mi.content = (iceberg_content)content;
    mi.spec_id = (int32_t)spec;
    if ((mi.path = resolve_path(t, &L->arena, raw)) == NULL) {
      rc = tarn_err(err, TARN_ENOMEM, "iceberg: out of memory");
      goto done;
    }
    if ((rc = read_manifest(t, L, &mi, include_deleted, err))) goto done;
  }
  rc = 0;
done:
  tarn_avro_close(af);
  free(buf);
  return rc;
}

int iceberg_snapshot_files(iceberg_table *t, const iceberg_snapshot *snap, bool include_deleted,
                           iceberg_file **files, size_t *n, tarn_error *err) {
  *files = NULL;
  *n = 0;
  if (snap == NULL) snap = iceberg_meta_current_snapshot(t->meta);
  if (snap == NULL) return 0;
  file_list L = {0};
  int rc = 0;
  if (snap->manifest_list != NULL) {
    rc = read_manifest_list(t, &L, snap, include_deleted, err);
  } else {
    for (size_t k = 0; k < snap->n_manifests && rc == 0; k++) {
      manifest_info mi = {NULL, -1, ICEBERG_CONTENT_DATA, 0, snap->snapshot_id};
      if ((mi.path = resolve_path(t, &L.arena, snap->manifests[k])) == NULL)
        rc = tarn_err(err, TARN_ENOMEM, "iceberg: out of memory");
      else
        rc = read_manifest(t, &L, &mi, include_deleted, err);
    }
  }
  files_header *h = NULL;
  if (rc == 0) {
    h = malloc(FILES_HEADER_SIZE + (L.n ? L.n : 1) * sizeof(iceberg_file));
    if (h == NULL) rc = tarn_err(err, TARN_ENOMEM, "iceberg: out of memory");
  }
  if (rc) {
    free(L.v);
    tarn_arena_free(&L.arena);
    return rc;
  }
  h->arena = L.arena;
  h->n = L.n;
  iceberg_file *out = (iceberg_file *)(void *)((char *)h + FILES_HEADER_SIZE);
  if (L.n) memcpy(out, L.v, L.n * sizeof *out);
  free(L.v);
  *files = out;
  *n = L.n;
  return 0;
}

void iceberg_files_free(iceberg_file *files) {
  if (files == NULL) return;
  files_header *h = (files_header *)(void *)((char *)files - FILES_HEADER_SIZE);
  tarn_arena_free(&h->arena);
  free(h);
}

const tarn_avro_value *iceberg_file_partition_value(const iceberg_file *f, size_t i) {
  if (f->partition == NULL || f->partition->kind != TARN_AVRO_RECORD ||
      i >= f->partition->u.record.n)
    return NULL;
  return &f->partition->u.record.fields[i];
}
