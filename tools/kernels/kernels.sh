#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Prepare the kernels the VM tests boot, and tell where their parts are.
#
# Usage: kernels.sh [deb61] [deb612] [deb72] [debug]     (default: all)
#
# For each kernel NAME this leaves build/kernels/NAME/kernel.env, a file to
# source, and prints it:
#   NAME     deb61, deb612, deb72 or debug
#   KREL     its release (uname -r)
#   VMLINUZ  the kernel image to boot
#   MODDIR   its modules tree (…/lib/modules/KREL) for the initramfs
#   KDIR     the tree to build pflash.ko against (make -C KDIR M=…)
#   SIDROOT  the Debian unstable root (sid-root.sh) that KDIR is in and
#            pflash.ko is built in, or empty for the host

set -euo pipefail
. "$(dirname "$0")/../lib/harness.sh"

[ $# -gt 0 ] || set -- deb61 deb612 deb72 debug
for name in "$@"; do
	case $name in
	deb61|deb612|deb72) env=$("$REPO/tools/kernels/debian.sh" "$name") ;;
	debug) env=$("$REPO/tools/kernels/debug.sh") ;;
	*) die "unknown kernel '$name' (deb61, deb612, deb72 or debug)" ;;
	esac
	echo "# $name: $env"
	cat "$env"
done
