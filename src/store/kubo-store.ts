// A store backed by a running Kubo daemon over its HTTP RPC. Every add passes the
// whole unixfs-v1-2025 profile as flags, so the node's own Import config does not
// change the CIDs (except Import.UnixFSPBNodeFieldOrder=data-first, which has no
// per-call flag and which no Kubo profile sets).
import type { AddOptions, KuboRPCClient } from 'kubo-rpc-client';
import { AbrcastError, invalidParameterError, isPositiveFinite } from '../errors.js';
import { NETWORK_ERROR_CODES } from '../network-error-codes.js';
import { StoreUnavailableError, UnreadableContentError, type ByteRange, type ContentStore } from './content-store.js';
import { assertBytes, collectBytes, parseCid, toOffsetLength } from './store-arguments.js';
import { UNIXFS_V1_2025, validateProfile, type UnixfsProfile } from './unixfs-profile.js';

export const DEFAULT_KUBO_URL = 'http://127.0.0.1:5001';
export const DEFAULT_KUBO_TIMEOUT_MS = 30_000;

export interface KuboStoreOptions {
  /** RPC address, without /api/v0. Default: http://127.0.0.1:5001 */
  url?: string;
  /**
   * How long one call may wait for the daemon: the whole of add/size/has, and the
   * gap between two chunks of a cat (so long downloads are not cut). Default: 30000.
   */
  timeoutMs?: number;
  /** Import settings; only tests change this. Default: UNIXFS_V1_2025. */
  profile?: UnixfsProfile;
}

const KUBO_FIX = 'Start the daemon (`ipfs daemon`), or point abrcast at the right RPC URL, or use the embedded store.';

/** The innermost useful description when `error` is a failure to reach the daemon, else undefined. */
/**
 * A read Kubo answered with an error (it is up: a failure to reach it is a
 * StoreUnavailableError by then) cannot read the CID as a file: a block of
 * another codec under a dag-pb CID ("protobuf: ..."), a directory, a block it lacks.
 */
function unreadable(cid: string, error: unknown): unknown {
  if (!(error instanceof Error) || error.name !== 'HTTPError') return error;
  return new UnreadableContentError(cid, error.message, error);
}

function networkFailure(error: unknown): string | undefined {
  const chain: Error[] = [];
  for (let current: unknown = error; current instanceof Error && chain.length < 8; current = current.cause) {
    chain.push(current);
  }
  const top = chain[0];
  const isFetchFailure = top instanceof TypeError && (top.message === 'fetch failed' || top.message === 'terminated');
  const coded = chain.find((link) => NETWORK_ERROR_CODES.has(String((link as { code?: unknown }).code)));
  if (!isFetchFailure && !coded) return undefined;
  const source = coded ?? chain[chain.length - 1];
  const code = (source as { code?: unknown }).code;
  return source.message || (code !== undefined ? String(code) : 'connection failed');
}

/** An abort signal that fires after `ms` of running time; it can be paused while the consumer holds a chunk. */
class IdleDeadline {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  expired = false;

