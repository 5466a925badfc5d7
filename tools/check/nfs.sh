#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Shared storage between hosts: three QEMU VMs on this host.  One serves a
# directory over NFSv4 with the kernel's nfsd, with a short lease; hosts A
# and B mount it and keep their pflash backing files there, each with
# pflash0 (writeback) on vm1_VARS.fd and pflash1 (writethrough) on
# vm2_VARS.fd.  The server has a link to each host, a QEMU socket netdev
# on this host's loopback, and forwards between them.  The guests run
# tools/guests/nfs.sh, an agent that runs what this script sends it over a
# serial port; this script cuts a host's link, and kills a host, through
# its QMP socket.  The scenarios, both cache modes at once, in one boot:
#
#  1. A owns the files; B's standbys are refused activation while A holds
#     the lock ("owned elsewhere"); a move: A inactivates, its state
#     crosses the network, B imports and activates.  The files equal B's
#     devices, and A can no longer write.
#  4. B's link is cut within the lease, while it writes: B keeps the lock,
#     and nothing is lost.
#  2. B's link is cut for good, with dirty data in writeback mode and a
#     write in flight in writethrough mode.  After the lease A takes over,
#     at a higher epoch, and writes.  When B's link comes back, its
#     writeback fails, and reaches the files never: they hold A's data,
#     every byte.  B's devices are lost: state, error, uevent, event,
#     kernel log and the note of `pflashctl list`; they retry nothing; the
#     admin guide's way back runs, and B's new standbys hold the files.
#  3. A is killed, a power loss, while it writes; B takes over after the
#     lease.  The files, and B's devices, hold every record A acknowledged:
#     each one in writethrough mode, up to its last flush in writeback
#     mode.
#
# Every check of the files is by bytes on the server: its sha256 against
# the image this script expects, or record by record.  The admin guide's
# shared-storage commands run on the hosts (doc_test.sh, DOC_GROUP=nfs*).
# Called by check.sh with an initramfs built for KERNEL (the payload
# tools/guests/nfs.sh); records results (tools/judge/judge.sh) under
# "KERNEL/nfs", and how long each scenario took.
#
# Usage: RESULTS=FILE nfs.sh KERNEL INITRD OUTDIR
# Environment: NFS_LEASE, the server's lease in seconds (default 15);
# NFS_SCENARIOS, the scenarios to run (default "1 4 2 3"): each builds on
# the state the one before left, so the run stops before the first one
# not named ("1 4" runs 1 and 4).

set -uo pipefail
. "$(dirname "$0")/../lib/harness.sh"
. "$REPO/tools/judge/judge.sh"

KERNEL=${1:?usage: nfs.sh KERNEL INITRD OUTDIR}
INITRD=${2:?usage: nfs.sh KERNEL INITRD OUTDIR}
OUTDIR=${3:?usage: nfs.sh KERNEL INITRD OUTDIR}
WHERE=$KERNEL/nfs
LEASE=${NFS_LEASE:-15}
SCENARIOS=" ${NFS_SCENARIOS:-1 4 2 3} "
VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
SHARED=/var/lib/pflash/shared
# How long one command of the agent may take, at most, and the VMs.
CMD_LIMIT=300
VM_LIMIT=1200

mkdir -p "$OUTDIR"
rm -f "$OUTDIR/acks"
failed=0
start=$SECONDS

# --- the VMs -------------------------------------------------------------------

# Whether something listens on TCP port $1 of 127.0.0.1.
listening() {
	local hex
	hex=$(printf '%04X' "$1")
	awk -v p=":$hex" '$2 ~ p"$" && $4 == "0A" { f = 1 } END { exit !f }' \
		/proc/net/tcp
}

