// BANDWIDTH and AVERAGE-BANDWIDTH of a variant (RFC 8216 4.3.4.2), measured from
// the segments it lists; before the first segment, the rate the encoder is capped at.
import { invalidParameterError, isInteger, isPositiveFinite } from '../errors.js';

/** What a bit rate is computed from: one listed segment. */
export interface SegmentSize {
  bytes: number;
  /** Seconds. */
  duration: number;
}

/** Factor between the configured bitrate and the encoder's VBV maxrate. */
export const MAXRATE_FACTOR = 1.5;

// Bit rates are rounded up (BANDWIDTH is an upper bound); the epsilon keeps
// 4000.0000000001 from becoming 4001.
const bitsPerSecond = (bytes: number, seconds: number) => Math.ceil((bytes * 8) / seconds - 1e-6);

function checkSegments(segments: readonly SegmentSize[]): void {
  segments.forEach((segment, position) => {
    if (!isInteger(segment.bytes) || segment.bytes < 0) {
      throw invalidParameterError(`bytes of segment ${position}`, 'integer of at least 0', segment.bytes);
    }
    if (!isPositiveFinite(segment.duration)) {
      throw invalidParameterError(`duration of segment ${position}`, 'positive number of seconds', segment.duration);
    }
  });
}

/**
 * Peak segment bit rate in bits/s: the largest bit rate of any run of consecutive
 * segments lasting between 0.5 and 1.5 times the target duration (RFC 8216 4.3.4.2),
 * so one short tail segment cannot dominate. When no run qualifies (too little
 * listed yet), the largest single-segment rate. Undefined for no segments.
 */
export function peakBandwidth(segments: readonly SegmentSize[], targetDuration: number): number | undefined {
  if (!isPositiveFinite(targetDuration)) {
    throw invalidParameterError('targetDuration', 'positive number of seconds', targetDuration);
  }
  checkSegments(segments);
  if (segments.length === 0) return undefined;
  const shortest = 0.5 * targetDuration - 1e-9;
  const longest = 1.5 * targetDuration + 1e-9;
  let peak: number | undefined;
  for (let first = 0; first < segments.length; first += 1) {
    let bytes = 0;
    let seconds = 0;
    for (let last = first; last < segments.length; last += 1) {
      bytes += segments[last].bytes;
      seconds += segments[last].duration;
      if (seconds > longest) break;
      if (seconds >= shortest) peak = Math.max(peak ?? 0, bitsPerSecond(bytes, seconds));
    }
  }
  return peak ?? segments.reduce((most, segment) => Math.max(most, bitsPerSecond(segment.bytes, segment.duration)), 0);
}

/** Average segment bit rate in bits/s: all listed bytes over all listed seconds. Undefined for no segments. */
export function averageBandwidth(segments: readonly SegmentSize[]): number | undefined {
  checkSegments(segments);
  if (segments.length === 0) return undefined;
  let bytes = 0;
  let seconds = 0;
  for (const segment of segments) {
    bytes += segment.bytes;
    seconds += segment.duration;
  }
  return bitsPerSecond(bytes, seconds);
}

/** The configured maxrate in bits/s (1.5 x bitrate): BANDWIDTH before any segment is measured. */
export function maxrateBandwidth(bitrateKbps: number): number {
  if (!isPositiveFinite(bitrateKbps)) {
    throw invalidParameterError('bitrate', 'positive number of kbit/s', bitrateKbps);
  }
  return Math.round(MAXRATE_FACTOR * bitrateKbps * 1000);
}

/**
 * BANDWIDTH and AVERAGE-BANDWIDTH for a variant: measured once it lists a segment,
 * otherwise the configured maxrate and no average.
 */
export function variantBandwidth(
  segments: readonly SegmentSize[],
  targetDuration: number,
  bitrateKbps: number,
): { bandwidth: number; averageBandwidth?: number } {
  const peak = peakBandwidth(segments, targetDuration);
  if (peak === undefined) return { bandwidth: maxrateBandwidth(bitrateKbps) };
  return { bandwidth: Math.max(1, peak), averageBandwidth: Math.max(1, averageBandwidth(segments) ?? 1) };
}
