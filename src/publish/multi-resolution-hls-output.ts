// The renderer's one object: frames in; segments uploaded to IPFS as they
// finish; live playlists published; optionally the run recorded for a server.
// The Node counterpart of the Python original's MultiResolutionHLSOutput.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { LadderEncoder } from '../encoder/ladder-encoder.js';
import type { CudaDeviceFrame, EncodeSummary, EncoderChoice, FileInputOptions, PixelFormat, Rendition, SegmentEvent } from '../encoder/types.js';
import { AbrcastError, invalidParameterError, withCallSiteStack } from '../errors.js';
import { cidUrlResolver, type CidUrl } from '../hls/segment-url.js';
import type { ContentStore } from '../store/content-store.js';
import { HeliaStore } from '../store/helia-store.js';
import { PlaylistPublisher } from './playlist-publisher.js';
import type { PublishedVersion, QualityMap, RunRecorder } from './types.js';
import { UploadIncompleteError, UploadQueue, type RetryOptions, type UploadQueueStats } from './upload-queue.js';

export interface MultiResolutionHlsOutputOptions {
  sourceSize: [number, number];
  fps: number;
  /** Seconds per segment (default 4, as in the Python original). */
  segmentDuration?: number;
  /** When set, segments are also written under it, and spooled uploads go to `<outputDir>/.spool`. */
  outputDir?: string;
  /** Where segments and playlists go; default: the embedded Helia store under ~/.abrcast/ipfs. */
  store?: ContentStore;
  /** Gateway origin for segment and playlist URLs (default https://ipfs.io). */
  gateway?: string;
  /** Segment URL: a template with {cid} (and {gateway}), or a function; default `{gateway}/ipfs/{cid}`. */
  segmentUrl?: string | CidUrl;
  /** Media playlist URL inside the IPFS master playlist; default `{gateway}/ipfs/{cid}`. */
  playlistUrl?: string | CidUrl;
  /** Called after every publish with the master CID and the per-quality info, as in the Python original. */
  onPlaylistUpdate?: (masterCid: string, qualities: QualityMap) => void | Promise<void>;
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
  /** Records the run (segments, newest playlists, status) for a server; RunRegistry fits. */
  registry?: RunRecorder;
  /** Run id to create in the registry; generated when absent. */
  runId?: string;
  /** Segment uploads at once (default 4). */
  uploadConcurrency?: number;
  /** Backoff between upload attempts (default: 250 ms doubling to 10 s, full jitter). */
  uploadRetry?: RetryOptions;
  /** How long close() keeps retrying uploads before it reports what failed (default 60 s). */
  closeDeadlineMs?: number;
}

export interface HlsOutputSummary extends EncodeSummary {
  masterCid?: string;
  playlistUrl?: string;
  runId?: string;
  segmentCids: Record<string, Record<number, string>>;
  uploads: UploadQueueStats;
}

interface SegmentMeta {
  rendition: string;
  index: number;
  duration: number;
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
  readonly #queue: UploadQueue<SegmentMeta>;
  readonly #publisher: PlaylistPublisher;
  readonly #registry?: RunRecorder;
  readonly #playlistUrl: CidUrl;
  readonly #closeDeadlineMs: number;
  readonly #onPlaylistUpdate?: MultiResolutionHlsOutputOptions['onPlaylistUpdate'];
  readonly #segmentCids: Record<string, Record<number, string>> = {};
  readonly #sideErrors: string[] = [];
  #started?: Promise<void>;
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
    const segmentDuration = options.segmentDuration ?? 4;
    const segmentUrl = cidUrlResolver({ gateway: options.gateway, template: options.segmentUrl, optionName: 'segmentUrl' });
    this.#playlistUrl = cidUrlResolver({ gateway: options.gateway, template: options.playlistUrl, optionName: 'playlistUrl' });

    this.encoder = new LadderEncoder({
      width: sourceSize[0], height: sourceSize[1], fps: options.fps, segmentDuration,
      renditions: options.renditions, encoder: options.encoder, pixelFormat: options.pixelFormat,
      x264Preset: options.x264Preset, outputDir: options.outputDir,
      ...(options.cudaFrames !== undefined ? { cudaFrames: options.cudaFrames } : {}),
      ...(options.input !== undefined ? { input: options.input } : {}),
      ...(options.audioSource !== undefined ? { audio: { source: options.audioSource } } : {}),
    });
    this.#ownsStore = options.store === undefined;
    this.store = options.store ?? new HeliaStore();
    this.#registry = options.registry;
    this.#runId = options.runId;
    this.#onPlaylistUpdate = options.onPlaylistUpdate;

