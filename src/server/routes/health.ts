// Liveness with a real round trip to each service the routes need, and the
// Prometheus scrape target. Behind a load balancer /healthz is what takes an
// instance out of rotation, so it fails when either the registry or the store
// cannot be reached: an instance whose IPFS peer is down could answer no
// playlist and no segment, however healthy its database connection.
import { StoreUnavailableError } from '../../store/content-store.js';
import { send, sendJson } from '../responses.js';
import type { Route, RouteRequest } from '../router.js';

/** The empty file's CID as an identity CID: a store answers has() for it from the CID alone, without touching its blocks. */
const PROBE_CID = 'bafkqaaa';

async function healthz({ res, server }: RouteRequest): Promise<void> {
  try {
    await server.registry.listRuns({ limit: 1 });
  } catch (error) {
    server.logger.error({ err: error }, 'health check: registry query failed');
    return sendJson(res, 503, { status: 'unavailable', error: 'registry unavailable' }, 'no-store');
  }
  try {
    await server.store.has(PROBE_CID);
  } catch (error) {
    server.logger.error({ err: error }, 'health check: store not reachable');
    const message = error instanceof StoreUnavailableError ? 'store unavailable' : 'store check failed';
    return sendJson(res, 503, { status: 'unavailable', error: message }, 'no-store');
  }
  sendJson(res, 200, { status: 'ok', registry: server.registry.dialect, store: server.store.kind }, 'no-store');
}

async function metrics({ res, server }: RouteRequest): Promise<void> {
  send(res, 200, await server.metrics.render(), {
    'Content-Type': server.metrics.contentType,
    'Cache-Control': 'no-store',
  });
}

export const healthRoutes: Route[] = [
  { pattern: '/healthz', handler: healthz },
  { pattern: '/metrics', handler: metrics, admin: true },
];
