/*
 * VACUUM and RESTORE of Delta tables (see delta_maint.h for the rules and why).
 *
 * Vacuum compares names, so every path the log gives is brought to one form first: percent
 * escapes decoded, relative to the table directory, "." and ".." components resolved. A path the
 * log gives that cannot be resolved inside the table (an absolute path elsewhere, "../x") is
 * simply not a file vacuum could delete.
 */
#include "table/delta/delta_maint.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "common/path.h"
#include "table/delta/delta_commit.h"
#include "table/delta/delta_log.h"
#include "table/delta/dv.h"

/* A commit file larger than this is refused rather than read into memory. */
#define MAINT_MAX_COMMIT ((uint64_t)1 << 30)
/* Directories nested deeper than this below the table are not descended into (and so kept). */
#define MAINT_MAX_DEPTH 64

static int oom(tarn_error *err) { return tarn_err(err, TARN_ENOMEM, "out of memory"); }

static int64_t clock_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- Durations ------------------------------------------------------------------------------ */

int delta_parse_interval_ms(const char *text, int64_t *ms, tarn_error *err) {
  static const struct {
    const char *unit;
    int64_t micros;
  } units[] = {{"week", INT64_C(604800000000)},
               {"day", INT64_C(86400000000)},
               {"hour", INT64_C(3600000000)},
               {"minute", INT64_C(60000000)},
               {"second", INT64_C(1000000)},
               {"millisecond", 1000},
               {"microsecond", 1}};
  *ms = 0;
  const char *p = text ? text : "";
  while (isspace((unsigned char)*p))
    p++;
  if (strncasecmp(p, "interval", 8) == 0 && (p[8] == 0 || isspace((unsigned char)p[8]))) p += 8;
  int64_t total = 0;
  int parts = 0;
  for (;;) {
    while (isspace((unsigned char)*p))
      p++;
    if (*p == 0) break;
    if (!isdigit((unsigned char)*p)) goto bad;
    int64_t n = 0;
    while (isdigit((unsigned char)*p)) {
      if (n > (INT64_MAX - 9) / 10) goto bad;
      n = n * 10 + (*p++ - '0');
    }
    while (isspace((unsigned char)*p))
      p++;
    const char *u = p;
    while (isalpha((unsigned char)*p))
      p++;
    size_t ul = (size_t)(p - u);
    if (ul > 1 && (u[ul - 1] == 's' || u[ul - 1] == 'S')) ul--; /* plural */
    if ((ul == 5 && strncasecmp(u, "month", 5) == 0) || (ul == 4 && strncasecmp(u, "year", 4) == 0))
      return tarn_err(err, TARN_EINVAL,
                      "duration '%s': months and years are not allowed (they have no fixed "
                      "length); give weeks, days or hours",
                      text);
    int64_t per = 0;
    for (size_t k = 0; k < sizeof units / sizeof units[0]; k++)
      if (strlen(units[k].unit) == ul && strncasecmp(u, units[k].unit, ul) == 0)
        per = units[k].micros;
    if (per == 0 || n > (INT64_MAX - total) / per) goto bad;
    total += n * per;
    parts++;
  }
  if (parts == 0) goto bad;
  *ms = total / 1000;
  return 0;
bad:
  return tarn_err(err, TARN_EINVAL,
                  "duration '%s' is not understood (expected a form like 'interval 1 week' or "
                  "'interval 168 hours')",
                  text ? text : "");
}

/* ---- Paths ---------------------------------------------------------------------------------- */

/* Resolves "." and ".." in a relative path, in place; false when it leaves the table or names
 * nothing. Repeated slashes collapse. */
static bool normalize_rel(char *s) {
  char *out = s;
  const char *p = s;
  while (*p) {
    while (*p == '/')
      p++;
    const char *e = p;
    while (*e && *e != '/')
      e++;
    size_t n = (size_t)(e - p);
    if (n == 0) break;
    if (n == 1 && p[0] == '.') {
      /* nothing */
    } else if (n == 2 && p[0] == '.' && p[1] == '.') {
      if (out == s) return false; /* above the table */
      out--;
      while (out > s && out[-1] != '/')
        out--;
      if (out > s) out--; /* drop the slash before the component */
    } else {
      if (out != s) *out++ = '/';
      memmove(out, p, n);
      out += n;
    }
    p = e;
  }
  *out = 0;
  return out != s;
}

/* The path inside the table (relative, decoded, normalized; malloc'd) of a path as the log
 * writes it; NULL when it is outside the table or out of memory (*oom tells which). */
static char *table_rel(const char *table_real, const char *log_path, bool *no_mem) {
  bool absolute;
  char *d = delta_path_decode(log_path, &absolute);
  *no_mem = d == NULL;
  if (d == NULL) return NULL;
  if (absolute) {
    size_t tl = strlen(table_real);
    if (table_real[0] == 0 || strncmp(d, table_real, tl) != 0 || d[tl] != '/') {
      free(d);
      return NULL;
    }
    memmove(d, d + tl + 1, strlen(d + tl + 1) + 1);
  }
  if (!normalize_rel(d)) {
    free(d);
    return NULL;
  }
  return d;
}

