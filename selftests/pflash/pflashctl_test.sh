#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# pflashctl against the real module: create, list and destroy, the exit
# statuses and the kernel's messages, a backing file and its cache mode,
# flush, inactivate and activate with epochs, a move (export, inspect,
# import --activate) checked byte for byte, damaged streams refused with
# the device unchanged, and the events of monitor, in order.
#
# Runs as root with pflash loaded, as the VM's kselftest runner does; needs
# busybox and coreutils' timeout and dd.  Creates its own devices, and
# destroys them.

. "$(dirname "$0")/lib.sh"

PLAN=53
tmp=
devs=

# After a failed result (lib.sh's check NAME CONDITION), the status and
# output of the last command run.
on_failure() {
	echo "# status $rc; stdout, then stderr:"
	sed 's/^/# /' "$tmp/out" "$tmp/err"
}

# run COMMAND...: run it, its output in $tmp/out and $tmp/err, its status
# in $rc.
run() {
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

# new_dev CREATE_ARGS...: create a device with --show, to be destroyed at
# the end; its path in $dev, empty if it could not be created.
new_dev() {
	run pflashctl create --show "$@"
	dev=$(cat "$tmp/out")
	[ "$rc" = 0 ] && devs="$devs $dev"
}

# field DEV COLUMN: the value of a column of list, in bytes.
field() {
	pflashctl list -rnb -o "$2" "$1"
}

# err_is TEXT: the last command failed with exit status 1 and said TEXT,
# and only that, on stderr.
err_is() {
	[ "$rc" = 1 ] && [ "$(cat "$tmp/err")" = "$1" ]
}

# wait_for FILE PATTERN: wait until a line of FILE matches, for as long as
# the monitor, $mon, that writes FILE runs (the test's time limit is the
# guard against a hang, not a count of tries); fails if it ended first.
wait_for() {
	until grep -q "$2" "$1"; do
		kill -0 "$mon" 2>/dev/null || grep -q "$2" "$1" || return 1
		sleep 0.1
	done
}

# flip FILE OFFSET: change the byte at OFFSET.
flip() {
	byte=$(dd if="$1" bs=1 skip="$2" count=1 2>/dev/null | od -An -tu1)
	printf "\\$(printf %o $(((byte + 1) % 256)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

cleanup() {
	[ -n "$mon" ] && kill "$mon" 2>/dev/null
	for d in $devs; do
		[ -e "$d" ] && pflashctl destroy --force "$d"
	done
	rm -rf "$tmp"
}

need_root
pflashctl list >/dev/null 2>&1 ||
	skip "pflashctl cannot list devices: is pflash loaded?"
tmp=$(mktemp -d /tmp/pflashctl-test.XXXXXX) || exit 1
trap cleanup EXIT
: >"$tmp/out"
: >"$tmp/err"
rc=0

echo "TAP version 13"
echo "1..$PLAN"

# --- create, list, destroy ---------------------------------------------------
new_dev --size 64K
check "create --show prints the new device's path" \
	'echo "$dev" | grep -qx "/dev/pflash[0-9]*" && [ -b "$dev" ]'
run pflashctl list
check "list shows it" 'grep -q "^$dev " "$tmp/out"'
run pflashctl list --json "$dev"
check "list --json shows it" 'grep -q "\"name\": \"$dev\"" "$tmp/out"'
run pflashctl list -rnb -o SIZE,RO,STATE,EPOCH,BLOCK-SIZE,ERASE-SIZE "$dev"
check "list: a new device is active, at epoch 0" \
	'[ "$(cat "$tmp/out")" = "65536 0 active 0 512 4096" ]'
run pflashctl destroy "$dev"
check "destroy removes it" '[ "$rc" = 0 ] && [ ! -e "$dev" ]'
run pflashctl list "$dev"
check "list of a destroyed device: exit 1 and the kernel's message" \
	'err_is "pflashctl: list: $dev: no such device (attribute index): No such device"'

# --- exit statuses -----------------------------------------------------------
run pflashctl create
check "a usage error: exit 2" \
	'[ "$rc" = 2 ] && grep -q "size is required" "$tmp/err"'
run pflashctl destroy /dev/sda
check "an invalid device: exit 2" '[ "$rc" = 2 ]'
run pflashctl create --size 1000
check "a size refused by the kernel: exit 1 and its message" \
	'err_is "pflashctl: create: size must be a whole number of erase blocks, from one erase block to 1 GiB (attribute size): Invalid argument"'
run pflashctl create --size 64K --block-size 1024
check "a block size refused by the kernel: exit 1 and its message" \
	'err_is "pflashctl: create: logical block size must be 512 or 4096 (attribute block_size): Invalid argument"'
run pflashctl create --size 64K --cache writeback
check "a cache mode without a backing file: exit 1 and its message" \
	'err_is "pflashctl: create: a cache mode needs a writable device with a backing file (attribute cache_mode): Invalid argument"'

# --- a backing file, flush ---------------------------------------------------
back=$tmp/vars.fd
head -c 131072 /dev/urandom >"$back"
head -c 4096 /dev/urandom >"$tmp/pattern"
new_dev --backing "$back" --cache writeback --writeback-interval 0
B=$dev
check "create --backing, no --size: the file's size" \
	'[ "$rc" = 0 ] && [ "$(field "$B" SIZE)" = 131072 ]'
run pflashctl list -rn -o BACKING,CACHE,WB-INTERVAL,DIRTY "$B"
check "list: BACKING, CACHE, WB-INTERVAL, DIRTY" \
	'[ "$(cat "$tmp/out")" = "$back writeback 0 0B" ]'
check "the device holds the file's contents" 'cmp -s "$back" "$B"'
dd if="$tmp/pattern" of="$B" bs=4096 seek=3 oflag=direct 2>/dev/null
check "a write in writeback mode stays dirty" \
	'[ "$(field "$B" DIRTY)" -gt 0 ] && ! cmp -s "$back" "$B"'
run pflashctl flush "$B"
check "flush writes it back" \
	'[ "$rc" = 0 ] && [ "$(field "$B" DIRTY)" = 0 ] && cmp -s "$back" "$B"'
run pflashctl flush --full "$B"
check "flush --full" '[ "$rc" = 0 ] && cmp -s "$back" "$B"'

# --- inactivate, activate, epochs --------------------------------------------
run pflashctl inactivate "$B"
check "inactivate" '[ "$rc" = 0 ] && [ "$(field "$B" STATE)" = inactive ]'
run pflashctl flush --full "$B"
check "flush --full of an inactive device: the kernel's message" \
	'err_is "pflashctl: flush: $B: the device is inactive and does not own its backing file; activate it first: Read-only file system"'
run pflashctl activate --epoch 5 "$B"
check "activate --epoch 5" \
	'[ "$rc" = 0 ] && [ "$(field "$B" STATE,EPOCH)" = "active 5" ]'
pflashctl inactivate "$B"
run pflashctl activate --epoch 3 "$B"
check "a stale epoch is refused, with the kernel's message" \
	'err_is "pflashctl: activate: $B: stale epoch: it must be greater than the device'"'"'s (attribute epoch): Stale file handle"'
check "... and the device stays inactive" \
	'[ "$(field "$B" STATE,EPOCH)" = "inactive 5" ]'
run pflashctl activate "$B"
check "activate: one more epoch" \
	'[ "$rc" = 0 ] && [ "$(field "$B" STATE,EPOCH)" = "active 6" ]'

# --- a move: export, inspect, import --activate ------------------------------
S=$B
dd if=/dev/urandom of="$S" bs=65536 count=2 oflag=direct 2>/dev/null
pflashctl inactivate "$S"
run pflashctl export "$S" -o "$tmp/s.pfs"
check "export of an inactive device: no warning" \
	'[ "$rc" = 0 ] && [ -s "$tmp/s.pfs" ] && [ ! -s "$tmp/err" ]'
run pflashctl inspect "$tmp/s.pfs"
check "inspect: the stream is valid and final, at the device's epoch" \
	'[ "$rc" = 0 ] && grep -qx "final: *yes" "$tmp/out" &&
	 grep -qx "epoch: *6" "$tmp/out" && grep -qx "size: *131072" "$tmp/out"'
run pflashctl inspect --json - <"$tmp/s.pfs"
check "inspect --json" '[ "$rc" = 0 ] && grep -q "\"final\": true" "$tmp/out"'
tback=$tmp/target.fd
head -c 131072 /dev/zero >"$tback"
new_dev --backing "$tback" --inactive
T=$dev
check "create --inactive: the incoming side" \
	'[ "$(field "$T" STATE)" = inactive ]'
run sh -c "pflashctl export '$S' | pflashctl import '$T' --activate"
check "export | import --activate" '[ "$rc" = 0 ] && [ ! -s "$tmp/err" ]'
check "the target holds the source's contents" 'cmp -s "$S" "$T"'
check "the target's backing file got the full flush" 'cmp -s "$S" "$tback"'
check "the target is active at the next epoch, owing nothing" \
	'[ "$(field "$T" STATE,EPOCH,FLUSH-PENDING)" = "active 7 0" ]'
run pflashctl export "$T" -o "$tmp/snap.pfs"
check "export of an active device: a warning" \
	'[ "$rc" = 0 ] && grep -q "warning: the device was active" "$tmp/err"'

# --- a live move: export --live, into a file and through a pipe -------------
# A writer changes the source while the passes run, and logs each of its
# writes, ok or refused; -J says what the passes did.
start_writer() {
	rm -f "$tmp/live-stop"
	: >"$tmp/live-writes"
	( while [ ! -e "$tmp/live-stop" ]; do
		# od pads the number: $((...)) strips it (unquoted, the
		# padding split seek= from it, and no write was ever made).
		if dd if=/dev/urandom of="$L" bs=4096 count=1 \
			seek=$(($(od -An -N1 -tu1 /dev/urandom))) oflag=direct \
			conv=notrunc 2>/dev/null; then
			echo ok
		else
			echo refused
		fi >>"$tmp/live-writes"
	  done ) &
	writer=$!
}

stop_writer() {
	touch "$tmp/live-stop"
	wait "$writer"
}

# gate: standard input to standard output, but once the stream has begun
# (its first byte), only after the writer has made two more writes, the
# count before them in $tmp/live-mark.  Pass 0, a megabyte, cannot end
# meanwhile, so the source is active for both, and the second began after
# pass 0 did: the passes after pass 0 must carry it.
gate() {
	dd bs=1 count=1 2>/dev/null
	mark=$(wc -l <"$tmp/live-writes")
	until [ "$(wc -l <"$tmp/live-writes")" -ge $((mark + 2)) ]; do
		sleep 0.1
	done
	echo "$mark" >"$tmp/live-mark"
	cat
}

lback=$tmp/live-source.fd
head -c 1048576 /dev/urandom >"$lback"
new_dev --backing "$lback" --cache writeback
L=$dev
start_writer
# --force: the final inactivation may happen under the writer,
# whose dd holds the device open for writing.
run pflashctl export --live --force -J "$L" -o "$tmp/live.pfs"
stop_writer
check "export --live -o: into a file, complete, the source inactive" \
	'[ "$rc" = 0 ] && grep -q "\"complete\": true" "$tmp/err" &&
	 grep -q "\"inactivated\": true" "$tmp/err" &&
	 [ "$(field "$L" STATE)" = inactive ]'
run pflashctl inspect "$tmp/live.pfs"
check "inspect: the file holds one live stream, final, in passes" \
	'[ "$rc" = 0 ] && grep -qx "live: *yes" "$tmp/out" &&
	 grep -qx "final: *yes" "$tmp/out" &&
	 grep -q "^passes: *pass 0, final no, .*final yes," "$tmp/out"'
lt=$tmp/live-target.fd
head -c 1048576 /dev/zero >"$lt"
new_dev --backing "$lt" --inactive --cache writeback
LT=$dev
run pflashctl import "$LT" -i "$tmp/live.pfs" --activate
check "import --activate of the live stream: the source's contents" \
	'[ "$rc" = 0 ] && cmp -s "$L" "$LT" && cmp -s "$L" "$lt" &&
	 cmp -s "$L" "$lback"'
pflashctl activate "$L"
pflashctl inactivate "$LT"
: >"$tmp/err"
start_writer
pflashctl export --live --force "$L" 2>>"$tmp/err" | gate |
	pflashctl import "$LT" --activate >"$tmp/out" 2>>"$tmp/err"
rc=$?
stop_writer
mark=$(cat "$tmp/live-mark")
check "export --live | import --activate: the per-pass lines, once" \
	'[ "$rc" = 0 ] && grep -q "^pflashctl: export: $L: pass 0: " "$tmp/err" &&
	 [ "$(grep -c "final pass" "$tmp/err")" = 1 ] && cmp -s "$L" "$LT" &&
	 cmp -s "$L" "$lt"'
check "export --live: the writer wrote during pass 0, and was not refused" \
	'[ "$(sed -n "$((mark + 1)),$((mark + 2))p" "$tmp/live-writes" | tr -d "\n")" = okok ]'
# Data larger than the pipe, which pflashctl widens to 1 MiB: pass 0
# cannot fit in it, and meets the reader's going away while the device
# is active.
new_dev --size 4M
GONE=$dev
dd if=/dev/urandom of="$GONE" bs=1M count=4 oflag=direct status=none
{ pflashctl export --live "$GONE" 2>"$tmp/err"; echo $? >"$tmp/rc"; } |
	head -c 100 >/dev/null
check "export --live: a reader that goes away: a message, not SIGPIPE" \
	'[ "$(cat "$tmp/rc")" = 1 ] &&
	 grep -q "the stream'"'"'s reader went away (broken pipe)" "$tmp/err" &&
	 grep -q "the device is still active, and unchanged" "$tmp/err" &&
	 [ "$(field "$GONE" STATE)" = active ]'
run sh -c "pflashctl export --live '$LT' >/dev/full"
check "export --live: a pass that fails leaves the device active" \
	'[ "$rc" = 1 ] &&
	 grep -q "the device is still active, and unchanged: the move can start again" "$tmp/err" &&
	 [ "$(field "$LT" STATE)" = active ]'

# --- streams the import refuses ----------------------------------------------
head -c 131072 /dev/zero | tr '\000' '\377' >"$tmp/erased"
new_dev --size 128K --inactive
U=$dev
cp "$tmp/s.pfs" "$tmp/bad.pfs"
flip "$tmp/bad.pfs" 5000
run pflashctl import "$U" -i "$tmp/bad.pfs"
check "a damaged stream is refused, with its offset" \
	'err_is "pflashctl: import: $U: invalid stream at offset 80: the data record'"'"'s checksum does not match: the stream is damaged (the device is unchanged)"'
check "... and the device is unchanged" 'cmp -s "$tmp/erased" "$U"'
run sh -c "head -c 70000 '$tmp/s.pfs' | pflashctl import '$U'"
check "a truncated stream is refused, the device unchanged" \
	'[ "$rc" = 1 ] && grep -q "the stream is truncated" "$tmp/err" &&
	 cmp -s "$tmp/erased" "$U"'
new_dev --size 64K --inactive
run pflashctl import "$dev" -i "$tmp/s.pfs"
check "a stream of another geometry: the kernel's message" \
	'err_is "pflashctl: import: $dev: the stream'"'"'s geometry (size, block size or erase size) is not the device'"'"'s: Invalid argument"'
run pflashctl import "$T" -i "$tmp/s.pfs"
check "an import into an active device: the kernel's message" \
	'err_is "pflashctl: import: $T: the device is active: inactivate it before importing: Device or resource busy"'
pflashctl inactivate "$T"
run pflashctl import "$T" -i "$tmp/s.pfs"
check "a stale stream: the kernel's message" \
	'err_is "pflashctl: import: $T: the stream is stale: its epoch is lower than the device'"'"'s: Stale file handle"'

# --- monitor -----------------------------------------------------------------
pflashctl monitor --json --now >"$tmp/events" 2>"$tmp/monitor.err" &
mon=$!
check "monitor --now: the devices, then exists -" \
	'wait_for "$tmp/events" "^{\"event\":\"exists\",\"name\":null}$"'
check "monitor --now: an exists line per device" \
	'grep -q "^{\"event\":\"exists\",\"name\":\"${T#/dev/}\",\"state\":\"inactive\",\"epoch\":7," "$tmp/events"'
mback=$tmp/monitored.fd
head -c 65536 /dev/urandom >"$mback"
new_dev --backing "$mback"
M=$dev
{
	pflashctl inactivate "$M"
	pflashctl activate "$M"
	pflashctl flush "$M"
	pflashctl inactivate "$M"
	pflashctl export "$M" -o "$tmp/m.pfs"
	pflashctl import "$M" -i "$tmp/m.pfs"
	pflashctl destroy "$M"
} >"$tmp/steps" 2>&1
name=${M#/dev/}
wait_for "$tmp/events" "^{\"event\":\"destroy\",\"name\":\"$name\""
kill "$mon"
wait "$mon" 2>/dev/null
mon=
cp "$tmp/events" "$tmp/out"
cat "$tmp/steps" "$tmp/monitor.err" >"$tmp/err"
events=$(grep "\"name\":\"$name\"" "$tmp/events" |
	 sed 's/^{"event":"\([a-z]*\)".*/\1/' | tr '\n' ' ')
check "monitor --json: the events of a device, in order" \
	'[ "$events" = "create inactivate activate flush inactivate import destroy " ]'
check "monitor --json: create says the state and the backing file" \
	'grep -qx "{\"event\":\"create\",\"name\":\"$name\",\"state\":\"active\",\"epoch\":0,\"flush-pending\":false,\"dirty\":0,\"backing\":\"$mback\"}" "$tmp/events"'
check "monitor --json: flush says full and result" \
	'grep -qx "{\"event\":\"flush\",\"name\":\"$name\",.*,\"full\":false,\"result\":\"ok\"}" "$tmp/events"'
check "monitor --json: import leaves a full flush owed" \
	'grep -q "^{\"event\":\"import\",\"name\":\"$name\",\"state\":\"inactive\",\"epoch\":1,\"flush-pending\":true," "$tmp/events"'
check "monitor: no error, and none in the steps it saw" \
	'[ ! -s "$tmp/err" ]'
pflashctl monitor --now >"$tmp/out" 2>"$tmp/err" &
mon=$!
wait_for "$tmp/out" "^exists -$"
kill "$mon"
wait "$mon" 2>/dev/null
mon=
rc=0
check "monitor --now, as text" \
	'grep -qx "exists ${T#/dev/} state:inactive epoch:7 flush-pending:no dirty:0 backing:$tback" "$tmp/out" &&
	 [ "$(tail -n 1 "$tmp/out")" = "exists -" ]'

[ "$n" = "$PLAN" ] || echo "# planned $PLAN results, gave $n"
exit $failed
