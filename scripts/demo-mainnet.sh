#!/usr/bin/env bash
# demo-mainnet.sh BUILD_DIR: `make demo-mainnet`. Takes the bundled
# real mainnet data (the Byron genesis and all of epoch 0, cardano-node's
# chunk 00000), shows what Cardinal makes of it, and validates the whole
# epoch through the ledger.
set -euo pipefail
build=${1:-build}
cli="$build/cardinal-cli"
vectors=tests/vectors
genesis=$vectors/genesis/mainnet/mainnet-byron-genesis.json
work="$build/demo"
mkdir -p "$work"
zstd -d -q -f "$vectors/blocks/daedalus-turbo/mainnet-epoch0-chunk-00000.zstd" -o "$work/00000.chunk"

echo "== Mainnet Byron genesis: hash (must be 5f20df93...0ebb) and genesis UTxO"
"$cli" genesis hash --genesis "$genesis"
"$cli" genesis utxo --genesis "$genesis"

echo
echo "== The first main block of mainnet (slot 0), from the chunk's block list"
"$cli" block list "$work/00000.chunk" > "$work/blocks.jsonl"
sed -n 2p "$work/blocks.jsonl"

echo
echo "== The first block with a transaction (an AVVM redemption), decoded"
line=$(grep -m1 '"tx_count":1' "$work/blocks.jsonl")
offset=$(echo "$line" | sed 's/.*"offset":\([0-9]*\).*/\1/')
size=$(echo "$line" | sed 's/.*"size":\([0-9]*\).*/\1/')
dd if="$work/00000.chunk" of="$work/first-tx-block.cbor" bs=1 skip="$offset" count="$size" status=none
"$cli" block show "$work/first-tx-block.cbor" > "$work/first-tx-block.json"
sed -n '1,12p;/"txs"/,/"delegation_certificates"/p;/"checks"/,$p' "$work/first-tx-block.json"

echo
echo "== All of epoch 0 validated by the Byron ledger from the mainnet genesis:"
echo "   envelope, PBFT (signatures, delegates, signing threshold), proofs,"
echo "   every transaction and witness. Tip must be 3bd04916...; UTxO lovelace"
echo "   plus fees must equal the genesis total 31112484745000000."
"$cli" chain validate --genesis "$genesis" --chunk "$work/00000.chunk" --threads 2

echo
echo "== A network of our own: a genesis with 7 core keys (k = 10, so 100-slot"
echo "   epochs), three epochs forged with payments, a re-delegation per epoch and"
echo "   an update that gets adopted, then validated from that genesis."
rm -rf "$work/devnet"
"$cli" genesis create --out-dir "$work/devnet" --protocol-magic 42 --k 10 \
  --slot-duration-ms 1000 --genesis-keys 7 --poor-addresses 5 \
  --poor-balance 1000000000000 --seed 1
"$cli" chain generate --genesis-dir "$work/devnet" --out "$work/devnet.chunk" --slots 300 \
  --txs-per-block 2 --delegation --updates --seed 1
"$cli" chain validate --genesis "$work/devnet/genesis.json" --chunk "$work/devnet.chunk"

echo
echo "== The same chain with one defect (a fee of 1 lovelace): refused at the"
echo "   reported block with the reported rule."
"$cli" chain generate-invalid --from "$work/devnet.chunk" --genesis-dir "$work/devnet" \
  --case fee-too-low --seed 1 --out "$work/bad.chunk"
"$cli" chain validate --genesis "$work/devnet/genesis.json" --chunk "$work/bad.chunk" || true

echo
echo "== The ChainDB: epoch 0 imported (validated, stored, the last k = 2160 blocks"
echo "   kept volatile), then damaged on disk, found by db validate, and repaired"
echo "   back to the last good block (docs/storage.md)."
rm -rf "$work/db"
"$cli" db import --db "$work/db" --genesis "$genesis" "$work/00000.chunk" \
  | sed -n '/"adopted"/p;/"tip"/,/}/p;/immutable_blocks/,$p'
printf '\132' | dd of="$work/db/immutable/00000.chunk" bs=1 seek=3000000 conv=notrunc status=none
echo "-- one byte changed at offset 3000000 of immutable/00000.chunk:"
"$cli" db validate --db "$work/db" || true
"$cli" db repair --db "$work/db" | sed -n '/"structure"/,/}/p;/"tip"/,/}/p'
"$cli" db validate --db "$work/db" | sed -n '1,3p'
