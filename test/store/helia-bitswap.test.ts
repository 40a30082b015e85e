// The embedded store as an IPFS node: a real Kubo on loopback fetches a segment and
// a playlist the embedded node holds, over bitswap, and the embedded node fetches
// a file only Kubo holds. Each side connects to the other once, by multiaddr.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serializeMediaPlaylist } from '../../src/hls/media-playlist.js';
import { HeliaStore, KuboStore } from '../../src/store/index.js';
import { startKubo, type KuboHandle } from '../support/kubo.js';
import { pseudoRandomBytes } from './pseudo-random-bytes.js';

const MiB = 1024 * 1024;

/** Kubo's blockstore holds the block (offline lookup: no bitswap). */
async function kuboHasLocally(kubo: KuboHandle, cid: string): Promise<boolean> {
  const response = await fetch(`${kubo.apiUrl}/api/v0/block/stat?arg=${cid}&offline=true`, { method: 'POST' });
  await response.arrayBuffer();
  return response.ok;
}

describe('HeliaStore online: bitswap with Kubo', () => {
  let kubo: KuboHandle;
  let kuboStore: KuboStore;
  let dir: string;
  let store: HeliaStore;

  before(async () => {
    kubo = await startKubo({ swarm: true });
    kuboStore = new KuboStore({ url: kubo.apiUrl });
    dir = mkdtempSync(join(tmpdir(), 'abrcast-helia-net-'));
    store = new HeliaStore({ dir: join(dir, 'ipfs'), offline: false, listen: ['/ip4/127.0.0.1/tcp/0'], fetchTimeoutMs: 20_000 });
    await store.open();
  });

  after(async () => {
    await store?.close();
    await kuboStore?.close();
    await kubo?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('has a stable peer ID and dialable /p2p/ addresses', async () => {
    const peerId = await store.peerId();
    assert.match(peerId ?? '', /^12D3KooW/);
    const addresses = await store.multiaddrs();
    assert.ok(addresses.length > 0);
    for (const address of addresses) assert.match(address, new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${peerId}$`));
  });

  test('Kubo fetches a segment and a playlist from the embedded node, byte for byte', async () => {
    // 1.5 MiB: six 256 KiB leaves under a dag-pb root, so bitswap walks a real DAG.
    const segment = pseudoRandomBytes(1.5 * MiB + 123, 17);
    const segmentCid = await store.add(segment);
    const playlist = new TextEncoder().encode(
      serializeMediaPlaylist({
        targetDuration: 2,
        mediaSequence: 0,
        independentSegments: true,
        segments: [{ duration: 2, uri: `/ipfs/${segmentCid}` }],
        endList: true,
      }),
    );
    const playlistCid = await store.add(playlist);
    assert.equal(await kuboHasLocally(kubo, segmentCid), false);
    assert.equal(await kuboHasLocally(kubo, playlistCid), false);

    const [address] = await store.multiaddrs();
    // Through the RPC, not the CLI: a synchronous child process would block this event loop, and with it the embedded node's handshake.
    const connect = await fetch(`${kubo.apiUrl}/api/v0/swarm/connect?arg=${encodeURIComponent(address)}`, { method: 'POST' });
    assert.equal(connect.status, 200, await connect.text());

    assert.deepEqual(await kuboStore.cat(segmentCid), segment);
    assert.deepEqual(await kuboStore.cat(playlistCid), playlist);
    assert.equal(await kuboHasLocally(kubo, segmentCid), true);
  });

  test('the embedded node fetches a file only Kubo holds', async () => {
    const bytes = pseudoRandomBytes(MiB + 7, 42);
    const cid = await kuboStore.add(bytes);
    assert.equal(await store.has(cid), false);
    assert.deepEqual(await store.cat(cid), bytes);
    // Fetched blocks are kept: the next read needs no peer.
    assert.equal(await store.has(cid), true);
    assert.equal(await store.size(cid), bytes.byteLength);
  });

  test('connects to a peer given at start and fetches from it', async () => {
    const other = new HeliaStore({ dir: join(dir, 'ipfs-2'), offline: false, listen: ['/ip4/127.0.0.1/tcp/0'], peers: [kubo.swarmAddress!] });
    try {
      const bytes = pseudoRandomBytes(300_000, 5);
      const cid = await kuboStore.add(bytes);
      assert.deepEqual(await other.cat(cid), bytes);
    } finally {
      await other.close();
    }
  });
});

describe('HeliaStore online: alone', () => {
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'abrcast-helia-net-'));
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('keeps its peer ID across restarts', async () => {
    const first = new HeliaStore({ dir: join(dir, 'ipfs'), offline: false, listen: ['/ip4/127.0.0.1/tcp/0'] });
    const peerId = await first.peerId();
    await first.close();
    const second = new HeliaStore({ dir: join(dir, 'ipfs'), offline: false, listen: ['/ip4/127.0.0.1/tcp/0'] });
    try {
      assert.equal(await second.peerId(), peerId);
    } finally {
      await second.close();
    }
  });

  test('a CID no peer has fails after fetchTimeoutMs, naming the CID, instead of hanging', async () => {
    const store = new HeliaStore({ dir: join(dir, 'ipfs-alone'), offline: false, listen: ['/ip4/127.0.0.1/tcp/0'], fetchTimeoutMs: 500 });
    try {
      const missing = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy';
      await assert.rejects(store.cat(missing), (error: Error) => {
        assert.match(error.message, new RegExp(missing));
        assert.match(error.message, /500 ms/);
        return true;
      });
    } finally {
      await store.close();
    }
  });

  test('an offline store (the default) opens no port and cannot connect', async () => {
    const store = new HeliaStore({ dir: join(dir, 'ipfs-offline') });
    try {
      assert.equal(store.offline, true);
      assert.deepEqual(await store.multiaddrs(), []);
      assert.equal(await store.peerId(), undefined);
      await assert.rejects(store.connect('/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWQAF6jFrXsx6PzDJzzbS56wTUSsTQB4bkAxjR1YG6w4Sr'), /offline/);
    } finally {
      await store.close();
    }
  });

  test('a bad listen address is named in the error', async () => {
    assert.throws(() => new HeliaStore({ dir: join(dir, 'x'), offline: false, listen: ['0.0.0.0:4001'] }), /Expected multiaddr string such as \/ip4\/0\.0\.0\.0\/tcp\/4002 for listen\[0\] but received "0\.0\.0\.0:4001"/);
    const store = new HeliaStore({ dir: join(dir, 'y'), offline: false, listen: ['/ip4/999.0.0.1/tcp/1'] });
    await assert.rejects(store.open(), /listen\[0\].*\/ip4\/999\.0\.0\.1\/tcp\/1/);
  });
});
