/*
 * Change data feed reading (see delta_cdf.h for the rules).
 *
 * Each commit of the range is read once, line by line: its actions are collected (strings in the
 * result's arena), then turned into change entries when the commit is complete, because whether
 * an add is an insert depends on actions that may come after it (a cdc action anywhere in the
 * commit, a remove of the same path). Snapshots are loaded for the start version (is change data
 * recorded there?), the end version (the schema to read with) and, only for a remove action
 * without partition values on a partitioned table (writers before extendedFileMetadata), the
 * version before its commit, where the removed file was live.
 */
#include "table/delta/delta_cdf.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fs.h"
#include "common/path.h"
#include "table/delta/dv.h"

/* A commit file larger than this is refused rather than read into memory. */
#define CDF_MAX_COMMIT_FILE ((size_t)1 << 30)

typedef enum act_kind { ACT_ADD, ACT_REMOVE, ACT_CDC } act_kind;

/* A file action of the commit being read. */
typedef struct raw_action {
  act_kind kind;
  const char *path;
  int64_t size;
  bool has_pv;     /* the action has a partitionValues object */
  const char **pv; /* per partition column of the end snapshot */
  delta_dv dv;
  bool paired; /* a remove whose path is also added by the commit */
} raw_action;

typedef struct loader {
  const char *table;
  delta_cdf *c;
  tarn_error *err;
  const char **pkeys; /* partitionValues key of each end partition column */
  size_t n_pkeys;
  /* the commit being read */
  int64_t version;
  char shown[64];
  int line_no;
  raw_action *acts;
  size_t n_acts, cap_acts;
  bool has_cdc, seen_info, cdf_disabled;
  int64_t ict, ts;
  /* output growth */
  size_t cap_files;
  /* the snapshot before the current commit, loaded on demand */
  delta_snapshot *prev;
} loader;

static int oom(tarn_error *err) { return tarn_err(err, TARN_ENOMEM, "out of memory"); }

static int corrupt(loader *l, const char *what) {
  return tarn_err(l->err, TARN_ECORRUPT, "delta table %s: %s line %d: %s", l->table, l->shown,
                  l->line_no, what);
}

static char *adup(loader *l, const char *s) {
  return tarn_arena_strndup(&l->c->arena, s, strlen(s));
}

/* Delta's boolean table properties are read case-insensitively, as Spark's toBoolean does. */
static bool cdf_enabled_value(const char *v) { return v != NULL && strcasecmp(v, "true") == 0; }

/* ---- Reading one commit --------------------------------------------------------------------- */

static int parse_dv(loader *l, const cJSON *j, delta_dv *dv) {
  memset(dv, 0, sizeof *dv);
  dv->offset = -1;
  if (j == NULL || cJSON_IsNull(j)) return 0;
  const char *st = delta_json_str(j, "storageType");
  const char *p = delta_json_str(j, "pathOrInlineDv");
  int64_t size, card, off;
  if (!cJSON_IsObject(j) || st == NULL || strlen(st) != 1 || p == NULL)
    return corrupt(l, "deletionVector without storageType or pathOrInlineDv");
  if (!delta_json_i64(cJSON_GetObjectItemCaseSensitive(j, "sizeInBytes"), &size) || size < 0 ||
      size > INT32_MAX ||
      !delta_json_i64(cJSON_GetObjectItemCaseSensitive(j, "cardinality"), &card) || card < 0)
    return corrupt(l, "deletionVector sizeInBytes or cardinality missing or out of range");
  const cJSON *o = cJSON_GetObjectItemCaseSensitive(j, "offset");
  if (o && !cJSON_IsNull(o)) {
    if (!delta_json_i64(o, &off) || off < 0 || off > INT32_MAX)
      return corrupt(l, "deletionVector offset out of range");
    dv->offset = (int32_t)off;
  }
  dv->storage_type = st[0];
  dv->size_in_bytes = (int32_t)size;
  dv->cardinality = card;
  if ((dv->path_or_inline = adup(l, p)) == NULL) return oom(l->err);
  return 0;
}