# Free ports: the two links, and each VM's control port and QMP socket.
ports=()
while [ ${#ports[@]} -lt 8 ]; do
	p=$((20000 + RANDOM % 20000))
	listening "$p" || [[ " ${ports[*]} " == *" $p "* ]] || ports+=("$p")
done
LINK_A=${ports[0]} LINK_B=${ports[1]}
declare -A CTL_PORT=([server]=${ports[2]} [a]=${ports[3]} [b]=${ports[4]})
declare -A QMP_PORT=([server]=${ports[5]} [a]=${ports[6]} [b]=${ports[7]})
declare -A PID CTL QMP
# However this script ends, no VM of its outlives it: each run.sh kills
# its QEMU when it is killed.
trap 'for p in "${PID[@]}"; do kill "$p" 2>/dev/null; done' EXIT

# vm ROLE NETDEV-ARGS...: boot one VM in the background.  QEMU waits for
# this script to connect to its control port (wait=on) before it runs.
vm() {
	local role=$1
	shift
	"$REPO/tools/boot/run.sh" -k "$KERNEL" -i "$INITRD" -d "$OUTDIR/$role" \
		-t "$VM_LIMIT" -s 1 -m 1G \
		-a "pflash.role=$role pflash.lease=$LEASE nfs.nfs4_unique_id=pflash-$role" -- \
		"$@" \
		-chardev "socket,id=ctl,host=127.0.0.1,port=${CTL_PORT[$role]},server=on,wait=on" \
		-serial chardev:ctl \
		-qmp "tcp:127.0.0.1:${QMP_PORT[$role]},server=on,wait=off" &
	PID[$role]=$!
}

# connect ROLE: open the VM's control port, once its QEMU listens.
connect() {
	local role=$1 fd
	until listening "${CTL_PORT[$role]}"; do
		kill -0 "${PID[$role]}" 2>/dev/null || return 1
		sleep 0.1
	done
	exec {fd}<>"/dev/tcp/127.0.0.1/${CTL_PORT[$role]}" || return 1
	CTL[$role]=$fd
}

# send ROLE LINE: run a line of bash in ROLE's agent; print its output and
# return its status (124 if it gave none in CMD_LIMIT seconds).  The acks
# of a writer (tools/guests/nfs.sh) that come meanwhile go to acks.
send() {
	local role=$1 cmd=$2 line reply
	printf '%s\n' "$cmd" >&"${CTL[$role]}" || return 125
	while read_line "${CTL[$role]}" "$CMD_LIMIT"; do
		reply=${line%$'\r'}
		case $reply in
		'| '*) printf '%s\n' "${reply#| }" ;;
		'|') echo ;;
		'@@ack '*) echo "${reply#@@ack }" >>"$OUTDIR/acks" ;;
		'@@rc '*) return "${reply#@@rc }" ;;
		esac
	done
	log "$KERNEL: $role did not answer '$cmd' in $CMD_LIMIT s"
	return 124
}

# on ROLE COMMAND ARGS...: run a command in ROLE's agent, quoted as given.
on() {
	local role=$1
	shift
	send "$role" "$(printf '%q ' "$@")"
}

# check ROLE NAME COMMAND ARGS...: a TAP result of ROLE's, whether COMMAND
# succeeds there; what it printed, on the console of this script.
check() {
	local role=$1 name=$2
	shift 2
	send "$role" "check $(printf '%q ' "$name" "$@")" | sed "s/^/    [$role] /"
	return "${PIPESTATUS[0]}"
}

# qmp ROLE COMMAND [ARGUMENTS]: a QMP command to ROLE's QEMU.
qmp() {
	local role=$1 cmd=$2 args=${3:-} fd reply
	if [ -z "${QMP[$role]:-}" ]; then
		exec {fd}<>"/dev/tcp/127.0.0.1/${QMP_PORT[$role]}" || return 1
		QMP[$role]=$fd
		read -r -t 30 reply <&"$fd" || return 1
		printf '{"execute":"qmp_capabilities"}\n' >&"$fd"
		read -r -t 30 reply <&"$fd" || return 1
	fi
	fd=${QMP[$role]}
	printf '{"execute":"%s"%s}\n' "$cmd" "${args:+,\"arguments\":$args}" >&"$fd"
	while read -r -t 30 reply <&"$fd"; do
		case $reply in
		*'"return"'*) return 0 ;;
		*'"error"'*) log "$KERNEL: QMP $cmd: $reply"; return 1 ;;
		esac
	done
	return 1
}
link() { qmp "$1" set_link "{\"name\":\"wire\",\"up\":$2}"; }

# --- what the files must hold -------------------------------------------------

