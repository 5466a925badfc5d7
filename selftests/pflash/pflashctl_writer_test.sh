#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# pflashctl does not inactivate a device that a process has open for
# writing (a virtual machine still running on it), unless forced: it names
# the process, and the device stays active.  A reader does not keep it
# from inactivating, nor a writer that went read-only as QEMU does at the
# end of a migration (it opens its drive again read-only, then closes the
# descriptor it wrote through).  Forced, the writer's next write() fails
# at once and changes nothing; an inactive device, whose writers fail
# already, is not refused again.  A live export's final inactivation obeys
# the same rule.
#
# Runs as root with pflash loaded; the test's own shell holds the
# descriptors (pflashctl looks past itself, to its parent).

. "$(dirname "$0")/lib.sh"

need_root
pflashctl list >/dev/null 2>&1 ||
	skip "pflashctl cannot list devices: is pflash loaded?"

tmp=$(mktemp -d)
dev=
cleanup() {
	exec 7>&- 8<&-
	[ -n "$dev" ] && pflashctl destroy --force "$dev"
	rm -rf "$tmp"
}
trap cleanup EXIT

# run COMMAND...: its status in $rc, its stderr in $tmp/err.
run() {
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}
on_failure() {
	echo "# status $rc; stderr:"
	sed 's/^/# /' "$tmp/err"
}
state() {
	pflashctl list -rn -o STATE "$dev"
}

echo "1..12"
head -c 65536 /dev/urandom >"$tmp/vars.fd"
cp "$tmp/vars.fd" "$tmp/before"
dev=$(pflashctl create --backing "$tmp/vars.fd" --show)
result $? "a device backed by a file"

exec 7<>"$dev"
run pflashctl inactivate "$dev"
check "refused under a writer, which it names" '
	[ "$rc" = 1 ] && [ "$(state)" = active ] &&
	grep -q "^pflashctl: inactivate: $dev: open for writing by .* (pid $$, fd 7), whose writes would fail: .*Device or resource busy$" "$tmp/err"'

run pflashctl export --live "$dev" -o "$tmp/live.pfs"
check "export --live stops before its final pass under a writer" '
	[ "$rc" = 1 ] && [ "$(state)" = active ] &&
	grep -q "open for writing by .* (pid $$, fd 7)" "$tmp/err" &&
	grep -q "the device is still active, and unchanged" "$tmp/err"'

# QEMU at the end of a migration: read-only first, then the writer goes.
run pflashctl export --inactivate "$dev" -o "$tmp/final.pfs"
check "export --inactivate is refused under a writer too, and sends nothing" '
	[ "$rc" = 1 ] && [ "$(state)" = active ] &&
	grep -q "open for writing by .* (pid $$, fd 7), whose writes would fail: stop it, or export --inactivate --force" "$tmp/err" &&
	[ ! -s "$tmp/final.pfs" ]'

exec 8<"$dev"
exec 7>&-
run pflashctl inactivate "$dev"
check "a reader alone: inactivated" '[ "$rc" = 0 ] && [ "$(state)" = inactive ]'
exec 8<&-

pflashctl activate "$dev"
exec 7<>"$dev"
run pflashctl inactivate --force "$dev"
check "forced under the writer: inactivated" \
	'[ "$rc" = 0 ] && [ "$(state)" = inactive ]'
check "the writer's write() fails at once" '! printf x >&7 2>/dev/null'
check "and changed nothing" 'cmp -s "$dev" "$tmp/before" && cmp -s "$tmp/vars.fd" "$tmp/before"'
# Inactive already, the writer's writes fail already: nothing to refuse.
run pflashctl inactivate "$dev"
check "inactive already: inactivated again, the writer not named" \
	'[ "$rc" = 0 ] && [ "$(state)" = inactive ] && [ ! -s "$tmp/err" ]'

pflashctl activate "$dev"
run pflashctl export --live --force "$dev" -o "$tmp/live.pfs"
check "export --live --force: inactivated under the writer" \
	'[ "$rc" = 0 ] && [ "$(state)" = inactive ]'
check "the writer's write() fails at once after it" '! printf x >&7 2>/dev/null'
exec 7>&-

pflashctl activate "$dev"
run pflashctl inactivate "$dev"
check "no writer left: inactivated" '[ "$rc" = 0 ] && [ "$(state)" = inactive ]'
exit $failed
