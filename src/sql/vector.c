/*
 * Vectors, batches and the reference-counted regions that own their memory.
 *
 * A batch's buffers are carved out of one sql_mem, a bump allocator over malloc'ed blocks, so an
 * operator allocates freely while building a batch and everything dies in one release. Batches
 * cross threads (a gather hands them from workers to the consumer), so only the reference count
 * is atomic; allocation itself is single-threaded per region by construction (one builder). The
 * region does not cap its size the way tarn_arena does: accounting against the query's limit is
 * done by the executor with sql_mem_bytes. Sharing instead of copying is the rule (a selection
 * keeps string views into its input, an Arrow import keeps views into the decoded buffers), and
 * parents / adopted arrays are how a region keeps what it points into alive.
 *
 * sql_vec_append is the one place that grows vectors in place. The caller tracks the top-level
 * capacity; a list's child has its own capacity, which is kept in a hidden slot after the
 * offsets (offsets[cap + 1], so every offsets buffer made here has cap + 2 entries). That slot
 * is only trusted once append itself has (re)allocated the buffers: the first growth of a
 * vector reallocates every nested level to capacities it knows.
 */
#include "sql/vector.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "columnar/arrow.h"
#include "common/error.h"

#define MEM_FIRST_BLOCK ((size_t)8 * 1024)
#define MEM_MAX_BLOCK ((size_t)1024 * 1024)
#define VEC_MAX_DEPTH 64

typedef struct mem_block {
  struct mem_block *next;
  size_t used, cap;
  _Alignas(16) unsigned char data[];
} mem_block;

struct sql_mem {
  _Atomic long refs;
  mem_block *head;
  size_t bytes;      /* malloc'ed for blocks */
  size_t next_block; /* size of the next ordinary block (doubles up to MEM_MAX_BLOCK) */
  sql_mem **parents;
  size_t n_parents, cap_parents;
  struct ArrowArray **arrays;
  size_t n_arrays, cap_arrays;
  void **owned; /* malloc'ed buffers adopted with sql_mem_adopt */
  size_t n_owned, cap_owned;
  sql_mem *free_next; /* worklist link while freeing a chain of regions */
};

sql_mem *sql_mem_new(void) {
  sql_mem *m = calloc(1, sizeof *m);
  if (m == NULL) return NULL;
  atomic_init(&m->refs, 1);
  m->next_block = MEM_FIRST_BLOCK;
  return m;
}

void sql_mem_retain(sql_mem *m) {
  if (m) atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
}

/* Frees one region whose count reached zero; parents whose count reaches zero in turn are pushed
 * on *work instead of recursing, so long chains of selections cannot exhaust the stack. */
static void mem_destroy(sql_mem *m, sql_mem **work) {
  for (mem_block *b = m->head, *next; b; b = next) {
    next = b->next;
    free(b);
  }
  for (size_t i = 0; i < m->n_arrays; i++) {
    struct ArrowArray *a = m->arrays[i];
    if (a->release) a->release(a);
    free(a);
  }
  free(m->arrays);
  for (size_t i = 0; i < m->n_owned; i++)
    free(m->owned[i]);
  free(m->owned);
  for (size_t i = 0; i < m->n_parents; i++) {
    sql_mem *p = m->parents[i];
    if (atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1) {
      p->free_next = *work;
      *work = p;
    }
  }
  free(m->parents);
  free(m);
}

void sql_mem_release(sql_mem *m) {
  if (m == NULL) return;
  if (atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) != 1) return;
  sql_mem *work = m;
  m->free_next = NULL;
  while (work) {
    sql_mem *cur = work;
    work = cur->free_next;
    mem_destroy(cur, &work);
  }
}

void *sql_mem_alloc(sql_mem *m, size_t n, size_t size) {
  void *p = sql_mem_alloc_raw(m, n, size);
  if (p) memset(p, 0, n * size);
  return p;
}

void *sql_mem_alloc_raw(sql_mem *m, size_t n, size_t size) {
  if (m == NULL || (size != 0 && n > SIZE_MAX / size)) return NULL;
  size_t bytes = n * size;
  if (bytes > SIZE_MAX - 64) return NULL;
  bytes = (bytes + 15) & ~(size_t)15;
  if (bytes == 0) bytes = 16;
  mem_block *b = m->head;
  if (b == NULL || b->cap - b->used < bytes) {
    size_t cap = m->next_block;
    bool alone = bytes > cap / 2; /* large: its own block, behind the one still being filled */
    if (alone) cap = bytes;
    if (cap > SIZE_MAX - sizeof *b) return NULL;
    b = malloc(sizeof *b + cap);
    if (b == NULL) return NULL;
    b->used = 0;
    b->cap = cap;
    m->bytes += sizeof *b + cap;
    if (alone && m->head != NULL) {
      b->next = m->head->next;
      m->head->next = b;
    } else {
      b->next = m->head;
      m->head = b;
      if (m->next_block < MEM_MAX_BLOCK) m->next_block *= 2;
    }
  }
  void *p = b->data + b->used;
  b->used += bytes;
  return p;
}

/* Grows a malloc'ed array of pointers by doubling. */
static int grow_ptrs(void ***items, size_t n, size_t *cap) {
  if (n < *cap) return 0;
  size_t nc = *cap ? *cap * 2 : 4;
  void **p = realloc(*items, nc * sizeof *p);
  if (p == NULL) return TARN_ENOMEM;
  *items = p;
  *cap = nc;
  return 0;
}

int sql_mem_add_parent(sql_mem *m, sql_mem *parent) {
  if (parent == NULL || parent == m) return 0;
  for (size_t i = 0; i < m->n_parents; i++)
    if (m->parents[i] == parent) return 0;
  void **items = (void **)m->parents;
  if (grow_ptrs(&items, m->n_parents, &m->cap_parents)) return TARN_ENOMEM;
  m->parents = (sql_mem **)items;
  sql_mem_retain(parent);
  m->parents[m->n_parents++] = parent;
  return 0;
}

int sql_mem_adopt_arrow(sql_mem *m, struct ArrowArray *array) {
  if (array == NULL || array->release == NULL) return 0;
  void **items = (void **)m->arrays;
  struct ArrowArray *copy = malloc(sizeof *copy);
  if (copy == NULL || grow_ptrs(&items, m->n_arrays, &m->cap_arrays)) {
    free(copy);
    return TARN_ENOMEM;
  }
  m->arrays = (struct ArrowArray **)items;
  /* Arrow's move: the structure may be relocated; the source is marked released. */
  *copy = *array;
  array->release = NULL;
  m->arrays[m->n_arrays++] = copy;
  return 0;
}

int sql_mem_adopt(sql_mem *m, void *p) {
  if (p == NULL) return 0;
  void **items = m->owned;
  if (grow_ptrs(&items, m->n_owned, &m->cap_owned)) {
    free(p);
    return TARN_ENOMEM;
  }
  m->owned = items;
  m->owned[m->n_owned++] = p;
  return 0;
}

size_t sql_mem_bytes(const sql_mem *m) { return m ? m->bytes : 0; }

sql_str sql_mem_str(sql_mem *m, const char *p, size_t len) {
  sql_str s = {"", 0};
  if (len == 0) return s;
  char *d = sql_mem_alloc(m, len, 1);
  if (d == NULL) return (sql_str){NULL, 0};
  memcpy(d, p, len);
  s.ptr = d;
  s.len = len;
  return s;
}

/* ---- vectors ------------------------------------------------------------------------------- */

static size_t phys_size(sql_phys p) {
  switch (p) {
  case SQL_PHYS_U8: return 1;
  case SQL_PHYS_I64:
  case SQL_PHYS_F64: return 8;
  case SQL_PHYS_I128: return sizeof(sql_i128);
  case SQL_PHYS_STR: return sizeof(sql_str);
  case SQL_PHYS_INTERVAL: return sizeof(sql_interval);
  default: return 0;
  }
}

static int oom(tarn_error *err) { return tarn_err(err, TARN_ENOMEM, "out of memory"); }

static int vec_init_rec(sql_mem *m, sql_vec *v, const sql_type *t, uint32_t n, int depth,
                        tarn_error *err) {
  if (t == NULL) return tarn_err(err, TARN_EINVAL, "sql_vec_init: vector without a type");
  if (depth > VEC_MAX_DEPTH)
    return tarn_err(err, TARN_EUNSUPPORTED, "types nested deeper than %d", VEC_MAX_DEPTH);
  memset(v, 0, sizeof *v);
  v->type = t;
  v->n = n;
  sql_phys p = sql_type_phys(t->id);
  switch (p) {
  case SQL_PHYS_NONE:
    /* Every value of the NULL type is NULL; saying so keeps SQL_VEC_IS_NULL truthful. */
    if ((v->nulls = sql_mem_alloc(m, n, 1)) == NULL) return oom(err);
    memset(v->nulls, 1, n);
    return 0;
  case SQL_PHYS_LIST:
    if (t->elem == NULL) return tarn_err(err, TARN_EINVAL, "list type without element type");
    v->offsets = sql_mem_alloc(m, (size_t)n + 2, sizeof(int64_t));
    v->child = sql_mem_alloc(m, 1, sizeof(sql_vec));
    if (v->offsets == NULL || v->child == NULL) return oom(err);
    return vec_init_rec(m, v->child, t->elem, 0, depth + 1, err);
  case SQL_PHYS_STRUCT:
    v->child = sql_mem_alloc(m, t->n_fields ? t->n_fields : 1, sizeof(sql_vec));
    if (v->child == NULL) return oom(err);
    for (size_t f = 0; f < t->n_fields; f++) {
      int rc = vec_init_rec(m, &v->child[f], t->fields[f].type, n, depth + 1, err);
      if (rc) return rc;
    }
    return 0;
  default: v->data = sql_mem_alloc(m, n, phys_size(p)); return v->data ? 0 : oom(err);
  }
}

