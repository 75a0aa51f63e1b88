#!/usr/bin/env bash
# negentropy.sh — NIP-77 negentropy CPU time at 100k items: building the storage and one full reconciliation
# with 1% missing (both sides in one process), brotr's C next to sha256 of each id once (a yardstick from the same run),
# and the same items through @nostr-dev-kit/sync (JavaScript) when its npm install is available.
#
# Env: BUILD (build dir), BENCH_NEG_ITEMS (default 100000), BENCH_NEG_ROUNDS (default 5; best of them).
set -eu
cd "$(dirname "$0")/../.."
: "${BUILD:=build}"
N=${BENCH_NEG_ITEMS:-100000}
ROUNDS=${BENCH_NEG_ROUNDS:-5}
best=""
for _ in $(seq "$ROUNDS"); do
	line=$("$BUILD/tools/neg_tool" bench "$N")
	ms=$(printf '%s' "$line" | sed -n 's/.*missing \([0-9.]*\) ms.*/\1/p')
	if [ -z "$best" ] || awk -v a="$ms" -v b="$best_ms" 'BEGIN { exit !(a < b) }'; then
		best=$line best_ms=$ms
	fi
done
echo "$best (best of $ROUNDS)"
source tests/harness/servers.sh
if thirdparty_install 2>/dev/null; then
	node "$THIRDPARTY_DIR/negentropy.mjs" bench "$N"
else
	echo "negentropy (JavaScript): not measured (npm install of tests/thirdparty failed; see build/thirdparty/npm.log)"
fi
