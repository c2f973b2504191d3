/*
 * OPTIMIZE for Delta tables (see delta_optimize.h).
 */
#include "sql/delta_optimize.h"

#include "common/error.h"

int sql_delta_optimize(sql_exec_ctx *x, sql_plan_ctx *pc, const char *table_dir,
                       const sql_delta_optimize_options *o, sql_delta_optimize_result *res,
                       tarn_error *err) {
  (void)x;
  (void)pc;
  (void)o;
  res->version = -1;
  return tarn_err(err, TARN_EUNSUPPORTED, "delta table %s: OPTIMIZE is not implemented yet",
                  table_dir);
}
