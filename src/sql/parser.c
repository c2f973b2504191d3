#include "sql/parser.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/error.h"

/* Line and column (both from 1) of the 1-based character position pos in sql. */
static void line_column(const char *sql, int pos, int *line, int *column) {
  *line = 1;
  *column = 1;
  for (int i = 0; sql[i] && i < pos - 1; i++) {
    if (sql[i] == '\n') {
      (*line)++;
      *column = 1;
    } else if (((unsigned char)sql[i] & 0xc0) != 0x80) {
      (*column)++; /* count characters, not UTF-8 continuation bytes */
    }
  }
}

/* PostgreSQL 16's grammar (libpg_query's) lacks PostgreSQL 17's MERGE clauses WHEN NOT MATCHED
 * BY SOURCE and WHEN NOT MATCHED BY TARGET. The text is rewritten before parsing: BY TARGET is
 * dropped (it means plain NOT MATCHED), and NOT MATCHED BY SOURCE [AND cond] THEN becomes
 * MATCHED AND <marker column> [AND (cond)] THEN, which the binder recognises and takes out
 * (binder.c, bind_merge). The condition is parenthesised so that an OR in it stays inside it;
 * its end is the first THEN outside parentheses and CASE ... END. Quoted strings, quoted
 * identifiers and comments are left alone. Returns NULL when nothing was rewritten. */
static char *rewrite_merge_clauses(const char *sql) {
  static const char *const words[] = {"when", "not", "matched", "by"};
  size_t len = strlen(sql), copied = 0, when_at = 0;
  tarn_buf out = {0};
  bool rewrote = false, ok = true;
  int n_words = 0; /* how many words of the sequence came in a row */
  int cond = 0;    /* 1: after a rewritten BY SOURCE; 2: inside its (cond) */
  int depth = 0;   /* parentheses and CASE ... END inside the condition */
  for (size_t i = 0; i < len && ok;) {
    char c = sql[i];
    if (c == '\'' || c == '"') { /* a quoted string or identifier ('' and "" escape) */
      size_t j = i + 1;
      while (j < len && !(sql[j] == c && (j + 1 >= len || sql[j + 1] != c)))
        j += sql[j] == c ? 2 : 1;
      i = j < len ? j + 1 : len;
      n_words = 0;
      continue;
    }
    if (c == '-' && i + 1 < len && sql[i + 1] == '-') {
      while (i < len && sql[i] != '\n')
        i++;
      continue;
    }
    if (c == '/' && i + 1 < len && sql[i + 1] == '*') {
      const char *end = strstr(sql + i + 2, "*/");
      i = end ? (size_t)(end - sql) + 2 : len;
      continue;
    }
    if (!(isalpha((unsigned char)c) || c == '_')) {
      if (cond == 2 && c == '(') depth++;
      if (cond == 2 && c == ')') depth--;
      if (!isspace((unsigned char)c)) n_words = 0;
      i++;
      continue;
    }
    size_t j = i;
    while (j < len && (isalnum((unsigned char)sql[j]) || sql[j] == '_' || sql[j] == '$'))
      j++;
    size_t wl = j - i;
#define IS_WORD(w) (wl == sizeof(w) - 1 && strncasecmp(sql + i, w, wl) == 0)
    if (cond == 1) { /* the word after BY SOURCE: AND opens the condition, else none */
      if (IS_WORD("and")) {
        ok = tarn_buf_append(&out, sql + copied, j - copied, NULL) == 0 &&
             tarn_buf_puts(&out, " (", NULL) == 0;
        copied = j;
        cond = 2;
        depth = 0;
      } else {
        cond = 0;
      }
    } else if (cond == 2) {
      if (IS_WORD("case")) depth++;
      if (IS_WORD("end")) depth--;
      if (IS_WORD("then") && depth <= 0) {
        ok = tarn_buf_append(&out, sql + copied, i - copied, NULL) == 0 &&
             tarn_buf_puts(&out, ") ", NULL) == 0;
        copied = i;
        cond = 0;
      }
    }
    if (n_words == 4 && (IS_WORD("source") || IS_WORD("target"))) {
      bool source = IS_WORD("source");
      ok = tarn_buf_append(&out, sql + copied, when_at - copied, NULL) == 0 &&
           tarn_buf_puts(&out,
                         source ? "WHEN MATCHED AND __tarn_not_matched_by_source__"
                                : "WHEN NOT MATCHED",
                         NULL) == 0;
      copied = j;
      rewrote = true;
      n_words = 0;
      cond = source ? 1 : 0;
    } else if (n_words < 4 && wl == strlen(words[n_words]) &&
               strncasecmp(sql + i, words[n_words], wl) == 0) {
      if (n_words++ == 0) when_at = i;
    } else if (IS_WORD("when")) {
      n_words = 1;
      when_at = i;
    } else {
      n_words = 0;
    }
#undef IS_WORD
    i = j;
  }
  /* A condition never closed (no THEN): close it at the end; the parser reports the rest. */
  if (ok && cond == 2) {
    ok = tarn_buf_append(&out, sql + copied, len - copied, NULL) == 0 &&
         tarn_buf_puts(&out, ")", NULL) == 0;
    copied = len;
  }
  if (!ok || !rewrote || tarn_buf_append(&out, sql + copied, len - copied + 1, NULL)) {
    tarn_buf_free(&out);
    return NULL;
  }
  return (char *)tarn_buf_steal(&out);
}

