#!/usr/bin/env python3
"""Files DuckDB cannot read (testdata/ORACLE_FAILURES.txt), and the delta-encoding files with
their `_expect.csv`, checked against independent expected rows:

- BYTE_STREAM_SPLIT iceberg-java files equal the expected rows of their PLAIN twin
  (encodings/PLAIN/<same name>.parquet.expected.jsonl): same values, another encoding.
- hadoop_lz4_compressed / non_hadoop_lz4_compressed (the deprecated LZ4 codec, Hadoop-framed and
  raw) equal the expected rows of lz4_raw_compressed.parquet, their LZ4_RAW twin with the same four
  rows (c0, c1, v11; the rows other readers' test suites also list), and each other.
- map_no_value equals the rows map_no_value.md states.
- large_string_map.brotli (2 GiB of strings once decompressed) streams correctly or fails with a
  clear error, in bounded memory. A refusal is quick; a streaming read under ASan is slow: by
  default the read gets LARGE_MAP_QUICK seconds and, if still running then, is stopped and
  reported SKIP (never PASS); TARN_SLOW_TESTS=1 lets it run to the end.
- delta_binary_packed, delta_byte_array, delta_encoding_optional_column equal their _expect.csv.

An ORACLE_FAILURES.txt entry with no rule here fails: nothing is skipped silently.

usage: oracle_failures.py [--tarn build/tarn] [--shared ../shared] [--keep]
Ends with `N passed, N failed[, N skipped]`; exits 1 if any failed.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tarnrun  # noqa: E402

TIMEOUT = 120
DATA = 'parquet-testing/data'
ICEBERG_ENC = 'iceberg-java/parquet/src/testFixtures/resources/encodings'

# large_string_map.brotli.parquet (data/README.md): pyarrow wrote two rows of a MAP(STRING, INT32)
# column "arr", each holding one entry {"a" * 2**30: 1}; the string chunk exceeds 2 GB.
LARGE_MAP_ROWS = 2
LARGE_MAP_KEY_LEN = 2 ** 30
LARGE_MAP_TIMEOUT = 1800           # seconds, under ASan, with TARN_SLOW_TESTS=1
LARGE_MAP_QUICK = 120              # seconds otherwise
LARGE_MAP_ERROR_RSS_MB = 1536      # a refusal must stay well below the data's size
# A correct read must hold one 1 GiB value in its decompressed page and as an Arrow string at once:
# the issue bounds memory by a row group's decoded size (here 2 GiB), not by the file's.
LARGE_MAP_READ_RSS_MB = 3 * 1024

# map_no_value.md: "The first column is 3 MAP rows {1 -> null, 2 -> null, 3 -> null} ...; the last
# two columns comprise 3 equivalent rows of list<Integer>: [1, 2, 3] [4, 5, 6] [7, 8, 9]".
MAP_NO_VALUE_ROWS = [
    {'my_map': [{'key': k, 'value': None} for k in keys], 'my_map_no_v': keys, 'my_list': keys}
    for keys in ([1, 2, 3], [4, 5, 6], [7, 8, 9])
]

# Columns of the _expect.csv files that hold integers; every other column is a string. (The
# delta_binary_packed.md and delta_encoding_optional_column.md metadata listings give the types:
# INT64/INT32 columns; the rest are BYTE_ARRAY strings.)
CSV_TWINS = {
    'delta_binary_packed': lambda name: True,
    'delta_byte_array': lambda name: False,
    'delta_encoding_optional_column': lambda name: name in (
        'c_customer_sk', 'c_current_cdemo_sk', 'c_current_hdemo_sk', 'c_current_addr_sk',
        'c_first_shipto_date_sk', 'c_first_sales_date_sk', 'c_birth_day', 'c_birth_month',
        'c_birth_year'),
}


def parse_csv(text):
    """RFC 4180 rows whose fields are (value, was_quoted): the _expect.csv files write an empty
    unquoted field for null and "" for an empty string, which the csv module cannot tell apart."""
    rows, row, field, quoted, i, n = [], [], [], False, 0, len(text)
    in_quotes = False
    while i < n:
        c = text[i]
        if in_quotes:
            if c == '"':
                if i + 1 < n and text[i + 1] == '"':
                    field.append('"')
                    i += 1
                else:
                    in_quotes = False
            else:
                field.append(c)
        elif c == '"':
            in_quotes = quoted = True
        elif c == ',':
            row.append((''.join(field), quoted))
            field, quoted = [], False
        elif c in '\r\n':
            if c == '\r' and i + 1 < n and text[i + 1] == '\n':
                i += 1
            row.append((''.join(field), quoted))
            rows.append(row)
            row, field, quoted = [], [], False
        else:
            field.append(c)
        i += 1
    if field or row or quoted:
        row.append((''.join(field), quoted))
        rows.append(row)
    return rows


def csv_rows(path, is_int):
    rows = parse_csv(open(path, encoding='utf-8').read())
    header = [name.strip() for name, _ in rows[0]]  # one header name has a stray leading space
    out = []
    for n, fields in enumerate(rows[1:], 2):
        if len(fields) != len(header):
            raise ValueError(f'{path}:{n}: {len(fields)} fields, header has {len(header)}')
        row = {}
        for name, (value, quoted) in zip(header, fields):
            if value == '' and not quoted:
                row[name] = None
            elif is_int(name):
                row[name] = int(value)
            else:
                row[name] = value
        out.append(row)
    return out


def tarn_cat(args, pq, out, timeout=TIMEOUT):
    r = tarnrun.run([args.tarn, 'cat', pq, '--format', 'jsonl'], timeout, stdout_path=out)
    return r, tarnrun.contract_problems(r, allowed=(0,))


def compare(args, shared, tally, name, pq, expected, scratch, ordered=True, note=''):
    actual = os.path.join(scratch, os.path.basename(pq) + '.actual.jsonl')
    r, problems = tarn_cat(args, pq, actual)
    if not problems:
        same, detail = tarnrun.compare_rows(shared, expected, actual, ordered=ordered)
        if not same:
            problems.append(detail)
        else:
            note = detail + (f'; {note}' if note else '')
    tally.result(name, problems, note)
    return actual if not problems else None


def check_byte_stream_split(args, shared, tally, relpath, scratch):
    pq = os.path.join(shared, 'testdata', relpath)
    twin = os.path.join(shared, 'testdata', ICEBERG_ENC, 'PLAIN',
                        os.path.basename(pq) + '.expected.jsonl')
    if not os.path.exists(twin):
        tally.fail(relpath, f'PLAIN twin expected rows missing: {tarnrun.rel(shared, twin)}')
        return
    compare(args, shared, tally, relpath, pq, twin, scratch, note='equals its PLAIN twin')


def check_lz4(args, shared, tally, relpaths, scratch):
    twin = os.path.join(shared, 'testdata', DATA, 'lz4_raw_compressed.parquet.expected.jsonl')
    outs = []
    for relpath in relpaths:
        outs.append(compare(args, shared, tally, relpath, os.path.join(shared, 'testdata', relpath),
                            twin, scratch, note='equals lz4_raw_compressed (its LZ4_RAW twin)'))
    if len(outs) == 2:
        name = 'hadoop_lz4_compressed == non_hadoop_lz4_compressed'
        if None in outs:
            tally.fail(name, 'not compared: a read above failed')
        else:
            same, detail = tarnrun.compare_rows(shared, outs[0], outs[1], ordered=True)
            tally.result(name, [] if same else [detail], detail)


def check_map_no_value(args, shared, tally, relpath, scratch):
    expected = os.path.join(scratch, 'map_no_value.expected.jsonl')
    tarnrun.write_jsonl(expected, MAP_NO_VALUE_ROWS)
    compare(args, shared, tally, relpath, os.path.join(shared, 'testdata', relpath), expected,
            scratch, note='rows as map_no_value.md states')


class LargeMapChecker:
    """Checks streamed `tarn cat` output of large_string_map against the rows data/README.md
    describes, without holding 2 GiB: each line must be {"arr":[{"key":"a...a","value":1}]}."""

    PREFIX = b'{"arr":[{"key":"'
    SUFFIX = b'","value":1}]}\n'

    def __init__(self):
        self.rows = 0
        self.pos = 0       # position in the current line, the run of 'a' counting as its length
        self.error = None
        self.total = 0

    def feed(self, chunk):
        self.total += len(chunk)
        i = 0
        p, s = len(self.PREFIX), len(self.SUFFIX)
        while i < len(chunk) and self.error is None:
            if self.rows >= LARGE_MAP_ROWS:
                self.error = f'more than {LARGE_MAP_ROWS} rows of output'
            elif self.pos < p:
                want = self.PREFIX[self.pos]
                if chunk[i] != want:
                    self.error = f'row {self.rows + 1}: output starts {bytes(chunk[i:i + 40])!r}, ' \
                                 f'expected {self.PREFIX!r}'
                i += 1
                self.pos += 1
            elif self.pos < p + LARGE_MAP_KEY_LEN:
                take = min(len(chunk) - i, p + LARGE_MAP_KEY_LEN - self.pos)
                seg = chunk[i:i + take]
                if seg.count(b'a') != take:
                    at = self.pos - p + len(seg) - len(seg.lstrip(b'a'))
                    self.error = f'row {self.rows + 1}: key is not {LARGE_MAP_KEY_LEN} times "a" ' \
                                 f'(byte {at} differs)'
                i += take
                self.pos += take
            else:
                k = self.pos - p - LARGE_MAP_KEY_LEN
                if chunk[i] != self.SUFFIX[k]:
                    self.error = f'row {self.rows + 1}: after the key got ' \
                                 f'{bytes(chunk[i:i + 40])!r}, expected {self.SUFFIX[k:]!r}'
                i += 1
                self.pos += 1
                if k + 1 == s:
                    self.rows += 1
                    self.pos = 0

    def finish(self):
        if self.error:
            return self.error
        if self.rows != LARGE_MAP_ROWS or self.pos != 0:
            return f'{self.rows} complete rows of {LARGE_MAP_ROWS} ({self.total} bytes of output)'
        return None


def check_large_map(args, shared, tally, relpath, scratch):
    slow = os.environ.get('TARN_SLOW_TESTS') == '1'
    pq = os.path.join(shared, 'testdata', relpath)
    # The footer's row count (checked through `tarn meta`, which reads only the footer).
    meta = tarnrun.run([args.tarn, 'meta', pq], TIMEOUT)
    problems = tarnrun.contract_problems(meta, allowed=(0,))
    if not problems and not re.search(rb'"num_rows"\s*:\s*%d\b' % LARGE_MAP_ROWS, meta.stdout):
        problems.append(f'tarn meta does not report num_rows {LARGE_MAP_ROWS}')
    tally.result(relpath + ' (meta)', problems)

    checker = LargeMapChecker()
    err = tempfile.TemporaryFile()
    start = time.monotonic()
    p = subprocess.Popen([args.tarn, 'cat', pq, '--format', 'jsonl'], stdout=subprocess.PIPE,
                         stderr=err, stdin=subprocess.DEVNULL, env=tarnrun.child_env(),
                         start_new_session=True)
    timed_out = []

    def kill():
        timed_out.append(True)
        os.killpg(p.pid, signal.SIGKILL)

    timer = threading.Timer(LARGE_MAP_TIMEOUT if slow else LARGE_MAP_QUICK, kill)
    timer.start()
    while True:
        chunk = p.stdout.read(1 << 22)
        if not chunk:
            break
        if checker.error is None:
            checker.feed(chunk)
    _, status, usage = os.wait4(p.pid, 0)
    timer.cancel()
    p.returncode = os.waitstatus_to_exitcode(status)
    r = tarnrun.Run(p.args)
    r.rc, r.maxrss_kb, r.seconds, r.timed_out = p.returncode, usage.ru_maxrss, \
        time.monotonic() - start, bool(timed_out)
    err.seek(0)
    r.stderr = err.read().decode('utf-8', 'replace')
    rss = f'peak RSS {r.maxrss_kb // 1024} MB, {r.seconds:.0f} s'
    if r.timed_out and not slow and checker.error is None and \
            r.maxrss_kb <= LARGE_MAP_READ_RSS_MB * 1024:
        tally.skip(relpath, f'still streaming after {LARGE_MAP_QUICK} s ({checker.total} bytes of '
                   f'output so far, all as expected; {rss}); run with TARN_SLOW_TESTS=1 to finish')
        return
    if r.rc == 0:
        problems = tarnrun.contract_problems(r, allowed=(0,), max_rss_mb=LARGE_MAP_READ_RSS_MB)
        bad = checker.finish()
        if bad:
            problems.append(bad)
        tally.result(relpath, problems, f'streamed both 1 GiB rows correctly; {rss}')
    else:
        problems = tarnrun.contract_problems(r, allowed=tarnrun.READ_ERROR_CODES,
                                             max_rss_mb=LARGE_MAP_ERROR_RSS_MB)
        tally.result(relpath, problems, f'refused: {(r.stderr_lines() or [""])[0]}; {rss}')


def check_csv_twin(args, shared, tally, stem, scratch):
    relpath = f'{DATA}/{stem}.parquet'
    csv_path = os.path.join(shared, 'testdata', DATA, f'{stem}_expect.csv')
    name = f'{relpath} == {stem}_expect.csv'
    try:
        rows = csv_rows(csv_path, CSV_TWINS[stem])
    except (OSError, ValueError) as e:
        tally.fail(name, f'cannot read the expected CSV: {e}')
        return
    expected = os.path.join(scratch, f'{stem}.csv.jsonl')
    tarnrun.write_jsonl(expected, rows)
    compare(args, shared, tally, name, os.path.join(shared, 'testdata', relpath), expected, scratch)


def v2_flags_set_compressed(data, chunks):
    """Returns a copy of a Parquet file whose data page v2 headers say is_compressed=true. Walks
    the pages of every column chunk (chunks: (start, length) pairs, as DuckDB's parquet_metadata
    gives them) with a minimal Thrift compact reader; the boolean's value lives in its field header
    byte, so flipping it keeps every offset valid."""
    out = bytearray(data)
    flen = int.from_bytes(data[-8:-4], 'little')
    footer_start = len(data) - 8 - flen

    def varint(pos):
        v = shift = 0
        while True:
            b = data[pos]
            pos += 1
            v |= (b & 0x7f) << shift
            shift += 7
            if not b & 0x80:
                return v, pos

    def skip(t, pos):
        if t in (1, 2):
            return pos
        if t == 3:
            return pos + 1
        if t in (4, 5, 6):
            return varint(pos)[1]
        if t == 7:
            return pos + 8
        if t == 8:
            n, pos = varint(pos)
            return pos + n
        if t in (9, 10):
            h = data[pos]
            pos += 1
            n, et = h >> 4, h & 15
            if n == 15:
                n, pos = varint(pos)
            for _ in range(n):
                pos = skip(et, pos)
            return pos
        if t == 12:
            return struct_fields(pos, None)[1]
        raise ValueError('wire type %d' % t)

    def struct_fields(pos, visit):
        last = 0
        fields = {}
        while True:
            h = data[pos]
            pos += 1
            if h == 0:
                return fields, pos
            t, d = h & 15, h >> 4
            if d:
                fid = last + d
            else:
                z, pos = varint(pos)
                fid = (z >> 1) ^ -(z & 1)
            last = fid
            start = pos
            if visit:
                visit(fid, t, pos - 1)
            if t in (5, 6, 4):
                z, pos = varint(pos)
                fields[fid] = (z >> 1) ^ -(z & 1)
            else:
                pos = skip(t, pos)
            fields.setdefault(fid, start)

    for start, length in chunks:
        pos = start
        while pos < min(start + length, footer_start):
            v2 = {}

            def visit_header(fid, t, at):
                if fid == 8 and t == 12:
                    v2['at'] = at

            try:
                fields, body = struct_fields(pos, visit_header)
            except (IndexError, ValueError):
                break
            if not all(isinstance(fields.get(k), int) and fields.get(k) >= 0 for k in (1, 2, 3)):
                break  # not a page header
            if 'at' in v2:
                def visit_v2(fid, t, at):
                    if fid == 7 and t == 2:
                        out[at] = (out[at] & 0xf0) | 1
                struct_fields(v2['at'] + 1, visit_v2)
            pos = body + fields[3]
    return bytes(out)


def check_v2_flag_compat(args, shared, tally, scratch):
    """arrow-testing's ARROW-17100.parquet: data page v2 compressed although flagged uncompressed
    (PyArrow < 3.0). DuckDB refuses it; it reads a copy with the flags corrected, which is the
    independent expectation for tarn reading the original."""
    name = 'arrow-testing ARROW-17100.parquet (v2 pages flagged uncompressed but compressed)'
    pq = os.path.join(shared, 'testdata', 'arrow-testing', 'data', 'parquet', 'ARROW-17100.parquet')
    node_oracle = tarnrun.oracle(shared, tally)
    if node_oracle is None:
        return
    fixed = os.path.join(scratch, 'ARROW-17100.fixed.parquet')
    with open(pq, 'rb') as f:
        data = f.read()
    meta = os.path.join(scratch, 'ARROW-17100.meta.jsonl')
    sql = ("SELECT coalesce(nullif(dictionary_page_offset, 0), data_page_offset) AS start, "
           "total_compressed_size AS length FROM parquet_metadata('%s')" % pq.replace("'", "''"))
    r = tarnrun.duckdb(shared, node_oracle, ['--sql', sql], stdout_path=meta, timeout=300)
    if r.rc != 0:
        tally.fail(name, 'DuckDB cannot read the footer: ' + r.stderr.strip()[:300])
        return
    chunks = [(int(j['start']), int(j['length'])) for j in map(json.loads, open(meta)) if j]
    with open(fixed, 'wb') as f:
        f.write(v2_flags_set_compressed(data, chunks))
    expected = os.path.join(scratch, 'ARROW-17100.expected.jsonl')
    r = tarnrun.duckdb(shared, node_oracle, [fixed], stdout_path=expected, timeout=300)
    if r.rc != 0:
        tally.fail(name, 'DuckDB cannot read the corrected copy: ' + r.stderr.strip()[:300])
        return
    compare(args, shared, tally, name, pq, expected, scratch, note='equals DuckDB on the corrected copy')


def main():
    args = tarnrun.arg_parser(__doc__.splitlines()[0]).parse_args()
    shared = tarnrun.shared_dir(args)
    tally = tarnrun.Tally()
    if not tarnrun.require_tarn(args.tarn, tally) or \
            not tarnrun.require_shared(shared, tally, 'testdata/parquet-testing', 'testdata/iceberg-java'):
        return tally.finish()
    listing = os.path.join(shared, 'testdata', 'ORACLE_FAILURES.txt')
    entries = [l.split('\t')[0].strip() for l in open(listing, encoding='utf-8') if l.strip()]
    scratch = tempfile.mkdtemp(prefix='tarn-oracle-failures-')
    try:
        lz4 = []
        for relpath in entries:
            base = os.path.basename(relpath)
            if not os.path.exists(os.path.join(shared, 'testdata', relpath)):
                tally.fail(relpath, 'listed in ORACLE_FAILURES.txt but missing')
            elif f'{ICEBERG_ENC}/BYTE_STREAM_SPLIT/' in relpath:
                check_byte_stream_split(args, shared, tally, relpath, scratch)
            elif base in ('hadoop_lz4_compressed.parquet', 'non_hadoop_lz4_compressed.parquet'):
                lz4.append(relpath)
            elif base == 'map_no_value.parquet':
                check_map_no_value(args, shared, tally, relpath, scratch)
            elif base == 'large_string_map.brotli.parquet':
                check_large_map(args, shared, tally, relpath, scratch)
            else:
                tally.fail(relpath, 'listed in ORACLE_FAILURES.txt but no rule here checks it')
        if lz4:
            check_lz4(args, shared, tally, sorted(lz4), scratch)
        for stem in CSV_TWINS:
            check_csv_twin(args, shared, tally, stem, scratch)
        check_v2_flag_compat(args, shared, tally, scratch)
    finally:
        if args.keep:
            print(f'kept {scratch}')
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return tally.finish()


if __name__ == '__main__':
    sys.exit(main())
