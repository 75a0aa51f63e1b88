#!/usr/bin/env bash
# discovery.sh — the finder and the validator, on their own PostgreSQL cluster:
#   1. what the finder's queue trigger costs the archive: the batch insert (db_bench batch) into a
#      bigbrotr database with the trigger and with it disabled; best of BENCH_DISC_ROUNDS rounds each.
#   2. finder: events scanned per second over BENCH_FINDER_EVENTS archived events that all name
#      relays (60% notes with e-tag hints, 20% kind 10002 with 5 r tags, 10% contact lists, 10%
#      NIP-66), next to a plain SELECT of the same columns from the same view in the same run
#      (psql, a cursor of 1000 rows); best of BENCH_DISC_ROUNDS each, the order alternating (the
#      queue is restored between runs); target at least 0.5; and the finder's peak memory.
#   3. validator: candidates per second against a fixture relay that answers every message after
#      BENCH_VALIDATOR_DELAY ms, next to the ideal (candidates ÷ concurrency × delay); target 0.8.
#      Direct connections (no proxy) to loopback, one URL path per candidate.
#
# usage: BUILD=build bash tests/bench.d/discovery.sh
# env: BENCH_FINDER_EVENTS (1000000), BENCH_DISC_EVENTS (100000), BENCH_DISC_ROUNDS (2),
#      BENCH_VALIDATOR_CANDIDATES (3000), BENCH_VALIDATOR_CONCURRENCY (100), BENCH_VALIDATOR_DELAY (500)
set -u
cd "$(dirname "$0")/../.."
: "${BUILD:=build}"
export BUILD
source tests/harness/servers.sh
trap harness_stop EXIT

FEVENTS=${BENCH_FINDER_EVENTS:-1000000}
DEVENTS=${BENCH_DISC_EVENTS:-100000}
ROUNDS=${BENCH_DISC_ROUNDS:-2}
NCAND=${BENCH_VALIDATOR_CANDIDATES:-3000}
CONC=${BENCH_VALIDATOR_CONCURRENCY:-100}
DELAY=${BENCH_VALIDATOR_DELAY:-500}
for f in "$BUILD/brotr" "$BUILD/tools/db_bench" "$BUILD/tools/fixture_relay" "$BUILD/tools/peak_rss"; do
	[ -x "$f" ] || { echo "discovery: $f is missing (make $BUILD/brotr and the tests/tools programs)" >&2; exit 1; }
done
pg_start || { echo "discovery: PostgreSQL did not start" >&2; exit 1; }

brotr() {
	local db=$1
	shift
	env BROTR_CONFIG=implementations/bigbrotr/config/brotr.ini BROTR_DATABASE_HOST="$TEST_PGHOST" \
		BROTR_DATABASE_PORT="$TEST_PGPORT" BROTR_DATABASE_NAME="$db" BROTR_DATABASE_USER="$TEST_WRITER_USER" \
		BROTR_DATABASE_PASSWORD="$TEST_WRITER_PASSWORD" BROTR_DATABASE_ADMIN_PASSWORD="$TEST_PGPASSWORD" "$@"
}
db_init() { brotr "$1" "$BUILD/brotr" --log-level warn db init >/dev/null || { echo "discovery: db init $1 failed" >&2; exit 1; }; }
rate() { sed -n 's/.*rows_per_s=\([0-9]*\).*/\1/p' <<<"$1"; }
best() { if [ "${1:-0}" -gt "${2:-0}" ]; then echo "$1"; else echo "$2"; fi; }
now() { date +%s.%N; }

# ---- 1. the trigger's cost on the archive's batch insert
echo "discovery: $DEVENTS events (db_bench's mix) stored by insert_event_batch, with and without the finder's trigger"
with=0 without=0
for r in $(seq 1 "$ROUNDS"); do
	db_init "trig_$r"
	db_init "notrig_$r"
	psql_admin -d "notrig_$r" -c "ALTER TABLE events DISABLE TRIGGER events_finder_queue" >/dev/null
	if [ $((r % 2)) -eq 1 ]; then
		a=$("$BUILD/tools/db_bench" batch "trig_$r" "$DEVENTS" 1000) || exit 1
		b=$("$BUILD/tools/db_bench" batch "notrig_$r" "$DEVENTS" 1000) || exit 1
	else
		b=$("$BUILD/tools/db_bench" batch "notrig_$r" "$DEVENTS" 1000) || exit 1
		a=$("$BUILD/tools/db_bench" batch "trig_$r" "$DEVENTS" 1000) || exit 1
	fi
	with=$(best "$(rate "$a")" "$with")
	without=$(best "$(rate "$b")" "$without")
