#!/usr/bin/env bash
# test_sync.sh — the synchronizer and priority synchronizer against fixture relays that cap below the
# requested limit, burst at their cap, crowd one second past it, send garbage and invalid events,
# never answer, or cannot be reached, one of them an .onion through the SOCKS server; interrupted
# by SIGTERM and resumed without a gap; a second pass adds nothing.
set -u
cd "$(dirname "$0")/../.."
source tests/harness/tap.sh
source tests/harness/servers.sh
source tests/integration/services_lib.sh

: "${BROTR:=$PWD/build/brotr}"
GEN=$BUILD/tools/event_gen
tmp=$(mktemp -d /tmp/brotr-sync.XXXXXX)
chmod 755 "$tmp"
trap 'tools_stop; rm -rf "$tmp"' EXIT
db=sync_$$
ONION=pfjms7mkhludgtqlpq4riqpfjj72fxgtxklt5e6daxislc3z7l5dsuyd.onion
SOCKS_PORT=$TEST_SOCKS_PORT # microsocks until the logging SOCKS server below starts

# brotr_run [VAR=VALUE...] -- ARGS: brotr with bigbrotr's configuration against this test's database,
# relay connections through SOCKS_PORT, local relays allowed, short timeouts.
SYNC_ENV=(BROTR_NETWORK_ALLOW_LOCAL=true BROTR_NETWORK_CLEARNET_RESPONSE_TIMEOUT=3s
	BROTR_NETWORK_TOR_RESPONSE_TIMEOUT=3s BROTR_NETWORK_CLEARNET_CONNECT_TIMEOUT=3s BROTR_METRICS_DIR="$tmp")
brotr_run() {
	svc_run "$PWD/implementations/bigbrotr" "$db" "${SYNC_ENV[@]}" BROTR_TOR_SOCKS_PROXY="127.0.0.1:$SOCKS_PORT" "$@"
}
brotr_start() {
	svc_start "$PWD/implementations/bigbrotr" "$db" "${SYNC_ENV[@]}" BROTR_TOR_SOCKS_PROXY="127.0.0.1:$SOCKS_PORT" "$@"
}
q() { db_q "$db" "$1"; }
archived() { archived_in "$db" "$1"; }
mark() { mark_readable "$db" "$1" "$2"; }

t_status "db init" 0 brotr_run -- db init

