// The server secret of private streams: one string shared by the producers
// (which wrap each run's content keys with it before the registry sees them) and
// the servers (which unwrap keys and check playback tokens with it). It comes
// from the environment (ABRCAST_KEY_SECRET), never from a flag (flags show in
// `ps`), and is never logged. Each use gets its own subkey (HKDF-SHA256, RFC 5869),
// so a key-wrapping key is never an HMAC key. A previous secret may be kept
// beside the current one while it is rotated (ABRCAST_KEY_SECRET_PREVIOUS):
// it still unwraps keys and verifies tokens; only the current one makes new ones.
import { createHash, hkdfSync } from 'node:crypto';
import { invalidParameterError } from '../errors.js';

export const KEY_SECRET_ENV = 'ABRCAST_KEY_SECRET';
export const PREVIOUS_KEY_SECRET_ENV = 'ABRCAST_KEY_SECRET_PREVIOUS';

/** At least this many characters: `openssl rand -base64 32` gives 44. */
export const MIN_SECRET_LENGTH = 32;

const HKDF_SALT = 'abrcast private streams';

/** The subkeys of one server secret. Holds no copy of the secret itself. */
export interface DerivedSecret {
  /** Names the secret in wrapped keys (16 hex digits), so a rotation knows what is still under the old one. */
  readonly id: string;
  /** AES-256-GCM key that wraps run keys. */
  readonly wrapKey: Buffer;
  /** HMAC-SHA256 key of playback tokens. */
  readonly tokenKey: Buffer;
}

/** The secrets a process works with: `current` makes new wrapped keys and tokens; every one of `all` is accepted. */
export interface ServerSecrets {
  readonly current: DerivedSecret;
  /** current first, then the previous one when set. */
  readonly all: readonly DerivedSecret[];
}

function subkey(secret: string, info: string, length: number): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), HKDF_SALT, info, length));
}

function derive(secret: unknown, name: string): DerivedSecret {
  if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH || secret.trim() !== secret) {
    // Never echo the value: it is (a mistyped) secret.
    const received = typeof secret === 'string' ? `a string of ${secret.length} characters` : typeof secret;
    throw new TypeError(
      `Expected a string of at least ${MIN_SECRET_LENGTH} characters without surrounding whitespace (e.g. \`openssl rand -base64 32\`) for ${name} but received ${received}`,
    );
  }
  const id = createHash('sha256').update(subkey(secret, 'abrcast secret id v1', 32)).digest('hex').slice(0, 16);
  return { id, wrapKey: subkey(secret, 'abrcast run key wrapping v1', 32), tokenKey: subkey(secret, 'abrcast playback token v1', 32) };
}

/** A secret option as callers give it: the string, or the derived form (e.g. from serverSecrets()). */
export type SecretInput = string | ServerSecrets;

/** The secrets from strings (the previous one optional); throws TypeError naming the option, never the value. */
export function serverSecrets(current: string, previous?: string, names = { current: KEY_SECRET_ENV, previous: PREVIOUS_KEY_SECRET_ENV }): ServerSecrets {
  const derivedCurrent = derive(current, names.current);
  const all = [derivedCurrent];
  if (previous !== undefined) {
    const derivedPrevious = derive(previous, names.previous);
    if (derivedPrevious.id !== derivedCurrent.id) all.push(derivedPrevious);
  }
  return { current: derivedCurrent, all };
}

/** The secrets from ABRCAST_KEY_SECRET (and ABRCAST_KEY_SECRET_PREVIOUS); undefined when the first is unset or empty. */
export function secretsFromEnvironment(env: NodeJS.ProcessEnv = process.env): ServerSecrets | undefined {
  const current = env[KEY_SECRET_ENV];
  if (current === undefined || current === '') return undefined;
  const previous = env[PREVIOUS_KEY_SECRET_ENV];
  return serverSecrets(current, previous === '' ? undefined : previous);
}

/** A secret option resolved: a string is derived here; absent, the environment's; undefined when there is none. */
export function resolveSecrets(input: SecretInput | undefined, name: string): ServerSecrets | undefined {
  if (input === undefined) return secretsFromEnvironment();
  if (typeof input === 'string') return serverSecrets(input, undefined, { current: name, previous: name });
  if (typeof input === 'object' && input !== null && Array.isArray(input.all) && input.all.length > 0) return input;
  throw invalidParameterError(name, 'secret string or serverSecrets() result', typeof input === 'object' ? 'object' : input);
}
