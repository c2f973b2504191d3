#!/usr/bin/env python3
"""DELETE, UPDATE, MERGE and ALTER on Delta tables, checked against DuckDB and the protocol.

Checks, in a scratch warehouse, with `tarn sql -w`:
  - a DML history (create, insert, update, delete, merge with every kind of clause, add column,
    update, delete) gives, at every version (`tarn cat --as-of N`), the rows DuckDB's own
    table holds after running the same statements; in five table layouts: plain copy-on-write,
    partitioned, with deletion vectors, with the change data feed, and partitioned with both;
  - with the change data feed on, each DML version's change rows (insert, delete,
    update_preimage, update_postimage) are those the difference of DuckDB's tables before and
    after the statement gives (by id); DuckDB reading the version's cdc files sees them, and so
    does `table_changes`;
  - the log follows the protocol at every version: one JSON action per line, only known action
    kinds, every live add's file exists, statistics parse and count the file's rows, deletion
    vectors only in the table with the feature, and DuckDB reading the live files of the
    copy-on-write table sees the table's rows;
  - INSERT INTO ... REPLACE WHERE, INSERT OVERWRITE (whole table) and INSERT OVERWRITE ...
    PARTITION (day = ...) and dynamic partition overwrite (partitioned layout; a non-partition
    column refused) commit one WRITE version
    each (mode Overwrite) and give, at every version, the rows DuckDB holds after deleting the
    matching rows and inserting the query's (read before the deletion); in the plain,
    partitioned and deletion-vector layouts; a new row outside the REPLACE WHERE condition
    fails the statement (Delta's constraint check) and commits nothing;
  - a MERGE whose source matches one target row twice fails and commits nothing;
  - MERGE's UPDATE SET * and INSERT * take the source's columns by name (rows written here by
    hand), and a source lacking a column is refused naming it; with schema merge on, the
    source's extra columns are added in the MERGE's own commit (schema and rows checked);
  - several processes updating one row at once: every acknowledged update is counted once, the
    others fail with exit 3 (conflict) and change nothing;
  - copy-on-write UPDATEs of different partitions at once all succeed (no false conflict);
    UPDATEs with overlapping conditions lose no acknowledged update;
  - a writer killed with SIGKILL in the middle of UPDATEs, many times over: the table stays
    readable and holds every acknowledged update.

usage: delta_dml.py [--tarn build/tarn] [--shared ../shared] [--keep]
Prints one line per check and ends with `N passed, N failed`; exits 1 if any failed.
"""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tarnrun  # noqa: E402

TIMEOUT = 120
KNOWN_ACTIONS = {'commitInfo', 'protocol', 'metaData', 'add', 'remove', 'txn', 'cdc',
                 'domainMetadata', 'checkpointMetadata', 'sidecar'}

COLUMNS = "id bigint NOT NULL, name text, qty integer, price numeric(10,2), day date"
# The history: statement i makes table version i. Written so PostgreSQL's and DuckDB's meaning
# is the same (explicit casts, no integer division).
HISTORY = [
    None,  # CREATE TABLE, per layout
    "INSERT INTO t VALUES (1, 'a', 1, 1.50, '2024-01-01'), (2, 'b', 2, 2.50, '2024-01-02'), "
    "(3, 'c', 3, 3.50, '2024-01-01'), (4, NULL, 4, NULL, NULL), (5, 'e', 5, 5.25, '2024-01-03'), "
    "(6, 'f', 6, 6.00, '2024-01-02'), (7, 'g', 7, 7.75, '2024-01-03'), (8, 'h', 8, 8.00, NULL)",
    "UPDATE t SET qty = qty + 100, price = price * 2 WHERE id % 2 = 0",
    "DELETE FROM t WHERE qty > 105 OR name IS NULL",
    "MERGE INTO t USING (VALUES (2::bigint, 'B'::text, 7, 1.25::numeric(10,2), "
    "'2024-01-02'::date), (3::bigint, 'gone'::text, -1, 0.00::numeric(10,2), NULL::date), "
    "(9::bigint, 'i'::text, 9, 9.90::numeric(10,2), '2024-01-04'::date), "
    "(10::bigint, 'j'::text, 10, NULL::numeric(10,2), NULL::date)) AS s(id, name, qty, price, day) "
    "ON t.id = s.id "
    "WHEN MATCHED AND s.qty < 0 THEN DELETE "
    "WHEN MATCHED THEN UPDATE SET name = s.name, qty = s.qty "
    "WHEN NOT MATCHED AND s.id < 10 THEN INSERT VALUES (s.id, s.name, s.qty, s.price, s.day) "
    # An OR and a CASE ... THEN inside the condition: it must stay one condition.
    "WHEN NOT MATCHED BY SOURCE AND t.qty > 5 OR CASE WHEN t.id = 1 THEN true ELSE false END "
    "THEN UPDATE SET qty = 0",
    "ALTER TABLE t ADD COLUMN note text",
    "UPDATE t SET note = 'n' || CAST(id AS text) WHERE qty < 50",
    "DELETE FROM t WHERE id = 1",
]
LAYOUTS = [
    ('cow', ''),
    ('partitioned', " WITH (partitioning = 'day')"),
    ('dv', " WITH (\"delta.enableDeletionVectors\" = 'true')"),
    ('cdf', " WITH (\"delta.enableChangeDataFeed\" = 'true')"),
    ('cdf_dv_partitioned', " WITH (partitioning = 'day', \"delta.enableChangeDataFeed\" = 'true', "
     "\"delta.enableDeletionVectors\" = 'true')"),
]
DML_VERSIONS = [2, 3, 4, 6, 7]  # the UPDATE, DELETE and MERGE versions of HISTORY


