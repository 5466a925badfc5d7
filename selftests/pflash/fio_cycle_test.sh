#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# fio writes with verification while the device is inactivated and
# activated again and again underneath it, in both cache modes.  Writes
# that find the device inactive fail (fio is told to go on, and does not
# verify them); every write that succeeded must read back intact, and at
# every inactive moment the backing file must equal the device.

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

# Write requests the device has completed, failed ones included.
writes() {
	set -- $(cat "/sys/block/${dev#/dev/}/stat")
	echo "$5"
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
	# writes() reads the I/O statistics, which pflash keeps by default.

	# Paced, so that its writes span several cycles even where the
	# device is fast and pflashctl slow.  fio verifies each batch of 32
	# writes as it goes (verify_backlog) rather than in a second pass,
	# for which it would reopen the device, perhaps while inactive.  A
	# write while inactive fails, and fio goes on past it: EPERM from the
	# read-only disk at submission, or EIO if the inactivation held it.
	fio --name=cycle --filename="$dev" --rw=randwrite --bs=4k \
		--size=$SIZE --direct=1 --ioengine=libaio --iodepth=8 \
		--rate_iops=100 \
		--verify=crc32c --verify_backlog=32 --do_verify=0 \
		--verify_fatal=1 --continue_on_error=write --randrepeat=0 \
		--ignore_error=:EIO,EPERM \
		--output="$dir/fio.out" >/dev/null 2>&1 &
	fio=$!

	# Cycle from fio's first writes, so that it opens the device while
	# it is active, to its last.
	while kill -0 $fio 2>/dev/null && [ "$(writes)" -lt 64 ]; do
		sleep 0.1
	done
	cycles=0
	apart=0
	while kill -0 $fio 2>/dev/null; do
		pflashctl inactivate --force "$dev" || break
		in_accord || apart=$((apart + 1))
		sleep 0.1
		pflashctl activate "$dev" || break
		cycles=$((cycles + 1))
		sleep 0.2
	done
	wait $fio
	rc=$?

	check "$mode: fio wrote and verified every write it completed" test $rc = 0
	check "$mode: the device went through inactivations under fio ($cycles)" \
		test $cycles -ge 3
	check "$mode: the backing file was in accord at every inactive moment" \
		test $apart = 0
	pflashctl inactivate "$dev"
	check "$mode: and it is in accord at the end" in_accord
	[ $rc = 0 ] || cat "$dir/fio.out"
	pflashctl destroy "$dev"
	dev=
done

exit $failed
