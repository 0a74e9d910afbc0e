#!/usr/bin/env bash
# devnet_system.sh: the system test of issue 8 (docs/testing.md "System
# test"): 3 core nodes and 1 relay as real cardinal-node processes on
# loopback, 250 ms slots, for at least 200 slots under transaction load.
#  - A hostile peer (cardinal-node serve over a database holding a block
#    whose signature does not verify) is the relay's first upstream; the
#    relay refuses the block, disconnects it and keeps the honest chain.
#  - txgen submits payments to the relay; every accepted one must be in a
#    block. One more payment goes by hand to core node 0 (tx build, tx
#    sign, tx submit; its repeat refused). The final chain must hold
#    exactly those (each once).
#  - The relay fetches each block from one of its peers (its metrics).
#  - Full duplex: the nodes list each other; each pair shares one
#    connection that carries both directions (their metrics).
#  - devnet watch shows three blocks with their forgers and every tip.
#  - Core node 1 is killed with SIGKILL at slot 70 and restarted at 90; it rejoins
#    and catches up.
#  - At the end the four chains agree except the last few blocks, and at
#    least 90% of the slots from the first block to the tip have one.
# Usage: devnet_system.sh CARDINAL_CLI CARDINAL_NODE
set -euo pipefail
cli=$1
node_bin=$(cd "$(dirname "$2")" && pwd)/$(basename "$2") # start.sh runs it from the devnet folder
work=$(mktemp -d)
net=$work/net
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
# Under set -e a failing command would end the test silently: say where.
trap 'echo "devnet_system: FAIL: line $LINENO exited $?" >&2' ERR
fail() {
  echo "devnet_system: FAIL: $*" >&2
  for f in "$net"/node-*/node.log "$work"/evil.log; do
    [ -f "$f" ] && { echo "--- $f (last lines)" >&2; tail -n 15 "$f" >&2; }
  done
  exit 1
}
# The first number named $1 (awk reads all its input: no SIGPIPE under pipefail).
json_number() { sed -n "s/.*\"$1\": *\([0-9]*\).*/\1/p" | awk 'NR == 1'; }

slot_ms=250
. "$(dirname "$0")/ports.sh"
base=$(port_base devnet_system)
"$cli" devnet create --dir "$net" --core-nodes 3 --relays 1 --slot-ms $slot_ms --k 10 \
  --base-port $base --start-delay-s 6 --poor-addresses 201 >"$work/devnet.json"
export CARDINAL_NODE=$node_bin
start_time=$(json_number start_time <"$work/devnet.json")

# The hostile peer: a chain of this genesis whose second block is signed
# badly, stored without signature checks, served as it is.
"$cli" chain generate --genesis-dir "$net/genesis" --out "$work/valid.chunk" --slots 4 \
  --txs-per-block 0 --pbft-threshold 0.6 >/dev/null
found=
for seed in $(seq 1 40); do
  "$cli" chain generate-invalid --from "$work/valid.chunk" --genesis-dir "$net/genesis" \
    --case bad-block-signature --seed "$seed" --out "$work/evil.chunk" --pbft-threshold 0.6 \
    >"$work/evil.json"
  if grep -q '"block_index":1,' "$work/evil.json"; then found=1; break; fi
done
[ -n "$found" ] || fail "no seed puts the bad signature on the first main block"
"$cli" db import --db "$work/evil-db" --genesis "$net/genesis/genesis.json" --no-signatures \
  --pbft-threshold 0.6 "$work/evil.chunk" >/dev/null
evil_port=$((base + 50))
"$node_bin" serve --db "$work/evil-db" --port $evil_port >/dev/null 2>"$work/evil.log" &
pids+=($!)
# The relay dials the hostile peer first (it is listed first, reputation ties).
sed -i "s/\"Producers\": \[/\"Producers\": [{\"addr\": \"127.0.0.1\", \"port\": $evil_port, \"valency\": 1},/" \
  "$net/node-3/topology.json"

start_node() {
  (cd "$net" && ./start.sh "$1")
  pids+=("$(cat "$net/node-$1/pid")")
}
for i in 0 1 2 3; do start_node $i; done

slot_now() { echo $(( ($(date +%s%N) / 1000000 - start_time * 1000) / slot_ms )); }
wait_slot() { while [ "$(slot_now)" -lt "$1" ]; do sleep 0.2; done; }
tip_of() { "$cli" query tip --socket-path "$net/node-$1/node.socket" --genesis "$net/genesis/genesis.json"; }

