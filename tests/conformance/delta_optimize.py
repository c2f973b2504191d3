#!/usr/bin/env python3
"""`tarn optimize` (bin-packing compaction and Z-order) on Delta tables, against DuckDB.

Checks, in a scratch warehouse built with `tarn sql -w` from many small INSERTs:
  - bin-packing of a plain table (12 one-file INSERTs -> 1 file), of a partitioned one (three
    partitions holding 6, 4 and 1 files -> 1, 1 and the untouched 1), and with a target size
    that fits two files but not three (8 files of 20 rows -> 4 of 40): the live file counts are
    the ones worked out by hand from Delta's bin-packing rule; the rows (`tarn cat`) equal DuckDB's table after
    the same INSERTs and DELETEs, and DuckDB reading the live data files the log lists sees the
    same rows; `tarn cat --as-of` the version before still gives them;
  - the OPTIMIZE commit: operation OPTIMIZE with Delta's operationParameters (predicate "[]",
    zOrderBy the JSON list as a string), every add and remove with dataChange false, the
    numRemovedFiles / numAddedFiles metrics equal to the actions in the commit;
  - a second OPTIMIZE is a no-op: exit 0 and no new version;
  - deletion vectors: files carrying one are rewritten without the deleted rows (even a lone
    file), and the live files no longer have vectors;
  - Z-order by two columns with a small target size: several files, each covering a narrow
    range of both columns (the per-file ranges DuckDB computes from the Parquet files: summed
    range widths well under the files x full range of a random layout for each column, which a
    sort by one column cannot reach for the other), the log's statistics equal to
    DuckDB's per-file count/min/max, the rows unchanged; the same under a 1 MB memory limit
    (the sort spills) on 40000 rows;
  - a table with delta.appendOnly can be optimized (PROTOCOL.md: rearranging is allowed);
  - a conflict: OPTIMIZE planned on a version (--read-version) after which a DELETE rewrote a
    file it compacts exits 3 and commits nothing; one after which only an INSERT landed
    commits, keeping the appended file;
  - a Z-order column that does not exist or is a partition column, a directory that is not a
    table and bad usage are refused with one error line and nothing committed.

usage: delta_optimize.py [--tarn build/tarn] [--shared ../shared] [--keep]
Prints one line per check and ends with `N passed, N failed`; exits 1 if any failed.
"""
import json
import os
import random
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tarnrun  # noqa: E402

TIMEOUT = 120
COLUMNS = "id bigint, a bigint, b double, s text, d date"


class Ctx:
    def __init__(self, args, shared, node_oracle, wh, tally):
        self.args, self.shared, self.oracle, self.wh, self.tally = args, shared, node_oracle, wh, tally
        self.n = 0

    def path(self, name):
        self.n += 1
        return os.path.join(self.wh, '%03d_%s' % (self.n, name))


def optimize(ctx, table, *extra):
    return tarnrun.run([ctx.args.tarn, 'optimize', table, *extra], TIMEOUT)


def log_actions(table):
    out = []
    log = os.path.join(table, '_delta_log')
    for name in sorted(os.listdir(log)):
        if name.endswith('.json') and name[:20].isdigit():
            with open(os.path.join(log, name), encoding='utf-8') as f:
                out.append((int(name[:20]), [json.loads(l) for l in f if l.strip()]))
    return out


def last_version(table):
    return log_actions(table)[-1][0]


def dv_id(dv):
    return None if not dv else (dv['storageType'], dv['pathOrInlineDv'], dv.get('offset'))


def live_adds(table, upto=None):
    """The live add actions after replaying the commits up to `upto` (default: all), by path."""
    live = {}
    for v, actions in log_actions(table):
        if upto is not None and v > upto:
            break
        for a in actions:
            if 'remove' in a:
                live.pop(a['remove']['path'], None)
            if 'add' in a:
                live[a['add']['path']] = a['add']
    return live


def as_int(v):
    if isinstance(v, dict) and '__int' in v:
        return int(v['__int'])
    return int(v)


def values_sql(rows):
    def lit(v):
        if v is None:
            return 'NULL'
        if isinstance(v, str):
            return "'%s'" % v.replace("'", "''")
        return repr(v)
    return ', '.join('(%s)' % ', '.join(lit(v) for v in r) for r in rows)


