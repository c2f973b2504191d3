/*
 * Statement boundaries in SQL text: a small lexer that knows only how PostgreSQL quotes and
 * comments, so that a ';' inside 'it;s', "a;b", -- x;, a block comment or $$ ... ; ... $$ does not
 * end a statement. See split.h.
 */
#include "sql/split.h"

#include <stdbool.h>
#include <string.h>

/* Identifier characters, as PostgreSQL's lexer defines them: every non-ASCII byte is a letter,
 * and '$' may continue (not start) an identifier. */
static bool ident_start(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

static bool ident_cont(unsigned char c) { return ident_start(c) || is_digit(c) || c == '$'; }

/* Dollar-quote tags are identifiers without '$'. */
static bool tag_cont(unsigned char c) { return ident_start(c) || is_digit(c); }

/* If text[i] starts a quoted run (string, quoted identifier, comment, dollar-quoted string),
 * returns the offset just past its end and sets *closed (false when the text ends first; a line
 * comment ending with the text counts as closed). Otherwise returns i. `escapes`: a string at i
 * is an E'' string, where a backslash escapes the next character. */
static size_t skip_quoted(const char *text, size_t len, size_t i, bool escapes, bool *closed) {
  const unsigned char *t = (const unsigned char *)text;
  *closed = true;
  unsigned char c = t[i];
  unsigned char next = i + 1 < len ? t[i + 1] : 0;
  if (c == '-' && next == '-') {
    const unsigned char *nl = memchr(t + i, '\n', len - i);
    return nl ? (size_t)(nl - t) + 1 : len;
  }
  if (c == '/' && next == '*') {
    size_t depth = 1, j = i + 2;
    while (j < len) {
      if (t[j] == '*' && j + 1 < len && t[j + 1] == '/') {
        j += 2;
        if (--depth == 0) return j;
      } else if (t[j] == '/' && j + 1 < len && t[j + 1] == '*') {
        depth++;
        j += 2;
      } else {
        j++;
      }
    }
    *closed = false;
    return len;
  }
  if (c == '\'' || c == '"') {
    bool backslash = escapes && c == '\'';
    size_t j = i + 1;
    while (j < len) {
      if (backslash && t[j] == '\\') {
        j += 2;
      } else if (t[j] == c) {
        if (j + 1 < len && t[j + 1] == c) {
          j += 2; /* doubled quote: an escaped quote character */
        } else {
          return j + 1;
        }
      } else {
        j++;
      }
    }
    *closed = false;
    return len;
  }
  if (c == '$') {
    /* $tag$ or $$ opens a dollar-quoted string; anything else ($1, a lone $) does not */
    size_t k = i + 1;
    if (k < len && ident_start(t[k])) {
      while (k < len && tag_cont(t[k]))
        k++;
    }
    if (k >= len || t[k] != '$') return i;
    size_t delim = k + 1 - i; /* length of "$tag$" */
    for (size_t j = k + 1; j + delim <= len; j++) {
      if (t[j] == '$' && memcmp(t + j, t + i, delim) == 0) return j + delim;
    }
    *closed = false;
    return len;
  }
  return i;
}

size_t tarn_sql_split(const char *text, size_t len) {
  const unsigned char *t = (const unsigned char *)text;
  size_t i = 0;
  while (i < len) {
    unsigned char c = t[i];
    if (c == ';') return i + 1;
    if (ident_start(c)) {
      /* E'...' is a string with backslash escapes; any other word is skipped whole, so that a
       * '$' inside it (a$b) or a quote after it (name'x') is read as PostgreSQL reads it. A
       * number is not a word: in 1E'x' and 1$$x$$ a string follows it. */
      if ((c == 'E' || c == 'e') && i + 1 < len && t[i + 1] == '\'') {
        bool closed;
        i = skip_quoted(text, len, i + 1, true, &closed);
        if (!closed) return 0;
        continue;
      }
      while (i < len && ident_cont(t[i]))
        i++;
      continue;
    }
    bool closed;
    size_t j = skip_quoted(text, len, i, false, &closed);
    if (j == i) {
      i++;
    } else {
      if (!closed) return 0;
      i = j;
    }
  }
  return 0;
}

size_t tarn_sql_skip_blank(const char *text, size_t len) {
  size_t i = 0;
  while (i < len) {
    char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      i++;
      continue;
    }
    bool comment =
        i + 1 < len && ((c == '-' && text[i + 1] == '-') || (c == '/' && text[i + 1] == '*'));
    if (!comment) return i;
    bool closed;
    size_t j = skip_quoted(text, len, i, false, &closed);
    if (!closed) return i;
    i = j;
  }
  return len;
}
