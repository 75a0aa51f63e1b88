#!/usr/bin/env bash
# test_logrotate.sh — contrib/logrotate/brotr passes `logrotate -d`; the same rules, pointed at a
# temporary directory and signalling the test's service, rotate a --loop service's log file twice:
# the service reopens its file on SIGHUP, so nothing is written to the rotated one afterwards.
set -u
cd "$(dirname "$0")/../.."
: "${BUILD:=build}" "${BROTR:=$PWD/$BUILD/brotr}"
source tests/harness/servers.sh
source tests/harness/tap.sh
source tests/integration/services_lib.sh
[ -n "${TEST_PGPORT:-}" ] || { echo "not ok - run me through tests/run (make check): I need the harness's PostgreSQL"; exit 1; }
t_plan 11
T=$(mktemp -d "$TEST_TMP/logrotate.XXXXXX")
child=""
cleanup() {
	[ -n "$child" ] && kill "$child" 2>/dev/null && wait "$child"
	[ -z "${TEST_KEEP:-}" ] && rm -rf "$T"
	return 0
}
trap cleanup EXIT

t_status "logrotate -d accepts contrib/logrotate/brotr" 0 logrotate -d contrib/logrotate/brotr
t_like "it rotates brotr's log directory" "$T_OUT$T_ERR" 'rotating pattern: /var/log/brotr/\*\.log /var/log/brotr/\*/\*\.log +weekly \(8 rotations\)'
t_unlike "without an error" "$T_OUT$T_ERR" 'error:'

DB=logrotate_$$
impl_make "$T/impl"
mkdir -p "$T/log"
t_status "db init" 0 svc_run "$T/impl" "$DB" -- db init
svc_start "$T/impl" "$DB" BROTR_LOG_FILE="$T/log/sync.log" -- synchronizer --loop &
child=$!
for _ in $(seq 1 600); do grep -q 'next pass scheduled' "$T/log/sync.log" 2>/dev/null && break; sleep 0.1; done

# the same rules, for the test's directory and service (the systemctl line and its continuation)
sed -e "s|/var/log/brotr/|$T/log/|" -e "/systemctl kill/,/|| true/c\\		kill -HUP $child 2>/dev/null || true" \
	contrib/logrotate/brotr >"$T/brotr.conf"
t_status "a forced rotation with those rules" 0 logrotate -f -s "$T/state" "$T/brotr.conf"
t_like "the file before it is kept as .1" "$(cat "$T/log/sync.log.1" 2>/dev/null)" 'msg="pass started"'
kill -TERM "$child"
wait "$child"
t_is "the service stops" "$?" 0
child=""
t_like "after SIGHUP it wrote to a new file at the path" "$(cat "$T/log/sync.log" 2>/dev/null)" 'msg="stopped on request"'
t_unlike "and nothing more to the rotated one" "$(cat "$T/log/sync.log.1")" 'stopped on request'
t_status "a second rotation" 0 logrotate -f -s "$T/state" "$T/brotr.conf"
t_is "compresses the older file, keeps the newer as .1" \
	"$(gzip -dc "$T/log/sync.log.2.gz" 2>/dev/null | grep -c 'msg="pass started"') $(grep -c 'stopped on request' "$T/log/sync.log.1")" "1 1"

t_done
