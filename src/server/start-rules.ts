// When a player may be given a playlist it has not asked to block for: the
// rules that depend on what players do, not on RFC 8216bis, kept here so
// they can be read (and changed for another player) in one place. Measured
// with hls.js 1.7; docs/low-latency.md has the traces behind them.
import { totalDuration } from '../hls/media-playlist.js';
import type { LiveEdge } from './live-edge.js';

/** Part durations are written rounded; their sum may fall this short of a whole number of parts. */
const START_TOLERANCE_S = 1e-3;

/**
 * How long a master request for a live run that has not published yet is held
 * (fast start: a player that asks at launch gets the master the moment the
 * first publish lands, instead of a 404 and a retry seconds later).
 */
export const MASTER_WAIT_MS = 5000;

/**
 * Whether an LL playlist requested without _HLS_msn (a player's first load, or
 * a plain reload) may be answered now, or is held until it may.
 *
 * It needs a whole segment: hls.js plays from whole segments only; on parts
 * alone it reports levelEmptyError and retries a second later. And the pending
 * segment must hold PART-HOLD-BACK of parts (at most all but one part of a
 * segment), so that hls.js's start position (edge − PART-HOLD-BACK) lies in
 * the pending segment, at or after its INDEPENDENT first part. Answered
 * earlier, hls.js starts inside the last complete segment and plays one
 * segment more behind for the whole session.
 */
export function startable(edge: LiveEdge): boolean {
  if (edge.ended) return true;
  const { pendingParts, serverControl, partTarget, targetDuration } = edge.playlist;
  const needed = Math.min(serverControl.partHoldBack, targetDuration - partTarget) - START_TOLERANCE_S;
  return edge.lastCompleteMsn >= edge.playlist.mediaSequence && totalDuration(pendingParts) >= needed;
}
