#!/usr/bin/env bash
# test_publisher.sh — NIP-66 publishing from `brotr monitor`: fixture relays checked (one NIP-77-capable with
# topics, one AUTH-only, one refusing writes, a silent one, a dead one), events published to the
# third-party npm relay, a logging fixture relay and a dead publish relay; every event read back and
# verified with nostr-tools (tests/thirdparty/nip66-check.mjs) and its tags checked against NIP-66;
# nothing republished while the facts stand; a relay that changes state gets a new event; the
# configuration errors; NIP-45 as the synchronizer saw it.
set -u
cd "$(dirname "$0")/../.."
: "${BUILD:=build}" "${BROTR:=$PWD/$BUILD/brotr}"
source tests/harness/servers.sh
source tests/harness/tap.sh
source tests/integration/services_lib.sh
[ -n "${TEST_PGPORT:-}" ] || { echo "not ok - run me through tests/run (make check): I need the harness's PostgreSQL"; exit 1; }
T=$(mktemp -d "$TEST_TMP/publisher.XXXXXX")
trap 'tools_stop; [ -z "${TEST_KEEP:-}" ] && rm -rf "$T"' EXIT
t_plan 39

# the monitor's identity: secret key 3, whose x-only public key is the x coordinate of 3G
KEY=0000000000000000000000000000000000000000000000000000000000000003
PUB=f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9

# ---- the relays checked
printf '{"id":"%064d","pubkey":"%064d","created_at":1700000001,"kind":1,"tags":[],"content":"x","sig":"%0128d"}\n' \
	1 2 0 >"$T/events.jsonl"
