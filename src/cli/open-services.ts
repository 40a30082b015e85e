// The store and the registry a command works with, opened from its settings
// and checked up front, so an unreachable Kubo or database fails before any
// work starts (exit code 3 with a fix, see errors.ts).
import { join } from 'node:path';
import { openRegistry } from '../registry/open-registry.js';
import type { RunRegistry } from '../registry/run-registry.js';
import type { ContentStore } from '../store/content-store.js';
import { HeliaStore } from '../store/helia-store.js';
import { KuboPeersStore } from '../store/kubo-peers-store.js';
import { KuboStore } from '../store/kubo-store.js';
import type { ServiceConfig } from './config.js';

export interface Services {
  store: ContentStore;
  registry: RunRegistry;
  /** The embedded store's dialable multiaddrs when it is online, else []. */
  storeAddresses: string[];
  /** Closes both, ignoring errors (used on the way out). */
  close(): Promise<void>;
}

export function heliaDir(config: ServiceConfig): string {
  return join(config.dataDir, 'ipfs');
}

export function databaseDir(config: ServiceConfig): string {
  return join(config.dataDir, 'db');
}

/** Run journals (segments not yet final), one folder per run id. */
export function journalDir(config: ServiceConfig): string {
  return join(config.dataDir, 'journal');
}

export async function openStore(config: ServiceConfig): Promise<ContentStore> {
  if (config.store === 'kubo') {
    // Several peers: adds replicate to `replicas`, reads (serve's gateway too) go to the first peer that answers.
    const [url, ...others] = config.kuboUrls;
    const store = others.length === 0 ? new KuboStore({ url }) : new KuboPeersStore({ peers: config.kuboUrls, replicas: config.replicas });
    try {
      await store.ping();
    } catch (error) {
      await store.close().catch(() => {});
      throw error;
    }
    return store;
  }
  const online = config.ipfsListen.length > 0;
  const store = new HeliaStore({ dir: heliaDir(config), offline: !online, listen: config.ipfsListen, announce: config.ipfsAnnounce, peers: config.ipfsPeers });
  await store.open();
  return store;
}

export function openConfiguredRegistry(config: ServiceConfig): Promise<RunRegistry> {
  // '' (not undefined) keeps openRegistry from reading DATABASE_URL again: config already applied it.
  return openRegistry({ databaseUrl: config.databaseUrl ?? '', dataDir: databaseDir(config) });
}

export async function openServices(config: ServiceConfig): Promise<Services> {
  const store = await openStore(config);
  let registry: RunRegistry;
  try {
    registry = await openConfiguredRegistry(config);
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
  const storeAddresses = store instanceof HeliaStore ? await store.multiaddrs() : [];
  return {
    store,
    registry,
    storeAddresses,
    async close() {
      await Promise.allSettled([registry.close(), store.close()]);
    },
  };
}
