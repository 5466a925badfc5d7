#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Unloading pflash while pflashctl processes work with it and I/O runs on
# its devices.  rmmod either refuses, the module being in use (an open
# device or a dump in progress holds it), or unloads cleanly, with the
# commands in flight finished first; every pflashctl run ends with a status
# it documents (0 done, 1 refused, 3 module not loaded) and none hangs;
# the module loads again every time; the kernel log is judged for splats.
# Leaves the module loaded with its defaults, as it found it.
#
# PFLASH_UNLOAD_ROUNDS rounds (default 1), each of WORK runs of every
# worker, with rmmod and modprobe (of no devices, which is quick) tried
# while they run.

. "$(dirname "$0")/lib.sh"

ROUNDS=${PFLASH_UNLOAD_ROUNDS:-1}
WORK=4
# A run that takes longer than this has hung.
LIMIT=120

need_root

tmp=$(mktemp -d /tmp/pflash-unload.XXXXXX)
cleanup() {
	kill $(jobs -p) 2>/dev/null
	wait 2>/dev/null
	grep -q '^pflash ' /proc/modules || modprobe pflash
	rm -rf "$tmp"
}
trap cleanup EXIT

# run NAME COMMAND...: run it under a time limit, noting its status.
run() {
	name=$1
	shift
	timeout "$LIMIT" "$@" >/dev/null 2>>"$tmp/stderr"
	echo "$name $?" >>"$tmp/status"
}

# The workers: each loops WORK times, whatever the module does meanwhile.
ctl_worker() {
	i=0
	while [ $i -lt $WORK ]; do
		dev=$(timeout "$LIMIT" pflashctl create --size 64K --show 2>>"$tmp/stderr")
		echo "create $?" >>"$tmp/status"
		run list pflashctl list
		if [ -n "$dev" ]; then
			run inactivate pflashctl inactivate "$dev"
			run activate pflashctl activate "$dev"
			run destroy pflashctl destroy "$dev"
		fi
		i=$((i + 1))
	done
}

move_worker() {
	i=0
	while [ $i -lt $WORK ]; do
		src=$(timeout "$LIMIT" pflashctl create --size 64K --show 2>>"$tmp/stderr")
		echo "create $?" >>"$tmp/status"
		dst=$(timeout "$LIMIT" pflashctl create --size 64K --inactive --show 2>>"$tmp/stderr")
		echo "create $?" >>"$tmp/status"
		if [ -n "$src" ]; then
			run export pflashctl export -q -o "$tmp/stream" "$src"
			run destroy pflashctl destroy "$src"
		fi
		if [ -n "$dst" ] && [ -s "$tmp/stream" ]; then
			run import pflashctl import -q "$dst" <"$tmp/stream"
		fi
		[ -n "$dst" ] && run destroy pflashctl destroy "$dst"
		rm -f "$tmp/stream"
		i=$((i + 1))
	done
}

io_worker() {
	i=0
	while [ $i -lt $((WORK * 4)) ]; do
		# An open device holds the module: rmmod must wait its turn.
		for d in /dev/pflash*; do
			[ -b "$d" ] || continue
			run dd dd if="$d" of=/dev/null bs=4096 count=16 iflag=direct
			break
		done
		i=$((i + 1))
	done
}

# in_use RMMOD_OUTPUT: rmmod refused because the module is in use.  kmod
# says "in use" when it saw references before it asked; if one was taken
# after, the kernel refuses with EAGAIN ("Resource temporarily
# unavailable").
in_use() {
	case $1 in
	*"in use"* | *"temporarily unavailable"*) return 0 ;;
	esac
	return 1
}

echo "TAP version 13"
echo "1..5"
: >"$tmp/status"
: >"$tmp/stderr"
start=$(date +%s)
rmmod pflash 2>/dev/null
modprobe pflash nr_devices=0

# The refusal, made to happen: whether the race below meets the module in
# use is the interleaving's to say.
held=$(pflashctl create --size 64K --show)
exec 9<"$held"
out=$(rmmod pflash 2>&1)
status=$?
exec 9<&-
[ $status != 0 ] && in_use "$out" && grep -q '^pflash ' /proc/modules
status=$?
[ $status = 0 ] || echo "# rmmod: $out"
result $status "rmmod while a device is held open: refused, as in use"
pflashctl destroy "$held"
unloaded=0
refused=0
other=0
reloads_failed=0
round=0
while [ $round -lt "$ROUNDS" ]; do
	timeout "$LIMIT" pflashctl monitor >/dev/null 2>&1 &
	mon=$!
	ctl_worker &
	w1=$!
	move_worker &
	w2=$!
	io_worker &
	w3=$!
	# Unload and load again, for as long as the workers run.
	while kill -0 $w1 2>/dev/null || kill -0 $w2 2>/dev/null ||
	      kill -0 $w3 2>/dev/null; do
		if out=$(rmmod pflash 2>&1); then
			unloaded=$((unloaded + 1))
			if grep -q '^pflash ' /proc/modules ||
			   ls /dev/pflash* >/dev/null 2>&1; then
				other=$((other + 1))
				echo "# unloaded, but pflash or its devices remain"
			fi
			modprobe pflash nr_devices=0 ||
				reloads_failed=$((reloads_failed + 1))
		elif in_use "$out"; then
			refused=$((refused + 1))
		else
			other=$((other + 1))
			echo "# rmmod: $out"
		fi
		sleep 0.3
	done
	wait $w1 $w2 $w3
	kill $mon 2>/dev/null
	wait $mon 2>/dev/null
	grep -q '^pflash ' /proc/modules || modprobe pflash nr_devices=0 ||
		reloads_failed=$((reloads_failed + 1))
	round=$((round + 1))
done

runs=$(wc -l <"$tmp/status")
bad=$(awk '$2 != 0 && $2 != 1 && $2 != 3' "$tmp/status")
echo "# $((unloaded + refused + other)) rmmod tries: $unloaded unloaded, $refused refused as in use; $runs tool runs; $(($(date +%s) - start)) s"
result "$other" "rmmod while tools run: unloaded, or refused as in use"
[ -z "$bad" ]
status=$?
if [ $status != 0 ]; then
	echo "$bad" | sort | uniq -c | sed 's/^/# status: /'
	sed 's/^/# stderr: /' "$tmp/stderr" | sort | uniq -c | head -n 20
fi
result $status "every pflashctl and dd run ended with 0, 1 or 3, none hung"
result "$reloads_failed" "the module loaded again after every unload"
# The workers' devices went with the module, or they destroyed them.
rmmod pflash
modprobe pflash
[ "$(ls /dev/pflash* 2>/dev/null)" = /dev/pflash0 ]
result $? "after a last reload, only the default device is there"
exit $failed
