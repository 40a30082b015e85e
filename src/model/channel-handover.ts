// The hand-over between a channel's runs, as producers and servers both see it.
// A server looks up which run a channel serves at most every
// CHANNEL_LOOKUP_TTL_MS, and holds a playlist request (a blocking reload, a
// first load) at most HOLD_TARGETS target durations on the run it resolved it
// to. The producer that continues the channel ends the previous run (whose final
// playlists carry EXT-X-ENDLIST) no sooner than handoverGraceMs() after its own
// first playlists are recorded, so by then no server serves, or holds a request
// on, the previous run: a player handed that ENDLIST through the channel URL
// would stop for good.
import { targetDurationFor } from '../hls/media-playlist.js';

/** How long a server keeps its answer to "which run does this channel serve?". */
export const CHANNEL_LOOKUP_TTL_MS = 500;

/** RFC 8216bis 6.2.5.2: a blocking request not satisfied within 3 target durations gets 503; no request is held longer. */
export const HOLD_TARGETS = 3;

/** How long after the hand-over the previous run may be ended: a lookup's age, a held request, and a lookup's age again for timers. */
export function handoverGraceMs(segmentDuration: number): number {
  return 2 * CHANNEL_LOOKUP_TTL_MS + HOLD_TARGETS * targetDurationFor(segmentDuration) * 1000;
}
