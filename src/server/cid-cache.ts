// Values loaded from the store by CID and kept in memory. A CID names its bytes
// forever, so an entry never goes stale; the cache is bounded in bytes (and
// optionally in entries), least recently used out, and concurrent requests for
// one CID share one load.

export interface CidCacheOptions<V> {
  /** Reads (and prepares) the value of a CID; a rejection is passed on and not kept. */
  load: (cid: string) => Promise<V>;
  /** Bytes an entry holds. */
  sizeOf: (value: V) => number;
  /** Bytes kept in all. */
  maxBytes: number;
  /** Entries kept in all (default: no limit but maxBytes). */
  maxEntries?: number;
  /** A value larger than this is passed on but not kept (default maxBytes). */
  maxEntryBytes?: number;
}

export class CidCache<V> {
  readonly #entries = new Map<string, V>();
  readonly #pending = new Map<string, Promise<V>>();
  readonly #options: Required<CidCacheOptions<V>>;
  #bytes = 0;

  constructor(options: CidCacheOptions<V>) {
    this.#options = { maxEntries: Infinity, maxEntryBytes: options.maxBytes, ...options };
  }

  get size(): number {
    return this.#entries.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** The CID's value; concurrent requests for one CID share one load. */
  get(cid: string): Promise<V> {
    const cached = this.#entries.get(cid);
    if (cached !== undefined) {
      this.#entries.delete(cid);
      this.#entries.set(cid, cached);
      return Promise.resolve(cached);
    }
    let pending = this.#pending.get(cid);
    if (!pending) {
      pending = this.#options.load(cid);
      this.#pending.set(cid, pending);
      pending.then((value) => this.#put(cid, value), () => undefined).finally(() => this.#pending.delete(cid));
    }
    return pending;
  }

  #put(cid: string, value: V): void {
    const { sizeOf, maxBytes, maxEntries, maxEntryBytes } = this.#options;
    const size = sizeOf(value);
    if (this.#entries.has(cid) || size > maxEntryBytes) return;
    this.#entries.set(cid, value);
    this.#bytes += size;
    for (const [oldest, old] of this.#entries) {
      if (this.#entries.size <= maxEntries && this.#bytes <= maxBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= sizeOf(old);
    }
  }
}