int sql_vec_init(sql_mem *m, sql_vec *v, const sql_type *t, uint32_t n, tarn_error *err) {
  return vec_init_rec(m, v, t, n, 0, err);
}

uint8_t *sql_vec_nulls(sql_mem *m, sql_vec *v) {
  if (v->nulls == NULL) v->nulls = sql_mem_alloc(m, v->n, 1);
  return v->nulls;
}

static int gather_rec(sql_mem *m, const sql_vec *src, const uint32_t *sel, uint32_t n, sql_vec *out,
                      int depth, tarn_error *err);

/* The child rows a list gather needs: lengths become new offsets; NULL lists contribute none
 * (Arrow lets a NULL list own a non-empty range, which must not leak into the result). */
static int gather_list(sql_mem *m, const sql_vec *src, const uint32_t *sel, uint32_t n,
                       sql_vec *out, int depth, tarn_error *err) {
  int64_t *off = sql_mem_alloc(m, (size_t)n + 2, sizeof(int64_t));
  sql_vec *child = sql_mem_alloc(m, 1, sizeof(sql_vec));
  if (off == NULL || child == NULL) return oom(err);
  out->offsets = off;
  out->child = child;
  const int64_t *so = src->offsets;
  int64_t child_n = src->child->n;
  uint64_t total = 0;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t r = sel[i];
    off[i] = (int64_t)total;
    if (SQL_VEC_IS_NULL(src, r)) continue;
    int64_t a = so[r], b = so[r + 1];
    if (a < 0 || b < a || b > child_n)
      return tarn_err(err, TARN_EINVAL, "list offsets [%lld, %lld) outside a child of %lld",
                      (long long)a, (long long)b, (long long)child_n);
    total += (uint64_t)(b - a);
  }
  if (total > UINT32_MAX)
    return tarn_err(err, TARN_ENOMEM, "a batch of lists with more than 2^32 elements");
  off[n] = (int64_t)total;
  off[n + 1] = (int64_t)total; /* the child's capacity (see the comment atop) */
  uint32_t *csel = malloc((total ? total : 1) * sizeof *csel);
  if (csel == NULL) return oom(err);
  uint32_t k = 0;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t r = sel[i];
    if (SQL_VEC_IS_NULL(src, r)) continue;
    for (int64_t j = so[r]; j < so[r + 1]; j++)
      csel[k++] = (uint32_t)j;
  }
  int rc = gather_rec(m, src->child, csel, k, child, depth + 1, err);
  free(csel);
  return rc;
}

static int gather_rec(sql_mem *m, const sql_vec *src, const uint32_t *sel, uint32_t n, sql_vec *out,
                      int depth, tarn_error *err) {
  const sql_type *t = src->type;
  if (t == NULL) return tarn_err(err, TARN_EINVAL, "gather from a vector without a type");
  if (depth > VEC_MAX_DEPTH)
    return tarn_err(err, TARN_EUNSUPPORTED, "types nested deeper than %d", VEC_MAX_DEPTH);
  memset(out, 0, sizeof *out);
  out->type = t;
  out->n = n;
  sql_phys p = sql_type_phys(t->id);
  if (src->nulls || p == SQL_PHYS_NONE) {
    uint8_t *nl = sql_mem_alloc(m, n, 1);
    if (nl == NULL) return oom(err);
    if (p == SQL_PHYS_NONE)
      memset(nl, 1, n);
    else
      for (uint32_t i = 0; i < n; i++)
        nl[i] = src->nulls[sel[i]];
    out->nulls = nl;
  }
  switch (p) {
  case SQL_PHYS_NONE: return 0;
  case SQL_PHYS_LIST: return gather_list(m, src, sel, n, out, depth, err);
  case SQL_PHYS_STRUCT:
    out->child = sql_mem_alloc(m, t->n_fields ? t->n_fields : 1, sizeof(sql_vec));
    if (out->child == NULL) return oom(err);
    for (size_t f = 0; f < t->n_fields; f++) {
      int rc = gather_rec(m, &src->child[f], sel, n, &out->child[f], depth + 1, err);
      if (rc) return rc;
    }
    return 0;
  default: break;
  }
  out->data = sql_mem_alloc(m, n, phys_size(p));
  if (out->data == NULL) return oom(err);
  switch (p) {
  case SQL_PHYS_U8: {
    const uint8_t *s = src->data;
    uint8_t *d = out->data;
    for (uint32_t i = 0; i < n; i++)
      d[i] = s[sel[i]];
    break;
  }
  case SQL_PHYS_I64:
  case SQL_PHYS_F64: {
    /* Both are 8 bytes; moving them as integers is exact. */
    const int64_t *s = src->data;
    int64_t *d = out->data;
    for (uint32_t i = 0; i < n; i++)
      d[i] = s[sel[i]];
    break;
  }
  case SQL_PHYS_I128: {
    const sql_i128 *s = src->data;
    sql_i128 *d = out->data;
    for (uint32_t i = 0; i < n; i++)
      d[i] = s[sel[i]];
    break;
  }
  case SQL_PHYS_STR: {
    const sql_str *s = src->data;
    sql_str *d = out->data;
    for (uint32_t i = 0; i < n; i++)
      d[i] = s[sel[i]];
    break;
  }
  case SQL_PHYS_INTERVAL: {
    const sql_interval *s = src->data;
    sql_interval *d = out->data;
    for (uint32_t i = 0; i < n; i++)
      d[i] = s[sel[i]];
    break;
  }
  default: break;
  }
  return 0;
}

int sql_vec_gather(sql_mem *m, const sql_vec *src, const uint32_t *sel, uint32_t n_sel,
                   sql_vec *out, tarn_error *err) {
  return gather_rec(m, src, sel, n_sel, out, 0, err);
}

int sql_vec_broadcast(sql_mem *m, const sql_vec *v0, uint32_t n, sql_vec *out, tarn_error *err) {
  if (v0->type == NULL) return tarn_err(err, TARN_EINVAL, "broadcast of an untyped vector");
  sql_phys p = sql_type_phys(v0->type->id);
  if (p == SQL_PHYS_LIST || p == SQL_PHYS_STRUCT) {
    uint32_t *sel = calloc(n ? n : 1, sizeof *sel);
    if (sel == NULL) return oom(err);
    int rc = gather_rec(m, v0, sel, n, out, 0, err);
    free(sel);
    return rc;
  }
  int rc = vec_init_rec(m, out, v0->type, n, 0, err);
  if (rc || p == SQL_PHYS_NONE) return rc;
  if (SQL_VEC_IS_NULL(v0, 0)) {
    uint8_t *nl = sql_vec_nulls(m, out);
    if (nl == NULL) return oom(err);
    memset(nl, 1, n);
    return 0;
  }
  switch (p) {
  case SQL_PHYS_U8: memset(out->data, SQL_VEC_U8(v0)[0], n); break;
  case SQL_PHYS_I64:
  case SQL_PHYS_F64: {
    int64_t x = SQL_VEC_I64(v0)[0], *d = out->data;
    for (uint32_t i = 0; i < n; i++)
      d[i] = x;
    break;
  }
  case SQL_PHYS_I128: {
    sql_i128 x = SQL_VEC_I128(v0)[0], *d = out->data;
    for (uint32_t i = 0; i < n; i++)
      d[i] = x;
    break;
  }
  case SQL_PHYS_STR: {
    sql_str x = SQL_VEC_STR(v0)[0], *d = out->data;
    for (uint32_t i = 0; i < n; i++)
      d[i] = x;
    break;
  }
  case SQL_PHYS_INTERVAL: {
    sql_interval x = SQL_VEC_IV(v0)[0], *d = out->data;
    for (uint32_t i = 0; i < n; i++)
      d[i] = x;
    break;
  }
  default: break;
  }
  return 0;
}

/* ---- append -------------------------------------------------------------------------------- */

static uint32_t grow_cap(uint32_t cap, uint64_t need) {
  uint64_t c = cap < 8 ? 8 : cap;
  while (c < need)
    c *= 2;
  return c > UINT32_MAX ? UINT32_MAX : (uint32_t)c;
}

/* Moves v's buffers (holding v->n values) into new ones with room for cap values, and every
 * nested level below into buffers whose capacity is recorded, so that later appends can trust
 * the hidden capacity slots. */
