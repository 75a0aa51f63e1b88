#!/usr/bin/env bash
# test_hostile.sh — hostile relays cannot stop the archive: a monitor pass and a synchronizer pass against
# relays that send deeply nested JSON, tag bombs, numbers beyond int64, floods outside the window,
# megabyte NOTICEs, endless streams without EOSE, invalid signatures in bulk and hostile NIP-11 documents,
# beside good relays. The good relays are archived completely, no invalid event is stored, each pass ends
# on its own (not by its budget), SIGTERM ends a pass before its budget, and each pass's peak RSS (the
# monitor's, the synchronizer's) stays within the bound the README documents, computed here from
# `brotr config show`.
#
# env: HOSTILE_MESSAGE_SIZE  [network] max_message_size under test, in bytes; the hostile messages are this size
#                            (default 1M, brotr's default cap)
set -u
cd "$(dirname "$0")/../.."
source tests/harness/tap.sh
source tests/harness/servers.sh
source tests/integration/services_lib.sh

: "${BROTR:=$PWD/build/brotr}"
REAL_BROTR=$BROTR
GEN=$BUILD/tools/event_gen
PEAK=$PWD/$BUILD/tools/peak_rss
MSG=${HOSTILE_MESSAGE_SIZE:-1048576}
T=$(mktemp -d /tmp/brotr-hostile.XXXXXX)
chmod 755 "$T"
trap 'tools_stop; [ -n "${TEST_KEEP:-}" ] || rm -rf "$T"' EXIT
DB=hostile_$$
impl_make "$T/impl"
t_plan 23

q() { db_q "$DB" "$1"; }

# --- relays: two good ones, one with good events behind megabyte NOTICEs, then the hostile ones ---------
"$GEN" --prefix good1 '1000000..1100000:1500' >"$T/good1.jsonl"
tool_start fixture_relay --events "$T/good1.jsonl"
GOOD1=ws://127.0.0.1:$TOOL_PORT
"$GEN" --prefix good2 '1000000..1200000:700' '1150000*40' >"$T/good2.jsonl"
tool_start fixture_relay --events "$T/good2.jsonl" --max-limit 100
GOOD2=ws://127.0.0.1:$TOOL_PORT
# good events from a relay that also sends megabyte NOTICEs (with terminal escapes) before every answer
"$GEN" --prefix notices '1000000..1100000:300' >"$T/notices.jsonl"
tool_start fixture_relay --events "$T/notices.jsonl" --mode notices --hostile-size "$MSG" --hostile-count 8
NOTICES=ws://127.0.0.1:$TOOL_PORT
# every event of this one has a spoilt signature (the id is right: full verification is needed)
"$GEN" --prefix badsig '1000000..1100000:600' >"$T/badsig.jsonl"
tool_start fixture_relay --events "$T/badsig.jsonl" --mode bad-sigs
BADSIG=ws://127.0.0.1:$TOOL_PORT
tool_start fixture_relay --mode deep --hostile-size "$MSG" --nip11-hostile deep --log "$T/deep.log"
DEEP=ws://127.0.0.1:$TOOL_PORT
# three at once, each with more bombs than a batch holds: batches they fill at the same time
BOMBS=""
for i in 1 2 3; do
	tool_start fixture_relay --mode tag-bomb --hostile-size "$MSG" --hostile-count 150
	BOMBS="$BOMBS ws://127.0.0.1:$TOOL_PORT"
done
tool_start fixture_relay --mode huge-numbers --hostile-size "$MSG" --nip11-hostile number
HUGE=ws://127.0.0.1:$TOOL_PORT
tool_start fixture_relay --mode flood --hostile-count 20000
FLOOD=ws://127.0.0.1:$TOOL_PORT
tool_start fixture_relay --mode endless
ENDLESS=ws://127.0.0.1:$TOOL_PORT
HOSTILE="$NOTICES $BADSIG $DEEP$BOMBS $HUGE $FLOOD $ENDLESS"
# A relay that dribbles its answers (fixture_relay --mode dribble), where the fixture has that mode.
if grep -q '"dribble"' tests/tools/fixture_relay.c; then
	tool_start fixture_relay --mode dribble
	HOSTILE="$HOSTILE ws://127.0.0.1:$TOOL_PORT"
fi
RELAYS="$GOOD1 $GOOD2 $HOSTILE"
printf '%s\n' $RELAYS >"$T/seeds.txt"
n_relays=$(printf '%s\n' $RELAYS | wc -l)

# The services' configuration: everything at once, short network timeouts, budgets an operator sets.
cat >"$T/impl/config/brotr.ini" <<-EOF
	[network]
	allow_local = true
	max_message_size = $MSG
	clearnet_connect_timeout = 3s
	clearnet_response_timeout = 5s
	clearnet_idle_timeout = 20s
	[tor]
	socks_proxy =
	[database]
	batch_size = 100
EOF
mkdir -p "$T/impl/config/services"
printf '[initializer]\nseed_file = %s\n' "$T/seeds.txt" >"$T/impl/config/services/initializer.ini"
printf '[monitor]\nwrite_test = false\n' >"$T/impl/config/services/monitor.ini"
printf '[synchronizer]\nmax_relays = 16\nrelay_budget = 60s\npass_budget = 15m\n' \
	>"$T/impl/config/services/synchronizer.ini"
