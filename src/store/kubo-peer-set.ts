// Several Kubo peers in a preferred order (nearest first), each a KuboStore. A peer
// that just failed to answer moves to the back for a while, so a dead host does not
// cost every call a connect timeout; it is tried first again once the while is over.
import { StoreUnavailableError } from './content-store.js';
import type { KuboStore } from './kubo-store.js';

/** How long a peer that did not answer is tried after the others. */
export const PEER_BACKOFF_MS = 5_000;

export class KuboPeerSet {
  readonly peers: readonly KuboStore[];
  readonly #failedAt = new Map<KuboStore, number>();

  constructor(peers: readonly KuboStore[]) {
    this.peers = peers;
  }

  /** Every peer: the ones in good standing in the given order, then the ones that failed lately. */
  ordered(exclude?: KuboStore): KuboStore[] {
    const now = Date.now();
    const late = (peer: KuboStore) => now - (this.#failedAt.get(peer) ?? -Infinity) < PEER_BACKOFF_MS;
    const candidates = this.peers.filter((peer) => peer !== exclude);
    return [...candidates.filter((peer) => !late(peer)), ...candidates.filter(late)];
  }

  /** Runs `call` on `peer`, keeping note of whether the peer answered. */
  async on<T>(peer: KuboStore, call: (peer: KuboStore) => Promise<T>): Promise<T> {
    try {
      const result = await call(peer);
      this.#failedAt.delete(peer);
      return result;
    } catch (error) {
      if (error instanceof StoreUnavailableError) this.failed(peer);
      throw error;
    }
  }

  /** Notes that `peer` did not answer just now. */
  failed(peer: KuboStore): void {
    this.#failedAt.set(peer, Date.now());
  }

  /**
   * `call` on the first peer that answers, in order. Only an unreachable peer is
   * skipped; any other error (a bad CID, missing content) is that answer. When none
   * answers, the error names every peer and why.
   */
  async first<T>(call: (peer: KuboStore) => Promise<T>): Promise<{ peer: KuboStore; result: T }> {
    const failures: StoreUnavailableError[] = [];
    for (const peer of this.ordered()) {
      try {
        return { peer, result: await this.on(peer, call) };
      } catch (error) {
        if (!(error instanceof StoreUnavailableError)) throw error;
        failures.push(error);
      }
    }
    throw noPeerAnswered(failures);
  }
}

/** One StoreUnavailableError for several peers: each URL with its own cause. */
export function noPeerAnswered(failures: readonly StoreUnavailableError[], reasonPrefix = ''): StoreUnavailableError {
  return new StoreUnavailableError({
    store: 'kubo',
    location: failures.map((failure) => failure.location).join(', '),
    reason: reasonPrefix + failures.map((failure) => (failures.length > 1 ? `${failure.location}: ${failure.reason}` : failure.reason)).join('; '),
    fix: failures[0]?.fix ?? 'Start the Kubo peers, or point abrcast at the right RPC URLs.',
    cause: failures.length === 1 ? failures[0] : new AggregateError(failures),
  });
}