def read_jsonl(path):
    with open(path, encoding='utf-8') as f:
        return [json.loads(l) for l in f if l.strip()]


def expected_changes(before, after):
    """The change rows between two tables' rows (keyed by id), as the change data feed states
    them: ids only before are deletes, only after inserts, changed ones a pre- and a post-image."""
    old = {r['id']: r for r in before}
    new = {r['id']: r for r in after}
    cols = list(after[0].keys()) if after else list(before[0].keys())
    out = []
    for i in sorted(set(old) | set(new)):
        o = dict((c, old[i].get(c)) for c in cols) if i in old else None
        n = new.get(i)
        if o is None:
            out.append(dict(n, _change_type='insert'))
        elif n is None:
            out.append(dict(o, _change_type='delete'))
        elif o != n:
            out.append(dict(o, _change_type='update_preimage'))
            out.append(dict(n, _change_type='update_postimage'))
    return out


def check_change_feed(args, shared, node_oracle, twh, table, layout, tally):
    log = dict(log_actions(table))
    for v in DML_VERSIONS:
        want = expected_changes(read_jsonl(os.path.join(twh, 'expected_%d.jsonl' % (v - 1))),
                                read_jsonl(os.path.join(twh, 'expected_%d.jsonl' % v)))
        exp = os.path.join(twh, 'changes_expected_%d.jsonl' % v)
        tarnrun.write_jsonl(exp, want)
        problems = []
        cdcs = [a['cdc'] for a in log.get(v, []) if 'cdc' in a]
        if not cdcs:
            problems.append('version %d has no cdc action' % v)
        for c in cdcs:
            if c.get('dataChange') is not False or not c['path'].startswith('_change_data/'):
                problems.append('cdc action %s' % json.dumps(c)[:200])
        if not problems and layout == 'cdf':
            files = ', '.join("'%s'" % os.path.join(table, c['path']) for c in cdcs)
            duck = os.path.join(twh, 'changes_duck_%d.jsonl' % v)
            d = tarnrun.duckdb(shared, node_oracle, [
                '--sql', 'SELECT * FROM read_parquet([%s], union_by_name = true)' % files],
                stdout_path=duck)
            problems = [] if d.rc == 0 else ['DuckDB failed: %s' % d.stderr.strip()[:300]]
            if not problems:
                same, detail = tarnrun.compare_rows(shared, exp, duck)
                if not same:
                    problems.append('cdc files read by DuckDB: ' + detail)
        if not problems:
            act = os.path.join(twh, 'changes_tarn_%d.jsonl' % v)
            cols = ', '.join(list(want[0].keys())[:-1]) if want else '*'
            r = tarnrun.run([args.tarn, 'sql', '-w', twh, '--format', 'jsonl', '-c',
                             "SELECT %s, _change_type FROM table_changes('t', %d, %d)"
                             % (cols, v, v)], TIMEOUT, stdout_path=act)
            problems += tarnrun.contract_problems(r, allowed=(0,))
            if not problems:
                same, detail = tarnrun.compare_rows(shared, exp, act)
                if not same:
                    problems.append('table_changes: ' + detail)
        tally.result('%s: version %d change data equals the difference DuckDB\'s tables give '
                     '(%d rows)' % (layout, v, len(want)), problems)


def sql(args, wh, *texts):
    cmd = [args.tarn, 'sql', '-w', wh]
    for t in texts:
        cmd += ['-c', t]
    return tarnrun.run(cmd, TIMEOUT)


