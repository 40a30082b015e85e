// The embedded store keeps what it added across close and reopen of its directory.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeliaStore, StoreUnavailableError, defaultHeliaDir } from '../../src/store/index.js';
import { pseudoRandomBytes } from './pseudo-random-bytes.js';

describe('HeliaStore persistence', () => {
  const root = mkdtempSync(join(tmpdir(), 'abrcast-helia-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  test('content added before close is there after reopening the same dir', async () => {
    const dir = join(root, 'nested', 'ipfs'); // created on first use
    const big = pseudoRandomBytes(2 * 1024 * 1024 + 1, 11);
    const small = pseudoRandomBytes(300, 12);
    const first = new HeliaStore({ dir });
    const bigCid = await first.add(big);
    const smallCid = await first.add(small);
    await first.close();
    await assert.rejects(first.cat(bigCid), /closed/);

    const second = new HeliaStore({ dir });
    try {
      assert.equal(await second.has(bigCid), true);
      assert.equal(await second.has(smallCid), true);
      assert.equal(await second.size(bigCid), big.byteLength);
      assert.ok(Buffer.from(await second.cat(bigCid)).equals(Buffer.from(big)));
      assert.ok(Buffer.from(await second.cat(smallCid)).equals(Buffer.from(small)));
      // Adding the same bytes again is idempotent.
      assert.equal(await second.add(big), bigCid);
    } finally {
      await second.close();
    }

    const elsewhere = new HeliaStore({ dir: join(root, 'other') });
    try {
      assert.equal(await elsewhere.has(bigCid), false, 'a different dir does not share blocks');
    } finally {
      await elsewhere.close();
    }
  });

  test('a directory that cannot be created -> StoreUnavailableError naming it', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'not a directory');
    const dir = join(file, 'ipfs');
    const store = new HeliaStore({ dir });
    await assert.rejects(store.add(new Uint8Array(1)), (error: unknown) => {
      assert.ok(error instanceof StoreUnavailableError, String(error));
      assert.equal(error.store, 'helia');
      assert.equal(error.location, dir);
      assert.ok(error.message.startsWith(`IPFS blockstore not usable at ${dir}: `), error.message);
      return true;
    });
    await store.close();
  });

  test('default dir is ~/.abrcast/ipfs', () => {
    assert.equal(defaultHeliaDir(), join(homedir(), '.abrcast', 'ipfs'));
    assert.equal(new HeliaStore().dir, join(homedir(), '.abrcast', 'ipfs'));
  });
});
