#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Payload of the benchmark VM (tools/bench/bench.sh, `make bench`), run by
# /init.  It measures, in this one VM:
#
#  1. fio, interleaved, on devices of the same size: pflash without a
#     backing file, pflash in writeback and in writethrough mode over files
#     on tmpfs, brd, zram and loop over a file on tmpfs.  Each repetition
#     runs every workload on every device, one job after the other, the
#     device order rotated from one repetition to the next.
#  2. migration, for each device size: dd reading the device, export and
#     import, the stream's size for a mostly erased and a full random
#     image; the move, from the source's inactivate to the target's
#     activation, of a source whose data is durable (writethrough) and of
#     one written in full just before (writeback, all dirty), against dd
#     copying the device into a file with fsync; the full flush against dd
#     writing the same bytes.
#  3. live moves, for each live size: export --live | import --activate
#     of a device in writethrough mode while fio writes 4 KiB at random
#     places at 1 MiB/s; the downtime, from the start of the source's
#     inactivation to the end of the target's activation, the passes and
#     the bytes they sent.
#
# It only measures: the host parses and judges (tools/bench/report.py).
# The raw results (fio's JSON, results.txt, the system's settings) are
# written as a tar archive to the raw disk /dev/vda after every phase,
# which the host unpacks.
#
# Settings, from the kernel command line (bench.sh sets them):
#   bench.clock=C       icount or wall: what the guest's clock counts
#   bench.fio=0|1       whether to run the fio part
#   bench.size=MiB      size of the fio devices
#   bench.runs=N        repetitions of fio and of each migration size
#   bench.runtime=T     fio's time per job, e.g. 500ms (after bench.ramp=T)
#   bench.sizes=LIST    migration sizes in KiB, comma-separated
#   bench.live=LIST     live move sizes in KiB, comma-separated

set -u
export LC_ALL=C

OUT=/tmp/bench-out
mkdir -p "$OUT/fio"
RES=$OUT/results.txt
: >"$RES"

arg() {
	local v
	v=$(tr ' ' '\n' </proc/cmdline | sed -n "s/^bench\.$1=//p" | tail -n 1)
	echo "${v:-$2}"
}
CLOCK=$(arg clock icount)
FIO=$(arg fio 1)
SIZE_MB=$(arg size 64)
RUNS=$(arg runs 3)
RUNTIME=$(arg runtime 500ms)
RAMP=$(arg ramp 100ms)
SIZES=$(arg sizes 4096,65536,262144)
LIVE=$(arg live 65536,262144)

say() { echo "bench: $*"; }
# The results: one line per figure, "key=value ...".
res() { echo "$*" >>"$RES"; }
fail() {
	say "FAILED: $*"
	res "error msg=$(echo "$*" | tr ' =' '_:')"
}

