// The server's in-memory live edge against a real store and PGlite registry fed
// synthetic parts: held requests cost no SQL (counted through the registry's
// SqlClient, so the check does not depend on the machine's load), the playlist
// never shrinks however far publishing lags, the RFC 8216bis 6.2.5.2 rules
// (a Part Index past a segment's last part, the Advance Part Limit), a segment
// with a lost part is never listed with a short EXTINF, the cap on held
// requests, and idle models dropped.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { serializeMediaPlaylist } from '../../src/hls/media-playlist.js';
import { migrate, openPgliteClient, RunRegistry } from '../../src/registry/index.js';
import { LiveRuns } from '../../src/server/live-runs.js';
import { PlaylistCache } from '../../src/server/playlist-cache.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { HeliaStore } from '../../src/store/helia-store.js';
import { countingClient, type CountingSqlClient } from '../support/counting-sql-client.js';
import { checkLowLatencyPlaylist } from '../support/ll-playlist-check.js';

const FPS = 30;
const SEGMENT_S = 2;
const PART_S = 1 / 3;
const PARTS = 6;
const QUALITY = { width: 640, height: 360, bitrate: 800, bandwidth: 900_000, averageBandwidth: 800_000, codecs: 'avc1.64001e', frameRate: FPS };
const silentLogger = { error() {}, warn() {}, info() {}, debug() {} };

const partNumber = (uri: string) => {
  const match = /^part\/(\d+)\.(\d+)\.ts$/.exec(uri);
  assert.ok(match, `part URI ${uri}`);
  return { msn: Number(match[1]), part: Number(match[2]) };
};

/** A promise with a flag saying whether it has settled yet. */
function tracked<T>(promise: Promise<T>): { promise: Promise<T>; settled: () => boolean } {
  let done = false;
  promise.then(() => (done = true), () => (done = true));
  return { promise, settled: () => done };
}

