// Uploads segment bytes to the content store with bounded concurrency, retrying with
// backoff for as long as the queue is open: a live stream must not lose a segment
// because the store was briefly down. A job holds a way to read its bytes (from the
// journal on disk), not the bytes, so a long outage costs disk, not memory.
import { AbrcastError, describeValue, errorMessage, invalidParameterError, isInteger } from '../errors.js';
import { checkRetry, retryDelayMs, type RetryOptions } from './backoff.js';
import { UploadIncompleteError, type UploadFailure } from './upload-incomplete-error.js';

/**
 * Where the queue stores a job's bytes: a ContentStore fits. `job` says what the
 * bytes are, for a store that treats jobs differently; a ContentStore ignores it.
 */
export interface UploadStore<M = unknown> {
  add(bytes: Uint8Array, job: UploadJob<M>): Promise<string>;
}

/** What callbacks see of a job. */
export interface UploadJob<M> {
  readonly key: string;
  readonly meta: M;
  readonly byteLength: number;
  /** Attempts made so far, including the one just finished. */
  readonly attempts: number;
}

/** Where a job's bytes are read from on each attempt. */
export interface ByteSource {
  readonly byteLength: number;
  read(): Promise<Uint8Array>;
}

export interface UploadQueueOptions<M> {
  store: UploadStore<M>;
  /** Uploads running at once (default 4). */
  concurrency?: number;
  retry?: RetryOptions;
  /** Called once per job, after its upload succeeded. A returned promise is awaited by close(). */
  onUploaded: (job: UploadJob<M>, cid: string) => void | Promise<void>;
  /** Called after each failed attempt, before the retry delay. */
  onRetry?: (job: UploadJob<M>, attempt: number, error: unknown) => void;
}

export interface UploadQueueStats {
  /** Accepted, not uploaded, not uploading now (queued or waiting to retry). */
  pending: number;
  inFlight: number;
  uploaded: number;
  /** Failed attempts that were (or are to be) retried. */
  retries: number;
  /** Bytes of unfinished jobs. */
  pendingBytes: number;
}

interface Job<M> {
  /** Enqueue order: retries go back in line by it, so older segments go first. */
  readonly seq: number;
  readonly key: string;
  readonly meta: M;
  readonly byteLength: number;
  readonly source: ByteSource;
  attempts: number;
  lastError?: unknown;
  uploading: boolean;
  retryTimer?: NodeJS.Timeout;
}

interface SideError {
  key: string;
  stage: 'onUploaded' | 'onRetry';
  error: unknown;
}

const view = <M>(job: Job<M>): UploadJob<M> =>
  Object.freeze({ key: job.key, meta: job.meta, byteLength: job.byteLength, attempts: job.attempts });

export class UploadQueue<M = undefined> {
  readonly #store: UploadStore<M>;
  readonly #concurrency: number;
  readonly #retry: Required<RetryOptions>;
  readonly #onUploaded: UploadQueueOptions<M>['onUploaded'];
  readonly #onRetry: UploadQueueOptions<M>['onRetry'];

  /** Jobs ready to upload, in seq order. */
  readonly #ready: Job<M>[] = [];
  /** Every accepted job not yet uploaded, by key. */
  readonly #outstanding = new Map<string, Job<M>>();
  /** Callback and cleanup work after uploads; close() waits for it. */
  readonly #settling = new Set<Promise<void>>();
  readonly #sideErrors: SideError[] = [];
  #idleWaiters: (() => void)[] = [];
  #nextSeq = 0;
  #inFlight = 0;
  #uploaded = 0;
  #retries = 0;
  #pendingBytes = 0;
  #closing: Promise<void> | undefined;
  /** Set at the close deadline: nothing more starts, late outcomes are ignored. */
  #halted = false;

  constructor(options: UploadQueueOptions<M>) {
    if (typeof options !== 'object' || options === null) throw invalidParameterError('options', 'object', options);
    const { store, concurrency = 4, onUploaded, onRetry } = options;
    if (typeof store !== 'object' || store === null || typeof store.add !== 'function') {
      throw invalidParameterError('store', 'object with an add(bytes) method', store);
    }
    if (!isInteger(concurrency) || concurrency < 1 || concurrency > 1024) {
      throw invalidParameterError('concurrency', 'integer between 1 and 1024', concurrency);
    }
    if (typeof onUploaded !== 'function') throw invalidParameterError('onUploaded', 'function', onUploaded);
    if (onRetry !== undefined && typeof onRetry !== 'function') throw invalidParameterError('onRetry', 'function', onRetry);
    this.#store = store;
    this.#concurrency = concurrency;
    this.#retry = checkRetry(options.retry);
    this.#onUploaded = onUploaded;
    this.#onRetry = onRetry;
  }

