// ts_client.js: the third-party client side of the interop test
// (docs/testing.md "Interop"; run by ts_interop.sh). With the npm package
// @harmoniclabs/ouroboros-miniprotocols-ts it handshakes with
// `cardinal-node serve`, chain-syncs every header of the served chain and
// block-fetches ranges of it, checking everything against the chunk file
// the server's database was imported from:
//   - each header's Blake2b-256 (over [tag, header]) is the expected hash,
//     its prevHash is the previous header's hash, its size hint is the
//     block's size, and its bytes are the header inside that block;
//   - every fetched block is byte for byte the block in the chunk.
// Usage: node ts_client.js PORT MAGIC EXPECTED.jsonl CHUNK
"use strict";
const fs = require("node:fs");
const net = require("node:net");
const T = require("@harmoniclabs/ouroboros-miniprotocols-ts");
const { Cbor, CborArray, CborTag, CborBytes, CborUInt } = require("@harmoniclabs/cbor");
const { blake2b } = require("blakejs");

const [port, magic, expectedFile, chunkFile] = process.argv.slice(2);
const expected = fs.readFileSync(expectedFile, "utf8").trim().split("\n").map((l) => JSON.parse(l));
const chunk = fs.readFileSync(chunkFile);

function fail(why) {
  console.error("ts_client: FAIL: " + why);
  process.exit(1);
}
const hex = (b) => Buffer.from(b).toString("hex");
const pointOf = (e) => ({ blockHeader: { slotNumber: e.slot, hash: Buffer.from(e.hash, "hex") } });
const blockBytesOf = (e) => chunk.subarray(e.offset, e.offset + e.size);

// [0, [[tag, size hint], #6.24(bytes header)]]: the Byron era's wrapped header.
function unwrapHeader(bytes) {
  const w = Cbor.parse(bytes);
  if (!(w instanceof CborArray) || w.array.length !== 2 || Number(w.array[0].num) !== 0)
    fail("roll-forward content is not a Byron-era header");
  const inner = w.array[1].array;
  const tag = Number(inner[0].array[0].num), sizeHint = Number(inner[0].array[1].num);
  if (!(inner[1] instanceof CborTag) || Number(inner[1].tag) !== 24) fail("header not in tag 24");
  return { tag, sizeHint, header: inner[1].data.bytes };
}

function checkHeader(i, content) {
  const e = expected[i];
  const { tag, sizeHint, header } = unwrapHeader(content);
  const hash = hex(blake2b(Buffer.concat([Buffer.from([0x82, tag]), header]), undefined, 32));
  if (hash !== e.hash) fail(`header ${i}: hash ${hash}, expected ${e.hash}`);
  if (tag !== (e.kind === "ebb" ? 0 : 1)) fail(`header ${i}: tag ${tag} for a ${e.kind} block`);
  if (sizeHint !== e.size) fail(`header ${i}: size hint ${sizeHint}, block size ${e.size}`);
  const prev = hex(Cbor.parse(header).array[1].bytes);
  if (i > 0 && prev !== expected[i - 1].hash) fail(`header ${i}: prevHash ${prev}`);
  // [tag, [header, body, extra]]: the header starts 3 bytes into the block.
  if (!blockBytesOf(e).subarray(3, 3 + header.length).equals(Buffer.from(header)))
    fail(`header ${i}: bytes differ from the block's header`);
}

async function handshake(mux) {
  const hs = new T.HandshakeClient(mux);
  const reply = await hs.propose(new T.VersionData({
    networkMagic: Number(magic), initiatorOnlyDiffusionMode: true, peerSharing: false, query: false,
  }));
  if (!(reply instanceof T.HandshakeAcceptVersion)) fail("handshake refused: " + reply.toString());
  hs.terminate();
  const v = Number(reply.versionNumber);
  if (v !== 14) fail(`accepted version ${v}, expected 14 (the highest both propose)`);
  return v;
}

async function chainSync(mux) {
  const cs = new T.ChainSyncClient(mux);
  const isect = await cs.findIntersect([T.ChainPoint.origin]);
  if (!(isect instanceof T.ChainSyncIntersectFound)) fail("no intersection at the origin");
  const back = await cs.requestNext();
  if (!(back instanceof T.ChainSyncRollBackwards)) fail("first reply is not a roll-backward");
  let lastTip = null;
  for (let i = 0; i < expected.length; i++) {
    const fwd = await cs.requestNext();
    if (!(fwd instanceof T.ChainSyncRollForward)) fail(`reply ${i} is not a roll-forward`);
    checkHeader(i, fwd.getDataBytes());
    lastTip = fwd.tip;
  }
  const tipHash = hex(lastTip.point.blockHeader.hash);
  const last = expected[expected.length - 1];
  if (tipHash !== last.hash || Number(lastTip.blockNo) !== last.block_no)
    fail(`tip ${tipHash}/${lastTip.blockNo}, expected ${last.hash}/${last.block_no}`);
  // From the tip, an intersection with the last header is found.
  const again = await cs.findIntersect([pointOf(last)]);
  if (!(again instanceof T.ChainSyncIntersectFound)) fail("no intersection at the tip");
  return expected.length;
}

async function fetchRange(bf, from, to) {
  const res = await bf.requestRange(pointOf(expected[from]), pointOf(expected[to]));
  if (!Array.isArray(res)) fail(`range ${from}..${to}: no blocks`);
  if (res.length !== to - from + 1) fail(`range ${from}..${to}: ${res.length} blocks`);
  res.forEach((b, k) => {
    if (!Buffer.from(b.getBlockBytes()).equals(blockBytesOf(expected[from + k])))
      fail(`block ${from + k} differs from the chunk`);
  });
  return res.length;
}

async function blockFetch(mux) {
  const bf = new T.BlockFetchClient(mux);
  const n = expected.length;
  const ranges = [[0, 0], [0, 99], [1000, 1499], [n - 2161, n - 1], [n - 1, n - 1]];
  let blocks = 0;
  for (const [a, b] of ranges) blocks += await fetchRange(bf, a, b);
  // A range whose end is not on the chain: MsgNoBlocks.
  const bogus = { blockHeader: { slotNumber: expected[5].slot, hash: Buffer.alloc(32, 7) } };
  const none = await bf.requestRange(pointOf(expected[0]), bogus);
  if (Array.isArray(none)) fail("a range ending off the chain returned blocks");
  return blocks;
}

async function main() {
  const mux = new T.Multiplexer({
    protocolType: "node-to-node",
    connect: () => net.connect({ host: "127.0.0.1", port: Number(port) }),
  });
  mux.on("error", (e) => fail("multiplexer: " + e));
  const version = await handshake(mux);
  const t0 = Date.now();
  const headers = await chainSync(mux);
  const t1 = Date.now();
  const blocks = await blockFetch(mux);
  const t2 = Date.now();
  console.log(JSON.stringify({ version, headers, header_seconds: (t1 - t0) / 1000, blocks,
                               block_seconds: (t2 - t1) / 1000 }));
  mux.close();
  process.exit(0);
}

main().catch((e) => fail(e && e.stack ? e.stack : String(e)));
