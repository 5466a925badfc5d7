#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# pflash in the kernel's own tree: the patch series that adds it to the
# newest series' source (Debian unstable's linux-source-7.2), generated
# from this tree by series.py, and its checks.
#
#   series.sh write   the series, into $BUILD/series/ (make series)
#   series.sh check   the series (make series-check), then, each one an
#                     "ok" or "not ok" line (a result under "series" when
#                     RESULTS names a results file, as in make check):
#                     - it applies to the pristine source, with patch(1);
#                     - scripts/checkpatch.pl --strict of every patch;
#                     - pflash as a module, built from the patched tree
#                       against the 7.2 kernel built from the same source
#                       (the debug kernel's build), W=1 C=1: no warning;
#                     - pflash built in: the driver compiled with
#                       CONFIG_BLK_DEV_PFLASH=y, W=1 C=1, and the kernel
#                       linked with it (modpost's section checks of vmlinux
#                       included): nothing of pflash's warned;
#                     - the kselftests built in the tree, with its own
#                       kselftest framework: no warning;
#                     - make coccicheck MODE=report on the driver (Debian's
#                       Coccinelle): no finding.
#                     Exits 1 if any of it failed.
#
# The series is made in a git tree that holds only the kernel's files it
# changes (MAINTAINERS, the block and selftests Makefiles, ...), taken from
# the pristine source, so that git format-patch writes exactly what it
# would in the whole tree, without a git tree of the whole kernel.  The
# patched tree is a hard-linked copy of the pristine source
# ($BUILD/src/, shared with the debug kernel's build), which patch(1)
# unlinks each file of before it changes it.
#
# The builds reuse the debug kernel's (tools/kernels/debug.sh): a copy of
# its build directory, which a private mount namespace puts, with the
# patched tree, at the paths it was built at, so that kbuild rebuilds only
# what pflash changes.  The debug kernel is built first if it is not yet.

set -euo pipefail
. "$(dirname "$0")/../lib/harness.sh"
. "$REPO/tools/judge/judge.sh"

mode=${1:?usage: series.sh write|check}
here=$REPO/tools/intree
sid=$REPO/tools/kernels/sid-root.sh

read -r tarball ver <<<"$(newest_src)"
top=$BUILD/intree
pristine=$BUILD/src/${NEWEST_SRC_PKG}_$ver
series=$BUILD/series
mkdir -p "$top"
exec 9>"$top/.lock"
flock 9

extract_tarball "$pristine" "$tarball"

# The kernel's files the series changes, in a git tree of their own at
# its pristine commit.
# Keyed by the version and that list, so that a change of either makes it
# again.
mapfile -t changed < <(/usr/bin/python3 "$here/series.py" --changed-files)
git_tree=$top/git-$ver-$(printf '%s\n' "${changed[@]}" | sha256sum | cut -c1-8)
if [ ! -e "$git_tree/.pristine" ]; then
	rm -rf "$top"/git-*
	mkdir -p "$git_tree"
	for f in "${changed[@]}"; do
		install -D -m 644 "$pristine/$f" "$git_tree/$f"
	done
	git -C "$git_tree" init -q
	git -C "$git_tree" add -A .
	git -C "$git_tree" -c user.name=pristine -c user.email=pristine@localhost \
		commit -q -m "Debian's linux-source-7.2 $ver: the files pflash changes"
	git -C "$git_tree" tag -f pristine >/dev/null
	touch "$git_tree/.pristine"
fi

/usr/bin/python3 "$here/series.py" --kernel "$git_tree" --out "$series" \
	>/dev/null
