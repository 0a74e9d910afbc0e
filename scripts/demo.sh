#!/usr/bin/env bash
# demo.sh BUILD_DIR: `make demo` (README "Two commands"; docs/node.md "A
# local network" and "Stopping a node"). A local network of 3 core nodes
# and 1 relay on loopback with 1-second slots, all its files under one
# directory (DEMO_DIR, default BUILD_DIR/demo-devnet):
#  1. cardinal-cli devnet create: genesis, keys, configs, topologies;
#  2. the four cardinal-node processes started, each in its own session
#     (start.sh), so a Ctrl-C in the terminal never reaches a node;
#  3. cardinal-cli txgen submits DEMO_TPS payments a second to the relay;
#  4. cardinal-cli devnet watch prints each block the relay adopts (slot,
#     forger, its transactions, the running total) and every node's tip,
#     until Ctrl-C (or DEMO_BLOCKS blocks, for unattended runs);
#  5. the stop: txgen prints its report (the terminal's SIGINT reached it;
#     after DEMO_BLOCKS it gets a SIGTERM from here); once all four nodes
#     report the same tip (a few slots at most), in the middle of a slot
#     so that none forges meanwhile, each node gets exactly one SIGTERM;
#     when all have exited, how each stopped, the tip it stored, and
#     whether all the tips are equal.
# DEMO_PORT (default 30000) is the first node's port; metrics are on
# DEMO_PORT+100.., e.g. curl http://127.0.0.1:30100/metrics. For tests:
# DEMO_SLOT_MS (default 1000) and DEMO_START_DELAY_S (default 3, the
# genesis starts this long after creation).
# The relay's live view (cardinal-cli live; docs/cli.md "live"): its
# command is printed, to run in another terminal; DEMO_LIVE=1 on a
# terminal with tmux opens it beside the block ticker, in a tmux split of
# the current window (inside tmux) or of a tmux session made for the demo,
# and closes it when the demo ends.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
script=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cli=$build/cardinal-cli
dir=${DEMO_DIR:-$build/demo-devnet}
port=${DEMO_PORT:-30000}
tps=${DEMO_TPS:-5}
blocks=${DEMO_BLOCKS:-}
slot_ms=${DEMO_SLOT_MS:-1000}
start_delay=${DEMO_START_DELAY_S:-3}
# Every port (nodes on port.., metrics on port+100..) stays below Linux's
# ephemeral range (32768 up), where an outgoing connection could take it.
case $port in
  '' | *[!0-9]*) echo "demo: DEMO_PORT must be a number" >&2; exit 2 ;;
esac
if [ "$port" -lt 1024 ] || [ $((port + 100 + 3)) -ge 32768 ]; then
  echo "demo: DEMO_PORT $port: nodes and metrics (DEMO_PORT+100..) must stay in 1024..32767" >&2
  exit 2
fi

# DEMO_LIVE=1 outside tmux: the demo runs again inside a tmux session of
# its own, the DEMO_* settings passed on (a tmux server already running
# would not have them), and waits for Enter at its end so that its report
# stays on the screen.
if [ -n "${DEMO_LIVE:-}" ] && [ -z "${TMUX:-}" ]; then
  if [ -t 0 ] && [ -t 1 ] && command -v tmux >/dev/null; then
    settings=()
    for v in DEMO_DIR DEMO_PORT DEMO_TPS DEMO_BLOCKS DEMO_SLOT_MS DEMO_START_DELAY_S; do
      [ -z "${!v:-}" ] || settings+=(-e "$v=${!v}")
    done
    exec tmux new-session -s "cardinal-demo-$$" -c "$PWD" "${settings[@]}" -e DEMO_LIVE=1 \
      -e DEMO_OWN_TMUX=1 bash "$script" "$build"
  fi
  echo "demo: DEMO_LIVE=1 needs a terminal and tmux (scripts/install-deps.sh installs it);" \
    "the live view's command is below, for another terminal" >&2
fi

# Only a directory an earlier demo made is removed.
if [ -e "$dir" ]; then
  [ -f "$dir/devnet.json" ] || { echo "demo: $dir exists and is not a devnet; set DEMO_DIR" >&2; exit 2; }
  rm -rf "$dir"
fi

# A Ctrl-C reaches this script, txgen and devnet watch (the terminal's
# process group): it ends the block ticker, and the script goes on to the
# stop below, which then runs to its end (later Ctrl-Cs are ignored).
interrupted=
trap 'interrupted=1' INT
pids=()
txgen_pid=
watch_pid=
live_pane=
nodes_signalled=

