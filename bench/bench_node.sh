#!/usr/bin/env bash
# bench_node.sh BUILD_DIR: the node benchmark (docs/testing.md "Benchmarks";
# docs/node.md "A local network"). A local network of 3 core nodes and 1
# relay (real cardinal-node processes, 1 s slots, mainnet's protocol
# parameters: blocks up to 2,000,000 bytes) loaded by cardinal-cli txgen
# through the relay's local socket. Prints, each against a baseline
# measured in the same run:
#  - light load (20 tx/s): submit-to-block latency, against the slot length;
#  - saturation (txgen submitting as fast as the relay accepts): txs
#    accepted per second into the relay's mempool over local
#    tx-submission, against bench_mempool's in-process mempool add rate;
#    txs included in blocks per second, against the protocol's bound
#    maxBlockSize / mean tx size / slot length;
#  - the signature checks the four nodes made (their verified-witness
#    caches' misses, from their metrics) per included tx, and the bound
#    those checks allow on this machine: cores x the raw Ed25519 verify
#    rate (bench_mempool's, this run) / checks per tx;
#  - the txs the four nodes received (from the generator and from each
#    other) per included tx: 4 when each node pulls each tx once;
#  - RSS of each node (peak, VmHWM) after the load, against its RSS idle.
# Every process shares this machine's cores: the generator signs each tx,
# every node's mempool verifies it once, and a block's txs are not
# verified again where the mempool had them (docs/mempool.md "Verified
# witnesses").
set -euo pipefail
build=$(cd "${1:-build-bench}" && pwd)
cli=$build/cardinal-cli
work=$(mktemp -d)
net=$work/net
base=$((31000 + ($$ % 50) * 10)) # below 32768; metrics on base + 100 + i
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  sleep 1
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
# The first number after "$1": (awk reads all its input: no SIGPIPE).
num() { sed -n "s/.*\"$1\": *\([0-9.]*\).*/\1/p" | awk 'NR == 1'; }
# The first "$2" inside the object "$1" (the JSON is indented, a field a line).
num_in() {
  awk -v o="\"$1\":" -v k="\"$2\":" 'index($0, o) {f = 1}
    f && index($0, k) && !done {sub(/.*: */, ""); sub(/,$/, ""); print; done = 1}'
}
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
rss_kb() { awk -v f="$2" '$1 == f":" {print $2}' "/proc/$1/status"; }
# metric NODE NAME: the value of NAME on node NODE's metrics page.
metric() {
  exec 3<>"/dev/tcp/127.0.0.1/$((base + 100 + $1))"
  printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3
  awk -v m="$2" '$1 == m {print $2}' <&3
  exec 3<&-
}

# Baseline for the accept rate: the mempool in-process, this run.
"$build/bench/bench_mempool" >"$work/mempool.txt"
mempool_add=$(awk '/mempool add/ {print $(NF - 3)}' "$work/mempool.txt")
verify_rate=$(awk '/raw Ed25519 verify/ {print $(NF - 1)}' "$work/mempool.txt")

"$cli" devnet create --dir "$net" --core-nodes 3 --relays 1 --slot-ms 1000 --k 10 \
  --base-port $base --start-delay-s 3 --poor-addresses 4000 >"$work/devnet.json"
export CARDINAL_NODE=$build/cardinal-node
for i in 0 1 2 3; do
  (cd "$net" && ./start.sh "$i")
  pids+=("$(cat "$net/node-$i/pid")")
done
max_block=$(sed -n 's/.*"maxBlockSize": *"\([0-9]*\)".*/\1/p' "$net/genesis/genesis.json")
sleep 8 # the genesis start, then a few empty blocks
idle=()
for i in 0 1 2 3; do idle+=("$(rss_kb "${pids[$i]}" VmRSS)"); done

sock=$net/node-3/node.socket
"$cli" txgen --socket-path "$sock" --genesis-dir "$net/genesis" --tps 20 --duration-s 20 \
  --first-key 0 --keys 200 --wait-s 10 >"$work/light.json"
"$cli" txgen --socket-path "$sock" --genesis-dir "$net/genesis" --tps 10000 --duration-s 15 \
  --first-key 200 --keys 3800 --wait-s 20 >"$work/heavy.json"

