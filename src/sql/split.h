/*
 * Finding where SQL statements end, without parsing them.
 *
 * The shell (`tarn sql`) reads text a line at a time and must know when a statement is complete
 * before handing it to the engine: at a ';' that is outside string literals ('...', E'...' with
 * backslash escapes), quoted identifiers ("..."), comments (-- to the end of the line, and block
 * comments, which nest as in PostgreSQL) and dollar-quoted strings ($$...$$, $tag$...$tag$). The
 * same rules tell the shell whether a pending line holds anything but blanks and comments, so a
 * lone comment does not leave it waiting at the continuation prompt.
 *
 * This is a lexer of the PostgreSQL dialect's quoting only; the engine's parser (libpg_query)
 * remains the judge of what the statement means, and of malformed text such as an unterminated
 * string at the end of a script, which is passed through for the parser to report.
 */
#ifndef TARN_SQL_SPLIT_H
#define TARN_SQL_SPLIT_H

#include <stddef.h>

/* Length of the first statement of text[0..len): the bytes up to and including the first ';'
 * outside quotes, comments and dollar-quoted strings. Returns 0 when there is no such ';' (the
 * statement goes on past len, possibly inside an unterminated quote or comment). text need not
 * be NUL-terminated. */
size_t tarn_sql_split(const char *text, size_t len);

/* Offset of the first byte of text[0..len) that is neither whitespace nor inside a complete
 * comment; len when the text is blank. A line comment running to the end of the text is
 * complete; an unterminated block comment is not skipped, because the statement (or comment)
 * is still being typed. */
size_t tarn_sql_skip_blank(const char *text, size_t len);

#endif