/* The end of the quoted string, quoted identifier or comment starting at sql[i], or i when none
 * starts there. */
static size_t skip_quoted(const char *sql, size_t len, size_t i) {
  char c = sql[i];
  if (c == '\'' || c == '"') {
    size_t j = i + 1;
    while (j < len && !(sql[j] == c && (j + 1 >= len || sql[j + 1] != c)))
      j += sql[j] == c ? 2 : 1;
    return j < len ? j + 1 : len;
  }
  if (c == '-' && i + 1 < len && sql[i + 1] == '-') {
    while (i < len && sql[i] != '\n')
      i++;
    return i;
  }
  if (c == '/' && i + 1 < len && sql[i + 1] == '*') {
    const char *end = strstr(sql + i + 2, "*/");
    return end ? (size_t)(end - sql) + 2 : len;
  }
  return i;
}

/* The next token of sql from i on (whitespace and comments skipped): *start and the end it
 * returns; a word, a quoted name or one other character. */
static size_t next_token(const char *sql, size_t len, size_t i, size_t *start) {
  for (;;) {
    while (i < len && isspace((unsigned char)sql[i]))
      i++;
    size_t j = i < len && (sql[i] == '-' || sql[i] == '/') ? skip_quoted(sql, len, i) : i;
    if (j == i) break;
    i = j;
  }
  *start = i;
  if (i >= len) return i;
  if (sql[i] == '"' || sql[i] == '\'') return skip_quoted(sql, len, i);
  if (!(isalpha((unsigned char)sql[i]) || sql[i] == '_')) return i + 1;
  size_t j = i;
  while (j < len && (isalnum((unsigned char)sql[j]) || sql[j] == '_' || sql[j] == '$'))
    j++;
  return j;
}

static bool token_is(const char *sql, size_t start, size_t end, const char *word) {
  return end - start == strlen(word) && strncasecmp(sql + start, word, end - start) == 0;
}

/* Delta's ways of replacing data, which PostgreSQL's grammar lacks:
 *   INSERT OVERWRITE [TABLE] t query                  (Spark: replace every row)
 *   INSERT INTO t REPLACE WHERE condition query       (Delta: replace the rows matching it)
 * become one MERGE each, which commits the deletion and the new rows together:
 *   MERGE INTO t USING (query) AS __tarn_overwrite__ | __tarn_replace__ ON false
 *   WHEN NOT MATCHED THEN INSERT DEFAULT VALUES
 *   WHEN NOT MATCHED BY SOURCE [AND (condition)] THEN DELETE
 * The binder (bind_merge) recognises the source's name: the query's columns are the table's in
 * order, and the statement is reported as an overwrite. The condition ends at the first SELECT,
 * VALUES, WITH or TABLE outside parentheses. Returns NULL when nothing was rewritten. */
