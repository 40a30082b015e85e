// The admin routes (/runs, the home page's run list, /metrics) by policy: open on
// a loopback listener (the default 127.0.0.1), closed (403) on any other address
// unless the server has an admin token (Bearer, 401 without, 403 wrong) or an
// admin listener of their own (then nowhere else). Everything else is unchanged.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { openRegistry } from '../../src/registry/open-registry.js';
import type { RunRegistry } from '../../src/registry/run-registry.js';
import { createServerLogger, startServer, type RunningServer, type ServerOptions } from '../../src/server/index.js';
import { isLoopbackHost } from '../../src/server/admin-access.js';
import { HeliaStore } from '../../src/store/helia-store.js';

const ADMIN = ['/runs', '/metrics', '/'];
const TOKEN = 'admin-token-for-the-test-0123456789';

describe('admin routes', () => {
  let dir: string;
  let store: HeliaStore;
  let registry: RunRegistry;
  const servers: RunningServer[] = [];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'abrcast-admin-'));
    store = new HeliaStore({ dir: join(dir, 'ipfs') });
    registry = await openRegistry({ databaseUrl: '', dataDir: join(dir, 'db') });
    await registry.createRun({ id: 'rpublic', width: 640, height: 360, fps: 30, segmentDuration: 1 });
  });
  after(async () => {
    for (const server of servers) await server.close();
    await store?.close();
    await registry?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function serve(options: Partial<ServerOptions> = {}): Promise<RunningServer> {
    const server = await startServer({ registry, store, port: 0, logger: createServerLogger('silent'), ...options });
    servers.push(server);
    return server;
  }
  /** Status of `path` on `server`, asked on loopback whatever the address it listens on. */
  async function status(server: { url: string } | RunningServer, path: string, headers: Record<string, string> = {}): Promise<number> {
    const port = new URL(server.url).port;
    const answer = await fetch(`http://127.0.0.1:${port}${path}`, { headers });
    await answer.arrayBuffer();
    return answer.status;
  }

  test('on the default loopback address they are served as before', async () => {
    const server = await serve();
    for (const path of ADMIN) assert.equal(await status(server, path), 200, path);
  });

  test('on 0.0.0.0 without a token or an admin port they answer 403; the rest is served; the start-up log says why', async () => {
    const warnings: string[] = [];
    const server = await serve({ host: '0.0.0.0', logger: createServerLogger('warn', { write: (line: string) => void warnings.push(line) }) });
    for (const path of ADMIN) assert.equal(await status(server, path), 403, path);
    assert.equal(await status(server, '/runs/rpublic'), 200, 'a public run\'s status stays open');
    assert.equal(await status(server, '/healthz'), 200);
    assert.ok(warnings.some((line) => /admin routes/.test(line)), warnings.join(''));
  });

  test('with an admin token: 401 without it, 403 with a wrong one, 200 with it, on any address', async () => {
    const server = await serve({ host: '0.0.0.0', adminToken: TOKEN });
    for (const path of ADMIN) {
      assert.equal(await status(server, path), 401, path);
      assert.equal(await status(server, path, { authorization: `Bearer ${TOKEN}x` }), 403, path);
      assert.equal(await status(server, path, { authorization: `Bearer ${TOKEN}` }), 200, path);
    }
    assert.equal(await status(server, '/runs/rpublic'), 200, 'no token needed for a public run');
  });

  test('with an admin port: served there only, and the playlists not there', async () => {
    const server = await serve({ host: '0.0.0.0', adminPort: 0 });
    assert.ok(server.adminUrl);
    for (const path of ADMIN) {
      assert.equal(await status(server, path), 404, `${path} on the main listener`);
      assert.equal(await status({ url: server.adminUrl! }, path), 200, `${path} on the admin listener`);
    }
    assert.equal(await status({ url: server.adminUrl! }, '/runs/rpublic/master.m3u8'), 404);
    const guarded = await serve({ adminPort: 0, adminToken: TOKEN });
    assert.equal(await status({ url: guarded.adminUrl! }, '/runs'), 401);
    assert.equal(await status({ url: guarded.adminUrl! }, '/runs', { authorization: `Bearer ${TOKEN}` }), 200);
  });

  test('a short admin token is refused without being echoed; loopback addresses are recognised', async () => {
    await assert.rejects(serve({ adminToken: 'hunter2' }), (error: Error) => !error.message.includes('hunter2') && /adminToken/.test(error.message));
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) assert.equal(isLoopbackHost(host), true, host);
    for (const host of ['0.0.0.0', '::', '10.0.0.5', 'example.com']) assert.equal(isLoopbackHost(host), false, host);
  });
});
