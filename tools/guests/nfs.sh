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

setup_server() {
	modprobe virtio_net && modprobe nfsd || return 1
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
	exportfs -ra && rpc.mountd -N 2 -N 3 && rpc.nfsd -N 2 -N 3 4 || return 1
	# No state to reclaim: no grace period to wait for.
	echo Y >/proc/fs/nfsd/v4_end_grace
}

setup_host() {
	local net=$1 i
	modprobe virtio_net && modprobe nfsv4 || return 1
	hostname "nfs-$role"
	ip link set lo up &&
	ip addr add "10.99.$net.2/24" dev eth0 && ip link set eth0 up &&
	ip route add default via "10.99.$net.1" || return 1
	echo "10.99.$net.1 nfs-server" >>/etc/hosts
	mkdir -p "$SHARED"
	# The server may still be starting.
	for i in $(seq 120); do
		mount -t nfs4 -o hard nfs-server:/ "$SHARED" && break
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
