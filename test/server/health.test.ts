// /healthz is what a load balancer takes an instance out of rotation by: it
// must fail while the instance's store (its Kubo peer) is down, not only when
// the registry is, and recover when the peer is back. Also on Kubo: a block's
// hash re-labelled as dag-pb (or CIDv0) on the gateway is 404, never 500.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CID } from 'multiformats/cid';

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
  let store: KuboStore;
  const silent = { error() {}, warn() {}, info() {}, debug() {} };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'abrcast-health-'));
    kubo = await startKubo();
    registry = await openRegistry({ databaseUrl: '', dataDir: join(dir, 'db') });
    store = new KuboStore({ url: kubo.apiUrl, timeoutMs: 2000 });
    server = await startServer({ registry, store, port: 0, logger: silent });
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

  test('a raw block re-labelled as dag-pb or CIDv0 is 404 (Kubo cannot read it as a file), never 500', async () => {
    const { multihash } = CID.parse(await store.add(Buffer.from('G'.repeat(5000))));
    for (const cid of [CID.createV1(0x70, multihash).toString(), CID.createV0(multihash as never).toString()]) {
      const response = await fetch(`${server.url}/ipfs/${cid}`);
      assert.equal(response.status, 404, cid);
      assert.match((await response.json()).error, /names no file/);
    }
  });

  test('ok while the peer answers, 503 "store unavailable" while it is down, ok again after', async () => {
    assert.deepEqual(await health(), { status: 200, body: { status: 'ok', registry: 'pglite', store: 'kubo' } });
    await kubo.stopDaemon('SIGKILL');
    assert.deepEqual(await health(), { status: 503, body: { status: 'unavailable', error: 'store unavailable' } });
    await kubo.startDaemon();
    assert.equal((await health()).status, 200);
  });
});
