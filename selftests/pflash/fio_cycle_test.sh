#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# fio writes with verification while the device is inactivated and
# activated again and again underneath it, in both cache modes.  Writes
# that find the device inactive fail (fio is told to go on, and does not
# verify them); every write that succeeded must read back intact, and at
# every inactive moment the backing file must equal the device.
#
# fio's progress, not the clock, sets the pace: it is stopped (SIGSTOP)
# while pflashctl changes the state (inactivate --force, since fio holds
# the device open for writing), and each state lasts until fio has made
# writes in it, so that there are CYCLES cycles however slow the VM is.
# The active device's I/O statistics count fio's writes; the inactive
# one, a read-only disk, refuses them before they reach it (EPERM), and
# fio's error dump counts those.  fio's
# random offsets come from a seed, printed: PFLASH_FIO_SEED=N runs it
# again.

. "$(dirname "$0")/lib.sh"
need_root
command -v fio >/dev/null || skip "fio is not installed"

SIZE=$((8 << 20))
dir=$(mktemp -d /tmp/pflash-fio.XXXXXX)
mount -t tmpfs -o size=64m pflash-fio "$dir"
dev=
cleanup() {
	[ -n "$dev" ] && pflashctl destroy "$dev" 2>/dev/null
	umount "$dir"
	rmdir "$dir"
}
trap cleanup EXIT

CYCLES=5
# Writes fio makes in all, far more than the cycles need (64 before them,
# then 8 inactive and 32 active ones each, and what fio adds while the
# test looks): it must not run out before the last cycle.
IO_SIZE=$((4 * SIZE))
seed=${PFLASH_FIO_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}

# Sets w: the write requests the device has completed, failed ones
# included (not those the inactive, read-only disk refused before they
# reached it).  Builtins only, no subshell: it is polled while fio runs.
count_writes() {
	read -r _ _ _ _ w _ <"/sys/block/${dev#/dev/}/stat"
}

# fio has not exited (a zombie, not waited for yet, has).
fio_runs() {
	read -r _ _ st _ 2>/dev/null <"/proc/$fio/stat" && [ "$st" != Z ]
}

# wait_for COUNT VAR N: runs COUNT, which sets VAR, until VAR is N or
# more; fails if fio exits first.  Whether fio runs is asked only when
# the count stands still, so that a poll costs little and fio overshoots
# N little.
wait_for() {
	_last=-1
	while :; do
		$1
		eval "_n=\$$2"
		[ "$_n" -ge "$3" ] && return 0
		[ "$_n" != "$_last" ] || fio_runs || return 1
		_last=$_n
	done
}

# wait_writes N: until the device has completed N writes.
wait_writes() {
	wait_for count_writes w "$1"
}

# Sets e: the writes fio saw fail, a line each in its error dump.
count_errors() {
	e=$(grep -c 'io_u error' "$dir/fio.err")
}

# wait_errors N: until fio has seen N writes fail.
wait_errors() {
	wait_for count_errors e "$1"
}

# The device's contents, read past any page cache, equal its backing file.
in_accord() {
	dd if="$dev" of="$dir/image" bs=1M iflag=direct 2>/dev/null &&
		cmp -s "$dir/image" "$dir/backing"
}

echo "TAP version 13"
echo "1..8"

for mode in writethrough writeback; do
	dd if=/dev/zero of="$dir/backing" bs=1M count=$((SIZE >> 20)) 2>/dev/null
	dev=$(pflashctl create --backing "$dir/backing" --cache "$mode" --show)
	# count_writes reads the I/O statistics, which pflash keeps by
	# default (pflash_io_test checks it).

	# fio verifies each batch of 32 writes as it goes (verify_backlog)
	# rather than in a second pass, for which it would reopen the
	# device, perhaps while inactive.  It writes the device over four
	# times, at offsets drawn anew each time (norandommap), so it keeps
	# the last write of a block to verify, not an older one.  Threads,
	# not processes: SIGSTOP to $fio stops all of it.  A write while
	# inactive fails, and fio goes on past it (--ignore_error lists what
	# does not stop it): EPERM from the read-only disk at submission, or
	# EIO if the inactivation held it back; --error_dump says each on
	# fio's standard error.
	fio --name=cycle --filename="$dev" --rw=randwrite --bs=4k \
		--size=$SIZE --io_size=$IO_SIZE --norandommap --direct=1 \
		--ioengine=libaio --iodepth=8 --thread --randseed="$seed" \
		--verify=crc32c --verify_backlog=32 --do_verify=0 \
		--verify_fatal=1 --continue_on_error=write \
		--ignore_error=:EIO,EPERM --error_dump=1 \
		--output="$dir/fio.out" >/dev/null 2>"$dir/fio.err" &
	fio=$!

	# From fio's first writes, so that it opens the device while it is
	# active.  Each state holds until fio has written in it; fio runs
	# only while the test waits for that.
	cycles=0
	apart=0
	wait_writes 64
	while [ $cycles -lt $CYCLES ] && fio_runs; do
		kill -STOP $fio
		pflashctl inactivate --force "$dev" || break
		count_errors
		kill -CONT $fio
		wait_errors $((e + 8)) || break
		kill -STOP $fio
		in_accord || apart=$((apart + 1))
		pflashctl activate "$dev" || break
		count_writes
		kill -CONT $fio
		wait_writes $((w + 32)) || break
		cycles=$((cycles + 1))
	done
	count_writes
	count_errors
	used=$((w + e))
	kill -CONT $fio
	wait $fio
	rc=$?
	echo "# $mode: seed $seed (PFLASH_FIO_SEED=$seed runs it again); $used of $((IO_SIZE >> 12)) writes made by the end of the cycles ($e refused)"

	check "$mode: fio wrote and verified every write it completed" test $rc = 0
	check "$mode: the device went through $CYCLES inactivations under fio ($cycles)" \
		test $cycles = $CYCLES
	check "$mode: the backing file was in accord at every inactive moment" \
		test $apart = 0
	pflashctl inactivate "$dev"
	check "$mode: and it is in accord at the end" in_accord
	[ $rc = 0 ] || { cat "$dir/fio.out"; tail -n 5 "$dir/fio.err"; }
	pflashctl destroy "$dev"
	dev=
done

exit $failed