static int vec_regrow(sql_mem *m, sql_vec *v, uint32_t cap, int depth, tarn_error *err) {
  if (depth > VEC_MAX_DEPTH)
    return tarn_err(err, TARN_EUNSUPPORTED, "types nested deeper than %d", VEC_MAX_DEPTH);
  sql_phys p = sql_type_phys(v->type->id);
  if (v->nulls || p == SQL_PHYS_NONE) {
    uint8_t *nl = sql_mem_alloc(m, cap, 1);
    if (nl == NULL) return oom(err);
    if (v->nulls) memcpy(nl, v->nulls, v->n);
    if (p == SQL_PHYS_NONE) memset(nl, 1, cap);
    v->nulls = nl;
  }
  switch (p) {
  case SQL_PHYS_NONE: return 0;
  case SQL_PHYS_STRUCT:
    for (size_t f = 0; f < v->type->n_fields; f++) {
      int rc = vec_regrow(m, &v->child[f], cap, depth + 1, err);
      if (rc) return rc;
    }
    return 0;
  case SQL_PHYS_LIST: {
    int64_t *off = sql_mem_alloc(m, (size_t)cap + 2, sizeof(int64_t));
    if (off == NULL) return oom(err);
    memcpy(off, v->offsets, ((size_t)v->n + 1) * sizeof *off);
    sql_vec *c = v->child;
    uint32_t ccap = c->n < 8 ? 8 : c->n;
    int rc = vec_regrow(m, c, ccap, depth + 1, err);
    if (rc) return rc;
    off[cap + 1] = ccap;
    v->offsets = off;
    return 0;
  }
  default: {
    size_t sz = phys_size(p);
    void *d = sql_mem_alloc(m, cap, sz);
    if (d == NULL) return oom(err);
    if (v->n) memcpy(d, v->data, (size_t)v->n * sz);
    v->data = d;
    return 0;
  }
  }
}

static int append_rec(sql_mem *m, sql_vec *dst, uint32_t *cap, const sql_vec *src, uint32_t from,
                      uint32_t count, int depth, tarn_error *err) {
  if (count == 0) return 0;
  if (depth > VEC_MAX_DEPTH)
    return tarn_err(err, TARN_EUNSUPPORTED, "types nested deeper than %d", VEC_MAX_DEPTH);
  uint64_t need = (uint64_t)dst->n + count;
  if (need > UINT32_MAX) return tarn_err(err, TARN_ENOMEM, "a vector of more than 2^32 values");
  if (need > *cap) {
    uint32_t nc = grow_cap(*cap, need);
    int rc = vec_regrow(m, dst, nc, depth, err);
    if (rc) return rc;
    *cap = nc;
  }
  uint32_t at = dst->n;
  sql_phys p = sql_type_phys(dst->type->id);
  if (p != SQL_PHYS_NONE) {
    if (src->nulls && dst->nulls == NULL) {
      if ((dst->nulls = sql_mem_alloc(m, *cap, 1)) == NULL) return oom(err);
    }
    if (src->nulls)
      memcpy(dst->nulls + at, src->nulls + from, count);
    else if (dst->nulls)
      memset(dst->nulls + at, 0, count);
  } else {
    memset(dst->nulls + at, 1, count);
  }
  switch (p) {
  case SQL_PHYS_NONE: break;
  case SQL_PHYS_STRUCT:
    for (size_t f = 0; f < dst->type->n_fields; f++) {
      uint32_t c = *cap;
      dst->child[f].n = at; /* children are as long as their struct */
      int rc = append_rec(m, &dst->child[f], &c, &src->child[f], from, count, depth + 1, err);
      if (rc) return rc;
    }
    break;
  case SQL_PHYS_LIST: {
    const int64_t *so = src->offsets;
    int64_t *d = dst->offsets;
    uint32_t ccap = (uint32_t)d[*cap + 1];
    sql_vec *dc = dst->child;
    /* A child filled in by hand after sql_vec_init has no recorded room beyond its values. */
    if (ccap < dc->n) ccap = dc->n;
    int64_t run_start = 0, run_end = 0;
    int rc = 0;
    for (uint32_t i = 0; i < count && rc == 0; i++) {
      uint32_t r = from + i;
      int64_t a = so[r], b = so[r + 1];
      if (SQL_VEC_IS_NULL(src, r)) b = a;
      if (a < 0 || b < a || b > (int64_t)src->child->n)
        return tarn_err(err, TARN_EINVAL, "list offsets outside the child vector");
      /* Appending contiguous runs of child rows at once keeps this linear in the elements. */
      if (a != run_end) {
        rc = append_rec(m, dc, &ccap, src->child, (uint32_t)run_start,
                        (uint32_t)(run_end - run_start), depth + 1, err);
        run_start = a;
      }
      run_end = b;
      d[at + i] = (int64_t)dc->n + (run_end - run_start) - (b - a);
    }
    if (rc == 0)
      rc = append_rec(m, dc, &ccap, src->child, (uint32_t)run_start,
                      (uint32_t)(run_end - run_start), depth + 1, err);
    if (rc) return rc;
    d[at + count] = dc->n;
    d[*cap + 1] = ccap;
    break;
  }
  case SQL_PHYS_STR: {
    const sql_str *s = (const sql_str *)src->data + from;
    sql_str *o = (sql_str *)dst->data + at;
    const uint8_t *sn = src->nulls ? src->nulls + from : NULL;
    /* One allocation for all the bytes; NULL rows' strings are not looked at (kernels may leave
     * anything there). */
    uint64_t total = 0;
    for (uint32_t i = 0; i < count; i++)
      if (!(sn && sn[i])) total += s[i].len;
    char *bytes = NULL;
    if (total) {
      if (total > SIZE_MAX / 2) return oom(err);
      if ((bytes = sql_mem_alloc(m, (size_t)total, 1)) == NULL) return oom(err);
    }
    for (uint32_t i = 0; i < count; i++) {
      if ((sn && sn[i]) || s[i].len == 0) {
        o[i] = (sql_str){"", 0};
        continue;
      }
      memcpy(bytes, s[i].ptr, s[i].len);
      o[i].ptr = bytes;
      o[i].len = s[i].len;
      bytes += s[i].len;
    }
    break;
  }
  default: {
    size_t sz = phys_size(p);
    memcpy((char *)dst->data + (size_t)at * sz, (const char *)src->data + (size_t)from * sz,
           (size_t)count * sz);
    break;
  }
  }
  dst->n = at + count;
  return 0;
}

int sql_vec_append(sql_mem *m, sql_vec *dst, uint32_t *cap, const sql_vec *src, uint32_t from,
                   uint32_t count, tarn_error *err) {
  if (src->type == NULL) return tarn_err(err, TARN_EINVAL, "append of an untyped vector");
  if (dst->type == NULL) {
    /* A zeroed vector: becomes an empty one of src's type. */
    int rc = vec_init_rec(m, dst, src->type, 0, 0, err);
    if (rc) return rc;
    *cap = 0;
  }
  if (src->type->id == SQL_NULL && dst->type->id != SQL_NULL && count > 0) {
    /* NULLs of the NULL type (a bare NULL literal) become NULLs of dst's type. */
    if ((uint64_t)from + count > src->n)
      return tarn_err(err, TARN_EINVAL, "append of rows [%u, %u) from a vector of %u", from,
                      from + count, src->n);
    sql_vec nulls;
    int rc = vec_init_rec(m, &nulls, dst->type, count, 0, err);
    if (rc) return rc;
    if (sql_vec_nulls(m, &nulls) == NULL) return oom(err);
    memset(nulls.nulls, 1, count);
    return append_rec(m, dst, cap, &nulls, 0, count, 0, err);
  }
  if (sql_type_phys(dst->type->id) != sql_type_phys(src->type->id))
    return tarn_err(err, TARN_EINVAL, "append of %s values to a vector of another type",
                    sql_type_phys(src->type->id) == SQL_PHYS_STR ? "string" : "other");
  if ((uint64_t)from + count > src->n)
    return tarn_err(err, TARN_EINVAL, "append of rows [%u, %u) from a vector of %u", from,
                    from + count, src->n);
  return append_rec(m, dst, cap, src, from, count, 0, err);
}

/* ---- batches ------------------------------------------------------------------------------- */

int sql_vec_slice(sql_mem *m, const sql_vec *v, uint32_t from, uint32_t count, sql_vec *out,
                  tarn_error *err) {
  *out = *v;
  out->n = count;
  if (v->nulls) out->nulls = v->nulls + from;
  switch (sql_type_phys(v->type->id)) {
  case SQL_PHYS_NONE: return 0;
  case SQL_PHYS_LIST: out->offsets = v->offsets + from; return 0; /* child offsets are absolute */
  case SQL_PHYS_STRUCT: {
    size_t nf = v->type->n_fields;
    out->child = sql_mem_alloc(m, nf ? nf : 1, sizeof *out->child);
    if (out->child == NULL) return oom(err);
    for (size_t f = 0; f < nf; f++) {
      int rc = sql_vec_slice(m, &v->child[f], from, count, &out->child[f], err);
      if (rc) return rc;
    }
    return 0;
  }
  default:
    out->data = (uint8_t *)v->data + (size_t)from * phys_size(sql_type_phys(v->type->id));
    return 0;
  }
}

