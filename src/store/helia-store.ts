// The embedded default store: UnixFS over a plain directory of blocks, no daemon.
// Offline by default; with `offline: false` it is also an IPFS node (libp2p and
// bitswap, see helia-network.ts) that serves its blocks and fetches missing ones.
// What add() stores stays until the directory is removed: that is
// this store's "pin". Versions (addVersion) are the exception: releaseVersion()
// deletes the blocks that only that version uses, so a live run's many playlist
// versions do not pile up.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { AddOptions, UnixFS } from '@helia/unixfs';
import type { FsBlockstore } from 'blockstore-fs';
import { CID } from 'multiformats/cid';
import { AbrcastError, invalidParameterError, isPositiveFinite } from '../errors.js';
import type { HeliaNetwork, HeliaNetworkOptions } from './helia-network.js';
import { StoreUnavailableError, UnreadableContentError, type ByteRange, type ContentStore } from './content-store.js';
import { assertBytes, collectBytes, parseCid, toOffsetLength } from './store-arguments.js';
import { UNIXFS_V1_2025, validateProfile, type UnixfsProfile } from './unixfs-profile.js';

export interface HeliaStoreOptions {
  /** Blockstore directory, created when missing. Default: defaultHeliaDir(). */
  dir?: string;
  /** Import settings; only tests change this. Default: UNIXFS_V1_2025. */
  profile?: UnixfsProfile;
  /**
   * No libp2p node: nothing is served to or fetched from other IPFS nodes.
   * Default true, so opening a store opens no port unless asked.
   */
  offline?: boolean;
  /** When online: multiaddrs to listen on. Default ['/ip4/0.0.0.0/tcp/0'] (a free port). */
  listen?: string[];
  /** When online: multiaddrs to announce instead of the listening ones. Default none. */
  announce?: string[];
  /** When online: peers to connect to at start, multiaddrs ending in /p2p/<peerId>. Default none. */
  peers?: string[];
  /** When online: how long reading a file may wait for blocks from peers, in ms. Default 30 000. */
  fetchTimeoutMs?: number;
}

const DEFAULT_LISTEN = ['/ip4/0.0.0.0/tcp/0'];
const DEFAULT_FETCH_TIMEOUT_MS = 30_000;
/** What the UnixFS exporter throws for a CID that names no file: another codec's data, a directory, a codec it cannot read. */
const NOT_A_FILE = new Set(['NotUnixFSError', 'NoResolverError', 'NotAFileError']);

function checkAddresses(name: string, value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalidParameterError(name, 'array of multiaddr strings', value);
  value.forEach((item, index) => {
    if (typeof item !== 'string' || !item.startsWith('/')) {
      throw invalidParameterError(`${name}[${index}]`, 'multiaddr string such as /ip4/0.0.0.0/tcp/4002', item);
    }
  });
  return [...value];
}

/** ~/.abrcast/ipfs */
export function defaultHeliaDir(): string {
  return join(homedir(), '.abrcast', 'ipfs');
}

type Chunker = NonNullable<AddOptions['chunker']>;
type FileLayout = NonNullable<AddOptions['layout']>;

/** Splits the input into `chunkSize` pieces (the last may be shorter); empty input is one empty chunk, as in Kubo. */
function fixedSizeChunker(chunkSize: number): Chunker {
  return async function* chunk(source) {
    let pending: Uint8Array[] = [];
    let pendingLength = 0;
    let emitted = false;
    const takePending = (): Uint8Array => {
      const out = pending.length === 1 ? pending[0] : new Uint8Array(pendingLength);
      if (pending.length !== 1) {
        let at = 0;
        for (const piece of pending) {
          out.set(piece, at);
          at += piece.byteLength;
        }
      }
      pending = [];
      pendingLength = 0;
      return out;
    };
    for await (let buffer of source) {
      while (pendingLength + buffer.byteLength >= chunkSize) {
        const take = chunkSize - pendingLength;
        pending.push(buffer.subarray(0, take));
        pendingLength += take;
        buffer = buffer.subarray(take);
        emitted = true;
        yield takePending();
      }
      if (buffer.byteLength > 0) {
        pending.push(buffer);
        pendingLength += buffer.byteLength;
      }
    }
    if (!emitted || pendingLength > 0) yield takePending();
  };
}

