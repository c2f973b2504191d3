/*
 * Delta log replay (see delta_log.h; the rules are PROTOCOL.md's "Action Reconciliation").
 *
 * Loading a version:
 *  1. list `_delta_log/` once: commits, complete checkpoints (classic, multi-part with every
 *     part present, v2 with sidecars), log compaction files; everything else (.crc, `._*`
 *     files) is skipped. The listing is authoritative: `_last_checkpoint` is only a hint that
 *     picks among several complete checkpoints of one version, so a stale or corrupt one cannot
 *     mislead the reader;
 *  2. read the newest checkpoint at or before the version as the base state (its remove actions
 *     are tombstones: they cancel no add of the checkpoint, whichever row comes first; an add with
 *     no `stats` but a `stats_parsed` struct gets the equivalent stats JSON);
 *  3. apply every later commit in order: an add or a remove replaces whatever the same logical
 *     file (path, deletion vector id) had, so each keeps its newest action, live for an add, a
 *     tombstone for a remove; the last protocol, metaData, txn per application and
 *     domainMetadata per domain win. A log compaction file `<x>.<y>.compacted.json` lying
 *     wholly within the commits to apply replaces commits x..y (the longest one from x). Its
 *     actions are reconciled already, so at most one action per file or key is expected; when
 *     a writer put several, the first one wins (the form kernel-rs reads: newest first). The
 *     commits x..y must still be listed: a compaction never stands in for a missing commit, and
 *     commit times and history always read the commits themselves;
 *  4. check the protocol against what tarn reads, parse the schema, map partition values to the
 *     partition columns, sort the live files by path, and keep the tombstones that have not
 *     expired (sorted the same way).
 *
 * A remove is parsed like an add, its optional fields leniently: a malformed size or partition
 * value of a tombstone is dropped rather than refused, since no reader depends on it.
 *
 * Everything read from the log is outside input: sizes are bounded, numbers range-checked,
 * and every error names the table and the file at fault.
 */
#include "table/delta/delta_log.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fs.h"
#include "common/path.h"
/* delta_parse_interval_ms: the one parser of Delta duration properties, so that tombstone
 * expiry here and vacuum read delta.deletedFileRetentionDuration the same way */
#include "table/delta/delta_maint.h"

/* A single log file (commit, JSON checkpoint) larger than this is refused rather than read. */
#define DELTA_MAX_JSON_FILE ((size_t)1 << 30)
/* A `_last_checkpoint` larger than this is ignored (it is only a hint; v2 writers may embed the
 * checkpoint's non-file actions in it, which tarn does not use). */
#define DELTA_MAX_LAST_CHECKPOINT ((size_t)4 << 20)
/* Nesting of schema types; deeper is refused (the recursion below follows it). */
#define DELTA_MAX_TYPE_DEPTH 200

/* ---- Small helpers -------------------------------------------------------------------------- */

static int oom(tarn_error *err) { return tarn_err(err, TARN_ENOMEM, "out of memory"); }

/* Reads a whole regular file into a malloc'd, NUL-terminated buffer. */
static int read_whole(const char *table, const char *path, const char *shown, char **out,
                      size_t *len, tarn_error *err) {
  int e = tarn_read_file(path, DELTA_MAX_JSON_FILE, out, len, NULL);
  if (e == 0) return 0;
  if (e == ENOMEM) return oom(err);
  if (e == EFBIG)
    return tarn_err(err, TARN_ENOMEM, "delta table %s: %s is larger than %zu bytes", table, shown,
                    (size_t)DELTA_MAX_JSON_FILE);
  return tarn_err(err, TARN_EIO, "delta table %s: cannot read %s: %s", table, shown,
                  e == EINVAL ? "not a regular file" : strerror(e));
}

static int64_t file_mtime_ms(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) return 0;
  return (int64_t)st.st_mtim.tv_sec * 1000 + (int64_t)(st.st_mtim.tv_nsec / 1000000);
}

bool delta_json_i64(const cJSON *j, int64_t *out) {
  if (!cJSON_IsNumber(j)) return false;
  double d = j->valuedouble;
  if (!isfinite(d) || d != floor(d) || d < -9.2e18 || d > 9.2e18) return false;
  *out = (int64_t)d;
  return true;
}

const char *delta_json_str(const cJSON *obj, const char *key) {
  const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);
  return cJSON_IsString(j) ? j->valuestring : NULL;
}

char *delta_path_decode(const char *log_path, bool *absolute) {
  const char *p = log_path;
  *absolute = p[0] == '/';
  if (strncmp(p, "file://", 7) == 0) {
    p += 7;
    *absolute = true;
  } else if (strncmp(p, "file:", 5) == 0) {
    p += 5;
    *absolute = true;
  }
  char *d = malloc(strlen(p) + 1);
  if (d) tarn_percent_decode(p, d);
  return d;
}

char *delta_file_local_path(const char *table_dir, const char *log_path) {
  bool absolute;
  char *d = delta_path_decode(log_path, &absolute);
  if (d == NULL || absolute) return d;
  char *full = tarn_path_join(table_dir, d);
  free(d);
  return full;
}

/* ---- A string-keyed hash map (open addressing; keys copied into the work arena) ------------- */

typedef struct strmap_entry {
  const char *key; /* NULL: empty slot */
  size_t key_len;
  uint64_t hash;
  void *value; /* NULL: present as a key but deleted (a removed file, a removed domain) */
} strmap_entry;

typedef struct strmap {
  strmap_entry *slots;
  size_t cap, used;
} strmap;

static uint64_t hash_bytes(const char *p, size_t n) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (size_t i = 0; i < n; i++)
    h = (h ^ (uint8_t)p[i]) * 1099511628211ull;
  return h ^ (h >> 29);
}

static int strmap_grow(strmap *m) {
  size_t cap = m->cap ? m->cap * 2 : 64;
  if (cap > SIZE_MAX / sizeof(strmap_entry) / 2) return -1;
  strmap_entry *s = calloc(cap, sizeof *s);
  if (s == NULL) return -1;
  for (size_t i = 0; i < m->cap; i++) {
    if (m->slots[i].key == NULL) continue;
    size_t j = m->slots[i].hash & (cap - 1);
    while (s[j].key)
      j = (j + 1) & (cap - 1);
    s[j] = m->slots[i];
  }
  free(m->slots);
  m->slots = s;
  m->cap = cap;
  return 0;
}

/* Sets key -> value (value NULL marks the key deleted). Returns 0, or -1 out of memory. */
static int strmap_put(strmap *m, tarn_arena *keys, const char *key, size_t len, void *value) {
  if ((m->used + 1) * 2 > m->cap && strmap_grow(m) != 0) return -1;
  uint64_t h = hash_bytes(key, len);
  size_t j = h & (m->cap - 1);
  while (m->slots[j].key) {
    strmap_entry *e = &m->slots[j];
    if (e->hash == h && e->key_len == len && memcmp(e->key, key, len) == 0) {
      e->value = value;
      return 0;
    }
    j = (j + 1) & (m->cap - 1);
  }
  if (value == NULL) return 0; /* deleting an absent key */
  char *k = tarn_arena_strndup(keys, key, len);
  if (k == NULL) return -1;
  m->slots[j] = (strmap_entry){k, len, h, value};
  m->used++;
  return 0;
}

static bool strmap_has(const strmap *m, const char *key, size_t len) {
  if (m->cap == 0) return false;
  uint64_t h = hash_bytes(key, len);
  for (size_t j = h & (m->cap - 1); m->slots[j].key; j = (j + 1) & (m->cap - 1)) {
    const strmap_entry *e = &m->slots[j];
    if (e->hash == h && e->key_len == len && memcmp(e->key, key, len) == 0) return true;
  }
  return false;
}

static void strmap_free(strmap *m) {
  free(m->slots);
  memset(m, 0, sizeof *m);
}

/* ---- Listing of _delta_log ------------------------------------------------------------------ */

enum { CP_CLASSIC, CP_MULTI, CP_V2 };

typedef struct cp_file {
  int64_t version;
  int kind;
  int part, n_parts; /* CP_MULTI */
  char *name;        /* file name inside _delta_log */
} cp_file;

/* A complete checkpoint: its files (several for a multi-part one, in part order). */
typedef struct checkpoint {
  int64_t version;
  int kind;
  char **names;
  int n_names;
} checkpoint;

/* What `_last_checkpoint` says, when it parses: which form of its version's checkpoint to read
 * when several are complete. */
typedef struct last_cp_hint {
  int64_t version; /* -1: none, or unusable */
  int64_t parts;   /* > 1: a multi-part checkpoint of that many parts */
  char *v2_name;   /* a UUID-named v2 checkpoint's file name, or NULL */
} last_cp_hint;

/* A log compaction file `<start>.<end>.compacted.json` (end > start). */
typedef struct compaction {
  int64_t start, end;
} compaction;

typedef struct log_listing {
  int64_t *commits; /* sorted ascending */
  size_t n_commits;
  cp_file *cp_files;
  size_t n_cp_files;
  /* complete checkpoints, sorted by version; several forms of one version are kept, the
   * classic one first, then multi-part, then v2 */
  checkpoint *cps;
  size_t n_cps;
  compaction *compactions;
  size_t n_compactions, cap_compactions;
  last_cp_hint hint;
} log_listing;

static void listing_free(log_listing *l) {
  free(l->commits);
  for (size_t i = 0; i < l->n_cp_files; i++)
    free(l->cp_files[i].name);
  free(l->cp_files);
  for (size_t i = 0; i < l->n_cps; i++)
    free(l->cps[i].names);
  free(l->cps);
  free(l->compactions);
  free(l->hint.v2_name);
  memset(l, 0, sizeof *l);
}

