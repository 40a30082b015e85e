// Captions, date ranges, in-band ID3 and thumbnails in real players (issue 25): a live run whose
// renderer captions its own clock once a second ("second N" from N to N+1 s on the stream's clock)
// and marks a date range, watched by hls.js (the watch page) and by Shaka Player in Chromium. The
// cue on screen is read back from the page and must name the second being shown (from the
// player's PROGRAM-DATE-TIME of the playhead) within one segment; the date range must reach both
// players with its attributes; hls.js must see the ID3 samples; the watch page's seek bar must
// show a thumbnail that loads while scrubbing.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';

import { launchBrowser, type BrowserHandle } from '../support/browser.js';
import { startLiveRun, waitFor, type LiveRun } from '../support/live-run.js';

const FPS = 30;
/**
 * How far a cue may be from its time on screen: the issue asks for one segment (1 s here); 0.9 s
 * is kept, so an error of the segments' 1.4 s ptsOffset (X-TIMESTAMP-MAP) cannot pass. (0.5 s
 * failed once at a load average of 8: a cue 0.84 s early, the page's sample late.)
 */
const TOLERANCE_SECONDS = 0.9;
const shakaScript = createRequire(import.meta.url).resolve('shaka-player/dist/shaka-player.compiled.js');

interface Sample {
  cues: string[];
  /** Seconds of the stream on screen, from the player's PROGRAM-DATE-TIME of the playhead. */
  streamTime: number | null;
}

/** "second N" of the cue on screen against the second shown: [N, N+1) holds the stream time, give or take TOLERANCE_SECONDS. */
function checkSample(sample: Sample, where: string): void {
  assert.ok(sample.streamTime !== null, `${where}: no PROGRAM-DATE-TIME at the playhead`);
  const seconds = sample.cues.map((text) => Number(/^second (\d+)$/.exec(text)?.[1]));
  assert.ok(seconds.length > 0 && seconds.every(Number.isInteger), `${where}: cues ${JSON.stringify(sample.cues)}`);
  for (const second of seconds) {
    assert.ok(second >= sample.streamTime - 1 - TOLERANCE_SECONDS && second <= sample.streamTime + TOLERANCE_SECONDS,
      `${where}: cue "second ${second}" on screen at stream time ${sample.streamTime.toFixed(2)} s`);
  }
}

