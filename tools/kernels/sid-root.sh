#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A Debian unstable (sid) root file system, made with debootstrap, for what
# bookworm cannot run: the newest kernels' headers need gcc-16 and a
# linux-kbuild built against a newer glibc.  pflash.ko is built for those
# kernels in here, the debug kernel is built from Debian's linux-source in
# here, and DKMS is checked against their headers in here.  Nothing is
# added to the host's own apt sources.
#
# Usage: sid-root.sh                 prepare it; print its path
#        sid-root.sh run CMD [ARG...]
#                                    run CMD in it as root, with the
#                                    repository and build/ at their own
#                                    paths (and BUILD and PFLASH_SRC in
#                                    its environment), in a mount
#                                    namespace of its own
#        sid-root.sh apt ARG...      apt-get in it (non-interactive)
#
# The root lives in build/sid/root-KEY, where KEY covers this script's
# code, so that changing the packages below makes a new one (and removes
# the old).
# Its package lists are refreshed when older than a day, so that the
# newest kernel of unstable is found when the scripts run.  unstable's
# Release file is past its Valid-Until date on the registry, so apt here
# does not check that date.

set -euo pipefail
. "$(dirname "$0")/../lib/harness.sh"

MIRROR=http://deb.debian.org/debian

# What building modules and kernels, and DKMS, need besides the headers
# and the kernel source, which debian.sh and debug.sh install.
PACKAGES=(
	make gcc libc6-dev bc bison flex libelf-dev libssl-dev dwarves
	python3 rsync cpio kmod xz-utils zstd dkms openssl
)

APT_OPTS=(-o Acquire::Check-Valid-Until=false -o DPkg::Lock::Timeout=900)

# The key covers the script's code, not its comments, so that a comment
# changed does not make a new root.
key=$( { grep -v '^[[:space:]]*#' "${BASH_SOURCE[0]}"; echo "${PACKAGES[*]}"; } |
	sha256sum | cut -c1-12)
dir=$BUILD/sid
root=$dir/root-$key

# run CMD...: CMD in the root, with REPO, BUILD and SRC bound at their
# paths, and what symbolic links in BUILD lead to (a second work tree may
# share the first one's kernels), and /proc; the mounts end with the
# namespace.  It holds the root's
# lock shared meanwhile, so that no newer sid-root.sh removes the root
# from under it.
run_in_root() {
	local binds=("$REPO") b
	exec 8>"$root.lock"
	flock -s 8
	touch "$root.lock"
	case $BUILD/ in "$REPO"/*) ;; *) binds+=("$BUILD") ;; esac
	case $SRC/ in "$REPO"/*) ;; *) binds+=("$SRC") ;; esac
	while read -r b; do
		binds+=("$(readlink -f "$b")")
	done < <(find "$BUILD" -mindepth 1 -maxdepth 1 -type l -xtype d)
	for b in "${binds[@]}"; do
		mkdir -p "$root$b"
	done
	as_root unshare -m --propagation private /bin/bash -c '
		root=$1 build=$2 src=$3 n=$4
		shift 4
		for b in "${@:1:$n}"; do
			mount --bind "$b" "$root$b"
		done
		shift "$n"
		mount -t proc proc "$root/proc"
		exec chroot "$root" /usr/bin/env -i \
			PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
			DEBIAN_FRONTEND=noninteractive BUILD="$build" \
			PFLASH_SRC="$src" "$@"
	' sid-root "$root" "$BUILD" "$SRC" "${#binds[@]}" "${binds[@]}" "$@"
}

apt_in_root() {
	run_in_root apt-get -q "${APT_OPTS[@]}" "$@"
}

prepare() {
	mkdir -p "$dir"
	exec 9>"$dir/.lock"
	flock 9
	if [ ! -e "$root/.done" ]; then
		ensure_pkgs debootstrap
		log "making the Debian unstable root $root (debootstrap, about a minute)"
		as_root rm -rf "$root"
		local inc
		inc=$(IFS=,; echo "${PACKAGES[*]}")
		if ! as_root debootstrap --variant=minbase --include="$inc" \
			sid "$root" "$MIRROR" >"$dir/debootstrap.log" 2>&1; then
			tail -n 20 "$dir/debootstrap.log" >&2
			die "debootstrap of unstable failed (log: $dir/debootstrap.log)"
		fi
		echo "deb $MIRROR sid main" | as_root tee "$root/etc/apt/sources.list" >/dev/null
		as_root touch "$root/.done"
		# Roots made by another version of this script go once no one
		# has made or used one for a week (another work tree sharing
		# build/ may still use its own), unless something runs in them.
		local old
		for old in "$dir"/root-*/; do
			old=${old%/}
			[ "$old" = "$root" ] && continue
			[ -n "$(find "$old.lock" -mtime +7 2>/dev/null)" ] || continue
			( flock -n -x 8 && as_root rm -rf --one-file-system "$old" &&
				rm -f "$old.lock" ) 8>>"$old.lock" || true
		done
	fi
	# Lists a day old or more are refreshed: the kernel is picked from them.
	if [ -z "$(find "$root/var/lib/apt/lists" -maxdepth 1 -name '*_Packages' -mtime -1 2>/dev/null)" ]; then
		apt_in_root update >&2
	fi
	flock -u 9
}

case ${1:-} in
"")
	prepare
	echo "$root"
	;;
run)
	shift
	prepare
	run_in_root "$@"
	;;
apt)
	shift
	prepare
	apt_in_root "$@"
	;;
*)
	die "usage: sid-root.sh [run CMD...|apt ARG...]"
	;;
esac
