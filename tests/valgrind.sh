#!/usr/bin/env bash
# valgrind.sh — a full monitor pass, a full synchronizer pass and a priority-synchronizer pass stopped by
# SIGTERM, under valgrind (memcheck), against fixture relays (good, capped, garbage, invalid signatures,
# oversized and megabyte messages, tag bombs, a hostile NIP-11 document, an endless stream) and the
# harness's PostgreSQL. Fails on any memory error and on definite or indirect leaks; tests/valgrind.supp
# is for the libraries' noise, each entry with its reason.
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

VG=(--quiet --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99
	--show-leak-kinds=definite,indirect --num-callers=30 --suppressions=tests/valgrind.supp
	--gen-suppressions=all)
failed=0
# report NAME RC WANT SECONDS: one line per pass; valgrind's report when it found something.
report() {
	local summary
	summary=$(grep -E 'msg="(monitor )?pass summary"' "$T/$1.log" | sed 's/.*msg=/msg=/' | cut -c1-160)
	if [ "$2" -eq "$3" ]; then
		echo "valgrind: $1 clean ($4 s): $summary"
		return
	fi
	failed=1
	echo "valgrind: $1 FAILED (exit $2, want $3; $4 s): $summary"
	if [ "$2" -eq 99 ]; then sed 's/^==[0-9]*== //' "$T/vg-$1.log" | head -n 120; else tail -n 20 "$T/$1.log"; fi
}
for svc in monitor synchronizer; do
	t0=$(date +%s)
	BROTR=valgrind run -- "${VG[@]}" --log-file="$T/vg-$svc.log" "$BROTR" "$svc" 2>"$T/$svc.log"
	report "$svc" $? 0 $(($(date +%s) - t0))
done
stored=$(db_q vg "SELECT count(*) FROM events WHERE kind <> 20166") # not the write tests
echo "valgrind: $stored events archived"
[ "$stored" -eq 1430 ] || { echo "valgrind: expected 1430 events (the good and garbage relays' valid ones)"; failed=1; }

# A pass stopped by SIGTERM in the middle (the stop path closes connections without callbacks): the
# priority synchronizer on a relay that streams forever, beside a good one.
tool_start fixture_relay --mode endless
printf '%s\n' "ws://127.0.0.1:$TOOL_PORT" "${relays[0]}" >"$T/priority.txt"
t0=$(date +%s)
BROTR=valgrind SVC_EXEC=1 run BROTR_BROTR_SYNC_SERVICE=priority_synchronizer \
	BROTR_PRIORITY_SYNCHRONIZER_RELAY_FILE="$T/priority.txt" -- "${VG[@]}" --log-file="$T/vg-interrupted.log" \
	"$BROTR" priority-synchronizer 2>"$T/interrupted.log" &
pid=$!
# the good relay done, the endless one still streaming
while kill -0 "$pid" 2>/dev/null && ! grep -q 'msg="relay synchronized"' "$T/interrupted.log"; do sleep 0.2; done
kill -TERM "$pid"
wait "$pid"
report interrupted $? 1 $(($(date +%s) - t0))
exit "$failed"
