#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the initramfs a test VM boots: an uncompressed cpio (the fastest to
# unpack under TCG) holding busybox, dash as /bin/sh and bash, the few real
# tools the tests need, the kernel modules, pflash.ko, pflashctl, the
# installed kselftests and tools/guests/init.sh as /init, which runs
# PAYLOAD.
#
# Usage: initramfs.sh -k NAME -p PAYLOAD -o OUT.cpio [-m pflash.ko]
#                     [-t SELFTESTS_DIR] [-c pflashctl] [-e KEY=VALUE]...
#                     [-x PROGRAM[=PATH]]... [-M MODULE]... [-l] [-q]
#
#   NAME       the kernel (deb61, deb612, debug): its modules go in
#   PAYLOAD    the script /init runs, installed as /payload
#              (tools/guests/kselftests.sh, tools/guests/demo.sh, ...)
#   KEY=VALUE  one more line of /etc/pflash-vm.env, e.g. PFLASH_TESTS=...
#   -x         one more program, with its libraries, in /usr/bin, or at
#              PATH if given (as /sbin/mount.nfs4)
#   -M         one more kernel module, with what it depends on (nfsd)
#   -l         lean: without fio, python3 and the ynl tools (70 MB of the
#              100), for VMs that boot often and need none (tools/crash/)
#   -q         QEMU for the VM to run, nested: the host's qemu-system-x86_64,
#              its TCG accelerator (a module) and kvmvapic.bin, OVMF's code,
#              and pflash-qemu-migrate (some 50 MB more)
#
# Inside the VM:
#   /lib/modules/KREL/extra/pflash.ko   `modprobe pflash` works (depmod -b)
#   /usr/sbin/pflashctl
#   /kselftest/                          run_kselftest.sh, pflash/
#   /etc/pflash-vm.env                   PFLASH_KERNEL=NAME, PFLASH_KREL=KREL,
#                                        and each -e KEY=VALUE
#   /usr/share/OVMF/OVMF_VARS*.fd        real firmware variable stores
#   /usr/bin/python3, /opt/ynl/          python3 and the kernel's ynl tools
#   /usr/lib/pflash-test/tap.sh          the payloads' TAP (tools/guests/tap.sh)
#   /usr/bin/qemu-system-x86_64 (-q)     QEMU, its modules where QEMU looks
#                                        for them, /usr/share/OVMF/*CODE*

set -euo pipefail
. "$(dirname "$0")/../lib/harness.sh"

NAME= PAYLOAD= OUT= KO= SELFTESTS= CTL= ENV=() EXTRA=() EXTRA_MODS=() LEAN=0 QEMU=0
while getopts k:p:o:m:t:c:e:x:M:lq opt; do
	case $opt in
	k) NAME=$OPTARG ;;
	p) PAYLOAD=$OPTARG ;;
	o) OUT=$OPTARG ;;
	m) KO=$OPTARG ;;
	t) SELFTESTS=$OPTARG ;;
	c) CTL=$OPTARG ;;
	e) ENV+=("$OPTARG") ;;
	x) EXTRA+=("$OPTARG") ;;
	M) EXTRA_MODS+=("$OPTARG") ;;
	l) LEAN=1 ;;
	q) QEMU=1 ;;
	*) die "usage: initramfs.sh -k NAME -p PAYLOAD -o OUT [-m KO] [-t DIR] [-c CTL] [-e KEY=VALUE]... [-x PROG[=PATH]]... [-M MODULE]... [-l] [-q]" ;;
	esac
done
[ -n "$NAME" ] && [ -n "$PAYLOAD" ] && [ -n "$OUT" ] || die "-k, -p and -o are required"
. "$BUILD/kernels/$NAME/kernel.env"

# Kernel modules the tests and benchmarks use, with what they depend on.
# Names missing from a kernel, or built in, are fine.
MODULES=(
	loop brd zram lzo lzo-rle dm-mod dm-flakey dm-log-writes
	libcrc32c crc32c_generic crc32c-intel tcrypt
	ext4 virtio_pci virtio_blk virtio_console virtio_net qemu_fw_cfg
)

