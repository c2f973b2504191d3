#!/bin/sh
# The main job for now: tarn reading real Parquet files from the shared conformance data
# (../shared, or $TARN_SHARED): their schema, their rows, and their footer; then a product
# catalog CSV turned into Parquet by tarn copy and read back; then a Delta table of the shared
# data: its history, its rows now and at an earlier version, and a query over it; then a Delta
# warehouse tarn writes itself (DML, MERGE, an overwrite, time travel, change feed, OPTIMIZE).
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

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/catalog.csv" <<'CSV'
product_id,name,price,category,updated_at
1,"Widget, large",9.99,tools,2024-01-02 10:00:00
2,"Gadget ""pro""",19.5,toys,2024-01-03 11:30:00
3,Gizmo,3,tools,2024-01-04 09:15:00
CSV
run build/tarn copy "$tmp/catalog.csv" "$tmp/catalog.parquet" --bloom-filter product_id
run build/tarn schema "$tmp/catalog.parquet"
run build/tarn cat "$tmp/catalog.parquet"
run build/tarn copy "$data/nested_lists.snappy.parquet" "$tmp/nested.parquet" --compression zstd --page-v2
run build/tarn cat "$tmp/nested.parquet" --format jsonl

# SQL over Parquet: the catalog just written, joined with an inline price list, and a plan.
run build/tarn sql -c "SELECT category, count(*) AS products, sum(price) AS total, string_agg(name, ' | ' ORDER BY name) AS names
FROM read_parquet('$tmp/catalog.parquet') GROUP BY category ORDER BY category"
run build/tarn sql -c "SELECT c.name, c.price, d.discount, round(c.price * (1 - d.discount), 2) AS sale_price
FROM read_parquet('$tmp/catalog.parquet') c JOIN (VALUES ('tools', 0.10), ('toys', 0.25)) d(category, discount) USING (category)
ORDER BY sale_price DESC"
run build/tarn sql -c "EXPLAIN ANALYZE SELECT count(*) FROM read_parquet('$data/alltypes_plain.parquet') WHERE id > 5"
delta="$shared/testdata/dat/tests/data/reader_tests/generated/basic_partitioned/delta"
if [ -d "$delta" ]; then
  run build/tarn history "$delta"
  run build/tarn cat "$delta"
  run build/tarn cat "$delta" --as-of 0
  run build/tarn sql -c "SELECT letter, count(*) AS n, sum(number) AS total FROM delta_scan('$delta') GROUP BY letter ORDER BY letter"
fi

# A Delta warehouse written by tarn: partitioned orders with change data, DML, an overwrite of
# one day, time travel, the change feed and compaction. Spark, Trino and DuckDB read it as is.
wh="$tmp/warehouse"
mkdir -p "$wh"
run build/tarn sql -w "$wh" -c "CREATE TABLE orders (id bigint, customer text, amount numeric(10,2), day date) USING delta
  WITH (partitioning = 'day', \"delta.enableChangeDataFeed\" = 'true', \"delta.enableDeletionVectors\" = 'true');
INSERT INTO orders VALUES (1, 'ann', 12.50, '2024-05-01'), (2, 'bob', 7.25, '2024-05-01'), (3, 'cy', 30.00, '2024-05-02');
INSERT INTO orders VALUES (4, 'dee', 5.00, '2024-05-02');
UPDATE orders SET amount = amount * 2 WHERE customer = 'bob';
DELETE FROM orders WHERE id = 4;
MERGE INTO orders USING (VALUES (1, 'ann', 15.00, DATE '2024-05-01'), (5, 'eve', 42.00, DATE '2024-05-03')) AS s(id, customer, amount, day)
  ON orders.id = s.id WHEN MATCHED THEN UPDATE SET amount = s.amount WHEN NOT MATCHED THEN INSERT VALUES (s.id, s.customer, s.amount, s.day);
INSERT INTO orders REPLACE WHERE day = '2024-05-02' VALUES (6, 'fay', 11.00, '2024-05-02')"
run build/tarn history "$wh/orders"
run build/tarn sql -w "$wh" -c "SELECT * FROM orders ORDER BY id"
run build/tarn cat "$wh/orders" --as-of 1
run build/tarn sql -w "$wh" -c "SELECT id, customer, amount, _change_type, _commit_version FROM table_changes('orders', 3) ORDER BY _commit_version, id, _change_type"
run build/tarn sql -w "$wh" -c "CALL optimize('orders')"
run build/tarn sql -w "$wh" -c "SELECT day, count(*) AS orders, sum(amount) AS revenue FROM orders GROUP BY day ORDER BY day"
