/*
 * OPTIMIZE for Delta tables (see delta_optimize.h and docs/internals/delta-optimize.md).
 *
 * The work is planned on one snapshot (the transaction's read version): the live files are
 * grouped by partition, each group becomes zero or more jobs (a bin of small files to coalesce,
 * or every file of the partition for Z-order), and each job is a scan of its files through the
 * SQL executor whose rows go to new files through the Delta writer (delta_files.h). Deletion
 * vectors are applied by the scan, so rows they delete are not copied. The jobs' input files are
 * removed and the new files added in one commit with dataChange false.
 *
 * Z-order runs two scans of a partition: the first reads only the Z-order columns and keeps a
 * uniform sample of their values (reservoir sampling), from which each column gets up to
 * 2^bits - 1 bucket boundaries (quantiles); the second reads every column into the executor's
 * sort operator keyed by the Morton code of the rows' bucket numbers, and cuts the sorted stream
 * into files of about the target size (the first file's rows estimated from the input's bytes per
 * row, the later ones' from the bytes per row of the files already written). The sort spills to the
 * context's temporary directory when the memory budget runs out, so a partition larger than memory
 * is sorted on disk.
 */
#include "sql/delta_optimize.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/error.h"
#include "sql/delta_files.h"
#include "table/delta/delta_commit.h"
#include "table/delta/delta_log.h"

#define COMMIT_RETRIES 1000
#define DEFAULT_TARGET_FILE_SIZE ((int64_t)128 << 20) /* Delta's delta.targetFileSize default */
#define SAMPLE_ROWS ((size_t)1 << 17)                 /* rows sampled per partition for Z-order */
#define MAX_RANK_BITS 12 /* bits of bucket number per column (Delta: 1000 range ids) */
#define MAX_ZORDER_COLUMNS 64

static int oom(tarn_error *err) { return tarn_err(err, TARN_ENOMEM, "out of memory"); }

/* --- Sizes ------------------------------------------------------------------------------------ */

/* A size as Spark reads byte strings ("134217728", "128m", "128MB", "1g"): a whole number with an
 * optional binary unit b, k[b], m[b], g[b], t[b]. false when text is not one. */
static bool parse_size(const char *text, int64_t *out) {
  const char *p = text;
  while (isspace((unsigned char)*p))
    p++;
  if (!isdigit((unsigned char)*p)) return false;
  int64_t v = 0;
  for (; isdigit((unsigned char)*p); p++) {
    if (v > (INT64_MAX - 9) / 10) return false;
    v = v * 10 + (*p - '0');
  }
  int shift = 0;
  switch (tolower((unsigned char)*p)) {
  case 'k': shift = 10; break;
  case 'm': shift = 20; break;
  case 'g': shift = 30; break;
  case 't': shift = 40; break;
  default: break;
  }
  if (shift) {
    p++;
    if (tolower((unsigned char)*p) == 'b') p++;
  } else if (tolower((unsigned char)*p) == 'b') {
    p++;
  }
  while (isspace((unsigned char)*p))
    p++;
  if (*p || v > (INT64_MAX >> shift)) return false;
  *out = v << shift;
  return true;
}

static int target_size(const delta_snapshot *s, const sql_delta_optimize_options *o, int64_t *out,
                       tarn_error *err) {
  if (o->target_file_size > 0) {
    *out = o->target_file_size;
    return 0;
  }
  const char *conf = delta_snapshot_config(s, "delta.targetFileSize");
  if (conf == NULL) {
    *out = DEFAULT_TARGET_FILE_SIZE;
    return 0;
  }
  if (!parse_size(conf, out) || *out <= 0)
    return tarn_err(err, TARN_EINVAL,
                    "delta table %s: delta.targetFileSize '%s' is not a positive size in bytes",
                    s->table_dir, conf);
  return 0;
}

/* --- Order-preserving keys of column values ----------------------------------------------------
 *
 * Each Z-order column value becomes an unsigned 64-bit key whose order is the column's order (not
 * strictly: a few distinct values may share a key): integers, dates, times and timestamps with the
 * sign bit flipped; floats by their IEEE bits (negative numbers inverted, positive ones with the
 * sign bit set, -0 as +0, NaN above +Infinity as SQL orders it); decimals through a double;
 * booleans as 0/1; strings and binaries by their first 8 bytes, big-endian (strings that share
 * those bytes tie). NULLs get no key: they go first, as bucket 0. */

static uint64_t double_key(double d) {
  if (d == 0) d = 0; /* -0 as +0 */
  uint64_t bits;
  memcpy(&bits, &d, sizeof bits);
  return bits >> 63 ? ~bits : bits | (UINT64_C(1) << 63);
}

static bool key_type(const sql_type *t) {
  switch (t->id) {
  case SQL_BOOL:
  case SQL_INT2:
  case SQL_INT4:
  case SQL_INT8:
  case SQL_FLOAT4:
  case SQL_FLOAT8:
  case SQL_DECIMAL:
  case SQL_TEXT:
  case SQL_BYTEA:
  case SQL_UUID:
  case SQL_DATE:
  case SQL_TIME:
  case SQL_TIMESTAMP:
  case SQL_TIMESTAMPTZ: return true;
  default: return false;
  }
}

