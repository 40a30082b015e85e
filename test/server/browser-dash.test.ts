// LL-DASH in Chromium: dash.js 5 and Shaka Player 5 play the MPD of a live fMP4
// LL run (video and AAC audio muxed in each Representation, as in the LL-HLS
// renditions: the same bytes), in low-latency mode, with the segment being
// written delivered by chunked transfer; then the static MPD of the same run
// once it ended. Independent player pages (test/support/hls-latency-probe.ts)
// with each player's defaults; latency is now − the frame's wall-clock time
// (availabilityStartTime + presentation time). No timing thresholds: those
// are `npm run bench -- --case latency` goals.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';

import { launchBrowser, type BrowserHandle } from '../support/browser.js';
import { measureHlsLatency, type HlsLatencyReport, type ProbePlayer } from '../support/hls-latency-probe.js';
import { startLiveRun, waitFor, type LiveRun } from '../support/live-run.js';
import { checkMpd } from '../support/mpd-check.js';

const WATCH_S = 8;
const WARMUP_S = 3;

function describeReport(report: HlsLatencyReport): string {
  return `${report.player} ${report.playerVersion}: median ${report.medianLatencyS} s, p95 ${report.p95LatencyS} s, max stall after ${report.warmupS} s ` +
    `${report.maxStallAfterS} s, first frame ${report.firstFrameS} s, audio ${report.audioDecodedBytes} B, requests ${JSON.stringify(report.requests)}, errors ${JSON.stringify(report.errors)}`;
}

function assertPlayed(report: HlsLatencyReport, minPlayedS: number): void {
  assert.deepEqual(report.fatalErrors, [], `no fatal ${report.player} error`);
  assert.ok(report.playedS >= minPlayedS, `played ${report.playedS} s`);
  assert.ok(report.audioDecodedBytes > 0, 'the AAC muxed with the video in each Representation was decoded');
  assert.ok(report.requests.segments > 0, 'segments loaded');
}

describe('LL-DASH in Chromium: dash.js and Shaka Player on the MPD', () => {
  let dir: string;
  let live: LiveRun;
  let browser: BrowserHandle;
  let mpdUrl: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'abrcast-browser-dash-'));
    const tone = join(dir, 'tone.m4a');
    await promisify(execFile)('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '120', '-c:a', 'aac', tone]);
    live = await startLiveRun({ maxSeconds: 120, audioSource: tone, partDuration: 10 / 30, output: { container: 'fmp4' } });
    mpdUrl = `${live.server.url}/runs/${live.runId}/manifest.mpd`;
    browser = await launchBrowser({ width: 640, height: 360 });
    // The MPD answers once the first segment is published.
    await waitFor('the MPD', async () => (await fetch(mpdUrl)).status === 200, { timeoutMs: 30_000, intervalMs: 200 });
    // A DASH player computes which segment is being written from the clock (availabilityStartTime + N
    // segment durations): the run must have caught up with it after its start-up (frames are paced from
    // startedAt, and the first ones are written at once) before a player opens it.
    const { startedAt, segmentDuration } = (await live.registry.getRun(live.runId))!;
    await waitFor('the run to keep its PROGRAM-DATE-TIME timeline', async () => {
      const due = Math.floor((Date.now() - startedAt!.getTime()) / 1000 / segmentDuration);
      const latest = Object.values(await live.registry.latestParts(live.runId));
      return latest.length > 0 && latest.every((part) => part.segmentIndex >= due);
    }, { timeoutMs: 60_000, intervalMs: 200 });
  });
  after(async () => {
    await browser?.close();
    await live?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  for (const player of ['dash.js', 'shaka'] as ProbePlayer[]) {
    test(`${player} plays the live MPD in low-latency mode, audio and video from the same CMAF segments`, { timeout: 120_000 }, async (t) => {
      checkMpd(await (await fetch(mpdUrl)).text());
      const report = await measureHlsLatency({ url: mpdUrl, player, seconds: WATCH_S, warmupS: WARMUP_S, browser });
      t.diagnostic(`live: ${describeReport(report)}`);
      assertPlayed(report, WATCH_S / 2);
      assert.equal(report.partsInPlaylist, true, `${player} is in its low-latency mode`);
      assert.equal(report.requests.parts, 0, 'DASH loads whole segments (parts come as their chunks)');
      assert.ok(report.medianLatencyS !== null && report.medianLatencyS > 0 && report.medianLatencyS < 30, `median latency ${report.medianLatencyS}`);
    });
  }

  test('once the run ended, both play its static MPD from the start', { timeout: 120_000 }, async (t) => {
    await live.stop();
    const text = await waitFor('the static MPD', async () => {
      const body = await (await fetch(mpdUrl)).text();
      return checkMpd(body).type === 'static' ? body : undefined;
    });
    assert.match(text, /mediaPresentationDuration="PT\d+(\.\d+)?S"/);
    for (const player of ['dash.js', 'shaka'] as ProbePlayer[]) {
      const report = await measureHlsLatency({ url: mpdUrl, player, seconds: 4, warmupS: 0, browser });
      t.diagnostic(`ended: ${describeReport(report)}`);
      assertPlayed(report, 2);
    }
  });
});
