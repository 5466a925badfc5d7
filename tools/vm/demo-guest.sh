#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The demo, run inside the VM by /init (see boot-demo.sh): every command is
# shown before it runs, as an operator would type it. Stops at the first
# command that fails.
#
# To extend it (e.g. into a migration demo), add a section: a `say` line and
# `run` lines.

set -e

# say TEXT: a heading.
say() {
	printf '\n### %s\n' "$*"
}

# run CMD...: show the command, then run it. The command goes to stderr, so
# that dev=$(run ...) captures only the output (both reach the console).
run() {
	printf '$ %s\n' "$*" >&2
	"$@"
}

# sh_run CMDLINE: the same for a command line with pipes or redirections.
sh_run() {
	printf '$ %s\n' "$1" >&2
	sh -c "$1"
}

say "Load the module, with no devices"
run modprobe pflash nr_devices=0
run pflashctl list

say "Create two devices: 1 MiB of 512-byte blocks, and one the size of OVMF's 4M variable store"
dev0=$(run pflashctl create --size 1M --show)
echo "$dev0"
dev1=$(run pflashctl create --size 540672 --block-size 4096 --show)
echo "$dev1"
run pflashctl list
run pflashctl list -J

say "A new device reads as erased flash (0xff)"
sh_run "dd if=$dev0 bs=4096 count=1 status=none | od -A d -t x1 | head -n 3"

say "Write a pattern to $dev0 with dd and read it back"
# 1 MiB: 1024 lines of 1 KiB, each naming its offset.
sh_run "i=0; while [ \$i -lt 1024 ]; do printf '%-1023s\\n' \"pflash demo: KiB \$i\"; i=\$((i + 1)); done >/tmp/pattern"
run ls -l /tmp/pattern
run dd if=/tmp/pattern of="$dev0" bs=64K oflag=direct conv=fsync status=none
run dd if="$dev0" of=/tmp/readback bs=64K iflag=direct status=none
run cmp /tmp/pattern /tmp/readback
echo "contents match"
sh_run "dd if=$dev0 bs=1024 skip=1000 count=2 status=none | tr -s ' '"

say "Write OVMF's variable store to $dev1 and read it back"
run dd if=/usr/share/OVMF/OVMF_VARS_4M.fd of="$dev1" bs=4096 oflag=direct status=none
run cmp /usr/share/OVMF/OVMF_VARS_4M.fd "$dev1"
echo "contents match"
run sha256sum /usr/share/OVMF/OVMF_VARS_4M.fd "$dev1"

say "Destroy both devices"
run pflashctl destroy "$dev0" "$dev1"
run pflashctl list
say "Done"