/* Parses exactly `digits` decimal digits at s; false on overflow or a non-digit. */
static bool parse_digits(const char *s, int digits, int64_t *out) {
  int64_t v = 0;
  for (int i = 0; i < digits; i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    if (v > (INT64_MAX - (s[i] - '0')) / 10) return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

static bool ends_with(const char *s, const char *suffix) {
  size_t ls = strlen(s), lx = strlen(suffix);
  return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

static int cmp_cp_file(const void *a, const void *b) {
  const cp_file *x = a, *y = b;
  if (x->version != y->version) return x->version < y->version ? -1 : 1;
  if (x->kind != y->kind) return x->kind < y->kind ? -1 : 1;
  if (x->n_parts != y->n_parts) return x->n_parts < y->n_parts ? -1 : 1;
  if (x->part != y->part) return x->part < y->part ? -1 : 1;
  return strcmp(x->name, y->name);
}

/* Classifies one file name of _delta_log into the listing (unknown names are ignored). */
static int listing_add_name(log_listing *l, const char *name, size_t *cap_commits, size_t *cap_cp) {
  int64_t version;
  size_t len = strlen(name);
  if (len < 21 || !parse_digits(name, 20, &version) || name[20] != '.') return 0;
  const char *rest = name + 21;
  if (strcmp(rest, "json") == 0) {
    if (l->n_commits == *cap_commits) {
      size_t c = *cap_commits ? *cap_commits * 2 : 64;
      int64_t *p = realloc(l->commits, c * sizeof *p);
      if (p == NULL) return -1;
      l->commits = p;
      *cap_commits = c;
    }
    l->commits[l->n_commits++] = version;
    return 0;
  }
  int64_t end;
  if (len == 21 + 20 + 15 && parse_digits(rest, 20, &end) &&
      strcmp(rest + 20, ".compacted.json") == 0) {
    if (end <= version) return 0; /* not a range: ignored */
    if (l->n_compactions == l->cap_compactions) {
      size_t c = l->cap_compactions ? l->cap_compactions * 2 : 8;
      compaction *p = realloc(l->compactions, c * sizeof *p);
      if (p == NULL) return -1;
      l->compactions = p;
      l->cap_compactions = c;
    }
    l->compactions[l->n_compactions++] = (compaction){version, end};
    return 0;
  }
  if (strncmp(rest, "checkpoint.", 11) != 0) return 0; /* .crc, ... */
  rest += 11;
  cp_file f = {version, CP_CLASSIC, 0, 0, NULL};
  int64_t part, n_parts;
  if (strcmp(rest, "parquet") == 0) {
    f.kind = CP_CLASSIC;
  } else if (strlen(rest) == 10 + 1 + 10 + 8 && parse_digits(rest, 10, &part) && rest[10] == '.' &&
             parse_digits(rest + 11, 10, &n_parts) && strcmp(rest + 21, ".parquet") == 0) {
    if (n_parts < 1 || part < 1 || part > n_parts || n_parts > 1000000) return 0;
    f.kind = CP_MULTI;
    f.part = (int)part;
    f.n_parts = (int)n_parts;
  } else if (ends_with(rest, ".json") || ends_with(rest, ".parquet")) {
    /* v2: checkpoint.<uuid>.json|parquet; the uuid itself has no dot */
    const char *dot = strchr(rest, '.');
    if (dot == rest || strchr(dot + 1, '.') != NULL) return 0;
    f.kind = CP_V2;
  } else {
    return 0;
  }
  if (l->n_cp_files == *cap_cp) {
    size_t c = *cap_cp ? *cap_cp * 2 : 16;
    cp_file *p = realloc(l->cp_files, c * sizeof *p);
    if (p == NULL) return -1;
    l->cp_files = p;
    *cap_cp = c;
  }
  f.name = strdup(name);
  if (f.name == NULL) return -1;
  l->cp_files[l->n_cp_files++] = f;
  return 0;
}

/* Groups checkpoint files into complete checkpoints (every complete form of a version, in the
 * order of cmp_cp_file: classic, multi-part, v2). */
static int listing_group(log_listing *l) {
  if (l->n_cp_files > 1) qsort(l->cp_files, l->n_cp_files, sizeof *l->cp_files, cmp_cp_file);
  l->cps = calloc(l->n_cp_files ? l->n_cp_files : 1, sizeof *l->cps);
  if (l->cps == NULL) return -1;
  for (size_t i = 0; i < l->n_cp_files;) {
    const cp_file *f = &l->cp_files[i];
    size_t j = i + 1;
    if (f->kind == CP_MULTI) {
      while (j < l->n_cp_files && l->cp_files[j].version == f->version &&
             l->cp_files[j].kind == CP_MULTI && l->cp_files[j].n_parts == f->n_parts)
        j++;
    }
    bool complete = true;
    int n_names = 1;
    if (f->kind == CP_MULTI) {
      /* parts sorted: complete when they are exactly 1..n (duplicates cannot occur: the part
       * numbers are in the names) */
      n_names = f->n_parts;
      complete = (size_t)f->n_parts == j - i;
      for (size_t k = i; complete && k < j; k++)
        if (l->cp_files[k].part != (int)(k - i) + 1) complete = false;
    }
    if (complete) {
      checkpoint *c = &l->cps[l->n_cps];
      c->names = calloc((size_t)n_names, sizeof *c->names);
      if (c->names == NULL) return -1;
      for (int k = 0; k < n_names; k++)
        c->names[k] = l->cp_files[i + (size_t)k].name;
      c->n_names = n_names;
      c->version = f->version;
      c->kind = f->kind;
      l->n_cps++;
    }
    i = j;
  }
  return 0;
}

/* Reads `_delta_log/_last_checkpoint` into h. Anything wrong with it (missing, too large,
 * truncated, not JSON, no version) leaves h without a version: the hint is dropped silently,
 * the listing decides. Returns -1 only when out of memory. */
static int read_last_checkpoint(const char *table, last_cp_hint *h) {
  h->version = -1;
  h->parts = 0;
  h->v2_name = NULL;
  char *path = tarn_path_join(table, "_delta_log/_last_checkpoint");
  if (path == NULL) return -1;
  struct stat st;
  char *text = NULL;
  size_t len = 0;
  tarn_error ignored = {0};
  if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
      (uint64_t)st.st_size > DELTA_MAX_LAST_CHECKPOINT ||
      read_whole(table, path, "_delta_log/_last_checkpoint", &text, &len, &ignored) != 0) {
    free(path);
    return 0;
  }
  free(path);
  cJSON *j = cJSON_ParseWithLength(text, len);
  free(text);
  int64_t v = 0, parts = 0;
  int rc = 0;
  if (cJSON_IsObject(j) && delta_json_i64(cJSON_GetObjectItemCaseSensitive(j, "version"), &v) &&
      v >= 0) {
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "parts");
    if (p == NULL || cJSON_IsNull(p) ||
        (delta_json_i64(p, &parts) && parts >= 1 && parts <= 1000000)) {
      h->version = v;
      h->parts = p && cJSON_IsNumber(p) ? parts : 0;
    }
    const cJSON *v2 = cJSON_GetObjectItemCaseSensitive(j, "v2Checkpoint");
    const char *name = cJSON_IsObject(v2) ? delta_json_str(v2, "path") : NULL;
    if (name && h->version >= 0) {
      const char *slash = strrchr(name, '/');
      if ((h->v2_name = strdup(slash ? slash + 1 : name)) == NULL) rc = -1;
    }
  }
  cJSON_Delete(j);
  return rc;
}

static int list_log(const char *table, log_listing *l, tarn_error *err) {
  memset(l, 0, sizeof *l);
  char *log_dir = tarn_path_join(table, "_delta_log");
  if (log_dir == NULL) return oom(err);
  DIR *d = opendir(log_dir);
  free(log_dir);
  if (d == NULL)
    return tarn_err(err, TARN_EINVAL, "delta table %s: not a Delta table (no _delta_log: %s)",
                    table, strerror(errno));
  size_t cap_commits = 0, cap_cp = 0;
  int rc = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (listing_add_name(l, e->d_name, &cap_commits, &cap_cp) != 0) {
      rc = oom(err);
      break;
    }
  }
  closedir(d);
  if (rc == 0 && listing_group(l) != 0) rc = oom(err);
  if (rc) {
    listing_free(l);
    return rc;
  }
  if (l->n_commits > 1) qsort(l->commits, l->n_commits, sizeof *l->commits, cmp_i64);
  if (read_last_checkpoint(table, &l->hint) != 0) {
    listing_free(l);
    return oom(err);
  }
  if (l->n_commits == 0 && l->n_cps == 0) {
    listing_free(l);
    return tarn_err(err, TARN_EINVAL, "delta table %s: _delta_log holds no commits", table);
  }
  return 0;
}

static bool listing_has_commit(const log_listing *l, int64_t v) {
  return l->n_commits > 0 && bsearch(&v, l->commits, l->n_commits, sizeof v, cmp_i64) != NULL;
}

static int64_t listing_latest(const log_listing *l) {
  int64_t v = l->n_commits ? l->commits[l->n_commits - 1] : -1;
  if (l->n_cps && l->cps[l->n_cps - 1].version > v) v = l->cps[l->n_cps - 1].version;
  return v;
}

static bool hint_matches(const last_cp_hint *h, const checkpoint *c) {
  if (h->version != c->version) return false;
  if (h->v2_name) return c->kind == CP_V2 && strcmp(c->names[0], h->v2_name) == 0;
  if (h->parts > 1) return c->kind == CP_MULTI && c->n_names == h->parts;
  return c->kind == CP_CLASSIC;
}

/* The checkpoint to start `version` from: the newest at or before it; of several complete
 * forms of that version, the one `_last_checkpoint` describes, else the first (classic). */
static const checkpoint *pick_checkpoint(const log_listing *l, int64_t version) {
  const checkpoint *cp = NULL;
  for (size_t i = 0; i < l->n_cps && l->cps[i].version <= version; i++) {
    if (cp == NULL || cp->version != l->cps[i].version)
      cp = &l->cps[i];
    else if (hint_matches(&l->hint, &l->cps[i]) && !hint_matches(&l->hint, cp))
      cp = &l->cps[i];
  }
  return cp;
}

/* The end of the longest compaction that starts at `start` and ends at or before `last`, or
 * -1 when there is none. */
static int64_t compaction_end(const log_listing *l, int64_t start, int64_t last) {
  int64_t best = -1;
  for (size_t i = 0; i < l->n_compactions; i++)
    if (l->compactions[i].start == start && l->compactions[i].end <= last &&
        l->compactions[i].end > best)
      best = l->compactions[i].end;
  return best;
}

/* The oldest version that can be rebuilt: 0 with the first commit, else the oldest checkpoint
 * (-1: none, the early commits are gone and no checkpoint replaces them). */
static int64_t listing_earliest(const log_listing *l) {
  if (l->n_commits && l->commits[0] == 0) return 0;
  return l->n_cps ? l->cps[0].version : -1;
}

/* ---- Replay state --------------------------------------------------------------------------- */

/* The newest action of one logical file: an add (live), or a remove (a tombstone, allocated as
 * the replay_remove that starts with it). */
typedef struct replay_file {
  delta_file f;
  const char **pv_keys, **pv_values; /* partitionValues as in the log (NULL: none given) */
  uint32_t n_pv;
  bool removed;    /* a replay_remove */
  const char *key; /* path + NUL + deletion vector id: the reconciliation identity */
  size_t key_len;
} replay_file;

/* A remove: what it shares with an add (path, size, partition values, deletion vector, row
 * tracking fields) and its own fields. */
typedef struct replay_remove {
  replay_file rf;
  int64_t deletion_timestamp; /* -1: absent */
  bool data_change;
  int8_t extended_file_metadata; /* -1: absent */
} replay_remove;

typedef struct replay {
  const char *table;
  delta_snapshot *s; /* protocol and metaData fields are written straight into it */
  tarn_arena work;   /* map keys */
  tarn_error *err;
  const char *shown; /* the file being read, for messages */
  int line_no;       /* its line being read (JSON), 0: none */
  bool have_protocol, have_metadata;
  strmap files, txns, domains;
  bool in_checkpoint;
  /* reading a compaction file: the first action per file, key, protocol or metaData counts */
  bool first_wins;
  strmap seen; /* what the compaction file being read has had: kind letter + key */
  /* the Parquet checkpoint file being read, and its INT96 leaf columns (read when needed) */
  tarn_parquet_file *pf;
  bool int96_loaded;
  char **int96;
  size_t n_int96;
  char **sidecars; /* sidecar files named by the checkpoint being read */
  size_t n_sidecars, cap_sidecars;
} replay;

static char *rdup(replay *r, const char *s, size_t len) {
  return tarn_arena_strndup(&r->s->arena, s, len);
}
static char *rdups(replay *r, const char *s) { return s ? rdup(r, s, strlen(s)) : NULL; }

static int corrupt(replay *r, const char *what) {
  if (r->line_no > 0)
    return tarn_err(r->err, TARN_ECORRUPT, "delta table %s: %s line %d: %s", r->table, r->shown,
                    r->line_no, what);
  return tarn_err(r->err, TARN_ECORRUPT, "delta table %s: %s: %s", r->table, r->shown, what);
}

/* In a compaction file: whether an action of this kind and key came earlier in it (then this
 * one is skipped), recording it otherwise. Outside compaction files: always false. */
static int seen_before(replay *r, char kind, const char *key, size_t len, bool *seen) {
  *seen = false;
  if (!r->first_wins) return 0;
  char *k = malloc(len + 1);
  if (k == NULL) return oom(r->err);
  k[0] = kind;
  memcpy(k + 1, key, len);
  *seen = strmap_has(&r->seen, k, len + 1);
  static char present;
  int rc = (*seen || strmap_put(&r->seen, &r->work, k, len + 1, &present) == 0) ? 0 : oom(r->err);
  free(k);
  return rc;
}

/* The identity of a file for reconciliation: its path and its deletion vector's unique id
 * (storage type, path or inline data, and offset when present). */
static int file_key(replay *r, const char *path, const delta_dv *dv, const char **key,
                    size_t *key_len) {
  size_t lp = strlen(path), ld = dv->storage_type ? strlen(dv->path_or_inline) : 0;
  size_t cap = lp + ld + 32;
  char *k = tarn_arena_calloc(&r->work, cap, 1);
  if (k == NULL) return oom(r->err);
  memcpy(k, path, lp);
  size_t n = lp + 1; /* the NUL separates path and id */
  if (dv->storage_type) {
    k[n++] = dv->storage_type;
    memcpy(k + n, dv->path_or_inline, ld);
    n += ld;
    if (dv->offset >= 0) n += (size_t)snprintf(k + n, cap - n, "@%d", (int)dv->offset);
  }
  *key = k;
  *key_len = n;
  return 0;
}

/* Makes f the newest action of its logical file. Inside a checkpoint the rows are reconciled
 * already and unordered: a remove there is a tombstone that never replaces an add. */
static int apply_file(replay *r, replay_file *f) {
  if (f->removed && r->in_checkpoint && strmap_has(&r->files, f->key, f->key_len)) return 0;
  if (strmap_put(&r->files, &r->work, f->key, f->key_len, f) != 0) return oom(r->err);
  return 0;
}

static int set_txn(replay *r, const char *app_id, int64_t version) {
  int64_t *v = tarn_arena_calloc(&r->s->arena, 1, sizeof *v);
  if (v == NULL) return oom(r->err);
  *v = version;
  if (strmap_put(&r->txns, &r->work, app_id, strlen(app_id), v) != 0) return oom(r->err);
  return 0;
}

static int set_domain(replay *r, const char *domain, const char *config, bool removed) {
  char *c = NULL;
  if (!removed && (c = rdups(r, config ? config : "")) == NULL) return oom(r->err);
  if (strmap_put(&r->domains, &r->work, domain, strlen(domain), c) != 0) return oom(r->err);
  return 0;
}

static int add_sidecar(replay *r, const char *path) {
  if (r->n_sidecars == r->cap_sidecars) {
    size_t c = r->cap_sidecars ? r->cap_sidecars * 2 : 8;
    char **p = realloc(r->sidecars, c * sizeof *p);
    if (p == NULL) return oom(r->err);
    r->sidecars = p;
    r->cap_sidecars = c;
  }
  if ((r->sidecars[r->n_sidecars] = strdup(path)) == NULL) return oom(r->err);
  r->n_sidecars++;
  return 0;
}

static void replay_free(replay *r) {
  strmap_free(&r->files);
  strmap_free(&r->txns);
  strmap_free(&r->domains);
  strmap_free(&r->seen);
  tarn_arena_free(&r->work);
  for (size_t i = 0; i < r->n_int96; i++)
    free(r->int96[i]);
  free(r->int96);
  for (size_t i = 0; i < r->n_sidecars; i++)
    free(r->sidecars[i]);
  free(r->sidecars);
}