# --- the relays -------------------------------------------------------------------------------
# capped: 300 events over 3000 s and a burst of 20 in one second; it returns at most 37 per REQ.
"$GEN" --prefix capped '1000..4000:300' '2500*20' >"$tmp/capped.jsonl"
tool_start fixture_relay --events "$tmp/capped.jsonl" --max-limit 37 --log "$tmp/capped.log"
CAPPED=ws://127.0.0.1:$TOOL_PORT
# burst: 50 events in one second, exactly its cap of 50, and 100 older ones; it answers COUNT.
"$GEN" --prefix burst '9000*50' '5000..8000:100' >"$tmp/burst.jsonl"
tool_start fixture_relay --events "$tmp/burst.jsonl" --max-limit 50 --count
BURST=ws://127.0.0.1:$TOOL_PORT
# crowded: 45 events in one second, above its cap of 30, and 60 others around it; it answers COUNT.
"$GEN" --prefix crowded '7000*45' '6000..6900:30' '7100..8000:30' >"$tmp/crowded.jsonl"
tool_start fixture_relay --events "$tmp/crowded.jsonl" --max-limit 30 --count
CROWDED=ws://127.0.0.1:$TOOL_PORT
# uncounted: 40 events in one second, above its cap of 25, and it does not answer COUNT.
"$GEN" --prefix uncounted '8000*40' '7000..7900:20' >"$tmp/uncounted.jsonl"
tool_start fixture_relay --events "$tmp/uncounted.jsonl" --max-limit 25
UNCOUNTED=ws://127.0.0.1:$TOOL_PORT
# garbage: a malformed message before every event, and invalid events among good ones.
"$GEN" --prefix good '3000..3900:40' >"$tmp/good.jsonl"
"$GEN" --prefix bad '3000..3900:10' >"$tmp/bad_src.jsonl"
# tamper: a signature's last digit, a content, a created_at (the id no longer matches)
sed -n '1,4p' "$tmp/bad_src.jsonl" | sed -E 's/0"\}$/1"}/; t; s/[0-9a-f]"\}$/0"}/' >"$tmp/bad.jsonl"
sed -n '5,7p' "$tmp/bad_src.jsonl" | sed 's/"content":"bad/"content":"BAD/' >>"$tmp/bad.jsonl"
sed -n '8,10p' "$tmp/bad_src.jsonl" | sed 's/"created_at":3/"created_at":2/' >>"$tmp/bad.jsonl"
cat "$tmp/good.jsonl" "$tmp/bad.jsonl" >"$tmp/garbage.jsonl"
tool_start fixture_relay --events "$tmp/garbage.jsonl" --mode garbage
GARBAGE=ws://127.0.0.1:$TOOL_PORT
# the .onion relay: a fixture behind a checksum-valid v3 name that only the SOCKS server knows.
"$GEN" --prefix onion '1500..1600:25' >"$tmp/onion.jsonl"
tool_start fixture_relay --events "$tmp/onion.jsonl"
onion_port=$TOOL_PORT
# silent: accepts the websocket and never answers; unreachable: nothing listens.
tool_start fixture_relay --mode silent
SILENT=ws://127.0.0.1:$TOOL_PORT
UNREACHABLE=ws://127.0.0.1:$(free_port)
tool_start socks_logger --map "$ONION=127.0.0.1:$onion_port" --log "$tmp/socks.log"
SOCKS_PORT=$TOOL_PORT

for r in "$CAPPED" "$BURST" "$CROWDED" "$UNCOUNTED" "$GARBAGE" "$SILENT" "$UNREACHABLE"; do mark "$r" clearnet; done
mark "ws://$ONION" tor

# --- a full pass ------------------------------------------------------------------------------
t_status "synchronizer pass" 0 brotr_run BROTR_DATABASE_BATCH_SIZE=16 -- synchronizer
log=$T_ERR
t_set "capped relay (cap 37 < limit 500): every event archived" "$(archived "$CAPPED")" "$(ids_of "$tmp/capped.jsonl")"
t_set "burst at the cap: every event archived" "$(archived "$BURST")" "$(ids_of "$tmp/burst.jsonl")"
t_unlike "COUNT shows the burst second complete: nothing reported" "$log" "relay=$BURST created_at=9000"
crowded_got=$(archived "$CROWDED" | wc -l)
t_is "crowded second: everything but what the relay never returns" "$crowded_got" "90"
t_like "COUNT shows the crowded second truncated" "$log" \
	"holds more events than the relay returns.*relay=$CROWDED created_at=7000 returned=30 count=45"
others=$(sed -n '46,$p' "$tmp/crowded.jsonl" | ids_of /dev/stdin)
t_is "every event outside the crowded second archived" \
	"$(comm -23 <(printf '%s\n' "$others") <(archived "$CROWDED") | wc -l)" "0"
t_is "uncounted relay: everything but what it never returns" "$(archived "$UNCOUNTED" | wc -l)" "45"
t_like "its crowded second is reported as possibly truncated" "$log" \
	"relay does not count; it may hold more events\" relay=$UNCOUNTED created_at=8000 returned=25"
t_is "NIP-45 as seen: answered by the counting relays, never by the other (no row: unknown)" \
	"$(q "SELECT string_agg(relay_url || '=' || supported, ' ' ORDER BY relay_url) FROM relay_nip45")" \
	"$(printf '%s\n' "$BURST=true" "$CROWDED=true" | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')"