# Real programs, used instead of busybox's applet where one is listed; each
# goes in at its own path, with its shared libraries.
PROGRAMS=(
	/usr/bin/timeout	# kselftest's runner needs coreutils' timeout
	/usr/bin/dd		# iflag/oflag=direct, conv=fsync, status=
	/usr/bin/kmod		# modprobe/rmmod/... for .ko.xz and softdeps
	/usr/sbin/losetup
	/usr/sbin/blockdev
	/usr/sbin/blkdiscard
	/usr/bin/flock
	/usr/sbin/dmsetup
	/usr/sbin/mke2fs
	/usr/bin/fio
)

stage=$(mktemp -d "$BUILD/initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT

# --- the skeleton ----------------------------------------------------------
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,lib,lib64,etc,proc,sys,dev,tmp,run,root,mnt}
chmod 1777 "$stage/tmp"
cp /bin/busybox "$stage/bin/busybox"
# Applets are symlinks; a real program copied over one later wins.
busybox --list-full | grep -vx bin/busybox | while read -r applet; do
	ln -sf /bin/busybox "$stage/$applet"
done
# The kernel opens /dev/console for init before devtmpfs is mounted.
if [ "$(id -u)" = 0 ]; then
	mknod -m 600 "$stage/dev/console" c 5 1
fi
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
	>"$stage/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$stage/etc/group"

# Copy a program and the shared libraries it loads (ldd), each at its path.
copy_with_libs() {
	local prog=$1 dest=${2:-$1} lib
	mkdir -p "$stage$(dirname "$dest")"
	rm -f "$stage$dest"
	cp -L "$prog" "$stage$dest"
	ldd "$prog" 2>/dev/null | awk '/=> \//{print $3} /^\t\//{print $1}' |
	while read -r lib; do
		[ -e "$stage$lib" ] && continue
		mkdir -p "$stage$(dirname "$lib")"
		cp -L "$lib" "$stage$lib"
	done
}

for p in "${PROGRAMS[@]}"; do
	[ "$LEAN" = 1 ] && [ "$p" = /usr/bin/fio ] && continue
	copy_with_libs "$p"
	# busybox's applet of the same name, wherever it is, now leads here.
	for d in bin sbin usr/bin usr/sbin; do
		if [ "$(readlink "$stage/$d/${p##*/}")" = /bin/busybox ]; then
			ln -sf "$p" "$stage/$d/${p##*/}"
		fi
	done
done
# The shell is dash, as on Debian: busybox's sh would run its own applets
# before the real programs in PATH. bash for the scripts that ask for it.
copy_with_libs /usr/bin/dash /bin/dash
ln -sf dash "$stage/bin/sh"
copy_with_libs /usr/bin/bash /bin/bash
for l in modprobe insmod rmmod lsmod modinfo depmod; do
	ln -sf /usr/bin/kmod "$stage/sbin/$l"
done
ln -sf mke2fs "$stage/usr/sbin/mkfs.ext4"
if [ -n "$CTL" ]; then
	copy_with_libs "$CTL" /usr/sbin/pflashctl
fi
for p in ${EXTRA[@]+"${EXTRA[@]}"}; do
	case $p in
	*=*) copy_with_libs "${p%%=*}" "${p#*=}" ;;
	*) copy_with_libs "$p" "/usr/bin/${p##*/}" ;;
	esac
done
# python3 with yaml and jsonschema (a lean subset: tools/ecosystem/
# python-rt.sh), and the kernel's ynl tools with pflash's spec in /opt/ynl,
# for selftests/pflash/ynl_test.sh and the doc_*test.sh: some 17 MB and 500
# files more (113 MB), which the kernel takes about 2 s more to unpack under
# TCG (3.5 s instead of 1.5 s, measured on deb61), for every kernel.
if [ "$LEAN" = 0 ] && [ -x /usr/bin/python3 ] && rt=$("$REPO/tools/ecosystem/python-rt.sh") &&
   ynl=$("$REPO/tools/ecosystem/ynl-tree.sh"); then
	cp -a "$rt/." "$stage/"
	rm -f "$stage/.done"
	copy_with_libs "$rt/usr/bin/python3" /usr/bin/python3
	mkdir -p "$stage/opt/ynl"
	cp -a "$ynl/." "$stage/opt/ynl/"
	rm -f "$stage/opt/ynl/.extracted"
