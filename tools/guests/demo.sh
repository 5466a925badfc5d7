#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The demo, run inside the VM by /init (see tools/boot/demo.sh): a firmware
# variable store moves from one device to another, as it would from one
# host to another without shared storage.  Every command is shown before it
# runs, as an operator would type it; the demo stops at the first one that
# fails.

set -e

# say TEXT: a heading.
say() {
	printf '\n### %s\n' "$*"
}

# run CMD...: show the command, then run it.  The command goes to stderr,
# so that dev=$(run ...) captures only the output (both reach the console).
run() {
	printf '$ %s\n' "$*" >&2
	"$@"
}

# sh_run CMDLINE: the same for a command line with pipes or redirections.
sh_run() {
	printf '$ %s\n' "$1" >&2
	sh -c "$1"
}

VARS=/usr/share/OVMF/OVMF_VARS_4M.fd

say "Load the module, with no devices, and listen to its events"
run modprobe pflash nr_devices=0
sh_run "pflashctl monitor >/tmp/events &"

say "Host A: a VM's UEFI variable store, backed by its file on A's disk"
run mkdir -p /tmp/host-a /tmp/host-b
run cp "$VARS" /tmp/host-a/vars.fd
src=$(run pflashctl create --backing /tmp/host-a/vars.fd --cache writeback --show)
echo "$src"
run pflashctl list

say "The guest writes its variables: 16 KiB, not yet flushed"
run dd if=/dev/urandom of="$src" bs=4096 seek=8 count=4 oflag=direct status=none
run pflashctl list -o NAME,STATE,EPOCH,DIRTY,FLUSH-PENDING

say "Host B: the incoming side, on B's own stale copy of the file, inactive"
run truncate -s "$(stat -c %s "$VARS")" /tmp/host-b/vars.fd
dst=$(run pflashctl create --backing /tmp/host-b/vars.fd --inactive --show)
echo "$dst"
run pflashctl list -o NAME,STATE,EPOCH,BACKING

say "The move: A writes everything back and lets go; its state crosses over"
run pflashctl inactivate "$src"
run pflashctl export "$src" -o /tmp/state.pfs
run pflashctl inspect /tmp/state.pfs
sh_run "pflashctl export $src | pflashctl import $dst"
run pflashctl list -o NAME,STATE,EPOCH,FLUSH-PENDING,BACKING
say "B's file is still stale: importing never writes it"
sh_run "cmp /tmp/host-a/vars.fd /tmp/host-b/vars.fd || true"

say "B activates: it writes its whole device to its file, then accepts writes"
run pflashctl activate "$dst"
run pflashctl list -o NAME,STATE,EPOCH,FLUSH-PENDING,BACKING

say "The check: the target's file holds exactly the source's contents"
run cmp "$src" "$dst"
run cmp /tmp/host-a/vars.fd /tmp/host-b/vars.fd
run sha256sum "$src" /tmp/host-a/vars.fd "$dst" /tmp/host-b/vars.fd
echo "the move is complete: B owns the variable store"

say "A cannot take it back: it is inactive, and writes to it fail"
sh_run "dd if=/dev/zero of=$src bs=4096 count=1 oflag=direct status=none || echo 'write refused, as it should be'"

say "What the event group saw"
run sleep 1
run cat /tmp/events

say "Clean up"
run pflashctl destroy "$src" "$dst"
run pflashctl list
say "Done"