run() { svc_run "$T/impl" "$DB" "$@"; }
# measured SERVICE LOGFILE: the service under peak_rss, its stderr (with peak_rss_kib=) in LOGFILE.
measured() { BROTR=$PEAK svc_run "$T/impl" "$DB" -- "$REAL_BROTR" "$1" 2>"$2"; }
# setting SECTION KEY: the effective value, from `brotr config show`.
setting() { run -- config show | sed -n "/^\[$1\]/,/^\[/s/^$2 = \([^ ]*\).*/\1/p"; }
c_define() { # FILE NAME: the value of '#define NAME EXPR' (integers, casts, shifts), empty when absent
	local e
	e=$(sed -n "s/^#define $2 *\(.*\)/\1/p" "$1" | sed -E 's|/\*.*||; s/\((size_t|unsigned|uint64_t)\)//g; s/([0-9])[uUlL]+/\1/g')
	[ -n "$e" ] && echo $((e))
}
# within_bound PASS PEAK BOUND MISSING: asserts PEAK <= BOUND (bytes); fails when MISSING names code
# constants the bound needs and did not find. Skipped in a sanitizer build (shadow memory, quarantine).
within_bound() {
	local MiB=1048576
	if [ -n "$4" ]; then
		t_fail "the $1's peak RSS within the bound" "$4 not found: update the bound"
	elif [[ $REAL_BROTR == */san-* ]]; then
		t_pass "the $1's peak RSS within the bound # SKIP sanitizer build (shadow memory and quarantine)"
	else
		t_like "the $1's peak RSS ($(($2 / MiB)) MiB) is within the bound ($(($3 / MiB)) MiB)" \
			"$([ "$2" -gt 0 ] && [ "$2" -le "$3" ] && echo within)" "^within$"
	fi
}
ms_of() { sed -n "s/.*$1.* duration_ms=\([0-9]*\).*/\1/p" "$2" | tail -n 1; }
peak_of() { sed -n 's/^peak_rss_kib=\([0-9]*\).*/\1/p' "$1"; }

t_status "db init" 0 run -- db init
t_status "initializer" 0 run -- initializer

# --- the monitor -------------------------------------------------------------------------------
measured monitor "$T/monitor.log"
t_is "the monitor pass completes" "$?" "0"
t_like "it ended because its work was done" "$(grep 'pass ended' "$T/monitor.log")" "result=completed"
t_is "one snapshot per relay, hostile NIP-11 documents included" \
	"$(q "SELECT count(DISTINCT relay_url) FROM relay_metadata")" "$n_relays"
t_set "the good relays are readable" \
	"$(q "SELECT relay_url FROM readable_relays WHERE relay_url IN ('$GOOD1', '$GOOD2', '$NOTICES')")" \
	"$(printf '%s\n' "$GOOD1" "$GOOD2" "$NOTICES")"
t_is "a NIP-11 document with numbers PostgreSQL cannot hold costs the relay neither its snapshot nor readability" \
	"$(q "SELECT count(*) FROM readable_relays WHERE relay_url = '$HUGE'")" "1"
# The monitor's bound (README, after the synchronizer's), from the effective configuration and CHUNK_SIZE.
M=$(setting network max_message_size)
N=$(setting database batch_size)
X=$(setting network nip11_max_size)
S=$(( $(setting network clearnet_max_connections) + $(setting network tor_max_connections) ))
TUN=$(setting network max_tunnels)
C=$S; [ "$TUN" -lt "$C" ] && C=$TUN
U=$(c_define src/services/monitor.c CHUNK_SIZE)
MiB=1048576
KiB=1024
MBOUND=$(( 64 * MiB + C * (3 * M + X + 96 * KiB) + 56 * M + 45 * X + (3 * N + S) * (X + 8 * KiB) \
	+ 6 * N * (X + 5 * KiB) + ${U:-0} * 272 ))
mpeak=$(( $(peak_of "$T/monitor.log") * 1024 ))
echo "# monitor: $(ms_of 'pass ended' "$T/monitor.log") ms, peak RSS $((mpeak / MiB)) MiB, bound $((MBOUND / MiB)) MiB" \
	"(M=$M X=$X N=$N checks=$S connections=$C)"
within_bound monitor "$mpeak" "$MBOUND" "$([ -n "$U" ] || echo CHUNK_SIZE)"

# Whatever the monitor concluded, the synchronizer must meet every hostile relay.
for r in $HOSTILE; do mark_readable "$DB" "$r" clearnet; done

# --- the synchronizer ----------------------------------------------------------------------------
measured synchronizer "$T/sync.log"
t_is "the synchronizer pass completes" "$?" "0"
summary=$(grep 'msg="pass summary"' "$T/sync.log")
t_like "it ended because its work was done, not by its budget or a stop" "$summary" " stopped=0 "
t_is "no relay was ended by the pass budget" "$(grep -c 'pass budget spent' "$T/sync.log")" "0"
t_is "every relay reached its end" \
	"$(grep -cE 'msg="relay (synchronized|not finished)"' "$T/sync.log")" "$n_relays"
