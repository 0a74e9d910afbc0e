# stop_lib.sh: helpers of the tests of socket ownership and clean stops
# (sourced by socket_owner.sh, node_signals.sh and demo_stop.sh;
# docs/testing.md "System test"; docs/node.md "One owner per socket",
# "Stopping a node"). The caller sets $name, $cli and $node_bin, then calls
# stop_setup (demo_stop.sh uses only the waiting helpers).
#
# Every process a test starts is added to $pids by its pid and killed at
# exit; ports are below 32768, away from the ephemeral range.
. "$(dirname "${BASH_SOURCE[0]}")/ports.sh"

# A fresh $work with a one-core-node devnet ($net, node on $base) whose
# genesis started a second ago, and the cleanup trap. Slots of $slot_ms
# (default 200) milliseconds.
stop_setup() {
  work=$(mktemp -d)
  net=$work/net
  pids=()
  base=$(port_base "$name")
  trap stop_cleanup EXIT
  trap 'echo "$name: FAIL: line $LINENO exited $?" >&2' ERR
  "$cli" devnet create --dir "$net" --core-nodes 1 --relays 0 --slot-ms "${slot_ms:-200}" --k 10 \
    --base-port "$base" --start-delay-s 0 --poor-addresses 20 >/dev/null
}

stop_cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}

fail() {
  echo "$name: FAIL: $*" >&2
  for f in "$work"/*.log; do
    [ -f "$f" ] && { echo "--- $f (last lines)" >&2; tail -n 8 "$f" >&2; }
  done
  exit 1
}

# wait_until WHAT CMD...: runs CMD every 0.1 s until it succeeds, for at
# most $wait_limit_s seconds (default 60: slow machines); fails naming WHAT.
wait_until() {
  local what=$1
  shift
  for _ in $(seq 1 $((${wait_limit_s:-60} * 10))); do "$@" && return 0; sleep 0.1; done
  fail "timed out after ${wait_limit_s:-60} s waiting for $what"
}

# run_node TAG SOCKET PORT DB [OPTIONS...]: cardinal-node run with the
# devnet's node-0 config in the background, stdout in $work/TAG.ready,
# stderr in $work/TAG.log; sets $node_pid.
run_node() {
  local tag=$1 sock=$2 port=$3 db=$4
  shift 4
  "$node_bin" run --config "$net/node-0/config.json" --topology "$net/node-0/topology.json" \
    --database-path "$db" --socket-path "$sock" --host-addr 127.0.0.1 --port "$port" "$@" \
    >"$work/$tag.ready" 2>"$work/$tag.log" &
  node_pid=$!
  pids+=("$node_pid")
}

# The core node's keys, for run_node: it forges, so its chain grows.
core_keys() {
  echo --delegation-certificate "$net/genesis/delegation-cert.000.json" \
    --signing-key "$net/genesis/delegate-keys.000.skey"
}

# import_chain DB: a database of a few blocks of the devnet's genesis
# (chain generate, db import), for cardinal-node serve.
import_chain() {
  "$cli" chain generate --genesis-dir "$net/genesis" --out "$work/chain.chunk" --slots 4 \
    --txs-per-block 0 --pbft-threshold 1 >/dev/null
  "$cli" db import --db "$1" --genesis "$net/genesis/genesis.json" --pbft-threshold 1 \
    "$work/chain.chunk" >/dev/null
}

# serve_node TAG DB SOCKET PORT: cardinal-node serve, as run_node.
serve_node() {
  "$node_bin" serve --db "$2" --socket-path "$3" --port "$4" >"$work/$1.ready" 2>"$work/$1.log" &
  node_pid=$!
  pids+=("$node_pid")
}

# Gone: no process, or a zombie whose last thread has exited (its main
# thread turns zombie first; its files close with the last thread).
gone() {
  [ ! -e "/proc/$1" ] && return 0
  grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null && [ "$(ls "/proc/$1/task" 2>/dev/null | wc -l)" -le 1 ]
}
# Whether cardinal-node TAG printed its ready line.
ready() { [ -s "$work/$1.ready" ]; }

# exits PID CODE WHAT: the child PID ends (within the bound of
# wait_until: a process that does not is a failure, not a hang) with CODE.
exits() {
  wait_until "$3 to end" gone "$1"
  local status=0
  wait "$1" || status=$?
  [ "$status" = "$2" ] || fail "$3: exit $status, expected $2"
}

# tip_at SOCKET: the node's tip over its local socket (query tip).
tip_at() { "$cli" query tip --socket-path "$1" --testnet-magic 42 >/dev/null 2>&1; }

# count EVENT LOG: how many log lines have that event.
count() { grep -c "\"event\":\"$1\"" "$2" || true; }

# Every stderr line of a command is a JSON object (the repeats' lines are
# written by a signal handler, without stdio).
all_json() {
  node -e 'const fs = require("fs");
    for (const l of fs.readFileSync(process.argv[1], "utf8").split("\n"))
      if (l) JSON.parse(l);' "$1"
}

# signal_burst PID: a stop signal, then five more in quick succession.
# The first two are sent while PID is stopped (SIGSTOP), so that both are
# pending when it goes on: the second is a repeat during the stop whatever
# the machine's speed. The rest may come after it exited.
signal_burst() {
  kill -STOP "$1"
  kill -TERM "$1"
  kill -INT "$1"
  kill -CONT "$1"
  for s in TERM INT TERM INT; do kill -"$s" "$1" 2>/dev/null || true; done
}

# stopped_once LOG WHAT: one "stopping", a "stopped" and at least one
# "stop.repeated" line, every line JSON.
stopped_once() {
  [ "$(count stopping "$1")" = 1 ] || fail "$2: $(count stopping "$1") stopping events"
  [ "$(count stopped "$1")" = 1 ] || fail "$2: no stopped event"
  [ "$(count stop.repeated "$1")" -ge 1 ] || fail "$2: the repeated signal was not logged"
  all_json "$1" || fail "$2: a log line is not JSON"
}
