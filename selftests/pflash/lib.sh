# SPDX-License-Identifier: GPL-2.0
#
# What the shell tests of pflash share: their TAP results, and the checks
# that skip a whole test.  Each sources it from beside itself (dash, or any
# POSIX shell):
#
#	. "$(dirname "$0")/lib.sh"
#
# It sets n, the results given so far, and failed, 1 once one failed,
# which the test exits with.

ksft_skip=4
n=0
failed=0

# on_failure: what a test says after a result that failed, as TAP
# comments; nothing unless the test defines its own after sourcing this.
on_failure() {
	:
}

# result STATUS NAME: one TAP result, ok if STATUS is 0.
result() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
		return 0
	fi
	failed=1
	echo "not ok $n - $2"
	on_failure
}

# check NAME COMMAND...: one result, from COMMAND's status.  A COMMAND of
# one word is a command list, evaluated when it runs, so that it sees the
# variables as they are then: check "it is empty" '[ ! -s "$f" ]'.
check() {
	_check_name=$1
	shift
	if [ $# = 1 ]; then
		eval "$1"
	else
		"$@"
	fi
	result $? "$_check_name"
}

# skip REASON: skip the whole test, before its plan.
skip() {
	echo "1..0 # SKIP $1"
	exit $ksft_skip
}

# need_root: skip the whole test unless it runs as root.
need_root() {
	[ "$(id -u)" = 0 ] || skip "needs root"
}
