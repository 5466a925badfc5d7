#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The sysfs ABI against the code, on the host:
#
#  1. Documentation/ABI/ reads without a warning with the newest series'
#     get_abi.py, as the kernel's documentation build reads its own;
#  2. Documentation/ABI/testing/sysfs-block-pflash has an entry for every
#     attribute that module/sysfs.c defines, and none that it does not.
#
# Exits 1 if anything failed.

set -euo pipefail
. "$(dirname "$0")/../lib/harness.sh"

abi=$SRC/Documentation/ABI
doc=$abi/testing/sysfs-block-pflash
failed=0

read -r tarball ver <<<"$(newest_src)"
scripts=$BUILD/linux-abi-$ver
extract_tarball "$scripts" "$tarball" tools/docs/get_abi.py tools/lib/python

echo "== get_abi.py ($ver) over $abi"
out=$(cd "$abi" && python3 "$scripts/tools/docs/get_abi.py" -D "$abi" rest 2>&1 >/dev/null) ||
	{ echo "get_abi.py failed"; failed=1; }
if [ -n "$out" ]; then
	echo "$out"
	failed=1
fi

echo "== every attribute of module/sysfs.c, and only those, in $doc"
code=$(sed -n 's/^static DEVICE_ATTR_RO(\(.*\));$/\1/p' "$SRC/module/sysfs.c" | sort)
documented=$(sed -n 's|^What:[[:space:]]*/sys/block/pflash<N>/pflash/\(..*\)$|\1|p' "$doc" | sort)
if [ -z "$code" ] || [ "$code" != "$documented" ]; then
	echo "module/sysfs.c and the ABI document differ:"
	diff <(echo "$code") <(echo "$documented") | sed 's/^/  /'
	failed=1
else
	echo "$(echo "$code" | wc -l) attributes:" $code
fi

[ $failed = 0 ] && echo "all good"
exit $failed
