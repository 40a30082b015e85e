// Turns uploaded segments into published playlists. Segments arrive in any
// order; each rendition lists only its contiguous prefix, and a publish
// happens once per segment index: when index k is uploaded in every
// rendition, the changed media playlists go to the store, then the master.
// When publishing falls behind, queued publishes merge into one (the newest
// state wins); every version still only grows. Each playlist version is a
// store "version": older ones are released once nothing names them
// (releaseUpTo), so storage stays linear in the run's length.
//
// With a sliding window (windowSeconds) a live media playlist lists only its
// newest segments (EXT-X-MEDIA-SEQUENCE advances, no EXT-X-PLAYLIST-TYPE), and
// what slides out is published as immutable archive playlists, one per
// archiveSeconds of media aligned on Media Sequence Numbers; the publisher then
// forgets it, so memory and the cost of a publish are O(window), not O(run). The
// final playlists list every segment of the run (VOD), read back from the archive.
//
// A channel's run (continues) numbers its segments after the channel's previous
// run (mediaSequenceBase), lists that run's newest segments first (the tail its
// viewers saw) and opens its own with EXT-X-DISCONTINUITY.
import type { Rendition } from '../encoder/types.js';
import { AbrcastError, invalidParameterError, isInteger, isPositiveFinite } from '../errors.js';
import { BandwidthMeter, peakBandwidth, averageBandwidth } from '../hls/bandwidth.js';
import { commonListedCount, ContiguousSegments, type UploadedSegment } from '../hls/contiguous-segments.js';
import { serializeMasterPlaylist } from '../hls/master-playlist.js';
import { MIN_WINDOW_TARGETS, serializeMediaPlaylist, targetDurationFor, totalDuration } from '../hls/media-playlist.js';
import { parseMediaPlaylist } from '../hls/parse-media-playlist.js';
import type { CidUrl } from '../hls/segment-url.js';
import type { MediaPlaylist, MediaSegment, ResourceKey, SegmentKey, VariantStream } from '../hls/types.js';
import type { ContentStore } from '../store/content-store.js';
import type { CompanionPlaylists, ListedSegment } from './companion-playlists.js';
import { qualityEntry, segmentKey, timelineMediaPlaylist, type TimelineSegment } from './playlist-entries.js';
import type { RetryOptions } from './backoff.js';
import { retryUntilDeadline } from './retry-until-deadline.js';
import type { VariantStreamRecords } from '../model/variant-stream-record.js';
import type { ArchivedChunk, PublishedVersion } from './types.js';

const PLAYLIST_RETRY: Required<RetryOptions> = { initialDelayMs: 250, maxDelayMs: 5_000, factor: 2, jitter: 'full' };

/** Default archiveSeconds: one archive playlist per hour of media. */
export const DEFAULT_ARCHIVE_SECONDS = 3600;


/** What the publisher needs of a store; without the version methods every version is kept. cat reads the archive back for a windowed run's final playlists. */
export type PublisherStore = Pick<ContentStore, 'add'> & Partial<Pick<ContentStore, 'addVersion' | 'releaseVersion' | 'cat'>>;

/**
 * A segment of the channel's previous run(s), as its viewers saw it listed: a timeline segment
 * (a private run's with its keys under that run's key URIs, which a channel token opens; an MSN
 * the previous run never finished as a gap), dated by its first sample's wall-clock time.
 */
export interface ContinuedSegment extends Omit<TimelineSegment, 'startMs'> {
  startedAt: Date;
}

/** How a channel's run continues the previous one. */
export interface ChannelContinuation {
  /** Discontinuity sequence number of this run's first segment, which opens with EXT-X-DISCONTINUITY. */
  discontinuitySequence: number;
  /** Per rendition, the newest segments before this run, ending at MSN mediaSequenceBase - 1 (may be empty). */
  tail: Record<string, readonly ContinuedSegment[]>;
  /** Per rendition, the previous run's codecs: the first version's master names them before this run's own are known. */
  codecs: Record<string, string>;
}

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
  /** Live media playlists list only about this many seconds of the newest segments (at least 3 target durations). */
  windowSeconds?: number;
  /** Seconds of media per archive playlist (windowed runs; default one hour). */
  archiveSeconds?: number;
  /** After each archive chunk is stored (windowed runs), on the publish chain. */
  onArchived?: (chunk: ArchivedChunk) => Promise<void> | void;
  /** Media Sequence Number of segment index 0 (default 0; a channel's run continues the previous run's numbers). */
  mediaSequenceBase?: number;
  /** A channel's run after the first: the tail it lists before its own segments. */
  continues?: ChannelContinuation;
  /**
   * Subtitles, I-frame and image playlists, date ranges: made and stored with each publish. A windowed
   * run's companions get no segments (its date ranges only; outputSettings refuses the rest).
   */
  companions?: CompanionPlaylists;
}