/* The log path of the file holding a deletion vector ('u': <prefix>/deletion_vector_<uuid>.bin
 * relative to the table; 'p': the absolute path); NULL for inline vectors. */
static int dv_log_path(const char *storage, const char *path_or_inline, char **out,
                       tarn_error *err) {
  *out = NULL;
  if (storage[0] == 'p' && storage[1] == 0) {
    if ((*out = strdup(path_or_inline)) == NULL) return oom(err);
    return 0;
  }
  if (storage[0] != 'u' || storage[1] != 0) return 0;
  size_t len = strlen(path_or_inline);
  uint8_t u[16];
  size_t got = 0;
  if (len < 20)
    return tarn_err(err, TARN_ECORRUPT, "deletion vector id '%s' is too short", path_or_inline);
  int rc = delta_z85_decode(path_or_inline + len - 20, 20, u, sizeof u, &got, err);
  if (rc) return rc;
  size_t plen = len - 20, cap = plen + 80;
  char *s = malloc(cap);
  if (s == NULL) return oom(err);
  snprintf(s, cap,
           "%.*s%sdeletion_vector_%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
           "%02x%02x%02x%02x%02x%02x.bin",
           (int)plen, path_or_inline, plen ? "/" : "", u[0], u[1], u[2], u[3], u[4], u[5], u[6],
           u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
  *out = s;
  return 0;
}

/* ---- VACUUM: the files still needed ------------------------------------------------------- */

typedef struct strset {
  char **items;
  size_t n, cap;
} strset;

static void strset_free(strset *s) {
  for (size_t i = 0; i < s->n; i++)
    free(s->items[i]);
  free(s->items);
  memset(s, 0, sizeof *s);
}

static int cmp_cstr(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool strset_has(const strset *s, const char *key) {
  return s->n && bsearch(&key, s->items, s->n, sizeof *s->items, cmp_cstr) != NULL;
}

typedef struct needed {
  const char *table, *table_real;
  strset files;
  tarn_error *err;
} needed;

/* Records a path the log names (and owns nothing of it). */
static int need_path(needed *nd, const char *log_path) {
  bool no_mem;
  char *rel = table_rel(nd->table_real, log_path, &no_mem);
  if (rel == NULL) return no_mem ? oom(nd->err) : 0;
  if (nd->files.n == nd->files.cap) {
    size_t cap = nd->files.cap ? nd->files.cap * 2 : 256;
    char **p = realloc(nd->files.items, cap * sizeof *p);
    if (p == NULL) {
      free(rel);
      return oom(nd->err);
    }
    nd->files.items = p;
    nd->files.cap = cap;
  }
  nd->files.items[nd->files.n++] = rel;
  return 0;
}

static int need_dv(needed *nd, char storage_type, const char *path_or_inline) {
  char st[2] = {storage_type, 0};
  char *p = NULL;
  int rc = path_or_inline ? dv_log_path(st, path_or_inline, &p, nd->err) : 0;
  if (rc == 0 && p) rc = need_path(nd, p);
  free(p);
  return rc;
}

static int need_snapshot(needed *nd, const delta_snapshot *s) {
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < s->n_files; i++) {
    rc = need_path(nd, s->files[i].path);
    if (rc == 0 && s->files[i].dv.storage_type)
      rc = need_dv(nd, s->files[i].dv.storage_type, s->files[i].dv.path_or_inline);
  }
  return rc;
}

/* Every file (and deletion vector file) an add, remove or cdc action of commit v names. */
static int need_commit(needed *nd, int64_t v) {
  char rel[64];
  snprintf(rel, sizeof rel, "_delta_log/%020" PRId64 ".json", v);
  char *path = tarn_path_join(nd->table, rel);
  if (path == NULL) return oom(nd->err);
  FILE *f = fopen(path, "rb");
  free(path);
  if (f == NULL)
    return tarn_err(nd->err, TARN_EINVAL,
                    "delta table %s: %s is missing, so the files it added cannot be known; "
                    "vacuum refuses to guess",
                    nd->table, rel);
  /* getline grows its buffer to the longest line: bound that by the file's size first */
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || st.st_size < 0 || (uint64_t)st.st_size > MAINT_MAX_COMMIT) {
    fclose(f);
    return tarn_err(nd->err, TARN_ENOMEM, "delta table %s: %s is too large to read", nd->table,
                    rel);
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  int rc = 0, line_no = 0;
  while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
    line_no++;
    cJSON *j = cJSON_ParseWithLength(line, (size_t)len);
    bool blank = strspn(line, " \t\r\n") == (size_t)len;
    if (j == NULL && !blank)
      rc = tarn_err(nd->err, TARN_ECORRUPT, "delta table %s: %s line %d is not JSON", nd->table,
                    rel, line_no);
    static const char *const kinds[] = {"add", "remove", "cdc"};
    for (size_t k = 0; rc == 0 && j && k < 3; k++) {
      const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, kinds[k]);
      const cJSON *p = cJSON_GetObjectItemCaseSensitive(a, "path");
      if (cJSON_IsString(p)) rc = need_path(nd, p->valuestring);
      const cJSON *dv = cJSON_GetObjectItemCaseSensitive(a, "deletionVector");
      const cJSON *st = cJSON_GetObjectItemCaseSensitive(dv, "storageType");
      const cJSON *pi = cJSON_GetObjectItemCaseSensitive(dv, "pathOrInlineDv");
      if (rc == 0 && cJSON_IsString(st) && cJSON_IsString(pi) && strlen(st->valuestring) == 1)
        rc = need_dv(nd, st->valuestring[0], pi->valuestring);
    }
    cJSON_Delete(j);
  }
  free(line);
  if (rc == 0 && ferror(f))
    rc = tarn_err(nd->err, TARN_EIO, "delta table %s: cannot read %s", nd->table, rel);
  fclose(f);
  return rc;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

