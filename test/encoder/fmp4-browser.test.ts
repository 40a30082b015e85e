// fMP4 segments as a browser sees them: Chromium's MSE, fed by hls.js from a plain VOD playlist
// (EXT-X-MAP + the segments abrcast wrote to outputDir), plays the video and decodes the audio to
// the end, with no error. What ffprobe accepts is not always what MSE accepts (box layout,
// timestamps per track), so this is judged by the browser itself.
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { LadderEncoder, type SegmentEvent } from '../../src/index.js';
import { launchBrowser, type BrowserHandle } from '../support/browser.js';
import { FrameGenerator } from '../support/frames.js';

const FPS = 30;
const SECONDS = 6;
const hlsJs = fileURLToPath(new URL('../../node_modules/hls.js/dist/hls.min.js', import.meta.url));

const PAGE = `<!doctype html><video muted autoplay></video><script src="/hls.min.js"></script><script>
  const video = document.querySelector('video');
  window.state = { errors: [], fatal: null };
  const hls = new Hls();
  hls.on(Hls.Events.ERROR, (_, data) => { window.state.errors.push(data.details); if (data.fatal) window.state.fatal = data.details; });
  hls.loadSource('/out/high/playlist.m3u8');
  hls.attachMedia(video);
</script>`;

describe('fMP4 segments play in Chromium through hls.js', () => {
  let dir: string;
  let server: Server;
  let browser: BrowserHandle;
  const segments: SegmentEvent[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'abrcast-fmp4-browser-'));
    const encoder = new LadderEncoder({
      width: 320, height: 180, fps: FPS, segmentDuration: 2, encoder: 'x264', x264Preset: 'veryfast', container: 'fmp4',
      renditions: [{ name: 'high', width: 320, height: 180, bitrate: 400 }], outputDir: dir,
      audio: { pcm: { sampleRate: 48_000, channels: 2 } },
    });
    encoder.on('segment', (s) => segments.push(s));
    const frames = new FrameGenerator(320, 180);
    const tone = new Float32Array((48_000 / FPS) * 2);
    for (let i = 0; i < SECONDS * FPS; i++) {
      for (let j = 0; j < tone.length; j += 2) tone[j] = tone[j + 1] = 0.3 * Math.sin((2 * Math.PI * 440 * (i * tone.length / 2 + j / 2)) / 48_000);
      await encoder.writeAudio(tone);
      await encoder.write(frames.frame(i));
    }
    await encoder.close();
    const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-TARGETDURATION:2', '#EXT-X-PLAYLIST-TYPE:VOD', '#EXT-X-MAP:URI="init.mp4"'];
    for (const s of segments) lines.push(`#EXTINF:${s.duration.toFixed(6)},`, `segment_${String(s.index).padStart(5, '0')}.m4s`);
    lines.push('#EXT-X-ENDLIST');
    await writeFile(join(dir, 'high', 'playlist.m3u8'), `${lines.join('\n')}\n`);

    server = createServer(async (request, response) => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      if (url.pathname === '/') return void response.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
      const path = url.pathname === '/hls.min.js' ? hlsJs : normalize(join(dir, url.pathname.replace(/^\/out\//, '')));
      if (path !== hlsJs && !path.startsWith(dir)) return void response.writeHead(403).end();
      try {
        await stat(path);
      } catch {
        return void response.writeHead(404).end();
      }
      const type = path.endsWith('.m3u8') ? 'application/vnd.apple.mpegurl' : path.endsWith('.js') ? 'text/javascript' : 'video/mp4';
      response.writeHead(200, { 'content-type': type });
      createReadStream(path).pipe(response);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('plays to the end with audio decoded and no error', { timeout: 60_000 }, async () => {
    assert.equal(segments.length, SECONDS / 2);
    const page = await browser.context.newPage();
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await page.waitForFunction(() => (document.querySelector('video') as HTMLVideoElement).ended || (window as unknown as { state: { fatal: string | null } }).state.fatal !== null,
      undefined, { timeout: 45_000, polling: 200 });
    const result = await page.evaluate(() => {
      const video = document.querySelector('video') as HTMLVideoElement & { webkitAudioDecodedByteCount?: number; webkitVideoDecodedByteCount?: number };
      const { errors, fatal } = (window as unknown as { state: { errors: string[]; fatal: string | null } }).state;
      const played = video.played.length > 0 ? video.played.end(video.played.length - 1) - video.played.start(0) : 0;
      return { ended: video.ended, played, audioBytes: video.webkitAudioDecodedByteCount ?? 0, videoBytes: video.webkitVideoDecodedByteCount ?? 0, errors, fatal };
    });
    assert.equal(result.fatal, null, `fatal hls.js error: ${result.fatal}`);
    assert.ok(result.ended, 'reached the end');
    assert.ok(result.played > SECONDS - 0.5, `played ${result.played} s of ${SECONDS}`);
    assert.ok(result.audioBytes > 0 && result.videoBytes > 0, `decoded ${result.audioBytes} audio and ${result.videoBytes} video bytes`);
    assert.deepEqual(result.errors, [], 'no hls.js error, fatal or not');
  });
});
