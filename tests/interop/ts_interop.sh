#!/usr/bin/env bash
# ts_interop.sh: interop with a third-party Ouroboros client (docs/testing.md
# "Interop"). Imports mainnet epoch 0 into a fresh database, starts
# `cardinal-node serve` on a free port, and runs ts_client.js, which uses the
# npm package @harmoniclabs/ouroboros-miniprotocols-ts (installed here, pinned)
# to handshake, chain-sync every header and block-fetch ranges, checking each
# against the chunk file. Then the node must stop cleanly on SIGTERM.
# Usage: ts_interop.sh CARDINAL_CLI CARDINAL_NODE VECTORS_DIR NPM_DIR
set -euo pipefail
cli=$1 node_bin=$2 vectors=$3 npm_dir=$4
here=$(cd "$(dirname "$0")" && pwd)
magic=764824073

# The client packages, pinned; kept in the build tree between runs.
if [ ! -f "$npm_dir/node_modules/blakejs/package.json" ] ||
   [ ! -f "$npm_dir/node_modules/@harmoniclabs/ouroboros-miniprotocols-ts/package.json" ]; then
  mkdir -p "$npm_dir"
  (cd "$npm_dir" && npm init -y >/dev/null &&
   npm install --no-audit --no-fund --loglevel=error \
     @harmoniclabs/ouroboros-miniprotocols-ts@0.0.4 blakejs@1.2.1 >/dev/null)
fi

. "$here/../net/serve_lib.sh"
loopback_setup db
zstd -dqf "$chunk_zst" -o "$work/epoch0.chunk"
"$cli" block list "$work/epoch0.chunk" >"$work/expected.jsonl"

serve_start "$work/db"

NODE_PATH="$npm_dir/node_modules" node "$here/ts_client.js" "$serve_port" "$magic" \
  "$work/expected.jsonl" "$work/epoch0.chunk"

serve_stop
grep -q '"event":"conn.closed","msg":"127.0.0.1:[0-9]*: the peer closed (' "$work/node.log" ||
  { cat "$work/node.log" >&2; echo "the client's connection did not end cleanly" >&2; exit 1; }
echo "ts_interop: ok"
