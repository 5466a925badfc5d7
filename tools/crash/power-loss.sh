#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The power-loss test: VMs whose pflash devices are backed by files on ext4
# on a virtio disk are killed (SIGKILL to QEMU) at random moments, and a
# second VM mounts each disk and finds which records survived.  No record
# that pflash acknowledged may be lost.
#
# QEMU writes each disk's image with cache=none (O_DIRECT): what the guest
# wrote to its disk is in the image once QEMU has written it, and a SIGKILL
# loses only what the guest had not written yet, which is what a power loss
# loses.
#
#  1. One VM boots (tools/crash/guest.sh, crash.role=writer) and waits; its
#     state is saved (QEMU's migration to a file).  Every kill point starts
#     from that state with a pristine disk of its own (a region of one
#     image file), so that it costs no boot: it resumes, mounts its disk
#     and writes at once.
#  2. A calibration run does the phases scenario to its end, unkilled: it
#     measures how long inactivation, import and activation take, and its
#     disk is checked like the others, as a control.
#  3. The kill points, CRASH_JOBS at a time:
#      - CRASH_KILLS per cache mode in the steady scenario, killed after a
#        random delay of up to CRASH_DELAY_MS once the writer started;
#      - CRASH_PHASE_KILLS in each phase: inactivation (writeback mode,
#        with half the device dirty), import and activation (the two cache
#        modes in turn), killed after a random part of the phase's measured
#        duration once the guest said it began;
#      - CRASH_LIE_KILLS of a writer that lies (crashrec --lie: it
#        acknowledges writes and never flushes them, on a device with no
#        periodic writeback), killed within 200 ms of its saying "lied"
#        (64 records acknowledged): a control that must lose every record
#        it acknowledged, every time, which proves that the check can
#        fail.
#  4. One checker VM mounts every disk and reads its records; the host then
#     compares them with what each writer reported as acknowledged:
#      - every acknowledged record must be intact;
#      - an inactivation that returned acknowledged the whole device;
#      - after an import began and before activation began, the target's
#        file must be exactly as it was: all of its old records intact,
#        none of the imported ones;
#      - once activation began, a retried move (the checker imports the
#        same stream again into a new inactive device on the file and
#        activates it) must leave the whole imported state in the file,
#        and an activation that returned must have left it there already.
#
# Prints, for each cache mode, "crash: MODE: kill points N, acknowledged
# records lost N", and how many kills landed inside each phase.  The seed
# (CRASH_SEED, default random) decides every choice but the exact moment
# of each kill, which QEMU's speed decides.
#
# Usage: RESULTS=FILE power-loss.sh KERNEL INITRD OUTDIR
# Results (tools/judge/judge.sh) are recorded under "KERNEL/crash".

set -euo pipefail
. "$(dirname "$0")/../lib/harness.sh"
. "$REPO/tools/judge/judge.sh"

KERNEL=${1:?usage: power-loss.sh KERNEL INITRD OUTDIR}
INITRD=${2:?usage: power-loss.sh KERNEL INITRD OUTDIR}
OUTDIR=${3:?usage: power-loss.sh KERNEL INITRD OUTDIR}
WHERE=$KERNEL/crash

KILLS=${CRASH_KILLS:-20}
PHASE_KILLS=${CRASH_PHASE_KILLS:-4}
LIE_KILLS=${CRASH_LIE_KILLS:-2}
DELAY_MS=${CRASH_DELAY_MS:-1500}
JOBS=${CRASH_JOBS:-2}
SEED=${CRASH_SEED:-$(od -An -N3 -tu4 /dev/urandom | tr -d ' ')}
# The backing files: /steady takes the steady writes (4096 records at
# most: some 2 s of writing), /phases is the device that inactivates,
# imports and activates.
STEADY_SIZE=16M
PHASES_SIZE=8M
VM=(-m 512M -s 1)

mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
RANDOM=$SEED
log "$KERNEL: power loss, seed $SEED (CRASH_SEED=$SEED reruns these choices): $OUTDIR"

# --- the pristine disk ------------------------------------------------------
# Every kill point's disk is a region of one image file, disks.img, REGION
# bytes each, from offset REGION * N for kill point N: the checker then
# has one disk, which it reads region by region through loop devices,
# instead of dozens of disks that cost it a second each to probe.
REGION_MB=96
stage=$OUTDIR/stage
rm -rf "$stage" && mkdir -p "$stage"
truncate -s "$STEADY_SIZE" "$stage/steady"
truncate -s "$PHASES_SIZE" "$stage/phases"
mke2fs -q -t ext4 -d "$stage" -F "$OUTDIR/pristine.img" ${REGION_MB}M >/dev/null
rm -rf "$stage"
disks=$OUTDIR/disks.img
rm -f "$disks"

