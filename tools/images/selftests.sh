#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build and install the pflash kselftests with the kernel's own framework.
#
# selftests/pflash/ is mirrored into the framework extracted by
# kselftest-framework.sh, then the framework's `make TARGETS=pflash install`
# produces run_kselftest.sh, kselftest-list.txt and pflash/ in
# build/selftests-install/ (printed), ready to copy into an initramfs.

set -euo pipefail
. "$(dirname "$0")/../lib/harness.sh"

root=$("$REPO/tools/images/kselftest-framework.sh")
fw=$root/tools/testing/selftests
inst=$BUILD/selftests-install

# --delete: a test removed from the repository disappears here too.
rsync -a --delete "$SRC/selftests/pflash/" "$fw/pflash/"
rm -rf "$inst"
make -s -C "$fw" TARGETS=pflash PFLASH_ROOT="$SRC" INSTALL_PATH="$inst" \
	install >&2
[ -s "$inst/kselftest-list.txt" ] || log "warning: no pflash selftests built"
echo "$inst"
