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
