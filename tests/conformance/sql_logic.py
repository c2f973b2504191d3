#!/usr/bin/env python3
"""SQL logic tests: every query of tests/sql/*.test run by `tarn sql` equals DuckDB's answer.

A .test file is a list of blocks separated by blank lines (docs/internals/sql-testing.md):

    # a comment (a line starting with '#', anywhere)
    query [ordered]
    SELECT ... FROM read_parquet('${DATA}/tpch/lineitem/*.parquet') ...
    <blank line ends the block>

    error SUBSTRING
    SELECT nosuchcol FROM ...

A `query` block may hold several statements separated by ';' (CREATE TABLE ... AS, COPY ... TO,
then a query): tarn runs the whole block in one process (`tarn sql -c BLOCK --format jsonl`) and
prints the last statement's rows; DuckDB runs the same statements one by one on one connection
and the last one's rows are the expected rows. `ordered` compares rows in order (queries with
ORDER BY), otherwise as a multiset. A `---- duckdb` line inside a query block starts the text
DuckDB runs instead of the block's own (only where the two dialects name a function differently,
e.g. to_char vs strftime); the expected rows still come from DuckDB, never from tarn.

An `error` block passes when tarn exits 1 with exactly one stderr line `tarn: error: ...` that
contains SUBSTRING (case-insensitive); DuckDB is not consulted.

${DATA} is the generated data directory (tests/sql/gen_data.mjs, run once per generator version
into the cache directory); ${TMP} is an empty scratch directory of the block (one for tarn, another
for DuckDB), also the working directory of the tarn process.

Expected rows are DuckDB's, computed at test time and cached under the cache directory (default:
the tarn command's build directory, `sql_logic/`), keyed by a hash of the DuckDB text, the data
generator, the DuckDB package version and the shared duckdb_canonical.mjs: the first run computes
them all (tests/sql/oracle_batch.mjs runs many blocks in one node process), later runs reuse them.

usage: sql_logic.py [--tarn build/tarn] [--shared ../shared] [--jobs 2] [--keep] [--cache DIR]
                    [--filter TEXT] [--tarn-args "ARGS"] [--oracle-only] [FILE.test ...]
Ends with `N passed, N failed`; exits 1 if any failed.
"""
import hashlib
import json
import os
import re
import shlex
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tarnrun  # noqa: E402

SQL_DIR = os.path.join(tarnrun.REPO, 'tests', 'sql')
GEN = os.path.join(SQL_DIR, 'gen_data.mjs')
BATCH = os.path.join(SQL_DIR, 'oracle_batch.mjs')
# Options of gen_data.mjs for the test data (small: the default run is under ASan on 2 cores).
GEN_ARGS = ['--sf', '0.01', '--events', '240000', '--days', '3', '--products', '1000',
            '--event-files', '4', '--lineitem-files', '4', '--row-group-size', '10000', '--threads', '1']
TARN_TIMEOUT = 180
ORACLE_CHUNK = 60          # blocks per node process (each keeps its results until it exits)
# Status lines a statement without rows may print ("SELECT 42", "COPY 1000", "CREATE TABLE").
STATUS_LINE = re.compile(r'^[A-Z][A-Z ]*( -?\d+)*$')


class Block:
    def __init__(self, path, line, kind, arg):
        self.path, self.line, self.kind = path, line, kind
        self.ordered = kind == 'query' and arg == 'ordered'
        self.expect_error = arg if kind == 'error' else None
        self.lines, self.duck_lines = [], None
        self.key = None

    @property
    def name(self):
        return f'{os.path.basename(self.path)}:{self.line}'

    @property
    def text(self):
        return '\n'.join(self.lines).strip()

    @property
    def duck_text(self):
        return '\n'.join(self.duck_lines).strip() if self.duck_lines is not None else self.text


