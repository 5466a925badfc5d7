#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# pflash on a real host: the Debian packages (make deb) installed into a
# Debian root file system with systemd (systemd-root.sh), where DKMS
# builds the module for the root's kernel headers; then a VM that boots
# that root, with systemd as PID 1, on the kernel of those headers, and
# runs tools/guests/systemd.sh: the devices of /etc/pflash/pflashtab come
# up at boot, udev names them by uuid, a write in writeback mode reaches
# its backing file when pflash.service stops and at a clean poweroff.
# Everything pflash in the VM comes from the packages: the module that
# DKMS built in the root, the tool, the unit and the rules they installed.
#
# Usage: RESULTS=FILE systemd.sh NAME DEBDIR OUTDIR
#
#   NAME     the kernel: deb61 (in a bookworm root) or deb72 (in an
#            unstable one)
#   DEBDIR   where pflash-dkms_*.deb and pflashctl_*.deb are
#   OUTDIR   the logs: install.log, console.log, tap.log, ...
#
# Records results (tools/judge/judge.sh) under NAME/systemd; exits 1 if any failed.
# The installation runs in an overlay of the root, which stays as it was;
# the VM's disk, OUTDIR/root.img, is made from it with mke2fs -d.

set -euo pipefail
. "$(dirname "$0")/../lib/harness.sh"
. "$REPO/tools/judge/judge.sh"

# The devices of the table, by uuid.
U1=6f1c0b2a-93d4-4c1e-8a7b-5e2d9c0f4a31
U2=2b7e4d19-5c3a-4f86-b0d2-7a1e9c8f3b64
U3=9d0a6c37-1e2b-4a5f-8c9d-3b4e7f1a2c58

# --install NAME DEBDIR OUTDIR BASE RUN, in a mount namespace of its own:
# the packages into an overlay of BASE, the test's files, and the image.
install_stage() {
	local name=$1 debdir=$2 out=$3 base=$4 run=$5 root krel

	. "$BUILD/kernels/$name/kernel.env"
	krel=$KREL
	root=$run/merged
	mount -t overlay overlay \
		-o "lowerdir=$base,upperdir=$run/upper,workdir=$run/work" "$root"
	mount -t proc proc "$root/proc"
	mkdir -p "$root/tmp/debs"
	cp "$debdir"/pflash-dkms_*_all.deb "$debdir"/pflashctl_*_amd64.deb \
		"$root/tmp/debs/"
	in_chroot() {
		chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
	}
	if in_chroot sh -c 'apt-get install -y --no-install-recommends \
		-o Acquire::Check-Valid-Until=false /tmp/debs/*.deb' \
		>"$out/install.log" 2>&1 &&
	   in_chroot dkms status -m pflash -k "$krel" | tee -a "$out/install.log" |
		grep -q ': installed'; then
		result pass "$WHERE" "packages: pflash-dkms and pflashctl install with apt; DKMS builds and installs pflash.ko for $krel"
	else
		tail -n 20 "$out/install.log" | sed 's/^/    /'
		result fail "$WHERE" "packages: do not install, or DKMS did not build pflash.ko for $krel (log: $out/install.log)"
		return 1
	fi
	rm -rf "$root/tmp/debs"

	# The test: its payload and unit, the table and its backing files,
	# and the documentation's test, which is no part of the packages.
	install -m 755 "$REPO/tools/guests/systemd.sh" \
		"$root/usr/local/sbin/pflash-host-test"
	install -D -m 644 "$REPO/tools/guests/tap.sh" \
		"$root/usr/lib/pflash-test/tap.sh"
	cat >"$root/etc/systemd/system/pflash-host-test.service" <<-EOF
	[Unit]
	Description=pflash: the tests of a host (tools/guests/systemd.sh)
	After=multi-user.target pflash.service

	[Service]
	Type=oneshot
	ExecStart=/usr/local/sbin/pflash-host-test
	StandardOutput=journal+console
	StandardError=journal+console
	EOF
	mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
	ln -s ../pflash-host-test.service \
		"$root/etc/systemd/system/multi-user.target.wants/"
	printf 'U1=%s\nU2=%s\nU3=%s\nKREL=%s\n' "$U1" "$U2" "$U3" "$krel" \
		>"$root/etc/pflash-test.env"
	mkdir -p "$root/var/lib/pflash-test" "$root/etc/pflash"
	cp /usr/share/OVMF/OVMF_VARS_4M.fd "$root/var/lib/pflash-test/wb.fd"
	cp /usr/share/OVMF/OVMF_VARS.fd "$root/var/lib/pflash-test/wt.fd"
	cat >"$root/etc/pflash/pflashtab" <<-EOF
	# The devices of pflash's test of a host (tools/check/systemd.sh)
	$U1 /var/lib/pflash-test/wb.fd writeback writeback-interval=0
	$U2 /var/lib/pflash-test/wt.fd - erase-size=8K
	pflash5 - - size=64K,erase-size=16K
	EOF
	mkdir -p "$root/opt/pflash-test"
	cp "$SRC/selftests/pflash/doc_test.sh" "$SRC/selftests/pflash/doc_commands.py" \
		"$SRC/selftests/pflash/qemu_vm.py" \
		"$SRC/selftests/pflash/libvirt_host_test.py" "$root/opt/pflash-test/"
	cp -r "$SRC/Documentation" "$root/opt/pflash-test/"

	umount "$root/proc"
	rm -f "$out/root.img"
	truncate -s 4G "$out/root.img"
	mke2fs -q -t ext4 -d "$root" "$out/root.img"
}

