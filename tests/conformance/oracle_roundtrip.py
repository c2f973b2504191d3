#!/usr/bin/env python3
"""Fresh files written by DuckDB (the oracle) read the same in tarn as in DuckDB.

DuckDB writes one table of many types (every integer width and sign, float, double, decimals of
each physical width, date, time, timestamps of each unit with and without time zone, strings,
blobs, UUID, interval, enum, lists, nested lists, structs, maps, lists of structs, structs of
lists; nulls everywhere, extremes, NaN and infinities, empty strings and lists) with every codec
it has (uncompressed, snappy, gzip, zstd, lz4_raw, brotli) in PARQUET_VERSION v1 and v2, 5000
rows in row groups of at most 2048, plus a few edge files. (DuckDB 1.5's v2 means the v2 encodings,
DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, BYTE_STREAM_SPLIT, RLE_DICTIONARY; it still writes
v1 data page headers, so data page v2 is covered by parquet-testing's files, not here.) For each file, `tarn cat --format jsonl` must equal DuckDB reading its own file
(shared/tools/duckdb_canonical.mjs), row for row, in order; `tarn meta` must count the row groups
DuckDB reports. Files live in a temporary directory.

A missing oracle (node/npm) is a failure, not a skip: `make test` installs it.

usage: oracle_roundtrip.py [--tarn build/tarn] [--shared ../shared] [--jobs 2] [--keep]
Ends with `N passed, N failed`; exits 1 if any failed.
"""
import json
import os
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tarnrun  # noqa: E402

TIMEOUT = 300
ROWS = 5000
CODECS = ('uncompressed', 'snappy', 'gzip', 'zstd', 'lz4_raw', 'brotli')  # DuckDB's "lz4" is lz4_raw
VERSIONS = ('v1', 'v2')

