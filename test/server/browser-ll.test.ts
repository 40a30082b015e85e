// `abrcast demo --low-latency` end to end in Chromium, on the encoder's own parts
// (TS and fMP4): an independent hls.js page (default config, lowLatencyMode) plays
// it through blocking reloads and part URIs with no fatal error, and the latency
// to the renderer's clock (now − PROGRAM-DATE-TIME of the frame on screen) is
// measured; the watch page shows its own readout; the same player still plays a
// run without --low-latency. No timing thresholds here: the goals (median ≤ 2 s,
// no stall over 0.5 s) are checked by `npm run bench -- --case latency`.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { launchBrowser, type BrowserHandle } from '../support/browser.js';
import { launchDemo } from '../support/demo-process.js';
import { measureHlsLatency, type HlsLatencyReport } from '../support/hls-latency-probe.js';
import { waitFor } from '../support/live-run.js';

/** Small and fast, so three runs fit a loaded 2-core machine; --duration only caps a run the test fails to stop. */
const DEMO = ['--size', '640x360', '--segment', '1', '--preset', 'ultrafast', '--duration', '120'];
const WATCH_S = 8;
const WARMUP_S = 3;

function describeReport(report: HlsLatencyReport): string {
  return `median ${report.medianLatencyS} s, p95 ${report.p95LatencyS} s, max stall after ${report.warmupS} s ${report.maxStallAfterS} s, ` +
    `first frame ${report.firstFrameS} s, requests ${JSON.stringify(report.requests)}, errors ${JSON.stringify(report.errors)}`;
}

/** What every watched run must show: frames on screen, dated, no fatal error. */
function assertPlayed(report: HlsLatencyReport): void {
  assert.deepEqual(report.fatalErrors, [], 'no fatal hls.js error');
  assert.ok(report.playedS >= WATCH_S / 2, `played ${report.playedS} s of ${WATCH_S}`);
  assert.ok(report.samples.length > 0, 'latency samples taken');
  // Sane: the frame on screen was rendered before now, and not minutes ago.
  assert.ok(report.medianLatencyS !== null && report.medianLatencyS > 0 && report.medianLatencyS < 30, `median latency ${report.medianLatencyS}`);
  assert.ok(report.p95LatencyS! >= report.medianLatencyS!);
}

describe('abrcast demo watched by hls.js in Chromium', () => {
  let dir: string;
  let browser: BrowserHandle;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'abrcast-browser-ll-'));
    browser = await launchBrowser({ width: 640, height: 360 });
  });
  after(async () => {
    await browser?.close();
    await rm(dir, { recursive: true, force: true });
  });

  for (const container of ['ts', 'fmp4'] as const) {
    test(`--low-latency --container ${container}: parts, blocking reloads, a latency figure, no fatal error`, { timeout: 180_000 }, async (t) => {
      const demo = launchDemo([...DEMO, '--low-latency', '--container', container], join(dir, `ll-${container}`));
      try {
        const start = await demo.started;
        assert.equal(start.container, container);
        assert.equal(start.partDuration, 10 / 30);
        await demo.firstMaster();
        const report = await measureHlsLatency({ url: start.masterUrl, seconds: WATCH_S, warmupS: WARMUP_S, browser });
        t.diagnostic(`${container} LL: ${describeReport(report)}`);
        assertPlayed(report);
        assert.equal(report.partsInPlaylist, true, 'the media playlists list parts');
        assert.ok(report.requests.parts > 0, 'part URIs loaded');
        assert.ok(report.requests.blockingReloads > 0, 'blocking reloads (_HLS_msn) used');

        if (container === 'ts') {
          // The watch page (its own hls.js set-up) plays the same run in LL mode and shows the latency.
          const page = await browser.context.newPage();
          try {
            await page.goto(start.watchUrl, { timeout: 15_000 });
            const shown = await waitFor('the watch page in LL mode with a latency readout', () =>
              page.evaluate(() => {
                const s = (window as unknown as { abrcast: { lowLatency: boolean | null; pdtLatency: number | null } }).abrcast;
                return s.lowLatency === true && s.pdtLatency !== null ? s.pdtLatency : undefined;
              }), { timeoutMs: 30_000, intervalMs: 200 });
            assert.ok(shown > 0 && shown < 30, `watch page latency ${shown}`);
          } finally {
            await page.close();
          }
        }
      } finally {
        const code = await demo.stop();
        assert.equal(code, 0, `demo exit; stderr: ${demo.stderr()}`);
      }
    });
  }

  test('without --low-latency the same player still plays (no parts, no blocking reloads)', { timeout: 180_000 }, async (t) => {
    const demo = launchDemo(DEMO, join(dir, 'plain'));
    try {
      const start = await demo.started;
      assert.equal(start.partDuration, null);
      await demo.firstMaster();
      const report = await measureHlsLatency({ url: start.masterUrl, seconds: WATCH_S, warmupS: WARMUP_S, browser });
      t.diagnostic(`ts plain: ${describeReport(report)}`);
      assertPlayed(report);
      assert.equal(report.partsInPlaylist, false);
      assert.deepEqual([report.requests.parts, report.requests.blockingReloads], [0, 0]);
      assert.ok(report.requests.segments > 0);
    } finally {
      const code = await demo.stop();
      assert.equal(code, 0, `demo exit; stderr: ${demo.stderr()}`);
    }
  });
});
