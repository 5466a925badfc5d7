#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A lean python3 for the VMs, to run the kernel's ynl tools against the
# live module: Debian's /usr/bin/python3 with only the modules that cli.py,
# its lib (with python3-yaml and python3-jsonschema) and the ynl selftests
# import, each with its compiled form. Found by running that code on this
# host (against the nlctrl family, which the host has) and listing what it
# imported; yaml, jsonschema and what they depend on are taken whole, with
# their data files.
#
# Prints a directory to copy over the initramfs root (initramfs.sh does):
# build/python-rt-VERSION/, made once per python3 and yaml/jsonschema
# version. The interpreter's shared libraries are initramfs.sh's to copy.

set -euo pipefail
. "$(dirname "$0")/../lib/harness.sh"

PY=/usr/bin/python3
ynl=$("$REPO/tools/ecosystem/ynl-tree.sh")
# Made again when the packages change, or the code that says what to take.
key=$(dpkg-query -W -f='${Version} ' python3 python3-yaml python3-jsonschema | tr ' ~' '_-')
tool=$SRC/tools/pflash-qemu-migrate/pflash-qemu-migrate
sum=$(cat "$0" "$SRC"/selftests/pflash/*.py "$tool" | md5sum | cut -c1-8)
out=$BUILD/python-rt-${key}$sum

exec 9>"$BUILD/.python-rt.lock"
flock 9
if [ -e "$out/.done" ]; then
	echo "$out"
	exit 0
fi
log "staging a lean python3 for the VMs in $out"
rm -rf "$out" && mkdir -p "$out"

# Every module file the ynl code imports, one a line.
PYTHONDONTWRITEBYTECODE=1 "$PY" - "$ynl" "$REPO" "$tool" >"$out.files" <<'PYEOF'
import sys
ynl, repo, tool = sys.argv[1:4]
sys.path.insert(0, ynl + '/tools/net/ynl')
sys.path.insert(0, repo + '/selftests/pflash')
# cli.py's own imports, and the selftests'.
import argparse, json, pprint, time, subprocess, re, tempfile, os, errno
import signal, shutil, traceback, locale, codecs
import encodings.ascii, encodings.latin_1, encodings.utf_8, encodings.aliases
import doc_commands, ynl_test
# The QEMU tests' helpers, and pflash-qemu-migrate, which they load.
import qemu_vm
qemu_vm.TOOL = tool
qemu_vm.load_tool()
# What they load only when they run: the variables' names are UTF-16.
qemu_vm.var_in(b'', 'PflashVar', b'')
doc_commands.commands(repo + '/Documentation/pflash/migration.rst')
doc_commands.commands(repo + '/Documentation/man/pflashctl.8')
from lib import YnlFamily, Netlink, NlError, SpecFamily
import jsonschema, yaml
# Validate both specs, and talk to the controller, as the tests do.
SpecFamily(ynl + '/Documentation/netlink/specs/pflash.yaml')
ctrl = YnlFamily(ynl + '/Documentation/netlink/specs/nlctrl.yaml')
ctrl.dump('getfamily', {})
ctrl.dump('getpolicy', {'family-name': 'nlctrl'})
try:
    ctrl.do('getfamily', {'family-name': 'no-such-family'})
except NlError as e:
    str(e)
try:
    YnlFamily(ynl + '/Documentation/netlink/specs/pflash.yaml')
except Exception as e:
    str(e)
json.dumps({'a': b'x'.hex()}, indent=2)
pprint.pformat({'a': 1})
for m in list(sys.modules.values()):
    f = getattr(m, '__file__', None)
    if f and f.startswith('/usr/lib/python3'):
        print(f)
PYEOF

# yaml, jsonschema and their dependencies, whole (data files included).
pkgs=$("$PY" - <<'PYEOF'
import importlib.metadata as md
want, seen = ['PyYAML', 'jsonschema'], set()
while want:
    try:
        d = md.distribution(want.pop())
    except md.PackageNotFoundError:	# for another python's version
        continue
    if d.metadata['Name'] in seen:
        continue
    seen.add(d.metadata['Name'])
    for f in d.files or []:
        print(d.locate_file(f))
    for r in d.requires or []:
        if 'extra ==' not in r:
            want.append(r.split(';')[0].split('(')[0].split('[')[0]
                        .split('>')[0].split('<')[0].split('=')[0].strip())
PYEOF
)
{
	cat "$out.files"
	printf '%s\n' "$pkgs"
	echo /usr/lib/python3.11/os.py	# the interpreter's landmark
} | grep -v '/__pycache__/' | sort -u | while read -r f; do
	[ -f "$f" ] || continue
	mkdir -p "$out$(dirname "$f")"
	cp -p "$f" "$out$f"
done
rm -f "$out.files"
# Compiled once here, not at every boot of a slow VM.
"$PY" -m compileall -q -j 2 "$out/usr/lib" >/dev/null || true
find "$out" -name '*.opt-?.pyc' -delete
mkdir -p "$out/usr/bin"
cp -p "$(readlink -f "$PY")" "$out/usr/bin/python3"
touch "$out/.done"
echo "$out"
