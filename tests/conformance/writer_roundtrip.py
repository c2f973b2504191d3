#!/usr/bin/env python3
"""Files written by `tarn copy` (the Parquet writer) read back right in DuckDB and in tarn.

Sections (each check prints PASS/FAIL with the first differing row or the error):
  expected  every `*.parquet.expected.jsonl` of the shared test data (parquet-testing,
            iceberg-java): `tarn copy` of the Parquet file beside it with zstd and one other codec
            (every codec for a subset), then DuckDB's read of the copy (duckdb_canonical.mjs) and
            `tarn cat --format jsonl` of the copy must equal the expected rows; the documented
            exceptions of parquet_expected.py get the same treatment (the corrupt-CRC file must be
            refused with exit 4 and leave no destination; the INT96 and geospatial files are
            compared against their corrected expectation). DuckDB's column types of each copy
            must equal those of the source; every column chunk of the zstd copies must carry
            min/max and null-count statistics as DuckDB's parquet_metadata() sees them, and a page
            index that describes the pages really there. A source tarn cannot read at all is a
            reader problem (parquet_expected.py's): its copies are reported as SKIP with the error.
  fresh     the many-types table of oracle_roundtrip.py (nested included), written by DuckDB,
            rewritten by `tarn copy` with each codec and level, --page-v2, --no-dictionary, small
            --row-group-size / --page-size, and --encoding DELTA_BINARY_PACKED /
            DELTA_LENGTH_BYTE_ARRAY / DELTA_BYTE_ARRAY / BYTE_STREAM_SPLIT / RLE on suitable
            columns (the footer must then list the encoding); DuckDB and tarn read back the rows
            DuckDB reads from the source, in order. Plus edge files (empty, one row, all null) and
            a column whose dictionary outgrows the limit (fallback to PLAIN).
  stats     on tarn's files: every column chunk has min/max (except INTERVAL, GEOMETRY
            and GEOGRAPHY, which have no order, and chunks with no non-null value) and a null count, as DuckDB's
            parquet_metadata() shows them, equal per row group to DuckDB's own min()/max()/
            count(*)-count() of each flat column (NaN left out; DuckDB does not render infinite
            float statistics, those are read from the footer). The page index: `tarn meta` shows
            column_index_offset/offset_index_offset for each chunk; the ColumnIndex and
            OffsetIndex (decoded here from the file's bytes) describe the pages really there, and
            each page's min/max/null count equals DuckDB's aggregate over that page's rows;
            pages of repeated columns start at a row (repetition levels decoded where they are
            stored uncompressed: v2 pages, uncompressed v1 pages); float statistics follow the
            NaN and signed-zero rules; DuckDB reading with filters
            returns the right rows. (DuckDB 1.5's parquet_metadata() has no page index columns.)
  bloom     `tarn copy --bloom-filter ...`: DuckDB's parquet_bloom_probe() never excludes a
            present value from its row group, and excludes most absent values.
  size      a 1M-row mixed table: tarn's zstd file is at most 1.1x DuckDB's zstd file (checked);
            DuckDB reads the same rows from both.
  crash     SIGKILL of `tarn copy` in the middle of a 5M-row copy: no file under the final name
            (or the previous complete file is still there); leftover DST.tmp.* files are reported.
            A copy that fails (corrupt input) over an existing file leaves it untouched.

A missing oracle (node/npm) is a failure, not a skip.

usage: writer_roundtrip.py [--tarn build/tarn] [--shared ../shared] [--jobs 2] [--keep]
       [--only SECTION,...]
Ends with `N passed, N failed`; exits 1 if any failed. About a minute on 2 idle cores under ASan.
"""
import glob
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tarnrun  # noqa: E402
import oracle_roundtrip  # noqa: E402  (its many-types table, TABLE, and edge files)
import parquet_expected  # noqa: E402  (the expected files and their documented exceptions)

TIMEOUT = 300
SECTIONS = ('expected', 'fresh', 'stats', 'bloom', 'size', 'crash')
CODECS = ('zstd', 'snappy', 'gzip', 'lz4', 'brotli', 'none')
# Expected files copied with every codec (the others: zstd and one more, in turn).
ALL_CODEC_FILES = (
    'parquet-testing/data/alltypes_plain.parquet',
    'parquet-testing/data/alltypes_tiny_pages.parquet',
    'parquet-testing/data/nested_lists.snappy.parquet',
    'parquet-testing/data/nested_structs.rust.parquet',
    'parquet-testing/data/nullable.impala.parquet',
    'parquet-testing/data/nulls.snappy.parquet',
    'parquet-testing/data/delta_byte_array.parquet',
    'parquet-testing/data/byte_array_decimal.parquet',
    'parquet-testing/data/fixed_length_decimal.parquet',
    'parquet-testing/data/int96_from_spark.parquet',
    'parquet-testing/data/repeated_primitive_no_list.parquet',
    'parquet-testing/data/float16_nonzeros_and_nans.parquet',
    'parquet-testing/data/geospatial/geospatial.parquet',
    'iceberg-java/parquet/src/testFixtures/resources/encodings/PLAIN/uuid_with_nulls.parquet',
    'iceberg-java/parquet/src/testFixtures/resources/encodings/PLAIN/float_with_nulls.parquet',
)
FRESH_ROWS = 5000
SIZE_ROWS = 1_000_000
CRASH_ROWS = 5_000_000
MAX_SIZE_RATIO = 1.1
MAX_COPY_RSS_MB = 160  # copying SIZE_ROWS rows in default row groups (about 40 MB seen under ASan)

# The benchmark table of bench/duckdb_scan.mjs (ids, ints with nulls, doubles, short strings, a
# dictionary-friendly category, timestamps, decimals).
MIXED_TABLE = r"""
SELECT
  i::BIGINT AS id,
  CASE WHEN i % 10 = 3 THEN NULL ELSE (hash(i) % 2000000)::INTEGER - 1000000 END AS int_col,
  (hash(i + 1) % 1000000007) / 1000.0 AS double_col,
  'u' || (hash(i + 2) % 100000)::VARCHAR AS str_col,
  (['books', 'games', 'garden', 'music', 'toys', 'tools', 'food', 'sport'])[(i % 8) + 1] AS category,
  TIMESTAMP '2024-01-01 00:00:00' + INTERVAL (i * 997) MILLISECOND AS ts,
  ((hash(i + 3) % 10000000)::DECIMAL(18,0) / 100)::DECIMAL(18,2) AS price
FROM range({ROWS}) t(i)
"""

# ---------------------------------------------------------------------------------------------
# Reading Parquet metadata ourselves (Thrift compact protocol), independent of tarn's reader.


class Thrift:
    def __init__(self, buf, pos=0):
        self.b = buf
        self.p = pos

    def byte(self):
        v = self.b[self.p]
        self.p += 1
        return v

    def varint(self):
        r = s = 0
        while True:
            x = self.byte()
            r |= (x & 0x7f) << s
            s += 7
            if not x & 0x80:
                return r

    def zigzag(self):
        v = self.varint()
        return (v >> 1) ^ -(v & 1)

    def value(self, t):
        if t == 1:
            return True
        if t == 2:
            return False
        if t == 3:
            v = self.byte()
            return v - 256 if v > 127 else v
        if t in (4, 5, 6):
            return self.zigzag()
        if t == 7:
            v = struct.unpack_from('<d', self.b, self.p)[0]
            self.p += 8
            return v
        if t == 8:
            n = self.varint()
            v = bytes(self.b[self.p:self.p + n])
            self.p += n
            return v
        if t in (9, 10):
            h = self.byte()
            n, et = h >> 4, h & 15
            if n == 15:
                n = self.varint()
            if et in (1, 2):  # booleans in a list: one byte each, 1 = true
                return [self.byte() == 1 for _ in range(n)]
            return [self.value(et) for _ in range(n)]
        if t == 11:
            n = self.varint()
            if n == 0:
                return {}
            kv = self.byte()
            return dict((self.value(kv >> 4), self.value(kv & 15)) for _ in range(n))
        if t == 12:
            return self.struct()
        raise ValueError(f'unknown Thrift compact type {t} at byte {self.p}')

    def struct(self):
        out, last = {}, 0
        while True:
            h = self.byte()
            if h == 0:
                return out
            t, delta = h & 15, h >> 4
            fid = last + delta if delta else self.zigzag()
            last = fid
            out[fid] = self.value(t)


PHYS = {0: 'BOOLEAN', 1: 'INT32', 2: 'INT64', 3: 'INT96', 4: 'FLOAT', 5: 'DOUBLE', 6: 'BYTE_ARRAY',
        7: 'FIXED_LEN_BYTE_ARRAY'}
ENCODINGS = {0: 'PLAIN', 2: 'PLAIN_DICTIONARY', 3: 'RLE', 4: 'BIT_PACKED', 5: 'DELTA_BINARY_PACKED',
             6: 'DELTA_LENGTH_BYTE_ARRAY', 7: 'DELTA_BYTE_ARRAY', 8: 'RLE_DICTIONARY',
             9: 'BYTE_STREAM_SPLIT'}


class Footer:
    """FileMetaData of a Parquet file: the leaves (path, physical type, max levels, how their
    statistics order), and the row groups' column chunks (raw Thrift dicts)."""

    def __init__(self, path):
        with open(path, 'rb') as f:
            self.data = f.read()
        d = self.data
        if len(d) < 12 or d[:4] != b'PAR1' or d[-4:] != b'PAR1':
            raise ValueError(f'{path}: not a Parquet file (magic)')
        n = struct.unpack_from('<I', d, len(d) - 8)[0]
        self.meta = Thrift(d, len(d) - 8 - n).struct()
        self.schema = self.meta[2]
        self.leaves = []
        self._i = 1
        self._walk([], 0, 0, self.schema[0].get(5, 0))
        self.row_groups = self.meta.get(4, [])
        self.column_orders = self.meta.get(7)

    def _walk(self, path, rep, dfn, n):
        for _ in range(n):
            el = self.schema[self._i]
            self._i += 1
            r = el.get(3, 0)  # 0 required, 1 optional, 2 repeated
            p = path + [el[4].decode('utf-8', 'replace')]
            if el.get(5):
                self._walk(p, rep + (r == 2), dfn + (r != 0), el[5])
            else:
                self.leaves.append({'path': '.'.join(p), 'el': el, 'max_rep': rep + (r == 2),
                                    'max_def': dfn + (r != 0), 'flat': len(p) == 1,
                                    'phys': PHYS.get(el.get(1)), 'order': order_kind(el)})

    def page_header(self, offset):
        t = Thrift(self.data, offset)
        h = t.struct()
        return h, t.p - offset


