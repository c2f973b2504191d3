/*
 * The scan operator: reads a source's Parquet files a row group at a time, skipping what the
 * pushed-down filters prove cannot match.
 *
 * Work is cut into morsels of one row group. A queue hands them out; with a GATHER above, every
 * worker's scan takes from the same queue, so a single big file is read by all cores. Before a
 * morsel is read, pruning runs from the cheapest evidence to the dearest: the file's own metadata
 * from the table format (partition values, min/max), then the row group's column statistics, the
 * bloom filters for equalities, and finally the page index, which turns into row ranges so only
 * pages that may hold matching rows are decoded. The filters themselves still run on every row
 * read: pruning only ever removes data that cannot match.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/endian.h"
#include "common/error.h"
#include "parquet/format.h"
#include "parquet/reader.h"
#include "parquet/schema.h"
#include "sql/exec_util.h"
#include "sql/keys.h"
#include "sql/scan_pq.h"

/* --- Pruning predicates -------------------------------------------------------------------------
 */

typedef enum prune_op {
  PR_EQ,
  PR_LT,
  PR_LE,
  PR_GT,
  PR_GE,
  PR_IN,
  PR_IS_NULL,
  PR_NOT_NULL
} prune_op;

typedef struct prune_pred {
  int col; /* output column of the scan */
  prune_op op;
  sql_value *vals; /* constants, in the column's type */
  size_t n_vals;
} prune_pred;

static bool is_column(const sql_expr *e, const sql_plan *p, int *col) {
  /* A column, possibly under an integer-widening cast (the binder casts int4 columns to int8 to
   * compare them with bigint literals): integer order is the same either way. */
  if (e->kind == SQL_E_CAST && e->n_args == 1 && sql_type_is_integer(e->type->id) &&
      sql_type_is_integer(e->args[0]->type->id))
    e = e->args[0];
  if (e->kind != SQL_E_COLUMN) return false;
  for (size_t i = 0; i < p->n_out; i++)
    if (p->out_ids[i] == e->column_id) {
      *col = (int)i;
      return true;
    }
  return false;
}

/* The constant in the column's type, when that is exact. */
static bool const_for(const sql_expr *e, const sql_type *t, sql_mem *m, sql_value *out) {
  if (e->kind != SQL_E_CONST || e->value.is_null) return false;
  const sql_type *ct = e->value.type ? e->value.type : e->type;
  if (sql_type_equal(ct, t)) {
    *out = e->value;
    return true;
  }
  if (sql_type_is_integer(ct->id) && sql_type_is_integer(t->id)) {
    *out = e->value;
    out->type = t;
    return true;
  }
  tarn_error err = {0};
  sql_value v;
  if (sql_cast_value(m, &e->value, t, &v, &err) != 0 || v.is_null) return false;
  sql_value back;
  if (sql_cast_value(m, &v, ct, &back, &err) != 0 || back.is_null) return false;
  if (sql_value_compare(&back, &e->value) != 0) return false; /* lossy: do not prune */
  *out = v;
  return true;
}

static void add_pred(prune_pred **preds, size_t *n, prune_pred p) {
  prune_pred *np = realloc(*preds, (*n + 1) * sizeof *np);
  if (np == NULL) {
    free(p.vals);
    return;
  }
  np[(*n)++] = p;
  *preds = np;
}

static void collect_preds(const sql_plan *scan, const sql_expr *e, sql_mem *m, prune_pred **preds,
                          size_t *n) {
  if (e->kind == SQL_E_AND) {
    for (size_t i = 0; i < e->n_args; i++)
      collect_preds(scan, e->args[i], m, preds, n);
    return;
  }
  int col;
  if (e->kind == SQL_E_IS_NULL && e->n_args == 1 && is_column(e->args[0], scan, &col)) {
    add_pred(preds, n, (prune_pred){col, e->negated ? PR_NOT_NULL : PR_IS_NULL, NULL, 0});
    return;
  }
  if (e->kind == SQL_E_IN_LIST && !e->negated && e->n_args >= 2 &&
      is_column(e->args[0], scan, &col)) {
    sql_value *vals = calloc(e->n_args - 1, sizeof *vals);
    if (vals == NULL) return;
    for (size_t i = 1; i < e->n_args; i++)
      if (!const_for(e->args[i], scan->out_types[col], m, &vals[i - 1])) {
        free(vals);
        return;
      }
    add_pred(preds, n, (prune_pred){col, PR_IN, vals, e->n_args - 1});
    return;
  }
  if (e->kind != SQL_E_FUNC || e->n_args != 2 || e->func == NULL) return;
  const char *name = e->func->name;
  prune_op op;
  if (strcmp(name, "=") == 0)
    op = PR_EQ;
  else if (strcmp(name, "<") == 0)
    op = PR_LT;
  else if (strcmp(name, "<=") == 0)
    op = PR_LE;
  else if (strcmp(name, ">") == 0)
    op = PR_GT;
  else if (strcmp(name, ">=") == 0)
    op = PR_GE;
  else
    return;
  const sql_expr *c = e->args[0], *k = e->args[1];
  if (!is_column(c, scan, &col)) {
    const sql_expr *t = c;
    c = k;
    k = t;
    if (!is_column(c, scan, &col)) return;
    op = op == PR_LT ? PR_GT : op == PR_LE ? PR_GE : op == PR_GT ? PR_LT : op == PR_GE ? PR_LE : op;
  }
  sql_value v;
  if (!const_for(k, scan->out_types[col], m, &v)) return;
  sql_value *vals = malloc(sizeof *vals);
  if (vals == NULL) return;
  vals[0] = v;
  add_pred(preds, n, (prune_pred){col, op, vals, 1});
}

/* May a chunk whose values lie in [min, max] (either may be unknown: is_null) and which has
 * null_count NULLs of num_values hold a row satisfying p? */