def random_rows(rng, first_id, n, day=None):
    rows = []
    for i in range(n):
        rows.append((first_id + i, rng.randrange(1000), round(rng.uniform(-50, 50), 3),
                     'n%d' % rng.randrange(40) if rng.random() > 0.1 else None,
                     day or '2024-01-%02d' % rng.randrange(1, 29)))
    return rows


def duck_rows(ctx, work, name, statements):
    """DuckDB's rows of table t after the statements (its own table, no Delta involved)."""
    out = os.path.join(work, name + '.expected.jsonl')
    d = tarnrun.duckdb(ctx.shared, ctx.oracle, ['--sql', ';\n'.join(statements + ['SELECT * FROM t'])],
                       stdout_path=out)
    return out, ([] if d.rc == 0 else ['DuckDB failed: %s' % d.stderr.strip()[:300]])


def tarn_rows_problems(ctx, table, expected, tag, as_of=None):
    act = os.path.join(os.path.dirname(table), '%s.%s.jsonl' % (os.path.basename(table), tag))
    cmd = [ctx.args.tarn, 'cat', table, '--format', 'jsonl']
    if as_of is not None:
        cmd += ['--as-of', str(as_of)]
    r = tarnrun.run(cmd, TIMEOUT, stdout_path=act)
    problems = tarnrun.contract_problems(r, allowed=(0,))
    if not problems:
        same, detail = tarnrun.compare_rows(ctx.shared, expected, act)
        if not same:
            problems.append(detail)
    return problems


def files_list(table, adds):
    return ', '.join("'%s'" % os.path.join(table, p.replace('%25', '%')).replace("'", "''")
                     for p in sorted(adds))


def duck_files_problems(ctx, table, expected):
    """DuckDB reading the live data files of a non-partitioned table sees the expected rows."""
    out = os.path.join(os.path.dirname(table), os.path.basename(table) + '.duckfiles.jsonl')
    d = tarnrun.duckdb(ctx.shared, ctx.oracle, [
        '--sql', 'SELECT * FROM read_parquet([%s])' % files_list(table, live_adds(table))],
        stdout_path=out)
    if d.rc != 0:
        return ['DuckDB failed: %s' % d.stderr.strip()[:300]]
    same, detail = tarnrun.compare_rows(ctx.shared, expected, out)
    return [] if same else ['DuckDB on the live files: ' + detail]


def commit_problems(table, version, zorder):
    """The shape of an OPTIMIZE commit."""
    problems = []
    acts = dict(log_actions(table)).get(version)
    if acts is None:
        return ['no version %d' % version]
    info = [a['commitInfo'] for a in acts if 'commitInfo' in a]
    adds = [a['add'] for a in acts if 'add' in a]
    removes = [a['remove'] for a in acts if 'remove' in a]
    if len(info) != 1:
        return ['%d commitInfo actions' % len(info)]
    info = info[0]
    if info.get('operation') != 'OPTIMIZE':
        problems.append('operation %r' % info.get('operation'))
    params = info.get('operationParameters') or {}
    if params.get('predicate') != '[]':
        problems.append('predicate %r' % params.get('predicate'))
    z = params.get('zOrderBy')
    try:
        if json.loads(z) != zorder:
            problems.append('zOrderBy %r, expected %r' % (z, zorder))
    except (TypeError, ValueError):
        problems.append('zOrderBy %r is not a JSON list in a string' % (z,))
    for a in adds + removes:
        if a.get('dataChange') is not False:
            problems.append('%s has dataChange %r' % (a['path'], a.get('dataChange')))
    m = info.get('operationMetrics') or {}
    if str(len(removes)) != str(m.get('numRemovedFiles')):
        problems.append('numRemovedFiles %r for %d removes' % (m.get('numRemovedFiles'), len(removes)))
    if str(len(adds)) != str(m.get('numAddedFiles')):
        problems.append('numAddedFiles %r for %d adds' % (m.get('numAddedFiles'), len(adds)))
    if str(sum(r.get('size', 0) for r in removes)) != str(m.get('numRemovedBytes')):
        problems.append('numRemovedBytes %r' % m.get('numRemovedBytes'))
    if str(sum(a['size'] for a in adds)) != str(m.get('numAddedBytes')):
        problems.append('numAddedBytes %r' % m.get('numAddedBytes'))
    other = sorted({next(iter(a)) for a in acts} - {'commitInfo', 'add', 'remove'})
    if other:
        problems.append('unexpected actions %s' % other)
    return problems


