// What the registry hands back: runs, segments and parts as stored.
import type { MissingSegment, PartInput, RunEncryption, SegmentInput } from '../model/run-inputs.js';
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
  /** 'aes-128' for a private run (encrypted media, keys behind playback tokens); null for a public one. */
  encryption: RunEncryption | null;
  /** Segments per content key; null: one key for the run (or no encryption). */
  keyRotation: number | null;
  /** Key URI template of the run's playlists (`{run}`, `{key}`); null without encryption. */
  keyUrl: string | null;
  /** The newest subtitle, I-frame and image playlists and date ranges (empty without them). */
  tracks: RunTracks;
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
