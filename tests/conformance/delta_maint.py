#!/usr/bin/env python3
"""`tarn restore` and `tarn vacuum` on Delta tables keep them readable and correct.

Checks, in a scratch warehouse built with `tarn sql -w` (CREATE TABLE ... USING delta, INSERTs):
  - restore --version N: one RESTORE commit (operationParameters {"version": N, "timestamp":
    null}, removes of the files added since, adds of the files removed since, dataChange true);
    afterwards `tarn cat` gives the rows written here by hand for version N, and so does
    `tarn cat --as-of N`; restoring forward again and by --timestamp (a commit's own time) too;
  - restore refuses the latest version, a version that does not exist, a table that is not one,
    and bad usage, committing nothing;
  - vacuum --dry-run lists exactly the orphan files made here (30 days old by os.utime), and
    deletes nothing; live files (also 30 days old), files removed within the retention period,
    recent files and hidden names are kept; a retention below the table's 7 days is refused
    without --force; the real vacuum deletes the orphans and the directory they emptied, and the
    table still reads; --retain 0 --force then deletes the files removed by the restore, after
    which restoring the version that needs them is refused naming a missing file;
  - CALL restore / CALL vacuum in SQL do the same as the commands: restore by version and by
    timestamp (rows as written by hand, one RESTORE commit each), positional and named
    arguments, vacuum's dry run listing exactly the old orphans, its refusal of a short
    retention without force, and its forced run deleting exactly the files the log removed;
    CALL optimize compacting the live files into one OPTIMIZE commit with the same rows;
    unknown procedures, unknown or repeated arguments and a restore without a version are
    refused naming the problem;
  - the same on a partitioned table whose DELETE wrote a deletion vector: restore brings a file
    back with its vector (rows equal to `--as-of`), vacuum walks partition directories, keeps
    the live vector file, deletes an orphan vector file and empties a partition directory.

usage: delta_maint.py [--tarn build/tarn] [--shared ../shared] [--keep]
Prints one line per check and ends with `N passed, N failed`; exits 1 if any failed.
"""
import datetime
import json
import os
import shutil
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tarnrun  # noqa: E402

TIMEOUT = 120
OLD = time.time() - 30 * 86400  # thirty days ago, well past the default retention of 7 days

ROWS = {  # the rows of each version, as the INSERTs below write them
    1: [{'id': 1, 'name': 'a'}, {'id': 2, 'name': 'b'}],
    2: [{'id': 1, 'name': 'a'}, {'id': 2, 'name': 'b'}, {'id': 3, 'name': 'c'}],
    3: [{'id': 1, 'name': 'a'}, {'id': 2, 'name': 'b'}, {'id': 3, 'name': 'c'},
        {'id': 4, 'name': None}],
}


def sql(args, wh, text):
    return tarnrun.run([args.tarn, 'sql', '-w', wh, '-c', text], TIMEOUT)


def log_actions(table):
    out = {}
    log = os.path.join(table, '_delta_log')
    for name in sorted(os.listdir(log)):
        if name.endswith('.json') and name[:20].isdigit():
            with open(os.path.join(log, name), encoding='utf-8') as f:
                out[int(name[:20])] = [json.loads(l) for l in f if l.strip()]
    return out


def kinds(actions, kind):
    return [a[kind] for a in actions if kind in a]


def rows_problems(args, shared, work, table, want, as_of=None, tag='rows'):
    """`tarn cat` of table (at as_of) compared with the rows want (a multiset)."""
    expected = os.path.join(work, tag + '.expected.jsonl')
    actual = os.path.join(work, tag + '.actual.jsonl')
    tarnrun.write_jsonl(expected, want)
    cmd = [args.tarn, 'cat', table, '--format', 'jsonl']
    if as_of is not None:
        cmd += ['--as-of', str(as_of)]
    r = tarnrun.run(cmd, TIMEOUT, stdout_path=actual)
    problems = tarnrun.contract_problems(r, allowed=(0,))
    if not problems:
        same, detail = tarnrun.compare_rows(shared, expected, actual)
        if not same:
            problems.append(('as of %s: ' % as_of if as_of is not None else '') + detail)
    return problems


