// The renderer's one object: frames in; segments uploaded to IPFS as they
// finish; live playlists published; optionally the run recorded for a server.
// The Node counterpart of the Python original's MultiResolutionHLSOutput.
//
// A coordinator over parts that each do one thing, wired here:
//   segment → JournalWriter (durable) → SegmentUploadLane (uploaded) → PlaylistPublisher
//   init, part → PartLane (stored, recorded: the live edge)
//   segment, part, thumbnail, addCaption → CompanionLane (WebVTT files, thumbnails) → CompanionPlaylists,
//   which the PlaylistPublisher asks at each publish (subtitle, I-frame, image playlists; addMetadata's date ranges)
//   each uploaded segment and published version → RegistryLane; each version → PlaylistUpdateLane
// Every media byte goes to the store through one ResourceStore (which encrypts
// it in an encrypted run: ResourceCipher, keys from RunKeys).
//
// A 24/7 run: with windowSeconds the publisher slides and archives (O(window)
// memory and publish cost), with channel the run continues the channel's
// previous one (channel-start.ts), and while it runs a heartbeat tells the
// registry (and so servers, resume and the sweeper) that its producer is alive.
// Parts are released once the live edge is well past their segment.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';

import { id3Tag, type Id3Frame } from '../encoder/id3-tag.js';
import { LadderEncoder } from '../encoder/ladder-encoder.js';
import type { CudaDeviceFrame, EncodeSummary, IframeRange, Rendition, SegmentEvent } from '../encoder/types.js';
import { AbrcastError, errorMessage, invalidParameterError, withCallSiteStack } from '../errors.js';
import { targetDurationFor } from '../hls/media-playlist.js';
import type { DateRange, DateRangeValue } from '../hls/types.js';
import { handoverGraceMs } from '../model/channel-handover.js';
import { heartbeatIntervalMs } from '../model/heartbeat.js';
import type { CidUrl } from '../hls/segment-url.js';
import type { JournalSegment } from '../journal/segment-journal.js';
import type { RunRecorder } from '../model/run-recorder.js';
import type { ContentStore } from '../store/content-store.js';
import { HeliaStore } from '../store/helia-store.js';
import { CaptionCues, type CaptionInput } from './caption-cues.js';
import { startOnChannel, type ChannelRegistry } from './channel-start.js';
import { CompanionLane } from './companion-lane.js';
import { CompanionPlaylists, type SubtitleTrack } from './companion-playlists.js';
import { outputSettings, runUrls, type EncryptionSettings, type MultiResolutionHlsOutputOptions } from './hls-output-options.js';
import { JournalWriter } from './journal-writer.js';
import { PART_RELEASE_TARGETS, PartLane } from './part-lane.js';
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

export { DEFAULT_CHANNEL_WINDOW_SECONDS, DEFAULT_JOURNAL_LIMIT_BYTES, type CaptionTrackOptions, type MultiResolutionHlsOutputOptions } from './hls-output-options.js';
export type { CaptionInput } from './caption-cues.js';

/**
 * What addMetadata() takes: an EXT-X-DATERANGE (RFC 8216bis 4.4.5.1) whose times are on the
 * stream's clock, plus (by default) the same item in band as timed ID3 / emsg.
 */
export interface MetadataInput {
  /** ID: unique in the run; adding an ID again updates that range (it may add attributes, not change them). */
  id: string;
  /** Seconds on the stream's clock (a segment's startPts) where the range starts. */
  start: number;
  /** Seconds (DURATION); END-DATE is not written, it follows from it. */
  duration?: number;
  plannedDuration?: number;
  /** CLASS: a reverse-DNS name saying what the attributes mean. */
  class?: string;
  cue?: ('PRE' | 'POST' | 'ONCE')[];
  endOnNext?: boolean;
  /** Client attributes, each named X-<A-Z0-9->: a string, a non-negative number, or bytes (written as hex). */
  attributes?: Record<string, DateRangeValue>;
  /** SCTE-35 splice_info_section bytes: SCTE35-CMD, SCTE35-OUT, SCTE35-IN. */
  scte35Cmd?: Uint8Array;
  scte35Out?: Uint8Array;
  scte35In?: Uint8Array;
  /** Also in band (timed ID3 in TS, emsg in fMP4): default true when the run has timedMetadata. */
  inBand?: boolean;
}

