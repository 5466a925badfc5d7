#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Payload of the benchmark VM (tools/bench/bench.sh, `make bench`), run by
# /init.  It measures, in this one VM, each figure against the kernel's own
# devices or dd moving the same bytes between the same two ends:
#
#  1. fio, interleaved, on devices of the same size: pflash without a
#     backing file (I/O statistics off, and on), pflash in writeback and in
#     writethrough mode over files on tmpfs, brd, zram and loop over a file
#     on tmpfs.  Each repetition runs every workload on every device, one
#     job after the other, the device order rotated from one repetition to
#     the next.  Every queue's I/O statistics are set as the figure needs,
#     whatever the device's default: off, but on pflash-iostats.
#  2. the write pattern of OVMF's first boot, replayed by fio from an I/O
#     log: 13,500 writes of 512 bytes into a variable store, on pflash in
#     writeback and in writethrough mode, and on loop, each over a copy of
#     OVMF_VARS_4M.fd on tmpfs.
#  3. the state stream, for each device size, on devices without a backing
#     file filled with random data or mostly erased: pflashctl export into
#     a file on tmpfs against dd reading the device into a file there;
#     pflashctl import from that file against dd writing the file to a
#     device; export piped into import against dd copying one device to
#     another.
#  4. the move of a device with a backing file on tmpfs, one pflashctl
#     per side (export --inactivate | import --activate), against dd
#     copying the device into a file with fsync; and the full flush.
#  5. live moves, for each live size: export --live | import --activate of
#     a device in writethrough mode while fio writes 4 KiB at random places
#     at 1 MiB/s, with shared storage: the source and the target over one
#     file on ext4 (on brd), whose change attribute proves the file equal
#     at the target's activation; and, in the full set, on tmpfs, whose
#     attribute pflash does not trust, so the activation writes the whole
#     device.  The downtime runs from the start of the source's
#     inactivation to the end of the import's process, once the target
#     is active.
#  6. (bench.profile=1) perf record of export, import and a live move:
#     what they spend their instructions on.
#
# It only measures: the host parses and judges (tools/bench/report.py).
# The raw results (fio's JSON, results.txt, perf's reports, the system's
# settings) are written as a tar archive to the raw disk /dev/vda after
# every phase, which the host unpacks.
#
# Settings, from the kernel command line (bench.sh sets them):
#   bench.clock=C       icount or wall: what the guest's clock counts
#   bench.fio=0|1       whether to run the fio part
#   bench.size=MiB      size of the fio devices
#   bench.runs=N        repetitions of fio and of each migration size
#   bench.runtime=T     fio's time per job, e.g. 500ms (after bench.ramp=T)
#   bench.sizes=LIST    migration sizes in KiB, comma-separated
#   bench.live=LIST     live move sizes in KiB, comma-separated
#   bench.livefs=LIST   file systems of the live moves: ext4, tmpfs
#   bench.profile=0|1   whether to profile with perf

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
LIVEFS=$(arg livefs ext4,tmpfs)
PROFILE=$(arg profile 0)

say() { echo "bench: $*"; }
# The results: one line per figure, "key=value ...".
res() { echo "$*" >>"$RES"; }
fail() {
	say "FAILED: $*"
	res "error msg=$(echo "$*" | tr ' =' '_:')"
}