/* key[i], null[i] for rows 0..n of v (a column of a key_type type). */
static void value_keys(const sql_vec *v, uint32_t n, uint64_t *key, uint8_t *null) {
  for (uint32_t i = 0; i < n; i++) {
    null[i] = SQL_VEC_IS_NULL(v, i);
    if (null[i]) {
      key[i] = 0;
      continue;
    }
    switch (v->type->id) {
    case SQL_BOOL: key[i] = SQL_VEC_U8(v)[i] != 0; break;
    case SQL_FLOAT4:
    case SQL_FLOAT8: key[i] = double_key(SQL_VEC_F64(v)[i]); break;
    case SQL_DECIMAL: key[i] = double_key((double)SQL_VEC_I128(v)[i]); break;
    case SQL_TEXT:
    case SQL_BYTEA:
    case SQL_UUID: {
      const sql_str *s = &SQL_VEC_STR(v)[i];
      uint64_t k = 0;
      for (size_t b = 0; b < 8; b++)
        k = k << 8 | (b < s->len ? (uint8_t)s->ptr[b] : 0);
      key[i] = k;
      break;
    }
    default: key[i] = (uint64_t)SQL_VEC_I64(v)[i] ^ (UINT64_C(1) << 63); break;
    }
  }
}

/* --- The Z-order key function ----------------------------------------------------------------- */

/* A scalar function zorder(c1, ..., cn) -> bigint for the sort: each argument's key is mapped to
 * its bucket (0 for NULL, 1 + the number of boundaries <= key otherwise), and the buckets' bits
 * are interleaved, the highest bit of every column first and column 1 before column 2 at each
 * bit. The code is unsigned; it is returned with the sign bit flipped so bigint order is its
 * order. The kernel finds this struct from the sql_func it is called with. */
typedef struct zorder_func {
  sql_func f; /* first */
  size_t n_cols;
  unsigned bits;     /* per column; bits * n_cols <= 64 */
  uint64_t **bounds; /* per column: ascending distinct boundaries */
  size_t *n_bounds;
  /* spread[k][v]: the bits of byte k of a bucket number v, each bit b moved to bit b * n_cols
   * of the code (column 0's shift comes on top) */
  uint64_t spread[(MAX_RANK_BITS + 7) / 8][256];
} zorder_func;

static void zorder_spread_init(zorder_func *z) {
  for (unsigned k = 0; k < (MAX_RANK_BITS + 7) / 8; k++)
    for (unsigned v = 0; v < 256; v++) {
      uint64_t out = 0;
      for (unsigned b = 0; b < 8 && 8 * k + b < z->bits; b++)
        if (v >> b & 1) out |= UINT64_C(1) << ((8 * k + b) * z->n_cols);
      z->spread[k][v] = out;
    }
}

/* The number of b[0..n) (ascending) that are <= k; branch-free halving, as the comparisons
 * of random keys are unpredictable. */
static size_t upper_bound(const uint64_t *b, size_t n, uint64_t k) {
  if (n == 0) return 0;
  const uint64_t *base = b;
  while (n > 1) {
    size_t half = n / 2;
    base = base[half] <= k ? base + half : base;
    n -= half;
  }
  return (size_t)(base - b) + (*base <= k);
}

static int zorder_kernel(sql_eval_ctx *ctx, const sql_func *f, sql_vec *const *args, size_t n_args,
                         uint32_t n, sql_vec *out) {
  const zorder_func *z = (const zorder_func *)f;
  uint64_t *code = calloc((size_t)n + 1, sizeof *code);
  uint64_t *key = malloc(((size_t)n + 1) * sizeof *key);
  uint8_t *null = malloc((size_t)n + 1);
  if (code == NULL || key == NULL || null == NULL) {
    free(code);
    free(key);
    free(null);
    return tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
  }
  for (size_t c = 0; c < n_args && c < z->n_cols; c++) {
    value_keys(args[c], n, key, null);
    unsigned shift = (unsigned)(z->n_cols - 1 - c);
    for (uint32_t i = 0; i < n; i++) {
      uint64_t r = null[i] ? 0 : 1 + upper_bound(z->bounds[c], z->n_bounds[c], key[i]);
      uint64_t bits = 0;
      for (unsigned k = 0; k < (z->bits + 7) / 8; k++)
        bits |= z->spread[k][(r >> (8 * k)) & 255];
      code[i] |= bits << shift;
    }
  }
  for (uint32_t i = 0; i < n; i++)
    SQL_VEC_I64(out)[i] = (int64_t)(code[i] ^ (UINT64_C(1) << 63));
  free(code);
  free(key);
  free(null);
  return 0;
}

/* --- Sampling (the first Z-order pass) -------------------------------------------------------- */

typedef struct sampler {
  size_t n_cols;
  uint64_t **key; /* per column: SAMPLE_ROWS slots */
  uint8_t **null;
  size_t n; /* slots filled */
  int64_t seen;
  uint64_t rng;
  uint64_t *tmp_key; /* one batch's keys of one column */
  uint8_t *tmp_null;
  size_t tmp_cap;
} sampler;

