# bench.sh — what the benchmarks in tests/bench.d share: brotr run with bigbrotr's configuration
# against the harness's PostgreSQL, and relays marked readable without a monitor pass.
# Source it after servers.sh, once pg_start has run.

# bench_brotr DB [VAR=VALUE...] COMMAND [ARGS...]: COMMAND (brotr, or a wrapper such as peak_rss
# that runs it) with the environment of brotr against database DB as the writer, local relays
# allowed and no SOCKS proxy.
bench_brotr() {
	local db=$1
	shift
	env BROTR_CONFIG=implementations/bigbrotr/config/brotr.ini BROTR_DATABASE_HOST="$TEST_PGHOST" \
		BROTR_DATABASE_PORT="$TEST_PGPORT" BROTR_DATABASE_NAME="$db" BROTR_DATABASE_USER="$TEST_WRITER_USER" \
		BROTR_DATABASE_PASSWORD="$TEST_WRITER_PASSWORD" BROTR_DATABASE_ADMIN_PASSWORD="$TEST_PGPASSWORD" \
		BROTR_NETWORK_ALLOW_LOCAL=true BROTR_TOR_SOCKS_PROXY= "$@"
}

# bench_readable DB URL...: a monitor snapshot saying each relay is readable.
bench_readable() {
	local db=$1 r
	shift
	for r in "$@"; do
		psql_admin -d "$db" -At -c "SELECT insert_relay_metadata('$r', 'clearnet', 1, true, false, NULL, NULL,
			encode(sha256('{\"readable\":true}'::bytea), 'hex'), '{\"readable\":true}')" >/dev/null || return 1
	done
}
