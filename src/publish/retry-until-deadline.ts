// The retry loop of one call (a playlist add, a registry write): backoff from
// backoff.ts, a deadline that may move while it runs (close() sets it), and
// the caller's say on which errors may pass. The upload queue schedules its
// own retries (a job waiting out its backoff holds no upload slot).
import { setTimeout as sleep } from 'node:timers/promises';
import { retryDelayMs, type RetryOptions } from './backoff.js';

export interface RetryUntilDeadlineOptions {
  backoff: Required<RetryOptions>;
  /** Milliseconds since the epoch; read after each failure, so the owner may move it. */
  deadline: () => number;
  /** Whether an error may go away on retry; default: every error may. */
  isTransient?: (error: unknown) => boolean;
  /** Called after each failure that will be retried, before the delay. */
  onRetry?: (attempt: number, error: unknown) => void;
}

/**
 * Calls `task` until it resolves. After a failure it waits the backoff delay
 * and tries again, unless the error is not transient or the wait would end
 * past the deadline: then it rejects with that error.
 */
export async function retryUntilDeadline<T>(task: () => Promise<T> | T, options: RetryUntilDeadlineOptions): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await task();
    } catch (error) {
      const delay = retryDelayMs(attempt, options.backoff);
      if (!(options.isTransient?.(error) ?? true) || Date.now() + delay > options.deadline()) throw error;
      options.onRetry?.(attempt, error);
      await sleep(delay);
    }
  }
}
