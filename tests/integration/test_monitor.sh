#!/usr/bin/env bash
# test_monitor.sh — `brotr monitor` end to end: initializer → monitor against fixture relays (ws, wss self-signed,
# auth-required, silent, NIP-13 small and large, rejecting writes, a black hole, a closed port, an .onion
# mapped at a logging SOCKS server); snapshots and reasons per relay; NIP-11/NIP-66 rows shared across
# passes; a mined write test; SIGTERM during a pass; a malformed private key.
set -u
cd "$(dirname "$0")/../.."
: "${BUILD:=build}" "${BROTR:=$PWD/$BUILD/brotr}"
source tests/harness/servers.sh
source tests/harness/tap.sh
source tests/integration/services_lib.sh
[ -n "${TEST_PGPORT:-}" ] || { echo "not ok - run me through tests/run (make check): I need the harness's PostgreSQL"; exit 1; }
T=$(mktemp -d "$TEST_TMP/monitor.XXXXXX")
child=""
cleanup() {
	[ -n "$child" ] && kill -9 "$child" 2>/dev/null
	tools_stop
	[ -z "${TEST_KEEP:-}" ] && rm -rf "$T"
	return 0
}
trap cleanup EXIT

# ---- fixtures
printf '{"id":"%064d","pubkey":"%064d","created_at":1700000001,"kind":1,"tags":[],"content":"x","sig":"%0128d"}\n' \
	1 2 0 >"$T/events.jsonl"
printf '{"name":"fixture","software":"brotr-test","supported_nips":[1,11,13]}' >"$T/nip11.json"
printf '{"name":"pow small","limitation":{"min_pow_difficulty":8}}' >"$T/pow8.json"
printf '{"name":"pow large","limitation":{"min_pow_difficulty":30}}' >"$T/pow30.json"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" \
	-days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null

relay() { tool_start fixture_relay --events "$T/events.jsonl" "$@" || exit 1; }
relay --nip11 "$T/nip11.json" --tls-port 0 --cert "$T/cert.pem" --key "$T/key.pem" --log "$T/good.log" --nip77 msg
RG=$TOOL_PORT RGT=$TOOL_TLS_PORT
relay --nip11 "$T/nip11.json" --mode auth-required
RA=$TOOL_PORT
relay --nip11 "$T/nip11.json" --mode silent
RS=$TOOL_PORT
relay --nip11 "$T/pow8.json" --log "$T/pow8.log"
RP8=$TOOL_PORT
relay --nip11 "$T/pow30.json" --log "$T/pow30.log"
RP30=$TOOL_PORT
relay --nip11 "$T/nip11.json" --reject-writes "blocked: no writes here"
RR=$TOOL_PORT
tool_start tcp_blackhole || exit 1
HOLE=$TOOL_PORT
DEAD=$(free_port)
ONION=$(onion_v3)
tool_start socks_logger --log "$T/socks.log" --map "$ONION=127.0.0.1:$RG" || exit 1
S=$TOOL_PORT

U_GOOD=ws://127.0.0.1:$RG U_TLS=wss://127.0.0.1:$RGT U_AUTH=ws://127.0.0.1:$RA U_SILENT=ws://127.0.0.1:$RS
U_POW8=ws://127.0.0.1:$RP8 U_POW30=ws://127.0.0.1:$RP30 U_REJECT=ws://127.0.0.1:$RR U_HOLE=ws://127.0.0.1:$HOLE
U_DEAD=ws://127.0.0.1:$DEAD U_ONION=ws://$ONION
ALL=10

DB=mon_$$
impl_make "$T/impl" "[network]
allow_local = true
clearnet_connect_timeout = 5s
clearnet_upgrade_timeout = 2s
clearnet_response_timeout = 3s
clearnet_allow_insecure = true
[tor]
socks_proxy = 127.0.0.1:$S"
mkdir -p "$T/impl/config/services" "$T/metrics"
printf '[monitor]\nmax_pow = 16\nwrite_kind = 20166\n' >"$T/impl/config/services/monitor.ini"
printf '%s\n' "$U_GOOD" "$U_TLS" "$U_AUTH" "$U_SILENT" "$U_POW8" "$U_POW30" "$U_REJECT" "$U_HOLE" "$U_DEAD" \
	"$U_ONION" >"$T/impl/data/seed_relays.txt"
