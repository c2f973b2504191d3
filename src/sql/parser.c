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

int sql_parse(const char *sql, sql_parsed *out, tarn_error *err) {
  memset(out, 0, sizeof *out);
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
  return rc;
}

void sql_parsed_free(sql_parsed *p) {
  if (p == NULL || p->tree == NULL) return;
  pg_query__parse_result__free_unpacked(p->tree, NULL);
  p->tree = NULL;
}
