#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build pflash's debug kernel (KASAN, KFENCE, lockdep, kmemleak, fault
# injection) from Debian's linux-source-7.2, the newest series, with a
# minimal config: allnoconfig + tools/kernels/debug.config, completed by
# olddefconfig.  It is built in the Debian unstable root (sid-root.sh),
# whose gcc-16 builds pflash.ko for it too.
#
# The build lives in build/kernels/debug-<hash>/, where <hash> covers the
# final .config (which records the compiler version) and the source package
# version, so a rerun with nothing changed costs only the config step.
# The kernel is built in full (bzImage and modules, Module.symvers), so that
# `make -C <build dir> M=...` builds pflash.ko against it.
#
# Writes build/kernels/debug/kernel.env (see kernels.sh) and prints its path.

set -euo pipefail
. "$(dirname "$0")/../lib/harness.sh"

FRAGMENT=$REPO/tools/kernels/debug.config
NAME=debug

mkdir -p "$BUILD/kernels/$NAME"
# One debug build at a time: two `make check` runs must not race here.
exec 9>"$BUILD/kernels/.$NAME.lock"
flock 9

SRC_PKG=$NEWEST_SRC_PKG
sid=$REPO/tools/kernels/sid-root.sh
sidroot=$("$sid")
read -r tarball ver <<<"$(newest_src)"
src=$BUILD/src/${SRC_PKG}_$ver
extract_tarball "$src" "$tarball"
# Older versions of the source are not built any more.
find "$BUILD/src" -mindepth 1 -maxdepth 1 -type d -name "${SRC_PKG}_*" \
	! -name "${SRC_PKG}_$ver" -exec rm -rf {} +
kmake() {
	"$sid" run make -C "$src" "$@"
}

# 1. The config, generated in a scratch output directory.
cfgdir=$BUILD/kernels/$NAME-config
rm -rf "$cfgdir" && mkdir -p "$cfgdir"
kmake -s O="$cfgdir" KCONFIG_ALLCONFIG="$FRAGMENT" allnoconfig >/dev/null
kmake -s O="$cfgdir" olddefconfig >/dev/null

# Kconfig drops a symbol whose dependencies are unmet without a word: check
# that every line of the fragment made it into the final config.
missing=0
while IFS= read -r line; do
	case $line in
	CONFIG_*=*)
		grep -qxF -- "$line" "$cfgdir/.config" && continue ;;
	"# CONFIG_"*" is not set")
		sym=${line#\# }; sym=${sym%% *}
		! grep -q "^$sym=" "$cfgdir/.config" && continue ;;
	*)
		continue ;;
	esac
	log "debug.config: '$line' did not survive olddefconfig"
	missing=1
done <"$FRAGMENT"
[ $missing = 0 ] || die "fix tools/kernels/debug.config (see above)"

hash=$( { cat "$cfgdir/.config"; echo "$SRC_PKG $ver"; } |
	sha256sum | cut -c1-12)
out=$BUILD/kernels/$NAME-$hash

# The number of modules installed, recorded when the build ends, so that a
# build damaged since (a stray `make clean` that walked build/) is redone.
count_modules() {
	find "$out/modroot" -name '*.ko' 2>/dev/null | wc -l
}

# 2. The build, unless this exact config was built before.
if [ ! -e "$out/.built" ] || [ ! -e "$out/arch/x86/boot/bzImage" ] ||
	[ ! -e "$out/Module.symvers" ] ||
	[ "$(cat "$out/.built")" != "$(count_modules)" ]; then
	log "building the debug kernel in $out (log: $out/build.log)"
	rm -rf "$out" && mkdir -p "$out"
	cp "$cfgdir/.config" "$out/.config"
	start=$SECONDS
	if ! kmake O="$out" -j"$(nproc)" bzImage modules \
		>"$out/build.log" 2>&1; then
		tail -n 40 "$out/build.log" >&2
		die "debug kernel build failed (log: $out/build.log)"
	fi
	# The modules tree for the initramfs; kernel.release names its folder.
	kmake -s O="$out" INSTALL_MOD_PATH="$out/modroot" \
		DEPMOD=/bin/true modules_install >>"$out/build.log" 2>&1
	log "debug kernel built in $((SECONDS - start)) s"
	count_modules >"$out/.built"
	# Builds of older configs are not booted any more.
	find "$BUILD/kernels" -mindepth 1 -maxdepth 1 -type d -name "$NAME-*" \
		! -name "$(basename "$out")" ! -name "$NAME-config" -exec rm -rf {} +
fi
rm -rf "$cfgdir"

krel=$(cat "$out/include/config/kernel.release")
# modules_install puts them where the root's kmod says: lib/ or usr/lib/.
moddir=$(find "$out/modroot" -type d -path "*/modules/$krel" | head -n1)
[ -n "$moddir" ] || die "no modules tree for $krel in $out/modroot"
modules_dep "$moddir"
write_env "$BUILD/kernels/$NAME/kernel.env" \
	NAME=$NAME \
	KREL="$krel" \
	VMLINUZ="$out/arch/x86/boot/bzImage" \
	MODDIR="$moddir" \
	KDIR="$out" \
	SIDROOT="$sidroot"
echo "$BUILD/kernels/$NAME/kernel.env"
