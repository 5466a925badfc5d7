#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The documents of Documentation/pflash/ read clean with Sphinx (Debian's
# python3-sphinx, nitpicky: every :doc: and every `section`_ reference
# resolves, no reStructuredText error), both as they are here and as the
# in-tree series has them (tools/intree/series.py --docs); and the in-tree
# copies name nothing of this project's test house.  The static checks
# run it.  Exits 1 if anything failed, saying what.

set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

# sphinx DIR WHAT: Sphinx reads DIR (index.rst its root) without a
# conf.py; any warning fails.
sphinx() {
	if ! sphinx-build -C -D master_doc=index -D project=pflash -n -W \
		--keep-going -q -b dummy "$1" "$tmp/out-${1//\//_}" 2>"$tmp/err"; then
		echo "$2: Sphinx warned:"
		cat "$tmp/err"
		failed=1
	fi
}

sphinx "$repo/Documentation/pflash" "Documentation/pflash"
python3 "$repo/tools/intree/series.py" --docs "$tmp/in-tree" || exit 1
sphinx "$tmp/in-tree" "the in-tree documents"
if grep -n -E 'tools/check/|tools/test\.sh|make check|doc_test\.sh|\.ci/' \
	"$tmp"/in-tree/*.rst >"$tmp/house"; then
	echo "the in-tree documents name the test house (add to IN_TREE_PROSE, or mark the part out of tree):"
	sed "s|^$tmp/in-tree/||" "$tmp/house"
	failed=1
fi
exit $failed
