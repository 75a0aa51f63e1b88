# servers.sh — starts and stops the real servers tests run against: PostgreSQL, PgBouncer, SOCKS5, fixture relays.
#
# Source it, then call the *_start functions; harness_stop (run it from an EXIT trap) stops all.
# Everything lives in one temporary directory, $TEST_TMP, on free loopback ports. Servers that
# refuse to run as root (initdb, postgres, pgbouncer) run as the postgres user when we are root.
#
# Exports after pg_start:        TEST_PGHOST TEST_PGPORT TEST_PGUSER TEST_PGPASSWORD TEST_PGSOCK
#                                TEST_WRITER_USER TEST_WRITER_PASSWORD (the services' role; tests
#                                that run `brotr db init` give it this password)
# Exports after pgbouncer_start: TEST_PGBOUNCER_PORT
# Exports after socks_start:     TEST_SOCKS_PORT
# tool_start NAME ARGS... starts a tool from $BUILD/tools and sets TOOL_PORT, TOOL_TLS_PORT.
# thirdparty_relay_start [EVENTS_JSONL [OPTION...]] starts the third-party relay (tests/thirdparty)
# and sets TOOL_PORT; thirdparty_client ARGS... runs tests/thirdparty/client.mjs.

: "${BUILD:=build}"
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
HARNESS_PIDS=""

harness_tmp() {
	if [ -z "${TEST_TMP:-}" ]; then
		TEST_TMP=$(mktemp -d /tmp/brotr-test.XXXXXX)
		chmod 755 "$TEST_TMP"
		export TEST_TMP
	fi
}

# Runs a command as the unprivileged owner of the servers' files. As root the checkout may be
# where that user cannot go (a clone in /root, mode 700): the command then starts in / instead
# of the current directory, and reads only files under $TEST_TMP (see server_copy).
as_server_user() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- sh -c 'cd "$1" 2>/dev/null || cd /; shift; exec "$@"' sh "$PWD" "$@"
	else
		"$@"
	fi
}

# server_copy FILE: copies FILE from the checkout to $TEST_TMP/files/, readable by the servers'
# user, and prints the copy's path (for configuration a server reads itself).
server_copy() {
	harness_tmp
	local dir
	dir=$TEST_TMP/files/$(printf '%s' "$1" | sha256sum | cut -c1-12)
	mkdir -p "$dir" && chmod 755 "$TEST_TMP/files" "$dir" && cp "$1" "$dir/" && chmod 644 "$dir/${1##*/}" || return 1
	printf '%s\n' "$dir/${1##*/}"
}

free_port() {
	"$BUILD/tools/free_port"
}

# pg_start: a private cluster with password (SCRAM) authentication over TCP and trust over its socket.
pg_start() {
	harness_tmp
	local dir=$TEST_TMP/pg
	mkdir -p "$dir"
	[ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
	TEST_PGPASSWORD=test-superuser-$$
	TEST_WRITER_USER=brotr_writer
	TEST_WRITER_PASSWORD=test-writer-$$
	printf '%s\n' "$TEST_PGPASSWORD" >"$TEST_TMP/pgpass.txt"
	chmod 644 "$TEST_TMP/pgpass.txt"
	as_server_user "$PG_BIN/initdb" -D "$dir/data" -U postgres --pwfile="$TEST_TMP/pgpass.txt" \
		--auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; return 1; }
	TEST_PGPORT=$(free_port)
	as_server_user "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
		-o "-p $TEST_PGPORT -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off" \
		start >/dev/null || { cat "$dir/server.log" >&2; return 1; }
	export TEST_PGHOST=127.0.0.1 TEST_PGPORT TEST_PGUSER=postgres TEST_PGPASSWORD TEST_PGSOCK=$dir
	export TEST_WRITER_USER TEST_WRITER_PASSWORD
}

pg_stop() {
	[ -n "${TEST_TMP:-}" ] && [ -f "$TEST_TMP/pg/data/postmaster.pid" ] &&
		as_server_user "$PG_BIN/pg_ctl" -D "$TEST_TMP/pg/data" -m fast -w stop >/dev/null 2>&1
	return 0
}

# pg_restart: stops and starts the same cluster (for tests of reconnection).
pg_restart() {
	as_server_user "$PG_BIN/pg_ctl" -D "$TEST_TMP/pg/data" -l "$TEST_TMP/pg/server.log" -m fast -w restart \
		-o "-p $TEST_PGPORT -k $TEST_TMP/pg -c listen_addresses=127.0.0.1 -c fsync=off" >/dev/null
}

