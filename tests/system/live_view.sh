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
#    seconds apart show the tip advancing, the peers and the mempool; 'q'
#    ends it with exit 0 and the terminal's settings as they were (endwin).
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
} | answer "200 OK"
once || fail "a page with garbage lines: exit $?: $(cat "$work/once.err")"
grep -q 'tip block 4242  slot -  epoch -' "$work/once.out" || fail "garbage: $(cat "$work/once.out")"
grep -q 'connected 3 ' "$work/once.out" || fail "garbage: no peers: $(cat "$work/once.out")"
grep -q 'version 9.9.9\[2J ' "$work/once.out" || fail "garbage: version: $(cat "$work/once.out")"
grep -q 'ignored lines 6' "$work/once.out" || fail "garbage: count: $(cat "$work/once.out")"
if LC_ALL=C grep -q $'\033' "$work/once.out"; then fail "an escape byte reached the screen"; fi

# A port nobody listens on: I/O, exit 3.
rc=0; "$cli" live --metrics "127.0.0.1:$((base + 151))" --once 2>"$work/once.err" || rc=$?
[ $rc -eq 3 ] && grep -q metrics.unreachable "$work/once.err" || fail "closed port: exit $rc"
rc=0; "$cli" live --once 2>/dev/null || rc=$?
[ $rc -eq 2 ] || fail "no --metrics: exit $rc, not 2"

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
grep -q '^q quits' "$work/screen2" || fail "no key line: $(cat "$work/screen2")"
tmux resize-window -t "$session" -x 60 -y 20 2>/dev/null || true
sleep 1.5
pane | grep -q '^chain ' || fail "nothing after a resize: $(pane)"
tmux send-keys -t "$session" q
for _ in $(seq 1 50); do pane | grep -q LIVE-EXIT && break; sleep 0.1; done
pane | grep -q 'LIVE-EXIT 0 SANE' || fail "after q: $(pane)"
pane | grep -q 'q quits' && fail "the screen was not given back: $(pane)"
echo "live_view: ok (tip $t1 -> $t2)"
sed 's/ *$//' "$work/screen2" | grep -v '^$'