q() { psql_admin -d "$DB" -Atc "$1"; }
latest() { q "SELECT $2 FROM relay_metadata_latest WHERE relay_url = '$1'"; }
extra() { latest "$1" "coalesce(nip66_extra ->> '$2', '')"; }
# connection_ok, nip11_ok, openable, readable, writable (null: not tested), then whether each RTT is there
flags() { latest "$1" "concat_ws(',', connection_ok::text, nip11_ok::text, openable::text,
	coalesce(readable::text, 'null'), coalesce(writable::text, 'null'), (rtt_open IS NOT NULL)::text,
	(rtt_read IS NOT NULL)::text, (rtt_write IS NOT NULL)::text)"; }

t_status "db init" 0 svc_run "$T/impl" "$DB" db init
t_status "initializer" 0 svc_run "$T/impl" "$DB" initializer
t_like "registers every fixture relay" "$T_ERR" "relays=$ALL inserted=$ALL"

# ---- a malformed key is refused before anything starts
t_status "a malformed private key exits 2" 2 svc_run "$T/impl" "$DB" BROTR_MONITOR_PRIVATE_KEY=nsec1notakey -- monitor
t_like "naming the variable" "$T_ERR" "BROTR_MONITOR_PRIVATE_KEY"
t_unlike "without echoing the value" "$T_ERR" "nsec1notakey"
t_is "and checking nothing" "$(q 'SELECT count(*) FROM relay_metadata')" 0

t_status "a database that never answers: exit 1" 1 svc_run "$T/impl" "$DB" BROTR_DATABASE_PORT=1 \
	BROTR_DATABASE_CONNECT_WAIT=1s -- monitor
t_like "after retrying" "$T_ERR" "database unavailable, retrying"

# ---- the first pass
t_status "monitor pass" 0 svc_run "$T/impl" "$DB" BROTR_METRICS_DIR="$T/metrics" -- monitor
t_like "summary line" "$T_ERR" "msg=\"monitor pass summary\" checked=$ALL open=8 readable=6 writable=5 failed=2 skipped=0"
t_is "one snapshot per relay" "$(q 'SELECT count(*) FROM relay_metadata')" "$ALL"
t_is "all stamped with the pass start" "$(q 'SELECT count(DISTINCT generated_at) FROM relay_metadata')" 1

t_is "ws: open, read, write, all RTTs" "$(flags "$U_GOOD")" "true,true,true,true,true,true,true,true"
t_is "ws: no failure reasons; AUTH not asked, NIP-77 answered" "$(latest "$U_GOOD" "coalesce(nip66_extra::text, 'none')")" \
	'{"auth": "not-asked", "nip77": true}'
t_is "wss (self-signed, allow_insecure): the same" "$(flags "$U_TLS")" "true,true,true,true,true,true,true,true"
t_is "ws: NIP-11 stored" "$(latest "$U_GOOD" "name || ' ' || software || ' ' || supported_nips::text")" \
	"fixture brotr-test [1, 11, 13]"
t_is "auth-required: open, not readable, writable" "$(flags "$U_AUTH")" "true,true,true,false,true,true,false,true"
t_is "auth-required: the reason's prefix" "$(extra "$U_AUTH" read_error)" "auth-required"
t_is "auth-required: the relay's message" "$(extra "$U_AUTH" read_reason)" \
	"CLOSED: auth-required: this relay requires authentication"
t_is "auth-required: the AUTH challenge noted, unanswered (no key)" "$(extra "$U_AUTH" auth),$(extra "$U_AUTH" auth_required)" \
	"no-key,true"
