// Adds small objects (playlists) to the store, retrying with the same backoff
// as segment uploads until a deadline, so a brief store outage delays a
// publish instead of losing it.
import { retryDelayMs, type RetryOptions } from './backoff.js';

const PLAYLIST_RETRY: Required<RetryOptions> = { initialDelayMs: 250, maxDelayMs: 5_000, factor: 2, jitter: 'full' };

export async function addWithRetry(
  add: (bytes: Uint8Array) => Promise<string>,
  bytes: Uint8Array,
  options: { deadline: () => number; onRetry?: (attempt: number, error: unknown) => void },
): Promise<string> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await add(bytes);
    } catch (error) {
      const delay = retryDelayMs(attempt, PLAYLIST_RETRY);
      if (Date.now() + delay > options.deadline()) throw error;
      options.onRetry?.(attempt, error);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
