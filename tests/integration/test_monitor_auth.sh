#!/usr/bin/env bash
# test_monitor_auth.sh — NIP-42 and NIP-77 as the monitor observes them, and NIP-42 in the synchronizer:
# fixture relays that require AUTH (one checking everything, one expecting another relay tag, one whose
# challenges expire at once), the third-party npm relay with NIP-42 on, and relays that answer NEG-OPEN
# with NEG-MSG, NEG-ERR, CLOSED, a NOTICE or nothing; monitor passes without a key, with one, and with
# [auth] enabled = false; a synchronizer pass over an auth-only relay without a key and with one.
set -u
cd "$(dirname "$0")/../.."
: "${BUILD:=build}" "${BROTR:=$PWD/$BUILD/brotr}"
source tests/harness/servers.sh
source tests/harness/tap.sh
source tests/integration/services_lib.sh
[ -n "${TEST_PGPORT:-}" ] || { echo "not ok - run me through tests/run (make check): I need the harness's PostgreSQL"; exit 1; }
T=$(mktemp -d "$TEST_TMP/monitor_auth.XXXXXX")
trap 'tools_stop; [ -z "${TEST_KEEP:-}" ] && rm -rf "$T"' EXIT
t_plan 56

# the test identity: secret key 3, whose x-only public key is the x coordinate of 3G
KEY=0000000000000000000000000000000000000000000000000000000000000003
PUB=f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9
GEN=$BUILD/tools/event_gen

# ---- relays
printf '{"id":"%064d","pubkey":"%064d","created_at":1700000001,"kind":1,"tags":[],"content":"x","sig":"%0128d"}\n' \
	1 2 0 >"$T/events.jsonl"
printf '{"name":"nip77","supported_nips":[1,11,42,77]}' >"$T/nip77.json"
relay() { tool_start fixture_relay --events "$T/events.jsonl" --nip11 "$T/nip77.json" "$@" || exit 1; }
relay --mode auth-required --auth-writes --nip77 msg --log "$T/ok.log"
U_OK=ws://127.0.0.1:$TOOL_PORT
relay --mode auth-required --auth-relay wss://elsewhere.example
U_WRONG=ws://127.0.0.1:$TOOL_PORT
relay --mode auth-required --challenge-ttl 0
U_EXPIRED=ws://127.0.0.1:$TOOL_PORT
relay --nip77 err
U_NEGERR=ws://127.0.0.1:$TOOL_PORT
relay
U_NOTICE=ws://127.0.0.1:$TOOL_PORT
relay --nip77 silent --log "$T/silent.log"
U_SILENT=ws://127.0.0.1:$TOOL_PORT
relay --nip77 closed
U_CLOSED=ws://127.0.0.1:$TOOL_PORT
relay --mode auth-required --auth-neg-only --nip77 msg
U_NEGAUTH=ws://127.0.0.1:$TOOL_PORT
if thirdparty_relay_start "" --auth 127.0.0.1; then U_TP=ws://127.0.0.1:$TOOL_PORT; else U_TP=ws://127.0.0.1:$(free_port); fi

impl_make "$T/impl" "[network]
allow_local = true
clearnet_connect_timeout = 5s
clearnet_upgrade_timeout = 2s
clearnet_response_timeout = 2s
[tor]
socks_proxy ="
mkdir -p "$T/impl/config/services"
printf '%s\n' "$U_OK" "$U_WRONG" "$U_EXPIRED" "$U_NEGERR" "$U_NOTICE" "$U_SILENT" "$U_CLOSED" "$U_NEGAUTH" "$U_TP" \
	>"$T/impl/data/seed_relays.txt"
DB=monauth_$$
q() { db_q "$DB" "$1"; }
latest() { q "SELECT $2 FROM relay_metadata_latest WHERE relay_url = '$1'"; }
extra() { latest "$1" "coalesce(nip66_extra ->> '$2', '')"; }
rw() { latest "$1" "concat_ws(',', coalesce(readable::text, 'null'), coalesce(writable::text, 'null'))"; }
fresh() { q "DELETE FROM relay_metadata" >/dev/null; }

t_status "db init" 0 svc_run "$T/impl" "$DB" db init
t_status "initializer" 0 svc_run "$T/impl" "$DB" initializer

# ---- configuration
t_status "a malformed [auth] private_key exits 2" 2 svc_run "$T/impl" "$DB" BROTR_AUTH_PRIVATE_KEY=nsec1notakey -- monitor
t_like "naming the variable, not the value" "$T_ERR" "BROTR_AUTH_PRIVATE_KEY"
t_unlike "the value is not echoed" "$T_ERR" "nsec1notakey"
printf '[auth]\nprivate_key = %s\n' "$KEY" >>"$T/impl/config/brotr.ini"
t_status "[auth] private_key in a configuration file is refused" 2 svc_run "$T/impl" "$DB" monitor
t_like "as a secret" "$T_ERR" "secret"
sed -i '/^\[auth\]$/,$d' "$T/impl/config/brotr.ini"

