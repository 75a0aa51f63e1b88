#!/usr/bin/env bash
# test_discovery.sh — finder and validator end to end: four fixture relays that name each other (A names B
# and C, B names D, an .onion, C names junk and non-relays), every name mapped at a logging SOCKS server;
# from a seed of A alone, rounds of monitor → synchronizer → finder → validator end with exactly the real
# relays promoted and archived, every junk URL dropped with its reason, the non-relays never promoted and
# dropped after their back-off, each candidate's source recorded; a further round adds nothing; a finder
# interrupted by SIGTERM resumes without re-reading or skipping an event; the [brotr] switches.
set -u
cd "$(dirname "$0")/../.."
: "${BUILD:=build}" "${BROTR:=$PWD/$BUILD/brotr}"
source tests/harness/servers.sh
source tests/harness/tap.sh
source tests/integration/services_lib.sh
[ -n "${TEST_PGPORT:-}" ] || { echo "not ok - run me through tests/run (make check): I need the harness's PostgreSQL"; exit 1; }
PLAN=62
RAN=0
t_pass() { RAN=$((RAN + 1)); echo "ok - $1"; }
t_fail() {
	RAN=$((RAN + 1))
	echo "not ok - $1"
	shift
	[ $# -gt 0 ] && printf '#   %s\n' "$@"
	T_FAILED=$((T_FAILED + 1))
}
T=$(mktemp -d "$TEST_TMP/discovery.XXXXXX")
FX=tests/fixtures/discovery
child="" locker=""
cleanup() {
	[ -n "$child" ] && kill -9 "$child" 2>/dev/null
	[ -n "$locker" ] && kill "$locker" 2>/dev/null
	tools_stop
	[ -z "${TEST_KEEP:-}" ] && rm -rf "$T"
	return 0
}
trap cleanup EXIT
DOMAIN=brotr-fixture.net
ONION=$(cat "$FX/onion.txt")
name() { printf 'relay-%s.%s' "$1" "$DOMAIN"; }
RA=ws://$(name a) RB=ws://$(name b) RC=ws://$(name c) RD=ws://$ONION

# ---- the network: every host name is known only to the SOCKS server
relay() { tool_start fixture_relay "$@" || exit 1; }
relay --events "$FX/a.jsonl"; pa=$TOOL_PORT
relay --events "$FX/b.jsonl"; pb=$TOOL_PORT
relay --events "$FX/c.jsonl"; pc=$TOOL_PORT
relay --events "$FX/d.jsonl"; pd=$TOOL_PORT
relay --mode echo; pecho=$TOOL_PORT
relay --mode silent; pquiet=$TOOL_PORT
tool_start http_page || exit 1; pweb=$TOOL_PORT
tool_start tcp_blackhole || exit 1; psink=$TOOL_PORT
# an HTTP source: a JSON document listing relays (one already known, one new, one junk)
printf '{"relays":[{"url":"%s"},{"url":"wss://listed.com/"},{"url":"http://not-a-relay.com"},{"x":1}]}' "ws://$(name a)" \
	>"$T/list.json"
tool_start http_page 0 "$T/list.json" application/json || exit 1; plist=$TOOL_PORT
tool_start socks_logger --log "$T/socks.log" --fail "gone.$DOMAIN=4" \
	--map "$(name a)=127.0.0.1:$pa" --map "$(name b)=127.0.0.1:$pb" --map "$(name c)=127.0.0.1:$pc" \
	--map "$ONION=127.0.0.1:$pd" --map "web.$DOMAIN=127.0.0.1:$pweb" --map "sink.$DOMAIN=127.0.0.1:$psink" \
	--map "echo.$DOMAIN=127.0.0.1:$pecho" --map "quiet.$DOMAIN=127.0.0.1:$pquiet" \
	--map "lists.$DOMAIN=127.0.0.1:$plist" || exit 1
SOCKS=$TOOL_PORT

impl_make "$T/impl" "[brotr]
sync_service = synchronizer"
echo "$RA" >"$T/impl/data/seed_relays.txt"
DB=discovery_$$
ENV=(BROTR_TOR_SOCKS_PROXY="127.0.0.1:$SOCKS" BROTR_METRICS_DIR="$T" BROTR_MONITOR_WRITE_TEST=false
	BROTR_NETWORK_CLEARNET_CONNECT_TIMEOUT=2s BROTR_NETWORK_CLEARNET_UPGRADE_TIMEOUT=2s
	BROTR_NETWORK_CLEARNET_RESPONSE_TIMEOUT=2s BROTR_NETWORK_TOR_CONNECT_TIMEOUT=2s
	BROTR_NETWORK_TOR_UPGRADE_TIMEOUT=2s BROTR_NETWORK_TOR_RESPONSE_TIMEOUT=2s
	BROTR_VALIDATOR_MAX_FAILURES=2 BROTR_VALIDATOR_RETRY_BASE=1h)
run() { svc_run "$T/impl" "$DB" "${ENV[@]}" "$@"; }
q() { db_q "$DB" "$1"; }

# round N: monitor, synchronizer, finder, validator; their logs in $T/<service>.N
round() {
	local s
	for s in monitor synchronizer finder validator; do
		run -- "$s" 2>"$T/$s.$1" || echo "# round $1: $s exited $?"
	done
}

t_status "db init" 0 run -- db init
t_status "initializer seeds A alone" 0 run -- initializer
t_is "one relay to begin with" "$(q "SELECT url FROM relays")" "$RA"

# ---- round 1: A is archived; it names B (r tag, contact list) and C (r tag with a path slash, e hint)
round 1
t_like "finder: A's three relay-naming events read" "$(cat "$T/finder.1")" \
	'finder pass summary" ended=drained events=3 .*candidates_new=2 '
t_like "the same URL twice in a batch is counted once" "$(cat "$T/finder.1")" 'urls=4 .* repeated=2 '
t_like "validator: both answered like relays" "$(cat "$T/validator.1")" \
	'validator pass summary" tested=2 relays=2 not_relays=0 promoted=2 failed=0 dropped=0'
t_set "B and C promoted" "$(q "SELECT url FROM relays")" "$(printf '%s\n' "$RA" "$RB" "$RC")"
t_is "promoted candidates are gone" "$(q "SELECT count(*) FROM relay_candidates")" "0"
t_is "the queue is drained" "$(q "SELECT count(*) FROM finder_queue")" "0"

# ---- round 2: B and C archived; B names D (.onion), C names junk and non-relays
round 2
t_set "B and C were monitored and archived (picked up like any other relay)" \
	"$(q "SELECT DISTINCT relay_url FROM events_relays")" "$(printf '%s\n' "$RA" "$RB" "$RC")"
log=$(cat "$T/finder.2")
t_like "finder: B's and C's events read" "$log" 'ended=drained events=6 '
t_like "candidates: D, web, sink, gone, echo, quiet" "$log" 'candidates_new=6 known=2 '
t_like "junk dropped by reason: scheme" "$log" 'dropped_scheme=1 '
t_like "junk dropped by reason: loopback, private, 3000 reserved hosts" "$log" 'dropped_local=3003 '
t_like "junk dropped by reason: malformed" "$log" 'dropped_malformed=2 '
prom=$(cat "$T/brotr_finder.prom")
t_like "drops are in the metrics" "$prom" 'finder_urls_dropped_total\{service="finder",reason="local"\} 3003'
log=$(cat "$T/validator.2")
t_like "validator: D is a relay, the rest are not" "$log" \
	'tested=6 relays=1 not_relays=5 promoted=1 failed=5 dropped=0'
t_set "D promoted" "$(q "SELECT url || ' ' || network FROM relays WHERE url = '$RD'")" "$RD tor"
t_like "D reached over the tor network by name at the proxy" "$(cat "$T/socks.log")" "atyp=3 host=$ONION port=80"
reasons=$(q "SELECT url || ' ' || failures || ' ' || last_error FROM relay_candidates ORDER BY url")
t_like "the web server: not a websocket" "$reasons" "ws://web.$DOMAIN 1 http: "
t_like "the TCP sink: upgrade timed out" "$reasons" "ws://sink.$DOMAIN 1 timeout: "
t_like "the unreachable name: the proxy's refusal" "$reasons" "ws://gone.$DOMAIN 1 socks: "
t_like "the echo: not a relay" "$reasons" "ws://echo.$DOMAIN 1 echo: "
t_like "the silent websocket: no Nostr answer" "$reasons" "ws://quiet.$DOMAIN 1 silent: "
t_is "each candidate's source: kind 10002 r tag of C's event" \
	"$(q "SELECT DISTINCT source || ' ' || encode(source_event, 'hex') FROM relay_candidates")" \
	"r-tag $(sed -n 1p "$FX/c.jsonl" | sed 's/.*"id":"\([0-9a-f]*\)".*/\1/')"
t_is "back-off: none is due again before retry_base" \
	"$(q "SELECT count(*) FROM relay_candidates WHERE next_attempt < extract(epoch FROM now()) + 3500")" "0"

# ---- round 3: D archived; it names A again (known); the failed candidates are not due
round 3
t_like "finder: D's event names only a known relay" "$(cat "$T/finder.3")" \
	'ended=drained events=1 .*candidates_new=0 known=1 '
t_like "validator: nothing due" "$(cat "$T/validator.3")" 'tested=0 '
t_is "D archived" "$(q "SELECT count(*) FROM events_relays WHERE relay_url = '$RD'")" "1"
# time passes: every candidate is due again and fails a second time (max_failures 2): dropped
q "UPDATE relay_candidates SET next_attempt = 0" >/dev/null
t_status "validator after the back-off" 0 run -- validator
t_like "the five non-relays dropped, with the count" "$T_ERR" 'tested=5 relays=0 not_relays=5 promoted=0 failed=0 dropped=5'
t_is "no candidate left" "$(q "SELECT count(*) FROM relay_candidates")" "0"
t_like "dropped candidates in the metrics" "$(cat "$T/brotr_validator.prom")" 'validator_dropped_total\{service="validator"\} 5'

# ---- round 4 adds nothing
round 4
t_like "finder: nothing new" "$(cat "$T/finder.4")" 'events=0 urls=0 candidates_new=0 '
t_like "validator: nothing to test" "$(cat "$T/validator.4")" 'tested=0 '
t_set "exactly the real relays, never a non-relay" "$(q "SELECT url FROM relays")" \
	"$(printf '%s\n' "$RA" "$RB" "$RC" "$RD")"
t_is "every fixture event archived" "$(q "SELECT count(*) FROM events")" "$(cat "$FX"/*.jsonl | grep -c .)"

# ---- SIGTERM: the finder stops after a committed page and resumes at the next one
DB2=discovery_term_$$
run2() { svc_run "$T/impl" "$DB2" "${ENV[@]}" "$@"; }
t_status "db init (second database)" 0 run2 -- db init
db_q "$DB2" "SELECT inserted FROM insert_event_batch('wss://seed.com', 'clearnet', 1,
	ARRAY(SELECT encode(sha256(i::text::bytea), 'hex') FROM generate_series(1, 3000) i),
	ARRAY(SELECT repeat('ab', 32) FROM generate_series(1, 3000) i),
	ARRAY(SELECT i::bigint FROM generate_series(1, 3000) i), ARRAY(SELECT 1 FROM generate_series(1, 3000) i),
	ARRAY(SELECT jsonb_build_array(jsonb_build_array('e', repeat('0', 64), 'wss://h' || (i % 500) || '.com'))
	      FROM generate_series(1, 3000) i),
	ARRAY(SELECT '' FROM generate_series(1, 3000) i), ARRAY(SELECT repeat('00', 64) FROM generate_series(1, 3000) i),
	NULL, NULL, NULL, NULL, NULL)" >/dev/null