done
queued=$(psql_admin -d trig_1 -At -c "SELECT count(*) FROM finder_queue")
printf 'discovery: %-56s %8s rows/s\n' "batch insert with the queue trigger" "$with"
printf 'discovery: %-56s %8s rows/s\n' "batch insert with the trigger disabled" "$without"
awk -v a="$with" -v b="$without" -v q="$queued" -v n="$DEVENTS" 'BEGIN {
	printf "discovery: the trigger costs %.0f%% of the insert rate (%d of %d events queued)\n", 100 * (1 - a / b), q, n }'

# ---- 2. the finder over a large archive
db_init finder
echo "discovery: generating $FEVENTS archived events that name relays (in SQL, as the superuser)"
step=100000
for ((lo = 1; lo <= FEVENTS; lo += step)); do
	hi=$((lo + step - 1 < FEVENTS ? lo + step - 1 : FEVENTS))
	psql_admin -d finder -c "
	INSERT INTO events (id, pubkey, kind, created_at, tags, tagvalues, content, sig)
	SELECT sha256(('e' || i)::bytea), sha256(('p' || (i % 20000))::bytea), s.kind, 1700000000 + i,
		CASE s.kind
		WHEN 1 THEN jsonb_build_array(jsonb_build_array('e', encode(sha256(('e' || (i - 1))::bytea), 'hex'),
				'wss://relay' || (i * 7 % 20000) || '.com'), jsonb_build_array('p', repeat('ab', 32), ''))
		WHEN 10002 THEN (SELECT jsonb_agg(jsonb_build_array('r', 'wss://relay' || ((i + j * 131) % 20000) || '.com/'))
		                 FROM generate_series(1, 5) j)
		WHEN 3 THEN jsonb_build_array(jsonb_build_array('p', repeat('cd', 32)))
		ELSE jsonb_build_array(jsonb_build_array('d', 'wss://relay' || (i % 20000) || '.com'),
		                       jsonb_build_array('n', 'clearnet'), jsonb_build_array('rtt-open', '120'))
		END, '{}',
		CASE WHEN s.kind = 3 THEN (SELECT jsonb_object_agg('wss://relay' || ((i + j * 17) % 20000) || '.com',
		                                                   '{\"read\":true,\"write\":true}'::jsonb)::text
		                           FROM generate_series(1, 5) j)
		     ELSE 'hello' END,
		decode(repeat('00', 64), 'hex')
	FROM (SELECT i, CASE WHEN i % 10 < 6 THEN 1 WHEN i % 10 < 8 THEN 10002 WHEN i % 10 < 9 THEN 3 ELSE 30166 END AS kind
	      FROM generate_series($lo, $hi) i) s" >/dev/null || exit 1
