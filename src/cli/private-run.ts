// What `demo` and `encode` do for a private run (--encrypt): the publisher's
// encryption options, and a playback token for the URLs they print (the run's
// watch page and master playlist answer nothing without one).
import { signPlaybackToken } from '../crypto/playback-token.js';
import type { MultiResolutionHlsOutputOptions } from '../publish/multi-resolution-hls-output.js';
import type { StreamConfig } from './config.js';

/** Lifetime of the token in the URLs `demo` and `encode --serve` print. */
export const PRINTED_TOKEN_TTL = '24h';

/** The output options of --encrypt (the secret comes from ABRCAST_KEY_SECRET). */
export function encryptionOptions(config: StreamConfig): Pick<MultiResolutionHlsOutputOptions, 'encryption' | 'keyRotation' | 'keyUrl'> {
  if (!config.encryption) return {};
  const { keyRotation, keyUrl } = config.encryption;
  return { encryption: 'aes-128', ...(keyRotation !== undefined ? { keyRotation } : {}), ...(keyUrl !== undefined ? { keyUrl } : {}) };
}

/**
 * `?token=…` for a private run's URLs, PRINTED_TOKEN_TTL long; '' for a public run. On a channel it is the channel's
 * token: the channel URL plays on after a restart, into the next runs and their keys, which a token for this run would not open.
 */
export function playbackQuery(config: StreamConfig, runId: string): string {
  if (!config.encryption) return '';
  const scope = config.channel !== undefined ? { channel: config.channel } : { run: runId };
  return `?token=${signPlaybackToken({ scope, ttl: PRINTED_TOKEN_TTL })}`;
}
