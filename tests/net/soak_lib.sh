# soak_lib.sh: the 200-peer soak and the checks the bounded-connection
# tests share (bounded_serve.sh against `serve`, hostile_run.sh against
# `run`; docs/testing.md "Hostile peers"). Sourced after serve_lib.sh's
# loopback_setup; the caller sets $cli, $peer_bin, $genesis and $work.

MAGIC=764824073
BLOCKS=21587 # mainnet epoch 0: 21,586 main blocks and the EBB
# The whole epoch: the EBB to the last block.
RANGE=0:89d9b5a5b8ddc8d7e5a6795e9774d97faf1efea59b2caf7eaf9f8c5b32059df4:21599:3bd04916b6bc2ad849d519cfae4ffe3b1a1660c098dbcd3e884073dd54bc8911
# The soak's RSS bound, in kB: 30 MB, and for each connection its budget
# (docs/network.md "Bounded connections": 32 KB of egress and one message
# of at most as much, a big block going in pieces; 32 KB handed to the
# kernel; its 64 KB read buffer and its scratch). Sanitizer builds
# (CDL_SOAK_RSS_CHECK=0) report the figure without the check: their
# allocator keeps freed memory in quarantine. They run about three times
# slower, so their soak lasts longer (CDL_SOAK_SECONDS, default 25).
PER_CONN_KB=200

# field BEHAVIOUR KEY FILE: a number from hostile_peer's report.
field() { sed -n "s/.*\"behaviour\":\"$1\".*\"$2\":\([0-9]*\).*/\1/p" "$3"; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
fds_of() { ls "/proc/$1/fd" | wc -l; }
query_tip() {
  "$cli" query tip --socket-path "$1" --genesis "$genesis" >/dev/null 2>"$work/query.err" ||
    { echo "query tip: $(cat "$work/query.err")" >&2; return 1; }
}

# pipelined PEER_ARGS...: chain-sync of the whole epoch with 1,000
# requests in flight reaches the tip; 1,000 sent at once, then only read,
# are all answered.
pipelined() {
  "$peer_bin" "$@" --magic $MAGIC --pipeline 1 --depth 1000 --seconds 60 >"$work/pipe.json"
  [ "$(field pipeline finished "$work/pipe.json")" = 1 ] &&
    [ "$(field pipeline forwards "$work/pipe.json")" = $BLOCKS ] ||
    fail "pipelined chain-sync ($*): $(cat "$work/pipe.json")"
  "$peer_bin" "$@" --magic $MAGIC --pipeline 1 --depth 1000 --burst 1 --seconds 30 \
    >"$work/burst.json"
  [ "$(field pipeline replies "$work/burst.json")" = 1000 ] ||
    fail "1,000 requests at once ($*): $(cat "$work/burst.json")"
}

# caps_apart PORT SOCKET LOG: the node runs with --max-connections 10;
# 30 TCP peers come: 20 are refused with a log line, and `query tip`
# still answers on the local socket meanwhile.
caps_apart() {
  local port=$1 sock=$2 log=$3 crowd refused
  "$peer_bin" --tcp "127.0.0.1:$port" --magic $MAGIC --nonreader 30 --range $RANGE \
    --seconds 8 >/dev/null &
  crowd=$!
  sleep 2
  query_tip "$sock" || fail "query tip refused while TCP peers fill their cap"
  kill "$crowd" 2>/dev/null || true
  wait "$crowd" 2>/dev/null || true
  refused=$(grep -c '"conn.refused","msg":"127.0.0.1:[0-9]*: over 10 node-to-node connections' \
    "$log" || true)
  [ "$refused" = 20 ] || fail "$refused TCP peers refused, expected 20"
}

# soak PID PORT SOCKET LOG NAME: 10 honest syncs and 190 hostile
# peers at once against the node PID (TCP PORT, local SOCKET, its log
# LOG; NAME, the command under test, labels the report), started with
# --write-timeout 5. Both commands run the same driver, which logs as
# component "node".
soak() {
  local pid=$1 port=$2 sock=$3 log=$4 comp=$5 syncs=10 i
  # A first sync opens the database's read handles (kept, opened on
  # first read): the baseline of descriptors is taken after it.
  "$cli" sync --from "127.0.0.1:$port" --db "$work/warm" --genesis "$genesis" >/dev/null ||
    fail "the warm-up sync"
  rm -rf "$work/warm"
  sleep 0.5
  local idle_kb fds_before peak_kb tips=0 kb soak_pid
  idle_kb=$(rss_kb "$pid")
  fds_before=$(fds_of "$pid")
  for i in $(seq 1 $syncs); do
    "$cli" sync --from "127.0.0.1:$port" --db "$work/sync-$i" --genesis "$genesis" \
      >"$work/sync-$i.json" 2>"$work/sync-$i.log" &
    echo $! >"$work/sync-$i.pid"
  done
  "$peer_bin" --tcp "127.0.0.1:$port" --magic $MAGIC --pipeline 10 --slow 50 --rate 65536 \
    --nonreader 50 --pinger 40 --garbage 40 --range $RANGE --seconds "${CDL_SOAK_SECONDS:-25}" \
    >"$work/soak.json" &
  soak_pid=$!
  peak_kb=$idle_kb
  while kill -0 "$soak_pid" 2>/dev/null; do
    kb=$(rss_kb "$pid")
    [ "$kb" -gt "$peak_kb" ] && peak_kb=$kb
    query_tip "$sock" || fail "query tip failed during the soak"
    tips=$((tips + 1))
    sleep 0.5
  done
  wait "$soak_pid"
  for i in $(seq 1 $syncs); do
    wait "$(cat "$work/sync-$i.pid")" || fail "honest sync $i: $(cat "$work/sync-$i.log")"
    [ "$(json_number blocks <"$work/sync-$i.json")" = $BLOCKS ] ||
      fail "honest sync $i: $(cat "$work/sync-$i.json")"
    rm -rf "$work/sync-$i"
  done
  local bound_kb=$((30 * 1024 + 200 * PER_CONN_KB))
  echo "soak ($comp): RSS idle ${idle_kb} kB, peak ${peak_kb} kB, bound ${bound_kb} kB;" \
    "query tip answered $tips times"
  cat "$work/soak.json"
  [ "${CDL_SOAK_RSS_CHECK:-1}" = 0 ] || [ "$peak_kb" -le "$bound_kb" ] ||
    fail "RSS peaked at $peak_kb kB, over $bound_kb kB"
  [ "$(field pipeline finished "$work/soak.json")" = 10 ] || fail "pipelined peers did not finish"
  [ "$(field slow closed_by_node "$work/soak.json")" = 0 ] || fail "a slow reader was closed"
  for b in nonreader:50 pinger:40 garbage:40; do
    [ "$(field "${b%:*}" closed_by_node "$work/soak.json")" = "${b#*:}" ] ||
      fail "not every ${b%:*} was closed"
  done
  closed_for() {
    grep -c "\"level\":\"warn\",\"component\":\"node\",\"event\":\"conn.closed\".*$1" "$log" || true
  }
  [ "$(closed_for 'mux.write_timeout')" -ge 50 ] || fail "non-readers: $(closed_for mux.write_timeout) write timeouts"
  [ "$(closed_for 'ingress overrun on protocol 8')" = 40 ] || fail "pingers: not 40 ingress overruns"
  [ "$(closed_for '')" -ge 130 ] || fail "$(closed_for '') connections closed for a rule, expected 130"
  sleep 1
  local fds_after
  fds_after=$(fds_of "$pid")
  [ "$fds_after" = "$fds_before" ] || fail "descriptors: $fds_before before, $fds_after after"
}
