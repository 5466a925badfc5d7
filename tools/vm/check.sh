#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check`: the static checks, then, for each kernel, pflash.ko built
# for it and the kselftests run in a VM booted on it, judged from the TAP
# and the kernel log. Ends with one line for the whole run:
#
#   N passed, N failed, N skipped
#
# Usage: check.sh [KERNEL...]      (default: deb61 deb612 deb72 debug)
#        check.sh --static-only
#        TESTS="NAME..." check.sh [KERNEL...]
#
# With TESTS, a list of test programs named as in selftests/pflash/Makefile
# (pflash_io_test, pflashctl_test.sh, ...), each VM runs those alone, and
# nothing else runs unless asked for: no static checks (STATIC=1 runs
# them), no DKMS check, no check of the error paths, no move between two
# VMs, no fuzzer of the stream reader, no durability tests.
#
# Besides the kselftests: the stream reader's fuzzer (tools/fuzz/run.sh),
# and on deb61 the move between two VMs and the durability tests
# (tools/crash/run.sh).  PFLASH_FUZZ_SEED and PFLASH_DIFF_SEED, if set,
# rerun a seed of the netlink fuzzer and of the differential test of the
# stream readers in every VM; FUZZ_SEED and CRASH_SEED, of the stream
# fuzzer and of the durability tests.
#
# Every run keeps its logs in build/runs/<date>/ (build/runs/latest points
# at the newest): results, static/*.log, and for each kernel console.log,
# tap.log and the QEMU command line.  On deb61 and deb72, the packages of
# make deb also run on a Debian host booted with systemd
# (systemd-test.sh), logs in <kernel>/systemd/; not with TESTS.
# Environment: VM_MEM, VM_SMP, VM_TIMEOUT (see run.sh); STATIC=0 skips the
# static checks; OVMF_KERNELS, the kernels whose VM runs OVMF under QEMU
# (qemu_ovmf_test.sh), "deb61 deb72" by default.

set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$REPO/tools/vm/results.sh"

if [ "${1:-}" = --static-only ]; then
	set --
