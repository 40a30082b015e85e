// Which segments carry EXT-X-PROGRAM-DATE-TIME, and with what time. RFC 8216
// 4.3.2.6 ties a date to one segment and lets clients extrapolate over the
// following ones, so a date is needed on the first segment and again after any
// gap (a missing index or an EXT-X-DISCONTINUITY), where extrapolation breaks.
import { invalidParameterError, isInteger, isPositiveFinite } from '../errors.js';

export interface TimedSegment {
  /** Segment number from 0 (frame 0 starts segment 0). */
  index: number;
  /** Seconds. */
  duration: number;
  /** Preceded by EXT-X-DISCONTINUITY. */
  discontinuity?: boolean;
}

/**
 * The dates of `segments` (listed in index order) that need one, by position;
 * undefined for the others. A segment's time is `startedAt` plus the durations
 * before it; an index not listed counts `nominalDuration` seconds.
 */
export function programDateTimes(
  segments: readonly TimedSegment[],
  startedAt: Date,
  nominalDuration: number,
): (Date | undefined)[] {
  if (!(startedAt instanceof Date) || Number.isNaN(startedAt.getTime())) {
    throw invalidParameterError('startedAt', 'valid Date', startedAt);
  }
  if (!isPositiveFinite(nominalDuration)) {
    throw invalidParameterError('nominalDuration', 'positive number of seconds', nominalDuration);
  }
  const dates: (Date | undefined)[] = [];
  let seconds = 0;
  let expected = 0;
  let previous = -1;
  segments.forEach((segment, position) => {
    const { index } = segment;
    if (!isInteger(index) || index <= previous) {
      throw invalidParameterError(`index of segment ${position}`, `integer above ${previous}`, index);
    }
    seconds += (index - expected) * nominalDuration;
    const gap = position === 0 || index !== expected || segment.discontinuity === true;
    // Milliseconds: what ISO 8601 in the playlist keeps.
    dates.push(gap ? new Date(startedAt.getTime() + Math.round(seconds * 1000)) : undefined);
    seconds += segment.duration;
    expected = index + 1;
    previous = index;
  });
  return dates;
}
