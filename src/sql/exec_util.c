/*
 * Shared machinery of the blocking operators (see exec_util.h): the key hash table, row and key
 * stores, gathers with NULL rows, and spill files.
 *
 * The hash table keeps its load factor at or below one half, so linear probing stays short; it
 * stores the upper 32 bits of each hash in the slot so that almost every probe that reaches the
 * stored key is a real match. Group keys are copied into one growing array (bytes, or int64s
 * for integer keys), which keeps them alive independently of the batches they came from. The
 * insert and lookup loops exist once per key form; the integer ones are instantiated for one and
 * two columns so that the key comparison becomes one or two plain compares.
 */
#include "sql/exec_util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"

int sql_grow(void **arr, uint32_t *cap, uint32_t need, size_t elem, tarn_error *err) {
  if (need <= *cap) return 0;
  uint64_t c = *cap ? *cap : 16;
  while (c < need)
    c *= 2;
  if (c > UINT32_MAX) c = UINT32_MAX;
  if (c < need) return tarn_err(err, TARN_ENOMEM, "out of memory: too many rows");
  void *p = realloc(*arr, (size_t)c * elem);
  if (!p) return tarn_err(err, TARN_ENOMEM, "out of memory");
  *arr = p;
  *cap = (uint32_t)c;
  return 0;
}

/* --- Hash table ------------------------------------------------------------------------------- */

void sql_ktab_init(sql_ktab *t) { memset(t, 0, sizeof *t); }

int sql_ktab_use_ints(sql_ktab *t, uint32_t n_ints, tarn_error *err) {
  if (t->n > 0 || n_ints == 0 || n_ints > SQL_KEYS_MAX_INTS)
    return tarn_err(err, TARN_EINVAL, "internal error: integer keys of %u columns", n_ints);
  t->n_ints = n_ints;
  return 0;
}

void sql_ktab_free(sql_ktab *t) {
  if (!t) return;
  free(t->slots);
  free(t->islots);
  free(t->hash);
  free(t->off);
  free(t->bytes);
  free(t->ints);
  free(t->filter);
  memset(t, 0, sizeof *t);
}

size_t sql_ktab_bytes(const sql_ktab *t) {
  size_t keys = t->n_ints ? (size_t)t->cap * 8 * t->n_ints : (size_t)t->cap * 8 + t->bytes_cap;
  size_t slots = t->slots    ? (size_t)(t->mask + 1) * sizeof *t->slots
                 : t->islots ? (size_t)(t->mask + 1) * sizeof *t->islots
                             : 0;
  size_t filter = t->filter ? (size_t)(t->filter_mask + 1) * 8 : 0;
  return slots + (size_t)t->cap * 8 + keys + filter;
}

/* What a slot holds: the upper half of the hash and the group number + 1 (0: empty). */
static inline uint64_t ktab_meta(uint64_t h, uint32_t g) {
  return (h >> 32 << 32) | ((uint64_t)g + 1);
}

static int ktab_rehash(sql_ktab *t, uint64_t n_slots, tarn_error *err) {
  uint64_t mask = n_slots - 1;
  if (t->n_ints) {
    sql_kslot *s = calloc(n_slots, sizeof *s);
    if (!s) goto oom;
    for (uint32_t g = 0; g < t->n; g++) {
      uint64_t h = t->hash[g], i = h & mask;
      while (s[i].meta)
        i = (i + 1) & mask;
      s[i].meta = ktab_meta(h, g);
      s[i].key = t->ints[(size_t)g * t->n_ints];
    }
    free(t->islots);
    t->islots = s;
  } else {
    uint64_t *s = calloc(n_slots, sizeof *s);
    if (!s) goto oom;
    for (uint32_t g = 0; g < t->n; g++) {
      uint64_t h = t->hash[g], i = h & mask;
      while (s[i])
        i = (i + 1) & mask;
      s[i] = ktab_meta(h, g);
    }
    free(t->slots);
    t->slots = s;
  }
  t->mask = mask;
  return 0;
oom:
  return tarn_err(err, TARN_ENOMEM, "out of memory: hash table of %llu slots",
                  (unsigned long long)n_slots);
}

/* Room for one more group in the per-group arrays (hash, and off or ints). */
static int ktab_grow(sql_ktab *t, tarn_error *err) {
  if (t->n >= UINT32_MAX - 2) return tarn_err(err, TARN_ENOMEM, "out of memory: too many groups");
  if (t->n + 2 <= t->cap) return 0;
  uint32_t cap = t->cap;
  void *hash = t->hash;
  if (sql_grow(&hash, &cap, t->n + 2, sizeof(uint64_t), err)) return TARN_ENOMEM;
  t->hash = hash;
  if (t->n_ints) {
    void *ints = realloc(t->ints, (size_t)cap * t->n_ints * sizeof(int64_t));
    if (!ints) return tarn_err(err, TARN_ENOMEM, "out of memory: hash table keys");
    t->ints = ints;
  } else {
    void *off = realloc(t->off, (size_t)cap * sizeof(uint64_t));
    if (!off) return tarn_err(err, TARN_ENOMEM, "out of memory");
    t->off = off;
    if (t->n == 0) t->off[0] = 0;
  }
  t->cap = cap;
  return 0;
}

