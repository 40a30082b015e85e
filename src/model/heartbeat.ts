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
