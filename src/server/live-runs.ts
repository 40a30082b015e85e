// The in-memory live edge of a server process: for each run being watched, one
// LiveRun (its record, init segments, newest part per rendition) and, for each
// LL rendition being watched, one LiveRendition. Each is loaded from the
// registry once and then updated in place from its change feed (PostgreSQL
// LISTEN/NOTIFY across processes, direct dispatch on PGlite): one small read
// per change per watched rendition, never SQL per request. After the feed
// reconnects (changes may have been missed) every model is read again. Models
// nobody has read for `idleMs` are dropped, so memory follows what is watched.
//
// Public surface, for routes (and for channel routes built on top):
//   LiveRuns.run(runId)         → LiveRun | undefined (no such run)
//   LiveRun.record              → the RunRecord as last notified (status, playlist CIDs, part target)
//   LiveRun.rendition(name)     → LiveRendition | undefined (not a rendition of an LL run)
//   LiveRun.waitForRecord(...)  → holds until the record satisfies a test (the first master)
//   LiveRendition.edge()        → the LL view (src/server/live-edge.ts), built once per change
//   LiveRendition.wait(...)     → holds until the view satisfies a test (blocking reloads, hinted parts)
//   LiveRendition.part(...) / segmentParts(...) → stored parts, for the part and segment URIs
// The media sequence, discontinuities and playlist type come from the published
// playlist; nothing here assumes a run starts at segment 0.
import type { RunChange } from '../registry/change-feed.js';
import type { ResourceKey, SegmentKey } from '../hls/types.js';
import { DEFAULT_KEY_URL_TEMPLATE, keyUrlResolver, type KeyUrl } from '../hls/segment-url.js';
import type { PartPosition, PartRecord, RunRecord } from '../registry/run-records.js';
import type { RunRegistry } from '../registry/run-registry.js';
import { StoreUnavailableError } from '../store/content-store.js';
import type { PartContainer } from './live-edge.js';
import { comparePositions, LiveRendition, type RenditionContext } from './live-rendition.js';
import type { HttpResponse } from './router.js';
import type { ServerLogger } from './logger.js';
import { parsedPlaylist, type PlaylistCache } from './playlist-cache.js';

/** Default: models nobody read for this long are dropped. */
export const LIVE_MODEL_IDLE_MS = 30_000;
/** After a failed read of the run record or a playlist, try again this much later (a change would, too). */
const RETRY_MS = 1000;

export interface LiveRunsOptions {
  registry: RunRegistry;
  playlists: PlaylistCache;
  logger: ServerLogger;
  /** Models nobody read for this long are dropped (default LIVE_MODEL_IDLE_MS). */
  idleMs?: number;
}

interface RecordWaiter {
  ready: (record: RunRecord) => boolean;
  settle: (record: RunRecord | undefined) => void;
}

interface RenditionEntry {
  model: LiveRendition;
  loaded: Promise<void>;
  /** The playlist CID the model was last given. */
  cid?: string;
}

export class LiveRun implements RenditionContext {
  readonly runId: string;
  readonly #owner: LiveRuns;
  #record!: RunRecord;
  // Maps, not objects: rendition names come from the registry and its notifications.
  #inits = new Map<string, string>();
  /** An encrypted run's init segment keys (read only for an encrypted run). */
  #initKeys = new Map<string, ResourceKey>();
  #keyUrl?: { template: string | null; resolve: KeyUrl };
  readonly #latest = new Map<string, PartPosition>();
  readonly #renditions = new Map<string, RenditionEntry>();
  readonly #waiters = new Set<RecordWaiter>();
  /** Changes that arrived while the run was loading, applied once it is. */
  #buffered: RunChange[] | undefined = [];
  readonly #unsubscribe: () => void;
  #refreshing = false;
  /** A change came while a refresh was reading: read once more after it. */
  #refreshAgain = false;
  #pendingResync = false;
  #retry: NodeJS.Timeout | undefined;
  #closed = false;
  lastUsed = performance.now();