/** Kubo's balanced layout: group up to `maxChildren` nodes under a parent, level by level, until one root is left. */
function balancedLayout(maxChildren: number): FileLayout {
  return async function layout(source, reduce) {
    let level: Awaited<ReturnType<typeof reduce>>[] = [];
    let group: Awaited<ReturnType<typeof reduce>>[] = [];
    for await (const leaf of source) {
      group.push(leaf);
      if (group.length === maxChildren) {
        level.push(await reduce(group));
        group = [];
      }
    }
    if (group.length > 0) level.push(await reduce(group));
    while (level.length > 1) {
      const parents = [];
      for (let i = 0; i < level.length; i += maxChildren) parents.push(await reduce(level.slice(i, i + maxChildren)));
      level = parents;
    }
    return level[0];
  };
}

/** Importer options that give Kubo's CIDs for `profile` (checked against Kubo by test/store/golden-cid.test.ts). */
export function heliaImporterOptions(profile: UnixfsProfile): AddOptions {
  return {
    cidVersion: profile.cidVersion,
    rawLeaves: profile.rawLeaves,
    // A file of one chunk is that raw leaf itself, as in Kubo.
    reduceSingleLeafToSelf: true,
    fieldOrder: 'links-first',
    chunker: fixedSizeChunker(profile.chunkSize),
    layout: balancedLayout(profile.maxLinksPerNode),
    wrapWithDirectory: false,
  };
}

interface OpenStore {
  blockstore: FsBlockstore;
  fs: UnixFS;
  network?: HeliaNetwork;
}

type BlockPut = FsBlockstore['put'];

/**
 * Which blocks addVersion() wrote, so releaseVersion() can delete them. A block is
 * only ever deleted when this process created it for versions alone: one that was
 * on disk before (another run, a segment) or that add() also wrote is never counted.
 */
class VersionBlocks {
  /** Version root -> the blocks each of its imports counted (the same bytes may be added as two versions). */
  readonly #roots = new Map<string, string[][]>();
  /** Block -> how many live versions use it. */
  readonly #uses = new Map<string, number>();

  /** Records a version's blocks: `created` were new on disk, `existing` were there already. */
  addVersion(root: string, created: Iterable<string>, existing: Iterable<string>): void {
    const counted: string[] = [];
    for (const block of created) {
      this.#uses.set(block, (this.#uses.get(block) ?? 0) + 1);
      counted.push(block);
    }
    for (const block of existing) {
      const uses = this.#uses.get(block);
      if (uses === undefined) continue; // someone else's block: never ours to delete
      this.#uses.set(block, uses + 1);
      counted.push(block);
    }
    const imports = this.#roots.get(root) ?? [];
    imports.push(counted);
    this.#roots.set(root, imports);
  }

  /** A permanent add() wrote or reused these: they must outlive every version. */
  pin(blocks: Iterable<string>): void {
    for (const block of blocks) this.#uses.delete(block);
  }

  /** Drops one version of `root`: one use of each of its blocks; returns those no version uses any more. */
  release(root: string): string[] {
    const imports = this.#roots.get(root);
    const blocks = imports?.pop();
    if (!blocks) return [];
    if (imports!.length === 0) this.#roots.delete(root);
    const unused: string[] = [];
    for (const block of blocks) {
      const uses = this.#uses.get(block);
      if (uses === undefined) continue;
      if (uses > 1) this.#uses.set(block, uses - 1);
      else {
        this.#uses.delete(block);
        unused.push(block);
      }
    }
    return unused;
  }
}

export class HeliaStore implements ContentStore {
  readonly kind = 'helia' as const;
  readonly dir: string;
  readonly profile: UnixfsProfile;
  readonly offline: boolean;
  private readonly network: Omit<HeliaNetworkOptions, 'keyPath'> & { fetchTimeoutMs: number };
  private opening: Promise<OpenStore> | undefined;
  private closed = false;
  private readonly versions = new VersionBlocks();
  /**
   * Not imported at the top, so importing abrcast for the encoder alone loads no
   * IPFS code: loading starts when a store is made, and open() awaits it.
   */
  private readonly modules = Promise.all([import('@helia/unixfs'), import('blockstore-fs')]);

