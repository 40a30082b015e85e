// The part lane alone, with a real embedded store, a real PGlite registry and
// a real publisher: each rendition's init segment stored once and named (in
// the registry, and in EXT-X-MAP of the playlists), parts stored and recorded
// in encoder order, the fast-start version once every rendition has a first
// part, and a part that cannot be stored is a warning that holds nothing up.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import type { InitEvent, PartEvent } from '../../src/encoder/types.js';
import { cidUrlResolver } from '../../src/hls/segment-url.js';
import { PartLane } from '../../src/publish/part-lane.js';
import { PlaylistPublisher } from '../../src/publish/playlist-publisher.js';
import { ResourceStore } from '../../src/publish/resource-store.js';
import type { PublishedVersion } from '../../src/publish/types.js';
import { openRegistry } from '../../src/registry/open-registry.js';
import type { RunRegistry } from '../../src/registry/index.js';
import { HeliaStore } from '../../src/store/helia-store.js';
import { waitFor } from '../support/live-run.js';

const RENDITIONS = [
  { name: '360p', width: 640, height: 360, bitrate: 800 },
  { name: '180p', width: 320, height: 180, bitrate: 300 },
];

const init = (rendition: string, text: string): InitEvent => {
  const data = Buffer.from(text);
  return { rendition, data, bytes: data.length, codecs: 'avc1.64001e' };
};

const part = (rendition: string, segmentIndex: number, partIndex: number): PartEvent => {
  const data = Buffer.from(`${rendition} part ${segmentIndex}.${partIndex}`);
  return {
    rendition, segmentIndex, partIndex, startPts: segmentIndex + partIndex / 3, duration: 1 / 3, independent: partIndex === 0,
    codecs: 'avc1.64001e', bytes: data.length, data,
  };
};

