#!/usr/bin/env python3
"""Reading Iceberg tables (iceberg_scan, tarn cat), checked against duckdb-iceberg's own tests.

Checks, on the complete tables under shared/testdata/duckdb-iceberg/data/persistent:
  - big_query_error: the rows `iceberg_scan` gives equal the expected rows of the first query of
    test/sql/local/iceberg_scans/big_query_read.test (read from that file at run time);
  - hive_partitioned_table (identity partitions on event_date, with partition evolution): `tarn
    cat` gives one row per data file the directory holds, and the set of event_date values equals
    the set of `event_date=...` directory names (values taken from the partition tuples, as the
    files leave the column out);
  - lineitem_iceberg: count(*) equals the sum of the record counts of the current snapshot's data
    files as stated in test/sql/local/iceberg_scans/iceberg_metadata.test's first listing;
  - a table with equality deletes is refused with an error naming its delete files, not read
    without them (reading equality deletes comes next);
  - legacy_bare_deletion_vector, whose deletion vector is a bare blob rather than a Puffin file,
    is refused, as legacy_bare_deletion_vector.test expects by default;
  - `tarn meta` on every TableMetadata*.json of iceberg-java and iceberg-rust exits 0 for the
    files their names call valid and 4 for the missing / unsupported / not-found / invalid ones.

usage: iceberg_read.py [--tarn build/tarn] [--shared ../shared]
Prints one line per check and ends with `N passed, N failed`; exits 1 if any failed.
"""
import datetime
import json
import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tarnrun  # noqa: E402

TIMEOUT = 120


def test_blocks(path):
    """(sql, expected rows as lists of strings) of every `query` block of a sqllogictest file."""
    with open(path, encoding='utf-8') as f:
        lines = f.read().split('\n')
    out, i = [], 0
    while i < len(lines):
        if lines[i].startswith('query'):
            sql, i = [], i + 1
            while i < len(lines) and lines[i] != '----':
                sql.append(lines[i])
                i += 1
            rows, i = [], i + 1
            while i < len(lines) and lines[i].strip():
                rows.append(lines[i].split('\t'))
                i += 1
            out.append((' '.join(sql), rows))
        i += 1
    return out


def tarn_rows(args, sql):
    cmd = [args.tarn, 'sql', '--format', 'jsonl', '-c', sql]
    r = tarnrun.run(cmd, TIMEOUT)
    rows = [json.loads(l) for l in r.stdout.decode().splitlines() if l.strip()] if r.rc == 0 else None
    return r, rows


def same_value(want, got):
    if got is None:
        return want == 'NULL'
    if isinstance(got, str) and re.match(r'\d{4}-\d\d-\d\dT', got):
        g = datetime.datetime.fromisoformat(got.rstrip('Z'))
        return g == datetime.datetime.fromisoformat(want)
    return str(got) == want


