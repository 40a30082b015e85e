// The server's answers on a finished run and an unpublished one: validation
// (400, 404, never 500), playlist headers (no-cache, no redirect, CORS), the
// local gateway (immutable, Range, HEAD), and the status and metrics routes.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { create as createDigest } from 'multiformats/hashes/digest';

import { MultiResolutionHlsOutput } from '../../src/publish/multi-resolution-hls-output.js';
import { openRegistry } from '../../src/registry/open-registry.js';
import type { RunRegistry } from '../../src/registry/run-registry.js';
import type { RunRecord } from '../../src/registry/run-records.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { HeliaStore } from '../../src/store/helia-store.js';
import { FrameGenerator } from '../support/frames.js';
import { LIVE_LADDER } from '../support/live-run.js';
import { parsePlaylist } from '../support/parse-playlist.js';

const MPEGURL = 'application/vnd.apple.mpegurl';
const IMMUTABLE = 'public, max-age=31536000, immutable';

/** A valid CIDv1 (raw, sha2-256) of bytes that were never stored. */
function absentCid(): string {
  const digest = createHash('sha256').update(randomBytes(32)).digest();
  return CID.createV1(raw.code, createDigest(0x12, digest)).toString();
}

describe('server routes', () => {
  let dir: string;
  let store: HeliaStore;
  let registry: RunRegistry;
  let server: RunningServer;
  let run: RunRecord;
  let unpublishedRunId: string;
  let segmentCid: string;
  let segmentBytes: Uint8Array;
  const get = (path: string, init?: RequestInit) => fetch(server.url + path, { redirect: 'manual', ...init });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'abrcast-routes-'));
    store = new HeliaStore({ dir: join(dir, 'ipfs') });
    registry = await openRegistry({ databaseUrl: '', dataDir: join(dir, 'db') });
    const output = new MultiResolutionHlsOutput({
      sourceSize: [640, 360], fps: 30, segmentDuration: 1, renditions: LIVE_LADDER, encoder: 'x264',
      x264Preset: 'ultrafast', store, registry, segmentUrl: '/ipfs/{cid}',
    });
    const frames = new FrameGenerator(640, 360);
    for (let i = 0; i < 45; i++) await output.write(frames.frame(i));
    const summary = await output.close();
    run = (await registry.getRun(summary.runId!))!;
    segmentCid = summary.segmentCids['360p'][0];
    segmentBytes = await store.cat(segmentCid);
    unpublishedRunId = (await registry.createRun({ width: 640, height: 360, fps: 30, segmentDuration: 1 })).id;
    server = await startServer({ registry, store, port: 0 });
  });

  after(async () => {
    await server?.close();
    await store?.close();
    await registry?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('bad run ids, quality names, CIDs and percent-encoding are 400 with a JSON error', async () => {
    const paths = [
      '/runs/Bad-Id/master.m3u8',
      `/runs/${'a'.repeat(65)}/master.m3u8`,
      '/runs/-x/quality/360p/playlist.m3u8',
      `/runs/${run.id}/quality/Bad.Name/playlist.m3u8`,
      `/runs/${run.id}/quality/${'q'.repeat(33)}/playlist.m3u8`,
      '/runs/x%27%3B%20DROP%20TABLE%20runs/master.m3u8',
      '/runs/%E0%A4%A/master.m3u8',
      '/runs/UPPER',
      '/runs/UPPER/watch',
      '/ipfs/not-a-cid',
      '/ipfs/bafkreiTOOSHORT',
      `/ipfs-ts/${segmentCid}x`,
      '/runs?limit=0',
    ];
    for (const path of paths) {
      const response = await get(path);
      assert.equal(response.status, 400, path);
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/, path);
      assert.equal(typeof (await response.json()).error, 'string', path);
    }
  });

  test('unknown runs, qualities, CIDs and paths are 404, never 500', async () => {
    const paths = [
      '/runs/nosuchrun/master.m3u8',
      '/runs/nosuchrun/quality/360p/playlist.m3u8',
      '/runs/nosuchrun',
      '/runs/nosuchrun/watch',
      `/runs/${run.id}/quality/1080p/playlist.m3u8`,
      `/runs/${unpublishedRunId}/master.m3u8`,
      `/runs/${unpublishedRunId}/quality/360p/playlist.m3u8`,
      `/ipfs/${absentCid()}`,
      `/ipfs-ts/${absentCid()}`,
      '/nothing/here',
      `/runs/${run.id}/quality/360p`,
    ];
    for (const path of paths) {
      const response = await get(path);
      assert.equal(response.status, 404, path);
      assert.equal(typeof (await response.json()).error, 'string', path);
    }
  });

  test('the quality route answers the newest playlist itself: no-cache, mpegurl, CORS, no redirect', async () => {
    for (const [name, info] of Object.entries(run.qualityPlaylists)) {
      const response = await get(`/runs/${run.id}/quality/${name}/playlist.m3u8`);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('location'), null);
      assert.equal(response.headers.get('cache-control'), 'no-cache');
      assert.equal(response.headers.get('content-type'), MPEGURL);
      assert.equal(response.headers.get('access-control-allow-origin'), '*');
      const text = await response.text();
      assert.equal(text, new TextDecoder().decode(await store.cat(info.cid)));
      assert.match(text, /#EXT-X-ENDLIST/);
      // Revalidation by ETag costs no body.
      const again = await get(`/runs/${run.id}/quality/${name}/playlist.m3u8`, {
        headers: { 'if-none-match': response.headers.get('etag')! },
      });
      assert.equal(again.status, 304);
      // A list and a weak tag name it too; the other encoding's tag does not.
      const etag = response.headers.get('etag')!;
      const listed = await get(`/runs/${run.id}/quality/${name}/playlist.m3u8`, { headers: { 'if-none-match': `"x", W/${etag}` } });
      assert.equal(listed.status, 304);
      const gzipTag = await get(`/runs/${run.id}/quality/${name}/playlist.m3u8`, { headers: { 'if-none-match': etag.replace(/"$/, '.gz"') } });
      assert.equal(gzipTag.status, 200);
      await gzipTag.arrayBuffer();
    }
  });

  test('the master lists every quality with the IPFS master attributes and server variant URIs', async () => {
    const response = await get(`/runs/${run.id}/master.m3u8`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('cache-control'), 'no-cache');
    assert.equal(response.headers.get('content-type'), MPEGURL);
    const served = parsePlaylist(await response.text());
    assert.deepEqual(served.warnings, []);
    const ipfs = parsePlaylist(new TextDecoder().decode(await store.cat(run.masterCid!)));
    const servedVariants = served.manifest.playlists ?? [];
    assert.deepEqual(
      servedVariants.map((v) => v.uri),
      ['360p', '180p'].map((name) => `/runs/${run.id}/quality/${name}/playlist.m3u8`),
    );
    const byName = new Map((ipfs.manifest.playlists ?? []).map((v) => [v.attributes.NAME, v.attributes]));
    for (const variant of servedVariants) assert.deepEqual(variant.attributes, byName.get(variant.attributes.NAME));
  });

  test('OPTIONS preflight and write methods', async () => {
    const preflight = await get(`/runs/${run.id}/quality/360p/playlist.m3u8`, {
      method: 'OPTIONS',
      headers: { origin: 'https://player.example', 'access-control-request-method': 'GET' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), '*');
    assert.match(preflight.headers.get('access-control-allow-methods')!, /\bGET\b/);
    assert.match(preflight.headers.get('access-control-allow-headers')!, /Range/);
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const response = await get(`/runs/${run.id}`, { method });
      assert.equal(response.status, 405, method);
      assert.equal(response.headers.get('allow'), 'GET, HEAD, OPTIONS');
    }
    assert.equal((await registry.getRun(run.id))?.status, 'ended');
  });

  test('the gateway serves segments immutable, as video/mp2t, with Range and HEAD', async () => {
    for (const prefix of ['/ipfs/', '/ipfs-ts/']) {
      const full = await get(prefix + segmentCid);
      assert.equal(full.status, 200);
      assert.equal(full.headers.get('content-type'), 'video/mp2t');
      assert.equal(full.headers.get('cache-control'), IMMUTABLE);
      assert.equal(full.headers.get('etag'), `"${segmentCid}"`);
      assert.equal(full.headers.get('accept-ranges'), 'bytes');
      assert.equal(full.headers.get('access-control-allow-origin'), '*');
      assert.deepEqual(new Uint8Array(await full.arrayBuffer()), segmentBytes);
    }
    const size = segmentBytes.byteLength;

    const part = await get(`/ipfs/${segmentCid}`, { headers: { range: 'bytes=188-375' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 188-375/${size}`);
    assert.equal(part.headers.get('content-length'), '188');
    assert.deepEqual(new Uint8Array(await part.arrayBuffer()), segmentBytes.subarray(188, 376));

    const suffix = await get(`/ipfs/${segmentCid}`, { headers: { range: 'bytes=-100' } });
    assert.equal(suffix.status, 206);
    assert.equal(suffix.headers.get('content-range'), `bytes ${size - 100}-${size - 1}/${size}`);
    assert.deepEqual(new Uint8Array(await suffix.arrayBuffer()), segmentBytes.subarray(size - 100));

    const open = await get(`/ipfs/${segmentCid}`, { headers: { range: `bytes=${size - 10}-` } });
    assert.equal(open.status, 206);
    assert.deepEqual(new Uint8Array(await open.arrayBuffer()), segmentBytes.subarray(size - 10));

    const beyond = await get(`/ipfs/${segmentCid}`, { headers: { range: `bytes=${size}-` } });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers.get('content-range'), `bytes */${size}`);
    await beyond.arrayBuffer();

    const head = await get(`/ipfs/${segmentCid}`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(size));
    assert.equal(head.headers.get('content-type'), 'video/mp2t');
    assert.equal((await head.arrayBuffer()).byteLength, 0);

    const cached = await get(`/ipfs/${segmentCid}`, { headers: { 'if-none-match': `"${segmentCid}"` } });
    assert.equal(cached.status, 304);
  });

  test('the gateway answers If-None-Match lists, W/ tags and * with 304, and anything else in full', async () => {
    const status = async (headers: Record<string, string>) => {
      const response = await get(`/ipfs/${segmentCid}`, { headers });
      await response.arrayBuffer();
      return response.status;
    };
    assert.equal(await status({ 'if-none-match': `"bafkreiother", "${segmentCid}"` }), 304, 'a list holding the tag');
    assert.equal(await status({ 'if-none-match': `W/"${segmentCid}"` }), 304, 'weak comparison (RFC 9110 13.1.2)');
    assert.equal(await status({ 'if-none-match': '*' }), 304, '* matches any current representation');
    assert.equal(await status({ 'if-none-match': '"bafkreiother", W/"bafkreithird"' }), 200, 'a list without it');
    assert.equal(await status({ 'if-none-match': segmentCid }), 200, 'an unquoted tag is not that tag');
    // fetch() sends this with every If-None-Match; the origin still evaluates the precondition (RFC 9110 13.2.1).
    assert.equal(await status({ 'if-none-match': `"${segmentCid}"`, 'cache-control': 'no-cache' }), 304, 'no-cache is for caches');
  });

  test('the gateway resolves ranges with range-parser: merged ranges, ignored bad ones, If-Range', async () => {
    const size = segmentBytes.byteLength;
    const answer = async (headers: Record<string, string>) => {
      const response = await get(`/ipfs/${segmentCid}`, { headers });
      return { status: response.status, range: response.headers.get('content-range'), body: new Uint8Array(await response.arrayBuffer()) };
    };
    const merged = await answer({ range: 'bytes=0-99, 50-199' });
    assert.deepEqual([merged.status, merged.range], [206, `bytes 0-199/${size}`]);
    assert.deepEqual(merged.body, segmentBytes.subarray(0, 200));
    // Two ranges that stay apart would need multipart/byteranges: the whole file instead (RFC 9110 allows ignoring Range).
    assert.deepEqual((await answer({ range: 'bytes=0-9, 100-109' })).status, 200);
    for (const bad of ['bytes=20-10', 'bytes=abc', 'bytes=1-2-3', 'items=0-9', 'bytes=']) {
      const ignored = await answer({ range: bad });
      assert.equal(ignored.status, 200, bad);
      assert.equal(ignored.body.byteLength, size, bad);
    }
    assert.equal((await answer({ range: 'bytes=-0' })).status, 416);
    const sameTag = await answer({ range: 'bytes=0-9', 'if-range': `"${segmentCid}"` });
    assert.deepEqual([sameTag.status, sameTag.body.byteLength], [206, 10]);
    const otherTag = await answer({ range: 'bytes=0-9', 'if-range': '"bafkreiother"' });
    assert.deepEqual([otherTag.status, otherTag.body.byteLength], [200, size]);
  });

  test('a suffix range longer than the file selects the whole file (RFC 9110 14.1.2)', async () => {
    const size = segmentBytes.byteLength;
    const whole = await get(`/ipfs/${segmentCid}`, { headers: { range: `bytes=-${size + 1000}` } });
    assert.equal(whole.status, 206);
    assert.equal(whole.headers.get('content-range'), `bytes 0-${size - 1}/${size}`);
    assert.deepEqual(new Uint8Array(await whole.arrayBuffer()), segmentBytes);
    const exact = await get(`/ipfs/${segmentCid}`, { headers: { range: `bytes=-${size}` } });
    assert.equal(exact.headers.get('content-range'), `bytes 0-${size - 1}/${size}`);
    await exact.arrayBuffer();
  });

  test('a segment\'s hash re-labelled as another codec is 400 or 404, never 500', async () => {
    const { multihash } = CID.parse(segmentCid);
    const relabelled = {
      'dag-pb': CID.createV1(0x70, multihash).toString(),
      CIDv0: CID.createV0(multihash as never).toString(),
      'dag-cbor': CID.createV1(0x71, multihash).toString(),
      'dag-json': CID.createV1(0x0129, multihash).toString(),
      'git-raw': CID.createV1(0x78, multihash).toString(),
    };
    for (const [codec, cid] of Object.entries(relabelled)) {
      for (const prefix of ['/ipfs/', '/ipfs-ts/']) {
        const response = await get(prefix + cid);
        assert.ok(response.status === 400 || response.status === 404, `${codec}: ${response.status}`);
        assert.equal(typeof (await response.json()).error, 'string', codec);
      }
    }
  });

  test('request targets that are no path are 400; error bodies never echo more than a few dozen characters', async () => {
    const { connect } = await import('node:net');
    const { port } = new URL(server.url);
    const rawStatus = (target: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1', () => socket.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
        let text = '';
        socket.setEncoding('latin1').on('data', (chunk: string) => (text += chunk));
        socket.on('end', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]), body: text.slice(text.indexOf('\r\n\r\n') + 4) }));
        socket.on('error', reject);
      });
    for (const target of ['//', '//[/runs', 'http://[bad/runs', 'http://exa mple/x', 'ftp://host/runs']) {
      const { status } = await rawStatus(target);
      assert.equal(status, 400, target);
    }
    assert.equal((await rawStatus(`http://any.host/runs/${run.id}`)).status, 200, 'absolute-form with a good host is served');
    const long = 'x'.repeat(12_000);
    for (const path of [`/${long}`, `/runs/${long}`, `/ipfs/${long}`, `/runs/${run.id}/quality/${long}/playlist.m3u8`]) {
      const response = await get(path);
      assert.ok(response.status === 400 || response.status === 404, `${response.status}`);
      const body = await response.text();
      assert.ok(body.length < 200, `error body of ${body.length} characters: ${body.slice(0, 80)}`);
    }
  });

  test('/metrics on the admin listener of its own: absent beside the playlists', async () => {
    const own = await startServer({ registry, store, port: 0, adminPort: 0 });
    try {
      assert.ok(own.adminUrl, 'adminUrl');
      assert.match(own.adminUrl!, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal((await fetch(`${own.url}/metrics`)).status, 404);
      const metrics = await fetch(`${own.adminUrl}/metrics`);
      assert.equal(metrics.status, 200);
      assert.match(await metrics.text(), /^abrcast_held_requests 0$/m);
      assert.equal((await fetch(`${own.adminUrl}/healthz`)).status, 404, 'only the admin routes there');
      assert.equal((await fetch(`${own.url}/healthz`)).status, 200);
    } finally {
      await own.close();
    }
  });

  test('the gateway sniffs playlists as mpegurl', async () => {
    const response = await get(`/ipfs/${run.masterCid}`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), MPEGURL);
    assert.match(await response.text(), /^#EXTM3U\n/);
  });

  test('run status: list and detail with segment counts from the registry', async () => {
    const list = await (await get('/runs')).json();
    assert.deepEqual(list.runs.map((r: { id: string }) => r.id).sort(), [run.id, unpublishedRunId].sort());
    const detail = await (await get(`/runs/${run.id}`)).json();
    assert.equal(detail.status, 'ended');
    assert.equal(detail.masterCid, run.masterCid);
    const recorded = await registry.listSegments(run.id);
    assert.ok(recorded.length >= 4);
    assert.equal(detail.segments.total, recorded.length);
    for (const quality of detail.qualities) {
      const count = recorded.filter((s) => s.rendition === quality.name).length;
      assert.deepEqual(quality.segments, { recorded: count, contiguous: count });
      assert.equal(quality.playlist, `/runs/${run.id}/quality/${quality.name}/playlist.m3u8`);
    }
  });

  test('pages and the player script come from this server', async () => {
    const home = await get('/');
    assert.equal(home.status, 200);
    assert.match(await home.text(), new RegExp(`href="/runs/${run.id}/watch"`));
    const watch = await get(`/runs/${run.id}/watch`);
    assert.equal(watch.status, 200);
    const html = await watch.text();
    assert.match(html, /<script src="\/assets\/hls.min.js"><\/script>/);
    assert.doesNotMatch(html, /https?:\/\/(?!www\.w3)/, 'no external URL (CDN) on the page');
    const script = await get('/assets/hls.min.js');
    assert.equal(script.status, 200);
    assert.match(script.headers.get('content-type')!, /javascript/);
    assert.ok((await script.text()).length > 100_000);
  });

  test('/healthz checks the registry; /metrics counts requests by route and status', async () => {
    const health = await get('/healthz');
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok', registry: 'pglite', store: 'helia' });
    await (await get('/runs/nosuchrun')).arrayBuffer();
    await (await get(`/ipfs/${segmentCid}`, { headers: { range: 'bytes=0-0' } })).arrayBuffer();
    const response = await get('/metrics');
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    const count = (route: string, status: number) => {
      const line = text.split('\n').find((l) => l.startsWith(`abrcast_http_requests_total{route="${route}",method="GET",status="${status}"} `));
      return line ? Number(line.split(' ')[1]) : 0;
    };
    assert.ok(count('/runs/:id', 404) >= 1);
    assert.ok(count('/ipfs/:cid', 206) >= 1);
    assert.ok(count('/runs/:id/master.m3u8', 400) >= 1);
    assert.ok(count('/healthz', 200) >= 1);
    assert.match(text, /# TYPE abrcast_publish_latency_seconds histogram/);
    assert.match(text, /^abrcast_upload_retries_total 0$/m);
    // prom-client's default metrics: what an encoder running for hours needs watched.
    assert.match(text, /^nodejs_eventloop_lag_seconds \d/m);
    assert.match(text, /^process_resident_memory_bytes \d+/m);
    assert.match(text, /^nodejs_heap_size_used_bytes \d+/m);
    assert.match(text, /^process_cpu_seconds_total \d/m);
  });

  test('two servers in one process keep separate metrics', async () => {
    const { ServerMetrics } = await import('../../src/server/metrics.js');
    const a = new ServerMetrics();
    const b = new ServerMetrics();
    a.countRequest('/x', 'GET', 200, 0.01);
    assert.match(await a.render(), /^abrcast_http_requests_total\{route="\/x",method="GET",status="200"\} 1$/m);
    assert.doesNotMatch(await b.render(), /route="\/x"/);
  });
});
