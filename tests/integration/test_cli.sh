# test_cli.sh — the brotr command line: help, version, configuration errors and their exit status.
source tests/harness/tap.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
impl=$tmp/impl
mkdir -p "$impl/config/services"
: >"$impl/config/brotr.ini"

t_status "--help exits 0" 0 "$BROTR" --help
t_like "--help lists the commands" "$T_OUT" "config show"
t_status "no command is a usage error" 2 "$BROTR"
t_status "an unknown command is a usage error" 2 "$BROTR" frobnicate
t_like "and says so" "$T_ERR" "unknown command 'frobnicate'"
t_status "an unknown option is a usage error" 2 "$BROTR" --frob version

# Every command in the list has its own --help.
# (a command's line starts with its name, one or two words; a long synopsis puts the summary on the next line)
cmds=$("$BROTR" --help | sed -n '/^Commands:/,/^$/p' | sed -n 's/^  \([a-z][a-z-]*\( [a-z][a-z-]*\)\?\)\( .*\|\)$/\1/p')
[ -n "$cmds" ] || t_fail "the command list is not empty"
while IFS= read -r c; do
	# shellcheck disable=SC2086
	t_status "brotr $c --help exits 0" 0 "$BROTR" $c --help
	t_like "brotr $c --help shows its usage" "$T_OUT" "^usage: brotr \[OPTIONS\] $c"
done <<<"$cmds"

t_status "version exits 0" 0 "$BROTR" version
t_like "version names brotr" "$T_OUT" "^brotr [0-9]+\.[0-9]+\.[0-9]+"
t_like "and the libraries it was built with" "$T_OUT" "built with: libwebsockets [0-9].*libsecp256k1 [0-9].*inih.*openssl.*libecpg.*jsmn"
t_like "and those loaded at run time that can tell" "$T_OUT" \
	"^running with: libwebsockets [0-9]+\.[0-9]+\.[0-9]+[^,]*, libpq [0-9]+\.[0-9]+, OpenSSL [0-9]+\.[0-9]+\.[0-9]+"
built_lws=$(sed -n 's/^built with: libwebsockets \([^,]*\),.*/\1/p' <<<"$T_OUT")
built_pq=$(sed -n 's/^built with: .*libecpg \([0-9]*\.[0-9]*\).*/\1/p' <<<"$T_OUT")
t_like "the run-time libwebsockets is the one built against (one Debian release)" "$T_OUT" \
	"^running with: libwebsockets ${built_lws//./\\.}, "
t_like "the run-time libpq is libecpg's release" "$T_OUT" "^running with: .*, libpq ${built_pq//./\\.}, "
t_like "and names those that cannot tell" "$T_OUT" "^no run-time version: libsecp256k1, inih, libecpg"

t_status "a missing configuration file exits 2" 2 "$BROTR" --config /nonexistent/brotr.ini config show
t_like "naming the file" "$T_ERR" "/nonexistent/brotr.ini: cannot read configuration file"
t_status "brotr --config /nonexistent monitor exits 2" 2 "$BROTR" --config /nonexistent monitor
t_like "naming the file" "$T_ERR" "^/nonexistent: cannot read configuration file"

printf '[database]\nport = 5432\nnot an ini line\n' >"$impl/config/brotr.ini"
t_status "a malformed INI exits 2" 2 "$BROTR" --config "$impl/config/brotr.ini" config show
t_like "naming file:line" "$T_ERR" "brotr.ini:3: syntax error"

printf '[database]\nprot = 5432\n' >"$impl/config/brotr.ini"
t_status "an unknown key exits 2" 2 "$BROTR" --config "$impl/config/brotr.ini" config show
t_like "naming it" "$T_ERR" "brotr.ini:2: unknown key 'prot' in section \[database\]"

: >"$impl/config/brotr.ini"
BROTR_DATABASE_PORT=abc t_status "BROTR_DATABASE_PORT=abc exits 2" 2 "$BROTR" --config "$impl/config/brotr.ini" config show
t_like "naming the variable" "$T_ERR" "environment BROTR_DATABASE_PORT: \[database\] port = \"abc\": not an integer"

BROTR_CONFIG=$impl/config/brotr.ini BROTR_DATABASE_PORT=6543 t_status "BROTR_CONFIG selects the file" 0 "$BROTR" config show
t_like "and the environment wins" "$T_OUT" "port = 6543 +# environment BROTR_DATABASE_PORT"

printf 'BROTR_DATABASE_PASSWORD=topsecret\n' >"$impl/.env"
chmod 600 "$impl/.env"
t_status "config show with a secret" 0 "$BROTR" --config "$impl/config/brotr.ini" config show
t_like "masks it" "$T_OUT" "password = \*\*\*\*\*\*\*\* +# $impl/.env:1"
t_unlike "never prints it" "$T_OUT$T_ERR" "topsecret"

t_status "--log-level validates" 2 "$BROTR" --log-level loud --config "$impl/config/brotr.ini" config show
t_like "and says what is allowed" "$T_ERR" "debug, info, warn or error"
t_status "--log-format validates" 2 "$BROTR" --log-format xml --config "$impl/config/brotr.ini" config show

# The README's configuration reference is the key table's own output.
"$BROTR" config reference >"$tmp/reference.md"
sed -n '/<!-- config-reference:begin -->/,/<!-- config-reference:end -->/p' README.md | sed '1d;$d' >"$tmp/readme.md"
if diff -u "$tmp/reference.md" "$tmp/readme.md" >"$tmp/diff"; then
	t_pass "README configuration reference matches the key table"
else
	t_fail "README configuration reference matches the key table (regenerate with: make readme)" "$(head -20 "$tmp/diff")"
fi

t_done
