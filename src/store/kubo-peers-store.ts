// A store over several Kubo peers. An add goes to the first peer that answers
// (through KuboStore, so the CIDs are the same as with one peer) and counts as
// done only once `replicas` peers pin it; until then add() rejects, and the
// caller's retry (the upload queue's backoff, the journal keeping the bytes) adds
// again, which costs little: the pins already made stay. Reads go to the first
// peer that answers; a peer that lacks a block fetches it from the others.
import { invalidParameterError, isInteger } from '../errors.js';
import { StoreUnavailableError, type ByteRange, type ContentStore } from './content-store.js';
import { KuboPeerSet, noPeerAnswered } from './kubo-peer-set.js';
import { KuboStore, normalizeKuboUrl } from './kubo-store.js';
import { KuboPinReplicator, type PinReplicator } from './pin-replicator.js';
import { assertBytes, collectBytes, parseCid } from './store-arguments.js';
import type { UnixfsProfile } from './unixfs-profile.js';

export interface KuboPeersStoreOptions {
  /** The peers' RPC addresses (without /api/v0), nearest first: reads prefer the earlier ones. */
  peers: string[];
  /** How many peers must pin a file before add() resolves: 1 to peers.length. Default: 1. */
  replicas?: number;
  /** Each peer's call deadline, as KuboStoreOptions.timeoutMs. Default: 30000. */
  timeoutMs?: number;
  /** Import settings; only tests change this. Default: UNIXFS_V1_2025. */
  profile?: UnixfsProfile;
  /** Who makes the copies. Default: KuboPinReplicator (`pin add` on the other peers, over bitswap). */
  replicator?: PinReplicator;
}

function checkPeers(peers: unknown): string[] {
  const expected = 'non-empty array of Kubo RPC URLs';
  if (!Array.isArray(peers) || peers.length === 0) throw invalidParameterError('peers', expected, peers);
  const urls = peers.map((url, i) => {
    try {
      return normalizeKuboUrl(url);
    } catch {
      throw invalidParameterError(`peers[${i}]`, 'http(s) URL string', url);
    }
  });
  const repeated = urls.find((url, i) => urls.indexOf(url) !== i);
  if (repeated !== undefined) throw invalidParameterError('peers', 'array of distinct Kubo RPC URLs', repeated);
  return urls;
}

export class KuboPeersStore implements ContentStore {
  readonly kind = 'kubo' as const;
  /** The peers' RPC URLs, normalized, in the given order. */
  readonly urls: readonly string[];
  readonly replicas: number;
  readonly #peers: KuboPeerSet;
  readonly #replicator: PinReplicator;

  constructor(options: KuboPeersStoreOptions) {
    if (typeof options !== 'object' || options === null) throw invalidParameterError('options', 'object', options);
    this.urls = checkPeers(options.peers);
    const replicas = options.replicas ?? 1;
    if (!isInteger(replicas) || replicas < 1 || replicas > this.urls.length) {
      throw invalidParameterError('replicas', `integer from 1 to ${this.urls.length} (the number of peers)`, replicas);
    }
    this.replicas = replicas;
    this.#peers = new KuboPeerSet(this.urls.map((url) => new KuboStore({ url, timeoutMs: options.timeoutMs, profile: options.profile })));
    this.#replicator = options.replicator ?? new KuboPinReplicator(this.#peers);
  }

  /**
   * Resolves when at least `replicas` peers answer (fewer could publish nothing);
   * StoreUnavailableError naming the ones that do not, otherwise.
   */
  async ping(): Promise<void> {
    const results = await Promise.allSettled(this.#peers.peers.map((peer) => this.#peers.on(peer, (p) => p.ping())));
    const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
    const other = failures.find((reason) => !(reason instanceof StoreUnavailableError));
    if (other !== undefined) throw other;
    const answering = results.length - failures.length;
    if (answering < this.replicas) {
      throw noPeerAnswered(failures as StoreUnavailableError[], `${answering} of ${results.length} Kubo peers answer, ${this.replicas} needed for replicas=${this.replicas}: `);
    }
  }

  add(bytes: Uint8Array): Promise<string> {
    return this.#addReplicated(bytes);
  }

  /** Playlist versions are replicated like segments: a server on any peer must read the one the registry names. */
  addVersion(bytes: Uint8Array): Promise<string> {
    return this.#addReplicated(bytes);
  }

  /** On the first peer that answers only: an LL part is re-derivable from its (replicated) segment, and every part add is on the live edge. */
  async addTransient(bytes: Uint8Array): Promise<string> {
    assertBytes(bytes);
    return (await this.#peers.first((p) => p.add(bytes))).result;
  }

  async #addReplicated(bytes: Uint8Array): Promise<string> {
    assertBytes(bytes);
    const { peer, result: cid } = await this.#peers.first((p) => p.add(bytes));
    await this.#replicator.pin(cid, peer.url, this.replicas);
    return cid;
  }

  /** Unpins on every peer that answers; one that is down keeps that old version pinned (a few bytes, never wrong). */
  releaseVersion(cid: string): Promise<void> {
    parseCid(cid);
    return this.#replicator.unpin(cid);
  }

  async cat(cid: string): Promise<Uint8Array> {
    return collectBytes(this.catStream(cid));
  }

  /** From the first peer that answers; a peer that fails before its first chunk hands over to the next. */
  async *catStream(cid: string, range?: ByteRange): AsyncIterable<Uint8Array> {
    const failures: StoreUnavailableError[] = [];
    for (const peer of this.#peers.ordered()) {
      let started = false;
      try {
        for await (const chunk of peer.catStream(cid, range)) {
          started = true;
          yield chunk;
        }
        return;
      } catch (error) {
        if (started || !(error instanceof StoreUnavailableError)) throw error;
        this.#peers.failed(peer);
        failures.push(error);
      }
    }
    throw noPeerAnswered(failures);
  }

  async size(cid: string): Promise<number> {
    return (await this.#peers.first((peer) => peer.size(cid))).result;
  }

  /** Whether any peer holds the file's root block itself (asked in order, no network lookups). */
  async has(cid: string): Promise<boolean> {
    parseCid(cid);
    const failures: StoreUnavailableError[] = [];
    for (const peer of this.#peers.ordered()) {
      try {
        if (await this.#peers.on(peer, (p) => p.has(cid))) return true;
      } catch (error) {
        if (!(error instanceof StoreUnavailableError)) throw error;
        failures.push(error);
      }
    }
    if (failures.length === this.urls.length) throw noPeerAnswered(failures);
    return false;
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.#peers.peers.map((peer) => peer.close()));
  }
}
