#!/usr/bin/env bash
# sync_settings.sh: `cardinal-cli sync` takes the network's settings from a
# node config or a genesis directory (docs/cli.md "sync"). A two-core devnet
# (PBFT threshold 1/2 + 0.2 = 0.7, k = 5) forges a chain that mainnet's
# default threshold 0.22 refuses; `cardinal-node serve` serves it. Synced
# with --config, with --genesis-dir on the devnet, its genesis/ and a node's
# folder, and with a bare genesis folder plus --pbft-threshold, every copy
# has the served tip and records the devnet's settings; --genesis alone
# stops at the first block the default threshold refuses (exit 1); the
# database that sync built with 0.22 is then refused by --config, with the
# message naming both thresholds and the ways out (exit 2).
# Usage: sync_settings.sh CARDINAL_CLI CARDINAL_NODE VECTORS_DIR
set -euo pipefail
cli=$1 node_bin=$2 vectors=$3
here=$(cd "$(dirname "$0")" && pwd)
. "$here/serve_lib.sh"
work=$(mktemp -d)
trap 'serve_kill; rm -rf "$work"' EXIT

fail() { echo "sync_settings: FAIL: $*" >&2; exit 1; }

net=$work/net
"$cli" devnet create --dir "$net" --core-nodes 2 --relays 0 --k 5 --poor-addresses 3 >/dev/null
genesis_hash=$("$cli" genesis hash --genesis "$net/genesis/genesis.json")
"$cli" chain generate --genesis-dir "$net/genesis" --out "$work/c.chunk" --slots 60 \
  --txs-per-block 0 --pbft-threshold 0.7 >"$work/gen.json"
tip=$(sed -n '/"tip"/,/}/s/.*"hash": "\([0-9a-f]*\)".*/\1/p' "$work/gen.json")
"$cli" db import --db "$work/src" --genesis "$net/genesis/genesis.json" --pbft-threshold 0.7 \
  "$work/c.chunk" >/dev/null
serve_start "$work/src"
from=127.0.0.1:$serve_port

# The copy has the served tip, and it and the output name the devnet's
# genesis, threshold and magic policy.
synced() {
  local db=$1 what=$2
  grep -q "\"hash\": \"$tip\"" "$work/sync.json" || fail "$what: tip is not $tip: $(cat "$work/sync.json")"
  grep -q "\"genesis_hash\": \"$genesis_hash\"" "$work/sync.json" || fail "$what: genesis"
  # 0.7 as a double (the config's 1/2 + 0.2 may print as 0.6999...)
  grep -Eq '"pbft_threshold": 0\.(7|6999999)' "$work/sync.json" || fail "$what: threshold"
  [ "$(cat "$db/pbft-threshold")" = 0.700000 ] || fail "$what: recorded $(cat "$db/pbft-threshold")"
  [ "$(cat "$db/genesis.hash")" = "$genesis_hash" ] || fail "$what: genesis.hash"
  [ "$(cat "$db/requires-network-magic")" = RequiresMagic ] || fail "$what: magic policy"
}

"$cli" sync --from "$from" --db "$work/by-config" --config "$net/node-0/config.json" >"$work/sync.json"
synced "$work/by-config" "--config"
for dir in "$net" "$net/genesis" "$net/node-1"; do
  db=$work/by-dir-$(basename "$dir")
  "$cli" sync --from "$from" --db "$db" --genesis-dir "$dir" >"$work/sync.json"
  synced "$db" "--genesis-dir $dir"
done
# A folder with a genesis alone (as `genesis create` makes): its genesis,
# and the threshold from the command line.
mkdir "$work/bare"
cp "$net/genesis/genesis.json" "$work/bare/"
"$cli" sync --from "$from" --db "$work/bare-db" --genesis-dir "$work/bare" --pbft-threshold 0.7 \
  >"$work/sync.json"
synced "$work/bare-db" "a bare genesis folder"
# Later syncs need only --db: the database keeps its settings.
"$cli" sync --from "$from" --db "$work/by-config" >"$work/sync.json"
synced "$work/by-config" "a second sync"

# Without the config the default threshold refuses the devnet's chain,
# also when blocks are parsed on two threads (the whole range is read
# before block 3 is refused: the sync must not take itself for synced).
status=0
"$cli" sync --from "$from" --db "$work/default" --genesis "$net/genesis/genesis.json" --threads 2 \
  >/dev/null 2>"$work/err" || status=$?
[ "$status" = 1 ] || fail "--genesis alone: exit $status, $(cat "$work/err")"
grep -q '"rule":"pbft.threshold"' "$work/err" || fail "--genesis alone: $(cat "$work/err")"
[ "$(cat "$work/default/pbft-threshold")" = 0.220000 ] || fail "the default threshold"
# ... and that database, built with 0.22, is refused under the config's 0.7.
status=0
"$cli" sync --from "$from" --db "$work/default" --config "$net/node-0/config.json" \
  >/dev/null 2>"$work/err" || status=$?
[ "$status" = 2 ] || fail "another threshold: exit $status, $(cat "$work/err")"
grep -qF "$work/default was built with PBFT threshold 0.22, but the config says 0.7: sync with --pbft-threshold 0.22, or start a fresh database with --db NEWDIR, or delete it" \
  "$work/err" || fail "another threshold: $(cat "$work/err")"

serve_stop
echo "sync_settings: ok"
