// Settings precedence (flag, then environment, then default) and the checks
// on every flag value, in process: the messages are what the CLI prints.
import assert from 'node:assert/strict';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import type { Command } from 'commander';
import { DEFAULTS, lowLatencyPartDuration, resolveDemoConfig, resolveEncodeConfig, resolveServerConfig, resolveServiceConfig } from '../../src/cli/config.js';
import { CliError, EXIT_CODES, describeError } from '../../src/cli/errors.js';
import { buildProgram } from '../../src/cli/main.js';
import { RegistryUnavailableError } from '../../src/registry/registry-errors.js';
import { StoreUnavailableError } from '../../src/store/content-store.js';
import { makeTestCertificate } from '../support/tls-certificate.js';

const STOP = new Error('parsed');

/**
 * Parses `args` with the CLI's own commander program and `env` as the process
 * environment, and returns the command about to run (its action is not run).
 */
async function parsed(args: string[], env: Record<string, string> = {}): Promise<Command> {
  const names = ['ABRCAST_PORT', 'ABRCAST_HOST', 'ABRCAST_MAX_HELD_REQUESTS', 'ABRCAST_ADMIN_PORT', 'ABRCAST_ADMIN_HOST', 'ABRCAST_ADMIN_TOKEN', 'ABRCAST_TLS_CERT', 'ABRCAST_TLS_KEY', 'ABRCAST_DATA_DIR', 'ABRCAST_STORE', 'DATABASE_URL', 'KUBO_URL', 'ABRCAST_REPLICAS', 'ABRCAST_IPFS_LISTEN', 'ABRCAST_IPFS_ANNOUNCE', 'ABRCAST_IPFS_PEERS', 'ABRCAST_CHANNEL'];
  const saved = new Map(names.map((name) => [name, process.env[name]]));
  for (const name of names) delete process.env[name];
  Object.assign(process.env, env);
  let command: Command | undefined;
  const program = buildProgram(() => {});
  program.hook('preAction', (_program, action) => {
    command = action;
    throw STOP;
  });
  try {
    await program.parseAsync(['node', 'abrcast', ...args]);
  } catch (error) {
    if (error !== STOP) throw error;
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
  return command!;
}

const demoConfig = async (flags: string[], env: Record<string, string> = {}) => resolveDemoConfig((await parsed(['demo', ...flags], env)).opts());
const encodeConfig = async (flags: string[]) => resolveEncodeConfig('in.mp4', (await parsed(['encode', 'in.mp4', ...flags])).opts(), () => '[]');
const serviceConfig = async (flags: string[], env: Record<string, string> = {}) => resolveServiceConfig((await parsed(['serve', ...flags], env)).opts());
const serverConfig = async (flags: string[], env: Record<string, string> = {}) => resolveServerConfig((await parsed(['serve', ...flags], env)).opts());

async function usageMessage(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (error) {
    assert.ok(error instanceof CliError, `CliError expected, got ${String(error)}`);
    assert.equal(error.exitCode, EXIT_CODES.usage);
    assert.match(error.fix ?? '', /--help/);
    return error.message;
  }
  assert.fail('expected a usage error');
}

describe('server flags', () => {
  test('serve listens on 127.0.0.1 by default; --host, --max-held-requests and the admin listener and token from flags or environment', async () => {
    assert.deepEqual(await serverConfig([]), { host: '127.0.0.1', port: DEFAULTS.port });
    assert.deepEqual(await serverConfig(['--host', '10.0.0.5', '--max-held-requests', '5000', '--admin-port', '9787']), {
      host: '10.0.0.5', port: DEFAULTS.port, maxHeldRequests: 5000, adminPort: 9787, adminHost: '127.0.0.1',
    });
    assert.deepEqual(await serverConfig([], { ABRCAST_HOST: '10.0.0.6', ABRCAST_ADMIN_PORT: '0', ABRCAST_ADMIN_HOST: '10.0.0.7', ABRCAST_ADMIN_TOKEN: 'an-admin-token-of-some-length' }), {
      host: '10.0.0.6', port: DEFAULTS.port, adminPort: 0, adminHost: '10.0.0.7', adminToken: 'an-admin-token-of-some-length',
    });
    assert.equal((await demoConfig(['--max-held-requests', '64'])).maxHeldRequests, 64);
    assert.match(await usageMessage(() => serverConfig(['--admin-host', '10.0.0.7'])), /--admin-host needs --admin-port/);
    assert.equal(await usageMessage(() => serverConfig(['--max-held-requests', '0'])), 'Expected integer between 1 and 1000000 for --max-held-requests but received 0');
  });
});

describe('resolveDemoConfig', () => {
  test('defaults', async () => {
    assert.deepEqual(await demoConfig([]), resolveDemoConfig({}));
    const config = resolveDemoConfig({});
    assert.equal(config.width, 1280);
    assert.equal(config.height, 720);
    assert.equal(config.fps, 30);
    assert.equal(config.durationSeconds, 0);
    assert.equal(config.segmentSeconds, 2);
    assert.equal(config.preset, 'veryfast');
    assert.equal(config.port, DEFAULTS.port);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.store, 'embedded');
    assert.equal(config.databaseUrl, undefined);
    assert.equal(config.dataDir, join(homedir(), '.abrcast'));
    assert.deepEqual([config.container, config.lowLatency, config.latency, config.partDuration], ['ts', false, 'normal', undefined]);
  });

  test('--container and --low-latency', async () => {
    const fmp4 = await demoConfig(['--container', 'fmp4']);
    assert.deepEqual([fmp4.container, fmp4.lowLatency, fmp4.latency, fmp4.partDuration], ['fmp4', false, 'normal', undefined]);
    const low = await demoConfig(['--low-latency']);
    assert.deepEqual([low.container, low.lowLatency, low.latency, low.partDuration], ['ts', true, 'low', 10 / 30]);
    // The part is a whole number of frames at the run's frame rate.
    assert.equal((await demoConfig(['--low-latency', '--fps', '25'])).partDuration, 8 / 25);
    assert.equal((await demoConfig(['--low-latency', '--fps', '60', '--container', 'fmp4'])).partDuration, 20 / 60);
    const encode = await encodeConfig(['--low-latency', '--container', 'fmp4']);
    assert.deepEqual([encode.container, encode.lowLatency, encode.latency], ['fmp4', true, 'low']);
    assert.deepEqual([(await encodeConfig([])).container, (await encodeConfig([])).lowLatency], ['ts', false]);
  });

  test('--window and --channel (or ABRCAST_CHANNEL), on demo and encode', async () => {
    const demo = await demoConfig(['--window', '60', '--channel', 'news-2']);
    assert.deepEqual([demo.windowSeconds, demo.channel], [60, 'news-2']);
    assert.deepEqual([(await demoConfig([])).windowSeconds, (await demoConfig([])).channel], [undefined, undefined]);
    assert.equal((await demoConfig([], { ABRCAST_CHANNEL: 'lobby' })).channel, 'lobby');
    // The least window is three target durations of the run's segments.
    assert.equal((await demoConfig(['--window', '3', '--segment', '1'])).windowSeconds, 3);
    const encode = await encodeConfig(['--window', '3600', '--channel', 'x']);
    assert.deepEqual([encode.windowSeconds, encode.channel], [3600, 'x']);
  });

  test('encode --captions: the WebVTT file is parsed up front, its cues plain text on the input clock', async () => {
    const vtt = 'WEBVTT\n\n00:00:01.000 --> 00:00:02.500\n<v Ana>Tom &amp; Jerry</v>\n\n00:03.000 --> 00:04.000\nTwo\nlines\n';
    const files: Record<string, string> = { 'talk.vtt': vtt, 'bad.vtt': 'WEBVTT\n\n00:00:02.000 --> 00:00:01.000\nx\n' };
    const read = (path: string) => {
      if (files[path] === undefined) throw new Error('ENOENT');
      return files[path]!;
    };
    const encode = async (flags: string[]) => resolveEncodeConfig('in.mp4', (await parsed(['encode', 'in.mp4', ...flags])).opts(), read);
    const config = await encode(['--captions', 'talk.vtt', '--captions-language', 'pt-BR']);
    assert.deepEqual(config.captions, {
      path: 'talk.vtt', language: 'pt-BR',
      cues: [{ start: 1, end: 2.5, text: 'Tom & Jerry' }, { start: 3, end: 4, text: 'Two\nlines' }],
    });
    await assert.rejects(encode(['--captions', 'bad.vtt']), /--captions bad\.vtt is not valid WebVTT: line 3: End timestamp is not greater than start timestamp/);
    await assert.rejects(encode(['--captions', 'missing.vtt']), /Cannot read --captions file missing\.vtt: ENOENT/);
    await assert.rejects(encode(['--captions', 'talk.vtt', '--captions-language', 'not a tag']), /RFC 5646 language tag such as en or pt-BR for --captions-language/);
    await assert.rejects(encode(['--captions-language', 'en']), /--captions-language needs --captions/);
    // A sliding run has no subtitle playlists yet: refused before anything opens.
    await assert.rejects(encode(['--captions', 'talk.vtt', '--window', '60']), /--captions cannot be used with --window yet/);
    await assert.rejects(encode(['--captions', 'talk.vtt', '--channel', 'news']), /--captions cannot be used with --channel yet/);
  });

  test('lowLatencyPartDuration: 1/3 s in whole frames, at least one frame, at most the segment', () => {
    assert.equal(lowLatencyPartDuration(30, 2), 10 / 30);
    assert.equal(lowLatencyPartDuration(24, 2), 8 / 24);
    assert.equal(lowLatencyPartDuration(30000 / 1001, 4), 10 / (30000 / 1001));
    assert.equal(lowLatencyPartDuration(1, 1), 1);
    assert.equal(lowLatencyPartDuration(2, 0.5), 0.5);
    assert.equal(lowLatencyPartDuration(10, 0.1), 0.1);
  });

  test('flags over environment over defaults', async () => {
    const env = { ABRCAST_PORT: '9000', ABRCAST_STORE: 'kubo', KUBO_URL: 'http://127.0.0.1:5002', ABRCAST_DATA_DIR: '/tmp/x', DATABASE_URL: 'postgres://u@h/db' };
    const fromEnv = await demoConfig([], env);
    assert.equal(fromEnv.port, 9000);
    assert.equal(fromEnv.store, 'kubo');
    assert.deepEqual(fromEnv.kuboUrls, ['http://127.0.0.1:5002']);
    assert.equal(fromEnv.dataDir, '/tmp/x');
    assert.equal(fromEnv.databaseUrl, 'postgres://u@h/db');
    const fromFlags = await demoConfig(
      ['--port', '0', '--store', 'embedded', '--kubo-url', 'http://10.0.0.1:5001/', '--data-dir', 'rel', '--database-url', 'postgresql://v@k/db2'],
      env,
    );
    assert.equal(fromFlags.port, 0);
    assert.equal(fromFlags.store, 'embedded');
    assert.deepEqual(fromFlags.kuboUrls, ['http://10.0.0.1:5001']);
    assert.equal(fromFlags.dataDir, resolve('rel'));
    assert.equal(fromFlags.databaseUrl, 'postgresql://v@k/db2');
  });

  test('an empty environment variable counts as unset', async () => {
    assert.equal((await serverConfig([], { ABRCAST_PORT: '' })).port, DEFAULTS.port);
    assert.equal((await serviceConfig([], { ABRCAST_DATA_DIR: '' })).dataDir, join(homedir(), '.abrcast'));
  });

  test('the embedded store is offline unless --ipfs-listen (or ABRCAST_IPFS_LISTEN) is given', async () => {
    const offline = await serviceConfig([]);
    assert.deepEqual([offline.ipfsListen, offline.ipfsAnnounce, offline.ipfsPeers], [[], [], []]);
    const fromFlags = await serviceConfig(
      ['--ipfs-listen', '/ip4/0.0.0.0/tcp/4002', '--ipfs-listen', '/ip6/::/tcp/4002', '--ipfs-peer', '/ip4/10.0.0.2/tcp/4001/p2p/12D3KooWQAF6jFrXsx6PzDJzzbS56wTUSsTQB4bkAxjR1YG6w4Sr'],
      { ABRCAST_IPFS_LISTEN: '/ip4/1.2.3.4/tcp/1' },
    );
    assert.deepEqual(fromFlags.ipfsListen, ['/ip4/0.0.0.0/tcp/4002', '/ip6/::/tcp/4002']);
    assert.equal(fromFlags.ipfsPeers.length, 1);
    const fromEnv = await serviceConfig([], { ABRCAST_IPFS_LISTEN: '/ip4/0.0.0.0/tcp/4002, /ip4/0.0.0.0/tcp/4003', ABRCAST_IPFS_ANNOUNCE: '/dns4/example.org/tcp/4002' });
    assert.deepEqual(fromEnv.ipfsListen, ['/ip4/0.0.0.0/tcp/4002', '/ip4/0.0.0.0/tcp/4003']);
    assert.deepEqual(fromEnv.ipfsAnnounce, ['/dns4/example.org/tcp/4002']);
    assert.match(await usageMessage(() => serviceConfig(['--ipfs-listen', '0.0.0.0:4002'])), /Expected multiaddr such as \/ip4\/0\.0\.0\.0\/tcp\/4002 for --ipfs-listen but received "0\.0\.0\.0:4002"/);
    assert.match(await usageMessage(() => serviceConfig([], { ABRCAST_IPFS_PEERS: 'nope' })), /for ABRCAST_IPFS_PEERS but received "nope"/);
    assert.throws(() => resolveServiceConfig({ ipfsPeer: ['/ip4/10.0.0.2/tcp/4001'] }), /--ipfs-peer need --ipfs-listen/);
    assert.throws(() => resolveServiceConfig({ store: 'kubo', ipfsListen: ['/ip4/0.0.0.0/tcp/4002'] }), /--ipfs-listen is for the embedded store/);
  });

  test('several Kubo peers: --kubo-url repeated or comma-separated, and --replicas from 1 to their number', async () => {
    const one = await serviceConfig([]);
    assert.deepEqual([one.kuboUrls, one.replicas], [[DEFAULTS.kuboUrl], 1]);
    const repeated = await serviceConfig(['--store', 'kubo', '--kubo-url', 'http://10.0.0.1:5001', '--kubo-url', 'http://10.0.0.2:5001,http://10.0.0.3:5001/', '--replicas', '3']);
    assert.deepEqual(repeated.kuboUrls, ['http://10.0.0.1:5001', 'http://10.0.0.2:5001', 'http://10.0.0.3:5001']);
    assert.equal(repeated.replicas, 3);
    const fromEnv = await serviceConfig([], { ABRCAST_STORE: 'kubo', KUBO_URL: 'http://a:5001, http://b:5001', ABRCAST_REPLICAS: '2' });
    assert.deepEqual([fromEnv.kuboUrls, fromEnv.replicas], [['http://a:5001', 'http://b:5001'], 2]);
    assert.throws(
      () => resolveServiceConfig({ store: 'kubo', kuboUrl: ['http://a:5001', 'http://b:5001'], replicas: 3 }),
      { message: 'Expected integer from 1 to 2 (the number of --kubo-url peers) for --replicas but received 3' },
    );
    assert.throws(() => resolveServiceConfig({ store: 'embedded', replicas: 2 }), /--replicas 2 is for the Kubo store/);
    assert.equal(await usageMessage(() => serviceConfig(['--replicas', '0'])), 'Expected integer between 1 and 64 for --replicas but received 0');
    assert.equal(await usageMessage(() => serviceConfig([], { ABRCAST_REPLICAS: 'two' })), 'Expected integer between 1 and 64 for ABRCAST_REPLICAS but received "two"');
    assert.equal(
      await usageMessage(() => serviceConfig(['--kubo-url', 'http://a:5001,b:5001'])),
      'Expected http(s) URL such as http://127.0.0.1:5001 for --kubo-url but received "b:5001"',
    );
  });

  test('~ in --data-dir is the home directory', async () => {
    assert.equal((await serviceConfig(['--data-dir', '~/streams'])).dataDir, join(homedir(), 'streams'));
  });

  test('numbers and sizes', async () => {
    const config = await demoConfig(['--size', '640x360', '--fps', '25', '--duration', '2.5', '--segment', '4', '--preset', 'ultrafast', '--encoder', 'x264']);
    assert.deepEqual(
      [config.width, config.height, config.fps, config.durationSeconds, config.segmentSeconds, config.preset, config.encoder],
      [640, 360, 25, 2.5, 4, 'ultrafast', 'x264'],
    );
  });

  const bad: Array<[string[], Record<string, string>, string]> = [
    [['--size', '12x'], {}, 'Expected WIDTHxHEIGHT of even integers from 64x64 to 7680x4320, such as 1280x720 for --size but received "12x"'],
    [['--size', '641x360'], {}, 'Expected WIDTHxHEIGHT of even integers from 64x64 to 7680x4320, such as 1280x720 for --size but received "641x360"'],
    [['--size', '32x32'], {}, 'Expected WIDTHxHEIGHT of even integers from 64x64 to 7680x4320, such as 1280x720 for --size but received "32x32"'],
    [['--fps', '0'], {}, 'Expected number between 1 and 120 for --fps but received 0'],
    [['--fps', 'fast'], {}, 'Expected number between 1 and 120 for --fps but received "fast"'],
    [['--duration', '-1'], {}, 'Expected number between 0 and 31536000 for --duration but received -1'],
    [['--segment', '0.55'], {}, 'Expected number of seconds that is a whole number of frames at 30 fps for --segment but received 0.55'],
    [['--port', '70000'], {}, 'Expected integer between 0 and 65535 for --port but received 70000'],
    [['--port', '80.5'], {}, 'Expected integer between 0 and 65535 for --port but received 80.5'],
    [[], { ABRCAST_PORT: 'http' }, 'Expected integer between 0 and 65535 for ABRCAST_PORT but received "http"'],
    // Choices are commander's .choices(): its message names the option, the value and every choice.
    [['--preset', 'warp'], {}, "option '--preset <name>' argument 'warp' is invalid. Allowed choices are ultrafast, superfast, veryfast, faster, fast, medium, slow, slower, veryslow, placebo."],
    [['--encoder', 'gpu'], {}, "option '--encoder <kind>' argument 'gpu' is invalid. Allowed choices are auto, x264, nvenc."],
    [['--store', 'disk'], {}, "option '--store <kind>' argument 'disk' is invalid. Allowed choices are embedded, kubo."],
    [['--container', 'mkv'], {}, "option '--container <kind>' argument 'mkv' is invalid. Allowed choices are ts, fmp4."],
    [[], { ABRCAST_STORE: 'disk' }, "option '--store <kind>' value 'disk' from env 'ABRCAST_STORE' is invalid. Allowed choices are embedded, kubo."],
    [[], { KUBO_URL: 'localhost:5001' }, 'Expected http(s) URL such as http://127.0.0.1:5001 for KUBO_URL but received "localhost:5001"'],
    [['--host', 'a b'], {}, 'Expected host name or IP address such as 127.0.0.1 for --host but received "a b"'],
    [['--data-dir', ' '], {}, 'Expected non-empty directory path for --data-dir but received ""'],
    [['--window', '5'], {}, 'Expected number of seconds of at least 3 target durations (6 with 2 s segments) for --window but received 5'],
    [['--window', 'long'], {}, 'Expected number between 1 and 31536000 for --window but received "long"'],
    [['--channel', 'Bad Name'], {}, 'Expected channel name matching /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/ (1 to 40 lowercase letters, digits and inner \'-\') for --channel but received "Bad Name"'],
    [[], { ABRCAST_CHANNEL: 'news/' }, 'Expected channel name matching /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/ (1 to 40 lowercase letters, digits and inner \'-\') for ABRCAST_CHANNEL but received "news/"'],
  ];
  for (const [flags, env, message] of bad) {
    test(`rejects ${JSON.stringify([...flags, ...Object.entries(env).flat()])}`, async () => {
      assert.equal(await usageMessage(() => demoConfig(flags, env)), message);
    });
  }

  test('a bad database URL is named without its password', async () => {
    const message = await usageMessage(() => demoConfig(['--database-url', 'mysql://me:hunter2@db/x']));
    assert.match(message, /^Expected postgres:\/\/ or postgresql:\/\/ URL for --database-url but received "mysql:\/\/me@db\/x"$/);
  });
});

