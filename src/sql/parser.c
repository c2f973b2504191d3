#include "sql/parser.h"

#include <stdlib.h>
#include <string.h>

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

int sql_parse(const char *sql, sql_parsed *out, tarn_error *err) {
  memset(out, 0, sizeof *out);
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
  return rc;
}

void sql_parsed_free(sql_parsed *p) {
  if (p == NULL || p->tree == NULL) return;
  pg_query__parse_result__free_unpacked(p->tree, NULL);
  p->tree = NULL;
}