done
psql_admin -d finder -c "CREATE TABLE queue_copy AS SELECT * FROM finder_queue" -c "VACUUM ANALYZE" >/dev/null
n=$(psql_admin -d finder -At -c "SELECT count(*) FROM finder_queue")
requeue() {
	psql_admin -d finder -c "DELETE FROM relay_candidates; TRUNCATE finder_queue;
		INSERT INTO finder_queue (seq, event_id) OVERRIDING SYSTEM VALUE SELECT seq, event_id FROM queue_copy" \
		-c "VACUUM ANALYZE finder_queue, relay_candidates" >/dev/null
}
select_rate() {
	local a b
	a=$(now)
	psql_admin -d finder -At -v FETCH_COUNT=1000 -c "SELECT seq, encode(event_id, 'hex'), coalesce(kind, -1),
		tags::text, content, array_to_json(tagvalues)::text FROM finder_pending_events ORDER BY seq" >/dev/null || exit 1
	b=$(now)
	awk -v n="$n" -v a="$a" -v b="$b" 'BEGIN { printf "%.0f", n / (b - a) }'
}
finder_rate() {
	local a b out s
	a=$(now)
	out=$(brotr finder BROTR_FINDER_PASS_BUDGET=1d "$BUILD/tools/peak_rss" "$BUILD/brotr" finder 2>&1) || { echo "$out" >&2; exit 1; }
	b=$(now)
	s=$(sed -n 's/.*finder pass summary.* events=\([0-9]*\) .*/\1/p' <<<"$out")
	rss=$(sed -n 's/.*peak_rss_kib=\([0-9]*\).*/\1/p' <<<"$out")
	[ "$s" = "$n" ] || { echo "discovery: the finder read $s of $n events" >&2; exit 1; }
	awk -v n="$s" -v a="$a" -v b="$b" 'BEGIN { printf "%.0f", n / (b - a) }'
}
sel=0 fin=0 rss=0
for r in $(seq 1 "$ROUNDS"); do
	if [ $((r % 2)) -eq 1 ]; then
		s1=$(select_rate); f1=$(finder_rate)
	else
		f1=$(finder_rate); requeue; s1=$(select_rate)
	fi
	echo "discovery: round $r: SELECT $s1 rows/s, finder $f1 events/s"
	sel=$(best "$s1" "$sel")
	fin=$(best "$f1" "$fin")
	requeue
done
rss=$(peak=$(brotr finder BROTR_FINDER_PASS_BUDGET=1d "$BUILD/tools/peak_rss" "$BUILD/brotr" --log-level warn finder 2>&1); sed -n 's/.*peak_rss_kib=\([0-9]*\).*/\1/p' <<<"$peak")
awk -v n="$n" -v sel="$sel" -v fin="$fin" -v rss="$rss" 'BEGIN {
	printf "discovery: %-56s %8d rows/s\n", "plain SELECT of the queued events (psql, cursor)", sel
	printf "discovery: %-56s %8d events/s (%d events)\n", "finder (read, scan, commit candidates)", fin, n
	printf "discovery: ratio finder/SELECT %.2f (%s the target of 0.50); finder peak RSS %.1f MiB\n",
		fin / sel, (fin / sel >= 0.5 ? "meets" : "MISSES"), rss / 1024 }'

# ---- 3. the validator against relays that answer after a delay
db_init validator
tool_start fixture_relay --delay "$DELAY" || exit 1
psql_admin -d validator -c "INSERT INTO relay_candidates (url, network, source, source_url, first_seen, next_attempt)
	SELECT 'ws://127.0.0.1:$TOOL_PORT/c' || i, 'clearnet', 'http', 'bench', 0, 0 FROM generate_series(1, $NCAND) i" >/dev/null
t0=$(now)
out=$(brotr validator BROTR_TOR_SOCKS_PROXY= BROTR_NETWORK_ALLOW_LOCAL=true BROTR_NETWORK_CLEARNET_MAX_CONNECTIONS="$CONC" \
	BROTR_VALIDATOR_MAX_CANDIDATES="$NCAND" "$BUILD/brotr" --log-level warn validator 2>&1) || { echo "$out" >&2; exit 1; }
t1=$(now)
promoted=$(psql_admin -d validator -At -c "SELECT count(*) FROM relays")
awk -v n="$NCAND" -v p="$promoted" -v c="$CONC" -v d="$DELAY" -v a="$t0" -v b="$t1" 'BEGIN {
	ideal = n / (n / c * d / 1000); got = p / (b - a)
	printf "discovery: %-56s %8.0f candidates/s\n", "ideal (candidates / concurrency x delay)", ideal
	printf "discovery: %-56s %8.0f candidates/s (%d of %d promoted, %.1f s)\n", "validator", got, p, n, b - a
	printf "discovery: ratio %.2f (%s the target of 0.80)\n", got / ideal, (got / ideal >= 0.8 ? "meets" : "MISSES") }'
