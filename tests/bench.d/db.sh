#!/usr/bin/env bash
# db.sh — the persistence bench, on its own PostgreSQL cluster:
#   1. the same synthetic events, each with its relay association, stored by brotr's batch insert
#      (pgc: insert_event_batch, one round trip per batch, ON CONFLICT DO NOTHING) and by COPY
#      (libpq, no conflict handling) into two fresh bigbrotr databases; rows/s and the ratio
#      (target: batch >= 0.6 of COPY). Best of BENCH_DB_ROUNDS rounds, the order alternating.
#   2. the disk size of those events (events + events_relays, indexes and TOAST included, after
#      VACUUM) in bigbrotr and in lilbrotr, and the saving.
#
# usage: BUILD=build bash tests/bench.d/db.sh
# env: BENCH_DB_EVENTS (100000), BENCH_DB_BATCH (1000), BENCH_DB_ROUNDS (2)
set -u
cd "$(dirname "$0")/../.."
: "${BUILD:=build}"
export BUILD
source tests/harness/servers.sh
trap harness_stop EXIT

EVENTS=${BENCH_DB_EVENTS:-100000}
BATCH=${BENCH_DB_BATCH:-1000}
ROUNDS=${BENCH_DB_ROUNDS:-2}
BENCH="$BUILD/tools/db_bench"
for f in "$BUILD/brotr" "$BENCH" "$BUILD/tools/free_port"; do
	[ -x "$f" ] || { echo "db: $f is missing (make $BUILD/brotr and the tests/tools programs)" >&2; exit 1; }
done

pg_start || { echo "db: PostgreSQL did not start" >&2; exit 1; }

# db_init IMPL DB: a fresh database through `brotr db init`, TOAST compressed with lz4 like the
# implementations' postgresql.conf asks.
db_init() {
	BROTR_CONFIG=implementations/$1/config/brotr.ini BROTR_DATABASE_HOST=$TEST_PGHOST \
		BROTR_DATABASE_PORT=$TEST_PGPORT BROTR_DATABASE_NAME=$2 BROTR_DATABASE_USER=$TEST_WRITER_USER \
		BROTR_DATABASE_PASSWORD=$TEST_WRITER_PASSWORD BROTR_DATABASE_ADMIN_PASSWORD=$TEST_PGPASSWORD \
		"$BUILD/brotr" --log-level warn db init >/dev/null || { echo "db: db init $1 $2 failed" >&2; exit 1; }
	psql_admin -d "$2" -c "ALTER DATABASE $2 SET default_toast_compression = lz4" >/dev/null
}

# rate OUTPUT: the rows_per_s value.
rate() { sed -n 's/.*rows_per_s=\([0-9]*\).*/\1/p' <<<"$1"; }
best() { if [ "${1:-0}" -gt "${2:-0}" ]; then echo "$1"; else echo "$2"; fi; }

echo "db: $EVENTS events (40% reactions, 35% notes, 10% profiles, 5% contact lists of 50-300 p tags,"
echo "db: 10% reposts), each with its relay association; batches of $BATCH; best of $ROUNDS rounds"
best_batch=0 best_copy=0
for r in $(seq 1 "$ROUNDS"); do
	db_init bigbrotr "batch_$r"
	db_init bigbrotr "copy_$r"
	if [ $((r % 2)) -eq 1 ]; then
		b=$("$BENCH" batch "batch_$r" "$EVENTS" "$BATCH") || exit 1
		c=$("$BENCH" copy "copy_$r" "$EVENTS") || exit 1
	else
		c=$("$BENCH" copy "copy_$r" "$EVENTS") || exit 1
		b=$("$BENCH" batch "batch_$r" "$EVENTS" "$BATCH") || exit 1
	fi
	echo "db: round $r: batch $(rate "$b") rows/s, COPY $(rate "$c") rows/s"
	best_batch=$(best "$(rate "$b")" "$best_batch")
	best_copy=$(best "$(rate "$c")" "$best_copy")
done
ratio=$(awk -v b="$best_batch" -v c="$best_copy" 'BEGIN { printf "%.2f", b / c }')
verdict=$(awk -v r="$ratio" 'BEGIN { print (r >= 0.6) ? "meets" : "MISSES" }')
printf 'db: %-58s %8s rows/s\n' "batch insert (insert_event_batch, ON CONFLICT DO NOTHING)" "$best_batch"
printf 'db: %-58s %8s rows/s\n' "COPY of the same rows (libpq, no conflict handling)" "$best_copy"
echo "db: ratio batch/COPY $ratio ($verdict the target of 0.60)"

db_init lilbrotr lil_1
"$BENCH" batch lil_1 "$EVENTS" "$BATCH" >/dev/null || exit 1
big=$("$BENCH" size batch_1) || exit 1
lil=$("$BENCH" size lil_1) || exit 1
big_bytes=$(sed -n 's/.*bytes=\([0-9]*\) events_bytes.*/\1/p' <<<"$big")
lil_bytes=$(sed -n 's/.*bytes=\([0-9]*\) events_bytes.*/\1/p' <<<"$lil")
awk -v b="$big_bytes" -v l="$lil_bytes" -v n="$EVENTS" 'BEGIN {
	printf "db: disk for the same %d events (events + events_relays, indexes and TOAST, after VACUUM):\n", n
	printf "db:   bigbrotr %.1f MiB (%.0f bytes/event), lilbrotr %.1f MiB (%.0f bytes/event): %.0f%% smaller\n",
		b / 1048576, b / n, l / 1048576, l / n, 100 * (1 - l / b) }'
[ "$verdict" = meets ]