def parse(path):
    """Blocks of a .test file, or raises ValueError naming the line at fault."""
    blocks, cur = [], None
    with open(path, encoding='utf-8') as f:
        lines = f.read().split('\n')
    for n, raw in enumerate(lines, 1):
        line = raw.rstrip()
        if line.startswith('#'):
            continue
        if not line.strip():
            cur = None
            continue
        if cur is None:
            words = line.split(None, 1)
            kind, arg = words[0], (words[1].strip() if len(words) > 1 else '')
            if kind == 'query' and arg in ('', 'ordered'):
                cur = Block(path, n, kind, arg)
            elif kind == 'error' and arg:
                cur = Block(path, n, kind, arg)
            else:
                raise ValueError(f'{path}:{n}: expected "query [ordered]" or "error SUBSTRING", got {line!r}')
            blocks.append(cur)
            continue
        if line.strip() == '---- duckdb':
            if cur.kind != 'query' or cur.duck_lines is not None or not cur.lines:
                raise ValueError(f'{path}:{n}: "---- duckdb" belongs once inside a query block, after its SQL')
            cur.duck_lines = []
            continue
        (cur.duck_lines if cur.duck_lines is not None else cur.lines).append(raw)
    for b in blocks:
        if not b.text or (b.duck_lines is not None and not b.duck_text):
            raise ValueError(f'{path}:{b.line}: block without SQL')
    return blocks


def split_statements(sql):
    """Splits on ';' outside quotes, quoted identifiers and comments; drops empty statements."""
    out, cur, i, n = [], [], 0, len(sql)
    while i < n:
        c = sql[i]
        if c in ("'", '"'):
            j = i + 1
            while j < n:
                if sql[j] == c:
                    if j + 1 < n and sql[j + 1] == c:
                        j += 2
                        continue
                    break
                j += 1
            cur.append(sql[i:j + 1])
            i = j + 1
        elif sql.startswith('--', i):
            j = sql.find('\n', i)
            j = n if j < 0 else j
            cur.append(sql[i:j])
            i = j
        elif sql.startswith('/*', i):
            j = sql.find('*/', i + 2)
            j = n if j < 0 else j + 2
            cur.append(sql[i:j])
            i = j
        elif c == ';':
            out.append(''.join(cur))
            cur = []
            i += 1
        else:
            cur.append(c)
            i += 1
    out.append(''.join(cur))
    return [s.strip() for s in out if s.strip() and not all(
        l.strip().startswith('--') or not l.strip() for l in s.strip().splitlines())]


def sha(*parts):
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else str(p).encode('utf-8'))
        h.update(b'\0')
    return h.hexdigest()


def file_bytes(path):
    with open(path, 'rb') as f:
        return f.read()


def duckdb_version(oracle_dir):
    try:
        with open(os.path.join(oracle_dir, 'node_modules', '@duckdb', 'node-api', 'package.json')) as f:
            return json.load(f).get('version', '?')
    except (OSError, ValueError):
        return '?'


def subst(text, data, tmp):
    return text.replace('${DATA}', data).replace('${TMP}', tmp)


def ensure_data(cache, node_oracle, tally):
    """The generated data directory for this generator version: made once, atomically."""
    node, oracle_dir = node_oracle
    version = sha(file_bytes(GEN), ' '.join(GEN_ARGS), duckdb_version(oracle_dir))[:16]
    data = os.path.join(cache, f'data-{version}')
    if os.path.isfile(os.path.join(data, 'DONE')):
        return data
    for old in os.listdir(cache):     # data of older generator versions
        if old.startswith('data-'):
            shutil.rmtree(os.path.join(cache, old), ignore_errors=True)
    tmp = tempfile.mkdtemp(prefix='gen-', dir=cache)
    r = tarnrun.run([node, GEN, tmp, *GEN_ARGS], 900, env=dict(os.environ, ORACLE_DIR=oracle_dir))
    if r.rc != 0:
        tally.fail('generate data', f'gen_data.mjs failed ({r.describe()}): {r.stderr.strip()[-600:]}')
        shutil.rmtree(tmp, ignore_errors=True)
        return None
    with open(os.path.join(tmp, 'DONE'), 'w') as f:
        f.write(' '.join(GEN_ARGS) + '\n')
    try:
        os.rename(tmp, data)
    except OSError:       # another run made it meanwhile
        shutil.rmtree(tmp, ignore_errors=True)
        if not os.path.isfile(os.path.join(data, 'DONE')):
            raise
    return data


def unaliased(names):
    """Result column names that show an expression was left without an alias (DuckDB names it by
    its text, PostgreSQL "?column?" or the function name): a bug of the test file."""
    return [c for c in names if re.search(r'[()\s*+/<>=|-]', c) or c == '?column?']