# ---- a pass without a key
t_status "monitor pass without a key" 0 svc_run "$T/impl" "$DB" monitor
t_is "auth relay: AUTH asked, no key" "$(extra "$U_OK" auth),$(extra "$U_OK" auth_required)" "no-key,true"
t_is "auth relay: the reason" "$(extra "$U_OK" auth_reason)" "no [auth] private_key, so the challenge was not answered"
t_is "auth relay: neither readable nor writable" "$(rw "$U_OK")" "false,false"
t_is "auth relay: the read refusal kept" "$(extra "$U_OK" read_error)" "auth-required"
t_is "auth relay: NIP-77 refused with auth-required" "$(extra "$U_OK" nip77),$(extra "$U_OK" nip77_error)" "false,closed"
t_is "auth relay: it never saw an AUTH" "$(grep -c '^AUTH' "$T/ok.log")" 0
t_is "NEG-ERR: not supported" "$(extra "$U_NEGERR" nip77),$(extra "$U_NEGERR" nip77_error)" "false,neg-err"
t_is "NEG-ERR: the reason" "$(extra "$U_NEGERR" nip77_reason)" "NEG-ERR: blocked: negentropy is disabled here"
t_is "NEG-ERR relay: AUTH not asked" "$(extra "$U_NEGERR" auth),$(extra "$U_NEGERR" auth_required)" "not-asked,"
t_is "NEG-ERR relay: readable and writable" "$(rw "$U_NEGERR")" "true,true"
t_is "NOTICE: not supported, the notice kept" "$(extra "$U_NOTICE" nip77_error) $(extra "$U_NOTICE" nip77_reason)" \
	"notice NOTICE: error: unknown message type"
t_is "silence: not supported" "$(extra "$U_SILENT" nip77),$(extra "$U_SILENT" nip77_error)" "false,timeout"
t_is "silence: the reason" "$(extra "$U_SILENT" nip77_reason)" \
	"no NEG-MSG, NEG-ERR, CLOSED or NOTICE within 2s of the NEG-OPEN"
t_is "silence: NEG-OPEN with a fresh id, then NEG-CLOSE" "$(grep '^NEG-' "$T/silent.log" | tr '\n' ' ')" \
	"NEG-OPEN brotr-nip77 NEG-CLOSE brotr-nip77 "
t_is "CLOSED: not supported" "$(extra "$U_CLOSED" nip77_error) $(extra "$U_CLOSED" nip77_reason)" \
	"closed CLOSED: error: unsupported"
t_is "NEG-OPEN needs AUTH: readable, NIP-77 refused, required, no key" \
	"$(rw "$U_NEGAUTH"),$(extra "$U_NEGAUTH" nip77_reason),$(extra "$U_NEGAUTH" auth),$(extra "$U_NEGAUTH" auth_required)" \
	"true,true,CLOSED: auth-required: this relay requires authentication,no-key,true"
t_is "NIP-11 claims 77 on all of them; the document says what was seen" \
	"$(q "SELECT count(*) FROM relay_metadata_latest WHERE supported_nips @> '[77]' AND (nip66_extra->>'nip77')::boolean")" 0
t_is "third-party relay: AUTH asked, required, no key (writes need none)" "$(extra "$U_TP" auth),$(extra "$U_TP" auth_required),$(rw "$U_TP")" \
	"no-key,true,false,true"

# ---- a pass with a key
fresh
mkdir -p "$T/metrics"
t_status "monitor pass with a key" 0 svc_run "$T/impl" "$DB" BROTR_AUTH_PRIVATE_KEY=$KEY BROTR_METRICS_DIR="$T/metrics" -- monitor
t_is "auth relay: accepted, required" "$(extra "$U_OK" auth),$(extra "$U_OK" auth_required)" "accepted,true"
t_is "auth relay: readable and writable once authenticated" "$(rw "$U_OK")" "true,true"
t_is "auth relay: no failure kept" "$(extra "$U_OK" read_error)$(extra "$U_OK" write_error)$(extra "$U_OK" auth_reason)" ""
t_is "auth relay: the relay checked our AUTH and took it" "$(grep '^AUTH' "$T/ok.log" | sort -u)" "AUTH ok $PUB"
t_is "auth relay: NIP-77 supported" "$(extra "$U_OK" nip77),$(extra "$U_OK" nip77_error)" "true,"
t_like "auth relay: NEG-OPEN then NEG-CLOSE" "$(grep '^NEG-' "$T/ok.log" | tr '\n' ' ')" \
	"NEG-OPEN brotr-nip77 NEG-OPEN brotr-nip77 NEG-CLOSE brotr-nip77 $"
