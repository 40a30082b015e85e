// Media playlist texts by CID, with their gzip encoding. A CID names its bytes
// forever, so an entry never goes stale and each playlist is compressed once
// however many viewers poll it; the cache is bounded (least recently used out)
// because a long run publishes a new playlist CID per segment and rendition.
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { parseMediaPlaylist } from '../hls/parse-media-playlist.js';
import type { MediaPlaylist } from '../hls/types.js';
import type { ContentStore } from '../store/content-store.js';

const gzipAsync = promisify(gzip);

export interface CachedPlaylist {
  text: Buffer;
  gzip: Buffer;
  /** The parsed model, filled in by the first LL-HLS request that needs it (see parsedPlaylist). */
  parsed?: MediaPlaylist;
}

/** The playlist's model, parsed once per cached CID. */
export function parsedPlaylist(entry: CachedPlaylist): MediaPlaylist {
  entry.parsed ??= parseMediaPlaylist(entry.text.toString('utf8'));
  return entry.parsed;
}

export class PlaylistCache {
  readonly #entries = new Map<string, CachedPlaylist>();
  readonly #pending = new Map<string, Promise<CachedPlaylist>>();
  #bytes = 0;

  constructor(
    readonly store: Pick<ContentStore, 'cat'>,
    readonly maxEntries = 256,
    readonly maxBytes = 16 * 1024 * 1024,
  ) {}

  get size(): number {
    return this.#entries.size;
  }

  /** The playlist, plain and gzipped; concurrent requests for the same CID share one store read. */
  async get(cid: string): Promise<CachedPlaylist> {
    const cached = this.#entries.get(cid);
    if (cached !== undefined) {
      this.#entries.delete(cid);
      this.#entries.set(cid, cached);
      return cached;
    }
    let pending = this.#pending.get(cid);
    if (!pending) {
      pending = this.#load(cid);
      this.#pending.set(cid, pending);
      pending.then((entry) => this.#put(cid, entry), () => undefined).finally(() => this.#pending.delete(cid));
    }
    return pending;
  }

  async #load(cid: string): Promise<CachedPlaylist> {
    const bytes = await this.store.cat(cid);
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return { text, gzip: await gzipAsync(text) };
  }

  #put(cid: string, entry: CachedPlaylist): void {
    const size = entry.text.byteLength + entry.gzip.byteLength;
    if (this.#entries.has(cid) || size > this.maxBytes) return;
    this.#entries.set(cid, entry);
    this.#bytes += size;
    for (const [oldest, value] of this.#entries) {
      if (this.#entries.size <= this.maxEntries && this.#bytes <= this.maxBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= value.text.byteLength + value.gzip.byteLength;
    }
  }
}
