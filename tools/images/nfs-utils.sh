#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Debian's NFS programs for the VMs of the shared-storage test
# (tools/check/nfs.sh), not installed on this machine: the packages
# nfs-kernel-server and nfs-common of bookworm, fetched with `apt-get
# download` and unpacked with `dpkg-deb -x` under build/nfs-utils/VERSION/,
# once.  The server VM runs rpc.nfsd, exportfs and rpc.mountd from there;
# the clients, mount.nfs (as mount.nfs4, which util-linux's mount runs).
# Their shared libraries come from this machine, as initramfs.sh copies
# them: rpc.mountd's libwrap0 is installed if it is missing.
#
# Usage: nfs-utils.sh      prints the directory the packages were unpacked in

set -euo pipefail
. "$(dirname "$0")/../lib/harness.sh"

PACKAGES=(nfs-kernel-server nfs-common)

ensure_pkgs libwrap0
version=$(apt-cache policy nfs-kernel-server | awk '$1 == "Candidate:" { print $2 }')
if [ -z "$version" ] || [ "$version" = "(none)" ]; then
	apt_get update
	version=$(apt-cache policy nfs-kernel-server | awk '$1 == "Candidate:" { print $2 }')
fi
[ -n "$version" ] && [ "$version" != "(none)" ] || die "apt offers no nfs-kernel-server"

dir=$BUILD/nfs-utils/${version//:/_}
mkdir -p "$BUILD/nfs-utils"
exec 9>"$BUILD/nfs-utils/.lock"
flock 9
if [ ! -e "$dir/.unpacked" ]; then
	log "fetching ${PACKAGES[*]} $version"
	rm -rf "$dir" && mkdir -p "$dir/deb" "$dir/root"
	sandbox=()
	# As root, apt would warn that its _apt user cannot write to DIR.
	[ "$(id -u)" = 0 ] && sandbox=(-o APT::Sandbox::User=root)
	(cd "$dir/deb" && apt-get download -q "${sandbox[@]}" \
		"${PACKAGES[@]/%/=$version}" >&2)
	for deb in "$dir/deb"/*.deb; do
		dpkg-deb -x "$deb" "$dir/root"
	done
	rm -rf "$dir/deb"
	touch "$dir/.unpacked"
	# Older versions are not used any more.
	find "$BUILD/nfs-utils" -mindepth 1 -maxdepth 1 -type d \
		! -path "$dir" -exec rm -rf {} +
fi
echo "$dir/root"
