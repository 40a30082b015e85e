// Times one pipeline run: wall clock, CPU of this process plus its children,
// and peak memory of the process tree. Frames already exist, so none of their
// generation is counted.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

import type { PipelineId } from './config.js';
import { ownRssBytes, processCpuSince, totalSeconds, TreeMemorySampler } from './measure.js';
import type { Pipeline, PipelineContext } from './pipelines/index.js';
import type { RenditionQuality } from './quality.js';

export interface RunRecord {
  round: number;
  pipeline: PipelineId;
  wallSeconds: number;
  fps: number;
  /** This process plus children, user + system. */
  cpuSeconds: number;
  cpuMsPerFrame: number;
  /** This process alone: the encoder itself for abrcast, pipe writing for the ffmpeg pipelines. */
  benchCpuSeconds: number;
  childCpuSeconds: number;
  /** Sum of every process's own peak RSS (VmHWM), this one included. */
  peakRssMiB: number;
  /** This process's RSS just before the run (frames, Node, loaded libraries): part of every pipeline's peak. */
  baselineRssMiB: number;
  /** Largest sampled sum of current RSS over the tree. */
  sampledTreeRssMiB: number;
  segments: number;
  segmentLatenciesMs?: number[];
  /** PSNR-Y/SSIM per rendition, measured on this run's segments (round 1 only). */
  quality?: RenditionQuality[];
}

const MiB = 1024 * 1024;

export async function runPipeline(
  pipeline: Pipeline,
  context: Omit<PipelineContext, 'outputDir'>,
  round: number,
  /** Untimed, after the run and before its segments are removed. */
  inspect?: (outputDir: string) => Promise<RenditionQuality[]>,
): Promise<RunRecord> {
  const outputDir = join(context.workDir, `run-${round}-${pipeline.id}`);
  await mkdir(outputDir, { recursive: true });
  const baselineRss = ownRssBytes();
  const memory = new TreeMemorySampler();
  memory.start();
  try {
    const cpuStart = process.cpuUsage();
    const started = performance.now();
    const outcome = await pipeline.run({ ...context, outputDir });
    const wallSeconds = (performance.now() - started) / 1000;
    const benchCpuSeconds = totalSeconds(processCpuSince(cpuStart));
    const tree = memory.stop();
    const cpuSeconds = benchCpuSeconds + outcome.childCpuSeconds;
    const frames = context.config.frames;
    const quality = inspect ? await inspect(outputDir) : undefined;
    return {
      round,
      pipeline: pipeline.id,
      wallSeconds,
      fps: frames / wallSeconds,
      cpuSeconds,
      cpuMsPerFrame: (cpuSeconds * 1000) / frames,
      benchCpuSeconds,
      childCpuSeconds: outcome.childCpuSeconds,
      peakRssMiB: tree.peakRssBytes / MiB,
      baselineRssMiB: baselineRss / MiB,
      sampledTreeRssMiB: tree.sampledTreeRssBytes / MiB,
      segments: outcome.segments,
      ...(outcome.segmentLatenciesMs ? { segmentLatenciesMs: outcome.segmentLatenciesMs } : {}),
      ...(quality ? { quality } : {}),
    };
  } finally {
    memory.stop(); // idempotent; stops the timer when the run failed
    await rm(outputDir, { recursive: true, force: true });
  }
}