elif [ $# = 0 ]; then
	set -- deb61 deb612 deb72 debug
fi

lock_build
run=$BUILD/runs/$(date +%Y%m%d-%H%M%S)
mkdir -p "$run"
ln -sfn "$(basename "$run")" "$BUILD/runs/latest"
export RESULTS=$run/results
: >"$RESULTS"
log "logs of this run: $run"

# Run a step with its output in a log; on failure show the log's tail.
step() {
	local logf=$1
	shift
	if "$@" >"$logf" 2>&1; then
		return 0
	fi
	tail -n 25 "$logf" | sed 's/^/    /'
	return 1
}

# The test programs to run, if not all: TESTS, as a list of words.
read -r -a tests <<<"${TESTS:-}"
unset TESTS
if [ ${#tests[@]} -gt 0 ]; then
	: "${STATIC:=0}"
	log "only these tests: ${tests[*]}"
fi

if [ "${STATIC:-1}" != 0 ]; then
	"$REPO/tools/vm/static-checks.sh" "$run/static"
fi

# What every VM gets, whatever its kernel: the tool and the selftests.
ctl=$SRC/tools/pflashctl/pflashctl
if ! step "$run/pflashctl.log" make -C "$SRC/tools/pflashctl"; then
	result fail build "pflashctl (log: $run/pflashctl.log)"
	ctl=
fi
selftests=$("$REPO/tools/vm/build-selftests.sh" 2>"$run/selftests.log") || {
	result fail build "selftests (log: $run/selftests.log)"
	selftests=
}
# Each named test is one the selftests installed (kselftest-list.txt).
if [ -n "$selftests" ]; then
	for t in "${tests[@]}"; do
		grep -qx "pflash:$t" "$selftests/kselftest-list.txt" && continue
		log "error: no test named '$t'; the tests are:"
		sed -n 's/^pflash:/    /p' "$selftests/kselftest-list.txt" >&2
		exit 2
	done
fi
# The Debian packages (make deb) and lintian; the systemd VMs install
# them.  Not with TESTS, which runs the kselftests named alone.
debs=
if [ ${#tests[@]} = 0 ]; then
	debs=$BUILD/deb
	if step "$run/deb.log" env DEB_BUILD_OPTIONS=nocheck \
		"$REPO/tools/ecosystem/deb.sh" --lintian; then
		result pass static "deb: make deb builds pflash-dkms and pflashctl; lintian reports nothing"
	else
		result fail static "deb: make deb and lintian (log: $run/deb.log)"
		debs=
	fi
fi
# The coverage-guided fuzzer of the stream reader, time-boxed, on the host
# while the first VM runs (its tests mostly keep one CPU busy, of two).
fuzz=
if [ ${#tests[@]} = 0 ]; then
	"$REPO/tools/fuzz/run.sh" "$run/fuzz" >"$run/fuzz.log" 2>&1 &
	fuzz=$!
fi

for k in "$@"; do
	out=$run/$k
	mkdir -p "$out"
	case $k in
	debug) log "$k: preparing the kernel (built once and cached: ~6 min the first time)" ;;
	*) log "$k: preparing the kernel" ;;
	esac
	if ! step "$out/kernel.log" "$REPO/tools/vm/kernels.sh" "$k"; then
		result fail "$k" "kernel: could not be prepared (log: $out/kernel.log)"
		continue
	fi
	if ! ko=$("$REPO/tools/vm/build-module.sh" "$k" 2>"$out/module.log"); then
		tail -n 25 "$out/module.log" | sed 's/^/    /'
		result fail "$k" "pflash.ko: build failed (log: $out/module.log)"
		continue
	fi
	result pass "$k" "pflash.ko: built with W=1, no warning"
	# DKMS against the newest kernel's headers, in the unstable root
	# (static-checks.sh checks it against 6.1's on the host).
	if [ "$k" = deb72 ] && [ ${#tests[@]} = 0 ]; then
		. "$BUILD/kernels/$k/kernel.env"
		if step "$out/dkms.log" "$REPO/tools/vm/sid-root.sh" run \
			"$REPO/tools/ecosystem/dkms-check.sh" "$KREL"; then
			result pass "$k" "dkms: add, build, install and remove against the $KREL headers"
		else
			result fail "$k" "dkms: against the $KREL headers (log: $out/dkms.log)"
		fi
	fi
	if [ -z "$ctl" ] || [ -z "$selftests" ]; then
		result fail "$k" "vm: not run, pflashctl or the selftests did not build"
		continue
	fi
	# OVMF under QEMU, nested, takes minutes: on OVMF_KERNELS only
	# (qemu_ovmf_test.sh skips elsewhere), with that much more time.
	ovmf=0 limit=${VM_TIMEOUT:-1800}
	case " ${OVMF_KERNELS-deb61 deb72} " in
	*" $k "*) ovmf=1 limit=$((limit + 900)) ;;
	esac
	initrd=$BUILD/vm/$k/initramfs.cpio
	if ! step "$out/initramfs.log" "$REPO/tools/vm/initramfs.sh" -k "$k" \
		-p "$REPO/tools/vm/guest-tests.sh" -o "$initrd" \
		-m "$ko" -t "$selftests" -c "$ctl" -q \
		-e "PFLASH_OVMF=$ovmf" \
		-e "PFLASH_TESTS=${tests[*]}" \
		-e "PFLASH_FUZZ_SEED=${PFLASH_FUZZ_SEED:-}" \
		-e "PFLASH_DIFF_SEED=${PFLASH_DIFF_SEED:-}"; then
		result fail "$k" "initramfs: could not be built (log: $out/initramfs.log)"
		continue
	fi
	log "$k: booting the VM (console: $out/console.log)"
	"$REPO/tools/vm/run.sh" -k "$k" -i "$initrd" -d "$out" -t "$limit" || true
	"$REPO/tools/vm/judge.sh" "$k" "$out" || true
	# The fuzzers' seeds and figures.
	tr -d '\r' <"$out/tap.log" | sed -n "s/^#.*:\(fuzz: .*\)$/[$k] \1/p"

	# The debug kernel has gcov: which error paths of pflash.ko ran (of
	# the whole suite: coverage_test.sh, the last, hands them out).  Its
	# counts are read by the gcov of the compiler that built it, in the
	# unstable root.
	if [ "$k" = debug ] && [ ${#tests[@]} = 0 ]; then
		if "$REPO/tools/vm/sid-root.sh" run \
			"$REPO/tools/coverage/error-paths.py" check \
			--tap "$out/tap.log" --objdir "$BUILD/mod-$k" \
			>"$out/error-paths.log" 2>&1; then
			result pass "$k" "$(tail -n 1 "$out/error-paths.log")"
		else
			sed 's/^/    /' "$out/error-paths.log" | tail -n 25
			result fail "$k" "error paths: the run and Documentation/pflash/error-paths.rst disagree (log: $out/error-paths.log)"
		fi
	fi

	# pflash on a host: its packages installed into a Debian root that
	# boots with systemd, on Debian's 6.1 and the newest kernel.
	case $k:${#tests[@]} in
	deb61:0|deb72:0)
		if [ -n "$debs" ]; then
			"$REPO/tools/vm/systemd-test.sh" "$k" "$debs" "$out/systemd" || true
		else
			result fail "$k/systemd" "not run: the packages did not build"
		fi ;;
	esac

	# A migration between two VMs, on one kernel: it proves the move
	# end to end, which the per-kernel suite does inside one VM.
	[ "$k" = deb61 ] && [ ${#tests[@]} = 0 ] || continue
	initrd=$BUILD/vm/$k/migrate.cpio
	if ! step "$out/migrate-initramfs.log" "$REPO/tools/vm/initramfs.sh" \
		-k "$k" -p "$REPO/tools/vm/migrate-guest.sh" -o "$initrd" \
		-m "$ko" -c "$ctl"; then
		result fail "$k/two-vms" "initramfs: could not be built (log: $out/migrate-initramfs.log)"
		continue
	fi
	"$REPO/tools/vm/two-vms.sh" "$k" "$initrd" "$out/two-vms" || true

	# Durability: power loss at random points, and a replay of the
	# backing file system's writes to every flush point (tools/crash/).
	"$REPO/tools/crash/run.sh" "$k" "$ko" "$ctl" "$out/crash" || true
done

if [ -n "$fuzz" ]; then
	wait "$fuzz"
	cat "$run/fuzz.log"
fi
"$REPO/tools/vm/summary.sh" "$RESULTS"
