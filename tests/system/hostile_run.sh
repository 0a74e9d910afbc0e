#!/usr/bin/env bash
# hostile_run.sh: bounded, self-cleaning connections of `cardinal-node
# run` (docs/network.md "Bounded connections"; docs/testing.md "Hostile
# peers"), a relay with no upstream peers over the real mainnet epoch 0
# (its config and topology in cardano-node's formats), with real sockets
# and tests/net/hostile_peer.c:
#  - zombies: 10 peers each ask for the whole chain 60 times without
#    reading, then send two bad bytes: every one is closed at once (a
#    reset) with its rule in the log;
#  - pipelined chain-sync of the whole epoch, 1,000 requests in flight,
#    over TCP and the local socket;
#  - node-to-node and local caps apart: TCP peers over theirs are refused
#    and logged, `query tip` still answers;
#  - the 200-peer soak of soak_lib.sh, non-readers closed by the write
#    timeout.
# Usage: hostile_run.sh CARDINAL_CLI CARDINAL_NODE HOSTILE_PEER VECTORS_DIR
set -euo pipefail
cli=$1 node_bin=$2 peer_bin=$3 vectors=$4
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../net/serve_lib.sh"
loopback_setup src
fail() { echo "hostile_run: FAIL: $*" >&2; tail -n 20 "$work/node.log" >&2; exit 1; }
. "$here/../net/soak_lib.sh"
sock=$work/node.socket
printf '{"ByronGenesisFile": "%s", "Protocol": "RealPBFT", "RequiresNetworkMagic": "RequiresNoMagic"}\n' \
  "$genesis" >"$work/config.json"
echo '{"Producers": []}' >"$work/topology.json"

# run_start OPTION...: the relay on a free port; sets $serve_pid and
# $serve_port (serve_lib.sh's names, so serve_stop and the trap apply).
run_start() {
  : >"$work/ready.json"
  "$node_bin" run --config "$work/config.json" --topology "$work/topology.json" \
    --database-path "$work/src" --socket-path "$sock" --host-addr 127.0.0.1 --port 0 "$@" \
    >"$work/ready.json" 2>"$work/node.log" &
  serve_pid=$!
  for _ in $(seq 1 600); do
    [ -s "$work/ready.json" ] && break
    kill -0 "$serve_pid" 2>/dev/null || fail "cardinal-node run exited before listening"
    sleep 0.1
  done
  serve_port=$(json_number port <"$work/ready.json")
  [ -n "$serve_port" ] || fail "no port in: $(cat "$work/ready.json")"
}

run_start --max-connections 10 --max-local-connections 4

# 1. Zombies: the violation closes each at once, whatever is queued.
"$peer_bin" --tcp "127.0.0.1:$serve_port" --magic $MAGIC --zombie 10 --range $RANGE \
  --seconds 15 >"$work/zombie.json"
[ "$(field zombie closed_by_node "$work/zombie.json")" = 10 ] ||
  fail "zombies left open: $(cat "$work/zombie.json")"
zombies=$(grep -c '"level":"warn","component":"node","event":"conn.closed","msg":"127.0.0.1:[0-9]*: cbor.malformed' \
  "$work/node.log" || true)
[ "$zombies" = 10 ] || fail "$zombies zombie closes logged, expected 10"

# 2. Pipelined chain-sync.
pipelined --tcp "127.0.0.1:$serve_port"
pipelined --unix "$sock"

# 3. Caps apart: 30 TCP peers against a cap of 10.
caps_apart "$serve_port" "$sock" "$work/node.log"
serve_stop

# 4. The soak.
run_start --write-timeout 5
soak "$serve_pid" "$serve_port" "$sock" "$work/node.log" node
serve_stop
echo "hostile_run: ok"
