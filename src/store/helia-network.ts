// The embedded store's network side: libp2p over TCP with Noise and Yamux,
// identify (peers learn that we speak bitswap), and Helia's bitswap, so Kubo and
// other IPFS nodes can fetch what we hold and we can fetch what they hold.
// Composed here instead of with Helia's default set: that one brings WebRTC (a
// native module), the DHT, relays, UPnP and an HTTP client (undici 8), and does
// not load on Node 20. Only helia-store.ts imports this module, lazily.
import './promise-with-resolvers.js';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withBitswap } from '@helia/bitswap';
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import { identify } from '@libp2p/identify';
import { noise } from '@libp2p/noise';
import { tcp } from '@libp2p/tcp';
import { yamux } from '@libp2p/yamux';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import type { Helia } from 'helia';
import type { Blockstore } from 'interface-blockstore';
import { createLibp2p, type Libp2p } from 'libp2p';
import { invalidParameterError } from '../errors.js';

export interface HeliaNetworkOptions {
  /** Multiaddrs to listen on, e.g. /ip4/0.0.0.0/tcp/4002. */
  listen: readonly string[];
  /** Multiaddrs to tell peers instead of the listening ones (public address, port forward). */
  announce: readonly string[];
  /** Peers to connect to once started, e.g. a Kubo gateway's /ip4/.../tcp/4001/p2p/12D3... */
  peers: readonly string[];
  /** Where the node's Ed25519 key is kept, so its peer ID stays the same across runs. */
  keyPath: string;
}

export interface HeliaNetwork {
  /** Local blocks first, then bitswap from connected peers; blocks put here are offered to peers that want them. */
  readonly blockstore: Blockstore;
  /** Base58 peer ID (12D3KooW...). */
  readonly peerId: string;
  /** The addresses peers can dial, each ending in /p2p/<peerId>. */
  multiaddrs(): string[];
  /** Connects to a peer by a multiaddr that ends in /p2p/<peerId>. */
  connect(address: string, signal?: AbortSignal): Promise<void>;
  stop(): Promise<void>;
}

/** The file the node's key is kept in, inside the blockstore directory (blockstore-fs only reads *.data files). */
export const PEER_KEY_FILE = 'libp2p.key';

/** Parses each address, naming the option and the address when one is not a multiaddr. */
export function parseMultiaddrs(name: string, addresses: readonly string[]): Multiaddr[] {
  return addresses.map((address, index) => {
    try {
      return multiaddr(address);
    } catch {
      throw invalidParameterError(`${name}[${index}]`, 'multiaddr such as /ip4/0.0.0.0/tcp/4002', address);
    }
  });
}

async function loadOrCreateKey(keyPath: string): ReturnType<typeof generateKeyPair> {
  try {
    return privateKeyFromProtobuf(await readFile(keyPath));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const key = await generateKeyPair('Ed25519');
  await writeFile(keyPath, privateKeyToProtobuf(key), { mode: 0o600 });
  return key;
}

/**
 * Helia's node class, without the `helia` entry point: that one also loads
 * @helia/http and the default libp2p set (see above). Pinned to helia 7.1.15 in
 * package.json because this path is not in its exports map.
 */
async function loadHeliaClass(): Promise<new (init: { name: string; version: string; blockstore: Blockstore }) => Helia> {
  const entry = import.meta.resolve('helia');
  const module = (await import(new URL('./helia.js', entry).href)) as { Helia: new (init: { name: string; version: string; blockstore: Blockstore }) => Helia };
  return module.Helia;
}

export async function startHeliaNetwork(blockstore: Blockstore, options: HeliaNetworkOptions): Promise<HeliaNetwork> {
  const listen = parseMultiaddrs('listen', options.listen);
  const announce = parseMultiaddrs('announce', options.announce);
  const peers = parseMultiaddrs('peers', options.peers);
  const privateKey = await loadOrCreateKey(options.keyPath);
  const libp2p: Libp2p = await createLibp2p({
    privateKey,
    addresses: { listen: listen.map(String), announce: announce.map(String) },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() },
    nodeInfo: { name: 'abrcast', version: '0', userAgent: 'abrcast' },
  });
  let helia: Helia | undefined;
  try {
    const HeliaClass = await loadHeliaClass();
    helia = new HeliaClass({ name: 'abrcast', version: '0', blockstore });
    // What withLibp2p from @helia/libp2p does, minus its default libp2p set.
    Object.defineProperty(helia, 'libp2p', { value: libp2p, enumerable: true });
    withBitswap(helia as Parameters<typeof withBitswap>[0]);
    await helia.start();
    await Promise.all(peers.map((peer) => libp2p.dial(peer)));
  } catch (error) {
    await Promise.allSettled([helia?.stop(), libp2p.stop()]);
    throw error;
  }
  const node = helia;
  return {
    blockstore: node.blockstore,
    peerId: libp2p.peerId.toString(),
    multiaddrs: () => libp2p.getMultiaddrs().map(String),
    async connect(address, signal) {
      const [target] = parseMultiaddrs('address', [address]);
      await libp2p.dial(target, { signal });
    },
    async stop() {
      await node.stop();
      await libp2p.stop();
    },
  };
}

/** The key file for a blockstore directory. */
export function peerKeyPath(dir: string): string {
  return join(dir, PEER_KEY_FILE);
}
