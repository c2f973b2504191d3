/*
 * INSERT, DELETE, UPDATE and MERGE on Delta tables (see delta_dml.h).
 */
#include "sql/delta_dml.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/error.h"
#include "sql/delta_files.h"
#include "sql/delta_write.h"
#include "sql/expr.h"
#include "sql/source_delta.h"
#include "table/delta/delta_commit.h"
#include "table/delta/delta_log.h"
#include "table/delta/dv.h"

#define COMMIT_RETRIES 1000

static int oom(tarn_error *err) { return tarn_err(err, TARN_ENOMEM, "out of memory"); }

/* The file layout of table snapshot s whose first n columns src describes. Arrays live in a. */
static int layout_of(tarn_arena *a, const delta_snapshot *s, const sql_source *src, size_t n,
                     sql_delta_layout *l, tarn_error *err) {
  bool *not_null = tarn_arena_calloc(a, n + 1, sizeof *not_null);
  size_t *parts = tarn_arena_calloc(a, s->n_partition_columns + 1, sizeof *parts);
  if (not_null == NULL || parts == NULL) return oom(err);
  if (s->schema->n_fields != n)
    return tarn_err(err, TARN_EINVAL, "delta table %s: the schema changed while the statement ran",
                    s->table_dir);
  for (size_t c = 0; c < n; c++)
    not_null[c] = !s->schema->fields[c].nullable;
  for (size_t p = 0; p < s->n_partition_columns; p++) {
    size_t c = 0;
    while (c < n && strcmp(src->col_names[c], s->partition_columns[p]) != 0)
      c++;
    if (c == n)
      return tarn_err(err, TARN_ECORRUPT,
                      "delta table %s: partition column %s is not in the schema", s->table_dir,
                      s->partition_columns[p]);
    parts[p] = c;
  }
  *l = (sql_delta_layout){.n_cols = n,
                          .names = src->col_names,
                          .file_names = src->col_file_names ? src->col_file_names : src->col_names,
                          .types = src->col_types,
                          .not_null = not_null,
                          .n_parts = s->n_partition_columns,
                          .part_cols = parts};
  return 0;
}

/* The layout of change data files for a table of layout l: its columns and `_change_type`. */
static int change_data_layout(tarn_arena *a, const sql_delta_layout *l, sql_delta_layout *out,
                              tarn_error *err) {
  size_t n = l->n_cols;
  const char **names = tarn_arena_calloc(a, n + 2, sizeof *names);
  const char **file_names = tarn_arena_calloc(a, n + 2, sizeof *file_names);
  const sql_type **types = tarn_arena_calloc(a, n + 2, sizeof *types);
  bool *not_null = tarn_arena_calloc(a, n + 2, sizeof *not_null);
  if (!names || !file_names || !types || !not_null) return oom(err);
  for (size_t c = 0; c < n; c++) {
    names[c] = l->names[c];
    file_names[c] = l->file_names[c];
    types[c] = l->types[c];
  }
  names[n] = file_names[n] = "_change_type";
  types[n] = sql_type_get(SQL_TEXT);
  *out = *l;
  out->n_cols = n + 1;
  out->names = names;
  out->file_names = file_names;
  out->types = types;
  out->not_null = not_null; /* old rows are as they were: nothing to check */
  out->cdc = true;
  return 0;
}

/* The application transaction of bd (binder.h): *skip when the table already holds its
 * version (nothing is to be written), else recorded in t as the commit's txn action. */
static int app_transaction(delta_txn *t, const sql_bound *bd, bool *skip, tarn_error *err) {
  *skip = false;
  const delta_snapshot *s = delta_txn_snapshot(t);
  if (bd->txn_app_id == NULL || s == NULL) return 0;
  for (size_t i = 0; i < s->n_txns; i++)
    if (strcmp(s->txn_app_ids[i], bd->txn_app_id) == 0 && s->txn_versions[i] >= bd->txn_app_version)
      *skip = true;
  return *skip ? 0 : delta_txn_set_app_version(t, bd->txn_app_id, bd->txn_app_version, err);
}

/* --- Writing a plan's rows ------------------------------------------------------------------- */

static int to_files(void *arg, sql_batch *b, tarn_error *err) {
  int rc = sql_delta_writer_write(arg, b, err);
  sql_batch_free(b);
  return rc;
}

/* The name the data files give column `name` added by this transaction: its physical name
 * under column mapping (which ADD COLUMN made up), else the name itself. */
static int new_column_file_name(tarn_arena *a, const delta_txn *t, const char *name,
                                const char **out, tarn_error *err) {
  *out = name;
  const char *schema = delta_txn_schema_string(t);
  cJSON *j = schema ? cJSON_Parse(schema) : NULL;
  const cJSON *f;
  cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(j, "fields")) {
    const char *fname = delta_json_str(f, "name");
    if (fname == NULL || strcmp(fname, name) != 0) continue;
    const char *physical = delta_json_str(cJSON_GetObjectItemCaseSensitive(f, "metadata"),
                                          "delta.columnMapping.physicalName");
    if (physical) *out = tarn_arena_strndup(a, physical, strlen(physical));
  }
  cJSON_Delete(j);
  return *out ? 0 : oom(err);
}