def main():
    args = tarnrun.arg_parser(__doc__.splitlines()[0]).parse_args()
    tally = tarnrun.Tally()
    if not tarnrun.require_tarn(args.tarn, tally):
        return tally.finish()
    shared = os.path.abspath(tarnrun.shared_dir(args))  # before the chdir below
    if not tarnrun.require_shared(shared, tally, 'testdata/duckdb-iceberg'):
        return tally.finish()
    root = os.path.abspath(os.path.join(shared, 'testdata', 'duckdb-iceberg'))
    tests = os.path.join(root, 'test', 'sql', 'local', 'iceberg_scans')
    # the tables' manifests name their files relative to the duckdb-iceberg folder, where its
    # tests run: so do these
    args.tarn = os.path.abspath(args.tarn)
    os.chdir(root)
    data = os.path.join('data', 'persistent')

    # big_query_error: the .test file's first query and rows
    sql, want = test_blocks(os.path.join(tests, 'big_query_read.test'))[0]
    r, rows = tarn_rows(args, sql)
    problems = tarnrun.contract_problems(r, allowed=(0,))
    if not problems:
        got = [list(row.values()) for row in rows]
        if len(got) != len(want) or not all(
                len(g) == len(w) and all(same_value(x, y) for x, y in zip(w, g))
                for g, w in zip(sorted(got, key=str), sorted(want, key=str))):
            problems.append('rows %s, expected %s' % (got, want))
    tally.result('big_query_error: rows equal big_query_read.test (%d rows)' % len(want), problems)

    # hive_partitioned_table: partition values from the tuples
    table = os.path.join(data, 'hive_partitioned_table')
    r = tarnrun.run([args.tarn, 'cat', table, '--format', 'jsonl'], TIMEOUT)
    problems = tarnrun.contract_problems(r, allowed=(0,))
    if not problems:
        rows = [json.loads(l) for l in r.stdout.decode().splitlines() if l.strip()]
        dirs = set()
        for d in os.listdir(os.path.join(table, 'data')):
            m = re.match(r'event_date=(\d{4}-\d\d-\d\d)$', d)
            if m:
                dirs.add(m.group(1))
        days = {row.get('event_date') for row in rows}
        if not dirs or days != dirs:
            problems.append('event_date values %s, directories %s' % (sorted(map(str, days)),
                                                                     sorted(dirs)))
        if any(row.get('user_id') is None for row in rows):
            problems.append('a row without user_id')
    tally.result('hive_partitioned_table: identity partition values from the partition tuples',
                 problems)

    # lineitem_iceberg: count(*) against iceberg_metadata.test's listing of the current snapshot
    blocks = test_blocks(os.path.join(tests, 'iceberg_metadata.test'))
    listing = next((rows for sql, rows in blocks if 'lineitem_iceberg' in sql and rows), None)
    problems = []
    if listing is None:
        problems.append('no listing in iceberg_metadata.test')
    else:
        # columns: manifest_path, manifest_sequence_number, manifest_content, status, content,
        # file_path, file_format, record_count
        live = [row for row in listing
                if len(row) >= 8 and row[3] in ('ADDED', 'EXISTING') and row[4] == 'DATA']
        want = sum(int(row[7]) for row in live)
        r, rows = tarn_rows(args, "SELECT count(*) AS n FROM iceberg_scan('%s', "
                                  "allow_moved_paths => true)"
                            % os.path.join(data, 'iceberg', 'lineitem_iceberg'))
        problems = tarnrun.contract_problems(r, allowed=(0,))
        if not live:
            problems.append('no live data file in the listing %s' % listing)
        elif not problems and rows[0]['n'] != want:
            problems.append('count %s, expected %d from the listing %s' % (rows, want, live))
    tally.result('lineitem_iceberg: count(*) equals the listed live data files\' record counts',
                 problems)

    table = os.path.join(data, 'equality_deletes', 'warehouse', 'mydb', 'mytable')
    r = tarnrun.run([args.tarn, 'sql', '-c', "SELECT count(*) FROM iceberg_scan('%s', "
                     "allow_moved_paths => true)" % table],
                    TIMEOUT)
    problems = tarnrun.contract_problems(r, allowed=(1,))
    msg = ' '.join(r.stderr_lines())
    if r.rc == 0 or 'delete files' not in msg:
        problems.append('exit %d: %s' % (r.rc, msg[:200]))
    tally.result('a snapshot with equality deletes is refused, naming its delete files', problems)

    # legacy_bare_deletion_vector: its deletion vector file is a bare blob, not a Puffin file;
    # duckdb-iceberg's test expects an error by default, and so does tarn
    table = os.path.join(data, 'legacy_bare_deletion_vector', 'warehouse', 'default',
                         'legacy_bare_deletion_vector')
    r = tarnrun.run([args.tarn, 'sql', '-c', "SELECT id FROM iceberg_scan('%s')" % table], TIMEOUT)
    problems = tarnrun.contract_problems(r, allowed=(4,))  # corrupt input
    msg = ' '.join(r.stderr_lines())
    if r.rc == 0 or 'not a Puffin file' not in msg:
        problems.append('exit %d: %s' % (r.rc, msg[:200]))
    tally.result('a deletion vector outside a Puffin file is refused (legacy_bare_deletion_vector)',
                 problems)

    # tarn meta on the iceberg-java and iceberg-rust metadata files: exit 0 for the ones named
    # valid, 4 for the ones named missing / unsupported / not found / invalid (their READMEs)
    dirs = [os.path.join(shared, 'testdata', 'iceberg-java', 'core', 'src', 'test', 'resources'),
            os.path.join(shared, 'testdata', 'iceberg-rust', 'crates', 'iceberg', 'testdata',
                         'table_metadata')]
    problems, n = [], 0
    for d in dirs:
        if not os.path.isdir(d):
            problems.append('missing %s' % d)
            continue
        for name in sorted(os.listdir(d)):
            if not (name.startswith('TableMetadata') and name.endswith('.json')):
                continue
            bad = any(w in name for w in ('Missing', 'Unsupported', 'NotFound', 'Invalid',
                                          'NoValid'))
            r = tarnrun.run([args.tarn, 'meta', os.path.join(d, name)], TIMEOUT)
            n += 1
            if r.rc != (4 if bad else 0):
                problems.append('%s: exit %d, expected %d (%s)' % (
                    name, r.rc, 4 if bad else 0, ' '.join(r.stderr_lines())[:120]))
    tally.result('tarn meta on %d Iceberg metadata files: valid ones exit 0, the others 4' % n,
                 problems)
    return tally.finish()


if __name__ == '__main__':
    sys.exit(main())
