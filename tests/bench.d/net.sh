#!/usr/bin/env bash
# net.sh — what the SOCKS5 helper costs: events streamed from a local fixture relay directly and through the helper.
#
# Streams BENCH_NET_EVENTS events (default 200000, about 570 bytes each) from one REQ,
# BENCH_NET_ROUNDS rounds (default 5) each way, interleaved. Reports the best rate of each
# way and their ratio (target: helper/direct >= 0.90, the helper costing under 10%), and the
# median CPU time the client process (lws thread plus helper thread) spent on the stream each
# way: on a busy machine the rates wander with the neighbours, the CPU cost less so.
# Also through the helper and microsocks, for reference.
set -eu
cd "$(dirname "$0")/../.."
: "${BUILD:=build}"
source tests/harness/servers.sh
N=${BENCH_NET_EVENTS:-200000}
ROUNDS=${BENCH_NET_ROUNDS:-5}
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

declare -A rate cpus
for m in direct helper socks; do rate[$m]=0 cpus[$m]=""; done
measure() { # mode [proxy]: keeps the best rate, and every CPU time (ms) of the mode
	local out r c
	out=$("$BUILD/tools/net_bench" "$URL" "$N" "$@") || return 0
	[[ $out =~ events=$N\ .*rate=([0-9]+)\ cpu=([0-9]+)\.([0-9]{3}) ]] || return 0
	r=${BASH_REMATCH[1]} c=$((10#${BASH_REMATCH[2]} * 1000 + 10#${BASH_REMATCH[3]}))
	[ "$r" -gt "${rate[$1]}" ] && rate[$1]=$r
	cpus[$1]="${cpus[$1]} $c"
	return 0
}
median() { printf '%s\n' $1 | sort -n | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : 0 }'; }
for _ in $(seq 1 "$ROUNDS"); do
	measure direct
	measure helper
	measure socks "127.0.0.1:$MS_PORT"
done
declare -A cpu
for m in direct helper socks; do cpu[$m]=$(median "${cpus[$m]}"); done
if [ "${rate[direct]}" -eq 0 ] || [ "${rate[helper]}" -eq 0 ]; then
	echo "net: the stream did not complete (direct ${rate[direct]}/s, helper ${rate[helper]}/s)"
	exit 1
fi
ratio=$(awk -v h="${rate[helper]}" -v d="${rate[direct]}" 'BEGIN { printf "%.3f", h / d }')
verdict=$(awk -v r="$ratio" 'BEGIN { print (r >= 0.90) ? "met" : "MISSED" }')
overhead=$(awk -v h="${cpu[helper]}" -v d="${cpu[direct]}" 'BEGIN { printf "%+.1f%%", (h / d - 1) * 100 }')
printf 'net: %d events of ~%d bytes from a local relay, %d rounds each way; load average %s\n' "$N" \
	"$(($(wc -c <"$T/events.jsonl") / N))" "$ROUNDS" "$(cut -d' ' -f1 /proc/loadavg)"
printf 'net:   %-38s %8s events/s  %6s ms CPU (median)\n' "direct (lws to the relay)" "${rate[direct]}" "${cpu[direct]}"
printf 'net:   %-38s %8s events/s  %6s ms CPU\n' "through the helper (direct mode)" "${rate[helper]}" "${cpu[helper]}"
printf 'net:   %-38s %8s events/s  %6s ms CPU\n' "through the helper and microsocks" "${rate[socks]}" "${cpu[socks]}"
printf 'net: helper/direct = %s (target >= 0.90: %s); helper CPU cost %s\n' "$ratio" "$verdict" "$overhead"
