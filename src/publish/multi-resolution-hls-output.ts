// The renderer's one object: frames in; segments uploaded to IPFS as they
// finish; live playlists published; optionally the run recorded for a server.
// The Node counterpart of the Python original's MultiResolutionHLSOutput.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';

import { LadderEncoder } from '../encoder/ladder-encoder.js';
import type { CudaDeviceFrame, EncodeSummary, EncoderChoice, FileInputOptions, LatencyProfile, PixelFormat, Rendition, SegmentEvent } from '../encoder/types.js';
import { AbrcastError, errorMessage, invalidParameterError, isPositiveFinite, withCallSiteStack } from '../errors.js';
import { cidUrlResolver, type CidUrl } from '../hls/segment-url.js';
import { defaultJournalDir, SegmentJournal, type JournalSegment } from '../journal/segment-journal.js';
import type { ContentStore } from '../store/content-store.js';
import { HeliaStore } from '../store/helia-store.js';
import { OrderedLane } from './ordered-lane.js';
import { PlaylistPublisher } from './playlist-publisher.js';
import type { MissingSegment } from '../model/run-inputs.js';
import type { RunRecorder } from '../model/run-recorder.js';
import type { VariantStreamRecords } from '../model/variant-stream-record.js';
import type { PublishedVersion } from './types.js';
import type { RetryOptions } from './backoff.js';
import { UploadIncompleteError } from './upload-incomplete-error.js';
import { UploadQueue, type UploadQueueStats } from './upload-queue.js';

/** Default journalLimitBytes: 4 GiB of segments waiting for upload. */
export const DEFAULT_JOURNAL_LIMIT_BYTES = 4 * 1024 ** 3;

export interface MultiResolutionHlsOutputOptions {
  sourceSize: [number, number];
  fps: number;
  /** Seconds per segment (default 4, as in the Python original). */
  segmentDuration?: number;
  /** When set, segments are also written under it (`<outputDir>/<rendition>/segment_00000.ts`); the journal then uses those files instead of a copy. */
  outputDir?: string;
  /**
   * Where run journals live (default ~/.abrcast/journal): each finished segment is
   * fsync'd to `<journalDir>/<runId>/` before it is queued for upload, so a crash
   * loses nothing `abrcast resume <runId>` cannot finish. Removed when the run ends complete.
   */
  journalDir?: string;
  /**
   * Most bytes of segments waiting for upload the journal may hold (default 4 GiB). Over
   * it, write() waits for uploads; after closeDeadlineMs it rejects with JournalFullError.
   */
  journalLimitBytes?: number;
  /** Where segments and playlists go; default: the embedded Helia store under ~/.abrcast/ipfs. */
  store?: ContentStore;
  /** Gateway origin for `{gateway}` in segment and playlist URLs (default https://ipfs.io). */
  gateway?: string;
  /**
   * Segment URL: a template with {cid} (and {gateway}), or a function. Default: with the
   * embedded store and no gateway, the server-relative `/ipfs/{cid}` (players resolve it against
   * the playlist's URL, i.e. the gateway of the server that serves the run; a local blockstore
   * announces nothing to public gateways); otherwise `{gateway}/ipfs/{cid}`.
   */
  segmentUrl?: string | CidUrl;
  /** Media playlist URL inside the IPFS master playlist; default as segmentUrl. */
  playlistUrl?: string | CidUrl;
  /** Called after every publish with the master CID and the per-quality info, as in the Python original. */
  onPlaylistUpdate?: (masterCid: string, qualities: VariantStreamRecords) => void | Promise<void>;
  /** Audio file or URL, decoded in-process and muxed as AAC into every rendition (the run ends with the shorter input). */
  audioSource?: string;
  /**
   * Encode this file or URL (decoded in the addon) instead of frames from write(); sourceSize and fps
   * must describe it (see probeMediaFile() and fileEncoderOptions()). start() creates the run and
   * begins decoding; close() waits for the end of the input (encoder.stopInput() ends it sooner).
   */
  input?: FileInputOptions;
  encoder?: EncoderChoice;
  renditions?: Rendition[];
  pixelFormat?: PixelFormat;
  x264Preset?: string;
  /** write() takes `{ cudaDevicePtr, pitch }` frames already in CUDA memory (see LadderEncoderOptions.cudaFrames). */
  cudaFrames?: boolean;
  /**
   * LL-HLS: seconds per partial segment (a whole number of frames). Each part is
   * uploaded and recorded as the encoder emits it, so a server can list it at
   * once; the immutable IPFS playlists stay plain. Undefined: no parts.
   */
  partDuration?: number;
  /** Segment container (default 'ts'); 'fmp4' uploads each rendition's init segment and names it in EXT-X-MAP. */
  container?: 'ts' | 'fmp4';
  /** Encoder latency (LadderEncoderOptions.latency, default 'normal'); 'low' for LL-HLS. */
  latency?: LatencyProfile;
  /** Records the run (segments, newest playlists, status) for a server; RunRegistry fits. */
  registry?: RunRecorder;
  /** Run id to create in the registry; generated when absent. */
  runId?: string;
  /** Segment uploads at once (default 4). */
  uploadConcurrency?: number;
  /** Backoff between upload attempts (default: 250 ms doubling to 10 s, full jitter). */
  uploadRetry?: RetryOptions;
  /** How long close() keeps retrying uploads and registry writes before it reports what failed (default 60 s). */
  closeDeadlineMs?: number;
}

