// The one place a run's media bytes go to the content store: segments (the
// segment lane, on every attempt), parts and init segments (the part lane).
// Each call names the resource, so whatever depends on what the bytes are
// (which store call keeps them; encryption) is decided here only. Playlists are
// not media: players read them as text, and the publisher stores them as
// versions (addVersion).
//
// In an encrypted run every resource is encrypted here, before its bytes leave
// the process (ResourceCipher): the store, and every gateway, only ever hold
// ciphertext. The journal on local disk keeps the clear bytes the encoder made.
// Subtitles and thumbnails (CompanionResource) are stored clear, and an encrypted run makes none.
import { AbrcastError } from '../errors.js';
import type { ResourceKey } from '../hls/types.js';
import type { ContentStore } from '../store/content-store.js';
import type { ResourceCipher } from './resource-cipher.js';

/** A media resource of a run, as it goes to the store. */
export type MediaResource =
  | { kind: 'segment'; rendition: string; index: number }
  | { kind: 'init'; rendition: string }
  | { kind: 'part'; rendition: string; segmentIndex: number; partIndex: number };

/** What a run stores beside its media (src/publish/companion-lane.ts): always clear. */
export type CompanionResource =
  /** A WebVTT file of a subtitle track for one segment, or (LL-HLS) one part. */
  | { kind: 'subtitle'; track: string; index: number }
  | { kind: 'subtitle-part'; track: string; segmentIndex: number; partIndex: number }
  /** A JPEG of a segment's first frame. */
  | { kind: 'thumbnail'; index: number };

/**
 * What the resource store needs of a content store. Parts go to addTransient, else to
 * addVersion (so they can be released), else to add() (kept for good).
 */
export type ResourceTarget = Pick<ContentStore, 'add'> & Partial<Pick<ContentStore, 'addTransient' | 'addVersion' | 'releaseVersion'>>;

export class ResourceStore {
  readonly #store: ResourceTarget;
  readonly #cipher?: Pick<ResourceCipher, 'encrypt' | 'keyOf'>;

  /** With `cipher`, every resource is stored encrypted. */
  constructor(store: ResourceTarget, cipher?: Pick<ResourceCipher, 'encrypt' | 'keyOf'>) {
    this.#store = store;
    this.#cipher = cipher;
  }

  /** Stores one resource's bytes (encrypted in an encrypted run); resolves with its CID. */
  async add(resource: MediaResource, bytes: Uint8Array): Promise<string> {
    const store = this.#store;
    const stored = this.#cipher ? await this.#cipher.encrypt(resource, bytes) : bytes;
    // A part is needed briefly: its segment holds the same media again (ContentStore.addTransient), and it is released.
    if (resource.kind === 'part') {
      if (store.addTransient) return store.addTransient(stored);
      if (store.addVersion) return store.addVersion(stored);
    }
    return store.add(stored);
  }

  /** Stores a subtitle file or a thumbnail, clear (an encrypted run makes none); resolves with its CID. */
  async addCompanion(resource: CompanionResource, bytes: Uint8Array): Promise<string> {
    if (this.#cipher) throw new AbrcastError(`A ${resource.kind} is not encrypted: an encrypted run stores no subtitles or thumbnails`);
    const store = this.#store;
    // A subtitle part is needed briefly, as a media part is: its segment's file holds the same cues.
    if (resource.kind === 'subtitle-part' && store.addTransient) return store.addTransient(bytes);
    return store.add(bytes);
  }

  /** The key and IV the resource is encrypted with; undefined in a clear run. */
  async keyOf(resource: MediaResource): Promise<ResourceKey | undefined> {
    return this.#cipher?.keyOf(resource);
  }

  /** Whether parts can be released (the store has releaseVersion): without it they are kept. */
  get releasesParts(): boolean {
    return this.#store.releaseVersion !== undefined;
  }

  /** Stops keeping a part (an LL-HLS part whose segment is stored and that no playlist lists any more). */
  async releasePart(cid: string): Promise<void> {
    await this.#store.releaseVersion?.(cid);
  }
}
