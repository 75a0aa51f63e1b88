#!/usr/bin/env bash
# test_export_import.sh — `brotr import` (counts by reason, line numbers, idempotence, relays) and `brotr export`
# (event verify accepts every line, filters equal SQL, --with-relays, round trip into a second archive, lilbrotr).
set -u
cd "$(dirname "$0")/../.."
: "${BUILD:=build}" "${BROTR:=$PWD/$BUILD/brotr}"
source tests/harness/servers.sh
source tests/harness/tap.sh
source tests/integration/services_lib.sh
[ -n "${TEST_PGPORT:-}" ] || { echo "not ok - run me through tests/run (make check): I need the harness's PostgreSQL"; exit 1; }
T=$(mktemp -d "$TEST_TMP/export.XXXXXX")
cleanup() { [ -z "${TEST_KEEP:-}" ] && rm -rf "$T"; return 0; }
trap cleanup EXIT
t_plan 71

FIX=tests/fixtures/nostr
DB=exp_$$
DB2=exp2_$$
DB3=exp3_$$
READER=test_reader_$$
impl_make "$T/impl" "[network]
allow_local = true"
t_status "db init" 0 svc_run "$T/impl" "$DB" db init
psql_admin -d "$DB" -qc "CREATE ROLE $READER LOGIN PASSWORD 'reader-pw' IN ROLE brotr_reader" >/dev/null
# as_reader DB ARGS...: brotr as the read-only analyst role.
as_reader() {
	local db=$1
	shift
	svc_run "$T/impl" "$db" BROTR_DATABASE_READER_USER="$READER" BROTR_DATABASE_READER_PASSWORD=reader-pw -- "$@"
}
# summary_of TEXT: the import's summary line.
summary_of() { printf '%s\n' "$1" | grep '^lines='; }

# ---- the input: the nostr-tools fixtures (valid and invalid), generated events, and bad lines of our own
paste "$FIX/events.expect" "$FIX/events.jsonl" | awk -F'\t' '$1 == "valid"' | cut -f5- >"$T/valid.jsonl"
"$BUILD/tools/event_gen" --authors 3 --kind 1 1700000100..1700000900:200 >"$T/gen1.jsonl"
"$BUILD/tools/event_gen" --authors 2 --kind 7 --prefix reaction 1700000500..1700001500:100 >"$T/gen7.jsonl"
good=$(head -1 "$T/gen1.jsonl")
{
	cat "$FIX/events.jsonl" "$T/gen1.jsonl"
	printf '%s\n' "${good/\"sig\":\"/\"sig\":\"00}" | sed 's/"sig":"00\(.\{126\}\)../"sig":"00\1/' # bad signature
	printf '%s\n' "${good/\"content\":\"/\"content\":\"X}"                                            # bad id
	printf '{"id": nope}\n'                                                                              # malformed
	head -c 1100000 /dev/zero | tr '\0' 'x'; echo                                                       # over-long
} >"$T/input.jsonl"
bad_sig_line=$(($(wc -l <"$FIX/events.jsonl") + 200 + 1))
over_line=$((bad_sig_line + 3))
n_lines=$(wc -l <"$T/input.jsonl")
# What is expected per reason: the fixtures' verdicts, our four lines, and the valid events holding
# U+0000, which PostgreSQL cannot store (reason nul).
n_nul=$(grep -c '\\u0000' "$T/valid.jsonl")
n_valid=$(($(wc -l <"$T/valid.jsonl") + 200))
# the fixtures repeat a few events: the repeats are duplicates
n_stored=$(cat "$T/valid.jsonl" "$T/gen1.jsonl" | grep -v '\\u0000' | ids_of | wc -l)
n_dup=$((n_valid - n_nul - n_stored))
want_reasons=$( {
	awk -F'\t' '$1 == "invalid" { split($3, w, " "); r = w[1] "_" w[2]; print r }' "$FIX/events.expect"
	printf 'bad_signature\nbad_id\nnot_JSON\ntoo_large\n'
	for ((i = 0; i < n_nul; i++)); do echo nul; done
} | sort | uniq -c | awk '{ print "rejected." $2 "=" $1 }' | sort)