static char *rewrite_overwrite(const char *sql) {
  size_t len = strlen(sql), copied = 0;
  tarn_buf out = {0};
  bool rewrote = false, ok = true, stmt_start = true;
  for (size_t i = 0; i < len && ok;) {
    size_t q = skip_quoted(sql, len, i);
    if (q != i) {
      i = q;
      continue;
    }
    if (isspace((unsigned char)sql[i])) {
      i++;
      continue;
    }
    if (sql[i] == ';') {
      stmt_start = true;
      i++;
      continue;
    }
    size_t t0, t1 = next_token(sql, len, i, &t0);
    if (!stmt_start || !token_is(sql, t0, t1, "insert")) {
      stmt_start = false;
      i = t1;
      continue;
    }
    stmt_start = false;
    size_t a0, a1 = next_token(sql, len, t1, &a0);
    bool overwrite = token_is(sql, a0, a1, "overwrite");
    if (!overwrite && !token_is(sql, a0, a1, "into")) {
      i = t1;
      continue;
    }
    size_t n0, n1 = next_token(sql, len, a1, &n0);
    if (overwrite && token_is(sql, n0, n1, "table")) n1 = next_token(sql, len, n1, &n0);
    size_t name_start = n0, name_end = n1;
    for (;;) { /* a qualified name: name.name... */
      size_t d0, d1 = next_token(sql, len, name_end, &d0);
      if (d1 != d0 + 1 || sql[d0] != '.') break;
      name_end = next_token(sql, len, d1, &d0);
    }
    size_t cond_start = name_end, cond_end = name_end;
    /* INSERT OVERWRITE t PARTITION (p = v, q): static values become the inserted constants and
     * the condition; columns without a value (dynamic) come from the query like the others. */
    tarn_buf part_cols = {0}, part_vals = {0}, part_cond = {0};
    bool bad_spec = false;
    if (overwrite) {
      size_t p0, p1 = next_token(sql, len, name_end, &p0), o0, o1 = next_token(sql, len, p1, &o0);
      if (token_is(sql, p0, p1, "partition") && o1 == o0 + 1 && sql[o0] == '(') {
        size_t k = o1;
        for (;;) {
          size_t c0, c1 = next_token(sql, len, k, &c0), e0, e1 = next_token(sql, len, c1, &e0);
          if (c0 >= len || !(isalpha((unsigned char)sql[c0]) || sql[c0] == '_' || sql[c0] == '"')) {
            bad_spec = true; /* no column name: left for the parser to report */
            break;
          }
          size_t v_start = e1, v_end = e1, next = e1;
          bool has_value = e1 == e0 + 1 && sql[e0] == '=';
          if (has_value) { /* the value: tokens up to ',' or ')' outside parentheses */
            int depth = 0;
            for (size_t m = e1; m < len;) {
              size_t x0, x1 = next_token(sql, len, m, &x0);
              if (x0 >= len) break;
              if (depth == 0 && (sql[x0] == ',' || sql[x0] == ')')) {
                e0 = x0;
                e1 = x1;
                break;
              }
              if (sql[x0] == '(') depth++;
              if (sql[x0] == ')') depth--;
              if (v_end == v_start) v_start = x0; /* the value's first token */
              v_end = m = x1;
            }
            next = e1;
            if (v_end == v_start) bad_spec = true;
          } else {
            next = e1;
          }
          if (bad_spec || !(e1 == e0 + 1 && (sql[e0] == ',' || sql[e0] == ')'))) {
            bad_spec = true;
            break;
          }
          if (has_value) {
            bool is_null = token_is(sql, v_start, v_end, "null");
            bool first = part_cols.len == 0;
            ok = ok && (first || (tarn_buf_puts(&part_cols, ", ", NULL) == 0 &&
                                  tarn_buf_puts(&part_vals, ", ", NULL) == 0 &&
                                  tarn_buf_puts(&part_cond, " AND ", NULL) == 0));
            ok = ok && tarn_buf_append(&part_cols, sql + c0, c1 - c0, NULL) == 0 &&
                 tarn_buf_append(&part_vals, sql + v_start, v_end - v_start, NULL) == 0 &&
                 tarn_buf_append(&part_cond, sql + c0, c1 - c0, NULL) == 0 &&
                 (is_null
                      ? tarn_buf_puts(&part_cond, " IS NULL", NULL) == 0
                      : (tarn_buf_puts(&part_cond, " = (", NULL) == 0 &&
                         tarn_buf_append(&part_cond, sql + v_start, v_end - v_start, NULL) == 0 &&
                         tarn_buf_puts(&part_cond, ")", NULL) == 0));
          }
          k = next;
          if (sql[e0] == ')') break;
        }
        if (!bad_spec) cond_start = cond_end = k;
      }
    }
    if (bad_spec) {
      tarn_buf_free(&part_cols);
      tarn_buf_free(&part_vals);
      tarn_buf_free(&part_cond);
      i = t1;
      continue;
    }
    if (!overwrite) {
      size_t r0, r1 = next_token(sql, len, name_end, &r0), w0, w1 = next_token(sql, len, r1, &w0);
      if (!token_is(sql, r0, r1, "replace") || !token_is(sql, w0, w1, "where")) {
        i = t1;
        continue;
      }
      cond_start = cond_end = w1;
      int depth = 0;
      for (size_t k = w1; k < len;) {
        size_t c0, c1 = next_token(sql, len, k, &c0);
        if (c0 >= len || (depth == 0 && sql[c0] == ';')) break;
        if (sql[c0] == '(') depth++;
        if (sql[c0] == ')') depth--;
        if (depth == 0 && (token_is(sql, c0, c1, "select") || token_is(sql, c0, c1, "values") ||
                           token_is(sql, c0, c1, "with") || token_is(sql, c0, c1, "table")))
          break;
        cond_end = k = c1;
      }
    }
    /* the query: up to the statement's end */
    size_t query_start = cond_end, query_end = cond_end;
    int depth = 0;
    for (size_t k = query_start; k < len;) {
      size_t c0, c1 = next_token(sql, len, k, &c0);
      if (c0 >= len || (depth == 0 && sql[c0] == ';')) break;
      if (sql[c0] == '(') depth++;
      if (sql[c0] == ')') depth--;
      query_end = k = c1;
    }
    ok = tarn_buf_append(&out, sql + copied, t0 - copied, NULL) == 0 &&
         tarn_buf_puts(&out, "MERGE INTO ", NULL) == 0 &&
         tarn_buf_append(&out, sql + name_start, name_end - name_start, NULL) == 0 &&
         tarn_buf_puts(&out, " USING (", NULL) == 0 &&
         tarn_buf_append(&out, sql + query_start, query_end - query_start, NULL) == 0 &&
         tarn_buf_puts(&out, overwrite ? ") AS __tarn_overwrite__" : ") AS __tarn_replace__",
                       NULL) == 0 &&
         tarn_buf_puts(&out, " ON false WHEN NOT MATCHED THEN INSERT ", NULL) == 0;
    if (ok && part_cols.len)
      ok = tarn_buf_puts(&out, "(", NULL) == 0 &&
           tarn_buf_append(&out, part_cols.data, part_cols.len, NULL) == 0 &&
           tarn_buf_puts(&out, ") VALUES (", NULL) == 0 &&
           tarn_buf_append(&out, part_vals.data, part_vals.len, NULL) == 0 &&
           tarn_buf_puts(&out, ")", NULL) == 0;
    else if (ok)
      ok = tarn_buf_puts(&out, "DEFAULT VALUES", NULL) == 0;
    ok = ok && tarn_buf_puts(&out, " WHEN NOT MATCHED BY SOURCE", NULL) == 0;
    if (ok && part_cond.len)
      ok = tarn_buf_puts(&out, " AND (", NULL) == 0 &&
           tarn_buf_append(&out, part_cond.data, part_cond.len, NULL) == 0 &&
           tarn_buf_puts(&out, ")", NULL) == 0;
    tarn_buf_free(&part_cols);
    tarn_buf_free(&part_vals);
    tarn_buf_free(&part_cond);
    if (ok && !overwrite)
      ok = tarn_buf_puts(&out, " AND (", NULL) == 0 &&
           tarn_buf_append(&out, sql + cond_start, cond_end - cond_start, NULL) == 0 &&
           tarn_buf_puts(&out, ")", NULL) == 0;
    ok = ok && tarn_buf_puts(&out, " THEN DELETE", NULL) == 0;
    copied = i = query_end;
    rewrote = true;
  }
  if (!ok || !rewrote || tarn_buf_append(&out, sql + copied, len - copied + 1, NULL)) {
    tarn_buf_free(&out);
    return NULL;
  }
  return (char *)tarn_buf_steal(&out);
}

