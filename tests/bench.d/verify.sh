#!/usr/bin/env bash
# verify.sh — `brotr event verify` throughput against the raw secp256k1_schnorrsig_verify rate × cores,
# measured in the same run on this machine. Target: ratio at least 0.90.
#
# Env: BUILD (build dir), BROTR (binary), BENCH_VERIFY_EVENTS (default 100000), BENCH_VERIFY_AUTHORS
# (distinct authors in the main run, default 1000; a second run uses one author per event).
# Each figure is the best of 3 runs, raw rate and verify alike, to damp noise from other processes.
set -eu
cd "$(dirname "$0")/../.."
: "${BUILD:=build}"
BROTR=${BROTR:-$BUILD/brotr}
TOOL=$BUILD/tools/nostr_bench
N=${BENCH_VERIFY_EVENTS:-100000}
AUTHORS=${BENCH_VERIFY_AUTHORS:-1000}
cores=$(nproc)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

now() { date +%s.%N; }

# best_raw: the highest single-thread schnorrsig_verify rate of 3 runs
best_raw() {
	local best=0 r
	for _ in 1 2 3; do
		r=$("$TOOL" raw 30000)
		best=$(awk -v a="$best" -v b="$r" 'BEGIN { print (b > a) ? b : a }')
	done
	echo "$best"
}

# best_verify FILE: the shortest of 3 wall times of brotr event verify over FILE; checks all are valid
best_verify() {
	local best= t0 t1 dt valid
	for _ in 1 2 3; do
		t0=$(now)
		"$BROTR" event verify "$1" >"$tmp/out"
		t1=$(now)
		valid=$(grep -c $'^valid\t' "$tmp/out")
		if [ "$valid" != "$N" ]; then
			echo "bench verify: only $valid of $N events valid" >&2
			exit 1
		fi
		dt=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
		best=$(awk -v a="$best" -v b="$dt" 'BEGIN { print (a == "" || b < a) ? b : a }')
	done
	echo "$best"
}

report() { # label secs raw
	awk -v label="$1" -v n="$N" -v s="$2" -v raw="$3" -v cores="$cores" 'BEGIN {
		rate = n / s; ceiling = raw * cores; ratio = rate / ceiling
		printf "event verify (%s): %.0f events/s; raw schnorrsig_verify %.0f/s x %d cores = %.0f/s; ratio %.3f (target >= 0.90)%s\n",
			label, rate, raw, cores, ceiling, ratio, (ratio >= 0.9 ? "" : "  BELOW TARGET")
	}'
}

"$TOOL" gen "$N" "$AUTHORS" >"$tmp/events.jsonl"
"$TOOL" gen "$N" "$N" >"$tmp/distinct.jsonl"
raw=$(best_raw)
secs=$(best_verify "$tmp/events.jsonl")
secs_distinct=$(best_verify "$tmp/distinct.jsonl")
raw_after=$(best_raw)
raw=$(awk -v a="$raw" -v b="$raw_after" 'BEGIN { print (b > a) ? b : a }')
echo "event verify: $N events of $(($(wc -c <"$tmp/events.jsonl") / N)) bytes on average, $cores cores"
report "$AUTHORS authors" "$secs" "$raw"
report "one author per event: every pubkey parsed" "$secs_distinct" "$raw"
