#!/usr/bin/env bash
# signing_system.sh: a core node never signs a slot twice (docs/node.md
# "The signing record"; docs/testing.md "System test"), on real
# cardinal-node processes: 3 core nodes and a relay on loopback, 1 s slots.
#  - A backup of core node 0's database is taken (the node stopped with
#    SIGTERM and started again).
#  - Rounds: as soon as node 0 logs the block it signed for slot s, it is
#    killed (SIGKILL), its database is cut back behind its back (`db
#    truncate` to s - 4) or replaced by the older backup, and it is
#    started again at once, so it comes back in slot s with a chain that
#    lacks its block: it must log forge.already_signed for slot s (its
#    signing record holds s) instead of signing s again. A restart that
#    comes back after slot s has nothing to refuse: the round is run again
#    (at most 5 times each way) until both ways have shown a refusal.
#  - Node 0 catches up with the relay and signs again.
#  - A second process with node 0's key (so its signing record) is
#    refused (signing_record.in_use, exit 3); a record that cannot be
#    created stops the start (exit 3, naming --signing-record); one inside
#    the database directory is refused (exit 1).
#  - After SIGTERM: no node ever logged two blocks for one slot, the four
#    chains agree up to 5 slots before the lowest tip, every main block on
#    them is one a node logged signing, and node 0's chain validates.
# Usage: signing_system.sh CARDINAL_CLI CARDINAL_NODE
set -euo pipefail
name=signing_system
cli=$1
node_bin=$(cd "$(dirname "$2")" && pwd)/$(basename "$2") # start.sh runs it from the devnet folder
. "$(dirname "$0")/signing_lib.sh"

make_devnet 3 1 1000
for i in 0 1 2 3; do start_node $i; done

# The backup: node 0's database as it was at slot 6.
wait_slot 6
stop_node 0
cp -a "$net/node-0/db" "$work/backup-db"
start_node 0
# Node 0 holds its signing record before a twin tries (a slow start, under
# a sanitizer, would otherwise let the twin take it first).
wait_log 0 '"event":"forge.record"' 10 || fail "node 0 did not start again"

# refused_start NAME STATUS TEXT [OPTION...]: a node started with node 0's
# key, its own database and port, and the options, stops at once with exit
# STATUS and TEXT in its log (one that runs instead is ended after 30 s,
# and fails the check).
refused_start() {
  local name=$1 want=$2 text=$3 status=0
  shift 3
  (cd "$net" && exec timeout 30 "$node_bin" run --config node-0/config.json \
    --topology node-0/topology.json --database-path "$work/$name-db" \
    --socket-path "$work/$name.socket" --host-addr 127.0.0.1 --port $((base + 60)) \
    --delegation-certificate genesis/delegation-cert.000.json \
    --signing-key genesis/delegate-keys.000.skey "$@" >/dev/null 2>"$work/$name.log") ||
    status=$?
  [ "$status" = "$want" ] && grep -qF -- "$text" "$work/$name.log" ||
    fail "$name: exit $status, not $want with '$text': $(cat "$work/$name.log")"
}
# A second node with node 0's key: its signing record is taken.
refused_start twin 3 signing_record.in_use
# A signing record that cannot be created: the error names it and the option.
refused_start nowhere 3 "no-such-dir/record" --signing-record "$work/no-such-dir/record"
grep -qF -- --signing-record "$work/nowhere.log" || fail "the error does not name --signing-record"
# A signing record inside the database directory (a restore would roll it back).
refused_start inside 1 signing_record.inside_database --signing-record "$work/inside-db/record"

# One round: kill node 0 right after it signs slot $round_slot, damage its
# database ($1: truncate or restore), start it again; $round_refused says
# whether it came back in time to refuse that slot. (No subshell: the
# restarted node's pid must reach the cleanup.)
round() {
  round_slot=$(wait_forge 0 "$(slot_now)") || fail "node 0 signed nothing for 30 slots"
  kill_node 0
  if [ "$1" = truncate ]; then
    "$cli" db truncate --db "$net/node-0/db" --to-slot $((round_slot - 4)) >/dev/null
  else
    rm -rf "$net/node-0/db"
    cp -a "$work/backup-db" "$net/node-0/db"
  fi
  start_node 0
  wait_log 0 '"event":"forge.record"' 5 || fail "node 0 did not start after the $1"
  grep -q "last signed slot $round_slot;" "$net/node-0/node.log" ||
    fail "node 0 restarted without slot $round_slot in its signing record"
  round_refused=0
  if wait_log 0 "\"event\":\"forge.already_signed\",\"msg\":\"slot $round_slot:" 3; then
    round_refused=1
  fi
}
refused_truncate=0 refused_restore=0 rounds=0
for attempt in 1 2 3 4 5; do
  for how in truncate restore; do
    var=refused_$how
    [ "${!var}" = 0 ] || continue
    round $how
    rounds=$((rounds + 1))
    echo "$name: round $attempt, $how at slot $round_slot: refused $round_refused" >&2
    [ $round_refused = 0 ] || eval "$var=1"
  done
  [ $refused_truncate = 1 ] && [ $refused_restore = 1 ] && break
done
[ $refused_truncate = 1 ] || fail "no restart after a truncation came back in the slot it signed"
[ $refused_restore = 1 ] || fail "no restart after a restore came back in the slot it signed"
last=$round_slot

# It catches up and signs again.
wait_caught_up 0 3 40
again=$(wait_forge 0 "$last") || fail "node 0 did not sign again after slot $last"
wait_slot $((again + 6)) # so the chains compared below reach past it

for i in 0 1 2 3; do stop_node $i; done
check_no_double_signing
check_chains 0 1 2 3
"$cli" chain validate --db "$net/node-0/db" >/dev/null || fail "node 0's chain does not validate"
refusals=$(cat "$net"/node-0/node.log* | grep -c '"event":"forge.already_signed"')
echo "$name: ok: $rounds rounds of kill and damage, $refusals slots refused by the signing record," \
  "node 0 caught up and signed slot $again; no slot signed twice; chains agree to slot $cut_slot"