export interface HlsOutputSummary extends EncodeSummary {
  masterCid?: string;
  playlistUrl?: string;
  runId?: string;
  segmentCids: Record<string, Record<number, string>>;
  uploads: UploadQueueStats;
  /** LL-HLS parts stored, and released (all of them by the end of a complete run). */
  parts: { stored: number; released: number };
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
  readonly #segmentUrl: CidUrl;
  readonly #urlTemplates: { segmentUrl?: string; playlistUrl?: string };
  readonly #settings: ReturnType<typeof outputSettings>;
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
  readonly #companions: CompanionPlaylists;
  readonly #companionLane: CompanionLane;
  readonly #cues: CaptionCues;
  /** I-frames of segments accepted but not yet uploaded, by `<rendition>/<index>`. */
  readonly #iframes = new Map<string, IframeRange[]>();
  /** Errors that leave the run incomplete (a segment not journaled, a registry write lost). */
  readonly #failures: string[] = [];
  /** Segments in encoder order: each queued (and its event emitted) once durable. */
  #accepting: Promise<void> = Promise.resolve();
  #started?: Promise<void>;
  #startedAt?: Date;
  #runId?: string;
  /** MSN of segment 0: registry indexes are MSNs (a channel's run continues the previous one's numbers). */
  #msnBase = 0;
  /** Ending the channel's previous run, once the hand-over has reached every server. */
  #finalizingPrevious?: Promise<void>;
  #heartbeat?: NodeJS.Timeout;
  #heartbeatWarned = false;
  #closing?: Promise<HlsOutputSummary>;
  readonly #iframePlaylists: boolean;

