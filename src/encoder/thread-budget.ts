// The process's one thread budget (native/src/thread-budget.h): every LadderEncoder's threads come
// out of it, so several ladders in one process share the CPUs it may use instead of each sizing
// itself for the whole machine. docs/native-lifetime.md explains the rules.
import { invalidParameterError, isInteger } from '../errors.js';
import { loadNativeAddon } from '../native/binding.js';
import { MAX_THREADS } from './options.js';
import type { ThreadBudget } from './types.js';

/**
 * Sets the threads all LadderEncoders of this process share (every Node worker included), or
 * `'auto'` (the default): the CPUs the process may use, counted afresh for each new encoder from its
 * CPU affinity and cgroup (or Windows job) CPU quota. Applies to encoders created after the call;
 * open ones keep the threads they started with.
 */
export function setThreadBudget(threads: number | 'auto'): void {
  if (threads !== 'auto' && (!isInteger(threads) || threads < 1 || threads > MAX_THREADS)) {
    throw invalidParameterError('threads', `integer between 1 and ${MAX_THREADS}, or 'auto'`, threads);
  }
  loadNativeAddon().setThreadBudget(threads === 'auto' ? 0 : threads);
}

/** The budget now, the CPUs it comes from and how many encoders share it. */
export function getThreadBudget(): ThreadBudget {
  return loadNativeAddon().threadBudget();
}
