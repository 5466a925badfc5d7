#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A Debian root file system that boots with systemd as PID 1, made with
# debootstrap, for the VM in which pflash's Debian packages are tested as
# a host uses them (tools/check/systemd.sh): systemd, udev, kmod, DKMS and the
# headers of the kernel the VM boots, that kernel's modules, python3
# (the documentation's tests read the documents with it), and libvirt,
# QEMU and OVMF (the test of libvirt on pflash).  Nothing of
# pflash is in it: tools/check/systemd.sh installs the packages each time, into
# an overlay of it.
#
# The Debian release follows the kernel, as on a real host: bookworm for
# deb61 and deb612, unstable for deb72, whose headers need unstable's
# compiler and C library.
#
# Usage: systemd-root.sh NAME        (the kernel: deb61, deb612 or deb72)
# Prints the root's path, build/systemd/NAME-KEY/root, where KEY covers
# this script and the kernel's release: a change of either makes a new
# root (and removes the old one).  Making one takes a few minutes.
#
# Nothing is added to the host's apt sources: the root has its own.

set -euo pipefail
. "$(dirname "$0")/../lib/harness.sh"

NAME=${1:?usage: systemd-root.sh NAME}
. "$BUILD/kernels/$NAME/kernel.env"

MIRROR=http://deb.debian.org/debian
SECURITY=http://deb.debian.org/debian-security

# What a host that runs pflash has, and what pflashctl links with (so that
# installing the packages needs no download).
PACKAGES=(
	systemd systemd-sysv udev kmod e2fsprogs dkms python3
	libnl-3-200 libnl-genl-3-200 libsmartcols1 libjson-c5 libisal2
	libuuid1
)
# libvirt, QEMU and OVMF, for the test of libvirt on pflash
# (selftests/pflash/libvirt_host_test.py), installed by apt after
# debootstrap, without what they only recommend.
VIRT=(
	libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients
	qemu-system-x86 ovmf
)

# What a test VM does not need at boot: logins, timers, and what they
# would start.
MASKED=(
	getty@.service serial-getty@.service getty-static.service
	apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer
	e2scrub_all.timer e2scrub_reap.service fstrim.timer
	systemd-pstore.service
)

case $NAME in
deb72) suite=sid ;;
*) suite=bookworm ;;
esac
APT_OPTS=(-o Acquire::Check-Valid-Until=false -o DPkg::Lock::Timeout=900)

key=$( { cat "${BASH_SOURCE[0]}"; echo "$suite $KREL ${PACKAGES[*]} ${VIRT[*]}"; } |
	sha256sum | cut -c1-12)
dir=$BUILD/systemd
base=$dir/$NAME-$key
root=$base/root

# in_root CMD...: CMD in the root as root, with /proc, in a mount
# namespace of its own.
in_root() {
	as_root unshare -m --propagation private /bin/sh -c '
		root=$1
		shift
		mount -t proc proc "$root/proc"
		exec chroot "$root" /usr/bin/env -i \
			PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
			LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
	' systemd-root "$root" "$@"
}

make_root() {
	local inc u

	ensure_pkgs debootstrap
	log "$NAME: making a Debian $suite root with systemd in $root (a few minutes)"
	as_root rm -rf "$base"
	mkdir -p "$base"
	inc=$(IFS=,; echo "${PACKAGES[*]}")
	if ! as_root debootstrap --variant=minbase --include="$inc" \
		"$suite" "$root" "$MIRROR" >"$base/debootstrap.log" 2>&1; then
		tail -n 20 "$base/debootstrap.log" >&2
		die "debootstrap of $suite failed (log: $base/debootstrap.log)"
	fi
	if [ "$suite" = sid ]; then
		echo "deb $MIRROR sid main" >"$root/etc/apt/sources.list"
	else
		printf 'deb %s %s main\n' "$MIRROR" "$suite" "$MIRROR" \
			"$suite-updates" "$SECURITY" "$suite-security" \
			>"$root/etc/apt/sources.list"
	fi
	in_root apt-get -q "${APT_OPTS[@]}" update >>"$base/debootstrap.log" 2>&1
	if ! in_root apt-get -q -y "${APT_OPTS[@]}" install \
		--no-install-recommends "linux-headers-$KREL" "${VIRT[@]}" \
		>>"$base/debootstrap.log" 2>&1; then
		tail -n 20 "$base/debootstrap.log" >&2
		die "$NAME: linux-headers-$KREL or libvirt does not install (log: $base/debootstrap.log)"
	fi
	in_root apt-get clean

	# The kernel's modules, as its image package would put them.
	mkdir -p "$root/lib/modules/$KREL"
	cp -a "$MODDIR/." "$root/lib/modules/$KREL/"
	in_root depmod -a "$KREL"

	echo "/dev/vda / ext4 rw,errors=remount-ro 0 1" >"$root/etc/fstab"
	echo pflash-host >"$root/etc/hostname"
	for u in "${MASKED[@]}"; do
		ln -sf /dev/null "$root/etc/systemd/system/$u"
	done
	# Real firmware variable stores, as the documentation's commands use.
	for f in /usr/share/OVMF/OVMF_VARS.fd /usr/share/OVMF/OVMF_VARS_4M.fd; do
		[ -e "$f" ] && install -D -m 644 "$f" "$root$f"
	done
	touch "$base/.done"
}

mkdir -p "$dir"
exec 9>"$dir/.$NAME.lock"
flock 9
if [ ! -e "$base/.done" ]; then
	make_root
	# Roots made for an older kernel or script go.
	for old in "$dir/$NAME"-*/; do
		old=${old%/}
		[ "$old" = "$base" ] || as_root rm -rf --one-file-system "$old"
	done
fi
echo "$root"
