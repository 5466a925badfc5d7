#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# OVMF's variable store on pflash devices, in QEMU nested in the test VM,
# with a migration of each of Debian's two builds (see qemu_ovmf_test.py).
# Minutes under nested TCG: the test command runs it where PFLASH_OVMF=1
# (tools/check/check.sh sets it on deb61 and deb72).  Needs python3, QEMU,
# OVMF and pflash-qemu-migrate, which the VMs have.

. "$(dirname "$0")/lib.sh"

need_root
[ "${PFLASH_OVMF:-0}" = 1 ] ||
	skip "OVMF boots take minutes under nested TCG: run where PFLASH_OVMF=1 (the test command: deb61 and deb72)"
command -v python3 >/dev/null || skip "needs python3"
exec python3 "$(dirname "$0")/qemu_ovmf_test.py"
