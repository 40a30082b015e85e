// Liveness with a real round trip to each service the routes need, and the
// Prometheus scrape target. Behind a load balancer /healthz is what takes an
// instance out of rotation, so it fails when either the registry or the store
// cannot be reached: an instance whose IPFS peer is down could answer no
// playlist and no segment, however healthy its database connection. It
// reflects the process and its dependencies, never request load: the registry
// check has a connection of its own (RunRegistry.ping), held requests wait in
// memory, and each check has a short deadline of its own.
import { StoreUnavailableError } from '../../store/content-store.js';
import { send, sendJson } from '../responses.js';
import type { Route, RouteRequest } from '../router.js';

/** The empty file's CID as an identity CID: a store answers has() for it from the CID alone, without touching its blocks. */
const PROBE_CID = 'bafkqaaa';
/** A dependency slower than this to answer one round trip counts as down. */
export const HEALTH_CHECK_TIMEOUT_MS = 3000;

class CheckTimeout extends Error {}

function within<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CheckTimeout(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

async function healthz({ res, server }: RouteRequest): Promise<void> {
  try {
    await within(server.registry.ping(), HEALTH_CHECK_TIMEOUT_MS);
  } catch (error) {
    server.logger.error({ err: error }, 'health check: registry not answering');
    return sendJson(res, 503, { status: 'unavailable', error: 'registry unavailable' }, 'no-store');
  }
  try {
    await within(server.store.has(PROBE_CID), HEALTH_CHECK_TIMEOUT_MS);
  } catch (error) {
    server.logger.error({ err: error }, 'health check: store not reachable');
    const message = error instanceof StoreUnavailableError || error instanceof CheckTimeout ? 'store unavailable' : 'store check failed';
    return sendJson(res, 503, { status: 'unavailable', error: message }, 'no-store');
  }
  sendJson(res, 200, { status: 'ok', registry: server.registry.dialect, store: server.store.kind }, 'no-store');
}

/** The Prometheus text: an admin route (admin-access.ts), beside the playlists or on the admin listener. */
async function metricsRoute({ res, server }: RouteRequest): Promise<void> {
  send(res, 200, await server.metrics.render(), { 'Content-Type': server.metrics.contentType, 'Cache-Control': 'no-store' });
}

export const healthRoutes: Route[] = [{ pattern: '/healthz', handler: healthz }];
export const metricsRoutes: Route[] = [{ pattern: '/metrics', handler: metricsRoute, admin: true }];
