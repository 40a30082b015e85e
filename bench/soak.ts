// `--case soak`: a long live run compressed in time. A small source (320x180,
// 1-s segments, three renditions) is really encoded and fed as fast as the
// encoder takes it, so a simulated 2-hour run (7200 segments per rendition)
// takes minutes. At 10 %, 50 % and 100 % of it the case measures what grows
// with run length: store bytes against segment bytes, this process's RSS,
// publish latency, the latency of GET /runs/:id and of the media playlist
// route, and the playlist bytes a viewer downloads per reload, plain and gzip.
// Publish latency is taken on the last few segments before each checkpoint,
// fed at wall-clock pace after the backlog drained: fed flat out, it would
// only measure the queue.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gunzipSync } from 'node:zlib';

import type { SoakBenchConfig, SetupId } from './config.js';
import type { FrameRing } from './frames.js';
import { timedGet } from './http-get.js';
import type { ServiceSetup } from './service-setup.js';
import { storeBytes } from './store-size.js';
import { createOutput, feedFrames } from './service-stream.js';
import { percentile } from './stats.js';

export const SOAK_CHECKPOINTS = [10, 50, 100] as const;

/** Limits of the "done when"; the report says which hold. */
export const SOAK_LIMITS = {
  storeOverSegments: 1.05,
  rssGrowth: 1.1,
  routeLatencyGrowth: 2,
} as const;

/**
 * How long publishing may make no progress before the case gives up. Fed flat out, the publisher
 * trails the encoder (every segment is fsync'd to the journal first), so the wait is for a stall,
 * not for a fixed catch-up time.
 */
const DRAIN_STALL_MS = 120_000;

export interface SoakCheckpoint {
  percent: number;
  /** Segments per rendition fed so far (simulated seconds / segment seconds). */
  segments: number;
  simulatedSeconds: number;
  /** Wall-clock seconds since the first frame. */
  wallSeconds: number;
  segmentBytes: number;
  /** What the store holds beyond what it held before the run. For Kubo, after `repo gc`. */
  storeBytes: number;
  /** For Kubo: before `repo gc` (unpinned blocks still on disk). */
  storeBytesBeforeGc?: number;
  storeOverSegments: number;
  rssMiB: number;
  heapUsedMiB: number;
  /** 'segment' event to the first 'publish' listing it, over the paced probe segments before the checkpoint. */
  publishLatencyMs: { count: number; p50: number; p99: number };
  routeLatencyMs: { runStatus: { p50: number; p99: number }; playlist: { p50: number; p99: number } };
  /** One reload of the top rendition's media playlist. */
  playlistBytes: { plain: number; gzip: number };
}

export interface SoakSetupResult {
  setup: SetupId;
  label: string;
  runId: string;
  renditions: string[];
  segmentsPerRendition: number;
  checkpoints: SoakCheckpoint[];
  /** End over first checkpoint, and whether each limit holds at the end. */
  checks: {
    storeOverSegments: { value: number; limit: number; pass: boolean };
    rssGrowth: { value: number; limit: number; pass: boolean };
    runStatusLatencyGrowth: { value: number; limit: number; pass: boolean };
    playlistLatencyGrowth: { value: number; limit: number; pass: boolean };
    playlistGzipRatio: { value: number };
  };
  /** Registry counts at the end: every segment recorded and listed. */
  registryCounts: Record<string, { recorded: number; contiguous: number }>;
  warnings: string[];
}

const MiB = 1024 * 1024;
const round = (value: number, digits = 3) => Math.round(value * 10 ** digits) / 10 ** digits;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A full garbage collection, so RSS is compared after collection at every
 * checkpoint and a major GC does not land in the route samples. The bench
 * runs without --expose-gc; the flag can still be set for a new context.
 */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

function summary(values: number[]): { p50: number; p99: number } {
  return values.length === 0 ? { p50: 0, p99: 0 } : { p50: round(percentile(values, 50)), p99: round(percentile(values, 99)) };
}

function check(value: number, limit: number) {
  return { value: round(value), limit, pass: value <= limit };
}

