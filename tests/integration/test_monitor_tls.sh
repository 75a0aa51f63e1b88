#!/usr/bin/env bash
# test_monitor_tls.sh — the TLS facts the monitor stores for wss relays: a certificate from a private CA
# ([network] ca_file) reached by name through the SOCKS server, the same CA's expired certificate, a
# self-signed one, and a ws relay that has none; content-addressed rows shared across passes, the
# relay_tls_latest view, the metrics, the verdict kept when allow_insecure lets the connection through,
# and an unreadable ca_file refused with its name.
set -u
cd "$(dirname "$0")/../.."
: "${BUILD:=build}" "${BROTR:=$PWD/$BUILD/brotr}"
source tests/harness/servers.sh
source tests/harness/tap.sh
source tests/integration/services_lib.sh
[ -n "${TEST_PGPORT:-}" ] || { echo "not ok - run me through tests/run (make check): I need the harness's PostgreSQL"; exit 1; }
T=$(mktemp -d "$TEST_TMP/monitor_tls.XXXXXX")
trap 'tools_stop; [ -z "${TEST_KEEP:-}" ] && rm -rf "$T"' EXIT
t_plan 34

# ---- a private CA, its certificates for relay.test (400 days) and expired.test (one day of 2020), and a
# self-signed one for 127.0.0.1
(
	set -e
	cd "$T"
	ec() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "$@" 2>/dev/null; }
	ec -x509 -keyout ca.key -out ca.pem -days 400 -subj /CN=brotr-test-ca
	ec -x509 -keyout self.key -out self.pem -days 400 -subj /CN=self -addext subjectAltName=IP:127.0.0.1
	ec -keyout good.key -out good.csr -subj /CN=relay.test
	ec -keyout old.key -out old.csr -subj /CN=expired.test
	printf '[ca]\ndefault_ca=c\n[c]\ndatabase=index.txt\nnew_certs_dir=.\nserial=serial\ndefault_md=sha256\n'`
		`'policy=p\n[p]\ncommonName=supplied\n' >ca.cnf
	: >index.txt
	echo 01 >serial
	printf 'subjectAltName=DNS:relay.test\n' >good.ext
	printf 'subjectAltName=DNS:expired.test\n' >old.ext
	sign() { openssl ca -batch -notext -config ca.cnf -cert ca.pem -keyfile ca.key "$@" 2>/dev/null; }
	sign -in good.csr -out good.pem -days 400 -extfile good.ext
	sign -in old.csr -out old.pem -startdate 20200101000000Z -enddate 20200102000000Z -extfile old.ext
) || { t_fail "test certificates" "openssl failed"; exit 1; }
fingerprint() { openssl x509 -noout -fingerprint -sha256 -in "$T/$1.pem" | sed 's/^[^=]*=//'; }

printf '{"id":"%064d","pubkey":"%064d","created_at":1700000001,"kind":1,"tags":[],"content":"x","sig":"%0128d"}\n' \
	1 2 0 >"$T/events.jsonl"
printf '{"name":"tls fixture"}' >"$T/nip11.json"
relay() { tool_start fixture_relay --events "$T/events.jsonl" --nip11 "$T/nip11.json" --tls-port 0 "$@" || exit 1; }
relay --cert "$T/good.pem" --key "$T/good.key"
GOOD=$TOOL_TLS_PORT
relay --cert "$T/old.pem" --key "$T/old.key"
OLD=$TOOL_TLS_PORT
relay --cert "$T/self.pem" --key "$T/self.key"
SELF=$TOOL_TLS_PORT PLAIN=$TOOL_PORT
tool_start socks_logger --log "$T/socks.log" --map "relay.test=127.0.0.1:$GOOD" --map "expired.test=127.0.0.1:$OLD" ||
	exit 1
S=$TOOL_PORT

U_GOOD=wss://relay.test U_OLD=wss://expired.test U_SELF=wss://127.0.0.1:$SELF U_WS=ws://127.0.0.1:$PLAIN
impl_make "$T/impl" "[network]
allow_local = true
ca_file = $T/ca.pem
clearnet_connect_timeout = 5s
clearnet_upgrade_timeout = 3s
clearnet_response_timeout = 3s
[tor]
socks_proxy = 127.0.0.1:$S"
mkdir -p "$T/impl/config/services" "$T/metrics"
printf '[monitor]\nwrite_test = false\nnip77_test = false\n' >"$T/impl/config/services/monitor.ini"
printf '%s\n' "$U_GOOD" "$U_OLD" "$U_SELF" "$U_WS" >"$T/impl/data/seed_relays.txt"
DB=montls_$$
q() { db_q "$DB" "$1"; }
tls() { q "SELECT $2 FROM relay_tls_latest WHERE relay_url = '$1'"; }
latest() { q "SELECT $2 FROM relay_metadata_latest WHERE relay_url = '$1'"; }

t_status "db init" 0 svc_run "$T/impl" "$DB" db init
t_status "initializer" 0 svc_run "$T/impl" "$DB" initializer

