#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Payload of the soak VM (tools/soak/soak.sh), meant for the debug kernel
# (KASAN, lockdep, kmemleak): four pflash devices, two in each cache mode,
# backed by files on ext4 on the VM's disk, /dev/vda, each worked by a lane
# of its own, all at once, for a fixed number of operations:
#
#  - fio writes to the device and verifies what it wrote (crc32c), every
#    operation;
#  - then the lane flushes the device (now and then in full), or writes it
#    back (inactivate, the backing file compared with the device, activate
#    again), or moves it: its state goes to a new inactive device on a
#    backing file of its own (export, import --activate), the old one is
#    destroyed, and fio verifies on the new device what it wrote on the old
#    one (--verify_only, with the same seed);
#  - meanwhile, every few seconds, memory pressure: a tmpfs file of most of
#    the free memory, caches dropped, memory compacted.
#
# At the end every device is inactivated and its backing file compared
# with it, destroyed, and pflash unloaded; /init then scans for leaks with
# kmemleak, which the host judges with the splats.  Parameters on the
# kernel command line: soak.ops=N (per lane), soak.seed=N, soak.size=MiB.
# TAP on /dev/ttyS1: one result per lane, then the end.

. /usr/lib/pflash-test/tap.sh
tap_open
arg() { sed -n "s/.* soak\.$1=\([^ ]*\).*/\1/p" /proc/cmdline; }

OPS=$(arg ops) SEED=$(arg seed) SIZE=$(arg size)
LANES=4
WORK=/tmp/soak
mkdir -p "$WORK"

# fio on /dev/pflashN: write and verify, or (verify) only verify what the
# same seed wrote.  256 KiB of writes of 4, 16 and 64 KiB, direct, in random
# order over the device.
fio_job() {
	local dev=$1 seed=$2 what=$3 log=$4
	fio --name=soak --filename="$dev" --ioengine=psync --direct=1 \
		--rw=randwrite --bssplit=4k/60:16k/30:64k/10 \
		--size="${SIZE}M" --io_size=256k --randseed="$seed" \
		--verify=crc32c --verify_fatal=1 --do_verify=1 \
		${what:+--verify_only} >>"$log" 2>&1
}

# One lane: device index $1 (it moves between $1 and $1 + LANES), cache
# mode $2.  Writes its figures to $WORK/lane$1.
lane() {
	local i=$1 mode=$2 idx=$1 other op seed n=0 fails=0
	local moves=0 flushes=0 fulls=0 writebacks=0 verifies=0
	local log=$WORK/lane$i.log f r=$((SEED + 1000 * $1)) opts

	: >"$log"
	# In writeback mode, a periodic writeback five times a second.
	opts="--cache $mode"
	[ "$mode" = writeback ] && opts="$opts --writeback-interval 200ms"
	truncate -s "${SIZE}M" "/mnt/lane$i.0" "/mnt/lane$i.1"
	pflashctl create --index "$idx" --backing "/mnt/lane$i.0" $opts \
		>>"$log" 2>&1 || fails=$((fails + 1))
	while [ "$n" -lt "$OPS" ]; do
		n=$((n + 1))
		RANDOM=$((r + n))
		seed=$((r * 1000 + n))
		if fio_job "/dev/pflash$idx" "$seed" "" "$log"; then
			verifies=$((verifies + 1))
		else
			fails=$((fails + 1))
			echo "op $n: fio write and verify on pflash$idx failed" >>"$log"
		fi
		op=$((RANDOM % 10))
		if [ "$op" -lt 4 ]; then
			if [ "$op" = 0 ]; then
				pflashctl flush --full "pflash$idx" >>"$log" 2>&1 && fulls=$((fulls + 1))
			else
				pflashctl flush "pflash$idx" >>"$log" 2>&1 && flushes=$((flushes + 1))
			fi || { fails=$((fails + 1)); echo "op $n: flush failed" >>"$log"; }
		elif [ "$op" -lt 6 ]; then
			f=$(pflashctl list -n -o BACKING "pflash$idx")
			if pflashctl inactivate "pflash$idx" >>"$log" 2>&1 &&
			   cmp "/dev/pflash$idx" "$f" >>"$log" 2>&1 &&
			   pflashctl activate "pflash$idx" >>"$log" 2>&1; then
				writebacks=$((writebacks + 1))
			else
				fails=$((fails + 1))
				echo "op $n: writeback of pflash$idx failed" >>"$log"
			fi
		else
			other=$((idx < LANES ? idx + LANES : idx - LANES))
			f=/mnt/lane$i.$((other / LANES))
			if pflashctl create --index "$other" --backing "$f" \
				$opts --inactive >>"$log" 2>&1 &&
			   pflashctl inactivate "pflash$idx" >>"$log" 2>&1 &&
			   pflashctl export "pflash$idx" 2>>"$log" |
				pflashctl import --activate "pflash$other" >>"$log" 2>&1 &&
			   cmp "/dev/pflash$idx" "/dev/pflash$other" >>"$log" 2>&1 &&
			   cmp "/dev/pflash$other" "$f" >>"$log" 2>&1 &&
			   pflashctl destroy "pflash$idx" >>"$log" 2>&1; then
				idx=$other
				moves=$((moves + 1))
				# What the last fio wrote moved with the state.
				if fio_job "/dev/pflash$idx" "$seed" verify "$log"; then
					verifies=$((verifies + 1))
				else
					fails=$((fails + 1))
					echo "op $n: fio verify after the move to pflash$idx failed" >>"$log"
				fi
			else
				fails=$((fails + 1))
				echo "op $n: move of pflash$idx failed" >>"$log"
			fi
		fi
	done
	# The end: written back, the file in accord, destroyed.
	f=$(pflashctl list -n -o BACKING "pflash$idx")
	if ! { pflashctl inactivate "pflash$idx" && cmp "/dev/pflash$idx" "$f" &&
	       pflashctl destroy "pflash$idx"; } >>"$log" 2>&1; then
		fails=$((fails + 1))
		echo "end: pflash$idx could not be written back, compared and destroyed" >>"$log"
	fi
	echo "$n $fails $verifies $moves $flushes $fulls $writebacks" >"$WORK/lane$i"
}

