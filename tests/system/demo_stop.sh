#!/usr/bin/env bash
# demo_stop.sh: `make demo` stopped with Ctrl-C, DEMO_STOP_RUNS times in a
# row (default 10): the acceptance test of clean stops (docs/node.md
# "Stopping a node"; docs/testing.md "System test"; README "Two commands").
# Each run starts scripts/demo.sh as a terminal starts a foreground job (a
# process group of its own, SIGINT not ignored), waits until it has printed
# 3 block rows and then a seeded random 0-3 s more, sends SIGINT to the
# whole process group as Ctrl-C does (demo.sh, txgen, devnet watch; the
# nodes run in sessions of their own), waits for the demo to finish and
# checks what it printed and left:
#  - every node stopped cleanly, and all 4 stored the same tip;
#  - txgen's report was printed (JSON with "submitted") and txgen got no
#    second signal;
#  - each node got exactly one signal (one "stopping", no "stop.repeated").
# Faster than a real demo: 500 ms slots (DEMO_SLOT_MS), the genesis 1 s
# after creation (DEMO_START_DELAY_S). Loopback ports below 32768.
# First, once: DEMO_LIVE=1 in a tmux window (README "Two commands"): the
# relay's live view opens in a split beside the ticker, showing the relay
# and a row per core node, and closes when the demo ends (DEMO_BLOCKS=3).
# Usage: demo_stop.sh BUILD_DIR [SEED] (DEMO_STOP_RUNS, DEMO_STOP_SEED)
set -euo pipefail
build=$(cd "$1" && pwd)
repo=$(cd "$(dirname "$0")/../.." && pwd)
runs=${DEMO_STOP_RUNS:-10}
seed=${2:-${DEMO_STOP_SEED:-1}}
RANDOM=$seed
work=$(mktemp -d)
demo=$work/demo
. "$(dirname "$0")/ports.sh"
base=$(port_base demo_stop) # nodes on base+0..3, their metrics on base+100..103
demo_pid=
session=cdl-demo-live-$$
cleanup() {
  tmux kill-session -t "$session" 2>/dev/null || true
  # demo.sh leads its own process group; its nodes lead sessions of their own.
  if [ -n "$demo_pid" ]; then kill -9 -- "-$demo_pid" 2>/dev/null || true; fi
  for f in "$demo"/node-*/pid; do
    if [ -f "$f" ]; then kill -9 "$(cat "$f")" 2>/dev/null || true; fi
  done
  rm -rf "$work"
}
. "$(dirname "$0")/stop_lib.sh" # wait_until and gone; fail is this test's own, below
wait_limit_s=120
trap cleanup EXIT
trap 'echo "demo_stop: FAIL: line $LINENO exited $?" >&2' ERR
run=0
fail() {
  echo "demo_stop: FAIL: run $run of $runs (seed $seed): $*" >&2
  sed 's/^/  | /' "$work/out" >&2
  for log in "$demo"/node-*/node.log; do
    [ -f "$log" ] && { echo "--- $log (last lines)" >&2; tail -n 5 "$log" >&2; }
  done
  exit 1
}

now_ms() { date +%s%3N; }
sleep_ms() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }
rows() { grep -cE '^ *[0-9]+ +[0-9]+ +(core-[0-9]+|ebb) ' "$work/out" || true; }
has_rows() { [ "$(rows)" -ge 3 ] || { gone "$demo_pid" && fail "the demo ended before 3 rows"; }; }

check_run() {
  [ "$(grep -c 'cleanly, ledger snapshot written' "$work/out")" = 4 ] ||
    fail "not every node stopped cleanly"
  grep -q '^All 4 nodes stored the same tip\.$' "$work/out" || fail "the nodes stored different tips"
  node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    if (typeof r.submitted !== "number") process.exit(1);' "$demo/txgen.json" ||
    fail "txgen's report is not JSON with \"submitted\""
  grep -q '"submitted"' "$work/out" || fail "txgen's report was not printed"
  ! grep -q '"event":"stop.repeated"' "$work/out" || fail "txgen got a second signal"
  for i in 0 1 2 3; do
    local log=$demo/node-$i/node.log
    [ "$(grep -c '"event":"stopping"' "$log")" = 1 ] || fail "node-$i: not exactly one stop"
    ! grep -q '"event":"stop.repeated"' "$log" || fail "node-$i got more than one signal"
    gone "$(cat "$demo/node-$i/pid")" || fail "node-$i is still running"
  done
}

