#!/usr/bin/env bash
# test_sync_deadlines.sh — deadlines are per message and per page, never per byte: a relay dribbling its
# messages a byte at a time and one trickling whole events each inside the response timeout both fail
# on their deadline, while a good relay in the same synchronizer pass is archived completely.
set -u
cd "$(dirname "$0")/../.."
source tests/harness/tap.sh
source tests/harness/servers.sh
source tests/integration/services_lib.sh
[ -n "${TEST_PGPORT:-}" ] || { echo "not ok - run me through tests/run (make check): I need the harness's PostgreSQL"; exit 1; }
: "${BROTR:=$PWD/build/brotr}"
GEN=$BUILD/tools/event_gen
tmp=$(mktemp -d "$TEST_TMP/sync-deadlines.XXXXXX")
trap 'tools_stop; [ -z "${TEST_KEEP:-}" ] && rm -rf "$tmp"' EXIT
db=syncdl_$$
run() {
	svc_run "$PWD/implementations/bigbrotr" "$db" BROTR_NETWORK_ALLOW_LOCAL=true BROTR_TOR_SOCKS_PROXY= \
		BROTR_NETWORK_CLEARNET_RESPONSE_TIMEOUT=2s "$@"
}

t_status "db init" 0 run -- db init
"$GEN" --prefix good '1000..2000:40' >"$tmp/good.jsonl"
"$GEN" --prefix slow '1000..2000:12' >"$tmp/slow.jsonl"
tool_start fixture_relay --events "$tmp/good.jsonl" || exit 1
GOOD=ws://127.0.0.1:$TOOL_PORT
# a byte every 50 ms: an event takes over 10 s, its first byte comes at once
tool_start fixture_relay --events "$tmp/slow.jsonl" --mode dribble --dribble-ms 50 || exit 1
DRIBBLE=ws://127.0.0.1:$TOOL_PORT
# a whole event every 1.5 s (inside the 2 s response timeout): the page would take 19.5 s
tool_start fixture_relay --events "$tmp/slow.jsonl" --mode trickle --dribble-ms 1500 || exit 1
TRICKLE=ws://127.0.0.1:$TOOL_PORT
for r in "$GOOD" "$DRIBBLE" "$TRICKLE"; do mark_readable "$db" "$r" clearnet; done

t_status "a synchronizer pass beside a dribbling and a trickling relay" 0 run -- synchronizer
t_is "the good relay is archived completely" "$(archived_in "$db" "$GOOD")" "$(ids_of "$tmp/good.jsonl")"
t_like "the dribbler fails on the per-message deadline, inside its first message" "$T_ERR" \
	"relay=\"?$DRIBBLE\"? outcome=failed reason=\"(timeout: )+no complete response within 2s of a request \([0-9]{1,2} bytes of a message so far\)"
t_like "the trickler fails on the page deadline: 4 response timeouts" "$T_ERR" \
	"relay=\"?$TRICKLE\"? outcome=failed reason=\"timeout: a page \(brotr-1\) not whole within 8000 ms \(4 response timeouts\)"
t_is "nothing of the unfinished page is archived as progress" \
	"$(db_q "$db" "SELECT count(*) FROM relay_sync_progress WHERE relay_url = '$TRICKLE'" 2>/dev/null || echo 0)" 0

t_done
