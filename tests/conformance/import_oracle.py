#!/usr/bin/env python3
"""CSV and JSON-lines imports equal DuckDB's read_csv / read_json of the same files.

The script writes CSV and JSON-lines files into a temporary directory (a product catalog like
DESIGN.md's {product_id, name, price, category, updated_at} with 30000 rows, so that values past
both readers' 20480-row samples are converted too; quoted fields with delimiters, quotes and line
ends inside; CRLF files; nulls; columns mixing types; an explicit schema; no header; another
delimiter; events and Delta-log-like actions with nested objects, arrays and missing keys; big
integers; dates, times and timestamps). For each file:

  - `tarn copy SRC DST.parquet [options]` succeeds, and `tarn cat DST.parquet --format jsonl` equals
    DuckDB's `SELECT * FROM read_csv(SRC, ...)` / `read_json(SRC, ...)`, row for row, in order;
  - the column types printed by `tarn schema DST.parquet` equal DuckDB's `DESCRIBE` of the same
    query (DuckDB's JSON type is stored by tarn as VARCHAR holding the same text: the two names
    are taken as equal).

Files with a bad row past the sample must fail in both (tarn with exit 1 and a message naming the
line and the column), and with --skip-bad-rows / ignore_errors=true both must keep the same rows.

A missing oracle (node/npm) is a failure, not a skip: `make test` installs it.

usage: import_oracle.py [--tarn build/tarn] [--shared ../shared] [--jobs 2] [--keep]
Ends with `N passed, N failed`; exits 1 if any failed.
"""
import json
import os
import random
import re
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tarnrun  # noqa: E402

TIMEOUT = 300
CATALOG_ROWS = 30000  # more than the 20480 rows both readers sample


def csv_quote(v):
    if v is None:
        return ''
    if any(c in v for c in ',"\r\n') or v != v.strip():
        return '"' + v.replace('"', '""') + '"'
    return v


def catalog_csv(rng, line_end='\n'):
    names = ['Widget', 'Gadget, large', 'Say "hi"', 'two\nlines', 'Caf\u00e9 \u2603', 'Bolt']
    cats = ['tools', 'toys', 'food', 'books', None]
    out = ['product_id,name,price,category,updated_at,in_stock,launched,sku']
    for i in range(CATALOG_ROWS):
        name = None if i % 97 == 5 else f'{names[i % len(names)]} {i}'
        price = None if i % 89 == 3 else (str(i % 50) if i % 7 == 0 else f'{rng.randint(0, 99999) / 100:.2f}')
        cat = cats[i % len(cats)]
        ts = None if i % 83 == 1 else (
            f'2024-{i % 12 + 1:02d}-{i % 28 + 1:02d} {i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d}'
            if i % 2 else f'2024-{i % 12 + 1:02d}-{i % 28 + 1:02d}T{i % 24:02d}:{i % 60:02d}:00.{i % 1000:03d}')
        stock = None if i % 79 == 2 else ('true' if i % 3 else 'false')
        launched = f'20{i % 24:02d}-{i % 12 + 1:02d}-{i % 28 + 1:02d}'
        sku = f'{i:06d}'  # leading zeros: text, as DuckDB infers
        row = [str(i + 1), csv_quote(name), price or '', csv_quote(cat), ts or '', stock or '',
               launched, sku]
        out.append(','.join(row))
    return line_end.join(out) + line_end


def mixed_csv():
    lines = ['ints_decimals,dates_strings,all_null,flags,big,tz,t,quoted_num,spaced,dt_ts']
    for i in range(300):
        lines.append(','.join([
            str(i) if i % 2 else f'{i}.25',
            f'2023-05-{i % 28 + 1:02d}' if i != 150 else 'not a date',
            '',
            ['true', 'false', 'T', 'F', 'yes', 'no'][i % 6],
            str(9223372036854775807 - i) if i % 2 else str(-9223372036854775807 + i),
            f'2024-01-01 {i % 24:02d}:00:00+02' if i % 3 else f'2024-01-01T{i % 24:02d}:30:00Z',
            f'{i % 24:02d}:{i % 60:02d}:{i % 60:02d}',
            f'"{i * 3}"',
            f' {i} ',
            '2024-01-01' if i % 2 else '2024-01-01 10:00:00',
        ]))
    return '\n'.join(lines) + '\n'


