#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make soak`: one VM on the debug kernel (KASAN, lockdep, kmemleak, ...)
# works four pflash devices, two in each cache mode, for a fixed number of
# operations: fio with verify on each, flushes, writebacks and moves among
# them, under periodic memory pressure (tools/soak/guest.sh).  It passes
# with every operation done, 0 fio verify errors, 0 kernel splats and
# kmemleak clean at the end (tools/judge/judge.py).  It ends with the closing
# line of make check, "N passed, N failed, N skipped".
#
# Usage: soak.sh [KERNEL]        (default: debug)
# Environment: SOAK_OPS (operations per device, default 12: about five
# minutes on the debug kernel), SOAK_SEED (default random), SOAK_SIZE
# (MiB per device, default 8).  Logs in build/runs/soak-DATE/.

set -uo pipefail
. "$(dirname "$0")/../lib/harness.sh"
. "$REPO/tools/judge/judge.sh"

KERNEL=${1:-debug}
OPS=${SOAK_OPS:-12}
SIZE=${SOAK_SIZE:-8}
SEED=${SOAK_SEED:-$(od -An -N3 -tu4 /dev/urandom | tr -d ' ')}

# kmemleak_verdict CONSOLE: kmemleak clean only if it ran: it started, was
# not disabled on the way (its pool exhausted, say), and scanned after the
# soak, once pflash was unloaded (tools/guests/init.sh).  What it found
# then are "unreferenced object" lines, which the judge counts as splats too.
kmemleak_verdict() {
	local c=$1 leaks

	leaks=$(tr -d '\r' <"$c" | grep -c 'unreferenced object')
	if ! grep -q 'kmemleak: Kernel memory leak detector initialized' "$c"; then
		result fail soak "kmemleak: not running on $KERNEL"
	elif grep -Eq 'kmemleak: .*(disabled|[Cc]annot allocate)' "$c"; then
		result fail soak "kmemleak: disabled during the soak: $(grep -Em1 'kmemleak: .*(disabled|[Cc]annot allocate)' "$c")"
	elif ! tr -d '\r' <"$c" | grep -qx 'pflash-vm: kmemleak scan done'; then
		result fail soak "kmemleak: no scan at the end"
	elif [ "$leaks" != 0 ]; then
		result fail soak "kmemleak: $leaks unreferenced objects after the soak"
	else
		result pass soak "kmemleak: scanned after pflash was unloaded, 0 unreferenced objects"
	fi
}

lock_build
run=$BUILD/runs/soak-$(date +%Y%m%d-%H%M%S)
mkdir -p "$run"
export RESULTS=$run/results
: >"$RESULTS"
log "soak on $KERNEL: $OPS operations per device, seed $SEED (SOAK_SEED=$SEED runs it again); logs: $run"

if ! make -C "$SRC/tools/pflashctl" >"$run/pflashctl.log" 2>&1; then
	result fail soak "pflashctl: build failed (log: $run/pflashctl.log)"
elif ! "$REPO/tools/kernels/kernels.sh" "$KERNEL" >"$run/kernel.log" 2>&1; then
	result fail soak "$KERNEL: the kernel could not be prepared (log: $run/kernel.log)"
elif ! ko=$("$REPO/tools/kernels/module.sh" "$KERNEL" 2>"$run/module.log"); then
	result fail soak "pflash.ko: build failed (log: $run/module.log)"
elif ! "$REPO/tools/images/initramfs.sh" -k "$KERNEL" -p "$REPO/tools/soak/guest.sh" \
	-o "$BUILD/vm/$KERNEL/soak.cpio" -m "$ko" \
	-c "$SRC/tools/pflashctl/pflashctl" >"$run/initramfs.log" 2>&1; then
	result fail soak "initramfs: could not be built (log: $run/initramfs.log)"
else
	mke2fs -q -t ext4 -F "$run/disk.img" 256M
	start=$SECONDS
	"$REPO/tools/boot/run.sh" -k "$KERNEL" -i "$BUILD/vm/$KERNEL/soak.cpio" \
		-d "$run" -m 2G -s 2 -t 1800 \
		-a "soak.ops=$OPS soak.seed=$SEED soak.size=$SIZE" -- \
		-drive "file=$run/disk.img,if=virtio,format=raw,cache=none" || true
	judge_vm "soak/$KERNEL" "$run" || true
	kmemleak_verdict "$run/console.log"
	tr -d '\r' <"$run/tap.log" | sed -n "s/^# \(soak: .*\)$/[soak\/$KERNEL] \1/p"
	log "the soak took $((SECONDS - start)) s"
fi
judge_summary "$RESULTS"
