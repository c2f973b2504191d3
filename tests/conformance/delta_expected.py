#!/usr/bin/env python3
"""Delta tables of the shared test data read by `tarn cat DIR --format jsonl` equal their expected rows.

Cases:
  - DAT (dat/tests/data/reader_tests/generated/<case>): expected/latest/table_content.jsonl for
    the latest version and expected/vN/table_content.jsonl for `--as-of N` (rows made by an
    independent reader from the Spark-written expected Parquet files).
  - delta-kernel-rs golden tables (kernel/tests/golden_data/<case>) with an expected.jsonl: the
    latest snapshot.
  - Type widening (kernel-rs and delta golden `type-widening`): equal to DuckDB reading the data
    files and casting each column to the table's latest type.
  - Every other Delta table of the shared data reads without error (`tarn cat`; `tarn meta` for
    fixtures that ship only their log), except those in REFUSED, which must be refused naming why.
  - The golden cases the kernel-rs README lists as negative (a broken log) must fail with exit 4
    (corrupt) or 1, one error line, never a crash.
Rows compare as multisets with the shared compare_rows.py.

usage: delta_expected.py [--tarn build/tarn] [--shared ../shared] [--jobs 2] [--keep]
Prints one line per check and ends with `N passed, N failed`; exits 1 if any failed.
"""
import glob
import json
import os
import re
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tarnrun  # noqa: E402

TIMEOUT = 300
DAT = os.path.join('testdata', 'dat', 'tests', 'data', 'reader_tests', 'generated')
GOLDEN = os.path.join('testdata', 'delta-kernel-rs', 'kernel', 'tests', 'golden_data')
# delta-kernel-rs README.txt: cases with a broken log that a reader must refuse.
NEGATIVE = ('deltalog-invalid-protocol-version', 'deltalog-state-reconstruction-without-metadata',
            'deltalog-state-reconstruction-from-checkpoint-missing-metadata',
            'no-delta-log-folder', 'versions-not-contiguous')


def utc_marked(column):
    """Expected rows with a Z added to the named timestamp column's values."""
    def build(path):
        rows = []
        with open(path, encoding='utf-8') as f:
            for line in f:
                if not line.strip():
                    continue
                row = json.loads(line)
                v = row.get(column)
                if isinstance(v, str) and not v.endswith('Z'):
                    row[column] = v + 'Z'
                rows.append(row)
        return rows
    return build


# Documented exceptions: expected rows that are not what tarn must print, and what is compared
# instead. Nothing is skipped silently.
EXCEPTIONS = {
    'dat/all_primitive_types@latest': {
        'build': utc_marked('timestamp'),
        'reason': 'the expected rows were read from Spark-written INT96 Parquet (canonical form '
                  'without Z); the Delta column is "timestamp" (UTC), which prints with Z: same '
                  'instants, compared with Z added'},
    'golden/data-reader-partition-values': {
        'columns': ['as_int', 'as_long', 'as_byte', 'as_short', 'as_boolean', 'as_float',
                    'as_double', 'as_string', 'as_string_lit_null', 'as_date', 'as_big_decimal',
                    'as_list_of_records',
                    'as_nested_struct', 'value'],
        'reason': 'kernel-rs skips this case: the expected as_timestamp assumes the writer\'s '
                  'session time zone (UTC-7), which the log does not record; tarn reads the '
                  'partition value "2021-09-08 11:11:11" as UTC as the protocol states; the other '
                  'columns are compared'},
}