/* Makes group t->n, whose key is already stored, with hash h, and puts it in slot i (the empty
 * slot its probe ended on) or rehashes when the table gets too full. */
static int ktab_place(sql_ktab *t, uint64_t h, uint64_t i, uint32_t *gid, tarn_error *err) {
  t->hash[t->n] = h;
  *gid = t->n++;
  if ((uint64_t)t->n * 2 > t->mask + 1) return ktab_rehash(t, (t->mask + 1) * 2, err);
  if (t->n_ints) {
    t->islots[i].meta = ktab_meta(h, *gid);
    t->islots[i].key = t->ints[(size_t)*gid * t->n_ints];
  } else {
    t->slots[i] = ktab_meta(h, *gid);
  }
  return 0;
}

/* Appends the key p[0..len) of a new group (byte form). */
static int ktab_add_bytes(sql_ktab *t, const uint8_t *p, size_t len, tarn_error *err) {
  if (t->used + len > t->bytes_cap || t->bytes == NULL) { /* never NULL once a key is in */
    size_t c = t->bytes_cap ? t->bytes_cap : 4096;
    while (c < t->used + len)
      c *= 2;
    uint8_t *b = realloc(t->bytes, c);
    if (!b) return tarn_err(err, TARN_ENOMEM, "out of memory: hash table keys");
    t->bytes = b;
    t->bytes_cap = c;
  }
  if (len) memcpy(t->bytes + t->used, p, len);
  t->used += len;
  if (t->n == 0)
    t->fixed = len > 0 && len < INT32_MAX ? (int32_t)len : -1;
  else if (t->fixed > 0 && len != (size_t)t->fixed)
    t->fixed = -1;
  t->off[t->n + 1] = t->used;
  return 0;
}

/* Whether group c's key is kp[0..len). Fixed-length keys (every key so far as long as the
 * first, the usual case of fixed-width key columns) sit at c * len without an offset lookup, and
 * keys of up to 16 bytes compare as two overlapping 8-byte words instead of a memcmp call. */
static inline bool ktab_key_eq(const sql_ktab *t, uint32_t c, const uint8_t *kp, size_t len) {
  const uint8_t *p;
  if (len == 0) return t->fixed > 0 ? false : t->off[c + 1] == t->off[c]; /* zero-column keys */
  if (t->fixed > 0) {
    if (len != (size_t)t->fixed) return false;
    p = t->bytes + (size_t)c * len;
  } else {
    if (t->off[c + 1] - t->off[c] != len) return false;
    p = t->bytes + t->off[c];
  }
  if (len >= 8 && len <= 16) {
    uint64_t a0, a1, b0, b1;
    memcpy(&a0, p, 8);
    memcpy(&b0, kp, 8);
    memcpy(&a1, p + len - 8, 8);
    memcpy(&b1, kp + len - 8, 8);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
  }
  return len == 0 || memcmp(p, kp, len) == 0;
}

/* Rows between a slot's prefetch and its use (a memory latency's worth of probes). */
#define KTAB_AHEAD 24

static inline const uint8_t *ktab_key_ptr(const sql_ktab *t, uint32_t c) {
  return t->fixed > 0 ? t->bytes + (size_t)c * (size_t)t->fixed : t->bytes + t->off[c];
}

int sql_ktab_reserve(sql_ktab *t, uint64_t n, tarn_error *err) {
  uint64_t slots = 1024;
  while (slots < 2 * n && slots < ((uint64_t)1 << 32))
    slots *= 2;
  if ((t->slots || t->islots) && slots <= t->mask + 1) return 0;
  return ktab_rehash(t, slots, err);
}

/* Whether slot s holds row r's integer key of w columns: the first column is in the slot, the
 * others (compared only once the first and the hash tag agree) with the group's key. */
static inline bool ktab_islot_eq(const sql_ktab *t, sql_kslot s, const sql_keys *keys, uint32_t r,
                                 uint64_t tag, uint32_t w) {
  if (s.key != keys->ints[0][r]) return false;
  if (w == 1) return true;
  if ((s.meta >> 32) != tag) return false;
  const int64_t *g = t->ints + (size_t)((uint32_t)s.meta - 1) * w;
  for (uint32_t c = 1; c < w; c++)
    if (g[c] != keys->ints[c][r]) return false;
  return true;
}

/* The insert of integer keys of w columns; inlined once per common w, so that the comparison
 * loop unrolls into one or two plain compares. */
static inline __attribute__((always_inline)) int
ktab_insert_ints(sql_ktab *t, const sql_keys *keys, const uint32_t *sel, uint32_t n, uint32_t *gids,
                 uint8_t *is_new, const uint32_t w, tarn_error *err) {
  for (uint32_t k = 0; k < n; k++) {
    if (k + KTAB_AHEAD < n) {
      uint32_t ahead = sel ? sel[k + KTAB_AHEAD] : k + KTAB_AHEAD;
      __builtin_prefetch(&t->islots[keys->hash[ahead] & t->mask]);
    }
    uint32_t r = sel ? sel[k] : k;
    uint64_t h = keys->hash[r], tag = h >> 32, i = h & t->mask;
    uint32_t g = SQL_NONE;
    for (;; i = (i + 1) & t->mask) {
      sql_kslot s = t->islots[i];
      if (!s.meta) break;
      if (ktab_islot_eq(t, s, keys, r, tag, w)) {
        g = (uint32_t)s.meta - 1;
        break;
      }
    }
    if (is_new) is_new[r] = g == SQL_NONE;
    if (g == SQL_NONE) {
      if (ktab_grow(t, err)) return TARN_ENOMEM;
      for (uint32_t c = 0; c < w; c++)
        t->ints[(size_t)t->n * w + c] = keys->ints[c][r];
      if (ktab_place(t, h, i, &g, err)) return TARN_ENOMEM;
    }
    gids[r] = g;
  }
  return 0;
}

