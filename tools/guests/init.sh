#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the test VMs (dash). Sets up a minimal system, runs
# /payload, then, on a kernel with kmemleak (the debug kernel), scans for
# leaks and prints them to the console, and powers off.
#
# Power-off: `reboot -f`, which QEMU's -no-reboot turns into an exit. This
# works on every kernel, including the debug one, which has no ACPI.

# The kernel gives init no PATH. The real tools (coreutils, util-linux,
# kmod) come before busybox's applets.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root

mount -t devtmpfs devtmpfs /dev
# Without /dev/console in the initramfs the kernel started us without stdio.
exec </dev/console >/dev/console 2>&1

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs tmpfs /run
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
hostname pflash-vm

# What udev would do at boot: the nodes of modules that are not loaded yet
# (/dev/loop-control, /dev/mapper/control, ...), whose first open loads them.
# Lines are "MODULE NODE TYPEMAJOR:MINOR", e.g. "loop loop-control c10:237".
kmod static-nodes --format=devname 2>/dev/null |
while read -r _ node spec; do
	[ -e "/dev/$node" ] && continue
	mkdir -p "$(dirname "/dev/$node")"
	majmin=${spec#?}
	mknod "/dev/$node" "${spec%"$majmin"}" "${majmin%:*}" "${majmin#*:}"
done

set -a
. /etc/pflash-vm.env
set +a

# Fault injection (debug kernel): one line per injected failure, not a
# stack trace, which the judge would take for a splat.
for f in /sys/kernel/debug/fail*/verbose; do
	[ -e "$f" ] && echo 1 >"$f"
done

KMEMLEAK=/sys/kernel/debug/kmemleak
if [ -e "$KMEMLEAK" ]; then
	# Forget what boot left unreferenced: only the payload's leaks count.
	echo scan >"$KMEMLEAK"
	echo clear >"$KMEMLEAK"
fi

echo "pflash-vm: $PFLASH_KERNEL ($(uname -r)) running /payload"
/payload
echo "pflash-vm: /payload exited with status $?"

if [ -e "$KMEMLEAK" ]; then
	# kmemleak reports an object only once a scan finds it unreferenced and
	# older than 5 s: scan twice, with a pause between.
	echo "pflash-vm: kmemleak scan"
	echo scan >"$KMEMLEAK"
	sleep 6
	echo scan >"$KMEMLEAK"
	cat "$KMEMLEAK"
	echo "pflash-vm: kmemleak scan done"
fi

sync
echo "pflash-vm: powering off"
reboot -f
