// `--case endpoint`: the playlist routes a live player polls, under load. A short
// run is encoded and finished first (so every answer is the same final playlist);
// then autocannon, in a worker thread so the load does not share the server's
// event loop, hits /runs/:id/quality/:name/playlist.m3u8 and /runs/:id/master.m3u8
// on 127.0.0.1 for a fixed time with a fixed number of connections.
import autocannon from 'autocannon';

import type { EndpointBenchConfig, SetupId } from './config.js';
import type { FrameRing } from './frames.js';
import { listedSequenceRange } from './publish-latency.js';
import type { ServiceSetup } from './service-setup.js';
import { createOutput, feedFrames } from './service-stream.js';

export type EndpointRoute = 'quality' | 'master';

export interface EndpointResult {
  setup: SetupId;
  label: string;
  route: EndpointRoute;
  path: string;
  connections: number;
  seconds: number;
  /** Answered requests; per second: over autocannon's one-second samples. */
  requests: { total: number; perSecondMean: number; perSecondP50: number; perSecondMin: number; perSecondMax: number };
  /** autocannon records whole milliseconds. */
  latencyMs: { mean: number; p50: number; p99: number; max: number };
  bytesPerSecondMean: number;
  status2xx: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

/** Encodes and finishes a run of `runSeconds`; returns its id once the served playlist lists every segment. */
async function finishedRun(config: EndpointBenchConfig, setup: ServiceSetup, ring: FrameRing): Promise<{ runId: string; quality: string }> {
  const output = createOutput(config, setup);
  const frames = Math.round(config.runSeconds * config.fps);
  try {
    await feedFrames(output, ring, { from: 0, to: frames, fps: config.fps, paced: false });
  } finally {
    await output.close();
  }
  const runId = output.runId!;
  const quality = output.renditions[0]!.name;
  const expected = Math.ceil(frames / config.framesPerSegment);
  const response = await fetch(`${setup.server.url}/runs/${runId}/quality/${quality}/playlist.m3u8`);
  const text = await response.text();
  const { count } = listedSequenceRange(text);
  if (response.status !== 200 || !text.includes('#EXT-X-ENDLIST') || count !== expected) {
    throw new Error(`${setup.label}: the finished run's ${quality} playlist answered ${response.status} with ${count} of ${expected} segments`);
  }
  return { runId, quality };
}

async function load(config: EndpointBenchConfig, setup: ServiceSetup, route: EndpointRoute, path: string): Promise<EndpointResult> {
  const result = await autocannon({
    url: `${setup.server.url}${path}`,
    connections: config.connections,
    duration: config.seconds,
    pipelining: 1,
    timeout: 10,
    workers: 1,
  });
  return {
    setup: setup.id,
    label: setup.label,
    route,
    path,
    connections: config.connections,
    seconds: config.seconds,
    requests: {
      total: result.requests.total,
      perSecondMean: result.requests.mean,
      perSecondP50: result.requests.p50,
      perSecondMin: result.requests.min,
      perSecondMax: result.requests.max,
    },
    latencyMs: { mean: result.latency.mean, p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    bytesPerSecondMean: result.throughput.mean,
    status2xx: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

export async function measureEndpoint(config: EndpointBenchConfig, setup: ServiceSetup, ring: FrameRing): Promise<EndpointResult[]> {
  const { runId, quality } = await finishedRun(config, setup, ring);
  return [
    await load(config, setup, 'quality', `/runs/${runId}/quality/${quality}/playlist.m3u8`),
    await load(config, setup, 'master', `/runs/${runId}/master.m3u8`),
  ];
}
