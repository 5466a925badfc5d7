#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# QEMU on pflash devices with no guest code: the flash driven through the
# qtest protocol, and QEMU migrated between two processes with the pflash
# device moved underneath (see qemu_qtest_test.py).  Needs python3, QEMU,
# OVMF and pflash-qemu-migrate, which the VMs have (tools/images/initramfs.sh);
# skipped where they are not.

. "$(dirname "$0")/lib.sh"

need_root
command -v python3 >/dev/null || skip "needs python3"
exec python3 "$(dirname "$0")/qemu_qtest_test.py"