/* The commit versions whose files are in the log, ascending (malloc'd). */
static int list_commits(const char *table, int64_t **out, size_t *n, tarn_error *err) {
  *out = NULL;
  *n = 0;
  char *log = tarn_path_join(table, "_delta_log");
  if (log == NULL) return oom(err);
  DIR *d = opendir(log);
  free(log);
  if (d == NULL)
    return tarn_err(err, TARN_EIO, "delta table %s: cannot list _delta_log: %s", table,
                    strerror(errno));
  size_t cap = 0;
  int rc = 0;
  struct dirent *e;
  while (rc == 0 && (e = readdir(d)) != NULL) {
    const char *name = e->d_name;
    if (strlen(name) != 25 || strcmp(name + 20, ".json") != 0) continue;
    int64_t v = 0;
    bool digits = true;
    for (int i = 0; i < 20 && digits; i++) {
      digits = isdigit((unsigned char)name[i]);
      if (digits && v > (INT64_MAX - 9) / 10) digits = false;
      if (digits) v = v * 10 + (name[i] - '0');
    }
    if (!digits) continue;
    if (*n == cap) {
      cap = cap ? cap * 2 : 64;
      int64_t *p = realloc(*out, cap * sizeof *p);
      if (p == NULL) {
        rc = oom(err);
        break;
      }
      *out = p;
    }
    (*out)[(*n)++] = v;
  }
  closedir(d);
  if (rc == 0 && *n) qsort(*out, *n, sizeof **out, cmp_i64);
  return rc;
}

/* The snapshot the retention period starts from: the version in force at cutoff_ms, else (the
 * table is younger than the period, or the log no longer reconstructs that version) the oldest
 * version the log can still reconstruct; older versions cannot be read any more, so their files
 * need not be kept for them. */
static int base_snapshot(const char *table, int64_t cutoff_ms, const delta_snapshot *latest,
                         delta_snapshot **out, tarn_error *err) {
  tarn_error e = {0};
  int rc = delta_snapshot_load_at(table, cutoff_ms, out, &e);
  if (rc == 0) return 0;
  if (rc == TARN_ENOMEM || rc == TARN_EIO) {
    *err = e;
    return rc;
  }
  int64_t *versions = NULL;
  size_t n = 0;
  rc = list_commits(table, &versions, &n, err);
  for (size_t i = 0; rc == 0 && i < n && versions[i] <= latest->version; i++) {
    tarn_error ignore = {0};
    if (delta_snapshot_load(table, versions[i], out, &ignore) == 0) {
      free(versions);
      return 0;
    }
  }
  free(versions);
  if (rc) return rc;
  return delta_snapshot_load(table, latest->version, out, err);
}

/* Writer protocol tarn understands well enough to know every file a table can reference. */
static int check_writer_protocol(const delta_snapshot *s, tarn_error *err) {
  static const char *const known[] = {
      "appendOnly",          "invariants",           "checkConstraints",    "changeDataFeed",
      "generatedColumns",    "columnMapping",        "identityColumns",     "deletionVectors",
      "rowTracking",         "timestampNtz",         "domainMetadata",      "v2Checkpoint",
      "icebergCompatV1",     "icebergCompatV2",      "clustering",          "vacuumProtocolCheck",
      "typeWidening",        "typeWidening-preview", "inCommitTimestamp",   "variantType",
      "variantType-preview", "allowColumnDefaults",  "checkpointProtection"};
  if (s->min_writer_version > 7)
    return tarn_err(err, TARN_EUNSUPPORTED,
                    "delta table %s: writer version %d is not supported (vacuum needs to know "
                    "every kind of file the table may reference)",
                    s->table_dir, s->min_writer_version);
  for (size_t i = 0; i < s->n_writer_features; i++) {
    bool ok = false;
    for (size_t k = 0; k < sizeof known / sizeof known[0] && !ok; k++)
      ok = strcmp(s->writer_features[i], known[k]) == 0;
    if (!ok)
      return tarn_err(err, TARN_EUNSUPPORTED,
                      "delta table %s: writer feature '%s' is not supported (vacuum needs to know "
                      "every kind of file the table may reference)",
                      s->table_dir, s->writer_features[i]);
  }
  return 0;
}

