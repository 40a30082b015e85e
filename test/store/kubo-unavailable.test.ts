// A Kubo that is not there, or goes away and comes back, gives StoreUnavailableError
// quickly, and the same store works again once the daemon is back.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { KuboStore, StoreUnavailableError, type ContentStore } from '../../src/store/index.js';
import { startKubo, type KuboHandle } from '../support/kubo.js';
import { pseudoRandomBytes } from './pseudo-random-bytes.js';

// KuboStore loads kubo-rpc-client on first use; "at once" below bounds the wait for
// the daemon, not that one-time module load (seconds on a loaded machine).
await import('kubo-rpc-client');

const SOME_CID = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku';

/** A 127.0.0.1 port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 0;
}

async function drain(source: AsyncIterable<Uint8Array>): Promise<void> {
  for await (const _ of source) { /* read all */ }
}

const operations: Array<[string, (store: ContentStore) => Promise<unknown>]> = [
  ['add', (store) => store.add(pseudoRandomBytes(1000, 1))],
  ['cat', (store) => store.cat(SOME_CID)],
  ['catStream', (store) => drain(store.catStream(SOME_CID, { start: 0, end: 9 }))],
  ['size', (store) => store.size(SOME_CID)],
  ['has', (store) => store.has(SOME_CID)],
];

describe('KuboStore without a daemon', () => {
  for (const [name, run] of operations) {
    test(`${name} on a closed port -> StoreUnavailableError naming the URL, at once`, async () => {
      const url = `http://127.0.0.1:${await closedPort()}`;
      const store = new KuboStore({ url });
      const started = performance.now();
      const error = await run(store).then(() => undefined, (caught: unknown) => caught);
      const elapsed = performance.now() - started;
      assert.ok(error instanceof StoreUnavailableError, `got ${String(error)}`);
      assert.equal(error.store, 'kubo');
      assert.equal(error.location, url);
      assert.match(error.message, new RegExp(`^Kubo RPC not reachable at ${url}: .*ECONNREFUSED`));
      assert.ok(error.fix.length > 0);
      assert.ok(elapsed < 2000, `took ${elapsed} ms`);
    });
  }

  test('a daemon that accepts but never answers -> StoreUnavailableError after timeoutMs', async () => {
    const sockets = new Set<import('node:net').Socket>();
    const silent: Server = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    try {
      const store = new KuboStore({ url, timeoutMs: 300 });
      for (const [name, run] of operations) {
        const started = performance.now();
        await assert.rejects(run(store), (error: unknown) => {
          assert.ok(error instanceof StoreUnavailableError, `${name}: got ${String(error)}`);
          assert.equal(error.message, `Kubo RPC not reachable at ${url}: no answer within 300 ms`);
          return true;
        });
        const elapsed = performance.now() - started;
        assert.ok(elapsed >= 250 && elapsed < 2000, `${name} took ${elapsed} ms`);
      }
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});

describe('KuboStore across a daemon restart', () => {
  let kubo: KuboHandle;
  before(async () => {
    kubo = await startKubo();
  });
  after(async () => kubo?.stop());

  test('fails while the daemon is down, works on the same store once it is back', async () => {
    const store = new KuboStore({ url: kubo.apiUrl, timeoutMs: 5000 });
    const before = pseudoRandomBytes(4096, 2);
    const cid = await store.add(before);

    await kubo.stopDaemon('SIGKILL');
    await assert.rejects(store.add(pseudoRandomBytes(4096, 3)), StoreUnavailableError);
    await assert.rejects(store.cat(cid), StoreUnavailableError);

    await kubo.startDaemon();
    assert.ok(Buffer.from(await store.cat(cid)).equals(Buffer.from(before)), 'content kept across the restart');
    const after = pseudoRandomBytes(4096, 4);
    assert.ok(Buffer.from(await store.cat(await store.add(after))).equals(Buffer.from(after)));
  });
});
