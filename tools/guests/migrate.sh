#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Payload of the two-VM migration test (tools/check/two-vms.sh), one script
# for both sides; the kernel command line says which (pflash.role=source or
# pflash.role=target).  Each VM's firmware store is its virtio disk,
# /dev/vda, backing /dev/pflash0.  The source writes to its device,
# inactivates it and sends its state over the network, a QEMU socket on
# the host's loopback; the target, created inactive on its own stale disk,
# imports the state and activates, which writes its disk in full.
#
# Results go to /dev/ttyS1 as TAP; the lines "sha256 WHAT HASH" tell the
# host what to compare the disks with once both VMs are off.

. /usr/lib/pflash-test/tap.sh
tap_open

PORT=9000
SOURCE=10.99.0.1 TARGET=10.99.0.2

# step NAME COMMAND...: one result; the first failure ends the payload.
step() {
	local name=$1
	shift
	echo "+ $*"
	tap_check "$role: $name" "$@" || exit 1
}
report_sha() { tap_say "sha256 $1 $(sha256sum <"$2" | cut -d' ' -f1)"; }

role=$(sed -n 's/.*pflash\.role=\([a-z]*\).*/\1/p' /proc/cmdline)
tap_plan 6

step "pflash is loaded, the disk and the network are up" sh -c "
	modprobe pflash nr_devices=0 &&
	modprobe virtio_pci && modprobe virtio_blk && modprobe virtio_net &&
	ip link set eth0 up &&
	ip addr add $([ "$role" = source ] && echo $SOURCE || echo $TARGET)/24 dev eth0"

case $role in
source)
	step "pflash0 is created on the disk, active" \
		pflashctl create --index 0 --backing /dev/vda --cache writeback
	step "the guest changes its variables" sh -c "
		dd if=/dev/urandom of=/dev/pflash0 bs=4096 seek=8 count=4 oflag=direct status=none &&
		dd if=/dev/zero of=/dev/pflash0 bs=4096 seek=40 count=2 oflag=direct status=none"
	report_sha device /dev/pflash0
	step "it inactivates: its disk now holds all it wrote" sh -c "
		pflashctl inactivate pflash0 && cmp /dev/pflash0 /dev/vda"
	# The target listens once it is up; a refused connection is retried
	# until it listens (the host's time limit on the VM is the guard).
	until exec 4>"/dev/tcp/$TARGET/$PORT" 2>/dev/null; do
		sleep 1
	done
	step "its state goes to the target over the network" \
		sh -c 'pflashctl export pflash0 >&4'
	exec 4>&-
	step "it stays inactive" sh -c \
		"pflashctl list -n -o STATE pflash0 | grep -qw inactive"
	;;
target)
	step "pflash0 is created on its own stale disk, inactive" \
		pflashctl create --index 0 --backing /dev/vda --inactive
	step "the disk differs from the source's so far" sh -c \
		"! cmp -s /dev/vda /usr/share/OVMF/OVMF_VARS_4M.fd"
	step "it imports the state from the network and activates" sh -c \
		"nc -l -p $PORT | pflashctl import pflash0 --activate"
	report_sha device /dev/pflash0
	step "activation wrote the device to the disk in full" \
		cmp /dev/pflash0 /dev/vda
	step "it is destroyed, with nothing left to write" \
		pflashctl destroy pflash0
	;;
*)
	tap_fail "no pflash.role= on the kernel command line"
	exit 1
	;;
esac
sync