def run_oracle(blocks, data, cache, scratch, node_oracle, shared, jobs, tally):
    """Fills cache/expected/KEY.jsonl for every query block missing there. Returns {key: error}."""
    node, oracle_dir = node_oracle
    exp_dir = os.path.join(cache, 'expected')
    os.makedirs(exp_dir, exist_ok=True)
    canon = os.path.join(shared, 'tools', 'duckdb_canonical.mjs')
    salt = sha(data, duckdb_version(oracle_dir), file_bytes(canon))
    todo, seen = [], set()
    for b in blocks:
        if b.kind != 'query':
            continue
        b.key = sha(salt, b.duck_text)[:32]
        if b.key in seen or os.path.isfile(os.path.join(exp_dir, b.key + '.jsonl')):
            continue
        seen.add(b.key)
        dtmp = os.path.join(scratch, 'duckdb', b.key)
        os.makedirs(dtmp, exist_ok=True)
        todo.append({'key': b.key, 'statements': split_statements(subst(b.duck_text, data, dtmp))})
    errors = {}
    if not todo:
        return errors
    out_dir = os.path.join(scratch, 'oracle-out')
    os.makedirs(out_dir, exist_ok=True)
    chunks = [todo[i:i + ORACLE_CHUNK] for i in range(0, len(todo), ORACLE_CHUNK)]

    def one(args):
        i, chunk = args
        jobs_path = os.path.join(scratch, f'oracle-jobs-{i}.json')
        with open(jobs_path, 'w', encoding='utf-8') as f:
            json.dump(chunk, f)
        return tarnrun.run([node, BATCH, canon, jobs_path, out_dir], 1800,
                           env=dict(os.environ, ORACLE_DIR=oracle_dir))

    print(f'computing DuckDB results of {len(todo)} blocks ({len(chunks)} node processes)', flush=True)
    for r in tarnrun.parallel_map(one, list(enumerate(chunks)), jobs):
        if r.rc != 0:
            tally.fail('oracle batch', f'oracle_batch.mjs failed ({r.describe()}): {r.stderr.strip()[-400:]}')
    for job in todo:
        k = job['key']
        res, err = os.path.join(out_dir, k + '.jsonl'), os.path.join(out_dir, k + '.err')
        if os.path.isfile(res):
            tmp = os.path.join(exp_dir, f'.{k}.{os.getpid()}')
            shutil.copyfile(res, tmp)
            os.replace(tmp, os.path.join(exp_dir, k + '.jsonl'))
        elif os.path.isfile(err):
            with open(err, encoding='utf-8', errors='replace') as f:
                errors[k] = ' '.join(f.read().split())[:400]
        else:
            errors[k] = 'no result (oracle batch died)'
    return errors


def read_rows(path):
    rows = []
    with open(path, encoding='utf-8') as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
    return rows



def check_block(b, ctx):
    """Runs one block through tarn; returns a list of problems (empty = pass)."""
    tdir = os.path.join(ctx['scratch'], 'tarn', b.name.replace('.test:', '-'))
    os.makedirs(tdir, exist_ok=True)
    sql = subst(b.text, ctx['data'], tdir)
    out = os.path.join(tdir, 'stdout.jsonl')
    # `sh -c 'cd DIR && exec tarn ...'`: the block's scratch directory is tarn's working directory
    # (tarnrun.run has no cwd option); exec keeps the pid, so the time limit and RSS are tarn's.
    cmd = ['sh', '-c', 'cd "$0" && exec "$@"', tdir, ctx['tarn'], 'sql',
           *[subst(a, ctx['data'], tdir) for a in ctx['tarn_args']], '-c', sql, '--format', 'jsonl']
    r = tarnrun.run(cmd, TARN_TIMEOUT, stdout_path=out)
    if b.kind == 'error':
        # In jsonl mode the status lines of the statements before the failing one ("SELECT 3")
        # go to stderr; they are not part of the error contract.
        r.stderr = ''.join(l for l in r.stderr.splitlines(True) if not STATUS_LINE.match(l.strip()))
        problems = tarnrun.contract_problems(r, allowed=(1,))
        if r.rc == 0 and not r.timed_out:
            return [f'expected an error containing "{b.expect_error}", but it succeeded']
        if not problems:
            msg = r.stderr_lines()[0]
            if b.expect_error.lower() not in msg.lower():
                problems.append(f'error message lacks "{b.expect_error}": {msg[:300]}')
        return problems
    problems = tarnrun.contract_problems(r, allowed=(0,))
    if problems:
        first = r.stderr_lines()[:1]
        return problems + ([f'stderr: {first[0][:300]}'] if first and r.rc != 0 else [])
    # stdout: the last statement's rows; status lines of earlier statements are tolerated.
    clean = os.path.join(tdir, 'actual.jsonl')
    with open(out, encoding='utf-8', errors='replace') as f, open(clean, 'w', encoding='utf-8') as g:
        for n, line in enumerate(f, 1):
            s = line.strip()
            if not s or STATUS_LINE.match(s):
                continue
            if not s.startswith('{'):
                return [f'stdout line {n} is not a row: {s[:200]}']
            g.write(line if line.endswith('\n') else line + '\n')
    expected = os.path.join(ctx['cache'], 'expected', b.key + '.jsonl')
    ok, detail = tarnrun.compare_rows(ctx['shared'], expected, clean, ordered=b.ordered)
    return [] if ok else [detail]


