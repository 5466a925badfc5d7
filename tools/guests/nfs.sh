#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Payload of the shared-storage test (tools/check/nfs.sh), one script for
# its three VMs; the kernel command line says which (pflash.role=server, a
# or b) and the NFSv4 lease in seconds (pflash.lease=N).
#
#  - server: the kernel's nfsd, with Debian's rpc.nfsd, exportfs and
#    rpc.mountd, serves /srv/nfs (a tmpfs) over NFSv4 only, with a short
#    lease, to host A on its first link (10.99.1.0/24) and host B on its
#    second (10.99.2.0/24), and forwards between the two;
#  - a, b: the two hosts.  Each mounts the export on
#    /var/lib/pflash/shared, hard, as nfs-server, and keeps its pflash
#    backing files there: vm1_VARS.fd (pflash0, writeback) and
#    vm2_VARS.fd (pflash1, writethrough).
#
# After its setup, each VM is an agent of the host's script: it reads a
# line of bash from its third serial port (/dev/ttyS2), runs it in this
# shell, so that the functions below and what earlier lines set are there,
# and answers with its output, each line after "| ", then "@@rc STATUS".
# "@@end" ends the loop, and the TAP.  Results go to /dev/ttyS1 as TAP
# (check, below); lines that a background job writes to the port itself
# ("@@ack ...") are the host's to count.

. /usr/lib/pflash-test/tap.sh
tap_open

role=$(sed -n 's/.*pflash\.role=\([a-z]*\).*/\1/p' /proc/cmdline)
LEASE=$(sed -n 's/.*pflash\.lease=\([0-9]*\).*/\1/p' /proc/cmdline)
EXPORT=/srv/nfs
SHARED=/var/lib/pflash/shared
VARS=/usr/share/OVMF/OVMF_VARS_4M.fd

# check NAME COMMAND...: one result, whether COMMAND succeeds.
check() {
	local name=$1
	shift
	echo "+ $*"
	tap_check "$role: $name" "$@"
}
# fails COMMAND...: COMMAND fails; what it printed on stderr is in
# /tmp/stderr.
fails() { ! "$@" 2>/tmp/stderr; }
# said TEXT: the last failure said TEXT (an extended-ack message).
said() {
	grep -qF -- "$1" /tmp/stderr && return 0
	echo "it said: $(cat /tmp/stderr)"
	return 1
}
# is WHAT GOT WANT: GOT is WANT, or say what it is.
is() {
	[ "$2" = "$3" ] && return 0
	echo "$1 is '$2', expected '$3'"
	return 1
}
attr() { cat "/sys/block/$1/pflash/$2"; }

# rec WHO N: record N of WHO, one block of 4 KiB.
rec() { yes "pflash-nfs record $1 $2" | head -c 4096; }
# put DEV BLOCK WHO N [fsync]: write a record, straight to the device
# (O_DIRECT), and with fsync, flush it (dd's fsync).
put() {
	rec "$3" "$4" | dd of="$1" bs=4096 seek="$2" count=1 oflag=direct \
		conv=notrunc${5:+,$5} status=none
}
# has FILE BLOCK WHO N: FILE holds that record in that block.
has() {
	rec "$3" "$4" >/tmp/rec
	dd if="$1" bs=4096 skip="$2" count=1 status=none | cmp -s - /tmp/rec
}
# holds FILE BLOCK:WHO:N...: FILE holds every one of these records.
holds() {
	local file=$1 r bad=0
	shift
	for r in "$@"; do
		IFS=: read -r b w n <<<"$r"
		has "$file" "$b" "$w" "$n" || { echo "block $b is not $w's record $n"; bad=1; }
	done
	return $bad
}
sha() { sha256sum <"$1" | cut -d' ' -f1; }
# The NFS client's count of an operation's calls (WRITE, LOCKT, ...) on
# the shared mount, from /proc/self/mountstats.
nfsops() {
	awk -v m=" $SHARED " -v op="$1:" '
		/^device / { on = index($0, m) > 0 }
		on && $1 == op { print $2; exit }' /proc/self/mountstats
}
# writer DEV WB: write records 0, 1, ... of a to blocks 48, 49, ... of
# DEV, and on the control port, "@@ack DEV BLOCK N" for each once it is
# acknowledged as durable: at once in writethrough mode, after the fsync
# that follows every second record in writeback mode (WB=1).  Until 40.
writer() {
	local dev=$1 wb=$2 n=0
	while [ $n -lt 40 ]; do
		if [ "$wb" = 1 ]; then
			put "$dev" $((48 + n)) a $n &&
				put "$dev" $((49 + n)) a $((n + 1)) fsync || return
			printf '@@ack %s %d %d\n@@ack %s %d %d\n' "$dev" \
				$((48 + n)) $n "$dev" $((49 + n)) $((n + 1)) >&4
			n=$((n + 2))
		else
			put "$dev" $((48 + n)) a $n || return
			printf '@@ack %s %d %d\n' "$dev" $((48 + n)) $n >&4
			n=$((n + 1))
		fi
	done
}
# The uevents of the pflash disks, one line each: DEVNAME ACTION STATE.
uevents() {
	printf '#!/bin/sh\necho "$DEVNAME $ACTION $PFLASH_STATE" >>/tmp/uevents\n' \
		>/tmp/uevent.sh
	chmod +x /tmp/uevent.sh
	uevent /tmp/uevent.sh &
}

