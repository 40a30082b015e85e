// What every pipeline implements: optional untimed preparation, then one timed run.
import type { BenchConfig, PipelineId } from '../config.js';
import type { FrameRing } from '../frames.js';

export interface PipelineContext {
  config: BenchConfig;
  ring: FrameRing;
  /** A fresh, empty directory for this run's segments. */
  outputDir: string;
  /** A directory that lives for the whole bench, for prepared inputs. */
  workDir: string;
}

/** What a pipeline reports itself; run-pipeline.ts adds the clock, CPU and memory. */
export interface PipelineOutcome {
  /** CPU seconds of child processes (zero for in-process pipelines). */
  childCpuSeconds: number;
  /** Segments the pipeline announced (events) or wrote (files). */
  segments: number;
  /** abrcast's pipelines: write() of the frame that closes a segment to its 'segment' event, ms. */
  segmentLatenciesMs?: number[];
}

export interface Pipeline {
  id: PipelineId;
  label: string;
  /** One line for the report: how it runs. */
  description: string;
  /** Untimed work before the rounds start (e.g. converting frames to YUV files). */
  prepare?(context: Omit<PipelineContext, 'outputDir'>): Promise<void>;
  run(context: PipelineContext): Promise<PipelineOutcome>;
}
