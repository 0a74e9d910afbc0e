# signing_lib.sh: what the system tests of block signing share
# (signing_system.sh, redelegation_system.sh; docs/testing.md "System
# test"): a devnet of real cardinal-node processes on loopback, every
# process ended by its pid on exit, each node's log kept across its
# restarts, and the checks of what the core nodes signed. Sourced by a
# script that has set -euo pipefail and set $name, $cli and $node_bin
# (signing_system.sh, redelegation_system.sh, kill_cores.sh).
# KEEP_WORK=1 keeps the work directory (logs, databases) for a look.

work=$(mktemp -d)
net=$work/net
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  [ -n "${KEEP_WORK:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
# Under set -e a failing command would end the test silently: say where.
trap 'echo "$name: FAIL: line $LINENO exited $?" >&2' ERR
fail() {
  echo "$name: FAIL: $*" >&2
  for f in "$net"/node-*/node.log*; do
    [ -f "$f" ] && { echo "--- $f (last lines)" >&2; tail -n 12 "$f" >&2; }
  done
  exit 1
}
# The first number named $1 (awk reads all its input: no SIGPIPE under pipefail).
json_number() { sed -n "s/.*\"$1\": *\([0-9]*\).*/\1/p" | awk 'NR == 1'; }

# Ports of this test's own band (ports.sh).
. "$(dirname "${BASH_SOURCE[0]}")/ports.sh"
base=$(port_base "$name")
export CARDINAL_NODE=$node_bin

# make_devnet CORES RELAYS SLOT_MS [POOR]: the devnet, k = 10 (epochs of
# 100 slots), POOR funded keys (default 5).
make_devnet() {
  slot_ms=$3
  "$cli" devnet create --dir "$net" --core-nodes "$1" --relays "$2" --slot-ms "$3" --k 10 \
    --base-port $base --start-delay-s 6 --poor-addresses "${4:-5}" >"$work/devnet.json"
  start_time=$(json_number start_time <"$work/devnet.json")
}

# The log of node $1's previous run is kept as node.log.N (start.sh
# truncates node.log).
keep_log() {
  local log=$net/node-$1/node.log n=1
  [ -f "$log" ] || return 0
  while [ -f "$log.$n" ]; do n=$((n + 1)); done
  mv "$log" "$log.$n"
}
start_node() {
  keep_log "$1"
  (cd "$net" && ./start.sh "$1")
  pids+=("$(cat "$net/node-$1/pid")")
}
pid_of() { cat "$net/node-$1/pid"; }
# Whether process $1 runs: a zombie (start.sh has exited, so nobody here
# reaps the node at once) has stopped running once it is the only thread
# left. The main thread of a dying process turns zombie before its other
# threads have exited, and the files (the database's lock among them) are
# closed with the last of them.
alive() {
  [ -r "/proc/$1/status" ] || return 1
  grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null || return 0
  [ "$(ls "/proc/$1/task" 2>/dev/null | wc -l)" -gt 1 ]
}
# SIGTERM, then wait (bounded) for the process to end.
stop_node() {
  local p
  p=$(pid_of "$1")
  kill -TERM "$p" 2>/dev/null || return 0
  for _ in $(seq 1 300); do alive "$p" || return 0; sleep 0.1; done
  fail "node $1 (pid $p) did not stop within 30 s of SIGTERM"
}
kill_node() {
  local p
  p=$(pid_of "$1")
  kill -9 "$p" 2>/dev/null || true
  while alive "$p"; do sleep 0.01; done
}

slot_now() { echo $((($(date +%s%N) / 1000000 - start_time * 1000) / slot_ms)); }
wait_slot() { while [ "$(slot_now)" -lt "$1" ]; do sleep 0.05; done; }
tip_of() {
  "$cli" query tip --socket-path "$net/node-$1/node.socket" --genesis "$net/genesis/genesis.json"
}

# The slots node $1 signed in its current run, one a line, as its log
# says ("forge.block" lines: slot, block number, hash).
forged_slots() {
  sed -n 's/.*"event":"forge.block","msg":"slot \([0-9]*\) .*/\1/p' "$net/node-$1/node.log"
}
# wait_forge I AFTER [SLOTS]: the first slot above AFTER that node I
# signs in its current run, within SLOTS slots (default 30).
wait_forge() {
  local limit=$(($(slot_now) + ${3:-30})) s
  while [ "$(slot_now)" -le "$limit" ]; do
    s=$(forged_slots "$1" | awk -v after="$2" '$1 > after && s == "" {s = $1} END {print s}')
    [ -n "$s" ] && { echo "$s"; return 0; }
    sleep 0.02
  done
  return 1
}
# wait_log I TEXT SLOTS: node I's current log has a line with TEXT within SLOTS slots.
wait_log() {
  local limit=$(($(slot_now) + $3))
  while [ "$(slot_now)" -le "$limit" ]; do
    grep -qF -- "$2" "$net/node-$1/node.log" && return 0
    sleep 0.05
  done
  return 1
}
# wait_caught_up I J SLOTS: node I's tip is within 2 blocks of node J's.
wait_caught_up() {
  local limit=$(($(slot_now) + $3)) a b
  while [ "$(slot_now)" -le "$limit" ]; do
    a=$(tip_of "$1" | json_number block_no) && b=$(tip_of "$2" | json_number block_no) &&
      [ $((a - b)) -le 2 ] && [ $((b - a)) -le 2 ] && return 0
    sleep 0.25
  done
  fail "node $1 (block ${a:-?}) did not catch up with node $2 (block ${b:-?})"
}

# Every block signing any node ever logged, "NODE SLOT HASH" a line, in
# $work/signed.txt (node I signs with one key, or after a re-delegation a
# key of its own run).
collect_signed() {
  : >"$work/signed.txt"
  for d in "$net"/node-*; do
    for f in "$d"/node.log*; do
      [ -f "$f" ] || continue
      sed -n 's/.*"event":"forge.block","msg":"slot \([0-9]*\) block [0-9]* hash \([0-9a-f]*\):.*/\1 \2/p' "$f" |
        awk -v n="$(basename "$d")" '{print n, $1, $2}' >>"$work/signed.txt"
    done
  done
}
# No node signed two different blocks for one slot, in all its runs.
check_no_double_signing() {
  collect_signed
  local twice
  twice=$(sort -u "$work/signed.txt" | awk '{c[$1 " " $2]++} END {for (k in c) if (c[k] > 1) print k}')
  [ -z "$twice" ] || fail "signed twice (node slot): $twice"
}

# stop_all, then the chains agree up to 5 slots before the lowest tip,
# and every main block of node $1's chain there is one a node logged
# signing. Leaves the chain in $work/prefix-$1.chunk.
check_chains() {
  local low="" s i
  for i in "$@"; do
    "$cli" db info --db "$net/node-$i/db" >"$work/info-$i.json"
    s=$(sed -n '/"tip"/,/}/p' "$work/info-$i.json" | json_number slot)
    if [ -z "$low" ] || [ "$s" -lt "$low" ]; then low=$s; fi
  done
  cut_slot=$((low - 5))
  for i in "$@"; do
    "$cli" db export --db "$net/node-$i/db" --to $cut_slot --out "$work/prefix-$i.chunk" >/dev/null
    cmp -s "$work/prefix-$1.chunk" "$work/prefix-$i.chunk" ||
      fail "node $i disagrees with node $1 before slot $cut_slot"
  done
  collect_signed
  "$cli" block list "$work/prefix-$1.chunk" --epoch-slots 100 |
    sed -n 's/.*"kind":"main".*"hash":"\([0-9a-f]*\)".*"slot":\([0-9]*\).*/\2 \1/p' >"$work/chain.txt"
  [ -s "$work/chain.txt" ] || fail "no main block before slot $cut_slot"
  local unlogged
  unlogged=$(awk 'NR == FNR {logged[$2 " " $3] = 1; next} !(($1 " " $2) in logged)' \
    "$work/signed.txt" "$work/chain.txt")
  [ -z "$unlogged" ] || fail "blocks on the chain no node logged signing: $unlogged"
}

# cert_block_slot FROM: the slot of the first block a core node signed
# with a payload at or after slot FROM (within 20 slots), the one that
# carries a certificate when nothing else is pending; fails otherwise.
cert_block_slot() {
  local limit=$(($1 + 20)) slot=
  while [ -z "$slot" ] && [ "$(slot_now)" -le $limit ]; do
    slot=$(cat "$net"/node-*/node.log |
      sed -n 's/.*"event":"forge.block","msg":"slot \([0-9]*\) block [0-9]* hash [0-9a-f]*: [1-9][0-9]* payloads.*/\1/p' |
      awk -v s="$1" '$1 >= s' | sort -n | awk 'NR == 1')
    [ -n "$slot" ] || sleep 0.1
  done
  [ -n "$slot" ] || fail "no block took the certificate within 20 slots"
  echo "$slot"
}
# restart_as_delegate I CERT KEY: node I stopped and started again, same
# config, port and database, as the node of the delegate KEY certified by
# CERT; waits until it runs.
restart_as_delegate() {
  stop_node "$1"
  keep_log "$1"
  (
    cd "$net"
    "$node_bin" run --config node-$1/config.json --topology node-$1/topology.json \
      --database-path node-$1/db --socket-path node-$1/node.socket --host-addr 127.0.0.1 \
      --port $((base + $1)) --metrics-port $((base + 100 + $1)) \
      --delegation-certificate "$2" --signing-key "$3" >node-$1/ready.json 2>node-$1/node.log &
    echo $! >node-$1/pid
  )
  pids+=("$(pid_of "$1")")
  wait_log "$1" '"event":"forge.record"' 8 || fail "the new delegate's node $1 did not start"
}