t_set "garbage relay: exactly the valid events" "$(archived "$GARBAGE")" "$(ids_of "$tmp/good.jsonl")"
t_is "nothing invalid stored" "$(q "SELECT count(*) FROM events WHERE content LIKE 'BAD%' OR content LIKE 'bad%'")" "0"
# Counts are of messages: a page's boundary second is read again by the next page, so an invalid
# event there is counted each time it arrives.
prom=$(cat "$tmp/brotr_synchronizer.prom")
t_like "invalid signatures counted (4 events)" "$prom" 'rejected_total\{service="synchronizer",reason="bad signature"\} ([4-9]|[1-9][0-9]+)$'
t_like "tampered contents and times counted as bad ids (6 events)" "$prom" \
	'rejected_total\{service="synchronizer",reason="bad id"\} ([6-9]|[1-9][0-9]+)$'
t_like "malformed messages counted" "$prom" 'reason="malformed message"\} [1-9]'
t_set ".onion relay archived through the SOCKS server" "$(archived "ws://$ONION")" "$(ids_of "$tmp/onion.jsonl")"
t_like "reached by name (ATYP 3), not resolved here" "$(cat "$tmp/socks.log")" "atyp=3 host=$ONION port=80"
t_like "silent relay: not finished, with a reason" "$log" "relay not finished.*relay=$SILENT outcome=failed reason=\"timeout"
t_like "unreachable relay: not finished, with a reason" "$log" "relay not finished.*relay=$UNREACHABLE outcome=failed"
t_like "a one-line summary" "$log" "msg=\"pass summary\" relays=8 complete=6 failed=2 .* at_cap=1 truncated=1 "
prom=$(cat "$tmp/brotr_synchronizer.prom")
t_like "truncated seconds counted" "$prom" 'brotr_sync_seconds_truncated_total\{service="synchronizer"\} 1$'
t_like "uncounted seconds at the cap counted" "$prom" 'brotr_sync_seconds_at_cap_total\{service="synchronizer"\} 1$'
t_is "progress recorded for a complete relay" \
	"$(q "SELECT synced_until > 4000 AND NOT EXISTS (SELECT FROM relay_sync_windows w WHERE w.relay_url = p.relay_url)
	      FROM relay_sync_progress p WHERE relay_url = '$CAPPED'")" "t"
t_is "no progress for the silent relay" "$(q "SELECT count(*) FROM relay_sync_progress WHERE relay_url = '$SILENT'")" "0"
t_is "relay_last_event_timestamp reflects it" \
	"$(q "SELECT last_event_created_at FROM relay_last_event_timestamp WHERE relay_url = '$CAPPED'")" "4000"
stored=$(q "SELECT count(*) FROM events")

# --- a second pass adds nothing ---------------------------------------------------------------
t_status "second synchronizer pass" 0 brotr_run -- synchronizer
t_is "it stores nothing new" "$(q "SELECT count(*) FROM events")" "$stored"
t_like "and says so" "$T_ERR" "msg=\"pass summary\".* stored=0 "

# --- interrupted by SIGTERM, then resumed: no gap ----------------------------------------------
"$GEN" --prefix long --authors 20 '100000..160000:3000' >"$tmp/long.jsonl"
tool_start fixture_relay --events "$tmp/long.jsonl" --max-limit 40 --log "$tmp/long.log"
LONG=ws://127.0.0.1:$TOOL_PORT
mark "$LONG" clearnet
brotr_start BROTR_DATABASE_BATCH_SIZE=10 -- synchronizer 2>"$tmp/interrupted.log" &
pid=$!
for i in $(seq 1 300); do [ "$(grep -c '^REQ' "$tmp/long.log" 2>/dev/null)" -ge 20 ] && break; sleep 0.1; done
kill -TERM "$pid"
wait "$pid"
t_is "a pass stopped by SIGTERM exits 1 (not completed)" "$?" "1"
partial=$(archived "$LONG" | wc -l)
t_like "it had archived part of the relay" "$partial" "^[1-9][0-9]*$"
t_unlike "but not all of it" "$partial" "^3000$"
t_like "its progress is several windows under way" "$(q "SELECT count(*) FROM relay_sync_windows WHERE relay_url = '$LONG'")" \
	"^([2-9]|1[0-6])$"
