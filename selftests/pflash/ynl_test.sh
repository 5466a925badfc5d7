#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The pflash family through its netlink spec, with the kernel's own ynl
# (tools/net/ynl/cli.py and its lib, from linux-source-6.12): see
# ynl_test.py. Needs python3 with yaml and jsonschema, and the ynl tree,
# which the VMs have in /opt/ynl (tools/ecosystem/ynl-tree.sh); skipped
# where they are not.

. "$(dirname "$0")/lib.sh"
YNL=${PFLASH_YNL:-/opt/ynl}

command -v python3 >/dev/null && [ -e "$YNL/tools/net/ynl/cli.py" ] ||
	skip "needs python3 and the ynl tree in $YNL"
exec python3 "$(dirname "$0")/ynl_test.py" "$YNL"
