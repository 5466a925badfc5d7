#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host tests of pflashctl, which need no pflash module:
#  - tests/nl_test and tests/stream_test, the libraries' own tests;
#  - the command line of pflashctl linked with the fake kernel of
#    tests/fake_nl.c (tests/pflashctl-fake);
#  - the real pflashctl, where the host gives a real answer: the pflash
#    module is not available (the host cannot load it).
#
# Prints TAP, then "N passed, N failed"; exits 1 if a test failed.
# With VALGRIND=1, every program runs under valgrind, and a memory error or
# leak fails its test.
#
# Run it through "make check", which builds what it runs.

cd "$(dirname "$0")/.." || exit 1

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# Both tools run as "pflashctl", as their messages name them.
mkdir "$tmp/real" "$tmp/fake"
ln -s "$PWD/pflashctl" "$tmp/real/pflashctl"
ln -s "$PWD/tests/pflashctl-fake" "$tmp/fake/pflashctl"
real=$tmp/real/pflashctl
fake=$tmp/fake/pflashctl

vg=()
if [ -n "$VALGRIND" ]; then
	vg=(valgrind -q --error-exitcode=99 --leak-check=full
	    --errors-for-leak-kinds=definite,indirect,possible)
	# The tools under valgrind wherever they run: through env, sh -c,
	# pipes and script(1) too.
	for tool in real fake; do
		mkdir "$tmp/vg-$tool"
		printf '#!/bin/sh\nexec %s %s "$@"\n' "${vg[*]}" \
			"$tmp/$tool/pflashctl" >"$tmp/vg-$tool/pflashctl"
		chmod +x "$tmp/vg-$tool/pflashctl"
	done
	real=$tmp/vg-real/pflashctl
	fake=$tmp/vg-fake/pflashctl
fi

passed=0
failed=0

# result OK NAME [DIAGNOSTIC...]: one TAP line.
result()
{
	local ok=$1 name=$2 line

	shift 2
	if [ "$ok" = 1 ]; then
		passed=$((passed + 1))
		echo "ok $((passed + failed)) - $name"
		return
	fi
	failed=$((failed + 1))
	echo "not ok $((passed + failed)) - $name"
	for line in "$@"; do
		printf '%s\n' "$line" | sed 's/^/# /'
	done
}

# t NAME STATUS STDOUT STDERR COMMAND...: run COMMAND, expect exactly this.
t()
{
	local name=$1 status=$2 stdout=$3 stderr=$4 out err rc

	shift 4
	out=$("$@" 2>"$tmp/stderr")
	rc=$?
	err=$(cat "$tmp/stderr")
	if [ "$rc" = "$status" ] && [ "$out" = "$stdout" ] &&
	   [ "$err" = "$stderr" ]; then
		result 1 "$name"
	else
		result 0 "$name" "command: $*" "status: $rc, expected $status" \
			"stdout:" "$out" "expected:" "$stdout" \
			"stderr:" "$err" "expected:" "$stderr"
	fi
}

# sent NAME LOG COMMAND...: COMMAND succeeds, silently, and sends the
# requests LOG (one a line, as tests/fake_nl.c logs them).
sent()
{
	local name=$1 log=$2

	shift 2
	rm -f "$tmp/log"
	t "$name" 0 "" "" env PFLASH_FAKE_LOG="$tmp/log" "$@"
	[ "$(cat "$tmp/log" 2>/dev/null)" = "$log" ] ||
		result 0 "$name: requests" "sent:" "$(cat "$tmp/log")" \
			"expected:" "$log"
}

# usage NAME STDERR COMMAND...: COMMAND is a usage error of "pflashctl
# CMD", CMD its first argument, and sends nothing.
usage()
{
	local name=$1 stderr=$2

	shift 2
	rm -f "$tmp/log"
	t "$name" 2 "" "$stderr
Try 'pflashctl $1 --help' for more information." \
		env PFLASH_FAKE_LOG="$tmp/log" "$fake" "$@"
	[ ! -e "$tmp/log" ] || result 0 "$name: sent nothing"
}

# help NAME COMMAND...: COMMAND prints help that starts with USAGE.
help()
{
	local name=$1 out rc

	shift
	out=$("$@" 2>"$tmp/stderr")
	rc=$?
	if [ "$rc" = 0 ] && [ "${out%%$'\n'*}" = "Usage:" ] &&
	   [ ! -s "$tmp/stderr" ]; then
		result 1 "$name"
	else
		result 0 "$name" "status $rc" "$out" "$(cat "$tmp/stderr")"
	fi
}

# The libraries: each C test program's TAP results count as ours.
for prog in nl_test stream_test; do
	"${vg[@]}" "tests/$prog" >"$tmp/$prog" 2>&1
	rc=$?
	while read -r line; do
		case $line in
		"ok "*" - "*)		result 1 "$prog: ${line#* - }" ;;
		"not ok "*" - "*)	result 0 "$prog: ${line#* - }" ;;
		"# "*)			echo "$line" ;;
		esac
	done <"$tmp/$prog"
	grep -q "^not ok" "$tmp/$prog" || [ "$rc" = 0 ] ||
		result 0 "$prog: exit status $rc" "$(cat "$tmp/$prog")"
done

# Help, version.
help "--help" "$fake" --help
help "-h" "$fake" -h
for cmd in create destroy list flush inactivate activate export import \
	   inspect monitor; do
	help "$cmd --help" "$fake" $cmd --help
	help "$cmd -h" "$fake" $cmd -h
done
t "--version" 0 "pflashctl $(sed -n 's/^VERSION[[:space:]]*:= //p' Makefile)" \
	"" "$fake" --version
t "help goes to a failing stdout: write error" 1 "" \
	"pflashctl: write error" sh -c "$fake --help >/dev/full"

# Usage errors of the tool.
t "no command" 2 "" "pflashctl: no command given
Try 'pflashctl --help' for more information." "$fake"
t "unknown command" 2 "" "pflashctl: unknown command 'frob'
Try 'pflashctl --help' for more information." "$fake" frob
t "unknown option" 2 "" "pflashctl: unrecognized option '--frob'
Try 'pflashctl --help' for more information." "$fake" --frob

# create
sent "create: --size" "DEV_NEW size=1048576" "$fake" create --size 1048576
sent "create: every option" \
	"DEV_NEW index=3 size=540672 block_size=4096 erase_size=262144 read_only=1" \
	"$fake" create --index 3 -s 528K --block-size 4096 --erase-size 256K \
	--read-only
sent "create: -r" "DEV_NEW size=4096 read_only=1" "$fake" create -s 4K -r
t "create --show prints the path" 0 "/dev/pflash5" "" \
	"$fake" create --size 1M --index 5 --show
for size in 0:0 65536:65536 4K:4096 4k:4096 4KiB:4096 4kiB:4096 \
	    3M:3145728 3MiB:3145728 1G:1073741824 1g:1073741824 \
	    1GiB:1073741824 18446744073709551615:18446744073709551615 \
	    17179869183G:18446744072635809792; do
	sent "create: --size ${size%%:*}" "DEV_NEW size=${size#*:}" \
		"$fake" create --size "${size%%:*}"
done
for size in 1.5M abc 1KB 1T 1Ki 1kib 0x10 " 1" "1 " +1 ""; do
	usage "create: --size '$size' is junk" \
		"pflashctl: create: --size: invalid size: '$size'" \
		create --size "$size"
done
usage "create: negative --size" \
	"pflashctl: create: --size: size must not be negative: '-1'" \
	create --size -1
for size in 18446744073709551616 17179869184G 99999999999999999999999; do
	usage "create: --size $size overflows" \
		"pflashctl: create: --size: size too large: '$size'" \
		create --size "$size"
done
usage "create: --block-size above 32 bits" \
	"pflashctl: create: --block-size: size too large: '4G'" \
	create --size 1M --block-size 4G
usage "create: --erase-size above 32 bits" \
	"pflashctl: create: --erase-size: size too large: '4294967296'" \
	create --size 1M --erase-size 4294967296
usage "create: --index takes no suffix" \
	"pflashctl: create: --index: invalid number: '1K'" \
	create --size 1M --index 1K
usage "create: --index above 32 bits" \
	"pflashctl: create: --index: number too large: '4294967296'" \
	create --size 1M --index 4294967296
usage "create: --size is required" \
	"pflashctl: create: --size is required without --backing" \
	create --index 1
usage "create: no arguments" \
	"pflashctl: create: unexpected argument 'pflash0'" \
	create --size 1M pflash0
usage "create: unknown option" \
	"pflashctl: create: unrecognized option '--frob'" create --frob
usage "create: --size needs a value" \
	"pflashctl: create: option '--size' requires an argument" \
	create --size

# How failures are reported.
export PFLASH_FAKE_DEVS="0:540672:512:4096:0 1:1073741824:4096:262144:1 7:131072:512:4096:0"
fail()
{
	local name=$1 error=$2 stderr=$3

	t "create fails: $name" 1 "" "pflashctl: create: $stderr" \
		env PFLASH_FAKE_ERROR="$error" "$fake" create --size 1M --show
}
fail "message and attribute" "22:3:0:must be 512 or 4096" \
	"must be 512 or 4096 (attribute block_size): Invalid argument"
fail "message only" "16:0:0:device busy" \
	"device busy: Device or resource busy"
fail "attribute only" "34:2:0:" \
	"invalid attribute size: Numerical result out of range"
