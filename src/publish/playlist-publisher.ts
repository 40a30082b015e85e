// Turns uploaded segments into published playlists. Segments arrive in any
// order; each rendition lists only its contiguous prefix, and a publish
// happens once per segment index: when index k is uploaded in every
// rendition, the changed media playlists go to the store, then the master.
// When publishing falls behind, queued publishes merge into one (the newest
// state wins); every version still only grows. Each playlist version is a
// store "version": older ones are released once nothing names them
// (releaseUpTo), so storage stays linear in the run's length.
import type { Rendition } from '../encoder/types.js';
import { commonListedCount, ContiguousSegments, type UploadedSegment } from '../hls/contiguous-segments.js';
import { serializeMasterPlaylist } from '../hls/master-playlist.js';
import { serializeMediaPlaylist, targetDurationFor } from '../hls/media-playlist.js';
import type { CidUrl } from '../hls/segment-url.js';
import type { MediaPlaylist, ResourceKey } from '../hls/types.js';
import type { ContentStore } from '../store/content-store.js';
import type { CompanionPlaylists, ListedSegment } from './companion-playlists.js';
import { eventMediaPlaylist, qualityEntry } from './playlist-entries.js';
import type { RetryOptions } from './backoff.js';
import { retryUntilDeadline } from './retry-until-deadline.js';
import type { VariantStreamRecords } from '../model/variant-stream-record.js';
import type { PublishedVersion } from './types.js';

const PLAYLIST_RETRY: Required<RetryOptions> = { initialDelayMs: 250, maxDelayMs: 5_000, factor: 2, jitter: 'full' };

/** What the publisher needs of a store; without the version methods every version is kept. */
export type PublisherStore = Pick<ContentStore, 'add'> & Partial<Pick<ContentStore, 'addVersion' | 'releaseVersion'>>;

export interface PlaylistPublisherOptions {
  store: PublisherStore;
  renditions: readonly Rendition[];
  fps: number;
  segmentDuration: number;
  segmentUrl: CidUrl;
  playlistUrl: CidUrl;
  /** An encrypted run's key URI of key `index`. */
  keyUri?: (index: number) => string;
  /** Published after the playlists of a version are stored, in order. */
  onPublished: (version: PublishedVersion) => Promise<void> | void;
  onRetry?: (what: string, attempt: number, error: unknown) => void;
  /** Subtitles, I-frame and image playlists, date ranges: made and stored with each publish. */
  companions?: CompanionPlaylists;
}

interface RenditionState {
  rendition: Rendition;
  segments: ContiguousSegments<ListedSegment>;
  codecs: string;
  /** EXT-X-MAP URI of the fMP4 init segment, once uploaded, and its key in an encrypted run. */
  mapUri?: string;
  mapKey?: ResourceKey;
  /** Segments listed in the last published media playlist, and its CID. */
  publishedCount: number;
  publishedCid?: string;
  publishedText?: string;
  /** The companions' date ranges the published playlist carries (their version). */
  publishedDateRanges?: number;
}

/** One stored playlist version and the publish that first used it. */
interface StoredVersion {
  cid: string;
  sequence: number;
}

export class PlaylistPublisher {
  readonly targetDuration: number;
  readonly #options: PlaylistPublisherOptions;
  readonly #states: Map<string, RenditionState>;
  #chain: Promise<unknown> = Promise.resolve();
  /** A publish waiting for the chain: later requests join it instead of queueing another. */
  #queued?: Promise<void>;
  #finalRequested = false;
  /** publishFirst() asked for a version before any segment (LL-HLS fast start). */
  #firstRequested = false;
  /** Stored versions not yet released, per playlist ('' is the master), oldest first. */
  readonly #versions = new Map<string, StoredVersion[]>();
  #publishedIndexCount = 0;
  #sequence = 0;
  #latest?: PublishedVersion;
  #startTime?: Date;
  #deadline = Number.POSITIVE_INFINITY;

