export type { MasterPlaylist, MediaPlaylist, MediaSegment, ResourceKey, Resolution, SegmentKey, VariantStream } from './types.js';
export {
  EXTINF_DECIMALS,
  formatExtinfDuration,
  mediaPlaylistVersion,
  serializeMediaPlaylist,
  targetDurationFor,
  totalDuration,
} from './media-playlist.js';
export { MASTER_PLAYLIST_VERSION, serializeMasterPlaylist } from './master-playlist.js';
export {
  averageBandwidth,
  bandwidthUpperBound,
  MAXRATE_FACTOR,
  maxrateBandwidth,
  peakBandwidth,
  variantBandwidth,
} from './bandwidth.js';
export type { BandwidthBoundInput, SegmentSize, VariantBandwidthOptions } from './bandwidth.js';
export { programDateTimes } from './program-date-time.js';
export type { TimedSegment } from './program-date-time.js';
export { cidUrlResolver, DEFAULT_GATEWAY, DEFAULT_URL_TEMPLATE } from './segment-url.js';
export type { CidUrl, CidUrlOptions } from './segment-url.js';
export { commonListedCount, ContiguousSegments } from './contiguous-segments.js';
export type { UploadedSegment } from './contiguous-segments.js';
export type {
  LowLatencyMediaPlaylist,
  LowLatencyMediaSegment,
  MediaInitialization,
  PartialSegment,
  PreloadHint,
  RenditionReport,
  ServerControl,
} from './low-latency-types.js';
export {
  lowLatencyPlaylistVersion,
  PART_HOLD_BACK_PARTS,
  serializeLowLatencyPlaylist,
  serverControlFor,
  SKIP_BOUNDARY_TARGETS,
  skippableSegments,
} from './low-latency-playlist.js';
export { parseMediaPlaylist } from './parse-media-playlist.js';