def cases(shared):
    out = []
    for case in sorted(glob.glob(os.path.join(shared, DAT, '*'))):
        table = os.path.join(case, 'delta')
        for exp in sorted(glob.glob(os.path.join(case, 'expected', '*', 'table_content.jsonl'))):
            which = os.path.basename(os.path.dirname(exp))
            m = re.fullmatch(r'v(\d+)', which)
            if which == 'latest' or m:
                out.append(('dat/%s@%s' % (os.path.basename(case), which), table, exp,
                            m.group(1) if m else None))
    for exp in sorted(glob.glob(os.path.join(shared, GOLDEN, '*', 'expected.jsonl'))):
        case = os.path.dirname(exp)
        out.append(('golden/%s' % os.path.basename(case), os.path.join(case, 'delta'), exp, None))
    for name in NEGATIVE:
        case = os.path.join(shared, GOLDEN, name)
        table = os.path.join(case, 'delta') if os.path.isdir(os.path.join(case, 'delta')) else case
        out.append(('golden/%s (must fail)' % name, table, None, None))
    return out


def sql_cases(shared):
    """The same tables through SQL: warehouse tables, delta_scan with a version, and a filter on a
    partition column. Each case: (name, tarn arguments, expected file, None or a function giving
    the expected rows from that file: an exception's fix, or the filter applied here)."""
    out = []
    for case in sorted(glob.glob(os.path.join(shared, DAT, '*'))):
        latest = os.path.join(case, 'expected', 'latest', 'table_content.jsonl')
        if os.path.exists(latest):
            exc = EXCEPTIONS.get('dat/%s@latest' % os.path.basename(case))
            out.append(('sql/%s: warehouse table' % os.path.basename(case),
                        ['sql', '-w', case, '-c', 'SELECT * FROM delta'], latest,
                        exc['build'] if exc and 'build' in exc else None))
        for exp in sorted(glob.glob(os.path.join(case, 'expected', 'v*', 'table_content.jsonl'))):
            v = os.path.basename(os.path.dirname(exp))[1:]
            table = os.path.join(case, 'delta').replace("'", "''")
            out.append(('sql/%s: delta_scan version => %s' % (os.path.basename(case), v),
                        ['sql', '-c', "SELECT * FROM delta_scan('%s', version => %s)" % (table, v)],
                        exp, None))
    case = os.path.join(shared, DAT, 'basic_partitioned')
    table = os.path.join(case, 'delta').replace("'", "''")
    def letter_a(path):
        with open(path, encoding='utf-8') as f:
            return [r for r in (json.loads(l) for l in f if l.strip()) if r.get('letter') == 'a']
    out.append(('sql/basic_partitioned: WHERE letter = \'a\'',
                ['sql', '-c', "SELECT * FROM delta_scan('%s') WHERE letter = 'a'" % table],
                os.path.join(case, 'expected', 'latest', 'table_content.jsonl'), letter_a))
    return out


def check_sql(args, shared, case, scratch):
    name, argv, expected, build = case
    work = tempfile.mkdtemp(dir=scratch)
    actual = os.path.join(work, 'actual.jsonl')
    r = tarnrun.run([args.tarn] + argv + ['--format', 'jsonl'], TIMEOUT, stdout_path=actual)
    problems = tarnrun.contract_problems(r, allowed=(0,))
    if problems:
        return name, problems, ''
    if build:  # expected rows derived from the expected file (an exception, or a filter)
        rows = build(expected)
        expected = os.path.join(work, 'expected.jsonl')
        tarnrun.write_jsonl(expected, rows)
    same, detail = tarnrun.compare_rows(shared, expected, actual)
    shutil.rmtree(work, ignore_errors=True)
    return name, [] if same else [detail], detail if same else ''


WIDENING = (os.path.join('testdata', 'delta-kernel-rs', 'kernel', 'tests', 'data', 'type-widening'),
            os.path.join('testdata', 'delta-golden-tables', 'connectors', 'golden-tables', 'src',
                         'main', 'resources', 'golden', 'type-widening'))
DUCK_TYPES = {'long': 'BIGINT', 'integer': 'INTEGER', 'short': 'SMALLINT', 'byte': 'TINYINT',
              'double': 'DOUBLE', 'float': 'FLOAT', 'timestamp_ntz': 'TIMESTAMP', 'date': 'DATE',
              'string': 'VARCHAR', 'boolean': 'BOOLEAN'}


