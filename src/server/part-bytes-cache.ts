// The bytes of recent LL-HLS parts by CID. Every viewer of a rendition fetches
// each part within a fraction of a second of the others, so a part is read
// from the store once and sent from memory to all of them (a Kubo RPC per
// viewer per part would cost more than the rest of serving). A CID names its
// bytes forever, so an entry never goes stale; the cache is bounded in bytes,
// least recently used out.
import type { ContentStore } from '../store/content-store.js';

export class PartBytesCache {
  readonly #entries = new Map<string, Buffer>();
  readonly #pending = new Map<string, Promise<Buffer>>();
  #bytes = 0;

  constructor(
    readonly store: Pick<ContentStore, 'cat'>,
    /** Bytes kept in all (default 64 MiB: seconds of parts of a few busy runs). */
    readonly maxBytes = 64 * 1024 * 1024,
  ) {}

  get bytes(): number {
    return this.#bytes;
  }

  /** The part's bytes; concurrent requests for one CID share one store read. */
  get(cid: string): Promise<Buffer> {
    const cached = this.#entries.get(cid);
    if (cached !== undefined) {
      this.#entries.delete(cid);
      this.#entries.set(cid, cached);
      return Promise.resolve(cached);
    }
    let pending = this.#pending.get(cid);
    if (!pending) {
      pending = this.store.cat(cid).then((bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      this.#pending.set(cid, pending);
      pending.then((bytes) => this.#put(cid, bytes), () => undefined).finally(() => this.#pending.delete(cid));
    }
    return pending;
  }

  #put(cid: string, bytes: Buffer): void {
    if (this.#entries.has(cid) || bytes.byteLength > this.maxBytes / 16) return;
    this.#entries.set(cid, bytes);
    this.#bytes += bytes.byteLength;
    for (const [oldest, value] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= value.byteLength;
    }
  }
}
