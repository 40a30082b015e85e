// LL-DASH from the LL-HLS bytes, against a real store and registry fed
// synthetic fMP4 parts (the native core makes real ones; test/server/browser-dash
// plays those): the MPD passes the offline MPD check (test/support/mpd-check.ts)
// live and ended, addresses the very init segment and segment URIs the media
// playlists list, and a segment asked for while it is being written is sent
// part by part (a raw HTTP/1.1 client reads the first chunk before the segment
// ends; a part that never comes aborts the response instead of ending it short).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { SEGMENT_PTS_OFFSET_S } from '../../src/encoder/types.js';
import { serializeMasterPlaylist, serializeMediaPlaylist } from '../../src/hls/index.js';
import type { VariantStreamRecords } from '../../src/model/variant-stream-record.js';
import { openRegistry } from '../../src/registry/open-registry.js';
import type { RunRegistry } from '../../src/registry/run-registry.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { HeliaStore } from '../../src/store/helia-store.js';
import { checkMpd, durationSeconds, SCHEMA_SKIP, validateMpdSchema } from '../support/mpd-check.js';
import { parseLowLatencyPlaylist } from '../support/ll-playlist-check.js';
import { waitFor } from '../support/live-run.js';

const FPS = 30;
const SEGMENT_S = 2;
const PART_FRAMES = 10;
const PARTS_PER_SEGMENT = (SEGMENT_S * FPS) / PART_FRAMES;
const PART_S = PART_FRAMES / FPS;
/** Highest bandwidth first, as the MPD lists them. */
const RENDITIONS = [{ name: '720p', bandwidth: 3_000_000, width: 1280, height: 720 }, { name: '360p', bandwidth: 900_000, width: 640, height: 360 }];

/** A synthetic fMP4 producer: an init segment per rendition, parts of 10 frames, 2-s segments, publishes like the real publisher. */
class Producer {
  readonly parts = new Map<string, Buffer>();
  readonly inits = new Map<string, string>();
  readonly segments: Record<string, { cid: string; duration: number }[]> = {};
  constructor(readonly store: HeliaStore, readonly registry: RunRegistry, readonly runId: string, readonly container: 'fmp4' | 'ts' = 'fmp4') {}

  async start(): Promise<void> {
    if (this.container === 'ts') return;
    for (const { name } of RENDITIONS) {
      const cid = await this.store.add(Buffer.from(`${name} init (ftyp moov)`));
      await this.registry.setInitSegment(this.runId, name, cid);
      this.inits.set(name, cid);
    }
  }

  async part(rendition: string, segmentIndex: number, partIndex: number): Promise<Buffer> {
    const data = this.lose(rendition, segmentIndex, partIndex);
    const cid = await this.store.add(data);
    await this.registry.recordPart(this.runId, { rendition, segmentIndex, partIndex, cid, duration: PART_S, independent: partIndex === 0, bytes: data.length });
    return data;
  }

  /** A part the encoder made (its segment has it) whose record is lost. */
  lose(rendition: string, segmentIndex: number, partIndex: number): Buffer {
    const data = Buffer.from(`${rendition} moof+mdat ${segmentIndex}.${partIndex} `.repeat(40));
    this.parts.set(`${rendition}/${segmentIndex}.${partIndex}`, data);
    return data;
  }

  async segmentParts(segmentIndex: number, from = 0, to = PARTS_PER_SEGMENT): Promise<void> {
    for (let index = from; index < to; index++) for (const { name } of RENDITIONS) await this.part(name, segmentIndex, index);
  }

  segmentBytes(rendition: string, segmentIndex: number): Buffer {
    return Buffer.concat(Array.from({ length: PARTS_PER_SEGMENT }, (_, i) => this.parts.get(`${rendition}/${segmentIndex}.${i}`)!));
  }

