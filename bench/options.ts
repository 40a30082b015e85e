// `npm run bench -- [options]`: parses and validates the command line into a BenchConfig.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { frameRateRational, normalizeEncoderOptions, SCALE_ALGORITHMS, X264_PRESETS } from '../src/encoder/options.js';
import { invalidParameterError, isInteger } from '../src/errors.js';
import { defaultLadder, ladderFromHeights, type ScaleAlgorithm } from '../src/index.js';
import {
  BENCH_CASES, DEFAULT_PIPELINE_IDS, PIPELINE_IDS, SETUP_IDS,
  type AnyBenchConfig, type BenchCase, type BenchConfig, type BenchEncoder, type PipelineId, type SetupId,
} from './config.js';

export const USAGE = `Usage: npm run bench -- [--case C] [options]
  --case C           pipelines (default): the encode pipelines side by side;
                     publish: segment ready -> listed in the playlist the server serves (p50/p99);
                     endpoint: autocannon against the served playlists of a finished run;
                     soak: a 24/7 channel (window, archive, parts) fed synthetic segments flat out, measured after
                     the first hour and each quarter (bench/soak.ts);
                     container: TS vs fMP4 bytes per second, with and without parts (bench/container-bytes.ts:
                     --seconds N, --size WxH, --preset P, --part S, --json);
                     latency: abrcast demo --low-latency (ts, fmp4) and a plain run watched by hls.js in
                     Chromium (median/p95 behind the renderer, stalls), first master after launch (median
                     of N launches), cross-process NOTIFY wake-up (bench/latency.ts: --seconds N (60),
                     --launches N (5), --size WxH (1280x720), --preset P (veryfast), --segment S (2),
                     --rounds N (100), --quick, --out-dir, --tag, --json);
                     scale: playlist req/s through HAProxy with 1 and 2 \`abrcast serve\` processes, CPU split,
                     Kubo peer propagation (bench/scale.ts: --quick, --seconds N, --connections N, --samples N);
                     viewers: K simulated LL-HLS viewers on one \`abrcast serve\` (PostgreSQL, Kubo): delay from a
                     part's recording to the first viewer and to every other, errors, serve CPU and RSS per K; then
                     hls.js in Chromium alone and under N hostile held requests (bench/viewers.ts: --viewers K,K,..
                     (250,500,1000,2000), --seconds N (20), --part-bytes N (8000), --hostile N (2000),
                     --probe-seconds N (30), --load-threads N (2), --quick, --out-dir, --tag, --json);
                     streams: K paced 720p ladders in one abrcast process against K ffmpeg processes, K doubled
                     then bisected: the largest K each keeps in real time, CPU and RSS per stream (bench/streams.ts:
                     --quick, --max-streams N, --seconds N, --size, --ladder, --preset, --fps, --segment, --only);
                     abr: a live LL run (fMP4, 3 rungs) watched by hls.js and Shaka (LL-HLS) and dash.js (LL-DASH) in
                     Chromium throttled high -> low -> high: rung over time, switches, stalls, latency (bench/abr.ts:
                     --phase S (30), --high KBPS (8000), --low KBPS (1500), --players, --quick, --out-dir, --tag, --json)

--case pipelines (the default):
  --quick            small CI smoke run: 640x360, ladder 360,180, 60 frames, 1 s segments, 2 rounds
  --size WxH         source size (default 1920x1080)
  --frames N         frames per run (default 240)
  --fps N            frame rate (default 30)
  --segment S        segment seconds; GOP = fps x segment (default 2)
  --preset P         x264 preset (default veryfast)
  --rounds N         rounds of A B C D (default 3)
  --encoder E        x264 (default) or nvenc (needs an NVIDIA GPU)
  --only a,b         pipelines: ${PIPELINE_IDS.join(', ')} (default all but
                     abrcast-thumbnails: --only abrcast,abrcast-thumbnails measures what thumbnails cost)
  --ladder L         "default" (source, 720p, 360p below it) or heights, e.g. 1080,720,360
  --scale A          scaler of the ffmpeg pipelines (default lanczos, as the original)
  --abrcast-scale A  abrcast's scaleAlgorithm (default: abrcast's own default)
  --skip-quality     no PSNR-Y/SSIM (by default measured once per pipeline against
                     ffmpeg's lanczos+accurate_rnd+full_chroma_int scaling of the source, untimed)
  --ring N           distinct precomputed frames, cycled (default 60)

--case publish and --case endpoint (real server, registry and store on 127.0.0.1):
  --setups a,b       ${SETUP_IDS.join(', ')} (default all; --quick: embedded);
                     embedded = HeliaStore + PGlite, kubo = Kubo + PGlite, kubo-postgres = Kubo + PostgreSQL;
                     a setup that cannot start here (no Kubo: bash scripts/install-kubo.sh) is skipped
  --size, --fps, --segment, --preset, --ladder as above, defaults 640x360, 30, 1, ultrafast, 360,180
  --seconds N        publish: seconds of frames fed at wall-clock pace (default 20, --quick 4);
                     endpoint: seconds of load per route (default 10, --quick 2)
  --poll-ms N        publish: how often the served playlists are fetched (default 20)
  --connections N    endpoint: autocannon connections (default 10, --quick 2)
  --run-seconds N    endpoint: length of the finished run that is served (default 10, --quick 3)

--case soak: a 24/7 channel fed synthetic segments and LL-HLS parts (the encoder idle) as fast as the
  publisher, registry and store take them (defaults 320x180, 30 fps, 1 s segments, ladder 180p 400k,
  120p 250k, 90p 150k at half those rates; setup embedded; --setups kubo-postgres for Kubo + PostgreSQL):
  --minutes N        simulated minutes of the channel (default 1440 = 86,400 segments; --quick 10)
  --window S         the channel's sliding window (default 3600; --quick 60)
  --archive S        seconds per archive playlist (default 3600; --quick 60)
  --part-frames N    LL-HLS part length in frames (default fps/3: 1/3 s)
  --route-samples N  GETs of /runs/:id and of a media playlist per checkpoint (default 200, --quick 50)
  --probe-segments N segments fed at wall-clock pace before each checkpoint; publish latency is
                     measured on them once the flat-out backlog has drained (default 10, --quick 5)

Every case:
  --out-dir DIR      where results go (default bench/results)
  --tag T            suffix for the result file names, e.g. ultrafast
                     (publish and endpoint results are named <date>-<host>-<case>[-quick][-T].json)
  --json             print the JSON report to stdout (the table goes to stderr);
                     through npm use \`npm run -s bench -- --json\` so npm's banner stays out of stdout
  --help             this text`;