# rec WHO N: record N of WHO, as the guests write it.
rec() { yes "pflash-nfs record $1 $2" | head -c 4096; }
declare -A EXP
# expect FILE BLOCK WHO N: FILE's block BLOCK holds that record now.
expect() { EXP[$1/$2]=$3:$4; }
# expected FILE: the sha256 of what FILE must hold.
expected() {
	local img=$OUTDIR/expected.img key b
	cp "$VARS" "$img"
	for key in "${!EXP[@]}"; do
		[ "${key%%/*}" = "$1" ] || continue
		b=${key#*/}
		rec "${EXP[$key]%%:*}" "${EXP[$key]#*:}" |
			dd of="$img" bs=4096 seek="$b" count=1 conv=notrunc status=none
	done
	sha256sum <"$img" | cut -d' ' -f1
}
FILES=(vm1_VARS.fd vm2_VARS.fd)
declare -A DEV_OF=([vm1_VARS.fd]=pflash0 [vm2_VARS.fd]=pflash1)

# file_is NAME FILE SHA: a result of this script's: the server's FILE has
# sha256 SHA.
file_is() {
	local got
	got=$(on server sha "/srv/nfs/$2")
	if [ "$got" = "$3" ]; then
		result pass "$WHERE" "$1 ($2)"
	else
		result fail "$WHERE" "$1 ($2: sha256 $got, expected $3)"
		failed=1
	fi
}
# files_expected WHAT: each file on the server is what this script expects.
files_expected() {
	local f
	for f in "${FILES[@]}"; do
		file_is "$1" "$f" "$(expected "$f")"
	done
}
# devices_are ROLE WHAT: each of ROLE's devices holds its file on the
# server, byte for byte.
devices_are() {
	local f
	for f in "${FILES[@]}"; do
		file_is "$2" "$f" "$(on "$1" sha "/dev/${DEV_OF[$f]}")"
	done
}
# both ROLE BLOCK WHO N [fsync]: ROLE writes that record to both devices,
# and expects it in both files.
both() {
	local role=$1 f
	shift
	for f in "${FILES[@]}"; do
		on "$role" put "/dev/${DEV_OF[$f]}" "$@" || return
		expect "$f" "$1" "$2" "$3"
	done
}
# scenario NAME: the start of a scenario, and the time the last one took.
t_scenario=
scenario() {
	[ -n "$t_scenario" ] && log "$KERNEL: $s_name took $((SECONDS - t_scenario)) s"
	s_name=$1 t_scenario=$SECONDS
	[ -n "$1" ] && log "$KERNEL: $1"
}
# wanted N: scenario N is to run (NFS_SCENARIOS); if not, the last one
# ended here.
wanted() {
	[[ $SCENARIOS == *" $1 "* ]] && return 0
	scenario ""
	log "$KERNEL: NFS_SCENARIOS=${SCENARIOS# }: not scenario $1, nor those after it"
	return 1
}
# doc GROUP ROLE: the admin guide's commands of GROUP, run in ROLE's VM on
# its devices as they are, as one nested result of its TAP.
doc() {
	send "$2" "doc_group $1" | sed "s/^/    [$2] /"
	return "${PIPESTATUS[0]}"
}

# --- boot --------------------------------------------------------------------

log "$KERNEL: three VMs: an NFS server, hosts A and B (logs: $OUTDIR)"
vm server \
	-netdev "socket,id=wire,listen=127.0.0.1:$LINK_A" \
	-device virtio-net-pci,netdev=wire,mac=52:54:00:99:01:01 \
	-netdev "socket,id=wire2,listen=127.0.0.1:$LINK_B" \
	-device virtio-net-pci,netdev=wire2,mac=52:54:00:99:02:01
connect server || { result fail "$WHERE" "the server's QEMU ended before it listened"; exit 1; }
# The hosts' QEMUs connect at start: the server's must listen first.
until listening "$LINK_A" && listening "$LINK_B"; do
	if ! kill -0 "${PID[server]}" 2>/dev/null; then
		result fail "$WHERE" "the server's QEMU ended before its links listened (log: $OUTDIR/server)"
		exit 1
	fi
	sleep 0.1
done
vm a -netdev "socket,id=wire,connect=127.0.0.1:$LINK_A" \
	-device virtio-net-pci,netdev=wire,mac=52:54:00:99:01:02
connect a || { result fail "$WHERE" "A's QEMU ended at once"; exit 1; }
vm b -netdev "socket,id=wire,connect=127.0.0.1:$LINK_B" \
	-device virtio-net-pci,netdev=wire,mac=52:54:00:99:02:02
connect b || { result fail "$WHERE" "B's QEMU ended at once"; exit 1; }

# Each agent says "@@ready STATUS" after its setup.
up=1
for role in server a b; do
	if ! IFS= read -r -t "$VM_LIMIT" line <&"${CTL[$role]}" ||
	   [ "${line%$'\r'}" != "@@ready 0" ]; then
		log "$KERNEL: $role: setup failed (${line:-no answer})"
		up=0
	fi
done
log "$KERNEL: the three VMs are up after $((SECONDS - start)) s"

scenarios() {
	local t0 e f

	# --- 1: a standby refused, then a move with shared storage ----------
	scenario "1: B's standbys are refused while A owns the files; a move from A to B"
	check a "A creates its devices on the share, active" mkdevs || return
	both a 8 a 1 && both a 9 a 2 fsync || return
	files_expected "1: A's writes, flushed, are in the files"
	# pflash0 as the admin guide shows it; pflash1 by the same steps.
	doc nfs-standby b || return
	check b "B's standby of vm2_VARS.fd" \
		pflashctl create --index 1 --backing "$SHARED/vm2_VARS.fd" --inactive
	check b "B's activation is refused while A holds the lock: the file is owned elsewhere" \
		refused EBUSY "owned elsewhere" pflashctl activate pflash1
	check b "B's standbys are inactive, at epoch 0" states inactive 0
	on b listen_imports || return
	check a "A inactivates, and sends its state to B over the network" move_out
	check b "B imports both states and activates" imported
	check a "A is inactive, and can no longer write" cannot_write
	check b "B is active at epoch 1" states active 1
	devices_are b "1: the files equal B's devices after the move"
	files_expected "1: the files hold what A wrote, nothing else"
	both b 16 b 1 && both b 17 b 2 fsync || return
	files_expected "1: B writes after the move"

	# --- 4: a cut within the lease --------------------------------------
	wanted 4 || return 0
	scenario "4: B's link is cut for 3 s, within the lease ($LEASE s), while it writes"
	both b 20 b 3 fsync || return	# a renewal of B's lease, at once
	link b false || return
	t0=$SECONDS
	on b put /dev/pflash0 24 b 4 && expect vm1_VARS.fd 24 b 4
	on b background_put /dev/pflash1 24 b 4 && expect vm2_VARS.fd 24 b 4
	sleep 3
	link b true || return
	log "$KERNEL: B was cut off for $((SECONDS - t0)) s"
	check b "the write in flight during the cut completes once the link is back" \
		background_done 0
	check b "B flushes the write it took into RAM during the cut" \
		put /dev/pflash0 25 b 5 fsync && expect vm1_VARS.fd 25 b 5
	check b "B keeps the files: active at epoch 1, no writeback error" \
		states active 1
	check a "A's activation is still refused: B holds the lock" \
		refused EBUSY "owned elsewhere" pflashctl activate pflash0
	files_expected "4: nothing was lost in the cut"

	# --- 2: a cut past the lease, with dirty data ------------------------
	wanted 2 || return 0
	scenario "2: B's link is cut with dirty data; A takes over after the lease"
	on b watch_events || return
	both b 28 b 6 fsync || return	# B's lease renewed, once more
	link b false || return
	t0=$SECONDS
	# In RAM only (writeback), and in flight (writethrough): B's own.
	on b put /dev/pflash0 32 b 7 && on b put /dev/pflash0 33 b 8 &&
	on b put /dev/pflash0 34 b 9 && on b put /dev/pflash0 35 b 10 || return
	on b background_put /dev/pflash1 32 b 7 || return
	# A: the takeover, pflash0 as the admin guide shows it.
	doc nfs-takeover a || return
	e=$((SECONDS - t0))
	check a "A takes over vm2_VARS.fd too" takeover pflash1 2
	log "$KERNEL: A took over $e s after B was cut off (lease $LEASE s)"
	check a "A is active at epoch 2, above B's" states active 2
	devices_are a "2: A's devices, read again at activation, hold the files: B's data before the cut"
	both a 32 a 1 && both a 33 a 2 && both a 40 a 3 fsync || return
	files_expected "2: A's writes are in the files"
	link b true || return
	log "$KERNEL: B was cut off for $((SECONDS - t0)) s"
	check b "B finds its lock lost: both devices are lost" wait_lost
	check b "B's write in flight fails with EIO" background_done 1
	check b "lost: sysfs, the writeback's error, the dirty data kept" lost_state
	check b "lost: a change uevent with PFLASH_STATE=lost" lost_uevent
	check b "lost: a lost event (pflashctl monitor)" lost_event
	check b "lost: B retries nothing: no write, no lock test reaches the server" \
		no_retry
	check b "lost: flush, inactivate, activate and import are refused with ENOLCK" \
		lost_refusals
	files_expected "2: B's writeback never reached the files: they hold A's data, every byte"
	devices_are a "2: the files equal A's devices"
	# B's way back, pflash0 as the admin guide shows it.
	doc nfs-lost b || return
	check b "B's pflash1 goes (with --force) and comes back as a standby" \
		recreate 1 "$SHARED/vm2_VARS.fd" writethrough
	devices_are b "2: B's new standbys hold the files"
	check b "B's new standbys are inactive" states inactive

	# --- 3: a power loss -------------------------------------------------
	wanted 3 || return 0
	scenario "3: A is killed while it writes; B takes over after the lease"
	# A's TAP ends here: what follows ends its VM.
	send a tap_end >/dev/null
	on a start_writers || return
	if ! wait_acks 6; then
		result fail "$WHERE" "3: A's writers acknowledged too little before the power loss (acks: $OUTDIR/acks)"
		failed=1
		return
	fi
	qmp a quit
	t0=$SECONDS
	wait "${PID[a]}" 2>/dev/null
	log "$KERNEL: A was killed after $(wc -l <"$OUTDIR/acks") acknowledged records"
	check b "B takes over vm1_VARS.fd after A's lease" takeover pflash0 3
	check b "B takes over vm2_VARS.fd" takeover pflash1 3
	log "$KERNEL: B took over $((SECONDS - t0)) s after A's power loss (lease $LEASE s)"
	for f in "${FILES[@]}"; do
		acked=$(awk -v d="/dev/${DEV_OF[$f]}" '$1 == d { printf "%s:a:%s ", $2, $3 }' \
			"$OUTDIR/acks")
		# shellcheck disable=SC2086
		check server "3: $f holds every record A acknowledged ($(wc -w <<<"$acked"))" \
			holds "/srv/nfs/$f" $acked || failed=1
		# shellcheck disable=SC2086
		check b "3: B's ${DEV_OF[$f]} holds every record A acknowledged" \
			holds "/dev/${DEV_OF[$f]}" $acked || failed=1
	done
	devices_are b "3: B's devices, read again at activation, hold the files"
	check b "B writes, and flushes" put /dev/pflash0 90 b 11 fsync
	check b "B writes in writethrough mode" put /dev/pflash1 90 b 11
	for f in "${FILES[@]}"; do
		check server "3: $f has B's write" has "/srv/nfs/$f" 90 b 11 ||
			failed=1
	done
	scenario ""
	return 0
}

# wait_acks N: until A's writers acknowledged at least N records each.
wait_acks() {
	local line t=$((SECONDS + CMD_LIMIT))
	while [ $SECONDS -lt $t ]; do
		if [ -e "$OUTDIR/acks" ] &&
		   [ "$(grep -c '^/dev/pflash0 ' "$OUTDIR/acks")" -ge "$1" ] &&
		   [ "$(grep -c '^/dev/pflash1 ' "$OUTDIR/acks")" -ge "$1" ]; then
			return 0
		fi
		read_line "${CTL[a]}" 5 || continue
		line=${line%$'\r'}
		case $line in
		'@@ack '*) echo "${line#@@ack }" >>"$OUTDIR/acks" ;;
		esac
	done
	return 1
}

if [ "$up" = 1 ]; then
	scenarios || { result fail "$WHERE" "the scenarios stopped at '$s_name' (logs: $OUTDIR)"; failed=1; }
	# The admin guide's mount options, on B, last: it unloads pflash.
	doc nfs b || failed=1
else
	result fail "$WHERE" "the VMs did not come up (logs: $OUTDIR)"
	failed=1
fi

# The end: each agent that still runs ends its TAP and powers off.
for role in server a b; do
	kill -0 "${PID[$role]}" 2>/dev/null && printf '@@end\n' >&"${CTL[$role]}"
done
for role in server a b; do
	wait "${PID[$role]}" 2>/dev/null
done
log "$KERNEL: the shared-storage test took $((SECONDS - start)) s"

judge_vm "$WHERE/server" "$OUTDIR/server" || failed=1
judge_vm "$WHERE/b" "$OUTDIR/b" || failed=1
# A was killed: its kernel log, and the TAP it ended before.
judge_vm --kernel-log "$WHERE/a" "$OUTDIR/a" || failed=1
judge_tap "$WHERE/a" "$OUTDIR/a/tap.log" || failed=1
exit $failed
