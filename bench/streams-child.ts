// One process of `--case streams` (bench/streams.ts): K LadderEncoders fed at
// wall-clock pace, as a renderer streaming K things at once would, segments to
// disk. Prints one JSON line (StreamsChildResult) when every stream has ended.
// Run as: node --import tsx bench/streams-child.ts '<StreamsChildInput JSON>'
import { readFileSync } from 'node:fs';

import { LadderEncoder, type Rendition, type ThreadPlan } from '../src/index.js';
import { makeFrameRing } from './frames.js';
import { lateness, type StreamLateness } from './stream-lateness.js';

export interface StreamsChildInput {
  streams: number;
  width: number;
  height: number;
  fps: number;
  segmentSeconds: number;
  framesPerSegment: number;
  frames: number;
  ringFrames: number;
  preset: string;
  renditions: Rendition[];
  outDir: string;
}

export interface StreamsChildResult {
  streams: StreamLateness[];
  cpuSeconds: number;
  wallSeconds: number;
  /** Peak RSS of this process (VmHWM), and what its precomputed frames (the renderer's, not abrcast's) take of it. */
  peakRssBytes: number;
  ringBytes: number;
  /** RSS once the modules were loaded, before any frame or encoder: Node's own (and tsx's, which runs this child). */
  baseRssBytes: number;
  /** Threads the process ran at its busiest sample (every encoder open). */
  threads: number;
  /** The last encoder's thread plan: the process's budget split among the K encoders (docs/native-lifetime.md). */
  threadPlan: ThreadPlan;
}

function threadCount(): number {
  try {
    return Number(/^Threads:\s+(\d+)$/m.exec(readFileSync('/proc/self/status', 'latin1'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

async function main(): Promise<void> {
  const input = JSON.parse(process.argv[2]!) as StreamsChildInput;
  const baseRssBytes = process.memoryUsage().rss;
  const ring = makeFrameRing(input.width, input.height, input.ringFrames);
  const encoders = Array.from({ length: input.streams }, (_, s) => new LadderEncoder({
    width: input.width,
    height: input.height,
    fps: input.fps,
    pixelFormat: 'rgb24',
    segmentDuration: input.segmentSeconds,
    renditions: input.renditions,
    x264Preset: input.preset as 'veryfast',
    outputDir: `${input.outDir}/stream-${s}`,
  }));
  await Promise.all(encoders.map((encoder) => encoder.ready));
  let threads = threadCount();

  const cpuStart = process.cpuUsage();
  const started = performance.now();
  // Each stream starts a fraction of a frame after the previous, as independent renderers would.
  const streams = await Promise.all(encoders.map(async (encoder, s) => {
    const t0 = started + (s * 1000) / input.fps / input.streams;
    const due = (frame: number) => t0 + (frame * 1000) / input.fps;
    const writeLag: number[] = [];
    const segmentLag: number[] = [];
    // A segment is there when every rendition's is: the last of its events.
    const renditionsSeen = new Map<number, number>();
    encoder.on('segment', (segment) => {
      const seen = (renditionsSeen.get(segment.index) ?? 0) + 1;
      renditionsSeen.set(segment.index, seen);
      if (seen < input.renditions.length) return;
      const closing = Math.min(input.frames, (segment.index + 1) * input.framesPerSegment);
      segmentLag.push(performance.now() - due(closing));
    });
    for (let i = 0; i < input.frames; i++) {
      const wait = due(i) - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      await encoder.write(ring.frame(i + s));
      writeLag.push(performance.now() - due(i));
      if (i === input.frames >> 1) threads = Math.max(threads, threadCount());
    }
    await encoder.close();
    return lateness(writeLag, segmentLag);
  }));
  const cpu = process.cpuUsage(cpuStart);
  const result: StreamsChildResult = {
    streams,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    wallSeconds: (performance.now() - started) / 1000,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    ringBytes: ring.frames.reduce((sum, frame) => sum + frame.byteLength, 0),
    baseRssBytes,
    threads,
    threadPlan: encoders[encoders.length - 1]!.threadPlan,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error: Error) => {
  process.stderr.write(`${error.stack ?? error.message}\n`);
  process.exitCode = 1;
});
