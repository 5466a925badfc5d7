#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fetch one of Debian's own kernels for the VM tests, without installing it:
#
#   deb61    bookworm's 6.1, the release linux-image-amd64 depends on
#   deb612   the newest 6.12 built for bookworm (linux-image-6.12.*+deb12-amd64,
#            from bookworm-security), picked when this script runs
#
# The image .deb is fetched with `apt-get download` and unpacked with
# `dpkg-deb -x` under build/kernels/<name>/<release>/; the matching
# linux-headers-<release> is installed with apt, to build pflash.ko against.
#
# Usage: kernel-deb.sh deb61|deb612
# Writes build/kernels/<name>/kernel.env (see kernels.sh) and prints its path.

set -euo pipefail
. "$(dirname "$0")/lib.sh"

NAME=${1:?usage: kernel-deb.sh deb61|deb612}

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
	*)
		die "unknown Debian kernel '$NAME' (deb61 or deb612)"
		;;
	esac
}

# apt-get download into DIR, its chatter on stderr (stdout is our result).
download() {
	local sandbox=()
	# As root, apt would warn that its _apt user cannot write to DIR.
	[ "$(id -u)" = 0 ] && sandbox=(-o APT::Sandbox::User=root)
	(cd "$2" && apt-get download -q "${sandbox[@]}" "$1" >&2)
}

rel=$(deb_release || true)
if [ -z "$rel" ]; then
	# Fresh machine, or lists too old to know the package: refresh once.
	apt_get update >&2
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
	log "$NAME: fetching linux-image-$rel"
	rm -rf "$dir/$rel" && mkdir -p "$dir/$rel/deb" "$root"
	# The lists may name a version the mirror has since replaced.
	if ! download "linux-image-$rel" "$dir/$rel/deb"; then
		apt_get update >&2
		download "linux-image-$rel" "$dir/$rel/deb"
	fi
	dpkg-deb -x "$dir/$rel/deb"/linux-image-*.deb "$root"
	rm -rf "$dir/$rel/deb"
	count_modules >"$dir/$rel/.unpacked"
	# Older releases of this kernel are not booted any more.
	find "$dir" -mindepth 1 -maxdepth 1 -type d ! -name "$rel" -exec rm -rf {} +
fi

# Headers: the exact release (linux-headers-amd64 too for 6.1, as a
# developer would have it).
hdrs=("linux-headers-$rel")
[ "$NAME" = deb61 ] && hdrs+=(linux-headers-amd64)
ensure_pkgs "${hdrs[@]}"

moddir=$root/lib/modules/$rel
[ -d "$moddir" ] || die "$NAME: no $moddir in linux-image-$rel"
[ -e "$root/boot/vmlinuz-$rel" ] || die "$NAME: no vmlinuz in linux-image-$rel"
[ -d "/usr/src/linux-headers-$rel" ] || die "$NAME: headers not installed"

write_env "$dir/kernel.env" \
	NAME="$NAME" \
	KREL="$rel" \
	VMLINUZ="$root/boot/vmlinuz-$rel" \
	MODDIR="$moddir" \
	KDIR="/usr/src/linux-headers-$rel"
echo "$dir/kernel.env"
