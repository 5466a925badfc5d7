#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Judge one VM run: its TAP (tap.log), its console (console.log) and QEMU's
# exit status (qemu.rc), as left by run.sh in OUTDIR.
#
# Usage: RESULTS=FILE judge.sh [--kernel-log] NAME OUTDIR
#
# --kernel-log judges the console log alone, of VMs that were killed on
# purpose (tools/crash/power-loss.sh).
#
# run_kselftest.sh always exits 0, so only the TAP counts. Every result is
# printed and recorded (see results.sh):
#   - each test program's own results (the nested "# ok N name" lines of
#     kselftest_harness.h or a shell test), and the runner's top-level
#     result for the program;
#   - a missing result is a failure: a program that printed a plan "1..N"
#     and fewer results, a program that never finished, no TAP at all, no
#     test at all, a VM that timed out or did not power off;
#   - the console log, scanned for kernel splats (BUG, WARNING, Oops, KASAN,
#     KFENCE, lockdep, kmemleak, hung tasks, panics, ...): any fails the run,
#     but for the report of an allocation failure that fault injection caused.
#
# Exits 0 if everything passed or was skipped, 1 otherwise.

set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$REPO/tools/vm/results.sh"

LOG_ONLY=0
if [ "${1:-}" = --kernel-log ]; then
	LOG_ONLY=1
	shift
fi
NAME=${1:?usage: judge.sh NAME OUTDIR}
OUTDIR=${2:?usage: judge.sh NAME OUTDIR}
: "${RESULTS:?RESULTS must name the results file}"
tap=$OUTDIR/tap.log console=$OUTDIR/console.log

# Kernel log lines that mean something went wrong. Extended regexps, case
# sensitive ("WARNING:" is a WARN_ON; "Warning:" is ordinary chatter).
SPLATS=(
	'\bBUG:'			# BUG: KASAN/KFENCE/..., NULL deref, ...
	'kernel BUG at'
	'\bWARNING:'			# WARN_ON(), lockdep's reports
	'\bOops\b'
	'general protection'
	'\bKASAN\b'
	'\bKFENCE\b'
	'\bUBSAN\b'
	'possible circular locking'
	'possible recursive locking'
	'inconsistent lock state'
	'\bINFO: '			# INFO: possible ..., hung tasks, RCU stalls
	'blocked for more than'
	'sleeping function called from invalid context'
	'unreferenced object'		# kmemleak
	'suspected memory leak'
	'list_(add|del) corruption'
	'Call Trace'
	'[Kk]ernel panic'
	'Unable to handle'
)

failed=0
record() {
	[ "$1" = fail ] && failed=1
	result "$@"
}

# --- the VM itself ---------------------------------------------------------
if [ "$LOG_ONLY" = 0 ]; then
rc=$(cat "$OUTDIR/qemu.rc" 2>/dev/null || echo missing)
secs=$(cat "$OUTDIR/seconds" 2>/dev/null || echo '?')
if [ "$rc" = 124 ]; then
	record fail "$NAME" "vm: timed out after $secs s and was killed"
elif [ "$rc" != 0 ]; then
	record fail "$NAME" "vm: QEMU exited with status $rc"
elif ! grep -q '^pflash-vm: powering off' "$console"; then
	record fail "$NAME" "vm: did not reach its clean power-off"
else
	record pass "$NAME" "vm: booted, ran and powered off in $secs s"
fi
if grep -q '^pflash-vm: modprobe pflash failed' "$console"; then
	record fail "$NAME" "vm: modprobe pflash failed"
fi

# --- the TAP ---------------------------------------------------------------
# awk turns the runner's TAP into "STATUS<TAB>TEXT" lines.
if [ ! -s "$tap" ]; then
	record fail "$NAME" "tap: no TAP output at all"
else
	while IFS=$'\t' read -r status text; do
		record "$status" "$NAME" "$text"
	done < <(tr -d '\r' <"$tap" | awk -f "$REPO/tools/vm/tap.awk")
fi
fi

# --- the kernel log --------------------------------------------------------
# An allocation failure that a test injected (fail_page_alloc) makes the
# kernel print the failure with a stack trace: that report, when it comes
# right after "FAULT_INJECTION: forcing a failure", is expected, not a splat.
# Everything else is scanned, line numbers kept.
scanned=$OUTDIR/console.scanned
awk '
	/FAULT_INJECTION: forcing a failure/ { injected = NR }
	injected && NR - injected <= 4 &&
	    /page allocation failure:|vmalloc error:|allocation failure:/ {
		exempt = 1
	}
	exempt { if (/<\/TASK>/) exempt = 0; next }
	{ print NR ":" $0 }
' "$console" >"$scanned"
pattern=$(printf '%s|' "${SPLATS[@]}")
pattern=${pattern%|}
if [ ! -s "$console" ]; then
	record fail "$NAME" "kernel log: empty"
elif grep -Eq "$pattern" "$scanned"; then
	n=$(grep -Ec "$pattern" "$scanned")
	record fail "$NAME" "kernel log: $n line(s) report a kernel problem, first:"
	grep -E "$pattern" "$scanned" | head -n 12 | sed "s|^|[$NAME]     console.log:|"
else
	record pass "$NAME" "kernel log: no splats"
fi

if [ $failed = 1 ]; then
	echo "[$NAME] logs: $console"
	echo "[$NAME]       $tap"
	exit 1
fi
exit 0