/* ---- JSON actions --------------------------------------------------------------------------- */

static int json_dv(replay *r, const cJSON *j, delta_dv *dv) {
  memset(dv, 0, sizeof *dv);
  dv->offset = -1;
  if (j == NULL || cJSON_IsNull(j)) return 0;
  if (!cJSON_IsObject(j)) return corrupt(r, "deletionVector is not an object");
  const char *st = delta_json_str(j, "storageType");
  const char *p = delta_json_str(j, "pathOrInlineDv");
  if (st == NULL || strlen(st) != 1 || p == NULL)
    return corrupt(r, "deletionVector without storageType or pathOrInlineDv");
  dv->storage_type = st[0];
  if ((dv->path_or_inline = rdups(r, p)) == NULL) return oom(r->err);
  int64_t v;
  const cJSON *off = cJSON_GetObjectItemCaseSensitive(j, "offset");
  if (off && !cJSON_IsNull(off)) {
    if (!delta_json_i64(off, &v) || v < 0 || v > INT32_MAX)
      return corrupt(r, "deletionVector offset out of range");
    dv->offset = (int32_t)v;
  }
  if (!delta_json_i64(cJSON_GetObjectItemCaseSensitive(j, "sizeInBytes"), &v) || v < 0 ||
      v > INT32_MAX)
    return corrupt(r, "deletionVector sizeInBytes missing or out of range");
  dv->size_in_bytes = (int32_t)v;
  if (!delta_json_i64(cJSON_GetObjectItemCaseSensitive(j, "cardinality"), &v) || v < 0)
    return corrupt(r, "deletionVector cardinality missing or out of range");
  dv->cardinality = v;
  return 0;
}

/* Optional int64 field: -1 when absent or null. */
static int json_opt_i64(replay *r, const cJSON *obj, const char *key, int64_t *out) {
  const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);
  *out = -1;
  if (j == NULL || cJSON_IsNull(j)) return 0;
  if (!delta_json_i64(j, out)) {
    char what[128];
    snprintf(what, sizeof what, "%s is not an integer", key);
    return corrupt(r, what);
  }
  return 0;
}

/* Optional int64 field of a remove: -1 when absent, null or not an integer (a tombstone's
 * fields are kept as far as they make sense; nothing a reader needs depends on them). */
static int64_t json_lenient_i64(const cJSON *obj, const char *key) {
  int64_t v;
  return delta_json_i64(cJSON_GetObjectItemCaseSensitive(obj, key), &v) ? v : -1;
}

static int json_file_action(replay *r, const cJSON *j, bool is_add) {
  if (!cJSON_IsObject(j))
    return corrupt(r, is_add ? "add is not an object"
                             : "remove is not an "
                               "object");
  const char *path = delta_json_str(j, "path");
  if (path == NULL || path[0] == 0)
    return corrupt(r, is_add ? "add action without path" : "remove action without path");
  replay_file *f;
  replay_remove *rm = NULL;
  if (is_add) {
    f = tarn_arena_calloc(&r->s->arena, 1, sizeof *f);
  } else {
    rm = tarn_arena_calloc(&r->s->arena, 1, sizeof *rm);
    f = rm ? &rm->rf : NULL;
  }
  if (f == NULL) return oom(r->err);
  f->removed = !is_add;
  int rc = json_dv(r, cJSON_GetObjectItemCaseSensitive(j, "deletionVector"), &f->f.dv);
  if (rc) return rc;
  if ((rc = file_key(r, path, &f->f.dv, &f->key, &f->key_len))) return rc;
  bool seen;
  if ((rc = seen_before(r, 'f', f->key, f->key_len, &seen)) || seen) return rc;

  if ((f->f.path = rdups(r, path)) == NULL) return oom(r->err);
  if (is_add) {
    if ((rc = json_opt_i64(r, j, "size", &f->f.size)) ||
        (rc = json_opt_i64(r, j, "modificationTime", &f->f.modification_time)) ||
        (rc = json_opt_i64(r, j, "baseRowId", &f->f.base_row_id)) ||
        (rc = json_opt_i64(r, j, "defaultRowCommitVersion", &f->f.default_row_commit_version)))
      return rc;
    if (f->f.size < -1) return corrupt(r, "add action with a negative size");
    const char *stats = delta_json_str(j, "stats");
    if (stats && (f->f.stats = rdups(r, stats)) == NULL) return oom(r->err);
  } else {
    f->f.size = json_lenient_i64(j, "size");
    if (f->f.size < 0) f->f.size = -1;
    f->f.modification_time = -1;
    f->f.base_row_id = json_lenient_i64(j, "baseRowId");
    f->f.default_row_commit_version = json_lenient_i64(j, "defaultRowCommitVersion");
    rm->deletion_timestamp = json_lenient_i64(j, "deletionTimestamp");
    const cJSON *dc = cJSON_GetObjectItemCaseSensitive(j, "dataChange");
    rm->data_change = cJSON_IsBool(dc) ? cJSON_IsTrue(dc) : true;
    const cJSON *ext = cJSON_GetObjectItemCaseSensitive(j, "extendedFileMetadata");
    rm->extended_file_metadata = cJSON_IsBool(ext) ? (int8_t)cJSON_IsTrue(ext) : -1;
  }
  const cJSON *pv = cJSON_GetObjectItemCaseSensitive(j, "partitionValues");
  if (pv && !cJSON_IsNull(pv) && (is_add || cJSON_IsObject(pv))) {
    if (!cJSON_IsObject(pv)) return corrupt(r, "partitionValues is not an object");
    size_t n = (size_t)cJSON_GetArraySize(pv);
    if (n > UINT32_MAX) return corrupt(r, "too many partition values");
    f->pv_keys = tarn_arena_calloc(&r->s->arena, n ? n : 1, sizeof(char *));
    f->pv_values = tarn_arena_calloc(&r->s->arena, n ? n : 1, sizeof(char *));
    if (f->pv_keys == NULL || f->pv_values == NULL) return oom(r->err);
    const cJSON *e;
    cJSON_ArrayForEach(e, pv) {
      if (f->n_pv >= n) break;
      if (e->string == NULL) continue;
      if (!cJSON_IsString(e) && !cJSON_IsNull(e)) {
        if (!is_add) continue; /* a tombstone keeps the values it can */
        return corrupt(r, "a partition value is neither a string nor null");
      }
      const char *k = rdups(r, e->string);
      const char *v = NULL;
      if (cJSON_IsString(e)) v = rdups(r, e->valuestring);
      if (k == NULL || (cJSON_IsString(e) && v == NULL)) return oom(r->err);
      f->pv_keys[f->n_pv] = k;
      f->pv_values[f->n_pv++] = v;
    }
  }
  return apply_file(r, f);
}

/* A JSON array of strings into an arena array. */
static int json_str_list(replay *r, const cJSON *j, const char *what, const char ***out,
                         size_t *n) {
  *out = NULL;
  *n = 0;
  if (j == NULL || cJSON_IsNull(j)) return 0;
  char msg[128];
  snprintf(msg, sizeof msg, "%s is not a list of strings", what);
  if (!cJSON_IsArray(j)) return corrupt(r, msg);
  size_t cnt = (size_t)cJSON_GetArraySize(j);
  const char **a = tarn_arena_calloc(&r->s->arena, cnt ? cnt : 1, sizeof *a);
  if (a == NULL) return oom(r->err);
  const cJSON *e;
  size_t i = 0;
  cJSON_ArrayForEach(e, j) {
    if (!cJSON_IsString(e) || i >= cnt) return corrupt(r, msg);
    if ((a[i++] = rdups(r, e->valuestring)) == NULL) return oom(r->err);
  }
  *out = a;
  *n = i;
  return 0;
}

static int json_protocol(replay *r, const cJSON *j) {
  int64_t rv, wv;
  if (!cJSON_IsObject(j) ||
      !delta_json_i64(cJSON_GetObjectItemCaseSensitive(j, "minReaderVersion"), &rv) ||
      !delta_json_i64(cJSON_GetObjectItemCaseSensitive(j, "minWriterVersion"), &wv) || rv < 0 ||
      rv > INT32_MAX || wv < 0 || wv > INT32_MAX)
    return corrupt(r, "protocol action without valid minReaderVersion/minWriterVersion");
  delta_snapshot *s = r->s;
  s->min_reader_version = (int)rv;
  s->min_writer_version = (int)wv;
  int rc = json_str_list(r, cJSON_GetObjectItemCaseSensitive(j, "readerFeatures"), "readerFeatures",
                         &s->reader_features, &s->n_reader_features);
  if (rc == 0)
    rc = json_str_list(r, cJSON_GetObjectItemCaseSensitive(j, "writerFeatures"), "writerFeatures",
                       &s->writer_features, &s->n_writer_features);
  r->have_protocol = rc == 0;
  return rc;
}

static int json_metadata(replay *r, const cJSON *j) {
  if (!cJSON_IsObject(j)) return corrupt(r, "metaData is not an object");
  delta_snapshot *s = r->s;
  const char *id = delta_json_str(j, "id"), *schema = delta_json_str(j, "schemaString");
  if (id == NULL || schema == NULL) return corrupt(r, "metaData action without id or schemaString");
  if ((s->metadata_id = rdups(r, id)) == NULL || (s->schema_string = rdups(r, schema)) == NULL)
    return oom(r->err);
  const char *name = delta_json_str(j, "name"), *desc = delta_json_str(j, "description");
  s->name = name ? rdups(r, name) : NULL;
  s->description = desc ? rdups(r, desc) : NULL;
  const cJSON *format = cJSON_GetObjectItemCaseSensitive(j, "format");
  const char *provider = cJSON_IsObject(format) ? delta_json_str(format, "provider") : NULL;
  s->format_provider = rdups(r, provider ? provider : "parquet");
  if ((name && !s->name) || (desc && !s->description) || !s->format_provider) return oom(r->err);
  int rc = json_str_list(r, cJSON_GetObjectItemCaseSensitive(j, "partitionColumns"),
                         "partitionColumns", &s->partition_columns, &s->n_partition_columns);
  if (rc) return rc;
  const cJSON *conf = cJSON_GetObjectItemCaseSensitive(j, "configuration");
  s->config_keys = s->config_values = NULL;
  s->n_config = 0;
  if (conf && !cJSON_IsNull(conf)) {
    if (!cJSON_IsObject(conf)) return corrupt(r, "metaData configuration is not an object");
    size_t n = (size_t)cJSON_GetArraySize(conf);
    s->config_keys = tarn_arena_calloc(&s->arena, n ? n : 1, sizeof(char *));
    s->config_values = tarn_arena_calloc(&s->arena, n ? n : 1, sizeof(char *));
    if (!s->config_keys || !s->config_values) return oom(r->err);
    const cJSON *e;
    cJSON_ArrayForEach(e, conf) {
      if (s->n_config >= n || e->string == NULL) break;
      const char *v = NULL;
      if (cJSON_IsString(e)) {
        v = rdups(r, e->valuestring);
      } else if (!cJSON_IsNull(e)) { /* some writers put numbers or booleans: keep the text */
        char *t = cJSON_PrintUnformatted(e);
        if (t == NULL) return oom(r->err);
        v = rdups(r, t);
        free(t);
      } else {
        continue;
      }
      const char *k = rdups(r, e->string);
      if (k == NULL || v == NULL) return oom(r->err);
      s->config_keys[s->n_config] = k;
      s->config_values[s->n_config++] = v;
    }
  }
  int64_t created;
  if ((rc = json_opt_i64(r, j, "createdTime", &created))) return rc;
  s->created_time = created;
  r->have_metadata = true;
  return 0;
}

static int json_action(replay *r, const char *kind, const cJSON *j) {
  bool seen = false;
  int rc = 0;
  if (r->first_wins) { /* the non-file actions of a compaction file: the first of each counts */
    const char *id = NULL;
    if (strcmp(kind, "protocol") == 0 || strcmp(kind, "metaData") == 0)
      id = "";
    else if (strcmp(kind, "txn") == 0 && cJSON_IsObject(j))
      id = delta_json_str(j, "appId");
    else if (strcmp(kind, "domainMetadata") == 0 && cJSON_IsObject(j))
      id = delta_json_str(j, "domain");
    if (id && (rc = seen_before(r, kind[0], id, strlen(id), &seen))) return rc;
    if (seen) return 0;
  }
  if (strcmp(kind, "add") == 0) return json_file_action(r, j, true);
  if (strcmp(kind, "remove") == 0) return json_file_action(r, j, false);
  if (strcmp(kind, "metaData") == 0) return json_metadata(r, j);
  if (strcmp(kind, "protocol") == 0) return json_protocol(r, j);
  if (strcmp(kind, "txn") == 0) {
    const char *app = cJSON_IsObject(j) ? delta_json_str(j, "appId") : NULL;
    int64_t v;
    if (app == NULL || !delta_json_i64(cJSON_GetObjectItemCaseSensitive(j, "version"), &v))
      return corrupt(r, "txn action without appId or version");
    return set_txn(r, app, v);
  }
  if (strcmp(kind, "domainMetadata") == 0) {
    const char *domain = cJSON_IsObject(j) ? delta_json_str(j, "domain") : NULL;
    if (domain == NULL) return corrupt(r, "domainMetadata action without domain");
    const cJSON *removed = cJSON_GetObjectItemCaseSensitive(j, "removed");
    return set_domain(r, domain, delta_json_str(j, "configuration"), cJSON_IsTrue(removed));
  }
  if (strcmp(kind, "sidecar") == 0) {
    if (!r->in_checkpoint) return 0; /* only meaningful in a v2 checkpoint */
    const char *path = cJSON_IsObject(j) ? delta_json_str(j, "path") : NULL;
    if (path == NULL || path[0] == 0) return corrupt(r, "sidecar action without path");
    return add_sidecar(r, path);
  }
  return 0; /* commitInfo, cdc, checkpointMetadata and kinds from the future */
}

