# SPDX-License-Identifier: GPL-2.0
#
# Read the TAP of run_kselftest.sh and print one "STATUS<TAB>TEXT" line per
# result, STATUS being pass, fail or skip (used by judge.sh):
#
#   TAP version 13
#   1..2                                  the runner's plan: test programs
#   # selftests: pflash: pflash_io_test   a program starts
#   # 1..5                                its own plan
#   # #  RUN           dev.bs512.erase ... (kselftest_harness.h)
#   # ok 1 dev.bs512.erase                its results, nested
#   # ok 2 # SKIP no backing file         (6.1's harness names no test here)
#   ok 1 selftests: pflash: pflash_io_test      the runner's result
#   not ok 2 selftests: pflash: x # TIMEOUT 300 seconds
#
# Missing results are failures: a program that planned more results than
# it printed, a program that never finished, programs that never started.

function parse(line, prog, fallback,    st, num, rest, dir) {
	st = "pass"
	if (line ~ /^not ok/) {
		st = "fail"
		sub(/^not ok +/, "", line)
	} else {
		sub(/^ok +/, "", line)
	}
	num = line
	sub(/ .*/, "", num)
	rest = substr(line, length(num) + 1)
	sub(/^ +/, "", rest)
	sub(/^- +/, "", rest)
	# The directive, if any: SKIP (a pass that did not run), TODO, XFAIL.
	dir = ""
	if (match(rest, /(^| )# *[A-Za-z]+/)) {
		dir = substr(rest, RSTART)
		rest = substr(rest, 1, RSTART - 1)
		sub(/^ +/, "", dir)
		if (toupper(dir) ~ /^# *SKIP/ && st == "pass")
			st = "skip"
		dir = " " dir
	}
	if (rest == "")
		rest = fallback
	print st "\t" num " " (prog != "" ? prog ": " : "") rest dir
}

function close_program() {
	if (nplan > nres)
		print "fail\t" prog ": " nplan - nres " of its " nplan \
			" results missing"
}

BEGIN { plan = -1; results = 0; inprog = 0 }

/^TAP version/ { next }

/^1\.\.[0-9]+/ { plan = substr($1, 4) + 0; next }

/^# selftests: / {
	if (inprog) {
		close_program()
		print "fail\t" prog ": never finished"
	}
	prog = $0
	sub(/.*: /, "", prog)
	inprog = 1; nplan = -1; nres = 0; lastrun = ""
	next
}

inprog && /^# 1\.\.[0-9]+/ { nplan = substr($2, 4) + 0; next }

inprog && /^# #  RUN / { lastrun = $4; next }

inprog && /^# (not )?ok [0-9]+/ {
	parse(substr($0, 3), prog, lastrun)
	nres++
	next
}

/^(not )?ok [0-9]+/ {
	if (inprog)
		close_program()
	parse($0, "", "")
	results++
	inprog = 0
	next
}

END {
	if (inprog) {
		close_program()
		print "fail\t" prog ": never finished"
		results++
	}
	if (plan < 0)
		print "fail\ttap: no plan (1..N): the runner never started"
	else if (plan == 0)
		print "fail\ttap: no test programs (1..0)"
	else if (results < plan)
		print "fail\ttap: " plan - results " of " plan \
			" test programs never started"
}
