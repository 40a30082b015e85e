// `--case publish`: how long a finished segment takes to reach a player. Frames
// go in at wall-clock pace; each segment is stamped when the encoder reports it
// ('segment'), when its upload finishes ('uploaded'), when a publish recorded in
// the registry first lists it ('publish'), and when the media playlist the
// server serves at /runs/:id/quality/:name/playlist.m3u8 first lists it, found
// by polling that URL over HTTP as a player does.
import type { PublishBenchConfig, SetupId } from './config.js';
import type { FrameRing } from './frames.js';
import type { ServiceSetup } from './service-setup.js';
import { createOutput, feedFrames } from './service-stream.js';
import { percentiles, type Percentiles } from './stats.js';

/** Milliseconds since the run's first frame was written; undefined until that stage happened. */
export interface SegmentTimeline {
  rendition: string;
  index: number;
  readyMs: number;
  uploadedMs?: number;
  publishedMs?: number;
  servedMs?: number;
}

export interface PublishStages {
  /** 'segment' event to first served playlist that lists it: what a player waits. */
  readyToServed: Percentiles;
  readyToUploaded: Percentiles;
  uploadedToPublished: Percentiles;
  publishedToServed: Percentiles;
}

export interface PublishSetupResult {
  setup: SetupId;
  label: string;
  runId: string;
  frames: number;
  feedSeconds: number;
  segments: number;
  polls: number;
  latencyMs: PublishStages;
  /** readyToServed of each rendition. */
  renditionsReadyToServedMs: Record<string, Percentiles>;
  timeline: SegmentTimeline[];
}

/** How long, after close(), every segment may take to show up before the run counts as broken. */
const DRAIN_TIMEOUT_MS = 20_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The media sequence numbers a media playlist lists: MEDIA-SEQUENCE, then one per #EXTINF. */
export function listedSequenceRange(text: string): { first: number; count: number } {
  const first = Number(/^#EXT-X-MEDIA-SEQUENCE:(\d+)\s*$/m.exec(text)?.[1] ?? 0);
  const count = text.split('\n').filter((line) => line.startsWith('#EXTINF')).length;
  return { first, count };
}

function stage(timeline: SegmentTimeline[], from: keyof SegmentTimeline, to: keyof SegmentTimeline): Percentiles {
  return percentiles(timeline.map((s) => (s[to] as number) - (s[from] as number)));
}

export async function measurePublish(config: PublishBenchConfig, setup: ServiceSetup, ring: FrameRing): Promise<PublishSetupResult> {
  const output = createOutput(config, setup);
  const timeline = new Map<string, SegmentTimeline>();
  const byKey = (rendition: string, index: number) => timeline.get(`${rendition}/${index}`);
  let t0 = 0;
  const now = () => performance.now() - t0;
  const warnings: string[] = [];

  output.on('segment', (s) => timeline.set(`${s.rendition}/${s.index}`, { rendition: s.rendition, index: s.index, readyMs: now() }));
  output.on('uploaded', (u) => {
    const entry = byKey(u.rendition, u.index);
    if (entry) entry.uploadedMs ??= now();
  });
  output.on('publish', (version) => {
    const at = now();
    for (const [rendition, media] of Object.entries(version.media)) {
      for (let index = 0; index < media.segmentCount; index++) {
        const entry = byKey(rendition, index);
        if (entry) entry.publishedMs ??= at;
      }
    }
  });
  output.on('warning', (message) => warnings.push(message));

  const totalFrames = Math.round(config.seconds * config.fps);
  t0 = performance.now();
  await output.write(ring.frame(0)); // creates the run, so its URLs exist
  const runId = output.runId!;

  let polling = true;
  let polls = 0;
  const poll = async (rendition: string) => {
    const url = `${setup.server.url}/runs/${runId}/quality/${rendition}/playlist.m3u8`;
    let etag: string | undefined;
    while (polling) {
      const sent = performance.now();
      // If-None-Match as a browser sends it: an unchanged playlist costs a 304.
      const response = await fetch(url, { headers: etag ? { 'If-None-Match': etag } : {} });
      const body = await response.text();
      const at = now();
      polls++;
      if (response.status === 200) {
        etag = response.headers.get('etag') ?? undefined;
        const { first, count } = listedSequenceRange(body);
        for (let index = first; index < first + count; index++) {
          const entry = byKey(rendition, index);
          if (entry) entry.servedMs ??= at;
        }
      } else if (response.status !== 304 && response.status !== 404) {
        // 404 only means "not published yet"; anything else is a broken server.
        throw new Error(`GET ${url} answered ${response.status}: ${body.slice(0, 200)}`);
      }
      await sleep(Math.max(0, config.pollMs - (performance.now() - sent)));
    }
  };
  const pollers = output.renditions.map((r) => poll(r.name));
  // A poller that fails stops the measurement at once, rather than at the drain timeout.
  let pollFailure: Error | undefined;
  const watched = Promise.all(pollers).catch((error: Error) => {
    pollFailure = error;
    polling = false;
  });

  let feedSeconds = 0;
  try {
    await feedFrames(output, ring, { from: 1, to: totalFrames, fps: config.fps, paced: true, startedAt: t0 });
    feedSeconds = (performance.now() - t0) / 1000;
    await output.close();
    const deadline = performance.now() + DRAIN_TIMEOUT_MS;
    while (!pollFailure && [...timeline.values()].some((s) => s.servedMs === undefined) && performance.now() < deadline) await sleep(20);
  } finally {
    polling = false;
    await watched;
    await output.close().catch(() => undefined);
  }
  if (pollFailure) throw pollFailure;

  const segments = [...timeline.values()].sort((a, b) => a.rendition.localeCompare(b.rendition) || a.index - b.index);
  const missing = segments.filter((s) => s.uploadedMs === undefined || s.publishedMs === undefined || s.servedMs === undefined);
  if (segments.length === 0) throw new Error(`${setup.label}: the encoder reported no segments`);
  if (missing.length > 0) {
    const first = missing[0]!;
    throw new Error(
      `${setup.label}: ${missing.length} segment(s) never reached the served playlist within ${DRAIN_TIMEOUT_MS / 1000} s of close, ` +
        `e.g. ${first.rendition}/${first.index}${warnings.length ? `; warnings: ${warnings.join('; ')}` : ''}`,
    );
  }
  const renditionsReadyToServedMs = Object.fromEntries(
    output.renditions.map((r) => [r.name, stage(segments.filter((s) => s.rendition === r.name), 'readyMs', 'servedMs')]),
  );
  return {
    setup: setup.id,
    label: setup.label,
    runId,
    frames: totalFrames,
    feedSeconds,
    segments: segments.length,
    polls,
    latencyMs: {
      readyToServed: stage(segments, 'readyMs', 'servedMs'),
      readyToUploaded: stage(segments, 'readyMs', 'uploadedMs'),
      uploadedToPublished: stage(segments, 'uploadedMs', 'publishedMs'),
      publishedToServed: stage(segments, 'publishedMs', 'servedMs'),
    },
    renditionsReadyToServedMs,
    timeline: segments,
  };
}
