#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh's boots again (-b), on a QEMU that pretends: a kernel that panics
# before it starts init is booted again, at most twice, the last such
# console kept as console-hung.log; one that panics after init is not
# (its results say why).  The static checks run it.  Prints TAP; exits 1 if any failed.

set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The pretend QEMU: boot number N (counted in $tmp/boots) writes line N of
# $tmp/script to the console the command line names, and exits 0.
mkdir -p "$tmp/bin" "$tmp/build/kernels/fake"
cat >"$tmp/bin/qemu-system-x86_64" <<'EOF'
#!/bin/bash
for a in "$@"; do
	case $a in file,id=console,path=*) console=${a#file,id=console,path=} ;; esac
done
n=$(( $(cat "$FAKE/boots" 2>/dev/null || echo 0) + 1 ))
echo "$n" >"$FAKE/boots"
sed -n "${n}p" "$FAKE/script" | tr '|' '\n' >"$console"
EOF
chmod +x "$tmp/bin/qemu-system-x86_64"
printf 'VMLINUZ=/dev/null\n' >"$tmp/build/kernels/fake/kernel.env"

. "$here/../lib/tap.sh"

# boot SCRIPT...: run.sh -b 5 on the pretend QEMU, whose boots print the
# SCRIPT lines in turn; its output in $tmp/out.
boot() {
	rm -rf "$tmp/out" "$tmp/boots"
	printf '%s\n' "$@" >"$tmp/script"
	FAKE=$tmp PATH=$tmp/bin:$PATH BUILD=$tmp/build \
		"$here/run.sh" -k fake -i /dev/null -d "$tmp/out" -b 5 -t 60 \
		>"$tmp/run.log" 2>&1
}

echo "TAP version 13"
echo "1..7"
boot 'Kernel panic - not syncing: Fatal exception in interrupt' \
	'Run /init as init process|all done'
check "run.sh -b: a panic before init: booted again" '[ "$(cat "$tmp/boots")" = 2 ]'
check "run.sh -b: a panic before init: the first console kept as console-hung.log" \
	'grep -q "Kernel panic" "$tmp/out/console-hung.log" && grep -q "all done" "$tmp/out/console.log"'
boot 'Kernel panic - not syncing: first' 'Kernel panic - not syncing: second' \
	'Run /init as init process|all done'
check "run.sh -b: a second panic before init: booted a third time" \
	'[ "$(cat "$tmp/boots")" = 3 ] && grep -q "all done" "$tmp/out/console.log" &&
	 grep -q second "$tmp/out/console-hung.log"'
boot 'Kernel panic - not syncing: first' 'Kernel panic - not syncing: second' \
	'Kernel panic - not syncing: third' 'Kernel panic - not syncing: fourth'
check "run.sh -b: a third panic before init: not booted a fourth time" \
	'[ "$(cat "$tmp/boots")" = 3 ] && grep -q third "$tmp/out/console.log"'
boot 'Run /init as init process|Kernel panic - not syncing: after init'
check "run.sh -b: a panic after init: not booted again" '[ "$(cat "$tmp/boots")" = 1 ]'
check "run.sh -b: a panic after init: its console is the run's" \
	'grep -q "after init" "$tmp/out/console.log" && [ ! -e "$tmp/out/console-hung.log" ]'
boot 'no init, no panic: the VM ended'
check "run.sh -b: a VM that ends before init without a panic: not booted again" \
	'[ "$(cat "$tmp/boots")" = 1 ]'
exit $failed
