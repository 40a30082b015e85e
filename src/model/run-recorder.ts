// Where a publisher records a run. RunRegistry (src/registry) implements it;
// the publisher depends on this interface only.
import type { MissingSegment, NewRun, PartInput, PublishOptions, SegmentInput } from './run-inputs.js';
import type { VariantStreamRecords } from './variant-stream-record.js';

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
  setInitSegment?(runId: string, rendition: string, cid: string): Promise<void>;
  /**
   * Whether a failed call may succeed if retried (the database unreachable or
   * restarting). The publisher retries those until its close deadline; without
   * this method no write is retried.
   */
  isTransientError?(error: unknown): boolean;
}
