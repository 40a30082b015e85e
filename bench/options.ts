// `npm run bench -- [options]`: parses and validates the command line into a BenchConfig.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { frameRateRational, normalizeEncoderOptions, SCALE_ALGORITHMS, X264_PRESETS } from '../src/encoder/options.js';
import { invalidParameterError, isInteger } from '../src/errors.js';
import { defaultLadder, ladderFromHeights, type ScaleAlgorithm } from '../src/index.js';
import { PIPELINE_IDS, type BenchConfig, type BenchEncoder, type PipelineId } from './config.js';

export const USAGE = `Usage: npm run bench -- [options]
  --quick            small CI smoke run: 640x360, ladder 360,180, 60 frames, 1 s segments, 2 rounds
  --size WxH         source size (default 1920x1080)
  --frames N         frames per run (default 240)
  --fps N            frame rate (default 30)
  --segment S        segment seconds; GOP = fps x segment (default 2)
  --preset P         x264 preset (default veryfast)
  --rounds N         rounds of A B C D (default 3)
  --encoder E        x264 (default) or nvenc (needs an NVIDIA GPU)
  --only a,b         pipelines: ${PIPELINE_IDS.join(', ')} (default all)
  --ladder L         "default" (source, 720p, 360p below it) or heights, e.g. 1080,720,360
  --scale A          scaler of every pipeline (default lanczos, as the original)
  --ring N           distinct precomputed frames, cycled (default 60)
  --out-dir DIR      where results go (default bench/results)
  --tag T            suffix for the result file names, e.g. ultrafast
  --json             print the JSON report to stdout (the table goes to stderr);
                     through npm use \`npm run -s bench -- --json\` so npm's banner stays out of stdout
  --help             this text`;

const DEFAULT_OUT_DIR = resolve(fileURLToPath(new URL('.', import.meta.url)), 'results');

function integer(name: string, text: string, min: number, max: number): number {
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

export type ParsedCommandLine = { help: true } | { help: false; config: BenchConfig };

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
      ring: { type: 'string' },
      'out-dir': { type: 'string' },
      tag: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return { help: true };

  const quick = values.quick ?? false;
  const { width, height } = size(values.size ?? (quick ? '640x360' : '1920x1080'));
  const fps = positiveNumber('--fps', values.fps ?? '30');
  const segmentSeconds = positiveNumber('--segment', values.segment ?? (quick ? '1' : '2'));
  const frames = integer('--frames', values.frames ?? (quick ? '60' : '240'), 1, 100_000);
  const rounds = integer('--rounds', values.rounds ?? (quick ? '2' : '3'), 1, 100);
  const ringFrames = integer('--ring', values.ring ?? (quick ? '30' : '60'), 1, 1000);
  const encoder = oneOf<BenchEncoder>('--encoder', values.encoder ?? 'x264', ['x264', 'nvenc']);
  const preset = oneOf('--preset', values.preset ?? 'veryfast', X264_PRESETS);
  const scaleAlgorithm = oneOf<ScaleAlgorithm>('--scale', values.scale ?? 'lanczos', SCALE_ALGORITHMS);
  const pipelines = values.only === undefined ? [...PIPELINE_IDS] : pipelineList(values.only);

  const ladderText = values.ladder ?? (quick ? '360,180' : 'default');
  let renditions;
  if (ladderText === 'default') {
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
    normalized = normalizeEncoderOptions({ width, height, fps, segmentDuration: segmentSeconds, renditions, x264Preset: preset, scaleAlgorithm });
  } catch (error) {
    const flag: Record<string, string> = { width: '--size width', height: '--size height', fps: '--fps', segmentDuration: '--segment' };
    (error as Error).message = (error as Error).message.replace(/ for (width|height|fps|segmentDuration) /, (_, name: string) => ` for ${flag[name]} `);
    throw error;
  }
  const { num, den } = frameRateRational(fps);

  return {
    help: false,
    config: {
      width, height, fps, frameRate: `${num}/${den}`, segmentSeconds,
      framesPerSegment: normalized.framesPerSegment,
      frames, rounds, encoder, preset, scaleAlgorithm, ringFrames: Math.min(ringFrames, frames),
      renditions: normalized.renditions, pipelines, quick, json: values.json ?? false,
      outDir: resolve(values['out-dir'] ?? DEFAULT_OUT_DIR),
      ...(tag ? { tag } : {}),
    },
  };
}