# errno_text NAME: what strerror() says of errno NAME.
errno_text() {
	case $1 in
	EBUSY) echo "Device or resource busy" ;;
	ENOLCK) echo "No locks available" ;;
	*) echo "$1" ;;
	esac
}
# refused ERRNO TEXT COMMAND...: COMMAND fails with ERRNO, and says TEXT.
refused() {
	local err=$1 text=$2
	shift 2
	fails "$@" && said "$text" && said "$(errno_text "$err")"
}

# --- the steps of tools/check/nfs.sh ----------------------------------------

# The devices of the shared files, active: pflash0 in writeback mode,
# written back every second, and pflash1 in writethrough mode.
mkdevs() {
	pflashctl create --index 0 --backing "$SHARED/vm1_VARS.fd" \
		--cache writeback --writeback-interval 1000 &&
	pflashctl create --index 1 --backing "$SHARED/vm2_VARS.fd"
}
# states STATE [EPOCH]: both devices are in STATE (at EPOCH), and an active
# one's last writeback succeeded.
states() {
	local d
	for d in pflash0 pflash1; do
		is "$d's state" "$(attr $d state)" "$1" || return
		[ -z "${2:-}" ] || is "$d's epoch" "$(attr $d epoch)" "$2" || return
		[ "$1" != active ] ||
			is "$d's writeback error" "$(attr $d writeback_error)" 0 || return
	done
}
# The incoming side of the move: each device's state from the network.
listen_imports() {
	rm -f /tmp/imp0.rc /tmp/imp1.rc
	(nc -l -p 9000 | pflashctl import pflash0 --activate >/tmp/imp0.out 2>&1
	 echo $? >/tmp/imp0.rc) &
	(nc -l -p 9001 | pflashctl import pflash1 --activate >/tmp/imp1.out 2>&1
	 echo $? >/tmp/imp1.rc) &
}
# send_state DEV PORT: DEV's state to host B's PORT, once it listens.
send_state() {
	local i rc
	for i in $(seq 60); do
		{ exec 5>"/dev/tcp/10.99.2.2/$2"; } 2>/dev/null && break
		sleep 1
	done
	pflashctl export "$1" >&5
	rc=$?
	exec 5>&-
	return $rc
}
move_out() {
	pflashctl inactivate pflash0 pflash1 &&
	send_state pflash0 9000 && send_state pflash1 9001
}
# imported: both imports ended, and activated their devices.
imported() {
	local i
	for i in $(seq 300); do
		[ -e /tmp/imp0.rc ] && [ -e /tmp/imp1.rc ] && break
		sleep 1
	done
	cat /tmp/imp0.out /tmp/imp1.out 2>/dev/null
	is "the imports' status" "$(cat /tmp/imp0.rc /tmp/imp1.rc 2>/dev/null | tr '\n' ' ')" "0 0 "
}
# cannot_write: neither device takes a write.
cannot_write() {
	states inactive &&
	! dd if=/dev/zero of=/dev/pflash0 bs=4096 count=1 oflag=direct status=none &&
	! dd if=/dev/zero of=/dev/pflash1 bs=4096 count=1 oflag=direct status=none
}
# background_put ARGS...: put, in the background; background_done WANT: it
# ended, with success (0) or failure (1).
background_put() {
	rm -f /tmp/bg.rc
	(put "$@"; echo $? >/tmp/bg.rc) &
}
background_done() {
	local i
	for i in $(seq 300); do
		[ -e /tmp/bg.rc ] && break
		sleep 1
	done
	[ -e /tmp/bg.rc ] || { echo "it has not ended"; return 1; }
	if [ "$1" = 0 ]; then
		is "its status" "$(cat /tmp/bg.rc)" 0
	else
		[ "$(cat /tmp/bg.rc)" != 0 ] || { echo "it succeeded"; return 1; }
	fi
}
# The uevents and the events of pflash, from now on.
watch_events() {
	uevents
	pflashctl monitor >/tmp/monitor.log 2>&1 &
}
# takeover DEV EPOCH: activate DEV at EPOCH, again and again until the
# old owner's lock is gone (at most 300 s).
takeover() {
	local t=$((SECONDS + 300))
	until pflashctl activate --epoch "$2" "$1" 2>/dev/null; do
		[ $SECONDS -lt $t ] || return 1
		sleep 1
	done
}
wait_lost() {
	local i
	for i in $(seq 300); do
		[ "$(attr pflash0 state)" = lost ] &&
			[ "$(attr pflash1 state)" = lost ] && return 0
		sleep 1
	done
	echo "states: $(attr pflash0 state) $(attr pflash1 state)"
	return 1
}
lost_state() {
	local d
	for d in pflash0 pflash1; do
		is "$d's state" "$(attr $d state)" lost || return
		is "$d's writeback error" "$(attr $d writeback_error)" 5 || return
		is "$d read-only" "$(cat /sys/block/$d/ro)" 1 || return
		dmesg | grep -q "$d: lost the lock of its backing file" ||
			{ echo "no kernel log line for $d"; return 1; }
	done
	[ "$(attr pflash0 dirty_bytes)" -ge 16384 ] ||
		{ echo "pflash0 holds $(attr pflash0 dirty_bytes) dirty bytes"; return 1; }
	pflashctl list -o NAME,STATE,WB-ERROR,DIRTY 2>&1
	pflashctl list -o NAME,STATE,WB-ERROR 2>&1 |
		grep -q '^/dev/pflash0 *lost *EIO$' &&
	pflashctl list -n -o NAME 2>&1 >/dev/null |
		grep -q "pflash1: lost its backing file's lock to another host"
}
lost_uevent() {
	cat /tmp/uevents
	grep -q '^pflash0 change lost$' /tmp/uevents &&
		grep -q '^pflash1 change lost$' /tmp/uevents
}
lost_event() {
	cat /tmp/monitor.log
	grep -q '^lost pflash0 state:lost ' /tmp/monitor.log &&
		grep -q '^lost pflash1 state:lost ' /tmp/monitor.log
}
# no_retry: for two periods of the writeback and more, nothing of B's
# reaches the server, and the dirty data stays as it is.
no_retry() {
	local ops dirty wait
	ops="$(nfsops WRITE) $(nfsops COMMIT) $(nfsops LOCKT)"
	dirty="$(attr pflash0 dirty_bytes) $(attr pflash1 dirty_bytes)"
	wait=$(($(attr pflash0 writeback_interval_ms) * 2 / 1000 + 2))
	echo "WRITE, COMMIT, LOCKT: $ops; dirty: $dirty; waiting $wait s"
	sleep "$wait"
	is "WRITE, COMMIT, LOCKT" "$(nfsops WRITE) $(nfsops COMMIT) $(nfsops LOCKT)" "$ops" &&
	is "the dirty bytes" "$(attr pflash0 dirty_bytes) $(attr pflash1 dirty_bytes)" "$dirty"
}
lost_refusals() {
	local d
	pflashctl export pflash1 -o /tmp/lost1.pfs || return
	for d in pflash0 pflash1; do
		refused ENOLCK "lost its backing file's lock" pflashctl flush $d &&
		refused ENOLCK "lost its backing file's lock" pflashctl inactivate $d &&
		refused ENOLCK "lost its backing file's lock" pflashctl activate $d &&
		refused ENOLCK "lost its backing file's lock" \
			pflashctl import $d -i /tmp/lost1.pfs || return
	done
}
# recreate N FILE MODE: pflashN, lost with data its file never got, is
# kept unless forced; then created again from FILE, inactive.
recreate() {
	refused ENOLCK "writes its file never got" pflashctl destroy "pflash$1" &&
	pflashctl destroy --force "pflash$1" &&
	pflashctl create --index "$1" --backing "$2" --cache "$3" --inactive
}
start_writers() {
	writer /dev/pflash0 1 &
	writer /dev/pflash1 0 &
}
# doc_group GROUP: the admin guide's commands of GROUP (doc_test.sh), as a
# nested result; those of the shared-storage sections that show devices
# set up here run on them as they are.
doc_group() {
	local here=1 rc
	[ "$1" = nfs ] && here=
	DOC_GROUP=$1 DOC_HERE=$here /kselftest/pflash/doc_test.sh \
		pflash/admin-guide.rst >/tmp/doc.tap 2>&1
	rc=$?
	cat /tmp/doc.tap
	tap_nested "doc_admin_guide_$1" $rc /tmp/doc.tap
	return $rc
}