# Load: 8 payments a second for 45 s into the relay.
wait_slot 4
"$cli" txgen --socket-path "$net/node-3/node.socket" --genesis-dir "$net/genesis" \
  --tps 8 --duration-s 45 --keys 200 --wait-s 30 >"$work/txgen.json" &
txgen_pid=$!

# A wallet's payment by hand from poor key 200 (txgen uses 0..199):
# tx build, tx sign, tx submit; the same tx again is refused (exit 1).
"$cli" genesis print-secrets --dir "$net/genesis" >"$work/secrets.json"
addr200=$(sed -n '/"poor"/,$s/.*"address": "\([^"]*\)".*/\1/p' "$work/secrets.json" | awk 'END {print}')
addr0=$(sed -n '/"poor"/,$s/.*"address": "\([^"]*\)".*/\1/p' "$work/secrets.json" | awk 'NR == 1')
"$cli" genesis utxo --genesis "$net/genesis/genesis.json" --list >"$work/utxo.json"
txid200=$(grep -B 2 "\"$addr200\"" "$work/utxo.json" | sed -n 's/.*"tx_id": "\([0-9a-f]*\)".*/\1/p')
[ ${#txid200} = 64 ] || fail "no genesis output for poor key 200"
"$cli" tx build --socket-path "$net/node-0/node.socket" --tx-in "$txid200#0" \
  --tx-out "$addr0+5000000" --change-address "$addr200" --out-file "$work/pay.tx" \
  >"$work/build.json"
"$cli" tx sign --tx-file "$work/pay.tx" --signing-key "$net/genesis/poor-keys.200.skey" \
  --testnet-magic 42 --out-file "$work/pay.signed" >"$work/sign.json"
"$cli" tx submit --socket-path "$net/node-0/node.socket" "$work/pay.signed" >"$work/submit.json" ||
  fail "tx submit: $(cat "$work/submit.json")"
grep -q "\"txid\": \"$(sed -n 's/.*"txid": "\([0-9a-f]*\)".*/\1/p' "$work/build.json")\"" "$work/submit.json" ||
  fail "submit and build name different txs"
status=0
"$cli" submit tx --socket-path "$net/node-0/node.socket" "$work/pay.signed" >/dev/null 2>"$work/again.err" || status=$?
# Refused with a readable rule: still in the mempool, or spent by a block already.
[ "$status" = 1 ] && grep -q '"rule":"mempool.duplicate"\|"rule":"utxo.missing_input"' "$work/again.err" ||
  fail "a repeat was not refused: $status: $(cat "$work/again.err")"

# The live view: three blocks as the relay adopts them, each with the
# core node that forged it and all four tips.
# A roll-back line ({"rollback_to_slot"}, a fork settling on a busy
# machine) is not a block row.
timeout 60 "$cli" devnet watch --dir "$net" --blocks 3 --json >"$work/watch.all" ||
  fail "devnet watch: $?"
grep -v '"rollback_to_slot"' "$work/watch.all" >"$work/watch.jsonl" || true
[ "$(awk 'END {print NR}' "$work/watch.jsonl")" = 3 ] ||
  fail "devnet watch: not 3 rows: $(cat "$work/watch.all")"
awk -F'"tip":{"slot"' 'NF - 1 != 4 {bad = 1} END {exit bad}' "$work/watch.jsonl" ||
  fail "devnet watch: a row without all 4 tips: $(cat "$work/watch.jsonl")"
grep -q '"forger":[012]' "$work/watch.jsonl" || fail "devnet watch: no forger named"

# SIGKILL core node 1 at slot 70, restart it at slot 90.
wait_slot 70
kill -9 "$(cat "$net/node-1/pid")"
wait_slot 90
start_node 1

wait "$txgen_pid" || fail "txgen failed: $(cat "$work/txgen.json")"
wait_slot 215
accepted=$(json_number accepted <"$work/txgen.json")
included=$(json_number included <"$work/txgen.json")
[ "$accepted" -ge 300 ] || fail "txgen: only $accepted accepted: $(cat "$work/txgen.json")"
[ "$accepted" = "$included" ] || fail "txgen: $accepted accepted, $included included"

# The restarted node caught up: its tip is within 2 blocks of the relay's.
b1=$(tip_of 1 | json_number block_no)
b3=$(tip_of 3 | json_number block_no)
[ $((b3 - b1)) -le 2 ] && [ $((b1 - b3)) -le 2 ] || fail "node 1 at block $b1, relay at $b3"

# The hostile peer was refused and disconnected, the honest chain kept.
grep -q '"event":"block.invalid"' "$net/node-3/node.log" || fail "the relay never refused the bad block"
grep -q "127.0.0.1:$evil_port: CDL_E_REJECTED\|127.0.0.1:$evil_port: ledger.rejected\|127.0.0.1:$evil_port: .*invalid block" \
  "$net/node-3/node.log" || fail "the hostile peer was not disconnected for its block"

# Each block is fetched from one peer (the relay has four upstreams):
# its metrics show blocks received close to blocks adopted.
metric() { # metric NAME [NODE]: node NODE's (default the relay's)
  exec 3<>"/dev/tcp/127.0.0.1/$((base + 100 + ${2:-3}))"
  printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3
  awk -v m="$1" '$1 == m {print $2}' <&3
  exec 3<&-
}
# Full duplex: every node lists the three others, and each pair shares
# one connection carrying both directions (the first dial's; the other
# side takes it as its own). Node 1's restart may cost its pairs that
# (the old connections' addresses may still be in TIME_WAIT): the
# others hold one each.
for i in 0 1 2 3; do
  peers=$(metric cardano_node_metrics_connectedPeers_int $i)
  duplex=$(metric cardinal_duplex_connections $i)
  echo "node $i: $peers node-to-node connections, $duplex full duplex"
  [ "$i" = 1 ] && continue
  want=$((i == 3 ? 3 : 2)) # the relay's three; a core's two others besides node 1
  [ "$duplex" -ge "$want" ] || fail "node $i: $duplex duplex connections of $peers, expected $want"
done
received=$(metric cardinal_blocks_received_total)
adopted=$(metric cardinal_blocks_adopted_total)
[ -n "$received" ] && [ "$received" -le $((adopted + 20)) ] ||
  fail "the relay received $received blocks for $adopted adopted"

# Stop everything in order (SIGTERM: ledger snapshots), then compare.
for i in 0 1 2 3; do kill -TERM "$(cat "$net/node-$i/pid")"; done
for i in 0 1 2 3; do
  p=$(cat "$net/node-$i/pid")
  while kill -0 "$p" 2>/dev/null; do sleep 0.1; done
done
low=
for i in 0 1 2 3; do
  "$cli" db info --db "$net/node-$i/db" >"$work/info-$i.json"
  s=$(sed -n '/"tip"/,/}/p' "$work/info-$i.json" | json_number slot)
  [ -z "$low" ] || [ "$s" -lt "$low" ] && low=$s
done
cut_slot=$((low - 5))
for i in 0 1 2 3; do
  "$cli" db export --db "$net/node-$i/db" --to $cut_slot --out "$work/prefix-$i.chunk" >/dev/null
done
for i in 1 2 3; do
  cmp -s "$work/prefix-0.chunk" "$work/prefix-$i.chunk" || fail "node $i disagrees before slot $cut_slot"
done

# Slots filled, and the chain holds exactly the accepted payments.
"$cli" chain validate --db "$net/node-0/db" >"$work/validate.json" || fail "node 0's chain does not validate"
blocks=$("$cli" block list "$work/prefix-0.chunk" --epoch-slots 100 | grep -c '"kind":"main"')
first=$("$cli" block list "$work/prefix-0.chunk" --epoch-slots 100 | grep '"kind":"main"' | json_number slot)
span=$((cut_slot - first + 1))
[ $((blocks * 100)) -ge $((span * 90)) ] || fail "$blocks main blocks in $span slots"
txs=$(json_number txs <"$work/validate.json")
[ "$txs" = $((accepted + 1)) ] || fail "the chain holds $txs txs, $accepted + 1 were accepted"
echo "devnet_system: ok: $blocks main blocks in $span slots; $accepted payments from txgen and 1 by hand, each included once; the relay received $received blocks, adopted $adopted ($(cat "$work/txgen.json" | tr -d ' \n' | sed 's/.*latency_ms/latency_ms/'))"
