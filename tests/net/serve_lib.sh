# serve_lib.sh: helpers the loopback tests share (sourced; docs/testing.md
# "Network"). The caller sets $cli, $node_bin and $vectors, then calls
# loopback_setup.

# Sets $genesis and $chunk_zst (mainnet), a fresh $work directory removed
# at exit together with any node still running, and imports epoch 0 into
# the database $work/$1.
loopback_setup() {
  genesis=$vectors/genesis/mainnet/mainnet-byron-genesis.json
  chunk_zst=$vectors/blocks/daedalus-turbo/mainnet-epoch0-chunk-00000.zstd
  work=$(mktemp -d)
  trap 'serve_kill; rm -rf "$work"' EXIT
  "$cli" db import --db "$work/$1" --genesis "$genesis" "$chunk_zst" >/dev/null
}

# Starts `cardinal-node serve` on a free port over the database $1 (extra
# arguments are passed on); sets $serve_pid and $serve_port.
serve_start() {
  local db=$1
  shift
  : >"$work/ready.json"
  "$node_bin" serve --db "$db" --port 0 "$@" >"$work/ready.json" 2>"$work/node.log" &
  serve_pid=$!
  for _ in $(seq 1 600); do
    [ -s "$work/ready.json" ] && break
    if ! kill -0 "$serve_pid" 2>/dev/null; then
      cat "$work/node.log" >&2
      echo "cardinal-node exited before listening" >&2
      return 1
    fi
    sleep 0.1
  done
  serve_port=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$work/ready.json")
  if [ -z "$serve_port" ]; then
    echo "no port in: $(cat "$work/ready.json")" >&2
    return 1
  fi
}

# Stops the node with SIGTERM; it must exit 0.
serve_stop() {
  kill -TERM "$serve_pid"
  local status=0
  wait "$serve_pid" || status=$?
  serve_pid=
  if [ "$status" -ne 0 ]; then
    cat "$work/node.log" >&2
    echo "cardinal-node exited with $status after SIGTERM" >&2
    return 1
  fi
}

serve_kill() {
  if [ -n "${serve_pid:-}" ]; then kill -9 "$serve_pid" 2>/dev/null || true; fi
}

# The value of "key": NUMBER in a JSON text.
json_number() { sed -n "s/.*\"$1\": *\([0-9]*\).*/\1/p" | head -1; }
