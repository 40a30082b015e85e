// How far behind the renderer a viewer is: an independent player page (hls.js's
// or Shaka Player's default config, low-latency mode as asked; not the watch page)
// plays a master playlist in Debian's Chromium, and every sample is now − the
// player's playing date (hls.playingDate, player.getPlayheadTimeAsDate()), i.e.
// the wall clock minus the EXT-X-PROGRAM-DATE-TIME of the frame on screen. The
// renderer stamps PDT from its own clock on this machine, so the two clocks agree.
// Stalls are measured in the page: spans where the video's currentTime does not move
// while it should be playing. Used by the Chromium LL test and `--case latency`.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';

import { launchBrowser, type BrowserHandle } from './browser.js';

export interface HlsLatencyProbeOptions {
  /** Master (or media) playlist URL, absolute. It should answer already: hls.js's manifest retries are its defaults. */
  url: string;
  /** Seconds to watch once the first frame is on screen (sooner if the stream ends). */
  seconds: number;
  /** hls.js `lowLatencyMode` (default true): parts, blocking reload, preload hints where a playlist offers them. */
  lowLatencyMode?: boolean;
  /** Latency and stalls are taken after this many seconds of playback (default 10), the start-up catch-up left out. */
  warmupS?: number;
  /** How long to wait for the first frame (default 30 s). */
  startTimeoutMs?: number;
  /** Sample interval in ms (default 250). */
  sampleIntervalMs?: number;
  /** A browser to open the page in (left open); default: one launched and closed here. */
  browser?: BrowserHandle;
  /** The player: hls.js (default) or Shaka Player (shaka-player, default config plus streaming.lowLatencyMode). */
  player?: ProbePlayer;
}

export type ProbePlayer = 'hls.js' | 'shaka';

export interface LatencySample {
  /** Seconds since the first frame was on screen. */
  atS: number;
  /** now − PROGRAM-DATE-TIME of the frame on screen, seconds. */
  latencyS: number;
}

export interface Stall {
  /** Seconds since the first frame was on screen when playback stopped moving. */
  atS: number;
  durationS: number;
}

export interface HlsLatencyReport {
  url: string;
  player: ProbePlayer;
  lowLatencyMode: boolean;
  /** Seconds from opening the page to the first frame on screen. */
  firstFrameS: number;
  /** Seconds of playback watched (currentTime advanced by this much). */
  playedS: number;
  samples: LatencySample[];
  /** Median and 95th percentile of the samples taken after warmupS (all samples when none are); null without samples. */
  medianLatencyS: number | null;
  p95LatencyS: number | null;
  warmupS: number;
  /** Longest stall that started after warmupS (0 when none). */
  maxStallAfterS: number;
  /** Every span of 100 ms or more where playback did not move. */
  stalls: Stall[];
  /** hls.js errors with fatal: true ("type/details: reason (url)"). */
  fatalErrors: string[];
  /** Every other hls.js error, by details, with its count. */
  errors: Record<string, number>;
  /** Requests the page made: part URIs, blocking reloads (_HLS_msn), whole segments, playlists. */
  requests: { parts: number; blockingReloads: number; segments: number; playlists: number };
  /** hls.js saw parts in a media playlist (EXT-X-PART), i.e. it could play in low-latency mode. */
  partsInPlaylist: boolean;
  /** The stream ended (EXT-X-ENDLIST reached) before `seconds` were watched. */
  ended: boolean;
}

/** Nearest-rank percentile of `values` (0..100); null for none. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

function playerSource(player: ProbePlayer): string {
  const require = createRequire(import.meta.url);
  return readFileSync(require.resolve(player === 'shaka' ? 'shaka-player/dist/shaka-player.compiled.js' : 'hls.js/dist/hls.min.js'), 'utf8');
}

/**
 * The probe page's own origin on loopback (another port than the stream's, so the
 * playlists are fetched cross-origin as by a player on another site; loopback to
 * loopback, so Chromium's private-network rules do not apply).
 */