def run_problems(r, allowed=(0,)):
    return tarnrun.contract_problems(r, allowed=allowed)


def noop_problems(ctx, table, *extra):
    before = last_version(table)
    r = optimize(ctx, table, *extra)
    problems = run_problems(r)
    if last_version(table) != before:
        problems.append('a second OPTIMIZE committed version %d' % last_version(table))
    return problems


def build(ctx, name, create_opts, statements_tarn):
    """Creates table `name` with CREATE TABLE t (...) plus the statements; returns (table dir,
    problems). Each statement is one tarn invocation, so each INSERT writes its own files."""
    twh = ctx.path(name)
    os.makedirs(twh)
    problems = []
    r = tarnrun.run([ctx.args.tarn, 'sql', '-w', twh, '-c',
                     'CREATE TABLE t (%s) USING delta%s' % (COLUMNS if create_opts[0] is None
                                                           else create_opts[0], create_opts[1])],
                    TIMEOUT)
    problems += run_problems(r)
    for s in statements_tarn:
        if problems:
            break
        r = tarnrun.run([ctx.args.tarn, 'sql', '-w', twh, '-c', s], TIMEOUT)
        problems += ['%s: %s' % (s[:60], p) for p in run_problems(r)]
    return twh, os.path.join(twh, 't'), problems


# --- bin-packing -----------------------------------------------------------------------------

def check_plain(ctx, tally):
    rng = random.Random(11)
    inserts = ['INSERT INTO t VALUES ' + values_sql(random_rows(rng, 10 * i, 1 + i % 4))
               for i in range(12)]
    twh, table, problems = build(ctx, 'plain', (None, ''), inserts)
    tally.result('plain: 12 INSERTs make 12 files', problems or
                 ([] if len(live_adds(table)) == 12 else ['%d live files' % len(live_adds(table))]))
    if problems:
        return
    expected, p = duck_rows(ctx, twh, 'plain', ['CREATE TABLE t (%s)' % COLUMNS] + inserts)
    if p:
        tally.fail('plain: DuckDB rows', p[0])
        return
    before = last_version(table)
    r = optimize(ctx, table)
    problems = run_problems(r)
    n = len(live_adds(table))
    if not problems and n != 1:
        problems.append('%d live files after OPTIMIZE, expected 1' % n)
    if not problems and last_version(table) != before + 1:
        problems.append('version %d, expected %d' % (last_version(table), before + 1))
    if not problems and ('version %d' % (before + 1)) not in r.stdout.decode():
        problems.append('the summary does not name the version: %r' % r.stdout.decode()[:200])
    tally.result('plain: OPTIMIZE compacts 12 small files into 1', problems)
    if problems:
        return
    tally.result('plain: the commit is an OPTIMIZE with dataChange false',
                 commit_problems(table, before + 1, []))
    tally.result('plain: rows equal DuckDB after the same INSERTs',
                 tarn_rows_problems(ctx, table, expected, 'after'))
    tally.result('plain: DuckDB reading the live files sees the same rows',
                 duck_files_problems(ctx, table, expected))
    tally.result('plain: --as-of the version before still gives the rows',
                 tarn_rows_problems(ctx, table, expected, 'before', as_of=before))
    tally.result('plain: a second OPTIMIZE is a no-op', noop_problems(ctx, table))


