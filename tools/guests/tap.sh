# SPDX-License-Identifier: GPL-2.0
#
# The TAP every guest payload writes, to the port the host's judge reads
# (tools/judge/judge.py).  Installed in the test images as
# /usr/lib/pflash-test/tap.sh;
# source it, then:
#
#   tap_open [PORT]          the port (default /dev/ttyS1) raw, on fd 3,
#                            and "TAP version 13"
#   tap_plan N               "1..N" (or none, and tap_end prints one)
#   tap_ok TEXT              "ok N - TEXT"
#   tap_fail TEXT            "not ok N - TEXT"
#   tap_skip TEXT WHY        "ok N - TEXT # SKIP WHY": WHY is what the
#                            machine lacks, never empty
#   tap_result RC TEXT       ok if RC is 0, else not ok (and fails)
#   tap_check TEXT CMD...    runs CMD, and ok if it succeeds (else fails)
#   tap_say LINE             a line as it is (a diagnostic "# ...", or a
#                            line the host reads, such as "ack 3 0 7")
#   tap_nested NAME RC FILE  a program's own TAP, nested, and its result
#   tap_end                  "1..N", if tap_plan was not called
#
# Results are numbered in order.  POSIX sh: dash runs it as well as bash.

TAP_N=0
TAP_PLANNED=

tap_open() {
	stty -F "${1:-/dev/ttyS1}" raw -echo 2>/dev/null
	exec 3>"${1:-/dev/ttyS1}"
	echo "TAP version 13" >&3
}

tap_say() { printf '%s\n' "$*" >&3; }

tap_plan() {
	TAP_PLANNED=1
	tap_say "1..$1"
}

tap_ok() {
	TAP_N=$((TAP_N + 1))
	tap_say "ok $TAP_N - $1"
}

tap_fail() {
	TAP_N=$((TAP_N + 1))
	tap_say "not ok $TAP_N - $1"
}

tap_skip() {
	TAP_N=$((TAP_N + 1))
	tap_say "ok $TAP_N - $1 # SKIP ${2:?tap_skip: a skip says why}"
}

tap_result() {
	if [ "$1" = 0 ]; then
		tap_ok "$2"
	else
		tap_fail "$2"
		return 1
	fi
}

tap_check() {
	_tap_text=$1
	shift
	"$@"
	tap_result $? "$_tap_text"
}

tap_end() {
	[ -n "$TAP_PLANNED" ] || tap_say "1..$TAP_N"
}

# tap_nested NAME RC FILE: a program's own TAP (FILE), nested under "# "
# as the kselftest runner nests it, then its result: ok if RC is 0.
tap_nested() {
	tap_say "# selftests: pflash: $1"
	sed 's/^/# /' "$3" >&3
	TAP_N=$((TAP_N + 1))
	if [ "$2" = 0 ]; then
		tap_say "ok $TAP_N selftests: pflash: $1"
	else
		tap_say "not ok $TAP_N selftests: pflash: $1"
	fi
}
