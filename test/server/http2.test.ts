// The server with a TLS certificate (startServer's `tls`): HTTP/2 to clients that offer it
// in ALPN, HTTP/1.1 to the rest, the same routes and answers on both. A raw node:http2
// client holds many LL-HLS requests (blocking playlist reloads, the preload-hinted part) on
// one connection, and all are answered once the part exists; no connection-specific header
// is ever sent (RFC 9113 8.2.2); a client that resets a stream mid-answer is no failure.
// Against a real store and registry fed synthetic parts, as test/server/low-latency.test.ts.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { openRegistry } from '../../src/registry/open-registry.js';
import type { RunRegistry } from '../../src/registry/run-registry.js';
import { startServer, type RunningServer, type ServerLogger } from '../../src/server/index.js';
import { HTTP2_MAX_CONCURRENT_STREAMS } from '../../src/server/http-server.js';
import { HeliaStore } from '../../src/store/helia-store.js';
import { connectHttp2, CONNECTION_SPECIFIC_HEADERS, type Http2Answer, type Http2Client } from '../support/http2-client.js';
import { waitFor } from '../support/live-run.js';
import { checkLowLatencyPlaylist } from '../support/ll-playlist-check.js';
import { makeTestCertificate, type TestCertificate } from '../support/tls-certificate.js';

const FPS = 30;
const SEGMENT_S = 2;
const PART_S = 10 / FPS;
const partNumber = (uri: string) => {
  const match = /^part\/(\d+)\.(\d+)\.ts$/.exec(uri);
  assert.ok(match, `part URI ${uri}`);
  return { msn: Number(match[1]), part: Number(match[2]) };
};

/** A logger that keeps what the server reports as failures. */
function recordingLogger(): ServerLogger & { errors: unknown[] } {
  const errors: unknown[] = [];
  const ignore = () => undefined;
  return { errors, error: (object: unknown) => errors.push(object), warn: ignore, info: ignore, debug: ignore } as unknown as ServerLogger & { errors: unknown[] };
}

/** The same request over HTTP/1.1 on TLS (node:https offers no ALPN, so the server falls back to HTTP/1.1). */
function http1(url: string, ca: string, method = 'GET', headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer; version: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), version: res.httpVersion }));
      res.once('error', reject);
    });
    req.once('error', reject);
    req.end();
  });
}

/** abrcast_http_requests_total of a route, all methods and statuses. */
async function requestCount(server: RunningServer, route: string): Promise<number> {
  const metric = server.metrics.registry.getSingleMetric('abrcast_http_requests_total');
  const { values } = await metric!.get();
  return values.filter((value) => value.labels.route === route).reduce((sum, value) => sum + value.value, 0);
}

