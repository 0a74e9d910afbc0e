#!/usr/bin/env bash
# live_view.sh: cardinal-cli live (docs/cli.md "live") against hostile
# metrics pages and a running devnet.
#  - Hostile pages from a tiny local HTTP server (python3): an oversized
#    page is refused (metrics.page_too_large, exit 1), a non-200 answer too
#    (metrics.not_http_200), garbage and overlong lines are skipped and
#    counted while the good lines still show; a closed port is exit 3.
#  - A devnet of one core node and one relay: --once prints one snapshot;
#    plain text (stdout a pipe) prints one per second until SIGTERM, exit 0.
#  - On a real terminal (a detached tmux session): two captures a few
#    seconds apart show the tip advancing, the peers (a row for the core
#    node: direction, state, round trip, blocks) and the mempool; 'q'
#    ends it with exit 0 and the terminal's settings as they were (endwin).
#  - A syncing relay: the relay is started again with an empty database
#    behind a slow link (a local proxy passing the core's bytes at
#    25 KB/s); the view, started before it, shows the sync below 95% with
#    the peer row up, then at least 97% (a slot behind at most) and the
#    core's tip block.
# Usage: live_view.sh CARDINAL_CLI CARDINAL_NODE
set -euo pipefail
cli=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
node_bin=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
work=$(mktemp -d)
net=$work/net
session=cdl-live-$$
pids=()
cleanup() {
  tmux kill-session -t "$session" 2>/dev/null || true
  tmux kill-session -t "$session-sync" 2>/dev/null || true
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for f in "$net"/node-*/pid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "live_view: FAIL: line $LINENO exited $?" >&2' ERR
fail() {
  echo "live_view: FAIL: $*" >&2
  exit 1
}
command -v tmux >/dev/null || fail "tmux is not installed (scripts/install-deps.sh)"
. "$(dirname "$0")/ports.sh"
base=$(port_base live_view)

# ---- Hostile pages: the server answers every GET with $work/answer as it is.
cat >"$work/serve.py" <<'PY'
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
while True:
    c, _ = s.accept()
    c.settimeout(2)
    try:
        c.recv(4096)
        c.sendall(open(sys.argv[2], "rb").read())
    except OSError:
        pass
    c.close()
PY
hport=$((base + 150))
python3 "$work/serve.py" $hport "$work/answer" &
pids+=($!)
disown $! # its kill at the end is no news
answer() { printf 'HTTP/1.0 %s\r\nContent-Type: text/plain\r\n\r\n' "$1" >"$work/answer"; cat >>"$work/answer"; }
once() { "$cli" live --metrics "127.0.0.1:$hport" --once >"$work/once.out" 2>"$work/once.err"; }
answer "200 OK" </dev/null
for _ in $(seq 1 50); do once && break; sleep 0.1; done

# Oversized: 300 KiB of valid-looking lines.
awk 'BEGIN { for (i = 0; i < 12000; i++) printf "cardinal_padding_%06d 1\n", i }' | answer "200 OK"
rc=0; once || rc=$?
[ $rc -eq 1 ] || fail "an oversized page: exit $rc, not 1"
grep -q '"rule":"metrics.page_too_large"' "$work/once.err" || fail "oversized: $(cat "$work/once.err")"

# Not a 200.
echo "nothing here" | answer "404 Not Found"
rc=0; once || rc=$?
[ $rc -eq 1 ] && grep -q '"rule":"metrics.not_http_200"' "$work/once.err" ||
  fail "a 404: exit $rc, $(cat "$work/once.err")"

# Garbage among good lines: the good ones show, the bad are counted.
{
  printf '# HELP cardano_node_metrics_blockNum_int tip\n'
  printf 'cardano_node_metrics_blockNum_int 4242\n'
  printf 'cardano_node_metrics_slotNum_int NaN\n'                 # not finite
  printf 'cardano_node_metrics_epoch_int 7 junk\n'                # trailing junk
  printf '{oops} 3\n'                                             # no name
  printf 'cardano_node_metrics_txsInMempool_int{a="b" 5\n'        # unclosed labels
  printf 'cardano_node_metrics_connectedPeers_int 3\n'
  printf 'cardinal_build_info{version="9.9.9\033[2J"} 1\n'        # an escape in a label
  head -c 5000 /dev/zero | tr '\0' 'x'; printf ' 1\n'             # overlong line
  printf 'cardinal_local\0clients 1\n'                            # a NUL byte
  # Per-peer series: a label value with a brace, a quote and an escape
  # byte; the same peer's rows joined; a label set left open (skipped).
  printf 'cardinal_peer_state{peer="10.0.0.9:1}\\"x\033[1m",direction="outbound",state="up"} 1\n'
  printf 'cardinal_peer_blocks_received_total{peer="10.0.0.9:1}\\"x\033[1m"} 77\n'
  printf 'cardinal_peer_rtt_seconds{peer="10.0.0.9:1}\\"x\033[1m"} 0.0125\n'
  printf 'cardinal_peer_state{peer="10.0.0.8:2,direction="inbound",state="up"} 1\n'
} | answer "200 OK"
once || fail "a page with garbage lines: exit $?: $(cat "$work/once.err")"
grep -Eq '^10\.0\.0\.9:1\}"x\[1m +outbound +up +12\.5 ms +77$' "$work/once.out" ||
  fail "garbage: no peer row: $(cat "$work/once.out")"
! grep -q '10.0.0.8' "$work/once.out" || fail "garbage: a malformed peer row shown"
grep -q 'tip block 4242  slot -  epoch -' "$work/once.out" || fail "garbage: $(cat "$work/once.out")"
grep -q 'connected 3 ' "$work/once.out" || fail "garbage: no peers: $(cat "$work/once.out")"
grep -q 'version 9.9.9\[2J ' "$work/once.out" || fail "garbage: version: $(cat "$work/once.out")"
grep -q 'ignored lines 7' "$work/once.out" || fail "garbage: count: $(cat "$work/once.out")"
if LC_ALL=C grep -q $'\033' "$work/once.out"; then fail "an escape byte reached the screen"; fi

# A port nobody listens on: I/O, exit 3.
rc=0; "$cli" live --metrics "127.0.0.1:$((base + 151))" --once 2>"$work/once.err" || rc=$?
[ $rc -eq 3 ] && grep -q metrics.unreachable "$work/once.err" || fail "closed port: exit $rc"
rc=0; "$cli" live --once 2>"$work/once.err" || rc=$?
[ $rc -eq 2 ] && grep -q -- '--metrics HOST:PORT is required' "$work/once.err" ||
  fail "no --metrics: exit $rc, $(cat "$work/once.err")"
rc=0; "$cli" live --metrics nowhere --once 2>"$work/once.err" || rc=$?
[ $rc -eq 2 ] && grep -q -- "--metrics: 'nowhere' is not HOST:PORT" "$work/once.err" ||
  fail "--metrics nowhere: exit $rc, $(cat "$work/once.err")"
"$cli" live --help >"$work/help.out" || fail "live --help: exit $?"
grep -q -- '--metrics=HOST:PORT' "$work/help.out" && grep -q '(required)' "$work/help.out" &&
  grep -q '^  cardinal-cli live --metrics 127.0.0.1:30103$' "$work/help.out" ||
  fail "live --help: $(cat "$work/help.out")"

# ---- A devnet: one core node, one relay; the view follows the relay.
"$cli" devnet create --dir "$net" --core-nodes 1 --relays 1 --slot-ms 250 --k 10 \
  --base-port $base --start-delay-s 2 >"$work/devnet.json"
export CARDINAL_NODE=$node_bin
(cd "$net" && ./start.sh 0 && ./start.sh 1)
metrics=127.0.0.1:$((base + 101))
sock=$net/node-1/node.socket
tip_of() { sed -n 's/^chain     tip block \([0-9]*\) .*/\1/p' "$1" | head -n 1; }
got_blocks() {
  "$cli" live --metrics "$metrics" --socket-path "$sock" --once >"$work/once.out" 2>/dev/null &&
    [ "$(tip_of "$work/once.out")" -ge 3 ] 2>/dev/null
}
for _ in $(seq 1 300); do got_blocks && break; sleep 0.1; done
got_blocks || fail "the relay shows no blocks: $(cat "$work/once.out")"
grep -q '^socket    tip slot [0-9]* block [0-9]*  k 10  slot 250 ms' "$work/once.out" ||
  fail "--once: no socket line: $(cat "$work/once.out")"
grep -q 'role relay' "$work/once.out" || fail "--once: not a relay: $(cat "$work/once.out")"

# Plain text through a pipe: a snapshot a second until SIGTERM.
"$cli" live --metrics "$metrics" >"$work/plain.out" 2>"$work/plain.err" &
plain=$!
sleep 3.5
kill -TERM $plain
rc=0; wait $plain || rc=$?
[ $rc -eq 0 ] || fail "plain text: exit $rc after SIGTERM: $(cat "$work/plain.err")"
n=$(grep -c '^cardinal-cli live ' "$work/plain.out")
[ "$n" -ge 3 ] || fail "plain text: $n snapshots in 3.5 s"

# ---- A terminal: tmux, 100x30.
tmux new-session -d -s "$session" -x 100 -y 30 \
  "s1=\$(stty -g); '$cli' live --metrics $metrics --socket-path '$sock'; rc=\$?; \
   s2=\$(stty -g); [ \"\$s1\" = \"\$s2\" ] && echo \"LIVE-EXIT \$rc SANE\" || echo \"LIVE-EXIT \$rc INSANE\"; sleep 60"
pane() { tmux capture-pane -p -t "$session"; }
for _ in $(seq 1 50); do pane | grep -q '^chain ' && break; sleep 0.1; done
sleep 1.5
pane >"$work/screen1"
sleep 3
pane >"$work/screen2"
t1=$(tip_of "$work/screen1"); t2=$(tip_of "$work/screen2")
[ -n "$t1" ] && [ -n "$t2" ] && [ "$t2" -gt "$t1" ] || fail "the tip did not advance: '$t1' then '$t2'
$(cat "$work/screen2")"
grep -Eq '^peers     connected [1-9]' "$work/screen2" || fail "no peers shown: $(cat "$work/screen2")"
grep -Eq '^mempool   [0-9]+ txs ' "$work/screen2" || fail "no mempool shown: $(cat "$work/screen2")"
grep -Eq "^127\.0\.0\.1:$base +(outbound|inbound) +up +[0-9.]+ ms +[1-9][0-9]*\$" "$work/screen2" ||
  fail "no row for the core node: $(cat "$work/screen2")"
grep -Eq '^resources rss [0-9.]+ MiB  cpu [0-9.]+% \([0-9.]+ s\)  descriptors [1-9][0-9]* of [1-9][0-9]*  disk [0-9.]+ KiB' \
  "$work/screen2" || fail "no resources shown: $(cat "$work/screen2")"
grep -q '^q quits' "$work/screen2" || fail "no key line: $(cat "$work/screen2")"
tmux resize-window -t "$session" -x 60 -y 20 2>/dev/null || true
sleep 1.5
pane | grep -q '^chain ' || fail "nothing after a resize: $(pane)"
tmux send-keys -t "$session" q
for _ in $(seq 1 50); do pane | grep -q LIVE-EXIT && break; sleep 0.1; done
pane | grep -q 'LIVE-EXIT 0 SANE' || fail "after q: $(pane)"
pane | grep -q 'q quits' && fail "the screen was not given back: $(pane)"

# ---- A syncing relay: stopped, its database emptied, its one upstream
# peer a proxy to the core that passes the core's bytes at 25 KB/s (some
# 19 blocks a second, against 4 a second forged, so a sync of the 60 or so
# blocks takes 3 to 4 s); the view starts first.
pport=$((base + 152))
cat >"$work/slow.py" <<'PY'
import socket, sys, threading, time
listen, target, rate, ready = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", listen)); s.listen(8)
open(ready, "w").close()
def pump(src, dst, limit):
    try:
        while True:
            data = src.recv(1024)
            if not data:
                break
            dst.sendall(data)
            if limit:
                time.sleep(len(data) / limit)
    except OSError:
        pass
    for x in (src, dst):
        try:
            x.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
while True:
    c, _ = s.accept()
    try:
        u = socket.create_connection(("127.0.0.1", target))
    except OSError:
        c.close()
        continue
    threading.Thread(target=pump, args=(c, u, 0), daemon=True).start()
    threading.Thread(target=pump, args=(u, c, rate), daemon=True).start()
PY
python3 "$work/slow.py" $pport $base 25000 "$work/slow.ready" &
pids+=($!)
disown $!
# Its database goes: no clean stop needed. It has let go of its ports
# once it is gone, or a zombie (nobody here reaps it) with no thread left.
gone() {
  [ ! -r "/proc/$1/status" ] || { grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null &&
    [ "$(ls "/proc/$1/task" 2>/dev/null | wc -l)" -le 1 ]; }
}
relay_pid=$(cat "$net/node-1/pid")
kill -9 "$relay_pid"
for _ in $(seq 1 100); do gone "$relay_pid" && break; sleep 0.05; done
rm -rf "$net/node-1/db"
printf '{"Producers": [{"addr": "127.0.0.1", "port": %d, "valency": 1}]}\n' $pport \
  >"$net/node-1/topology.json"
for _ in $(seq 1 100); do [ -f "$work/slow.ready" ] && break; sleep 0.05; done
[ -f "$work/slow.ready" ] || fail "the slow link did not start"
tmux new-session -d -s "$session-sync" -x 100 -y 30 "'$cli' live --metrics $metrics --socket-path '$sock'; sleep 60"
(cd "$net" && ./start.sh 1)
pids+=("$(cat "$net/node-1/pid")")
sync_pane() { tmux capture-pane -p -t "$session-sync"; }
percent() { sed -n 's/^sync      \[[#.]*\] *\([0-9.]*\)%.*/\1/p' "$1"; }
seen=
syncing=
for _ in $(seq 1 100); do
  sync_pane >"$work/sync"
  p=$(percent "$work/sync")
  if [ -n "$p" ]; then
    [ "$p" = "${seen##* }" ] || seen="$seen $p"
    if [ -z "$syncing" ] && awk -v p="$p" 'BEGIN {exit !(p < 95)}' &&
      grep -Eq "^127\.0\.0\.1:$pport +outbound +up " "$work/sync"; then
      syncing=1
      cp "$work/sync" "$work/screen-syncing"
    fi
    if [ -n "$syncing" ] && awk -v p="$p" 'BEGIN {exit !(p >= 97)}'; then break; fi
  fi
  sleep 0.25
done
[ -n "$syncing" ] || fail "no capture of the relay syncing (sync below 95% with its peer up): $seen
$(cat "$work/sync")"
awk -v p="$p" 'BEGIN {exit !(p >= 97)}' || fail "the relay did not reach the tip: $seen
$(cat "$work/sync")"
# The screen is up to a second or two old: the relay itself is at the
# core's tip now (a block apart at most, one may be on its way).
block_of() {
  "$cli" query tip --socket-path "$net/node-$1/node.socket" | sed -n 's/.*"block_no": *\([0-9]*\).*/\1/p'
}
relay=$(block_of 1)
core=$(block_of 0)
[ $((core - relay)) -le 1 ] || fail "the relay is at block $relay, the core at $core"
shown=$(tip_of "$work/sync")
got=$(sed -n "s/^127\.0\.0\.1:$pport  *outbound  *up  *[0-9.]* m\{0,1\}s  *\([0-9]*\)\$/\1/p" "$work/sync")
[ -n "$got" ] && [ "$got" -ge "$shown" ] ||
  fail "the peer row does not count the chain's $shown blocks: $(cat "$work/sync")"
echo "live_view: ok (tip $t1 -> $t2; a syncing relay's progress:$seen)"
sed 's/ *$//' "$work/screen2" | grep -v '^$'
echo "(the relay syncing)"
sed 's/ *$//' "$work/screen-syncing" | grep -v '^$'
