// `--case soak`: a 24/7 channel compressed in time. A MultiResolutionHlsOutput
// on a channel, with a sliding window (--window, default an hour), hourly
// archive playlists and LL-HLS parts, is fed synthetic segments and parts
// (random bytes at the ladder's rates, as the encoder would emit them; the
// encoder itself is idle) as fast as the publisher, registry and store take
// them: a simulated day is 86,400 1-s segments per rendition. The run's
// registry writes, uploads, publishes, archive, part releases and heartbeats
// all happen as in a real run.
//
// After the first hour of media and at later checkpoints it measures what must
// not grow with run length: publish latency (segment event to the publish that
// lists it, on segments fed at wall-clock pace once the backlog drained), the
// latency of the channel's media playlist (an LL blocking reload already
// satisfied: the server's cost, not the stream's) and of /runs/{id}, this
// process's RSS after a full GC, the bytes of one playlist reload, and store
// bytes over segment bytes (parts are released, playlists are versions). The
// checks: the end within SOAK_LIMITS of the first hour.
import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gunzipSync } from 'node:zlib';

import type { PartEvent, SegmentEvent } from '../src/encoder/types.js';
import { MultiResolutionHlsOutput } from '../src/publish/multi-resolution-hls-output.js';
import type { SoakBenchConfig, SetupId } from './config.js';
import { timedGet } from './http-get.js';
import type { ServiceSetup } from './service-setup.js';
import { storeBytes } from './store-size.js';
import { percentile } from './stats.js';

/** Limits of the "done when" (the end over the first hour); the report says which hold. */
export const SOAK_LIMITS = {
  storeOverSegments: 1.05,
  rssGrowth: 1.2,
  publishLatencyGrowth: 1.2,
  playlistLatencyGrowth: 1.2,
} as const;

/** Segments fed but not yet published and recorded, at most: the feed waits (the output's queues stay bounded). */
const MAX_BACKLOG_SEGMENTS = 16;
/** How long publishing may make no progress before the case gives up. */
const STALL_MS = 180_000;
const CHANNEL = 'soak';

export interface SoakCheckpoint {
  /** Segments per rendition fed so far. */
  segments: number;
  simulatedSeconds: number;
  /** Wall-clock seconds since the first segment. */
  wallSeconds: number;
  segmentBytes: number;
  /** What the store holds beyond what it held before the run (Kubo: after `repo gc`). */
  storeBytes: number;
  storeBytesBeforeGc?: number;
  storeOverSegments: number;
  rssMiB: number;
  heapUsedMiB: number;
  /** Segment event to the first publish listing it, over the paced probe before the checkpoint. */
  publishLatencyMs: { count: number; p50: number; p99: number };
  routeLatencyMs: { runStatus: { p50: number; p99: number }; playlist: { p50: number; p99: number } };
  /** One answer of the channel's top media playlist (the window, with its parts). */
  playlistBytes: { plain: number; gzip: number };
  /** Archive chunks the registry holds. */
  archiveChunks: number;
}

interface Check { value: number; limit: number; pass: boolean }

export interface SoakSetupResult {
  setup: SetupId;
  label: string;
  runId: string;
  renditions: string[];
  segmentsPerRendition: number;
  checkpoints: SoakCheckpoint[];
  /** The end over the first checkpoint (the first hour), and whether each limit holds. */
  checks: {
    storeOverSegments: Check;
    rssGrowth: Check;
    publishLatencyGrowth: Check;
    playlistLatencyGrowth: Check;
    playlistGzipRatio: { value: number };
  };
  /** Registry counts at the end: every segment recorded and listed. */
  registryCounts: Record<string, { recorded: number; contiguous: number }>;
  /** Wall-clock seconds of the whole run, and the machine's load average at its start and end. */
  wallSeconds: number;
  load: { start: number[]; end: number[] };
  warnings: string[];
}

const MiB = 1024 * 1024;
const round = (value: number, digits = 3) => Math.round(value * 10 ** digits) / 10 ** digits;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A full garbage collection, so RSS is compared after collection (the bench runs without --expose-gc). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

function summary(values: number[]): { p50: number; p99: number } {
  return values.length === 0 ? { p50: 0, p99: 0 } : { p50: round(percentile(values, 50)), p99: round(percentile(values, 99)) };
}

function check(value: number, limit: number): Check {
  return { value: round(value), limit, pass: value <= limit };
}

/** Checkpoint positions (segments per rendition): the first hour (or 10 % of a shorter run), then quarters. */
export function soakCheckpoints(totalSegments: number, segmentSeconds: number): number[] {
  const hour = Math.round(3600 / segmentSeconds);
  const first = Math.min(hour, Math.max(1, Math.round(totalSegments / 10)));
  const later = [0.25, 0.5, 0.75, 1].map((fraction) => Math.round(totalSegments * fraction)).filter((segments) => segments > first);
  return [first, ...new Set(later)];
}