# ---- import
t_status "import with a bad --relay is a usage error" 2 svc_run "$T/impl" "$DB" import --relay https://x.example "$T/input.jsonl"
t_like "it names the reason" "$T_ERR" "ws or wss"
t_status "import: bad lines do not fail it" 0 svc_run "$T/impl" "$DB" import --relay ws://127.0.0.1:7777/ "$T/input.jsonl"
summary=$(summary_of "$T_OUT")
t_like "summary: lines, stored, duplicate, rejected" "$summary" \
	"^lines=$n_lines stored=$n_stored duplicate=$n_dup rejected=$((n_lines - n_valid + n_nul)) "
t_is "summary: rejected by reason" "$(printf '%s\n' "$summary" | tr ' ' '\n' | grep '^rejected\.' | sort)" "$want_reasons"
t_like "a bad signature names its line" "$T_ERR" "brotr import: $T/input.jsonl:$bad_sig_line: rejected: id=[0-9a-f]{64} reason=\"bad signature\""
t_like "an over-long line names its line" "$T_ERR" ":$over_line: rejected: id=- reason=\"too large: more than 1048576 bytes\""
t_like "malformed JSON names the reason" "$T_ERR" "reason=\"not JSON: [^\"]+\""
t_like "U+0000 is rejected by name" "$T_ERR" "reason=\"nul: the database cannot hold this event\""
t_is "the archive holds exactly the storable valid events" \
	"$(db_q "$DB" "SELECT encode(id, 'hex') FROM events ORDER BY 1")" \
	"$(cat "$T/valid.jsonl" "$T/gen1.jsonl" | grep -v '\\u0000' | ids_of)"
t_is "every event is attributed to the normalised --relay" \
	"$(db_q "$DB" "SELECT relay_url, count(*) FROM events_relays GROUP BY 1")" "ws://127.0.0.1:7777|$n_stored"
t_is "the relay is registered" "$(db_q "$DB" "SELECT url, network FROM relays")" "ws://127.0.0.1:7777|clearnet"

# Batches of 7: many batches in flight one after the other, the same outcome line by line.
t_status "import in batches of 7 into another archive" 0 svc_run "$T/impl" "$DB3" BROTR_DATABASE_BATCH_SIZE=7 -- db init
svc_run "$T/impl" "$DB3" BROTR_DATABASE_BATCH_SIZE=7 -- import --relay ws://127.0.0.1:7777 "$T/input.jsonl" >"$T/small.out" 2>"$T/small.err"
t_is "batches of 7: the same summary" "$(summary_of "$(cat "$T/small.out")")" "$summary"
t_is "batches of 7: the same rejected lines" "$(grep -c ': rejected: ' "$T/small.err")" "$((n_lines - n_valid + n_nul))"
t_is "batches of 7: the same events" "$(db_q "$DB3" "SELECT encode(id, 'hex') FROM events ORDER BY 1")" \
	"$(db_q "$DB" "SELECT encode(id, 'hex') FROM events ORDER BY 1")"

# The line cap follows [network] max_message_size.
svc_run "$T/impl" "$DB3" BROTR_NETWORK_MAX_MESSAGE_SIZE=2048 -- import --relay ws://127.0.0.1:7777 "$T/valid.jsonl" >"$T/cap.out" 2>"$T/cap.err"
t_is "a smaller max_message_size rejects the longer lines as too large" \
	"$(grep -o 'rejected.too_large=[0-9]*' "$T/cap.out")" "rejected.too_large=$(awk 'length($0) > 2048' "$T/valid.jsonl" | wc -l)"
