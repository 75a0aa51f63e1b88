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

# v3 names with a valid checksum: ONION's key is not an ed25519 point (Tor refuses it, brotr cannot tell);
# ONION_KEY's is a real public key. BAD_ONION has a wrong checksum.
ONION=brotrfixturexxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxiqdyd.onion
ONION_KEY=jwq6sg5iauun2nskxjfgc3li4i43ahbq2rxfuldxpngtu7lu2caov7ad.onion
BAD_ONION=brotrfixturexxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxjqdyd.onion
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
printf '["not", "an object"]' >"$T/nip11-array.json"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" \
	-days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null

tool_start fixture_relay --events "$T/events.jsonl" --nip11 "$T/nip11.json" --tls-port 0 --cert "$T/cert.pem" \
	--key "$T/key.pem" || exit 1
R=$TOOL_PORT RT=$TOOL_TLS_PORT
tool_start fixture_relay --mode auth-required || exit 1
RA=$TOOL_PORT
tool_start fixture_relay --events "$T/events.jsonl" --nip11 "$T/nip11-array.json" || exit 1
RN=$TOOL_PORT
tool_start fixture_relay --mode auth-silent || exit 1
RS=$TOOL_PORT
printf '{"name":"\\u001b[31mred\\u001b]0;title\\u0007 \\u009b2J \\u202eabc","supported_nips":[1]}' >"$T/nip11-esc.json"
tool_start fixture_relay --mode escapes --nip11 "$T/nip11-esc.json" || exit 1
RE=$TOOL_PORT
tool_start fixture_relay --mode dribble --dribble-ms 50 --events "$T/events.jsonl" || exit 1
RD=$TOOL_PORT
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
t_like "direct mode says so: DNS is local" "$T_ERR" \
	"\[tor\] socks_proxy is empty: every relay connection goes out directly .*resolved by the local DNS resolver"
check "wss with a self-signed certificate fails verification" 1 "$BROTR" relay check "wss://localhost:$RT"
t_like "with a TLS reason" "$T_OUT" "failed=open error=tls reason=\"TLS: certificate verification failed: self-signed"
check "allow_insecure accepts it" 0 BROTR_NETWORK_CLEARNET_ALLOW_INSECURE=true "$BROTR" relay check "wss://localhost:$RT"

# arguments are normalised by src/nostr's relay_url_parse, which gives the network and every rejection's reason
check "rejected URLs beside a good one: exit 1" 1 "$BROTR" relay check http://relay.example "ws://127.0.0.1:$R" \
	"ws://$BAD_ONION" "ws://a b.example" "ws://relay.example/../x" "ws://abcdefghijklmnop.onion"
t_is "one line per argument, in order" "$(wc -l <<<"$T_OUT")" 6
t_is "a scheme that is not ws or wss" "$(sed -n 1p <<<"$T_OUT")" \
	'http://relay.example failed=url error=url reason="scheme must be ws or wss"'
t_like "the good relay still answered" "$(sed -n 2p <<<"$T_OUT")" "^ws://127\.0\.0\.1:$R network=clearnet open_ms="
t_is "an .onion with a wrong checksum" "$(sed -n 3p <<<"$T_OUT")" \
	"ws://$BAD_ONION failed=url error=url reason=\"onion address checksum does not match\""
t_is "a space in the argument is shown as ? (the line stays one line)" "$(sed -n 4p <<<"$T_OUT")" \
	'ws://a?b.example failed=url error=url reason="URL contains spaces or control characters"'
t_like "a dot segment" "$(sed -n 5p <<<"$T_OUT")" 'reason="\\"\.\\" or \\"\.\.\\" segment in path"$'
t_like "a v2 onion" "$(sed -n 6p <<<"$T_OUT")" 'reason="v2 onion address \(no longer supported'
check "allow_local off: a loopback relay is refused before any connection" 1 BROTR_NETWORK_ALLOW_LOCAL=false \
	"$BROTR" relay check "ws://127.0.0.1:$R" ws://localhost
t_is "with the normaliser's reason" "$(sed -n 1p <<<"$T_OUT")" \
	"ws://127.0.0.1:$R failed=url error=url reason=\"local, private or reserved address (set [network] allow_local to accept)\""
t_is "a local name too" "$(sed -n 2p <<<"$T_OUT")" \
	'ws://localhost failed=url error=url reason="local host name (set [network] allow_local to accept)"'
check "a NIP-11 document that is not an object" 0 "$BROTR" relay check "ws://127.0.0.1:$RN/"
t_like "is reported as such, read by src/nostr's nip11_parse (the relay still answered)" "$T_OUT" \
	"^ws://127\.0\.0\.1:$RN network=clearnet open_ms=[0-9]+ read_ms=[0-9]+ nip11_ms=[0-9]+ nip11_error=document nip11_reason=\"wrong type: a relay information document is a JSON object\"$"
check "a relay that asks for AUTH, sends a NOTICE and never answers the REQ" 1 \
	BROTR_NETWORK_CLEARNET_RESPONSE_TIMEOUT=1s "$BROTR" relay check "ws://127.0.0.1:$RS"
t_like "times out after the response timeout, and the reason says what it did say" "$T_OUT" \
	'failed=read error=timeout reason="idle timeout: nothing received for 1s; the relay asked for NIP-42 AUTH; last NOTICE: \\"sign in\\" first"'

