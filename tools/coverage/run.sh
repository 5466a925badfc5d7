#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Which test program reaches which error path of pflash.ko (`make
# coverage-report`): the suite on the debug kernel, whose gcov counts what
# the module runs, each test program alone with the counts handed out and
# zeroed after it (guest.sh); then error-paths.py rewrites
# Documentation/pflash/error-paths.rst from them.  As long as a debug-kernel
# run of `make check`.  Logs in build/runs/coverage-<date>/.

set -euo pipefail
. "$(dirname "$0")/../lib/harness.sh"

lock_build
out=$BUILD/runs/coverage-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
log "logs of this run: $out"
"$REPO/tools/kernels/kernels.sh" debug >/dev/null
ko=$("$REPO/tools/kernels/module.sh" debug)
make -s -C "$SRC/tools/pflashctl" >/dev/null
selftests=$("$REPO/tools/images/selftests.sh")
initrd=$BUILD/vm/coverage/initramfs.cpio
"$REPO/tools/images/initramfs.sh" -k debug -p "$REPO/tools/coverage/guest.sh" \
	-o "$initrd" -m "$ko" -t "$selftests" -c "$SRC/tools/pflashctl/pflashctl" \
	>/dev/null
log "booting the debug kernel (console: $out/console.log)"
"$REPO/tools/boot/run.sh" -k debug -i "$initrd" -d "$out" -t 1800 || true
grep -E '^# (not )?ok ' "$out/tap.log" | grep '^# not ok' && \
	log "warning: some tests failed in this run (see $out/tap.log)"
# The counts are read by the gcov of the compiler that built the debug
# kernel, in the Debian unstable root.
"$REPO/tools/kernels/sid-root.sh" run "$REPO/tools/coverage/error-paths.py" \
	write --tap "$out/tap.log" --objdir "$BUILD/mod-debug"