static int parse_file_action(loader *l, act_kind kind, const cJSON *j) {
  if (!cJSON_IsObject(j)) return corrupt(l, "a file action is not an object");
  const char *path = delta_json_str(j, "path");
  if (path == NULL || path[0] == 0) return corrupt(l, "a file action without a path");
  /* dataChange false marks a rewrite of rows that stay the same (OPTIMIZE, purges): no change.
   * The cdc action's own dataChange is always false and means nothing here. */
  const cJSON *dc = cJSON_GetObjectItemCaseSensitive(j, "dataChange");
  if (kind != ACT_CDC && cJSON_IsFalse(dc)) return 0;
  if (kind == ACT_CDC) l->has_cdc = true;
  if (l->n_acts == l->cap_acts) {
    size_t cap = l->cap_acts ? l->cap_acts * 2 : 64;
    raw_action *p = realloc(l->acts, cap * sizeof *p);
    if (p == NULL) return oom(l->err);
    l->acts = p;
    l->cap_acts = cap;
  }
  raw_action *a = &l->acts[l->n_acts];
  memset(a, 0, sizeof *a);
  a->kind = kind;
  a->size = -1;
  if ((a->path = adup(l, path)) == NULL) return oom(l->err);
  const cJSON *size = cJSON_GetObjectItemCaseSensitive(j, "size");
  if (size && !cJSON_IsNull(size) && (!delta_json_i64(size, &a->size) || a->size < 0))
    return corrupt(l, "a file action's size is not a non-negative integer");
  int rc = parse_dv(l, cJSON_GetObjectItemCaseSensitive(j, "deletionVector"), &a->dv);
  if (rc) return rc;
  if (kind == ACT_CDC && a->dv.storage_type)
    return corrupt(l, "a cdc action with a deletion vector");
  a->pv = tarn_arena_calloc(&l->c->arena, l->n_pkeys + 1, sizeof *a->pv);
  if (a->pv == NULL) return oom(l->err);
  const cJSON *pv = cJSON_GetObjectItemCaseSensitive(j, "partitionValues");
  if (pv && !cJSON_IsNull(pv)) {
    if (!cJSON_IsObject(pv)) return corrupt(l, "partitionValues is not an object");
    a->has_pv = true;
    for (size_t k = 0; k < l->n_pkeys; k++) {
      const cJSON *v = cJSON_GetObjectItemCaseSensitive(pv, l->pkeys[k]);
      if (v == NULL || cJSON_IsNull(v)) continue; /* absent: a null value */
      if (!cJSON_IsString(v)) return corrupt(l, "a partition value is neither a string nor null");
      if ((a->pv[k] = adup(l, v->valuestring)) == NULL) return oom(l->err);
    }
  }
  l->n_acts++;
  return 0;
}

static int parse_line(loader *l, const char *line, size_t len) {
  cJSON *j = cJSON_ParseWithLength(line, len);
  if (j == NULL || !cJSON_IsObject(j)) {
    cJSON_Delete(j);
    return corrupt(l, "not a JSON object (malformed action)");
  }
  int rc = 0;
  for (const cJSON *a = j->child; a && rc == 0; a = a->next) {
    const char *kind = a->string;
    if (kind == NULL) continue;
    if (strcmp(kind, "add") == 0) {
      rc = parse_file_action(l, ACT_ADD, a);
    } else if (strcmp(kind, "remove") == 0) {
      rc = parse_file_action(l, ACT_REMOVE, a);
    } else if (strcmp(kind, "cdc") == 0) {
      rc = parse_file_action(l, ACT_CDC, a);
    } else if (strcmp(kind, "commitInfo") == 0 && !l->seen_info && cJSON_IsObject(a)) {
      /* the first commitInfo is the commit's, as the snapshot reader takes it */
      l->seen_info = true;
      if (!delta_json_i64(cJSON_GetObjectItemCaseSensitive(a, "inCommitTimestamp"), &l->ict))
        l->ict = -1;
      if (!delta_json_i64(cJSON_GetObjectItemCaseSensitive(a, "timestamp"), &l->ts)) l->ts = -1;
    } else if (strcmp(kind, "metaData") == 0) {
      const cJSON *conf = cJSON_GetObjectItemCaseSensitive(a, "configuration");
      if (!cdf_enabled_value(
              cJSON_IsObject(conf) ? delta_json_str(conf, "delta.enableChangeDataFeed") : NULL))
        l->cdf_disabled = true;
    }
  }
  cJSON_Delete(j);
  return rc;
}

