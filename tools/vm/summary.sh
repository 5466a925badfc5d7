#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Close a `make check` run: count the results recorded in RESULTS (see
# results.sh) over every kernel and print one plain line,
#
#   N passed, N failed, N skipped
#
# Exits 1 if anything failed, or if nothing ran at all.
#
# Usage: summary.sh RESULTS_FILE

set -euo pipefail

RESULTS=${1:?usage: summary.sh RESULTS_FILE}
pass=0 fail=0 skip=0
if [ -e "$RESULTS" ]; then
	pass=$(grep -c '^pass	' "$RESULTS" || true)
	fail=$(grep -c '^fail	' "$RESULTS" || true)
	skip=$(grep -c '^skip	' "$RESULTS" || true)
fi
if [ "$fail" != 0 ]; then
	echo
	echo "Failed:"
	awk -F'\t' '$1 == "fail" { print "  [" $2 "] not ok " $3 }' "$RESULTS"
	echo "Logs of this run: $(dirname "$RESULTS")"
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ] && [ "$pass" != 0 ]