/* Schema merge on INSERT: the columns the table lacks (binder.h, n_merge_cols) are added to t's
 * metadata, so the rows and the schema change commit together. Refused unless schema merge is
 * on, with the error PostgreSQL gives and how to turn it on. */
static bool merge_allowed(const delta_snapshot *snap, const sql_bound *bd) {
  const char *prop = delta_snapshot_config(snap, "tarn.autoMerge.enabled");
  return bd->auto_merge || (prop && strcasecmp(prop, "true") == 0);
}

static int merge_schema(delta_txn *t, const delta_snapshot *snap, const sql_bound *bd,
                        tarn_error *err) {
  if (!merge_allowed(snap, bd))
    return tarn_err(err, TARN_EINVAL,
                    "column \"%s\" of relation \"%s\" does not exist (schema merge is off: set "
                    "the table property tarn.autoMerge.enabled = 'true' or SET "
                    "delta.schema.autoMerge.enabled = true to add it)",
                    bd->merge_col_names[0], bd->target);
  size_t first = bd->plan->n_out - bd->n_merge_cols;
  sql_alter *adds = calloc(bd->n_merge_cols, sizeof *adds);
  if (adds == NULL) return oom(err);
  for (size_t i = 0; i < bd->n_merge_cols; i++)
    adds[i] = (sql_alter){.kind = SQL_ALTER_ADD_COLUMN,
                          .name = bd->merge_col_names[i],
                          .type = bd->plan->out_types[first + i],
                          .nullable = true};
  const char *operation;
  int rc = sql_delta_alter_txn(t, bd->target, adds, bd->n_merge_cols, &operation, err);
  free(adds);
  return rc;
}

/* Layout l (the table's columns) extended by the columns schema evolution adds in t: the plan's
 * last bd->n_merge_cols columns, under their physical names. */
static int extend_layout(tarn_arena *a, const delta_txn *t, const sql_bound *bd,
                         sql_delta_layout *l, tarn_error *err) {
  size_t n = l->n_cols, k = bd->n_merge_cols, first = bd->plan->n_out - k;
  const char **names = tarn_arena_calloc(a, n + k + 1, sizeof *names);
  const char **file_names = tarn_arena_calloc(a, n + k + 1, sizeof *file_names);
  const sql_type **types = tarn_arena_calloc(a, n + k + 1, sizeof *types);
  bool *not_null = tarn_arena_calloc(a, n + k + 1, sizeof *not_null);
  if (!names || !file_names || !types || !not_null) return oom(err);
  for (size_t c = 0; c < n; c++) {
    names[c] = l->names[c];
    file_names[c] = l->file_names[c];
    types[c] = l->types[c];
    not_null[c] = l->not_null ? l->not_null[c] : false;
  }
  int rc = 0;
  for (size_t j = 0; rc == 0 && j < k; j++) {
    names[n + j] = bd->merge_col_names[j];
    types[n + j] = bd->plan->out_types[first + j];
    rc = new_column_file_name(a, t, names[n + j], &file_names[n + j], err);
  }
  l->n_cols = n + k;
  l->names = names;
  l->file_names = file_names;
  l->types = types;
  l->not_null = not_null;
  return rc;
}

int sql_delta_insert(sql_exec_ctx *x, const sql_bound *bd, int64_t *rows, tarn_error *err) {
  *rows = 0;
  delta_txn *t = NULL;
  int rc = delta_txn_begin(bd->target_dir, &t, err);
  const delta_snapshot *snap = rc ? NULL : delta_txn_snapshot(t);
  if (rc == 0 && snap == NULL)
    rc = tarn_err(err, TARN_EINVAL, "relation \"%s\" does not exist", bd->target);
  bool skip = false;
  if (rc == 0) rc = app_transaction(t, bd, &skip, err);
  if (rc == 0 && skip) {
    delta_txn_free(t);
    return 0;
  }
  tarn_arena a = {0};
  sql_delta_layout l;
  sql_delta_writer *w = NULL;
  if (rc == 0 && bd->n_merge_cols) rc = merge_schema(t, snap, bd, err);
  if (rc == 0) {
    /* The plan's columns are the table's, as the binder shaped them (then the new ones). */
    sql_source cols = {.col_names = (const char **)bd->plan->out_names,
                       .col_types = (const sql_type **)bd->plan->out_types};
    const char **file_names = tarn_arena_calloc(&a, bd->plan->n_out + 1, sizeof *file_names);
    if (file_names == NULL) rc = oom(err);
    for (size_t c = 0; rc == 0 && c < bd->plan->n_out && c < snap->schema->n_fields; c++) {
      const delta_field *f = &snap->schema->fields[c];
      file_names[c] = f->physical_name ? f->physical_name : f->name;
    }
    for (size_t c = snap->schema->n_fields; rc == 0 && c < bd->plan->n_out; c++)
      rc = new_column_file_name(&a, t, bd->plan->out_names[c], &file_names[c], err);
    cols.col_file_names = file_names;
    if (rc == 0) rc = layout_of(&a, snap, &cols, bd->plan->n_out - bd->n_merge_cols, &l, err);
    bool *not_null = rc ? NULL : tarn_arena_calloc(&a, bd->plan->n_out + 1, sizeof *not_null);
    if (rc == 0 && not_null == NULL) rc = oom(err);
    if (rc == 0) {
      memcpy(not_null, l.not_null, l.n_cols * sizeof *not_null);
      l.not_null = not_null; /* new columns are nullable */
      l.n_cols = bd->plan->n_out;
    }
  }
  if (rc == 0) rc = sql_delta_writer_open(bd->target_dir, &l, &w, err);
  if (rc == 0) rc = sql_exec_run(x, bd->plan, to_files, w);
  if (rc == 0) rc = sql_delta_writer_finish(w, t, rows, err);
  if (rc == 0 && *rows > 0) {
    int64_t version;
    rc = delta_txn_set_operation(t, "WRITE", "{\"mode\":\"Append\"}", err);
    if (rc == 0) rc = delta_txn_set_metric(t, "numOutputRows", *rows, err);
    if (rc == 0) rc = delta_txn_commit(t, COMMIT_RETRIES, &version, err);
  }
  sql_delta_writer_free(w, rc != 0);
  tarn_arena_free(&a);
  delta_txn_free(t);
  return rc;
}

