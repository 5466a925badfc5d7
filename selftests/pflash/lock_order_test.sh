#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Backing files on a real file system, and the steps of pflash that once
# froze its queue: an inactivation and an import, on devices whose
# writeback passes write files on ext4.
#
# A pass takes the device's wb_lock and writes the file, which takes the
# file system's locks, and under those the file system allocates memory,
# which may enter reclaim, which may wait for I/O on this very queue.  So
# were the queue frozen, no file I/O could run, nor could anything wait
# for wb_lock.  On a kernel with lockdep (the debug kernel), doing either
# records the cycle
#   q_usage_counter -> wb_lock -> sb_writers -> i_rwsem -> fs_reclaim
#   -> q_usage_counter
# and lockdep reports it on the console, which fails the run (found so
# before the module's fix of this, and again by the soak, tools/soak/,
# which backs its devices on ext4 too).  pflash freezes its queue no more
# (pflash_blk_replace()); this keeps it so.  The results here only say
# that each step worked.

. "$(dirname "$0")/lib.sh"

need_root
command -v mkfs.ext4 >/dev/null && command -v losetup >/dev/null ||
	skip "needs mkfs.ext4 and losetup"

dir=$(mktemp -d /tmp/pflash-lock.XXXXXX)
mount -t tmpfs -o size=80m pflash-lock "$dir"
mnt=$dir/mnt
mkdir "$mnt"
loop= a= b=
cleanup() {
	[ -n "$a" ] && pflashctl destroy --force "$a" 2>/dev/null
	[ -n "$b" ] && pflashctl destroy --force "$b" 2>/dev/null
	umount "$mnt" 2>/dev/null
	[ -n "$loop" ] && losetup -d "$loop"
	umount "$dir"
	rmdir "$dir"
}
trap cleanup EXIT

echo "1..6"
truncate -s 64M "$dir/fs.img"
if ! mkfs.ext4 -q -F "$dir/fs.img" || ! loop=$(losetup -f --show "$dir/fs.img") ||
   ! mount -t ext4 "$loop" "$mnt"; then
	result 1 "an ext4 file system on a loop device"
	exit 1
fi
result 0 "an ext4 file system on a loop device"
# Files made in the file system's directory: its locks, then allocations.
truncate -s 1M "$mnt/a.fd" "$mnt/b.fd"
a=$(pflashctl create --backing "$mnt/a.fd" --cache writeback --show) &&
	b=$(pflashctl create --backing "$mnt/b.fd" --cache writeback \
		--inactive --show)
result $? "pflash devices backed by files on it, in writeback mode"
check "a write, flushed: a pass writes the file on ext4" '
	dd if=/dev/urandom of="$a" bs=4096 count=16 oflag=direct status=none &&
	pflashctl flush "$a"'
check "more writes, then an inactivation, which writes them back" '
	dd if=/dev/urandom of="$a" bs=4096 count=16 seek=32 oflag=direct status=none &&
	pflashctl inactivate "$a" && cmp "$a" "$mnt/a.fd"'
check "an import commits into an inactive device on ext4" '
	pflashctl export "$a" | pflashctl import -q "$b" && cmp "$a" "$b"'
check "its activation writes the whole device to its file" '
	pflashctl activate "$b" && cmp "$b" "$mnt/b.fd"'
exit $failed