fail "unknown attribute" "22:99:0:" "invalid attribute 99: Invalid argument"
fail "missing attribute" "22:0:2:" "missing attribute size: Invalid argument"
fail "missing attribute, with message" "22:0:2:need a size" \
	"need a size (missing attribute size): Invalid argument"
fail "errno only" "12:0:0:" "Cannot allocate memory"
fail "EPERM" "1:0:0:" \
	"Operation not permitted (CAP_NET_ADMIN is needed: run as root)"
t "create succeeds with a warning" 0 "/dev/pflash0" \
	"pflashctl: create: warning: rounded up" \
	env PFLASH_FAKE_WARNING="rounded up" "$fake" create --size 1M --show
t "cannot open the family" 1 "" \
	"pflashctl: list: cannot open the pflash netlink family: Permission denied" \
	env PFLASH_FAKE_OPEN=13 "$fake" list
t "no family: the module is not available" 3 "" \
	"pflashctl: list: the pflash module is not available: the kernel could not load it (is it installed? modprobe pflash says why)" \
	env PFLASH_FAKE_OPEN=2 "$fake" list

# destroy
sent "destroy: every form of device" \
	"DEV_DEL index=0
DEV_DEL index=1
DEV_DEL index=7" "$fake" destroy pflash0 /dev/pflash1 7
t "destroy: goes on past a failure" 1 "" \
	"pflashctl: destroy: /dev/pflash5: no such device (attribute index): No such device" \
	"$fake" destroy 5 0
usage "destroy: no device" "pflashctl: destroy: no device given" destroy
for dev in pflash /dev/pflash pflash-1 pflash01 00 /dev/pflashx loop0 \
	   /dev/loop0 dev/pflash0 4294967296 pflash4294967296 " 1" ""; do
	usage "destroy: invalid device '$dev'" \
		"pflashctl: destroy: invalid device '$dev' (expected pflashN, /dev/pflashN or N)" \
		destroy 0 "$dev"
done
sent "destroy: device 4294967295" "DEV_DEL index=4294967295" \
	env PFLASH_FAKE_DEVS=4294967295:4096:512:4096:0 "$fake" destroy \
	pflash4294967295

# list
t "list: the default columns" 0 \
"NAME          SIZE RO STATE EPOCH CACHE DIRTY BACKING
/dev/pflash0  528K  0                         
/dev/pflash1    1G  1                         
/dev/pflash7  128K  0                         " "" "$fake" list
t "list --raw --noheadings" 0 \
"/dev/pflash0 528K 512 4096 0
/dev/pflash1 1G 4096 262144 1
/dev/pflash7 128K 512 4096 0" "" \
	"$fake" list -r -n -o NAME,SIZE,BLOCK-SIZE,ERASE-SIZE,RO
t "list --bytes" 0 \
"NAME               SIZE
/dev/pflash0     540672
/dev/pflash1 1073741824
/dev/pflash7     131072" "" "$fake" list --bytes -o NAME,SIZE
t "list --output" 0 \
"NAME RO SIZE
/dev/pflash0 0 528K
/dev/pflash1 1 1G
/dev/pflash7 0 128K" "" "$fake" list -r -o name,RO,Size
t "list --output +" 0 \
"NAME SIZE RO STATE EPOCH CACHE DIRTY BACKING BLOCK-SIZE
/dev/pflash0 528K 0      512" "" "$fake" list -r -o +BLOCK-SIZE 0
t "list DEV..." 0 \
"NAME          SIZE
/dev/pflash7  128K
/dev/pflash0  528K" "" "$fake" list -o NAME,SIZE pflash7 0
t "list DEV...: the ones found" 1 \
"NAME         SIZE
/dev/pflash1   1G" \
	"pflashctl: list: /dev/pflash3: no such device (attribute index): No such device" \
	"$fake" list -o NAME,SIZE 3 1
t "list DEV...: none found" 1 "" \
	"pflashctl: list: /dev/pflash3: no such device (attribute index): No such device" \
	"$fake" list 3
t "list: a failed dump prints nothing" 1 "" \
	"pflashctl: list: Cannot allocate memory" \
	env PFLASH_FAKE_ERROR=12:0:0: "$fake" list
t "list: no devices" 0 "" "" env PFLASH_FAKE_DEVS= "$fake" list
t "list --json" 0 \
'{
   "pflashdevices": [
      {
         "name": "/dev/pflash1",
         "size": "1G",
         "block-size": 4096,
         "erase-size": 262144,
         "ro": true
      }
   ]
}' "" "$fake" list --json -o NAME,SIZE,BLOCK-SIZE,ERASE-SIZE,RO 1
t "list --json --bytes" 0 \
'{
   "pflashdevices": [
      {
         "name": "/dev/pflash0",
         "size": 540672,
         "ro": false
      }
   ]
}' "" "$fake" list -J -b -o NAME,SIZE,RO 0
t "list --json: attributes the kernel did not send" 0 \
'{
   "pflashdevices": [
      {
         "name": "/dev/pflash9",
         "size": null,
         "erase-size": null
      }
   ]
}' "" env PFLASH_FAKE_DEVS=9:-:-:-:- "$fake" list -J -o NAME,SIZE,ERASE-SIZE
sizes="0 1 1023 1024 1536 1075 1076 1048575 1048576 1572864 1073741824
1610612736 1099511627776 18446744073709551615"
devs=
i=0
for size in $sizes; do
	devs="$devs $i:$size:512:4096:0"
	i=$((i + 1))
done
t "list: human-readable sizes" 0 \
"0B 1B 1023B 1K 1.5K 1K 1.1K 1024K 1M 1.5M 1G 1.5G 1T 16E" "" \
	sh -c "PFLASH_FAKE_DEVS='$devs' $fake list -rn -o SIZE | paste -sd ' '"
columns="NAME, SIZE, RO, STATE, EPOCH, CACHE, DIRTY, BACKING, BLOCK-SIZE, ERASE-SIZE, FLUSH-PENDING, WB-ERROR, WB-INTERVAL, UUID"
usage "list: unknown column" \
	"pflashctl: list: unknown column 'FOO' (available: $columns)" \
	list -o NAME,FOO
usage "list: empty column" \
	"pflashctl: list: unknown column '' (available: $columns)" \
	list -o NAME,
usage "list: too many columns" "pflashctl: list: too many columns" \
	list -o "$(printf 'NAME,%.0s' {1..32})NAME"
usage "list: --json and --raw" \
	"pflashctl: list: --json and --raw are mutually exclusive" list -J -r
usage "list: invalid device" \
	"pflashctl: list: invalid device 'sda' (expected pflashN, /dev/pflashN or N)" \
	list sda

# Devices with every attribute: 0 in writeback mode with a backing file,
# 1 read-only and inactive, 7 owing a full flush after a failed writeback,
# with a tab in its backing file's path.
export PFLASH_FAKE_DEVS="0:540672:512:4096:0:0:3:1:8192:0:0:5000:/var/lib/vm/vars.fd:01234567-89ab-cdef-0123-456789abcdef 1:1073741824:4096:262144:1:1:0 7:131072:512:4096:0:0:2:0:0:1:5:-:/srv/vm	7.fd"
t "list: the default columns of every kind of device" 0 \
"NAME          SIZE RO STATE    EPOCH CACHE        DIRTY BACKING
/dev/pflash0  528K  0 active       3 writeback       8K /var/lib/vm/vars.fd
/dev/pflash1    1G  1 inactive     0                    
/dev/pflash7  128K  0 active       2 writethrough    0B /srv/vm\\x097.fd" "" \
	"$fake" list
t "list: the other columns" 0 \
"NAME BLOCK-SIZE ERASE-SIZE FLUSH-PENDING WB-ERROR WB-INTERVAL UUID
/dev/pflash0 512 4096 0 ok 5000 01234567-89ab-cdef-0123-456789abcdef
/dev/pflash1 4096 262144    
/dev/pflash7 512 4096 1 EIO  " "" "$fake" list -r \
	-o NAME,BLOCK-SIZE,ERASE-SIZE,FLUSH-PENDING,WB-ERROR,WB-INTERVAL,UUID
t "list --json: every column, null where absent" 0 \
'{
   "pflashdevices": [
      {
         "name": "/dev/pflash1",
         "size": 1073741824,
         "ro": true,
         "state": "inactive",
         "epoch": 0,
         "cache": null,
         "dirty": null,
         "backing": null,
         "block-size": 4096,
         "erase-size": 262144,
         "flush-pending": false,
         "wb-error": null,
         "wb-interval": null,
         "uuid": null
      },{
         "name": "/dev/pflash7",
         "size": 131072,
         "ro": false,
         "state": "active",
         "epoch": 2,
         "cache": "writethrough",
         "dirty": 0,
         "backing": "/srv/vm\t7.fd",
         "block-size": 512,
         "erase-size": 4096,
         "flush-pending": true,
         "wb-error": "EIO",
         "wb-interval": null,
         "uuid": null
      }
   ]
}' "" "$fake" list -J -b -o "+BLOCK-SIZE,ERASE-SIZE,FLUSH-PENDING,WB-ERROR,WB-INTERVAL,UUID" 1 7
t "list: values of a newer kernel" 0 \
"NAME STATE CACHE WB-ERROR
/dev/pflash2 7 9 4000" "" env PFLASH_FAKE_DEVS=2:4096:512:4096:0:7:0:9:0:0:4000 \
	"$fake" list -r -o NAME,STATE,CACHE,WB-ERROR