int sql_batch_new(uint32_t n_cols, uint32_t n_rows, sql_batch **out, tarn_error *err) {
  *out = NULL;
  sql_batch *b = calloc(1, sizeof *b + (size_t)(n_cols ? n_cols : 1) * sizeof(sql_vec));
  if (b == NULL) return oom(err);
  b->cols = (sql_vec *)(b + 1);
  b->n_cols = n_cols;
  b->n_rows = n_rows;
  if ((b->mem = sql_mem_new()) == NULL) {
    free(b);
    return oom(err);
  }
  *out = b;
  return 0;
}

void sql_batch_free(sql_batch *b) {
  if (b == NULL) return;
  sql_mem_release(b->mem);
  free(b);
}

int sql_batch_select(const sql_batch *b, const uint32_t *sel, uint32_t n_sel, sql_batch **out,
                     tarn_error *err) {
  sql_batch *r;
  int rc = sql_batch_new(b->n_cols, n_sel, &r, err);
  if (rc) return rc;
  if (sql_mem_add_parent(r->mem, b->mem)) {
    sql_batch_free(r);
    return oom(err);
  }
  for (uint32_t c = 0; c < b->n_cols && rc == 0; c++)
    rc = gather_rec(r->mem, &b->cols[c], sel, n_sel, &r->cols[c], 0, err);
  if (rc) {
    sql_batch_free(r);
    return rc;
  }
  *out = r;
  return 0;
}

/* ---- values -------------------------------------------------------------------------------- */

int sql_vec_from_value(sql_mem *m, const sql_value *value, sql_vec *out, tarn_error *err) {
  const sql_type *t = value->type;
  if (t == NULL) return tarn_err(err, TARN_EINVAL, "value without a type");
  sql_phys p = sql_type_phys(t->id);
  if ((p == SQL_PHYS_LIST || p == SQL_PHYS_STRUCT) && !value->is_null) {
    if (value->nested == NULL) return tarn_err(err, TARN_EINVAL, "nested value without data");
    uint32_t row = value->nested_row;
    if (row >= value->nested->n)
      return tarn_err(err, TARN_EINVAL, "nested value row %u of %u", row, value->nested->n);
    return gather_rec(m, value->nested, &row, 1, out, 0, err);
  }
  int rc = vec_init_rec(m, out, t, 1, 0, err);
  if (rc || p == SQL_PHYS_NONE) return rc;
  if (value->is_null) {
    if (sql_vec_nulls(m, out) == NULL) return oom(err);
    out->nulls[0] = 1;
    return 0;
  }
  switch (p) {
  case SQL_PHYS_U8: SQL_VEC_U8(out)[0] = value->u.b ? 1 : 0; break;
  case SQL_PHYS_I64: SQL_VEC_I64(out)[0] = value->u.i64; break;
  case SQL_PHYS_F64: SQL_VEC_F64(out)[0] = value->u.f64; break;
  case SQL_PHYS_I128: SQL_VEC_I128(out)[0] = value->u.i128; break;
  case SQL_PHYS_STR: SQL_VEC_STR(out)[0] = value->u.str; break;
  case SQL_PHYS_INTERVAL: SQL_VEC_IV(out)[0] = value->u.iv; break;
  default: break;
  }
  return 0;
}

void sql_vec_get(const sql_vec *v, uint32_t i, sql_value *out) {
  memset(out, 0, sizeof *out);
  out->type = v->type;
  sql_phys p = v->type ? sql_type_phys(v->type->id) : SQL_PHYS_NONE;
  out->is_null = p == SQL_PHYS_NONE || SQL_VEC_IS_NULL(v, i);
  if (out->is_null) return;
  switch (p) {
  case SQL_PHYS_U8: out->u.b = SQL_VEC_U8(v)[i] != 0; break;
  case SQL_PHYS_I64: out->u.i64 = SQL_VEC_I64(v)[i]; break;
  case SQL_PHYS_F64: out->u.f64 = SQL_VEC_F64(v)[i]; break;
  case SQL_PHYS_I128: out->u.i128 = SQL_VEC_I128(v)[i]; break;
  case SQL_PHYS_STR: out->u.str = SQL_VEC_STR(v)[i]; break;
  case SQL_PHYS_INTERVAL: out->u.iv = SQL_VEC_IV(v)[i]; break;
  case SQL_PHYS_LIST:
  case SQL_PHYS_STRUCT:
    out->nested = v;
    out->nested_row = i;
    break;
  default: break;
  }
}

/* ---- Arrow import -------------------------------------------------------------------------- */

/* What an Arrow format string says about the bytes, independent of the SQL type read into. */
typedef enum arrow_kind {
  AK_NULL,
  AK_BOOL,
  AK_INT,
  AK_HALF,
  AK_FLOAT,
  AK_DOUBLE,
  AK_DECIMAL,
  AK_STR32,
  AK_STR64,
  AK_VIEW,
  AK_FIXED,
  AK_DATE32,
  AK_DATE64,
  AK_TIME32,
  AK_TIME64,
  AK_TIMESTAMP,
  AK_DURATION,
  AK_IV_MONTHS,
  AK_IV_DAY_MS,
  AK_IV_MDN,
  AK_LIST32,
  AK_LIST64,
  AK_FIXED_LIST,
  AK_MAP,
  AK_STRUCT,
  AK_BAD
} arrow_kind;

typedef struct arrow_fmt {
  arrow_kind kind;
  int width;       /* bytes of an integer/decimal value; fixed binary / list width */
  bool is_signed;  /* AK_INT */
  int scale;       /* AK_DECIMAL */
  int64_t per_sec; /* time units per second */
} arrow_fmt;

static int64_t unit_per_sec(char u) {
  return u == 's' ? 1 : u == 'm' ? 1000 : u == 'u' ? 1000000 : u == 'n' ? 1000000000 : 0;
}

static bool parse_width(const char *p, int *out) {
  char *end;
  long w = strtol(p, &end, 10);
  if (end == p || *end != '\0' || w < 0 || w > INT32_MAX) return false;
  *out = (int)w;
  return true;
}

static arrow_fmt parse_arrow_format(const char *f) {
  arrow_fmt r = {.kind = AK_BAD};
  if (f == NULL || f[0] == '\0') return r;
  if (f[1] == '\0') {
    static const char ints[] = "cCsSiIlL";
    const char *k = strchr(ints, f[0]);
    if (k) {
      int idx = (int)(k - ints);
      r.kind = AK_INT;
      r.width = 1 << (idx / 2);
      r.is_signed = idx % 2 == 0;
      return r;
    }
    switch (f[0]) {
    case 'n': r.kind = AK_NULL; break;
    case 'b': r.kind = AK_BOOL; break;
    case 'e': r.kind = AK_HALF; break;
    case 'f': r.kind = AK_FLOAT; break;
    case 'g': r.kind = AK_DOUBLE; break;
    case 'u':
    case 'z': r.kind = AK_STR32; break;
    case 'U':
    case 'Z': r.kind = AK_STR64; break;
    default: break;
    }
    return r;
  }
  if (strcmp(f, "vu") == 0 || strcmp(f, "vz") == 0) {
    r.kind = AK_VIEW;
  } else if (f[0] == 'w' && f[1] == ':') {
    if (parse_width(f + 2, &r.width)) r.kind = AK_FIXED;
  } else if (f[0] == 'd' && f[1] == ':') {
    char *end;
    long p = strtol(f + 2, &end, 10);
    if (*end != ',') return r;
    long sc = strtol(end + 1, &end, 10);
    long bits = 128;
    if (*end == ',') bits = strtol(end + 1, &end, 10);
    if (*end != '\0' || p < 1 || p > 76 || sc < -76 || sc > 76) return r;
    if (bits != 32 && bits != 64 && bits != 128 && bits != 256) return r;
    r.kind = AK_DECIMAL;
    r.width = (int)(bits / 8);
    r.scale = (int)sc;
  } else if (strcmp(f, "tdD") == 0) {
    r.kind = AK_DATE32;
  } else if (strcmp(f, "tdm") == 0) {
    r.kind = AK_DATE64;
  } else if (f[0] == 't' && (f[1] == 't' || f[1] == 'D') && f[2] && f[3] == '\0' &&
             unit_per_sec(f[2])) {
    r.per_sec = unit_per_sec(f[2]);
    r.kind = f[1] == 'D' ? AK_DURATION : f[2] == 's' || f[2] == 'm' ? AK_TIME32 : AK_TIME64;
  } else if (f[0] == 't' && f[1] == 's' && f[2] && f[3] == ':' && unit_per_sec(f[2])) {
    r.kind = AK_TIMESTAMP;
    r.per_sec = unit_per_sec(f[2]);
  } else if (strcmp(f, "tiM") == 0) {
    r.kind = AK_IV_MONTHS;
  } else if (strcmp(f, "tiD") == 0) {
    r.kind = AK_IV_DAY_MS;
  } else if (strcmp(f, "tin") == 0) {
    r.kind = AK_IV_MDN;
  } else if (strcmp(f, "+l") == 0) {
    r.kind = AK_LIST32;
  } else if (strcmp(f, "+L") == 0) {
    r.kind = AK_LIST64;
  } else if (strncmp(f, "+w:", 3) == 0) {
    if (parse_width(f + 3, &r.width)) r.kind = AK_FIXED_LIST;
  } else if (strcmp(f, "+m") == 0) {
    r.kind = AK_MAP;
  } else if (strcmp(f, "+s") == 0) {
    r.kind = AK_STRUCT;
  }
  return r;
}