describe('PartLane', () => {
  let dir: string;
  let store: HeliaStore;
  let registry: RunRegistry;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'abrcast-part-lane-'));
    store = new HeliaStore({ dir: join(dir, 'ipfs') });
    registry = await openRegistry({ databaseUrl: '', dataDir: join(dir, 'db') });
  });
  after(async () => {
    await store?.close();
    await registry?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function laneFor(resources: ConstructorParameters<typeof PartLane>[0]['resources'] = new ResourceStore(store)) {
    const run = await registry.createRun({ width: 640, height: 360, fps: 30, segmentDuration: 1 });
    await registry.setPartTarget(run.id, 1 / 3);
    const versions: PublishedVersion[] = [];
    const url = cidUrlResolver({ template: '/ipfs/{cid}' });
    const publisher = new PlaylistPublisher({
      store, renditions: RENDITIONS, fps: 30, segmentDuration: 1, segmentUrl: url, playlistUrl: url,
      onPublished: (version) => {
        versions.push(version);
      },
    });
    const warnings: string[] = [];
    const lane = new PartLane({ resources, publisher, registry, runId: () => run.id, onWarning: (message) => warnings.push(message) });
    return { lane, runId: run.id, versions, warnings, publisher };
  }

  test('an init segment announced before the run exists is recorded once it does (the encoder opens while start() creates a channel run)', async () => {
    const { runId, publisher } = await laneFor();
    let known: string | undefined;
    const lane = new PartLane({ resources: new ResourceStore(store), publisher, registry, runId: () => known, onWarning: () => undefined });
    lane.init(init('360p', 'ftyp+moov 360p early'));
    await lane.initStored('360p');
    assert.deepEqual(await registry.getInitSegments(runId), {}, 'no run id yet: nothing to record it on');
    known = runId;
    lane.runCreated();
    lane.init(init('180p', 'ftyp+moov 180p later'));
    await lane.initStored('180p');
    await waitFor('both recorded', async () => (Object.keys(await registry.getInitSegments(runId)).length === 2 ? true : undefined), { timeoutMs: 5000, intervalMs: 20 });
    assert.deepEqual(await registry.getInitSegments(runId), {
      '360p': await store.add(Buffer.from('ftyp+moov 360p early')), '180p': await store.add(Buffer.from('ftyp+moov 180p later')),
    });
  });

  test('init segments once per rendition, named in the registry and EXT-X-MAP; parts in order; the first version from the first parts', async () => {
    const { lane, runId, versions, warnings } = await laneFor();
    lane.init(init('360p', 'ftyp+moov 360p'));
    lane.init(init('360p', 'a second init is ignored'));
    lane.init(init('180p', 'ftyp+moov 180p'));
    await lane.initStored('360p');
    const init360 = await store.add(Buffer.from('ftyp+moov 360p'));
    assert.equal((await registry.getInitSegments(runId))['360p'], init360, 'recorded before initStored resolves');
    await lane.initStored('unknown rendition'); // none: resolves at once

    const parts = [part('360p', 0, 0), part('360p', 0, 1), part('180p', 0, 0), part('360p', 0, 2), part('180p', 0, 1)];
    for (const p of parts) lane.part(p);
    await lane.drain(Date.now() + 10_000);

    assert.deepEqual(warnings, []);
    assert.deepEqual(await registry.getInitSegments(runId), { '360p': init360, '180p': await store.add(Buffer.from('ftyp+moov 180p')) });
    for (const rendition of ['360p', '180p']) {
      const recorded = await registry.listRecentParts(runId, rendition, 0);
      const sent = parts.filter((p) => p.rendition === rendition);
      assert.deepEqual(recorded.map((r) => [r.segmentIndex, r.partIndex, r.independent, r.bytes]), sent.map((p) => [p.segmentIndex, p.partIndex, p.independent, p.bytes]));
      for (const [i, record] of recorded.entries()) assert.deepEqual(Buffer.from(await store.cat(record.cid)), sent[i].data);
    }
    // Fast start: one version, before any segment, once both renditions had part 0.0 (and their codecs).
    await waitFor('the fast-start version', () => versions.length > 0, { intervalMs: 10 });
    assert.equal(versions.length, 1);
    assert.equal(versions[0].qualities['180p'].codecs, 'avc1.64001e');
    assert.match(versions[0].media['360p'].text, new RegExp(`#EXT-X-MAP:URI="/ipfs/${init360}"`));
  });

  test('a part that cannot be stored is a warning; the parts after it are still stored and recorded', async () => {
    const down = new HeliaStore({ dir: join(dir, 'down') });
    await down.close();
    const good = new ResourceStore(store);
    const broken = new ResourceStore(down);
    const { lane, runId, warnings } = await laneFor({
      add: (resource, bytes) => (resource.kind === 'part' && resource.partIndex === 1 ? broken : good).add(resource, bytes),
      keyOf: (resource) => good.keyOf(resource),
    });
    for (const partIndex of [0, 1, 2]) lane.part(part('360p', 4, partIndex));
    await lane.drain(Date.now() + 10_000);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /^Cannot upload part 360p\/4\.1: .*closed/);
    assert.deepEqual((await registry.listRecentParts(runId, '360p', 0)).map((r) => r.partIndex), [0, 2]);
  });

  test('a store or database that blinks leaves no gap: parts are retried like segments, in order', async () => {
    // Every part's first two store attempts fail (a Kubo restart, a full disk for a moment); the third stores it.
    const attempts = new Map<string, number>();
    const good = new ResourceStore(store);
    const retries: string[] = [];
    const { runId, warnings, publisher } = await laneFor();
    const lane = new PartLane({
      resources: {
        add: async (resource, bytes) => {
          if (resource.kind !== 'part') return good.add(resource, bytes);
          const key = `${resource.segmentIndex}.${resource.partIndex}`;
          const attempt = (attempts.get(key) ?? 0) + 1;
          attempts.set(key, attempt);
          if (attempt <= 2) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5001'), { code: 'ECONNREFUSED' });
          return good.add(resource, bytes);
        },
        keyOf: (resource) => good.keyOf(resource),
      },
      publisher, registry, runId: () => runId, onWarning: (message) => warnings.push(message), targetDuration: 1,
      onRetry: (what) => retries.push(what),
    });
    for (let segmentIndex = 0; segmentIndex < 2; segmentIndex += 1) {
      for (let partIndex = 0; partIndex < 3; partIndex += 1) lane.part(part('360p', segmentIndex, partIndex));
    }
    await lane.drain(Date.now() + 20_000);
    assert.deepEqual(warnings, []);
    assert.deepEqual((await registry.listRecentParts(runId, '360p', 0)).map((r) => `${r.segmentIndex}.${r.partIndex}`), ['0.0', '0.1', '0.2', '1.0', '1.1', '1.2']);
    assert.equal(retries.length, 12, 'two retries per part');
    assert.match(retries[0], /^upload part 360p\/0\.0$/);
  });

  test('a part whose segment is stored meanwhile is not retried: the segment carries its bytes', async () => {
    const { runId, warnings, publisher } = await laneFor();
    let calls = 0;
    const lane = new PartLane({
      resources: { add: async () => { calls += 1; throw new Error('store down'); }, keyOf: async () => undefined },
      publisher, registry, runId: () => runId, onWarning: (message) => warnings.push(message), targetDuration: 1,
      segmentStored: (_rendition, index) => index === 7,
    });
    lane.part(part('360p', 7, 0));
    await lane.drain(Date.now() + 5_000);
    assert.equal(calls, 0);
    assert.deepEqual(warnings, []);
  });

  test('released parts leave the registry, then the store; a part stored as its segment\'s very bytes stays', async () => {
    const { runId, warnings, publisher } = await laneFor();
    const resources = new ResourceStore(store);
    // Bytes of this test only (an earlier test stored the same parts as versions of its own).
    const unique = (p: PartEvent): PartEvent => ({ ...p, data: Buffer.concat([p.data, Buffer.from(` of ${runId}`)]) });
    const parts = [part('180p', 0, 0), part('180p', 0, 1), part('180p', 1, 0), part('180p', 2, 0)].map(unique);
    const segmentOne = await store.add(parts[2].data);
    const lane = new PartLane({
      resources, publisher, registry, runId: () => runId, onWarning: (message) => warnings.push(message),
      segmentCid: (_rendition, index) => (index === 1 ? segmentOne : undefined),
    });
    for (const p of parts) lane.part(p);
    await lane.drain(Date.now() + 10_000);
    const cids = (await registry.listRecentParts(runId, '180p', 0)).map((r) => r.cid);
    await lane.releaseBefore('180p', 2);
    assert.deepEqual((await registry.listRecentParts(runId, '180p', 0)).map((r) => `${r.segmentIndex}.${r.partIndex}`), ['2.0']);
    assert.equal(await store.has(cids[0]), false, 'part 0.0 is gone from the store');
    assert.equal(await store.has(cids[1]), false);
    assert.equal(await store.has(cids[2]), true, 'part 1.0 is segment 1 itself');
    assert.equal(await store.has(cids[3]), true, 'part 2.0 is near the edge still');
    assert.deepEqual(warnings, []);
  });
});