printf '{"name":"good","tags":["music","cats"],"supported_nips":[1,11,42,77]}' >"$T/good.json"
printf '{"name":"plain"}' >"$T/plain.json"
relay() { tool_start fixture_relay --events "$T/events.jsonl" "$@" || exit 1; }
relay --nip11 "$T/good.json" --nip77 msg
U_GOOD=ws://127.0.0.1:$TOOL_PORT
relay --nip11 "$T/plain.json" --mode auth-required
U_AUTH=ws://127.0.0.1:$TOOL_PORT
relay --nip11 "$T/plain.json" --reject-writes "blocked: no writes here"
U_REJECT=ws://127.0.0.1:$TOOL_PORT
relay --nip11 "$T/plain.json" --mode silent
P_SILENT=$TOOL_PORT SILENT_PID=${TOOL_PIDS##* }
U_SILENT=ws://127.0.0.1:$P_SILENT
U_DEAD=ws://127.0.0.1:$(free_port)

# ---- the publish relays
thirdparty_relay_start "" || { t_fail "the third-party relay starts"; exit 1; }
P1=ws://127.0.0.1:$TOOL_PORT
relay --log "$T/publish.log"
P2=ws://127.0.0.1:$TOOL_PORT
P3=ws://127.0.0.1:$(free_port)

impl_make "$T/impl" "[network]
allow_local = true
clearnet_connect_timeout = 5s
clearnet_upgrade_timeout = 2s
clearnet_response_timeout = 2s
[tor]
socks_proxy ="
mkdir -p "$T/impl/config/services"
printf '[monitor]\nwrite_kind = 20166\n' >"$T/impl/config/services/monitor.ini"
printf '[publisher]\nenabled = true\nrelays = %s, %s, %s\nrelay_list = true\nprofile = %s\n' "$P1" "$P2" "$P3" \
	'{"name":"brotr test monitor","about":"fixture"}' >"$T/impl/config/services/publisher.ini"
printf '%s\n' "$U_GOOD" "$U_AUTH" "$U_REJECT" "$U_SILENT" "$U_DEAD" >"$T/impl/data/seed_relays.txt"
DB=pub_$$
q() { db_q "$DB" "$1"; }
mon() { svc_run "$T/impl" "$DB" BROTR_MONITOR_PRIVATE_KEY=$KEY BROTR_AUTH_PRIVATE_KEY=$KEY "$@" -- monitor; }
check() { thirdparty_install && node "$THIRDPARTY_DIR/nip66-check.mjs" "$P1" "$PUB" 2>"$T/check.err"; }
line_of() { printf '%s\n' "$CHECK" | grep "^30166 $1 "; }

t_status "db init" 0 svc_run "$T/impl" "$DB" db init
t_status "initializer" 0 svc_run "$T/impl" "$DB" initializer

# ---- configuration errors
t_status "publishing without [monitor] private_key: exit 2" 2 svc_run "$T/impl" "$DB" monitor
t_like "naming the key" "$T_ERR" "\[publisher\] enabled needs \[monitor\] private_key"
t_status "a bad publish relay URL: exit 2" 2 mon BROTR_PUBLISHER_RELAYS="$P1, http://x.example"
t_like "naming it" "$T_ERR" "\[publisher\] relays: 'http://x.example': "
t_status "a profile that is not a JSON object: exit 2" 2 mon BROTR_PUBLISHER_PROFILE='["no"]'
t_is "and nothing checked" "$(q 'SELECT count(*) FROM relay_metadata')" 0

# ---- the first pass publishes every relay that opened, and the monitor's own events
t_status "a monitor pass with publishing" 0 mon
t_like "the publisher's summary" "$T_ERR" \
	"msg=\"publisher summary\" queued=7 unchanged=0 published=7 accepted=7 refused=0 unanswered=0 recorded=7 failed=0"
t_like "the dead publish relay is named" "$T_ERR" "publish relay did not answer every event\" relay=$P3 answered=0 events=7"
CHECK=$(check)
t_is "nostr-tools verifies all 7 events read back, none breaks NIP-66" "$(printf '%s\n' "$CHECK" | tail -n 1)" \
	"events=7 invalid=0"
t_like "30166 of the NIP-77 relay: NIP-11 and NIP-77 observed, no AUTH asked, writes taken, its topics" \
	"$(line_of "$U_GOOD")" \
	"n=clearnet N=11,77 R=!auth,!payment,!writes t=music,cats k=20166 rtt=open,read,write expires_in=10[0-9]{3} content=good$"
t_like "30166 of the AUTH-only relay: NIP-42 accepted, auth required" "$(line_of "$U_AUTH")" \
	"N=11,42 R=auth,!payment,!writes t= k=20166 rtt=open,read,write "
t_like "30166 of the relay refusing writes: writes restricted, no k" "$(line_of "$U_REJECT")" \
	"N=11 R=!auth,writes t= k= rtt=open,read "
t_like "30166 of the silent relay: only what was seen (it opened)" "$(line_of "$U_SILENT")" \
	"N=11 R= t= k= rtt=open expires_in=.* content=plain$"
t_is "the dead relay gets none" "$(line_of "$U_DEAD" | wc -l)" 0
t_like "10166 matches the configuration" "$(printf '%s\n' "$CHECK" | grep '^10166 ')" \
	"^10166 frequency=3600 timeout=open:17000,read:2000,write:2000,nip11:19000 c=open,read,write,nip11,auth,ssl,nip77 n=clearnet$"
t_is "kind 0 is the profile" "$(printf '%s\n' "$CHECK" | grep '^0 ')" '0 {"name":"brotr test monitor","about":"fixture"}'
t_is "kind 10002 names the publish relays" "$(printf '%s\n' "$CHECK" | grep '^10002 ')" "10002 r=$P1,$P2,$P3"
t_is "the second publish relay got every event" "$(grep -c '^EVENT ' "$T/publish.log")" 7
t_is "one row per event kept current" "$(q 'SELECT count(*) FROM monitor_publications')" 7
t_is "rows name the events the relays hold" \
	"$(q "SELECT count(*) FROM monitor_publications WHERE key = '$U_GOOD' AND kind = 30166
		AND expires_at - published_at BETWEEN 10790 AND 10810")" 1

# ---- a second pass: the same facts are not published again
q "UPDATE relay_metadata SET generated_at = generated_at - 7200" >/dev/null
t_status "a second pass" 0 mon BROTR_METRICS_DIR="$T/metrics"
t_like "checks every relay again" "$T_ERR" "checked=5 "
t_like "publishes nothing: every fact stands" "$T_ERR" "queued=7 unchanged=7 published=0 "
t_is "the publish relay received nothing more" "$(grep -c '^EVENT ' "$T/publish.log")" 7

# ---- a relay that changes state: the silent relay now answers (same URL) and takes writes
kill "$SILENT_PID"
for _ in $(seq 1 50); do kill -0 "$SILENT_PID" 2>/dev/null || break; sleep 0.1; done
relay --port "$P_SILENT" --nip11 "$T/good.json"
# and the synchronizer saw the rejecting relay answer a COUNT (test_sync.sh shows it recording that)
q "SELECT set_relay_nip45('$U_REJECT', true, 1)" >/dev/null
q "UPDATE relay_metadata SET generated_at = generated_at - 7200" >/dev/null
t_status "a third pass" 0 mon
t_like "publishes only the relays that changed" "$T_ERR" "queued=7 unchanged=5 published=2 accepted=2 "
CHECK=$(check)
t_like "NIP-45 as the synchronizer saw it" "$(line_of "$U_REJECT")" "N=11,45 R=!auth,writes "
t_like "its event is replaced: readable, writable, the new document" "$(line_of "$U_SILENT")" \
	"N=11 R=!auth,!payment,!writes t=music,cats k=20166 rtt=open,read,write .*content=good$"
t_is "one 30166 per relay on the relay (addressable: replaced)" "$(printf '%s\n' "$CHECK" | grep -c '^30166 ')" 4
t_is "still verified" "$(printf '%s\n' "$CHECK" | tail -n 1)" "events=7 invalid=0"

# ---- expiration near: the events go out again
q "UPDATE monitor_publications SET expires_at = extract(epoch FROM now())::bigint + 60 WHERE kind = 30166" >/dev/null
q "UPDATE relay_metadata SET generated_at = generated_at - 7200" >/dev/null
t_status "a pass when the events are about to expire" 0 mon
t_like "the relays that opened are published again; the announcements stand" "$T_ERR" \
	"queued=7 unchanged=3 published=4 accepted=4 "
t_is "and recorded with a new expiration" \
	"$(q "SELECT count(*) FROM monitor_publications WHERE kind = 30166 AND expires_at > extract(epoch FROM now()) + 3600")" 4

# ---- more relays than a round: rounds follow each other, checks wait while one is behind
q "SELECT count(*) FROM (SELECT insert_relay('$U_GOOD/r' || i, 'clearnet', 1) FROM generate_series(1, 600) i) x" \
	>/dev/null
q "UPDATE relay_metadata SET generated_at = generated_at - 7200" >/dev/null
t_status "a pass over 605 relays" 0 mon
t_like "publishes the 600 new ones in rounds; the rest stands" "$T_ERR" \
	"queued=607 unchanged=7 published=600 accepted=600 refused=0 unanswered=0 recorded=600 failed=0"
t_is "all read back and verified" "$(check | tail -n 1)" "events=607 invalid=0"

t_done
