/*
 * UNION, INTERSECT and EXCEPT, with and without ALL.
 *
 * Rows are compared as whole-row keys (keys.h), under which NULLs are equal to each other, as
 * set operations require. UNION ALL streams both inputs; UNION streams them through a hash table
 * and passes each row whose key is new. INTERSECT and EXCEPT first read the right input and count
 * its rows per key, then stream the left input: SQL's bag semantics fall out of the counts
 * (INTERSECT ALL passes a left row while its key's right count lasts, decrementing it; EXCEPT ALL
 * passes a left row once the right count is used up), and the distinct forms pass the first left
 * row of a key that qualifies. Output rows keep the left input's order.
 */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "sql/exec_util.h"

typedef struct setop_state {
  sql_exec_ctx *ctx;
  sql_ktab kt;
  int64_t *cnt;     /* per group: rows of the right input not yet used */
  uint8_t *emitted; /* per group: a row was passed (distinct forms) */
  uint32_t cap;
  int side; /* child being streamed */
  bool right_done;
  int64_t charged;
} setop_state;

static int setop_account(setop_state *s, sql_exec_ctx *ctx) {
  int64_t total = (int64_t)sql_ktab_bytes(&s->kt) + (int64_t)s->cap * 9;
  if (total <= s->charged) return 0;
  int rc = sql_charge_or_fail(ctx, total - s->charged, "the set operation");
  if (!rc) s->charged = total;
  return rc;
}

/* Groups rows of b; gids[i] receives row i's group, is_new whether it created the group. */
static int setop_group(setop_state *s, sql_exec_ctx *ctx, const sql_batch *b, uint32_t *gids,
                       uint8_t *is_new) {
  sql_mem *scratch = sql_mem_new();
  sql_vec **cols = calloc(b->n_cols ? b->n_cols : 1, sizeof *cols);
  int rc = 0;
  if (!scratch || !cols) rc = tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
  for (uint32_t c = 0; !rc && c < b->n_cols; c++)
    cols[c] = &b->cols[c];
  sql_keys keys;
  if (!rc) rc = sql_keys_encode(scratch, cols, NULL, b->n_cols, b->n_rows, &keys, ctx->err);
  uint32_t old = s->kt.n;
  if (!rc) rc = sql_ktab_insert(&s->kt, &keys, NULL, b->n_rows, gids, is_new, ctx->err);
  if (!rc && s->kt.n > s->cap) {
    uint32_t cap = s->cap;
    void *c = s->cnt;
    rc = sql_grow(&c, &cap, s->kt.n, sizeof(int64_t), ctx->err);
    s->cnt = c;
    if (!rc) {
      uint8_t *e = realloc(s->emitted, cap);
      if (!e)
        rc = tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
      else
        s->emitted = e;
    }
    if (!rc) s->cap = cap;
  }
  if (!rc)
    for (uint32_t g = old; g < s->kt.n; g++) {
      s->cnt[g] = 0;
      s->emitted[g] = 0;
    }
  free(cols);
  if (scratch) sql_mem_release(scratch);
  return rc ? rc : setop_account(s, ctx);
}

static int setop_consume_right(sql_op *op, sql_exec_ctx *ctx) {
  setop_state *s = op->state;
  uint32_t *gids = malloc(SQL_BATCH_ROWS * sizeof *gids);
  uint32_t cap = SQL_BATCH_ROWS;
  int rc = gids ? 0 : tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
  while (!rc) {
    sql_batch *in;
    rc = op->child[1]->vt->next(op->child[1], ctx, &in);
    if (rc || !in) break;
    if (in->n_rows > cap) {
      void *g = gids;
      rc = sql_grow(&g, &cap, in->n_rows, sizeof *gids, ctx->err);
      gids = g;
    }
    if (!rc) rc = setop_group(s, ctx, in, gids, NULL);
    for (uint32_t i = 0; !rc && i < in->n_rows; i++)
      s->cnt[gids[i]]++;
    sql_batch_free(in);
  }
  free(gids);
  return rc;
}

static int setop_next(sql_op *op, sql_exec_ctx *ctx, sql_batch **out) {
  setop_state *s = op->state;
  sql_plan *p = op->plan;
  *out = NULL;
  if (p->setop != SQL_SET_UNION && !s->right_done) {
    int rc = setop_consume_right(op, ctx);
    if (rc) return rc;
    s->right_done = true;
  }
  for (;;) {
    if (s->side > 1 || (s->side == 1 && p->setop != SQL_SET_UNION)) return 0;
    sql_batch *in;
    int rc = op->child[s->side]->vt->next(op->child[s->side], ctx, &in);
    if (rc) return rc;
    if (!in) {
      s->side++;
      continue;
    }
    uint32_t n = in->n_rows;
    if (n == 0 || (p->setop == SQL_SET_UNION && p->set_all)) {
      if (n) {
        *out = in;
        return 0;
      }
      sql_batch_free(in);
      continue;
    }
    uint32_t *gids = malloc(n * sizeof *gids), *sel = malloc(n * sizeof *sel);
    uint8_t *is_new = malloc(n);
    if (!gids || !sel || !is_new) rc = tarn_err(ctx->err, TARN_ENOMEM, "out of memory");
    if (!rc) rc = setop_group(s, ctx, in, gids, is_new);
    uint32_t m = 0;
    for (uint32_t i = 0; !rc && i < n; i++) {
      uint32_t g = gids[i];
      bool pass;
      switch (p->setop) {
      case SQL_SET_UNION: pass = is_new[i]; break;
      case SQL_SET_INTERSECT:
        if (p->set_all) {
          pass = s->cnt[g] > 0;
          if (pass) s->cnt[g]--;
        } else {
          pass = s->cnt[g] > 0 && !s->emitted[g];
          if (pass) s->emitted[g] = 1;
        }
        break;
      default: /* EXCEPT */
        if (p->set_all) {
          pass = s->cnt[g] == 0;
          if (!pass) s->cnt[g]--;
        } else {
          pass = s->cnt[g] == 0 && !s->emitted[g];
          if (pass) s->emitted[g] = 1;
        }
      }
      if (pass) sel[m++] = i;
    }
    if (!rc && m == n) {
      *out = in;
      in = NULL;
    } else if (!rc && m > 0) {
      rc = sql_batch_select(in, sel, m, out, ctx->err);
    }
    free(gids);
    free(sel);
    free(is_new);
    sql_batch_free(in);
    if (rc || *out) return rc;
  }
}

static int setop_open(sql_op *op, sql_exec_ctx *ctx) {
  setop_state *s = op->state;
  s->ctx = ctx;
  return sql_xop_open_children(op, ctx);
}

static void setop_close(sql_op *op) {
  setop_state *s = op->state;
  if (!s) return;
  sql_xop_close_children(op);
  sql_ktab_free(&s->kt);
  free(s->cnt);
  free(s->emitted);
  if (s->ctx && s->charged) sql_exec_charge(s->ctx, -s->charged);
  free(s);
  op->state = NULL;
}

static const sql_op_vtable setop_vt = {"setop", setop_open, setop_next, setop_close};

int sql_op_setop(sql_exec_ctx *ctx, sql_plan *p, sql_op **out) {
  int rc = sql_xop_new(ctx, p, &setop_vt, sizeof(setop_state), 2, out);
  if (rc) return rc;
  if (p->child[0]->n_out != p->n_out || p->child[1]->n_out != p->n_out)
    return sql_xop_fail(*out, tarn_err(ctx->err, TARN_EINVAL,
                                       "internal error: set operation inputs of different widths"));
  return 0;
}
