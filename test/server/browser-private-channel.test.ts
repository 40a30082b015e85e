// A private channel in Chromium across a crash, per container: `abrcast demo
// --encrypt --channel` publishes to Kubo and PostgreSQL while a server (this
// process, with the same secret) serves the channel's stable URL; an independent
// hls.js page plays /channels/{name}/master.m3u8 with the channel token the demo
// prints. The producer is SIGKILLed and started
// again on the same data dir: the next run lists the dead run's tail behind that
// run's keys, then EXT-X-DISCONTINUITY and its own segments behind its own (fMP4:
// its own init segment, its key before EXT-X-MAP). The page plays on with no
// fatal error through the discontinuity, having fetched keys of both runs with
// the token.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { openRegistry } from '../../src/registry/open-registry.js';
import type { RunRegistry } from '../../src/registry/run-registry.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { KuboStore } from '../../src/store/kubo-store.js';
import { launchBrowser, type BrowserHandle } from '../support/browser.js';
import { launchDemo, type DemoProcess } from '../support/demo-process.js';
import { assertPlayedAcross, deadRunEnded, playedFragments, playedIntoNewRun, runPublishing } from '../support/channel-restart.js';
import { openHlsProbe } from '../support/hls-latency-probe.js';
import { startKubo, type KuboHandle } from '../support/kubo.js';
import { waitFor } from '../support/live-run.js';
import { parsePlaylist } from '../support/parse-playlist.js';
import { startPostgres, type PostgresInstance } from '../support/postgres.js';

const SECRET = 'the browser private-channel test secret, 32+ chars';

