#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Every shell command the documentation shows, run in order, document by
# document, as a reader would type them: Documentation/pflash/*.rst and
# the manual pages (pflashctl(8), pflashtab(5)), as the selftests' install
# put them beside this script (Documentation/).
#
# Usage: doc_test.sh [DOCUMENT...]   (as pflash/migration.rst, man/pflashctl.8)
#
# DOC_GROUP=GROUP runs the commands of a document's sections marked for
# GROUP instead (see doc_commands.py), where they can run: "systemd", on a
# host booted with systemd and udev (tools/guests/systemd.sh); "nfs" and
# the others of shared storage, on the hosts of tools/check/nfs.sh.
# DOC_HERE=1 runs them on this machine as it is, for a group that shows
# devices another test set up: pflash is not unloaded, no device is
# destroyed, and the commands run in an empty directory of their own.
#
# Without arguments, every document that no doc_*_test.sh runs: those run
# one long document each, as a test program of its own, with a time limit
# of its own. doc_commands.py finds the commands (lines of literal
# blocks that start with "# " or "$ ") and what status each must exit
# with (0, or what an "echo $?" after it shows); what a command prints
# must be what the document shows after it. One result per command.
#
# Each document starts with pflash unloaded (it loads it itself, as its
# first command shows), in an empty directory laid out as a kernel source
# tree with pflash's spec (tools/net/ynl and Documentation/netlink from
# /opt/ynl), with /var/lib/libvirt/qemu/nvram (libvirt's own set aside,
# where a host has one) and /srv/shared there, and
# with an `ssh HOST COMMAND...` that runs COMMAND here: both "hosts" of a
# move are this machine. Afterwards its devices are destroyed, the module
# unloaded, and all of that removed. pflash is loaded again at the end, as
# the tests after this one expect.
#
# Needs python3 (for doc_commands.py); skipped without.

. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
docs=$here/Documentation
YNL=${PFLASH_YNL:-/opt/ynl}

command -v python3 >/dev/null || skip "needs python3"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
doc_out=$tmp/out
doc_exp=$tmp/expected

# doc_expect: what the next command must print, on stdin.
doc_expect() {
	cat >"$doc_exp"
}

# Whether the output $doc_out is what $doc_exp shows: line for line, with
# runs of blanks taken as one and trailing ones ignored; in a shown line,
# "..." stands for any text and a UUID for any UUID.
doc_output_ok() {
	awk -v shown="$doc_exp" '
	function norm(s) { gsub(/[ \t]+/, " ", s); sub(/ $/, "", s); sub(/^ /, "", s); return s }
	function pattern(s,    out, i, c) {
		s = norm(s)
		out = ""
		for (i = 1; i <= length(s); i++) {
			if (substr(s, i, 3) == "...") { out = out ".*"; i += 2; continue }
			if (substr(s, i, 36) ~ /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/) {
				out = out "[0-9a-f-]{36}"; i += 35; continue
			}
			c = substr(s, i, 1)
			if (index("\\^$.[]|()*+?{}", c))
				c = "\\" c
			out = out c
		}
		return "^" out "$"
	}
	{ got[NR] = norm($0) }
	END {
		n = 0
		while ((getline line < shown) > 0)
			want[++n] = line
		if (n != NR)
			exit 1
		for (i = 1; i <= n; i++)
			if (got[i] !~ pattern(want[i]))
				exit 1
	}' "$doc_out"
}

# doc_result STATUS WANTED WHERE COMMAND: one TAP line (fd 3); on a
# failure, what the command printed and what the document shows.
doc_result() {
	local why=

	n=$((n + 1))
	[ "$1" = "$2" ] || why="exit status $1, expected $2"
	doc_output_ok || why="${why:+$why; }output differs"
	if [ -z "$why" ]; then
		echo "ok $n - $3: $4" >&3
		return
	fi
	failed=1
	echo "not ok $n - $3: $4 ($why)" >&3
	{
		echo "printed:"
		sed 's/^/  /' "$doc_out"
		echo "the document shows:"
		sed 's/^/  /' "$doc_exp"
	} | sed 's/^/# /' >&3
}

