// The options object the native side copies into its plain config struct.
import type { NativeEncoderConfig } from '../native/binding.js';
import type { NormalizedEncoderOptions } from './options.js';
import type { ActiveEncoder } from './types.js';

export function toNativeConfig(options: NormalizedEncoderOptions, encoder: ActiveEncoder): NativeEncoderConfig {
  return {
    width: options.width,
    height: options.height,
    fpsNum: options.fpsNum,
    fpsDen: options.fpsDen,
    pixelFormat: options.pixelFormat,
    framesPerSegment: options.framesPerSegment,
    container: options.container,
    ...(options.framesPerPart !== undefined ? { framesPerPart: options.framesPerPart } : {}),
    encoder,
    x264Preset: options.x264Preset,
    nvencPreset: options.nvencPreset,
    nvencTune: options.nvencTune,
    scaleFlags: options.scaleAlgorithm,
    lowLatency: options.latency === 'low',
    maxFramesInFlight: options.maxFramesInFlight,
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
    ioTimeout: options.ioTimeout,
    outputDir: options.outputDir ?? '',
    renditions: options.renditions.map((r) => ({ ...r })),
    cudaFrames: options.cudaFrames,
    ...(options.thumbnailWidth > 0 ? { thumbnailWidth: options.thumbnailWidth } : {}),
    ...(options.timedMetadata ? { timedMetadata: true } : {}),
    ...(options.audio ? { audio: { ...options.audio } } : {}),
    ...(options.input ? { input: { ...options.input } } : {}),
  };
}
