// A live run with a soundtrack, played by hls.js in Chromium: every level
// carries AAC next to H.264, and the browser really decodes the audio.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';

import { launchBrowser, type BrowserHandle } from '../support/browser.js';
import { startLiveRun, waitFor, type LiveRun } from '../support/live-run.js';

const run = promisify(execFile);

// MPEG-TS has no edit list, so the AAC encoder's 1024-sample priming frame
// shifts the video start to 21.3 ms, as in any ffmpeg-made TS; hls.js steps
// over that start gap with this non-fatal notice. Anything else is a failure.
const unexpected = (errors: string[]) => errors.filter((details) => details !== 'bufferSeekOverHole');

interface AudioState {
  codecs: Array<{ videoCodec?: string; audioCodec?: string }>;
  currentTime: number;
  audioBytes: number;
  ended: boolean;
  errors: string[];
}

function audioState(page: Page): Promise<AudioState> {
  return page.evaluate(() => {
    const video = document.querySelector('video') as HTMLVideoElement & { webkitAudioDecodedByteCount?: number };
    const state = (window as unknown as { abrcast: { hls: { levels: Array<{ videoCodec?: string; audioCodec?: string }> } | null; ended: boolean; errors: string[] } }).abrcast;
    return {
      codecs: (state.hls?.levels ?? []).map((l) => ({ videoCodec: l.videoCodec, audioCodec: l.audioCodec })),
      currentTime: video.currentTime,
      audioBytes: video.webkitAudioDecodedByteCount ?? 0,
      ended: state.ended || video.ended,
      errors: state.errors.slice(),
    };
  });
}

describe('watch page plays a live run with audio', () => {
  let dir: string;
  let live: LiveRun;
  let browser: BrowserHandle;
  let page: Page;
  const until = (what: string, check: (s: AudioState) => boolean, timeoutMs = 20_000) =>
    waitFor(what, async () => {
      const state = await audioState(page);
      return check(state) ? state : undefined;
    }, { timeoutMs, intervalMs: 200 });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'abrcast-browser-audio-'));
    const tone = join(dir, 'tone.m4a');
    // Longer than the run: the output cuts the audio where the video ends.
    await run('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '60', '-c:a', 'aac', tone]);
    live = await startLiveRun({ maxSeconds: 30, audioSource: tone });
    browser = await launchBrowser();
    page = await browser.context.newPage();
    await waitFor('the first publish', () => live.versions.length >= 2, { timeoutMs: 10_000 });
    await page.goto(`${live.server.url}/runs/${live.runId}/watch`, { timeout: 15_000 });
  });
  after(async () => {
    await browser?.close();
    await live?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('every level announces H.264 and AAC, and the browser decodes audio while playing', async () => {
    const playing = await until('playback with decoded audio', (s) => s.codecs.length > 0 && s.currentTime > 2 && s.audioBytes > 0);
    for (const level of playing.codecs) {
      assert.match(level.videoCodec ?? '', /^avc1\./);
      assert.equal(level.audioCodec, 'mp4a.40.2');
    }
    assert.deepEqual(unexpected(playing.errors), []);
  });

  test('after stop it plays to the end, audio included', async () => {
    await live.stop();
    const done = await until('the video element to end', (s) => s.ended, 40_000);
    assert.ok(done.audioBytes > 0);
    assert.deepEqual(unexpected(done.errors), []);
  });
});
