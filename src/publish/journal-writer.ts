// A live run's journal, as the publisher writes it: each finished segment is
// made durable (fsync'd) before it is queued for upload, so a crash loses
// nothing `abrcast resume` cannot finish; each is marked once the store holds
// it; the journal goes when the run ends complete and stays otherwise. A
// segment the journal cannot take (a full disk) is still uploaded, from memory,
// and reported: the run is then incomplete, not silently unsafe; memory held so
// is bounded (memoryLimitBytes), past it the producer waits like for a full
// journal. While the run is produced its journal is locked (journal-lock.ts):
// `abrcast resume` on this machine knows the producer is alive, or that it died.
import type { SegmentEvent } from '../encoder/types.js';
import { AbrcastError, errorMessage } from '../errors.js';
import { JournalLock } from '../journal/journal-lock.js';
import { SegmentJournal, type JournalRun, type JournalSegment } from '../journal/segment-journal.js';
import type { ByteSource } from './upload-queue.js';

/** A segment ready for the segment lane: its journal record and where its bytes are read from. */
export interface SegmentUpload {
  meta: JournalSegment;
  bytes: ByteSource | Uint8Array;
}

export interface JournalWriterOptions {
  /** Parent of the run journals; this run's is `<dir>/<runId>`. */
  dir: string;
  /** Most bytes of segments waiting for upload (journalLimitBytes). */
  limitBytes: number;
  /** How long waitForRoom() waits before it rejects with JournalFullError. */
  roomWaitMs: number;
  /** Most bytes of segments the disk refused held in memory (default DEFAULT_JOURNAL_MEMORY_LIMIT_BYTES). */
  memoryLimitBytes?: number;
  /** Something that leaves the run incomplete (a segment not journaled). */
  onFailure: (message: string) => void;
  onWarning: (message: string) => void;
}

export class JournalWriter {
  readonly #options: JournalWriterOptions;
  #journal?: SegmentJournal;
  #lock?: JournalLock;

  constructor(options: JournalWriterOptions) {
    this.#options = options;
  }

  /** Starts the run's journal (`run` is written once, durably). */
  async create(run: JournalRun): Promise<void> {
    this.#journal = await SegmentJournal.create(this.#options.dir, run, this.#options.limitBytes);
    if (this.#options.memoryLimitBytes !== undefined) this.#journal.memoryLimitBytes = this.#options.memoryLimitBytes;
    this.#lock = await JournalLock.acquire(this.#journal.dir, 'producer');
  }

  /** Where the run's journal is, once created. */
  get dir(): string | undefined {
    return this.#journal?.dir;
  }

  /** More bytes wait for upload than the limit allows (or, of those the disk refused, than memory may hold). */
  get full(): boolean {
    const journal = this.#journal;
    return journal !== undefined && (journal.pendingBytes > this.#options.limitBytes || journal.memoryBytes > journal.memoryLimitBytes);
  }

  /** Bytes of segments the disk refused, held in memory until uploaded. */
  get memoryBytes(): number {
    return this.#journal?.memoryBytes ?? 0;
  }

  /** Resolves once the journal is under its limit; rejects with JournalFullError after roomWaitMs. */
  waitForRoom(): Promise<void> {
    return this.#created().waitForRoom(this.#options.roomWaitMs);
  }

  /** Makes the segment durable and says where to read it from for upload. Never rejects. */
  async append(segment: SegmentEvent): Promise<SegmentUpload> {
    try {
      const journal = this.#created();
      const meta = await journal.append(segment);
      return { meta, bytes: { byteLength: meta.bytes, read: () => journal.read(meta) } };
    } catch (error) {
      // Not durable: still upload it from memory (counted against the journal's memory bound, so a disk
      // that stays full slows the producer), and report the run incomplete for a crash-safe record.
      this.#options.onFailure(`Cannot journal segment ${segment.rendition}/${segment.index}: ${errorMessage(error)}`);
      const journal = this.#journal;
      if (journal) {
        try {
          const meta = journal.keepInMemory(segment);
          return { meta, bytes: { byteLength: meta.bytes, read: () => journal.read(meta) } };
        } catch {
          // Already in the journal under that index: fall through to an unjournaled upload.
        }
      }
      const { rendition, index, duration, codecs, data } = segment;
      return { meta: { rendition, index, duration, bytes: data.byteLength, codecs, path: '', kept: true }, bytes: data };
    }
  }

  /** Notes that the store holds the segment (its file goes, unless the user's; memory is freed); a failure is a warning. */
  async markUploaded(meta: JournalSegment, cid: string): Promise<void> {
    if (!meta.path && !meta.inMemory) return; // never journaled: nothing to mark
    await this.#created().markUploaded(meta, cid).catch((error: Error) =>
      this.#options.onWarning(`Cannot note the upload of ${meta.rendition}/${meta.index} in the journal: ${error.message}`),
    );
  }

  /** The run ended: a complete run's journal is removed, any other kept for `abrcast resume`. Never rejects. */
  async end(complete: boolean): Promise<void> {
    const journal = this.#journal;
    await this.#lock?.release().catch(() => undefined);
    if (journal) await (complete ? journal.remove() : journal.close()).catch(() => undefined);
  }

  #created(): SegmentJournal {
    if (!this.#journal) throw new AbrcastError('The run journal is not created yet (start() first)');
    return this.#journal;
  }
}
