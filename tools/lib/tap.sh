# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# TAP for the scripts that test this project's own scripts on pretend
# programs (tools/boot/test_run.sh, tools/check/test_schedule.sh,
# tools/lib/test_harness.sh, tools/images/test_root_initramfs.sh).
#
#   check NAME CONDITION   evaluates CONDITION (a shell string) and prints
#                          "ok N NAME" or "not ok N NAME"; a failure
#                          sets failed=1, the script's exit status

n=0 failed=0
check() {
	n=$((n + 1))
	if eval "$2"; then
		echo "ok $n $1"
	else
		echo "not ok $n $1"
		failed=1
	fi
}
