#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fetch one of Debian's own kernels for the VM tests, without installing it:
#
#   deb61    bookworm's 6.1, the release linux-image-amd64 depends on
#   deb612   the newest 6.12 built for bookworm (linux-image-6.12.*+deb12-amd64,
#            from bookworm-security), picked when this script runs
#   deb72    the newest 7.2 in Debian unstable (linux-image-7.2.*-amd64),
#            picked when this script runs, through the unstable root of
#            sid-root.sh: its headers need gcc-16 and a newer glibc than
#            bookworm's, so pflash.ko is built for it in that root
#
# The kernel's packages are fetched with `apt-get download` and unpacked
# with `dpkg-deb -x` under build/kernels/<name>/<release>/; the matching
# linux-headers-<release> is installed with apt (in the unstable root for
# deb72), to build pflash.ko against.  From 7.x on, Debian's
# linux-image-<release> is a metapackage: the kernel is in linux-binary-*
# (usr/lib/modules/<release>/vmlinuz), the modules in linux-modules-* and
# the config and System.map in linux-base-*.
#
# Usage: debian.sh deb61|deb612|deb72
# Writes build/kernels/<name>/kernel.env (see kernels.sh) and prints its path.

set -euo pipefail
. "$(dirname "$0")/../lib/harness.sh"

NAME=${1:?usage: debian.sh deb61|deb612|deb72}
SID=$REPO/tools/kernels/sid-root.sh

# The kernel release ("6.1.0-56-amd64") each name stands for, as apt sees it.
deb_release() {
	local cand
	case $NAME in
	deb61)
		cand=$(apt-cache policy linux-image-amd64 |
			sed -n 's/^ *Candidate: *//p')
		[ -n "$cand" ] && [ "$cand" != "(none)" ] || return 1
		apt-cache show "linux-image-amd64=$cand" |
			sed -n 's/^Depends:.*linux-image-\([^ ,]*\).*/\1/p' | head -n1
		;;
	deb612)
		apt-cache pkgnames linux-image-6.12 |
			grep -E '^linux-image-6\.12\.[0-9.]+\+deb12-amd64$' |
			sort -V | tail -n1 | sed 's/^linux-image-//'
		;;
	deb72)
		"$SID" run apt-cache pkgnames linux-image-7.2 |
			grep -E '^linux-image-7\.2\.[0-9]+\+deb[0-9]+-amd64$' |
			sort -V | tail -n1 | sed 's/^linux-image-//'
		;;
	*)
		die "unknown Debian kernel '$NAME' (deb61, deb612 or deb72)"
		;;
	esac
}

# The packages that hold a release's kernel and modules.
deb_packages() {
	case $NAME in
	deb72) echo "linux-binary-$1 linux-modules-$1 linux-base-$1" ;;
	*) echo "linux-image-$1" ;;
	esac
}

# download DIR PACKAGE...: apt-get download into DIR, its chatter on stderr
# (stdout is our result).
download() {
	local dest=$1 sandbox=()
	shift
	if [ "$NAME" = deb72 ]; then
		"$SID" run /bin/sh -c 'cd "$1" && shift && apt-get download -q \
			-o APT::Sandbox::User=root "$@"' sh "$dest" "$@" >&2
		return
	fi
	# As root, apt would warn that its _apt user cannot write to DIR.
	[ "$(id -u)" = 0 ] && sandbox=(-o APT::Sandbox::User=root)
	(cd "$dest" && apt-get download -q "${sandbox[@]}" "$@" >&2)
}

# Refresh the package lists (unstable's are refreshed by sid-root.sh).
refresh() {
	if [ "$NAME" = deb72 ]; then
		"$SID" apt update >&2
	else
		apt_get update >&2
	fi
}

rel=$(deb_release || true)
if [ -z "$rel" ]; then
	# Fresh machine, or lists too old to know the package: refresh once.
	refresh
	rel=$(deb_release)
fi
[ -n "$rel" ] || die "apt offers no kernel for $NAME"

dir=$BUILD/kernels/$NAME
root=$dir/$rel/root
mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9

# How many modules the unpacked tree has; recorded when it is unpacked, so
# that a tree damaged since (a stray `make clean` that walked build/) is
# noticed and unpacked again.
count_modules() {
	find "$root" -name '*.ko*' | wc -l
}

if [ ! -e "$dir/$rel/.unpacked" ] ||
	[ "$(cat "$dir/$rel/.unpacked")" != "$(count_modules)" ]; then
	read -r -a pkgs <<<"$(deb_packages "$rel")"
	log "$NAME: fetching ${pkgs[*]}"
	rm -rf "$dir/$rel" && mkdir -p "$dir/$rel/deb" "$root"
	# The lists may name a version the mirror has since replaced.
	if ! download "$dir/$rel/deb" "${pkgs[@]}"; then
		refresh
		download "$dir/$rel/deb" "${pkgs[@]}"
	fi
	for deb in "$dir/$rel/deb"/*.deb; do
		dpkg-deb -x "$deb" "$root"
	done
	rm -rf "$dir/$rel/deb"
	count_modules >"$dir/$rel/.unpacked"
	# Older releases of this kernel are not booted any more.
	find "$dir" -mindepth 1 -maxdepth 1 -type d ! -name "$rel" -exec rm -rf {} +
fi

# Headers: the exact release (linux-headers-amd64 too for 6.1, as a
# developer would have it).  SIDROOT, in kernel.env, says where pflash.ko
# is built for the kernel: in the unstable root, or (empty) on the host.
hdrs=("linux-headers-$rel")
sidroot=
case $NAME in
deb61)
	hdrs+=(linux-headers-amd64)
	ensure_pkgs "${hdrs[@]}" ;;
deb72)
	sidroot=$("$SID")
	[ -d "$sidroot/usr/src/linux-headers-$rel" ] ||
		"$SID" apt install -y --no-install-recommends "${hdrs[@]}" >&2 ;;
*)
	ensure_pkgs "${hdrs[@]}" ;;
esac

# 7.x puts the kernel and its modules under usr/lib/modules/<release>/.
if [ -e "$root/usr/lib/modules/$rel/vmlinuz" ]; then
	moddir=$root/usr/lib/modules/$rel
	vmlinuz=$moddir/vmlinuz
else
	moddir=$root/lib/modules/$rel
	vmlinuz=$root/boot/vmlinuz-$rel
fi
[ -d "$moddir" ] || die "$NAME: no modules tree for $rel"
[ -e "$vmlinuz" ] || die "$NAME: no vmlinuz for $rel"
[ -d "$sidroot/usr/src/linux-headers-$rel" ] || die "$NAME: headers not installed"
modules_dep "$moddir"

write_env "$dir/kernel.env" \
	NAME="$NAME" \
	KREL="$rel" \
	VMLINUZ="$vmlinuz" \
	MODDIR="$moddir" \
	KDIR="/usr/src/linux-headers-$rel" \
	SIDROOT="$sidroot"
echo "$dir/kernel.env"
