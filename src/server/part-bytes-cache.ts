// The bytes of recent LL-HLS parts by CID. Every viewer of a rendition fetches
// each part within a fraction of a second of the others, so a part is read
// from the store once and sent from memory to all of them (a Kubo RPC per
// viewer per part would cost more than the rest of serving).
import type { ContentStore } from '../store/content-store.js';
import { CidCache } from './cid-cache.js';

export class PartBytesCache extends CidCache<Buffer> {
  constructor(
    readonly store: Pick<ContentStore, 'cat'>,
    /** Bytes kept in all (default 64 MiB: seconds of parts of a few busy runs); a part over 1/16 of it is not kept. */
    readonly maxBytes = 64 * 1024 * 1024,
  ) {
    super({
      load: (cid) => store.cat(cid).then((bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)),
      sizeOf: (bytes) => bytes.byteLength,
      maxBytes,
      maxEntryBytes: maxBytes / 16,
    });
  }
}
