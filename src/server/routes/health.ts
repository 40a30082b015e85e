// Liveness with a real registry round trip, and the Prometheus scrape target.
import { send, sendJson } from '../responses.js';
import type { Route, RouteRequest } from '../router.js';

async function healthz({ res, server }: RouteRequest): Promise<void> {
  try {
    await server.registry.listRuns({ limit: 1 });
  } catch (error) {
    server.logger.error({ err: error }, 'health check: registry query failed');
    return sendJson(res, 503, { status: 'unavailable', error: 'registry unavailable' }, 'no-store');
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
  { pattern: '/metrics', handler: metrics },
];
