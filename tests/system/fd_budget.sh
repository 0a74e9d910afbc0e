#!/usr/bin/env bash
# fd_budget.sh: no peer load starves a core node's database of descriptors
# (docs/network.md "Connection limits"; docs/testing.md "Hostile peers").
# A devnet of a core node and a relay, 500 ms slots; the core node runs
# under `ulimit -n 64`. 350 hostile connections are opened to it at once
# (pingers, non-readers, garbage), and a second later 150 more that only
# hold their socket: it keeps forging and storing (it forges a slot after
# the crowd came, `query tip` answers on its socket, the relay catches up
# with it), every connection over its cap is refused with a log line, it
# never logs a failure, and it stops cleanly; the two chains agree.
# Usage: fd_budget.sh CARDINAL_CLI CARDINAL_NODE HOSTILE_PEER
set -euo pipefail
name=fd_budget
cli=$1
node_bin=$(cd "$(dirname "$2")" && pwd)/$(basename "$2") # start.sh runs it from the devnet folder
peer_bin=$3
. "$(dirname "$0")/signing_lib.sh"

make_devnet 1 1 500
start_node 1
port0=$((base + 0))
# The core node with 64 descriptors (the limit start.sh's node inherits).
keep_log 0
(ulimit -n 64 && cd "$net" && ./start.sh 0)
pids+=("$(pid_of 0)")
[ "$(awk '/^Max open files/ {print $4}' "/proc/$(pid_of 0)/limits")" = 64 ] ||
  fail "node 0 does not run under 64 descriptors"
first=$(wait_forge 0 0 40) || fail "node 0 never forged"

ZERO=$(printf '0%.0s' $(seq 1 64))
# crowd SECONDS NAME BEHAVIOURS...: connections held for SECONDS.
crowd() {
  local secs=$1 tag=$2
  shift 2
  "$peer_bin" --tcp "127.0.0.1:$port0" --magic 42 "$@" --range "0:$ZERO:0:$ZERO" \
    --seconds "$secs" >"$work/crowd-$tag.json" 2>"$work/crowd-$tag.log" || true
}
# 350 hostile peers, and a second later 150 more that only hold their
# socket (asking for a range that does not exist).
crowd 12 a --pinger 100 --nonreader 150 --garbage 100 &
crowd_a=$!
sleep 1
crowd 11 b --nonreader 150 &
crowd_b=$!
# Forging and storing go on meanwhile.
crowded=$(slot_now)
during=$(wait_forge 0 "$crowded" 40) || fail "node 0 stopped forging under the crowd"
tip_during=$(tip_of 0 | json_number block_no) || fail "query tip failed under the crowd"
wait "$crowd_a" "$crowd_b"
after=$(wait_forge 0 "$during" 40) || fail "node 0 stopped forging after the crowd"
wait_caught_up 1 0 30
alive "$(pid_of 0)" || fail "node 0 exited"
log=$net/node-0/node.log
refused=$(grep -c '"event":"conn.refused"' "$log" || true)
[ "$refused" -ge 300 ] || fail "only $refused connections refused with a log line"
grep -q '"event":"conn.limits".*descriptors 64 ' "$log" || fail "no descriptor plan logged"
if grep -q 'Too many open files\|storage.failed\|"level":"error"' "$log"; then
  fail "node 0 logged a failure: $(grep 'Too many open files\|storage.failed\|"level":"error"' "$log" | head -3)"
fi
stop_node 0
stop_node 1
check_chains 0 1
echo "fd_budget: ok (forged slots $first, $during (crowd from slot $crowded), $after;" \
  "tip $tip_during under the crowd; $refused refused)"