/**
 * What the encoder would emit for one segment of one rendition: its parts (an equal share
 * each, the first independent), then the segment whose bytes are the parts' concatenation.
 */
function syntheticSegment(rendition: string, index: number, bytes: number, parts: number, partSeconds: number, segmentSeconds: number): { parts: PartEvent[]; segment: SegmentEvent } {
  const data = randomBytes(bytes);
  const codecs = 'avc1.42c00d';
  const partEvents: PartEvent[] = [];
  for (let part = 0; part < parts; part++) {
    const from = Math.floor((bytes * part) / parts);
    const to = Math.floor((bytes * (part + 1)) / parts);
    const duration = part === parts - 1 ? segmentSeconds - partSeconds * (parts - 1) : partSeconds;
    partEvents.push({
      rendition, segmentIndex: index, partIndex: part, startPts: index * segmentSeconds + part * partSeconds, duration,
      independent: part === 0, codecs, bytes: to - from, data: data.subarray(from, to),
    });
  }
  return {
    parts: partEvents,
    segment: { rendition, index, container: 'ts', startPts: index * segmentSeconds, ptsOffset: 1.4, duration: segmentSeconds, bytes, data, codecs, iframes: [] },
  };
}

export async function measureSoak(config: SoakBenchConfig, setup: ServiceSetup, log: (line: string) => void): Promise<SoakSetupResult> {
  const { segmentSeconds } = config;
  const partSeconds = config.partFrames / config.fps;
  const partsPerSegment = Math.ceil(segmentSeconds / partSeconds - 1e-9);
  const output = new MultiResolutionHlsOutput({
    sourceSize: [config.width, config.height], fps: config.fps, segmentDuration: segmentSeconds, renditions: config.renditions,
    encoder: 'x264', x264Preset: config.preset, store: setup.store, registry: setup.registry,
    segmentUrl: '/ipfs/{cid}', playlistUrl: '/ipfs/{cid}', journalDir: `${setup.dir}/journal`, closeDeadlineMs: 120_000,
    channel: CHANNEL, windowSeconds: config.windowSeconds, archiveSeconds: config.archiveSeconds,
    partDuration: partSeconds, latency: 'low',
  });
  const renditions = output.renditions.map((r) => r.name);
  const top = renditions[0]!;
  // Bytes per segment: half of each rendition's configured rate (a typical VBR average under its cap).
  const segmentSize = new Map(output.renditions.map((r) => [r.name, Math.round((r.bitrate * 1000 * segmentSeconds) / 8 / 2)]));
  const totalSegments = Math.round((config.minutes * 60) / segmentSeconds);
  const emitter = output.encoder as unknown as { emit(event: string, payload: unknown): boolean };

  const fedAt = new Map<string, number>();
  const publishLatency: number[] = [];
  let probing = false;
  let published = 0;
  let segmentBytes = 0;
  const warnings: string[] = [];
  output.on('publish', (version) => {
    const at = performance.now();
    const counts = Object.values(version.media).map((media) => media.segmentCount);
    const listed = Math.min(...counts);
    for (const [rendition, media] of Object.entries(version.media)) {
      for (let index = published; index < media.segmentCount; index++) {
        const fed = fedAt.get(`${rendition}/${index}`);
        if (fed !== undefined && probing) publishLatency.push(at - fed);
        fedAt.delete(`${rendition}/${index}`);
      }
    }
    published = Math.max(published, listed);
  });
  output.on('warning', (message) => {
    if (warnings.length < 50) warnings.push(message);
  });

  const baseline = await storeBytes(setup.store, { gc: setup.store.kind === 'kubo' });
  const load = { start: (await import('node:os')).loadavg().map((v) => round(v, 2)), end: [] as number[] };
  await output.start();
  const runId = output.runId!;
  const t0 = performance.now();
  let recorded = 0;
  let lastRecordCheck = 0;
  /** Segments the registry recorded in every rendition (polled: the registry lane is the output's slowest queue). */
  const recordedCount = async () => {
    const run = await setup.registry.getRun(runId);
    recorded = Math.min(...renditions.map((name) => run?.segmentCounts[name]?.contiguous ?? 0));
    return recorded;
  };
  const waitFor = async (what: string, done: () => Promise<boolean> | boolean) => {
    let deadline = performance.now() + STALL_MS;
    let progress = published + recorded;
    while (!(await done())) {
      if (published + recorded > progress) {
        progress = published + recorded;
        deadline = performance.now() + STALL_MS;
      } else if (performance.now() > deadline) {
        throw new Error(`${setup.label}: ${what}: no progress for ${STALL_MS / 1000} s (published ${published}, recorded ${recorded})`);
      }
      await sleep(10);
    }
  };

  let fed = 0;
  /** Feeds segments up to `to`: flat out (bounded backlog), or one per segment duration (paced). */
  const feed = async (to: number, paced: boolean) => {
    const start = performance.now();
    const first = fed;
    for (; fed < to; fed++) {
      if (paced) {
        const wait = start + (fed - first) * segmentSeconds * 1000 - performance.now();
        if (wait > 0) await sleep(wait);
      } else if (fed - published > MAX_BACKLOG_SEGMENTS || fed - recorded > 4 * MAX_BACKLOG_SEGMENTS) {
        await waitFor('the backlog', async () => {
          if (performance.now() - lastRecordCheck > 200) {
            lastRecordCheck = performance.now();
            await recordedCount();
          }
          return fed - published <= MAX_BACKLOG_SEGMENTS / 2 && fed - recorded <= 4 * MAX_BACKLOG_SEGMENTS;
        });
      }
      for (const rendition of renditions) {
        const { parts, segment } = syntheticSegment(rendition, fed, segmentSize.get(rendition)!, partsPerSegment, partSeconds, segmentSeconds);
        for (const part of parts) emitter.emit('part', part);
        fedAt.set(`${rendition}/${fed}`, performance.now());
        segmentBytes += segment.bytes;
        emitter.emit('segment', segment);
      }
    }
  };

  const checkpoints: SoakCheckpoint[] = [];
  const playlistPath = `/channels/${CHANNEL}/quality/${top}/playlist.m3u8`;
  const statusUrl = `${setup.server.url}/runs/${runId}`;
  for (const segments of soakCheckpoints(totalSegments, segmentSeconds)) {
    const probeFrom = Math.max(fed, segments - config.probeSegments);
    await feed(probeFrom, false);
    await waitFor('the backlog before the probe', () => published >= fed - 1);
    publishLatency.length = 0;
    probing = true;
    await feed(segments, true);
    // The last fed segment is listed by the next one's publish (or the final one at the end).
    await waitFor('the probe', () => published >= segments - 1);
    probing = false;
    await waitFor('the registry', async () => (await recordedCount()) >= published);

    const lastComplete = (await setup.registry.getRun(runId))!.msnBase + published - 1;
    // An LL blocking reload for a segment that exists: answered at once, so this is the server's cost.
    const playlistUrl = `${setup.server.url}${playlistPath}?_HLS_msn=${lastComplete}`;
    const status: number[] = [];
    const playlist: number[] = [];
    let plain = 0;
    let gzip = 0;
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
      segments,
      simulatedSeconds: segments * segmentSeconds,
      wallSeconds: round((performance.now() - t0) / 1000, 1),
      segmentBytes,
      storeBytes: stored,
      ...(beforeGc !== undefined ? { storeBytesBeforeGc: beforeGc } : {}),
      storeOverSegments: round(stored / segmentBytes),
      rssMiB: round(memory.rss / MiB, 1),
      heapUsedMiB: round(memory.heapUsed / MiB, 1),
      publishLatencyMs: { count: publishLatency.length, ...summary(publishLatency) },
      routeLatencyMs: { runStatus: summary(status), playlist: summary(playlist) },
      playlistBytes: { plain, gzip },
      archiveChunks: (await setup.registry.listArchives(runId)).length,
    };
    checkpoints.push(point);
    log(
      `bench: ${setup.id.padEnd(14)} ${String(segments).padStart(6)} segments (${round(point.simulatedSeconds / 3600, 2)} h) in ${point.wallSeconds} s, ` +
        `store/segments ${point.storeOverSegments}, RSS ${point.rssMiB} MiB, publish p99 ${point.publishLatencyMs.p99} ms, ` +
        `playlist p99 ${point.routeLatencyMs.playlist.p99} ms, /runs/:id p99 ${point.routeLatencyMs.runStatus.p99} ms, ` +
        `playlist ${plain} B (gzip ${gzip}), ${point.archiveChunks} archive chunks`,
    );
  }
  await output.close();
  load.end = (await import('node:os')).loadavg().map((v) => round(v, 2));
  const run = await setup.registry.getRun(runId);
  const first = checkpoints[0]!;
  const last = checkpoints[checkpoints.length - 1]!;
  return {
    setup: setup.id,
    label: setup.label,
    runId,
    renditions,
    segmentsPerRendition: totalSegments,
    checkpoints,
    checks: {
      storeOverSegments: check(last.storeOverSegments, SOAK_LIMITS.storeOverSegments),
      rssGrowth: check(last.rssMiB / first.rssMiB, SOAK_LIMITS.rssGrowth),
      publishLatencyGrowth: check(last.publishLatencyMs.p99 / first.publishLatencyMs.p99, SOAK_LIMITS.publishLatencyGrowth),
      playlistLatencyGrowth: check(last.routeLatencyMs.playlist.p99 / first.routeLatencyMs.playlist.p99, SOAK_LIMITS.playlistLatencyGrowth),
      playlistGzipRatio: { value: round(last.playlistBytes.gzip / last.playlistBytes.plain) },
    },
    registryCounts: run?.segmentCounts ?? {},
    wallSeconds: round((performance.now() - t0) / 1000, 1),
    load,
    warnings,
  };
}
