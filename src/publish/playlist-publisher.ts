// Turns uploaded segments into published playlists. Segments arrive in any
// order; each rendition lists only its contiguous prefix, and a publish
// happens once per segment index: when index k is uploaded in every
// rendition, the changed media playlists go to the store, then the master.
import type { Rendition } from '../encoder/types.js';
import { commonListedCount, ContiguousSegments, type UploadedSegment } from '../hls/contiguous-segments.js';
import { serializeMasterPlaylist } from '../hls/master-playlist.js';
import { serializeMediaPlaylist, targetDurationFor } from '../hls/media-playlist.js';
import type { CidUrl } from '../hls/segment-url.js';
import type { MediaPlaylist } from '../hls/types.js';
import type { ContentStore } from '../store/content-store.js';
import { eventMediaPlaylist, qualityEntry } from './playlist-entries.js';
import { addWithRetry } from './store-retry.js';
import type { PublishedVersion, QualityMap } from './types.js';

export interface PlaylistPublisherOptions {
  store: Pick<ContentStore, 'add'>;
  renditions: readonly Rendition[];
  fps: number;
  segmentDuration: number;
  segmentUrl: CidUrl;
  playlistUrl: CidUrl;
  /** Published after the playlists of a version are stored, in order. */
  onPublished: (version: PublishedVersion) => Promise<void> | void;
  onRetry?: (what: string, attempt: number, error: unknown) => void;
}

interface RenditionState {
  rendition: Rendition;
  segments: ContiguousSegments;
  codecs: string;
  /** Segments listed in the last published media playlist, and its CID. */
  publishedCount: number;
  publishedCid?: string;
  publishedText?: string;
}

export class PlaylistPublisher {
  readonly targetDuration: number;
  readonly #options: PlaylistPublisherOptions;
  readonly #states: Map<string, RenditionState>;
  #chain: Promise<unknown> = Promise.resolve();
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
        { rendition, segments: new ContiguousSegments(), codecs: '', publishedCount: 0 },
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

  /** Records an uploaded segment; publishes when it completes an index in every rendition. */
  segmentUploaded(rendition: string, segment: UploadedSegment): Promise<void> {
    this.#state(rendition).segments.add(segment);
    if (commonListedCount(this.#renditionSegments()) > this.#publishedIndexCount) return this.publish(false);
    return this.#chain.then(() => undefined);
  }

  /** Publishes what is listed now; `final` adds EXT-X-ENDLIST. */
  publish(final: boolean): Promise<void> {
    const run = this.#chain.then(() => this.#publishNow(final));
    this.#chain = run.catch(() => undefined);
    return run;
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
    if (!final && (common <= this.#publishedIndexCount || !changed)) return;
    if ([...this.#states.values()].some((s) => s.segments.listedCount === 0)) {
      if (!final) return;
      // A final publish with a rendition that never listed a segment has nothing to play.
      if ([...this.#states.values()].every((s) => s.segments.listedCount === 0)) return;
    }

    const media: PublishedVersion['media'] = {};
    const qualities: QualityMap = {};
    const variants = [];
    for (const state of this.#states.values()) {
      const listed = state.segments.listed();
      if (listed.length === 0) continue;
      if (final || listed.length !== state.publishedCount || !state.publishedCid) {
        const text = serializeMediaPlaylist(this.#mediaPlaylist(listed, final));
        state.publishedCid = await this.#add(text, `${state.rendition.name} playlist`);
        state.publishedText = text;
        state.publishedCount = listed.length;
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
    const masterText = serializeMasterPlaylist({ independentSegments: true, variants });
    const masterCid = await this.#add(masterText, 'master playlist');
    this.#publishedIndexCount = Math.max(this.#publishedIndexCount, common);
    this.#sequence += 1;
    const version: PublishedVersion = { sequence: this.#sequence, final, masterCid, masterText, qualities, media };
    this.#latest = version;
    await this.#options.onPublished(version);
  }

  #mediaPlaylist(listed: readonly UploadedSegment[], final: boolean): MediaPlaylist {
    return eventMediaPlaylist({
      targetDuration: this.targetDuration, segments: listed, segmentUrl: this.#options.segmentUrl,
      endList: final, startedAt: (this.#startTime ??= new Date()),
    });
  }

  #add(text: string, what: string): Promise<string> {
    return addWithRetry(this.#options.store, new TextEncoder().encode(text), {
      deadline: () => this.#deadline,
      onRetry: (attempt, error) => this.#options.onRetry?.(what, attempt, error),
    });
  }
}
