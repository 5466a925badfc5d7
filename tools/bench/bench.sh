#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`: boot one VM, run tools/bench/guest.sh in it (fio on
# pflash, brd, zram and loop, interleaved; OVMF's first-boot writes; the
# stream, the move and the live move, each against dd or the kernel's own
# devices; perf's profiles), and turn its raw results into
# Documentation/pflash/benchmarks.rst and Documentation/pflash/benchmarks.png
# (tools/bench/report.py, gnuplot), and build/bench/ratios.json, the
# figures the goals are judged on.  `make bench-quick` (BENCH_QUICK=1) runs
# a reduced set that still writes every key of ratios.json: one
# repetition, fio on 16 MiB devices, no profile, and writes only
# ratios.json and the table, which it prints.  Each run also prints how far
# each figure is from the run before's (build/bench/ratios-prev.json): two
# runs of the same tree agree within 1%.
#
# Usage: bench.sh [KERNEL]          (default: deb61)
#
# Environment (defaults in brackets, then the quick set's):
#   BENCH_CLOCK    icount or wall [icount]: see below
#   BENCH_QUICK    1 for the quick set [0]
#   BENCH_FIO      0 to skip the fio part [1]
#   BENCH_SIZE     MiB per fio device [64; 16]
#   BENCH_RUNS     repetitions, of fio and of each migration size [3; 1]
#   BENCH_RUNTIME  fio's time per job [500ms; 200ms], after BENCH_RAMP
#                  [100ms; 50ms] (guest time: with the icount clock, 1 s
#                  is 10^9 instructions)
#   BENCH_SIZES    migration sizes in KiB [4096,65536,262144; 4096,65536]
#   BENCH_LIVE     live move sizes in KiB [65536,262144]
#   BENCH_LIVEFS   the file systems of the live moves' shared file
#                  [ext4,tmpfs; ext4]
#   BENCH_PROFILE  1 to profile export, import and a live move with perf
#                  (Debian's linux-perf, in the VM) [1; 0]
#   BENCH_MEM      the VM's memory [4G]
#   BENCH_DOC      where the table and the plot go
#                  [$SRC/Documentation/pflash/benchmarks]
#   VM_TIMEOUT     the VM's time limit in seconds [3600]
#
# The clock.  With BENCH_CLOCK=icount (the default), QEMU runs the VM with
# -icount shift=0,sleep=off,align=off: guest time advances by one
# nanosecond per guest instruction, whatever the host is doing, so a
# figure repeats from run to run within about 1%.  The figures are then
# instructions, not time, and the model leaves out what instructions do
# not show: caches, memory bandwidth, the cost of one instruction against
# another (a division counts as an addition), and a string instruction
# counts once per iteration (`rep movsb` copies one byte per count, `rep
# movsq` eight).  With it the CPU is -cpu max, SSE4.2 on: the crc32
# instruction counts as one, as it costs about one on hardware.  ERMS
# (and FSRM) off: with it the kernel's out-of-line copies and page clears
# (memcpy_erms, clear_page_erms, the user copies) are `rep movsb` and `rep
# stosb`, which count once per byte, while the page copies the compiler
# inlines (memcpy_to_page(), the block layer's and brd's) are `rep movsq`,
# once per eight; hardware with ERMS moves data about as fast either way,
# and the model would make one path eight times dearer than the other.
# Without ERMS the kernel uses `rep movsq` and `rep stosq` throughout.  The VM
# has one vCPU: under -icount QEMU runs the vCPUs one after the other on
# one host thread, so a second one adds no parallelism, only scheduling;
# fio and pflash's writeback worker share the one CPU, and both count.
#
# With BENCH_CLOCK=wall, figures are wall-clock time under TCG, as before:
# two vCPUs, and no SSE4.2 (-cpu max,sse4.2=off), since TCG emulates the
# crc32 instruction a bit at a time, about a thousand times slower than
# hardware runs it.  Figures then wobble by tens of percent with the load
# of the host; only ratios between figures of the same run mean anything.
#
# Under -icount, what the instructions do must not depend on the host
# either: RDRAND and RDSEED are off (TCG draws them from the host's
# randomness), and the kernel places itself (nokaslr) and each process's
# mappings (norandmaps) where it did the run before, so that its random
# numbers, seeded from the clock alone, and its page tables and
# allocations repeat.  A figure of a few milliseconds that depends on the
# order in which processes run (a live move's downtime) would otherwise
# differ by tens of percent from one run to the next.
#
# With sleep=off, guest time leaps to the next timer whenever the guest
# is idle, however long the host takes to serve the guest's I/O (the
# results disk, /dev/vda): a wait for that disk could last the 120 s of
# guest time of the hung task detector, whose panic would end the run.
# The detector is off under -icount (hung_task_timeout_secs=0); a real
# hang still ends the run at the host's own timeout.
#
# The VM boots with tsc=reliable.  Under TCG the kernel finds the TSCs of
# its vCPUs unsynchronized and falls back to the HPET, whose every read is
# an emulated MMIO access; the block layer's and fio's time stamps would
# cost far more than on hardware, where the clock source is the TSC.
#
# Each run keeps its raw results in build/runs/bench-DATE/.

set -euo pipefail
. "$(dirname "$0")/../lib/harness.sh"