t_is "3000 events queued" "$(db_q "$DB2" "SELECT count(*) FROM finder_queue")" "3000"
# hold the candidates table so the finder's first commit waits; SIGTERM it there
coproc LOCK { psql_admin -d "$DB2" -At; }
locker=$LOCK_PID
echo "BEGIN; LOCK TABLE relay_candidates IN SHARE ROW EXCLUSIVE MODE; SELECT 'locked';" >&"${LOCK[1]}"
read -r line <&"${LOCK[0]}"
svc_start "$T/impl" "$DB2" "${ENV[@]}" BROTR_DATABASE_BATCH_SIZE=100 -- finder 2>"$T/finder.term" &
child=$!
while kill -0 "$child" 2>/dev/null && [ "$(db_q "$DB2" "SELECT count(*) FROM pg_stat_activity
	WHERE application_name = 'brotr-finder-writer' AND wait_event_type = 'Lock'")" != 1 ]; do sleep 0.05; done
kill -TERM "$child"
echo "COMMIT;" >&"${LOCK[1]}"
wait "$child"
t_is "interrupted: exit 1" "$?" "1"
child=""
eval "exec ${LOCK[1]}>&-"
# what was read before the signal (the page whose commit waited, and those read meanwhile) is committed
first=$(sed -n 's/.*finder pass summary" ended=stopped events=\([0-9]*\) .*/\1/p' "$T/finder.term")
t_like "it committed what it had read, then stopped" "${first:-none}" '^[1-9][0-9]*$'
t_is "the rest stays queued" "$(db_q "$DB2" "SELECT count(*) FROM finder_queue")" "$((3000 - ${first:-0}))"
t_status "the next pass resumes" 0 run2 BROTR_DATABASE_BATCH_SIZE=100 -- finder
t_like "it reads exactly the other events" "$T_ERR" "ended=drained events=$((3000 - ${first:-0})) "
t_is "every hinted relay is a candidate" "$(db_q "$DB2" "SELECT count(*) FROM relay_candidates")" "500"
t_is "the queue is empty" "$(db_q "$DB2" "SELECT count(*) FROM finder_queue")" "0"