int sql_delta_write_new(sql_exec_ctx *x, sql_plan *plan, delta_txn *t, const char *dir,
                        const char *const *part_names, size_t n_parts, int64_t *rows,
                        tarn_error *err) {
  size_t *parts = calloc(n_parts + 1, sizeof *parts);
  if (parts == NULL) return oom(err);
  int rc = 0;
  for (size_t p = 0; rc == 0 && p < n_parts; p++) {
    size_t c = 0;
    while (c < plan->n_out && strcmp(plan->out_names[c], part_names[p]) != 0)
      c++;
    if (c == plan->n_out)
      rc = tarn_err(err, TARN_EINVAL, "partition column \"%s\" is not a column of the query",
                    part_names[p]);
    parts[p] = c;
  }
  sql_delta_layout l = {.n_cols = plan->n_out,
                        .names = (const char *const *)plan->out_names,
                        .file_names = (const char *const *)plan->out_names,
                        .types = (const sql_type *const *)plan->out_types,
                        .n_parts = n_parts,
                        .part_cols = parts};
  sql_delta_writer *w = NULL;
  if (rc == 0) rc = sql_delta_writer_open(dir, &l, &w, err);
  if (rc == 0) rc = sql_exec_run(x, plan, to_files, w);
  if (rc == 0) rc = sql_delta_writer_finish(w, t, rows, err);
  /* The caller commits; files of a failed statement go now. (A failed commit leaves orphans
   * for vacuum, like any writer killed before its commit.) */
  sql_delta_writer_free(w, rc != 0);
  free(parts);
  return rc;
}

/* --- DELETE, UPDATE, MERGE ------------------------------------------------------------------- */

/* How a batch's columns become a written row: n_take columns from the batch (from a first
 * column on), then n_pad columns of NULLs (columns that schema evolution adds, which old rows
 * lack). */
typedef struct row_shape {
  uint32_t n_take, n_pad;
  const sql_type *const *pad_types;
} row_shape;

typedef struct pos_list {
  uint64_t *pos;
  size_t n, cap;
} pos_list;

typedef struct dml_state {
  const sql_bound *bd;
  sql_delta_writer *w;
  sql_delta_writer *cdc; /* change data (delta.enableChangeDataFeed), else NULL */
  pos_list *changed;     /* per file of the source: positions deleted or replaced */
  pos_list *replaced;    /* with cdc: per file, the positions replaced (updated) */
  row_shape new_shape;   /* the plan's new rows: the table's columns (and evolved ones) */
  row_shape old_shape;   /* rows read back from files: the old columns, NULL for new ones */
  size_t n_files;
  int64_t deleted, updated, inserted;
} dml_state;

static int push_pos(pos_list *l, uint64_t p, tarn_error *err) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 64;
    uint64_t *np = realloc(l->pos, cap * sizeof *np);
    if (np == NULL) return oom(err);
    l->pos = np;
    l->cap = cap;
  }
  l->pos[l->n++] = p;
  return 0;
}

/* Writes rows sel[0..n) of b (all when sel is NULL) shaped by sh to w; with change_type, as
 * change data: a `_change_type` text column after them. */
