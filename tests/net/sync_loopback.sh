#!/usr/bin/env bash
# sync_loopback.sh: `cardinal-cli sync` copies mainnet epoch 0 from
# `cardinal-node serve` over loopback, pipelined on 2 threads and not
# pipelined on 1, and each copy validates and has the served tip
# (docs/testing.md "Network"). A second
# sync into a full copy fetches nothing; a sync against a closed port fails
# with exit 3.
# Usage: sync_loopback.sh CARDINAL_CLI CARDINAL_NODE VECTORS_DIR
set -euo pipefail
cli=$1 node_bin=$2 vectors=$3
here=$(cd "$(dirname "$0")" && pwd)
. "$here/serve_lib.sh"
loopback_setup src

fail() { echo "sync_loopback: FAIL: $*" >&2; exit 1; }

"$cli" db info --db "$work/src" >"$work/src.json"
src_tip=$(sed -n '0,/"hash"/s/.*"hash": "\([0-9a-f]*\)".*/\1/p' "$work/src.json")
serve_start "$work/src"

# Pipelined with blocks parsed and checked on 2 threads; then one request
# at a time on this thread alone.
for run in 200:2 1:1; do
  pipeline=${run%:*} threads=${run#*:}
  copy=$work/copy-$pipeline
  "$cli" sync --from "127.0.0.1:$serve_port" --db "$copy" --genesis "$genesis" \
    --pipeline "$pipeline" --threads "$threads" >"$work/sync.json"
  [ "$(json_number threads <"$work/sync.json")" = "$threads" ] || fail "threads: $(cat "$work/sync.json")"
  [ "$(json_number blocks <"$work/sync.json")" = 21587 ] || fail "pipeline $pipeline: $(cat "$work/sync.json")"
  [ "$(json_number adopted <"$work/sync.json")" = 21587 ] || fail "pipeline $pipeline: not all adopted"
  "$cli" chain validate --db "$copy" >"$work/validate.json" || fail "the copy does not validate"
  [ "$(json_number blocks <"$work/validate.json")" = 21587 ] || fail "validate: $(cat "$work/validate.json")"
  grep -q "\"hash\": \"$src_tip\"" "$work/sync.json" || fail "pipeline $pipeline: tip is not $src_tip"
  "$cli" db validate --db "$copy" >/dev/null || fail "pipeline $pipeline: db validate"
done

# Already synced: the intersection is our tip and nothing is fetched.
"$cli" sync --from "127.0.0.1:$serve_port" --db "$work/copy-200" >"$work/again.json"
[ "$(json_number headers <"$work/again.json")" = 0 ] || fail "resync fetched: $(cat "$work/again.json")"
[ "$(json_number blocks <"$work/again.json")" = 0 ] || fail "resync fetched blocks"

serve_stop
# Every connection ended because the client closed it.
opened=$(grep -c '"event":"conn.opened"' "$work/node.log")
closed=$(grep -c '"event":"conn.closed","msg":"127.0.0.1:[0-9]*: the peer closed (' "$work/node.log")
[ "$opened" = 3 ] && [ "$closed" = 3 ] || fail "connections: $opened opened, $closed closed by the peer"

status=0
"$cli" sync --from "127.0.0.1:$serve_port" --db "$work/copy-200" >/dev/null 2>"$work/err" || status=$?
[ "$status" = 3 ] || fail "sync to a closed port: exit $status, $(cat "$work/err")"
grep -q '"rule":"io"' "$work/err" || grep -q 'connect' "$work/err" || fail "error: $(cat "$work/err")"
echo "sync_loopback: ok"
