#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make install and make uninstall, into a DESTDIR, with a PREFIX: every file
# where it belongs, with its mode, and nothing else; the man page renders
# without a warning; the release is the same in pflashctl --version,
# pflashctl(8) and dkms.conf. Exits 1 if anything failed.

set -euo pipefail
. "$(dirname "$0")/../lib/harness.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest
failed=0
fail() { echo "FAIL: $*"; failed=1; }

# A copy of the tree, so that the builds of make install leave nothing in
# it (and race with no one else's there); build/ stays out.
tree=$BUILD/install-src
mkdir -p "$tree"
rsync -a --delete --exclude=/build/ --exclude=/.git/ "$SRC/" "$tree/"
SRC=$tree

kver=$(make -s -C "$SRC" --no-print-directory -f - <<<'include Makefile
print-kver: ; @echo $(KVER)' print-kver)
echo "== make install DESTDIR=$dest PREFIX=/usr (kernel $kver)"
make -C "$SRC" install DESTDIR="$dest" PREFIX=/usr >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log"; exit 1; }
grep -q depmod "$tmp/install.log" && fail "depmod ran though DESTDIR is set"

expect="644 lib/modules/$kver/extra/pflash.ko
644 usr/lib/systemd/system/pflash.service
644 usr/lib/udev/rules.d/60-pflash.rules
644 usr/share/bash-completion/completions/pflashctl
644 usr/share/doc/pflashctl/examples/pflashtab
644 usr/share/man/man5/pflashtab.5
644 usr/share/man/man8/pflash-qemu-migrate.8
644 usr/share/man/man8/pflashctl.8
755 etc/libvirt/hooks/qemu.d/pflash
755 usr/sbin/pflash-qemu-migrate
755 usr/sbin/pflashctl"
got=$(cd "$dest" && find . -type f -printf '%m %P\n' | LC_ALL=C sort)
if [ "$got" = "$expect" ]; then
	echo "installed, each with its mode:"
	echo "$expect" | sed 's/^/  /'
else
	fail "installed files"
	diff <(echo "$expect") <(echo "$got") | sed 's/^/  /'
fi
[ "$(modinfo -F vermagic "$dest/lib/modules/$kver/extra/pflash.ko" | cut -d' ' -f1)" = "$kver" ] ||
	fail "pflash.ko is not built for $kver"
"$dest/usr/sbin/pflashctl" --version >/dev/null || fail "pflashctl --version"
"$dest/usr/sbin/pflash-qemu-migrate" --help >/dev/null || fail "pflash-qemu-migrate --help"
bash -c ". '$dest/usr/share/bash-completion/completions/pflashctl' &&
	complete -p pflashctl" >/dev/null || fail "the completion does not load"

for page in man8/pflashctl.8 man8/pflash-qemu-migrate.8 man5/pflashtab.5; do
	echo "== ${page#*/} renders without a warning"
	if ! LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$dest/usr/share/man/$page" \
		>"$tmp/man.txt" 2>"$tmp/man.err" || [ -s "$tmp/man.err" ]; then
		fail "man --warnings"
		sed 's/^/  /' "$tmp/man.err"
	fi
done
grep -qx 'ExecStart=-/usr/sbin/pflashctl apply' "$dest/usr/lib/systemd/system/pflash.service" ||
	fail "pflash.service does not run the pflashctl installed"

echo "== one release everywhere"
ver=$("$dest/usr/sbin/pflashctl" --version | cut -d' ' -f2)
manver=$(sed -n 's/^\.TH .*"pflash \([^"]*\)".*/\1/p' "$SRC/Documentation/man/pflashctl.8")
tabver=$(sed -n 's/^\.TH .*"pflash \([^"]*\)".*/\1/p' "$SRC/Documentation/man/pflashtab.5")
debver=$(dpkg-parsechangelog -l "$SRC/debian/changelog" -SVersion)
dkmsver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$SRC/dkms.conf")
echo "pflashctl $ver, pflashctl(8) $manver, dkms.conf $dkmsver"
[ "$ver" = "$manver" ] && [ "$ver" = "$dkmsver" ] && [ "$ver" = "$tabver" ] &&
	[ "$ver" = "$debver" ] ||
	fail "the releases differ (pflashtab(5): $tabver, debian/changelog: $debver)"

echo "== make uninstall DESTDIR=$dest PREFIX=/usr"
make -C "$SRC" uninstall DESTDIR="$dest" PREFIX=/usr >"$tmp/uninstall.log" 2>&1 ||
	{ cat "$tmp/uninstall.log"; exit 1; }
left=$(cd "$dest" && find . -type f -printf '%P\n')
[ -z "$left" ] || fail "left behind: $left"

echo "== make install-dkms DESTDIR=$dest"
make -C "$SRC" install-dkms DESTDIR="$dest" >"$tmp/dkms.log" 2>&1 ||
	{ cat "$tmp/dkms.log"; exit 1; }
grep -q '^dkms' "$tmp/dkms.log" && fail "dkms ran though DESTDIR is set"
src=$dest/usr/src/pflash-$ver
for f in dkms.conf Kbuild module/main.c module/netlink.c uapi/linux/pflash.h \
	 uapi/linux/pflash_stream.h; do
	[ -f "$src/$f" ] || fail "install-dkms: no $f"
done
[ ! -e "$src/build" ] && [ ! -e "$src/tools" ] || fail "install-dkms copied more than the module"
make -C "$SRC" uninstall-dkms DESTDIR="$dest" >/dev/null 2>&1
[ ! -e "$src" ] || fail "uninstall-dkms left $src"

[ $failed = 0 ] && echo "all good"
exit $failed
