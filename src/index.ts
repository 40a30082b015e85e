// Public API of abrcast.
export { LadderEncoder } from './encoder/ladder-encoder.js';
export type { LadderEncoderEvents } from './encoder/ladder-encoder.js';
export { fileEncoderOptions, outputFrameRate, probeMediaFile } from './encoder/media-file.js';
export { defaultLadder, estimateBitrate, ladderFromHeights, validateLadder } from './encoder/ladder.js';
export { probeHardware } from './encoder/hardware.js';
export { previewLadderFrame } from './encoder/ladder-preview.js';
export type { ScaledRenditionFrame } from './encoder/ladder-preview.js';
export type { HardwareReport } from './encoder/hardware.js';
export type * from './encoder/types.js';
export { AbrcastError } from './errors.js';
export { MultiResolutionHlsOutput } from './publish/multi-resolution-hls-output.js';
export type { HlsOutputSummary, MultiResolutionHlsOutputEvents, MultiResolutionHlsOutputOptions } from './publish/multi-resolution-hls-output.js';
export type { PublishedVersion, QualityInfo, QualityMap, RunRecorder } from './publish/types.js';
export { UploadIncompleteError, UploadQueue } from './publish/upload-queue.js';
export * from './store/index.js';
export * from './hls/index.js';
export * from './registry/index.js';
