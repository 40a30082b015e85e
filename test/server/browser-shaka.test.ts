// Shaka Player (the shaka-player package, low-latency mode, its other settings the defaults)
// plays `abrcast demo --low-latency` in Chromium, both containers, through blocking reloads
// and part URIs with no error it gives up on, and its latency to the renderer's clock is
// measured beside hls.js's by the same probe. What it needed from us: CLOSED-CAPTIONS=NONE
// on every variant (fMP4 failed with a TypeError probing for 608 captions) and every TS part
// self-contained (it transmuxes part by part; the second part of a segment failed with 3018),
// and the run's PART-HOLD-BACK on the image and I-frame playlists too (Shaka takes its live
// edge from the first live playlist it reads, the thumbnails', and sat 3 segments behind).
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

/**
 * Resolves once the master lists a thumbnail playlist of at least `images` images, as a viewer
 * joining a stream that has run a while sees it. Shaka reads that playlist first; without a
 * hold-back there it aims min(3, images) segments behind.
 */
async function thumbnailsListed(masterUrl: string, images: number): Promise<void> {
  let listed = 0;
  for (let tries = 0; tries < 100; tries++) {
    const uri = /#EXT-X-IMAGE-STREAM-INF:.*URI="([^"]+)"/.exec(await (await fetch(masterUrl)).text())?.[1];
    if (uri) listed = (await (await fetch(new URL(uri, masterUrl))).text()).split('\n').filter((line) => line.startsWith('#EXTINF')).length;
    if (listed >= images) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.fail(`${masterUrl}: ${listed} thumbnails listed after 20 s, ${images} expected`);
}

/** The first variant's media playlist, as the master lists it. */
async function variantPlaylist(masterUrl: string): Promise<string> {
  const master = await (await fetch(masterUrl)).text();
  const uri = master.split('\n').find((line) => line !== '' && !line.startsWith('#'));
  assert.ok(uri, master);
  return (await fetch(new URL(uri, masterUrl))).text();
}

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
        await thumbnailsListed(start.masterUrl, 4);
        const report = await measureHlsLatency({ url: start.masterUrl, player: 'shaka', seconds: WATCH_S, warmupS: 3, browser });
        t.diagnostic(`Shaka ${report.playerVersion} ${container}: median ${report.medianLatencyS} s, p95 ${report.p95LatencyS} s, ` +
          `target ${report.targetLatencyS} s, stalls ${report.stalls.length}, requests ${JSON.stringify(report.requests)}, errors ${JSON.stringify(report.errors)}`);
        assert.deepEqual(report.fatalErrors, [], 'no error Shaka gave up on');
        assert.match(report.playerVersion, /^v5\./);
        assert.ok(report.playedS >= WATCH_S / 2, `played ${report.playedS} s of ${WATCH_S}`);
        assert.equal(report.partsInPlaylist, true, 'Shaka read the playlists as low latency');
        assert.ok(report.requests.parts > 0, 'part URIs loaded');
        assert.ok(report.requests.blockingReloads > 0, 'blocking reloads (_HLS_msn) used');
        assert.ok(report.samples.length > 0, 'latency samples taken');
        assert.ok(report.medianLatencyS !== null && report.medianLatencyS > 0 && report.medianLatencyS < 30, `median latency ${report.medianLatencyS}`);
        // Shaka aims at the PART-HOLD-BACK our variants declare, not at 3 target durations.
        const variant = await variantPlaylist(start.masterUrl);
        const partHoldBack = Number(/PART-HOLD-BACK=([\d.]+)/.exec(variant)?.[1]);
        assert.ok(partHoldBack > 0, variant.slice(0, 300));
        assert.ok(report.targetLatencyS !== null && Math.abs(report.targetLatencyS - partHoldBack) < 0.01,
          `Shaka's presentation delay ${report.targetLatencyS} s, PART-HOLD-BACK ${partHoldBack} s`);
      } finally {
        const code = await demo.stop();
        assert.equal(code, 0, `demo exit; stderr: ${demo.stderr()}`);
      }
    });
  }
});
