#!/usr/bin/env bash
# test_thirdparty_relay.sh — brotr against a third-party relay from npm (@nostr-relay/core, tests/thirdparty) serving events signed by nostr-tools.
set -u
cd "$(dirname "$0")/../.."
: "${BUILD:=build}" "${BROTR:=$PWD/$BUILD/brotr}"
source tests/harness/servers.sh
source tests/harness/tap.sh
own_tmp=${TEST_TMP:+no}
harness_tmp
T=$(mktemp -d "$TEST_TMP/thirdparty.XXXXXX")
cleanup() {
	tools_stop
	[ -z "${TEST_KEEP:-}" ] && rm -rf "$T"
	[ -z "$own_tmp" ] && [ -z "${TEST_KEEP:-}" ] && rm -rf "$TEST_TMP"
	return 0
}
trap cleanup EXIT

FIX=tests/fixtures/thirdparty
: >"$T/brotr.ini"
check() {
	t_status "$1" "$2" env BROTR_CONFIG="$T/brotr.ini" BROTR_NETWORK_ALLOW_LOCAL=true \
		BROTR_TOR_SOCKS_PROXY=127.0.0.1:$TEST_SOCKS_PORT "${@:3}"
}
# The ids a relay should serve, from events.tsv (fates: see tests/thirdparty/generate-events.mjs).
awk -F'\t' '$4 == "served" || $4 == "future"' "$FIX/events.tsv" | cut -f1 | sort >"$T/served.ids"
expired=$(awk -F'\t' '$4 == "expired"' "$FIX/events.tsv" | cut -f1)
ids() { sed -n 's/^{"id":"\([0-9a-f]\{64\}\)".*/\1/p' "$1" | sort; }

t_is "the fixtures: every line is a distinct event that brotr verifies" \
	"$("$BROTR" event verify "$FIX/events.jsonl" | awk '$1 == "valid" { print $2 }' | sort -u | wc -l)" \
	"$(wc -l <"$FIX/events.jsonl")"

if ! thirdparty_relay_start "$FIX/events.jsonl"; then
	t_fail "the third-party relay starts (npm ci on first use: see build/thirdparty/npm.log)"
	t_done
	exit 1
fi
P=$TOOL_PORT
t_is "it stored every event of the file but the expired one" "$THIRDPARTY_LOADED/$THIRDPARTY_REJECTED" \
	"$(($(wc -l <"$FIX/events.jsonl") - 1))/1"

check "brotr relay check through microsocks: it opens and answers a REQ" 0 "$BROTR" relay check "ws://127.0.0.1:$P"
t_like "with its NIP-11 name" "$T_OUT" \
	"^ws://127\.0\.0\.1:$P network=clearnet open_ms=[0-9]+ read_ms=[0-9]+ nip11_ms=[0-9]+ name=\"nostr-relay \(brotr tests\)\"$"
t_status "the check does go through the configured proxy (a dead one fails it)" 1 env BROTR_CONFIG="$T/brotr.ini" \
	BROTR_NETWORK_ALLOW_LOCAL=true BROTR_TOR_SOCKS_PROXY=127.0.0.1:1 "$BROTR" relay check "ws://127.0.0.1:$P"
t_like "with the proxy's reason" "$T_OUT" "error=proxy reason=\"SOCKS proxy 127\.0\.0\.1:1 unreachable"

# What it serves: exactly the stored events, each one still verifying (the relay re-serialises them).
thirdparty_client req "ws://127.0.0.1:$P" '{"limit":1000}' >"$T/all.jsonl" 2>"$T/all.err"
t_is "a REQ ends with EOSE" "$?" 0
t_is "it serves exactly the events a relay keeps (replaced, ephemeral, deletion and expired ones left out)" \
	"$(ids "$T/all.jsonl" | diff - "$T/served.ids" && echo same)" same
t_is "every served event verifies in brotr" \
	"$("$BROTR" event verify "$T/all.jsonl" | awk '$1 == "valid"' | wc -l)" "$(wc -l <"$T/served.ids")"
t_is "the expired event is not among them" "$(grep -c "$expired" "$T/all.jsonl")" 0

