"""Shared plumbing of the conformance scripts (python3 standard library only).

Each script under tests/conformance/ drives the built `tarn` command against the shared test data
(../shared, or $TARN_SHARED) and against files the DuckDB oracle writes. This module holds what
they have in common: finding the command and the shared directory, running a child process with a
time limit while measuring its peak memory, checking the error contract of DESIGN.md (exit codes,
one `tarn: error: ` line on stderr, no sanitizer report), comparing canonical rows with the shared
compare_rows.py, and counting results into the `N passed, N failed` line every script ends with.
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SANITIZER_MARKERS = ('AddressSanitizer', 'LeakSanitizer', 'UndefinedBehaviorSanitizer',
                     'runtime error', 'MemorySanitizer', 'ThreadSanitizer')
ERROR_PREFIX = 'tarn: error: '
# Exit codes of DESIGN.md that a failing read may use: bad input, corrupt data, I/O.
READ_ERROR_CODES = (1, 4, 5)


def arg_parser(description):
    """The options every script takes: the command, the shared directory, a scratch directory."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument('--tarn', default=os.environ.get('TARN_BIN', os.path.join(REPO, 'build', 'tarn')),
                   help='the tarn command (default: $TARN_BIN or build/tarn)')
    p.add_argument('--shared', default=None,
                   help='the shared directory (default: $TARN_SHARED, else ../shared beside the repository)')
    p.add_argument('--jobs', type=int, default=int(os.environ.get('TARN_TEST_JOBS', '2')),
                   help='commands run in parallel (default 2)')
    p.add_argument('--keep', action='store_true', help='keep the scratch directory')
    return p


def shared_dir(args):
    d = args.shared or os.environ.get('TARN_SHARED') or os.path.join(REPO, '..', 'shared')
    return os.path.abspath(d)


def child_env(extra=None):
    """Environment for tarn: sanitizer reports get a distinctive exit code (on top of the stderr
    check) so that a sanitizer abort is never mistaken for exit code 1, "bad input"."""
    env = dict(os.environ)
    env['ASAN_OPTIONS'] = 'exitcode=86:' + env.get('ASAN_OPTIONS', '')
    env['UBSAN_OPTIONS'] = 'exitcode=87:print_stacktrace=1:' + env.get('UBSAN_OPTIONS', '')
    env['LSAN_OPTIONS'] = 'exitcode=88:' + env.get('LSAN_OPTIONS', '')
    if extra:
        env.update(extra)
    return env


class Run:
    """Outcome of one child process."""

    def __init__(self, cmd):
        self.cmd = cmd
        self.rc = None          # exit code, or -signal when killed by a signal
        self.timed_out = False
        self.stdout = b''       # captured stdout (empty when it went to a file)
        self.stderr = ''
        self.maxrss_kb = 0      # the child's peak resident set size
        self.seconds = 0.0

    @property
    def signal(self):
        return -self.rc if self.rc is not None and self.rc < 0 else 0

    def stderr_lines(self):
        return [l for l in self.stderr.splitlines() if l.strip()]

    def describe(self):
        if self.timed_out:
            return f'timed out after {self.seconds:.0f} s'
        if self.signal:
            return f'killed by signal {self.signal} ({signal.Signals(self.signal).name})'
        first = self.stderr_lines()[:1]
        return f'exit {self.rc}' + (f': {first[0][:300]}' if first else '')


def run(cmd, timeout, stdout_path=None, env=None, stdin_data=None):
    """Runs cmd (a list) with a time limit; stdout goes to stdout_path or is captured. The peak
    RSS is the child's own (wait4), so runs in parallel threads do not blur each other's."""
    r = Run(cmd)
    out = open(stdout_path, 'wb') if stdout_path else tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    start = time.monotonic()
    try:
        p = subprocess.Popen(cmd, stdout=out, stderr=err,
                             stdin=subprocess.PIPE if stdin_data is not None else subprocess.DEVNULL,
                             env=env or child_env(), start_new_session=True)
    except OSError as e:
        r.rc, r.stderr = 127, f'cannot run {cmd[0]}: {e}'
        out.close(); err.close()
        return r

    def kill():
        r.timed_out = True
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    timer = threading.Timer(timeout, kill)
    timer.start()
    if stdin_data is not None:
        try:
            p.stdin.write(stdin_data)
            p.stdin.close()
        except BrokenPipeError:
            pass
    _, status, usage = os.wait4(p.pid, 0)
    timer.cancel()
    p.returncode = os.waitstatus_to_exitcode(status)  # reaped here: keep Popen from waiting again
    r.seconds = time.monotonic() - start
    r.rc = p.returncode
    r.maxrss_kb = usage.ru_maxrss
    if not stdout_path:
        out.seek(0)
        r.stdout = out.read()
    out.close()
    err.seek(0)
    r.stderr = err.read().decode('utf-8', 'replace')
    err.close()
    return r


def contract_problems(r, allowed=(0,) + READ_ERROR_CODES, max_rss_mb=None):
    """What is wrong with a run under the error contract of DESIGN.md: it ended by itself, in
    time, with an allowed exit code, with no sanitizer report, and a failure printed exactly one
    line, `tarn: error: ...`, on stderr. Returns a list of problems (empty = fine)."""
    problems = []
    if r.timed_out:
        problems.append(f'timed out after {r.seconds:.0f} s')
    elif r.signal:
        problems.append(f'crashed: killed by signal {signal.Signals(r.signal).name}')
    san = [m for m in SANITIZER_MARKERS if m in r.stderr]
    if san:
        line = next((l for l in r.stderr.splitlines() if any(m in l for m in san)), '')
        problems.append(f'sanitizer report: {line.strip()[:300]}')
    if not r.timed_out and not r.signal and r.rc not in allowed:
        problems.append(f'exit code {r.rc} (allowed: {", ".join(map(str, allowed))})')
    if not r.timed_out and not r.signal and r.rc != 0 and not san:
        lines = r.stderr_lines()
        if len(lines) != 1 or not lines[0].startswith(ERROR_PREFIX):
            shown = ' | '.join(lines[:3])[:300] if lines else '(empty stderr)'
            problems.append(f'stderr is not one "{ERROR_PREFIX.strip()}" line: {shown}')
    if max_rss_mb is not None and r.maxrss_kb > max_rss_mb * 1024:
        problems.append(f'peak RSS {r.maxrss_kb // 1024} MB > {max_rss_mb} MB')
    return problems