/* The lookup of integer keys of w columns (see sql_ktab_lookup). A one-column key is settled in
 * its slots alone, so a probe costs one cache miss, prefetched a memory latency ahead (a slot
 * beside the key's value instead of a group number only saves the second, dependent miss into
 * the keys). Wider keys also read the group's other columns once the first column and the hash
 * tag agree, prefetched in a second stage as byte keys prefetch their bytes. */
static inline __attribute__((always_inline)) void
ktab_lookup_ints(const sql_ktab *t, const sql_keys *keys, const uint32_t *sel, uint32_t n,
                 uint32_t *gids, const uint32_t w) {
  for (uint32_t k = 0; k < n; k++) {
    if (k + 2 * KTAB_AHEAD < n) {
      uint32_t ahead = sel ? sel[k + 2 * KTAB_AHEAD] : k + 2 * KTAB_AHEAD;
      __builtin_prefetch(&t->islots[keys->hash[ahead] & t->mask]);
    }
    if (w > 1 && k + KTAB_AHEAD < n) {
      uint32_t ahead = sel ? sel[k + KTAB_AHEAD] : k + KTAB_AHEAD;
      uint64_t m = t->islots[keys->hash[ahead] & t->mask].meta;
      if (m) __builtin_prefetch(t->ints + (size_t)((uint32_t)m - 1) * w);
    }
    uint32_t r = sel ? sel[k] : k;
    uint64_t h = keys->hash[r], tag = h >> 32;
    uint32_t g = SQL_NONE;
    for (uint64_t i = h & t->mask;; i = (i + 1) & t->mask) {
      sql_kslot s = t->islots[i];
      if (!s.meta) break;
      if (ktab_islot_eq(t, s, keys, r, tag, w)) {
        g = (uint32_t)s.meta - 1;
        break;
      }
    }
    gids[r] = g;
  }
}

int sql_ktab_insert(sql_ktab *t, const sql_keys *keys, const uint32_t *sel, uint32_t n,
                    uint32_t *gids, uint8_t *is_new, tarn_error *err) {
  if (keys->n_ints != t->n_ints)
    return tarn_err(err, TARN_EINVAL, "internal error: keys of another form than the table's");
  if (t->filter) return tarn_err(err, TARN_EINVAL, "internal error: insert into a sealed table");
  if (!t->slots && !t->islots && ktab_rehash(t, 1024, err)) return TARN_ENOMEM;
  switch (t->n_ints) {
  case 0: break;
  case 1: return ktab_insert_ints(t, keys, sel, n, gids, is_new, 1, err);
  case 2: return ktab_insert_ints(t, keys, sel, n, gids, is_new, 2, err);
  default: return ktab_insert_ints(t, keys, sel, n, gids, is_new, t->n_ints, err);
  }
  for (uint32_t k = 0; k < n; k++) {
    if (k + KTAB_AHEAD < n) {
      uint32_t ahead = sel ? sel[k + KTAB_AHEAD] : k + KTAB_AHEAD;
      __builtin_prefetch(&t->slots[keys->hash[ahead] & t->mask]);
    }
    uint32_t r = sel ? sel[k] : k;
    uint64_t h = keys->hash[r];
    const uint8_t *kp = keys->bytes + keys->offset[r];
    size_t len = keys->offset[r + 1] - keys->offset[r];
    uint64_t tag = h >> 32;
    uint64_t i = h & t->mask;
    uint32_t g = SQL_NONE;
    for (;;) {
      uint64_t s = t->slots[i];
      if (!s) break;
      if ((s >> 32) == tag && ktab_key_eq(t, (uint32_t)s - 1, kp, len)) {
        g = (uint32_t)s - 1;
        break;
      }
      i = (i + 1) & t->mask;
    }
    if (is_new) is_new[r] = g == SQL_NONE;
    if (g == SQL_NONE) {
      if (ktab_grow(t, err) || ktab_add_bytes(t, kp, len, err) || ktab_place(t, h, i, &g, err))
        return TARN_ENOMEM;
    }
    gids[r] = g;
  }
  return 0;
}

/* Slot arrays above this size get a membership filter when sealed: below it the slots stay in
 * the caches and a miss costs no more than the filter would. */
#define KTAB_FILTER_MIN_BYTES ((size_t)1 << 20)