def order_kind(el):
    """How statistics of this leaf order: 'signed', 'unsigned', 'float', 'bytes', 'decimal',
    'bool', or None (no order defined: INTERVAL, INT96, GEOMETRY, GEOGRAPHY). FLOAT16 orders as
    a float (parquet-format's FLOAT16 column order)."""
    phys = PHYS.get(el.get(1))
    logical = el.get(10) or {}
    conv = el.get(6)
    if phys == 'BOOLEAN':
        return 'bool'
    if phys in ('INT32', 'INT64'):
        if 10 in logical:
            return 'signed' if logical[10].get(2, True) else 'unsigned'
        return 'unsigned' if conv in (11, 12, 13, 14) else 'signed'
    if phys in ('FLOAT', 'DOUBLE'):
        return 'float'
    if phys == 'INT96':
        return None
    if 17 in logical or 18 in logical:  # GEOMETRY, GEOGRAPHY: no sort order (bbox statistics instead)
        return None
    if 5 in logical or conv == 5:
        return 'decimal'
    if phys == 'FIXED_LEN_BYTE_ARRAY' and 15 in logical:
        return 'float'
    if phys == 'FIXED_LEN_BYTE_ARRAY' and conv == 21:
        return None
    return 'bytes'


def decode_stat(leaf, raw):
    """Statistics bytes (PLAIN form) to a comparable Python value."""
    kind, phys = leaf['order'], leaf['phys']
    if kind == 'bool':
        return bool(raw[0])
    if phys in ('INT32', 'INT64'):
        fmt = {('INT32', 'signed'): '<i', ('INT32', 'unsigned'): '<I', ('INT64', 'signed'): '<q',
               ('INT64', 'unsigned'): '<Q', ('INT32', 'decimal'): '<i', ('INT64', 'decimal'): '<q'}[(phys, kind)]
        return struct.unpack(fmt, raw)[0]
    if kind == 'float':
        return struct.unpack({'FLOAT': '<f', 'DOUBLE': '<d'}.get(phys, '<e'), raw)[0]
    if kind == 'decimal':
        return int.from_bytes(raw, 'big', signed=True)
    return bytes(raw)


def render(v):
    if isinstance(v, bytes):
        try:
            s = v.decode('utf-8')
        except UnicodeDecodeError:
            return '0x' + v.hex()
        return repr(s[:60] + ('...' if len(s) > 60 else ''))
    return repr(v)


def rle_hybrid(buf, pos, end, bit_width, n):
    """Decodes n levels of the RLE / bit-packed hybrid encoding from buf[pos:end]."""
    out = []
    mask = (1 << bit_width) - 1
    while len(out) < n and pos < end:
        t = Thrift(buf, pos)
        h = t.varint()
        pos = t.p
        if h & 1:
            groups = h >> 1
            nbytes = groups * bit_width
            bits = int.from_bytes(buf[pos:pos + nbytes], 'little')
            pos += nbytes
            out.extend((bits >> (k * bit_width)) & mask for k in range(groups * 8))
        else:
            w = (bit_width + 7) // 8
            out.extend([int.from_bytes(buf[pos:pos + w], 'little')] * (h >> 1))
            pos += w
    if len(out) < n:
        raise ValueError(f'{n} levels wanted, {len(out)} decoded')
    return out[:n]


def page_rep_levels(ft, leaf, header, hlen, offset, codec):
    """The repetition levels of a data page when they can be read without decompressing
    (always in v2 pages; in v1 pages of uncompressed chunks), else None."""
    bw = leaf['max_rep'].bit_length()
    start = offset + hlen
    if header.get(1) == 3:
        v2 = header[8]
        return rle_hybrid(ft.data, start, start + v2.get(6, 0), bw, v2[1])
    if header.get(1) == 0 and codec == 0:
        n = struct.unpack_from('<I', ft.data, start)[0]
        return rle_hybrid(ft.data, start + 4, start + 4 + n, bw, header[5][1])
    return None


def isnan(v):
    return isinstance(v, float) and v != v


# ---------------------------------------------------------------------------------------------
# Small helpers


class Ctx:
    def __init__(self, args, shared, node_oracle, scratch):
        self.args = args
        self.tarn = args.tarn
        self.shared = shared
        self.oracle = node_oracle
        self.scratch = scratch

    def duck_sql(self, sql, timeout=TIMEOUT):
        """Runs SQL in DuckDB; returns a list of row dicts or raises RuntimeError."""
        r = tarnrun.duckdb(self.shared, self.oracle, ['--sql', sql], timeout=timeout)
        if r.rc != 0:
            errs = [l.strip() for l in r.stderr.splitlines() if 'Error' in l]
            raise RuntimeError(f'DuckDB: {(errs or [r.describe()])[0][:500]} (SQL: {sql[:200]}...)')
        return [json.loads(l) for l in r.stdout.decode('utf-8').splitlines() if l.strip()]

    def duck_read(self, path, out):
        """DuckDB's canonical rows of a file into out; returns a problem or None."""
        r = tarnrun.duckdb(self.shared, self.oracle, [path], stdout_path=out)
        if r.rc != 0:
            lines = [l for l in r.stderr.splitlines() if 'Error' in l or 'error' in l]
            return f'DuckDB cannot read it: {(lines or [r.describe()])[0].strip()[:400]}'
        return None

    def tarn_cat(self, path, out):
        r = tarnrun.run([self.tarn, 'cat', path, '--format', 'jsonl'], TIMEOUT, stdout_path=out)
        p = tarnrun.contract_problems(r, allowed=(0,))
        return f'tarn cat: {"; ".join(p)} [{r.describe()}]' if p else None

    def copy(self, src, dst, opts):
        """tarn copy SRC DST OPTS; returns a problem or None."""
        r = tarnrun.run([self.tarn, 'copy', src, dst, *opts], TIMEOUT)
        p = tarnrun.contract_problems(r, allowed=(0,))
        if p:
            return f'tarn copy {" ".join(opts)}: {"; ".join(p)} [{r.describe()}]'
        if r.stderr.strip():
            return f'tarn copy printed on stderr: {r.stderr.strip().splitlines()[0][:200]}'
        if not os.path.isfile(dst):
            return 'tarn copy succeeded but the destination does not exist'
        return None

    def meta(self, path):
        r = tarnrun.run([self.tarn, 'meta', path], TIMEOUT)
        p = tarnrun.contract_problems(r, allowed=(0,))
        if p:
            raise RuntimeError(f'tarn meta: {"; ".join(p)}')
        return json.loads(r.stdout)


def same_rows(shared, expected, actual, ordered=False):
    """compare_rows.py, skipped when the two files are byte for byte the same (then equal)."""
    import filecmp
    if filecmp.cmp(expected, actual, shallow=False):
        return True, 'identical'
    return tarnrun.compare_rows(shared, expected, actual, ordered=ordered)


def sql_str(s):
    return "'" + str(s).replace("'", "''") + "'"


def qident(s):
    return '"' + s.replace('"', '""') + '"'


def codec_opts(codec):
    return ['--compression', codec]


# ---------------------------------------------------------------------------------------------
# Section "expected": the shared expected files


def expected_jobs(shared):
    jobs = []
    files = parquet_expected.find_expected(shared)
    for k, exp in enumerate(files):
        pq = exp[:-len('.expected.jsonl')]
        relpath = tarnrun.rel(shared, pq)
        if relpath in ALL_CODEC_FILES:
            codecs = CODECS
        else:
            codecs = ('zstd', CODECS[1 + k % (len(CODECS) - 1)])
        jobs.append((relpath, pq, exp, codecs))
    return jobs


def check_expected_file(ctx, job):
    """Returns a list of (check name, problems, note)."""
    relpath, pq, exp, codecs = job
    out = []
    work = tempfile.mkdtemp(dir=ctx.scratch, prefix='exp-')
    exc = parquet_expected.exception_for(relpath)
    if exc and exc['kind'] == 'crc-error':
        dst = os.path.join(work, 'copy.parquet')
        r = tarnrun.run([ctx.tarn, 'copy', pq, dst], TIMEOUT)
        p = tarnrun.contract_problems(r, allowed=(4,))
        if r.rc == 0:
            p = ['tarn copy succeeded: the page CRC mismatch of the source was not detected']
        if os.path.exists(dst):
            p.append('a destination file was left behind by the failed copy')
        left = glob.glob(dst + '.tmp.*')
        if left:
            p.append(f'temporary file left behind: {os.path.basename(left[0])}')
        msg = (r.stderr_lines() or [''])[0]
        out.append((f'{relpath} [copy refuses corrupt input]', p,
                    f'exception: {exc["reason"][:80]}...; {msg[:160]}'))
        return out
    expected_tarn = exp
    expected_duck = [exp]
    note = ''
    if exc and exc['kind'] == 'expected':
        try:
            rows = exc['build'](ctx.shared, exp)
        except (OSError, ValueError) as e:
            return [(f'{relpath}', [f'cannot build the corrected expectation: {e}'], '')]
        expected_tarn = os.path.join(work, 'corrected.jsonl')
        tarnrun.write_jsonl(expected_tarn, rows)
        expected_duck = [exp, expected_tarn]  # DuckDB's rendering of the original, or the corrected rows
        note = 'exception: compared with the corrected expectation'
    for codec in codecs:
        name = f'{relpath} [{codec}]'
        dst = os.path.join(work, f'copy.{codec}.parquet')
        problem = ctx.copy(pq, dst, codec_opts(codec))
        if problem:
            src_read = os.path.join(work, 'src.jsonl')
            unreadable = ctx.tarn_cat(pq, src_read)
            if unreadable:  # a reader problem (parquet_expected.py reports it), not the writer's
                out.append((name, None, f'tarn cannot read the source: {unreadable}'))
            else:
                out.append((name, [problem], ''))
            continue
        problems, notes = [], []
        dj = dst + '.duckdb.jsonl'
        p = ctx.duck_read(dst, dj)
        if p:
            problems.append(p)
        else:
            details = []
            for k, e in enumerate(expected_duck):
                same, detail = same_rows(ctx.shared, e, dj)
                if same:
                    if k:
                        notes.append('DuckDB matches the corrected rows')
                    break
                details.append(detail)
            else:
                problems.append('DuckDB read of the copy differs: ' + details[0])
        tj = dst + '.tarn.jsonl'
        p = ctx.tarn_cat(dst, tj)
        if p:
            problems.append(p)
        else:
            same, detail = same_rows(ctx.shared, expected_tarn, tj)
            if not same:
                problems.append('tarn read of the copy differs: ' + detail)
        if codec == 'zstd' and not problems:
            shutil.copyfile(dst, os.path.join(ctx.scratch, 'zstd-copies',
                                              relpath.replace('/', '__')))
        out.append((name, problems, '; '.join([note] + notes if note else notes)))
    shutil.rmtree(work, ignore_errors=True)
    return out


