#!/usr/bin/env python3
"""Parquet modular encryption: the encrypted files of parquet-testing.

Expected values come from outside tarn: the keys and AAD prefix stated in parquet-testing's
data/README.md, and the data those files were written with, as the Parquet implementations' own
tests state it (50 rows; row i: boolean i%2==0, int32_field TIME(ms) = i, int64_field list
[2i*10^12, (2i+1)*10^12], float i*1.1f, double i*1.1111111, ba_field present only for even i and
starting with "parquet", flba_field ten bytes of value i). Also checked: no key -> exit 1 with
"key required"; a wrong key -> exit 1, never garbage rows; reading only plaintext columns of a
file with a plaintext footer needs no key.
"""
import base64
import json
import os
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import tarnrun  # noqa: E402

FOOTER_KEY = '0123456789012345'
COLUMN_KEYS = ['double_field:1234567890123450', 'float_field:1234567890123451']
AES256_FOOTER = '01234567890123456789012345678901'
AES256_COLUMNS = {'double': 2, 'float': 3, 'boolean': 4, 'int32': 5, 'ba': 6, 'flba': 7,
                  'int64': 8, 'int96': 9}


def run(tarn, args):
    p = subprocess.run([tarn] + args, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def f32(x):
    return struct.unpack('<f', struct.pack('<f', x))[0]


def check_rows(stdout):
    rows = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    if len(rows) != 50:
        return 'expected 50 rows, got %d' % len(rows)
    for i, r in enumerate(rows):
        want_ms = '00:00:00.%06d' % (i * 1000) if i < 1000 else None
        problems = []
        if r['boolean_field'] != (i % 2 == 0):
            problems.append('boolean_field')
        if r['int32_field'] != want_ms:
            problems.append('int32_field')
        if r['int64_field'] != [2 * i * 10**12, (2 * i + 1) * 10**12]:
            problems.append('int64_field')
        if abs(r['float_field'] - f32(f32(i) * f32(1.1))) > 1e-5 * max(1, i):
            problems.append('float_field')
        if abs(r['double_field'] - i * 1.1111111) > 1e-9 * max(1, i):
            problems.append('double_field')
        ba = r['ba_field']
        if (ba is not None) != (i % 2 == 0) or (ba is not None and not base64.b64decode(ba).startswith(b'parquet')):
            problems.append('ba_field')
        if base64.b64decode(r['flba_field']) != bytes([i]) * 10:
            problems.append('flba_field')
        if problems:
            return 'row %d: wrong %s: %s' % (i, ','.join(problems), json.dumps(r))
    return None


def main():
    args = tarnrun.arg_parser(__doc__).parse_args()
    shared = tarnrun.shared_dir(args)
    data = os.path.join(shared, 'testdata', 'parquet-testing', 'data')
    keys = ['--footer-key', FOOTER_KEY]
    for k in COLUMN_KEYS:
        keys += ['--column-key', k]
    passed = failed = 0

    def result(ok, name, why=''):
        nonlocal passed, failed
        if ok:
            passed += 1
            print('PASS %s' % name)
        else:
            failed += 1
            print('FAIL %s: %s' % (name, why))

    cases = [
        ('uniform_encryption.parquet.encrypted', []),
        ('encrypt_columns_and_footer.parquet.encrypted', []),
        ('encrypt_columns_plaintext_footer.parquet.encrypted', []),
        ('encrypt_columns_and_footer_aad.parquet.encrypted', []),
        ('encrypt_columns_and_footer_disable_aad_storage.parquet.encrypted', ['--aad-prefix', 'tester']),
    ]
    for name, extra in cases:
        path = os.path.join(data, name)
        rc, out, err = run(args.tarn, ['cat', path, '--format', 'jsonl'] + keys + extra)
        why = err.strip() if rc else check_rows(out)
        result(rc == 0 and why is None, 'decrypt ' + name, why or '')
        rc, out, err = run(args.tarn, ['cat', path, '--format', 'jsonl'])
        refused = 'key required' in err or ('aad-prefix' in err and extra)
        result(rc == 1 and refused and out == '' and err.count('tarn: error: ') == 1,
               'no key refused ' + name, 'rc=%d stderr=%r' % (rc, err))
    # The bloom-filter variant holds other data: 2000 rows of (i + 0.5, i + 0.25, i, "name_i").
    bf = os.path.join(data, 'encrypt_columns_and_footer_bloom_filter.parquet.encrypted')
    rc, out, err = run(args.tarn, ['cat', bf, '--format', 'jsonl'] + keys)
    rows = [json.loads(x) for x in out.splitlines()] if rc == 0 else []
    ok = len(rows) == 2000 and all(r == {'double_field': i + 0.5, 'float_field': i + 0.25, 'int32_field': i,
                                         'name': 'name_%d' % i} for i, r in enumerate(rows))
    result(rc == 0 and ok, 'decrypt ' + os.path.basename(bf), err.strip() or 'rows differ')
    for name in ['uniform_encryption.parquet.encrypted', 'encrypt_columns_and_footer.parquet.encrypted']:
        rc, out, err = run(args.tarn, ['cat', os.path.join(data, name), '--format', 'jsonl',
                                       '--footer-key', '9999999999999999'] + ['--column-key', COLUMN_KEYS[0]])
        result(rc == 1 and out == '' and 'decryption failed' in err, 'wrong key refused ' + name,
               'rc=%d stderr=%r' % (rc, err))
    # The AAD prefix is part of what is authenticated: omitting it must fail.
    rc, out, err = run(args.tarn, ['cat', os.path.join(data, 'encrypt_columns_and_footer_disable_aad_storage.parquet.encrypted'),
                                   '--format', 'jsonl'] + keys)
    result(rc == 1 and 'aad-prefix' in err, 'missing AAD prefix refused', 'rc=%d stderr=%r' % (rc, err))
    # Plaintext footer: plaintext columns read without any key; encrypted ones need theirs.
    pf = os.path.join(data, 'encrypt_columns_plaintext_footer.parquet.encrypted')
    rc, out, err = run(args.tarn, ['cat', pf, '--format', 'jsonl', '--columns', 'boolean_field,ba_field'])
    rows = [json.loads(x) for x in out.splitlines()]
    result(rc == 0 and len(rows) == 50 and all(r['boolean_field'] == (i % 2 == 0) for i, r in enumerate(rows)),
           'plaintext columns without keys', 'rc=%d stderr=%r' % (rc, err))
    rc, out, err = run(args.tarn, ['cat', pf, '--format', 'jsonl', '--columns', 'double_field'])
    result(rc == 1 and 'double_field is encrypted, key required' in err, 'encrypted column needs its key',
           'rc=%d stderr=%r' % (rc, err))
    # AES-256 files written by parquet-mr (GCM and GCM-CTR).
    k256 = ['--footer-key', AES256_FOOTER]
    for col, digit in AES256_COLUMNS.items():
        k256 += ['--column-key', '%s_field:1234567890123456789012345678901%d' % (col, digit)]
    for name in ['aes256/uniform_encryption.parquet.encrypted', 'aes256/encrypt_columns_and_footer_ctr.parquet.encrypted']:
        rc, out, err = run(args.tarn, ['cat', os.path.join(data, name), '--format', 'jsonl'] + k256)
        why = err.strip() if rc else check_rows(out)
        result(rc == 0 and why is None, 'decrypt ' + name, why or '')
    print('%d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
