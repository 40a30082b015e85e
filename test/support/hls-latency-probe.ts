// How far behind the renderer a viewer is: an independent player page (not the watch
// page) plays a master playlist in Debian's Chromium with the player's default config
// and low-latency mode as asked: hls.js (hls.playingDate) or Shaka Player
// (player.getPlayheadTimeAsDate()). Every sample is the wall clock minus the
// EXT-X-PROGRAM-DATE-TIME of the frame on screen; the renderer stamps PDT from its own
// clock on this machine, so the two clocks agree. Stalls are measured in the page: spans
// where the video's currentTime does not move while it should be playing. Which HTTP
// version carried the stream is read from the page's resource timing (nextHopProtocol).
// Used by the Chromium LL tests and `--case latency`. A player is one entry of PLAYERS:
// its script and the few lines that start it and report dates and errors.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';

import { launchBrowser, type BrowserHandle } from './browser.js';

/** The players the probe can open. */
export const PROBE_PLAYERS = ['hls.js', 'shaka', 'dash.js'] as const;
export type ProbePlayer = (typeof PROBE_PLAYERS)[number];

export interface HlsLatencyProbeOptions {
  /** Master (or media) playlist URL, or an MPD (dash.js; Shaka reads either), absolute. It should answer already: the players' manifest retries are their defaults. */
  url: string;
  /** Which player plays it (default hls.js). */
  player?: ProbePlayer;
  /** Seconds to watch once the first frame is on screen (sooner if the stream ends). */
  seconds: number;
  /** hls.js `lowLatencyMode` / Shaka `streaming.lowLatencyMode` (default true): parts, blocking reload, preload hints where a playlist offers them. */
  lowLatencyMode?: boolean;
  /** Latency and stalls are taken after this many seconds of playback (default 10), the start-up catch-up left out. */
  warmupS?: number;
  /** How long to wait for the first frame (default 30 s). */
  startTimeoutMs?: number;
  /** Sample interval in ms (default 250). */
  sampleIntervalMs?: number;
  /** A browser to open the page in (left open); default: one launched and closed here. */
  browser?: BrowserHandle;
  /**
   * Network conditions Chromium emulates for the page (Chrome DevTools Protocol
   * Network.emulateNetworkConditions): the first from the start, each later one from
   * `fromS` seconds after the first frame. Default: none (loopback speed).
   */
  network?: NetworkStep[];
}

export interface NetworkStep {
  /** Seconds after the first frame (the first step applies from the start, whatever it says). */
  fromS: number;
  /** Download throughput, kbit/s. */
  downloadKbps: number;
  /** Added round-trip latency, ms (default 20). */
  latencyMs?: number;
}

export interface LatencySample {
  /** Seconds since the first frame was on screen. */
  atS: number;
  /** now − PROGRAM-DATE-TIME of the frame on screen, seconds. */
  latencyS: number;
  /** Height of the picture on screen (the rung played), pixels. */
  height: number;
}

export interface Stall {
  /** Seconds since the first frame was on screen when playback stopped moving. */
  atS: number;
  durationS: number;
}

export interface HlsLatencyReport {
  url: string;
  player: ProbePlayer;
  /** The player's version, as it reports it. */
  playerVersion: string;
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
  /** Errors the player gave up on (hls.js fatal: true; Shaka severity CRITICAL), as "kind: reason (url)". */
  fatalErrors: string[];
  /** Every other player error, by kind (hls.js details; Shaka "code N"), with its count. */
  errors: Record<string, number>;
  /** Requests the page made: part URIs, blocking reloads (_HLS_msn), whole segments, playlists. */
  requests: { parts: number; blockingReloads: number; segments: number; playlists: number };
  /** The player saw parts in a media playlist (EXT-X-PART), i.e. it could play in low-latency mode. */
  partsInPlaylist: boolean;
  /** The stream's requests by HTTP version as Chromium's resource timing names it (nextHopProtocol: 'h2', 'http/1.1'), 'cache', or 'aborted'. */
  protocols: Record<string, number>;
  /** The stream ended (EXT-X-ENDLIST reached) before `seconds` were watched. */
  ended: boolean;
  /**
   * The latency the player aims at, as it last reported it (hls.js targetLatency, Shaka an MPD's
   * ServiceDescription target or else its presentation delay, dash.js getTargetLiveDelay()), seconds;
   * null where it reported none.
   */
  targetLatencyS: number | null;
  /** Audio bytes Chromium decoded (webkitAudioDecodedByteCount): more than 0 when the stream's audio played. */
  audioDecodedBytes: number;
}