  constructor(owner: LiveRuns, runId: string) {
    this.#owner = owner;
    this.runId = runId;
    // Subscribed before the first read, so no change between the two is lost.
    this.#unsubscribe = owner.registry.onChange(runId, (change) => {
      if (this.#buffered) this.#buffered.push(change);
      else this.#apply(change);
    });
  }

  get record(): RunRecord {
    return this.#record;
  }

  /** Requests waiting on this run or its renditions. */
  get waiting(): number {
    let count = this.#waiters.size;
    for (const { model } of this.#renditions.values()) count += model.waiting;
    return count;
  }

  get renditionCount(): number {
    return this.#renditions.size;
  }

  // RenditionContext
  run(): RunRecord {
    return this.#record;
  }

  init(rendition: string): string | undefined {
    return this.#inits.get(rendition);
  }

  container(rendition: string): PartContainer {
    if (this.#inits.has(rendition)) return 'm4s';
    return isSubtitleTrack(this.#record, rendition) ? 'vtt' : 'ts';
  }

  encryption(): { keyUri: (index: number) => string; initKey(rendition: string): SegmentKey | undefined } | undefined {
    const record = this.#record;
    if (record.encryption === null) return undefined;
    if (this.#keyUrl?.template !== record.keyUrl) {
      this.#keyUrl = { template: record.keyUrl, resolve: keyUrlResolver(record.keyUrl ?? DEFAULT_KEY_URL_TEMPLATE) };
    }
    const { resolve } = this.#keyUrl;
    const keyUri = (index: number) => resolve(this.runId, index);
    return {
      keyUri,
      initKey: (rendition) => {
        const key = this.#initKeys.get(rendition);
        return key && { method: 'AES-128', uri: keyUri(key.index), iv: key.iv };
      },
    };
  }

  reports(except: string): Record<string, PartPosition> {
    return Object.fromEntries([...this.#latest].filter(([rendition]) => rendition !== except));
  }

  /** Reads the run (3 statements); false when there is no such run. */
  async load(): Promise<boolean> {
    const found = await this.#read();
    const buffered = this.#buffered ?? [];
    this.#buffered = undefined;
    if (!found) return false;
    for (const change of buffered) this.#apply(change);
    return true;
  }

  async #read(): Promise<boolean> {
    const { registry } = this.#owner;
    const [record, inits, latest] = await Promise.all([registry.getRun(this.runId), registry.getInitSegments(this.runId), registry.latestParts(this.runId)]);
    if (!record) return false;
    this.#inits = new Map(Object.entries(inits));
    // An encrypted run's init segments have keys (EXT-X-KEY before EXT-X-MAP): one more read, for those runs only.
    if (record.encryption !== null && this.#inits.size > 0) this.#initKeys = new Map(Object.entries(await registry.getInitSegmentKeys(this.runId)));
    for (const [rendition, position] of Object.entries(latest)) this.#notePart(rendition, position);
    await this.#setRecord(record);
    return true;
  }

  /** The model of LL rendition `name`, loaded on first use; undefined for a run without parts or a name that is no rendition of it. */
  async rendition(name: string): Promise<LiveRendition | undefined> {
    this.lastUsed = performance.now();
    let entry = this.#renditions.get(name);
    if (!entry) {
      const known = Object.hasOwn(this.#record.qualityPlaylists, name) || isSubtitleTrack(this.#record, name) || this.#latest.has(name) || this.#inits.has(name);
      if (this.#record.partTarget === null || !known || this.#closed) return undefined;
      const model = new LiveRendition(this, name);
      const created: RenditionEntry = { model, loaded: Promise.resolve() };
      created.loaded = this.#loadRendition(created).catch((error: unknown) => {
        if (this.#renditions.get(name) === created) this.#renditions.delete(name);
        model.close();
        throw error;
      });
      this.#renditions.set(name, (entry = created));
    }
    entry.model.lastUsed = performance.now();
    await entry.loaded;
    return entry.model;
  }

  async #loadRendition(entry: RenditionEntry): Promise<void> {
    await this.#publishTo(entry, this.#record);
    entry.model.addParts(await this.#owner.registry.listRecentParts(this.runId, entry.model.name, entry.model.partsFrom));
  }

  /** Gives the rendition the playlist its record names, read from the store (cached by CID). */
  async #publishTo(entry: RenditionEntry, record: RunRecord): Promise<void> {
    const { name } = entry.model;
    // A subtitle track's newest playlist is in the run's tracks; a rendition's in its variants.
    const cid = Object.hasOwn(record.qualityPlaylists, name)
      ? record.qualityPlaylists[name].cid
      : isSubtitleTrack(record, name) ? record.tracks.subtitles![name].cid : undefined;
    if (cid === undefined || cid === entry.cid) return;
    let playlist;
    try {
      playlist = parsedPlaylist(await this.#owner.playlists.get(cid));
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error;
      // Unreadable or not abrcast's: the plain path answers 502 for it; the live edge goes on from its parts.
      this.#owner.logger.warn({ err: error, runId: this.runId, rendition: entry.model.name, cid }, 'published playlist unreadable');
      return;
    }
    if (entry.model.setPublished(playlist, record.playlistSequence)) entry.cid = cid;
  }

  /**
   * Holds until the run record satisfies `ready` (or `timeoutMs` passes, or
   * the client goes away: then undefined).
   */
  waitForRecord(ready: (record: RunRecord) => boolean, timeoutMs: number, res?: HttpResponse): Promise<RunRecord | undefined> {
    if (ready(this.#record)) return Promise.resolve(this.#record);
    if (this.#closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const waiter: RecordWaiter = {
        ready,
        settle: (record) => {
          this.#waiters.delete(waiter);
          clearTimeout(timer);
          res?.off('close', gone);
          resolve(record);
        },
      };
      const gone = () => waiter.settle(undefined);
      const timer = setTimeout(gone, timeoutMs);
      res?.once('close', gone);
      this.#waiters.add(waiter);
    });
  }

  #apply(change: RunChange): void {
    if (this.#closed) return;
    switch (change.kind) {
      case 'part': {
        const position = { segmentIndex: change.segmentIndex, partIndex: change.partIndex };
        this.#notePart(change.rendition, position);
        for (const [name, { model }] of this.#renditions) if (name !== change.rendition) model.stale();
        const entry = this.#renditions.get(change.rendition);
        if (entry) this.#readPart(entry, position);
        return;
      }
      case 'init':
        // An encrypted init segment is named only with its key: a view that named it without would write it clear.
        if (this.#record?.encryption != null) {
          this.#readInitKeys(change.rendition, change.cid);
          return;
        }
        this.#inits.set(change.rendition, change.cid);
        this.#renditions.get(change.rendition)?.model.changed();
        return;
      case 'run':
        this.#refresh(false);
        return;
      case 'resync':
        this.#refresh(true);
        return;
    }
  }

  #notePart(rendition: string, position: PartPosition): void {
    const known = this.#latest.get(rendition);
    if (known === undefined || comparePositions(position, known) > 0) this.#latest.set(rendition, position);
  }

  /** An encrypted run's init segment came: its key is read before the view names it. */
  #readInitKeys(rendition: string, cid: string): void {
    this.#owner.registry
      .getInitSegmentKeys(this.runId)
      .then((keys) => {
        this.#initKeys = new Map(Object.entries(keys));
        if (this.#initKeys.has(rendition)) this.#inits.set(rendition, cid);
        this.#renditions.get(rendition)?.model.changed();
      })
      .catch((error: unknown) => {
        this.#owner.logger.warn({ err: error, runId: this.runId, rendition }, 'live edge: init segment key read failed');
        this.#scheduleRetry(true);
      });
  }

  /** The one read a recorded part costs, per watched rendition. */
  #readPart(entry: RenditionEntry, position: PartPosition): void {
    this.#owner.registry
      .getPart(this.runId, entry.model.name, position.segmentIndex, position.partIndex)
      .then((part: PartRecord | undefined) => {
        if (part) entry.model.addParts([part]);
      })
      .catch((error: unknown) => {
        // The next change or a resync brings it; meanwhile the edge waits at the part before.
        this.#owner.logger.warn({ err: error, runId: this.runId, rendition: entry.model.name, ...position }, 'live edge: part read failed');
        this.#scheduleRetry(true);
      });
  }

  /** Reads the record again (a publish, a status change) or, with `everything`, the whole run (a resync). */
  #refresh(everything: boolean): void {
    if (this.#refreshing) {
      this.#refreshAgain = true;
      this.#pendingResync ||= everything;
      return;
    }
    this.#refreshing = true;
    this.#pendingResync ||= everything;
    void (async () => {
      try {
        do {
          this.#refreshAgain = false;
          const resync = this.#pendingResync;
          this.#pendingResync = false;
          if (resync) {
            if (!(await this.#read())) return this.#owner.drop(this);
            for (const entry of this.#renditions.values()) {
              entry.model.addParts(await this.#owner.registry.listRecentParts(this.runId, entry.model.name, entry.model.partsFrom));
            }
          } else {
            const record = await this.#owner.registry.getRun(this.runId);
            if (!record) return this.#owner.drop(this);
            await this.#setRecord(record);
          }
        } while (this.#refreshAgain && !this.#closed);
      } catch (error) {
        this.#owner.logger.warn({ err: error, runId: this.runId }, 'live edge: run refresh failed');
        this.#scheduleRetry(true);
      } finally {
        this.#refreshing = false;
      }
    })();
  }

  #scheduleRetry(everything: boolean): void {
    if (this.#retry || this.#closed) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#refresh(everything);
    }, RETRY_MS);
    this.#retry.unref();
  }

  async #setRecord(record: RunRecord): Promise<void> {
    // A slower read of an older publish must not roll the playlists back.
    if (this.#record !== undefined && record.playlistSequence < this.#record.playlistSequence) return;
    this.#record = record;
    await Promise.all([...this.#renditions.values()].map((entry) => this.#publishTo(entry, record)));
    for (const { model } of this.#renditions.values()) model.changed();
    for (const waiter of [...this.#waiters]) if (waiter.ready(record)) waiter.settle(record);
  }

  /** Drops the rendition models nobody used since `before` and nobody waits on; true when nothing of the run is left in use. */
  sweep(before: number): boolean {
    for (const [name, { model }] of this.#renditions) {
      if (model.lastUsed < before && model.waiting === 0) {
        this.#renditions.delete(name);
        model.close();
      }
    }
    return this.#renditions.size === 0 && this.#waiters.size === 0 && this.lastUsed < before;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    clearTimeout(this.#retry);
    for (const { model } of this.#renditions.values()) model.close();
    this.#renditions.clear();
    for (const waiter of [...this.#waiters]) waiter.settle(undefined);
  }
}

/** Whether `name` is one of the run's subtitle tracks (its WebVTT parts and segments are recorded under it). */
export function isSubtitleTrack(record: RunRecord, name: string): boolean {
  return record.tracks?.subtitles !== undefined && Object.hasOwn(record.tracks.subtitles, name);
}

/** The process's live models, by run id. */
export class LiveRuns {
  readonly registry: RunRegistry;
  readonly playlists: PlaylistCache;
  readonly logger: ServerLogger;
  readonly #idleMs: number;
  readonly #runs = new Map<string, { run: LiveRun; ready: Promise<LiveRun | undefined> }>();
  readonly #sweeper: NodeJS.Timeout;

  constructor(options: LiveRunsOptions) {
    this.registry = options.registry;
    this.playlists = options.playlists;
    this.logger = options.logger;
    this.#idleMs = options.idleMs ?? LIVE_MODEL_IDLE_MS;
    this.#sweeper = setInterval(() => this.sweep(), Math.max(10, this.#idleMs / 2));
    this.#sweeper.unref();
  }

  /** The run's model, loaded on first use (concurrent first uses share one load); undefined when there is no such run. */
  async run(runId: string): Promise<LiveRun | undefined> {
    let entry = this.#runs.get(runId);
    if (!entry) {
      const run = new LiveRun(this, runId);
      const ready = run.load().then(
        (found) => {
          if (found) return run;
          this.drop(run);
          return undefined;
        },
        (error: unknown) => {
          this.drop(run);
          throw error;
        },
      );
      this.#runs.set(runId, (entry = { run, ready }));
    }
    entry.run.lastUsed = performance.now();
    return entry.ready;
  }

  /** Runs, rendition models and requests waiting on them (for /metrics and tests). */
  get counts(): { runs: number; renditions: number; waiting: number } {
    let renditions = 0;
    let waiting = 0;
    for (const { run } of this.#runs.values()) {
      renditions += run.renditionCount;
      waiting += run.waiting;
    }
    return { runs: this.#runs.size, renditions, waiting };
  }

  /** Forgets a run (deleted, not found, or idle). */
  drop(run: LiveRun): void {
    if (this.#runs.get(run.runId)?.run === run) this.#runs.delete(run.runId);
    run.close();
  }

  /** Drops the models nobody used for idleMs (and nobody waits on). */
  sweep(now = performance.now()): void {
    for (const { run } of [...this.#runs.values()]) if (run.sweep(now - this.#idleMs)) this.drop(run);
  }

  close(): void {
    clearInterval(this.#sweeper);
    for (const { run } of [...this.#runs.values()]) this.drop(run);
  }
}