static bool may_match(const prune_pred *p, const sql_value *min, const sql_value *max,
                      int64_t null_count, int64_t num_values) {
  switch (p->op) {
  case PR_IS_NULL: return null_count != 0;
  case PR_NOT_NULL: return null_count < 0 || num_values < 0 || null_count < num_values;
  default: break;
  }
  if (null_count >= 0 && num_values >= 0 && null_count == num_values && num_values > 0)
    return false;
  bool has_min = !min->is_null, has_max = !max->is_null;
  for (size_t i = 0; i < (p->op == PR_IN ? p->n_vals : 1); i++) {
    const sql_value *c = &p->vals[i];
    int cmin = has_min ? sql_value_compare(c, min) : 0;
    int cmax = has_max ? sql_value_compare(c, max) : 0;
    bool ok = true;
    switch (p->op) {
    case PR_EQ:
    case PR_IN: ok = !(has_min && cmin < 0) && !(has_max && cmax > 0); break;
    case PR_LT: ok = !(has_min && cmin <= 0); break; /* some value < c  <=>  min < c */
    case PR_LE: ok = !(has_min && cmin < 0); break;
    case PR_GT: ok = !(has_max && cmax >= 0); break;
    case PR_GE: ok = !(has_max && cmax > 0); break;
    default: break;
    }
    if (ok) return true;
  }
  return false;
}

/* --- Statistics decoding ------------------------------------------------------------------------
 */

/* The value of a PLAIN-encoded statistic of leaf for a column of SQL type t; false when it cannot
 * be read exactly (then nothing is pruned on it). */
static bool decode_stat(const pq_node *leaf, const sql_type *t, const uint8_t *b, size_t len,
                        bool exact_order, sql_value *out) {
  memset(out, 0, sizeof *out);
  out->type = t;
  const char *fmt = leaf->arrow_format;
  switch (t->id) {
  case SQL_INT2:
  case SQL_INT4:
  case SQL_INT8:
  case SQL_DATE:
    if (leaf->physical == PQ_INT32 && len == 4) {
      bool uns = fmt[0] == 'C' || fmt[0] == 'S' || fmt[0] == 'I';
      if (uns && !exact_order) return false;
      out->u.i64 = uns ? (int64_t)load_le32(b) : (int64_t)(int32_t)load_le32(b);
      return true;
    }
    if (leaf->physical == PQ_INT64 && len == 8 && fmt[0] == 'l') {
      out->u.i64 = (int64_t)load_le64(b);
      return true;
    }
    return false;
  case SQL_TIMESTAMP:
  case SQL_TIMESTAMPTZ: {
    if (leaf->physical != PQ_INT64 || len != 8 || strncmp(fmt, "ts", 2) != 0) return false;
    int64_t v = (int64_t)load_le64(b);
    if (fmt[2] == 's')
      v *= 1000000;
    else if (fmt[2] == 'm')
      v *= 1000;
    else if (fmt[2] == 'n')
      v = v >= 0 ? v / 1000 : -((-v + 999) / 1000);
    out->u.i64 = v;
    return true;
  }
  case SQL_FLOAT4:
  case SQL_FLOAT8: {
    double d;
    if (leaf->physical == PQ_DOUBLE && len == 8) {
      uint64_t u = load_le64(b);
      memcpy(&d, &u, 8);
    } else if (leaf->physical == PQ_FLOAT && len == 4) {
      uint32_t u = load_le32(b);
      float f;
      memcpy(&f, &u, 4);
      d = f;
    } else {
      return false;
    }
    if (d != d) return false;
    out->u.f64 = d;
    return true;
  }
  case SQL_DECIMAL: {
    sql_i128 v = 0;
    if (leaf->physical == PQ_INT32 && len == 4)
      v = (int32_t)load_le32(b);
    else if (leaf->physical == PQ_INT64 && len == 8)
      v = (int64_t)load_le64(b);
    else if ((leaf->physical == PQ_BYTE_ARRAY || leaf->physical == PQ_FIXED_LEN_BYTE_ARRAY) &&
             len >= 1 && len <= 16 && exact_order) {
      v = (int8_t)b[0];
      for (size_t i = 1; i < len; i++)
        v = v * 256 + b[i];
    } else {
      return false;
    }
    if (leaf->decimal_scale != t->scale) return false;
    out->u.i128 = v;
    return true;
  }
  case SQL_TEXT:
    if (leaf->physical != PQ_BYTE_ARRAY || !exact_order) return false;
    out->u.str = (sql_str){(const char *)b, len};
    return true;
  default: return false;
  }
}

/* --- The morsel queue
 * ----------------------------------------------------------------------------- */

struct sql_morsel_queue {
  pthread_mutex_t mu;
  size_t next_file; /* next file to start */
  long cur_file;    /* file whose row groups are being handed out, -1 none */
  int cur_next_rg, cur_n_rg;
};

sql_morsel_queue *sql_morsel_queue_new(void) {
  sql_morsel_queue *q = calloc(1, sizeof *q);
  if (q == NULL) return NULL;
  pthread_mutex_init(&q->mu, NULL);
  q->cur_file = -1;
  return q;
}

void sql_morsel_queue_free(sql_morsel_queue *q) {
  if (q == NULL) return;
  pthread_mutex_destroy(&q->mu);
  free(q);
}

/* --- The operator
 * --------------------------------------------------------------------------------- */