# ---- lilbrotr keeps no tags or content: its finder reads r (kind 10002) and d (kind 30166) from tagvalues
mkdir -p "$T/lil/config" "$T/lil/data"
ln -sfn "$PWD/implementations/lilbrotr/config/postgres" "$T/lil/config/postgres"
printf '[brotr]\nsync_service = synchronizer\n' >"$T/lil/config/brotr.ini"
DB3=discovery_lil_$$
run3() { svc_run "$T/lil" "$DB3" "${ENV[@]}" "$@"; }
t_status "db init (lilbrotr)" 0 run3 -- db init
db_q "$DB3" "SELECT inserted FROM insert_event_batch('wss://seed.com', 'clearnet', 1,
	ARRAY[repeat('01', 32), repeat('02', 32), repeat('03', 32), repeat('04', 32)], ARRAY[repeat('ab', 32),
	repeat('ab', 32), repeat('ab', 32), repeat('ab', 32)], ARRAY[1, 2, 3, 4]::bigint[], ARRAY[10002, 30166, 1, 3],
	ARRAY['[[\"r\",\"wss://lil-r.com\"]]', '[[\"d\",\"wss://lil-d.com\"],[\"n\",\"clearnet\"]]',
	      '[[\"e\",\"00\",\"wss://lil-hint.com\"]]', '[]']::jsonb[],
	ARRAY['', '', '', '{\"wss://lil-contact.com\":{}}'], ARRAY[repeat('00', 64), repeat('00', 64),
	repeat('00', 64), repeat('00', 64)], NULL, NULL, NULL, NULL, NULL)" >/dev/null
