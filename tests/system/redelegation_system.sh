#!/usr/bin/env bash
# redelegation_system.sh: a re-delegation on a running network (docs/node.md
# "Re-delegating a core node"; docs/testing.md "System test"), on real
# cardinal-node processes: 3 core nodes and 2 relays on loopback, 250 ms
# slots, k = 10 (epochs of 100 slots).
#  - In epoch 1 (epoch 0's delegation is the genesis's, one per genesis key
#    and epoch) a new key is made (`key keygen`), genesis key 1 certifies
#    it for the current epoch (`delegation issue-certificate`), and the
#    certificate goes (`delegation submit`), as a slot of genesis key 1
#    begins, to the core node whose slots follow genesis key 1's, so that
#    it most likely puts it in its block of the next slot, c, which
#    schedules it for c + 2k = c + 20: a slot of genesis key 1 itself,
#    where a forger asking the un-ticked tip ledger who the delegate is
#    went wrong both ways. (Slot s is the genesis key at place s mod 3 in
#    the genesis's order, which is not the order of the key files: each
#    core node's place is read from the slots it signs.)
#  - Relay node 4 is stopped and started again as the new delegate's node
#    (its key and certificate, same port and database) before the
#    activation; the old delegate's node 1 runs on past it and is stopped
#    12 slots later.
#  - The new delegate signs genesis key 1's first slot at or after the
#    activation and its later ones; node 1 signs none from the activation
#    on (forge.not_delegate); no node logs forge.refused; no node signed a
#    slot twice; after SIGTERM the five chains agree up to 5 slots before
#    the lowest tip (past the activation), every main block on them is one
#    a node logged signing, and the chain validates.
# Usage: redelegation_system.sh CARDINAL_CLI CARDINAL_NODE
set -euo pipefail
name=redelegation_system
cli=$1
node_bin=$(cd "$(dirname "$2")" && pwd)/$(basename "$2") # start.sh runs it from the devnet folder
. "$(dirname "$0")/signing_lib.sh"

make_devnet 3 2 250
for i in 0 1 2 3 4; do start_node $i; done
"$cli" key keygen --secret "$work/new.skey" >"$work/keygen.json"

# Core node $1's place in the round robin: the slots it signed, mod 3.
place_of() { forged_slots "$1" | awk 'NR == 1 {print $1 % 3}'; }

wait_slot 102
for i in 0 1 2; do
  place[$i]=$(place_of $i)
  [ -n "${place[$i]}" ] || fail "core node $i signed nothing by slot 102"
done
for i in 0 1 2; do [ "${place[$i]}" = $(((place[1] + 1) % 3)) ] && next_after_1=$i; done
epoch=$(tip_of 3 | json_number epoch)
[ "$epoch" = 1 ] || fail "the relay is in epoch '$epoch' at slot $(slot_now)"
"$cli" delegation issue-certificate --testnet-magic 42 --epoch "$epoch" \
  --secret "$net/genesis/genesis-keys.001.skey" --delegate-key "$work/new.skey" \
  --certificate "$work/new-cert.json" >"$work/issue.json"
while [ $(($(slot_now) % 3)) != "${place[1]}" ]; do sleep 0.02; done
"$cli" delegation submit --socket-path "$net/node-$next_after_1/node.socket" \
  --certificate "$work/new-cert.json" >"$work/submit.json" ||
  fail "delegation submit: $(cat "$work/submit.json")"
grep -q '"accepted": true' "$work/submit.json" || fail "not accepted: $(cat "$work/submit.json")"

# The block that carries it: nothing else is submitted, so the first
# block with a payload.
cert_slot=$(cert_block_slot "$(slot_now)")
activation=$((cert_slot + 20))
first=$activation
while [ $((first % 3)) != "${place[1]}" ]; do first=$((first + 1)); done

# Relay node 4 becomes the new delegate's node, before the activation.
restart_as_delegate 4 "$work/new-cert.json" "$work/new.skey"
[ "$(slot_now)" -lt "$activation" ] ||
  fail "the new delegate's node started at slot $(slot_now), after the activation ($activation)"

wait_slot $((first + 12))
stop_node 1
wait_slot $((first + 24))
for i in 0 2 3 4; do stop_node $i; done

grep -q "\"event\":\"forge.block\",\"msg\":\"slot $first block" "$net/node-4/node.log" ||
  fail "the new delegate did not sign slot $first, the first after the activation ($activation)"
signed_new=$(forged_slots 4 | awk -v a="$activation" '$1 >= a' | wc -l)
[ "$signed_new" -ge 8 ] || fail "the new delegate signed only $signed_new slots"
late=$(cat "$net"/node-1/node.log* | sed -n 's/.*"event":"forge.block","msg":"slot \([0-9]*\) .*/\1/p' |
  awk -v a="$activation" '$1 >= a')
[ -z "$late" ] || fail "the old delegate signed slots $late, after the activation ($activation)"
grep -q "\"event\":\"forge.not_delegate\",\"msg\":\"slot $first:" "$net/node-1/node.log" ||
  fail "the old delegate did not decline slot $first"
if grep -h '"event":"forge.refused"' "$net"/node-*/node.log*; then fail "a node's own block was refused"; fi
check_no_double_signing
check_chains 3 0 1 2 4
[ "$cut_slot" -gt "$first" ] || fail "the chains compared end at slot $cut_slot, before $first"
grep -q "^node-4 $first " "$work/signed.txt" && grep -q "^$first " "$work/chain.txt" ||
  fail "slot $first's block on the chain is not the new delegate's"
"$cli" chain validate --db "$net/node-3/db" >/dev/null || fail "the relay's chain does not validate"
echo "$name: ok: the certificate in slot $cert_slot took effect at $activation (a slot of" \
  "genesis key 1: $([ "$first" = "$activation" ] && echo yes || echo no)); the new delegate" \
  "signed slot $first and $signed_new slots in all, the old one none from $activation; no" \
  "forge.refused, no slot signed twice; chains agree to slot $cut_slot"