static int write_shaped(sql_delta_writer *w, const sql_batch *b, uint32_t first,
                        const row_shape *sh, const uint32_t *sel, uint32_t n,
                        const char *change_type, tarn_error *err) {
  if (n == 0) return 0;
  sql_batch *rows = NULL;
  int rc = sel ? sql_batch_select(b, sel, n, &rows, err) : 0;
  const sql_batch *from = sel ? rows : b;
  uint32_t n_cols = sh->n_take + sh->n_pad + (change_type != NULL);
  sql_vec *cols = rc ? NULL : calloc((size_t)n_cols + 1, sizeof *cols);
  if (rc == 0 && cols == NULL) rc = oom(err);
  if (rc == 0) memcpy(cols, from->cols + first, sh->n_take * sizeof *cols);
  for (uint32_t j = 0; rc == 0 && j < sh->n_pad; j++) {
    sql_vec *v = &cols[sh->n_take + j];
    rc = sql_vec_init(from->mem, v, sh->pad_types[j], n, err);
    uint8_t *nulls = rc ? NULL : sql_vec_nulls(from->mem, v);
    if (rc == 0 && nulls == NULL) rc = oom(err);
    if (rc == 0) memset(nulls, 1, n);
  }
  if (rc == 0 && change_type) {
    sql_vec *v = &cols[n_cols - 1];
    rc = sql_vec_init(from->mem, v, sql_type_get(SQL_TEXT), n, err);
    for (uint32_t i = 0; rc == 0 && i < n; i++)
      SQL_VEC_STR(v)[i] = (sql_str){change_type, strlen(change_type)};
  }
  if (rc == 0) {
    sql_batch view = {.n_rows = n, .n_cols = n_cols, .cols = cols, .mem = from->mem};
    rc = sql_delta_writer_write(w, &view, err);
  }
  free(cols);
  sql_batch_free(rows);
  return rc;
}

static int to_changes(void *arg, sql_batch *b, tarn_error *err) {
  dml_state *st = arg;
  const sql_vec *file = &b->cols[0], *pos = &b->cols[1], *action = &b->cols[2];
  uint32_t *sel = malloc((b->n_rows + 1) * sizeof *sel);
  uint32_t n_new = 0;
  int rc = sel ? 0 : oom(err);
  for (uint32_t i = 0; rc == 0 && i < b->n_rows; i++) {
    if (SQL_VEC_IS_NULL(action, i)) continue;
    int64_t a = SQL_VEC_I64(action)[i];
    if (a == SQL_DML_REFUSED) {
      rc = tarn_err(err, TARN_EINVAL,
                    "INSERT ... REPLACE WHERE: a written row does not satisfy the condition "
                    "(every new row must be inside what it replaces)");
      break;
    }
    if (a == SQL_DML_DELETE || a == SQL_DML_UPDATE) {
      if (SQL_VEC_IS_NULL(file, i) || SQL_VEC_IS_NULL(pos, i)) {
        rc = tarn_err(err, TARN_EINVAL, "%s: a changed row has no position", st->bd->dml_op);
        break;
      }
      int64_t f = SQL_VEC_I64(file)[i];
      if (f < 0 || (size_t)f >= st->n_files) {
        rc = tarn_err(err, TARN_EINVAL, "%s: file index %lld out of range", st->bd->dml_op,
                      (long long)f);
        break;
      }
      rc = push_pos(&st->changed[f], (uint64_t)SQL_VEC_I64(pos)[i], err);
      if (rc == 0 && st->cdc && a == SQL_DML_UPDATE)
        rc = push_pos(&st->replaced[f], (uint64_t)SQL_VEC_I64(pos)[i], err);
    }
    if (a == SQL_DML_DELETE) st->deleted++;
    if (a == SQL_DML_UPDATE) st->updated++;
    if (a == SQL_DML_INSERT) st->inserted++;
    if (a == SQL_DML_UPDATE || a == SQL_DML_INSERT) sel[n_new++] = i;
  }
  /* The new rows: the value columns of the selected rows. */
  if (rc == 0 && n_new) rc = write_shaped(st->w, b, 3, &st->new_shape, sel, n_new, NULL, err);
  if (rc == 0 && st->cdc && n_new) {
    /* The new rows again as change data: the inserts, then the updates' post-images. */
    static const struct {
      int64_t action;
      const char *type;
    } kinds[] = {{SQL_DML_INSERT, "insert"}, {SQL_DML_UPDATE, "update_postimage"}};
    for (size_t k = 0; rc == 0 && k < 2; k++) {
      uint32_t n = 0;
      for (uint32_t i = 0; i < b->n_rows; i++)
        if (!SQL_VEC_IS_NULL(action, i) && SQL_VEC_I64(action)[i] == kinds[k].action) sel[n++] = i;
      rc = write_shaped(st->cdc, b, 3, &st->new_shape, sel, n, kinds[k].type, err);
    }
  }
  free(sel);
  sql_batch_free(b);
  return rc;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* Sorts each file's positions; a position twice is an error for UPDATE and MERGE (one target
 * row, several changes) and dropped for DELETE. */
static int settle_positions(dml_state *st, tarn_error *err) {
  bool dup_ok = strcmp(st->bd->dml_op, "DELETE") == 0;
  for (size_t f = 0; f < st->n_files; f++) {
    pos_list *l = &st->changed[f];
    if (l->n < 2) continue;
    qsort(l->pos, l->n, sizeof *l->pos, cmp_u64);
    size_t k = 1;
    for (size_t i = 1; i < l->n; i++) {
      if (l->pos[i] != l->pos[k - 1]) {
        l->pos[k++] = l->pos[i];
        continue;
      }
      if (!dup_ok)
        return tarn_err(err, TARN_EINVAL,
                        "%s command cannot affect row a second time (several source rows "
                        "match one target row)",
                        st->bd->dml_op);
      st->deleted--;
    }
    l->n = k;
  }
  return 0;
}

