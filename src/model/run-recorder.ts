// Where a publisher records a run. RunRegistry (src/registry) implements it;
// the publisher depends on this interface only.
import type { MissingSegment, NewRun, PartInput, PublishOptions, SegmentInput } from './run-inputs.js';
import type { VariantStreamRecords } from './variant-stream-record.js';
import type { ResourceKey } from '../hls/types.js';

export interface RunRecorder {
  createRun(run: NewRun): Promise<{ id: string }>;
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
  /**
   * Whether a failed call may succeed if retried (the database unreachable or
   * restarting). The publisher retries those until its close deadline; without
   * this method no write is retried.
   */
  isTransientError?(error: unknown): boolean;
}
