// The server's caches by CID (part bytes, playlists) over a real embedded store:
// one store read per CID however many requests, least recently used out, an
// entry over its limit passed on but not kept, a failed read not kept.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';

import { PartBytesCache } from '../../src/server/part-bytes-cache.js';
import { PlaylistCache } from '../../src/server/playlist-cache.js';
import { HeliaStore } from '../../src/store/helia-store.js';

/** The real store's cat, counted per CID; `failNext` makes the next read of a CID fail once (an outage). */
class CountingReads {
  readonly reads = new Map<string, number>();
  readonly failNext = new Set<string>();
  constructor(private readonly store: HeliaStore) {}

  async cat(cid: string): Promise<Uint8Array> {
    this.reads.set(cid, (this.reads.get(cid) ?? 0) + 1);
    if (this.failNext.delete(cid)) throw new Error(`store unavailable reading ${cid}`);
    return this.store.cat(cid);
  }

  count(cid: string): number {
    return this.reads.get(cid) ?? 0;
  }
}

describe('caches by CID', () => {
  let dir: string;
  let store: HeliaStore;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'abrcast-cid-cache-'));
    store = new HeliaStore({ dir });
  });

  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const bytesOf = (label: string, size: number) => Buffer.alloc(size, label);

  test('concurrent requests for one part share one store read, and later ones none', async () => {
    const reads = new CountingReads(store);
    const cache = new PartBytesCache(reads);
    const data = bytesOf('a', 1000);
    const cid = await store.add(data);
    const answers = await Promise.all(Array.from({ length: 5 }, () => cache.get(cid)));
    for (const answer of answers) assert.deepEqual(answer, data);
    assert.equal(reads.count(cid), 1);
    assert.deepEqual(await cache.get(cid), data);
    assert.equal(reads.count(cid), 1);
    assert.equal(cache.bytes, 1000);
  });

  test('parts are bounded in bytes, least recently used out', async () => {
    const reads = new CountingReads(store);
    const cache = new PartBytesCache(reads, 1600); // parts of up to 100 bytes are kept, 16 of them
    const cids: string[] = [];
    for (let i = 0; i < 17; i += 1) cids.push(await store.add(bytesOf(`part ${i}`, 100)));
    for (const cid of cids.slice(0, 16)) await cache.get(cid);
    assert.equal(cache.bytes, 1600);
    await cache.get(cids[0]); // now the most recently used: part 1 is the oldest
    await cache.get(cids[16]);
    assert.equal(cache.bytes, 1600);
    assert.equal(cache.size, 16);
    await cache.get(cids[0]);
    assert.equal(reads.count(cids[0]), 1, 'a part used again stays');
    await cache.get(cids[1]);
    assert.equal(reads.count(cids[1]), 2, 'the least recently used part was dropped');
  });

  test('a part over 1/16 of the cache is answered but not kept', async () => {
    const reads = new CountingReads(store);
    const cache = new PartBytesCache(reads, 1600);
    const data = bytesOf('big', 101);
    const cid = await store.add(data);
    assert.deepEqual(await cache.get(cid), data);
    await setImmediate(); // the first read is no longer pending (a request meanwhile would share it)
    assert.deepEqual(await cache.get(cid), data);
    assert.equal(reads.count(cid), 2);
    assert.equal(cache.bytes, 0);
  });

  test('a failed read is passed on and not kept', async () => {
    const reads = new CountingReads(store);
    const cache = new PartBytesCache(reads);
    const data = bytesOf('c', 10);
    const cid = await store.add(data);
    reads.failNext.add(cid);
    await assert.rejects(cache.get(cid), /store unavailable/);
    await setImmediate();
    assert.deepEqual(await cache.get(cid), data);
    assert.equal(reads.count(cid), 2);
  });

  test('playlists are kept with their gzip, bounded in entries', async () => {
    const reads = new CountingReads(store);
    const cache = new PlaylistCache(reads, 2);
    const texts = ['#EXTM3U\n#EXT-X-VERSION:3\n', '#EXTM3U\n#EXT-X-VERSION:6\n', '#EXTM3U\n#EXT-X-VERSION:9\n'];
    const cids = await Promise.all(texts.map((text) => store.add(Buffer.from(text))));
    const first = await cache.get(cids[0]);
    assert.equal(first.text.toString('utf8'), texts[0]);
    assert.equal(gunzipSync(first.gzip).toString('utf8'), texts[0]);
    const kept = [await cache.get(cids[1]), await cache.get(cids[2])];
    assert.equal(cache.size, 2);
    assert.equal(cache.bytes, kept.reduce((sum, entry) => sum + entry.text.byteLength + entry.gzip.byteLength, 0));
    await cache.get(cids[2]);
    assert.equal(reads.count(cids[2]), 1);
    await cache.get(cids[0]);
    assert.equal(reads.count(cids[0]), 2, 'the oldest playlist was dropped for the third');
  });
});