def log_actions(table):
    out = []
    log = os.path.join(table, '_delta_log')
    for name in sorted(os.listdir(log)):
        if name.endswith('.json') and name[:20].isdigit():
            with open(os.path.join(log, name), encoding='utf-8') as f:
                out.append((int(name[:20]), [json.loads(l) for l in f if l.strip()]))
    return out


def live_adds(table, upto):
    """The live add actions after replaying commits 0..upto (path and deletion vector id)."""
    live = {}
    for v, actions in log_actions(table):
        if v > upto:
            break
        for a in actions:
            if 'remove' in a:
                r = a['remove']
                live.pop((r['path'], dv_id(r.get('deletionVector'))), None)
            if 'add' in a:
                ad = a['add']
                key = (ad['path'], dv_id(ad.get('deletionVector')))
                live = {k: x for k, x in live.items() if k[0] != ad['path']}
                live[key] = ad
    return live


def dv_id(dv):
    return None if not dv else (dv['storageType'], dv['pathOrInlineDv'], dv.get('offset'))


def protocol_problems(table, layout):
    """Checks every commit of the table against the protocol's shape rules."""
    problems = []
    log = os.path.join(table, '_delta_log')
    for name in sorted(os.listdir(log)):
        if not (name.endswith('.json') and name[:20].isdigit()):
            continue
        with open(os.path.join(log, name), encoding='utf-8') as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    action = json.loads(line)
                except ValueError:
                    problems.append('%s:%d is not JSON' % (name, n))
                    continue
                if len(action) != 1 or next(iter(action)) not in KNOWN_ACTIONS:
                    problems.append('%s:%d holds %s' % (name, n, sorted(action)))
                kind = next(iter(action))
                body = action[kind]
                if kind == 'add':
                    if 'deletionVector' in body and 'dv' not in layout:
                        problems.append('%s: a deletion vector in a table without the feature' % name)
                    try:
                        st = json.loads(body['stats'])
                        if not isinstance(st.get('numRecords'), int):
                            problems.append('%s: stats without numRecords' % name)
                    except (KeyError, ValueError, TypeError):
                        problems.append('%s: add %s without parsable stats' % (name, body.get('path')))
    last = log_actions(table)[-1][0]
    for (path, _), add in live_adds(table, last).items():
        full = os.path.join(table, path.replace('%25', '%'))
        if not os.path.exists(full):
            problems.append('live file %s does not exist' % path)
    return problems


def check_history(args, shared, node_oracle, wh, layout, options, tally):
    create = "CREATE TABLE t (%s) USING delta%s" % (COLUMNS, options)
    statements = [create] + HISTORY[1:]
    twh = os.path.join(wh, layout)
    os.makedirs(twh)
    problems = []
    for i, text in enumerate(statements):
        r = sql(args, twh, text)
        p = tarnrun.contract_problems(r, allowed=(0,))
        if p:
            problems += ['statement %d: %s' % (i, x) for x in p]
            break
    table = os.path.join(twh, 't')
    if not problems:
        versions = [v for v, _ in log_actions(table)]
        if versions != list(range(len(statements))):
            problems.append('versions %s, expected 0..%d' % (versions, len(statements) - 1))
    tally.result('%s: the history commits one version per statement' % layout, problems)
    if problems:
        return
    # DuckDB runs the same statements on its own table; both sides compared at every version.
    duck_statements = ["CREATE TABLE t (%s)" % COLUMNS] + HISTORY[1:]
    for v in range(len(statements)):
        exp = os.path.join(twh, 'expected_%d.jsonl' % v)
        script = ';\n'.join(duck_statements[:v + 1] + ['SELECT * FROM t'])
        d = tarnrun.duckdb(shared, node_oracle, ['--sql', script], stdout_path=exp)
        problems = [] if d.rc == 0 else ['DuckDB failed: %s' % d.stderr.strip()[:300]]
        act = os.path.join(twh, 'actual_%d.jsonl' % v)
        r = tarnrun.run([args.tarn, 'cat', table, '--as-of', str(v), '--format', 'jsonl'],
                        TIMEOUT, stdout_path=act)
        problems += tarnrun.contract_problems(r, allowed=(0,))
        if not problems:
            same, detail = tarnrun.compare_rows(shared, exp, act)
            if not same:
                problems.append(detail)
        tally.result('%s: version %d equals DuckDB after the same statements' % (layout, v),
                     problems)
    tally.result('%s: the log follows the protocol' % layout, protocol_problems(table, layout))
    if layout.startswith('cdf'):
        check_change_feed(args, shared, node_oracle, twh, table, layout, tally)
    kinds = [sorted({next(iter(a)) for a in acts}) for _, acts in log_actions(table)]
    problems = []
    if 'dv' in layout:
        dvs = [a['add'] for _, acts in log_actions(table) for a in acts
               if 'add' in a and 'deletionVector' in a['add']]
        if not dvs:
            problems.append('no add carries a deletion vector')
        for a in dvs:
            st = json.loads(a['stats'])
            if st.get('tightBounds') is not False:
                problems.append('%s: tightBounds is not false with a deletion vector' % a['path'])
    if 'remove' not in kinds[3]:
        problems.append('the DELETE removed no file: %s' % kinds[3])
    tally.result('%s: DELETE and UPDATE remove what they change (%s)' %
                 (layout, 'deletion vectors' if 'dv' in layout else 'rewritten files'), problems)
    if layout == 'cow':
        last = len(statements) - 1
        files = ', '.join("'%s'" % os.path.join(table, p).replace("'", "''")
                          for p, _ in sorted(live_adds(table, last)))
        duck = os.path.join(twh, 'duck_files.jsonl')
        d = tarnrun.duckdb(shared, node_oracle, [
            '--sql', 'SELECT * FROM read_parquet([%s], union_by_name = true)' % files],
            stdout_path=duck)
        problems = [] if d.rc == 0 else ['DuckDB failed: %s' % d.stderr.strip()[:300]]
        if not problems:
            same, detail = tarnrun.compare_rows(shared, os.path.join(twh, 'expected_%d.jsonl' % last),
                                                duck)
            if not same:
                problems.append(detail)
        tally.result('cow: DuckDB reads the live data files as the table', problems)