/* Calls fn on every non-blank line of text (NUL-terminated copy in place). Lines are numbered
 * from 1. */
typedef int (*line_fn)(void *ctx, const char *line, size_t len, int line_no);

static int for_each_line(char *text, size_t len, line_fn fn, void *ctx) {
  int line_no = 0;
  size_t i = 0;
  while (i < len) {
    size_t j = i;
    while (j < len && text[j] != '\n')
      j++;
    line_no++;
    size_t e = j;
    while (e > i && (text[e - 1] == '\r' || text[e - 1] == ' ' || text[e - 1] == '\t'))
      e--;
    size_t b = i;
    while (b < e && (text[b] == ' ' || text[b] == '\t'))
      b++;
    if (e > b) {
      int rc = fn(ctx, text + b, e - b, line_no);
      if (rc) return rc;
    }
    i = j + 1;
  }
  return 0;
}

static int replay_line(void *ctx, const char *line, size_t len, int line_no) {
  replay *r = ctx;
  cJSON *j = cJSON_ParseWithLength(line, len);
  r->line_no = line_no;
  if (j == NULL || !cJSON_IsObject(j)) {
    cJSON_Delete(j);
    return corrupt(r, "not a JSON object (malformed action)");
  }
  int rc = 0;
  for (const cJSON *a = j->child; a && rc == 0; a = a->next)
    if (a->string) rc = json_action(r, a->string, a);
  cJSON_Delete(j);
  return rc;
}

static int replay_json_file(replay *r, const char *path, const char *shown) {
  char *text;
  size_t len;
  int rc = read_whole(r->table, path, shown, &text, &len, r->err);
  if (rc) return rc;
  r->shown = shown;
  rc = for_each_line(text, len, replay_line, r);
  r->line_no = 0;
  free(text);
  return rc;
}

/* Whether every line of a compaction file is a JSON object (checked before any is applied). */
static int check_line(void *ctx, const char *line, size_t len, int line_no) {
  (void)line_no;
  cJSON *j = cJSON_ParseWithLength(line, len);
  bool ok = cJSON_IsObject(j);
  cJSON_Delete(j);
  if (!ok) *(bool *)ctx = false;
  return ok ? 0 : 1; /* 1 stops the walk */
}

/* Replays the compaction file at path (commits x..y reconciled), first action per key winning.
 * A file that cannot be read or holds a line that is not a JSON object (a partial write) is
 * not used (*used false, nothing applied: the caller replays the commits instead); so it is
 * parsed twice, a line at a time, rather than held whole. Once it is being applied, a
 * malformed action is an error as in a commit. */
static int replay_compaction(replay *r, const char *path, const char *shown, bool *used) {
  *used = false;
  char *text;
  size_t len;
  tarn_error ignored = {0};
  if (read_whole(r->table, path, shown, &text, &len, &ignored) != 0) return 0;
  bool well_formed = true;
  for_each_line(text, len, check_line, &well_formed);
  int rc = 0;
  if (well_formed) {
    *used = true;
    r->shown = shown;
    r->first_wins = true;
    rc = for_each_line(text, len, replay_line, r); /* for_each_line leaves text intact */
    r->first_wins = false;
    r->line_no = 0;
    strmap_free(&r->seen);
  }
  free(text);
  return rc;
}

/* ---- Checkpoint Parquet files --------------------------------------------------------------- */

/* A column of an Arrow batch: its schema and array side by side. Indexes passed to the
 * accessors are logical (the array's own offset is added here); a struct's children see the
 * struct's offset added to the index, as Arrow defines. Every index is checked against the
 * array's length, so a malformed batch reads as nulls rather than out of bounds. */
typedef struct acol {
  const struct ArrowSchema *s;
  const struct ArrowArray *a;
} acol;

static acol acol_child(acol c, const char *name) {
  acol none = {NULL, NULL};
  if (c.s == NULL || c.a == NULL || strcmp(c.s->format, "+s") != 0) return none;
  for (int64_t i = 0; i < c.s->n_children && i < c.a->n_children; i++)
    if (c.s->children[i]->name && strcmp(c.s->children[i]->name, name) == 0)
      return (acol){c.s->children[i], c.a->children[i]};
  return none;
}

/* The physical index of logical row i, or -1 when out of range or null. */
static int64_t acol_at(acol c, int64_t i) {
  if (c.a == NULL || i < 0 || i >= c.a->length) return -1;
  int64_t p = c.a->offset + i;
  if (c.a->null_count != 0 && c.a->n_buffers > 0 && c.a->buffers[0] != NULL) {
    const uint8_t *valid = c.a->buffers[0];
    if (!(valid[p >> 3] & (1u << (p & 7)))) return -1;
  }
  return p;
}

/* The row of a struct's child for the struct's logical row i. */
static int64_t acol_child_row(acol parent, int64_t i) { return parent.a->offset + i; }

static const char *acol_str(acol c, int64_t i, size_t *len) {
  int64_t p = acol_at(c, i);
  if (p < 0 || (strcmp(c.s->format, "u") != 0 && strcmp(c.s->format, "z") != 0) ||
      c.a->n_buffers < 3 || c.a->buffers[1] == NULL)
    return NULL;
  const int32_t *off = c.a->buffers[1];
  if (off[p] < 0 || off[p + 1] < off[p]) return NULL;
  *len = (size_t)(off[p + 1] - off[p]);
  const char *data = c.a->buffers[2];
  if (data == NULL) return *len == 0 ? "" : NULL;
  return data + off[p];
}

static bool acol_i64(acol c, int64_t i, int64_t *out) {
  int64_t p = acol_at(c, i);
  if (p < 0 || c.a->n_buffers < 2 || c.a->buffers[1] == NULL) return false;
  const char *f = c.s->format;
  if (strcmp(f, "l") == 0)
    *out = ((const int64_t *)c.a->buffers[1])[p];
  else if (strcmp(f, "i") == 0)
    *out = ((const int32_t *)c.a->buffers[1])[p];
  else if (strcmp(f, "s") == 0)
    *out = ((const int16_t *)c.a->buffers[1])[p];
  else if (strcmp(f, "c") == 0)
    *out = ((const int8_t *)c.a->buffers[1])[p];
  else
    return false;
  return true;
}

static bool acol_bool(acol c, int64_t i) {
  int64_t p = acol_at(c, i);
  if (p < 0 || strcmp(c.s->format, "b") != 0 || c.a->n_buffers < 2 || c.a->buffers[1] == NULL)
    return false;
  const uint8_t *bits = c.a->buffers[1];
  return (bits[p >> 3] >> (p & 7)) & 1;
}

/* A list or map value: the range [*begin, *end) of logical rows of *items (for a map, the
 * key/value struct). False when null or malformed. */
static bool acol_items(acol c, int64_t i, acol *items, int64_t *begin, int64_t *end) {
  int64_t p = acol_at(c, i);
  if (p < 0 || (strcmp(c.s->format, "+l") != 0 && strcmp(c.s->format, "+m") != 0) ||
      c.a->n_buffers < 2 || c.a->buffers[1] == NULL || c.s->n_children < 1 || c.a->n_children < 1)
    return false;
  const int32_t *off = c.a->buffers[1];
  *items = (acol){c.s->children[0], c.a->children[0]};
  *begin = off[p];
  *end = off[p + 1];
  return *begin >= 0 && *end >= *begin && *end <= items->a->length;
}

static int pq_strdup(replay *r, acol c, int64_t i, const char **out) {
  size_t len;
  const char *s = acol_str(c, i, &len);
  *out = NULL;
  if (s == NULL) return 0;
  if ((*out = rdup(r, s, len)) == NULL) return oom(r->err);
  return 0;
}

/* A map<string,string> column into two arena arrays. */
static int pq_str_map(replay *r, acol c, int64_t i, const char ***keys, const char ***values,
                      size_t *n) {
  acol entries;
  int64_t b, e;
  *keys = *values = NULL;
  *n = 0;
  if (!acol_items(c, i, &entries, &b, &e)) return 0;
  acol k = acol_child(entries, "key"), v = acol_child(entries, "value");
  size_t cnt = (size_t)(e - b);
  *keys = tarn_arena_calloc(&r->s->arena, cnt ? cnt : 1, sizeof(char *));
  *values = tarn_arena_calloc(&r->s->arena, cnt ? cnt : 1, sizeof(char *));
  if (*keys == NULL || *values == NULL) return oom(r->err);
  for (int64_t x = b; x < e; x++) {
    const char *ks, *vs;
    int rc = pq_strdup(r, k, acol_child_row(entries, x), &ks);
    if (rc == 0) rc = pq_strdup(r, v, acol_child_row(entries, x), &vs);
    if (rc) return rc;
    if (ks == NULL) return corrupt(r, "a map with a null key");
    (*keys)[*n] = ks;
    (*values)[(*n)++] = vs;
  }
  return 0;
}

static int pq_str_list(replay *r, acol c, int64_t i, const char ***out, size_t *n) {
  acol items;
  int64_t b, e;
  *out = NULL;
  *n = 0;
  if (!acol_items(c, i, &items, &b, &e)) return 0;
  size_t cnt = (size_t)(e - b);
  *out = tarn_arena_calloc(&r->s->arena, cnt ? cnt : 1, sizeof(char *));
  if (*out == NULL) return oom(r->err);
  for (int64_t x = b; x < e; x++) {
    const char *s;
    int rc = pq_strdup(r, items, x, &s);
    if (rc) return rc;
    if (s) (*out)[(*n)++] = s;
  }
  return 0;
}

/* ---- stats_parsed: the statistics struct of a checkpoint add, back to stats JSON ----------- */

/* Nesting of stats_parsed structs followed; deeper ones are left out of the JSON. */
#define DELTA_MAX_STATS_DEPTH 64
/* Longest column name kept in the dotted paths below (longer names are cut, which only
 * matters for recognising INT96 columns). */
#define DELTA_MAX_STATS_NAME 512

/* Whether the checkpoint leaf column at dotted path is stored as INT96 (which Spark writes for
 * UTC timestamps): 1 or 0, -1 out of memory. The file's leaf types are looked up once, from
 * its footer, when the first zone-less timestamp needs them. */
static int is_int96(replay *r, const char *path) {
  if (!r->int96_loaded) {
    r->int96_loaded = true;
    char *json = NULL;
    tarn_error e = {0};
    if (r->pf == NULL || tarn_parquet_metadata_json(r->pf, &json, &e) != 0) return 0;
    cJSON *j = cJSON_Parse(json);
    free(json);
    const cJSON *groups = cJSON_GetObjectItemCaseSensitive(j, "row_groups");
    const cJSON *cols = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(groups, 0), "columns");
    const cJSON *c;
    cJSON_ArrayForEach(c, cols) {
      const char *type = delta_json_str(c, "physical_type"), *p = delta_json_str(c, "path");
      if (type == NULL || p == NULL || strcmp(type, "INT96") != 0) continue;
      char **grown = realloc(r->int96, (r->n_int96 + 1) * sizeof *grown);
      if (grown == NULL || (grown[r->n_int96] = strdup(p)) == NULL) {
        if (grown) r->int96 = grown;
        cJSON_Delete(j);
        return -1;
      }
      r->int96 = grown;
      r->n_int96++;
    }
    cJSON_Delete(j);
  }
  for (size_t i = 0; i < r->n_int96; i++)
    if (strcmp(r->int96[i], path) == 0) return 1;
  return 0;
}

