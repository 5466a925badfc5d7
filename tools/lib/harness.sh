# SPDX-License-Identifier: GPL-2.0
#
# Helpers shared by the build-and-test scripts under tools/. Source it; it
# sets REPO (the repository root) and BUILD (everything generated, owned by
# the Makefile, default $REPO/build).

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$REPO/build}
# The project tree under test: this repository, unless PFLASH_SRC names
# another tree of the same layout (used to prove the machinery on a stand-in).
SRC=${PFLASH_SRC:-$REPO}
# Debian's kernel source, from the linux-source-6.1 package: the kselftest
# framework comes from it (kselftest-framework.sh).
LINUX_SRC_PKG=linux-source-6.1
LINUX_SRC_TARBALL=/usr/src/linux-source-6.1.tar.xz

# Run from `make check`, make's flags and command-line variables would leak
# into the makes these scripts run (the kselftest Makefile has a BUILD of
# its own, for one): start them afresh.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES

log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Run a command as root: directly if we are root, else through sudo.
as_root() {
	if [ "$(id -u)" = 0 ]; then
		"$@"
	else
		sudo "$@"
	fi
}

# apt-get without questions, waiting for a lock another apt holds (another
# engineer's install, unattended-upgrades) instead of failing on it.
apt_get() {
	as_root env DEBIAN_FRONTEND=noninteractive \
		apt-get -q -o DPkg::Lock::Timeout=900 "$@" >&2
}

apt_install() {
	apt_get install -y --no-install-recommends "$@"
}

# True if every named package is installed.
pkgs_installed() {
	local p st
	for p in "$@"; do
		st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) || return 1
		[ "$st" = installed ] || return 1
	done
}

# Install the named packages that are missing; `apt-get update` first, but
# only if something is missing.
ensure_pkgs() {
	local p missing=()
	for p in "$@"; do
		pkgs_installed "$p" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing: ${missing[*]}"
	apt_get update
	apt_install "${missing[@]}"
}

# The installed version of Debian's kernel source package.
linux_src_version() {
	dpkg-query -W -f='${Version}' "$LINUX_SRC_PKG"
}

# extract_tarball DIR TARBALL [MEMBER...]: extract a Debian
# linux-source-*.tar.xz into DIR, keeping the kernel's layout, unless that
# was done already: the whole of it, or only the MEMBERs (paths below its
# top directory).
# Two scripts that extract into the same DIR at once (the debug kernel's
# build and the in-tree series check, in one run) take turns: the second
# finds it done.
extract_tarball() {
	local dir=$1 tarball=$2 top
	shift 2
	[ -e "$dir/.extracted" ] && return 0
	mkdir -p "$(dirname "$dir")"
	(
		flock 7
		[ -e "$dir/.extracted" ] && exit 0
		top=$(basename "$tarball" .tar.xz)
		log "extracting $tarball${1:+ ($# files)} into $dir"
		rm -rf "$dir" && mkdir -p "$dir"
		tar -xJf "$tarball" -C "$dir" --strip-components=1 "${@/#/$top/}"
		touch "$dir/.extracted"
	) 7>"$dir.lock"
}

# The source of the newest kernel series, Debian unstable's linux-source-7.2,
# installed in the unstable root (sid-root.sh) when first asked for: prints
# the tarball's path and the package's version.  The debug kernel is built
# from it, and the static checks run its checkpatch and kernel-doc.
NEWEST_SRC_PKG=linux-source-7.2
newest_src() {
	local sid=$REPO/tools/kernels/sid-root.sh root tarball
	root=$("$sid")
	tarball=/usr/src/$NEWEST_SRC_PKG.tar.xz
	[ -e "$root$tarball" ] ||
		"$sid" apt install -y --no-install-recommends "$NEWEST_SRC_PKG" >&2
	printf '%s %s\n' "$root$tarball" \
		"$("$sid" run dpkg-query -W -f='${Version}' "$NEWEST_SRC_PKG")"
}

# modules_dep MODDIR: the kernel's modules.dep in its modules tree
# (…/lib/modules/KREL), which Debian's image packages and
# modules_install with DEPMOD=/bin/true do not leave, made by depmod;
# again if the tree changed since.  Called where the kernel is prepared,
# under its lock: every initramfs resolves its modules from it, and a
# root initramfs built while it was missing held none (its VM could not
# mount its disk).
modules_dep() {
	local moddir=$1
	if [ ! -e "$moddir/modules.dep" ] ||
	   [ "$moddir/modules.dep" -ot "$moddir/modules.order" ]; then
		depmod -b "${moddir%/lib/modules/*}" "${moddir##*/}"
	fi
}

# Write "KEY=value" lines, shell-quoted, so that the file can be sourced.
write_env() {
	local file=$1 kv
	shift
	: >"$file.tmp"
	for kv in "$@"; do
		printf '%s=%q\n' "${kv%%=*}" "${kv#*=}" >>"$file.tmp"
	done
	mv "$file.tmp" "$file"
}

# read_line FD SECONDS: a line from FD, in $line, within SECONDS (may be
# a fraction); returns 1 if none came whole by then, or at the end of the
# input.  bash's `read -t` leaves the part of a line it had read when its
# time ran out in its variable, and the next read starts after that part:
# a loop of short reads, ignoring timeouts, lost the start of a line (a
# kill point saw "tart" for "start" and never killed).  Here that part is
# kept, per FD, and begins the next line read from FD.
declare -A read_part=()
read_line() {
	local part rc
	IFS= read -r -t "$2" part <&"$1"
	rc=$?
	if [ "$rc" = 0 ]; then
		line=${read_part[$1]:-}$part
		read_part[$1]=
		return 0
	fi
	[ "$rc" -le 128 ] || read_part[$1]=${read_part[$1]:-}$part
	return 1
}

# One `make check` or `make demo` at a time per build directory: they share
# build/mod-*, build/vm/ and the installed selftests. A second one waits.
lock_build() {
	mkdir -p "$BUILD"
	exec 8>"$BUILD/.check.lock"
	if ! flock -n 8; then
		log "waiting for another make check or make demo in $BUILD"
		flock 8
	fi
}
