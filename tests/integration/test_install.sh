#!/usr/bin/env bash
# test_install.sh — `make install` into a DESTDIR: the tree, an edited configuration kept across a
# reinstall, the installed brotr run against it (default path, db init, initializer, the README's
# example SQL), and `make uninstall` leaving exactly what install did not add.
set -u
cd "$(dirname "$0")/../.."
: "${BUILD:=build}" "${BROTR:=$PWD/$BUILD/brotr}"
source tests/harness/tap.sh
source tests/harness/servers.sh

T=$(mktemp -d /tmp/brotr-install.XXXXXX)
chmod 755 "$T"
trap '[ -z "${TEST_KEEP:-}" ] && rm -rf "$T"' EXIT
D=$T/root
share=$D/usr/local/share/brotr
etc=$D/etc/brotr/bigbrotr
db=install_$$
t_plan 40

# make as the operator types it, not as the make running this test (its jobserver, its flags).
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -s BUILD="$BUILD" "$@"; }
# Every file and symbolic link under the DESTDIR, relative to it.
tree() { (cd "$D" && find . ! -type d | sed 's|^\.||' | LC_ALL=C sort); }
dirs() { (cd "$D" && find . -mindepth 1 -type d | sed 's|^\.||' | LC_ALL=C sort); }

# Something of the operator's that install must not touch, in a directory install also uses.
mkdir -p "$D/usr/local/bin"
echo "#!/bin/sh" >"$D/usr/local/bin/someone-elses"

t_status "make install DESTDIR=..." 0 mk install DESTDIR="$D"
t_set "the manifest lists every file install wrote, and nothing else is there but the operator's" \
	"$(tree)" "$(awk '$1 == "f" { print $2 } $1 == "c" { print $3 }' "$share/install.manifest"; echo /usr/local/bin/someone-elses)"
t_is "the binary, executable" "$(stat -c %a "$D/usr/local/bin/brotr")" "755"
t_set "the common schema under share/brotr/sql" "$(cd "$share/sql" && ls)" "$(cd sql && ls)"
for impl in bigbrotr lilbrotr; do
	t_set "$impl: its init SQL and data under share/brotr/implementations/$impl" \
		"$(cd "$share/implementations/$impl" && find . -type f | LC_ALL=C sort)" \
		"$(cd "implementations/$impl" && find ./config/postgres/init ./data -type f | LC_ALL=C sort)"
	t_set "$impl: its configuration under /etc/brotr/$impl, the secrets template but no .env" \
		"$(cd "$D/etc/brotr/$impl" && find . -type f | LC_ALL=C sort)" \
		"$(cd "implementations/$impl/config" && find . -path ./postgres/init -prune -o -type f -print | LC_ALL=C sort; echo ./.env.example)"
done
t_is "the units, the sandbox drop-in, the sysusers.d user, the state directory" \
	"$(cd "$D" && ls -d lib/systemd/system/brotr-monitor@.timer lib/systemd/system/brotr-.service.d/10-sandbox.conf \
		lib/systemd/system/brotr-tor.service usr/lib/sysusers.d/brotr.conf var/lib/brotr 2>&1 | tr '\n' ' ')" \
	"lib/systemd/system/brotr-.service.d/10-sandbox.conf lib/systemd/system/brotr-monitor@.timer lib/systemd/system/brotr-tor.service usr/lib/sysusers.d/brotr.conf var/lib/brotr "

# The installed binary reads the installed layout.
B=$D/usr/local/bin/brotr
t_status "installed brotr: config show" 0 "$B" --config "$etc/brotr.ini" config show
t_like "the implementation's files are the installed ones" "$T_OUT" \
	"^# configuration $etc/brotr.ini \\(implementation $share/implementations/bigbrotr\\)"
t_like "a relative seed_file resolves into share/" "$T_OUT" \
	"seed_file = $share/implementations/bigbrotr/data/seed_relays.txt"
if unshare -m true 2>/dev/null; then
	# /etc/brotr of the DESTDIR seen at /etc/brotr, in a private mount namespace.
	default=$(cd / && unshare -m sh -c 'mount --bind "$1/etc" /etc && "$2" config show' sh "$D" "$B" 2>&1 | head -n 1)
	t_is "with no --config, it reads /etc/brotr/bigbrotr/brotr.ini" "$default" \
		"# configuration /etc/brotr/bigbrotr/brotr.ini (implementation $share/implementations/bigbrotr)"
else
	t_status "with no --config, it looks for /etc/brotr/bigbrotr/brotr.ini (no mount namespace here)" 2 \
		sh -c 'cd / && exec "$1" config show' sh "$B"
fi
t_like "--help names that default" "$("$B" --help)" "/etc/brotr/bigbrotr/brotr.ini for an installed brotr"
t_like "the checkout's binary keeps the checkout's default" "$(cd / && "$BROTR" config show 2>&1)" \
	"^implementations/bigbrotr/config/brotr.ini: cannot read configuration file"

# The operator edits brotr.ini and adds the secrets; a reinstall keeps both.
printf '\n# the operator was here\n' >>"$etc/brotr.ini"
printf 'BROTR_DATABASE_PASSWORD=%s\nBROTR_DATABASE_ADMIN_PASSWORD=%s\n' "$TEST_WRITER_PASSWORD" "$TEST_PGPASSWORD" >"$etc/.env"
chmod 600 "$etc/.env"
env_sum=$(sha256sum <"$etc/.env")
# An unedited file installed by an older version (its checksum in the manifest) is upgraded in place.
echo "# an older default" >"$etc/services/monitor.ini"
sum=$(sha256sum "$etc/services/monitor.ini" | cut -d' ' -f1)
sed -i "s|^c [0-9a-f]* /etc/brotr/bigbrotr/services/monitor.ini$|c $sum /etc/brotr/bigbrotr/services/monitor.ini|" \
	"$share/install.manifest"