# create: the backing file and the ownership options
backing=$tmp/vars.fd
head -c 540672 /dev/zero >"$backing"
sent "create --backing: opened for reading and writing, no --size" \
	"DEV_NEW backing_fd=rw:$backing" "$fake" create --backing "$backing"
sent "create --backing --read-only: opened read-only" \
	"DEV_NEW size=4096 read_only=1 backing_fd=ro:$backing" \
	"$fake" create --backing "$backing" --read-only -s 4K
sent "create: every backing and ownership option" \
	"DEV_NEW index=2 backing_fd=rw:$backing cache_mode=1 writeback_interval=2000 state=1 uuid=01234567-89ab-cdef-0123-456789abcdef" \
	"$fake" create --index 2 --backing "$backing" --cache writeback \
	--writeback-interval 2s --inactive \
	--uuid 01234567-89AB-CDEF-0123-456789ABCDEF
sent "create --cache writethrough" "DEV_NEW size=4096 cache_mode=0" \
	"$fake" create -s 4K --cache writethrough
for ms in 0:0 250:250 250ms:250 3s:3000 4294967295:4294967295 \
	  4294967s:4294967000; do
	sent "create --writeback-interval ${ms%%:*}" \
		"DEV_NEW size=4096 writeback_interval=${ms#*:}" \
		"$fake" create -s 4K --writeback-interval "${ms%%:*}"
done
for ms in 1m 1.5s 1h sec 1ms5 "" s " 1" 1MS 1S 1K; do
	usage "create: --writeback-interval '$ms' is junk" \
		"pflashctl: create: --writeback-interval: invalid duration: '$ms'" \
		create -s 4K --writeback-interval "$ms"
done
for ms in 4294967296 4294968s; do
	usage "create: --writeback-interval $ms overflows" \
		"pflashctl: create: --writeback-interval: duration too large: '$ms'" \
		create -s 4K --writeback-interval "$ms"
done
usage "create: negative --writeback-interval" \
	"pflashctl: create: --writeback-interval: duration must not be negative: '-1'" \
	create -s 4K --writeback-interval -1
for mode in WriteBack write-through none ""; do
	usage "create: --cache '$mode'" \
		"pflashctl: create: --cache: invalid mode '$mode' (expected writethrough or writeback)" \
		create -s 4K --cache "$mode"
done
for uuid in 01234567 01234567-89ab-cdef-0123-456789abcdeg \
	    01234567-89ab-cdef-0123-456789abcdef0 ""; do
	usage "create: --uuid '$uuid'" \
		"pflashctl: create: --uuid: invalid UUID: '$uuid'" \
		create -s 4K --uuid "$uuid"
done
usage "create: --show and --json" \
	"pflashctl: create: --show and --json are mutually exclusive" \
	create -s 4K --show -J
rm -f "$tmp/log"
t "create --backing: a file that cannot be opened" 1 "" \
	"pflashctl: create: cannot open backing file '$tmp/none': No such file or directory" \
	env PFLASH_FAKE_LOG="$tmp/log" "$fake" create --backing "$tmp/none"
[ ! -e "$tmp/log" ] || result 0 "create --backing: a file that cannot be opened: sent nothing"
t "create --json prints the new device" 0 \
'{
   "pflashdevices": [
      {
         "name": "/dev/pflash4",
         "size": "528K",
         "ro": false,
         "state": "inactive",
         "epoch": 0,
         "cache": "writeback",
         "dirty": "0B",
         "backing": "'"$backing"'"
      }
   ]
}' "" "$fake" create --index 4 --backing "$backing" --cache writeback \
	--inactive -J

# destroy --force, flush, inactivate, activate
sent "destroy --force" "DEV_DEL index=0 force=1
DEV_DEL index=7 force=1" "$fake" destroy pflash0 --force -f pflash7
sent "flush" "FLUSH index=0
FLUSH index=7" "$fake" flush 0 7
sent "flush --full" "FLUSH index=0 flush_full=1" "$fake" flush --full 0
t "flush: the kernel's error, and on to the next device" 1 "" \
	"pflashctl: flush: /dev/pflash0: writing to the backing file failed; the data stays dirty: Input/output error" \
	env PFLASH_FAKE_FAIL_AT=1 \
	PFLASH_FAKE_ERROR="5:0:0:writing to the backing file failed; the data stays dirty" \
	"$fake" flush 0 7
sent "inactivate" "INACTIVATE index=0
INACTIVATE index=1" "$fake" inactivate 0 /dev/pflash1
sent "inactivate --force" "INACTIVATE index=0 force=1" \
	"$fake" inactivate -f 0
sent "activate" "ACTIVATE index=1" "$fake" activate pflash1
sent "activate --epoch" "ACTIVATE index=1 epoch=18446744073709551615" \
	"$fake" activate pflash1 --epoch 18446744073709551615
t "activate: a stale epoch, as the kernel says" 1 "" \
	"pflashctl: activate: /dev/pflash1: stale epoch: it must be greater than the device's (attribute epoch): Stale file handle" \
	env PFLASH_FAKE_ERROR="116:16:0:stale epoch: it must be greater than the device's" \
	"$fake" activate -e 2 1
for cmd in flush inactivate activate; do
	usage "$cmd: no device" "pflashctl: $cmd: no device given" $cmd
	usage "$cmd: invalid device" \
		"pflashctl: $cmd: invalid device 'x' (expected pflashN, /dev/pflashN or N)" \
		$cmd x
done
usage "activate: one device only" \
	"pflashctl: activate: unexpected argument 'pflash2'" activate 1 pflash2
usage "activate: --epoch takes no suffix" \
	"pflashctl: activate: --epoch: invalid number: '1K'" activate -e 1K 1
usage "activate: --epoch beyond 64 bits" \
	"pflashctl: activate: --epoch: number too large: '18446744073709551616'" \
	activate --epoch 18446744073709551616 1
usage "flush: --full takes no value" \
	"pflashctl: flush: option '--full' doesn't allow an argument" \
	flush --full=1 0

# Streams, as the kernel exports them (tests/mkstream): a 128K device of
# data, zero and erased blocks, 106816 bytes of stream in two import pieces.
img=$tmp/img
{
	head -c 8192 /dev/urandom
	head -c 4096 /dev/zero
	head -c 20480 /dev/zero | tr '\0' '\377'
	head -c 98304 /dev/urandom
} >"$img"
final=$tmp/final.pfs
snap=$tmp/snap.pfs
tests/mkstream -E 5 -f "$img" >"$final"
tests/mkstream -E 5 "$img" >"$snap"
# A 64K device whose stream is exactly one whole import piece, 61440
# bytes: 11 extents (6 DATA of 119 blocks in all, 5 ERASED) of 32 bytes
# each, and 160 bytes of header and end.
{
	for erased in 1 1 1 1 5; do
		head -c $((20 * 512)) /dev/urandom
		head -c $((erased * 512)) /dev/zero | tr '\0' '\377'
	done
	head -c $((19 * 512)) /dev/urandom
} >"$tmp/img64"
one=$tmp/one.pfs
tests/mkstream -f "$tmp/img64" >"$one"
# Damage: a flipped bit in the second DATA record, at stream offset 8368.
# The byte is random data: flip a bit of it, not write one that it might
# already be.
bad=$tmp/bad.pfs
cp "$final" "$bad"
byte=$(od -An -tu1 -j70000 -N1 "$bad")
printf "\\$(printf %o $((byte ^ 1)))" |
	dd of="$bad" bs=1 seek=70000 conv=notrunc status=none
printf 'junk' >"$tmp/junk"

# lstmp DIR: the files in DIR but the ones the tests put there.
lstmp()
{
	ls -A "$1" | grep -v -e '^log$' -e '^stderr$'
}

# inspect
t "inspect: a valid stream" 0 \
"version:       1.2
read-only:     no
inactive:      yes
live:          no
size:          131072
block-size:    512
erase-size:    4096
epoch:         5
uuid:          6d6b7374-7265-616d-0000-000000000000
records:       header 1, data 3, erased 1, zero 1, end 1, pass 0, skipped 0
data-bytes:    106496
erased-bytes:  20480
zero-bytes:    4096
stream-bytes:  106824
final:         yes" "" "$fake" inspect "$final"
t "inspect --json, from standard input" 0 \
'{
  "version": "1.2",
  "read-only": false,
  "inactive": false,
  "live": false,
  "size": 131072,
  "block-size": 512,
  "erase-size": 4096,
  "epoch": 5,
  "uuid": "6d6b7374-7265-616d-0000-000000000000",
  "records": {
    "header": 1,
    "data": 3,
    "erased": 1,
    "zero": 1,
    "end": 1,
    "pass": 0,
    "skipped": 0
  },
  "data-bytes": 106496,
  "erased-bytes": 20480,
  "zero-bytes": 4096,
  "stream-bytes": 106824,
  "final": false
}' "" sh -c "$fake inspect -J - <'$snap'"
t "inspect: a damaged stream" 1 "" \
	"pflashctl: inspect: $bad: invalid stream at offset 8368: the data record's checksum does not match: the stream is damaged" \
	"$fake" inspect "$bad"
t "inspect --json: a damaged stream prints no JSON" 1 "" \
	"pflashctl: inspect: standard input: invalid stream at offset 8368: the data record's checksum does not match: the stream is damaged" \
	sh -c "$fake inspect --json - <'$bad'"
t "inspect: a truncated stream" 1 "" \
	"pflashctl: inspect: standard input: invalid stream at offset 106736: the stream is truncated: it ends inside a record" \
	sh -c "head -c 106800 '$final' | $fake inspect -"