/** Nearest-rank percentile of `values` (0..100); null for none. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/**
 * Each player: its script (from the installed package, the version package-lock pins) and
 * the page code that starts it on `video` with `url` and defines `window.adapter`:
 * playingDate() (ms since the epoch of the frame on screen, or null), targetLatency() (seconds, or null) and version; it
 * reports errors through fatal(text) and error(kind), parts through sawParts(), and
 * (hls.js) each segment loaded (whole, or its parts in LL mode) through loadedFragment(sn, cc, level).
 */
interface PlayerEntry {
  script: string;
  start: (lowLatencyMode: boolean) => string;
}

const PLAYERS: Record<ProbePlayer, PlayerEntry> = {
  'hls.js': {
    script: 'hls.js/dist/hls.min.js',
    start: (lowLatencyMode) => `
const hls = window.hls = new Hls({ lowLatencyMode: ${lowLatencyMode} });
hls.on(Hls.Events.ERROR, (_, data) => {
  const why = data.reason || (data.error && data.error.message) || (data.response && data.response.code) || '';
  if (data.fatal) fatal(data.type + '/' + data.details + (why ? ': ' + why : '') + (data.url ? ' (' + data.url + ')' : ''));
  else error(data.details);
});
hls.on(Hls.Events.LEVEL_UPDATED, (_, data) => {
  if (data.details.partList && data.details.partList.length > 0) sawParts();
});
hls.on(Hls.Events.FRAG_LOADED, (_, data) => {
  if (typeof data.frag.sn === 'number') loadedFragment(data.frag.sn, data.frag.cc, data.frag.level);
});
hls.loadSource(window.PROBE_URL);
hls.attachMedia(video);
window.adapter = {
  version: Hls.version,
  playingDate: () => (hls.playingDate ? hls.playingDate.getTime() : null),
  targetLatency: () => hls.targetLatency,
};`,
  },
  shaka: {
    script: 'shaka-player/dist/shaka-player.compiled.js',
    // Shaka's defaults but lowLatencyMode, as asked (Shaka 5 turns it on by default).
    start: (lowLatencyMode) => `
shaka.polyfill.installAll();
const player = window.player = new shaka.Player();
const describe = (e) => 'code ' + e.code + ' (category ' + e.category + ')' + (e.data && e.data.length ? ': ' + e.data.map((d) => {
  if (d === null || d === undefined) return String(d);
  if (typeof d === 'object') return d.message || d.uri || (d.code !== undefined ? 'code ' + d.code : JSON.stringify(d).slice(0, 200));
  return String(d).slice(0, 200);
}).join(', ') : '');
player.addEventListener('error', (event) => {
  const e = event.detail;
  if (e.severity === shaka.util.Error.Severity.CRITICAL) fatal(describe(e));
  else error('code ' + e.code);
});
player.configure({ streaming: { lowLatencyMode: ${lowLatencyMode} } });
window.adapter = {
  version: shaka.Player.version,
  playingDate: () => {
    const date = player.getPlayheadTimeAsDate();
    return date && !Number.isNaN(date.getTime()) && video.currentTime !== 0 ? date.getTime() : null;
  },
  // An MPD's ServiceDescription Latency@target where it has one (Shaka's liveSync then holds it), else the live edge's delay.
  targetLatency: () => {
    const manifest = player.getManifest();
    if (!manifest) return null;
    const service = manifest.serviceDescription;
    return service && service.targetLatency != null ? service.targetLatency : manifest.presentationTimeline.getDelay();
  },
};
player.attach(video).then(() => player.load(window.PROBE_URL)).then(() => {
  const manifest = player.getManifest && player.getManifest();
  if (manifest && manifest.isLowLatency) sawParts();
}).catch((e) => fatal(e && e.code !== undefined ? describe(e) : String(e)));`,
  },
  // dash.js: its defaults; low-latency mode comes from the MPD (availabilityTimeComplete="false"), and the
  // latency it keeps from its ServiceDescription (streaming.delay.liveDelay unset). `lowLatencyMode` has no
  // switch of its own in dash.js 5.
  'dash.js': {
    // The package's "require" export is the UMD build a page loads with a script tag.
    script: 'dashjs',
    start: () => `
const player = window.player = dashjs.MediaPlayer().create();
player.on(dashjs.MediaPlayer.events.ERROR, (e) => {
  const err = e.error || {};
  fatal('code ' + err.code + ': ' + String(err.message || '').slice(0, 200));
});
player.on(dashjs.MediaPlayer.events.PLAYBACK_ERROR, (e) => error('playback ' + ((e.error && e.error.code) || '')));
player.on(dashjs.MediaPlayer.events.STREAM_INITIALIZED, () => { if (player.getLowLatencyModeEnabled()) sawParts(); });
player.initialize(video, window.PROBE_URL, true);
window.adapter = {
  version: player.getVersion(),
  // The playhead on the MPD's clock: availabilityStartTime + presentation time, i.e. the frame's PROGRAM-DATE-TIME.
  playingDate: () => (player.isReady() && video.currentTime !== 0 ? player.timeAsUTC() * 1000 : null),
  targetLatency: () => (player.isReady() ? player.getTargetLiveDelay() : null),
};`,
  },
};