int sql_ktab_seal(sql_ktab *t, tarn_error *err) {
  size_t slot_bytes = t->islots ? sizeof *t->islots : sizeof *t->slots;
  if (t->filter || t->n == 0 || (size_t)(t->mask + 1) * slot_bytes < KTAB_FILTER_MIN_BYTES)
    return 0;
  /* One word per four keys (16 to 32 bits each): with two bits per key about 1 to 3 percent of
   * absent keys still reach the slots. */
  uint64_t words = 1;
  while (words * 4 < t->n)
    words *= 2;
  t->filter = calloc(words, sizeof *t->filter);
  if (t->filter == NULL)
    return tarn_err(err, TARN_ENOMEM, "out of memory: hash join filter of %llu words",
                    (unsigned long long)words);
  t->filter_mask = words - 1;
  for (uint32_t g = 0; g < t->n; g++)
    t->filter[sql_ktab_filter_word(t, t->hash[g])] |= sql_ktab_filter_bits(t->hash[g]);
  return 0;
}

static void ktab_lookup_slots(const sql_ktab *t, const sql_keys *keys, const uint32_t *sel,
                              uint32_t n, uint32_t *gids);

void sql_ktab_lookup(const sql_ktab *t, const sql_keys *keys, const uint32_t *sel, uint32_t n,
                     uint32_t *gids) {
  if (t->filter == NULL || keys->n_ints != t->n_ints) {
    ktab_lookup_slots(t, keys, sel, n, gids);
    return;
  }
  /* Rows whose key the filter rules out get no group here; the rest go on to the slots, a chunk
   * at a time (the filter fits the caches, the slots do not). */
  uint32_t cand[SQL_BATCH_ROWS];
  for (uint32_t k0 = 0; k0 < n; k0 += SQL_BATCH_ROWS) {
    uint32_t end = n - k0 < SQL_BATCH_ROWS ? n : k0 + SQL_BATCH_ROWS, m = 0;
    for (uint32_t k = k0; k < end; k++) {
      uint32_t r = sel ? sel[k] : k;
      uint64_t h = keys->hash[r], bits = sql_ktab_filter_bits(h);
      cand[m] = r;
      bool maybe = (t->filter[sql_ktab_filter_word(t, h)] & bits) == bits;
      m += maybe;
      if (!maybe) gids[r] = SQL_NONE;
    }
    ktab_lookup_slots(t, keys, cand, m, gids);
  }
}

static void ktab_lookup_slots(const sql_ktab *t, const sql_keys *keys, const uint32_t *sel,
                              uint32_t n, uint32_t *gids) {
  /* An empty table, or (wrongly) keys of another form: nothing matches. */
  if (t->n == 0 || keys->n_ints != t->n_ints) {
    for (uint32_t k = 0; k < n; k++)
      gids[sel ? sel[k] : k] = SQL_NONE;
    return;
  }
  switch (t->n_ints) {
  case 0: break;
  case 1: ktab_lookup_ints(t, keys, sel, n, gids, 1); return;
  case 2: ktab_lookup_ints(t, keys, sel, n, gids, 2); return;
  default: ktab_lookup_ints(t, keys, sel, n, gids, t->n_ints); return;
  }
  for (uint32_t k = 0; k < n; k++) {
    /* Two-stage prefetch: the slot of a row far ahead, then the key bytes its first slot names
     * for a row half as far ahead (by then that slot is in cache), so a probe into a table far
     * larger than the cache rarely waits on memory. */
    if (k + 2 * KTAB_AHEAD < n) {
      uint32_t ahead = sel ? sel[k + 2 * KTAB_AHEAD] : k + 2 * KTAB_AHEAD;
      __builtin_prefetch(&t->slots[keys->hash[ahead] & t->mask]);
    }
    if (k + KTAB_AHEAD < n) {
      uint32_t ahead = sel ? sel[k + KTAB_AHEAD] : k + KTAB_AHEAD;
      uint64_t s = t->slots[keys->hash[ahead] & t->mask];
      if (s) __builtin_prefetch(ktab_key_ptr(t, (uint32_t)s - 1));
    }
    uint32_t r = sel ? sel[k] : k;
    gids[r] = SQL_NONE;
    uint64_t h = keys->hash[r];
    const uint8_t *kp = keys->bytes + keys->offset[r];
    size_t len = keys->offset[r + 1] - keys->offset[r];
    uint64_t tag = h >> 32;
    for (uint64_t i = h & t->mask;; i = (i + 1) & t->mask) {
      uint64_t s = t->slots[i];
      if (!s) break;
      if ((s >> 32) == tag && ktab_key_eq(t, (uint32_t)s - 1, kp, len)) {
        gids[r] = (uint32_t)s - 1;
        break;
      }
    }
  }
}

/* --- Row store -------------------------------------------------------------------------------- */

int sql_rows_init(sql_rows *r, const sql_type *const *types, uint32_t n_cols, tarn_error *err) {
  memset(r, 0, sizeof *r);
  r->mem = sql_mem_new();
  r->cols = calloc(n_cols ? n_cols : 1, sizeof *r->cols);
  r->caps = calloc(n_cols ? n_cols : 1, sizeof *r->caps);
  if (!r->mem || !r->cols || !r->caps) {
    sql_rows_free(r);
    return tarn_err(err, TARN_ENOMEM, "out of memory");
  }
  r->n_cols = n_cols;
  for (uint32_t c = 0; c < n_cols; c++) {
    int rc = sql_vec_init(r->mem, &r->cols[c], types[c], 0, err);
    if (rc) {
      sql_rows_free(r);
      return rc;
    }
  }
  return 0;
}