  constructor(options: PlaylistPublisherOptions) {
    this.#options = options;
    this.targetDuration = targetDurationFor(options.segmentDuration);
    this.#states = new Map(
      options.renditions.map((rendition) => [
        rendition.name,
        { rendition, segments: new ContiguousSegments<ListedSegment>(), codecs: '', publishedCount: 0 },
      ]),
    );
  }

  get latest(): PublishedVersion | undefined {
    return this.#latest;
  }

  /** Wall-clock time of frame 0, written as EXT-X-PROGRAM-DATE-TIME of the first segment. */
  setStartTime(time: Date): void {
    this.#startTime ??= time;
  }

  /** From now on, store retries give up at this time (ms since epoch). */
  setDeadline(deadline: number): void {
    this.#deadline = deadline;
  }

  /** The codec string of a rendition, from its first segment's SPS. */
  setCodecs(rendition: string, codecs: string): void {
    const state = this.#state(rendition);
    if (!state.codecs && codecs) state.codecs = codecs;
  }

  /** The rendition's fMP4 init segment, uploaded: every later media playlist names it in EXT-X-MAP (after its EXT-X-KEY when encrypted). */
  setInitSegment(rendition: string, cid: string, key?: ResourceKey): void {
    const state = this.#state(rendition);
    if (state.mapUri !== undefined) return;
    state.mapUri = this.#options.segmentUrl(cid);
    state.mapKey = key;
  }

  /** Records an uploaded segment (with its I-frames, for the I-frame playlists); publishes when it completes an index in every rendition. */
  segmentUploaded(rendition: string, segment: ListedSegment): Promise<void> {
    this.#state(rendition).segments.add(segment);
    if (commonListedCount(this.#renditionSegments()) > this.#publishedIndexCount) return this.publish(false);
    return this.#chain.then(() => undefined);
  }

  /**
   * LL-HLS fast start: once every rendition's codecs are known (from its first part),
   * publishes a first version whose media playlists list no segment yet, so the master
   * answers while the first segment is still being made (a server lists the parts).
   * Does nothing after that, or once any version is published.
   */
  publishFirst(): Promise<void> {
    const states = [...this.#states.values()];
    if (this.#firstRequested || this.#sequence > 0 || states.some((state) => !state.codecs)) return this.#chain.then(() => undefined);
    this.#firstRequested = true;
    return this.publish(false);
  }

  /**
   * Publishes what is listed when the chain gets to it; `final` adds EXT-X-ENDLIST.
   * Requests made while one waits are merged into it.
   */
  publish(final: boolean): Promise<void> {
    if (final) this.#finalRequested = true;
    if (!this.#queued) {
      const run = this.#chain.then(() => {
        this.#queued = undefined;
        return this.#publishNow(this.#finalRequested);
      });
      this.#queued = run;
      this.#chain = run.catch(() => undefined);
    }
    return this.#queued;
  }

  /**
   * Releases every stored playlist version older than the ones publish `sequence`
   * used: call once nothing names them any more (the registry recorded `sequence`).
   */
  async releaseUpTo(sequence: number): Promise<void> {
    const release = this.#options.store.releaseVersion?.bind(this.#options.store);
    if (!release) return;
    const stale: StoredVersion[] = [];
    for (const versions of this.#versions.values()) {
      let kept = -1;
      for (let i = 0; i < versions.length && versions[i].sequence <= sequence; i += 1) kept = i;
      if (kept > 0) stale.push(...versions.splice(0, kept));
    }
    // A CID still in use elsewhere (identical playlists) is not released: Kubo's pins are not counted.
    const live = new Set([...this.#versions.values()].flatMap((versions) => versions.map((version) => version.cid)));
    for (const { cid } of stale) if (!live.has(cid)) await release(cid);
  }

  #state(rendition: string): RenditionState {
    const state = this.#states.get(rendition);
    if (!state) throw new Error(`Unknown rendition ${rendition}`);
    return state;
  }

  *#renditionSegments(): Iterable<ContiguousSegments> {
    for (const state of this.#states.values()) yield state.segments;
  }

  async #publishNow(final: boolean): Promise<void> {
    const common = commonListedCount(this.#renditionSegments());
    const changed = [...this.#states.values()].some((s) => s.segments.listedCount !== s.publishedCount);
    // The fast-start version: every rendition, listed or not, before any other version.
    const first = this.#firstRequested && this.#sequence === 0 && !final;
    if (!final && !first && (common <= this.#publishedIndexCount || !changed)) return;
    if (!first && [...this.#states.values()].some((s) => s.segments.listedCount === 0)) {
      if (!final) return;
      // A final publish with a rendition that never listed a segment has nothing to play.
      if ([...this.#states.values()].every((s) => s.segments.listedCount === 0)) return;
    }

    const media: PublishedVersion['media'] = {};
    const qualities: VariantStreamRecords = {};
    const variants = [];
    for (const state of this.#states.values()) {
      const listed = state.segments.listed();
      if (listed.length === 0 && !first) continue;
      const dateRanges = this.#options.companions?.dateRangeVersion;
      if (final || listed.length !== state.publishedCount || !state.publishedCid || dateRanges !== state.publishedDateRanges) {
        const text = serializeMediaPlaylist(this.#mediaPlaylist(listed, final, state));
        state.publishedCid = await this.#addVersion(state.rendition.name, text, `${state.rendition.name} playlist`);
        state.publishedText = text;
        state.publishedCount = listed.length;
        state.publishedDateRanges = dateRanges;
      }
      const { rendition } = state;
      const cid = state.publishedCid!;
      media[rendition.name] = { cid, text: state.publishedText!, segmentCount: state.publishedCount };
      const entry = qualityEntry({
        rendition, listed, targetDuration: this.targetDuration, codecs: state.codecs, fps: this.#options.fps,
        cid, uri: this.#options.playlistUrl(cid), final,
      });
      qualities[rendition.name] = entry.quality;
      variants.push(entry.variant);
    }
    const companions = await this.#options.companions?.publish({
      final, targetDuration: this.targetDuration, startedAt: (this.#startTime ??= new Date()),
      renditions: [...this.#states.values()].map((state) => ({
        rendition: state.rendition, listed: state.segments.listed(), codecs: state.codecs, ...(state.mapUri !== undefined ? { mapUri: state.mapUri } : {}),
      })),
      addVersion: (slot, text, what) => this.#addVersion(slot, text, what),
    });
    const masterText = serializeMasterPlaylist({
      independentSegments: true,
      media: companions?.media ?? [],
      variants: companions?.subtitlesGroup ? variants.map((variant) => ({ ...variant, subtitles: companions.subtitlesGroup })) : variants,
      iframeStreams: companions?.iframeStreams ?? [],
      imageStreams: companions?.imageStreams ?? [],
    });
    const masterCid = await this.#addVersion('', masterText, 'master playlist');
    this.#publishedIndexCount = Math.max(this.#publishedIndexCount, common);
    this.#sequence += 1;
    for (const versions of this.#versions.values()) {
      const newest = versions[versions.length - 1];
      if (newest.sequence === 0) newest.sequence = this.#sequence;
    }
    const version: PublishedVersion = {
      sequence: this.#sequence, final, masterCid, masterText, qualities, media, ...(companions ? { tracks: companions.tracks } : {}),
    };
    this.#latest = version;
    await this.#options.onPublished(version);
  }

  #mediaPlaylist(listed: readonly UploadedSegment[], final: boolean, { mapUri, mapKey }: RenditionState): MediaPlaylist {
    const playlist = eventMediaPlaylist({
      ...(mapUri !== undefined ? { mapUri, ...(mapKey ? { mapKey } : {}) } : {}),
      ...(this.#options.keyUri ? { keyUri: this.#options.keyUri } : {}),
      targetDuration: this.targetDuration, segments: listed, segmentUrl: this.#options.segmentUrl,
      endList: final, startedAt: (this.#startTime ??= new Date()),
    });
    // Date ranges need a PROGRAM-DATE-TIME to stand on: a playlist with no segment yet carries none.
    const dateRanges = this.#options.companions?.dateRanges ?? [];
    return listed.length > 0 && dateRanges.length > 0 ? { ...playlist, dateRanges } : playlist;
  }

  /** Stores one playlist version; its publish sequence is set once the master of that publish is stored. */
  async #addVersion(slot: string, text: string, what: string): Promise<string> {
    const { store } = this.#options;
    const add = store.addVersion ? store.addVersion.bind(store) : store.add.bind(store);
    const bytes = new TextEncoder().encode(text);
    // A brief store outage delays a publish instead of losing it.
    const cid = await retryUntilDeadline(() => add(bytes), {
      backoff: PLAYLIST_RETRY,
      deadline: () => this.#deadline,
      onRetry: (attempt, error) => this.#options.onRetry?.(what, attempt, error),
    });
    const versions = this.#versions.get(slot) ?? [];
    this.#versions.set(slot, versions);
    versions.push({ cid, sequence: 0 });
    return cid;
  }
}
