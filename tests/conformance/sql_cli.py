#!/usr/bin/env python3
"""Behaviour of `tarn sql`: -c, scripts on stdin and in files, output formats, exit codes, and the
interactive shell driven through a pseudo-terminal.

The queries are trivial (`SELECT 1 AS a, 'x' AS b`, a VALUES list with named columns) so that
every expected output is written here by hand from the SQL and the output formats of
../shared/CANONICAL.md (jsonl), RFC 4180 (csv) and the aligned table of `tarn cat`; none is taken
from tarn. The error contract is DESIGN.md's: one `tarn: error: ` line on stderr, exit 1 for a
bad query and 2 for bad usage. docs/internals/sql-shell.md describes the behaviour tested.

usage: sql_cli.py [--tarn build/tarn] [--shared ../shared] [--keep]
Ends with `N passed, N failed`; exits 1 if any failed.
"""
import os
import pty
import re
import select
import shutil
import signal
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tarnrun  # noqa: E402

T = 60  # seconds per command (generous: the default run is under ASan)

ONE_ROW = "SELECT 1 AS a, 'x' AS b"
ONE_ROW_JSONL = '{"a":1,"b":"x"}\n'
ONE_ROW_CSV = 'a,b\n1,x\n'
ONE_ROW_TABLE = ('+---+---+\n'
                 '| a | b |\n'
                 '+---+---+\n'
                 '| 1 | x |\n'
                 '+---+---+\n'
                 '(1 row)\n')
VALUES = "SELECT * FROM (VALUES (1, 'p'), (2, NULL)) AS t(n, s) ORDER BY n"
VALUES_JSONL = '{"n":1,"s":"p"}\n{"n":2,"s":null}\n'
VALUES_CSV = 'n,s\n1,p\n2,\n'  # a null is an empty field
VALUES_TABLE = ('+---+------+\n'
                '| n | s    |\n'
                '+---+------+\n'
                '| 1 | p    |\n'
                '| 2 | NULL |\n'
                '+---+------+\n'
                '(2 rows)\n')