t "inspect: not a stream" 1 "" \
	"pflashctl: inspect: $tmp/junk: invalid stream at offset 0: the stream is truncated: it ends inside a record" \
	"$fake" inspect "$tmp/junk"
t "inspect: an empty file" 1 "" \
	"pflashctl: inspect: /dev/null: invalid stream at offset 0: the stream is empty" \
	"$fake" inspect /dev/null
t "inspect: a file that cannot be opened" 1 "" \
	"pflashctl: inspect: cannot open '$tmp/none': No such file or directory" \
	"$fake" inspect "$tmp/none"
t "inspect: a file that cannot be read" 1 "" \
	"pflashctl: inspect: cannot read '$tmp': Is a directory" \
	"$fake" inspect "$tmp"
usage "inspect: no file" "pflashctl: inspect: no file given" inspect
usage "inspect: two files" "pflashctl: inspect: unexpected argument 'b'" \
	inspect a b

# export
export PFLASH_FAKE_EXPORT=$final
t "export: to standard output, checked" 0 "" "" \
	sh -c "$fake export pflash0 | cmp - '$final'"
# F_GETPIPE_SZ (1032) of the pipe, once the export wrote into it.
t "export: widens its pipe to the kernel's step, 1 MiB" 0 "1048576" "" \
	sh -c "$fake export pflash0 | python3 -c \"import fcntl, sys; sys.stdin.buffer.read(); print(fcntl.fcntl(0, 1032))\""
out=$tmp/out/vars.pfs
mkdir "$tmp/out"
t "export -o: to a file" 0 "" "" sh -c "umask 027; $fake export 0 -o '$out'"
cmp -s "$final" "$out" || result 0 "export -o: the file holds the stream"
[ "$(lstmp "$tmp/out")" = vars.pfs ] ||
	result 0 "export -o: no temporary file left" "$(ls -A "$tmp/out")"
[ "$(stat -c %a "$out")" = 640 ] ||
	result 0 "export -o: the file's mode follows the umask" \
		"$(stat -c %a "$out")"
cp "$snap" "$out"
t "export -o: a failed export leaves the file as it was" 1 "" \
	"pflashctl: export: /dev/pflash0: the device was destroyed during the export: No such device" \
	env PFLASH_FAKE_ERROR="19:0:0:the device was destroyed during the export" \
	PFLASH_FAKE_FAIL_CMD=EXPORT "$fake" export 0 -o "$out"
cmp -s "$snap" "$out" || result 0 "export -o: the old file is intact"
[ "$(lstmp "$tmp/out")" = vars.pfs ] ||
	result 0 "export -o: failed: no temporary file left" "$(ls -A "$tmp/out")"
rm "$out"
head -c 106800 "$final" >"$tmp/short.pfs"
t "export: a snapshot of an active device: a warning" 0 "" \
	"pflashctl: export: /dev/pflash0: warning: the device was active: the stream is a snapshot, not its final state (for a move, inactivate the device first)" \
	env PFLASH_FAKE_EXPORT="$snap" "$fake" export 0 -o "$out"
cmp -s "$snap" "$out" || result 0 "export: the snapshot is written"
rm -f "$tmp/log"
t "export --inactivate: the final state, no warning" 0 "" "" \
	env PFLASH_FAKE_LOG="$tmp/log" "$fake" export --inactivate 0 -o "$out"
[ "$(grep -v '^DEV_GET' "$tmp/log" | cut -d' ' -f1-2)" = "INACTIVATE index=0
EXPORT index=0" ] ||
	result 0 "export --inactivate: inactivate, then export" "$(cat "$tmp/log")"
rm -f "$tmp/log"
t "export --inactivate --force" 0 "" "" \
	env PFLASH_FAKE_LOG="$tmp/log" "$fake" export -I -f -q 0 -o "$out"
grep -qx "INACTIVATE index=0 force=1" "$tmp/log" ||
	result 0 "export --inactivate --force: the request" "$(cat "$tmp/log")"
t "export --inactivate: the export fails after the inactivation" 1 "" \
	"pflashctl: export: /dev/pflash0: the device was destroyed during the export: No such device
pflashctl: export: /dev/pflash0: the device stays inactive: export again, or roll back with 'pflashctl activate /dev/pflash0'" \
	env PFLASH_FAKE_ERROR="19:0:0:the device was destroyed during the export" \
	PFLASH_FAKE_FAIL_CMD=EXPORT "$fake" export --inactivate 0 -o "$out"
t "export --inactivate: the inactivation is refused" 1 "" \
	"pflashctl: export: /dev/pflash0: the device is held exclusively (mounted?); its writes would fail: force it to inactivate anyway: Device or resource busy" \
	env PFLASH_FAKE_ERROR="16:0:0:the device is held exclusively (mounted?); its writes would fail: force it to inactivate anyway" \
	PFLASH_FAKE_FAIL_CMD=INACTIVATE "$fake" export --inactivate 0 -o "$out"
t "export --quiet: no warning" 0 "" "" \
	env PFLASH_FAKE_EXPORT="$snap" "$fake" export --quiet 0 -o "$out"
t "export: no such device" 1 "" \
	"pflashctl: export: /dev/pflash3: no such device (attribute index): No such device" \
	sh -c "$fake export 3 >/dev/null"
t "export: a character device, which the kernel cannot write, is written through pflashctl" 1 "" \
	"pflashctl: export: cannot write standard output: No space left on device" \
	sh -c "$fake export 0 >/dev/full"
t "export -o: into a directory that does not exist" 1 "" \
	"pflashctl: export: cannot open directory '$tmp/none/': No such file or directory" \
	"$fake" export 0 -o "$tmp/none/x.pfs"
t "export -o: onto a directory" 1 "" \
	"pflashctl: export: cannot write '$tmp/out': Is a directory" \
	"$fake" export 0 -o "$tmp/out"
[ -z "$(ls -A "$tmp" | grep '^\.out\.')" ] ||
	result 0 "export -o: onto a directory: no file left" "$(ls -A "$tmp")"
t "export -o -: standard output" 0 "" "" \
	sh -c "$fake export -o - 0 | cmp - '$final'"

# export never writes over a store: a block device, or a backing file,
# known by its inode (st_dev:st_ino), whatever names it.
store=$tmp/store
mkdir "$store"
printf 'the store of pflash3' >"$store/vars.fd"
cp "$store/vars.fd" "$tmp/vars.orig"
ln "$store/vars.fd" "$store/hard"
ln -s vars.fd "$store/soft"
ln -s nowhere "$store/dangling"
printf 'an older stream' >"$store/old.pfs"
ln -s old.pfs "$store/to-old"
mkfifo "$store/fifo"
id=$(stat -c '%d:%i' "$store/vars.fd")
# pflash3's backing file is vars.fd, by its inode; pflash4 has a path and
# no inode (an older kernel); pflash5's path names vars.fd, but its inode
# is another file's (vars.fd replaced it): the inode is what counts.
printf 'pflash4 store' >"$store/four.fd"
other=$(stat -c '%d:%i' "$tmp/vars.orig")
stores="0:131072:512:4096:0:1:3 3:131072:512:4096:0:0:1:0:0:0:0:5000:$store/vars.fd:-:$id 4:131072:512:4096:0:0:1:0:0:0:0:5000:$store/four.fd 5:131072:512:4096:0:0:1:0:0:0:0:5000:$store/vars.fd:-:$other"
# same FILE WHAT: FILE is as it was (vars.orig, or $2 given).
same()
{
	cmp -s "${3:-$tmp/vars.orig}" "$1" ||
		result 0 "$2: $1 is unchanged"
}
for p in vars.fd hard soft; do
	t "export -o: never over a backing file: $p" 1 "" \
		"pflashctl: export: '$store/$p' is the backing file of /dev/pflash3, which the stream would replace: write it to another file" \
		env PFLASH_FAKE_DEVS="$stores" "$fake" export 0 -o "$store/$p"
	same "$store/vars.fd" "export -o $p"
done
[ -L "$store/soft" ] && [ "$(stat -c %i "$store/hard")" = "${id#*:}" ] ||
	result 0 "export -o: the links are as they were"
cp "$tmp/vars.orig" "$tmp/vars.copy"
t "export -o: a backing file that no device's path names, by its inode" 1 "" \
	"pflashctl: export: '$tmp/vars.orig' is the backing file of /dev/pflash5, which the stream would replace: write it to another file" \
	env PFLASH_FAKE_DEVS="$stores" "$fake" export 0 -o "$tmp/vars.orig"
same "$tmp/vars.orig" "export -o vars.orig" "$tmp/vars.copy"
t "export -o: a backing file, by its path, from a kernel that does not give the inode" 1 "" \
	"pflashctl: export: '$store/four.fd' is the backing file of /dev/pflash4, which the stream would replace: write it to another file" \
	env PFLASH_FAKE_DEVS="$stores" "$fake" export 0 -o "$store/four.fd"
t "export -o: a dangling symbolic link is refused" 1 "" \
	"pflashctl: export: cannot write '$store/dangling', a symbolic link: No such file or directory" \
	env PFLASH_FAKE_DEVS="$stores" "$fake" export 0 -o "$store/dangling"
[ "$(readlink "$store/dangling")" = nowhere ] && [ ! -e "$store/nowhere" ] ||
	result 0 "export -o: the dangling link is as it was"
t "export -o: a symbolic link to a file: the file is replaced" 0 "" "" \
	env PFLASH_FAKE_DEVS="$stores" "$fake" export 0 -o "$store/to-old"
same "$store/old.pfs" "export -o to-old" "$final"
[ "$(readlink "$store/to-old")" = old.pfs ] ||
	result 0 "export -o: the symbolic link still points to the file"
t "export -o: a FIFO is written into, not replaced" 0 "" "" \
	sh -c "cat '$store/fifo' >'$tmp/from-fifo' & PFLASH_FAKE_DEVS='$stores' $fake export 0 -o '$store/fifo'; wait"
same "$tmp/from-fifo" "export -o fifo" "$final"
[ -p "$store/fifo" ] || result 0 "export -o: the FIFO is still a FIFO"
t "export -o: /dev/null is written into" 0 "" "" \
	env PFLASH_FAKE_DEVS="$stores" "$fake" export 0 -o /dev/null
[ -c /dev/null ] || result 0 "export -o: /dev/null is still a character device"
if mknod "$store/blk" b 7 255 2>/dev/null; then
	t "export -o: a block device is refused: import is the way" 1 "" \
		"pflashctl: export: '$store/blk' is a block device, which the stream would overwrite; to load the stream into a pflash device, import it: pflashctl export DEVICE | pflashctl import OTHER" \
		env PFLASH_FAKE_DEVS="$stores" "$fake" export 0 -o "$store/blk"
	[ -b "$store/blk" ] || result 0 "export -o: the block device is still one"
else
	echo "# not root: no block device node to export onto (mknod)"
fi
t "export: standard output on a backing file is refused" 1 "" \
	"pflashctl: export: standard output is the backing file of /dev/pflash3, which the stream would overwrite; nothing was written (if the shell emptied it, 'pflashctl flush --full pflash3' writes the device to it again)" \
	sh -c "PFLASH_FAKE_DEVS='$stores' $fake export 0 >>'$store/hard'"
same "$store/vars.fd" "export >>hard"
[ -z "$(ls -A "$store" | grep '^\.')" ] ||
	result 0 "export -o: no temporary file left beside the stores" "$(ls -A "$store")"
t "create --backing: a state stream is not a store" 1 "" \
	"pflashctl: create: '$final' is a pflash state stream, not a device's contents: load it into a device with 'pflashctl import'" \
	"$fake" create --backing "$final"
# A signal during the export: the fake stalls after its first piece.
env PFLASH_FAKE_STALL=1 "$fake" export 0 -o "$out" &
pid=$!
for i in $(seq 100); do
	tmpfile=$(lstmp "$tmp/out" | grep '^\.vars\.pfs\.')
	[ -n "$tmpfile" ] && break
	sleep 0.05
done
kill -TERM "$pid"
wait "$pid"
rc=$?
if [ -n "$tmpfile" ] && [ "$rc" = 143 ] &&
   [ "$(lstmp "$tmp/out")" = vars.pfs ]; then
	result 1 "export -o: killed: the temporary file is removed"
else
	result 0 "export -o: killed: the temporary file is removed" \
		"during: $tmpfile" "status: $rc" "after: $(ls -A "$tmp/out")"
fi
usage "export: no device" "pflashctl: export: no device given" export
usage "export: two devices" "pflashctl: export: unexpected argument '1'" \
	export 0 1
if command -v script >/dev/null; then
	# On a terminal (script(1) gives the command one).
	t "export: not to a terminal" 2 \
		"pflashctl: export: will not write a binary stream to a terminal: use --output or a redirection"$'\r'"
Try 'pflashctl export --help' for more information."$'\r' "" \
		script -qec "$fake export 0" /dev/null
	out_tty=$(script -qec "$fake export 0 -o '$out'" /dev/null)
	case $out_tty in
	*"pflashctl: export: /dev/pflash0: 100% (128K of 128K)"*)
		result 1 "export: progress on a terminal" ;;
	*)	result 0 "export: progress on a terminal" "$out_tty" ;;
	esac
	out_tty=$(script -qec "$fake export -q 0 -o '$out'" /dev/null)
	[ -z "$out_tty" ]
	result $((! $?)) "export --quiet: no progress" "$out_tty"
	# With progress, the stream passes through pflashctl, which checks it.
	rm -f "$out"
	for c in "$bad:8368: the data record's checksum does not match: the stream is damaged" \
		 "$tmp/short.pfs:106736: the stream is truncated: it ends inside a record"; do
		out_tty=$(script -qec "env PFLASH_FAKE_EXPORT='${c%%:*}' $fake export 0 -o '$out'" /dev/null)
		case $out_tty in
		*"pflashctl: export: /dev/pflash0: invalid stream at offset ${c#*:} (the kernel sent it)"*)
			result 1 "export: progress: a bad stream from the kernel: ${c##*: }" ;;
		*)	result 0 "export: progress: a bad stream from the kernel: ${c##*: }" "$out_tty" ;;
		esac
		[ -z "$(lstmp "$tmp/out")" ] ||
			result 0 "export: progress: bad: no file left" "$(ls -A "$tmp/out")"
	done
