// The one interface the publisher, server and CLI see, whichever IPFS store backs it.
import { AbrcastError } from '../errors.js';

/** A byte range of a file, both ends inclusive like HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  /** First byte, from 0. */
  start: number;
  /** Last byte, inclusive; omitted means to the end of the file. Clamped to the file's last byte. */
  end?: number;
}

export interface ContentStore {
  readonly kind: 'kubo' | 'helia';
  /** Imports `bytes` as one UnixFS file under the unixfs-v1-2025 profile, keeps it (pinned), returns its base32 CIDv1. */
  add(bytes: Uint8Array): Promise<string>;
  /**
   * Like add(), for one version of something that changes (a live playlist): it is
   * kept until releaseVersion() names it, so a long run keeps only its newest versions.
   */
  addVersion(bytes: Uint8Array): Promise<string>;
  /**
   * Like add(), for bytes needed only for a short while that what add() keeps
   * holds again (an LL-HLS part: its bytes are in its segment). A store over
   * several peers keeps it on one, so the live edge does not wait for replicas;
   * a store without the method is given add() instead.
   */
  addTransient?(bytes: Uint8Array): Promise<string>;
  /**
   * Stops keeping `cid`, an older version added by addVersion() that nothing names
   * any more. Blocks that anything else still uses stay. Unknown CIDs are left alone.
   */
  releaseVersion(cid: string): Promise<void>;
  /** The whole file. */
  cat(cid: string): Promise<Uint8Array>;
  /** The file, or the inclusive `range` of it, as it is read (for HTTP Range answers). */
  catStream(cid: string, range?: ByteRange): AsyncIterable<Uint8Array>;
  /** File size in bytes (for Content-Length and Range checks). */
  size(cid: string): Promise<number>;
  /** Whether the file's root block is held locally (no network lookup). */
  has(cid: string): Promise<boolean>;
  close(): Promise<void>;
}

export interface StoreUnavailableInit {
  store: 'kubo' | 'helia';
  /** The RPC URL or blockstore directory that failed. */
  location: string;
  /** Short cause, e.g. "connect ECONNREFUSED 127.0.0.1:5001". */
  reason: string;
  /** What the user can do about it. */
  fix: string;
  cause?: unknown;
}

/**
 * The store itself cannot be reached or opened (as opposed to a bad CID or missing
 * content): the message names the place and the cause, `fix` says what to do.
 */
export class StoreUnavailableError extends AbrcastError {
  readonly store: 'kubo' | 'helia';
  readonly location: string;
  readonly reason: string;
  readonly fix: string;

  constructor(init: StoreUnavailableInit) {
    const what = init.store === 'kubo' ? 'Kubo RPC not reachable at' : 'IPFS blockstore not usable at';
    super(`${what} ${init.location}: ${init.reason}`, { cause: init.cause });
    this.name = 'StoreUnavailableError';
    this.store = init.store;
    this.location = init.location;
    this.reason = init.reason;
    this.fix = init.fix;
  }
}

/**
 * The store was asked to read a CID as a file and cannot: the block under it
 * is another codec's data (a hash relabelled as dag-pb), a directory, or
 * absent. A fact about the CID, not about the store's health: a server answers 404.
 */
export class UnreadableContentError extends AbrcastError {
  readonly cid: string;

  constructor(cid: string, reason: string, cause?: unknown) {
    super(`${cid} is not a file in this store: ${reason}`, { cause });
    this.name = 'UnreadableContentError';
    this.cid = cid;
  }
}
