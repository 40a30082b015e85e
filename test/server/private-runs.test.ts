// A private run end to end on PostgreSQL 15 and Kubo: a live encrypted LL-HLS run
// (TS, a new key every 2 segments) fed at real time, served by a server with the
// secret, its log captured at debug level.
//  - What IPFS holds (read from Kubo's own gateway and the server's) is ciphertext:
//    no TS sync, no ISO BMFF boxes, no H.264 start codes, and ffprobe finds no picture.
//  - Playlists, keys, parts, segments, status and watch page: 401 without a token;
//    403 for an expired one, one for another run or channel, one bound to another
//    address, and one with a flipped bit; no answer but the key's holds key bytes.
//  - Every URI the server writes carries the token, and each answers with it.
//  - hls.js and Shaka Player (both LL) play it in Chromium with the token, across key
//    changes; the watch page plays from its cookie.
//  - Neither the secret nor any token appears in the server's log.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { unwrapRunKey } from '../../src/crypto/key-wrap.js';
import { signPlaybackToken } from '../../src/crypto/playback-token.js';
import { serverSecrets } from '../../src/crypto/server-secret.js';
import { createServerLogger, startServer } from '../../src/server/index.js';
import { launchBrowser, type BrowserHandle } from '../support/browser.js';
import { clearMediaSigns } from '../support/encrypted-media.js';
import { measureHlsLatency } from '../support/hls-latency-probe.js';
import { startKubo, type KuboHandle } from '../support/kubo.js';
import { startLiveRun, waitFor, type LiveRun } from '../support/live-run.js';
import { probeBytes } from '../support/media.js';
import { startPostgres, type PostgresInstance } from '../support/postgres.js';

const SECRET = 'private-runs test: the server secret, 32+ characters';
const KEY_ROTATION = 2;