const DEFAULT_OUT_DIR = resolve(fileURLToPath(new URL('.', import.meta.url)), 'results');

/** A flag's integer in [min, max], or the bench's one error naming the flag. */
export function integer(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!isInteger(value) || value < min || value > max) {
    throw invalidParameterError(name, `integer between ${min} and ${max}`, Number.isNaN(value) ? text : value);
  }
  return value;
}

function positiveNumber(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw invalidParameterError(name, 'number greater than 0', Number.isNaN(value) ? text : value);
  return value;
}

function size(text: string): { width: number; height: number } {
  const match = /^(\d+)x(\d+)$/.exec(text);
  if (!match) throw invalidParameterError('--size', 'string WxH, e.g. 1920x1080', text);
  return { width: Number(match[1]), height: Number(match[2]) };
}

function oneOf<T extends string>(name: string, text: string, allowed: readonly T[]): T {
  if (!allowed.includes(text as T)) throw invalidParameterError(name, `one of ${allowed.join(', ')}`, text);
  return text as T;
}

function pipelineList(text: string): PipelineId[] {
  const ids = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (ids.length === 0) throw invalidParameterError('--only', `comma-separated list of ${PIPELINE_IDS.join(', ')}`, text);
  const chosen = new Set(ids.map((id) => oneOf('--only', id, PIPELINE_IDS)));
  return PIPELINE_IDS.filter((id) => chosen.has(id)); // always the A B C D order
}

function setupList(text: string): SetupId[] {
  const ids = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (ids.length === 0) throw invalidParameterError('--setups', `comma-separated list of ${SETUP_IDS.join(', ')}`, text);
  const chosen = new Set(ids.map((id) => oneOf('--setups', id, SETUP_IDS)));
  return SETUP_IDS.filter((id) => chosen.has(id));
}