# what a relay sends reaches the terminal escaped: no escape sequence, C1 control, bidi override or bad UTF-8
check "a relay sending escape sequences" 1 "$BROTR" relay check "ws://127.0.0.1:$RE"
t_is "no ESC, BEL or raw C1 byte is printed" "$(LC_ALL=C grep -c $'[\x1b\x07\x9b]' <<<"$T_OUT")" 0
t_is "the output is valid UTF-8" "$(iconv -f UTF-8 -t UTF-8 <<<"$T_OUT" >/dev/null 2>&1 && echo yes)" yes
t_like "the NOTICE, escaped" "$T_OUT" 'last NOTICE: \\x1B\[2J\\x1B\]0;owned\\x07 \\u009B31m red \\u202Egnp\.exe'
t_like "the close reason's raw bytes, escaped" "$T_OUT" \
	'relay closed the connection \(code 4000: \\x1B\[31mbye\\x1B\[0m \\x9B \\xC3\('
t_like "the NIP-11 name, escaped" "$T_OUT" 'name="\\x1B\[31mred\\x1B\]0;title\\x07 \\u009B2J \\u202Eabc"'

# a relay dribbling its answer a byte at a time (about 10 s for the event) is cut after one response
# timeout: a byte never re-arms the deadline; the good relay in the same run answers
check "a dribbling relay beside a good one" 1 BROTR_NETWORK_CLEARNET_RESPONSE_TIMEOUT=1s "$BROTR" relay check \
	"ws://127.0.0.1:$RD" "ws://127.0.0.1:$R"
t_like "fails on the per-message deadline, inside its first message" "$(sed -n 1p <<<"$T_OUT")" \
	'failed=read error=timeout reason="timeout: no complete response within 1s of a request \([0-9]{1,2} bytes of a message so far\)'
t_like "the good relay answered" "$(sed -n 2p <<<"$T_OUT")" "^ws://127\.0\.0\.1:$R network=clearnet open_ms=[0-9]+ read_ms="

# the process: descriptors for the configured limits, or a clear refusal; no core dumps
check "a hard descriptor limit below what [network] needs is refused" 2 bash -c \
	"ulimit -Sn 64; ulimit -Hn 64; exec \"\$0\" relay check ws://127.0.0.1:$R" "$BROTR"
t_like "naming the keys and the limit" "$T_ERR" \
	"\[network\] max_tunnels = [0-9]+, clearnet_max_connections = [0-9]+ and tor_max_connections = [0-9]+ need [0-9]+ file descriptors, but their hard limit .* is 64"
check "a soft limit below it is raised" 0 bash -c "ulimit -Sn 64; exec \"\$0\" relay check ws://127.0.0.1:$R" "$BROTR"
BROTR_CONFIG="$T/impl/config/brotr.ini" BROTR_NETWORK_CLEARNET_RESPONSE_TIMEOUT=3s \
	"$BROTR" relay check "ws://127.0.0.1:$RS" >/dev/null 2>&1 &
CP=$!
for _ in $(seq 1 100); do # until the helper thread runs: the set-up is done by then
	[ "$(awk '/^Threads:/ {print $2}' "/proc/$CP/status" 2>/dev/null || echo 0)" -ge 2 ] && break
	sleep 0.05
done
t_like "a running check has core dumps off" "$(cat "/proc/$CP/limits" 2>/dev/null)" "Max core file size +0 +0 "
t_like "and its soft descriptor limit raised as needed" "$(awk '/^Max open files/ {print $4}' "/proc/$CP/limits")" '^[0-9]+$'
wait "$CP"

# through microsocks, with a refused port and an auth-required relay beside a good one: order kept
check "one bad relay makes the exit status 1" 1 BROTR_TOR_SOCKS_PROXY=127.0.0.1:$TEST_SOCKS_PORT "$BROTR" relay check \
	"ws://127.0.0.1:$R" "ws://127.0.0.1:1" "ws://127.0.0.1:$RA"
t_unlike "with a proxy, no direct-mode warning" "$T_ERR" "socks_proxy is empty"
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
	"error=(dns|timeout) reason=\"(DNS: |timeout: the DNS lookup took)"
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
	check "an upper-case URL with the default port, through the logging SOCKS server" 0 \
		BROTR_TOR_SOCKS_PROXY=127.0.0.1:$S "$BROTR" relay check " WS://Relay-A.TEST:80/ "
	t_like "is shown and reached normalised" "$T_OUT" "^ws://relay-a\.test network=clearnet open_ms=[0-9]+ read_ms="
	t_is "no packet to port 53" "$(grep -c 'htons(53)' "$T/strace.out")" 0
	t_is "no resolver configuration read" "$(grep -cE '"/etc/(hosts|resolv.conf|nsswitch.conf|gai.conf)"' "$T/strace.out")" 0
	t_is "every connect is to 127.0.0.1" "$(grep 'connect(' "$T/strace.out" | grep -vc 'inet_addr("127.0.0.1")')" 0
	t_is "both relays reached the SOCKS server by name (ATYP 3), ws and NIP-11 each" \
		"$(grep -cE "^connect atyp=3 host=(relay-a.test|$ONION) port=80 method=2 user=brotr-[0-9a-f]{16} pass=brotr$" "$T/socks.log")" 6
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
	ws://relay.example.com "ws://$ONION" "ws://$ONION_KEY"
t_like "no circuit: Tor's reply 0x06" "$(sed -n 1p <<<"$T_OUT")" \
	"failed=open error=socks reason=\"SOCKS: TTL expired .*\(0x06\)\""
t_like "an .onion whose key is not an ed25519 point: Tor's extended reply 0xF6" "$(sed -n 2p <<<"$T_OUT")" \
	"network=tor failed=open error=socks reason=\"SOCKS: Tor: invalid onion service address \(0xF6\)\""
t_like "a real v3 .onion: no circuit either (0x06)" "$(sed -n 3p <<<"$T_OUT")" \
	"^ws://$ONION_KEY network=tor failed=open error=socks reason=\"SOCKS: TTL expired .*\(0x06\)\""

t_done
