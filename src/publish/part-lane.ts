// The LL-HLS side of a live run: each part stored and recorded as the encoder
// emits it (a server lists it from the registry at once), and each rendition's
// fMP4 init segment stored once and named in later playlists (EXT-X-MAP). In
// encoder order, on a lane apart from the segments, so a slow publish never
// holds the live edge.
//
// Like the segment lane, a part whose store call or registry write fails is
// retried with backoff: a store or database that blinks leaves no gap in the
// live edge. Unlike a segment, a part matters only while it is near the live
// edge: it is retried for a few target durations (or until its segment is
// stored, which carries the same bytes), then given up with a warning.
//
// Parts are linear storage's exception: their bytes are in their segment again.
// Once a segment is stored and listed and the live edge is well past it (twice
// the part window the server lists), its parts are released: their records
// dropped from the registry, then their blocks from the store.
import type { InitEvent, PartEvent } from '../encoder/types.js';
import type { ResourceKey } from '../hls/types.js';
import { errorMessage } from '../errors.js';
import type { RunRecorder } from '../model/run-recorder.js';
import type { RetryOptions } from './backoff.js';
import { OrderedLane } from './ordered-lane.js';
import type { PlaylistPublisher } from './playlist-publisher.js';
import type { ResourceStore } from './resource-store.js';
import { retryUntilDeadline } from './retry-until-deadline.js';

const PART_RETRY: Required<RetryOptions> = { initialDelayMs: 50, maxDelayMs: 1_000, factor: 2, jitter: 'full' };

/** A part is retried for this many target durations after it was muxed (the server lists parts for the last 3). */
export const PART_RETRY_TARGETS = 3;

/**
 * Parts of a segment are released once the live edge is this many target durations past
 * its end: twice the part window a server lists (RFC 8216bis 6.2.2: 3 target durations).
 */
export const PART_RELEASE_TARGETS = 6;

export interface PartLaneOptions {
  resources: Pick<ResourceStore, 'add' | 'keyOf'> & Partial<Pick<ResourceStore, 'releasePart' | 'releasesParts'>>;
  publisher: Pick<PlaylistPublisher, 'setCodecs' | 'setInitSegment' | 'publishFirst'>;
  /** Records parts and init segments; a recorder without the methods records neither. */
  registry?: Pick<RunRecorder, 'recordPart' | 'setInitSegment' | 'forgetParts' | 'isTransientError'>;
  /** The run's id in the registry, once created (read as each event arrives). */
  runId: () => string | undefined;
  /** Media Sequence Number of segment 0 (a channel's run), once created; registry indexes are MSNs. */
  msnBase?: () => number;
  /** The run's target duration in seconds: how long a part is retried (default 1 s per target). */
  targetDuration?: number;
  /** Whether the segment that holds a part is stored already (then the part is not worth a retry). */
  segmentStored?: (rendition: string, index: number) => boolean;
  /** A stored segment's CID: a part stored as the very same bytes (a one-part segment) is never released. */
  segmentCid?: (rendition: string, index: number) => string | undefined;
  onRetry?: (what: string, attempt: number, error: unknown) => void;
  onWarning: (message: string) => void;
}

export class PartLane {
  readonly #options: PartLaneOptions;
  readonly #lane: OrderedLane;
  /** Init segment uploads by rendition: a segment is queued only after its rendition's init is stored and named. */
  readonly #initUploads = new Map<string, Promise<boolean>>();
  /** Init segments stored before the run existed, for runCreated() to record. */
  readonly #unrecordedInits: { rendition: string; cid: string; key?: ResourceKey }[] = [];
  /** Stored parts not released yet: rendition -> segment index -> part CIDs. */
  readonly #stored = new Map<string, Map<number, string[]>>();
  /** Retries give up at this time at the latest (close() sets it). */
  #deadline = Number.POSITIVE_INFINITY;
  readonly #counts = { stored: 0, released: 0 };