def compare_rows(shared, expected, actual, ordered=False, columns=None, timeout=300):
    """Runs the shared compare_rows.py. Returns (equal, first lines of its report)."""
    cmd = [sys.executable, os.path.join(shared, 'tools', 'compare_rows.py'), expected, actual]
    if ordered:
        cmd.append('--ordered')
    if columns:
        cmd += ['--columns', ','.join(columns)]
    r = run(cmd, timeout, env=dict(os.environ))
    text = (r.stdout.decode('utf-8', 'replace') + r.stderr).strip()
    lines = text.splitlines()
    if r.rc == 0:
        return True, lines[-1] if lines else ''
    summary = next((l for l in lines if l.startswith('MISMATCH') or l.startswith('row count')), '')
    detail = ' / '.join(l.strip()[:240] for l in lines[:5])
    return False, (summary + ' :: ' if summary else '') + detail


def write_jsonl(path, rows):
    import json
    with open(path, 'w', encoding='utf-8') as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + '\n')


class Tally:
    """Counts results and prints one line per check: PASS, FAIL (with the reason) or SKIP.
    Skipped checks are counted apart and never as passed."""

    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.failures = []

    def result(self, name, problems, note=''):
        if problems:
            self.fail(name, '; '.join(problems))
        else:
            self.ok(name, note)

    def ok(self, name, note=''):
        self.passed += 1
        print(f'PASS {name}' + (f'  ({note})' if note else ''), flush=True)

    def fail(self, name, reason):
        self.failed += 1
        self.failures.append(name)
        print(f'FAIL {name}: {reason}', flush=True)

    def skip(self, name, reason):
        self.skipped += 1
        print(f'SKIP {name}: {reason}', flush=True)

    def finish(self):
        if self.failures:
            print(f'failed ({len(self.failures)}): ' + ', '.join(self.failures[:40]) +
                  (' ...' if len(self.failures) > 40 else ''))
        line = f'{self.passed} passed, {self.failed} failed'
        if self.skipped:
            line += f', {self.skipped} skipped'
        print(line, flush=True)
        return 1 if self.failed else 0


def require_tarn(tarn, tally):
    """Fails (never skips) when the command under test does not exist."""
    if os.path.isfile(tarn) and os.access(tarn, os.X_OK):
        return True
    tally.fail('tarn command', f'{tarn} does not exist or is not executable (build it first)')
    return False


def require_shared(shared, tally, *subdirs):
    missing = [d for d in subdirs if not os.path.isdir(os.path.join(shared, d))]
    if missing:
        tally.fail('shared test data', f'missing under {shared}: {", ".join(missing)} '
                   '(set TARN_SHARED to the shared directory)')
        return False
    return True


def rel(shared, path):
    return os.path.relpath(path, os.path.join(shared, 'testdata'))


def help_text(tarn):
    """Help texts of `tarn --help` and `tarn cat --help` (stdout and stderr together)."""
    text = ''
    for argv in ([tarn, '--help'], [tarn, 'cat', '--help']):
        r = run(argv, 30)
        text += r.stdout.decode('utf-8', 'replace') + r.stderr
    return text


def skip_crc_option(tarn):
    """The option of `tarn cat` that turns page CRC verification off, if the help mentions one."""
    m = re.search(r'--(?:skip|no|ignore|disable)[-_]?(?:page[-_])?(?:crc|checksums?)[\w-]*',
                  help_text(tarn))
    return m.group(0) if m else None


def parallel_map(fn, items, jobs):
    """fn over items with `jobs` threads (each call mostly waits on a child process); results in
    input order."""
    if jobs <= 1:
        return [fn(x) for x in items]
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(max_workers=jobs) as ex:
        return list(ex.map(fn, items))


def oracle(shared, tally):
    """Installs (if needed) and locates the DuckDB oracle. Returns (node, ORACLE_DIR) or None
    after recording a failure: a missing oracle fails the test, it never skips it."""
    import shutil
    node = shutil.which('node')
    npm = shutil.which('npm')
    if not node or not npm:
        tally.fail('oracle', 'node/npm not found: install them with scripts/install-deps.sh test '
                   '(make test does)')
        return None
    env = dict(os.environ)
    r = run(['sh', os.path.join(shared, 'tools', 'oracle-setup.sh')], 600, env=env)
    lines = r.stdout.decode().strip().splitlines()
    if r.rc != 0 or not lines:
        tally.fail('oracle', f'oracle-setup.sh failed ({r.describe()}) {r.stderr.strip()[:300]}')
        return None
    return node, lines[-1]


def duckdb(shared, node_oracle, args, stdout_path=None, timeout=600):
    """Runs shared/tools/duckdb_canonical.mjs with args; returns the Run."""
    node, oracle_dir = node_oracle
    env = dict(os.environ, ORACLE_DIR=oracle_dir)
    return run([node, os.path.join(shared, 'tools', 'duckdb_canonical.mjs'), *args], timeout,
               stdout_path=stdout_path, env=env)
