// The abrcast HTTP server. Built on node:http rather than a framework: a dozen
// read-only GET routes, hand-written Range/caching headers and streaming from the
// store need nothing a framework adds, and it keeps the dependency tree small.
// With a TLS certificate it is node:http2's secure server (HTTP/2, and HTTP/1.1 for
// clients that do not offer h2 in ALPN), the same routes on its compatibility API.
import { createServer } from 'node:http';
import { createSecureServer, Http2ServerResponse, type Http2SecureServer } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { invalidParameterError, isInteger } from '../errors.js';
import { DEFAULT_SWEEP_AFTER_MS } from '../model/heartbeat.js';
import { sweepSilentRuns } from '../publish/sweep-silent-runs.js';
import { isTransientRegistryError } from '../registry/registry-errors.js';
import type { RunRegistry } from '../registry/run-registry.js';
import { StoreUnavailableError, type ContentStore } from '../store/content-store.js';
import { createServerLogger, type ServerLogger } from './logger.js';
import { defaultMaxHeldRequests } from './held-requests.js';
import { ServerMetrics } from './metrics.js';
import { adminPolicies, admitAdmin, MIN_ADMIN_TOKEN_LENGTH, type AdminPolicy } from './admin-access.js';
import { PlaybackAccess } from './playback-access.js';
import { quoted, sendError, setCors } from './responses.js';
import { BadPathError, requestUrl, Router, type HttpRequest, type HttpResponse, type Route, type ServerContext } from './router.js';
import { channelRoutes } from './routes/channels.js';
import { dashRoutes } from './routes/dash.js';
import { gatewayRoutes } from './routes/gateway.js';
import { healthRoutes, metricsRoutes } from './routes/health.js';
import { keyRoutes } from './routes/keys.js';
import { pageRoutes } from './routes/pages.js';
import { lowLatencyRoutes } from './routes/low-latency.js';
import { playlistRoutes } from './routes/playlists.js';
import { runRoutes } from './routes/runs.js';
import { trackRoutes } from './routes/tracks.js';
import { closeServerContext, createServerContext } from './server-context.js';
import { resolveSecrets, type SecretInput } from '../crypto/server-secret.js';

