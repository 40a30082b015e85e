// Pipeline D: the floor. libx264 alone on YUV that was converted and scaled
// before timing, one ffmpeg per rendition, all at once. Parallel because every
// other pipeline encodes its renditions concurrently too, so wall-clock fps is
// comparable; CPU is summed over the processes either way. Each process also
// writes HLS segments, the same small muxing cost the other pipelines pay.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

import { hlsOutput, QUIET, rawInput, scaleFilter, videoEncoder } from '../ffmpeg-args.js';
import { feedPipes, spawnFfmpeg, waitForAll } from '../ffmpeg-process.js';
import { countSegmentFiles } from '../segment-files.js';
import type { Pipeline, PipelineContext, PipelineOutcome } from './types.js';

function yuvPath(workDir: string, name: string): string {
  return join(workDir, `floor-${name}.yuv`);
}

/** Untimed: the ring's frames, converted and scaled by ffmpeg as the other pipelines do, one YUV file per rendition. */
async function prepare({ config, ring, workDir }: Omit<PipelineContext, 'outputDir'>): Promise<void> {
  const { renditions } = config;
  const labels = renditions.map((_, i) => `[s${i}]`).join('');
  const branches = renditions.map((r, i) => `[s${i}]${scaleFilter(r, config)}[v${i}]`);
  const graph = [`[0:v]split=${renditions.length}${labels}`, ...branches].join(';');
  const outputs = renditions.flatMap((r, i) => ['-map', `[v${i}]`, '-f', 'rawvideo', yuvPath(workDir, r.name)]);
  const args = [...QUIET, ...rawInput('rgb24', config.width, config.height, config), '-filter_complex', graph, ...outputs];
  const child = spawnFfmpeg('floor, YUV preparation', args, { pipeStdin: true });
  await feedPipes([child.stdin!], ring, ring.frames.length);
  await waitForAll([child]);
}

async function run({ config, outputDir, workDir }: PipelineContext): Promise<PipelineOutcome> {
  const children = [];
  for (const rendition of config.renditions) {
    const dir = join(outputDir, rendition.name);
    await mkdir(dir, { recursive: true });
    // The YUV file holds the ring once; looping it gives the same frame sequence the other pipelines encode.
    const args = [
      ...QUIET,
      '-stream_loop', '-1',
      ...rawInput('yuv420p', rendition.width, rendition.height, config, yuvPath(workDir, rendition.name)),
      '-frames:v', String(config.frames),
      ...videoEncoder(rendition, config),
      ...hlsOutput(dir, config),
    ];
    children.push(spawnFfmpeg(`floor, ${rendition.name}`, args, { pipeStdin: false }));
  }
  const cpu = await waitForAll(children);
  return { childCpuSeconds: cpu.user + cpu.system, segments: await countSegmentFiles(outputDir) };
}

export const floorPipeline: Pipeline = {
  id: 'floor',
  label: 'floor (x264 only)',
  description: 'libx264 encode of pre-converted yuv420p files, one ffmpeg per rendition in parallel (no RGB input, no conversion, no scaling timed)',
  prepare,
  run,
};
