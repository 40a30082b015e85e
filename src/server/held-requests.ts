// The cap on requests a process holds open (blocking playlist reloads,
// preload-hinted parts, first masters). Each costs a socket and a waiter, not
// CPU, so the bound is the file descriptors the process may open: past the cap
// a request that would be held gets 503 with Retry-After instead, and the
// process keeps answering everything else.
import { readFileSync } from 'node:fs';
import type { ServerMetrics } from './metrics.js';

/** Without a readable limit (not Linux), the common default soft limit. */
const FALLBACK_FD_LIMIT = 1024;
/** Descriptors kept for everything else: the store, the database, non-held requests, logs. */
const RESERVED_FDS = 256;
/** Whatever the fd limit, a few held requests must be possible. */
const MIN_HELD = 32;

/** The soft limit on open files (Node raises it to the hard limit at start), from /proc/self/limits. */
export function openFileLimit(limits = '/proc/self/limits'): number {
  try {
    const line = readFileSync(limits, 'utf8').split('\n').find((text) => text.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    if (soft === 'unlimited') return Number.MAX_SAFE_INTEGER;
    const value = Number(soft);
    return Number.isSafeInteger(value) && value > 0 ? value : FALLBACK_FD_LIMIT;
  } catch {
    return FALLBACK_FD_LIMIT;
  }
}

/**
 * Default cap on held requests: half the descriptors left after a reserve,
 * so held sockets never starve the rest (1024 → 384, 20000 → 9872).
 */
export function defaultMaxHeldRequests(fdLimit = openFileLimit()): number {
  return Math.max(MIN_HELD, Math.floor((Math.min(fdLimit, 1 << 20) - RESERVED_FDS) / 2));
}

export class HeldRequests {
  readonly max: number;
  readonly #metrics: ServerMetrics;
  #count = 0;

  constructor(max: number, metrics: ServerMetrics) {
    this.max = max;
    this.#metrics = metrics;
  }

  get count(): number {
    return this.#count;
  }

  /** Counts one more held request; false (counted as rejected) when the cap is reached. */
  acquire(): boolean {
    if (this.#count >= this.max) {
      this.#metrics.countHeldRejected();
      return false;
    }
    this.#count += 1;
    this.#metrics.setHeldRequests(this.#count);
    return true;
  }

  release(): void {
    this.#count -= 1;
    this.#metrics.setHeldRequests(this.#count);
  }

  /** Runs `hold` as a held request: acquire before, release after, whatever happens. Undefined when over the cap. */
  async hold<T>(hold: () => Promise<T>): Promise<{ value: T } | undefined> {
    if (!this.acquire()) return undefined;
    try {
      return { value: await hold() };
    } finally {
      this.release();
    }
  }
}
