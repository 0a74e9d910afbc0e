#!/usr/bin/env bash
# db_owner.sh: one owner per database (docs/storage.md "One owner per
# database"; issue "Safe to operate", item 3), on real processes:
#  - while a node runs on a database, every command that writes to it is
#    refused with storage.locked naming the node's pid and exit 3: a second
#    `cardinal-node run` and `serve` on it, `cardinal-cli db import`,
#    `db repair`, `db truncate`, `sync`;
#  - the commands that only read (`db info`, `db validate`, `db export`,
#    `chain validate --db`) work on the live database and leave every file
#    byte for byte as it was, a torn record at the end of the file the node
#    writes included (what a crash or a write in progress leaves): they
#    report it and do not cut it, and the node's files are never deleted
#    under it;
#  - the same read-only commands over a core node that is forging as they
#    read: exit 0, no damage reported;
#  - the lock goes with its process: after a clean stop and after SIGKILL
#    a writer gets the database.
# Usage: db_owner.sh CARDINAL_CLI CARDINAL_NODE
set -euo pipefail
cli=$1
node=$2
work=$(mktemp -d)
net=$work/net
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "db_owner: FAIL: line $LINENO exited $?" >&2' ERR
fail() {
  echo "db_owner: FAIL: $*" >&2
  for f in "$work"/*.log "$work"/*.err; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 5 "$f" >&2; }; done
  exit 1
}

. "$(dirname "$0")/ports.sh"
base=$(port_base db_owner) # below 32768: never an ephemeral port
"$cli" devnet create --dir "$net" --core-nodes 1 --relays 1 --slot-ms 250 --k 10 \
  --base-port "$base" --start-delay-s 1 >/dev/null
genesis=$net/genesis/genesis.json
db=$net/node-1/db

# The relay's database holds a chain (imported) and the relay has no peers:
# once it runs it writes nothing, so its files can be compared.
"$cli" chain generate --genesis-dir "$net/genesis" --out "$work/chain.chunk" --slots 300 \
  --txs-per-block 1 --pbft-threshold 1 >/dev/null
"$cli" db import --db "$db" --genesis "$genesis" --pbft-threshold 1 "$work/chain.chunk" >/dev/null
echo '{"Producers": []}' >"$net/node-1/topology.json"
echo '{"Producers": []}' >"$net/node-0/topology.json" # the core node forges its own chain

start_node() { # start_node NAME ARGS...: the node's pid in $started once it listens
  local name=$1
  shift
  "$node" run "$@" >"$work/$name.ready" 2>"$work/$name.log" &
  started=$!
  pids+=("$started")
  for _ in $(seq 1 100); do [ -s "$work/$name.ready" ] && return 0; sleep 0.05; done
  fail "$name did not start"
}
relay_args=(--config "$net/node-1/config.json" --topology "$net/node-1/topology.json"
  --database-path "$db" --host-addr 127.0.0.1)
start_node relay "${relay_args[@]}" --port $((base + 1)) --socket-path "$net/node-1/node.socket"
relay=$started

# ---- Writers are refused while the relay runs ---------------------------------
expect_locked() { # expect_locked WHAT CMD...
  local what=$1 status=0
  shift
  "$@" >"$work/refused.out" 2>"$work/refused.err" || status=$?
  [ "$status" = 3 ] || fail "$what on a live database exited $status, not 3: $(cat "$work/refused.err")"
  grep -q 'storage.locked' "$work/refused.err" || fail "$what: not storage.locked: $(cat "$work/refused.err")"
  grep -q "process $relay" "$work/refused.err" || fail "$what: the holder's pid $relay is not named: $(cat "$work/refused.err")"
}
expect_locked "a second node" "$node" run "${relay_args[@]}" --port $((base + 2)) \
  --socket-path "$work/second.socket"
expect_locked "serve" "$node" serve --db "$db" --port $((base + 3)) --socket-path "$work/serve.socket"
expect_locked "db import" "$cli" db import --db "$db" "$work/chain.chunk"
expect_locked "db repair" "$cli" db repair --db "$db"
expect_locked "db truncate" "$cli" db truncate --db "$db" --to-slot 100
expect_locked "sync" "$cli" sync --from 127.0.0.1:$((base + 1)) --db "$db"
kill -0 "$relay" 2>/dev/null || fail "the relay died while the others were refused"

# ---- Readers leave every byte as it was, a torn tail included -----------------
fingerprint() { (cd "$db" && find . -type f ! -name lock | LC_ALL=C sort | xargs cksum); }
newest=$(ls "$db/volatile" | LC_ALL=C sort | tail -n 1)
printf 'CDLV\x40\x00\x00\x00' >>"$db/volatile/$newest" # a record cut short, as a crash leaves it
before=$(fingerprint)
"$cli" db info --db "$db" >"$work/info.json" || fail "db info on a live database"
"$cli" db validate --db "$db" >"$work/validate.json" || fail "db validate on a live database"
"$cli" db export --db "$db" --out "$work/export.chunk" >/dev/null || fail "db export on a live database"
"$cli" chain validate --db "$db" >"$work/chain.json" || fail "chain validate --db on a live database"
after=$(fingerprint)
[ "$before" = "$after" ] || fail "a read-only command changed the live database: $(diff <(echo "$before") <(echo "$after"))"
grep -q '"torn_bytes": 8' "$work/info.json" || fail "db info does not report the torn record: $(cat "$work/info.json")"
grep -q '"problem": ""' "$work/info.json" || fail "db info reports damage: $(cat "$work/info.json")"
cmp -s "$work/export.chunk" "$work/chain.chunk" || fail "db export does not give back the imported chain"
if ls -l /proc/"$relay"/fd 2>/dev/null | grep -q '(deleted)'; then
  fail "a file the relay holds was deleted under it"
fi
kill -0 "$relay" 2>/dev/null || fail "the relay died"

# ---- Readers over a core node forging as they read ----------------------------
start_node core --config "$net/node-0/config.json" --topology "$net/node-0/topology.json" \
  --database-path "$net/node-0/db" --host-addr 127.0.0.1 --port "$base" \
  --socket-path "$net/node-0/node.socket" \
  --delegation-certificate "$net/genesis/delegation-cert.000.json" \
  --signing-key "$net/genesis/delegate-keys.000.skey"
core=$started
for round in 1 2 3 4 5; do
  "$cli" db info --db "$net/node-0/db" >"$work/core-info.json" || fail "db info, round $round"
  grep -q '"problem": ""' "$work/core-info.json" || fail "db info reports damage: $(cat "$work/core-info.json")"
  "$cli" db validate --db "$net/node-0/db" >/dev/null || fail "db validate, round $round"
  "$cli" db export --db "$net/node-0/db" --out "$work/core.chunk" >/dev/null || fail "db export, round $round"
  "$cli" chain validate --db "$net/node-0/db" >/dev/null || fail "chain validate, round $round"
  sleep 0.3
done
forged=$(grep -c '"event":"forge.block"' "$work/core.log" || true)
[ "$forged" -ge 3 ] || fail "the core node forged $forged blocks while it was read"
kill -0 "$core" 2>/dev/null || fail "the core node died while it was read"

# ---- The lock goes with its process ------------------------------------------
kill -TERM "$relay"
wait "$relay" || fail "the relay did not stop cleanly"
"$cli" db repair --db "$db" >/dev/null || fail "db repair after the relay stopped"
kill -9 "$core"
wait "$core" 2>/dev/null || true
"$cli" db truncate --db "$net/node-0/db" --to-slot 5 >/dev/null || fail "db truncate after a SIGKILL"
echo "db_owner: ok: 6 writers refused naming pid $relay; 4 readers left a live database byte for byte (a torn record reported, not cut); readers over a forging node clean ($forged blocks forged meanwhile); the lock freed by a stop and by SIGKILL"
