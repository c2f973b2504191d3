#!/usr/bin/env python3
"""Behaviour of the `tarn` command: exit codes, error lines, options and output formats.

Expected values are hand-written from the test data's own documentation (parquet-testing's
README.md and *.md files) or taken from DuckDB's expected rows beside the files, never from tarn.
The encryption options (--footer-key, --column-key, --aad-prefix) are tested by encryption.py.

usage: cli.py [--tarn build/tarn] [--shared ../shared] [--keep]
Ends with `N passed, N failed`; exits 1 if any failed.
"""
import csv
import io
import json
import os
import re
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tarnrun  # noqa: E402

T = 60  # seconds per command
DATA = 'parquet-testing/data'


class Cli:
    def __init__(self, args, shared, tally, scratch):
        self.tarn, self.shared, self.tally, self.scratch = args.tarn, shared, tally, scratch

    def data(self, name):
        return os.path.join(self.shared, 'testdata', DATA, name)

    def expected_rows(self, name):
        with open(self.data(name) + '.expected.jsonl', encoding='utf-8') as f:
            return [json.loads(l) for l in f if l.strip()]

    def run(self, *argv, timeout=T):
        return tarnrun.run([self.tarn, *argv], timeout)

    def check(self, name, r, allowed, must_mention=(), note=''):
        """Contract plus: the error line mentions each of must_mention (case-insensitive)."""
        problems = tarnrun.contract_problems(r, allowed=allowed)
        if not problems and r.rc != 0:
            line = r.stderr_lines()[0]
            for word in must_mention:
                if word.lower() not in line.lower():
                    problems.append(f'error line does not mention {word!r}: {line}')
            note = note or line
        if not problems and r.rc != 0 and r.stdout.strip():
            problems.append(f'failed but printed to stdout: {r.stdout[:100]!r}')
        self.tally.result(name, problems, note)
        return not problems

    def jsonl(self, r):
        return [json.loads(l) for l in r.stdout.decode('utf-8').splitlines() if l.strip()]

    # ---- usage errors: exit 2 ----
    def usage(self):
        pq = self.data('alltypes_plain.parquet')
        cases = [
            ('no arguments', []),
            ('unknown command', ['frobnicate', pq]),
            ('cat without a file', ['cat']),
            ('schema without a file', ['schema']),
            ('meta without a file', ['meta']),
            ('unknown option', ['cat', pq, '--no-such-option']),
            ('unknown format', ['cat', pq, '--format', 'xml']),
            ('--format without a value', ['cat', pq, '--format']),
            ('--limit not a number', ['cat', pq, '--limit', 'ten']),
            ('--columns without a value', ['cat', pq, '--columns']),
            ('--footer-key hex: not hex', ['cat', pq, '--footer-key', 'hex:xyz']),
            ('--column-key without PATH:', ['cat', pq, '--column-key', 'hex00112233445566778899aabbccddeeff']),
        ]
        for name, argv in cases:
            r = self.run(*argv)
            problems = []
            if r.timed_out or r.signal or any(m in r.stderr for m in tarnrun.SANITIZER_MARKERS):
                problems = tarnrun.contract_problems(r, allowed=(2,))
            elif r.rc != 2:
                problems.append(f'exit {r.rc}, expected 2 (usage)')
            elif not any(l.startswith(tarnrun.ERROR_PREFIX) or l.lower().startswith('usage')
                         for l in r.stderr_lines()):
                problems.append(f'stderr has neither a "tarn: error:" nor a usage line: {r.stderr[:200]!r}')
            self.tally.result(f'usage: {name} -> exit 2', problems, (r.stderr_lines() or [''])[0][:120])

    # ---- missing and non-Parquet files ----
    def bad_files(self):
        missing = os.path.join(self.scratch, 'no-such-file.parquet')
        for sub in ('cat', 'schema', 'meta'):
            self.check(f'{sub}: missing file -> exit 5 naming it', self.run(sub, missing), (5,),
                       must_mention=[missing])
        plain = self.data('alltypes_plain.parquet')
        raw = open(plain, 'rb').read()
        cases = {
            'text.parquet': b'this is not a parquet file\n' * 10,
            'empty.parquet': b'',
            'magic-only.parquet': b'PAR1',
            'two-magics.parquet': b'PAR1PAR1',
            'truncated.parquet': raw[:len(raw) // 2],
            'no-tail-magic.parquet': raw[:-4] + b'XXXX',
            'footer-too-long.parquet': raw[:-8] + (len(raw) * 4).to_bytes(4, 'little') + b'PAR1',
        }
        for fname, content in cases.items():
            path = os.path.join(self.scratch, fname)
            with open(path, 'wb') as f:
                f.write(content)
            for sub in ('cat', 'schema', 'meta'):
                self.check(f'{sub}: {fname} -> exit 4 naming the file', self.run(sub, path), (4,),
                           must_mention=[fname])

    # ---- --columns ----
    def columns(self):
        name = 'alltypes_plain.parquet'
        exp = self.expected_rows(name)
        want = ['string_col', 'id', 'bool_col']
        r = self.run('cat', self.data(name), '--format', 'jsonl', '--columns', ','.join(want))
        problems = tarnrun.contract_problems(r, allowed=(0,))
        if not problems:
            rows = self.jsonl(r)
            keys = {tuple(row) for row in rows}
            if keys != {tuple(want)}:
                problems.append(f'keys {sorted(keys)} != {want} (requested order)')
            got = sorted(json.dumps(row, sort_keys=True) for row in rows)
            exp_p = sorted(json.dumps({k: e[k] for k in want}, sort_keys=True) for e in exp)
            if got != exp_p:
                problems.append(f'projected rows differ from DuckDB\'s: {got[:2]} vs {exp_p[:2]}')
        self.tally.result('cat --columns string_col,id,bool_col: keys in that order, values', problems)

        nested = 'nullable.impala.parquet'
        exp = self.expected_rows(nested)
        r = self.run('cat', self.data(nested), '--format', 'jsonl', '--columns', 'nested_struct,id')
        problems = tarnrun.contract_problems(r, allowed=(0,))
        if not problems:
            actual = os.path.join(self.scratch, 'nested.jsonl')
            open(actual, 'wb').write(r.stdout)
            keys = {tuple(row) for row in self.jsonl(r)}
            if keys != {('nested_struct', 'id')}:
                problems.append(f'keys {sorted(keys)}')
            same, detail = tarnrun.compare_rows(self.shared, self.data(nested) + '.expected.jsonl',
                                                actual, columns=['nested_struct', 'id'])
            if not same:
                problems.append(detail)
        self.tally.result('cat --columns of a nested struct column', problems)

        self.check('cat --columns with an unknown column -> exit 1 naming it',
                   self.run('cat', self.data(name), '--columns', 'id,no_such_column'), (1,),
                   must_mention=['no_such_column'])

    # ---- --limit ----
    def limit(self):
        name = 'alltypes_tiny_pages.parquet'  # 7300 rows in many small pages
        exp = self.expected_rows(name)
        for n in (1, 3, 1000):
            r = self.run('cat', self.data(name), '--format', 'jsonl', '--limit', str(n))
            problems = tarnrun.contract_problems(r, allowed=(0,))
            if not problems:
                rows = self.jsonl(r)
                if len(rows) != n:
                    problems.append(f'{len(rows)} rows')
                elif rows != exp[:n]:
                    problems.append(f'not the first {n} rows of the file: {rows[:1]} vs {exp[:1]}')
            self.tally.result(f'cat --limit {n}: the first {n} rows', problems)
        r = self.run('cat', self.data('alltypes_plain.parquet'), '--format', 'jsonl', '--limit', '100')
        problems = tarnrun.contract_problems(r, allowed=(0,))
        if not problems and len(self.jsonl(r)) != 8:
            problems.append(f'{len(self.jsonl(r))} rows, the file has 8')
        self.tally.result('cat --limit beyond the end: every row', problems)

    # ---- csv and table ----
    def formats(self):
        name = 'alltypes_plain.parquet'
        exp = self.expected_rows(name)
        header = list(exp[0])
        r = self.run('cat', self.data(name), '--format', 'csv')
        problems = tarnrun.contract_problems(r, allowed=(0,))
        if not problems:
            rows = list(csv.reader(io.StringIO(r.stdout.decode('utf-8'))))
            if not rows or rows[0] != header:
                problems.append(f'header {rows[:1]} != {header}')
            elif len(rows) - 1 != len(exp):
                problems.append(f'{len(rows) - 1} data rows, expected {len(exp)}')
            else:
                got = sorted((int(x[header.index('id')]), int(x[header.index('int_col')])) for x in rows[1:])
                want = sorted((e['id'], e['int_col']) for e in exp)
                if got != want:
                    problems.append(f'(id, int_col) values {got} != {want}')
        self.tally.result('cat --format csv: header, row count, values', problems)

        r = self.run('cat', self.data(name), '--format', 'csv', '--limit', '3', '--columns', 'id,bool_col')
        problems = tarnrun.contract_problems(r, allowed=(0,))
        if not problems:
            rows = list(csv.reader(io.StringIO(r.stdout.decode('utf-8'))))
            if rows[:1] != [['id', 'bool_col']] or len(rows) != 4:
                problems.append(f'got {rows}')
        self.tally.result('cat --format csv --columns id,bool_col --limit 3', problems)

        # A quoted field: strings with commas/quotes must survive a CSV round trip.
        r = self.run('cat', self.data('nested_lists.snappy.parquet'), '--format', 'csv')
        problems = tarnrun.contract_problems(r, allowed=(0,))
        if not problems:
            rows = list(csv.reader(io.StringIO(r.stdout.decode('utf-8'))))
            exp_n = self.expected_rows('nested_lists.snappy.parquet')
            if not rows or rows[0] != list(exp_n[0]) or len(rows) != len(exp_n) + 1:
                problems.append(f'got {rows[:2]}... ({len(rows)} lines)')
            else:
                try:
                    got = sorted(json.dumps(json.loads(x[0])) for x in rows[1:])
                    want = sorted(json.dumps(e['a']) for e in exp_n)
                    if got != want:
                        problems.append(f'nested column as JSON in CSV: {got} != {want}')
                except ValueError as e:
                    problems.append(f'nested value is not JSON text: {e}')
        self.tally.result('cat --format csv with nested values (JSON text in quoted fields)', problems)

        r = self.run('cat', self.data(name), '--format', 'table')
        problems = tarnrun.contract_problems(r, allowed=(0,))
        if not problems:
            text = r.stdout.decode('utf-8')
            head = '\n'.join(text.splitlines()[:3])
            missing = [h for h in header if h not in head]
            if missing:
                problems.append(f'header lacks {missing}')
            # one line per row: each data line starts with its row's id and also holds the row's
            # string_col ("0" or "1", printed as base64 binary: MA== / MQ==)
            ids = sorted(int(m.group(1)) for l in text.splitlines()
                         for m in [re.match(r'^\W*(\d+)\b.*\bM[AQ]==', l)] if m)
            if ids != sorted(e['id'] for e in exp):
                problems.append(f'data lines start with ids {ids}, expected {sorted(e["id"] for e in exp)}')
        self.tally.result('cat --format table: header and one line per row', problems)

        r = self.run('cat', self.data(name), '--format', 'table', '--columns', 'id', '--limit', '5')
        problems = tarnrun.contract_problems(r, allowed=(0,))
        if not problems:
            lines = r.stdout.decode('utf-8').splitlines()
            data = [l for l in lines if re.fullmatch(r'\W*\d+\W*', l)]
            if len(data) != 5 or not any('id' in l for l in lines[:3]):
                problems.append(f'{len(data)} data lines (want 5); output {lines[:8]}')
        self.tally.result('cat --format table --columns id --limit 5', problems)

    # ---- meta ----
    def meta(self):
        facts = [
            # int32_with_null_pages.md: 1 row group, 1000 rows, 275 nulls, min/max
            ('int32_with_null_pages.parquet', 1, 1000, 1,
             {'null_count': 275}, [-2136906554, 2145722375]),
            # delta_binary_packed.md: 1 row group of 200 rows, 66 columns
            ('delta_binary_packed.parquet', 1, 200, 66, {}, []),
            # data/README.md: sort_columns.parquet has two row groups (3 rows each: 6 expected rows)
            ('sort_columns.parquet', 2, 6, 2, {}, []),
            # fixed_length_byte_array.md: 1000 rows, 105 nulls
            ('fixed_length_byte_array.parquet', 1, 1000, 1, {'null_count': 105}, []),
        ]
        for name, n_rg, n_rows, n_cols, stats, minmax in facts:
            r = self.run('meta', self.data(name))
            problems = tarnrun.contract_problems(r, allowed=(0,))
            if not problems:
                try:
                    doc = json.loads(r.stdout)
                except ValueError as e:
                    doc = None
                    problems.append(f'not JSON: {e}')
                if doc is not None:
                    problems += meta_problems(doc, n_rg, n_rows, n_cols, stats, minmax)
            self.tally.result(f'meta {name}: JSON with {n_rg} row group(s), {n_rows} rows, '
                              f'{n_cols} column chunk(s)' + (', statistics' if stats or minmax else ''),
                              problems)

    # ---- schema ----
    def schema(self):
        for name in ('alltypes_plain.parquet', 'nullable.impala.parquet',
                     'delta_binary_packed.parquet', 'unknown-logical-type.parquet',
                     'repeated_primitive_no_list.parquet'):
            r = self.run('schema', self.data(name))
            problems = tarnrun.contract_problems(r, allowed=(0,))
            if not problems:
                text = r.stdout.decode('utf-8')
                names = set()
                for row in self.expected_rows(name):
                    collect_names(row, names)
                missing = sorted(n for n in names if not re.search(
                    r'(?<![\w])%s(?![\w])' % re.escape(n), text))
                if missing:
                    problems.append(f'does not name {missing[:10]}')
            self.tally.result(f'schema {name}: names every column', problems)

def collect_names(value, names):
    """Every column and struct field name in a canonical row. A MAP's entries print as
    {"key": ..., "value": ...} objects whatever the schema calls those fields: not names."""
    if isinstance(value, dict):
        is_map_entry = set(value) == {'key', 'value'}
        for k, v in value.items():
            if not is_map_entry:
                names.add(k)
            collect_names(v, names)
    elif isinstance(value, list):
        for v in value:
            collect_names(v, names)


def walk(doc):
    """Every (key, value) pair in a JSON document, depth first."""
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield k, v
            yield from walk(v)
    elif isinstance(doc, list):
        for v in doc:
            yield from walk(v)


def meta_problems(doc, n_rg, n_rows, n_cols, stats, minmax):
    problems = []
    rgs = doc.get('row_groups') if isinstance(doc, dict) else None
    if not isinstance(rgs, list):
        return ['no top-level "row_groups" array']
    if len(rgs) != n_rg:
        problems.append(f'{len(rgs)} row groups, expected {n_rg}')
    rows = doc.get('num_rows')
    if rows != n_rows:
        problems.append(f'top-level num_rows {rows!r}, expected {n_rows}')
    if rgs and isinstance(rgs[0], dict):
        lists = [v for k, v in rgs[0].items() if isinstance(v, list)]
        if not any(len(v) == n_cols for v in lists):
            problems.append(f'row group 0 has no list of {n_cols} column chunks '
                            f'(lists of {[len(v) for v in lists]})')
    pairs = list(walk(rgs))
    for key, want in stats.items():
        if not any(key in k and v == want for k, v in pairs):
            problems.append(f'no "{key}" of {want} in the row groups')
    for want in minmax:
        if not any(v == want or v == str(want) for _, v in pairs):
            problems.append(f'statistic value {want} not found')
    return problems


def main():
    args = tarnrun.arg_parser(__doc__.splitlines()[0]).parse_args()
    shared = tarnrun.shared_dir(args)
    tally = tarnrun.Tally()
    if not tarnrun.require_tarn(args.tarn, tally) or \
            not tarnrun.require_shared(shared, tally, 'testdata/' + DATA):
        return tally.finish()
    scratch = tempfile.mkdtemp(prefix='tarn-cli-')
    try:
        cli = Cli(args, shared, tally, scratch)
        for part in (cli.usage, cli.bad_files, cli.columns, cli.limit, cli.formats, cli.meta,
                     cli.schema):
            part()
    finally:
        if args.keep:
            print(f'kept {scratch}')
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return tally.finish()


if __name__ == '__main__':
    sys.exit(main())