# Its limits: newest first, and a silent cap at 10 x --default-limit whatever the REQ asks.
tool_pids_before=$TOOL_PIDS
thirdparty_relay_start "$FIX/events.jsonl" --default-limit 2 || t_fail "a second relay with --default-limit 2 starts"
thirdparty_client req "ws://127.0.0.1:$TOOL_PORT" '{"limit":50}' >"$T/capped.jsonl" 2>/dev/null
t_is "a REQ for 50 gets 20 events, without a word" "$(wc -l <"$T/capped.jsonl")" 20
ts() { sed -n 's/.*"created_at":\([0-9]*\).*/\1/p' "$1" | sort -n; }
ids "$T/capped.jsonl" | comm -13 - "$T/served.ids" >"$T/left.ids"
sed 's/^/{"id":"/' "$T/left.ids" | grep -F -f - "$T/all.jsonl" >"$T/left.jsonl"
oldest_sent=$(ts "$T/capped.jsonl" | head -n 1)
newest_left=$(ts "$T/left.jsonl" | tail -n 1)
t_is "they are the newest: none of the $(wc -l <"$T/left.ids") left out is newer than one sent" \
	"$([ -n "$oldest_sent" ] && [ -n "$newest_left" ] && [ "$newest_left" -le "$oldest_sent" ] && echo yes)" yes
t_is "the harness records the second relay (tools_stop ends it)" "$([ "$TOOL_PIDS" != "$tool_pids_before" ] && echo yes)" yes

# Publishing: an empty relay gets the file over the websocket; the result is the same.
thirdparty_relay_start "" || t_fail "an empty relay starts"
E=$TOOL_PORT
t_is "an empty relay stored nothing" "$THIRDPARTY_LOADED/$THIRDPARTY_REJECTED" 0/0
thirdparty_client publish "ws://127.0.0.1:$E" "$FIX/events.jsonl" >"$T/publish.out" 2>"$T/publish.err"
t_is "publishing exits 1: one event was refused" "$?" 1
t_is "the expired one, with the relay's reason" "$(grep '^REFUSED' "$T/publish.out")" \
	"REFUSED $expired reject: event is expired"
t_like "and counts" "$(tail -n 1 "$T/publish.out")" "^published=$(wc -l <"$FIX/events.jsonl") accepted=$(($(wc -l <"$FIX/events.jsonl") - 1)) refused=1$"
thirdparty_client req "ws://127.0.0.1:$E" '{"limit":1000}' >"$T/published.jsonl" 2>/dev/null
t_is "the relay serves the same set as when loaded at start" "$(ids "$T/published.jsonl" | diff - "$T/served.ids" && echo same)" same

# Both implementations refuse an event whose content was changed after signing. (A fresh relay: one
# that holds the genuine event answers OK true, "duplicate", without looking further; and it caches
# its answer by id, so the genuine event would be refused after the tampered one.)
head -n 1 "$FIX/events.jsonl" | sed 's/"content":"note 0"/"content":"note 0!"/' >"$T/tampered.jsonl"
t_is "brotr calls the tampered event invalid" "$("$BROTR" event verify "$T/tampered.jsonl" | cut -f1)" invalid
thirdparty_relay_start "" --no-caches || t_fail "another empty relay starts, without the library's caches"
thirdparty_client publish "ws://127.0.0.1:$TOOL_PORT" "$T/tampered.jsonl" >"$T/tampered.out" 2>&1
t_like "so does the third-party relay" "$(grep '^REFUSED' "$T/tampered.out")" "^REFUSED [0-9a-f]{64} invalid: id is wrong$"
head -n 1 "$FIX/events.jsonl" >"$T/genuine.jsonl"
thirdparty_client publish "ws://127.0.0.1:$TOOL_PORT" "$T/genuine.jsonl" >"$T/genuine.out" 2>&1
t_like "with --no-caches it then takes the genuine event" "$(tail -n 1 "$T/genuine.out")" "^published=1 accepted=1 refused=0$"
thirdparty_client publish "ws://127.0.0.1:$E" "$T/tampered.jsonl" >"$T/tampered.out" 2>&1
t_like "(a relay that has the genuine event calls it a duplicate)" "$(tail -n 1 "$T/tampered.out")" "^published=1 accepted=1 refused=0$"

t_done
