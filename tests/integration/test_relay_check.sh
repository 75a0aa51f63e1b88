#!/usr/bin/env bash
# test_relay_check.sh — `brotr relay check` end to end: usage, direct and proxied checks, failure reasons,
# no DNS and loopback-only connections under strace, and a real offline Tor (tor/torrc, tor/start-tor).
set -u
cd "$(dirname "$0")/../.."
: "${BUILD:=build}" "${BROTR:=$PWD/$BUILD/brotr}"
source tests/harness/servers.sh
source tests/harness/tap.sh
own_tmp=${TEST_TMP:+no}
harness_tmp
T=$(mktemp -d "$TEST_TMP/relay-check.XXXXXX")
TOR_PID=""
cleanup() {
	tools_stop
	[ -n "$TOR_PID" ] && kill "$TOR_PID" 2>/dev/null && wait "$TOR_PID" 2>/dev/null
	[ -z "${TEST_KEEP:-}" ] && rm -rf "$T"
	[ -z "$own_tmp" ] && [ -z "${TEST_KEEP:-}" ] && rm -rf "$TEST_TMP"
	return 0
}
trap cleanup EXIT

ONION=brotrfixturexxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxd.onion
mkdir -p "$T/impl/config"
cat >"$T/impl/config/brotr.ini" <<EOF
[network]
allow_local = true
clearnet_connect_timeout = 10s
tor_connect_timeout = 20s
[tor]
socks_proxy =
EOF
check() { t_status "$1" "$2" env BROTR_CONFIG="$T/impl/config/brotr.ini" "${@:3}"; }

printf '{"id":"%064d","pubkey":"%064d","created_at":1700000001,"kind":1,"tags":[],"content":"x","sig":"%0128d"}\n' \
	1 2 0 >"$T/events.jsonl"
printf '{"name":"check \\"me\\"","supported_nips":[1,11]}' >"$T/nip11.json"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" \
	-days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null

tool_start fixture_relay --events "$T/events.jsonl" --nip11 "$T/nip11.json" --tls-port 0 --cert "$T/cert.pem" \
	--key "$T/key.pem" || exit 1
R=$TOOL_PORT RT=$TOOL_TLS_PORT
tool_start fixture_relay --mode auth-required || exit 1
RA=$TOOL_PORT
tool_start socks_logger --log "$T/socks.log" --map relay-a.test=127.0.0.1:$R --map "$ONION=127.0.0.1:$R" || exit 1
S=$TOOL_PORT

# usage
check "no URL is bad usage" 2 "$BROTR" relay check
t_like "and says so" "$T_ERR" "at least one relay URL"
check "an unknown option is bad usage" 2 "$BROTR" relay check --fast ws://x
check "--help" 0 "$BROTR" relay check --help
t_like "help states the exit status" "$T_OUT" "Exit status: 0 when every relay"

# direct (socks_proxy empty), ws and wss
check "direct check of a good relay exits 0" 0 "$BROTR" relay check "ws://127.0.0.1:$R"
t_like "one line: network, open and read RTTs, NIP-11 name" "$T_OUT" \
	"^ws://127\.0\.0\.1:$R network=clearnet open_ms=[0-9]+ read_ms=[0-9]+ nip11_ms=[0-9]+ name=\"check \\\\\"me\\\\\"\"$"
check "wss with a self-signed certificate fails verification" 1 "$BROTR" relay check "wss://localhost:$RT"
t_like "with a TLS reason" "$T_OUT" "failed=open error=tls reason=\"TLS: certificate verification failed: self-signed"
check "allow_insecure accepts it" 0 BROTR_NETWORK_CLEARNET_ALLOW_INSECURE=true "$BROTR" relay check "wss://localhost:$RT"

# through microsocks, with a refused port and an auth-required relay beside a good one: order kept
check "one bad relay makes the exit status 1" 1 BROTR_TOR_SOCKS_PROXY=127.0.0.1:$TEST_SOCKS_PORT "$BROTR" relay check \
	"ws://127.0.0.1:$R" "ws://127.0.0.1:1" "ws://127.0.0.1:$RA"
