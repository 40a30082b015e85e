// Signed playback tokens (HMAC-SHA256, RFC 2104): what a viewer of a private run
// presents to a server. A token names its scope (one run, or every run of a
// channel), its expiry, and optionally the viewer's IP address; it is stateless
// (any server with the secret checks it, nothing is stored) and cannot be
// altered without the secret. Text form, URL-safe without escaping:
//   1.<expiry, Unix seconds>.<r|c>.<run id or channel name>.<0, or 1 when bound to an IP>.<MAC, base64url>
// The IP is covered by the MAC but not written in the token (the server supplies
// the address it sees), so a token in a log or a Referer does not name its viewer.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { invalidParameterError, isPositiveFinite } from '../errors.js';
import { CHANNEL_NAME_PATTERN, RUN_ID_PATTERN } from '../registry/validation.js';
import { resolveSecrets, type DerivedSecret, type SecretInput } from './server-secret.js';

/** What a token lets its holder watch. */
export type PlaybackScope = { run: string } | { channel: string };

export interface PlaybackTokenOptions {
  scope: PlaybackScope;
  /** Lifetime: seconds, or a duration such as '90s', '30m', '1h', '7d'. */
  ttl: number | string;
  /** Bind the token to this client address (IPv4 or IPv6, as the server sees it). */
  ip?: string;
  /** When the lifetime starts (default: now). */
  now?: Date;
}

/** Why a token was refused: a server answers 403 for each (401 is for no token at all). */
export type TokenRefusal = 'malformed' | 'signature' | 'expired' | 'scope' | 'address';

export type TokenCheck = { ok: true; scope: PlaybackScope; expiresAt: Date } | { ok: false; reason: TokenRefusal };

/** Longest lifetime a token may have: one year. */
export const MAX_TOKEN_TTL_S = 366 * 24 * 3600;

const VERSION = '1';
const TOKEN = /^1\.(\d{1,12})\.([rc])\.([a-z0-9_-]{1,64})\.([01])\.([A-Za-z0-9_-]{43})$/;
const DURATION = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)?$/;
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** A lifetime in seconds from a number of seconds or a duration text ('45s', '30m', '1h', '7d'). */
export function parseTtl(ttl: unknown, name = 'ttl'): number {
  const expected = `number of seconds or duration such as '30m', '1h', '7d' (at most ${MAX_TOKEN_TTL_S} s)`;
  let seconds: number | undefined;
  if (typeof ttl === 'number') seconds = ttl;
  else if (typeof ttl === 'string') {
    const match = DURATION.exec(ttl.trim());
    if (match) seconds = Number(match[1]) * UNIT_SECONDS[match[2] ?? 's'];
  }
  if (seconds === undefined || !isPositiveFinite(seconds) || seconds > MAX_TOKEN_TTL_S) throw invalidParameterError(name, expected, ttl);
  return seconds;
}

/** An address as tokens compare it: IPv4-mapped IPv6 (::ffff:a.b.c.d) is the IPv4 address; IPv6 lowercased. */
export function normalizeAddress(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return mapped ? mapped[1] : address.toLowerCase();
}

function scopeParts(scope: unknown): ['r' | 'c', string] {
  const expected = "{ run: '<run id>' } or { channel: '<channel name>' }";
  if (typeof scope !== 'object' || scope === null) throw invalidParameterError('scope', expected, scope);
  const { run, channel } = scope as { run?: unknown; channel?: unknown };
  if (run !== undefined && channel === undefined) {
    if (typeof run !== 'string' || !RUN_ID_PATTERN.test(run)) throw invalidParameterError('scope.run', `run id matching ${RUN_ID_PATTERN}`, run);
    return ['r', run];
  }
  if (channel !== undefined && run === undefined) {
    if (typeof channel !== 'string' || !CHANNEL_NAME_PATTERN.test(channel)) {
      throw invalidParameterError('scope.channel', `channel name matching ${CHANNEL_NAME_PATTERN}`, channel);
    }
    return ['c', channel];
  }
  throw invalidParameterError('scope', expected, scope);
}

function mac(secret: DerivedSecret, expiry: number, kind: string, name: string, ip: string): Buffer {
  return createHmac('sha256', secret.tokenKey).update(`abrcast playback token ${VERSION}\n${expiry}\n${kind}\n${name}\n${ip}`).digest();
}

/**
 * A playback token for `scope`, valid for `ttl` (and, with `ip`, only from that
 * address). `secret` defaults to ABRCAST_KEY_SECRET; the servers must share it.
 */
export function signPlaybackToken(options: PlaybackTokenOptions, secret?: SecretInput): string {
  if (typeof options !== 'object' || options === null) throw invalidParameterError('options', 'object', options);
  const [kind, name] = scopeParts(options.scope);
  const ttl = parseTtl(options.ttl);
  const now = options.now ?? new Date();
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) throw invalidParameterError('now', 'valid Date', now);
  let ip = '';
  if (options.ip !== undefined) {
    if (typeof options.ip !== 'string' || isIP(options.ip) === 0) throw invalidParameterError('ip', 'IPv4 or IPv6 address', options.ip);
    ip = normalizeAddress(options.ip);
  }
  const secrets = resolveSecrets(secret, 'secret');
  if (!secrets) throw new TypeError('signPlaybackToken needs a secret: pass one, or set ABRCAST_KEY_SECRET (the servers must have the same)');
  const expiry = Math.ceil(now.getTime() / 1000 + ttl);
  const signature = mac(secrets.current, expiry, kind, name, ip).toString('base64url');
  return [VERSION, expiry, kind, name, ip ? '1' : '0', signature].join('.');
}

export interface TokenCheckOptions {
  /** The secrets a server accepts (current and previous). */
  secrets: readonly DerivedSecret[];
  /** The client's address as the server sees it (for IP-bound tokens). */
  address?: string;
  now?: Date;
}

/**
 * Checks a token's form, MAC (constant-time, under each accepted secret),
 * expiry and address. The scope is the caller's to compare (scopeAllows).
 */
export function checkPlaybackToken(token: string, options: TokenCheckOptions): TokenCheck {
  const match = typeof token === 'string' ? TOKEN.exec(token) : null;
  if (!match) return { ok: false, reason: 'malformed' };
  const [, expiryText, kind, name, bound, signatureText] = match;
  const expiry = Number(expiryText);
  const given = Buffer.from(signatureText, 'base64url');
  // An IP-bound token is checked against the address the request came from; a missing address fails it.
  const ip = bound === '1' ? (options.address ? normalizeAddress(options.address) : undefined) : '';
  if (ip === undefined) return { ok: false, reason: 'address' };
  const valid = options.secrets.some((secret) => {
    const expected = mac(secret, expiry, kind, name, ip);
    return expected.byteLength === given.byteLength && timingSafeEqual(expected, given);
  });
  // An IP-bound token from another address fails its MAC: say which, so the operator can tell a proxy from a forgery.
  if (!valid) return { ok: false, reason: bound === '1' ? 'address' : 'signature' };
  const now = (options.now ?? new Date()).getTime() / 1000;
  if (expiry <= now) return { ok: false, reason: 'expired' };
  return { ok: true, scope: kind === 'r' ? { run: name } : { channel: name }, expiresAt: new Date(expiry * 1000) };
}

/** Whether a token's scope covers a run (its own id, or the channel it belongs to). */
export function scopeAllows(scope: PlaybackScope, run: { id: string; channel?: string | null }): boolean {
  if ('run' in scope) return scope.run === run.id;
  return typeof run.channel === 'string' && scope.channel === run.channel;
}