// Flags that only one kind of case reads: passing one to another case is a mistake, not a no-op.
const PIPELINE_ONLY = ['frames', 'rounds', 'encoder', 'only', 'scale', 'abrcast-scale', 'skip-quality', 'ring'] as const;
const CASE_ONLY: Record<Exclude<BenchCase, 'pipelines'>, readonly string[]> = {
  publish: ['setups', 'seconds', 'poll-ms'],
  endpoint: ['setups', 'seconds', 'connections', 'run-seconds'],
  soak: ['setups', 'minutes', 'route-samples', 'probe-segments', 'window', 'archive', 'part-frames'],
};
const SERVICE_ONLY = ['setups', 'seconds', 'poll-ms', 'connections', 'run-seconds', 'minutes', 'route-samples', 'probe-segments', 'window', 'archive', 'part-frames'] as const;

/** The soak's small ladder: three renditions of a 320x180 source at modest rates, so hours of it fit on disk. */
const SOAK_LADDER = [
  { name: '180p', height: 180, bitrate: 400 },
  { name: '120p', height: 120, bitrate: 250 },
  { name: '90p', height: 90, bitrate: 150 },
];

export type ParsedCommandLine = { help: true } | { help: false; config: AnyBenchConfig };

export function parseBenchOptions(argv: string[]): ParsedCommandLine {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      quick: { type: 'boolean' },
      size: { type: 'string' },
      frames: { type: 'string' },
      fps: { type: 'string' },
      segment: { type: 'string' },
      preset: { type: 'string' },
      rounds: { type: 'string' },
      encoder: { type: 'string' },
      only: { type: 'string' },
      ladder: { type: 'string' },
      scale: { type: 'string' },
      'abrcast-scale': { type: 'string' },
      'skip-quality': { type: 'boolean' },
      ring: { type: 'string' },
      'out-dir': { type: 'string' },
      tag: { type: 'string' },
      json: { type: 'boolean' },
      case: { type: 'string' },
      setups: { type: 'string' },
      seconds: { type: 'string' },
      'poll-ms': { type: 'string' },
      connections: { type: 'string' },
      'run-seconds': { type: 'string' },
      minutes: { type: 'string' },
      'route-samples': { type: 'string' },
      'probe-segments': { type: 'string' },
      window: { type: 'string' },
      archive: { type: 'string' },
      'part-frames': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return { help: true };

  const benchCase = oneOf('--case', values.case ?? 'pipelines', BENCH_CASES);
  const given = (names: readonly string[]) => names.filter((name) => values[name as keyof typeof values] !== undefined);
  const misplaced = benchCase === 'pipelines'
    ? given(SERVICE_ONLY)
    : [...given(PIPELINE_ONLY), ...given(SERVICE_ONLY).filter((name) => !CASE_ONLY[benchCase].includes(name))];
  if (misplaced.length > 0) {
    throw new Error(`--${misplaced[0]} does not apply to --case ${benchCase} (see --help for the options of each case)`);
  }

  const quick = values.quick ?? false;
  const service = benchCase !== 'pipelines';
  const soak = benchCase === 'soak';
  const { width, height } = size(values.size ?? (soak ? '320x180' : quick || service ? '640x360' : '1920x1080'));
  const fps = positiveNumber('--fps', values.fps ?? '30');
  const segmentSeconds = positiveNumber('--segment', values.segment ?? (quick || service ? '1' : '2'));
  const frames = integer('--frames', values.frames ?? (quick ? '60' : '240'), 1, 100_000);
  const rounds = integer('--rounds', values.rounds ?? (quick ? '2' : '3'), 1, 100);
  const ringFrames = integer('--ring', values.ring ?? (quick ? '30' : '60'), 1, 1000);
  const encoder = oneOf<BenchEncoder>('--encoder', values.encoder ?? 'x264', ['x264', 'nvenc']);
  const preset = oneOf('--preset', values.preset ?? (service ? 'ultrafast' : 'veryfast'), X264_PRESETS);
  const scaleAlgorithm = oneOf<ScaleAlgorithm>('--scale', values.scale ?? 'lanczos', SCALE_ALGORITHMS);
  const abrcastScale = values['abrcast-scale'] === undefined ? undefined : oneOf<ScaleAlgorithm>('--abrcast-scale', values['abrcast-scale'], SCALE_ALGORITHMS);
  const pipelines = values.only === undefined ? [...DEFAULT_PIPELINE_IDS] : pipelineList(values.only);

  const ladderText = values.ladder ?? (quick || service ? '360,180' : 'default');
  let renditions;
  if (soak && values.ladder === undefined) {
    renditions = ladderFromHeights(width, height, SOAK_LADDER.map((r) => r.height))
      .map((rendition, i) => ({ ...rendition, bitrate: SOAK_LADDER[i]!.bitrate }));
  } else if (ladderText === 'default') {
    renditions = defaultLadder(width, height);
  } else {
    if (!/^\d+(,\d+)*$/.test(ladderText)) throw invalidParameterError('--ladder', 'default or heights like 1080,720,360', ladderText);
    renditions = ladderFromHeights(width, height, ladderText.split(',').map(Number));
  }
  const tag = values.tag;
  if (tag !== undefined && !/^[A-Za-z0-9._-]{1,40}$/.test(tag)) {
    throw invalidParameterError('--tag', 'string of 1 to 40 characters [A-Za-z0-9._-]', tag);
  }

  // The encoder's own checks (even sizes, fps, a whole number of frames per segment), with our flags' names.
  let normalized;
  try {
    normalized = normalizeEncoderOptions({ width, height, fps, segmentDuration: segmentSeconds, renditions, x264Preset: preset, scaleAlgorithm: abrcastScale });
  } catch (error) {
    const flag: Record<string, string> = { width: '--size width', height: '--size height', fps: '--fps', segmentDuration: '--segment' };
    (error as Error).message = (error as Error).message.replace(/ for (width|height|fps|segmentDuration) /, (_, name: string) => ` for ${flag[name]} `);
    throw error;
  }
  const outDir = resolve(values['out-dir'] ?? DEFAULT_OUT_DIR);
  const json = values.json ?? false;

  if (service) {
    const shared = {
      width, height, fps, segmentSeconds, framesPerSegment: normalized.framesPerSegment, preset,
      renditions: normalized.renditions,
      setups: values.setups === undefined
        ? (quick || soak ? ['embedded' as const] : [...SETUP_IDS])
        : setupList(values.setups),
      quick, json, outDir, ...(tag ? { tag } : {}),
    };
    if (benchCase === 'soak') {
      return {
        help: false,
        config: {
          case: 'soak', ...shared,
          minutes: integer('--minutes', values.minutes ?? (quick ? '10' : String(24 * 60)), 1, 7 * 24 * 60),
          windowSeconds: positiveNumber('--window', values.window ?? (quick ? '60' : '3600')),
          archiveSeconds: positiveNumber('--archive', values.archive ?? (quick ? '60' : '3600')),
          partFrames: integer('--part-frames', values['part-frames'] ?? String(Math.max(1, Math.round(fps / 3))), 1, 1000),
          routeSamples: integer('--route-samples', values['route-samples'] ?? (quick ? '50' : '200'), 1, 10_000),
          probeSegments: integer('--probe-segments', values['probe-segments'] ?? (quick ? '5' : '20'), 2, 600),
        },
      };
    }
    if (benchCase === 'publish') {
      return {
        help: false,
        config: {
          case: 'publish', ...shared,
          seconds: integer('--seconds', values.seconds ?? (quick ? '4' : '20'), 1, 3600),
          pollMs: integer('--poll-ms', values['poll-ms'] ?? '20', 1, 10_000),
        },
      };
    }
    return {
      help: false,
      config: {
        case: 'endpoint', ...shared,
        runSeconds: integer('--run-seconds', values['run-seconds'] ?? (quick ? '3' : '10'), 1, 3600),
        connections: integer('--connections', values.connections ?? (quick ? '2' : '10'), 1, 1000),
        seconds: integer('--seconds', values.seconds ?? (quick ? '2' : '10'), 1, 600),
      },
    };
  }

  const { num, den } = frameRateRational(fps);
  return {
    help: false,
    config: {
      case: 'pipelines',
      width, height, fps, frameRate: `${num}/${den}`, segmentSeconds,
      framesPerSegment: normalized.framesPerSegment,
      frames, rounds, encoder, preset, scaleAlgorithm, abrcastScaleAlgorithm: normalized.scaleAlgorithm,
      quality: !(values['skip-quality'] ?? false), ringFrames: Math.min(ringFrames, frames),
      renditions: normalized.renditions, pipelines, quick, json, outDir,
      ...(tag ? { tag } : {}),
    },
  };
}