t_is "silent: open, neither readable nor writable" "$(flags "$U_SILENT")" "true,true,true,false,false,true,false,false"
t_is "silent: read timed out" "$(extra "$U_SILENT" read_error) $(extra "$U_SILENT" read_reason)" \
	"timeout no EVENT, EOSE or CLOSED within 3s of the REQ"
t_is "silent: write timed out" "$(extra "$U_SILENT" write_error) $(extra "$U_SILENT" write_reason)" \
	"timeout no OK within 3s of the EVENT"
t_is "pow 8: writable with a mined event" "$(flags "$U_POW8")" "true,true,true,true,true,true,true,true"
t_is "pow 8: difficulty recorded" "$(extra "$U_POW8" pow)" "8"
id=$(sed -n 's/^EVENT \([0-9a-f]\{64\}\)$/\1/p' "$T/pow8.log" | head -n 1)
t_like "pow 8: the relay received an event" "$id" "^[0-9a-f]{64}$"
t_is "pow 8: its id has at least 8 leading zero bits" "$(( $(leading_zero_bits "$id") >= 8 ))" 1
t_is "pow 30 (above max_pow 16): write not tested" "$(flags "$U_POW30")" "true,true,true,true,null,true,true,false"
t_is "pow 30: the reason" "$(extra "$U_POW30" write_error) $(extra "$U_POW30" write_reason)" \
	"pow NIP-11 asks for NIP-13 difficulty 30, above [monitor] max_pow (16)"
t_is "pow 30: nothing was sent" "$(grep -c '^EVENT' "$T/pow30.log")" 0
t_is "rejecting relay: not writable" "$(flags "$U_REJECT")" "true,true,true,true,false,true,true,false"
t_is "rejecting relay: prefix and message" "$(extra "$U_REJECT" write_error) $(extra "$U_REJECT" write_reason)" \
	"blocked blocked: no writes here"
t_is "black hole: not openable, no NIP-11" "$(flags "$U_HOLE")" "false,false,false,null,null,false,false,false"
t_is "black hole: upgrade timeout" "$(extra "$U_HOLE" open_error)" "timeout"
t_is "black hole: NIP-11 timeout kept" "$(extra "$U_HOLE" nip11_error)" "timeout"
t_is "closed port: not openable" "$(flags "$U_DEAD")" "false,false,false,null,null,false,false,false"
t_is "closed port: the SOCKS reason" "$(extra "$U_DEAD" open_error) $(extra "$U_DEAD" open_reason)" \
	"socks SOCKS: connection refused (0x05)"
t_is ".onion: open, read, write" "$(flags "$U_ONION")" "true,true,true,true,true,true,true,true"
t_like ".onion: reached by name through SOCKS (ATYP 3), websocket and NIP-11" \
	"$(grep -c "^connect atyp=3 host=$ONION port=80 " "$T/socks.log")" "^2$"
t_is "relays on the tor network are stored as such" "$(latest "$U_ONION" network)" "tor"
t_is "NIP-11: one row per distinct document" "$(q 'SELECT count(*) FROM nip11')" 3
t_is "NIP-11: relays with the same document share it" \
	"$(q "SELECT count(DISTINCT nip11_id) FROM relay_metadata WHERE relay_url IN ('$U_GOOD','$U_AUTH','$U_SILENT','$U_REJECT','$U_ONION')")" 1
prom=$(cat "$T/metrics/brotr_monitor.prom" 2>/dev/null)
t_like "metrics: relays checked" "$prom" 'brotr_monitor_relays_checked_total\{service="monitor",network="clearnet"\} 9'
t_like "metrics: failures by category" "$prom" \
	'brotr_monitor_relays_failed_total\{service="monitor",network="clearnet",error="socks"\} 1'
t_like "metrics: shared NIP-11 documents" "$prom" \
	'brotr_monitor_documents_total\{service="monitor",doc="nip11",result="shared"\} 5'
t_like "metrics: RTTs" "$prom" 'brotr_monitor_rtt_samples_total\{service="monitor",step="write",network="clearnet"\} 4'

