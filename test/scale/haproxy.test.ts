// deploy/haproxy.cfg as the tests start it (test/support/haproxy.ts): round
// robin per request (no sticky sessions), /healthz checks, and a request that
// lands on an instance that just died is answered by another one; its TLS bind
// (ALPN h2,http/1.1) in front of two abrcast servers: many held LL-HLS requests
// on one HTTP/2 connection, spread over both servers, all answered.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { openRegistry } from '../../src/registry/open-registry.js';
import type { RunRegistry } from '../../src/registry/run-registry.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { HeliaStore } from '../../src/store/helia-store.js';
import { startHaproxy, type HaproxyHandle } from '../support/haproxy.js';
import { connectHttp2, CONNECTION_SPECIFIC_HEADERS, type Http2Client } from '../support/http2-client.js';
import { makeTestCertificate, type TestCertificate } from '../support/tls-certificate.js';

/** The next /die request, on whichever instance, is closed without an answer. */
const dieNext = { value: false };

function backend(name: string, health: { ok: boolean }): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(health.ok ? 200 : 503).end();
      return;
    }
    if (req.url === '/die' && dieNext.value) {
      dieNext.value = false;
      // Gone before answering: what HAProxy sees of a killed instance mid-request.
      req.socket.destroy();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end(name);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const address = (server: Server) => `127.0.0.1:${(server.address() as AddressInfo).port}`;

describe('HAProxy in front of serve instances', () => {
  const health = [{ ok: true }, { ok: true }];
  let servers: Server[];
  let haproxy: HaproxyHandle;

  before(async () => {
    servers = await Promise.all([backend('a', health[0]), backend('b', health[1])]);
    haproxy = await startHaproxy(servers.map(address));
    await haproxy.waitForServers('UP');
  });
  after(async () => {
    await haproxy?.stop();
    for (const server of servers ?? []) server.closeAllConnections(), server.close();
  });

  test('requests alternate between the instances, on one keep-alive connection too', async () => {
    const answers: string[] = [];
    for (let i = 0; i < 8; i++) answers.push(await (await fetch(`${haproxy.url}/x`)).text());
    assert.equal(answers.filter((name) => name === 'a').length, 4, answers.join(''));
    assert.equal(answers.filter((name) => name === 'b').length, 4, answers.join(''));
  });

  test('a failing /healthz takes an instance out; it comes back when healthy', async () => {
    health[1].ok = false;
    await haproxy.waitForServers('DOWN', ['serve2']);
    for (let i = 0; i < 4; i++) assert.equal(await (await fetch(`${haproxy.url}/x`)).text(), 'a');
    health[1].ok = true;
    await haproxy.waitForServers('UP', ['serve2']);
  });

  test('an instance that closes without answering: the request is retried on another, the client sees 200', async () => {
    dieNext.value = true;
    const response = await fetch(`${haproxy.url}/die`);
    assert.equal(response.status, 200);
    assert.ok(['a', 'b'].includes(await response.text()));
    assert.equal(dieNext.value, false, 'the first attempt reached an instance that closed');
    const stat = await haproxy.admin('show stat');
    const columns = stat.replace(/^# /, '').split('\n')[0].split(',');
    const retries = columns.indexOf('wretr');
    const backendRow = stat.split('\n').find((row) => row.startsWith('abrcast_serve,BACKEND'))!;
    assert.ok(Number(backendRow.split(',')[retries]) >= 1, `retries counted: ${backendRow}`);
  });

  test('a stopped instance is skipped at once: no client error while the checks catch up', async () => {
    const [, second] = servers;
    second.closeAllConnections();
    await new Promise<void>((resolve) => second.close(() => resolve()));
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const response = await fetch(`${haproxy.url}/x`);
      statuses.push(response.status);
      await response.arrayBuffer();
    }
    assert.deepEqual(statuses, Array(10).fill(200));
    await haproxy.waitForServers('DOWN', ['serve2']);
  });
});

describe('HAProxy terminating TLS with ALPN h2 in front of abrcast servers', () => {
  const FPS = 30;
  const PART_S = 10 / FPS;
  let dir: string;
  let certificate: TestCertificate;
  let store: HeliaStore;
  let registry: RunRegistry;
  let servers: RunningServer[];
  let haproxy: HaproxyHandle;
  let client: Http2Client;
  let runId: string;

  const part = async (segmentIndex: number, partIndex: number): Promise<Buffer> => {
    const data = Buffer.from(`720p part ${segmentIndex}.${partIndex} `.repeat(40));
    const cid = await store.add(data);
    await registry.recordPart(runId, { rendition: '720p', segmentIndex, partIndex, cid, duration: PART_S, independent: partIndex === 0, bytes: data.length });
    return data;
  };
  /** Requests each server counted (abrcast_http_requests_total, every route). */
  const served = async () => Promise.all(servers.map(async (server) => {
    const { values } = await server.metrics.registry.getSingleMetric('abrcast_http_requests_total')!.get();
    return values.filter((value) => value.labels.route !== '/healthz').reduce((sum, value) => sum + value.value, 0);
  }));

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'abrcast-haproxy-h2-'));
    certificate = makeTestCertificate();
    store = new HeliaStore({ dir: join(dir, 'ipfs') });
    registry = await openRegistry({ databaseUrl: '', dataDir: join(dir, 'db') });
    runId = (await registry.createRun({ width: 640, height: 360, fps: FPS, segmentDuration: 2, startedAt: new Date(0) })).id;
    await registry.setPartTarget(runId, PART_S);
    // Plain HTTP/1.1 instances, as behind HAProxy in deploy/haproxy.cfg.
    servers = await Promise.all([0, 1].map(() => startServer({ registry, store, port: 0 })));
    haproxy = await startHaproxy(servers.map((server) => server.url.replace('http://', '')), { tlsPem: certificate.pemPath });
    await haproxy.waitForServers('UP');
    client = await connectHttp2(haproxy.url, certificate.ca);
  });
  after(async () => {
    await client?.close();
    await haproxy?.stop();
    for (const server of servers ?? []) await server.close();
    await store?.close();
    await registry?.close();
    certificate?.remove();
    await rm(dir, { recursive: true, force: true });
  });

  test('ALPN picks h2; held blocking reloads and preload-hinted parts share the connection, reach both servers and are all answered', { timeout: 60_000 }, async () => {
    assert.match(haproxy.url, /^https:/);
    assert.equal(client.protocol, 'h2');
    assert.equal((await client.remoteSettings).maxConcurrentStreams, 256, 'tune.h2.max-concurrent-streams');
    await part(0, 0);
    await part(0, 1);
    const path = `/runs/${runId}/quality/720p/playlist.m3u8?_HLS_msn=0&_HLS_part=2`;
    const before = await served();
    const reloads = Array.from({ length: 16 }, () => client.open(path, { 'accept-encoding': 'gzip' }));
    const hinted = Array.from({ length: 4 }, () => client.open(`/runs/${runId}/quality/720p/part/0.2.ts`));
    let settled = 0;
    for (const held of [...reloads, ...hinted]) held.answer.then(() => settled++, () => settled++);
    // The connection answers other requests meanwhile, and every held one has reached a server.
    assert.equal((await client.request(`/runs/${runId}/quality/720p/part/0.1.ts`)).status, 200);
    // Each server counts a request when it is answered: 20 held ones are not counted yet.
    assert.equal(settled, 0, 'all 20 held while part 0.2 does not exist');
    const data = await part(0, 2);
    for (const answer of await Promise.all(reloads.map((held) => held.answer))) {
      assert.equal(answer.status, 200);
      assert.equal(answer.headers['content-encoding'], 'gzip');
      assert.match(answer.body.toString(), /#EXT-X-PART:DURATION=[\d.]+,URI="part\/0\.2\.ts"/);
      for (const name of CONNECTION_SPECIFIC_HEADERS) assert.equal(answer.headers[name], undefined, `no ${name} over HTTP/2`);
    }
    for (const answer of await Promise.all(hinted.map((held) => held.answer))) assert.deepEqual(answer.body, data);
    const after = await served();
    assert.ok(after.every((count, i) => count - before[i]! >= 5), `requests on each server: ${after.map((count, i) => count - before[i]!).join(', ')} (round robin)`);
  });

  test('a client without h2 gets HTTP/1.1 over the same TLS bind', async () => {
    // On a loaded machine the burst above can slow /healthz past the check interval (both servers share one event loop here).
    await haproxy.waitForServers('UP');
    const answer = await new Promise<{ status: number; version: string }>((resolve, reject) => {
      httpsRequest(`${haproxy.url}/healthz`, { ca: certificate.ca, agent: false }, (res) => {
        res.resume();
        res.once('end', () => resolve({ status: res.statusCode!, version: res.httpVersion }));
      }).once('error', reject).end();
    });
    assert.deepEqual(answer, { status: 200, version: '1.1' });
  });
});
