// The real service stack the publish and endpoint cases measure: a registry
// (PGlite or PostgreSQL), a store (HeliaStore or Kubo) and the HTTP server on
// 127.0.0.1. Kubo and PostgreSQL come from the test support code, which starts
// throwaway instances and removes them on exit.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { openRegistry } from '../src/registry/index.js';
import type { RunRegistry } from '../src/registry/index.js';
import { startServer, type RunningServer } from '../src/server/index.js';
import { HeliaStore, KuboStore, type ContentStore } from '../src/store/index.js';
import { findKuboBinary, startKubo } from '../test/support/kubo.js';
import { startPostgres } from '../test/support/postgres.js';
import type { SetupId } from './config.js';

export const SETUP_LABELS: Record<SetupId, string> = {
  embedded: 'HeliaStore + PGlite',
  kubo: 'Kubo + PGlite',
  'kubo-postgres': 'Kubo + PostgreSQL',
};

export interface ServiceSetup {
  id: SetupId;
  label: string;
  registry: RunRegistry;
  store: ContentStore;
  server: RunningServer;
  /** The setup's scratch directory (removed by close()). */
  dir: string;
  /** Closes the server, store and registry, stops Kubo/PostgreSQL and removes temp files. Never throws. */
  close(): Promise<void>;
}

/** Why a setup cannot run on this machine, as one line; undefined when it can. */
export function setupUnavailable(id: SetupId): string | undefined {
  if (id === 'embedded') return undefined;
  try {
    findKuboBinary();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

export async function openSetup(id: SetupId): Promise<ServiceSetup> {
  const dir = await mkdtemp(join(tmpdir(), `abrcast-bench-${id}-`));
  const closers: (() => Promise<unknown>)[] = [() => rm(dir, { recursive: true, force: true })];
  const close = async () => {
    for (const closer of closers.splice(0).reverse()) await closer().catch(() => undefined);
  };
  try {
    let databaseUrl = '';
    if (id === 'kubo-postgres') {
      const postgres = await startPostgres().catch((error: Error) => {
        throw new Error(`PostgreSQL could not start (PostgreSQL 15 binaries needed): ${error.message.split('\n')[0]}`);
      });
      closers.push(() => postgres.stop());
      databaseUrl = postgres.url;
    }
    let store: ContentStore;
    if (id === 'embedded') {
      store = new HeliaStore({ dir: join(dir, 'ipfs') });
    } else {
      const kubo = await startKubo();
      closers.push(() => kubo.stop());
      store = new KuboStore({ url: kubo.apiUrl });
    }
    // An empty databaseUrl means PGlite in dataDir, whatever DATABASE_URL says.
    const registry = await openRegistry({ databaseUrl, dataDir: join(dir, 'db') });
    closers.push(() => registry.close());
    closers.push(() => store.close());
    const server = await startServer({ registry, store, host: '127.0.0.1', port: 0 });
    closers.push(() => server.close());
    return { id, label: SETUP_LABELS[id], registry, store, server, dir, close };
  } catch (error) {
    await close();
    throw error;
  }
}