int sql_rows_append(sql_rows *r, const sql_vec *cols, uint32_t from, uint32_t count,
                    tarn_error *err) {
  if (count == 0) return 0;
  if ((uint64_t)r->n + count >= UINT32_MAX)
    return tarn_err(err, TARN_ENOMEM, "out of memory: more than 4294967294 rows");
  for (uint32_t c = 0; c < r->n_cols; c++) {
    int rc = sql_vec_append(r->mem, &r->cols[c], &r->caps[c], &cols[c], from, count, err);
    if (rc) return rc;
  }
  r->n += count;
  return 0;
}

int sql_rows_append_sel(sql_rows *r, const sql_vec *cols, const uint32_t *sel, uint32_t n,
                        tarn_error *err) {
  if (n == 0) return 0;
  if (r->n_cols == 0) {
    r->n += n;
    return 0;
  }
  sql_mem *scratch = sql_mem_new();
  sql_vec *tmp = calloc(r->n_cols, sizeof *tmp);
  int rc = 0;
  if (!scratch || !tmp) rc = tarn_err(err, TARN_ENOMEM, "out of memory");
  for (uint32_t c = 0; !rc && c < r->n_cols; c++)
    rc = sql_vec_gather(scratch, &cols[c], sel, n, &tmp[c], err);
  if (!rc) rc = sql_rows_append(r, tmp, 0, n, err);
  free(tmp);
  if (scratch) sql_mem_release(scratch);
  return rc;
}

void sql_rows_free(sql_rows *r) {
  if (!r) return;
  if (r->mem) sql_mem_release(r->mem);
  free(r->cols);
  free(r->caps);
  memset(r, 0, sizeof *r);
}

size_t sql_rows_bytes(const sql_rows *r) { return r->mem ? sql_mem_bytes(r->mem) : 0; }

/* --- Key store -------------------------------------------------------------------------------- */

/* Room for n more keys of total bytes (offsets and bytes grown by doubling). */
static int keystore_room(sql_keystore *ks, size_t n, size_t total, tarn_error *err) {
  void *off = ks->off;
  if (sql_grow(&off, &ks->ncap, ks->n + n + 1, sizeof(uint64_t), err)) return TARN_ENOMEM;
  ks->off = off;
  if (ks->n == 0) ks->off[0] = 0;
  if (ks->used + total > ks->cap || !ks->bytes) { /* zero-column keys still need a base */
    size_t c = ks->cap ? ks->cap : 4096;
    while (c < ks->used + total)
      c *= 2;
    uint8_t *b = realloc(ks->bytes, c);
    if (!b) return tarn_err(err, TARN_ENOMEM, "out of memory: sort keys");
    ks->bytes = b;
    ks->cap = c;
  }
  return 0;
}

int sql_keystore_add(sql_keystore *ks, const sql_keys *keys, const uint32_t *sel, uint32_t n,
                     tarn_error *err) {
  size_t total = 0;
  for (uint32_t k = 0; k < n; k++) {
    uint32_t r = sel ? sel[k] : k;
    total += keys->offset[r + 1] - keys->offset[r];
  }
  if (keystore_room(ks, n, total, err)) return TARN_ENOMEM;
  for (uint32_t k = 0; k < n; k++) {
    uint32_t r = sel ? sel[k] : k;
    size_t len = keys->offset[r + 1] - keys->offset[r];
    if (len) memcpy(ks->bytes + ks->used, keys->bytes + keys->offset[r], len);
    ks->used += len;
    ks->off[++ks->n] = ks->used;
  }
  return 0;
}

int sql_keystore_push(sql_keystore *ks, const uint8_t *const *parts, const size_t *lens,
                      int n_parts, tarn_error *err) {
  size_t total = 0;
  for (int i = 0; i < n_parts; i++)
    total += lens[i];
  if (keystore_room(ks, 1, total, err)) return TARN_ENOMEM;
  for (int i = 0; i < n_parts; i++) {
    if (lens[i]) memcpy(ks->bytes + ks->used, parts[i], lens[i]);
    ks->used += lens[i];
  }
  ks->off[++ks->n] = ks->used;
  return 0;
}

void sql_keystore_free(sql_keystore *ks) {
  if (!ks) return;
  free(ks->bytes);
  free(ks->off);
  memset(ks, 0, sizeof *ks);
}

size_t sql_keystore_bytes(const sql_keystore *ks) {
  return ks->cap + (size_t)ks->ncap * sizeof(uint64_t);
}

int sql_keystore_cmp(const sql_keystore *ks, uint32_t a, uint32_t b) {
  size_t la = ks->off[a + 1] - ks->off[a], lb = ks->off[b + 1] - ks->off[b];
  int c = memcmp(ks->bytes + ks->off[a], ks->bytes + ks->off[b], la < lb ? la : lb);
  if (c) return c;
  return la < lb ? -1 : la > lb;
}

/* Sorting compares an 8-byte big-endian prefix of each key first, kept beside the row number so
 * that most comparisons never leave the entry array. */
typedef struct sort_entry {
  uint64_t prefix;
  uint32_t row;
} sort_entry;

