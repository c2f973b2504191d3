#!/usr/bin/env python3
"""CREATE TABLE ... USING delta and INSERT INTO write logs the Delta protocol accepts.

Checks, in a scratch warehouse, with `tarn sql -w`:
  - the log of a new table holds exactly commitInfo, protocol and metaData, one action per
    line; protocol (1, 2), or (3, 7) with the timestampNtz feature when a column is a timestamp
    without time zone; metaData's schemaString, partition columns and configuration as the
    statement says (expected values written here from the statement, per PROTOCOL.md's schema
    serialization);
  - the table reads back empty (tarn cat, a SQL count) and `tarn schema` prints the schema string;
  - a second CREATE fails naming the table, IF NOT EXISTS succeeds and writes nothing;
  - options and types Delta or tarn cannot honour are refused by name;
  - several processes creating one table at once: exactly one succeeds;
  - INSERT (VALUES, a column list, SELECT from the table): one commit with one add each, the
    rows read back by tarn and by DuckDB over the live data files, NOT NULL enforced, several
    processes inserting at once all present;
  - CREATE TABLE ... USING delta AS SELECT: one commit holding metadata and rows;
  - SET delta.write.txnAppId / txnVersion: an application version already committed (or an
    older one) is not written again, each commit carries its txn action, and one SET pair
    covers one write;
  - INSERT naming a column the table lacks is refused naming it, unless schema merge is on
    (SET delta.schema.autoMerge.enabled or the table property tarn.autoMerge.enabled): then
    each INSERT commits the new columns (schema as written here) and its rows together, and the
    table reads back as written here by hand;
  - filters on string and timestamp columns skip files by their statistics (the counts the
    ranges give) and return the rows computed here, also when the statistics are Spark's
    (a millisecond-truncated maximum timestamp, a long string's maximum cut to 32 characters).

usage: delta_write.py [--tarn build/tarn] [--shared ../shared] [--keep]
Prints one line per check and ends with `N passed, N failed`; exits 1 if any failed.
"""
import json
import re
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tarnrun  # noqa: E402

TIMEOUT = 120
EVENTS = ("CREATE TABLE events (id bigint NOT NULL, kind text, amount numeric(10,2), day date, "
          "at timestamptz, tags text[]) USING delta "
          "WITH (partitioning = 'day', \"delta.appendOnly\" = 'true')")
EVENTS_FIELDS = [
    {'name': 'id', 'type': 'long', 'nullable': False, 'metadata': {}},
    {'name': 'kind', 'type': 'string', 'nullable': True, 'metadata': {}},
    {'name': 'amount', 'type': 'decimal(10,2)', 'nullable': True, 'metadata': {}},
    {'name': 'day', 'type': 'date', 'nullable': True, 'metadata': {}},
    {'name': 'at', 'type': 'timestamp', 'nullable': True, 'metadata': {}},
    {'name': 'tags', 'type': {'type': 'array', 'elementType': 'string', 'containsNull': True},
     'nullable': True, 'metadata': {}},
]


def sql(args, wh, text):
    return tarnrun.run([args.tarn, 'sql', '-w', wh, '-c', text], TIMEOUT)


def log_actions(table):
    """The actions of every commit file, as (version, [action dicts])."""
    out = []
    log = os.path.join(table, '_delta_log')
    for name in sorted(os.listdir(log)):
        if name.endswith('.json') and name[:20].isdigit():
            with open(os.path.join(log, name), encoding='utf-8') as f:
                out.append((int(name[:20]), [json.loads(l) for l in f if l.strip()]))
    return out


def check_version0(actions, fields, partitions, config, protocol):
    problems = []
    kinds = [next(iter(a)) for a in actions]
    if sorted(kinds) != ['commitInfo', 'metaData', 'protocol'] or any(len(a) != 1 for a in actions):
        problems.append('actions %s, expected one each of commitInfo, protocol, metaData' % kinds)
        return problems
    by = {next(iter(a)): a[next(iter(a))] for a in actions}
    if by['protocol'] != protocol:
        problems.append('protocol %s, expected %s' % (by['protocol'], protocol))
    md = by['metaData']
    for key in ('id', 'format', 'schemaString', 'partitionColumns', 'configuration'):
        if key not in md:
            problems.append('metaData lacks %s' % key)
    if problems:
        return problems
    if md['format'].get('provider') != 'parquet':
        problems.append('format %s' % md['format'])
    schema = json.loads(md['schemaString'])
    if schema != {'type': 'struct', 'fields': fields}:
        problems.append('schemaString %s' % md['schemaString'])
    if md['partitionColumns'] != partitions:
        problems.append('partitionColumns %s' % md['partitionColumns'])
    if md['configuration'] != config:
        problems.append('configuration %s' % md['configuration'])
    if not isinstance(by['commitInfo'].get('timestamp'), int):
        problems.append('commitInfo without an integer timestamp')
    return problems


