#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Payload of tools/coverage/run.sh's VM: every test program alone, and after
# each, the gcov counts of pflash.ko handed out (and zeroed) by
# coverage_test.sh, under a line that names the program.

TAP=/dev/ttyS1
stty -F "$TAP" raw -echo

if ! modprobe pflash; then
	echo "pflash-vm: modprobe pflash failed"
fi

cd /kselftest || exit 1
echo 1 >/sys/kernel/debug/gcov/reset
for t in $(sed -n 's/^pflash://p' kselftest-list.txt); do
	[ "$t" = coverage_test.sh ] && continue
	./run_kselftest.sh -t "pflash:$t" >/tmp/coverage.tap 2>&1
	echo "# pflash-coverage-of $t"
	grep -E '^(not )?ok ' /tmp/coverage.tap | sed 's/^/# /'
	PFLASH_GCOV_RESET=1 ./pflash/coverage_test.sh
done >"$TAP"
