#!/usr/bin/env bash
# bench_serve_rss.sh BUILD_DIR: memory of `cardinal-node serve` under
# slow readers (docs/testing.md "Benchmarks"; docs/network.md "Bounded
# connections"). Serves mainnet epoch 0; 200 peers fetch the whole epoch
# (the 648 KB EBB first) by block-fetch and read at 64 KB/s each for 20 s
# (tests/net/hostile_peer.c), then 200 peers that never read do the same.
# Prints the node's RSS idle (the baseline, this run), its peak (VmHWM)
# under each crowd, the peak over idle, the cost of a connection, and the
# CPU seconds the node spent serving the crowd.
set -euo pipefail
build=$(cd "${1:-build-bench}" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
cli=$build/cardinal-cli
genesis=$root/tests/vectors/genesis/mainnet/mainnet-byron-genesis.json
chunk=$root/tests/vectors/blocks/daedalus-turbo/mainnet-epoch0-chunk-00000.zstd
RANGE=0:89d9b5a5b8ddc8d7e5a6795e9774d97faf1efea59b2caf7eaf9f8c5b32059df4:21599:3bd04916b6bc2ad849d519cfae4ffe3b1a1660c098dbcd3e884073dd54bc8911
PEERS=200
# A port below Linux's ephemeral range (32768 up).
port=$((14000 + ($$ % 1000) * 2))
work=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
kb() { awk -v f="$2" '$1 == f":" {print $2}' "/proc/$1/status"; }
# User and system CPU time of process $1, in clock ticks.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }

"$cli" db import --db "$work/db" --genesis "$genesis" "$chunk" >/dev/null
# crowd BEHAVIOUR: one node, idle, then PEERS peers of that behaviour.
crowd() {
  : >"$work/ready.json"
  "$build/cardinal-node" serve --db "$work/db" --port $port >"$work/ready.json" 2>"$work/node.log" &
  pid=$!
  while [ ! -s "$work/ready.json" ]; do
    kill -0 "$pid" 2>/dev/null || { cat "$work/node.log" >&2; exit 1; }
    sleep 0.1
  done
  local idle peak cpu0 cpu1
  # A first sync: the idle figure is that of a node that has served.
  "$cli" sync --from "127.0.0.1:$port" --db "$work/warm" --genesis "$genesis" >/dev/null
  rm -rf "$work/warm"
  sleep 0.5
  idle=$(kb "$pid" VmRSS)
  cpu0=$(ticks "$pid")
  "$build/tests/hostile_peer" --tcp "127.0.0.1:$port" --magic 764824073 --"$1" $PEERS \
    --rate 65536 --range $RANGE --seconds 20 >"$work/$1.json"
  peak=$(kb "$pid" VmHWM)
  cpu1=$(ticks "$pid")
  kill -TERM "$pid"
  wait "$pid" || true
  pid=
  printf '%-10s idle %7d kB  peak %7d kB  peak/idle %5s  per connection %4d kB  CPU %5s s\n' \
    "$1" "$idle" "$peak" "$(calc %.2f "$peak / $idle")" $(((peak - idle) / PEERS)) \
    "$(calc %.2f "($cpu1 - $cpu0) / $(getconf CLK_TCK)")"
}
echo "serve RSS with $PEERS peers fetching mainnet epoch 0 (each run: its own idle baseline)"
crowd slow
crowd nonreader