# Memory pressure until $WORK/stop appears: most of the free memory taken
# by a tmpfs file, caches dropped, memory compacted (if the kernel can),
# every 5 s.
pressure() {
	local rounds=0 free
	while [ ! -e "$WORK/stop" ]; do
		free=$(awk '/^MemAvailable:/ { print int($2 / 1024 * 0.8) }' /proc/meminfo)
		head -c "${free}M" /dev/zero >/tmp/hog 2>/dev/null
		echo 3 >/proc/sys/vm/drop_caches
		[ -e /proc/sys/vm/compact_memory ] &&
			echo 1 >/proc/sys/vm/compact_memory
		rm -f /tmp/hog
		rounds=$((rounds + 1))
		echo "$rounds" >"$WORK/pressure"
		sleep 5
	done
}

tap_plan $((LANES + 2))
modprobe virtio_pci 2>/dev/null
modprobe virtio_blk 2>/dev/null
modprobe ext4 2>/dev/null
if ! modprobe pflash nr_devices=0 || ! mount /dev/vda /mnt; then
	tap_fail "pflash loaded and the disk mounted"
	exit 0
fi
start=$(cut -d' ' -f1 /proc/uptime)
pressure &
pid_pressure=$!
pids=()
for i in $(seq 0 $((LANES - 1))); do
	lane "$i" "$([ $((i % 2)) = 0 ] && echo writethrough || echo writeback)" &
	pids+=($!)
done
wait "${pids[@]}"
touch "$WORK/stop"
wait "$pid_pressure"
end=$(cut -d' ' -f1 /proc/uptime)

total=0 failed=0
for i in $(seq 0 $((LANES - 1))); do
	mode=$([ $((i % 2)) = 0 ] && echo writethrough || echo writeback)
	if read -r n fails verifies moves flushes fulls writebacks <"$WORK/lane$i"; then
		text="lane $i ($mode): $n operations, fio verified $verifies times, $moves moves, $flushes flushes, $fulls full flushes, $writebacks writebacks, $fails failed"
		total=$((total + n))
	else
		fails=1
		text="lane $i ($mode): did not finish"
	fi
	if [ "$fails" = 0 ]; then
		tap_ok "$text"
	else
		failed=1
		tap_fail "$text"
		tail -n 20 "$WORK/lane$i.log" | sed 's/^/# /' >&3
	fi
done
verify_errors=$(cat "$WORK"/lane*.log | grep -c 'verify: bad\|VERIFY\|verify failed')
[ "$verify_errors" = 0 ]
tap_result $? "fio: $verify_errors verify errors"
umount /mnt
tap_check "pflash unloaded" rmmod pflash
tap_say "# soak: $total operations in $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%d", b - a }') s, $(cat "$WORK/pressure") rounds of memory pressure, seed $SEED"
