# services_lib.sh — for the service tests: a throwaway implementation directory, brotr against the harness's
# PostgreSQL with a fresh database, v3 onion names, event-id bits. Source it after servers.sh.

# impl_make DIR [INI-TEXT]: an implementation directory whose config/brotr.ini holds INI-TEXT and whose
# config/postgres is bigbrotr's (so `brotr db init` has its schema). data/ is empty.
impl_make() {
	local dir=$1
	mkdir -p "$dir/config" "$dir/data"
	ln -sfn "$PWD/implementations/bigbrotr/config/postgres" "$dir/config/postgres"
	printf '%s\n' "${2:-}" >"$dir/config/brotr.ini"
}

# svc_run IMPL DB [NAME=VALUE...] [--] ARGS...: brotr with IMPL's configuration against database DB of the
# harness cluster, as the services' role; NAME=VALUE pairs are extra environment (BROTR_* overrides).
# In the background, `svc_start ... &` (the same arguments) makes $! brotr itself, so signals reach it.
svc_run() {
	local impl=$1 db=$2 vars=()
	shift 2
	while [ $# -gt 0 ] && [[ $1 =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; do vars+=("$1"); shift; done
	[ "${1:-}" = "--" ] && shift
	${SVC_EXEC:+exec} env BROTR_CONFIG="$impl/config/brotr.ini" BROTR_DATABASE_HOST="$TEST_PGHOST" BROTR_DATABASE_PORT="$TEST_PGPORT" \
		BROTR_DATABASE_NAME="$db" BROTR_DATABASE_USER="$TEST_WRITER_USER" \
		BROTR_DATABASE_PASSWORD="$TEST_WRITER_PASSWORD" BROTR_DATABASE_ADMIN_PASSWORD="$TEST_PGPASSWORD" \
		BROTR_DATABASE_CONNECT_WAIT=20s BROTR_DATABASE_RETRY_MAX=1s "${vars[@]}" "$BROTR" "$@"
}

svc_start() {
	SVC_EXEC=1 svc_run "$@"
}

# onion_v3: a random but valid v3 onion host (rend-spec-v3: base32(pubkey | checksum | version), checksum =
# SHA3-256(".onion checksum" | pubkey | version)[:2], version 3).
onion_v3() {
	local f
	f=$(mktemp)
	head -c 32 /dev/urandom >"$f.pub"
	{ printf '.onion checksum'; cat "$f.pub"; printf '\003'; } | openssl dgst -sha3-256 -binary | head -c 2 >"$f.sum"
	{ cat "$f.pub" "$f.sum"; printf '\003'; } | base32 -w 0 | tr 'A-Z' 'a-z'
	printf '.onion\n'
	rm -f "$f" "$f.pub" "$f.sum"
}

# onion_bad_checksum ONION: the same name with its first character changed (the checksum no longer matches).
onion_bad_checksum() {
	local first=${1:0:1}
	if [ "$first" = a ]; then printf 'b%s\n' "${1:1}"; else printf 'a%s\n' "${1:1}"; fi
}

# leading_zero_bits HEX: NIP-13 difficulty of an event id.
leading_zero_bits() {
	local hex=$1 n=0 i d
	for ((i = 0; i < ${#hex}; i++)); do
		d=$((16#${hex:i:1}))
		if [ "$d" -eq 0 ]; then n=$((n + 4)); continue; fi
		while [ $((d & 8)) -eq 0 ]; do n=$((n + 1)); d=$((d << 1)); done
		break
	done
	echo "$n"
}

# db_q DB SQL: one query as the superuser, unaligned, tuples only.
db_q() {
	psql_admin -d "$1" -At -c "$2"
}

# ids_of FILE...: the event ids of JSONL files, sorted, once each.
ids_of() {
	sed -n 's/.*"id":"\([0-9a-f]\{64\}\)".*/\1/p' "$@" | sort -u
}

# archived_in DB URL: the ids of the events associated with relay URL.
archived_in() {
	db_q "$1" "SELECT encode(event_id, 'hex') FROM events_relays WHERE relay_url = '$2' ORDER BY 1"
}

# mark_readable DB URL NETWORK: a monitor snapshot saying the relay is readable (for synchronizer
# tests that do not run the monitor).
mark_readable() {
	local doc='{"openable":true,"readable":true,"rtt_open":5,"rtt_read":7}'
	db_q "$1" "SELECT inserted FROM insert_relay_metadata('$2', '$3', extract(epoch FROM now())::bigint, true,
	   false, NULL, NULL, encode(sha256('$doc'::bytea), 'hex'), '$doc')" >/dev/null
}
