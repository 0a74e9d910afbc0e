#!/usr/bin/env bash
# node_signals.sh: clean stops (docs/node.md "Stopping a node"; src/io/stop.c),
# with real processes on loopback:
#  - `cardinal-node run` and `serve`, `cardinal-cli sync --follow` and
#    `txgen`, each sent a SIGTERM and then 5 more SIGTERM/SIGINT in quick
#    succession: it exits 0 after its clean stop (a node logs one
#    "stopping" and its "stopped"; sync and txgen print their report), and
#    the repeats are logged as "stop.repeated", every log line JSON;
#  - txgen whose node stops prints its report with "stopped": "node
#    closed the connection" and exits 0;
#  - a devnet's start.sh given two Ctrl-Cs (SIGINT to its process group, as
#    a terminal sends): its node runs in a session of its own, pid in
#    node-0/pid, and gets exactly one SIGTERM, from start.sh.
# Usage: node_signals.sh CARDINAL_CLI CARDINAL_NODE
set -euo pipefail
name=node_signals
cli=$1
node_bin=$2
. "$(dirname "$0")/stop_lib.sh"
stop_setup

# A node that forges, stopped by a burst of signals.
run_node n1 "$work/n1.sock" "$base" "$work/db-n1" $(core_keys)
n1=$node_pid
wait_until "node n1" ready n1
wait_until "n1's first blocks" grep -q '"event":"forge.block"' "$work/n1.log"
signal_burst "$n1"
exits "$n1" 0 "run after repeated signals"
stopped_once "$work/n1.log" "run"

# serve, the same.
import_chain "$work/db-s"
serve_node s1 "$work/db-s" "$work/s1.sock" $((base + 1))
s1=$node_pid
wait_until "serve s1" ready s1
signal_burst "$s1"
exits "$s1" 0 "serve after repeated signals"
stopped_once "$work/s1.log" "serve"

# sync --follow from a server: stopped by the burst, it still reports.
serve_node s2 "$work/db-s" "$work/s2.sock" $((base + 2))
s2=$node_pid
wait_until "serve s2" ready s2
"$cli" sync --from "127.0.0.1:$((base + 2))" --db "$work/db-sync" \
  --genesis "$net/genesis/genesis.json" --pbft-threshold 1 --follow --log-level info \
  >"$work/sync.json" 2>"$work/sync.log" &
sync_pid=$!
pids+=("$sync_pid")
wait_until "sync to connect" grep -q '"event":"conn.opened"' "$work/sync.log"
signal_burst "$sync_pid"
exits "$sync_pid" 0 "sync after repeated signals"
grep -q '"blocks": 5' "$work/sync.json" || fail "sync: no report of its 5 blocks: $(cat "$work/sync.json")"
[ "$(count stop.repeated "$work/sync.log")" -ge 1 ] || fail "sync: the repeated signal was not logged"
all_json "$work/sync.log" || fail "sync: a log line is not JSON"
kill -TERM "$s2"
exits "$s2" 0 "serve s2"

# txgen: a burst of signals, then (another run) its node stopping.
run_node n2 "$work/n2.sock" $((base + 3)) "$work/db-n2" $(core_keys)
n2=$node_pid
wait_until "node n2" ready n2
txgen() { # txgen TAG FIRST_KEY: 5 tx/s for a minute into n2, in the background
  "$cli" txgen --socket-path "$work/n2.sock" --genesis-dir "$net/genesis" --tps 5 \
    --duration-s 60 --first-key "$2" --keys 5 --connections 1 >"$work/$1.json" 2>"$work/$1.log" &
  txgen_pid=$!
  pids+=("$txgen_pid")
  # Connected once the node has opened its third local connection since
  # (the magic query, chain-sync, the one submission connection).
  wait_until "$1 to connect" opened_at_least "$3"
}
opened_at_least() { [ "$(count conn.opened "$work/n2.log")" -ge "$1" ]; }
txgen_report() { # txgen_report TAG WHY
  node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    if (typeof r.submitted !== "number" || r.stopped !== process.argv[2]) process.exit(1);' \
    "$work/$1.json" "$2" || fail "$1: no report saying it stopped on '$2': $(cat "$work/$1.json")"
}
txgen t1 0 3
signal_burst "$txgen_pid"
exits "$txgen_pid" 0 "txgen after repeated signals"
txgen_report t1 signal
[ "$(count stop.repeated "$work/t1.log")" -ge 1 ] || fail "txgen: the repeated signal was not logged"
all_json "$work/t1.log" || fail "txgen: a log line is not JSON"
txgen t2 5 6
kill -TERM "$n2"
exits "$n2" 0 "node n2"
exits "$txgen_pid" 0 "txgen whose node stopped"
txgen_report t2 "node closed the connection"

# start.sh: two Ctrl-Cs to its process group; the node gets one SIGTERM.
# As a terminal's foreground job: a session of its own and SIGINT not
# ignored (a script's background job starts with SIGINT ignored, which sh
# then cannot trap).
setsid env --default-signal=INT sh "$net/start.sh" >"$work/start.out" 2>&1 &
start_pid=$!
pids+=("$start_pid")
wait_until "start.sh's node" test -s "$net/node-0/ready.json"
node0=$(cat "$net/node-0/pid")
pids+=("$node0")
[ "$(cat "/proc/$node0/comm")" = cardinal-node ] || fail "node-0/pid is not the node's pid"
[ "$(ps -o sid= -p "$node0" | tr -d ' ')" = "$node0" ] || fail "the node is not in a session of its own"
kill -INT -- "-$start_pid"
sleep 0.01
kill -INT -- "-$start_pid" 2>/dev/null || true
exits "$start_pid" 0 "start.sh after two Ctrl-Cs"
wait_until "the node to end" gone "$node0"
log=$net/node-0/node.log
[ "$(count stopping "$log")" = 1 ] && [ "$(count stopped "$log")" = 1 ] ||
  fail "start.sh's node did not stop cleanly once"
[ "$(count stop.repeated "$log")" = 0 ] || fail "start.sh's node got more than one signal"
echo "$name: ok: run, serve, sync and txgen stop cleanly through repeated signals (each repeat logged); txgen reports when its node stops; start.sh sends one SIGTERM"
