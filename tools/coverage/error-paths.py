#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Which error paths of pflash.ko the test suite reaches.

An error path is a statement in module/*.c that leaves a function because
something failed: a jump to an unwinding label (goto out_..., goto err...),
or a return of an errno, an ERR_PTR, a NULL for a failed allocation, or an
error code just tested (if (err) return err;).  Each is named by its file,
its function, its statement and, when a function has the same statement
more than once, its rank (#2, #3...).

  error-paths.py list
      Print the error paths found in module/*.c.
  error-paths.py check [--tap FILE] [--objdir DIR]
      Read the gcov counts that selftests/pflash/coverage_test.sh handed out
      in a debug-kernel run's TAP log (default: build/runs/latest/debug/
      tap.log), run gcov against that run's module build (default:
      build/mod-debug), and check Documentation/pflash/error-paths.rst
      against them: every error path in the source is in the document,
      with the tests that reach it or why none does; exits 1 if not.  A
      path reached or not otherwise than the document says is noted.
  error-paths.py drift
      Only the half of check that needs no run: every error path in the
      source is in the document and every row of the document is in the
      source, each unreached one with its reason; exits 1 if not.  The
      static checks run it, so drift is found before the debug kernel's run.
  error-paths.py write --tap FILE [--objdir DIR]
      Rewrite the document from a run of tools/coverage/run.sh, which hands
      the counts out after each test program: each path is given the
      programs that reach it.  A path no program reaches keeps the reason
      the document gave for it (or is marked for one to be written).
"""
import argparse
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.normpath(os.path.join(os.path.dirname(__file__), '..', '..'))
DOC = os.path.join(REPO, 'Documentation', 'pflash', 'error-paths.rst')
MODULE = os.path.join(REPO, 'module')
NOT_REACHED = 'not reached: '
SOURCE = {}

FUNC_RE = re.compile(r'^(?:static\s+)?(?:inline\s+)?(?:const\s+)?[\w\s\*]*?\b(\w+)\(')
GOTO_RE = re.compile(r'^\s*goto\s+((?:out|err)\w*);')
# Returns of an errno, an ERR_PTR or a block status are error paths
# wherever they are; returns of a variable or NULL only under a test.
FIXED_RE = re.compile(r'^\s*return\s+(-E[A-Z0-9]+|ERR_PTR\(-E[A-Z0-9]+\)|'
                      r'BLK_STS_(?!OK)[A-Z]+);')
VAR_RE = re.compile(r'^\s*return\s+(NULL|-?err|ret|ERR_PTR\(\w+\)|PTR_ERR\(\w+\));')
HEAD_RE = re.compile(r'^(\}\s*)?(else\s+)?(if|for|while|switch)\s*\(|^(\}\s*)?else\b|'
                     r'^(case\b.*|default):$')


class Path:
    def __init__(self, fname, func, stmt, rank, line, cond, why, head=None):
        self.fname, self.func, self.stmt = fname, func, stmt
        self.rank, self.line, self.cond, self.why = rank, line, cond, why
        # The last line of the test it is under (1-based), if any.
        self.head = head

    @property
    def key(self):
        return (self.fname, self.func, self.stmt, self.rank)

    def label(self):
        return '``%s``%s' % (self.stmt, ' #%d' % self.rank if self.rank > 1 else '')


def strip_comments(text):
    """Blank out comments and strings' contents, keeping the lines."""
    def blank(m):
        return re.sub(r'[^\n]', ' ', m.group(0))
    text = re.sub(r'/\*.*?\*/|//[^\n]*', blank, text, flags=re.S)
    return re.sub(r'"(?:[^"\\\n]|\\.)*"', lambda m: '"' + ' ' * (len(m.group(0)) - 2) + '"',
                  text)


def statement(lines, k):
    """The whole statement (a condition over several lines) ending at line k."""
    parts = [lines[k].strip()]
    j = k
    while sum(p.count('(') - p.count(')') for p in parts) < 0 and j > 0:
        j -= 1
        parts.insert(0, lines[j].strip())
    text = ' '.join(parts)
    return re.sub(r'\s*\{$', '', text).strip()


def message(raw, i):
    """The extended-ack message set just before line i, if any."""
    text = ' '.join(l.strip() for l in raw[max(i - 6, 0):i])
    found = re.findall(r'NL_SET_ERR_MSG(?:_ATTR)?\([^"]*"([^"]*)"', text)
    return found[-1] if found else ''


