#!/usr/bin/env bash
# net.sh — what the SOCKS5 helper costs: events streamed from a local fixture relay directly and through the helper.
#
# Streams BENCH_NET_EVENTS events (default 200000, about 400 bytes each) from one REQ, three
# rounds each way, interleaved, and reports the best rate of each and their ratio (target:
# helper/direct >= 0.90, the helper costing under 10%). Also through the helper and microsocks.
set -eu
cd "$(dirname "$0")/../.."
: "${BUILD:=build}"
source tests/harness/servers.sh
N=${BENCH_NET_EVENTS:-200000}
ROUNDS=${BENCH_NET_ROUNDS:-3}
own_tmp=${TEST_TMP:+no}
harness_tmp
T=$(mktemp -d "$TEST_TMP/bench-net.XXXXXX")
MS_PID=""
cleanup() {
	tools_stop
	[ -n "$MS_PID" ] && kill "$MS_PID" 2>/dev/null
	rm -rf "$T"
	[ -z "$own_tmp" ] && rm -rf "$TEST_TMP"
	return 0
}
trap cleanup EXIT

awk -v n="$N" 'BEGIN {
	pad = sprintf("%0200d", 0)
	for (i = 1; i <= n; i++)
		printf "{\"id\":\"%064x\",\"pubkey\":\"%064d\",\"created_at\":%d,\"kind\":1,\"tags\":[[\"t\",\"bench\"]],\"content\":\"event %d %s\",\"sig\":\"%0128d\"}\n", i, 7, 1700000000 + i, i, pad, 0
}' >"$T/events.jsonl"
tool_start fixture_relay --events "$T/events.jsonl" --max-limit "$N"
URL=ws://127.0.0.1:$TOOL_PORT
MS_PORT=$(free_port)
microsocks -i 127.0.0.1 -p "$MS_PORT" >/dev/null 2>&1 &
MS_PID=$!

rate() { # mode [proxy] -> rate, or 0 on failure
	local out
	out=$("$BUILD/tools/net_bench" "$URL" "$N" "$@") || { echo 0; return; }
	[[ $out =~ events=$N\ .*rate=([0-9]+) ]] && echo "${BASH_REMATCH[1]}" || echo 0
}
best_direct=0 best_helper=0 best_socks=0
for _ in $(seq 1 "$ROUNDS"); do
	r=$(rate direct); [ "$r" -gt "$best_direct" ] && best_direct=$r
	r=$(rate helper); [ "$r" -gt "$best_helper" ] && best_helper=$r
	r=$(rate socks "127.0.0.1:$MS_PORT"); [ "$r" -gt "$best_socks" ] && best_socks=$r
done
if [ "$best_direct" -eq 0 ] || [ "$best_helper" -eq 0 ]; then
	echo "net: the stream did not complete (direct $best_direct/s, helper $best_helper/s)"
	exit 1
fi
ratio=$(awk -v h="$best_helper" -v d="$best_direct" 'BEGIN { printf "%.3f", h / d }')
verdict=$(awk -v r="$ratio" 'BEGIN { print (r >= 0.90) ? "met" : "MISSED" }')
printf 'net: %d events of ~%d bytes from a local relay, best of %d rounds each\n' "$N" \
	"$(($(wc -c <"$T/events.jsonl") / N))" "$ROUNDS"
printf 'net:   direct (lws to the relay)          %8d events/s\n' "$best_direct"
printf 'net:   through the helper (direct mode)   %8d events/s\n' "$best_helper"
printf 'net:   through the helper and microsocks  %8d events/s\n' "$best_socks"
printf 'net: helper/direct = %s (target >= 0.90: %s)\n' "$ratio" "$verdict"