def crlf_quotes_csv(delim=','):
    rows = [['id', 'text', 'n']]
    for i in range(50):
        rows.append([str(i), f'line one{delim} still {i}\r\nline "two"', str(i * 10)])
        rows.append([str(i + 1000), '', ''])
    return ''.join(delim.join(
        '"' + c.replace('"', '""') + '"' if (any(x in c for x in '"\r\n' + delim)) else c
        for c in r) + '\r\n' for r in rows)


def no_header_csv():
    return ''.join(f'{i},v{i},{i / 4}\n' for i in range(100))


def schema_csv():
    lines = ['id,price,day,note,at']
    for i in range(100):
        lines.append(f'{i:03d},{i * 1.005:.3f},2024-02-{i % 29 + 1:02d},{i:04d},2024-03-01 10:{i % 60:02d}:00')
    return '\n'.join(lines) + '\n'


def bad_value_csv():
    lines = ['id,qty']
    for i in range(21000):
        lines.append(f'{i},{i % 100}')
    lines.append('21000,abc')  # line 21002: past the sample
    for i in range(21001, 21100):
        lines.append(f'{i},{i % 100}')
    return '\n'.join(lines) + '\n'


def bad_count_csv():
    lines = ['id,qty']
    for i in range(21000):
        lines.append(f'{i},{i % 100}')
    lines.append('21000,1,2')  # line 21002: three fields
    lines.append('21001')      # line 21003: one field
    for i in range(21002, 21100):
        lines.append(f'{i},{i % 100}')
    return '\n'.join(lines) + '\n'


def events_jsonl(rng):
    types = ['view', 'click', 'purchase']
    out = []
    for i in range(3000):
        o = {'event_id': i, 'user_id': rng.randint(1, 10 ** 12), 'event_type': types[i % 3],
             'timestamp': f'2024-01-{i % 28 + 1:02d} {i % 24:02d}:{i % 60:02d}:{(i * 13) % 60:02d}'}
        data = {'page': f'/p/{i % 50}', 'ms': i * 3}
        if i % 4:
            data['tags'] = [f't{j}' for j in range(i % 3)]
        if i % 5 == 0:
            data['ref'] = None
        if i % 7 == 0:
            data['cart'] = {'items': [{'sku': f'{i:05d}', 'qty': j + 1, 'price': 9.99 + j} for j in range(i % 3)],
                            'coupon': None if i % 2 else 'SAVE10'}
        o['data'] = data
        if i % 11:
            o['amount'] = (i % 100) if i % 2 else (i % 100) + 0.5
        if i % 13 == 0:
            o['flag'] = i % 2 == 0
        out.append(json.dumps(o, separators=(',', ':'), ensure_ascii=i % 2 == 0))
    return '\n'.join(out) + '\n'


def delta_actions_jsonl():
    out = [json.dumps({'protocol': {'minReaderVersion': 1, 'minWriterVersion': 2}}),
           json.dumps({'metaData': {'id': 'abc', 'format': {'provider': 'parquet'},
                                    'schemaString': '{"type":"struct","fields":[]}',
                                    'partitionColumns': ['date'], 'createdTime': 1700000000000}})]
    for i in range(500):
        if i % 10 == 9:
            out.append(json.dumps({'remove': {'path': f'part-{i:05d}.parquet',
                                              'deletionTimestamp': 1700000000000 + i, 'dataChange': True}}))
        else:
            stats = json.dumps({'numRecords': i * 10, 'minValues': {'id': i}, 'maxValues': {'id': 3372885942334257169 + i}})
            out.append(json.dumps({'add': {'path': f'date=2023-10-{i % 28 + 1:02d}/part-{i:05d}.parquet',
                                           'partitionValues': {'date': f'2023-10-{i % 28 + 1:02d}'},
                                           'size': 1000 + i, 'modificationTime': 1700000000000 + i,
                                           'dataChange': True, 'stats': stats}}))
    out.append(json.dumps({'commitInfo': {'timestamp': 1700000000000, 'operation': 'WRITE',
                                          'operationParameters': {'mode': 'Append'}, 'isBlindAppend': True}}))
    return '\n'.join(out) + '\n'


