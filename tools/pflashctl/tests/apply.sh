# SPDX-License-Identifier: GPL-2.0
#
# Host tests of pflashctl apply and the table it reads, pflashtab(5),
# against the fake kernel.  Sourced by tests/run.sh, whose helpers it uses.

tab=$tmp/pflashtab
u1=8c2f6a1e-4b7d-4e0a-9d35-2f1c7b9e6a40
u2=3d5e0c92-71a8-4f6b-8e24-b0c9d1f7a356
head -c 65536 /dev/zero >"$tmp/a.fd"
head -c 131072 /dev/zero >"$tmp/b.fd"
cat >"$tab" <<EOF
# <device> <backing file> <cache> <options>

$u1	$tmp/a.fd  writeback  writeback-interval=2s
pflash9  -  -  size=64K,erase-size=16K
$u2 $tmp/b.fd - read-only,index=4
EOF

# applied NAME STATUS STDOUT STDERR LOG ARGS...: "pflashctl apply ARGS",
# on the fake kernel, exits with STATUS, prints this, and sends LOG.
applied()
{
	local name=$1 status=$2 stdout=$3 stderr=$4 log=$5

	shift 5
	rm -f "$tmp/log"
	t "$name" "$status" "$stdout" "$stderr" \
		env PFLASH_FAKE_LOG="$tmp/log" "$fake" apply "$@"
	[ "$(cat "$tmp/log" 2>/dev/null)" = "$log" ] ||
		result 0 "$name: requests" "sent:" "$(cat "$tmp/log")" \
			"expected:" "$log"
}

applied "apply: creates each device, in order" 0 \
	"$tab:3: created /dev/pflash0
$tab:4: created /dev/pflash9
$tab:5: created /dev/pflash4" "" \
	"DEV_GET dump
DEV_NEW backing_fd=rw:$tmp/a.fd cache_mode=1 writeback_interval=2000 uuid=$u1
DEV_NEW index=9 size=65536 erase_size=16384
DEV_NEW index=4 read_only=1 backing_fd=ro:$tmp/b.fd uuid=$u2" -t "$tab"

# The devices, as the kernel would describe them once created.
dev1="0:65536:512:4096:0:0:0:1:0:0:0:2000:$tmp/a.fd:$u1"
dev9="9:65536:512:16384:0:1:3:-:-:0:-:-:-:e2c1a0b4-6a0f-4f3e-9b8e-31d7c5a2f0d6"
dev4="4:131072:512:4096:1:0:0:-:-:0:-:-:$tmp/b.fd:$u2"
export PFLASH_FAKE_DEVS="$dev1 $dev9 $dev4"
applied "apply: again, nothing to do, nothing printed" 0 "" "" \
	"DEV_GET dump" -t "$tab"
applied "apply: --dry-run with nothing to do" 0 "" "" \
	"DEV_GET dump" --dry-run -t "$tab"
PFLASH_FAKE_DEVS="$dev9" applied "apply: only what is missing" 0 \
	"$tab:3: created /dev/pflash0
$tab:5: created /dev/pflash4" "" \
	"DEV_GET dump
DEV_NEW backing_fd=rw:$tmp/a.fd cache_mode=1 writeback_interval=2000 uuid=$u1
DEV_NEW index=4 read_only=1 backing_fd=ro:$tmp/b.fd uuid=$u2" -t "$tab"
PFLASH_FAKE_DEVS="$dev9" applied "apply: --dry-run says what it would create" 0 \
	"$tab:3: would create a device
$tab:5: would create /dev/pflash4" "" "DEV_GET dump" -n -t "$tab"

PFLASH_FAKE_DEVS="0:131072:512:4096:0:0:0:0:0:0:0:-:$tmp/b.fd:$u1 $dev9 5:131072:512:4096:1:0:0:-:-:0:-:-:$tmp/b.fd:$u2" \
	applied "apply: reports what differs, changes nothing" 1 "" \
	"pflashctl: apply: $tab:3: /dev/pflash0: differs from the table: backing file $tmp/b.fd, the table says $tmp/a.fd
