/*
 * Private helpers shared by the expression evaluator (expr.c), the casts (cast.c) and the scalar
 * function kernels (func*.c): exact decimal arithmetic on 128-bit integers, the proleptic
 * Gregorian calendar, PostgreSQL's text forms of values, and builders for result vectors.
 *
 * Kernel arguments follow one convention beyond expr.h's: an argument vector with one row stands
 * for a constant broadcast over all n rows (the evaluator passes constants that way so that
 * column-versus-constant kernels need no broadcast copy). SQL_ARG_ROW maps a row to the index to
 * read. A vector of n rows where n == 1 means the same thing either way.
 */
#ifndef TARN_SQL_EXPR_IMPL_H
#define TARN_SQL_EXPR_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/error.h"
#include "sql/expr.h"

#define SQL_ARG_ROW(v, i) ((v)->n == 1 ? 0u : (uint32_t)(i))
#define SQL_ARG_NULL(v, i) SQL_VEC_IS_NULL(v, SQL_ARG_ROW(v, i))

typedef unsigned __int128 sql_u128;

int sql_oom(sql_eval_ctx *ctx);

/* --- Decimals ----------------------------------------------------------------------------------
 * Values are integers scaled by 10^scale; every value must stay below 10^38 in magnitude. */

#define SQL_DEC_MAX_PREC 38
sql_i128 sql_pow10(int k); /* 0 <= k <= 38 */
static inline bool sql_dec_fits(sql_i128 v, int precision) {
  sql_i128 p = sql_pow10(precision);
  return v < p && v > -p;
}
/* Round-half-away-from-zero rescaling; false when the result reaches 10^38. */
bool sql_dec_rescale(sql_i128 v, int from_scale, int to_scale, sql_i128 *out);
/* a * b / 10^down, rounded; false on overflow. */
bool sql_dec_mul(sql_i128 a, sql_i128 b, int down, sql_i128 *out);
/* a * 10^up / b, rounded half away from zero (b != 0); false on overflow. */
bool sql_dec_div(sql_i128 a, sql_i128 b, int up, sql_i128 *out);
/* v / 10^k rounded half away from zero (k <= 38). */
sql_i128 sql_dec_div_pow10_round(sql_i128 v, int k);
/* Text of v with scale digits after the point into buf (>= 48 bytes); returns the length. */
size_t sql_dec_format(sql_i128 v, int scale, char *buf);
/* Parses decimal text (sign, digits, point, exponent) rounded to scale; 0, or 1 for bad syntax,
 * 2 when the result needs more than precision digits. */
int sql_dec_parse(const char *s, size_t n, int precision, int scale, sql_i128 *out);
double sql_dec_to_double(sql_i128 v, int scale);
/* PostgreSQL's float8 -> numeric: through 15 significant digits (6 for float4). 0, 1 for NaN or
 * infinity, 2 for overflow. */
int sql_dec_from_double(double d, bool float4, int precision, int scale, sql_i128 *out);

/* --- Calendar ----------------------------------------------------------------------------------
 * Dates are days since 1970-01-01, timestamps microseconds since 1970-01-01 00:00:00 (UTC for
 * timestamptz), in the proleptic Gregorian calendar with astronomical years (0 = 1 BC). */

#define SQL_USEC_PER_SEC INT64_C(1000000)
#define SQL_USEC_PER_MIN INT64_C(60000000)
#define SQL_USEC_PER_HOUR INT64_C(3600000000)
#define SQL_USEC_PER_DAY INT64_C(86400000000)
/* PostgreSQL's infinities. */
#define SQL_TS_NOBEGIN INT64_MIN
#define SQL_TS_NOEND INT64_MAX
#define SQL_DATE_NOBEGIN ((int64_t)INT32_MIN)
#define SQL_DATE_NOEND ((int64_t)INT32_MAX)
/* The supported ranges (PostgreSQL's: from 4714-11-24 BC; timestamps end where int64 does). */
#define SQL_DATE_MIN INT64_C(-2440588)          /* 4714-11-24 BC */
#define SQL_DATE_END INT64_C(2145042906)        /* 5874898-01-01 */
#define SQL_TS_MIN INT64_C(-210866803200000000) /* 4714-11-24 00:00:00 BC */
#define SQL_TS_END INT64_MAX                    /* (exclusive: the infinity) */

