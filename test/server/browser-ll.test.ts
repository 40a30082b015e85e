// hls.js (lowLatencyMode, the watch page) on an LL-HLS run in Chromium: it reads
// the parts, uses blocking reloads and part URIs, and plays on. Until the native
// core emits parts (issue 16's other half), each real TS segment is cut here
// when it ends into parts of 10 frames at video PES starts (frame boundaries,
// as the native parts will be), in the contract's shape; once the encoder emits
// its own parts, those are used instead.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';

import { launchBrowser, type BrowserHandle } from '../support/browser.js';
import { startLiveRun, waitFor, type LiveRun } from '../support/live-run.js';

const TS_PACKET = 188;
const FPS = 30;
const PART_FRAMES = 10;

/** Byte offsets of the TS packets that start a video PES (one per frame), in order. */
function frameStarts(data: Buffer): number[] {
  const starts: number[] = [];
  for (let at = 0; at + TS_PACKET <= data.length; at += TS_PACKET) {
    if ((data[at + 1] & 0x40) === 0) continue; // payload_unit_start_indicator
    const control = (data[at + 3] >> 4) & 0x3;
    if ((control & 0x1) === 0) continue; // no payload
    const payload = at + 4 + ((control & 0x2) !== 0 ? 1 + data[at + 4] : 0);
    if (data[payload] === 0 && data[payload + 1] === 0 && data[payload + 2] === 1 && (data[payload + 3] & 0xf0) === 0xe0) starts.push(at);
  }
  return starts;
}

interface LlState {
  lowLatency: boolean | null;
  pdtLatency: number | null;
  currentTime: number;
  paused: boolean;
  errors: string[];
}

describe('watch page on an LL-HLS run in Chromium', () => {
  let live: LiveRun;
  let browser: BrowserHandle;
  let page: Page;
  const requests: string[] = [];
  const state = (): Promise<LlState> =>
    page.evaluate(() => {
      const s = (window as unknown as { abrcast: { lowLatency: boolean | null; pdtLatency: number | null; errors: string[] } }).abrcast;
      const video = document.querySelector('video')!;
      return { lowLatency: s.lowLatency, pdtLatency: s.pdtLatency, currentTime: video.currentTime, paused: video.paused, errors: s.errors.slice() };
    });

  before(async () => {
    live = await startLiveRun({ maxSeconds: 40, fps: FPS, partDuration: PART_FRAMES / FPS });
    const encoder = live.output.encoder as unknown as {
      on(event: string, listener: (value: never) => void): void;
      emit(event: string, value: unknown): boolean;
    };
    let nativeParts = false;
    encoder.on('part', (part: { synthetic?: boolean }) => {
      if (!part.synthetic) nativeParts = true;
    });
    encoder.on('segment', (segment: { rendition: string; index: number; duration: number; data: Buffer }) => {
      if (nativeParts) return;
      const starts = frameStarts(segment.data);
      const parts = Math.ceil(starts.length / PART_FRAMES);
      for (let part = 0; part < parts; part++) {
        // The first part also carries what precedes the first frame (PAT, PMT).
        const start = part === 0 ? 0 : starts[part * PART_FRAMES];
        const end = part + 1 < parts ? starts[(part + 1) * PART_FRAMES] : segment.data.length;
        const frames = Math.min(PART_FRAMES, starts.length - part * PART_FRAMES);
        encoder.emit('part', {
          rendition: segment.rendition, segmentIndex: segment.index, partIndex: part, duration: frames / FPS,
          independent: part === 0, bytes: end - start, data: segment.data.subarray(start, end), synthetic: true,
        });
      }
    });
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.on('request', (request) => requests.push(request.url()));
    await page.goto(`${live.server.url}/runs/${live.runId}/watch`, { timeout: 15_000 });
  });
  after(async () => {
    await browser?.close();
    await live?.cleanup();
  });

  test('hls.js plays the LL playlist with blocking reloads and parts, and the latency readout runs', async (t) => {
    const first = await waitFor('LL playback', async () => {
      const s = await state();
      return s.lowLatency === true && s.currentTime > 0 && !s.paused ? s : undefined;
    }, { timeoutMs: 30_000, intervalMs: 200 });
    const later = await waitFor('three more seconds of playback', async () => {
      const s = await state();
      return s.currentTime >= first.currentTime + 3 && s.pdtLatency !== null ? s : undefined;
    }, { timeoutMs: 30_000, intervalMs: 200 });
    assert.ok(requests.some((url) => /playlist\.m3u8\?_HLS_msn=\d+&_HLS_part=\d+/.test(url)), 'blocking reloads');
    assert.ok(requests.some((url) => /\/part\/\d+\.\d+\.ts$/.test(url)), 'part URIs loaded');
    t.diagnostic(`latency to the renderer (1-s segments, parts cut when each segment ends): ${later.pdtLatency!.toFixed(2)} s; hls.js errors: ${later.errors.join(', ') || 'none'}`);
    assert.ok(later.pdtLatency! > 0 && later.pdtLatency! < 30);
    // Frame-aligned parts decode: no append or media errors (a stall at start-up is not one).
    assert.deepEqual(later.errors.filter((detail) => detail !== 'bufferStalledError'), []);
  });
});
