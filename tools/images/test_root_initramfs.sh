#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# root-initramfs.sh on a pretend kernel whose modules (virtio_pci,
# virtio_blk, ext4) are stubs that depmod reads: without the tree's
# modules.dep it refuses, naming the module, where it once built an
# initramfs with no module at all (deb72's systemd VM then could not mount
# its disk, and waited 25 minutes for its time limit); with the
# modules.dep that modules_dep makes, as kernels.sh does, the initramfs
# holds the modules.  The static checks run it.  Prints TAP; exits 1 if
# any failed.

set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/harness.sh"
. "$here/../lib/tap.sh"

echo "TAP version 13"
echo "1..4"

BUILD=$(mktemp -d)
export BUILD
trap 'rm -rf "$BUILD"' EXIT
krel=0.0-pretend
moddir=$BUILD/kernels/pretend/root/lib/modules/$krel
mkdir -p "$moddir/kernel"
for m in virtio_pci virtio_blk ext4; do
	printf '__attribute__((section(".modinfo"), used))\nstatic const char info[] = "name=%s\\0vermagic=%s SMP mod_unload ";\n' \
		"$m" "$krel" >"$BUILD/$m.c"
	gcc -c -o "$moddir/kernel/$m.ko" "$BUILD/$m.c"
done
write_env "$BUILD/kernels/pretend/kernel.env" NAME=pretend KREL="$krel" \
	VMLINUZ=/dev/null MODDIR="$moddir" KDIR=/nonexistent SIDROOT=

out=$("$here/root-initramfs.sh" pretend 2>&1)
rc=$?
check "without modules.dep, the root initramfs is refused" '[ "$rc" != 0 ]'
check "and the refusal names the module it cannot find" \
	'grep -q "virtio_pci.*not found" <<<"$out"'

modules_dep "$moddir" 2>/dev/null
cpio=$("$here/root-initramfs.sh" pretend 2>/dev/null)
check "with the modules.dep modules_dep makes, the root initramfs is built" \
	'[ -s "$cpio" ]'
listed=$(cpio -it <"$cpio" 2>/dev/null | sed -n 's|^lib/modules/||p' | sort | tr '\n' ' ')
check "and holds each module (it holds: $listed)" \
	'[ "$listed" = "ext4.ko order virtio_blk.ko virtio_pci.ko " ]'
exit $failed