def error_paths():
    paths = []
    for fname in sorted(os.listdir(MODULE)):
        if not fname.endswith('.c'):
            continue
        with open(os.path.join(MODULE, fname)) as f:
            raw = f.read().split('\n')
        lines = strip_comments('\n'.join(raw)).split('\n')
        func, ranks, blocks, prev = None, {}, [], ''
        for i, line in enumerate(lines):
            s = line.strip()
            if line.startswith('#'):
                continue
            if line and not line[0].isspace() and line[0] not in '}{' and \
                    '(' in line and not s.endswith(';'):
                m = FUNC_RE.match(line)
                if m:
                    func, blocks = m.group(1), []
            if func is None:
                continue
            fixed, var, goto = FIXED_RE.match(line), VAR_RE.match(line), GOTO_RE.match(line)
            if fixed or var or goto:
                # Under a test: a one-line if, or inside a block it opens.
                head = statement(lines, last) if prev else ''
                if HEAD_RE.match(head) and not prev.endswith('{'):
                    cond, head = statement(raw, last), last + 1
                elif blocks and HEAD_RE.match(blocks[-1][0]):
                    cond, head = blocks[-1][1], blocks[-1][2]
                else:
                    cond, head = '', None
                if fixed or cond:
                    stmt = s.rstrip(';')
                    key = (func, stmt)
                    ranks[key] = ranks.get(key, 0) + 1
                    paths.append(Path(fname, func, stmt, ranks[key], i + 1,
                                      cond, message(raw, i), head))
            # Blocks: what opened each, for the returns inside.
            for c in s:
                if c == '}' and blocks:
                    blocks.pop()
            if s.endswith('{'):
                blocks.append((statement(lines, i), statement(raw, i), i + 1))
            if s:
                prev, last = s, i
    return paths


def tap_sections(path):
    """The gcov data in a TAP log: {test or None: {name.gcda: bytes}}."""
    sections, test, name, chunks = {}, None, None, []
    with open(path, errors='replace') as f:
        for line in f:
            line = re.sub(r'^(# )+', '', line.rstrip('\r\n'))
            m = re.match(r'pflash-coverage-of (\S+)$', line)
            if m:
                test = m.group(1)
                continue
            m = re.match(r'pflash-gcda (\S+\.gcda)$', line)
            if m:
                name, chunks = m.group(1), []
                continue
            if line == 'pflash-gcda-end' and name:
                sections.setdefault(test, {})[name] = base64.b64decode(''.join(chunks))
                name = None
                continue
            if name:
                chunks.append(line.strip())
    return sections


def line_counts(gcdas, objdir):
    """Run gcov on the module's build: {file.c: {line: count}}."""
    counts = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in gcdas.items():
            base = name[:-len('.gcda')]
            gcno = os.path.join(objdir, 'module', base + '.gcno')
            if not os.path.exists(gcno):
                raise SystemExit('%s: no %s: was the module built with gcov?' %
                                 (name, gcno))
            shutil.copy(gcno, tmp)
            with open(os.path.join(tmp, name), 'wb') as f:
                f.write(data)
            out = subprocess.run(['gcov', '--json-format', '--stdout',
                                  '--object-directory', tmp, base + '.c'],
                                 cwd=tmp, capture_output=True, check=True).stdout
            for doc in out.decode().splitlines():
                if not doc.strip():
                    continue
                for f in json.loads(doc)['files']:
                    if os.path.basename(f['file']) != base + '.c':
                        continue
                    lines = counts.setdefault(base + '.c', {})
                    for ln in f['lines']:
                        lines[ln['line_number']] = lines.get(ln['line_number'], 0) + ln['count']
    return counts


def reached(path, counts):
    """How often the path ran; None if gcov cannot tell.

    At -O2 the compiler often leaves an error path's statement no code of
    its own: the errno is loaded before the test, or the jump merged with
    another.  Then its neighbours tell, where they can without doubt: a
    counted line inside the same block ran as often as the path; under a
    simple if whose first line is the nearest counted one, the path ran as
    often as the test less the statement after it.  Elsewhere (a
    condition over lines that gcov counts apart, a case label) it cannot
    tell, and the path counts as not reached."""
    lines = counts.get(path.fname, {})
    n = lines.get(path.line)
    if n is not None or path.head is None:
        return n
    before = [l for l in lines if l < path.line]
    after = [l for l in lines if l > path.line]
    if not before:
        return None
    prev = max(before)
    if prev > path.head:
        return lines[prev]
    if prev < path.head - 3 or not after or \
            not re.match(r'\s*(\}\s*else\s+)?if \(',
                         source_line(path.fname, prev)):
        return None
    return max(0, lines[prev] - lines[min(after)])