# region_args N: the QEMU drive of region N of disks.img, and the region
# made pristine.  Each VM opens the file, without locking it: the regions
# do not overlap.
region_args() {
	dd if="$OUTDIR/pristine.img" of="$disks" bs=1M seek=$(($1 * REGION_MB)) \
		conv=sparse,notrunc status=none
	echo "-drive if=virtio,driver=raw,offset=$(($1 * REGION_MB))M,size=${REGION_MB}M,file.filename=$disks,file.locking=off,cache=none"
}

# now_us: the host's clock, in microseconds.
now_us() { echo "${EPOCHREALTIME/./}"; }

# --- 1. the VM every kill point starts from --------------------------------
snap=$OUTDIR/snapshot
rm -rf "$snap" && mkdir -p "$snap"
mkfifo "$snap/mon.in" "$snap/mon.out" "$snap/ctl.in" "$snap/ctl.out"
# shellcheck disable=SC2046
"$REPO/tools/boot/run.sh" -k "$KERNEL" -i "$INITRD" -d "$snap" "${VM[@]}" \
	-t 900 -a "crash.role=writer" -- $(region_args 0) \
	-chardev "pipe,id=ctl,path=$snap/ctl" -serial chardev:ctl \
	-monitor "pipe:$snap/mon" >"$snap/run.log" 2>&1 &
runpid=$!
exec 5<>"$snap/mon.in" 6<>"$snap/mon.out" 7<>"$snap/ctl.out"
hmp() {	# hmp COMMAND: its answer, until the next prompt
	local line
	printf '%s\n' "$1" >&5
	while IFS= read -r -t 30 line <&6; do
		line=${line//$'\r'/}
		[[ $line == "(qemu)"* ]] && return 0
		printf '%s\n' "$line"
	done
	return 1
}
hmp '' >/dev/null || true	# the banner, up to the first prompt
# The boot and the save take what they take on a loaded host: waited for
# as long as the VM runs, whose time limit (-t) is the bound.  (A bound
# of 120 s of the host's time failed a run at a load of 12 on two cores.)
while ! grep -q '^ready' "$snap/tap.log" 2>/dev/null &&
	kill -0 "$runpid" 2>/dev/null; do
	sleep 0.2
done
saved=0
if grep -q '^ready' "$snap/tap.log" 2>/dev/null; then
	hmp "migrate \"exec:cat >$snap/state\"" >/dev/null || true
	while kill -0 "$runpid" 2>/dev/null; do
		status=$(hmp 'info migrate' | sed -n 's/^Migration status: //p')
		case $status in
		completed) saved=1; break ;;
		failed|cancelled) break ;;
		esac
		sleep 0.2
	done
fi
hmp quit >/dev/null || true
exec 5>&- 6>&- 7>&-
wait "$runpid" || true
if [ "$saved" != 1 ]; then
	result fail "$WHERE" "the writer VM could not be booted and saved (log: $snap) [CRASH_SEED=$SEED]"
	exit 1
fi
result pass "$WHERE" "a writer VM booted, loaded pflash and was saved, to start every kill point from ($(du -m "$snap/state" | cut -f1) MB)"