t_like "auth relay: the REQ was sent again after AUTH" "$(grep -c '^REQ brotr-monitor' "$T/ok.log")" "^[3-9]$"
t_is "wrong relay tag: refused" "$(extra "$U_WRONG" auth),$(extra "$U_WRONG" auth_reason)" \
	"refused,invalid: wrong relay tag"
t_is "wrong relay tag: not readable, why" "$(rw "$U_WRONG") $(extra "$U_WRONG" read_error)" "false,true auth-required"
t_is "wrong relay tag: the read reason" "$(extra "$U_WRONG" read_reason)" \
	"auth-required, then AUTH refused: invalid: wrong relay tag"
t_is "expired challenge: refused" "$(extra "$U_EXPIRED" auth),$(extra "$U_EXPIRED" auth_reason)" \
	"refused,invalid: challenge expired"
t_is "expired challenge: not readable" "$(rw "$U_EXPIRED")" "false,true"
t_is "NEG-OPEN needs AUTH: NEG-OPEN again after AUTH, supported" \
	"$(extra "$U_NEGAUTH" nip77),$(extra "$U_NEGAUTH" auth),$(extra "$U_NEGAUTH" auth_required)" "true,accepted,true"
t_is "a relay that never asks: not asked" "$(extra "$U_NEGERR" auth)" "not-asked"
t_is "third-party relay (@nostr-relay/core): accepted, readable" "$(extra "$U_TP" auth),$(rw "$U_TP")" "accepted,true,true"
t_like "metrics: NIP-42 states counted" "$(cat "$T/metrics/brotr_monitor.prom" 2>/dev/null)" \
	'brotr_monitor_auth_total\{service="monitor",state="refused",required="yes"\} 2'
t_like "metrics: NIP-77 probes counted" "$(cat "$T/metrics/brotr_monitor.prom" 2>/dev/null)" \
	'brotr_monitor_nip77_total\{service="monitor",network="clearnet",result="yes"\} 2'
t_is "NIP-77 support is readable in SQL" \
	"$(q "SELECT string_agg(relay_url, ' ' ORDER BY relay_url) FROM relay_metadata_latest WHERE (nip66_extra->>'nip77')::boolean")" \
	"$(printf '%s\n' "$U_OK" "$U_NEGAUTH" | sort | tr '\n' ' ' | sed 's/ $//')"

# ---- a key, but [auth] enabled = false
fresh
t_status "monitor pass with a key and [auth] enabled = false" 0 svc_run "$T/impl" "$DB" BROTR_AUTH_PRIVATE_KEY=$KEY \
	BROTR_AUTH_ENABLED=false -- monitor
t_is "auth relay: not answered" "$(extra "$U_OK" auth),$(rw "$U_OK")" "no-key,false,false"
t_is "auth relay: the reason says why" "$(extra "$U_OK" auth_reason)" \
	"[auth] enabled is false, so the challenge was not answered"

# ---- the synchronizer over an auth-only relay
"$GEN" --prefix authonly '1000..2000:120' >"$T/sync.jsonl"
tool_start fixture_relay --events "$T/sync.jsonl" --mode auth-required --max-limit 50 --log "$T/sync.log" || exit 1
U_SYNC=ws://127.0.0.1:$TOOL_PORT
SDB=syncauth_$$
sq() { db_q "$SDB" "$1"; }
sync_run() { svc_run "$PWD/implementations/bigbrotr" "$SDB" BROTR_NETWORK_ALLOW_LOCAL=true BROTR_TOR_SOCKS_PROXY= \
	BROTR_NETWORK_CLEARNET_RESPONSE_TIMEOUT=2s "$@"; }
t_status "sync db init" 0 sync_run -- db init
mark_readable "$SDB" "$U_SYNC" clearnet
sync_run -- synchronizer >/dev/null 2>"$T/nokey.err"
t_like "without a key: the relay is reported not finished" "$(cat "$T/nokey.err")" \
	"relay not finished.*relay=$U_SYNC outcome=failed reason=\"the relay closed the subscription: auth-required: this relay requires authentication \(no \[auth\] private_key"
t_is "without a key: nothing archived" "$(archived_in "$SDB" "$U_SYNC" | wc -l)" 0
t_status "synchronizer pass with a key" 0 sync_run BROTR_AUTH_PRIVATE_KEY=$KEY -- synchronizer
t_like "with a key: the relay is synchronized" "$T_ERR" "relay synchronized.*relay=$U_SYNC"
t_is "with a key: every event archived" "$(archived_in "$SDB" "$U_SYNC" | md5sum)" "$(ids_of "$T/sync.jsonl" | md5sum)"
t_is "with a key: 120 events" "$(archived_in "$SDB" "$U_SYNC" | wc -l)" 120
t_like "the relay took our AUTH" "$(grep '^AUTH' "$T/sync.log" | sort -u | tr '\n' ' ')" "^AUTH ok $PUB $"
t_done