def check_partitioned(ctx, tally):
    rng = random.Random(12)
    cols = 'id bigint, a bigint, b double, s text, p text'
    inserts = []
    nid = 0

    def rows(p, n):
        nonlocal nid
        out = [(nid + i, rng.randrange(100), float(i), 's%d' % i, p) for i in range(n)]
        nid += n
        return out
    for _ in range(5):
        inserts.append('INSERT INTO t VALUES ' + values_sql(rows('x', 3)))
    for _ in range(3):
        inserts.append('INSERT INTO t VALUES ' + values_sql(rows('y', 2)))
    inserts.append('INSERT INTO t VALUES ' + values_sql(rows('z', 4)))
    inserts.append('INSERT INTO t VALUES ' + values_sql(rows('x', 2) + rows('y', 2)))
    # x: 6 files, y: 4 files, z: 1 file
    twh, table, problems = build(ctx, 'part', (cols, " WITH (partitioning = 'p')"), inserts)
    if problems:
        tally.fail('partitioned: build', problems[0])
        return
    n0 = len(live_adds(table))
    expected, p = duck_rows(ctx, twh, 'part', ['CREATE TABLE t (%s)' % cols] + inserts)
    if p:
        tally.fail('partitioned: DuckDB rows', p[0])
        return
    before = last_version(table)
    z_file = [path for path, a in live_adds(table).items() if a['partitionValues'].get('p') == 'z']
    r = optimize(ctx, table)
    problems = run_problems(r)
    live = live_adds(table)
    per = {}
    for a in live.values():
        per[a['partitionValues'].get('p')] = per.get(a['partitionValues'].get('p'), 0) + 1
    if n0 != 11:
        problems.append('%d files before OPTIMIZE, expected 11' % n0)
    if per != {'x': 1, 'y': 1, 'z': 1}:
        problems.append('files per partition %s, expected x 1, y 1, z 1' % per)
    if sorted(p for p, a in live.items() if a['partitionValues'].get('p') == 'z') != z_file:
        problems.append('the lone file of partition z was rewritten')
    tally.result('partitioned: 6 + 4 + 1 files -> 1 + 1 + the untouched 1', problems)
    if problems:
        return
    tally.result('partitioned: the commit is an OPTIMIZE removing 10 files and adding 2',
                 commit_problems(table, before + 1, []) +
                 ([] if sum('remove' in a for a in dict(log_actions(table))[before + 1]) == 10
                  else ['not 10 removes']))
    tally.result('partitioned: rows equal DuckDB after the same INSERTs',
                 tarn_rows_problems(ctx, table, expected, 'after'))
    tally.result('partitioned: a second OPTIMIZE is a no-op', noop_problems(ctx, table))


def check_target_size(ctx, tally):
    rng = random.Random(13)
    inserts = ['INSERT INTO t VALUES ' + values_sql(random_rows(rng, 100 * i, 20, '2024-02-02'))
               for i in range(8)]
    twh, table, problems = build(ctx, 'bins', (None, ''), inserts)
    if problems:
        tally.fail('target size: build', problems[0])
        return
    sizes = [a['size'] for a in live_adds(table).values()]
    # A target two files fit in and three do not: Delta's bins then pair the files up.
    target = 2 * max(sizes) + min(sizes) // 2
    if not 3 * min(sizes) > target:
        tally.fail('target size: setup', 'file sizes %s too uneven to pair them' % sorted(sizes))
        return
    expected, p = duck_rows(ctx, twh, 'bins', ['CREATE TABLE t (%s)' % COLUMNS] + inserts)
    r = optimize(ctx, table, '--target-size', str(target))
    problems = p + run_problems(r)
    n = len(live_adds(table))
    if not problems and n != 4:
        problems.append('%d live files, expected 4 (8 files in bins of 2)' % n)
    tally.result('target size: 8 files with a target fitting 2 -> 4 files', problems)
    if problems:
        return
    tally.result('target size: rows equal DuckDB', tarn_rows_problems(ctx, table, expected, 'after'))
    counts = sorted(json.loads(a['stats'])['numRecords'] for a in live_adds(table).values())
    tally.result('target size: each new file holds two old files\' rows (4 x 40)',
                 [] if counts == [40] * 4 else ['numRecords %s' % counts])