def main():
    p = tarnrun.arg_parser(__doc__.split('\n')[0])
    p.add_argument('files', nargs='*', help='test files (default: tests/sql/*.test)')
    p.add_argument('--cache', default=None,
                   help='where generated data and DuckDB results are kept (default: the build '
                        'directory of --tarn, sql_logic/)')
    p.add_argument('--filter', default=None, help='only blocks whose file:line contains this text')
    p.add_argument('--tarn-args', default='',
                   help="extra options after `tarn sql`, e.g. '--threads 2'; ${TMP} and ${DATA} in "
                        "them are replaced per block, e.g. '-w ${TMP}' (single quotes in the shell)")
    p.add_argument('--oracle-only', action='store_true',
                   help='compute and check DuckDB results only (no tarn): for writing test files')
    args = p.parse_args()
    shared = tarnrun.shared_dir(args)
    tally = tarnrun.Tally()
    tarn = os.path.abspath(args.tarn)
    if not args.oracle_only and not tarnrun.require_tarn(tarn, tally):
        return tally.finish()
    files = args.files or sorted(os.path.join(SQL_DIR, f) for f in os.listdir(SQL_DIR) if f.endswith('.test'))
    blocks = []
    for path in files:
        try:
            blocks += parse(path)
        except (OSError, ValueError) as e:
            tally.fail(f'parse {os.path.basename(path)}', str(e))
    if args.filter:
        blocks = [b for b in blocks if args.filter in b.name]
    node_oracle = tarnrun.oracle(shared, tally)
    if not node_oracle:
        return tally.finish()
    cache = os.path.abspath(args.cache or os.path.join(os.path.dirname(tarn), 'sql_logic'))
    os.makedirs(cache, exist_ok=True)
    data = ensure_data(cache, node_oracle, tally)
    if not data:
        return tally.finish()
    scratch = tempfile.mkdtemp(prefix='run-', dir=cache)
    try:
        errors = run_oracle(blocks, data, cache, scratch, node_oracle, shared, args.jobs, tally)
        ctx = {'tarn': tarn, 'tarn_args': shlex.split(args.tarn_args), 'data': data, 'cache': cache,
               'scratch': scratch, 'shared': shared}
        runnable = []
        for b in blocks:
            if b.kind == 'query':
                if b.key in errors:
                    tally.fail(b.name, f'DuckDB failed on this block (a test-file bug): {errors[b.key]}')
                    continue
                exp = os.path.join(cache, 'expected', b.key + '.jsonl')
                rows = read_rows(exp)
                bad = unaliased(rows[0].keys()) if rows else []
                if bad:
                    tally.fail(b.name, f'unaliased result columns {bad} (give every expression an alias)')
                    continue
            if args.oracle_only:
                tally.ok(b.name, f'DuckDB: {len(rows)} rows' if b.kind == 'query' else 'error block (not run)')
            else:
                runnable.append(b)
        results = tarnrun.parallel_map(lambda b: check_block(b, ctx), runnable, args.jobs)
        for b, problems in zip(runnable, results):
            tally.result(b.name, problems)
    finally:
        if args.keep:
            print(f'kept {scratch}')
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return tally.finish()


if __name__ == '__main__':
    sys.exit(main())
