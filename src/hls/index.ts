export type {
  DateRange, DateRangeValue, IframeStream, ImageStream, MasterPlaylist, MediaPlaylist, MediaRendition, MediaSegment, ResourceKey, Resolution, SegmentKey,
  VariantStream,
} from './types.js';
export { checkDateRange, dateRangeLine, mergeDateRange } from './date-range.js';
export { iframePlaylistVersion, serializeIframePlaylist } from './iframe-playlist.js';
export type { IframeEntry, IframePlaylist } from './iframe-playlist.js';
export { IMAGE_PLAYLIST_VERSION, serializeImagePlaylist } from './image-playlist.js';
export type { ImageEntry, ImagePlaylist } from './image-playlist.js';
export { joinWebVtt, serializeWebVtt, webVttCueText, webVttTimestamp } from './webvtt.js';
export type { WebVttCue, WebVttFile } from './webvtt.js';
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
  BandwidthMeter,
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