/* Reads a whole commit file (NUL-terminated, malloc'd); 1 when it does not exist. */
static int read_commit(loader *l, const char *path, char **out, size_t *len, int64_t *mtime_ms) {
  int e = tarn_read_file(path, CDF_MAX_COMMIT_FILE, out, len, mtime_ms);
  if (e == 0) return 0;
  if (e == ENOENT) return 1; /* the caller explains */
  if (e == ENOMEM) return oom(l->err);
  if (e == EFBIG)
    return tarn_err(l->err, TARN_ENOMEM, "delta table %s: %s is larger than %zu bytes", l->table,
                    l->shown, (size_t)CDF_MAX_COMMIT_FILE);
  return tarn_err(l->err, TARN_EIO, "delta table %s: cannot read %s: %s", l->table, l->shown,
                  e == EINVAL ? "not a regular file" : strerror(e));
}

/* The oldest commit file still in the log (for the message when one in the range is gone). */
static int64_t earliest_commit(const char *table) {
  char *log = tarn_path_join(table, "_delta_log");
  DIR *d = log ? opendir(log) : NULL;
  free(log);
  int64_t best = -1;
  struct dirent *e;
  while (d && (e = readdir(d)) != NULL) {
    const char *n = e->d_name;
    if (strlen(n) != 25 || strcmp(n + 20, ".json") != 0) continue;
    int64_t v = 0;
    bool ok = true;
    for (int i = 0; i < 20 && ok; i++) {
      ok = n[i] >= '0' && n[i] <= '9';
      v = v * 10 + (n[i] - '0');
    }
    if (ok && (best < 0 || v < best)) best = v;
  }
  if (d) closedir(d);
  return best;
}

/* ---- Turning a commit into change entries --------------------------------------------------- */

static delta_cdf_file *new_entry(loader *l, const raw_action *a, delta_cdf_kind kind, int64_t ts) {
  delta_cdf *c = l->c;
  if (c->n_files == l->cap_files) {
    size_t cap = l->cap_files ? l->cap_files * 2 : 64;
    delta_cdf_file *p = realloc(c->files, cap * sizeof *p);
    if (p == NULL) return NULL;
    c->files = p;
    l->cap_files = cap;
  }
  delta_cdf_file *f = &c->files[c->n_files++];
  memset(f, 0, sizeof *f);
  f->version = l->version;
  f->timestamp_ms = ts;
  f->kind = kind;
  f->path = a->path;
  f->size = a->size;
  f->partition_values = a->pv;
  f->dv = a->dv;
  return f;
}

/* a \ b of ascending arrays, into the arena. */
static int set_minus(loader *l, const uint64_t *a, size_t na, const uint64_t *b, size_t nb,
                     uint64_t **out, size_t *n) {
  *out = NULL;
  *n = 0;
  if (na == 0) return 0;
  uint64_t *r = tarn_arena_calloc(&l->c->arena, na, sizeof *r);
  if (r == NULL) return oom(l->err);
  size_t j = 0, k = 0;
  for (size_t i = 0; i < na; i++) {
    while (j < nb && b[j] < a[i])
      j++;
    if (j < nb && b[j] == a[i]) continue;
    r[k++] = a[i];
  }
  *out = r;
  *n = k;
  return 0;
}

