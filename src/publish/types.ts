// Shapes the publisher shares with its callers. The registry satisfies
// RunRecorder structurally, so this layer does not depend on it.

/** What the master playlist says about one quality, and the CID of its newest media playlist. */
export interface QualityInfo {
  cid: string;
  width: number;
  height: number;
  /** Configured bitrate, kbit/s. */
  bitrate: number;
  /** BANDWIDTH: measured peak, bits/s (the configured maxrate before the first segment). */
  bandwidth: number;
  /** AVERAGE-BANDWIDTH, bits/s. */
  averageBandwidth: number;
  codecs: string;
  frameRate: number;
}

export type QualityMap = Record<string, QualityInfo>;

/** A segment a failed run could not upload. */
export interface MissingSegment {
  rendition: string;
  index: number;
}

/** Where a publisher records a run: RunRegistry from src/registry fits. */
export interface RunRecorder {
  createRun(run: {
    id?: string;
    width: number;
    height: number;
    fps: number;
    segmentDuration: number;
    /** Wall-clock time of the first frame: the origin of EXT-X-PROGRAM-DATE-TIME. */
    startedAt?: Date;
    /** URL templates the publisher used (absent when a function was given). */
    segmentUrl?: string;
    playlistUrl?: string;
  }): Promise<{ id: string }>;
  /** Idempotent: the publisher retries after timeouts. */
  recordSegment(runId: string, segment: { rendition: string; index: number; cid: string; duration: number; bytes: number }): Promise<void>;
  publishPlaylists(runId: string, masterCid: string, qualities: QualityMap, options?: { sequence?: number }): Promise<unknown>;
  markEnded(runId: string): Promise<void>;
  markFailed(runId: string, error: string, missing?: MissingSegment[]): Promise<void>;
  /** LL-HLS (optional: a recorder without them records segments only). */
  setPartTarget?(runId: string, seconds: number): Promise<void>;
  recordPart?(runId: string, part: PartRecordInput): Promise<void>;
  setInitSegment?(runId: string, rendition: string, cid: string): Promise<void>;
}

/** One published version of the stream's playlists. */
export interface PublishedVersion {
  /** 1 for the first publish, then +1 each time. */
  sequence: number;
  final: boolean;
  masterCid: string;
  masterText: string;
  qualities: QualityMap;
  /** Media playlists of this version, by rendition (unchanged ones included). */
  media: Record<string, { cid: string; text: string; segmentCount: number }>;
}

/** One partial segment (LL-HLS) as a recorder records it. */
export interface PartRecordInput {
  rendition: string;
  segmentIndex: number;
  partIndex: number;
  cid: string;
  duration: number;
  independent: boolean;
  bytes: number;
}