KERNEL=${1:-deb61}
CLOCK=${BENCH_CLOCK:-icount}
QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then
	SIZE=${BENCH_SIZE:-16} RUNS=${BENCH_RUNS:-1} RUNTIME=${BENCH_RUNTIME:-200ms}
	RAMP=${BENCH_RAMP:-50ms} SIZES=${BENCH_SIZES:-4096,65536}
	LIVEFS=${BENCH_LIVEFS:-ext4} PROFILE=${BENCH_PROFILE:-0}
else
	SIZE=${BENCH_SIZE:-64} RUNS=${BENCH_RUNS:-3} RUNTIME=${BENCH_RUNTIME:-500ms}
	RAMP=${BENCH_RAMP:-100ms} SIZES=${BENCH_SIZES:-4096,65536,262144}
	LIVEFS=${BENCH_LIVEFS:-ext4,tmpfs} PROFILE=${BENCH_PROFILE:-1}
fi
LIVE=${BENCH_LIVE:-65536,262144}
FIO=${BENCH_FIO:-1}
MEM=${BENCH_MEM:-4G}
DOC=${BENCH_DOC:-$SRC/Documentation/pflash/benchmarks}
RATIOS=$BUILD/bench/ratios.json

case $CLOCK in
icount)
	SMP=1
	QEMU_CLOCK=(-icount shift=0,sleep=off,align=off
		-cpu max,erms=off,fsrm=off,rdrand=off,rdseed=off)
	KARGS_CLOCK="nokaslr norandmaps hung_task_timeout_secs=0" ;;
wall)
	SMP=2
	QEMU_CLOCK=(-cpu max,sse4.2=off)
	KARGS_CLOCK= ;;
*)
	die "BENCH_CLOCK must be icount or wall" ;;
esac

# The plot (not the quick set's) needs gnuplot, the profile perf, which
# the tests do not.
[ "$QUICK" = 1 ] || ensure_pkgs gnuplot-nox
extra=()
if [ "$PROFILE" = 1 ]; then
	ensure_pkgs linux-perf
	extra=(-x /usr/bin/perf)
fi

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
	prep kernel.log "$REPO/tools/kernels/kernels.sh" "$KERNEL" >/dev/null
	exec 8>&-
fi
. "$env"
log "building pflash.ko and pflashctl"
mod=$BUILD/bench/mod-$KERNEL
mkdir -p "$mod"
rsync -a -c --delete --include=/Kbuild --include='/module/***' \
	--include='/uapi/***' --exclude='*' "$SRC/" "$mod/"
in_root=()
[ -n "${SIDROOT:-}" ] && in_root=("$REPO/tools/kernels/sid-root.sh" run)
prep module.log "${in_root[@]}" make -C "$KDIR" M="$mod" W=1 modules >/dev/null
ko=$mod/pflash.ko
prep pflashctl.log make -s -C "$SRC/tools/pflashctl" >/dev/null
initrd=$(prep initramfs.log "$REPO/tools/images/initramfs.sh" -k "$KERNEL" \
	-p "$REPO/tools/bench/guest.sh" -o "$BUILD/bench/initramfs.cpio" \
	-m "$ko" -c "$SRC/tools/pflashctl/pflashctl" "${extra[@]}")
cp "$ko" "$out/pflash.ko"
(cd "$SRC" && git describe --always --dirty 2>/dev/null || echo unknown) >"$out/version"

# The guest writes its results as a tar archive to this raw disk.
truncate -s 256M "$out/results.img"
log "booting ($CLOCK clock, $SMP vCPU): fio on 7 devices x 6 workloads x $RUNS runs of ${RUNTIME}, OVMF's writes, the stream and the move at ${SIZES} KiB, live moves at ${LIVE} KiB on ${LIVEFS}"
start=$SECONDS
vm_ok=1
"$REPO/tools/boot/run.sh" -k "$KERNEL" -i "$initrd" -d "$out" -m "$MEM" \
	-s "$SMP" -t "${VM_TIMEOUT:-3600}" -f \
	-a "quiet tsc=reliable $KARGS_CLOCK bench.clock=$CLOCK bench.fio=$FIO bench.size=$SIZE bench.runs=$RUNS bench.runtime=$RUNTIME bench.ramp=$RAMP bench.sizes=$SIZES bench.live=$LIVE bench.livefs=$LIVEFS bench.profile=$PROFILE" \
	-- "${QEMU_CLOCK[@]}" \
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

mkdir -p "$(dirname "$RATIOS")"
# The run before's figures, for this one to be compared with.
prev=$BUILD/bench/ratios-prev.json
[ -e "$RATIOS" ] && cp "$RATIOS" "$prev"
if [ "$QUICK" = 1 ]; then
	# The quick set does not replace the documentation.
	python3 "$REPO/tools/bench/report.py" --results "$out/results" \
		--version "$(cat "$out/version")" --seconds "$SECONDS" \
		--rst "$out/benchmarks.rst" --ratios "$RATIOS" --print-goals \
		--compare "$prev"
	cp "$RATIOS" "$out/ratios.json"
	log "wrote $RATIOS (table: $out/benchmarks.rst)"
	exit 0
fi
mkdir -p "$(dirname "$DOC")"
python3 "$REPO/tools/bench/report.py" --results "$out/results" \
	--version "$(cat "$out/version")" --seconds "$SECONDS" \
	--rst "$DOC.rst" --plot-dir "$out/plot" --ratios "$RATIOS" --print-goals \
	--compare "$prev"
cp "$RATIOS" "$out/ratios.json"
gnuplot -e "outfile='$DOC.png'; datadir='$out/plot'" \
	"$REPO/tools/bench/plot.gp"
log "wrote $DOC.rst, $DOC.png and $RATIOS"
