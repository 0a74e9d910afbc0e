#!/usr/bin/env bash
# metrics_system.sh: every metric the node exports, checked on a devnet
# (issue 26 item 5; docs/node.md "Metrics"; the names are listed in
# src/node/metrics.c and src/io/metrics_http.c). Two core nodes and a
# relay run past the first epoch boundary; then core node 1 is frozen
# (SIGSTOP), so core node 0 forges alone until the PBFT threshold stops
# it and the chain stands still: every value can then be compared with
# what it must be (the tip from cardinal-cli query tip, the forge.* log
# lines, a known transaction in the mempool, the topology's peers...).
# A metric this test does not check fails it, so a new metric must be
# tested here.
# Usage: metrics_system.sh CARDINAL_CLI CARDINAL_NODE
set -euo pipefail
name=metrics_system
cli=$1
node_bin=$(cd "$(dirname "$2")" && pwd)/$(basename "$2") # start.sh runs it from the devnet folder
. "$(dirname "$0")/signing_lib.sh" # $work, $net, $base, fail, make_devnet, start_node, tip_of...
epoch_slots=100 # 10 k
make_devnet 2 1 250 2
# Known mempool capacities; the relay's metrics endpoint from config.json's
# hasPrometheus instead of --metrics-port (the key cardano-node reads).
for i in 0 1 2; do
  sed -i "1s/^{/{\"MempoolCapacityBytesOverride\": $((400000 + i * 1000)),/" "$net/node-$i/config.json"
done
sed -i "1s/^{/{\"hasPrometheus\": [\"127.0.0.1\", $((base + 102))],/" "$net/node-2/config.json"
sed -i "s/ --metrics-port $((base + 102))//" "$net/start.sh"
! grep -q -- "--metrics-port $((base + 102))" "$net/start.sh" || fail "start.sh still names the relay's metrics port"
launched=$(date +%s)
for i in 0 1 2; do start_node $i; done

# Past the first epoch boundary (an EBB forged, epoch 1), then freeze.
wait_slot $((epoch_slots + 12))
kill -STOP "$(cat "$net/node-1/pid")"
# Node 0 forges alone until the threshold (0.7 of k = 10) forbids it:
# the tip stops moving. Wait for two equal tips 3 s apart.
last=
for _ in $(seq 1 20); do
  now=$(tip_of 0 | json_number block_no)
  [ "$now" = "$last" ] && break
  last=$now
  sleep 3
done
[ "$now" = "$last" ] || fail "node 0's tip never stood still"

# A known payment into the relay's mempool: it stays there (nobody may forge).
"$cli" genesis print-secrets --dir "$net/genesis" >"$work/secrets.json"
addrs=$(sed -n '/"poor"/,$s/.*"address": "\([^"]*\)".*/\1/p' "$work/secrets.json")
addr0=$(echo "$addrs" | awk 'NR == 1')
addr1=$(echo "$addrs" | awk 'NR == 2')
"$cli" genesis utxo --genesis "$net/genesis/genesis.json" --list >"$work/utxo.json"
txid1=$(grep -B 2 "\"$addr1\"" "$work/utxo.json" | sed -n 's/.*"tx_id": "\([0-9a-f]*\)".*/\1/p')
"$cli" tx build --socket-path "$net/node-2/node.socket" --tx-in "$txid1#0" \
  --tx-out "$addr0+5000000" --change-address "$addr1" --out-file "$work/pay.tx" >"$work/build.json"
"$cli" tx sign --tx-file "$work/pay.tx" --signing-key "$net/genesis/poor-keys.001.skey" \
  --testnet-magic 42 --out-file "$work/pay.signed" >/dev/null
"$cli" tx submit --socket-path "$net/node-2/node.socket" "$work/pay.signed" >"$work/submit.json" ||
  fail "tx submit: $(cat "$work/submit.json")"
signed_size=$(json_number signed_size <"$work/build.json")
# A local client held open on the relay while it is scraped: devnet watch.
"$cli" devnet watch --dir "$net" --follow 2 --json >/dev/null 2>&1 &
watch_pid=$!
pids+=($watch_pid)
sleep 3 # the metrics text is rendered once a second; the tx reaches node 0

