// Pipeline B: the Python original's shape. One ffmpeg per rendition, each
// reading the full-size rgb24 stream from its own stdin and scaling it itself;
// this process writes every frame into every pipe.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

import { hlsOutput, QUIET, rawInput, scaleFilter, videoEncoder } from '../ffmpeg-args.js';
import { feedPipes, spawnFfmpeg, waitForAll } from '../ffmpeg-process.js';
import { countSegmentFiles } from '../segment-files.js';
import type { Pipeline, PipelineContext, PipelineOutcome } from './types.js';

async function run({ config, ring, outputDir }: PipelineContext): Promise<PipelineOutcome> {
  const children = [];
  for (const rendition of config.renditions) {
    const dir = join(outputDir, rendition.name);
    await mkdir(dir, { recursive: true });
    const args = [
      ...QUIET,
      ...rawInput('rgb24', config.width, config.height, config),
      '-vf', scaleFilter(rendition, config),
      ...videoEncoder(rendition, config),
      ...hlsOutput(dir, config),
    ];
    children.push(spawnFfmpeg(`original shape, ${rendition.name}`, args, { pipeStdin: true }));
  }
  await feedPipes(children.map((c) => c.stdin!), ring, config.frames);
  const cpu = await waitForAll(children);
  return { childCpuSeconds: cpu.user + cpu.system, segments: await countSegmentFiles(outputDir) };
}

export const originalShapePipeline: Pipeline = {
  id: 'original',
  label: 'original shape',
  description: 'one ffmpeg per rendition, each reading full-size rgb24 from its own pipe, scaling (RGB->YUV+resize in one swscale) and encoding',
  run,
};