function playerSource(player: ProbePlayer): string {
  const require = createRequire(import.meta.url);
  return readFileSync(require.resolve(PLAYERS[player].script), 'utf8');
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
  targetLatencyS: number | null;
  playedS: number;
  protocols: Record<string, number>;
  playerVersion: string;
  audioDecodedBytes: number;
  /**
   * Every media segment the player loaded (whole, or part by part in LL mode: once), in order: its Media Sequence
   * Number and discontinuity sequence (cc); hls.js only.
   */
  fragments: { sn: number; cc: number; level: number }[];
}

// The page: the player's default config plus lowLatencyMode, nothing else. Timing uses
// performance.now() inside the page, so a slow evaluate() round trip does not count.
const PAGE = (player: ProbePlayer, lowLatencyMode: boolean, intervalMs: number) => `<!doctype html>
<html><body><video id="v" muted autoplay playsinline></video>
<script src="/player.js"></script>
<script>
const video = document.getElementById('v');
const state = window.probe = {
  firstFrameAt: null, openedAt: performance.now(), samples: [], stalls: [], stallSince: null,
  fatalErrors: [], errors: {}, partsInPlaylist: false, ended: false, targetLatencyS: null, playedS: 0, protocols: {}, playerVersion: '', audioDecodedBytes: 0,
  fragments: [],
};
const fatal = (text) => state.fatalErrors.push(text);
const error = (kind) => { state.errors[kind] = (state.errors[kind] || 0) + 1; };
const sawParts = () => { state.partsInPlaylist = true; };
const loadedFragment = (sn, cc, level) => {
  const last = state.fragments[state.fragments.length - 1];
  if (!last || last.sn !== sn || last.level !== level) state.fragments.push({ sn, cc, level });
};
// Every request to the stream's origin, by the HTTP version that carried it.
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (entry.name.startsWith(location.origin)) continue;
    // A response from the browser's cache (an immutable part loaded again) went over no protocol,
    // and a request the player aborted before its answer (a late part, a level switch) names none.
    const cached = entry.transferSize === 0 && entry.decodedBodySize > 0;
    const protocol = cached ? 'cache' : entry.nextHopProtocol || (entry.responseStart === 0 ? 'aborted' : 'unknown');
    state.protocols[protocol] = (state.protocols[protocol] || 0) + 1;
  }
}).observe({ type: 'resource', buffered: true });
video.addEventListener('ended', () => { state.ended = true; });
${PLAYERS[player].start(lowLatencyMode)}
state.playerVersion = window.adapter.version;
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
  state.audioDecodedBytes = video.webkitAudioDecodedByteCount || 0;
  const date = window.adapter.playingDate();
  if (date !== null && t !== 0) state.samples.push({ atS: sinceStart, latencyS: (Date.now() - date) / 1000, height: video.videoHeight });
  const target = window.adapter.targetLatency();
  if (typeof target === 'number' && Number.isFinite(target)) state.targetLatencyS = target;
}, ${intervalMs});
</script></body></html>`;