if [ "${1:-}" = --install ]; then
	shift
	WHERE=$1/systemd
	install_stage "$@"
	exit
fi

NAME=${1:?usage: systemd.sh NAME DEBDIR OUTDIR}
DEBDIR=${2:?usage: systemd.sh NAME DEBDIR OUTDIR}
OUTDIR=${3:?usage: systemd.sh NAME DEBDIR OUTDIR}
WHERE=$NAME/systemd
mkdir -p "$OUTDIR"

if ! base=$("$REPO/tools/images/systemd-root.sh" "$NAME" 2>"$OUTDIR/root.log"); then
	tail -n 20 "$OUTDIR/root.log" | sed 's/^/    /'
	result fail "$WHERE" "root: the Debian root with systemd could not be made (log: $OUTDIR/root.log)"
	exit 1
fi
run=$BUILD/systemd/run-$NAME
exec 8>"$BUILD/systemd/.run-$NAME.lock"
flock 8
as_root rm -rf "$run"
mkdir -p "$run/upper" "$run/work" "$run/merged"
start=$SECONDS
if ! as_root unshare -m --propagation private "$0" --install "$NAME" \
	"$DEBDIR" "$OUTDIR" "$base" "$run"; then
	as_root rm -rf "$run"
	exit 1
fi
as_root rm -rf "$run"
log "$NAME: packages installed and the VM's disk made in $((SECONDS - start)) s"

if ! initrd=$("$REPO/tools/images/root-initramfs.sh" "$NAME" 2>"$OUTDIR/initramfs.log"); then
	result fail "$WHERE" "initramfs: could not be built (log: $OUTDIR/initramfs.log)"
	exit 1
fi
log "$NAME: booting the root with systemd (console: $OUTDIR/console.log)"
# 600 s, and 900 more for OVMF's boot under libvirt, nested.
"$REPO/tools/boot/run.sh" -k "$NAME" -i "$initrd" -d "$OUTDIR" -t 1500 \
	-a "root=/dev/vda" -- \
	-drive "file=$OUTDIR/root.img,if=virtio,format=raw" || true
failed=0
judge_vm "$WHERE" "$OUTDIR" || failed=1

# Once the VM is off: what the final writeback at poweroff left in the
# backing file.
want=$(tr -d '\r' <"$OUTDIR/tap.log" | sed -n 's/^sha256 final //p')
got=
if debugfs -R "dump /var/lib/pflash-test/wb.fd $OUTDIR/wb.fd" \
	"$OUTDIR/root.img" >/dev/null 2>&1; then
	got=$(sha256sum <"$OUTDIR/wb.fd" | cut -d' ' -f1)
fi
if [ -n "$want" ] && [ "$got" = "$want" ]; then
	result pass "$WHERE" "after a clean poweroff, the last write in writeback mode is in the backing file"
else
	result fail "$WHERE" "after a clean poweroff, the backing file is not what was written (${got:-unreadable}, expected ${want:-unknown})"
	failed=1
fi
# The disk is as large as the root: kept only to look into a failure.
[ $failed = 1 ] || rm -f "$OUTDIR/root.img" "$OUTDIR/wb.fd"
exit $failed
