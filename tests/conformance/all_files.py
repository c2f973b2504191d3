#!/usr/bin/env python3
"""Every Parquet file in the shared test data, read whole under the sanitizers.

The table-format folders (Delta, Iceberg, Hudi, DAT) hold some 1500 data files written by Spark,
delta-rs, Flink, pyiceberg, DuckDB and others. Each must read with exit 0, produce as many rows as
its footer says (the footer read by DuckDB, the independent oracle), and never trip a sanitizer.
Files that must be refused are listed below with the error they must give; files under bad_data/
may be read or refused, but cleanly.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import tarnrun  # noqa: E402

# path suffix -> text the one error line must contain
MUST_REFUSE = {
    'parquet-testing/data/large_string_map.brotli.parquet': 'more than 1 GiB uncompressed',
    'parquet-testing/data/datapage_v1-corrupt-checksum.parquet': 'CRC checksum mismatch',
    # Zero-byte placeholders in hudi-rs's timeline fixtures.
    'commits_stub/a.parquet': 'not a Parquet file',
    'commits_stub/part1/b.parquet': 'not a Parquet file',
    'commits_stub/part2/part22/c.parquet': 'not a Parquet file',
    'commits_stub/part3/part32/part33/d.parquet': 'not a Parquet file',
}
TIMEOUT = 120


def main():
    args = tarnrun.arg_parser(__doc__.splitlines()[0]).parse_args()
    shared = tarnrun.shared_dir(args)
    tally = tarnrun.Tally()
    if not tarnrun.require_tarn(args.tarn, tally) or not tarnrun.require_shared(shared, tally, 'testdata'):
        return tally.finish()
    root = os.path.join(shared, 'testdata')
    files = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs
                   if f.endswith('.parquet') and not f.startswith('._'))
    node_oracle = tarnrun.oracle(shared, tally)
    if node_oracle is None:
        return tally.finish()
    node, oracle_dir = node_oracle
    r = tarnrun.run([node, os.path.join(HERE, 'footer_rows.mjs')], 900,
                    env=dict(os.environ, ORACLE_DIR=oracle_dir), stdin_data=json.dumps(files).encode())
    if r.rc != 0:
        tally.fail('DuckDB footer row counts', r.describe() + ' ' + r.stderr[:300])
        return tally.finish()
    rows = dict(json.loads(l) for l in r.stdout.decode().splitlines() if l.strip())

    def check(path):
        rel = tarnrun.rel(shared, path)
        res = tarnrun.run([args.tarn, 'cat', path, '--format', 'jsonl'], TIMEOUT)
        problems = tarnrun.contract_problems(res)
        refuse = next((v for k, v in MUST_REFUSE.items() if rel.endswith(k)), None)
        if problems:
            return rel, problems, ''
        if refuse is not None:
            if res.rc == 0 or refuse not in res.stderr:
                return rel, ['must be refused with "%s", got exit %d %s' % (refuse, res.rc, res.stderr.strip()[:200])], ''
            return rel, [], 'refused as it must be'
        if '/bad_data/' in path:
            return rel, [], 'read' if res.rc == 0 else 'refused cleanly'
        if res.rc != 0:
            return rel, [res.stderr.strip()[:300]], ''
        got = res.stdout.count(b'\n')
        want = rows.get(path)
        if want is None:
            return rel, [], '%d rows (DuckDB cannot read this footer)' % got
        if got != want:
            return rel, ['%d rows, the footer (per DuckDB) says %d' % (got, want)], ''
        return rel, [], ''

    for rel, problems, note in tarnrun.parallel_map(check, files, args.jobs):
        tally.result(rel, problems, note)
    return tally.finish()


if __name__ == '__main__':
    sys.exit(main())