# now_us VAR: set VAR to the microseconds since the epoch, from bash's
# $EPOCHREALTIME, with no fork: a $(...) would fork a shell into what is
# timed, and, in a live move, into its downtime.
now_us() {
	local __now=$EPOCHREALTIME
	printf -v "$1" '%s' $((10#${__now/./}))
}

# timed VAR CMD...: run CMD, set VAR to its time in microseconds; its
# status is CMD's.
timed() {
	local __var=$1 t0 t1 rc
	shift
	# What the command before deferred runs first, not inside this one's
	# time: the free of the contents an import replaced comes 1 s after
	# it (module/blk.c).  Idle, this costs no wall time (see align).
	sleep 1.1
	now_us t0
	"$@"
	rc=$?
	now_us t1
	printf -v "$__var" '%s' $((t1 - t0))
	return $rc
}

pf() { pflashctl "$@"; }

# The device's short name: /dev/pflash3 -> pflash3.
short() { echo "${1#/dev/}"; }

# iostats DEV 0|1: the queue's I/O statistics off or on.
iostats() {
	echo "$2" >"/sys/block/$(short "$1")/queue/iostats"
}

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
# pflash's own default of the I/O statistics, before any is set here.
d=$(pf create --size 64K --show) &&
	res "default iostats=$(cat "/sys/block/$(short "$d")/queue/iostats")" &&
	pf destroy "$d"
res "system kernel=$(uname -r) cpus=$(nproc) clock=$CLOCK sse42=$(grep -qw sse4_2 /proc/cpuinfo && echo 1 || echo 0) size_mb=$SIZE_MB runs=$RUNS runtime=$RUNTIME ramp=$RAMP"
say "$(uname -r), $(nproc) CPUs, $(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo) MiB"

# --- 1. fio --------------------------------------------------------------------
bench_fio() {
	local size=$((SIZE_MB << 20)) d r dev wl i n
	local -A devs=()
	local names=(pflash pflash-iostats pflash-wb pflash-wt brd zram loop)

	say "fio: creating the devices, ${SIZE_MB} MiB each"
	devs[pflash]=$(pf create --size "${SIZE_MB}M" --show) ||
		{ fail "pflash create"; return 1; }
	devs[pflash-iostats]=$(pf create --size "${SIZE_MB}M" --show) ||
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
		iostats "$dev" "$([ "$d" = pflash-iostats ] && echo 1 || echo 0)"
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
	pf destroy "${devs[pflash]}" "${devs[pflash-iostats]}" \
		"${devs[pflash-wb]}" "${devs[pflash-wt]}"
	losetup -d "${devs[loop]}"
	echo 1 >/sys/block/zram0/reset
	rmmod zram brd
	rm -f /tmp/wb.img /tmp/wt.img /tmp/loop.img
}

# --- 2. the write pattern of OVMF's first boot ----------------------------------
# OVMF's variable driver appends each variable to the store, a few words
# at a time: QEMU's pflash writes the 512-byte sector of every word it
# programs.  The replay: 13,500 writes of 512 bytes, each sector written
# four times in a row, the sectors one after the other through the store's
# first 256 KiB (its variable region), starting over at its start when
# they reach the end, as a reclaim does.  fio replays the log on a device
# as fast as it can (replay_no_stall), one write at a time, O_DIRECT.
OVMF_WRITES=13500

# ovmf_log DEV FILE: the I/O log of the pattern, on DEV.
ovmf_log() {
	awk -v dev="$1" -v n="$OVMF_WRITES" 'BEGIN {
		print "fio version 2 iolog"
		print dev " add"
		print dev " open"
		for (i = 0; i < n; i++)
			print dev " write " (int(i / 4) % 512) * 512 " 512"
		print dev " close"
	}' >"$2"
}

bench_ovmf() {
	local d dev r wbi=()
	local -A devs=()

	for d in pflash-wb pflash-wt loop; do
		cp /usr/share/OVMF/OVMF_VARS_4M.fd "/tmp/$d.fd"
	done
	devs[pflash-wb]=$(pf create --backing /tmp/pflash-wb.fd --cache writeback --show) &&
	devs[pflash-wt]=$(pf create --backing /tmp/pflash-wt.fd --show) &&
	devs[loop]=$(losetup --find --show /tmp/loop.fd) ||
		{ fail "ovmf pattern: devices"; return 1; }
	for ((r = 1; r <= RUNS; r++)); do
		for d in pflash-wb pflash-wt loop; do
			dev=${devs[$d]}
			iostats "$dev" 0
			ovmf_log "$dev" /tmp/ovmf.log
			fio --name=ovmf --read_iolog=/tmp/ovmf.log \
				--replay_no_stall=1 --ioengine=psync --direct=1 \
				--eta=never --clat_percentiles=0 \
				--output-format=json \
				--output="$OUT/fio/ovmf-$d-$r.json" ||
				fail "ovmf pattern on $d"
			res "ovmf dev=$d rep=$r json=fio/ovmf-$d-$r.json"
		done
	done
	pf destroy "${devs[pflash-wb]}" "${devs[pflash-wt]}"
	losetup -d "${devs[loop]}"
	rm -f /tmp/pflash-wb.fd /tmp/pflash-wt.fd /tmp/loop.fd /tmp/ovmf.log
}

# --- 3. the state stream -----------------------------------------------------
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

# mig SIZE KIND WHAT REP US: one figure of the stream's part.
mig() {
	res "mig size=$1 image=$2 what=$3 rep=$4 bytes=$1 us=$5"
}

# Export, import and export piped into import, on devices without a
# backing file, each against dd moving the same bytes between the same
# two ends: the device and a file on tmpfs, or two devices.  Every file
# is written anew each time, as the export writes its own.
bench_stream() {
	local bytes=$1 kind=$2 src dst dev us r ssize bs
	bs=$(dd_bs "$bytes")
	src=$(pf create --size "$bytes" --show) &&
	dst=$(pf create --size "$bytes" --inactive --show) &&
	dev=$(pf create --size "$bytes" --show) ||
		{ fail "create $bytes"; return 1; }
	fill "$src" "$bytes" "$kind" || fail "fill $src $kind"
	for ((r = 1; r <= RUNS; r++)); do
		rm -f /tmp/dd.img /tmp/stream.pfs
		timed us dd if="$src" of=/tmp/dd.img bs="$bs" iflag=direct \
			status=none && mig "$bytes" "$kind" dd-to-file "$r" "$us"
		timed us pf export -q "$src" -o /tmp/stream.pfs &&
			mig "$bytes" "$kind" export "$r" "$us"
		timed us dd if=/tmp/dd.img of="$dev" bs="$bs" oflag=direct \
			status=none && mig "$bytes" "$kind" dd-from-file "$r" "$us"
		timed us pf import -q -i /tmp/stream.pfs "$dst" &&
			mig "$bytes" "$kind" import "$r" "$us"
		timed us dd if="$src" of="$dev" bs="$bs" iflag=direct \
			oflag=direct status=none &&
			mig "$bytes" "$kind" dd-dev-to-dev "$r" "$us"
		timed us sh -c "pflashctl export -q $src | pflashctl import -q $dst" &&
			mig "$bytes" "$kind" pipe "$r" "$us"
	done
	cmp "$src" "$dst" || fail "import $bytes $kind: the devices differ"
	ssize=$(stat -c %s /tmp/stream.pfs)
	res "stream size=$bytes image=$kind stream_bytes=$ssize"
	pf inspect /tmp/stream.pfs >"$OUT/inspect-$bytes-$kind.txt" 2>&1
	# pflashctl checks every record as it passes, on export and import
	# alike: its check alone, without the kernel.
	for ((r = 1; r <= RUNS; r++)); do
		timed us sh -c "pflashctl inspect /tmp/stream.pfs >/dev/null" &&
			mig "$bytes" "$kind" inspect "$r" "$us"
	done
	pf destroy "$src" "$dst" "$dev"
	rm -f /tmp/stream.pfs /tmp/dd.img
}

# --- 4. the move -------------------------------------------------------------
# A move between two devices with backing files on tmpfs, one pflashctl
# per side: export --inactivate | import --activate, from the start of the
# source's inactivation to the end of the target's activation (which
# writes the whole device: tmpfs keeps no change attribute pflash trusts).
# MODE is the source's: writethrough, its data durable when the move
# starts, as a firmware store's is once the VM is stopped (the "store"
# moves); or writeback, written in full just before, so that the
# inactivation writes it all back.  Against it, dd copying the device into
# a file of the target's size with fsync: the floor for any move.  Then,
# once, the full flush against dd writing the same bytes.
bench_move() {
	local bytes=$1 mode=$2 src dst us t_dd r bs wbi=()
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
		timed us sh -c "pflashctl export -q --inactivate $src | pflashctl import -q --activate $dst" ||
			{ fail "move $bytes"; break; }
		res "move size=$bytes mode=$mode rep=$r us=$us ddcopy_us=$t_dd"
	done
	cmp "$dst" /tmp/b.img || fail "move $bytes: the target's file differs"
	pf destroy "$src"
	rm -f /tmp/a.img
	if [ "$mode" = writeback ]; then
		for ((r = 1; r <= RUNS; r++)); do
			timed us pf flush --full "$dst" &&
				mig "$bytes" random flush "$r" "$us"
			timed us dd if="$dst" of=/tmp/c.img bs="$bs" iflag=direct \
				conv=notrunc,fsync status=none &&
				mig "$bytes" random dd-write "$r" "$us"
		done
	fi
	pf destroy "$dst"
	rm -f /tmp/b.img /tmp/c.img
}

# --- 5. the live move --------------------------------------------------------
# livefs_mount FS BYTES: a file system for a shared file of BYTES at
# /tmp/live: tmpfs, or ext4 on a brd of its own, made whole by mkfs (left
# lazy, ext4 zeroes its inode table in the background, mid-measurement).
livefs_mount() {
	mkdir -p /tmp/live
	case $1 in
	tmpfs)
		mount -t tmpfs -o size=$(($2 + (16 << 20))) tmpfs /tmp/live ;;
	ext4)
		modprobe brd rd_nr=1 rd_size=$((($2 >> 10) + 65536)) \
			max_part=0 &&
		mkfs.ext4 -q -F -E nodiscard,lazy_itable_init=0,lazy_journal_init=0 \
			/dev/ram0 &&
		mount -t ext4 /dev/ram0 /tmp/live ;;
	esac
}

