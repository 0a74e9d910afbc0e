#!/usr/bin/env bash
# demo.sh BUILD_DIR: `make demo` (docs/node.md "A local network"). A local
# network of 3 core nodes and 1 relay on loopback with 1-second slots, all
# its files under one directory (DEMO_DIR, default BUILD_DIR/demo-devnet):
#  1. cardinal-cli devnet create: genesis, keys, configs, topologies;
#  2. the four cardinal-node processes started;
#  3. cardinal-cli txgen submits DEMO_TPS payments a second to the relay;
#  4. cardinal-cli devnet watch prints each block the relay adopts (slot,
#     forger, its transactions, the running total) and every node's tip,
#     until Ctrl-C (or DEMO_BLOCKS blocks, for unattended runs);
#  5. then txgen's report (submitted, accepted, included, latency), a clean
#     stop of every node (each writes its ledger snapshot) and their tips.
# DEMO_PORT (default 30000) is the first node's port; metrics are on
# DEMO_PORT+100.., e.g. curl http://127.0.0.1:30100/metrics.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
cli=$build/cardinal-cli
dir=${DEMO_DIR:-$build/demo-devnet}
port=${DEMO_PORT:-30000}
tps=${DEMO_TPS:-5}
blocks=${DEMO_BLOCKS:-}

# Only a directory an earlier demo made is removed.
if [ -e "$dir" ]; then
  [ -f "$dir/devnet.json" ] || { echo "demo: $dir exists and is not a devnet; set DEMO_DIR" >&2; exit 2; }
  rm -rf "$dir"
fi

pids=()
txgen_pid=
stop_all() {
  [ -n "$txgen_pid" ] && kill -TERM "$txgen_pid" 2>/dev/null || true
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do while kill -0 "$p" 2>/dev/null; do sleep 0.1; done; done
}
trap stop_all EXIT
# Ctrl-C reaches every process of the demo; the script itself carries on
# to the report below once devnet watch has returned.
trap : INT

echo "== A local network: 3 core nodes and 1 relay, 1-second slots, k = 10 (100-slot epochs)"
echo "   all files under $dir"
"$cli" devnet create --dir "$dir" --core-nodes 3 --relays 1 --slot-ms 1000 --k 10 \
  --base-port "$port" --start-delay-s 3 >/dev/null
export CARDINAL_NODE=$build/cardinal-node
for i in 0 1 2 3; do
  (cd "$dir" && ./start.sh "$i")
  pids+=("$(cat "$dir/node-$i/pid")")
done
for i in 0 1 2 3; do
  for _ in $(seq 1 50); do [ -s "$dir/node-$i/ready.json" ] && break; sleep 0.1; done
  [ -s "$dir/node-$i/ready.json" ] || { echo "demo: node-$i did not start:" >&2; tail "$dir/node-$i/node.log" >&2; exit 3; }
done
cat <<EOF
   node-0..2 forge in turn (slot s by core s mod 3); node-3 is the relay.
   logs:     $dir/node-I/node.log (JSON lines)
   metrics:  curl http://127.0.0.1:$((port + 100))/metrics   (node-I on $((port + 100))+I)
   tip:      $cli query tip --socket-path $dir/node-3/node.socket

== txgen: $tps payments a second into the relay; every block as the relay adopts it
   (forger: the genesis key that signed it; tips: block number and hash of each node)
EOF
"$cli" txgen --socket-path "$dir/node-3/node.socket" --genesis-dir "$dir/genesis" \
  --tps "$tps" --duration-s 86400 --wait-s 0 >"$dir/txgen.json" &
txgen_pid=$!
"$cli" devnet watch --dir "$dir" ${blocks:+--blocks "$blocks"} || true

echo
echo "== Stopping: txgen's report (latency is submit to block, in ms)"
kill -TERM "$txgen_pid" 2>/dev/null || true
wait "$txgen_pid" || true
txgen_pid=
cat "$dir/txgen.json"
stop_all
pids=()
echo
echo "== How each node stopped, and the tip it stored:"
for i in 0 1 2 3; do
  how="NOT cleanly (see $dir/node-$i/node.log)"
  grep -q '"event":"stopped"' "$dir/node-$i/node.log" && how="cleanly, ledger snapshot written"
  printf 'node-%s: %s\n        ' "$i" "$how"
  "$cli" db info --db "$dir/node-$i/db" |
    awk '/"tip"/ && !seen {on = 1; seen = 1; next} on && /}/ {on = 0} on {gsub(/[ ",]/, ""); printf "%s  ", $0}'
  echo
done
echo "   Start the same network again with: $dir/start.sh (Ctrl-C stops it)"
