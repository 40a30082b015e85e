// Pipeline A: abrcast's LadderEncoder in this process: one copy of each frame,
// one filter graph, every rendition.
import { LadderEncoder, type LatencyProfile } from '../../src/index.js';
import { countSegmentFiles } from '../segment-files.js';
import type { Pipeline, PipelineContext, PipelineOutcome } from './types.js';

async function run({ config, ring, outputDir }: PipelineContext, latency: LatencyProfile, thumbnails = false): Promise<PipelineOutcome> {
  const encoder = new LadderEncoder({
    width: config.width,
    height: config.height,
    fps: config.fps,
    pixelFormat: 'rgb24',
    segmentDuration: config.segmentSeconds,
    renditions: config.renditions,
    encoder: config.encoder,
    x264Preset: config.preset,
    scaleAlgorithm: config.abrcastScaleAlgorithm,
    latency,
    // Segments go to disk, as the ffmpeg pipelines' do, so every pipeline pays for the same writes.
    outputDir,
    thumbnails,
  });
  // closedAt[k]: when we called write() with the frame that ends segment k (or close() for the last).
  const closedAt: number[] = [];
  const latencies: number[] = [];
  let events = 0;
  let images = 0;
  encoder.on('thumbnail', () => {
    images += 1;
  });
  encoder.on('segment', (segment) => {
    const now = performance.now();
    events += 1;
    const start = closedAt[segment.index];
    if (start !== undefined) latencies.push(now - start);
  });
  const perSegment = config.framesPerSegment;
  for (let i = 0; i < config.frames; i++) {
    if (i > 0 && i % perSegment === 0) closedAt[i / perSegment - 1] = performance.now();
    await encoder.write(ring.frame(i));
  }
  closedAt[Math.floor((config.frames - 1) / perSegment)] = performance.now();
  await encoder.close();
  const files = await countSegmentFiles(outputDir);
  if (files !== events) throw new Error(`abrcast announced ${events} segments but wrote ${files} files`);
  if (thumbnails && images * config.renditions.length !== events) throw new Error(`abrcast made ${images} thumbnails for ${events} segments`);
  return { childCpuSeconds: 0, segments: events, segmentLatenciesMs: latencies };
}

export const abrcastPipeline: Pipeline = {
  id: 'abrcast',
  label: 'abrcast',
  description: 'LadderEncoder in-process: rgb24 in, to YUV once (SIMD), scaled per rendition in parallel, one encoder thread per rendition',
  run: (context) => run(context, 'normal'),
};

export const abrcastLowLatencyPipeline: Pipeline = {
  id: 'abrcast-low-latency',
  label: 'abrcast, latency low',
  description: "the same with latency: 'low' (x264 tune=zerolatency: no lookahead or B-frames, sliced threads)",
  run: (context) => run(context, 'low'),
};

export const abrcastThumbnailsPipeline: Pipeline = {
  id: 'abrcast-thumbnails',
  label: 'abrcast, thumbnails',
  description: "the same with thumbnails: true (a 320-wide JPEG of each segment's first frame, from the smallest rendition); I-frame byte ranges are indexed in both",
  run: (context) => run(context, 'normal', true),
};