fi
cp /etc/mke2fs.conf "$stage/etc/"
# QEMU nested in the VM (selftests/pflash/qemu_*_test.py): Debian builds
# its TCG accelerator as a module, found where QEMU was built to look.
if [ "$QEMU" = 1 ]; then
	copy_with_libs /usr/bin/qemu-system-x86_64
	copy_with_libs /usr/lib/x86_64-linux-gnu/qemu/accel-tcg-x86_64.so
	install -D -m 644 /usr/share/qemu/kvmvapic.bin "$stage/usr/share/qemu/kvmvapic.bin"
	for f in /usr/share/OVMF/OVMF_CODE.fd /usr/share/OVMF/OVMF_CODE_4M.fd; do
		install -D -m 644 "$f" "$stage$f"
	done
	install -D -m 755 "$REPO/tools/pflash-qemu-migrate/pflash-qemu-migrate" \
		"$stage/usr/sbin/pflash-qemu-migrate"
fi
for f in /usr/share/OVMF/OVMF_VARS.fd /usr/share/OVMF/OVMF_VARS_4M.fd; do
	if [ -e "$f" ]; then
		install -D -m 644 "$f" "$stage$f"
	fi
done

# --- kernel modules --------------------------------------------------------
# Dependencies resolve by the modules.dep of the kernel's own tree, which
# kernels.sh made (modules_dep).
srcbase=${MODDIR%/lib/modules/*}
dstmod=$stage/lib/modules/$KREL
mkdir -p "$dstmod"
want=("${MODULES[@]}" ${EXTRA_MODS[@]+"${EXTRA_MODS[@]}"})
if [ -n "$KO" ]; then
	install -D -m 644 "$KO" "$dstmod/extra/pflash.ko"
	deps=$(modinfo -F depends "$KO")
	want+=(${deps//,/ })
fi
for m in "${want[@]}"; do
	# "insmod /path" per module to load; "builtin m" for built-in ones.
	modprobe -d "$srcbase" -S "$KREL" --show-depends "$m" 2>/dev/null || true
done | awk '$1 == "insmod" {print $2}' | sort -u | while read -r ko; do
	rel=${ko#"$MODDIR"/}
	case $ko in
	*.ko.xz)
		mkdir -p "$dstmod/$(dirname "$rel")"
		xz -dc "$ko" >"$dstmod/${rel%.xz}" ;;
	*.ko.zst)
		mkdir -p "$dstmod/$(dirname "$rel")"
		zstd -qdc "$ko" >"$dstmod/${rel%.zst}" ;;
	*)
		install -D -m 644 "$ko" "$dstmod/$rel" ;;
	esac
done
for f in modules.builtin modules.builtin.modinfo modules.order; do
	[ -e "$MODDIR/$f" ] && cp "$MODDIR/$f" "$dstmod/"
done
depmod -b "$stage" "$KREL"

# --- tests, init and payload -----------------------------------------------
if [ -n "$SELFTESTS" ]; then
	cp -a "$SELFTESTS" "$stage/kselftest"
fi
install -m 755 "$REPO/tools/guests/init.sh" "$stage/init"
install -m 755 "$PAYLOAD" "$stage/payload"
install -D -m 644 "$REPO/tools/guests/tap.sh" "$stage/usr/lib/pflash-test/tap.sh"
write_env "$stage/etc/pflash-vm.env" PFLASH_KERNEL="$NAME" PFLASH_KREL="$KREL" \
	"${ENV[@]}"

mkdir -p "$(dirname "$OUT")"
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
	cpio --quiet -o -H newc -R 0:0) >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "$OUT"
