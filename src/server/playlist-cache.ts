// Media playlist texts by CID, with their gzip encoding: each playlist is
// compressed once however many viewers poll it. Bounded in entries too, because
// a long run publishes a new playlist CID per segment and rendition.
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { parseMediaPlaylist } from '../hls/parse-media-playlist.js';
import type { MediaPlaylist } from '../hls/types.js';
import type { ContentStore } from '../store/content-store.js';
import { CidCache } from './cid-cache.js';

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

export class PlaylistCache extends CidCache<CachedPlaylist> {
  constructor(
    readonly store: Pick<ContentStore, 'cat'>,
    readonly maxEntries = 256,
    readonly maxBytes = 16 * 1024 * 1024,
  ) {
    super({ load: (cid) => loadPlaylist(store, cid), sizeOf: (entry) => entry.text.byteLength + entry.gzip.byteLength, maxBytes, maxEntries });
  }
}

/** The playlist, plain and gzipped. */
async function loadPlaylist(store: Pick<ContentStore, 'cat'>, cid: string): Promise<CachedPlaylist> {
  const bytes = await store.cat(cid);
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { text, gzip: await gzipAsync(text) };
}