NUMS_EXPECTED = [
    {'id': 1, 'name': 'a', 'price': '1.50', 'd': '2024-01-01'},
    {'id': 2, 'name': None, 'price': '2.25', 'd': None},
    {'id': 3, 'name': 'c', 'price': None, 'd': None},
    {'id': 11, 'name': 'a', 'price': '1.50', 'd': '2024-01-01'},
    {'id': 12, 'name': None, 'price': '2.25', 'd': None},
    {'id': 13, 'name': 'c', 'price': None, 'd': None},
]


def live_files(table):
    """Data files of the latest version, replayed here from the JSON commits (adds less removes)."""
    live = {}
    for _, actions in log_actions(table):
        for a in actions:
            if 'add' in a:
                live[a['add']['path']] = a['add']
            if 'remove' in a:
                live.pop(a['remove']['path'], None)
    return live


def check_inserts(args, wh, tally):
    shared = tarnrun.shared_dir(args)
    steps = ["CREATE TABLE nums (id bigint NOT NULL, name text, price numeric(10,2), d date) "
             "USING delta",
             "INSERT INTO nums VALUES (1, 'a', 1.50, '2024-01-01'), (2, NULL, 2.25, NULL)",
             "INSERT INTO nums (id, name) VALUES (3, 'c')",
             "INSERT INTO nums SELECT id + 10, name, price, d FROM nums"]
    problems = []
    for text in steps:
        r = sql(args, wh, text)
        problems += tarnrun.contract_problems(r, allowed=(0,))
    table = os.path.join(wh, 'nums')
    work = tempfile.mkdtemp(dir=wh)
    expected = os.path.join(work, 'expected.jsonl')
    tarnrun.write_jsonl(expected, NUMS_EXPECTED)
    if not problems:
        log = log_actions(table)
        if [v for v, _ in log] != [0, 1, 2, 3]:
            problems.append('versions %s, expected 0 to 3' % [v for v, _ in log])
        for v, actions in log[1:]:
            adds = [a['add'] for a in actions if 'add' in a]
            kinds = sorted(next(iter(a)) for a in actions)
            if kinds != ['add', 'commitInfo']:
                problems.append('version %d holds %s' % (v, kinds))
            for add in adds:
                for key in ('path', 'partitionValues', 'size', 'modificationTime', 'dataChange'):
                    if key not in add:
                        problems.append('version %d: add without %s' % (v, key))
                if not os.path.exists(os.path.join(table, add.get('path', ''))):
                    problems.append('version %d: %s does not exist' % (v, add.get('path')))
        want_counts = [2, 1, 3]
        got_counts = [json.loads(a['add']['stats'])['numRecords']
                      for _, actions in log[1:] for a in actions if 'add' in a]
        if got_counts != want_counts:
            problems.append('numRecords %s, expected %s' % (got_counts, want_counts))
    tally.result('insert: three appends, one add each with its row count', problems)

    actual = os.path.join(work, 'actual.jsonl')
    r = tarnrun.run([args.tarn, 'cat', table, '--format', 'jsonl'], TIMEOUT, stdout_path=actual)
    problems = tarnrun.contract_problems(r, allowed=(0,))
    if not problems:
        same, detail = tarnrun.compare_rows(shared, expected, actual)
        if not same:
            problems.append(detail)
    tally.result('insert: tarn cat gives the inserted rows', problems)

    # An independent reader: DuckDB over the live data files the log names.
    node_oracle = tarnrun.oracle(shared, tally)
    if node_oracle:
        files = ', '.join("'%s'" % os.path.join(table, p).replace("'", "''")
                          for p in sorted(live_files(table)))
        duck = os.path.join(work, 'duck.jsonl')
        d = tarnrun.duckdb(shared, node_oracle, ['--sql', 'SELECT * FROM read_parquet([%s])' % files],
                           stdout_path=duck)
        problems = [] if d.rc == 0 else ['DuckDB failed: %s' % d.stderr.strip()[:300]]
        if not problems:
            same, detail = tarnrun.compare_rows(shared, expected, duck)
            if not same:
                problems.append(detail)
        tally.result('insert: DuckDB reads the live data files as the inserted rows', problems)

    r = sql(args, wh, "INSERT INTO nums (name) VALUES ('no id')")
    problems = tarnrun.contract_problems(r, allowed=(1,))
    if r.rc == 0:
        problems = ['a NULL id was accepted']
    elif 'not-null' not in ' '.join(r.stderr_lines()):
        problems.append('error does not name the constraint: %s' % r.stderr_lines())
    if [v for v, _ in log_actions(table)][-1] != 3:
        problems.append('a commit was written')
    if len([f for f in os.listdir(table) if f.endswith('.parquet')]) != 3:
        problems.append('a data file was left behind')
    tally.result('insert: NOT NULL enforced, nothing committed', problems)

    # A partitioned table: one file per partition value (NULL included), the partition column
    # only in partitionValues, statistics per file.
    r = sql(args, wh, "INSERT INTO events (id, kind, day) VALUES (1, 'a', '2024-01-01'), "
                      "(2, 'b', '2024-01-02'), (3, 'c', '2024-01-01'), (4, NULL, NULL)")
    problems = tarnrun.contract_problems(r, allowed=(0,))
    events = os.path.join(wh, 'events')
    if not problems:
        adds = [a['add'] for _, acts in log_actions(events)[1:] for a in acts if 'add' in a]
        got = sorted((a['partitionValues'].get('day') or '', json.loads(a['stats'])['numRecords'],
                      json.loads(a['stats'])['minValues'].get('id'),
                      json.loads(a['stats'])['maxValues'].get('id')) for a in adds)
        want = [('', 1, 4, 4), ('2024-01-01', 2, 1, 3), ('2024-01-02', 1, 2, 2)]
        if got != want:
            problems.append('adds (day, rows, min id, max id) %s, expected %s' % (got, want))
        for a in adds:
            day = a['partitionValues'].get('day')
            if not a['path'].startswith('day=%s/' % (day or '__HIVE_DEFAULT_PARTITION__')):
                problems.append('file %s is not in its partition directory' % a['path'])
            if not os.path.exists(os.path.join(events, a['path'])):
                problems.append('%s does not exist' % a['path'])
        exp = os.path.join(work, 'events_expected.jsonl')
        tarnrun.write_jsonl(exp, [
            {'id': 1, 'kind': 'a', 'amount': None, 'day': '2024-01-01', 'at': None, 'tags': None},
            {'id': 2, 'kind': 'b', 'amount': None, 'day': '2024-01-02', 'at': None, 'tags': None},
            {'id': 3, 'kind': 'c', 'amount': None, 'day': '2024-01-01', 'at': None, 'tags': None},
            {'id': 4, 'kind': None, 'amount': None, 'day': None, 'at': None, 'tags': None}])
        act = os.path.join(work, 'events_actual.jsonl')
        r = tarnrun.run([args.tarn, 'cat', events, '--format', 'jsonl'], TIMEOUT, stdout_path=act)
        problems += tarnrun.contract_problems(r, allowed=(0,))
        if not problems:
            same, detail = tarnrun.compare_rows(shared, exp, act)
            if not same:
                problems.append(detail)
    tally.result('insert: into a partitioned table, one file per partition value', problems)

    # CREATE TABLE ... USING delta AS SELECT: one commit with the metadata and the rows.
    r = sql(args, wh, "CREATE TABLE copied USING delta AS SELECT id, name, price FROM nums "
                      "WHERE id < 10")
    problems = tarnrun.contract_problems(r, allowed=(0,))
    copied = os.path.join(wh, 'copied')
    if not problems:
        log = log_actions(copied)
        kinds = sorted(next(iter(a)) for a in log[0][1]) if log else []
        if [v for v, _ in log] != [0] or kinds != ['add', 'commitInfo', 'metaData', 'protocol']:
            problems.append('log %s' % [(v, sorted(next(iter(a)) for a in acts)) for v, acts in log])
        want = [{k: row[k] for k in ('id', 'name', 'price')} for row in NUMS_EXPECTED
                if row['id'] < 10]
        cexp = os.path.join(work, 'copied_expected.jsonl')
        tarnrun.write_jsonl(cexp, want)
        cact = os.path.join(work, 'copied_actual.jsonl')
        r = tarnrun.run([args.tarn, 'cat', copied, '--format', 'jsonl'], TIMEOUT, stdout_path=cact)
        problems += tarnrun.contract_problems(r, allowed=(0,))
        if not problems:
            same, detail = tarnrun.compare_rows(shared, cexp, cact)
            if not same:
                problems.append(detail)
    tally.result('create table as select: one commit, the selected rows', problems)

    # Concurrent writers: every acknowledged INSERT present, versions contiguous.
    n, each = 4, 3
    procs = [subprocess.Popen([args.tarn, 'sql', '-w', wh] +
                              sum([['-c', 'INSERT INTO nums VALUES (%d, \'p%d\', NULL, NULL)'
                                    % (100 + p * 10 + i, p)] for i in range(each)], []),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for p in range(n)]
    problems = []
    for p in procs:
        _, err = p.communicate(timeout=TIMEOUT)
        if p.returncode != 0:
            problems.append('a writer failed: %s' % err.decode('utf-8', 'replace').strip()[:200])
    versions = [v for v, _ in log_actions(table)]
    if versions != list(range(len(versions))) or len(versions) != 4 + n * each:
        problems.append('versions %s' % versions)
    r = sql(args, wh, 'SELECT count(*) AS n, count(DISTINCT id) AS ids FROM nums WHERE id >= 100')
    if b'%d |' % (n * each) not in r.stdout:
        problems.append('rows: %r' % r.stdout[-200:])
    tally.result('insert: %d processes x %d INSERTs at once, all present' % (n, each), problems)
    shutil.rmtree(work, ignore_errors=True)


def check_app_transactions(args, wh, tally):
    """SET delta.write.txnAppId / txnVersion make retried writes idempotent."""
    def count(table):
        r = tarnrun.run([args.tarn, 'sql', '-w', wh, '--format', 'csv', '-c',
                         'SELECT count(*) FROM %s' % table], TIMEOUT)
        lines = r.stdout.decode('utf-8', 'replace').split()
        return int(lines[-1]) if r.rc == 0 and lines and lines[-1].isdigit() else None

    problems = tarnrun.contract_problems(
        sql(args, wh, 'CREATE TABLE apptx (id bigint, src text) USING delta'), allowed=(0,))
    # the same application version three times (a retrying stream), then the next version
    outs = []
    for version, rows in [(7, "(1, 'a'), (2, 'a')"), (7, "(1, 'a'), (2, 'a')"),
                          (5, "(9, 'old')"), (8, "(3, 'b')")]:
        r = tarnrun.run([args.tarn, 'sql', '-w', wh, '-c',
                         "SET delta.write.txnAppId = 'stream-1'; "
                         "SET spark.databricks.delta.write.txnVersion = %d; "
                         "INSERT INTO apptx VALUES %s" % (version, rows)], TIMEOUT)
        problems += tarnrun.contract_problems(r, allowed=(0,))
        outs.append(r.stdout.decode('utf-8', 'replace'))
    if not problems:
        if count('apptx') != 3:
            problems.append('%s rows, expected 3 (versions 7 and 8 once each)' % count('apptx'))
        if 'INSERT 0 0' not in outs[1] or 'INSERT 0 0' not in outs[2]:
            problems.append('repeated or older versions did not report 0 rows: %r' % outs[1:3])
        txns = [a['txn'] for _, acts in log_actions(os.path.join(wh, 'apptx'))
                for a in acts if 'txn' in a]
        if [(t['appId'], t['version']) for t in txns] != [('stream-1', 7), ('stream-1', 8)]:
            problems.append('txn actions %s' % txns)
    # a version covers one write: the next statement without SET is a plain write
    r = sql(args, wh, "SET delta.write.txnAppId = 'stream-2'; SET delta.write.txnVersion = 1; "
                      "INSERT INTO apptx VALUES (4, 'c'); INSERT INTO apptx VALUES (5, 'c')")
    problems += tarnrun.contract_problems(r, allowed=(0,))
    if not problems and count('apptx') != 5:
        problems.append('%s rows after two writes under one SET, expected 5' % count('apptx'))
    r = sql(args, wh, "SET delta.write.txnVersion = 'x'")
    if r.rc != 1 or 'txnVersion' not in ' '.join(r.stderr_lines()):
        problems.append('a bad txnVersion was not refused naming it')
    tally.result('application transactions: a version already committed is not applied twice',
                 problems)


def check_schema_merge(args, shared, wh, tally):
    """INSERT with columns the table lacks: refused (schema enforcement) unless schema merge is
    on; then one commit adds the columns and the rows."""
    table = os.path.join(wh, 'evolve')
    problems = tarnrun.contract_problems(sql(
        args, wh, "CREATE TABLE evolve (id bigint, name text) USING delta; "
                  "INSERT INTO evolve VALUES (1, 'a')"), allowed=(0,))
    before = [v for v, _ in log_actions(table)]
    for text, word in [("INSERT INTO evolve (id, name, score) VALUES (2, 'b', 10)", 'score'),
                       ("INSERT INTO evolve SELECT 2, 'b', 10 AS score", 'score')]:
        r = sql(args, wh, text)
        msg = ' '.join(r.stderr_lines())
        if r.rc != 1 or word not in msg or 'schema merge' not in msg:
            problems.append('%s: exit %d, %s' % (text, r.rc, msg[:200]))
    if [v for v, _ in log_actions(table)] != before:
        problems.append('a refused INSERT committed')
    tally.result('schema enforcement: INSERT of a column the table lacks is refused naming it',
                 problems)

    problems = tarnrun.contract_problems(sql(
        args, wh, "SET delta.schema.autoMerge.enabled = true; "
                  "INSERT INTO evolve (id, name, score) VALUES (2, 'b', 10); "
                  "INSERT INTO evolve SELECT 3 AS id, 'c' AS name, 30 AS score, "
                  "DATE '2024-05-01' AS day"), allowed=(0,))
    log = log_actions(table)
    if not problems:
        if [v for v, _ in log] != before + [before[-1] + 1, before[-1] + 2]:
            problems.append('versions %s' % [v for v, _ in log])
        else:
            for v, acts in log[-2:]:
                meta = [a['metaData'] for a in acts if 'metaData' in a]
                adds = [a['add'] for a in acts if 'add' in a]
                if len(meta) != 1 or len(adds) != 1:
                    problems.append('version %d: %d metaData, %d add' % (v, len(meta), len(adds)))
            fields = json.loads([a['metaData'] for a in log[-1][1]
                                 if 'metaData' in a][0]['schemaString'])['fields']
            got = [(f['name'], f['type'], f['nullable']) for f in fields]
            want = [('id', 'long', True), ('name', 'string', True), ('score', 'integer', True),
                    ('day', 'date', True)]
            if got != want:
                problems.append('schema %s, expected %s' % (got, want))
    if not problems:
        exp = os.path.join(wh, 'evolve.expected.jsonl')
        act = os.path.join(wh, 'evolve.actual.jsonl')
        tarnrun.write_jsonl(exp, [
            {'id': 1, 'name': 'a', 'score': None, 'day': None},
            {'id': 2, 'name': 'b', 'score': 10, 'day': None},
            {'id': 3, 'name': 'c', 'score': 30, 'day': '2024-05-01'}])
        r = tarnrun.run([args.tarn, 'cat', table, '--format', 'jsonl'], TIMEOUT, stdout_path=act)
        problems += tarnrun.contract_problems(r, allowed=(0,))
        if not problems:
            same, detail = tarnrun.compare_rows(shared, exp, act)
            if not same:
                problems.append(detail)
    tally.result('schema merge (SET delta.schema.autoMerge.enabled): each INSERT adds its new '
                 'columns and rows in one commit', problems)

    problems = tarnrun.contract_problems(sql(
        args, wh, "CREATE TABLE evolve2 (id bigint) USING delta WITH "
                  "(\"tarn.autoMerge.enabled\" = 'true'); "
                  "INSERT INTO evolve2 (id, tag) VALUES (1, 'x')"), allowed=(0,))
    r = tarnrun.run([args.tarn, 'sql', '-w', wh, '--format', 'csv', '-c',
                     'SELECT id, tag FROM evolve2'], TIMEOUT)
    problems += tarnrun.contract_problems(r, allowed=(0,))
    if not problems and r.stdout.decode().split() != ['id,tag', '1,x']:
        problems.append('rows %r' % r.stdout[:100])
    tally.result('schema merge by the table property tarn.autoMerge.enabled', problems)

    # with column mapping: the new column gets a physical name, which the new file uses
    problems = tarnrun.contract_problems(sql(
        args, wh, "CREATE TABLE evolve3 (id bigint, v text) USING delta; "
                  "INSERT INTO evolve3 VALUES (1, 'a'); "
                  "ALTER TABLE evolve3 SET (\"delta.columnMapping.mode\" = 'name'); "
                  "ALTER TABLE evolve3 RENAME COLUMN v TO w; "
                  "SET delta.schema.autoMerge.enabled = true; "
                  "INSERT INTO evolve3 (id, w, extra) VALUES (2, 'b', 42)"), allowed=(0,))
    t3 = os.path.join(wh, 'evolve3')
    log = log_actions(t3) if not problems else []
    if log:
        fields = json.loads([a['metaData'] for a in log[-1][1]
                             if 'metaData' in a][0]['schemaString'])['fields']
        extra = [f for f in fields if f['name'] == 'extra']
        phys = extra[0]['metadata'].get('delta.columnMapping.physicalName') if extra else None
        adds = [a['add']['path'] for a in log[-1][1] if 'add' in a]
        if not phys or phys == 'extra' or len(adds) != 1:
            problems.append('extra: physical name %r, adds %s' % (phys, adds))
        else:
            r = tarnrun.run([args.tarn, 'sql', '--format', 'csv', '-c',
                             "SELECT * FROM read_parquet('%s')" % os.path.join(t3, adds[0])],
                            TIMEOUT)
            if r.stdout.decode().split() != ['id,v,%s' % phys, '2,b,42']:
                problems.append('the new file holds %r' % r.stdout[:200])
        r = tarnrun.run([args.tarn, 'sql', '-w', wh, '--format', 'csv', '-c',
                         'SELECT id, w, extra FROM evolve3 ORDER BY id'], TIMEOUT)
        if r.stdout.decode().split() != ['id,w,extra', '1,a,', '2,b,42']:
            problems.append('rows %r' % r.stdout[:200])
    tally.result('schema merge with column mapping: the new column\'s physical name in the file',
                 problems)


def check_stats_pruning(args, shared, wh, tally):
    """Files are skipped by string and timestamp statistics, never wrongly: the rows of every
    filter equal the ones computed here, and the skipped file counts are the ones the ranges
    give. Two add actions are then edited to carry the statistics Spark writes (a maximum
    timestamp truncated to the millisecond, a long string's maximum cut to 32 characters), which
    are not upper bounds: the rows they hide must still be found."""
    long1 = 'd' * 40 + 'x'
    rows = [(1, 'apple', '2024-01-01 10:00:00.123456+00'), (2, 'apricot', '2024-01-02 00:00:00+00'),
            (3, 'banana', '2024-02-01 00:00:00+00'), (4, 'blueberry', '2024-02-03 12:30:00+00'),
            (5, long1, '2024-03-01 00:00:00.999999+00'), (6, 'cherry', '2024-02-20 00:00:00+00')]
    groups = [rows[0:2], rows[2:4], rows[4:6]]
    problems = tarnrun.contract_problems(
        sql(args, wh, 'CREATE TABLE pr (id bigint, s text, ts timestamptz) USING delta'),
        allowed=(0,))
    for g in groups:
        values = ', '.join("(%d, '%s', '%s')" % r for r in g)
        problems += tarnrun.contract_problems(sql(args, wh, 'INSERT INTO pr VALUES ' + values),
                                              allowed=(0,))
    tally.result('pruning: a table of three files with string and timestamp ranges', problems)
    if problems:
        return

    def run(where):
        r = tarnrun.run([args.tarn, 'sql', '-w', wh, '--format', 'csv', '-c',
                         'SELECT id FROM pr WHERE %s ORDER BY id' % where], TIMEOUT)
        ids = [int(x) for x in r.stdout.decode().split()[1:]] if r.rc == 0 else None
        e = tarnrun.run([args.tarn, 'sql', '-w', wh, '-c',
                         'EXPLAIN ANALYZE SELECT id FROM pr WHERE %s' % where], TIMEOUT)
        m = re.search(rb'files=(\d+) skipped=(\d+)', e.stdout)
        return ids, (int(m.group(1)), int(m.group(2))) if m else None

    # (filter, ids, files skipped): the third file's string maximum is unknown (41 characters),
    # so it is never skipped on s, though its minimum ('cherry') is known
    cases = [("s = 'banana'", [3], 1), ("s < 'b'", [1, 2], 1), ("s >= 'cherry'", [5, 6], 2),
             ("s = '%s'" % long1, [5], 2),
             ("ts = '2024-01-01 10:00:00.123456+00'", [1], 2),
             ("ts > '2024-02-10 00:00:00+00'", [5, 6], 2),
             ("ts < '2024-01-01 10:00:00.123+00'", [], 3),
             ("ts >= '2024-03-01 00:00:00.999999+00'", [5], 2)]
    for where, ids, skipped in cases:
        got, files = run(where)
        problems = []
        if got != ids:
            problems.append('ids %s, expected %s' % (got, ids))
        if files != (3, skipped):
            problems.append('files read/skipped %s, expected (3, %d)' % (files, skipped))
        tally.result('pruning: WHERE %s' % where[:50], problems)

    # Spark's statistics: file 1's minimum timestamp truncated to .123 (the row is .123456), file
    # 3's maximum timestamp truncated to .999 (the row is .999999) and its maximum string cut to
    # 32 characters (the row is longer)
    table = os.path.join(wh, 'pr')
    for v in (1, 3):
        path = os.path.join(table, '_delta_log', '%020d.json' % v)
        with open(path, encoding='utf-8') as f:
            lines = [json.loads(l) for l in f if l.strip()]
        for a in lines:
            if 'add' in a:
                st = json.loads(a['add']['stats'])
                if v == 1:
                    st['maxValues']['ts'] = '2024-01-02T00:00:00.000Z'
                    st['minValues']['ts'] = '2024-01-01T10:00:00.123Z'
                    st['maxValues']['s'] = 'apricot'
                else:
                    st['maxValues']['s'] = long1[:32]
                    st['maxValues']['ts'] = '2024-03-01T00:00:00.999Z'
                a['add']['stats'] = json.dumps(st)
        with open(path, 'w', encoding='utf-8') as f:
            f.write(''.join(json.dumps(a) + '\n' for a in lines))
    problems = []
    for where, ids in [("ts = '2024-01-01 10:00:00.123456+00'", [1]), ("s = '%s'" % long1, [5]),
                       ("ts = '2024-03-01 00:00:00.999999+00'", [5]),
                       ("s > '%s'" % long1[:32], [5])]:
        got, _ = run(where)
        if got != ids:
            problems.append('WHERE %s: ids %s, expected %s' % (where[:40], got, ids))
    tally.result('pruning: truncated maxima (Spark\'s statistics) never hide rows', problems)


def main():
    args = tarnrun.arg_parser(__doc__.splitlines()[0]).parse_args()
    tally = tarnrun.Tally()
    if not tarnrun.require_tarn(args.tarn, tally):
        return tally.finish()
    wh = tempfile.mkdtemp(prefix='tarn-delta-write-')
    try:
        r = sql(args, wh, EVENTS)
        table = os.path.join(wh, 'events')
        problems = tarnrun.contract_problems(r, allowed=(0,))
        if not problems:
            log = log_actions(table)
            if [v for v, _ in log] != [0]:
                problems.append('versions %s, expected [0]' % [v for v, _ in log])
            else:
                problems += check_version0(log[0][1], EVENTS_FIELDS, ['day'],
                                           {'delta.appendOnly': 'true'},
                                           {'minReaderVersion': 1, 'minWriterVersion': 2})
        tally.result('create: version 0 of a partitioned table', problems)

        r = tarnrun.run([args.tarn, 'cat', table, '--format', 'jsonl'], TIMEOUT)
        problems = tarnrun.contract_problems(r, allowed=(0,))
        if not problems and r.stdout.strip():
            problems.append('rows in a new table: %r' % r.stdout[:200])
        tally.result('create: tarn cat reads no rows', problems)

        r = sql(args, wh, 'SELECT count(*) AS n FROM events')
        problems = tarnrun.contract_problems(r, allowed=(0,))
        if not problems and b' 0 |' not in r.stdout:
            problems.append('count is not 0: %r' % r.stdout[-200:])
        tally.result('create: SELECT count(*) is 0', problems)

        r = tarnrun.run([args.tarn, 'schema', table], TIMEOUT)
        problems = tarnrun.contract_problems(r, allowed=(0,))
        if not problems and json.loads(r.stdout) != {'type': 'struct', 'fields': EVENTS_FIELDS}:
            problems.append('schema %r' % r.stdout[:200])
        tally.result('create: tarn schema prints the schema string', problems)

        r = sql(args, wh, EVENTS)
        problems = tarnrun.contract_problems(r, allowed=(1,))
        if r.rc == 0:
            problems = ['a second CREATE TABLE succeeded']
        elif 'already exists' not in ' '.join(r.stderr_lines()):
            problems.append('error does not say the table exists: %s' % r.stderr_lines())
        tally.result('create: a second CREATE fails', problems)

        r = sql(args, wh, EVENTS.replace('CREATE TABLE', 'CREATE TABLE IF NOT EXISTS'))
        problems = tarnrun.contract_problems(r, allowed=(0,))
        if not problems and [v for v, _ in log_actions(table)] != [0]:
            problems.append('IF NOT EXISTS wrote a commit')
        tally.result('create: IF NOT EXISTS succeeds and writes nothing', problems)

        r = sql(args, wh, 'CREATE TABLE ntz (a integer, b timestamp) USING delta')
        problems = tarnrun.contract_problems(r, allowed=(0,))
        if not problems:
            log = log_actions(os.path.join(wh, 'ntz'))
            problems = check_version0(
                log[0][1],
                [{'name': 'a', 'type': 'integer', 'nullable': True, 'metadata': {}},
                 {'name': 'b', 'type': 'timestamp_ntz', 'nullable': True, 'metadata': {}}],
                [], {}, {'minReaderVersion': 3, 'minWriterVersion': 7,
                         'readerFeatures': ['timestampNtz'], 'writerFeatures': ['timestampNtz']})
        tally.result('create: timestamp without time zone needs the timestampNtz feature', problems)

        refusals = [
            ("CREATE TABLE r1 (a int) USING delta WITH (delta.enableRowTracking = 'true')",
             'enablerowtracking'),
            ("CREATE TABLE r2 (a int, b int) USING delta WITH (partitioning = 'c')", '"c"'),
            ("CREATE TABLE r3 (a int, u uuid) USING delta", 'uuid'),
            ("CREATE TABLE r4 (a int) USING delta WITH (colour = 'blue')", 'colour'),
            ("CREATE TABLE r5 (a int) USING iceberg", 'USING delta'),
        ]
        for text, word in refusals:
            r = sql(args, wh, text)
            problems = tarnrun.contract_problems(r, allowed=(1,))
            msg = ' '.join(r.stderr_lines())
            if r.rc == 0:
                problems = ['accepted']
            elif word not in msg:
                problems.append('error does not name %s: %s' % (word, msg[:200]))
            name = text.split()[2]
            if os.path.exists(os.path.join(wh, name, '_delta_log')):
                problems.append('a log was written')
            tally.result('create refused: %s' % text[text.index('('):][:60], problems)

        check_inserts(args, wh, tally)
        check_app_transactions(args, wh, tally)
        check_schema_merge(args, tarnrun.shared_dir(args), wh, tally)
        check_stats_pruning(args, tarnrun.shared_dir(args), wh, tally)

        # Several processes create one table at once: the put-if-absent commit lets one win.
        n = 5
        procs = [subprocess.Popen([args.tarn, 'sql', '-w', wh, '-c',
                                   'CREATE TABLE race (a bigint, b text) USING delta'],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                 for _ in range(n)]
        codes = []
        for p in procs:
            _, err = p.communicate(timeout=TIMEOUT)
            codes.append((p.returncode, err.decode('utf-8', 'replace')))
        problems = []
        if sum(1 for c, _ in codes if c == 0) != 1:
            problems.append('%d of %d creators succeeded' % (sum(1 for c, _ in codes if c == 0), n))
        for c, err in codes:
            if c not in (0, 1) or (c == 1 and 'already exists' not in err):
                problems.append('a loser exited %d: %s' % (c, err.strip()[:200]))
        versions = [v for v, _ in log_actions(os.path.join(wh, 'race'))]
        if versions != [0]:
            problems.append('versions %s, expected [0]' % versions)
        tally.result('create: %d processes racing, exactly one wins' % n, problems)
    finally:
        if args.keep:
            print('kept %s' % wh)
        else:
            shutil.rmtree(wh, ignore_errors=True)
    return tally.finish()


if __name__ == '__main__':
    sys.exit(main())
