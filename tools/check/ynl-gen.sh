#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The netlink family's code, generated from its spec by the kernel's own
# generator, as the kernel's newer families are (netdev, handshake, dpll):
# tools/net/ynl/pyynl/ynl_gen_c.py of the newest series' source (Debian
# unstable's linux-source-7.2), from Documentation/netlink/specs/pflash.yaml:
#
#   uapi/linux/pflash.h       --mode uapi --header: the family's constants,
#                             enums, attributes, commands and group
#   module/netlink-gen.h      --mode kernel --header: the handlers' names,
#                             the groups' enum, the family
#   module/netlink-gen.c      --mode kernel --source: the policies, the op
#                             table and the family
#
# Each carries the generator's "Do not edit" header.  Only the handlers,
# in module/netlink.c, are written by hand.
#
#   ynl-gen.sh check   generate into a scratch directory and fail if the
#                      committed files differ, by a diff; then check the
#                      uapi ABI: every number of tools/check/pflash-abi.txt
#                      (commands, attributes, enum values, limits) must be
#                      the header's, compiled; names may only be added
#   ynl-gen.sh write   regenerate the committed files (after a change to
#                      the spec); add new names to pflash-abi.txt yourself
#
# The generator and the schemas are extracted once per version into
# $BUILD/ynl-gen-VERSION/, in the kernel's layout (the generator names the
# spec by its path in the tree).

set -euo pipefail
. "$(dirname "$0")/../lib/harness.sh"

mode=${1:?usage: ynl-gen.sh check|write}
PY=/usr/bin/python3

read -r tarball ver <<<"$(newest_src)"
root=$BUILD/ynl-gen-$ver
mkdir -p "$BUILD"
exec 9>"$BUILD/.ynl-gen.lock"
flock 9
extract_tarball "$root" "$tarball" tools/net/ynl/pyynl \
	Documentation/netlink/genetlink.yaml \
	Documentation/netlink/genetlink-c.yaml \
	Documentation/netlink/genetlink-legacy.yaml
# The generator looks upwards for MAINTAINERS to find the root of the
# tree, and never stops looking if there is none.
: >"$root/MAINTAINERS"
mkdir -p "$root/Documentation/netlink/specs"
install -m 644 "$SRC/Documentation/netlink/specs/pflash.yaml" \
	"$root/Documentation/netlink/specs/pflash.yaml"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
gen() {
	(cd "$root" && "$PY" tools/net/ynl/pyynl/ynl_gen_c.py \
		--spec Documentation/netlink/specs/pflash.yaml "$@")
}
mkdir -p "$out/uapi/linux" "$out/module"
gen --mode uapi --header -o "$out/uapi/linux/pflash.h"
gen --mode kernel --header -o "$out/module/netlink-gen.h"
gen --mode kernel --source -o "$out/module/netlink-gen.c"
FILES=(uapi/linux/pflash.h module/netlink-gen.h module/netlink-gen.c)

case $mode in
write)
	for f in "${FILES[@]}"; do
		install -m 644 "$out/$f" "$SRC/$f"
	done
	log "regenerated ${FILES[*]} from the spec (ynl_gen_c.py of $ver)"
	;;
check)
	failed=0
	for f in "${FILES[@]}"; do
		if diff -u "$out/$f" "$SRC/$f"; then
			echo "ok - $f is what the spec generates (ynl_gen_c.py of $ver)"
		else
			echo "not ok - $f differs from what the spec generates: tools/check/ynl-gen.sh write"
			failed=1
		fi
	done
	# The ABI: each name's value, as a compiler reads the header.
	abi=$SRC/tools/check/pflash-abi.txt
	{
		echo '#include <stdio.h>'
		echo '#include <linux/pflash.h>'
		echo 'static void num(const char *n, long long v) { printf("%s %lld\n", n, v); }'
		echo 'static void str(const char *n, const char *v) { printf("%s \"%s\"\n", n, v); }'
		echo '#define P(x) _Generic((x), char *: str, default: num)(#x, x)'
		echo 'int main(void) {'
		grep -v '^#' "$abi" | while read -r name _; do
			echo "P($name);"
		done
		echo '}'
	} >"$out/abi.c"
	# abi_of DIR: the values as the header in DIR/linux/ has them.
	abi_of() {
		gcc -std=c11 -Wall -Werror -I"$1" -o "$out/abi" "$out/abi.c" &&
			"$out/abi"
	}
	if abi_of "$out/uapi" >"$out/abi.txt" &&
	   diff -u <(grep -v '^#' "$abi") "$out/abi.txt"; then
		echo "ok - the generated uapi/linux/pflash.h keeps every value of tools/check/pflash-abi.txt ($(grep -vc '^#' "$abi") names)"
	else
		echo "not ok - the generated uapi/linux/pflash.h changes the ABI (tools/check/pflash-abi.txt)"
		failed=1
	fi
	# The negative control: a header with one attribute renumbered.
	mkdir -p "$out/bad/linux"
	sed 's/PFLASH_A_DEV_INDEX = 1,/PFLASH_A_DEV_INDEX = 2,/' \
		"$out/uapi/linux/pflash.h" >"$out/bad/linux/pflash.h"
	if abi_of "$out/bad" | diff -q <(grep -v '^#' "$abi") - >/dev/null; then
		echo "not ok - the ABI check misses a renumbered attribute"
		failed=1
	else
		echo "ok - the ABI check finds a renumbered attribute"
	fi
	exit $failed
	;;
*)
	die "usage: ynl-gen.sh check|write"
	;;
esac