static int read_dv(loader *l, const delta_dv *dv, uint64_t **pos, size_t *n) {
  *pos = NULL;
  *n = 0;
  if (dv->storage_type == 0) return 0;
  int rc = delta_dv_read(l->table, dv, &l->c->arena, pos, n, l->err);
  if (rc) tarn_err_prefix(l->err, "version %lld", (long long)l->version);
  return rc;
}

/* An entry covering exactly the rows at positions (never empty). */
static int keep_entry(loader *l, const raw_action *a, delta_cdf_kind kind, int64_t ts,
                      const uint64_t *positions, size_t n) {
  delta_cdf_file *f = new_entry(l, a, kind, ts);
  if (f == NULL) return oom(l->err);
  f->keep_only = true;
  f->positions = positions;
  f->n_positions = n;
  return 0;
}

static int cmp_act_path(const void *x, const void *y) {
  const raw_action *const *a = x, *const *b = y;
  return strcmp((*a)->path, (*b)->path);
}

/* The partition values of a remove that did not record them: those of the same file in the
 * snapshot before this commit, where it was live, mapped to the end snapshot's columns by
 * name. */
static int prior_partition_values(loader *l, raw_action *a) {
  if (l->prev == NULL || l->prev->version != l->version - 1) {
    delta_snapshot_free(l->prev);
    l->prev = NULL;
    int rc = delta_snapshot_load(l->table, l->version - 1, &l->prev, l->err);
    if (rc) {
      tarn_err_prefix(l->err, "the partition values of %s removed in version %lld", a->path,
                      (long long)l->version);
      return rc;
    }
  }
  const delta_snapshot *p = l->prev;
  const delta_snapshot *end = l->c->end;
  for (size_t i = 0; i < p->n_files; i++) {
    if (strcmp(p->files[i].path, a->path) != 0) continue;
    for (size_t k = 0; k < end->n_partition_columns; k++)
      for (size_t q = 0; q < p->n_partition_columns; q++)
        if (strcmp(p->partition_columns[q], end->partition_columns[k]) == 0 &&
            p->files[i].partition_values[q] &&
            (a->pv[k] = adup(l, p->files[i].partition_values[q])) == NULL)
          return oom(l->err);
    return 0;
  }
  return tarn_err(l->err, TARN_ECORRUPT,
                  "delta table %s: version %lld removes %s, which is not live in version %lld "
                  "(and the remove records no partition values)",
                  l->table, (long long)l->version, a->path, (long long)(l->version - 1));
}

