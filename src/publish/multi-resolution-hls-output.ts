// The renderer's one object: frames in; segments uploaded to IPFS as they
// finish; live playlists published; optionally the run recorded for a server.
// The Node counterpart of the Python original's MultiResolutionHLSOutput.
//
// A coordinator over parts that each do one thing, wired here:
//   segment → JournalWriter (durable) → SegmentUploadLane (uploaded) → PlaylistPublisher
//   init, part → PartLane (stored, recorded: the live edge)
//   each uploaded segment and published version → RegistryLane; each version → PlaylistUpdateLane
// Every media byte goes to the store through one ResourceStore (which encrypts
// it in an encrypted run: ResourceCipher, keys from RunKeys).
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';

import { LadderEncoder } from '../encoder/ladder-encoder.js';
import type { CudaDeviceFrame, EncodeSummary, Rendition, SegmentEvent } from '../encoder/types.js';
import { AbrcastError, errorMessage, withCallSiteStack } from '../errors.js';
import type { CidUrl } from '../hls/segment-url.js';
import type { JournalSegment } from '../journal/segment-journal.js';
import type { RunRecorder } from '../model/run-recorder.js';
import type { ContentStore } from '../store/content-store.js';
import { HeliaStore } from '../store/helia-store.js';
import { outputSettings, runUrls, type EncryptionSettings, type MultiResolutionHlsOutputOptions } from './hls-output-options.js';
import { JournalWriter } from './journal-writer.js';
import { PartLane } from './part-lane.js';
import { PlaylistPublisher } from './playlist-publisher.js';
import { PlaylistUpdateLane } from './playlist-update-lane.js';
import { RegistryLane } from './registry-lane.js';
import { ResourceCipher } from './resource-cipher.js';
import { ResourceStore } from './resource-store.js';
import { RunKeys } from './run-keys.js';
import { SegmentUploadLane } from './segment-upload-lane.js';
import type { PublishedVersion } from './types.js';
import { UploadIncompleteError } from './upload-incomplete-error.js';
import type { UploadQueueStats } from './upload-queue.js';

export { DEFAULT_JOURNAL_LIMIT_BYTES, type MultiResolutionHlsOutputOptions } from './hls-output-options.js';

export interface HlsOutputSummary extends EncodeSummary {
  masterCid?: string;
  playlistUrl?: string;
  runId?: string;
  segmentCids: Record<string, Record<number, string>>;
  uploads: UploadQueueStats;
}

export interface MultiResolutionHlsOutputEvents {
  segment: [SegmentEvent];
  uploaded: [{ rendition: string; index: number; cid: string }];
  publish: [PublishedVersion];
  retry: [{ what: string; attempt: number; error: unknown }];
  warning: [string];
}

export class MultiResolutionHlsOutput extends EventEmitter<MultiResolutionHlsOutputEvents> {
  readonly encoder: LadderEncoder;
  readonly store: ContentStore;
  readonly #ownsStore: boolean;
  readonly #closeDeadlineMs: number;
  readonly #partDuration?: number;
  readonly #playlistUrl: CidUrl;
  readonly #urlTemplates: { segmentUrl?: string; playlistUrl?: string };
  readonly #registry?: RunRecorder;
  readonly #journal: JournalWriter;
  readonly #segments: SegmentUploadLane;
  readonly #parts: PartLane;
  readonly #publisher: PlaylistPublisher;
  readonly #records: RegistryLane;
  readonly #updates: PlaylistUpdateLane;
  readonly #resources: ResourceStore;
  readonly #encryption?: EncryptionSettings;
  readonly #cipher?: ResourceCipher;
  /** Errors that leave the run incomplete (a segment not journaled, a registry write lost). */
  readonly #failures: string[] = [];
  /** Segments in encoder order: each queued (and its event emitted) once durable. */
  #accepting: Promise<void> = Promise.resolve();
  #started?: Promise<void>;
  #startedAt?: Date;
  #runId?: string;
  #closing?: Promise<HlsOutputSummary>;

