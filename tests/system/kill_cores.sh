#!/usr/bin/env bash
# kill_cores.sh: core nodes killed at random moments under load (issue
# "Safe to operate", acceptance; docs/testing.md "System test";
# docs/storage.md "Durability"; docs/node.md "Forging").
# A devnet of 3 core nodes and a relay (250 ms slots, k = 10) as real
# processes on loopback, txgen paying into the relay. KILLS times (100 by
# default, seeded with SEED): wait a random 0.2-1.5 s, pick a core node at
# random, ask it its tip over the local socket (what it reports), SIGKILL it,
# open its database read-only (db info) and check the tip there is at or
# past the one it reported (no block it had reported, and so announced, is
# lost), then restart it at once. Then:
#  - over every node's log and every node's chain, no delegate key ever
#    signed two different blocks for one slot (forge.block lines name the
#    slot and the hash; db export of each chain gives each slot's block);
#  - the chains converge: after the kills every node reaches the relay's
#    tip, and the four databases hold the same chain up to a few slots
#    before the lowest tip.
# Prints kills survived, announced blocks lost (must be 0), equivocations
# (must be 0), refusals of already signed slots, and txgen's figures.
# Usage: kill_cores.sh CARDINAL_CLI CARDINAL_NODE [KILLS] [SEED]
set -euo pipefail
cli=$1
node_bin=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
kills=${3:-100}
seed=${4:-$(( $$ % 10000 ))}
RANDOM=$seed
work=$(mktemp -d)
net=$work/net
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for i in 0 1 2 3; do [ -f "$net/node-$i/pid" ] && kill -9 "$(cat "$net/node-$i/pid")" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "kill_cores (seed $seed): FAIL: line $LINENO exited $?" >&2' ERR
fail() {
  echo "kill_cores (seed $seed): FAIL: $*" >&2
  for f in "$net"/node-*/node.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 8 "$f" >&2; }; done
  exit 1
}
json_number() { sed -n "s/.*\"$1\": *\([0-9]*\).*/\1/p" | awk 'NR == 1'; }
json_hash() { sed -n 's/.*"hash": *"\([0-9a-f]*\)".*/\1/p' | awk 'NR == 1'; }

slot_ms=250
base=$((25000 + ($$ % 60) * 100)) # below 32768: never an ephemeral port
"$cli" devnet create --dir "$net" --core-nodes 3 --relays 1 --slot-ms $slot_ms --k 10 \
  --base-port $base --start-delay-s 3 --poor-addresses 200 >"$work/devnet.json"
start_time=$(json_number start_time <"$work/devnet.json")
genesis=$net/genesis/genesis.json

# Each node in the background, its log appended across restarts.
start_node() {
  local i=$1 keys=()
  [ "$i" -lt 3 ] && keys=(--delegation-certificate "$net/genesis/delegation-cert.00$i.json"
    --signing-key "$net/genesis/delegate-keys.00$i.skey")
  "$node_bin" run --config "$net/node-$i/config.json" --topology "$net/node-$i/topology.json" \
    --database-path "$net/node-$i/db" --socket-path "$net/node-$i/node.socket" \
    --host-addr 127.0.0.1 --port $((base + i)) "${keys[@]}" \
    >"$net/node-$i/ready.json" 2>>"$net/node-$i/node.log" &
  echo $! >"$net/node-$i/pid"
  pids+=($!)
  disown $! # its SIGKILL is no job to report
}
gone() { while kill -0 "$1" 2>/dev/null; do sleep 0.01; done; }
wait_ready() {
  for _ in $(seq 1 200); do [ -s "$net/node-$1/ready.json" ] && return 0; sleep 0.025; done
  fail "node $1 did not come up"
}
for i in 0 1 2 3; do start_node $i; done
for i in 0 1 2 3; do wait_ready $i; done
slot_now() { echo $(( ($(date +%s%N) / 1000000 - start_time * 1000) / slot_ms )); }
while [ "$(slot_now)" -lt 8 ]; do sleep 0.1; done

tip_of() { "$cli" query tip --socket-path "$net/node-$1/node.socket" --genesis "$genesis" 2>/dev/null; }

"$cli" txgen --socket-path "$net/node-3/node.socket" --genesis-dir "$net/genesis" \
  --tps 10 --duration-s 86400 --keys 200 --wait-s 0 >"$work/txgen.json" 2>"$work/txgen.err" &
txgen=$!
pids+=("$txgen")