/* Spark's MERGE shorthands `UPDATE SET *` (every target column from the source column of the
 * same name) and `INSERT *` (the same for a new row) are not PostgreSQL grammar: they become
 * `UPDATE SET __tarn_all__ = DEFAULT` and `INSERT (__tarn_all__) VALUES (DEFAULT)`, which the
 * binder expands (bind_merge). Quoted text and comments are left alone. NULL: nothing
 * rewritten. */
static char *rewrite_merge_stars(const char *sql) {
  size_t len = strlen(sql), copied = 0;
  tarn_buf out = {0};
  bool rewrote = false, ok = true;
  for (size_t i = 0; i < len && ok;) {
    size_t q = skip_quoted(sql, len, i);
    if (q != i || isspace((unsigned char)sql[i])) {
      i = q != i ? q : i + 1;
      continue;
    }
    size_t t0, t1 = next_token(sql, len, i, &t0);
    bool update = token_is(sql, t0, t1, "update"), insert = token_is(sql, t0, t1, "insert");
    if (!update && !insert) {
      i = t1;
      continue;
    }
    size_t a0, a1 = next_token(sql, len, t1, &a0), star = a0, end = a1;
    if (update) {
      if (!token_is(sql, a0, a1, "set")) {
        i = t1;
        continue;
      }
      end = next_token(sql, len, a1, &star);
    }
    if (!(star < len && sql[star] == '*' && end == star + 1)) {
      i = t1;
      continue;
    }
    ok = tarn_buf_append(&out, sql + copied, t0 - copied, NULL) == 0 &&
         tarn_buf_puts(&out,
                       update ? "UPDATE SET __tarn_all__ = DEFAULT"
                              : "INSERT (__tarn_all__) VALUES (DEFAULT)",
                       NULL) == 0;
    copied = i = end;
    rewrote = true;
  }
  if (!ok || !rewrote || tarn_buf_append(&out, sql + copied, len - copied + 1, NULL)) {
    tarn_buf_free(&out);
    return NULL;
  }
  return (char *)tarn_buf_steal(&out);
}