# pflash gone, and every device with it, whatever state they are in.
unload() {
	local d

	# Where pflash.service set devices up, it takes them down.
	if [ -d /run/systemd/system ] && systemctl -q is-active pflash; then
		systemctl stop pflash
	fi
	if [ -e /sys/module/pflash ]; then
		for d in $(pflashctl list -rn -o NAME 2>/dev/null); do
			pflashctl destroy --force "$d" >/dev/null 2>&1
		done
		rmmod pflash
	fi
}

setup() {
	unload || return 1
	sandbox=$tmp/sandbox
	rm -rf "$sandbox" && mkdir -p "$sandbox/bin" || return 1
	ln -s "$YNL/tools" "$sandbox/tools"
	ln -s "$YNL/Documentation" "$sandbox/Documentation"
	# ssh HOST COMMAND...: COMMAND, here.
	printf '#!/bin/sh\nshift\nexec sh -c "$*"\n' >"$sandbox/bin/ssh"
	chmod +x "$sandbox/bin/ssh"
	# A host with libvirt has its directory: the documents' stores go in
	# one of their own there, and only that goes afterwards.
	made=/var/lib/libvirt
	[ -d /var/lib/libvirt/qemu ] && made=/var/lib/libvirt/qemu/nvram
	[ -e "$made" ] && mv "$made" "$made.doc-test-saved"
	mkdir -p /var/lib/libvirt/qemu/nvram /srv/shared
}

teardown() {
	unload
	rm -rf "$sandbox" "$made" /srv/shared
	[ -e "$made.doc-test-saved" ] && mv "$made.doc-test-saved" "$made"
}

exec 3>&1
# The documents named, or else every document that no doc_*_test.sh
# beside this one names (each of those runs one, in time of its own);
# each on its own, so the order does not matter.
if [ $# -gt 0 ]; then
	DOCS=("$@")
else
	cd "$docs" || exit 1
	DOCS=()
	for doc in pflash/*.rst man/*.[58]; do
		grep -qs "doc_test.sh\" $doc\$" "$here"/doc_*_test.sh ||
			DOCS+=("$doc")
	done
	cd / || exit 1
fi
for doc in "${DOCS[@]}"; do
	log=$tmp/${doc##*/}.log
	if ! python3 "$here/doc_commands.py" "$docs/$doc" \
		${DOC_GROUP:+--group "$DOC_GROUP"} >"$tmp/script" 2>"$log"; then
		doc_result 1 0 "$doc" "its commands could not be read"
		continue
	fi
	if ! grep -q 'doc_result ' "$tmp/script"; then
		echo "# $doc shows no command"
		continue
	fi
	echo "# $doc: $(grep -c 'doc_result ' "$tmp/script") commands"
	start=$SECONDS
	if [ -n "${DOC_HERE:-}" ]; then
		sandbox=$tmp/here
		mkdir -p "$sandbox/bin"
	else
		setup
	fi
	echo "$n" >"$tmp/n"
	(
		trap 'echo "$n" >"$tmp/n"' EXIT
		cd "$sandbox" || exit 1
		export PATH=$sandbox/bin:$PATH
		set -o pipefail
		. "$tmp/script"
		exit $failed
	) >"$log" 2>&1 </dev/null
	rc=$?
	echo "# $doc: done in $((SECONDS - start)) s"
	# The subshell numbered its results on from n: go on from there.
	n=$(cat "$tmp/n")
	[ -n "${DOC_HERE:-}" ] || teardown
	[ "$rc" = 0 ] || failed=1
done
[ -n "${DOC_HERE:-}" ] || modprobe pflash
echo "1..$n"
exit $failed
