#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Extract, once per linux-source-6.1 version, the few kernel files the
# project uses but never commits, keeping the kernel's layout:
#
#   tools/testing/selftests/{Makefile,lib.mk,kselftest*.h,run_kselftest.sh,
#                            kselftest/}     the kselftest framework
#   scripts/subarch.include                  needed by the selftests Makefile
#
# Prints the root of that tree: build/ksft-<version>.

set -euo pipefail
. "$(dirname "$0")/../lib/harness.sh"

ver=$(linux_src_version) || die "$LINUX_SRC_PKG is not installed (tools/deps.sh)"
root=$BUILD/ksft-$ver

MEMBERS=(
	tools/testing/selftests/Makefile
	tools/testing/selftests/lib.mk
	tools/testing/selftests/kselftest.h
	tools/testing/selftests/kselftest_harness.h
	tools/testing/selftests/run_kselftest.sh
	tools/testing/selftests/kselftest
	scripts/subarch.include
)

mkdir -p "$BUILD"
exec 9>"$BUILD/.ksft.lock"
flock 9

extract_tarball "$root" "$LINUX_SRC_TARBALL" "${MEMBERS[@]}"
echo "$root"
