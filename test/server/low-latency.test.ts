// LL-HLS on the dynamic quality endpoint, against a real store and registry fed
// synthetic parts and segments (the native core makes the real ones): every
// playlist version passes the RFC 8216bis checker; blocking reloads and the
// preload-hinted part answer only once the part exists (checked by order, not
// by time); delta updates, rendition reports, the 400/503 limits, and parts and
// unpublished segments streamed from the store.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { serializeMasterPlaylist, serializeMediaPlaylist } from '../../src/hls/index.js';
import { openRegistry } from '../../src/registry/open-registry.js';
import type { VariantStreamRecords } from '../../src/model/variant-stream-record.js';
import type { RunRegistry } from '../../src/registry/run-registry.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { HeliaStore } from '../../src/store/helia-store.js';
import { checkDeltaUpdate, checkLowLatencyPlaylist, parseLowLatencyPlaylist } from '../support/ll-playlist-check.js';
import { parsePlaylist } from '../support/parse-playlist.js';

const FPS = 30;
const SEGMENT_S = 2;
const PART_FRAMES = 10;
const PARTS_PER_SEGMENT = (SEGMENT_S * FPS) / PART_FRAMES;
const PART_S = PART_FRAMES / FPS;
const RENDITIONS = ['720p', '360p'];

const partNumber = (uri: string) => {
  const match = /^part\/(\d+)\.(\d+)\.ts$/.exec(uri);
  assert.ok(match, `part URI ${uri}`);
  return { msn: Number(match[1]), part: Number(match[2]) };
};

/** A synthetic producer: parts of 10 frames, 2-s segments, publishes like the real publisher. */
class Producer {
  readonly parts = new Map<string, Buffer>();
  readonly segments: Record<string, { cid: string; duration: number }[]> = {};
  constructor(readonly store: HeliaStore, readonly registry: RunRegistry, readonly runId: string) {}

  async part(rendition: string, segmentIndex: number, partIndex: number): Promise<Buffer> {
    const data = Buffer.from(`${rendition} part ${segmentIndex}.${partIndex} `.repeat(20));
    const cid = await this.store.add(data);
    this.parts.set(`${rendition}/${segmentIndex}.${partIndex}`, data);
    await this.registry.recordPart(this.runId, {
      rendition, segmentIndex, partIndex, cid, duration: PART_S, independent: partIndex === 0, bytes: data.length,
    });
    return data;
  }

  async segmentParts(rendition: string, segmentIndex: number, from = 0, to = PARTS_PER_SEGMENT): Promise<void> {
    for (let index = from; index < to; index++) await this.part(rendition, segmentIndex, index);
  }

  segmentBytes(rendition: string, segmentIndex: number): Buffer {
    return Buffer.concat(Array.from({ length: PARTS_PER_SEGMENT }, (_, i) => this.parts.get(`${rendition}/${segmentIndex}.${i}`)!));
  }

  /** Records and publishes the next segment of every rendition (its parts must exist). */
  async publish(endList = false): Promise<void> {
    const qualities: VariantStreamRecords = {};
    for (const rendition of RENDITIONS) {
      const list = (this.segments[rendition] ??= []);
      if (!endList) {
        const index = list.length;
        const cid = await this.store.add(this.segmentBytes(rendition, index));
        await this.registry.recordSegment(this.runId, { rendition, index, cid, duration: SEGMENT_S, bytes: 1 });
        list.push({ cid, duration: SEGMENT_S });
      }
      const text = serializeMediaPlaylist({
        targetDuration: SEGMENT_S, mediaSequence: 0, playlistType: 'EVENT', independentSegments: true, endList,
        segments: list.map((s, i) => ({ duration: s.duration, uri: `/ipfs/${s.cid}`, ...(i === 0 ? { programDateTime: new Date(0) } : {}) })),
      });
      qualities[rendition] = {
        cid: await this.store.add(Buffer.from(text)), width: 640, height: 360, bitrate: 800, bandwidth: 900_000,
        averageBandwidth: 800_000, codecs: 'avc1.64001e', frameRate: FPS,
      };
    }
    const master = await this.store.add(Buffer.from(serializeMasterPlaylist({ independentSegments: true, variants: [] })));
    await this.registry.publishPlaylists(this.runId, master, qualities);
  }
}

const playlistUris = (text: string) => text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));

/** A promise with a flag saying whether it has settled yet. */
function tracked<T>(promise: Promise<T>): { promise: Promise<T>; settled: () => boolean } {
  let done = false;
  promise.then(() => (done = true), () => (done = true));
  return { promise, settled: () => done };
}

