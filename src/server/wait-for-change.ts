// Holds a request until the registry's change feed says what it waits for may
// exist (a blocking playlist reload, a preload-hinted part, a first master),
// re-checking on each relevant change, on a slow timer as a safety net, and
// giving up at a deadline or when the client goes away.
import type { HttpResponse } from './router.js';
import type { PartChange } from '../registry/change-feed.js';
import type { RunRegistry } from '../registry/run-registry.js';

/** Re-check this often even without a change (a lost notification, a writer that sends none). */
const RECHECK_MS = 1000;

export interface WaitOptions {
  registry: RunRegistry;
  runId: string;
  /** Which changes are worth a re-check (default: all of the run). */
  relevant?: (change: PartChange) => boolean;
  /** True when the wait is over; called first, then after each relevant change. */
  ready: () => Promise<boolean>;
  timeoutMs: number;
  /** Stop early when this response's client disconnects (the request's own 'close' fires once its body is read). */
  res?: HttpResponse;
}

/** True once `ready` said so; false at the deadline or when the client left. */
export async function waitForChange(options: WaitOptions): Promise<boolean> {
  const { registry, runId, relevant = () => true, ready, timeoutMs, res } = options;
  let wake: (() => void) | undefined;
  let woken = false;
  const signal = () => {
    woken = true;
    wake?.();
  };
  // Subscribe before the first check, so a change between the two is not lost.
  const stop = registry.onChange(runId, (change) => {
    if (change.rendition === undefined || relevant(change)) signal();
  });
  const deadline = performance.now() + timeoutMs;
  let gone = false;
  const onClose = () => {
    gone = true;
    signal();
  };
  res?.once('close', onClose);
  try {
    for (;;) {
      woken = false;
      if (await ready()) return true;
      const left = deadline - performance.now();
      if (gone || left <= 0) return false;
      if (!woken) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(left, RECHECK_MS));
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
      if (gone) return false;
    }
  } finally {
    stop();
    res?.off('close', onClose);
  }
}
