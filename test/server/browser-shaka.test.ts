// Shaka Player (the shaka-player package, low-latency mode, its other settings the defaults)
// plays `abrcast demo --low-latency` in Chromium, both containers, through blocking reloads
// and part URIs with no error it gives up on, and its latency to the renderer's clock is
// measured beside hls.js's by the same probe. What it needed from us: CLOSED-CAPTIONS=NONE
// on every variant (fMP4 failed with a TypeError probing for 608 captions) and every TS part
// self-contained (it transmuxes part by part; the second part of a segment failed with 3018).
// No timing thresholds: `npm run bench -- --case latency` reports the figures.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { launchBrowser, type BrowserHandle } from '../support/browser.js';
import { launchDemo } from '../support/demo-process.js';
import { measureHlsLatency } from '../support/hls-latency-probe.js';

const DEMO = ['--size', '640x360', '--segment', '1', '--preset', 'ultrafast', '--duration', '120', '--low-latency'];
const WATCH_S = 8;

describe('abrcast demo --low-latency watched by Shaka Player in Chromium', () => {
  let dir: string;
  let browser: BrowserHandle;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'abrcast-browser-shaka-'));
    browser = await launchBrowser({ width: 640, height: 360 });
  });
  after(async () => {
    await browser?.close();
    await rm(dir, { recursive: true, force: true });
  });

  for (const container of ['ts', 'fmp4'] as const) {
    test(`--container ${container}: Shaka in low-latency mode plays through parts and blocking reloads, latency measured`, { timeout: 180_000 }, async (t) => {
      const demo = launchDemo([...DEMO, '--container', container], join(dir, container));
      try {
        const start = await demo.started;
        await demo.firstMaster();
        const report = await measureHlsLatency({ url: start.masterUrl, player: 'shaka', seconds: WATCH_S, warmupS: 3, browser });
        t.diagnostic(`Shaka ${report.playerVersion} ${container}: median ${report.medianLatencyS} s, p95 ${report.p95LatencyS} s, ` +
          `stalls ${report.stalls.length}, requests ${JSON.stringify(report.requests)}, errors ${JSON.stringify(report.errors)}`);
        assert.deepEqual(report.fatalErrors, [], 'no error Shaka gave up on');
        assert.match(report.playerVersion, /^v5\./);
        assert.ok(report.playedS >= WATCH_S / 2, `played ${report.playedS} s of ${WATCH_S}`);
        assert.equal(report.partsInPlaylist, true, 'Shaka read the playlists as low latency');
        assert.ok(report.requests.parts > 0, 'part URIs loaded');
        assert.ok(report.requests.blockingReloads > 0, 'blocking reloads (_HLS_msn) used');
        assert.ok(report.samples.length > 0, 'latency samples taken');
        assert.ok(report.medianLatencyS !== null && report.medianLatencyS > 0 && report.medianLatencyS < 30, `median latency ${report.medianLatencyS}`);
      } finally {
        const code = await demo.stop();
        assert.equal(code, 0, `demo exit; stderr: ${demo.stderr()}`);
      }
    });
  }
});