# pg_down / pg_up: stops the cluster, keeping it, and starts it again (for tests of an outage).
pg_down() {
	as_server_user "$PG_BIN/pg_ctl" -D "$TEST_TMP/pg/data" -m fast -w stop >/dev/null
}
pg_up() {
	as_server_user "$PG_BIN/pg_ctl" -D "$TEST_TMP/pg/data" -l "$TEST_TMP/pg/server.log" -w -t 60 start \
		-o "-p $TEST_PGPORT -k $TEST_TMP/pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off" \
		>/dev/null
}

# readme_sql NAME: the SQL of the README's block marked <!-- sql-example: NAME --> (tests run the
# README's examples as written).
readme_sql() {
	awk -v n="$1" '$0 == "<!-- sql-example: " n " -->" { on = 1; next } on && /^```sql$/ { body = 1; next }
		body && /^```$/ { exit } body { print }' README.md
}

# psql_admin ARGS...: psql as the superuser over the private socket.
psql_admin() {
	"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$TEST_PGSOCK" -p "$TEST_PGPORT" -U postgres "$@"
}

# pgbouncer_start [USER PASSWORD]...: transaction pooling in front of the cluster; the listed
# users (plus the superuser and the services' role) may log in with those passwords.
pgbouncer_start() {
	harness_tmp
	local dir=$TEST_TMP/pgbouncer
	mkdir -p "$dir"
	TEST_PGBOUNCER_PORT=$(free_port)
	{
		printf '"postgres" "%s"\n' "$TEST_PGPASSWORD"
		[ -n "${TEST_WRITER_USER:-}" ] && printf '"%s" "%s"\n' "$TEST_WRITER_USER" "$TEST_WRITER_PASSWORD"
		while [ $# -ge 2 ]; do
			printf '"%s" "%s"\n' "$1" "$2"
			shift 2
		done
	} >"$dir/userlist.txt"
	cat >"$dir/pgbouncer.ini" <<-EOF
		[databases]
		* = host=127.0.0.1 port=$TEST_PGPORT
		[pgbouncer]
		listen_addr = 127.0.0.1
		listen_port = $TEST_PGBOUNCER_PORT
		unix_socket_dir =
		auth_type = scram-sha-256
		auth_file = $dir/userlist.txt
		pool_mode = transaction
		max_client_conn = 200
		default_pool_size = 10
		logfile = $dir/pgbouncer.log
		pidfile = $dir/pgbouncer.pid
		admin_users = postgres
	EOF
	[ "$(id -u)" -eq 0 ] && chown -R postgres: "$dir"
	as_server_user pgbouncer -d "$dir/pgbouncer.ini" >/dev/null 2>&1 || { cat "$dir/pgbouncer.log" >&2; return 1; }
	local i
	for i in $(seq 1 100); do
		[ -s "$dir/pgbouncer.pid" ] && break
		sleep 0.05
	done
	export TEST_PGBOUNCER_PORT
}

pgbouncer_stop() {
	local pidf=${TEST_TMP:-/nonexistent}/pgbouncer/pgbouncer.pid
	[ -f "$pidf" ] && kill "$(cat "$pidf")" 2>/dev/null
	return 0
}

# socks_start: microsocks on loopback, no authentication.
socks_start() {
	harness_tmp
	TEST_SOCKS_PORT=$(free_port)
	microsocks -i 127.0.0.1 -p "$TEST_SOCKS_PORT" >"$TEST_TMP/microsocks.log" 2>&1 &
	HARNESS_PIDS="$HARNESS_PIDS $!"
	export TEST_SOCKS_PORT
}

# tool_start NAME ARGS...: starts $BUILD/tools/NAME (fixture_relay, socks_logger, tcp_blackhole)
# in the background and waits (at most 20 s) for its "ready port=P [tls_port=Q]" line. Sets
# TOOL_PORT and TOOL_TLS_PORT; tools_stop (or harness_stop) ends it. Safe in test scripts that
# source this file: unlike harness_stop, tools_stop leaves the run's servers alone.
TOOL_PIDS=""
tool_start() {
	harness_tmp
	local name=$1 out i line=""
	shift
	out=$(mktemp "$TEST_TMP/$name.XXXXXX")
	"$BUILD/tools/$name" "$@" >"$out" 2>"$out.err" &
	TOOL_PIDS="$TOOL_PIDS $!"
	for i in $(seq 1 200); do
		line=$(head -n 1 "$out")
		[ -n "$line" ] && break
		sleep 0.1
	done
	TOOL_PORT=$(printf '%s' "$line" | sed -n 's/^ready port=\([0-9]*\).*/\1/p')
	TOOL_TLS_PORT=$(printf '%s' "$line" | sed -n 's/.*tls_port=\([0-9-]*\).*/\1/p')
	[ -n "$TOOL_PORT" ] || { echo "$name did not start: $(cat "$out.err")" >&2; return 1; }
}

# The third-party relay: tests/thirdparty (package.json, package-lock.json, *.mjs) installed with
# npm ci --omit=dev into build/thirdparty, once per lock file (the first time takes a minute or two:
# better-sqlite3 compiles its native module). Only the npm registry is needed.
THIRDPARTY_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../thirdparty" && pwd)
THIRDPARTY_DIR=${THIRDPARTY_DIR:-$(cd "$THIRDPARTY_SRC/../.." && pwd)/build/thirdparty}

# thirdparty_install: installs (under a lock, so concurrent callers wait) unless already done.
thirdparty_install() {
	local src=$THIRDPARTY_SRC dir=$THIRDPARTY_DIR stamp
	stamp=$(cat "$src/package.json" "$src/package-lock.json" | sha256sum | cut -c1-16)
	mkdir -p "$dir" || return 1
	(
		flock 9 || exit 1
		if [ "$(cat "$dir/.installed" 2>/dev/null)" != "$stamp" ]; then
			rm -f "$dir/.installed"
			cp "$src/package.json" "$src/package-lock.json" "$dir/" || exit 1
			# The native module (better-sqlite3) builds against the local Node headers,
			# not headers downloaded from nodejs.org (unreachable from CI).
			[ -f /usr/include/node/node.h ] && export npm_config_nodedir=/usr
			if ! (cd "$dir" && npm ci --omit=dev --no-audit --no-fund &&
				node -e "new (require('better-sqlite3'))(':memory:').close()") >"$dir/npm.log" 2>&1; then
				echo "thirdparty: npm ci in $dir failed:" >&2
				tail -n 20 "$dir/npm.log" >&2
				exit 1
			fi
			echo "$stamp" >"$dir/.installed"
		fi
		cp "$src"/*.mjs "$dir/"
	) 9>"$dir/.lock"
}

# thirdparty_relay_start [EVENTS_JSONL [OPTION...]]: installs if needed, starts tests/thirdparty/relay.mjs
# on a free loopback port with EVENTS_JSONL stored first ("" for none; options as in relay.mjs, e.g.
# --default-limit 2), and waits (at most 30 s) for its "ready" line. Sets TOOL_PORT (TOOL_TLS_PORT
# empty), THIRDPARTY_LOADED and THIRDPARTY_REJECTED (events of the file stored and refused);
# tools_stop ends it.
thirdparty_relay_start() {
	harness_tmp
	thirdparty_install || return 1
	local out i line="" pid args=()
	[ -n "${1:-}" ] && args=(--events "$1")
	[ $# -gt 0 ] && shift
	out=$(mktemp "$TEST_TMP/thirdparty-relay.XXXXXX")
	node "$THIRDPARTY_DIR/relay.mjs" "${args[@]}" "$@" >"$out" 2>"$out.err" &
	pid=$!
	TOOL_PIDS="$TOOL_PIDS $pid"
	for i in $(seq 1 300); do
		line=$(head -n 1 "$out")
		[ -n "$line" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	TOOL_PORT=$(printf '%s' "$line" | sed -n 's/^ready port=\([0-9]*\).*/\1/p')
	TOOL_TLS_PORT=""
	THIRDPARTY_LOADED=$(printf '%s' "$line" | sed -n 's/.* loaded=\([0-9]*\).*/\1/p')
	THIRDPARTY_REJECTED=$(printf '%s' "$line" | sed -n 's/.* rejected=\([0-9]*\).*/\1/p')
	[ -n "$TOOL_PORT" ] || { echo "the third-party relay did not start: $(cat "$out.err")" >&2; return 1; }
}

# thirdparty_client publish URL FILE.jsonl | req URL FILTER_JSON: see tests/thirdparty/client.mjs.
thirdparty_client() {
	thirdparty_install && node "$THIRDPARTY_DIR/client.mjs" "$@"
}

tools_stop() {
	local p
	for p in $TOOL_PIDS; do kill "$p" 2>/dev/null; done
	TOOL_PIDS=""
	return 0
}

harness_stop() {
	local p
	tools_stop
	for p in $HARNESS_PIDS; do kill "$p" 2>/dev/null; done
	pgbouncer_stop
	pg_stop
	if [ -n "${TEST_TMP:-}" ] && [ -z "${TEST_KEEP:-}" ]; then rm -rf "$TEST_TMP"; fi
	return 0
}
