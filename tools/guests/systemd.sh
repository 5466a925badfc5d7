#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The payload of the systemd VM (systemd.sh): a Debian host booted
# with systemd as PID 1, real systemd-udevd and udevadm, on which the
# packages pflash-dkms and pflashctl are installed, with a table,
# /etc/pflash/pflashtab, of three devices (U1 in writeback mode, U2 in
# writethrough mode, both named by uuid; pflash5 without a backing file).
# It runs as a unit once the system is up, writes TAP to /dev/ttyS1, and
# powers the VM off, the last of its tests:
#
#  - the devices came up at boot from the table, with their links
#    /dev/pflash/by-uuid/<uuid>, from the installed module, tool, unit and
#    rules; pflashctl apply is idempotent and reports a difference;
#  - udev's link follows a move: the target of an import takes the
#    source's uuid and its link, the active device wins a shared uuid, and
#    a destroyed device's link goes;
#  - a write in writeback mode is in the backing file after
#    `systemctl stop pflash`; a final writeback that fails fails the unit
#    and keeps its device;
#  - the commands of the admin guide's section on hosts
#    (doc_test.sh, DOC_GROUP=systemd);
#  - libvirt: a domain whose store is on a pflash device, and the hook of
#    pflashctl's package (libvirt_host_test.py);
#  - a last write in writeback mode, before a clean poweroff: the line
#    "sha256 final HASH" tells the host what the backing file must hold
#    once the VM is off.
#
# /etc/pflash-test.env gives U1, U2, U3 (uuids) and KREL.

set -u
set -a
. /etc/pflash-test.env
set +a

. /usr/lib/pflash-test/tap.sh
tap_open
TAB=/etc/pflash/pflashtab
WB=/var/lib/pflash-test/wb.fd

# check NAME COMMAND...: one result, whether COMMAND succeeds.
check() {
	local name=$1
	shift
	echo "+ $*"
	tap_check "$name" "$@"
}
# udev's queue empty: a failure says so, and the checks after it will fail.
settle() { udevadm settle --timeout=300 || echo "udevadm settle failed" >&2; }
# The device a uuid's link leads to, as /dev/pflashN.
dev_of() { readlink -f "/dev/pflash/by-uuid/$1"; }
attr() { cat "/sys/block/${1#/dev/}/pflash/$2"; }
# is WHAT GOT WANT: GOT is WANT, or say what it is.
is() {
	[ "$2" = "$3" ] && return 0
	echo "$1 is '$2', expected '$3'"
	return 1
}
# The first 64 KiB of FILE are those of DATA.
holds() { cmp -n 65536 "$1" "$2"; }
# Write 64 KiB of random data to the start of DEVICE, without a flush
# (O_DIRECT: straight to the device), keeping a copy in FILE.
scribble() {
	head -c 65536 /dev/urandom >"$2" &&
		dd if="$2" of="$1" bs=65536 oflag=direct status=none
}

