#!/usr/bin/env bash
# test_negentropy.sh — brotr's NIP-77 negentropy against an independent implementation (@nostr-dev-kit/sync, npm), both roles.
#
# Each case builds two item sets with known differences (tests/thirdparty/negentropy.mjs gen), then
# reconciles them over the reference test harness's stdin/stdout protocol: brotr's module
# (build/tools/neg_tool) initiating against the JavaScript responder, and the JavaScript initiator
# against brotr's responder, without and with a frame size limit on both sides. have/need must equal
# the true differences exactly, and no message may exceed the limit. Timestamps stay below 2^31 (the
# JavaScript varints use 32-bit shifts). The last lines (comments) give round trips and bytes at
# 100k items for every pairing, brotr's C and the JavaScript.
set -u
cd "$(dirname "$0")/../.."
: "${BUILD:=build}"
source tests/harness/servers.sh
source tests/harness/tap.sh
own_tmp=${TEST_TMP:+no}
harness_tmp
T=$(mktemp -d "$TEST_TMP/negentropy.XXXXXX")
cleanup() {
	[ -z "${TEST_KEEP:-}" ] && rm -rf "$T"
	[ -z "$own_tmp" ] && [ -z "${TEST_KEEP:-}" ] && rm -rf "$TEST_TMP"
	return 0
}
trap cleanup EXIT

C="$PWD/$BUILD/tools/neg_tool harness"
# name  items  fraction on one side only  layout
CASES="empty:0:0:scattered one:1:1:scattered n31:31:0.1:scattered n32:32:0.1:clustered
n1000s:1000:0.05:scattered n1000c:1000:0.05:clustered k100c:100000:0.01:clustered
k100s:100000:0.01:scattered k100same:100000:0:scattered"
FRAMES="0 4096"
n_cases=$(echo $CASES | wc -w)
t_plan $((1 + n_cases * 2 * 2 + 1))

if ! thirdparty_install; then
	t_fail "the JavaScript implementation installs (npm ci: see build/thirdparty/npm.log)"
	t_done
	exit 1
fi
t_pass "the JavaScript implementation installs"
NEG="$THIRDPARTY_DIR/negentropy.mjs"
J="node $NEG harness"

# pair DESC INITIATOR RESPONDER A B FRAME: one reconciliation; ok when have/need are exact and every
# message fits the frame limit.
pair() {
	local out max
	out=$(node "$NEG" pair "$2" "$3" "$4" "$5" "$6" "$6" 2>&1)
	max=$(printf '%s' "$out" | sed -n 's/.*"max_message":\([0-9]*\).*/\1/p')
	if printf '%s' "$out" | grep -q '^{"ok":true' && { [ "$6" = 0 ] || [ "${max:-0}" -le "$6" ]; }; then
		t_pass "$1"
	else
		t_fail "$1" "$out"
	fi
	LAST=$out
}

for c in $CASES; do
	IFS=: read -r name n diff layout <<<"$c"
	node "$NEG" gen "$n" "$diff" "$layout" 77 "$T/$name.a" "$T/$name.b"
	for f in $FRAMES; do
		lim=$([ "$f" = 0 ] && echo "no frame limit" || echo "frames of $f bytes")
		pair "$name ($n items, $diff on one side, $layout, $lim): brotr initiates, JavaScript responds" \
			"$C" "$J" "$T/$name.a" "$T/$name.b" "$f"
		[ "$name" = k100same ] && [ "$f" = 0 ] && same=$LAST
		pair "$name ($n items, $diff on one side, $layout, $lim): JavaScript initiates, brotr responds" \
			"$J" "$C" "$T/$name.a" "$T/$name.b" "$f"
	done
done
t_like "identical 100k sets take one round trip" "$same" '"rounds":1,'

# Measurements (no assertion): round trips and bytes at 100k items, every pairing, no frame limit.
for name in k100c k100s k100same; do
	for p in "C:$C:C:$C" "C:$C:JS:$J" "JS:$J:C:$C" "JS:$J:JS:$J"; do
		IFS=: read -r ni ci nr cr <<<"$p"
		out=$(node "$NEG" pair "$ci" "$cr" "$T/$name.a" "$T/$name.b" 2>&1)
		echo "# $name, $ni initiates, $nr responds: $out"
	done
done
t_done
