#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The one judge of pflash's test runs.

Every suite reports through it: the kselftests' VMs, the guest payloads
of the other VMs (systemd, two VMs, durability, soak), the host's own
tests and the static checks.  It owns the results file of a run (one line
per result: "STATUS<TAB>WHERE<TAB>TEXT", STATUS pass, fail or skip), reads
TAP and KTAP, scans kernel logs for splats, and closes a run with

    N passed, N failed, N skipped

  judge.py record STATUS WHERE TEXT
      Record one result (RESULTS names the results file) and print it.
  judge.py tap WHERE FILE
      Record the results of a TAP stream (FILE, - for standard input);
      missing results are failures.
  judge.py vm [--kernel-log] WHERE OUTDIR
      Judge one VM as tools/boot/run.sh left it in OUTDIR: QEMU's exit
      status (qemu.rc), its clean power-off, its TAP (tap.log) and its
      kernel log (console.log).  --kernel-log judges the kernel log alone,
      of VMs killed on purpose.  Exits 1 if anything failed.
  judge.py summary RESULTS [RESULTS...]
      Print the failures and the closing line of a run; exits 1 if
      anything failed or nothing ran.  Given the results of several runs
      of the same build (make check REPEAT=N), it also lists every result
      that failed in some runs and passed in others, with the seeds its
      failures printed: the flakes.

The TAP of tools/testing/selftests' runner (run_kselftest.sh) nests each
program's own TAP under "# ":

    TAP version 13
    1..2                                  the runner's plan: test programs
    # selftests: pflash: pflash_io_test   a program starts
    # 1..5                                its own plan
    # #  RUN           dev.bs512.erase ... (kselftest_harness.h)
    # ok 1 dev.bs512.erase                its results, nested
    # ok 2 # SKIP no backing file         (6.1's harness names no test here)
    ok 1 selftests: pflash: pflash_io_test      the runner's result
    not ok 2 selftests: pflash: x # TIMEOUT 300 seconds

