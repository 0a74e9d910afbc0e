#!/usr/bin/env bash
# hostile_sockets.sh: hostile peers against `cardinal-node serve` over real
# TCP connections (docs/testing.md "Network"). Each of a garbage handshake,
# a zero-length SDU, an unknown protocol, an oversize handshake, a message
# without agency, a flood of SDUs and a silent peer is closed by the node,
# within its limit, with its rule in the log; meanwhile and afterwards the
# node keeps serving a real client; the node holds as many descriptors at
# the end as before; SIGTERM stops it with exit 0 (under ASan, LSan checks
# for leaks at that exit).
# Usage: hostile_sockets.sh CARDINAL_CLI CARDINAL_NODE VECTORS_DIR
set -euo pipefail
cli=$1 node_bin=$2 vectors=$3
here=$(cd "$(dirname "$0")" && pwd)
. "$here/serve_lib.sh"
loopback_setup src
fail() { echo "hostile_sockets: FAIL: $*" >&2; cat "$work/node.log" >&2; exit 1; }

serve_start "$work/src"
fds() { ls "/proc/$serve_pid/fd" | wc -l; }
# A first client warms the database's file handles (opened on first read).
"$cli" sync --from "127.0.0.1:$serve_port" --db "$work/warm" --genesis "$genesis" >/dev/null ||
  fail "the first sync"
sleep 0.2
fds_before=$(fds)

# SDU header: time 0, protocol (M = 0), length.
sdu() { printf "\\x00\\x00\\x00\\x00\\x$(printf %02x $(($1 >> 8)))\\x$(printf %02x $(($1 & 255)))\\x$(printf %02x $(($2 >> 8)))\\x$(printf %02x $(($2 & 255)))"; }
# A node-to-node v14 proposal for mainnet: [0, {14: [magic, true, 0, false]}].
propose() { sdu 0 13; printf '\x82\x00\xa1\x0e\x84\x1a\x2d\x96\x4a\x09\xf5\x00\xf4'; }

# Sends what $2 prints on a new connection, then waits up to $3 s for the
# node to close it; records how long that took in $work/$1.secs.
attack() {
  local name=$1 gen=$2 limit=$3 start end
  start=$(date +%s%N)
  exec {fd}<>"/dev/tcp/127.0.0.1/$serve_port"
  $gen >&"$fd" 2>/dev/null || true
  # A rule breaker is reset (cat fails), a clean end closed (cat ends);
  # only timeout's own status says the node kept it open.
  local rc=0
  timeout "$limit" cat <&"$fd" >/dev/null 2>&1 || rc=$?
  [ "$rc" != 124 ] || echo "$name: not closed within $limit s" >"$work/$name.err"
  exec {fd}>&-
  end=$(date +%s%N)
  echo $(((end - start) / 1000000)) >"$work/$name.ms"
}

garbage() { sdu 0 4; printf '\xff\xff\xff\xff'; }
zero_sdu() { propose; sdu 2 0; }
unknown_protocol() { propose; sdu 99 1; printf '\x00'; }
oversize_handshake() { sdu 0 6000; head -c 6000 /dev/zero; }
no_agency() { propose; sdu 8 3; printf '\x82\x01\x05'; } # MsgKeepAliveResponse from the client
# 276,480 MsgRequestNext, never reading a reply.
flood() {
  local many
  many=$(printf '\\x81\\x00%.0s' $(seq 1 6144))
  propose
  for _ in $(seq 1 45); do sdu 2 12288; printf "$many"; done
}
silent() { :; }

# The attacks that break a rule are closed as soon as the node has read
# them; 20 s bounds that on a loaded machine (a sanitizer build syncing a
# real client meanwhile: 5 s was once too little). Each rule's own limit is
# timed in test_server.
pids=()
for a in garbage zero_sdu unknown_protocol oversize_handshake no_agency flood; do
  attack $a $a 20 &
  pids+=($!)
done
attack silent silent 15 &
pids+=($!)
# A real client syncs while the attacks go on.
"$cli" sync --from "127.0.0.1:$serve_port" --db "$work/copy" --genesis "$genesis" >"$work/sync.json" ||
  fail "sync during the attacks"
wait "${pids[@]}"
for f in "$work"/*.err; do [ -e "$f" ] && fail "$(cat "$f")"; done
[ "$(json_number blocks <"$work/sync.json")" = 21587 ] || fail "sync: $(cat "$work/sync.json")"

expect_log() { grep -q "\"conn.closed\",\"msg\":\"127.0.0.1:[0-9]*: $1" "$work/node.log" || fail "no close for: $1"; }
expect_log "net.protocol_violation: mux: an SDU with no payload"
expect_log "net.protocol_violation: mux: unknown mini-protocol 99"
expect_log "input.size_limit: mux: ingress overrun on protocol 0"
expect_log "net.protocol_violation: keep-alive"
expect_log "input.size_limit: mux: ingress overrun on protocol 2"
expect_log "net.timeout: handshake"
expect_log "cbor.malformed" # the garbage handshake
silent_ms=$(cat "$work/silent.ms")
[ "$silent_ms" -ge 9900 ] && [ "$silent_ms" -le 12500 ] || fail "silent peer closed after $silent_ms ms (limit 10 s)"

# After the attacks: another client is served, and no descriptor is left.
"$cli" sync --from "127.0.0.1:$serve_port" --db "$work/copy2" --genesis "$genesis" >/dev/null ||
  fail "sync after the attacks"
sleep 0.2
fds_after=$(fds)
[ "$fds_after" = "$fds_before" ] || fail "descriptors: $fds_before before, $fds_after after"
violations=$(grep -c '"level":"warn","component":"node","event":"conn.closed"' "$work/node.log")
[ "$violations" = 7 ] || fail "$violations connections closed for a violation, expected 7"
serve_stop
echo "hostile_sockets: ok (silent peer closed after $silent_ms ms)"
