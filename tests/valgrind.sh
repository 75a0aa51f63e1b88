#!/usr/bin/env bash
# valgrind.sh — one full monitor pass and one full synchronizer pass under valgrind (memcheck), against
# fixture relays (good, capped, garbage, invalid signatures, oversized and megabyte messages, a hostile
# NIP-11 document) and the harness's PostgreSQL. Fails on any memory error and on definite or indirect
# leaks; tests/valgrind.supp holds the libraries' one-time allocations, each with its reason.
#
# usage: BUILD=build bash tests/valgrind.sh        (make valgrind)
# env: VALGRIND_KEEP=1 keeps the temporary directory (valgrind's logs: $TEST_TMP/vg-*.log)
set -u
cd "$(dirname "$0")/.."
: "${BUILD:=build}"
export BUILD
BROTR=$PWD/$BUILD/brotr
source tests/harness/servers.sh
source tests/integration/services_lib.sh
[ -n "${VALGRIND_KEEP:-}" ] && TEST_KEEP=1
trap 'tools_stop; harness_stop' EXIT
pg_start || { echo "valgrind: PostgreSQL did not start" >&2; exit 1; }

T=$TEST_TMP
GEN=$BUILD/tools/event_gen
"$GEN" --prefix vg1 '1000000..1100000:1200' '1050000*30' >"$T/good.jsonl"
"$GEN" --prefix vg2 '1000000..1100000:200' >"$T/other.jsonl"
printf '{"name":"vg","supported_nips":[1,11],"limitation":{"max_message_length":65536}}' >"$T/nip11.json"
relays=()
tool_start fixture_relay --events "$T/good.jsonl" --max-limit 100 --nip11 "$T/nip11.json" --count
relays+=("ws://127.0.0.1:$TOOL_PORT")
tool_start fixture_relay --events "$T/other.jsonl" --mode garbage
relays+=("ws://127.0.0.1:$TOOL_PORT")
tool_start fixture_relay --events "$T/other.jsonl" --mode bad-sigs
relays+=("ws://127.0.0.1:$TOOL_PORT")
tool_start fixture_relay --events "$T/other.jsonl" --mode oversized --oversize 70000
relays+=("ws://127.0.0.1:$TOOL_PORT")
tool_start fixture_relay --mode tag-bomb --hostile-size 60000 --hostile-count 20 --nip11-hostile number
relays+=("ws://127.0.0.1:$TOOL_PORT")
tool_start fixture_relay --mode notices --hostile-size 60000 --hostile-count 3
relays+=("ws://127.0.0.1:$TOOL_PORT")
relays+=("ws://127.0.0.1:$(free_port)") # nothing listens
printf '%s\n' "${relays[@]}" >"$T/seeds.txt"

impl_make "$T/impl"
run() {
	svc_run "$T/impl" vg BROTR_INITIALIZER_SEED_FILE="$T/seeds.txt" BROTR_NETWORK_ALLOW_LOCAL=true \
		BROTR_TOR_SOCKS_PROXY= BROTR_MONITOR_WRITE_TEST=true BROTR_MONITOR_MAX_POW=0 \
		BROTR_NETWORK_MAX_MESSAGE_SIZE=64K BROTR_NETWORK_CLEARNET_RESPONSE_TIMEOUT=20s \
		BROTR_DATABASE_BATCH_SIZE=200 "$@"
}
run -- db init >"$T/init.log" 2>&1 || { cat "$T/init.log"; exit 1; }
run -- initializer >"$T/init.log" 2>&1 || { cat "$T/init.log"; exit 1; }

VG=(valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99
	--show-leak-kinds=definite,indirect --num-callers=30 --suppressions=tests/valgrind.supp
	--gen-suppressions=all)
failed=0
for svc in monitor synchronizer; do
	t0=$(date +%s)
	BROTR=valgrind run -- "${VG[@]:1}" --log-file="$T/vg-$svc.log" "$BROTR" "$svc" 2>"$T/$svc.log"
	rc=$?
	secs=$(( $(date +%s) - t0 ))
	summary=$(grep -E 'msg="(monitor )?pass summary"' "$T/$svc.log" | sed 's/.*msg=/msg=/' | cut -c1-160)
	if [ "$rc" -eq 0 ]; then
		echo "valgrind: $svc clean ($secs s): $summary"
	else
		failed=1
		echo "valgrind: $svc FAILED (exit $rc, $secs s): $summary"
		[ "$rc" -eq 99 ] && sed 's/^==[0-9]*== //' "$T/vg-$svc.log" | head -n 120
		[ "$rc" -ne 99 ] && tail -n 20 "$T/$svc.log"
	fi
done
stored=$(db_q vg "SELECT count(*) FROM events WHERE kind <> 20166") # not the write tests
echo "valgrind: $stored events archived"
[ "$stored" -eq 1430 ] || { echo "valgrind: expected 1430 events (the good and garbage relays' valid ones)"; failed=1; }
exit "$failed"