sleep_ms() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }
now_ms() { date +%s%3N; }

# One SIGTERM to each node, never a second.
signal_nodes() {
  [ -z "$nodes_signalled" ] || return 0
  nodes_signalled=1
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
}

# Waits (up to 60 s) for every node to exit; they are start.sh's children,
# not ours, so each is polled.
wait_nodes() {
  local i
  for i in "${!pids[@]}"; do
    for _ in $(seq 1 600); do kill -0 "${pids[$i]}" 2>/dev/null || continue 2; sleep 0.1; done
    echo "demo: node-$i (pid ${pids[$i]}) is still running after 60 s" >&2
  done
}

# On an error or an early exit: txgen and the nodes are stopped all the same.
on_exit() {
  trap '' INT
  close_live
  for p in $txgen_pid $watch_pid; do kill -TERM "$p" 2>/dev/null || true; done
  signal_nodes
  wait_nodes
  if [ -n "${DEMO_OWN_TMUX:-}" ]; then
    printf '\nThe demo is over: Enter closes its tmux session. '
    read -r _ || true
  fi
}
trap on_exit EXIT

# The relay's live view in a tmux split: beside the ticker on a wide
# window, above it otherwise; the ticker's pane keeps the keyboard, so
# Ctrl-C still stops the demo.
open_live() {
  [ -n "${DEMO_LIVE:-}" ] && [ -n "${TMUX:-}" ] || return 0
  local split=(-v -b -l 18)
  [ "$(tmux display-message -p '#{window_width}')" -lt 190 ] || split=(-h)
  live_pane=$(tmux split-window "${split[@]}" -d -P -F '#{pane_id}' "$live_cmd") || {
    echo "demo: tmux would not split the window; run the live view in another terminal" >&2
    live_pane=
  }
}
# 'q' ends the view (its pane closes with it); a pane still there goes.
close_live() {
  [ -n "$live_pane" ] || return 0
  tmux send-keys -t "$live_pane" q 2>/dev/null || true
  for _ in $(seq 1 20); do
    tmux list-panes -a -F '#{pane_id}' 2>/dev/null | grep -qx "$live_pane" || break
    sleep 0.1
  done
  tmux kill-pane -t "$live_pane" 2>/dev/null || true
  live_pane=
}

echo "== A local network: 3 core nodes and 1 relay, $slot_ms ms slots, k = 10 (100-slot epochs)"
echo "   all files under $dir"
"$cli" devnet create --dir "$dir" --core-nodes 3 --relays 1 --slot-ms "$slot_ms" --k 10 \
  --base-port "$port" --start-delay-s "$start_delay" >/dev/null
start_ms=$(($(sed -n 's/.*"start_time": *\([0-9]*\).*/\1/p' "$dir/devnet.json") * 1000))
export CARDINAL_NODE=$build/cardinal-node
for i in 0 1 2 3; do
  (cd "$dir" && ./start.sh "$i")
  pids+=("$(cat "$dir/node-$i/pid")")
done
for i in 0 1 2 3; do
  for _ in $(seq 1 100); do [ -s "$dir/node-$i/ready.json" ] && break; sleep 0.1; done
  [ -s "$dir/node-$i/ready.json" ] || { echo "demo: node-$i did not start:" >&2; tail "$dir/node-$i/node.log" >&2; exit 3; }
done