# ---- the first pass
t_status "monitor pass" 0 svc_run "$T/impl" "$DB" BROTR_METRICS_DIR="$T/metrics" -- monitor
t_like "the summary counts the certificates" "$T_ERR" "tls=3 tls_unverified=2 tls_expiring=1 tls_new=3"
t_like "the expired one is logged with its days left" "$T_ERR" \
	"msg=\"relay certificate expiring\" relay=wss://expired.test days_left=-[0-9]+ not_after=1577923200"
t_is "CA-signed relay.test: opened and read" "$(latest "$U_GOOD" "connection_ok::text || ',' || readable::text")" \
	"true,true"
t_is "its certificate verified, no reason" "$(tls "$U_GOOD" "verified::text || ',' || coalesce(verify_error, 'none')")" \
	"true,none"
t_is "its subject, issuer and names" "$(tls "$U_GOOD" "subject || ' ' || issuer || ' ' || sans::text")" \
	"CN=relay.test CN=brotr-test-ca {DNS:relay.test}"
t_is "its fingerprint, as openssl prints it" "$(tls "$U_GOOD" fingerprint)" "$(fingerprint good)"
t_is "the protocol agreed" "$(tls "$U_GOOD" version)" "TLSv1.3"
t_like "and the cipher" "$(tls "$U_GOOD" cipher)" "^TLS_[A-Z0-9_]+$"
t_is "its validity: 400 days, 399 left" "$(tls "$U_GOOD" "(not_after - not_before) / 86400 || ',' || days_left")" \
	"400,399"
t_is "expired.test: refused (TLS)" "$(latest "$U_OLD" "connection_ok::text || ',' || (nip66_extra ->> 'open_error')")" \
	"false,tls"
t_like "its facts say why" "$(tls "$U_OLD" "verified::text || ',' || verify_error")" \
	"^false,certificate has expired \(depth 0\)$"
t_is "its validity period" "$(tls "$U_OLD" "not_before || ',' || not_after")" "1577836800,1577923200"
t_is "visible in SQL as expired" "$(tls "$U_OLD" "(days_left < -2000)::text")" "true"
t_like "self-signed: refused, the reason kept" "$(tls "$U_SELF" "verified::text || ',' || verify_error")" \
	"^false,self-signed certificate"
t_is "its names" "$(tls "$U_SELF" "subject || ' ' || sans::text")" "CN=self {IP:127.0.0.1}"
t_is "ws: no TLS facts" "$(q "SELECT connection_ok::text || ',' || coalesce(encode(tls_id, 'hex'), 'none')
	FROM relay_metadata WHERE relay_url = '$U_WS'")" "true,none"
t_is "one relay_tls row per certificate and verdict" "$(q 'SELECT count(*) FROM relay_tls')" 3
prom=$(cat "$T/metrics/brotr_monitor.prom" 2>/dev/null)
t_like "metric: certificates expiring" "$prom" 'brotr_monitor_tls_expiring_relays\{service="monitor"\} 1'
t_like "metric: certificates not verified" "$prom" 'brotr_monitor_tls_unverified_relays\{service="monitor"\} 2'
t_like "metric: checks by verdict" "$prom" \
	'brotr_monitor_tls_total\{service="monitor",network="clearnet",verified="no"\} 2'

# ---- a second pass shares the rows; allow_insecure lets the expired one through, the verdict stays
q "UPDATE relay_metadata SET generated_at = generated_at - 7200" >/dev/null
t_status "a second pass with allow_insecure" 0 svc_run "$T/impl" "$DB" BROTR_NETWORK_CLEARNET_ALLOW_INSECURE=true \
	-- monitor
t_like "no new TLS row" "$T_ERR" "tls=3 tls_unverified=2 tls_expiring=1 tls_new=0"
t_is "expired.test now opens and reads" "$(latest "$U_OLD" "connection_ok::text || ',' || readable::text")" "true,true"
t_like "its certificate still does not verify" "$(tls "$U_OLD" "verified::text || ',' || verify_error")" \
	"^false,certificate has expired"
t_is "both passes share its row" "$(q "SELECT count(DISTINCT tls_id) FROM relay_metadata WHERE relay_url = '$U_OLD'")" 1
t_is "still three rows" "$(q 'SELECT count(*) FROM relay_tls')" 3

certs=$(psql_admin -d "$DB" -A -t -F ' ' -c "SET ROLE brotr_reader" -c "$(readme_sql certificates)" 2>&1)
t_like "README: the expired certificate first, as brotr_reader" "$(printf '%s' "$certs" | head -n 1)" \
	"^wss://expired.test -[0-9]+ f certificate has expired \(depth 0\)$"
t_like "then the self-signed one; the valid one is not listed" "$(printf '%s' "$certs" | sed -n '2,$p')" \
	"^$U_SELF 399 f self-signed certificate \(depth 0\)$"

# ---- an unreadable ca_file is a configuration error naming it
q "UPDATE relay_metadata SET generated_at = generated_at - 7200" >/dev/null
t_status "a missing ca_file: the monitor stops" 1 svc_run "$T/impl" "$DB" BROTR_NETWORK_CA_FILE="$T/none.pem" -- monitor
t_like "naming the file" "$T_ERR" "ca_file $T/none.pem: No such file or directory"
t_is "and checks nothing" "$(q 'SELECT count(*) FROM relay_metadata')" 8

t_done