t_like "the stop was graceful" "$(cat "$tmp/interrupted.log")" "result=interrupted"
t_status "the next pass" 0 brotr_run -- synchronizer
t_set "ends with exactly the complete set" "$(archived "$LONG")" "$(ids_of "$tmp/long.jsonl")"
t_is "and the windows merged into synced_until" \
	"$(q "SELECT synced_until > 160000 AND NOT EXISTS (SELECT FROM relay_sync_windows w WHERE w.relay_url = p.relay_url)
	      FROM relay_sync_progress p WHERE relay_url = '$LONG'")" "t"

# --- the same events on two relays: verified once, associated twice ----------------------------
"$GEN" --prefix dup '70000..70100:20' >"$tmp/dup.jsonl"
tool_start fixture_relay --events "$tmp/dup.jsonl"
DUP1=ws://127.0.0.1:$TOOL_PORT
tool_start fixture_relay --events "$tmp/dup.jsonl"
DUP2=ws://127.0.0.1:$TOOL_PORT
mark "$DUP1" clearnet
mark "$DUP2" clearnet
counter() { sed -n "s/^brotr_sync_$1_total{service=\"synchronizer\"} //p" "$tmp/brotr_synchronizer.prom"; }
# events whose signature was not checked: verified earlier in this process, or held by the archive
known() { echo $(($(counter signatures_known) + $(counter signatures_stored))); }
known_before=$(known) # counters continue from the previous pass's file
# A readable relay whose URL the database holds (up to 2048 bytes) but a relay connection cannot
# (over 255): refused by name, never cut into another URL.
LONG_URL=ws://127.0.0.1:1/$(printf 'p%.0s' $(seq 1 300))
mark "$LONG_URL" clearnet
t_status "two relays with the same events, one after the other" 0 brotr_run BROTR_SYNCHRONIZER_MAX_RELAYS=1 -- synchronizer
t_like "a relay URL over 255 bytes is refused by name" "$T_ERR" \
	"relay URL too long to synchronize: skipped\" relay=$LONG_URL bytes=317 max=255"
t_unlike "and no cut form of it is tried" "$T_ERR" "relay=ws://127.0.0.1:1/p+ [^b]"
t_set "the first relay has every event" "$(archived "$DUP1")" "$(ids_of "$tmp/dup.jsonl")"
t_set "the second relay has every event" "$(archived "$DUP2")" "$(ids_of "$tmp/dup.jsonl")"
t_is "each event associated with both" \
	"$(q "SELECT count(*) FROM events_relays WHERE relay_url IN ('$DUP1', '$DUP2')")" "40"
# (also the boundary seconds that the walk reads twice: at least the 20 copies)
t_like "the second relay's copies needed no signature check" "$(($(known) - known_before))" '^2[0-9]$'
# a later pass (another process, nothing verified in it yet) over a third relay with the same events
tool_start fixture_relay --events "$tmp/dup.jsonl"
DUP3=ws://127.0.0.1:$TOOL_PORT
mark "$DUP3" clearnet
stored_before=$(counter signatures_stored)
t_status "a later pass over a third relay with the same events" 0 brotr_run -- synchronizer
t_set "the third relay has every event" "$(archived "$DUP3")" "$(ids_of "$tmp/dup.jsonl")"
t_like "its copies needed no signature check: the archive held them" "$(($(counter signatures_stored) - stored_before))" \
	'^2[0-9]$'

# --- which sync service runs --------------------------------------------------------------------
t_status "the priority synchronizer refuses to run in a synchronizer implementation" 2 \
	brotr_run -- priority-synchronizer
t_like "saying why" "$T_ERR" "runs the synchronizer"
t_status "a malformed filter is a configuration error" 2 brotr_run BROTR_SYNCHRONIZER_FILTER='{"kinds":[1' -- synchronizer
t_like "naming it" "$T_ERR" "\[synchronizer\] filter: not JSON"
t_status "a filter may not set since" 2 brotr_run BROTR_SYNCHRONIZER_FILTER='{"since":5}' -- synchronizer
t_status "an unknown option" 2 brotr_run -- synchronizer --lop