/* ---- VACUUM: the walk --------------------------------------------------------------------- */

typedef struct walker {
  const char *table;
  int64_t cutoff_ms;
  bool dry_run;
  const char *const *pcols; /* partition column names (logical and physical) */
  size_t n_pcols;
  const strset *needed;
  delta_vacuum_result *res;
  size_t cap_paths;
  tarn_error *err;
} walker;

/* delta-spark's isHiddenDirectory: names starting with '.' or '_' are not the table's data,
 * except change data, index directories and partition directories of '_' columns. */
static bool is_hidden(const walker *w, const char *name) {
  if (name[0] != '.' && name[0] != '_') return false;
  if (strncmp(name, "_delta_index", 12) == 0 || strncmp(name, "_change_data", 12) == 0)
    return false;
  for (size_t i = 0; i < w->n_pcols; i++) {
    size_t n = strlen(w->pcols[i]);
    if (strncmp(name, w->pcols[i], n) == 0 && name[n] == '=') return false;
  }
  return true;
}

static int record(walker *w, const char *rel, int64_t size) {
  delta_vacuum_result *r = w->res;
  if (r->n_paths == w->cap_paths) {
    size_t cap = w->cap_paths ? w->cap_paths * 2 : 64;
    const char **p = tarn_arena_calloc(&r->arena, cap, sizeof *p);
    if (p == NULL) return oom(w->err);
    if (r->n_paths) memcpy(p, r->paths, r->n_paths * sizeof *p);
    r->paths = p;
    w->cap_paths = cap;
  }
  if ((r->paths[r->n_paths] = tarn_arena_strndup(&r->arena, rel, strlen(rel))) == NULL)
    return oom(w->err);
  r->n_paths++;
  r->bytes += size;
  return 0;
}

static int cmp_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Vacuums directory rel ("" for the table itself). *emptied: nothing is left in it (or, dry
 * run, would be); *deleted: a file or directory below it was (or would be) deleted. */
