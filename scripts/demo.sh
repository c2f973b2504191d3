#!/bin/sh
# The main job for now: tarn reading real Parquet files from the shared conformance data
# (../shared, or $TARN_SHARED): their schema, their rows, and their footer.
set -eu
cd "$(dirname "$0")/.."
shared=${TARN_SHARED:-../shared}
data="$shared/testdata/parquet-testing/data"
if [ ! -d "$data" ]; then
  echo "demo: $data not found (set TARN_SHARED to the shared data folder)" >&2
  exit 1
fi
run() {
  echo "\$ $*"
  "$@"
  echo
}
run build/tarn schema "$data/alltypes_plain.parquet"
run build/tarn cat "$data/alltypes_plain.parquet" --limit 4
run build/tarn cat "$data/nested_lists.snappy.parquet" --format jsonl
run build/tarn cat "$data/nullable.impala.parquet" --columns id,int_map --format csv
run build/tarn cat "$data/uniform_encryption.parquet.encrypted" --footer-key 0123456789012345 --limit 3
echo "\$ build/tarn meta $data/data_index_bloom_encoding_stats.parquet | head -c 600"
build/tarn meta "$data/data_index_bloom_encoding_stats.parquet" | head -c 600
echo
