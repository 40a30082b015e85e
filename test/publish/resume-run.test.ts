// resumeRun and finalizeRun on runs left in awkward states, with a real registry
// (PGlite), the embedded store and a real journal: a run that crashed before its
// first publish (only the journal knows its renditions, codecs, start time and
// URL form), and a run whose registry lost a segment record that a published
// playlist already listed (finalizing must not shorten that playlist).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { SegmentJournal, type JournalRun } from '../../src/journal/segment-journal.js';
import { finalizeRun } from '../../src/publish/finalize-run.js';
import { resumeRun } from '../../src/publish/resume-run.js';
import { openRegistry } from '../../src/registry/open-registry.js';
import type { RunRegistry } from '../../src/registry/run-registry.js';
import { HeliaStore } from '../../src/store/helia-store.js';
import { parsePlaylist } from '../support/parse-playlist.js';
import { CHILD_RENDITIONS } from '../support/publisher-child-options.js';

describe('resume and finalize edge cases', () => {
  let dir: string;
  let registry: RunRegistry;
  let store: HeliaStore;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'abrcast-resume-'));
    registry = await openRegistry({ databaseUrl: '', dataDir: join(dir, 'db') });
    store = new HeliaStore({ dir: join(dir, 'ipfs') });
  });

  after(async () => {
    await store.close();
    await registry.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('a run that crashed before its first publish is completed from its journal alone', async () => {
    const { id: runId } = await registry.createRun({ width: 160, height: 90, fps: 10, segmentDuration: 1 });
    const journalRun: JournalRun = {
      runId, startedAt: '2026-03-04T05:06:07.890Z', width: 160, height: 90, fps: 10, segmentDuration: 1,
      renditions: CHILD_RENDITIONS, segmentUrl: 'https://gw.example/ipfs/{cid}', playlistUrl: 'https://gw.example/ipfs/{cid}',
    };
    const journal = await SegmentJournal.create(join(dir, 'journal'), journalRun);
    const bytes = new Map<string, Buffer>();
    for (let index = 0; index < 3; index += 1) {
      for (const { name } of CHILD_RENDITIONS) {
        const data = randomBytes(2000 + index);
        bytes.set(`${name}/${index}`, data);
        await journal.append({ rendition: name, index, duration: 1, codecs: 'avc1.42000d', data });
      }
    }
    // The process died here: nothing uploaded, nothing published.

    const result = await resumeRun({ registry, store, runId, journalDir: join(dir, 'journal') });
    assert.equal(result.uploaded, 6);
    const run = (await registry.getRun(runId))!;
    assert.equal(run.status, 'ended');
    for (const { name, width, height } of CHILD_RENDITIONS) {
      const quality = result.qualities[name];
      assert.deepEqual([quality.width, quality.height, quality.codecs], [width, height, 'avc1.42000d']);
      const { manifest } = parsePlaylist(new TextDecoder().decode(await store.cat(quality.cid)));
      assert.equal(manifest.endList, true);
      assert.equal(manifest.segments.length, 3);
      assert.equal(new Date(manifest.segments[0].dateTimeString!).toISOString(), journalRun.startedAt);
      for (const [index, segment] of manifest.segments.entries()) {
        assert.match(segment.uri, /^https:\/\/gw\.example\/ipfs\//);
        assert.deepEqual(Buffer.from(await store.cat(segment.uri.slice('https://gw.example/ipfs/'.length))), bytes.get(`${name}/${index}`));
      }
    }
    assert.equal(await SegmentJournal.open(join(dir, 'journal'), runId), undefined, 'the journal is removed');
  });

  test('finalize refuses to shorten a playlist viewers saw when the registry lost a segment record', async () => {
    const { id: runId } = await registry.createRun({ width: 160, height: 90, fps: 10, segmentDuration: 1 });
    const { name, width, height, bitrate } = CHILD_RENDITIONS[0];
    const cids: string[] = [];
    for (let index = 0; index < 3; index += 1) cids.push(await store.add(randomBytes(1000)));
    // A live playlist with all three segments was published...
    const published = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-TARGETDURATION:1', ...cids.flatMap((cid) => ['#EXTINF:1.00000,', `/ipfs/${cid}`]), ''].join('\n');
    const playlistCid = await store.add(new TextEncoder().encode(published));
    await registry.publishPlaylists(runId, playlistCid, {
      [name]: { cid: playlistCid, width, height, bitrate, bandwidth: 1, averageBandwidth: 1, codecs: 'avc1.42000d', frameRate: 10 },
    }, { sequence: 1 });
    // ...but segment 1's record never reached the registry.
    for (const index of [0, 2]) await registry.recordSegment(runId, { rendition: name, index, cid: cids[index], duration: 1, bytes: 1000 });

    await assert.rejects(finalizeRun({ registry, store, runId }), /lists segments of 90p up to media sequence 0, but a published playlist already listed 2; finalizing would shorten it/);
    assert.equal((await registry.getRun(runId))!.status, 'live');
  });

  test('finalize uses the start time and URL template the run was stored with (registry fields startedAt, segmentUrl)', async () => {
    const startedAt = new Date('2026-05-06T07:08:09.100Z');
    const { id: runId } = await registry.createRun({
      width: 160, height: 90, fps: 10, segmentDuration: 1, startedAt, segmentUrl: 'https://cdn.example/ipfs/{cid}', playlistUrl: '/ipfs/{cid}',
    } as Parameters<RunRegistry['createRun']>[0]);
    const { name, width, height, bitrate } = CHILD_RENDITIONS[0];
    const cids: string[] = [];
    for (let index = 0; index < 2; index += 1) {
      cids.push(await store.add(randomBytes(1000)));
      await registry.recordSegment(runId, { rendition: name, index, cid: cids[index], duration: 1, bytes: 1000 });
    }
    await registry.publishPlaylists(runId, cids[0], {
      [name]: { cid: cids[0], width, height, bitrate, bandwidth: 1, averageBandwidth: 1, codecs: 'avc1.42000d', frameRate: 10 },
    }, { sequence: 1 });
    // The stored "playlist" above is a segment (no EXTINF), so nothing published limits the prefix here.
    const result = await finalizeRun({ registry, store, runId });
    const { manifest } = parsePlaylist(new TextDecoder().decode(await store.cat(result.qualities[name].cid)));
    assert.deepEqual(manifest.segments.map((s) => s.uri), cids.map((cid) => `https://cdn.example/ipfs/${cid}`));
    assert.equal(new Date(manifest.segments[0].dateTimeString!).toISOString(), startedAt.toISOString());
  });
});
