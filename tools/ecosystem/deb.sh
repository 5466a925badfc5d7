#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make deb: the Debian packages, pflash-dkms (the module's source, for
# DKMS) and pflashctl (the tool, pflash.service, the udev rules), built by
# dpkg-buildpackage from debian/ in a copy of the tree, so that the build
# leaves nothing in it.  The packages go to build/deb/; their paths are
# printed, one a line; the build's log is build/deb/build.log.
#
# Usage: deb.sh [--lintian]
#
# --lintian: then check them with lintian, which must report nothing, not
# even an informational tag: each tag left is overridden in
# debian/*.lintian-overrides, with a comment that says why.  Its report is
# build/deb/lintian.log.

set -euo pipefail
. "$(dirname "$0")/../lib/harness.sh"

lint=0
[ "${1:-}" = --lintian ] && lint=1

ver=$(dpkg-parsechangelog -l "$SRC/debian/changelog" -SVersion)
out=$BUILD/deb
tree=$out/src/pflash-$ver
mkdir -p "$out"
exec 9>"$out/.lock"
flock 9

# What git has of the tree, changed or not, and what it does not ignore;
# the tree as it is elsewhere.
rm -rf "$out/src"
mkdir -p "$tree"
if git -C "$SRC" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$SRC" && git ls-files -z -c -o --exclude-standard) |
		rsync -a --from0 --files-from=- "$SRC/" "$tree/"
else
	rsync -a --exclude=/build/ --exclude=/.git/ "$SRC/" "$tree/"
fi

rm -f "$out"/*.deb
if ! (cd "$tree" && dpkg-buildpackage -b -us -uc) >"$out/build.log" 2>&1; then
	tail -n 30 "$out/build.log" >&2
	die "dpkg-buildpackage failed (log: $out/build.log)"
fi
mv "$out/src"/*.deb "$out/"

if [ $lint = 1 ]; then
	# Every tag down to the informational ones is shown; an error or a
	# warning fails, and so does anything else lintian says but that it
	# runs as root.
	lintian --fail-on error,warning --display-level '>=info' \
		"$out"/*.deb >"$out/lintian.log" 2>&1 && lrc=0 || lrc=$?
	if [ $lrc != 0 ] ||
		grep -v 'running with root privileges' "$out/lintian.log" | grep -q .; then
		cat "$out/lintian.log" >&2
		die "lintian: see $out/lintian.log"
	fi
fi
ls "$out"/*.deb
