#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# What the suite ran of pflash.ko: on a kernel with gcov (the debug
# kernel, for which pflash is built with PFLASH_GCOV=y), the module's gcov data,
# one .gcda per source file, handed out base64 in TAP comments between
# "pflash-gcda NAME" and "pflash-gcda-end" lines.  tools/coverage/
# error-paths.py reads them from the TAP log, runs gcov against the
# module's build, and checks Documentation/pflash/error-paths.rst: which
# error paths the suite reaches.
#
# The counts add up over the whole run, across module reloads (gcov keeps
# the counts of an unloaded module and adds the next load's), so this test
# is listed last.  With PFLASH_GCOV_RESET=1 it zeroes the counts instead,
# once it has handed them out: tools/coverage/run.sh uses that to learn
# which test reaches which path.  Skips on kernels without gcov.

. "$(dirname "$0")/lib.sh"
GCOV=/sys/kernel/debug/gcov

echo "TAP version 13"
[ -d "$GCOV" ] || skip "no gcov in this kernel"
echo "1..1"
# The module's objects are in a folder named module/ of its build.
files=$(find "$GCOV" -path '*/module/*.gcda' | sort)
n=0
for f in $files; do
	echo "# pflash-gcda $(basename "$f")"
	base64 <"$f" | sed 's/^/# /'
	echo "# pflash-gcda-end"
	n=$((n + 1))
done
if [ "${PFLASH_GCOV_RESET:-0}" = 1 ]; then
	echo 1 >"$GCOV/reset"
fi
if [ "$n" -gt 0 ]; then
	echo "ok 1 - gcov data of pflash.ko handed out: $n file(s)"
else
	echo "not ok 1 - no gcov data of pflash.ko, though the kernel has gcov"
	exit 1
fi
