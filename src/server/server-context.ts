// What every route of one server shares: the registry and store, the caches,
// the live models and the cap on held requests. Made and closed with the server.
import type { RunRegistry } from '../registry/run-registry.js';
import type { ContentStore } from '../store/content-store.js';
import { HeldRequests } from './held-requests.js';
import { LiveRuns } from './live-runs.js';
import type { ServerLogger } from './logger.js';
import type { ServerMetrics } from './metrics.js';
import { PartBytesCache } from './part-bytes-cache.js';
import type { PlaybackAccess } from './playback-access.js';
import { PlaylistCache } from './playlist-cache.js';
import type { ServerContext } from './router.js';

export interface ContextOptions {
  registry: RunRegistry;
  store: ContentStore;
  metrics: ServerMetrics;
  logger: ServerLogger;
  maxHeldRequests: number;
  access: PlaybackAccess;
}

export function createServerContext(options: ContextOptions): ServerContext {
  const { registry, store, metrics, logger } = options;
  const playlists = new PlaylistCache(store);
  const live = new LiveRuns({ registry, playlists, logger });
  metrics.followLiveModels(() => live.counts);
  return {
    registry, store, metrics, logger, playlists, live,
    held: new HeldRequests(options.maxHeldRequests, metrics),
    partBytes: new PartBytesCache(store),
    access: options.access,
  };
}

/** Drops the live models (their feed subscriptions, timers and waiters). */
export function closeServerContext(context: ServerContext): void {
  context.live.close();
}