    this.#publisher = new PlaylistPublisher({
      store: this.store,
      renditions: this.encoder.renditions,
      fps: options.fps,
      segmentDuration,
      segmentUrl,
      playlistUrl: this.#playlistUrl,
      onPublished: (version) => this.#onPublished(version),
      onRetry: (what, attempt, error) => this.emit('retry', { what, attempt, error }),
    });
    const spoolDir = options.outputDir
      ? join(options.outputDir, '.spool')
      : join(tmpdir(), `abrcast-spool-${randomBytes(6).toString('hex')}`);
    this.#queue = new UploadQueue<SegmentMeta>({
      store: this.store,
      concurrency: options.uploadConcurrency,
      retry: options.uploadRetry,
      spoolDir,
      onUploaded: (job, cid) => this.#onUploaded(job.meta, cid, job.byteLength),
      onRetry: (job, attempt, error) => this.emit('retry', { what: job.key, attempt, error }),
    });

    this.encoder.on('segment', (segment) => {
      this.#publisher.setCodecs(segment.rendition, segment.codecs);
      this.#queue.enqueue(`${segment.rendition}/${segment.index}`, segment.data, {
        rendition: segment.rendition, index: segment.index, duration: segment.duration,
      });
      this.emit('segment', segment);
    });
    this.encoder.on('warning', (message) => this.emit('warning', message));
  }

  get renditions(): readonly Rendition[] {
    return this.encoder.renditions;
  }

  /** The run's id in the registry, once the first write created it. */
  get runId(): string | undefined {
    return this.#runId;
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

  /** Creates the run in the registry (if any). write() does this on first use. File input: then starts decoding. */
  start(): Promise<void> {
    this.#started ??= this.#createRun().then(() => {
      if (!this.encoder.fromFile) return;
      this.#publisher.setStartTime(new Date());
      this.encoder.start();
    });
    return this.#started;
  }

  async write(frame: Uint8Array | Uint8ClampedArray | CudaDeviceFrame): Promise<void> {
    if (!this.#started) {
      this.#publisher.setStartTime(new Date());
      await this.start();
    } else {
      await this.#started;
    }
    return this.encoder.write(frame);
  }

  /**
   * Flushes the encoder, waits for every upload (retrying until the close
   * deadline), publishes the final playlists with EXT-X-ENDLIST and marks the
   * run ended. Segments that could not be uploaded are listed in the error,
   * with where their bytes were kept; the run is then marked failed.
   */
  close(): Promise<HlsOutputSummary> {
    const callSite = new Error();
    this.#closing ??= this.#close().catch((error: Error) => {
      throw withCallSiteStack(error, callSite);
    });
    return this.#closing;
  }

  async #close(): Promise<HlsOutputSummary> {
    await this.start().catch(() => undefined);
    let failure: Error | undefined;
    let summary: EncodeSummary | undefined;
    try {
      summary = await this.encoder.close();
    } catch (error) {
      failure = error as Error;
    }
    this.#publisher.setDeadline(Date.now() + this.#closeDeadlineMs);
    try {
      await this.#queue.close({ deadlineMs: this.#closeDeadlineMs });
    } catch (error) {
      failure ??= error as Error;
      if (!(error instanceof UploadIncompleteError)) this.#sideErrors.push((error as Error).message);
    }
    try {
      // ENDLIST only when every produced segment is listed.
      await this.#publisher.publish(!failure);
    } catch (error) {
      failure ??= new AbrcastError(`Cannot publish the final playlists: ${(error as Error).message}`, { cause: error });
    }
    if (!failure && this.#sideErrors.length > 0) {
      failure = new AbrcastError(`Publishing reported errors:\n  ${this.#sideErrors.join('\n  ')}`);
    }
    if (this.#registry && this.#runId) {
      await (failure ? this.#registry.markFailed(this.#runId, failure.message) : this.#registry.markEnded(this.#runId)).catch(
        (error: Error) => { failure ??= new AbrcastError(`Cannot record the end of run ${this.#runId}: ${error.message}`); },
      );
    }
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
    if (!this.#registry) return;
    const { width, height, fps, segmentDuration } = this.encoder.options;
    const run = await this.#registry.createRun({ id: this.#runId, width, height, fps, segmentDuration });
    this.#runId = run.id;
  }

  async #onUploaded(meta: SegmentMeta, cid: string, bytes: number): Promise<void> {
    (this.#segmentCids[meta.rendition] ??= {})[meta.index] = cid;
    this.emit('uploaded', { rendition: meta.rendition, index: meta.index, cid });
    if (this.#registry && this.#runId) {
      await this.#registry
        .recordSegment(this.#runId, { rendition: meta.rendition, index: meta.index, cid, duration: meta.duration, bytes })
        .catch((error: Error) => this.#report(`Cannot record segment ${meta.rendition}/${meta.index}: ${error.message}`));
    }
    await this.#publisher
      .segmentUploaded(meta.rendition, { index: meta.index, cid, duration: meta.duration, bytes })
      .catch((error: Error) => this.#report(`Cannot publish playlists: ${error.message}`));
  }

  async #onPublished(version: PublishedVersion): Promise<void> {
    if (this.#registry && this.#runId) {
      await this.#registry
        .publishPlaylists(this.#runId, version.masterCid, version.qualities, { sequence: version.sequence })
        .catch((error: Error) => this.#report(`Cannot record playlists of run ${this.#runId}: ${error.message}`));
    }
    this.emit('publish', version);
    if (this.#onPlaylistUpdate) {
      try {
        await this.#onPlaylistUpdate(version.masterCid, version.qualities);
      } catch (error) {
        this.#report(`onPlaylistUpdate threw: ${(error as Error).message}`);
      }
    }
  }

  #report(message: string): void {
    this.#sideErrors.push(message);
    this.emit('warning', message);
  }
}
