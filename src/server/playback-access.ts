// Who may play a private run, checked in one place: every route that hands out
// a run's playlists, keys, parts, segments, status or watch page is wrapped in
// playbackRoute(), which lets a public run through untouched and asks a private
// (encrypted) run's request for a playback token: in the `token` query
// parameter, an `Authorization: Bearer` header, or the `abrcast_token` cookie
// the watch page sets. No token: 401. A token that is malformed, altered,
// expired, from another address or for another run or channel: 403. The
// token's text is never logged or echoed.
//
// A query token is carried into every URI the server writes for that request
// (withToken, the one place that adds it), so a player given one URL keeps its
// access through the master, media playlists, parts, segments, keys, rendition
// reports and preload hints. URIs of content-addressed bytes (/ipfs/…) get none:
// they are ciphertext, served to anyone, and cached by CID.
import type { HttpRequest, HttpResponse } from './router.js';
import { checkPlaybackToken, scopeAllows, type TokenRefusal } from '../crypto/playback-token.js';
import type { ServerSecrets } from '../crypto/server-secret.js';
import type { LowLatencyMediaPlaylist } from '../hls/low-latency-types.js';
import type { MediaPlaylist, MediaSegment, SegmentKey, VariantStream } from '../hls/types.js';
import type { RunRecord } from '../registry/run-records.js';
import { isValidRunId } from '../registry/validation.js';
import { sendError } from './responses.js';
import type { RouteHandler, RouteRequest } from './router.js';

export const TOKEN_PARAMETER = 'token';
export const TOKEN_COOKIE = 'abrcast_token';

/** What the access check learned about a request, for the handler. */
export interface PlaybackGrant {
  /** The run is private: the handler serves its keys, and its playlists carry `token`. */
  private: boolean;
  /** A query token to carry into the URIs written for this request. */
  token?: string;
}

/** What the server knows of a run to decide on access (from the run's live model). */
interface RunAccess {
  encrypted: boolean;
  channel: string | null;
}

const REFUSALS: Record<TokenRefusal, string> = {
  malformed: 'the playback token is not one',
  signature: 'the playback token is not signed by this service (altered, or another secret)',
  expired: 'the playback token has expired',
  scope: 'the playback token is for another run or channel',
  address: 'the playback token is for another client address',
};

/** The server's side of private runs: the secrets that check tokens and open keys. */
export class PlaybackAccess {
  readonly #secrets?: ServerSecrets;

  /** Without secrets, a private run is answered 503 (this server cannot check tokens or open keys). */
  constructor(secrets: ServerSecrets | undefined) {
    this.#secrets = secrets;
  }

  get secrets(): ServerSecrets | undefined {
    return this.#secrets;
  }

