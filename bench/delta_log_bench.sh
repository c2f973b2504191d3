#!/bin/sh
# Delta log replay benchmark (`make bench-delta`, after `make` built build/): generates a Delta
# table log of TARN_DELTA_FILES add actions (default 100000) spread over TARN_DELTA_COMMITS JSON
# commits (default 100), each add with a partition value and JSON statistics, and times `tarn meta`
# on it (a full log replay to the latest snapshot), best of TARN_BENCH_REPEAT runs, with peak RSS.
# Only the log is generated: the data files it names do not exist, which `tarn meta` never opens.
# Then the same after `tarn checkpoint` wrote a checkpoint of the latest version (replay = read the
# checkpoint Parquet file), on a copy of the log.
set -eu
cd "$(dirname "$0")/.."
. bench/best_of.sh
build=${BUILD:-build}
files=${TARN_DELTA_FILES:-100000}
commits=${TARN_DELTA_COMMITS:-100}
repeat=${TARN_BENCH_REPEAT:-3}
dir=${TARN_BENCH_DIR:-${TMPDIR:-/tmp}/tarn-bench}/delta-log-$files-$commits
[ -x "$build/tarn" ] || { echo "bench/delta_log_bench.sh: $build/tarn is missing: run make first" >&2; exit 1; }
if [ ! -f "$dir/DONE" ]; then
  rm -rf "$dir"
  mkdir -p "$dir/table/_delta_log"
  python3 - "$dir/table/_delta_log" "$files" "$commits" <<'PY'
import json, os, sys
log, n_files, commits = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
schema = {"type": "struct", "fields": [
    {"name": "id", "type": "long", "nullable": True, "metadata": {}},
    {"name": "day", "type": "date", "nullable": True, "metadata": {}}]}
k = 0
for v in range(commits):
    per = n_files // commits + (1 if v < n_files % commits else 0)
    with open(os.path.join(log, '%020d.json' % v), 'w') as f:
        f.write(json.dumps({"commitInfo": {"timestamp": 1700000000000 + v, "operation": "WRITE",
                                           "operationParameters": {"mode": "Append"}}}) + "\n")
        if v == 0:
            f.write(json.dumps({"protocol": {"minReaderVersion": 1, "minWriterVersion": 2}}) + "\n")
            f.write(json.dumps({"metaData": {"id": "bench", "format": {"provider": "parquet", "options": {}},
                                             "schemaString": json.dumps(schema), "partitionColumns": ["day"],
                                             "configuration": {}, "createdTime": 1700000000000}}) + "\n")
        for _ in range(per):
            day = "2024-01-%02d" % (1 + k % 28)
            stats = {"numRecords": 100, "minValues": {"id": k * 100}, "maxValues": {"id": k * 100 + 99},
                     "nullCount": {"id": 0}}
            f.write(json.dumps({"add": {"path": "day=%s/part-%06d.parquet" % (day, k),
                                        "partitionValues": {"day": day}, "size": 1000,
                                        "modificationTime": 1700000000000, "dataChange": True,
                                        "stats": json.dumps(stats)}}) + "\n")
            k += 1
PY
  touch "$dir/DONE"
fi
echo "log: $files add actions in $commits commits ($(du -sh "$dir/table/_delta_log" | cut -f1))"
set -- $(best_of "$repeat" -- "$build/tarn" meta "$dir/table")
echo "replay to the latest snapshot (tarn meta): best $1 s of $repeat, peak RSS $(($2 / 1024)) MB"
rm -rf "$dir/ckpt" && mkdir -p "$dir/ckpt" && cp -r "$dir/table/_delta_log" "$dir/ckpt/"
"$build/tarn" checkpoint "$dir/ckpt" >/dev/null
echo "checkpoint: $(du -h "$dir"/ckpt/_delta_log/*.checkpoint.parquet | cut -f1)"
set -- $(best_of "$repeat" -- "$build/tarn" meta "$dir/ckpt")
echo "replay from the checkpoint (tarn meta): best $1 s of $repeat, peak RSS $(($2 / 1024)) MB"
rm -rf "$dir/ckpt"
