#!/usr/bin/env bash
# sync.sh — the synchronizer end to end: events from a local relay, through the SOCKS5 helper (direct
# mode), parsed, verified and committed into PostgreSQL by `brotr synchronizer`, next to the limits
# measured in the same run on the same machine:
#   verify  raw secp256k1_schnorrsig_verify calls per second on one core, times the cores
#   COPY    the same rows (events + events_relays) COPYed into a fresh database of the same schema
# For context it also stores the same rows through insert_event_batch alone (db_bench batch-jsonl).
# The limit is the smaller of the two; the target is a ratio of at least 0.5. The peak resident
# set size of the synchronizer is printed too (target: under 100 MiB for a million events).
#
# usage: BUILD=build bash tests/bench.d/sync.sh      env: BENCH_SYNC_EVENTS (1000000)
set -u
cd "$(dirname "$0")/../.."
: "${BUILD:=build}"
export BUILD
source tests/harness/servers.sh
source tests/harness/bench.sh
trap 'tools_stop; harness_stop' EXIT

N=${BENCH_SYNC_EVENTS:-1000000}
for f in "$BUILD/brotr" "$BUILD/tools/nostr_bench" "$BUILD/tools/db_bench" "$BUILD/tools/fixture_relay" \
	"$BUILD/tools/peak_rss" "$BUILD/tools/free_port"; do
	[ -x "$f" ] || { echo "sync: $f is missing (make $BUILD/brotr and the tests/tools programs)" >&2; exit 1; }
done
pg_start || { echo "sync: PostgreSQL did not start" >&2; exit 1; }

events=$TEST_TMP/events.jsonl
echo "sync: generating $N signed events (1000 authors, one second apart)"
"$BUILD/tools/nostr_bench" gen "$N" 1000 >"$events" || exit 1

for db in sync copy batch; do
	bench_brotr "$db" "$BUILD/brotr" --log-level warn db init >/dev/null || { echo "sync: db init failed" >&2; exit 1; }
done

tool_start fixture_relay --events "$events" --max-limit 500 || exit 1
relay=ws://127.0.0.1:$TOOL_PORT
bench_readable sync "$relay" || exit 1

t0=$(date +%s.%N)
out=$(bench_brotr sync "$BUILD/tools/peak_rss" "$BUILD/brotr" synchronizer 2>&1)
rc=$?
t1=$(date +%s.%N)
[ "$rc" -eq 0 ] || { echo "sync: the synchronizer failed:"; printf '%s\n' "$out" | tail -5; exit 1; }
stored=$(psql_admin -d sync -At -c "SELECT count(*) FROM events_relays")
rss=$(printf '%s\n' "$out" | sed -n 's/^peak_rss_kib=\([0-9]*\).*/\1/p')
cpu=$(printf '%s\n' "$out" | sed -n 's/^peak_rss_kib=[0-9]* //p')
rate=$(awk -v n="$stored" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')

cores=$(nproc)
raw1=$("$BUILD/tools/nostr_bench" raw 50000)
raw=$((raw1 * cores))
rawn=$("$BUILD/tools/nostr_bench" raw $((50000 * cores)) "$cores")
copy=$("$BUILD/tools/db_bench" copy-jsonl copy "$events" | sed -n 's/.*rows_per_s=\([0-9]*\).*/\1/p')
batch=$("$BUILD/tools/db_bench" batch-jsonl batch "$events" 4000 | sed -n 's/.*rows_per_s=\([0-9]*\).*/\1/p')
limit=$(( raw < copy ? raw : copy ))
echo "sync: archived $stored of $N events in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s: $rate events/s"
echo "sync: limits measured in this run: verify $raw1/s on one core x $cores cores = $raw/s, COPY of the same rows $copy rows/s"
echo "sync: ratio to the smaller limit ($limit/s): $(awk -v r="$rate" -v l="$limit" 'BEGIN { printf "%.2f", r / l }') (target >= 0.5)"
echo "sync: for context: verification measured on $cores threads at once runs $rawn/s here (cores that share" \
	"hardware do not add up); the relay and PostgreSQL run on the same cores"
echo "sync: for context: the same rows through insert_event_batch alone (4000 per call, no relay, no" \
	"verification): $batch rows/s, against COPY's $copy rows/s"
echo "sync: the synchronizer's own CPU time: $cpu"
echo "sync: peak RSS $(( rss / 1024 )) MiB for $N events (target < 100 MiB)"
