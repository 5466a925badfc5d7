#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The static checks `make check` runs before the VMs, each one result
# (see tools/judge/judge.sh) under "static":
#
#   module W=1    pflash.ko against Debian's 6.1 headers (linux-headers-amd64)
#                 with W=1: any compiler warning fails
#   sparse        make C=2 with Debian's sparse: any finding fails
#   checkpatch    the newest series' checkpatch.pl --strict --no-tree over
#                 module/*.[ch] and uapi/linux/*.h (compat.h may test
#                 LINUX_VERSION_CODE and add typedefs): any finding fails
#   kernel-doc    the newest series' scripts/kernel-doc -none -Wall over the
#                 same files: any warning fails
#   pflashctl     the tool builds (its Makefile has -Wall -Wextra -Werror)
#   selftests     the kselftests build (-Wall -Wextra -Werror)
#
# and the tool's host tests (make -C tools/pflashctl check), run.sh's
# (tools/boot/test_run.sh), check.sh's scheduler's
# (tools/check/test_schedule.sh), harness.sh's (tools/lib/
# test_harness.sh) and root-initramfs.sh's (tools/images/
# test_root_initramfs.sh), each of their TAP results one result under
# "host".
#
# Usage: RESULTS=FILE static.sh LOGDIR
# Logs go to LOGDIR. Exits 1 if anything failed.

set -euo pipefail
. "$(dirname "$0")/../lib/harness.sh"
. "$REPO/tools/judge/judge.sh"

LOGDIR=${1:?usage: static.sh LOGDIR}
: "${RESULTS:?RESULTS must name the results file}"
mkdir -p "$LOGDIR"
failed=0

# check NAME LOG DESCRIPTION CMD...: run CMD with its output in LOG; pass if
# it succeeds and LOG has no "warning:" or "error:" line.
check() {
	local name=$1 log=$LOGDIR/$2 what=$3
	shift 3
	if "$@" >"$log" 2>&1 && ! grep -Eq '(warning|error):' "$log"; then
		result pass static "$name: $what"
	else
		result fail static "$name: $what (log: $log)"
		grep -E '(warning|error):' "$log" | head -n 20 | sed 's/^/[static]     /'
		failed=1
	fi
}

kver=$(dpkg-query -W -f='${Depends}' linux-headers-amd64 |
	sed -n 's/^linux-headers-\([^ ,]*\).*/\1/p')
kdir=/usr/src/linux-headers-$kver
mod=$BUILD/mod-static
mkdir -p "$mod"
rsync -a -c --delete --include=/Kbuild --include='/module/***' \
	--include='/uapi/***' --exclude='*' "$SRC/" "$mod/"

check "module W=1" module-w1.log "pflash.ko builds for $kver with no warning" \
	make -C "$kdir" M="$mod" W=1 modules
# C=2 checks every source, built or not.
check sparse sparse.log "no finding against the $kver headers" \
	make -C "$kdir" M="$mod" W=1 C=2 CHECK=sparse modules

# checkpatch and kernel-doc of the newest series, whose rules are the ones
# a submission meets.  From 7.x on, W=1 no longer runs kernel-doc for
# external modules, so it runs here, on every file.
read -r tarball ver <<<"$(newest_src)"
scripts=$BUILD/linux-scripts-$ver
extract_tarball "$scripts" "$tarball" scripts/checkpatch.pl \
	scripts/spelling.txt scripts/const_structs.checkpatch \
	tools/docs/kernel-doc tools/lib/python