livefs_unmount() {
	umount /tmp/live
	[ "$1" = ext4 ] && rmmod brd
	return 0
}

# A live move with shared storage: the source in writethrough mode over a
# file on FS, the target created inactive over the same file, while fio
# writes 4 KiB at random places of the source at 1 MiB/s (of guest time):
# `pflashctl export --live -J | pflashctl import --activate`.  The
# downtime runs from the start of the source's inactivation, which the
# export's JSON dates (inactivated-at, on the clock EPOCHREALTIME reads),
# to the end of the import, once the target is active and has written
# what it owes: two moments, each read where it happens, so that the
# order in which the two sides' shells then run does not move it.
# RUNS repetitions (bench.runs by default), each a result line of KIND
# (live by default).
bench_live() {
	local bytes=$1 fs=$2 runs=${3:-$RUNS} kind=${4:-live}
	local src dst r writer state t_exp t_imp
	local inact at passes sent rc f=/tmp/live/a.img
	livefs_mount "$fs" "$bytes" || { fail "live $bytes $fs: mount"; return 1; }
	truncate -s "$bytes" "$f"
	src=$(pf create --backing "$f" --show) ||
		{ fail "create live source $bytes"; return 1; }
	fill "$src" "$bytes" random || fail "fill $src"
	dst=$(pf create --backing "$f" --inactive --show) ||
		{ fail "create live target $bytes"; return 1; }
	for ((r = 1; r <= runs; r++)); do
		if [ "$r" -gt 1 ]; then
			pf inactivate "$dst" && pf activate "$src" ||
				{ fail "live $bytes: reset"; break; }
		fi
		# Its writes fail once the source is inactive (EPERM, or EIO
		# for one held back across the inactivation): it goes on at
		# its pace until it is killed after the move, as a guest would
		# be paused, not ended.  A writer that ended at its first
		# refused write would tear its process down inside the
		# downtime in some repetitions and not in others.
		fio --name=live-writer --filename="$src" --rw=randwrite \
			--bs=4k --direct=1 --ioengine=psync --rate=1m \
			--continue_on_error=write --ignore_error=,EPERM:EIO \
			--time_based --runtime=3600 --eta=never \
			--output=/dev/null >/dev/null 2>&1 &
		writer=$!
		sleep 1
		# --force: the final inactivation happens under the writer.
		# The import reads to the end of the pipe, which comes when its
		# last writer closes it: this shell's copy, closed once the
		# export's process has ended.  Between two hosts the source's
		# process exits on the source's CPU while the target finishes;
		# on this one vCPU the two would run in an order that the
		# scheduler picks, the exit inside the downtime or after it.
		# Holding the pipe puts it inside, always: the figure counts
		# the source's exit too, and repeats.
		{
			pflashctl export --live --force -J "$src" 2>/tmp/live.json
			rc=$?
			exec >&-
			now_us t_exp
			echo "$rc $t_exp" >/tmp/live.exp
		} | {
			pflashctl import -q --activate "$dst"
			rc=$?
			now_us t_imp
			echo "$rc $t_imp" >/tmp/live.imp
		}
		# The premise of the figure: the writer ran through the move.
		read -r _ _ state _ </proc/$writer/stat || state=gone
		kill "$writer" 2>/dev/null
		wait "$writer"
		case $state in Z|gone)
			fail "live $bytes: the writer ended before the move did"
			break ;;
		esac
		read -r rc t_exp </tmp/live.exp
		[ "$rc" = 0 ] || { fail "live $bytes: export"; break; }
		read -r rc t_imp </tmp/live.imp
		[ "$rc" = 0 ] || { fail "live $bytes: import"; break; }
		inact=$(sed -n 's/.*"inactive-seconds": \([0-9.e+-]*\).*/\1/p' \
			/tmp/live.json)
		at=$(sed -n 's/.*"inactivated-at": \([0-9.e+-]*\).*/\1/p' \
			/tmp/live.json)
		passes=$(grep -c '"pass":' /tmp/live.json)
		sent=$(sed -n 's/.*"stream-bytes": \([0-9]*\).*/\1/p' /tmp/live.json)
		inact=$(awk -v s="$inact" 'BEGIN { printf "%d", s * 1e6 }')
		at=$(awk -v s="$at" 'BEGIN { printf "%.0f", s * 1e6 }')
		# A moment that did not parse would make any figure: none past
		# the import's end, nor before the live move began.
		if [ "$at" -le "$t_exp" ] && [ "$at" -ge $((t_imp - 600000000)) ]; then
			res "$kind size=$bytes fs=$fs rep=$r passes=$passes stream_bytes=$sent inactive_us=$inact export_end_us=$((t_exp - at)) downtime_us=$((t_imp - at)) end_us=$t_imp"
		else
			fail "live $bytes: the export's inactivated-at ($at) is not inside the move"
		fi
	done
	cmp "$src" "$dst" || fail "live $bytes: the devices differ"
	cmp "$dst" "$f" || fail "live $bytes: the file differs"
	pf destroy "$src" "$dst"
	rm -f "$f" /tmp/live.json /tmp/live.exp /tmp/live.imp
	livefs_unmount "$fs"
}

