// Bytes per second of stream for each container, with and without LL-HLS parts: the same frames
// and audio encoded to MPEG-TS and to fMP4/CMAF (init segment counted once per rendition), so the
// difference is container overhead (TS: 188-byte packets, PES headers, PAT/PMT, adaptation
// padding; fMP4: moof/traf/trun per fragment). Parts add a flush (TS: a padded PES end per stream)
// or a fragment header (fMP4) per part.
//   npm run bench -- --case container [--seconds 20] [--size 1280x720] [--preset ultrafast] [--part 0.3333333333333333] [--json]
//   (or npx tsx bench/container-bytes.ts with the same flags)
import { parseArgs } from 'node:util';

import { LadderEncoder, ladderFromHeights, type Container } from '../src/index.js';
import { makeFrameRing } from './frames.js';

export interface ContainerBytesRow {
  container: Container;
  /** Seconds per part; absent: no parts. */
  partDuration?: number;
  seconds: number;
  /** Per rendition and in all: every segment's bytes plus the init segment, over the stream's seconds. */
  bytesPerSecond: Record<string, number>;
  totalBytesPerSecond: number;
  /** totalBytesPerSecond over the TS row without parts. */
  relativeToTs: number;
}

export interface ContainerBytesOptions {
  width: number;
  height: number;
  fps: number;
  seconds: number;
  preset: string;
  partDuration: number;
  heights: number[];
}

async function measure(options: ContainerBytesOptions, container: Container, partDuration: number | undefined, frames: ReturnType<typeof makeFrameRing>) {
  const { width, height, fps, seconds } = options;
  const encoder = new LadderEncoder({
    width, height, fps, segmentDuration: 2, encoder: 'x264', x264Preset: options.preset, container,
    renditions: ladderFromHeights(width, height, options.heights),
    audio: { pcm: { sampleRate: 48_000, channels: 2 }, bitrate: 128 },
    ...(partDuration !== undefined ? { partDuration } : {}),
  });
  const bytes = new Map<string, number>(encoder.renditions.map((r) => [r.name, 0]));
  const add = (rendition: string, n: number) => bytes.set(rendition, (bytes.get(rendition) ?? 0) + n);
  encoder.on('init', (i) => add(i.rendition, i.bytes));
  encoder.on('segment', (s) => add(s.rendition, s.bytes));
  const samplesPerFrame = 48_000 / fps;
  const pcm = new Float32Array(samplesPerFrame * 2);
  for (let i = 0; i < seconds * fps; i++) {
    for (let j = 0; j < samplesPerFrame; j++) pcm[2 * j] = pcm[2 * j + 1] = 0.3 * Math.sin((2 * Math.PI * 440 * (i * samplesPerFrame + j)) / 48_000);
    await encoder.writeAudio(pcm);
    await encoder.write(frames.frame(i));
  }
  const summary = await encoder.close();
  const duration = summary.frames / fps;
  const bytesPerSecond = Object.fromEntries([...bytes].map(([name, n]) => [name, Math.round(n / duration)]));
  const total = [...bytes.values()].reduce((a, b) => a + b, 0);
  return { bytesPerSecond, totalBytesPerSecond: Math.round(total / duration), seconds: duration };
}

export async function benchContainerBytes(options: ContainerBytesOptions): Promise<ContainerBytesRow[]> {
  const frames = makeFrameRing(options.width, options.height, 60);
  const rows: ContainerBytesRow[] = [];
  for (const partDuration of [undefined, options.partDuration]) {
    for (const container of ['ts', 'fmp4'] as Container[]) {
      const measured = await measure(options, container, partDuration, frames);
      const ts = rows.find((r) => r.container === 'ts' && r.partDuration === undefined)?.totalBytesPerSecond ?? measured.totalBytesPerSecond;
      rows.push({ container, ...(partDuration !== undefined ? { partDuration } : {}), ...measured, relativeToTs: measured.totalBytesPerSecond / ts });
    }
  }
  return rows;
}

export function formatContainerBytes(rows: ContainerBytesRow[]): string {
  const names = Object.keys(rows[0]?.bytesPerSecond ?? {});
  const header = ['container', 'parts', ...names.map((n) => `${n} B/s`), 'total B/s', 'vs TS'];
  const lines = rows.map((r) => [
    r.container, r.partDuration === undefined ? '-' : `${r.partDuration.toFixed(3)} s`,
    ...names.map((n) => String(r.bytesPerSecond[n])), String(r.totalBytesPerSecond), `${((r.relativeToTs - 1) * 100).toFixed(2)} %`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  return [header, ...lines].map((l) => l.map((c, i) => c.padStart(widths[i]!)).join('  ')).join('\n');
}

export async function containerBytesMain(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      seconds: { type: 'string', default: '20' }, size: { type: 'string', default: '1280x720' }, preset: { type: 'string', default: 'ultrafast' },
      part: { type: 'string', default: String(10 / 30) }, json: { type: 'boolean', default: false },
    },
  });
  const [width, height] = values.size.split('x').map(Number) as [number, number];
  const options: ContainerBytesOptions = {
    width, height, fps: 30, seconds: Number(values.seconds), preset: values.preset, partDuration: Number(values.part),
    heights: [height, Math.round(height / 2 / 2) * 2],
  };
  const rows = await benchContainerBytes(options);
  process.stderr.write(`${width}x${height} ${options.fps} fps, ${options.seconds} s, x264 ${options.preset}, 2 s segments, AAC 128 kbit/s\n`);
  if (values.json) process.stdout.write(`${JSON.stringify({ options, rows }, null, 2)}\n`);
  else process.stdout.write(`${formatContainerBytes(rows)}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) await containerBytesMain(process.argv.slice(2));