static int walk(walker *w, const char *rel, int depth, bool *emptied, bool *deleted) {
  *emptied = true;
  *deleted = false;
  char *dir = rel[0] ? tarn_path_join(w->table, rel) : strdup(w->table);
  if (dir == NULL) return oom(w->err);
  DIR *d = opendir(dir);
  if (d == NULL) {
    int e = errno;
    free(dir);
    if (e == ENOENT && rel[0]) return 0; /* removed meanwhile */
    return tarn_err(w->err, TARN_EIO, "delta table %s: cannot list %s: %s", w->table,
                    rel[0] ? rel : ".", strerror(e));
  }
  /* Names first, then work: the directory changes as files go. Sorted, for a stable order. */
  char **names = NULL;
  size_t n = 0, cap = 0;
  int rc = 0;
  struct dirent *e;
  while (rc == 0 && (e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      char **p = realloc(names, cap * sizeof *p);
      if (p == NULL) {
        rc = oom(w->err);
        break;
      }
      names = p;
    }
    if ((names[n] = strdup(e->d_name)) == NULL) {
      rc = oom(w->err);
      break;
    }
    n++;
  }
  closedir(d);
  if (names) qsort(names, n, sizeof *names, cmp_name);
  for (size_t i = 0; rc == 0 && i < n; i++) {
    const char *name = names[i];
    if (is_hidden(w, name)) {
      *emptied = false;
      continue;
    }
    char *child_rel = rel[0] ? tarn_path_join(rel, name) : strdup(name);
    char *child = child_rel ? tarn_path_join(w->table, child_rel) : NULL;
    struct stat st;
    if (child == NULL) {
      rc = oom(w->err);
    } else if (lstat(child, &st) != 0) {
      if (errno != ENOENT)
        rc = tarn_err(w->err, TARN_EIO, "delta table %s: cannot stat %s: %s", w->table, child_rel,
                      strerror(errno));
    } else if (S_ISDIR(st.st_mode)) {
      int64_t mtime = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
      bool sub_empty = false, sub_deleted = false;
      if (depth < MAINT_MAX_DEPTH) rc = walk(w, child_rel, depth + 1, &sub_empty, &sub_deleted);
      *deleted |= sub_deleted;
      /* An empty directory goes when vacuum emptied it or nobody touched it within the
       * retention period; a fresh empty one may be a writer's about to be filled. */
      bool remove = rc == 0 && sub_empty && (sub_deleted || mtime < w->cutoff_ms);
      if (remove && !w->dry_run && rmdir(child) != 0) remove = false;
      if (remove) {
        w->res->n_dirs++;
        *deleted = true;
      } else {
        *emptied = false;
      }
    } else if (S_ISREG(st.st_mode) && !strset_has(w->needed, child_rel) &&
               (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000 < w->cutoff_ms) {
      if (w->dry_run || unlink(child) == 0) {
        rc = record(w, child_rel, (int64_t)st.st_size);
        *deleted = true;
      } else if (errno != ENOENT) {
        rc = tarn_err(w->err, TARN_EIO, "delta table %s: cannot delete %s: %s", w->table, child_rel,
                      strerror(errno));
      }
    } else {
      *emptied = false; /* needed, recent, or not a regular file (links are left alone) */
    }
    free(child);
    free(child_rel);
  }
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
  free(dir);
  return rc;
}

int delta_vacuum(const char *table_dir, const delta_vacuum_options *o, delta_vacuum_result *out,
                 tarn_error *err) {
  memset(out, 0, sizeof *out);
  delta_vacuum_options defaults = {.retention_ms = -1};
  if (o == NULL) o = &defaults;
  delta_snapshot *latest = NULL, *base = NULL;
  int rc = delta_snapshot_load(table_dir, -1, &latest, err);
  if (rc) return rc;
  out->version = latest->version;
  rc = check_writer_protocol(latest, err);
  const char *prop = delta_snapshot_config(latest, "delta.deletedFileRetentionDuration");
  out->table_retention_ms = DELTA_DEFAULT_RETENTION_MS;
  if (rc == 0 && prop) {
    rc = delta_parse_interval_ms(prop, &out->table_retention_ms, err);
    if (rc) tarn_err_prefix(err, "delta table %s: delta.deletedFileRetentionDuration", table_dir);
  }
  out->retention_ms = o->retention_ms >= 0 ? o->retention_ms : out->table_retention_ms;
  if (rc == 0 && out->retention_ms < out->table_retention_ms && !o->force) {
    char have[64], want[64];
    snprintf(have, sizeof have, "%.6g", (double)out->retention_ms / 3600000.0);
    snprintf(want, sizeof want, "%.6g", (double)out->table_retention_ms / 3600000.0);
    rc = tarn_err(err, TARN_EINVAL,
                  "delta table %s: a retention of %s hours is below the table's minimum of %s "
                  "hours (delta.deletedFileRetentionDuration): it could delete files that time "
                  "travel or a running writer still needs; force it only if no one is writing",
                  table_dir, have, want);
  }
  int64_t now = o->now_ms ? o->now_ms : clock_ms();
  int64_t cutoff = now - out->retention_ms;
  if (rc == 0) rc = base_snapshot(table_dir, cutoff, latest, &base, err);

  char real[PATH_MAX];
  needed nd = {.table = table_dir, .table_real = realpath(table_dir, real) ? real : "", .err = err};
  if (rc == 0) rc = need_snapshot(&nd, latest);
  if (rc == 0) rc = need_snapshot(&nd, base);
  for (int64_t v = base ? base->version + 1 : 0; rc == 0 && base && v <= latest->version; v++)
    rc = need_commit(&nd, v);
  if (rc == 0) qsort(nd.files.items, nd.files.n, sizeof *nd.files.items, cmp_cstr);

  /* partition directory names: logical and (column mapping) physical names */
  const char **pcols = calloc(2 * latest->n_partition_columns + 1, sizeof *pcols);
  size_t n_pcols = 0;
  if (rc == 0 && pcols == NULL) rc = oom(err);
  for (size_t i = 0; rc == 0 && i < latest->n_partition_columns; i++) {
    pcols[n_pcols++] = latest->partition_columns[i];
    for (size_t f = 0; latest->schema && f < latest->schema->n_fields; f++)
      if (strcmp(latest->schema->fields[f].name, latest->partition_columns[i]) == 0 &&
          latest->schema->fields[f].physical_name)
        pcols[n_pcols++] = latest->schema->fields[f].physical_name;
  }
  if (rc == 0) {
    walker w = {.table = table_dir,
                .cutoff_ms = cutoff,
                .dry_run = o->dry_run,
                .pcols = pcols,
                .n_pcols = n_pcols,
                .needed = &nd.files,
                .res = out,
                .err = err};
    bool emptied, deleted;
    rc = walk(&w, "", 0, &emptied, &deleted);
    if (out->n_paths) qsort((void *)out->paths, out->n_paths, sizeof *out->paths, cmp_name);
  }
  free(pcols);
  strset_free(&nd.files);
  delta_snapshot_free(base);
  delta_snapshot_free(latest);
  return rc;
}

void delta_vacuum_result_free(delta_vacuum_result *r) {
  if (r == NULL) return;
  tarn_arena_free(&r->arena);
  memset(r, 0, sizeof *r);
}

/* ---- RESTORE -------------------------------------------------------------------------------- */

/* A file's identity in a snapshot: its path and its deletion vector's unique id. */
typedef struct file_key {
  char *key;
  size_t index;
} file_key;

static int cmp_file_key(const void *a, const void *b) {
  return strcmp(((const file_key *)a)->key, ((const file_key *)b)->key);
}

static int file_keys(const delta_snapshot *s, file_key **out, tarn_error *err) {
  *out = calloc(s->n_files + 1, sizeof **out);
  if (*out == NULL) return oom(err);
  for (size_t i = 0; i < s->n_files; i++) {
    const delta_file *f = &s->files[i];
    const char *dv = f->dv.storage_type ? f->dv.path_or_inline : "";
    size_t n = strlen(f->path) + strlen(dv) + 32;
    char *k = malloc(n);
    if (k == NULL) {
      for (size_t j = 0; j < i; j++)
        free((*out)[j].key);
      free(*out);
      *out = NULL;
      return oom(err);
    }
    /* \x01 sorts below every character of a path, so "a" and "a/b" keys stay apart */
    snprintf(k, n, "%s\x01%c%s@%d", f->path, f->dv.storage_type ? f->dv.storage_type : '-', dv,
             (int)f->dv.offset);
    (*out)[i] = (file_key){k, i};
  }
  qsort(*out, s->n_files, sizeof **out, cmp_file_key);
  return 0;
}

static void free_keys(file_key *k, size_t n) {
  for (size_t i = 0; k && i < n; i++)
    free(k[i].key);
  free(k);
}

/* Marks in only_a[i] the files of a (by snapshot index) that b does not have. */
static void key_diff(const file_key *a, size_t na, const file_key *b, size_t nb, bool *only_a) {
  size_t j = 0;
  for (size_t i = 0; i < na; i++) {
    while (j < nb && strcmp(b[j].key, a[i].key) < 0)
      j++;
    only_a[a[i].index] = !(j < nb && strcmp(b[j].key, a[i].key) == 0);
  }
}

/* Whether a file the target needs is on disk; its size in *size when it is. */
static int file_present(const char *table, const char *log_path, bool *present, int64_t *size,
                        tarn_error *err) {
  char *full = delta_file_local_path(table, log_path);
  if (full == NULL) return oom(err);
  struct stat st;
  *present = stat(full, &st) == 0 && S_ISREG(st.st_mode);
  *size = *present ? (int64_t)st.st_size : -1;
  free(full);
  return 0;
}

static bool same_strings(const char *const *a, size_t na, const char *const *b, size_t nb) {
  if (na != nb) return false;
  for (size_t i = 0; i < na; i++)
    if (strcmp(a[i], b[i]) != 0) return false;
  return true;
}

static bool same_metadata(const delta_snapshot *a, const delta_snapshot *b) {
  if (strcmp(a->schema_string, b->schema_string) != 0 ||
      !same_strings(a->partition_columns, a->n_partition_columns, b->partition_columns,
                    b->n_partition_columns) ||
      a->n_config != b->n_config)
    return false;
  for (size_t i = 0; i < a->n_config; i++) {
    const char *v = delta_snapshot_config(b, a->config_keys[i]);
    if (v == NULL || strcmp(v, a->config_values[i]) != 0) return false;
  }
  return true;
}

/* A protocol as version numbers and feature sets (up to a fixed number of features). */
#define MAX_FEATURES 64
typedef struct protocol {
  int reader, writer;
  const char *rf[MAX_FEATURES], *wf[MAX_FEATURES];
  size_t n_rf, n_wf;
} protocol;

static bool has_feature(const char *const *list, size_t n, const char *f) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(list[i], f) == 0) return true;
  return false;
}