fi
unset PFLASH_FAKE_EXPORT

# export --live: a 128K device, changed twice while its passes run (a
# 4K erase block each time); pass 0, 1 and 2 of one stream. The fake
# writes pass N of it for the Nth pass asked for, all that is left for the
# final one, and says PFLASH_FAKE_PENDING's Nth figure remains.
head -c 131072 /dev/urandom >"$tmp/live0"
cp "$tmp/live0" "$tmp/live1"
printf 'pass one' | dd of="$tmp/live1" bs=1 seek=5000 conv=notrunc 2>/dev/null
cp "$tmp/live1" "$tmp/live2"
printf 'pass two' | dd of="$tmp/live2" bs=1 seek=70000 conv=notrunc 2>/dev/null
live=$tmp/live.pfs
tests/mkstream -E 5 -f "$tmp/live0" "$tmp/live1" "$tmp/live2" >"$live"
# live_t NAME STATUS STDERR PENDING COMMAND...: as t, with the fake's
# PFLASH_FAKE_PENDING, and the seconds of every message and JSON as S.
live_t()
{
	local name=$1 status=$2 stderr=$3 pending=$4

	shift 4
	t "$name" "$status" "" "$stderr" sh -c '
		export PFLASH_FAKE_PENDING=$1
		shift
		"$@" 2>"$0/live-err"
		rc=$?
		sed -E "s/[0-9.]+ s\b/S s/g; s/((seconds|inactivated-at)\": )[0-9.e+-]+/\1S/" \
			"$0/live-err" >&2
		exit $rc' "$tmp" "$pending" "$@"
}
export PFLASH_FAKE_DEVS="0:131072:512:4096:0:0:3" PFLASH_FAKE_EXPORT=$live
rm -f "$tmp/log"
live_t "export --live: small enough after pass 0" 0 \
	"pflashctl: export: /dev/pflash0: pass 0: 128.2K in S s; 4K written meanwhile
pflashctl: export: /dev/pflash0: final pass 1: 8.2K in S s; the device was inactive for S s" \
	4096 env PFLASH_FAKE_LOG="$tmp/log" "$fake" export --live 0 -o "$out"
