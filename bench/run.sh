#!/bin/sh
# Scan benchmark (`make bench`, after `make` built build/): tarn decoding a whole 10M-row zstd
# Parquet file to Arrow, against DuckDB decoding the same file in the same run, with 1 and 2
# threads. Prints a table of rows/s, the tarn/DuckDB ratio and peak memory; writes nothing into
# the repository. No assertion: the numbers are for reading.
#
# Environment: TARN_BENCH_DIR (where the generated file is kept between runs; default
# ${TMPDIR:-/tmp}/tarn-bench), TARN_BENCH_ROWS (default 10000000), TARN_BENCH_REPEAT (best of N
# runs, default 3), TARN_SHARED (default ../shared), BUILD (default build).
set -eu
cd "$(dirname "$0")/.."
shared=${TARN_SHARED:-../shared}
build=${BUILD:-build}
rows=${TARN_BENCH_ROWS:-10000000}
repeat=${TARN_BENCH_REPEAT:-3}
dir=${TARN_BENCH_DIR:-${TMPDIR:-/tmp}/tarn-bench}
bench=$build/bench/scan_bench

[ -x "$bench" ] || { echo "bench/run.sh: $bench is missing: run make first" >&2; exit 1; }
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  scripts/install-deps.sh test
fi
ORACLE_DIR=$("$shared/tools/oracle-setup.sh")
export ORACLE_DIR

mkdir -p "$dir"
file=$dir/scan_${rows}.parquet
if [ ! -s "$file" ]; then
  echo "generating $file ($rows rows, zstd) with DuckDB..."
  node bench/duckdb_scan.mjs generate "$file.tmp" "$rows" >/dev/null
  mv "$file.tmp" "$file"
fi
size=$(du -h "$file" | cut -f1)

field() { # field NAME LINE -> value of NAME=value in LINE
  echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

echo "file: $file ($size, $rows rows; columns: id int64, int_col int32 with nulls, double_col,"
echo "      str_col short strings, category (dictionary), ts timestamp, price decimal(18,2))"
echo "best of $repeat runs; DuckDB query: count/min/max of every column"
echo
printf '| %-7s | %14s | %14s | %11s | %13s | %15s |\n' threads 'tarn rows/s' 'DuckDB rows/s' 'tarn/DuckDB' 'tarn peak RSS' 'DuckDB peak RSS'
printf '|---------|----------------|----------------|-------------|---------------|-----------------|\n'
for threads in 1 2; do
  t=$("$bench" "$file" --threads "$threads" --repeat "$repeat")
  d=$(node bench/duckdb_scan.mjs scan "$file" "$threads" "$repeat")
  t_rows=$(field rows "$t"); d_rows=$(field rows "$d")
  if [ "$t_rows" != "$d_rows" ]; then
    echo "row counts differ: tarn $t_rows, DuckDB $d_rows" >&2
  fi
  t_rate=$(field rows_per_s "$t"); d_rate=$(field rows_per_s "$d")
  ratio=$(awk -v a="$t_rate" -v b="$d_rate" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
  t_rss=$(( $(field max_rss_kb "$t") / 1024 )); d_rss=$(( $(field max_rss_kb "$d") / 1024 ))
  printf '| %-7s | %14s | %14s | %11s | %10s MB | %12s MB |\n' "$threads" "$t_rate" "$d_rate" "$ratio" "$t_rss" "$d_rss"
done
echo
echo "peak RSS: tarn is scan_bench's getrusage maximum; DuckDB's is the node process's (Node.js itself included)."