# --- one kill point ----------------------------------------------------------
# kill_point NAME REGION SCENARIO MODE RUN SEED WHEN DELAY_US [lie]
#   WHEN: "start" (steady), "phase NAME begin", or "never" (the calibration)
# Resumes the saved VM on region REGION of disks.img, made pristine, sends
# it its parameters, and kills it DELAY_US after the line WHEN.  Leaves in
# OUTDIR/NAME: tap.log and said.txt (what the writer said, whole lines;
# each line stamped "HOST_US LINE" in said.log), killed_at.
kill_point() {
	local name=$1 region=$2 scenario=$3 mode=$4 run=$5 seed=$6 when=$7
	local delay=$8 lie=${9:-} d=$OUTDIR/$1 qpid= deadline= line now left
	local drive

	rm -rf "$d" && mkdir -p "$d"
	drive=$(region_args "$region")
	mkfifo "$d/ctl.in" "$d/ctl.out"
	exec {in}<>"$d/ctl.in" {out}<>"$d/ctl.out"
	: >"$d/tap.log"
	# shellcheck disable=SC2046
	"$REPO/tools/boot/run.sh" -k "$KERNEL" -i "$INITRD" -d "$d" "${VM[@]}" \
		-t 600 -- $drive \
		-chardev "pipe,id=ctl,path=$d/ctl" -serial chardev:ctl \
		-pidfile "$d/qemu.pid" -incoming "exec:cat $snap/state" \
		>"$d/run.log" 2>&1 &
	local runpid=$!
	printf '\n\n\ngo %s %s %s %s %s\n' "$scenario" "$mode" "$run" "$seed" \
		"$lie" >&"$in"
	: >"$d/said.log"
	exec {tail}< <(tail -n +1 -F "$d/tap.log" 2>/dev/null)
	local tailpid=$!
	# Nothing of an earlier kill point's lines on a descriptor of that number.
	read_part[$tail]=
	# Until the kill's deadline; before WHEN, as long as the VM runs (its
	# time limit, -t, is the bound), reading in steps of a second.
	while :; do
		now=$(now_us)
		if [ -n "$deadline" ]; then
			left=$((deadline - now))
			[ "$left" -le 0 ] && break
		else
			left=1000000
		fi
		if read_line "$tail" "$((left / 1000000)).$(printf '%06d' $((left % 1000000)))"; then
			line=${line//$'\r'/}
			echo "$(now_us) $line" >>"$d/said.log"
			if [ -z "$deadline" ] && [ "$line" = "$when" ]; then
				deadline=$(($(now_us) + delay))
			fi
			if [ "$when" = never ] && [ "$line" = done ]; then
				break
			fi
		fi
		kill -0 "$runpid" 2>/dev/null || break
	done
	[ -s "$d/qemu.pid" ] && qpid=$(cat "$d/qemu.pid")
	if [ -n "$qpid" ] && kill -KILL "$qpid" 2>/dev/null; then
		now_us >"$d/killed_at"
	fi
	wait "$runpid" 2>/dev/null || true
	kill "$tailpid" 2>/dev/null || true
	exec {tail}<&- {in}>&- {out}>&-
	# What the writer said: whole lines only.  The kill may cut the last
	# one short ("ack 1054 79" for "ack 1054 7928 7930"): a line the host
	# did not get whole is a line it did not get.
	tr -d '\r' <"$d/tap.log" >"$d/said.txt"
	if [ -s "$d/said.txt" ] && [ -n "$(tail -c 1 "$d/said.txt")" ]; then
		sed -i '$d' "$d/said.txt"
	fi
	rm -f "$d/ctl.in" "$d/ctl.out"
}

# --- 2. calibration ------------------------------------------------------------
# Each kill point writes runs of its own: RUN, and RUN + 1 for phases.
run_id=1000
next_run() { run_id=$((run_id + 2)); }
plan=$OUTDIR/plan	# NAME SCENARIO MODE RUN TARGET DELAY_US LIE
: >"$plan"
next_run
kill_point calibration 1 phases writeback "$run_id" 0 never 0
echo "calibration phases writeback $run_id none 0 -" >>"$plan"
# The duration of each phase, in microseconds, from the calibration.
phase_us() {
	awk -v p="$1" '
		$2 == "phase" && $3 == p && $4 == "begin" { b = $1 }
		$2 == "phase" && $3 == p && $4 == "end" { e = $1 }
		END { if (b && e > b) print e - b; else print 0 }' \
		"$OUTDIR/calibration/said.log"
}
declare -A dur
for p in inactivate import activate; do
	dur[$p]=$(phase_us "$p")
done
if ! grep -qx done "$OUTDIR/calibration/said.txt"; then
	result fail "$WHERE" "calibration: the phases scenario did not run to its end (log: $OUTDIR/calibration) [CRASH_SEED=$SEED]"
	exit 1
fi
result pass "$WHERE" "calibration: inactivation $((dur[inactivate] / 1000)) ms, import $((dur[import] / 1000)) ms, activation $((dur[activate] / 1000)) ms (8 MiB device)"

# --- 3. the kill points --------------------------------------------------------
# rnd N: a random number below N, in R (no subshell: that would not draw
# from this shell's generator).
rnd() { R=$(((RANDOM * 32768 + RANDOM) % $1)); }
n=0
for mode in writethrough writeback; do
	for i in $(seq "$KILLS"); do
		n=$((n + 1))
		next_run
		rnd $((DELAY_MS * 1000))
		echo "k$n steady $mode $run_id start $((100000 + R)) -" >>"$plan"
	done
done
alt=0
for p in inactivate import activate; do
	for i in $(seq "$PHASE_KILLS"); do
		n=$((n + 1))
		if [ "$p" = inactivate ]; then
			mode=writeback
		else
			mode=writethrough
			[ $((alt % 2)) = 1 ] && mode=writeback
			alt=$((alt + 1))
		fi
		# Anywhere in the phase, as measured, and a little after it;
		# every other kill of an import, anywhere in the half second
		# before the activation too.  (Had every import kill that
		# window, all would miss the import itself one run in 16.)
		next_run
		after=$((dur[$p] / 10))
		[ "$p" = import ] && [ $((i % 2)) = 0 ] && after=500000
		rnd $((dur[$p] + after + 1))
		echo "k$n phases $mode $run_id $p $R -" >>"$plan"
	done
done
for i in $(seq "$LIE_KILLS"); do
	n=$((n + 1))
	next_run
	rnd 200000
	echo "k$n steady writeback $run_id lied $R lie" >>"$plan"
done

# run_plan_line NAME SCENARIO MODE RUN TARGET DELAY LIE: its kill point.
run_plan_line() {
	local name=$1 scenario=$2 mode=$3 run=$4 target=$5 delay=$6 lie=$7 when
	if [ "$target" = start ] || [ "$target" = lied ]; then
		when=$target
	else
		when="phase $target begin"
	fi
	[ "$lie" = - ] && lie=
	kill_point "$name" "$((${name#k} + 1))" "$scenario" "$mode" "$run" \
		"$RANDOM$RANDOM" "$when" "$delay" $lie
}

# inside NAME: the phase in which the kill of NAME landed, if any: begun
# and not ended.
inside() {
	awk '$1 == "phase" && $3 == "begin" { p = $2 }
	     $1 == "phase" && $3 == "end" { p = "" }
	     END { print p }' "$OUTDIR/$1/said.txt"
}

# phase_cut PHASE: whether a kill point aimed at PHASE landed inside it.
phase_cut() {
	local name
	for name in $(awk -v p="$1" '$5 == p { print $1 }' "$plan"); do
		[ "$(inside "$name")" = "$1" ] && return 0
	done
	return 1
}

log "$KERNEL: $n kill points, $JOBS at a time"
start=$SECONDS
while read -r name scenario mode run target delay lie; do
	[ "$name" = calibration ] && continue
	while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do
		wait -n || true
	done
	run_plan_line "$name" "$scenario" "$mode" "$run" "$target" "$delay" "$lie" &
done <"$plan"
wait

# Every phase must have been cut at least once, or the run proves nothing
# about it.  Where the random kills all missed a phase (they are drawn
# from the calibration's durations, measured alone, and the kill points
# may run slower or faster), more kill points follow, one at a time,
# drawn from the middle of the phase as this run's own kill points saw
# it, until one lands inside, at most EXTRA_KILLS of them.
EXTRA_KILLS=${CRASH_EXTRA_KILLS:-10}
for p in inactivate import activate; do
	tries=0
	while ! phase_cut "$p"; do
		[ "$tries" -lt "$EXTRA_KILLS" ] || break
		tries=$((tries + 1))
		# The phase's duration in the kill points that saw it end.
		d=$(for name in $(awk -v p="$p" '$2 == "phases" { print $1 }' "$plan"); do
			awk -v p="$p" '
				$2 == "phase" && $3 == p && $4 == "begin" { b = $1 }
				$2 == "phase" && $3 == p && $4 == "end" && b { print $1 - b }' \
				"$OUTDIR/$name/said.log"
		done | sort -n | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : 0 }')
		[ "${d:-0}" -gt 0 ] || d=${dur[$p]}
		n=$((n + 1))
		next_run
		rnd $((d * 6 / 10 + 1))
		mode=writeback
		[ "$p" != inactivate ] && [ $((tries % 2)) = 1 ] && mode=writethrough
		echo "k$n phases $mode $run_id $p $((d / 5 + R)) -" >>"$plan"
		log "$KERNEL: no kill landed inside $p yet: one more, k$n"
		run_plan_line $(tail -n 1 "$plan")
	done
done
result pass "$WHERE" "$n kill points in $((SECONDS - start)) s"

# --- 4. the check ----------------------------------------------------------------
# Each disk: NAME OFFSET SIZE SCENARIO RUN COUNT RETRY, for the checker.
check=$OUTDIR/checker
rm -rf "$check" && mkdir -p "$check"
: >"$check/list"
region=1
while read -r name scenario mode run target delay lie; do
	said=$OUTDIR/$name/said.txt
	if [ "$scenario" = steady ]; then
		count=$(awk '$1 == "ack" && $4 + 1 > c { c = $4 + 1 } END { print c + 1 }' "$said")
	else
		count=$(($(numfmt --from=iec "$PHASES_SIZE") / 4096))
	fi
	retry=0
	grep -qx 'phase activate begin' "$said" && retry=1
	echo "$name $((region * REGION_MB * 1048576)) $((REGION_MB * 1048576)) $scenario $run $count $retry" >>"$check/list"
	region=$((region + 1))
done <"$plan"
"$REPO/tools/boot/run.sh" -k "$KERNEL" -i "$INITRD" -d "$check" -m 512M -s 2 \
	-t 900 -a "crash.role=checker" -- \
	-drive "file=$disks,if=virtio,format=raw,cache=none" \
	-fw_cfg "name=opt/pflash/crash,file=$check/list" || true
failed=0
judge_vm "$WHERE/checker" "$check" || failed=1

# The writers' kernel logs, each from the resume to the kill.
writers=$OUTDIR/writers
mkdir -p "$writers"
cat "$snap/console.log" >"$writers/console.log"
while read -r name _; do
	cat "$OUTDIR/$name/console.log"
done <"$plan" >>"$writers/console.log"
judge_vm --kernel-log "$WHERE/writers" "$writers" || failed=1

# Judge each disk: "NAME MODE SCENARIO INSIDE LOST WHAT", INSIDE being the
# phase the kill landed in ("-" for none).
tr -d '\r' <"$check/tap.log" >"$check/tap.txt"
while read -r name scenario mode run target delay lie; do
	awk -v name="$name" -v scenario="$scenario" -v mode="$mode" \
	    -v a="$run" -v b="$((run + 1))" -v lie="$lie" '
	function expand(ranges, run, into,    n, r, k, i, x) {
		if (ranges == "-") return
		n = split(ranges, r, ",")
		for (i = 1; i <= n; i++) {
			split(r[i], x, "-")
			for (k = x[1] + 0; k <= x[2] + 0; k++) into[run " " k] = 1
		}
	}
	FNR == 1 { file++ }
	file == 1 && $1 == "ack" && NF == 4 {
		for (k = $3 + 0; k <= $4 + 0; k++) acked[$2 " " k] = 1
	}
	file == 1 && $1 == "phase" { phase[$2 " " $3] = 1 }
	file == 1 && $1 == "done" { done = 1 }
	file == 1 && $1 == "wrote" && $2 == a { total = $4 + 1 }
	file == 2 && $2 == "crash" && $3 == name {
		if ($4 == "intact") { expand($7, $5, intact); nint[$5] = $6 }
		else if ($4 == "retry" && $5 == "intact") { expand($8, $6, retried); nret[$6] = $7 }
		else if ($4 == "retry" && $5 == "failed") retry_failed = 1
		checked = 1
	}
	END {
		inside = "-"
		for (p in phase) {
			split(p, x, " ")
			if (x[2] == "begin" && !((x[1] " end") in phase)) inside = x[1]
		}
		# Committed, and waiting for its activation.
		if (("import end" in phase) && !("activate begin" in phase))
			inside = "imported"
		lost = 0
		why = ""
		if (!checked) { print name, mode, scenario, inside, -1, "not checked"; exit }
		activated = ("activate begin" in phase)
		for (r in acked) {
			split(r, x, " ")
			# Once activation began, the old state is rightly gone.
			if (activated && x[1] == a) continue
			if (!(r in intact)) lost++
		}
		if (lost) why = why " " lost " acknowledged records lost;"
		if (scenario == "phases" && ("import begin" in phase) && !activated) {
			if (nint[a] != total || nint[b] != 0) {
				why = why " an import changed the target file (" nint[a] " of " total " old records, " nint[b] " new ones);"
				lost += total - nint[a]
			}
		}
		if (scenario == "phases" && activated) {
			if (retry_failed || nret[b] != total) {
				why = why " a retried move did not repair the file (" nret[b] + 0 " of " total " records);"
				lost++
			}
		}
		print name, mode, scenario, inside, lost, (why == "" ? "ok" : why)
	}' "$OUTDIR/$name/said.txt" "$check/tap.txt"
done <"$plan" >"$OUTDIR/verdicts"

# How many records the writers named acknowledged in all.
acked_total() {
	local total=0 name
	for name in "$@"; do
		total=$((total + $(awk '$1 == "ack" && NF == 4 {
			for (k = $3 + 0; k <= $4 + 0; k++) if (!seen[$2 " " k]++) n++
		} END { print n + 0 }' "$OUTDIR/$name/said.txt")))
	done
	echo "$total"
}

while read -r name scenario mode run target delay lie; do
	[ "$lie" = lie ] && continue
	v=$(grep "^$name " "$OUTDIR/verdicts")
	set -- $v
	if [ "$5" != 0 ]; then
		result fail "$WHERE" "$name ($scenario, $mode, kill target $target):${v#* * * * * } [CRASH_SEED=$SEED]"
		failed=1
	fi
done <"$plan"

for mode in writethrough writeback; do
	# Lying writers are the control, not counted here.
	kills=$(awk -v m="$mode" 'NR == FNR { if ($7 == "lie") lie[$1] = 1; next }
		$2 == m && $1 != "calibration" && !lie[$1] { k++ } END { print k + 0 }' "$plan" "$OUTDIR/verdicts")
	lost=$(awk -v m="$mode" 'NR == FNR { if ($7 == "lie") lie[$1] = 1; next }
		$2 == m && $1 != "calibration" && !lie[$1] { if ($5 > 0) l += $5; else if ($5 < 0) l++ } END { print l + 0 }' "$plan" "$OUTDIR/verdicts")
	if [ "$lost" = 0 ] && [ "$kills" -ge "$KILLS" ]; then
		result pass "$WHERE" "crash: $mode: kill points $kills, acknowledged records lost 0"
	else
		result fail "$WHERE" "crash: $mode: kill points $kills, acknowledged records lost $lost [CRASH_SEED=$SEED]"
		failed=1
	fi
done

for p in inactivate import activate; do
	read -r kills inside waiting lost < <(awk -v p="$p" 'NR == FNR { t[$1] = $5; next }
		t[$1] == p { k++; if ($4 == p) in_++; if ($4 == "imported") w++; if ($5) l++ }
		END { print k + 0, in_ + 0, w + 0, l + 0 }' "$plan" "$OUTDIR/verdicts")
	case $p in
	inactivate) what="every inactivation that returned left its file complete" ;;
	import) what="every import that did not reach activation left the target's file as it was"
		inside="$inside inside the phase and $waiting after it, before the activation" ;;
	activate) what="a retried move repaired every file whose activation was cut" ;;
	esac
	[ "$p" = import ] || inside="$inside inside the phase"
	text="crash: $p: $kills kills, $inside; $what"
	if [ "$lost" = 0 ] && [ "${inside%% *}" -gt 0 ]; then
		result pass "$WHERE" "$text"
	else
		result fail "$WHERE" "crash: $p: $kills kills, $inside; $lost failed the check [CRASH_SEED=$SEED]"
		failed=1
	fi
done

v=$(grep '^calibration ' "$OUTDIR/verdicts" || true)
if [ "$(echo "$v" | cut -d' ' -f5)" = 0 ]; then
	result pass "$WHERE" "the calibration run, not killed, kept everything: $(acked_total calibration) acknowledged records"
else
	result fail "$WHERE" "the calibration run: ${v:-not checked} [CRASH_SEED=$SEED]"
	failed=1
fi

# The control: each liar had every record it acknowledged to lose (none
# was flushed, nothing writes back by itself), at least the 64 it had
# acknowledged when it said "lied", and the check must find every one lost.
if [ "$LIE_KILLS" -gt 0 ]; then
	had=0 lost=0 short=
	for name in $(awk '$7 == "lie" { print $1 }' "$plan"); do
		a=$(acked_total "$name")
		l=$(awk -v n="$name" '$1 == n { print ($5 > 0 ? $5 : 0) }' "$OUTDIR/verdicts")
		had=$((had + a)) lost=$((lost + ${l:-0}))
		if [ "$a" -lt 64 ] || [ "${l:-0}" != "$a" ]; then
			short="$short $name: lost ${l:-0} of $a;"
		fi
	done
	text="crash: control: writers that acknowledge without flushing, on devices that write nothing back by themselves, had $had acknowledged records to lose in $LIE_KILLS kills and lost $lost"
	if [ -z "$short" ]; then
		result pass "$WHERE" "$text: the check finds every one"
	else
		result fail "$WHERE" "$text: the check missed some ($short) [CRASH_SEED=$SEED]"
		failed=1
	fi
fi
# The disks take a gigabyte or so: kept only if something failed.
[ "$failed" = 0 ] && rm -f "$disks"
exit $failed
