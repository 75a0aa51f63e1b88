#!/usr/bin/env bash
# export.sh — `brotr import` and `brotr export` of N events, each next to its limit measured in the same run:
#   import  JSON lines verified and stored in batches, one batch after the other: its limit is that of a
#           serial pipeline, 1/(1/V + 1/C), V the raw secp256k1_schnorrsig_verify rate measured on every
#           thread at once, C the COPY of the same rows (events + events_relays) into a fresh database;
#   export  the archive written as JSON lines to a file, next to `COPY (SELECT the same columns) TO
#           STDOUT` into a file of the same disk (target: at least 0.5 of COPY). The peak resident
#           set size of the export is printed too (constant: it must not grow with N).
#
# usage: BUILD=build bash tests/bench.d/export.sh      env: BENCH_EXPORT_EVENTS (200000)
set -u
cd "$(dirname "$0")/../.."
: "${BUILD:=build}"
export BUILD
source tests/harness/servers.sh
source tests/harness/bench.sh
trap harness_stop EXIT

N=${BENCH_EXPORT_EVENTS:-200000}
for f in "$BUILD/brotr" "$BUILD/tools/nostr_bench" "$BUILD/tools/db_bench" "$BUILD/tools/peak_rss" \
	"$BUILD/tools/free_port"; do
	[ -x "$f" ] || { echo "export: $f is missing (make $BUILD/brotr and the tests/tools programs)" >&2; exit 1; }
done
pg_start || { echo "export: PostgreSQL did not start" >&2; exit 1; }

brotr_db() {
	local db=$1
	shift
	bench_brotr "$db" BROTR_DATABASE_READER_USER=bench_reader BROTR_DATABASE_READER_PASSWORD=bench-reader "$@"
}
now() { date +%s.%N; }
per_s() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", n / (b - a) }'; }

events=$TEST_TMP/events.jsonl
echo "export: generating $N signed events (1000 authors)"
"$BUILD/tools/nostr_bench" gen "$N" 1000 >"$events" || exit 1
for db in archive copy; do
	brotr_db "$db" "$BUILD/brotr" --log-level warn db init >/dev/null || { echo "export: db init failed" >&2; exit 1; }
done
psql_admin -d archive -qc "CREATE ROLE bench_reader LOGIN PASSWORD 'bench-reader' IN ROLE brotr_reader" >/dev/null

# ---- import, then its limits
t0=$(now)
summary=$(brotr_db archive "$BUILD/brotr" --log-level warn import --relay ws://127.0.0.1:1 "$events") || {
	echo "export: the import failed: $summary"; exit 1; }
t1=$(now)
import_rate=$(per_s "$N" "$t0" "$t1")
cores=$(nproc)
verify=$("$BUILD/tools/nostr_bench" raw $((50000 * cores)) "$cores")
copy_in=$("$BUILD/tools/db_bench" copy-jsonl copy "$events" | sed -n 's/.*rows_per_s=\([0-9]*\).*/\1/p')
limit=$(awk -v v="$verify" -v c="$copy_in" 'BEGIN { printf "%.0f", 1 / (1 / v + 1 / c) }')
echo "import: $summary"
echo "import: $N events in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s: $import_rate events/s"
echo "import: limits measured in this run: verify $verify/s on $cores threads, COPY of the same rows $copy_in rows/s;" \
	"one after the other 1/(1/V + 1/C) = $limit/s"
echo "import: ratio to that limit: $(awk -v r="$import_rate" -v l="$limit" 'BEGIN { printf "%.2f", r / l }') (target >= 0.5)"
echo "import: for context: the smaller of the two, min(V, C), is $(( verify < copy_in ? verify : copy_in ))/s (reached only if" \
	"verification and PostgreSQL did not share the cores; import overlaps verifying one batch with storing the last)"

# ---- export next to COPY TO of the same rows, twice each, alternating; the best of each
psql_admin -d archive -qc "VACUUM ANALYZE events" >/dev/null
select="SELECT id, pubkey, created_at, kind, tags::text, content, sig FROM events"
best_exp=0 best_copy=0 rss=0
for round in 1 2; do
	t0=$(now)
	out=$(brotr_db archive "$BUILD/tools/peak_rss" "$BUILD/brotr" --log-level warn export 2>&1 >"$TEST_TMP/export.jsonl")
	t1=$(now)
	[ "$(wc -l <"$TEST_TMP/export.jsonl")" -eq "$N" ] || { echo "export: wrong line count: $out"; exit 1; }
	e=$(per_s "$N" "$t0" "$t1")
	[ "$e" -gt "$best_exp" ] && best_exp=$e
	rss=$(printf '%s\n' "$out" | sed -n 's/^peak_rss_kib=\([0-9]*\).*/\1/p')
	t0=$(now)
	psql_admin -d archive -qc "COPY ($select) TO STDOUT" >"$TEST_TMP/copy.txt" || exit 1
	t1=$(now)
	r=$(per_s "$N" "$t0" "$t1")
	[ "$r" -gt "$best_copy" ] && best_copy=$r
	echo "export: round $round: export $e events/s, COPY TO $r rows/s"
done
echo "export: $N events as JSON lines: $best_exp events/s ($(( $(stat -c %s "$TEST_TMP/export.jsonl") / 1048576 )) MiB);" \
	"COPY (the same columns) TO STDOUT: $best_copy rows/s ($(( $(stat -c %s "$TEST_TMP/copy.txt") / 1048576 )) MiB)"
echo "export: ratio to COPY TO: $(awk -v e="$best_exp" -v c="$best_copy" 'BEGIN { printf "%.2f", e / c }') (target >= 0.5)"
echo "export: peak RSS $(( rss / 1024 )) MiB for $N events (constant: rows stream one at a time)"