describe('a private run (PostgreSQL + Kubo, encrypted LL-HLS)', () => {
  let postgres: PostgresInstance;
  let kubo: KuboHandle;
  let run: LiveRun;
  let browser: BrowserHandle;
  const log: string[] = [];
  const tokens: string[] = [];
  let keys: Buffer[] = [];
  let base: string;

  const sign = (options: Parameters<typeof signPlaybackToken>[0], secret = SECRET) => {
    const token = signPlaybackToken(options, secret);
    tokens.push(token);
    return token;
  };
  /** Whether a body holds any key of the run (a 16-byte key anywhere in it). */
  const holdsKey = (body: Buffer) => keys.some((key) => body.includes(key));

  before(async () => {
    [postgres, kubo] = await Promise.all([startPostgres(), startKubo()]);
    const logger = createServerLogger('debug', { write: (line: string) => void log.push(line) });
    run = await startLiveRun({
      databaseUrl: postgres.url, kuboUrl: kubo.apiUrl, partDuration: 1 / 3, maxSeconds: 120,
      output: { container: 'ts', latency: 'low', encryption: 'aes-128', keyRotation: KEY_ROTATION, keySecret: SECRET },
      server: { keySecret: SECRET, logger },
    });
    base = `${run.server.url}/runs/${run.runId}`;
    // Three key periods published: playback below crosses key changes.
    await waitFor('six segments in every rendition', async () => {
      const counts = (await run.registry.getRun(run.runId))!.segmentCounts;
      return Object.values(counts).length === 2 && Object.values(counts).every((count) => count.contiguous >= 6);
    }, { timeoutMs: 60_000, intervalMs: 250 });
    const secrets = serverSecrets(SECRET);
    for (let index = 0; ; index++) {
      const wrapped = await run.registry.getRunKey(run.runId, index);
      if (wrapped === undefined) break;
      keys.push(unwrapRunKey(wrapped, secrets, { runId: run.runId, index }));
    }
    browser = await launchBrowser({ width: 640, height: 360 });
  });
  after(async () => {
    await browser?.close();
    await run?.cleanup();
    await Promise.all([postgres?.stop(), kubo?.stop()]);
  });

  test('what IPFS holds is ciphertext: Kubo\'s gateway and the server\'s serve no readable media, ffprobe fails', { timeout: 120_000 }, async () => {
    assert.ok(keys.length >= 3, `keys of ${keys.length} periods`);
    const segments = await run.registry.listSegments(run.runId);
    const parts = await run.registry.listRecentParts(run.runId, '360p', 0);
    assert.ok(segments.length >= 12 && parts.length >= 6);
    const cids = [...segments.map((s) => s.cid), ...parts.map((p) => p.cid)];
    for (const [position, cid] of cids.entries()) {
      const fromKubo = Buffer.from(await (await fetch(`${kubo.gatewayUrl}/ipfs/${cid}`)).arrayBuffer());
      const fromServer = Buffer.from(await (await fetch(`${run.server.url}/ipfs/${cid}`)).arrayBuffer());
      assert.ok(fromKubo.length > 188 && fromKubo.equals(fromServer));
      assert.deepEqual(clearMediaSigns(fromKubo), [], `${cid} is not media`);
      if (position < 3 || position === segments.length) {
        // ffprobe fails on ciphertext, or (rarely: random bytes can look like an audio elementary stream) finds no
        // picture: never the run's H.264 frames. (Seen once: ffprobe read one ciphertext segment without an error.)
        const probed = await probeBytes(fromKubo).catch(() => undefined);
        assert.ok(!probed || (probed.frames.length === 0 && !probed.streams.some((s) => s.codec_type === 'video' && s.codec_name === 'h264')), `ffprobe reads no H.264 from ${cid}: ${JSON.stringify(probed?.streams)}`);
      }
    }
  });

  test('playlists, keys, parts, segments, status and watch page: 401 without a token, 403 for a bad one, no key bytes but the key\'s', { timeout: 120_000 }, async () => {
    const hour = 3600;
    const good = sign({ scope: { run: run.runId }, ttl: hour });
    const [kind, expiry, , name, bound, mac] = good.split('.');
    const flipped = [kind, expiry, 'r', name, bound, mac.slice(0, 10) + (mac[10] === 'A' ? 'B' : 'A') + mac.slice(11)].join('.');
    const bad: Record<string, string> = {
      expired: sign({ scope: { run: run.runId }, ttl: hour, now: new Date(Date.now() - 2 * hour * 1000) }),
      'another run': sign({ scope: { run: 'rsomeotherrun1' }, ttl: hour }),
      'a channel it is not on': sign({ scope: { channel: 'news' }, ttl: hour }),
      'another address': sign({ scope: { run: run.runId }, ttl: hour, ip: '203.0.113.9' }),
      'another secret': sign({ scope: { run: run.runId }, ttl: hour }, 'a secret this server does not have, 32+ chars'),
      'a flipped bit': flipped,
      'not a token': 'hello',
    };
    // The newest part: older ones are released once the live edge is 6 target durations past them (linear storage).
    const part = (await run.registry.listRecentParts(run.runId, '360p', 0)).at(-1)!;
    const urls = {
      master: `${base}/master.m3u8`,
      playlist: `${base}/quality/360p/playlist.m3u8`,
      'blocking reload': `${base}/quality/360p/playlist.m3u8?_HLS_msn=1&_HLS_part=0`,
      part: `${base}/quality/360p/part/${part.segmentIndex}.${part.partIndex}.ts`,
      segment: `${base}/quality/360p/segment/1.ts`,
      key: `${base}/keys/0`,
      status: base,
      watch: `${base}/watch`,
    };
    const withToken = (url: string, token: string) => `${url}${url.includes('?') ? '&' : '?'}token=${token}`;
    for (const [what, url] of Object.entries(urls)) {
      const none = await fetch(url);
      const noneBody = Buffer.from(await none.arrayBuffer());
      assert.equal(none.status, 401, `${what} without a token`);
      assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer /);
      assert.ok(!holdsKey(noneBody));
      for (const [why, token] of Object.entries(bad)) {
        const answer = await fetch(withToken(url, token));
        const body = Buffer.from(await answer.arrayBuffer());
        assert.equal(answer.status, 403, `${what} with ${why}: ${body}`);
        assert.ok(!holdsKey(body), `no key bytes in the ${what} answer to ${why}`);
        assert.ok(!body.toString('latin1').includes(token), 'the token is not echoed');
      }
      const ok = await fetch(withToken(url, good));
      const body = Buffer.from(await ok.arrayBuffer());
      assert.equal(ok.status, 200, `${what} with a valid token: ${body.subarray(0, 200)}`);
      assert.equal(holdsKey(body), what === 'key', `key bytes only in the key's answer (${what})`);
      if (what === 'key') {
        assert.deepEqual(body, keys[0]);
        assert.equal(ok.headers.get('cache-control'), 'private, no-store');
      }
    }
    // The same token in an Authorization header, or in the cookie the watch page set.
    assert.equal((await fetch(urls.key, { headers: { authorization: `Bearer ${good}` } })).status, 200);
    const watch = await fetch(withToken(urls.watch, good));
    const cookie = watch.headers.get('set-cookie') ?? '';
    assert.match(cookie, new RegExp(`^abrcast_token=${good.replaceAll('.', '\\.')}; Path=/runs/${run.runId}; Max-Age=\\d+; HttpOnly; SameSite=Lax$`));
    assert.equal((await fetch(urls.key, { headers: { cookie: cookie.split(';')[0] } })).status, 200);
    assert.equal((await fetch(urls.key, { headers: { cookie: `abrcast_token=${bad.expired}` } })).status, 403);
    // A public run's gateway stays open: its bytes are ciphertext.
    assert.equal((await fetch(`${run.server.url}/ipfs/${part.cid}`)).status, 200);
  });

  test('every URI the server writes carries the token (but the CIDs\'), and answers with it', { timeout: 60_000 }, async () => {
    const token = sign({ scope: { run: run.runId }, ttl: 600 });
    const master = await (await fetch(`${base}/master.m3u8?token=${token}`)).text();
    const variants = master.split('\n').filter((line) => line && !line.startsWith('#'));
    assert.equal(variants.length, 2);
    for (const uri of variants) assert.ok(uri.endsWith(`?token=${token}`), uri);
    const playlistUrl = new URL(variants[0], run.server.url);
    const text = await (await fetch(playlistUrl)).text();
    const uris = [
      ...text.split('\n').filter((line) => line && !line.startsWith('#')),
      ...[...text.matchAll(/URI="([^"]+)"/g)].map((match) => match[1]),
    ];
    for (const tag of ['#EXT-X-PART:', '#EXT-X-KEY:', '#EXT-X-RENDITION-REPORT:']) assert.ok(text.includes(tag), `${tag} in\n${text}`);
    assert.ok(uris.length > 10);
    for (const uri of uris) {
      assert.ok(uri.includes(`token=${token}`), `${uri} carries the token`);
      const answer = await fetch(new URL(uri, playlistUrl), { signal: AbortSignal.timeout(10_000) });
      await answer.arrayBuffer();
      assert.equal(answer.status, 200, uri);
    }
    // Several keys in one view: the rotation shows as EXT-X-KEY lines with different key URIs.
    const keyUris = new Set([...text.matchAll(/#EXT-X-KEY:METHOD=AES-128,URI="([^"]+)"/g)].map((match) => match[1]));
    assert.ok(keyUris.size >= 2, [...keyUris].join(' '));
  });

  test('hls.js and Shaka Player (both LL) play it with a token across key changes', { timeout: 240_000 }, async (t) => {
    const keyRequests = async () => Number(/abrcast_http_requests_total\{route="\/runs\/:id\/keys\/:n",method="GET",status="200"\} (\d+)/.exec(await run.server.metrics.render())?.[1] ?? 0);
    const before = await keyRequests();
    const token = sign({ scope: { run: run.runId }, ttl: 600 });
    const hls = await measureHlsLatency({ url: `${base}/master.m3u8?token=${token}`, seconds: 10, warmupS: 3, browser });
    t.diagnostic(`hls.js: median ${hls.medianLatencyS} s, requests ${JSON.stringify(hls.requests)}, errors ${JSON.stringify(hls.errors)}`);
    assert.deepEqual(hls.fatalErrors, []);
    assert.ok(hls.playedS >= 5, `played ${hls.playedS} s`);
    assert.ok(hls.partsInPlaylist && hls.requests.parts > 0 && hls.requests.blockingReloads > 0, 'in LL mode');
    // 10 s of 1 s segments at 2 per key: at least three keys fetched, so playback crossed key changes.
    assert.ok((await keyRequests()) - before >= 3, `keys fetched: ${(await keyRequests()) - before}`);

    // Shaka in its low-latency mode (its default), on the encrypted parts: every TS part carries its PAT/PMT and SPS/PPS.
    const shaka = await measureHlsLatency({ url: `${base}/master.m3u8?token=${token}`, seconds: 8, warmupS: 3, browser, player: 'shaka' });
    t.diagnostic(`Shaka: median ${shaka.medianLatencyS} s, requests ${JSON.stringify(shaka.requests)}, errors ${JSON.stringify(shaka.errors)}`);
    assert.deepEqual(shaka.fatalErrors, []);
    assert.ok(shaka.playedS >= 4, `Shaka played ${shaka.playedS} s`);
    assert.ok(shaka.partsInPlaylist && shaka.requests.parts > 0, 'Shaka in LL mode');
  });

  test('the watch page plays from its cookie; without it the run stays closed', { timeout: 120_000 }, async () => {
    const token = sign({ scope: { run: run.runId }, ttl: 600 });
    const page = await browser.context.newPage();
    try {
      await page.goto(`${base}/watch?token=${token}`, { timeout: 15_000 });
      await waitFor('the watch page playing', () =>
        page.evaluate(() => {
          const state = (window as unknown as { abrcast: { bufferedByLevel: Record<string, number> } }).abrcast;
          return Object.values(state.bufferedByLevel).reduce((a, b) => a + b, 0) >= 3;
        }), { timeoutMs: 60_000, intervalMs: 250 });
      // The page's own requests carry no token: the cookie does it.
      const status = await page.evaluate(async (url) => (await fetch(url)).status, `${base}/master.m3u8`);
      assert.equal(status, 200);
    } finally {
      await page.close();
    }
    // Without the cookie (another viewer's browser): closed.
    await browser.context.clearCookies();
    const other = await browser.context.newPage();
    try {
      assert.equal((await other.goto(`${base}/watch`))?.status(), 401);
    } finally {
      await other.close();
    }
  });

  test('the server\'s log holds neither the secret nor any token, even for a failed request', { timeout: 60_000 }, async () => {
    // A failing registry behind a second server: the request fails (500) and is logged with its path.
    const failing = new Proxy(run.registry, {
      get(target, property) {
        if (property === 'getRun') return async () => { throw new Error('registry exploded'); };
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const failureLog: string[] = [];
    const server = await startServer({
      registry: failing, store: run.store, port: 0, keySecret: SECRET,
      logger: createServerLogger('debug', { write: (line: string) => void failureLog.push(line) }),
    });
    try {
      const token = sign({ scope: { run: run.runId }, ttl: 600 });
      const answer = await fetch(`${server.url}/runs/${run.runId}/master.m3u8?token=${token}`);
      assert.equal(answer.status, 500);
    } finally {
      await server.close();
    }
    const failed = failureLog.map((line) => JSON.parse(line) as { msg: string; path?: string }).find((line) => line.msg === 'request failed');
    assert.equal(failed?.path, `/runs/${run.runId}/master.m3u8`, 'the failure is logged with its path, without the query');
    const everything = [...log, ...failureLog].join('');
    assert.ok(log.length > 50, `the server logged every request (${log.length} lines)`);
    assert.ok(!everything.includes(SECRET), 'the secret is not in the log');
    assert.ok(tokens.length > 5);
    for (const token of tokens) assert.ok(!everything.includes(token.split('.').at(-1)!), `token ${token.slice(0, 20)}… is not in the log`);
    assert.ok(!everything.includes('token='), 'no token parameter in the log');
  });
});