[ "$(cat "$tmp/log")" = "EXPORT index=0 stream_fd=file live=1 live_pass=0
INACTIVATE index=0
EXPORT index=0 stream_fd=file live=1 live_final=1 live_pass=1" ] ||
	result 0 "export --live: the passes asked for" "$(cat "$tmp/log")"
cmp -s "$live" "$out" || result 0 "export --live: the file holds the stream"
t "export --live: the stream, by inspect" 0 \
	"live 1
passes pass 0, final no, records 2, data-bytes 131072, erased-bytes 0, zero-bytes 0; pass 1, final no, records 1, data-bytes 4096, erased-bytes 0, zero-bytes 0; pass 2, final yes, records 1, data-bytes 4096, erased-bytes 0, zero-bytes 0" "" \
	sh -c "$fake inspect '$out' | sed -n 's/^live: *yes/live 1/p; s/^passes: */passes /p'"
rm -f "$tmp/log"
live_t "export --live: passes while they shrink, down to --max-final" 0 \
	"pflashctl: export: /dev/pflash0: pass 0: 128.2K in S s; 16K written meanwhile
pflashctl: export: /dev/pflash0: pass 1: 4.1K in S s; 4K written meanwhile
pflashctl: export: /dev/pflash0: final pass 2: 4.2K in S s; the device was inactive for S s" \
	16384,4096 env PFLASH_FAKE_LOG="$tmp/log" \
	"$fake" export -l -m 8K 0 -o "$out"
[ "$(grep -c '^EXPORT' "$tmp/log")" = 3 ] ||
	result 0 "export --live -m: three passes" "$(cat "$tmp/log")"
cmp -s "$live" "$out" || result 0 "export --live -m: the stream"
live_t "export --live: by default, passes until at most 64K remain" 0 \
	"pflashctl: export: /dev/pflash0: pass 0: 128.2K in S s; 128K written meanwhile
pflashctl: export: /dev/pflash0: pass 1: 4.1K in S s; 64K written meanwhile
pflashctl: export: /dev/pflash0: final pass 2: 4.2K in S s; the device was inactive for S s" \
	131072,65536 "$fake" export --live 0 -o "$out"
live_t "export --live: the pass limit, and what it leaves" 0 \
	"pflashctl: export: /dev/pflash0: pass 0: 128.2K in S s; 4M written meanwhile
pflashctl: export: /dev/pflash0: pass 1: 4.1K in S s; 2M written meanwhile
pflashctl: export: /dev/pflash0: pass limit reached: the writer outpaces the passes; the final pass sends 2M, with the device inactive
pflashctl: export: /dev/pflash0: final pass 2: 4.2K in S s; the device was inactive for S s" \
	4194304,2097152 "$fake" export --live --max-passes 3 0 -o "$out"
live_t "export --live: passes that stop shrinking" 0 \
	"pflashctl: export: /dev/pflash0: pass 0: 128.2K in S s; 2M written meanwhile
pflashctl: export: /dev/pflash0: pass 1: 4.1K in S s; 3M written meanwhile
pflashctl: export: /dev/pflash0: the passes stopped shrinking: the writer outpaces the passes; the final pass sends 3M, with the device inactive
pflashctl: export: /dev/pflash0: final pass 2: 4.2K in S s; the device was inactive for S s" \
	2097152,3145728 "$fake" export --live 0 -o "$out"
cmp -s "$live" "$out" || result 0 "export --live: not shrinking: the stream"
rm -f "$tmp/log"
live_t "export --live --max-passes 1: inactive at once, one final pass" 0 \
	"pflashctl: export: /dev/pflash0: final pass 0: 136.4K in S s; the device was inactive for S s" \
	0 env PFLASH_FAKE_LOG="$tmp/log" "$fake" export --live -p 1 0 -o "$out"
# The file is there: whose backing file it is, is asked first and last.
[ "$(cat "$tmp/log")" = "DEV_GET dump
INACTIVATE index=0
EXPORT index=0 stream_fd=file live=1 live_final=1 live_pass=0
DEV_GET dump" ] ||
	result 0 "export --live -p 1: the requests" "$(cat "$tmp/log")"
rm -f "$tmp/log"
live_t "export --live --force: the inactivation is forced" 0 "" \
	4096 env PFLASH_FAKE_LOG="$tmp/log" \
	"$fake" export --live --force --quiet 0 -o "$out"
grep -qx "INACTIVATE index=0 force=1" "$tmp/log" ||
	result 0 "export --live --force: the request" "$(cat "$tmp/log")"
live_t "export --live -J: the passes as JSON, on standard error" 0 \
	'pflashctl: export: /dev/pflash0: the passes stopped shrinking: the writer outpaces the passes; the final pass sends 3M, with the device inactive
{
  "device": "/dev/pflash0",
  "passes": [
    {
      "pass": 0,
      "bytes": 131256,
      "seconds": S,
      "pending": 2097152,
      "final": false
    },
    {
      "pass": 1,
      "bytes": 4168,
      "seconds": S,
      "pending": 3145728,
      "final": false
    },
    {
      "pass": 2,
      "bytes": 4256,
      "seconds": S,
      "pending": 0,
      "final": true
    }
  ],
  "stream-bytes": 139680,
  "stopped": "not-shrinking",
  "inactivated": true,
  "inactivated-at": S,
  "inactive-seconds": S,
  "complete": true
}' 2097152,3145728 "$fake" export --live -J 0 -o "$out"
# inactivated-at: the moment the inactivation started, on the clock that
# date(1) reads, between the command's start and its end.
t "export --live -J: inactivated-at is when the command inactivated" 0 "ok" "" \
	sh -c 'a=$(date +%s.%N)
	       PFLASH_FAKE_PENDING=0 "$1" export --live -J 0 -o "$2" 2>"$3" || exit 1
	       b=$(date +%s.%N)
	       python3 -c "import json, sys; t = json.load(open(sys.argv[3]))[\"inactivated-at\"]; print(\"ok\" if float(sys.argv[1]) <= t <= float(sys.argv[2]) else t)" "$a" "$b" "$3"' \
	sh "$fake" "$out" "$tmp/live-at.json"
# Before the final inactivation, the export waits until the reader has
# taken what the passes sent: here the whole of pass 0 fits in the pipe,
# and the reader starts reading half a second late (the wait gives up
# after a second without progress).
t "export --live: inactivates once the reader has taken the passes" 0 "ok" "" \
	sh -c 'a=$(date +%s.%N)
	       PFLASH_FAKE_PENDING=0 "$1" export --live -J 0 2>"$2" |
		       { sleep 0.5; cat >/dev/null; }
	       python3 -c "import json, sys; t = json.load(open(sys.argv[2]))[\"inactivated-at\"]; print(\"ok\" if t >= float(sys.argv[1]) + 0.5 else t - float(sys.argv[1]))" "$a" "$2"' \
	sh "$fake" "$tmp/live-drain.json"
# A reader that goes away once pass 0 is in the pipe, without reading it:
# the device is not inactivated for a stream no one reads.
pass0=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["passes"][0]["bytes"])' \
	"$tmp/live-drain.json")
rm -f "$tmp/log"
t "export --live: a reader gone before the final pass leaves the device active" 1 "" \
	"pflashctl: export: /dev/pflash0: Broken pipe
pflashctl: export: /dev/pflash0: the device is still active, and unchanged: the move can start again" \
	sh -c '{ PFLASH_FAKE_PENDING=0 PFLASH_FAKE_LOG="$2" "$1" export --live -q 0
		 echo $? >"$3"; } |
		       python3 -c "import fcntl, struct, sys, termios, time
while struct.unpack(\"i\", fcntl.ioctl(0, termios.FIONREAD, b\"1234\"))[0] < int(sys.argv[1]):
    time.sleep(0.01)"  "$4"
	       exit "$(cat "$3")"' sh "$fake" "$tmp/log" "$tmp/status" "$pass0"
grep -q INACTIVATE "$tmp/log" &&
	result 0 "export --live: a reader gone: no INACTIVATE" "sent:" "$(cat "$tmp/log")"
# live_fail NAME STDERR PENDING AT ERRNO MESSAGE [OPTION...]: "export
# --live [OPTION...] 0 -o $out" fails, as live_t says, at the fake's
# request AT with ERRNO and MESSAGE (of those of command $fail_cmd alone,
# if it is set); the file it was to replace is intact.
live_fail()
{
	local name=$1 stderr=$2 pending=$3 at=$4 errno=$5 msg=$6

	shift 6
	cp "$snap" "$out"
	live_t "$name" 1 "$stderr" "$pending" env PFLASH_FAKE_FAIL_AT="$at" \
		PFLASH_FAKE_ERROR="$errno:0:0:$msg" \
		PFLASH_FAKE_FAIL_CMD="$fail_cmd" \
		"$fake" export --live "$@" 0 -o "$out"
	cmp -s "$snap" "$out" || result 0 "$name: the old file is intact"
}
still_active="pflashctl: export: /dev/pflash0: the device is still active, and unchanged: the move can start again"
live_fail "export --live: a pass that fails while the device is active" \
	"pflashctl: export: /dev/pflash0: pass 0: 128.2K in S s; 2M written meanwhile
pflashctl: export: /dev/pflash0: could not write the stream: Broken pipe
$still_active" 2097152 2 32 "could not write the stream"
live_fail "export --live: the final pass fails: how to roll back" \
	"pflashctl: export: /dev/pflash0: pass 0: 128.2K in S s; 4K written meanwhile
pflashctl: export: /dev/pflash0: could not write the stream: Broken pipe
pflashctl: export: /dev/pflash0: the device is inactive, and no target can have the whole stream: roll back with 'pflashctl activate --epoch N /dev/pflash0', N greater than 3 and than any epoch a target was given, or export again" \
	4096 3 32 "could not write the stream"
fail_cmd=EXPORT live_fail "export --live -J: a failed export says so" \
	"pflashctl: export: /dev/pflash0: could not write the stream: Broken pipe
$still_active
{
  \"device\": \"/dev/pflash0\",
  \"passes\": [
  ],
  \"stream-bytes\": 0,
  \"inactivated\": false,
  \"complete\": false
}" 0 1 32 "could not write the stream" -J
live_fail "export --live: the inactivation is refused" \
	"pflashctl: export: /dev/pflash0: pass 0: 128.2K in S s; 4K written meanwhile
pflashctl: export: /dev/pflash0: the device is held exclusively (mounted?); its writes would fail: force it to inactivate anyway: Device or resource busy
$still_active" 4096 2 16 \
	"the device is held exclusively (mounted?); its writes would fail: force it to inactivate anyway"
rm -f "$tmp/log"
live_t "export --live: output through pflashctl that fails stops before the inactivation" 1 \
	"pflashctl: export: cannot write standard output: No space left on device
$still_active" 0 \
	sh -c "PFLASH_FAKE_LOG='$tmp/log' $fake export --live 0 >/dev/full"
[ "$(cat "$tmp/log")" = "EXPORT index=0 stream_fd=pipe live=1 live_pass=0" ] ||
	result 0 "export --live: failed output: no inactivation" "$(cat "$tmp/log")"
for o in "--max-final 1M" "--max-passes 2" "--json" "-J"; do
	usage "export $o without --live" \
		"pflashctl: export: --max-final, --max-passes and --json are for a live export: add --live" \
		export $o 0
done
usage "export --force without --live or --inactivate" \
	"pflashctl: export: --force is for an export that inactivates the device: add --inactivate or --live" \
	export --force 0
usage "export --live --inactivate" \
	"pflashctl: export: --live inactivates the device before its final pass: --inactivate is for an export that is not live" \
	export --live --inactivate 0
usage "export --live --max-passes 0" \
	"pflashctl: export: --max-passes must be 1 to 64" \
	export --live --max-passes 0 0