export async function measureSoak(config: SoakBenchConfig, setup: ServiceSetup, ring: FrameRing, log: (line: string) => void): Promise<SoakSetupResult> {
  const output = createOutput(config, setup);
  const renditions = output.renditions.map((r) => r.name);
  const top = renditions[0]!;
  const segmentsPerRendition = Math.round((config.minutes * 60) / config.segmentSeconds);

  const readyAt = new Map<string, number>();
  const publishLatency = new Map<string, number>();
  const publishedCount = new Map<string, number>();
  let segmentBytes = 0;
  const warnings: string[] = [];
  output.on('segment', (s) => {
    readyAt.set(`${s.rendition}/${s.index}`, performance.now());
    segmentBytes += s.bytes;
  });
  output.on('publish', (version) => {
    const at = performance.now();
    for (const [rendition, media] of Object.entries(version.media)) {
      const before = publishedCount.get(rendition) ?? 0;
      for (let index = before; index < media.segmentCount; index++) {
        const ready = readyAt.get(`${rendition}/${index}`);
        if (ready !== undefined) publishLatency.set(`${rendition}/${index}`, at - ready);
        readyAt.delete(`${rendition}/${index}`);
      }
      publishedCount.set(rendition, Math.max(before, media.segmentCount));
    }
  });
  output.on('warning', (message) => warnings.push(message));

  const baseline = await storeBytes(setup.store, { gc: setup.store.kind === 'kubo' });
  const t0 = performance.now();
  await output.write(ring.frame(0));
  const runId = output.runId!;
  const statusUrl = `${setup.server.url}/runs/${runId}`;
  const playlistUrl = `${setup.server.url}/runs/${runId}/quality/${top}/playlist.m3u8`;

  const drained = async (segments: number) => {
    const published = () => renditions.reduce((sum, r) => sum + (publishedCount.get(r) ?? 0), 0);
    let seen = published();
    let deadline = performance.now() + DRAIN_STALL_MS;
    while (renditions.some((r) => (publishedCount.get(r) ?? 0) < segments)) {
      if (published() > seen) {
        seen = published();
        deadline = performance.now() + DRAIN_STALL_MS;
      } else if (performance.now() > deadline) {
        const counts = renditions.map((r) => `${r} ${publishedCount.get(r) ?? 0}`).join(', ');
        throw new Error(`${setup.label}: ${segments} segments fed, but only ${counts} published, with no progress for ${DRAIN_STALL_MS / 1000} s`);
      }
      await sleep(20);
    }
  };

  const checkpoints: SoakCheckpoint[] = [];
  let fedFrames = 1;
  for (const percent of SOAK_CHECKPOINTS) {
    const segments = Math.max(1, Math.round((segmentsPerRendition * percent) / 100));
    const probeFrom = Math.max(1, segments - config.probeSegments);
    // Flat out to the probe, let the backlog drain, then the probe at wall-clock pace.
    await feedFrames(output, ring, { from: fedFrames, to: probeFrom * config.framesPerSegment, fps: config.fps, paced: false });
    await drained(probeFrom - 1);
    publishLatency.clear();
    const probeStart = probeFrom * config.framesPerSegment;
    const frames = segments * config.framesPerSegment;
    const dueNow = performance.now() - (probeStart * 1000) / config.fps;
    await feedFrames(output, ring, { from: probeStart, to: frames, fps: config.fps, paced: true, startedAt: dueNow });
    fedFrames = frames;
    // A segment is complete once the next one starts, so only the final flush publishes the last.
    if (percent === 100) await output.close();
    await drained(percent === 100 ? segments : segments - 1);
    const window = [...publishLatency].filter(([key]) => Number(key.split('/')[1]) >= probeFrom).map(([, ms]) => ms);

    const status: number[] = [];
    const playlist: number[] = [];
    let plain = 0;
    let gzip = 0;
    // One untimed GET each first: the first reader of a new playlist CID pays the store read and gzip once.
    await timedGet(statusUrl);
    await timedGet(playlistUrl, { 'accept-encoding': 'gzip' });
    collectGarbage();
    const memory = process.memoryUsage();
    for (let i = 0; i < config.routeSamples; i++) {
      const runStatus = await timedGet(statusUrl);
      if (runStatus.status !== 200) throw new Error(`GET ${statusUrl} answered ${runStatus.status}`);
      status.push(runStatus.ms);
      const zipped = await timedGet(playlistUrl, { 'accept-encoding': 'gzip' });
      if (zipped.status !== 200) throw new Error(`GET ${playlistUrl} answered ${zipped.status}`);
      playlist.push(zipped.ms);
      gzip = zipped.body.byteLength;
      plain = zipped.headers['content-encoding'] === 'gzip' ? gunzipSync(zipped.body).byteLength : zipped.body.byteLength;
    }
    const kubo = setup.store.kind === 'kubo';
    const beforeGc = kubo ? (await storeBytes(setup.store)) - baseline : undefined;
    const stored = (await storeBytes(setup.store, { gc: kubo })) - baseline;
    const point: SoakCheckpoint = {
      percent,
      segments,
      simulatedSeconds: segments * config.segmentSeconds,
      wallSeconds: round((performance.now() - t0) / 1000, 1),
      segmentBytes,
      storeBytes: stored,
      ...(beforeGc !== undefined ? { storeBytesBeforeGc: beforeGc } : {}),
      storeOverSegments: round(stored / segmentBytes),
      rssMiB: round(memory.rss / MiB, 1),
      heapUsedMiB: round(memory.heapUsed / MiB, 1),
      publishLatencyMs: { count: window.length, ...summary(window) },
      routeLatencyMs: { runStatus: summary(status), playlist: summary(playlist) },
      playlistBytes: { plain, gzip },
    };
    checkpoints.push(point);
    log(
      `bench: ${setup.id.padEnd(14)} ${String(percent).padStart(3)} % ${segments} segments, store/segments ${point.storeOverSegments}, ` +
        `RSS ${point.rssMiB} MiB, publish p99 ${point.publishLatencyMs.p99} ms, /runs/:id p99 ${point.routeLatencyMs.runStatus.p99} ms, ` +
        `playlist p99 ${point.routeLatencyMs.playlist.p99} ms, playlist ${plain} B, gzip ${gzip} B`,
    );
  }

  const run = await setup.registry.getRun(runId);
  const first = checkpoints[0]!;
  const last = checkpoints[checkpoints.length - 1]!;
  return {
    setup: setup.id,
    label: setup.label,
    runId,
    renditions,
    segmentsPerRendition,
    checkpoints,
    checks: {
      storeOverSegments: check(last.storeOverSegments, SOAK_LIMITS.storeOverSegments),
      rssGrowth: check(last.rssMiB / first.rssMiB, SOAK_LIMITS.rssGrowth),
      runStatusLatencyGrowth: check(last.routeLatencyMs.runStatus.p99 / first.routeLatencyMs.runStatus.p99, SOAK_LIMITS.routeLatencyGrowth),
      playlistLatencyGrowth: check(last.routeLatencyMs.playlist.p99 / first.routeLatencyMs.playlist.p99, SOAK_LIMITS.routeLatencyGrowth),
      playlistGzipRatio: { value: round(last.playlistBytes.gzip / last.playlistBytes.plain) },
    },
    registryCounts: run?.segmentCounts ?? {},
    warnings,
  };
}