# One row per i in [0, ROWS): nulls at different rows per column, extremes at the first rows.
TABLE = r"""
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy', 'ünïcode');
CREATE TABLE t AS
SELECT
  i::BIGINT AS id,
  CASE WHEN i % 7 = 3 THEN NULL ELSE i % 3 = 0 END AS bool_col,
  CASE WHEN i % 11 = 1 THEN NULL WHEN i = 0 THEN -128 WHEN i = 2 THEN 127 ELSE (i % 256 - 128) END::TINYINT AS tinyint_col,
  CASE WHEN i % 11 = 2 THEN NULL WHEN i = 0 THEN -32768 WHEN i = 3 THEN 32767 ELSE (i * 7 % 65536 - 32768) END::SMALLINT AS smallint_col,
  CASE WHEN i % 11 = 3 THEN NULL WHEN i = 0 THEN -2147483648 WHEN i = 4 THEN 2147483647 ELSE (i * 7919 - 20000000) END::INTEGER AS int_col,
  CASE WHEN i % 11 = 4 THEN NULL WHEN i = 0 THEN -9223372036854775808 WHEN i = 5 THEN 9223372036854775807 ELSE (i * 1000000007 - 3000000000000) END::BIGINT AS bigint_col,
  CASE WHEN i % 13 = 1 THEN NULL WHEN i = 0 THEN 255 ELSE i % 256 END::UTINYINT AS utinyint_col,
  CASE WHEN i % 13 = 2 THEN NULL WHEN i = 0 THEN 65535 ELSE i * 13 % 65536 END::USMALLINT AS usmallint_col,
  CASE WHEN i % 13 = 3 THEN NULL WHEN i = 0 THEN 4294967295 ELSE i * 104729 END::UINTEGER AS uinteger_col,
  CASE WHEN i % 13 = 4 THEN NULL WHEN i = 0 THEN 18446744073709551615::UBIGINT ELSE (i * 1000000000039)::UBIGINT END AS ubigint_col,
  CASE WHEN i % 17 = 1 THEN NULL WHEN i = 0 THEN 'NaN'::FLOAT WHEN i = 1 THEN 'inf'::FLOAT WHEN i = 2 THEN '-inf'::FLOAT WHEN i = 3 THEN -0.0::FLOAT ELSE (i / 7.0 - 300)::FLOAT END AS float_col,
  CASE WHEN i % 17 = 2 THEN NULL WHEN i = 0 THEN 'NaN'::DOUBLE WHEN i = 1 THEN 'inf'::DOUBLE WHEN i = 3 THEN '-inf'::DOUBLE WHEN i = 4 THEN 1e308 WHEN i = 5 THEN 5e-324 ELSE i / 3.0 - 800 END::DOUBLE AS double_col,
  CASE WHEN i % 19 = 1 THEN NULL WHEN i = 0 THEN '-99.99'::DECIMAL(4,2) ELSE (((i % 19999) - 9999)::DECIMAL(18,0) / 100)::DECIMAL(4,2) END AS dec4_col,
  CASE WHEN i % 19 = 2 THEN NULL WHEN i = 0 THEN '-999999999999.999999'::DECIMAL(18,6) WHEN i = 1 THEN '999999999999.999999'::DECIMAL(18,6) ELSE ((i * 123456789 - 300000000000)::DECIMAL(18,0) / 1000000)::DECIMAL(18,6) END AS dec18_col,
  CASE WHEN i % 19 = 3 THEN NULL WHEN i = 0 THEN '-9999999999999999999999999999.9999999999'::DECIMAL(38,10) WHEN i = 1 THEN '9999999999999999999999999999.9999999999'::DECIMAL(38,10) ELSE (i::DECIMAL(38,10) * '987654321987.1234567891'::DECIMAL(38,10) - '1000000000000000'::DECIMAL(38,10))::DECIMAL(38,10) END AS dec38_col,
  CASE WHEN i % 23 = 1 THEN NULL WHEN i = 0 THEN DATE '0001-01-01' WHEN i = 2 THEN DATE '9999-12-31' ELSE DATE '1969-12-25' + (i * 3)::INTEGER END AS date_col,
  CASE WHEN i % 23 = 2 THEN NULL WHEN i = 0 THEN TIME '23:59:59.999999' ELSE TIME '00:00:00' + INTERVAL (i * 17123457) MICROSECOND END AS time_col,
  CASE WHEN i % 23 = 3 THEN NULL WHEN i = 0 THEN TIMESTAMP '1677-09-22 00:00:00' WHEN i = 1 THEN TIMESTAMP '2262-04-11 23:47:16.854775' ELSE TIMESTAMP '1969-12-31 23:59:59.123456' + INTERVAL (i * 86400123457) MICROSECOND END AS ts_col,
  CASE WHEN i % 23 = 4 THEN NULL ELSE TIMESTAMPTZ '2020-02-29 12:00:00+00' + INTERVAL (i * 3600000001) MICROSECOND END AS tstz_col,
  CASE WHEN i % 23 = 5 THEN NULL ELSE (TIMESTAMP '1960-01-01 00:00:00' + INTERVAL (i * 86400001) MILLISECOND)::TIMESTAMP_MS END AS ts_ms_col,
  CASE WHEN i % 23 = 6 THEN NULL ELSE ('1969-12-31 00:00:00'::TIMESTAMP_NS + INTERVAL (i * 1000) SECOND + to_microseconds(i)) END::TIMESTAMP_NS AS ts_ns_col,
  CASE WHEN i % 29 = 1 THEN NULL WHEN i % 29 = 2 THEN '' WHEN i = 0 THEN 'quote " backslash \ tab' || chr(9) || 'nl' || chr(10) || 'ctl' || chr(1) || ' é ☃ 😀' ELSE 'str-' || (i % 500) END AS varchar_col,
  CASE WHEN i % 997 = 5 THEN repeat('long', 5000) || i ELSE NULL END AS long_varchar_col,
  CASE WHEN i % 29 = 3 THEN NULL WHEN i % 29 = 4 THEN ''::BLOB ELSE ('\x00\xFF' || (i % 100)::VARCHAR)::BLOB END AS blob_col,
  CASE WHEN i % 31 = 1 THEN NULL ELSE md5(i::VARCHAR)::UUID END AS uuid_col,
  CASE WHEN i % 31 = 2 THEN NULL ELSE to_months((i % 30)::INTEGER) + to_days((i % 40)::INTEGER) + to_milliseconds(i * 1001) END AS interval_col,
  CASE WHEN i % 31 = 3 THEN NULL ELSE (['sad', 'ok', 'happy', 'ünïcode'])[i % 4 + 1]::mood END AS enum_col,
  CASE WHEN i % 37 = 1 THEN NULL WHEN i % 37 = 2 THEN []::INTEGER[] ELSE [i::INTEGER, NULL, (i * 2)::INTEGER][1:(i % 4)] END AS int_list,
  CASE WHEN i % 37 = 3 THEN NULL WHEN i % 37 = 4 THEN [] ELSE [['a' || i, NULL], NULL, [], ['z']][1:(i % 5)] END AS nested_list,
  [i::INTEGER, (i + 1)::INTEGER, NULL]::INTEGER[3] AS fixed_array,
  CASE WHEN i % 41 = 1 THEN NULL ELSE {'a': CASE WHEN i % 5 = 0 THEN NULL ELSE i::INTEGER END, 'inner': CASE WHEN i % 6 = 0 THEN NULL ELSE {'c': 'c' || i, 'd': i / 4.0} END} END AS struct_col,
  CASE WHEN i % 41 = 2 THEN NULL WHEN i % 41 = 3 THEN MAP {} ELSE MAP {'k' || i: i::INTEGER, 'kk' || i: CASE WHEN i % 2 = 0 THEN NULL ELSE -i::INTEGER END} END AS map_col,
  CASE WHEN i % 43 = 1 THEN NULL ELSE [{'x': i::INTEGER, 'y': 'y' || i}, NULL, {'x': NULL, 'y': NULL}][1:(i % 4)] END AS struct_list,
  CASE WHEN i % 43 = 2 THEN NULL ELSE {'tags': CASE WHEN i % 3 = 0 THEN NULL ELSE ['t' || i, NULL, 'u'] END, 'n': i::INTEGER} END AS struct_with_list,
  CASE WHEN i % 47 = 1 THEN NULL ELSE [MAP {i::INTEGER: [{'deep': CASE WHEN i % 2 = 0 THEN NULL ELSE [i / 2.0] END}]}] END AS deep_col
FROM range({ROWS}) r(i);
"""

