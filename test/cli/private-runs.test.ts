// The private-run commands and flags as a user runs them: `abrcast token` signs
// what the servers accept (and refuses without the secret), --encrypt asks for the
// secret before anything starts, and `abrcast rewrap-keys` moves every key of the
// registry to a new secret without changing the key.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { newContentKey, unwrapRunKey, wrappingSecretId, wrapRunKey } from '../../src/crypto/key-wrap.js';
import { checkPlaybackToken, scopeAllows } from '../../src/crypto/playback-token.js';
import { serverSecrets } from '../../src/crypto/server-secret.js';
import { openRegistry } from '../../src/registry/open-registry.js';
import { cliEnv, makeTempDir, runCli } from './cli-process.js';

const SECRET = 'cli test server secret: thirty-two characters at least';
const OLD = 'the secret being retired, also thirty-two characters';

describe('private runs on the command line', () => {
  let temp: { path: string; remove(): Promise<void> };
  before(async () => {
    temp = await makeTempDir('abrcast-cli-private-');
  });
  after(async () => {
    await temp?.remove();
  });
  const env = (extra: Record<string, string> = {}) => {
    const base = cliEnv(temp.path, extra);
    for (const name of ['ABRCAST_KEY_SECRET', 'ABRCAST_KEY_SECRET_PREVIOUS', 'ABRCAST_ADMIN_TOKEN']) if (!(name in extra)) delete base[name];
    return base;
  };

  test('abrcast token signs a token the servers accept, for its scope, lifetime and address', async () => {
    const result = await runCli(['--json', 'token', 'run', 'rabc234def567', '--ttl', '1h', '--server', 'http://127.0.0.1:8787'], env({ ABRCAST_KEY_SECRET: SECRET }));
    assert.equal(result.code, 0, result.stderr);
    const event = JSON.parse(result.stdout.trim()) as { token: string; expiresAt: string; watchUrl: string; masterUrl: string };
    const check = checkPlaybackToken(event.token, { secrets: serverSecrets(SECRET).all });
    assert.ok(check.ok && scopeAllows(check.scope, { id: 'rabc234def567' }));
    assert.ok(Math.abs(new Date(event.expiresAt).getTime() - Date.now() - 3600_000) < 60_000);
    assert.equal(event.watchUrl, `http://127.0.0.1:8787/runs/rabc234def567/watch?token=${event.token}`);
    assert.equal(event.masterUrl, `http://127.0.0.1:8787/runs/rabc234def567/master.m3u8?token=${event.token}`);

    const bound = await runCli(['token', 'channel', 'news', '--ttl', '7d', '--ip', '203.0.113.7', '--quiet'], env({ ABRCAST_KEY_SECRET: SECRET }));
    assert.equal(bound.code, 0, bound.stderr);
    const token = bound.stdout.trim();
    assert.equal(checkPlaybackToken(token, { secrets: serverSecrets(SECRET).all, address: '203.0.113.7' }).ok, true);
    assert.equal(checkPlaybackToken(token, { secrets: serverSecrets(SECRET).all, address: '203.0.113.8' }).ok, false);
  });

  test('without the secret, or with bad arguments, token and --encrypt stop with a usage error and a fix', async () => {
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['token', 'run', 'rabc234def567'], {}, /ABRCAST_KEY_SECRET is not set[\s\S]*fix: Set ABRCAST_KEY_SECRET/],
      [['token', 'run', 'rabc234def567'], { ABRCAST_KEY_SECRET: 'too short' }, /at least 32 characters/],
      [['token', 'film', 'x'], { ABRCAST_KEY_SECRET: SECRET }, /Allowed choices are run, channel/],
      [['token', 'run', 'Not An Id'], { ABRCAST_KEY_SECRET: SECRET }, /run id/],
      [['token', 'run', 'r1', '--ttl', '2 fortnights'], { ABRCAST_KEY_SECRET: SECRET }, /--ttl/],
      [['token', 'run', 'r1', '--ip', 'nowhere'], { ABRCAST_KEY_SECRET: SECRET }, /--ip/],
      [['demo', '--encrypt', '--data-dir', join(temp.path, 'unused')], {}, /--encrypt needs the server secret/],
      [['demo', '--key-rotation', '3'], {}, /--key-rotation is for a private run[\s\S]*Add --encrypt/],
      [['demo', '--encrypt', '--key-url', '/keys/{key}'], { ABRCAST_KEY_SECRET: SECRET }, /--key-url/],
      [['serve', '--admin-host', '10.0.0.1'], {}, /--admin-host needs --admin-port/],
      [['serve', '--admin-token', 'short'], {}, /at least 16 characters/],
    ];
    for (const [args, extra, expected] of cases) {
      const result = await runCli(args, env(extra));
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, expected, args.join(' '));
      assert.ok(!result.stderr.includes('too short') && !result.stderr.includes(SECRET) && !result.stderr.includes('short\n'), 'no secret echoed');
    }
  });

  test('abrcast rewrap-keys moves every key to the current secret; the key stays the same', { timeout: 120_000 }, async () => {
    const dataDir = join(temp.path, 'data');
    const registry = await openRegistry({ databaseUrl: '', dataDir: join(dataDir, 'db') });
    const keys = [newContentKey(), newContentKey()];
    try {
      const { id: runId } = await registry.createRun({ width: 64, height: 64, fps: 10, segmentDuration: 1, encryption: 'aes-128' });
      for (const [index, key] of keys.entries()) await registry.putRunKey(runId, index, wrapRunKey(key, serverSecrets(OLD), { runId, index }));
    } finally {
      await registry.close();
    }
    const rotate = () => runCli(['--json', 'rewrap-keys', '--data-dir', dataDir], env({ ABRCAST_KEY_SECRET: SECRET, ABRCAST_KEY_SECRET_PREVIOUS: OLD }), 90_000);
    const first = await rotate();
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(JSON.parse(first.stdout.trim().split('\n').at(-1)!), { event: 'end', time: JSON.parse(first.stdout.trim().split('\n').at(-1)!).time, rewrapped: 2, current: 0, changed: 0 });
    const second = await rotate();
    assert.equal(JSON.parse(second.stdout.trim().split('\n').at(-1)!).current, 2, 'nothing left to re-wrap');

    const reopened = await openRegistry({ databaseUrl: '', dataDir: join(dataDir, 'db') });
    try {
      const [{ id: runId }] = await reopened.listRuns();
      for (const [index, key] of keys.entries()) {
        const wrapped = (await reopened.getRunKey(runId, index))!;
        assert.equal(wrappingSecretId(wrapped), serverSecrets(SECRET).current.id);
        assert.deepEqual(unwrapRunKey(wrapped, serverSecrets(SECRET), { runId, index }), key, 'the new secret alone opens it, to the same key');
      }
    } finally {
      await reopened.close();
    }
  });
});