typedef struct scan_state {
  sql_plan *p;
  sql_morsel_queue *queue;
  bool own_queue;
  sql_mem *pred_mem;
  prune_pred *preds;
  size_t n_preds;
  sql_expr *filter; /* AND of p->filters, resolved to out slots; NULL when none */
  bool *filter_col; /* per out column: the filter reads it (read first on the direct path) */
  const sql_ktab *key_filter; /* a join's runtime filter on out column key_col, or NULL */
  int key_col;
  /* The open file (this worker's handle) and its layout. */
  long file_idx;
  tarn_parquet_file *file;
  int n_rg;
  int64_t *rg_first_row;
  int *out_file_col; /* per out column: position in the file scan's columns, -1 none */
  const char **scan_cols;
  size_t n_scan_cols;
  const sql_type **scan_types; /* file's own types of scanned columns */
  const pq_node **pred_leaf;   /* per pred: the leaf of its column in this file, or NULL */
  const pq_node **scan_nodes;  /* per scanned column: its node in this file */
  bool direct;                 /* every scanned column can take the direct path (scan_pq.h) */
  tarn_arena file_arena;
  /* The row group being read. */
  bool streaming;
  struct ArrowArrayStream stream;
  struct ArrowSchema stream_schema;
  sql_pq_group *group; /* the row group being read on the direct path (instead of stream) */
  uint64_t row_pos;    /* file row number of the next row read (only without row ranges) */
  bool track_pos;
  /* The batch being built: the file row number of its first row and the rows of it kept (NULL:
   * all), for the row position column (sql_source_add_row_ids). */
  int64_t batch_first;
  const uint32_t *batch_sel;
  uint32_t *sel, *sel2;
} scan_state;

/* Whether the table format drops some rows of the file by position. */
static bool has_deletes(const sql_source_file *sf) { return sf->n_deleted > 0 || sf->keep_only; }

static void stat_add(int64_t *field, int64_t v) { __atomic_fetch_add(field, v, __ATOMIC_RELAXED); }

static void close_file(scan_state *s) {
  sql_pq_group_free(s->group);
  s->group = NULL;
  if (s->streaming) {
    s->stream.release(&s->stream);
    if (s->stream_schema.release) s->stream_schema.release(&s->stream_schema);
    memset(&s->stream_schema, 0, sizeof s->stream_schema);
    s->streaming = false;
  }
  tarn_parquet_close(s->file);
  s->file = NULL;
  s->file_idx = -1;
  tarn_arena_free(&s->file_arena);
}

/* The name data files give source column sc. */
static const char *file_col_name(const sql_source *src, int sc) {
  return src->col_file_names ? src->col_file_names[sc] : src->col_names[sc];
}

static const pq_node *top_column(const tarn_parquet_file *f, const char *name) {
  const pq_schema *sch = pq_file_schema(f);
  for (int i = 0; i < sch->root->n_children; i++)
    if (strcmp(sch->root->children[i]->name, name) == 0) return sch->root->children[i];
  return NULL;
}

/* Opens file idx for this worker and works out which of its columns feed which outputs. */
static int open_file(scan_state *s, sql_exec_ctx *ctx, long idx) {
  close_file(s);
  const sql_source *src = s->p->source;
  const sql_source_file *sf = &src->files[idx];
  int rc = tarn_parquet_open(sf->path, NULL, &s->file, ctx->err);
  if (rc) return rc;
  s->file_idx = idx;
  tarn_arena *a = &s->file_arena;
  const pq_file_meta *meta = pq_file_metadata(s->file);
  s->n_rg = (int)meta->n_row_groups;
  s->rg_first_row = tarn_arena_calloc(a, (size_t)s->n_rg + 1, sizeof *s->rg_first_row);
  size_t n_out = s->p->n_out;
  s->out_file_col = tarn_arena_calloc(a, n_out + 1, sizeof *s->out_file_col);
  s->scan_cols = tarn_arena_calloc(a, n_out + 1, sizeof *s->scan_cols);
  s->scan_types = tarn_arena_calloc(a, n_out + 1, sizeof *s->scan_types);
  s->pred_leaf = tarn_arena_calloc(a, s->n_preds + 1, sizeof *s->pred_leaf);
  s->scan_nodes = tarn_arena_calloc(a, n_out + 1, sizeof *s->scan_nodes);
  if (!s->rg_first_row || !s->out_file_col || !s->scan_cols || !s->scan_types || !s->pred_leaf ||
      !s->scan_nodes)
    return tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
  for (int i = 0; i < s->n_rg; i++)
    s->rg_first_row[i + 1] = s->rg_first_row[i] + meta->row_groups[i].num_rows;
  s->n_scan_cols = 0;
  s->direct = true;
  for (size_t i = 0; i < n_out; i++) {
    s->out_file_col[i] = -1;
    int sc = s->p->source_cols[i];
    if (sf->partition && sf->partition[sc].type) continue;
    const pq_node *node = top_column(s->file, file_col_name(src, sc));
    if (node == NULL) continue; /* missing in this file: NULLs */
    s->out_file_col[i] = (int)s->n_scan_cols;
    /* Read straight into the source's types (which live as long as the plan): the importer
     * converts what differs safely between files (integer widening, timestamp zones...), and
     * batches never point at types owned by one file's scan. */
    s->scan_types[s->n_scan_cols] = s->p->out_types[i];
    s->scan_nodes[s->n_scan_cols] = node;
    s->direct = s->direct && sql_pq_direct(node, s->p->out_types[i]);
    s->scan_cols[s->n_scan_cols++] = file_col_name(src, sc);
  }
  for (size_t k = 0; k < s->n_preds; k++) {
    int sc = s->p->source_cols[s->preds[k].col];
    const pq_node *node = top_column(s->file, file_col_name(src, sc));
    if (node && node->n_leaves == 1 && node->n_children == 0) s->pred_leaf[k] = node;
  }
  return 0;
}

/* File-level pruning from the table format's metadata: whether a file with facts sf may hold a
 * row that predicates preds of scan p keep. */
static bool facts_may_match(const sql_plan *p, const prune_pred *preds, size_t n_preds,
                            const sql_source_file *sf) {
  for (size_t k = 0; k < n_preds; k++) {
    const prune_pred *pr = &preds[k];
    int sc = p->source_cols[pr->col];
    if (sf->partition && sf->partition[sc].type) {
      const sql_value *v = &sf->partition[sc];
      if (!may_match(pr, v, v, v->is_null ? 1 : 0, 1)) return false;
      continue;
    }
    if (sf->min && sf->max) {
      int64_t nc = sf->null_count ? sf->null_count[sc] : -1;
      if (!may_match(pr, &sf->min[sc], &sf->max[sc], nc, sf->n_rows)) return false;
    }
  }
  return true;
}