live_cmd="$(printf '%q' "$cli") live --metrics 127.0.0.1:$((port + 103)) --socket-path"
live_cmd="$live_cmd $(printf '%q' "$dir/node-3/node.socket")"
if [ -z "$interrupted" ]; then
  open_live
  live_where="run it in another terminal, or start the demo as DEMO_LIVE=1 make demo"
  [ -z "$live_pane" ] || live_where="open in the tmux pane beside this one"
  cat <<EOF
   node-0..2 forge in turn (slot s by core s mod 3); node-3 is the relay.
   logs:     $dir/node-I/node.log (JSON lines)
   metrics:  curl http://127.0.0.1:$((port + 100))/metrics   (node-I on $((port + 100))+I)
   tip:      $cli query tip --socket-path $dir/node-3/node.socket
   live:     $live_cmd
             (the relay's live view, q quits: $live_where)

== txgen: $tps payments a second into the relay; every block as the relay adopts it
   (forger: the genesis key that signed it; tips: block number and hash of each node)
EOF
  "$cli" txgen --socket-path "$dir/node-3/node.socket" --genesis-dir "$dir/genesis" \
    --tps "$tps" --duration-s 86400 --wait-s 0 >"$dir/txgen.json" &
  txgen_pid=$!
  # In the background so that a Ctrl-C ends the `wait` at once and runs
  # the INT trap: bash skips the trap when a foreground child caught it.
  "$cli" devnet watch --dir "$dir" ${blocks:+--blocks "$blocks"} &
  watch_pid=$!
  while kill -0 "$watch_pid" 2>/dev/null; do wait "$watch_pid" || true; done
  watch_pid=
fi

# The stop. Commands started from here on ignore SIGINT too, so a second
# Ctrl-C cannot cut a tip query or the report short.
trap '' INT
close_live
echo
echo "== Stopping: txgen's report (latency is submit to block, in ms)"
if [ -n "$txgen_pid" ]; then
  # After a Ctrl-C txgen has its SIGINT already: it gets a SIGTERM only
  # when it is not done within a few seconds (a repeat is harmless to it).
  if [ -n "$interrupted" ]; then
    for _ in $(seq 1 50); do kill -0 "$txgen_pid" 2>/dev/null || break; sleep 0.1; done
  fi
  kill -TERM "$txgen_pid" 2>/dev/null || true
  wait "$txgen_pid" || true
  txgen_pid=
  cat "$dir/txgen.json"
fi

# Every node at the same tip: blocks are forged at a slot's start and
# spread within a fraction of it, so the tips are compared in the middle
# of a slot and, when equal, every node gets its SIGTERM in that same
# slot, before any can forge again. A few slots at most.
tip_hash() {
  "$cli" query tip --socket-path "$dir/node-$1/node.socket" --testnet-magic 42 2>/dev/null |
    sed -n 's/.*"hash": *"\([0-9a-f]*\)".*/\1/p'
}
tips_agree() {
  local first h i
  first=$(tip_hash 0)
  [ -n "$first" ] || return 1
  for i in 1 2 3; do
    h=$(tip_hash "$i")
    [ "$h" = "$first" ] || return 1
  done
}
stop_at_same_tip() {
  local deadline=$(($(now_ms) + 5 * slot_ms)) t slot into
  while [ "$(now_ms)" -lt "$deadline" ]; do
    t=$(now_ms)
    [ "$t" -ge "$start_ms" ] || break # no slot has begun: nobody forges yet
    slot=$(((t - start_ms) / slot_ms))
    into=$(((t - start_ms) % slot_ms))
    if [ "$into" -lt $((slot_ms / 4)) ] || [ "$into" -gt $((slot_ms * 3 / 4)) ]; then
      sleep_ms $(((slot_ms + slot_ms / 4 - into) % slot_ms + 1))
      continue
    fi
    tips_agree || { sleep_ms $((slot_ms / 2)); continue; }
    t=$(now_ms)
    [ $(((t - start_ms) / slot_ms)) = "$slot" ] && [ $(((t - start_ms) % slot_ms)) -lt $((slot_ms * 9 / 10)) ] && return 0
  done
  echo "   (the nodes did not agree on a tip within 5 slots: stopping them anyway)"
}
echo
echo "== Stopping the nodes: one SIGTERM each, once all have the same tip"
stop_at_same_tip
signal_nodes
wait_nodes

echo
echo "== How each node stopped, and the tip it stored:"
hashes=()
for i in 0 1 2 3; do
  how="NOT cleanly (see $dir/node-$i/node.log)"
  grep -q '"event":"stopped"' "$dir/node-$i/node.log" && how="cleanly, ledger snapshot written"
  printf 'node-%s: %s\n        ' "$i" "$how"
  tip=$("$cli" db info --db "$dir/node-$i/db" 2>/dev/null |
    awk '/"tip"/ && !seen {on = 1; seen = 1; next} on && /}/ {on = 0} on {gsub(/[ ",]/, ""); printf "%s  ", $0}') || true
  echo "$tip"
  hashes+=("$(sed -n 's/.*hash:\([0-9a-f]*\).*/\1/p' <<<"$tip")")
done
if [ -n "${hashes[0]}" ] && [ "$(printf '%s\n' "${hashes[@]}" | sort -u | wc -l)" = 1 ]; then
  echo "All 4 nodes stored the same tip."
else
  echo "The nodes stored different tips."
fi
echo "   Start the same network again with: $dir/start.sh (Ctrl-C stops it)"