log_count() { grep -c "\"event\":\"$2\"" "$net/node-$1/node.log" || true; }
scrape() { # scrape NODE: its whole exposition text, without the HTTP header
  exec 3<>"/dev/tcp/127.0.0.1/$((base + 100 + $1))"
  printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3
  sed '1,/^\r\{0,1\}$/d' <&3
  exec 3<&-
}
scrape 0 >"$work/m0-a.txt"
scrape 2 >"$work/m2-a.txt"
sleep 1.5
skips() { # the leader slots node $1 let pass, by its log
  echo $(($(log_count $1 forge.threshold) + $(log_count $1 forge.not_delegate)))
}
skips_before=$(skips 0)
slot_before=$(slot_now)
scrape 0 >"$work/m0.txt"
scrape 2 >"$work/m2.txt"
for n in 0 2; do # what the kernel says the nodes hold, at the same moment
  ls "/proc/$(cat "$net/node-$n/pid")/fd" | wc -l >"$work/fds-$n"
  "$cli" db info --db "$net/node-$n/db" >"$work/info-$n.json"
done
slot_after=$(slot_now)
skips_after=$(skips 0)
scraped=$(date +%s)
kill "$watch_pid" 2>/dev/null || true
tip_of 0 >"$work/tip0.json"
tip_of 2 >"$work/tip2.json"

# value NODE NAME [FILE SUFFIX]: the sample of NAME; the name is noted as checked.
value() {
  echo "$2" >>"$work/checked-$1"
  local v
  v=$(awk -v m="$2" '$1 == m {print $2}' "$work/m$1${3:-}.txt")
  [ -n "$v" ] || fail "node $1 exports no $2"
  echo "$v"
}
expect() { # expect NODE NAME WANT
  local v
  v=$(value "$1" "$2")
  [ "$v" = "$3" ] || fail "node $1: $2 is $v, expected $3"
}
expect_range() { # expect_range NODE NAME LOW HIGH
  local v
  v=$(value "$1" "$2")
  [ "$v" -ge "$3" ] && [ "$v" -le "$4" ] || fail "node $1: $2 is $v, expected $3..$4"
}
peers_in() { grep -c '"addr"' "$net/node-$1/topology.json"; }
# series NODE FAMILY: the family's labelled samples as "LABELS VALUE" (the
# labels without their braces), each noted as checked.
series() {
  awk -v f="$2{" 'index($1, f) == 1' "$work/m$1.txt" >"$work/series"
  awk '{print $1}' "$work/series" >>"$work/checked-$1"
  sed "s/^$2{\(.*\)} /\1 /" "$work/series"
}
# check_peer_rows NODE: one row per topology peer (docs/node.md "Metrics"):
# each up, outbound or inbound; blocks received from each summing to the
# node's total; a round trip measured for each, below 1 s on loopback.
check_peer_rows() {
  local n=$1 ports got sum=0 port v total
  ports=$(sed -n 's/.*"port": *\([0-9]*\).*/\1/p' "$net/node-$n/topology.json" | sort)
  got=$(series $n cardinal_peer_state |
    sed -n 's/^peer="127.0.0.1:\([0-9]*\)",direction="\(outbound\|inbound\)",state="up" 1$/\1/p' | sort)
  [ "$got" = "$ports" ] || fail "node $n: peer states $(cat "$work/series") for the topology's $ports"
  got=$(series $n cardinal_peer_blocks_received_total)
  while read -r port v; do
    grep -qx "$port" <<<"$ports" || fail "node $n: blocks received from $port, not a topology peer"
    sum=$((sum + v))
  done < <(sed -n 's/^peer="127.0.0.1:\([0-9]*\)" \([0-9]*\)$/\1 \2/p' <<<"$got")
  [ "$(wc -l <<<"$got")" = "$(wc -l <<<"$ports")" ] || fail "node $n: blocks received per peer: $got"
  total=$(value $n cardinal_blocks_received_total)
  [ "$sum" = "$total" ] || fail "node $n: its peers' blocks received sum to $sum, not $total"
  got=$(series $n cardinal_peer_rtt_seconds)
  [ "$(sed -n 's/^peer="127.0.0.1:\([0-9]*\)" 0\.[0-9]*$/\1/p' <<<"$got" | sort)" = "$ports" ] ||
    fail "node $n: round trips $got"
  awk '{exit !($2 > 0 && $2 < 1)}' <<<"$got" || fail "node $n: a round trip out of (0, 1) s: $got"
}
# direction_of NODE PORT: which way node NODE's connection to the peer on PORT goes.
direction_of() {
  sed -n "s/^cardinal_peer_state{peer=\"127.0.0.1:$2\",direction=\"\([a-z]*\)\".*/\1/p" "$work/m$1.txt"
}