# (tarn statement, DuckDB statements doing the same): the query reads the table as it was
OVERWRITES = [
    ("INSERT INTO t REPLACE WHERE day = '2024-01-01' VALUES "
     "(20, 'r1', 1, 1.00, '2024-01-01'), (21, 'r2', 2, NULL, '2024-01-01')",
     ["DELETE FROM t WHERE day = '2024-01-01'",
      "INSERT INTO t VALUES (20, 'r1', 1, 1.00, '2024-01-01'), (21, 'r2', 2, NULL, '2024-01-01')"]),
    ("INSERT INTO t REPLACE WHERE qty > 5 OR day IS NULL "
     "SELECT id + 100, name || ' it''s', qty, price, day FROM t WHERE qty > 5",
     ["CREATE TEMP TABLE n AS SELECT id + 100, name || ' it''s', qty, price, day FROM t "
      "WHERE qty > 5",
      "DELETE FROM t WHERE qty > 5 OR day IS NULL", "INSERT INTO t SELECT * FROM n",
      "DROP TABLE n"]),
    ("INSERT OVERWRITE TABLE t SELECT * FROM t WHERE id < 100 "
     "UNION ALL SELECT 99, 'z', 9, 9.99, DATE '2024-02-01'",
     ["CREATE TEMP TABLE n AS SELECT * FROM t WHERE id < 100 "
      "UNION ALL SELECT 99, 'z', 9, 9.99, DATE '2024-02-01'",
      "DELETE FROM t", "INSERT INTO t SELECT * FROM n", "DROP TABLE n"]),
    ("INSERT OVERWRITE t VALUES (1, 'only', 1, 1.00, NULL)",
     ["DELETE FROM t", "INSERT INTO t VALUES (1, 'only', 1, 1.00, NULL)"]),
]
# Spark's static partition clause, on the table partitioned by day: the query gives the other
# columns, the partition's rows are replaced
PARTITION_OVERWRITE = (
    "INSERT OVERWRITE TABLE t PARTITION (day = '2024-01-02') "
    "SELECT id + 50, name, qty, price FROM t WHERE day = '2024-01-01'",
    ["CREATE TEMP TABLE n AS SELECT id + 50, name, qty, price, DATE '2024-01-02' FROM t "
     "WHERE day = '2024-01-01'",
     "DELETE FROM t WHERE day = '2024-01-02'", "INSERT INTO t SELECT * FROM n", "DROP TABLE n"])
# dynamic partition overwrite: only the days the query writes (here 2024-01-01 and NULL) go
DYNAMIC_OVERWRITE = (
    "SET partitionOverwriteMode = dynamic; INSERT OVERWRITE t "
    "SELECT id + 200, name, qty, price, day FROM t WHERE day = '2024-01-01' "
    "UNION ALL SELECT 300, 'nul', 3, CAST(NULL AS numeric(10,2)), CAST(NULL AS date)",
    ["CREATE TEMP TABLE n AS SELECT id + 200, name, qty, price, day FROM t "
     "WHERE day = '2024-01-01' "
     "UNION ALL SELECT 300, 'nul', 3, CAST(NULL AS numeric(10,2)), CAST(NULL AS date)",
     "DELETE FROM t WHERE day IN (SELECT day FROM n) OR day IS NULL",
     "INSERT INTO t SELECT * FROM n", "DROP TABLE n"])


