// Heartbeats as a server shows them: a live run whose producer went silent
// for a few target durations shows as stalled (in /runs, /runs/{id} and the
// front page), and the server's sweeper ends a run outside a channel that was
// silent far longer, as failed, with ENDLIST playlists on what it listed; a
// channel's run is left for its next producer. Real PGlite and embedded store.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { runsTable } from '../../src/cli/commands/runs.js';
import { cidUrlResolver } from '../../src/hls/segment-url.js';
import { PlaylistPublisher } from '../../src/publish/playlist-publisher.js';
import { migrate, openPgliteClient, RunRegistry, type SqlClient } from '../../src/registry/index.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { HeliaStore } from '../../src/store/helia-store.js';
import { parsePlaylist } from '../support/parse-playlist.js';

const RENDITIONS = [
  { name: 'high', width: 320, height: 180, bitrate: 400 },
  { name: 'low', width: 160, height: 90, bitrate: 150 },
];
const RUN = { width: 320, height: 180, fps: 10, segmentDuration: 1 };

describe('heartbeats, stalled runs and the sweeper', () => {
  let dir: string;
  let client: SqlClient;
  let registry: RunRegistry;
  let store: HeliaStore;
  let server: RunningServer;
  const json = async (path: string) => (await fetch(server.url + path)).json() as Promise<Record<string, unknown>>;
  const silence = (runId: string, seconds: number) =>
    client.query(`UPDATE runs SET heartbeat_at = now() - $2 * interval '1 second' WHERE id = $1`, [runId, seconds]);

  /** A live run as its producer leaves it when it dies: 3 segments per rendition recorded and published, no ENDLIST. */
  async function liveRun(extra: Partial<Parameters<RunRegistry['createRun']>[0]> = {}): Promise<string> {
    const run = await registry.createRun({ ...RUN, segmentUrl: '/ipfs/{cid}', playlistUrl: '/ipfs/{cid}', ...extra });
    const url = cidUrlResolver({ template: '/ipfs/{cid}', optionName: 'segmentUrl' });
    const publisher = new PlaylistPublisher({
      store, renditions: RENDITIONS, fps: 10, segmentDuration: 1, segmentUrl: url, playlistUrl: url,
      ...(extra.windowSeconds ? { windowSeconds: extra.windowSeconds } : {}),
      onPublished: async (version) => { await registry.publishPlaylists(run.id, version.masterCid, version.qualities, { sequence: version.sequence }); },
    });
    for (const { name } of RENDITIONS) publisher.setCodecs(name, 'avc1.42c00d');
    for (let index = 0; index < 3; index += 1) {
      for (const { name } of RENDITIONS) {
        const cid = await store.add(new TextEncoder().encode(`${run.id} ${name} ${index}`));
        await registry.recordSegment(run.id, { rendition: name, index: run.msnBase + index, cid, duration: 1, bytes: 20 });
        await publisher.segmentUploaded(name, { index, cid, duration: 1, bytes: 20 });
      }
    }
    await registry.heartbeat(run.id);
    return run.id;
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'abrcast-heartbeats-'));
    client = await openPgliteClient(join(dir, 'db'));
    await migrate(client);
    registry = new RunRegistry(client);
    store = new HeliaStore({ dir: join(dir, 'ipfs') });
    server = await startServer({ registry, store, port: 0, sweepSilentRunsAfterMs: 60_000 });
  });

  after(async () => {
    await server?.close();
    await store?.close();
    await registry?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('a run silent past the stall bound shows as stalled in /runs, /runs/{id} and the front page', async () => {
    const runId = await liveRun();
    const find = async () => ((await json('/runs')).runs as Array<{ id: string; stalled: boolean; heartbeatAt: string }>).find((r) => r.id === runId)!;
    assert.equal((await find()).stalled, false);
    assert.equal((await json(`/runs/${runId}`)).stalled, false);
    // 1-s segments: stalled after 5 s without a heartbeat.
    await silence(runId, 6);
    assert.equal((await find()).stalled, true);
    assert.equal((await json(`/runs/${runId}`)).stalled, true);
    assert.equal((await json(`/runs/${runId}`)).status, 'live');
    const page = await (await fetch(server.url + '/')).text();
    assert.match(page, new RegExp(`href="/runs/${runId}/watch">${runId}</a>\\s*<span class="badge live">live</span>\\s*<span class="badge failed"[^>]*>stalled</span>`));
    // The watch page reads the same flag from the status JSON.
    assert.match(await (await fetch(`${server.url}/runs/${runId}/watch`)).text(), /state\.stalled = stalled/);
    // `abrcast runs` says so too.
    const line = runsTable([(await registry.getRun(runId))!]).find((row) => row.startsWith(runId))!;
    assert.match(line, /^\S+\s+live \(stalled\)\s/);
    await registry.heartbeat(runId);
    assert.equal((await find()).stalled, false, 'a heartbeat clears it');
    assert.match(runsTable([(await registry.getRun(runId))!])[1], /^\S+\s+live\s+320x180/);
  });

  test('the sweeper ends a long-silent run outside a channel as failed, with ENDLIST on what it listed; channel and fresh runs stay live', async () => {
    const sweeping = await startServer({ registry, store, port: 0, sweepSilentRunsAfterMs: 1000 });
    try {
      const gone = await liveRun();
      const onChannel = await liveRun({ channel: 'sweep-test', follows: null, windowSeconds: 6 });
      const fresh = await liveRun();
      await silence(gone, 3600);
      await silence(onChannel, 3600);
      const deadline = Date.now() + 15_000;
      while ((await registry.getRun(gone))!.status === 'live' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      const run = (await registry.getRun(gone))!;
      assert.equal(run.status, 'failed');
      assert.match(run.error!, /The producer went silent \(no heartbeat since .*\); the run was ended on the segments it had listed/);
      for (const { name } of RENDITIONS) {
        const { manifest } = parsePlaylist(new TextDecoder().decode(await store.cat(run.qualityPlaylists[name].cid)));
        assert.ok(manifest.endList);
        assert.equal(manifest.segments.length, 3);
      }
      assert.equal(await registry.runLockHolder(gone), undefined, 'the sweeper released its lease');
      assert.equal((await registry.getRun(onChannel))!.status, 'live', 'a channel run waits for its next producer');
      assert.equal((await registry.getRun(fresh))!.status, 'live');
    } finally {
      await sweeping.close();
    }
  });

  test('a bad sweep setting is refused by name', async () => {
    await assert.rejects(startServer({ registry, store, port: 0, sweepSilentRunsAfterMs: 5 }), /false or an integer of at least 1000 milliseconds for sweepSilentRunsAfterMs but received 5/);
  });
});