# --- 6. the profile ----------------------------------------------------------
# perf samples the CPU clock, which under -icount advances with the
# instructions executed: a sample every so many instructions, system-wide,
# with the kernel's and pflash's symbols.  Each report is the top of the
# flat profile, by symbol, in $OUT/profile-NAME.txt.
PERF_HZ=4000
# The live move's downtime lasts a few milliseconds: sampled at PERF_HZ,
# it would get a dozen samples.  A sample every 25 us of guest time (25,000
# instructions) gives it about a hundred; each sample's own handler counts
# too, so the profile's window runs longer than the unprofiled downtime.
PERF_LIVE_HZ=40000

# prof_report NAME [perf report options]: the report of perf.data.
prof_report() {
	local name=$1
	shift
	perf report -i /tmp/perf.data --stdio --no-children --sort sym \
		--percent-limit 0.5 "$@" 2>/dev/null |
		grep -v '^$' | head -n 60 >"$OUT/profile-$name.txt"
	res "profile name=$name file=profile-$name.txt"
}

bench_profile() {
	local bytes=$((64 << 20)) src dst start end

	command -v perf >/dev/null || { fail "profile: no perf"; return 1; }
	src=$(pf create --size "$bytes" --show) &&
	dst=$(pf create --size "$bytes" --inactive --show) ||
		{ fail "profile: create"; return 1; }
	fill "$src" "$bytes" random
	say "profile: export of 64 MiB into a file"
	perf record -q -a -F "$PERF_HZ" -o /tmp/perf.data -- \
		pflashctl export -q "$src" -o /tmp/stream.pfs 2>/dev/null
	prof_report export
	say "profile: import of 64 MiB from a file"
	perf record -q -a -F "$PERF_HZ" -o /tmp/perf.data -- \
		pflashctl import -q -i /tmp/stream.pfs "$dst" 2>/dev/null
	prof_report import
	say "profile: export piped into import, 64 MiB"
	perf record -q -a -F "$PERF_HZ" -o /tmp/perf.data -- \
		sh -c "pflashctl export -q $src | pflashctl import -q $dst" \
		2>/dev/null
	prof_report pipe
	pf destroy "$src" "$dst"
	rm -f /tmp/stream.pfs

	# The live move's downtime: perf records the whole move, with the
	# real-time clock, and the report keeps the downtime's window.
	say "profile: a live move of 64 MiB, shared file on ext4"
	# Lest the kernel lower the rate when sampling takes a share of the CPU.
	echo 0 >/proc/sys/kernel/perf_cpu_time_max_percent
	perf record -q -a -F "$PERF_LIVE_HZ" -k realtime -o /tmp/perf.data \
		2>/dev/null &
	local perf_pid=$!
	sleep 1
	bench_live "$bytes" ext4 1 live-profiled >/dev/null
	kill -INT "$perf_pid"
	wait "$perf_pid"
	end=$(sed -n 's/^live-profiled .*downtime_us=\([0-9]*\) end_us=\([0-9]*\).*/\2 \1/p' \
		"$RES" | tail -n 1)
	start=$(awk -v e="$end" 'BEGIN { split(e, a, " "); printf "%.6f,%.6f", (a[1] - a[2]) / 1e6, a[1] / 1e6 }')
	prof_report live-downtime --time "$start"
	rm -f /tmp/perf.data
}