describe('HTTP/2 over TLS', () => {
  let dir: string;
  let certificate: TestCertificate;
  let store: HeliaStore;
  let registry: RunRegistry;
  let server: RunningServer;
  let client: Http2Client;
  let runId: string;
  const logger = recordingLogger();
  const parts = new Map<string, Buffer>();
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);

  const part = async (segmentIndex: number, partIndex: number, bytes = 600): Promise<Buffer> => {
    const data = Buffer.alloc(bytes, `720p part ${segmentIndex}.${partIndex} `);
    const cid = await store.add(data);
    parts.set(`${segmentIndex}.${partIndex}`, data);
    await registry.recordPart(runId, { rendition: '720p', segmentIndex, partIndex, cid, duration: PART_S, independent: partIndex === 0, bytes: data.length });
    return data;
  };
  const playlistPath = (query = '') => `/runs/${runId}/quality/720p/playlist.m3u8${query}`;

  before(async () => {
    process.on('warning', onWarning);
    dir = await mkdtemp(join(tmpdir(), 'abrcast-h2-'));
    certificate = makeTestCertificate();
    store = new HeliaStore({ dir: join(dir, 'ipfs') });
    registry = await openRegistry({ databaseUrl: '', dataDir: join(dir, 'db') });
    runId = (await registry.createRun({ width: 640, height: 360, fps: FPS, segmentDuration: SEGMENT_S, startedAt: new Date(0) })).id;
    await registry.setPartTarget(runId, PART_S);
    server = await startServer({ registry, store, port: 0, logger, tls: { cert: certificate.cert, key: certificate.key } });
    client = await connectHttp2(server.url, certificate.ca);
  });

  after(async () => {
    process.off('warning', onWarning);
    await client?.close();
    await server?.close();
    await store?.close();
    await registry?.close();
    certificate?.remove();
    await rm(dir, { recursive: true, force: true });
  });

  test('https:// URL; ALPN picks h2; SETTINGS allow 256 concurrent streams (held requests are not capped low)', async () => {
    assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(client.protocol, 'h2');
    const settings = await client.remoteSettings;
    assert.equal(settings.maxConcurrentStreams, HTTP2_MAX_CONCURRENT_STREAMS);
    assert.equal(HTTP2_MAX_CONCURRENT_STREAMS, 256);
  });

  test('many held blocking reloads and preload-hinted part requests share one connection; all are answered once the part exists', async () => {
    await part(0, 0);
    await part(0, 1);
    const reloads = Array.from({ length: 24 }, (_, i) =>
      client.open(playlistPath('?_HLS_msn=0&_HLS_part=2'), i % 2 === 0 ? { 'accept-encoding': 'gzip' } : {}));
    const hinted = Array.from({ length: 8 }, () => client.open(`/runs/${runId}/quality/720p/part/0.2.ts`));
    let settled = 0;
    for (const held of [...reloads, ...hinted]) held.answer.then(() => settled++, () => settled++);
    // More than HTTP/1.1's six connections per origin could hold, and the connection still
    // answers other requests meanwhile: an existing part, a blocking reload already satisfied.
    const existing = await client.request(`/runs/${runId}/quality/720p/part/0.1.ts`);
    assert.equal(existing.status, 200);
    assert.deepEqual(existing.body, parts.get('0.1'));
    const satisfied = await client.request(playlistPath('?_HLS_msn=0&_HLS_part=1'));
    assert.equal(satisfied.status, 200);
    assert.equal(settled, 0, 'all 32 held while part 0.2 does not exist');
    const data = await part(0, 2);
    const answers = await Promise.all(reloads.map((held) => held.answer));
    answers.forEach((answer, i) => {
      assert.equal(answer.status, 200);
      assert.equal(answer.headers['content-encoding'], i % 2 === 0 ? 'gzip' : undefined);
      const parsed = checkLowLatencyPlaylist(answer.body.toString(), { partNumber });
      assert.deepEqual(parsed.pending.map((p) => p.uri), ['part/0.0.ts', 'part/0.1.ts', 'part/0.2.ts'], 'the answer lists the part it waited for');
    });
    for (const answer of await Promise.all(hinted.map((held) => held.answer))) {
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.body, data);
    }
  });

  test('every route answers over HTTP/2 as over HTTP/1.1, and no connection-specific header is sent', async () => {
    const cid = await store.add(Buffer.from('0123456789'.repeat(100)));
    const cases: { path: string; method?: string; headers?: Record<string, string> }[] = [
      { path: '/healthz' },
      { path: playlistPath('?_HLS_msn=0&_HLS_part=2'), headers: { 'accept-encoding': 'gzip' } },
      { path: playlistPath('?_HLS_msn=x') },
      { path: `/runs/${runId}/quality/720p/part/0.0.ts` },
      { path: `/runs/${runId}/quality/720p/part/0.0.ts`, method: 'HEAD' },
      { path: `/runs/${runId}/quality/720p/part/0.9.ts` },
      { path: `/ipfs/${cid}`, headers: { range: 'bytes=10-19' } },
      { path: `/ipfs/${cid}`, headers: { 'if-none-match': `"${cid}"` } },
      { path: `/ipfs/${cid}`, method: 'OPTIONS' },
      { path: `/runs/${runId}/master.m3u8`, method: 'POST' },
      { path: '/nothing/here' },
      { path: '/runs' },
    ];
    for (const { path, method = 'GET', headers = {} } of cases) {
      const label = `${method} ${path}`;
      const h2 = await client.request(path, { ':method': method, ...headers });
      const h1 = await http1(server.url + path, certificate.ca, method, headers);
      assert.equal(h1.version, '1.1', `${label}: HTTP/1.1 for a client without h2 in ALPN`);
      assert.equal(h2.status, h1.status, `${label}: same status`);
      for (const name of CONNECTION_SPECIFIC_HEADERS) assert.equal(h2.headers[name], undefined, `${label}: no ${name} over HTTP/2`);
      for (const name of ['content-type', 'content-length', 'cache-control', 'etag', 'content-range', 'access-control-allow-origin', 'content-encoding', 'vary', 'allow']) {
        assert.equal(h2.headers[name], h1.headers[name], `${label}: ${name}`);
      }
      if (method === 'HEAD') assert.equal(h2.rawBytes, 0, `${label}: no body`);
      else if (!/runs$/.test(path)) assert.deepEqual(h2.body, h1.headers['content-encoding'] === 'gzip' ? h2.body : h1.body, `${label}: same body`);
    }
    assert.deepEqual(warnings.map((w) => `${w.name}: ${w.message}`), [], 'Node dropped no header it may not send over HTTP/2');
  });

  test('a client that resets a stream while a part streams, or while a reload is held, is not a server failure', async () => {
    // 4 MB: far past the 64 KiB flow-control window, so the server is mid-answer when the stream is reset.
    await part(0, 3, 4 * 1024 * 1024);
    const downloading = client.open(`/runs/${runId}/quality/720p/part/0.3.ts`);
    await downloading.response;
    const held = client.open(playlistPath('?_HLS_msn=1&_HLS_part=0'));
    // Streams are served in order on the connection: the held one is open at the server once this is answered.
    assert.equal((await client.request('/healthz')).status, 200);
    const counted = (route: string) => requestCount(server, route);
    const before = [await counted('/runs/:id/quality/:name/part/:file'), await counted('/runs/:id/quality/:name/playlist.m3u8')];
    downloading.cancel();
    held.cancel();
    await assert.rejects(downloading.answer);
    await assert.rejects(held.answer);
    // The server sees both streams close (its handlers end) and logs no failure; the connection keeps working.
    await waitFor('both reset streams counted', async () =>
      (await counted('/runs/:id/quality/:name/part/:file')) > before[0]! && (await counted('/runs/:id/quality/:name/playlist.m3u8')) > before[1]!);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(logger.errors, []);
    assert.equal((await client.request('/healthz')).status, 200);
  });

  test('a certificate and key that do not match, or no key, are refused with an error naming tls', async () => {
    const other = makeTestCertificate();
    try {
      await assert.rejects(startServer({ registry, store, port: 0, tls: { cert: certificate.cert, key: other.key } }), /Expected PEM certificate and its private key for tls/);
      await assert.rejects(startServer({ registry, store, port: 0, tls: { cert: certificate.cert, key: '' } }), /for tls\.key/);
    } finally {
      other.remove();
    }
  });
});