/**
 * Plays `url` in Chromium with an independent player page for `seconds` after the
 * first frame and reports the latency to the renderer's clock, the stalls and the
 * errors. Rejects when no frame shows within startTimeoutMs (the report so far in the message).
 */
export async function measureHlsLatency(options: HlsLatencyProbeOptions): Promise<HlsLatencyReport> {
  const warmupS = options.warmupS ?? 10;
  const probe = await openHlsProbe(options);
  try {
    let state = await probe.firstFrame();
    // Watch for `seconds` of wall time after the first frame, or until the stream ends or fails.
    const network = options.network ?? [];
    const firstFrameAt = Date.now();
    const watchUntil = firstFrameAt + options.seconds * 1000;
    let nextStep = 1;
    while (Date.now() < watchUntil && !state.ended && state.fatalErrors.length === 0) {
      const stepAt = nextStep < network.length ? firstFrameAt + network[nextStep].fromS * 1000 : Infinity;
      await probe.page.waitForTimeout(Math.min(500, Math.max(10, Math.min(watchUntil, stepAt) - Date.now())));
      if (Date.now() >= stepAt) await probe.emulate(network[nextStep++]);
      state = await probe.read();
    }
    return summarize(options.url, probe.player, probe.lowLatencyMode, warmupS, state, probe.requests);
  } finally {
    await probe.close();
  }
}

/** An open probe page: the state the page keeps (read()), the requests it made, and close(). */
export interface HlsProbe {
  page: Awaited<ReturnType<BrowserHandle['context']['newPage']>>;
  player: ProbePlayer;
  lowLatencyMode: boolean;
  requests: HlsLatencyReport['requests'];
  read(): Promise<PageState>;
  /** Resolves with the state once the first frame is on screen; rejects on a fatal error or after startTimeoutMs. */
  firstFrame(): Promise<PageState>;
  /** Applies a network step (options.network must have been given). */
  emulate(step: NetworkStep): Promise<unknown>;
  close(): Promise<void>;
}

export type HlsProbeState = PageState;