  constructor(options: MultiResolutionHlsOutputOptions) {
    super();
    const settings = outputSettings(options);
    this.#closeDeadlineMs = settings.closeDeadlineMs;
    this.#partDuration = settings.partDuration;
    this.#ownsStore = options.store === undefined;
    this.store = options.store ?? new HeliaStore();
    const urls = runUrls(this.store.kind, options);
    this.#playlistUrl = urls.playlistUrl;
    this.#urlTemplates = urls.templates;
    this.encoder = new LadderEncoder(settings.encoder);
    this.#registry = options.registry;
    this.#runId = options.runId;

    const onRetry = (what: string, attempt: number, error: unknown) => this.emit('retry', { what, attempt, error });
    const onWarning = (message: string) => this.emit('warning', message);
    const onFailure = (message: string) => this.#fail(message);
    const runId = () => this.#runId;
    this.#encryption = settings.encryption;
    if (this.#encryption) {
      const keys = new RunKeys({ registry: options.registry as Required<Pick<RunRecorder, 'putRunKey'>>, runId, secrets: this.#encryption.secrets });
      this.#cipher = new ResourceCipher({
        container: options.container ?? 'ts', keyRotation: this.#encryption.keyRotation, keyFor: (index) => keys.key(index),
      });
    }
    const resources = (this.#resources = new ResourceStore(this.store, this.#cipher));
    const keyUrl = this.#encryption?.keyUrl;
    this.#journal = new JournalWriter({
      dir: settings.journalDir, limitBytes: settings.journalLimitBytes, roomWaitMs: settings.closeDeadlineMs, onFailure, onWarning,
    });
    this.#records = new RegistryLane({ registry: this.#registry, runId, onRetry, onFailure });
    this.#updates = new PlaylistUpdateLane({ onPlaylistUpdate: options.onPlaylistUpdate, onWarning });
    this.#publisher = new PlaylistPublisher({
      store: this.store,
      renditions: this.encoder.renditions,
      fps: options.fps,
      segmentDuration: settings.segmentDuration,
      segmentUrl: urls.segmentUrl,
      playlistUrl: urls.playlistUrl,
      ...(keyUrl ? { keyUri: (index: number) => keyUrl(this.#runId!, index) } : {}),
      onPublished: (version) => this.#onPublished(version),
      onRetry,
    });
    this.#parts = new PartLane({ resources, publisher: this.#publisher, registry: this.#registry, runId, onWarning });
    this.#segments = new SegmentUploadLane({
      resources,
      concurrency: options.uploadConcurrency,
      retry: options.uploadRetry,
      onUploaded: (meta, cid) => this.#onUploaded(meta, cid),
      onRetry,
    });

    this.encoder.on('segment', (segment) => {
      this.#publisher.setCodecs(segment.rendition, segment.codecs);
      this.#accepting = this.#accepting.then(() => this.#accept(segment));
    });
    this.encoder.on('init', (init) => this.#parts.init(init));
    this.encoder.on('part', (part) => this.#parts.part(part));
    this.encoder.on('warning', onWarning);
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
    return this.#journal.dir;
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
    return this.#segments.segmentCids;
  }

  get uploads(): UploadQueueStats {
    return this.#segments.stats();
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

  /**
   * One frame for every rendition (LadderEncoder.write()): the buffer is the encoder's until this
   * resolves, and may be reused from then on. Waits for the run to start and, when the store falls
   * behind, for room in the journal first.
   */
  async write(frame: Uint8Array | Uint8ClampedArray | CudaDeviceFrame): Promise<void> {
    await this.start();
    // Backpressure: a store that falls behind fills the journal up to its limit, then slows the producer.
    await this.#journal.waitForRoom();
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
    await this.#accepting;
    this.#publisher.setDeadline(Date.now() + this.#closeDeadlineMs);
    const uploads = await this.#segments.close(this.#closeDeadlineMs);
    if (uploads.error instanceof UploadIncompleteError) {
      this.emit('warning', `${uploads.missing.length} upload(s) did not finish; ending the run on the segments listed so far`);
    }
    failure ??= uploads.error;
    // The final playlists get a window of their own: a store back by now still ends the run for players.
    const deadline = Date.now() + this.#closeDeadlineMs;
    this.#publisher.setDeadline(deadline);
    try {
      // Always ENDLIST: players stop polling; a later resume only appends what is missing.
      await this.#publisher.publish(true);
    } catch (error) {
      failure ??= new AbrcastError(`Cannot publish the final playlists: ${errorMessage(error)}`, { cause: error });
    }
    await this.#parts.drain(deadline);
    await this.#records.drain(deadline);
    if (!failure && this.#failures.length > 0) {
      failure = new AbrcastError(`Run ${this.#runId} is incomplete:\n  ${this.#failures.join('\n  ')}`);
    }
    if (failure && this.#journal.dir) {
      failure.message += `\nEvery finished segment is kept in ${this.#journal.dir}; \`abrcast resume ${this.#runId}\` uploads and lists them.`;
    }
    const recorded = await this.#records.recordEnd(failure?.message, uploads.missing);
    if (!recorded && !failure) failure = new AbrcastError(this.#failures[this.#failures.length - 1]);
    await this.#updates.drain(deadline);
    await this.#journal.end(!failure);
    if (this.#ownsStore) await this.store.close().catch(() => undefined);
    if (failure) throw failure;
    return {
      ...summary!,
      masterCid: this.playlistCid,
      playlistUrl: this.playlistUrl,
      runId: this.#runId,
      segmentCids: this.segmentCids,
      uploads: this.#segments.stats(),
    };
  }

  async #createRun(): Promise<void> {
    const { width, height, fps, segmentDuration, renditions } = this.encoder.options;
    const startedAt = this.#startedAt!;
    if (this.#registry) {
      const encryption = this.#encryption;
      const run = await this.#registry.createRun({
        id: this.#runId, width, height, fps, segmentDuration, startedAt, ...this.#urlTemplates,
        ...(encryption ? { encryption: 'aes-128' as const, keyUrl: encryption.keyUrlTemplate, ...(encryption.keyRotation ? { keyRotation: encryption.keyRotation } : {}) } : {}),
      });
      this.#runId = run.id;
      // The first key before any resource: a registry that cannot keep it fails start(), not a segment.
      await this.#cipher?.keyOf({ kind: 'init', rendition: renditions[0].name });
      // Set before any part: a server lists parts (LL-HLS) for runs with a part target.
      if (this.#partDuration !== undefined && this.#registry.setPartTarget) await this.#registry.setPartTarget(run.id, this.#partDuration);
    }
    this.#runId ??= `r${randomBytes(8).toString('hex')}`;
    await this.#journal.create({
      runId: this.#runId, startedAt: startedAt.toISOString(), width, height, fps, segmentDuration, renditions: [...renditions], ...this.#urlTemplates,
    });
  }

  /** A finished segment: durable in the journal, then queued for upload, then announced. */
  async #accept(segment: SegmentEvent): Promise<void> {
    // fMP4: the playlist that lists this segment must name its init segment.
    await this.#parts.initStored(segment.rendition);
    this.#segments.enqueue(await this.#journal.append(segment));
    if (this.encoder.fromFile && this.#journal.full) {
      // File input cannot be slowed by write(): wait here, and stop reading the file if no room comes.
      await this.#journal.waitForRoom().catch((error: Error) => {
        this.#fail(error.message);
        this.encoder.stopInput();
      });
    }
    this.emit('segment', segment);
  }

  async #onUploaded(meta: JournalSegment, cid: string): Promise<void> {
    const { rendition, index, duration, bytes } = meta;
    this.emit('uploaded', { rendition, index, cid });
    await this.#journal.markUploaded(meta, cid);
    // Known once the segment is stored (its key period's key is loaded then).
    const key = await this.#resources.keyOf({ kind: 'segment', rendition, index });
    this.#records.recordSegment({ rendition, index, cid, duration, bytes, ...(key ? { key } : {}) });
    await this.#publisher
      .segmentUploaded(rendition, { index, cid, duration, bytes, ...(key ? { key } : {}) })
      .catch((error: Error) => this.emit('warning', `Cannot publish playlists: ${error.message}`));
  }

  /** Called on the publish chain: hands the version to the lanes and returns at once. */
  #onPublished(version: PublishedVersion): void {
    this.emit('publish', version);
    // The server reads playlists by the CIDs the registry names, so older versions go only once it names newer ones.
    this.#records.recordPublish(version, () =>
      this.#publisher.releaseUpTo(version.sequence).catch((error: Error) => {
        this.emit('warning', `Cannot release older playlist versions: ${error.message}`);
      }),
    );
    this.#updates.published(version);
  }

  #fail(message: string): void {
    this.#failures.push(message);
    this.emit('warning', message);
  }
}
