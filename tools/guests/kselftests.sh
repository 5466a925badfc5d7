#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Test payload of the VMs (run by /init): load pflash, run the installed
# kselftests and write their TAP to the second serial port, /dev/ttyS1,
# which QEMU writes to a file that tools/judge/judge.py reads.  With
# PFLASH_TESTS (from /etc/pflash-vm.env: check.sh's TESTS), only those;
# with PFLASH_LEAVE_OUT, all but those (the tests check.sh runs on other
# kernels: not run here, not a skip).
#
# run_kselftest.sh exits 0 whatever the results; the judge reads the TAP.

TAP=/dev/ttyS1
# Raw: no "\n" -> "\r\n", no echo, nothing interpreted.
stty -F "$TAP" raw -echo

if ! modprobe pflash; then
	echo "pflash-vm: modprobe pflash failed"
fi

cd /kselftest || exit 1
set --
for t in ${PFLASH_TESTS:-}; do
	set -- "$@" -t "pflash:$t"
done
if [ -z "${PFLASH_TESTS:-}" ] && [ -n "${PFLASH_LEAVE_OUT:-}" ]; then
	while read -r t; do
		case " $PFLASH_LEAVE_OUT " in
		*" ${t#pflash:} "*) ;;
		*) set -- "$@" -t "$t" ;;
		esac
	done <kselftest-list.txt
fi
# After each program's result, a diagnostic of how long it took, which the
# judge gathers into times.txt beside the TAP: "# pflash-took NAME SECONDS".
./run_kselftest.sh "$@" | awk '
	function uptime(    line, f) {
		getline line <"/proc/uptime"
		close("/proc/uptime")
		split(line, f, " ")
		return f[1]
	}
	{ print; fflush() }
	/^# selftests: / { name = $NF; start = uptime() }
	/^(not )?ok [0-9]+ selftests: / && name != "" {
		printf "# pflash-took %s %.1f\n", name, uptime() - start
		fflush()
		name = ""
	}' >"$TAP"
