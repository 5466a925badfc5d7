#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make demo`: boot a VM on Debian's 6.1 (deb61) with pflash.ko and
# pflashctl, run tools/guests/demo.sh in it and show its console as it
# goes. Exits 0 if the demo ran to its end.
#
# Usage: demo.sh [PAYLOAD]     (default: tools/guests/demo.sh)

set -euo pipefail
. "$(dirname "$0")/../lib/harness.sh"

PAYLOAD=${1:-$REPO/tools/guests/demo.sh}
KERNEL=deb61
lock_build
out=$BUILD/runs/demo-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"

# Quiet preparation; a step that fails shows its log.
prep() {
	local logf=$out/$1
	shift
	"$@" 2>"$logf" || { cat "$logf" >&2; die "failed: $* (log: $logf)"; }
}

log "preparing the $KERNEL kernel, pflash.ko and pflashctl"
prep kernel.log "$REPO/tools/kernels/kernels.sh" "$KERNEL" >/dev/null
ko=$(prep module.log "$REPO/tools/kernels/module.sh" "$KERNEL")
prep pflashctl.log make -s -C "$SRC/tools/pflashctl" >/dev/null
initrd=$(prep initramfs.log "$REPO/tools/images/initramfs.sh" -k "$KERNEL" \
	-p "$PAYLOAD" -o "$BUILD/vm/demo/initramfs.cpio" -m "$ko" \
	-c "$SRC/tools/pflashctl/pflashctl")

log "booting (console also in $out/console.log)"
# quiet: only the demo and the kernel's errors on the console.
"$REPO/tools/boot/run.sh" -k "$KERNEL" -i "$initrd" -d "$out" -t 600 -a quiet -f ||
	die "the VM failed (console: $out/console.log)"
grep -q '^pflash-vm: /payload exited with status 0' "$out/console.log" ||
	die "the demo failed (console: $out/console.log)"
