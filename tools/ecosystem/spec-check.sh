#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The netlink spec against the code, on the host (no module needed):
#
#  1. Documentation/netlink/specs/pflash.yaml is valid against the 6.12
#     kernel's genetlink schema (python3-jsonschema);
#  2. uapi/linux/pflash.h defines exactly what ynl-gen-c.py --mode uapi
#     renders from the spec, each with the same value (uapi-compare.py);
#  3. Documentation/pflash/netlink.rst names every operation, attribute,
#     enum value and multicast group of the spec.
#
# The spec's policies are compared with the live module's in the VM
# (selftests/pflash/ynl_test.sh). Exits 1 if anything failed.

set -euo pipefail
. "$(dirname "$0")/../lib/harness.sh"

PY=/usr/bin/python3
ynl=$("$REPO/tools/ecosystem/ynl-tree.sh")
spec=$ynl/Documentation/netlink/specs/pflash.yaml
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

echo "== schema: $ynl/Documentation/netlink/genetlink.yaml"
if "$PY" - "$spec" "$ynl/Documentation/netlink/genetlink.yaml" <<'PYEOF'
import sys, yaml, jsonschema
spec, schema = (yaml.safe_load(open(p)) for p in sys.argv[1:3])
jsonschema.validate(spec, schema)
print("the spec is valid")
PYEOF
then :; else failed=1; fi

echo "== uapi: ynl-gen-c.py --mode uapi against uapi/linux/pflash.h"
if "$PY" "$ynl/tools/net/ynl/ynl-gen-c.py" --mode uapi --header \
	--spec "$spec" -o "$tmp/pflash.h" &&
   "$PY" "$REPO/tools/ecosystem/uapi-compare.py" "$tmp/pflash.h" \
	"$SRC/uapi/linux/pflash.h"; then :; else failed=1; fi

echo "== reference: Documentation/pflash/netlink.rst names all of the spec"
if "$PY" - "$spec" "$SRC/Documentation/pflash/netlink.rst" <<'PYEOF'
import re, sys, yaml
spec = yaml.safe_load(open(sys.argv[1]))
doc = open(sys.argv[2]).read()
want = []
for d in spec['definitions']:
    want.append(('definition', d['name']))
    for e in d.get('entries', []):
        want.append((d['name'], e if isinstance(e, str) else e['name']))
for s in spec['attribute-sets']:
    for a in s['attributes']:
        want.append(('attribute', a['name']))
for op in spec['operations']['list']:
    want.append(('operation', op['name']))
for g in spec['mcast-groups']['list']:
    want.append(('multicast group', g['name']))
missing = [(k, n) for k, n in want
           if not re.search(r'``%s``' % re.escape(n), doc)]
for k, n in missing:
    print(f"{k} {n}: not named (as ``{n}``) in {sys.argv[2]}")
print(f"{len(want)} names of the spec, {len(missing)} missing")
sys.exit(1 if missing else 0)
PYEOF
then :; else failed=1; fi

exit $failed
