# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# The jobs of `make check` (a kernel's kselftests, a host's suites), a
# few at a time, over and over for a flake hunt.  Sourced by check.sh;
# tools/check/test_schedule.sh tests it on pretend jobs.
#
#   repeat_parse REPEAT KERNEL...   REPEAT's words: N, every kernel's
#                                   count, or KERNEL=N, one kernel's
#                                   ("5 debug=2"); says on stderr what
#                                   is wrong and returns 1
#   repeat_count KERNEL             how many times KERNEL's jobs run
#   run_jobs SLOTS RUN START JOB... run each JOB (KERNEL or KERNEL:host)
#                                   as often as its kernel's count says,
#                                   SLOTS at a time, as `START JOB DIR &`
#                                   with RESULTS=DIR/results: DIR is RUN
#                                   if every count is 1, else RUN/rep-N;
#                                   sets results, the RESULTS files
#
# A repetition's jobs start as slots free, beside the last jobs of the
# one before: a hunt keeps every CPU busy to its end.  Never two runs of
# one job at once: they share its kernel's initramfs, its host's systemd
# overlay and its VMs' sockets; a job that waits for its last run to end
# lets the jobs queued after it go first.

declare -A repeat_of=()
repeat_all=1

repeat_parse() {
	local word k why='' all=''
	local -a kernels=("${@:2}") words
	read -r -a words <<<"${1:-1}"
	repeat_of=()
	repeat_all=1
	for word in "${words[@]}"; do
		k=${word%=*}
		case $word in
		[1-9] | [1-9][0-9])
			[ -z "$all" ] || why="two counts for every kernel, $all and $word"
			all=$word
			;;
		?*=[1-9] | ?*=[1-9][0-9])
			case " ${kernels[*]} " in
			*" $k "*) ;;
			*) why="$k is not one of this run's kernels (${kernels[*]})" ;;
			esac
			[ -z "${repeat_of[$k]:-}" ] || why="two counts for $k"
			repeat_of[$k]=${word#*=}
			;;
		*) why="'$word' is not N or KERNEL=N (N from 1 to 99)" ;;
		esac
		if [ -n "$why" ]; then
			echo "${0##*/}: error: REPEAT: $why" >&2
			return 1
		fi
	done
	repeat_all=${all:-1}
}

repeat_count() {
	echo "${repeat_of[$1]:-$repeat_all}"
}

# running PID...: those of these jobs of this shell that still run, one
# per line (jobs -pr: a PID the kernel gave again to another process is
# not one of them).
running() {
	local live p
	live=" $(jobs -pr | tr '\n' ' ') "
	for p in "$@"; do
		case $live in *" $p "*) echo "$p" ;; esac
	done
	return 0
}

run_jobs() {
	local slots=$1 run=$2 start=$3 reps=1 rep dir job k i started
	local -a live=() queue=()
	local -A last=()
	shift 3
	for job in "$@"; do
		k=$(repeat_count "${job%:host}")
		[ "$k" -le "$reps" ] || reps=$k
	done
	# The queue, "REP JOB" words: each repetition's jobs in their order,
	# after the one before's.
	results=("$run/results")
	for rep in $(seq "$reps"); do
		if [ "$reps" -gt 1 ]; then
			mkdir -p "$run/rep-$rep"
			: >"$run/rep-$rep/results"
			results+=("$run/rep-$rep/results")
		fi
		for job in "$@"; do
			[ "$rep" -gt "$(repeat_count "${job%:host}")" ] ||
				queue+=("$rep $job")
		done
	done
	# While a slot is free, the first job of the queue that is not
	# running starts.  Polled: `wait -n PID...` said "no such job" of a
	# job that had just ended (bash 5.2), and a job takes minutes.
	while [ ${#queue[@]} -gt 0 ]; do
		mapfile -t live < <(running "${live[@]}")
		started=
		for i in "${!queue[@]}"; do
			[ "${#live[@]}" -lt "$slots" ] || break
			rep=${queue[i]%% *}
			job=${queue[i]#* }
			case " ${live[*]} " in *" ${last[$job]:-0} "*) continue ;; esac
			dir=$run
			if [ "$reps" -gt 1 ]; then
				dir=$run/rep-$rep
				log "repetition $rep of $reps: $job"
			fi
			RESULTS=$dir/results "$start" "$job" "$dir" &
			live+=($!)
			last[$job]=$!
			unset 'queue[i]'
			started=1
		done
		queue=("${queue[@]}")
		[ -n "$started" ] || sleep "${SCHEDULE_POLL:-2}"
	done
	# Not a bare wait: it would wait for the caller's other jobs too
	# (the fuzzer, the series' check).
	[ ${#live[@]} = 0 ] || wait "${live[@]}"
	return 0
}
