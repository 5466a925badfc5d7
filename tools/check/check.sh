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
#        check.sh --nfs-only [KERNEL...]   (make check-nfs; default deb61)
#        TESTS="NAME..." check.sh [KERNEL...]
#
# With TESTS, a list of test programs named as in selftests/pflash/Makefile
# (pflash_io_test, pflashctl_test.sh, ...), each VM runs those alone, and
# nothing else runs unless asked for: no static checks (STATIC=1 runs
# them), no DKMS check, no check of the error paths, no move between two
# VMs, no fuzzer of the stream reader, no durability tests.
#
# Besides the kselftests: the stream reader's fuzzer (tools/fuzz/run.sh),
# on deb61 the move between two VMs, and on deb61 and deb72 the durability
# tests (tools/crash/run.sh) and shared storage between three VMs over NFS
# (nfs.sh; alone, with --nfs-only: make check-nfs).  Every PFLASH_*_SEED, PFLASH_*_COUNT and
# PFLASH_*_STEPS set (PFLASH_FUZZ_SEED, PFLASH_DIFF_SEED, ...) goes to
# every VM, to rerun a seed of a test there; FUZZ_SEED and CRASH_SEED
# rerun the stream fuzzer's and the durability tests'.
#
# Every run keeps its logs in build/runs/<date>/ (build/runs/latest points
# at the newest): results, static/*.log, and for each kernel console.log,
# tap.log and the QEMU command line.  On deb61 and deb72, the packages of
# make deb also run on a Debian host booted with systemd
# (systemd.sh), logs in <kernel>/systemd/; not with TESTS.
# Environment: VM_MEM, VM_SMP, VM_TIMEOUT (see run.sh); STATIC=0 skips the
# static checks; OVMF_KERNELS, the kernels whose VM runs OVMF under QEMU
# (qemu_ovmf_test.sh), "deb61 deb72" by default; DOC_KERNELS, those whose
# VM runs the tests that drive pflash through its users (the docs'
# commands, ynl: user_tests below), "deb612" by default.

set -uo pipefail
. "$(dirname "$0")/../lib/harness.sh"
. "$REPO/tools/judge/judge.sh"
. "$REPO/tools/check/schedule.sh"

nfs_only=0
if [ "${1:-}" = --static-only ]; then
	set --
