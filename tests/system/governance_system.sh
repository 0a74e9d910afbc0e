#!/usr/bin/env bash
# governance_system.sh: running a Byron network from the command line
# (docs/upgrading.md; docs/cli.md; docs/testing.md "System
# test"), on real cardinal-node processes: 3 core nodes and a relay on
# loopback, 250 ms slots, k = 10 (epochs of 100 slots). Everything is done
# with cardinal-cli, as an operator would, through the relay's socket
# (CARDANO_NODE_SOCKET_PATH):
#  1. a payment: a new key and its address, the balance of a funded key,
#     `tx build` with the fee computed from the node's fee policy and the
#     change back, sign, submit, both balances again; the fee is the
#     minimum for the signed size;
#  2. a transaction of more than 4096 bytes (the genesis maxTxSize) is
#     refused, with the rule by name;
#  3. an update proposal (protocol version 1.0.0, maxTxSize 16384) by
#     delegate 0, votes by all three delegates (registered, then confirmed:
#     `query update-state` at each step); the core nodes are restarted one
#     by one with LastKnownBlockVersion 1.0.0 in their config, their blocks
#     endorse, the update becomes a candidate and is adopted at the next
#     epoch boundary (`query protocol-parameters`), and the large
#     transaction is accepted;
#  4. genesis key 1 is re-delegated to a fresh key: the certificate is
#     submitted, the relay is restarted as the new delegate's node, the old
#     delegate's node is stopped, and the new one signs genesis key 1's
#     slots from the activation slot on.
# Usage: governance_system.sh CARDINAL_CLI CARDINAL_NODE
set -euo pipefail
name=governance_system
cli=$1
node_bin=$(cd "$(dirname "$2")" && pwd)/$(basename "$2") # start.sh runs it from the devnet folder
. "$(dirname "$0")/signing_lib.sh"
command -v jq >/dev/null || { echo "$name: jq is missing (scripts/install-deps.sh)" >&2; exit 1; }

make_devnet 3 1 250 5
for i in 0 1 2 3; do start_node $i; done
g=$net/genesis
export CARDANO_NODE_SOCKET_PATH=$net/node-3/node.socket
say() { echo "$name: $*"; }
# cli_ok OUT ARGS...: runs cardinal-cli, its JSON in $work/OUT.json; fails on an error.
cli_ok() {
  local out=$1
  shift
  "$cli" "$@" >"$work/$out.json" 2>"$work/$out.err" || fail "cardinal-cli $*: $(cat "$work/$out.err")"
}
# cli_refused OUT RULE ARGS...: cardinal-cli exits 1 with {"error": {"rule": RULE}}.
cli_refused() {
  local out=$1 rule=$2 rc=0
  shift 2
  "$cli" "$@" >"$work/$out.json" 2>"$work/$out.err" || rc=$?
  [ "$rc" = 1 ] || fail "cardinal-cli $* exited $rc, not 1: $(cat "$work/$out.err")"
  [ "$(jq -r .error.rule <"$work/$out.err")" = "$rule" ] ||
    fail "cardinal-cli $*: not refused with $rule: $(cat "$work/$out.err")"
}
address_of() { "$cli" key signing-key-address --testnet-magic 42 --secret "$1" | jq -r .address; }
balance_of() { "$cli" query utxo --address "$1" | jq -r .balance.lovelace; }
# wait_balance ADDR LOVELACE SLOTS
wait_balance() {
  local limit=$(($(slot_now) + $3)) b=
  while [ "$(slot_now)" -le "$limit" ]; do
    b=$(balance_of "$1")
    [ "$b" = "$2" ] && return 0
    sleep 0.25
  done
  fail "the balance of $1 is $b, not $2, after $3 slots"
}
update_state() { cli_ok "state-$1" query update-state; }

wait_slot 4
# ---- 1. A payment ----
cli_ok keygen key keygen --secret "$work/alice.skey"
alice=$(address_of "$work/alice.skey")
poor0=$(address_of "$g/poor-keys.000.skey")
cli_ok utxo0 query utxo --address "$poor0"
funds=$(jq -r .balance.lovelace <"$work/utxo0.json")
txin=$(jq -r '.utxo[0] | "\(.tx_id)#\(.index)"' <"$work/utxo0.json")
cli_ok build tx build --tx-in "$txin" --tx-out "$alice+2000000" --change-address "$poor0" \
  --out-file "$work/pay.tx"
cli_ok sign tx sign --tx-file "$work/pay.tx" --signing-key "$g/poor-keys.000.skey" \
  --testnet-magic 42 --out-file "$work/pay.signed"
