# ports.sh: the loopback ports of the system tests (rule: loopback only,
# below Linux's ephemeral range, 32768 up, where another process's
# outgoing connection could take a port first). Each test has a band of
# 1,600 ports of its own (13 bands from 10000 end at 30800), so tests that
# ctest runs at the same time never reach for each other's ports; the
# process id picks one of eight 200-port
# slots in the band (nodes on base+0.., their metrics on base+100..), so a
# rerun seldom meets its predecessor's sockets in TIME_WAIT.
# Usage: . ports.sh; base=$(port_base NAME)
port_base() {
  local i=0 n
  for n in devnet_system demo_stop node_signals socket_owner db_owner fd_budget kill_cores \
    signing_system redelegation_system governance_system live_view node_logs \
    metrics_system; do
    if [ "$n" = "$1" ]; then
      echo $((10000 + i * 1600 + ($$ % 8) * 200))
      return 0
    fi
    i=$((i + 1))
  done
  echo "port_base: no port band for $1 (add it to tests/system/ports.sh)" >&2
  return 1
}