def check_deletion_vectors(ctx, tally):
    rng = random.Random(14)
    inserts = ['INSERT INTO t VALUES ' + values_sql(random_rows(rng, 10 * i, 4)) for i in range(6)]
    deletes = ['DELETE FROM t WHERE id IN (1, 2, 31, 50)', 'DELETE FROM t WHERE id = 12']
    opts = (None, " WITH (\"delta.enableDeletionVectors\" = 'true')")
    twh, table, problems = build(ctx, 'dv', opts, inserts + deletes)
    if problems:
        tally.fail('deletion vectors: build', problems[0])
        return
    with_dv = [a for a in live_adds(table).values() if a.get('deletionVector')]
    if len(with_dv) < 3:
        tally.fail('deletion vectors: setup', 'only %d files carry a vector' % len(with_dv))
        return
    expected, p = duck_rows(ctx, twh, 'dv', ['CREATE TABLE t (%s)' % COLUMNS] + inserts + deletes)
    before = last_version(table)
    r = optimize(ctx, table)
    problems = p + run_problems(r)
    live = live_adds(table)
    if not problems and len(live) != 1:
        problems.append('%d live files, expected 1' % len(live))
    if any(a.get('deletionVector') for a in live.values()):
        problems.append('a live file still has a deletion vector')
    acts = dict(log_actions(table)).get(before + 1, [])
    info = next((a['commitInfo'] for a in acts if 'commitInfo' in a), {})
    if str((info.get('operationMetrics') or {}).get('numDeletionVectorsRemoved')) != str(len(with_dv)):
        problems.append('numDeletionVectorsRemoved %r, expected %d' %
                        ((info.get('operationMetrics') or {}).get('numDeletionVectorsRemoved'),
                         len(with_dv)))
    tally.result('deletion vectors: 6 files, %d with vectors -> 1 file without' % len(with_dv),
                 problems)
    if problems:
        return
    tally.result('deletion vectors: the commit is an OPTIMIZE with dataChange false',
                 commit_problems(table, before + 1, []))
    tally.result('deletion vectors: rows equal DuckDB after the same INSERTs and DELETEs',
                 tarn_rows_problems(ctx, table, expected, 'after'))
    tally.result('deletion vectors: DuckDB reading the live file sees the rows (deleted ones gone)',
                 duck_files_problems(ctx, table, expected))
    tally.result('deletion vectors: --as-of the version before gives the same rows',
                 tarn_rows_problems(ctx, table, expected, 'before', as_of=before))
    # A lone file with a vector is rewritten too.
    lone = ['INSERT INTO t VALUES ' + values_sql(random_rows(rng, 0, 10)), 'DELETE FROM t WHERE id < 3']
    single_wh, single, problems = build(ctx, 'dv1', opts, lone)
    if not problems:
        expected1, problems = duck_rows(ctx, single_wh, 'dv1', ['CREATE TABLE t (%s)' % COLUMNS] + lone)
    if not problems:
        old = set(live_adds(single))
        r = optimize(ctx, single)
        problems = run_problems(r)
        live = live_adds(single)
        if len(live) != 1 or set(live) & old:
            problems.append('live files %s, expected one new file' % sorted(live))
        if any(a.get('deletionVector') for a in live.values()):
            problems.append('the new file has a deletion vector')
        st = json.loads(next(iter(live.values()))['stats']) if live else {}
        if st.get('numRecords') != 7:
            problems.append('numRecords %r, expected 7 (10 rows, 3 deleted)' % st.get('numRecords'))
        if not problems:
            problems += tarn_rows_problems(ctx, single, expected1, 'after')
    tally.result('deletion vectors: a lone file with a vector is rewritten without its deleted rows',
                 problems)


# --- Z-order ---------------------------------------------------------------------------------

def make_chunks(ctx, work, n_chunks, rows_per_chunk, seed):
    """Parquet files written by DuckDB: columns id, a, b (bigint, pseudo-random 0..999), s."""
    stmts = []
    paths = []
    for c in range(n_chunks):
        path = os.path.join(work, 'chunk_%d_%d.parquet' % (seed, c))
        paths.append(path)
        lo = c * rows_per_chunk
        stmts.append(
            "COPY (SELECT i::BIGINT AS id, (hash(i * 2 + %d) %% 1000)::BIGINT AS a, "
            "(hash(i * 2 + 1 + %d) %% 1000)::BIGINT AS b, 'k' || (i %% 97)::VARCHAR AS s "
            "FROM range(%d, %d) AS r(i)) TO '%s' (FORMAT parquet)" % (seed, seed, lo,
                                                                       lo + rows_per_chunk, path))
    d = tarnrun.duckdb(ctx.shared, ctx.oracle, ['--sql', ';\n'.join(stmts + ['SELECT 1 AS x'])])
    return paths, ([] if d.rc == 0 else ['DuckDB failed: %s' % d.stderr.strip()[:300]])


