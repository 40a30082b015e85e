// What a publisher hands a run's recorder: the registry stores exactly these,
// so both sides share one definition.
import type { RunTracks } from './run-tracks.js';

export interface NewRun {
  /** Generated ('r' + 12 base32 characters) when absent; otherwise must match RUN_ID_PATTERN. */
  id?: string;
  width: number;
  height: number;
  fps: number;
  segmentDuration: number;
  /** Wall-clock time of the run's first frame: the origin of EXT-X-PROGRAM-DATE-TIME. */
  startedAt?: Date;
  /** The segment and playlist URL templates the publisher uses; omitted when it was given a function. */
  segmentUrl?: string;
  playlistUrl?: string;
}

export interface SegmentInput {
  rendition: string;
  index: number;
  cid: string;
  duration: number;
  bytes: number;
}

/** One partial segment (LL-HLS): part `partIndex` of segment `segmentIndex`. */
export interface PartInput {
  rendition: string;
  segmentIndex: number;
  partIndex: number;
  cid: string;
  /** Seconds. */
  duration: number;
  /** Starts with an IDR frame (INDEPENDENT=YES). */
  independent: boolean;
  bytes: number;
}

/** A segment a failed run could not upload. */
export interface MissingSegment {
  rendition: string;
  index: number;
}

export interface PublishOptions {
  /** Subtitle, I-frame and image playlists of this publish; absent: left as stored. */
  tracks?: RunTracks;
  /**
   * Ordering of this publish (e.g. the number of segments it covers). The
   * stored playlists change only when `sequence` is greater than the stored
   * one, so a slow, older publish cannot replace a newer one. Without it the
   * stored sequence is incremented and the publish always applies.
   */
  sequence?: number;
}
