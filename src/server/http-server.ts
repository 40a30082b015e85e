// The abrcast HTTP server. Built on node:http rather than a framework: a dozen
// read-only GET routes, hand-written Range/caching headers and streaming from the
// store need nothing a framework adds, and it keeps the dependency tree small.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { invalidParameterError, isInteger } from '../errors.js';
import { isTransientRegistryError } from '../registry/registry-errors.js';
import type { RunRegistry } from '../registry/run-registry.js';
import { StoreUnavailableError, type ContentStore } from '../store/content-store.js';
import { createServerLogger, type ServerLogger } from './logger.js';
import { defaultMaxHeldRequests } from './held-requests.js';
import { startMetricsListener } from './metrics-listener.js';
import { ServerMetrics } from './metrics.js';
import { quoted, sendError, setCors } from './responses.js';
import { BadPathError, requestUrl, Router, type ServerContext } from './router.js';
import { gatewayRoutes } from './routes/gateway.js';
import { healthRoutes, metricsRoutes } from './routes/health.js';
import { pageRoutes } from './routes/pages.js';
import { lowLatencyRoutes } from './routes/low-latency.js';
import { playlistRoutes } from './routes/playlists.js';
import { runRoutes } from './routes/runs.js';
import { trackRoutes } from './routes/tracks.js';
import { closeServerContext, createServerContext } from './server-context.js';

export interface ServerOptions {
  registry: RunRegistry;
  store: ContentStore;
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Port (default 8787; 0 picks a free one). */
  port?: number;
  metrics?: ServerMetrics;
  /**
   * Where failures are logged in detail (clients only get a generic message).
   * A pino logger fits; default: pino at level 'warn' on stderr.
   */
  logger?: ServerLogger;
  /**
   * Requests held open at most (blocking playlist reloads, preload-hinted
   * parts, first masters); past it such a request gets 503 with Retry-After.
   * Default: from the open-file limit (defaultMaxHeldRequests).
   */
  maxHeldRequests?: number;
  /**
   * Serve /metrics on its own listener at this port (0: any free one) instead
   * of beside the playlists, so it can be bound to a private address.
   */
  metricsPort?: number;
  /** Address of the /metrics listener (default 127.0.0.1); only with metricsPort. */
  metricsHost?: string;
}

export interface RunningServer {
  /** http://host:port, without a trailing slash. */
  url: string;
  port: number;
  /** Where /metrics is served when it has its own listener (metricsPort). */
  metricsUrl?: string;
  metrics: ServerMetrics;
  close(): Promise<void>;
}

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 8787;

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE']);

const routes = [...playlistRoutes, ...trackRoutes, ...lowLatencyRoutes, ...gatewayRoutes, ...runRoutes, ...healthRoutes, ...pageRoutes];
/** With /metrics beside the playlists (the default), and without (metricsPort: it has its own listener). */
const routers = { withMetrics: new Router([...routes, ...metricsRoutes]), withoutMetrics: new Router(routes) };

/** `label.route` is set as soon as the path is matched, so the metrics see it even if the handler fails. */
async function handle(router: Router, context: ServerContext, req: IncomingMessage, res: ServerResponse, label: { route: string }): Promise<void> {
  const url = requestUrl(req.url ?? '/');
  if (!url) {
    label.route = 'bad-target';
    sendError(res, 400, 'Request target is not a path or an http(s) URL');
    return;
  }
  let match;
  try {
    match = router.match(url.pathname);
  } catch (error) {
    if (!(error instanceof BadPathError)) throw error;
    label.route = 'bad-path';
    sendError(res, 400, error.message);
    return;
  }
  if (!match) {
    sendError(res, 404, `Nothing at ${quoted(url.pathname)}`);
    return;
  }
  label.route = match.route.pattern;
  if (match.route.cors) setCors(res);
  if (req.method === 'OPTIONS') {
    res.writeHead(204, { 'Content-Length': '0' });
    res.end();
    return;
  }
  // Read-only server: no write endpoints at all.
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendError(res, 405, `${req.method} is not allowed`, { Allow: 'GET, HEAD, OPTIONS' });
    return;
  }
  await match.route.handler({ req, res, params: match.params, url, server: context });
}

