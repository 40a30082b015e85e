// Side work of a live run (registry writes, the user's onPlaylistUpdate) done
// one task at a time in the order given, off the publish chain: a slow or
// restarting database delays this lane, never the stream. A task whose error
// is transient is retried with backoff until it succeeds or the lane's
// deadline passes; any other error is reported and the lane moves on.
import type { RetryOptions } from './backoff.js';
import { retryUntilDeadline } from './retry-until-deadline.js';

const LANE_RETRY: Required<RetryOptions> = { initialDelayMs: 100, maxDelayMs: 5_000, factor: 2, jitter: 'full' };

export interface OrderedLaneOptions {
  /** Whether an error may go away on retry; default: never retry. */
  isTransient?: (error: unknown) => boolean;
  onRetry?: (what: string, attempt: number, error: unknown) => void;
  /** A task failed for good (a permanent error, or transient past the deadline). */
  onFailed: (what: string, error: unknown) => void;
}

export class OrderedLane {
  readonly #options: OrderedLaneOptions;
  #tail: Promise<void> = Promise.resolve();
  #deadline = Number.POSITIVE_INFINITY;
  #pending = 0;

  constructor(options: OrderedLaneOptions) {
    this.#options = options;
  }

  /** Tasks queued or running. */
  get pending(): number {
    return this.#pending;
  }

  /** From now on, retries give up at this time (ms since epoch); a lane with tasks left then drains quickly. */
  setDeadline(deadline: number): void {
    this.#deadline = deadline;
  }

  /** Runs `task` after every task pushed before it. Resolves true when it succeeded. Never rejects. */
  push(what: string, task: () => Promise<unknown> | unknown): Promise<boolean> {
    this.#pending += 1;
    const run = this.#tail.then(() => this.#attempt(what, task)).finally(() => {
      this.#pending -= 1;
    });
    this.#tail = run.then(() => undefined);
    return run;
  }

  /** Resolves when every task pushed so far has finished. */
  drain(): Promise<void> {
    return this.#tail;
  }

  async #attempt(what: string, task: () => Promise<unknown> | unknown): Promise<boolean> {
    try {
      await retryUntilDeadline(task, {
        backoff: LANE_RETRY,
        deadline: () => this.#deadline,
        isTransient: (error) => this.#options.isTransient?.(error) ?? false,
        onRetry: (attempt, error) => this.#options.onRetry?.(what, attempt, error),
      });
      return true;
    } catch (error) {
      this.#options.onFailed(what, error);
      return false;
    }
  }
}