pflashctl: apply: $tab:3: /dev/pflash0: differs from the table: cache mode writethrough, the table says writeback
pflashctl: apply: $tab:3: /dev/pflash0: differs from the table: size 131072, the table says 65536
pflashctl: apply: $tab:5: /dev/pflash5: differs from the table: index 5, the table says 4" \
	"DEV_GET dump" -t "$tab"

# Backing files by their inode, as the kernel reports it: the table's
# path, through a symbolic link, names the device's file; a path that
# names another file (the device's file was moved away) does not.
ida=$(stat -c '%d:%i' "$tmp/a.fd")
idb=$(stat -c '%d:%i' "$tmp/b.fd")
ln -s a.fd "$tmp/a.link"
sed "s|$tmp/a.fd|$tmp/a.link|" "$tab" >"$tab.link"
PFLASH_FAKE_DEVS="0:65536:512:4096:0:0:0:1:0:0:0:2000:$tmp/a.fd:$u1:$ida $dev9 $dev4" \
	applied "apply: the same backing file, by another path" 0 "" "" \
	"DEV_GET dump" -t "$tab.link"
PFLASH_FAKE_DEVS="0:65536:512:4096:0:0:0:1:0:0:0:2000:$tmp/moved.fd:$u1:$idb $dev9 $dev4" \
	applied "apply: a backing file the table's path no longer names" 1 "" \
	"pflashctl: apply: $tab:3: /dev/pflash0: differs from the table: backing file $tmp/moved.fd, the table says $tmp/a.fd" \
	"DEV_GET dump" -t "$tab"
rm "$tmp/a.link" "$tab.link"

applied "apply: --destroy, last line first" 0 \
	"$tab:5: destroyed /dev/pflash4
$tab:4: destroyed /dev/pflash9
$tab:3: destroyed /dev/pflash0" "" \
	"DEV_GET dump
DEV_DEL index=4
DEV_DEL index=9
DEV_DEL index=0" --destroy -t "$tab"
PFLASH_FAKE_DEVS="$dev9" applied "apply: --destroy, what is there" 0 \
	"$tab:4: destroyed /dev/pflash9" "" \
	"DEV_GET dump
DEV_DEL index=9" -d -t "$tab"
PFLASH_FAKE_DEVS="$dev9" applied "apply: --destroy --dry-run" 0 \
	"$tab:4: would destroy /dev/pflash9" "" "DEV_GET dump" -d -n -t "$tab"
PFLASH_FAKE_ERROR="28:0:0:writing back to the backing file failed; the device is kept with its dirty data" \
	PFLASH_FAKE_FAIL_AT=3 applied "apply: --destroy: a failed final writeback keeps the device, and fails" 1 \
	"$tab:5: destroyed /dev/pflash4
$tab:3: destroyed /dev/pflash0" \
	"pflashctl: apply: $tab:4: /dev/pflash9: writing back to the backing file failed; the device is kept with its dirty data: No space left on device" \
	"DEV_GET dump
DEV_DEL index=4
DEV_DEL index=9
DEV_DEL index=0" -d -t "$tab"
PFLASH_FAKE_DEVS="$dev9" PFLASH_FAKE_ERROR="16:0:0:the device is open; close it first" \
	PFLASH_FAKE_FAIL_AT=2 applied "apply: --destroy waits for a device to be closed" 0 \
	"$tab:4: destroyed /dev/pflash9" "" \
	"DEV_GET dump
DEV_DEL index=9
DEV_DEL index=9" -d -t "$tab"
unset PFLASH_FAKE_DEVS

PFLASH_FAKE_ERROR="17:0:0:a device with that index exists" PFLASH_FAKE_FAIL_AT=3 \
	applied "apply: a device that cannot be created fails, the others come up" 1 \
	"$tab:3: created /dev/pflash0
$tab:5: created /dev/pflash4" \
	"pflashctl: apply: $tab:4: a device with that index exists: File exists" \
	"DEV_GET dump