def section_expected(ctx, tally):
    jobs = expected_jobs(ctx.shared)
    if not jobs:
        tally.fail('expected files', f'no *.parquet.expected.jsonl under {ctx.shared}/testdata')
        return
    os.makedirs(os.path.join(ctx.scratch, 'zstd-copies'), exist_ok=True)
    print(f'== expected: {len(jobs)} files, {sum(len(j[3]) for j in jobs)} copies', flush=True)
    results = tarnrun.parallel_map(lambda j: check_expected_file(ctx, j), jobs, ctx.args.jobs)
    for res in results:
        for name, problems, note in res:
            if problems is None:
                tally.skip(name, note)
            else:
                tally.result(name, problems, note)
    check_types_preserved(ctx, tally, jobs)
    copies = sorted(glob.glob(os.path.join(ctx.scratch, 'zstd-copies', '*')))
    check_stats_presence(ctx, tally, copies, 'expected-file copies (zstd)')

    def page_index(f):
        try:
            return check_page_index(ctx, f, ctx.meta(f), with_duckdb=False)
        except (RuntimeError, ValueError, KeyError, IndexError, struct.error) as e:
            return [f'{type(e).__name__}: {e}'], ''
    for f, (problems, note) in zip(copies, tarnrun.parallel_map(page_index, copies, ctx.args.jobs)):
        tally.result(f'page index [{os.path.basename(f).replace("__", "/")}]',
                     problems[:6] + ([f'... {len(problems) - 6} more'] if len(problems) > 6 else []), note)


def check_types_preserved(ctx, tally, jobs):
    """DuckDB's column types of the source and of the zstd copy are the same."""
    pairs = []
    for relpath, pq, exp, codecs in jobs:
        c = os.path.join(ctx.scratch, 'zstd-copies', relpath.replace('/', '__'))
        if os.path.exists(c):
            pairs.append((relpath, pq, c))
    if not pairs:
        return
    parts = []
    for k, (relpath, pq, c) in enumerate(pairs):
        for side, f in (('src', pq), ('copy', c)):
            parts.append(f"SELECT {k} AS k, '{side}' AS side, column_name, column_type FROM "
                         f"(DESCRIBE SELECT * FROM read_parquet({sql_str(f)}))")
    try:
        rows = ctx.duck_sql(' UNION ALL '.join(parts))
    except RuntimeError as e:
        tally.fail('column types of the copies', str(e))
        return
    types = {}
    for r in rows:
        types.setdefault((r['k'], r['side']), []).append(f"{r['column_name']} {r['column_type']}")
    for k, (relpath, pq, c) in enumerate(pairs):
        a, b = types.get((k, 'src'), []), types.get((k, 'copy'), [])
        if a == b:
            tally.ok(f'{relpath} [types kept]')
        else:
            diff = [f'{x[:120]} -> {y[:120]}' for x, y in zip(a, b) if x != y]
            if len(a) != len(b):
                diff.append(f'{len(a)} columns -> {len(b)}')
            tally.fail(f'{relpath} [types kept]', 'DuckDB sees other column types in the copy: ' +
                       ', '.join(diff[:6]))


def check_stats_presence(ctx, tally, files, label):
    """Every column chunk of `files` has min/max and a null count in DuckDB's parquet_metadata(),
    except chunks of types without order and chunks without a non-null value. Where DuckDB shows
    no min/max, the footer says why (infinite float bounds, which DuckDB does not render)."""
    if not files:
        tally.fail(f'statistics present: {label}', 'no file to check')
        return
    sql = ('SELECT file_name, row_group_id, column_id, path_in_schema, num_values, stats_min_value, '
           'stats_max_value, stats_null_count FROM parquet_metadata([' +
           ', '.join(sql_str(f) for f in files) + '])')
    try:
        rows = ctx.duck_sql(sql)
    except RuntimeError as e:
        tally.fail(f'statistics present: {label}', str(e))
        return
    footers = {}
    by_file = {}
    for r in rows:
        by_file.setdefault(r['file_name'], []).append(r)
    for f in files:
        name = f'statistics present [{os.path.basename(f).replace("__", "/")}]'
        problems, skipped = [], []
        try:
            ft = footers.setdefault(f, Footer(f))
        except (OSError, ValueError, IndexError, KeyError) as e:
            tally.fail(name, f'footer: {e}')
            continue
        if not ft.column_orders or len(ft.column_orders) != len(ft.leaves):
            problems.append('footer has no column_orders (readers then ignore min_value/max_value)')
        for r in by_file.get(f, []):
            leaf = ft.leaves[r['column_id']]
            chunk = ft.row_groups[r['row_group_id']][1][r['column_id']][3]
            st = chunk.get(12, {})
            where = f'rg {r["row_group_id"]} {leaf["path"]}'
            if r['stats_null_count'] is None:
                problems.append(f'{where}: no null count')
            if leaf['order'] is None:
                if r['stats_min_value'] is not None:
                    problems.append(f'{where}: min/max written for a type without order')
                skipped.append(leaf['path'])
                continue
            no_values = r['stats_null_count'] is not None and r['stats_null_count'] >= r['num_values']
            if r['stats_min_value'] is None or r['stats_max_value'] is None:
                if no_values:
                    continue
                if 6 in st and 5 in st:
                    lo, hi = decode_stat(leaf, st[6]), decode_stat(leaf, st[5])
                    if leaf['order'] == 'float' and (abs(lo) == float('inf') or abs(hi) == float('inf')):
                        continue  # DuckDB renders no infinite bounds
                    if leaf['order'] == 'float' and isnan(lo) and isnan(hi):
                        continue  # all NaN
                    problems.append(f'{where}: DuckDB shows no min/max although the footer has '
                                    f'{render(lo)}..{render(hi)}')
                else:
                    problems.append(f'{where}: no min/max ({r["num_values"]} values, '
                                    f'{r["stats_null_count"]} nulls)')
        note = f'{len(by_file.get(f, []))} chunks'
        if skipped:
            note += '; no order, min/max not expected: ' + ', '.join(sorted(set(skipped)))
        tally.result(name, problems[:5] + ([f'... {len(problems) - 5} more'] if len(problems) > 5 else []), note)


# ---------------------------------------------------------------------------------------------
# Section "fresh": the many-types table, rewritten with every option

INT_COLS = ['id', 'tinyint_col', 'smallint_col', 'int_col', 'bigint_col', 'utinyint_col',
            'usmallint_col', 'uinteger_col', 'ubigint_col', 'dec4_col', 'dec18_col', 'date_col',
            'time_col', 'ts_col', 'tstz_col', 'ts_ms_col', 'ts_ns_col']
BYTES_COLS = ['varchar_col', 'long_varchar_col', 'blob_col', 'enum_col']


def enc(cols, e):
    out = []
    for c in cols:
        out += ['--encoding', f'{c}={e}']
    return out


SPARSE_WANT = {'n_int': 'DELTA_BINARY_PACKED', 'n_big': 'DELTA_BINARY_PACKED', 's_len': 'DELTA_LENGTH_BYTE_ARRAY',
               's_arr': 'DELTA_BYTE_ARRAY', 'f': 'BYTE_STREAM_SPLIT', 'b': 'RLE'}
SPARSE_ENC = [x for c, e in SPARSE_WANT.items() for x in ('--encoding', f'{c}={e}')]


# (label, source file, options, {leaf path: encoding the footer must list}, DuckDB can read it)
def fresh_variants():
    v = []
    for codec in CODECS:
        v.append((f'codec {codec}', 'src', codec_opts(codec), {}, True))
    v += [
        ('zstd --level 19', 'src', ['--compression', 'zstd', '--level', '19'], {}, True),
        ('gzip --level 1', 'src', ['--compression', 'gzip', '--level', '1'], {}, True),
        ('brotli --level 9', 'src', ['--compression', 'brotli', '--level', '9'], {}, True),
        ('--page-v2 zstd', 'src', ['--page-v2'], {}, True),
        ('--page-v2 none', 'src', ['--page-v2', '--compression', 'none'], {}, True),
        ('--page-v2 snappy', 'src', ['--page-v2', '--compression', 'snappy'], {}, True),
        ('--no-dictionary', 'src', ['--no-dictionary'], {}, True),
        ('--no-dictionary --page-v2 lz4', 'src', ['--no-dictionary', '--page-v2', '--compression', 'lz4'], {}, True),
        ('--row-group-size 700 --page-size 4096', 'src', ['--row-group-size', '700', '--page-size', '4096'], {}, True),
        ('--row-group-size 333 --page-size 512 --page-v2 gzip', 'src',
         ['--row-group-size', '333', '--page-size', '512', '--page-v2', '--compression', 'gzip'], {}, True),
        ('--row-group-size 1 (first 40 rows)', 'head', ['--row-group-size', '1'], {}, True),
        ('DELTA_BINARY_PACKED ints, dates, times, timestamps, decimals', 'src',
         ['--no-dictionary'] + enc(INT_COLS, 'DELTA_BINARY_PACKED'),
         {c: 'DELTA_BINARY_PACKED' for c in INT_COLS}, True),
        ('DELTA_BINARY_PACKED --page-v2 --page-size 1024', 'src',
         ['--no-dictionary', '--page-v2', '--page-size', '1024'] + enc(INT_COLS, 'DELTA_BINARY_PACKED'),
         {c: 'DELTA_BINARY_PACKED' for c in INT_COLS}, True),
        ('DELTA_LENGTH_BYTE_ARRAY strings, blobs', 'src',
         ['--no-dictionary'] + enc(BYTES_COLS, 'DELTA_LENGTH_BYTE_ARRAY'),
         {c: 'DELTA_LENGTH_BYTE_ARRAY' for c in BYTES_COLS}, True),
        ('DELTA_BYTE_ARRAY strings, blobs, uuid, decimal(38)', 'src',
         ['--no-dictionary'] + enc(BYTES_COLS + ['uuid_col', 'dec38_col'], 'DELTA_BYTE_ARRAY'),
         {c: 'DELTA_BYTE_ARRAY' for c in BYTES_COLS + ['uuid_col', 'dec38_col']}, True),
        ('DELTA_BYTE_ARRAY --page-v2 --page-size 2048 snappy', 'src',
         ['--no-dictionary', '--page-v2', '--page-size', '2048', '--compression', 'snappy'] +
         enc(BYTES_COLS, 'DELTA_BYTE_ARRAY'), {c: 'DELTA_BYTE_ARRAY' for c in BYTES_COLS}, True),
        ('BYTE_STREAM_SPLIT float, double', 'src',
         ['--no-dictionary'] + enc(['float_col', 'double_col'], 'BYTE_STREAM_SPLIT'),
         {'float_col': 'BYTE_STREAM_SPLIT', 'double_col': 'BYTE_STREAM_SPLIT'}, True),
        ('RLE booleans', 'src', ['--no-dictionary', '--encoding', 'bool_col=RLE'], {'bool_col': 'RLE'}, True),
        ('nested leaves: DELTA_*, BYTE_STREAM_SPLIT --page-v2', 'src',
         ['--no-dictionary', '--page-v2',
          '--encoding', 'int_list.list.element=DELTA_BINARY_PACKED',
          '--encoding', 'struct_col.inner.c=DELTA_BYTE_ARRAY',
          '--encoding', 'struct_col.inner.d=BYTE_STREAM_SPLIT',
          '--encoding', 'map_col.key_value.key=DELTA_LENGTH_BYTE_ARRAY',
          '--encoding', 'struct_list.list.element.y=DELTA_BYTE_ARRAY'],
         {'int_list.list.element': 'DELTA_BINARY_PACKED', 'struct_col.inner.c': 'DELTA_BYTE_ARRAY',
          'struct_col.inner.d': 'BYTE_STREAM_SPLIT', 'map_col.key_value.key': 'DELTA_LENGTH_BYTE_ARRAY',
          'struct_list.list.element.y': 'DELTA_BYTE_ARRAY'}, True),
        # DuckDB cannot read BYTE_STREAM_SPLIT on INT32/INT64/FIXED_LEN_BYTE_ARRAY (FACTS.md):
        # tarn's read is compared with DuckDB's read of the source only.
        ('BYTE_STREAM_SPLIT ints, decimals, uuid (tarn read only)', 'src',
         ['--no-dictionary'] + enc(['int_col', 'bigint_col', 'dec18_col', 'uuid_col', 'dec38_col'], 'BYTE_STREAM_SPLIT'),
         {c: 'BYTE_STREAM_SPLIT' for c in ['int_col', 'bigint_col', 'dec18_col', 'uuid_col', 'dec38_col']}, False),
        ('encodings with the dictionary first (no --no-dictionary)', 'src',
         enc(['int_col'], 'DELTA_BINARY_PACKED') + enc(['varchar_col'], 'DELTA_BYTE_ARRAY'), {}, True),
        # pages without any non-null value still need the encodings' headers
        ('sparse columns, DELTA_* and BYTE_STREAM_SPLIT, --page-size 256', 'sparse',
         ['--no-dictionary', '--page-size', '256'] + SPARSE_ENC, SPARSE_WANT, True),
        ('sparse columns, DELTA_* and BYTE_STREAM_SPLIT, --page-v2 --page-size 256', 'sparse',
         ['--no-dictionary', '--page-v2', '--page-size', '256'] + SPARSE_ENC, SPARSE_WANT, True),
        ('dictionary over the limit falls back to PLAIN', 'fallback', [], {}, True),
        ('dictionary fallback --page-v2 --page-size 8192', 'fallback', ['--page-v2', '--page-size', '8192'], {}, True),
    ]
    for name, _query, _opts in oracle_roundtrip.EDGES:
        if name in ('empty.parquet', 'one_row.parquet', 'all_null.parquet'):
            v.append((f'edge {name}', name, [], {}, True))
            v.append((f'edge {name} --page-v2 --no-dictionary', name, ['--page-v2', '--no-dictionary'], {}, True))
    return v