  constructor(private readonly ms: number) {
    this.resume();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  pause(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  resume(): void {
    this.pause();
    this.timer = setTimeout(() => {
      this.expired = true;
      this.controller.abort(new AbrcastError(`no answer within ${this.ms} ms`));
    }, this.ms);
  }
}

/** The RPC base as KuboStore keeps it: http(s), no trailing slash, no /api/v0. */
export function normalizeKuboUrl(url: unknown): string {
  if (typeof url !== 'string') throw invalidParameterError('url', 'http(s) URL string', url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidParameterError('url', 'http(s) URL string', url);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw invalidParameterError('url', 'http(s) URL string', url);
  }
  // Accept a pasted ".../api/v0"; the client adds it itself.
  const path = parsed.pathname.replace(/\/api\/v0\/?$/, '').replace(/\/$/, '');
  return `${parsed.protocol}//${parsed.host}${path}`;
}

export class KuboStore implements ContentStore {
  readonly kind = 'kubo' as const;
  readonly url: string;
  readonly timeoutMs: number;
  readonly profile: UnixfsProfile;
  /** kubo-rpc-client is loaded only by someone who makes a KuboStore: from the constructor on, awaited at first use. */
  private readonly clientModule: Promise<typeof import('kubo-rpc-client')>;
  private client!: KuboRPCClient;

  constructor(options: KuboStoreOptions = {}) {
    if (typeof options !== 'object' || options === null) throw invalidParameterError('options', 'object', options);
    this.url = normalizeKuboUrl(options.url ?? DEFAULT_KUBO_URL);
    const timeoutMs = options.timeoutMs ?? DEFAULT_KUBO_TIMEOUT_MS;
    if (!isPositiveFinite(timeoutMs)) throw invalidParameterError('timeoutMs', 'positive number', timeoutMs);
    this.timeoutMs = timeoutMs;
    this.profile = validateProfile(options.profile ?? UNIXFS_V1_2025);
    this.clientModule = import('kubo-rpc-client');
    // A failed load is reported by the first call that awaits it.
    this.clientModule.catch(() => {});
  }

  private async loadClient(): Promise<void> {
    if (this.client) return;
    const { create } = await this.clientModule;
    this.client ??= create({ url: this.url });
  }

  /** Resolves when the daemon answers; StoreUnavailableError otherwise. */
  async ping(): Promise<void> {
    await this.call((signal) => this.client.version({ signal }));
  }

  add(bytes: Uint8Array): Promise<string> {
    return this.importBytes(bytes);
  }

  addVersion(bytes: Uint8Array): Promise<string> {
    return this.importBytes(bytes);
  }

  /**
   * Unpins `cid`; `repo gc` (or Kubo's automatic GC) then frees its blocks, except
   * those another pin still reaches. Not `pin update`: the new version is pinned from
   * its add on, since a server may read the older one until the registry names the newer.
   */
  async releaseVersion(cid: string): Promise<void> {
    const parsed = parseCid(cid);
    try {
      await this.call((signal) => this.client.pin.rm(parsed, { signal, recursive: true }));
    } catch (error) {
      // Already unpinned (a repeat after a timeout whose first attempt went through).
      if (error instanceof Error && error.name === 'HTTPError' && /not pinned/i.test(error.message)) return;
      throw error;
    }
  }

  private async importBytes(bytes: Uint8Array): Promise<string> {
    assertBytes(bytes);
    const profile = this.profile;
    // Fields kubo-rpc-client does not type still reach the RPC: it kebab-cases every
    // option into a query flag (maxFileLinks -> max-file-links).
    const options: AddOptions & { maxFileLinks: number } = {
      cidVersion: profile.cidVersion,
      rawLeaves: profile.rawLeaves,
      hashAlg: profile.hashAlg,
      chunker: `size-${profile.chunkSize}`,
      maxFileLinks: profile.maxLinksPerNode,
      trickle: false,
      pin: true,
      wrapWithDirectory: false,
    };
    const result = await this.call((signal) => this.client.add(bytes, { ...options, signal }));
    return result.cid.toString();
  }

  async cat(cid: string): Promise<Uint8Array> {
    return collectBytes(this.catStream(cid));
  }

  async *catStream(cid: string, range?: ByteRange): AsyncIterable<Uint8Array> {
    const parsed = parseCid(cid);
    const { offset, length } = toOffsetLength(range);
    await this.loadClient();
    const deadline = new IdleDeadline(this.timeoutMs);
    try {
      for await (const chunk of this.client.cat(parsed, { offset, length, signal: deadline.signal })) {
        // Only the daemon's time counts, not the time our reader keeps the chunk.
        deadline.pause();
        yield chunk;
        deadline.resume();
      }
    } catch (error) {
      throw unreadable(cid, this.translate(error, deadline));
    } finally {
      deadline.pause();
    }
  }

  async size(cid: string): Promise<number> {
    const parsed = parseCid(cid);
    try {
      const stat = await this.call((signal) => this.client.files.stat(`/ipfs/${parsed}`, { signal }));
      return Number(stat.size);
    } catch (error) {
      throw unreadable(cid, error);
    }
  }

  async has(cid: string): Promise<boolean> {
    const parsed = parseCid(cid);
    try {
      // offline: answer from the local blockstore instead of asking the network.
      await this.call((signal) => this.client.block.stat(parsed, { signal, offline: true } as { signal: AbortSignal }));
      return true;
    } catch (error) {
      if (error instanceof Error && error.name === 'HTTPError' && /not found/i.test(error.message)) return false;
      throw error;
    }
  }

  /**
   * Pins `cid` recursively (`ipfs pin add`): blocks this node lacks come from its
   * connected peers over bitswap. A pin already there answers at once.
   */
  async pin(cid: string): Promise<void> {
    const parsed = parseCid(cid);
    await this.call((signal) => this.client.pin.add(parsed, { signal, recursive: true }));
  }

  /** This node's libp2p addresses (`ipfs id`), each ending in /p2p/<peer ID>, for another node to dial. */
  async swarmAddresses(): Promise<string[]> {
    const { id, addresses } = await this.call((signal) => this.client.id({ signal }));
    return addresses.map((address) => {
      const text = address.toString();
      return text.includes('/p2p/') ? text : `${text}/p2p/${id}`;
    });
  }

  /** Connects to one peer by its addresses (`ipfs swarm connect`); a connection already open counts. */
  async connect(addresses: readonly string[]): Promise<void> {
    // The RPC takes every address as one `arg` and dials the peer once; the client's type wants one Multiaddr.
    await this.call((signal) => this.client.swarm.connect([...addresses] as never, { signal }));
  }

  async close(): Promise<void> {
    // The client holds no open resources; nothing to release.
  }

  /** Runs one RPC under the deadline and turns transport failures into StoreUnavailableError. */
  private async call<T>(run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    await this.loadClient();
    const deadline = new IdleDeadline(this.timeoutMs);
    try {
      return await run(deadline.signal);
    } catch (error) {
      throw this.translate(error, deadline);
    } finally {
      deadline.pause();
    }
  }

  private translate(error: unknown, deadline: IdleDeadline): unknown {
    const reason = deadline.expired ? `no answer within ${this.timeoutMs} ms` : networkFailure(error);
    if (reason === undefined) return error;
    return new StoreUnavailableError({ store: 'kubo', location: this.url, reason, fix: KUBO_FIX, cause: error });
  }
}
