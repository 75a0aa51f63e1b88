#!/usr/bin/env bash
# latency.sh — one relay's events/s when every message to it takes a round trip: the fixture relay
# answers each message RTT ms after it arrives (each on its own, as on a real path), at 0, 250 and
# 1000 ms, with the synchronizer walking one window at a time ([synchronizer] max_windows = 1, as
# before windows) and with its default and its most windows. Each rate is printed next to the same
# relay's rate at 0 ms in this run (target: at least 0.8 at 1 s). The relay serves pages of 500 (the
# common cap), so one window yields at most 500 events per round trip.
#
# usage: BUILD=build bash tests/bench.d/latency.sh      env: BENCH_LATENCY_EVENTS (40000)
set -u
cd "$(dirname "$0")/../.."
: "${BUILD:=build}"
export BUILD
source tests/harness/servers.sh
source tests/harness/bench.sh
trap 'tools_stop; harness_stop' EXIT

N=${BENCH_LATENCY_EVENTS:-40000}
for f in "$BUILD/brotr" "$BUILD/tools/nostr_bench" "$BUILD/tools/fixture_relay" "$BUILD/tools/free_port"; do
	[ -x "$f" ] || { echo "latency: $f is missing (make $BUILD/brotr and the tests/tools programs)" >&2; exit 1; }
done
pg_start || { echo "latency: PostgreSQL did not start" >&2; exit 1; }
events=$TEST_TMP/events.jsonl
"$BUILD/tools/nostr_bench" gen "$N" 1000 >"$events" || exit 1
default_windows=$(sed -n 's/^max_windows *= *//p' implementations/bigbrotr/config/services/synchronizer.ini 2>/dev/null)
default_windows=${default_windows:-8}

brotr_db() {
	local db=$1
	shift
	bench_brotr "$db" BROTR_NETWORK_CLEARNET_RESPONSE_TIMEOUT=30s "$@"
}

# rate RTT WINDOWS: events/s of one pass over a fresh database and a relay RTT ms away.
rate() {
	local rtt=$1 windows=$2 db=lat_$1_$2 relay t0 t1 stored
	brotr_db "$db" "$BUILD/brotr" --log-level warn db init >/dev/null || { echo "latency: db init failed" >&2; return 1; }
	tool_start fixture_relay --events "$events" --max-limit 500 --rtt "$rtt" || return 1
	relay=ws://127.0.0.1:$TOOL_PORT
	bench_readable "$db" "$relay" || return 1
	t0=$(date +%s.%N)
	brotr_db "$db" BROTR_SYNCHRONIZER_MAX_WINDOWS="$windows" "$BUILD/brotr" --log-level warn synchronizer \
		>/dev/null 2>"$TEST_TMP/$db.log" || { echo "latency: the pass failed: $(tail -2 "$TEST_TMP/$db.log")" >&2; return 1; }
	t1=$(date +%s.%N)
	stored=$(psql_admin -d "$db" -At -c "SELECT count(*) FROM events_relays")
	[ "$stored" -eq "$N" ] || { echo "latency: stored $stored of $N" >&2; return 1; }
	awk -v n="$N" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }'
}

echo "latency: one relay of $N events, pages of 500, each message answered one round trip after it arrives"
for windows in 1 "$default_windows" 16; do
	base=$(rate 0 "$windows") || exit 1
	line="latency: max_windows=$windows: 0 ms $base/s"
	for rtt in 250 1000; do
		r=$(rate "$rtt" "$windows") || exit 1
		line="$line, $rtt ms $r/s ($(awk -v r="$r" -v b="$base" 'BEGIN { printf "%.2f", r / b }') of 0 ms)"
	done
	echo "$line (target at 1 s: >= 0.80 of 0 ms; one window's bound is 500 events per round trip)"
done
