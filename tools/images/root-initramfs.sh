#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The initramfs that boots a VM into a whole root file system on its first
# virtio disk, as a Debian host boots: busybox, the modules that reach the
# disk (virtio_pci, virtio_blk, ext4 and what they need), and an /init
# that loads them, mounts /dev/vda read-write and hands over to its
# /sbin/init (systemd) with switch_root.  Used by tools/check/systemd.sh.
#
# Usage: root-initramfs.sh NAME      (the kernel: deb61, deb72, ...)
# Prints the path of the initramfs, build/vm/NAME/root-initramfs.cpio,
# made again only when this script or the kernel changed.

set -euo pipefail
. "$(dirname "$0")/../lib/harness.sh"

NAME=${1:?usage: root-initramfs.sh NAME}
. "$BUILD/kernels/$NAME/kernel.env"

MODULES=(virtio_pci virtio_blk ext4)

out=$BUILD/vm/$NAME/root-initramfs.cpio
key=$( { cat "${BASH_SOURCE[0]}"; echo "$KREL $VMLINUZ"; } | sha256sum | cut -c1-12)
if [ -e "$out" ] && [ "$(cat "$out.key" 2>/dev/null)" = "$key" ]; then
	echo "$out"
	exit 0
fi

stage=$(mktemp -d "$BUILD/root-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,dev,proc,sys,root,lib/modules}
cp /bin/busybox "$stage/bin/busybox"
for applet in sh mount umount switch_root insmod sleep echo cat; do
	ln -s busybox "$stage/bin/$applet"
done
# The kernel opens /dev/console for init before devtmpfs is mounted.
if [ "$(id -u)" = 0 ]; then
	mknod -m 600 "$stage/dev/console" c 5 1
fi

# The modules, uncompressed (busybox's insmod reads plain .ko), in the
# order they must be loaded, by the modules.dep kernels.sh made.  A module
# that does not resolve (not built in, nor found) stops the build: an
# initramfs without it boots a VM that cannot mount its disk.
srcbase=${MODDIR%/lib/modules/*}
for m in "${MODULES[@]}"; do
	deps=$(modprobe -d "$srcbase" -S "$KREL" --show-depends "$m" 2>&1) ||
		die "$NAME: $m: $deps"
	printf '%s\n' "$deps"
done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }' >"$stage/order.host"
: >"$stage/lib/modules/order"
while read -r ko; do
	base=$(basename "$ko")
	base=${base%.xz}
	base=${base%.zst}
	case $ko in
	*.ko.xz) xz -dc "$ko" ;;
	*.ko.zst) zstd -qdc "$ko" ;;
	*) cat "$ko" ;;
	esac >"$stage/lib/modules/$base"
	echo "$base" >>"$stage/lib/modules/order"
done <"$stage/order.host"
rm "$stage/order.host"

cat >"$stage/init" <<'EOF'
#!/bin/sh
# Load what reaches the root disk, mount it, and let systemd take over.
mount -t devtmpfs devtmpfs /dev
mount -t proc proc /proc
mount -t sysfs sysfs /sys
while read -r m; do
	insmod "/lib/modules/$m" 2>/dev/null
done </lib/modules/order
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
if ! mount -t ext4 -o rw /dev/vda /root; then
	echo "root-initramfs: cannot mount /dev/vda"
	exec sh
fi
umount /sys /proc
mount --move /dev /root/dev
exec switch_root /root /sbin/init
EOF
chmod 755 "$stage/init"

mkdir -p "$(dirname "$out")"
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
	cpio --quiet -o -H newc -R 0:0) >"$out.tmp"
mv "$out.tmp" "$out"
echo "$key" >"$out.key"
echo "$out"
