#!/bin/sh
# Scan benchmark (`make bench`, after `make` built build/): tarn decoding a whole 10M-row zstd
# Parquet file to Arrow, against DuckDB decoding the same file in the same run, with 1 and 2
# threads. Prints a table of rows/s, the tarn/DuckDB ratio and peak memory; writes nothing into
# the repository. No assertion: the numbers are for reading.
#
# Write benchmark (same run, same file): `tarn copy SRC DST` (zstd) end to end against DuckDB's
# `COPY (SELECT * FROM 'SRC') TO 'DST' (FORMAT parquet, COMPRESSION zstd)` with `SET threads=1`,
# both reading the same source; rows/s, the tarn/DuckDB ratio (target >= 1.0), peak memory and the
# output sizes. DuckDB runs in a node process: its start-up (measured on `SELECT 1`) is subtracted.
#
# Environment: TARN_BENCH_DIR (where the generated file is kept between runs; default
# ${TMPDIR:-/tmp}/tarn-bench), TARN_BENCH_ROWS (default 10000000), TARN_BENCH_REPEAT (best of N
# runs, default 3), TARN_BENCH (which benchmarks: default "scan write"), TARN_SHARED (default
# ../shared), BUILD (default build).
set -eu
cd "$(dirname "$0")/.."
shared=${TARN_SHARED:-../shared}
build=${BUILD:-build}
rows=${TARN_BENCH_ROWS:-10000000}
repeat=${TARN_BENCH_REPEAT:-3}
dir=${TARN_BENCH_DIR:-${TMPDIR:-/tmp}/tarn-bench}
bench=$build/bench/scan_bench
tarn=$build/tarn
which_bench=${TARN_BENCH:-scan write}

[ -x "$bench" ] || { echo "bench/run.sh: $bench is missing: run make first" >&2; exit 1; }
[ -x "$tarn" ] || { echo "bench/run.sh: $tarn is missing: run make first" >&2; exit 1; }
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

case " $which_bench " in *" scan "*) ;; *) scan_skip=1 ;; esac
if [ -z "${scan_skip:-}" ]; then
echo
echo "== scan: best of $repeat runs; DuckDB query: count/min/max of every column"
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
fi

case " $which_bench " in *" write "*) ;; *) exit 0 ;; esac
now() { date +%s%N; }
secs() { awk -v n="$1" 'BEGIN { printf "%.3f", n / 1e9 }'; }
# timed CMD... -> prints "NANOSECONDS MAX_RSS_KB" of one run (stdout/stderr of CMD discarded)
timed() {
  t0=$(now)
  /usr/bin/time -f '%M' -o "$dir/time.out" "$@" >/dev/null 2>"$dir/cmd.err" || {
    echo "bench/run.sh: failed: $* ($(tail -n 3 "$dir/cmd.err" | tr '\n' ' '))" >&2; exit 1; }
  t1=$(now)
  echo "$((t1 - t0)) $(tail -n 1 "$dir/time.out")"
}
canon=$shared/tools/duckdb_canonical.mjs
tdst=$dir/write_tarn.parquet
ddst=$dir/write_duckdb.parquet
duck_sql="SET threads=1; COPY (SELECT * FROM read_parquet('$file')) TO '$ddst' (FORMAT parquet, COMPRESSION zstd)"
t_best=0; d_best=0; n_best=0; t_rss=0; d_rss=0
i=0
while [ "$i" -lt "$repeat" ]; do
  rm -f "$tdst" "$ddst"
  set -- $(timed "$tarn" copy "$file" "$tdst" --compression zstd)
  if [ "$t_best" -eq 0 ] || [ "$1" -lt "$t_best" ]; then t_best=$1; fi
  [ "$2" -gt "$t_rss" ] && t_rss=$2
  set -- $(timed node "$canon" --sql "$duck_sql")
  if [ "$d_best" -eq 0 ] || [ "$1" -lt "$d_best" ]; then d_best=$1; fi
  [ "$2" -gt "$d_rss" ] && d_rss=$2
  set -- $(timed node "$canon" --sql "SELECT 1")
  if [ "$n_best" -eq 0 ] || [ "$1" -lt "$n_best" ]; then n_best=$1; fi
  i=$((i + 1))
done
d_net=$((d_best - n_best))
t_rate=$(awk -v r="$rows" -v n="$t_best" 'BEGIN { printf "%d", r / (n / 1e9) }')
d_rate=$(awk -v r="$rows" -v n="$d_net" 'BEGIN { printf "%d", r / (n / 1e9) }')
ratio=$(awk -v a="$t_rate" -v b="$d_rate" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
t_size=$(wc -c <"$tdst"); d_size=$(wc -c <"$ddst")
size_ratio=$(awk -v a="$t_size" -v b="$d_size" 'BEGIN { printf "%.3f", a / b }')
echo
echo "== write: best of $repeat runs; read $file and write it back as zstd Parquet, 1 thread"
echo
printf '| %-6s | %9s | %14s | %11s | %10s | %14s |\n' writer seconds 'rows/s' 'tarn/DuckDB' 'peak RSS' 'output bytes'
printf '|--------|-----------|----------------|-------------|------------|----------------|\n'
printf '| %-6s | %9s | %14s | %11s | %7s MB | %14s |\n' tarn "$(secs "$t_best")" "$t_rate" "$ratio" "$((t_rss / 1024))" "$t_size"
printf '| %-6s | %9s | %14s | %11s | %7s MB | %14s |\n' DuckDB "$(secs "$d_net")" "$d_rate" 1.00 "$((d_rss / 1024))" "$d_size"
echo
echo "tarn: \`tarn copy SRC DST --compression zstd\` end to end. DuckDB: the COPY statement through"
echo "duckdb_canonical.mjs, minus node's start-up ($(secs "$n_best") s, best \`SELECT 1\` run); its peak RSS includes Node.js."
echo "output size tarn/DuckDB: $size_ratio (target <= 1.1); write throughput tarn/DuckDB: $ratio (target >= 1.0)"
rm -f "$tdst" "$ddst" "$dir/time.out" "$dir/cmd.err"