for n in 0 2; do
  tip=$work/tip$n.json
  block_no=$(json_number block_no <"$tip")
  slot=$(json_number slot <"$tip")
  epoch=$(json_number epoch <"$tip")
  # The chain's blocks: the main blocks 1..block_no and an EBB per epoch.
  chain_len=$((block_no + epoch + 1))
  expect $n cardano_node_metrics_blockNum_int "$block_no"
  expect $n cardano_node_metrics_slotNum_int "$slot"
  expect $n cardano_node_metrics_epoch_int "$epoch"
  [ "$epoch" = 1 ] || fail "the tip is in epoch $epoch, not 1"
  expect $n cardano_node_metrics_slotInEpoch_int "$(json_number slotInEpoch <"$tip")"
  # Two cores filled every slot; node 0 alone every other one, 7 in 10 at most.
  density=$(value $n cardano_node_metrics_density_real)
  awk -v d="$density" 'BEGIN {exit !(d >= 0.5 && d <= 1)}' || fail "node $n: density $density"
  expect_range $n cardinal_current_slot $((slot_before - 5)) "$slot_after"
  expect $n cardano_node_metrics_txsInMempool_int 1
  expect $n cardano_node_metrics_mempoolBytes_int "$signed_size"
  expect $n cardinal_mempool_capacity_bytes $((400000 + n * 1000))
  expect $n cardano_node_metrics_txsProcessedNum_int 1
  expect $n cardinal_txs_received_total 1
  # The payment's one witness, verified as it entered the mempool; no
  # block has held it, so nothing was found verified already.
  expect $n cardinal_witness_cache_misses_total 1
  expect $n cardinal_witness_cache_hits_total 0
  expect $n cardinal_parse_threads "$(( $(nproc) < 64 ? $(nproc) : 64 ))"
  expect $n cardinal_txs_waiting 0 # room: nothing waits
  expect $n cardinal_txs_waited_total 0
  expect $n cardinal_local_tx_wait_expired_total 0
  # Offered by two peers at once, the payment is pulled from one (it was
  # received once, above): at most one pull saved.
  expect_range $n cardinal_tx_pulls_saved_total 0 1
  forged=$(log_count $n forge.block)
  ebbs=$(log_count $n forge.ebb)
  expect $n cardano_node_metrics_Forge_forged_int "$forged"
  expect $n cardinal_forged_ebbs_total "$ebbs"
  # Node 0 still lets a slot pass every 0.5 s, the text is rendered once a second.
  if [ $n = 0 ]; then
    expect_range $n cardinal_forge_skipped_total $((skips_before - 3)) "$skips_after"
  else
    expect $n cardinal_forge_skipped_total "$(skips $n)"
  fi
  peers=$(peers_in $n)
  expect $n cardano_node_metrics_connectedPeers_int "$peers"
  expect $n cardinal_duplex_connections "$peers" # one connection a pair, both ways
  expect $n cardinal_upstream_peers "$peers"
  expect $n cardinal_peer_suspensions_total 0
  expect $n cardinal_invalid_blocks_total 0
  expect $n cardinal_local_clients $((n == 2 ? 1 : 0)) # devnet watch follows the relay
  # Every header of the chain went to each downstream peer (a roll-back or two more).
  expect_range $n cardano_node_metrics_served_header_counter_int $((peers * chain_len - 2)) \
    $((peers * chain_len + 10))
  # A block forged here reached the others first from here; none went twice to a peer.
  expect_range $n cardano_node_metrics_served_block_count_int $((forged > 0 ? forged - 1 : 0)) \
    $((peers * chain_len))
  # Every block of the chain was forged here or received and adopted.
  adopted=$(value $n cardinal_blocks_adopted_total)
  [ $((adopted + forged + ebbs)) -ge $((chain_len - 2)) ] &&
    [ $((adopted + forged + ebbs)) -le $((chain_len + 2)) ] ||
    fail "node $n: $adopted adopted + $forged forged + $ebbs EBBs for a chain of $chain_len"
  expect_range $n cardinal_blocks_received_total "$adopted" $((adopted + 10))
  check_peer_rows $n
  # What runs: the version and commit `cardinal-node --version` prints.
  build=$("$node_bin" --version | sed -n 's/^cardinal-node \([^ ]*\) (commit \([^)]*\))$/version="\1",commit="\2" 1/p')
  [ -n "$build" ] && [ "$(series $n cardinal_build_info)" = "$build" ] ||
    fail "node $n: build info $(cat "$work/series"), not $build"
  for m in cardinal_connections_refused_total cardinal_local_connections_refused_total \
    cardinal_accept_failures_total cardinal_write_timeouts_total; do
    expect $n $m 0
  done
  expect_range $n cardano_node_metrics_nodeStartTime_int "$launched" "$scraped"
  up_a=$(value $n cardano_node_metrics_upTime_ns -a)
  expect_range $n cardano_node_metrics_upTime_ns $((up_a + 500000000)) \
    $(((scraped - launched + 2) * 1000000000))
  expect_range $n cardano_node_metrics_Mem_resident_int 1000000 2000000000
  # The process: CPU time that grew, within what its uptime allows on
  # this machine's cores; the descriptors the kernel lists for it (a
  # second apart: the scrape's own connection comes and goes), below the
  # limit the node logged at its start.
  cpu_a=$(value $n process_cpu_seconds_total -a)
  cpu=$(value $n process_cpu_seconds_total)
  awk -v a="$cpu_a" -v c="$cpu" -v most=$(((scraped - launched + 2) * $(nproc))) \
    'BEGIN {exit !(a > 0 && c >= a && c <= most)}' || fail "node $n: CPU seconds $cpu_a then $cpu"
  limit=$(sed -n 's/.*"event":"conn.limits","msg":"descriptors \([0-9]*\) .*/\1/p' "$net/node-$n/node.log")
  expect $n process_max_fds "$limit"
  fds=$(cat "$work/fds-$n")
  expect_range $n process_open_fds $((fds - 3)) $((fds + 3))
  [ "$fds" -lt "$limit" ] || fail "node $n: $fds descriptors, its limit $limit"
  # The ChainDB's bytes, as db info reads them from disk (the chain stands
  # still): its first "bytes" are the immutable part's, the second the volatile's.
  sed -n 's/.*"bytes": *\([0-9]*\).*/\1/p' "$work/info-$n.json" >"$work/bytes-$n"
  expect $n cardinal_chaindb_immutable_bytes "$(awk 'NR == 1' "$work/bytes-$n")"
  expect $n cardinal_chaindb_volatile_bytes "$(awk 'NR == 2' "$work/bytes-$n")"
