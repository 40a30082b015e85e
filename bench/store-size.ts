// Bytes a store holds on disk: the embedded store's block directory, or a Kubo
// repo's size as `ipfs repo stat` reports it (optionally after `repo gc`, since
// Kubo frees unpinned blocks only then).
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

import { HeliaStore, KuboStore, type ContentStore } from '../src/store/index.js';

async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  const entries = await readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return []; // not created until the first add
    throw error;
  });
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await directoryBytes(path);
    else if (entry.isFile()) total += (await stat(path)).size;
  }
  return total;
}

async function kuboRpc(store: KuboStore, command: string): Promise<Response> {
  const response = await fetch(`${store.url}/api/v0/${command}`, { method: 'POST' });
  if (!response.ok) throw new Error(`Kubo ${command} answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
  return response;
}

export async function storeBytes(store: ContentStore, options: { gc?: boolean } = {}): Promise<number> {
  if (store instanceof HeliaStore) return directoryBytes(store.dir);
  if (store instanceof KuboStore) {
    if (options.gc) await (await kuboRpc(store, 'repo/gc?quiet=true')).text();
    const stats = (await (await kuboRpc(store, 'repo/stat?size-only=true')).json()) as { RepoSize: number };
    return stats.RepoSize;
  }
  throw new Error(`no size measure for a ${store.kind} store`);
}