usage "export --live -p 65" "pflashctl: export: --max-passes must be 1 to 64" \
	export --live -p 65 0
usage "export --live --max-final: not a size" \
	"pflashctl: export: --max-final: invalid size: 'x'" \
	export --live --max-final x 0
unset PFLASH_FAKE_EXPORT
export PFLASH_FAKE_DEVS="0:540672:512:4096:0:0:3:1:8192:0:0:5000:/var/lib/vm/vars.fd:01234567-89ab-cdef-0123-456789abcdef 1:1073741824:4096:262144:1:1:0 7:131072:512:4096:0:0:2:0:0:1:5:-:/srv/vm	7.fd"

# import
t "import: from standard input, which the kernel reads, to an inactive device" 0 "" "" \
	sh -c "PFLASH_FAKE_LOG='$tmp/log' PFLASH_FAKE_IMPORT='$tmp/imported' \
	       $fake import pflash1 <'$final'"
[ "$(cat "$tmp/log")" = "IMPORT index=1 stream_fd=file" ] ||
	result 0 "import: the request" "$(cat "$tmp/log")"
cmp -s "$tmp/imported" "$final" || result 0 "import: the kernel got the stream"
rm -f "$tmp/log" "$tmp/imported"
sent "import -i --activate --epoch" "IMPORT index=1 stream_fd=file
ACTIVATE index=1 epoch=9" "$fake" import -i "$final" --activate --epoch 9 1
sent "import -a: a stream of one whole piece" "IMPORT index=1 stream_fd=file
ACTIVATE index=1" "$fake" import -i "$one" -a 1
sent "import: from a pipe" "IMPORT index=1 stream_fd=pipe" \
	sh -c "cat '$final' | $fake import 1"
t "import: widens its pipe to the kernel's step, 1 MiB" 0 "1048576" "" \
	sh -c "cat '$final' | { $fake import 1 >/dev/null 2>&1; python3 -c \"import fcntl; print(fcntl.fcntl(0, 1032))\"; }"
t "import: a snapshot: a warning" 0 "" \
	"pflashctl: import: /dev/pflash1: warning: the stream is a snapshot of an active device, not its final state" \
	"$fake" import -i "$snap" 1
t "import --quiet: no warning" 0 "" "" "$fake" import -q -i "$snap" 1
rm -f "$tmp/log"
t "import: a damaged stream from a file: where, by pflashctl's own reader" 1 "" \
	"pflashctl: import: /dev/pflash1: invalid stream at offset 8368: the data record's checksum does not match: the stream is damaged (the device is unchanged)" \
	sh -c "$fake import 1 <'$bad'"
t "import: a truncated stream from a pipe: the kernel's message" 1 "" \
	"pflashctl: import: /dev/pflash1: the stream is truncated: it ends before its end record: Invalid argument" \
	sh -c "head -c 106800 '$final' | $fake import 1"
t "import: nothing" 1 "" \
	"pflashctl: import: /dev/pflash1: invalid stream at offset 0: the stream is empty (the device is unchanged)" \
	sh -c "$fake import 1 </dev/null"
cat "$final" "$tmp/junk" >"$tmp/after.pfs"
t "import: data after the stream, in a file" 1 "" \
	"pflashctl: import: /dev/pflash1: invalid stream at offset 106824: there is data after the end record (the device is unchanged)" \
	"$fake" import -i "$tmp/after.pfs" 1
t "import: data after the stream, from a pipe" 1 "" \
	"pflashctl: import: /dev/pflash1: there is data after the end record: Invalid argument" \
	sh -c "cat '$one' '$tmp/junk' | $fake import 1"
t "import: the kernel refuses, and says why" 1 "" \
	"pflashctl: import: /dev/pflash1: the stream is stale: its epoch is lower than the device's: Stale file handle" \
	env PFLASH_FAKE_ERROR="116:0:0:the stream is stale: its epoch is lower than the device's" \
	"$fake" import -i "$final" 1
t "import: into an active device" 1 "" \
	"pflashctl: import: /dev/pflash0: the device is active: inactivate it before importing: Device or resource busy" \
	"$fake" import -i "$final" 0
t "import --activate: imported, but not activated" 1 "" \
	"pflashctl: import: /dev/pflash1: the backing file is owned elsewhere: another device, on this host or another, holds its lock: Device or resource busy
pflashctl: import: /dev/pflash1: the stream was imported; activate the device once it may own its backing file: pflashctl activate /dev/pflash1" \
	env PFLASH_FAKE_FAIL_AT=2 \
	PFLASH_FAKE_ERROR="16:0:0:the backing file is owned elsewhere: another device, on this host or another, holds its lock" \
	"$fake" import -i "$final" --activate 1
t "import: a file that cannot be opened" 1 "" \
	"pflashctl: import: cannot open '$tmp/none': No such file or directory" \
	"$fake" import -i "$tmp/none" 1
t "import: a file that cannot be read" 1 "" \
	"pflashctl: import: cannot read '$tmp': Is a directory" \
	"$fake" import -i "$tmp" 1
usage "import: --epoch needs --activate" \
	"pflashctl: import: --epoch needs --activate" import -e 3 1
usage "import: no device" "pflashctl: import: no device given" import
usage "import: two devices" "pflashctl: import: unexpected argument '2'" \
	import 1 2
if command -v script >/dev/null; then
	t "import: not from a terminal" 2 \
		"pflashctl: import: will not read a binary stream from a terminal: name a file or use a redirection"$'\r'"
Try 'pflashctl import --help' for more information."$'\r' "" \
		script -qec "$fake import 1" /dev/null
	t "inspect: not from a terminal" 2 \
		"pflashctl: inspect: will not read a binary stream from a terminal: name a file or use a redirection"$'\r'"
Try 'pflashctl inspect --help' for more information."$'\r' "" \
		script -qec "$fake inspect -" /dev/null
fi

# export | import, as a move does
t "export | import --activate" 0 "" "" sh -c \
	"PFLASH_FAKE_EXPORT='$final' $fake export 0 |
	 PFLASH_FAKE_IMPORT='$tmp/imported' $fake import 1 --activate"
cmp -s "$tmp/imported" "$final" ||
	result 0 "export | import: the kernel got the stream"
rm -f "$tmp/imported"

# monitor
export PFLASH_FAKE_EVENTS="7:0 9:1 10:1 11:0:1:0 11:7:0:5 14:1 8:7 99:0"
t "monitor: one line per event, until events are lost" 1 \
"create pflash0 state:active epoch:3 flush-pending:no dirty:8192 backing:/var/lib/vm/vars.fd
inactivate pflash1 state:inactive epoch:0
activate pflash1 state:inactive epoch:0
flush pflash0 state:active epoch:3 flush-pending:no dirty:8192 backing:/var/lib/vm/vars.fd full:yes result:ok
flush pflash7 state:active epoch:2 flush-pending:yes dirty:0 backing:/srv/vm\\x097.fd full:no result:EIO
import pflash1 state:inactive epoch:0
destroy pflash7 state:active epoch:2 flush-pending:yes dirty:0 backing:/srv/vm\\x097.fd
event-99 pflash0 state:active epoch:3 flush-pending:no dirty:8192 backing:/var/lib/vm/vars.fd" \
	"pflashctl: monitor: events came faster than they were read, and some were lost: start again with --now to see the current state" \
	"$fake" monitor
t "monitor --json --now" 1 \
'{"event":"exists","name":"pflash0","state":"active","epoch":3,"flush-pending":false,"dirty":8192,"backing":"/var/lib/vm/vars.fd"}
{"event":"exists","name":"pflash1","state":"inactive","epoch":0,"flush-pending":null,"dirty":null,"backing":null}
{"event":"exists","name":"pflash7","state":"active","epoch":2,"flush-pending":true,"dirty":0,"backing":"/srv/vm\t7.fd"}
{"event":"exists","name":null}
{"event":"create","name":"pflash0","state":"active","epoch":3,"flush-pending":false,"dirty":8192,"backing":"/var/lib/vm/vars.fd"}
{"event":"inactivate","name":"pflash1","state":"inactive","epoch":0,"flush-pending":null,"dirty":null,"backing":null}
{"event":"activate","name":"pflash1","state":"inactive","epoch":0,"flush-pending":null,"dirty":null,"backing":null}
{"event":"flush","name":"pflash0","state":"active","epoch":3,"flush-pending":false,"dirty":8192,"backing":"/var/lib/vm/vars.fd","full":true,"result":"ok"}
{"event":"flush","name":"pflash7","state":"active","epoch":2,"flush-pending":true,"dirty":0,"backing":"/srv/vm\t7.fd","full":false,"result":"EIO"}
{"event":"import","name":"pflash1","state":"inactive","epoch":0,"flush-pending":null,"dirty":null,"backing":null}
{"event":"destroy","name":"pflash7","state":"active","epoch":2,"flush-pending":true,"dirty":0,"backing":"/srv/vm\t7.fd"}
{"event":"event-99","name":"pflash0","state":"active","epoch":3,"flush-pending":false,"dirty":8192,"backing":"/var/lib/vm/vars.fd"}' \
	"pflashctl: monitor: Connection reset by peer" \
	env PFLASH_FAKE_EVENTS_END=104 "$fake" monitor --json --now
t "monitor --now: no devices" 1 "exists -" \
	"pflashctl: monitor: Connection reset by peer" \
	env PFLASH_FAKE_DEVS= PFLASH_FAKE_EVENTS= PFLASH_FAKE_EVENTS_END=104 \
	"$fake" monitor -n