lost=0
survived=0
for k in $(seq 1 "$kills"); do
  sleep "$(( 200 + RANDOM % 1300 ))e-3"
  c=$(( RANDOM % 3 ))
  pid=$(cat "$net/node-$c/pid")
  reported=$(tip_of $c || true)
  kill -9 "$pid"
  gone "$pid"
  if [ -n "$reported" ]; then
    before=$(echo "$reported" | json_number block_no)
    "$cli" db info --db "$net/node-$c/db" >"$work/after.json" ||
      fail "kill $k: db info on node $c's database failed"
    after=$(sed -n '/"tip"/,/}/p' "$work/after.json" | json_number block_no)
    if [ -z "$after" ] || [ "$after" -lt "$before" ]; then
      lost=$((lost + 1))
      echo "kill_cores: kill $k of node $c: it reported block $before, its disk holds ${after:-nothing}" >&2
    fi
  fi
  survived=$((survived + 1))
  : >"$net/node-$c/ready.json"
  start_node $c
  wait_ready $c
done
kill -0 "$txgen" 2>/dev/null || fail "txgen stopped during the kills: $(cat "$work/txgen.err" "$work/txgen.json")"
kill -TERM "$txgen"
wait "$txgen" || fail "txgen: $(cat "$work/txgen.err")"

# Convergence: every node at the relay's tip within a few slots.
converged=
for _ in $(seq 1 80); do
  t3=$(tip_of 3 | json_hash)
  same=1
  for i in 0 1 2; do [ "$(tip_of $i | json_hash)" = "$t3" ] || same=; done
  [ -n "$same" ] && [ -n "$t3" ] && { converged=1; break; }
  sleep 0.1
done
[ -n "$converged" ] || fail "the nodes did not converge on one tip after the kills"
for i in 0 1 2 3; do kill -TERM "$(cat "$net/node-$i/pid")"; done
for i in 0 1 2 3; do gone "$(cat "$net/node-$i/pid")"; done

# No delegate key signed two blocks for one slot: every block forged, as
# each node's log names it, and every block of every chain, by slot.
for i in 0 1 2; do
  sed -n 's/.*"event":"forge.block".*slot \([0-9]*\) block [0-9]* hash \([0-9a-f]*\).*/\1 \2/p' \
    "$net/node-$i/node.log"
done >"$work/signed.txt"
for i in 0 1 2 3; do
  "$cli" db export --db "$net/node-$i/db" --out "$work/chain-$i.chunk" >/dev/null
  "$cli" block list "$work/chain-$i.chunk" --epoch-slots 100 |
    sed -n '/"kind":"main"/s/.*"hash":"\([0-9a-f]*\)".*"slot":\([0-9]*\).*/\2 \1/p'
done >>"$work/signed.txt"
count() { cat "$net"/node-[012]/node.log | grep -c "\"event\":\"$1\"" || true; }
forged=$(count forge.block)
[ "$forged" -ge "$kills" ] || fail "only $forged blocks forged in $kills kills"
equivocations=$(sort -u "$work/signed.txt" | awk '{n[$1]++} END {for (s in n) if (n[s] > 1) c++; print c + 0}')
refused=$(count forge.already_signed)

# The chains agree up to a few slots before the lowest tip.
low=
for i in 0 1 2 3; do
  "$cli" db info --db "$net/node-$i/db" >"$work/info-$i.json"
  s=$(sed -n '/"tip"/,/}/p' "$work/info-$i.json" | json_number slot)
  [ -z "$low" ] || [ "$s" -lt "$low" ] && low=$s
done
for i in 0 1 2 3; do
  "$cli" db export --db "$net/node-$i/db" --to $((low - 4)) --out "$work/prefix-$i.chunk" >/dev/null
done
for i in 1 2 3; do
  cmp -s "$work/prefix-0.chunk" "$work/prefix-$i.chunk" || fail "node $i's chain differs from node 0's before slot $((low - 4))"
done

summary="kills survived $survived of $kills (seed $seed); announced blocks lost $lost; equivocations $equivocations; already-signed slots refused $refused; $forged blocks forged; txgen: $(tr -d ' \n' <"$work/txgen.json" | sed 's/.*"accepted":\([0-9]*\).*"included":\([0-9]*\).*/accepted \1, included \2/')"
[ "$lost" = 0 ] || fail "$summary"
[ "$equivocations" = 0 ] || fail "$summary: $(sort -u "$work/signed.txt" | awk '{n[$1]++; h[$1] = h[$1] " " $2} END {for (s in n) if (n[s] > 1) print "slot " s ":" h[s]}' | head -3)"
echo "kill_cores: ok: $summary"