int sql_parse(const char *sql, sql_parsed *out, tarn_error *err) {
  memset(out, 0, sizeof *out);
  char *starred = rewrite_merge_stars(sql);
  if (starred) sql = starred;
  char *replaced = rewrite_overwrite(sql);
  if (replaced) sql = replaced;
  char *rewritten = rewrite_merge_clauses(sql);
  if (rewritten) sql = rewritten;
  PgQueryProtobufParseResult r = pg_query_parse_protobuf(sql);
  int rc = 0;
  if (r.error) {
    int line, column;
    if (r.error->cursorpos > 0) {
      line_column(sql, r.error->cursorpos, &line, &column);
      rc = tarn_err(err, TARN_EINVAL, "%s (line %d, column %d)", r.error->message, line, column);
    } else {
      rc = tarn_err(err, TARN_EINVAL, "%s", r.error->message);
    }
  } else {
    out->tree =
        pg_query__parse_result__unpack(NULL, r.parse_tree.len, (const uint8_t *)r.parse_tree.data);
    if (out->tree == NULL) rc = tarn_err(err, TARN_ENOMEM, "cannot unpack the parse tree");
  }
  pg_query_free_protobuf_parse_result(r);
  free(rewritten);
  free(replaced);
  free(starred);
  return rc;
}

void sql_parsed_free(sql_parsed *p) {
  if (p == NULL || p->tree == NULL) return;
  pg_query__parse_result__free_unpacked(p->tree, NULL);
  p->tree = NULL;
}
