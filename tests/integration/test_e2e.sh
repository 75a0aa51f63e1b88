#!/usr/bin/env bash
# test_e2e.sh — the whole job as an operator runs it: db init, initializer, monitor (twice),
# synchronizer (interrupted, then again, then once more), against fixture relays that cap below the
# limit, burst at their cap, send garbage and invalid events, never answer, cannot be reached, one
# reached as an .onion through the SOCKS server, and the third-party relay from npm.
set -u
cd "$(dirname "$0")/../.."
source tests/harness/tap.sh
source tests/harness/servers.sh
source tests/integration/services_lib.sh

: "${BROTR:=$PWD/build/brotr}"
GEN=$BUILD/tools/event_gen
T=$(mktemp -d /tmp/brotr-e2e.XXXXXX)
chmod 755 "$T"
trap 'tools_stop; rm -rf "$T"' EXIT
DB=e2e_$$
impl_make "$T/impl"

q() { db_q "$DB" "$1"; }
archived() { archived_in "$DB" "$1"; }

# --- relays ------------------------------------------------------------------------------------
# shared events live on the capped relay and on the .onion relay: each gets both associations.
"$GEN" --prefix shared '50000..50500:40' >"$T/shared.jsonl"
"$GEN" --prefix capped '10000..20000:400' '15000*25' >"$T/capped_own.jsonl"
cat "$T/capped_own.jsonl" "$T/shared.jsonl" >"$T/capped.jsonl"
tool_start fixture_relay --events "$T/capped.jsonl" --max-limit 30
CAPPED=ws://127.0.0.1:$TOOL_PORT
"$GEN" --prefix burst '30000*60' '25000..29000:90' >"$T/burst.jsonl"
tool_start fixture_relay --events "$T/burst.jsonl" --max-limit 60 --count
BURST=ws://127.0.0.1:$TOOL_PORT
"$GEN" --prefix good '40000..41000:50' >"$T/good.jsonl"
"$GEN" --prefix bad '40000..41000:6' | sed -E 's/0"\}$/1"}/; t; s/[0-9a-f]"\}$/0"}/' >"$T/bad.jsonl"
cat "$T/good.jsonl" "$T/bad.jsonl" >"$T/garbage.jsonl"
tool_start fixture_relay --events "$T/garbage.jsonl" --mode garbage
GARBAGE=ws://127.0.0.1:$TOOL_PORT
"$GEN" --prefix onion '60000..61000:30' >"$T/onion_own.jsonl"
cat "$T/onion_own.jsonl" "$T/shared.jsonl" >"$T/onion.jsonl"
tool_start fixture_relay --events "$T/onion.jsonl"
onion_port=$TOOL_PORT
ONION=$(onion_v3)
tool_start fixture_relay --mode silent
SILENT=ws://127.0.0.1:$TOOL_PORT
UNREACHABLE=ws://127.0.0.1:$(free_port)
UNREACHABLE2=ws://127.0.0.1:$(free_port)
tool_start socks_logger --map "$ONION=127.0.0.1:$onion_port" --log "$T/socks.log"
SOCKS=127.0.0.1:$TOOL_PORT
FIX=tests/fixtures/thirdparty
THIRD=""
if thirdparty_relay_start "$FIX/events.jsonl"; then
	THIRD=ws://127.0.0.1:$TOOL_PORT
else
	t_fail "the third-party relay starts (npm ci on first use: see build/thirdparty/npm.log)"
fi

{
	echo "# fixture relays"
	for r in "$CAPPED" "$BURST" "$GARBAGE" "$SILENT" "$UNREACHABLE" "$UNREACHABLE2" $THIRD; do echo "$r"; done
	echo "ws://$ONION"
	echo "https://not-a-relay.example"
} >"$T/seeds.txt"

run() {
	svc_run "$T/impl" "$DB" BROTR_INITIALIZER_SEED_FILE="$T/seeds.txt" BROTR_NETWORK_ALLOW_LOCAL=true \
		BROTR_TOR_SOCKS_PROXY="$SOCKS" BROTR_MONITOR_WRITE_TEST=false BROTR_METRICS_DIR="$T" \
		BROTR_NETWORK_CLEARNET_RESPONSE_TIMEOUT=3s BROTR_NETWORK_TOR_RESPONSE_TIMEOUT=3s \
		BROTR_NETWORK_CLEARNET_CONNECT_TIMEOUT=3s BROTR_DATABASE_BATCH_SIZE=25 "$@"
}

# --- initializer, monitor -----------------------------------------------------------------------
t_status "db init" 0 run -- db init
t_status "initializer" 0 run -- initializer
t_like "registers the relays and rejects the bad line with its number" "$T_ERR" \
	"inserted=$((7 + ${THIRD:+1})) known=0 rejected=1"