static int add_feature(const char **list, size_t *n, const char *f, tarn_error *err) {
  if (has_feature(list, *n, f)) return 0;
  if (*n == MAX_FEATURES) return tarn_err(err, TARN_EUNSUPPORTED, "too many table features");
  list[(*n)++] = f;
  return 0;
}

/* The features a legacy protocol version implies (PROTOCOL.md "Table Features"), added when a
 * merged protocol lists features explicitly. */
static int legacy_features(const delta_snapshot *s, protocol *p, tarn_error *err) {
  static const struct {
    int writer;
    const char *name;
  } w[] = {{2, "appendOnly"},     {2, "invariants"},       {3, "checkConstraints"},
           {4, "changeDataFeed"}, {4, "generatedColumns"}, {5, "columnMapping"},
           {6, "identityColumns"}};
  int rc = 0;
  if (s->min_writer_version < 7)
    for (size_t i = 0; rc == 0 && i < sizeof w / sizeof w[0]; i++)
      if (s->min_writer_version >= w[i].writer) rc = add_feature(p->wf, &p->n_wf, w[i].name, err);
  if (rc == 0 && p->reader == 3 && s->min_reader_version == 2)
    rc = add_feature(p->rf, &p->n_rf, "columnMapping", err);
  return rc;
}

/* Delta's Protocol.merge: the greater versions, and the union of the features (explicit, plus
 * those a legacy side implies when the result lists them). */
