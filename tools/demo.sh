#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Show pflash at work: install what is needed (tools/deps.sh), then
# `make demo`, which boots a VM on Debian's 6.1 and runs
# tools/guests/demo.sh in it, its console on this terminal.

set -euo pipefail
cd "$(dirname "$0")/.."

tools/deps.sh
exec make demo "$@"
