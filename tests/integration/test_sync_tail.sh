#!/usr/bin/env bash
# test_sync_tail.sh — the priority synchronizer in --loop keeps a subscription open on its relays
# between passes: an event published to the third-party relay (npm) after the pass is archived
# before the next pass starts; SIGTERM ends the tail with what it stored committed; with
# [priority_synchronizer] tail = false no tail runs.
set -u
cd "$(dirname "$0")/../.."
source tests/harness/tap.sh
source tests/harness/servers.sh
source tests/integration/services_lib.sh
[ -n "${TEST_PGPORT:-}" ] || { echo "not ok - run me through tests/run (make check): I need the harness's PostgreSQL"; exit 1; }
: "${BROTR:=$PWD/build/brotr}"
GEN=$BUILD/tools/event_gen
tmp=$(mktemp -d "$TEST_TMP/sync-tail.XXXXXX")
trap 'tools_stop; [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; [ -z "${TEST_KEEP:-}" ] && rm -rf "$tmp"' EXIT
db=synctail_$$
t_plan 13
ENV=(BROTR_NETWORK_ALLOW_LOCAL=true BROTR_TOR_SOCKS_PROXY= BROTR_BROTR_SYNC_SERVICE=priority_synchronizer
	BROTR_PRIORITY_SYNCHRONIZER_RELAY_FILE="$tmp/relays.txt" BROTR_PRIORITY_SYNCHRONIZER_INTERVAL=1h)
run() { svc_run "$PWD/implementations/bigbrotr" "$db" "${ENV[@]}" "$@"; }
wait_log() { # wait_log FILE REGEX: until the log says so (at most 60 s)
	for _ in $(seq 1 600); do grep -Eq -- "$2" "$1" && return 0; sleep 0.1; done
	return 1
}
t_status "db init" 0 run -- db init
now=$(date +%s)
"$GEN" --prefix before "$((now - 3000))..$((now - 100)):20" >"$tmp/before.jsonl"
if ! thirdparty_relay_start "$tmp/before.jsonl"; then
	t_fail "the third-party relay starts (npm ci on first use: see build/thirdparty/npm.log)"
	t_done
	exit
fi
RELAY=ws://127.0.0.1:$TOOL_PORT
printf '%s\n' "$RELAY" >"$tmp/relays.txt"

svc_start "$PWD/implementations/bigbrotr" "$db" "${ENV[@]}" -- priority-synchronizer --loop 2>"$tmp/loop.log" &
pid=$!
t_status "the pass ends and the tail starts" 0 wait_log "$tmp/loop.log" 'msg="tail started" relays=1'
t_set "the pass archived the relay" "$(archived_in "$db" "$RELAY")" "$(ids_of "$tmp/before.jsonl")"
live_t=$(date +%s) # after the pass's start
"$GEN" --prefix live "$((live_t + 1))..$((live_t + 2)):3" >"$tmp/live.jsonl"
t_like "three events published after the pass" "$(thirdparty_client publish "$RELAY" "$tmp/live.jsonl")" "accepted=3"
for _ in $(seq 1 300); do [ "$(archived_in "$db" "$RELAY" | wc -l)" -ge 23 ] && break; sleep 0.1; done
t_set "the tail archived them" "$(archived_in "$db" "$RELAY")" "$(ids_of "$tmp/before.jsonl" "$tmp/live.jsonl")"
# one more, older than those (a live event may carry an earlier time) but after the pass's start
"$GEN" --prefix late "${live_t}*1" >"$tmp/late.jsonl"
t_like "an older one published after them" "$(thirdparty_client publish "$RELAY" "$tmp/late.jsonl")" "accepted=1"
for _ in $(seq 1 300); do [ "$(archived_in "$db" "$RELAY" | wc -l)" -ge 24 ] && break; sleep 0.1; done
t_set "the tail archived it too" "$(archived_in "$db" "$RELAY")" \
	"$(ids_of "$tmp/before.jsonl" "$tmp/live.jsonl" "$tmp/late.jsonl")"
t_is "before any next pass" "$(grep -c 'msg="pass started"' "$tmp/loop.log")" "1"
t_is "each once" "$(db_q "$db" "SELECT count(*) FROM events_relays WHERE relay_url = '$RELAY'")" "24"
kill -TERM "$pid"
wait "$pid"
t_is "SIGTERM ends the loop (exit 0)" "$?" "0"
pid=
t_like "the tail says what it stored" "$(cat "$tmp/loop.log")" 'msg="tail ended" relays=1 events=[3-9][0-9]* stored=4 '

# --- tail = false: the loop only sleeps ----------------------------------------------------------
svc_start "$PWD/implementations/bigbrotr" "$db" "${ENV[@]}" BROTR_PRIORITY_SYNCHRONIZER_TAIL=false -- \
	priority-synchronizer --loop 2>"$tmp/sleep.log" &
pid=$!
t_status "without the tail the pass ends too" 0 wait_log "$tmp/sleep.log" 'msg="next pass scheduled"'
kill -TERM "$pid"
wait "$pid"
pid=
t_unlike "no tail ran" "$(cat "$tmp/sleep.log")" 'tail started'
t_done