/* The union of two ascending position lists (malloc'd). */
static uint64_t *merge_positions(const uint64_t *a, size_t na, const uint64_t *b, size_t nb,
                                 size_t *n) {
  uint64_t *r = malloc((na + nb + 1) * sizeof *r);
  if (r == NULL) return NULL;
  size_t i = 0, j = 0, k = 0;
  while (i < na || j < nb) {
    uint64_t v = j >= nb || (i < na && a[i] <= b[j]) ? a[i] : b[j];
    if (i < na && a[i] == v) i++;
    if (j < nb && b[j] == v) j++;
    r[k++] = v;
  }
  *n = k;
  return r;
}

static bool snapshot_has_feature(const delta_snapshot *s, const char *name) {
  for (size_t i = 0; i < s->n_writer_features; i++)
    if (strcmp(s->writer_features[i], name) == 0) return true;
  return false;
}

/* A file's statistics once a deletion vector hides some of its rows: numRecords still counts
 * every row of the file, and the bounds may now be wider than the visible rows, which the
 * protocol's tightBounds = false says. NULL: keep them as they are (none, or unreadable). */
static char *wide_stats(const char *stats) {
  cJSON *j = stats ? cJSON_Parse(stats) : NULL;
  if (!cJSON_IsObject(j)) {
    cJSON_Delete(j);
    return NULL;
  }
  cJSON_DeleteItemFromObjectCaseSensitive(j, "tightBounds");
  char *text = cJSON_AddFalseToObject(j, "tightBounds") ? cJSON_PrintUnformatted(j) : NULL;
  cJSON_Delete(j);
  return text;
}

/* Reads the first n_cols columns of files[0..n_files) (entries of src's files with their own
 * deletions or keep-only lists) and hands the rows to sink, in one thread (so each file's rows
 * come in order). */
static int scan_files(sql_exec_ctx *x, sql_plan_ctx *pc, const sql_source *src,
                      sql_source_file *files, size_t n_files, size_t n_cols, sql_batch_sink sink,
                      void *arg, tarn_error *err) {
  sql_source *rest = tarn_arena_calloc(&pc->arena, 1, sizeof *rest);
  sql_plan *scan = rest ? sql_plan_new(pc, SQL_P_SCAN) : NULL;
  if (scan == NULL || sql_plan_alloc_out(pc, scan, n_cols)) return oom(err);
  int *cols = tarn_arena_calloc(&pc->arena, n_cols + 1, sizeof *cols);
  if (cols == NULL) return oom(err);
  *rest = *src;
  rest->files = files;
  rest->n_files = n_files;
  rest->has_row_pos = false;
  for (size_t c = 0; c < n_cols; c++) {
    cols[c] = (int)c;
    scan->out_ids[c] = sql_plan_new_id(pc);
    scan->out_names[c] = src->col_names[c];
    scan->out_types[c] = src->col_types[c];
  }
  scan->source = rest;
  scan->source_cols = cols;
  scan->est_rows = 1;
  sql_exec_ctx one = *x;
  one.n_threads = 1;
  return sql_exec_run(&one, scan, sink, arg);
}

/* Rows read back from the table's files, written shaped as the statement writes rows (new
 * columns NULL): to the data files (change_type NULL: copy-on-write) or as change data. */
typedef struct old_rows_sink {
  sql_delta_writer *w;
  const row_shape *shape;
  const char *change_type;
} old_rows_sink;

static int to_change_data(void *arg, sql_batch *b, tarn_error *err) {
  old_rows_sink *o = arg;
  int rc = write_shaped(o->w, b, 0, o->shape, NULL, b->n_rows, o->change_type, err);
  sql_batch_free(b);
  return rc;
}

/* The change data of the rows a statement deleted or replaced: their old values, read back from
 * their files (only those positions), as "delete" and "update_preimage" rows. */
