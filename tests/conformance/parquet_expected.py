#!/usr/bin/env python3
"""Every `*.parquet.expected.jsonl` of the shared test data equals `tarn cat FILE --format jsonl`.

With --sql, the rows are read through the SQL engine instead (`tarn sql -c "SELECT * FROM
read_parquet('FILE')" --format jsonl`), which has its own Parquet paths (flat columns are decoded
straight into vectors, others imported from Arrow); the same expected files apply, with
SQL_EXCEPTIONS for what SQL types show differently.

The expected files were made by DuckDB (an independent reader) beside each Parquet file of
parquet-testing, iceberg-java (and arrow-testing, if it ever ships some). Rows are compared with
the shared compare_rows.py as a multiset; a pass whose order differs from DuckDB's is noted.

A few expected files are known not to be the right answer for tarn; they are listed in EXCEPTIONS
below with the reason and what is checked instead. Nothing is skipped silently.

usage: parquet_expected.py [--sql] [--tarn build/tarn] [--shared ../shared] [--jobs 2] [--keep]
Prints one line per file and ends with `N passed, N failed`; exits 1 if any failed.
"""
import base64
import fnmatch
import glob
import json
import os
import re
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tarnrun  # noqa: E402

SOURCES = ('parquet-testing', 'iceberg-java', 'arrow-testing')
TIMEOUT = 180  # seconds per file; the largest (40 000 rows) takes a few seconds under ASan


def int96_from_md(shared):
    """int96_from_spark.md lists the six values as microseconds since the epoch; the file holds
    them as INT96 (not UTC-adjusted: canonical form without Z)."""
    md = os.path.join(shared, 'testdata', 'parquet-testing', 'data', 'int96_from_spark.md')
    text = open(md, encoding='utf-8').read()
    m = re.search(r'As microseconds since the epoch, they correspond to:\s*```\s*([^`]+)```', text)
    if not m:
        raise ValueError(f'{md}: the list of microsecond values was not found')
    rows = []
    for tok in m.group(1).replace('\n', ' ').split(','):
        tok = tok.strip()
        rows.append({'a': None if tok == 'null' else micros_to_text(int(tok))})
    return rows


def civil_from_days(z):
    """Days since 1970-01-01 to (year, month, day), proleptic Gregorian, any year."""
    z += 719468
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (1 if m <= 2 else 0), m, d


def micros_to_text(us):
    days, rem = divmod(us, 86_400_000_000)
    y, mo, d = civil_from_days(days)
    s, frac = divmod(rem, 1_000_000)
    return f'{y:04d}-{mo:02d}-{d:02d}T{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.{frac:06d}'


DUCKDB_BLOB = re.compile(r'\\x([0-9A-Fa-f]{2})')


def duckdb_blob_to_base64(text):
    """DuckDB prints a GEOMETRY/GEOGRAPHY value as its blob text: printable ASCII as is (a
    backslash too), other bytes as \\xHH. Canonical binary is base64 of the bytes. (A literal
    backslash followed by "xHH" would be ambiguous; the WKB values of these files have none: each
    decodes to a well-formed WKB of exactly its length.)"""
    out = bytearray()
    i = 0
    while i < len(text):
        m = DUCKDB_BLOB.match(text, i)
        if m:
            out.append(int(m.group(1), 16))
            i = m.end()
        else:
            out.extend(text[i].encode('latin-1'))
            i += 1
    return base64.b64encode(bytes(out)).decode('ascii')


def geo_expected(shared, expected_path):
    rows = [json.loads(l) for l in open(expected_path, encoding='utf-8') if l.strip()]
    for row in rows:
        for col in ('geometry', 'geography'):
            if isinstance(row.get(col), str):
                row[col] = duckdb_blob_to_base64(row[col])
    return rows


