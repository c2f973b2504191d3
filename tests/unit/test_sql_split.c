/*
 * Statement boundaries (src/sql/split.c): where the shell cuts the text it reads into statements,
 * checked on each kind of quoting PostgreSQL has, on nesting, and on text cut off in the middle
 * of a quote or comment (as the shell sees it while a statement is typed line by line); then
 * against libpg_query's own scanner on random texts made of the tricky tokens.
 */
#include <pg_query.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "sql/split.h"

/* Length of the first statement of a NUL-terminated text. */
static size_t split(const char *text) { return tarn_sql_split(text, strlen(text)); }

static size_t blank(const char *text) { return tarn_sql_skip_blank(text, strlen(text)); }

/* The first statement of text, without its ';', as a string ("" when there is none). */
static const char *first(const char *text) {
  static char out[256];
  size_t n = split(text);
  if (n == 0) return "";
  memcpy(out, text, n - 1);
  out[n - 1] = '\0';
  return out;
}

static void test_plain(void) {
  CHECK_EQ_INT(split(""), 0);
  CHECK_EQ_INT(split(";"), 1);
  CHECK_EQ_INT(split("SELECT 1"), 0);
  CHECK_EQ_STR(first("SELECT 1; SELECT 2;"), "SELECT 1");
  CHECK_EQ_STR(first("SELECT 1\n  , 2\nFROM t;\n"), "SELECT 1\n  , 2\nFROM t");
  /* the length covers the ';', so the next statement starts right after it */
  const char *two = "SELECT 1;SELECT 2;";
  size_t n = split(two);
  CHECK_EQ_INT(n, 9);
  CHECK_EQ_INT(tarn_sql_split(two + n, strlen(two + n)), 9);
  /* only len bytes are looked at */
  CHECK_EQ_INT(tarn_sql_split("SELECT 1; x", 8), 0);
}

static void test_strings(void) {
  CHECK_EQ_STR(first("SELECT 'a;b';"), "SELECT 'a;b'");
  CHECK_EQ_STR(first("SELECT 'it''s;' AS x; SELECT 2;"), "SELECT 'it''s;' AS x");
  CHECK_EQ_STR(first("SELECT '';"), "SELECT ''");
  CHECK_EQ_STR(first("SELECT '''';"), "SELECT ''''");
  /* standard strings: a backslash is an ordinary character */
  CHECK_EQ_STR(first("SELECT 'a\\'; SELECT 2;"), "SELECT 'a\\'");
  /* E'' strings: backslash escapes the quote */
  CHECK_EQ_STR(first("SELECT E'a\\';b'; SELECT 2;"), "SELECT E'a\\';b'");
  CHECK_EQ_STR(first("SELECT e'\\\\'; SELECT 2;"), "SELECT e'\\\\'");
  /* an E ending an identifier does not make an E'' string */
  CHECK_EQ_STR(first("SELECT name'a\\'; SELECT 2;"), "SELECT name'a\\'");
  /* unterminated: no statement yet, whatever follows */
  CHECK_EQ_INT(split("SELECT 'abc;"), 0);
  CHECK_EQ_INT(split("SELECT 'abc;\n"), 0);
  CHECK_EQ_INT(split("SELECT E'\\';"), 0);
}

static void test_identifiers(void) {
  CHECK_EQ_STR(first("SELECT 1 AS \"a;b\";"), "SELECT 1 AS \"a;b\"");
  CHECK_EQ_STR(first("SELECT 1 AS \"a\"\";\"; SELECT 2;"), "SELECT 1 AS \"a\"\";\"");
  CHECK_EQ_STR(first("SELECT 1 AS \"it's\"; SELECT 2;"), "SELECT 1 AS \"it's\"");
  CHECK_EQ_INT(split("SELECT 1 AS \"a;"), 0);
}

static void test_comments(void) {
  CHECK_EQ_STR(first("SELECT 1 -- one; two\n, 2;"), "SELECT 1 -- one; two\n, 2");
  CHECK_EQ_INT(split("SELECT 1 -- one;"), 0);
  CHECK_EQ_STR(first("SELECT /* ; */ 1;"), "SELECT /* ; */ 1");
  /* block comments nest */
  CHECK_EQ_STR(first("SELECT /* a /* b; */ c; */ 1;"), "SELECT /* a /* b; */ c; */ 1");
  CHECK_EQ_INT(split("SELECT /* a /* b */ c; 1;"), 0);
  /* quotes inside comments, comments inside quotes */
  CHECK_EQ_STR(first("SELECT 1 -- it's\n;"), "SELECT 1 -- it's\n");
  CHECK_EQ_STR(first("SELECT '--', '/*';"), "SELECT '--', '/*'");
  /* a lone '-' or '/' is an operator */
  CHECK_EQ_STR(first("SELECT 4 - 2 / 1;"), "SELECT 4 - 2 / 1");
  CHECK_EQ_STR(first("SELECT 4 -/**/- 2;"), "SELECT 4 -/**/- 2");
}

