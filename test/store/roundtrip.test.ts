// add / cat / catStream(range) / size / has behave the same on both stores.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from 'kubo-rpc-client';
import { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';
import { HeliaStore, KuboStore, type ContentStore } from '../../src/store/index.js';
import { startKubo, type KuboHandle } from '../support/kubo.js';
import { pseudoRandomBytes } from './pseudo-random-bytes.js';

const MiB = 1024 * 1024;

async function collect(source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of source) chunks.push(chunk);
  return new Uint8Array(Buffer.concat(chunks));
}

/** A CID nobody added: raw block of bytes that were never stored. */
async function unstoredCid(): Promise<string> {
  const bytes = pseudoRandomBytes(64, Date.now() & 0xffff);
  return CID.createV1(0x55, await sha256.digest(bytes)).toString();
}

function roundtripSuite(label: string, open: () => Promise<ContentStore>, cleanup: () => Promise<void>): void {
  describe(`${label} roundtrip`, () => {
    let store: ContentStore;
    // Three chunks and a bit, so ranges can cross chunk (leaf block) boundaries.
    const bytes = pseudoRandomBytes(3 * MiB + 12345, 4242);
    let cid: string;

    before(async () => {
      store = await open();
      cid = await store.add(bytes);
    });
    after(async () => {
      await store?.close();
      await cleanup();
    });

    test('cat gives back the bytes', async () => {
      const back = await store.cat(cid);
      assert.equal(back.byteLength, bytes.byteLength);
      assert.ok(Buffer.from(back).equals(Buffer.from(bytes)));
    });

    test('size is the file length', async () => {
      assert.equal(await store.size(cid), bytes.byteLength);
    });

    test('catStream without range streams the whole file', async () => {
      const back = await collect(store.catStream(cid));
      assert.ok(Buffer.from(back).equals(Buffer.from(bytes)));
    });

    test('catStream range is inclusive and may cross chunk boundaries', async () => {
      const start = MiB - 10;
      const end = 2 * MiB + 20;
      const back = await collect(store.catStream(cid, { start, end }));
      assert.equal(back.byteLength, end - start + 1);
      assert.ok(Buffer.from(back).equals(Buffer.from(bytes.subarray(start, end + 1))));
    });

    test('catStream open-ended range and single byte', async () => {
      const start = bytes.byteLength - 1000;
      const tail = await collect(store.catStream(cid, { start }));
      assert.ok(Buffer.from(tail).equals(Buffer.from(bytes.subarray(start))));
      const one = await collect(store.catStream(cid, { start: 5, end: 5 }));
      assert.deepEqual([...one], [bytes[5]]);
    });

    test('catStream range beyond the end is clamped or empty', async () => {
      const last = bytes.byteLength - 1;
      const clamped = await collect(store.catStream(cid, { start: last - 3, end: last + 100 }));
      assert.ok(Buffer.from(clamped).equals(Buffer.from(bytes.subarray(last - 3))));
      const empty = await collect(store.catStream(cid, { start: bytes.byteLength + 5 }));
      assert.equal(empty.byteLength, 0);
    });

    test('a small file (one raw block) reads back too', async () => {
      const small = pseudoRandomBytes(777, 9);
      const smallCid = await store.add(small);
      assert.ok(Buffer.from(await store.cat(smallCid)).equals(Buffer.from(small)));
      assert.equal(await store.size(smallCid), 777);
      const part = await collect(store.catStream(smallCid, { start: 100, end: 199 }));
      assert.ok(Buffer.from(part).equals(Buffer.from(small.subarray(100, 200))));
    });

    test('has: true for added content, false for content never added', async () => {
      assert.equal(await store.has(cid), true);
      assert.equal(await store.has(await unstoredCid()), false);
    });

    test('bad arguments are rejected before touching the store', async () => {
      await assert.rejects(store.cat('not-a-cid'), { name: 'RangeError', message: /Expected CID string for cid but received "not-a-cid"/ });
      await assert.rejects(collect(store.catStream(cid, { start: 10, end: 5 })), {
        name: 'RangeError',
        message: 'Expected integer of at least range.start (10) for range.end but received 5',
      });
      await assert.rejects(collect(store.catStream(cid, { start: -1 })), RangeError);
      await assert.rejects(store.add('text' as unknown as Uint8Array), { name: 'TypeError', message: /Uint8Array for bytes/ });
    });
  });
}

let kubo: KuboHandle;
const heliaDir = mkdtempSync(join(tmpdir(), 'abrcast-helia-'));

roundtripSuite(
  'HeliaStore',
  async () => new HeliaStore({ dir: heliaDir }),
  async () => rmSync(heliaDir, { recursive: true, force: true }),
);

roundtripSuite(
  'KuboStore',
  async () => {
    kubo = await startKubo();
    return new KuboStore({ url: kubo.apiUrl });
  },
  async () => kubo?.stop(),
);

describe('KuboStore pins what it adds', () => {
  let handle: KuboHandle;
  before(async () => {
    handle = await startKubo();
  });
  after(async () => handle?.stop());

  test('added content is pinned recursively and survives repo gc', async () => {
    const store = new KuboStore({ url: handle.apiUrl });
    const bytes = pseudoRandomBytes(2 * MiB, 31);
    const cid = await store.add(bytes);
    const rpc = create({ url: handle.apiUrl });
    const pins = [];
    for await (const pin of rpc.pin.ls({ paths: CID.parse(cid) })) pins.push(pin);
    assert.equal(pins.length, 1);
    assert.equal(pins[0].cid.toString(), cid);
    assert.equal(pins[0].type, 'recursive');
    // Control: unpinned content does go away, so the gc below really collects.
    const unpinned = (await rpc.add(pseudoRandomBytes(5000, 32), { pin: false, cidVersion: 1 })).cid.toString();
    assert.equal(await store.has(unpinned), true);
    for await (const _ of rpc.repo.gc()) { /* drain */ }
    assert.equal(await store.has(unpinned), false);
    assert.equal(await store.has(cid), true);
    assert.ok(Buffer.from(await store.cat(cid)).equals(Buffer.from(bytes)));
  });
});
