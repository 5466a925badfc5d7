#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`: boot one VM, run tools/vm/bench-guest.sh in it (fio on
# pflash, brd, zram and loop, interleaved; then the migration figures),
# and turn its raw results into Documentation/pflash/benchmarks.rst and
# Documentation/pflash/benchmarks.png (tools/vm/bench-report.py, gnuplot).
#
# Usage: bench.sh [KERNEL]          (default: deb61)
#
# Environment (defaults in brackets):
#   BENCH_FIO      0 to skip the fio part [1]
#   BENCH_SIZE     MiB per fio device [256]
#   BENCH_RUNS     fio repetitions [3]
#   BENCH_RUNTIME  seconds per fio job [2], after BENCH_RAMP seconds [1]
#   BENCH_SIZES    migration sizes in KiB [64,4096,65536,1048576]
#   BENCH_MIGRUNS  migration repetitions per size [5]
#   BENCH_BIGRUNS  ... for sizes of 1 GiB [1]: under TCG one move of 1 GiB
#                  (fill, writeback, export | import, full flush) takes
#                  minutes
#   BENCH_MEM      the VM's memory [7G]: the 1 GiB cases hold a device, its
#                  backing file, the target, its file and the import's
#                  staging buffer at once
#   BENCH_DOC      where the table and the plot go
#                  [$SRC/Documentation/pflash/benchmarks]
#   VM_TIMEOUT     the VM's time limit in seconds [3000]
#
# Only ratios measured in one run mean anything: TCG distorts absolute
# figures, and other VMs on the host make them wobble.  Each run keeps its
# raw results in build/runs/bench-DATE/.
#
# The VM boots with tsc=reliable.  Under TCG the kernel finds the TSCs of
# its vCPUs unsynchronized and falls back to the HPET, whose every read is
# an emulated MMIO access: then the time stamps the block layer takes for
# I/O statistics, and fio's own, would cost far more than on hardware,
# where the clock source is the TSC.  QEMU's vCPUs share one TSC.
#
# The VM's CPU has no SSE4.2 (-cpu max,sse4.2=off).  TCG emulates the
# crc32 instruction a bit at a time: at ~40 MB/s, about a thousand times
# slower than hardware runs it, it would take nearly all the time of an
# export or an import, whose kernel side (crc32c-intel) and pflashctl side
# (ISA-L) both use it.  Without SSE4.2 both take their table-driven
# CRC-32C, which is faster under TCG, but still weighs more against the
# copies than the crc32 instruction does on hardware, where it runs at
# several GB/s: TCG runs a table lookup per byte as dozens of host
# instructions, a memcpy() as a few helper calls.  The report gives the
# kernel's CRC-32C alone (tcrypt) beside export and import, so that this
# shows.  fio, brd, zram and loop compute no CRC.

set -euo pipefail
. "$(dirname "$0")/lib.sh"

KERNEL=${1:-deb61}
FIO=${BENCH_FIO:-1}
SIZE=${BENCH_SIZE:-256}
RUNS=${BENCH_RUNS:-3}
RUNTIME=${BENCH_RUNTIME:-2}
RAMP=${BENCH_RAMP:-1}
SIZES=${BENCH_SIZES:-64,4096,65536,1048576}
MIGRUNS=${BENCH_MIGRUNS:-5}
BIGRUNS=${BENCH_BIGRUNS:-1}
MEM=${BENCH_MEM:-7G}
DOC=${BENCH_DOC:-$SRC/Documentation/pflash/benchmarks}

command -v gnuplot >/dev/null || die "gnuplot is missing: run tools/deps.sh"

out=$BUILD/runs/bench-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
log "raw results and logs in $out"

prep() {
	local logf=$out/$1
	shift
	"$@" 2>"$logf" || { cat "$logf" >&2; die "failed: $* (log: $logf)"; }
}

# The module is built in a directory of the benchmark's own, and the
# initramfs goes to one too: only preparing the kernel, which `make check`
# and `make demo` share, needs the build lock, and only the first time.
env=$BUILD/kernels/$KERNEL/kernel.env
if [ ! -e "$env" ]; then
	lock_build
	log "preparing the $KERNEL kernel"
	prep kernel.log "$REPO/tools/vm/kernels.sh" "$KERNEL" >/dev/null
	exec 8>&-
fi
. "$env"
log "building pflash.ko and pflashctl"
mod=$BUILD/bench/mod-$KERNEL
mkdir -p "$mod"
rsync -a -c --delete --include=/Kbuild --include='/module/***' \
	--include='/uapi/***' --exclude='*' "$SRC/" "$mod/"
prep module.log make -C "$KDIR" M="$mod" W=1 modules >/dev/null
ko=$mod/pflash.ko
prep pflashctl.log make -s -C "$SRC/tools/pflashctl" >/dev/null
initrd=$(prep initramfs.log "$REPO/tools/vm/initramfs.sh" -k "$KERNEL" \
	-p "$REPO/tools/vm/bench-guest.sh" -o "$BUILD/bench/initramfs.cpio" \
	-m "$ko" -c "$SRC/tools/pflashctl/pflashctl")
cp "$ko" "$out/pflash.ko"
(cd "$SRC" && git describe --always --dirty 2>/dev/null || echo unknown) >"$out/version"

# The guest writes its results as a tar archive to this raw disk.
truncate -s 256M "$out/results.img"
log "booting: fio on 6 devices x 6 workloads x $RUNS runs of ${RUNTIME} s, then migration at ${SIZES} KiB"
start=$SECONDS
vm_ok=1
"$REPO/tools/vm/run.sh" -k "$KERNEL" -i "$initrd" -d "$out" -m "$MEM" \
	-t "${VM_TIMEOUT:-3000}" -f \
	-a "quiet tsc=reliable bench.fio=$FIO bench.size=$SIZE bench.runs=$RUNS bench.migruns=$MIGRUNS bench.runtime=$RUNTIME bench.ramp=$RAMP bench.sizes=$SIZES bench.bigruns=$BIGRUNS" \
	-- -cpu max,sse4.2=off \
	-drive "file=$out/results.img,if=virtio,format=raw" || vm_ok=0
log "the VM ran for $((SECONDS - start)) s"

mkdir -p "$out/results"
tar -C "$out/results" -xf "$out/results.img" ||
	die "no results on the VM's disk (console: $out/console.log)"
rm -f "$out/results.img"
grep '^error' "$out/results/results.txt" >&2 || true
# What a VM that failed, or reached its time limit, measured is kept, but
# it does not replace the documentation.
[ "$vm_ok" = 1 ] || die "the VM failed (console: $out/console.log); partial results in $out/results"
grep -q '^phase name=total' "$out/results/results.txt" ||
	die "the benchmark did not finish (console: $out/console.log); partial results in $out/results"

mkdir -p "$(dirname "$DOC")"
python3 "$REPO/tools/vm/bench-report.py" --results "$out/results" \
	--version "$(cat "$out/version")" --seconds "$SECONDS" \
	--rst "$DOC.rst" --plot-dir "$out/plot"
gnuplot -e "outfile='$DOC.png'; datadir='$out/plot'" \
	"$REPO/tools/vm/bench-plot.gp"
log "wrote $DOC.rst and $DOC.png"