static bool file_may_match(scan_state *s, const sql_source_file *sf) {
  return facts_may_match(s->p, s->preds, s->n_preds, sf);
}

bool sql_scan_may_match(const sql_plan *scan, const sql_source_file *sf) {
  if (scan->n_filters == 0) return true;
  sql_mem *m = sql_mem_new();
  if (m == NULL) return true; /* unsure: it may match */
  prune_pred *preds = NULL;
  size_t n = 0;
  for (size_t i = 0; i < scan->n_filters; i++)
    collect_preds(scan, scan->filters[i], m, &preds, &n);
  bool may = facts_may_match(scan, preds, n, sf);
  for (size_t i = 0; i < n; i++)
    free(preds[i].vals);
  free(preds);
  sql_mem_release(m);
  return may;
}

/* Takes the next morsel: sets *file_idx and *rg, opening files as needed. false at the end. */
static int next_morsel(scan_state *s, sql_exec_ctx *ctx, long *file_idx, int *rg, bool *done) {
  sql_morsel_queue *q = s->queue;
  const sql_source *src = s->p->source;
  pthread_mutex_lock(&q->mu);
  int rc = 0;
  *done = false;
  for (;;) {
    if (q->cur_file >= 0 && q->cur_next_rg < q->cur_n_rg) {
      *file_idx = q->cur_file;
      *rg = q->cur_next_rg++;
      break;
    }
    if (q->next_file >= src->n_files) {
      *done = true;
      break;
    }
    long idx = (long)q->next_file++;
    stat_add(&s->p->scan_stats.files_total, 1);
    if (!file_may_match(s, &src->files[idx])) {
      stat_add(&s->p->scan_stats.files_skipped, 1);
      continue;
    }
    rc = open_file(s, ctx, idx);
    if (rc) break;
    stat_add(&s->p->scan_stats.row_groups_total, s->n_rg);
    q->cur_file = idx;
    q->cur_next_rg = 0;
    q->cur_n_rg = s->n_rg;
  }
  pthread_mutex_unlock(&q->mu);
  if (rc == 0 && !*done && s->file_idx != *file_idx) rc = open_file(s, ctx, *file_idx);
  return rc;
}

/* Row group pruning by statistics and bloom filters. */
static int rg_may_match(scan_state *s, sql_exec_ctx *ctx, int rg, bool *match) {
  *match = true;
  for (size_t k = 0; k < s->n_preds && *match; k++) {
    const pq_node *leaf = s->pred_leaf[k];
    if (leaf == NULL) continue;
    const prune_pred *pr = &s->preds[k];
    tarn_column_stats st;
    tarn_error e2 = {0};
    if (tarn_parquet_column_stats(s->file, rg, leaf->leaf_index, &st, &e2) != 0) continue;
    sql_value mn = {.is_null = true}, mx = {.is_null = true};
    const sql_type *t = s->p->out_types[pr->col];
    if (st.has_min_max) {
      if (!decode_stat(leaf, t, st.min, st.min_len, st.exact_order, &mn)) mn.is_null = true;
      if (!decode_stat(leaf, t, st.max, st.max_len, st.exact_order, &mx)) mx.is_null = true;
    }
    int64_t nc = st.has_null_count ? st.null_count : -1;
    if (!may_match(pr, &mn, &mx, nc, st.num_values)) {
      *match = false;
      break;
    }
    /* Bloom filters answer "certainly absent" for equalities. */
    if (pr->op == PR_EQ || (pr->op == PR_IN && pr->n_vals <= 16)) {
      bool any = false;
      for (size_t i = 0; i < pr->n_vals && !any; i++) {
        uint8_t buf[8];
        const void *bytes = NULL;
        size_t len = 0;
        const sql_value *v = &pr->vals[i];
        if (leaf->physical == PQ_INT32 &&
            (t->id == SQL_INT2 || t->id == SQL_INT4 || t->id == SQL_INT8 || t->id == SQL_DATE) &&
            leaf->arrow_format[0] != 'I' && v->u.i64 >= INT32_MIN && v->u.i64 <= INT32_MAX) {
          store_le32(buf, (uint32_t)(int32_t)v->u.i64);
          bytes = buf, len = 4;
        } else if (leaf->physical == PQ_INT64 && leaf->arrow_format[0] == 'l' &&
                   sql_type_is_integer(t->id)) {
          store_le64(buf, (uint64_t)v->u.i64);
          bytes = buf, len = 8;
        } else if (leaf->physical == PQ_BYTE_ARRAY && t->id == SQL_TEXT) {
          bytes = v->u.str.ptr, len = v->u.str.len;
        }
        if (bytes == NULL) {
          any = true;
          break;
        }
        int maybe = 1;
        if (tarn_parquet_bloom_check(s->file, rg, leaf->leaf_index, bytes, len, &maybe, &e2) != 0)
          maybe = 1;
        if (maybe) any = true;
      }
      if (!any) *match = false;
    }
  }
  (void)ctx;
  return 0;
}

/* Row ranges (file numbering) of rg that the page index says may match; *n = 0 with *all set
 * when every row may. */
