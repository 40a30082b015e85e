// A tiny path router: patterns such as /runs/:id/master.m3u8, matched segment by
// segment. The pattern doubles as the route's metrics label, so labels stay few
// no matter which ids clients ask for.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { ContentStore } from '../store/content-store.js';
import type { RunRegistry } from '../registry/run-registry.js';
import type { RunRecord } from '../registry/run-records.js';
import type { ServerMetrics } from './metrics.js';
import type { HeldRequests } from './held-requests.js';
import type { LiveRuns } from './live-runs.js';
import type { ServerLogger } from './logger.js';
import type { PartBytesCache } from './part-bytes-cache.js';
import type { PlaylistCache } from './playlist-cache.js';
import type { PlaybackAccess, PlaybackGrant } from './playback-access.js';

export interface ServerContext {
  registry: RunRegistry;
  store: ContentStore;
  metrics: ServerMetrics;
  playlists: PlaylistCache;
  logger: ServerLogger;
  /** The process's live models of the runs being watched: what playlist routes answer from. */
  live: LiveRuns;
  /** The cap on requests held open. */
  held: HeldRequests;
  /** Recent parts' bytes, read from the store once for every viewer. */
  partBytes: PartBytesCache;
  /** Which runs are private, and the secrets that check their tokens and open their keys. */
  access: PlaybackAccess;
}

/**
 * A request over HTTP/1.1 (node:http) or HTTP/2 (node:http2's compatibility API): the
 * routes use only what both have (headers, method, url; writeHead, setHeader, end,
 * 'close', destroyed, piping into it), so one handler serves both protocols.
 */
export type HttpRequest = IncomingMessage | Http2ServerRequest;
export type HttpResponse = ServerResponse | Http2ServerResponse;

export interface RouteRequest {
  req: HttpRequest;
  res: HttpResponse;
  /** Decoded path parameters, unchecked: handlers validate them. */
  params: Record<string, string>;
  url: URL;
  server: ServerContext;
  /**
   * Where the playlists' own URIs start, when not /runs/{id}: a channel's routes serve its
   * current run under /channels/{name}, and the master must point players there.
   */
  basePath?: string;
  /** Set by playbackRoute: whether the run is private, and the token its written URIs carry. */
  playback?: PlaybackGrant;
  /** Set by playbackRoute(…, 'registry'): the run it read (null: no such run). */
  run?: RunRecord | null;
}

export type RouteHandler = (request: RouteRequest) => Promise<void> | void;

export interface Route {
  pattern: string;
  handler: RouteHandler;
  /** Answers carry CORS headers: only what a player on another origin loads. */
  cors?: boolean;
  /** An admin route (every run, the server's metrics): served as admin-access.ts says. */
  admin?: boolean;
}

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
}

/** The base request targets are resolved against: only their path and query are used. */
const ORIGIN = 'http://server.invalid';

/**
 * The URL of a request target (RFC 9112 3.2): origin-form (`/path?query`) or
 * absolute-form (`http://host/path`, which a server must accept), reduced to
 * its path and query; undefined for anything else, which the caller answers
 * 400: `*`, a bad host, and a path starting `//` (no route has an empty first
 * segment, and URL parsers read `//x` as a host, as new URL() did here).
 */
export function requestUrl(target: string): URL | undefined {
  try {
    if (target.startsWith('//')) return undefined;
    if (target.startsWith('/')) return new URL(ORIGIN + target);
    const absolute = new URL(target);
    if (absolute.protocol !== 'http:' && absolute.protocol !== 'https:') return undefined;
    return new URL(ORIGIN + absolute.pathname + absolute.search);
  } catch {
    return undefined;
  }
}

/** Thrown for a path parameter that is not valid percent-encoding. */
export class BadPathError extends Error {}

export class Router {
  readonly #routes: { route: Route; parts: string[] }[];

  constructor(routes: Route[]) {
    this.#routes = routes.map((route) => ({ route, parts: route.pattern.split('/').slice(1) }));
  }

  match(pathname: string): RouteMatch | undefined {
    const parts = pathname.split('/').slice(1);
    for (const { route, parts: expected } of this.#routes) {
      if (expected.length !== parts.length) continue;
      const params: Record<string, string> = {};
      const matches = expected.every((part, i) => {
        if (part.startsWith(':')) {
          if (parts[i].length === 0) return false;
          params[part.slice(1)] = parts[i];
          return true;
        }
        return part === parts[i];
      });
      if (!matches) continue;
      for (const [name, raw] of Object.entries(params)) {
        try {
          params[name] = decodeURIComponent(raw);
        } catch {
          throw new BadPathError(`Path parameter ${name} is not valid percent-encoding`);
        }
      }
      return { route, params };
    }
    return undefined;
  }
}
