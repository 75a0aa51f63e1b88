#!/usr/bin/env bash
# json.sh — json_parse of hostile shapes at the message cap (1 MiB) next to one plain pass over the same
# bytes, measured in the same run: every shape must stay a small multiple of the scan (linear), where deep
# nesting once took minutes. Env: BUILD (build dir), BENCH_JSON_BYTES (default 1048576).
set -eu
cd "$(dirname "$0")/../.."
: "${BUILD:=build}"
"$BUILD/tools/nostr_bench" json "${BENCH_JSON_BYTES:-1048576}"
