# SPDX-License-Identifier: GPL-2.0
#
# The results of one `make check` run. Source it with RESULTS set to the
# run's results file; each result is one line there, "STATUS<TAB>WHERE<TAB>
# TEXT", with STATUS pass, fail or skip and WHERE "static" or a kernel name.
# summary.sh counts them.

# result STATUS WHERE TEXT: record a result and print it, TAP-like:
#   [deb61] ok 3 pflash_io_test: discard reads back 0xff
result() {
	local status=$1 where=$2 text=$3 word
	case $status in
	pass|skip) word=ok ;;
	fail) word="not ok" ;;
	*) echo "result: bad status '$status'" >&2; return 1 ;;
	esac
	printf '%s\t%s\t%s\n' "$status" "$where" "$text" >>"$RESULTS"
	printf '[%s] %s %s\n' "$where" "$word" "$text"
}