/* Whether bytes of kind k can be read as SQL type t (the scan may ask for the type the binder
 * settled on, which can be wider than the file's). */
static bool arrow_kind_fits(const arrow_fmt *f, const sql_type *t) {
  sql_type_id id = t->id;
  switch (f->kind) {
  case AK_NULL: return true;
  case AK_BOOL: return id == SQL_BOOL;
  case AK_INT: return sql_type_is_integer(id) || id == SQL_DECIMAL;
  case AK_HALF:
  case AK_FLOAT:
  case AK_DOUBLE: return id == SQL_FLOAT4 || id == SQL_FLOAT8;
  case AK_DECIMAL: return id == SQL_DECIMAL && f->scale >= 0 && t->scale >= f->scale;
  case AK_STR32:
  case AK_STR64:
  case AK_VIEW: return id == SQL_TEXT || id == SQL_BYTEA;
  case AK_FIXED: return id == SQL_BYTEA || id == SQL_TEXT || (id == SQL_UUID && f->width == 16);
  case AK_DATE32:
  case AK_DATE64: return id == SQL_DATE;
  case AK_TIME32:
  case AK_TIME64: return id == SQL_TIME;
  case AK_TIMESTAMP: return id == SQL_TIMESTAMP || id == SQL_TIMESTAMPTZ;
  case AK_DURATION:
  case AK_IV_MONTHS:
  case AK_IV_DAY_MS:
  case AK_IV_MDN: return id == SQL_INTERVAL;
  case AK_LIST32:
  case AK_LIST64:
  case AK_FIXED_LIST: return id == SQL_LIST;
  case AK_MAP: return id == SQL_MAP;
  case AK_STRUCT: return id == SQL_STRUCT;
  default: return false;
  }
}

bool sql_arrow_fits(const struct ArrowSchema *field, const sql_type *t) {
  if (field == NULL || t == NULL) return false;
  if (field->dictionary) return true; /* checked on its values when imported */
  arrow_fmt f = parse_arrow_format(field->format);
  return f.kind != AK_BAD && arrow_kind_fits(&f, t);
}

static int arrow_buffers_needed(arrow_kind k) {
  switch (k) {
  case AK_NULL: return 0;
  case AK_FIXED_LIST:
  case AK_STRUCT: return 1;
  case AK_STR32:
  case AK_STR64:
  case AK_VIEW: return 3;
  default: return 2;
  }
}

static inline bool arrow_bit(const void *bits, int64_t i) {
  return (((const uint8_t *)bits)[i >> 3] >> (i & 7)) & 1;
}

static inline int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static double half_to_double(uint16_t h) {
  int e = (h >> 10) & 0x1f, mant = h & 0x3ff;
  double v;
  if (e == 0)
    v = ldexp(mant, -24);
  else if (e == 31)
    v = mant ? NAN : INFINITY;
  else
    v = ldexp(mant | 0x400, e - 25);
  return (h & 0x8000) ? -v : v;
}

static const sql_i128 pow10_i128[39] = {
    1,
    10,
    100,
    1000,
    10000,
    100000,
    1000000,
    10000000,
    100000000,
    1000000000,
    (sql_i128)10000000000LL,
    (sql_i128)100000000000LL,
    (sql_i128)1000000000000LL,
    (sql_i128)10000000000000LL,
    (sql_i128)100000000000000LL,
    (sql_i128)1000000000000000LL,
    (sql_i128)10000000000000000LL,
    (sql_i128)100000000000000000LL,
    (sql_i128)1000000000000000000LL,
    (sql_i128)1000000000000000000LL * 10,
    (sql_i128)1000000000000000000LL * 100,
    (sql_i128)1000000000000000000LL * 1000,
    (sql_i128)1000000000000000000LL * 10000,
    (sql_i128)1000000000000000000LL * 100000,
    (sql_i128)1000000000000000000LL * 1000000,
    (sql_i128)1000000000000000000LL * 10000000,
    (sql_i128)1000000000000000000LL * 100000000,
    (sql_i128)1000000000000000000LL * 1000000000,
    (sql_i128)1000000000000000000LL * 10000000000LL,
    (sql_i128)1000000000000000000LL * 100000000000LL,
    (sql_i128)1000000000000000000LL * 1000000000000LL,
    (sql_i128)1000000000000000000LL * 10000000000000LL,
    (sql_i128)1000000000000000000LL * 100000000000000LL,
    (sql_i128)1000000000000000000LL * 1000000000000000LL,
    (sql_i128)1000000000000000000LL * 10000000000000000LL,
    (sql_i128)1000000000000000000LL * 100000000000000000LL,
    (sql_i128)1000000000000000000LL * 1000000000000000000LL,
    (sql_i128)1000000000000000000LL * 1000000000000000000LL * 10,
    (sql_i128)1000000000000000000LL * 1000000000000000000LL * 100,
};

typedef struct importer {
  sql_mem *m;
  const char *column; /* for messages */
  tarn_error *err;
} importer;

static int imp_bad(importer *im, const char *what) {
  return tarn_err(im->err, TARN_ECORRUPT, "column %s: malformed Arrow array: %s", im->column, what);
}

static int imp_vec(importer *im, const struct ArrowSchema *s, const struct ArrowArray *a,
                   int64_t base, int64_t n, const sql_type *t, sql_vec *out, int depth);

/* Reads integer i (physical index) of a buffer of width-byte integers, widened to int64; an
 * unsigned 64-bit value above INT64_MAX sets *big. */
static inline int64_t ld_int(const uint8_t *p, int width, bool is_signed, int64_t i, bool *big) {
  switch (width) {
  case 1: return is_signed ? (int64_t)(int8_t)p[i] : (int64_t)p[i];
  case 2: {
    uint16_t v;
    memcpy(&v, p + i * 2, 2);
    return is_signed ? (int64_t)(int16_t)v : (int64_t)v;
  }
  case 4: {
    uint32_t v;
    memcpy(&v, p + i * 4, 4);
    return is_signed ? (int64_t)(int32_t)v : (int64_t)v;
  }
  default: {
    uint64_t v;
    memcpy(&v, p + i * 8, 8);
    if (!is_signed && v > INT64_MAX) *big = true;
    return (int64_t)v;
  }
  }
}

static int imp_ints(importer *im, const arrow_fmt *f, const uint8_t *src, int64_t start, uint32_t n,
                    const sql_type *t, sql_vec *out) {
  if (t->id == SQL_DECIMAL) {
    sql_i128 *d = out->data, mul = pow10_i128[t->scale];
    for (uint32_t i = 0; i < n; i++) {
      bool big = false;
      int64_t x = ld_int(src, f->width, f->is_signed, start + i, &big);
      sql_i128 v = big ? (sql_i128)(uint64_t)x : (sql_i128)x;
      if (!SQL_VEC_IS_NULL(out, i) &&
          (v >= pow10_i128[t->precision - t->scale] || v <= -pow10_i128[t->precision - t->scale]))
        return tarn_err(im->err, TARN_EINVAL, "column %s: value out of range for numeric(%d,%d)",
                        im->column, t->precision, t->scale);
      d[i] = v * mul;
    }
    return 0;
  }
  int64_t lo = t->id == SQL_INT2 ? INT16_MIN : t->id == SQL_INT4 ? INT32_MIN : INT64_MIN;
  int64_t hi = t->id == SQL_INT2 ? INT16_MAX : t->id == SQL_INT4 ? INT32_MAX : INT64_MAX;
  int64_t *d = out->data;
  /* Values need a range check unless every value of the source width fits the target. */
  int target_bits = t->id == SQL_INT2 ? 16 : t->id == SQL_INT4 ? 32 : 64;
  bool check = f->is_signed ? f->width * 8 > target_bits : f->width * 8 >= target_bits;
  if (f->width == 4 && f->is_signed && !check) {
    for (uint32_t i = 0; i < n; i++) {
      int32_t v;
      memcpy(&v, src + (start + i) * 4, 4);
      d[i] = v;
    }
    return 0;
  }
  if (f->width == 8 && f->is_signed && !check) {
    memcpy(d, src + start * 8, (size_t)n * 8);
    return 0;
  }
  for (uint32_t i = 0; i < n; i++) {
    bool big = false;
    int64_t x = ld_int(src, f->width, f->is_signed, start + i, &big);
    if (check && !SQL_VEC_IS_NULL(out, i) && (big || x < lo || x > hi))
      return tarn_err(im->err, TARN_EINVAL, "column %s: integer value out of range for its type",
                      im->column);
    d[i] = x;
  }
  return 0;
}

