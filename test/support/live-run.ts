// A real live run for server tests: registry, store, HTTP server and a
// MultiResolutionHlsOutput fed FrameGenerator frames at wall-clock pace, so
// playlists grow while clients poll. Segments are written as '/ipfs/{cid}?filename=segment.ts'
// (as abrcast demo writes them), so players fetch them through the server's own gateway.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Rendition } from '../../src/encoder/types.js';
import { segmentFileName } from '../../src/hls/segment-url.js';
import { MultiResolutionHlsOutput, type HlsOutputSummary, type MultiResolutionHlsOutputOptions } from '../../src/publish/multi-resolution-hls-output.js';
import type { PublishedVersion } from '../../src/publish/types.js';
import { openRegistry } from '../../src/registry/open-registry.js';
import type { RunRegistry } from '../../src/registry/run-registry.js';
import { startServer, type RunningServer, type ServerOptions } from '../../src/server/index.js';
import type { ContentStore } from '../../src/store/content-store.js';
import { HeliaStore } from '../../src/store/helia-store.js';
import { KuboStore } from '../../src/store/kubo-store.js';
import { FrameGenerator } from './frames.js';

export const LIVE_LADDER: Rendition[] = [
  { name: '360p', width: 640, height: 360, bitrate: 800 },
  { name: '180p', width: 320, height: 180, bitrate: 300 },
];

export interface LiveRunOptions {
  /** PostgreSQL URL; default an embedded PGlite in a temp dir. */
  databaseUrl?: string;
  /** Kubo RPC URL; default an embedded Helia store in a temp dir. */
  kuboUrl?: string;
  fps?: number;
  /** Feeding stops by itself after this long, so a forgotten stop() cannot run forever (default 60 s). */
  maxSeconds?: number;
  /** An audio file muxed into every rendition (cut where the video ends). */
  audioSource?: string;
  /** LL-HLS part duration in seconds (the run gets a part target; the encoder's part events are recorded). */
  partDuration?: number;
  container?: 'ts' | 'fmp4';
  /** Subtitle renditions (MultiResolutionHlsOutputOptions.captions). */
  captions?: MultiResolutionHlsOutputOptions['captions'];
  /** Called before frame `index` is written (captions and metadata on the stream's clock). */
  beforeFrame?: (index: number, output: MultiResolutionHlsOutput) => void;
  /** More output options (e.g. container, encryption, sourceSize, renditions), over the defaults above. */
  output?: Partial<MultiResolutionHlsOutputOptions>;
  /** More server options (e.g. keySecret, logger). */
  server?: Partial<ServerOptions>;
  /** Fresh noise on every frame, so every rendition needs its whole bitrate (the ABR bench); default off. */
  grain?: boolean;
}

export interface LiveRun {
  readonly registry: RunRegistry;
  readonly store: ContentStore;
  readonly server: RunningServer;
  readonly output: MultiResolutionHlsOutput;
  readonly runId: string;
  readonly fps: number;
  /** Every published version, in order. */
  readonly versions: PublishedVersion[];
  framesWritten(): number;
  /** Stops feeding frames and closes the output (final playlists with ENDLIST, run marked ended). */
  stop(): Promise<HlsOutputSummary>;
  /** stop() if needed, then closes server, store and registry and removes temp files. Never throws. */
  cleanup(): Promise<void>;
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  { timeoutMs = 15_000, intervalMs = 100 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export async function startLiveRun(options: LiveRunOptions = {}): Promise<LiveRun> {
  const fps = options.fps ?? 30;
  const maxFrames = Math.round((options.maxSeconds ?? 60) * fps);
  const dir = await mkdtemp(join(tmpdir(), 'abrcast-live-'));
  const closers: (() => Promise<unknown>)[] = [() => rm(dir, { recursive: true, force: true })];
  const closeAll = async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  };

  try {
    const registry = await openRegistry({ databaseUrl: options.databaseUrl ?? '', dataDir: join(dir, 'db') });
    closers.push(() => registry.close());
    const store: ContentStore = options.kuboUrl ? new KuboStore({ url: options.kuboUrl }) : new HeliaStore({ dir: join(dir, 'ipfs') });
    closers.push(() => store.close());
    const server = await startServer({ registry, store, port: 0, ...options.server });
    closers.push(() => server.close());

    const [width, height] = options.output?.sourceSize ?? [640, 360];
    const output = new MultiResolutionHlsOutput({
      sourceSize: [width, height], fps, segmentDuration: 1, renditions: LIVE_LADDER, encoder: 'x264', x264Preset: 'ultrafast',
      store, registry, journalDir: join(dir, 'journal'), closeDeadlineMs: 15_000, audioSource: options.audioSource,
      // This server's gateway, whatever the store (Kubo's default would be ipfs.io).
      segmentUrl: `/ipfs/{cid}${segmentFileName(options.output?.container ?? options.container ?? 'ts')}`,
      ...(options.partDuration !== undefined ? { partDuration: options.partDuration } : {}),
      ...(options.container !== undefined ? { container: options.container } : {}),
      ...(options.captions !== undefined ? { captions: options.captions } : {}),
      ...options.output,
    });
    server.metrics.attach(output);
    const versions: PublishedVersion[] = [];
    output.on('publish', (version) => versions.push(version));

    const frames = new FrameGenerator(width, height, 'rgb24', { grain: options.grain ?? false });
    let written = 0;
    await output.start();
    options.beforeFrame?.(written, output);
    await output.write(frames.frame(written++));
    const runId = output.runId!;

    // Frame i is due at start + i/fps, the run's startedAt (what PROGRAM-DATE-TIME and the MPD's
    // availabilityStartTime date it by); writing late frames at once catches up after a stall.
    let stopping = false;
    const started = performance.now() - (Date.now() - output.startedAt!.getTime());
    const feeding = (async () => {
      while (!stopping && written < maxFrames) {
        const due = started + (written * 1000) / fps;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        if (stopping) break;
        options.beforeFrame?.(written, output);
        await output.write(frames.frame(written++));
      }
    })();

    let stopped: Promise<HlsOutputSummary> | undefined;
    const stop = () => {
      stopped ??= (async () => {
        stopping = true;
        await feeding;
        return output.close();
      })();
      return stopped;
    };
    closers.push(() => stop());

    return {
      registry, store, server, output, runId, fps, versions,
      framesWritten: () => written,
      stop,
      cleanup: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