static inline int entry_cmp(const sort_entry *a, const sort_entry *b, const sql_keystore *ks) {
  if (a->prefix != b->prefix) return a->prefix < b->prefix ? -1 : 1;
  int c = sql_keystore_cmp(ks, a->row, b->row);
  if (c) return c;
  return a->row < b->row ? -1 : a->row > b->row;
}

static void entry_msort(sort_entry *a, sort_entry *tmp, uint32_t n, const sql_keystore *ks) {
  if (n <= 16) {
    for (uint32_t i = 1; i < n; i++) {
      sort_entry e = a[i];
      uint32_t j = i;
      while (j > 0 && entry_cmp(&e, &a[j - 1], ks) < 0) {
        a[j] = a[j - 1];
        j--;
      }
      a[j] = e;
    }
    return;
  }
  uint32_t h = n / 2;
  entry_msort(a, tmp, h, ks);
  entry_msort(a + h, tmp + h, n - h, ks);
  if (entry_cmp(&a[h - 1], &a[h], ks) <= 0) return; /* already in order: common for sorted input */
  memcpy(tmp, a, (size_t)n * sizeof *a);
  uint32_t i = 0, j = h, k = 0;
  while (i < h && j < n)
    a[k++] = entry_cmp(&tmp[j], &tmp[i], ks) < 0 ? tmp[j++] : tmp[i++];
  while (i < h)
    a[k++] = tmp[i++];
  while (j < n)
    a[k++] = tmp[j++];
}

int sql_keystore_sort(const sql_keystore *ks, const uint32_t *rows, uint32_t n, uint32_t *out,
                      tarn_error *err) {
  if (n == 0) return 0;
  sort_entry *e = malloc((size_t)n * sizeof *e);
  sort_entry *tmp = malloc((size_t)n * sizeof *tmp);
  if (!e || !tmp) {
    free(e);
    free(tmp);
    return tarn_err(err, TARN_ENOMEM, "out of memory: sorting %u rows", n);
  }
  for (uint32_t i = 0; i < n; i++) {
    uint32_t r = rows ? rows[i] : i;
    const uint8_t *p = ks->bytes + ks->off[r];
    size_t len = ks->off[r + 1] - ks->off[r];
    uint64_t pre = 0;
    for (size_t b = 0; b < 8; b++)
      pre = pre << 8 | (b < len ? p[b] : 0);
    e[i].prefix = pre;
    e[i].row = r;
  }
  entry_msort(e, tmp, n, ks);
  for (uint32_t i = 0; i < n; i++)
    out[i] = e[i].row;
  free(e);
  free(tmp);
  return 0;
}

/* --- Vectors ---------------------------------------------------------------------------------- */

int sql_vec_all_null(sql_mem *m, const sql_type *t, uint32_t n, sql_vec *out, tarn_error *err) {
  int rc = sql_vec_init(m, out, t, n, err);
  if (rc) return rc;
  if (n == 0) return 0;
  uint8_t *nulls = sql_vec_nulls(m, out);
  if (!nulls) return tarn_err(err, TARN_ENOMEM, "out of memory");
  memset(nulls, 1, n);
  return 0;
}

int sql_gather_nullable(sql_mem *m, const sql_vec *src, const uint32_t *sel, uint32_t n,
                        sql_vec *out, tarn_error *err) {
  uint32_t none = 0;
  for (uint32_t i = 0; i < n; i++)
    none += sel[i] == SQL_NONE;
  if (!none) return sql_vec_gather(m, src, sel, n, out, err);
  if (none == n || src->n == 0) return sql_vec_all_null(m, src->type, n, out, err);
  uint32_t *s = sql_mem_alloc(m, n, sizeof *s);
  if (!s) return tarn_err(err, TARN_ENOMEM, "out of memory");
  for (uint32_t i = 0; i < n; i++)
    s[i] = sel[i] == SQL_NONE ? 0 : sel[i];
  int rc = sql_vec_gather(m, src, s, n, out, err);
  if (rc) return rc;
  uint8_t *nulls = sql_vec_nulls(m, out);
  if (!nulls) return tarn_err(err, TARN_ENOMEM, "out of memory");
  for (uint32_t i = 0; i < n; i++)
    if (sel[i] == SQL_NONE) nulls[i] = 1;
  return 0;
}

int sql_batch_slice(const sql_batch *b, uint32_t from, uint32_t n, sql_batch **out,
                    tarn_error *err) {
  uint32_t *sel = malloc((n ? n : 1) * sizeof *sel);
  if (!sel) return tarn_err(err, TARN_ENOMEM, "out of memory");
  for (uint32_t i = 0; i < n; i++)
    sel[i] = from + i;
  int rc = sql_batch_select(b, sel, n, out, err);
  free(sel);
  return rc;
}

int sql_eval_one(sql_exec_ctx *ctx, sql_mem *mem, const sql_expr *e, const sql_batch *b,
                 sql_vec *out) {
  sql_eval_ctx ectx;
  sql_exec_eval_ctx(ctx, mem, &ectx);
  int rc = sql_expr_eval(&ectx, e, b, out);
  if (rc) return rc;
  if (out->n != b->n_rows) {
    /* Operators index results by row: a constant handed back as one row is spread out. */
    if (out->n != 1)
      return tarn_err(ctx->err, TARN_EINVAL, "internal error: expression gave %u rows for %u",
                      out->n, b->n_rows);
    sql_vec one = *out;
    return sql_vec_broadcast(mem, &one, b->n_rows, out, ctx->err);
  }
  return 0;
}

