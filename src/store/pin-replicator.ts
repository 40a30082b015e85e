// Replication of one CID across Kubo peers: the peer that took the add already
// pins it; each other peer is connected to that one (`ipfs swarm connect`) and
// pins the CID (`ipfs pin add`), fetching the blocks over bitswap. This is the
// only place that decides where copies live: IPFS Cluster's pinning API
// (POST /pins/<cid> with a replication factor) can stand in for it.
import { StoreUnavailableError } from './content-store.js';
import { KuboPeerSet, noPeerAnswered } from './kubo-peer-set.js';
import type { KuboStore } from './kubo-store.js';

export interface PinReplicator {
  /**
   * Makes `cid`, just added (and pinned) on the peer whose RPC URL is `source`,
   * pinned on `replicas` peers in all, `source` included. Resolves with those peers'
   * URLs. Rejects with StoreUnavailableError naming each peer that could not take
   * a pin, when fewer than `replicas` could; the pins made stay, so a retry is cheap.
   */
  pin(cid: string, source: string, replicas: number): Promise<string[]>;
  /** Drops `cid`'s pin on every peer that answers; a peer that is down keeps its pin. */
  unpin(cid: string): Promise<void>;
}

/** The error for a peer that could not take a pin, as a StoreUnavailableError naming that peer. */
function peerFailure(peer: KuboStore, error: unknown): StoreUnavailableError {
  if (error instanceof StoreUnavailableError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new StoreUnavailableError({ store: 'kubo', location: peer.url, reason, fix: 'See the Kubo daemon log of that peer.', cause: error });
}

export class KuboPinReplicator implements PinReplicator {
  readonly #peers: KuboPeerSet;
  /** Each source peer's dialable addresses, asked once (again after a failed dial). */
  readonly #addresses = new Map<KuboStore, Promise<string[]>>();

  constructor(peers: KuboPeerSet) {
    this.#peers = peers;
  }

  async pin(cid: string, source: string, replicas: number): Promise<string[]> {
    const from = this.#peers.peers.find((peer) => peer.url === source);
    if (!from) throw new Error(`${source} is not one of the Kubo peers (${this.#peers.peers.map((peer) => peer.url).join(', ')})`);
    const pinned = [from];
    const failures: StoreUnavailableError[] = [];
    // Peers in good standing first; each wave asks as many peers as copies are still missing.
    const candidates = this.#peers.ordered(from);
    while (pinned.length < replicas && candidates.length > 0) {
      const wave = candidates.splice(0, replicas - pinned.length);
      const results = await Promise.allSettled(wave.map((peer) => this.#pinOn(peer, from, cid)));
      results.forEach((result, i) => {
        if (result.status === 'fulfilled') pinned.push(wave[i]);
        else failures.push(peerFailure(wave[i], result.reason));
      });
    }
    if (pinned.length < replicas) {
      throw noPeerAnswered(failures, `${cid} is pinned on ${pinned.length} of the ${replicas} peers it needs: `);
    }
    return pinned.map((peer) => peer.url);
  }

  async unpin(cid: string): Promise<void> {
    const results = await Promise.allSettled(this.#peers.peers.map((peer) => this.#peers.on(peer, (p) => p.releaseVersion(cid))));
    const rejected = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
    const other = rejected.find((reason) => !(reason instanceof StoreUnavailableError));
    if (other !== undefined) throw other;
    if (rejected.length === results.length) throw noPeerAnswered(rejected as StoreUnavailableError[]);
  }

  async #pinOn(target: KuboStore, from: KuboStore, cid: string): Promise<void> {
    await this.#peers.on(target, async () => {
      await this.#connect(target, from);
      await target.pin(cid);
    });
  }

  /**
   * Dials `from` from `target`, so bitswap there asks `from` for the blocks (with
   * routing off, or a peer just restarted, nothing else would connect them). A
   * failed dial is not fatal: another connected peer may hold the blocks.
   */
  async #connect(target: KuboStore, from: KuboStore): Promise<void> {
    let addresses = this.#addresses.get(from);
    if (!addresses) {
      addresses = from.swarmAddresses();
      this.#addresses.set(from, addresses);
    }
    try {
      await target.connect(await addresses);
    } catch (error) {
      this.#addresses.delete(from);
      // The target itself not answering is the one failure that stops this pin.
      if (error instanceof StoreUnavailableError && error.location === target.url) throw error;
    }
  }
}
