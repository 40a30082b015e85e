// The publisher's LL-HLS glue: each `part` event is uploaded and recorded as it
// comes, the run gets its part target, and an fMP4 `init` is uploaded once per
// rendition and named in EXT-X-MAP (events emitted here in the contract's shape,
// next to real encoding of the segments); and, on the encoder's own parts, the
// fast-start version published from the first parts before any segment ends.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { MultiResolutionHlsOutput } from '../../src/publish/multi-resolution-hls-output.js';
import type { PublishedVersion } from '../../src/publish/types.js';
import { openRegistry } from '../../src/registry/open-registry.js';
import type { PartRecorded, RunRegistry } from '../../src/registry/index.js';
import type { ContentStore } from '../../src/store/content-store.js';
import { HeliaStore } from '../../src/store/helia-store.js';
import { FrameGenerator } from '../support/frames.js';
import { LIVE_LADDER, waitFor } from '../support/live-run.js';

describe('MultiResolutionHlsOutput with parts', () => {
  let dir: string;
  let store: HeliaStore;
  let registry: RunRegistry;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'abrcast-ll-publish-'));
    store = new HeliaStore({ dir: join(dir, 'ipfs') });
    registry = await openRegistry({ databaseUrl: '', dataDir: join(dir, 'db') });
  });
  after(async () => {
    await store?.close();
    await registry?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('parts are uploaded and recorded in order, the init segment once, and EXT-X-MAP names it', async () => {
    const output = new MultiResolutionHlsOutput({
      sourceSize: [640, 360], fps: 30, segmentDuration: 1, renditions: LIVE_LADDER, encoder: 'x264',
      x264Preset: 'ultrafast', store, registry, segmentUrl: '/ipfs/{cid}', partDuration: 1 / 3,
      journalDir: join(dir, 'journal'),
    });
    await output.start();
    const runId = output.runId!;
    assert.equal((await registry.getRun(runId))?.partTarget, 1 / 3);

    const events = output.encoder as unknown as { emit(name: string, value: unknown): boolean };
    const seen: PartRecorded[] = [];
    const done = new Promise<void>((resolve) => {
      const stop = registry.onChange(runId, (change) => {
        if (change.kind !== 'part') return; // the init segment and the first publish are announced too
        seen.push(change);
        if (seen.length === 4) {
          stop();
          resolve();
        }
      });
    });
    const init = Buffer.from('ftyp+moov of 360p');
    events.emit('init', { rendition: '360p', data: init, bytes: init.length, codecs: 'avc1.64001e' });
    events.emit('init', { rendition: '360p', data: Buffer.from('a second init is ignored'), bytes: 24, codecs: 'avc1.64001e' });
    const parts = [0, 1, 2, 3].map((partIndex) => ({
      rendition: '360p', segmentIndex: 0, partIndex, duration: 1 / 3, independent: partIndex === 0,
      data: Buffer.from(`part ${partIndex} `.repeat(50)), bytes: 350,
    }));
    for (const part of parts) events.emit('part', part);
    await done;
    assert.deepEqual(seen.map((c) => c.partIndex), [0, 1, 2, 3], 'recorded in the order emitted');
    const stored = await registry.listRecentParts(runId, '360p', 0);
    for (const [index, part] of stored.entries()) {
      assert.deepEqual(Buffer.from(await store.cat(part.cid)), parts[index].data);
      assert.equal(part.independent, index === 0);
      assert.equal(part.bytes, parts[index].data.length);
    }
    const initCid = (await registry.getInitSegments(runId))['360p'];
    assert.deepEqual(Buffer.from(await store.cat(initCid)), init);

    const frames = new FrameGenerator(640, 360);
    for (let i = 0; i < 45; i++) await output.write(frames.frame(i));
    await output.close();
    const run = (await registry.getRun(runId))!;
    const text = Buffer.from(await store.cat(run.qualityPlaylists['360p'].cid)).toString();
    assert.match(text, new RegExp(`^#EXT-X-MAP:URI="/ipfs/${initCid}"$`, 'm'));
    assert.match(text, /^#EXT-X-VERSION:6$/m);
    const other = Buffer.from(await store.cat(run.qualityPlaylists['180p'].cid)).toString();
    assert.doesNotMatch(other, /EXT-X-MAP/, 'a rendition without init has no map');
    assert.doesNotMatch(text, /EXT-X-PART/, 'published playlists stay plain');
  });

  for (const container of ['ts', 'fmp4'] as const) {
    test(`${container}: fast start: a first version is published from the first parts, before any segment; later ones only grow`, { timeout: 120_000 }, async () => {
      const output = new MultiResolutionHlsOutput({
        sourceSize: [640, 360], fps: 30, segmentDuration: 2, renditions: LIVE_LADDER, encoder: 'x264', x264Preset: 'ultrafast',
        latency: 'low', container, store, registry, segmentUrl: '/ipfs/{cid}', partDuration: 1 / 3, journalDir: join(dir, 'journal'),
      });
      const versions: PublishedVersion[] = [];
      const segmentsBefore: number[] = [];
      let segments = 0;
      output.on('segment', () => (segments += 1));
      output.on('publish', (version) => {
        versions.push(version);
        segmentsBefore.push(segments);
      });
      const frames = new FrameGenerator(640, 360);
      let written = 0;
      // Half a segment, then wait: the first version must come from the parts alone.
      for (; written < 30; written++) await output.write(frames.frame(written));
      await waitFor('the first version', () => versions.length > 0, { timeoutMs: 60_000 });
      assert.equal(segmentsBefore[0], 0, 'published before any segment ended');
      const first = versions[0]!;
      assert.deepEqual(Object.values(first.media).map((m) => m.segmentCount), [0, 0], 'its media playlists list no segment yet');
      assert.equal((first.masterText.match(/#EXT-X-STREAM-INF:.*CODECS="avc1\.[0-9a-f]{6}"/g) ?? []).length, LIVE_LADDER.length, first.masterText);
      const run = (await registry.getRun(output.runId!))!;
      assert.deepEqual(Object.keys(run.qualityPlaylists).sort(), ['180p', '360p'], 'the registry has every variant: a master can answer');
      for (; written < 120; written++) await output.write(frames.frame(written));
      await output.close();
      const counts = versions.map((v) => Object.values(v.media).map((m) => m.segmentCount));
      for (let i = 1; i < counts.length; i++) assert.ok(counts[i]!.every((n, r) => n >= counts[i - 1]![r]!), 'versions only grow');
      assert.deepEqual(counts.at(-1), [2, 2]);
      assert.equal(versions.at(-1)!.final, true);
    });
  }

  test('parts go through the store addTransient (one peer, no wait for replicas); init segments and segments through add', async () => {
    const transient = new Set<string>();
    const kept = new Set<string>();
    // The embedded store with the optional method, as a store over several peers has it.
    const tracking: ContentStore = {
      kind: store.kind,
      add: async (bytes) => {
        const cid = await store.add(bytes);
        kept.add(cid);
        return cid;
      },
      addTransient: async (bytes) => {
        const cid = await store.add(bytes);
        transient.add(cid);
        return cid;
      },
      addVersion: (bytes) => store.addVersion(bytes),
      releaseVersion: (cid) => store.releaseVersion(cid),
      cat: (cid) => store.cat(cid),
      catStream: (cid, range) => store.catStream(cid, range),
      size: (cid) => store.size(cid),
      has: (cid) => store.has(cid),
      close: async () => {},
    };
    const output = new MultiResolutionHlsOutput({
      sourceSize: [640, 360], fps: 30, segmentDuration: 1, renditions: LIVE_LADDER, encoder: 'x264',
      x264Preset: 'ultrafast', store: tracking, registry, segmentUrl: '/ipfs/{cid}', partDuration: 1 / 3,
      journalDir: join(dir, 'journal-transient'),
    });
    await output.start();
    const runId = output.runId!;
    const events = output.encoder as unknown as { emit(name: string, value: unknown): boolean };
    const init = Buffer.from('ftyp+moov, kept with the segments');
    events.emit('init', { rendition: '360p', data: init, bytes: init.length, codecs: 'avc1.64001e' });
    const frames = new FrameGenerator(640, 360);
    for (let i = 0; i < 45; i++) await output.write(frames.frame(i));
    await output.close();
    const parts = await registry.listRecentParts(runId, '360p', 0);
    assert.ok(parts.length >= 3, `${parts.length} parts recorded`);
    assert.deepEqual(parts.filter((part) => !transient.has(part.cid)), [], 'every part through addTransient');
    assert.ok(kept.has((await registry.getInitSegments(runId))['360p']), 'the init segment through add');
    for (const segment of await registry.listSegments(runId)) assert.ok(kept.has(segment.cid), `segment ${segment.rendition}/${segment.index} through add`);
  });

  test('a bad partDuration or container is refused by name', () => {
    const base = { sourceSize: [640, 360] as [number, number], fps: 30, renditions: LIVE_LADDER, store };
    assert.throws(() => new MultiResolutionHlsOutput({ ...base, partDuration: 0 }), /partDuration/);
    assert.throws(() => new MultiResolutionHlsOutput({ ...base, container: 'mkv' as 'ts' }), /container/);
  });
});
