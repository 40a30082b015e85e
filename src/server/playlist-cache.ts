// Media playlist texts by CID. A CID names its bytes forever, so an entry never
// goes stale; the cache is bounded (least recently used out) because a long run
// publishes a new playlist CID per segment and rendition.
import type { ContentStore } from '../store/content-store.js';

export class PlaylistCache {
  readonly #entries = new Map<string, string>();
  readonly #pending = new Map<string, Promise<string>>();
  #bytes = 0;

  constructor(
    readonly store: Pick<ContentStore, 'cat'>,
    readonly maxEntries = 256,
    readonly maxBytes = 16 * 1024 * 1024,
  ) {}

  get size(): number {
    return this.#entries.size;
  }

  /** The playlist text; concurrent requests for the same CID share one store read. */
  async get(cid: string): Promise<string> {
    const cached = this.#entries.get(cid);
    if (cached !== undefined) {
      this.#entries.delete(cid);
      this.#entries.set(cid, cached);
      return cached;
    }
    let pending = this.#pending.get(cid);
    if (!pending) {
      pending = this.store.cat(cid).then((bytes) => new TextDecoder().decode(bytes));
      this.#pending.set(cid, pending);
      pending.then((text) => this.#put(cid, text), () => undefined).finally(() => this.#pending.delete(cid));
    }
    return pending;
  }

  #put(cid: string, text: string): void {
    if (this.#entries.has(cid) || text.length > this.maxBytes) return;
    this.#entries.set(cid, text);
    this.#bytes += text.length;
    for (const [oldest, value] of this.#entries) {
      if (this.#entries.size <= this.maxEntries && this.#bytes <= this.maxBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= value.length;
    }
  }
}
