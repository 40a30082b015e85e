// A channel in Chromium across a crash: `abrcast demo --channel x` publishes to
// Kubo and PostgreSQL while a server (this process) serves the channel's stable
// URL; an independent hls.js page plays /channels/x/master.m3u8. The producer is
// SIGKILLed, then started again on the same data dir: it records the dead run's
// journal, continues the channel, and the page plays on with no fatal error,
// through the EXT-X-DISCONTINUITY the playlist then shows, loading every
// segment in order (nothing before the kill is lost beyond one segment).
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

const CHANNEL = 'x';
/** Small and fast; --duration only caps a run the test fails to stop. */
const DEMO = ['--low-latency', '--size', '640x360', '--segment', '1', '--preset', 'ultrafast', '--duration', '300', '--channel', CHANNEL, '--window', '30'];

describe('hls.js on a channel across a SIGKILL of its producer and a restart', () => {
  let dir: string;
  let kubo: KuboHandle;
  let postgres: PostgresInstance;
  let registry: RunRegistry;
  let server: RunningServer;
  let browser: BrowserHandle;
  let args: string[];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'abrcast-browser-channel-'));
    [kubo, postgres] = await Promise.all([startKubo(), startPostgres()]);
    registry = await openRegistry({ databaseUrl: postgres.url });
    server = await startServer({ registry, store: new KuboStore({ url: kubo.apiUrl }), port: 0 });
    browser = await launchBrowser({ width: 640, height: 360 });
    args = [...DEMO, '--store', 'kubo', '--kubo-url', kubo.apiUrl, '--database-url', postgres.url];
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await registry?.close();
    await Promise.allSettled([kubo?.stop(), postgres?.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  test('plays on through the restart: no fatal error, a discontinuity, every segment in order', { timeout: 300_000 }, async (t) => {
    const master = `${server.url}/channels/${CHANNEL}/master.m3u8`;
    let demo: DemoProcess = launchDemo(args, dir);
    let restarted: DemoProcess | undefined;
    const probe = await (async () => {
      const start = await demo.started;
      assert.equal(start.masterUrl, `${start.serverUrl}/channels/${CHANNEL}/master.m3u8`, 'the demo prints the channel URL');
      await waitFor('the channel master', async () => (await fetch(master)).status === 200 || undefined, { timeoutMs: 60_000, intervalMs: 100 });
      return openHlsProbe({ url: master, lowLatencyMode: true, browser, startTimeoutMs: 60_000 });
    })();
    try {
      let state = await probe.firstFrame();
      // A few seconds of the first run on screen.
      await waitFor('4 s played', async () => ((state = await probe.read()).playedS >= 4 ? true : undefined), { timeoutMs: 60_000, intervalMs: 200 });
      const firstRunId = (await demo.started).runId;
      demo.child.kill('SIGKILL');
      await demo.stop();
      const uploadedBeforeKill = demo.events.filter((event) => event.event === 'segment' && event.runId === firstRunId);
      const playedAtKill = state.playedS;

      restarted = launchDemo(args, dir);
      demo = restarted;
      const second = await restarted.started;
      assert.notEqual(second.runId, firstRunId);
      // Played well past the restart: frames of the new run on screen.
      const playlistUrl = `${server.url}/channels/${CHANNEL}/quality/original/playlist.m3u8`;
      const secondRun = await runPublishing(registry, second.runId);
      state = await playedIntoNewRun(probe, secondRun, playedAtKill, playlistUrl);
      t.diagnostic(`played ${state.playedS} s, fragments ${playedFragments(state)}, errors ${JSON.stringify(state.errors)}`);

      // No fatal error; the player crossed the discontinuity (one sequence for each run), every segment loaded in
      // order, none skipped around the restart (at most one, the one cut short).
      assertPlayedAcross(state);
      // The channel's playlist shows the hand-over: a discontinuity before the new run's first segment.
      const text = await (await fetch(playlistUrl)).text();
      const { manifest } = parsePlaylist(text);
      const position = secondRun.msnBase - manifest.mediaSequence!;
      assert.ok(position > 0 && manifest.segments[position].discontinuity === true, `EXT-X-DISCONTINUITY before MSN ${secondRun.msnBase}:\n${text}`);
      // Nothing the first producer finished is lost: its run, completed from the journal, lists every segment it uploaded.
      // It is ended a few seconds after the hand-over (handoverGraceMs: no server may still serve it by then).
      const first = await deadRunEnded(registry, firstRunId);
      const finalFirst = parsePlaylist(await (await fetch(`${server.url}/ipfs/${first.qualityPlaylists['original'].cid}`)).text()).manifest;
      const uploaded = uploadedBeforeKill.filter((event) => event.rendition === 'original').map((event) => `/ipfs/${event.cid as string}`);
      assert.ok(uploaded.length >= 3, `${uploaded.length} segments uploaded before the kill`);
      // Segment URIs name their file after the CID (?filename=segment.ts): compared by path.
      for (const uri of uploaded) assert.ok(finalFirst.segments.some((segment) => segment.uri.split('?')[0] === uri), `${uri} listed`);
    } finally {
      await probe.close();
      const code = await demo.stop();
      assert.equal(code, 0, `demo exit; stderr: ${demo.stderr()}`);
    }
  });
});