t_status "monitor" 0 run -- monitor
readable() { q "SELECT relay_url FROM readable_relays ORDER BY 1"; }
want_readable=$(printf '%s\n' "$CAPPED" "$BURST" "$GARBAGE" "ws://$ONION" $THIRD | sort)
t_set "the monitor finds exactly the answering relays readable" "$(readable)" "$want_readable"
t_is "one snapshot per relay" "$(q "SELECT count(*) FROM relay_metadata")" "$((7 + ${THIRD:+1}))"
nip11=$(q "SELECT count(*) FROM nip11")
q "UPDATE relay_metadata SET generated_at = generated_at - 7200" >/dev/null
t_status "a second monitor pass, an interval later" 0 run -- monitor
t_is "two snapshots per relay now" "$(q "SELECT count(*) FROM relay_metadata")" "$((14 + ${THIRD:+2}))"
t_is "NIP-11 documents deduplicated across passes" "$(q "SELECT count(*) FROM nip11")" "$nip11"
t_is "a repeated outcome reuses its NIP-66 document across passes" \
	"$(q "SELECT count(DISTINCT nip66_id) FROM relay_metadata WHERE relay_url = '$UNREACHABLE'")" "1"
# the documents themselves, so that a difference says which field differs
t_is "two unreachable relays share one NIP-66 document" \
	"$(q "SELECT string_agg(DISTINCT n.extra::text, ' | ') FROM relay_metadata m JOIN nip66 n ON n.id = m.nip66_id
	      WHERE m.relay_url = '$UNREACHABLE2'")" \
	"$(q "SELECT string_agg(DISTINCT n.extra::text, ' | ') FROM relay_metadata m JOIN nip66 n ON n.id = m.nip66_id
	      WHERE m.relay_url = '$UNREACHABLE'")"

# --- synchronizer: interrupted, resumed, repeated --------------------------------------------------
svc_start "$T/impl" "$DB" BROTR_NETWORK_ALLOW_LOCAL=true BROTR_TOR_SOCKS_PROXY="$SOCKS" \
	BROTR_DATABASE_BATCH_SIZE=5 BROTR_SYNCHRONIZER_MAX_RELAYS=1 -- synchronizer 2>"$T/interrupted.log" &
pid=$!
for i in $(seq 1 300); do [ "$(q "SELECT count(*) FROM events")" -ge 60 ] && break; sleep 0.1; done
kill -TERM "$pid"
wait "$pid"
t_is "a synchronizer pass stopped by SIGTERM exits 1" "$?" "1"
t_like "after committing part of the archive" "$(q "SELECT count(*) BETWEEN 60 AND 699 FROM events")" "^t$"
t_status "the synchronizer again" 0 run -- synchronizer
log=$T_ERR
t_set "capped relay: every event" "$(archived "$CAPPED")" "$(ids_of "$T/capped.jsonl")"
t_set "burst at its cap: every event" "$(archived "$BURST")" "$(ids_of "$T/burst.jsonl")"
t_set "garbage relay: the valid events only" "$(archived "$GARBAGE")" "$(ids_of "$T/good.jsonl")"
t_set ".onion relay: every event" "$(archived "ws://$ONION")" "$(ids_of "$T/onion.jsonl")"
t_like "reached by name through the SOCKS server" "$(cat "$T/socks.log")" "atyp=3 host=$ONION port=80"
t_is "each shared event associated with both relays" \
	"$(q "SELECT count(*) FROM (SELECT event_id FROM events_relays GROUP BY event_id HAVING count(*) = 2) s")" "40"
t_is "nothing from the silent or unreachable relays" \
	"$(q "SELECT count(*) FROM events_relays WHERE relay_url IN ('$SILENT', '$UNREACHABLE', '$UNREACHABLE2')")" "0"
if [ -n "$THIRD" ]; then
	t_set "third-party relay: every event it serves up to now" "$(archived "$THIRD")" \
		"$(awk -F'\t' '$4 == "served"' "$FIX/events.tsv" | cut -f1)"
fi
expected=$( (ids_of "$T/capped.jsonl" "$T/burst.jsonl" "$T/good.jsonl" "$T/onion.jsonl"
	[ -n "$THIRD" ] && awk -F'\t' '$4 == "served"' "$FIX/events.tsv" | cut -f1) | sort -u)
t_set "the archive is exactly the valid events the relays serve" "$(q "SELECT encode(id, 'hex') FROM events")" "$expected"
t_is "no event with a bad signature stored" \
	"$(q "SELECT count(*) FROM events WHERE encode(id, 'hex') IN ($(ids_of "$T/bad.jsonl" | sed "s/.*/'&'/" | paste -sd,))")" "0"
total=$(q "SELECT count(*) FROM events_relays")
t_status "a second full pass" 0 run -- synchronizer
t_is "adds nothing" "$(q "SELECT count(*) FROM events_relays")" "$total"
t_like "and says so" "$T_ERR" "msg=\"pass summary\".* stored=0 "

t_done
