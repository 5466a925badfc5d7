#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# harness.sh's read_line on pretend writers: a line that comes in pieces,
# with timeouts between them, is read whole, on each descriptor apart.
# The static checks run it.  Prints TAP; exits 1 if any failed.

set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/harness.sh"
. "$here/tap.sh"

echo "TAP version 13"
echo "1..4"

# Each piece comes after read_line's time ran out at least once.
exec {a}< <(printf 's'; sleep 0.6; printf 'ta'; sleep 0.6; printf 'rt\nack 1 0 0\n')
exec {b}< <(sleep 0.3; printf 'do'; sleep 0.6; printf 'ne\n')
lines=() timeouts=0
while [ ${#lines[@]} -lt 3 ] && [ "$timeouts" -lt 40 ]; do
	for fd in "$a" "$b"; do
		if read_line "$fd" 0.1; then
			lines+=("$fd:$line")
		else
			timeouts=$((timeouts + 1))
		fi
	done
done
check "read_line: a line in pieces, timeouts between, is read whole" \
	'[ "${lines[0]:-}" = "$a:start" ] || [ "${lines[1]:-}" = "$a:start" ]'
check "read_line: two descriptors' pieces do not mix" \
	'printf "%s\n" "${lines[@]}" | grep -qx "$b:done"'
check "read_line: the next line after a pieced one is whole" \
	'printf "%s\n" "${lines[@]}" | grep -qx "$a:ack 1 0 0"'
check "read_line: it did time out between the pieces (the case it is for)" \
	'[ "$timeouts" -ge 2 ]'
exit "$failed"
