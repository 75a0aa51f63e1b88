#!/usr/bin/env bash
# test_systemd.sh — the systemd units as installed: each passes `systemd-analyze verify`, each service
# scores 2.0 or lower in `systemd-analyze security --offline=yes`, and the limits match the configuration.
#
# The sandbox is then held against what brotr really does: db init, initializer, monitor and
# synchronizer against a fixture relay through a SOCKS5 server, under strace. Every system call must be
# one SystemCallFilter allows, every socket of an allowed family, every address loopback
# (IPAddressAllow=localhost), no mapping writable and executable (MemoryDenyWriteExecute), no /proc
# file outside the process's own (ProcSubset=pid), nothing opened for writing (ProtectSystem=strict:
# nothing is configured to write here).
#
# systemd-analyze verify needs every Exec binary to exist, so the units are checked in a root made for
# it (--root): the tree `contrib/install` writes into a DESTDIR, plus copies of the host's own units
# (sysinit.target and the like) and of the host programs the units run (/bin/kill).
set -u
cd "$(dirname "$0")/../.."
: "${BUILD:=build}" "${BROTR:=$PWD/$BUILD/brotr}"
source tests/harness/tap.sh
source tests/harness/servers.sh
source tests/integration/services_lib.sh
[ -n "${TEST_PGPORT:-}" ] || { echo "not ok - run me through tests/run (make check): I need the harness's PostgreSQL"; exit 1; }

T=$(mktemp -d /tmp/brotr-systemd.XXXXXX)
cleanup() {
	tools_stop
	[ -z "${TEST_KEEP:-}" ] && rm -rf "$T"
	return 0
}
trap cleanup EXIT
V=$T/root
units=$V/lib/systemd/system