static int merge_protocol(const delta_snapshot *cur, const delta_snapshot *tgt, protocol *p,
                          tarn_error *err) {
  memset(p, 0, sizeof *p);
  p->reader = cur->min_reader_version > tgt->min_reader_version ? cur->min_reader_version
                                                                : tgt->min_reader_version;
  p->writer = cur->min_writer_version > tgt->min_writer_version ? cur->min_writer_version
                                                                : tgt->min_writer_version;
  const delta_snapshot *both[2] = {cur, tgt};
  int rc = 0;
  for (int k = 0; rc == 0 && k < 2; k++) {
    const delta_snapshot *s = both[k];
    for (size_t i = 0; rc == 0 && p->reader == 3 && i < s->n_reader_features; i++)
      rc = add_feature(p->rf, &p->n_rf, s->reader_features[i], err);
    for (size_t i = 0; rc == 0 && p->writer == 7 && i < s->n_writer_features; i++)
      rc = add_feature(p->wf, &p->n_wf, s->writer_features[i], err);
    if (rc == 0 && p->writer == 7) rc = legacy_features(s, p, err);
  }
  for (size_t i = 0; rc == 0 && i < p->n_rf; i++) /* every reader feature is a writer one */
    rc = add_feature(p->wf, &p->n_wf, p->rf[i], err);
  return rc;
}

static bool same_feature_set(const char *const *a, size_t na, const char *const *b, size_t nb) {
  if (na != nb) return false;
  for (size_t i = 0; i < na; i++)
    if (!has_feature(b, nb, a[i])) return false;
  return true;
}

/* "2024-01-02 03:04:05.678" (UTC), the form delta-spark records a restore timestamp in. */
static void ms_text(int64_t ms, char *out, size_t cap) {
  int64_t s = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  time_t t = (time_t)s;
  struct tm tm;
  gmtime_r(&t, &tm);
  snprintf(out, cap, "%04d-%02d-%02d %02d:%02d:%02d.%03d", tm.tm_year + 1900, tm.tm_mon + 1,
           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms - s * 1000));
}