DEV_NEW backing_fd=rw:$tmp/a.fd cache_mode=1 writeback_interval=2000 uuid=$u1
DEV_NEW index=9 size=65536 erase_size=16384
DEV_NEW index=4 read_only=1 backing_fd=ro:$tmp/b.fd uuid=$u2" -t "$tab"

# Every kind of mistake in a line, each reported with its line; the lines
# that are right are applied all the same.
cat >"$tmp/bad" <<EOF
pflash1 - - size=64K
pflash01 - - size=64K
pflash1024 - - size=64K
2
3 relative
4 - writeback size=64K
5 $tmp/a.fd none
6 - - -
7 - bogus size=64K
8 - - size=64K,colour=red
9 - - size=64K,size=128K
10 - - size
11 - - size=1T
12 $tmp/a.fd writethrough writeback-interval=1s
13 $tmp/a.fd writeback writeback-interval=2h
14 - - size=64K,index=3
$u1 $tmp/a.fd - - extra
pflash1 - - size=64K
/dev/pflash15	-	-	size=64K,block-size=4K,read-only,inactive
EOF
applied "apply: every mistake in the table, with its line" 1 \
	"$tmp/bad:1: created /dev/pflash1
$tmp/bad:19: created /dev/pflash15" \
	"pflashctl: apply: $tmp/bad:2: invalid device 'pflash01' (expected a UUID, pflashN, /dev/pflashN or N, N up to 1023)
pflashctl: apply: $tmp/bad:3: invalid device 'pflash1024' (expected a UUID, pflashN, /dev/pflashN or N, N up to 1023)
pflashctl: apply: $tmp/bad:4: a device needs a backing file, or '-' for none
pflashctl: apply: $tmp/bad:5: the backing file must be an absolute path, or '-' for none: 'relative'
pflashctl: apply: $tmp/bad:6: cache mode 'writeback' needs a writable device with a backing file
pflashctl: apply: $tmp/bad:7: cache mode 'none' is for a device without a backing file, or read-only: give writethrough or writeback
pflashctl: apply: $tmp/bad:8: a device without a backing file needs option 'size'
pflashctl: apply: $tmp/bad:9: invalid cache mode 'bogus' (expected writethrough, writeback, none or -)
pflashctl: apply: $tmp/bad:10: unknown option 'colour'
pflashctl: apply: $tmp/bad:11: option 'size' given twice
pflashctl: apply: $tmp/bad:12: option 'size' needs a value
pflashctl: apply: $tmp/bad:13: invalid size '1T' for option 'size'
pflashctl: apply: $tmp/bad:14: option 'writeback-interval' needs cache mode writeback
pflashctl: apply: $tmp/bad:15: invalid duration '2h' for option 'writeback-interval' (at most 3600000ms)
pflashctl: apply: $tmp/bad:16: option 'index' is for a device named by its UUID
pflashctl: apply: $tmp/bad:17: unexpected field 'extra'
pflashctl: apply: $tmp/bad:18: names the device of line 1 again" \
	"DEV_GET dump
DEV_NEW index=1 size=65536
DEV_NEW index=15 size=65536 block_size=4096 read_only=1 state=1" -t "$tmp/bad"

applied "apply: a table that cannot be read" 1 "" \
	"pflashctl: apply: cannot open the table '$tmp/none': No such file or directory" \
	"" -t "$tmp/none"
t "apply: the module not loaded" 3 "" \
	"pflashctl: apply: the pflash module is not loaded (load it with: modprobe pflash)" \
	env PFLASH_FAKE_OPEN=2 "$fake" apply -t "$tab"
usage "apply: no argument" "pflashctl: apply: unexpected argument 'x'" \
	apply x
t "apply: the example table is valid, and all comments" 0 "" "" \
	"$fake" apply -n -t ../../systemd/pflashtab.example
sed -n 's/^#\([0-9a-f]\{8\}-\|pflash9 \)/\1/p' ../../systemd/pflashtab.example \
	>"$tmp/example"
t "apply: the example's lines, uncommented, are valid" 0 \
	"$tmp/example:1: would create a device
$tmp/example:2: would create a device
$tmp/example:3: would create /dev/pflash9" "" \
	"$fake" apply -n -t "$tmp/example"
