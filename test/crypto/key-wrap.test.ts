// Content keys at rest: AES-256-GCM under the server secret, bound to their run
// and index. A wrapped key opens only for its slot, only under the secret that
// made it (or the previous one of a rotation), and never contains the key.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { KeyUnwrapError, newContentKey, unwrapRunKey, wrappingSecretId, wrapRunKey } from '../../src/crypto/key-wrap.js';
import { secretsFromEnvironment, serverSecrets } from '../../src/crypto/server-secret.js';

const SECRET = 'key wrap test secret: thirty-two characters or more';
const NEXT = 'the next key wrap secret after a rotation, also long';

describe('run key wrapping', () => {
  test('a wrapped key unwraps to the key for its slot only', () => {
    const secrets = serverSecrets(SECRET);
    const key = newContentKey();
    const wrapped = wrapRunKey(key, secrets, { runId: 'r1', index: 2 });
    assert.match(wrapped, /^v1\.[0-9a-f]{16}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}$/);
    assert.ok(!wrapped.includes(key.toString('hex')) && !wrapped.includes(key.toString('base64url')));
    assert.deepEqual(unwrapRunKey(wrapped, secrets, { runId: 'r1', index: 2 }), key);
    assert.notEqual(wrapRunKey(key, secrets, { runId: 'r1', index: 2 }), wrapped, 'a fresh nonce each time');
    assert.throws(() => unwrapRunKey(wrapped, secrets, { runId: 'r1', index: 3 }), KeyUnwrapError);
    assert.throws(() => unwrapRunKey(wrapped, secrets, { runId: 'r2', index: 2 }), KeyUnwrapError);
    const altered = wrapped.slice(0, -2) + (wrapped.at(-2) === 'A' ? 'B' : 'A') + wrapped.at(-1);
    assert.throws(() => unwrapRunKey(altered, secrets, { runId: 'r1', index: 2 }), KeyUnwrapError);
    assert.throws(() => unwrapRunKey('not a wrapped key', secrets, { runId: 'r1', index: 2 }), KeyUnwrapError);
  });

  test('rotation: the previous secret still unwraps; the message names the secret id, never a secret', () => {
    const key = newContentKey();
    const wrapped = wrapRunKey(key, serverSecrets(SECRET), { runId: 'r1', index: 0 });
    assert.throws(() => unwrapRunKey(wrapped, serverSecrets(NEXT), { runId: 'r1', index: 0 }), (error: Error) =>
      error instanceof KeyUnwrapError && error.message.includes(wrappingSecretId(wrapped)!) && !error.message.includes(SECRET));
    const rotating = serverSecrets(NEXT, SECRET);
    assert.deepEqual(unwrapRunKey(wrapped, rotating, { runId: 'r1', index: 0 }), key);
    assert.equal(wrappingSecretId(wrapRunKey(key, rotating, { runId: 'r1', index: 0 })), rotating.current.id, 'new keys under the current secret');
  });

  test('the secret comes from the environment, at least 32 characters; a short one is refused without being echoed', () => {
    assert.equal(secretsFromEnvironment({}), undefined);
    assert.equal(secretsFromEnvironment({ ABRCAST_KEY_SECRET: '' }), undefined);
    const both = secretsFromEnvironment({ ABRCAST_KEY_SECRET: SECRET, ABRCAST_KEY_SECRET_PREVIOUS: NEXT })!;
    assert.equal(both.all.length, 2);
    assert.throws(() => secretsFromEnvironment({ ABRCAST_KEY_SECRET: 'hunter2' }), (error: Error) =>
      /ABRCAST_KEY_SECRET/.test(error.message) && !error.message.includes('hunter2'));
  });
});
