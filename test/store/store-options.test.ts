// Constructor options are checked with the shared error factory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeliaStore, KuboStore, UNIXFS_V1_2025, validateProfile } from '../../src/store/index.js';

test('KuboStore options', () => {
  assert.equal(new KuboStore().url, 'http://127.0.0.1:5001');
  assert.equal(new KuboStore({ url: 'http://10.0.0.2:5001/api/v0/' }).url, 'http://10.0.0.2:5001');
  assert.throws(() => new KuboStore({ timeoutMs: 0 }), {
    name: 'RangeError',
    message: 'Expected positive number for timeoutMs but received 0',
  });
  assert.throws(() => new KuboStore({ url: 'ftp://x' }), { message: 'Expected http(s) URL string for url but received "ftp://x"' });
  assert.throws(() => new KuboStore({ url: 5001 as unknown as string }), TypeError);
});

test('HeliaStore options', () => {
  assert.throws(() => new HeliaStore({ dir: '' }), { message: 'Expected non-empty string for dir but received ""' });
});

test('profile checks', () => {
  assert.equal(validateProfile(UNIXFS_V1_2025), UNIXFS_V1_2025);
  assert.deepEqual(
    { chunkSize: UNIXFS_V1_2025.chunkSize, maxLinks: UNIXFS_V1_2025.maxLinksPerNode, cid: UNIXFS_V1_2025.cidVersion },
    { chunkSize: 1048576, maxLinks: 1024, cid: 1 },
  );
  assert.throws(() => validateProfile({ ...UNIXFS_V1_2025, chunkSize: 4 * 1024 * 1024 }), {
    name: 'RangeError',
    message: 'Expected integer between 1 and 2097152 for profile.chunkSize but received 4194304',
  });
  assert.throws(() => new KuboStore({ profile: { ...UNIXFS_V1_2025, maxLinksPerNode: 1 } }), RangeError);
  assert.throws(() => new HeliaStore({ profile: { ...UNIXFS_V1_2025, hashAlg: 'blake3' as 'sha2-256' } }), RangeError);
});