  /** Records and publishes the next segment of every rendition (its parts must exist), or the final playlists. */
  async publish(endList = false): Promise<void> {
    const qualities: VariantStreamRecords = {};
    for (const { name, bandwidth, width, height } of RENDITIONS) {
      const list = (this.segments[name] ??= []);
      if (!endList) {
        const index = list.length;
        const cid = await this.store.add(this.segmentBytes(name, index));
        await this.registry.recordSegment(this.runId, { rendition: name, index, cid, duration: SEGMENT_S, bytes: 1 });
        list.push({ cid, duration: SEGMENT_S });
      }
      const init = this.inits.get(name);
      const text = serializeMediaPlaylist({
        targetDuration: SEGMENT_S, mediaSequence: 0, playlistType: 'EVENT', independentSegments: true, endList,
        ...(init ? { mapUri: `/ipfs/${init}` } : {}),
        segments: list.map((s, i) => ({ duration: s.duration, uri: `/ipfs/${s.cid}`, ...(i === 0 ? { programDateTime: new Date(0) } : {}) })),
      });
      qualities[name] = {
        cid: await this.store.add(Buffer.from(text)), width, height, bitrate: bandwidth / 1500, bandwidth,
        averageBandwidth: bandwidth * 0.8, codecs: 'avc1.64001f,mp4a.40.2', frameRate: FPS,
      };
    }
    const master = await this.store.add(Buffer.from(serializeMasterPlaylist({ independentSegments: true, variants: [] })));
    await this.registry.publishPlaylists(this.runId, master, qualities);
  }
}

/** A raw HTTP/1.1 exchange: what arrived, and when (so "before the segment ended" is a fact, not a timing). */
class RawClient {
  readonly socket: Socket;
  received = Buffer.alloc(0);
  closed = false;
  readonly #waiters = new Set<() => void>();

