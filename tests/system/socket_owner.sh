#!/usr/bin/env bash
# socket_owner.sh: one owner per socket (docs/node.md "One owner per
# socket"; src/io/listen.c), with real cardinal-node processes on loopback:
#  - a second `cardinal-node run` on a live node's socket path (its own
#    database and port) exits 3 naming the path; the first stays reachable
#    and its socket file stays;
#  - a second node on a live node's TCP port exits 3 (on 127.0.0.1 and on
#    0.0.0.0: no SO_REUSEPORT) and leaves no socket file;
#  - the same for `cardinal-node serve` (over a database made by db import),
#    and between serve and run;
#  - a socket file left by a SIGKILLed node is taken over;
#  - a node removes at stop only the socket file it bound: after its path
#    was given to another node, that node's socket stays.
# Usage: socket_owner.sh CARDINAL_CLI CARDINAL_NODE
set -euo pipefail
name=socket_owner
cli=$1
node_bin=$2
. "$(dirname "$0")/stop_lib.sh"
stop_setup

# refused TAG WHAT TEXT: cardinal-node TAG (just started) exits 3 and its
# log says TEXT.
refused() {
  exits "$node_pid" 3 "$2"
  grep -q "$3" "$work/$1.log" || fail "$2: the error does not say '$3'"
}

# run: a live node's socket path and port.
run_node a "$work/a.sock" "$base" "$work/db-a" $(core_keys)
a_pid=$node_pid
wait_until "node a" ready a
run_node b "$work/a.sock" $((base + 1)) "$work/db-b"
refused b "run on a live node's socket" "another process answers on the socket $work/a.sock"
tip_at "$work/a.sock" || fail "node a is unreachable after b was refused"
[ -S "$work/a.sock" ] || fail "node a's socket file is gone"
run_node c "$work/c.sock" "$base" "$work/db-c"
refused c "run on a live node's port" "port $base: address already in use"
[ ! -e "$work/c.sock" ] || fail "a refused node left its socket file"
run_node c2 "$work/c.sock" "$base" "$work/db-c" --host-addr 0.0.0.0
refused c2 "run on a live node's port (0.0.0.0)" "address already in use"

# serve: the same rules, and against run's socket. Each refused server
# has a database of its own: one shared with a live server would be refused
# for that first (storage.locked; tests/system/db_owner.sh).
import_chain "$work/db-s"
for copy in s2 s3 s4; do cp -a "$work/db-s" "$work/db-$copy"; done
serve_node s "$work/db-s" "$work/s.sock" $((base + 2))
s_pid=$node_pid
wait_until "serve s" ready s
serve_node s2 "$work/db-s2" "$work/s.sock" $((base + 3))
refused s2 "serve on a live server's socket" "another process answers on the socket $work/s.sock"
serve_node s3 "$work/db-s3" "$work/s3.sock" $((base + 2))
refused s3 "serve on a live server's port" "address already in use"
serve_node s4 "$work/db-s4" "$work/a.sock" $((base + 4))
refused s4 "serve on a live node's socket" "another process answers"
tip_at "$work/s.sock" || fail "serve s is unreachable"
tip_at "$work/a.sock" || fail "node a is unreachable after serve s4 was refused"
kill -TERM "$s_pid"
exits "$s_pid" 0 "serve s after SIGTERM"
[ ! -e "$work/s.sock" ] || fail "serve s left its socket file"

# A stale socket file: node a killed, a new node takes the path over.
disown "$a_pid" # no "Killed" notice from bash
kill -9 "$a_pid"
wait_until "node a to die" gone "$a_pid"
[ -S "$work/a.sock" ] || fail "no socket file left by the SIGKILLed node"
run_node d "$work/a.sock" "$base" "$work/db-d" $(core_keys)
d_pid=$node_pid
wait_until "node d on a stale socket" ready d
tip_at "$work/a.sock" || fail "node d is unreachable on the socket it took over"

# The path given to another node: d's socket file removed by hand and e
# started on the same path; d's stop leaves e's socket alone.
rm "$work/a.sock"
run_node e "$work/a.sock" $((base + 5)) "$work/db-e"
e_pid=$node_pid
wait_until "node e" ready e
kill -TERM "$d_pid"
exits "$d_pid" 0 "node d after SIGTERM"
[ -S "$work/a.sock" ] || fail "node d removed node e's socket file at its stop"
tip_at "$work/a.sock" || fail "node e is unreachable after node d stopped"
kill -TERM "$e_pid"
exits "$e_pid" 0 "node e after SIGTERM"
[ ! -e "$work/a.sock" ] || fail "node e left its socket file"
echo "$name: ok: second run/serve on a socket or port refused (exit 3), the first reachable; stale socket taken over; only a node's own socket removed"
