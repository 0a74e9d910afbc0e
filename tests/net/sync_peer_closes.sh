#!/usr/bin/env bash
# sync_peer_closes.sh: `cardinal-cli sync` against a peer that accepts the
# handshake and closes the connection as the client starts writing
# (closing_peer.c; docs/testing.md "Network"). The client's writes then
# fail with EPIPE: it must say so and exit 3 (docs/cli.md "sync"), not die
# of SIGPIPE with nothing said. Loopback only, a port below 32768; the
# helper kills the sync by its pid if it hangs.
# Usage: sync_peer_closes.sh CARDINAL_CLI CLOSING_PEER VECTORS_DIR
set -euo pipefail
cli=$1 peer=$2 vectors=$3
genesis=$vectors/genesis/mainnet/mainnet-byron-genesis.json
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "sync_peer_closes: FAIL: $*" >&2; exit 1; }

for round in 1 2 3; do
  status=0
  "$peer" 764824073 -- "$cli" sync --from "127.0.0.1:{port}" --db "$work/db-$round" \
    --genesis "$genesis" >"$work/out" 2>"$work/err" || status=$?
  [ "$status" = 3 ] || fail "round $round: exit $status, stderr: $(cat "$work/err")"
  grep -q '^{"error":{"rule":"io.failure","message":"the peer closed the connection' "$work/err" ||
    fail "round $round: no error naming the closed connection: $(cat "$work/err")"
done
echo "sync_peer_closes: ok"