  /**
   * Checks a request for a private run; answers 401/403/503 itself and returns
   * undefined when it may not go on, else the grant (with the token to carry).
   */
  authorize(req: HttpRequest, res: HttpResponse, url: URL, runId: string, run: RunAccess): PlaybackGrant | undefined {
    if (!run.encrypted) return { private: false };
    if (!this.#secrets) {
      sendError(res, 503, 'this server cannot serve private runs (it has no ABRCAST_KEY_SECRET)');
      return undefined;
    }
    const query = url.searchParams.get(TOKEN_PARAMETER);
    const header = bearerToken(req);
    const candidates = query !== null ? [query] : header !== undefined ? [header] : cookieValues(req, TOKEN_COOKIE);
    if (candidates.length === 0) {
      sendError(res, 401, `run ${runId} is private: a playback token is needed (?${TOKEN_PARAMETER}=…, see \`abrcast token\`)`, {
        'WWW-Authenticate': 'Bearer realm="abrcast playback"',
      });
      return undefined;
    }
    const address = req.socket.remoteAddress;
    let refusal: TokenRefusal | undefined;
    for (const token of candidates) {
      const result = checkPlaybackToken(token, { secrets: this.#secrets.all, ...(address ? { address } : {}) });
      const reason = result.ok ? (scopeAllows(result.scope, { id: runId, channel: run.channel }) ? undefined : 'scope') : result.reason;
      if (reason === undefined) return { private: true, ...(query !== null ? { token: query } : {}) };
      refusal ??= reason;
    }
    sendError(res, 403, REFUSALS[refusal!]);
    return undefined;
  }
}

function bearerToken(req: HttpRequest): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return match?.[1];
}

/** Every value of cookie `name` (a browser sends one per matching path). */
export function cookieValues(req: HttpRequest, name: string): string[] {
  const header = req.headers.cookie;
  if (!header) return [];
  return header.split(';').flatMap((pair) => {
    const at = pair.indexOf('=');
    return at !== -1 && pair.slice(0, at).trim() === name ? [pair.slice(at + 1).trim()] : [];
  });
}

/**
 * Wraps a handler of a run's route (`:id`): a private run's request goes on only
 * with a valid token, and the handler finds the grant in `request.playback`. The
 * run is read where the handler reads it, so the check costs no statement of its
 * own: from the process's live model (`'live'`: playlists, parts, segments), or
 * from the registry (`'registry'`: status, watch page, keys), the record then
 * handed on in `request.run`.
 */
export function playbackRoute(handler: RouteHandler, source: 'live' | 'registry' = 'live'): RouteHandler {
  return async (request) => {
    const runId = request.params.id;
    // An id that is not one is the handler's to refuse (400), an unknown run its 404. A registry
    // that cannot answer fails the request (503): never served unchecked.
    let record: RunRecord | undefined;
    if (isValidRunId(runId)) {
      record = source === 'live' ? (await request.server.live.run(runId))?.record : await request.server.registry.getRun(runId);
      if (source === 'registry') request.run = record ?? null;
    }
    if (record) {
      // channel: set on registries with channels (schema 5); a run's channel never changes.
      const run = { encrypted: record.encryption !== null, channel: (record as { channel?: string | null }).channel ?? null };
      const grant = request.server.access.authorize(request.req, request.res, request.url, runId, run);
      if (!grant) return;
      request.playback = grant;
    }
    await handler(request);
  };
}

/** A cookie that keeps a query token for the rest of a watch page's requests (same path prefix, until it expires). */
export function tokenCookie(request: RouteRequest, token: string): string {
  const path = request.url.pathname.replace(/\/[^/]*$/, '') || '/';
  const expiry = Number(token.split('.')[1]);
  const maxAge = Math.max(0, Math.floor(expiry - Date.now() / 1000));
  const secure = (request.req.socket as { encrypted?: boolean }).encrypted ? '; Secure' : '';
  return `${TOKEN_COOKIE}=${token}; Path=${path}; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${secure}`;
}

const CONTENT_ADDRESSED = /^(?:[a-z][a-z0-9+.-]*:\/\/[^/]*)?\/ipfs(?:-ts)?\/|^ipfs:/i;

/** `uri` with the request's token added, unless there is none or the URI names content-addressed bytes. */
export function withToken(uri: string, token: string | undefined): string {
  if (token === undefined || CONTENT_ADDRESSED.test(uri)) return uri;
  const hash = uri.indexOf('#');
  const [path, fragment] = hash === -1 ? [uri, ''] : [uri.slice(0, hash), uri.slice(hash)];
  return `${path}${path.includes('?') ? '&' : '?'}${TOKEN_PARAMETER}=${token}${fragment}`;
}

const keyWithToken = (key: SegmentKey | undefined, token: string) => (key ? { key: { ...key, uri: withToken(key.uri, token) } } : {});
/** A segment's URI, key and (where its init segment changes: a channel's next run) init segment key, with the token. */
const segmentWithToken = <S extends MediaSegment>(segment: S, token: string): S => ({
  ...segment, uri: withToken(segment.uri, token), ...keyWithToken(segment.key, token),
  ...(segment.mapKey ? { mapKey: { ...segment.mapKey, uri: withToken(segment.mapKey.uri, token) } } : {}),
});

/** A media playlist (plain) whose key and segment URIs carry the token. */
export function mediaPlaylistWithToken(playlist: MediaPlaylist, token: string | undefined): MediaPlaylist {
  if (token === undefined) return playlist;
  return {
    ...playlist,
    ...(playlist.mapUri !== undefined ? { mapUri: withToken(playlist.mapUri, token) } : {}),
    ...(playlist.mapKey ? { mapKey: { ...playlist.mapKey, uri: withToken(playlist.mapKey.uri, token) } } : {}),
    segments: playlist.segments.map((segment) => segmentWithToken(segment, token)),
  };
}

/** An LL-HLS playlist whose every URI (segments, parts, map, keys, preload hint, rendition reports) carries the token. */
export function lowLatencyPlaylistWithToken(playlist: LowLatencyMediaPlaylist, token: string | undefined): LowLatencyMediaPlaylist {
  if (token === undefined) return playlist;
  const part = <P extends { uri: string }>(p: P): P => ({ ...p, uri: withToken(p.uri, token) });
  return {
    ...playlist,
    ...(playlist.map ? { map: { uri: withToken(playlist.map.uri, token), ...keyWithToken(playlist.map.key, token) } } : {}),
    segments: playlist.segments.map((segment) => ({ ...segmentWithToken(segment, token), ...(segment.parts ? { parts: segment.parts.map(part) } : {}) })),
    pendingParts: playlist.pendingParts.map(part),
    ...(playlist.pendingKey ? { pendingKey: { ...playlist.pendingKey, uri: withToken(playlist.pendingKey.uri, token) } } : {}),
    ...(playlist.pendingMap ? { pendingMap: { uri: withToken(playlist.pendingMap.uri, token), ...keyWithToken(playlist.pendingMap.key, token) } } : {}),
    ...(playlist.preloadHint ? { preloadHint: part(playlist.preloadHint) } : {}),
    renditionReports: playlist.renditionReports.map(part),
  };
}

/** Master variants whose URIs carry the token. */
export function variantsWithToken(variants: VariantStream[], token: string | undefined): VariantStream[] {
  return token === undefined ? variants : variants.map((variant) => ({ ...variant, uri: withToken(variant.uri, token) }));
}