def per_file_stats(ctx, table, adds, out):
    """DuckDB's count, min and max of a, b and id per data file, by file path (relative)."""
    d = tarnrun.duckdb(ctx.shared, ctx.oracle, [
        '--sql', 'SELECT filename, count(*) AS n, min(a) AS min_a, max(a) AS max_a, '
        'min(b) AS min_b, max(b) AS max_b, min(id) AS min_id, max(id) AS max_id '
        'FROM read_parquet([%s], filename = true) GROUP BY filename' % files_list(table, adds)],
        stdout_path=out)
    if d.rc != 0:
        return None, ['DuckDB failed: %s' % d.stderr.strip()[:300]]
    stats = {}
    with open(out, encoding='utf-8') as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                rel = os.path.relpath(r['filename'], table)
                stats[rel] = {k: as_int(v) for k, v in r.items() if k != 'filename'}
    return stats, []


def spread(stats):
    """Per column: sum over files of (max - min) / (files x (overall max - overall min))."""
    out = {}
    for c in ('a', 'b'):
        lo = min(s['min_' + c] for s in stats.values())
        hi = max(s['max_' + c] for s in stats.values())
        width = sum(s['max_' + c] - s['min_' + c] for s in stats.values())
        out[c] = width / (len(stats) * max(hi - lo, 1))
    return out


