#!/usr/bin/env bash
# test_sync_windows.sh — a relay's range walked as several windows at once on one connection: they
# overlap in time on a relay a round trip away; a relay that refuses subscriptions past a number
# (by CLOSED, or by a NOTICE naming none) gets fewer windows and is archived whole all the same, and
# one whose NIP-11 says how many gets no more than that; a pass killed with SIGKILL while windows
# are under way resumes with no gap and no duplicate.
set -u
cd "$(dirname "$0")/../.."
source tests/harness/tap.sh
source tests/harness/servers.sh
source tests/integration/services_lib.sh
[ -n "${TEST_PGPORT:-}" ] || { echo "not ok - run me through tests/run (make check): I need the harness's PostgreSQL"; exit 1; }
: "${BROTR:=$PWD/build/brotr}"
GEN=$BUILD/tools/event_gen
tmp=$(mktemp -d "$TEST_TMP/sync-windows.XXXXXX")
trap 'tools_stop; [ -z "${TEST_KEEP:-}" ] && rm -rf "$tmp"' EXIT
db=syncwin_$$
ENV=(BROTR_NETWORK_ALLOW_LOCAL=true BROTR_TOR_SOCKS_PROXY= BROTR_NETWORK_CLEARNET_RESPONSE_TIMEOUT=5s
	BROTR_SYNCHRONIZER_PAGE_LIMIT=50 BROTR_SYNCHRONIZER_MAX_WINDOWS=8)
run() { svc_run "$PWD/implementations/bigbrotr" "$db" "${ENV[@]}" "$@"; }
q() { db_q "$db" "$1"; }
# most_open LOG: the most subscriptions the relay had open at once (REQ to CLOSE, refusals aside).
most_open() {
	awk '$1 == "REQ" { open[$2] = 1 } $1 == "REFUSED" { delete open[$2] } $1 == "CLOSE" { delete open[$2] }
		{ n = 0; for (s in open) n++; if (n > most) most = n } END { print most + 0 }' "$1"
}
windows_of() { q "SELECT count(*) FROM relay_sync_windows WHERE relay_url = '$1'"; }
t_plan 23

t_status "db init" 0 run -- db init

# --- a relay 200 ms away: windows overlap ------------------------------------------------------
"$GEN" --prefix far --authors 10 '100000..130000:1500' >"$tmp/far.jsonl"
tool_start fixture_relay --events "$tmp/far.jsonl" --max-limit 50 --rtt 200 --log "$tmp/far.log" || exit 1
FAR=ws://127.0.0.1:$TOOL_PORT
mark_readable "$db" "$FAR" clearnet
t_status "a pass over a relay a round trip away" 0 run -- synchronizer
t_set "every event archived" "$(archived_in "$db" "$FAR")" "$(ids_of "$tmp/far.jsonl")"
t_like "several subscriptions were open at once" "$(most_open "$tmp/far.log")" "^[2-8]$"
t_is "and its windows merged into synced_until" "$(windows_of "$FAR")" "0"

# --- a relay that allows 3 subscriptions: CLOSED past them, then a NOTICE past them -------------
"$GEN" --prefix three --authors 10 '200000..230000:1500' >"$tmp/three.jsonl"
tool_start fixture_relay --events "$tmp/three.jsonl" --max-limit 50 --rtt 50 --max-subs 3 --log "$tmp/three.log" || exit 1
THREE=ws://127.0.0.1:$TOOL_PORT
"$GEN" --prefix notice --authors 10 '300000..330000:1500' >"$tmp/notice.jsonl"
tool_start fixture_relay --events "$tmp/notice.jsonl" --max-limit 50 --rtt 50 --max-subs 2 --max-subs-notice \
	--log "$tmp/notice.log" || exit 1