(
	# From the copy: in a git tree checkpatch leaves a cache file behind.
	cd "$mod"
	cp=("$scripts/scripts/checkpatch.pl" --strict --no-tree --terse
	    --no-summary --show-types)
	"${cp[@]}" -f $(ls module/*.[ch] uapi/linux/*.h | grep -vx module/compat.h)
	# compat.h is where version checks belong, and where the typedefs
	# newer kernels have are given to older ones: only those are allowed.
	"${cp[@]}" --ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON,NEW_TYPEDEFS \
		-f module/compat.h
) >"$LOGDIR/checkpatch.log" 2>&1 || true
if [ ! -s "$LOGDIR/checkpatch.log" ]; then
	result pass static "checkpatch: module/ and uapi/ clean (--strict, $ver)"
else
	result fail static "checkpatch: $(wc -l <"$LOGDIR/checkpatch.log") finding(s) (log: $LOGDIR/checkpatch.log)"
	head -n 20 "$LOGDIR/checkpatch.log" | sed 's/^/[static]     /'
	failed=1
fi
(cd "$mod" && python3 "$scripts/tools/docs/kernel-doc" -none -Wall \
	module/*.[ch] uapi/linux/*.h) >"$LOGDIR/kernel-doc.log" 2>&1 || true
if [ ! -s "$LOGDIR/kernel-doc.log" ]; then
	result pass static "kernel-doc: module/ and uapi/ clean (-Wall, $ver)"
else
	result fail static "kernel-doc: $(wc -l <"$LOGDIR/kernel-doc.log") finding(s) (log: $LOGDIR/kernel-doc.log)"
	head -n 20 "$LOGDIR/kernel-doc.log" | sed 's/^/[static]     /'
	failed=1
fi

check pflashctl pflashctl.log "builds with -Wall -Wextra -Werror" \
	make -C "$SRC/tools/pflashctl"
check selftests selftests.log "build with -Wall -Wextra -Werror" \
	"$REPO/tools/images/selftests.sh"

# The tool's host tests print TAP; each result counts.
if make -C "$SRC/tools/pflashctl" check >"$LOGDIR/host-tests.log" 2>&1; then
	hrc=0
else
	hrc=$?
fi
judge_tap host "$LOGDIR/host-tests.log" || failed=1
# run.sh's second boot of a kernel that hung or panicked before init, on
# a pretend QEMU (tools/boot/test_run.sh): TAP, each result one.
"$REPO/tools/boot/test_run.sh" >"$LOGDIR/boot-run.log" 2>&1 || true
judge_tap host "$LOGDIR/boot-run.log" || failed=1
# check.sh's jobs, over and over for a flake hunt, on pretend jobs; and
# harness.sh's read_line on pretend writers.
"$REPO/tools/check/test_schedule.sh" >"$LOGDIR/schedule.log" 2>&1 || true
judge_tap host "$LOGDIR/schedule.log" || failed=1
"$REPO/tools/lib/test_harness.sh" >"$LOGDIR/harness.log" 2>&1 || true
judge_tap host "$LOGDIR/harness.log" || failed=1
# root-initramfs.sh on a pretend kernel, with and without its modules.dep.
"$REPO/tools/images/test_root_initramfs.sh" >"$LOGDIR/root-initramfs.log" 2>&1 || true
judge_tap host "$LOGDIR/root-initramfs.log" || failed=1
check judge judge.log "the judge's own tests pass (tools/judge/test_judge.py)" \
	python3 -m unittest "$REPO/tools/judge/test_judge.py"
# The debug kernel's run checks which error paths ran; that every one is
# in Documentation/pflash/error-paths.rst needs no run.
check error-paths error-paths.log "every error path of module/ is in Documentation/pflash/error-paths.rst, and nothing else" \
	python3 "$REPO/tools/coverage/error-paths.py" drift
if [ "$hrc" != 0 ]; then
	result fail host "pflashctl host tests: make check exited $hrc (log: $LOGDIR/host-tests.log)"
	failed=1
fi

# --- ecosystem (issue 9): the netlink spec, install, DKMS -------------------
# Each judged by its exit status alone (their logs quote kbuild and dkms):
#   spec          the spec valid against the 6.12 genetlink schema; the uapi
#                 header defines what ynl-gen-c.py --mode uapi renders from
#                 it, value for value; netlink.rst names all of it
#   install       make install/uninstall/install-dkms into a DESTDIR
#   abi           Documentation/ABI: get_abi.py, and every sysfs attribute
#   netlink-gen   tools/check/ynl-gen.sh: the generated netlink code is what
#                 the spec generates, and the ABI (pflash-abi.txt) unchanged
#   docs          tools/check/docs.sh: Sphinx, nitpicky, over the documents
#                 here and as the in-tree series has them
#   layers        tools/check/layers.py: the layers of module/ call one way,
#                 netlink stays in netlink.c, no function returns with a lock
#                 held (Coccinelle); its self-test breaks each rule once
#   dkms          make install-dkms/uninstall-dkms with Debian's dkms against
#                 the 6.1 headers (needs root; skipped without)
eco() {
	local name=$1 log=$LOGDIR/$2 what=$3
	shift 3
	if "$@" >"$log" 2>&1; then
		result pass static "$name: $what"
	else
		result fail static "$name: $what (log: $log)"
		tail -n 15 "$log" | sed 's/^/[static]     /'
		failed=1
	fi
}
eco spec spec.log "pflash.yaml valid, matches uapi/linux/pflash.h and netlink.rst" \
	"$REPO/tools/ecosystem/spec-check.sh"
eco install install.log "make install and install-dkms into a DESTDIR" \
	"$REPO/tools/ecosystem/install-check.sh"
eco abi abi.log "Documentation/ABI reads clean (get_abi.py) and documents every sysfs attribute" \
	"$REPO/tools/ecosystem/abi-check.sh"
eco netlink-gen netlink-gen.log "uapi/linux/pflash.h and module/netlink-gen.[ch] are what 7.2's ynl_gen_c.py makes of the spec; the uapi ABI keeps its numbers" "$REPO/tools/check/ynl-gen.sh" check
eco docs docs.log "Documentation/pflash/ reads clean with Sphinx, here and in the in-tree series, which names nothing of the test house (tools/check/docs.sh)" \
	"$REPO/tools/check/docs.sh"
eco layers layers.log "module/ keeps the layering rules of internals.rst (tools/check/layers.py, and its self-test)" python3 "$REPO/tools/check/layers.py" --self-test --root "$SRC"
if [ "$(id -u)" = 0 ] && command -v dkms >/dev/null; then
	eco dkms dkms.log "dkms add, build, install and remove against the 6.1 headers" \
		"$REPO/tools/ecosystem/dkms-check.sh"
else
	result skip static "dkms: needs root and dkms"
fi

exit $failed