export interface HlsOutputSummary extends EncodeSummary {
  masterCid?: string;
  playlistUrl?: string;
  runId?: string;
  segmentCids: Record<string, Record<number, string>>;
  uploads: UploadQueueStats;
}

type SegmentMeta = JournalSegment;

const templateOf = (url: string | CidUrl | undefined) => (typeof url === 'string' ? url : undefined);

export interface MultiResolutionHlsOutputEvents {
  segment: [SegmentEvent];
  uploaded: [{ rendition: string; index: number; cid: string }];
  publish: [PublishedVersion];
  retry: [{ what: string; attempt: number; error: unknown }];
  warning: [string];
}

/** The encoder's `init` event (issue 16 contract): a rendition's fMP4 init segment. */
interface InitData {
  rendition: string;
  data: Buffer;
}

/** The encoder's `part` event (issue 16 contract): one partial segment, emitted as it is muxed. */
interface PartData {
  rendition: string;
  segmentIndex: number;
  partIndex: number;
  duration: number;
  independent: boolean;
  data: Buffer;
}

export class MultiResolutionHlsOutput extends EventEmitter<MultiResolutionHlsOutputEvents> {
  readonly encoder: LadderEncoder;
  readonly store: ContentStore;
  readonly #ownsStore: boolean;
  readonly #queue: UploadQueue<SegmentMeta>;
  readonly #publisher: PlaylistPublisher;
  readonly #registry?: RunRecorder;
  readonly #playlistUrl: CidUrl;
  readonly #urlTemplates: { segmentUrl?: string; playlistUrl?: string };
  readonly #closeDeadlineMs: number;
  readonly #journalDir: string;
  readonly #journalLimitBytes: number;
  readonly #onPlaylistUpdate?: MultiResolutionHlsOutputOptions['onPlaylistUpdate'];
  readonly #segmentCids: Record<string, Record<number, string>> = {};
  /** Registry writes, in the order of events (segments, then the publish that lists them). */
  readonly #registryLane: OrderedLane;
  /** Part and init uploads and their records, in encoder order, apart from the segments so a slow publish never holds the live edge. */
  readonly #partLane: OrderedLane;
  /** Init segment uploads by rendition: a segment is queued only after its rendition's init is stored and named. */
  readonly #initUploads = new Map<string, Promise<boolean>>();
  readonly #partDuration?: number;
  /** onPlaylistUpdate calls, in publish order. */
  readonly #callbackLane: OrderedLane;
  /** Errors that leave the run incomplete (a segment not journaled, a registry write lost). */
  readonly #failures: string[] = [];
  #journal?: SegmentJournal;
  /** Journal appends in encoder order: a segment is queued (and its event emitted) once durable. */
  #journaling: Promise<void> = Promise.resolve();
  #started?: Promise<void>;
  #startedAt?: Date;
  #runId?: string;
  #closing?: Promise<HlsOutputSummary>;