cli_ok pp0 query protocol-parameters
fee=$(jq -r .fee <"$work/build.json")
size=$(stat -c %s "$work/pay.signed")
a=$(jq -r .parameters.txFeePolicy.summand <"$work/pp0.json")
b_nano=$(jq -r .parameters.txFeePolicy.multiplier_nano <"$work/pp0.json")
min_fee=$((a + (b_nano * size + 999999999) / 1000000000))
[ "$fee" = "$min_fee" ] || fail "the fee $fee is not the minimum $min_fee for $size bytes"
cli_ok submit tx submit "$work/pay.signed"
wait_balance "$alice" 2000000 20
[ "$(balance_of "$poor0")" = $((funds - 2000000 - fee)) ] ||
  fail "the payer's balance is $(balance_of "$poor0"), not $funds - 2000000 - $fee"
say "paid 2 ADA with a fee of $fee lovelace, the minimum for $size bytes"

# ---- 2. A transaction above maxTxSize 4096 ----
poor1=$(address_of "$g/poor-keys.001.skey")
txin=$("$cli" query utxo --address "$poor1" | jq -r '.utxo[0] | "\(.tx_id)#\(.index)"')
outs=()
for _ in $(seq 1 100); do outs+=(--tx-out "$alice+1000000"); done
cli_ok build-big tx build --tx-in "$txin" "${outs[@]}" --change-address "$poor1" \
  --out-file "$work/big.tx"
cli_ok sign-big tx sign --tx-file "$work/big.tx" --signing-key "$g/poor-keys.001.skey" \
  --testnet-magic 42 --out-file "$work/big.signed"
big_size=$(stat -c %s "$work/big.signed")
[ "$big_size" -gt 4096 ] || fail "the large tx has only $big_size bytes"
cli_refused big-refused utxo.tx_size tx submit "$work/big.signed"
say "a tx of $big_size bytes is refused: $(jq -c .error <"$work/big-refused.err")"

# ---- 3. An update: proposal, votes, endorsements, adoption ----
wait_slot 102 # a fresh epoch: the whole update fits in it and the next boundary
cli_ok proposal governance create-update-proposal --testnet-magic 42 \
  --signing-key "$g/delegate-keys.000.skey" --protocol-version-major 1 \
  --protocol-version-minor 0 --protocol-version-alt 0 --application-name cardano-sl \
  --software-version-num 1 --system-tag linux --installer-hash 00 --max-tx-size 16384 \
  --filepath "$work/update.proposal"
cli_ok proposal-submit governance submit-update-proposal --filepath "$work/update.proposal"
proposal_id=$(jq -r .id <"$work/proposal-submit.json")
for i in 0 1 2; do
  cli_ok vote-$i governance create-proposal-vote --testnet-magic 42 \
    --signing-key "$g/delegate-keys.00$i.skey" --proposal-filepath "$work/update.proposal" \
    --vote-yes --output-filepath "$work/vote-$i"
done
wait_registered() {
  local limit=$(($(slot_now) + 10))
  while [ "$(slot_now)" -le "$limit" ]; do
    update_state registered
    jq -e --arg id "$proposal_id" '.protocol_proposals | map(.id) | index($id)' \
      <"$work/state-registered.json" >/dev/null && return 0
    sleep 0.25
  done
  fail "the proposal $proposal_id was not registered within 10 slots"
}
wait_registered
say "proposal $proposal_id registered at slot $(slot_now)"
for i in 0 1 2; do cli_ok vote-submit-$i governance submit-proposal-vote --filepath "$work/vote-$i"; done
confirmed=
limit=$(($(slot_now) + 10))
while [ -z "$confirmed" ] && [ "$(slot_now)" -le $limit ]; do
  update_state votes
  confirmed=$(jq -r --arg id "$proposal_id" '.confirmed_proposals[$id] // empty' \
    <"$work/state-votes.json")
  sleep 0.25
done
[ -n "$confirmed" ] || fail "the proposal was not confirmed within 10 slots"
voters=0
limit=$(($(slot_now) + 10))
while [ "$voters" != 3 ] && [ "$(slot_now)" -le $limit ]; do
  update_state votes
  voters=$(jq --arg id "$proposal_id" '.votes[$id] | length' <"$work/state-votes.json")
  sleep 0.25
done
[ "$voters" = 3 ] || fail "$voters of the 3 votes registered"
say "confirmed at slot $confirmed; $voters votes registered"

# Operators upgrade: each core node restarts with the new LastKnownBlockVersion,
# one every 12 slots from slot 120. Blocks endorse from 2k = 20 slots after the
# confirmation, so each upgraded node adds one endorsement: 1 before node 1's
# restart, 2 before node 2's.
endorsements() { jq '[.endorsements[] | select(.protocol_version == "1.0.0")] | length' "$1"; }
for i in 0 1 2; do
  wait_slot $((120 + 12 * i))
  update_state before-$i
  [ "$(endorsements "$work/state-before-$i.json")" = $i ] ||
    fail "$(endorsements "$work/state-before-$i.json") endorsements before node $i's restart"
  stop_node $i
  jq '."LastKnownBlockVersion-Major" = 1 | ."LastKnownBlockVersion-Minor" = 0 |
      ."LastKnownBlockVersion-Alt" = 0' "$net/node-$i/config.json" >"$work/config.json"
  mv "$work/config.json" "$net/node-$i/config.json"
  start_node $i
  wait_log $i '"event":"forge.record"' 8 || fail "node $i did not start again"
  say "node $i restarted with 1.0.0 at slot $(slot_now) after $i endorsements"