  /**
   * Accepts bytes for upload under `key` (unique among unfinished jobs): either the
   * bytes themselves (kept by reference until uploaded: do not change them), or a
   * source that reads them on each attempt.
   */
  enqueue(key: string, bytes: Uint8Array | ByteSource, meta: M): void {
    if (this.#closing) throw new AbrcastError(`UploadQueue is closed; cannot enqueue ${key}`);
    if (typeof key !== 'string' || key.length === 0) throw invalidParameterError('key', 'non-empty string', key);
    const source = toSource(bytes);
    if (this.#outstanding.has(key)) throw new AbrcastError(`Upload ${key} is already queued`);

    const job: Job<M> = { seq: this.#nextSeq++, key, meta, byteLength: source.byteLength, source, attempts: 0, uploading: false };
    this.#outstanding.set(key, job);
    this.#pendingBytes += job.byteLength;
    this.#ready.push(job);
    this.#pump();
  }

  stats(): UploadQueueStats {
    return {
      pending: this.#outstanding.size - this.#inFlight,
      inFlight: this.#inFlight,
      uploaded: this.#uploaded,
      retries: this.#retries,
      pendingBytes: this.#pendingBytes,
    };
  }

  /**
   * Stops accepting jobs and waits, retrying meanwhile, until every upload and its
   * onUploaded callback finished, or `deadlineMs` passed. At the deadline, rejects
   * with UploadIncompleteError listing every unfinished job. Rejects with an
   * AggregateError when callbacks failed. Idempotent.
   */
  close({ deadlineMs = 30_000 }: { deadlineMs?: number } = {}): Promise<void> {
    if (!this.#closing) {
      if (typeof deadlineMs !== 'number' || !Number.isFinite(deadlineMs) || deadlineMs < 0) {
        throw invalidParameterError('deadlineMs', 'number of at least 0', deadlineMs);
      }
      this.#closing = this.#drain(deadlineMs);
    }
    return this.#closing;
  }

  async #drain(deadlineMs: number): Promise<void> {
    let deadlineTimer: NodeJS.Timeout | undefined;
    const allUploaded = await Promise.race([
      this.#whenIdle().then(() => true),
      new Promise<false>((resolve) => {
        deadlineTimer = setTimeout(() => resolve(false), deadlineMs);
      }),
    ]);
    clearTimeout(deadlineTimer);
    if (!allUploaded) {
      const failures = this.#halt();
      await this.#settled();
      throw new UploadIncompleteError(failures);
    }
    await this.#settled();
    if (this.#sideErrors.length > 0) {
      const list = this.#sideErrors.map((side) => `${side.key} (${side.stage}): ${errorMessage(side.error)}`);
      throw new AggregateError(
        this.#sideErrors.map((side) => side.error),
        `${this.#sideErrors.length} upload callback(s) failed: ${list.join('; ')}`,
      );
    }
  }

  #pump(): void {
    while (!this.#halted && this.#inFlight < this.#concurrency && this.#ready.length > 0) {
      const job = this.#ready.shift()!;
      this.#inFlight += 1;
      job.uploading = true;
      void this.#attempt(job);
    }
  }

  async #attempt(job: Job<M>): Promise<void> {
    job.attempts += 1;
    let cid: string;
    try {
      cid = await this.#store.add(await job.source.read(), view(job));
      if (typeof cid !== 'string' || cid.length === 0) {
        throw new AbrcastError(`store.add returned ${describeValue(cid)} instead of a CID string`);
      }
    } catch (error) {
      if (this.#halted) return; // close() has reported this job already
      job.uploading = false;
      this.#inFlight -= 1;
      job.lastError = error;
      this.#scheduleRetry(job, error);
      this.#pump();
      return;
    }
    if (this.#halted) return;
    job.uploading = false;
    this.#inFlight -= 1;
    this.#complete(job, cid);
    this.#pump();
  }

  #scheduleRetry(job: Job<M>, error: unknown): void {
    this.#retries += 1;
    try {
      this.#onRetry?.(view(job), job.attempts, error);
    } catch (callbackError) {
      this.#sideErrors.push({ key: job.key, stage: 'onRetry', error: callbackError });
    }
    job.retryTimer = setTimeout(() => {
      job.retryTimer = undefined;
      if (this.#halted) return;
      this.#insertReady(job);
      this.#pump();
    }, retryDelayMs(job.attempts, this.#retry));
  }

  #insertReady(job: Job<M>): void {
    let low = 0;
    let high = this.#ready.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.#ready[middle].seq < job.seq) low = middle + 1;
      else high = middle;
    }
    this.#ready.splice(low, 0, job);
  }

  #complete(job: Job<M>, cid: string): void {
    this.#outstanding.delete(job.key);
    this.#pendingBytes -= job.byteLength;
    this.#uploaded += 1;
    const uploadedJob = view(job);

    const settle = (async () => {
      try {
        await this.#onUploaded(uploadedJob, cid);
      } catch (error) {
        this.#sideErrors.push({ key: job.key, stage: 'onUploaded', error });
      }
    })();
    this.#settling.add(settle);
    void settle.finally(() => this.#settling.delete(settle));

    if (this.#outstanding.size === 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  #whenIdle(): Promise<void> {
    if (this.#outstanding.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  async #settled(): Promise<void> {
    while (this.#settling.size > 0) await Promise.all(this.#settling);
  }

  /** Stops all work; lists every unfinished job. */
  #halt(): UploadFailure<M>[] {
    this.#halted = true;
    this.#ready.length = 0;
    const jobs = [...this.#outstanding.values()];
    for (const job of jobs) clearTimeout(job.retryTimer);
    return jobs.map((job) => ({
      key: job.key,
      meta: job.meta,
      error:
        job.lastError ??
        new AbrcastError(job.attempts === 0 ? 'never attempted: every upload slot stayed busy' : 'first attempt still running'),
      attempts: job.attempts,
      byteLength: job.byteLength,
      inFlight: job.uploading,
    }));
  }
}

function toSource(bytes: Uint8Array | ByteSource): ByteSource {
  if (bytes instanceof Uint8Array) return { byteLength: bytes.byteLength, read: () => Promise.resolve(bytes) };
  if (typeof bytes === 'object' && bytes !== null && isInteger(bytes.byteLength) && bytes.byteLength >= 0 && typeof bytes.read === 'function') {
    return bytes;
  }
  throw invalidParameterError('bytes', 'Uint8Array or { byteLength, read() }', bytes);
}