static int page_ranges(scan_state *s, sql_exec_ctx *ctx, int rg, tarn_row_range **out, size_t *n,
                       bool *all) {
  *all = true;
  *n = 0;
  *out = NULL;
  int64_t rg_rows = s->rg_first_row[rg + 1] - s->rg_first_row[rg];
  if (rg_rows <= 0) return 0;
  /* Work on a sorted list of [first, end) kept intervals within the row group. */
  int64_t *iv = NULL;
  size_t n_iv = 0;
  bool restricted = false;
  for (size_t k = 0; k < s->n_preds; k++) {
    const pq_node *leaf = s->pred_leaf[k];
    if (leaf == NULL) continue;
    tarn_page_info *pages = NULL;
    size_t np = 0;
    tarn_error e2 = {0};
    if (tarn_parquet_page_index(s->file, rg, leaf->leaf_index, &pages, &np, &e2) != 0 || np == 0) {
      free(pages);
      continue;
    }
    const prune_pred *pr = &s->preds[k];
    const sql_type *t = s->p->out_types[pr->col];
    int64_t *mine = malloc(2 * np * sizeof *mine);
    size_t n_mine = 0;
    if (mine == NULL) {
      free(pages);
      free(iv);
      return tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
    }
    bool any_pruned = false;
    for (size_t i = 0; i < np; i++) {
      bool m = true;
      if (pages[i].has_bounds) {
        sql_value mn = {.is_null = true}, mx = {.is_null = true};
        if (!pages[i].null_page) {
          if (!decode_stat(leaf, t, pages[i].min, pages[i].min_len, true, &mn)) mn.is_null = true;
          if (!decode_stat(leaf, t, pages[i].max, pages[i].max_len, true, &mx)) mx.is_null = true;
        }
        int64_t nc = pages[i].has_null_count ? pages[i].null_count
                                             : (pages[i].null_page ? pages[i].num_rows : -1);
        /* A page's value count equals its row count only for flat columns, which pred_leaf is. */
        m = may_match(pr, &mn, &mx, nc, pages[i].num_rows);
      }
      if (!m) {
        any_pruned = true;
        continue;
      }
      int64_t first = pages[i].first_row, end = first + pages[i].num_rows;
      if (n_mine && mine[2 * n_mine - 1] == first)
        mine[2 * n_mine - 1] = end;
      else {
        mine[2 * n_mine] = first;
        mine[2 * n_mine + 1] = end;
        n_mine++;
      }
    }
    free(pages);
    if (!any_pruned) {
      free(mine);
      continue;
    }
    if (!restricted) {
      iv = mine;
      n_iv = n_mine;
      restricted = true;
      continue;
    }
    /* Intersect iv with mine. */
    int64_t *res = malloc(2 * (n_iv + n_mine + 1) * sizeof *res);
    size_t n_res = 0, a = 0, b = 0;
    if (res == NULL) {
      free(mine);
      free(iv);
      return tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
    }
    while (a < n_iv && b < n_mine) {
      int64_t lo = iv[2 * a] > mine[2 * b] ? iv[2 * a] : mine[2 * b];
      int64_t hi = iv[2 * a + 1] < mine[2 * b + 1] ? iv[2 * a + 1] : mine[2 * b + 1];
      if (lo < hi) {
        res[2 * n_res] = lo;
        res[2 * n_res + 1] = hi;
        n_res++;
      }
      if (iv[2 * a + 1] < mine[2 * b + 1])
        a++;
      else
        b++;
    }
    free(iv);
    free(mine);
    iv = res;
    n_iv = n_res;
  }
  if (!restricted) return 0;
  *all = false;
  tarn_row_range *r = calloc(n_iv ? n_iv : 1, sizeof *r);
  if (r == NULL) {
    free(iv);
    return tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < n_iv; i++) {
    r[i].first = s->rg_first_row[rg] + iv[2 * i];
    r[i].count = iv[2 * i + 1] - iv[2 * i];
  }
  free(iv);
  *out = r;
  *n = n_iv;
  return 0;
}

/* Starts reading the next morsel that survives pruning. *done when there is none. */
static int start_morsel(scan_state *s, sql_exec_ctx *ctx, bool *done) {
  for (;;) {
    long fi;
    int rg;
    int rc = next_morsel(s, ctx, &fi, &rg, done);
    if (rc || *done) return rc;
    bool match = true;
    if (s->n_preds) rc = rg_may_match(s, ctx, rg, &match);
    if (rc) return rc;
    if (!match) {
      stat_add(&s->p->scan_stats.row_groups_skipped, 1);
      continue;
    }
    const sql_source_file *sf = &s->p->source->files[fi];
    tarn_row_range *ranges = NULL;
    size_t n_ranges = 0;
    bool all = true;
    s->track_pos = has_deletes(sf) || s->p->source->has_row_pos;
    if (s->n_preds && !s->track_pos) rc = page_ranges(s, ctx, rg, &ranges, &n_ranges, &all);
    if (rc) return rc;
    if (!all && n_ranges == 0) {
      free(ranges);
      stat_add(&s->p->scan_stats.row_groups_skipped, 1);
      continue;
    }
    if (s->direct) {
      rc = sql_pq_group_open(s->file, rg, s->scan_nodes, s->scan_types, s->n_scan_cols,
                             all ? NULL : ranges, all ? 0 : n_ranges, &s->group, ctx->err);
      free(ranges);
      if (rc) return rc;
      s->streaming = false;
      return 0;
    }
    tarn_scan_options o;
    memset(&o, 0, sizeof o);
    o.columns = s->scan_cols;
    o.n_columns = s->n_scan_cols;
    o.row_groups = &rg;
    o.n_row_groups = 1;
    o.row_ranges = all ? NULL : ranges;
    o.n_row_ranges = all ? 0 : n_ranges;
    o.batch_rows = SQL_BATCH_ROWS;
    if (s->n_scan_cols == 0) {
      /* Only partition or missing columns: still need row counts; read nothing and synthesise. */
      o.columns = NULL;
    }
    rc = tarn_parquet_scan(s->file, &o, &s->stream, ctx->err);
    free(ranges);
    if (rc) return rc;
    rc = s->stream.get_schema(&s->stream, &s->stream_schema);
    if (rc) {
      s->stream.release(&s->stream);
      return tarn_err(ctx->err, TARN_EINVAL, "cannot read the scan schema of %s", sf->path);
    }
    s->streaming = true;
    s->row_pos = (uint64_t)s->rg_first_row[rg];
    if ((size_t)s->stream_schema.n_children < s->n_scan_cols)
      return tarn_err(ctx->err, TARN_ECORRUPT, "%s: the scan returned fewer columns than asked for",
                      sf->path);
    /* A column whose type the table widened since this file was written (int to double, date
     * to timestamp): read it as the file's own simple type, and shape_batch casts it. */
    for (size_t c = 0; c < s->n_scan_cols; c++) {
      const struct ArrowSchema *field = s->stream_schema.children[c];
      const sql_type *ft = NULL;
      if (sql_arrow_fits(field, s->scan_types[c])) continue;
      if (sql_type_from_arrow(&s->file_arena, field, &ft, NULL) == 0 && ft &&
          ft == sql_type_get(ft->id))
        s->scan_types[c] = ft; /* a shared static instance: outlives the file's batches */
    }
    return 0;
  }
}

