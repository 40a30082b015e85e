// The in-memory live edge on PostgreSQL: a server whose LISTEN connection is
// killed misses the notifications of the changes made meanwhile; once it has
// reconnected it reads its models again, so the part recorded and the publish
// made during the outage are served (a held request for the part is answered,
// not left to its 503).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { serializeMediaPlaylist } from '../../src/hls/media-playlist.js';
import { migrate, openPostgresClient, RunRegistry } from '../../src/registry/index.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { HeliaStore } from '../../src/store/helia-store.js';
import { startPostgres, type PostgresInstance } from '../support/postgres.js';

const PART_S = 1 / 3;
const silentLogger = { error() {}, warn() {}, info() {}, debug() {} };

describe('live edge on PostgreSQL across a LISTEN reconnect', () => {
  let postgres: PostgresInstance;
  let dir: string;
  let store: HeliaStore;
  let writer: RunRegistry;
  let reader: RunRegistry;
  let server: RunningServer;

  before(async () => {
    postgres = await startPostgres();
    dir = await mkdtemp(join(tmpdir(), 'abrcast-live-pg-'));
    store = new HeliaStore({ dir: join(dir, 'ipfs') });
    const writing = await openPostgresClient(postgres.url);
    await migrate(writing);
    writer = new RunRegistry(writing);
    reader = new RunRegistry(await openPostgresClient(postgres.url));
    server = await startServer({ registry: reader, store, port: 0, logger: silentLogger });
  });

  after(async () => {
    await server?.close();
    await reader?.close();
    await writer?.close();
    await store?.close();
    await postgres?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('changes made while the feed was down are served once it is back', async () => {
    const run = await writer.createRun({ width: 640, height: 360, fps: 30, segmentDuration: 2, startedAt: new Date(0) });
    await writer.setPartTarget(run.id, PART_S);
    const part = (msn: number, index: number) =>
      writer.recordPart(run.id, { rendition: '720p', segmentIndex: msn, partIndex: index, cid: `bafk-${msn}-${index}`, duration: PART_S, independent: index === 0, bytes: 10 });
    for (let index = 0; index < 3; index++) await part(0, index);
    const playlist = (query: string) => fetch(`${server.url}/runs/${run.id}/quality/720p/playlist.m3u8${query}`);
    assert.equal((await playlist('?_HLS_msn=0&_HLS_part=2')).status, 200, 'the model is loaded (and its LISTEN opened)');
    // Let the LISTEN connection come up and the first resync settle.
    for (let index = 3; ; index++) {
      await part(0, index);
      const answer = await playlist(`?_HLS_msn=0&_HLS_part=${index}`);
      assert.equal(answer.status, 200);
      await answer.text();
      if (index >= 4) break;
    }
    assert.equal((await fetch(`${server.url}/runs/${run.id}/master.m3u8`)).status, 404, 'nothing published yet');

    const killer = await openPostgresClient(postgres.url);
    try {
      const { rows } = await killer.query<{ killed: boolean }>(
        "SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()",
      );
      assert.ok(rows.some((row) => row.killed), 'the server\'s LISTEN connection was terminated');
    } finally {
      await killer.close();
    }
    // Before the feed reconnects (its first retry waits 100 ms): these notifications go nowhere.
    await part(0, 5);
    const text = serializeMediaPlaylist({
      targetDuration: 2, mediaSequence: 0, playlistType: 'EVENT', independentSegments: true, endList: false,
      segments: [{ duration: 2, uri: '/ipfs/bafkreisegment0' }],
    });
    await writer.publishPlaylists(run.id, 'bafy-master', {
      '720p': { cid: await store.add(Buffer.from(text)), width: 640, height: 360, bitrate: 800, bandwidth: 900_000, averageBandwidth: 800_000, codecs: 'avc1.64001e', frameRate: 30 },
    });

    const held = await playlist('?_HLS_msn=0&_HLS_part=5');
    assert.equal(held.status, 200, 'the part recorded during the outage is listed after the reconnect');
    assert.match(await held.text(), /URI="part\/0\.5\.ts"/);
    const master = await fetch(`${server.url}/runs/${run.id}/master.m3u8`);
    assert.equal(master.status, 200, 'the publish made during the outage is served');
    assert.match(await master.text(), /quality\/720p\/playlist\.m3u8/);
  });
});