t_like "the good relay answered" "$(sed -n 1p <<<"$T_OUT")" "^ws://127\.0\.0\.1:$R network=clearnet open_ms="
t_like "the refused one has the SOCKS reason" "$(sed -n 2p <<<"$T_OUT")" \
	"^ws://127\.0\.0\.1:1 .*failed=open error=socks reason=\"SOCKS: connection refused \(0x05\)\""
t_like "auth-required is not readable" "$(sed -n 3p <<<"$T_OUT")" \
	"failed=read error=protocol reason=\"the relay refused the REQ: CLOSED auth-required"
check "a SOCKS proxy that is down" 1 BROTR_TOR_SOCKS_PROXY=127.0.0.1:1 "$BROTR" relay check ws://relay.example
t_like "is named as such" "$T_OUT" "error=proxy reason=\"SOCKS proxy 127\.0\.0\.1:1 unreachable: Connection refused\""
check "lws never takes \$http_proxy" 0 http_proxy=http://127.0.0.1:1 https_proxy=http://127.0.0.1:1 \
	"$BROTR" relay check "ws://127.0.0.1:$R"
check "a name that does not resolve (direct mode)" 1 "$BROTR" relay check ws://nonexistent.invalid
t_like "is a DNS failure" "$T_OUT" \
	"error=(dns|timeout) reason=\"(DNS: nonexistent\.invalid: |timeout: the DNS lookup of nonexistent\.invalid)"
check "an .onion without a proxy fails at once" 1 "$BROTR" relay check "ws://$ONION"
t_like "saying why" "$T_OUT" "network=tor failed=open error=url reason=\"an \.onion relay needs a SOCKS proxy"

# privacy under strace: names only ever reach the SOCKS server, every connect is to loopback
if command -v strace >/dev/null; then
	# (LeakSanitizer cannot run under ptrace: a sanitizer build checks leaks everywhere else)
	check "check through the logging SOCKS server under strace" 0 BROTR_TOR_SOCKS_PROXY=127.0.0.1:$S \
		ASAN_OPTIONS=detect_leaks=0 \
		strace -f -qq -e trace=connect,sendto,sendmsg,openat -o "$T/strace.out" "$BROTR" relay check \
		ws://relay-a.test "ws://$ONION"
	t_like "the .onion relay answered through it" "$T_OUT" "^ws://$ONION network=tor open_ms="
	t_is "no packet to port 53" "$(grep -c 'htons(53)' "$T/strace.out")" 0
	t_is "no resolver configuration read" "$(grep -cE '"/etc/(hosts|resolv.conf|nsswitch.conf|gai.conf)"' "$T/strace.out")" 0
	t_is "every connect is to 127.0.0.1" "$(grep 'connect(' "$T/strace.out" | grep -vc 'inet_addr("127.0.0.1")')" 0
	t_is "both relays reached the SOCKS server by name (ATYP 3), ws and NIP-11 each" \
		"$(grep -cE "^connect atyp=3 host=(relay-a.test|$ONION) port=80 method=2 user=brotr-[0-9a-f]{16} pass=brotr$" "$T/socks.log")" 4
else
	t_fail "strace is not installed"
fi

# a real Tor that cannot build circuits: its only bridge refuses connections
TP=$(free_port)
BROTR_TOR_PORT=$TP tor/start-tor "$T/tor" --SocksTimeout 3 --UseBridges 1 --Bridge 127.0.0.1:1 \
	--Log "notice file $T/tor.log" >/dev/null 2>&1 &
TOR_PID=$!
for _ in $(seq 1 100); do
	grep -q "Opened Socks listener" "$T/tor.log" 2>/dev/null && break
	sleep 0.1
done
t_like "tor/start-tor started Tor with tor/torrc" "$(cat "$T/tor.log" 2>/dev/null)" "Opened Socks listener"
check "offline Tor: nothing answers" 1 BROTR_TOR_SOCKS_PROXY=127.0.0.1:$TP "$BROTR" relay check \
	ws://relay.example.com "ws://$ONION"
t_like "no circuit: Tor's reply 0x06" "$(sed -n 1p <<<"$T_OUT")" \
	"failed=open error=socks reason=\"SOCKS: TTL expired .*\(0x06\)\""
t_like "a malformed .onion: Tor's extended reply 0xF6" "$(sed -n 2p <<<"$T_OUT")" \
	"network=tor failed=open error=socks reason=\"SOCKS: Tor: invalid onion service address \(0xF6\)\""

t_done