# Edge files beside the codec matrix: (file name, COPY source, COPY options).
EDGES = [
    ('empty.parquet', 'SELECT * FROM t LIMIT 0', 'COMPRESSION zstd'),
    ('one_row.parquet', 'SELECT * FROM t WHERE id = 7', 'COMPRESSION snappy'),
    ('all_null.parquet', 'SELECT id, NULL::INTEGER AS n_int, NULL::VARCHAR AS n_str, '
     'NULL::INTEGER[] AS n_list, NULL::STRUCT(a INTEGER) AS n_struct FROM t',
     'COMPRESSION zstd, PARQUET_VERSION v2'),
    ('many_groups.parquet', 'SELECT i AS n, i % 3 AS small, (i * 2654435761) % 4294967296 AS spread, '
     "'v' || (i % 7) AS cat FROM range(30000) r(i)", 'COMPRESSION snappy, ROW_GROUP_SIZE 2048'),
    ('projection.parquet', 'SELECT * FROM t', 'COMPRESSION gzip, PARQUET_VERSION v2'),
]
PROJECTION = ['map_col', 'id', 'struct_list', 'dec38_col']  # checked on projection.parquet


def generate(shared, node_oracle, outdir):
    """Writes every file with one DuckDB process. Returns {file name: description}."""
    files = {}
    stmts = [TABLE.replace('{ROWS}', str(ROWS))]
    for codec in CODECS:
        for version in VERSIONS:
            name = f't_{codec}_{version}.parquet'
            files[name] = f'{codec}, parquet {version}'
            stmts.append(f"COPY t TO '{os.path.join(outdir, name)}' (FORMAT parquet, "
                         f"COMPRESSION {codec}, PARQUET_VERSION {version}, ROW_GROUP_SIZE 1000);")
    for name, query, options in EDGES:
        files[name] = options
        stmts.append(f"COPY ({query}) TO '{os.path.join(outdir, name)}' (FORMAT parquet, {options});")
    r = tarnrun.duckdb(shared, node_oracle, ['--sql', '\n'.join(stmts)])
    if r.rc != 0:
        raise RuntimeError(f'DuckDB could not write the files: {r.describe()} {r.stderr[-600:]}')
    return files


