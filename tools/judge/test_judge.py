#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The judge's own tests: python3 -m unittest tools/judge/test_judge.py."""
import io
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import judge  # noqa: E402


def tap(text):
    return judge.parse_tap(io.StringIO(text).readlines())


class ParseResult(unittest.TestCase):
    def test_ok_not_ok_and_text(self):
        r = judge.parse_result('ok 3 - reads back 0xff')
        self.assertEqual(('pass', '3', 'reads back 0xff'), (r.status, r.num, r.text))
        r = judge.parse_result('not ok 12 dev.bs512.erase')
        self.assertEqual(('fail', '12', 'dev.bs512.erase'), (r.status, r.num, r.text))
        self.assertIsNone(judge.parse_result('# ok 1 nested'))
        self.assertIsNone(judge.parse_result('okay'))

    def test_skip_needs_a_reason(self):
        r = judge.parse_result('ok 2 x # SKIP no fault injection: not the debug kernel')
        self.assertEqual('skip', r.status)
        self.assertEqual('# SKIP no fault injection: not the debug kernel', r.directive)
        r = judge.parse_result('ok 2 x # SKIP')
        self.assertEqual('fail', r.status)
        self.assertIn('must say why', r.directive)

    def test_a_failed_skip_is_a_failure(self):
        self.assertEqual('fail', judge.parse_result('not ok 1 x # SKIP why').status)

    def test_harness_of_6_1_names_no_test_in_a_skip(self):
        r = judge.parse_result('ok 2 # SKIP no backing file', 'dev.wb.flush')
        self.assertEqual(('skip', 'dev.wb.flush'), (r.status, r.text))

    def test_timeout_directive_stays_a_failure(self):
        r = judge.parse_result('not ok 2 selftests: pflash: x # TIMEOUT 300 seconds')
        self.assertEqual('fail', r.status)
        self.assertEqual('# TIMEOUT 300 seconds', r.directive)


RUNNER = """TAP version 13
1..2
# selftests: pflash: pflash_io_test
# TAP version 13
# 1..3
# #  RUN           dev.bs512.erase ...
# ok 1 dev.bs512.erase
# #  RUN           dev.bs512.flush ...
# ok 2 # SKIP no backing file
# #  RUN           dev.bs512.size ...
# not ok 3 dev.bs512.size
ok 1 selftests: pflash: pflash_io_test
# selftests: pflash: pflash_fuzz_test
# seed 7 (PFLASH_FUZZ_SEED=7 runs it again)
# 1..1
# not ok 1 fuzz.requests
not ok 2 selftests: pflash: pflash_fuzz_test # exit=1
"""


