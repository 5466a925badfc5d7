#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The durability tests, as `make check` runs them on one kernel: crashrec
# and lwreplay built, a lean initramfs with them (tools/crash/guest.sh as
# its payload), then the replay test (replay.sh) and the power-loss test
# (power-loss.sh), side by side.  Documentation/pflash/durability.rst
# describes both.
#
# Usage: RESULTS=FILE run.sh KERNEL PFLASH_KO PFLASHCTL OUTDIR
# Environment: CRASH_SEED and the settings of power-loss.sh and replay.sh.

set -uo pipefail
. "$(dirname "$0")/../lib/harness.sh"
. "$REPO/tools/judge/judge.sh"

KERNEL=${1:?usage: run.sh KERNEL PFLASH_KO PFLASHCTL OUTDIR}
KO=${2:?usage: run.sh KERNEL PFLASH_KO PFLASHCTL OUTDIR}
CTL=${3:?usage: run.sh KERNEL PFLASH_KO PFLASHCTL OUTDIR}
OUTDIR=${4:?usage: run.sh KERNEL PFLASH_KO PFLASHCTL OUTDIR}
HERE=$REPO/tools/crash
# Its own binaries: the jobs of two kernels may build them at once.
bin=$BUILD/crash/$KERNEL

mkdir -p "$OUTDIR" "$bin"
# One seed for both tests, printed by each.
export CRASH_SEED=${CRASH_SEED:-$(od -An -N3 -tu4 /dev/urandom | tr -d ' ')}

for p in crashrec lwreplay; do
	if ! cc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$bin/$p" "$HERE/$p.c" \
		>"$OUTDIR/$p.log" 2>&1; then
		result fail "$KERNEL/crash" "$p: build failed (log: $OUTDIR/$p.log)"
		exit 1
	fi
done
initrd=$BUILD/vm/$KERNEL/crash.cpio
if ! "$REPO/tools/images/initramfs.sh" -k "$KERNEL" -p "$HERE/guest.sh" \
	-o "$initrd" -m "$KO" -c "$CTL" -l -x "$bin/crashrec" \
	-x "$bin/lwreplay" >"$OUTDIR/initramfs.log" 2>&1; then
	result fail "$KERNEL/crash" "initramfs: could not be built (log: $OUTDIR/initramfs.log)"
	exit 1
fi

start=$SECONDS
"$HERE/replay.sh" "$KERNEL" "$initrd" "$OUTDIR/replay" \
	>"$OUTDIR/replay.log" 2>&1 &
replay=$!
failed=0
"$HERE/power-loss.sh" "$KERNEL" "$initrd" "$OUTDIR/power-loss" || failed=1
wait "$replay" || failed=1
cat "$OUTDIR/replay.log"
log "$KERNEL: the durability tests took $((SECONDS - start)) s"
exit $failed
