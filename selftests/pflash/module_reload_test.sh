#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Loading and unloading pflash: the module parameters, refused parameters,
# loading on the first request that names the family (its alias),
# unloading with devices present (and open), what unload writes to
# backing files: the dirty blocks of active devices, nothing for inactive
# ones, and that unload frees the contents that imports replaced, which a
# work item frees a second later otherwise.  Leaves the module loaded with
# its defaults, as it found it.

. "$(dirname "$0")/lib.sh"
need_root

dir=$(mktemp -d /tmp/pflash-reload.XXXXXX)
mount -t tmpfs -o size=16m pflash-reload "$dir"
blacklist=/etc/modprobe.d/pflash-reload-test.conf
cleanup() {
	exec 9<&- 2>/dev/null
	rm -f "$blacklist"
	rmmod pflash 2>/dev/null
	modprobe pflash
	umount "$dir"
	rmdir "$dir"
}
trap cleanup EXIT

echo "TAP version 13"
echo "1..19"

# --- unloading with devices present ----------------------------------------
rmmod pflash 2>/dev/null
check "load with the defaults" modprobe pflash
check "the default device is OVMF_VARS_4M.fd's size" \
	test "$(cat /sys/block/pflash0/size 2>/dev/null)" = $((540672 / 512))
pflashctl create --size 64K >/dev/null
check "unload with devices present" rmmod pflash
check "the devices are gone" sh -c '! ls /dev/pflash* 2>/dev/null'

# --- loading on first use ----------------------------------------------------
check "a request that names the family loads the module" \
	sh -c 'pflashctl list >/dev/null && grep -q "^pflash " /proc/modules'
rmmod pflash
# The alias blacklisted, the kernel cannot load it: then pflashctl says so.
mkdir -p "${blacklist%/*}"
echo "blacklist pflash" >"$blacklist"
pflashctl list >/dev/null 2>&1
check "pflashctl says the module is not available (exit 3)" test $? = 3
check "and the module stays unloaded" sh -c '! grep -q "^pflash " /proc/modules'
rm -f "$blacklist"

# --- parameters --------------------------------------------------------------
modprobe pflash nr_devices=3 dev_size=131072 block_size=4096 erase_size=65536
check "nr_devices=3 makes three devices" \
	test -b /dev/pflash0 -a -b /dev/pflash1 -a -b /dev/pflash2 -a ! -e /dev/pflash3
check "dev_size, block_size and erase_size are used" test \
	"$(cat /sys/block/pflash2/size) $(cat /sys/block/pflash2/queue/logical_block_size) $(cat /sys/block/pflash2/queue/discard_granularity)" \
	= "256 4096 65536"
rmmod pflash
check "a size that is not whole erase blocks is refused" \
	sh -c '! modprobe pflash dev_size=1000 2>/dev/null && ! grep -q "^pflash " /proc/modules'
check "a bad block size is refused" \
	sh -c '! modprobe pflash block_size=1024 2>/dev/null && ! grep -q "^pflash " /proc/modules'
check "more devices than there are indices is refused" \
	sh -c '! modprobe pflash nr_devices=1025 2>/dev/null && ! grep -q "^pflash " /proc/modules'

# --- unloading with a device open --------------------------------------------
modprobe pflash nr_devices=1 dev_size=65536
exec 9</dev/pflash0
check "unload is refused while a device is open" sh -c '! rmmod pflash 2>/dev/null'
check "the open device still reads" \
	sh -c 'dd if=/dev/pflash0 bs=4096 count=1 2>/dev/null | od -An -tx1 | grep -q ff'
exec 9<&-
check "unload once it is closed" rmmod pflash

# --- what unload writes to backing files -------------------------------------
modprobe pflash nr_devices=0
dd if=/dev/zero of="$dir/active.fd" bs=4096 count=16 2>/dev/null
dd if=/dev/zero of="$dir/inactive.fd" bs=4096 count=16 2>/dev/null
dd if=/dev/urandom of="$dir/data" bs=4096 count=4 2>/dev/null
a=$(pflashctl create --backing "$dir/active.fd" --cache writeback \
	--writeback-interval 0 --show)
i=$(pflashctl create --backing "$dir/inactive.fd" --show)
dd if="$dir/data" of="$a" bs=4096 seek=2 oflag=direct 2>/dev/null
dd if="$dir/data" of="$i" bs=4096 seek=2 oflag=direct 2>/dev/null
pflashctl inactivate "$i"
# Written to the inactive device's file already, by its inactivation.
cp "$dir/inactive.fd" "$dir/inactive.before"
before=$(stat -c %Y "$dir/inactive.fd")
dirty=$(pflashctl list -n -b -o DIRTY "$a" | tr -d ' ')
check "the writeback device has dirty data before unload" test "$dirty" = 16384
sleep 2
rmmod pflash
check "unload wrote the dirty blocks back" \
	sh -c "dd if='$dir/active.fd' bs=4096 skip=2 count=4 2>/dev/null | cmp -s - '$dir/data'"
check "unload wrote nothing to the inactive device's file" \
	sh -c "cmp -s '$dir/inactive.fd' '$dir/inactive.before' && test \$(stat -c %Y '$dir/inactive.fd') = $before"

# --- what unload frees -------------------------------------------------------
# Two imports replace a device's 16 MiB twice; the old contents wait a
# second for a work item (pflash_dev_drop_contents()), and an unload at
# once must free them itself (vmalloc's pages, in kB).
vmalloc_used() {
	sed -n 's/^VmallocUsed: *\([0-9]*\) kB$/\1/p' /proc/meminfo
}
vm_before=$(vmalloc_used)
modprobe pflash nr_devices=0
s=$(pflashctl create --size 16M --show)
d=$(pflashctl create --size 16M --inactive --show)
pflashctl export -q "$s" | pflashctl import -q "$d"
pflashctl export -q "$s" | pflashctl import -q "$d"
rmmod pflash
vm_after=$(vmalloc_used)
check "unload frees the contents imports replaced just before (vmalloc: $vm_before kB before the load, $vm_after kB after the unload)" \
	test $((vm_after - vm_before)) -lt 8192

exit $failed