static int write_old_rows(sql_exec_ctx *x, sql_plan_ctx *pc, const sql_source *src, dml_state *st,
                          tarn_error *err) {
  sql_source_file *files = tarn_arena_calloc(&pc->arena, 2 * st->n_files + 1, sizeof *files);
  if (files == NULL) return oom(err);
  int rc = 0;
  size_t n_del = 0, n_upd = 0;
  for (size_t f = 0; f < st->n_files; f++) {
    pos_list *all = &st->changed[f], *upd = &st->replaced[f];
    if (all->n == 0) continue;
    /* the deleted positions: every changed one that was not replaced (both lists sorted) */
    uint64_t *del = tarn_arena_calloc(&pc->arena, all->n + 1, sizeof *del);
    if (del == NULL) return oom(err);
    size_t nd = 0, j = 0;
    for (size_t i = 0; i < all->n; i++) {
      while (j < upd->n && upd->pos[j] < all->pos[i])
        j++;
      if (j == upd->n || upd->pos[j] != all->pos[i]) del[nd++] = all->pos[i];
    }
    sql_source_file base = src->files[f];
    base.min = base.max = NULL;
    base.keep_only = true;
    if (nd) {
      files[n_del] = base;
      files[n_del].deleted = del;
      files[n_del++].n_deleted = nd;
    }
    if (upd->n) {
      sql_source_file *u = &files[st->n_files + n_upd++];
      *u = base;
      u->deleted = upd->pos;
      u->n_deleted = upd->n;
    }
  }
  old_rows_sink del_sink = {st->cdc, &st->old_shape, "delete"},
                upd_sink = {st->cdc, &st->old_shape, "update_preimage"};
  if (n_del)
    rc = scan_files(x, pc, src, files, n_del, st->bd->dml_n_cols, to_change_data, &del_sink, err);
  if (rc == 0 && n_upd)
    rc = scan_files(x, pc, src, files + st->n_files, n_upd, st->bd->dml_n_cols, to_change_data,
                    &upd_sink, err);
  return rc;
}

/* The typed values of partition tuple `text` (l's partition columns), into out. */
static int partition_tuple(tarn_arena *a, sql_mem *scratch, const sql_delta_layout *l,
                           const char *const *text, sql_value *out, tarn_error *err) {
  for (size_t k = 0; k < l->n_parts; k++) {
    size_t c = l->part_cols[k];
    if (text[k] == NULL) {
      memset(&out[k], 0, sizeof out[k]);
      out[k].type = l->types[c];
      out[k].is_null = true;
      continue;
    }
    int rc = sql_delta_partition_value(a, scratch, text[k], l->types[c], l->names[c], &out[k], err);
    if (rc) return rc;
  }
  return 0;
}

/* Dynamic partition overwrite: removes every live file of the partitions w wrote, comparing
 * values by type (another writer may spell a timestamp differently). *removed: how many. */
static int remove_written_partitions(delta_txn *t, const delta_snapshot *snap,
                                     const sql_delta_writer *w, const sql_delta_layout *l,
                                     bool *gone, int64_t *removed, tarn_error *err) {
  size_t n_written = sql_delta_writer_n_partitions(w), np = l->n_parts;
  tarn_arena a = {0};
  sql_mem *scratch = sql_mem_new();
  sql_value *written = tarn_arena_calloc(&a, n_written * np + 1, sizeof *written);
  sql_value *file = tarn_arena_calloc(&a, np + 1, sizeof *file);
  int rc = scratch && written && file ? 0 : oom(err);
  for (size_t i = 0; rc == 0 && i < n_written; i++)
    rc = partition_tuple(&a, scratch, l, sql_delta_writer_partition(w, i), written + i * np, err);
  for (size_t f = 0; rc == 0 && f < snap->n_files; f++) {
    const delta_file *df = &snap->files[f];
    rc = partition_tuple(&a, scratch, l, (const char *const *)df->partition_values, file, err);
    bool hit = false;
    for (size_t i = 0; rc == 0 && !hit && i < n_written; i++) {
      hit = true;
      for (size_t k = 0; hit && k < np; k++) {
        const sql_value *x = &written[i * np + k], *y = &file[k];
        hit = x->is_null == y->is_null && (x->is_null || sql_value_compare(x, y) == 0);
      }
    }
    if (rc == 0 && hit) {
      rc = delta_txn_remove_file(t, df, err);
      gone[f] = true;
      (*removed)++;
    }
  }
  sql_mem_release(scratch);
  tarn_arena_free(&a);
  return rc;
}

/* The scan of plan p that reads source src (the DML's target), or NULL. */
static const sql_plan *target_scan(const sql_plan *p, const sql_source *src) {
  if (p == NULL) return NULL;
  if (p->kind == SQL_P_SCAN && p->source == src) return p;
  const sql_plan *hit = target_scan(p->child[0], src);
  return hit ? hit : target_scan(p->child[1], src);
}

typedef struct read_filter {
  const sql_plan *scan; /* the target's scan, with the statement's conditions pushed into it */
  const delta_snapshot *snap;
} read_filter;

/* delta_add_filter for the commit's conflict check: whether a file a concurrent commit added
 * could hold a row this statement's target scan keeps (its own file pruning decides). */
static bool file_may_be_read(void *arg, const char *const *partition_values, size_t n,
                             const char *stats) {
  const read_filter *rf = arg;
  tarn_arena a = {0};
  sql_source_file facts;
  int rc =
      sql_source_delta_facts(&a, rf->scan->source, (const char *const *)rf->snap->partition_columns,
                             n, partition_values, stats, &facts, NULL);
  bool may = rc != 0 || sql_scan_may_match(rf->scan, &facts);
  tarn_arena_free(&a);
  return may;
}