describe('--tls-cert and --tls-key', () => {
  test('both, as flags or variables, give the server the PEM texts (and the demo and encode too)', async () => {
    const certificate = makeTestCertificate();
    try {
      const flags = ['--tls-cert', certificate.certPath, '--tls-key', certificate.keyPath];
      const config = await serverConfig(flags);
      assert.equal(config.tls?.cert.toString(), certificate.cert);
      assert.equal(config.tls?.key.toString(), certificate.key);
      const fromEnv = await serverConfig([], { ABRCAST_TLS_CERT: certificate.certPath, ABRCAST_TLS_KEY: certificate.keyPath });
      assert.deepEqual(fromEnv.tls, config.tls);
      // HAProxy's one-file form (certificate then key) serves for both.
      assert.equal((await serverConfig(['--tls-cert', certificate.pemPath, '--tls-key', certificate.pemPath])).tls?.cert.toString(), certificate.cert + certificate.key);
      assert.deepEqual((await demoConfig(flags)).tls, config.tls);
      assert.deepEqual((await encodeConfig(flags)).tls, config.tls);
      assert.equal((await serverConfig([])).tls, undefined, 'plain HTTP/1.1 without them');
    } finally {
      certificate.remove();
    }
  });

  test('one without the other, an unreadable or non-PEM file, or a key of another certificate are usage errors naming the files', async () => {
    const [certificate, other] = [makeTestCertificate(), makeTestCertificate()];
    try {
      assert.equal(await usageMessage(() => serverConfig(['--tls-cert', certificate.certPath])), '--tls-cert needs --tls-key');
      assert.equal(await usageMessage(() => serverConfig([], { ABRCAST_TLS_KEY: certificate.keyPath })), 'ABRCAST_TLS_KEY needs --tls-cert');
      assert.match(await usageMessage(() => serverConfig(['--tls-cert', '/nonexistent/cert.pem', '--tls-key', certificate.keyPath])),
        /^Cannot read --tls-cert file \/nonexistent\/cert\.pem: ENOENT/);
      assert.equal(await usageMessage(() => serverConfig(['--tls-cert', certificate.keyPath, '--tls-key', certificate.keyPath])),
        `Expected PEM file with a CERTIFICATE block (-----BEGIN ...CERTIFICATE-----) for --tls-cert but received "${certificate.keyPath}"`);
      assert.match(await usageMessage(() => serverConfig(['--tls-cert', certificate.certPath, '--tls-key', other.keyPath])),
        new RegExp(`^--tls-cert ${certificate.certPath} and --tls-key ${other.keyPath} are not a certificate and its key: .*key values mismatch`));
    } finally {
      certificate.remove();
      other.remove();
    }
  });
});