static int finish_commit(loader *l, int64_t ts) {
  int rc = 0;
  if (l->has_cdc) {
    for (size_t i = 0; i < l->n_acts; i++)
      if (l->acts[i].kind == ACT_CDC && new_entry(l, &l->acts[i], DELTA_CDF_CDC, ts) == NULL)
        return oom(l->err);
    return 0;
  }
  /* Removes sorted by path, to pair each add with a remove of the same path in this commit. */
  size_t n_rm = 0;
  raw_action **rm = calloc(l->n_acts + 1, sizeof *rm);
  if (rm == NULL) return oom(l->err);
  for (size_t i = 0; i < l->n_acts; i++)
    if (l->acts[i].kind == ACT_REMOVE) rm[n_rm++] = &l->acts[i];
  qsort(rm, n_rm, sizeof *rm, cmp_act_path);
  for (size_t i = 0; rc == 0 && i < l->n_acts; i++) {
    raw_action *a = &l->acts[i];
    if (a->kind != ACT_ADD) continue;
    raw_action key = {.path = a->path}, *kp = &key;
    raw_action **hit = n_rm ? bsearch(&kp, rm, n_rm, sizeof *rm, cmp_act_path) : NULL;
    uint64_t *add_pos, *rm_pos;
    size_t n_add, n_rmp;
    rc = read_dv(l, &a->dv, &add_pos, &n_add);
    if (rc) break;
    if (hit == NULL) {
      delta_cdf_file *f = new_entry(l, a, DELTA_CDF_INSERT, ts);
      if (f == NULL) {
        rc = oom(l->err);
        break;
      }
      f->positions = add_pos;
      f->n_positions = n_add;
      continue;
    }
    /* The file's vector went from the remove's (d1) to the add's (d2) in this commit. Every
     * remove of the path is paired (duplicates are not something writers produce). */
    size_t h = (size_t)(hit - rm), lo = h, hi = h + 1;
    while (lo > 0 && strcmp(rm[lo - 1]->path, a->path) == 0)
      lo--;
    while (hi < n_rm && strcmp(rm[hi]->path, a->path) == 0)
      hi++;
    for (size_t k = lo; k < hi; k++)
      rm[k]->paired = true;
    rc = read_dv(l, &rm[lo]->dv, &rm_pos, &n_rmp);
    uint64_t *gone = NULL, *back = NULL;
    size_t n_gone = 0, n_back = 0;
    if (rc == 0) rc = set_minus(l, add_pos, n_add, rm_pos, n_rmp, &gone, &n_gone);
    if (rc == 0) rc = set_minus(l, rm_pos, n_rmp, add_pos, n_add, &back, &n_back);
    if (rc == 0 && n_gone) rc = keep_entry(l, a, DELTA_CDF_DELETE, ts, gone, n_gone);
    if (rc == 0 && n_back) rc = keep_entry(l, a, DELTA_CDF_INSERT, ts, back, n_back);
  }
  /* Removes without an add of their path: their live rows were deleted. */
  for (size_t i = 0; rc == 0 && i < l->n_acts; i++) {
    raw_action *a = &l->acts[i];
    if (a->kind != ACT_REMOVE || a->paired) continue;
    if (!a->has_pv && l->n_pkeys > 0) rc = prior_partition_values(l, a);
    uint64_t *pos = NULL;
    size_t n = 0;
    if (rc == 0) rc = read_dv(l, &a->dv, &pos, &n);
    delta_cdf_file *f = rc == 0 ? new_entry(l, a, DELTA_CDF_DELETE, ts) : NULL;
    if (rc == 0 && f == NULL) rc = oom(l->err);
    if (f) {
      f->positions = pos;
      f->n_positions = n;
    }
  }
  free(rm);
  return rc;
}

static int read_version(loader *l, int64_t v) {
  l->version = v;
  l->n_acts = 0;
  l->has_cdc = l->seen_info = l->cdf_disabled = false;
  l->ict = l->ts = -1;
  l->line_no = 0;
  snprintf(l->shown, sizeof l->shown, "_delta_log/%020" PRId64 ".json", v);
  char *path = tarn_path_join(l->table, l->shown);
  if (path == NULL) return oom(l->err);
  char *text = NULL;
  size_t len = 0;
  int64_t mtime = 0;
  int rc = read_commit(l, path, &text, &len, &mtime);
  free(path);
  if (rc == 1) {
    int64_t e = earliest_commit(l->table);
    return tarn_err(l->err, TARN_EINVAL,
                    "delta table %s: the commit of version %lld (%s) is no longer in the log, so "
                    "its changes cannot be read; the oldest commit kept is version %lld",
                    l->table, (long long)v, l->shown, (long long)e);
  }
  if (rc) return rc;
  size_t i = 0;
  while (rc == 0 && i < len) {
    size_t j = i;
    while (j < len && text[j] != '\n')
      j++;
    l->line_no++;
    size_t b = i, e = j;
    while (e > b && (text[e - 1] == '\r' || text[e - 1] == ' ' || text[e - 1] == '\t'))
      e--;
    while (b < e && (text[b] == ' ' || text[b] == '\t'))
      b++;
    if (e > b) rc = parse_line(l, text + b, e - b);
    i = j + 1;
  }
  free(text);
  if (rc) return rc;
  if (l->cdf_disabled && v > l->c->from_version)
    return tarn_err(l->err, TARN_EINVAL,
                    "delta table %s: change data feed is not enabled at version %lld (its "
                    "metadata does not set delta.enableChangeDataFeed to true), so the changes of "
                    "versions %lld to %lld were not recorded",
                    l->table, (long long)v, (long long)l->c->from_version,
                    (long long)l->c->to_version);
  l->line_no = 0;
  return finish_commit(l, l->ict >= 0 ? l->ict : l->ts >= 0 ? l->ts : mtime);
}