int delta_restore(const char *table_dir, int64_t version, int64_t timestamp_ms,
                  delta_restore_result *out, tarn_error *err) {
  memset(out, 0, sizeof *out);
  if (!delta_is_table(table_dir))
    return tarn_err(err, TARN_EINVAL, "%s is not a delta table (no _delta_log)", table_dir);
  bool by_time = timestamp_ms != INT64_MIN;
  if (!by_time && version < 0)
    return tarn_err(err, TARN_EINVAL, "delta table %s: no version %lld to restore", table_dir,
                    (long long)version);
  delta_txn *t = NULL;
  delta_snapshot *tgt = NULL;
  file_key *kc = NULL, *kt = NULL;
  bool *only_cur = NULL, *only_tgt = NULL;
  int rc = delta_txn_begin(table_dir, &t, err);
  const delta_snapshot *cur = rc == 0 ? delta_txn_snapshot(t) : NULL;
  if (rc == 0 && cur == NULL)
    rc = tarn_err(err, TARN_EINVAL, "%s is not a delta table (no commits)", table_dir);
  if (rc == 0)
    rc = by_time ? delta_snapshot_load_at(table_dir, timestamp_ms, &tgt, err)
                 : delta_snapshot_load(table_dir, version, &tgt, err);
  if (rc == 0 && tgt->version >= cur->version)
    rc = tarn_err(err, TARN_EINVAL,
                  "delta table %s: the version to restore (%lld) must be older than the latest "
                  "version (%lld)",
                  table_dir, (long long)tgt->version, (long long)cur->version);
  if (rc == 0) rc = file_keys(cur, &kc, err);
  if (rc == 0) rc = file_keys(tgt, &kt, err);
  if (rc == 0) {
    only_cur = calloc(cur->n_files + 1, sizeof *only_cur);
    only_tgt = calloc(tgt->n_files + 1, sizeof *only_tgt);
    if (only_cur == NULL || only_tgt == NULL) rc = oom(err);
  }
  if (rc == 0) {
    key_diff(kc, cur->n_files, kt, tgt->n_files, only_cur);
    key_diff(kt, tgt->n_files, kc, cur->n_files, only_tgt);
  }
  /* Every file to bring back must still exist: a vacuumed one would make the restored version
   * unreadable. Counted and named (the first three) in one error. */
  int64_t *sizes = rc == 0 ? calloc(tgt->n_files + 1, sizeof *sizes) : NULL;
  if (rc == 0 && sizes == NULL) rc = oom(err);
  size_t missing = 0;
  char names[3][256];
  for (size_t i = 0; rc == 0 && i < tgt->n_files; i++) {
    if (!only_tgt[i]) continue;
    const delta_file *f = &tgt->files[i];
    bool present;
    rc = file_present(table_dir, f->path, &present, &sizes[i], err);
    char *dv = NULL;
    if (rc == 0 && present && f->dv.storage_type) {
      char st[2] = {f->dv.storage_type, 0};
      rc = dv_log_path(st, f->dv.path_or_inline, &dv, err);
      int64_t ignored;
      if (rc == 0 && dv) rc = file_present(table_dir, dv, &present, &ignored, err);
    }
    if (rc == 0 && !present) {
      if (missing < 3) snprintf(names[missing], sizeof names[missing], "%s", dv ? dv : f->path);
      missing++;
    }
    free(dv);
  }
  if (rc == 0 && missing)
    rc = tarn_err(err, TARN_EINVAL,
                  "delta table %s: cannot restore version %lld: %zu of its files no longer exist "
                  "(vacuumed?): %s%s%s%s%s%s",
                  table_dir, (long long)tgt->version, missing, names[0], missing > 1 ? ", " : "",
                  missing > 1 ? names[1] : "", missing > 2 ? ", " : "", missing > 2 ? names[2] : "",
                  missing > 3 ? ", ..." : "");
  /* Removes first: the current table's delta.appendOnly governs them, not the target's. */
  for (size_t i = 0; rc == 0 && i < cur->n_files; i++)
    if (only_cur[i]) {
      rc = delta_txn_remove_file(t, &cur->files[i], err);
      out->n_removed++;
      out->removed_bytes += cur->files[i].size > 0 ? cur->files[i].size : 0;
    }
  if (rc == 0 && !same_metadata(cur, tgt))
    rc = delta_txn_set_metadata(t, tgt->schema_string, tgt->partition_columns,
                                tgt->n_partition_columns, tgt->config_keys, tgt->config_values,
                                tgt->n_config, err);
  protocol p;
  if (rc == 0) rc = merge_protocol(cur, tgt, &p, err);
  if (rc == 0 && (p.reader != cur->min_reader_version || p.writer != cur->min_writer_version ||
                  (p.reader == 3 &&
                   !same_feature_set(p.rf, p.n_rf, cur->reader_features, cur->n_reader_features)) ||
                  (p.writer == 7 &&
                   !same_feature_set(p.wf, p.n_wf, cur->writer_features, cur->n_writer_features))))
    rc = delta_txn_set_protocol(t, p.reader, p.writer, p.rf, p.n_rf, p.wf, p.n_wf, err);
  for (size_t i = 0; rc == 0 && i < tgt->n_files; i++)
    if (only_tgt[i]) {
      const delta_file *f = &tgt->files[i];
      int64_t size = f->size >= 0 ? f->size : sizes[i];
      rc = delta_txn_add_file_dv(t, f->path, f->partition_values, size,
                                 f->modification_time >= 0 ? f->modification_time : 0, f->stats,
                                 f->dv.storage_type ? &f->dv : NULL, err);
      out->n_restored++;
      out->restored_bytes += size;
    }
  if (rc == 0) {
    char params[128], when[48];
    if (by_time) {
      ms_text(timestamp_ms, when, sizeof when);
      snprintf(params, sizeof params, "{\"version\":null,\"timestamp\":\"%s\"}", when);
    } else {
      snprintf(params, sizeof params, "{\"version\":%lld,\"timestamp\":null}",
               (long long)tgt->version);
    }
    rc = delta_txn_set_operation(t, "RESTORE", params, err);
  }
  if (rc == 0) {
    /* delta-spark's RESTORE metrics: the table after it is the target's files */
    int64_t target_bytes = 0;
    for (size_t i = 0; rc == 0 && i < tgt->n_files; i++)
      target_bytes += tgt->files[i].size >= 0 ? tgt->files[i].size : sizes[i];
    const struct {
      const char *name;
      int64_t value;
    } metrics[] = {{"numRemovedFile", (int64_t)out->n_removed},
                   {"numRestoredFile", (int64_t)out->n_restored},
                   {"removedFilesSize", out->removed_bytes},
                   {"restoredFilesSize", out->restored_bytes},
                   {"numOfFilesAfterRestore", (int64_t)tgt->n_files},
                   {"tableSizeAfterRestore", target_bytes}};
    for (size_t i = 0; rc == 0 && i < sizeof metrics / sizeof metrics[0]; i++)
      rc = delta_txn_set_metric(t, metrics[i].name, metrics[i].value, err);
  }
  /* No retry: a restore decided against one latest version must not land on another. */
  if (rc == 0) rc = delta_txn_commit(t, 0, &out->version, err);
  if (rc == 0) out->restored_version = tgt->version;
  free(sizes);
  free(only_cur);
  free(only_tgt);
  if (cur) free_keys(kc, cur->n_files);
  if (tgt) free_keys(kt, tgt->n_files);
  delta_snapshot_free(tgt);
  delta_txn_free(t);
  return rc;
}
