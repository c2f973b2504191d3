#!/bin/sh
# Regenerates the seed corpus of the Parquet fuzz target: tests/fuzz/corpus/parquet/.
#
# The valid seeds are small files written by DuckDB (the test oracle, installed by
# ../shared/tools/oracle-setup.sh), one per feature the reader decodes: each physical and logical
# type, nulls, nesting (lists, structs, maps, their combinations), every codec DuckDB writes,
# PARQUET_VERSION v1 and v2 (v2 brings the DELTA_* and BYTE_STREAM_SPLIT encodings; DuckDB writes
# v1 data page headers either way), several row groups, no rows. The mutated seeds are copies of
# one of them broken in the ways the reader must refuse: a footer shorter than its length field, a
# cut file, a huge footer length, flipped bytes in the footer, in a page header and in page data,
# zeroed pages. Every file is generated here, none copied from third-party test data. Limits: at
# most 30 files of at most 8 KB each, 150 KB in all (checked at the end).
#
# usage: tests/fuzz/make_corpus.sh   (from anywhere; the shared directory is $TARN_SHARED, else
# ../shared beside the repository). Rerun it after changing the seeds, then commit the corpus.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
shared=${TARN_SHARED:-$here/../../../shared}
out=$here/corpus/parquet
ORACLE_DIR=$("$shared/tools/oracle-setup.sh")
export ORACLE_DIR
mkdir -p "$out"
rm -f "$out"/*.parquet

# name|options|query, one seed per line
sql=''
while IFS='|' read -r name options query; do
  [ -n "$name" ] || continue
  sql="$sql COPY ($query) TO '$out/$name.parquet' (FORMAT parquet, $options);"
done <<'SEEDS'
ints_plain_v1|COMPRESSION uncompressed, PARQUET_VERSION v1|SELECT i AS id, CASE WHEN i % 5 = 0 THEN NULL ELSE (i * 7919 - 100000)::INTEGER END AS n32 FROM range(200) r(i)
ints_delta_v2|COMPRESSION uncompressed, PARQUET_VERSION v2|SELECT i * 1000003 AS id, (i % 7 - 3)::SMALLINT AS small, CASE WHEN i % 9 = 0 THEN NULL ELSE i::TINYINT END AS tiny FROM range(120) r(i)
unsigned|COMPRESSION snappy|SELECT (i * 37 % 256)::UTINYINT AS u8, (i * 997)::USMALLINT AS u16, (i * 104729)::UINTEGER AS u32, (18446744073709551615 - i)::UBIGINT AS u64 FROM range(60) r(i)
strings_dict_snappy|COMPRESSION snappy, PARQUET_VERSION v1|SELECT CASE WHEN i % 6 = 0 THEN NULL ELSE (['red', 'green', 'blue', ''])[i % 4 + 1] END AS colour FROM range(300) r(i)
strings_delta_v2_zstd|COMPRESSION zstd, PARQUET_VERSION v2|SELECT CASE WHEN i % 8 = 0 THEN NULL ELSE 'value-' || i || repeat('x', i % 13) END AS s, 'é☃' || (i % 3) AS u FROM range(150) r(i)
floats_bss_v2|COMPRESSION zstd, PARQUET_VERSION v2|SELECT CASE WHEN i = 0 THEN 'NaN'::DOUBLE WHEN i = 1 THEN 'inf'::DOUBLE WHEN i % 10 = 2 THEN NULL ELSE i / 7.0 END AS d, (i / 3.0)::FLOAT AS f FROM range(120) r(i)
bools|COMPRESSION uncompressed|SELECT CASE WHEN i % 7 = 0 THEN NULL ELSE i % 3 = 0 END AS b, i % 2 = 0 AS req FROM range(300) r(i)
decimals|COMPRESSION snappy, PARQUET_VERSION v2|SELECT (i / 100)::DECIMAL(4,2) AS d4, (i * 12345.678901)::DECIMAL(18,6) AS d18, CASE WHEN i % 4 = 0 THEN NULL ELSE (i * 98765432109876.5432109)::DECIMAL(38,10) END AS d38 FROM range(60) r(i)
temporal|COMPRESSION zstd|SELECT DATE '1969-12-01' + i::INTEGER AS d, TIME '00:00:00' + INTERVAL (i * 3711) SECOND AS t, TIMESTAMP '1999-12-31 23:00:00' + INTERVAL (i * 3600001) MICROSECOND AS ts, TIMESTAMPTZ '2020-01-01 00:00:00+00' + INTERVAL (i) HOUR AS tstz, (TIMESTAMP '2000-01-01' + INTERVAL (i) DAY)::TIMESTAMP_MS AS tsms, (TIMESTAMP '2000-01-01' + INTERVAL (i) MINUTE)::TIMESTAMP_NS AS tsns FROM range(50) r(i)
blob_uuid_interval|COMPRESSION uncompressed|SELECT ('\x00\xFF' || i)::BLOB AS b, md5(i::VARCHAR)::UUID AS u, to_months(i::INTEGER) + to_days((i % 5)::INTEGER) + to_milliseconds(i * 10) AS iv FROM range(40) r(i)
enum_lz4_raw|COMPRESSION lz4_raw|SELECT (['sad', 'ok', 'happy'])[i % 3 + 1]::ENUM('sad', 'ok', 'happy') AS mood FROM range(100) r(i)
list_int|COMPRESSION snappy|SELECT CASE WHEN i % 5 = 0 THEN NULL WHEN i % 5 = 1 THEN [] ELSE [i::INTEGER, NULL, (i + 1)::INTEGER][1:(i % 4)] END AS l FROM range(80) r(i)
list_nested|COMPRESSION zstd, PARQUET_VERSION v2|SELECT [['a' || i, NULL], NULL, [], ['b']][1:(i % 5)] AS ll FROM range(60) r(i)
struct_nested|COMPRESSION snappy|SELECT {'a': CASE WHEN i % 3 = 0 THEN NULL ELSE i::INTEGER END, 'inner': CASE WHEN i % 4 = 0 THEN NULL ELSE {'c': 'c' || i, 'd': i / 2.0} END} AS s FROM range(60) r(i)
map|COMPRESSION snappy|SELECT CASE WHEN i % 6 = 0 THEN NULL WHEN i % 6 = 1 THEN MAP {} ELSE MAP {'k' || i: i::INTEGER, 'z' || i: NULL} END AS m FROM range(60) r(i)
list_of_struct|COMPRESSION zstd|SELECT [{'x': i::INTEGER, 'y': 'y' || i}, NULL, {'x': NULL, 'y': NULL}][1:(i % 4)] AS ls FROM range(60) r(i)
struct_with_list|COMPRESSION uncompressed, PARQUET_VERSION v2|SELECT {'tags': CASE WHEN i % 3 = 0 THEN NULL ELSE ['t' || i, NULL] END, 'n': i::INTEGER} AS sl FROM range(60) r(i)
deep|COMPRESSION snappy|SELECT [MAP {i::INTEGER: [{'deep': CASE WHEN i % 2 = 0 THEN NULL ELSE [i, i + 1] END}]}] AS deep FROM range(30) r(i)
gzip|COMPRESSION gzip|SELECT i AS id, 'g' || (i % 10) AS s FROM range(200) r(i)
brotli|COMPRESSION brotli, PARQUET_VERSION v2|SELECT i AS id, 'b' || (i % 10) AS s FROM range(200) r(i)
row_groups|COMPRESSION zstd, PARQUET_VERSION v2, ROW_GROUP_SIZE 2048|SELECT (i % 3)::TINYINT AS t FROM range(6200) r(i)
empty|COMPRESSION zstd|SELECT 1::INTEGER AS a, 'x' AS b LIMIT 0
all_null|COMPRESSION snappy|SELECT NULL::INTEGER AS n, NULL::VARCHAR[] AS l, NULL::STRUCT(a INTEGER) AS s FROM range(50)
SEEDS
node "$shared/tools/duckdb_canonical.mjs" --sql "$sql" >/dev/null

# Mutations of ints_plain_v1 (deterministic): bytes changed in place at fixed positions.
python3 - "$out" <<'PY'
import os, struct, sys
out = sys.argv[1]
src = open(os.path.join(out, 'ints_plain_v1.parquet'), 'rb').read()
footer_len = struct.unpack('<I', src[-8:-4])[0]
footer = len(src) - 8 - footer_len          # offset of the Thrift FileMetaData

def flip(data, positions, mask=0xFF):
    b = bytearray(data)
    for p in positions:
        b[p] ^= mask
    return bytes(b)

mutants = {
    'mut_footer_short': src[:-40] + src[-8:],                          # length field says more
    'mut_cut_half': src[:len(src) // 2],                                # no tail magic
    'mut_footer_len_huge': src[:-8] + struct.pack('<I', 0x7FFFFFF0) + b'PAR1',
    'mut_footer_flipped': flip(src, range(footer + 3, footer + footer_len - 3, 17)),
    'mut_page_header_flipped': flip(src, [5, 7, 9, 11]),
    'mut_page_data_flipped': flip(src, range(40, footer - 8, 29), 0x5A),
}
b = bytearray(src)
b[4:footer] = bytes(footer - 4)                                         # every page zeroed
mutants['mut_pages_zeroed'] = bytes(b)
for name, data in mutants.items():
    open(os.path.join(out, name + '.parquet'), 'wb').write(data)
PY

total=0; count=0
for f in "$out"/*.parquet; do
  size=$(wc -c < "$f")
  [ "$size" -le 8192 ] || { echo "make_corpus.sh: $f is $size bytes (> 8 KB)" >&2; exit 1; }
  total=$((total + size)); count=$((count + 1))
done
[ "$count" -le 30 ] || { echo "make_corpus.sh: $count files (> 30)" >&2; exit 1; }
[ "$total" -le 153600 ] || { echo "make_corpus.sh: $total bytes in all (> 150 KB)" >&2; exit 1; }
echo "corpus: $count files, $total bytes in $out"