def source_line(fname, line):
    """Line @line (1-based) of module/@fname."""
    if fname not in SOURCE:
        with open(os.path.join(MODULE, fname)) as f:
            SOURCE[fname] = f.read().split('\n')
    return SOURCE[fname][line - 1]


# ---- the document --------------------------------------------------------

HEAD = """.. SPDX-License-Identifier: GPL-2.0

=================================================
pflash error paths, and the tests that reach them
=================================================

This lists every error path of ``pflash.ko``: each statement in
``module/*.c`` that leaves a function because something failed (a jump to
an unwinding label, or a return of an errno, an ``ERR_PTR``, a failed
allocation's ``NULL``, a failing block status, or an error code just
tested), and which test programs of ``selftests/pflash/`` reach it.  A
path several times in one function is numbered (``#2``, ``#3``...) in the
order of the source.

How it is measured: the debug kernel has gcov (``CONFIG_GCOV_KERNEL`` in
``tools/kernels/debug.config``) and its build of the module asks for
``GCOV_PROFILE`` (``PFLASH_GCOV=y`` in ``Kbuild``), so
``pflash.ko`` counts how often each of its lines runs.  The last test of
the suite, ``coverage_test.sh``, hands the counts out in the TAP log, and
``tools/coverage/error-paths.py check`` (run by ``make check`` after the
debug kernel's run) runs ``gcov`` on them and checks this document against
the source: every error path of the source is here, with the tests that
reach it or the reason none does.  It notes, without failing, a path the
run reached that the document says is not reached, or the other way round:
some paths only a race reaches, in some runs and not in others.  The tests named
for each path come from ``tools/coverage/run.sh`` (``make
coverage-report``), which runs each test program alone, counts afresh, and
rewrites this document; a path no test reaches keeps the reason written
here by hand.

The module is built with ``-O2``, at which the compiler often leaves an
error path's statement no code of its own (the errno is loaded before the
test, or the jump is merged with another): the count of such a statement
is taken from its neighbours, the code inside the same block, or the test
less the code after it.

Allocation failures are reached by ``pflash_fault_test`` (``failslab`` and
``fail_page_alloc`` on each of a command's first 48 allocations, then on
one in every 25% more), and the backing file's errors by
``pflash_backing_test``, ``pflash_owner_test`` and ``pflash_migrate_test``
(a full tmpfs, device-mapper's error target).

"""


def doc_rows(text):
    """The rows of the document: {key: reached-by text}."""
    rows, fname, cells = {}, None, []

    def flush():
        if len(cells) == 3 and fname:
            func = cells[0].strip('`')
            m = re.match(r'``(.*?)``(?: #(\d+))?', cells[1])
            if m:
                rows[(fname, func, m.group(1), int(m.group(2) or 1))] = cells[2]
    for line in text.split('\n'):
        m = re.match(r'^module/(\w+\.c)$', line)
        if m:
            flush()
            cells = []
            fname = m.group(1)
        if line.startswith('   * - '):
            flush()
            cells = [line[len('   * - '):].strip()]
        elif line.startswith('     - '):
            cells.append(line[len('     - '):].strip())
        elif line.startswith('       ') and cells:
            cells[-1] += ' ' + line.strip()
    flush()
    return rows


def rst_cell(text, width=68):
    """A cell's text over lines of a list-table."""
    words, out, cur = text.split(' '), [], ''
    for w in words:
        if cur and len(cur) + 1 + len(w) > width:
            out.append(cur)
            cur = w
        else:
            cur = w if not cur else cur + ' ' + w
    out.append(cur)
    return '\n       '.join(out)


def describe(p):
    cond = p.cond if len(p.cond) <= 90 else p.cond[:87].rstrip() + '...'
    text = p.label()
    if cond:
        text += ' under ``%s``' % cond.replace('``', '` `')
    if p.why:
        text += ': "%s"' % p.why
    return text


