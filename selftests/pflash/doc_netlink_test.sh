#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The commands Documentation/pflash/netlink.rst shows, run as doc_test.sh says.
exec "$(dirname "$0")/doc_test.sh" pflash/netlink.rst