services=(db-init@ initializer@ monitor@ synchronizer@ priority-synchronizer@ finder@ validator@ tor)
passes=(monitor synchronizer priority-synchronizer finder validator)
t_plan $((1 + ${#services[@]} + ${#passes[@]} + ${#services[@]} + 1 + ${#passes[@]} * 2 + 8 + 1 + 1 + 8 + 3 + 1))

BIN=$BROTR PREFIX=/usr/local DESTDIR=$V UNITDIR=/lib/systemd/system SYSUSERSDIR=/usr/lib/sysusers.d \
	sh contrib/install install 2>"$T/install.err"
t_is "contrib/install writes the units, and each implementation's pass-budget drop-ins, into the DESTDIR" \
	"$(cd "$units" && ls | LC_ALL=C sort | tr '\n' ' ')" \
	"brotr-.service.d brotr-db-init@.service brotr-finder@.service brotr-finder@.timer brotr-finder@bigbrotr.service.d brotr-finder@lilbrotr.service.d brotr-initializer@.service brotr-monitor@.service brotr-monitor@.timer brotr-priority-synchronizer@.service brotr-priority-synchronizer@.timer brotr-priority-synchronizer@bigbrotr.service.d brotr-priority-synchronizer@lilbrotr.service.d brotr-synchronizer@.service brotr-synchronizer@.timer brotr-synchronizer@bigbrotr.service.d brotr-synchronizer@lilbrotr.service.d brotr-tor.service brotr-validator@.service brotr-validator@.timer "
systemd-sysusers --root="$V" >/dev/null 2>&1
t_like "the sysusers.d file makes the brotr system user" "$(cat "$V/etc/passwd" 2>&1)" \
	"^brotr:x:[0-9]+:[0-9]+:brotr Nostr archiver:/var/lib/brotr:/usr/sbin/nologin$"
mkdir -p "$V/usr/lib/systemd" "$V/usr/bin"
cp -r /lib/systemd/system "$V/usr/lib/systemd/"
cp /bin/kill "$V/usr/bin/kill"
[ -e "$V/bin" ] || ln -s usr/bin "$V/bin"

# An instance name for a template, the name itself otherwise.
instance() { case $1 in *@) echo "brotr-$1bigbrotr" ;; *) echo "brotr-$1" ;; esac; }

verify() { systemd-analyze verify --root="$V" --man=no "$1" 2>&1; }
for s in "${services[@]}"; do
	u=$(instance "$s").service
	out=$(verify "$u")
	t_is "systemd-analyze verify $u: no error, no warning" "$? $out" "0 "
done
for p in "${passes[@]}"; do
	u=brotr-$p@bigbrotr.timer
	out=$(verify "$u")
	t_is "systemd-analyze verify $u: no error, no warning" "$? $out" "0 "
done

scores=""
for s in "${services[@]}"; do
	u=$(instance "$s").service
	score=$(systemd-analyze security --offline=yes --root="$V" "$u" 2>&1 |
		sed -n 's/^→ Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
	scores="$scores $u=$score"
	t_like "systemd-analyze security $u scores 2.0 or lower (got ${score:-nothing})" \
		"$(awk -v s="${score:-99}" 'BEGIN { print (s <= 2.0) ? "ok" : "over" }')" "^ok$"
done
echo "# exposure:$scores"

# The verify step can fail: a unit whose program is missing is an error.
sed 's|^ExecStart=.*|ExecStart=/usr/local/bin/brotr-missing monitor|' "$units/brotr-monitor@.service" \
	>"$units/brotr-broken@.service"
out=$(verify brotr-broken@bigbrotr.service)
t_like "and it fails a unit whose program is missing" "$out" "brotr-missing is not executable"
rm "$units/brotr-broken@.service"

key() { sed -n "s/^$2=//p" "$units/$1" | tail -n 1; }
for p in "${passes[@]}"; do
	u=brotr-$p@.service
	t_is "$u: a pass (Type=exec, so RuntimeMaxSec applies), loopback only, its own limits" \
		"$(key "$u" Type) $(key "$u" IPAddressDeny) $(key "$u" IPAddressAllow) $(key "$u" User) $(key "$u" ExecStart)" \
		"exec any localhost brotr /usr/local/bin/brotr $p"
	t_is "brotr-$p@.timer: persistent, with a randomised delay" \
		"$(key "brotr-$p@.timer" Persistent) $(key "brotr-$p@.timer" RandomizedDelaySec | grep -c '^[0-9]')" "true 1"
done

# RuntimeMaxSec is a little above each implementation's pass budget (a drop-in per instance, written
# by make install from that implementation's configuration); LimitNOFILE covers its tunnels
# (3 descriptors per tunnel: lws's socket, the helper's end, the upstream; 8 spare slots; 64 more).
minutes() { case $1 in *min) echo "${1%min}" ;; *m) echo "${1%m}" ;; *h) echo $((${1%h} * 60)) ;; esac; }
for impl in bigbrotr lilbrotr; do
	show=$("$BROTR" --config "implementations/$impl/config/brotr.ini" config show)
	for svc in synchronizer priority_synchronizer finder; do
		budget=$(printf '%s\n' "$show" | sed -n "/^\[$svc\]/,/^\[/s/^pass_budget = \([^ ]*\).*/\1/p")
		runtime=$(key "brotr-${svc//_/-}@$impl.service.d/20-pass-budget.conf" RuntimeMaxSec)
		t_is "$impl: RuntimeMaxSec ${runtime:-(none)} of the $svc is its pass budget $budget plus 5 min" \
			"$(($(minutes "${runtime:-0m}") - $(minutes "$budget")))" "5"
	done
	tunnels=$(printf '%s\n' "$show" | sed -n 's/^max_tunnels = \([0-9]*\).*/\1/p')
	t_like "$impl: LimitNOFILE covers max_tunnels $tunnels" \
		"$(awk -v n="$(key brotr-synchronizer@.service LimitNOFILE)" -v t="$tunnels" \
			'BEGIN { print (n >= 3 * (t + 8) + 64) ? "ok" : "short" }')" "^ok$"
done

