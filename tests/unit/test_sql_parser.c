/* The SQL parser wrapper: statements and node kinds of valid SQL, and syntax errors reported with
 * the line and column a reader would point at (hand-counted). */
#include <string.h>

#include "check.h"
#include "sql/parser.h"

static void test_select(void) {
  sql_parsed p;
  tarn_error err = {0};
  CHECK_EQ_INT(sql_parse("SELECT a, b + 1 AS c FROM t WHERE a > 1; SELECT 2", &p, &err), 0);
  CHECK(p.tree != NULL);
  if (p.tree == NULL) return;
  CHECK_EQ_INT(p.tree->n_stmts, 2);
  PgQuery__Node *s = p.tree->stmts[0]->stmt;
  CHECK(s->node_case == PG_QUERY__NODE__NODE_SELECT_STMT);
  if (s->node_case == PG_QUERY__NODE__NODE_SELECT_STMT) {
    CHECK_EQ_INT(s->select_stmt->n_target_list, 2);
    CHECK_EQ_INT(s->select_stmt->n_from_clause, 1);
    CHECK(s->select_stmt->where_clause != NULL);
  }
  sql_parsed_free(&p);
  sql_parsed_free(&p); /* second free is a no-op */
}

static void test_syntax_errors(void) {
  sql_parsed p;
  tarn_error err = {0};
  CHECK_EQ_INT(sql_parse("SELECT a FORM t", &p, &err), TARN_EINVAL);
  CHECK(strstr(err.message, "syntax error at or near \"t\"") != NULL);
  CHECK(strstr(err.message, "line 1, column 15") != NULL);
  CHECK(p.tree == NULL);
  tarn_error err2 = {0};
  CHECK_EQ_INT(sql_parse("SELECT 1,\n  2,\n  FROM x", &p, &err2), TARN_EINVAL);
  CHECK(strstr(err2.message, "line 3, column 3") != NULL);
}

int main(void) {
  RUN(test_select);
  RUN(test_syntax_errors);
  return check_finish();
}