def check_overwrite(args, shared, node_oracle, wh, layout, options, tally):
    twh = os.path.join(wh, 'overwrite-' + layout)
    os.makedirs(twh)
    overwrites = OVERWRITES[:1] + \
        ([PARTITION_OVERWRITE, DYNAMIC_OVERWRITE] if layout == 'partitioned' else []) + \
        OVERWRITES[1:]
    tarn_statements = ["CREATE TABLE t (%s) USING delta%s" % (COLUMNS, options), HISTORY[1]] + \
        [t for t, _ in overwrites]
    problems = []
    for i, text in enumerate(tarn_statements):
        p = tarnrun.contract_problems(sql(args, twh, text), allowed=(0,))
        if p:
            problems += ['statement %d: %s' % (i, x) for x in p]
            break
    table = os.path.join(twh, 't')
    log = log_actions(table) if not problems else []
    if not problems and [v for v, _ in log] != list(range(len(tarn_statements))):
        problems.append('versions %s' % [v for v, _ in log])
    for v, acts in log[2:]:
        info = [a['commitInfo'] for a in acts if 'commitInfo' in a]
        if not info or info[0].get('operation') != 'WRITE' or \
                info[0].get('operationParameters', {}).get('mode') != 'Overwrite':
            problems.append('version %d commitInfo %s' % (v, json.dumps(info)[:200]))
    tally.result('%s: REPLACE WHERE and INSERT OVERWRITE commit one WRITE (Overwrite) version '
                 'each' % layout, problems)
    if problems:
        return
    duck = ["CREATE TABLE t (%s)" % COLUMNS, HISTORY[1]]
    for v in range(2, len(tarn_statements)):
        duck += overwrites[v - 2][1]
        exp = os.path.join(twh, 'expected_%d.jsonl' % v)
        d = tarnrun.duckdb(shared, node_oracle, ['--sql', ';\n'.join(duck + ['SELECT * FROM t'])],
                           stdout_path=exp)
        problems = [] if d.rc == 0 else ['DuckDB failed: %s' % d.stderr.strip()[:300]]
        act = os.path.join(twh, 'actual_%d.jsonl' % v)
        r = tarnrun.run([args.tarn, 'cat', table, '--as-of', str(v), '--format', 'jsonl'],
                        TIMEOUT, stdout_path=act)
        problems += tarnrun.contract_problems(r, allowed=(0,))
        if not problems:
            same, detail = tarnrun.compare_rows(shared, exp, act)
            if not same:
                problems.append(detail)
        tally.result('%s: overwrite version %d equals DuckDB deleting and inserting the same'
                     % (layout, v), problems)
    r = sql(args, twh, "INSERT INTO t REPLACE WHERE nosuch = 1 VALUES (1, 'x', 1, 1.00, NULL)")
    problems = tarnrun.contract_problems(r, allowed=(1,))
    if r.rc == 0:
        problems.append('succeeded')
    elif 'nosuch' not in ' '.join(r.stderr_lines()):
        problems.append('error does not name the column: %s' % ' '.join(r.stderr_lines())[:200])
    if [v for v, _ in log_actions(table)] != list(range(len(tarn_statements))):
        problems.append('committed something')
    tally.result('%s: REPLACE WHERE on a column the table lacks is refused' % layout, problems)
    r = sql(args, twh, "INSERT INTO t REPLACE WHERE qty > 5 VALUES (70, 'in', 7, 1.00, NULL), "
                       "(71, 'out', 1, 1.00, NULL)")
    problems = tarnrun.contract_problems(r, allowed=(1,))
    if r.rc == 0 or 'does not satisfy the condition' not in ' '.join(r.stderr_lines()):
        problems.append('exit %d: %s' % (r.rc, ' '.join(r.stderr_lines())[:200]))
    if [v for v, _ in log_actions(table)] != list(range(len(tarn_statements))):
        problems.append('committed something')
    tally.result('%s: REPLACE WHERE writing a row outside its condition is refused' % layout,
                 problems)
    if layout == 'partitioned':
        r = sql(args, twh, "INSERT OVERWRITE t PARTITION (qty = 1) SELECT 1, 'x', 1.00, NULL")
        problems = tarnrun.contract_problems(r, allowed=(1,))
        if r.rc == 0 or 'not a partition column' not in ' '.join(r.stderr_lines()):
            problems.append('exit %d: %s' % (r.rc, ' '.join(r.stderr_lines())[:200]))
        if [v for v, _ in log_actions(table)] != list(range(len(tarn_statements))):
            problems.append('committed something')
        tally.result('partitioned: PARTITION (a column that is not a partition column) is refused',
                     problems)


