// Who may read the admin routes: the list of every run (/runs and the home page
// that shows it) and /metrics. They name private runs and the server's load, so
// a server reachable from the internet must not hand them to anyone. Three ways:
//   - an admin listener of their own (adminPort, on 127.0.0.1 unless adminHost
//     says otherwise): the admin routes are served there and nowhere else;
//   - an admin token: each admin request carries `Authorization: Bearer <token>`;
//   - neither: served only when the server listens on a loopback address (the
//     default 127.0.0.1, where only this machine reaches it); on any other
//     address (0.0.0.0, a public IP) the admin routes answer 403.
// A reverse proxy on the same machine reaches a loopback listener for everyone:
// behind one, set an admin token or an admin port, or do not forward these paths.
import { timingSafeEqual, createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { HttpRequest, HttpResponse } from './router.js';
import { sendError } from './responses.js';

/** How one listener answers the admin routes. */
export type AdminPolicy = { kind: 'open' } | { kind: 'token'; digest: Buffer } | { kind: 'closed' };

/** At least this many characters: a bearer token is a password. */
export const MIN_ADMIN_TOKEN_LENGTH = 16;

/** Whether `host` only accepts connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return bare === '::1';
}

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** The policy of the main listener and, when there is one, of the admin listener. */
export function adminPolicies(options: { host: string; adminToken?: string; adminPort?: number }): { main: AdminPolicy | undefined; admin?: AdminPolicy } {
  const token: AdminPolicy | undefined = options.adminToken === undefined ? undefined : { kind: 'token', digest: digest(options.adminToken) };
  if (options.adminPort !== undefined) return { main: undefined, admin: token ?? { kind: 'open' } };
  return { main: token ?? (isLoopbackHost(options.host) ? { kind: 'open' } : { kind: 'closed' }) };
}

/** Answers 401/403 itself and returns false when the request may not read an admin route. */
export function admitAdmin(req: HttpRequest, res: HttpResponse, policy: AdminPolicy): boolean {
  if (policy.kind === 'open') return true;
  if (policy.kind === 'closed') {
    sendError(res, 403, 'admin routes are not served on this address: give the server --admin-token or --admin-port');
    return false;
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  if (!match) {
    sendError(res, 401, 'admin routes need Authorization: Bearer <admin token>', { 'WWW-Authenticate': 'Bearer realm="abrcast admin"' });
    return false;
  }
  // Digests of equal length, compared in constant time: neither length nor content leaks through timing.
  if (!timingSafeEqual(digest(match[1]), policy.digest)) {
    sendError(res, 403, 'the admin token is wrong');
    return false;
  }
  return true;
}
