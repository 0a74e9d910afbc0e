#!/usr/bin/env bash
# bounded_serve.sh: bounded, fair, self-cleaning connections of
# `cardinal-node serve` over mainnet epoch 0 (docs/network.md "Bounded
# connections", "Connection limits"; docs/testing.md "Hostile peers"),
# with real sockets and tests/net/hostile_peer.c:
#  - pipelined chain-sync of the whole epoch with 1,000 requests in
#    flight, over TCP and over the local socket, reaches the tip;
#  - a peer that stops reading is closed by the write timeout;
#  - node-to-node and local connections have caps of their own: TCP
#    peers over theirs are refused and logged, and `query tip` still
#    answers on the local socket;
#  - the soak: 200 peers at once (honest syncs, slow readers at 64 KB/s,
#    non-readers, pingers, garbage senders): the syncs get every block,
#    `query tip` answers throughout, RSS stays under the bound, the
#    descriptors return to their baseline, every misbehaving peer is
#    closed with its rule logged, and no slow reader is.
# Usage: bounded_serve.sh CARDINAL_CLI CARDINAL_NODE HOSTILE_PEER VECTORS_DIR
set -euo pipefail
cli=$1 node_bin=$2 peer_bin=$3 vectors=$4
here=$(cd "$(dirname "$0")" && pwd)
. "$here/serve_lib.sh"
loopback_setup src
fail() { echo "bounded_serve: FAIL: $*" >&2; tail -n 20 "$work/node.log" >&2; exit 1; }
. "$here/soak_lib.sh"
sock=$work/node.socket

serve_start "$work/src" --socket-path "$sock" --write-timeout 3

# 1. Pipelined chain-sync, 1,000 requests in flight.
pipelined --tcp "127.0.0.1:$serve_port"
pipelined --unix "$sock"

# 2. A peer that never reads: closed by the write timeout (3 s here).
"$peer_bin" --tcp 127.0.0.1:$serve_port --magic $MAGIC --nonreader 1 --range $RANGE \
  --seconds 20 >"$work/nonreader.json"
[ "$(field nonreader closed_by_node "$work/nonreader.json")" = 1 ] ||
  fail "a non-reader was not closed: $(cat "$work/nonreader.json")"
grep -q '"conn.closed","msg":"127.0.0.1:[0-9]*: mux.write_timeout' "$work/node.log" ||
  fail "no write timeout logged"
serve_stop

# 3. Separate caps: 30 TCP peers against a cap of 10 do not lock out the
# local socket.
serve_start "$work/src" --socket-path "$sock" --max-connections 10 --max-local-connections 4
caps_apart "$serve_port" "$sock" "$work/node.log"
serve_stop

# 4. The soak: 200 peers at once.
serve_start "$work/src" --socket-path "$sock" --write-timeout 5
soak "$serve_pid" "$serve_port" "$sock" "$work/node.log" serve
serve_stop
echo "bounded_serve: ok"
