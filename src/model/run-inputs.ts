// What a publisher hands a run's recorder: the registry stores exactly these,
// so both sides share one definition.
import type { ResourceKey } from '../hls/types.js';
import type { RunTracks } from './run-tracks.js';

/** How a run's media is encrypted: AES-128 of each whole resource (RFC 8216bis 4.4.4.4). */
export type RunEncryption = 'aes-128';

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
  /** Live media playlists slide over this many seconds (the registry records it for readers). */
  windowSeconds?: number;
  /**
   * Starts the run on this channel, after the channel's newest run: its segments are
   * numbered after that run's contiguous prefix and follow a discontinuity.
   */
  channel?: string;
  /**
   * With channel: the run the caller expects to be the channel's newest (null: none). When
   * another run started on the channel meanwhile, createRun rejects with ChannelChangedError.
   */
  follows?: string | null;
  /** Set for a private run: its segments, parts and init segments are encrypted, its keys kept in the registry. */
  encryption?: RunEncryption;
  /** Segments per content key (a new key every this many segments); absent: one key for the run. */
  keyRotation?: number;
  /** The key URI template the playlists use (`{run}` and `{key}` filled in). */
  keyUrl?: string;
}

export interface SegmentInput {
  rendition: string;
  index: number;
  cid: string;
  duration: number;
  bytes: number;
  /** Its key and IV, in an encrypted run. */
  key?: ResourceKey;
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
  /** Its key and IV (its segment's), in an encrypted run. */
  key?: ResourceKey;
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

/** One archive chunk of a windowed run: immutable VOD playlists of its segments firstMsn.. (see ArchivedChunk). */
export interface ArchiveInput {
  firstMsn: number;
  segmentCount: number;
  /** Seconds of media. */
  duration: number;
  /** Wall-clock time of its first segment. */
  startedAt: Date;
  masterCid: string;
  media: Record<string, { cid: string; segmentCount: number }>;
}