def write_doc(paths, attribution, old):
    out = [HEAD]
    total = len(paths)
    hit = sum(1 for p in paths if attribution[p.key])
    out.append('Of the %d error paths, %d are reached by the suite; the others say why not.\n\n'
               % (total, hit))
    for fname in sorted({p.fname for p in paths}):
        title = 'module/' + fname
        out.append('%s\n%s\n\n' % (title, '=' * len(title)))
        out.append('.. list-table::\n   :header-rows: 1\n   :widths: 22 50 28\n\n'
                   '   * - Function\n     - Error path\n     - Reached by\n')
        for p in [p for p in paths if p.fname == fname]:
            tests = attribution[p.key]
            if tests:
                by = ', '.join(tests)
            else:
                by = old.get(p.key, '')
                if not by.startswith(('not reached: ', 'not an error: ')):
                    by = NOT_REACHED + '(why: to be written)'
            out.append('   * - ``%s``\n     - %s\n     - %s\n' %
                       (p.func, rst_cell(describe(p)), rst_cell(by, 40)))
        out.append('\n')
    return ''.join(out).rstrip('\n') + '\n'


def check(paths, counts, rows):
    """Drift between the source and the document fails; what a run reached
    that the document does not expect is only noted: paths that only a
    race reaches are reached in some runs and not in others."""
    errors, notes = [], []
    seen = set()
    stats = {'reached': 0, 'not reached': 0, 'not an error': 0}
    for p in paths:
        seen.add(p.key)
        by = rows.get(p.key)
        where = '%s:%d %s %s' % (p.fname, p.line, p.func, p.label())
        if by is None:
            errors.append('%s: not in the document' % where)
            continue
        n = reached(p, counts)
        if n:
            stats['reached'] += 1
        if by.startswith('not an error: '):
            stats['not an error'] += 1
        elif by.startswith(NOT_REACHED):
            stats['not reached'] += not n
            if '(why: to be written)' in by:
                errors.append('%s: the document does not say why it is not reached' % where)
            if n:
                notes.append('%s: reached %d time(s) in this run, though the document '
                             'says not' % (where, n))
        elif not n:
            notes.append('%s: not reached in this run, though the document says by %s' %
                         (where, by))
    for key in rows:
        if key not in seen:
            errors.append('%s %s %s #%d: in the document, not in the source' % key)
    return errors, notes, stats


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('mode', choices=['list', 'check', 'drift', 'write'])
    ap.add_argument('--tap', default=os.path.join(REPO, 'build', 'runs', 'latest',
                                                  'debug', 'tap.log'))
    ap.add_argument('--objdir', default=os.path.join(REPO, 'build', 'mod-debug'))
    args = ap.parse_args()
    paths = error_paths()
    if args.mode == 'list':
        for p in paths:
            print('%s:%d %s: %s | %s | %s' % (p.fname, p.line, p.func, p.label(),
                                             p.cond, p.why))
        print(len(paths), 'error paths', file=sys.stderr)
        return 0

    rows = {}
    if os.path.exists(DOC):
        with open(DOC) as f:
            rows = doc_rows(f.read())
    if args.mode == 'drift':
        errors = check(paths, {}, rows)[0]
        for e in errors:
            print('error-paths: ' + e, file=sys.stderr)
        print('error paths of pflash.ko: %d; the document and the source: %d problem(s)' %
              (len(paths), len(errors)))
        return 1 if errors else 0
    sections = tap_sections(args.tap)
    if args.mode == 'write':
        tests = [t for t in sections if t]
        if not tests:
            raise SystemExit('%s: no counts test by test (tools/coverage/run.sh)' % args.tap)
        per_test = {t: line_counts(sections[t], args.objdir) for t in tests}
        attribution = {p.key: [t for t in tests if reached(p, per_test[t])]
                       for p in paths}
        with open(DOC, 'w') as f:
            f.write(write_doc(paths, attribution, rows))
        print('%s: %d error paths written' % (DOC, len(paths)))
        return 0

    if None not in sections:
        print('%s: no gcov counts of pflash.ko (was it a debug-kernel run, '
              'and did coverage_test.sh run?)' % args.tap, file=sys.stderr)
        return 1
    counts = line_counts(sections[None], args.objdir)
    errors, notes, stats = check(paths, counts, rows)
    for n in notes:
        print('error-paths: note: ' + n, file=sys.stderr)
    for e in errors:
        print('error-paths: ' + e, file=sys.stderr)
    print('error paths of pflash.ko: %d, of which this run reached %d; %d not reached '
          '(the document says why), %d not errors; %d note(s), %d problem(s)' %
          (len(paths), stats['reached'], stats['not reached'], stats['not an error'],
           len(notes), len(errors)))
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
