#!/usr/bin/env bash
# node_logs.sh: logs that tell the story (docs/node.md "Logs"), with real
# processes on loopback: a core node forges ~200 blocks, then a relay that
# logs to a file (--log-file) syncs them from it. Asserted:
#  - node.start on both: version, commit, config, role (core with its
#    genesis key, or relay), the listening address, the database at open;
#  - sync.progress on the relay while it catches up, then sync.caught_up;
#  - conn.opened on both ends with the remote address and the direction,
#    and conn.closed with its reason, kind of end and direction;
#  - severities by cardano-node's names, any case (NOTICE, Info); a bad
#    one refused with exit 2;
#  - logrotate: after `mv node.log node.log.1; kill -HUP pid` the relay
#    keeps running and its next lines go to a fresh node.log.
# Usage: node_logs.sh CARDINAL_CLI CARDINAL_NODE
set -euo pipefail
name=node_logs
cli=$1
node_bin=$2
. "$(dirname "$0")/stop_lib.sh"

slot_ms=100 stop_setup # 200 blocks in 20 s

# A bad severity is a usage error, before anything opens.
status=0
"$node_bin" run --config "$net/node-0/config.json" --topology "$net/node-0/topology.json" \
  --database-path "$work/db-x" --socket-path "$work/x.sock" --log-level Loud 2>/dev/null || status=$?
[ "$status" = 2 ] || fail "--log-level Loud: exit $status, expected 2"

# The core node, at cardano-node's Notice (our info), in capitals.
run_node core "$work/core.sock" "$base" "$work/db-core" $(core_keys) --log-level NOTICE
core=$node_pid
wait_until "the core node" ready core
forged_200() { [ "$(grep -c '"event":"forge.block"' "$work/core.log" || true)" -ge 200 ]; }
wait_limit_s=120 wait_until "200 forged blocks" forged_200

start=$(grep '"event":"node.start"' "$work/core.log") || fail "core: no node.start line"
for want in "version " "commit " "config $net/node-0/config.json" \
  "role core (genesis key 0)" "listening 127.0.0.1:$base" "database $work/db-core" \
  "tip slot 0 block 0 hash none" "snapshot none (from genesis)" "immutable 0 blocks"; do
  grep -qF "$want" <<<"$start" || fail "core: node.start without '$want': $start"
done

# The relay: the core is its only upstream peer; its log goes to a file.
mkdir -p "$work/relay"
printf '{"Producers": [{"addr": "127.0.0.1", "port": %d, "valency": 1}]}\n' "$base" \
  >"$work/relay/topology.json"
"$node_bin" run --config "$net/node-0/config.json" --topology "$work/relay/topology.json" \
  --database-path "$work/db-relay" --socket-path "$work/relay.sock" --host-addr 127.0.0.1 \
  --port $((base + 1)) --log-level Info --log-file "$work/relay/node.log" \
  >"$work/relay.ready" 2>"$work/relay.stderr" &
relay=$!
pids+=("$relay")
log=$work/relay/node.log
wait_until "the relay" ready relay
wait_until "the relay to catch up" grep -q '"event":"sync.caught_up"' "$log"
[ ! -s "$work/relay.stderr" ] || fail "the relay wrote to stderr: $(cat "$work/relay.stderr")"
all_json "$log" || fail "relay: a log line is not JSON"

start=$(grep '"event":"node.start"' "$log") || fail "relay: no node.start line"
for want in "role relay" "listening 127.0.0.1:$((base + 1))" "database $work/db-relay"; do
  grep -qF "$want" <<<"$start" || fail "relay: node.start without '$want': $start"
done
[ "$(count sync.progress "$log")" -ge 1 ] || fail "relay: no sync.progress line"
grep '"event":"sync.progress"' "$log" | head -1 |
  grep -qE "tip slot [0-9]+ \(block [0-9]+\) against the best peer's slot [0-9]+ \(block [0-9]+\), [0-9]+ blocks behind; the sync begins\"" ||
  fail "relay: the sync.progress line lacks its fields"
grep '"event":"sync.caught_up"' "$log" | grep -qE ": [0-9]+ blocks in [0-9.]+ s \([0-9.]+ blocks/s\)" ||
  fail "relay: sync.caught_up lacks its count and rate"
grep -q "\"event\":\"conn.opened\",\"msg\":\"127.0.0.1:$base (upstream)\"" "$log" ||
  fail "relay: no conn.opened naming the core's address as upstream"
grep -q '"event":"conn.opened","msg":"127.0.0.1:[0-9]* (inbound)"' "$work/core.log" ||
  fail "core: no conn.opened naming the relay's address as inbound"

# logrotate: the file moved, then SIGHUP; the relay runs on.
mv "$log" "$log.1"
kill -HUP "$relay"
sleep 0.5
kill -0 "$relay" 2>/dev/null || fail "the relay did not survive SIGHUP"
# The core stops: the relay logs the end of its connection, in a fresh file.
kill -TERM "$core"
exits "$core" 0 "the core node"
grep -q '"event":"conn.closed","msg":"127.0.0.1:[0-9]*: .* (inbound; end: [a-z_]*)"' \
  "$work/core.log" || fail "core: no conn.closed with its reason and direction"
wait_until "the relay's conn.closed in a fresh node.log" \
  grep -q "\"event\":\"conn.closed\",\"msg\":\"127.0.0.1:$base: .* (upstream; end: [a-z_]*)\"" "$log"
grep -q '"event":"conn.closed"' "$log.1" && fail "conn.closed went to the moved file"
grep -q '"event":"node.start"' "$log" && fail "the fresh node.log repeats the start"
kill -0 "$relay" 2>/dev/null || fail "the relay stopped"
kill -TERM "$relay"
exits "$relay" 0 "the relay"
grep -q '"event":"stopped"' "$log" || fail "relay: its stop is not in the fresh node.log"
all_json "$log" || fail "relay: a line of the fresh log is not JSON"
echo "$name: ok: node.start, sync.progress and sync.caught_up, conn lines with reasons, severities by name, the log file reopened on SIGHUP"
