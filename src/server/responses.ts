// Small helpers every route answers with, so headers (CORS above all) are the same everywhere.
import type { HttpRequest, HttpResponse } from './router.js';
import { gzipSync } from 'node:zlib';
import fresh from 'fresh';
import { acceptsGzip } from './compression.js';

export const MPEGURL = 'application/vnd.apple.mpegurl';
export const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * Read-only CORS, set only on the routes a player on another site loads
 * (playlists and the gateway): any origin may GET them and read the headers a
 * Range answer needs. Status, metrics and pages stay same-origin.
 */
export function setCors(res: HttpResponse): void {
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD, OPTIONS');
  res.setHeader('Access-Control-Allow-Headers', 'Range, If-None-Match, Authorization');
  res.setHeader('Access-Control-Expose-Headers', 'Content-Length, Content-Range, Accept-Ranges, ETag');
  res.setHeader('Access-Control-Max-Age', '600');
  // Resource Timing for players on another site too (transfer sizes, nextHopProtocol: h2 or
  // http/1.1), as for same-origin ones: the media is public, its timing reveals nothing more.
  res.setHeader('Timing-Allow-Origin', '*');
}

/** Sends a whole body; Node drops the body itself for HEAD requests but keeps Content-Length. */
export function send(
  res: HttpResponse,
  status: number,
  body: string | Uint8Array,
  headers: Record<string, string> = {},
): void {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, { ...headers, 'Content-Length': String(bytes.byteLength) });
  res.end(bytes);
}

export function sendJson(res: HttpResponse, status: number, value: unknown, cacheControl = 'no-cache'): void {
  send(res, status, `${JSON.stringify(value, null, 2)}\n`, {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': cacheControl,
  });
}

/** The most of a client's input an error message quotes. */
const QUOTED_CHARS = 40;
/** No error message is longer than this, whatever it was built from. */
const MAX_ERROR_CHARS = 300;

/** A client's input as an error message quotes it: JSON, cut to QUOTED_CHARS characters. */
export function quoted(input: string): string {
  return JSON.stringify(input.length > QUOTED_CHARS ? `${input.slice(0, QUOTED_CHARS)}…` : input);
}

/** An error answer: JSON `{ error }`, never cached, never longer than MAX_ERROR_CHARS. */
export function sendError(res: HttpResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  const error = message.length > MAX_ERROR_CHARS ? `${message.slice(0, MAX_ERROR_CHARS)}…` : message;
  sendJson(res, status, { error }, 'no-store');
}

export function sendText(res: HttpResponse, status: number, text: string, contentType: string, cacheControl: string): void {
  send(res, status, text, { 'Content-Type': contentType, 'Cache-Control': cacheControl });
}

/**
 * If-None-Match against `etag` (RFC 9110 13.1.2): a list, `*`, and W/ tags, by
 * weak comparison, through `fresh` (what Express uses). Only If-None-Match is
 * passed on: fresh answers "stale" to any request with `Cache-Control: no-cache`,
 * which fetch() adds to every request it sends with If-None-Match, while RFC 9110
 * 13.2.1 has an origin server evaluate the precondition whatever that directive
 * (meant for caches) says.
 */
export function isNotModified(req: HttpRequest, etag: string): boolean {
  const noneMatch = req.headers['if-none-match'];
  return noneMatch !== undefined && fresh({ 'if-none-match': noneMatch }, { etag });
}

/**
 * A playlist body, gzipped when the client accepts it. `gzipped` is the
 * precomputed encoding (the cache keeps one per CID); without it the body is
 * compressed here, which suits a small master playlist. Each encoding has its
 * own ETag, as RFC 9110 8.8.3 asks of strong validators.
 */
export function sendPlaylist(
  req: HttpRequest,
  res: HttpResponse,
  body: string | Buffer,
  headers: Record<string, string>,
  options: { etag?: string; gzipped?: Buffer } = {},
): void {
  const gzip = acceptsGzip(req);
  const all: Record<string, string> = { ...headers, Vary: 'Accept-Encoding' };
  if (options.etag !== undefined) all.ETag = gzip ? `"${options.etag}.gz"` : `"${options.etag}"`;
  if (all.ETag !== undefined && isNotModified(req, all.ETag)) {
    res.writeHead(304, all);
    res.end();
    return;
  }
  if (!gzip) return send(res, 200, body, all);
  all['Content-Encoding'] = 'gzip';
  send(res, 200, options.gzipped ?? gzipSync(body), all);
}
