#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Payload of the durability tests' VMs (tools/crash/power-loss.sh and
# replay.sh), one script for every role; the kernel command line says which
# (crash.role=writer, checker or replay).  Results and what the host needs
# to know go to /dev/ttyS1, one line each, as soon as they are known.
#
# writer: the VM whose power is cut.  It loads what it needs, says "ready"
#   and waits for a line "go SCENARIO MODE RUN SEED [lie]" on /dev/ttyS2:
#   the host saves the VM's state while it waits and starts every kill
#   point's VM from that state, with a disk of its own (power-loss.sh).
#   Its disk, /dev/vda, is ext4 with two sparse backing files, /steady and
#   /phases.  SCENARIO is
#     steady  pflash0, backed by /steady in cache mode MODE, takes numbered
#             records of run RUN from crashrec (crashrec.c), which says
#             which ones were acknowledged;
#     phases  pflash0, backed by /phases, is filled with run RUN (half of it
#             acknowledged by a flush, half dirty in writeback mode), then
#             inactivated, which acknowledges all of it; a stream of run
#             RUN + 1, kept in /b.pfs, is imported into it, half a second
#             passes, and it is activated, whose flush (of every block
#             the import changed) acknowledges
#             all of run RUN + 1.
#             "phase NAME begin" and "phase NAME end" surround each of
#             inactivate, import and activate.
#   The host kills the VM at a random moment, or inside a phase.
#
# checker: its disk holds the writers' disks, one region each; the list of
#   what to check on each is the fw_cfg file opt/pflash/crash, lines "NAME
#   OFFSET SIZE SCENARIO RUN COUNT RETRY".  For each, it mounts the region
#   (ext4 recovers its journal) and reports which records
#   of RUN (and RUN + 1 for phases) the backing file holds intact; with
#   RETRY 1, it then retries the move, as an operator would after a target
#   died in its activation: a new inactive device on the file, the stream
#   of /b.pfs imported, activation; and reports again.  TAP: one result per
#   disk, mounted and read; the facts on "# crash NAME ..." lines.  Two
#   disks at a time, on the VM's two CPUs.
#
# replay: /dev/vda is ext4 with /backing, written in full, /dev/vdb the
#   log.  A pflash device backed by it takes records in writethrough mode,
#   then another in writeback mode, with mixed writes, flushes and FUA
#   writes, through dm-log-writes, which logs every write to /dev/vda; each
#   acknowledgement sets a mark in the log.  Then lwreplay.c replays the log
#   onto a copy of /dev/vda as it was, and at every flush, FUA write and
#   mark of the log checks that every record acknowledged so far is there,
#   intact (see replay_check).  Parameters: crash.run=RUN crash.seed=SEED
#   crash.count=RECORDS (per mode).

. /usr/lib/pflash-test/tap.sh
say() { tap_say "$*"; }

arg() { sed -n "s/.* crash\.$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
role=$(arg role)

modules() {
	local m
	for m in "$@"; do
		modprobe "$m" || say "# modprobe $m failed"
	done
}

# ---- writer -----------------------------------------------------------------

writer_steady() {
	local wb=

	# The lying writer's device writes nothing back by itself: only a
	# flush, which the liar never sends, could save its records.
	[ -n "$lie" ] && wb="--writeback-interval 0"
	# shellcheck disable=SC2086
	pflashctl create --index 0 --backing /mnt/steady --cache "$mode" $wb ||
		return
	say "start"
	crashrec write /dev/pflash0 --run "$run" --mode "$mode" \
		--seed "$seed" --count $(($(stat -c %s /mnt/steady) / 4096)) \
		$lie >&3
}

writer_phases() {
	local size records b=$((run + 1))

	size=$(stat -c %s /mnt/phases)
	records=$((size / 4096))
	pflashctl create --index 0 --backing /mnt/phases --cache "$mode" ||
		return
	say "start"
	crashrec write /dev/pflash0 --run "$run" --mode "$mode" \
		--count "$records" --fill $((records / 2)) >&3 || return
	say "phase inactivate begin"
	pflashctl inactivate pflash0 || return
	say "ack $run 0 $((records - 1))"
	say "phase inactivate end"

	# The state that moves in: run RUN + 1, made on a device of no file.
	pflashctl create --index 1 --size "$size" &&
		crashrec write /dev/pflash1 --run "$b" --count "$records" \
			--fill 0 >/dev/null &&
		pflashctl inactivate pflash1 &&
		pflashctl export pflash1 -o /mnt/b.pfs &&
		sync || return

	say "phase import begin"
	pflashctl import pflash0 -i /mnt/b.pfs || return
	say "phase import end"
	# The committed import waits for its activation a while, as a target
	# waits for the source to let go: kills land there too.
	sleep 0.5
	say "phase activate begin"
	pflashctl activate pflash0 || return
	say "ack $b 0 $((records - 1))"
	say "phase activate end"
}

writer() {
	local line scenario mode run seed lie

	modules virtio_pci virtio_blk ext4
	modprobe pflash nr_devices=0 || say "# modprobe pflash failed"
	stty -F /dev/ttyS2 raw -echo
	# Open once: closing a tty drops the input it holds.
	exec 4</dev/ttyS2
	say "ready"
	# The host saves the VM here.  What it sends after a restore starts
	# with a few newlines, in case a byte is lost as the VM resumes.
	while read -r line <&4; do
		case $line in
		go\ *) break ;;
		esac
	done
	exec 4<&-
	read -r _ scenario mode run seed lie <<<"$line"
	[ "$lie" = lie ] && lie=--lie || lie=
	say "go $scenario $mode $run $seed"
	mount /dev/vda /mnt || { say "# mount failed"; return; }
	case $scenario in
	steady) writer_steady ;;
	phases) writer_phases ;;
	esac
	say "done"
	# The host kills the VM; it must never power off by itself.
	sleep 3600
}