t_is "lilbrotr queues only the kinds whose URLs it keeps" "$(db_q "$DB3" "SELECT count(*) FROM finder_queue")" "2"
t_status "lilbrotr finder" 0 run3 -- finder
t_set "it finds the r and d tag relays" "$(db_q "$DB3" "SELECT url || ' ' || source FROM relay_candidates")" \
	"$(printf '%s\n' "wss://lil-r.com r-tag" "wss://lil-d.com nip66")"

# ---- HTTP sources: fetched through the SOCKS server, committed with their cool-down, not fetched again before it
DB4=discovery_http_$$
run4() { svc_run "$T/impl" "$DB4" "${ENV[@]}" "$@"; }
SOURCES="http://lists.$DOMAIN/relays.json relays.*.url, http://web.$DOMAIN/ relays"
t_status "db init (sources)" 0 run4 -- db init
t_status "finder with two sources" 0 run4 BROTR_FINDER_SOURCES="$SOURCES" -- finder
t_set "the listed relays are candidates, with their source" \
	"$(db_q "$DB4" "SELECT url || ' ' || source || ' ' || source_url FROM relay_candidates")" \
	"$(printf '%s\n' "ws://$(name a) http http://lists.$DOMAIN/relays.json" "wss://listed.com http http://lists.$DOMAIN/relays.json")"
t_like "the junk entry dropped by reason" "$T_ERR" 'dropped_scheme=1 '
t_like "the HTML source is refused with its reason" \
	"$(db_q "$DB4" "SELECT url || ' ' || urls || ' ' || last_error FROM finder_sources ORDER BY url")" \
	"http://web.$DOMAIN/ 0 content type 'text/html; charset=utf-8' is not application/json"
fetched=$(grep -c "host=lists.$DOMAIN " "$T/socks.log")
t_status "a second finder pass" 0 run4 BROTR_FINDER_SOURCES="$SOURCES" -- finder
t_is "the sources are not fetched again before source_interval" "$(grep -c "host=lists.$DOMAIN " "$T/socks.log")" "$fetched"
t_status "a malformed source is a configuration error" 2 run4 BROTR_FINDER_SOURCES="ftp://lists.$DOMAIN/x" -- finder
t_like "naming the key and the entry" "$T_ERR" "\\[finder\\] sources: 'ftp://lists"

# ---- the [brotr] switches
t_status "[brotr] finder = false: the finder exits 2" 2 run BROTR_BROTR_FINDER=false -- finder
t_status "[brotr] validator = false: the validator exits 2" 2 run BROTR_BROTR_VALIDATOR=false -- validator

t_is "plan: every assertion ran" "$((RAN + 1))" "$PLAN"
t_done