/* Variable-length strings with 32- or 64-bit offsets; views point into the data buffer. */
static int imp_strings(importer *im, const struct ArrowArray *a, bool large, int64_t start,
                       uint32_t n, sql_vec *out) {
  const uint8_t *offs = a->buffers[1];
  const char *data = a->buffers[2];
  sql_str *d = out->data;
  if (n == 0) return 0;
  if (offs == NULL) return imp_bad(im, "missing offsets buffer");
  int64_t prev;
  if (large) {
    memcpy(&prev, offs + start * 8, 8);
  } else {
    int32_t p32;
    memcpy(&p32, offs + start * 4, 4);
    prev = p32;
  }
  if (prev < 0) return imp_bad(im, "negative string offset");
  for (uint32_t i = 0; i < n; i++) {
    int64_t next;
    if (large) {
      memcpy(&next, offs + (start + i + 1) * 8, 8);
    } else {
      int32_t n32;
      memcpy(&n32, offs + (start + i + 1) * 4, 4);
      next = n32;
    }
    if (next < prev) return imp_bad(im, "decreasing string offsets");
    if (next > prev && data == NULL) return imp_bad(im, "missing string data buffer");
    d[i].ptr = next > prev ? data + prev : "";
    d[i].len = (uint64_t)(next - prev);
    prev = next;
  }
  return 0;
}

static int imp_views(importer *im, const struct ArrowArray *a, int64_t start, uint32_t n,
                     sql_vec *out) {
  const uint8_t *views = a->buffers[1];
  int64_t n_data = a->n_buffers - 3;
  const uint8_t *sizes = a->buffers[a->n_buffers - 1];
  sql_str *d = out->data;
  if (n == 0) return 0;
  if (views == NULL || n_data < 0) return imp_bad(im, "missing string views");
  for (uint32_t i = 0; i < n; i++) {
    const uint8_t *v = views + (start + i) * 16;
    int32_t len;
    memcpy(&len, v, 4);
    if (len < 0) return imp_bad(im, "negative string view length");
    if (len <= 12) {
      d[i].ptr = (const char *)v + 4;
    } else {
      int32_t idx, off;
      int64_t size;
      memcpy(&idx, v + 8, 4);
      memcpy(&off, v + 12, 4);
      if (idx < 0 || idx >= n_data || off < 0 || a->buffers[2 + idx] == NULL || sizes == NULL)
        return imp_bad(im, "string view refers to a missing buffer");
      memcpy(&size, sizes + (int64_t)idx * 8, 8);
      if ((int64_t)off + len > size) return imp_bad(im, "string view past its buffer");
      d[i].ptr = (const char *)a->buffers[2 + idx] + off;
    }
    d[i].len = (uint64_t)len;
  }
  return 0;
}

/* Dictionary-encoded arrays: the dictionary is decoded whole, then gathered by the indices. */
static int imp_dict(importer *im, const struct ArrowSchema *s, const struct ArrowArray *a,
                    int64_t start, uint32_t n, const sql_type *t, sql_vec *out, int depth) {
  arrow_fmt f = parse_arrow_format(s->format);
  if (f.kind != AK_INT) return imp_bad(im, "dictionary indices are not integers");
  if (a->dictionary == NULL) return imp_bad(im, "dictionary array missing");
  if (a->n_buffers < 2 || (n > 0 && a->buffers[1] == NULL))
    return imp_bad(im, "missing dictionary indices");
  sql_vec dict;
  int rc = imp_vec(im, s->dictionary, a->dictionary, 0, a->dictionary->length, t, &dict, depth + 1);
  if (rc) return rc;
  const uint8_t *valid = a->null_count != 0 ? a->buffers[0] : NULL;
  uint32_t *sel = malloc((n ? n : 1) * sizeof *sel);
  uint8_t *nulls = sql_mem_alloc(im->m, n, 1);
  if (sel == NULL || nulls == NULL) {
    free(sel);
    return oom(im->err);
  }
  bool any_null = false;
  for (uint32_t i = 0; i < n; i++) {
    bool big = false;
    if (valid && !arrow_bit(valid, start + i)) {
      nulls[i] = 1;
      any_null = true;
      sel[i] = 0;
      continue;
    }
    int64_t k = ld_int(a->buffers[1], f.width, f.is_signed, start + i, &big);
    if (big || k < 0 || k >= (int64_t)dict.n) {
      free(sel);
      return imp_bad(im, "dictionary index out of range");
    }
    sel[i] = (uint32_t)k;
  }
  if (dict.n == 0) {
    /* Only NULLs can index an empty dictionary. */
    free(sel);
    if ((rc = vec_init_rec(im->m, out, t, n, depth, im->err))) return rc;
    out->nulls = nulls;
    return 0;
  }
  rc = gather_rec(im->m, &dict, sel, n, out, depth, im->err);
  free(sel);
  if (rc || !any_null) return rc;
  if (out->nulls == NULL) {
    out->nulls = nulls;
  } else {
    for (uint32_t i = 0; i < n; i++)
      out->nulls[i] |= nulls[i];
  }
  return 0;
}

static int imp_list(importer *im, const struct ArrowSchema *s, const struct ArrowArray *a,
                    const arrow_fmt *f, int64_t start, uint32_t n, const sql_type *t, sql_vec *out,
                    int depth) {
  if (s->n_children != 1 || a->n_children != 1 || s->children == NULL || a->children == NULL ||
      s->children[0] == NULL || a->children[0] == NULL)
    return imp_bad(im, "a list needs one child");
  const struct ArrowArray *ca = a->children[0];
  int64_t *off = sql_mem_alloc(im->m, (size_t)n + 2, sizeof(int64_t));
  sql_vec *child = sql_mem_alloc(im->m, 1, sizeof(sql_vec));
  if (off == NULL || child == NULL) return oom(im->err);
  int64_t first = 0, last = 0;
  if (f->kind == AK_FIXED_LIST) {
    int64_t w = f->width;
    if (start > INT64_MAX / (w ? w : 1) / 2) return imp_bad(im, "fixed-size list too long");
    first = start * w;
    last = (start + n) * w;
    for (uint32_t i = 0; i <= n; i++)
      off[i] = (int64_t)i * w;
  } else if (n > 0) {
    const uint8_t *o = a->buffers[1];
    if (o == NULL) return imp_bad(im, "missing list offsets");
    for (uint32_t i = 0; i <= n; i++) {
      int64_t x;
      if (f->kind == AK_LIST64) {
        memcpy(&x, o + (start + i) * 8, 8);
      } else {
        int32_t x32;
        memcpy(&x32, o + (start + i) * 4, 4);
        x = x32;
      }
      if (i == 0) {
        if (x < 0) return imp_bad(im, "negative list offset");
        first = x;
      } else if (x < first + off[i - 1]) {
        return imp_bad(im, "decreasing list offsets");
      }
      off[i] = x - first;
    }
    last = first + off[n];
  }
  if (last > ca->length || last - first > UINT32_MAX)
    return imp_bad(im, "list offsets past the child array");
  off[n + 1] = last - first; /* the child's capacity, for sql_vec_append */
  out->offsets = off;
  out->child = child;
  return imp_vec(im, s->children[0], ca, first, last - first, t->elem, child, depth + 1);
}