# ---- checker ----------------------------------------------------------------

# check_disk WORKER NAME OFFSET SIZE SCENARIO RUN COUNT RETRY: the facts
# of one disk, "# crash NAME ..." lines on standard output.  WORKER (0 or
# 1) picks the mount point and the pflash device of the retry.
check_disk() {
	local w=$1 serial=$2 offset=$3 size=$4 scenario=$5 run=$6 count=$7
	local retry=$8 dev file runs mnt=/mnt/w$1 ret=0

	dev=$(losetup -f --show -o "$offset" --sizelimit "$size" /dev/vda) ||
		return 1
	mkdir -p "$mnt"
	if ! mount "$dev" "$mnt"; then
		losetup -d "$dev"
		return 1
	fi
	if [ "$scenario" = steady ]; then
		file=$mnt/steady runs="--run $run"
	else
		file=$mnt/phases runs="--run $run --run $((run + 1))"
	fi
	crashrec check "$file" $runs --count "$count" | sed "s/^/# crash $serial /"
	if [ "$retry" = 1 ]; then
		if pflashctl create --index "$w" --backing "$file" --inactive &&
		   pflashctl import "pflash$w" -q -i "$mnt/b.pfs" &&
		   pflashctl activate "pflash$w"; then
			crashrec check "$file" --run $((run + 1)) --count "$count" |
				sed "s/^/# crash $serial retry /"
		else
			echo "# crash $serial retry failed"
		fi 2>/dev/null
		pflashctl destroy "pflash$w" 2>/dev/null
	fi
	umount "$mnt" || ret=1
	losetup -d "$dev"
	return $ret
}

# The disks of every other line of the list, from line $1 + 1 on: each
# one's facts in /tmp/check/SERIAL, and "ok" or "failed" in
# /tmp/check/SERIAL.status.
check_worker() {
	local w=$1 n=0 serial offset size scenario run count retry

	while read -r serial offset size scenario run count retry; do
		n=$((n + 1))
		[ $(((n - 1) % 2)) = "$w" ] || continue
		if check_disk "$w" "$serial" "$offset" "$size" "$scenario" \
			"$run" "$count" "$retry" >"/tmp/check/$serial"; then
			echo ok >"/tmp/check/$serial.status"
		else
			echo failed >"/tmp/check/$serial.status"
		fi
	done <"$list"
}

# Two disks at a time, on the VM's two CPUs; the results in list order.
checker() {
	local list=/sys/firmware/qemu_fw_cfg/by_name/opt/pflash/crash/raw
	local n=0 serial

	modules virtio_pci virtio_blk ext4 loop qemu_fw_cfg
	modprobe pflash nr_devices=0 || say "# modprobe pflash failed"
	tap_plan "$(grep -c . "$list")"
	mkdir -p /tmp/check
	check_worker 0 &
	check_worker 1
	wait
	while read -r serial _; do
		n=$((n + 1))
		cat "/tmp/check/$serial" >&3 2>/dev/null
		if [ "$(cat "/tmp/check/$serial.status" 2>/dev/null)" = ok ]; then
			tap_ok "$serial: mounted, its journal recovered, and read"
		else
			tap_fail "$serial: could not be found, mounted or read"
		fi
	done <"$list"
}

