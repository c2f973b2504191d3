/*
 * Aggregation as the optimizer sees it: which aggregates can run in two phases, and the columns
 * that carry a partial aggregate's state from the PARTIAL node (below a gather) to the FINAL node
 * (above it).
 *
 * State layout of each aggregate call in a PARTIAL node's output (after the group keys, calls in
 * order, each taking the columns listed):
 *
 *   count(*), count(x)                     count bigint
 *   sum(x)                                 sum of the result type (NULL: no input row)
 *   avg(x)                                 sum, count bigint; sum is numeric(38,s) for integer
 *                                          (s = 0) and numeric(p,s) input, double precision for
 *                                          float input, interval for interval input
 *   min(x), max(x), any_value(x)           value of x's type (NULL: none)
 *   bool_and(x), bool_or(x)                boolean (NULL: none)
 *   stddev*, var*                          count bigint, mean double precision, m2 double
 *                                          precision (sum of squared deviations from the mean)
 *
 * The FINAL node's calls keep fn and type and take as args column references to these state
 * columns, in the order above; their FILTER is NULL (the PARTIAL node applied it). DISTINCT
 * aggregates, ordered aggregates, string_agg, array_agg and grouping sets run in one phase only.
 *
 * Result types (sql_agg_resolve, PostgreSQL's where it has one fixed answer): count → bigint;
 * sum(smallint/integer) → bigint, sum(bigint) → numeric(38,0), sum(numeric(p,s)) →
 * numeric(38,s), sum(real/double) → double precision, sum(interval) → interval; avg(integer
 * types) → numeric(38,16), avg(numeric(p,s)) → numeric(38,max(s,16)) (PostgreSQL's numeric has
 * no fixed scale and shows at least 16 significant digits of a quotient; tarn keeps 16 fractional
 * digits, rounded half away from zero), avg(real/double) →
 * double precision, avg(interval) → interval; min/max/any_value → the argument's type (any
 * scalar type but boolean, as in PostgreSQL); bool_and/bool_or/every → boolean;
 * string_agg(text, text) → text, string_agg(bytea, bytea) → bytea; array_agg(x) → x[];
 * stddev/stddev_samp/stddev_pop/variance/var_samp/var_pop → double precision for every numeric
 * input (PostgreSQL gives numeric for integer and numeric input).
 */
#ifndef TARN_SQL_EXEC_AGG_H
#define TARN_SQL_EXEC_AGG_H

#include "sql/plan.h"

/* True when every aggregate of the AGG node can be split into PARTIAL and FINAL halves (no
 * DISTINCT, no ORDER BY inside the call, no string_agg / array_agg, no grouping sets). */
bool sql_agg_splittable(const sql_plan *agg);

/* The state columns of call (a SINGLE-mode call: args over the input) in a PARTIAL node's output:
 * *n (1 to 3) types into types[0..*n). Decimal types are built in a. Errors: TARN_EINVAL for an
 * aggregate that cannot be split, TARN_ENOMEM. */
int sql_agg_state_types(tarn_arena *a, const sql_agg_call *call, const sql_type **types, size_t *n,
                        tarn_error *err);

#endif