def mixed_jsonl():
    vals = [1, 'x', [1, 'y'], {'k': [1, 2.5]}, True, None, 2.5]
    out = []
    for i in range(60):
        out.append(json.dumps({'id': i, 'mixed': vals[i % len(vals)], 'arr': [i, str(i)] if i % 2 else [],
                               'nulls': None, 'empties': [], 'ints_floats': i if i % 3 else i + 0.125,
                               'nested_mixed': {'a': i if i % 2 else f's{i}', 'b': [{'c': i}]}},
                              separators=(',', ':')))
    return '\n'.join(out) + '\n'


def numbers_jsonl():
    vals = [0, -0, 1, -1, 9223372036854775807, -9223372036854775808, 9007199254740993,
            1234567890123456789, 42]
    dbl = ['0.1', '1e-7', '2.5E+10', '-0.0', '1.7976931348623157e308', '123456789.123456789', '1e2', '3.0', '-2.5']
    out = []
    for i in range(len(vals)):
        out.append('{"i":%d,"d":%s,"s":"%d"}' % (vals[i], dbl[i], vals[i]))
    return '\n'.join(out) + '\n'


def temporal_jsonl():
    out = []
    for i in range(100):
        out.append(json.dumps({
            'd': f'2020-{i % 12 + 1:02d}-{i % 28 + 1:02d}',
            'ts_space': f'2021-03-{i % 28 + 1:02d} {i % 24:02d}:{i % 60:02d}:05',
            'ts_t_frac': f'2021-03-{i % 28 + 1:02d}T{i % 24:02d}:00:00.{i:03d}',
            'ts_zone': f'2021-03-{i % 28 + 1:02d}T{i % 24:02d}:00:00+02:00',
            'ts_z': f'2021-03-{i % 28 + 1:02d}T10:00:00Z',
            't': f'{i % 24:02d}:{i % 60:02d}',
            'not_ts': f'2021-03-01 {i % 24:02d}:00' if i % 2 else f'2021-03-01T{i % 24:02d}:00:00',
            'date_or_text': '2020-01-01' if i != 50 else 'soon'}))
    return '\n'.join(out) + '\n'


def bad_jsonl(clean=False):
    out = [json.dumps({'id': i, 'v': i % 100}) for i in range(21000)]
    if not clean:
        out.append('{"id": 21000, "v": "abc"}')   # line 21001: a string in a BIGINT column
        out.append('{"id": 21001, "v": 1')        # line 21002: not JSON
    out += [json.dumps({'id': i, 'v': i % 100}) for i in range(21002, 21050)]
    return '\n'.join(out) + '\n'


CSV_OPTS = "header=true, delim=',', quote='\"', escape='\"'"

