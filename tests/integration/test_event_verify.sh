#!/usr/bin/env bash
# test_event_verify.sh — `brotr event verify`: verdicts on the nostr-tools fixtures, output format and order,
# exit statuses, standard input, many threads. Needs $BROTR and $BUILD/tools/nostr_bench.
set -u
cd "$(dirname "$0")/../.."
source tests/harness/tap.sh
: "${BUILD:=build}"
BROTR=${BROTR:-$BUILD/brotr}
BENCH=$BUILD/tools/nostr_bench
FIX=tests/fixtures/nostr
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The fixtures: one output line per input line, verdict and id as expected, reason starting as expected.
t_status "fixtures: exit status 1 (some invalid)" 1 "$BROTR" event verify "$FIX/events.jsonl"
printf '%s\n' "$T_OUT" >"$tmp/out"
t_is "fixtures: one output line per input line" "$(wc -l <"$tmp/out")" "$(wc -l <"$FIX/events.jsonl")"
mismatches=$(paste "$tmp/out" "$FIX/events.expect" | awk -F'\t' '
	{ if ($1 != $4 || $2 != $5 || ($6 != "" && index($3, $6) != 1) || ($1 == "valid" && $3 != "ok")) print NR ": " $0 }')
t_is "fixtures: every verdict, id and reason as expected" "$mismatches" ""
t_like "format: valid<TAB>id<TAB>ok" "$(head -1 "$tmp/out")" $'^valid\t[0-9a-f]{64}\tok$'
t_like "format: tampered signature" "$(grep -m1 -n 'bad signature' "$tmp/out")" $'invalid\t[0-9a-f]{64}\tbad signature$'
t_like "format: not JSON has no id" "$(grep -m1 'not JSON' "$tmp/out")" $'^invalid\t-\tnot JSON: '

# Only the valid lines: exit status 0.
paste "$FIX/events.expect" "$FIX/events.jsonl" | awk -F'\t' '$1 == "valid"' | cut -f5- >"$tmp/valid.jsonl"
t_status "all valid: exit status 0" 0 "$BROTR" event verify "$tmp/valid.jsonl"
t_is "all valid: all lines valid" "$(printf '%s\n' "$T_OUT" | grep -c '^valid')" "$(wc -l <"$tmp/valid.jsonl")"

# Standard input (absent FILE and "-") gives the same output as the file.
t_status "stdin: exit status" 1 "$BROTR" event verify <"$FIX/events.jsonl"
t_is "stdin: same output as FILE" "$T_OUT" "$(cat "$tmp/out")"
"$BROTR" event verify - <"$FIX/events.jsonl" >"$tmp/dash"
t_is "'-': same output as FILE" "$(cat "$tmp/dash")" "$(cat "$tmp/out")"

# Order across batches and threads: 10000 generated events with broken lines at known places.
if "$BENCH" gen 10000 50 >"$tmp/gen.jsonl"; then
	awk 'NR == 1 || NR == 4097 || NR == 9999 { print "{\"broken\": " NR "}"; next } NR == 5000 { print ""; next }
	     NR == 7000 { sub(/"content":"/, "\"content\":\"X") } { print }' "$tmp/gen.jsonl" >"$tmp/mixed.jsonl"
	t_status "10000 events, 1 thread: exit status 1" 1 "$BROTR" event verify -j 1 "$tmp/mixed.jsonl"
	one=$T_OUT
	t_status "10000 events, 4 threads: exit status 1" 1 "$BROTR" event verify --jobs 4 "$tmp/mixed.jsonl"
	t_is "10000 events: same output with 1 and 4 threads" "$T_OUT" "$one"
	t_is "10000 events: invalid exactly at lines 1 4097 5000 7000 9999" \
		"$(printf '%s\n' "$T_OUT" | grep -n '^invalid' | cut -d: -f1 | tr '\n' ' ')" "1 4097 5000 7000 9999 "
	t_like "10000 events: line 7000 has a bad id" "$(printf '%s\n' "$T_OUT" | sed -n 7000p)" $'^invalid\t[0-9a-f]{64}\tbad id'
	t_is "10000 events: ids in input order" "$(printf '%s\n' "$T_OUT" | sed -n 2p | cut -f2)" \
		"$(sed -n 2p "$tmp/gen.jsonl" | cut -c8-71)"
	t_is "10000 events through a pipe: same output as from the file" \
		"$(cat "$tmp/mixed.jsonl" | "$BROTR" event verify -j 3)" "$one"
	t_status "10000 valid events: exit status 0" 0 "$BROTR" event verify "$tmp/gen.jsonl"
	t_is "10000 valid events: 10000 valid lines" "$(printf '%s\n' "$T_OUT" | grep -c $'^valid\t')" 10000
else
	t_fail "nostr_bench gen (build it with make $BUILD/tools/nostr_bench)"
fi

# Edges: empty input, a last line without newline, CRLF, an oversized line.
t_status "empty input: exit status 0" 0 "$BROTR" event verify </dev/null
t_is "empty input: no output" "$T_OUT" ""
head -1 "$FIX/events.jsonl" | tr -d '\n' >"$tmp/nonl"
t_status "last line without newline: exit status 0" 0 "$BROTR" event verify "$tmp/nonl"
t_like "last line without newline: verified" "$T_OUT" $'^valid\t'
head -1 "$FIX/events.jsonl" | sed 's/$/\r/' >"$tmp/crlf"
t_status "CRLF line: valid (CR is JSON whitespace)" 0 "$BROTR" event verify "$tmp/crlf"
{ head -c 1048577 /dev/zero | tr '\0' ' '; echo; head -1 "$FIX/events.jsonl"; } >"$tmp/big"
t_status "oversized line: exit status 1" 1 "$BROTR" event verify "$tmp/big"
t_is "oversized line: too large, then the next line valid" "$(printf '%s\n' "$T_OUT" | cut -f1,3 | tr '\t' ':' | paste -sd'|')" \
	"invalid:too large: more than 1048576 bytes|valid:ok"

# Usage and I/O errors: exit status 2.
t_status "missing file: exit status 2" 2 "$BROTR" event verify "$tmp/nonexistent"
t_like "missing file: says why" "$T_ERR" "No such file"
t_status "a directory: exit status 2" 2 "$BROTR" event verify "$tmp"
t_status "two files: exit status 2" 2 "$BROTR" event verify "$FIX/events.jsonl" "$FIX/events.jsonl"
t_status "unknown option: exit status 2" 2 "$BROTR" event verify --frobnicate
t_status "bad -j: exit status 2" 2 "$BROTR" event verify -j zero "$FIX/events.jsonl"
t_status "--help: exit status 0" 0 "$BROTR" event verify --help
t_like "--help: describes the output" "$T_OUT" "invalid<TAB>ID or -<TAB>REASON"
t_done
