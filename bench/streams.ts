// `npm run bench -- --case streams`: how many ladders one machine keeps in real
// time. K streams (1280x720 rgb24, ladder 720/480/360, veryfast, 30 fps paced
// as a renderer would, segments to disk), K = 1, 2, 4, ... then bisected
// between the last K that kept up and the first that did not:
//   abrcast: one process (bench/streams-child.ts) with K LadderEncoders;
//   ffmpeg:  K processes, each the best CLI shape (bench/pipelines/one-ffmpeg.ts:
//            rgb24 from a pipe, split, scale per rendition, N HLS outputs),
//            fed through its pipe at the same pace by this process.
// A stream keeps real time when no frame's write and no segment comes later
// than one segment after its due time (bench/stream-lateness.ts). Reported per
// trial: the lateness, CPU per stream (cores) and RSS per stream; abrcast's RSS
// leaves out its process's precomputed frames (the renderer's memory), the
// ffmpeg side's feeder (this process) is reported apart.
// Results: bench/results/<date>-<host>-streams[-quick][-tag].json.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Writable } from 'node:stream';

import { frameRateRational } from '../src/encoder/options.js';
import { ladderFromHeights } from '../src/encoder/ladder.js';
import { invalidParameterError, isInteger } from '../src/errors.js';
import type { Rendition } from '../src/index.js';
import { type FfmpegSettings, hlsOutput, QUIET, rawInput, scaleFilter, videoEncoder } from './ffmpeg-args.js';
import { type FfmpegChild, spawnFfmpeg, waitForAll } from './ffmpeg-process.js';
import { type FrameRing, makeFrameRing } from './frames.js';
import { describeMachine, type MachineInfo } from './machine.js';
import type { StreamsChildInput, StreamsChildResult } from './streams-child.js';
import { keepsRealTime, lateness, type StreamLateness } from './stream-lateness.js';
import { log } from './log.js';

const CHILD = fileURLToPath(new URL('./streams-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DEFAULT_OUT_DIR = fileURLToPath(new URL('results', import.meta.url));
const MIB = 1048576;
export const STREAMS_SIDES = ['abrcast', 'ffmpeg'] as const;
export type StreamsSide = (typeof STREAMS_SIDES)[number];

export const STREAMS_USAGE = `--case streams (K paced ladders in one abrcast process against K ffmpeg processes):
  --quick            CI smoke run: 320x180, ladder 180,90, ultrafast, 1 s segments, 3 s per trial, K up to 2
  --max-streams N    largest K tried (default 16)
  --seconds N        seconds of stream per trial (default 30)
  --size WxH         source size (default 1280x720)
  --ladder L         rendition heights (default 720,480,360)
  --preset P         x264 preset (default veryfast)
  --fps N            frame rate (default 30)
  --segment S        segment seconds (default 2)
  --only a,b         sides: ${STREAMS_SIDES.join(', ')} (default both)
  --out-dir, --tag, --json as for every case`;

export interface StreamsConfig extends FfmpegSettings {
  quick: boolean;
  width: number;
  height: number;
  fps: number;
  frames: number;
  seconds: number;
  maxStreams: number;
  renditions: Rendition[];
  sides: StreamsSide[];
  outDir: string;
  tag?: string;
  json: boolean;
}

export interface StreamsTrial {
  side: StreamsSide;
  streams: number;
  realTime: boolean;
  /** Worst stream's figures (stream-lateness.ts). */
  maxWriteLagMs: number;
  maxSegmentLagMs: number;
  medianSegmentLagMs: number;
  /** CPU seconds per wall second per stream: the cores one stream takes. */
  cpuCoresPerStream: number;
  /** Peak RSS per stream: abrcast's process without its precomputed frames, divided by K; the sum of the ffmpeg processes' peaks / K. */
  rssPerStreamMiB: number;
  rssTotalMiB: number;
  /** ffmpeg side: this process writing the frames into the pipes, cores per stream (not in cpuCoresPerStream). */
  feederCoresPerStream?: number;
  /** Threads of the abrcast process with every encoder open; processes x threads on the ffmpeg side are not counted. */
  threads?: number;
  /** abrcast side: the process's RSS before any frame or encoder (Node, and tsx, which runs the child), in rssTotalMiB once. */
  processBaseMiB?: number;
  /** abrcast side: how the process's thread budget was split (the last encoder's plan). */
  threadPlan?: { budget: number; encoders: number; share: number };
  loadAverage: number;
  perStream: StreamLateness[];
}

export interface StreamsReport {
  schema: 1;
  case: 'streams';
  date: string;
  machine: MachineInfo;
  config: Omit<StreamsConfig, 'outDir' | 'json'>;
  trials: StreamsTrial[];
  /** The largest K each side kept in real time (0: not even one). */
  largest: Partial<Record<StreamsSide, number>>;
  /** abrcast's largest K / ffmpeg's, when both ran and ffmpeg kept at least one. */
  ratio: number | null;
}


function integer(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!isInteger(value) || value < min || value > max) {
    throw invalidParameterError(name, `integer between ${min} and ${max}`, Number.isNaN(value) ? text : value);
  }
  return value;
}

export function parseStreamsOptions(argv: string[]): StreamsConfig | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      quick: { type: 'boolean' }, 'max-streams': { type: 'string' }, seconds: { type: 'string' }, size: { type: 'string' },
      ladder: { type: 'string' }, preset: { type: 'string' }, fps: { type: 'string' }, segment: { type: 'string' },
      only: { type: 'string' }, 'out-dir': { type: 'string' }, tag: { type: 'string' }, json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const quick = values.quick ?? false;
  const sizeText = values.size ?? (quick ? '320x180' : '1280x720');
  const size = /^(\d+)x(\d+)$/.exec(sizeText);
  if (!size) throw invalidParameterError('--size', 'string WxH, e.g. 1280x720', sizeText);
  const [width, height] = [Number(size[1]), Number(size[2])];
  const fps = integer('--fps', values.fps ?? '30', 1, 240);
  const segmentSeconds = integer('--segment', values.segment ?? (quick ? '1' : '2'), 1, 60);
  const seconds = integer('--seconds', values.seconds ?? (quick ? '3' : '30'), 1, 3600);
  const ladderText = values.ladder ?? (quick ? '180,90' : '720,480,360');
  if (!/^\d+(,\d+)*$/.test(ladderText)) throw invalidParameterError('--ladder', 'heights like 720,480,360', ladderText);
  const renditions = ladderFromHeights(width, height, ladderText.split(',').map(Number));
  const sides = (values.only ?? STREAMS_SIDES.join(',')).split(',').map((side) => {
    if (!(STREAMS_SIDES as readonly string[]).includes(side)) throw invalidParameterError('--only', `a list of ${STREAMS_SIDES.join(', ')}`, side);
    return side as StreamsSide;
  });
  const { num, den } = frameRateRational(fps);
  return {
    quick, width, height, fps, frameRate: `${num}/${den}`, segmentSeconds, framesPerSegment: fps * segmentSeconds,
    frames: fps * seconds, seconds,
    maxStreams: integer('--max-streams', values['max-streams'] ?? (quick ? '2' : '16'), 1, 256),
    renditions, sides, preset: values.preset ?? (quick ? 'ultrafast' : 'veryfast'), encoder: 'x264', scaleAlgorithm: 'lanczos',
    outDir: values['out-dir'] ?? DEFAULT_OUT_DIR, ...(values.tag ? { tag: values.tag } : {}), json: values.json ?? false,
  };
}

