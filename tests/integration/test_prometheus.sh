#!/usr/bin/env bash
# test_prometheus.sh — what brotr gives Prometheus passes promtool: each service's textfile and the
# --loop /metrics endpoint scraped over HTTP with curl; counters continue across passes; the listener
# refuses a non-loopback address unless allowed; the rules in contrib/prometheus pass
# `promtool check rules` and their unit tests, and every series they read is one brotr exports.
set -u
cd "$(dirname "$0")/../.."
: "${BUILD:=build}" "${BROTR:=$PWD/$BUILD/brotr}"
source tests/harness/servers.sh
source tests/harness/tap.sh
source tests/integration/services_lib.sh
[ -n "${TEST_PGPORT:-}" ] || { echo "not ok - run me through tests/run (make check): I need the harness's PostgreSQL"; exit 1; }
t_plan 23
T=$(mktemp -d "$TEST_TMP/prometheus.XXXXXX")
child=""
cleanup() {
	[ -n "$child" ] && kill "$child" 2>/dev/null && wait "$child"
	tools_stop
	[ -z "${TEST_KEEP:-}" ] && rm -rf "$T"
	return 0
}
trap cleanup EXIT

DB=prom_$$
impl_make "$T/impl" "[network]
allow_local = true"
mkdir -p "$T/metrics" "$T/log"
ENV=(BROTR_TOR_SOCKS_PROXY="127.0.0.1:$TEST_SOCKS_PORT" BROTR_NETWORK_CLEARNET_CONNECT_TIMEOUT=3s
	BROTR_NETWORK_CLEARNET_RESPONSE_TIMEOUT=3s BROTR_MONITOR_WRITE_TEST=false BROTR_METRICS_DIR="$T/metrics")
run() { svc_run "$T/impl" "$DB" "${ENV[@]}" "$@"; }

t_status "db init" 0 run -- db init
"$BUILD/tools/event_gen" --prefix prom '1000..2000:30' >"$T/events.jsonl"
tool_start fixture_relay --events "$T/events.jsonl"
GOOD=ws://127.0.0.1:$TOOL_PORT
tool_start fixture_relay --events "$T/events.jsonl" --mode garbage # a malformed message before each event
GARBAGE=ws://127.0.0.1:$TOOL_PORT
GONE=ws://127.0.0.1:$(free_port)
for r in "$GOOD" "$GARBAGE" "$GONE"; do mark_readable "$DB" "$r" clearnet; done
db_q "$DB" "UPDATE relay_metadata SET generated_at = generated_at - 86400" >/dev/null # all due for the monitor

# --- the textfiles of one-pass services ------------------------------------------------------------
printf '%s\nhttps://not.a.relay\n' "$GOOD" >"$T/impl/data/seed_relays.txt"
t_status "an initializer pass" 0 run -- initializer
t_status "its textfile passes promtool check metrics" 0 promtool check metrics <"$T/metrics/brotr_initializer.prom"
t_status "a monitor pass" 0 run -- monitor
t_status "its textfile passes promtool check metrics" 0 promtool check metrics <"$T/metrics/brotr_monitor.prom"
t_status "a synchronizer pass" 0 run -- synchronizer
t_status "its textfile passes promtool check metrics" 0 promtool check metrics <"$T/metrics/brotr_synchronizer.prom"

# --- the endpoint of a --loop service ---------------------------------------------------------------
PORT=$(free_port)
svc_start "$T/impl" "$DB" "${ENV[@]}" BROTR_METRICS_LISTEN="127.0.0.1:$PORT" BROTR_LOG_FILE="$T/log/brotr.log" \
	-- synchronizer --loop 2>"$T/loop.err" &
child=$!
for _ in $(seq 1 600); do
	grep -q '"status":"ok"' <(curl -s "http://127.0.0.1:$PORT/health") && break
	sleep 0.1
done
t_is "/health after a good pass" "$(curl -s -w '%{http_code}' "http://127.0.0.1:$PORT/health")" $'{"status":"ok"}\n200'
scrape=$(curl -s -D "$T/headers" "http://127.0.0.1:$PORT/metrics")
t_is "/metrics is the text format 0.0.4" \
	"$(tr -d '\r' <"$T/headers" | grep -cE '^(HTTP/1.1 200 OK|Content-Type: text/plain; version=0.0.4(;.*)?)$')" 2
t_status "the scrape passes promtool check metrics" 0 promtool check metrics <<<"$scrape"
t_like "counters continued from the file: two passes now" "$scrape" \
	'^brotr_passes_total\{service="synchronizer",result="ok"\} 2$'
t_like "the relay's archived range is a gauge" "$scrape" \
	"^brotr_sync_relay_synced_until_timestamp_seconds\\{service=\"synchronizer\",relay=\"$GOOD\"\\} [0-9]{10}$"
t_like "a relay never synchronized has none" "$(grep -c "relay=\"$GONE\"" <<<"$scrape")" '^0$'
t_is "anything else is 404" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/nope")" 404

# SIGHUP reopens the log file (what the logrotate file's postrotate sends)
mv "$T/log/brotr.log" "$T/log/brotr.log.1"
kill -HUP "$child"
sleep 0.5
kill -TERM "$child"
wait "$child"
t_is "a --loop service stopped by SIGTERM exits 0" "$?" 0
child=""
t_like "after SIGHUP it writes to a new file at the same path" "$(cat "$T/log/brotr.log" 2>/dev/null)" 'level='
t_like "the rotated file kept what came before" "$(cat "$T/log/brotr.log.1")" 'msg="metrics endpoint listening"'
t_status "the loop's textfile passes promtool check metrics" 0 promtool check metrics <"$T/metrics/brotr_synchronizer.prom"

# --- the listener is loopback unless allowed --------------------------------------------------------
t_status "a non-loopback listen address is refused" 2 run BROTR_METRICS_LISTEN="0.0.0.0:$PORT" -- synchronizer --loop
t_like "naming the key and the way to allow it" "$T_ERR" 'environment BROTR_METRICS_LISTEN.*not a loopback address.*allow_remote'

# --- the rules ------------------------------------------------------------------------------------
t_status "promtool check rules" 0 promtool check rules contrib/prometheus/brotr-rules.yml
t_status "promtool test rules: every alert fires on its series and not on the others" 0 \
	promtool test rules contrib/prometheus/brotr-rules.test.yml
# exported: the families in the files, and every name the sources register (some appear only when needed)
exported=$({ sed -n 's/^# TYPE \(brotr_[a-z_]*\) .*/\1/p' "$T/metrics/"*.prom
	grep -rhoE '"[a-z][a-z0-9_]*_(total|seconds)"' src | tr -d '"' | sed 's/^/brotr_/'; } | sort -u)
read_by_rules=$(grep -o 'brotr_[a-z_]*' contrib/prometheus/brotr-rules.yml | sort -u)
t_is "every series the rules read is exported" "$(comm -13 <(echo "$exported") <(echo "$read_by_rules"))" ""

t_done
