// The abrcast HTTP server. Built on node:http rather than a framework: a dozen
// read-only GET routes, hand-written Range/caching headers and streaming from the
// store need nothing a framework adds, and it keeps the dependency tree small.
// With a TLS certificate it is node:http2's secure server (HTTP/2, and HTTP/1.1 for
// clients that do not offer h2 in ALPN), the same routes on its compatibility API.
import { createServer, type Server } from 'node:http';
import { createSecureServer, Http2ServerResponse, type Http2SecureServer } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { invalidParameterError, isInteger } from '../errors.js';
import { isTransientRegistryError } from '../registry/registry-errors.js';
import type { RunRegistry } from '../registry/run-registry.js';
import { StoreUnavailableError, type ContentStore } from '../store/content-store.js';
import { createServerLogger, type ServerLogger } from './logger.js';
import { defaultMaxHeldRequests } from './held-requests.js';
import { startMetricsListener } from './metrics-listener.js';
import { ServerMetrics } from './metrics.js';
import { quoted, sendError, setCors } from './responses.js';
import { BadPathError, requestUrl, Router, type HttpRequest, type HttpResponse, type ServerContext } from './router.js';
import { gatewayRoutes } from './routes/gateway.js';
import { healthRoutes, metricsRoutes } from './routes/health.js';
import { pageRoutes } from './routes/pages.js';
import { lowLatencyRoutes } from './routes/low-latency.js';
import { playlistRoutes } from './routes/playlists.js';
import { runRoutes } from './routes/runs.js';
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
  /**
   * A certificate and its private key (PEM text): the server then speaks HTTPS, HTTP/2
   * to clients that offer it (Apple's HLS authoring spec asks LL-HLS to be served over
   * HTTP/2) and HTTP/1.1 to the rest. Without it, plain HTTP/1.1.
   */
  tls?: ServerTls;
}

export interface ServerTls {
  /** PEM certificate chain, the server's own certificate first. */
  cert: string | Buffer;
  /** PEM private key of that certificate. */
  key: string | Buffer;
}

export interface RunningServer {
  /** http://host:port (https:// with TLS), without a trailing slash. */
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

/**
 * SETTINGS_MAX_CONCURRENT_STREAMS: every held LL-HLS request (blocking playlist reloads,
 * preload-hinted parts) of all of a browser's tabs on this origin shares one connection, so
 * a low cap would queue a player's requests behind held ones. 256 is the most Chromium ever
 * opens on one connection (net/spdy/spdy_session.cc, kMaxConcurrentStreamLimit), above the
 * 100 that RFC 9113 5.1.2 recommends as a floor; a bound all the same, unlike Node's default.
 */
export const HTTP2_MAX_CONCURRENT_STREAMS = 256;
/** HTTP/1.1 over TLS: idle keep-alive connections close after node:http's default. */
const KEEP_ALIVE_TIMEOUT_MS = 5000;

/**
 * node:http2's compatibility response has no `destroyed` (Node 20): the routes check it after
 * a held request to learn that the client went away, as on node:http's ServerResponse.
 */
class Http2RouteResponse extends Http2ServerResponse {}
Object.defineProperty(Http2RouteResponse.prototype, 'destroyed', {
  get(this: Http2ServerResponse) {
    return this.stream.destroyed;
  },
});

const routes = [...playlistRoutes, ...lowLatencyRoutes, ...gatewayRoutes, ...runRoutes, ...healthRoutes, ...pageRoutes];
/** With /metrics beside the playlists (the default), and without (metricsPort: it has its own listener). */
const routers = { withMetrics: new Router([...routes, ...metricsRoutes]), withoutMetrics: new Router(routes) };

/** `label.route` is set as soon as the path is matched, so the metrics see it even if the handler fails. */
async function handle(router: Router, context: ServerContext, req: HttpRequest, res: HttpResponse, label: { route: string }): Promise<void> {
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
    // No Content-Length on a 204 (RFC 9110 8.6); HTTP/2 would drop it anyway.
    res.writeHead(204);
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

function answerFailure(res: HttpResponse, error: unknown, logger: ServerLogger, route: string, path: string | undefined): void {
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
  const { tls } = options;
  if (tls !== undefined) {
    if (typeof tls !== 'object' || tls === null) throw invalidParameterError('tls', 'object { cert, key } of PEM text', tls);
    for (const name of ['cert', 'key'] as const) {
      const value: unknown = tls[name];
      if (!(typeof value === 'string' || Buffer.isBuffer(value)) || value.length === 0) {
        throw invalidParameterError(`tls.${name}`, 'non-empty PEM string or Buffer', value);
      }
    }
  }
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

  const onRequest = (req: HttpRequest, res: HttpResponse) => {
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
  };
  let server: Server | Http2SecureServer;
  try {
    server = tls ? createTlsServer(tls, onRequest) : createServer(onRequest);
  } catch (error) {
    await metricsListener?.close();
    closeServerContext(context);
    throw error;
  }
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
    url: `${tls ? 'https' : 'http'}://${urlHost}:${address.port}`,
    port: address.port,
    ...(metricsListener ? { metricsUrl: metricsListener.url } : {}),
    metrics,
    close() {
      closing ??= Promise.all([
        new Promise<void>((resolve, reject) => {
          server.close((error) => (error ? reject(error) : resolve()));
          // Players keep connections alive; without this close() would wait for them.
          if ('closeAllConnections' in server) server.closeAllConnections();
          else for (const socket of tlsSockets.get(server) ?? []) socket.destroy();
        }),
        metricsListener?.close(),
      ]).then(() => closeServerContext(context));
      return closing;
    },
  };
}

/** Every TLS connection of a secure server (HTTP/2 sessions and HTTP/1.1 alike), for close(). */
const tlsSockets = new WeakMap<Http2SecureServer, Set<Socket>>();

function createTlsServer(tls: ServerTls, onRequest: (req: HttpRequest, res: HttpResponse) => void): Http2SecureServer {
  let server: Http2SecureServer;
  try {
    server = createSecureServer(
      {
        cert: tls.cert,
        key: tls.key,
        allowHTTP1: true,
        settings: { maxConcurrentStreams: HTTP2_MAX_CONCURRENT_STREAMS },
        Http2ServerResponse: Http2RouteResponse,
      },
      onRequest,
    );
  } catch (error) {
    // OpenSSL's reason (a key that does not match, PEM that does not parse), never the key itself.
    throw invalidParameterError('tls', 'PEM certificate and its private key', `PEM that OpenSSL rejects: ${(error as Error).message}`);
  }
  // Read by node:http for the HTTP/1.1 connections it hands over (allowHTTP1).
  (server as unknown as { keepAliveTimeout: number }).keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  const sockets = new Set<Socket>();
  tlsSockets.set(server, sockets);
  server.on('secureConnection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return server;
}
