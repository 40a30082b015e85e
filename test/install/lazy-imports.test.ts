// `import('abrcast')` for the encoder alone loads no database, IPFS or canvas code:
// those packages load when a store, a registry or the demo is first used.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadedPackages, packageOf } from '../support/loaded-packages.js';

/** Packages that only a store, a registry, the server or the demo needs. */
const ON_USE_ONLY = /^(pg|pg-.*|@electric-sql\/pglite|kubo-rpc-client|helia|@helia\/.*|libp2p|@libp2p\/.*|@chainsafe\/.*|blockstore-.*|datastore-.*|ipfs-unixfs.*|@napi-rs\/canvas|prom-client|pino)$/;

describe('lazy loading of optional parts', () => {
  test('packageOf names the innermost package of a path', () => {
    assert.equal(packageOf('file:///r/node_modules/pg/lib/index.js'), 'pg');
    assert.equal(packageOf('file:///r/node_modules/@helia/unixfs/dist/src/index.js'), '@helia/unixfs');
    assert.equal(packageOf('/r/node_modules/a/node_modules/@libp2p/tcp/dist/index.js'), '@libp2p/tcp');
    assert.equal(packageOf('file:///r/src/index.ts'), undefined);
  });

  test('importing abrcast and making a LadderEncoder ladder loads none of them', async () => {
    const loaded = await loadedPackages(`
      const abrcast = await import(src + 'index.ts');
      if (typeof abrcast.LadderEncoder !== 'function') throw new Error('no LadderEncoder');
      abrcast.defaultLadder(1280, 720);
    `);
    assert.deepEqual(loaded.filter((name) => ON_USE_ONLY.test(name)), []);
  });

  test('they do load once used (the check sees lazily loaded modules)', async () => {
    const loaded = await loadedPackages(`
      const { mkdtempSync, rmSync } = await import('node:fs');
      const { join } = await import('node:path');
      const { tmpdir } = await import('node:os');
      const abrcast = await import(src + 'index.ts');
      const dir = mkdtempSync(join(tmpdir(), 'abrcast-lazy-'));
      try {
        const store = new abrcast.HeliaStore({ dir: join(dir, 'ipfs') });
        await store.add(new Uint8Array([1, 2, 3]));
        await store.close();
        const registry = await abrcast.openRegistry({ databaseUrl: '', dataDir: join(dir, 'db') });
        await registry.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    `);
    for (const name of ['@helia/unixfs', 'blockstore-fs', '@electric-sql/pglite']) assert.ok(loaded.includes(name), `${name} in ${loaded.join(', ')}`);
    assert.ok(!loaded.includes('pg'), 'pg loads only for a PostgreSQL URL');
    assert.ok(!loaded.includes('libp2p'), 'libp2p loads only for an online store');
  });
});