class SqlCli:
    def __init__(self, args, tally, scratch):
        self.tarn, self.tally, self.scratch = args.tarn, tally, scratch

    def run(self, *argv, stdin_data=None):
        return tarnrun.run([self.tarn, 'sql', *argv], T, stdin_data=stdin_data)

    def expect_output(self, name, r, want, allowed=(0,), stderr_has=()):
        """The run obeys the contract, ends with an allowed exit code and prints exactly want."""
        problems = tarnrun.contract_problems(r, allowed=allowed)
        got = r.stdout.decode('utf-8', 'replace')
        if not problems and got != want:
            problems.append(f'stdout {got!r}, expected {want!r}')
        for text in stderr_has:
            if text not in r.stderr:
                problems.append(f'stderr does not mention {text!r}: {r.stderr.strip()[:200]!r}')
        self.tally.result(name, problems)

    # ---- -c ----
    def commands(self):
        self.expect_output('-c, jsonl: one row, canonical', self.run('--format', 'jsonl', '-c', ONE_ROW),
                           ONE_ROW_JSONL)
        self.expect_output('-c, csv: header and row', self.run('--format', 'csv', '-c', ONE_ROW),
                           ONE_ROW_CSV)
        self.expect_output('-c, table (the default): aligned, row count', self.run('-c', ONE_ROW),
                           ONE_ROW_TABLE)
        self.expect_output('-c, --format table', self.run('-c', ONE_ROW, '--format', 'table'),
                           ONE_ROW_TABLE)
        self.expect_output('-c VALUES with a NULL, jsonl', self.run('--format', 'jsonl', '-c', VALUES),
                           VALUES_JSONL)
        self.expect_output('-c VALUES with a NULL, csv', self.run('--format', 'csv', '-c', VALUES),
                           VALUES_CSV)
        self.expect_output('-c VALUES with a NULL, table', self.run('-c', VALUES), VALUES_TABLE)
        # several statements in one -c, and several -c: every result set, in order
        self.expect_output('-c with two statements: both result sets in order, jsonl',
                           self.run('--format', 'jsonl', '-c', 'SELECT 1 AS a; SELECT 2 AS b;'),
                           '{"a":1}\n{"b":2}\n')
        self.expect_output('two -c options: run in order, jsonl',
                           self.run('--format', 'jsonl', '-c', 'SELECT 2 AS b', '-c', ONE_ROW),
                           '{"b":2}\n' + ONE_ROW_JSONL)
        self.expect_output('two statements, csv: a header for each result set',
                           self.run('--format', 'csv', '-c', f'{ONE_ROW}; {VALUES}'),
                           ONE_ROW_CSV + VALUES_CSV)
        self.expect_output('two statements, table: tables separated by a blank line',
                           self.run('-c', f'{ONE_ROW};\n{VALUES}'), ONE_ROW_TABLE + '\n' + VALUES_TABLE)
        # ';' inside quotes and comments does not end a statement
        self.expect_output("-c: ';' inside a string, a comment and a dollar-quoted string",
                           self.run('--format', 'jsonl', '-c',
                                    "SELECT 'a;b' AS s; /* ; */ SELECT $$c;d$$ AS t; -- e;"),
                           '{"s":"a;b"}\n{"t":"c;d"}\n')
        self.expect_output('-c: empty statements and a trailing comment are skipped',
                           self.run('--format', 'jsonl', '-c', ';; SELECT 1 AS a;; -- done'),
                           '{"a":1}\n')

    # ---- status lines (statements without rows) ----
    def status_lines(self):
        out = os.path.join(self.scratch, 'copy.parquet')
        copy = f"COPY (SELECT 1 AS a) TO '{out}'"
        r = self.run('-c', copy)
        if r.rc != 0 or tarnrun.contract_problems(r, allowed=(0,)):
            self.tally.skip('status lines', f'COPY ... TO is not available: {r.describe()}')
            return
        problems = []
        if not r.stdout.strip():
            problems.append('no status line on stdout in the table format')
        self.tally.result('table format: the status line of COPY on stdout', problems,
                          r.stdout.decode().strip())
        for fmt in ('jsonl', 'csv'):
            r = self.run('--format', fmt, '-c', copy, '-c', 'SELECT 1 AS a')
            want = '{"a":1}\n' if fmt == 'jsonl' else 'a\n1\n'
            self.expect_output(f'{fmt}: stdout holds only rows, the status line goes to stderr', r,
                               want, stderr_has=('COPY',))

    # ---- errors ----
    def errors(self):
        r = self.run('-c', 'SELEC 1')
        problems = tarnrun.contract_problems(r, allowed=(1,))
        if not problems:
            if 'syntax' not in r.stderr.lower():
                problems.append(f'error line does not say "syntax": {r.stderr.strip()!r}')
            if r.stdout:
                problems.append(f'printed to stdout: {r.stdout[:100]!r}')
        self.tally.result('syntax error -> exit 1, one error line', problems,
                          (r.stderr_lines() or [''])[0])
        # the first error stops the run; what ran before it was printed
        r = self.run('--format', 'jsonl', '-c', 'SELECT 1 AS a; SELEC 2; SELECT 3 AS c')
        self.expect_output('-c: the first error stops, earlier results printed, exit 1', r,
                           '{"a":1}\n', allowed=(1,), stderr_has=('statement 2',))
        r = self.run('--format', 'jsonl', '-c', 'SELECT 1 AS a', '-c', 'SELEC 2', '-c', 'SELECT 3 AS c')
        self.expect_output('several -c: the first error stops, exit 1', r, '{"a":1}\n',
                           allowed=(1,))
        r = self.run('-c', 'SELECT * FROM no_such_table_anywhere')
        problems = tarnrun.contract_problems(r, allowed=(1,))
        if not problems and 'no_such_table_anywhere' not in r.stderr:
            problems.append(f'error does not name the table: {r.stderr.strip()!r}')
        self.tally.result('unknown table -> exit 1 naming it', problems, r.stderr.strip())

    def usage(self):
        script = os.path.join(self.scratch, 'u.sql')
        with open(script, 'w') as f:
            f.write('SELECT 1;\n')
        cases = [
            ('unknown option', ['--no-such-option']),
            ('unknown format', ['--format', 'xml', '-c', ONE_ROW]),
            ('--format without a value', ['-c', ONE_ROW, '--format']),
            ('-c without a value', ['-c']),
            ('--threads not a number', ['--threads', 'many', '-c', ONE_ROW]),
            ('--memory-limit not a size', ['--memory-limit', '12XB', '-c', ONE_ROW]),
            ('--memory-limit without digits', ['--memory-limit', 'GB', '-c', ONE_ROW]),
            ('-c and FILE.sql together', ['-c', ONE_ROW, script]),
            ('two files', [script, script]),
        ]
        for name, argv in cases:
            r = self.run(*argv)
            problems = tarnrun.contract_problems(r, allowed=(2,))
            self.tally.result(f'usage: {name} -> exit 2', problems, (r.stderr_lines() or [''])[0][:120])
        r = tarnrun.run([self.tarn, 'sql', '--help'], T)
        problems = tarnrun.contract_problems(r, allowed=(0,))
        text = r.stdout.decode('utf-8', 'replace')
        for opt in ('-c', '-w', '--format', '--threads', '--memory-limit'):
            if opt not in text:
                problems.append(f'help does not mention {opt}')
        self.tally.result('tarn sql --help: exit 0, lists the options', problems)
        r = tarnrun.run([self.tarn, '--help'], T)
        problems = [] if 'sql' in r.stdout.decode('utf-8', 'replace') else ['no "sql" in tarn --help']
        self.tally.result('tarn --help mentions sql', problems)
        self.expect_output('--threads and --memory-limit accepted',
                           self.run('--threads', '2', '--memory-limit', '512MB', '--format', 'jsonl',
                                    '-c', ONE_ROW), ONE_ROW_JSONL)
        warehouse = os.path.join(self.scratch, 'empty-warehouse')
        os.mkdir(warehouse)
        self.expect_output('-w with an empty warehouse directory',
                           self.run('-w', warehouse, '--format', 'jsonl', '-c', ONE_ROW),
                           ONE_ROW_JSONL)

    # ---- scripts: piped stdin and FILE.sql ----
    SCRIPT = ("-- a script\n"
              "SELECT 1 AS a,\n"
              "       'x' AS b;\n"
              "\n"
              "/* two statements\n"
              "   on one line */ SELECT 'a;b' AS s; SELECT $$c\n"
              "d$$ AS t;\n"
              "SELECT 2 AS n -- the last statement needs no ';'\n")
    SCRIPT_JSONL = ONE_ROW_JSONL + '{"s":"a;b"}\n{"t":"c\\nd"}\n{"n":2}\n'
    BAD_SCRIPT = "SELECT 1 AS a;\n\nSELEC 2;\nSELECT 3 AS c;\n"

    def scripts(self):
        self.expect_output('piped script: multi-line statements, comments, quotes',
                           self.run('--format', 'jsonl', stdin_data=self.SCRIPT.encode()),
                           self.SCRIPT_JSONL)
        self.expect_output('piped script, table format',
                           self.run(stdin_data=f'{ONE_ROW};\n{VALUES};\n'.encode()),
                           ONE_ROW_TABLE + '\n' + VALUES_TABLE)
        self.expect_output('piped script: stops at the first error with exit 1 naming its line',
                           self.run('--format', 'jsonl', stdin_data=self.BAD_SCRIPT.encode()),
                           '{"a":1}\n', allowed=(1,), stderr_has=(':3:',))
        path = os.path.join(self.scratch, 'script.sql')
        with open(path, 'w') as f:
            f.write(self.SCRIPT)
        self.expect_output('FILE.sql', self.run('--format', 'jsonl', path), self.SCRIPT_JSONL)
        bad = os.path.join(self.scratch, 'bad.sql')
        with open(bad, 'w') as f:
            f.write(self.BAD_SCRIPT)
        self.expect_output('FILE.sql: stops at the first error, naming file and line',
                           self.run('--format', 'jsonl', bad), '{"a":1}\n', allowed=(1,),
                           stderr_has=('bad.sql:3:',))
        missing = os.path.join(self.scratch, 'missing.sql')
        r = self.run(missing)
        problems = tarnrun.contract_problems(r, allowed=(5,))
        if not problems and missing not in r.stderr:
            problems.append(f'error does not name the file: {r.stderr.strip()!r}')
        self.tally.result('missing FILE.sql -> exit 5 naming it', problems)
        self.expect_output('backslash commands in a script (\\format, \\q)',
                           self.run(stdin_data=f'\\format jsonl\n{ONE_ROW};\n\\q\nSELEC;\n'.encode()),
                           ONE_ROW_JSONL)
        self.expect_output('an empty script', self.run(stdin_data=b'-- nothing\n\n'), '')
        empty = os.path.join(self.scratch, 'warehouse')
        os.mkdir(empty)
        self.expect_output('\\d of an empty warehouse, csv: the header only',
                           self.run('-w', empty, '--format', 'csv', stdin_data=b'\\d\n'), 'name\n')
        self.expect_output('\\d of an empty warehouse, table: no rows',
                           self.run('-w', empty, stdin_data=b'\\d\n'),
                           '+------+\n| name |\n+------+\n(0 rows)\n')

    # ---- the interactive shell ----
    def interactive(self):
        history = os.path.join(self.scratch, 'history')
        s = Pty(self.tarn, ['sql'], dict(TARN_HISTORY=history, HOME=self.scratch))
        problems = []
        try:
            s.expect(r'tarn> ', 'the first prompt')
            s.send('SELECT 1 AS a,\n')
            s.expect(r'   -> ', 'the continuation prompt after an unfinished statement')
            s.send("'x' AS b;\n")
            s.expect(re.escape(ONE_ROW_TABLE.replace('\n', '\r\n')) + r'tarn> ',
                     'the multi-line statement\'s table, then the prompt')
            s.send('\\timing on\n')
            s.expect(r'Timing is on\.\r\ntarn> ', '\\timing on')
            s.send('SELECT 2 AS c;\n')
            s.expect(r'\| 2 \|.*\(1 row\)\r\nTime: \d+\.\d{3} ms\r\ntarn> ', 'Time: after a statement')
            s.send('\\timing off\n')
            s.expect(r'Timing is off\.\r\ntarn> ', '\\timing off')
            s.send('SELEC 1;\n')
            s.expect(r'tarn: error: [^\r\n]*\r\ntarn> ', 'an error line, then the shell goes on')
            s.send('\\format jsonl\n')
            s.expect(r'tarn> ', 'the prompt after \\format')
            s.send(ONE_ROW + '; SELECT 3 AS d;\n')
            s.expect(re.escape('{"a":1,"b":"x"}\r\n{"d":3}\r\ntarn> '), 'two statements on one line, jsonl')
            s.send("SELECT 'é€' AS u;\n")
            s.expect(re.escape('{"u":"é€"}\r\ntarn> '), 'non-ASCII text typed at the prompt')
            s.send('\\?\n')
            s.expect(r'\\timing.*tarn> ', 'help lists the commands')
            s.send('\\q\n')
            rc = s.wait()
            if rc != 0:
                problems.append(f'\\q: exit {rc}')
        except PtyError as e:
            problems.append(str(e))
        finally:
            s.close()
        problems += s.sanitizer_problems()
        self.tally.result('interactive: prompts, multi-line statement, \\timing, error, \\format, '
                          'non-ASCII input, \\q',
                          problems)

        problems = []
        try:
            text = open(history, encoding='utf-8', errors='replace').read()
            # libedit stores lines encoded with strvis (a space is \040)
            if 'SELECT' not in text or 'AS' not in text:
                problems.append(f'history file lacks the statements: {text[:200]!r}')
        except OSError as e:
            problems.append(f'no history file at $TARN_HISTORY: {e}')
        self.tally.result('interactive: history written to $TARN_HISTORY', problems)

        # Ctrl-C drops the unfinished statement; Ctrl-D at the prompt ends the shell with exit 0.
        env = dict(TARN_HISTORY=history)
        s = Pty(self.tarn, ['sql'], env)
        problems = []
        try:
            s.expect(r'tarn> ', 'the first prompt')
            s.send('SELECT 1 AS a,\n')
            s.expect(r'   -> ', 'the continuation prompt')
            s.send('\x03')
            s.expect(r'tarn> ', 'the first prompt again after Ctrl-C')
            s.send('SELECT 5 AS e;\n')
            s.expect(r'\| e \|.*\| 5 \|.*tarn> ', 'a statement after Ctrl-C')
            s.send('\x04')
            rc = s.wait()
            if rc != 0:
                problems.append(f'Ctrl-D: exit {rc}')
        except PtyError as e:
            problems.append(str(e))
        finally:
            s.close()
        problems += s.sanitizer_problems()
        self.tally.result('interactive: Ctrl-C discards the statement, Ctrl-D exits 0', problems)

        # no HOME and no TARN_HISTORY: no history file, no failure
        s = Pty(self.tarn, ['sql'], dict(HOME=None, TARN_HISTORY=None))
        problems = []
        try:
            s.expect(r'tarn> ', 'the first prompt')
            s.send(ONE_ROW + ';\n')
            s.expect(r'\| 1 \| x \|.*tarn> ', 'a statement')
            s.send('\\q\n')
            rc = s.wait()
            if rc != 0:
                problems.append(f'exit {rc}')
        except PtyError as e:
            problems.append(str(e))
        finally:
            s.close()
        problems += s.sanitizer_problems()
        self.tally.result('interactive without HOME: runs, no failure', problems)


