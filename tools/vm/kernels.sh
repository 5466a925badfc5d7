#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Prepare the kernels the VM tests boot, and tell where their parts are.
#
# Usage: kernels.sh [deb61] [deb612] [debug]     (default: all three)
#
# For each kernel NAME this leaves build/kernels/NAME/kernel.env, a file to
# source, and prints it:
#   NAME     deb61, deb612 or debug
#   KREL     its release (uname -r)
#   VMLINUZ  the kernel image to boot
#   MODDIR   its modules tree (…/lib/modules/KREL) for the initramfs
#   KDIR     the tree to build pflash.ko against (make -C KDIR M=…)

set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -gt 0 ] || set -- deb61 deb612 debug
for name in "$@"; do
	case $name in
	deb61|deb612) env=$("$REPO/tools/vm/kernel-deb.sh" "$name") ;;
	debug) env=$("$REPO/tools/vm/kernel-debug.sh") ;;
	*) die "unknown kernel '$name' (deb61, deb612 or debug)" ;;
	esac
	echo "# $name: $env"
	cat "$env"
done
