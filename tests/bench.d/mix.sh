#!/usr/bin/env bash
# mix.sh — a realistic mix: five relays, each event on four or five of them (line k of the events on
# all five when k is odd, else on all but relay (k / 2) mod 5).
#   - one pass over the five at once: associations stored per second, next to the same-run ceiling
#     for that work: 1 / (1/V + 1/C), V = raw verification on all threads (each distinct event once),
#     C = COPY of the same rows (every event once, every association) in associations per second;
#   - then the timer's case, each relay in a pass of its own (a new process each time): every relay
#     after the first brings events the archive already holds, whose signatures need no check
#     ([synchronizer] verify_stored = false, the default) against checking them all (true): the
#     passes' time and CPU, and how many signatures were not checked.
#
# usage: BUILD=build bash tests/bench.d/mix.sh      env: BENCH_MIX_EVENTS (100000)
set -u
cd "$(dirname "$0")/../.."
: "${BUILD:=build}"
export BUILD
source tests/harness/servers.sh
source tests/harness/bench.sh
trap 'tools_stop; harness_stop' EXIT

N=${BENCH_MIX_EVENTS:-100000}
for f in "$BUILD/brotr" "$BUILD/tools/nostr_bench" "$BUILD/tools/db_bench" "$BUILD/tools/fixture_relay" \
	"$BUILD/tools/peak_rss"; do
	[ -x "$f" ] || { echo "mix: $f is missing (make $BUILD/brotr and the tests/tools programs)" >&2; exit 1; }
done
pg_start || { echo "mix: PostgreSQL did not start" >&2; exit 1; }
events=$TEST_TMP/events.jsonl
"$BUILD/tools/nostr_bench" gen "$N" 1000 >"$events" || exit 1
for r in 0 1 2 3 4; do
	awk -v r="$r" '{ k = NR - 1 } k % 2 == 1 || int(k / 2) % 5 != r' "$events" >"$TEST_TMP/relay$r.jsonl"
done

brotr_env() {
	local db=$1
	shift
	bench_brotr "$db" BROTR_METRICS_DIR="$TEST_TMP/m_$db" "$@"
}
relays=()
for r in 0 1 2 3 4; do
	tool_start fixture_relay --events "$TEST_TMP/relay$r.jsonl" --max-limit 500 || exit 1
	relays+=("ws://127.0.0.1:$TOOL_PORT")
done
for db in mix copy each_id each_sig; do
	brotr_env "$db" "$BUILD/brotr" --log-level warn db init >/dev/null || { echo "mix: db init failed" >&2; exit 1; }
	mkdir -p "$TEST_TMP/m_$db"
done

# --- one pass over the five at once ------------------------------------------------------------
bench_readable mix "${relays[@]}" || exit 1
t0=$(date +%s.%N)
brotr_env mix BROTR_SYNCHRONIZER_MAX_RELAYS=5 "$BUILD/brotr" --log-level warn synchronizer >/dev/null 2>&1 ||
	{ echo "mix: the pass failed" >&2; exit 1; }
t1=$(date +%s.%N)
assoc=$(psql_admin -d mix -At -c "SELECT count(*) FROM events_relays")
rate=$(awk -v n="$assoc" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
cores=$(nproc)
rawn=$("$BUILD/tools/nostr_bench" raw $((50000 * cores)) "$cores")
copy=$("$BUILD/tools/db_bench" copy-mix copy "$events")
copy_s=$(printf '%s' "$copy" | sed -n 's/.*seconds=\([0-9.]*\).*/\1/p')
copy_assoc=$(printf '%s' "$copy" | sed -n 's/.*associations=\([0-9]*\).*/\1/p')
limit=$(awk -v n="$N" -v v="$rawn" -v a="$copy_assoc" -v c="$copy_s" 'BEGIN { printf "%.0f", a / (n / v + c) }')
echo "mix: $N events on 4 or 5 of 5 relays, one pass over all five: $assoc associations in" \
	"$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s, $rate associations/s"
echo "mix: ceiling in this run: verify $rawn events/s on $cores threads, COPY of the same rows (every event" \
	"once, $copy_assoc associations) $copy_s s: 1/(1/V + 1/C) = $limit associations/s;" \
	"ratio $(awk -v r="$rate" -v l="$limit" 'BEGIN { printf "%.2f", r / l }')"

# --- each relay in a pass of its own ----------------------------------------------------------
# passes DB VERIFY_STORED: the five passes one after the other; prints "seconds cpu_seconds unchecked"
passes() {
	local db=$1 verify=$2 r t0 t1 cpu=0 out
	t0=$(date +%s.%N)
	for r in "${relays[@]}"; do
		bench_readable "$db" "$r" || return 1
		out=$(brotr_env "$db" BROTR_SYNCHRONIZER_VERIFY_STORED="$verify" "$BUILD/tools/peak_rss" "$BUILD/brotr" \
			--log-level warn synchronizer 2>&1) ||
			{ echo "mix: a pass failed" >&2; return 1; }
		cpu=$(printf '%s\n' "$out" | awk -v c="$cpu" '/^peak_rss_kib=/ { for (i = 1; i <= NF; i++) {
			if ($i ~ /^user_s=/) { sub("user_s=", "", $i); c += $i } if ($i ~ /^sys_s=/) { sub("sys_s=", "", $i); c += $i } } }
			END { printf "%.2f", c }')
	done
	t1=$(date +%s.%N)
	local unchecked
	unchecked=$(sed -n 's/^brotr_sync_signatures_stored_total{service="synchronizer"} //p' \
		"$TEST_TMP/m_$db/brotr_synchronizer.prom")
	echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') $cpu ${unchecked:-0}"
}
read -r s_id cpu_id un_id < <(passes each_id false) || exit 1
read -r s_sig cpu_sig un_sig < <(passes each_sig true) || exit 1
echo "mix: five passes of one relay each: with stored signatures taken as checked $s_id s, $cpu_id s of" \
	"brotr CPU ($un_id signatures not checked); checking them all $s_sig s, $cpu_sig s of CPU ($un_sig)"
echo "mix: CPU saved: $(awk -v a="$cpu_id" -v b="$cpu_sig" 'BEGIN { printf "%.0f%%", (b > 0 ? 100 * (1 - a / b) : 0) }')"