t_set "good relay 1: every event" "$(archived_in "$DB" "$GOOD1")" "$(ids_of "$T/good1.jsonl")"
t_set "good relay 2 (capped at 100, a burst of 40 in one second): every event" \
	"$(archived_in "$DB" "$GOOD2")" "$(ids_of "$T/good2.jsonl")"
t_set "the relay sending megabyte NOTICEs: every event" "$(archived_in "$DB" "$NOTICES")" "$(ids_of "$T/notices.jsonl")"
t_set "the archive holds exactly the good events" "$(q "SELECT encode(id, 'hex') FROM events")" \
	"$(ids_of "$T/good1.jsonl" "$T/good2.jsonl" "$T/notices.jsonl")"
q "SELECT json_build_object('id', encode(id, 'hex'), 'pubkey', encode(pubkey, 'hex'), 'created_at', created_at,
	'kind', kind, 'tags', tags, 'content', content, 'sig', encode(sig, 'hex')) FROM events" >"$T/stored.jsonl"
run -- event verify "$T/stored.jsonl" >"$T/verified.txt" 2>/dev/null
t_is "every stored event, read back from the database, verifies again" "$(grep -vc '^valid' "$T/verified.txt")" "0"
t_is "nothing from the hostile relays but the good events of the NOTICE relay" \
	"$(q "SELECT count(*) FROM events_relays WHERE relay_url IN ($(printf "'%s'," $HOSTILE | sed 's/,$//')) AND relay_url <> '$NOTICES'")" "0"

# The synchronizer's bound (README, "Memory bound"): the effective configuration (M, N as above), code constants.
R=$(setting synchronizer max_relays)
CN=$(( $(setting network clearnet_max_connections) + $(setting network tor_max_connections) ))
TUN=$(setting network max_tunnels)
C=$R; [ "$CN" -lt "$C" ] && C=$CN; [ "$TUN" -lt "$C" ] && C=$TUN
BMAX=$(c_define src/services/sync_batch.h SYNC_BATCH_MAX_BYTES)
KEEP=$(c_define src/services/sync_batch.h SYNC_BATCH_KEEP_BYTES)
WQ=$(c_define src/services/sync_pipeline.c WRITER_QUEUE)
K=$(( R + ${WQ:+$WQ + 2} ))
W=$(nproc)
BATCH=$(( BMAX + 16 * M + N * 512 + KEEP ))
BOUND=$(( 64 * MiB + C * (3 * M + 96 * 1024) + 56 * M + W * M + K * BATCH + 7 * (BMAX + M) ))
peak=$(( $(peak_of "$T/sync.log") * 1024 ))
echo "# synchronizer: $(ms_of 'pass ended' "$T/sync.log") ms; peak RSS $((peak / MiB)) MiB, bound $((BOUND / MiB)) MiB" \
	"(M=$M N=$N connections=$C batches=$K workers=$W)"
missing=
[ -n "$BMAX" ] && [ -n "$KEEP" ] && [ "$K" -ne "$R" ] || missing="SYNC_BATCH_MAX_BYTES, SYNC_BATCH_KEEP_BYTES or WRITER_QUEUE"
within_bound synchronizer "$peak" "$BOUND" "$missing"

# --- SIGTERM in the middle of a pass ---------------------------------------------------------------
# A new pass reads the deep relay's last hour again (overlap): SIGTERM comes once it has been asked,
# while its nested message is on the way or being parsed.
budget=$(setting synchronizer pass_budget)
budget_ms=$(printf '%s' "$budget" | awk '{ n = $0 + 0; u = substr($0, length(n "") + 1);
	print n * (u == "ms" ? 1 : u == "s" ? 1000 : u == "m" ? 60000 : u == "h" ? 3600000 : 86400000) }')
reqs0=$(grep -c '^REQ ' "$T/deep.log")
svc_start "$T/impl" "$DB" -- synchronizer 2>"$T/term.log" &
pid=$!
while kill -0 "$pid" 2>/dev/null && [ "$(grep -c '^REQ ' "$T/deep.log")" -le "$reqs0" ]; do sleep 0.1; done
running=$(kill -0 "$pid" 2>/dev/null && echo yes)
t0=$(date +%s%N)
kill -TERM "$pid" 2>/dev/null
wait "$pid"
rc=$?
t1=$(date +%s%N)
t_is "the pass was still at work when SIGTERM came" "$running" "yes"
t_is "a pass stopped by SIGTERM exits 1" "$rc" "1"
t_like "after saying it stopped" "$(grep 'pass ended' "$T/term.log")" "result=interrupted"
elapsed=$(( (t1 - t0) / 1000000 ))
term_ms=$(ms_of 'pass ended' "$T/term.log")
echo "# SIGTERM to exit: $elapsed ms; the interrupted pass lasted ${term_ms:-?} ms (pass budget $budget)"
t_like "it stopped well before its budget ($budget) ran out" \
	"$([ -n "$term_ms" ] && [ "$term_ms" -lt "$budget_ms" ] && echo before)" "^before$"

t_done
