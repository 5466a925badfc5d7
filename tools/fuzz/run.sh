#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The coverage-guided fuzzer of the stream reader (stream_fuzz.c), built
# with Debian's clang-14 and its libFuzzer (libclang-rt-14-dev), with
# AddressSanitizer and UndefinedBehaviorSanitizer, and run for
# FUZZ_SECONDS (default 60) from the committed seed corpus, corpus/.  What
# it finds on the way is kept in OUTDIR/corpus, not committed; an input
# that fails is left in OUTDIR as crash-*, leak-* or timeout-*, and
#
#   build/fuzz/stream_fuzz FILE
#
# runs it again.  The seed is FUZZ_SEED, or random, and printed; the
# figures (executions, coverage, corpus size) are printed too: libFuzzer's
# edges, and the lines and branches of pfstream.c that the corpus it ended
# with reaches (llvm-cov, of a build with source-based coverage).  First, the
# committed corpus must be what mkcorpus.c makes: a corpus that no longer
# matches its generator is a stale one.
#
# Usage: RESULTS=FILE run.sh OUTDIR
# Results (tools/judge/judge.sh) are recorded under "fuzz".

set -euo pipefail
. "$(dirname "$0")/../lib/harness.sh"
. "$REPO/tools/judge/judge.sh"

OUTDIR=${1:?usage: run.sh OUTDIR}
WHERE=fuzz
SECS=${FUZZ_SECONDS:-60}
SEED=${FUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
CLANG=clang-14
HERE=$REPO/tools/fuzz
LIB=$SRC/tools/lib
BIN=$BUILD/fuzz

mkdir -p "$OUTDIR" "$BIN"
OUTDIR=$(cd "$OUTDIR" && pwd)

# The corpus, made again, must be the committed one.
if ! cc -std=gnu11 -O2 -Wall -Wextra -Werror -I"$LIB" -I"$SRC/tools/include" \
	-I"$SRC/uapi" -o "$BIN/mkcorpus" "$HERE/mkcorpus.c" \
	"$LIB/stream_gen.c" "$LIB/pfstream.c" \
	-lisal >"$OUTDIR/mkcorpus.log" 2>&1; then
	result fail "$WHERE" "mkcorpus: build failed (log: $OUTDIR/mkcorpus.log)"
	exit 1
fi
rm -rf "$OUTDIR/seeds" && mkdir -p "$OUTDIR/seeds"
"$BIN/mkcorpus" "$OUTDIR/seeds"
if diff -r "$HERE/corpus" "$OUTDIR/seeds" >"$OUTDIR/corpus.diff" 2>&1; then
	result pass "$WHERE" "the committed seed corpus is what mkcorpus makes: $(ls "$HERE/corpus" | wc -l) streams"
else
	result fail "$WHERE" "tools/fuzz/corpus differs from what mkcorpus makes (make it again: $BIN/mkcorpus tools/fuzz/corpus)"
fi

if ! "$CLANG" -std=gnu11 -g -O1 -Wall -Wextra -Werror \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-I"$LIB" -I"$SRC/tools/include" -I"$SRC/uapi" -o "$BIN/stream_fuzz" "$HERE/stream_fuzz.c" \
	"$LIB/pfstream.c" -lisal >"$OUTDIR/build.log" 2>&1; then
	result fail "$WHERE" "stream_fuzz: build with $CLANG failed (log: $OUTDIR/build.log)"
	exit 1
fi

# cov_report: "pfstream.c lines N of N (P%), branches N of N (P%)", of
# the corpus of this run and the seeds.
cov_report() {
	local d=$OUTDIR/cov

	rm -rf "$d" && mkdir -p "$d"
	"$CLANG" -std=gnu11 -O0 -fsanitize=fuzzer -fprofile-instr-generate \
		-fcoverage-mapping -I"$LIB" -I"$SRC/tools/include" -I"$SRC/uapi" \
		-o "$BIN/stream_cov" \
		"$HERE/stream_fuzz.c" "$LIB/pfstream.c" -lisal &&
	LLVM_PROFILE_FILE=$d/cov.profraw "$BIN/stream_cov" -runs=0 \
		"$OUTDIR/corpus" "$HERE/corpus" >&2 &&
	llvm-profdata-14 merge -o "$d/cov.profdata" "$d/cov.profraw" &&
	llvm-cov-14 export -summary-only -instr-profile="$d/cov.profdata" \
		"$BIN/stream_cov" "$LIB/pfstream.c" >"$d/summary.json" ||
		return 1
	python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))["data"][0]["totals"]
l, b = t["lines"], t["branches"]
print("pfstream.c lines %d of %d (%.1f%%), branches %d of %d (%.1f%%)" %
      (l["covered"], l["count"], l["percent"],
       b["covered"], b["count"], b["percent"]))' "$d/summary.json"
} 2>>"$OUTDIR/cov.log"

rm -rf "$OUTDIR/corpus" "$OUTDIR"/crash-* "$OUTDIR"/leak-* "$OUTDIR"/timeout-* \
	"$OUTDIR"/oom-* && mkdir -p "$OUTDIR/corpus"
log "the stream reader's fuzzer, seed $SEED (FUZZ_SEED=$SEED reruns it), $SECS s"
rc=0
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	"$BIN/stream_fuzz" -seed="$SEED" -max_total_time="$SECS" \
	-print_final_stats=1 -use_value_profile=1 -timeout=10 \
	-rss_limit_mb=2048 -max_len=140000 -artifact_prefix="$OUTDIR/" \
	"$OUTDIR/corpus" "$HERE/corpus" >"$OUTDIR/fuzz.log" 2>&1 || rc=$?

execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$OUTDIR/fuzz.log" | tail -n 1)
secs=$(sed -n 's/^stat::\(average_exec_per_sec\): *//p' "$OUTDIR/fuzz.log" | tail -n 1)
last=$(grep -E '^#[0-9]+' "$OUTDIR/fuzz.log" | tail -n 1)
cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
# libFuzzer's edges count the harness's too, whose failure paths a sound
# reader never takes: the reader's own coverage, lines and branches of
# pfstream.c, comes from the corpus the run ended with, replayed by a build
# with source-based coverage (llvm-cov).
srccov=$(cov_report) || srccov="pfstream.c not measured (log: $OUTDIR/cov.log)"
text="fuzz: stream reader: seed $SEED, ${execs:-0} executions in $SECS s (${secs:-0}/s), coverage ${cov:-0} edges (${ft:-0} features), $srccov, corpus ${corp:-0} inputs from $(ls "$HERE/corpus" | wc -l) seeds"
artifacts=$(find "$OUTDIR" -maxdepth 1 -name 'crash-*' -o -maxdepth 1 -name 'leak-*' \
	-o -maxdepth 1 -name 'timeout-*' -o -maxdepth 1 -name 'oom-*' | head -n 3)
if [ "$rc" = 0 ] && [ -z "$artifacts" ] && [ "${execs:-0}" -gt 0 ]; then
	result pass "$WHERE" "$text"
else
	{ grep -E 'ERROR|stream_fuzz:|SUMMARY' "$OUTDIR/fuzz.log" || true; } |
		head -n 10 | sed 's/^/    /'
	result fail "$WHERE" "$text; failed (status $rc): ${artifacts:-no artifact} (log: $OUTDIR/fuzz.log)"
	exit 1
fi