  constructor(options: MultiResolutionHlsOutputOptions) {
    super();
    const settings = outputSettings(options);
    this.#settings = settings;
    this.#closeDeadlineMs = settings.closeDeadlineMs;
    this.#partDuration = settings.partDuration;
    this.#ownsStore = options.store === undefined;
    this.store = options.store ?? new HeliaStore();
    const urls = runUrls(this.store.kind, options);
    this.#playlistUrl = urls.playlistUrl;
    this.#segmentUrl = urls.segmentUrl;
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
    this.#companions = new CompanionPlaylists({
      subtitles: settings.subtitles, segmentUrl: urls.segmentUrl, subtitleUrl: urls.fileUrl('subtitles.vtt'), thumbnailUrl: urls.fileUrl('thumbnail.jpg'), playlistUrl: urls.playlistUrl,
      ...(settings.partDuration !== undefined ? { partTarget: settings.partDuration } : {}),
    });
    this.#cues = new CaptionCues(settings.subtitles.map((track) => track.language), settings.partDuration !== undefined ? ['segments', 'parts'] : ['segments']);
    this.#iframePlaylists = settings.iframePlaylists;
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
      ...(settings.windowSeconds !== undefined ? { windowSeconds: settings.windowSeconds } : {}),
      ...(options.archiveSeconds !== undefined ? { archiveSeconds: options.archiveSeconds } : {}),
      onArchived: (chunk) => this.#records.recordArchive(chunk),
      companions: this.#companions,
    });
    this.#companionLane = new CompanionLane({
      resources, companions: this.#companions, cues: this.#cues, reference: this.encoder.renditions[0]!.name,
      registry: this.#registry, runId, onRetry, onWarning,
    });
    this.#parts = new PartLane({
      resources, publisher: this.#publisher, registry: this.#registry, runId, onWarning, onRetry,
      msnBase: () => this.#msnBase,
      targetDuration: this.#publisher.targetDuration,
      segmentStored: (rendition, index) => this.#segments.cid(rendition, index) !== undefined,
      segmentCid: (rendition, index) => this.#segments.cid(rendition, index),
    });
    this.#segments = new SegmentUploadLane({
      resources,
      concurrency: options.uploadConcurrency,
      retry: options.uploadRetry,
      onUploaded: (meta, cid) => this.#onUploaded(meta, cid),
      onRetry,
    });

    this.encoder.on('segment', (segment) => {
      this.#publisher.setCodecs(segment.rendition, segment.codecs);
      if (this.#iframePlaylists) this.#iframes.set(`${segment.rendition}/${segment.index}`, segment.iframes);
      this.#companionLane.segment(segment);
      this.#accepting = this.#accepting.then(() => this.#accept(segment));
    });
    this.encoder.on('init', (init) => this.#parts.init(init));
    this.encoder.on('part', (part) => {
      this.#parts.part(part);
      this.#companionLane.part(part);
    });
    this.encoder.on('thumbnail', (thumbnail) => this.#companionLane.thumbnail(thumbnail));
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

  /** LL-HLS parts stored so far, and how many were released (linear storage: a part's bytes are in its segment again). */
  get parts(): { stored: number; released: number } {
    return this.#parts.counts;
  }

  /**
   * Wall-clock time of frame 0, the origin of EXT-X-PROGRAM-DATE-TIME (and of a DASH MPD's
   * availabilityStartTime): frame i is dated startedAt + i/fps. Set by start(); a live source
   * paces its frames on it. Undefined before start().
   */
  get startedAt(): Date | undefined {
    return this.#startedAt;
  }

  /** Creates the run (registry, journal). write() does this on first use. File input: then starts decoding. */
  start(): Promise<void> {
    this.#started ??= (async () => {
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

  /** The run's subtitle renditions (the `captions` option; none in a private run): addCaption() needs one. */
  get subtitleTracks(): readonly SubtitleTrack[] {
    return this.#companions.subtitleTracks;
  }

  /**
   * A caption on the stream's clock (`start`, `end` in seconds, as a segment's startPts): a cue in
   * the WebVTT subtitle track of its language (the `captions` option), in every segment (and, in
   * LL-HLS runs, every part) it overlaps. Add it as its frames are written, or before: a cue added
   * after the file of its time was made goes into the next one.
   */
  addCaption(caption: CaptionInput): void {
    if (this.subtitleTracks.length === 0) throw new AbrcastError('addCaption() needs the option captions (e.g. captions: true)');
    this.#cues.add(caption);
  }

  /**
   * Timed metadata: an EXT-X-DATERANGE in every media playlist from the next publish on, and
   * (inBand, by default) an ID3 tag at `start` in every rendition's segments: a timed ID3 PES in
   * MPEG-TS, an emsg box in fMP4. The tag holds a TXXX frame per attribute (ID, CLASS, and each
   * X- attribute; bytes as hex) and a PRIV frame per SCTE-35 command. Needs start() first (the
   * dates count from the run's first frame).
   */
  addMetadata(item: MetadataInput): void {
    if (typeof item !== 'object' || item === null) throw invalidParameterError('metadata', 'object with id and start', item);
    if (!this.#startedAt) throw new AbrcastError('addMetadata() needs the run started first (await out.start() or a write())');
    const { start } = item;
    if (typeof start !== 'number' || !Number.isFinite(start) || start < 0) throw invalidParameterError('metadata.start', 'seconds, 0 or more', start);
    const range: DateRange = {
      id: item.id,
      startDate: new Date(this.#startedAt.getTime() + Math.round(start * 1000)),
      ...(item.class !== undefined ? { class: item.class } : {}),
      ...(item.duration !== undefined ? { duration: item.duration } : {}),
      ...(item.plannedDuration !== undefined ? { plannedDuration: item.plannedDuration } : {}),
      ...(item.cue !== undefined ? { cue: item.cue } : {}),
      ...(item.endOnNext !== undefined ? { endOnNext: item.endOnNext } : {}),
      ...(item.attributes !== undefined ? { clientAttributes: item.attributes } : {}),
      ...(item.scte35Cmd !== undefined ? { scte35Cmd: item.scte35Cmd } : {}),
      ...(item.scte35Out !== undefined ? { scte35Out: item.scte35Out } : {}),
      ...(item.scte35In !== undefined ? { scte35In: item.scte35In } : {}),
    };
    this.#companions.setDateRange(range);
    const inBand = item.inBand ?? this.encoder.options.timedMetadata;
    if (inBand) this.encoder.writeMetadata({ time: start, id3: metadataTag(range), ...(item.duration !== undefined ? { duration: item.duration } : {}) });
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
    // Subtitles and thumbnails of the last segments, in the uploads' window, so the final playlists list them.
    const companions = this.#companionLane.drain(Date.now() + this.#closeDeadlineMs);
    const uploads = await this.#segments.close(this.#closeDeadlineMs);
    if (uploads.error instanceof UploadIncompleteError) {
      this.emit('warning', `${uploads.missing.length} upload(s) did not finish; ending the run on the segments listed so far`);
    }
    await companions;
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
    // No part is listed once the run ended: every one left is released, after the final version's record.
    if (this.#partDuration !== undefined) {
      for (const { name } of this.encoder.renditions) {
        this.#records.after(`release the parts of ${name}`, () =>
          this.#parts.releaseBefore(name, Number.POSITIVE_INFINITY).catch((error: unknown) =>
            this.emit('warning', `Cannot release parts of ${name}: ${errorMessage(error)}`),
          ),
        );
      }
    }
    await this.#records.drain(deadline);
    await this.#finalizingPrevious;
    if (!failure && this.#failures.length > 0) {
      failure = new AbrcastError(`Run ${this.#runId} is incomplete:\n  ${this.#failures.join('\n  ')}`);
    }
    if (failure && this.#journal.dir) {
      failure.message += `\nEvery finished segment is kept in ${this.#journal.dir}; \`abrcast resume ${this.#runId}\` uploads and lists them.`;
    }
    const missing = uploads.missing.map(({ rendition, index }) => ({ rendition, index: this.#msnBase + index }));
    const recorded = await this.#records.recordEnd(failure?.message, missing);
    this.#stopHeartbeat();
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
      parts: this.#parts.counts,
    };
  }

  async #createRun(): Promise<void> {
    const { width, height, fps, segmentDuration, renditions } = this.encoder.options;
    const settings = this.#settings;
    const encryption = this.#encryption;
    const newRun = {
      id: this.#runId, width, height, fps, segmentDuration, ...this.#urlTemplates,
      ...(settings.windowSeconds !== undefined ? { windowSeconds: settings.windowSeconds } : {}),
      ...(encryption ? { encryption: 'aes-128' as const, keyUrl: encryption.keyUrlTemplate, ...(encryption.keyRotation ? { keyRotation: encryption.keyRotation } : {}) } : {}),
    };
    let finalizePrevious: (() => Promise<void>) | undefined;
    if (this.#registry && settings.channel !== undefined) {
      const registry = this.#registry as unknown as ChannelRegistry;
      if (typeof registry.getChannel !== 'function' || typeof registry.channelTail !== 'function') {
        throw new AbrcastError(`channel ${JSON.stringify(settings.channel)} needs a registry with channels (RunRegistry)`);
      }
      const start = await startOnChannel({
        registry, store: this.store, channel: settings.channel, run: newRun, journalDir: settings.journalDir,
        renditions, ...(settings.partDuration !== undefined ? { partTarget: settings.partDuration } : {}),
        container: settings.encoder.container ?? 'ts',
        windowSegments: Math.ceil(settings.windowSeconds! / segmentDuration - 1e-9),
        segmentUrl: this.#segmentUrl,
        ...(encryption ? { keySecret: encryption.secrets } : {}),
      });
      this.#runId = start.run.id;
      this.#setStartedAt(start.run.startedAt);
      this.#msnBase = start.run.msnBase;
      this.#publisher.continueFrom(start.run.msnBase, start.continues);
      finalizePrevious = start.finalizePrevious;
    } else if (this.#registry) {
      const run = await this.#registry.createRun({ ...newRun, startedAt: this.#setStartedAt(new Date()) });
      this.#runId = run.id;
    }
    const startedAt = this.#startedAt ?? this.#setStartedAt(new Date());
    if (this.#registry && this.#runId) {
      // The first key before any resource: a registry that cannot keep it fails start(), not a segment.
      await this.#cipher?.keyOf({ kind: 'init', rendition: renditions[0].name });
      // Set before any part: a server lists parts (LL-HLS) for runs with a part target.
      if (this.#partDuration !== undefined && this.#registry.setPartTarget) await this.#registry.setPartTarget(this.#runId, this.#partDuration);
      this.#parts.runCreated();
      this.#startHeartbeat(this.#registry, this.#runId, segmentDuration);
    }
    this.#runId ??= `r${randomBytes(8).toString('hex')}`;
    await this.#journal.create({
      runId: this.#runId, startedAt: startedAt.toISOString(), width, height, fps, segmentDuration, renditions: [...renditions], ...this.#urlTemplates,
      ...(this.#msnBase > 0 ? { msnBase: this.#msnBase } : {}),
    });
    if (finalizePrevious) {
      // The hand-over: the previous run's tail, published at once; the channel serves this run once that version
      // is recorded (the lane's order). Its final (ENDLIST) playlists come only once no server serves, or holds a
      // request on, the previous run (handoverGraceMs): a player handed that ENDLIST would stop for good.
      await this.#publisher.publishFirst();
      const finalize = finalizePrevious;
      this.#records.after('hand the channel over', async () => {
        this.#finalizingPrevious = delay(handoverGraceMs(segmentDuration))
          .then(finalize)
          .catch((error: unknown) => void this.emit('warning', `Cannot finalize the channel's previous run: ${errorMessage(error)}`));
      });
    }
  }

  /** Frame 0's date (startedAt): stamped as the run is created, after a channel's hand-over. */
  #setStartedAt(startedAt: Date): Date {
    this.#startedAt = startedAt;
    this.#publisher.setStartTime(startedAt);
    return startedAt;
  }

  /** A cheap periodic registry write: servers show the run stalled, and resume and the sweeper leave it alone, by its age. */
  #startHeartbeat(registry: RunRecorder, runId: string, segmentDuration: number): void {
    if (!registry.heartbeat) return;
    const beat = () => {
      registry.heartbeat!(runId).then(
        (live) => {
          if (!live && !this.#heartbeatWarned) {
            this.#heartbeatWarned = true;
            this.emit('warning', `Run ${runId} is no longer live in the registry (a sweeper or resume ended it); its playlists stay as they were`);
          }
        },
        (error: unknown) => {
          // Missed beats only make the run look stalled for a while; the next one may pass.
          if (!this.#heartbeatWarned) this.emit('warning', `Cannot send a heartbeat for run ${runId}: ${errorMessage(error)}`);
          this.#heartbeatWarned = true;
        },
      );
    };
    beat();
    this.#heartbeat = setInterval(beat, heartbeatIntervalMs(segmentDuration));
    this.#heartbeat.unref();
  }

  #stopHeartbeat(): void {
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
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
    this.#records.recordSegment({ rendition, index: this.#msnBase + index, cid, duration, bytes, ...(key ? { key } : {}) });
    const iframeKey = `${rendition}/${index}`;
    const iframes = this.#iframes.get(iframeKey);
    this.#iframes.delete(iframeKey);
    await this.#publisher
      .segmentUploaded(rendition, { index, cid, duration, bytes, ...(key ? { key } : {}), ...(iframes ? { iframes } : {}) })
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
    this.#releaseParts(version);
    this.#forgetOutsideWindow(version);
    this.#updates.published(version);
  }

  /**
   * Parts of segments this version lists, PART_RELEASE_TARGETS behind its end, are released
   * once the registry named the version (their segments are stored, recorded and listed).
   */
  #releaseParts(version: PublishedVersion): void {
    if (this.#partDuration === undefined || version.final) return;
    const segmentDuration = this.#settings.segmentDuration;
    const lag = Math.ceil((PART_RELEASE_TARGETS * targetDurationFor(segmentDuration)) / segmentDuration);
    for (const [rendition, media] of Object.entries(version.media)) {
      const below = media.segmentCount - lag;
      if (below <= 0) continue;
      this.#records.after(`release the parts of ${rendition} below segment ${below}`, () =>
        this.#parts.releaseBefore(rendition, below).catch((error: unknown) =>
          this.emit('warning', `Cannot release parts of ${rendition}: ${errorMessage(error)}`),
        ),
      );
    }
  }

  /** A windowed run remembers the CIDs of its window's segments only (the registry and the archive hold the rest). */
  #forgetOutsideWindow(version: PublishedVersion): void {
    const windowSeconds = this.#settings.windowSeconds;
    if (windowSeconds === undefined || version.final) return;
    const keep = 2 * Math.ceil(windowSeconds / this.#settings.segmentDuration);
    for (const [rendition, media] of Object.entries(version.media)) {
      if (media.segmentCount > keep) this.#segments.forgetBelow(rendition, media.segmentCount - keep);
    }
  }

  #fail(message: string): void {
    this.#failures.push(message);
    this.emit('warning', message);
  }
}

/** The in-band form of a date range: an ID3 tag with a TXXX frame per attribute, a PRIV frame per SCTE-35 command. */
function metadataTag(range: DateRange): Buffer {
  const frames: Id3Frame[] = [{ id: 'TXXX', description: 'ID', value: range.id }];
  if (range.class !== undefined) frames.push({ id: 'TXXX', description: 'CLASS', value: range.class });
  for (const [name, value] of Object.entries(range.clientAttributes ?? {})) {
    const text = value instanceof Uint8Array ? `0x${Buffer.from(value).toString('hex').toUpperCase()}` : String(value);
    frames.push({ id: 'TXXX', description: name, value: text });
  }
  // SCTE 35 in ID3 PRIV frames, owned by the SCTE-35 binary scheme's URN (as in DASH's emsg scheme).
  for (const [name, bytes] of [['SCTE35-CMD', range.scte35Cmd], ['SCTE35-OUT', range.scte35Out], ['SCTE35-IN', range.scte35In]] as const) {
    if (bytes) frames.push({ id: 'PRIV', owner: `urn:scte:scte35:2013:bin#${name}`, data: bytes });
  }
  return id3Tag(frames);
}