interface Entry extends TimelineSegment {
  /** This run's segment (not the previous run's tail): it is archived; bytes known. */
  own: boolean;
  bytes: number;
  cid?: string;
  /** An own segment as it was listed (its index in the run, I-frames): what the companions of an unwindowed run read. */
  listed?: ListedSegment;
}

interface RenditionState {
  rendition: Rendition;
  /** Uploads in any order; the listed prefix is taken into `timeline` at each publish. */
  arrivals: ContiguousSegments<ListedSegment>;
  codecs: string;
  /** codecs came from the previous run (continues): the first own segment replaces them. */
  codecsInherited: boolean;
  /** EXT-X-MAP URI of the fMP4 init segment, once uploaded, and its key in an encrypted run. */
  mapUri?: string;
  mapKey?: ResourceKey;
  /** Listed segments still held, oldest first: the window and what is not archived yet. */
  timeline: Entry[];
  /** This run's segments listed so far (taken from arrivals). */
  ownListed: number;
  /** Seconds of this run's listed segments: the next one's start. */
  ownSeconds: number;
  meter: BandwidthMeter;
  /** Own segments listed in the last published media playlist, and its CID. */
  publishedCount: number;
  publishedCid?: string;
  publishedText?: string;
  /** The companions' date ranges the published playlist carries (their version). */
  publishedDateRanges?: number;
}

/** An archive chunk, with its playlist models while they may be needed without a store read. */
interface HeldChunk extends ArchivedChunk {
  playlists?: Record<string, MediaPlaylist>;
}

/** One stored playlist version and the publish that first used it. */
interface StoredVersion {
  cid: string;
  sequence: number;
}

function checkOptions(options: PlaylistPublisherOptions, targetDuration: number): void {
  const { windowSeconds, archiveSeconds, mediaSequenceBase, continues } = options;
  if (windowSeconds !== undefined && (!isPositiveFinite(windowSeconds) || windowSeconds < MIN_WINDOW_TARGETS * targetDuration)) {
    throw invalidParameterError(
      'windowSeconds',
      `number of seconds of at least ${MIN_WINDOW_TARGETS} target durations (${MIN_WINDOW_TARGETS * targetDuration}; RFC 8216 6.2.2)`,
      windowSeconds,
    );
  }
  if (archiveSeconds !== undefined && (!isPositiveFinite(archiveSeconds) || archiveSeconds < options.segmentDuration)) {
    throw invalidParameterError('archiveSeconds', `number of seconds of at least one segment (${options.segmentDuration})`, archiveSeconds);
  }
  if (mediaSequenceBase !== undefined && (!isInteger(mediaSequenceBase) || mediaSequenceBase < 0)) {
    throw invalidParameterError('mediaSequenceBase', 'integer of at least 0', mediaSequenceBase);
  }
  if (continues !== undefined) {
    if (windowSeconds === undefined) throw invalidParameterError('windowSeconds', 'number of seconds with continues (a channel slides)', windowSeconds);
    if (!isInteger(continues.discontinuitySequence) || continues.discontinuitySequence < 1) {
      throw invalidParameterError('continues.discontinuitySequence', 'integer of at least 1', continues.discontinuitySequence);
    }
  }
}

export class PlaylistPublisher {
  readonly targetDuration: number;
  readonly #options: PlaylistPublisherOptions;
  readonly #states: Map<string, RenditionState>;
  /** Segments a live playlist lists; undefined: all (an EVENT playlist). */
  readonly #windowCount?: number;
  readonly #archiveCount: number;
  #base: number;
  #continues?: ChannelContinuation;
  #chain: Promise<unknown> = Promise.resolve();
  /** A publish waiting for the chain: later requests join it instead of queueing another. */
  #queued?: Promise<void>;
  #finalRequested = false;
  /** publishFirst() asked for a version before any segment (LL-HLS fast start, a channel's hand-over). */
  #firstRequested = false;
  /** Stored versions not yet released, per playlist ('' is the master), oldest first. */
  readonly #versions = new Map<string, StoredVersion[]>();
  #publishedIndexCount = 0;
  #sequence = 0;
  #latest?: PublishedVersion;
  #startTime?: Date;
  #deadline = Number.POSITIVE_INFINITY;
  /** The archive so far: MSNs below archivedUpTo are in it. */
  readonly #archive: HeldChunk[] = [];
  #archivedUpTo: number;