  constructor(options: HeliaStoreOptions = {}) {
    if (typeof options !== 'object' || options === null) throw invalidParameterError('options', 'object', options);
    const dir = options.dir ?? defaultHeliaDir();
    if (typeof dir !== 'string' || dir.length === 0) throw invalidParameterError('dir', 'non-empty string', dir);
    this.dir = resolve(dir);
    // A failed load is reported by open().
    this.modules.catch(() => {});
    this.profile = validateProfile(options.profile ?? UNIXFS_V1_2025);
    if (options.offline !== undefined && typeof options.offline !== 'boolean') throw invalidParameterError('offline', 'boolean', options.offline);
    this.offline = options.offline ?? true;
    const fetchTimeoutMs = options.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
    if (!isPositiveFinite(fetchTimeoutMs)) throw invalidParameterError('fetchTimeoutMs', 'positive number of milliseconds', fetchTimeoutMs);
    const listen = checkAddresses('listen', options.listen);
    this.network = {
      listen: listen.length > 0 ? listen : DEFAULT_LISTEN,
      announce: checkAddresses('announce', options.announce),
      peers: checkAddresses('peers', options.peers),
      fetchTimeoutMs,
    };
  }

  /** The libp2p peer ID when online (opens the store), else undefined. */
  async peerId(): Promise<string | undefined> {
    return (await this.ready()).network?.peerId;
  }

  /** The multiaddrs other nodes can dial (`ipfs swarm connect <addr>`) when online, else []. */
  async multiaddrs(): Promise<string[]> {
    return (await this.ready()).network?.multiaddrs() ?? [];
  }

  /** Connects to a peer (a multiaddr ending in /p2p/<peerId>), so bitswap can ask it for blocks. */
  async connect(address: string): Promise<void> {
    const { network } = await this.ready();
    if (!network) throw new AbrcastError(`HeliaStore at ${this.dir} is offline: open it with offline: false to connect to ${address}`);
    await network.connect(address, AbortSignal.timeout(this.network.fetchTimeoutMs));
  }

  /** Creates/opens the directory; every method does this on first use. */
  async open(): Promise<void> {
    await this.ready();
  }

  private ready(): Promise<OpenStore> {
    if (this.closed) return Promise.reject(new AbrcastError(`HeliaStore at ${this.dir} is closed`));
    this.opening ??= (async () => {
      const [{ unixfs }, { FsBlockstore }] = await this.modules;
      const blockstore = new FsBlockstore(this.dir);
      try {
        await blockstore.open();
      } catch (error) {
        this.opening = undefined;
        throw new StoreUnavailableError({
          store: 'helia',
          location: this.dir,
          reason: error instanceof Error ? error.message : String(error),
          fix: 'Make sure the directory can be created and written, or choose another IPFS directory.',
          cause: error,
        });
      }
      if (this.offline) return { blockstore, fs: unixfs({ blockstore }) };
      let network: HeliaNetwork;
      try {
        const { startHeliaNetwork, peerKeyPath } = await import('./helia-network.js');
        network = await startHeliaNetwork(blockstore, { ...this.network, keyPath: peerKeyPath(this.dir) });
      } catch (error) {
        this.opening = undefined;
        await blockstore.close().catch(() => {});
        if (error instanceof TypeError || error instanceof RangeError) throw error;
        throw new StoreUnavailableError({
          store: 'helia',
          location: `${this.dir} (libp2p on ${this.network.listen.join(', ')})`,
          reason: error instanceof Error ? error.message : String(error),
          fix: 'Check the listen addresses (a port may be taken) and the peers, or run the store offline.',
          cause: error,
        });
      }
      return { blockstore, fs: unixfs({ blockstore: network.blockstore }), network };
    })();
    return this.opening;
  }

