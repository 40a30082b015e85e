// Pipeline C: one ffmpeg reading rgb24 from one pipe, split + scale in one
// filter graph, one HLS output per rendition.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

import { hlsOutput, QUIET, rawInput, scaleFilter, videoEncoder } from '../ffmpeg-args.js';
import { feedPipes, spawnFfmpeg, waitForAll } from '../ffmpeg-process.js';
import { countSegmentFiles } from '../segment-files.js';
import type { Pipeline, PipelineContext, PipelineOutcome } from './types.js';

async function run({ config, ring, outputDir }: PipelineContext): Promise<PipelineOutcome> {
  const { renditions } = config;
  const labels = renditions.map((_, i) => `[s${i}]`).join('');
  const branches = renditions.map((r, i) => `[s${i}]${scaleFilter(r, config)}[v${i}]`);
  const graph = [`[0:v]split=${renditions.length}${labels}`, ...branches].join(';');
  const outputs: string[] = [];
  for (const [i, rendition] of renditions.entries()) {
    const dir = join(outputDir, rendition.name);
    await mkdir(dir, { recursive: true });
    outputs.push('-map', `[v${i}]`, ...videoEncoder(rendition, config), ...hlsOutput(dir, config));
  }
  const args = [...QUIET, ...rawInput('rgb24', config.width, config.height, config), '-filter_complex', graph, ...outputs];
  const child = spawnFfmpeg('one ffmpeg', args, { pipeStdin: true });
  await feedPipes([child.stdin!], ring, config.frames);
  const cpu = await waitForAll([child]);
  return { childCpuSeconds: cpu.user + cpu.system, segments: await countSegmentFiles(outputDir) };
}

export const oneFfmpegPipeline: Pipeline = {
  id: 'one-ffmpeg',
  label: 'one ffmpeg',
  description: 'a single ffmpeg reading rgb24 from one pipe: split, scale per rendition (RGB->YUV+resize), N HLS outputs',
  run,
};
