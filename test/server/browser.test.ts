// The watch page in a real browser during a real live run: hls.js loads every
// level, playback advances, the playlist it holds grows with no page reload
// (which only works because variant URLs are the server's, not CIDs), and after
// the run stops the player sees ENDLIST and plays to the end.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';

import { launchBrowser, type BrowserHandle } from '../support/browser.js';
import { LIVE_LADDER, startLiveRun, waitFor, type LiveRun } from '../support/live-run.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

interface PlayerState {
  levels: { name: string; width: number; height: number }[];
  currentTime: number;
  duration: number;
  paused: boolean;
  levelUpdates: number;
  lastFragmentCount: number;
  live: boolean | null;
  endList: boolean;
  ended: boolean;
  loadedLevels: number[];
  bufferedByLevel: Record<number, number>;
  errors: string[];
  marker: unknown;
  navigations: number;
  lowLatency: boolean | null;
  pdtLatency: number | null;
  latencyText: string;
}

declare global {
  interface Window {
    abrcast: {
      hls: { levels: { name: string; width: number; height: number }[] } | null;
      levelUpdates: number;
      lastFragmentCount: number;
      live: boolean | null;
      endList: boolean;
      ended: boolean;
      loadedLevels: number[];
      bufferedByLevel: Record<number, number>;
      errors: string[];
      lowLatency: boolean | null;
      pdtLatency: number | null;
    };
    testMarker?: unknown;
  }
}

function playerState(page: Page): Promise<PlayerState> {
  return page.evaluate(() => {
    const video = document.querySelector('video')!;
    const state = window.abrcast;
    return {
      levels: (state.hls?.levels ?? []).map((l) => ({ name: l.name, width: l.width, height: l.height })),
      currentTime: video.currentTime,
      duration: video.duration,
      paused: video.paused,
      levelUpdates: state.levelUpdates,
      lastFragmentCount: state.lastFragmentCount,
      live: state.live,
      endList: state.endList,
      ended: state.ended || video.ended,
      loadedLevels: state.loadedLevels.slice(),
      bufferedByLevel: { ...state.bufferedByLevel },
      errors: state.errors.slice(),
      marker: window.testMarker,
      navigations: performance.getEntriesByType('navigation').length,
      lowLatency: state.lowLatency,
      pdtLatency: state.pdtLatency,
      latencyText: document.getElementById('stat-pdt-latency')!.textContent ?? '',
    };
  });
}

describe('watch page in Chromium during a live run', () => {
  let live: LiveRun;
  let browser: BrowserHandle;
  let page: Page;
  const until = (what: string, check: (state: PlayerState) => boolean, timeoutMs = 20_000) =>
    waitFor(what, async () => {
      const state = await playerState(page);
      return check(state) ? state : undefined;
    }, { timeoutMs, intervalMs: 200 });

  before(async () => {
    live = await startLiveRun({ maxSeconds: 60 });
    browser = await launchBrowser();
    page = await browser.context.newPage();
    await waitFor('the first publish', () => live.versions.length >= 2, { timeoutMs: 10_000 });
    await page.goto(`${live.server.url}/runs/${live.runId}/watch`, { timeout: 15_000 });
    await page.evaluate(() => { window.testMarker = 'same page'; });
  });
  after(async () => {
    await browser?.close();
    await live?.cleanup();
  });

  test('hls.js reads both levels from the server master and loads and buffers each one', async () => {
    const state = await until('the manifest', (s) => s.levels.length > 0);
    // hls.js orders levels by bitrate, lowest first.
    assert.deepEqual(
      state.levels.map((l) => [l.name, l.width, l.height]),
      LIVE_LADDER.map((r) => [r.name, r.width, r.height]).reverse(),
    );
    const options = await page.locator('#quality option').allTextContents();
    assert.equal(options.length, LIVE_LADDER.length + 1);
    assert.equal(options[0], 'Auto');
    for (let level = 0; level < LIVE_LADDER.length; level++) {
      await page.selectOption('#quality', String(level));
      await until(`level ${level} loaded and buffered`, (s) => s.loadedLevels.includes(level) && (s.bufferedByLevel[level] ?? 0) > 0);
    }
    await page.selectOption('#quality', '-1');
  });

  test('playback advances across several segments while the held playlist grows, without a reload', async () => {
    const first = await until('playback to start', (s) => s.currentTime > 0 && !s.paused && s.lastFragmentCount > 0);
    assert.equal(first.live, true);
    const later = await until(
      'three more seconds of playback and three more segments',
      (s) => s.currentTime >= first.currentTime + 3 && s.lastFragmentCount >= first.lastFragmentCount + 3,
    );
    assert.ok(later.levelUpdates > first.levelUpdates, `LEVEL_UPDATED ${first.levelUpdates} -> ${later.levelUpdates}`);
    assert.equal(later.marker, 'same page');
    assert.equal(later.navigations, 1);
    assert.equal(later.endList, false);
    // lowLatencyMode is on, yet a plain (non-LL) run plays as before; the PDT latency readout shows a value.
    assert.equal(later.lowLatency, false);
    const timed = await until('a latency readout from PROGRAM-DATE-TIME', (s) => s.pdtLatency !== null);
    assert.ok(timed.pdtLatency! > 0 && timed.pdtLatency! < 30, `latency ${timed.pdtLatency} s`);
    assert.match(timed.latencyText, /^\d+\.\d\d s$/);

    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'watch-page.png') });
    const phone = await browser.context.newPage();
    try {
      await phone.setViewportSize({ width: 390, height: 844 });
      await phone.goto(`${live.server.url}/runs/${live.runId}/watch`, { timeout: 15_000 });
      // Wait for the stats panel to show a level, so the screenshot shows a filled-in page.
      await phone.waitForFunction(
        () => (document.querySelector('video')?.currentTime ?? 0) > 1 && document.getElementById('stat-level')?.textContent !== '–',
        undefined,
        { timeout: 15_000 },
      );
      await phone.screenshot({ path: join(ARTIFACTS, 'watch-page-phone.png'), fullPage: true });
    } finally {
      await phone.close();
    }
  });

  test('after stop the player sees ENDLIST and plays to the end', async () => {
    await live.stop();
    const ended = await until('ENDLIST in the held playlist', (s) => s.endList && s.live === false);
    assert.equal(ended.marker, 'same page');
    const segments = Math.ceil(live.framesWritten() / live.fps);
    assert.equal(ended.lastFragmentCount, segments);
    // 'ended' fires only once hls.js has ended the MediaSource after the last segment.
    const done = await until('the video element to end', (s) => s.ended, 30_000);
    assert.ok(Math.abs(done.duration - live.framesWritten() / live.fps) < 0.5, `duration ${done.duration}`);
    assert.ok(done.currentTime >= done.duration - 0.1, `stopped at ${done.currentTime} of ${done.duration}`);
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ended', undefined, { timeout: 5_000 });
  });
});