  async add(bytes: Uint8Array): Promise<string> {
    const { root, created, existing } = await this.importBytes(bytes);
    this.versions.pin([...created, ...existing]);
    return root;
  }

  async addVersion(bytes: Uint8Array): Promise<string> {
    const { root, created, existing } = await this.importBytes(bytes);
    this.versions.addVersion(root, created, existing);
    return root;
  }

  async releaseVersion(cid: string): Promise<void> {
    parseCid(cid);
    const unused = this.versions.release(cid);
    if (unused.length === 0) return;
    const { blockstore } = await this.ready();
    for (const block of unused) await blockstore.delete(CID.parse(block));
  }

  /** Imports `bytes`, noting which blocks were new on disk and which were there already. */
  private async importBytes(bytes: Uint8Array): Promise<{ root: string; created: Set<string>; existing: Set<string> }> {
    assertBytes(bytes);
    const created = new Set<string>();
    const existing = new Set<string>();
    const { blockstore, network } = await this.ready();
    const put: BlockPut = async (cid, block, options) => {
      const key = cid.toString();
      if (!created.has(key) && !existing.has(key)) {
        (await blockstore.has(cid)) ? existing.add(key) : created.add(key);
      }
      // Online, through Helia's blockstore: same disk, and bitswap offers the block to peers waiting for it.
      return network ? network.blockstore.put(cid, block, options) : blockstore.put(cid, block, options);
    };
    const recording = { get: blockstore.get.bind(blockstore), has: blockstore.has.bind(blockstore), put };
    const { unixfs } = await import('@helia/unixfs');
    const root = await unixfs({ blockstore: recording }).addBytes(bytes, heliaImporterOptions(this.profile));
    return { root: root.toString(), created, existing };
  }

  async cat(cid: string): Promise<Uint8Array> {
    return collectBytes(this.catStream(cid));
  }

  async *catStream(cid: string, range?: ByteRange): AsyncIterable<Uint8Array> {
    const parsed = parseCid(cid);
    const { offset, length } = toOffsetLength(range);
    const { fs } = await this.ready();
    if (offset !== undefined && offset > 0) {
      // The exporter rejects an offset past the end; a range there is simply empty.
      const size = await this.size(cid);
      if (offset >= size) return;
    }
    try {
      yield* fs.cat(parsed, { offset, length, signal: this.readSignal() });
    } catch (error) {
      throw this.fetchError(cid, error);
    }
  }

  async size(cid: string): Promise<number> {
    const parsed = parseCid(cid);
    const { fs } = await this.ready();
    try {
      const stats = await fs.stat(parsed, { signal: this.readSignal() });
      return Number(stats.size);
    } catch (error) {
      throw this.fetchError(cid, error);
    }
  }

  /** Online, a read may wait for peers: bounded so a CID nobody has fails instead of hanging. */
  private readSignal(): AbortSignal | undefined {
    return this.offline ? undefined : AbortSignal.timeout(this.network.fetchTimeoutMs);
  }

  /**
   * A block that is not a file (another codec's data under a dag-pb CID, a
   * directory, a codec the exporter cannot read): UnreadableContentError. Online,
   * a block no peer sent in time: say so, with the CID and the wait, instead of
   * helia's "Failed to load block".
   */
  private fetchError(cid: string, error: unknown): unknown {
    const name = (error as Error | undefined)?.name;
    if (name !== undefined && NOT_A_FILE.has(name)) return new UnreadableContentError(cid, (error as Error).message, error);
    if (this.offline || name !== 'LoadBlockFailedError') return error;
    return new AbrcastError(`${cid}: a block was neither in ${this.dir} nor sent by a connected peer within ${this.network.fetchTimeoutMs} ms`, { cause: error });
  }

  async has(cid: string): Promise<boolean> {
    const parsed = parseCid(cid);
    const { blockstore } = await this.ready();
    return blockstore.has(parsed);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const opening = this.opening;
    this.opening = undefined;
    if (!opening) return;
    const { blockstore, network } = await opening.catch(() => ({ blockstore: undefined, network: undefined }));
    await network?.stop();
    await blockstore?.close();
  }
}
