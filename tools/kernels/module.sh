#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build pflash.ko for one of the test kernels, with W=1.
#
# Out-of-tree builds for 6.1 cannot use a separate output directory, so each
# kernel gets its own copy of the sources (Kbuild, module/, uapi/) in
# build/mod-<kernel>/, built there in place. Any compiler warning fails.
# A kernel whose kernel.env names a SIDROOT (deb72, debug) is built for in
# the Debian unstable root (sid-root.sh), where its compiler is.
#
# Usage: module.sh NAME        (NAME: deb61, deb612, deb72 or debug)
# Prints the path of the built pflash.ko; the log is build/mod-NAME/build.log.

set -euo pipefail
. "$(dirname "$0")/../lib/harness.sh"

NAME=${1:?usage: module.sh NAME}
env=$BUILD/kernels/$NAME/kernel.env
[ -e "$env" ] || env=$("$REPO/tools/kernels/kernels.sh" "$NAME" | sed -n '1s/^# [^:]*: //p')
. "$env"

dir=$BUILD/mod-$NAME
mkdir -p "$dir"
# One build at a time: a kernel's kselftests and its host's suites are
# jobs of their own, which may ask at once.
exec 9>"$BUILD/mod-$NAME.lock"
flock 9
# -c: compare contents, so an unchanged tree rebuilds nothing.
rsync -a -c --delete --include=/Kbuild --include='/module/***' \
	--include='/uapi/***' --exclude='*' "$SRC/" "$dir/"
# The debug kernel has gcov: there the module counts its lines (Kbuild).
gcov=
[ "$NAME" = debug ] && gcov=PFLASH_GCOV=y
in_root=()
[ -n "${SIDROOT:-}" ] && in_root=("$REPO/tools/kernels/sid-root.sh" run)
if ! "${in_root[@]}" make -C "$KDIR" M="$dir" W=1 $gcov modules \
	>"$dir/build.log" 2>&1; then
	cat "$dir/build.log" >&2
	die "$NAME: pflash.ko failed to build (log: $dir/build.log)"
fi
if grep -q 'warning:' "$dir/build.log"; then
	grep -B2 -A4 'warning:' "$dir/build.log" >&2
	die "$NAME: pflash.ko built with warnings (log: $dir/build.log)"
fi
echo "$dir/pflash.ko"
