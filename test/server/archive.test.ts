// A windowed run's archive as a server offers it: the chunks a live run stored
// (immutable VOD masters on IPFS) are listed in /runs/{id} (the newest) and
// /runs/{id}/archive (all), each playable from this server's gateway, and the
// watch page has the DVR list that reads them. The run is a real
// MultiResolutionHlsOutput with a 3-s window and 2-s archive chunks.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { MultiResolutionHlsOutput } from '../../src/publish/multi-resolution-hls-output.js';
import { openRegistry } from '../../src/registry/open-registry.js';
import type { RunRegistry } from '../../src/registry/run-registry.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { HeliaStore } from '../../src/store/helia-store.js';
import { FrameGenerator } from '../support/frames.js';
import { parsePlaylist } from '../support/parse-playlist.js';
import { CHILD_RENDITIONS } from '../support/publisher-child-options.js';

interface ArchiveEntry { firstMediaSequence: number; segments: number; duration: number; startedAt: string; masterCid: string; master: string }

describe('the archive of a windowed run, as served', () => {
  let dir: string;
  let store: HeliaStore;
  let registry: RunRegistry;
  let server: RunningServer;
  let runId: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'abrcast-archive-'));
    store = new HeliaStore({ dir: join(dir, 'ipfs') });
    registry = await openRegistry({ databaseUrl: '', dataDir: join(dir, 'db') });
    server = await startServer({ registry, store, port: 0 });
    const output = new MultiResolutionHlsOutput({
      sourceSize: [160, 90], fps: 10, segmentDuration: 1, encoder: 'x264', x264Preset: 'ultrafast', renditions: CHILD_RENDITIONS,
      store, registry, journalDir: join(dir, 'journal'), segmentUrl: '/ipfs/{cid}', playlistUrl: '/ipfs/{cid}',
      windowSeconds: 3, archiveSeconds: 2,
    });
    const frames = new FrameGenerator(160, 90);
    for (let i = 0; i < 95; i++) await output.write(frames.frame(i));
    runId = (await output.close()).runId!;
  });

  after(async () => {
    await server?.close();
    await store?.close();
    await registry?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('/runs/{id} and /runs/{id}/archive list the chunks, and each master plays from the gateway', async () => {
    const status = await (await fetch(`${server.url}/runs/${runId}`)).json() as {
      windowSeconds: number; urls: { archive: string }; archive: { count: number; newest: ArchiveEntry[] };
    };
    assert.equal(status.windowSeconds, 3);
    assert.equal(status.urls.archive, `/runs/${runId}/archive`);
    // 10 segments (the last one half long) in chunks of 2: 0-1, 2-3, …, 8-9.
    assert.equal(status.archive.count, 5);
    const all = (await (await fetch(`${server.url}/runs/${runId}/archive`)).json() as { chunks: ArchiveEntry[] }).chunks;
    assert.deepEqual(all, status.archive.newest);
    assert.deepEqual(all.map((chunk) => [chunk.firstMediaSequence, chunk.segments]), [[0, 2], [2, 2], [4, 2], [6, 2], [8, 2]]);
    for (const chunk of all) {
      assert.equal(chunk.master, `/ipfs/${chunk.masterCid}`);
      const master = parsePlaylist(await (await fetch(server.url + chunk.master)).text()).manifest;
      assert.equal(master.playlists!.length, CHILD_RENDITIONS.length);
      for (const variant of master.playlists!) {
        const media = parsePlaylist(await (await fetch(new URL(variant.uri, server.url + chunk.master))).text()).manifest;
        assert.deepEqual([media.playlistType, media.endList, media.mediaSequence, media.segments.length], ['VOD', true, chunk.firstMediaSequence, 2]);
        const segment = await fetch(new URL(media.segments[0].uri, server.url + chunk.master));
        assert.equal(segment.status, 200);
        await segment.arrayBuffer();
      }
    }
    assert.equal((await fetch(`${server.url}/runs/nosuchrun/archive`)).status, 404);
    assert.equal((await fetch(`${server.url}/runs/Bad.Id/archive`)).status, 400);
  });

  test('the run\'s own final playlists list every segment (VOD), and the watch page offers the DVR list', async () => {
    const run = (await registry.getRun(runId))!;
    for (const { name } of CHILD_RENDITIONS) {
      const text = await (await fetch(`${server.url}/runs/${runId}/quality/${name}/playlist.m3u8`)).text();
      const { manifest } = parsePlaylist(text);
      assert.deepEqual([manifest.playlistType, manifest.endList, manifest.mediaSequence, manifest.segments.length], ['VOD', true, 0, 10]);
      assert.equal(run.segmentCounts[name].contiguous, 10);
    }
    const page = await (await fetch(`${server.url}/runs/${runId}/watch`)).text();
    assert.match(page, /<section class="dvr" id="dvr" hidden>/);
    assert.match(page, /status\.archive && status\.archive\.newest/);
  });
});