# Microseconds since the epoch, from bash's $EPOCHREALTIME.
now_us() {
	local t=$EPOCHREALTIME
	echo $((10#${t/./}))
}

# timed VAR CMD...: run CMD, set VAR to its time in microseconds; its
# status is CMD's.
timed() {
	local __var=$1 t0 t1 rc
	shift
	t0=$(now_us)
	"$@"
	rc=$?
	t1=$(now_us)
	printf -v "$__var" '%s' $((t1 - t0))
	return $rc
}

pf() { pflashctl "$@"; }

# The device's short name: /dev/pflash3 -> pflash3.
short() { echo "${1#/dev/}"; }

# --- the system --------------------------------------------------------------
modprobe pflash nr_devices=0 || { fail "modprobe pflash"; }
modprobe virtio_pci 2>/dev/null
modprobe virtio_blk 2>/dev/null
{
	echo "kernel $(uname -r)"
	echo "cpus $(nproc)"
	grep -E '^(MemTotal|MemFree)' /proc/meminfo
	echo "fio $(fio --version)"
	echo "cmdline $(cat /proc/cmdline)"
} >"$OUT/system.txt"
grep -E '^(name|driver)' /proc/crypto >"$OUT/crypto.txt"
res "crc32c drivers=$(grep -A1 '^name *: crc32c$' /proc/crypto | sed -n 's/^driver *: //p' | tr '\n' ' ' | sed 's/ $//; s/ /,/g')"
# The kernel's CRC-32C, alone: tcrypt's speed test of the crc32c hash the
# stream's checksums use (mode 319).  The module refuses to stay loaded
# once it has run; its figures go to the kernel log, which is saved with
# the results and read by report.py.
modprobe tcrypt mode=319 sec=1 2>/dev/null || :
res "system kernel=$(uname -r) cpus=$(nproc) clock=$CLOCK sse42=$(grep -qw sse4_2 /proc/cpuinfo && echo 1 || echo 0) size_mb=$SIZE_MB runs=$RUNS runtime=$RUNTIME ramp=$RAMP"
say "$(uname -r), $(nproc) CPUs, $(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo) MiB"

# --- 1. fio --------------------------------------------------------------------
bench_fio() {
	local size=$((SIZE_MB << 20)) d r dev wl i n
	local -A devs=()
	local names=(pflash pflash-wb pflash-wt brd zram loop)

	say "fio: creating the devices, ${SIZE_MB} MiB each"
	devs[pflash]=$(pf create --size "${SIZE_MB}M" --show) ||
		{ fail "pflash create"; return 1; }
	truncate -s "$size" /tmp/wb.img /tmp/wt.img /tmp/loop.img
	devs[pflash-wb]=$(pf create --backing /tmp/wb.img --cache writeback --show) ||
		{ fail "pflash writeback create"; return 1; }
	devs[pflash-wt]=$(pf create --backing /tmp/wt.img --cache writethrough --show) ||
		{ fail "pflash writethrough create"; return 1; }
	modprobe brd rd_nr=1 rd_size=$((SIZE_MB * 1024)) max_part=0 ||
		{ fail "modprobe brd"; return 1; }
	devs[brd]=/dev/ram0
	modprobe zram num_devices=1 || { fail "modprobe zram"; return 1; }
	echo "${SIZE_MB}M" >/sys/block/zram0/disksize ||
		{ fail "zram disksize"; return 1; }
	devs[zram]=/dev/zram0
	devs[loop]=$(losetup --find --show /tmp/loop.img) ||
		{ fail "losetup"; return 1; }

	for d in "${names[@]}"; do
		dev=${devs[$d]}
		n=$(short "$dev")
		res "fio-dev name=$d dev=$n" \
		    "scheduler=$(tr ' ' ',' </sys/block/$n/queue/scheduler)" \
		    "max_sectors_kb=$(cat /sys/block/$n/queue/max_sectors_kb)" \
		    "nomerges=$(cat /sys/block/$n/queue/nomerges)" \
		    "iostats=$(cat /sys/block/$n/queue/iostats)"
	done
	
	# Every device filled once, so that reads read data (brd and zram
	# read unwritten pages as zeros, without a copy).
	say "fio: filling the devices"
	for d in "${names[@]}"; do
		fio --name=fill --filename="${devs[$d]}" --rw=write --bs=1M \
			--ioengine=libaio --iodepth=4 --direct=1 --size="$size" \
			--eta=never --output=/dev/null || fail "fill $d"
	done

	# The workloads: name, then fio options.
	local -a wls=(
		"randread-4k-qd1 --rw=randread --bs=4k --iodepth=1"
		"randread-4k-qd32 --rw=randread --bs=4k --iodepth=32"
		"randwrite-4k-qd1 --rw=randwrite --bs=4k --iodepth=1"
		"randwrite-4k-qd32 --rw=randwrite --bs=4k --iodepth=32"
		"read-1m --rw=read --bs=1M --iodepth=1"
		"write-1m --rw=write --bs=1M --iodepth=1"
	)
	for ((r = 1; r <= RUNS; r++)); do
		local jobs=()
		for w in "${wls[@]}"; do
			for ((i = 0; i < ${#names[@]}; i++)); do
				d=${names[$(((i + r) % ${#names[@]}))]}
				jobs+=(--name="${w%% *}@$d" --filename="${devs[$d]}"
				       ${w#* } --stonewall)
			done
		done
		say "fio: repetition $r of $RUNS (${#wls[@]} workloads x ${#names[@]} devices, ${RUNTIME} each)"
		# Before every job, the writeback device writes back what the
		# last write jobs left: else its periodic writeback would run
		# inside another job's window, on the one CPU that job has, and
		# take its time (with icount, always the same job's).
		fio --ioengine=libaio --direct=1 --time_based --eta=never \
			--exec_prerun="pflashctl flush ${devs[pflash-wb]}" \
			--runtime="$RUNTIME" --ramp_time="$RAMP" \
			--size="$size" --norandommap --randrepeat=1 \
			--clat_percentiles=0 --output-format=json \
			--output="$OUT/fio/rep$r.json" "${jobs[@]}" ||
			fail "fio repetition $r"
	done

	say "fio: removing the devices"
	pf destroy "${devs[pflash]}" "${devs[pflash-wb]}" "${devs[pflash-wt]}"
	losetup -d "${devs[loop]}"
	echo 1 >/sys/block/zram0/reset
	rmmod zram brd
	rm -f /tmp/wb.img /tmp/wt.img /tmp/loop.img
}

# --- 2. migration ------------------------------------------------------------
# fill DEV BYTES KIND: random: every byte written, from fio's random buffers;
# erased: one 4 KiB block of data per MiB (at least one), the rest erased.
fill() {
	local dev=$1 bytes=$2 kind=$3 bs skip
	bs=$(dd_bs "$bytes")
	case $kind in
	random)
		fio --name=fill --filename="$dev" --rw=write --bs="$bs" \
			--ioengine=libaio --iodepth=4 --direct=1 \
			--size="$bytes" --eta=never --output=/dev/null ;;
	erased)
		# Write 4 KiB, skip the rest of each MiB (of the device).
		skip=$(((bs >> 10) - 4))
		fio --name=fill --filename="$dev" --rw=write:"${skip}k" --bs=4k \
			--ioengine=psync --direct=1 --size="$bytes" \
			--eta=never --output=/dev/null ;;
	esac
}

# dd of the whole device, in 1 MiB blocks (or the device's size).
dd_bs() {
	local bytes=$1
	[ "$bytes" -lt $((1 << 20)) ] && echo "$bytes" || echo 1048576
}

# Export, import and dd reading, on devices without a backing file.
bench_stream() {
	local bytes=$1 kind=$2 src dst us r runs=$RUNS ssize bs
	bs=$(dd_bs "$bytes")
	src=$(pf create --size "$bytes" --show) || { fail "create $bytes"; return 1; }
	fill "$src" "$bytes" "$kind" || fail "fill $src $kind"
	for ((r = 1; r <= runs; r++)); do
		timed us dd if="$src" of=/dev/null bs="$bs" iflag=direct status=none &&
			res "mig size=$bytes image=$kind what=dd-read rep=$r bytes=$bytes us=$us"
		# Into a pipe, as to ssh: the kernel writes it, cat reads it.
		timed us sh -c "pflashctl export -q $src | cat >/dev/null" &&
			res "mig size=$bytes image=$kind what=export rep=$r bytes=$bytes us=$us"
	done
	pf export -q "$src" -o /tmp/stream.pfs || fail "export $src"
	ssize=$(stat -c %s /tmp/stream.pfs)
	res "stream size=$bytes image=$kind stream_bytes=$ssize"
	pf inspect /tmp/stream.pfs >"$OUT/inspect-$bytes-$kind.txt" 2>&1
	# pflashctl checks every record as it passes, on export and import
	# alike: its check alone, without the kernel.
	for ((r = 1; r <= runs; r++)); do
		timed us sh -c "pflashctl inspect /tmp/stream.pfs >/dev/null" &&
			res "mig size=$bytes image=$kind what=inspect rep=$r bytes=$bytes us=$us"
	done
	dst=$(pf create --size "$bytes" --inactive --show) ||
		{ fail "create inactive $bytes"; return 1; }
	for ((r = 1; r <= runs; r++)); do
		timed us pf import -q "$dst" -i /tmp/stream.pfs &&
			res "mig size=$bytes image=$kind what=import rep=$r bytes=$bytes us=$us"
	done
	cmp "$src" "$dst" || fail "import $bytes $kind: the devices differ"
	pf destroy "$src" "$dst"
	rm -f /tmp/stream.pfs
}

# A move between two devices with backing files on tmpfs: the source's
# inactivate, the stream through a pipe, the target's activation (the full
# flush of what it imported).  MODE is the source's: writethrough, its data
# durable when the move starts, as a firmware store's is once the VM is
# stopped (the "store" moves); or writeback, written in full just before,
# so that the inactivation writes it all back.  Against it, dd copying the
# device into a file of the target's size with fsync: the floor for any
# move.  Then, once, the full flush against dd writing the same bytes.
bench_move() {
	local bytes=$1 mode=$2 src dst us t_in t_xfer t_act t_dd r bs wbi=()
	bs=$(dd_bs "$bytes")
	# Written once, so that every repetition writes over pages the files
	# already have: the first would otherwise also pay for tmpfs's
	# allocation of them, which dd's copy and the activation both do.
	for f in /tmp/a.img /tmp/b.img /tmp/c.img; do
		head -c "$bytes" /dev/zero >"$f"
	done
	# No periodic writeback: everything is still dirty at the move.
	[ "$mode" = writeback ] && wbi=(--writeback-interval 0)
	src=$(pf create --backing /tmp/a.img --cache "$mode" "${wbi[@]}" --show) ||
		{ fail "create source $bytes"; return 1; }
	dst=$(pf create --backing /tmp/b.img --inactive --show) ||
		{ fail "create target $bytes"; return 1; }
	for ((r = 1; r <= RUNS; r++)); do
		if [ "$r" -gt 1 ]; then
			pf inactivate "$dst" && pf activate "$src" ||
				{ fail "move $bytes: reset"; break; }
		fi
		fill "$src" "$bytes" random || fail "fill $src"
		timed t_dd dd if="$src" of=/tmp/c.img bs="$bs" iflag=direct \
			conv=notrunc,fsync status=none || fail "dd copy $bytes"
		timed t_in pf inactivate "$src" &&
		timed t_xfer sh -c "pflashctl export -q $src | pflashctl import -q $dst" &&
		timed t_act pf activate "$dst" ||
			{ fail "move $bytes"; break; }
		res "move size=$bytes mode=$mode rep=$r inactivate_us=$t_in transfer_us=$t_xfer activate_us=$t_act us=$((t_in + t_xfer + t_act)) ddcopy_us=$t_dd"
	done
	cmp "$dst" /tmp/b.img || fail "move $bytes: the target's file differs"
	pf destroy "$src"
	rm -f /tmp/a.img
	if [ "$mode" = writeback ]; then
		for ((r = 1; r <= RUNS; r++)); do
			timed us pf flush --full "$dst" &&
				res "mig size=$bytes image=random what=flush rep=$r bytes=$bytes us=$us"
			timed us dd if="$dst" of=/tmp/c.img bs="$bs" iflag=direct \
				conv=notrunc,fsync status=none &&
				res "mig size=$bytes image=random what=dd-write rep=$r bytes=$bytes us=$us"
		done
	fi
	pf destroy "$dst"
	rm -f /tmp/b.img /tmp/c.img
}

# A live move with shared storage: the source in writethrough mode over a
# file on tmpfs, the target created inactive over the same file, while fio
# writes 4 KiB at random places of the source at 1 MiB/s (of guest time):
# `pflashctl export --live -J | pflashctl import --activate`.  The
# downtime runs from the start of the source's inactivation, which the
# export's JSON dates (inactive-seconds before its end), to the end of the
# import, once the target is active and has written what the move changed.
bench_live() {
	local bytes=$1 src dst r writer t_exp t_imp inact passes sent rc
	truncate -s "$bytes" /tmp/a.img
	src=$(pf create --backing /tmp/a.img --show) ||
		{ fail "create live source $bytes"; return 1; }
	fill "$src" "$bytes" random || fail "fill $src"
	dst=$(pf create --backing /tmp/a.img --inactive --show) ||
		{ fail "create live target $bytes"; return 1; }
	for ((r = 1; r <= RUNS; r++)); do
		if [ "$r" -gt 1 ]; then
			pf inactivate "$dst" && pf activate "$src" ||
				{ fail "live $bytes: reset"; break; }
		fi
		# Its writes fail once the source is inactive, which ends it.
		fio --name=live-writer --filename="$src" --rw=randwrite \
			--bs=4k --direct=1 --ioengine=psync --rate=1m \
			--time_based --runtime=3600 --output=/dev/null &
		writer=$!
		sleep 1
		# --force: the final inactivation happens under the writer.
		{
			pflashctl export --live --force -J "$src" 2>/tmp/live.json
			echo "$? $(now_us)" >/tmp/live.exp
		} | {
			pflashctl import -q --activate "$dst"
			echo "$? $(now_us)" >/tmp/live.imp
		}
		kill "$writer" 2>/dev/null
		wait "$writer"
		read -r rc t_exp </tmp/live.exp
		[ "$rc" = 0 ] || { fail "live $bytes: export"; break; }
		read -r rc t_imp </tmp/live.imp
		[ "$rc" = 0 ] || { fail "live $bytes: import"; break; }
		inact=$(sed -n 's/.*"inactive-seconds": \([0-9.e+-]*\).*/\1/p' \
			/tmp/live.json)
		passes=$(grep -c '"pass":' /tmp/live.json)
		sent=$(sed -n 's/.*"stream-bytes": \([0-9]*\).*/\1/p' /tmp/live.json)
		inact=$(awk -v s="$inact" 'BEGIN { printf "%d", s * 1e6 }')
		res "live size=$bytes rep=$r passes=$passes stream_bytes=$sent inactive_us=$inact downtime_us=$((t_imp - t_exp + inact))"
	done
	cmp "$src" "$dst" || fail "live $bytes: the devices differ"
	cmp "$dst" /tmp/a.img || fail "live $bytes: the file differs"
	pf destroy "$src" "$dst"
	rm -f /tmp/a.img /tmp/live.json /tmp/live.exp /tmp/live.imp
}

# The results so far to /dev/vda, after every phase: a run that reaches
# its time limit still leaves what it measured.
save() {
	[ -b /dev/vda ] || { say "no /dev/vda for the results"; return 1; }
	dmesg >"$OUT/dmesg.txt"
	tar -C "$OUT" -cf /dev/vda . && sync
}

# What one pflashctl costs, started and done: a move runs four.
for ((r = 1; r <= RUNS; r++)); do
	timed us pf list >/dev/null && res "tool what=list rep=$r us=$us"
done

start=$(now_us)
if [ "$FIO" = 1 ]; then
	bench_fio
	res "phase name=fio us=$(($(now_us) - start))"
	save
fi
for kib in ${SIZES//,/ }; do
	bytes=$((kib << 10))
	t=$(now_us)
	for kind in erased random; do
		say "migration: $kib KiB, $kind image: dd, export, import"
		bench_stream "$bytes" "$kind"
	done
	say "migration: $kib KiB: the moves, the full flush"
	bench_move "$bytes" writethrough
	bench_move "$bytes" writeback
	res "phase name=mig-$bytes us=$(($(now_us) - t))"
	save
done
for kib in ${LIVE//,/ }; do
	bytes=$((kib << 10))
	t=$(now_us)
	say "live move: $kib KiB, with a writer at 1 MiB/s"
	bench_live "$bytes"
	res "phase name=live-$bytes us=$(($(now_us) - t))"
	save
done
res "phase name=total us=$(($(now_us) - start))"

save || fail "the results could not be written to /dev/vda"
say "done"