class ParseTap(unittest.TestCase):
    def test_runner_nests_programs(self):
        got = tap(RUNNER)
        self.assertEqual([
            ('pass', '1 pflash_io_test: dev.bs512.erase'),
            ('skip', '2 pflash_io_test: dev.bs512.flush # SKIP no backing file'),
            ('fail', '3 pflash_io_test: dev.bs512.size'),
            ('pass', '1 selftests: pflash: pflash_io_test'),
            ('fail', '1 pflash_fuzz_test: fuzz.requests [PFLASH_FUZZ_SEED=7]'),
            ('fail', '2 selftests: pflash: pflash_fuzz_test # exit=1 [PFLASH_FUZZ_SEED=7]'),
        ], got)

    def test_missing_results_are_failures(self):
        got = tap('1..2\n# selftests: pflash: a\n# 1..3\n# ok 1 x\nok 1 selftests: pflash: a\n')
        self.assertIn(('fail', 'a: 2 of its 3 results missing'), got)
        self.assertIn(('fail', 'tap: 1 of 2 planned results never came'), got)

    def test_results_beyond_the_plan_are_failures(self):
        # module_reload_test.sh planned 17 and printed 18, unseen.
        got = tap('1..1\n# selftests: pflash: a\n# 1..1\n# ok 1 x\n# ok 2 y\n'
                  'ok 1 selftests: pflash: a\n')
        self.assertIn(('fail', 'a: 2 results, beyond its plan of 1'), got)
        self.assertEqual(1, len([r for r in got if r[0] == 'fail']))

    def test_results_beyond_the_streams_plan_are_failures(self):
        got = tap('1..1\nok 1 x\nok 2 y\n')
        self.assertEqual([('pass', '1 x'), ('pass', '2 y'),
                          ('fail', 'tap: 2 results, beyond the plan of 1')], got)

    def test_a_program_that_never_finished(self):
        got = tap('1..1\n# selftests: pflash: a\n# 1..1\n# ok 1 x\n')
        self.assertIn(('fail', 'a: never finished'), got)
        self.assertNotIn(('fail', 'tap: 1 of 1 planned results never came'), got)

    def test_no_plan_and_empty_plan(self):
        self.assertEqual([('fail', 'tap: no plan (1..N): the runner never started')], tap(''))
        self.assertEqual([('fail', 'tap: no tests (1..0)')], tap('TAP version 13\n1..0\n'))

    def test_plain_tap_of_a_payload(self):
        got = tap('TAP version 13\n1..2\nok 1 - mounted\r\nnot ok 2 - records intact\n')
        self.assertEqual([('pass', '1 mounted'), ('fail', '2 records intact')], got)

    def test_seeds_of_a_plain_stream_go_with_its_failures(self):
        got = tap('1..2\n# replay: CRASH_SEED=42\nok 1 a\nnot ok 2 b\n')
        self.assertEqual([('pass', '1 a'), ('fail', '2 b [CRASH_SEED=42]')], got)

    def test_plan_at_the_end(self):
        self.assertEqual([('pass', '1 a'), ('pass', '2 b')], tap('ok 1 a\nok 2 b\n1..2\n'))

    def test_a_skipped_program_gives_its_plan_s_reason(self):
        got = tap('1..1\n# selftests: pflash: c\n# TAP version 13\n# 1..0 # SKIP no gcov in this kernel\n'
                  'ok 1 selftests: pflash: c # SKIP\n')
        self.assertEqual([('skip', '1 selftests: pflash: c # SKIP no gcov in this kernel')], got)
        got = tap('1..1\n# selftests: pflash: c\n# 1..0\nok 1 selftests: pflash: c # SKIP\n')
        self.assertEqual('fail', got[0][0])

    def test_diagnostics_are_not_results(self):
        got = tap('1..1\n# ok, said the guest\nok 1 a\n')
        self.assertEqual([('pass', '1 a')], got)


class Splats(unittest.TestCase):
    def test_each_kind_is_found(self):
        for line in ('BUG: KASAN: use-after-free in x', 'WARNING: CPU: 0 PID: 1 at x',
                     'INFO: task x blocked for more than 120 seconds.',
                     'unreferenced object 0xffff (size 64):', 'Kernel panic - not syncing'):
            self.assertEqual([(1, line)], judge.splats([line + '\n']), line)

    def test_chatter_is_not_a_splat(self):
        self.assertEqual([], judge.splats(['Warning: unable to open an initial console.\n',
                                            'pflash: loaded\n']))

    def test_an_injected_allocation_failure_is_expected(self):
        log = ['FAULT_INJECTION: forcing a failure.\n',
               'name failslab, interval 1\n',
               'x: page allocation failure: order:0\n',
               'Call Trace:\n', ' <TASK>\n', ' dump_stack\n', ' </TASK>\n',
               'Call Trace:\n']
        self.assertEqual([(8, 'Call Trace:')], judge.splats(log))

    def test_a_late_failure_report_is_not_excused(self):
        log = ['FAULT_INJECTION: forcing a failure.\n'] + ['x\n'] * 5 + \
              ['y: page allocation failure: order:0\n', 'Call Trace:\n']
        self.assertEqual(1, len(judge.splats(log)) - 0)