/** A GET on its own keep-alive socket (fetch would pool, and cap, connections). */
function rawGet(agent: Agent, url: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function metric(server: RunningServer, name: string): Promise<number> {
  const text = await server.metrics.render();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : NaN;
}

async function until(condition: () => Promise<boolean> | boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('the in-memory live edge', () => {
  let dir: string;
  let store: HeliaStore;
  let client: CountingSqlClient;
  let registry: RunRegistry;
  let server: RunningServer;
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'abrcast-live-edge-'));
    store = new HeliaStore({ dir: join(dir, 'ipfs') });
    const inner = await openPgliteClient('memory://');
    await migrate(inner);
    client = countingClient(inner);
    registry = new RunRegistry(client);
    server = await startServer({ registry, store, port: 0, logger: silentLogger });
  });

  after(async () => {
    agent.destroy();
    await server?.close();
    await store?.close();
    await registry?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function newRun(): Promise<string> {
    const run = await registry.createRun({ width: 640, height: 360, fps: FPS, segmentDuration: SEGMENT_S, startedAt: new Date(0) });
    await registry.setPartTarget(run.id, PART_S);
    return run.id;
  }

  /** Records part (msn, index) of 720p; its bytes are stored so it can be fetched. */
  async function part(runId: string, msn: number, index: number): Promise<string> {
    const cid = await store.add(Buffer.from(`${runId} 720p ${msn}.${index} `.repeat(10)));
    await registry.recordPart(runId, { rendition: '720p', segmentIndex: msn, partIndex: index, cid, duration: PART_S, independent: index === 0, bytes: 10 });
    return cid;
  }

  async function parts(runId: string, msn: number, from = 0, to = PARTS): Promise<void> {
    for (let index = from; index < to; index++) await part(runId, msn, index);
  }

  /** Publishes segments 0..count-1 of 720p (EXTINF 2 s each). */
  async function publish(runId: string, count: number, endList = false): Promise<void> {
    const text = serializeMediaPlaylist({
      targetDuration: SEGMENT_S, mediaSequence: 0, playlistType: 'EVENT', independentSegments: true, endList,
      segments: Array.from({ length: count }, (_, i) => ({ duration: SEGMENT_S, uri: `/ipfs/bafkreisegment${i}` })),
    });
    await registry.publishPlaylists(runId, 'bafy-master', { '720p': { ...QUALITY, cid: await store.add(Buffer.from(text)) } });
  }

  const playlistUrl = (runId: string, query = '') => `${server.url}/runs/${runId}/quality/720p/playlist.m3u8${query}`;

  test('held blocking reloads cost no SQL: 250 wait in memory, a part wakes them with one read, and a viewer is answered meanwhile', async () => {
    const runId = await newRun();
    await parts(runId, 0, 0, 3);
    assert.equal((await rawGet(agent, playlistUrl(runId, '?_HLS_msn=0&_HLS_part=2'))).status, 200, 'the model is loaded');
    const HELD = 250;
    const held = Array.from({ length: HELD }, () => rawGet(agent, playlistUrl(runId, '?_HLS_msn=0&_HLS_part=3')));
    await until(async () => (await metric(server, 'abrcast_held_requests')) === HELD, `${HELD} held requests`);
    client.statements.length = 0;
    // A normal viewer: the playlist at a part that exists, and that part's bytes.
    const answer = await rawGet(agent, playlistUrl(runId, '?_HLS_msn=0&_HLS_part=2'));
    assert.equal(answer.status, 200);
    assert.equal((await rawGet(agent, `${server.url}/runs/${runId}/quality/720p/part/0.2.ts`)).status, 200);
    assert.deepEqual(client.statements, [], 'the viewer cost no SQL while the others are held');
    const health = await rawGet(agent, `${server.url}/healthz`);
    assert.equal(health.status, 200, '/healthz answers while they are held');
    assert.deepEqual(client.statements, ['-- ping'], 'on its own check path');
    client.statements.length = 0;
    await part(runId, 0, 3);
    const answers = await Promise.all(held);
    assert.ok(answers.every((a) => a.status === 200));
    assert.equal(new Set(answers.map((a) => a.body)).size, 1, 'every held request got the same text');
    assert.match(answers[0].body, /URI="part\/0\.3\.ts"/);
    checkLowLatencyPlaylist(answers[0].body, { partNumber });
    const reads = client.statements.filter((text) => /^\s*SELECT/.test(text));
    assert.equal(reads.length, 1, `the part cost one read, whatever the number of held requests:\n${reads.join('\n---\n')}`);
    assert.match(reads[0], /FROM parts WHERE run_id = \$1 AND rendition = \$2 AND segment_idx = \$3 AND part_idx = \$4/);
  });

  test('a Part Index past a segment\'s last part waits for part 0 of the next segment (RFC 8216bis 6.2.5.2)', async () => {
    const runId = await newRun();
    await parts(runId, 0);
    await parts(runId, 1);
    await publish(runId, 2); // segment 1 is published complete: the old server answered at once
    const held = tracked(rawGet(agent, playlistUrl(runId, '?_HLS_msn=1&_HLS_part=6')));
    assert.equal((await rawGet(agent, playlistUrl(runId, '?_HLS_msn=1&_HLS_part=5'))).status, 200);
    assert.equal(held.settled(), false, 'held: part 1.6 is part 2.0');
    await part(runId, 2, 0);
    const answer = await held.promise;
    assert.equal(answer.status, 200);
    assert.match(answer.body, /URI="part\/2\.0\.ts"/, 'the answer lists part 2.0');
    checkLowLatencyPlaylist(answer.body, { partNumber });
  });

  test('an _HLS_part past the Advance Part Limit is 400 at once, as are bad values (in a short message); one within it is held', async () => {
    const runId = await newRun();
    await parts(runId, 0);
    await parts(runId, 1, 0, 2);
    // 3 ÷ PART-TARGET = 9 parts ahead of the newest (1.1) at most.
    const far = await rawGet(agent, playlistUrl(runId, '?_HLS_msn=1&_HLS_part=20'));
    assert.equal(far.status, 400);
    assert.match(JSON.parse(far.body).error, /Advance Part Limit/);
    assert.equal((await rawGet(agent, playlistUrl(runId, '?_HLS_msn=2&_HLS_part=5'))).status, 400, '2.5 is 10 parts ahead');
    const long = '9'.repeat(6000);
    for (const query of [`?_HLS_msn=${long}`, `?_HLS_msn=1&_HLS_part=x${long}`, `?_HLS_skip=${long}`]) {
      const bad = await rawGet(agent, playlistUrl(runId, query));
      assert.equal(bad.status, 400, query.slice(0, 20));
      assert.ok(bad.body.length < 200, `an error body of ${bad.body.length} characters`);
    }
    const near = tracked(rawGet(agent, playlistUrl(runId, '?_HLS_msn=2&_HLS_part=4')));
    await rawGet(agent, playlistUrl(runId, '?_HLS_msn=1&_HLS_part=1'));
    assert.equal(near.settled(), false, '2.4 is 9 parts ahead: held');
    await parts(runId, 1, 2);
    await parts(runId, 2, 0, 5);
    assert.equal((await near.promise).status, 200);
  });

  test('however far publishing lags, every segment stays listed from its parts, from the first, with the same URI and EXTINF', async () => {
    const runId = await newRun();
    const SEGMENTS = 12;
    for (let msn = 0; msn < SEGMENTS; msn++) await parts(runId, msn);
    await parts(runId, SEGMENTS, 0, 3);
    const first = checkLowLatencyPlaylist((await rawGet(agent, playlistUrl(runId))).body, { partNumber });
    assert.equal(first.mediaSequence, 0);
    assert.deepEqual(first.segments.map((s) => [s.uri, s.duration]), Array.from({ length: SEGMENTS }, (_, msn) => [`segment/${msn}.ts`, SEGMENT_S]));
    // The publish catches up part of the way: nothing listed changes.
    await publish(runId, 4);
    const later = checkLowLatencyPlaylist((await rawGet(agent, playlistUrl(runId, `?_HLS_msn=${SEGMENTS}&_HLS_part=2`))).body, { partNumber });
    assert.deepEqual(later.segments.map((s) => [s.uri, s.duration]), first.segments.map((s) => [s.uri, s.duration]));
    // A fresh server (a fresh model) sees the same: parts of segments not yet stored stay in the registry.
    const other = await startServer({ registry, store, port: 0, logger: silentLogger });
    try {
      const fresh = checkLowLatencyPlaylist(await (await fetch(playlistUrl(runId).replace(server.url, other.url))).text(), { partNumber });
      assert.deepEqual(fresh.segments.map((s) => s.uri), first.segments.map((s) => s.uri));
    } finally {
      await other.close();
    }
  });

  test('a segment with a lost part is not listed from its parts (no short EXTINF); published, it lists the lost part as GAP=YES', async () => {
    const runId = await newRun();
    await parts(runId, 0);
    for (const index of [0, 1, 2, 4, 5]) await part(runId, 1, index); // part 1.3 never comes
    await parts(runId, 2, 0, 3);
    const gap = checkLowLatencyPlaylist((await rawGet(agent, playlistUrl(runId, '?_HLS_msn=0&_HLS_part=5'))).body, { partNumber });
    assert.deepEqual(gap.segments.map((s) => [s.uri, s.duration]), [['segment/0.ts', SEGMENT_S]], 'segment 1 not listed');
    assert.equal(gap.pending.length, 3, 'its parts up to the hole are');
    await publish(runId, 2);
    // Published, it is listed with the EXTINF of its record, and with its parts: the lost one as GAP=YES (RFC 8216bis
    // 4.4.4.9), so it and segment 0 keep the parts they listed (the checker wants parts on both, 6.2.2).
    const answer = await rawGet(agent, playlistUrl(runId, '?_HLS_msn=2&_HLS_part=2'));
    const published = checkLowLatencyPlaylist(answer.body, { partNumber });
    assert.deepEqual(published.segments.map((s) => [s.uri, s.duration]), [['segment/0.ts', SEGMENT_S], ['segment/1.ts', SEGMENT_S]]);
    assert.deepEqual(published.segments[1].parts.map((p) => [p.uri, p.gap]), [0, 1, 2, 3, 4, 5].map((i) => [`part/1.${i}.ts`, i === 3]));
    assert.equal(published.segments[0].parts.length, PARTS, 'segment 0 keeps its parts');
    assert.equal(published.pending.length, 3, 'and segment 2 goes on from its parts');
    // The GAP part is not served.
    assert.equal((await rawGet(agent, playlistUrl(runId).replace('playlist.m3u8', 'part/1.3.ts'))).status, 404);
  });

  test('the ended playlist keeps VERSION, SERVER-CONTROL and PART-INF; a blocking request on it is answered at once', async () => {
    const runId = await newRun();
    await parts(runId, 0);
    await parts(runId, 1, 0, 2);
    const live = (await rawGet(agent, playlistUrl(runId, '?_HLS_msn=1&_HLS_part=1'))).body;
    const held = tracked(rawGet(agent, playlistUrl(runId, '?_HLS_msn=2&_HLS_part=0')));
    await publish(runId, 1, true);
    await registry.markEnded(runId);
    const blocking = await held.promise;
    assert.equal(blocking.status, 200, 'the held request is answered by the end');
    assert.equal((await rawGet(agent, playlistUrl(runId, '?_HLS_msn=9&_HLS_part=0'))).body, blocking.body, 'and any blocking request after it, at once');
    const header = (text: string) => text.split('\n').filter((line) => /^#EXT-X-(VERSION|TARGETDURATION|SERVER-CONTROL|PART-INF|MEDIA-SEQUENCE|PLAYLIST-TYPE|INDEPENDENT)/.test(line));
    assert.deepEqual(header(blocking.body), header(live));
    assert.match(blocking.body, /#EXT-X-ENDLIST\n$/);
    assert.doesNotMatch(blocking.body, /#EXT-X-PART:|#EXT-X-PRELOAD-HINT/);
  });

  test('past maxHeldRequests a request that would be held gets 503 with Retry-After (counted); /healthz and others are answered', async () => {
    const capped = await startServer({ registry, store, port: 0, logger: silentLogger, maxHeldRequests: 3 });
    try {
      const runId = await newRun();
      await parts(runId, 0, 0, 2);
      const url = (query: string) => `${capped.url}/runs/${runId}/quality/720p/playlist.m3u8${query}`;
      const held = Array.from({ length: 3 }, () => rawGet(agent, url('?_HLS_msn=0&_HLS_part=2')));
      await until(async () => (await metric(capped, 'abrcast_held_requests')) === 3, '3 held requests');
      const refused = await rawGet(agent, url('?_HLS_msn=0&_HLS_part=2'));
      assert.equal(refused.status, 503);
      assert.equal(refused.headers['retry-after'], '1');
      const hinted = await rawGet(agent, `${capped.url}/runs/${runId}/quality/720p/part/0.2.ts`);
      assert.equal(hinted.status, 503, 'the hinted part is held too: refused past the cap');
      assert.equal(await metric(capped, 'abrcast_held_requests_rejected_total'), 2);
      assert.equal((await rawGet(agent, `${capped.url}/healthz`)).status, 200);
      assert.equal((await rawGet(agent, url('?_HLS_msn=0&_HLS_part=1'))).status, 200, 'a request it can answer at once is answered');
      await part(runId, 0, 2);
      assert.deepEqual((await Promise.all(held)).map((a) => a.status), [200, 200, 200]);
      assert.equal(await metric(capped, 'abrcast_held_requests'), 0);
    } finally {
      await capped.close();
    }
  });

  test('models nobody reads are dropped; a model with a waiter is kept', async () => {
    const runId = await newRun();
    await parts(runId, 0, 0, 2);
    const live = new LiveRuns({ registry, playlists: new PlaylistCache(store), logger: silentLogger, idleMs: 60_000 });
    try {
      const run = (await live.run(runId))!;
      const model = (await run.rendition('720p'))!;
      assert.deepEqual(live.counts, { runs: 1, renditions: 1, waiting: 0 });
      const waiting = model.wait(() => false, 60_000);
      live.sweep(performance.now() + 120_000);
      assert.deepEqual(live.counts, { runs: 1, renditions: 1, waiting: 1 }, 'kept while a request waits on it');
      model.close();
      assert.equal(await waiting, undefined);
      live.sweep(performance.now() + 120_000);
      assert.deepEqual(live.counts, { runs: 0, renditions: 0, waiting: 0 });
      assert.equal(await live.run('nosuchrun'), undefined);
      assert.deepEqual(live.counts, { runs: 0, renditions: 0, waiting: 0 }, 'an unknown run leaves nothing behind');
    } finally {
      live.close();
    }
  });
});
