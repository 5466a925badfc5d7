#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The replay test: a VM records, with Debian's dm-log-writes, every write
# that reaches the file system holding pflash's backing files, while pflash
# devices in both cache modes take records with mixed writes, flushes and
# FUA writes; then it replays the log to every flush, FUA write and mark,
# and checks at each that every record pflash had acknowledged by then is
# in the backing file (tools/crash/guest.sh, crash.role=replay, and
# lwreplay.c).  A kill cannot see the order of pflash's writes and fsyncs
# below the page cache of the guest; the log can.
#
# The seed (CRASH_SEED, default random) decides the writes; REPLAY_RECORDS
# (default 150) records are written in each cache mode.
#
# Usage: RESULTS=FILE replay.sh KERNEL INITRD OUTDIR
# Results (tools/judge/judge.sh) are recorded under "KERNEL/replay".

set -euo pipefail
. "$(dirname "$0")/../lib/harness.sh"
. "$REPO/tools/judge/judge.sh"

KERNEL=${1:?usage: replay.sh KERNEL INITRD OUTDIR}
INITRD=${2:?usage: replay.sh KERNEL INITRD OUTDIR}
OUTDIR=${3:?usage: replay.sh KERNEL INITRD OUTDIR}
WHERE=$KERNEL/replay
RECORDS=${REPLAY_RECORDS:-150}
SEED=${CRASH_SEED:-$(od -An -N3 -tu4 /dev/urandom | tr -d ' ')}

mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
log "$KERNEL: dm-log-writes replay, seed $SEED (CRASH_SEED=$SEED reruns these writes): $OUTDIR"

# The file system: small, so that a copy of it is cheap; the backing file
# erased flash (0xff), written in full, so that each block of it has its
# place on the device from the start (guest.sh, replay_check).  4 KiB
# blocks, as the records.  The first third of the file takes the
# writethrough run, the second the writeback run, the last the control: a
# writer that acknowledges without flushing, whose records the check must
# find missing at each of its acknowledgements.
stage=$OUTDIR/stage
rm -rf "$stage" && mkdir -p "$stage"
head -c $((3 * RECORDS * 4096)) /dev/zero | tr '\0' '\377' >"$stage/backing"
mke2fs -q -t ext4 -b 4096 -d "$stage" -F "$OUTDIR/data.img" 16M >/dev/null
rm -rf "$stage"
rm -f "$OUTDIR/log.img"
truncate -s 512M "$OUTDIR/log.img"

"$REPO/tools/boot/run.sh" -k "$KERNEL" -i "$INITRD" -d "$OUTDIR" -m 768M -s 1 \
	-t 600 -a "crash.role=replay crash.run=$((2 * SEED)) crash.seed=$SEED crash.count=$RECORDS" -- \
	-drive "file=$OUTDIR/data.img,if=virtio,format=raw,cache=none" \
	-drive "file=$OUTDIR/log.img,if=virtio,format=raw,cache=none" || true
failed=0
judge_vm "$WHERE" "$OUTDIR" || failed=1
# The figures, as the guest gave them.
tr -d '\r' <"$OUTDIR/tap.log" | sed -n 's/^# \(replay.*\)$/[replay] \1/p'
exit $failed