def widening_query(table):
    """DuckDB's reading of a type-widened table: its data files (every add in the log, none
    removed in these tables) with each column cast to the type the latest schema gives it."""
    schema, paths = None, []
    for f in sorted(glob.glob(os.path.join(table, '_delta_log', '*.json'))):
        with open(f, encoding='utf-8') as fh:
            for line in fh:
                a = json.loads(line) if line.strip() else {}
                if 'metaData' in a:
                    schema = json.loads(a['metaData']['schemaString'])
                if 'add' in a:
                    paths.append(os.path.join(table, a['add']['path']))
                if 'remove' in a:
                    raise ValueError('a remove action: this check assumes append-only tables')
    cols = []
    for fld in schema['fields']:
        t = fld['type']
        dt = DUCK_TYPES.get(t) or (t.replace('decimal', 'DECIMAL') if t.startswith('decimal') else None)
        if dt is None:
            raise ValueError('type %s not mapped' % t)
        cols.append('CAST("%s" AS %s) AS "%s"' % (fld['name'], dt, fld['name']))
    files = ', '.join("'%s'" % p.replace("'", "''") for p in paths)
    return 'SELECT %s FROM read_parquet([%s], union_by_name = true)' % (', '.join(cols), files)


def check_widening(args, shared, node_oracle, table, scratch):
    name = 'widening/%s' % tarnrun.rel(shared, table)
    work = tempfile.mkdtemp(dir=scratch)
    expected = os.path.join(work, 'expected.jsonl')
    actual = os.path.join(work, 'actual.jsonl')
    try:
        q = widening_query(table)
    except (OSError, ValueError, KeyError) as e:
        return name, ['cannot build the DuckDB query: %s' % e], ''
    d = tarnrun.duckdb(shared, node_oracle, ['--sql', q], stdout_path=expected)
    if d.rc != 0:
        return name, ['DuckDB failed: %s' % d.stderr.strip()[:300]], ''
    r = tarnrun.run([args.tarn, 'cat', table, '--format', 'jsonl'], TIMEOUT, stdout_path=actual)
    problems = tarnrun.contract_problems(r, allowed=(0,))
    if problems:
        return name, problems, ''
    same, detail = tarnrun.compare_rows(shared, expected, actual)
    shutil.rmtree(work, ignore_errors=True)
    return name, [] if same else [detail], detail if same else ''


# Tables of the shared data that tarn refuses, with the reason and what the error must say.
REFUSED = {
    'spark-variant-checkpoint': ('variant', 'the variant type is not supported yet'),
    'unshredded-variant': ('variant', 'the variant type is not supported yet'),
    'spark-shredded-variant-preview-delta': ('variantShredding-preview',
                                             'reader feature not supported'),
    'table-with-geo': ('geospatial', 'reader feature not supported'),
    'void-column': ('void', 'the void type is not supported'),
    'simple_table_features': ('reader version 5', 'reader version beyond 3'),
    'crc-malformed': ('no commits', 'a log with only a .crc file'),
    'data-reader-absolute-paths-escaped-chars': ('metaData', 'no metaData action (kernel-rs skips)'),
    'deltalog-commit-info': ('metaData', 'metaData without a schema (kernel-rs skips)'),
    'update-deleted-directory': ('metaData', 'metaData without a schema (kernel-rs skips)'),
    'delta-live-table': ('metaData', 'metaData without id or schema'),
}


def smoke_cases(shared):
    """Every other Delta table of the shared data: its rows read without error (or, for the
    fixtures that ship only their log, `tarn meta` reads the log), unless listed in REFUSED."""
    listed = {os.path.normpath(os.path.join(shared, GOLDEN, n, 'delta')) for n in NEGATIVE}
    out = []
    for log in sorted(glob.glob(os.path.join(shared, 'testdata', '**', '_delta_log'),
                                recursive=True)):
        table = os.path.dirname(log)
        if os.path.normpath(table) in listed:
            continue
        key = os.path.basename(table if os.path.basename(table) != 'delta'
                               else os.path.dirname(table))
        data = [f for f in glob.glob(os.path.join(table, '**', '*.parquet'), recursive=True)
                if '_delta_log' not in f]
        out.append((tarnrun.rel(shared, table), table, 'cat' if data else 'meta', REFUSED.get(key)))
    return out