def check_zorder(ctx, tally):
    twh = ctx.path('zorder')
    os.makedirs(twh)
    chunks, problems = make_chunks(ctx, twh, 10, 300, 0)
    cols = 'id bigint, a bigint, b bigint, s text'
    stmts = ['CREATE TABLE t (%s) USING delta' % cols] + [
        "INSERT INTO t SELECT * FROM read_parquet('%s')" % p for p in chunks]
    for s in stmts:
        if problems:
            break
        problems += run_problems(tarnrun.run([ctx.args.tarn, 'sql', '-w', twh, '-c', s], TIMEOUT))
    table = os.path.join(twh, 't')
    if problems:
        tally.fail('z-order: build', problems[0])
        return
    expected, p = duck_rows(ctx, twh, 'z', ['CREATE TABLE t (%s)' % cols] + [
        "INSERT INTO t SELECT * FROM read_parquet('%s')" % c for c in chunks])
    base, p2 = per_file_stats(ctx, table, live_adds(table), os.path.join(twh, 'base.jsonl'))
    if p or p2:
        tally.fail('z-order: DuckDB', (p + p2)[0])
        return
    total = sum(a['size'] for a in live_adds(table).values())
    before = last_version(table)
    r = optimize(ctx, table, '--zorder', 'a,b', '--target-size', str(total // 8))
    problems = run_problems(r)
    live = live_adds(table)
    if not problems and not 4 <= len(live) <= 20:
        problems.append('%d files after Z-order with a target of 1/8 of the data' % len(live))
    tally.result('z-order: rewritten into %d files of about the target size' % len(live), problems)
    if problems:
        return
    tally.result('z-order: the commit is an OPTIMIZE with zOrderBy ["a","b"]',
                 commit_problems(table, before + 1, ['a', 'b']))
    tally.result('z-order: rows equal DuckDB', tarn_rows_problems(ctx, table, expected, 'after'))
    stats, p = per_file_stats(ctx, table, live, os.path.join(twh, 'z.jsonl'))
    problems = list(p)
    if stats is not None:
        for path, a in live.items():
            rel = path.replace('%25', '%')
            s = stats.get(rel)
            log = json.loads(a['stats'])
            if s is None:
                problems.append('DuckDB did not read %s' % rel)
                continue
            want = {'numRecords': s['n'],
                    'minValues': {'a': s['min_a'], 'b': s['min_b'], 'id': s['min_id']},
                    'maxValues': {'a': s['max_a'], 'b': s['max_b'], 'id': s['max_id']}}
            got = {'numRecords': log.get('numRecords'),
                   'minValues': {k: log.get('minValues', {}).get(k) for k in ('a', 'b', 'id')},
                   'maxValues': {k: log.get('maxValues', {}).get(k) for k in ('a', 'b', 'id')}}
            if want != got:
                problems.append('%s: log stats %s, DuckDB %s' % (rel, got, want))
    tally.result('z-order: the log\'s statistics equal DuckDB\'s per-file count/min/max', problems)
    if stats is None:
        return
    old, new = spread(base), spread(stats)
    problems = []
    # 8 slices of a two-column Z curve are about 1/4 x 1/2 rectangles: 0.25 and 0.5 (more where
    # a slice straddles a quadrant boundary, as equal row counts do not fall on them exactly);
    # a random layout gives about 1 and 1, a sort by one column 0.125 and 1.
    if not (old['a'] > 0.9 and old['b'] > 0.9):
        problems.append('the layout before was not random: %s' % old)
    if not (new['a'] < 0.7 and new['b'] < 0.7):
        problems.append('per-file ranges too wide: a %.3f, b %.3f of the full range' %
                        (new['a'], new['b']))
    tally.result('z-order: each file covers a narrow range of both columns (a %.2f, b %.2f; '
                 'before %.2f, %.2f)' % (new['a'], new['b'], old['a'], old['b']), problems)


def check_zorder_spill(ctx, tally):
    twh = ctx.path('spill')
    os.makedirs(twh)
    chunks, problems = make_chunks(ctx, twh, 8, 5000, 7)
    cols = 'id bigint, a bigint, b bigint, s text'
    stmts = ['CREATE TABLE t (%s) USING delta' % cols] + [
        "INSERT INTO t SELECT * FROM read_parquet('%s')" % p for p in chunks] + [
        'DELETE FROM t WHERE a < 100']
    for s in stmts:
        if problems:
            break
        problems += run_problems(tarnrun.run([ctx.args.tarn, 'sql', '-w', twh, '-c', s], TIMEOUT))
    table = os.path.join(twh, 't')
    if problems:
        tally.fail('z-order spill: build', problems[0])
        return
    expected, p = duck_rows(ctx, twh, 'spill', ['CREATE TABLE t (%s)' % cols] + [
        "INSERT INTO t SELECT * FROM read_parquet('%s')" % c for c in chunks] + [
        'DELETE FROM t WHERE a < 100'])
    r = optimize(ctx, table, '--zorder', 'b,a', '--memory-limit', '1m', '--target-size', '200k')
    problems = p + run_problems(r)
    if not problems:
        problems += tarn_rows_problems(ctx, table, expected, 'after')
    tally.result('z-order: 40000 rows under a 1 MB memory limit keep every row', problems)


# --- conflicts and errors --------------------------------------------------------------------

def check_conflict(ctx, tally):
    rng = random.Random(15)
    inserts = ['INSERT INTO t VALUES ' + values_sql(random_rows(rng, 10 * i, 3)) for i in range(3)]
    twh, table, problems = build(ctx, 'conflict', (None, ''), inserts)
    if problems:
        tally.fail('conflict: build', problems[0])
        return
    planned = last_version(table)
    # copy-on-write: the DELETE rewrites the file holding id 10 (removes it, adds its other rows)
    r = tarnrun.run([ctx.args.tarn, 'sql', '-w', twh, '-c', 'DELETE FROM t WHERE id = 10'], TIMEOUT)
    problems = run_problems(r)
    after_delete = last_version(table)
    r = optimize(ctx, table, '--read-version', str(planned))
    problems += run_problems(r, allowed=(3,))
    if r.rc == 0:
        problems.append('committed over a concurrent DELETE of a file it compacts')
    if last_version(table) != after_delete:
        problems.append('a version was written')
    tally.result('conflict: a DELETE after the planned version -> exit 3, nothing committed',
                 problems)
    # An append after the planned version commutes.
    append = 'INSERT INTO t VALUES ' + values_sql(random_rows(rng, 500, 2))
    r = tarnrun.run([ctx.args.tarn, 'sql', '-w', twh, '-c', append], TIMEOUT)
    problems = run_problems(r)
    appended = set(live_adds(table)) - set(live_adds(table, after_delete))
    r = optimize(ctx, table, '--read-version', str(after_delete))
    problems += run_problems(r)
    live = live_adds(table)
    if not appended or not appended <= set(live):
        problems.append('the appended file is not live after OPTIMIZE')
    if len(live) != 2:
        problems.append('%d live files, expected the compacted one and the appended one' % len(live))
    expected, p = duck_rows(ctx, twh, 'conflict', ['CREATE TABLE t (%s)' % COLUMNS] + inserts +
                            ['DELETE FROM t WHERE id = 10', append])
    problems += p
    if not problems:
        problems += tarn_rows_problems(ctx, table, expected, 'after')
    tally.result('conflict: an INSERT after the planned version commutes; rows equal DuckDB',
                 problems)


def check_append_only(ctx, tally):
    rng = random.Random(16)
    inserts = ['INSERT INTO t VALUES ' + values_sql(random_rows(rng, 10 * i, 2)) for i in range(3)]
    twh, table, problems = build(ctx, 'appendonly', (None, " WITH (\"delta.appendOnly\" = 'true')"),
                                 inserts)
    if not problems:
        expected, problems = duck_rows(ctx, twh, 'appendonly', ['CREATE TABLE t (%s)' % COLUMNS] + inserts)
    if not problems:
        problems = run_problems(optimize(ctx, table))
        if not problems and len(live_adds(table)) != 1:
            problems.append('%d live files, expected 1' % len(live_adds(table)))
        if not problems:
            problems += tarn_rows_problems(ctx, table, expected, 'after')
    tally.result('append-only: OPTIMIZE only rearranges data, which delta.appendOnly allows',
                 problems)


def refused(r, code, words):
    problems = tarnrun.contract_problems(r, allowed=(code,))
    text = ' '.join(r.stderr_lines())
    for w in words:
        if w not in text:
            problems.append('the error does not mention %r: %s' % (w, text[:200]))
    return problems


def check_errors(ctx, tally):
    cols = 'id bigint, a bigint, p text'
    twh, table, problems = build(ctx, 'errors', (cols, " WITH (partitioning = 'p')"), [
        "INSERT INTO t VALUES (1, 1, 'x')", "INSERT INTO t VALUES (2, 2, 'x')"])
    if problems:
        tally.fail('errors: build', problems[0])
        return
    v = last_version(table)
    cases = [
        ('a Z-order column the table lacks', ['--zorder', 'a,nosuch'], 1, ['nosuch']),
        ('a partition column as Z-order column', ['--zorder', 'p'], 1, ['"p"', 'partition']),
        ('--target-size that is not a size', ['--target-size', 'big'], 2, ['--target-size']),
        ('an unknown option', ['--frobnicate'], 2, ['--frobnicate']),
    ]
    for name, extra, code, words in cases:
        r = optimize(ctx, table, *extra)
        problems = refused(r, code, words)
        if last_version(table) != v:
            problems.append('a version was written')
        tally.result('errors: %s is refused (exit %d)' % (name, code), problems)
    r = tarnrun.run([ctx.args.tarn, 'optimize', twh], TIMEOUT)
    tally.result('errors: a directory that is not a table is refused (exit 1)',
                 refused(r, 1, ['not a table']))
    r = tarnrun.run([ctx.args.tarn, 'optimize'], TIMEOUT)
    tally.result('errors: optimize without TABLE is a usage error (exit 2)', refused(r, 2, []))


def main():
    args = tarnrun.arg_parser(__doc__.splitlines()[0]).parse_args()
    tally = tarnrun.Tally()
    if not tarnrun.require_tarn(args.tarn, tally):
        return tally.finish()
    shared = tarnrun.shared_dir(args)
    wh = tempfile.mkdtemp(prefix='tarn-delta-optimize-')
    try:
        node_oracle = tarnrun.oracle(shared, tally)
        if node_oracle:
            ctx = Ctx(args, shared, node_oracle, wh, tally)
            check_plain(ctx, tally)
            check_partitioned(ctx, tally)
            check_target_size(ctx, tally)
            check_deletion_vectors(ctx, tally)
            check_zorder(ctx, tally)
            check_zorder_spill(ctx, tally)
            check_conflict(ctx, tally)
            check_append_only(ctx, tally)
            check_errors(ctx, tally)
    finally:
        if args.keep:
            print('scratch directory kept: %s' % wh)
        else:
            shutil.rmtree(wh, ignore_errors=True)
    return tally.finish()


if __name__ == '__main__':
    sys.exit(main())