describe('LL-HLS endpoints', () => {
  let dir: string;
  let store: HeliaStore;
  let registry: RunRegistry;
  let server: RunningServer;
  let runId: string;
  let producer: Producer;
  const versions: string[] = [];
  const path = (query = '', rendition = '720p') => `/runs/${runId}/quality/${rendition}/playlist.m3u8${query}`;
  const get = (p: string) => fetch(server.url + p);
  /** Fetches an LL playlist, checks it, and keeps it for the final all-versions check. */
  const playlist = async (query = '', rendition = '720p') => {
    const response = await get(path(query, rendition));
    assert.equal(response.status, 200, `${path(query, rendition)}: ${response.status}`);
    const text = await response.text();
    versions.push(text);
    checkLowLatencyPlaylist(text, { partNumber });
    const parsed = parseLowLatencyPlaylist(text);
    noteUris(rendition, parsed.segments);
    return { text, response, parsed };
  };
  /** Every URI each segment was listed under, over all the versions fetched (RFC 8216bis 6.2.1: it must stay one). */
  const urisByMsn = new Map<string, Set<string>>();
  const noteUris = (rendition: string, segments: readonly { msn: number; uri: string }[]) => {
    for (const segment of segments) {
      const key = `${rendition} ${segment.msn}`;
      if (!urisByMsn.has(key)) urisByMsn.set(key, new Set());
      urisByMsn.get(key)!.add(segment.uri);
    }
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'abrcast-ll-'));
    store = new HeliaStore({ dir: join(dir, 'ipfs') });
    registry = await openRegistry({ databaseUrl: '', dataDir: join(dir, 'db') });
    const run = await registry.createRun({ width: 640, height: 360, fps: FPS, segmentDuration: SEGMENT_S, startedAt: new Date(0) });
    runId = run.id;
    await registry.setPartTarget(runId, PART_S);
    producer = new Producer(store, registry, runId);
    server = await startServer({ registry, store, port: 0 });
  });

  after(async () => {
    await server?.close();
    await store?.close();
    await registry?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('before any publish, the first parts already make a playlist with a date, a hint and reports', async () => {
    assert.equal((await get(path())).status, 404, 'nothing yet');
    await producer.segmentParts('720p', 0, 0, 2);
    await producer.segmentParts('360p', 0, 0, 1);
    // A blocking reload for a part that exists answers at once (a plain request waits for a whole segment, below).
    const { parsed, response } = await playlist('?_HLS_msn=0&_HLS_part=1');
    assert.equal(response.headers.get('cache-control'), 'public, max-age=2');
    assert.equal(parsed.segments.length, 0);
    assert.equal(parsed.pending.length, 2);
    assert.match(parsed.lines.join('\n'), /#EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:00:00.000Z\n#EXT-X-PART:DURATION=0.33333,URI="part\/0.0.ts",INDEPENDENT=YES/);
    assert.deepEqual(parsed.preloadHint, { type: 'PART', uri: 'part/0.2.ts' });
    assert.deepEqual(parsed.reports, [{ uri: '../360p/playlist.m3u8', lastMsn: 0, lastPart: 0 }]);
  });

  test('a blocking reload answers only once the part it asks for exists', async () => {
    const held = tracked(get(path('?_HLS_msn=0&_HLS_part=2')));
    // Another rendition's part does not satisfy it; a later request is answered while this one waits.
    await producer.part('360p', 0, 1);
    await playlist('?_HLS_msn=0&_HLS_part=1');
    assert.equal(held.settled(), false, 'still held before part 0.2 exists');
    await producer.part('720p', 0, 2);
    const response = await held.promise;
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('cache-control'), 'public, max-age=2');
    const text = await response.text();
    versions.push(text);
    const parsed = checkLowLatencyPlaylist(text, { partNumber });
    assert.equal(parsed.pending.length, 3, 'the answer lists the part it waited for');
    assert.deepEqual(parsed.reports, [{ uri: '../360p/playlist.m3u8', lastMsn: 0, lastPart: 1 }]);
  });

  test('the preload-hinted part blocks until recorded, then streams; stored parts are immutable', async () => {
    const held = tracked(get(`/runs/${runId}/quality/720p/part/0.3.ts`));
    await playlist('?_HLS_msn=0&_HLS_part=2');
    assert.equal(held.settled(), false, 'hinted part held');
    const data = await producer.part('720p', 0, 3);
    const response = await held.promise;
    assert.equal(response.status, 200);
    assert.deepEqual(Buffer.from(await response.arrayBuffer()), data);
    const again = await get(`/runs/${runId}/quality/720p/part/0.0.ts`);
    assert.equal(again.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(again.headers.get('content-type'), 'video/mp2t');
    assert.deepEqual(Buffer.from(await again.arrayBuffer()), producer.parts.get('720p/0.0'));
    assert.equal((await get(`/runs/${runId}/quality/720p/part/0.9.ts`)).status, 404, 'a part further ahead is not waited for');
    assert.equal((await get(`/runs/${runId}/quality/720p/part/x.ts`)).status, 400);
  });

  test('segments finished after the publish are listed from their parts and served as their concatenation', async () => {
    // A player's first (plain) request is held until there is a whole segment (hls.js plays from
    // whole segments: on parts alone it reports levelEmptyError and retries later) and the pending
    // segment holds PART-HOLD-BACK of parts, so that the player starts in it, at or after its
    // independent part (started in the complete segment, hls.js played that segment twice).
    const plain = tracked(get(path()));
    await producer.segmentParts('720p', 0, 4);
    await producer.segmentParts('360p', 0, 2);
    await playlist('?_HLS_msn=0&_HLS_part=5');
    assert.equal(plain.settled(), false, 'held while segment 0 is not complete');
    await producer.part('720p', 1, 0);
    await producer.part('720p', 1, 1);
    await playlist('?_HLS_msn=1&_HLS_part=1');
    assert.equal(plain.settled(), false, 'held while segment 1 holds less than PART-HOLD-BACK (3 parts)');
    await producer.part('720p', 1, 2);
    const heldAnswer = await plain.promise;
    assert.equal(heldAnswer.status, 200);
    assert.equal(heldAnswer.headers.get('cache-control'), 'no-cache');
    const heldText = await heldAnswer.text();
    versions.push(heldText);
    const held = checkLowLatencyPlaylist(heldText, { partNumber });
    assert.equal(held.segments.length, 1, 'answered with the first whole segment');
    assert.equal(held.pending.length, 3, 'and PART-HOLD-BACK of the next');
    const { parsed } = await playlist();
    assert.equal(parsed.segments.length, 1);
    assert.equal(parsed.segments[0].uri, 'segment/0.ts');
    assert.equal(parsed.segments[0].parts.length, PARTS_PER_SEGMENT);
    const response = await get(`/runs/${runId}/quality/720p/segment/0.ts`);
    assert.equal(response.status, 200);
    assert.deepEqual(Buffer.from(await response.arrayBuffer()), producer.segmentBytes('720p', 0));
    assert.equal((await get(`/runs/${runId}/quality/720p/segment/1.ts`)).status, 404, 'segment 1 is not complete');
  });

  test('bad or too-far requests are 400; one that waits past 3 target durations is 503', async () => {
    const { parsed } = await playlist();
    const lastComplete = parsed.mediaSequence + parsed.segments.length - 1;
    assert.equal((await get(path(`?_HLS_msn=${lastComplete + 3}`))).status, 400);
    assert.equal((await get(path('?_HLS_part=1'))).status, 400);
    assert.equal((await get(path('?_HLS_msn=-1'))).status, 400);
    assert.equal((await get(path('?_HLS_skip=NO'))).status, 400);
    const late = await get(path(`?_HLS_msn=${lastComplete + 2}&_HLS_part=0`));
    assert.equal(late.status, 503);
    assert.equal(late.headers.get('retry-after'), '2');
  });

  test('as segments are published, parts stay on the last 3 target durations; delta updates restore to the full playlist', async () => {
    await producer.segmentParts('720p', 1, 3);
    await producer.segmentParts('360p', 1);
    const before = (await playlist()).parsed.segments.map((segment) => segment.uri);
    await producer.publish(); // segment 0
    // hls.js fails a reload whose segment URIs changed ("media sequence mismatch"): the publish changes none.
    assert.deepEqual((await playlist()).parsed.segments.slice(0, before.length).map((segment) => segment.uri), before);
    for (let segment = 2; segment < 12; segment++) {
      for (const rendition of RENDITIONS) await producer.segmentParts(rendition, segment);
      await producer.publish(); // segment segment-1
      await playlist();
    }
    for (const rendition of RENDITIONS) await producer.segmentParts(rendition, 12, 0, 4);
    const full = await playlist();
    const delta = await playlist('?_HLS_skip=YES');
    assert.ok(delta.parsed.skipped > 0);
    checkDeltaUpdate(full.text, delta.text, { partNumber });
    const v2 = await playlist('?_HLS_skip=v2&_HLS_msn=12&_HLS_part=3');
    checkDeltaUpdate(full.text, v2.text, { partNumber });
    // Published or not, a segment is listed by its position, so its URI never changes as the publish catches up.
    assert.deepEqual(full.parsed.segments.map((segment) => segment.uri), full.parsed.segments.map((segment) => `segment/${segment.msn}.ts`));
    const published = await get(`/runs/${runId}/quality/720p/segment/0.ts`);
    assert.equal(published.status, 200);
    assert.deepEqual(Buffer.from(await published.arrayBuffer()), Buffer.from(await store.cat(producer.segments['720p'][0].cid)));
  });

  test('fast start: a master asked for before the first publish is held, then answered by it', async () => {
    const run = await registry.createRun({ width: 640, height: 360, fps: FPS, segmentDuration: SEGMENT_S, startedAt: new Date() });
    const early = new Producer(store, registry, run.id);
    const held = tracked(get(`/runs/${run.id}/master.m3u8`));
    for (const rendition of RENDITIONS) await early.segmentParts(rendition, 0);
    await playlist();
    assert.equal(held.settled(), false, 'held while nothing is published');
    await early.publish();
    const response = await held.promise;
    assert.equal(response.status, 200);
    assert.match(await response.text(), new RegExp(`/runs/${run.id}/quality/720p/playlist.m3u8`));
  });

  test('every playlist version passed the checker; a request held when the run ends gets the final playlist, with every tag it had while live but parts', async () => {
    assert.ok(versions.length >= 15, `${versions.length} versions checked`);
    for (const text of versions) checkLowLatencyPlaylist(text, { partNumber });
    // A blocking reload for a part the run will never make, held when the run ends.
    const { parsed } = await playlist();
    const lastComplete = parsed.mediaSequence + parsed.segments.length - 1;
    const held = tracked(get(path(`?_HLS_msn=${lastComplete + 2}&_HLS_part=0`)));
    await playlist();
    assert.equal(held.settled(), false, 'held while the run is live');
    await producer.publish(true);
    await registry.markEnded(runId);
    const heldResponse = await held.promise;
    assert.equal(heldResponse.status, 200);
    const heldText = await heldResponse.text();
    assert.match(heldText, /#EXT-X-ENDLIST\n$/, 'the held request is answered with the final playlist');
    // RFC 8216bis 6.2.1: the ended playlist keeps every tag it had while live; only parts and the hint go.
    const header = (text: string) => text.split('\n').filter((line) => /^#EXT-X-(VERSION|TARGETDURATION|SERVER-CONTROL|PART-INF|MEDIA-SEQUENCE|PLAYLIST-TYPE|INDEPENDENT-SEGMENTS)/.test(line));
    assert.deepEqual(header(heldText), header(parsed.lines.join('\n')));
    assert.match(heldText, /#EXT-X-VERSION:9\n[^]*#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES[^]*#EXT-X-PART-INF:PART-TARGET=/);
    assert.doesNotMatch(heldText, /#EXT-X-PART:|#EXT-X-PRELOAD-HINT/);
    const finalUris = playlistUris(heldText);
    assert.ok(finalUris.length > 0);
    assert.deepEqual(finalUris, playlistUris(parsed.lines.join('\n')).slice(0, finalUris.length), 'the segment URIs the live playlists gave');
    const response = await get(path());
    const text = await response.text();
    assert.match(text, /#EXT-X-ENDLIST\n$/);
    assert.equal(text, heldText);
    // The same URIs as while live: a player polling through the end sees only ENDLIST appended.
    const uris = parsePlaylist(text).manifest.segments.map((segment) => segment.uri);
    assert.deepEqual(uris, uris.map((_, msn) => `segment/${msn}.ts`));
    noteUris('720p', uris.map((uri, msn) => ({ msn, uri })));
    // A blocking request on the ended playlist is answered at once, with it.
    const blocking = await get(path(`?_HLS_msn=${uris.length + 1}&_HLS_part=0`));
    assert.equal(blocking.status, 200);
    assert.equal(await blocking.text(), text);
  });

  test('each segment kept one URI in every playlist version, live and ended', () => {
    assert.ok(urisByMsn.size >= 12);
    const changed = [...urisByMsn].filter(([, uris]) => uris.size > 1).map(([key, uris]) => `${key}: ${[...uris].join(' → ')}`);
    assert.deepEqual(changed, []);
  });
});
