#!/usr/bin/env bash
# test_initializer.sh — `brotr initializer` against a fresh database: counts, rejected lines with file:line,
# idempotence, allow_local, an unreadable seed file, a database that is down at start and comes back.
set -u
cd "$(dirname "$0")/../.."
: "${BUILD:=build}" "${BROTR:=$PWD/$BUILD/brotr}"
source tests/harness/servers.sh
source tests/harness/tap.sh
source tests/integration/services_lib.sh
[ -n "${TEST_PGPORT:-}" ] || { echo "not ok - run me through tests/run (make check): I need the harness's PostgreSQL"; exit 1; }
T=$(mktemp -d "$TEST_TMP/initializer.XXXXXX")
child=""
cleanup() {
	[ -n "$child" ] && kill "$child" 2>/dev/null
	[ -z "${TEST_KEEP:-}" ] && rm -rf "$T"
	return 0
}
trap cleanup EXIT

DB=init_$$
impl_make "$T/impl" "[network]
allow_local = true"
ONION=$(onion_v3)
BAD_ONION=$(onion_bad_checksum "$ONION")
SEED=$T/impl/data/seed_relays.txt
cat >"$SEED" <<EOF
# seeds for the test
wss://Relay.Example.COM:443/
wss://relay.example.com
https://not.a.relay
ws://127.0.0.1:7777
ws://$ONION

ws://$BAD_ONION
wss://nos.lol
EOF

mkdir -p "$T/metrics"
t_status "db init" 0 svc_run "$T/impl" "$DB" db init
t_status "initializer --loop is refused" 2 svc_run "$T/impl" "$DB" initializer --loop
t_like "it runs once" "$T_ERR" "runs once"

t_status "initializer with rejected lines exits 0" 0 svc_run "$T/impl" "$DB" BROTR_METRICS_DIR="$T/metrics" -- initializer
t_like "the summary counts every outcome" "$T_ERR" \
	"msg=\"initializer summary\" file=$SEED relays=4 inserted=4 known=0 rejected=2 duplicates=1 result=complete"
t_like "a rejected line names file:line, reason and text" "$T_ERR" \
	"msg=\"seed line rejected\" at=$SEED:4 reason=\"[^\"]*ws or wss[^\"]*\" text=https://not.a.relay"
t_like "the bad onion checksum is rejected with its line" "$T_ERR" "msg=\"seed line rejected\" at=$SEED:8 reason="
t_is "the relays are registered, normalised" \
	"$(psql_admin -d "$DB" -Atc "SELECT url || ' ' || network FROM relays ORDER BY url" | tr '\n' '|')" \
	"ws://127.0.0.1:7777 clearnet|ws://$ONION tor|wss://nos.lol clearnet|wss://relay.example.com clearnet|"
t_like "metrics: inserted" "$(cat "$T/metrics/brotr_initializer.prom" 2>/dev/null)" \
	'brotr_initializer_relays_total\{service="initializer",result="inserted"\} 4'
t_like "metrics: rejected" "$(cat "$T/metrics/brotr_initializer.prom" 2>/dev/null)" \
	'brotr_initializer_relays_total\{service="initializer",result="rejected"\} 2'

t_status "a second run" 0 svc_run "$T/impl" "$DB" initializer
t_like "inserts nothing and counts them known" "$T_ERR" "relays=4 inserted=0 known=4 rejected=2 duplicates=1"

t_status "without allow_local" 0 svc_run "$T/impl" "$DB" BROTR_NETWORK_ALLOW_LOCAL=false -- initializer
t_like "the loopback relay is a rejected line" "$T_ERR" "at=$SEED:5 reason=\"[^\"]*allow_local"
t_like "and counted" "$T_ERR" "relays=3 inserted=0 known=3 rejected=3"

t_status "an unreadable seed file exits 1" 1 svc_run "$T/impl" "$DB" BROTR_INITIALIZER_SEED_FILE="$T/none.txt" -- initializer
t_like "naming it" "$T_ERR" "cannot read the seed file.*$T/none.txt: No such file"

t_status "a database that never answers exits 1" 1 svc_run "$T/impl" "$DB" BROTR_DATABASE_PORT=1 \
	BROTR_DATABASE_CONNECT_WAIT=1s -- initializer
t_like "after retrying" "$T_ERR" "database unavailable, retrying"

# The database is down when the initializer starts and comes back while it waits.
echo "wss://later.example.org" >>"$SEED"
pg_down
svc_run "$T/impl" "$DB" BROTR_DATABASE_CONNECT_WAIT=120s -- initializer >"$T/late.out" 2>"$T/late.err" &
child=$!
for _ in $(seq 1 600); do grep -q "database unavailable, retrying" "$T/late.err" && break; sleep 0.1; done
t_like "it waits for a database that is down" "$(cat "$T/late.err")" "database unavailable, retrying"
pg_up
wait "$child"
t_is "and succeeds once it is back" "$?" 0
child=""
t_like "inserting the new relay" "$(cat "$T/late.err")" "relays=5 inserted=1 known=4"

t_done