static void test_dollar_quotes(void) {
  CHECK_EQ_STR(first("SELECT $$a;b$$;"), "SELECT $$a;b$$");
  CHECK_EQ_STR(first("SELECT $fn$ x; $$ y; $fn$; SELECT 2;"), "SELECT $fn$ x; $$ y; $fn$");
  CHECK_EQ_STR(first("SELECT $a$ $b$; $a$;"), "SELECT $a$ $b$; $a$");
  CHECK_EQ_STR(first("SELECT $$it's -- /*$$;"), "SELECT $$it's -- /*$$");
  CHECK_EQ_INT(split("SELECT $$a;b"), 0);
  CHECK_EQ_INT(split("SELECT $t$a;b$$; $T$;"), 0); /* tags are case-sensitive */
  /* $1 is a parameter; '$' inside an identifier is part of it */
  CHECK_EQ_STR(first("SELECT $1; SELECT 2;"), "SELECT $1");
  CHECK_EQ_STR(first("SELECT a$b$c; SELECT $$;$$;"), "SELECT a$b$c");
  CHECK_EQ_STR(first("SELECT $x; y$;"), "SELECT $x"); /* "$x;" is no tag: ';' ends it */
}

static void test_blank(void) {
  CHECK_EQ_INT(blank(""), 0);
  CHECK_EQ_INT(blank("   \n\t"), 5);
  CHECK_EQ_INT(blank("  SELECT"), 2);
  CHECK_EQ_INT(blank("-- c\n  SELECT"), 7);
  CHECK_EQ_INT(blank("-- only a comment"), 17);
  CHECK_EQ_INT(blank("/* a */ /* b /* c */ */\n"), 24);
  CHECK_EQ_INT(blank(" /* open"), 1); /* still being typed: not blank */
  CHECK_EQ_INT(blank(";"), 0);
  CHECK_EQ_INT(blank(" - 1"), 1);
  CHECK_EQ_INT(blank("'' "), 0);
}

/* What PostgreSQL's lexer does differently from a naive scan: a number ends before E'' or $$. */
static void test_tokens(void) {
  CHECK_EQ_STR(first("SELECT 1E'\\';'; SELECT 2;"), "SELECT 1E'\\';'");
  CHECK_EQ_STR(first("SELECT 1$$;$$; SELECT 2;"), "SELECT 1$$;$$");
  CHECK_EQ_STR(first("SELECT x1$$;$$;"), "SELECT x1$$");      /* '$' continues the identifier */
  CHECK_EQ_STR(first("SELECT $12$$;$$;"), "SELECT $12$$;$$"); /* parameter, then a quote */
  CHECK_EQ_STR(first("SELECT E;"), "SELECT E");
  CHECK_EQ_STR(first("SELECT u&'\\';"), "SELECT u&'\\'");
}

/* Random texts of quoting tokens: every statement end libpg_query's scanner finds is one of
 * ours, and none of ours falls inside a statement it found. (Its splitter drops statements
 * without a keyword, so only ends next to kept statements can be compared.) */
static void test_against_pg_query(void) {
  static const char *const tokens[] = {"SELECT ", "x",   "1",  " ",   "\n", ";",         ";",
                                       "'",       "''",  "\"", "E'",  "e'", "\\",        "--",
                                       "/*",      "*/",  "$$", "$a$", "$1", "$",         "a$b",
                                       "1E'",     "U&'", "-",  "/",   "*",  "SELECT 1;", "é"};
  const size_t n_tokens = sizeof tokens / sizeof tokens[0];
  uint64_t state = 0x9e3779b97f4a7c15u;
  int compared = 0, mismatches = 0;
  for (int round = 0; round < 20000; round++) {
    char text[512] = "SELECT ";
    int n = 1 + (int)(round % 14);
    for (int k = 0; k < n; k++) {
      state ^= state << 13;
      state ^= state >> 7;
      state ^= state << 17;
      strcat(text, tokens[state % n_tokens]);
    }
    size_t len = strlen(text);
    PgQuerySplitResult r = pg_query_split_with_scanner(text);
    if (r.error == NULL) {
      bool ends[512] = {false};
      for (size_t pos = 0, m; pos < len && (m = tarn_sql_split(text + pos, len - pos)) > 0;
           pos += m)
        ends[pos + m - 1] = true;
      bool ok = true;
      for (int i = 0; i < r.n_stmts; i++) {
        size_t loc = (size_t)r.stmts[i]->stmt_location, end = loc + (size_t)r.stmts[i]->stmt_len;
        for (size_t p = loc; p < end && p < len; p++)
          ok &= !ends[p];
        if (end < len && text[end] == ';') ok &= ends[end];
      }
      compared++;
      if (!ok && mismatches++ < 5) fprintf(stderr, "split differs from libpg_query: [%s]\n", text);
    }
    pg_query_free_split_result(r);
  }
  CHECK_EQ_INT(mismatches, 0);
  CHECK(compared > 5000); /* most texts are valid enough to compare */
}

int main(void) {
  RUN(test_plain);
  RUN(test_strings);
  RUN(test_identifiers);
  RUN(test_comments);
  RUN(test_dollar_quotes);
  RUN(test_blank);
  RUN(test_tokens);
  RUN(test_against_pg_query);
  return check_finish();
}