t_status "make install again" 0 mk install DESTDIR="$D"
t_like "it says it kept the edited file" "$T_ERR" "kept $etc/brotr.ini \\(edited\\); the new default is $etc/brotr.ini.dist"
t_like "the edit is still there" "$(tail -n 1 "$etc/brotr.ini")" "^# the operator was here$"
t_is "the new default is beside it" "$(cmp "$etc/brotr.ini.dist" implementations/bigbrotr/config/brotr.ini && echo same)" "same"
t_is "the .env is untouched" "$(sha256sum <"$etc/.env") $(stat -c %a "$etc/.env")" "$env_sum 600"
t_is "the older unedited default was replaced, with no .dist" \
	"$(cmp "$etc/services/monitor.ini" implementations/bigbrotr/config/services/monitor.ini && echo same) $(ls "$etc/services" | grep -c dist)" \
	"same 0"

# Against the harness PostgreSQL: the installed schema and seed list.
run() {
	env BROTR_DATABASE_HOST="$TEST_PGHOST" BROTR_DATABASE_PORT="$TEST_PGPORT" BROTR_DATABASE_NAME="${RUN_DB:-$db}" \
		BROTR_DATABASE_USER="$TEST_WRITER_USER" BROTR_DATABASE_CONNECT_WAIT=20s "$B" --config "$etc/brotr.ini" "$@"
}
t_status "installed brotr: db init, from share/brotr's SQL" 0 run db init
t_like "it created the schema" "$T_OUT" "created table events"
t_status "installed brotr: db check" 0 run db check
seeds=$(grep -cvE '^[[:space:]]*(#|$)' "$share/implementations/bigbrotr/data/seed_relays.txt")
t_status "installed brotr: initializer, from share/brotr's seed list" 0 run initializer
t_like "it registered the installed seed list" "$T_ERR" \
	"msg=\"initializer summary\" file=$share/implementations/bigbrotr/data/seed_relays.txt relays=$seeds inserted=$seeds "

# The README's example SQL, as an analyst (brotr_reader) runs it, over a small known history.
psql_admin -d "$db" -f tests/fixtures/sql/readme_history.sql >/dev/null
reader() { psql_admin -d "$db" -A -t -F ' ' -c "SET ROLE brotr_reader" -c "$1" 2>&1; }
t_is "README: events per relay" "$(reader "$(readme_sql events-per-relay)")" \
	"$(printf '%s\n' 'wss://a.example 3' 'wss://b.example 1')"
t_is "README: relay uptime over a month" "$(reader "$(readme_sql uptime)")" \
	"$(printf '%s\n' 'wss://b.example 2 100.0' 'wss://a.example 3 66.7')"
t_is "README: slowest relays" "$(reader "$(readme_sql slowest)")" \
	"$(printf '%s\n' 'wss://b.example 400 2' 'wss://a.example 150 2')"
t_is "README: kinds per day" "$(reader "$(readme_sql kinds-per-day)")" \
	"$(printf '%s\n' "$(date -u -d @$(($(date +%s) - 86400)) +%F) 1 2" "$(date -u -d @$(($(date +%s) - 86400)) +%F) 7 1")"

# The README's backup and restore: a dump of the implementation's database, restored into a fresh
# one that brotr db init made (roles and schema), is the same archive and passes db check.
export PGPASSWORD=$TEST_PGPASSWORD
"$PG_BIN/pg_dump" -h "$TEST_PGHOST" -p "$TEST_PGPORT" -U postgres -Fc -f "$T/backup.dump" "$db"
RUN_DB=${db}_restored t_status "restore: db init of a fresh database" 0 run db init
t_status "pg_restore --clean --if-exists into it" 0 "$PG_BIN/pg_restore" -h "$TEST_PGHOST" \
	-p "$TEST_PGPORT" -U postgres --clean --if-exists -d "${db}_restored" "$T/backup.dump"
t_is "the restored archive holds the same rows" \
	"$(psql_admin -d "${db}_restored" -A -t -c "SELECT (SELECT count(*) FROM events_relays) || ' ' || (SELECT count(*) FROM relays)")" \
	"4 $((seeds + 2))"
RUN_DB=${db}_restored t_status "and passes db check" 0 run db check

# Uninstall: everything install added goes, except the edited brotr.ini; the operator's files stay.
t_status "make uninstall" 0 mk uninstall DESTDIR="$D"
t_like "it says it kept the edited file" "$T_ERR" "kept $etc/brotr.ini \\(edited\\)"
t_set "what remains is what install did not add, and the edited file" "$(tree)" \
	"$(printf '%s\n' /etc/brotr/bigbrotr/.env /etc/brotr/bigbrotr/brotr.ini /usr/local/bin/someone-elses)"
t_set "and only the directories that hold them" "$(dirs)" \
	"$(printf '%s\n' /etc /etc/brotr /etc/brotr/bigbrotr /usr /usr/local /usr/local/bin)"
t_status "a second uninstall finds nothing to remove (make: 2)" 2 mk uninstall DESTDIR="$D"
t_like "and says so" "$T_ERR" "nothing installed here"

t_done