# --- from the table at boot --------------------------------------------------
settle
check "pflash.service is active after boot" systemctl -q is-active pflash
unit=/lib/systemd/system/pflash.service
check "the unit is the package's" sh -c "
	[ \"\$(realpath \"\$(systemctl show -P FragmentPath pflash)\")\" = \"\$(realpath $unit)\" ] &&
	[ \"\$(dpkg -S $unit | cut -d: -f1)\" = pflashctl ]"
check "the module is the one DKMS built for $KREL" sh -c \
	'modinfo -n pflash | grep -q "/updates/dkms/pflash\.ko" &&
	 ls /var/lib/dkms/pflash/*/"$KREL"/*/module/pflash.ko*'
check "pflashctl and the udev rules are the package's" sh -c \
	'[ "$(dpkg -S /usr/sbin/pflashctl /lib/udev/rules.d/60-pflash.rules |
	      cut -d: -f1 | sort -u)" = pflashctl ]'
for u in "$U1" "$U2"; do
	d=$(dev_of "$u")
	check "/dev/pflash/by-uuid/$u leads to the device of that uuid" \
		is "$d's uuid" "$(attr "$d" uuid 2>/dev/null)" "$u"
done
d1=$(dev_of "$U1")
check "the writeback device is as the table says" sh -c "
	$(declare -f is attr)
	is cache_mode \"\$(attr $d1 cache_mode)\" writeback &&
	is writeback_interval_ms \"\$(attr $d1 writeback_interval_ms)\" 0 &&
	is backing_file \"\$(attr $d1 backing_file)\" $WB &&
	is state \"\$(attr $d1 state)\" active"
check "pflash5, without a backing file, is as the table says" sh -c "
	$(declare -f is attr)
	is cache_mode \"\$(attr /dev/pflash5 cache_mode)\" none &&
	is erase_size \"\$(attr /dev/pflash5 erase_size)\" 16384"
check "pflashctl apply again changes nothing, and says nothing" sh -c \
	'out=$(pflashctl apply 2>&1) && [ -z "$out" ]'
sed 's/ writeback writeback-interval=0$/ writethrough -/' "$TAB" >/tmp/differs
check "pflashctl apply reports a difference, and fails" sh -c \
	'! pflashctl apply -t /tmp/differs 2>/tmp/err &&
	 grep -q "differs from the table: cache mode writeback, the table says writethrough" /tmp/err &&
	 [ "$(cat /sys/block/'"${d1#/dev/}"'/pflash/cache_mode)" = writeback ]'

# --- udev's link follows a move ------------------------------------------------
src=$(pflashctl create --size 64K --show)
dst=$(pflashctl create --size 64K --inactive --show)
settle
us=$(attr "$src" uuid)
ud=$(attr "$dst" uuid)
check "a new device has its link" is "the link of $us" "$(dev_of "$us")" "$src"
check "so does an inactive one" is "the link of $ud" "$(dev_of "$ud")" "$dst"
scribble "$src" /tmp/moved
pflashctl inactivate "$src"
pflashctl export "$src" | pflashctl import "$dst"
settle
check "an import gives the target the source's uuid" \
	is "the target's uuid" "$(attr "$dst" uuid)" "$us"
check "the target's own link goes" test ! -L "/dev/pflash/by-uuid/$ud"
pflashctl activate "$dst"
settle
check "the link of the uuid leads to the active device, the target" \
	is "the link of $us" "$(dev_of "$us")" "$dst"
check "udev's database has the uevent's values" sh -c \
	"udevadm info -q property $dst | grep -qx PFLASH_UUID=$us &&
	 udevadm info -q property $dst | grep -qx PFLASH_STATE=active"
pflashctl destroy "$src"
settle
check "with the source gone, the link stays on the target" \
	is "the link of $us" "$(dev_of "$us")" "$dst"
check "the target holds what the source held" holds "$dst" /tmp/moved
pflashctl destroy "$dst"
settle
check "a destroyed device's link goes" test ! -L "/dev/pflash/by-uuid/$us"

# --- writeback at stop -----------------------------------------------------------
# A fourth device, whose backing file's tmpfs is too small for what is
# written to it: its final writeback fails.
mkdir -p /run/pflash-small
mount -t tmpfs -o size=16k tmpfs /run/pflash-small
truncate -s 64K /run/pflash-small/small.fd
cp "$TAB" /tmp/pflashtab.boot
echo "$U3 /run/pflash-small/small.fd writeback writeback-interval=0" >>"$TAB"
pflashctl apply
settle
d3=$(dev_of "$U3")
scribble "$d3" /tmp/small
scribble "$d1" /tmp/p1
check "a write in writeback mode leaves the device dirty" \
	test "$(attr "$d1" dirty_bytes)" -ge 65536
systemctl stop pflash
check "a final writeback that fails at stop leaves the unit failed" \
	systemctl -q is-failed pflash
check "the journal says why" sh -c \
	'journalctl -u pflash -o cat | grep -q "writing back to the backing file failed"'
check "the device that could not write back is kept" \
	test "$(attr "$d3" dirty_bytes)" -gt 0
settle
check "the others are destroyed, their links gone" test ! -L "/dev/pflash/by-uuid/$U1"
check "the write is in the backing file after systemctl stop pflash" \
	holds "$WB" /tmp/p1
mount -o remount,size=1m /run/pflash-small
check "with room, apply --destroy writes it back" pflashctl apply --destroy
check "... all of it" holds /run/pflash-small/small.fd /tmp/small
cp /tmp/pflashtab.boot "$TAB"
systemctl reset-failed pflash
check "systemctl start pflash sets the table up again" systemctl start pflash
settle
d1=$(dev_of "$U1")
check "the device is loaded from its backing file" holds "$d1" /tmp/p1
scribble "$d1" /tmp/p2
systemctl stop pflash
check "systemctl stop pflash succeeds: the unit is stopped, not failed" \
	sh -c '! systemctl -q is-failed pflash && ! systemctl -q is-active pflash'
check "the write is in the backing file after a clean stop" holds "$WB" /tmp/p2

# --- the admin guide's commands for a host ---------------------------------------
systemctl start pflash
DOC_GROUP=systemd /opt/pflash-test/doc_test.sh pflash/admin-guide.rst \
	>/tmp/doc.tap 2>&1
tap_nested doc_admin_guide_host $? /tmp/doc.tap
# Back to the table of the boot, from a module without devices.
systemctl stop pflash
rmmod pflash
cp /tmp/pflashtab.boot "$TAB"
systemctl start pflash
settle

# --- libvirt: a domain on a pflash device, and the package's hook ------------------
python3 /opt/pflash-test/libvirt_host_test.py >/tmp/libvirt.tap 2>&1
rc=$?
if [ "$rc" = 4 ]; then
	# The program's own "1..0 # SKIP why" gives the reason.
	why=$(sed -n 's/^1\.\.0 # SKIP //p' /tmp/libvirt.tap | head -n 1)
	tap_skip libvirt_host_test "${why:-exit code 4 without a reason}"
else
	tap_nested libvirt_host_test "$rc" /tmp/libvirt.tap
fi

# --- a clean poweroff ----------------------------------------------------------
d1=$(dev_of "$U1")
scribble "$d1" /tmp/p3
check "the last write leaves the device dirty" \
	test "$(attr "$d1" dirty_bytes)" -ge 65536
# What the backing file must hold once the final writeback is done.
tap_say "sha256 final $({ cat /tmp/p3; tail -c +65537 "$WB"; } | sha256sum | cut -d' ' -f1)"
tap_end
echo "pflash-vm: powering off" >/dev/console
systemctl --no-block poweroff
