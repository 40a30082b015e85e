// The live model of one rendition of one run, kept by a server process while
// someone watches it (as hls.js keeps one LevelDetails per level): the newest
// published playlist and the parts recorded since, updated in place by its
// LiveRun from the registry's change feed. Requests read it and wait on it in
// memory; the view (LiveEdge) is built once per change and shared by every
// request answered from it.
import type { MediaPlaylist, SegmentKey } from '../hls/types.js';
import type { RunTracks } from '../model/run-tracks.js';
import type { PartPosition, PartRecord } from '../registry/run-records.js';
import { buildLiveEdge, contiguousParts, PART_LISTED_TARGETS, type LiveEdge, type PartContainer } from './live-edge.js';
import type { HttpResponse } from './router.js';

/** What a rendition reads from its run (the LiveRun owns these). */
export interface RenditionContext {
  readonly runId: string;
  run(): {
    segmentDuration: number; fps: number; startedAt: Date | null; partTarget: number | null; tracks?: RunTracks;
    /** A channel's run: its first MSN and discontinuity sequence (its first segment follows the previous run's tail). */
    msnBase?: number; discontinuitySequence?: number;
  };
  /** The init segment CID of `rendition`, if it has one (fMP4). */
  init(rendition: string): string | undefined;
  /** What `rendition`'s parts and segments are: fMP4, MPEG-TS, or WebVTT for a subtitle track. */
  container(rendition: string): PartContainer;
  /** An encrypted run's key URIs and init segment keys; undefined for a clear run. */
  encryption(): { keyUri: (index: number) => string; initKey(rendition: string): SegmentKey | undefined } | undefined;
  /** The newest part of every other rendition (EXT-X-RENDITION-REPORT). */
  reports(except: string): Record<string, PartPosition>;
}

interface Waiter {
  ready: (edge: LiveEdge) => boolean;
  settle: (edge: LiveEdge | undefined) => void;
}

/** Orders part positions: negative, zero or positive like a comparator. */
export const comparePositions = (a: PartPosition, b: PartPosition) => a.segmentIndex - b.segmentIndex || a.partIndex - b.partIndex;

export class LiveRendition {
  readonly name: string;
  readonly #context: RenditionContext;
  #published: MediaPlaylist | undefined;
  /** The run's playlist sequence the published playlist came with: an older one never replaces it. */
  #publishedSequence = -1;
  readonly #parts = new Map<number, (PartRecord | undefined)[]>();
  /** The newest part known, listed or not (a later one means an earlier missing one will not come). */
  #newest: PartPosition | undefined;
  /** The view; null when a change made it stale. */
  #edge: LiveEdge | undefined | null = null;
  readonly #waiters = new Set<Waiter>();
  #closed = false;
  /** performance.now() of the last request that read it (idle models are dropped). */
  lastUsed = performance.now();

  constructor(context: RenditionContext, name: string) {
    this.#context = context;
    this.name = name;
  }

  get waiting(): number {
    return this.#waiters.size;
  }

  get container(): PartContainer {
    return this.#context.container(this.name);
  }

  /** The run's segment duration and frame rate (what makes a segment whole). */
  get runTiming(): { segmentDuration: number; fps: number } {
    return this.#context.run();
  }

  /** Media Sequence Number after the last published segment (0 before any publish). */
  get publishedEnd(): number {
    return this.#published ? this.#published.mediaSequence + this.#published.segments.length : 0;
  }

  /** First segment whose parts the model keeps: those of the published segments a playlist may still list parts for. */
  get partsFrom(): number {
    const published = this.#published;
    if (!published) return 0;
    const run = this.#context.run();
    const back = Math.ceil((PART_LISTED_TARGETS * published.targetDuration) / run.segmentDuration) + 1;
    return Math.max(0, published.mediaSequence + published.segments.length - back);
  }

