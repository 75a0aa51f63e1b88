#!/usr/bin/env bash
# test_systemd.sh — the systemd units as installed: each passes `systemd-analyze verify`, each service
# scores 2.0 or lower in `systemd-analyze security --offline=yes`, and the limits match the configuration.
#
# systemd-analyze verify needs every Exec binary to exist, so the units are checked in a root made for
# it (--root): the tree `contrib/install` writes into a DESTDIR, plus copies of the host's own units
# (sysinit.target and the like) and of the host programs the units run (/bin/kill).
set -u
cd "$(dirname "$0")/../.."
: "${BUILD:=build}" "${BROTR:=$PWD/$BUILD/brotr}"
source tests/harness/tap.sh

T=$(mktemp -d /tmp/brotr-systemd.XXXXXX)
trap '[ -z "${TEST_KEEP:-}" ] && rm -rf "$T"' EXIT
V=$T/root
units=$V/lib/systemd/system

services=(db-init@ initializer@ monitor@ synchronizer@ priority-synchronizer@ finder@ validator@ tor)
passes=(monitor synchronizer priority-synchronizer finder validator)
t_plan $((1 + ${#services[@]} + ${#passes[@]} + ${#services[@]} + 1 + ${#passes[@]} * 2 + 4 + 1 + 1))

BIN=$BROTR PREFIX=/usr/local DESTDIR=$V UNITDIR=/lib/systemd/system SYSUSERSDIR=/usr/lib/sysusers.d \
	sh contrib/install install 2>"$T/install.err"
t_is "contrib/install writes the units into the DESTDIR" "$(cd "$units" && ls | tr '\n' ' ')" \
	"brotr-.service.d brotr-db-init@.service brotr-finder@.service brotr-finder@.timer brotr-initializer@.service brotr-monitor@.service brotr-monitor@.timer brotr-priority-synchronizer@.service brotr-priority-synchronizer@.timer brotr-synchronizer@.service brotr-synchronizer@.timer brotr-tor.service brotr-validator@.service brotr-validator@.timer "
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

# RuntimeMaxSec is a little above each implementation's pass budget; LimitNOFILE covers its tunnels
# (3 descriptors per tunnel: lws's socket, the helper's end, the upstream; 8 spare slots; 64 more).
minutes() { case $1 in *min) echo "${1%min}" ;; *m) echo "${1%m}" ;; *h) echo $((${1%h} * 60)) ;; esac; }
for impl in bigbrotr lilbrotr; do
	show=$("$BROTR" --config "implementations/$impl/config/brotr.ini" config show)
	budget=$(printf '%s\n' "$show" | sed -n '/^\[synchronizer\]/,/^\[/s/^pass_budget = \([^ ]*\).*/\1/p')
	runtime=$(key brotr-synchronizer@.service RuntimeMaxSec)
	t_like "$impl: RuntimeMaxSec $runtime of the synchronizer is above its pass budget $budget, by at most 30 min" \
		"$(($(minutes "$runtime") - $(minutes "$budget")))" "^([1-9]|[12][0-9]|30)$"
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
	"/usr/bin/brotr monitor /usr/share/brotr/tor/start-tor /var/lib/brotr-tor "

t_done