def refused(r, code, words=None):
    problems = tarnrun.contract_problems(r, allowed=(code,))
    if r.rc == 0:
        return ['succeeded']
    msg = ' '.join(r.stderr_lines())
    if words and words not in msg:
        problems.append('error does not say %r: %s' % (words, msg[:300]))
    return problems


def touch_old(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if not os.path.exists(path):
        with open(path, 'wb') as f:
            f.write(b'orphan bytes')
    os.utime(path, (OLD, OLD))


def check_restore(args, shared, wh, work, tally):
    table = os.path.join(wh, 't')
    # version 1: restore removes the files of versions 2 and 3
    r = tarnrun.run([args.tarn, 'restore', table, '--version', '1'], TIMEOUT)
    problems = tarnrun.contract_problems(r, allowed=(0,))
    if not problems and b'as version 4' not in r.stdout:
        problems.append('stdout %r does not name version 4' % r.stdout[:200])
    log = log_actions(table)
    if not problems:
        if sorted(log) != [0, 1, 2, 3, 4]:
            problems.append('versions %s' % sorted(log))
        else:
            info = kinds(log[4], 'commitInfo')
            if not info or info[0].get('operation') != 'RESTORE' or \
                    info[0].get('operationParameters') != {'version': 1, 'timestamp': None}:
                problems.append('commitInfo %s' % info)
            added_since = {a['path'] for v in (2, 3) for a in kinds(log[v], 'add')}
            removed = {a['path'] for a in kinds(log[4], 'remove')}
            if removed != added_since:
                problems.append('removed %s, expected %s' % (sorted(removed), sorted(added_since)))
            if kinds(log[4], 'add'):
                problems.append('adds %s' % kinds(log[4], 'add'))
            if not all(a.get('dataChange') is True for a in kinds(log[4], 'remove')):
                problems.append('a remove without dataChange true')
    tally.result('restore --version 1: one RESTORE commit removing the newer files', problems)
    tally.result('restore --version 1: tarn cat gives version 1 rows',
                 rows_problems(args, shared, work, table, ROWS[1], tag='r1'))
    tally.result('restore --version 1: equals tarn cat --as-of 1',
                 rows_problems(args, shared, work, table, ROWS[1], as_of=1, tag='r1asof'))

    # forward again: version 3's files come back as adds with dataChange true
    r = tarnrun.run([args.tarn, 'restore', table, '--version', '3'], TIMEOUT)
    problems = tarnrun.contract_problems(r, allowed=(0,))
    log = log_actions(table)
    if not problems:
        adds = kinds(log.get(5, []), 'add')
        if {a['path'] for a in adds} != {a['path'] for v in (2, 3) for a in kinds(log[v], 'add')}:
            problems.append('adds %s' % [a['path'] for a in adds])
        if not all(a.get('dataChange') is True for a in adds):
            problems.append('an add without dataChange true')
        if kinds(log.get(5, []), 'remove'):
            problems.append('removes in version 5')
    problems += rows_problems(args, shared, work, table, ROWS[3], tag='r3')
    problems += rows_problems(args, shared, work, table, ROWS[3], as_of=3, tag='r3asof')
    tally.result('restore --version 3: the files come back, rows of version 3', problems)

    # by time: version 2's own commit time
    ts = kinds(log[2], 'commitInfo')[0]['timestamp']
    when = datetime.datetime.fromtimestamp(ts / 1000, datetime.timezone.utc)
    text = when.strftime('%Y-%m-%d %H:%M:%S.') + '%03d+00' % (ts % 1000)
    r = tarnrun.run([args.tarn, 'restore', table, '--timestamp', text], TIMEOUT)
    problems = tarnrun.contract_problems(r, allowed=(0,))
    if not problems:
        info = kinds(log_actions(table).get(6, []), 'commitInfo')
        params = info[0].get('operationParameters') if info else None
        if not params or params.get('version') is not None or not params.get('timestamp'):
            problems.append('operationParameters %s' % params)
        problems += rows_problems(args, shared, work, table, ROWS[2], tag='r2')
    tally.result('restore --timestamp (version 2\'s commit time): rows of version 2', problems)

    latest = max(log_actions(table))
    for argv, code, words, name in [
            (['--version', str(latest)], 1, 'older than the latest', 'the latest version'),
            (['--version', '99'], 1, '99', 'a version the table does not have'),
            ([], 2, None, 'no version given'),
            (['--version', '1', '--timestamp', '2020-01-01'], 2, None, 'both given'),
            (['--version', 'x'], 2, None, 'a bad version')]:
        r = tarnrun.run([args.tarn, 'restore', table] + argv, TIMEOUT)
        problems = refused(r, code, words)
        if max(log_actions(table)) != latest:
            problems.append('a commit was written')
        tally.result('restore refused: %s (exit %d)' % (name, code), problems)
    r = tarnrun.run([args.tarn, 'restore', os.path.join(wh, 'nope'), '--version', '0'], TIMEOUT)
    tally.result('restore refused: not a table (exit 1)', refused(r, 1, 'not a table'))


def check_vacuum(args, shared, wh, work, tally):
    table = os.path.join(wh, 't')
    log = log_actions(table)
    latest = max(log)
    # every data file is made old: vacuum must keep the live ones by the log, not by their age
    for name in os.listdir(table):
        if name.endswith('.parquet'):
            p = os.path.join(table, name)
            os.utime(p, (OLD, OLD))
    orphans = ['orphan1.parquet', 'sub/deeper/orphan2.parquet', '_change_data/cdc-old.parquet']
    for o in orphans:
        touch_old(os.path.join(table, o))
    kept = ['.hidden.parquet', '_tmp/x.parquet']
    for k in kept:
        touch_old(os.path.join(table, k))
    with open(os.path.join(table, 'fresh.parquet'), 'wb') as f:
        f.write(b'being written')
    before = sorted(os.listdir(table))
    want = sorted(os.path.join(table, o) for o in orphans)

    r = tarnrun.run([args.tarn, 'vacuum', table, '--dry-run'], TIMEOUT)
    problems = tarnrun.contract_problems(r, allowed=(0,))
    listed = sorted(l for l in r.stdout.decode('utf-8', 'replace').splitlines() if l.strip())
    if not problems and listed != want:
        problems.append('listed %s, expected %s' % (listed, want))
    if sorted(os.listdir(table)) != before or not all(
            os.path.exists(os.path.join(table, o)) for o in orphans):
        problems.append('a dry run deleted something')
    if not problems and 'would delete 3 files' not in r.stderr:
        problems.append('summary %r' % r.stderr.strip()[:200])
    tally.result('vacuum --dry-run lists exactly the orphans', problems)

    r = tarnrun.run([args.tarn, 'vacuum', table, '--retain', '1'], TIMEOUT)
    problems = refused(r, 1, '168 hours')
    if not all(os.path.exists(os.path.join(table, o)) for o in orphans):
        problems.append('files were deleted')
    tally.result('vacuum --retain 1 without --force is refused naming the minimum', problems)

    for argv, code, name in [([], 2, 'no table'), ([table, '--retain', 'x'], 2, 'a bad retention'),
                             ([table, '--bogus'], 2, 'an unknown option'),
                             ([os.path.join(wh, 'nope')], 1, 'not a table')]:
        r = tarnrun.run([args.tarn, 'vacuum'] + argv, TIMEOUT)
        tally.result('vacuum refused: %s (exit %d)' % (name, code), refused(r, code))

    r = tarnrun.run([args.tarn, 'vacuum', table], TIMEOUT)
    problems = tarnrun.contract_problems(r, allowed=(0,))
    listed = sorted(l for l in r.stdout.decode('utf-8', 'replace').splitlines() if l.strip())
    if not problems and listed != want:
        problems.append('deleted %s, expected %s' % (listed, want))
    for o in orphans:
        if os.path.exists(os.path.join(table, o)):
            problems.append('%s is still there' % o)
    for d in ('sub', '_change_data'):
        if os.path.exists(os.path.join(table, d)):
            problems.append('the emptied directory %s is still there' % d)
    # every file any version 0..latest added is still there (all were removed within 7 days)
    for v, actions in log.items():
        for a in kinds(actions, 'add'):
            if not os.path.exists(os.path.join(table, a['path'])):
                problems.append('version %d\'s %s was deleted' % (v, a['path']))
    for k in kept + ['fresh.parquet']:
        if not os.path.exists(os.path.join(table, k)):
            problems.append('%s was deleted' % k)
    if len(log_actions(table)) != len(log):
        problems.append('vacuum wrote a commit')
    tally.result('vacuum deletes the orphans only', problems)
    tally.result('vacuum: the table still reads (and travels back to version 3)',
                 rows_problems(args, shared, work, table, ROWS[2], tag='v1') +
                 rows_problems(args, shared, work, table, ROWS[3], as_of=3, tag='v1asof'))

    # retention 0, forced: the file of id 4 (removed by the last restore) and fresh.parquet go
    removed = {a['path'] for a in kinds(log[latest], 'remove')}
    want = sorted([os.path.join(table, p) for p in removed] + [os.path.join(table, 'fresh.parquet')])
    r = tarnrun.run([args.tarn, 'vacuum', table, '--retain', '0', '--force'], TIMEOUT)
    problems = tarnrun.contract_problems(r, allowed=(0,))
    listed = sorted(l for l in r.stdout.decode('utf-8', 'replace').splitlines() if l.strip())
    if not problems and listed != want:
        problems.append('deleted %s, expected %s' % (listed, want))
    problems += rows_problems(args, shared, work, table, ROWS[2], tag='v2')
    tally.result('vacuum --retain 0 --force: removed files go, the table reads', problems)

    r = tarnrun.run([args.tarn, 'restore', table, '--version', '3'], TIMEOUT)
    problems = refused(r, 1, 'no longer exist')
    if not problems and not any(p in ' '.join(r.stderr_lines()) for p in removed):
        problems.append('the missing file is not named: %s' % r.stderr_lines())
    if max(log_actions(table)) != latest:
        problems.append('a commit was written')
    tally.result('restore of a vacuumed version is refused naming the missing file', problems)


PART_ROWS = {  # the partitioned table with deletion vectors, per version
    1: [{'id': 1, 'day': '2024-01-01'}, {'id': 2, 'day': '2024-01-01'},
        {'id': 3, 'day': '2024-01-02'}],
    2: [{'id': 1, 'day': '2024-01-01'}, {'id': 3, 'day': '2024-01-02'}],
    3: [{'id': 1, 'day': '2024-01-01'}],
}


def check_partitioned_dv(args, shared, wh, work, tally):
    """Deletion vectors are part of what restore brings back; vacuum walks partition
    directories, keeps live deletion vector files and removes a partition directory it empties."""
    problems = []
    for text in ["CREATE TABLE p (id bigint, day date) USING delta WITH (partitioning = 'day', "
                 "\"delta.enableDeletionVectors\" = 'true')",
                 "INSERT INTO p VALUES (1, '2024-01-01'), (2, '2024-01-01'), (3, '2024-01-02')",
                 "DELETE FROM p WHERE id = 2",
                 "DELETE FROM p WHERE day = '2024-01-02'"]:
        problems += tarnrun.contract_problems(sql(args, wh, text), allowed=(0,))
    table = os.path.join(wh, 'p')
    tally.result('setup: a partitioned table with a deletion vector, versions 0 to 3', problems)
    if problems:
        return
    log = log_actions(table)
    if not any('deletionVector' in a for a in kinds(log[2], 'add')):
        tally.skip('restore with deletion vectors', 'DELETE wrote no deletion vector')
        return
    r = tarnrun.run([args.tarn, 'restore', table, '--version', '1'], TIMEOUT)
    problems = tarnrun.contract_problems(r, allowed=(0,))
    problems += rows_problems(args, shared, work, table, PART_ROWS[1], tag='p1')
    tally.result('restore --version 1 of the partitioned table: rows of version 1', problems)
    r = tarnrun.run([args.tarn, 'restore', table, '--version', '2'], TIMEOUT)
    problems = tarnrun.contract_problems(r, allowed=(0,))
    adds = kinds(log_actions(table).get(5, []), 'add')
    if not problems and not any('deletionVector' in a for a in adds):
        problems.append('version 5 adds no file with its deletion vector: %s' % adds)
    problems += rows_problems(args, shared, work, table, PART_ROWS[2], tag='p2')
    problems += rows_problems(args, shared, work, table, PART_ROWS[2], as_of=2, tag='p2asof')
    tally.result('restore --version 2: the file comes back with its deletion vector', problems)

    for root, _, files in os.walk(table):
        if '_delta_log' not in root:
            for f in files:
                os.utime(os.path.join(root, f), (OLD, OLD))
    orphans = ['day=2024-01-03/orphan.parquet',
               'deletion_vector_00000000-0000-0000-0000-000000000000.bin']
    for o in orphans:
        touch_old(os.path.join(table, o))
    want = sorted(os.path.join(table, o) for o in orphans)
    r = tarnrun.run([args.tarn, 'vacuum', table, '--dry-run'], TIMEOUT)
    problems = tarnrun.contract_problems(r, allowed=(0,))
    listed = sorted(l for l in r.stdout.decode('utf-8', 'replace').splitlines() if l.strip())
    if not problems and listed != want:
        problems.append('listed %s, expected %s' % (listed, want))
    tally.result('vacuum --dry-run of the partitioned table lists exactly the orphans', problems)
    r = tarnrun.run([args.tarn, 'vacuum', table], TIMEOUT)
    problems = tarnrun.contract_problems(r, allowed=(0,))
    if os.path.exists(os.path.join(table, 'day=2024-01-03')):
        problems.append('the emptied partition directory is still there')
    if any(os.path.exists(os.path.join(table, o)) for o in orphans):
        problems.append('an orphan is still there')
    problems += rows_problems(args, shared, work, table, PART_ROWS[2], tag='p2vac')
    problems += rows_problems(args, shared, work, table, PART_ROWS[3], as_of=3, tag='p3vac')
    tally.result('vacuum of the partitioned table: orphans gone, versions 2 and 3 read', problems)


def call_rows(args, wh, text):
    """Runs a CALL with --format jsonl; (result, rows or None)."""
    r = tarnrun.run([args.tarn, 'sql', '-w', wh, '--format', 'jsonl', '-c', text], TIMEOUT)
    rows = None
    if r.rc == 0:
        try:
            rows = [json.loads(l) for l in r.stdout.decode('utf-8').splitlines() if l.strip()]
        except ValueError:
            rows = None
    return r, rows


def check_call(args, shared, wh, work, tally):
    """The maintenance procedures as SQL CALL statements, on table c."""
    table = os.path.join(wh, 'c')
    problems = []
    for text in ["CREATE TABLE c (id bigint, name text) USING delta",
                 "INSERT INTO c VALUES (1, 'a'), (2, 'b')",
                 "INSERT INTO c VALUES (3, 'c')",
                 "INSERT INTO c (id) VALUES (4)"]:
        problems += tarnrun.contract_problems(sql(args, wh, text), allowed=(0,))
        time.sleep(0.01)
    tally.result('CALL setup: table c with versions 0 to 3', problems)
    if problems:
        return
    # restore by version, named argument
    r, rows = call_rows(args, wh, "CALL restore('c', version => 1)")
    problems = tarnrun.contract_problems(r, allowed=(0,))
    log = log_actions(table)
    if not problems:
        if rows is None or len(rows) != 1:
            problems.append('result rows %r' % rows)
        elif rows[0].get('version') != 4 or rows[0].get('restored_version') != 1 or \
                rows[0].get('num_removed_file') != 2 or rows[0].get('num_restored_file') != 0:
            problems.append('metrics %r (want version 4, restored 1, 2 files removed, 0 restored)'
                            % rows[0])
        ops = [kinds(log[4], 'commitInfo')[0].get('operation')] if 4 in log else []
        if ops != ['RESTORE']:
            problems.append('version 4 operation %s' % ops)
        m = kinds(log[4], 'commitInfo')[0].get('operationMetrics', {}) if 4 in log else {}
        removed = sum(r['size'] for r in kinds(log.get(4, []), 'remove'))
        live1 = sum(a['size'] for a in kinds(log[1], 'add'))
        want = {'numRemovedFile': '2', 'numRestoredFile': '0', 'numOfFilesAfterRestore': '1',
                'removedFilesSize': str(removed), 'tableSizeAfterRestore': str(live1)}
        if any(m.get(k) != v for k, v in want.items()):
            problems.append('operationMetrics %s, expected %s' % (m, want))
        problems += rows_problems(args, shared, work, table, ROWS[1], tag='call-restore-1')
    tally.result('CALL restore(c, version => 1): rows of version 1, one RESTORE commit',
                 problems)
    # restore by timestamp (positional table, named timestamp): version 3's own commit time
    ts = kinds(log[3], 'commitInfo')[0]['timestamp']
    when = datetime.datetime.fromtimestamp(ts / 1000.0, datetime.timezone.utc)
    text = when.strftime('%Y-%m-%d %H:%M:%S.') + '%03d+00' % (ts % 1000)
    r, rows = call_rows(args, wh, "CALL restore('c', \"timestamp\" => '%s')" % text)
    problems = tarnrun.contract_problems(r, allowed=(0,))
    if not problems:
        if not rows or rows[0].get('restored_version') != 3 or rows[0].get('version') != 5:
            problems.append('result %r (want version 5 restoring 3)' % rows)
        problems += rows_problems(args, shared, work, table, ROWS[3], tag='call-restore-ts')
    tally.result('CALL restore(c, timestamp => version 3\'s time): rows of version 3', problems)

    # vacuum: orphans 30 days old, all data files old too
    for name in os.listdir(table):
        if name.endswith('.parquet'):
            os.utime(os.path.join(table, name), (OLD, OLD))
    orphans = ['orphan-a.parquet', 'p=1/orphan-b.parquet']
    for o in orphans:
        touch_old(os.path.join(table, o))
    r, rows = call_rows(args, wh, "CALL vacuum('c', dry_run => true)")
    problems = tarnrun.contract_problems(r, allowed=(0,))
    listed = sorted(x.get('path') for x in rows or [])
    if not problems and listed != sorted(orphans):
        problems.append('listed %s, expected %s' % (listed, sorted(orphans)))
    if not all(os.path.exists(os.path.join(table, o)) for o in orphans):
        problems.append('the dry run deleted an orphan')
    tally.result('CALL vacuum(c, dry_run => true) lists exactly the old orphans', problems)

    r = sql(args, wh, "CALL vacuum('c', retain => '1 hours')")
    problems = refused(r, 1, '168 hours')
    tally.result('CALL vacuum with retain below the table minimum is refused', problems)

    # forced, positional: deletes the orphans and the files removed by the log (the restores)
    log = log_actions(table)
    live, removed = set(), set()
    for v in sorted(log):
        for a in kinds(log[v], 'add'):
            live.add(a['path'])
            removed.discard(a['path'])
        for a in kinds(log[v], 'remove'):
            live.discard(a['path'])
            removed.add(a['path'])
    want = sorted(set(orphans) | removed)
    r, rows = call_rows(args, wh, "CALL vacuum('c', '0 hours', false, true)")
    problems = tarnrun.contract_problems(r, allowed=(0,))
    listed = sorted(x.get('path') for x in rows or [])
    if not problems and listed != want:
        problems.append('deleted %s, expected %s' % (listed, want))
    left = [p for p in want if os.path.exists(os.path.join(table, p))]
    if left:
        problems.append('still there: %s' % left)
    missing = [p for p in live if not os.path.exists(os.path.join(table, p))]
    if missing:
        problems.append('live files deleted: %s' % missing)
    problems += rows_problems(args, shared, work, table, ROWS[3], tag='call-vacuum')
    tally.result('CALL vacuum(c, 0 hours, force): deletes orphans and removed files only',
                 problems)

    # optimize: the table's live files (three after the restores) become one, rows unchanged
    log = log_actions(table)
    latest = max(log)
    r, rows = call_rows(args, wh, "CALL optimize('c', target_size => '64MB')")
    problems = tarnrun.contract_problems(r, allowed=(0,))
    log = log_actions(table)
    if not problems:
        live_before = set()
        for v in sorted(log):
            if v > latest:
                break
            for a in kinds(log[v], 'add'):
                live_before.add(a['path'])
            for a in kinds(log[v], 'remove'):
                live_before.discard(a['path'])
        want = {'version': latest + 1, 'num_files_removed': len(live_before),
                'num_files_added': 1}
        got = {k: (rows or [{}])[0].get(k) for k in want}
        if got != want:
            problems.append('result %s, expected %s' % (got, want))
        ops = [i.get('operation') for i in kinds(log.get(latest + 1, []), 'commitInfo')]
        if ops != ['OPTIMIZE']:
            problems.append('version %d operations %s' % (latest + 1, ops))
        problems += rows_problems(args, shared, work, table, ROWS[3], tag='call-optimize')
    tally.result('CALL optimize(c, target_size => 64MB): one OPTIMIZE commit, one file, same rows',
                 problems)

    for text, words in [("CALL nothing('c')", 'procedure nothing does not exist'),
                        ("CALL vacuum('c', bogus => 1)", 'no argument named "bogus"'),
                        ("CALL vacuum('c', dry_run => true, dry_run => false)",
                         'more than once'),
                        ("CALL restore('c')", 'version'),
                        ("CALL restore('c', version => 99)", '99'),
                        ("CALL vacuum('nosuchtable')", 'nosuchtable')]:
        before = sorted(log_actions(table))
        problems = refused(sql(args, wh, text), 1, words)
        if sorted(log_actions(table)) != before:
            problems.append('committed something')
        tally.result('%s is refused naming %r' % (text, words), problems)


def main():
    args = tarnrun.arg_parser(__doc__.splitlines()[0]).parse_args()
    tally = tarnrun.Tally()
    if not tarnrun.require_tarn(args.tarn, tally):
        return tally.finish()
    shared = tarnrun.shared_dir(args)
    if not tarnrun.require_shared(shared, tally, 'tools'):
        return tally.finish()
    wh = tempfile.mkdtemp(prefix='tarn-delta-maint-')
    work = tempfile.mkdtemp(dir=wh, prefix='.work-')  # hidden: vacuum leaves it alone
    try:
        problems = []
        for text in ["CREATE TABLE t (id bigint, name text) USING delta",
                     "INSERT INTO t VALUES (1, 'a'), (2, 'b')",
                     "INSERT INTO t VALUES (3, 'c')",
                     "INSERT INTO t (id) VALUES (4)"]:
            problems += tarnrun.contract_problems(sql(args, wh, text), allowed=(0,))
            time.sleep(0.01)  # distinct commit times, for --timestamp
        tally.result('setup: a table with versions 0 to 3', problems)
        if not problems:
            check_restore(args, shared, wh, work, tally)
            check_vacuum(args, shared, wh, work, tally)
        check_partitioned_dv(args, shared, wh, work, tally)
        check_call(args, shared, wh, work, tally)
    finally:
        if args.keep:
            print('kept %s' % wh)
        else:
            shutil.rmtree(wh, ignore_errors=True)
    return tally.finish()


if __name__ == '__main__':
    sys.exit(main())
