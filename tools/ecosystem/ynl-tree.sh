#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Extract, once per linux-source-6.12 version, the kernel's netlink YAML
# tools, keeping the kernel's layout, and stage pflash's spec in it:
#
#   tools/net/ynl/                 cli.py, lib/ (ynl.py, nlspec.py),
#                                  ynl-gen-c.py, ynl-gen-rst.py
#   Documentation/netlink/*.yaml   the schemas the specs are checked against
#   Documentation/netlink/specs/nlctrl.yaml
#                                  the generic netlink controller, to read a
#                                  family's policies
#   Documentation/netlink/specs/pflash.yaml
#                                  a copy of this repository's spec, where
#                                  the tools look up its schema (../)
#   MAINTAINERS                    empty: ynl-gen-c.py looks for it to find
#                                  the root of the tree
#
# Nothing of it is committed. Prints the root of that tree:
# build/ynl-<version>.

set -euo pipefail
. "$(dirname "$0")/../lib/harness.sh"

PKG=linux-source-6.12
TARBALL=/usr/src/linux-source-6.12.tar.xz
ver=$(dpkg-query -W -f='${Version}' "$PKG" 2>/dev/null) ||
	die "$PKG is not installed (tools/deps.sh)"
root=$BUILD/ynl-$ver

MEMBERS=(
	tools/net/ynl/cli.py
	tools/net/ynl/lib/__init__.py
	tools/net/ynl/lib/nlspec.py
	tools/net/ynl/lib/ynl.py
	tools/net/ynl/ynl-gen-c.py
	tools/net/ynl/ynl-gen-rst.py
	Documentation/netlink/genetlink.yaml
	Documentation/netlink/genetlink-c.yaml
	Documentation/netlink/genetlink-legacy.yaml
	Documentation/netlink/netlink-raw.yaml
	Documentation/netlink/specs/nlctrl.yaml
)

mkdir -p "$BUILD"
exec 9>"$BUILD/.ynl.lock"
flock 9

extract_tarball "$root" "$TARBALL" "${MEMBERS[@]}"
: >"$root/MAINTAINERS"
# The spec, fresh every time.
install -m 644 "$SRC/Documentation/netlink/specs/pflash.yaml" \
	"$root/Documentation/netlink/specs/pflash.yaml"
echo "$root"
