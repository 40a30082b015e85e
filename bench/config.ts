// The settings of one bench invocation, shared by every pipeline of it.
import type { Rendition, ScaleAlgorithm } from '../src/index.js';

export const PIPELINE_IDS = ['abrcast', 'original', 'one-ffmpeg', 'floor'] as const;
export type PipelineId = (typeof PIPELINE_IDS)[number];
export type BenchEncoder = 'x264' | 'nvenc';

export interface BenchConfig {
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
  scaleAlgorithm: ScaleAlgorithm;
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
