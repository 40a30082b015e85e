// The embedded default store: UnixFS over a plain directory of blocks, no daemon.
// Offline by default; with `offline: false` it is also an IPFS node (libp2p and
// bitswap, see helia-network.ts) that serves its blocks and fetches missing ones.
// Blocks are never garbage-collected, so whatever was added stays until the
// directory is removed: that is this store's "pin".
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { AddOptions, UnixFS } from '@helia/unixfs';
import type { FsBlockstore } from 'blockstore-fs';
import { AbrcastError, invalidParameterError, isPositiveFinite } from '../errors.js';
import type { HeliaNetwork, HeliaNetworkOptions } from './helia-network.js';
import { StoreUnavailableError, type ByteRange, type ContentStore } from './content-store.js';
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

export class HeliaStore implements ContentStore {
  readonly kind = 'helia' as const;
  readonly dir: string;
  readonly profile: UnixfsProfile;
  readonly offline: boolean;
  private readonly network: Omit<HeliaNetworkOptions, 'keyPath'> & { fetchTimeoutMs: number };
  private opening: Promise<OpenStore> | undefined;
  private closed = false;

  constructor(options: HeliaStoreOptions = {}) {
    if (typeof options !== 'object' || options === null) throw invalidParameterError('options', 'object', options);
    const dir = options.dir ?? defaultHeliaDir();
    if (typeof dir !== 'string' || dir.length === 0) throw invalidParameterError('dir', 'non-empty string', dir);
    this.dir = resolve(dir);
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
      // Loaded here, not at the top: importing abrcast for the encoder alone loads no IPFS code.
      const [{ unixfs }, { FsBlockstore }] = await Promise.all([import('@helia/unixfs'), import('blockstore-fs')]);
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
    assertBytes(bytes);
    const { fs } = await this.ready();
    const cid = await fs.addBytes(bytes, heliaImporterOptions(this.profile));
    return cid.toString();
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

  /** Online, a block no peer sent in time: say so, with the CID and the wait, instead of helia's "Failed to load block". */
  private fetchError(cid: string, error: unknown): unknown {
    if (this.offline || (error as Error | undefined)?.name !== 'LoadBlockFailedError') return error;
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