NOTICE=ws://127.0.0.1:$TOOL_PORT
mark_readable "$db" "$THREE" clearnet
mark_readable "$db" "$NOTICE" clearnet
t_status "a pass over relays that refuse subscriptions past a number" 0 run -- synchronizer
log=$T_ERR
t_like "the relay refused one too many" "$(grep -c '^REFUSED' "$tmp/three.log")" "^[1-9][0-9]*$"
t_like "which made its windows fewer" "$log" "refused a subscription as one too many.*relay=$THREE as=CLOSED windows=[1-3]"
t_set "and it is archived whole" "$(archived_in "$db" "$THREE")" "$(ids_of "$tmp/three.jsonl")"
t_like "its line counts the refusals" "$log" "relay synchronized\" relay=$THREE .* refused=[1-9]"
t_like "the NOTICE relay refused too" "$(grep -c '^REFUSED' "$tmp/notice.log")" "^[1-9][0-9]*$"
t_like "which also made its windows fewer" "$log" "refused a subscription as one too many.*relay=$NOTICE as=NOTICE windows=[12]"
t_set "and it is archived whole" "$(archived_in "$db" "$NOTICE")" "$(ids_of "$tmp/notice.jsonl")"

# --- a relay whose NIP-11 says 3 subscriptions: 2 windows at once, nothing refused ---------------
"$GEN" --prefix said --authors 10 '500000..530000:1500' >"$tmp/said.jsonl"
tool_start fixture_relay --events "$tmp/said.jsonl" --max-limit 50 --rtt 50 --max-subs 3 --log "$tmp/said.log" || exit 1
SAID=ws://127.0.0.1:$TOOL_PORT
nip11='{"limitation":{"max_subscriptions":3}}'
snap='{"openable":true,"readable":true,"rtt_open":5,"rtt_read":7}'
q "SELECT inserted FROM insert_relay_metadata('$SAID', 'clearnet', extract(epoch FROM now())::bigint, true, true,
	encode(sha256('$nip11'::bytea), 'hex'), '$nip11', encode(sha256('$snap'::bytea), 'hex'), '$snap')" >/dev/null
t_status "a pass over a relay whose NIP-11 limits its subscriptions" 0 run -- synchronizer
t_is "nothing refused" "$(grep -c '^REFUSED' "$tmp/said.log")" "0"
t_like "at most max_subscriptions - 1 windows at once" "$(most_open "$tmp/said.log")" "^[12]$"
t_set "and it is archived whole" "$(archived_in "$db" "$SAID")" "$(ids_of "$tmp/said.jsonl")"

# --- killed with SIGKILL while windows are under way: no gap, no duplicate ---------------------
"$GEN" --prefix killed --authors 20 '400000..460000:4000' >"$tmp/killed.jsonl"
tool_start fixture_relay --events "$tmp/killed.jsonl" --max-limit 50 --rtt 100 --log "$tmp/killed.log" || exit 1
KILLED=ws://127.0.0.1:$TOOL_PORT
mark_readable "$db" "$KILLED" clearnet
svc_start "$PWD/implementations/bigbrotr" "$db" "${ENV[@]}" BROTR_DATABASE_BATCH_SIZE=20 -- synchronizer \
	2>"$tmp/killed_pass.log" &
pid=$!
for i in $(seq 1 600); do [ "$(windows_of "$KILLED")" -ge 3 ] && [ "$(archived_in "$db" "$KILLED" | wc -l)" -ge 800 ] && break; sleep 0.1; done
kill -KILL "$pid"
wait "$pid" 2>/dev/null
partial=$(archived_in "$db" "$KILLED" | wc -l)
t_like "the killed pass had committed part of the relay" "$partial" "^[1-9][0-9]*$"
t_like "with several windows recorded" "$(windows_of "$KILLED")" "^([3-9]|1[0-6])$"
t_status "the next pass" 0 run -- synchronizer
t_set "ends with exactly the complete set" "$(archived_in "$db" "$KILLED")" "$(ids_of "$tmp/killed.jsonl")"
t_is "each event associated once" "$(q "SELECT count(*) FROM events_relays WHERE relay_url = '$KILLED'")" "4000"
t_is "and the windows merged into synced_until" \
	"$(q "SELECT synced_until > 460000 AND NOT EXISTS (SELECT FROM relay_sync_windows w WHERE w.relay_url = p.relay_url)
	      FROM relay_sync_progress p WHERE relay_url = '$KILLED'")" "t"
t_done
