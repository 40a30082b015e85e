// Where a publisher records a run. RunRegistry (src/registry) implements it;
// the publisher depends on this interface only.
import type { ArchiveInput, MissingSegment, NewRun, PartInput, PublishOptions, SegmentInput } from './run-inputs.js';
import type { VariantStreamRecords } from './variant-stream-record.js';
import type { ResourceKey } from '../hls/types.js';

export interface RunRecorder {
  /** A channel's run comes back numbered after the channel's previous run (msnBase) and one discontinuity later. */
  createRun(run: NewRun): Promise<{ id: string; msnBase?: number; discontinuitySequence?: number }>;
  /** Idempotent: the publisher retries after timeouts. */
  recordSegment(runId: string, segment: SegmentInput): Promise<void>;
  publishPlaylists(runId: string, masterCid: string, variants: VariantStreamRecords, options?: PublishOptions): Promise<unknown>;
  markEnded(runId: string): Promise<void>;
  markFailed(runId: string, error: string, missing?: MissingSegment[]): Promise<void>;
  /** LL-HLS (optional: a recorder without them records segments only). */
  setPartTarget?(runId: string, seconds: number): Promise<void>;
  recordPart?(runId: string, part: PartInput): Promise<void>;
  setInitSegment?(runId: string, rendition: string, cid: string, key?: ResourceKey): Promise<void>;
  /**
   * An encrypted run's content key `index`, wrapped (the registry never sees it
   * clear): stored unless one is stored already; resolves with the stored one,
   * which the publisher then uses (a retry or a resumed run gets the first key).
   */
  putRunKey?(runId: string, index: number, wrapped: string): Promise<string>;
  /** The producer is alive (a cheap periodic write); false once the run is no longer live (a sweeper ended it). */
  heartbeat?(runId: string): Promise<boolean>;
  /** An archive chunk of a windowed run (idempotent). */
  recordArchive?(runId: string, chunk: ArchiveInput): Promise<void>;
  /** Drops the rendition's part records below segment `beforeMsn` (their bytes are being released). */
  forgetParts?(runId: string, rendition: string, beforeMsn: number): Promise<void>;
  /**
   * Whether a failed call may succeed if retried (the database unreachable or
   * restarting). The publisher retries those until its close deadline; without
   * this method no write is retried.
   */
  isTransientError?(error: unknown): boolean;
}