# ---- replay -----------------------------------------------------------------

# The records of the backing file in the replayed image, compared with the
# acknowledgements so far (/tmp/marks): read at their places on the device
# (crashrec map), or, with "mount", through a mount of a copy of the image.
# Prints crashrec's lines; fails if a record was lost.
replay_read() {
	local m ret=0
	if [ "${1:-}" != mount ]; then
		crashrec check /tmp/replay.img --map /tmp/map --run "$run" \
			--run $((run + 1)) --run $((run + 2)) \
			--count $((3 * count)) --acked /tmp/marks
		return
	fi
	cp /tmp/replay.img /tmp/point.img
	m=$(losetup -f --show /tmp/point.img) || return 1
	if mount "$m" /mnt; then
		crashrec check /mnt/backing --run "$run" --run $((run + 1)) \
			--run $((run + 2)) --count $((3 * count)) \
			--acked /tmp/marks || ret=1
		umount /mnt
	else
		echo "mount failed"
		ret=1
	fi
	losetup -d "$m"
	return $ret
}

# Replay the log to each of its points (lwreplay --pause) and check there
# that every record acknowledged by then is intact.  The backing files were
# written in full before the log began, so each of their blocks stays where
# it is: ext4 (data=ordered) writes file data in place and never journals
# it, and the records can be read at their places without mounting the
# image.  At every eighth point that changed the device, and at the end,
# a copy of the image is also mounted (ext4 recovers its journal) and the
# records read through the mount: both ways must agree.
# One line per point to /tmp/points: "ENTRY KIND CHANGED ACKED LOST BROKEN
# LIAR_ACKED LIAR_LOST MARK", LIAR_* of the lying writer's run, RUN + 2,
# which ACKED and LOST leave out: its losses are the control's; MARK is
# the text of a mark ("-" for other points).
replay_check() {
	local kind entry changed mark states=0 mounts=0 ok acked lost broken
	local lacked llost
	coproc LW { lwreplay /dev/vdb /tmp/replay.img --marks /tmp/marks --pause; }
	while read -r kind entry point changed mark <&"${LW[0]}"; do
		if [ "$kind" != point ]; then
			echo "$kind $entry $point $changed $mark" >/tmp/replay.out
			continue
		fi
		[ "$changed" = 1 ] && states=$((states + 1))
		broken=0
		replay_read >/tmp/intact || true
		if { [ "$changed" = 1 ] && [ $((states % 8)) = 1 ]; } ||
		   [ "$point" = end ]; then
			mounts=$((mounts + 1))
			replay_read mount >/tmp/intact.mounted || true
			cmp -s /tmp/intact /tmp/intact.mounted || broken=1
		fi
		acked=0 lost=0 lacked=0 llost=0
		while read -r what r l a; do
			[ "$what" = lost ] || continue
			if [ "$r" = $((run + 2)) ]; then
				lacked=$((lacked + a)) llost=$((llost + l))
			else
				acked=$((acked + a)) lost=$((lost + l))
			fi
		done </tmp/intact
		echo "$entry $point $changed $acked $lost $broken $lacked $llost ${mark:--}" >>/tmp/points
		if [ "$lost" = 0 ] && [ "$broken" = 0 ]; then
			echo ok >&"${LW[1]}"
		else
			echo failed >&"${LW[1]}"
		fi
	done
	wait "$LW_PID"
	echo "$states $mounts" >/tmp/replay.counts
}