t "monitor --now: the dump fails" 1 "" \
	"pflashctl: monitor: Cannot allocate memory" \
	env PFLASH_FAKE_ERROR=12:0:0: "$fake" monitor --now
t "monitor: stdout is flushed line by line" 0 \
	"create pflash0 state:active epoch:3 flush-pending:no dirty:8192 backing:/var/lib/vm/vars.fd" "" \
	sh -c "$fake monitor 2>/dev/null | head -n 1"
t "monitor: without CAP_NET_ADMIN" 1 "" \
	"pflashctl: monitor: cannot open the pflash netlink family: Operation not permitted (CAP_NET_ADMIN is needed: run as root)" \
	env PFLASH_FAKE_EVENTS_OPEN=1 "$fake" monitor
t "monitor: the module is not available" 3 "" \
	"pflashctl: monitor: the pflash module is not available: the kernel could not load it (is it installed? modprobe pflash says why)" \
	env PFLASH_FAKE_EVENTS_OPEN=2 "$fake" monitor
usage "monitor: no arguments" "pflashctl: monitor: unexpected argument 'pflash0'" \
	monitor pflash0
unset PFLASH_FAKE_EVENTS

# Hints, on a terminal only: what to do next when the kernel's reason
# does not say it.  hint NAME ERROR HINT COMMAND...: COMMAND fails with
# ERROR (as PFLASH_FAKE_ERROR) and, on a terminal, its last line is HINT.
hint_t()
{
	local name=$1 error=$2 want=$3 got

	shift 3
	got=$(PFLASH_FAKE_ERROR="$error" script -qec "$fake $*" /dev/null |
		tr -d '\r' | tail -n 1)
	[ "$got" = "$want" ]
	result $((! $?)) "hint: $name" "got: $got" "expected: $want"
}
if command -v script >/dev/null; then
	hint_t "activate: the lock is taken" \
		"16:0:0:the backing file is owned elsewhere: another device, on this host or another, holds its lock" \
		"pflashctl: activate: /dev/pflash1: hint: inactivate the device that owns the backing file first ('pflashctl list -o NAME,STATE,BACKING' shows them)" \
		activate 1
	hint_t "activate: active at another epoch" \
		"16:16:0:the device is already active, at another epoch" \
		"pflashctl: activate: /dev/pflash1: hint: the device is active at another epoch: inactivate it first to take a new one" \
		activate -e 5 1
	hint_t "activate: a stale epoch" \
		"116:16:0:stale epoch: it must be greater than the device's" \
		"pflashctl: activate: /dev/pflash1: hint: name an epoch greater than the device's ('pflashctl list -o NAME,EPOCH' shows it)" \
		activate -e 2 1
	hint_t "destroy: the final writeback failed" \
		"5:0:0:writing back to the backing file failed; the device is kept with its dirty data" \
		"pflashctl: destroy: /dev/pflash0: hint: fix the backing file and destroy again, or destroy --force, which loses the data not written back" \
		destroy 0
	hint_t "destroy: the backing file was deleted" \
		"2:0:0:the backing file /v/a.fd was deleted, or replaced: its writes have nowhere to go, and the device's contents are in memory only (see the admin guide)" \
		"pflashctl: destroy: /dev/pflash0: hint: save its state first (pflashctl export), or destroy --force, which loses it" \
		destroy 0
	hint_t "inactivate: held exclusively" \
		"16:0:0:the device is held exclusively (mounted?); its writes would fail: force it to inactivate anyway" \
		"pflashctl: inactivate: /dev/pflash0: hint: unmount or unmap it, or stop what holds it; or inactivate --force, and its writes fail" \
		inactivate 0
	hint_t "create: the lock is taken" \
		"16:0:0:the backing file is owned elsewhere (another device, on this host or another, holds its lock); create the device inactive" \
		"pflashctl: create: hint: create it --inactive, as the incoming side of a move, or inactivate the owner first" \
		create --size 1M
	hint_t "destroy: open: no hint, the reason says it" \
		"16:0:0:the device is open; close it first" \
		"pflashctl: destroy: /dev/pflash0: the device is open; close it first: Device or resource busy" \
		destroy 0
fi
t "hint: none off a terminal" 1 "" \
	"pflashctl: activate: /dev/pflash1: the backing file is owned elsewhere: another device, on this host or another, holds its lock: Device or resource busy" \
	env PFLASH_FAKE_ERROR="16:0:0:the backing file is owned elsewhere: another device, on this host or another, holds its lock" \
	"$fake" activate 1

# Bash completion (pflashctl.bash-completion), against the fake tool: what
# it offers is what --help lists.
# comp WORDS...: the completions of the last word, sorted, one a line.
comp()
{
	PATH="$tmp/fake:$PATH" bash -c '
		. ./pflashctl.bash-completion
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_pflashctl
		printf "%s\n" "${COMPREPLY[@]}" | sort' comp "$@"
}
# help_words COMMAND...: the options --help of COMMAND lists, -h included.
help_words()
{
	"$fake" "$@" --help | sed -n '/^Options:/,/^$/s/^ *\(.*[^ ]\)  .*/\1/p' |
		grep -oE '(^| )--?[A-Za-z][-A-Za-z]*' | tr -d ' ' | sort
}
t "completion: the commands" 0 \
	"$("$fake" --help | sed -n '/^Commands:/,/^$/s/^ \([a-z]*\) .*/\1/p' | sort)" \
	"" comp pflashctl ""
t "completion: the global options" 0 "$(help_words)" "" comp pflashctl -
for cmd in create destroy list flush inactivate activate export import \
	   inspect monitor apply; do
	t "completion: $cmd: its options" 0 "$(help_words $cmd)" "" \
		comp pflashctl $cmd -
done
t "completion: list -o: the columns" 0 \
	"$("$fake" list --help | sed -n '/^Available output columns:/,$s/^ \([A-Z-]*\) .*/\1/p' | sort)" \
	"" comp pflashctl list -o ""
t "completion: list -o: after a comma" 0 "NAME,SIZE
NAME,STATE" "" comp pflashctl list -o NAME,s
t "completion: list -o: after a +" 0 "+UUID" "" comp pflashctl list --output +u
t "completion: the devices there are" 0 "pflash0
pflash1
pflash7" "" comp pflashctl destroy -f ""
t "completion: devices as paths" 0 "/dev/pflash1" "" \
	comp pflashctl export /dev/pflash1
t "completion: devices of import" 0 "pflash7" "" \
	comp pflashctl import -a pflash7
t "completion: --cache values" 0 "writeback
writethrough" "" comp pflashctl create --cache w
t "completion: --backing is a file" 0 "tests/run.sh" "" \
	comp pflashctl create --backing tests/run.s
t "completion: no devices without a module" 0 "" "" \
	env PFLASH_FAKE_OPEN=2 bash -c "$(declare -f comp); comp pflashctl flush ''"

# pflashctl(8) is complete: every command and its options, every column,
# every exit status.
man=../../Documentation/man/pflashctl.8
man_has() { grep -qF -- "$1" "$man"; }
for cmd in create destroy list flush inactivate activate export import \
	   inspect monitor apply; do
	missing=
	opts=$(help_words $cmd)
	[ -n "$opts" ] || missing=" (no options found in --help)"
	man_has ".SS $cmd" || missing="$missing .SS"
	for o in $opts; do
		man_has "$(printf '%s' "$o" | sed 's/-/\\-/g')" || missing="$missing $o"
	done
	[ -z "$missing" ]
	result $((! $?)) "pflashctl(8): $cmd and its options" "missing:$missing"
done
missing=
for col in $("$fake" list --help | sed -n '/^Available output columns:/,$s/^ \([A-Z-]*\) .*/\1/p'); do
	grep -qx "\.B $col" "$man" || missing="$missing $col"
done
[ -z "$missing" ]
result $((! $?)) "pflashctl(8): every column of list" "missing:$missing"
missing=
for st in $("$fake" --help | sed -n '/^Exit status:/,/^$/s/^ \([0-9]\) .*/\1/p'); do
	sed -n '/^\.SH EXIT STATUS/,/^\.SH/p' "$man" | grep -qx "\.B $st" ||
		missing="$missing $st"
done
[ -z "$missing" ]
result $((! $?)) "pflashctl(8): every exit status" "missing:$missing"

# pflashctl apply and the table (tests/apply.sh).
. tests/apply.sh

# The real tool, on this host.
if [ -e /sys/module/pflash ]; then
	echo "ok $((passed + failed + 1)) - real: module not available # SKIP loaded"
	passed=$((passed + 1))
else
	for cmd in "create --size 1M" "destroy 0" list "list 0" "flush 0" \
		   "inactivate 0" "activate 0" "export 0" "import 0" monitor; do
		t "real: $cmd: module not available" 3 "" \
			"pflashctl: ${cmd%% *}: the pflash module is not available: the kernel could not load it (is it installed? modprobe pflash says why)" \
			sh -c "$real $cmd </dev/null >/dev/null"
	done
fi
t "real: inspect needs no module" 0 "final:         yes" "" \
	sh -c "$real inspect '$final' | tail -n 1"
t "real: usage errors come first" 2 "" \
	"pflashctl: destroy: invalid device 'x' (expected pflashN, /dev/pflashN or N)
Try 'pflashctl destroy --help' for more information." "$real" destroy x

echo "1..$((passed + failed))"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
