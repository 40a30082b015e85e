// Validates LadderEncoder options in TS, before anything crosses into C++.
import { invalidParameterError, isInteger, isPositiveFinite } from '../errors.js';
import { defaultLadder, validateLadder } from './ladder.js';
import type {
  AudioOptions, Container, EncoderChoice, FileInputOptions, LadderEncoderOptions, LatencyProfile, PixelFormat, Rendition, ScaleAlgorithm,
} from './types.js';

export const CONTAINERS: readonly Container[] = ['ts', 'fmp4'];
export const PIXEL_FORMATS: readonly PixelFormat[] = ['rgb24', 'rgba', 'bgra'];
export const ENCODER_CHOICES: readonly EncoderChoice[] = ['auto', 'x264', 'nvenc'];
export const X264_PRESETS = ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow', 'placebo'] as const;
export const LATENCY_PROFILES: readonly LatencyProfile[] = ['normal', 'low'];
export const SCALE_ALGORITHMS: readonly ScaleAlgorithm[] = ['fast_bilinear', 'bilinear', 'bicubic', 'lanczos', 'spline', 'area'];
export const NVENC_PRESETS = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'] as const;
export const NVENC_TUNES = ['hq', 'll', 'ull', 'lossless'] as const;

const MAX_DIMENSION = 8192;
/** The most threads a budget or an encoder's share may be (native/src/thread-budget.h's kMaxThreads). */
export const MAX_THREADS = 1024;

export interface NormalizedEncoderOptions {
  width: number;
  height: number;
  fps: number;
  fpsNum: number;
  fpsDen: number;
  pixelFormat: PixelFormat;
  segmentDuration: number;
  framesPerSegment: number;
  container: Container;
  /** Set with partDuration. */
  partDuration?: number;
  framesPerPart?: number;
  renditions: Rendition[];
  encoder: EncoderChoice;
  x264Preset: string;
  nvencPreset: string;
  nvencTune: string;
  scaleAlgorithm: ScaleAlgorithm;
  latency: LatencyProfile;
  maxFramesInFlight: number;
  /** Set with the `threads` option. */
  threads?: number;
  ioTimeout: number;
  outputDir?: string;
  frameBytes: number;
  audio?: NormalizedAudioOptions;
  input?: { file: string; live: boolean };
  cudaFrames: boolean;
  /** Thumbnail width in pixels; 0: no thumbnails. */
  thumbnailWidth: number;
  timedMetadata: boolean;
}

export type NormalizedAudioOptions =
  | { kind: 'file'; source: string; bitrate: number; shortest: boolean }
  | { kind: 'pcm'; sampleRate: number; channels: number; maxQueuedSamples: number; bitrate: number; shortest: boolean };

/** Thumbnail width with `thumbnails: true`: sharp enough on a seek bar, a few kB as JPEG. */
export const DEFAULT_THUMBNAIL_WIDTH = 320;

/** The thumbnail width `thumbnails` asks for (0: none), at most the smallest rendition's width. */
export function normalizeThumbnails(thumbnails: unknown, renditions: readonly Rendition[]): number {
  if (thumbnails === undefined || thumbnails === false) return 0;
  const narrowest = Math.min(...renditions.map((r) => r.width));
  if (thumbnails === true) return Math.min(DEFAULT_THUMBNAIL_WIDTH, narrowest);
  if (typeof thumbnails !== 'object' || thumbnails === null || Array.isArray(thumbnails)) {
    throw invalidParameterError('thumbnails', 'boolean or object with width', thumbnails);
  }
  const width = (thumbnails as { width?: unknown }).width ?? Math.min(DEFAULT_THUMBNAIL_WIDTH, narrowest);
  if (!isInteger(width) || width < 16 || width > narrowest || width % 2 !== 0) {
    throw invalidParameterError('thumbnails.width', `even integer between 16 and ${narrowest} (the smallest rendition's width)`, width);
  }
  return width;
}

/** Seconds of PCM that may wait to be encoded before writeAudio() holds the caller back. */
const PCM_SECONDS_IN_FLIGHT = 0.5;

/** AAC bitrate in kbit/s when `audio.bitrate` is not given. */
export const DEFAULT_AUDIO_BITRATE = 128;

