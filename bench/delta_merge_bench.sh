#!/bin/sh
# Delta MERGE benchmark (`make bench-delta`, after `make`): MERGE of TARN_MERGE_CHANGES rows
# (default 100000: 90% updates spread over the table, 10% inserts) into a TARN_MERGE_ROWS-row Delta
# table (default 10M), with deletion vectors and copy-on-write, against DuckDB running the same
# MERGE on its own table loaded from the same Parquet file, in the same run; best of
# TARN_BENCH_REPEAT runs each, on a fresh copy of the table. Also the peak RSS of a 1-row MERGE
# into the big table (it must not load the table).
set -eu
cd "$(dirname "$0")/.."
. bench/best_of.sh
build=${BUILD:-build}
rows=${TARN_MERGE_ROWS:-10000000}
changes=${TARN_MERGE_CHANGES:-100000}
repeat=${TARN_BENCH_REPEAT:-3}
threads=${TARN_BENCH_THREADS:-$(nproc)}
dir=${TARN_BENCH_DIR:-${TMPDIR:-/tmp}/tarn-bench}/delta-merge-$rows-$changes
[ -x "$build/tarn" ] || { echo "bench/delta_merge_bench.sh: $build/tarn is missing: run make first" >&2; exit 1; }
oracle=$(sh ../shared/tools/oracle-setup.sh | tail -1)
export ORACLE_DIR="$oracle"
mkdir -p "$dir"
if [ ! -f "$dir/DONE" ]; then
  node bench/delta_merge_duck.mjs generate "$dir" "$rows" "$changes"
  for mode in dv cow; do
    rm -rf "$dir/wh-$mode" && mkdir -p "$dir/wh-$mode"
    opt=""
    [ "$mode" = dv ] && opt=" WITH (\"delta.enableDeletionVectors\" = 'true')"
    "$build/tarn" sql -w "$dir/wh-$mode" -c "CREATE TABLE t USING delta$opt AS SELECT * FROM read_parquet('$dir/target.parquet')" >/dev/null
  done
  touch "$dir/DONE"
fi
merge="MERGE INTO t USING read_parquet('$dir/changes.parquet') AS s ON t.id = s.id WHEN MATCHED THEN UPDATE SET v = s.v, name = s.name WHEN NOT MATCHED THEN INSERT VALUES (s.id, s.v, s.name, s.day)"
time_tarn() { # $1 mode, $2 statement: best seconds and the peak RSS of that run, on fresh copies
  best_of "$repeat" --before "rm -rf '$dir/run' && cp -r '$dir/wh-$1' '$dir/run'" -- \
    "$build/tarn" sql --threads "$threads" -w "$dir/run" -c "$2"
}
duck=$(node bench/delta_merge_duck.mjs merge "$dir" "$threads" "$repeat" | sed -n 's/^seconds=//p')
echo "MERGE of $changes rows into $rows rows, $threads threads, best of $repeat:"
echo "  DuckDB (own table): ${duck} s"
for mode in dv cow; do
  set -- $(time_tarn "$mode" "$merge")
  echo "  tarn, $mode: $1 s (ratio $(awk -v a="$1" -v b="$duck" 'BEGIN { printf "%.2f", a / b }') to DuckDB), peak RSS $(($2 / 1024)) MB"
done
set -- $(time_tarn dv "MERGE INTO t USING (VALUES (5::bigint, 7::bigint)) AS s(id, v) ON t.id = s.id WHEN MATCHED THEN UPDATE SET v = s.v")
echo "  tarn, 1-row MERGE (dv): $1 s, peak RSS $(($2 / 1024)) MB"
rm -rf "$dir/run"
