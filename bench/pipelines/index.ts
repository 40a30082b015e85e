// The pipelines in A B C D order.
import type { PipelineId } from '../config.js';
import { abrcastLowLatencyPipeline, abrcastPipeline, abrcastThumbnailsPipeline } from './abrcast.js';
import { floorPipeline } from './floor.js';
import { oneFfmpegPipeline } from './one-ffmpeg.js';
import { originalShapePipeline } from './original-shape.js';
import type { Pipeline } from './types.js';

export const PIPELINES: Record<PipelineId, Pipeline> = {
  abrcast: abrcastPipeline,
  'abrcast-low-latency': abrcastLowLatencyPipeline,
  'abrcast-thumbnails': abrcastThumbnailsPipeline,
  original: originalShapePipeline,
  'one-ffmpeg': oneFfmpegPipeline,
  floor: floorPipeline,
};

export type { Pipeline, PipelineContext, PipelineOutcome } from './types.js';