export interface ServerOptions {
  registry: RunRegistry;
  store: ContentStore;
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Port (default 8787; 0 picks a free one). */
  port?: number;
  metrics?: ServerMetrics;
  /**
   * End live runs outside channels whose producer has sent no heartbeat for this long, as
   * failed on what they listed (default 10 minutes; false: never). Any number of servers may
   * sweep one registry: a run's lease lets one of them do it.
   */
  sweepSilentRunsAfterMs?: number | false;
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
   * The server secret of private runs (at least 32 characters; default:
   * ABRCAST_KEY_SECRET, and ABRCAST_KEY_SECRET_PREVIOUS while it is rotated).
   * It checks playback tokens and unwraps keys; without it a private run gets 503.
   */
  keySecret?: SecretInput;
  /** The admin routes (/runs, the home page's run list, /metrics) require `Authorization: Bearer <adminToken>`. */
  adminToken?: string;
  /**
   * Serve the admin routes on a listener of their own at this port (0: any free
   * one) and not beside the playlists, so they can be bound to a private address.
   */
  adminPort?: number;
  /** Address of the admin listener (default 127.0.0.1); only with adminPort. */
  adminHost?: string;
  /**
   * A certificate and its private key (PEM text): the server then speaks HTTPS, HTTP/2
   * to clients that offer it (Apple's HLS authoring spec asks LL-HLS to be served over
   * HTTP/2) and HTTP/1.1 to the rest. Without it, plain HTTP/1.1. The admin listener
   * (adminPort) stays plain HTTP/1.1 on its private address.
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
  /** Where the admin routes are served when they have their own listener (adminPort). */
  adminUrl?: string;
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

const routes: Route[] = [
  ...playlistRoutes, ...trackRoutes, ...lowLatencyRoutes, ...dashRoutes, ...channelRoutes, ...keyRoutes, ...gatewayRoutes, ...runRoutes,
  ...healthRoutes, ...metricsRoutes, ...pageRoutes,
];

/** One listener's routes, and how it answers the admin ones (undefined: it does not serve them). */
interface Listening {
  router: Router;
  admin: AdminPolicy | undefined;
}

/** The main listener serves every route (the admin ones only with a policy); the admin listener those only. */
function listening(admin: AdminPolicy | undefined, only: 'all' | 'admin'): Listening {
  const served = routes.filter((route) => (only === 'admin' ? route.admin : admin !== undefined || !route.admin));
  return { router: new Router(served), admin };
}

/** `label.route` is set as soon as the path is matched, so the metrics see it even if the handler fails. */
async function handle(on: Listening, context: ServerContext, req: HttpRequest, res: HttpResponse, label: { route: string }): Promise<void> {
  const { router } = on;
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
  if (match.route.admin && !admitAdmin(req, res, on.admin!)) return;
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

/** The path of a request target, without its query: a query may hold a playback token, which is never logged. */
export function loggedPath(target: string | undefined): string | undefined {
  if (target === undefined) return undefined;
  const query = target.search(/[?#]/);
  return (query === -1 ? target : target.slice(0, query)).slice(0, 512);
}

function answerFailure(res: HttpResponse, error: unknown, logger: ServerLogger, route: string, target: string | undefined): void {
  const path = loggedPath(target);
  const answer = publicFailure(error);
  logger.error({ err: error, route, path, status: res.headersSent ? undefined : answer.status }, 'request failed');
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendError(res, answer.status, answer.message);
}

/** Sweeps silent runs every quarter of `afterMs` (at most once a minute); returns the function that stops it. */
function startSweeper(context: ServerContext, afterMs: number): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    sweepSilentRuns({ registry: context.registry, store: context.store, silentForMs: afterMs })
      .then(({ ended, skipped }) => {
        for (const runId of ended) context.logger.warn({ runId }, 'ended a run whose producer went silent');
        for (const { runId, reason } of skipped) context.logger.debug({ runId, reason }, 'silent run not ended now');
      })
      .catch((error: unknown) => context.logger.debug({ err: error }, 'silent-run sweep failed'))
      .finally(() => (running = false));
  }, Math.min(60_000, Math.max(250, Math.floor(afterMs / 4))));
  timer.unref();
  return () => clearInterval(timer);
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
  const sweepAfterMs = options.sweepSilentRunsAfterMs ?? DEFAULT_SWEEP_AFTER_MS;
  if (sweepAfterMs !== false && (!isInteger(sweepAfterMs) || sweepAfterMs < 1000)) {
    throw invalidParameterError('sweepSilentRunsAfterMs', 'false or an integer of at least 1000 milliseconds', sweepAfterMs);
  }
  const { maxHeldRequests = defaultMaxHeldRequests(), adminToken, adminPort, adminHost = DEFAULT_HOST } = options;
  if (!isInteger(maxHeldRequests) || maxHeldRequests < 1) throw invalidParameterError('maxHeldRequests', 'positive integer', maxHeldRequests);
  if (adminToken !== undefined && (typeof adminToken !== 'string' || adminToken.length < MIN_ADMIN_TOKEN_LENGTH || /\s/.test(adminToken))) {
    // Never echo it: it is a password.
    throw new TypeError(`Expected a string of at least ${MIN_ADMIN_TOKEN_LENGTH} characters without whitespace for adminToken`);
  }
  if (adminPort !== undefined && (!isInteger(adminPort) || adminPort < 0 || adminPort > 65535)) {
    throw invalidParameterError('adminPort', 'integer between 0 and 65535', adminPort);
  }
  if (typeof adminHost !== 'string' || adminHost.length === 0) throw invalidParameterError('adminHost', 'non-empty string', adminHost);
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
  const access = new PlaybackAccess(resolveSecrets(options.keySecret, 'keySecret'));
  const policies = adminPolicies({ host, ...(adminToken !== undefined ? { adminToken } : {}), ...(adminPort !== undefined ? { adminPort } : {}) });
  if (policies.main?.kind === 'closed') {
    logger.warn({ host }, 'admin routes (/runs, /metrics) are closed on this non-loopback address: give the server an admin token or an admin port to read them');
  }
  const context = createServerContext({ registry, store, metrics, logger, maxHeldRequests, access });
  let admin: Listener | undefined;
  let main: Listener;
  try {
    if (adminPort !== undefined) admin = await listen(listening(policies.admin, 'admin'), context, adminHost, adminPort);
    main = await listen(listening(policies.main, 'all'), context, host, port, tls);
  } catch (error) {
    await admin?.close();
    closeServerContext(context);
    throw error;
  }
  const stopSweeping = sweepAfterMs === false ? () => {} : startSweeper(context, sweepAfterMs);
  let closing: Promise<void> | undefined;
  return {
    url: main.url,
    port: main.port,
    ...(admin ? { adminUrl: admin.url } : {}),
    metrics,
    close() {
      stopSweeping();
      closing ??= Promise.all([main.close(), admin?.close()]).then(() => closeServerContext(context));
      return closing;
    },
  };
}

interface Listener {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** One HTTP listener: the main one (over TLS with `tls`), or the admin one (adminPort). */
async function listen(on: Listening, context: ServerContext, host: string, port: number, tls?: ServerTls): Promise<Listener> {
  const { metrics, logger } = context;
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
    handle(on, context, req, res, label).catch((error: unknown) => answerFailure(res, error, logger, label.route, req.url));
  };
  const server = tls ? createTlsServer(tls, onRequest) : createServer(onRequest);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  logger.info({ host: address.address, port: address.port }, 'listening');
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `${tls ? 'https' : 'http'}://${urlHost}:${address.port}`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Players keep connections alive; without this close() would wait for them.
        if ('closeAllConnections' in server) server.closeAllConnections();
        else for (const socket of tlsSockets.get(server) ?? []) socket.destroy();
      }),
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