describe('hls.js on a private channel with a channel token across a SIGKILL of its producer and a restart', () => {
  let dir: string;
  let kubo: KuboHandle;
  let postgres: PostgresInstance;
  let registry: RunRegistry;
  let server: RunningServer;
  let browser: BrowserHandle;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'abrcast-browser-private-channel-'));
    [kubo, postgres] = await Promise.all([startKubo(), startPostgres()]);
    registry = await openRegistry({ databaseUrl: postgres.url });
    server = await startServer({ registry, store: new KuboStore({ url: kubo.apiUrl }), port: 0, keySecret: SECRET });
    browser = await launchBrowser({ width: 640, height: 360 });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await registry?.close();
    await Promise.allSettled([kubo?.stop(), postgres?.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  // Without LL-HLS parts, as test/server/browser-channel.test.ts: hls.js stops on a channel's LL playlists across a
  // restart whether the channel is private or not (a levelParsingError, "discontinuity sequence mismatch", on the MSN the
  // dead run's last parts had); test/publish/encrypted-channel.test.ts checks the private LL playlists themselves.
  for (const container of ['ts', 'fmp4'] as const) {
    const name = container;
    test(`${name}: plays on through the restart with no fatal error, a discontinuity, keys of both runs`, { timeout: 300_000 }, async (t) => {
      const channel = `private-${name}`;
      const dataDir = join(dir, name);
      /** Small and fast; --duration only caps a run the test fails to stop. */
      const args = [
        '--size', '640x360', '--segment', '1', '--preset', 'ultrafast', '--duration', '300', '--channel', channel, '--window', '30',
        '--encrypt', '--container', container, '--store', 'kubo', '--kubo-url', kubo.apiUrl, '--database-url', postgres.url,
      ];
      const env = { env: { ...process.env, ABRCAST_KEY_SECRET: SECRET } };
      const playlistUrl = `${server.url}/channels/${channel}/quality/original/playlist.m3u8`;
      // The key requests the page makes (its context sees every one), by run.
      const keyRequests: string[] = [];
      const onRequest = (request: { url(): string }) => {
        const url = new URL(request.url());
        const match = /^\/runs\/(r[a-z0-9]+)\/keys\/\d+$/.exec(url.pathname);
        if (match) keyRequests.push(`${match[1]} ${url.searchParams.get('token') === null ? 'without' : 'with'} token`);
      };
      browser.context.on('request', onRequest);
      let demo: DemoProcess = launchDemo(args, dataDir, env);
      let token = '';
      const probe = await (async () => {
        const start = await demo.started;
        // The demo prints the channel's URL with a channel token: the next runs' keys open with it too.
        const printed = new URL(start.masterUrl);
        assert.equal(`${printed.origin}${printed.pathname}`, `${start.serverUrl}/channels/${channel}/master.m3u8`);
        token = printed.searchParams.get('token') ?? '';
        assert.deepEqual(token.split('.').slice(2, 4), ['c', channel], 'a channel-scoped token');
        const master = `${server.url}/channels/${channel}/master.m3u8?token=${token}`;
        await waitFor('the channel master', async () => (await fetch(master)).status === 200 || undefined, { timeoutMs: 60_000, intervalMs: 100 });
        assert.equal((await fetch(`${server.url}/channels/${channel}/master.m3u8`)).status, 401, 'no token: 401');
        return openHlsProbe({ url: master, lowLatencyMode: true, browser, startTimeoutMs: 60_000 });
      })();
      try {
        let state = await probe.firstFrame();
        await waitFor('4 s played', async () => ((state = await probe.read()).playedS >= 4 ? true : undefined), { timeoutMs: 60_000, intervalMs: 200 });
        const firstRunId = (await demo.started).runId;
        demo.child.kill('SIGKILL');
        await demo.stop();
        const playedAtKill = state.playedS;

        demo = launchDemo(args, dataDir, env);
        const second = await demo.started;
        assert.notEqual(second.runId, firstRunId);
        const secondRun = await runPublishing(registry, second.runId);
        assert.equal(secondRun.encryption, 'aes-128');
        // The channel's playlist while it lists both runs: the tail behind the dead run's keys, the new run behind its own.
        const crossing = await waitFor('a playlist listing both runs', async () => {
          const text = await (await fetch(`${playlistUrl}?token=${token}`)).text();
          const { manifest } = parsePlaylist(text);
          return manifest.mediaSequence! < secondRun.msnBase ? { text, manifest } : undefined;
        }, { timeoutMs: 30_000, intervalMs: 250 });
        const position = secondRun.msnBase - crossing.manifest.mediaSequence!;
        assert.ok(position > 0 && crossing.manifest.segments[position]?.discontinuity === true, `EXT-X-DISCONTINUITY before MSN ${secondRun.msnBase}:\n${crossing.text}`);
        crossing.manifest.segments.forEach((segment, index) => {
          const run = index < position ? firstRunId : second.runId;
          assert.match(segment.key?.uri ?? '', new RegExp(`^/runs/${run}/keys/\\d+\\?token=`), `segment ${index}'s key`);
          if (container === 'fmp4') assert.match(segment.map?.key?.uri ?? '', new RegExp(`^/runs/${run}/keys/\\d+\\?token=`), `segment ${index}'s init key`);
        });

        state = await playedIntoNewRun(probe, secondRun, playedAtKill, `${playlistUrl}?token=${token}`);
        t.diagnostic(`played ${state.playedS} s, fragments ${playedFragments(state)}, errors ${JSON.stringify(state.errors)}, keys ${[...new Set(keyRequests)].join(', ')}`);
        assertPlayedAcross(state);
        // The player fetched keys of both runs, each with the token.
        assert.ok(keyRequests.includes(`${firstRunId} with token`) && keyRequests.includes(`${second.runId} with token`), keyRequests.join(', '));
        assert.ok(!keyRequests.some((request) => request.endsWith('without token')), keyRequests.join(', '));
        // The dead private run is completed from its journal (encrypted with its keys) once the channel moved on.
        await deadRunEnded(registry, firstRunId);
      } finally {
        browser.context.off('request', onRequest);
        await probe.close();
        const code = await demo.stop();
        assert.equal(code, 0, `demo exit; stderr: ${demo.stderr()}`);
      }
    });
  }
});