static void finish_group(scan_state *s) {
  int64_t read = 0, skipped = 0;
  sql_pq_group_pages(s->group, &read, &skipped);
  stat_add(&s->p->scan_stats.pages_total, read + skipped);
  stat_add(&s->p->scan_stats.pages_skipped, skipped);
  sql_pq_group_free(s->group);
  s->group = NULL;
}

static int finish_stream(scan_state *s) {
  int64_t read = 0, skipped = 0;
  tarn_parquet_stream_pages(&s->stream, &read, &skipped);
  stat_add(&s->p->scan_stats.pages_total, read + skipped);
  stat_add(&s->p->scan_stats.pages_skipped, skipped);
  s->stream.release(&s->stream);
  if (s->stream_schema.release) s->stream_schema.release(&s->stream_schema);
  memset(&s->stream_schema, 0, sizeof s->stream_schema);
  s->streaming = false;
  return 0;
}

/* Out column i when the file does not store it: the file's partition value, or NULLs for a
 * column the file lacks, as n_rows rows in m. */
static int const_col(scan_state *s, sql_exec_ctx *ctx, sql_mem *m, size_t i, uint32_t n_rows,
                     sql_vec *out) {
  const sql_plan *p = s->p;
  const sql_source_file *sf = &p->source->files[s->file_idx];
  const sql_type *t = p->out_types[i];
  int sc = p->source_cols[i];
  int rc;
  if (p->source->has_row_pos && (size_t)sc == p->source->row_pos_col) {
    rc = sql_vec_init(m, out, t, n_rows, ctx->err);
    for (uint32_t k = 0; rc == 0 && k < n_rows; k++)
      SQL_VEC_I64(out)[k] = s->batch_first + (s->batch_sel ? s->batch_sel[k] : k);
    return rc;
  }
  if (sf->partition && sf->partition[sc].type) {
    sql_eval_ctx ectx;
    sql_exec_eval_ctx(ctx, m, &ectx);
    sql_vec one;
    sql_value pv = sf->partition[sc];
    rc = sql_vec_from_value(m, &pv, &one, ctx->err);
    if (rc == 0 && !sql_type_equal(one.type, t)) {
      sql_vec c;
      rc = sql_cast_vec(&ectx, &one, t, false, &c);
      one = c;
    }
    if (rc == 0) rc = sql_vec_broadcast(m, &one, n_rows, out, ctx->err);
    return rc;
  }
  rc = sql_vec_init(m, out, t, n_rows, ctx->err);
  if (rc) return rc;
  uint8_t *nl = sql_vec_nulls(m, out);
  if (nl == NULL) return tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
  memset(nl, 1, n_rows);
  return 0;
}

/* Builds the output batch from a file batch: columns in out order, partition constants, NULLs
 * for columns the file lacks, casts where the file's type differs from the source's. */
static int shape_batch(scan_state *s, sql_exec_ctx *ctx, sql_batch *fb, uint32_t n_rows,
                       sql_batch **out) {
  const sql_plan *p = s->p;
  sql_batch *b = NULL;
  int rc = sql_batch_new((uint32_t)p->n_out, n_rows, &b, ctx->err);
  if (rc) return rc;
  if (fb) rc = sql_mem_add_parent(b->mem, fb->mem);
  sql_eval_ctx ectx;
  sql_exec_eval_ctx(ctx, b->mem, &ectx);
  for (size_t i = 0; rc == 0 && i < p->n_out; i++) {
    const sql_type *t = p->out_types[i];
    int fc = s->out_file_col[i];
    if (fc >= 0 && fb) {
      sql_vec *v = &fb->cols[fc];
      if (sql_type_equal(v->type, t))
        b->cols[i] = *v;
      else
        rc = sql_cast_vec(&ectx, v, t, false, &b->cols[i]);
    } else {
      rc = const_col(s, ctx, b->mem, i, n_rows, &b->cols[i]);
    }
  }
  if (rc) {
    sql_batch_free(b);
    return rc;
  }
  *out = b;
  return 0;
}

static int scan_open(sql_op *op, sql_exec_ctx *ctx) {
  scan_state *s = op->state;
  (void)ctx;
  if (s->queue == NULL) {
    s->queue = s->p->morsels;
    if (s->queue == NULL) {
      s->queue = sql_morsel_queue_new();
      s->own_queue = true;
      if (s->queue == NULL) return tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
    }
  }
  return 0;
}

/* Narrows *b to the rows sel[0..n) (a no-op when that is every row). On failure *b is freed and
 * NULL. */
static int keep_rows(sql_batch **b, const uint32_t *sel, uint32_t n, tarn_error *err) {
  if (n == (*b)->n_rows) return 0;
  sql_batch *nb = NULL;
  int rc = sql_batch_select(*b, sel, n, &nb, err);
  sql_batch_free(*b);
  *b = nb;
  return rc;
}

/* The rows of a batch of n rows starting at file row first that the table format has not
 * deleted: their positions go to sel, their count is returned. */
static uint32_t undeleted_rows(const sql_source_file *sf, uint64_t first, uint32_t n,
                               uint32_t *sel) {
  /* Listed positions ascend: find the first one at or after this batch once, then walk both in
   * step. A listed row is skipped, or with keep_only the only kind kept. */
  size_t d = 0, hi = sf->n_deleted;
  while (d < hi) {
    size_t mid = d + (hi - d) / 2;
    if (sf->deleted[mid] < first)
      d = mid + 1;
    else
      hi = mid;
  }
  uint32_t n_sel = 0;
  for (uint32_t i = 0; i < n; i++) {
    bool listed = d < sf->n_deleted && sf->deleted[d] == first + i;
    d += listed;
    if (listed == sf->keep_only) sel[n_sel++] = i;
  }
  return n_sel;
}