# name, file name, text (None: written by an earlier case), tarn copy options, DuckDB table
# expression ({p} is the file's path, {dir} the directory), what to expect
# ('rows': same rows and types; 'error LINE COLUMN': both fail, tarn naming the line and column)
def cases(rng):
    return [
        ('catalog', 'catalog.csv', catalog_csv(rng), [], f"read_csv('{{p}}', {CSV_OPTS})", 'rows'),
        ('catalog CRLF', 'catalog_crlf.csv', catalog_csv(random.Random(2), '\r\n'), [],
         f"read_csv('{{p}}', {CSV_OPTS})", 'rows'),
        ('mixed types', 'mixed.csv', mixed_csv(), [], f"read_csv('{{p}}', {CSV_OPTS})", 'rows'),
        ('quotes and CRLF', 'crlf.csv', crlf_quotes_csv(), [], f"read_csv('{{p}}', {CSV_OPTS})", 'rows'),
        ('delimiter ;', 'semicolon.csv', crlf_quotes_csv(';'), ['--delimiter', ';'],
         "read_csv('{p}', header=true, delim=';', quote='\"', escape='\"')", 'rows'),
        ('no header', 'noheader.csv', no_header_csv(), ['--no-header'],
         "read_csv('{p}', header=false, delim=',', quote='\"', escape='\"')", 'rows'),
        ('explicit schema', 'schema.csv', schema_csv(),
         ['--schema', 'id INTEGER, price DECIMAL(10,2), day DATE, note VARCHAR, at TIMESTAMP'],
         "read_csv('{p}', " + CSV_OPTS + ", columns={'id': 'INTEGER', 'price': 'DECIMAL(10,2)', "
         "'day': 'DATE', 'note': 'VARCHAR', 'at': 'TIMESTAMP'})", 'rows'),
        ('bad value past the sample', 'bad_value.csv', bad_value_csv(), [],
         f"read_csv('{{p}}', {CSV_OPTS})", 'error 21002 qty'),
        ('bad value skipped', 'bad_value.csv', None, ['--skip-bad-rows'],
         f"read_csv('{{p}}', {CSV_OPTS}, ignore_errors=true)", 'rows'),
        ('wrong field count', 'bad_count.csv', bad_count_csv(), [],
         f"read_csv('{{p}}', {CSV_OPTS})", 'error 21002 -'),
        ('wrong field count skipped', 'bad_count.csv', None, ['--skip-bad-rows'],
         f"read_csv('{{p}}', {CSV_OPTS}, ignore_errors=true)", 'rows'),
        ('events', 'events.jsonl', events_jsonl(rng), [], "read_json('{p}')", 'rows'),
        ('delta actions', 'delta.jsonl', delta_actions_jsonl(), [], "read_json('{p}')", 'rows'),
        ('mixed JSON', 'mixed.jsonl', mixed_jsonl(), [], "read_json('{p}')", 'rows'),
        ('numbers JSON', 'numbers.jsonl', numbers_jsonl(), [], "read_json('{p}')", 'rows'),
        ('temporal JSON', 'temporal.jsonl', temporal_jsonl(), [], "read_json('{p}')", 'rows'),
        ('JSON explicit schema', 'events.jsonl', None,
         ['--schema', 'event_id INTEGER, event_type VARCHAR, data STRUCT(page VARCHAR, tags VARCHAR[]), amount DOUBLE'],
         "read_json('{p}', columns={'event_id': 'INTEGER', 'event_type': 'VARCHAR', "
         "'data': 'STRUCT(page VARCHAR, tags VARCHAR[])', 'amount': 'DOUBLE'})", 'rows'),
        ('JSON bad line past the sample', 'bad.jsonl', bad_jsonl(), [], "read_json('{p}')", 'error 21001 v'),
        # DuckDB's ignore_errors keeps a row of nulls where tarn skips the line: compare with
        # DuckDB reading the file without the two bad lines.
        ('JSON bad lines skipped', 'bad.jsonl', None, ['--skip-bad-rows'],
         "read_json('{dir}/bad_clean.jsonl')", 'rows'),
        ('(the file above without its bad lines)', 'bad_clean.jsonl', bad_jsonl(clean=True), [],
         "read_json('{p}')", 'rows'),
    ]


def duck_types(shared, node_oracle, expr):
    r = tarnrun.duckdb(shared, node_oracle, ['--sql', f'DESCRIBE SELECT * FROM {expr}'])
    if r.rc != 0:
        return None, r
    out = []
    for line in r.stdout.decode().splitlines():
        row = json.loads(line)
        out.append(f"{row['column_name']} {row['column_type']}")
    return out, r


def normalize_type(t):
    """DuckDB's type names made comparable with tarn's: JSON is VARCHAR in the Parquet file tarn
    writes (the same text); field names that are SQL keywords are quoted by DuckDB; and DuckDB's
    JSON reader types a column holding both negative and non-negative integers as HUGEINT (its
    parser reads non-negative numbers as unsigned), where tarn keeps BIGINT with the same values
    (docs/internals/import.md)."""
    t = re.sub(r'\bJSON\b', 'VARCHAR', t)
    t = re.sub(r'"(\w+)"', r'\1', t)
    return re.sub(r'\bHUGEINT\b', 'BIGINT', t)