export function normalizeAudioOptions(audio: AudioOptions): NormalizedAudioOptions {
  if (typeof audio !== 'object' || audio === null || Array.isArray(audio)) {
    throw invalidParameterError('audio', 'object with source or pcm', audio);
  }
  const { source, pcm } = audio as { source?: unknown; pcm?: unknown };
  if ((source === undefined) === (pcm === undefined)) {
    throw invalidParameterError('audio', 'object with either source or pcm', audio);
  }
  const bitrate = audio.bitrate ?? DEFAULT_AUDIO_BITRATE;
  if (!isInteger(bitrate) || bitrate < 16 || bitrate > 512) {
    throw invalidParameterError('audio.bitrate', 'integer between 16 and 512 (kbit/s)', bitrate);
  }
  const shortest = audio.shortest ?? true;
  if (typeof shortest !== 'boolean') throw invalidParameterError('audio.shortest', 'boolean', shortest);
  if (source !== undefined) {
    if (typeof source !== 'string' || source.length === 0) {
      throw invalidParameterError('audio.source', 'non-empty string path or URL', source);
    }
    return { kind: 'file', source, bitrate, shortest };
  }
  if (typeof pcm !== 'object' || pcm === null) throw invalidParameterError('audio.pcm', 'object with sampleRate and channels', pcm);
  const { sampleRate, channels } = pcm as { sampleRate?: unknown; channels?: unknown };
  if (!isInteger(sampleRate) || sampleRate < 8000 || sampleRate > 192000) {
    throw invalidParameterError('audio.pcm.sampleRate', 'integer between 8000 and 192000', sampleRate);
  }
  if (!isInteger(channels) || channels < 1 || channels > 8) {
    throw invalidParameterError('audio.pcm.channels', 'integer between 1 and 8', channels);
  }
  const maxQueuedSamples = Math.ceil(sampleRate * PCM_SECONDS_IN_FLIGHT);
  return { kind: 'pcm', sampleRate, channels, maxQueuedSamples, bitrate, shortest };
}

/** Seconds a file or URL may take to open, and a network read to make progress (default 30). */
export function normalizeIoTimeout(ioTimeout: unknown = 30): number {
  if (typeof ioTimeout !== 'number' || !(ioTimeout > 0) || ioTimeout > 86_400) {
    throw invalidParameterError('ioTimeout', 'number of seconds greater than 0 and at most 86400', ioTimeout);
  }
  return ioTimeout;
}

export function normalizeInputOptions(input: FileInputOptions): { file: string; live: boolean } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw invalidParameterError('input', 'object with file', input);
  }
  if (typeof input.file !== 'string' || input.file.length === 0) {
    throw invalidParameterError('input.file', 'non-empty string path or URL', input.file);
  }
  const live = input.live ?? false;
  if (typeof live !== 'boolean') throw invalidParameterError('input.live', 'boolean', live);
  return { file: input.file, live };
}

/** fps as an exact rational: integers, NTSC rates (x/1.001) and two-decimal rates. */
export function frameRateRational(fps: number): { num: number; den: number } {
  for (const den of [1, 1001, 100, 1000]) {
    const num = fps * den;
    if (Math.abs(num - Math.round(num)) < 1e-6 * den) return { num: Math.round(num), den };
  }
  return { num: Math.round(fps * 1000), den: 1000 };
}

/** `seconds` as a whole number of frames (at least one) at fpsNum/fpsDen, or an error naming `name`. */
function wholeFrames(name: string, seconds: number, fpsNum: number, fpsDen: number): number {
  const frames = (seconds * fpsNum) / fpsDen;
  const whole = Math.round(frames);
  if (Math.abs(frames - whole) > 1e-6 || whole < 1) {
    const fps = Number((fpsNum / fpsDen).toFixed(3));
    throw invalidParameterError(name, `a whole number of frames at ${fps} fps (e.g. ${(Math.max(1, whole) * fpsDen) / fpsNum})`, seconds);
  }
  return whole;
}

function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw invalidParameterError(name, `one of ${allowed.join(', ')}`, value);
  }
  return value as T;
}

export function bytesPerPixel(format: PixelFormat): number {
  return format === 'rgb24' ? 3 : 4;
}

