// Exponential backoff with a cap and full jitter, shared by everything that
// retries a store or registry call: the upload queue, playlist adds and the
// side-work lane.
import { invalidParameterError } from '../errors.js';

export interface RetryOptions {
  /** Delay ceiling after the first failure (default 250 ms). */
  initialDelayMs?: number;
  /** Largest delay ceiling (default 10 s). */
  maxDelayMs?: number;
  /** Growth of the ceiling per failure (default 2). */
  factor?: number;
  /** 'full': a uniform delay in [0, ceiling), so retries of many jobs spread out; 'none': the ceiling. */
  jitter?: 'full' | 'none';
}

const DEFAULT_RETRY: Required<RetryOptions> = { initialDelayMs: 250, maxDelayMs: 10_000, factor: 2, jitter: 'full' };

/** Delay before retry number `attempt` (1 after the first failure): exponential, capped, jittered. */
export function retryDelayMs(attempt: number, retry: Required<RetryOptions>, random: () => number = Math.random): number {
  const ceiling = Math.min(retry.maxDelayMs, retry.initialDelayMs * retry.factor ** (attempt - 1));
  return retry.jitter === 'full' ? Math.floor(random() * ceiling) : ceiling;
}

export function checkRetry(retry: RetryOptions | undefined): Required<RetryOptions> {
  if (retry !== undefined && (typeof retry !== 'object' || retry === null)) {
    throw invalidParameterError('retry', 'object', retry);
  }
  const merged = { ...DEFAULT_RETRY, ...retry };
  for (const name of ['initialDelayMs', 'maxDelayMs'] as const) {
    const value = merged[name];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw invalidParameterError(`retry.${name}`, 'number of at least 0', value);
    }
  }
  if (typeof merged.factor !== 'number' || !Number.isFinite(merged.factor) || merged.factor < 1) {
    throw invalidParameterError('retry.factor', 'number of at least 1', merged.factor);
  }
  if (merged.jitter !== 'full' && merged.jitter !== 'none') {
    throw invalidParameterError('retry.jitter', 'one of full, none', merged.jitter);
  }
  return merged;
}
