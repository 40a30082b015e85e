// How often a live run's producer says it is alive, and how long a silence
// makes it stalled: the producer, the registry's readers (server, resume, the
// stale-run sweeper) and the docs all use these numbers.
import { targetDurationFor } from '../hls/media-playlist.js';

/** Between two heartbeats: half a target duration, from 1 s to 5 s. */
export function heartbeatIntervalMs(segmentDuration: number): number {
  return Math.min(5, Math.max(1, targetDurationFor(segmentDuration) / 2)) * 1000;
}

/**
 * A live run silent this long is stalled: its producer is gone or cut off. Three
 * target durations (a player runs dry about then), and never under five missed
 * heartbeats, so one slow registry write does not flag a healthy run.
 */
export function stalledAfterMs(segmentDuration: number): number {
  return Math.max(3 * targetDurationFor(segmentDuration) * 1000, 5 * heartbeatIntervalMs(segmentDuration));
}

/** A run outside a channel silent this long is ended as failed by the sweeper (a server option changes it). */
export const DEFAULT_SWEEP_AFTER_MS = 10 * 60_000;

/**
 * A live run whose producer's newest heartbeat is older than the stall bound: its producer
 * crashed or is cut off. A run without heartbeats (an older producer, or made by hand) is never stalled.
 */
export function isStalled(run: { status: string; heartbeatAt: Date | null; segmentDuration: number }, now = Date.now()): boolean {
  return run.status === 'live' && run.heartbeatAt !== null && now - run.heartbeatAt.getTime() > stalledAfterMs(run.segmentDuration);
}