function expectedSegments(config: StreamsConfig): number {
  return Math.ceil(config.frames / config.framesPerSegment);
}

function loadAverage(): number {
  return Number(readFileSync('/proc/loadavg', 'latin1').split(' ')[0]);
}

async function runAbrcast(config: StreamsConfig, streams: number, workDir: string): Promise<StreamsTrial> {
  const input: StreamsChildInput = {
    streams, width: config.width, height: config.height, fps: config.fps, segmentSeconds: config.segmentSeconds,
    framesPerSegment: config.framesPerSegment, frames: config.frames, ringFrames: config.quick ? 8 : 30,
    preset: config.preset, renditions: config.renditions, outDir: workDir,
  };
  const load = loadAverage();
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(input)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr = (stderr + text).slice(-4000)));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`the abrcast streams process exited ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
  const result = JSON.parse(stdout) as StreamsChildResult;
  const rss = result.peakRssBytes - result.ringBytes;
  return summarize(config, 'abrcast', streams, result.streams, {
    cpuCoresPerStream: result.cpuSeconds / result.wallSeconds / streams,
    rssTotalMiB: rss / MIB,
    threads: result.threads,
    processBaseMiB: Number((result.baseRssBytes / MIB).toFixed(1)),
    threadPlan: { budget: result.threadPlan.budget, encoders: result.threadPlan.encoders, share: result.threadPlan.share },
    loadAverage: load,
  });
}

function summarize(
  config: StreamsConfig,
  side: StreamsSide,
  streams: number,
  perStream: StreamLateness[],
  figures: Pick<StreamsTrial, 'cpuCoresPerStream' | 'rssTotalMiB' | 'loadAverage'> & Partial<StreamsTrial>,
): StreamsTrial {
  const round = (value: number, digits: number) => Number(value.toFixed(digits));
  return {
    side,
    streams,
    realTime: perStream.every((s) => keepsRealTime(s, config.segmentSeconds, expectedSegments(config))),
    maxWriteLagMs: Math.max(...perStream.map((s) => s.maxWriteLagMs)),
    maxSegmentLagMs: Math.max(...perStream.map((s) => s.maxSegmentLagMs)),
    medianSegmentLagMs: Math.max(...perStream.map((s) => s.medianSegmentLagMs)),
    ...figures,
    cpuCoresPerStream: round(figures.cpuCoresPerStream, 3),
    rssPerStreamMiB: round(figures.rssTotalMiB / streams, 1),
    rssTotalMiB: round(figures.rssTotalMiB, 1),
    ...(figures.feederCoresPerStream !== undefined ? { feederCoresPerStream: round(figures.feederCoresPerStream, 3) } : {}),
    perStream,
  };
}

/** ffmpeg's pid (the bash wrapper's child) and its VmHWM, bytes. */
function ffmpegPeak(wrapperPid: number | undefined): { pid: number; hwm: number } | undefined {
  if (wrapperPid === undefined) return undefined;
  try {
    const pid = Number(readFileSync(`/proc/${wrapperPid}/task/${wrapperPid}/children`, 'latin1').trim().split(/\s+/)[0]);
    if (!pid) return undefined;
    const hwm = Number(/^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1] ?? 0) * 1024;
    return { pid, hwm };
  } catch {
    return undefined;
  }
}

function writeFrame(pipe: Writable, frame: Buffer): Promise<boolean> {
  return new Promise((resolve) => pipe.write(frame, (error) => resolve(!error)));
}

async function runFfmpeg(config: StreamsConfig, streams: number, ring: FrameRing, workDir: string): Promise<StreamsTrial> {
  const { renditions } = config;
  const labels = renditions.map((_, i) => `[s${i}]`).join('');
  const graph = [`[0:v]split=${renditions.length}${labels}`, ...renditions.map((r, i) => `[s${i}]${scaleFilter(r, config)}[v${i}]`)].join(';');
  const children: FfmpegChild[] = [];
  const playlists: string[][] = [];
  for (let s = 0; s < streams; s++) {
    const outputs: string[] = [];
    playlists.push([]);
    for (const [i, rendition] of renditions.entries()) {
      const dir = join(workDir, `stream-${s}`, rendition.name);
      await mkdir(dir, { recursive: true });
      outputs.push('-map', `[v${i}]`, ...videoEncoder(rendition, config), ...hlsOutput(dir, config));
      playlists[s]!.push(join(dir, 'playlist.m3u8'));
    }
    const args = [...QUIET, ...rawInput('rgb24', config.width, config.height, config), '-filter_complex', graph, ...outputs];
    children.push(spawnFfmpeg(`streams ${s + 1}/${streams}`, args, { pipeStdin: true }));
  }
  const load = loadAverage();
  const cpuStart = process.cpuUsage();
  const started = performance.now();
  const due = (s: number, frame: number) => started + (s * 1000) / config.fps / streams + (frame * 1000) / config.fps;
  // A segment is there when every rendition's playlist lists it.
  const segmentLag: number[][] = playlists.map(() => []);
  const peaks = new Map<number, number>();
  const poll = setInterval(() => {
    for (const [s, paths] of playlists.entries()) {
      let listed = Infinity;
      for (const path of paths) {
        try {
          listed = Math.min(listed, readFileSync(path, 'latin1').split('\n').filter((line) => line.endsWith('.ts')).length);
        } catch {
          listed = 0;
        }
      }
      const lags = segmentLag[s]!;
      while (lags.length < listed) {
        const closing = Math.min(config.frames, (lags.length + 1) * config.framesPerSegment);
        lags.push(performance.now() - due(s, closing));
      }
    }
    for (const child of children) {
      const peak = ffmpegPeak(child.pid);
      if (peak) peaks.set(peak.pid, Math.max(peaks.get(peak.pid) ?? 0, peak.hwm));
    }
  }, 50);
  const writeLag = await Promise.all(children.map(async (child, s) => {
    const lags: number[] = [];
    for (let i = 0; i < config.frames; i++) {
      const wait = due(s, i) - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (!(await writeFrame(child.stdin!, ring.frame(i + s)))) break;
      lags.push(performance.now() - due(s, i));
    }
    child.stdin!.end();
    return lags;
  }));
  const feederCpu = process.cpuUsage(cpuStart);
  const cpu = await waitForAll(children);
  const wallSeconds = (performance.now() - started) / 1000;
  await new Promise((resolve) => setTimeout(resolve, 120)); // one more poll: the last segments, listed at exit
  clearInterval(poll);
  let rss = 0;
  for (const peak of peaks.values()) rss += peak;
  return summarize(config, 'ffmpeg', streams, writeLag.map((lags, s) => lateness(lags, segmentLag[s]!)), {
    cpuCoresPerStream: (cpu.user + cpu.system) / wallSeconds / streams,
    rssTotalMiB: rss / MIB,
    feederCoresPerStream: (feederCpu.user + feederCpu.system) / 1e6 / wallSeconds / streams,
    loadAverage: load,
  });
}

async function measureStreams(config: StreamsConfig): Promise<StreamsReport> {
  const machine = await describeMachine();
  const date = new Date().toISOString().slice(0, 10);
  const trials: StreamsTrial[] = [];
  const largest: Partial<Record<StreamsSide, number>> = {};
  const ring = config.sides.includes('ffmpeg') ? makeFrameRing(config.width, config.height, config.quick ? 8 : 30) : undefined;
  const workRoot = await mkdtemp(join(tmpdir(), 'abrcast-streams-'));
  try {
    for (const side of config.sides) {
      const trial = async (streams: number): Promise<boolean> => {
        const workDir = join(workRoot, `${side}-${streams}`);
        await mkdir(workDir, { recursive: true });
        try {
          const result = side === 'abrcast' ? await runAbrcast(config, streams, workDir) : await runFfmpeg(config, streams, ring!, workDir);
          trials.push(result);
          log(`bench: streams ${side} K=${streams}: ${result.realTime ? 'real time' : 'LATE'}, worst write ${result.maxWriteLagMs} ms, ` +
            `segment ${result.maxSegmentLagMs} ms, ${result.cpuCoresPerStream} cores and ${result.rssPerStreamMiB} MiB per stream`);
          return result.realTime;
        } finally {
          await rm(workDir, { recursive: true, force: true });
        }
      };
      // Doubling, then bisecting between the last K that kept up and the first that did not.
      let good = 0;
      let bad = 0;
      for (let k = 1; ; k = Math.min(k * 2, config.maxStreams)) {
        if (!(await trial(k))) {
          bad = k;
          break;
        }
        good = k;
        if (k === config.maxStreams) break;
      }
      while (bad > good + 1) {
        const mid = (good + bad) >> 1;
        if (await trial(mid)) good = mid;
        else bad = mid;
      }
      largest[side] = good;
    }
  } finally {
    await rm(workRoot, { recursive: true, force: true });
  }
  const ratio = largest.abrcast !== undefined && largest.ffmpeg ? Number((largest.abrcast / largest.ffmpeg).toFixed(2)) : null;
  const { outDir: _outDir, json: _json, ...reported } = config;
  return { schema: 1, case: 'streams', date, machine, config: reported, trials, largest, ratio };
}

export function formatStreamsTables(report: StreamsReport): string {
  const c = report.config;
  const lines = [
    `${c.width}x${c.height} rgb24 at ${c.fps} fps paced, ladder ${c.renditions.map((r) => r.height).join('/')}, ${c.preset}, ` +
      `${c.segmentSeconds} s segments, ${c.seconds} s per trial; ${report.machine.nproc} CPUs, load ${report.machine.loadAverage.join(' ')}`,
    '',
    '| side | K | real time | worst write late (ms) | worst segment late (ms) | median segment late (ms) | CPU per stream (cores) | RSS per stream (MiB) | load |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const t of report.trials) {
    lines.push(`| ${t.side} | ${t.streams} | ${t.realTime ? 'yes' : 'no'} | ${t.maxWriteLagMs} | ${t.maxSegmentLagMs} | ${t.medianSegmentLagMs} | ` +
      `${t.cpuCoresPerStream}${t.feederCoresPerStream !== undefined ? ` (+${t.feederCoresPerStream} feeding)` : ''} | ${t.rssPerStreamMiB} | ${t.loadAverage} |`);
  }
  lines.push('');
  lines.push(`Largest K in real time: ${Object.entries(report.largest).map(([side, k]) => `${side} ${k}`).join(', ')}` +
    (report.ratio !== null ? `; abrcast / ffmpeg: ${report.ratio.toFixed(2)} x` : ''));
  return lines.join('\n');
}

export async function streamsMain(argv: string[]): Promise<void> {
  const config = parseStreamsOptions(argv);
  if (config === 'help') {
    process.stdout.write(`${STREAMS_USAGE}\n`);
    return;
  }
  const report = await measureStreams(config);
  await mkdir(config.outDir, { recursive: true });
  const host = report.machine.host.replace(/[^A-Za-z0-9._-]/g, '-');
  const name = [report.date, host, 'streams', ...(config.quick ? ['quick'] : []), ...(config.tag ? [config.tag] : [])].join('-');
  const written = join(config.outDir, `${name}.json`);
  await writeFile(written, `${JSON.stringify(report, null, 2)}\n`);
  const tables = formatStreamsTables(report);
  if (config.json) {
    log(`\n${tables}\n\nwrote ${written}`);
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    process.stdout.write(`\n${tables}\n\nwrote ${written}\n`);
  }
}