def check_merge_stars(args, shared, wh, tally):
    """MERGE's UPDATE SET * and INSERT * (Spark's shorthands) take the source's columns by name,
    in any order; a source lacking a target column is refused naming it, committing nothing."""
    twh = os.path.join(wh, 'stars')
    os.makedirs(twh)
    r = sql(args, twh, "CREATE TABLE t (id bigint, name text, qty integer) USING delta",
            "INSERT INTO t VALUES (1, 'a', 1), (2, 'b', 2)",
            "MERGE INTO t USING (SELECT 20 AS qty, 'B' AS name, 2 AS id, 'ignored' AS extra "
            "UNION ALL SELECT 30, 'C', 3, 'ignored') AS s ON t.id = s.id "
            "WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *")
    problems = tarnrun.contract_problems(r, allowed=(0,))
    table = os.path.join(twh, 't')
    if not problems:
        exp = os.path.join(twh, 'expected.jsonl')
        act = os.path.join(twh, 'actual.jsonl')
        tarnrun.write_jsonl(exp, [{'id': 1, 'name': 'a', 'qty': 1},
                                  {'id': 2, 'name': 'B', 'qty': 20},
                                  {'id': 3, 'name': 'C', 'qty': 30}])
        r = tarnrun.run([args.tarn, 'cat', table, '--format', 'jsonl'], TIMEOUT, stdout_path=act)
        problems += tarnrun.contract_problems(r, allowed=(0,))
        if not problems:
            same, detail = tarnrun.compare_rows(shared, exp, act)
            if not same:
                problems.append(detail)
    before = [v for v, _ in log_actions(table)] if not problems else []
    r = sql(args, twh, "MERGE INTO t USING (SELECT 1 AS id, 'x' AS name) AS s ON t.id = s.id "
                       "WHEN MATCHED THEN UPDATE SET *")
    if r.rc != 1 or 'no column "qty"' not in ' '.join(r.stderr_lines()):
        problems.append('a source without qty: exit %d, %s' % (r.rc, ' '.join(r.stderr_lines())))
    if before and [v for v, _ in log_actions(table)] != before:
        problems.append('the refused MERGE committed')
    tally.result('merge: UPDATE SET * and INSERT * take the source columns by name (extra '
                 'source columns ignored without schema merge)', problems)

    # schema evolution: with schema merge on, the source's extra columns join the table in the
    # MERGE's commit; rows the MERGE does not write read NULL there (copy-on-write rewrites and
    # untouched files alike)
    before = [v for v, _ in log_actions(table)]
    r = sql(args, twh, "SET delta.schema.autoMerge.enabled = true; "
                       "MERGE INTO t USING (SELECT 3 AS id, 'C3' AS name, 33 AS qty, "
                       "DATE '2024-06-01' AS day UNION ALL SELECT 4, 'D', 4, NULL) AS s "
                       "ON t.id = s.id WHEN MATCHED THEN UPDATE SET * "
                       "WHEN NOT MATCHED THEN INSERT *")
    problems = tarnrun.contract_problems(r, allowed=(0,))
    log = log_actions(table)
    if not problems:
        if [v for v, _ in log] != before + [before[-1] + 1]:
            problems.append('versions %s' % [v for v, _ in log])
        meta = [a['metaData'] for a in log[-1][1] if 'metaData' in a]
        fields = [f['name'] for f in json.loads(meta[0]['schemaString'])['fields']] if meta else []
        if fields != ['id', 'name', 'qty', 'day']:
            problems.append('schema fields %s after the MERGE' % fields)
        exp = os.path.join(twh, 'evolved.expected.jsonl')
        act = os.path.join(twh, 'evolved.actual.jsonl')
        tarnrun.write_jsonl(exp, [{'id': 1, 'name': 'a', 'qty': 1, 'day': None},
                                  {'id': 2, 'name': 'B', 'qty': 20, 'day': None},
                                  {'id': 3, 'name': 'C3', 'qty': 33, 'day': '2024-06-01'},
                                  {'id': 4, 'name': 'D', 'qty': 4, 'day': None}])
        r = tarnrun.run([args.tarn, 'cat', table, '--format', 'jsonl'], TIMEOUT, stdout_path=act)
        problems += tarnrun.contract_problems(r, allowed=(0,))
        if not problems:
            same, detail = tarnrun.compare_rows(shared, exp, act)
            if not same:
                problems.append(detail)
    tally.result('merge: schema evolution adds the source\'s new columns in the MERGE commit',
                 problems)