# Documented exceptions: files whose DuckDB-made expected rows are not what tarn must print.
#   kind 'crc-error': DuckDB ignores page CRCs; tarn must verify them (issue 3), so the read must
#                     fail with exit 4 naming the column and the page. If `tarn cat` has an option
#                     to skip CRC checks, the rows read with it must equal the expected file.
#   kind 'expected':  the expected rows are built by `build(shared, expected_path)` instead.
EXCEPTIONS = [
    {
        'pattern': 'parquet-testing/data/datapage_v1-corrupt-checksum.parquet',
        'kind': 'crc-error',
        'column': 'a',  # data/README.md: column "a" page 0 has a bad CRC (and column "b" page 1)
        'reason': 'DuckDB ignores page CRCs; parquet-testing README: column "a" page 0 and column '
                  '"b" page 1 have mismatching CRCs, which tarn must report',
    },
    {
        'pattern': 'parquet-testing/data/int96_from_spark.parquet',
        'kind': 'expected',
        'build': lambda shared, exp: int96_from_md(shared),
        'reason': 'DuckDB converts INT96 through int64 nanoseconds and wraps the year-290000 value '
                  '(prints -226413-01-07T22:21:39.416064); expected rows come from the microsecond '
                  'values listed in int96_from_spark.md',
    },
    {
        'pattern': 'parquet-testing/data/geospatial/*.parquet',
        'kind': 'expected',
        'build': geo_expected,
        'reason': 'DuckDB prints GEOMETRY/GEOGRAPHY columns as its \\xHH blob text; canonical form '
                  'of that (non-string) binary is base64 of the same bytes',
    },
]


def unsigned64_as_text(keys):
    """Expected rows with the integer values of the named fields (at any depth) as strings."""
    def fix(v, key=None):
        if isinstance(v, dict):
            return {k: fix(x, k) for k, x in v.items()}
        if isinstance(v, list):
            return [fix(x) for x in v]
        if key in keys and isinstance(v, int) and not isinstance(v, bool):
            return str(v)
        return v

    def build(shared, exp):
        with open(exp, encoding='utf-8') as f:
            return [fix(json.loads(line)) for line in f if line.strip()]
    return build


UNSIGNED64_REASON = ('PostgreSQL has no unsigned 64-bit type: SQL reads UINT64 as numeric(20,0), '
                     'whose canonical form is a string; expected rows are DuckDB\'s with those '
                     'values as strings')

# Under --sql, consulted before EXCEPTIONS.
SQL_EXCEPTIONS = [
    {
        'pattern': 'parquet-testing/data/concatenated_gzip_members.parquet',
        'kind': 'expected',
        'build': unsigned64_as_text({'long_col'}),
        'reason': UNSIGNED64_REASON,
    },
    {
        'pattern': 'parquet-testing/data/nested_structs.rust.parquet',
        'kind': 'expected',
        'build': unsigned64_as_text({'count'}),  # every struct's count field is UINT64
        'reason': UNSIGNED64_REASON,
    },
]

SQL_MODE = False


def read_command(args, pq, *extra):
    if SQL_MODE:
        quoted = pq.replace("'", "''")
        return [args.tarn, 'sql', '-c', f"SELECT * FROM read_parquet('{quoted}')", '--format',
                'jsonl'] + list(extra)
    return [args.tarn, 'cat', pq, '--format', 'jsonl'] + list(extra)


def exception_for(relpath):
    for e in (SQL_EXCEPTIONS if SQL_MODE else []) + EXCEPTIONS:
        if fnmatch.fnmatch(relpath, e['pattern']):
            return e
    return None


def find_expected(shared):
    found = []
    for src in SOURCES:
        root = os.path.join(shared, 'testdata', src)
        if os.path.isdir(root):
            found += glob.glob(os.path.join(root, '**', '*.parquet.expected.jsonl'), recursive=True)
    return sorted(found)