# --- the priority synchronizer, over its list, with a filter ------------------------------------
"$GEN" --prefix prio --kind 7 '20000..20100:12' >"$tmp/prio7.jsonl"
"$GEN" --prefix prio --kind 1 '20000..20100:8' >"$tmp/prio1.jsonl"
cat "$tmp/prio7.jsonl" "$tmp/prio1.jsonl" >"$tmp/prio.jsonl"
tool_start fixture_relay --events "$tmp/prio.jsonl"
PRIO=ws://127.0.0.1:$TOOL_PORT
printf '# priority\n%s\nnot a url\n' "$PRIO" >"$tmp/priority.txt"
t_status "priority synchronizer over its list, kind 7 only" 0 brotr_run BROTR_BROTR_SYNC_SERVICE=priority_synchronizer \
	BROTR_PRIORITY_SYNCHRONIZER_RELAY_FILE="$tmp/priority.txt" BROTR_PRIORITY_SYNCHRONIZER_FILTER='{"kinds":[7]}' \
	-- priority-synchronizer
t_set "archives the listed relay's matching events, unmonitored" "$(archived "$PRIO")" "$(ids_of "$tmp/prio7.jsonl")"
t_like "reports the bad line with its number" "$T_ERR" "relay file line rejected.*line=3 reason="

# prio_run FILE [VAR=VALUE...]: one priority synchronizer pass over the relays listed in FILE.
prio_run() {
	local file=$1
	shift
	brotr_run BROTR_BROTR_SYNC_SERVICE=priority_synchronizer BROTR_PRIORITY_SYNCHRONIZER_RELAY_FILE="$file" "$@" \
		-- priority-synchronizer
}
prio_start() {
	local file=$1
	shift
	brotr_start BROTR_BROTR_SYNC_SERVICE=priority_synchronizer BROTR_PRIORITY_SYNCHRONIZER_RELAY_FILE="$file" "$@" \
		-- priority-synchronizer
}
summary_stored() { printf '%s\n' "$1" | sed -n 's/.*msg="pass summary".* stored=\([0-9]*\) .*/\1/p'; }

# --- progress is bound to the filter and since it was earned for -------------------------------
"$GEN" --prefix cover --kind 1 '30000..30100:10' >"$tmp/cover1.jsonl"
"$GEN" --prefix cover --kind 7 '30000..30100:10' >"$tmp/cover7.jsonl"
"$GEN" --prefix cover --kind 1 '10000..10100:5' >"$tmp/cover1_old.jsonl"
cat "$tmp/cover1.jsonl" "$tmp/cover7.jsonl" "$tmp/cover1_old.jsonl" >"$tmp/cover.jsonl"
tool_start fixture_relay --events "$tmp/cover.jsonl"
COVER=ws://127.0.0.1:$TOOL_PORT
printf '%s\n' "$COVER" >"$tmp/cover.txt"
t_status "a pass with kind 1 since 20000" 0 prio_run "$tmp/cover.txt" \
	BROTR_PRIORITY_SYNCHRONIZER_FILTER='{"kinds":[1]}' BROTR_PRIORITY_SYNCHRONIZER_SINCE=20000
t_set "archives kind 1 since 20000" "$(archived "$COVER")" "$(ids_of "$tmp/cover1.jsonl")"
t_status "the filter widened to kinds 1 and 7" 0 prio_run "$tmp/cover.txt" \
	BROTR_PRIORITY_SYNCHRONIZER_FILTER='{"kinds": [1, 7]}' BROTR_PRIORITY_SYNCHRONIZER_SINCE=20000
t_set "the older events of the new kind are archived too" "$(archived "$COVER")" \
	"$(ids_of "$tmp/cover1.jsonl" "$tmp/cover7.jsonl")"