def check_merge_twice(args, wh, tally):
    r = sql(args, wh, "CREATE TABLE m (id bigint, v text) USING delta",
            "INSERT INTO m VALUES (1, 'a'), (2, 'b')")
    problems = tarnrun.contract_problems(r, allowed=(0,))
    before = len(log_actions(os.path.join(wh, 'm')))
    r = sql(args, wh, "MERGE INTO m USING (VALUES (1::bigint, 'x'::text), (1::bigint, 'y'::text)) "
                      "AS s(id, v) ON m.id = s.id WHEN MATCHED THEN UPDATE SET v = s.v")
    problems += tarnrun.contract_problems(r, allowed=(1,))
    if r.rc == 0:
        problems.append('accepted')
    elif 'second time' not in ' '.join(r.stderr_lines()):
        problems.append('the error does not say why: %s' % r.stderr_lines())
    if len(log_actions(os.path.join(wh, 'm'))) != before:
        problems.append('a commit was written')
    tally.result('merge: a target row matched twice is an error, nothing committed', problems)


def value_of(args, wh, query):
    r = tarnrun.run([args.tarn, 'sql', '-w', wh, '--format', 'jsonl', '-c', query], TIMEOUT)
    if r.rc != 0:
        return None, r
    lines = [json.loads(l) for l in r.stdout.decode().splitlines() if l.strip()]
    return (next(iter(lines[0].values())) if lines else None), r


