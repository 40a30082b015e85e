// /healthz is what a load balancer takes an instance out of rotation by: it
// must fail while the instance's store (its Kubo peer) is down, not only when
// the registry is, and recover when the peer is back.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { openRegistry } from '../../src/registry/open-registry.js';
import type { RunRegistry } from '../../src/registry/run-registry.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { KuboStore } from '../../src/store/kubo-store.js';
import { startKubo, type KuboHandle } from '../support/kubo.js';

describe('/healthz with a Kubo store', () => {
  let dir: string;
  let kubo: KuboHandle;
  let registry: RunRegistry;
  let server: RunningServer;
  const silent = { error() {}, warn() {}, info() {}, debug() {} };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'abrcast-health-'));
    kubo = await startKubo();
    registry = await openRegistry({ databaseUrl: '', dataDir: join(dir, 'db') });
    server = await startServer({ registry, store: new KuboStore({ url: kubo.apiUrl, timeoutMs: 2000 }), port: 0, logger: silent });
  });
  after(async () => {
    await server?.close();
    await registry?.close();
    await kubo?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const health = async () => {
    const response = await fetch(`${server.url}/healthz`);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  test('ok while the peer answers, 503 "store unavailable" while it is down, ok again after', async () => {
    assert.deepEqual(await health(), { status: 200, body: { status: 'ok', registry: 'pglite', store: 'kubo' } });
    await kubo.stopDaemon('SIGKILL');
    assert.deepEqual(await health(), { status: 503, body: { status: 'unavailable', error: 'store unavailable' } });
    await kubo.startDaemon();
    assert.equal((await health()).status, 200);
  });
});