describe('describeError', () => {
  test('store and database outages are exit 3 with a fix', () => {
    const kubo = describeError(
      new StoreUnavailableError({ store: 'kubo', location: 'http://127.0.0.1:1', reason: 'connect ECONNREFUSED', fix: 'x' }),
    );
    assert.deepEqual(
      [kubo.exitCode, kubo.cause],
      [3, 'Kubo RPC not reachable at http://127.0.0.1:1: connect ECONNREFUSED'],
    );
    assert.match(kubo.fix!, /ipfs daemon.*--store embedded/);
    const pg = describeError(new RegistryUnavailableError('PostgreSQL not reachable at postgres://x@h/x: ECONNREFUSED'));
    assert.equal(pg.exitCode, 3);
    assert.match(pg.fix!, /--database-url/);
  });

  test('library option errors are usage errors; others are runtime failures on one line', () => {
    assert.equal(describeError(new RangeError('Expected integer between 1 and 3 for x but received 9')).exitCode, 2);
    const other = describeError(new Error('Publishing reported errors:\n  a\n  b'));
    assert.deepEqual([other.exitCode, other.cause, other.fix], [1, 'Publishing reported errors:; a; b', undefined]);
  });

  test('a port in use suggests another port', () => {
    const error = Object.assign(new Error('listen EADDRINUSE: address already in use 127.0.0.1:8787'), { code: 'EADDRINUSE' });
    assert.match(describeError(error).fix!, /--port/);
  });
});
