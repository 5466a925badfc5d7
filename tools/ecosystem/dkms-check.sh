#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# DKMS, for real: make install-dkms with Debian's dkms, against the installed
# headers of kernel KVER (default: Debian's 6.1, linux-headers-amd64), then
# make uninstall-dkms. The module cannot be loaded here, but dkms add, build
# and install work: pflash.ko lands in the kernel's module tree, built for
# it, and leaves with uninstall-dkms.  `make check` also runs it in the
# Debian unstable root (sid-root.sh) against the 7.2 headers there.
#
# Usage: dkms-check.sh [KVER]
#
# Needs root: dkms writes /var/lib/dkms, /usr/src and /lib/modules. Uses a
# release of its own (VERSION-dkmscheck), so that a real installation is
# left alone, and cleans up whatever happens; one run at a time per machine.
# Exits 1 if anything failed.

set -euo pipefail
. "$(dirname "$0")/../lib/harness.sh"

[ "$(id -u)" = 0 ] || die "needs root"
command -v dkms >/dev/null || die "dkms is not installed (tools/deps.sh)"
kver=${1:-$(dpkg-query -W -f='${Depends}' linux-headers-amd64 |
	sed -n 's/^linux-headers-\([^ ,]*\).*/\1/p')}
[ -d "/usr/src/linux-headers-$kver" ] || die "no headers for $kver"
base=$(sed -n 's/^VERSION[[:space:]]*:= *//p' "$SRC/tools/pflashctl/Makefile")
ver=$base-dkmscheck
mk=(make -C "$SRC" --no-print-directory PFLASH_VERSION="$ver" KVER="$kver")

mkdir -p /run/lock
exec 7>/run/lock/pflash-dkms-check.lock
flock 7

# dkms makes a signing key the first time it builds: ours to remove if it
# was not there before.
new=()
for k in /var/lib/dkms/mok.key /var/lib/dkms/mok.pub; do
	[ -e "$k" ] || new+=("$k")
done
# So are the files of depmod that were not there (Debian's headers ship
# none: the kernel's image package makes them).
for f in "/lib/modules/$kver"/modules.{alias,alias.bin,builtin.alias.bin,builtin.bin,dep,dep.bin,devname,softdep,symbols,symbols.bin}; do
	[ -e "$f" ] || new+=("$f")
done
cleanup() {
	"${mk[@]}" uninstall-dkms >/dev/null 2>&1 || true
	rm -rf "/var/lib/dkms/pflash/$ver" "/usr/src/pflash-$ver"
	rmdir /var/lib/dkms/pflash 2>/dev/null || true
	[ ${#new[@]} = 0 ] || rm -f "${new[@]}"
}
trap cleanup EXIT
cleanup
# An installed kernel has its depmod files, and dkms from 3.1 on runs depmod
# only for a kernel that has them: give the headers' tree what the kernel's
# package would have given it.
[ -e "/lib/modules/$kver/modules.dep" ] || depmod -a "$kver"

failed=0
fail() { echo "FAIL: $*"; failed=1; }

echo "== make install-dkms (pflash/$ver, kernel $kver)"
start=$SECONDS
if ! "${mk[@]}" install-dkms; then
	fail "make install-dkms"
	cat "/var/lib/dkms/pflash/$ver/build/make.log" 2>/dev/null | tail -n 20
fi
echo "($((SECONDS - start)) s)"
dkms status "pflash/$ver"
dkms status "pflash/$ver" -k "$kver" | grep -q ': installed' ||
	fail "dkms status does not say installed"
ko=$(find "/lib/modules/$kver" -name pflash.ko -path '*dkms*' | head -n 1)
if [ -z "$ko" ]; then
	fail "no pflash.ko in /lib/modules/$kver"
else
	echo "installed: $ko"
	[ "$(modinfo -F vermagic "$ko" | cut -d' ' -f1)" = "$kver" ] ||
		fail "$ko is not built for $kver"
	grep -q "pflash.ko" "/lib/modules/$kver/modules.dep" ||
		fail "depmod did not list it"
fi

echo "== make uninstall-dkms"
"${mk[@]}" uninstall-dkms || fail "make uninstall-dkms"
[ -z "$(find "/lib/modules/$kver" -name pflash.ko -path '*dkms*')" ] ||
	fail "pflash.ko is still in /lib/modules/$kver"
[ ! -e "/var/lib/dkms/pflash/$ver" ] || fail "/var/lib/dkms/pflash/$ver is left"
[ ! -e "/usr/src/pflash-$ver" ] || fail "/usr/src/pflash-$ver is left"

[ $failed = 0 ] && echo "all good"
exit $failed