def generate_fresh(ctx, d):
    """The DuckDB source files of the 'fresh' and 'stats' sections."""
    stmts = [oracle_roundtrip.TABLE.replace('{ROWS}', str(FRESH_ROWS))]
    stmts.append(f"COPY t TO {sql_str(os.path.join(d, 'src.parquet'))} (FORMAT parquet, "
                 "COMPRESSION zstd, ROW_GROUP_SIZE 2048);")
    stmts.append(f"COPY (SELECT * FROM t WHERE id < 40) TO {sql_str(os.path.join(d, 'head.parquet'))} "
                 "(FORMAT parquet, COMPRESSION snappy);")
    # 40000 distinct 40-byte strings: a 1.7 MB dictionary, beyond the 1 MiB default limit
    stmts.append("COPY (SELECT i AS n, md5(i::VARCHAR) || (i % 1000)::VARCHAR AS unique_str, "
                 "'c' || (i % 10) AS few FROM range(40000) r(i)) TO "
                 f"{sql_str(os.path.join(d, 'fallback.parquet'))} (FORMAT parquet, COMPRESSION zstd);")
    # values only in the last tenth of each 1000 rows: pages and row groups without any value
    stmts.append("COPY (SELECT i, CASE WHEN i % 1000 >= 900 THEN i::INTEGER END AS n_int, "
                 "CASE WHEN i % 1000 >= 900 THEN i * 100000007 END AS n_big, "
                 "CASE WHEN i % 1000 >= 900 THEN 'v' || i END AS s_len, "
                 "CASE WHEN i % 1000 >= 900 THEN 'prefix-' || (i // 3) END AS s_arr, "
                 "CASE WHEN i % 1000 >= 900 THEN i / 3.0 END AS f, "
                 "CASE WHEN i % 1000 >= 900 THEN i % 3 = 0 END AS b FROM range(3000) r(i)) TO "
                 f"{sql_str(os.path.join(d, 'sparse.parquet'))} (FORMAT parquet);")
    for name, query, options in oracle_roundtrip.EDGES:
        if name in ('empty.parquet', 'one_row.parquet', 'all_null.parquet'):
            stmts.append(f"COPY ({query}) TO {sql_str(os.path.join(d, name))} (FORMAT parquet, {options});")
    ctx.duck_sql('\n'.join(stmts))


