#!/bin/sh
# SQL benchmark (`make bench-sql`, after `make` built build/): the queries of bench/sql/*.sql —
# TPC-H Q1, Q3, Q5, Q6, Q10 and the reference workload of ../shared/DESIGN.md — timed in tarn
# (`tarn sql -c`) and in DuckDB (node, one instance) on the same Parquet files in the same run,
# both with the same number of threads (2 by default). Prints a table of the best of N runs per
# query and the tarn/DuckDB time ratio, then tarn's EXPLAIN ANALYZE of the "top 10 products sold
# in the last hour" query. No assertion: the numbers are for reading.
#
# The data is made once by tests/sql/gen_data.mjs (TPC-H-shaped tables at scale TARN_SQL_SF,
# TARN_SQL_EVENTS workload events sorted by time over TARN_SQL_DAYS days in 10 files of
# TARN_SQL_ROW_GROUP-row row groups) and kept under TARN_BENCH_DIR, keyed by the generator and
# its options.
#
# Environment: TARN_SQL_SF (default 1), TARN_SQL_EVENTS (10000000), TARN_SQL_DAYS (7),
# TARN_SQL_PRODUCTS (100000), TARN_SQL_ROW_GROUP (10000), TARN_SQL_THREADS (2),
# TARN_SQL_THREADS_OPT (tarn's thread option, default --threads), TARN_SQL_QUERIES (query files,
# default bench/sql/*.sql), TARN_BENCH_REPEAT (best of N, default 3), TARN_BENCH_DIR (default
# ${TMPDIR:-/tmp}/tarn-bench), TARN_SHARED (default ../shared), BUILD (default build).
set -eu
cd "$(dirname "$0")/.."
shared=${TARN_SHARED:-../shared}
build=${BUILD:-build}
tarn=$build/tarn
sf=${TARN_SQL_SF:-1}
events=${TARN_SQL_EVENTS:-10000000}
days=${TARN_SQL_DAYS:-7}
products=${TARN_SQL_PRODUCTS:-100000}
rg=${TARN_SQL_ROW_GROUP:-10000}
threads=${TARN_SQL_THREADS:-2}
threads_opt=${TARN_SQL_THREADS_OPT:---threads}
queries=${TARN_SQL_QUERIES:-bench/sql/*.sql}
repeat=${TARN_BENCH_REPEAT:-3}
dir=${TARN_BENCH_DIR:-${TMPDIR:-/tmp}/tarn-bench}

[ -x "$tarn" ] || { echo "bench/sql_bench.sh: $tarn is missing: run make first" >&2; exit 1; }
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  scripts/install-deps.sh test
fi
ORACLE_DIR=$("$shared/tools/oracle-setup.sh")
export ORACLE_DIR

mkdir -p "$dir"
gen_opts="--only tpch,workload --sf $sf --events $events --days $days --products $products --event-files 10 --lineitem-files 8 --row-group-size $rg"
key=$( (cat tests/sql/gen_data.mjs; echo "$gen_opts") | sha256sum | cut -c1-12)
data=$dir/sql-data-$key
if [ ! -f "$data/DONE" ]; then
  echo "generating $data (TPC-H SF $sf, $events events over $days days) with DuckDB..."
  rm -rf "$data.tmp"
  # shellcheck disable=SC2086 # gen_opts is a list of options
  node tests/sql/gen_data.mjs "$data.tmp" $gen_opts --threads "$(nproc)"
  echo "$gen_opts" >"$data.tmp/DONE"
  rm -rf "$data"
  mv "$data.tmp" "$data"
fi
echo "data: $data ($(du -sh "$data" | cut -f1))"

now() { date +%s%N; }
subst() { sed "s|\${DATA}|$data|g" "$1"; }
# shellcheck disable=SC2086 # $queries is a glob
files=$(ls $queries)
# shellcheck disable=SC2086 # files is a list of paths without spaces
duck=$(node bench/sql/duckdb_time.mjs "$data" "$threads" "$repeat" $files)
field() { # field NAME LINE -> value of NAME=value in LINE (values without spaces, except error=)
  echo "$2" | sed -n "s/.*\b$1=\([^ ]*\).*/\1/p"
}
errors=""
echo
echo "== best of $repeat runs, $threads threads each (tarn: \`tarn sql $threads_opt $threads -c SQL --format jsonl\`"
echo "   end to end; DuckDB: the query in an open in-process instance, result read in full)"
echo
printf '| %-26s | %9s | %9s | %11s | %9s |\n' query 'tarn s' 'DuckDB s' 'tarn/DuckDB' rows
printf '|----------------------------|-----------|-----------|-------------|-----------|\n'
for f in $files; do
  name=$(basename "$f" .sql)
  sql=$(subst "$f")
  line=$(echo "$duck" | grep "^name=$name " || true)
  d_s=$(field seconds "$line"); d_rows=$(field rows "$line")
  [ -n "$d_s" ] || { d_s=error; errors="$errors
DuckDB $name: $(echo "$line" | sed 's/.*error=//')"; }
  best=0; t_rows=""; i=0; t_s=""
  while [ "$i" -lt "$repeat" ]; do
    t0=$(now)
    if "$tarn" sql "$threads_opt" "$threads" -c "$sql" --format jsonl >"$dir/sql_out.jsonl" 2>"$dir/sql_err.txt"; then
      t1=$(now)
      n=$((t1 - t0))
      if [ "$best" -eq 0 ] || [ "$n" -lt "$best" ]; then best=$n; fi
      t_rows=$(grep -c '^{' "$dir/sql_out.jsonl" || true)
    else
      t_s=error
      errors="$errors
tarn $name: $(head -n 1 "$dir/sql_err.txt")"
      break
    fi
    i=$((i + 1))
  done
  [ -n "$t_s" ] || t_s=$(awk -v n="$best" 'BEGIN { printf "%.3f", n / 1e9 }')
  if [ "$t_s" != error ] && [ "$d_s" != error ]; then
    ratio=$(awk -v a="$t_s" -v b="$d_s" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
  else
    ratio=-
  fi
  rows=${d_rows:-?}
  if [ -n "$t_rows" ] && [ -n "$d_rows" ] && [ "$t_rows" != "$d_rows" ]; then
    rows="$t_rows!=$d_rows"
  fi
  printf '| %-26s | %9s | %9s | %11s | %9s |\n' "$name" "$t_s" "$(awk -v s="$d_s" 'BEGIN { if (s == "error") print s; else printf "%.3f", s }')" "$ratio" "$rows"
done
echo
echo "tarn/DuckDB is the ratio of times (lower is better for tarn); rows: result rows (tarn!=DuckDB when they differ)."
[ -z "$errors" ] || { echo; echo "errors:$errors"; }

top=bench/sql/workload_top10_last_hour.sql
echo
echo "== tarn EXPLAIN ANALYZE of $top"
echo
if plan=$("$tarn" sql "$threads_opt" "$threads" -c "EXPLAIN ANALYZE $(subst "$top")" --format csv 2>&1); then
  printf '%s\n' "$plan" | sed -e 's/^"//; s/"$//'
else
  printf '%s\n' "$plan"
  echo "(EXPLAIN ANALYZE failed)"
fi
rm -f "$dir/sql_out.jsonl" "$dir/sql_err.txt"