replay() {
	local m mode r marks had missed text

	modules virtio_pci virtio_blk ext4 loop dm-mod dm-log-writes
	modprobe pflash nr_devices=0 || say "# modprobe pflash failed"
	run=$(arg run) seed=$(arg seed) count=$(arg count)
	tap_plan 4
	tap_say "# replay: CRASH_SEED=$seed"
	# The device as it is before anything is logged: where replays start.
	dd if=/dev/vda of=/tmp/replay.img bs=1M status=none
	DM_DISABLE_UDEV=1 dmsetup create lw --table \
		"0 $(blockdev --getsz /dev/vda) log-writes /dev/vda /dev/vdb" &&
		mount /dev/mapper/lw /mnt &&
		crashrec map /mnt/backing >/tmp/map ||
		{ tap_fail "dm-log-writes"; return; }
	# One backing file, in thirds: run RUN in writethrough mode, then run
	# RUN + 1 in writeback mode, then the control, run RUN + 2: a writer
	# that acknowledges without flushing, on a device with no periodic
	# writeback, so that until its destroy writes them back, every record
	# it acknowledged is missing from the file at every point of the log.
	local cache wb lie
	r=$run
	for mode in writethrough writeback liar; do
		cache=$mode wb= lie=
		[ "$mode" = liar ] &&
			cache=writeback wb="--writeback-interval 0" lie=--lie
		# shellcheck disable=SC2086
		pflashctl create --index 0 --backing /mnt/backing \
			--cache "$cache" $wb &&
			crashrec write /dev/pflash0 --run "$r" --mode "$cache" \
				--seed "$seed" --first $(((r - run) * count)) \
				--count "$count" --mark lw $lie >"/tmp/acks.$mode" &&
			pflashctl destroy pflash0 ||
			{ tap_fail "$mode: the writes through dm-log-writes"; return; }
		say "# replay $mode: $(grep -c '^ack' "/tmp/acks.$mode") acknowledgements"
		r=$((r + 1))
	done
	umount /mnt && DM_DISABLE_UDEV=1 dmsetup remove lw
	tap_ok "records written in both cache modes and by the liar, every write logged"

	: >/tmp/points
	replay_check
	sed 's/^/# /' /tmp/replay.out >&3
	read -r states mounts </tmp/replay.counts
	# Not vacuous: the check read every point (a crashrec check that
	# failed would count nothing acknowledged, and nothing lost).
	if [ -s /tmp/points ] && awk '$5 || $6 { bad = 1 } END { exit bad }' /tmp/points &&
	   tail -n 1 /tmp/points | awk '$4 > 0 { ok = 1 } END { exit !ok }'; then
		tap_ok "every point of the log holds every record acknowledged before it"
	else
		awk '$5 || $6 { print "# lost at entry " $1 " (" $2 "): " $5 " of " $4 " acknowledged records" ($6 ? "; read in place and through a mount, they differ" : "") }' /tmp/points | head -n 20 >&3
		tap_fail "every point of the log holds every record acknowledged before it"
	fi
	say "# replay: $(wc -l </tmp/points) points checked ($(awk '$2 == "flush"' /tmp/points | wc -l) flushes, $(awk '$2 == "fua"' /tmp/points | wc -l) FUA writes, $(awk '$2 == "mark"' /tmp/points | wc -l) marks, the end) in $states states of the device, $mounts of them mounted too; $(tail -n 1 /tmp/points | cut -d' ' -f4) records acknowledged by the end, $(awk '{ l += $5 } END { print l + 0 }' /tmp/points) lost"
	# The last point is the device as it was left: everything is there,
	# the liar's records too (its destroy wrote them back).
	if tail -n 1 /tmp/points | awk '$2 == "end" && $4 > 0 && !$5 && !$6 && $7 > 0 && !$8 { ok = 1 } END { exit !ok }'; then
		tap_ok "at the end of the log, every acknowledged record is there"
	else
		tap_fail "at the end of the log, every acknowledged record is there"
	fi
	# The control: at each of the liar's marks (its acknowledgements, not
	# the mark dm-log-writes sets when it is removed), before its
	# destroy, every record it acknowledged is missing, and the check
	# says so.
	read -r marks had missed < <(awk -v liar="ack:$((run + 2)):" '
		$2 == "mark" && index($9, liar) == 1 {
			m++; if ($7 > had) had = $7; if ($8 != $7) miss++ }
		END { print m + 0, had + 0, miss + 0 }' /tmp/points)
	text="control: a writer that acknowledges without flushing: at each of its $marks acknowledgements in the log it had up to $had acknowledged records to lose, and the check found them all lost at $((marks - missed)) of them"
	if [ "$marks" -gt 0 ] && [ "$missed" = 0 ] &&
	   [ "$marks" = "$(grep -c '^ack' /tmp/acks.liar)" ]; then
		tap_ok "$text"
	else
		awk -v liar="ack:$((run + 2)):" '$2 == "mark" && index($9, liar) == 1 && $8 != $7 {
			print "# control: at entry " $1 " the liar had acknowledged " $7 " records and " $8 " were missing" }' \
			/tmp/points | head -n 10 >&3
		tail -n 12 /tmp/points | sed 's/^/# point: /' >&3
		tap_fail "$text"
	fi
}

tap_open
case $role in
writer) writer ;;
checker) checker ;;
replay) replay ;;
*) tap_fail "no crash.role= on the kernel command line"; tap_end ;;
esac
sync