checks=0 hits=0 received=0 saved=0
for i in 0 1 2 3; do
  checks=$((checks + $(metric $i cardinal_witness_cache_misses_total)))
  hits=$((hits + $(metric $i cardinal_witness_cache_hits_total)))
  received=$((received + $(metric $i cardinal_txs_received_total)))
  saved=$((saved + $(metric $i cardinal_tx_pulls_saved_total)))
done
light_mean=$(num mean <"$work/light.json")
heavy_bytes=$(num avg_tx_bytes <"$work/heavy.json")
accepted_s=$(num accepted_per_s <"$work/heavy.json")
included_s=$(num included_per_s <"$work/heavy.json")
bound=$(calc "%.0f" "$max_block / $heavy_bytes / 1.0")
included_all=$(($(num included <"$work/light.json") + $(num included <"$work/heavy.json")))
per_tx=$(calc "%.2f" "$checks / $included_all")
sig_bound=$(calc "%.0f" "$(nproc) * $verify_rate / $per_tx")
least=$((bound < sig_bound ? bound : sig_bound))

echo "node: 3 core nodes + 1 relay (cardinal-node run), 1 s slots, maxBlockSize $max_block B,"
echo "      txgen into the relay's local socket; all on this machine's $(nproc) cores"
echo "  light load, 20 tx/s for 20 s: $(num accepted <"$work/light.json") accepted," \
  "$(num included <"$work/light.json") included"
echo "    submit-to-block latency   mean $(calc %.0f "$light_mean") ms," \
  "p50 $(calc %.0f "$(num p50 <"$work/light.json")")," \
  "p95 $(calc %.0f "$(num p95 <"$work/light.json")")," \
  "max $(calc %.0f "$(num max <"$work/light.json")") ms;" \
  "mean $(calc %.2f "$light_mean / 1000") x the slot length"
echo "    of which the nodes'       mean $(calc %.0f "$(num_in block_delay_ms mean <"$work/light.json")") ms" \
  "(from the including block's slot start to the block at the relay; the rest is the wait" \
  "for the next slot, half a slot on average for txs submitted at random times)"
echo "  saturation, txgen as fast as it is answered for 15 s:" \
  "$(num accepted <"$work/heavy.json") accepted, $(num rejected <"$work/heavy.json") refused," \
  "$(num included <"$work/heavy.json") included"
echo "    accepted into the mempool  $(calc %7.0f "$accepted_s") tx/s " \
  " $(calc %.2f "$accepted_s / $mempool_add")x in-process mempool add ($(calc %.0f "$mempool_add") tx/s, bench_mempool)"
echo "    included in blocks         $(calc %7.0f "$included_s") tx/s " \
  " $(calc %.2f "$included_s / $bound")x the protocol's bound ($bound tx/s = $max_block B / $(calc %.0f "$heavy_bytes") B / 1 s)"
echo "    signature checks           $per_tx per included tx: $checks witnesses verified by the 4 nodes," \
  "$hits found verified already ($included_all txs included in both runs)"
echo "    txs received               $(calc %.2f "$received / $included_all") per included tx by the 4 nodes" \
  "(4: each once; $received received, $saved pulls left to another peer already pulling them)"
echo "    the checks' bound          $sig_bound tx/s = $(nproc) cores x $(calc %.0f "$verify_rate") verifications/s" \
  "(raw Ed25519, bench_mempool) / $per_tx; included: $(calc %.2f "$included_s / $least")x the" \
  "lesser bound ($least tx/s)"
echo "    latency under saturation   mean $(calc %.0f "$(num mean <"$work/heavy.json")") ms," \
  "p95 $(calc %.0f "$(num p95 <"$work/heavy.json")") ms"
for i in 0 1 2 3; do
  peak=$(rss_kb "${pids[$i]}" VmHWM)
  echo "  RSS node-$i: idle $(calc %.1f "${idle[$i]} / 1024") MB, peak $(calc %.1f "$peak / 1024") MB" \
    "($(calc %.1f "$peak / ${idle[$i]}")x idle)"
done
