#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The commands Documentation/man/pflashctl.8 shows, run as doc_test.sh says.
exec "$(dirname "$0")/doc_test.sh" man/pflashctl.8
