// A set of throwaway Kubo peers for replication tests: each one a startKubo() node
// online on loopback only (no bootstrap, no DHT, no mDNS), all connected to each
// other with `swarm connect`, so bitswap moves blocks between them and nowhere else.
// A peer can be stopped and restarted on the same repo and ports; restart()
// connects it to the live peers again (with routing off nothing else would).
import { startKubo, type KuboHandle } from './kubo.js';

export interface KuboPeer {
  /** RPC base, e.g. http://127.0.0.1:41234 (what KuboStore and `--kubo-url` take). */
  readonly apiUrl: string;
  /** Path gateway base (serves /ipfs/<cid>). */
  readonly gatewayUrl: string;
  /** 12D3KooW... */
  readonly peerId: string;
  /** The libp2p address other peers dial: /ip4/127.0.0.1/tcp/<port>/p2p/<peerId>. */
  readonly multiaddr: string;
  /** The underlying node (its repo path, `cli`, daemon control). */
  readonly kubo: KuboHandle;
  /** Whether the daemon runs (between stop() and restart() it does not). */
  readonly running: boolean;
  /** Whether `cid` is pinned recursively on this peer (asks its RPC, so the daemon must run). */
  pinned(cid: string): Promise<boolean>;
  /** Peer IDs this peer is connected to now. */
  connectedPeers(): Promise<string[]>;
  /** Stops the daemon (SIGTERM; 'SIGKILL' crashes it); the repo, its pins and its ports stay. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the daemon again and connects it to every running peer; resolves once connected. */
  restart(): Promise<void>;
}

export interface KuboPeers {
  readonly peers: readonly KuboPeer[];
  /** The peers' RPC URLs, in order (for `--kubo-url a,b` or `{ peers }`). */
  readonly apiUrls: string[];
  /** Stops every daemon and removes every repo. */
  stop(): Promise<void>;
}

const CONNECT_TIMEOUT_MS = 30_000;

/** POSTs one RPC call (as the CLI does) and returns its JSON answer; the error names the peer and the call. */
async function rpc<T>(apiUrl: string, path: string, params: Record<string, string> = {}): Promise<T> {
  const query = new URLSearchParams(params).toString();
  const url = `${apiUrl}/api/v0/${path}${query ? `?${query}` : ''}`;
  const response = await fetch(url, { method: 'POST', signal: AbortSignal.timeout(CONNECT_TIMEOUT_MS) });
  const text = await response.text();
  if (!response.ok) throw new Error(`${apiUrl}: ${path} failed (${response.status}): ${text.trim()}`);
  return (text ? JSON.parse(text) : {}) as T;
}

async function connectedPeerIds(apiUrl: string): Promise<string[]> {
  const answer = await rpc<{ Peers: { Peer: string }[] | null }>(apiUrl, 'swarm/peers');
  return (answer.Peers ?? []).map((peer) => peer.Peer);
}

/** Dials `to` from `from` until the connection shows in `from`'s swarm (a fresh daemon may refuse dials for a moment). */
async function connect(from: KuboPeer, to: KuboPeer): Promise<void> {
  const deadline = Date.now() + CONNECT_TIMEOUT_MS;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      await rpc(from.apiUrl, 'swarm/connect', { arg: to.multiaddr });
      if ((await connectedPeerIds(from.apiUrl)).includes(to.peerId)) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`Kubo peer ${from.apiUrl} could not connect to ${to.multiaddr} within ${CONNECT_TIMEOUT_MS} ms: ${lastError}`);
}

function makePeer(kubo: KuboHandle, all: KuboPeer[]): KuboPeer {
  const multiaddr = kubo.swarmAddress;
  if (!multiaddr) throw new Error('startKubo({ swarm: true }) gave no swarm address');
  const peerId = multiaddr.slice(multiaddr.lastIndexOf('/') + 1);
  let running = true;
  const peer: KuboPeer = {
    get apiUrl() {
      return kubo.apiUrl;
    },
    get gatewayUrl() {
      return kubo.gatewayUrl;
    },
    peerId,
    multiaddr,
    kubo,
    get running() {
      return running;
    },
    async pinned(cid) {
      const response = await fetch(`${kubo.apiUrl}/api/v0/pin/ls?arg=${cid}&type=recursive`, { method: 'POST' });
      const text = await response.text();
      if (response.ok) return (JSON.parse(text) as { Keys?: Record<string, unknown> }).Keys?.[cid] !== undefined;
      if (/not pinned/i.test(text)) return false;
      throw new Error(`${kubo.apiUrl}: pin/ls ${cid} failed (${response.status}): ${text.trim()}`);
    },
    connectedPeers: () => connectedPeerIds(kubo.apiUrl),
    async stop(signal) {
      running = false;
      await kubo.stopDaemon(signal);
    },
    async restart() {
      await kubo.startDaemon();
      running = true;
      for (const other of all) if (other !== peer && other.running) await connect(peer, other);
    },
  };
  return peer;
}

/** Starts `n` connected Kubo peers (1 to 8). Stop them with stop(), in an after() hook. */
export async function startKuboPeers(n: number): Promise<KuboPeers> {
  if (!Number.isInteger(n) || n < 1 || n > 8) throw new Error(`startKuboPeers: expected an integer from 1 to 8, received ${n}`);
  const peers: KuboPeer[] = [];
  const stop = async (): Promise<void> => {
    await Promise.allSettled(peers.map((peer) => peer.kubo.stop()));
  };
  try {
    // One at a time: daemons starting together on a loaded 2-core machine time out.
    for (let i = 0; i < n; i += 1) peers.push(makePeer(await startKubo({ swarm: true }), peers));
    for (let i = 0; i < n; i += 1) for (let j = i + 1; j < n; j += 1) await connect(peers[i], peers[j]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { peers, apiUrls: peers.map((peer) => peer.apiUrl), stop };
}