# The results so far to /dev/vda, after every phase: a run that reaches
# its time limit still leaves what it measured.
save() {
	[ -b /dev/vda ] || { say "no /dev/vda for the results"; return 1; }
	dmesg >"$OUT/dmesg.txt"
	# Direct I/O: no page of the disk's is left dirty in the page cache
	# for the writeback's timers, which would fire at host-dependent
	# moments of the phases after.
	tar -C "$OUT" -cf - . |
		dd of=/dev/vda bs=1M iflag=fullblock conv=sync oflag=direct \
			status=none
	align
}

# Idle until the next whole 2 s of guest time.  The disk's I/O completes
# at host-dependent instruction counts, which shifts everything after it
# against the kernel's periodic work (its tick, the timers of ext4's
# journal and of the page cache's writeback); each phase starting on the
# same boundary lines them up again, so that a figure of a few
# milliseconds (a live move's downtime) repeats.  The boundary is on the
# clock the kernel's timers run on, CLOCK_MONOTONIC, read to the
# nanosecond ("now at" in /proc/timer_list): /proc/uptime's hundredths
# would leave up to 10 ms of the shift.  Under -icount with sleep=off an
# idle guest's clock jumps ahead: this costs no wall time.
align() {
	local now left
	now=$(sed -n 's/^now at \([0-9]*\) nsecs$/\1/p' /proc/timer_list)
	[ -n "$now" ] || { say "align: no clock in /proc/timer_list"; return 1; }
	left=$((2000000000 - now % 2000000000))
	sleep "$((left / 1000000000)).$(printf %09d $((left % 1000000000)))"
}