/* Days since 1970-01-01 to a civil date (proleptic Gregorian). */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b) {
  return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* A decimal128 (little-endian two's complement) with `scale` digits after the point. */
static void decimal_text(const uint8_t *le, int scale, char *out, size_t cap) {
  unsigned __int128 u = 0;
  for (int i = 15; i >= 0; i--)
    u = (u << 8) | le[i];
  bool neg = (le[15] & 0x80) != 0;
  if (neg) u = ~u + 1;
  char digits[48];
  int n = 0;
  do {
    digits[n++] = (char)('0' + (int)(u % 10));
    u /= 10;
  } while (u != 0 && n < 45);
  while (n <= scale && n < 45)
    digits[n++] = '0';
  size_t k = 0;
  if (neg && k + 1 < cap) out[k++] = '-';
  for (int i = n - 1; i >= 0 && k + 2 < cap; i--) {
    out[k++] = digits[i];
    if (i == scale && scale > 0) out[k++] = '.';
  }
  out[k] = 0;
}

/* Adds the value of column c at logical row i to obj under key, as Delta's stats JSON writes
 * it (numbers, strings, dates as YYYY-MM-DD, timestamps as ISO 8601 in milliseconds, nested
 * structs as objects). Nulls and types the JSON form has no use for (binary, lists, maps) are
 * left out. Returns false when out of memory. */
static bool stats_value(replay *r, cJSON *obj, const char *key, const char *path, acol c, int64_t i,
                        int depth) {
  int64_t p = acol_at(c, i);
  if (p < 0 || depth > DELTA_MAX_STATS_DEPTH) return true;
  const char *f = c.s->format;
  char text[96];
  int64_t v;
  if (strcmp(f, "+s") == 0) {
    cJSON *o = cJSON_CreateObject();
    if (o == NULL) return false;
    int64_t row = acol_child_row(c, i);
    size_t len = strlen(path);
    char *kid_path = malloc(len + 2 + DELTA_MAX_STATS_NAME);
    if (kid_path == NULL) {
      cJSON_Delete(o);
      return false;
    }
    for (int64_t k = 0; k < c.s->n_children && k < c.a->n_children; k++) {
      acol kid = {c.s->children[k], c.a->children[k]};
      if (kid.s->name == NULL) continue;
      snprintf(kid_path, len + 2 + DELTA_MAX_STATS_NAME, "%s.%s", path, kid.s->name);
      if (!stats_value(r, o, kid.s->name, kid_path, kid, row, depth + 1)) {
        free(kid_path);
        cJSON_Delete(o);
        return false;
      }
    }
    free(kid_path);
    return cJSON_AddItemToObject(obj, key, o);
  }
  if (strcmp(f, "u") == 0) {
    size_t len;
    const char *str = acol_str(c, i, &len);
    if (str == NULL) return true;
    char *copy = strndup(str, len);
    if (copy == NULL) return false;
    bool ok = cJSON_AddStringToObject(obj, key, copy) != NULL;
    free(copy);
    return ok;
  }
  if (strcmp(f, "b") == 0) return cJSON_AddBoolToObject(obj, key, acol_bool(c, i)) != NULL;
  if (acol_i64(c, i, &v)) {
    snprintf(text, sizeof text, "%lld", (long long)v);
    return cJSON_AddRawToObject(obj, key, text) != NULL;
  }
  if (c.a->n_buffers < 2 || c.a->buffers[1] == NULL) return true;
  const void *data = c.a->buffers[1];
  if (strcmp(f, "g") == 0 || strcmp(f, "f") == 0) {
    bool is_double = f[0] == 'g';
    double d = is_double ? ((const double *)data)[p] : ((const float *)data)[p];
    if (!isfinite(d)) return true;
    /* the shortest text that reads back as the same value */
    for (int digits = is_double ? 15 : 6; digits <= (is_double ? 17 : 9); digits++) {
      snprintf(text, sizeof text, "%.*g", digits, d);
      if (is_double ? strtod(text, NULL) == d : strtof(text, NULL) == (float)d) break;
    }
    return cJSON_AddRawToObject(obj, key, text) != NULL;
  }
  if (strcmp(f, "tdD") == 0) {
    int64_t y;
    int m, d;
    civil_from_days(((const int32_t *)data)[p], &y, &m, &d);
    snprintf(text, sizeof text, "%04lld-%02d-%02d", (long long)y, m, d);
    return cJSON_AddStringToObject(obj, key, text) != NULL;
  }
  if (strncmp(f, "ts", 2) == 0 && f[2] && f[3] == ':') {
    int64_t units = ((const int64_t *)data)[p];
    int64_t per_ms = f[2] == 's' ? 0 : f[2] == 'm' ? 1 : f[2] == 'u' ? 1000 : 1000000;
    if (per_ms == 0 && (units > INT64_MAX / 1000 || units < INT64_MIN / 1000)) return true;
    int64_t ms = per_ms ? floor_div(units, per_ms) : units * 1000; /* stats keep milliseconds */
    /* A UTC instant (a time zone, or Parquet INT96, which Arrow shows without one) ends in
     * 'Z'; a timestamp_ntz (INT64 not adjusted to UTC) has none, as Delta writes them. */
    int utc = f[4] != 0 ? 1 : is_int96(r, path);
    if (utc < 0) return false;
    int64_t day = floor_div(ms, 86400000), in_day = ms - day * 86400000, y;
    int m, d;
    civil_from_days(day, &y, &m, &d);
    snprintf(text, sizeof text, "%04lld-%02d-%02dT%02d:%02d:%02d.%03d%s", (long long)y, m, d,
             (int)(in_day / 3600000), (int)(in_day / 60000 % 60), (int)(in_day / 1000 % 60),
             (int)(in_day % 1000), utc ? "Z" : "");
    return cJSON_AddStringToObject(obj, key, text) != NULL;
  }
  int prec, scale;
  if (sscanf(f, "d:%d,%d", &prec, &scale) == 2 && strchr(f + 2, ',') == strrchr(f + 2, ',') &&
      scale >= 0 && scale <= 38) {
    decimal_text((const uint8_t *)data + p * 16, scale, text, sizeof text);
    return cJSON_AddRawToObject(obj, key, text) != NULL;
  }
  return true;
}

/* The stats JSON text of a stats_parsed struct at logical row i (NULL when it is null), in the
 * work arena of r. */
static int stats_from_parsed(replay *r, acol sp, int64_t i, const char **out) {
  *out = NULL;
  if (acol_at(sp, i) < 0 || strcmp(sp.s->format, "+s") != 0) return 0;
  cJSON *o = cJSON_CreateObject();
  if (o == NULL) return oom(r->err);
  int64_t row = acol_child_row(sp, i);
  bool ok = true;
  for (int64_t k = 0; ok && k < sp.s->n_children && k < sp.a->n_children; k++) {
    acol kid = {sp.s->children[k], sp.a->children[k]};
    const char *name = kid.s->name;
    if (name == NULL) continue;
    /* Delta's JSON says nullCount; the protocol's schema example spells it nullCounts */
    char path[64 + DELTA_MAX_STATS_NAME];
    snprintf(path, sizeof path, "add.stats_parsed.%s", kid.s->name);
    if (strcmp(name, "nullCounts") == 0) name = "nullCount";
    ok = stats_value(r, o, name, path, kid, row, 0);
  }
  char *text = ok ? cJSON_PrintUnformatted(o) : NULL;
  cJSON_Delete(o);
  if (text == NULL) return oom(r->err);
  *out = rdups(r, text);
  cJSON_free(text);
  return *out ? 0 : oom(r->err);
}

/* The fields of an add or remove struct column, looked up by name once per batch (looking them
 * up per row, by comparing names, was a large part of reading a checkpoint). A field the file
 * does not have is {NULL, NULL}, which reads as null. */
typedef struct pq_file_cols {
  acol action;
  acol path, size, modification_time, stats, stats_parsed, partition_values, base_row_id,
      default_row_commit_version;
  acol deletion_timestamp, data_change, extended_file_metadata; /* remove */
  acol dv, dv_storage_type, dv_path_or_inline, dv_offset, dv_size_in_bytes, dv_cardinality;
} pq_file_cols;

static pq_file_cols pq_file_cols_of(acol action) {
  pq_file_cols c;
  c.action = action;
  c.path = acol_child(action, "path");
  c.size = acol_child(action, "size");
  c.modification_time = acol_child(action, "modificationTime");
  c.stats = acol_child(action, "stats");
  c.stats_parsed = acol_child(action, "stats_parsed");
  c.partition_values = acol_child(action, "partitionValues");
  c.base_row_id = acol_child(action, "baseRowId");
  c.default_row_commit_version = acol_child(action, "defaultRowCommitVersion");
  c.deletion_timestamp = acol_child(action, "deletionTimestamp");
  c.data_change = acol_child(action, "dataChange");
  c.extended_file_metadata = acol_child(action, "extendedFileMetadata");
  c.dv = acol_child(action, "deletionVector");
  c.dv_storage_type = acol_child(c.dv, "storageType");
  c.dv_path_or_inline = acol_child(c.dv, "pathOrInlineDv");
  c.dv_offset = acol_child(c.dv, "offset");
  c.dv_size_in_bytes = acol_child(c.dv, "sizeInBytes");
  c.dv_cardinality = acol_child(c.dv, "cardinality");
  return c;
}

/* The deletion vector of an add or remove at row rr of its struct (storage type 0: none). */
static int pq_dv(replay *r, const pq_file_cols *c, int64_t rr, delta_dv *out) {
  memset(out, 0, sizeof *out);
  out->offset = -1;
  if (acol_at(c->dv, rr) < 0) return 0;
  int64_t dr = acol_child_row(c->dv, rr), v;
  const char *st;
  int rc;
  if ((rc = pq_strdup(r, c->dv_storage_type, dr, &st)) ||
      (rc = pq_strdup(r, c->dv_path_or_inline, dr, &out->path_or_inline)))
    return rc;
  if (st == NULL || strlen(st) != 1 || out->path_or_inline == NULL)
    return corrupt(r, "deletionVector without storageType or pathOrInlineDv");
  out->storage_type = st[0];
  if (acol_i64(c->dv_offset, dr, &v)) {
    if (v < 0 || v > INT32_MAX) return corrupt(r, "deletionVector offset out of range");
    out->offset = (int32_t)v;
  }
  if (!acol_i64(c->dv_size_in_bytes, dr, &v) || v < 0 || v > INT32_MAX)
    return corrupt(r, "deletionVector sizeInBytes missing or out of range");
  out->size_in_bytes = (int32_t)v;
  if (!acol_i64(c->dv_cardinality, dr, &v) || v < 0)
    return corrupt(r, "deletionVector cardinality missing or out of range");
  out->cardinality = v;
  return 0;
}

/* The partitionValues map at row rr into f (keys NULL when the map is null). */
static int pq_partition_values(replay *r, const pq_file_cols *c, int64_t rr, replay_file *f) {
  size_t n = 0;
  int rc = pq_str_map(r, c->partition_values, rr, &f->pv_keys, &f->pv_values, &n);
  if (rc == 0 && n > UINT32_MAX) rc = corrupt(r, "too many partition values");
  f->n_pv = (uint32_t)n;
  return rc;
}

static int pq_add(replay *r, const pq_file_cols *c, int64_t row) {
  replay_file *f = tarn_arena_calloc(&r->s->arena, 1, sizeof *f);
  if (f == NULL) return oom(r->err);
  int64_t rr = acol_child_row(c->action, row);
  int rc = pq_strdup(r, c->path, rr, &f->f.path);
  if (rc) return rc;
  if (f->f.path == NULL || f->f.path[0] == 0) return corrupt(r, "add action without path");
  if (!acol_i64(c->size, rr, &f->f.size)) f->f.size = -1;
  if (!acol_i64(c->modification_time, rr, &f->f.modification_time)) f->f.modification_time = -1;
  if (!acol_i64(c->base_row_id, rr, &f->f.base_row_id)) f->f.base_row_id = -1;
  if (!acol_i64(c->default_row_commit_version, rr, &f->f.default_row_commit_version))
    f->f.default_row_commit_version = -1;
  if (f->f.size < -1) return corrupt(r, "add action with a negative size");
  if ((rc = pq_strdup(r, c->stats, rr, &f->f.stats))) return rc;
  if (f->f.stats == NULL && (rc = stats_from_parsed(r, c->stats_parsed, rr, &f->f.stats)))
    return rc;
  if ((rc = pq_partition_values(r, c, rr, f)) || (rc = pq_dv(r, c, rr, &f->f.dv))) return rc;
  if ((rc = file_key(r, f->f.path, &f->f.dv, &f->key, &f->key_len))) return rc;
  return apply_file(r, f);
}

/* A checkpoint's remove row: a tombstone (optional fields read as far as they are present and
 * well typed, as for JSON removes). */
static int pq_remove(replay *r, const pq_file_cols *c, int64_t row) {
  replay_remove *rm = tarn_arena_calloc(&r->s->arena, 1, sizeof *rm);
  if (rm == NULL) return oom(r->err);
  replay_file *f = &rm->rf;
  f->removed = true;
  int64_t rr = acol_child_row(c->action, row);
  int rc = pq_strdup(r, c->path, rr, &f->f.path);
  if (rc) return rc;
  if (f->f.path == NULL || f->f.path[0] == 0) return corrupt(r, "remove action without path");
  if (!acol_i64(c->deletion_timestamp, rr, &rm->deletion_timestamp)) rm->deletion_timestamp = -1;
  rm->data_change = acol_at(c->data_change, rr) >= 0 ? acol_bool(c->data_change, rr) : true;
  rm->extended_file_metadata = acol_at(c->extended_file_metadata, rr) >= 0
                                   ? (int8_t)acol_bool(c->extended_file_metadata, rr)
                                   : -1;
  if (!acol_i64(c->size, rr, &f->f.size) || f->f.size < 0) f->f.size = -1;
  f->f.modification_time = -1;
  if (!acol_i64(c->base_row_id, rr, &f->f.base_row_id)) f->f.base_row_id = -1;
  if (!acol_i64(c->default_row_commit_version, rr, &f->f.default_row_commit_version))
    f->f.default_row_commit_version = -1;
  if ((rc = pq_partition_values(r, c, rr, f)) || (rc = pq_dv(r, c, rr, &f->f.dv))) return rc;
  if ((rc = file_key(r, f->f.path, &f->f.dv, &f->key, &f->key_len))) return rc;
  return apply_file(r, f);
}

static int pq_protocol(replay *r, acol p, int64_t row) {
  int64_t rr = acol_child_row(p, row), rv, wv;
  if (!acol_i64(acol_child(p, "minReaderVersion"), rr, &rv) ||
      !acol_i64(acol_child(p, "minWriterVersion"), rr, &wv) || rv < 0 || rv > INT32_MAX || wv < 0 ||
      wv > INT32_MAX)
    return corrupt(r, "protocol action without valid minReaderVersion/minWriterVersion");
  delta_snapshot *s = r->s;
  s->min_reader_version = (int)rv;
  s->min_writer_version = (int)wv;
  int rc = pq_str_list(r, acol_child(p, "readerFeatures"), rr, &s->reader_features,
                       &s->n_reader_features);
  if (rc == 0)
    rc = pq_str_list(r, acol_child(p, "writerFeatures"), rr, &s->writer_features,
                     &s->n_writer_features);
  r->have_protocol = rc == 0;
  return rc;
}

static int pq_metadata(replay *r, acol m, int64_t row) {
  int64_t rr = acol_child_row(m, row);
  delta_snapshot *s = r->s;
  int rc;
  if ((rc = pq_strdup(r, acol_child(m, "id"), rr, &s->metadata_id)) ||
      (rc = pq_strdup(r, acol_child(m, "name"), rr, &s->name)) ||
      (rc = pq_strdup(r, acol_child(m, "description"), rr, &s->description)) ||
      (rc = pq_strdup(r, acol_child(m, "schemaString"), rr, &s->schema_string)))
    return rc;
  if (s->metadata_id == NULL || s->schema_string == NULL)
    return corrupt(r, "metaData action without id or schemaString");
  acol format = acol_child(m, "format");
  s->format_provider = NULL;
  if (acol_at(format, rr) >= 0 && (rc = pq_strdup(r, acol_child(format, "provider"),
                                                  acol_child_row(format, rr), &s->format_provider)))
    return rc;
  if (s->format_provider == NULL && (s->format_provider = rdups(r, "parquet")) == NULL)
    return oom(r->err);
  if ((rc = pq_str_list(r, acol_child(m, "partitionColumns"), rr, &s->partition_columns,
                        &s->n_partition_columns)) ||
      (rc = pq_str_map(r, acol_child(m, "configuration"), rr, &s->config_keys, &s->config_values,
                       &s->n_config)))
    return rc;
  if (!acol_i64(acol_child(m, "createdTime"), rr, &s->created_time)) s->created_time = -1;
  r->have_metadata = true;
  return 0;
}

static int pq_batch(replay *r, const struct ArrowSchema *schema, const struct ArrowArray *batch) {
  acol top = {schema, batch};
  acol add = acol_child(top, "add"), meta = acol_child(top, "metaData"),
       proto = acol_child(top, "protocol"), txn = acol_child(top, "txn"),
       dom = acol_child(top, "domainMetadata"), side = acol_child(top, "sidecar"),
       rem = acol_child(top, "remove");
  const pq_file_cols add_cols = pq_file_cols_of(add), rem_cols = pq_file_cols_of(rem);
  int rc = 0;
  for (int64_t i = 0; i < batch->length && rc == 0; i++) {
    int64_t row = acol_child_row(top, i);
    if (acol_at(add, row) >= 0) {
      rc = pq_add(r, &add_cols, row);
    } else if (acol_at(rem, row) >= 0) {
      rc = pq_remove(r, &rem_cols, row);
    } else if (acol_at(meta, row) >= 0) {
      rc = pq_metadata(r, meta, row);
    } else if (acol_at(proto, row) >= 0) {
      rc = pq_protocol(r, proto, row);
    } else if (acol_at(txn, row) >= 0) {
      int64_t tr = acol_child_row(txn, row), v;
      const char *app;
      if ((rc = pq_strdup(r, acol_child(txn, "appId"), tr, &app))) break;
      if (app == NULL || !acol_i64(acol_child(txn, "version"), tr, &v))
        rc = corrupt(r, "txn action without appId or version");
      else
        rc = set_txn(r, app, v);
    } else if (acol_at(dom, row) >= 0) {
      int64_t dr = acol_child_row(dom, row);
      const char *domain, *config;
      if ((rc = pq_strdup(r, acol_child(dom, "domain"), dr, &domain)) ||
          (rc = pq_strdup(r, acol_child(dom, "configuration"), dr, &config)))
        break;
      if (domain == NULL)
        rc = corrupt(r, "domainMetadata action without domain");
      else
        rc = set_domain(r, domain, config, acol_bool(acol_child(dom, "removed"), dr));
    } else if (acol_at(side, row) >= 0 && r->in_checkpoint) {
      const char *path;
      if ((rc = pq_strdup(r, acol_child(side, "path"), acol_child_row(side, row), &path))) break;
      if (path == NULL || path[0] == 0)
        rc = corrupt(r, "sidecar action without path");
      else
        rc = add_sidecar(r, path);
    }
  }
  return rc;
}

/* Whether a checkpoint file may hold remove rows: false only when its statistics say that
 * `remove.path`, which every remove has, is null in every row. Most checkpoints hold no removes,
 * and their remove column (a dozen leaf columns) then costs nothing to read. */
static bool has_remove_rows(const tarn_parquet_file *pf) {
  int col = -1;
  for (int i = 0; i < tarn_parquet_num_columns(pf) && col < 0; i++) {
    const char *p = tarn_parquet_column_path(pf, i);
    if (p && strcmp(p, "remove.path") == 0) col = i;
  }
  if (col < 0) return true; /* a remove struct without a path column: read it, to refuse it */
  for (int rg = 0; rg < tarn_parquet_num_row_groups(pf); rg++) {
    tarn_column_stats st;
    tarn_error ignored = {0};
    if (tarn_parquet_column_stats(pf, rg, col, &st, &ignored) != 0 || !st.has_null_count ||
        st.null_count != st.num_values)
      return true;
  }
  return false;
}

static int replay_parquet_file(replay *r, const char *path, const char *shown) {
  static const char *const wanted[] = {"add", "remove",         "metaData", "protocol",
                                       "txn", "domainMetadata", "sidecar"};
  enum { N_WANTED = sizeof wanted / sizeof *wanted };
  r->shown = shown;
  r->line_no = 0;
  tarn_error e = {0};
  tarn_parquet_file *pf = NULL;
  int rc = tarn_parquet_open(path, NULL, &pf, &e);
  if (rc) return tarn_err(r->err, rc, "delta table %s: %s: %s", r->table, shown, e.message);
  struct ArrowSchema fs;
  if ((rc = tarn_parquet_arrow_schema(pf, &fs, &e))) {
    tarn_parquet_close(pf);
    return tarn_err(r->err, rc, "delta table %s: %s: %s", r->table, shown, e.message);
  }
  const char *cols[N_WANTED];
  size_t n_cols = 0;
  for (size_t w = 0; w < N_WANTED; w++)
    for (int64_t i = 0; i < fs.n_children; i++)
      if (fs.children[i]->name && strcmp(fs.children[i]->name, wanted[w]) == 0) {
        if (strcmp(wanted[w], "remove") != 0 || has_remove_rows(pf)) cols[n_cols++] = wanted[w];
        break;
      }
  fs.release(&fs);
  if (n_cols == 0) {
    tarn_parquet_close(pf);
    return corrupt(r, "no action columns (not a checkpoint)");
  }
  tarn_scan_options so;
  memset(&so, 0, sizeof so);
  so.columns = cols;
  so.n_columns = n_cols;
  struct ArrowArrayStream st;
  if ((rc = tarn_parquet_scan(pf, &so, &st, &e))) {
    tarn_parquet_close(pf);
    return tarn_err(r->err, rc, "delta table %s: %s: %s", r->table, shown, e.message);
  }
  struct ArrowSchema schema;
  if (st.get_schema(&st, &schema) != 0) {
    const char *m = st.get_last_error(&st);
    rc = tarn_err(r->err, TARN_ECORRUPT, "delta table %s: %s: %s", r->table, shown,
                  m ? m : "cannot read the schema");
    st.release(&st);
    tarn_parquet_close(pf);
    return rc;
  }
  r->pf = pf; /* for is_int96 */
  r->int96_loaded = false;
  for (;;) {
    struct ArrowArray batch;
    if (st.get_next(&st, &batch) != 0) {
      int code = tarn_parquet_stream_error(&st);
      const char *m = st.get_last_error(&st);
      rc = tarn_err(r->err, code ? code : TARN_ECORRUPT, "delta table %s: %s: %s", r->table, shown,
                    m ? m : "cannot read");
      break;
    }
    if (batch.release == NULL) break; /* end of stream */
    rc = pq_batch(r, &schema, &batch);
    batch.release(&batch);
    if (rc) break;
  }
  r->pf = NULL;
  for (size_t i = 0; i < r->n_int96; i++)
    free(r->int96[i]);
  free(r->int96);
  r->int96 = NULL;
  r->n_int96 = 0;
  schema.release(&schema);
  st.release(&st);
  tarn_parquet_close(pf);
  return rc;
}

/* A malloc'd copy of s with %XX escapes decoded (malformed escapes are kept as they are). */
static char *percent_decode(const char *s) {
  char *out = malloc(strlen(s) + 1);
  if (out) tarn_percent_decode(s, out);
  return out;
}

/* Reads a checkpoint (every part, then the sidecars its parts name). */
static int replay_checkpoint(replay *r, const checkpoint *cp) {
  r->in_checkpoint = true;
  int rc = 0;
  for (int i = 0; i < cp->n_names && rc == 0; i++) {
    char shown[512], rel[512];
    snprintf(rel, sizeof rel, "_delta_log/%s", cp->names[i]);
    snprintf(shown, sizeof shown, "%s", rel);
    char *path = tarn_path_join(r->table, rel);
    if (path == NULL) return oom(r->err);
    rc = ends_with(cp->names[i], ".json") ? replay_json_file(r, path, shown)
                                          : replay_parquet_file(r, path, shown);
    free(path);
  }
  for (size_t i = 0; i < r->n_sidecars && rc == 0; i++) {
    const char *sc = r->sidecars[i];
    char *path = NULL;
    if (strncmp(sc, "file:", 5) == 0) {
      const char *p = sc + 5;
      if (strncmp(p, "//", 2) == 0) p += 2; /* file:///x and file:/x both name /x */
      path = percent_decode(p);
    } else if (strstr(sc, "://") != NULL || sc[0] == '/') {
      rc = tarn_err(r->err, TARN_EUNSUPPORTED,
                    "delta table %s: sidecar %s is not a file in _delta_log/_sidecars", r->table,
                    sc);
      break;
    } else {
      /* sidecars live in _delta_log/_sidecars; the action names them URL-encoded */
      char *name = percent_decode(sc);
      if (name && (strstr(name, "..") != NULL)) {
        free(name);
        rc = tarn_err(r->err, TARN_ECORRUPT,
                      "delta table %s: sidecar %s points outside _delta_log/_sidecars", r->table,
                      sc);
        break;
      }
      char *dir = tarn_path_join(r->table, "_delta_log/_sidecars");
      if (name && dir) path = tarn_path_join(dir, name);
      free(name);
      free(dir);
    }
    if (path == NULL) return oom(r->err);
    char shown[512];
    snprintf(shown, sizeof shown, "_delta_log/_sidecars/%s", sc);
    /* a sidecar adds files only: no nested sidecars */
    size_t keep = r->n_sidecars;
    rc = ends_with(sc, ".json") ? replay_json_file(r, path, shown)
                                : replay_parquet_file(r, path, shown);
    free(path);
    for (size_t k = keep; k < r->n_sidecars; k++)
      free(r->sidecars[k]);
    r->n_sidecars = keep;
  }
  r->in_checkpoint = false;
  return rc;
}

/* ---- The schema ----------------------------------------------------------------------------- */

static int schema_corrupt(replay *r, const char *what) {
  return tarn_err(r->err, TARN_ECORRUPT, "delta table %s: schemaString: %s", r->table, what);
}

static int parse_type(replay *r, const cJSON *j, int depth, delta_type **out);

static int parse_struct(replay *r, const cJSON *j, int depth, delta_type *t) {
  const cJSON *fields = cJSON_GetObjectItemCaseSensitive(j, "fields");
  if (!cJSON_IsArray(fields)) return schema_corrupt(r, "struct without a fields list");
  size_t n = (size_t)cJSON_GetArraySize(fields);
  t->kind = DELTA_TYPE_STRUCT;
  t->fields = tarn_arena_calloc(&r->s->arena, n ? n : 1, sizeof *t->fields);
  if (t->fields == NULL) return oom(r->err);
  const cJSON *f;
  cJSON_ArrayForEach(f, fields) {
    if (t->n_fields >= n) break;
    delta_field *df = &t->fields[t->n_fields];
    const char *name = cJSON_IsObject(f) ? delta_json_str(f, "name") : NULL;
    if (name == NULL) return schema_corrupt(r, "a struct field without a name");
    if ((df->name = rdups(r, name)) == NULL) return oom(r->err);
    int rc = parse_type(r, cJSON_GetObjectItemCaseSensitive(f, "type"), depth + 1, &df->type);
    if (rc) return rc;
    const cJSON *nullable = cJSON_GetObjectItemCaseSensitive(f, "nullable");
    df->nullable = nullable == NULL || !cJSON_IsFalse(nullable);
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(f, "metadata");
    df->field_id = -1;
    if (cJSON_IsObject(meta)) {
      char *text = cJSON_PrintUnformatted(meta);
      if (text == NULL) return oom(r->err);
      df->metadata_json = rdups(r, text);
      free(text);
      const char *phys = delta_json_str(meta, "delta.columnMapping.physicalName");
      if (phys && (df->physical_name = rdups(r, phys)) == NULL) return oom(r->err);
      int64_t id;
      if (delta_json_i64(cJSON_GetObjectItemCaseSensitive(meta, "delta.columnMapping.id"), &id))
        df->field_id = id;
    } else {
      df->metadata_json = rdups(r, "{}");
    }
    if (df->metadata_json == NULL) return oom(r->err);
    t->n_fields++;
  }
  return 0;
}

static int parse_primitive(replay *r, const char *name, delta_type *t) {
  t->kind = DELTA_TYPE_PRIMITIVE;
  if ((t->name = rdups(r, name)) == NULL) return oom(r->err);
  if (strncmp(name, "decimal", 7) == 0) {
    const char *p = name + 7;
    while (*p == ' ')
      p++;
    if (*p == 0) { /* bare "decimal": Spark's default precision */
      t->precision = 10;
      t->scale = 0;
      return 0;
    }
    char *end;
    if (*p++ != '(') return schema_corrupt(r, "malformed decimal type");
    long prec = strtol(p, &end, 10);
    p = end;
    while (*p == ' ')
      p++;
    if (*p++ != ',') return schema_corrupt(r, "malformed decimal type");
    long scale = strtol(p, &end, 10);
    p = end;
    while (*p == ' ')
      p++;
    if (*p != ')' || p[1] != 0 || prec < 1 || prec > 38 || scale < 0 || scale > prec)
      return schema_corrupt(r, "malformed decimal type");
    t->precision = (int)prec;
    t->scale = (int)scale;
  }
  return 0;
}

static int parse_type(replay *r, const cJSON *j, int depth, delta_type **out) {
  if (depth > DELTA_MAX_TYPE_DEPTH) return schema_corrupt(r, "types nested too deeply");
  delta_type *t = tarn_arena_calloc(&r->s->arena, 1, sizeof *t);
  if (t == NULL) return oom(r->err);
  *out = t;
  if (cJSON_IsString(j)) return parse_primitive(r, j->valuestring, t);
  const char *kind = cJSON_IsObject(j) ? delta_json_str(j, "type") : NULL;
  if (kind == NULL) return schema_corrupt(r, "a type that is neither a name nor an object");
  if (strcmp(kind, "struct") == 0) return parse_struct(r, j, depth, t);
  if (strcmp(kind, "array") == 0) {
    t->kind = DELTA_TYPE_ARRAY;
    t->contains_null = !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "containsNull"));
    return parse_type(r, cJSON_GetObjectItemCaseSensitive(j, "elementType"), depth + 1,
                      &t->element);
  }
  if (strcmp(kind, "map") == 0) {
    t->kind = DELTA_TYPE_MAP;
    t->value_contains_null =
        !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "valueContainsNull"));
    int rc = parse_type(r, cJSON_GetObjectItemCaseSensitive(j, "keyType"), depth + 1, &t->key);
    if (rc) return rc;
    return parse_type(r, cJSON_GetObjectItemCaseSensitive(j, "valueType"), depth + 1, &t->value);
  }
  return schema_corrupt(r, "unknown complex type");
}