static int imp_vec(importer *im, const struct ArrowSchema *s, const struct ArrowArray *a,
                   int64_t base, int64_t n64, const sql_type *t, sql_vec *out, int depth) {
  if (depth > VEC_MAX_DEPTH)
    return tarn_err(im->err, TARN_EUNSUPPORTED, "column %s: types nested deeper than %d",
                    im->column, VEC_MAX_DEPTH);
  if (s == NULL || a == NULL || t == NULL) return imp_bad(im, "missing child");
  if (a->length < 0 || a->offset < 0 || base < 0 || n64 < 0 || n64 > UINT32_MAX ||
      a->offset > INT64_MAX / 4 || base > a->length || n64 > a->length - base)
    return imp_bad(im, "length or offset out of range");
  if (a->n_buffers < 0 || (a->n_buffers > 0 && a->buffers == NULL) || a->n_children < 0)
    return imp_bad(im, "missing buffers");
  uint32_t n = (uint32_t)n64;
  int64_t start = a->offset + base;
  if (s->dictionary) return imp_dict(im, s, a, start, n, t, out, depth);
  arrow_fmt f = parse_arrow_format(s->format);
  if (f.kind == AK_BAD)
    return tarn_err(im->err, TARN_EUNSUPPORTED, "column %s: unsupported Arrow type %s", im->column,
                    s->format ? s->format : "(none)");
  if (!arrow_kind_fits(&f, t)) {
    char name[128];
    sql_type_name(t, name, sizeof name);
    return tarn_err(im->err, TARN_EUNSUPPORTED, "column %s: Arrow type %s cannot be read as %s",
                    im->column, s->format, name);
  }
  if (a->n_buffers < arrow_buffers_needed(f.kind)) return imp_bad(im, "too few buffers");
  if (f.kind == AK_NULL) {
    int rc = vec_init_rec(im->m, out, t, n, depth, im->err);
    if (rc) return rc;
    if (sql_vec_nulls(im->m, out) == NULL) return oom(im->err);
    memset(out->nulls, 1, n);
    return 0;
  }
  memset(out, 0, sizeof *out);
  out->type = t;
  out->n = n;
  if (a->null_count != 0 && a->buffers[0] != NULL && n > 0) {
    const uint8_t *valid = a->buffers[0];
    uint8_t *nl = sql_mem_alloc(im->m, n, 1);
    if (nl == NULL) return oom(im->err);
    bool any = false;
    for (uint32_t i = 0; i < n; i++) {
      nl[i] = !arrow_bit(valid, start + i);
      any |= nl[i];
    }
    if (any) out->nulls = nl;
  }
  if (f.kind == AK_STRUCT) {
    if (s->n_children != (int64_t)t->n_fields || a->n_children != s->n_children ||
        (t->n_fields && (s->children == NULL || a->children == NULL)))
      return imp_bad(im, "struct fields do not match its type");
    out->child = sql_mem_alloc(im->m, t->n_fields ? t->n_fields : 1, sizeof(sql_vec));
    if (out->child == NULL) return oom(im->err);
    for (size_t k = 0; k < t->n_fields; k++) {
      const struct ArrowArray *ca = a->children[k];
      /* A struct child's slot i is the parent's physical slot i. */
      if (ca == NULL || ca->length < start + n) return imp_bad(im, "struct field too short");
      int rc =
          imp_vec(im, s->children[k], ca, start, n, t->fields[k].type, &out->child[k], depth + 1);
      if (rc) return rc;
    }
    return 0;
  }
  if (f.kind == AK_LIST32 || f.kind == AK_LIST64 || f.kind == AK_FIXED_LIST || f.kind == AK_MAP)
    return imp_list(im, s, a, &f, start, n, t, out, depth);

  sql_phys p = sql_type_phys(t->id);
  out->data = sql_mem_alloc(im->m, n, phys_size(p));
  if (out->data == NULL) return oom(im->err);
  if (n == 0) return 0;
  const uint8_t *src = a->buffers[1];
  if (src == NULL) return imp_bad(im, "missing data buffer");
  int64_t *i64 = out->data;
  switch (f.kind) {
  case AK_BOOL:
    for (uint32_t i = 0; i < n; i++)
      SQL_VEC_U8(out)[i] = arrow_bit(src, start + i);
    return 0;
  case AK_INT: return imp_ints(im, &f, src, start, n, t, out);
  case AK_HALF:
    for (uint32_t i = 0; i < n; i++) {
      uint16_t h;
      memcpy(&h, src + (start + i) * 2, 2);
      SQL_VEC_F64(out)[i] = half_to_double(h);
    }
    return 0;
  case AK_FLOAT:
    for (uint32_t i = 0; i < n; i++) {
      float x;
      memcpy(&x, src + (start + i) * 4, 4);
      SQL_VEC_F64(out)[i] = x;
    }
    return 0;
  case AK_DOUBLE: memcpy(out->data, src + start * 8, (size_t)n * 8); return 0;
  case AK_DECIMAL: {
    sql_i128 mul = pow10_i128[t->scale - f.scale], limit = pow10_i128[t->precision - t->scale];
    for (uint32_t i = 0; i < n; i++) {
      const uint8_t *v = src + (start + i) * f.width;
      sql_i128 x;
      if (f.width == 4) {
        int32_t y;
        memcpy(&y, v, 4);
        x = y;
      } else if (f.width == 8) {
        int64_t y;
        memcpy(&y, v, 8);
        x = y;
      } else {
        memcpy(&x, v, 16);
        if (f.width == 32) {
          /* decimal256 of up to 38 digits: the high half is the sign extension of the low. */
          for (int k = 16; k < 32; k++)
            if (v[k] != (x < 0 ? 0xff : 0x00) && !SQL_VEC_IS_NULL(out, i))
              return tarn_err(im->err, TARN_EUNSUPPORTED,
                              "column %s: decimal value wider than 38 digits", im->column);
        }
      }
      if (mul != 1 && !SQL_VEC_IS_NULL(out, i) && (x >= limit || x <= -limit))
        return tarn_err(im->err, TARN_EINVAL, "column %s: value out of range for numeric(%d,%d)",
                        im->column, t->precision, t->scale);
      SQL_VEC_I128(out)[i] = x * mul;
    }
    return 0;
  }
  case AK_STR32:
  case AK_STR64: return imp_strings(im, a, f.kind == AK_STR64, start, n, out);
  case AK_VIEW: return imp_views(im, a, start, n, out);
  case AK_FIXED:
    if (t->id == SQL_UUID && f.width != 16) return imp_bad(im, "uuid not 16 bytes wide");
    for (uint32_t i = 0; i < n; i++) {
      SQL_VEC_STR(out)[i].ptr = (const char *)src + (start + i) * f.width;
      SQL_VEC_STR(out)[i].len = (uint64_t)f.width;
    }
    return 0;
  case AK_DATE32:
  case AK_TIME32:
    for (uint32_t i = 0; i < n; i++) {
      int32_t x;
      memcpy(&x, src + (start + i) * 4, 4);
      i64[i] = f.kind == AK_DATE32 ? x : (int64_t)x * (1000000 / f.per_sec);
    }
    return 0;
  case AK_DATE64:
    for (uint32_t i = 0; i < n; i++) {
      int64_t x;
      memcpy(&x, src + (start + i) * 8, 8);
      i64[i] = floor_div(x, 86400000);
    }
    return 0;
  case AK_TIME64:
  case AK_TIMESTAMP:
  case AK_DURATION: {
    int64_t per = f.per_sec;
    for (uint32_t i = 0; i < n; i++) {
      int64_t x, us;
      memcpy(&x, src + (start + i) * 8, 8);
      if (per >= 1000000) {
        us = per == 1000000 ? x : floor_div(x, per / 1000000);
      } else {
        int64_t mul = 1000000 / per;
        if (x > INT64_MAX / mul || x < INT64_MIN / mul) {
          if (SQL_VEC_IS_NULL(out, i)) continue;
          return tarn_err(im->err, TARN_EINVAL, "column %s: time value out of range", im->column);
        }
        us = x * mul;
      }
      if (f.kind == AK_DURATION)
        SQL_VEC_IV(out)[i] = (sql_interval){0, 0, us};
      else
        i64[i] = us;
    }
    return 0;
  }
  case AK_IV_MONTHS:
    for (uint32_t i = 0; i < n; i++) {
      int32_t mo;
      memcpy(&mo, src + (start + i) * 4, 4);
      SQL_VEC_IV(out)[i] = (sql_interval){mo, 0, 0};
    }
    return 0;
  case AK_IV_DAY_MS:
    for (uint32_t i = 0; i < n; i++) {
      int32_t dm[2];
      memcpy(dm, src + (start + i) * 8, 8);
      SQL_VEC_IV(out)[i] = (sql_interval){0, dm[0], (int64_t)dm[1] * 1000};
    }
    return 0;
  case AK_IV_MDN:
    for (uint32_t i = 0; i < n; i++) {
      const uint8_t *v = src + (start + i) * 16;
      sql_interval iv;
      int64_t ns;
      memcpy(&iv.months, v, 4);
      memcpy(&iv.days, v + 4, 4);
      memcpy(&ns, v + 8, 8);
      iv.micros = ns / 1000; /* toward zero: -1.5us is -1us, as an interval's parts keep sign */
      SQL_VEC_IV(out)[i] = iv;
    }
    return 0;
  default: return imp_bad(im, "unexpected type");
  }
}

int sql_batch_from_arrow(const struct ArrowSchema *schema, struct ArrowArray *array,
                         const sql_type *const *types, sql_batch **out, tarn_error *err) {
  *out = NULL;
  if (array == NULL || array->release == NULL)
    return tarn_err(err, TARN_EINVAL, "sql_batch_from_arrow: released array");
  /* The array is moved in first, so every exit (error or not) owns and frees it exactly once;
   * the top-level struct is copied because the move may relocate it. */
  struct ArrowArray top = *array;
  sql_mem *m = sql_mem_new();
  if (m == NULL || sql_mem_adopt_arrow(m, array)) {
    if (array->release) array->release(array);
    sql_mem_release(m);
    return oom(err);
  }
  int rc = 0;
  if (schema == NULL || schema->format == NULL || strcmp(schema->format, "+s") != 0 ||
      schema->n_children < 0 || (schema->n_children > 0 && schema->children == NULL))
    rc = tarn_err(err, TARN_EINVAL, "sql_batch_from_arrow: the schema is not a struct");
  else if (top.n_children != schema->n_children || top.length < 0 || top.offset < 0 ||
           top.length > UINT32_MAX || (top.n_children > 0 && top.children == NULL))
    rc = tarn_err(err, TARN_ECORRUPT, "malformed Arrow batch: %lld columns for a schema of %lld",
                  (long long)top.n_children, (long long)schema->n_children);
  sql_batch *b = NULL;
  if (rc == 0 && (b = calloc(1, sizeof *b + (size_t)(schema->n_children ? schema->n_children : 1) *
                                                sizeof(sql_vec))) == NULL)
    rc = oom(err);
  if (rc) {
    sql_mem_release(m);
    return rc;
  }
  b->cols = (sql_vec *)(b + 1);
  b->n_cols = (uint32_t)schema->n_children;
  b->n_rows = (uint32_t)top.length;
  b->mem = m;
  for (int64_t c = 0; c < schema->n_children && rc == 0; c++) {
    const struct ArrowSchema *cs = schema->children[c];
    const struct ArrowArray *ca = top.children[c];
    importer im = {m, cs && cs->name ? cs->name : "?", err};
    if (cs == NULL || ca == NULL) {
      rc = imp_bad(&im, "missing column");
    } else if (ca->length < top.offset + top.length) {
      rc = imp_bad(&im, "column shorter than its batch");
    } else {
      /* Columns are the struct's children: slot i is the batch's physical slot i. */
      rc = imp_vec(&im, cs, ca, top.offset, top.length, types[c], &b->cols[c], 0);
    }
  }
  if (rc) {
    sql_batch_free(b);
    return rc;
  }
  *out = b;
  return 0;
}