t_like "the coverage is logged" "$T_ERR" 'msg="progress coverage" coverage=[0-9a-f]{64} since=20000 filter="\{\\"kinds\\":\[1,7\]\}"'
t_status "since lowered to 0" 0 prio_run "$tmp/cover.txt" BROTR_PRIORITY_SYNCHRONIZER_FILTER='{"kinds":[1,7]}'
t_set "the events before the old since are archived" "$(archived "$COVER")" "$(ids_of "$tmp/cover.jsonl")"
t_status "the same filter, spelt differently, again" 0 prio_run "$tmp/cover.txt" \
	BROTR_PRIORITY_SYNCHRONIZER_FILTER='{ "kinds" : [1,7] }'
t_like "reuses the progress: one page, nothing new" "$T_ERR" 'msg="pass summary".* stored=0 .* pages=1 '
t_status "the tag cap raised" 0 prio_run "$tmp/cover.txt" BROTR_PRIORITY_SYNCHRONIZER_FILTER='{"kinds":[1,7]}' \
	BROTR_PRIORITY_SYNCHRONIZER_MAX_EVENT_TAGS=30000
t_like "walks the relay again: events a lower cap refused are asked for again" "$T_ERR" \
	'msg="pass summary".* stored=0 .* pages=([2-9]|[1-9][0-9]+) '

# --- the end of a pass waits for every batch the writer holds -----------------------------------
# A slow writer (a trigger sleeping per row of one relay) keeps batches queued when the relay
# ends; the batch with its oldest event fails (a trigger refuses it, not a data error). The pass
# must see that failure and count exactly what it committed.
"$GEN" --prefix slow --authors 5 '40000..42000:200' >"$tmp/slow.jsonl"
tool_start fixture_relay --events "$tmp/slow.jsonl" --max-limit 25
SLOW=ws://127.0.0.1:$TOOL_PORT
printf '%s\n' "$SLOW" >"$tmp/slow.txt"
oldest=$(grep '"created_at":40000,' "$tmp/slow.jsonl" | ids_of /dev/stdin)
t_like "the slow relay's oldest event is known" "$oldest" "^[0-9a-f]{64}$"
q "CREATE FUNCTION test_slow_row() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN PERFORM pg_sleep(0.02);
	RETURN NEW; END \$\$;
   CREATE FUNCTION test_refuse_row() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN
	RAISE EXCEPTION 'test: this batch is refused'; END \$\$;
   CREATE TRIGGER test_slow BEFORE INSERT ON events_relays FOR EACH ROW
	WHEN (NEW.relay_url = '$SLOW')
	EXECUTE FUNCTION test_slow_row();
   CREATE TRIGGER test_refuse BEFORE INSERT ON events_relays FOR EACH ROW
	WHEN (NEW.event_id = decode('$oldest', 'hex')) EXECUTE FUNCTION test_refuse_row();" >/dev/null
t_status "a pass whose last batch fails behind a slow writer exits 1" 1 prio_run "$tmp/slow.txt" BROTR_DATABASE_BATCH_SIZE=10
first=$(archived "$SLOW" | wc -l)
t_like "it had committed the batches before" "$first" "^[1-9][0-9]*$"
t_is "its summary counts exactly what it committed" "$(summary_stored "$T_ERR")" "$first"
t_like "and names the failure" "$T_ERR" "the database failed.*test: this batch is refused"
q "DROP TRIGGER test_refuse ON events_relays" >/dev/null
t_status "the next pass, still behind the slow writer" 0 prio_run "$tmp/slow.txt" BROTR_DATABASE_BATCH_SIZE=10
t_set "completes the relay" "$(archived "$SLOW")" "$(ids_of "$tmp/slow.jsonl")"
t_is "and counts every batch it committed" "$(summary_stored "$T_ERR")" "$((200 - first))"