elif [ "${1:-}" = --nfs-only ]; then
	# Only the shared-storage test (nfs_suite), on deb61 unless told.
	shift
	nfs_only=1 STATIC=${STATIC:-0}
	[ $# -gt 0 ] || set -- deb61
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

# The tests' knobs that the VMs get from this environment, to replay a
# seed from the host: every PFLASH_*_SEED, PFLASH_*_COUNT and
# PFLASH_*_STEPS set here (PFLASH_FUZZ_SEED, PFLASH_DIFF_SEED, ...).
vm_env=()
while read -r var; do
	vm_env+=(-e "$var=${!var}")
done < <(compgen -e | grep -E '^PFLASH_[A-Z0-9_]*_(SEED|COUNT|STEPS)$' || true)

# REPEAT runs the kernels' jobs over and over (a flake hunt): N times
# each, or with KERNEL=N words a kernel its own count ("5 debug=2": the
# debug kernel's jobs twice, every other's five times); schedule.sh.
# CHECK_JOBS, how many of those jobs run at once.
CHECK_JOBS=${CHECK_JOBS:-2}
case $CHECK_JOBS in
''|*[!0-9]*|0*) die "CHECK_JOBS is a number, at least 1" ;;
esac
# (--static-only boots no kernel: nothing to repeat.)
[ $# = 0 ] || repeat_parse "${REPEAT:-1}" "$@" || exit 1

# The test programs to run, if not all: TESTS, as a list of words.
read -r -a tests <<<"${TESTS:-}"
unset TESTS
if [ ${#tests[@]} -gt 0 ]; then
	: "${STATIC:=0}"
	log "only these tests: ${tests[*]}"
fi

# timed NAME COMMAND...: run COMMAND, and note in $run/times how long it
# took, for the closing lines.
: >"$run/times"
timed() {
	local name=$1 t0=$SECONDS
	shift
	"$@"
	echo "$name $((SECONDS - t0))" >>"$run/times"
}

# The debug kernel takes the longest to build (about fifteen minutes the
# first time): its build starts now, beside the static checks, which leave
# a CPU idle much of the time; its suite then waits for it (kernels.sh
# builds one at a time) and finds it built.
prebuild=
case " $* " in
*" debug "*)
	"$REPO/tools/kernels/kernels.sh" debug >"$run/debug-prebuild.log" 2>&1 &
	prebuild=$! ;;
esac

# The coverage-guided fuzzer of the stream reader, time-boxed, on the host
# beside the static checks, which leave a CPU idle much of the time.
fuzz=
if [ ${#tests[@]} = 0 ] && [ "$nfs_only" = 0 ]; then
	"$REPO/tools/fuzz/run.sh" "$run/fuzz" >"$run/fuzz.log" 2>&1 &
	fuzz=$!
fi

# pflash as a patch series in the kernel's tree (tools/intree/series.sh):
# applied to 7.2's source, checkpatch and coccicheck on it, and built there
# as a module and built in, in a copy of the debug kernel's build, once
# that is built: in a warm run beside the static checks, as the fuzzer, so
# that neither takes a CPU from the VMs for long.  With the static checks,
# when the kernels include debug; alone, make series-check.
series=
if [ "${STATIC:-1}" != 0 ] && [ ${#tests[@]} = 0 ] && [ "$nfs_only" = 0 ]; then
	case " $* " in
	*" debug "*)
		"$REPO/tools/intree/series.sh" check >"$run/series.log" 2>&1 &
		series=$! ;;
	*)
		result skip series "the in-tree series: it builds in the debug kernel's build, and KERNELS has no debug (make series-check runs it alone)" ;;
	esac
fi

if [ "${STATIC:-1}" != 0 ]; then
	timed static "$REPO/tools/check/static.sh" "$run/static"
fi

# What every VM gets, whatever its kernel: the tool and the selftests.
ctl=$SRC/tools/pflashctl/pflashctl
if ! step "$run/pflashctl.log" make -C "$SRC/tools/pflashctl"; then
	result fail build "pflashctl (log: $run/pflashctl.log)"
	ctl=
fi
selftests=$("$REPO/tools/images/selftests.sh" 2>"$run/selftests.log") || {
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
# The tests that drive pflash through its users, the docs' commands and
# ynl: Documentation/pflash/error-paths.rst shows that they alone reach no
# error path of the module, and what they run does not change with the
# kernel, so the whole suite runs them on one kernel, DOC_KERNELS's, or the
# first of this run's other than debug (where the checks make them minutes
# long).  The other kernels leave them out (kselftests.sh: not run, not a
# skip).  Named in TESTS, they run wherever asked.
user_tests=
doc_kernels=
if [ ${#tests[@]} = 0 ] && [ -n "$selftests" ]; then
	for k in ${DOC_KERNELS-deb612}; do
		case " $* " in *" $k "*) doc_kernels+=" $k" ;; esac
	done
	if [ -z "$doc_kernels" ]; then
		for k in "$@"; do
			[ "$k" = debug ] || { doc_kernels=" $k"; break; }
		done
	fi
	user_tests=$(sed -n 's/^pflash:\(doc_[a-z_]*test\.sh\|ynl_test\.sh\)$/\1/p' \
		"$selftests/kselftest-list.txt" | tr '\n' ' ')
fi

# The Debian packages (make deb) and lintian; the systemd VMs install
# them.  Not with TESTS, which runs the kselftests named alone.
debs=
if [ ${#tests[@]} = 0 ] && [ "$nfs_only" = 0 ]; then
	debs=$BUILD/deb
	if step "$run/deb.log" env DEB_BUILD_OPTIONS=nocheck \
		"$REPO/tools/ecosystem/deb.sh" --lintian; then
		result pass static "deb: make deb builds pflash-dkms and pflashctl; lintian reports nothing"
	else
		result fail static "deb: make deb and lintian (log: $run/deb.log)"
		debs=
	fi
fi
# nfs_suite KERNEL KO OUT: shared storage between hosts, an NFS server and
# two hosts, whose links are cut and one of which loses its power
# (nfs.sh), its logs in OUT: in `make check` on deb61 and deb72, and
# alone in `make check-nfs` (check.sh --nfs-only).
nfs_suite() {
	local k=$1 ko=$2 out=$3 nfs initrd=$BUILD/vm/$1/nfs.cpio
	mkdir -p "$out"
	if nfs=$("$REPO/tools/images/nfs-utils.sh" 2>"$out/nfs-utils.log") &&
	   step "$out/nfs-initramfs.log" "$REPO/tools/images/initramfs.sh" \
		-k "$k" -p "$REPO/tools/guests/nfs.sh" -o "$initrd" \
		-m "$ko" -c "$ctl" -t "$selftests" -M nfsd -M nfsv4 \
		-x /usr/bin/mount -x /usr/bin/umount \
		-x "$nfs/sbin/mount.nfs=/sbin/mount.nfs4" \
		-x "$nfs/sbin/mount.nfs=/sbin/umount.nfs4" \
		-x "$nfs/usr/sbin/rpc.nfsd=/usr/sbin/rpc.nfsd" \
		-x "$nfs/usr/sbin/exportfs=/usr/sbin/exportfs" \
		-x "$nfs/usr/sbin/rpc.mountd=/usr/sbin/rpc.mountd"; then
		"$REPO/tools/check/nfs.sh" "$k" "$initrd" "$out" || true
	else
		result fail "$k/nfs" "initramfs: could not be built (logs: $out/nfs-utils.log, $out/nfs-initramfs.log)"
	fi
}

# prepare KERNEL OUT NAME: the kernel ready and pflash.ko built for it
# (cached after the first time: kernels.sh and module.sh take a lock), its
# path in $ko; logs in OUT, a result under NAME only when it fails.
prepare() {
	local k=$1 out=$2 name=$3
	mkdir -p "$out"
	case $k in
	debug) log "$k: preparing the kernel (built once and cached: ~15 min the first time)" ;;
	*) log "$k: preparing the kernel" ;;
	esac
	if ! step "$out/kernel.log" "$REPO/tools/kernels/kernels.sh" "$k"; then
		result fail "$name" "kernel: could not be prepared (log: $out/kernel.log)"
		return 1
	fi
	if ! ko=$("$REPO/tools/kernels/module.sh" "$k" 2>"$out/module.log"); then
		tail -n 25 "$out/module.log" | sed 's/^/    /'
		result fail "$name" "pflash.ko: build failed (log: $out/module.log)"
		return 1
	fi
}

# images_built NAME: whether pflashctl and the selftests, which the test
# VMs' images hold, built; if not, a failure under NAME.
images_built() {
	[ -n "$ctl" ] && [ -n "$selftests" ] && return 0
	result fail "$1" "not run: pflashctl or the selftests did not build"
	return 1
}

# kernel_suite KERNEL OUT: the kselftests of one kernel, its logs in OUT:
# pflash.ko built for it (and DKMS against 7.2's headers), the kselftests'
# VM (and the error paths, on the debug kernel).
kernel_suite() {
	local k=$1 out=$2 ko initrd leave=
	prepare "$k" "$out" "$k" || return
	result pass "$k" "pflash.ko: built with W=1, no warning"
	# DKMS against the newest kernel's headers, in the unstable root
	# (static.sh checks it against 6.1's on the host).
	if [ "$k" = deb72 ] && [ ${#tests[@]} = 0 ]; then
		. "$BUILD/kernels/$k/kernel.env"
		if step "$out/dkms.log" "$REPO/tools/kernels/sid-root.sh" run \
			"$REPO/tools/ecosystem/dkms-check.sh" "$KREL"; then
			result pass "$k" "dkms: add, build, install and remove against the $KREL headers"
		else
			result fail "$k" "dkms: against the $KREL headers (log: $out/dkms.log)"
		fi
	fi
	images_built "$k" || return
	# OVMF under QEMU, nested, takes minutes: on OVMF_KERNELS only
	# (qemu_ovmf_test.sh skips elsewhere), with that much more time.
	# The debug kernel's checks make its suite about three times slower:
	# twice the limit (its VM ran out of 1800 s on a shared machine).
	ovmf=0 limit=${VM_TIMEOUT:-1800}
	[ "$k" = debug ] && limit=$((limit * 2))
	case " ${OVMF_KERNELS-deb61 deb72} " in
	*" $k "*) ovmf=1 limit=$((limit + 900)) ;;
	esac
	case "$doc_kernels " in
	*" $k "*) ;;
	*) leave=$user_tests
	   [ -z "$leave" ] ||
		log "$k: leaves out ${leave% }: they run on${doc_kernels:- no kernel of this run (DOC_KERNELS)}" ;;
	esac
	initrd=$BUILD/vm/$k/initramfs.cpio
	if ! step "$out/initramfs.log" "$REPO/tools/images/initramfs.sh" -k "$k" \
		-p "$REPO/tools/guests/kselftests.sh" -o "$initrd" \
		-m "$ko" -t "$selftests" -c "$ctl" -q \
		-e "PFLASH_OVMF=$ovmf" -e "PFLASH_LEAVE_OUT=$leave" \
		-e "PFLASH_TESTS=${tests[*]}" "${vm_env[@]}"; then
		result fail "$k" "initramfs: could not be built (log: $out/initramfs.log)"
		return
	fi
	log "$k: booting the VM (console: $out/console.log)"
	# A kernel that has not started init in 5 minutes hangs: booted again.
	"$REPO/tools/boot/run.sh" -k "$k" -i "$initrd" -d "$out" -t "$limit" \
		-b 300 || true
	judge_vm "$k" "$out" || true
	[ -s "$out/times.txt" ] &&
		log "$k: the slowest programs: $(head -n 5 "$out/times.txt" | awk '{ printf "%s%s %d s", sep, $2, $1; sep = ", " }')"
	# The fuzzers' seeds and figures.
	tr -d '\r' <"$out/tap.log" | sed -n "s/^#.*:\(fuzz: .*\)$/[$k] \1/p"

	# The debug kernel has gcov: which error paths of pflash.ko ran (of
	# the whole suite: coverage_test.sh, the last, hands them out).  Its
	# counts are read by the gcov of the compiler that built it, in the
	# unstable root.
	if [ "$k" = debug ] && [ ${#tests[@]} = 0 ]; then
		if "$REPO/tools/kernels/sid-root.sh" run \
			"$REPO/tools/coverage/error-paths.py" check \
			--tap "$out/tap.log" --objdir "$BUILD/mod-$k" \
			>"$out/error-paths.log" 2>&1; then
			result pass "$k" "$(tail -n 1 "$out/error-paths.log")"
		else
			sed 's/^/    /' "$out/error-paths.log" | tail -n 25
			result fail "$k" "error paths: the run and Documentation/pflash/error-paths.rst disagree (log: $out/error-paths.log)"
		fi
	fi
}

# The kernels that also run the suites of a host (host_suite): Debian's
# 6.1, the oldest, and 7.2, the newest, whose block layer changed most.
host_kernels="deb61 deb72"

# host_suite KERNEL OUT: the suites of a host, on one of host_kernels,
# their logs in OUT: systemd, the move between two VMs (deb61), shared
# storage over NFS (alone in --nfs-only) and the durability tests.  A job
# of its own beside kernel_suite's, so that the two CPUs share the work
# evenly.
host_suite() {
	local k=$1 out=$2 ko initrd
	prepare "$k" "$out/host" "$k/host" || return
	if [ "$nfs_only" = 1 ]; then
		images_built "$k/host" && nfs_suite "$k" "$ko" "$out/nfs"
		return
	fi

	# pflash on a host: its packages installed into a Debian root that
	# boots with systemd.
	if [ -n "$debs" ]; then
		"$REPO/tools/check/systemd.sh" "$k" "$debs" "$out/systemd" || true
	else
		result fail "$k/systemd" "not run: the packages did not build"
	fi

	# The rest boots images with pflashctl and the selftests.
	images_built "$k/host" || return

	# A migration between two VMs, on one kernel: it proves the move
	# end to end, which the per-kernel suite does inside one VM.
	if [ "$k" = deb61 ]; then
		initrd=$BUILD/vm/$k/migrate.cpio
		if step "$out/migrate-initramfs.log" "$REPO/tools/images/initramfs.sh" \
			-k "$k" -p "$REPO/tools/guests/migrate.sh" -o "$initrd" \
			-m "$ko" -c "$ctl"; then
			"$REPO/tools/check/two-vms.sh" "$k" "$initrd" "$out/two-vms" || true
		else
			result fail "$k/two-vms" "initramfs: could not be built (log: $out/migrate-initramfs.log)"
		fi
	fi

	# Shared storage between hosts over NFS: three VMs (nfs_suite).
	nfs_suite "$k" "$ko" "$out/nfs"

	# Durability: power loss at random points, and a replay of the
	# backing file system's writes to every flush point (tools/crash/).
	"$REPO/tools/crash/run.sh" "$k" "$ko" "$ctl" "$out/crash" || true
}

# The jobs: each kernel's kselftests (KERNEL), and the suites of a host on
# deb61 and deb72 (KERNEL:host); in --nfs-only those alone, with TESTS no
# host's.  In the order that keeps two CPUs evenly busy, by the seconds
# of the last warm run (8360c69): the debug kernel's kselftests (874),
# deb61's (367), deb72's host (349), deb612's kselftests (380, with the
# docs'), deb72's kselftests (438) and deb61's host (289).  The debug
# kernel's lane then takes deb72's kselftests (1312 s in all), the other
# lane the other four (1385 s); in the order before (debug, deb72, deb61,
# deb72:host, deb612, deb61:host) they fell 1254 against 1443, and the
# warm run took 25 min 25 s.  Fresh, the debug kernel's lane is longer
# (its build) and either order ends with it.
jobs=()
for k in "$@"; do
	[ "$nfs_only" = 1 ] || jobs+=("$k")
	case $nfs_only:${#tests[@]}:" $host_kernels " in
	1:*|0:0:*" $k "*) jobs+=("$k:host") ;;
	esac
done
[ ${#jobs[@]} = 0 ] ||
mapfile -t jobs < <(printf '%s\n' "${jobs[@]}" |
	awk '{ i = index(" debug deb61 deb72:host deb612 deb72 deb61:host ", " " $0 " ")
	       print (i ? i : 999), NR, $0 }' | sort -n -k1,1 -k2,2 | cut -d' ' -f3)

# The jobs, CHECK_JOBS at a time, over and over as REPEAT says, on the
# same build (schedule.sh): each repetition's results in rep-N/results,
# and the closing lines judge them all together, naming every result
# that failed in one repetition and passed in another.
# start_job JOB DIR: JOB's suite, its logs in DIR/KERNEL.
start_job() {
	local k=${1%:host}
	if [ "$1" = "$k" ]; then
		timed "$1${2#"$run"}" kernel_suite "$k" "$2/$k"
	else
		timed "$1${2#"$run"}" host_suite "$k" "$2/$k"
	fi
}
run_jobs "$CHECK_JOBS" "$run" start_job "${jobs[@]}"

# await PID: until the job PID, started beside the suites, has ended (its
# results are in RESULTS).  Not `wait PID`: after a flake hunt of 22 jobs,
# bash said "pid N is not a child of this shell" of the fuzzer, which had
# ended an hour before.
await() {
	while kill -0 "$1" 2>/dev/null; do
		sleep 1
	done
}
[ -z "$prebuild" ] || await "$prebuild"
if [ -n "$fuzz" ]; then
	await "$fuzz"
	cat "$run/fuzz.log"
fi
if [ -n "$series" ]; then
	await "$series"
	grep -v '^#   ' "$run/series.log" || true
	grep -q "	series	" "$run/results" ||
		RESULTS=$run/results result fail series "the in-tree series check ended before its results (log: $run/series.log)"
fi
log "took $SECONDS s: $(awk '{ printf "%s%s %d s", sep, $1, $2; sep = ", " }' "$run/times")"
judge_summary "${results[@]}"