/* ---- Arrow export -------------------------------------------------------------------------- */

/* A malloc'ed buffer (at least 8 bytes, so that empty arrays still have a buffer to point at). */
static void *exp_buf(size_t bytes) { return calloc(1, bytes ? bytes : 8); }

static int exp_vec(const sql_vec *v, uint32_t from, uint32_t n, struct ArrowArray *a, int depth,
                   tarn_error *err);

/* Validity bitmap for rows [from, from+n); NULL (and null_count 0) when none is NULL. */
static int exp_validity(const sql_vec *v, uint32_t from, uint32_t n, struct ArrowArray *a,
                        tarn_error *err) {
  int64_t nulls = 0;
  if (v->nulls)
    for (uint32_t i = 0; i < n; i++)
      nulls += v->nulls[from + i] != 0;
  a->null_count = nulls;
  if (nulls == 0) return 0;
  uint8_t *bits = exp_buf(((size_t)n + 7) / 8);
  if (bits == NULL) return oom(err);
  for (uint32_t i = 0; i < n; i++)
    if (!v->nulls[from + i]) bits[i >> 3] |= (uint8_t)(1u << (i & 7));
  a->buffers[0] = bits;
  return 0;
}

static int exp_vec(const sql_vec *v, uint32_t from, uint32_t n, struct ArrowArray *a, int depth,
                   tarn_error *err) {
  const sql_type *t = v->type;
  if (t == NULL) return tarn_err(err, TARN_EINVAL, "export of an untyped vector");
  if (depth > VEC_MAX_DEPTH)
    return tarn_err(err, TARN_EUNSUPPORTED, "types nested deeper than %d", VEC_MAX_DEPTH);
  sql_phys p = sql_type_phys(t->id);
  int n_buffers = p == SQL_PHYS_NONE                       ? 0
                  : p == SQL_PHYS_STRUCT                   ? 1
                  : p == SQL_PHYS_STR && t->id != SQL_UUID ? 3
                                                           : 2;
  int64_t n_children = p == SQL_PHYS_LIST ? 1 : p == SQL_PHYS_STRUCT ? (int64_t)t->n_fields : 0;
  int rc = col_array_init(a, n_buffers, n_children, err);
  if (rc) return rc;
  a->length = n;
  if (p == SQL_PHYS_NONE) {
    a->null_count = n;
    return 0;
  }
  if ((rc = exp_validity(v, from, n, a, err))) return rc;
  if (p == SQL_PHYS_STRUCT) {
    for (size_t f = 0; f < t->n_fields && rc == 0; f++)
      rc = exp_vec(&v->child[f], from, n, a->children[f], depth + 1, err);
    return rc;
  }
  if (p == SQL_PHYS_LIST) {
    int64_t first = v->offsets[from], last = v->offsets[from + n];
    if (first < 0 || last < first || last > (int64_t)v->child->n || last - first > INT32_MAX)
      return tarn_err(err, TARN_EINVAL, "list offsets outside the child vector");
    int32_t *o = exp_buf(((size_t)n + 1) * 4);
    if (o == NULL) return oom(err);
    a->buffers[1] = o;
    for (uint32_t i = 0; i <= n; i++) {
      int64_t x = v->offsets[from + i] - first;
      if (x < 0 || x > last - first)
        return tarn_err(err, TARN_EINVAL, "list offsets outside the child vector");
      o[i] = (int32_t)x;
    }
    return exp_vec(v->child, (uint32_t)first, (uint32_t)(last - first), a->children[0], depth + 1,
                   err);
  }
  if (p == SQL_PHYS_STR && t->id != SQL_UUID) {
    const sql_str *s = SQL_VEC_STR(v) + from;
    uint64_t total = 0;
    for (uint32_t i = 0; i < n; i++)
      if (!SQL_VEC_IS_NULL(v, from + i)) total += s[i].len;
    if (total > INT32_MAX)
      return tarn_err(err, TARN_EUNSUPPORTED, "more than 2 GiB of strings in one batch");
    int32_t *o = exp_buf(((size_t)n + 1) * 4);
    char *d = exp_buf((size_t)total);
    a->buffers[1] = o;
    a->buffers[2] = d;
    if (o == NULL || d == NULL) return oom(err);
    int32_t at = 0;
    for (uint32_t i = 0; i < n; i++) {
      o[i] = at;
      if (SQL_VEC_IS_NULL(v, from + i) || s[i].len == 0) continue;
      memcpy(d + at, s[i].ptr, s[i].len);
      at += (int32_t)s[i].len;
    }
    o[n] = at;
    return 0;
  }
  size_t width;
  switch (t->id) {
  case SQL_BOOL: width = 0; break;
  case SQL_INT2: width = 2; break;
  case SQL_INT4:
  case SQL_DATE:
  case SQL_FLOAT4: width = 4; break;
  case SQL_DECIMAL:
  case SQL_UUID:
  case SQL_INTERVAL: width = 16; break;
  default: width = 8; break;
  }
  uint8_t *d = exp_buf(width ? (size_t)n * width : ((size_t)n + 7) / 8);
  if (d == NULL) return oom(err);
  a->buffers[1] = d;
  bool range_error = false;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t r = from + i;
    bool null = SQL_VEC_IS_NULL(v, r);
    switch (t->id) {
    case SQL_BOOL:
      if (!null && SQL_VEC_U8(v)[r]) d[i >> 3] |= (uint8_t)(1u << (i & 7));
      break;
    case SQL_INT2: {
      int64_t x = null ? 0 : SQL_VEC_I64(v)[r];
      range_error |= x < INT16_MIN || x > INT16_MAX;
      int16_t y = (int16_t)x;
      memcpy(d + i * 2, &y, 2);
      break;
    }
    case SQL_INT4:
    case SQL_DATE: {
      int64_t x = null ? 0 : SQL_VEC_I64(v)[r];
      range_error |= x < INT32_MIN || x > INT32_MAX;
      int32_t y = (int32_t)x;
      memcpy(d + i * 4, &y, 4);
      break;
    }
    case SQL_FLOAT4: {
      float y = null ? 0.0f : (float)SQL_VEC_F64(v)[r];
      memcpy(d + i * 4, &y, 4);
      break;
    }
    case SQL_FLOAT8:
      if (!null) memcpy(d + i * 8, &SQL_VEC_F64(v)[r], 8);
      break;
    case SQL_DECIMAL:
      if (!null) memcpy(d + i * 16, &SQL_VEC_I128(v)[r], 16);
      break;
    case SQL_UUID:
      if (!null) {
        sql_str s = SQL_VEC_STR(v)[r];
        range_error |= s.len != 16;
        memcpy(d + i * 16, s.ptr, s.len < 16 ? (size_t)s.len : 16);
      }
      break;
    case SQL_INTERVAL:
      if (!null) {
        sql_interval iv = SQL_VEC_IV(v)[r];
        int64_t ns = 0;
        range_error |= __builtin_mul_overflow(iv.micros, 1000, &ns);
        memcpy(d + i * 16, &iv.months, 4);
        memcpy(d + i * 16 + 4, &iv.days, 4);
        memcpy(d + i * 16 + 8, &ns, 8);
      }
      break;
    default: /* the int64 types: time, timestamps, int8 */
      if (!null) memcpy(d + i * 8, &SQL_VEC_I64(v)[r], 8);
      break;
    }
  }
  if (range_error) {
    char name[64];
    sql_type_name(t, name, sizeof name);
    return tarn_err(err, TARN_EINVAL, "a %s value out of range for its Arrow form", name);
  }
  return 0;
}

int sql_batch_to_arrow(const sql_batch *b, struct ArrowArray *out, tarn_error *err) {
  int rc = col_array_init(out, 1, b->n_cols, err);
  if (rc) return rc;
  out->length = b->n_rows;
  for (uint32_t c = 0; c < b->n_cols && rc == 0; c++) {
    if (b->cols[c].n < b->n_rows)
      rc = tarn_err(err, TARN_EINVAL, "column %u has %u rows in a batch of %u", c, b->cols[c].n,
                    b->n_rows);
    else
      rc = exp_vec(&b->cols[c], 0, b->n_rows, out->children[c], 0, err);
  }
  if (rc) out->release(out);
  return rc;
}
