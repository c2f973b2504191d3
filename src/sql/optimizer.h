/*
 * The optimizer: rewrites a bound plan in place before it runs.
 *
 * Passes, in order: predicate pushdown (WHERE conjuncts move below projections and into join
 * inputs, become join conditions when they span both sides, and end up inside scans, where they
 * also prune files, row groups, pages and bloom-filtered chunks); equi-key extraction for hash
 * joins with the smaller estimated input as the build side; projection pushdown (scans read only
 * the columns someone uses); top-N for ORDER BY ... LIMIT; and parallelism: scan pipelines run
 * under a GATHER on all threads, with aggregates split into per-thread PARTIAL and one FINAL half.
 */
#ifndef TARN_SQL_OPTIMIZER_H
#define TARN_SQL_OPTIMIZER_H

#include "sql/plan.h"

typedef struct sql_optimize_options {
  int threads; /* GATHER workers; 1 = no parallelism */
} sql_optimize_options;

/* Rewrites *plan (the root; it may be replaced). Errors: TARN_ENOMEM. */
int sql_optimize(sql_plan_ctx *pc, sql_plan **plan, const sql_optimize_options *opts, tarn_error *err);

#endif
