// Playback tokens: HMAC-SHA256 over expiry, scope and (optionally) address. Any
// change to any part, an expired token, another scope or address, or a secret the
// server does not hold is refused; the previous secret of a rotation still verifies.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';

import { checkPlaybackToken, parseTtl, scopeAllows, signPlaybackToken } from '../../src/crypto/playback-token.js';
import { serverSecrets } from '../../src/crypto/server-secret.js';

const SECRET = 'a playback token test secret, long enough: 0123456789';
const OTHER = 'another secret entirely, also long enough 9876543210';
const NOW = new Date('2026-12-01T12:00:00Z');
const secrets = serverSecrets(SECRET);

const check = (token: string, extra: { address?: string; now?: Date; secrets?: typeof secrets.all } = {}) =>
  checkPlaybackToken(token, { secrets: extra.secrets ?? secrets.all, address: extra.address, now: extra.now ?? NOW });

describe('playback tokens', () => {
  test('a token verifies until it expires, for its own scope only', () => {
    const token = signPlaybackToken({ scope: { run: 'rabc234def567' }, ttl: '1h', now: NOW }, SECRET);
    assert.match(token, /^1\.\d+\.r\.rabc234def567\.0\.[A-Za-z0-9_-]{43}$/);
    const ok = check(token);
    assert.equal(ok.ok, true);
    assert.ok(ok.ok && scopeAllows(ok.scope, { id: 'rabc234def567' }));
    assert.ok(ok.ok && !scopeAllows(ok.scope, { id: 'rother' }), 'another run is out of scope');
    assert.ok(ok.ok && ok.expiresAt.getTime() === NOW.getTime() + 3600_000);
    assert.deepEqual(check(token, { now: new Date(NOW.getTime() + 3600_000) }), { ok: false, reason: 'expired' });
    assert.equal(check(token, { now: new Date(NOW.getTime() + 3599_000) }).ok, true);
  });

  test('the MAC is HMAC-SHA256 (RFC 2104) under the secret\'s token subkey over the documented fields', () => {
    const token = signPlaybackToken({ scope: { channel: 'news' }, ttl: 60, now: NOW }, SECRET);
    const [, expiry, kind, name, bound, mac] = token.split('.');
    const expected = createHmac('sha256', secrets.current.tokenKey).update(`abrcast playback token 1\n${expiry}\n${kind}\n${name}\n`).digest('base64url');
    assert.equal(mac, expected);
    assert.equal(bound, '0');
    const ok = check(token);
    assert.ok(ok.ok && scopeAllows(ok.scope, { id: 'rany', channel: 'news' }) && !scopeAllows(ok.scope, { id: 'rany', channel: 'sport' }));
    assert.ok(ok.ok && !scopeAllows(ok.scope, { id: 'news' }), 'a channel token is not a run token of the same name');
  });

  test('every flipped bit of the token is refused', () => {
    const token = signPlaybackToken({ scope: { run: 'r1' }, ttl: '1d', now: NOW }, SECRET);
    for (let i = 0; i < token.length; i++) {
      for (let bit = 0; bit < 7; bit++) {
        const flipped = token.slice(0, i) + String.fromCharCode(token.charCodeAt(i) ^ (1 << bit)) + token.slice(i + 1);
        const result = check(flipped);
        // A flipped bit may turn one base64url letter into another that decodes to the same bytes only in the last
        // character's unused bits; that token is the same token.
        if (result.ok) assert.equal(Buffer.from(flipped.split('.')[5] ?? '', 'base64url').equals(Buffer.from(token.split('.')[5], 'base64url')), true, flipped);
        else assert.ok(['malformed', 'signature', 'expired', 'address'].includes(result.reason), `${flipped}: ${result.reason}`);
      }
    }
  });

  test('a secret the server does not hold is refused; the previous secret of a rotation still verifies', () => {
    const old = signPlaybackToken({ scope: { run: 'r1' }, ttl: 600, now: NOW }, OTHER);
    assert.deepEqual(check(old), { ok: false, reason: 'signature' });
    const rotating = serverSecrets(SECRET, OTHER);
    assert.equal(check(old, { secrets: rotating.all }).ok, true);
  });

  test('an IP-bound token verifies from that address only (IPv4-mapped IPv6 is the IPv4 address)', () => {
    const token = signPlaybackToken({ scope: { run: 'r1' }, ttl: 600, ip: '203.0.113.7', now: NOW }, SECRET);
    assert.ok(!token.includes('203.0.113.7'), 'the address is not written in the token');
    assert.equal(check(token, { address: '203.0.113.7' }).ok, true);
    assert.equal(check(token, { address: '::ffff:203.0.113.7' }).ok, true);
    assert.deepEqual(check(token, { address: '203.0.113.8' }), { ok: false, reason: 'address' });
    assert.deepEqual(check(token), { ok: false, reason: 'address' });
  });

  test('bad options are named, and the secret is never echoed', () => {
    assert.throws(() => signPlaybackToken({ scope: { run: 'Bad Id' }, ttl: 60 }, SECRET), /scope\.run/);
    assert.throws(() => signPlaybackToken({ scope: {} as never, ttl: 60 }, SECRET), /scope/);
    assert.throws(() => signPlaybackToken({ scope: { run: 'r1' }, ttl: '1 fortnight' }, SECRET), /ttl/);
    assert.throws(() => signPlaybackToken({ scope: { run: 'r1' }, ttl: 60, ip: 'not-an-ip' }, SECRET), /ip/);
    assert.throws(() => signPlaybackToken({ scope: { run: 'r1' }, ttl: 60 }, 'short secret'), (error: Error) => !error.message.includes('short secret'));
    assert.equal(parseTtl('1h'), 3600);
    assert.equal(parseTtl('90s'), 90);
    assert.equal(parseTtl('7d'), 7 * 86400);
    assert.equal(parseTtl(30), 30);
    assert.throws(() => parseTtl('400d'), /ttl/);
    assert.deepEqual(check('garbage'), { ok: false, reason: 'malformed' });
    assert.deepEqual(check(''), { ok: false, reason: 'malformed' });
  });
});