/* The rows of v (those of in[0..n), or 0..n - 1 when in is NULL) whose key the join's table
 * may hold, into out (which may be in); returns their count. NULL keys never match. */
static uint32_t key_filter_rows(const scan_state *s, const sql_vec *v, const uint32_t *in,
                                uint32_t n, uint32_t *out) {
  const int64_t *x = SQL_VEC_I64(v);
  uint32_t m = 0;
  for (uint32_t k = 0; k < n; k++) {
    uint32_t i = in ? in[k] : k;
    /* The hash sql_keys_ints gives a one-column key, which the table's filter holds. */
    bool may =
        !SQL_VEC_IS_NULL(v, i) && sql_ktab_may_hold(s->key_filter, sql_keys_mix((uint64_t)x[i]));
    out[m] = i;
    m += may;
  }
  return m;
}

/* Out column i of the direct path's current batch: rows sel[0..n) (all when sel is NULL). */
static int direct_col(scan_state *s, sql_exec_ctx *ctx, sql_mem *m, size_t i, const uint32_t *sel,
                      uint32_t n, sql_vec *out) {
  int fc = s->out_file_col[i];
  if (fc >= 0) return sql_pq_group_read(s->group, (size_t)fc, m, sel, n, out, ctx->err);
  s->batch_sel = sel;
  return const_col(s, ctx, m, i, n, out);
}

/* The direct path (scan_pq.h): the next batch of the open row group with rows left after the
 * table format's deletes and the filter. The filter's columns are read first; the others only
 * for the rows it kept, and not at all for a batch it empties. *out stays NULL, and the group is
 * closed, at the end of the row group. */
static int direct_next(scan_state *s, sql_exec_ctx *ctx, sql_batch **out) {
  const sql_plan *p = s->p;
  const sql_source_file *sf = &p->source->files[s->file_idx];
  for (;;) {
    int64_t first;
    uint32_t n;
    int rc = sql_pq_group_next(s->group, SQL_BATCH_ROWS, &first, &n, ctx->err);
    if (rc) return rc;
    if (n == 0) {
      finish_group(s);
      return 0;
    }
    stat_add(&s->p->scan_stats.rows_read, n);
    s->batch_first = first;
    const uint32_t *sel = NULL;
    uint32_t n_sel = n;
    if (s->track_pos && has_deletes(sf)) {
      n_sel = undeleted_rows(sf, (uint64_t)first, n, s->sel);
      if (n_sel == 0) continue;
      if (n_sel < n) sel = s->sel;
    }
    sql_batch *b = NULL;
    if ((rc = sql_batch_new((uint32_t)p->n_out, n_sel, &b, ctx->err))) return rc;
    bool late = s->filter != NULL || s->key_filter != NULL;
    for (size_t i = 0; rc == 0 && i < p->n_out; i++) {
      if (late && !s->filter_col[i]) {
        /* Not read yet: only the filter looks at this batch, and it never touches it. */
        memset(&b->cols[i], 0, sizeof b->cols[i]);
        b->cols[i].type = p->out_types[i];
        b->cols[i].n = n_sel;
        continue;
      }
      rc = direct_col(s, ctx, b->mem, i, sel, n_sel, &b->cols[i]);
    }
    if (rc == 0 && late) {
      sql_eval_ctx ectx;
      sql_exec_eval_ctx(ctx, b->mem, &ectx);
      uint32_t kept = n_sel;
      const uint32_t *keep = NULL;
      if (s->filter) {
        rc = sql_expr_select(&ectx, s->filter, b, s->sel2, &kept);
        keep = s->sel2;
      }
      if (rc == 0 && s->key_filter && kept > 0) {
        kept = key_filter_rows(s, &b->cols[s->key_col], keep, kept, s->sel2);
        keep = s->sel2;
      }
      if (rc == 0 && kept == 0) {
        sql_batch_free(b);
        continue;
      }
      if (rc == 0 && kept < n_sel) {
        /* Narrow the filter's columns to the kept rows; the rest are read for those only. */
        sql_batch *nb = NULL;
        rc = sql_batch_new((uint32_t)p->n_out, kept, &nb, ctx->err);
        if (rc == 0) rc = sql_mem_add_parent(nb->mem, b->mem);
        for (size_t i = 0; rc == 0 && i < p->n_out; i++)
          if (s->filter_col[i])
            rc = sql_vec_gather(nb->mem, &b->cols[i], s->sel2, kept, &nb->cols[i], ctx->err);
        for (uint32_t k = 0; k < kept; k++)
          s->sel2[k] = sel ? sel[s->sel2[k]] : s->sel2[k];
        sel = s->sel2;
        n_sel = kept;
        sql_batch_free(b);
        b = nb;
      }
      for (size_t i = 0; rc == 0 && i < p->n_out; i++)
        if (!s->filter_col[i]) rc = direct_col(s, ctx, b->mem, i, sel, n_sel, &b->cols[i]);
    }
    if (rc) {
      sql_batch_free(b);
      return rc;
    }
    *out = b;
    return 0;
  }
}