int sql_delta_dml(sql_exec_ctx *x, sql_plan_ctx *pc, const sql_bound *bd, int64_t *affected,
                  tarn_error *err) {
  *affected = 0;
  const sql_source *src = bd->dml_table;
  delta_txn *t = NULL;
  int rc = delta_txn_begin_at(bd->target_dir, src->table_version, &t, err);
  const delta_snapshot *snap = rc ? NULL : delta_txn_snapshot(t);
  if (rc == 0 && (snap == NULL || snap->n_files != src->n_files))
    rc = tarn_err(err, TARN_EINVAL, "delta table %s changed while the statement was planned",
                  bd->target_dir);
  bool skip = false;
  if (rc == 0) rc = app_transaction(t, bd, &skip, err);
  if (rc == 0 && skip) {
    delta_txn_free(t);
    return 0;
  }
  /* a concurrent rewrite conflicts only when it added files the target scan could read */
  read_filter rf = {target_scan(bd->plan, src), snap};
  if (rc == 0 && rf.scan && rf.scan->n_filters) delta_txn_set_read_filter(t, file_may_be_read, &rf);
  tarn_arena a = {0};
  sql_delta_layout l;
  dml_state st = {.bd = bd, .n_files = src->n_files};
  if (rc == 0) rc = layout_of(&a, snap, src, bd->dml_n_cols, &l, err);
  /* Schema evolution (MERGE's UPDATE SET * / INSERT * with source columns the table lacks):
   * the columns are added in this commit when schema merge is on, else left out. */
  bool evolve = rc == 0 && bd->n_merge_cols && merge_allowed(snap, bd);
  if (evolve) rc = merge_schema(t, snap, bd, err);
  if (rc == 0 && evolve) rc = extend_layout(&a, t, bd, &l, err);
  st.new_shape = (row_shape){(uint32_t)l.n_cols, 0, NULL};
  st.old_shape = (row_shape){(uint32_t)bd->dml_n_cols, evolve ? (uint32_t)bd->n_merge_cols : 0,
                             evolve ? l.types + bd->dml_n_cols : NULL};
  if (rc == 0) {
    st.changed = calloc(src->n_files + 1, sizeof *st.changed);
    if (st.changed == NULL) rc = oom(err);
  }
  if (rc == 0) rc = sql_delta_writer_open(bd->target_dir, &l, &st.w, err);
  const char *cdf_conf = rc ? NULL : delta_snapshot_config(snap, "delta.enableChangeDataFeed");
  if (cdf_conf && strcasecmp(cdf_conf, "true") == 0) {
    st.replaced = calloc(src->n_files + 1, sizeof *st.replaced);
    sql_delta_layout cl;
    rc = st.replaced ? change_data_layout(&a, &l, &cl, err) : oom(err);
    if (rc == 0) rc = sql_delta_writer_open(bd->target_dir, &cl, &st.cdc, err);
  }
  if (rc == 0) rc = sql_exec_run(x, bd->plan, to_changes, &st);
  if (rc == 0) rc = settle_positions(&st, err);
  for (size_t f = 0; rc == 0 && st.replaced && f < st.n_files; f++)
    if (st.replaced[f].n > 1)
      qsort(st.replaced[f].pos, st.replaced[f].n, sizeof *st.replaced[f].pos, cmp_u64);

  const char *dv_conf = rc ? NULL : delta_snapshot_config(snap, "delta.enableDeletionVectors");
  bool use_dv = rc == 0 && snapshot_has_feature(snap, "deletionVectors") && dv_conf &&
                strcmp(dv_conf, "true") == 0;
  size_t n_touched = 0;
  for (size_t f = 0; rc == 0 && f < st.n_files; f++)
    n_touched += st.changed[f].n > 0;
  /* Each touched file's deleted positions after the statement: old vector and new changes. */
  uint64_t **merged = rc ? NULL : calloc(st.n_files + 1, sizeof *merged);
  size_t *n_merged = rc ? NULL : calloc(st.n_files + 1, sizeof *n_merged);
  if (rc == 0 && (merged == NULL || n_merged == NULL)) rc = oom(err);
  for (size_t f = 0; rc == 0 && f < st.n_files; f++) {
    if (st.changed[f].n == 0) continue;
    const sql_source_file *sf = &src->files[f];
    merged[f] = merge_positions(sf->deleted, sf->n_deleted, st.changed[f].pos, st.changed[f].n,
                                &n_merged[f]);
    if (merged[f] == NULL) rc = oom(err);
  }
  int64_t removed_files = 0, dv_files = 0;
  char *dv_path = NULL;
  if (rc == 0 && n_touched && use_dv) {
    /* One vector file for every touched file that keeps rows. */
    const uint64_t **vecs = calloc(n_touched + 1, sizeof *vecs);
    size_t *counts = calloc(n_touched + 1, sizeof *counts),
           *which = calloc(n_touched + 1, sizeof *which);
    delta_dv *descs = tarn_arena_calloc(&a, n_touched + 1, sizeof *descs);
    size_t k = 0;
    if (!vecs || !counts || !which || !descs) rc = oom(err);
    for (size_t f = 0; rc == 0 && f < st.n_files; f++) {
      if (st.changed[f].n == 0) continue;
      rc = delta_txn_remove_file(t, &snap->files[f], err);
      removed_files++;
      if (src->files[f].n_rows >= 0 && (int64_t)n_merged[f] >= src->files[f].n_rows)
        continue; /* every row gone: the file is only removed */
      vecs[k] = merged[f];
      counts[k] = n_merged[f];
      which[k++] = f;
    }
    if (rc == 0 && k)
      rc = delta_dv_write_file(bd->target_dir, k, vecs, counts, &a, descs, &dv_path, err);
    if (rc == 0) dv_files = (int64_t)k;
    for (size_t i = 0; rc == 0 && i < k; i++) {
      const delta_file *df = &snap->files[which[i]];
      char *stats = wide_stats(df->stats);
      rc = delta_txn_add_file_dv(t, df->path, df->partition_values, df->size, df->modification_time,
                                 stats ? stats : df->stats, &descs[i], err);
      free(stats);
    }
    free(vecs);
    free(counts);
    free(which);
  } else if (rc == 0 && n_touched) {
    /* Copy-on-write: the touched files' remaining rows are read (old and new deletions both
     * skipped) and written with the new rows, and the files removed. */
    sql_source_file *files = tarn_arena_calloc(&pc->arena, n_touched + 1, sizeof *files);
    if (files == NULL) rc = oom(err);
    size_t k = 0;
    for (size_t f = 0; rc == 0 && f < st.n_files; f++) {
      if (st.changed[f].n == 0) continue;
      rc = delta_txn_remove_file(t, &snap->files[f], err);
      removed_files++;
      files[k] = src->files[f];
      files[k].deleted = merged[f];
      files[k].n_deleted = n_merged[f];
      files[k].min = files[k].max = NULL; /* no pruning: there is no filter */
      k++;
    }
    old_rows_sink keep = {st.w, &st.old_shape, NULL};
    if (rc == 0) rc = scan_files(x, pc, src, files, k, bd->dml_n_cols, to_change_data, &keep, err);
  }
  if (rc == 0 && st.cdc && n_touched) rc = write_old_rows(x, pc, src, &st, err);
  if (rc == 0 && bd->dynamic_overwrite) {
    bool *gone = calloc(st.n_files + 1, sizeof *gone);
    rc = gone ? remove_written_partitions(t, snap, st.w, &l, gone, &removed_files, err) : oom(err);
    /* with change data: the rows of the files removed are deletions */
    sql_source_file *files = NULL;
    size_t k = 0;
    if (rc == 0 && st.cdc && removed_files) {
      files = tarn_arena_calloc(&pc->arena, (size_t)removed_files + 1, sizeof *files);
      if (files == NULL) rc = oom(err);
      for (size_t f = 0; rc == 0 && f < st.n_files; f++)
        if (gone[f]) {
          files[k] = src->files[f];
          files[k].min = files[k].max = NULL; /* no filter to prune with */
          k++;
        }
    }
    old_rows_sink del_sink = {st.cdc, &st.old_shape, "delete"};
    if (rc == 0 && k)
      rc = scan_files(x, pc, src, files, k, bd->dml_n_cols, to_change_data, &del_sink, err);
    free(gone);
  }
  int64_t new_rows = 0, change_rows = 0;
  if (rc == 0) rc = sql_delta_writer_finish(st.w, t, &new_rows, err);
  if (rc == 0 && st.cdc) rc = sql_delta_writer_finish(st.cdc, t, &change_rows, err);
  /* an overwrite (WRITE) counts the rows it wrote, as INSERT does */
  bool overwrite = strcmp(bd->dml_op, "WRITE") == 0;
  *affected = overwrite ? st.inserted : st.deleted + st.updated + st.inserted;
  bool changed = rc == 0 && (n_touched > 0 || new_rows > 0);
  if (changed) {
    rc = delta_txn_set_operation(t, bd->dml_op, overwrite ? "{\"mode\":\"Overwrite\"}" : NULL, err);
    if (rc == 0 && st.deleted) rc = delta_txn_set_metric(t, "numDeletedRows", st.deleted, err);
    if (rc == 0 && st.updated) rc = delta_txn_set_metric(t, "numUpdatedRows", st.updated, err);
    if (rc == 0 && st.inserted) rc = delta_txn_set_metric(t, "numInsertedRows", st.inserted, err);
    if (rc == 0) rc = delta_txn_set_metric(t, "numRemovedFiles", removed_files, err);
    if (rc == 0) rc = delta_txn_set_metric(t, "numDeletionVectorsAdded", dv_files, err);
    int64_t version;
    if (rc == 0) rc = delta_txn_commit(t, COMMIT_RETRIES, &version, err);
  }
  if (rc && dv_path) unlink(dv_path);
  free(dv_path);
  sql_delta_writer_free(st.w, rc != 0);
  sql_delta_writer_free(st.cdc, rc != 0);
  for (size_t f = 0; st.changed && f < st.n_files; f++) {
    free(st.changed[f].pos);
    if (st.replaced) free(st.replaced[f].pos);
    if (merged) free(merged[f]);
  }
  free(st.changed);
  free(st.replaced);
  free(merged);
  free(n_merged);
  tarn_arena_free(&a);
  delta_txn_free(t);
  return rc;
}