# ---- passes two and three: nothing due, then (snapshots aged two hours) every relay again
KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
t_status "an immediate second pass (with a configured key)" 0 svc_run "$T/impl" "$DB" BROTR_MONITOR_PRIVATE_KEY="$KEY" \
	-- monitor
t_like "finds nothing due" "$T_ERR" "checked=0 "
t_unlike "and never logs the key" "$T_ERR" "$KEY"
t_is "and stores nothing" "$(q 'SELECT count(*) FROM relay_metadata')" "$ALL"
nip66_before=$(q 'SELECT count(*) FROM nip66')
q "UPDATE relay_metadata SET generated_at = generated_at - 7200" >/dev/null
t_status "a pass once the interval has passed" 0 svc_run "$T/impl" "$DB" BROTR_METRICS_DIR="$T/metrics" -- monitor
t_like "checks every relay again" "$T_ERR" "checked=$ALL "
t_is "two snapshots per relay" "$(q 'SELECT count(*) FROM relay_metadata')" $((2 * ALL))
t_is "no new NIP-11 row: every document shared" "$(q 'SELECT count(*) FROM nip11')" 3
t_like "the summary says so" "$T_ERR" "nip11_new=0 nip11_shared=8"
t_is "closed port: both passes share one NIP-66 row" \
	"$(q "SELECT count(DISTINCT nip66_id) FROM relay_metadata WHERE relay_url = '$U_DEAD'")" 1
t_is "black hole: both passes share one NIP-66 row" \
	"$(q "SELECT count(DISTINCT nip66_id) FROM relay_metadata WHERE relay_url = '$U_HOLE'")" 1
t_is "measured RTTs make their own rows" \
	"$(q "SELECT count(DISTINCT nip66_id) FROM relay_metadata WHERE relay_url = '$U_GOOD'")" 2
nip66_after=$(q 'SELECT count(*) FROM nip66')
t_is "NIP-66 rows: failures shared, RTT-bearing ones new" "$((nip66_after - nip66_before <= ALL - 2))" 1

# ---- [monitor] max_relays and write_test
q "UPDATE relay_metadata SET generated_at = generated_at - 7200" >/dev/null
t_status "a pass limited to 3 relays, without write test" 0 svc_run "$T/impl" "$DB" BROTR_MONITOR_MAX_RELAYS=3 \
	BROTR_MONITOR_WRITE_TEST=false -- monitor
t_like "checks 3 relays" "$T_ERR" "checked=3 "
last="generated_at = (SELECT max(generated_at) FROM relay_metadata)"
t_is "3 snapshots" "$(q "SELECT count(*) FROM relay_metadata WHERE $last")" 3
t_is "the first 3 by URL" "$(q "SELECT string_agg(relay_url, ' ' ORDER BY relay_url) FROM relay_metadata WHERE $last")" \
	"$(q "SELECT string_agg(url, ' ' ORDER BY url) FROM (SELECT url FROM relays ORDER BY url LIMIT 3) r")"
t_is "none write-tested, none with a write reason" "$(q "SELECT count(*) FROM relay_metadata m JOIN nip66 n ON n.id = m.nip66_id
	WHERE m.$last AND n.writable IS NULL AND NOT coalesce(n.extra ? 'write_error', false)")" 3

# ---- SIGTERM during a pass: completed snapshots stay, the relay in flight is abandoned
q "UPDATE relay_metadata SET generated_at = generated_at - 7200" >/dev/null
before=$(q 'SELECT count(*) FROM relay_metadata')
silent_before=$(q "SELECT count(*) FROM relay_metadata WHERE relay_url = '$U_SILENT'")
svc_start "$T/impl" "$DB" BROTR_NETWORK_CLEARNET_RESPONSE_TIMEOUT=10m BROTR_DATABASE_BATCH_SIZE=1 -- monitor \
	>"$T/term.out" 2>"$T/term.err" &
child=$!
for _ in $(seq 1 1200); do
	[ "$(q 'SELECT count(*) FROM relay_metadata')" -ge $((before + ALL - 1)) ] && break
	sleep 0.1
