// What the registry hands back: runs, segments and parts as stored.
import type { ArchiveInput, MissingSegment, PartInput, RunEncryption, SegmentInput } from '../model/run-inputs.js';
import type { RunTracks } from '../model/run-tracks.js';
import type { VariantStreamRecords } from '../model/variant-stream-record.js';
import type { ResourceKey } from '../hls/types.js';

export type RunStatus = 'live' | 'ended' | 'failed';

export interface RunRecord {
  id: string;
  createdAt: Date;
  updatedAt: Date;
  status: RunStatus;
  width: number;
  height: number;
  fps: number;
  segmentDuration: number;
  masterCid: string | null;
  /** The newest variant streams, by quality name. */
  qualityPlaylists: VariantStreamRecords;
  /** Sequence of the stored playlists; 0 until the first publish. Only ever grows. */
  playlistSequence: number;
  error: string | null;
  /** Wall-clock time of the run's first frame: the origin of EXT-X-PROGRAM-DATE-TIME. */
  startedAt: Date | null;
  /** URL templates the publisher used (e.g. `/ipfs/{cid}`); null when it was given a function. */
  segmentUrl: string | null;
  playlistUrl: string | null;
  /** Segments a failed run never uploaded; empty otherwise. */
  missing: MissingSegment[];
  /** Per rendition: segments recorded, and how many form the playable prefix 0..k-1. */
  segmentCounts: Record<string, SegmentCount>;
  /** LL-HLS PART-TARGET in seconds (the longest a part may last); null for a run without parts. */
  partTarget: number | null;
  /**
   * Media Sequence Number of the run's segment 0: segment and part indexes in the
   * registry are MSNs (0 for a run outside a channel; a channel's run continues the previous one's).
   */
  msnBase: number;
  /** Discontinuity sequence number of the run's first segment (above 0: it follows the channel's previous run). */
  discontinuitySequence: number;
  /** Live media playlists slide over this many seconds; null: they list the whole run. */
  windowSeconds: number | null;
  /** The channel the run belongs to, or null. */
  channel: string | null;
  /** The run this one continues on its channel. */
  previousRunId: string | null;
  /** The producer's newest heartbeat (the database's clock); null for a run whose producer never sent one. */
  heartbeatAt: Date | null;
  /** 'aes-128' for a private run (encrypted media, keys behind playback tokens); null for a public one. */
  encryption: RunEncryption | null;
  /** Segments per content key; null: one key for the run (or no encryption). */
  keyRotation: number | null;
  /** Key URI template of the run's playlists (`{run}`, `{key}`); null without encryption. */
  keyUrl: string | null;
  /** The newest subtitle, I-frame and image playlists and date ranges (empty without them). */
  tracks: RunTracks;
}

/** One archive chunk of a windowed run, as recorded: immutable VOD playlists on IPFS. */
export interface ArchiveRecord extends ArchiveInput {
  runId: string;
}

/** A channel: a stable name whose newest published run players follow. */
export interface ChannelRecord {
  name: string;
  createdAt: Date;
  /** The newest run started on it (it may not have published yet). */
  newestRunId: string | null;
  /** The run its URLs serve: the newest one that has published playlists. */
  currentRunId: string | null;
}

/** A segment of a channel's previous runs, as a channel's next run lists it before its own. */
export interface ChannelSegment {
  runId: string;
  rendition: string;
  /** Media Sequence Number. */
  msn: number;
  cid: string;
  duration: number;
  bytes: number;
  /** Wall-clock time of its first sample (its run's start plus the durations before it). */
  startedAt: Date;
  /** Its run's first segment after a discontinuity. */
  discontinuity: boolean;
  discontinuitySequence: number;
  /** Its run's segment URL template (null: a function was used). */
  segmentUrl: string | null;
  /** Its run's fMP4 init segment for the rendition. */
  initCid?: string;
  /** A private run's segment: its key number in that run and IV, its init segment's, and the run's key URL template (null: the default). */
  key?: ResourceKey;
  initKey?: ResourceKey;
  keyUrl: string | null;
}

export interface SegmentCount {
  recorded: number;
  contiguous: number;
}

export interface SegmentRecord extends SegmentInput {
  runId: string;
  createdAt: Date;
}

export interface PartRecord extends PartInput {
  runId: string;
}

/** A rendition's fMP4 init segment: its CID, and its key and IV in an encrypted run. */
export interface InitSegmentRecord {
  cid: string;
  key?: ResourceKey;
}

/** The newest part of a rendition: its live edge. */
export interface PartPosition {
  segmentIndex: number;
  partIndex: number;
}

export interface PublishResult {
  /** False when a publish with an equal or greater sequence was already stored. */
  applied: boolean;
  /** The sequence stored after this call. */
  sequence: number;
}

export interface ListRunsOptions {
  /** At most this many runs, newest first (1 to 1000, default 50). */
  limit?: number;
}