def check(args, shared, node_oracle, outdir, case):
    name, fname, _text, opts, expr, expect = case
    src = os.path.join(outdir, fname)
    dst = os.path.join(outdir, re.sub(r'\W+', '_', name) + '.parquet')
    expr = expr.replace('{p}', src.replace("'", "''")).replace('{dir}', outdir.replace("'", "''"))
    r = tarnrun.run([args.tarn, 'copy', src, dst] + opts, TIMEOUT)
    if expect.startswith('error'):
        _, line, column = expect.split()
        problems = tarnrun.contract_problems(r, allowed=(1,))
        if r.rc == 0:
            problems.append('tarn copy succeeded on a file with a bad row')
        msg = r.stderr_lines()[0] if r.stderr_lines() else ''
        if f'line {line}' not in msg or (column != '-' and f'column {column}' not in msg):
            problems.append(f'the message does not name line {line}' +
                            (f' and column {column}' if column != '-' else '') + f': {msg[:200]}')
        d = tarnrun.duckdb(shared, node_oracle, ['--sql', f'SELECT * FROM {expr}'])
        if d.rc == 0:
            problems.append('DuckDB read the file without an error (the case is not what it claims)')
        return problems, msg[:160]
    problems = tarnrun.contract_problems(r, allowed=(0,))
    if problems:
        return [f'tarn copy: {p}' for p in problems], ''
    tarn_rows = dst + '.tarn.jsonl'
    duck_rows = dst + '.duckdb.jsonl'
    c = tarnrun.run([args.tarn, 'cat', dst, '--format', 'jsonl'], TIMEOUT, stdout_path=tarn_rows)
    problems = tarnrun.contract_problems(c, allowed=(0,))
    if problems:
        return [f'tarn cat: {p}' for p in problems], ''
    d = tarnrun.duckdb(shared, node_oracle, ['--sql', f'SELECT * FROM {expr}'], stdout_path=duck_rows)
    if d.rc != 0:
        return [f'DuckDB failed: {d.describe()} {d.stderr[-300:]}'], ''
    same, detail = tarnrun.compare_rows(shared, duck_rows, tarn_rows, ordered=True)
    if not same:
        problems.append(f'rows differ: {detail}')
    want, dr = duck_types(shared, node_oracle, expr)
    if want is None:
        return problems + [f'DuckDB DESCRIBE failed: {dr.describe()}'], ''
    s = tarnrun.run([args.tarn, 'schema', dst], TIMEOUT)
    p = tarnrun.contract_problems(s, allowed=(0,))
    if p:
        return problems + [f'tarn schema: {x}' for x in p], ''
    got = [l for l in s.stdout.decode().splitlines() if l.strip()]
    want = [normalize_type(t) for t in want]
    if got != want:
        diff = [f'{w!r} vs tarn {g!r}' for w, g in zip(want, got) if w != g]
        if len(got) != len(want):
            diff.append(f'{len(want)} columns vs tarn {len(got)}')
        problems.append('types differ: DuckDB ' + '; '.join(diff[:4]))
    return problems, detail if not problems else ''


def main():
    args = tarnrun.arg_parser(__doc__.splitlines()[0]).parse_args()
    shared = tarnrun.shared_dir(args)
    tally = tarnrun.Tally()
    if not tarnrun.require_tarn(args.tarn, tally) or not tarnrun.require_shared(shared, tally, 'tools'):
        return tally.finish()
    node_oracle = tarnrun.oracle(shared, tally)
    if not node_oracle:
        return tally.finish()
    outdir = tempfile.mkdtemp(prefix='tarn-import-')
    try:
        all_cases = cases(random.Random(1))
        for _, fname, text, _, _, _ in all_cases:
            if text is not None:
                with open(os.path.join(outdir, fname), 'w', encoding='utf-8', newline='') as f:
                    f.write(text)
        results = tarnrun.parallel_map(lambda c: check(args, shared, node_oracle, outdir, c),
                                       all_cases, args.jobs)
        for case, (problems, note) in zip(all_cases, results):
            tally.result(f'{case[0]} [{case[1]}]', problems, note)
    finally:
        if args.keep:
            print(f'kept {outdir}')
        else:
            shutil.rmtree(outdir, ignore_errors=True)
    return tally.finish()


if __name__ == '__main__':
    sys.exit(main())