  /** The current view; undefined while there is nothing to list or the run has no parts (not LL-HLS). */
  edge(): LiveEdge | undefined {
    if (this.#edge === null) {
      const run = this.#context.run();
      const init = this.#context.init(this.name);
      const encryption = this.#context.encryption();
      const mapKey = encryption?.initKey(this.name);
      this.#edge =
        run.partTarget === null
          ? undefined
          : buildLiveEdge({
              run: { ...run, partTarget: run.partTarget },
              ...(this.#published ? { published: this.#published } : {}),
              parts: this.#parts,
              container: this.#context.container(this.name),
              ...(init !== undefined ? { mapUri: `/ipfs/${init}`, ...(mapKey ? { mapKey } : {}) } : {}),
              ...(encryption ? { keyUri: encryption.keyUri } : {}),
              reports: this.#context.reports(this.name),
              // Date ranges go in the video renditions' playlists, as the published ones have them.
              ...(run.tracks?.dateRanges && this.container !== 'vtt' ? { dateRanges: run.tracks.dateRanges } : {}),
            });
    }
    return this.#edge;
  }

  /** A part the model holds (stored, listed or not). */
  part(msn: number, index: number): PartRecord | undefined {
    return this.#parts.get(msn)?.[index];
  }

  /** The parts of segment `msn` from part 0 to the first hole. */
  segmentParts(msn: number): PartRecord[] {
    return contiguousParts(this.#parts.get(msn));
  }

  /** Whether a part after (msn, index) is known: then (msn, index) itself, if missing, will not come. */
  isPassed(msn: number, index: number): boolean {
    return this.#newest !== undefined && comparePositions(this.#newest, { segmentIndex: msn, partIndex: index }) > 0;
  }

  /** The published playlist of the run's playlist sequence `sequence`; false (ignored) when a newer one is already here. */
  setPublished(playlist: MediaPlaylist, sequence: number): boolean {
    if (sequence < this.#publishedSequence) return false;
    this.#publishedSequence = sequence;
    if (playlist === this.#published) return true;
    this.#published = playlist;
    const from = this.partsFrom;
    for (const msn of this.#parts.keys()) if (msn < from) this.#parts.delete(msn);
    this.changed();
    return true;
  }

  /** Adds parts (a recorded one, or a batch read at load or resync); known ones stay as they are. */
  addParts(parts: readonly PartRecord[]): void {
    const from = this.partsFrom;
    let added = false;
    for (const part of parts) {
      if (part.segmentIndex < from) continue;
      let group = this.#parts.get(part.segmentIndex);
      if (!group) this.#parts.set(part.segmentIndex, (group = []));
      if (group[part.partIndex] !== undefined) continue;
      group[part.partIndex] = part;
      added = true;
      if (this.#newest === undefined || comparePositions(part, this.#newest) > 0) {
        this.#newest = { segmentIndex: part.segmentIndex, partIndex: part.partIndex };
      }
    }
    if (added) this.changed();
  }

  /** Something the view depends on changed: rebuild it on next use and wake whoever it now satisfies. */
  changed(): void {
    this.#edge = null;
    if (this.#waiters.size === 0) return;
    const edge = this.edge();
    if (edge === undefined) return;
    for (const waiter of [...this.#waiters]) {
      if (edge.ended || waiter.ready(edge)) waiter.settle(edge);
    }
  }

  /** The view rebuilds on next use without waking anyone (a change waiters do not wait for: another rendition's report). */
  stale(): void {
    this.#edge = null;
  }

  /**
   * Waits in memory until the view satisfies `ready` (or the run ended),
   * resolving with that view; undefined at the deadline, when the client
   * went away or the model was dropped.
   */
  wait(ready: (edge: LiveEdge) => boolean, timeoutMs: number, res?: HttpResponse): Promise<LiveEdge | undefined> {
    if (this.#closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        ready,
        settle: (edge) => {
          this.#waiters.delete(waiter);
          clearTimeout(timer);
          res?.off('close', gone);
          resolve(edge);
        },
      };
      const gone = () => waiter.settle(undefined);
      const timer = setTimeout(gone, timeoutMs);
      res?.once('close', gone);
      this.#waiters.add(waiter);
    });
  }

  /** Drops the model: waiters get undefined. */
  close(): void {
    this.#closed = true;
    for (const waiter of [...this.#waiters]) waiter.settle(undefined);
  }
}