def check_crc_error(args, shared, pq, expected, exc, scratch, crc_opt):
    """The corrupt-CRC file: exit 4, one error line naming the column and the page."""
    r = tarnrun.run(read_command(args, pq), TIMEOUT)
    problems = tarnrun.contract_problems(r, allowed=(4,))
    msg = (r.stderr_lines() or [''])[0]
    if r.rc == 0:
        problems = ['read succeeded: the page CRC mismatch was not detected']
    elif not problems:
        if not re.search(r'(?i)crc|checksum', msg):
            problems.append(f'error does not mention the CRC/checksum: {msg}')
        if not re.search(r'(?i)page', msg):
            problems.append(f'error does not name the page: {msg}')
        col = exc['column']
        if not re.search(r'''(?i)column\W{0,3}%s\b|['"`]%s['"`]''' % (col, col), msg):
            problems.append(f'error does not name column "{col}": {msg}')
    note = 'CRC mismatch reported: ' + msg[len(tarnrun.ERROR_PREFIX):] if not problems else ''
    if crc_opt and not problems and not SQL_MODE:
        actual = os.path.join(scratch, 'skipcrc.jsonl')
        r2 = tarnrun.run([args.tarn, 'cat', pq, '--format', 'jsonl', crc_opt], TIMEOUT,
                         stdout_path=actual)
        p2 = tarnrun.contract_problems(r2, allowed=(0,))
        if not p2:
            same, detail = tarnrun.compare_rows(shared, expected, actual)
            if not same:
                p2.append(f'with {crc_opt}: {detail}')
        else:
            p2 = [f'with {crc_opt}: ' + '; '.join(p2)]
        problems += p2
        note += f'; rows with {crc_opt} equal DuckDB\'s'
    elif not crc_opt or SQL_MODE:
        note += ('; rows not compared' if SQL_MODE else
                 '; `tarn cat --help` shows no option to skip CRCs, rows not compared')
    return problems, note


def check_file(args, shared, expected, scratch, crc_opt):
    pq = expected[:-len('.expected.jsonl')]
    relpath = tarnrun.rel(shared, pq)
    exc = exception_for(relpath)
    work = tempfile.mkdtemp(dir=scratch)
    if not os.path.exists(pq):
        return relpath, [f'the Parquet file beside {os.path.basename(expected)} is missing'], ''
    if exc and exc['kind'] == 'crc-error':
        problems, note = check_crc_error(args, shared, pq, expected, exc, work, crc_opt)
        return relpath, problems, f'exception: {note}'
    note = ''
    if exc and exc['kind'] == 'expected':
        try:
            rows = exc['build'](shared, expected)
        except (OSError, ValueError) as e:
            return relpath, [f'cannot build the expected rows of this exception: {e}'], ''
        expected = os.path.join(work, 'expected.jsonl')
        tarnrun.write_jsonl(expected, rows)
        note = 'exception: ' + exc['reason']
    actual = os.path.join(work, 'actual.jsonl')
    r = tarnrun.run(read_command(args, pq), TIMEOUT, stdout_path=actual)
    problems = tarnrun.contract_problems(r, allowed=(0,))
    if problems:
        return relpath, problems, ''
    same, detail = tarnrun.compare_rows(shared, expected, actual)
    if not same:
        return relpath, [detail], ''
    in_order, _ = tarnrun.compare_rows(shared, expected, actual, ordered=True)
    extra = [] if in_order else ['row order differs from DuckDB\'s']
    if r.stderr.strip():
        extra.append('stderr not empty: ' + r.stderr.strip().splitlines()[0][:200])
    if r.maxrss_kb > 512 * 1024:
        extra.append(f'peak RSS {r.maxrss_kb // 1024} MB')
    shutil.rmtree(work, ignore_errors=True)
    return relpath, [], '; '.join(x for x in [detail, note] + extra if x)


def main():
    global SQL_MODE
    parser = tarnrun.arg_parser(__doc__.splitlines()[0])
    parser.add_argument('--sql', action='store_true', help='read through tarn sql, not tarn cat')
    args = parser.parse_args()
    SQL_MODE = args.sql
    shared = tarnrun.shared_dir(args)
    tally = tarnrun.Tally()
    if not tarnrun.require_tarn(args.tarn, tally) or \
            not tarnrun.require_shared(shared, tally, 'testdata/parquet-testing', 'testdata/iceberg-java'):
        return tally.finish()
    files = find_expected(shared)
    if not files:
        tally.fail('expected files', f'no *.parquet.expected.jsonl under {shared}/testdata')
        return tally.finish()
    crc_opt = tarnrun.skip_crc_option(args.tarn)
    scratch = tempfile.mkdtemp(prefix='tarn-expected-')
    print(f'{len(files)} expected files; CRC skip option of tarn cat: {crc_opt or "none"}', flush=True)
    try:
        results = tarnrun.parallel_map(lambda f: check_file(args, shared, f, scratch, crc_opt),
                                       files, args.jobs)
        for relpath, problems, note in results:
            tally.result(relpath, problems, note)
    finally:
        if args.keep:
            print(f'kept {scratch}')
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return tally.finish()


if __name__ == '__main__':
    sys.exit(main())
