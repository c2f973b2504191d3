#!/usr/bin/env python3
"""Malformed and fuzzer-found files end with a clear error or a read, never a crash or a hang.

Every file under parquet-testing/bad_data/, arrow-testing/data/parquet/fuzzing/ and
arrow-testing/data/parquet/encoding-fuzzing/ (inputs of Arrow's encoding fuzz target, not Parquet
files at all) goes through `tarn cat --format jsonl`, `tarn schema` and `tarn meta`, each with a
time limit. Each run must exit 0 or with a documented error code (1 bad input, 4 corrupt data,
5 I/O), print exactly one `tarn: error: ` line on stderr when it fails, print no sanitizer report,
and stay below a memory cap.

The same contract is checked, as group "unverified", on the valid files that have no expected
rows and are not in ORACLE_FAILURES.txt (shredded variants, encrypted files read without their
keys, arrow-testing's own Parquet files): there only robustness can be checked.

usage: bad_data.py [--tarn build/tarn] [--shared ../shared] [--jobs 2]
Ends with `N passed, N failed`; exits 1 if any failed.
"""
import glob
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tarnrun  # noqa: E402

TIMEOUT = 20        # seconds per command
MAX_RSS_MB = 1024   # bad input must be refused long before memory runs out (ASan included)

BAD_DIRS = (
    'parquet-testing/bad_data',
    'arrow-testing/data/parquet/fuzzing',
    'arrow-testing/data/parquet/encoding-fuzzing',
)
# Valid files nobody states the rows of (relative to testdata/, globs).
UNVERIFIED = (
    'parquet-testing/shredded_variant/*.parquet',
    'parquet-testing/data/*.parquet.encrypted',
    'parquet-testing/data/aes256/*.parquet.encrypted',
    'arrow-testing/data/parquet/*.parquet',
    'arrow-testing/data/parquet/generated_simple_numerics/*.parquet',
)
COMMANDS = (('cat', '--format', 'jsonl'), ('schema',), ('meta',))


def check(args, path):
    problems = []
    outcomes = []
    for sub in COMMANDS:
        r = tarnrun.run([args.tarn, sub[0], path, *sub[1:]], TIMEOUT)
        p = tarnrun.contract_problems(r, max_rss_mb=MAX_RSS_MB)
        problems += [f'{sub[0]}: {x}' for x in p]
        if not p:
            outcomes.append(f'{sub[0]}: ' + ('ok' if r.rc == 0 else
                                              f'{r.rc} {r.stderr_lines()[0][len(tarnrun.ERROR_PREFIX):][:120]}'))
    return problems, '; '.join(outcomes)


def main():
    args = tarnrun.arg_parser(__doc__.splitlines()[0]).parse_args()
    shared = tarnrun.shared_dir(args)
    tally = tarnrun.Tally()
    if not tarnrun.require_tarn(args.tarn, tally) or \
            not tarnrun.require_shared(shared, tally, *('testdata/' + d for d in BAD_DIRS[:2])):
        return tally.finish()
    testdata = os.path.join(shared, 'testdata')
    groups = []
    for d in BAD_DIRS:
        root = os.path.join(testdata, d)
        if os.path.isdir(root):
            groups += [('bad', os.path.join(root, f)) for f in sorted(os.listdir(root))
                       if os.path.isfile(os.path.join(root, f))]
    for pattern in UNVERIFIED:
        groups += [('unverified', f) for f in sorted(glob.glob(os.path.join(testdata, pattern)))]
    print(f'{sum(g == "bad" for g, _ in groups)} bad files, '
          f'{sum(g == "unverified" for g, _ in groups)} unverified valid files; '
          f'commands: {", ".join(c[0] for c in COMMANDS)}; {TIMEOUT} s and {MAX_RSS_MB} MB each', flush=True)
    results = tarnrun.parallel_map(lambda g: check(args, g[1]), groups, args.jobs)
    for (group, path), (problems, note) in zip(groups, results):
        tally.result(f'[{group}] {tarnrun.rel(shared, path)}', problems, note)
    return tally.finish()


if __name__ == '__main__':
    sys.exit(main())