A plain TAP stream (a guest payload's) has its results at the top level.
A result is a failure if it says "not ok"; a pass if it says "ok", or a
skip if it has a SKIP directive.  A SKIP without a reason is a failure: a
skip says what the machine lacks.
"""
import argparse
import os
import re
import sys

# Kernel log lines that mean something went wrong (case sensitive:
# "WARNING:" is a WARN_ON, "Warning:" ordinary chatter).
SPLATS = [
    r'\bBUG:',                    # BUG: KASAN/KFENCE/..., NULL deref, ...
    r'kernel BUG at',
    r'\bWARNING:',                # WARN_ON(), lockdep's reports
    r'\bOops\b',
    r'general protection',
    r'\bKASAN\b',
    r'\bKFENCE\b',
    r'\bUBSAN\b',
    r'possible circular locking',
    r'possible recursive locking',
    r'inconsistent lock state',
    r'\bINFO: ',                  # possible ..., hung tasks, RCU stalls
    r'blocked for more than',
    r'sleeping function called from invalid context',
    r'unreferenced object',       # kmemleak
    r'suspected memory leak',
    r'list_(add|del) corruption',
    r'Call Trace',
    r'[Kk]ernel panic',
    r'Unable to handle',
]
SPLAT_RE = re.compile('|'.join(SPLATS))
# An injected allocation failure's report follows the injection closely.
INJECTED_RE = re.compile(r'FAULT_INJECTION: forcing a failure')
ALLOC_FAIL_RE = re.compile(r'page allocation failure:|vmalloc error:|allocation failure:')
RESULT_RE = re.compile(r'^(not ok|ok)\b\s*(\d*)\s*(.*)$')
PLAN_RE = re.compile(r'^1\.\.(\d+)')
DIRECTIVE_RE = re.compile(r'(?:^|\s)#\s*([A-Za-z]+)\b\s*(.*)$')
SEED_RE = re.compile(r'\b([A-Z][A-Z0-9_]*SEED)=(\d+)')
STATUSES = ('pass', 'fail', 'skip')


class Result:
    """One result: its status, and its text without the number."""

    def __init__(self, status, num, text, directive=''):
        self.status, self.num, self.text = status, num, text
        self.directive = directive

    def line(self, prog=None):
        head = '%s ' % self.num if self.num else ''
        body = '%s: %s' % (prog, self.text) if prog else self.text
        return head + body + (' ' + self.directive if self.directive else '')


def parse_result(line, fallback='', skip_why=''):
    """A TAP result line ("ok 3 - text # SKIP why") as a Result, or None.

    A SKIP that gives no reason takes @skip_why, if any: the reason its
    program gave in its plan ("1..0 # SKIP why"), which the kselftest
    runner does not repeat.
    """
    m = RESULT_RE.match(line)
    if not m:
        return None
    status = 'fail' if m.group(1) == 'not ok' else 'pass'
    rest = m.group(3)
    rest = re.sub(r'^-\s*', '', rest)
    directive = ''
    d = DIRECTIVE_RE.search(rest)
    if d:
        word, why = d.group(1).upper(), d.group(2).strip()
        directive = rest[d.start():].strip()
        rest = rest[:d.start()].strip()
        if word == 'SKIP' and not why and skip_why:
            why = skip_why
            directive += ' ' + why
        if word == 'SKIP' and status == 'pass':
            status = 'skip' if why else 'fail'
            if not why:
                directive += ' (a skip must say why)'
    return Result(status, m.group(2), rest or fallback, directive)


class Program:
    """A test program of the runner, as its nested TAP tells it."""

    def __init__(self, name):
        self.name, self.plan, self.results = name, None, []
        self.last_run, self.seeds, self.skip_why = '', {}, ''


def parse_tap(lines):
    """The results of a TAP stream, as a list of (status, text).

    Missing results are failures: a program that planned more than it
    printed, a program that never finished, programs that never started,
    a stream with no plan.  So are results beyond a plan, a program's or
    the stream's own, as TAP has it: the plan no longer says what is
    tested.
    """
    out = []
    plan, top, prog = None, 0, None
    # Seeds a plain stream printed at its top level, for its failures.
    top_seeds = Program('')

    def close(p):
        if p.plan is not None and p.plan > len(p.results):
            missing = p.plan - len(p.results)
            out.append(('fail', '%s: %d of its %d results missing%s' %
                        (p.name, missing, p.plan, seeds_of(p))))
        elif p.plan is not None and p.plan < len(p.results):
            out.append(('fail', '%s: %d results, beyond its plan of %d' %
                        (p.name, len(p.results), p.plan)))

    for raw in lines:
        line = raw.rstrip('\r\n')
        if line.startswith('TAP version') or line.startswith('KTAP version'):
            continue
        m = PLAN_RE.match(line)
        if m:
            plan = int(m.group(1))
            continue
        if line.startswith('# selftests: '):
            if prog:
                close(prog)
                out.append(('fail', '%s: never finished%s' % (prog.name, seeds_of(prog))))
            prog = Program(line.rsplit(': ', 1)[-1])
            continue
        if prog and line.startswith('# '):
            inner = line[2:]
            for name, value in SEED_RE.findall(inner):
                prog.seeds[name] = value
            m = PLAN_RE.match(inner)
            if m:
                prog.plan = int(m.group(1))
                d = DIRECTIVE_RE.search(inner)
                if d and d.group(1).upper() == 'SKIP':
                    prog.skip_why = d.group(2).strip()
                continue
            if inner.startswith('#  RUN '):
                prog.last_run = inner.split()[2] if len(inner.split()) > 2 else ''
                continue
            r = parse_result(inner, prog.last_run)
            if r:
                prog.results.append(r)
                text = r.line(prog.name)
                if r.status == 'fail':
                    text += seeds_of(prog)
                out.append((r.status, text))
            continue
        r = parse_result(line, skip_why=prog.skip_why if prog else '')
        if r:
            text = r.line()
            if prog:
                close(prog)
                if r.status == 'fail':
                    text += seeds_of(prog)
                prog = None
            elif r.status == 'fail':
                text += seeds_of(top_seeds)
            out.append((r.status, text))
            top += 1
        elif not prog and line.startswith('#'):
            for name, value in SEED_RE.findall(line):
                top_seeds.seeds[name] = value
    if prog:
        close(prog)
        out.append(('fail', '%s: never finished%s' % (prog.name, seeds_of(prog))))
        top += 1
    if plan is None:
        out.append(('fail', 'tap: no plan (1..N): the runner never started'))
    elif plan == 0:
        out.append(('fail', 'tap: no tests (1..0)'))
    elif top < plan:
        out.append(('fail', 'tap: %d of %d planned results never came' % (plan - top, plan)))
    elif top > plan:
        out.append(('fail', 'tap: %d results, beyond the plan of %d' % (top, plan)))
    return out


TOOK_RE = re.compile(r'^# pflash-took (\S+) ([0-9.]+)')


def write_times(lines, path):
    """How long each program took, as the guest said, slowest first."""
    took = []
    for line in lines:
        m = TOOK_RE.match(line.rstrip('\r\n'))
        if m:
            took.append((float(m.group(2)), m.group(1)))
    if took:
        with open(path, 'w') as f:
            for secs, name in sorted(took, reverse=True):
                f.write('%8.1f %s\n' % (secs, name))


def seeds_of(prog):
    """The seeds a program printed, to replay its failure with."""
    if not prog.seeds:
        return ''
    return ' [%s]' % ' '.join('%s=%s' % kv for kv in sorted(prog.seeds.items()))


def splats(console_lines):
    """The kernel log's splat lines, as (line number, text).

    An allocation failure's report right after "FAULT_INJECTION: forcing
    a failure" (fault injection, on the debug kernel) is expected, up to
    the end of its stack trace.
    """
    found, injected, exempt = [], None, False
    for n, raw in enumerate(console_lines, 1):
        line = raw.rstrip('\r\n')
        if INJECTED_RE.search(line):
            injected = n
        if injected and n - injected <= 4 and ALLOC_FAIL_RE.search(line):
            exempt = True
        if exempt:
            if '</TASK>' in line:
                exempt = False
            continue
        if SPLAT_RE.search(line):
            found.append((n, line))
    return found


# --- the results file -------------------------------------------------------

def record(status, where, text, out=None):
    """Record a result in $RESULTS and print it, TAP-like."""
    out = out or sys.stdout
    if status not in STATUSES:
        raise SystemExit('judge: bad status %r' % status)
    text = ' '.join(text.split('\t'))
    path = os.environ.get('RESULTS')
    if not path:
        raise SystemExit('judge: RESULTS must name the results file')
    with open(path, 'a') as f:
        f.write('%s\t%s\t%s\n' % (status, where, text))
    out.write('[%s] %s %s\n' % (where, 'not ok' if status == 'fail' else 'ok', text))
    out.flush()
    return status != 'fail'


def read_lines(path):
    try:
        with open(path, errors='replace') as f:
            return f.readlines()
    except OSError:
        return None


def judge_vm(where, outdir, kernel_log_only=False):
    """Judge one VM's run; True if everything passed or was skipped."""
    ok = True
    console_path = os.path.join(outdir, 'console.log')
    console = read_lines(console_path) or []

    def rec(status, text):
        nonlocal ok
        ok = record(status, where, text) and ok

    if not kernel_log_only:
        rc = (read_lines(os.path.join(outdir, 'qemu.rc')) or ['missing'])[0].strip()
        secs = (read_lines(os.path.join(outdir, 'seconds')) or ['?'])[0].strip()
        if rc == '124':
            rec('fail', 'vm: timed out after %s s and was killed' % secs)
        elif rc != '0':
            rec('fail', 'vm: QEMU exited with status %s' % rc)
        elif not any(l.startswith('pflash-vm: powering off') for l in console):
            rec('fail', 'vm: did not reach its clean power-off')
        else:
            rec('pass', 'vm: booted, ran and powered off in %s s' % secs)
        if any(l.startswith('pflash-vm: modprobe pflash failed') for l in console):
            rec('fail', 'vm: modprobe pflash failed')
        tap = read_lines(os.path.join(outdir, 'tap.log'))
        if not tap:
            rec('fail', 'tap: no TAP output at all')
        else:
            for status, text in parse_tap(tap):
                rec(status, text)
            write_times(tap, os.path.join(outdir, 'times.txt'))

    if not console:
        rec('fail', 'kernel log: empty')
    else:
        found = splats(console)
        if found:
            rec('fail', 'kernel log: %d line(s) report a kernel problem, first:' % len(found))
            for n, line in found[:12]:
                print('[%s]     console.log:%d:%s' % (where, n, line))
        else:
            rec('pass', 'kernel log: no splats')
    if not ok:
        print('[%s] logs: %s' % (where, console_path))
        print('[%s]       %s' % (where, os.path.join(outdir, 'tap.log')))
    return ok


# --- closing a run ------------------------------------------------------------

def read_results(path):
    rows = []
    for line in read_lines(path) or []:
        parts = line.rstrip('\n').split('\t', 2)
        if len(parts) == 3 and parts[0] in STATUSES:
            rows.append(tuple(parts))
    return rows


def identity(where, text):
    """What names a result across runs: its text without its figures."""
    text = re.sub(r'\s*\[[A-Z0-9_]*SEED=.*\]$', '', text)
    return where, re.sub(r'\d+(\.\d+)?', '#', text)


def flakes(runs):
    """Results that failed in some runs and passed in others.

    Returns a list of (where, text, failed, of, seeds), one per result
    identity that failed at least once, where the results differ between
    runs or failed in every run.
    """
    seen = {}
    for i, rows in enumerate(runs):
        for status, where, text in rows:
            key = identity(where, text)
            entry = seen.setdefault(key, {'fail': [], 'pass': 0, 'text': text})
            if status == 'fail':
                entry['fail'].append((i + 1, text))
            else:
                entry['pass'] += 1
    out = []
    for (where, _), e in sorted(seen.items()):
        if e['fail']:
            seeds = sorted({s for _, t in e['fail'] for s in SEED_RE.findall(t)})
            out.append((where, e['fail'][0][1], [r for r, _ in e['fail']],
                        len(runs), ['%s=%s' % s for s in seeds]))
    return out


def summary(paths, out=None):
    out = out or sys.stdout
    runs = [read_results(p) for p in paths]
    rows = [r for run in runs for r in run]
    count = {s: sum(1 for r in rows if r[0] == s) for s in STATUSES}
    if count['fail']:
        out.write('\nFailed:\n')
        for status, where, text in rows:
            if status == 'fail':
                out.write('  [%s] not ok %s\n' % (where, text))
        out.write('Logs of this run: %s\n' % os.path.dirname(os.path.abspath(paths[-1])))
    if len(runs) > 1:
        found = flakes(runs)
        out.write('\nAcross %d runs of the same build, %d result(s) ever failed%s\n' %
                  (len(runs), len(found), ':' if found else '.'))
        for where, text, failed, of, seeds in found:
            kind = 'every run' if len(failed) == of else \
                'intermittent: runs %s of %d' % (','.join(map(str, failed)), of)
            out.write('  [%s] %s (%s)%s\n' % (where, text, kind,
                                              ' seeds: ' + ' '.join(seeds) if seeds else ''))
    out.write('%d passed, %d failed, %d skipped\n' % (count['pass'], count['fail'], count['skip']))
    return count['fail'] == 0 and count['pass'] > 0


def main(argv):
    ap = argparse.ArgumentParser(description='The judge of pflash test runs.')
    sub = ap.add_subparsers(dest='cmd', required=True)
    p = sub.add_parser('record')
    p.add_argument('status', choices=STATUSES)
    p.add_argument('where')
    p.add_argument('text')
    p = sub.add_parser('tap')
    p.add_argument('where')
    p.add_argument('file')
    p = sub.add_parser('vm')
    p.add_argument('--kernel-log', action='store_true')
    p.add_argument('where')
    p.add_argument('outdir')
    p = sub.add_parser('summary')
    p.add_argument('results', nargs='+')
    args = ap.parse_args(argv)

    if args.cmd == 'record':
        record(args.status, args.where, args.text)
        return 0
    if args.cmd == 'tap':
        lines = sys.stdin.readlines() if args.file == '-' else read_lines(args.file)
        ok = True
        for status, text in parse_tap(lines or []):
            ok = record(status, args.where, text) and ok
        return 0 if ok else 1
    if args.cmd == 'vm':
        return 0 if judge_vm(args.where, args.outdir, args.kernel_log) else 1
    return 0 if summary(args.results) else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