static int parse_schema(replay *r) {
  cJSON *j = cJSON_Parse(r->s->schema_string);
  if (j == NULL) return schema_corrupt(r, "not valid JSON");
  int rc;
  const char *kind = delta_json_str(j, "type");
  if (kind == NULL || strcmp(kind, "struct") != 0)
    rc = schema_corrupt(r, "the top-level type is not a struct");
  else
    rc = parse_type(r, j, 0, &r->s->schema);
  cJSON_Delete(j);
  return rc;
}

/* ---- Finishing the snapshot ----------------------------------------------------------------- */

static int check_protocol(replay *r) {
  static const char *const supported[] = {
      "columnMapping",       "deletionVectors",      "timestampNtz",
      "typeWidening",        "typeWidening-preview", "v2Checkpoint",
      "vacuumProtocolCheck", "variantType",          "variantType-preview"};
  delta_snapshot *s = r->s;
  if (s->min_reader_version < 1)
    return tarn_err(r->err, TARN_ECORRUPT, "delta table %s: invalid minReaderVersion %d", r->table,
                    s->min_reader_version);
  if (s->min_reader_version > 3)
    return tarn_err(r->err, TARN_EUNSUPPORTED,
                    "delta table %s: table requires reader version %d, tarn reads versions 1 to 3",
                    r->table, s->min_reader_version);
  if (s->min_reader_version < 3) return 0;
  if (s->reader_features == NULL)
    return tarn_err(r->err, TARN_ECORRUPT,
                    "delta table %s: reader version 3 without a readerFeatures list", r->table);
  for (size_t i = 0; i < s->n_reader_features; i++) {
    bool ok = false;
    for (size_t k = 0; k < sizeof supported / sizeof *supported && !ok; k++)
      ok = strcmp(s->reader_features[i], supported[k]) == 0;
    if (!ok)
      return tarn_err(r->err, TARN_EUNSUPPORTED,
                      "delta table %s: table requires reader feature '%s', which tarn does not "
                      "support",
                      r->table, s->reader_features[i]);
  }
  return 0;
}

