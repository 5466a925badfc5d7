#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Activation after an import leaves every byte of the backing file equal
# to the device, told with pflashctl, dd and cmp, in both cache modes:
#
#  - the sequence of issue 23: a device exports its state and lets its
#    file go; a second device on the same file writes a block of it and
#    lets go; the first imports its old state and activates;
#  - its companion: the target imports while another device owns the
#    shared file, so that its activation is refused; the owner writes and
#    lets go; the target activates;
#  - a move with one pflashctl per side, export --inactivate piped into
#    import --activate, over shared and over separate files, whose target
#    file was changed while no device owned it.
#
# Runs as root with pflash loaded, on the VM's /tmp (a tmpfs).

. "$(dirname "$0")/lib.sh"

need_root
PLAN=22
tmp=$(mktemp -d) || skip "no temporary directory"
devs=

cleanup() {
	for d in $devs; do
		pflashctl destroy "$d" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

# new_dev CREATE_ARGS...: create a device, its path in $dev.
new_dev() {
	dev=$(pflashctl create --show "$@") && devs="$devs $dev"
}

# Drop every device made so far.
drop_devs() {
	for d in $devs; do
		pflashctl destroy "$d" || return 1
	done
	devs=
}

# A block of data, different from the erased file and from each other.
head -c 4096 /dev/urandom >"$tmp/A"
head -c 4096 /dev/urandom >"$tmp/B"

echo "1..$PLAN"
for cache in writethrough writeback; do
	# The sequence of the issue, on a 1 MiB erased file.
	f=$tmp/f
	head -c 1048576 /dev/zero | tr '\0' '\377' >"$f"
	new_dev --backing "$f" --cache "$cache" && p0=$dev &&
		pflashctl inactivate "$p0" &&
		pflashctl export -q "$p0" -o "$tmp/saved.pfs" &&
		new_dev --backing "$f" --cache "$cache" && p1=$dev &&
		dd if="$tmp/A" of="$p1" bs=4096 seek=5 count=1 oflag=direct \
			conv=notrunc status=none &&
		pflashctl inactivate "$p1" &&
		pflashctl import -q -i "$tmp/saved.pfs" "$p0"
	result $? "$cache: issue 23: a second device writes the shared file, the first imports its old state"
	pflashctl activate "$p0"
	result $? "$cache: issue 23: the first activates"
	cmp "$p0" "$f"
	result $? "$cache: issue 23: the file holds the device, every byte"
	drop_devs

	# The target imports while another device owns the file.
	head -c 1048576 /dev/zero | tr '\0' '\377' >"$f"
	new_dev --backing "$f" --cache "$cache" && src=$dev &&
		new_dev --backing "$f" --cache "$cache" --inactive &&
		dst=$dev &&
		pflashctl export -q --inactivate "$src" -o "$tmp/s.pfs" &&
		pflashctl activate "$src" &&
		pflashctl import -q -i "$tmp/s.pfs" "$dst" &&
		! pflashctl activate "$dst" 2>/dev/null
	result $? "$cache: the target imports; its activation is refused while another device owns the file"
	dd if="$tmp/B" of="$src" bs=4096 seek=7 count=1 oflag=direct \
		conv=notrunc status=none && pflashctl inactivate "$src" &&
		pflashctl activate "$dst"
	result $? "$cache: the owner writes and lets go; the target activates"
	cmp "$dst" "$f"
	result $? "$cache: the file holds the target, every byte"
	drop_devs

	# One pflashctl per side, separate files: the target's was edited.
	cp /usr/share/OVMF/OVMF_VARS_4M.fd "$tmp/src.fd"
	cp "$tmp/src.fd" "$tmp/dst.fd"
	new_dev --backing "$tmp/src.fd" --cache "$cache" && src=$dev &&
		new_dev --backing "$tmp/dst.fd" --cache "$cache" --inactive &&
		dst=$dev &&
		dd if="$tmp/A" of="$src" bs=4096 seek=2 count=1 oflag=direct \
			conv=notrunc status=none &&
		dd if="$tmp/B" of="$tmp/dst.fd" bs=4096 seek=9 count=1 \
			conv=notrunc status=none &&
		pflashctl export -q --inactivate "$src" |
		pflashctl import -q --activate "$dst"
	result $? "$cache: export --inactivate | import --activate, separate files"
	[ "$(pflashctl list -rn -o STATE "$src")" = inactive ] &&
		[ "$(pflashctl list -rn -o STATE "$dst")" = active ] &&
		cmp "$src" "$dst"
	result $? "$cache: the source is inactive, the target active, with its contents"
	cmp "$dst" "$tmp/dst.fd"
	result $? "$cache: the target's edited file holds the target, every byte"
	drop_devs

	# One pflashctl per side, a shared file.
	cp /usr/share/OVMF/OVMF_VARS_4M.fd "$tmp/src.fd"
	new_dev --backing "$tmp/src.fd" --cache "$cache" && src=$dev &&
		new_dev --backing "$tmp/src.fd" --cache "$cache" --inactive &&
		dst=$dev &&
		dd if="$tmp/A" of="$src" bs=4096 seek=3 count=1 oflag=direct \
			conv=notrunc status=none &&
		pflashctl export -q --inactivate "$src" |
		pflashctl import -q --activate "$dst"
	result $? "$cache: export --inactivate | import --activate, a shared file"
	cmp "$src" "$dst" && cmp "$dst" "$tmp/src.fd"
	result $? "$cache: the shared file holds the target, every byte"
	drop_devs
done
rm -f "$tmp"/*.fd "$tmp/f"
exit $failed