# --- PostgreSQL restarted in the middle of a pass: the writer reconnects and finishes -----------
# outage_pass LABEL PORT: a pass over a fresh relay of 2000 events, the server stopped for 2 s once
# a tenth is stored, through PORT (the server, or PgBouncer in front of it).
outage_pass() {
	local label=$1 port=$2 pid i url
	"$GEN" --prefix "outage$label" --authors 10 '50000..90000:2000' >"$tmp/outage_$label.jsonl"
	tool_start fixture_relay --events "$tmp/outage_$label.jsonl" --max-limit 50
	url=ws://127.0.0.1:$TOOL_PORT
	printf '%s\n' "$url" >"$tmp/outage_$label.txt"
	q "CREATE TRIGGER test_slow_$label BEFORE INSERT ON events_relays FOR EACH ROW
		WHEN (NEW.relay_url = '$url') EXECUTE FUNCTION test_slow_row()" >/dev/null
	prio_start "$tmp/outage_$label.txt" BROTR_DATABASE_BATCH_SIZE=20 BROTR_DATABASE_PORT="$port" \
		BROTR_DATABASE_CONNECT_WAIT=60s 2>"$tmp/outage_$label.log" &
	pid=$!
	for i in $(seq 1 600); do [ "$(archived "$url" | wc -l)" -ge 200 ] && break; sleep 0.1; done
	pg_down
	sleep 2
	pg_up
	wait "$pid"
	t_is "$label: the pass with PostgreSQL restarted in its middle exits 0" "$?" "0"
	t_like "$label: the writer waited for the server" "$(cat "$tmp/outage_$label.log")" "database unavailable, retrying"
	t_set "$label: every event is stored" "$(archived "$url")" "$(ids_of "$tmp/outage_$label.jsonl")"
	t_is "$label: exactly once" "$(q "SELECT count(*) FROM events_relays WHERE relay_url = '$url'")" "2000"
	t_like "$label: and counted once" "$(cat "$tmp/outage_$label.log")" 'msg="pass summary".* stored=2000 '
}
outage_pass direct "$TEST_PGPORT"
outage_pass pgbouncer "$TEST_PGBOUNCER_PORT"

# --- a third-party relay from npm (@nostr-relay/core), events signed by nostr-tools -------------
FIX=tests/fixtures/thirdparty
if thirdparty_relay_start "$FIX/events.jsonl"; then
	THIRD=ws://127.0.0.1:$TOOL_PORT
	mark "$THIRD" clearnet
	t_status "synchronizer pass over the third-party relay, pages of 5" 0 brotr_run BROTR_SYNCHRONIZER_PAGE_LIMIT=5 \
		-- synchronizer
	log=$T_ERR
	# It serves the events dated up to now (not those of 2100: the walk stops at the pass's start).
	# Pages of 5 cannot hold its 12 events of second 1700000000, and it does not count (NIP-45):
	# it returns 5 of them, and the 7 others are reported, not silently lost.
	awk -F'\t' '$4 == "served"' "$FIX/events.tsv" | cut -f1 | sort >"$tmp/third.served"
	archived "$THIRD" >"$tmp/third.got"
	missing=$(comm -23 "$tmp/third.served" "$tmp/third.got")
	t_is "the third-party relay: every event it serves but 7 of its crowded second" "$(printf '%s' "$missing" | grep -c .)" "7"
	t_is "the missing ones are all of that second" \
		"$(for id in $missing; do awk -F'\t' -v id="$id" '$1 == id { print $2 }' "$FIX/events.tsv"; done | sort -u)" "1700000000"
	t_is "nothing archived that it does not serve" "$(comm -13 "$tmp/third.served" "$tmp/third.got" | wc -l)" "0"
	t_like "the crowded second is reported" "$log" "may hold more events\" relay=$THIRD created_at=1700000000 returned=5"
	t_like "it ignores until: 0, which is said, not stalled on" "$log" "relay=$THIRD.*|ignores \\\"until\\\": 0.*relay=$THIRD"
	t_like "and it is synchronized" "$log" "relay synchronized\" relay=$THIRD "
else
	t_fail "the third-party relay starts (npm ci on first use: see build/thirdparty/npm.log)"
fi

t_done
