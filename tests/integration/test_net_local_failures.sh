#!/usr/bin/env bash
# test_net_local_failures.sh — failures of this host (the SOCKS proxy down, the helper full) are never stored as
# a relay's: the monitor skips the relay, says why, and stores the snapshot once the cause is gone.
set -u
cd "$(dirname "$0")/../.."
: "${BUILD:=build}" "${BROTR:=$PWD/$BUILD/brotr}"
source tests/harness/servers.sh
source tests/harness/tap.sh
source tests/integration/services_lib.sh
[ -n "${TEST_PGPORT:-}" ] || { echo "not ok - run me through tests/run (make check): I need the harness's PostgreSQL"; exit 1; }
T=$(mktemp -d "$TEST_TMP/local-failures.XXXXXX")
cleanup() {
	tools_stop
	[ -z "${TEST_KEEP:-}" ] && rm -rf "$T"
	return 0
}
trap cleanup EXIT

printf '{"id":"%064d","pubkey":"%064d","created_at":1700000001,"kind":1,"tags":[],"content":"x","sig":"%0128d"}\n' \
	1 2 0 >"$T/events.jsonl"
printf '{"name":"fixture","supported_nips":[1,11]}' >"$T/nip11.json"
tool_start fixture_relay --events "$T/events.jsonl" --nip11 "$T/nip11.json" || exit 1
U_GOOD=ws://127.0.0.1:$TOOL_PORT
DEAD=$(free_port)

DB=local_$$
impl_make "$T/impl" "[network]
allow_local = true
clearnet_response_timeout = 3s
[tor]
socks_proxy ="
mkdir -p "$T/impl/config/services"
printf '[monitor]\nwrite_kind = 20166\n' >"$T/impl/config/services/monitor.ini"
printf '%s\n' "$U_GOOD" >"$T/impl/data/seed_relays.txt"
q() { psql_admin -d "$DB" -Atc "$1"; }

t_status "db init" 0 svc_run "$T/impl" "$DB" db init
t_status "initializer" 0 svc_run "$T/impl" "$DB" initializer

# the SOCKS proxy (ours) is down: every relay fails the same way, and none of it is the relay's doing
t_status "a monitor pass with the SOCKS proxy down" 0 svc_run "$T/impl" "$DB" BROTR_TOR_SOCKS_PROXY=127.0.0.1:$DEAD -- monitor
t_like "skips the relay, saying why" "$T_ERR" \
	"msg=\"relay not checked\" relay=\"?$U_GOOD\"? reason=\"SOCKS proxy 127\.0\.0\.1:$DEAD unreachable"
t_like "and counts it as skipped" "$T_ERR" "msg=\"monitor pass summary\" checked=0 .*skipped=1"
t_is "no snapshot is stored against the relay" "$(q 'SELECT count(*) FROM relay_metadata')" 0

t_status "the next pass, direct" 0 svc_run "$T/impl" "$DB" -- monitor
t_like "warns that DNS is local" "$T_ERR" "\[tor\] socks_proxy is empty"
t_is "stores the relay's snapshot" "$(q "SELECT count(*) FROM relay_metadata WHERE relay_url = '$U_GOOD'")" 1
t_is "which is a success" "$(q "SELECT concat_ws(',', openable::text, readable::text) FROM relay_metadata_latest WHERE relay_url = '$U_GOOD'")" \
	"true,true"

t_done