static const char *pv_lookup(const replay_file *f, const char *key, bool *found) {
  for (size_t i = 0; i < f->n_pv; i++)
    if (strcmp(f->pv_keys[i], key) == 0) {
      *found = true;
      return f->pv_values[i];
    }
  *found = false;
  return NULL;
}

/* Path, then deletion vector id. */
static int cmp_path_dv(const char *px, const delta_dv *x, const char *py, const delta_dv *y) {
  int c = strcmp(px, py);
  if (c) return c;
  if (x->storage_type != y->storage_type) return x->storage_type < y->storage_type ? -1 : 1;
  if (x->storage_type == 0) return 0;
  c = strcmp(x->path_or_inline, y->path_or_inline);
  return c ? c : (x->offset > y->offset) - (x->offset < y->offset);
}

static int cmp_file(const void *a, const void *b) {
  const delta_file *x = a, *y = b;
  return cmp_path_dv(x->path, &x->dv, y->path, &y->dv);
}

static int cmp_tombstone(const void *a, const void *b) {
  const delta_tombstone *x = a, *y = b;
  return cmp_path_dv(x->path, &x->dv, y->path, &y->dv);
}

/* The retention of removed files: delta.deletedFileRetentionDuration, or one week when it is
 * unset or unparsable (a snapshot still loads; vacuum reports the bad value). */
static int64_t tombstone_retention_ms(const delta_snapshot *s) {
  const char *prop = delta_snapshot_config(s, "delta.deletedFileRetentionDuration");
  int64_t ms;
  tarn_error ignored = {0};
  if (prop == NULL || delta_parse_interval_ms(prop, &ms, &ignored) != 0)
    return DELTA_DEFAULT_RETENTION_MS;
  return ms;
}

static int64_t clock_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The tombstones of the reconciled files that have not expired (see delta_log.h). */
static int finish_tombstones(replay *r) {
  delta_snapshot *s = r->s;
  s->tombstone_retention_ms = tombstone_retention_ms(s);
  /* both at most ~9.2e15 (the parser's bound, the clock): no overflow */
  s->tombstone_cutoff_ms = clock_ms() - s->tombstone_retention_ms;
  size_t n = 0;
  for (size_t i = 0; i < r->files.cap; i++) {
    const replay_file *f = r->files.slots[i].value;
    n += f != NULL && f->removed;
  }
  s->tombstones = tarn_arena_calloc(&s->arena, n ? n : 1, sizeof *s->tombstones);
  if (s->tombstones == NULL) return oom(r->err);
  for (size_t i = 0; i < r->files.cap; i++) {
    const replay_file *f = r->files.slots[i].value;
    if (f == NULL || !f->removed) continue;
    const replay_remove *rm = (const replay_remove *)f;
    /* PROTOCOL.md: expired once now > deletionTimestamp + retention; absent counts as 0 */
    int64_t deleted = rm->deletion_timestamp >= 0 ? rm->deletion_timestamp : 0;
    if (deleted <= s->tombstone_cutoff_ms) continue;
    s->tombstones[s->n_tombstones++] = (delta_tombstone){
        .path = f->f.path,
        .deletion_timestamp = rm->deletion_timestamp,
        .data_change = rm->data_change,
        .extended_file_metadata = rm->extended_file_metadata,
        .partition_keys = f->pv_keys,
        .partition_values = f->pv_values,
        .n_partition_values = f->n_pv,
        .size = f->f.size,
        .dv = f->f.dv,
        .base_row_id = f->f.base_row_id,
        .default_row_commit_version = f->f.default_row_commit_version,
    };
  }
  if (s->n_tombstones > 1)
    qsort(s->tombstones, s->n_tombstones, sizeof *s->tombstones, cmp_tombstone);
  return 0;
}

static int finish_snapshot(replay *r) {
  delta_snapshot *s = r->s;
  if (!r->have_protocol)
    return tarn_err(r->err, TARN_ECORRUPT, "delta table %s: no protocol action in version %lld",
                    r->table, (long long)s->version);
  if (!r->have_metadata)
    return tarn_err(r->err, TARN_ECORRUPT, "delta table %s: no metaData action in version %lld",
                    r->table, (long long)s->version);
  int rc = check_protocol(r);
  if (rc == 0) rc = parse_schema(r);
  if (rc) return rc;

  /* the key each partition column has in partitionValues: its physical name under column
   * mapping, else its name */
  size_t np = s->n_partition_columns;
  const char **pkeys = tarn_arena_calloc(&s->arena, np ? np : 1, sizeof *pkeys);
  if (pkeys == NULL) return oom(r->err);
  for (size_t c = 0; c < np; c++) {
    pkeys[c] = s->partition_columns[c];
    for (size_t k = 0; k < s->schema->n_fields; k++)
      if (strcmp(s->schema->fields[k].name, s->partition_columns[c]) == 0 &&
          s->schema->fields[k].physical_name)
        pkeys[c] = s->schema->fields[k].physical_name;
  }

  size_t n = 0;
  for (size_t i = 0; i < r->files.cap; i++) {
    const replay_file *f = r->files.slots[i].value;
    n += f != NULL && !f->removed;
  }
  s->files = tarn_arena_calloc(&s->arena, n ? n : 1, sizeof *s->files);
  if (s->files == NULL) return oom(r->err);
  for (size_t i = 0; i < r->files.cap; i++) {
    replay_file *f = r->files.slots[i].value;
    if (f == NULL || f->removed) continue;
    delta_file *df = &s->files[s->n_files++];
    *df = f->f;
    df->partition_values = tarn_arena_calloc(&s->arena, np ? np : 1, sizeof(char *));
    if (df->partition_values == NULL) return oom(r->err);
    for (size_t c = 0; c < np; c++) {
      bool found;
      const char *v = pv_lookup(f, pkeys[c], &found);
      if (!found) v = pv_lookup(f, s->partition_columns[c], &found);
      df->partition_values[c] = v;
    }
  }
  if (s->n_files > 1) qsort(s->files, s->n_files, sizeof *s->files, cmp_file);
  if ((rc = finish_tombstones(r))) return rc;

  n = 0;
  for (size_t i = 0; i < r->txns.cap; i++)
    n += r->txns.slots[i].value != NULL;
  s->txn_app_ids = tarn_arena_calloc(&s->arena, n ? n : 1, sizeof(char *));
  s->txn_versions = tarn_arena_calloc(&s->arena, n ? n : 1, sizeof(int64_t));
  if (!s->txn_app_ids || !s->txn_versions) return oom(r->err);
  for (size_t i = 0; i < r->txns.cap; i++) {
    strmap_entry *e = &r->txns.slots[i];
    if (e->value == NULL) continue;
    if ((s->txn_app_ids[s->n_txns] = rdup(r, e->key, e->key_len)) == NULL) return oom(r->err);
    s->txn_versions[s->n_txns++] = *(int64_t *)e->value;
  }
  n = 0;
  for (size_t i = 0; i < r->domains.cap; i++)
    n += r->domains.slots[i].value != NULL;
  s->domains = tarn_arena_calloc(&s->arena, n ? n : 1, sizeof(char *));
  s->domain_configs = tarn_arena_calloc(&s->arena, n ? n : 1, sizeof(char *));
  if (!s->domains || !s->domain_configs) return oom(r->err);
  for (size_t i = 0; i < r->domains.cap; i++) {
    strmap_entry *e = &r->domains.slots[i];
    if (e->value == NULL) continue;
    if ((s->domains[s->n_domains] = rdup(r, e->key, e->key_len)) == NULL) return oom(r->err);
    s->domain_configs[s->n_domains++] = e->value;
  }
  return 0;
}

