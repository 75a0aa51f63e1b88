# test_run_local.sh — make run's helpers (contrib/run-common): where the cluster lives, and the .env secrets.
source tests/harness/tap.sh
source contrib/run-common
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
say() { :; }
pw_lines() { grep -c '^BROTR_DATABASE_PASSWORD=' "$1"; }
pw_value() { sed -n 's/^BROTR_DATABASE_PASSWORD=//p' "$1"; }

# The cluster's directory.
mkdir -p "$tmp/open/clone" "$tmp/closed/clone"
chmod 755 "$tmp" "$tmp/open" "$tmp/open/clone"
chmod 700 "$tmp/closed"
if [ "$(id -u)" -eq 0 ]; then
	t_is "a checkout postgres can reach keeps its cluster in var/pg" "$(run_pgdir "$tmp/open/clone")" "$tmp/open/clone/var/pg"
	hash=$(printf '%s' "$tmp/closed/clone" | sha256sum | cut -c1-12)
	t_is "one it cannot reach (a clone in /root) keeps it in /var/lib/brotr-run/<hash>/pg" \
		"$(run_pgdir "$tmp/closed/clone")" "/var/lib/brotr-run/$hash/pg"
else
	t_is "an ordinary user's cluster is in var/pg" "$(run_pgdir "$tmp/open/clone")" "$tmp/open/clone/var/pg"
	t_is "wherever the checkout is" "$(run_pgdir "$tmp/closed/clone")" "$tmp/closed/clone/var/pg"
fi

# No .env: one is written, mode 600, with a password.
ensure_secrets "$tmp/new.env"
t_is "a missing .env is created mode 600" "$(stat -c %a "$tmp/new.env")" "600"
t_like "with a random password" "$(pw_value "$tmp/new.env")" "^[A-Za-z0-9_-]{32}$"

# .env.example copied as it is: world-readable, an empty password line.
cp implementations/bigbrotr/.env.example "$tmp/example.env"
chmod 644 "$tmp/example.env"
ensure_secrets "$tmp/example.env"
t_is "a world-readable .env is made mode 600 before a secret is written to it" "$(stat -c %a "$tmp/example.env")" "600"
t_is "the empty BROTR_DATABASE_PASSWORD= line is replaced, not followed by another" "$(pw_lines "$tmp/example.env")" "1"
t_like "by a random password" "$(pw_value "$tmp/example.env")" "^[A-Za-z0-9_-]{32}$"
t_is "the comments are kept" "$(grep -c '^#' "$tmp/example.env")" "$(grep -c '^#' implementations/bigbrotr/.env.example)"

for empty in '""' "''" '  '; do
	printf 'BROTR_TOR_SOCKS_PROXY=\nBROTR_DATABASE_PASSWORD=%s\n' "$empty" >"$tmp/q.env"
	ensure_secrets "$tmp/q.env"
	t_like "BROTR_DATABASE_PASSWORD=$empty counts as empty" "$(pw_value "$tmp/q.env")" "^[A-Za-z0-9_-]{32}$"
	t_is "and the other lines stay" "$(head -n 1 "$tmp/q.env")" "BROTR_TOR_SOCKS_PROXY="
done

# A set password is never replaced; a file without the line gets one appended.
printf 'BROTR_DATABASE_PASSWORD="my secret"\n' >"$tmp/set.env"
chmod 640 "$tmp/set.env"
ensure_secrets "$tmp/set.env"
t_is "a set password is kept" "$(cat "$tmp/set.env")" 'BROTR_DATABASE_PASSWORD="my secret"'
t_is "its file is made mode 600 too" "$(stat -c %a "$tmp/set.env")" "600"
printf 'BROTR_MONITOR_PRIVATE_KEY=abc\n' >"$tmp/other.env"
chmod 600 "$tmp/other.env"
ensure_secrets "$tmp/other.env"
t_is "a .env without the line gets it appended" "$(head -n 1 "$tmp/other.env") $(pw_lines "$tmp/other.env")" \
	"BROTR_MONITOR_PRIVATE_KEY=abc 1"
before=$(cat "$tmp/other.env")
ensure_secrets "$tmp/other.env"
t_is "and a second run changes nothing" "$(cat "$tmp/other.env")" "$before"

t_done