# ---- DEMO_LIVE=1 in a tmux window of 200 columns: a side-by-side split.
live_pane() { tmux list-panes -t "$session" -F '#{pane_id} #{pane_current_command}' | awk '$2 == "cardinal-cli" {print $1}'; }
live_shows_relay() {
  local p
  p=$(live_pane)
  [ -n "$p" ] && tmux capture-pane -p -t "$p" >"$work/live" &&
    grep -q "^cardinal-cli live  127.0.0.1:$((base + 103))  .* role relay " "$work/live" &&
    [ "$(grep -cE "^127\.0\.0\.1:($base|$((base + 1))|$((base + 2))) +(outbound|inbound) +up +[0-9.]+ ms +[0-9]+\$" \
      "$work/live")" = 3 ]
}
demo_done() { grep -q '^DEMO-EXIT ' "$work/out" 2>/dev/null; }
if command -v tmux >/dev/null; then
  rm -rf "$demo"
  : >"$work/out"
  tmux new-session -d -s "$session" -x 200 -y 50 \
    "DEMO_LIVE=1 DEMO_BLOCKS=3 DEMO_DIR='$demo' DEMO_PORT=$base DEMO_SLOT_MS=500 \
     DEMO_START_DELAY_S=1 bash '$repo/scripts/demo.sh' '$build' >'$work/out' 2>&1; \
     echo DEMO-EXIT \$? >>'$work/out'; sleep 60"
  wait_until "the live view of the relay with 3 peer rows" live_shows_relay
  wait_until "the demo to finish" demo_done
  grep -q '^DEMO-EXIT 0$' "$work/out" || fail "DEMO_LIVE=1: the demo failed"
  [ -z "$(live_pane)" ] || fail "DEMO_LIVE=1: the live view is still open after the demo"
  grep -q "^   live:     .*cardinal-cli live --metrics 127.0.0.1:$((base + 103)) --socket-path .*/node-3/node.socket\$" \
    "$work/out" || fail "DEMO_LIVE=1: no live view command printed"
  grep -q "open in the tmux pane beside this one" "$work/out" || fail "DEMO_LIVE=1: no split"
  check_run
  tmux kill-session -t "$session"
  live_checked="; DEMO_LIVE=1 opened the relay's live view beside the ticker and closed it"
else
  live_checked="; DEMO_LIVE=1 not tried: no tmux"
fi

start=$(now_ms)
tips=()
for run in $(seq 1 "$runs"); do
  rm -rf "$demo"
  # Emptied here, not only by the job's redirection, which runs after the
  # fork: has_rows must not count the previous run's rows.
  : >"$work/out"
  DEMO_DIR=$demo DEMO_PORT=$base DEMO_SLOT_MS=500 DEMO_START_DELAY_S=1 \
    setsid env --default-signal=INT bash "$repo/scripts/demo.sh" "$build" >"$work/out" 2>&1 &
  demo_pid=$!
  wait_until "3 block rows" has_rows
  sleep_ms $((RANDOM % 3001))
  kill -INT -- "-$demo_pid"
  wait_until "the demo to finish" gone "$demo_pid"
  status=0
  wait "$demo_pid" || status=$?
  [ "$status" = 0 ] || fail "the demo exited with $status"
  demo_pid=
  check_run
  tips+=("$(grep -m 1 -o 'block_no:[0-9]*' "$work/out" | cut -d: -f2)")
done
echo "demo_stop: ok: $runs runs of make demo stopped with Ctrl-C after 3 rows and 0-3 s more (seed $seed): each time 4 nodes stopped cleanly with one SIGTERM each, at the same tip (block ${tips[*]}), and txgen printed its report; $((($(now_ms) - start) / 1000)) s$live_checked"