/** The client learns which service is down, never where it is or why (URLs, paths, database users stay in the log). */
export function publicFailure(error: unknown): { status: number; message: string } {
  if (error instanceof StoreUnavailableError) return { status: 503, message: 'store unavailable' };
  if (isTransientRegistryError(error)) return { status: 503, message: 'registry unavailable' };
  return { status: 500, message: 'internal server error' };
}

function answerFailure(res: ServerResponse, error: unknown, logger: ServerLogger, route: string, path: string | undefined): void {
  const answer = publicFailure(error);
  logger.error({ err: error, route, path, status: res.headersSent ? undefined : answer.status }, 'request failed');
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendError(res, answer.status, answer.message);
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  if (typeof options !== 'object' || options === null) throw invalidParameterError('options', 'object', options);
  const { registry, store, host = DEFAULT_HOST, port = DEFAULT_PORT } = options;
  if (typeof registry !== 'object' || registry === null || typeof registry.getRun !== 'function') {
    throw invalidParameterError('registry', 'RunRegistry', registry);
  }
  if (typeof store !== 'object' || store === null || typeof store.catStream !== 'function') {
    throw invalidParameterError('store', 'ContentStore', store);
  }
  if (typeof host !== 'string' || host.length === 0) throw invalidParameterError('host', 'non-empty string', host);
  if (!isInteger(port) || port < 0 || port > 65535) throw invalidParameterError('port', 'integer between 0 and 65535', port);
  const metrics = options.metrics ?? new ServerMetrics();
  const logger = options.logger ?? createServerLogger();
  if (typeof logger !== 'object' || logger === null || typeof logger.error !== 'function') {
    throw invalidParameterError('logger', 'pino logger (or an object with error, warn, info and debug)', logger);
  }
  const { maxHeldRequests = defaultMaxHeldRequests(), metricsPort, metricsHost = DEFAULT_HOST } = options;
  if (!isInteger(maxHeldRequests) || maxHeldRequests < 1) throw invalidParameterError('maxHeldRequests', 'positive integer', maxHeldRequests);
  if (metricsPort !== undefined && (!isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65535)) {
    throw invalidParameterError('metricsPort', 'integer between 0 and 65535', metricsPort);
  }
  if (typeof metricsHost !== 'string' || metricsHost.length === 0) throw invalidParameterError('metricsHost', 'non-empty string', metricsHost);
  const context = createServerContext({ registry, store, metrics, logger, maxHeldRequests });
  const router = metricsPort === undefined ? routers.withMetrics : routers.withoutMetrics;
  const metricsListener = metricsPort === undefined ? undefined : await startMetricsListener(metrics, logger, metricsHost, metricsPort).catch((error: unknown) => {
    closeServerContext(context);
    throw error;
  });

  const server = createServer((req, res) => {
    const started = performance.now();
    const label = { route: 'unmatched' };
    // Only known methods become label values, so clients cannot grow the metric without bound.
    const method = KNOWN_METHODS.has(req.method ?? '') ? req.method! : 'OTHER';
    res.once('close', () => {
      const seconds = (performance.now() - started) / 1000;
      metrics.countRequest(label.route, method, res.statusCode, seconds);
      logger.debug({ method, route: label.route, status: res.statusCode, ms: Math.round(seconds * 1000) }, 'request');
    });
    handle(router, context, req, res, label).catch((error: unknown) => answerFailure(res, error, logger, label.route, req.url));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch(async (error: unknown) => {
    await metricsListener?.close();
    closeServerContext(context);
    throw error;
  });
  const address = server.address() as AddressInfo;
  logger.info({ host: address.address, port: address.port }, 'listening');
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    ...(metricsListener ? { metricsUrl: metricsListener.url } : {}),
    metrics,
    close() {
      closing ??= Promise.all([
        new Promise<void>((resolve, reject) => {
          server.close((error) => (error ? reject(error) : resolve()));
          // Players keep connections alive; without this close() would wait for them.
          server.closeAllConnections();
        }),
        metricsListener?.close(),
      ]).then(() => closeServerContext(context));
      return closing;
    },
  };
}