done
t_is "every relay but the silent one is stored as the pass goes" "$(q 'SELECT count(*) FROM relay_metadata')" \
	$((before + ALL - 1))
kill -TERM "$child"
for _ in $(seq 1 600); do kill -0 "$child" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$child" 2>/dev/null; then
	t_fail "the monitor exits on SIGTERM" "still running a minute later"
else
	wait "$child"
	t_is "the monitor exits on SIGTERM, reporting an interrupted pass" "$?" 1
fi
child=""
t_like "the log says interrupted" "$(cat "$T/term.err")" "msg=\"pass ended\" result=interrupted"
t_is "the completed snapshots are kept" "$(q 'SELECT count(*) FROM relay_metadata')" $((before + ALL - 1))
t_is "the silent relay (in flight) has no snapshot from that pass" \
	"$(q "SELECT count(*) FROM relay_metadata WHERE relay_url = '$U_SILENT'")" "$silent_before"
t_like "the summary counts it abandoned" "$(cat "$T/term.err")" "abandoned=1 "

# ---- PostgreSQL restarted in the middle of a pass: the snapshot writer reconnects and finishes
# (a trigger makes each snapshot take a second, so the pass is under way when the server stops)
q "CREATE FUNCTION test_slow_snapshot() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN PERFORM pg_sleep(1);
	RETURN NEW; END \$\$;
   CREATE TRIGGER test_slow BEFORE INSERT ON relay_metadata FOR EACH ROW EXECUTE FUNCTION test_slow_snapshot()" >/dev/null
for via in direct pgbouncer; do
	port=$TEST_PGPORT
	[ "$via" = pgbouncer ] && port=$TEST_PGBOUNCER_PORT
	q "UPDATE relay_metadata SET generated_at = generated_at - 7200" >/dev/null
	before=$(q 'SELECT count(*) FROM relay_metadata')
	svc_start "$T/impl" "$DB" BROTR_DATABASE_BATCH_SIZE=1 BROTR_DATABASE_CONNECT_WAIT=60s BROTR_DATABASE_PORT="$port" \
		-- monitor >"$T/outage.out" 2>"$T/outage.err" &
	child=$!
	for _ in $(seq 1 1200); do [ "$(q 'SELECT count(*) FROM relay_metadata')" -ge $((before + 2)) ] && break; sleep 0.1; done
	pg_down
	sleep 2
	pg_up
	wait "$child"
	t_is "$via: a monitor pass with PostgreSQL restarted in its middle exits 0" "$?" 0
	child=""
	t_like "$via: its writer waited for the server" "$(cat "$T/outage.err")" "database unavailable, retrying"
	t_is "$via: every snapshot of the pass is stored, once" "$(q 'SELECT count(*) FROM relay_metadata')" $((before + ALL))
	t_like "$via: all checked" "$(cat "$T/outage.err")" "msg=\"monitor pass summary\" checked=$ALL "
	t_unlike "$via: none lost" "$(cat "$T/outage.err")" "lost=[1-9]"
done
q "DROP TRIGGER test_slow ON relay_metadata" >/dev/null

# ---- a NIP-11 document PostgreSQL cannot hold (a number beyond numeric) never costs the snapshot
printf '{"name":"huge","limitation":{"max_message_length":1e200000}}' >"$T/huge.json"
relay --nip11 "$T/huge.json"
U_HUGE=ws://127.0.0.1:$TOOL_PORT
q "SELECT inserted FROM insert_relay('$U_HUGE', 'clearnet', 1)" >/dev/null
t_status "a monitor pass over a relay whose NIP-11 document the database refuses" 0 svc_run "$T/impl" "$DB" -- monitor
t_like "checks it" "$T_ERR" "checked=1 "
t_is "its snapshot is stored, readable" "$(latest "$U_HUGE" "readable::text")" "true"
t_unlike "none lost" "$T_ERR" "lost=[1-9]"

t_done