  constructor(options: PlaylistPublisherOptions) {
    this.#options = options;
    this.targetDuration = targetDurationFor(options.segmentDuration);
    checkOptions(options, this.targetDuration);
    this.#base = options.mediaSequenceBase ?? 0;
    this.#archivedUpTo = this.#base;
    this.#windowCount = options.windowSeconds === undefined ? undefined : Math.ceil(options.windowSeconds / options.segmentDuration - 1e-9);
    this.#archiveCount = Math.max(1, Math.round((options.archiveSeconds ?? DEFAULT_ARCHIVE_SECONDS) / options.segmentDuration));
    this.#states = new Map(
      options.renditions.map((rendition) => [
        rendition.name,
        {
          rendition, arrivals: new ContiguousSegments<ListedSegment>(), codecs: '', codecsInherited: false, timeline: [],
          ownListed: 0, ownSeconds: 0, meter: new BandwidthMeter(this.targetDuration), publishedCount: 0,
        },
      ]),
    );
    if (options.continues) this.continueFrom(this.#base, options.continues);
  }

  /**
   * A channel's run (known once the registry created it): its segment 0 is MSN
   * `mediaSequenceBase`, and the previous runs' tail is listed before it. Only before
   * the first publish.
   */
  continueFrom(mediaSequenceBase: number, continues: ChannelContinuation | undefined): void {
    if (this.#sequence > 0 || [...this.#states.values()].some((state) => state.ownListed > 0)) {
      throw new AbrcastError('A run continues a channel only before its first publish');
    }
    checkOptions({ ...this.#options, mediaSequenceBase, continues }, this.targetDuration);
    this.#base = mediaSequenceBase;
    this.#archivedUpTo = mediaSequenceBase;
    this.#continues = continues;
    for (const state of this.#states.values()) {
      const name = state.rendition.name;
      const tail = continues?.tail[name] ?? [];
      state.timeline = tail.map(({ startedAt, ...segment }): Entry => ({ ...segment, startMs: startedAt.getTime(), own: false, bytes: 0 }));
      const last = state.timeline.at(-1);
      if (last && last.msn !== mediaSequenceBase - 1) {
        throw new AbrcastError(`The ${name} tail ends at media sequence ${last.msn}, not ${mediaSequenceBase - 1} before this run's first segment`);
      }
      const codecs = continues?.codecs[name] ?? '';
      if (codecs && (!state.codecs || state.codecsInherited)) {
        state.codecs = codecs;
        state.codecsInherited = true;
      }
    }
  }

  get latest(): PublishedVersion | undefined {
    return this.#latest;
  }

  /** The archive chunks stored so far (windowed runs), oldest first. */
  get archive(): readonly ArchivedChunk[] {
    return this.#archive;
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
    if (!codecs) return;
    if (!state.codecs || state.codecsInherited) {
      state.codecs = codecs;
      state.codecsInherited = false;
    }
  }

  /** The rendition's fMP4 init segment, uploaded: every later media playlist names it in EXT-X-MAP (after its EXT-X-KEY when encrypted). */
  setInitSegment(rendition: string, cid: string, key?: ResourceKey): void {
    const state = this.#state(rendition);
    if (state.mapUri !== undefined) return;
    state.mapUri = this.#options.segmentUrl(cid);
    state.mapKey = key;
  }

  /** The EXT-X-KEY of an encrypted resource of this run. */
  #key(key: ResourceKey | undefined): { key?: SegmentKey } {
    return key ? { key: segmentKey(key, this.#options.keyUri) } : {};
  }

  /** Records an uploaded segment (with its I-frames, for the I-frame playlists); publishes when it completes an index in every rendition. */
  segmentUploaded(rendition: string, segment: ListedSegment): Promise<void> {
    this.#state(rendition).arrivals.add(segment);
    if (commonListedCount(this.#arrivals()) > this.#publishedIndexCount) return this.publish(false);
    return this.#chain.then(() => undefined);
  }

  /**
   * A first version before any segment of this run, once every rendition's codecs are
   * known: for LL-HLS fast start (from its first part; a server lists the parts) and for a
   * channel's run (the previous run's tail, so the channel hands over at once). Does
   * nothing after that, or once any version is published.
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

  *#arrivals(): Iterable<ContiguousSegments> {
    for (const state of this.#states.values()) yield state.arrivals;
  }

  /** Moves what became listed into the timeline (in index order), and forgets it in `arrivals`. */
  #takeListed(state: RenditionState): void {
    const startedAt = (this.#startTime ??= new Date()).getTime();
    const continues = this.#continues;
    for (const segment of state.arrivals.takeNew()) {
      const previous = state.timeline.at(-1);
      const first = state.ownListed === 0 && continues !== undefined;
      const entry: Entry = {
        msn: this.#base + segment.index,
        duration: segment.duration,
        uri: this.#options.segmentUrl(segment.cid),
        startMs: startedAt + state.ownSeconds * 1000,
        discontinuity: first,
        discontinuitySequence: first ? continues.discontinuitySequence : (previous?.discontinuitySequence ?? 0),
        ...(state.mapUri !== undefined ? { mapUri: state.mapUri } : {}),
        ...(state.mapUri !== undefined && state.mapKey ? { mapKey: this.#key(state.mapKey).key } : {}),
        ...this.#key(segment.key),
        own: true, bytes: segment.bytes, cid: segment.cid,
        // Kept for the companions (I-frame and image playlists) of a run that lists every segment.
        ...(this.#windowCount === undefined ? { listed: segment } : {}),
      };
      state.timeline.push(entry);
      state.ownListed += 1;
      state.ownSeconds += segment.duration;
      state.meter.add(segment);
    }
    state.arrivals.forget(state.arrivals.listedCount);
  }

  /** The entries a live playlist lists now. */
  #window(state: RenditionState): Entry[] {
    const count = this.#windowCount;
    return count === undefined || state.timeline.length <= count ? state.timeline : state.timeline.slice(state.timeline.length - count);
  }

  async #publishNow(final: boolean): Promise<void> {
    const common = commonListedCount(this.#arrivals());
    const states = [...this.#states.values()];
    for (const state of states) this.#takeListed(state);
    const changed = states.some((s) => s.ownListed !== s.publishedCount);
    // The first version: every rendition, listed or not, before any other version.
    const first = this.#firstRequested && this.#sequence === 0 && !final;
    if (!final && !first && (common <= this.#publishedIndexCount || !changed)) return;
    if (!first && states.some((s) => s.ownListed === 0)) {
      if (!final) return;
      // A final publish with a rendition that never listed a segment has nothing to play.
      if (states.every((s) => s.ownListed === 0)) return;
    }
    const windowed = this.#windowCount !== undefined;
    // The end of a windowed run: the rest goes to the archive first; the final playlists list all of it.
    if (final && windowed) await this.#archiveUpTo(Number.POSITIVE_INFINITY);

    const media: PublishedVersion['media'] = {};
    const qualities: VariantStreamRecords = {};
    const variants: VariantStream[] = [];
    const dateRanges = this.#options.companions?.dateRangeVersion;
    for (const state of states) {
      if (state.timeline.length === 0 && state.ownListed === 0 && !first) continue;
      if (final || state.ownListed !== state.publishedCount || !state.publishedCid || dateRanges !== state.publishedDateRanges) {
        const playlist = final && windowed ? await this.#finalPlaylist(state) : this.#livePlaylist(state, final);
        if (playlist.segments.length === 0 && final) continue;
        const text = serializeMediaPlaylist(playlist);
        state.publishedCid = await this.#addVersion(state.rendition.name, text, `${state.rendition.name} playlist`);
        state.publishedText = text;
        state.publishedCount = state.ownListed;
        state.publishedDateRanges = dateRanges;
      }
      const { rendition } = state;
      const cid = state.publishedCid!;
      media[rendition.name] = { cid, text: state.publishedText!, segmentCount: state.publishedCount };
      const entry = qualityEntry({
        rendition, listed: state.meter, targetDuration: this.targetDuration, codecs: state.codecs, fps: this.#options.fps,
        cid, uri: this.#options.playlistUrl(cid), final,
      });
      qualities[rendition.name] = entry.quality;
      variants.push(entry.variant);
    }
    const companions = await this.#options.companions?.publish({
      final, targetDuration: this.targetDuration, startedAt: (this.#startTime ??= new Date()),
      renditions: states.map((state) => ({
        rendition: state.rendition, listed: this.#companionListing(state), codecs: state.codecs, ...(state.mapUri !== undefined ? { mapUri: state.mapUri } : {}),
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
    if (windowed && !final) await this.#slide();
  }

  /** What the companions list for a rendition: every own segment of a run without a window; nothing for a windowed one. */
  #companionListing(state: RenditionState): ListedSegment[] {
    if (this.#windowCount !== undefined) return [];
    return state.timeline.flatMap((entry) => (entry.listed ? [entry.listed] : []));
  }

  /**
   * The date ranges a media playlist carries (addMetadata), when it lists a segment (their dates stand
   * on its PROGRAM-DATE-TIME, RFC 8216bis 4.4.5.1). A sliding playlist leaves out those that ended before
   * its first segment's date; one without a known end (no DURATION) stays.
   */
  #withDateRanges(playlist: MediaPlaylist): MediaPlaylist {
    const ranges = this.#options.companions?.dateRanges ?? [];
    if (playlist.segments.length === 0 || ranges.length === 0) return playlist;
    const from = playlist.segments[0].programDateTime?.getTime();
    const kept = from === undefined || playlist.playlistType !== undefined
      ? ranges
      : ranges.filter((range) => {
        const end = range.endDate?.getTime() ?? (range.duration !== undefined ? range.startDate.getTime() + range.duration * 1000 : undefined);
        return end === undefined || end >= from;
      });
    return kept.length > 0 ? { ...playlist, dateRanges: kept } : playlist;
  }

  #livePlaylist(state: RenditionState, final: boolean): MediaPlaylist {
    const windowed = this.#windowCount !== undefined;
    return this.#withDateRanges(timelineMediaPlaylist({
      targetDuration: this.targetDuration,
      segments: this.#window(state),
      emptyMediaSequence: this.#base,
      emptyDiscontinuitySequence: this.#continues?.discontinuitySequence ?? 0,
      ...(state.mapUri !== undefined ? { emptyMapUri: state.mapUri } : {}),
      ...(state.mapUri !== undefined && state.mapKey ? { emptyMapKey: this.#key(state.mapKey).key } : {}),
      type: windowed ? 'live' : 'event',
      endList: final,
      alwaysDiscontinuitySequence: this.#continues !== undefined,
    }));
  }

  /**
   * A windowed run's final playlist: every segment of the run (VOD), from its archive
   * chunks, read back from the store (the publisher forgot them), in MSN order.
   */
  async #finalPlaylist(state: RenditionState): Promise<MediaPlaylist> {
    const name = state.rendition.name;
    const segments: MediaSegment[] = [];
    let head: MediaPlaylist | undefined;
    for (const chunk of this.#archive) {
      const cid = chunk.media[name]?.cid;
      if (cid === undefined) continue;
      const playlist = chunk.playlists?.[name] ?? (await this.#readArchived(cid));
      // Within a run only its first segment follows a discontinuity, and the first chunk's head counts it.
      head ??= playlist;
      segments.push(...playlist.segments);
    }
    if (!head) return { targetDuration: this.targetDuration, mediaSequence: this.#base, independentSegments: true, segments: [], endList: true };
    // The chunks' dates stay: a date on the first segment of each hour is allowed anywhere and harmless.
    return this.#withDateRanges({ ...head, playlistType: 'VOD', endList: true, segments });
  }

  async #readArchived(cid: string): Promise<MediaPlaylist> {
    const cat = this.#options.store.cat?.bind(this.#options.store);
    if (!cat) throw new AbrcastError('A windowed run needs a store that can read its archive back (cat) for its final playlists');
    const bytes = await retryUntilDeadline(() => cat(cid), {
      backoff: PLAYLIST_RETRY,
      deadline: () => this.#deadline,
      onRetry: (attempt, error) => this.#options.onRetry?.(`read archive playlist ${cid}`, attempt, error),
    });
    return parseMediaPlaylist(new TextDecoder().decode(bytes));
  }

  /** After a live publish: archives what left every window, and forgets what is archived or was the previous run's. */
  async #slide(): Promise<void> {
    const states = [...this.#states.values()];
    let windowStart = Number.POSITIVE_INFINITY;
    for (const state of states) windowStart = Math.min(windowStart, this.#window(state)[0]?.msn ?? this.#base);
    // Whole chunks only while live: a chunk is archived once all of it is out of every window.
    const chunkEnd = Math.floor(windowStart / this.#archiveCount) * this.#archiveCount;
    if (chunkEnd > this.#archivedUpTo) await this.#archiveUpTo(chunkEnd);
    for (const state of states) {
      const start = this.#window(state)[0]?.msn ?? Number.POSITIVE_INFINITY;
      let drop = 0;
      while (drop < state.timeline.length) {
        const entry = state.timeline[drop];
        if (entry.msn >= start || (entry.own && entry.msn >= this.#archivedUpTo)) break;
        drop += 1;
      }
      if (drop > 0) state.timeline = state.timeline.slice(drop);
    }
  }

  /** Stores archive chunks for this run's listed segments below `end` (MSN), each within one aligned chunk. */
  async #archiveUpTo(end: number): Promise<void> {
    const listed = [...this.#states.values()].map((state) => this.#base + state.ownListed);
    // While live, only what every rendition listed; at the end, everything any rendition listed.
    const stop = Number.isFinite(end) ? Math.min(end, ...listed) : Math.max(...listed);
    while (this.#archivedUpTo < stop) {
      const from = this.#archivedUpTo;
      const to = Math.min(stop, (Math.floor(from / this.#archiveCount) + 1) * this.#archiveCount);
      await this.#storeChunk(from, to);
      this.#archivedUpTo = to;
    }
  }

  async #storeChunk(from: number, to: number): Promise<void> {
    const variants: VariantStream[] = [];
    const media: ArchivedChunk['media'] = {};
    const playlists: Record<string, MediaPlaylist> = {};
    let duration = 0;
    let startedAt: Date | undefined;
    for (const state of this.#states.values()) {
      const entries = state.timeline.filter((entry) => entry.own && entry.msn >= from && entry.msn < to);
      if (entries.length === 0) continue;
      const playlist = timelineMediaPlaylist({
        targetDuration: this.targetDuration, segments: entries, type: 'vod', endList: true,
        alwaysDiscontinuitySequence: this.#continues !== undefined,
      });
      const name = state.rendition.name;
      // Immutable and kept for good: add(), not a version.
      const cid = await retryUntilDeadline(() => this.#options.store.add(new TextEncoder().encode(serializeMediaPlaylist(playlist))), {
        backoff: PLAYLIST_RETRY,
        deadline: () => this.#deadline,
        onRetry: (attempt, error) => this.#options.onRetry?.(`${name} archive playlist`, attempt, error),
      });
      playlists[name] = playlist;
      media[name] = { cid, segmentCount: entries.length };
      duration = Math.max(duration, totalDuration(entries));
      startedAt ??= new Date(Math.round(entries[0].startMs));
      const peak = peakBandwidth(entries, this.targetDuration) ?? 1;
      const average = averageBandwidth(entries);
      variants.push({
        uri: this.#options.playlistUrl(cid), bandwidth: Math.max(1, peak),
        ...(average !== undefined ? { averageBandwidth: Math.max(1, average) } : {}),
        codecs: state.codecs, resolution: { width: state.rendition.width, height: state.rendition.height },
        frameRate: this.#options.fps, name,
      });
    }
    if (variants.length === 0) return;
    const masterText = serializeMasterPlaylist({ independentSegments: true, variants });
    const masterCid = await retryUntilDeadline(() => this.#options.store.add(new TextEncoder().encode(masterText)), {
      backoff: PLAYLIST_RETRY,
      deadline: () => this.#deadline,
      onRetry: (attempt, error) => this.#options.onRetry?.('archive master playlist', attempt, error),
    });
    const chunk: ArchivedChunk = { firstMsn: from, segmentCount: to - from, duration, startedAt: startedAt!, masterCid, media };
    // The models are kept only for chunks stored by the final publish; earlier ones are read back from the store.
    for (const older of this.#archive) delete older.playlists;
    this.#archive.push({ ...chunk, playlists });
    await this.#options.onArchived?.(chunk);
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
