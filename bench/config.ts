// The settings of one bench invocation: the encode pipelines (the default case),
// or one of the service cases (publish latency, quality endpoint under load).
import type { Rendition, ScaleAlgorithm } from '../src/index.js';

export const BENCH_CASES = ['pipelines', 'publish', 'endpoint', 'soak'] as const;
export type BenchCase = (typeof BENCH_CASES)[number];

/** Store + registry behind the server: embedded (HeliaStore + PGlite), Kubo + PGlite, Kubo + PostgreSQL. */
export const SETUP_IDS = ['embedded', 'kubo', 'kubo-postgres'] as const;
export type SetupId = (typeof SETUP_IDS)[number];

export const PIPELINE_IDS = ['abrcast', 'abrcast-low-latency', 'abrcast-thumbnails', 'original', 'one-ffmpeg', 'floor'] as const;
export type PipelineId = (typeof PIPELINE_IDS)[number];
/** What runs without --only: abrcast-thumbnails is asked for by name (--only abrcast,abrcast-thumbnails: what thumbnails cost). */
export const DEFAULT_PIPELINE_IDS: readonly PipelineId[] = PIPELINE_IDS.filter((id) => id !== 'abrcast-thumbnails');
export type BenchEncoder = 'x264' | 'nvenc';

export interface BenchConfig {
  case: 'pipelines';
  width: number;
  height: number;
  fps: number;
  /** fps as ffmpeg reads it, e.g. "30/1" or "30000/1001". */
  frameRate: string;
  segmentSeconds: number;
  /** GOP: fps x segment, the same in every pipeline. */
  framesPerSegment: number;
  frames: number;
  rounds: number;
  encoder: BenchEncoder;
  /** x264 preset (ignored by NVENC, which runs p4/hq as the Python original did). */
  preset: string;
  /** Scaler of the ffmpeg pipelines (the original used lanczos). */
  scaleAlgorithm: ScaleAlgorithm;
  /** abrcast's scaleAlgorithm: its own default unless --abrcast-scale names one. */
  abrcastScaleAlgorithm: ScaleAlgorithm;
  /** Whether PSNR-Y/SSIM of every rendition is measured (once per pipeline, untimed). */
  quality: boolean;
  /** Distinct precomputed frames; the stream cycles through them. */
  ringFrames: number;
  renditions: Rendition[];
  pipelines: PipelineId[];
  quick: boolean;
  json: boolean;
  outDir: string;
  /** Appended to the result file names, so runs of one day do not overwrite each other. */
  tag?: string;
}

/** What both service cases share: the stream they publish, and the setups they run on. */
interface ServiceBenchConfig {
  width: number;
  height: number;
  fps: number;
  segmentSeconds: number;
  framesPerSegment: number;
  preset: string;
  renditions: Rendition[];
  /** In this order; one that cannot start here (no Kubo, no PostgreSQL) is skipped with its reason. */
  setups: SetupId[];
  quick: boolean;
  json: boolean;
  outDir: string;
  tag?: string;
}

export interface PublishBenchConfig extends ServiceBenchConfig {
  case: 'publish';
  /** Seconds of frames fed at wall-clock pace per setup. */
  seconds: number;
  /** How often the served media playlists are fetched. */
  pollMs: number;
}

export interface EndpointBenchConfig extends ServiceBenchConfig {
  case: 'endpoint';
  /** Seconds of stream in the finished run that is served. */
  runSeconds: number;
  /** autocannon: connections and seconds per route. */
  connections: number;
  seconds: number;
}

export interface SoakBenchConfig extends ServiceBenchConfig {
  case: 'soak';
  /** Simulated minutes of a channel, fed synthetic segments as fast as the publisher takes them. */
  minutes: number;
  /** The channel's sliding window (--window) and archive chunk length, seconds. */
  windowSeconds: number;
  archiveSeconds: number;
  /** LL-HLS part length in frames at fps (--part-frames). */
  partFrames: number;
  /** GETs of each measured route at each checkpoint. */
  routeSamples: number;
  /** Segments fed at wall-clock pace before each checkpoint, over which publish latency is measured. */
  probeSegments: number;
}

export type ServiceCaseConfig = PublishBenchConfig | EndpointBenchConfig | SoakBenchConfig;
export type AnyBenchConfig = BenchConfig | ServiceCaseConfig;