def check_smoke(args, case):
    name, table, cmd, refused = case
    r = tarnrun.run([args.tarn, cmd, table, '--format', 'jsonl'] if cmd == 'cat'
                    else [args.tarn, cmd, table], TIMEOUT)
    label = 'smoke %s: %s' % (cmd, name)
    if refused:
        problems = tarnrun.contract_problems(r, allowed=(1, 4))
        msg = (r.stderr_lines() or [''])[0]
        if r.rc == 0:
            problems = ['read succeeded, expected a refusal (%s)' % refused[1]]
        elif refused[0] not in msg:
            problems.append('error does not mention %r: %s' % (refused[0], msg[:200]))
        return label, problems, 'refused as expected: ' + refused[1]
    return label, tarnrun.contract_problems(r, allowed=(0,)), ''


def check(args, shared, case, scratch):
    name, table, expected, version = case
    cmd = [args.tarn, 'cat', table, '--format', 'jsonl']
    if version is not None:
        cmd += ['--as-of', version]
    work = tempfile.mkdtemp(dir=scratch)
    actual = os.path.join(work, 'actual.jsonl')
    r = tarnrun.run(cmd, TIMEOUT, stdout_path=actual)
    if expected is None:
        problems = tarnrun.contract_problems(r, allowed=(1, 4))
        if r.rc == 0:
            problems = ['read succeeded; the log is broken and must be refused']
        return name, problems, (r.stderr_lines() or [''])[0][:160]
    problems = tarnrun.contract_problems(r, allowed=(0,))
    if problems:
        return name, problems, ''
    exc = EXCEPTIONS.get(name)
    columns = None
    note = ''
    if exc:
        note = 'exception: ' + exc['reason']
        if 'build' in exc:
            fixed = os.path.join(work, 'expected.jsonl')
            tarnrun.write_jsonl(fixed, exc['build'](expected))
            expected = fixed
        columns = exc.get('columns')
    same, detail = tarnrun.compare_rows(shared, expected, actual, columns=columns)
    shutil.rmtree(work, ignore_errors=True)
    return name, [] if same else [detail], '; '.join(x for x in (detail, note) if x)


def main():
    args = tarnrun.arg_parser(__doc__.splitlines()[0]).parse_args()
    shared = tarnrun.shared_dir(args)
    tally = tarnrun.Tally()
    if not tarnrun.require_tarn(args.tarn, tally) or \
            not tarnrun.require_shared(shared, tally, DAT, GOLDEN):
        return tally.finish()
    all_cases = cases(shared)
    scratch = tempfile.mkdtemp(prefix='tarn-delta-')
    try:
        for name, problems, note in tarnrun.parallel_map(
                lambda c: check(args, shared, c, scratch), all_cases, args.jobs):
            tally.result(name, problems, note)
        for name, problems, note in tarnrun.parallel_map(
                lambda c: check_sql(args, shared, c, scratch), sql_cases(shared), args.jobs):
            tally.result(name, problems, note)
        for name, problems, note in tarnrun.parallel_map(
                lambda c: check_smoke(args, c), smoke_cases(shared), args.jobs):
            tally.result(name, problems, note)
        # Columns whose type the table widened after files were written: DuckDB reads the data
        # files and casts, tarn reads the table.
        node_oracle = tarnrun.oracle(shared, tally)
        if node_oracle:
            for table in WIDENING:
                name, problems, note = check_widening(args, shared, node_oracle,
                                                      os.path.join(shared, table), scratch)
                tally.result(name, problems, note)
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    return tally.finish()


if __name__ == '__main__':
    sys.exit(main())