done
endorsed=0
limit=$(($(slot_now) + 20))
while [ "$endorsed" -lt 3 ] && [ "$(slot_now)" -le $limit ]; do
  update_state endorsed
  endorsed=$(endorsements "$work/state-endorsed.json")
  sleep 0.5
done
[ "$endorsed" = 3 ] || fail "$endorsed endorsements of 1.0.0 by slot $(slot_now), not 3"
jq -e '.candidates | length == 1' <"$work/state-endorsed.json" >/dev/null ||
  fail "no candidate: $(jq -c .candidates <"$work/state-endorsed.json")"
say "endorsed by 3 delegates by slot $(slot_now): $(jq -c .next_adoption <"$work/state-endorsed.json")"

wait_slot 195
cli_ok pp-before query protocol-parameters
[ "$(jq -r '.protocol_version + " " + (.parameters.maxTxSize | tostring)' <"$work/pp-before.json")" = \
  "0.0.0 4096" ] || fail "adopted before the epoch boundary: $(cat "$work/pp-before.json")"
wait_slot 202
cli_ok pp1 query protocol-parameters
[ "$(jq -r .protocol_version <"$work/pp1.json")" = 1.0.0 ] ||
  fail "protocol version $(jq -r .protocol_version <"$work/pp1.json") after the boundary"
[ "$(jq -r .parameters.maxTxSize <"$work/pp1.json")" = 16384 ] || fail "maxTxSize not adopted"
cli_ok big-submit tx submit "$work/big.signed"
wait_balance "$alice" $((2000000 + 100 * 1000000)) 20
say "adopted 1.0.0 at slot 200; the $big_size-byte tx is on the chain"

# ---- 4. A re-delegation of genesis key 1 ----
place_of() { forged_slots "$1" | awk 'NR == 1 {print $1 % 3}'; }
place1=$(place_of 1)
[ -n "$place1" ] || fail "core node 1 signed nothing since its restart"
cli_ok keygen-new key keygen --secret "$work/new.skey"
epoch=$("$cli" query tip | jq -r .epoch)
cli_ok cert delegation issue-certificate --testnet-magic 42 --epoch "$epoch" \
  --secret "$g/genesis-keys.001.skey" --delegate-key "$work/new.skey" \
  --certificate "$work/new-cert.json"
cli_ok cert-check delegation check-certificate --testnet-magic 42 \
  --certificate "$work/new-cert.json" --genesis "$g/genesis.json"
# Nothing else is pending: the big tx is on the chain. Two slots on, any
# block with a payload is the certificate's.
wait_slot $(($(slot_now) + 2))
submitted=$(slot_now)
cli_ok cert-submit delegation submit --certificate "$work/new-cert.json"
cert_slot=$(cert_block_slot "$submitted")
activation=$((cert_slot + 20))
first=$activation
while [ $((first % 3)) != "$place1" ]; do first=$((first + 1)); done
jq '."LastKnownBlockVersion-Major" = 1' "$net/node-3/config.json" >"$work/config.json"
mv "$work/config.json" "$net/node-3/config.json"
restart_as_delegate 3 "$work/new-cert.json" "$work/new.skey"
[ "$(slot_now)" -lt "$activation" ] ||
  fail "the new delegate's node started at slot $(slot_now), after the activation ($activation)"
wait_slot $((first + 1))
grep -q "\"event\":\"forge.not_delegate\",\"msg\":\"slot $first:" "$net/node-1/node.log" ||
  fail "the old delegate's node did not stop signing at slot $first"
stop_node 1
wait_slot $((first + 13))
for i in 0 2 3; do stop_node $i; done
grep -q "\"event\":\"forge.block\",\"msg\":\"slot $first block" "$net/node-3/node.log" ||
  fail "the new delegate did not sign slot $first, the first after the activation ($activation)"
late=$(cat "$net"/node-1/node.log* | sed -n 's/.*"event":"forge.block","msg":"slot \([0-9]*\) .*/\1/p' |
  awk -v a="$activation" '$1 >= a')
[ -z "$late" ] || fail "the old delegate signed slots $late, after the activation ($activation)"
check_no_double_signing
check_chains 3 0 2
"$cli" chain validate --db "$net/node-3/db" >/dev/null || fail "the relay's chain does not validate"
say "ok: the re-delegation in slot $cert_slot took effect at $activation; the new delegate" \
  "signed slot $first; chains agree to slot $cut_slot"