class Results(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.dir.name, 'results')
        os.environ['RESULTS'] = self.path

    def tearDown(self):
        self.dir.cleanup()

    def test_record_and_summary(self):
        out = io.StringIO()
        self.assertTrue(judge.record('pass', 'deb61', 'a', out))
        self.assertFalse(judge.record('fail', 'deb61', 'b\tc', out))
        judge.record('skip', 'static', 'd # SKIP no sid', out)
        self.assertEqual('[deb61] ok a\n[deb61] not ok b c\n[static] ok d # SKIP no sid\n',
                         out.getvalue())
        out = io.StringIO()
        self.assertFalse(judge.summary([self.path], out))
        self.assertTrue(out.getvalue().endswith('1 passed, 1 failed, 1 skipped\n'))
        self.assertIn('  [deb61] not ok b c\n', out.getvalue())

    def test_nothing_ran_is_a_failure(self):
        open(self.path, 'w').close()
        out = io.StringIO()
        self.assertFalse(judge.summary([self.path], out))
        self.assertEqual('0 passed, 0 failed, 0 skipped\n', out.getvalue())

    def test_flakes_across_runs(self):
        runs = []
        for i, rows in enumerate([
                [('pass', 'deb61', '1 a: x in 3 s'), ('pass', 'deb61', '2 a: y')],
                [('fail', 'deb61', '1 a: x in 4 s [PFLASH_DIFF_SEED=11]'), ('pass', 'deb61', '2 a: y')],
                [('pass', 'deb61', '1 a: x in 5 s'), ('fail', 'deb61', '2 a: y')]]):
            p = os.path.join(self.dir.name, 'r%d' % i)
            with open(p, 'w') as f:
                for r in rows:
                    f.write('\t'.join(r) + '\n')
            runs.append(p)
        out = io.StringIO()
        self.assertFalse(judge.summary(runs, out))
        text = out.getvalue()
        self.assertIn('Across 3 runs of the same build, 2 result(s) ever failed:', text)
        self.assertIn('[deb61] 1 a: x in 4 s [PFLASH_DIFF_SEED=11] (intermittent: runs 2 of 3) '
                      'seeds: PFLASH_DIFF_SEED=11', text)
        self.assertIn('[deb61] 2 a: y (intermittent: runs 3 of 3)', text)


class JudgeVm(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        os.environ['RESULTS'] = os.path.join(self.dir.name, 'results')

    def tearDown(self):
        self.dir.cleanup()

    def write(self, name, text):
        with open(os.path.join(self.dir.name, name), 'w') as f:
            f.write(text)

    def judge(self, **kw):
        out = io.StringIO()
        old, sys.stdout = sys.stdout, out
        try:
            ok = judge.judge_vm('deb61', self.dir.name, **kw)
        finally:
            sys.stdout = old
        return ok, out.getvalue()

    def test_a_clean_run(self):
        self.write('qemu.rc', '0\n')
        self.write('seconds', '12\n')
        self.write('console.log', 'pflash: loaded\npflash-vm: powering off\n')
        self.write('tap.log', '1..1\nok 1 a\n')
        ok, out = self.judge()
        self.assertTrue(ok, out)
        self.assertIn('[deb61] ok vm: booted, ran and powered off in 12 s', out)

    def test_a_timeout_and_a_splat(self):
        self.write('qemu.rc', '124\n')
        self.write('console.log', 'BUG: KASAN: slab-out-of-bounds\n')
        self.write('tap.log', '1..1\nok 1 a\n')
        ok, out = self.judge()
        self.assertFalse(ok)
        self.assertIn('not ok vm: timed out', out)
        self.assertIn('console.log:1:BUG: KASAN', out)

    def test_times_of_the_programs(self):
        self.write('qemu.rc', '0\n')
        self.write('console.log', 'pflash-vm: powering off\n')
        self.write('tap.log', '1..2\n# selftests: pflash: a\nok 1 selftests: pflash: a\n'
                   '# pflash-took a 3.5\n# selftests: pflash: b\nok 2 selftests: pflash: b\n'
                   '# pflash-took b 12.0\n')
        ok, out = self.judge()
        self.assertTrue(ok, out)
        with open(os.path.join(self.dir.name, 'times.txt')) as f:
            self.assertEqual('    12.0 b\n     3.5 a\n', f.read())

    def test_no_tap(self):
        self.write('qemu.rc', '0\n')
        self.write('console.log', 'pflash-vm: powering off\n')
        ok, out = self.judge()
        self.assertFalse(ok)
        self.assertIn('not ok tap: no TAP output at all', out)

    def test_kernel_log_only(self):
        self.write('console.log', 'pflash: loaded\n')
        ok, out = self.judge(kernel_log_only=True)
        self.assertTrue(ok)
        self.assertEqual('[deb61] ok kernel log: no splats\n', out)


if __name__ == '__main__':
    unittest.main()
