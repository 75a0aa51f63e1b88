#!/usr/bin/env bash
# test_db_cli.sh — `brotr db init` and `brotr db check` as an operator runs them, both
# implementations, directly and through PgBouncer; the init directories load with psql too; the
# shipped PgBouncer and PostgreSQL configuration files work.
set -u
cd "$(dirname "$0")/../.."
source tests/harness/tap.sh
source tests/harness/servers.sh

: "${BROTR:=$PWD/build/brotr}"
tmp=$(mktemp -d /tmp/brotr-dbcli.XXXXXX)
chmod 755 "$tmp"
bouncer_pid=""
cleanup() {
	[ -n "$bouncer_pid" ] && kill "$bouncer_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# brotr_as IMPL DB [VAR=VALUE...] -- ARGS: runs brotr with IMPL's configuration against DB.
brotr_as() {
	local impl=$1 db=$2
	shift 2
	local vars=()
	while [ "$1" != "--" ]; do vars+=("$1"); shift; done
	shift
	env BROTR_CONFIG="implementations/$impl/config/brotr.ini" BROTR_DATABASE_HOST="$TEST_PGHOST" \
		BROTR_DATABASE_PORT="$TEST_PGPORT" BROTR_DATABASE_NAME="$db" BROTR_DATABASE_USER="$TEST_WRITER_USER" \
		BROTR_DATABASE_PASSWORD="$TEST_WRITER_PASSWORD" BROTR_DATABASE_ADMIN_PASSWORD="$TEST_PGPASSWORD" \
		BROTR_DATABASE_CONNECT_WAIT=20s BROTR_DATABASE_RETRY_MAX=1s "${vars[@]}" "$BROTR" "$@"
}

big=cli_big_$$
lil=cli_lil_$$

t_status "db init --help" 0 "$BROTR" db init --help
t_like "db init --help describes idempotence and the roles" "$T_OUT" "second run changes nothing.*|brotr_writer"
t_status "db check --help" 0 "$BROTR" db check --help
t_status "db init refuses arguments" 2 brotr_as bigbrotr "$big" -- db init now

t_status "db check before db init fails" 1 brotr_as bigbrotr "$big" -- db check
t_like "it says why" "$T_OUT" "^error: cannot connect to .*/$big as $TEST_WRITER_USER"

t_status "db init bigbrotr" 0 brotr_as bigbrotr "$big" -- db init
t_like "creates the database" "$T_OUT" "created database $big"
t_like "creates the tables" "$T_OUT" "created table events"
t_like "records the version" "$T_OUT" "schema version 3 \\(bigbrotr\\) recorded"
t_like "logs progress" "$T_ERR" "msg=\"applying init SQL\""
t_status "db init bigbrotr again" 0 brotr_as bigbrotr "$big" -- db init
t_like "the second run changes nothing" "$T_OUT" "^nothing to do"
t_is "and prints one line" "$(printf '%s\n' "$T_OUT" | wc -l)" "1"

t_status "db check directly" 0 brotr_as bigbrotr "$big" -- db check
t_like "all present" "$T_OUT" "db check: ok: schema version 3 \\(bigbrotr\\)"
t_status "db check through PgBouncer (transaction mode)" 0 \
	brotr_as bigbrotr "$big" BROTR_DATABASE_PORT="$TEST_PGBOUNCER_PORT" -- db check
t_like "all present through PgBouncer" "$T_OUT" "db check: ok"

t_status "db init lilbrotr" 0 brotr_as lilbrotr "$lil" -- db init
t_like "records lilbrotr" "$T_OUT" "schema version 3 \\(lilbrotr\\)"
t_status "db check lilbrotr through PgBouncer" 0 \
	brotr_as lilbrotr "$lil" BROTR_DATABASE_PORT="$TEST_PGBOUNCER_PORT" -- db check
t_status "bigbrotr's check on lilbrotr's database fails" 1 brotr_as bigbrotr "$lil" -- db check
t_like "it names the checksum" "$T_OUT" "checksum: .*run brotr db init"
t_status "bigbrotr's init on lilbrotr's database fails" 1 brotr_as bigbrotr "$lil" -- db init
t_like "and changes nothing" "$T_OUT" "cannot become bigbrotr.*|rolled back"

psql_admin -d "$big" -c "DROP FUNCTION insert_relay_batch(text[], text[], bigint)" >/dev/null
t_status "db check after a procedure was dropped" 1 brotr_as bigbrotr "$big" -- db check
t_like "names it" "$T_OUT" "missing: function insert_relay_batch\\(text\\[\\],text\\[\\],bigint\\)"
t_like "and counts it" "$T_OUT" "db check: 1 problem \\(34 objects checked\\)"
psql_admin -d "$big" -c "UPDATE brotr_schema SET checksum = 'stale'" >/dev/null
t_status "db init repairs it" 0 brotr_as bigbrotr "$big" -- db init
t_like "recreating what was missing" "$T_OUT" "created function insert_relay_batch"
t_status "db check after the repair" 0 brotr_as bigbrotr "$big" -- db check

t_status "db init with a wrong administrator password" 1 \
	brotr_as bigbrotr "$big" BROTR_DATABASE_ADMIN_PASSWORD=wrong -- db init
t_like "says so" "$T_OUT" "password authentication failed \\(SQLSTATE 28P01\\)"
t_status "db check with nothing listening" 1 \
	brotr_as bigbrotr "$big" BROTR_DATABASE_PORT=1 BROTR_DATABASE_CONNECT_WAIT=1s -- db check
t_like "names the server" "$T_OUT" "cannot connect to 127.0.0.1:1/"
t_like "after retrying" "$T_ERR" "database unavailable, retrying"

# Under another lc_messages the server's words change, its SQLSTATEs do not: a wrong password
# still fails at once (decided from English text, it was retried for the whole connect_wait).
loc=$tmp/locale
mkdir -p "$loc"
localedef -i de_DE -f UTF-8 "$loc/de_DE.UTF-8" >/dev/null 2>&1
if [ -e "$loc/de_DE.UTF-8/LC_MESSAGES" ]; then
	chmod -R a+rX "$loc"
	LOCPATH=$loc pg_restart
	psql_admin -c "ALTER SYSTEM SET lc_messages = 'de_DE.UTF-8'" -c "SELECT pg_reload_conf()" >/dev/null
	t_like "the server now answers in German" "$(PGPASSWORD=wrong "$PG_BIN/psql" -X -h "$TEST_PGHOST" \
		-p "$TEST_PGPORT" -U "$TEST_WRITER_USER" -d "$big" -c 'SELECT 1' 2>&1)" "Passwort-Authentifizierung"
	t_status "a wrong password under lc_messages = de_DE" 1 \
		brotr_as bigbrotr "$big" BROTR_DATABASE_PASSWORD=wrong BROTR_DATABASE_CONNECT_WAIT=60s -- db check
	t_like "is named from its SQLSTATE" "$T_OUT" "password authentication failed \\(SQLSTATE 28P01\\)"
	t_unlike "and not retried" "$T_ERR" "retrying"
	t_status "an unknown database under lc_messages = de_DE" 1 \
		brotr_as bigbrotr "no_such_db_$$" BROTR_DATABASE_CONNECT_WAIT=60s -- db check
	t_like "is named from its SQLSTATE" "$T_OUT" "no such database \\(SQLSTATE 3D000\\)"
	t_unlike "and not retried" "$T_ERR" "retrying"
	psql_admin -c "ALTER SYSTEM RESET lc_messages" -c "SELECT pg_reload_conf()" >/dev/null
else
	t_fail "a German locale can be made for the lc_messages test (localedef, package locales)"
fi

# The init directories are plain psql scripts too (docker-entrypoint-initdb.d style).
for impl in bigbrotr lilbrotr; do
	db=cli_psql_${impl}_$$
	psql_admin -c "CREATE DATABASE $db TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'" >/dev/null
	init=implementations/$impl/config/postgres/init
	out=$(psql_admin -d "$db" --single-transaction -f $init/00_schema.sql -f $init/10_$impl.sql \
		-f $init/90_grants.sql 2>&1)
	t_is "psql loads the $impl init directory" "$?" "0"
	t_unlike "without errors" "$out" "ERROR"
	t_is "$impl: the psql-loaded schema has its variant" \
		"$(psql_admin -d "$db" -Atc 'SELECT variant || version FROM brotr_schema')" "${impl}3"
	t_status "$impl: db init over the psql-loaded schema" 0 brotr_as "$impl" "$db" -- db init
	t_like "$impl: only records the checksum" "$T_OUT" "\\(0 objects created\\)"
	t_status "$impl: db check" 0 brotr_as "$impl" "$db" -- db check
done

# The shipped PgBouncer configuration, with this cluster's ports, in transaction mode.
cp -r implementations/bigbrotr/config/pgbouncer "$tmp/pgb"
port=$(free_port)
sed -i -e "s/^bigbrotr = host=127.0.0.1 port=5432 dbname=bigbrotr/$big = host=127.0.0.1 port=$TEST_PGPORT dbname=$big/" \
	-e "s/^listen_port = .*/listen_port = $port/" "$tmp/pgb/pgbouncer.ini"
t_like "the shipped pgbouncer.ini pools in transaction mode" "$(cat "$tmp/pgb/pgbouncer.ini")" "pool_mode = transaction"
sed "s/REPLACE-WITH-THE-PASSWORD-OR-SCRAM-VERIFIER/$(psql_admin -Atc \
	"SELECT rolpassword FROM pg_authid WHERE rolname = '$TEST_WRITER_USER'" | sed 's/[\/&]/\\&/g')/" \
	"$tmp/pgb/userlist.txt.example" >"$tmp/pgb/userlist.txt"
chmod 600 "$tmp/pgb/userlist.txt"
[ "$(id -u)" -eq 0 ] && chown -R postgres: "$tmp/pgb"
(cd "$tmp/pgb" && as_server_user pgbouncer -d pgbouncer.ini >/dev/null 2>&1)
for _ in $(seq 1 100); do [ -s "$tmp/pgb/pgbouncer.pid" ] && break; sleep 0.05; done
bouncer_pid=$(cat "$tmp/pgb/pgbouncer.pid" 2>/dev/null)
t_like "the shipped configuration starts PgBouncer" "$bouncer_pid" "^[0-9]+$"
t_status "db check through it, the writer's SCRAM verifier in its userlist" 0 \
	brotr_as bigbrotr "$big" BROTR_DATABASE_PORT="$port" -- db check

# The shipped PostgreSQL settings parse (postgres -C reads the files and prints a value).
for impl in bigbrotr lilbrotr; do
	conf=$tmp/$impl.conf
	printf "include '%s'\ndata_directory = '%s'\nhba_file = '%s'\nident_file = '%s'\n" \
		"$(server_copy implementations/$impl/config/postgres/postgresql.conf)" "$TEST_TMP/pg/data" \
		"$TEST_TMP/pg/data/pg_hba.conf" "$TEST_TMP/pg/data/pg_ident.conf" >"$conf"
	chmod 644 "$conf"
	t_is "$impl's postgresql.conf is valid (synchronous_commit)" \
		"$(as_server_user "$PG_BIN/postgres" --config-file="$conf" -C synchronous_commit 2>&1)" "off"
	t_is "$impl's postgresql.conf is valid (default_toast_compression)" \
		"$(as_server_user "$PG_BIN/postgres" --config-file="$conf" -C default_toast_compression 2>&1)" "lz4"
done
t_is "lilbrotr's shared_buffers suit small hardware" \
	"$(as_server_user "$PG_BIN/postgres" --config-file="$tmp/lilbrotr.conf" -C shared_buffers 2>&1)" "16384"

t_done