  constructor(port: number, path: string) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    this.socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      for (const wake of this.#waiters) wake();
    });
    this.socket.on('close', () => {
      this.closed = true;
      for (const wake of this.#waiters) wake();
    });
  }

  /** Resolves once `ready()` holds (checked at each arrival), or fails after `timeoutMs`. */
  until(what: string, ready: () => boolean, timeoutMs = 10_000): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; received ${JSON.stringify(this.received.toString('latin1').slice(0, 400))}`));
      }, timeoutMs);
      const check = () => {
        if (!ready()) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      this.#waiters.add(check);
    });
  }

  get head(): string | undefined {
    const end = this.received.indexOf('\r\n\r\n');
    return end < 0 ? undefined : this.received.subarray(0, end).toString('latin1');
  }

  /** The body's chunks (RFC 9112 7.1) decoded so far, and whether the last-chunk has arrived. */
  chunks(): { data: Buffer[]; complete: boolean } {
    const start = this.received.indexOf('\r\n\r\n');
    const data: Buffer[] = [];
    if (start < 0) return { data, complete: false };
    let at = start + 4;
    for (;;) {
      const lineEnd = this.received.indexOf('\r\n', at);
      if (lineEnd < 0) return { data, complete: false };
      const size = parseInt(this.received.subarray(at, lineEnd).toString('latin1'), 16);
      if (size === 0) return { data, complete: true };
      if (this.received.length < lineEnd + 2 + size + 2) return { data, complete: false };
      data.push(this.received.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
  }
}

describe('LL-DASH from the LL-HLS bytes', () => {
  let dir: string;
  let store: HeliaStore;
  let registry: RunRegistry;
  let server: RunningServer;
  let runId: string;
  let producer: Producer;
  const get = (path: string) => fetch(server.url + path);
  const mpdPath = () => `/runs/${runId}/manifest.mpd`;
  const mpd = async () => {
    const fetchedAt = new Date();
    const response = await get(mpdPath());
    assert.equal(response.status, 200, `${mpdPath()}: ${response.status} ${response.status === 200 ? '' : await response.text()}`);
    assert.equal(response.headers.get('content-type'), 'application/dash+xml');
    const text = await response.text();
    return { text, response, checked: checkMpd(text, fetchedAt) };
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'abrcast-dash-'));
    store = new HeliaStore({ dir: join(dir, 'ipfs') });
    registry = await openRegistry({ databaseUrl: '', dataDir: join(dir, 'db') });
    const run = await registry.createRun({ width: 1280, height: 720, fps: FPS, segmentDuration: SEGMENT_S, startedAt: new Date(Date.now() - 10_000) });
    runId = run.id;
    await registry.setPartTarget(runId, PART_S);
    producer = new Producer(store, registry, runId);
    await producer.start();
    server = await startServer({ registry, store, port: 0 });
  });

  after(async () => {
    await server?.close();
    await store?.close();
    await registry?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('the MPD asked for before the first publish is answered by it; it passes the MPD check', async () => {
    await producer.segmentParts(0);
    const early = get(mpdPath());
    await new Promise((resolve) => setTimeout(resolve, 100));
    await producer.publish();
    const response = await early;
    assert.equal(response.status, 200);
    const { checked, text } = await mpd();
    assert.equal(checked.type, 'dynamic');
    assert.deepEqual(checked.representations.map((r) => [r.id, r.bandwidth]), RENDITIONS.map((r) => [r.name, r.bandwidth]), 'highest bandwidth first, the BANDWIDTH of the master');
    assert.match(text, /<UTCTiming schemeIdUri="urn:mpeg:dash:utc:http-iso:2014" value="\/time"\/>/);
    assert.match(text, /<Latency target="1333" min="667" max="5333"\/>/);
    const run = await registry.getRun(runId);
    assert.equal(checked.availabilityStartTime?.getTime(), run!.startedAt!.getTime(), 'availabilityStartTime is the PROGRAM-DATE-TIME origin');
    const time = await get('/time');
    assert.equal(time.headers.get('access-control-allow-origin'), '*');
    const served = Date.parse(await time.text());
    assert.ok(Math.abs(served - Date.now()) < 5000, `/time answers this server's clock (${served})`);
  });

  test('the SegmentTemplate addresses the init segment and segment URIs the LL-HLS playlists list', async () => {
    const { checked } = await mpd();
    const base = new URL(server.url + mpdPath());
    for (const rep of checked.representations) {
      const t = rep.template;
      // A blocking request for a part that exists answers at once (a plain one waits for a start point).
      const text = await (await get(`/runs/${runId}/quality/${rep.id}/playlist.m3u8?_HLS_msn=0&_HLS_part=0`)).text();
      const playlist = parseLowLatencyPlaylist(text);
      assert.equal(new URL(t.initialization, base).pathname, /#EXT-X-MAP:URI="([^"]+)"/.exec(text)?.[1], `${rep.id}: initialization is the EXT-X-MAP URI`);
      assert.equal(Number(t.startNumber), playlist.mediaSequence, `${rep.id}: startNumber is the media sequence of the first segment`);
      const playlistBase = new URL(`/runs/${runId}/quality/${rep.id}/playlist.m3u8`, server.url);
      for (const segment of playlist.segments) {
        const fromMpd = new URL(t.media.replace('$Number$', String(segment.msn)), base).href;
        assert.equal(fromMpd, new URL(segment.uri, playlistBase).href, `${rep.id}: segment ${segment.msn} has one URL in both manifests`);
      }
      assert.equal(Number(t.duration) / Number(t.timescale), SEGMENT_S);
      assert.equal(Number(t.presentationTimeOffset) / Number(t.timescale), SEGMENT_PTS_OFFSET_S, 'the offset the bytes carry is taken out');
      assert.equal(Number(t.availabilityTimeOffset), Number((SEGMENT_S - PART_S).toFixed(3)), 'a segment is available once its first part is');
    }
    const whole = await get(`/runs/${runId}/quality/720p/segment/0.m4s`);
    assert.deepEqual(Buffer.from(await whole.arrayBuffer()), producer.segmentBytes('720p', 0));
  });

  test('a segment asked for while being written is sent part by part: the first chunk arrives before the segment ends', async () => {
    await producer.part('720p', 1, 0);
    const client = new RawClient(server.port, `/runs/${runId}/quality/720p/segment/1.m4s`);
    // The next segment after it is held too (a DASH client's clock may run a little ahead); further is 404 at once.
    const ahead = await get(`/runs/${runId}/quality/720p/segment/4.m4s`);
    assert.equal(ahead.status, 404);
    await client.until('the first chunk', () => client.chunks().data.length >= 1);
    assert.match(client.head!, /^HTTP\/1\.1 200 OK/);
    assert.match(client.head!, /\r\ntransfer-encoding: chunked/i);
    assert.doesNotMatch(client.head!, /\r\ncontent-length:/i);
    assert.match(client.head!, /\r\ncontent-type: video\/mp4/i);
    assert.deepEqual(client.chunks().data[0], producer.parts.get('720p/1.0'), 'the first chunk is part 1.0, sent before part 1.1 exists');
    assert.equal(client.chunks().complete, false);
    for (let index = 1; index < PARTS_PER_SEGMENT; index++) {
      await producer.part('720p', 1, index);
      await client.until(`chunk ${index}`, () => client.chunks().data.length > index);
      if (index < PARTS_PER_SEGMENT - 1) assert.equal(client.chunks().complete, false, `open after part 1.${index}`);
    }
    await client.until('the last-chunk', () => client.chunks().complete);
    const { data } = client.chunks();
    assert.equal(data.length, PARTS_PER_SEGMENT, 'one chunk per part (CMAF chunk)');
    assert.deepEqual(Buffer.concat(data), Buffer.concat(Array.from({ length: PARTS_PER_SEGMENT }, (_, i) => producer.parts.get(`720p/1.${i}`)!)));
    // Once whole, the same URL answers at once with the same bytes (and a length).
    const again = await get(`/runs/${runId}/quality/720p/segment/1.m4s`);
    assert.equal(again.headers.get('content-length'), String(Buffer.concat(data).length));
    assert.deepEqual(Buffer.from(await again.arrayBuffer()), Buffer.concat(data));
  });

  test('a part that never comes aborts the response rather than ending a short segment', async () => {
    await producer.part('360p', 1, 0);
    for (let index = 1; index < PARTS_PER_SEGMENT; index++) await producer.part('360p', 1, index);
    await producer.part('360p', 2, 0);
    const client = new RawClient(server.port, `/runs/${runId}/quality/360p/segment/2.m4s`);
    await client.until('part 2.0', () => client.chunks().data.length === 1);
    // Part 2.1 is lost: 2.2 is recorded, so 2.1 never will be.
    producer.lose('360p', 2, 1);
    await producer.part('360p', 2, 2);
    await client.until('the connection closed', () => client.closed);
    assert.equal(client.chunks().complete, false, 'no last-chunk: the client knows the segment is incomplete');
    assert.equal(client.chunks().data.length, 1);
  });

  // The normative schema ships in no package (docs/players.md): with ABRCAST_DASH_XSD naming a local copy, xmllint validates the served MPD too.
  test('the live MPD validates against DASH-MPD.xsd (ABRCAST_DASH_XSD)', { skip: SCHEMA_SKIP }, async () => {
    validateMpdSchema((await mpd()).text);
  });

  test('the ended run gets a static MPD with its duration (DASH-IF live-to-VoD) and the same URLs', async () => {
    for (let index = 0; index < PARTS_PER_SEGMENT; index++) await producer.part('720p', 2, index);
    for (let index = 1; index < PARTS_PER_SEGMENT; index++) if (!producer.parts.has(`360p/2.${index}`)) await producer.part('360p', 2, index);
    await producer.publish();
    await producer.publish();
    await producer.publish(true);
    await registry.markEnded(runId);
    // The server's model follows the registry's change feed: the next MPD after it applied the end is static.
    const { checked, text } = await waitFor('the static MPD', async () => {
      const answer = await mpd();
      return answer.checked.type === 'static' ? answer : undefined;
    });
    assert.equal(checked.type, 'static');
    assert.equal(durationSeconds(checked.root.getAttribute('mediaPresentationDuration')!), 3 * SEGMENT_S);
    assert.doesNotMatch(text, /availabilityTimeOffset|minimumUpdatePeriod/);
    assert.equal(checked.representations[0].template.media, 'quality/720p/segment/$Number$.m4s');
  });

  test('no MPD for an MPEG-TS run, a run without parts, or no run; a bad id is 400', async () => {
    const ts = await registry.createRun({ width: 640, height: 360, fps: FPS, segmentDuration: SEGMENT_S, startedAt: new Date() });
    await registry.setPartTarget(ts.id, PART_S);
    const tsProducer = new Producer(store, registry, ts.id, 'ts');
    await tsProducer.segmentParts(0);
    await tsProducer.publish();
    const tsAnswer = await get(`/runs/${ts.id}/manifest.mpd`);
    assert.equal(tsAnswer.status, 404);
    assert.match(((await tsAnswer.json()) as { error: string }).error, /MPEG-TS: DASH needs CMAF \(fMP4\) segments/);

    const plain = await registry.createRun({ width: 640, height: 360, fps: FPS, segmentDuration: SEGMENT_S, startedAt: new Date() });
    const plainProducer = new Producer(store, registry, plain.id);
    await plainProducer.start();
    await plainProducer.segmentParts(0);
    await plainProducer.publish();
    const plainAnswer = await get(`/runs/${plain.id}/manifest.mpd`);
    assert.equal(plainAnswer.status, 404);
    assert.match(((await plainAnswer.json()) as { error: string }).error, /no parts/);

    assert.equal((await get('/runs/aaaaaaaaaaaaa/manifest.mpd')).status, 404);
    assert.equal((await get('/runs/no%20such/manifest.mpd')).status, 400);
  });

  test('a channel: no MPD while its runs are MPEG-TS or without parts (the run\'s reason); a bad name is 400, an unknown channel 404', async () => {
    const ts = await registry.createRun({ width: 640, height: 360, fps: FPS, segmentDuration: SEGMENT_S, startedAt: new Date(), channel: 'tsch', windowSeconds: 12 });
    await registry.setPartTarget(ts.id, PART_S);
    const tsProducer = new Producer(store, registry, ts.id, 'ts');
    await tsProducer.segmentParts(0);
    await tsProducer.publish();
    const plain = await registry.createRun({ width: 640, height: 360, fps: FPS, segmentDuration: SEGMENT_S, startedAt: new Date(), channel: 'plainch', windowSeconds: 12 });
    const plainProducer = new Producer(store, registry, plain.id);
    await plainProducer.start();
    await plainProducer.segmentParts(0);
    await plainProducer.publish();
    for (const [path, code, error] of [
      ['/channels/tsch/manifest.mpd', 404, /^Channel tsch: Run \S+ is MPEG-TS: DASH needs CMAF \(fMP4\) segments/],
      ['/channels/plainch/manifest.mpd', 404, /^Channel plainch: Run \S+ has no parts/],
      ['/channels/nope/manifest.mpd', 404, /^No channel nope$/],
      ['/channels/Bad_Name/manifest.mpd', 400, /^Invalid channel name: expected /],
      [`/channels/${'x'.repeat(300)}/manifest.mpd`, 400, /^Invalid channel name/],
    ] as const) {
      const answer = await get(path);
      assert.equal(answer.status, code, path);
      const text = await answer.text();
      assert.ok(text.length < 200, 'a short error, no echo of the input');
      assert.match((JSON.parse(text) as { error: string }).error, error, path);
    }
  });
});
