// Typed models of the Low-Latency HLS additions to a Media Playlist
// (RFC 8216bis 4.4.3.7-4.4.5.3). Field names follow the tags and attributes they
// become; low-latency-playlist.ts owns the text format.
import type { MediaPlaylist, MediaSegment, SegmentKey } from './types.js';

/** EXT-X-SERVER-CONTROL (RFC 8216bis 4.4.3.8): what the server lets a client ask for. */
export interface ServerControl {
  /** CAN-BLOCK-RELOAD=YES: the server honours _HLS_msn/_HLS_part. */
  canBlockReload: boolean;
  /** PART-HOLD-BACK: seconds from the live edge a client starts playing; at least 2 × PART-TARGET (3 × recommended). */
  partHoldBack: number;
  /** CAN-SKIP-UNTIL: the Skip Boundary in seconds for _HLS_skip=YES; at least 6 × target duration. Omitted: no delta updates. */
  canSkipUntil?: number;
}

/** EXT-X-PART (RFC 8216bis 4.4.4.9): one Partial Segment. */
export interface PartialSegment {
  /** DURATION in seconds; at most PART-TARGET. */
  duration: number;
  uri: string;
  /** INDEPENDENT=YES: the part starts with an IDR frame. */
  independent: boolean;
  /** GAP=YES: the part is not available (lost); a client does not load it. */
  gap?: boolean;
}

/** A Media Segment that may also list its Partial Segments (written before its EXTINF). */
export interface LowLatencyMediaSegment extends MediaSegment {
  parts?: readonly PartialSegment[];
}

/** EXT-X-PRELOAD-HINT (RFC 8216bis 4.4.5.3): the resource a client may request before it exists. */
export interface PreloadHint {
  type: 'PART' | 'MAP';
  uri: string;
}

/** EXT-X-RENDITION-REPORT (RFC 8216bis 4.4.5.4): the live edge of another rendition. */
export interface RenditionReport {
  uri: string;
  /** LAST-MSN: Media Sequence Number of that rendition's last (possibly partial) segment. */
  lastMsn: number;
  /** LAST-PART: Part Index of its last Partial Segment. */
  lastPart?: number;
}

/** EXT-X-MAP (RFC 8216 4.3.2.5): the Media Initialization Section of fMP4 segments. */
export interface MediaInitialization {
  uri: string;
  /** How the init segment is encrypted (an EXT-X-KEY written before EXT-X-MAP). */
  key?: SegmentKey;
}

/** A live Media Playlist with Low-Latency HLS tags. */
export interface LowLatencyMediaPlaylist extends Omit<MediaPlaylist, 'segments' | 'mapKey'> {
  serverControl: ServerControl;
  /** EXT-X-PART-INF:PART-TARGET in seconds, fixed for the run. */
  partTarget: number;
  map?: MediaInitialization;
  /** Complete segments, oldest first; the first has Media Sequence Number `mediaSequence`. */
  segments: readonly LowLatencyMediaSegment[];
  /** Parts of the segment being produced (no EXTINF yet); its MSN follows the last segment's. */
  pendingParts: readonly PartialSegment[];
  /** Wall-clock time of the pending segment's first sample, when it needs one (e.g. no complete segment yet). */
  pendingProgramDateTime?: Date;
  /** The pending segment follows a discontinuity (a channel's next run): EXT-X-DISCONTINUITY before its first part. */
  pendingDiscontinuity?: boolean;
  /** How the pending segment's parts are encrypted (its EXT-X-KEY, written before them). */
  pendingKey?: SegmentKey;
  /** The pending segment's init segment when it changes there (a channel's next run, fMP4): EXT-X-MAP before its parts. */
  pendingMap?: MediaInitialization;
  preloadHint?: PreloadHint;
  renditionReports: readonly RenditionReport[];
  /**
   * EXT-X-DATERANGE lines as the run recorded them (runs.tracks.dateRanges), written after the
   * header; a delta update keeps them (no CAN-SKIP-DATERANGES is offered).
   */
  dateRangeLines?: readonly string[];
  /**
   * A Playlist Delta Update (RFC 8216bis 6.2.5.1): this many leading segments are
   * replaced by EXT-X-SKIP:SKIPPED-SEGMENTS. 0 or undefined: the full playlist.
   */
  skippedSegments?: number;
}
