#!/usr/bin/env bash
# kill_cores.sh: core nodes killed at random moments under load (issue
# "Safe to operate", acceptance; docs/testing.md "System test";
# docs/storage.md "Durability"; docs/node.md "The signing record").
# A devnet of 3 core nodes and a relay (250 ms slots, k = 10) as real
# processes on loopback, txgen paying into the relay. KILLS times (100 by
# default, seeded with SEED): wait a random 0.2-1.5 s, pick a core node at
# random, ask it its tip over the local socket (what it reports), SIGKILL it,
# open its database read-only (db info) and check the tip there is at or
# past the one it reported (no block it had reported, and so announced, is
# lost), then restart it at once. Then (signing_lib.sh):
#  - no node, so no delegate key, signed two different blocks for one slot
#    in any of its runs (forge.block lines name the slot and the hash), and
#    every main block on the chains is one a node logged signing;
#  - the chains converge: every node reaches the relay's tip, and the four
#    databases hold the same chain up to 5 slots before the lowest tip.
# Prints kills survived, announced blocks lost (must be 0), equivocations
# (must be 0: any fails the test), refusals of already signed slots, and
# txgen's figures.
# Usage: kill_cores.sh CARDINAL_CLI CARDINAL_NODE [KILLS] [SEED]
set -euo pipefail
name=kill_cores
cli=$1
node_bin=$(cd "$(dirname "$2")" && pwd)/$(basename "$2") # start.sh runs it from the devnet folder
kills=${3:-100}
seed=${4:-$(($$ % 10000))}
RANDOM=$seed
. "$(dirname "$0")/signing_lib.sh"
json_hash() { sed -n 's/.*"hash": *"\([0-9a-f]*\)".*/\1/p' | awk 'NR == 1'; }

make_devnet 3 1 250 200
# wait_ready I: node I has said it listens (start.sh truncates ready.json).
wait_ready() {
  for _ in $(seq 1 200); do [ -s "$net/node-$1/ready.json" ] && return 0; sleep 0.025; done
  fail "node $1 did not come up"
}
for i in 0 1 2 3; do start_node $i; done
for i in 0 1 2 3; do wait_ready $i; done
wait_slot 8

"$cli" txgen --socket-path "$net/node-3/node.socket" --genesis-dir "$net/genesis" \
  --tps 10 --duration-s 86400 --keys 200 --wait-s 0 >"$work/txgen.json" 2>"$work/txgen.err" &
txgen=$!
pids+=("$txgen")

lost=0
for k in $(seq 1 "$kills"); do
  sleep "$((200 + RANDOM % 1300))e-3"
  c=$((RANDOM % 3))
  reported=$(tip_of $c 2>/dev/null || true)
  kill_node $c
  if [ -n "$reported" ]; then
    before=$(echo "$reported" | json_number block_no)
    "$cli" db info --db "$net/node-$c/db" >"$work/after.json" ||
      fail "kill $k: db info on node $c's database failed"
    after=$(sed -n '/"tip"/,/}/p' "$work/after.json" | json_number block_no)
    if [ -z "$after" ] || [ "$after" -lt "$before" ]; then
      lost=$((lost + 1))
      echo "$name: kill $k of node $c: it reported block $before, its disk holds ${after:-nothing}" >&2
    fi
  fi
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
for i in 0 1 2 3; do stop_node $i; done

count() { cat "$net"/node-[012]/node.log* | grep -c "\"event\":\"$1\"" || true; }
forged=$(count forge.block)
refused=$(count forge.already_signed)
[ "$forged" -ge "$kills" ] || fail "only $forged blocks forged in $kills kills"
summary="kills survived $kills of $kills (seed $seed); announced blocks lost $lost"
[ "$lost" = 0 ] || fail "$summary"
check_no_double_signing
check_chains 0 1 2 3
echo "$name: ok: $summary; equivocations 0; already-signed slots refused $refused; $forged blocks forged; txgen: $(tr -d ' \n' <"$work/txgen.json" | sed 's/.*"accepted":\([0-9]*\).*"included":\([0-9]*\).*/accepted \1, included \2/')"
