#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install every Debian package that building pflash, testing it in VMs and
# running the demo need, on a fresh Debian bookworm machine. Idempotent:
# only missing packages are installed, and `apt-get update` runs only when
# something must be installed. Works as root or through sudo.
#
# The headers of Debian's 6.12 kernel are installed by tools/kernels/debian.sh,
# which picks the newest release when it runs.

set -euo pipefail
. "$(dirname "$0")/lib/harness.sh"

PACKAGES=(
	# building the module, the tool and the tests
	build-essential
	pkg-config
	linux-headers-amd64
	libnl-3-dev
	libnl-genl-3-dev
	libsmartcols-dev
	libisal-dev
	libjson-c-dev
	uuid-dev
	# the debug kernel, built from Debian's source; the kselftest framework
	# and checkpatch come from the same tarball
	linux-source-6.1
	bc
	flex
	bison
	libelf-dev
	libssl-dev
	dwarves
	xz-utils
	rsync
	python3
	# static checks: sparse, perl for checkpatch.pl, and Coccinelle for
	# the lock rule of tools/check/layers.py
	sparse
	perl
	coccinelle
	# the in-tree series (tools/intree/): git format-patch writes it,
	# patch(1) applies it; make coccicheck runs rules with OCaml scripts,
	# which spatch compiles with ocamlopt
	git
	patch
	ocaml
	# Sphinx reads the documents, here and as the series has them
	# (tools/check/docs.sh)
	python3-sphinx
	# VMs and their initramfs
	qemu-system-x86
	qemu-utils
	busybox-static
	cpio
	kmod
	coreutils
	util-linux
	e2fsprogs
	dmsetup
	fio
	# the shared-storage test's NFS server (tools/images/nfs-utils.sh
	# unpacks Debian's NFS programs for its VMs, without installing them):
	# rpc.mountd's library
	libwrap0
	# the Debian unstable root for 7.2 (tools/kernels/sid-root.sh)
	debootstrap
	# firmware variable stores, a real-world image for the tests (design brief)
	ovmf
	# the netlink spec: the kernel's ynl tools (cli.py, ynl-gen-c.py) and
	# its schemas come from the 6.12 source; python3 runs them, also in
	# the VMs
	linux-source-6.12
	python3-yaml
	python3-jsonschema
	# make install-dkms, tested for real; man --warnings for pflashctl(8)
	dkms
	man-db
	# make deb, and lintian
	dpkg-dev
	debhelper
	dh-dkms
	lintian
	# the coverage-guided fuzzer of the stream reader (tools/fuzz/):
	# clang and its libFuzzer; llvm-cov, for the reader's coverage
	clang-14
	libclang-rt-14-dev
	llvm-14
)

if pkgs_installed "${PACKAGES[@]}"; then
	log "all ${#PACKAGES[@]} packages are installed"
else
	ensure_pkgs "${PACKAGES[@]}"
fi