t_is "the shared sandbox has the issue's settings" \
	"$(grep -cxE 'ProtectSystem=strict|PrivateTmp=yes|NoNewPrivileges=yes|CapabilityBoundingSet=|RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX|SystemCallFilter=@system-service' \
		"$units/brotr-.service.d/10-sandbox.conf")" "6"

# Installed under another prefix, the units run that prefix's binary.
BIN=$BROTR PREFIX=/usr DESTDIR=$T/usr-root UNITDIR=/lib/systemd/system SYSUSERSDIR=/usr/lib/sysusers.d \
	sh contrib/install install 2>/dev/null
t_is "PREFIX=/usr: ExecStart=/usr/bin/brotr, start-tor from /usr/share/brotr" \
	"$(sed -n 's/^ExecStart=//p' "$T/usr-root/lib/systemd/system/brotr-monitor@.service" \
		"$T/usr-root/lib/systemd/system/brotr-tor.service" | tr '\n' ' ')" \
	"/usr/bin/brotr monitor /usr/share/brotr/tor/start-tor /var/lib/brotr-tor --MaxMemInQueues \"512 MB\" "

# ---- the sandbox against brotr's own system calls
# syscalls GROUP: the system calls of a SystemCallFilter group, nested groups expanded.
syscalls() {
	systemd-analyze syscall-filter "$1" </dev/null | sed -n '2,$s/^    \([@a-z0-9_-]*\)$/\1/p' | while read -r c; do
		case $c in @*) syscalls "$c" ;; *) echo "$c" ;; esac
	done
}
allowed=$(comm -23 <(syscalls @system-service | sort -u) <(syscalls @privileged | sort -u))
"$BUILD/tools/event_gen" --prefix sandbox '1700000000..1700100000:200' >"$T/events.jsonl"
tool_start fixture_relay --events "$T/events.jsonl" || exit 1
R=ws://127.0.0.1:$TOOL_PORT
tool_start socks_logger --log "$T/socks.log" || exit 1
impl_make "$T/impl" "[network]
allow_local = true
[tor]
socks_proxy = 127.0.0.1:$TOOL_PORT"
echo "$R" >"$T/impl/data/seed_relays.txt"
DB=sandbox_$$
# Under ptrace a sanitizer build cannot run (LeakSanitizer refuses), and its runtime's own calls are
# not brotr's: the sandbox is checked against the plain build only.
if [[ $BROTR == */san-* ]]; then
	for _ in $(seq 1 8); do t_pass "brotr under strace # SKIP sanitizer build"; done