setup_server() {
	modprobe virtio_pci && modprobe virtio_net && modprobe nfsd || return 1
	ip link set lo up &&
	ip addr add 10.99.1.1/24 dev eth0 && ip link set eth0 up &&
	ip addr add 10.99.2.1/24 dev eth1 && ip link set eth1 up || return 1
	echo 1 >/proc/sys/net/ipv4/ip_forward
	mkdir -p "$EXPORT" /var/lib/nfs/v4recovery &&
	mount -t tmpfs -o mode=755 tmpfs "$EXPORT" &&
	cp "$VARS" "$EXPORT/vm1_VARS.fd" && cp "$VARS" "$EXPORT/vm2_VARS.fd" ||
		return 1
	echo "$EXPORT 10.99.0.0/16(rw,sync,no_subtree_check,no_root_squash,fsid=0)" \
		>/etc/exports
	mount -t nfsd nfsd /proc/fs/nfsd || return 1
	# Before nfsd starts: a lease, and a grace period, of LEASE seconds.
	echo "$LEASE" >/proc/fs/nfsd/nfsv4leasetime || return 1
	[ -e /proc/fs/nfsd/nfsv4gracetime ] &&
		echo "$LEASE" >/proc/fs/nfsd/nfsv4gracetime
	exportfs -ra && rpc.mountd -N 3 && rpc.nfsd -N 3 -p 2049 4 || return 1
	# No state to reclaim: the grace period ends at once, if nfsd tracks
	# its clients.  Without (7.2 has no legacy tracking, and nfsdcld does
	# not run here), it cannot be cut short, and the writes of v4_end_grace
	# fail with EBUSY: wait for its end, as v4_end_grace says it.
	echo Y >/proc/fs/nfsd/v4_end_grace 2>/dev/null
	for i in $(seq $((LEASE * 8))); do
		[ "$(cat /proc/fs/nfsd/v4_end_grace)" = Y ] && return 0
		sleep 1
	done
	echo "the grace period has not ended after $((LEASE * 8)) s"
	return 1
}