  constructor(options: PartLaneOptions) {
    this.#options = options;
    this.#lane = new OrderedLane({
      onFailed: (what, error) => options.onWarning(`Cannot ${what}: ${errorMessage(error)}`),
    });
  }

  /** A rendition's init segment: stored once (later ones are ignored), then named by the publisher and the registry. */
  init(init: InitEvent): void {
    if (this.#initUploads.has(init.rendition)) return;
    const { resources, publisher } = this.#options;
    const what = `upload the init segment of ${init.rendition}`;
    this.#initUploads.set(
      init.rendition,
      this.#lane.push(what, async () => {
        const resource = { kind: 'init', rendition: init.rendition } as const;
        // Every segment of the rendition waits for it: retried until the run closes.
        const cid = await this.#retry(what, Number.POSITIVE_INFINITY, () => resources.add(resource, init.data));
        const key = await resources.keyOf(resource);
        publisher.setInitSegment(init.rendition, cid, key);
        // The encoder opens (and announces its init segments) while start() creates the run, which on a
        // channel takes a few statements more: one stored before the run exists is recorded by runCreated().
        if (this.#options.runId() === undefined) this.#unrecordedInits.push({ rendition: init.rendition, cid, ...(key ? { key } : {}) });
        else await this.#recordInit(init.rendition, cid, key);
      }),
    );
  }

  /** The run exists: records the init segments stored before it did (before any part: no frame is encoded yet). */
  runCreated(): void {
    for (const { rendition, cid, key } of this.#unrecordedInits.splice(0)) {
      void this.#lane.push(`record the init segment of ${rendition}`, () => this.#recordInit(rendition, cid, key));
    }
  }

  async #recordInit(rendition: string, cid: string, key: ResourceKey | undefined): Promise<void> {
    const { registry } = this.#options;
    const runId = this.#options.runId();
    if (!registry?.setInitSegment || runId === undefined) return;
    await this.#retry(`record the init segment of ${rendition}`, Number.POSITIVE_INFINITY, () => registry.setInitSegment!(runId, rendition, cid, key), (error) => this.#transient(error));
  }

  /** Resolves once the rendition's init segment is stored and named (at once when it has none). Never rejects. */
  async initStored(rendition: string): Promise<void> {
    await this.#initUploads.get(rendition);
  }

  /** One part, as soon as it is muxed: stored, then recorded; retried while it is near the live edge. */
  part(part: PartEvent): void {
    const { resources, publisher, registry } = this.#options;
    const runId = this.#options.runId();
    if (part.codecs) publisher.setCodecs(part.rendition, part.codecs);
    const { rendition, segmentIndex, partIndex } = part;
    const what = `upload part ${rendition}/${segmentIndex}.${partIndex}`;
    const giveUpAt = Date.now() + PART_RETRY_TARGETS * (this.#options.targetDuration ?? 1) * 1000;
    void this.#lane.push(what, async () => {
      // Its segment is stored already (the part waited out an outage): the segment carries the bytes.
      if (this.#options.segmentStored?.(rendition, segmentIndex)) return;
      const resource = { kind: 'part', rendition, segmentIndex, partIndex } as const;
      const cid = await this.#retry(what, giveUpAt, () => resources.add(resource, part.data));
      this.#counts.stored += 1;
      this.#remember(rendition, segmentIndex, cid);
      if (!registry?.recordPart || !runId) return;
      const msn = (this.#options.msnBase?.() ?? 0) + segmentIndex;
      const key = await resources.keyOf(resource);
      await this.#retry(`record part ${rendition}/${segmentIndex}.${partIndex}`, giveUpAt, () => registry.recordPart!(runId, {
        rendition, segmentIndex: msn, partIndex, cid, duration: part.duration, independent: part.independent, bytes: part.data.byteLength,
        ...(key ? { key } : {}),
      }), (error) => this.#transient(error));
      // Fast start: with a first part recorded in every rendition the master can answer (the parts are the live edge).
      if (segmentIndex === 0 && partIndex === 0) {
        publisher.publishFirst().catch((error: unknown) => this.#options.onWarning(`Cannot publish the first playlists: ${errorMessage(error)}`));
      }
    });
  }

  /**
   * Releases the parts of the rendition's segments below `index` (run index): call once
   * those segments are stored, recorded and listed, and the live edge is PART_RELEASE_TARGETS
   * past them. Their registry records go first (no server lists or serves them after), then
   * their bytes; a part stored as the very same bytes as its segment is not released.
   */
  async releaseBefore(rendition: string, index: number): Promise<void> {
    const { resources, registry } = this.#options;
    const stored = this.#stored.get(rendition);
    if (!stored || !resources.releasePart || resources.releasesParts === false) return;
    const released: string[] = [];
    const keep = new Set<string>();
    for (const [segmentIndex, cids] of stored) {
      if (segmentIndex >= index) continue;
      stored.delete(segmentIndex);
      released.push(...cids);
      const segment = this.#options.segmentCid?.(rendition, segmentIndex);
      if (segment !== undefined) keep.add(segment);
    }
    if (released.length === 0) return;
    const runId = this.#options.runId();
    const beforeMsn = Number.isFinite(index) ? (this.#options.msnBase?.() ?? 0) + index : 2 ** 31 - 1;
    if (registry?.forgetParts && runId) await registry.forgetParts(runId, rendition, beforeMsn);
    // Pins are not counted (Kubo): a CID still in use by a part not yet released, or a segment, stays.
    const inUse = new Set([...this.#stored.values()].flatMap((segments) => [...segments.values()].flat()));
    for (const cid of released) {
      if (!keep.has(cid) && !inUse.has(cid)) await resources.releasePart(cid);
      this.#counts.released += 1;
    }
  }

  /** Parts stored so far, and how many of them were released (a part equal to its segment counts as released: nothing extra is kept). */
  get counts(): { stored: number; released: number } {
    return { ...this.#counts };
  }

  /** From now on retries give up at `deadline` (ms since epoch); resolves when every task pushed so far finished. */
  drain(deadline: number): Promise<void> {
    this.#deadline = deadline;
    this.#lane.setDeadline(deadline);
    return this.#lane.drain();
  }

  #remember(rendition: string, segmentIndex: number, cid: string): void {
    let segments = this.#stored.get(rendition);
    if (!segments) this.#stored.set(rendition, (segments = new Map()));
    const cids = segments.get(segmentIndex) ?? [];
    cids.push(cid);
    segments.set(segmentIndex, cids);
  }

  #transient(error: unknown): boolean {
    return this.#options.registry?.isTransientError?.(error) ?? false;
  }

  /** Store calls: every error may pass (as in the segment lane); registry writes: what the registry calls transient. */
  #retry<T>(what: string, giveUpAt: number, task: () => Promise<T>, isTransient: (error: unknown) => boolean = () => true): Promise<T> {
    return retryUntilDeadline(task, {
      backoff: PART_RETRY,
      deadline: () => Math.min(giveUpAt, this.#deadline),
      isTransient,
      onRetry: (attempt, error) => this.#options.onRetry?.(what, attempt, error),
    });
  }
}
