#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host tests of pflashctl, which need no pflash module:
#  - tests/nl_test and tests/stream_test, the libraries' own tests;
#  - the command line of pflashctl linked with the fake kernel of
#    tests/fake_nl.c (tests/pflashctl-fake);
#  - the real pflashctl, where the host gives a real answer: the pflash
#    module is not loaded.
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
	out=$("${vg[@]}" "$@" 2>"$tmp/stderr")
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
	out=$("${vg[@]}" "$@" 2>"$tmp/stderr")
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
for cmd in create destroy list; do
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
usage "create: --size is required" "pflashctl: create: --size is required" \
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
t "no family: module not loaded" 3 "" \
	"pflashctl: list: the pflash module is not loaded (load it with: modprobe pflash)" \
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
t "list" 0 \
"NAME          SIZE BLOCK-SIZE ERASE-SIZE RO
/dev/pflash0  528K        512       4096  0
/dev/pflash1    1G       4096     262144  1
/dev/pflash7  128K        512       4096  0" "" "$fake" list
t "list --bytes" 0 \
"NAME               SIZE BLOCK-SIZE ERASE-SIZE RO
/dev/pflash0     540672        512       4096  0
/dev/pflash1 1073741824       4096     262144  1
/dev/pflash7     131072        512       4096  0" "" "$fake" list --bytes
t "list --raw --noheadings" 0 \
"/dev/pflash0 528K 512 4096 0
/dev/pflash1 1G 4096 262144 1
/dev/pflash7 128K 512 4096 0" "" "$fake" list -r -n
t "list --output" 0 \
"NAME RO SIZE
/dev/pflash0 0 528K
/dev/pflash1 1 1G
/dev/pflash7 0 128K" "" "$fake" list -r -o name,RO,Size
t "list --output +" 0 \
"NAME SIZE BLOCK-SIZE ERASE-SIZE RO NAME
/dev/pflash0 528K 512 4096 0 /dev/pflash0" "" "$fake" list -r -o +NAME 0
t "list DEV..." 0 \
"NAME          SIZE BLOCK-SIZE ERASE-SIZE RO
/dev/pflash7  128K        512       4096  0
/dev/pflash0  528K        512       4096  0" "" "$fake" list pflash7 0
t "list DEV...: the ones found" 1 \
"NAME         SIZE BLOCK-SIZE ERASE-SIZE RO
/dev/pflash1   1G       4096     262144  1" \
	"pflashctl: list: /dev/pflash3: no such device (attribute index): No such device" \
	"$fake" list 3 1
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
}' "" "$fake" list --json 1
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
usage "list: unknown column" \
	"pflashctl: list: unknown column 'FOO' (available: NAME, SIZE, BLOCK-SIZE, ERASE-SIZE, RO)" \
	list -o NAME,FOO
usage "list: empty column" \
	"pflashctl: list: unknown column '' (available: NAME, SIZE, BLOCK-SIZE, ERASE-SIZE, RO)" \
	list -o NAME,
usage "list: too many columns" "pflashctl: list: too many columns" \
	list -o "$(printf 'NAME,%.0s' {1..32})NAME"
usage "list: --json and --raw" \
	"pflashctl: list: --json and --raw are mutually exclusive" list -J -r
usage "list: invalid device" \
	"pflashctl: list: invalid device 'sda' (expected pflashN, /dev/pflashN or N)" \
	list sda

# The real tool, on this host.
if [ -e /sys/module/pflash ]; then
	echo "ok $((passed + failed + 1)) - real: module not loaded # SKIP loaded"
	passed=$((passed + 1))
else
	for cmd in "create --size 1M" "destroy 0" list "list 0"; do
		t "real: $cmd: module not loaded" 3 "" \
			"pflashctl: ${cmd%% *}: the pflash module is not loaded (load it with: modprobe pflash)" \
			"$real" $cmd
	done
fi
t "real: usage errors come first" 2 "" \
	"pflashctl: destroy: invalid device 'x' (expected pflashN, /dev/pflashN or N)
Try 'pflashctl destroy --help' for more information." "$real" destroy x

echo "1..$((passed + failed))"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
