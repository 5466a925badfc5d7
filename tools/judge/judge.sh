# SPDX-License-Identifier: GPL-2.0
#
# The shell's way to the judge, tools/judge/judge.py, which every suite
# reports through.  Source it after tools/lib/harness.sh, with RESULTS
# naming the run's results file.

JUDGE=$REPO/tools/judge/judge.py

# result STATUS WHERE TEXT: record a result (pass, fail or skip) and print
# it, TAP-like: "[deb61] ok 3 pflash_io_test: discard reads back 0xff".
result() { python3 "$JUDGE" record "$@"; }

# judge_vm [--kernel-log] WHERE OUTDIR: judge one VM as tools/boot/run.sh
# left it; fails if anything in it failed.
judge_vm() { python3 "$JUDGE" vm "$@"; }

# judge_tap WHERE FILE: record the results of a TAP stream (- for standard
# input); fails if any failed or is missing.
judge_tap() { python3 "$JUDGE" tap "$@"; }

# judge_summary RESULTS...: the closing line "N passed, N failed, N
# skipped" (and, given several runs' results, the flakes); fails if
# anything failed or nothing ran.
judge_summary() { python3 "$JUDGE" summary "$@"; }
