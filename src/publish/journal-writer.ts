// A live run's journal, as the publisher writes it: each finished segment is
// made durable (fsync'd) before it is queued for upload, so a crash loses
// nothing `abrcast resume` cannot finish; each is marked once the store holds
// it; the journal goes when the run ends complete and stays otherwise. A
// segment the journal cannot take is still uploaded, from memory, and
// reported: the run is then incomplete, not silently unsafe.
import type { SegmentEvent } from '../encoder/types.js';
import { AbrcastError, errorMessage } from '../errors.js';
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
  /** Something that leaves the run incomplete (a segment not journaled). */
  onFailure: (message: string) => void;
  onWarning: (message: string) => void;
}

export class JournalWriter {
  readonly #options: JournalWriterOptions;
  #journal?: SegmentJournal;

  constructor(options: JournalWriterOptions) {
    this.#options = options;
  }

  /** Starts the run's journal (`run` is written once, durably). */
  async create(run: JournalRun): Promise<void> {
    this.#journal = await SegmentJournal.create(this.#options.dir, run, this.#options.limitBytes);
  }

  /** Where the run's journal is, once created. */
  get dir(): string | undefined {
    return this.#journal?.dir;
  }

  /** More bytes wait for upload than the limit allows. */
  get full(): boolean {
    return (this.#journal?.pendingBytes ?? 0) > this.#options.limitBytes;
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
      // Not durable: still upload it from memory, and report the run incomplete for a crash-safe record.
      this.#options.onFailure(`Cannot journal segment ${segment.rendition}/${segment.index}: ${errorMessage(error)}`);
      const { rendition, index, duration, codecs, data } = segment;
      return { meta: { rendition, index, duration, bytes: data.byteLength, codecs, path: '', kept: true }, bytes: data };
    }
  }

  /** Notes that the store holds the segment (its file goes, unless the user's); a failure is a warning. */
  async markUploaded(meta: JournalSegment, cid: string): Promise<void> {
    if (!meta.path) return; // kept in memory only: nothing journaled to mark
    await this.#created().markUploaded(meta, cid).catch((error: Error) =>
      this.#options.onWarning(`Cannot note the upload of ${meta.rendition}/${meta.index} in the journal: ${error.message}`),
    );
  }

  /** The run ended: a complete run's journal is removed, any other kept for `abrcast resume`. Never rejects. */
  async end(complete: boolean): Promise<void> {
    const journal = this.#journal;
    if (journal) await (complete ? journal.remove() : journal.close()).catch(() => undefined);
  }

  #created(): SegmentJournal {
    if (!this.#journal) throw new AbrcastError('The run journal is not created yet (start() first)');
    return this.#journal;
  }
}
