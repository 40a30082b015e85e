// A live run's segments on their way to the store: the UploadQueue (bounded
// concurrency; retries with backoff for as long as the run is open, so a store
// briefly down loses nothing), each segment stored as a resource, and the CID
// of each kept for the run's summary. What an upload leads to (journal,
// registry, playlists) is the caller's onUploaded.
import type { JournalSegment } from '../journal/segment-journal.js';
import type { MissingSegment } from '../model/run-inputs.js';
import type { RetryOptions } from './backoff.js';
import type { SegmentUpload } from './journal-writer.js';
import type { ResourceStore } from './resource-store.js';
import { UploadIncompleteError } from './upload-incomplete-error.js';
import { UploadQueue, type UploadQueueStats } from './upload-queue.js';

export interface SegmentUploadLaneOptions {
  resources: Pick<ResourceStore, 'add'>;
  /** Uploads at once (default 4). */
  concurrency?: number;
  retry?: RetryOptions;
  /** After each segment's upload, once; close() waits for it. */
  onUploaded: (meta: JournalSegment, cid: string) => Promise<void> | void;
  /** After each failed attempt that will be retried; `what` is `<rendition>/<index>`. */
  onRetry: (what: string, attempt: number, error: unknown) => void;
}

/** How close() left the lane: every segment uploaded, or the ones that were not and why. */
export interface SegmentLaneEnd {
  /** Segments that did not reach the store by the deadline. */
  missing: MissingSegment[];
  /** UploadIncompleteError, or an onUploaded failure; absent when everything finished. */
  error?: Error;
}

export class SegmentUploadLane {
  readonly #queue: UploadQueue<JournalSegment>;
  readonly #cids: Record<string, Record<number, string>> = {};

  constructor(options: SegmentUploadLaneOptions) {
    const { resources, onUploaded, onRetry } = options;
    this.#queue = new UploadQueue<JournalSegment>({
      store: { add: (bytes, job) => resources.add({ kind: 'segment', rendition: job.meta.rendition, index: job.meta.index }, bytes) },
      concurrency: options.concurrency,
      retry: options.retry,
      onUploaded: (job, cid) => {
        (this.#cids[job.meta.rendition] ??= {})[job.meta.index] = cid;
        return onUploaded(job.meta, cid);
      },
      onRetry: (job, attempt, error) => onRetry(job.key, attempt, error),
    });
  }

  /** Queues a journaled segment (keyed `<rendition>/<index>`). */
  enqueue({ meta, bytes }: SegmentUpload): void {
    this.#queue.enqueue(`${meta.rendition}/${meta.index}`, bytes, meta);
  }

  stats(): UploadQueueStats {
    return this.#queue.stats();
  }

  /** `{ [rendition]: { [index]: cid } }` of every uploaded segment (a copy). */
  get segmentCids(): Record<string, Record<number, string>> {
    return Object.fromEntries(Object.entries(this.#cids).map(([name, cids]) => [name, { ...cids }]));
  }

  /** Takes no more segments; waits for every upload and its onUploaded, retrying, up to `deadlineMs`. Never rejects. */
  async close(deadlineMs: number): Promise<SegmentLaneEnd> {
    try {
      await this.#queue.close({ deadlineMs });
      return { missing: [] };
    } catch (error) {
      const missing = error instanceof UploadIncompleteError
        ? error.failures.map(({ meta }) => {
            const { rendition, index } = meta as JournalSegment;
            return { rendition, index };
          })
        : [];
      return { missing, error: error as Error };
    }
  }
}