/* ---- Public --------------------------------------------------------------------------------- */

/* The partitionValues key of each end partition column: its physical name under column
 * mapping, else its name. */
static int partition_keys(loader *l) {
  const delta_snapshot *s = l->c->end;
  l->n_pkeys = s->n_partition_columns;
  l->pkeys = tarn_arena_calloc(&l->c->arena, l->n_pkeys + 1, sizeof *l->pkeys);
  if (l->pkeys == NULL) return oom(l->err);
  for (size_t k = 0; k < l->n_pkeys; k++) {
    l->pkeys[k] = s->partition_columns[k];
    for (size_t f = 0; s->schema && f < s->schema->n_fields; f++)
      if (strcmp(s->schema->fields[f].name, s->partition_columns[k]) == 0 &&
          s->schema->fields[f].physical_name)
        l->pkeys[k] = s->schema->fields[f].physical_name;
  }
  return 0;
}

int delta_cdf_load(const char *table_dir, int64_t from_version, int64_t to_version, delta_cdf **out,
                   tarn_error *err) {
  *out = NULL;
  if (from_version < 0)
    return tarn_err(err, TARN_EINVAL,
                    "delta table %s: the start version of a change data read must be 0 or more, "
                    "not %lld",
                    table_dir, (long long)from_version);
  if (to_version >= 0 && from_version > to_version)
    return tarn_err(err, TARN_EINVAL,
                    "delta table %s: the start version %lld is after the end version %lld",
                    table_dir, (long long)from_version, (long long)to_version);
  delta_cdf *c = calloc(1, sizeof *c);
  if (c == NULL) return oom(err);
  loader l;
  memset(&l, 0, sizeof l);
  l.table = table_dir;
  l.c = c;
  l.err = err;
  int rc = delta_snapshot_load(table_dir, to_version < 0 ? -1 : to_version, &c->end, err);
  if (rc == 0 && from_version > c->end->version)
    rc = tarn_err(err, TARN_EINVAL,
                  "delta table %s: the start version %lld is after the latest version %lld",
                  table_dir, (long long)from_version, (long long)c->end->version);
  if (rc == 0) {
    c->from_version = from_version;
    c->to_version = c->end->version;
    if ((c->table_dir = tarn_arena_strndup(&c->arena, table_dir, strlen(table_dir))) == NULL)
      rc = oom(err);
  }
  /* Change data must have been recorded from the start: the metadata in force at the start
   * version (later metadata changes are checked commit by commit). */
  delta_snapshot *start = NULL;
  if (rc == 0 && from_version != c->end->version)
    rc = delta_snapshot_load(table_dir, from_version, &start, err);
  if (rc == 0) {
    const delta_snapshot *s = start ? start : c->end;
    if (!cdf_enabled_value(delta_snapshot_config(s, "delta.enableChangeDataFeed")))
      rc = tarn_err(err, TARN_EINVAL,
                    "delta table %s: change data feed is not enabled at version %lld "
                    "(delta.enableChangeDataFeed is not true in the metadata in force there), so "
                    "the changes of versions %lld to %lld were not recorded",
                    table_dir, (long long)from_version, (long long)from_version,
                    (long long)c->to_version);
  }
  delta_snapshot_free(start);
  if (rc == 0) rc = partition_keys(&l);
  for (int64_t v = from_version; rc == 0 && v <= c->to_version; v++)
    rc = read_version(&l, v);
  free(l.acts);
  delta_snapshot_free(l.prev);
  if (rc) {
    delta_cdf_free(c);
    return rc;
  }
  *out = c;
  return 0;
}

void delta_cdf_free(delta_cdf *c) {
  if (c == NULL) return;
  delta_snapshot_free(c->end);
  free(c->files);
  tarn_arena_free(&c->arena);
  free(c);
}
