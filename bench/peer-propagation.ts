// How long a segment added on Kubo peer A takes to be fetchable from peer B (B
// fetches it over bitswap on the first read, as a server on B's gateway would),
// and how long a replicated add (pinned on both) takes. Real Kubo peers on loopback.
// Called by the `scale` case; alone: `tsx bench/peer-propagation.ts [--samples 50] [--bytes 1048576]`.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { KuboPeersStore, KuboStore } from '../src/store/index.js';
import { startKuboPeers } from '../test/support/kubo-peers.js';
import { percentiles, type Percentiles } from './stats.js';

export interface PeerPropagationOptions {
  /** RPC URLs of peers A and B, connected to each other; default: two fresh loopback peers started here. */
  peers?: [string, string];
  /** Files measured, each new bytes (default 50). */
  samples?: number;
  /** Size of each file (default 1 MiB, a 2 s segment at ~4 Mbit/s). */
  bytes?: number;
}

export interface PeerPropagationResult {
  samples: number;
  bytes: number;
  /** `add` on A alone (pinned there). */
  addMs: Percentiles;
  /** From the start of the add on A until B has returned every byte: the "fetchable on B" time. */
  propagationMs: Percentiles;
  /** The part of that after the add returned: B's bitswap fetch. */
  fetchMs: Percentiles;
  /** KuboPeersStore.add with replicas 2: add on A, then `pin add` on B; what publishing a segment waits for. */
  replicatedAddMs: Percentiles;
}

export async function measurePeerPropagation(options: PeerPropagationOptions = {}): Promise<PeerPropagationResult> {
  const samples = options.samples ?? 50;
  const bytes = options.bytes ?? 1024 * 1024;
  const started = options.peers ? undefined : await startKuboPeers(2);
  const [urlA, urlB] = options.peers ?? [started!.apiUrls[0]!, started!.apiUrls[1]!];
  const a = new KuboStore({ url: urlA });
  const b = new KuboStore({ url: urlB });
  const replicated = new KuboPeersStore({ peers: [urlA, urlB], replicas: 2 });
  const add: number[] = [];
  const propagation: number[] = [];
  const fetch: number[] = [];
  const replicatedAdd: number[] = [];
  try {
    // One uncounted round first: the RPC clients load and the peers' connection warms up.
    await b.cat(await a.add(randomBytes(bytes)));
    await replicated.add(randomBytes(bytes));
    for (let i = 0; i < samples; i += 1) {
      const file = randomBytes(bytes);
      const t0 = performance.now();
      const cid = await a.add(file);
      const t1 = performance.now();
      const read = await b.cat(cid);
      const t2 = performance.now();
      if (read.byteLength !== file.byteLength) throw new Error(`${urlB} returned ${read.byteLength} of ${file.byteLength} bytes of ${cid}`);
      add.push(t1 - t0);
      propagation.push(t2 - t0);
      fetch.push(t2 - t1);

      const t3 = performance.now();
      await replicated.add(randomBytes(bytes));
      replicatedAdd.push(performance.now() - t3);
    }
  } finally {
    await Promise.allSettled([a.close(), b.close(), replicated.close()]);
    await started?.stop();
  }
  return {
    samples,
    bytes,
    addMs: percentiles(add),
    propagationMs: percentiles(propagation),
    fetchMs: percentiles(fetch),
    replicatedAddMs: percentiles(replicatedAdd),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const flag = (name: string): number | undefined => {
    const at = process.argv.indexOf(name);
    return at === -1 ? undefined : Number(process.argv[at + 1]);
  };
  const result = await measurePeerPropagation({ samples: flag('--samples'), bytes: flag('--bytes') });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