/* ---- Commit information (timestamps, history) ----------------------------------------------- */

typedef struct commit_info {
  bool found;
  int64_t ict, ts;              /* -1: absent */
  char *operation, *parameters; /* malloc'd */
  bool want_details;
} commit_info;

static int commit_info_line(void *ctx, const char *line, size_t len, int line_no) {
  (void)line_no;
  commit_info *ci = ctx;
  if (ci->found) return 0;
  /* only a line naming commitInfo is worth parsing */
  static const char needle[] = "\"commitInfo\"";
  bool has = false;
  for (size_t i = 0; i + sizeof needle - 1 <= len && !has; i++)
    has = memcmp(line + i, needle, sizeof needle - 1) == 0;
  if (!has) return 0;
  cJSON *j = cJSON_ParseWithLength(line, len);
  const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "commitInfo");
  if (cJSON_IsObject(c)) {
    ci->found = true;
    if (!delta_json_i64(cJSON_GetObjectItemCaseSensitive(c, "inCommitTimestamp"), &ci->ict))
      ci->ict = -1;
    if (!delta_json_i64(cJSON_GetObjectItemCaseSensitive(c, "timestamp"), &ci->ts)) ci->ts = -1;
    if (ci->want_details) {
      const char *op = delta_json_str(c, "operation");
      if (op) ci->operation = strdup(op);
      const cJSON *params = cJSON_GetObjectItemCaseSensitive(c, "operationParameters");
      if (params && !cJSON_IsNull(params)) ci->parameters = cJSON_PrintUnformatted(params);
    }
  }
  cJSON_Delete(j);
  return 0;
}

static char *commit_path(const char *table, int64_t v, char *shown, size_t cap) {
  snprintf(shown, cap, "_delta_log/%020lld.json", (long long)v);
  return tarn_path_join(table, shown);
}

/* The time of commit v: inCommitTimestamp, else commitInfo.timestamp, else the file's mtime. */
static int commit_time(const char *table, int64_t v, commit_info *ci, int64_t *ts_ms,
                       tarn_error *err) {
  char shown[64];
  char *path = commit_path(table, v, shown, sizeof shown);
  if (path == NULL) return oom(err);
  char *text;
  size_t len;
  int rc = read_whole(table, path, shown, &text, &len, err);
  if (rc == 0) {
    ci->ict = ci->ts = -1;
    for_each_line(text, len, commit_info_line, ci);
    free(text);
    *ts_ms = ci->ict >= 0 ? ci->ict : ci->ts >= 0 ? ci->ts : file_mtime_ms(path);
  }
  free(path);
  return rc;
}

/* The time of version v of a listed log (a checkpoint-only version: the checkpoint's mtime). */
static int version_time(const char *table, const log_listing *l, int64_t v, int64_t *ts_ms,
                        tarn_error *err) {
  if (listing_has_commit(l, v)) {
    commit_info ci = {0};
    return commit_time(table, v, &ci, ts_ms, err);
  }
  for (size_t i = 0; i < l->n_cps; i++)
    if (l->cps[i].version == v) {
      char rel[512];
      snprintf(rel, sizeof rel, "_delta_log/%s", l->cps[i].names[0]);
      char *path = tarn_path_join(table, rel);
      if (path == NULL) return oom(err);
      *ts_ms = file_mtime_ms(path);
      free(path);
      return 0;
    }
  *ts_ms = 0;
  return 0;
}

/* ---- Loading -------------------------------------------------------------------------------- */

static int load_listed(const char *table, const log_listing *l, int64_t version,
                       delta_snapshot **out, tarn_error *err) {
  int64_t latest = listing_latest(l), earliest = listing_earliest(l);
  if (earliest < 0)
    return tarn_err(err, TARN_ECORRUPT,
                    "delta table %s: versions not contiguous: the log starts at version %lld "
                    "without a checkpoint (missing version 0)",
                    table, (long long)l->commits[0]);
  if (version < 0) version = latest;
  if (version > latest || version < earliest)
    return tarn_err(err, TARN_EINVAL,
                    "delta table %s: no version %lld: available versions are %lld to %lld", table,
                    (long long)version, (long long)earliest, (long long)latest);
  const checkpoint *cp = pick_checkpoint(l, version);
  int64_t first = cp ? cp->version + 1 : 0;
  for (int64_t v = first; v <= version; v++)
    if (!listing_has_commit(l, v))
      return tarn_err(err, TARN_ECORRUPT,
                      "delta table %s: versions not contiguous: missing version %lld "
                      "(_delta_log/%020lld.json) before version %lld",
                      table, (long long)v, (long long)v, (long long)version);

  delta_snapshot *s = calloc(1, sizeof *s);
  if (s == NULL) return oom(err);
  replay r;
  memset(&r, 0, sizeof r);
  r.table = table;
  r.s = s;
  r.err = err;
  s->version = version;
  s->created_time = -1;
  int rc = 0;
  if ((s->table_dir = tarn_arena_strndup(&s->arena, table, strlen(table))) == NULL) rc = oom(err);
  if (rc == 0 && cp) rc = replay_checkpoint(&r, cp);
  for (int64_t v = first; v <= version && rc == 0;) {
    char shown[96];
    int64_t end = compaction_end(l, v, version);
    if (end > v) {
      snprintf(shown, sizeof shown, "_delta_log/%020lld.%020lld.compacted.json", (long long)v,
               (long long)end);
      char *path = tarn_path_join(table, shown);
      bool used = false;
      rc = path ? replay_compaction(&r, path, shown, &used) : oom(err);
      free(path);
      if (used || rc) {
        v = end + 1;
        continue;
      }
    }
    char *path = commit_path(table, v, shown, sizeof shown);
    rc = path ? replay_json_file(&r, path, shown) : oom(err);
    free(path);
    v++;
  }
  if (rc == 0) rc = finish_snapshot(&r);
  if (rc == 0) rc = version_time(table, l, version, &s->timestamp_ms, err);
  replay_free(&r);
  if (rc) {
    delta_snapshot_free(s);
    return rc;
  }
  *out = s;
  return 0;
}

bool delta_is_table(const char *dir) {
  char *p = tarn_path_join(dir, "_delta_log");
  if (p == NULL) return false;
  struct stat st;
  bool ok = stat(p, &st) == 0 && S_ISDIR(st.st_mode);
  free(p);
  return ok;
}

int delta_snapshot_load(const char *table_dir, int64_t version, delta_snapshot **out,
                        tarn_error *err) {
  *out = NULL;
  log_listing l;
  int rc = list_log(table_dir, &l, err);
  if (rc) return rc;
  rc = load_listed(table_dir, &l, version, out, err);
  listing_free(&l);
  return rc;
}

int delta_snapshot_load_at(const char *table_dir, int64_t timestamp_ms, delta_snapshot **out,
                           tarn_error *err) {
  *out = NULL;
  log_listing l;
  int rc = list_log(table_dir, &l, err);
  if (rc) return rc;
  int64_t latest = listing_latest(&l), earliest = listing_earliest(&l), found = -1, ts = 0;
  if (earliest < 0) earliest = l.n_cps ? l.cps[0].version : l.commits[0];
  /* newest first: the usual question ("as of a recent time") reads one or two commits */
  for (int64_t v = latest; v >= earliest && rc == 0; v--) {
    if (!listing_has_commit(&l, v)) {
      bool is_cp = false;
      for (size_t i = 0; i < l.n_cps; i++)
        is_cp |= l.cps[i].version == v;
      if (!is_cp) continue;
    }
    rc = version_time(table_dir, &l, v, &ts, err);
    if (rc == 0 && ts <= timestamp_ms) found = v;
    if (found >= 0) break;
  }
  if (rc == 0 && found < 0)
    rc = tarn_err(err, TARN_EINVAL,
                  "delta table %s: no version committed at or before %lld ms (the earliest, "
                  "version %lld, was committed at %lld ms)",
                  table_dir, (long long)timestamp_ms, (long long)earliest, (long long)ts);
  if (rc == 0) rc = load_listed(table_dir, &l, found, out, err);
  listing_free(&l);
  return rc;
}

void delta_snapshot_free(delta_snapshot *s) {
  if (s == NULL) return;
  tarn_arena_free(&s->arena);
  free(s);
}

const char *delta_snapshot_config(const delta_snapshot *s, const char *key) {
  const char *found = NULL;
  for (size_t i = 0; i < s->n_config; i++)
    if (strcmp(s->config_keys[i], key) == 0) found = s->config_values[i];
  return found;
}

int delta_history(const char *table_dir, tarn_arena *a, delta_commit **out, size_t *n,
                  tarn_error *err) {
  *out = NULL;
  *n = 0;
  log_listing l;
  int rc = list_log(table_dir, &l, err);
  if (rc) return rc;
  delta_commit *c = tarn_arena_calloc(a, l.n_commits ? l.n_commits : 1, sizeof *c);
  if (c == NULL) rc = oom(err);
  for (size_t i = 0; i < l.n_commits && rc == 0; i++) {
    commit_info ci = {0};
    ci.want_details = true;
    c[i].version = l.commits[i];
    rc = commit_time(table_dir, l.commits[i], &ci, &c[i].timestamp_ms, err);
    if (rc == 0 && ci.operation &&
        (c[i].operation = tarn_arena_strndup(a, ci.operation, strlen(ci.operation))) == NULL)
      rc = oom(err);
    if (rc == 0 && ci.parameters &&
        (c[i].parameters_json = tarn_arena_strndup(a, ci.parameters, strlen(ci.parameters))) ==
            NULL)
      rc = oom(err);
    free(ci.operation);
    free(ci.parameters);
  }
  if (rc == 0) {
    *out = c;
    *n = l.n_commits;
  }
  listing_free(&l);
  return rc;
}

/* --- Writing a schema ---------------------------------------------------------------------- */

static cJSON *type_json(const delta_type *t, int depth);

static cJSON *field_json(const delta_field *f, int depth) {
  cJSON *o = cJSON_CreateObject();
  cJSON *type = type_json(f->type, depth + 1);
  cJSON *meta = cJSON_Parse(f->metadata_json && *f->metadata_json ? f->metadata_json : "{}");
  if (o == NULL || type == NULL || meta == NULL || !cJSON_AddStringToObject(o, "name", f->name)) {
    cJSON_Delete(o);
    cJSON_Delete(type);
    cJSON_Delete(meta);
    return NULL;
  }
  cJSON_AddItemToObject(o, "type", type);
  cJSON_AddBoolToObject(o, "nullable", f->nullable);
  cJSON_AddItemToObject(o, "metadata", meta);
  return o;
}

/* A type: a string for primitives, an object for struct, array and map. */
static cJSON *type_json(const delta_type *t, int depth) {
  if (t == NULL || depth > 64) return NULL;
  if (t->kind == DELTA_TYPE_PRIMITIVE) return cJSON_CreateString(t->name);
  cJSON *o = cJSON_CreateObject();
  if (o == NULL) return NULL;
  bool ok = true;
  switch (t->kind) {
  case DELTA_TYPE_STRUCT: {
    cJSON *fields = cJSON_CreateArray();
    ok = cJSON_AddStringToObject(o, "type", "struct") && fields;
    for (size_t i = 0; ok && i < t->n_fields; i++) {
      cJSON *f = field_json(&t->fields[i], depth);
      ok = f != NULL;
      if (ok) cJSON_AddItemToArray(fields, f);
    }
    if (fields) cJSON_AddItemToObject(o, "fields", fields);
    break;
  }
  case DELTA_TYPE_ARRAY: {
    cJSON *e = type_json(t->element, depth + 1);
    ok = cJSON_AddStringToObject(o, "type", "array") && e;
    if (e) cJSON_AddItemToObject(o, "elementType", e);
    ok = ok && cJSON_AddBoolToObject(o, "containsNull", t->contains_null);
    break;
  }
  case DELTA_TYPE_MAP: {
    cJSON *k = type_json(t->key, depth + 1), *v = type_json(t->value, depth + 1);
    ok = cJSON_AddStringToObject(o, "type", "map") && k && v;
    if (k) cJSON_AddItemToObject(o, "keyType", k);
    if (v) cJSON_AddItemToObject(o, "valueType", v);
    ok = ok && cJSON_AddBoolToObject(o, "valueContainsNull", t->value_contains_null);
    break;
  }
  default: ok = false; break;
  }
  if (!ok) {
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}

int delta_schema_json(const delta_type *t, tarn_buf *out, tarn_error *err) {
  if (t == NULL || t->kind != DELTA_TYPE_STRUCT)
    return tarn_err(err, TARN_EINVAL, "a Delta schema is a struct at the top");
  cJSON *j = type_json(t, 0);
  char *text = j ? cJSON_PrintUnformatted(j) : NULL;
  cJSON_Delete(j);
  if (text == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory writing a Delta schema");
  int rc = tarn_buf_append(out, text, strlen(text), err);
  cJSON_free(text);
  return rc;
}