static inline int64_t sql_floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
static inline int64_t sql_floor_mod(int64_t a, int64_t b) { return a - sql_floor_div(a, b) * b; }

int64_t sql_days_from_ymd(int64_t y, int m, int d);
void sql_ymd_from_days(int64_t days, int64_t *y, int *m, int *d);
int sql_days_in_month(int64_t y, int m);
bool sql_date_ok(int64_t d);    /* finite and in range */
bool sql_ts_ok(int64_t ts);     /* finite and in range */
bool sql_ts_finite(int64_t ts); /* not an infinity */
/* Comparison key of an interval: PostgreSQL compares months as 30 days and days as 24 hours. */
sql_i128 sql_interval_key(sql_interval iv);
/* ts + sign * iv (months first, then days, then micros, as PostgreSQL); false when out of range. */
bool sql_ts_add_interval(int64_t ts, sql_interval iv, int sign, int64_t *out);

/* --- Text forms ---------------------------------------------------------------------------------
 * Formatters write into buf (at least 64 bytes; 160 for intervals) and return the length. Parsers
 * return 0, SQL_PARSE_SYNTAX or SQL_PARSE_RANGE. */

#define SQL_PARSE_SYNTAX 1
#define SQL_PARSE_RANGE 2

size_t sql_fmt_int(int64_t v, char *buf);
size_t sql_fmt_double(double d, bool float4, char *buf);
size_t sql_fmt_date(int64_t d, char *buf);
size_t sql_fmt_time(int64_t t, char *buf);
size_t sql_fmt_timestamp(int64_t ts, bool tz, char *buf);
size_t sql_fmt_interval(sql_interval iv, char *buf);
size_t sql_fmt_uuid(const sql_str *s, char *buf);

int sql_parse_bool(const char *s, size_t n, bool *out);
int sql_parse_int(const char *s, size_t n, int64_t lo, int64_t hi, int64_t *out);
int sql_parse_double(const char *s, size_t n, bool float4, double *out);
int sql_parse_date(const char *s, size_t n, int64_t *out);
int sql_parse_time(const char *s, size_t n, int64_t *out);
int sql_parse_timestamp(const char *s, size_t n, bool tz, int64_t *out);
int sql_parse_interval(const char *s, size_t n, sql_interval *out);
/* Parses a UUID into 16 bytes. */
int sql_parse_uuid(const char *s, size_t n, uint8_t out[16]);

/* Appends PostgreSQL's text of row i of v (not NULL) to b: element text of arrays ('{1,2}'),
 * records ('(1,x)'), maps ('{k=v}'). bool_words: 'true'/'false' (a cast) or 't'/'f'. */
int sql_row_text(tarn_buf *b, const sql_vec *v, uint32_t i, bool bool_words, tarn_error *err);

/* Order of row i of a and row j of b (same type, both not NULL): text bytewise, floats with NaN
 * greatest, intervals by their key, nested values element by element with NULLs last. */
int sql_row_cmp(const sql_vec *a, uint32_t i, const sql_vec *b, uint32_t j);

/* --- Result vectors --------------------------------------------------------------------------- */

/* Hands out string bytes from a region in chunks, so kernels can build many short results. */
typedef struct sql_strbuf {
  sql_mem *m;
  char *p;
  size_t left;
} sql_strbuf;

static inline void sql_strbuf_init(sql_strbuf *sb, sql_mem *m) {
  sb->m = m;
  sb->p = NULL;
  sb->left = 0;
}
/* n bytes (n may be 0) or NULL when out of memory. */
char *sql_strbuf_take(sql_strbuf *sb, size_t n);
/* Gives back the unused tail of the last take (at most what was taken). */
static inline void sql_strbuf_unget(sql_strbuf *sb, size_t n) {
  if (n == 0) return;
  sb->p -= n;
  sb->left += n;
}
/* A copy of s in the region. */
int sql_strbuf_put(sql_strbuf *sb, const char *s, size_t n, sql_str *out);

/* A vector of n NULLs of type t. */
int sql_vec_nulls_of(sql_mem *m, const sql_type *t, uint32_t n, sql_vec *out, tarn_error *err);

/* --- Function definitions ----------------------------------------------------------------------
 * Each func*.c file contributes a table of definitions; sql_func_resolve searches them all. */