def check_concurrent_updates(args, wh, tally):
    r = sql(args, wh, "CREATE TABLE c (id bigint, n bigint) USING delta",
            "INSERT INTO c VALUES (1, 0), (2, 0)")
    problems = tarnrun.contract_problems(r, allowed=(0,))
    n_procs, per_proc = 4, 5
    script = ("import subprocess, sys\n"
              "ok = 0\n"
              "for _ in range(%d):\n"
              "    r = subprocess.run([sys.argv[1], 'sql', '-w', sys.argv[2], '-c',\n"
              "        'UPDATE c SET n = n + 1 WHERE id = 1'], capture_output=True)\n"
              "    if r.returncode == 0: ok += 1\n"
              "    elif r.returncode != 3: print('rc', r.returncode, r.stderr, file=sys.stderr)\n"
              "print(ok)\n" % per_proc)
    procs = [subprocess.Popen([sys.executable, '-c', script, args.tarn, wh],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(n_procs)]
    acked = 0
    for p in procs:
        out, errs = p.communicate(timeout=600)
        if errs.strip():
            problems.append('unexpected failure: %s' % errs.decode()[:300])
        acked += int(out.decode().strip() or 0)
    n, r = value_of(args, wh, "SELECT n FROM c WHERE id = 1")
    if n != acked:
        problems.append('n = %s after %d acknowledged updates' % (n, acked))
    other, r = value_of(args, wh, "SELECT count(*) FROM c")
    if other != 2:
        problems.append('%s rows, expected 2' % other)
    if acked == 0:
        problems.append('no update succeeded')
    versions = [v for v, _ in log_actions(os.path.join(wh, 'c'))]
    if versions != list(range(len(versions))) or len(versions) != 2 + acked:
        problems.append('versions %s for %d acknowledged updates' % (versions, acked))
    tally.result('concurrency: %d processes x %d UPDATEs of one row: %d acknowledged, each '
                 'counted once' % (n_procs, per_proc, acked), problems)


def run_updaters(args, wh, statements, per_proc):
    """One process per statement, each running it per_proc times; acknowledged counts."""
    script = ("import subprocess, sys\n"
              "ok = 0\n"
              "for _ in range(%d):\n"
              "    r = subprocess.run([sys.argv[1], 'sql', '-w', sys.argv[2], '-c', sys.argv[3]],\n"
              "                       capture_output=True)\n"
              "    if r.returncode == 0: ok += 1\n"
              "    elif r.returncode != 3: print('rc', r.returncode, r.stderr, file=sys.stderr)\n"
              "print(ok)\n" % per_proc)
    procs = [subprocess.Popen([sys.executable, '-c', script, args.tarn, wh, text],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for text in statements]
    acked, problems = [], []
    for p in procs:
        out, errs = p.communicate(timeout=600)
        if errs.strip():
            problems.append('unexpected failure: %s' % errs.decode()[:300])
        acked.append(int(out.decode().strip() or 0))
    return acked, problems


def check_concurrent_partitions(args, wh, tally):
    """Copy-on-write UPDATEs of different partitions at once do not conflict (each rewrite adds
    files only in its own partition, which the others' conditions cannot read); UPDATEs whose
    conditions overlap may conflict, but never lose an acknowledged update."""
    r = sql(args, wh, "CREATE TABLE cp (p integer, n bigint) USING delta "
                      "WITH (partitioning = 'p')",
            "INSERT INTO cp VALUES (0, 0), (1, 0), (2, 0), (3, 0)")
    problems = tarnrun.contract_problems(r, allowed=(0,))
    per_proc = 5
    acked, p2 = run_updaters(args, wh, ['UPDATE cp SET n = n + 1 WHERE p = %d' % p
                                        for p in range(4)], per_proc)
    problems += p2
    if acked != [per_proc] * 4:
        problems.append('acknowledged %s, expected %d each (a conflict between partitions)'
                        % (acked, per_proc))
    for p in range(4):
        n, _ = value_of(args, wh, 'SELECT n FROM cp WHERE p = %d' % p)
        if n != acked[p]:
            problems.append('partition %d: n = %s after %d acknowledged updates' % (p, n, acked[p]))
    tally.result('concurrency: 4 processes x %d copy-on-write UPDATEs of their own partitions, '
                 'all acknowledged' % per_proc, problems)

    # overlapping conditions: one process on partition 0, one on every partition
    r = sql(args, wh, "UPDATE cp SET n = 0")
    problems = tarnrun.contract_problems(r, allowed=(0,))
    acked, p2 = run_updaters(args, wh, ['UPDATE cp SET n = n + 1 WHERE p = 0',
                                        'UPDATE cp SET n = n + 100 WHERE n >= 0'], per_proc)
    problems += p2
    want = {0: acked[0] + 100 * acked[1], 1: 100 * acked[1], 2: 100 * acked[1],
            3: 100 * acked[1]}
    for p, w in want.items():
        n, _ = value_of(args, wh, 'SELECT n FROM cp WHERE p = %d' % p)
        if n != w:
            problems.append('partition %d: n = %s, expected %d (acknowledged %s)' %
                            (p, n, w, acked))
    if sum(acked) == 0:
        problems.append('nothing acknowledged')
    tally.result('concurrency: overlapping UPDATEs (one partition, every partition): every '
                 'acknowledged update counted once (%s)' % acked, problems)


def check_killed_writer(args, wh, tally):
    r = sql(args, wh, "CREATE TABLE k (id bigint, n bigint) USING delta WITH "
                      "(\"delta.enableDeletionVectors\" = 'true')",
            "INSERT INTO k VALUES (1, 0), (2, 0), (3, 0)")
    problems = tarnrun.contract_problems(r, allowed=(0,))
    rng = random.Random(6)
    acked = 0
    rounds = 12
    for _ in range(rounds):
        p = subprocess.Popen([args.tarn, 'sql', '-w', wh, '-c',
                              'UPDATE k SET n = n + 1 WHERE id = 2'],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.0, 0.25))
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
        rc = p.wait()
        if rc == 0:
            acked += 1
        n, r = value_of(args, wh, "SELECT n FROM k WHERE id = 2")
        if n is None:
            problems.append('unreadable after a kill: %s' % r.stderr_lines()[:2])
            break
        if not acked <= n <= acked + 1:
            problems.append('n = %s with %d acknowledged updates' % (n, acked))
            break
        acked = n  # a killed writer may still have committed: that counts from now on
        total, _ = value_of(args, wh, "SELECT count(*) FROM k")
        if total != 3:
            problems.append('%s rows after a kill, expected 3' % total)
            break
    tally.result('crash: %d UPDATEs killed at random points, the table readable with every '
                 'acknowledged update' % rounds, problems)


def main():
    args = tarnrun.arg_parser(__doc__.splitlines()[0]).parse_args()
    tally = tarnrun.Tally()
    if not tarnrun.require_tarn(args.tarn, tally):
        return tally.finish()
    shared = tarnrun.shared_dir(args)
    wh = tempfile.mkdtemp(prefix='tarn-delta-dml-')
    try:
        node_oracle = tarnrun.oracle(shared, tally)
        if node_oracle:
            for layout, options in LAYOUTS:
                check_history(args, shared, node_oracle, wh, layout, options, tally)
            for layout, options in LAYOUTS[:3]:
                check_overwrite(args, shared, node_oracle, wh, layout, options, tally)
        check_merge_twice(args, wh, tally)
        check_merge_stars(args, shared, wh, tally)
        check_concurrent_updates(args, wh, tally)
        check_concurrent_partitions(args, wh, tally)
        check_killed_writer(args, wh, tally)
    finally:
        if not args.keep:
            shutil.rmtree(wh, ignore_errors=True)
    return tally.finish()


if __name__ == '__main__':
    sys.exit(main())