static uint64_t next_random(uint64_t *s) { /* xorshift64*: deterministic, so layouts repeat */
  uint64_t x = *s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *s = x;
  return x * UINT64_C(2685821657736338717);
}

static int sample_batch(void *arg, sql_batch *b, tarn_error *err) {
  sampler *s = arg;
  int rc = 0;
  if (b->n_rows > s->tmp_cap) {
    free(s->tmp_key);
    free(s->tmp_null);
    s->tmp_key = malloc((size_t)b->n_rows * sizeof *s->tmp_key);
    s->tmp_null = malloc(b->n_rows);
    s->tmp_cap = s->tmp_key && s->tmp_null ? b->n_rows : 0;
  }
  uint32_t *slot = malloc(((size_t)b->n_rows + 1) * sizeof *slot);
  if (slot == NULL || s->tmp_cap < b->n_rows) rc = oom(err);
  /* The slot each row takes (UINT32_MAX: not sampled), by reservoir sampling. */
  for (uint32_t i = 0; rc == 0 && i < b->n_rows; i++) {
    s->seen++;
    if (s->n < SAMPLE_ROWS) {
      slot[i] = (uint32_t)s->n++;
    } else {
      uint64_t j = next_random(&s->rng) % (uint64_t)s->seen;
      slot[i] = j < SAMPLE_ROWS ? (uint32_t)j : UINT32_MAX;
    }
  }
  for (size_t c = 0; rc == 0 && c < s->n_cols; c++) {
    value_keys(&b->cols[c], b->n_rows, s->tmp_key, s->tmp_null);
    for (uint32_t i = 0; i < b->n_rows; i++) {
      if (slot[i] == UINT32_MAX) continue;
      s->key[c][slot[i]] = s->tmp_key[i];
      s->null[c][slot[i]] = s->tmp_null[i];
    }
  }
  free(slot);
  sql_batch_free(b);
  return rc;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* Boundaries of up to max_buckets buckets of about equal counts from the n sampled keys v
 * (sorted in place): with few distinct values, every distinct value but the smallest (each value
 * its own bucket: the dense rank), else the sample's quantiles. */
static uint64_t *bucket_bounds(uint64_t *v, size_t n, size_t max_buckets, size_t *n_out) {
  *n_out = 0;
  uint64_t *out = malloc((max_buckets + 1) * sizeof *out);
  if (out == NULL) return NULL;
  if (n == 0) return out;
  qsort(v, n, sizeof *v, cmp_u64);
  size_t distinct = 1;
  for (size_t i = 1; i < n; i++)
    distinct += v[i] != v[i - 1];
  if (distinct <= max_buckets) {
    for (size_t i = 1; i < n; i++)
      if (v[i] != v[i - 1]) out[(*n_out)++] = v[i];
    return out;
  }
  for (size_t j = 1; j < max_buckets; j++) {
    uint64_t b = v[(size_t)((double)j * (double)n / (double)max_buckets)];
    if (*n_out == 0 || out[*n_out - 1] < b) out[(*n_out)++] = b;
  }
  return out;
}

/* --- Output files ----------------------------------------------------------------------------- */

/* The writers of one OPTIMIZE, each writing one file (every job covers one partition): the
 * current one takes rows until it holds rows_per_file (0: no limit), then is finished into the
 * transaction. All are kept until the end, to delete their files if the commit fails. */
typedef struct outputs {
  const char *dir;
  const sql_delta_layout *l;
  delta_txn *t;
  sql_delta_writer **w;
  size_t n_w, cap_w;
  sql_delta_writer *cur;
  int64_t cur_rows, rows_per_file;
  /* Cutting a job's rows_left rows into files of target bytes: after each file, rows_per_file is
   * set again from the bytes per row the finished files took. */
  int64_t target, rows_left, job_rows, job_bytes;
  int64_t rows;
} outputs;

static int out_finish(outputs *o, tarn_error *err) {
  if (o->cur == NULL) return 0;
  int64_t rows = 0;
  int rc = sql_delta_writer_finish(o->cur, o->t, &rows, err);
  size_t files;
  int64_t bytes;
  sql_delta_writer_written(o->cur, &files, &bytes);
  o->rows += rows;
  o->cur = NULL;
  o->cur_rows = 0;
  o->job_rows += rows;
  o->job_bytes += bytes;
  o->rows_left -= rows;
  if (rc == 0 && o->rows_per_file > 0 && o->target > 0 && o->job_bytes > 0 && o->rows_left > 0) {
    double per_file = (double)o->target * (double)o->job_rows / (double)o->job_bytes;
    int64_t n = (int64_t)llround((double)o->rows_left / (per_file > 1 ? per_file : 1));
    if (n < 1) n = 1;
    o->rows_per_file = (o->rows_left + n - 1) / n;
  }
  return rc;
}

static int out_open(outputs *o, tarn_error *err) {
  if (o->n_w == o->cap_w) {
    size_t cap = o->cap_w ? o->cap_w * 2 : 16;
    sql_delta_writer **nw = realloc(o->w, cap * sizeof *nw);
    if (nw == NULL) return oom(err);
    o->w = nw;
    o->cap_w = cap;
  }
  int rc = sql_delta_writer_open(o->dir, o->l, &o->cur, err);
  if (rc == 0) o->w[o->n_w++] = o->cur;
  return rc;
}

static int out_write(void *arg, sql_batch *b, tarn_error *err) {
  outputs *o = arg;
  int rc = 0;
  uint32_t done = 0;
  while (rc == 0 && done < b->n_rows) {
    if (o->cur == NULL) rc = out_open(o, err);
    if (rc) break;
    uint32_t take = b->n_rows - done;
    if (o->rows_per_file > 0 && (int64_t)take > o->rows_per_file - o->cur_rows)
      take = (uint32_t)(o->rows_per_file - o->cur_rows);
    if (take == b->n_rows) {
      rc = sql_delta_writer_write(o->cur, b, err);
    } else {
      uint32_t *sel = malloc((size_t)take * sizeof *sel);
      sql_batch *part = NULL;
      if (sel == NULL) rc = oom(err);
      for (uint32_t i = 0; rc == 0 && i < take; i++)
        sel[i] = done + i;
      if (rc == 0) rc = sql_batch_select(b, sel, take, &part, err);
      if (rc == 0) rc = sql_delta_writer_write(o->cur, part, err);
      sql_batch_free(part);
      free(sel);
    }
    done += take;
    o->cur_rows += take;
    if (rc == 0 && o->rows_per_file > 0 && o->cur_rows >= o->rows_per_file) rc = out_finish(o, err);
  }
  sql_batch_free(b);
  return rc;
}

/* --- Planning --------------------------------------------------------------------------------- */

typedef struct job {
  size_t *files; /* indexes into the snapshot's (and the source's) files */
  size_t n;
  size_t part; /* partition group number */
} job;

typedef struct optimizer {
  sql_exec_ctx *x;
  sql_plan_ctx *pc;
  const char *dir;
  const delta_snapshot *snap;
  const sql_source *src;
  sql_delta_layout layout;
  size_t *zcols; /* source columns of the Z-order columns */
  size_t n_z;
  int64_t target;
  job *jobs;
  size_t n_jobs, cap_jobs;
  outputs out;
  tarn_error *err;
} optimizer;

typedef struct file_ref {
  const char *key; /* the partition values, \x01-separated, \x02 for NULL */
  size_t idx;
  int64_t size;
} file_ref;

static int cmp_partition(const void *a, const void *b) {
  const file_ref *x = a, *y = b;
  int c = strcmp(x->key, y->key);
  return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

static int cmp_size(const void *a, const void *b) {
  const file_ref *x = a, *y = b;
  if (x->size != y->size) return x->size < y->size ? -1 : 1;
  return (x->idx > y->idx) - (x->idx < y->idx);
}

static int add_job(optimizer *op, tarn_arena *a, const file_ref *files, size_t n, size_t part) {
  if (op->n_jobs == op->cap_jobs) {
    size_t cap = op->cap_jobs ? op->cap_jobs * 2 : 16;
    job *nj = realloc(op->jobs, cap * sizeof *nj);
    if (nj == NULL) return oom(op->err);
    op->jobs = nj;
    op->cap_jobs = cap;
  }
  job *j = &op->jobs[op->n_jobs];
  j->files = tarn_arena_calloc(a, n + 1, sizeof *j->files);
  if (j->files == NULL) return oom(op->err);
  for (size_t i = 0; i < n; i++)
    j->files[i] = files[i].idx;
  j->n = n;
  j->part = part;
  op->n_jobs++;
  return 0;
}

/* The jobs of one partition's files g[0..n): with Z-order, all of them; else Delta's bin-packing
 * (OptimizeExecutor.groupFilesIntoBins): the files smaller than the target and those with a
 * deletion vector, by size, cut into bins whose sizes add up to at most the target; a bin is
 * rewritten when it holds two or more files, or one with a deletion vector. */
static int plan_partition(optimizer *op, tarn_arena *a, file_ref *g, size_t n, size_t part) {
  if (op->n_z) return add_job(op, a, g, n, part);
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (g[i].size < op->target || op->snap->files[g[i].idx].dv.storage_type) g[m++] = g[i];
  qsort(g, m, sizeof *g, cmp_size);
  size_t start = 0;
  int64_t bin = 0;
  for (size_t i = 0; i <= m; i++) {
    if (i < m && (i == start || bin + g[i].size <= op->target)) {
      bin += g[i].size;
      continue;
    }
    size_t len = i - start;
    bool dv = len == 1 && op->snap->files[g[start].idx].dv.storage_type;
    if (len > 1 || dv) {
      int rc = add_job(op, a, g + start, len, part);
      if (rc) return rc;
    }
    start = i;
    bin = i < m ? g[i].size : 0;
  }
  return 0;
}

static int plan_jobs(optimizer *op, tarn_arena *a) {
  const delta_snapshot *s = op->snap;
  file_ref *refs = tarn_arena_calloc(a, s->n_files + 1, sizeof *refs);
  if (refs == NULL) return oom(op->err);
  tarn_buf key = {0};
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < s->n_files; i++) {
    key.len = 0;
    for (size_t p = 0; rc == 0 && p < s->n_partition_columns; p++) {
      const char *v = s->files[i].partition_values[p];
      rc = v ? tarn_buf_puts(&key, v, op->err) : tarn_buf_append(&key, "\x02", 1, op->err);
      if (rc == 0) rc = tarn_buf_append(&key, "\x01", 1, op->err);
    }
    if (rc) break;
    refs[i].key = tarn_arena_strndup(a, key.len ? (const char *)key.data : "", key.len);
    refs[i].idx = i;
    refs[i].size = s->files[i].size;
    if (refs[i].key == NULL) rc = oom(op->err);
  }
  tarn_buf_free(&key);
  if (rc) return rc;
  qsort(refs, s->n_files, sizeof *refs, cmp_partition);
  size_t part = 0;
  for (size_t i = 0; rc == 0 && i < s->n_files;) {
    size_t j = i + 1;
    while (j < s->n_files && strcmp(refs[j].key, refs[i].key) == 0)
      j++;
    rc = plan_partition(op, a, refs + i, j - i, part++);
    i = j;
  }
  return rc;
}

/* --- Running a job ---------------------------------------------------------------------------- */

/* A scan of the job's files reading source columns cols[0..n_cols) (under a gather when the
 * context has threads to spare). */
static int job_scan(optimizer *op, const job *j, const size_t *cols, size_t n_cols,
                    sql_plan **out) {
  sql_plan_ctx *pc = op->pc;
  sql_source *sub = tarn_arena_calloc(&pc->arena, 1, sizeof *sub);
  sql_source_file *files = tarn_arena_calloc(&pc->arena, j->n + 1, sizeof *files);
  sql_plan *scan = sql_plan_new(pc, SQL_P_SCAN);
  int *scols = tarn_arena_calloc(&pc->arena, n_cols + 1, sizeof *scols);
  if (!sub || !files || !scan || !scols || sql_plan_alloc_out(pc, scan, n_cols))
    return oom(op->err);
  double rows = 0;
  for (size_t i = 0; i < j->n; i++) {
    files[i] = op->src->files[j->files[i]];
    files[i].min = files[i].max = NULL; /* no filter to prune with */
    rows += files[i].n_rows > 0 ? (double)files[i].n_rows : 0;
  }
  *sub = *op->src;
  sub->files = files;
  sub->n_files = j->n;
  sub->has_row_pos = false;
  for (size_t c = 0; c < n_cols; c++) {
    scols[c] = (int)cols[c];
    scan->out_ids[c] = sql_plan_new_id(pc);
    scan->out_names[c] = op->src->col_names[cols[c]];
    scan->out_types[c] = op->src->col_types[cols[c]];
  }
  scan->source = sub;
  scan->source_cols = scols;
  scan->est_rows = rows;
  *out = scan;
  if (op->x->n_threads <= 1 || j->n < 2) return 0;
  sql_plan *g = sql_plan_new(pc, SQL_P_GATHER);
  if (g == NULL) return oom(op->err);
  g->child[0] = scan;
  g->n_workers = op->x->n_threads;
  g->n_out = scan->n_out;
  g->out_ids = scan->out_ids;
  g->out_names = scan->out_names;
  g->out_types = scan->out_types;
  g->est_rows = rows;
  *out = g;
  return 0;
}

static int run_plan(optimizer *op, sql_plan *p, sql_batch_sink sink, void *arg) {
  int rc = sql_exec_run(op->x, p, sink, arg);
  if (rc && op->x->err != op->err && op->x->err && op->err && op->err->code == 0)
    *op->err = *op->x->err;
  return rc;
}

static int64_t job_bytes(const optimizer *op, const job *j) {
  int64_t total = 0;
  for (size_t i = 0; i < j->n; i++)
    total += op->snap->files[j->files[i]].size;
  return total;
}

/* Bin-packing: the bin's rows, in the order the scan reads them, into one new file. */
static int run_bin(optimizer *op, const job *j) {
  size_t *all = calloc(op->src->n_cols + 1, sizeof *all);
  if (all == NULL) return oom(op->err);
  for (size_t c = 0; c < op->src->n_cols; c++)
    all[c] = c;
  sql_plan *scan = NULL;
  int rc = job_scan(op, j, all, op->src->n_cols, &scan);
  free(all);
  op->out.rows_per_file = 0;
  op->out.target = 0;
  if (rc == 0) rc = run_plan(op, scan, out_write, &op->out);
  if (rc == 0) rc = out_finish(&op->out, op->err);
  return rc;
}

/* Z-order: sample, then sort by the Morton code of the bucket numbers and cut into files. */
static int run_zorder(optimizer *op, const job *j) {
  sampler s = {.n_cols = op->n_z, .rng = UINT64_C(0x9E3779B97F4A7C15)};
  s.key = calloc(op->n_z, sizeof *s.key);
  s.null = calloc(op->n_z, sizeof *s.null);
  zorder_func *zf = tarn_arena_calloc(&op->pc->arena, 1, sizeof *zf);
  uint64_t **bounds = tarn_arena_calloc(&op->pc->arena, op->n_z, sizeof *bounds);
  size_t *n_bounds = tarn_arena_calloc(&op->pc->arena, op->n_z, sizeof *n_bounds);
  int rc = s.key && s.null && zf && bounds && n_bounds ? 0 : oom(op->err);
  for (size_t c = 0; rc == 0 && c < op->n_z; c++) {
    s.key[c] = malloc(SAMPLE_ROWS * sizeof **s.key);
    s.null[c] = malloc(SAMPLE_ROWS);
    if (s.key[c] == NULL || s.null[c] == NULL) rc = oom(op->err);
  }
  sql_plan *scan = NULL;
  if (rc == 0) rc = job_scan(op, j, op->zcols, op->n_z, &scan);
  if (rc == 0) rc = run_plan(op, scan, sample_batch, &s);
  /* Buckets: bits per column so that the code fits 64 bits, at most MAX_RANK_BITS. */
  unsigned bits = (unsigned)(64 / op->n_z);
  if (bits > MAX_RANK_BITS) bits = MAX_RANK_BITS;
  size_t max_buckets = ((size_t)1 << bits) - 2; /* ranks 1..max_buckets; 0 is NULL */
  if (max_buckets == 0) max_buckets = 1;
  for (size_t c = 0; rc == 0 && c < op->n_z; c++) {
    size_t m = 0;
    for (size_t i = 0; i < s.n; i++)
      if (!s.null[c][i]) s.key[c][m++] = s.key[c][i];
    uint64_t *b = bucket_bounds(s.key[c], m, max_buckets, &n_bounds[c]);
    if (b == NULL) {
      rc = oom(op->err);
      break;
    }
    bounds[c] = tarn_arena_calloc(&op->pc->arena, n_bounds[c] + 1, sizeof *bounds[c]);
    if (bounds[c] == NULL)
      rc = oom(op->err);
    else
      memcpy(bounds[c], b, n_bounds[c] * sizeof *b);
    free(b);
  }
  for (size_t c = 0; c < op->n_z; c++) {
    if (s.key) free(s.key[c]);
    if (s.null) free(s.null[c]);
  }
  free(s.key);
  free(s.null);
  free(s.tmp_key);
  free(s.tmp_null);
  if (rc) return rc;
  if (s.seen == 0) return 0; /* every row deleted: the files are only removed */

  /* The sort: every column, keyed by zorder(z columns). */
  zf->f.name = "zorder";
  zf->f.kernel = zorder_kernel;
  zf->f.ret = sql_type_get(SQL_INT8);
  zf->f.handles_nulls = true;
  zf->n_cols = op->n_z;
  zf->bits = bits;
  zf->bounds = bounds;
  zf->n_bounds = n_bounds;
  zorder_spread_init(zf);
  size_t *all = calloc(op->src->n_cols + 1, sizeof *all);
  if (all == NULL) return oom(op->err);
  for (size_t c = 0; c < op->src->n_cols; c++)
    all[c] = c;
  rc = job_scan(op, j, all, op->src->n_cols, &scan);
  free(all);
  if (rc) return rc;
  sql_plan_ctx *pc = op->pc;
  sql_plan *sort = sql_plan_new(pc, SQL_P_SORT);
  sql_sort_key *key = tarn_arena_calloc(&pc->arena, 1, sizeof *key);
  sql_expr *call = tarn_arena_calloc(&pc->arena, 1, sizeof *call);
  sql_expr **args = tarn_arena_calloc(&pc->arena, op->n_z, sizeof *args);
  if (!sort || !key || !call || !args) return oom(op->err);
  for (size_t c = 0; c < op->n_z; c++) {
    sql_expr *col = tarn_arena_calloc(&pc->arena, 1, sizeof *col);
    if (col == NULL) return oom(op->err);
    col->kind = SQL_E_COLUMN;
    col->type = op->src->col_types[op->zcols[c]];
    col->column_id = scan->out_ids[op->zcols[c]];
    col->slot = -1;
    args[c] = col;
  }
  call->kind = SQL_E_FUNC;
  call->type = zf->f.ret;
  call->func = &zf->f;
  call->args = args;
  call->n_args = op->n_z;
  key->expr = call;
  sort->child[0] = scan;
  sort->sort_keys = key;
  sort->n_sort_keys = 1;
  sort->n_out = scan->n_out;
  sort->out_ids = scan->out_ids;
  sort->out_names = scan->out_names;
  sort->out_types = scan->out_types;
  sort->est_rows = (double)s.seen;
  /* Files of about the target size: the partition's bytes over the target, rounded, at least
   * one, with the rows shared out evenly. */
  int64_t bytes = job_bytes(op, j);
  int64_t n_files = (int64_t)llround((double)bytes / (double)op->target);
  if (n_files < 1) n_files = 1;
  op->out.rows_per_file = (s.seen + n_files - 1) / n_files;
  op->out.target = op->target;
  op->out.rows_left = s.seen;
  op->out.job_rows = op->out.job_bytes = 0;
  rc = run_plan(op, sort, out_write, &op->out);
  if (rc == 0) rc = out_finish(&op->out, op->err);
  return rc;
}

/* --- The command ------------------------------------------------------------------------------ */

static int resolve_zorder(optimizer *op, const sql_delta_optimize_options *o, tarn_arena *a) {
  if (o->n_zorder == 0) return 0;
  if (o->n_zorder > MAX_ZORDER_COLUMNS)
    return tarn_err(op->err, TARN_EINVAL, "optimize: at most %d Z-order columns",
                    MAX_ZORDER_COLUMNS);
  op->zcols = tarn_arena_calloc(a, o->n_zorder, sizeof *op->zcols);
  if (op->zcols == NULL) return oom(op->err);
  const sql_source *src = op->src;
  for (size_t z = 0; z < o->n_zorder; z++) {
    const char *name = o->zorder_cols[z];
    size_t c = 0, hit = src->n_cols;
    for (; c < src->n_cols; c++) {
      if (strcmp(src->col_names[c], name) == 0) {
        hit = c;
        break;
      }
      if (strcasecmp(src->col_names[c], name) == 0 && hit == src->n_cols) hit = c;
    }
    if (hit == src->n_cols)
      return tarn_err(op->err, TARN_EINVAL,
                      "optimize: Z-order column \"%s\" does not exist in delta table %s", name,
                      op->dir);
    for (size_t p = 0; p < op->snap->n_partition_columns; p++)
      if (strcmp(op->snap->partition_columns[p], src->col_names[hit]) == 0)
        return tarn_err(op->err, TARN_EINVAL,
                        "optimize: cannot Z-order by \"%s\": it is a partition column of delta "
                        "table %s",
                        name, op->dir);
    if (!key_type(src->col_types[hit])) {
      char tn[64];
      sql_type_name(src->col_types[hit], tn, sizeof tn);
      return tarn_err(op->err, TARN_EINVAL, "optimize: cannot Z-order by \"%s\" of type %s", name,
                      tn);
    }
    for (size_t k = 0; k < z; k++)
      if (op->zcols[k] == hit)
        return tarn_err(op->err, TARN_EINVAL, "optimize: Z-order column \"%s\" named twice", name);
    op->zcols[z] = hit;
  }
  op->n_z = o->n_zorder;
  return 0;
}

/* The file layout the writer needs: the source's columns, NOT NULL from the schema, the
 * partition columns' positions. */
static int make_layout(optimizer *op, tarn_arena *a) {
  const delta_snapshot *s = op->snap;
  const sql_source *src = op->src;
  size_t n = src->n_cols;
  bool *not_null = tarn_arena_calloc(a, n + 1, sizeof *not_null);
  size_t *parts = tarn_arena_calloc(a, s->n_partition_columns + 1, sizeof *parts);
  if (not_null == NULL || parts == NULL) return oom(op->err);
  for (size_t c = 0; c < n && c < s->schema->n_fields; c++)
    not_null[c] = !s->schema->fields[c].nullable;
  for (size_t p = 0; p < s->n_partition_columns; p++) {
    size_t c = 0;
    while (c < n && strcmp(src->col_names[c], s->partition_columns[p]) != 0)
      c++;
    if (c == n)
      return tarn_err(op->err, TARN_ECORRUPT,
                      "delta table %s: partition column %s is not in the schema", op->dir,
                      s->partition_columns[p]);
    parts[p] = c;
  }
  op->layout =
      (sql_delta_layout){.n_cols = n,
                         .names = src->col_names,
                         .file_names = src->col_file_names ? src->col_file_names : src->col_names,
                         .types = src->col_types,
                         .not_null = not_null,
                         .n_parts = s->n_partition_columns,
                         .part_cols = parts};
  return 0;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* commitInfo of the OPTIMIZE: Delta's parameters (every value a string, the lists as JSON text)
 * and metrics. */
static int describe_commit(optimizer *op, const sql_delta_optimize_options *o, delta_txn *t,
                           const sql_delta_optimize_result *res, int64_t dv_removed) {
  cJSON *cols = cJSON_CreateArray();
  for (size_t z = 0; cols && z < o->n_zorder; z++)
    cJSON_AddItemToArray(cols, cJSON_CreateString(op->src->col_names[op->zcols[z]]));
  char *cols_text = cols ? cJSON_PrintUnformatted(cols) : NULL;
  cJSON_Delete(cols);
  cJSON *params = cJSON_CreateObject();
  char *params_text = NULL;
  if (params && cols_text && cJSON_AddStringToObject(params, "predicate", "[]") &&
      cJSON_AddStringToObject(params, "zOrderBy", cols_text) &&
      cJSON_AddStringToObject(params, "clusterBy", "[]") &&
      cJSON_AddStringToObject(params, "auto", "false"))
    params_text = cJSON_PrintUnformatted(params);
  cJSON_Delete(params);
  free(cols_text);
  int rc =
      params_text ? delta_txn_set_operation(t, "OPTIMIZE", params_text, op->err) : oom(op->err);
  free(params_text);
  /* Sizes of the added files, for Delta's min / percentile / max metrics. */
  int64_t *sizes = calloc(op->out.n_w + 1, sizeof *sizes);
  size_t n = 0;
  if (rc == 0 && sizes == NULL) rc = oom(op->err);
  for (size_t i = 0; rc == 0 && i < op->out.n_w; i++) {
    size_t files;
    int64_t bytes;
    sql_delta_writer_written(op->out.w[i], &files, &bytes);
    if (files) sizes[n++] = bytes;
  }
  if (rc == 0) qsort(sizes, n, sizeof *sizes, cmp_i64);
  struct {
    const char *name;
    int64_t value;
  } m[] = {{"numRemovedFiles", res->files_removed},
           {"numRemovedBytes", res->bytes_removed},
           {"numAddedFiles", res->files_added},
           {"numAddedBytes", res->bytes_added},
           {"numDeletionVectorsRemoved", dv_removed},
           {"minFileSize", n ? sizes[0] : 0},
           {"p25FileSize", n ? sizes[(n - 1) / 4] : 0},
           {"p50FileSize", n ? sizes[(n - 1) / 2] : 0},
           {"p75FileSize", n ? sizes[(n - 1) * 3 / 4] : 0},
           {"maxFileSize", n ? sizes[n - 1] : 0},
           {"numOutputRows", res->rows_rewritten}};
  for (size_t i = 0; rc == 0 && i < sizeof m / sizeof m[0]; i++)
    rc = delta_txn_set_metric(t, m[i].name, m[i].value, op->err);
  free(sizes);
  return rc;
}

int sql_delta_optimize(sql_exec_ctx *x, sql_plan_ctx *pc, const char *table_dir,
                       const sql_delta_optimize_options *o, sql_delta_optimize_result *res,
                       tarn_error *err) {
  memset(res, 0, sizeof *res);
  res->version = -1;
  optimizer op = {.x = x, .pc = pc, .dir = table_dir, .err = err};
  tarn_arena a = {0};
  delta_txn *t = NULL;
  int rc = delta_txn_begin_at(table_dir, o->at_version ? o->version : -1, &t, err);
  op.snap = rc ? NULL : delta_txn_snapshot(t);
  if (rc == 0 && op.snap == NULL)
    rc = tarn_err(err, TARN_EINVAL, "%s is not a delta table", table_dir);
  if (rc == 0) delta_txn_set_rearrange_only(t);
  sql_source *src = NULL;
  if (rc == 0) rc = sql_source_delta(&pc->arena, table_dir, op.snap->version, INT64_MIN, &src, err);
  if (rc == 0 && src->n_files != op.snap->n_files)
    rc = tarn_err(err, TARN_EINVAL, "delta table %s changed while OPTIMIZE was planned", table_dir);
  op.src = src;
  if (rc == 0) rc = resolve_zorder(&op, o, &a);
  if (rc == 0) rc = target_size(op.snap, o, &op.target, err);
  if (rc == 0) rc = make_layout(&op, &a);
  if (rc == 0) rc = plan_jobs(&op, &a);
  op.out = (outputs){.dir = table_dir, .l = &op.layout, .t = t};

  int64_t dv_removed = 0;
  size_t last_part = SIZE_MAX;
  for (size_t i = 0; rc == 0 && i < op.n_jobs; i++) {
    const job *j = &op.jobs[i];
    rc = op.n_z ? run_zorder(&op, j) : run_bin(&op, j);
    for (size_t k = 0; rc == 0 && k < j->n; k++) {
      const delta_file *f = &op.snap->files[j->files[k]];
      rc = delta_txn_remove_file(t, f, err);
      res->files_removed++;
      res->bytes_removed += f->size;
      dv_removed += f->dv.storage_type != 0;
    }
    if (j->part != last_part) res->partitions_optimized++;
    last_part = j->part;
  }
  if (rc == 0 && op.n_jobs) {
    for (size_t i = 0; i < op.out.n_w; i++) {
      size_t files;
      int64_t bytes;
      sql_delta_writer_written(op.out.w[i], &files, &bytes);
      res->files_added += (int64_t)files;
      res->bytes_added += bytes;
    }
    res->rows_rewritten = op.out.rows;
    rc = describe_commit(&op, o, t, res, dv_removed);
    int64_t version = -1;
    if (rc == 0) rc = delta_txn_commit(t, COMMIT_RETRIES, &version, err);
    if (rc == 0) res->version = version;
  }
  if (rc) {
    memset(res, 0, sizeof *res);
    res->version = -1;
  }
  for (size_t i = 0; i < op.out.n_w; i++)
    sql_delta_writer_free(op.out.w[i], rc != 0);
  free(op.out.w);
  free(op.jobs);
  tarn_arena_free(&a);
  delta_txn_free(t);
  return rc;
}
