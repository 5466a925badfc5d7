#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The two-VM migration test: two QEMU VMs on this host, each with its own
# virtio disk holding its firmware store, which backs its /dev/pflash0.
# The source's state is piped to the target over a network whose only
# wire is a TCP socket on the host's loopback (QEMU's socket netdev).
# Once both VMs are off, the host checks the target's disk against the
# source's device contents, byte for byte.
#
# The guests run tools/guests/migrate.sh.  Called by check.sh with an
# initramfs built for KERNEL; records results (tools/judge/judge.sh) under
# "KERNEL/two-vms".
#
# Usage: RESULTS=FILE two-vms.sh KERNEL INITRD OUTDIR

set -euo pipefail
. "$(dirname "$0")/../lib/harness.sh"
. "$REPO/tools/judge/judge.sh"

KERNEL=${1:?usage: two-vms.sh KERNEL INITRD OUTDIR}
INITRD=${2:?usage: two-vms.sh KERNEL INITRD OUTDIR}
OUTDIR=${3:?usage: two-vms.sh KERNEL INITRD OUTDIR}
WHERE=$KERNEL/two-vms
VARS=/usr/share/OVMF/OVMF_VARS_4M.fd

mkdir -p "$OUTDIR"
# The source's disk: Debian's real variable store.  The target's: as
# large, and stale (zeros), as on a host that never ran this machine.
cp "$VARS" "$OUTDIR/source.img"
truncate -s 0 "$OUTDIR/target.img"
truncate -s "$(stat -c %s "$VARS")" "$OUTDIR/target.img"

# Whether something listens on TCP port $1 of 127.0.0.1.
listening() {
	local hex
	hex=$(printf '%04X' "$1")
	awk -v p=":$hex" '$2 ~ p"$" && $4 == "0A" { f = 1 } END { exit !f }' \
		/proc/net/tcp
}

port=
for try in $(seq 50); do
	p=$((20000 + RANDOM % 20000))
	listening "$p" || { port=$p; break; }
done
[ -n "$port" ] || die "no free port"

# vm ROLE DISK NETDEV: one VM, in the background.
vm() {
	local role=$1 disk=$2 netdev=$3 mac=$4
	"$REPO/tools/boot/run.sh" -k "$KERNEL" -i "$INITRD" -d "$OUTDIR/$role" \
		-t 600 -a "pflash.role=$role" -- \
		-drive "file=$disk,if=virtio,format=raw" \
		-netdev "socket,id=wire,$netdev" \
		-device "virtio-net-pci,netdev=wire,mac=$mac" &
}

log "$KERNEL: two VMs, the state over 127.0.0.1:$port ($OUTDIR)"
vm target "$OUTDIR/target.img" "listen=127.0.0.1:$port" 52:54:00:99:00:02
target=$!
# The source's QEMU connects at start: the target's must listen first,
# however long a loaded host makes it take (run.sh's limit is the guard).
until listening "$port"; do
	if ! kill -0 "$target" 2>/dev/null; then
		result fail "$WHERE" "the target's QEMU ended before it listened (log: $OUTDIR/target)"
		exit 1
	fi
	sleep 0.1
done
vm source "$OUTDIR/source.img" "connect=127.0.0.1:$port" 52:54:00:99:00:01
source=$!
wait "$source" || true
wait "$target" || true

failed=0
judge_vm "$WHERE/source" "$OUTDIR/source" || failed=1
judge_vm "$WHERE/target" "$OUTDIR/target" || failed=1

sha_of() {
	tr -d '\r' <"$OUTDIR/$1/tap.log" | awk -v w="$2" '$1 == "sha256" && $2 == w { print $3 }'
}
src=$(sha_of source device)
dst=$(sha_of target device)
disk=$(sha256sum <"$OUTDIR/target.img" | cut -d' ' -f1)
if [ -n "$src" ] && [ "$src" = "$disk" ] && [ "$dst" = "$disk" ]; then
	result pass "$WHERE" "the target's disk equals the source's device byte for byte"
else
	result fail "$WHERE" "the target's disk ($disk) is not the source's device (${src:-unknown}; target device ${dst:-unknown})"
	failed=1
fi
if cmp -s "$OUTDIR/source.img" "$OUTDIR/target.img"; then
	result pass "$WHERE" "the two disks are equal: nothing is left to write on either side"
else
	result fail "$WHERE" "the two disks differ"
	failed=1
fi
exit $failed
