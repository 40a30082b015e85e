// The store over several real Kubo peers on loopback: what add() resolves is pinned on
// `replicas` peers, byte for byte the same, with the CID one Kubo gives; a peer that
// is down holds publishing back (replicas = peers) until it returns, and the upload
// queue's retries then finish the job; reads go to a peer that answers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { UploadQueue } from '../../src/publish/upload-queue.js';
import { KuboPeersStore, KuboStore, StoreUnavailableError } from '../../src/store/index.js';
import { startKuboPeers, type KuboPeers } from '../support/kubo-peers.js';
import { pseudoRandomBytes } from './pseudo-random-bytes.js';

const MiB = 1024 * 1024;

/** Waits for `condition`, polling, up to `ms`. */
async function waitFor(condition: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('KuboPeersStore options', () => {
  test('replicas must be an integer from 1 to the number of peers, and the error names the value', () => {
    const peers = ['http://127.0.0.1:5001', 'http://127.0.0.1:5002'];
    assert.throws(() => new KuboPeersStore({ peers, replicas: 3 }), { name: 'RangeError', message: 'Expected integer from 1 to 2 (the number of peers) for replicas but received 3' });
    assert.throws(() => new KuboPeersStore({ peers, replicas: 0 }), /for replicas but received 0/);
    assert.throws(() => new KuboPeersStore({ peers, replicas: 1.5 }), /for replicas but received 1.5/);
    assert.equal(new KuboPeersStore({ peers }).replicas, 1);
  });

  test('peers must be distinct http(s) URLs', () => {
    assert.throws(() => new KuboPeersStore({ peers: [] }), /Expected non-empty array of Kubo RPC URLs for peers/);
    assert.throws(() => new KuboPeersStore({ peers: ['http://127.0.0.1:5001', 'ftp://x'] }), /for peers\[1\] but received "ftp:\/\/x"/);
    assert.throws(
      () => new KuboPeersStore({ peers: ['http://127.0.0.1:5001/', 'http://127.0.0.1:5001/api/v0'] }),
      /Expected array of distinct Kubo RPC URLs for peers but received "http:\/\/127.0.0.1:5001"/,
    );
  });
});

describe('KuboPeersStore on two real Kubo peers', () => {
  let set: KuboPeers;
  let store: KuboPeersStore;

  before(async () => {
    set = await startKuboPeers(2);
    store = new KuboPeersStore({ peers: set.apiUrls, replicas: 2, timeoutMs: 5_000 });
    await store.ping();
  });

  after(async () => {
    await store?.close();
    await set?.stop();
  });

  test('with replicas 2 a file is pinned on both peers, byte-identical, with the CID one Kubo gives', async () => {
    const [a, b] = set.peers;
    const bytes = pseudoRandomBytes(1.5 * MiB + 11, 3);
    const cid = await store.add(bytes);
    assert.equal(await a.pinned(cid), true);
    assert.equal(await b.pinned(cid), true);
    for (const peer of set.peers) assert.deepEqual(await new KuboStore({ url: peer.apiUrl }).cat(cid), bytes, `${peer.apiUrl} serves it`);
    // Same profile as a single KuboStore: adding the same bytes straight to B gives the same CID.
    assert.equal(await new KuboStore({ url: b.apiUrl }).add(bytes), cid);
  });

  test('addTransient (an LL part) is pinned on the first peer only, and goes on while the other is down', async () => {
    const [a, b] = set.peers;
    const cid = await store.addTransient(pseudoRandomBytes(40 * 1024, 31));
    assert.deepEqual([await a.pinned(cid), await b.pinned(cid)], [true, false]);
    await b.stop();
    try {
      const bytes = pseudoRandomBytes(40 * 1024, 32);
      assert.equal(await store.addTransient(bytes), await new KuboStore({ url: a.apiUrl }).add(bytes));
    } finally {
      await b.restart();
    }
  });

  test('releaseVersion unpins a playlist version on every peer', async () => {
    const cid = await store.addVersion(new TextEncoder().encode('#EXTM3U\n# version 1\n'));
    assert.deepEqual([await set.peers[0].pinned(cid), await set.peers[1].pinned(cid)], [true, true]);
    await store.releaseVersion(cid);
    assert.deepEqual([await set.peers[0].pinned(cid), await set.peers[1].pinned(cid)], [false, false]);
  });

  test('a segment added while peer B is down is published once B is back, through the upload queue retries', async () => {
    const [a, b] = set.peers;
    const bytes = pseudoRandomBytes(700 * 1024, 9);
    await b.stop();
    // Without the queue: the add is not done, and the error names the peer that is missing.
    await assert.rejects(store.add(bytes), (error: unknown) => {
      assert.ok(error instanceof StoreUnavailableError);
      assert.match(error.message, new RegExp(`${b.apiUrl.replace(/[.:/]/g, '\\$&')}`));
      assert.match(error.message, /pinned on 1 of the 2 peers/);
      return true;
    });

    const uploaded: string[] = [];
    let failedAttempts = 0;
    const queue = new UploadQueue<null>({
      store, retry: { initialDelayMs: 50, maxDelayMs: 300 },
      onUploaded: (_job, cid) => { uploaded.push(cid); },
      onRetry: () => { failedAttempts += 1; },
    });
    queue.enqueue('high/0', bytes, null);
    await waitFor(async () => failedAttempts >= 2, 30_000, 'two failed attempts while B is down');
    assert.deepEqual(uploaded, [], 'not published while B is down');

    await b.restart();
    await queue.close({ deadlineMs: 60_000 });
    assert.equal(uploaded.length, 1);
    const [cid] = uploaded;
    assert.equal(await a.pinned(cid), true);
    assert.equal(await b.pinned(cid), true);
    assert.deepEqual(await new KuboStore({ url: b.apiUrl }).cat(cid), bytes);
  });

  test('with replicas 1, publishing goes on while one peer is down, and reads go to the peer that answers', async () => {
    const [a, b] = set.peers;
    const single = new KuboPeersStore({ peers: set.apiUrls, replicas: 1, timeoutMs: 5_000 });
    const before = pseudoRandomBytes(300 * 1024, 21);
    const beforeCid = await store.add(before);
    await a.stop();
    try {
      const bytes = pseudoRandomBytes(300 * 1024, 22);
      const cid = await single.add(bytes);
      assert.equal(await b.pinned(cid), true);
      assert.deepEqual(await single.cat(beforeCid), before);
      assert.equal(await single.has(beforeCid), true);
      assert.equal(await single.size(beforeCid), before.byteLength);
      const ranged: Uint8Array[] = [];
      for await (const chunk of single.catStream(beforeCid, { start: 10, end: 19 })) ranged.push(chunk);
      assert.deepEqual(Buffer.concat(ranged), Buffer.from(before.subarray(10, 20)));
    } finally {
      await a.restart();
      await single.close();
    }
  });

  test('when no peer answers, the error names every peer URL', async () => {
    const down = new KuboPeersStore({ peers: ['http://127.0.0.1:9', 'http://127.0.0.1:10'], timeoutMs: 2_000 });
    await assert.rejects(down.cat('bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'), (error: unknown) => {
      assert.ok(error instanceof StoreUnavailableError);
      assert.match(error.message, /http:\/\/127\.0\.0\.1:9/);
      assert.match(error.message, /http:\/\/127\.0\.0\.1:10/);
      return true;
    });
    await assert.rejects(down.ping(), /0 of 2 Kubo peers answer, 1 needed/);
  });
});

describe('KuboPeersStore on three real Kubo peers, replicas 2', () => {
  let set: KuboPeers;
  let store: KuboPeersStore;

  before(async () => {
    set = await startKuboPeers(3);
    store = new KuboPeersStore({ peers: set.apiUrls, replicas: 2, timeoutMs: 5_000 });
  });

  after(async () => {
    await store?.close();
    await set?.stop();
  });

  test('copies go to the first peers in order, exactly replicas of them', async () => {
    const cid = await store.add(pseudoRandomBytes(200 * 1024, 31));
    assert.deepEqual(await Promise.all(set.peers.map((peer) => peer.pinned(cid))), [true, true, false]);
  });

  test('publishing goes on through one peer\'s outage: the next peer takes the copy, whichever peer is down', async () => {
    for (const down of [1, 0]) {
      const peer = set.peers[down];
      await peer.stop();
      try {
        const bytes = pseudoRandomBytes(200 * 1024, 40 + down);
        const cid = await store.add(bytes);
        const live = set.peers.filter((_, i) => i !== down);
        assert.deepEqual(await Promise.all(live.map((p) => p.pinned(cid))), [true, true], `with peer ${down} down, both others pin it`);
        assert.deepEqual(await store.cat(cid), bytes);
      } finally {
        await peer.restart();
      }
    }
  });
});