/* Parameter kinds beyond plain type ids. */
enum {
  SQL_A_DEC = 100, /* any numeric; integers are cast to numeric(w,0) */
  SQL_A_ANY,       /* any type, as it is */
  SQL_A_LIST,      /* any list */
  SQL_A_TEXT,      /* anything, cast to text (concat, concat_ws) */
  SQL_A_ELEM       /* the element type of the list in argument 0 */
};

/* Result kinds beyond plain type ids. */
enum {
  SQL_R_ARG0 = 100, /* the type of argument 0 */
  SQL_R_DEC_ADD,    /* numeric + - numeric */
  SQL_R_DEC_MUL,
  SQL_R_DEC_DIV,
  SQL_R_DEC_MOD,
  SQL_R_DEC_ROUND,  /* round/trunc(numeric[, n]): scale n when n is a constant */
  SQL_R_DEC_INT,    /* numeric with scale 0 and room for a carry (ceil, floor) */
  SQL_R_DEC_APPROX, /* numeric(38,16) computed through double (sqrt, exp, ln of numeric) */
  SQL_R_ELEM0,      /* the element type of the list in argument 0 */
  SQL_R_EXTRACT,    /* numeric whose scale depends on the (constant) field */
  SQL_R_TEXT_LIST   /* text[] */
};

#define SQL_F_NULLS 1    /* the kernel handles NULLs itself */
#define SQL_F_VOLATILE 2 /* never constant-folded */
#define SQL_F_VARIADIC 4 /* the last parameter repeats up to max_args */

typedef struct sql_func_def {
  const char *name;
  sql_kernel_fn kernel;
  int op;
  uint8_t min_args, max_args;
  int16_t params[4];
  int16_t ret;
  uint8_t flags;
} sql_func_def;

extern const sql_func_def sql_math_defs[];
extern const size_t sql_math_n_defs;
extern const sql_func_def sql_string_defs[];
extern const size_t sql_string_n_defs;
extern const sql_func_def sql_time_defs[];
extern const size_t sql_time_n_defs;

/* Field names of date_part / extract / date_trunc. */
typedef enum sql_dt_field {
  SQL_DTF_MICROSECONDS,
  SQL_DTF_MILLISECONDS,
  SQL_DTF_SECOND,
  SQL_DTF_MINUTE,
  SQL_DTF_HOUR,
  SQL_DTF_DAY,
  SQL_DTF_WEEK,
  SQL_DTF_MONTH,
  SQL_DTF_QUARTER,
  SQL_DTF_YEAR,
  SQL_DTF_DECADE,
  SQL_DTF_CENTURY,
  SQL_DTF_MILLENNIUM,
  SQL_DTF_DOW,
  SQL_DTF_ISODOW,
  SQL_DTF_DOY,
  SQL_DTF_EPOCH,
  SQL_DTF_ISOYEAR,
  SQL_DTF_JULIAN,
  SQL_DTF_TIMEZONE,
  SQL_DTF_TIMEZONE_HOUR,
  SQL_DTF_TIMEZONE_MINUTE,
  SQL_DTF_INVALID
} sql_dt_field;

sql_dt_field sql_dt_field_parse(const char *s, size_t n);
/* The numeric scale EXTRACT gives a field of a value of type t (PostgreSQL 15). */
int sql_extract_scale(sql_dt_field f, sql_type_id t);

/* Lower-cases UTF-8 text with full Unicode case mapping (C.UTF-8 tables) into out, which has
 * room for 2 * n + 4 bytes; returns the length. For ILIKE. */
size_t sql_utf8_lower(const char *s, size_t n, char *out);

/* Kernels shared between files (func.c registers them). */
int sql_kernel_compare(sql_eval_ctx *ctx, const sql_func *f, sql_vec *const *args, size_t n_args,
                       uint32_t n, sql_vec *out);
/* Comparison operator codes (sql_func.op of the comparison kernel). */
enum { SQL_CMP_EQ, SQL_CMP_NE, SQL_CMP_LT, SQL_CMP_LE, SQL_CMP_GT, SQL_CMP_GE };
/* For comparisons of a vector with a constant, writes the rows of sel (NULL: all n) where
 * a[row] op c holds to out_sel; returns false when the types have no fast path. */
bool sql_compare_select(int op, const sql_vec *a, const sql_vec *c, const uint32_t *sel, uint32_t n,
                        uint32_t *out_sel, uint32_t *n_out);

#endif
