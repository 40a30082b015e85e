// The segment lane alone, on a real embedded store: each segment stored as a
// resource (the CID is the store's own for those bytes), its CID kept, and
// onUploaded told once; a store that stays down is retried until close's
// deadline, which then names every missing segment.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import type { JournalSegment } from '../../src/journal/segment-journal.js';
import { ResourceStore, type MediaResource } from '../../src/publish/resource-store.js';
import { SegmentUploadLane } from '../../src/publish/segment-upload-lane.js';
import { UploadIncompleteError } from '../../src/publish/upload-incomplete-error.js';
import { HeliaStore } from '../../src/store/helia-store.js';

const meta = (rendition: string, index: number, bytes: number): JournalSegment =>
  ({ rendition, index, duration: 1, bytes, codecs: 'avc1.64001e', path: '', kept: true });

describe('SegmentUploadLane', () => {
  let dir: string;
  let store: HeliaStore;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'abrcast-segment-lane-'));
    store = new HeliaStore({ dir: join(dir, 'ipfs') });
  });
  after(async () => {
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('every segment reaches the store once, as the resource it is; its CID is kept and onUploaded told', async () => {
    const resources: MediaResource[] = [];
    const recording = new ResourceStore(store);
    const uploaded: { meta: JournalSegment; cid: string }[] = [];
    const lane = new SegmentUploadLane({
      resources: { add: (resource, bytes) => (resources.push(resource), recording.add(resource, bytes)) },
      concurrency: 2,
      onUploaded: (m, cid) => {
        uploaded.push({ meta: m, cid });
      },
      onRetry: () => assert.fail('nothing to retry'),
    });
    const segments = ['360p', '180p'].flatMap((rendition, r) =>
      [0, 1, 2].map((index) => ({ meta: meta(rendition, index, 100 + r * 10 + index), data: Buffer.alloc(100 + r * 10 + index, r * 3 + index) })),
    );
    for (const { meta: m, data } of segments) lane.enqueue({ meta: m, bytes: data });
    assert.deepEqual(await lane.close(10_000), { missing: [] });

    assert.equal(uploaded.length, 6);
    for (const { meta: m, data } of segments) {
      const cid = lane.segmentCids[m.rendition][m.index];
      assert.equal(cid, await store.add(data), `${m.rendition}/${m.index} is stored under its own CID`);
      assert.deepEqual(Buffer.from(await store.cat(cid)), data);
      assert.deepEqual(uploaded.filter((u) => u.meta === m).map((u) => u.cid), [cid]);
      assert.equal(resources.filter((r) => r.kind === 'segment' && r.rendition === m.rendition && r.index === m.index).length, 1);
    }
    assert.deepEqual(lane.stats(), { pending: 0, inFlight: 0, uploaded: 6, retries: 0, pendingBytes: 0 });
    // A copy: the caller cannot change the lane's record.
    lane.segmentCids['360p'][0] = 'changed';
    assert.notEqual(lane.segmentCids['360p'][0], 'changed');
  });

  test('a store that stays down is retried until the deadline; close() names every missing segment', async () => {
    const down = new HeliaStore({ dir: join(dir, 'down') });
    await down.close();
    const retried: string[] = [];
    const lane = new SegmentUploadLane({
      resources: new ResourceStore(down),
      retry: { initialDelayMs: 5, maxDelayMs: 20 },
      onUploaded: () => assert.fail('nothing can upload'),
      onRetry: (what, attempt, error) => {
        retried.push(what);
        assert.match((error as Error).message, /is closed/);
        assert.ok(attempt >= 1);
      },
    });
    lane.enqueue({ meta: meta('360p', 0, 4), bytes: Buffer.from('abcd') });
    lane.enqueue({ meta: meta('360p', 1, 4), bytes: Buffer.from('efgh') });
    const end = await lane.close(300);
    assert.ok(end.error instanceof UploadIncompleteError);
    assert.deepEqual(end.missing, [{ rendition: '360p', index: 0 }, { rendition: '360p', index: 1 }]);
    assert.ok(retried.includes('360p/0') && retried.includes('360p/1'), `both retried: ${retried.join(', ')}`);
    assert.deepEqual(lane.segmentCids, {});
  });
});