async function servePage(html: string, player: ProbePlayer): Promise<{ origin: string; server: Server }> {
  const script = playerSource(player);
  const server = createServer((request, response) => {
    const js = request.url === '/player.js';
    response.writeHead(200, { 'content-type': js ? 'text/javascript' : 'text/html', 'cache-control': 'no-store' });
    response.end(js ? script : html);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** In-page state, read by page.evaluate. */
interface PageState {
  firstFrameAt: number | null;
  openedAt: number;
  samples: LatencySample[];
  stalls: Stall[];
  stallSince: number | null;
  fatalErrors: string[];
  errors: Record<string, number>;
  partsInPlaylist: boolean;
  ended: boolean;
  playedS: number;
}

// The page: hls.js's default config plus lowLatencyMode, nothing else. Timing uses
// performance.now() inside the page, so a slow evaluate() round trip does not count.
// The player set-up of each page: its default config plus low-latency mode, errors
// recorded (fatal ones apart), whether the playlists had parts, and playingDate():
// the PROGRAM-DATE-TIME of the frame on screen.
const PLAYER_SETUP: Record<ProbePlayer, (lowLatencyMode: boolean) => string> = {
  'hls.js': (lowLatencyMode) => `
const hls = window.hls = new Hls({ lowLatencyMode: ${lowLatencyMode} });
hls.on(Hls.Events.ERROR, (_, data) => {
  const why = data.reason || (data.error && data.error.message) || (data.response && data.response.code) || '';
  if (data.fatal) state.fatalErrors.push(data.type + '/' + data.details + (why ? ': ' + why : '') + (data.url ? ' (' + data.url + ')' : ''));
  else state.errors[data.details] = (state.errors[data.details] || 0) + 1;
});
hls.on(Hls.Events.LEVEL_UPDATED, (_, data) => {
  if (data.details.partList && data.details.partList.length > 0) state.partsInPlaylist = true;
});
hls.loadSource(window.PROBE_URL);
hls.attachMedia(video);
const playingDate = () => hls.playingDate;`,
  shaka: (lowLatencyMode) => `
shaka.polyfill.installAll();
const player = window.player = new shaka.Player();
const shakaError = (error) => 'shaka ' + error.category + '/' + error.code + ': ' + JSON.stringify(error.data).slice(0, 300);
player.addEventListener('error', (event) => {
  const error = event.detail;
  if (error.severity === shaka.util.Error.Severity.CRITICAL) state.fatalErrors.push(shakaError(error));
  else state.errors[error.code] = (state.errors[error.code] || 0) + 1;
});
player.configure({ streaming: { lowLatencyMode: ${lowLatencyMode} } });
player.attach(video)
  .then(() => player.load(window.PROBE_URL))
  .then(() => { const manifest = player.getManifest(); state.partsInPlaylist = Boolean(manifest && manifest.isLowLatency); })
  .catch((error) => state.fatalErrors.push(shakaError(error)));
const playingDate = () => player.getPlayheadTimeAsDate();`,
};

const PAGE = (player: ProbePlayer, lowLatencyMode: boolean, intervalMs: number) => `<!doctype html>
<html><body><video id="v" muted autoplay playsinline></video>
<script src="/player.js"></script>
<script>
const video = document.getElementById('v');
const state = window.probe = {
  firstFrameAt: null, openedAt: performance.now(), samples: [], stalls: [], stallSince: null,
  fatalErrors: [], errors: {}, partsInPlaylist: false, ended: false, playedS: 0,
};
${PLAYER_SETUP[player](lowLatencyMode)}
video.addEventListener('ended', () => { state.ended = true; });
video.play().catch(() => {});
let lastTime = -1;
let startTime = 0;
let lastMoveAt = 0;
setInterval(() => {
  const now = performance.now();
  const t = video.currentTime;
  if (state.firstFrameAt === null) {
    if (t > 0 && !video.paused) { state.firstFrameAt = now; startTime = t; lastTime = t; lastMoveAt = now; }
    return;
  }
  const sinceStart = (now - state.firstFrameAt) / 1000;
  if (t !== lastTime) {
    if (state.stallSince !== null) {
      const durationS = (now - state.stallSince) / 1000;
      state.stalls.push({ atS: (state.stallSince - state.firstFrameAt) / 1000, durationS });
      state.stallSince = null;
    }
    lastTime = t;
    lastMoveAt = now;
  } else if (state.stallSince === null && !video.paused && !video.ended && now - lastMoveAt >= 100) {
    state.stallSince = lastMoveAt;
  }
  state.playedS = t - startTime;
  const date = playingDate();
  if (date && t !== 0) state.samples.push({ atS: sinceStart, latencyS: (Date.now() - date.getTime()) / 1000 });
}, ${intervalMs});
</script></body></html>`;

/**
 * Plays `url` in Chromium with an independent hls.js page for `seconds` after the
 * first frame and reports the latency to the renderer's clock, the stalls and the
 * errors. Rejects when no frame shows within startTimeoutMs (the report so far in the message).
 */
export async function measureHlsLatency(options: HlsLatencyProbeOptions): Promise<HlsLatencyReport> {
  const lowLatencyMode = options.lowLatencyMode ?? true;
  const warmupS = options.warmupS ?? 10;
  const intervalMs = options.sampleIntervalMs ?? 250;
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const player = options.player ?? 'hls.js';
  const { origin, server } = await servePage(PAGE(player, lowLatencyMode, intervalMs), player);
  let browser: BrowserHandle | undefined;
  let page: Awaited<ReturnType<BrowserHandle['context']['newPage']>> | undefined;
  const requests = { parts: 0, blockingReloads: 0, segments: 0, playlists: 0 };
  try {
    browser = options.browser ?? (await launchBrowser({ width: 640, height: 360 }));
    page = await browser.context.newPage();
    page.on('request', (request) => {
      const url = request.url();
      if (url.startsWith(origin)) return;
      const { pathname, searchParams } = new URL(url);
      if (/\/part\/\d+\.\d+\.\w+$/.test(pathname)) requests.parts += 1;
      else if (pathname.endsWith('.m3u8')) {
        requests.playlists += 1;
        if (searchParams.has('_HLS_msn')) requests.blockingReloads += 1;
      } else requests.segments += 1;
    });
    await page.addInitScript((url: string) => {
      (window as unknown as { PROBE_URL: string }).PROBE_URL = url;
    }, options.url);
    await page.goto(`${origin}/`, { timeout: 15_000 });

    const open = page;
    const read = (): Promise<PageState> => open.evaluate(() => JSON.parse(JSON.stringify((window as unknown as { probe: PageState }).probe)) as PageState);
    const startDeadline = Date.now() + startTimeoutMs;
    let state = await read();
    while (state.firstFrameAt === null) {
      if (state.fatalErrors.length > 0 || Date.now() > startDeadline) {
        const why = state.fatalErrors.length > 0 ? `fatal ${player} error ${state.fatalErrors.join(', ')}` : `no frame within ${startTimeoutMs} ms`;
        throw new Error(`measureHlsLatency(${options.url}): ${why}; errors ${JSON.stringify(state.errors)}, requests ${JSON.stringify(requests)}`);
      }
      await page.waitForTimeout(100);
      state = await read();
    }
    // Watch for `seconds` of wall time after the first frame, or until the stream ends or fails.
    const watchUntil = Date.now() + options.seconds * 1000;
    while (Date.now() < watchUntil && !state.ended && state.fatalErrors.length === 0) {
      await page.waitForTimeout(Math.min(500, Math.max(10, watchUntil - Date.now())));
      state = await read();
    }
    return { ...summarize(options.url, lowLatencyMode, warmupS, state, requests), player };
  } finally {
    await page?.close().catch(() => undefined);
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    if (!options.browser) await browser?.close();
  }
}

function summarize(url: string, lowLatencyMode: boolean, warmupS: number, state: PageState, requests: HlsLatencyReport['requests']): Omit<HlsLatencyReport, 'player'> {
  // A stall still open at the end counts up to the last sample.
  const stalls = [...state.stalls];
  const lastAt = state.samples.at(-1)?.atS ?? 0;
  if (state.stallSince !== null && state.firstFrameAt !== null && !state.ended) {
    const atS = (state.stallSince - state.firstFrameAt) / 1000;
    if (lastAt > atS) stalls.push({ atS, durationS: lastAt - atS });
  }
  const steady = state.samples.filter((s) => s.atS >= warmupS);
  const latencies = (steady.length > 0 ? steady : state.samples).map((s) => s.latencyS);
  const round = (v: number | null) => (v === null ? null : Number(v.toFixed(3)));
  return {
    url,
    lowLatencyMode,
    firstFrameS: round((state.firstFrameAt! - state.openedAt) / 1000)!,
    playedS: round(state.playedS)!,
    samples: state.samples.map((s) => ({ atS: round(s.atS)!, latencyS: round(s.latencyS)! })),
    medianLatencyS: round(percentile(latencies, 50)),
    p95LatencyS: round(percentile(latencies, 95)),
    warmupS,
    maxStallAfterS: round(Math.max(0, ...stalls.filter((s) => s.atS >= warmupS).map((s) => s.durationS)))!,
    stalls: stalls.map((s) => ({ atS: round(s.atS)!, durationS: round(s.durationS)! })),
    fatalErrors: state.fatalErrors,
    errors: state.errors,
    requests,
    partsInPlaylist: state.partsInPlaylist,
    ended: state.ended,
  };
}
