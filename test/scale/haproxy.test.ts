// deploy/haproxy.cfg as the tests start it (test/support/haproxy.ts): round
// robin per request (no sticky sessions), /healthz checks, and a request that
// lands on an instance that just died is answered by another one.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startHaproxy, type HaproxyHandle } from '../support/haproxy.js';

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