patches=("$series"/*.patch)
if [ "$mode" = write ]; then
	log "${#patches[@]} patches against linux-source-7.2 $ver in $series"
	exit 0
fi
[ "$mode" = check ] || die "usage: series.sh write|check"

logs=$top/logs
rm -rf "$logs" && mkdir -p "$logs"
failed=0
# say STATUS TEXT LOG: one result, with the log named when it failed.
say() {
	local st=pass
	[ "$1" = 0 ] || { st=fail; failed=1; }
	local text=$2
	[ "$st" = pass ] || text+=" (log: $3)"
	if [ -n "${RESULTS:-}" ]; then
		result "$st" series "$text"
	elif [ "$st" = pass ]; then
		echo "ok - $text"
	else
		echo "not ok - $text"
	fi
}
# pflash's warnings in a build log, shown under its result.
warned() {
	{ grep -E '(warning|error|WARNING|ERROR):' "$1" | grep -E 'pflash' || true; } |
		head -n 20 | sed 's/^/#   /'
}

# The patched tree.
tree=$top/linux
rm -rf "$tree"
cp -al "$pristine" "$tree"
st=0
for p in "${patches[@]}"; do
	patch -d "$tree" -p1 -s -N <"$p" >>"$logs/apply.log" 2>&1 || st=1
done
say $st "the ${#patches[@]} patches apply to linux-source-7.2 $ver" "$logs/apply.log"
for f in "${changed[@]}"; do
	git -C "$git_tree" show "pristine:$f" | cmp -s - "$pristine/$f" ||
		die "$pristine/$f changed: the patched tree's hard links reached it"
done

# checkpatch of each patch, in the patched tree (its spelling and const
# lists), with the host's python3 for its SPDX check.
for p in "${patches[@]}"; do
	name=$(basename "$p" .patch)
	(cd "$tree" && PATH=/usr/bin:$PATH perl scripts/checkpatch.pl --strict \
		--terse --no-summary --show-types "$p") >"$logs/$name.checkpatch.log" 2>&1 || true
	st=0
	[ -s "$logs/$name.checkpatch.log" ] && st=1
	say $st "checkpatch --strict: $name" "$logs/$name.checkpatch.log"
	[ $st = 0 ] || head -n 20 "$logs/$name.checkpatch.log" | sed 's/^/#   /'
done

# The builds, in the debug kernel's copy.
"$REPO/tools/kernels/kernels.sh" debug >"$logs/kernel.log" 2>&1 ||
	die "the debug kernel, which the builds reuse, failed (log: $logs/kernel.log)"
. "$BUILD/kernels/debug/kernel.env"
out=$top/out
rm -rf "$out" "$top/module" "$top/selftests"
cp -a "$KDIR" "$out"
# kmake ARGS...: make in the patched tree and the copy, mounted where the
# debug kernel's source and build were, in the unstable root.
kmake() {
	"$sid" run unshare -m --propagation unchanged sh -ec '
		mount --bind "$1" "$2"
		mount --bind "$3" "$4"
		shift 4
		exec make -C "'"$pristine"'" O="'"$KDIR"'" -j"$(nproc)" "$@"
	' kmake "$tree" "$pristine" "$out" "$KDIR" "$@"
}

# As a module, before the configuration knows it.
st=0
kmake W=1 C=1 M=drivers/block/pflash MO="$top/module" CONFIG_BLK_DEV_PFLASH=m \
	modules >"$logs/module.log" 2>&1 || st=1
[ -e "$top/module/pflash.ko" ] || st=1
warned "$logs/module.log" | grep -q . && st=1
say $st "module: pflash.ko builds in the tree, against its 7.2 kernel, W=1 C=1, no warning" "$logs/module.log"
warned "$logs/module.log"

# Built in: the configuration with it, the driver with W=1 C=1, then the
# kernel linked with it.
st=0
{
	"$out/source/scripts/config" --file "$out/.config" -e BLK_DEV_PFLASH &&
	kmake olddefconfig &&
	grep -qx 'CONFIG_BLK_DEV_PFLASH=y' "$out/.config" &&
	kmake W=1 C=1 drivers/block/pflash/ &&
	kmake vmlinux
} >"$logs/builtin.log" 2>&1 || st=1
grep -q 'pflash' "$out/System.map" || st=1
warned "$logs/builtin.log" | grep -q . && st=1
say $st "built in: CONFIG_BLK_DEV_PFLASH=y compiles W=1 C=1 and links into vmlinux, no warning of pflash's" "$logs/builtin.log"
warned "$logs/builtin.log"

# The kselftests in the tree, with its kselftest framework and the uapi
# headers the series installs (make headers, in the build's copy), built
# on the host, which has their libraries.
st=0
{
	kmake headers && mkdir -p "$top/selftests" &&
	make -C "$tree/tools/testing/selftests/drivers/block/pflash" \
		OUTPUT="$top/selftests" KHDR_INCLUDES="-isystem $out/usr/include"
} >"$logs/selftests.log" 2>&1 || st=1
grep -Eq '(warning|error):' "$logs/selftests.log" && st=1
say $st "the kselftests build in the tree, with its framework, -Wall -Wextra, no warning" "$logs/selftests.log"
{ grep -E '(warning|error):' "$logs/selftests.log" || true; } | head -n 20 | sed 's/^/#   /'

# Coccinelle's checks of the kernel, on the driver.
st=0
make -C "$tree" coccicheck MODE=report M=drivers/block/pflash J="$(nproc)" \
	DEBUG_FILE=/dev/null >"$logs/coccicheck.log" 2>&1 || st=1
grep -E '^[^ ]+\.[ch]:[0-9]+' "$logs/coccicheck.log" | grep -q . && st=1
say $st "make coccicheck MODE=report M=drivers/block/pflash: no finding" "$logs/coccicheck.log"
{ grep -E '^[^ ]+\.[ch]:[0-9]+' "$logs/coccicheck.log" || true; } | head -n 20 | sed 's/^/#   /'

log "${#patches[@]} patches against linux-source-7.2 $ver: $series"
exit $failed