static int scan_next(sql_op *op, sql_exec_ctx *ctx, sql_batch **out) {
  scan_state *s = op->state;
  *out = NULL;
  for (;;) {
    if (!s->streaming && s->group == NULL) {
      bool done = false;
      int rc = start_morsel(s, ctx, &done);
      if (rc) return rc;
      if (done) return 0;
    }
    if (s->group) {
      int rc = direct_next(s, ctx, out);
      if (rc || *out) return rc;
      continue;
    }
    struct ArrowArray arr;
    memset(&arr, 0, sizeof arr);
    if (s->stream.get_next(&s->stream, &arr) != 0) {
      int code = tarn_parquet_stream_error(&s->stream);
      const char *msg = s->stream.get_last_error(&s->stream);
      return tarn_err(ctx->err, code ? code : TARN_EIO, "%s", msg ? msg : "read error");
    }
    if (arr.release == NULL) {
      finish_stream(s);
      continue;
    }
    uint32_t n_rows = (uint32_t)arr.length;
    stat_add(&s->p->scan_stats.rows_read, n_rows);
    sql_batch *fb = NULL;
    int rc = 0;
    if (s->n_scan_cols > 0) {
      rc = sql_batch_from_arrow(&s->stream_schema, &arr, s->scan_types, &fb, ctx->err);
    } else if (arr.release) {
      arr.release(&arr);
    }
    if (rc) return rc;
    sql_batch *b = NULL;
    s->batch_first = (int64_t)s->row_pos;
    s->batch_sel = NULL;
    rc = shape_batch(s, ctx, fb, n_rows, &b);
    sql_batch_free(fb);
    if (rc) return rc;
    uint64_t first_pos = s->row_pos;
    s->row_pos += n_rows;
    /* Rows deleted by the table format, then the pushed-down filters. */
    uint32_t n_sel = n_rows;
    const sql_source_file *sf = &s->p->source->files[s->file_idx];
    if (s->track_pos && has_deletes(sf)) {
      n_sel = undeleted_rows(sf, first_pos, n_rows, s->sel);
      rc = keep_rows(&b, s->sel, n_sel, ctx->err);
      if (rc) return rc;
    }
    if (s->filter && b->n_rows) {
      sql_eval_ctx ectx;
      sql_exec_eval_ctx(ctx, b->mem, &ectx);
      rc = sql_expr_select(&ectx, s->filter, b, s->sel, &n_sel);
      if (rc == 0) rc = keep_rows(&b, s->sel, n_sel, ctx->err);
      if (rc) {
        sql_batch_free(b);
        return rc;
      }
    }
    if (b->n_rows == 0) {
      sql_batch_free(b);
      continue;
    }
    *out = b;
    return 0;
  }
}

static void scan_close(sql_op *op) {
  scan_state *s = op->state;
  if (s == NULL) return;
  close_file(s);
  if (s->own_queue) sql_morsel_queue_free(s->queue);
  for (size_t i = 0; i < s->n_preds; i++)
    free(s->preds[i].vals);
  free(s->preds);
  sql_mem_release(s->pred_mem);
  free(s->sel);
  free(s->sel2);
  free(s);
  op->state = NULL;
}

/* Marks in cols (n out slots) the columns e reads. false when that cannot be told (a subquery,
 * whose plan is not walked here): then every column must count as read. */
static bool mark_read_cols(const sql_expr *e, bool *cols, size_t n) {
  if (e == NULL) return true;
  if (e->kind == SQL_E_SUBQUERY) return false;
  if (e->kind == SQL_E_COLUMN) {
    if (e->slot < 0 || (size_t)e->slot >= n) return false;
    cols[e->slot] = true;
  }
  for (size_t i = 0; i < e->n_args; i++)
    if (!mark_read_cols(e->args[i], cols, n)) return false;
  return true;
}

bool sql_op_scan_key_filter(sql_op *op, const sql_ktab *kt, int col);

static const sql_op_vtable scan_vt = {"scan", scan_open, scan_next, scan_close};

int sql_op_scan(sql_exec_ctx *ctx, sql_plan *p, sql_op **out) {
  sql_op *op = calloc(1, sizeof *op);
  scan_state *s = calloc(1, sizeof *s);
  if (op == NULL || s == NULL) {
    free(op);
    free(s);
    return tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
  }
  op->vt = &scan_vt;
  op->plan = p;
  op->state = s;
  s->p = p;
  s->file_idx = -1;
  s->sel = malloc(SQL_BATCH_ROWS * sizeof *s->sel);
  s->sel2 = malloc(SQL_BATCH_ROWS * sizeof *s->sel2);
  s->pred_mem = sql_mem_new();
  int rc = s->sel && s->sel2 && s->pred_mem ? 0 : tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
  if (rc == 0 && p->n_filters) {
    for (size_t i = 0; i < p->n_filters; i++)
      collect_preds(p, p->filters[i], s->pred_mem, &s->preds, &s->n_preds);
    if (p->n_filters == 1) {
      s->filter = p->filters[0];
    } else {
      sql_expr *and = sql_mem_alloc(s->pred_mem, 1, sizeof *and);
      if (and == NULL)
        rc = tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
      else {
        and->kind = SQL_E_AND;
        and->type = sql_type_get(SQL_BOOL);
        and->args = p->filters;
        and->n_args = p->n_filters;
        s->filter = and;
      }
    }
    if (rc == 0) rc = sql_expr_resolve(s->filter, p->out_ids, p->n_out, ctx->err);
    if (rc == 0) {
      s->filter_col = sql_mem_alloc(s->pred_mem, p->n_out + 1, sizeof *s->filter_col);
      if (s->filter_col == NULL)
        rc = tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
      else if (!mark_read_cols(s->filter, s->filter_col, p->n_out))
        for (size_t i = 0; i < p->n_out; i++)
          s->filter_col[i] = true;
    }
  }
  if (rc) {
    scan_close(op);
    free(op);
    return rc;
  }
  *out = op;
  return 0;
}

bool sql_op_scan_key_filter(sql_op *op, const sql_ktab *kt, int col) {
  op = sql_op_unmetered(op);
  if (op == NULL || op->vt != &scan_vt || kt == NULL || kt->filter == NULL || kt->n_ints != 1)
    return false;
  scan_state *s = op->state;
  const sql_plan *p = s->p;
  if (col < 0 || (size_t)col >= p->n_out || sql_type_phys(p->out_types[col]->id) != SQL_PHYS_I64)
    return false;
  if (s->filter_col == NULL) {
    s->filter_col = sql_mem_alloc(s->pred_mem, p->n_out + 1, sizeof *s->filter_col);
    if (s->filter_col == NULL) return false;
  }
  s->filter_col[col] = true;
  s->key_filter = kt;
  s->key_col = col;
  return true;
}