int sql_eval_all(sql_exec_ctx *ctx, sql_mem *mem, sql_expr *const *exprs, size_t n,
                 const sql_batch *b, sql_vec *cols) {
  for (size_t i = 0; i < n; i++) {
    int rc = sql_eval_one(ctx, mem, exprs[i], b, &cols[i]);
    if (rc) return rc;
  }
  return 0;
}

int sql_resolve_all(sql_expr *const *exprs, size_t n, const sql_plan *p, tarn_error *err) {
  for (size_t i = 0; i < n; i++) {
    if (!exprs[i]) continue;
    int rc = sql_expr_resolve(exprs[i], p->out_ids, p->n_out, err);
    if (rc) return rc;
  }
  return 0;
}

int sql_charge_or_fail(sql_exec_ctx *ctx, int64_t bytes, const char *what) {
  if (sql_exec_charge(ctx, bytes)) return 0;
  return tarn_err(ctx->err, TARN_ENOMEM,
                  "out of memory: %s needs more than the memory limit of %lld bytes", what,
                  (long long)ctx->mem_limit);
}

/* --- Operators -------------------------------------------------------------------------------- */

int sql_xop_new(sql_exec_ctx *ctx, sql_plan *p, const sql_op_vtable *vt, size_t state_size,
                int n_children, sql_op **out) {
  *out = NULL;
  sql_op *op = calloc(1, sizeof *op);
  void *state = calloc(1, state_size ? state_size : 1);
  if (!op || !state) {
    free(op);
    free(state);
    return tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
  }
  op->vt = vt;
  op->plan = p;
  op->state = state;
  for (int i = 0; i < n_children; i++) {
    if (!p->child[i])
      return sql_xop_fail(
          op, tarn_err(ctx->err, TARN_EINVAL, "internal error: %s without input", vt->name));
    int rc = sql_exec_build(ctx, p->child[i], &op->child[i]);
    if (rc) return sql_xop_fail(op, rc);
  }
  *out = op;
  return 0;
}

int sql_xop_fail(sql_op *op, int rc) {
  if (op) {
    op->vt->close(op);
    sql_op_free(op);
  }
  return rc;
}

int sql_xop_open_children(sql_op *op, sql_exec_ctx *ctx) {
  for (int i = 0; i < 2; i++) {
    if (!op->child[i]) continue;
    int rc = op->child[i]->vt->open(op->child[i], ctx);
    if (rc) return rc;
  }
  return 0;
}

void sql_xop_close_children(sql_op *op) {
  for (int i = 0; i < 2; i++) {
    sql_op_free(op->child[i]); /* closes it too: operators free their children in close */
    op->child[i] = NULL;
  }
}

/* --- Spill files ------------------------------------------------------------------------------ */

#define SPILL_MAGIC 0x74726e53u /* "Snrt": a cheap check that reading stays in step */

int sql_spill_open(const char *dir, FILE **out, tarn_error *err) {
  if (!dir || !*dir) dir = getenv("TMPDIR");
  if (!dir || !*dir) dir = "/tmp";
  char path[4096];
  int n = snprintf(path, sizeof path, "%s/tarn-spill-XXXXXX", dir);
  if (n < 0 || (size_t)n >= sizeof path)
    return tarn_err(err, TARN_EIO, "spill directory name too long: %s", dir);
  int fd = mkstemp(path);
  if (fd < 0)
    return tarn_err(err, TARN_EIO, "cannot create a spill file in %s: %s", dir, strerror(errno));
  unlink(path); /* anonymous from now on: gone when closed */
  FILE *f = fdopen(fd, "w+b");
  if (!f) {
    close(fd);
    return tarn_err(err, TARN_EIO, "cannot open a spill file in %s: %s", dir, strerror(errno));
  }
  *out = f;
  return 0;
}

static int put(FILE *f, const void *p, size_t n, tarn_error *err) {
  if (n && fwrite(p, 1, n, f) != n)
    return tarn_err(err, TARN_EIO, "cannot write a spill file: %s", strerror(errno));
  return 0;
}

static int get(FILE *f, void *p, size_t n, tarn_error *err) {
  if (n && fread(p, 1, n, f) != n)
    return tarn_err(err, TARN_EIO, "cannot read a spill file: %s",
                    ferror(f) ? strerror(errno) : "truncated");
  return 0;
}

static size_t phys_width(sql_phys ph) {
  switch (ph) {
  case SQL_PHYS_U8: return 1;
  case SQL_PHYS_I64: return 8;
  case SQL_PHYS_F64: return 8;
  case SQL_PHYS_I128: return 16;
  case SQL_PHYS_INTERVAL: return sizeof(sql_interval);
  default: return 0;
  }
}