class PtyError(Exception):
    pass


class Pty:
    """tarn running on a pseudo-terminal (stdin, stdout and stderr), read like `expect`."""

    def __init__(self, tarn, argv, env_changes, timeout=T):
        env = tarnrun.child_env(dict(TERM='dumb'))
        for k, v in env_changes.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        self.timeout = timeout
        self.out = b''
        self.pos = 0  # where the next expect starts looking
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                os.execve(tarn, [tarn, *argv], env)
            finally:
                os._exit(127)
        self.status = None

    def _read(self, deadline):
        """Reads what is available until deadline; False at end of output."""
        wait = max(0.0, deadline - time.monotonic())
        r, _, _ = select.select([self.fd], [], [], min(wait, 0.2))
        if not r:
            return True
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            return False
        if not data:
            return False
        self.out += data
        return True

    def transcript(self):
        return self.out.decode('utf-8', 'replace')

    def expect(self, pattern, what):
        deadline = time.monotonic() + self.timeout
        rx = re.compile(pattern, re.S)
        while True:
            m = rx.search(self.transcript(), self.pos)
            if m:
                self.pos = m.end()
                return m
            if time.monotonic() > deadline or not self._read(deadline):
                tail = self.transcript()[self.pos:][-400:]
                raise PtyError(f'{what}: /{pattern}/ not found; output since the last match: {tail!r}')

    def send(self, text):
        # Let the line editor finish switching the terminal to raw mode after printing its prompt:
        # bytes typed in that instant can be dropped by the mode switch (a person never types
        # that fast), which made the test flaky on a loaded machine.
        time.sleep(0.3)
        os.write(self.fd, text.encode())

    def wait(self):
        """Reads to the end of output and returns the exit code (-signal if killed)."""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = status
                while self._read(time.monotonic() + 0.2):
                    pass
                return os.waitstatus_to_exitcode(status)
            if not self._read(deadline):
                time.sleep(0.05)
        raise PtyError(f'did not exit within {self.timeout} s; output: {self.transcript()[-300:]!r}')

    def close(self):
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                _, self.status = os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        try:
            os.close(self.fd)
        except OSError:
            pass

    def sanitizer_problems(self):
        text = self.transcript()
        found = [m for m in tarnrun.SANITIZER_MARKERS if m in text]
        return [f'sanitizer report: {found[0]}'] if found else []


def main():
    args = tarnrun.arg_parser(__doc__.splitlines()[0]).parse_args()
    tally = tarnrun.Tally()
    if not tarnrun.require_tarn(args.tarn, tally):
        return tally.finish()
    scratch = tempfile.mkdtemp(prefix='tarn-sql-cli-')
    try:
        t = SqlCli(args, tally, scratch)
        for part in (t.commands, t.status_lines, t.errors, t.usage, t.scripts, t.interactive):
            part()
    finally:
        if args.keep:
            print(f'kept {scratch}')
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return tally.finish()


if __name__ == '__main__':
    sys.exit(main())
