// Public API of abrcast.
export { LadderEncoder } from './encoder/ladder-encoder.js';
export type { LadderEncoderEvents } from './encoder/ladder-encoder.js';
export { id3Tag } from './encoder/id3-tag.js';
export type { Id3Frame } from './encoder/id3-tag.js';
export { fileEncoderOptions, outputFrameRate, probeMediaFile } from './encoder/media-file.js';
export { defaultLadder, estimateBitrate, ladderFromHeights, validateLadder } from './encoder/ladder.js';
export { probeHardware } from './encoder/hardware.js';
export { getThreadBudget, setThreadBudget } from './encoder/thread-budget.js';
export { previewLadderFrame } from './encoder/ladder-preview.js';
export type { ScaledRenditionFrame } from './encoder/ladder-preview.js';
export type { HardwareReport } from './encoder/hardware.js';
export type * from './encoder/types.js';
export { AbrcastError } from './errors.js';
export { MultiResolutionHlsOutput } from './publish/multi-resolution-hls-output.js';
export type {
  CaptionInput, CaptionTrackOptions, HlsOutputSummary, MetadataInput, MultiResolutionHlsOutputEvents, MultiResolutionHlsOutputOptions,
} from './publish/multi-resolution-hls-output.js';
export type { PublishedVersion } from './publish/types.js';
export type { MissingSegment, NewRun, PartInput, PublishOptions, SegmentInput } from './model/run-inputs.js';
export type { RunRecorder } from './model/run-recorder.js';
export type { IframeTrackRecord, ImageTrackRecord, RunTracks, SubtitleTrackRecord } from './model/run-tracks.js';
export { orderVariants, type VariantStreamRecord, type VariantStreamRecords } from './model/variant-stream-record.js';
export { UploadQueue } from './publish/upload-queue.js';
export { UploadIncompleteError } from './publish/upload-incomplete-error.js';
export type { ByteSource } from './publish/upload-queue.js';
export { finalizeRun } from './publish/finalize-run.js';
export { resumeRun } from './publish/resume-run.js';
export { defaultJournalDir, JournalFullError, SegmentJournal } from './journal/segment-journal.js';
export type { JournalRun, JournalSegment } from './journal/segment-journal.js';
export * from './store/index.js';
export * from './hls/index.js';
export * from './registry/index.js';
export { startServer } from './server/start-server.js';
export { checkPlaybackToken, scopeAllows, signPlaybackToken } from './crypto/playback-token.js';
export type { PlaybackScope, PlaybackTokenOptions, TokenCheck, TokenRefusal } from './crypto/playback-token.js';
export { serverSecrets, secretsFromEnvironment, KEY_SECRET_ENV, PREVIOUS_KEY_SECRET_ENV } from './crypto/server-secret.js';
export type { SecretInput, ServerSecrets } from './crypto/server-secret.js';
export type { RunningServer, ServerOptions } from './server/index.js';