static int write_vec(FILE *f, const sql_vec *v, uint64_t from, uint64_t count, tarn_error *err) {
  uint8_t has_nulls = 0;
  if (v->nulls)
    for (uint64_t i = 0; i < count && !has_nulls; i++)
      has_nulls = v->nulls[from + i] != 0;
  int rc = put(f, &has_nulls, 1, err);
  if (!rc && has_nulls) rc = put(f, v->nulls + from, count, err);
  if (rc) return rc;
  sql_phys ph = sql_type_phys(v->type->id);
  size_t w = phys_width(ph);
  if (w) return put(f, (const uint8_t *)v->data + from * w, count * w, err);
  if (ph == SQL_PHYS_STR) {
    const sql_str *s = SQL_VEC_STR(v);
    for (uint64_t i = 0; i < count && !rc; i++) {
      uint64_t len = SQL_VEC_IS_NULL(v, from + i) ? 0 : s[from + i].len;
      rc = put(f, &len, sizeof len, err);
    }
    for (uint64_t i = 0; i < count && !rc; i++)
      if (!SQL_VEC_IS_NULL(v, from + i)) rc = put(f, s[from + i].ptr, s[from + i].len, err);
    return rc;
  }
  if (ph == SQL_PHYS_LIST) {
    int64_t base = v->offsets[from];
    for (uint64_t i = 0; i <= count && !rc; i++) {
      int64_t o = v->offsets[from + i] - base;
      rc = put(f, &o, sizeof o, err);
    }
    if (rc) return rc;
    return write_vec(f, v->child, (uint64_t)base, (uint64_t)(v->offsets[from + count] - base), err);
  }
  if (ph == SQL_PHYS_STRUCT) {
    for (size_t c = 0; c < v->type->n_fields && !rc; c++)
      rc = write_vec(f, &v->child[c], from, count, err);
    return rc;
  }
  return 0; /* SQL_PHYS_NONE */
}

int sql_spill_write(FILE *f, const sql_batch *b, tarn_error *err) {
  uint32_t head[3] = {SPILL_MAGIC, b->n_rows, b->n_cols};
  int rc = put(f, head, sizeof head, err);
  for (uint32_t c = 0; c < b->n_cols && !rc; c++)
    rc = write_vec(f, &b->cols[c], 0, b->n_rows, err);
  return rc;
}

static int read_vec(FILE *f, sql_mem *m, const sql_type *t, uint32_t count, sql_vec *out,
                    tarn_error *err) {
  int rc = sql_vec_init(m, out, t, count, err);
  if (rc) return rc;
  uint8_t has_nulls;
  if ((rc = get(f, &has_nulls, 1, err))) return rc;
  if (has_nulls) {
    uint8_t *nulls = sql_vec_nulls(m, out);
    if (!nulls && count) return tarn_err(err, TARN_ENOMEM, "out of memory");
    if ((rc = get(f, nulls, count, err))) return rc;
  }
  sql_phys ph = sql_type_phys(t->id);
  size_t w = phys_width(ph);
  if (w) return get(f, out->data, (size_t)count * w, err);
  if (ph == SQL_PHYS_STR) {
    uint64_t *lens = sql_mem_alloc(m, count ? count : 1, sizeof *lens);
    if (!lens) return tarn_err(err, TARN_ENOMEM, "out of memory");
    if ((rc = get(f, lens, (size_t)count * sizeof *lens, err))) return rc;
    uint64_t total = 0;
    for (uint32_t i = 0; i < count; i++)
      total += lens[i];
    if (total > TARN_ARENA_MAX) return tarn_err(err, TARN_ECORRUPT, "corrupt spill file");
    char *bytes = sql_mem_alloc(m, total ? total : 1, 1);
    if (!bytes) return tarn_err(err, TARN_ENOMEM, "out of memory");
    if ((rc = get(f, bytes, total, err))) return rc;
    sql_str *s = SQL_VEC_STR(out);
    for (uint32_t i = 0; i < count; i++) {
      s[i].ptr = bytes;
      s[i].len = lens[i];
      bytes += lens[i];
    }
    return 0;
  }
  if (ph == SQL_PHYS_LIST) {
    if ((rc = get(f, out->offsets, ((size_t)count + 1) * sizeof(int64_t), err))) return rc;
    int64_t n_child = out->offsets[count];
    if (n_child < 0 || n_child >= UINT32_MAX)
      return tarn_err(err, TARN_ECORRUPT, "corrupt spill file");
    return read_vec(f, m, t->elem, (uint32_t)n_child, out->child, err);
  }
  if (ph == SQL_PHYS_STRUCT) {
    for (size_t c = 0; c < t->n_fields && !rc; c++)
      rc = read_vec(f, m, t->fields[c].type, count, &out->child[c], err);
    return rc;
  }
  return 0;
}

int sql_spill_read(FILE *f, const sql_type *const *types, uint32_t n_cols, sql_batch **out,
                   tarn_error *err) {
  *out = NULL;
  uint32_t head[3];
  size_t got = fread(head, 1, sizeof head, f);
  if (got == 0 && feof(f)) return 0;
  if (got != sizeof head || head[0] != SPILL_MAGIC || head[2] != n_cols)
    return tarn_err(err, TARN_ECORRUPT, "corrupt spill file");
  sql_batch *b;
  int rc = sql_batch_new(n_cols, head[1], &b, err);
  if (rc) return rc;
  for (uint32_t c = 0; c < n_cols && !rc; c++)
    rc = read_vec(f, b->mem, types[c], head[1], &b->cols[c], err);
  if (rc) {
    sql_batch_free(b);
    return rc;
  }
  *out = b;
  return 0;
}
