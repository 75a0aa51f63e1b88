#!/usr/bin/env bash
# verify.sh — `brotr event verify` throughput against the raw secp256k1_schnorrsig_verify rate × cores,
# measured in the same run on this machine. Target: ratio at least 0.90.
#
# Env: BUILD (build dir), BROTR (binary), BENCH_VERIFY_EVENTS (default 100000), BENCH_VERIFY_AUTHORS
# (distinct authors in the main file, default 1000; a second file has one author per event, so every
# public key must be parsed), BENCH_VERIFY_ROUNDS (default 5). Each round measures, one after the
# other, the raw rate on one thread, the raw rate on all cores, and brotr over both files; each
# figure is the best of the rounds, which damps noise from other processes on a shared machine.
set -eu
cd "$(dirname "$0")/../.."
: "${BUILD:=build}"
BROTR=${BROTR:-$BUILD/brotr}
TOOL=$BUILD/tools/nostr_bench
N=${BENCH_VERIFY_EVENTS:-100000}
AUTHORS=${BENCH_VERIFY_AUTHORS:-1000}
ROUNDS=${BENCH_VERIFY_ROUNDS:-5}
cores=$(nproc)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

max() { awk -v a="$1" -v b="$2" 'BEGIN { print (b + 0 > a + 0) ? b : a }'; }

# rate FILE: events per second of one run of brotr event verify over FILE (all lines must be valid)
rate() {
	local t0 t1 valid
	t0=$(date +%s.%N)
	"$BROTR" event verify "$1" >"$tmp/out"
	t1=$(date +%s.%N)
	valid=$(grep -c $'^valid\t' "$tmp/out")
	if [ "$valid" != "$N" ]; then
		echo "bench verify: only $valid of $N events valid" >&2
		exit 1
	fi
	awk -v n="$N" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f\n", n / (b - a) }'
}

"$TOOL" gen "$N" "$AUTHORS" >"$tmp/authors.jsonl"
"$TOOL" gen "$N" "$N" >"$tmp/distinct.jsonl"
raw1=0 rawn=0 v_authors=0 v_distinct=0
for _ in $(seq "$ROUNDS"); do
	raw1=$(max "$raw1" "$("$TOOL" raw 30000)")
	rawn=$(max "$rawn" "$("$TOOL" raw $((30000 * cores)) "$cores")")
	v_authors=$(max "$v_authors" "$(rate "$tmp/authors.jsonl")")
	v_distinct=$(max "$v_distinct" "$(rate "$tmp/distinct.jsonl")")
done

echo "event verify: $N events of $(($(wc -c <"$tmp/authors.jsonl") / N)) bytes on average, $cores cores, best of $ROUNDS rounds"
echo "raw secp256k1_schnorrsig_verify: $raw1/s on one thread; $rawn/s measured on $cores threads"
report() { # label rate
	awk -v label="$1" -v rate="$2" -v raw="$raw1" -v rawn="$rawn" -v cores="$cores" 'BEGIN {
		ratio = rate / (raw * cores)
		printf "event verify, %s: %d events/s = %.3f of raw x cores (%d/s; target >= 0.90)%s; %.3f of the measured %d-thread raw rate\n",
			label, rate, ratio, raw * cores, (ratio >= 0.9 ? "" : " BELOW TARGET"), rate / rawn, cores
	}'
}
report "$AUTHORS authors" "$v_authors"
report "one author per event (every public key parsed)" "$v_distinct"
