/*
 * read_parquet sources: globs expanded to a sorted file list, columns taken from the first file.
 *
 * Only the first file's footer is read here (for the column names and types); the scan reads
 * every other footer when it reaches the file, so a glob over thousands of files costs one
 * directory walk up front, not thousands of footer reads.
 */
#include "sql/source.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/error.h"

typedef struct path_list {
  char **items;
  size_t n, cap;
} path_list;

static int path_add(path_list *l, const char *path) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    char **items = realloc(l->items, cap * sizeof *items);
    if (items == NULL) return TARN_ENOMEM;
    l->items = items;
    l->cap = cap;
  }
  l->items[l->n] = strdup(path);
  if (l->items[l->n] == NULL) return TARN_ENOMEM;
  l->n++;
  return 0;
}

static void path_list_free(path_list *l) {
  for (size_t i = 0; i < l->n; i++)
    free(l->items[i]);
  free(l->items);
}

/* Every regular *.parquet file below dir (hidden and underscore-prefixed entries skipped, as
 * Spark and Hive do for their metadata). */
static int walk_dir(const char *dir, path_list *out, int depth) {
  if (depth > 32) return 0;
  DIR *d = opendir(dir);
  if (d == NULL) return 0;
  struct dirent *ent;
  int rc = 0;
  while (rc == 0 && (ent = readdir(d)) != NULL) {
    if (ent->d_name[0] == '.' || ent->d_name[0] == '_') continue;
    size_t len = strlen(dir) + strlen(ent->d_name) + 2;
    char *p = malloc(len);
    if (p == NULL) {
      rc = TARN_ENOMEM;
      break;
    }
    snprintf(p, len, "%s/%s", dir, ent->d_name);
    struct stat st;
    if (stat(p, &st) == 0) {
      if (S_ISDIR(st.st_mode)) {
        rc = walk_dir(p, out, depth + 1);
      } else if (S_ISREG(st.st_mode) && fnmatch("*.parquet", ent->d_name, 0) == 0) {
        rc = path_add(out, p);
      }
    }
    free(p);
  }
  closedir(d);
  return rc;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int sql_source_parquet(tarn_arena *a, const char *const *globs, size_t n_globs, sql_source **out,
                       tarn_error *err) {
  path_list paths = {0};
  int rc = 0;
  for (size_t g = 0; g < n_globs && rc == 0; g++) {
    struct stat st;
    if (stat(globs[g], &st) == 0 && S_ISDIR(st.st_mode)) {
      size_t before = paths.n;
      rc = walk_dir(globs[g], &paths, 0);
      if (rc == 0 && paths.n == before)
        rc = tarn_err(err, TARN_EINVAL, "no Parquet files under '%s'", globs[g]);
      continue;
    }
    glob_t gl;
    memset(&gl, 0, sizeof gl);
    int grc = glob(globs[g], 0, NULL, &gl);
    if (grc == GLOB_NOMATCH || (grc == 0 && gl.gl_pathc == 0)) {
      rc = tarn_err(err, TARN_EINVAL, "no files match '%s'", globs[g]);
    } else if (grc != 0) {
      rc = tarn_err(err, TARN_EIO, "cannot expand '%s'", globs[g]);
    } else {
      for (size_t i = 0; i < gl.gl_pathc && rc == 0; i++) {
        if (stat(gl.gl_pathv[i], &st) == 0 && S_ISDIR(st.st_mode)) continue;
        rc = path_add(&paths, gl.gl_pathv[i]);
      }
    }
    globfree(&gl);
    if (rc == TARN_ENOMEM) rc = tarn_err(err, TARN_ENOMEM, "out of memory listing files");
  }
  if (rc == 0 && paths.n == 0) rc = tarn_err(err, TARN_EINVAL, "no files match the pattern");
  if (rc != 0) {
    path_list_free(&paths);
    return rc;
  }
  qsort(paths.items, paths.n, sizeof *paths.items, cmp_str);

  tarn_parquet_file *first = NULL;
  struct ArrowSchema schema;
  memset(&schema, 0, sizeof schema);
  rc = tarn_parquet_open(paths.items[0], NULL, &first, err);
  if (rc == 0) rc = tarn_parquet_arrow_schema(first, &schema, err);
  sql_source *src = NULL;
  if (rc == 0) {
    src = tarn_arena_calloc(a, 1, sizeof *src);
    size_t n = (size_t)schema.n_children;
    if (src != NULL) {
      src->n_cols = n;
      src->col_names = tarn_arena_calloc(a, n ? n : 1, sizeof *src->col_names);
      src->col_types = tarn_arena_calloc(a, n ? n : 1, sizeof *src->col_types);
      src->files = tarn_arena_calloc(a, paths.n, sizeof *src->files);
      src->n_files = paths.n;
    }
    if (src == NULL || src->col_names == NULL || src->col_types == NULL || src->files == NULL)
      rc = tarn_err(err, TARN_ENOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++) {
      const struct ArrowSchema *f = schema.children[i];
      src->col_names[i] =
          tarn_arena_strndup(a, f->name ? f->name : "", strlen(f->name ? f->name : ""));
      rc = sql_type_from_arrow(a, f, &src->col_types[i], err);
      if (rc != 0) tarn_err_prefix(err, "%s: column %s", paths.items[0], f->name ? f->name : "");
    }
    for (size_t i = 0; rc == 0 && i < paths.n; i++) {
      sql_source_file *sf = &src->files[i];
      sf->path = tarn_arena_strndup(a, paths.items[i], strlen(paths.items[i]));
      sf->n_rows = i == 0 ? tarn_parquet_num_rows(first) : -1;
      struct stat st;
      sf->size_bytes = stat(paths.items[i], &st) == 0 ? (int64_t)st.st_size : -1;
      if (sf->path == NULL) rc = tarn_err(err, TARN_ENOMEM, "out of memory");
    }
  }
  if (schema.release) schema.release(&schema);
  tarn_parquet_close(first);
  path_list_free(&paths);
  if (rc == 0) *out = src;
  return rc;
}

int sql_source_add_row_ids(tarn_arena *a, sql_source *src, tarn_error *err) {
  size_t n = src->n_cols, m = n + 2;
  const char **names = tarn_arena_calloc(a, m, sizeof *names);
  const char **file_names = tarn_arena_calloc(a, m, sizeof *file_names);
  const sql_type **types = tarn_arena_calloc(a, m, sizeof *types);
  if (!names || !file_names || !types) return tarn_err(err, TARN_ENOMEM, "out of memory");
  for (size_t c = 0; c < n; c++) {
    names[c] = src->col_names[c];
    file_names[c] = src->col_file_names ? src->col_file_names[c] : src->col_names[c];
    types[c] = src->col_types[c];
  }
  /* Names no data file uses, so the scan never finds them stored. */
  names[n] = file_names[n] = "__tarn_file";
  names[n + 1] = file_names[n + 1] = "__tarn_pos";
  types[n] = types[n + 1] = sql_type_get(SQL_INT8);
  if (src->col_field_ids) {
    int *ids = tarn_arena_calloc(a, m, sizeof *ids);
    if (ids == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
    memcpy(ids, src->col_field_ids, n * sizeof *ids);
    ids[n] = ids[n + 1] = -1;
    src->col_field_ids = ids;
  }
  /* Per-file arrays grow by the two columns: the file index is a constant "partition" value;
   * the position has no statistics. */
  for (size_t i = 0; i < src->n_files; i++) {
    sql_source_file *f = &src->files[i];
    sql_value *pv = tarn_arena_calloc(a, m, sizeof *pv);
    if (pv == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
    if (f->partition) memcpy(pv, f->partition, n * sizeof *pv);
    pv[n].type = types[n];
    pv[n].u.i64 = (int64_t)i;
    f->partition = pv;
    if (f->min && f->max) {
      sql_value *mn = tarn_arena_calloc(a, m, sizeof *mn);
      sql_value *mx = tarn_arena_calloc(a, m, sizeof *mx);
      if (mn == NULL || mx == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
      memcpy(mn, f->min, n * sizeof *mn);
      memcpy(mx, f->max, n * sizeof *mx);
      mn[n].is_null = mx[n].is_null = mn[n + 1].is_null = mx[n + 1].is_null = true;
      f->min = mn;
      f->max = mx;
    }
    if (f->null_count) {
      int64_t *nc = tarn_arena_calloc(a, m, sizeof *nc);
      if (nc == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
      memcpy(nc, f->null_count, n * sizeof *nc);
      nc[n] = nc[n + 1] = -1;
      f->null_count = nc;
    }
  }
  src->col_names = names;
  src->col_file_names = file_names;
  src->col_types = types;
  src->n_cols = m;
  src->has_row_pos = true;
  src->row_pos_col = n + 1;
  return 0;
}