  constructor(options: MultiResolutionHlsOutputOptions) {
    super();
    if (typeof options !== 'object' || options === null) throw invalidParameterError('options', 'object', options);
    const { sourceSize } = options;
    if (!Array.isArray(sourceSize) || sourceSize.length !== 2) {
      throw invalidParameterError('sourceSize', '[width, height] array', sourceSize);
    }
    const closeDeadlineMs = options.closeDeadlineMs ?? 60_000;
    if (typeof closeDeadlineMs !== 'number' || !(closeDeadlineMs >= 0)) {
      throw invalidParameterError('closeDeadlineMs', 'number of at least 0', closeDeadlineMs);
    }
    this.#closeDeadlineMs = closeDeadlineMs;
    const journalLimitBytes = options.journalLimitBytes ?? DEFAULT_JOURNAL_LIMIT_BYTES;
    if (typeof journalLimitBytes !== 'number' || !(journalLimitBytes > 0)) {
      throw invalidParameterError('journalLimitBytes', 'positive number of bytes', journalLimitBytes);
    }
    this.#journalLimitBytes = journalLimitBytes;
    const journalDir = options.journalDir ?? defaultJournalDir();
    if (typeof journalDir !== 'string' || journalDir.length === 0) throw invalidParameterError('journalDir', 'non-empty string path', journalDir);
    this.#journalDir = journalDir;
    const segmentDuration = options.segmentDuration ?? 4;
    if (options.partDuration !== undefined && !isPositiveFinite(options.partDuration)) {
      throw invalidParameterError('partDuration', 'positive number of seconds', options.partDuration);
    }
    this.#partDuration = options.partDuration;
    if (options.container !== undefined && options.container !== 'ts' && options.container !== 'fmp4') {
      throw invalidParameterError('container', "'ts' or 'fmp4'", options.container);
    }
    // Passed only when set, as the encoder's own options (issue 16's native side validates them).
    const lowLatency = {
      ...(options.partDuration !== undefined ? { partDuration: options.partDuration } : {}),
      ...(options.container !== undefined ? { container: options.container } : {}),
      ...(options.latency !== undefined ? { latency: options.latency } : {}),
    };

    this.#ownsStore = options.store === undefined;
    this.store = options.store ?? new HeliaStore();
    // A local blockstore announces nothing: its segments play only through the server's own gateway.
    const defaultTemplate = this.store.kind === 'helia' && options.gateway === undefined ? '/ipfs/{cid}' : undefined;
    const segmentTemplate = options.segmentUrl ?? defaultTemplate;
    const playlistTemplate = options.playlistUrl ?? defaultTemplate;
    const segmentUrl = cidUrlResolver({ gateway: options.gateway, template: segmentTemplate, optionName: 'segmentUrl' });
    this.#playlistUrl = cidUrlResolver({ gateway: options.gateway, template: playlistTemplate, optionName: 'playlistUrl' });
    const expand = (template: string | CidUrl | undefined) =>
      typeof template === 'function' ? undefined : (template ?? '{gateway}/ipfs/{cid}').replaceAll('{gateway}', (options.gateway ?? 'https://ipfs.io').replace(/\/+$/, ''));
    this.#urlTemplates = { segmentUrl: expand(segmentTemplate), playlistUrl: expand(playlistTemplate) };

    this.encoder = new LadderEncoder({
      width: sourceSize[0], height: sourceSize[1], fps: options.fps, segmentDuration,
      renditions: options.renditions, encoder: options.encoder, pixelFormat: options.pixelFormat,
      x264Preset: options.x264Preset, outputDir: options.outputDir,
      ...(options.cudaFrames !== undefined ? { cudaFrames: options.cudaFrames } : {}),
      ...(options.input !== undefined ? { input: options.input } : {}),
      ...(options.audioSource !== undefined ? { audio: { source: options.audioSource } } : {}),
      ...lowLatency,
    });
    this.#registry = options.registry;
    this.#runId = options.runId;
    this.#onPlaylistUpdate = options.onPlaylistUpdate;

    const onRetry = (what: string, attempt: number, error: unknown) => this.emit('retry', { what, attempt, error });
    this.#registryLane = new OrderedLane({
      isTransient: (error) => this.#registry?.isTransientError?.(error) ?? false,
      onRetry,
      onFailed: (what, error) => this.#fail(`Cannot ${what}: ${errorMessage(error)}`),
    });
    // A lost part only costs the live edge (its segment still carries the bytes): a warning, not a failed run.
    this.#partLane = new OrderedLane({
      onFailed: (what, error) => this.emit('warning', `Cannot ${what}: ${errorMessage(error)}`),
    });
    this.#callbackLane = new OrderedLane({
      onFailed: (what, error) => this.emit('warning', `${what} threw: ${errorMessage(error)}`),
    });
    this.#publisher = new PlaylistPublisher({
      store: this.store,
      renditions: this.encoder.renditions,
      fps: options.fps,
      segmentDuration,
      segmentUrl,
      playlistUrl: this.#playlistUrl,
      onPublished: (version) => this.#onPublished(version),
      onRetry,
    });
    this.#queue = new UploadQueue<SegmentMeta>({
      store: this.store,
      concurrency: options.uploadConcurrency,
      retry: options.uploadRetry,
      onUploaded: (job, cid) => this.#onUploaded(job.meta, cid),
      onRetry: (job, attempt, error) => this.emit('retry', { what: job.key, attempt, error }),
    });

    this.encoder.on('segment', (segment) => {
      this.#publisher.setCodecs(segment.rendition, segment.codecs);
      this.#journaling = this.#journaling.then(() => this.#accept(segment));
    });
    this.encoder.on('warning', (message) => this.emit('warning', message));
    // The encoder's LL-HLS events (issue 16 contract), read through a plain view until its types declare them.
    const events = this.encoder as unknown as EventEmitter;
    events.on('init', (init: InitData) => this.#onInit(init));
    events.on('part', (part: PartData) => this.#onPart(part));
  }

  /** Uploads a rendition's init segment once; later playlists name it (EXT-X-MAP) and the registry records it. */
  #onInit(init: InitData): void {
    if (this.#initUploads.has(init.rendition)) return;
    const registry = this.#registry;
    const runId = this.#runId;
    this.#initUploads.set(
      init.rendition,
      this.#partLane.push(`upload the init segment of ${init.rendition}`, async () => {
        const cid = await this.store.add(init.data);
        this.#publisher.setInitSegment(init.rendition, cid);
        if (registry?.setInitSegment && runId) await registry.setInitSegment(runId, init.rendition, cid);
      }),
    );
  }

  /** Uploads and records one part as soon as it is muxed (the server lists it from the registry). */
  #onPart(part: PartData): void {
    const registry = this.#registry;
    const runId = this.#runId;
    void this.#partLane.push(`upload part ${part.rendition}/${part.segmentIndex}.${part.partIndex}`, async () => {
      const cid = await (this.store.addTransient ? this.store.addTransient(part.data) : this.store.add(part.data));
      if (!registry?.recordPart || !runId) return;
      await registry.recordPart(runId, {
        rendition: part.rendition, segmentIndex: part.segmentIndex, partIndex: part.partIndex, cid,
        duration: part.duration, independent: part.independent, bytes: part.data.byteLength,
      });
    });
  }

  get renditions(): readonly Rendition[] {
    return this.encoder.renditions;
  }

  /** The run's id (in the registry, and of its journal), once start() created the run. */
  get runId(): string | undefined {
    return this.#runId;
  }

  /** Where this run's journal is, once started. */
  get journalPath(): string | undefined {
    return this.#journal?.dir;
  }

  /** CID of the newest master playlist. */
  get playlistCid(): string | undefined {
    return this.#publisher.latest?.masterCid;
  }

  get playlistUrl(): string | undefined {
    const cid = this.playlistCid;
    return cid ? this.#playlistUrl(cid) : undefined;
  }

  /** `{ [rendition]: { [index]: cid } }` of every uploaded segment. */
  get segmentCids(): Record<string, Record<number, string>> {
    return Object.fromEntries(Object.entries(this.#segmentCids).map(([name, cids]) => [name, { ...cids }]));
  }

  get uploads(): UploadQueueStats {
    return this.#queue.stats();
  }

  /** Creates the run (registry, journal). write() does this on first use. File input: then starts decoding. */
  start(): Promise<void> {
    this.#started ??= (async () => {
      this.#startedAt = new Date();
      this.#publisher.setStartTime(this.#startedAt);
      await this.#createRun();
      if (this.encoder.fromFile) this.encoder.start();
    })();
    return this.#started;
  }

  async write(frame: Uint8Array | Uint8ClampedArray | CudaDeviceFrame): Promise<void> {
    await this.start();
    // Backpressure: a store that falls behind fills the journal up to its limit, then slows the producer.
    await this.#journal!.waitForRoom(this.#closeDeadlineMs);
    return this.encoder.write(frame);
  }

  /**
   * Flushes the encoder, waits for every upload (retrying until the close
   * deadline), publishes the final playlists with EXT-X-ENDLIST and marks the
   * run ended. A run with segments that could not be uploaded still ends (ENDLIST
   * on what is listed), is marked failed with the missing segments, and keeps its
   * journal for `abrcast resume`; the error says so.
   */
  close(): Promise<HlsOutputSummary> {
    const callSite = new Error();
    this.#closing ??= this.#close().catch((error: Error) => {
      throw withCallSiteStack(error, callSite);
    });
    return this.#closing;
  }

  async #close(): Promise<HlsOutputSummary> {
    let failure: Error | undefined;
    await this.start().catch((error: Error) => {
      failure = error;
    });
    let summary: EncodeSummary | undefined;
    try {
      summary = await this.encoder.close();
    } catch (error) {
      failure ??= error as Error;
    }
    await this.#journaling;
    this.#publisher.setDeadline(Date.now() + this.#closeDeadlineMs);
    let missing: MissingSegment[] = [];
    try {
      await this.#queue.close({ deadlineMs: this.#closeDeadlineMs });
    } catch (error) {
      if (error instanceof UploadIncompleteError) {
        missing = error.failures.map(({ meta }) => {
          const { rendition, index } = meta as SegmentMeta;
          return { rendition, index };
        });
        this.emit('warning', `${missing.length} upload(s) did not finish; ending the run on the segments listed so far`);
      }
      failure ??= error as Error;
    }
    // The final playlists get a window of their own: a store back by now still ends the run for players.
    const deadline = Date.now() + this.#closeDeadlineMs;
    this.#publisher.setDeadline(deadline);
    try {
      // Always ENDLIST: players stop polling; a later resume only appends what is missing.
      await this.#publisher.publish(true);
    } catch (error) {
      failure ??= new AbrcastError(`Cannot publish the final playlists: ${errorMessage(error)}`, { cause: error });
    }
    this.#partLane.setDeadline(deadline);
    await this.#partLane.drain();
    this.#registryLane.setDeadline(deadline);
    await this.#registryLane.drain();
    if (!failure && this.#failures.length > 0) {
      failure = new AbrcastError(`Run ${this.#runId} is incomplete:\n  ${this.#failures.join('\n  ')}`);
    }
    if (failure && this.#journal) {
      failure.message += `\nEvery finished segment is kept in ${this.#journal.dir}; \`abrcast resume ${this.#runId}\` uploads and lists them.`;
    }
    if (this.#registry && this.#runId) {
      const runId = this.#runId;
      const registry = this.#registry;
      const message = failure?.message;
      const recorded = await this.#registryLane.push(`record the end of run ${runId}`, () =>
        message === undefined ? registry.markEnded(runId) : registry.markFailed(runId, message, missing),
      );
      if (!recorded && !failure) failure = new AbrcastError(this.#failures[this.#failures.length - 1]);
    }
    this.#callbackLane.setDeadline(deadline);
    await this.#callbackLane.drain();
    if (this.#journal) await (failure ? this.#journal.close() : this.#journal.remove()).catch(() => undefined);
    if (this.#ownsStore) await this.store.close().catch(() => undefined);
    if (failure) throw failure;
    return {
      ...summary!,
      masterCid: this.playlistCid,
      playlistUrl: this.playlistUrl,
      runId: this.#runId,
      segmentCids: this.segmentCids,
      uploads: this.#queue.stats(),
    };
  }

  async #createRun(): Promise<void> {
    const { width, height, fps, segmentDuration, renditions } = this.encoder.options;
    const startedAt = this.#startedAt!;
    if (this.#registry) {
      const run = await this.#registry.createRun({ id: this.#runId, width, height, fps, segmentDuration, startedAt, ...this.#urlTemplates });
      this.#runId = run.id;
      // Set before any part: a server lists parts (LL-HLS) for runs with a part target.
      if (this.#partDuration !== undefined && this.#registry.setPartTarget) await this.#registry.setPartTarget(run.id, this.#partDuration);
    }
    this.#runId ??= `r${randomBytes(8).toString('hex')}`;
    this.#journal = await SegmentJournal.create(
      this.#journalDir,
      { runId: this.#runId, startedAt: startedAt.toISOString(), width, height, fps, segmentDuration, renditions: [...renditions], ...this.#urlTemplates },
      this.#journalLimitBytes,
    );
  }

  /** A finished segment: durable in the journal, then queued for upload, then announced. */
  async #accept(segment: SegmentEvent): Promise<void> {
    const key = `${segment.rendition}/${segment.index}`;
    // fMP4: the playlist that lists this segment must name its init segment.
    await this.#initUploads.get(segment.rendition);
    try {
      const entry = await this.#journal!.append(segment);
      this.#queue.enqueue(key, { byteLength: entry.bytes, read: () => this.#journal!.read(entry) }, entry);
    } catch (error) {
      // Not durable: still upload it from memory, and report the run incomplete for a crash-safe record.
      this.#fail(`Cannot journal segment ${key}: ${errorMessage(error)}`);
      this.#queue.enqueue(key, segment.data, {
        rendition: segment.rendition, index: segment.index, duration: segment.duration, bytes: segment.data.byteLength,
        codecs: segment.codecs, path: '', kept: true,
      });
    }
    if (this.encoder.fromFile && this.#journal!.pendingBytes > this.#journalLimitBytes) {
      // File input cannot be slowed by write(): wait here, and stop reading the file if no room comes.
      await this.#journal!.waitForRoom(this.#closeDeadlineMs).catch((error: Error) => {
        this.#fail(error.message);
        this.encoder.stopInput();
      });
    }
    this.emit('segment', segment);
  }

  async #onUploaded(meta: SegmentMeta, cid: string): Promise<void> {
    (this.#segmentCids[meta.rendition] ??= {})[meta.index] = cid;
    this.emit('uploaded', { rendition: meta.rendition, index: meta.index, cid });
    if (meta.path) {
      await this.#journal!.markUploaded(meta, cid).catch((error: Error) =>
        this.emit('warning', `Cannot note the upload of ${meta.rendition}/${meta.index} in the journal: ${error.message}`),
      );
    }
    const registry = this.#registry;
    const runId = this.#runId;
    if (registry && runId) {
      const segment = { rendition: meta.rendition, index: meta.index, cid, duration: meta.duration, bytes: meta.bytes };
      void this.#registryLane.push(`record segment ${meta.rendition}/${meta.index}`, () => registry.recordSegment(runId, segment));
    }
    await this.#publisher
      .segmentUploaded(meta.rendition, { index: meta.index, cid, duration: meta.duration, bytes: meta.bytes })
      .catch((error: Error) => this.emit('warning', `Cannot publish playlists: ${error.message}`));
  }

  /** Called on the publish chain: hands the version to the lanes and returns at once. */
  #onPublished(version: PublishedVersion): void {
    this.emit('publish', version);
    const registry = this.#registry;
    const runId = this.#runId;
    const releaseOlder = () =>
      this.#publisher.releaseUpTo(version.sequence).catch((error: Error) =>
        this.emit('warning', `Cannot release older playlist versions: ${error.message}`),
      );
    if (registry && runId) {
      // The server reads playlists by the CIDs the registry names, so older versions go only once it names newer ones.
      void this.#registryLane.push(`record playlists ${version.sequence} of run ${runId}`, async () => {
        await registry.publishPlaylists(runId, version.masterCid, version.qualities, { sequence: version.sequence });
        await releaseOlder();
      });
    } else {
      void this.#registryLane.push('release older playlist versions', releaseOlder);
    }
    const onPlaylistUpdate = this.#onPlaylistUpdate;
    if (onPlaylistUpdate) {
      void this.#callbackLane.push('onPlaylistUpdate', () => onPlaylistUpdate(version.masterCid, version.qualities));
    }
  }

  #fail(message: string): void {
    this.#failures.push(message);
    this.emit('warning', message);
  }
}