align
# What one pflashctl costs, started and done: dd costs its own start too.
# And the fixed part of a move, one pflashctl per side: two that do
# nothing, joined by a pipe, started by sh as the move's are; against
# it, dd started and done with nothing to copy.
for ((r = 1; r <= RUNS; r++)); do
	timed us pf list >/dev/null && res "tool what=list rep=$r us=$us"
	timed us sh -c "pflashctl --version | pflashctl --version >/dev/null" &&
		res "tool what=pair rep=$r us=$us"
	timed us dd if=/dev/zero of=/dev/null count=0 status=none &&
		res "tool what=dd rep=$r us=$us"
done

now_us start
if [ "$FIO" = 1 ]; then
	bench_fio
	now_us now
	res "phase name=fio us=$((now - start))"
	save
	now_us t
	say "the write pattern of OVMF's first boot"
	bench_ovmf
	now_us now
	res "phase name=ovmf us=$((now - t))"
	save
fi
for kib in ${SIZES//,/ }; do
	bytes=$((kib << 10))
	now_us t
	for kind in erased random; do
		say "stream: $kib KiB, $kind image: export, import, the pipe, dd"
		bench_stream "$bytes" "$kind"
	done
	say "move: $kib KiB: one pflashctl per side, the full flush"
	bench_move "$bytes" writethrough
	bench_move "$bytes" writeback
	now_us now
	res "phase name=mig-$bytes us=$((now - t))"
	save
done
for kib in ${LIVE//,/ }; do
	bytes=$((kib << 10))
	for fs in ${LIVEFS//,/ }; do
		now_us t
		say "live move: $kib KiB, shared file on $fs, a writer at 1 MiB/s"
		bench_live "$bytes" "$fs"
		now_us now
		res "phase name=live-$bytes-$fs us=$((now - t))"
		save
	done
done
if [ "$PROFILE" = 1 ]; then
	now_us t
	bench_profile
	now_us now
	res "phase name=profile us=$((now - t))"
fi
now_us now
res "phase name=total us=$((now - start))"

save || fail "the results could not be written to /dev/vda"
say "done"
