#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run every test: install what they need (tools/deps.sh), then `make check`
# (static checks, then the kselftests in VMs on Debian's 6.1, Debian's 6.12,
# Debian unstable's 7.2 and the debug kernel). Exits with make check's
# status.
#
# Arguments go to make, e.g. tools/test.sh KERNELS=deb61 for one kernel, or
# tools/test.sh KERNELS=deb61 TESTS="pflash_io_test pflashctl_test.sh" for
# those tests alone (named as in selftests/pflash/Makefile), in one VM.

set -euo pipefail
cd "$(dirname "$0")/.."

tools/deps.sh
exec make check "$@"