/** Opens the probe page on `url` (the player's default config plus lowLatencyMode, network[0] applied) and leaves it playing. */
export async function openHlsProbe(options: Omit<HlsLatencyProbeOptions, 'seconds'>): Promise<HlsProbe> {
  const lowLatencyMode = options.lowLatencyMode ?? true;
  const player = options.player ?? 'hls.js';
  const intervalMs = options.sampleIntervalMs ?? 250;
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const { origin, server } = await servePage(PAGE(player, lowLatencyMode, intervalMs), player);
  let browser: BrowserHandle | undefined;
  let page: HlsProbe['page'] | undefined;
  const requests = { parts: 0, blockingReloads: 0, segments: 0, playlists: 0 };
  const close = async () => {
    await page?.close().catch(() => undefined);
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    if (!options.browser) await browser?.close();
  };
  let emulate: HlsProbe['emulate'] = () => Promise.reject(new Error('openHlsProbe: no network steps were given'));
  try {
    browser = options.browser ?? (await launchBrowser({ width: 640, height: 360 }));
    page = await browser.context.newPage();
    page.on('request', (request) => {
      const url = request.url();
      if (url.startsWith(origin)) return;
      const { pathname, searchParams } = new URL(url);
      if (/\/part\/\d+\.\d+\.\w+$/.test(pathname)) requests.parts += 1;
      else if (pathname.endsWith('.m3u8') || pathname.endsWith('.mpd')) {
        requests.playlists += 1;
        if (searchParams.has('_HLS_msn')) requests.blockingReloads += 1;
      } else requests.segments += 1;
    });
    await page.addInitScript((url: string) => {
      (window as unknown as { PROBE_URL: string }).PROBE_URL = url;
    }, options.url);
    const network = options.network ?? [];
    const cdp = network.length > 0 ? await browser.context.newCDPSession(page) : undefined;
    if (cdp) {
      emulate = (step: NetworkStep) =>
        cdp.send('Network.emulateNetworkConditions', {
          offline: false, latency: step.latencyMs ?? 20, downloadThroughput: (step.downloadKbps * 1000) / 8, uploadThroughput: -1,
        });
      await cdp.send('Network.enable');
      await emulate(network[0]);
    }
    await page.goto(`${origin}/`, { timeout: 15_000 });
  } catch (error) {
    await close();
    throw error;
  }
  const open = page;
  const read = (): Promise<PageState> => open.evaluate(() => JSON.parse(JSON.stringify((window as unknown as { probe: PageState }).probe)) as PageState);
  return {
    page: open, player, lowLatencyMode, requests, read, emulate, close,
    async firstFrame() {
      const startDeadline = Date.now() + startTimeoutMs;
      let state = await read();
      while (state.firstFrameAt === null) {
        if (state.fatalErrors.length > 0 || Date.now() > startDeadline) {
          const why = state.fatalErrors.length > 0 ? `fatal ${player} error ${state.fatalErrors.join(', ')}` : `no frame within ${startTimeoutMs} ms`;
          throw new Error(`measureHlsLatency(${options.url}): ${why}; errors ${JSON.stringify(state.errors)}, requests ${JSON.stringify(requests)}`);
        }
        await open.waitForTimeout(100);
        state = await read();
      }
      return state;
    },
  };
}

function summarize(url: string, player: ProbePlayer, lowLatencyMode: boolean, warmupS: number, state: PageState, requests: HlsLatencyReport['requests']): HlsLatencyReport {
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
    player,
    playerVersion: state.playerVersion,
    lowLatencyMode,
    firstFrameS: round((state.firstFrameAt! - state.openedAt) / 1000)!,
    playedS: round(state.playedS)!,
    samples: state.samples.map((s) => ({ atS: round(s.atS)!, latencyS: round(s.latencyS)!, height: s.height })),
    medianLatencyS: round(percentile(latencies, 50)),
    p95LatencyS: round(percentile(latencies, 95)),
    warmupS,
    maxStallAfterS: round(Math.max(0, ...stalls.filter((s) => s.atS >= warmupS).map((s) => s.durationS)))!,
    stalls: stalls.map((s) => ({ atS: round(s.atS)!, durationS: round(s.durationS)! })),
    fatalErrors: state.fatalErrors,
    errors: state.errors,
    requests,
    partsInPlaylist: state.partsInPlaylist,
    protocols: state.protocols,
    ended: state.ended,
    targetLatencyS: round(state.targetLatencyS),
    audioDecodedBytes: state.audioDecodedBytes,
  };
}