done
# Both ends of the connection between core node 0 and the relay: one
# dialled it, the other took it (full duplex: one connection a pair).
d02=$(direction_of 0 $((base + 2)))
d20=$(direction_of 2 $((base + 0)))
[ "$d02-$d20" = outbound-inbound ] || [ "$d02-$d20" = inbound-outbound ] ||
  fail "node 0 calls its connection to the relay '$d02', the relay its connection to node 0 '$d20'"
# The relay forges nothing; node 0 forged the tip, and stopped at the threshold.
[ "$(value 2 cardano_node_metrics_Forge_forged_int)" = 0 ] || fail "the relay forged"
[ "$(value 0 cardano_node_metrics_Forge_forged_int)" -gt 0 ] || fail "node 0 forged nothing"
[ "$(value 0 cardinal_forge_skipped_total)" -gt 0 ] || fail "the threshold never stopped node 0"
[ $(($(log_count 0 forge.ebb) + $(log_count 1 forge.ebb))) -ge 1 ] || fail "no EBB forged"
# The signing record's guard: a core node's only.
expect 0 cardinal_forge_double_sign_refused_total "$(log_count 0 forge.already_signed)"
expect 0 cardinal_forge_record_failures_total "$(log_count 0 forge.record_failed)"
expect 0 cardinal_forge_refused_total "$(log_count 0 forge.refused)"
expect 0 cardinal_forge_last_signed_slot "$(json_number slot <"$work/tip0.json")"
for m in cardinal_forge_double_sign_refused_total cardinal_forge_last_signed_slot; do
  ! grep -q "^$m " "$work/m2.txt" || fail "the relay exports $m"
done

# No metric goes unchecked: a new one must be added here.
for n in 0 2; do
  unchecked=$(awk '!/^#/ && NF >= 2 {print $1}' "$work/m$n.txt" | grep -vxF -f "$work/checked-$n" || true)
  [ -z "$unchecked" ] || fail "node $n exports metrics this test does not check: $unchecked"
done
total=$(awk '!/^#/ && NF == 2' "$work/m0.txt" | wc -l)

# A metrics port that is taken: the node says why, and exits 3 (I/O).
status=0
"$node_bin" run --config "$net/node-2/config.json" --topology "$net/node-2/topology.json" \
  --database-path "$work/db-x" --socket-path "$work/x.socket" --host-addr 127.0.0.1 --port 0 \
  >/dev/null 2>"$work/taken.log" || status=$?
[ "$status" = 3 ] || fail "a taken metrics port: exit $status"
grep -q "cannot listen on 127.0.0.1 port $((base + 102)): Address already in use" "$work/taken.log" ||
  fail "a taken metrics port, with no reason: $(cat "$work/taken.log")"
echo "metrics_system: ok: $total metrics of a core node checked against the chain, the logs and the mempool"