export function normalizeEncoderOptions(options: LadderEncoderOptions): NormalizedEncoderOptions {
  if (typeof options !== 'object' || options === null) throw invalidParameterError('options', 'object', options);
  const { width, height, fps } = options;
  for (const [name, value] of [['width', width], ['height', height]] as const) {
    if (!isInteger(value) || value < 16 || value > MAX_DIMENSION || value % 2 !== 0) {
      throw invalidParameterError(name, `even integer between 16 and ${MAX_DIMENSION}`, value);
    }
  }
  if (!isPositiveFinite(fps) || fps > 240) throw invalidParameterError('fps', 'number greater than 0 and at most 240', fps);
  const { num: fpsNum, den: fpsDen } = frameRateRational(fps);

  const segmentDuration = options.segmentDuration ?? 4;
  if (!isPositiveFinite(segmentDuration) || segmentDuration > 60) {
    throw invalidParameterError('segmentDuration', 'number of seconds greater than 0 and at most 60', segmentDuration);
  }
  const framesPerSegment = wholeFrames('segmentDuration', segmentDuration, fpsNum, fpsDen);
  const container = oneOf('container', options.container, CONTAINERS, 'ts');
  const { partDuration } = options;
  if (partDuration !== undefined && (!isPositiveFinite(partDuration) || partDuration > segmentDuration)) {
    throw invalidParameterError('partDuration', `number of seconds greater than 0 and at most segmentDuration (${segmentDuration})`, partDuration);
  }
  const framesPerPart = partDuration === undefined ? undefined : wholeFrames('partDuration', partDuration, fpsNum, fpsDen);

  const pixelFormat = oneOf('pixelFormat', options.pixelFormat, PIXEL_FORMATS, 'rgb24');
  const renditions =
    options.renditions === undefined ? defaultLadder(width, height) : validateLadder(options.renditions, width, height);
  const encoder = oneOf('encoder', options.encoder, ENCODER_CHOICES, 'auto');
  const x264Preset = oneOf('x264Preset', options.x264Preset, X264_PRESETS, 'veryfast');
  const nvencPreset = oneOf('nvencPreset', (options as { nvencPreset?: unknown }).nvencPreset, NVENC_PRESETS, 'p4');
  const nvencTune = oneOf('nvencTune', (options as { nvencTune?: unknown }).nvencTune, NVENC_TUNES, 'hq');
  // lanczos: the one default within 0.1 dB PSNR-Y of the original's lanczos (or better) on every
  // rendition measured (bench, 1080/720/360 at ultrafast and veryfast, 360/180); bicubic lost up to 0.5 dB.
  const scaleAlgorithm = oneOf('scaleAlgorithm', options.scaleAlgorithm, SCALE_ALGORITHMS, 'lanczos');
  const latency = oneOf('latency', options.latency, LATENCY_PROFILES, 'normal');

  const maxFramesInFlight = options.maxFramesInFlight ?? 4;
  if (!isInteger(maxFramesInFlight) || maxFramesInFlight < 1 || maxFramesInFlight > 64) {
    throw invalidParameterError('maxFramesInFlight', 'integer between 1 and 64', maxFramesInFlight);
  }
  const threads = options.threads;
  if (threads !== undefined && (!isInteger(threads) || threads < 1 || threads > MAX_THREADS)) {
    throw invalidParameterError('threads', `integer between 1 and ${MAX_THREADS}`, threads);
  }
  const ioTimeout = normalizeIoTimeout(options.ioTimeout);
  const outputDir = options.outputDir;
  if (outputDir !== undefined && (typeof outputDir !== 'string' || outputDir.length === 0)) {
    throw invalidParameterError('outputDir', 'non-empty string path', outputDir);
  }

  const audio = options.audio === undefined ? undefined : normalizeAudioOptions(options.audio);
  const input = options.input === undefined ? undefined : normalizeInputOptions(options.input);
  if (input && audio?.kind === 'pcm') {
    throw invalidParameterError('audio', 'audio: { source } with file input (writeAudio() needs written frames)', audio);
  }

  const cudaFrames = options.cudaFrames ?? false;
  if (typeof cudaFrames !== 'boolean') throw invalidParameterError('cudaFrames', 'boolean', cudaFrames);
  if (cudaFrames && input) {
    throw new TypeError(`Expected no cudaFrames with input (its frames are decoded from ${input.file}) but received cudaFrames: true`);
  }

  const thumbnailWidth = normalizeThumbnails(options.thumbnails, renditions);
  const timedMetadata = options.timedMetadata ?? false;
  if (typeof timedMetadata !== 'boolean') throw invalidParameterError('timedMetadata', 'boolean', timedMetadata);

  return {
    width, height, fps, fpsNum, fpsDen, pixelFormat, segmentDuration, framesPerSegment, container, renditions, encoder,
    x264Preset, nvencPreset, nvencTune, scaleAlgorithm, latency, maxFramesInFlight, ioTimeout, outputDir, cudaFrames,
    thumbnailWidth, timedMetadata,
    frameBytes: width * height * bytesPerPixel(pixelFormat),
    ...(audio ? { audio } : {}),
    ...(input ? { input } : {}),
    ...(partDuration !== undefined ? { partDuration, framesPerPart } : {}),
    ...(threads !== undefined ? { threads } : {}),
  };
}
