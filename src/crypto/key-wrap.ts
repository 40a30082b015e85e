// A run's content keys at rest: AES-256-GCM under the server secret's wrapping
// subkey, with the run and the key's index as additional data, so a wrapped key
// only unwraps for the slot it was made for (a registry row copied to another
// run or index fails to open). The registry only ever sees this text:
//   v1.<secret id>.<12-byte nonce, base64url>.<ciphertext and 16-byte tag, base64url>
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AbrcastError } from '../errors.js';
import type { DerivedSecret, ServerSecrets } from './server-secret.js';

/** AES-128 (RFC 8216bis 4.4.4.4, METHOD=AES-128): 16-byte content keys. */
export const CONTENT_KEY_BYTES = 16;

const VERSION = 'v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const WRAPPED = /^v1\.([0-9a-f]{16})\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{43,44})$/;

/** Where a wrapped key belongs: it unwraps only there. */
export interface KeySlot {
  runId: string;
  index: number;
}

/** The key cannot be unwrapped: not made by abrcast, made for another slot, or under a secret this process lacks. */
export class KeyUnwrapError extends AbrcastError {
  constructor(slot: KeySlot, why: string) {
    super(`Key ${slot.index} of run ${slot.runId} cannot be unwrapped: ${why}`);
    this.name = 'KeyUnwrapError';
  }
}

const additionalData = (slot: KeySlot) => Buffer.from(`abrcast run key\n${slot.runId}\n${slot.index}`, 'utf8');

/** A fresh random content key. */
export function newContentKey(): Buffer {
  return randomBytes(CONTENT_KEY_BYTES);
}

/** Wraps `key` for `slot` under the current secret. */
export function wrapRunKey(key: Uint8Array, secrets: ServerSecrets, slot: KeySlot): string {
  if (key.byteLength !== CONTENT_KEY_BYTES) throw new RangeError(`A content key has ${CONTENT_KEY_BYTES} bytes, not ${key.byteLength}`);
  const { current } = secrets;
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', current.wrapKey, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(additionalData(slot));
  const sealed = Buffer.concat([cipher.update(key), cipher.final(), cipher.getAuthTag()]);
  return [VERSION, current.id, nonce.toString('base64url'), sealed.toString('base64url')].join('.');
}

/** The id of the secret a wrapped key is under (undefined when it is not a wrapped key). */
export function wrappingSecretId(wrapped: string): string | undefined {
  return WRAPPED.exec(wrapped)?.[1];
}

/** Unwraps a key made by wrapRunKey for `slot`, under whichever of `secrets` it names. */
export function unwrapRunKey(wrapped: string, secrets: ServerSecrets, slot: KeySlot): Buffer {
  const match = typeof wrapped === 'string' ? WRAPPED.exec(wrapped) : null;
  if (!match) throw new KeyUnwrapError(slot, 'the registry value is not a wrapped key');
  const [, id, nonceText, sealedText] = match;
  const secret: DerivedSecret | undefined = secrets.all.find((candidate) => candidate.id === id);
  if (!secret) {
    throw new KeyUnwrapError(slot, `it is wrapped under secret ${id}, which is not ABRCAST_KEY_SECRET (or ABRCAST_KEY_SECRET_PREVIOUS) here`);
  }
  const sealed = Buffer.from(sealedText, 'base64url');
  if (sealed.byteLength !== CONTENT_KEY_BYTES + TAG_BYTES) throw new KeyUnwrapError(slot, 'the wrapped key has the wrong length');
  const decipher = createDecipheriv('aes-256-gcm', secret.wrapKey, Buffer.from(nonceText, 'base64url'), { authTagLength: TAG_BYTES });
  decipher.setAAD(additionalData(slot));
  decipher.setAuthTag(sealed.subarray(CONTENT_KEY_BYTES));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(0, CONTENT_KEY_BYTES)), decipher.final()]);
  } catch {
    throw new KeyUnwrapError(slot, 'authentication failed (made for another run or index, or altered)');
  }
}