setup_host() {
	local net=$1 i
	modprobe virtio_pci && modprobe virtio_net && modprobe nfsv4 || return 1
	hostname "nfs-$role"
	ip link set lo up &&
	ip addr add "10.99.$net.2/24" dev eth0 && ip link set eth0 up &&
	ip route add default via "10.99.$net.1" || return 1
	echo "10.99.$net.1 nfs-server" >>/etc/hosts
	mkdir -p "$SHARED"
	# The server may still be starting.
	for i in $(seq 120); do
		mount -t nfs4 -o hard,retry=0 nfs-server:/ "$SHARED" && break
		sleep 1
	done
	grep -q " $SHARED nfs4 " /proc/mounts && modprobe pflash nr_devices=0
}

case $role in
server) check "nfsd serves $EXPORT over NFSv4, lease $LEASE s" setup_server ;;
a) check "the share is mounted on $SHARED, hard" setup_host 1 ;;
b) check "the share is mounted on $SHARED, hard" setup_host 2 ;;
*) tap_fail "no pflash.role= on the kernel command line"; role=none ;;
esac
ready=$?

# The agent.
stty -F /dev/ttyS2 raw -echo
exec 4<>/dev/ttyS2
printf '@@ready %d\n' "$ready" >&4
while IFS= read -r line <&4; do
	line=${line%$'\r'}
	[ "$line" = @@end ] && break
	echo "$role> $line"
	eval "$line" </dev/null >/tmp/agent.out 2>&1
	rc=$?
	cat /tmp/agent.out
	sed 's/^/| /' /tmp/agent.out >&4
	printf '@@rc %d\n' "$rc" >&4
done
tap_end
sync
