// BANDWIDTH and AVERAGE-BANDWIDTH of a variant (RFC 8216 4.3.4.2), measured from
// the segments it lists; while live, never below the rate the encoder is capped at.
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

/**
 * peakBandwidth() and averageBandwidth() kept up to date one segment at a time, so a
 * long run's publish does not walk every segment again: add() looks back only over
 * the runs of segments that end at the new one (at most 1.5 target durations).
 */
export class BandwidthMeter {
  readonly #shortest: number;
  readonly #longest: number;
  /** The newest segments, as far back as a qualifying run can reach. */
  #recent: SegmentSize[] = [];
  #qualifiedPeak: number | undefined;
  #singlePeak: number | undefined;
  #bytes = 0;
  #seconds = 0;

  constructor(targetDuration: number) {
    if (!isPositiveFinite(targetDuration)) {
      throw invalidParameterError('targetDuration', 'positive number of seconds', targetDuration);
    }
    this.#shortest = 0.5 * targetDuration - 1e-9;
    this.#longest = 1.5 * targetDuration + 1e-9;
  }

  /** Counts the segment that follows every one added before. */
  add(segment: SegmentSize): void {
    checkSegments([segment]);
    this.#bytes += segment.bytes;
    this.#seconds += segment.duration;
    this.#singlePeak = Math.max(this.#singlePeak ?? 0, bitsPerSecond(segment.bytes, segment.duration));
    this.#recent.push(segment);
    let bytes = 0;
    let seconds = 0;
    let keep = 0;
    for (let first = this.#recent.length - 1; first >= 0; first -= 1) {
      bytes += this.#recent[first].bytes;
      seconds += this.#recent[first].duration;
      if (seconds > this.#longest) break;
      keep += 1;
      if (seconds >= this.#shortest) this.#qualifiedPeak = Math.max(this.#qualifiedPeak ?? 0, bitsPerSecond(bytes, seconds));
    }
    // Only runs that end later can still use these; older ones can never qualify again.
    if (keep < this.#recent.length) this.#recent = this.#recent.slice(this.#recent.length - keep);
  }

  /** peakBandwidth() of every segment added; undefined before the first. */
  get peak(): number | undefined {
    return this.#qualifiedPeak ?? this.#singlePeak;
  }

  /** averageBandwidth() of every segment added; undefined before the first. */
  get average(): number | undefined {
    return this.#seconds > 0 ? bitsPerSecond(this.#bytes, this.#seconds) : undefined;
  }
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

/** The configured maxrate in bits/s (1.5 x bitrate): the video part of bandwidthUpperBound(). */
export function maxrateBandwidth(bitrateKbps: number): number {
  if (!isPositiveFinite(bitrateKbps)) {
    throw invalidParameterError('bitrate', 'positive number of kbit/s', bitrateKbps);
  }
  return Math.round(MAXRATE_FACTOR * bitrateKbps * 1000);
}

// MPEG-TS carries the elementary streams in 188-byte packets with 4-byte
// headers; each video frame starts a PES (header of up to 19 bytes) and its
// last packet is padded (at most one packet per frame); FFmpeg's muxer repeats
// PAT and PMT (one packet each) about every 0.1 s.
const TS_PACKET_BYTES = 188;
const TS_PAYLOAD_BYTES = 184;
const PES_HEADER_BYTES = 19;
const PSI_PACKETS_PER_SECOND = 2 * 10;

export interface BandwidthBoundInput {
  /** Configured video bitrate, kbit/s (the encoder caps it at MAXRATE_FACTOR times this). */
  bitrateKbps: number;
  /** Video frames per second: each costs a PES header and a padded packet. */
  fps: number;
  /** AAC bitrate in kbit/s; 0 or absent without audio. */
  audioKbps?: number;
}

/**
 * What the variant can reach at most as the encoder is configured, in bits/s:
 * the video maxrate plus the audio, plus MPEG-TS muxing overhead (packet
 * headers, PES headers, padding of each frame's last packet, PAT/PMT). While
 * a run is live BANDWIDTH must hold for segments not yet encoded, which a
 * measured peak cannot promise.
 */
export function bandwidthUpperBound(input: BandwidthBoundInput): number {
  const { fps, audioKbps = 0 } = input;
  if (!isPositiveFinite(fps)) throw invalidParameterError('fps', 'positive number of frames per second', fps);
  if (typeof audioKbps !== 'number' || !Number.isFinite(audioKbps) || audioKbps < 0) {
    throw invalidParameterError('audioKbps', 'number of kbit/s of at least 0', audioKbps);
  }
  const payload = maxrateBandwidth(input.bitrateKbps) + audioKbps * 1000;
  const packetized = (payload * TS_PACKET_BYTES) / TS_PAYLOAD_BYTES;
  const perFrame = fps * (PES_HEADER_BYTES + TS_PACKET_BYTES) * 8;
  return Math.ceil(packetized + perFrame + PSI_PACKETS_PER_SECOND * TS_PACKET_BYTES * 8);
}

export interface VariantBandwidthOptions extends Omit<BandwidthBoundInput, 'bitrateKbps'> {
  /** More segments may follow: BANDWIDTH is then at least bandwidthUpperBound(). */
  live: boolean;
}

/**
 * BANDWIDTH and AVERAGE-BANDWIDTH for a variant, from its listed segments or from a
 * BandwidthMeter that counted them. While live: max(measured
 * peak, bandwidthUpperBound()), since later segments may exceed the peak so
 * far. Once the playlist has ENDLIST: the measured peak of what it lists (the
 * bound when it lists nothing). AVERAGE-BANDWIDTH is measured, absent without segments.
 */
export function variantBandwidth(
  segments: readonly SegmentSize[] | Pick<BandwidthMeter, 'peak' | 'average'>,
  targetDuration: number,
  bitrateKbps: number,
  options: VariantBandwidthOptions,
): { bandwidth: number; averageBandwidth?: number } {
  const measured = Array.isArray(segments)
    ? { peak: peakBandwidth(segments, targetDuration), average: averageBandwidth(segments) }
    : (segments as Pick<BandwidthMeter, 'peak' | 'average'>);
  const { peak } = measured;
  const bound = () => bandwidthUpperBound({ ...options, bitrateKbps });
  if (peak === undefined) return { bandwidth: bound() };
  const bandwidth = options.live ? Math.max(peak, bound()) : Math.max(1, peak);
  return { bandwidth, averageBandwidth: Math.max(1, measured.average ?? 1) };
}