def check_fresh_variant(ctx, d, variant):
    label, src, opts, want_enc, duck_can = variant
    srcf = os.path.join(d, src if src.endswith('.parquet') else src + '.parquet')
    ref = srcf + '.duckdb.jsonl'
    dst = os.path.join(d, 'out', label.replace(' ', '_').replace('/', '_') + '.parquet')
    problems, notes = [], []
    p = ctx.copy(srcf, dst, opts)
    if p:
        return [p], ''
    if duck_can:
        dj = dst + '.duckdb.jsonl'
        p = ctx.duck_read(dst, dj)
        if p:
            problems.append(p)
        else:
            same, detail = same_rows(ctx.shared, ref, dj, ordered=True)
            if not same:
                problems.append('DuckDB read differs from the source: ' + detail)
    else:
        notes.append('DuckDB cannot read BYTE_STREAM_SPLIT on these types')
    tj = dst + '.tarn.jsonl'
    p = ctx.tarn_cat(dst, tj)
    if p:
        problems.append(p)
    else:
        same, detail = same_rows(ctx.shared, ref, tj, ordered=True)
        if not same:
            problems.append('tarn read differs from the source: ' + detail)
    try:
        ft = Footer(dst)
    except (OSError, ValueError, IndexError, KeyError) as e:
        return problems + [f'footer: {e}'], ''
    encs = {}
    for rg in ft.row_groups:
        for leaf, cc in zip(ft.leaves, rg[1]):
            encs.setdefault(leaf['path'], set()).update(ENCODINGS.get(e, str(e)) for e in cc[3].get(2, []))
    for path, e in want_enc.items():
        if path not in encs:
            problems.append(f'no leaf {path} in the footer')
        elif e not in encs[path]:
            problems.append(f'{path}: asked for {e}, footer lists {sorted(encs[path])}')
    if '--no-dictionary' in opts:
        dicty = [p for p, s in encs.items() if s & {'RLE_DICTIONARY', 'PLAIN_DICTIONARY'}]
        if dicty:
            problems.append(f'--no-dictionary but dictionary-encoded: {", ".join(dicty[:5])}')
    rg_opt = opts[opts.index('--row-group-size') + 1] if '--row-group-size' in opts else None
    nrows = ft.meta.get(3, 0)
    if rg_opt:
        want = -(-nrows // int(rg_opt))
        if len(ft.row_groups) != want:
            problems.append(f'{len(ft.row_groups)} row groups for {nrows} rows at --row-group-size {rg_opt}, want {want}')
    if '--page-v2' in opts or '--page-size' in opts:
        kinds, pages = set(), 0
        for rg in ft.row_groups:
            for cc in rg[1]:
                off = cc.get(4)
                if off is None:
                    continue
                oi = Thrift(ft.data, off).struct()
                for loc in oi.get(1, []):
                    h, _ = ft.page_header(loc[1])
                    kinds.add(h[1])
                    pages += 1
        if '--page-v2' in opts and kinds - {3}:
            problems.append(f'--page-v2 but page types {sorted(kinds)} (3 = DATA_PAGE_V2)')
        notes.append(f'{pages} data pages')
    if src == 'fallback':
        s = encs.get('unique_str', set())
        notes.append('unique_str encodings ' + ','.join(sorted(s)))
        if 'PLAIN' not in s:
            problems.append(f'unique_str (1.7 MB of distinct values) not PLAIN after the dictionary limit: {sorted(s)}')
    notes.append(f'{len(ft.row_groups)} row groups')
    return problems, '; '.join(notes)


def section_fresh(ctx, tally, d):
    variants = fresh_variants()
    print(f'== fresh: {len(variants)} variants of DuckDB-made files', flush=True)
    os.makedirs(os.path.join(d, 'out'), exist_ok=True)
    sources = sorted({v[1] for v in variants})
    for s in sources:
        f = os.path.join(d, s if s.endswith('.parquet') else s + '.parquet')
        p = ctx.duck_read(f, f + '.duckdb.jsonl')
        if p:
            tally.fail(f'fresh source {s}', p)
            return
    results = tarnrun.parallel_map(lambda v: check_fresh_variant(ctx, d, v), variants, ctx.args.jobs)
    for v, (problems, note) in zip(variants, results):
        tally.result(f'fresh [{v[0]}]', problems, note)


# ---------------------------------------------------------------------------------------------
# Section "stats": statistics and the page index of tarn's files

# Flat columns of the many-types table: how DuckDB gives a raw value comparable with the decoded
# statistics bytes ('{a}' is the aggregate: min(col) or max(col), NaN left out for floats).
RAW_EXPR = {
    'id': '{a}', 'tinyint_col': '{a}', 'smallint_col': '{a}', 'int_col': '{a}', 'bigint_col': '{a}',
    'utinyint_col': '{a}', 'usmallint_col': '{a}', 'uinteger_col': '{a}', 'ubigint_col': '{a}',
    'bool_col': '{a}',
    'float_col': '{a}::VARCHAR', 'double_col': '{a}::VARCHAR',
    'dec4_col': '({a}::DECIMAL(38,2) * 100)::INTEGER', 'dec18_col': '({a}::DECIMAL(38,6) * 1000000)::BIGINT',
    'dec38_col': 'replace({a}::VARCHAR, \'.\', \'\')',
    'date_col': "datediff('day', DATE '1970-01-01', {a})",
    'time_col': "datediff('microsecond', TIME '00:00:00', {a})",
    'ts_col': 'epoch_us({a})', 'tstz_col': 'epoch_us({a})', 'ts_ms_col': 'epoch_ms({a})',
    'ts_ns_col': 'epoch_ns({a})::VARCHAR',
    'varchar_col': '{a}', 'long_varchar_col': '{a}', 'enum_col': '{a}',
    'blob_col': 'hex({a})', 'uuid_col': 'replace({a}::VARCHAR, \'-\', \'\')',
}


def raw_from_duck(col, leaf, v):
    """DuckDB's value (from RAW_EXPR) as the Python value decode_stat gives."""
    if v is None:
        return None
    if col in ('float_col', 'double_col'):
        x = float(v)
        return struct.unpack('<f', struct.pack('<f', x))[0] if col == 'float_col' else x
    if col in ('dec38_col', 'ts_ns_col'):
        return int(v)
    if col in ('blob_col', 'uuid_col'):
        return bytes.fromhex(v)
    if isinstance(v, str) and leaf['order'] == 'bytes':
        return v.encode('utf-8')
    return v


# Nested leaves of the many-types table: DuckDB expression of the leaf's values (one row each).
NESTED_EXPR = {
    'int_list, list, element': 'unnest(int_list)',
    'nested_list, list, element, list, element': 'unnest(flatten(nested_list))',
    'fixed_array, list, element': 'unnest(fixed_array::INTEGER[])',
    'struct_col, a': 'struct_col.a',
    'struct_col, inner, c': 'struct_col.inner.c',
    'struct_col, inner, d': 'struct_col.inner.d',
    'map_col, key_value, key': 'unnest(map_keys(map_col))',
    'map_col, key_value, value': 'unnest(map_values(map_col))',
    'struct_list, list, element, x': 'unnest(list_transform(struct_list, s -> s.x))',
    'struct_list, list, element, y': 'unnest(list_transform(struct_list, s -> s.y))',
    'struct_with_list, tags, list, element': 'unnest(struct_with_list.tags)',
    'struct_with_list, n': 'struct_with_list.n',
    'deep_col, list, element, key_value, key': 'unnest(flatten(list_transform(deep_col, m -> map_keys(m))))',
    'deep_col, list, element, key_value, value, list, element, deep, list, element':
        'unnest(flatten(list_transform(flatten(flatten(list_transform(deep_col, m -> map_values(m)))), s -> s.deep)))',
}


def check_nested_stats(ctx, f, md):
    """Min/max of nested leaves in parquet_metadata() against DuckDB's aggregates of the
    unnested values, per row group."""
    leaves = sorted({r['path_in_schema'] for r in md} & set(NESTED_EXPR))
    if not leaves:
        return [], 0
    b = (f"WITH rg AS (SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata({sql_str(f)})), "
         "b AS (SELECT row_group_id AS g, sum(row_group_num_rows) OVER (ORDER BY row_group_id) - row_group_num_rows AS s, "
         "row_group_num_rows AS n FROM rg) ")
    parts = [f"SELECT {sql_str(leaf)} AS leaf, b.g AS g, min(v.x)::VARCHAR AS lo, max(v.x)::VARCHAR AS hi "
             f"FROM (SELECT file_row_number AS r, {NESTED_EXPR[leaf]} AS x FROM read_parquet({sql_str(f)}, file_row_number=true)) v "
             "JOIN b ON v.r >= b.s AND v.r < b.s + b.n GROUP BY b.g" for leaf in leaves]
    want = {(r['leaf'], r['g']): (r['lo'], r['hi']) for r in ctx.duck_sql(b + ' UNION ALL '.join(parts))}
    problems = []
    n = 0
    for r in md:
        leaf = r['path_in_schema']
        if leaf not in NESTED_EXPR:
            continue
        lo, hi = want.get((leaf, r['row_group_id']), (None, None))
        got = (r['stats_min_value'], r['stats_max_value'])
        n += 1
        if got != (lo, hi) and not (lo is not None and all(same_float('DOUBLE', a, b) for a, b in zip(got, (lo, hi)))):
            problems.append(f'rg {r["row_group_id"]} {leaf.replace(", ", ".")}: statistics {got[0]!r}..{got[1]!r}, '
                            f'DuckDB over the values {lo!r}..{hi!r}')
    return problems, n


def agg(col, fn, flat_types):
    c = 't.' + qident(col)
    if flat_types.get(col) in ('FLOAT', 'DOUBLE'):
        return f'{fn}({c}) FILTER (WHERE NOT isnan({c}))'
    return f'{fn}({c})'


def flat_types_of(ctx, f):
    rows = ctx.duck_sql(f'SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet({sql_str(f)}))')
    return {r['column_name']: r['column_type'] for r in rows
            if not any(x in r['column_type'] for x in ('[', 'STRUCT', 'MAP', 'UNION'))}


def check_chunk_stats(ctx, f):
    """Chunk statistics in DuckDB's parquet_metadata() against DuckDB's aggregates per row group."""
    problems, notes = [], []
    flat = flat_types_of(ctx, f)
    cols = [c for c in flat if flat[c] != 'INTERVAL']
    sel = []
    for k, c in enumerate(cols):
        sel.append(f'{agg(c, "min", flat)}::VARCHAR AS "min{k}", {agg(c, "max", flat)}::VARCHAR AS "max{k}", '
                   f'count(*) - count(t.{qident(c)}) AS "nul{k}"')
    q = (f"WITH rg AS (SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata({sql_str(f)})), "
         "b AS (SELECT row_group_id AS g, sum(row_group_num_rows) OVER (ORDER BY row_group_id) - row_group_num_rows AS s, "
         "row_group_num_rows AS n FROM rg) "
         f"SELECT b.g AS g, {', '.join(sel)} FROM read_parquet({sql_str(f)}, file_row_number=true) t "
         "JOIN b ON t.file_row_number >= b.s AND t.file_row_number < b.s + b.n GROUP BY b.g ORDER BY b.g")
    aggs = {r['g']: r for r in ctx.duck_sql(q)}
    md = ctx.duck_sql(f'SELECT row_group_id, path_in_schema, column_id, num_values, stats_min_value, stats_max_value, '
                      f'stats_null_count FROM parquet_metadata({sql_str(f)})')
    ft = Footer(f)
    checked = 0
    truncated = set()
    for r in md:
        leaf = ft.leaves[r['column_id']]
        col = r['path_in_schema']
        where = f'rg {r["row_group_id"]} {leaf["path"]}'
        if r['stats_null_count'] is None:
            problems.append(f'{where}: no null count')
        if col not in cols:
            continue  # nested or INTERVAL: presence is checked by check_stats_presence
        k = cols.index(col)
        a = aggs.get(r['row_group_id'])
        if a is None:
            problems.append(f'{where}: DuckDB returned no rows for this row group')
            continue
        if r['stats_null_count'] is not None and r['stats_null_count'] != a[f'nul{k}']:
            problems.append(f'{where}: null_count {r["stats_null_count"]}, DuckDB counts {a[f"nul{k}"]}')
        for which, got, want in (('min', r['stats_min_value'], a[f'min{k}']),
                                 ('max', r['stats_max_value'], a[f'max{k}'])):
            if want is None:  # no non-null (non-NaN) value in this row group
                if got is not None:
                    problems.append(f'{where}: {which} {got!r} for a chunk without values')
                continue
            if got is None and want in ('inf', '-inf'):
                st = ft.row_groups[r['row_group_id']][1][r['column_id']][3].get(12, {})
                raw = st.get(6 if which == 'min' else 5)
                val = decode_stat(leaf, raw) if raw is not None else None
                if val is None or val != float(want):
                    problems.append(f'{where}: {which} in the footer {render(val)}, DuckDB computes {want}')
                continue
            if got != want and flat[col] in ('VARCHAR', 'BLOB') and isinstance(got, str):
                g, w = got.encode(), want.encode()
                if (which == 'min' and truncated_ok(g, w, w, w)) or (which == 'max' and truncated_ok(w, g, w, w)):
                    truncated.add(col)
                    continue
            if got != want and not same_float(flat[col], got, want):
                problems.append(f'{where}: {which} statistic {str(got)[:80]!r}, DuckDB {which}() {str(want)[:80]!r}')
        checked += 1
    nested_problems, nested = check_nested_stats(ctx, f, md)
    problems += nested_problems
    notes.append(f'{checked} flat and {nested} nested chunks compared; INTERVAL has no order (no min/max expected)')
    if truncated:
        notes.append('truncated string bounds: ' + ', '.join(sorted(truncated)))
    return problems, '; '.join(notes)


def same_float(duck_type, a, b):
    """Floats as text equal in value (-0.0 = +0.0: the writer must write a zero max as +0.0 and a
    zero min as -0.0, whatever DuckDB's min()/max() picks; that rule is checked on its own)."""
    if duck_type not in ('FLOAT', 'DOUBLE') or a is None or b is None:
        return False
    try:
        return float(a) == float(b)
    except ValueError:
        return False


def check_page_index(ctx, f, meta, with_duckdb=True):
    """tarn meta lists the page index; the ColumnIndex/OffsetIndex describe the real pages; page
    min/max/null counts equal DuckDB's over the page's rows (flat columns of RAW_EXPR, when
    with_duckdb)."""
    problems, notes = [], []
    ft = Footer(f)
    mrgs = meta.get('row_groups', [])
    flat = flat_types_of(ctx, f) if with_duckdb else {}
    page_queries = []  # (column, rg, page, start, end)
    page_stats = {}
    npages = 0
    rep_pages_checked = 0
    rg_start = 0
    for g, rg in enumerate(ft.row_groups):
        rg_rows = rg[3]
        for ci, (leaf, cc) in enumerate(zip(ft.leaves, rg[1])):
            where = f'rg {g} {leaf["path"]}'
            md = cc[3]
            mcol = mrgs[g]['columns'][ci] if g < len(mrgs) and ci < len(mrgs[g].get('columns', [])) else {}
            if mcol.get('offset_index_offset') is None:
                problems.append(f'{where}: tarn meta shows no offset_index_offset')
            if leaf['order'] is not None and mcol.get('column_index_offset') is None:
                problems.append(f'{where}: tarn meta shows no column_index_offset')
            if 4 not in cc:
                problems.append(f'{where}: no OffsetIndex in the footer')
                continue
            oi = Thrift(ft.data, cc[4]).struct()
            locs = oi.get(1, [])
            if not locs:
                problems.append(f'{where}: OffsetIndex without pages')
                continue
            chunk_start = md.get(11) if md.get(11) is not None else md[9]
            chunk_end = chunk_start + md[7]
            if locs[0][1] != md[9]:
                problems.append(f'{where}: first page at {locs[0][1]}, data_page_offset {md[9]}')
            headers = []
            for k, loc in enumerate(locs):
                off, size, first = loc[1], loc[2], loc[3]
                try:
                    h, hlen = ft.page_header(off)
                except (IndexError, ValueError) as e:
                    problems.append(f'{where}: page {k}: no page header at {off}: {e}')
                    break
                headers.append(h)
                if h.get(1) not in (0, 3):
                    problems.append(f'{where}: page {k} at {off} is of type {h.get(1)}, not a data page')
                if hlen + h.get(3, -1) != size:
                    problems.append(f'{where}: page {k}: OffsetIndex size {size}, header+data {hlen + h.get(3, -1)}')
                nxt = locs[k + 1][1] if k + 1 < len(locs) else chunk_end
                if off + size != nxt:
                    problems.append(f'{where}: page {k} ends at {off + size}, next starts at {nxt}')
                if k == 0 and first != 0:
                    problems.append(f'{where}: first_row_index of page 0 is {first}')
                if k and first <= locs[k - 1][3]:
                    problems.append(f'{where}: first_row_index not increasing at page {k}')
            if len(headers) != len(locs):
                continue
            npages += len(locs)
            ends = [l[3] for l in locs[1:]] + [rg_rows]
            for k, h in enumerate(headers):
                rows_here = ends[k] - locs[k][3]
                if leaf['max_rep'] > 0:
                    try:
                        hlen = ft.page_header(locs[k][1])[1]
                        levels = page_rep_levels(ft, leaf, h, hlen, locs[k][1], md.get(4))
                    except (ValueError, IndexError, struct.error) as e:
                        problems.append(f'{where}: page {k}: repetition levels unreadable: {e}')
                        levels = None
                    if levels is not None:
                        rep_pages_checked += 1
                        if levels and levels[0] != 0:
                            problems.append(f'{where}: page {k} starts inside a row (first repetition level {levels[0]})')
                        if levels.count(0) != rows_here:
                            problems.append(f'{where}: page {k} holds {levels.count(0)} row starts, OffsetIndex says {rows_here} rows')
                if h.get(1) == 3 and h[8].get(3) != rows_here:
                    problems.append(f'{where}: page {k}: v2 header num_rows {h[8].get(3)}, OffsetIndex says {rows_here}')
                if h.get(1) == 0 and leaf['max_rep'] == 0 and h[5][1] != rows_here:
                    problems.append(f'{where}: page {k}: num_values {h[5][1]}, OffsetIndex says {rows_here} rows')
            if leaf['order'] is None:
                continue
            if 6 not in cc:
                problems.append(f'{where}: no ColumnIndex in the footer')
                continue
            cix = Thrift(ft.data, cc[6]).struct()
            nullp, mins, maxs, order, ncounts = cix.get(1, []), cix.get(2, []), cix.get(3, []), cix.get(4), cix.get(5)
            if not (len(nullp) == len(mins) == len(maxs) == len(locs)):
                problems.append(f'{where}: ColumnIndex has {len(nullp)}/{len(mins)}/{len(maxs)} entries for {len(locs)} pages')
                continue
            if ncounts is None or len(ncounts) != len(locs):
                problems.append(f'{where}: ColumnIndex null_counts missing or of the wrong length')
                ncounts = None
            st = md.get(12, {})
            if ncounts is not None and st.get(3) is not None and sum(ncounts) != st[3]:
                problems.append(f'{where}: page null counts add up to {sum(ncounts)}, chunk null_count {st[3]}')
            vals = []
            for k in range(len(locs)):
                h = headers[k]
                if ncounts is not None and h.get(1) == 3 and h[8].get(2) != ncounts[k]:
                    problems.append(f'{where}: page {k}: ColumnIndex null count {ncounts[k]}, v2 header num_nulls {h[8].get(2)}')
                if nullp[k]:
                    if mins[k] or maxs[k]:
                        problems.append(f'{where}: page {k} is a null page but has min/max')
                    if ncounts is not None and leaf['max_rep'] == 0 and ncounts[k] != ends[k] - locs[k][3]:
                        problems.append(f'{where}: page {k} is a null page with {ncounts[k]} nulls of {ends[k] - locs[k][3]} rows')
                    vals.append(None)
                    continue
                lo, hi = decode_stat(leaf, mins[k]), decode_stat(leaf, maxs[k])
                if isnan(lo) or isnan(hi):
                    problems.append(f'{where}: page {k}: NaN in the ColumnIndex')
                elif lo > hi:
                    problems.append(f'{where}: page {k}: min {render(lo)} > max {render(hi)}')
                vals.append((lo, hi))
                page_stats[(leaf['path'], g, k)] = (lo, hi, ncounts[k] if ncounts else None)
                if leaf['flat'] and leaf['path'] in RAW_EXPR and leaf['path'] in flat:
                    page_queries.append((leaf['path'], g, k, rg_start + locs[k][3], rg_start + ends[k]))
            present = [v for v in vals if v is not None]
            if present and 6 in st and 5 in st:
                clo, chi = decode_stat(leaf, st[6]), decode_stat(leaf, st[5])
                plo, phi = min(v[0] for v in present), max(v[1] for v in present)
                if (plo, phi) != (clo, chi) and not (leaf['order'] == 'float' and plo == clo and phi == chi):
                    problems.append(f'{where}: pages span {render(plo)}..{render(phi)}, chunk statistics {render(clo)}..{render(chi)}')
            if order in (1, 2) and len(present) > 1:
                seq = [v for v in vals if v is not None]
                ok = all((a[0] <= b[0] and a[1] <= b[1]) if order == 1 else (a[0] >= b[0] and a[1] >= b[1])
                         for a, b in zip(seq, seq[1:]))
                if not ok:
                    problems.append(f'{where}: boundary_order {"ASCENDING" if order == 1 else "DESCENDING"} but the pages are not')
        rg_start += rg_rows
    # page values against DuckDB
    if page_queries:
        parts = []
        for col, g, k, s, e in page_queries:
            a_min, a_max = agg(col, 'min', flat), agg(col, 'max', flat)
            parts.append(f"SELECT {sql_str(col)} AS col, {g} AS g, {k} AS k, "
                         f"({RAW_EXPR[col].format(a=a_min)})::VARCHAR AS lo, ({RAW_EXPR[col].format(a=a_max)})::VARCHAR AS hi, "
                         f"count(*) - count(t.{qident(col)}) AS nulls, count(*) AS n "
                         f"FROM read_parquet({sql_str(f)}, file_row_number=true) t "
                         f"WHERE t.file_row_number >= {s} AND t.file_row_number < {e}")
        rows = []
        for i in range(0, len(parts), 200):
            rows += ctx.duck_sql(' UNION ALL '.join(parts[i:i + 200]))
        leaves = {l['path']: l for l in ft.leaves}
        truncated = set()
        for r in rows:
            col, g, k = r['col'], r['g'], r['k']
            lo, hi, nn = page_stats[(col, g, k)]
            leaf = leaves[col]
            want_lo = raw_from_duck(col, leaf, cast_back(col, r['lo']))
            want_hi = raw_from_duck(col, leaf, cast_back(col, r['hi']))
            where = f'rg {g} {col} page {k}'
            if nn is not None and nn != r['nulls']:
                problems.append(f'{where}: ColumnIndex null count {nn}, DuckDB counts {r["nulls"]} in rows of the page')
            if want_lo is None:
                continue
            if lo != want_lo or hi != want_hi:
                if truncated_ok(lo, hi, want_lo, want_hi):
                    truncated.add(col)
                    continue
                problems.append(f'{where}: ColumnIndex {render(lo)}..{render(hi)}, DuckDB {render(want_lo)}..{render(want_hi)}')
        notes.append(f'{len(rows)} pages compared with DuckDB')
        if truncated:
            notes.append('truncated byte-array bounds in the ColumnIndex: ' + ', '.join(sorted(truncated)))
    notes.insert(0, f'{npages} pages')
    if rep_pages_checked:
        notes.insert(1, f'{rep_pages_checked} pages of repeated columns start at a row (levels decoded)')
    return problems, '; '.join(notes)


def truncated_ok(lo, hi, want_lo, want_hi):
    """Byte-array bounds may be truncated: a min that is a prefix of the true min, a max that is
    shorter than the true max and not below it."""
    if not all(isinstance(x, bytes) for x in (lo, hi, want_lo, want_hi)):
        return False
    lo_ok = lo == want_lo or (want_lo.startswith(lo) and len(lo) < len(want_lo))
    hi_ok = hi == want_hi or (hi > want_hi and len(hi) < len(want_hi))
    return lo_ok and hi_ok


def cast_back(col, v):
    """RAW_EXPR values arrive as text: back to ints where they are ints."""
    if v is None:
        return None
    if col in ('bool_col',):
        return v == 'true'
    if col in ('float_col', 'double_col', 'blob_col', 'uuid_col', 'varchar_col', 'long_varchar_col', 'enum_col'):
        return v
    return int(v)


def check_float_rules(ctx, d):
    """NaN never in statistics; a zero min is -0.0 and a zero max is +0.0 (parquet.thrift)."""
    src = os.path.join(d, 'floats.parquet')
    ctx.duck_sql(
        "COPY (SELECT i, x::FLOAT AS f, x::DOUBLE AS d FROM (VALUES "
        "(0, '0.0'), (1, '1.0'), (2, 'NaN'), (3, NULL), (4, '-0.0'), (5, '-1.0'), (6, '-2.0'), (7, NULL), "
        "(8, 'NaN'), (9, 'NaN'), (10, NULL), (11, 'NaN'), (12, '1.5'), (13, 'NaN'), (14, '2.5'), "
        "(15, '-0.0')) v(i, x) ORDER BY i) "
        f"TO {sql_str(src)} (FORMAT parquet)")
    dst = os.path.join(d, 'floats.tarn.parquet')
    p = ctx.copy(src, dst, ['--row-group-size', '4', '--no-dictionary'])
    if p:
        return [p], ''
    ft = Footer(dst)
    # 0.0 in rg 0 is +0.0 (DuckDB's literal); rg 1 and 3 hold -0.0
    want = {0: (-0.0, 1.0), 1: (-2.0, 0.0), 2: None, 3: (-0.0, 2.5)}
    problems, notes = [], []
    for g, rg in enumerate(ft.row_groups):
        for leaf, cc in zip(ft.leaves, rg[1]):
            if leaf['order'] != 'float':
                continue
            st = cc[3].get(12, {})
            where = f'rg {g} {leaf["path"]}'
            lo = decode_stat(leaf, st[6]) if 6 in st else None
            hi = decode_stat(leaf, st[5]) if 5 in st else None
            if want[g] is None:
                notes.append(f'all-NaN chunk: min/max {"absent" if lo is None else render(lo) + ".." + render(hi)}')
                if lo is not None and not (isnan(lo) and isnan(hi)):
                    problems.append(f'{where} (all NaN): min/max {render(lo)}..{render(hi)}')
                continue
            if lo is None or hi is None:
                problems.append(f'{where}: no min/max')
                continue
            if isnan(lo) or isnan(hi):
                problems.append(f'{where}: NaN in min/max ({render(lo)}..{render(hi)})')
                continue
            wlo, whi = want[g]
            if lo != wlo or hi != whi:
                problems.append(f'{where}: min/max {render(lo)}..{render(hi)}, want {wlo!r}..{whi!r}')
            if lo == 0 and struct.pack('<d', lo) != struct.pack('<d', -0.0):
                problems.append(f'{where}: a zero min must be written as -0.0, found +0.0')
            if hi == 0 and struct.pack('<d', hi) != struct.pack('<d', 0.0):
                problems.append(f'{where}: a zero max must be written as +0.0, found -0.0')
    tj = dst + '.tarn.jsonl'
    p = ctx.tarn_cat(dst, tj)
    if p:
        problems.append(p)
    else:
        ref = src + '.duckdb.jsonl'
        p = ctx.duck_read(src, ref)
        same, detail = same_rows(ctx.shared, ref, tj, ordered=True)
        if p or not same:
            problems.append(p or detail)
    return problems, '; '.join(notes)


FILTERS = [
    'id BETWEEN 1234 AND 1300',
    "varchar_col = 'str-42'",
    'int_col > 2000000000',
    "date_col < DATE '1970-03-01'",
    'ubigint_col > 18446744073709551000',
    "ts_col >= TIMESTAMP '2000-01-01' AND ts_col < TIMESTAMP '2000-03-01'",
    'dec18_col BETWEEN -1.5 AND 1000.25',
    "uuid_col < 'a0000000-0000-0000-0000-000000000000'",
    'double_col > 1000.5',
    'struct_col.a = 77',
]


def check_filters(ctx, src, f):
    problems = []
    for flt in FILTERS:
        q = lambda p: f'SELECT * FROM read_parquet({sql_str(p)}) WHERE {flt} ORDER BY id'
        try:
            a = ctx.duck_sql(q(src))
            b = ctx.duck_sql(q(f))
        except RuntimeError as e:
            problems.append(f'WHERE {flt}: {e}')
            continue
        if a != b:
            first = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
            problems.append(f'WHERE {flt}: {len(b)} rows from tarn\'s file, {len(a)} from the source; '
                            f'first difference at result row {first}')
    return problems, f'{len(FILTERS)} filters'


def section_stats(ctx, tally, d):
    print('== stats: statistics and page index of tarn\'s files', flush=True)
    src = os.path.join(d, 'src.parquet')
    files = {
        'default zstd': [],
        'row groups 700, pages 4096': ['--row-group-size', '700', '--page-size', '4096'],
        'row groups 1000, pages 1024, v2, no dictionary': ['--row-group-size', '1000', '--page-size', '1024',
                                                           '--page-v2', '--no-dictionary'],
        'pages 512, v1, uncompressed': ['--page-size', '512', '--compression', 'none'],
        # (long_varchar_col left out: its all-null pages are a case of the 'fresh' section)
        'delta encodings, pages 2048': ['--no-dictionary', '--page-size', '2048'] +
        enc(INT_COLS, 'DELTA_BINARY_PACKED') + enc(['varchar_col', 'blob_col', 'enum_col'], 'DELTA_BYTE_ARRAY'),
    }
    made = {}
    for label, opts in files.items():
        dst = os.path.join(d, 'stats_' + label.replace(' ', '_').replace(',', '') + '.parquet')
        p = ctx.copy(src, dst, opts)
        if p:
            tally.fail(f'stats [{label}]', p)
            continue
        made[label] = dst
    check_stats_presence(ctx, tally, list(made.values()), 'fresh files')

    def one(item):
        label, f = item
        out = []
        try:
            out.append((f'stats [{label}] chunk min/max/null count = DuckDB aggregates', *check_chunk_stats(ctx, f)))
        except (RuntimeError, ValueError, KeyError, IndexError) as e:
            out.append((f'stats [{label}] chunk min/max/null count = DuckDB aggregates', [str(e)], ''))
        try:
            meta = ctx.meta(f)
            out.append((f'stats [{label}] page index', *check_page_index(ctx, f, meta)))
        except (RuntimeError, ValueError, KeyError, IndexError, struct.error) as e:
            out.append((f'stats [{label}] page index', [f'{type(e).__name__}: {e}'], ''))
        return out
    for res in tarnrun.parallel_map(one, list(made.items()), ctx.args.jobs):
        for name, problems, note in res:
            tally.result(name, problems[:8] + ([f'... {len(problems) - 8} more'] if len(problems) > 8 else []), note)
    if 'row groups 700, pages 4096' in made:
        tally.result('stats [filters on the small-page file] DuckDB rows = source rows',
                     *check_filters(ctx, src, made['row groups 700, pages 4096']))
    try:
        tally.result('stats [float NaN and signed-zero rules]', *check_float_rules(ctx, d))
    except (RuntimeError, ValueError, KeyError, IndexError) as e:
        tally.fail('stats [float NaN and signed-zero rules]', str(e))


# ---------------------------------------------------------------------------------------------
# Section "bloom"

BLOOM_ROWS = 24000
BLOOM_RG = 8000
# column -> (DuckDB expression of row i, SQL literal of a probe value, an absent value of i)
BLOOM_COLS = {
    'id': ('i::BIGINT', lambda v: f'{v}::BIGINT', lambda i: str(10_000_000 + i * 7)),
    'i32': ('CASE WHEN i % 9 = 4 THEN NULL ELSE (i * 37 - 400000)::INTEGER END', lambda v: f'{v}::INTEGER',
            lambda i: str(900_000 + i * 13)),
    's': ("'s-' || i", lambda v: sql_str(v), lambda i: f'absent-{i}'),
    'cat': ("'cat' || (i % 37)", lambda v: sql_str(v), lambda i: f'cat{100 + i}'),
    'd': ('i / 8.0 + 0.25', lambda v: f'{v}::DOUBLE', lambda i: repr(-1.0 - i * 3.5)),
    'price': ('((i * 7919) % 1000000)::DECIMAL(18,0) / 100', lambda v: f'{v}::DECIMAL(18,2)',
              lambda i: f'{20000 + i}.37'),
    'dt': ("DATE '2000-01-01' + (i % 5000)::INTEGER", lambda v: f"DATE '{v}'",
           lambda i: f'{1900 + i % 90}-0{1 + i % 9}-1{i % 10}'),
    'ts': ("TIMESTAMP '2024-01-01' + INTERVAL (i * 61) SECOND", lambda v: f"TIMESTAMP '{v}'",
           lambda i: f'1999-0{1 + i % 9}-1{i % 10} 0{i % 10}:00:0{i % 7}'),
}
NOT_BLOOMED = 'other'


def section_bloom(ctx, tally, d):
    print('== bloom: bloom filters', flush=True)
    src = os.path.join(d, 'bloom_src.parquet')
    cols = ', '.join(f'{e} AS {c}' for c, (e, _, _) in BLOOM_COLS.items())
    try:
        ctx.duck_sql(f"COPY (SELECT {cols}, i * 3 AS {NOT_BLOOMED} FROM range({BLOOM_ROWS}) r(i)) "
                     f"TO {sql_str(src)} (FORMAT parquet)")
        rows = ctx.duck_sql(f'SELECT * FROM read_parquet({sql_str(src)})')
    except RuntimeError as e:
        tally.fail('bloom: source', str(e))
        return
    dst = os.path.join(d, 'bloom.parquet')
    p = ctx.copy(src, dst, ['--bloom-filter', ','.join(BLOOM_COLS), '--row-group-size', str(BLOOM_RG)])
    if p:
        tally.fail('bloom: tarn copy --bloom-filter', p)
        return
    try:
        meta = ctx.meta(dst)
        md = ctx.duck_sql(f'SELECT row_group_id, path_in_schema, bloom_filter_offset, bloom_filter_length '
                          f'FROM parquet_metadata({sql_str(dst)})')
    except RuntimeError as e:
        tally.fail('bloom: metadata', str(e))
        return
    problems = []
    for r in md:
        has = r['bloom_filter_offset'] is not None
        if (r['path_in_schema'] in BLOOM_COLS) != has:
            problems.append(f'rg {r["row_group_id"]} {r["path_in_schema"]}: bloom filter '
                            f'{"present" if has else "missing"}')
    for g, rg in enumerate(meta.get('row_groups', [])):
        for c in rg.get('columns', []):
            if c['path'] in BLOOM_COLS and c.get('bloom_filter_offset') is None:
                problems.append(f'tarn meta: rg {g} {c["path"]}: no bloom_filter_offset')
    tally.result('bloom: filters on the asked columns only (parquet_metadata, tarn meta)', problems,
                 f'{len(BLOOM_COLS)} columns x {len(meta.get("row_groups", []))} row groups')
    # probes: 40 present values per column (spread over the row groups) and 40 absent ones
    ngroups = -(-BLOOM_ROWS // BLOOM_RG)
    probes = []
    for c, (_, lit, absent) in BLOOM_COLS.items():
        seen = set()
        for k in range(40):
            i = (k * 7919 + 13) % BLOOM_ROWS
            v = rows[i][c]
            if v is None or v in seen:
                continue
            seen.add(v)
            probes.append((c, 'present', i // BLOOM_RG, lit(v)))
        for k in range(40):
            probes.append((c, 'absent', None, lit(absent(k))))
    parts = [f"SELECT {n} AS n, row_group_id AS g, bloom_filter_excludes AS ex FROM "
             f"parquet_bloom_probe({sql_str(dst)}, {sql_str(c)}, {v})" for n, (c, _, _, v) in enumerate(probes)]
    res = []
    try:
        for i in range(0, len(parts), 150):
            res += ctx.duck_sql(' UNION ALL '.join(parts[i:i + 150]))
    except RuntimeError as e:
        tally.fail('bloom: parquet_bloom_probe', str(e))
        return
    by = {}
    for r in res:
        by.setdefault(r['n'], {})[r['g']] = r['ex']
    for c in BLOOM_COLS:
        bad, excluded, total, npresent = [], 0, 0, 0
        for n, (pc, kind, g, v) in enumerate(probes):
            if pc != c:
                continue
            got = by.get(n, {})
            if len(got) != ngroups:
                bad.append(f'{v}: {len(got)} row groups answered, want {ngroups}')
                continue
            if kind == 'present':
                npresent += 1
                if got[g] is not False:
                    bad.append(f'present value {v} excluded from its row group {g}')
            else:
                total += len(got)
                excluded += sum(1 for x in got.values() if x)
        rate = excluded / total if total else 0
        if rate < 0.9:
            bad.append(f'absent values excluded in only {excluded}/{total} row-group probes')
        tally.result(f'bloom [{c}] parquet_bloom_probe', bad[:4],
                     f'{npresent} present values kept; absent excluded {excluded}/{total}')


# ---------------------------------------------------------------------------------------------
# Section "size"


def section_size(ctx, tally, d):
    print(f'== size: {SIZE_ROWS} mixed rows, zstd', flush=True)
    duck = os.path.join(d, 'size_duckdb.parquet')
    try:
        ctx.duck_sql(f"COPY ({MIXED_TABLE.replace('{ROWS}', str(SIZE_ROWS))}) TO {sql_str(duck)} "
                     "(FORMAT parquet, COMPRESSION zstd)")
    except RuntimeError as e:
        tally.fail('size: DuckDB file', str(e))
        return
    mine = os.path.join(d, 'size_tarn.parquet')
    p = ctx.copy(duck, mine, ['--compression', 'zstd'])
    if p:
        tally.fail('size: tarn copy', p)
        return
    a, b = os.path.getsize(mine), os.path.getsize(duck)
    ratio = a / b
    per_col = ''
    try:
        rows = ctx.duck_sql(
            f"SELECT path_in_schema AS c, sum(total_compressed_size) FILTER (WHERE file_name = {sql_str(mine)}) AS t, "
            f"sum(total_compressed_size) FILTER (WHERE file_name = {sql_str(duck)}) AS d, "
            f"min(column_id) AS k FROM parquet_metadata([{sql_str(mine)}, {sql_str(duck)}]) GROUP BY path_in_schema ORDER BY k")
        per_col = ', '.join(f"{r['c']} {int(r['t']) / max(1, int(r['d'])):.2f}x" for r in rows)
        ng = ctx.duck_sql(f"SELECT file_name AS f, count(DISTINCT row_group_id) AS n FROM "
                          f"parquet_metadata([{sql_str(mine)}, {sql_str(duck)}]) GROUP BY file_name")
        per_col += '; row groups ' + ', '.join(f"{'tarn' if r['f'] == mine else 'DuckDB'} {r['n']}" for r in ng)
    except RuntimeError as e:
        per_col = f'(per-column sizes unavailable: {e})'
    print(f'size ratio tarn/DuckDB (zstd, {SIZE_ROWS} rows): {ratio:.3f} ({a} / {b} bytes)', flush=True)
    tally.result(f'size: tarn zstd file <= {MAX_SIZE_RATIO}x DuckDB\'s', 
                 [] if ratio <= MAX_SIZE_RATIO else [f'{ratio:.3f}x ({a} vs {b} bytes); per column: {per_col}'],
                 f'{ratio:.3f}x ({a} vs {b} bytes); per column: {per_col}')
    tally.result('size: DuckDB reads the same rows from tarn\'s 1M-row file', *same_rows_duckdb(ctx, duck, mine))
    # bounded memory: one row group buffered at most (ASan's quarantine off, else freed memory counts)
    env = tarnrun.child_env()
    env['ASAN_OPTIONS'] += ':quarantine_size_mb=0'
    rss = {}
    problems = []
    for label, opts in (('default row groups', []), ('one 1M-row row group', ['--row-group-size', str(SIZE_ROWS)])):
        dst = os.path.join(d, 'rss.parquet')
        r = tarnrun.run([ctx.tarn, 'copy', duck, dst, *opts], TIMEOUT, env=env)
        p = tarnrun.contract_problems(r, allowed=(0,))
        if p:
            problems.append(f'{label}: {"; ".join(p)} [{r.describe()}]')
        rss[label] = r.maxrss_kb // 1024
        if os.path.exists(dst):
            os.unlink(dst)
    a, b = rss.get('default row groups', 0), rss.get('one 1M-row row group', 0)
    if not problems and a > MAX_COPY_RSS_MB:
        problems.append(f'peak RSS {a} MB copying {SIZE_ROWS} rows with default row groups (> {MAX_COPY_RSS_MB} MB)')
    tally.result('size: bounded memory (peak RSS of tarn copy)', problems,
                 f'{a} MB with default row groups, {b} MB with one {SIZE_ROWS}-row row group')


def same_rows_duckdb(ctx, a, b):
    q = (f"SELECT (SELECT count(*) FROM read_parquet({sql_str(a)})) AS na, "
         f"(SELECT count(*) FROM read_parquet({sql_str(b)})) AS nb, "
         f"(SELECT count(*) FROM (SELECT * FROM read_parquet({sql_str(a)}) EXCEPT ALL SELECT * FROM read_parquet({sql_str(b)}))) AS only_a, "
         f"(SELECT count(*) FROM (SELECT * FROM read_parquet({sql_str(b)}) EXCEPT ALL SELECT * FROM read_parquet({sql_str(a)}))) AS only_b")
    try:
        r = ctx.duck_sql(q)[0]
    except RuntimeError as e:
        return [str(e)], ''
    if r['na'] != r['nb'] or r['only_a'] or r['only_b']:
        return [f"rows {r['na']} vs {r['nb']}; {r['only_a']} rows only in the source, {r['only_b']} only in tarn's file"], ''
    return [], f"{r['na']} rows, EXCEPT ALL empty both ways"


# ---------------------------------------------------------------------------------------------
# Section "crash"


def kill_mid_copy(ctx, src, dst):
    """Starts tarn copy, SIGKILLs it once its temporary file holds data. Returns (killed, note)."""
    d = os.path.dirname(dst)
    before = set(os.listdir(d))
    p = subprocess.Popen([ctx.tarn, 'copy', src, dst], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, env=tarnrun.child_env(), start_new_session=True)
    deadline = time.monotonic() + 120
    killed, size = False, 0
    while time.monotonic() < deadline:
        if p.poll() is not None:
            break
        tmps = glob.glob(glob.escape(dst) + '.tmp.*')
        size = max((os.path.getsize(t) for t in tmps if os.path.exists(t)), default=0)
        if size >= 4 << 20:
            os.killpg(p.pid, signal.SIGKILL)
            killed = True
            break
        time.sleep(0.005)
    if not killed and p.poll() is None:
        os.killpg(p.pid, signal.SIGKILL)
        killed = True
    p.wait()
    new = sorted(set(os.listdir(d)) - before - {os.path.basename(dst)})
    return killed, size, new


def section_crash(ctx, tally, d):
    print(f'== crash: SIGKILL in the middle of a {CRASH_ROWS}-row copy', flush=True)
    src = os.path.join(d, 'big.parquet')
    try:
        ctx.duck_sql(f"COPY ({MIXED_TABLE.replace('{ROWS}', str(CRASH_ROWS))}) TO {sql_str(src)} "
                     "(FORMAT parquet, COMPRESSION zstd)")
    except RuntimeError as e:
        tally.fail('crash: source', str(e))
        return
    out = os.path.join(d, 'crash')
    os.makedirs(out)
    # 1. no previous file
    dst = os.path.join(out, 'new.parquet')
    killed, size, new = kill_mid_copy(ctx, src, dst)
    problems = []
    if not killed:
        problems.append('the copy ended before it could be killed (make the source larger)')
    if os.path.exists(dst):
        problems.append(f'{os.path.basename(dst)} exists after the kill ({os.path.getsize(dst)} bytes)')
    odd = [n for n in new if not n.startswith('new.parquet.tmp.')]
    if odd:
        problems.append(f'unexpected new files: {", ".join(odd)}')
    tmps = [n for n in new if n.startswith('new.parquet.tmp.')]
    tally.result('crash: killed copy leaves nothing under the final name', problems,
                 f'killed with {size} bytes in the temporary file; leftover temporary files: {", ".join(tmps) or "none"}')
    for n in new:
        os.unlink(os.path.join(out, n))
    # 2. a previous complete file stays as it was
    dst = os.path.join(out, 'old.parquet')
    shutil.copyfile(os.path.join(d, 'head.parquet'), dst)
    with open(dst, 'rb') as f:
        before = f.read()
    killed, size, new = kill_mid_copy(ctx, src, dst)
    problems = []
    if not killed:
        problems.append('the copy ended before it could be killed')
    if not os.path.exists(dst):
        problems.append('the previous file is gone')
    else:
        with open(dst, 'rb') as f:
            if f.read() != before:
                problems.append('the previous file was changed')
    tmps = [n for n in new if n.startswith('old.parquet.tmp.')]
    tally.result('crash: killed copy keeps the previous file intact', problems,
                 f'killed with {size} bytes in the temporary file; leftover temporary files: {", ".join(tmps) or "none"}')
    for n in new:
        os.unlink(os.path.join(out, n))
    # 3. a copy that fails on corrupt input keeps the previous file and cleans up
    bad = os.path.join(ctx.shared, 'testdata', 'parquet-testing', 'data', 'datapage_v1-corrupt-checksum.parquet')
    problems = []
    if not os.path.exists(bad):
        problems.append(f'{bad} is missing')
    else:
        before_files = set(os.listdir(out))
        r = tarnrun.run([ctx.tarn, 'copy', bad, dst], TIMEOUT)
        problems += tarnrun.contract_problems(r, allowed=(4,))
        if r.rc == 0:
            problems.append('the copy of a corrupt file succeeded')
        with open(dst, 'rb') as f:
            if f.read() != before:
                problems.append('the previous file was changed by the failed copy')
        left = sorted(set(os.listdir(out)) - before_files)
        if left:
            problems.append(f'files left behind by the failed copy: {", ".join(left)}')
    tally.result('crash: failed copy (corrupt input) keeps the previous file, leaves no temporary file', problems)


# ---------------------------------------------------------------------------------------------


def main():
    p = tarnrun.arg_parser(__doc__.splitlines()[0])
    p.add_argument('--only', default=','.join(SECTIONS), help='sections to run: ' + ','.join(SECTIONS))
    args = p.parse_args()
    only = [s.strip() for s in args.only.split(',') if s.strip()]
    unknown = [s for s in only if s not in SECTIONS]
    if unknown:
        p.error(f'unknown section(s): {", ".join(unknown)}')
    shared = tarnrun.shared_dir(args)
    tally = tarnrun.Tally()
    if not tarnrun.require_tarn(args.tarn, tally) or \
            not tarnrun.require_shared(shared, tally, 'tools', 'testdata/parquet-testing', 'testdata/iceberg-java'):
        return tally.finish()
    node_oracle = tarnrun.oracle(shared, tally)
    if not node_oracle:
        return tally.finish()
    scratch = tempfile.mkdtemp(prefix='tarn-writer-')
    ctx = Ctx(args, shared, node_oracle, scratch)
    t0 = time.monotonic()
    try:
        if 'expected' in only:
            section_expected(ctx, tally)
        d = os.path.join(scratch, 'fresh')
        os.makedirs(d)
        if any(s in only for s in ('fresh', 'stats', 'crash')):
            try:
                generate_fresh(ctx, d)
            except RuntimeError as e:
                tally.fail('generate files with DuckDB', str(e))
                return tally.finish()
        if 'fresh' in only:
            section_fresh(ctx, tally, d)
        if 'stats' in only:
            section_stats(ctx, tally, d)
        if 'bloom' in only:
            section_bloom(ctx, tally, d)
        if 'size' in only:
            section_size(ctx, tally, d)
        if 'crash' in only:
            section_crash(ctx, tally, d)
    finally:
        print(f'({time.monotonic() - t0:.0f} s)', flush=True)
        if args.keep:
            print(f'kept {scratch}')
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return tally.finish()


if __name__ == '__main__':
    sys.exit(main())