def row_groups_by_file(shared, node_oracle, outdir):
    r = tarnrun.duckdb(shared, node_oracle, ['--sql', (
        "SELECT file_name, count(DISTINCT row_group_id) AS n, string_agg(DISTINCT compression, ',') AS codec "
        f"FROM parquet_metadata('{outdir}/*.parquet') GROUP BY file_name")])
    if r.rc != 0:
        raise RuntimeError(f'DuckDB parquet_metadata failed: {r.describe()}')
    out = {}
    for line in r.stdout.decode().splitlines():
        row = json.loads(line)
        out[os.path.basename(row['file_name'])] = (row['n'], row['codec'])
    return out


def check_file(args, shared, node_oracle, outdir, name, groups):
    path = os.path.join(outdir, name)
    oracle_rows = path + '.duckdb.jsonl'
    tarn_rows = path + '.tarn.jsonl'
    o = tarnrun.duckdb(shared, node_oracle, [path], stdout_path=oracle_rows)
    if o.rc != 0:
        return [f'DuckDB could not read its own file: {o.describe()}'], ''
    r = tarnrun.run([args.tarn, 'cat', path, '--format', 'jsonl'], TIMEOUT, stdout_path=tarn_rows)
    problems = tarnrun.contract_problems(r, allowed=(0,))
    if problems:
        return problems, ''
    same, detail = tarnrun.compare_rows(shared, oracle_rows, tarn_rows, ordered=True)
    if not same:
        return [detail], ''
    notes = [detail]
    want_groups, codec = groups.get(name, (None, '?'))
    m = tarnrun.run([args.tarn, 'meta', path], TIMEOUT)
    p = tarnrun.contract_problems(m, allowed=(0,))
    if p:
        return [f'meta: {x}' for x in p], ''
    try:
        got = len(json.loads(m.stdout).get('row_groups', []))
    except (ValueError, AttributeError) as e:
        return [f'meta is not a JSON object with row_groups: {e}'], ''
    # DuckDB lists no row group for a file without rows
    if want_groups is not None and got != want_groups:
        return [f'meta shows {got} row groups, DuckDB {want_groups}'], ''
    notes.append(f'{got} row groups, {codec}')
    if name == 'projection.parquet':
        proj = path + '.proj.jsonl'
        r = tarnrun.run([args.tarn, 'cat', path, '--format', 'jsonl', '--columns', ','.join(PROJECTION)],
                        TIMEOUT, stdout_path=proj)
        p = tarnrun.contract_problems(r, allowed=(0,))
        if p:
            return [f'--columns: {x}' for x in p], ''
        with open(proj, encoding='utf-8') as f:
            first = f.readline()
        if first and list(json.loads(first)) != PROJECTION:
            return [f'--columns {",".join(PROJECTION)}: keys {list(json.loads(first))}'], ''
        same, detail = tarnrun.compare_rows(shared, oracle_rows, proj, ordered=True, columns=PROJECTION)
        if not same:
            return [f'--columns {",".join(PROJECTION)}: {detail}'], ''
        notes.append(f'--columns {",".join(PROJECTION)} equal')
    return [], '; '.join(notes)


def main():
    args = tarnrun.arg_parser(__doc__.splitlines()[0]).parse_args()
    shared = tarnrun.shared_dir(args)
    tally = tarnrun.Tally()
    if not tarnrun.require_tarn(args.tarn, tally) or not tarnrun.require_shared(shared, tally, 'tools'):
        return tally.finish()
    node_oracle = tarnrun.oracle(shared, tally)
    if not node_oracle:
        return tally.finish()
    outdir = tempfile.mkdtemp(prefix='tarn-roundtrip-')
    try:
        try:
            files = generate(shared, node_oracle, outdir)
            groups = row_groups_by_file(shared, node_oracle, outdir)
        except RuntimeError as e:
            tally.fail('generate files with DuckDB', str(e))
            return tally.finish()
        names = list(files)
        results = tarnrun.parallel_map(
            lambda n: check_file(args, shared, node_oracle, outdir, n, groups), names, args.jobs)
        for name, (problems, note) in zip(names, results):
            tally.result(f'{name} [{files[name]}]', problems, note)
    finally:
        if args.keep:
            print(f'kept {outdir}')
        else:
            shutil.rmtree(outdir, ignore_errors=True)
    return tally.finish()


if __name__ == '__main__':
    sys.exit(main())