# The cap's edge: a line of exactly max_message_size bytes is read, one byte more is too large; a last
# line without its newline is read too.
line=$(sed -n 2p "$T/gen1.jsonl")
pad=$((2048 - ${#line}))
{ printf '%s%*s\n' "$line" "$pad" ''; printf '%s%*s\n' "$(sed -n 3p "$T/gen1.jsonl")" $((2049 - ${#line})) ''
  printf '%s' "$(sed -n 4p "$T/gen1.jsonl")"; } >"$T/edge.jsonl"
svc_run "$T/impl" "$DB3" BROTR_NETWORK_MAX_MESSAGE_SIZE=2048 -- import --relay ws://127.0.0.1:7777 "$T/edge.jsonl" >"$T/edge.out" 2>"$T/edge.err"
t_is "exactly the cap is read, one byte more is too large, a last line without newline is read" \
	"$(cat "$T/edge.out")" "lines=3 stored=0 duplicate=2 rejected=1 rejected.too_large=1"
t_like "the byte over the cap names line 2" "$(cat "$T/edge.err")" ":2: rejected: id=- reason=\"too large: more than 2048 bytes\""
# A database that cannot be reached: exit status 1, nothing claimed stored.
t_status "an unreachable database fails the import" 1 svc_run "$T/impl" "$DB" BROTR_DATABASE_PORT="$(free_port)" \
	BROTR_DATABASE_CONNECT_WAIT=0 -- import --relay ws://127.0.0.1:7777 "$T/gen1.jsonl"
t_like "and says so" "$T_ERR" "cannot connect"

t_status "import again" 0 svc_run "$T/impl" "$DB" import --relay ws://127.0.0.1:7777 "$T/input.jsonl"
t_like "re-import: everything valid is a duplicate, nothing stored" "$(summary_of "$T_OUT")" \
	"^lines=$n_lines stored=0 duplicate=$((n_valid - n_nul)) rejected=$((n_lines - n_valid + n_nul)) "
t_is "re-import: no event stored twice" "$(db_q "$DB" "SELECT count(*) FROM events")" "$n_stored"
t_status "import from standard input, another relay" 0 svc_run "$T/impl" "$DB" import --relay ws://127.0.0.1:7778 - <"$T/gen7.jsonl"
t_like "stdin: the new events stored" "$(summary_of "$T_OUT")" "^lines=100 stored=100 duplicate=0 rejected=0$"
t_status "the same file on a third relay" 0 svc_run "$T/impl" "$DB" import --relay ws://127.0.0.1:7779 "$T/gen7.jsonl"
t_like "duplicates gain the relay" "$(summary_of "$T_OUT")" "^lines=100 stored=0 duplicate=100 rejected=0$"
t_is "two relays for each reaction" \
	"$(db_q "$DB" "SELECT count(*) FROM events_relays WHERE relay_url IN ('ws://127.0.0.1:7778', 'ws://127.0.0.1:7779')")" 200
t_status "a line without relays and no --relay is rejected" 0 svc_run "$T/impl" "$DB" import "$T/gen7.jsonl"
t_like "counted as no_relay" "$(summary_of "$T_OUT")" "^lines=100 stored=0 duplicate=0 rejected=100 rejected.no_relay=100$"

# ---- export
t_status "export as the services' role is refused by the database" 1 svc_run "$T/impl" "$DB" export
t_like "it says why" "$T_ERR" "permission denied"
t_status "export as the reader" 0 as_reader "$DB" export --output "$T/all.jsonl"
t_like "export summary" "$T_ERR" "msg=\"export summary\" events=$((n_stored + 100))"
t_is "no partial file left" "$(ls "$T" | grep -c partial)" 0
t_status "event verify accepts every exported line" 0 "$BROTR" event verify "$T/all.jsonl"
t_is "export: the ids are the archive's" "$(ids_of "$T/all.jsonl")" "$(db_q "$DB" "SELECT encode(id, 'hex') FROM events ORDER BY 1")"
# Byte for byte what JavaScript writes for the same events (JSON.stringify, NIP-01's escapes), whatever
# key order, whitespace and escapes the input used.
canonical() {
	node -e 'for (const l of require("fs").readFileSync(0, "utf8").split("\n").filter((l) => l !== "")) {
		const e = JSON.parse(l);
		console.log(JSON.stringify({ id: e.id, pubkey: e.pubkey, created_at: e.created_at, kind: e.kind,
			tags: e.tags, content: e.content, sig: e.sig })); }'
}
t_is "export: lines are the canonical serialisation" \
	"$(cat "$T/valid.jsonl" "$T/gen1.jsonl" "$T/gen7.jsonl" | grep -v '\\u0000' | canonical | sort -u)" "$(sort "$T/all.jsonl")"
t_status "export to standard output" 0 as_reader "$DB" export
t_is "stdout: the same lines" "$(printf '%s\n' "$T_OUT" | sort)" "$(sort "$T/all.jsonl")"

# filter FILTER SQL-CONDITION DESC: the export with --filter equals SQL's selection.
filter() {
	t_status "export --filter $3" 0 as_reader "$DB" export --filter "$1"
	t_is "export --filter $3: the ids SQL selects" "$(printf '%s\n' "$T_OUT" | ids_of)" \
		"$(db_q "$DB" "SELECT encode(id, 'hex') FROM events WHERE $2 ORDER BY 1")"
}
json_field() { sed -n "s/.*\"$1\":\"\([0-9a-f]*\)\".*/\1/p"; } # FIELD: a hex string field of a JSON line
author=$(json_field pubkey <<<"$good")
filter '{"kinds":[7,0]}' "kind IN (7, 0)" "kinds"
id1=$(sed -n 1p "$T/gen1.jsonl" | json_field id) id2=$(sed -n 5p "$T/gen7.jsonl" | json_field id)
filter "{\"ids\":[\"$id1\",\"$id2\"]}" "id IN (decode('$id1', 'hex'), decode('$id2', 'hex'))" "ids"
filter '{"kinds":[]}' "false" "an empty list matches nothing"
filter "{\"authors\":[\"$author\"],\"kinds\":[1]}" "pubkey = decode('$author', 'hex') AND kind = 1" "authors+kinds"
filter '{"since":1700000400,"until":1700000600}' "created_at BETWEEN 1700000400 AND 1700000600" "since/until"
filter '{"#e":["5c83da77af1dec6d7289834998ad7aafbd9e2191396d75ec3cc27f5a77226f36"],"#p":["f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9"]}' \
	"tags @> '[[\"e\", \"5c83da77af1dec6d7289834998ad7aafbd9e2191396d75ec3cc27f5a77226f36\"]]' AND tags @> '[[\"p\", \"f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9\"]]'" "#e+#p"
filter '{"#t":["café","nothing"]}' "tags @> '[[\"t\", \"café\"]]'" "#t"
t_is "a tag filter matches the tag's name, not any letter with that value" \
	"$(as_reader "$DB" export --filter '{"#a":["5c83da77af1dec6d7289834998ad7aafbd9e2191396d75ec3cc27f5a77226f36"]}' 2>/dev/null)" ""
t_status "--since/--until narrow the filter's bounds" 0 as_reader "$DB" export --filter '{"since":1700000000}' --since 1700001000 --until 1700001200
t_is "--since/--until: the ids SQL selects" "$(printf '%s\n' "$T_OUT" | ids_of)" \
	"$(db_q "$DB" "SELECT encode(id, 'hex') FROM events WHERE created_at BETWEEN 1700001000 AND 1700001200 ORDER BY 1")"
t_status "a limit is refused" 2 as_reader "$DB" export --filter '{"limit":10}'
t_status "an unknown filter key is refused" 2 as_reader "$DB" export --filter '{"kind":1}'

# ---- --with-relays, and the round trip into a second archive
t_status "export --with-relays" 0 as_reader "$DB" export --with-relays --output "$T/rel.jsonl"
t_is "each line names its relays, sorted" "$(grep -c '"relays":\["ws://127.0.0.1:7778","ws://127.0.0.1:7779"\]}$' "$T/rel.jsonl")" 100
t_status "event verify accepts the --with-relays lines" 0 "$BROTR" event verify "$T/rel.jsonl"
t_status "db init of a second archive" 0 svc_run "$T/impl" "$DB2" db init
t_status "import the export into it, relays from the lines" 0 svc_run "$T/impl" "$DB2" BROTR_DATABASE_BATCH_SIZE=13 -- import "$T/rel.jsonl"
t_is "the second archive holds the same events on the same relays" \
	"$(db_q "$DB2" "SELECT encode(event_id, 'hex') || ' ' || relay_url FROM events_relays ORDER BY 1")" \
	"$(db_q "$DB" "SELECT encode(event_id, 'hex') || ' ' || relay_url FROM events_relays ORDER BY 1")"

# ---- lilbrotr: it keeps no tags, content or signatures, so it has no NIP-01 events to export
mkdir -p "$T/lil/config" "$T/lil/data"
ln -sfn "$PWD/implementations/lilbrotr/config/postgres" "$T/lil/config/postgres"
printf '[network]\nallow_local = true\n' >"$T/lil/config/brotr.ini"
LIL=exp_lil_$$
t_status "lilbrotr: db init" 0 svc_run "$T/lil" "$LIL" db init
svc_run "$T/lil" "$LIL" import --relay ws://127.0.0.1:7777 "$T/gen1.jsonl" >"$T/lil.out" 2>/dev/null
t_is "lilbrotr: import stores what it keeps" "$(summary_of "$(cat "$T/lil.out")")" "lines=200 stored=200 duplicate=0 rejected=0"
t_status "lilbrotr: export is refused" 1 svc_run "$T/lil" "$LIL" BROTR_DATABASE_READER_USER="$READER" BROTR_DATABASE_READER_PASSWORD=reader-pw -- export
t_like "lilbrotr: with the reason" "$T_ERR" "lilbrotr archive keeps no tags, content or signatures"
t_done