else
	rcs=""
	for c in "db init" initializer monitor synchronizer; do
		printf '#!/bin/sh\nexec strace -f -qq -o "%s" "%s" "$@"\n' "$T/strace.${c// /_}" "$BROTR" >"$T/traced"
		chmod 755 "$T/traced"
		# shellcheck disable=SC2086
		BROTR=$T/traced svc_run "$T/impl" "$DB" BROTR_SYNCHRONIZER_PASS_BUDGET=60s -- $c >/dev/null 2>"$T/${c// /_}.err"
		rcs="$rcs $?"
	done
	t_is "db init, initializer, monitor and synchronizer complete under strace" "$rcs" " 0 0 0 0"
	t_is "and archived the relay's 200 events" \
		"$(db_q "$DB" "SELECT count(*) FROM events e JOIN events_relays r ON r.event_id = e.id WHERE e.kind = 1")" "200"
	calls() { cat "$T"/strace.* | sed -En 's/^[0-9]+ +([a-z0-9_]+)\(.*/\1/p' | sort -u; }
	t_is "every system call is one SystemCallFilter=@system-service ~@privileged allows" \
		"$(comm -23 <(calls) <(printf '%s\n' "$allowed" | sort -u) | tr '\n' ' ')" ""
	t_is "every socket is AF_INET, AF_INET6 or AF_UNIX (RestrictAddressFamilies)" \
		"$(cat "$T"/strace.* | sed -En 's/.* socket\(([A-Z0-9_]+),.*/\1/p' | sort -u | grep -vxE 'AF_INET|AF_INET6|AF_UNIX' | tr '\n' ' ')" ""
	connects=$(cat "$T"/strace.* | grep -E ' connect\(.*AF_INET6?')
	t_is "every connect() is to a loopback address (IPAddressAllow=localhost), and there were some" \
		"$([ -n "$connects" ] && echo some) $(printf '%s\n' "$connects" | grep -vE 'inet_addr\("127\.|inet_pton\(AF_INET6, "::1"' | head -n 3)" "some "
	t_is "no mapping is both writable and executable (MemoryDenyWriteExecute)" \
		"$(cat "$T"/strace.* | grep -E ' (mmap|mprotect|pkey_mprotect)\(' | grep -E 'PROT_WRITE\|PROT_EXEC|PROT_EXEC\|PROT_WRITE|PROT_READ\|PROT_WRITE\|PROT_EXEC' | head -n 3)" ""
	# (glibc's malloc reads /proc/sys/vm/overcommit_memory and does without it when it cannot.)
	t_is "no /proc file but the process's own (ProcSubset=pid)" \
		"$(cat "$T"/strace.* | grep -oE '"/proc/[^"]*"' | grep -vE '^"/proc/(self|thread-self|[0-9]+)(/|")' |
			grep -vxF '"/proc/sys/vm/overcommit_memory"' | sort -u | head -n 3 | tr '\n' ' ')" ""
	t_is "nothing opened for writing (ProtectSystem=strict)" \
		"$(cat "$T"/strace.* | grep -E ' open(at)?\(' | grep -E 'O_WRONLY|O_RDWR|O_CREAT' | grep -v ' = -1 ' | grep -vE '"/dev/(null|tty)"' | head -n 3)" ""
fi

# brotr's Tor under the same sandbox: offline (a bridge that does not answer, NOTES.md), traced from
# start until its SOCKS port is open and it has tried the bridge, then stopped.
port=$(free_port)
BROTR_TOR_PORT=$port strace -f -qq -o "$T/strace-tor" tor/start-tor "$T/tor" --UseBridges 1 --Bridge 127.0.0.1:1 \
	--MaxMemInQueues "512 MB" --PidFile "$T/tor.pid" >"$T/tor.log" 2>&1 &
strace_pid=$!
for _ in $(seq 1 600); do grep -q 'connections have failed\|Bootstrapped 5%' "$T/tor.log" && break; sleep 0.1; done
# tor itself, not strace (which would detach and leave it running); strace ends with it.
kill "$(cat "$T/tor.pid")" 2>/dev/null
wait "$strace_pid"
t_like "tor ran and opened its SOCKS port" "$(cat "$T/tor.log")" "Opened Socks listener connection .* on 127\.0\.0\.1:$port"
t_is "tor: every system call is one the filter allows" \
	"$(comm -23 <(sed -En 's/^[0-9]+ +([a-z0-9_]+)\(.*/\1/p' "$T/strace-tor" | sort -u) <(printf '%s\n' "$allowed" | sort -u) | tr '\n' ' ')" ""
# With MaxMemInQueues given, tor does not read /proc/meminfo (hidden by ProcSubset=pid) at all.
t_is "tor: sockets of the allowed families, no W+X mapping, no /proc file but its own and filesystems (libselinux)" \
	"$(sed -En 's/.* socket\(([A-Z0-9_]+),.*/\1/p' "$T/strace-tor" | sort -u | grep -vxE 'AF_INET|AF_INET6|AF_UNIX')$(grep -cE 'PROT_WRITE\|PROT_EXEC' "$T/strace-tor") $(grep -oE '"/proc/[^"]*"' "$T/strace-tor" | grep -vE '^"/proc/(self|thread-self|[0-9]+)(/|")' | sort -u | tr '\n' ' ')" \
	'0 "/proc/filesystems" '

t_done