describe('captions, date ranges and thumbnails in hls.js and Shaka', () => {
  let run: LiveRun;
  let browser: BrowserHandle;
  let startedAt: number;

  before(async () => {
    run = await startLiveRun({
      fps: FPS,
      maxSeconds: 90,
      captions: true,
      beforeFrame: (index, output) => {
        if (index % FPS !== 0) return;
        const second = index / FPS;
        output.addCaption({ start: second, end: second + 1, text: `second ${second}` });
        if (second === 2) {
          output.addMetadata({ id: 'marker-1', start: 2.5, duration: 3, class: 'com.example.chapter', attributes: { 'X-TITLE': 'Chapter one', 'X-N': 7 } });
        }
      },
    });
    startedAt = (await run.registry.getRun(run.runId))!.startedAt!.getTime();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await run?.cleanup();
  });

  test('hls.js on the watch page: captions on screen in time, the date range with its attributes, ID3 samples, thumbnails when scrubbing', { timeout: 120_000 }, async () => {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${run.server.url}/runs/${run.runId}/watch`);
    // Captions are on by default (DEFAULT=YES): wait for a cue on screen, then sample a few.
    const samples: Sample[] = [];
    await waitFor('hls.js to show captions', async () => {
      const sample = await hlsSample(page, startedAt);
      if (sample.cues.length > 0 && sample.streamTime !== null) samples.push(sample);
      return samples.length >= 4;
    }, { timeoutMs: 60_000, intervalMs: 700 });
    for (const [n, sample] of samples.entries()) checkSample(sample, `hls.js sample ${n}`);

    const state = await page.evaluate(() => {
      const s = (window as unknown as { abrcast: Record<string, unknown> }).abrcast;
      return { subtitleTracks: s.subtitleTracks, captionsOn: s.captionsOn, dateRanges: s.dateRanges, metadataSamples: s.metadataSamples };
    }) as { subtitleTracks: { name: string; lang: string }[]; captionsOn: boolean; dateRanges: Record<string, { class: string; attr: Record<string, string> }>; metadataSamples: { type: string }[] };
    assert.deepEqual(state.subtitleTracks, [{ name: 'English', lang: 'en' }]);
    assert.equal(state.captionsOn, true);
    const range = await waitFor('hls.js to report the date range', async () => (await page.evaluate(() =>
      (window as unknown as { abrcast: { dateRanges: Record<string, { class: string; attr: Record<string, string> }> } }).abrcast.dateRanges['marker-1'])));
    assert.equal(range.class, 'com.example.chapter');
    assert.equal(range.attr['X-TITLE'], 'Chapter one');
    assert.equal(range.attr['X-N'], '7');
    // The in-band ID3 of the same item (timed ID3 PES in MPEG-TS): hls.js's FRAG_PARSING_METADATA.
    await waitFor('hls.js to parse the ID3 sample', async () => (await page.evaluate(() =>
      (window as unknown as { abrcast: { metadataSamples: unknown[] } }).abrcast.metadataSamples.length)) > 0);

    // Scrubbing: the preview shows the thumbnail of the time under the pointer, and the image loads.
    await waitFor('thumbnails', async () => (await page.evaluate(() => (window as unknown as { abrcast: { thumbnails: unknown[] } }).abrcast.thumbnails.length)) >= 2);
    const box = (await page.locator('#timeline').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
    const preview = await waitFor('the scrub preview', async () => {
      const shown = await page.evaluate(() => {
        const image = document.getElementById('preview-image') as HTMLImageElement;
        const state = (window as unknown as { abrcast: { preview: { time: number; url: string | null } | null } }).abrcast.preview;
        return state && state.url && image.complete && image.naturalWidth > 0 ? { ...state, width: image.naturalWidth, visible: !document.getElementById('preview')!.hidden } : undefined;
      });
      return shown ?? undefined;
    });
    assert.equal(preview.width, 320, 'the thumbnail JPEG (320 wide by default) decoded in the page');
    assert.equal(preview.visible, true);
    // Toggling captions off hides them.
    await page.click('#captions');
    await waitFor('captions off', async () => (await hlsSample(page, startedAt)).cues.length === 0);
    assert.deepEqual(errors, []);
    await page.close();
    // The run's status says what it offers beside its variants.
    const status = await (await fetch(`${run.server.url}/runs/${run.runId}`)).json() as { tracks: Record<string, unknown> };
    assert.deepEqual({ ...status.tracks, thumbnails: Number(status.tracks.thumbnails) > 0 }, {
      subtitles: ['subtitles-en'], iframePlaylists: ['180p', '360p'], thumbnails: true, dateRanges: 1,
    });
  });

  test('Shaka Player: captions on screen in time, the date range as a timeline region with its attributes, the image track', { timeout: 120_000 }, async () => {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${run.server.url}/healthz`);
    await page.setContent('<video id="video" muted autoplay playsinline style="width:640px"></video>');
    await page.addScriptTag({ path: shakaScript });
    await page.evaluate(async (master) => {
      const w = window as unknown as { shaka: any; shakaState: any };
      w.shaka.polyfill.installAll();
      const player = new w.shaka.Player();
      await player.attach(document.getElementById('video'));
      const state = { regions: [] as unknown[], errors: [] as string[], player };
      w.shakaState = state;
      player.addEventListener('timelineregionadded', (event: any) => state.regions.push({ id: event.detail.id, values: event.detail.values.map((v: any) => [v.key, v.data]) }));
      player.addEventListener('error', (event: any) => state.errors.push(String(event.detail?.code)));
      await player.load(master);
      // Shaka 5: selecting a text track shows it.
      const [track] = player.getTextTracks();
      if (track) player.selectTextTrack(track);
    }, `${run.server.url}/runs/${run.runId}/master.m3u8`);

    const samples: Sample[] = [];
    await waitFor('Shaka to show captions', async () => {
      const sample = await page.evaluate((origin) => {
        const w = window as unknown as { shakaState: any };
        const video = document.getElementById('video') as HTMLVideoElement;
        const cues: string[] = [];
        for (const track of Array.from(video.textTracks)) {
          if (track.mode !== 'showing' || !track.activeCues) continue;
          for (const cue of Array.from(track.activeCues)) cues.push((cue as VTTCue).text);
        }
        const date = w.shakaState.player.getPlayheadTimeAsDate();
        return { cues, streamTime: date ? (date.getTime() - origin) / 1000 : null };
      }, startedAt);
      if (sample.cues.length > 0 && sample.streamTime !== null) samples.push(sample);
      return samples.length >= 4;
    }, { timeoutMs: 60_000, intervalMs: 700 });
    for (const [n, sample] of samples.entries()) checkSample(sample, `Shaka sample ${n}`);

    const region = await waitFor('Shaka to add the date range', async () => (await page.evaluate(() =>
      (window as unknown as { shakaState: { regions: { id: string; values: [string, string][] }[] } }).shakaState.regions.find((r) => r.id === 'marker-1'))));
    assert.deepEqual(Object.fromEntries(region.values.filter(([key]) => key.startsWith('X-'))), { 'X-TITLE': 'Chapter one', 'X-N': '7' });
    const images = await page.evaluate(() => (window as unknown as { shakaState: any }).shakaState.player.getImageTracks().map((t: any) => [t.width, t.height, t.mimeType]));
    assert.deepEqual(images, [[320, 180, 'image/jpeg']]);
    // Shaka resolves a time to its thumbnail through the image playlist.
    const thumbnail = await page.evaluate(async () => {
      const { player } = (window as unknown as { shakaState: any }).shakaState;
      const [track] = player.getImageTracks();
      const found = await player.getThumbnails(track.id, 1.5);
      return found && { uris: found.uris, width: found.width, height: found.height };
    });
    assert.ok(thumbnail && thumbnail.uris.length === 1 && /\/ipfs\/\w+\?filename=thumbnail\.jpg$/.test(thumbnail.uris[0]), JSON.stringify(thumbnail));
    assert.deepEqual(await page.evaluate(() => (window as unknown as { shakaState: { errors: string[] } }).shakaState.errors), []);
    assert.deepEqual(errors, []);
    await page.close();
  });
});

