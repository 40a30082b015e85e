// The one place a run's media bytes go to the content store: segments (the
// segment lane, on every attempt), parts and init segments (the part lane).
// Each call names the resource, so whatever depends on what the bytes are
// (which store call keeps them; a later stage such as encryption) is decided
// here only. Playlists are not media: players read them as text, and the
// publisher stores them as versions (addVersion).
import type { ContentStore } from '../store/content-store.js';

/** A media resource of a run, as it goes to the store. */
export type MediaResource =
  | { kind: 'segment'; rendition: string; index: number }
  | { kind: 'init'; rendition: string }
  | { kind: 'part'; rendition: string; segmentIndex: number; partIndex: number }
  /** A WebVTT file of a subtitle track for one segment, or (LL-HLS) one part. */
  | { kind: 'subtitle'; track: string; index: number }
  | { kind: 'subtitle-part'; track: string; segmentIndex: number; partIndex: number }
  /** A JPEG of a segment's first frame. */
  | { kind: 'thumbnail'; index: number };

/** What the resource store needs of a content store; without addTransient, parts go to add(). */
export type ResourceTarget = Pick<ContentStore, 'add'> & Partial<Pick<ContentStore, 'addTransient'>>;

export class ResourceStore {
  readonly #store: ResourceTarget;

  constructor(store: ResourceTarget) {
    this.#store = store;
  }

  /** Stores one resource's bytes; resolves with its CID. */
  add(resource: MediaResource, bytes: Uint8Array): Promise<string> {
    const store = this.#store;
    // A part is needed briefly: its segment holds the same bytes again (ContentStore.addTransient).
    if ((resource.kind === 'part' || resource.kind === 'subtitle-part') && store.addTransient) return store.addTransient(bytes);
    return store.add(bytes);
  }
}
