// The one place a run's media bytes go to the store, on a real embedded store:
// a part is transient (addTransient, when the store has it); segments and init
// segments are kept (add).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { ResourceStore } from '../../src/publish/resource-store.js';
import { HeliaStore } from '../../src/store/helia-store.js';

describe('ResourceStore', () => {
  let dir: string;
  let store: HeliaStore;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'abrcast-resource-store-'));
    store = new HeliaStore({ dir: join(dir, 'ipfs') });
  });
  after(async () => {
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('a part goes to addTransient when the store has it; segments, init segments and parts without it to add', async () => {
    const calls: string[] = [];
    const target = {
      add: (bytes: Uint8Array) => (calls.push('add'), store.add(bytes)),
      addTransient: (bytes: Uint8Array) => (calls.push('addTransient'), store.add(bytes)),
    };
    const resources = new ResourceStore(target);
    const bytes = Buffer.from('resource bytes');
    const cid = await store.add(bytes);
    assert.equal(await resources.add({ kind: 'segment', rendition: '360p', index: 0 }, bytes), cid);
    assert.equal(await resources.add({ kind: 'init', rendition: '360p' }, bytes), cid);
    assert.equal(await resources.add({ kind: 'part', rendition: '360p', segmentIndex: 0, partIndex: 1 }, bytes), cid);
    assert.deepEqual(calls, ['add', 'add', 'addTransient']);

    calls.length = 0;
    const plain = new ResourceStore({ add: target.add });
    assert.equal(await plain.add({ kind: 'part', rendition: '360p', segmentIndex: 0, partIndex: 2 }, bytes), cid);
    assert.deepEqual(calls, ['add']);
  });
});