async function hlsSample(page: Page, startedAt: number): Promise<Sample> {
  return page.evaluate((origin) => {
    const state = (window as unknown as { abrcast: { hls: { playingDate: Date | null } | null; activeCues: { text: string }[] } }).abrcast;
    const date = state.hls?.playingDate;
    return { cues: state.activeCues.map((cue) => cue.text), streamTime: date instanceof Date ? (date.getTime() - origin) / 1000 : null };
  }, startedAt);
}

describe('captions and date ranges in an LL-HLS run', () => {
  const PART = 10 / FPS;
  let run: LiveRun;
  let browser: BrowserHandle;
  let startedAt: number;

  before(async () => {
    run = await startLiveRun({
      fps: FPS,
      maxSeconds: 90,
      partDuration: PART,
      captions: true,
      beforeFrame: (index, output) => {
        if (index % FPS !== 0) return;
        const second = index / FPS;
        output.addCaption({ start: second, end: second + 1, text: `second ${second}` });
        if (second === 1) output.addMetadata({ id: 'marker-ll', start: 1.5, class: 'com.example.chapter', attributes: { 'X-TITLE': 'LL chapter' } });
      },
    });
    startedAt = (await run.registry.getRun(run.runId))!.startedAt!.getTime();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await run?.cleanup();
  });

  test('the subtitle track is an LL-HLS playlist of WebVTT parts, cut on the video parts, each with its cues', { timeout: 60_000 }, async () => {
    const master = await (await fetch(`${run.server.url}/runs/${run.runId}/master.m3u8`)).text();
    assert.match(master, new RegExp(`URI="/runs/${run.runId}/quality/subtitles-en/playlist\\.m3u8"`));
    const base = `${run.server.url}/runs/${run.runId}/quality/subtitles-en/`;
    const playlist = await waitFor('parts in the subtitle playlist', async () => {
      const text = await (await fetch(`${base}playlist.m3u8`)).text();
      return /#EXT-X-PART:DURATION=[\d.]+,URI="part\/\d+\.\d+\.vtt",INDEPENDENT=YES/.test(text) && /#EXTINF/.test(text) ? text : undefined;
    }, { timeoutMs: 30_000 });
    assert.match(playlist, /^#EXT-X-PART-INF:PART-TARGET=0\.33334$/m);
    assert.match(playlist, /^#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part\/\d+\.\d+\.vtt"$/m);
    // The parts of a whole segment: each a WebVTT file with the cue of its second; joined, the segment.
    const msn = Number(/segment\/(\d+)\.vtt/.exec(playlist)![1]);
    const parts = [...playlist.matchAll(new RegExp(`URI="(part/${msn}\\.(\\d+)\\.vtt)"`, 'g'))].map((m) => m[1]!);
    assert.ok(parts.length >= 1);
    for (const part of parts) {
      const response = await fetch(base + part);
      assert.equal(response.headers.get('content-type'), 'text/vtt; charset=utf-8');
      const vtt = await response.text();
      assert.match(vtt, /^WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00\.000\n/);
      assert.match(vtt, new RegExp(`\\nsecond ${msn}\\n`));
    }
    const segment = await (await fetch(`${base}segment/${msn}.vtt`)).text();
    assert.equal(segment.match(/^WEBVTT/gm)?.length, 1, 'one file');
    assert.equal(segment.match(new RegExp(`^second ${msn}$`, 'gm'))?.length, 1, 'the cue once');
    // The video playlists carry the date range, with a PROGRAM-DATE-TIME on every segment.
    const video = await waitFor('the date range in the LL playlist', async () => {
      const text = await (await fetch(`${run.server.url}/runs/${run.runId}/quality/360p/playlist.m3u8`)).text();
      return /#EXT-X-DATERANGE:ID="marker-ll"/.test(text) ? text : undefined;
    }, { timeoutMs: 30_000 });
    assert.equal(video.match(/#EXT-X-PROGRAM-DATE-TIME/g)?.length, video.match(/#EXTINF/g)?.length);
  });

  test('hls.js at the LL edge shows the cue of every second as it plays, and the date range', { timeout: 120_000 }, async () => {
    const page = await browser.context.newPage();
    await page.goto(`${run.server.url}/runs/${run.runId}/watch`);
    const samples: (Sample & { latency: number | null; lowLatency: boolean | null })[] = [];
    await waitFor('six samples at the live edge', async () => {
      const sample = await page.evaluate((origin) => {
        const state = (window as unknown as { abrcast: { hls: { playingDate: Date | null } | null; activeCues: { text: string }[]; pdtLatency: number | null; lowLatency: boolean | null } }).abrcast;
        const date = state.hls?.playingDate;
        return { cues: state.activeCues.map((c) => c.text), streamTime: date instanceof Date ? (date.getTime() - origin) / 1000 : null, latency: state.pdtLatency, lowLatency: state.lowLatency };
      }, startedAt);
      // Once playing, every sample counts: a missing cue at the edge is a failure, not a retry.
      if (sample.streamTime !== null && (samples.length > 0 || sample.cues.length > 0)) samples.push(sample);
      return samples.length >= 6;
    }, { timeoutMs: 60_000, intervalMs: 600 });
    console.log(`LL captions: PDT latency at the samples ${samples.map((s) => s.latency?.toFixed(2)).join(', ')} s`);
    for (const [n, sample] of samples.entries()) {
      assert.equal(sample.lowLatency, true);
      checkSample(sample, `LL sample ${n}`);
    }
    const range = await waitFor('hls.js to report the date range', async () => (await page.evaluate(() =>
      (window as unknown as { abrcast: { dateRanges: Record<string, { attr: Record<string, string> }> } }).abrcast.dateRanges['marker-ll'])));
    assert.equal(range.attr['X-TITLE'], 'LL chapter');
    await page.close();
  });
});
