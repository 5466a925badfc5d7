#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# schedule.sh on pretend jobs that sleep: each kernel runs as often as
# REPEAT says, never more than SLOTS jobs at once, never two runs of one
# job at once, a repetition's jobs start beside the last of the one
# before, and each job's RESULTS is its repetition's.  The static checks
# run it.  Prints TAP; exits 1 if any failed.

set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/schedule.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log() { :; }
export SCHEDULE_POLL=0.05

. "$here/../lib/tap.sh"

# pretend JOB DIR: notes its start and end in $tmp/events, and in
# $tmp/bad a second run of itself or more than $slots jobs at once.  It
# lasts until the event line ${until_event[JOB]} (if set; at most 30 s),
# then ${length[JOB]} s more (0.1 if not set).
declare -A until_event=() length=()
pretend() {
	local name=${1/:/_} on i=0
	mkdir "$tmp/on/$name" 2>/dev/null || echo "$1 twice" >>"$tmp/bad"
	on=$(find "$tmp/on" -mindepth 1 -maxdepth 1 | wc -l)
	[ "$on" -le "$slots" ] || echo "$on at once" >>"$tmp/bad"
	echo "start $1 ${2#"$tmp/run"} ${RESULTS#"$tmp/run"}" >>"$tmp/events"
	if [ -n "${until_event[$1]:-}" ]; then
		until grep -q -x -F "${until_event[$1]}" "$tmp/events" || [ $i = 300 ]; do
			sleep 0.1
			i=$((i + 1))
		done
	fi
	sleep "${length[$1]:-0.1}"
	echo "end $1 ${2#"$tmp/run"}" >>"$tmp/events"
	rmdir "$tmp/on/$name"
}

# schedule SLOTS REPEAT KERNELS JOB...: run_jobs on pretend jobs.
schedule() {
	slots=$1
	rm -rf "$tmp/run" "$tmp/on" "$tmp/events" "$tmp/bad"
	mkdir -p "$tmp/run" "$tmp/on"
	: >"$tmp/events"
	: >"$tmp/bad"
	local -a kernels
	read -r -a kernels <<<"$3"
	repeat_parse "$2" "${kernels[@]}" && run_jobs "$slots" "$tmp/run" pretend "${@:4}"
	# Every job that started has ended when run_jobs returns.
	[ "$(grep -c '^start ' "$tmp/events")" = "$(grep -c '^end ' "$tmp/events")" ] ||
		echo "run_jobs returned before its jobs ended" >>"$tmp/bad"
}

# started JOB: how many times JOB started.
started() {
	grep -c "^start $1 " "$tmp/events"
}

# before A B: the event line A comes before the event line B.
before() {
	local a b
	a=$(grep -n -x -F "$1" "$tmp/events" | cut -d: -f1)
	b=$(grep -n -x -F "$2" "$tmp/events" | cut -d: -f1)
	[ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ]
}

echo "TAP version 13"
echo "1..13"

# debug's job lasts until the second repetition of deb61's starts: it
# ends at once if the repetitions flow, and after 30 s if not.
until_event=([debug]="start deb61 /rep-2 /rep-2/results")
schedule 2 "3 debug=1" "debug deb61" debug deb61 deb61:host
check "schedule.sh: REPEAT=\"3 debug=1\": debug's job once, deb61's and its host's three times" \
	'[ "$(started debug)" = 1 ] && [ "$(started deb61)" = 3 ] && [ "$(started deb61:host)" = 3 ]'
check "schedule.sh: REPEAT=\"3 debug=1\": never more than 2 jobs at once, nor a job twice at once" \
	'[ ! -s "$tmp/bad" ]'
check "schedule.sh: REPEAT=\"3 debug=1\": each job's results are its repetition's" \
	'[ "$(grep -c "^start [^ ]* /rep-\([1-3]\) /rep-\1/results$" "$tmp/events")" = 7 ] &&
	 [ "${results[*]}" = "$tmp/run/results $tmp/run/rep-1/results $tmp/run/rep-2/results $tmp/run/rep-3/results" ]'
check "schedule.sh: REPEAT=\"3 debug=1\": the second repetition starts while the first's debug still runs" \
	'before "start deb61 /rep-2 /rep-2/results" "end debug /rep-1"'

# deb72's job comes first and lasts 0.5 s past the end of deb61's, which
# frees a slot: deb72's second run must wait for its first all the same.
until_event=([deb72]="end deb61 /rep-1")
length=([deb72]=0.5)
schedule 2 3 "deb72 deb61" deb72 deb61
check "schedule.sh: REPEAT=3, a long job and a short one: the long one never runs twice at once" \
	'[ ! -s "$tmp/bad" ] && [ "$(started deb72)" = 3 ] && [ "$(started deb61)" = 3 ]'
check "schedule.sh: REPEAT=3, a long job and a short one: its second run starts after its first ends" \
	'before "end deb72 /rep-1" "start deb72 /rep-2 /rep-2/results"'
until_event=()
length=()

# Three slots; deb72's first run lasts until deb61's second has ended:
# deb72's second run, queued first, must let deb61's and deb612's go.
until_event=([deb72]="end deb61 /rep-2")
schedule 3 2 "deb72 deb61 deb612" deb72 deb61 deb612
check "schedule.sh: a job waiting for its own last run lets the jobs queued after it start" \
	'[ ! -s "$tmp/bad" ] && before "end deb61 /rep-2" "end deb72 /rep-1" &&
	 [ "$(started deb72)" = 2 ] && [ "$(started deb612)" = 2 ]'
until_event=()

schedule 1 1 "deb61 deb72" deb61 deb72 deb61:host
check "schedule.sh: REPEAT=1, one slot: one job at a time, each once, in the run's own directory" \
	'[ ! -s "$tmp/bad" ] && [ "$(grep -c "^start [^ ]*  /results$" "$tmp/events")" = 3 ] &&
	 [ ! -e "$tmp/run/rep-1" ] && [ "${results[*]}" = "$tmp/run/results" ]'

schedule 2 1 "" >/dev/null
check "schedule.sh: no jobs: returns at once, with the run's results" \
	'[ ! -s "$tmp/events" ] && [ "${results[*]}" = "$tmp/run/results" ]'

for bad in x 0 100 debug=0 =2 "5 deb99=2" "2 3" "debug=2 debug=3" "*"; do
	repeat_parse "$bad" debug deb61 2>"$tmp/err" && echo "$bad accepted" >>"$tmp/refused"
	grep -q "error: REPEAT: " "$tmp/err" || echo "$bad: no message" >>"$tmp/refused"
done
check "schedule.sh: REPEAT: x, 0, 100, debug=0, =2, a kernel not run, two counts for all or one, * refused, each with a message" \
	'[ ! -e "$tmp/refused" ]'
repeat_parse "5 debug=2" debug deb61 2>"$tmp/err"
check "schedule.sh: REPEAT=\"5 debug=2\": debug twice, deb61 five times, no message" \
	'[ "$(repeat_count debug)" = 2 ] && [ "$(repeat_count deb61)" = 5 ] && [ ! -s "$tmp/err" ]'
repeat_parse "" deb61
check "schedule.sh: REPEAT empty: once" '[ "$(repeat_count deb61)" = 1 ]'
repeat_parse "debug=3" debug deb61
check "schedule.sh: REPEAT=debug=3: debug three times, deb61 once" \
	'[ "$(repeat_count debug)" = 3 ] && [ "$(repeat_count deb61)" = 1 ]'

exit "$failed"
